"""Figures of the model chapters: precision-recall, confusion, lead times, scores.

Each function returns a plotly figure and computes nothing the evaluation
functions have not computed already; the chapters show them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn.metrics import precision_recall_curve

__all__ = [
    "confusion_figure",
    "lead_time_figure",
    "pr_curve_figure",
    "score_trace_figure",
]


def pr_curve_figure(curves: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Return precision-recall curves, one per named ``(y_true, score)`` pair."""
    fig = go.Figure()
    for name, (y_true, score) in curves.items():
        precision, recall, _ = precision_recall_curve(y_true, score)
        fig.add_trace(go.Scatter(x=recall, y=precision, mode="lines", name=name))
    base = float(np.mean(next(iter(curves.values()))[0])) if curves else 0.0
    fig.add_hline(
        y=base, line_dash="dot", annotation_text="chance (share of positives)"
    )
    fig.update_layout(
        title="Precision against recall as the alert threshold moves",
        xaxis_title="recall",
        yaxis_title="precision",
        yaxis_range=[0, 1.02],
        height=420,
    )
    return fig


def confusion_figure(confusion: list[list[int]], title: str) -> go.Figure:
    """Return a 2 x 2 confusion matrix as an annotated heatmap."""
    z = np.asarray(confusion)
    labels = ["normal", "degrading"]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[f"predicted {name}" for name in labels],
            y=[f"actually {name}" for name in labels],
            text=[[f"{v:,}" for v in row] for row in z],
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
        )
    )
    fig.update_layout(title=title, height=320, yaxis_autorange="reversed")
    return fig


def lead_time_figure(lead_times: pd.DataFrame) -> go.Figure:
    """Return, per failure, its warning window and how early the alert came.

    Parameters
    ----------
    lead_times : pandas.DataFrame
        Output of :func:`~smartfactory_lib.ml.training.lead_times`.
    """
    frame = lead_times.sort_values("failure")
    names = [
        f"{m} {mode} {f:%d %H:%M}"
        for m, mode, f in zip(
            frame["machine_id"], frame["failure_mode"], frame["failure"], strict=True
        )
    ]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=frame["warning_min"],
            orientation="h",
            name="degradation visible (min before failure)",
            marker_color="#cccccc",
        )
    )
    fig.add_trace(
        go.Bar(
            y=names,
            x=frame["lead_time_min"].fillna(0.0),
            orientation="h",
            name="first alert (min before failure)",
            marker_color="#d62728",
        )
    )
    fig.update_layout(
        title="Detection lead time per failure (no red bar: no warning)",
        barmode="overlay",
        xaxis_title="minutes before the failure",
        height=160 + 26 * len(frame),
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def score_trace_figure(
    readings: pd.DataFrame,
    score: np.ndarray,
    failures: pd.DataFrame,
    machine_id: str,
    threshold: float = 0.5,
) -> go.Figure:
    """Return one machine's failure probability over time, failures marked."""
    mine = (readings["machine_id"].astype(str) == machine_id).to_numpy()
    ts = pd.to_datetime(readings.loc[mine, "ts"])
    fig = go.Figure(
        go.Scatter(x=ts, y=np.asarray(score)[mine], mode="lines", name="probability")
    )
    fig.add_hline(y=threshold, line_dash="dot", annotation_text="alert threshold")
    events = failures[failures["machine_id"] == machine_id]
    for event in events.itertuples(index=False):
        if ts.min() <= event.failure <= ts.max():
            fig.add_vrect(
                x0=max(event.onset, ts.min()),
                x1=event.failure,
                fillcolor="orange",
                opacity=0.2,
                line_width=0,
                annotation_text=str(event.failure_mode),
            )
    fig.update_layout(
        title=f"Failure probability of {machine_id} (shaded: degradation)",
        yaxis_title="probability",
        yaxis_range=[0, 1.02],
        height=360,
    )
    return fig
