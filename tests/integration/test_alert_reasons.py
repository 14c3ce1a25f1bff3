"""Tests of the alerts table's SHAP reasons, with a small trained classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smartfactory_lib.ml.explain import AlertExplainer
from smartfactory_lib.ml.training import run_experiment
from smartfactory_lib.operations.panels import explain_alerts
from smartfactory_lib.simulation import FactoryConfig, FactorySimulator


def test_explain_alerts_gives_reasons_for_known_readings(seed: int) -> None:
    """Check reasons for an alert's reading, and NaN for a reading not stored."""
    config = FactoryConfig(
        n_machines=6,
        rate_hz=0.2,
        seed=11,
        failure_rates={"bearing_wear": 1.0, "overheating": 1.0, "electrical": 0.5},
    )
    history = FactorySimulator(config, 12.0).run()
    experiment = run_experiment(
        history.readings, history.failures, n_estimators=10, seed=seed
    )
    normal = experiment.X_train[experiment.y_train == 0]
    explainer = AlertExplainer(experiment.classifier, experiment.features, normal)
    readings = history.readings
    hot = readings.loc[readings["temperature_c"].idxmax()]
    alerts = pd.DataFrame(
        {
            "machine_id": [hot["machine_id"], "m9999"],
            "ts": [pd.Timestamp(hot["ts"]).isoformat(), "2026-01-05T00:00:00+00:00"],
            "score": [2.0, 1.5],
            "scorer": "threshold",
        }
    )

    explained = explain_alerts(alerts, readings, explainer, experiment.windows)

    assert 0.0 <= explained.loc[0, "failure_probability"] <= 1.0
    first = explained.loc[0, "reasons"].split("\n")
    assert 1 <= len(first) <= 3
    assert any("temperature" in line.lower() for line in first)
    assert np.isnan(explained.loc[1, "failure_probability"])
    assert explained.loc[1, "reasons"] == ""
