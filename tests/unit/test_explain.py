"""Tests of the explanations: plain words, flagged rows only, the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from smartfactory_lib.ml.explain import AlertExplainer, describe_feature
from smartfactory_lib.ml.training import make_classifier


@pytest.fixture(scope="module")
def explainer() -> tuple[AlertExplainer, pd.DataFrame]:
    """A forest that alerts when vibration is high, and its explainer."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "vibration_mm_s__mean_10min": rng.normal(2.0, 0.2, 800),
            "temperature_c": rng.normal(40.0, 2.0, 800),
            "load_pct": rng.normal(70.0, 5.0, 800),
        }
    )
    y = (X["vibration_mm_s__mean_10min"] > 2.3).astype(int).to_numpy()
    model = make_classifier(n_estimators=20).fit(X.to_numpy(np.float32), y)
    return AlertExplainer(model, list(X.columns), X[y == 0]), X


@pytest.mark.parametrize(
    ("name", "text", "unit"),
    [
        ("vibration_mm_s__slope_60min", "trend over the last 60min", "mm/s per hour"),
        ("temperature_rise_c", "housing temperature above the hall air", "°C"),
        ("Torque [Nm]", "Torque [Nm]", ""),
    ],
)
def test_describe_feature_in_words(name: str, text: str, unit: str) -> None:
    """Check that feature names become words and units."""
    description, found_unit = describe_feature(name)

    assert text in description
    assert found_unit == unit


def test_explain_gives_reasons_for_flagged_rows_only(
    explainer: tuple[AlertExplainer, pd.DataFrame],
) -> None:
    """Check that only alerts are explained, vibration first, in words."""
    alert_explainer, X = explainer
    rows = pd.DataFrame(
        {
            "vibration_mm_s__mean_10min": [3.0, 2.0],
            "temperature_c": [40.0, 40.0],
            "load_pct": [70.0, 70.0],
        },
        index=[101, 102],
    )

    alerts = alert_explainer.explain(rows)

    assert list(alerts["row"]) == [101]
    assert alerts["features"].iloc[0][0] == "vibration_mm_s__mean_10min"
    reason = alerts["reason_1"].iloc[0]
    assert reason.startswith("Vibration velocity (RMS), average over the last 10min")
    assert "above normal" in reason


def test_explain_returns_no_rows_without_alerts(
    explainer: tuple[AlertExplainer, pd.DataFrame],
) -> None:
    """Check that nothing is explained when nothing is flagged."""
    alert_explainer, X = explainer

    alerts = alert_explainer.explain(X[X["vibration_mm_s__mean_10min"] < 2.0])

    assert alerts.empty
    assert "reason_1" in alerts.columns


def test_shap_values_add_up_to_the_probability(
    explainer: tuple[AlertExplainer, pd.DataFrame],
) -> None:
    """Check that contributions plus the base value give the model's output."""
    alert_explainer, X = explainer
    rows = X.iloc[:20]

    values = alert_explainer.shap_values(rows)

    base = np.asarray(alert_explainer._explainer.expected_value).reshape(-1)[-1]
    expected = alert_explainer.model.predict_proba(rows.to_numpy(np.float32))[:, 1]
    np.testing.assert_allclose(values.sum(axis=1) + base, expected, atol=1e-5)


def test_summary_figure_ranks_features(
    explainer: tuple[AlertExplainer, pd.DataFrame],
) -> None:
    """Check that the summary figure puts the strongest feature on top."""
    alert_explainer, X = explainer

    fig = alert_explainer.summary_figure(alert_explainer.shap_values(X.iloc[:200]))

    assert isinstance(fig, go.Figure)
    assert fig.data[0].y[-1] == "vibration_mm_s__mean_10min"


def test_explainer_checks_the_normal_rows(
    explainer: tuple[AlertExplainer, pd.DataFrame],
) -> None:
    """Check that normal rows of the wrong width are refused."""
    alert_explainer, X = explainer

    with pytest.raises(ValueError, match="must have 3 feature columns"):
        AlertExplainer(alert_explainer.model, list(X.columns), X.iloc[:, :2])
