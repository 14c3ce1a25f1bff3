"""Tests of the model benchmark's report (figures only, never timed asserts)."""

from __future__ import annotations

import pytest

from smartfactory_lib.bench import model


@pytest.mark.slow
def test_model_benchmark_reports_every_figure() -> None:
    """Check the four measurements, their units, baselines and targets."""
    measurements = model.run(quick=True)

    assert [m.unit for m in measurements] == ["rows/s", "rows/s", "alerts/s", "s"]
    assert all(m.value > 0 for m in measurements)
    single, batch, shap_rate, _ = measurements
    assert single.baseline_value and batch.baseline_value
    assert single.target == ">= 100x scikit-learn"
    assert single.ratio is not None
    assert single.target_met == (single.ratio >= 100)
    assert shap_rate.target_met == (shap_rate.value >= 500)
