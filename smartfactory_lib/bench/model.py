"""Benchmark the failure model: scoring, explaining and training.

The workload is chapter 6's model: a 100-tree random forest of depth 8 on
windowed features of a simulated factory. Scoring is measured with
scikit-learn (the baseline) and with the ONNX export in onnxruntime (one
thread), for one row at a time, as the Lambda handler scores a reading, and
for a batch of 10,000 rows. Explanations are SHAP TreeExplainer reasons for
flagged readings only. Training time is the wall-clock fit of the forest.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from ..ml.explain import AlertExplainer
from ..ml.onnx_export import export_onnx
from ..ml.training import make_classifier, run_experiment
from ..simulation import simulate
from . import Measurement, median_seconds

__all__ = ["run"]

_SINGLE_ROW_SPEEDUP = 100.0
_EXPLAINED_PER_S = 500.0
_RATES = {"bearing_wear": 0.4, "overheating": 0.4, "electrical": 0.1}


def _rows_per_second(score: object, rows: np.ndarray, calls: int) -> float:
    def loop() -> None:
        for k in range(calls):
            score(rows[k % len(rows) : k % len(rows) + 1])  # type: ignore[operator]

    return calls / median_seconds(loop)


def run(quick: bool = False) -> list[Measurement]:
    """Measure single-row and batch scoring, explanations and training."""
    machines, hours = (12, 24.0) if quick else (24, 48.0)
    simulation = simulate(machines, hours, rate_hz=1 / 60, failure_rates=_RATES)
    experiment = run_experiment(simulation.readings, simulation.failures)
    X_train = experiment.X_train.to_numpy(np.float32)
    X_test = experiment.X_test.to_numpy(np.float32)
    forest = experiment.classifier
    exported = export_onnx(forest, X_test)
    scorer = exported.scorer(threads=1)
    workload = f"forest 100 trees depth 8, {X_test.shape[1]} features"
    measurements = []

    # One reading at a time, as the Lambda handler scores. The baseline runs on
    # one job: a thread pool started for every single row would flatter ONNX.
    serial = copy.copy(forest)
    serial.set_params(n_jobs=1)
    sk_single = _rows_per_second(serial.predict_proba, X_test, 20 if quick else 100)
    ort_single = _rows_per_second(scorer.score, X_test, 500 if quick else 3000)
    measurements.append(
        Measurement(
            "model",
            f"single-row scoring, onnxruntime (1 thread), {workload}",
            ort_single,
            "rows/s",
            "scikit-learn predict_proba (1 job), same rows",
            sk_single,
            f">= {_SINGLE_ROW_SPEEDUP:g}x scikit-learn",
            ort_single / sk_single >= _SINGLE_ROW_SPEEDUP,
        )
    )

    # A batch of 10,000 rows.
    batch = np.resize(X_test, (10_000, X_test.shape[1]))
    sk_batch = len(batch) / median_seconds(lambda: forest.predict_proba(batch))
    ort_batch = len(batch) / median_seconds(lambda: scorer.score(batch))
    measurements.append(
        Measurement(
            "model",
            "batch scoring of 10,000 rows, onnxruntime (1 thread)",
            ort_batch,
            "rows/s",
            "scikit-learn predict_proba (2 jobs), same rows",
            sk_batch,
        )
    )

    # SHAP reasons for flagged readings only.
    normal = experiment.X_train[experiment.y_train == 0]
    explainer = AlertExplainer(forest, experiment.features, normal)
    flagged = X_test[forest.predict_proba(X_test)[:, 1] >= 0.5][:1000]
    if len(flagged) == 0:  # a model that flags nothing: explain degrading rows
        flagged = X_test[experiment.y_test == 1][:1000]
    explained = len(flagged) / median_seconds(
        lambda: explainer.explain(flagged, threshold=0.0), repeat=1 if quick else 3
    )
    baseline_name, baseline_value = None, None
    if not quick:
        deep = make_classifier("forest", max_depth=None, max_samples=0.3)
        deep.fit(X_train, experiment.y_train)
        deep_explainer = AlertExplainer(deep, experiment.features, normal)
        sample = flagged[:300]
        baseline_value = len(sample) / median_seconds(
            lambda: deep_explainer.explain(sample, threshold=0.0), repeat=1
        )
        baseline_name = "the same forest at full depth"
    measurements.append(
        Measurement(
            "model",
            f"SHAP reasons for {len(flagged)} flagged readings, {workload}",
            explained,
            "alerts/s",
            baseline_name,
            baseline_value,
            f">= {_EXPLAINED_PER_S:g} alerts/s",
            explained >= _EXPLAINED_PER_S,
        )
    )

    # Training: one fit of the forest.
    model = make_classifier("forest", max_samples=0.3)
    started = time.perf_counter()
    model.fit(X_train, experiment.y_train)
    seconds = time.perf_counter() - started
    measurements.append(
        Measurement(
            "model",
            f"training on {len(X_train):,} readings, {workload}",
            seconds,
            "s",
        )
    )
    return measurements
