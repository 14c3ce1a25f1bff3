"""Tests of training and evaluation: labels, split, metrics, trainers, cards."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.ml.training import (
    ModelCard,
    classification_metrics,
    data_fingerprint,
    degradation_labels,
    detector_columns,
    evaluate_sensor_faults,
    false_alarm_rate,
    lead_times,
    make_classifier,
    parse_derive,
    run_experiment,
    split_time_machines,
    sustained_alerts,
    train_tabular,
)
from smartfactory_lib.ml.training import _folds as folds_of
from smartfactory_lib.simulation import Simulation, simulate

RATES = {"bearing_wear": 0.5, "overheating": 0.5, "electrical": 0.2}


@pytest.fixture(scope="module")
def factory() -> Simulation:
    """Twelve machines for two days, one reading a minute, frequent failures."""
    return simulate(12, 48, rate_hz=1 / 60, seed=5, failure_rates=RATES)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A small table whose label depends on the product of two columns."""
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "speed": rng.uniform(1, 10, n),
            "torque": rng.uniform(1, 10, n),
            "kind": rng.choice(["L", "M", "H"], n),
            "machine": rng.choice([f"m{i}" for i in range(10)], n),
            "when": pd.date_range("2026-01-01", periods=n, freq="min"),
        }
    )
    frame["failed"] = (frame["speed"] * frame["torque"] > 60).astype(int)
    return frame


def test_degradation_labels_leave_out_repairs(factory: Simulation) -> None:
    """Check that readings during a repair are dropped and never positive."""
    readings = factory.readings

    y, keep = degradation_labels(readings)

    down = (readings["anomaly"] == 1) & readings["time_to_failure_s"].isna()
    assert down.any()
    assert not keep[down.to_numpy()].any()
    assert y[down.to_numpy()].sum() == 0
    assert y.sum() == ((readings["anomaly"] == 1) & ~down).sum()


def test_split_keeps_time_and_machines_apart(factory: Simulation) -> None:
    """Check that test readings are later than training readings plus the gap."""
    readings = factory.readings

    split = split_time_machines(readings, gap="60min", seed=1)

    train_ts = readings.loc[split.train, "ts"]
    test_ts = readings.loc[split.test, "ts"]
    assert test_ts.min() - train_ts.max() >= pd.Timedelta("60min")
    train_machines = set(readings.loc[split.train, "machine_id"].astype(str))
    test_machines = set(readings.loc[split.test, "machine_id"].astype(str))
    assert not train_machines & test_machines
    assert test_machines == set(split.test_machines)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_fraction": 1.5}, "test_fraction must be between 0 and 1, got 1.5"),
        ({"machine_fraction": 1.0}, "machine_fraction must be in"),
    ],
)
def test_split_rejects_bad_fractions(
    factory: Simulation, kwargs: dict[str, float], match: str
) -> None:
    """Check that a fraction out of range is named with its value."""
    with pytest.raises(ValueError, match=match):
        split_time_machines(factory.readings, **kwargs)  # type: ignore[arg-type]


def test_classification_metrics_count_correctly() -> None:
    """Check precision, recall, F1 and the confusion matrix on a known case."""
    y = np.array([0, 0, 0, 1, 1, 1])
    score = np.array([0.1, 0.6, 0.2, 0.9, 0.4, 0.8])

    metrics = classification_metrics(y, score)

    assert metrics["confusion"] == [[2, 1], [1, 2]]
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)


def test_lead_times_measure_the_first_alert() -> None:
    """Check that the lead time runs from the first alert to the failure."""
    ts = pd.date_range("2026-01-05", periods=120, freq="min", tz="UTC")
    readings = pd.DataFrame({"machine_id": ["m1"] * 120, "ts": ts})
    alerts = np.zeros(120, dtype=bool)
    alerts[[10, 70, 80]] = True  # the alert at 10 comes before the onset
    failures = pd.DataFrame(
        {
            "machine_id": ["m1", "m2"],
            "failure_mode": ["bearing_wear", "overheating"],
            "onset": [ts[60], ts[0]],
            "failure": [ts[100], ts[50]],
        }
    )

    result = lead_times(readings, alerts, failures)

    assert len(result) == 1  # m2 is not among the readings
    assert result["lead_time_min"].iloc[0] == pytest.approx(30.0)
    assert result["warning_min"].iloc[0] == pytest.approx(40.0)


@pytest.fixture(scope="module")
def experiment(factory: Simulation):
    """A small classifier and detector trained on the factory."""
    return run_experiment(factory.readings, factory.failures, n_estimators=30)


def test_run_experiment_beats_chance(experiment) -> None:
    """Check that the classifier ranks degrading readings far above chance."""
    metrics = experiment.classifier_eval.metrics

    assert metrics["pr_auc"] > 3 * experiment.y_test.mean()
    assert experiment.comparison().shape[1] == 2
    assert set(experiment.detector_features) == set(
        detector_columns(experiment.features)
    )


def test_model_card_says_data_metrics_and_limits(experiment) -> None:
    """Check that a model card lists its data, metrics and limits."""
    card = experiment.card()

    text = card.to_markdown()

    for heading in ("## Data", "## Features", "## Metrics", "## Limits"):
        assert heading in text
    assert card.to_dict()["data"]["fingerprint"] == experiment.fingerprint
    assert "Electrical failures" in text
    json.dumps(card.to_dict(), allow_nan=False)  # strict JSON: NaN became null


def test_sensor_faults_are_evaluated_apart(experiment) -> None:
    """Check one row per sensor fault type, counted on healthy readings only."""
    table = evaluate_sensor_faults(experiment, fault_rate=0.3, seed=2)

    assert list(table.index) == [
        "none",
        "dropout",
        "spike",
        "stuck_at",
        "calibration_drift",
    ]
    assert (table["readings"] > 0).all()
    # A spike is the clearest symptom a detector of the unusual can see.
    assert (
        table.loc["spike", "detector_alert_rate"]
        > table.loc["none", "detector_alert_rate"]
    )


def test_data_fingerprint_changes_with_the_data(table: pd.DataFrame) -> None:
    """Check that one changed value changes the fingerprint."""
    changed = table.copy()
    changed.loc[0, "speed"] += 1.0

    assert data_fingerprint(table) == data_fingerprint(table.copy())
    assert data_fingerprint(table) != data_fingerprint(changed)


def test_train_tabular_uses_derived_features(table: pd.DataFrame) -> None:
    """Check that a derived product feature lifts F1 over the raw columns."""
    raw = train_tabular(table, "failed", features=["speed", "torque"], n_estimators=30)

    derived = train_tabular(
        table,
        "failed",
        features=["speed", "torque", "kind"],
        derive={"work": "speed * torque"},
        n_estimators=30,
    )

    assert derived.metrics["f1"] > raw.metrics["f1"]
    assert derived.features == ["speed", "torque", "kind", "work"]
    assert derived.categories == {"kind": ["H", "L", "M"]}
    assert derived.metrics["n_rows"] == len(table)


def test_train_tabular_default_features_skip_label_time_and_group(
    table: pd.DataFrame,
) -> None:
    """Check that default features are the numeric columns left over."""
    # Machines follow one another in time, as shifts of a line would.
    sequential = table.assign(machine=[f"m{i // 60}" for i in range(len(table))])

    result = train_tabular(
        sequential, "failed", timestamp="when", group="machine", n_estimators=10
    )

    assert result.features == ["speed", "torque"]
    assert result.metrics["cv"] == "time-ordered, groups kept apart"


def test_folds_keep_groups_whole(table: pd.DataFrame) -> None:
    """Check that no machine is in both the training and test rows of a fold."""
    y = table["failed"].to_numpy()
    groups = table["machine"].to_numpy()

    kind, folds = folds_of(table, y, None, "machine", 5, 0)

    assert kind == "stratified group k-fold"
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_time_folds_with_recurring_groups_keep_them_apart(
    table: pd.DataFrame,
) -> None:
    """Check machines that recur through time are apart and every fold trains."""
    y = table["failed"].to_numpy()
    groups = table["machine"].to_numpy()
    when = table["when"].to_numpy()

    kind, folds = folds_of(table, y, "when", "machine", 4, 0)
    result = train_tabular(
        table, "failed", timestamp="when", group="machine", n_estimators=10
    )

    assert kind == "time-ordered, groups kept apart"
    for train, test in folds:
        assert len(train) and len(test)
        assert not set(groups[train]) & set(groups[test])
        assert when[train].max() < when[test].min()
    assert result.metrics["f1"] > 0.5


def test_folds_in_time_order_never_train_on_the_future(table: pd.DataFrame) -> None:
    """Check that every test row of a time-ordered fold is later than training."""
    y = table["failed"].to_numpy()
    when = table["when"].to_numpy()

    _, folds = folds_of(table, y, "when", None, 4, 0)

    for train, test in folds:
        assert when[train].max() < when[test].min()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"label": "broken"}, "label column 'broken' not found"),
        ({"label": "speed"}, "must be binary 0/1"),
        ({"label": "failed", "features": ["speed", "nope"]}, "not found: nope"),
        ({"label": "failed", "derive": {"x": "speed *"}}, "cannot derive x"),
        ({"label": "failed", "derive": {"x": "missing_column + 1"}}, "cannot derive x"),
        ({"label": "failed", "group": "nope"}, "group column 'nope' not found"),
    ],
)
def test_train_tabular_names_the_problem(
    table: pd.DataFrame, kwargs: dict[str, object], match: str
) -> None:
    """Check that bad columns, labels and expressions get clear errors."""
    with pytest.raises(ValueError, match=match):
        train_tabular(table, n_estimators=5, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("power=a * b", ("power", "a * b")), (" x = `A b` - c ", ("x", "`A b` - c"))],
)
def test_parse_derive_splits_name_and_expression(
    spec: str, expected: tuple[str, str]
) -> None:
    """Check that NAME=EXPR is split and trimmed."""
    assert parse_derive(spec) == expected


@pytest.mark.parametrize("spec", ["power", "=a*b", "2x=a", "p="])
def test_parse_derive_rejects_bad_specs(spec: str) -> None:
    """Check that a spec without a name, an expression or '=' is refused."""
    with pytest.raises(ValueError, match="derive"):
        parse_derive(spec)


def test_make_classifier_rejects_unknown_names() -> None:
    """Check that an unknown model name lists the known ones."""
    with pytest.raises(ValueError, match="model must be one of forest"):
        make_classifier("svm")


def test_model_card_writes_markdown_and_json(tmp_path) -> None:
    """Check that a card writes both files with its name."""
    card = ModelCard("m", "Forest", {}, {"source": "x"}, ["a"], {"f1": 0.5}, ["none"])

    path = card.write(tmp_path)

    assert path.read_text().startswith("# Model card: m")
    assert (tmp_path / "model_card.json").exists()


def test_sustained_alerts_need_consecutive_flags_per_machine() -> None:
    """Check an alert needs `persistence` flags in a row of one machine's readings."""
    ts = pd.date_range("2026-01-05", periods=5, freq="min", tz="UTC")
    readings = pd.DataFrame({"machine_id": ["a"] * 5 + ["b"] * 5, "ts": [*ts, *ts]})
    flagged = np.array([1, 1, 0, 1, 1, 1, 1, 1, 0, 0], bool)
    order = np.random.default_rng(0).permutation(10)  # any row order

    sustained = sustained_alerts(readings.iloc[order], flagged[order], 3)

    expected = np.array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0], bool)
    assert (sustained == expected[order]).all()
    assert (sustained_alerts(readings, flagged, 1) == flagged).all()
    with pytest.raises(ValueError, match="persistence must be at least 1, got 0"):
        sustained_alerts(readings, flagged, 0)


def test_false_alarm_rate_counts_alerts_begun_on_healthy_readings() -> None:
    """Check false alarms are alert onsets on healthy readings per machine-day."""
    ts = pd.date_range("2026-01-05", periods=15, freq="2h", tz="UTC")
    readings = pd.DataFrame({"machine_id": "a", "ts": ts})
    alerts = np.array([0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1], bool)
    y_true = np.array([0] * 13 + [1, 1])  # a healthy day, then a true alert

    rate = false_alarm_rate(readings, alerts, y_true)

    assert rate == pytest.approx(2.0)


def test_every_model_of_an_experiment_has_a_card(experiment) -> None:
    """Check the detector and a variant get cards with their own metrics."""
    detector = experiment.detector_card()
    variant = experiment.variant_card(
        "variant", experiment.classifier, {"f1": 0.5}, notes=["A variant."]
    )

    assert detector.features == experiment.detector_features
    assert detector.metrics == experiment.detector_eval.summary()
    assert "contamination" in detector.parameters
    assert variant.metrics == {"f1": 0.5}
    assert variant.limits[0] == "A variant."
