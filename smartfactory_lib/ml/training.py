"""Training and honest evaluation: a failure classifier and an anomaly detector.

Two models learn from the simulated factory. A tree ensemble (a random
forest) learns from labelled history which windowed readings precede a
failure. An :class:`~sklearn.ensemble.IsolationForest` learns only what
normal operation looks like and flags whatever does not fit; it needs no
labels, so it also reacts to things nobody labelled, such as a broken sensor.

Evaluation is where models usually cheat. Readings a minute apart are
almost the same reading, so a random split puts near-copies of the test set
in the training set. :func:`split_time_machines` keeps the test set strictly
later than the training set (with a gap as long as the longest feature
window) and, by default, on machines the model has never seen.
:func:`evaluate` then reports precision, recall, F1, PR-AUC, the confusion
matrix, recall per failure mode and the detection lead time of every
failure; :func:`evaluate_sensor_faults` measures, apart from that, how
often a healthy machine with a faulty sensor raises an alert.

:func:`train_tabular` is the same discipline for any table of sensor data
(CSV or Parquet): cross-validation that is stratified, grouped or
time-ordered as the data asks, with physics features derived from
expressions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from ..core.schema import FAILURE_MODES
from ._json import json_ready
from .features import DEFAULT_WINDOWS, feature_names, window_features

__all__ = [
    "MODELS",
    "Evaluation",
    "FactoryExperiment",
    "ModelCard",
    "Split",
    "TabularResult",
    "classification_metrics",
    "data_fingerprint",
    "degradation_labels",
    "detector_columns",
    "detector_scores",
    "evaluate",
    "evaluate_sensor_faults",
    "false_alarm_rate",
    "lead_times",
    "load_table",
    "make_classifier",
    "parse_derive",
    "run_experiment",
    "split_time_machines",
    "sustained_alerts",
    "train_detector",
    "train_tabular",
]

logger = logging.getLogger(__name__)

MODELS: Final = ("forest", "extra_trees", "boosting")
"""Classifier names accepted by :func:`make_classifier` and the CLI."""


# --------------------------------------------------------------------------
# Labels, split and models
# --------------------------------------------------------------------------


def degradation_labels(readings: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the target and the rows to learn from.

    The target is 1 while a machine degrades towards a failure (from the
    onset of degradation to the failure itself), 0 in normal operation.
    Readings taken while a machine is down for repair are left out: the
    machine has visibly stopped and the maintenance log knows why, so they
    teach nothing about warning early.

    Parameters
    ----------
    readings : pandas.DataFrame
        Simulated readings with the labels ``anomaly`` and
        ``time_to_failure_s``.

    Returns
    -------
    y : numpy.ndarray of int
        1 for degrading readings, else 0.
    keep : numpy.ndarray of bool
        False for readings during a repair.
    """
    missing = [c for c in ("anomaly", "time_to_failure_s") if c not in readings]
    if missing:
        raise ValueError(
            f"readings need the simulator's labels; missing {', '.join(missing)}"
        )
    anomaly = readings["anomaly"].to_numpy() == 1
    before_failure = np.isfinite(readings["time_to_failure_s"].to_numpy(dtype=float))
    y = (anomaly & before_failure).astype(np.int8)
    keep = ~(anomaly & ~before_failure)
    return y, keep


@dataclass(frozen=True)
class Split:
    """Boolean row masks of a split and what they mean.

    Attributes
    ----------
    train, test : numpy.ndarray of bool
        Rows of the training and the test set.
    cut : pandas.Timestamp
        First timestamp of the test period.
    gap : str
        Readings in ``[cut - gap, cut)`` belong to neither set.
    test_machines : tuple of str
        Machines held out from training (empty when split by time only).
    """

    train: np.ndarray
    test: np.ndarray
    cut: pd.Timestamp
    gap: str
    test_machines: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        """Return the split in numbers, for tables and model cards."""
        return {
            "train_rows": int(self.train.sum()),
            "test_rows": int(self.test.sum()),
            "cut": str(self.cut),
            "gap": self.gap,
            "test_machines": list(self.test_machines),
        }


def split_time_machines(
    readings: pd.DataFrame,
    *,
    test_fraction: float = 0.4,
    machine_fraction: float = 0.5,
    gap: str = "60min",
    seed: int = 0,
) -> Split:
    """Split readings by time and by machine, so nothing leaks into the test.

    The training set holds readings before ``cut - gap`` of machines not
    held out; the test set holds readings from ``cut`` on of the held-out
    machines. With ``machine_fraction=0`` every machine appears in both
    sets, and only time separates them.

    Parameters
    ----------
    readings : pandas.DataFrame
        Readings with ``machine_id`` and ``ts``.
    test_fraction : float, default 0.4
        Share of the time span that forms the test period, in (0, 1).
    machine_fraction : float, default 0.5
        Share of machines held out for the test, in [0, 1).
    gap : str, default "60min"
        Embargo between training and test; at least the longest feature
        window, so no test feature is computed from training readings.
    seed : int, default 0
        Seed of the choice of held-out machines.

    Returns
    -------
    Split

    Raises
    ------
    ValueError
        If a fraction lies outside its range or a set would be empty.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    if not 0.0 <= machine_fraction < 1.0:
        raise ValueError(f"machine_fraction must be in [0, 1), got {machine_fraction}")
    ts = pd.to_datetime(readings["ts"], utc=True)
    start, end = ts.min(), ts.max()
    cut = start + (end - start) * (1.0 - test_fraction)
    machines = np.array(sorted(readings["machine_id"].astype(str).unique()))
    rng = np.random.default_rng(seed)
    n_test = int(round(len(machines) * machine_fraction))
    held = tuple(sorted(rng.choice(machines, n_test, replace=False))) if n_test else ()
    in_test_machines = (
        readings["machine_id"].astype(str).isin(held).to_numpy()
        if held
        else np.ones(len(readings), dtype=bool)
    )
    in_train_machines = ~in_test_machines if held else in_test_machines
    train = in_train_machines & (ts < cut - pd.Timedelta(gap)).to_numpy()
    test = in_test_machines & (ts >= cut).to_numpy()
    if not train.any() or not test.any():
        raise ValueError(
            f"split left {int(train.sum())} training and {int(test.sum())} test "
            "readings; simulate more hours or machines"
        )
    return Split(train, test, cut, gap, held)


def make_classifier(
    model: str = "forest",
    *,
    n_estimators: int = 100,
    max_depth: int | None = 8,
    max_samples: float | None = None,
    seed: int = 0,
    n_jobs: int = 2,
) -> ClassifierMixin:
    """Return an untrained tree-ensemble classifier.

    Parameters
    ----------
    model : {"forest", "extra_trees", "boosting"}, default "forest"
        Random forest, extremely randomized trees, or histogram gradient
        boosting.
    n_estimators : int, default 100
        Trees (boosting iterations for ``boosting``).
    max_depth : int or None, default 8
        Depth limit; shallow trees explain faster and export smaller.
    max_samples : float or None, default None
        Share of rows each forest tree draws; less is faster on long
        histories of near-identical readings.
    seed : int, default 0
        Random state.
    n_jobs : int, default 2
        Parallel jobs for the forests.

    Raises
    ------
    ValueError
        If ``model`` is not one of :data:`MODELS`.
    """
    if model == "forest":
        return RandomForestClassifier(
            n_estimators=n_estimators,
            max_depth=max_depth,
            max_samples=max_samples,
            random_state=seed,
            n_jobs=n_jobs,
        )
    if model == "extra_trees":
        return ExtraTreesClassifier(
            n_estimators=n_estimators,
            max_depth=max_depth,
            random_state=seed,
            n_jobs=n_jobs,
        )
    if model == "boosting":
        return HistGradientBoostingClassifier(
            max_iter=n_estimators, max_depth=max_depth, random_state=seed
        )
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")


def train_detector(
    X_normal: np.ndarray | pd.DataFrame,
    *,
    contamination: float = 0.05,
    n_estimators: int = 100,
    seed: int = 0,
) -> IsolationForest:
    """Train an IsolationForest on readings of normal operation only.

    Parameters
    ----------
    X_normal : array-like
        Features of readings known to be normal.
    contamination : float, default 0.05
        Share of normal readings the detector may flag; sets its threshold.
    n_estimators : int, default 100
        Trees.
    seed : int, default 0
        Random state.
    """
    if not 0.0 < contamination <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5], got {contamination}")
    detector = IsolationForest(
        n_estimators=n_estimators,
        contamination=contamination,
        random_state=seed,
        n_jobs=2,
    )
    return detector.fit(np.asarray(X_normal, dtype=np.float32))


def detector_columns(features: Sequence[str]) -> list[str]:
    """Return the features the anomaly detector watches.

    An IsolationForest isolates points along randomly chosen features, so
    every irrelevant feature dilutes it. The detector therefore watches the
    two physical symptoms of wear and poor cooling: vibration and the
    temperature rise per kilowatt, as current values and window means.
    """
    return [
        name
        for name in features
        if name.startswith(("vibration_mm_s", "heat_per_kw"))
        and ("__" not in name or "__mean_" in name)
    ]


def detector_scores(detector: IsolationForest, X: np.ndarray | pd.DataFrame) -> Any:
    """Return anomaly scores: above 0 means the detector flags the reading."""
    return -detector.decision_function(np.asarray(X, dtype=np.float32))


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def classification_metrics(
    y_true: np.ndarray, score: np.ndarray, threshold: float = 0.5
) -> dict[str, Any]:
    """Return precision, recall, F1, PR-AUC and the confusion matrix.

    Parameters
    ----------
    y_true : numpy.ndarray
        True labels, 0 or 1.
    score : numpy.ndarray
        Probability or score of the positive class.
    threshold : float, default 0.5
        A score at or above it is an alert.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``pr_auc`` (average precision),
        ``confusion`` ([[tn, fp], [fn, tp]]), ``n_rows``, ``n_positive``,
        ``threshold``.
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = (np.asarray(score) >= threshold).astype(int)
    has_positive = bool(y_true.any())
    return {
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "pr_auc": float(average_precision_score(y_true, score))
        if has_positive
        else 0.0,
        "confusion": confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        "n_rows": int(len(y_true)),
        "n_positive": int(y_true.sum()),
        "threshold": float(threshold),
    }


def lead_times(
    readings: pd.DataFrame, alerts: np.ndarray, failures: pd.DataFrame
) -> pd.DataFrame:
    """Return, per failure, when the first alert fired and how early.

    Only failures whose machine appears in ``readings`` and whose failure
    time lies inside the readings' time span are judged. The first alert
    counts if it fires between the onset of degradation and the failure.

    Parameters
    ----------
    readings : pandas.DataFrame
        The evaluated readings (``machine_id``, ``ts``).
    alerts : numpy.ndarray of bool
        One flag per reading.
    failures : pandas.DataFrame
        Failure events (``machine_id``, ``failure_mode``, ``onset``,
        ``failure``) as :attr:`Simulation.failures` gives them.

    Returns
    -------
    pandas.DataFrame
        One row per judged failure with ``first_alert`` (NaT if none) and
        ``lead_time_min`` (minutes before the failure; NaN when missed).
    """
    ts = pd.to_datetime(readings["ts"], utc=True)
    machine = readings["machine_id"].astype(str)
    start, end = ts.min(), ts.max()
    alerted = pd.DataFrame({"machine_id": machine[alerts], "ts": ts[alerts]})
    rows = []
    for event in failures.itertuples(index=False):
        if event.machine_id not in set(machine) or not start <= event.failure <= end:
            continue
        window = alerted[
            (alerted["machine_id"] == event.machine_id)
            & (alerted["ts"] >= event.onset)
            & (alerted["ts"] < event.failure)
        ]
        first = window["ts"].min() if len(window) else pd.NaT
        lead = (
            (event.failure - first) / pd.Timedelta(minutes=1) if len(window) else np.nan
        )
        rows.append(
            {
                "machine_id": event.machine_id,
                "failure_mode": event.failure_mode,
                "onset": event.onset,
                "failure": event.failure,
                "warning_min": (event.failure - event.onset) / pd.Timedelta(minutes=1),
                "first_alert": first,
                "lead_time_min": lead,
            }
        )
    columns = [
        "machine_id",
        "failure_mode",
        "onset",
        "failure",
        "warning_min",
        "first_alert",
        "lead_time_min",
    ]
    return pd.DataFrame(rows, columns=columns)


@dataclass
class Evaluation:
    """Metrics of one model on one test set.

    Attributes
    ----------
    metrics : dict
        Output of :func:`classification_metrics`.
    recall_by_mode : dict
        Recall on degrading readings, per failure mode (NaN if none).
    lead_times : pandas.DataFrame
        Output of :func:`lead_times`, on sustained alerts.
    score : numpy.ndarray
        The model's score per test reading.
    false_alarms_per_machine_day : float
        Sustained alerts that began on a healthy reading, per machine-day of
        healthy readings: the price of the lead times.
    persistence : int
        Consecutive flagged readings that make a sustained alert.
    """

    metrics: dict[str, Any]
    recall_by_mode: dict[str, float]
    lead_times: pd.DataFrame
    score: np.ndarray
    false_alarms_per_machine_day: float = float("nan")
    persistence: int = 1

    def summary(self) -> dict[str, Any]:
        """Return the headline numbers, including lead-time figures."""
        judged = self.lead_times
        detected = judged["lead_time_min"].notna()
        return {
            **{k: v for k, v in self.metrics.items() if k != "confusion"},
            "failures_judged": int(len(judged)),
            "failures_warned": int(detected.sum()),
            "median_lead_time_min": (
                float(judged.loc[detected, "lead_time_min"].median())
                if detected.any()
                else float("nan")
            ),
            "alert_persistence": self.persistence,
            "false_alarms_per_machine_day": self.false_alarms_per_machine_day,
            **{f"recall_{mode}": value for mode, value in self.recall_by_mode.items()},
        }


def _machine_time_order(readings: pd.DataFrame, **columns: np.ndarray) -> pd.DataFrame:
    """Return ``machine_id``, ``ts`` and ``columns`` sorted by machine, then time.

    The index keeps each row's position in ``readings``.
    """
    frame = pd.DataFrame(
        {
            "machine_id": readings["machine_id"].astype(str).to_numpy(),
            "ts": pd.to_datetime(readings["ts"], utc=True).to_numpy(),
            **columns,
        }
    )
    return frame.sort_values(["machine_id", "ts"], kind="stable")


def sustained_alerts(
    readings: pd.DataFrame, flagged: np.ndarray, persistence: int
) -> np.ndarray:
    """Return, per reading, whether it ends a run of ``persistence`` flags.

    A run is counted per machine, in time order: one noisy reading does not
    raise an alert, ``persistence`` consecutive flagged readings do.
    """
    if persistence < 1:
        raise ValueError(f"persistence must be at least 1, got {persistence}")
    flagged = np.asarray(flagged, dtype=bool)
    if persistence == 1 or not len(flagged):
        return flagged
    ordered = _machine_time_order(readings, flag=flagged.astype(np.int64))
    runs = (
        ordered.groupby("machine_id", sort=False)["flag"]
        .rolling(persistence, min_periods=persistence)
        .sum()
        .to_numpy()
    )
    out = np.zeros(len(flagged), dtype=bool)
    out[ordered.index.to_numpy()] = runs == persistence
    return out


def false_alarm_rate(
    readings: pd.DataFrame, alerts: np.ndarray, y_true: np.ndarray
) -> float:
    """Return alerts begun on healthy readings per machine-day of healthy readings.

    An alert begins where a machine's alert flag rises from off to on; it is
    false when the reading it begins on is healthy (label 0). The healthy time
    is the span of each machine's healthy readings, summed.
    """
    frame = _machine_time_order(
        readings, alert=np.asarray(alerts, dtype=bool), healthy=np.asarray(y_true) == 0
    )
    previous = frame.groupby("machine_id", sort=False)["alert"].shift(
        1, fill_value=False
    )
    begins = frame["alert"] & ~previous.astype(bool) & frame["healthy"]
    healthy = frame.loc[frame["healthy"]]
    spans = healthy.groupby("machine_id")["ts"].agg(["min", "max"])
    days = float(((spans["max"] - spans["min"]) / pd.Timedelta(days=1)).sum())
    return float(begins.sum()) / days if days > 0 else float("nan")


def evaluate(
    readings: pd.DataFrame,
    y_true: np.ndarray,
    score: np.ndarray,
    failures: pd.DataFrame,
    threshold: float = 0.5,
    persistence: int = 3,
) -> Evaluation:
    """Evaluate one model's scores on test readings.

    Row metrics (precision, recall, recall per mode) judge every flagged
    reading. Lead times and false alarms judge sustained alerts, as an
    operator would see them: ``persistence`` consecutive flagged readings of a
    machine. Without that, a model that flags a fifth of healthy readings at
    random would "warn" of every failure at its onset.

    Parameters
    ----------
    readings : pandas.DataFrame
        Test readings with ``machine_id``, ``ts`` and ``failure_mode``.
    y_true : numpy.ndarray
        Degradation labels of the test readings.
    score : numpy.ndarray
        The model's score per reading.
    failures : pandas.DataFrame
        All failure events of the simulation.
    threshold : float, default 0.5
        Alert threshold on the score.
    persistence : int, default 3
        Consecutive flagged readings that make a sustained alert.

    Returns
    -------
    Evaluation
    """
    alerts = np.asarray(score) >= threshold
    metrics = classification_metrics(y_true, score, threshold)
    modes = readings["failure_mode"].astype(str).to_numpy()
    by_mode = {}
    for mode in FAILURE_MODES[1:]:
        rows = (modes == mode) & (y_true == 1)
        by_mode[mode] = float(alerts[rows].mean()) if rows.any() else float("nan")
    sustained = sustained_alerts(readings, alerts, persistence)
    return Evaluation(
        metrics,
        by_mode,
        lead_times(readings, sustained, failures),
        score,
        false_alarm_rate(readings, sustained, y_true),
        persistence,
    )


# --------------------------------------------------------------------------
# The simulated factory, end to end
# --------------------------------------------------------------------------


@dataclass
class FactoryExperiment:
    """A classifier and a detector trained and evaluated on one simulation.

    Attributes
    ----------
    classifier : ClassifierMixin
        The fitted tree ensemble.
    detector : IsolationForest
        The fitted anomaly detector.
    features : list of str
        Feature columns, in model input order.
    detector_features : list of str
        The detector's columns (:func:`detector_columns`).
    windows : tuple of str
        Feature windows.
    split : Split
        The split used.
    X_train, X_test : pandas.DataFrame
        Features of the kept training and test readings.
    y_train, y_test : numpy.ndarray
        Their degradation labels.
    test_readings : pandas.DataFrame
        The kept test readings (with labels).
    classifier_eval, detector_eval : Evaluation
        Test results of both models.
    train_seconds : float
        Wall-clock time of fitting both models.
    fingerprint : str
        :func:`data_fingerprint` of the training readings.
    """

    classifier: ClassifierMixin
    detector: IsolationForest
    features: list[str]
    detector_features: list[str]
    windows: tuple[str, ...]
    split: Split
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    test_readings: pd.DataFrame
    classifier_eval: Evaluation
    detector_eval: Evaluation
    train_seconds: float
    fingerprint: str

    def comparison(self) -> pd.DataFrame:
        """Return both models' headline numbers side by side."""
        return pd.DataFrame(
            {
                "classifier": self.classifier_eval.summary(),
                "detector": self.detector_eval.summary(),
            }
        )

    def card(self, name: str = "failure-classifier") -> ModelCard:
        """Return the classifier's model card."""
        return self.variant_card(name, self.classifier, self.classifier_eval.summary())

    def variant_card(
        self,
        name: str,
        model: Any,
        metrics: dict[str, Any],
        notes: Sequence[str] = (),
    ) -> ModelCard:
        """Return the card of a classifier trained on this experiment's data.

        Parameters
        ----------
        name : str
            Model name.
        model : estimator
            A fitted classifier on :attr:`features` (the tree ensemble, or a
            variant such as the MLP of chapter 8).
        metrics : dict
            Its test metrics.
        notes : sequence of str, default ()
            Limits that belong to this variant, before the common ones.
        """
        return ModelCard(
            name=name,
            model=type(model).__name__,
            parameters=_card_parameters(model),
            data=self._card_data(),
            features=self.features,
            metrics=metrics,
            limits=[*notes, *self._common_limits()],
        )

    def detector_card(self, name: str = "anomaly-detector") -> ModelCard:
        """Return the anomaly detector's model card."""
        return ModelCard(
            name=name,
            model=type(self.detector).__name__,
            parameters=_card_parameters(self.detector),
            data={
                **self._card_data(),
                "target": "none: fitted on readings of normal operation only; "
                "evaluated against the degradation labels",
            },
            features=self.detector_features,
            metrics=self.detector_eval.summary(),
            limits=[
                "Its threshold is set by the share of normal readings it may flag "
                "(contamination), not by the failures it should catch.",
                "It watches vibration and heat per kilowatt only, so an electrical "
                "fault or a failure mode with other symptoms passes unseen.",
                *self._common_limits()[:1],
            ],
        )

    def _card_data(self) -> dict[str, Any]:
        return {
            "source": "smartfactory_lib.simulation (simulated readings)",
            "fingerprint": self.fingerprint,
            "target": "degradation before a failure (anomaly and not yet failed)",
            **self.split.describe(),
            "train_positive_share": float(self.y_train.mean()),
        }

    def _common_limits(self) -> list[str]:
        return [
            "Trained on simulated machines; real machines drift, age and break "
            "in ways the simulator does not model.",
            "Electrical failures give no warning in the data; the model cannot "
            "predict them (they have no degrading readings, so "
            "recall_electrical is undefined).",
            "Machines differ in how hot and how rough they run; without a "
            "per-machine baseline, a machine that always runs hot can look like "
            "one that overheats, which costs precision on unseen machines.",
            "Early degradation is indistinguishable from normal operation, so "
            "row-level recall understates how early failures are caught; see "
            "the lead times and the false alarms beside them.",
            "Features need the last "
            + self.windows[-1]
            + " of a machine's readings; a cold start sees shorter windows.",
        ]


def _card_parameters(model: Any) -> dict[str, Any]:
    """Return the parameters a card shows, from a model or its last step."""
    step = model.steps[-1][1] if hasattr(model, "steps") else model
    params = step.get_params()
    names = (
        "n_estimators",
        "max_depth",
        "max_samples",
        "contamination",
        "hidden_layer_sizes",
        "alpha",
    )
    return {k: params[k] for k in names if k in params}


def run_experiment(
    readings: pd.DataFrame,
    failures: pd.DataFrame,
    *,
    windows: Sequence[str] = DEFAULT_WINDOWS,
    model: str = "forest",
    n_estimators: int = 100,
    max_depth: int | None = 8,
    test_fraction: float = 0.4,
    machine_fraction: float = 0.5,
    contamination: float = 0.05,
    seed: int = 0,
) -> FactoryExperiment:
    """Compute features, split, train both models and evaluate them.

    Parameters
    ----------
    readings : pandas.DataFrame
        Simulated readings with labels.
    failures : pandas.DataFrame
        The simulation's failure events.
    windows : sequence of str, default ``("10min", "60min")``
        Feature windows; the split's gap is the longest of them.
    model : str, default "forest"
        Classifier name (see :func:`make_classifier`).
    n_estimators, max_depth : int
        Size of the classifier.
    test_fraction, machine_fraction : float
        See :func:`split_time_machines`.
    contamination : float, default 0.05
        Detector's share of flagged normal readings.
    seed : int, default 0
        Seed of split and models.

    Returns
    -------
    FactoryExperiment
    """
    windows = tuple(windows)
    gap = max(windows, key=pd.Timedelta)
    X_all = window_features(readings, windows)
    y_all, keep = degradation_labels(readings)
    split = split_time_machines(
        readings,
        test_fraction=test_fraction,
        machine_fraction=machine_fraction,
        gap=gap,
        seed=seed,
    )
    train, test = split.train & keep, split.test & keep
    if y_all[train].sum() == 0:
        raise ValueError(
            "training set holds no degrading readings; simulate more hours or machines"
        )
    X_train, X_test = X_all[train], X_all[test]
    y_train, y_test = y_all[train], y_all[test]
    features = feature_names(windows)

    started = time.perf_counter()
    classifier = make_classifier(
        model,
        n_estimators=n_estimators,
        max_depth=max_depth,
        max_samples=0.3 if model == "forest" else None,
        seed=seed,
    )
    classifier.fit(X_train.to_numpy(np.float32), y_train)
    watched = detector_columns(features)
    detector = train_detector(
        X_train.loc[y_train == 0, watched].to_numpy(np.float32),
        contamination=contamination,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    logger.info(
        "Trained classifier and detector on %d readings in %.1f s", train.sum(), seconds
    )

    test_readings = readings[test]
    proba = classifier.predict_proba(X_test.to_numpy(np.float32))[:, 1]
    classifier_eval = evaluate(test_readings, y_test, proba, failures)
    detector_eval = evaluate(
        test_readings,
        y_test,
        detector_scores(detector, X_test[watched]),
        failures,
        threshold=0.0,
    )
    return FactoryExperiment(
        classifier=classifier,
        detector=detector,
        features=features,
        detector_features=watched,
        windows=windows,
        split=split,
        X_train=X_train,
        X_test=X_test,
        y_train=y_train,
        y_test=y_test,
        test_readings=test_readings,
        classifier_eval=classifier_eval,
        detector_eval=detector_eval,
        train_seconds=seconds,
        fingerprint=data_fingerprint(readings[train]),
    )


def evaluate_sensor_faults(
    experiment: FactoryExperiment,
    fault_rate: float = 0.2,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Measure false alerts caused by sensor faults on healthy machines.

    Sensor faults (dropout, spike, stuck_at, calibration_drift) are injected
    into the test readings; features are recomputed and both models score
    them. Only readings of healthy operation (label 0) are counted, so every
    alert there is a false one: the table says how much more often each
    model cries wolf on a faulty reading than on a clean one.

    Parameters
    ----------
    experiment : FactoryExperiment
        A trained experiment.
    fault_rate : float, default 0.2
        Share of test readings given a sensor fault.
    seed : int, default 0
        Seed of the injection.

    Returns
    -------
    pandas.DataFrame
        One row per fault type plus ``none`` (clean readings): ``readings``,
        ``classifier_alert_rate`` and ``detector_alert_rate``.
    """
    from ..faults import FaultConfig, inject

    sensor_types = ("dropout", "spike", "stuck_at", "calibration_drift")
    config = FaultConfig.uniform(fault_rate, sensor_types, seed=seed)
    readings = experiment.test_readings
    faulted = inject(readings, config).readings
    faulted = faulted.sort_values(["ts", "machine_id"], kind="stable")
    X = window_features(faulted, experiment.windows)
    healthy = faulted["anomaly"].to_numpy() == 0
    clf_alert = experiment.classifier.predict_proba(X.to_numpy(np.float32))[:, 1] >= 0.5
    det_alert = (
        detector_scores(experiment.detector, X[experiment.detector_features]) > 0
    )
    fault = faulted["fault"].astype(str).to_numpy()
    rows = []
    for name in ("none", *sensor_types):
        rows_of = healthy & (fault == name)
        rows.append(
            {
                "fault": name,
                "readings": int(rows_of.sum()),
                "classifier_alert_rate": float(clf_alert[rows_of].mean())
                if rows_of.any()
                else float("nan"),
                "detector_alert_rate": float(det_alert[rows_of].mean())
                if rows_of.any()
                else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("fault")


# --------------------------------------------------------------------------
# Model cards and fingerprints
# --------------------------------------------------------------------------


def data_fingerprint(frame: pd.DataFrame) -> str:
    """Return a sha256 of a table's columns, dtypes and values.

    Two tables with the same fingerprint hold the same data, so a model
    card can say exactly which data a model learned from.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([[c, str(t)] for c, t in frame.dtypes.items()]).encode())
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest.update(hashed.tobytes())
    return digest.hexdigest()


@dataclass
class ModelCard:
    """What a model is, what it learned from, how well it does, and its limits.

    Attributes
    ----------
    name : str
        Model name.
    model : str
        Estimator class.
    parameters : dict
        The parameters that matter.
    data : dict
        Source, fingerprint, split and sizes of the training data.
    features : list of str
        Input columns, in order.
    metrics : dict
        Test or cross-validated metrics.
    limits : list of str
        Known limitations, in plain words.
    created : str
        UTC timestamp (ISO 8601).
    """

    name: str
    model: str
    parameters: dict[str, Any]
    data: dict[str, Any]
    features: list[str]
    metrics: dict[str, Any]
    limits: list[str]
    created: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the card as plain JSON-ready data."""
        return dict(json_ready(dict(self.__dict__)))

    def to_markdown(self) -> str:
        """Return the card as a short Markdown document."""
        lines = [f"# Model card: {self.name}", "", f"Created {self.created}.", ""]
        lines += ["## Model", "", f"{self.model} with"]
        lines += [f"- {k}: {v}" for k, v in self.parameters.items()]
        lines += ["", "## Data", ""]
        lines += [f"- {k}: {v}" for k, v in self.data.items()]
        lines += ["", f"## Features ({len(self.features)})", ""]
        lines += [", ".join(f"`{f}`" for f in self.features)]
        lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in self.metrics.items()]
        lines += ["", "## Limits", ""]
        lines += [f"- {limit}" for limit in self.limits]
        return "\n".join(lines) + "\n"

    def write(self, directory: str | Path) -> Path:
        """Write ``model_card.md`` and ``model_card.json``; return the .md path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "model_card.json").write_text(
            json.dumps(self.to_dict(), indent=2) + "\n"
        )
        path = directory / "model_card.md"
        path.write_text(self.to_markdown())
        return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


# --------------------------------------------------------------------------
# Any table: the generic trainer
# --------------------------------------------------------------------------


_DERIVE_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the extension is neither .csv nor .parquet, or the file does not
        parse.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:  # pandas raises many kinds; report one
        raise ValueError(f"cannot read {path} as {suffix[1:]}: {exc}") from None
    raise ValueError(f"data file must end in .csv or .parquet, got {path.name!r}")


def parse_derive(spec: str) -> tuple[str, str]:
    """Split ``NAME=EXPR`` into a feature name and a pandas expression.

    Raises
    ------
    ValueError
        If there is no ``=`` or the name is not an identifier.
    """
    name, sep, expr = spec.partition("=")
    name, expr = name.strip(), expr.strip()
    if not sep or not expr:
        raise ValueError(f"derive must look like NAME=EXPR, got {spec!r}")
    if not _DERIVE_NAME.match(name):
        raise ValueError(f"derive name must be an identifier, got {name!r}")
    return name, expr


@dataclass
class TabularResult:
    """A model trained and cross-validated on a table.

    Attributes
    ----------
    metrics : dict
        Pooled out-of-fold metrics (:func:`classification_metrics`) plus
        ``n_features``, ``cv``, ``folds`` and ``f1_folds`` (per-fold F1).
    model : ClassifierMixin
        The classifier refitted on every row.
    features : list of str
        Input columns in model order (after derivation and encoding).
    categories : dict
        Category order of each encoded column.
    oof_score : numpy.ndarray
        Out-of-fold probability per row (NaN where a row was never tested).
    card : ModelCard
    X : pandas.DataFrame
        The model's input table (derived and encoded columns).
    y : numpy.ndarray
        The label.
    """

    metrics: dict[str, Any]
    model: ClassifierMixin
    features: list[str]
    categories: dict[str, list[str]]
    oof_score: np.ndarray
    card: ModelCard
    X: pd.DataFrame
    y: np.ndarray


def _prepare(
    frame: pd.DataFrame,
    label: str,
    features: Sequence[str] | None,
    timestamp: str | None,
    group: str | None,
    derive: Mapping[str, str],
) -> tuple[pd.DataFrame, np.ndarray, dict[str, list[str]]]:
    for role, column in (("label", label), ("timestamp", timestamp), ("group", group)):
        if column is not None and column not in frame:
            raise ValueError(
                f"{role} column {column!r} not found; columns are "
                f"{', '.join(map(str, frame.columns))}"
            )
    frame = frame.copy()
    for name, expr in derive.items():
        try:
            frame[name] = frame.eval(expr)
        except Exception as exc:  # eval raises many kinds; say which expression
            raise ValueError(f"cannot derive {name} from {expr!r}: {exc}") from None

    y_raw = frame[label]
    values = set(pd.unique(y_raw.dropna()))
    if y_raw.isna().any():
        raise ValueError(
            f"label {label!r} has {int(y_raw.isna().sum())} missing values"
        )
    if not values <= {0, 1} or len(values) != 2:  # True == 1, False == 0
        shown = ", ".join(map(str, sorted(values, key=str)[:5]))
        raise ValueError(f"label {label!r} must be binary 0/1, got values {shown}")
    y = y_raw.astype(int).to_numpy()

    if features:
        chosen = list(features) + [d for d in derive if d not in features]
        missing = [c for c in chosen if c not in frame]
        if missing:
            raise ValueError(f"feature column(s) not found: {', '.join(missing)}")
    else:
        excluded = {label, timestamp, group}
        chosen = [
            c
            for c in frame.columns
            if c not in excluded and pd.api.types.is_numeric_dtype(frame[c])
        ]
    if label in chosen:
        raise ValueError(f"label {label!r} cannot also be a feature")

    X = pd.DataFrame(index=frame.index)
    categories: dict[str, list[str]] = {}
    for column in chosen:
        values_c = frame[column]
        if pd.api.types.is_bool_dtype(values_c) or pd.api.types.is_numeric_dtype(
            values_c
        ):
            X[column] = values_c.astype("float64")
        else:
            cats = sorted(values_c.dropna().astype(str).unique())
            categories[column] = cats
            X[column] = pd.Categorical(values_c.astype(str), categories=cats).codes
            X[column] = X[column].astype("float64")
    if X.shape[1] == 0:
        raise ValueError("no feature columns left; pass --features or add numeric ones")
    return X, y, categories


def _folds(
    frame: pd.DataFrame,
    y: np.ndarray,
    timestamp: str | None,
    group: str | None,
    n_splits: int,
    seed: int,
) -> tuple[str, list[tuple[np.ndarray, np.ndarray]]]:
    n = len(y)
    if timestamp is not None:
        # Expanding window: fold k trains on the first k blocks of time and
        # tests on block k + 1. With groups, fold k tests only the groups of
        # one share of them (the share most present in that block) and trains
        # only on the others, so no group is on both sides even when groups
        # recur through time, as machines do.
        order = np.argsort(pd.to_datetime(frame[timestamp]).to_numpy(), kind="stable")
        bounds = np.linspace(0, n, n_splits + 2).astype(int)
        folds = []
        share = None
        if group is not None:
            groups = frame[group].astype(str).to_numpy()
            names = np.unique(groups)
            if len(names) < 2:
                raise ValueError(
                    f"--group {group!r} must hold at least 2 groups to keep them "
                    f"apart, got {len(names)}"
                )
            shares = np.random.default_rng(seed).permutation(len(names))
            share_of = dict(zip(names, shares % min(n_splits, len(names)), strict=True))
            share = np.array([share_of[g] for g in groups])
        for k in range(1, n_splits + 1):
            train, test = order[: bounds[k]], order[bounds[k] : bounds[k + 1]]
            if share is not None and len(test):
                held = int(np.argmax(np.bincount(share[test])))
                train = train[share[train] != held]
                test = test[share[test] == held]
            folds.append((train, test))
        kind = "time-ordered, groups kept apart" if group else "time-ordered"
        return kind, folds
    if group is not None:
        splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
        groups = frame[group].astype(str).to_numpy()
        return "stratified group k-fold", list(splitter.split(np.zeros(n), y, groups))
    splitter_s = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    return "stratified k-fold", list(splitter_s.split(np.zeros(n), y))


def train_tabular(
    frame: pd.DataFrame,
    label: str,
    *,
    features: Sequence[str] | None = None,
    timestamp: str | None = None,
    group: str | None = None,
    model: str = "forest",
    derive: Mapping[str, str] | None = None,
    n_splits: int = 5,
    n_estimators: int = 200,
    max_depth: int | None = None,
    seed: int = 0,
    source: str = "table",
) -> TabularResult:
    """Cross-validate and train a classifier on any table of sensor data.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, one row per observation.
    label : str
        Binary target column (0/1 or booleans).
    features : sequence of str or None, default None
        Feature columns; None takes every numeric column except label,
        timestamp and group. Text columns named here are encoded as
        category codes.
    timestamp : str or None, default None
        With a timestamp, folds are time-ordered: each test fold comes after
        all of its training rows.
    group : str or None, default None
        With a group (such as a machine), no group is in both the training
        and the test rows of a fold.
    model : str, default "forest"
        One of :data:`MODELS`.
    derive : mapping of str to str or None, default None
        New features as ``{name: expression}`` in :meth:`pandas.DataFrame.eval`
        syntax (backticks around names with spaces), computed in order.
    n_splits : int, default 5
        Folds.
    n_estimators : int, default 200
        Trees.
    max_depth : int or None, default None
        Depth limit of the trees.
    seed : int, default 0
        Seed of folds and model.
    source : str, default "table"
        Where the data came from, for the model card.

    Returns
    -------
    TabularResult

    Raises
    ------
    ValueError
        If a column is missing, the label is not binary, an expression does
        not evaluate, or there are too few rows of a class for the folds.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": range(100), "y": [0, 1] * 50})
    >>> train_tabular(frame, "y", n_estimators=10).metrics["n_rows"]
    100
    """
    if not 2 <= n_splits <= 20:
        raise ValueError(f"n_splits must be between 2 and 20, got {n_splits}")
    derive = dict(derive or {})
    X, y, categories = _prepare(frame, label, features, timestamp, group, derive)
    if min(np.bincount(y, minlength=2)) < n_splits:
        raise ValueError(
            f"label {label!r} needs at least {n_splits} rows of each class, "
            f"got {np.bincount(y, minlength=2).tolist()}"
        )
    kind, folds = _folds(frame, y, timestamp, group, n_splits, seed)
    X_values = X.to_numpy(np.float32)

    started = time.perf_counter()
    oof = np.full(len(y), np.nan)
    fold_f1 = []
    for train, test in folds:
        if not len(test):
            continue
        if len(np.unique(y[train])) < 2:
            logger.warning("Skipped a fold whose training rows hold one class only")
            continue
        clf = make_classifier(
            model, n_estimators=n_estimators, max_depth=max_depth, seed=seed
        )
        clf.fit(X_values[train], y[train])
        oof[test] = clf.predict_proba(X_values[test])[:, 1]
        fold_f1.append(float(f1_score(y[test], oof[test] >= 0.5, zero_division=0)))
    tested = ~np.isnan(oof)
    if not tested.any():
        raise ValueError(
            f"no fold could be trained: in every {kind} fold the training rows "
            "hold one class only; the label needs both classes among the "
            "earliest rows"
        )
    metrics = classification_metrics(y[tested], oof[tested])
    final = make_classifier(
        model, n_estimators=n_estimators, max_depth=max_depth, seed=seed
    )
    final.fit(X_values, y)
    seconds = time.perf_counter() - started
    metrics.update(
        n_rows=int(len(y)),
        n_tested=int(tested.sum()),
        n_features=int(X.shape[1]),
        cv=kind,
        folds=len(fold_f1),
        f1_folds=fold_f1,
        train_seconds=round(seconds, 2),
    )
    logger.info(
        "Cross-validated %s on %d rows x %d features: F1 %.3f",
        model,
        len(y),
        X.shape[1],
        metrics["f1"],
    )
    card = ModelCard(
        name=f"{model}-{label}",
        model=type(final).__name__,
        parameters={"n_estimators": n_estimators, "max_depth": max_depth},
        data={
            "source": source,
            "fingerprint": data_fingerprint(frame),
            "label": label,
            "positive_share": float(y.mean()),
            "derived": derive,
            "encoded": categories,
            "timestamp": timestamp,
            "group": group,
        },
        features=list(X.columns),
        metrics={
            k: v for k, v in metrics.items() if k not in ("confusion", "f1_folds")
        },
        limits=[
            f"Metrics are pooled out-of-fold predictions of {kind} cross-validation "
            "at threshold 0.5.",
            "The model is only as honest as its features: columns that encode the "
            "label (such as failure-mode flags) must be left out.",
        ],
    )
    return TabularResult(metrics, final, list(X.columns), categories, oof, card, X, y)
