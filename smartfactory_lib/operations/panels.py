"""Dashboard panels: plotly figures computed from a recorded run.

Each function takes tables a run produced (:class:`~.export.RunRecord`,
SLI events from :class:`~.canary.LivePipeline`) and returns one figure: the
sensor trends, the alerts table with their SHAP reasons, the alert viewer,
the IAM audit viewer, the cost panel and the SLO error-budget burn.
:func:`explain_alerts` finds, for each alert, the reading that raised it and
asks a trained model's :class:`~smartfactory_lib.ml.explain.AlertExplainer`
why that reading looks like a failure in the making.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..ml.explain import AlertExplainer
from ..ml.features import window_features
from .slo import SLOSet, burn_series, error_budget

__all__ = [
    "alert_viewer",
    "alerts_table",
    "audit_viewer",
    "budget_burn",
    "cost_panel",
    "explain_alerts",
    "sensor_trends",
    "trace_waterfall",
]

logger = logging.getLogger(__name__)

_BURN_FLOOR = 0.1
"""Burn rates below this are drawn at it, so that a log axis can show zero."""


def sensor_trends(
    readings: pd.DataFrame,
    signals: Sequence[str] = ("temperature_c", "vibration_mm_s", "power_kw"),
    every: str = "1min",
) -> go.Figure:
    """Plot each signal per machine, averaged over ``every``.

    Raises
    ------
    ValueError
        If a signal is not a column of ``readings``.
    """
    missing = [s for s in signals if s not in readings]
    if missing:
        raise ValueError(
            f"signals must be columns of readings, got {', '.join(missing)}"
        )
    fig = make_subplots(
        rows=len(signals), cols=1, shared_xaxes=True, subplot_titles=list(signals)
    )
    frame = readings.assign(ts=pd.to_datetime(readings["ts"], utc=True))
    for machine, group in frame.groupby("machine_id", observed=True, sort=True):
        means = group.set_index("ts")[list(signals)].resample(every).mean()
        for row, signal in enumerate(signals, start=1):
            fig.add_trace(
                go.Scatter(
                    x=means.index,
                    y=means[signal],
                    name=str(machine),
                    legendgroup=str(machine),
                    showlegend=row == 1,
                    mode="lines",
                ),
                row=row,
                col=1,
            )
    fig.update_layout(
        title=f"Sensor trends ({every} means per machine)",
        height=220 * len(signals) + 80,
    )
    return fig


def explain_alerts(
    alerts: pd.DataFrame,
    readings: pd.DataFrame,
    explainer: AlertExplainer,
    windows: Sequence[str],
    top: int = 3,
) -> pd.DataFrame:
    """Attach the model's top SHAP reasons to each alert.

    Parameters
    ----------
    alerts : pandas.DataFrame
        The alerts table (``machine_id``, ``ts``, ``score``, ...).
    readings : pandas.DataFrame
        Curated readings of the run, the alert's readings among them.
    explainer : AlertExplainer
        Built from a trained classifier and its normal training rows.
    windows : sequence of str
        The classifier's feature windows.
    top : int, default 3
        Reasons per alert.

    Returns
    -------
    pandas.DataFrame
        The alerts with ``failure_probability`` and ``reasons`` (one
        sentence per line); an alert whose reading is not in ``readings``
        gets NaN and an empty reason.
    """
    if alerts.empty:
        return alerts.assign(failure_probability=[], reasons=[])
    frame = readings.assign(ts=pd.to_datetime(readings["ts"], utc=True))
    frame = frame.reset_index(drop=True)
    features = window_features(frame, windows)[explainer.features]
    keys = pd.Series(
        frame.index,
        index=pd.MultiIndex.from_arrays([frame["machine_id"].astype(str), frame["ts"]]),
    )
    keys = keys[~keys.index.duplicated()]
    probabilities, reasons = [], []
    for alert in alerts.itertuples(index=False):
        key = (str(alert.machine_id), pd.Timestamp(alert.ts).tz_convert("UTC"))
        if key not in keys.index:
            probabilities.append(np.nan)
            reasons.append("")
            continue
        x = features.loc[keys[key]].to_numpy(np.float64)
        contributions = explainer.shap_values(x[None, :])[0]
        probability = float(
            explainer.model.predict_proba(x[None, :].astype(np.float32))[0, 1]
        )
        probabilities.append(probability)
        reasons.append(
            "\n".join(r.text for r in explainer.reasons(x, contributions, top))
        )
    return alerts.assign(failure_probability=probabilities, reasons=reasons)


def _wrap(text: str, width: int = 80) -> str:
    """Wrap each line of ``text`` at ``width`` characters, joined with ``<br>``."""
    return "<br>".join(
        "<br>&nbsp;&nbsp;".join(textwrap.wrap(line, width)) for line in text.split("\n")
    )


def alerts_table(alerts: pd.DataFrame) -> go.Figure:
    """Show the alerts as a table, with their reasons when present."""
    headers = {
        "machine_id": "machine",
        "ts": "reading time (UTC)",
        "score": "score",
        "scorer": "scorer",
        "failure_probability": "P(failure)",
        "reasons": "reasons (SHAP, largest first)",
    }
    widths = {"reasons": 6.0, "ts": 1.4, "machine_id": 0.9, "score": 0.7}
    columns = [c for c in headers if c in alerts]
    cells = []
    for column in columns:
        values = alerts[column]
        if column == "ts":
            values = pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%d %H:%M:%S")
        elif values.dtype.kind == "f":
            values = values.map(lambda v: "-" if pd.isna(v) else f"{v:.2f}")
        elif column == "reasons":
            values = values.astype(str).map(_wrap)
        else:
            values = values.astype(str)
        cells.append(values.tolist())
    lines = (
        sum(max(1, text.count("<br>") + 1) for text in cells[columns.index("reasons")])
        if "reasons" in columns
        else len(alerts)
    )
    fig = go.Figure(
        go.Table(
            columnwidth=[widths.get(c, 1.0) for c in columns],
            header={"values": [headers[c] for c in columns], "align": "left"},
            cells={"values": cells, "align": "left", "height": 24},
        )
    )
    fig.update_layout(
        title=f"Anomaly alerts ({len(alerts)})",
        height=140 + 22 * int(lines) + 12 * len(alerts),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def alert_viewer(
    readings: pd.DataFrame, alerts: pd.DataFrame, threshold: float = 1.0
) -> go.Figure:
    """Plot each machine's anomaly score over time, with its alerts marked.

    ``threshold`` is the scorer's alarm level, drawn as a dotted line.
    """
    frame = readings.assign(ts=pd.to_datetime(readings["ts"], utc=True))
    fig = go.Figure()
    for machine, group in frame.groupby("machine_id", observed=True, sort=True):
        scores = group.set_index("ts")["anomaly_score"].resample("1min").max()
        fig.add_trace(
            go.Scatter(x=scores.index, y=scores, name=str(machine), mode="lines")
        )
    if not alerts.empty:
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(alerts["ts"], utc=True),
                y=alerts["score"],
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": "crimson"},
                name="alert",
                text=alerts["machine_id"],
            )
        )
    fig.add_hline(y=threshold, line_dash="dot", annotation_text="scorer threshold")
    fig.update_layout(
        title="Alert viewer: anomaly score (1 min maximum) and alerts",
        yaxis_title="anomaly score",
    )
    return fig


def audit_viewer(audit: pd.DataFrame) -> go.Figure:
    """Count the recorded AWS calls by role and IAM action, failures apart."""
    if audit.empty:
        return go.Figure().update_layout(title="IAM audit: no calls recorded")
    counts = (
        audit.assign(ok=audit["outcome"].eq("success"))
        .groupby(["role", "iam_action", "ok"])
        .size()
        .rename("calls")
        .reset_index()
    )
    fig = go.Figure()
    for ok, group in counts.groupby("ok"):
        fig.add_trace(
            go.Bar(
                y=group["role"] + " | " + group["iam_action"],
                x=group["calls"],
                orientation="h",
                name="succeeded" if ok else "failed",
                marker_color="steelblue" if ok else "crimson",
            )
        )
    fig.update_layout(
        barmode="stack",
        title=f"IAM audit: {len(audit):,} AWS calls by role and action",
        xaxis_title="calls",
        height=200 + 18 * counts[["role", "iam_action"]].drop_duplicates().shape[0],
        yaxis={"categoryorder": "total ascending"},
    )
    return fig


def cost_panel(cost: pd.DataFrame) -> go.Figure:
    """Show the month's estimated cost per price item, largest first."""
    frame = cost if "item" in cost else cost.rename_axis("item").reset_index()
    label = "item"
    frame = frame.sort_values("cost_month_usd")
    fig = go.Figure(
        go.Bar(
            y=frame[label].astype(str),
            x=frame["cost_month_usd"],
            orientation="h",
            text=frame["cost_month_usd"].map(lambda v: f"${v:,.2f}"),
        )
    )
    fig.update_layout(
        title=f"Estimated monthly cost: ${frame['cost_month_usd'].sum():,.2f}",
        xaxis_title="USD per month",
        height=160 + 24 * len(frame),
    )
    return fig


def budget_burn(
    slos: SLOSet, events: pd.DataFrame, window_s: float, step_s: float
) -> go.Figure:
    """Plot each SLO's burn rate over a sliding window, and its budget left.

    Parameters
    ----------
    slos : SLOSet
        The objectives.
    events : pandas.DataFrame
        SLI events.
    window_s, step_s : float
        Sliding window and step of the burn-rate curves.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=[f"burn rate over {window_s:g} s", "error budget left"],
    )
    for slo in slos.slos:
        series = burn_series(slo, events, window_s, step_s)
        fig.add_trace(
            go.Scatter(
                x=series["time"],
                y=series["burn_rate"].clip(lower=_BURN_FLOOR),
                name=slo.name,
            ),
            row=1,
            col=1,
        )
    for rule in slos.rules:
        fig.add_hline(
            y=rule.burn_rate,
            line_dash="dot",
            annotation_text=f"{rule.severity} {rule.burn_rate:g}",
            annotation_position="top left",
            row=1,
            col=1,
        )
    budget = error_budget(slos, events)
    fig.add_trace(
        go.Bar(
            x=budget["slo"],
            y=budget["budget_remaining"].clip(lower=-1.0),
            name="budget left",
            marker_color=np.where(budget["met"], "seagreen", "crimson"),
            text=budget["budget_remaining"].map(lambda v: f"{v:.0%}"),
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(
        type="log", title_text=f"burn rate (0 drawn at {_BURN_FLOOR:g})", row=1, col=1
    )
    fig.update_yaxes(title_text="share left (below 0: overspent)", row=1, col=2)
    fig.update_layout(title="SLO error budgets", height=420)
    return fig


def trace_waterfall(segments: pd.DataFrame, trace_id: str | None = None) -> go.Figure:
    """Draw one record's trace: a bar per stage from its start to its end.

    Parameters
    ----------
    segments : pandas.DataFrame
        From :meth:`~.canary.LivePipeline.trace_frame`.
    trace_id : str or None, default None
        The trace to draw; the first canary trace when None.

    Raises
    ------
    ValueError
        If there are no segments or no such trace.
    """
    if segments.empty:
        raise ValueError("segments must hold at least one traced segment, got none")
    if trace_id is None:
        canaries = segments[segments["canary"].astype(bool)]
        trace_id = str(
            (canaries if not canaries.empty else segments)["trace_id"].iloc[0]
        )
    trace = segments[segments["trace_id"] == trace_id]
    if trace.empty:
        raise ValueError(f"trace_id must be one of the traced ids, got {trace_id!r}")
    origin = float(trace["start"].min())
    labels = [
        f"  {s}" if pd.notna(p) else str(s)
        for s, p in zip(trace["segment"], trace["parent_id"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=(trace["seconds"] * 1000).clip(lower=0.05),
            base=(trace["start"] - origin) * 1000,
            orientation="h",
            text=(trace["seconds"] * 1000).map(lambda v: f"{v:.1f} ms"),
        )
    )
    first = trace.iloc[0]
    fig.update_layout(
        title=f"Trace {trace_id}: {first['machine_id']} seq {first['seq']}",
        xaxis_title="milliseconds since the reading was published",
        yaxis={"autorange": "reversed"},
        height=320,
    )
    return fig
