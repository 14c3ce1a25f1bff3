"""Explanations: why the model raised an alert, in words a technician can use.

A probability of 0.93 tells a technician nothing about where to look.
SHAP values split a tree model's score into one contribution per feature,
exactly, with :class:`shap.TreeExplainer`. :class:`AlertExplainer` turns the
three largest contributions towards an alert into sentences: which sensor,
which direction and how far from that sensor's normal level (the median and
spread of normal operation in the training data).

Only flagged readings are explained: explanations cost far more than
scores, and nobody reads the explanation of a reading that raised nothing.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go

with warnings.catch_warnings():
    # shap imports tqdm.auto, which warns when ipywidgets is not installed.
    warnings.simplefilter("ignore")
    import shap

from ..core.schema import SIGNALS
from .features import STATISTICS

__all__ = ["AlertExplainer", "Reason", "describe_feature"]

logger = logging.getLogger(__name__)

_DESCRIPTIONS: Final = {
    **{s.name: (s.description, s.unit) for s in SIGNALS},
    "temperature_rise_c": ("housing temperature above the hall air", "°C"),
    "heat_per_kw": ("temperature rise per kilowatt drawn", "°C/kW"),
}
_STAT_WORDS: Final = {
    "mean": "average over the last {w}",
    "std": "fluctuation (standard deviation) over the last {w}",
    "slope": "trend over the last {w}",
}
_FEATURE: Final = re.compile(
    r"^(?P<signal>.+?)__(?P<stat>" + "|".join(STATISTICS) + r")_(?P<window>.+)$"
)


def describe_feature(name: str) -> tuple[str, str]:
    """Return a plain description and unit of a feature column.

    Parameters
    ----------
    name : str
        A feature name such as ``vibration_mm_s__slope_60min``; names that
        are not windowed features are returned as they are.

    Returns
    -------
    description : str
        For example ``vibration velocity (RMS), trend over the last 60min``.
    unit : str
        For example ``mm/s per hour`` (empty when unknown).

    Examples
    --------
    >>> describe_feature("temperature_c__mean_10min")
    ('machine housing temperature, average over the last 10min', '°C')
    """
    match = _FEATURE.match(name)
    if match is None:
        text, unit = _DESCRIPTIONS.get(name, (name, ""))
        return text, unit
    text, unit = _DESCRIPTIONS.get(match["signal"], (match["signal"], ""))
    words = _STAT_WORDS[match["stat"]].format(w=match["window"])
    if match["stat"] == "slope" and unit:
        unit = f"{unit} per hour"
    return f"{text}, {words}", unit


def _num(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Reason:
    """One reason for an alert.

    Attributes
    ----------
    feature : str
        Feature column.
    value : float
        Its value in the flagged reading.
    normal : float
        Its median in normal operation.
    spread : float
        Its standard deviation in normal operation.
    contribution : float
        SHAP value: how much it raised the failure probability.
    text : str
        The reason in one sentence.
    """

    feature: str
    value: float
    normal: float
    spread: float
    contribution: float
    text: str


class AlertExplainer:
    """Explain a tree model's alerts with SHAP and the normal operating range.

    Parameters
    ----------
    model : fitted tree classifier
        A random forest, extra-trees or gradient-boosting classifier
        (anything :class:`shap.TreeExplainer` accepts).
    features : sequence of str
        Feature columns in model input order.
    X_normal : pandas.DataFrame or numpy.ndarray
        Features of normal operation (training rows labelled 0): they set
        what "normal" means in the sentences.

    Notes
    -----
    The explainer uses the tree path algorithm (``feature_perturbation=
    "tree_path_dependent"``), which needs no background data and is exact
    for the model, not for the world: a reason says what moved the model,
    which is usually but not always what is wrong with the machine.
    """

    def __init__(
        self,
        model: Any,
        features: Sequence[str],
        X_normal: pd.DataFrame | np.ndarray,
    ) -> None:
        self.model = model
        self.features = list(features)
        normal = np.asarray(X_normal, dtype=np.float64)
        if normal.ndim != 2 or normal.shape[1] != len(self.features):
            raise ValueError(
                f"X_normal must have {len(self.features)} feature columns, "
                f"got shape {normal.shape}"
            )
        if len(normal) == 0:
            raise ValueError("X_normal must hold at least one row, got none")
        self.normal = np.nanmedian(normal, axis=0)
        self.spread = np.nanstd(normal, axis=0)
        self._explainer = shap.TreeExplainer(model)

    def shap_values(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Return each feature's contribution to the failure probability.

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            Rows to explain, columns in model order.

        Returns
        -------
        numpy.ndarray
            Shaped (rows, features): SHAP values of the positive class.
        """
        values = np.asarray(X, dtype=np.float32)
        raw = self._explainer.shap_values(values, check_additivity=False)
        array = np.asarray(raw)
        if array.ndim == 3:  # (rows, features, classes) for forests
            return np.asarray(array[:, :, 1])
        return array  # one output (gradient boosting): log-odds

    def reasons(
        self, x: np.ndarray, contributions: np.ndarray, top: int = 3
    ) -> list[Reason]:
        """Return the ``top`` reasons of one row, largest contribution first.

        Only features that pushed the score towards an alert count; a row
        with fewer such features gets fewer reasons.
        """
        order = np.argsort(-contributions)[:top]
        found = []
        for j in order:
            if contributions[j] <= 0:
                break
            found.append(self._reason(j, float(x[j]), float(contributions[j])))
        return found

    def _reason(self, j: int, value: float, contribution: float) -> Reason:
        name = self.features[j]
        text, unit = describe_feature(name)
        normal, spread = float(self.normal[j]), float(self.spread[j])
        delta = value - normal
        direction = "above" if delta >= 0 else "below"
        unit_text = f" {unit}" if unit else ""
        sigmas = abs(delta) / spread if spread > 0 else float("inf")
        how_far = f"{sigmas:.1f} standard deviations" if np.isfinite(sigmas) else "far"
        sentence = (
            f"{text[0].upper()}{text[1:]} is {_num(value)}{unit_text}, "
            f"{_num(abs(delta))}{unit_text} {direction} normal "
            f"({_num(normal)}{unit_text}; {how_far} {direction})"
        )
        return Reason(name, value, normal, spread, contribution, sentence)

    def explain(
        self,
        X: pd.DataFrame | np.ndarray,
        *,
        threshold: float = 0.5,
        top: int = 3,
        index: Sequence[Any] | None = None,
    ) -> pd.DataFrame:
        """Score rows, and explain those the model flags.

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            Feature rows, columns in model order.
        threshold : float, default 0.5
            Failure probability at or above which a row is an alert.
        top : int, default 3
            Reasons per alert.
        index : sequence or None, default None
            Labels for the rows (for example the readings' index); the
            DataFrame's index, or positions, by default.

        Returns
        -------
        pandas.DataFrame
            One row per alert: ``row`` (its label), ``probability``,
            ``reason_1`` ... ``reason_<top>`` (sentences) and ``features``
            (the features behind them). Empty when nothing is flagged.
        """
        values = np.asarray(X, dtype=np.float32)
        labels = np.asarray(
            index
            if index is not None
            else (X.index if isinstance(X, pd.DataFrame) else np.arange(len(values)))
        )
        probability = self.model.predict_proba(values)[:, 1]
        flagged = np.flatnonzero(probability >= threshold)
        columns = ["row", "probability", *[f"reason_{k + 1}" for k in range(top)]]
        if len(flagged) == 0:
            return pd.DataFrame(columns=[*columns, "features"])
        contributions = self.shap_values(values[flagged])
        rows = []
        for position, row in enumerate(flagged):
            found = self.reasons(values[row], contributions[position], top)
            record: dict[str, Any] = {
                "row": labels[row],
                "probability": float(probability[row]),
            }
            for k in range(top):
                record[f"reason_{k + 1}"] = found[k].text if k < len(found) else ""
            record["features"] = [r.feature for r in found]
            rows.append(record)
        logger.info("Explained %d alerts of %d rows", len(flagged), len(values))
        return pd.DataFrame(rows)

    def summary_figure(
        self, contributions: np.ndarray, max_features: int = 12
    ) -> go.Figure:
        """Return a bar chart of the features that drive alerts overall.

        Parameters
        ----------
        contributions : numpy.ndarray
            SHAP values of many rows, from :meth:`shap_values`.
        max_features : int, default 12
            Features shown, largest mean absolute contribution first.
        """
        mean_abs = np.abs(contributions).mean(axis=0)
        order = np.argsort(mean_abs)[::-1][:max_features][::-1]
        names = [self.features[j] for j in order]
        hover = [describe_feature(n)[0] for n in names]
        fig = go.Figure(
            go.Bar(
                x=mean_abs[order],
                y=names,
                orientation="h",
                hovertext=hover,
                marker_color="#d62728",
            )
        )
        fig.update_layout(
            title="What drives the alerts: mean |SHAP value| per feature",
            xaxis_title="mean absolute contribution to the failure probability",
            height=120 + 28 * len(order),
            margin={"l": 10, "r": 10, "t": 50, "b": 40},
        )
        return fig
