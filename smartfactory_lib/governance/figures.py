"""Figures of the governance chapters: checks, workflows, matrix, zones, trail.

Each function takes the table a governance function returns and gives back a
plotly figure; the chapters only call them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from .checks import CheckResult

__all__ = [
    "checks_figure",
    "matrix_figure",
    "trail_figure",
    "workflow_figure",
    "zones_figure",
]

_STATUS_COLORS = {"passed": "#2e7d32", "failed": "#c62828", "not run": "#9e9e9e"}


def checks_figure(results: Sequence[CheckResult]) -> go.Figure:
    """Bar per check: how long it took, coloured by its status."""
    frame = pd.DataFrame(
        {
            "check": [r.name for r in results],
            "seconds": [r.seconds for r in results],
            "status": [r.status for r in results],
            "findings": [len(r.findings) for r in results],
        }
    )
    figure = px.bar(
        frame,
        x="seconds",
        y="check",
        color="status",
        orientation="h",
        color_discrete_map=_STATUS_COLORS,
        hover_data=["findings"],
        text="findings",
        title="Governance and security gates: time taken and findings",
    )
    figure.update_layout(
        height=340,
        yaxis={"categoryorder": "array", "categoryarray": frame["check"][::-1]},
    )
    return figure


def workflow_figure(jobs: pd.DataFrame) -> go.Figure:
    """Draw each workflow's jobs as boxes in dependency order, arrows for needs."""
    figure = go.Figure()
    positions: dict[tuple[str, str], tuple[float, float]] = {}
    lanes: dict[str, float] = {}
    top = 0.0
    for workflow, group in jobs.groupby("workflow", sort=False):
        depth: dict[str, int] = {}
        for _ in range(len(group)):
            for row in group.itertuples():
                depth[row.job] = 1 + max(
                    (depth.get(n, 0) for n in row.needs), default=-1
                )
        slots: dict[int, int] = {}
        for row in group.itertuples():
            level = depth[row.job]
            slots[level] = slots.get(level, 0) + 1
            positions[(str(workflow), row.job)] = (
                level * 2.2,
                top - (slots[level] - 1),
            )
        lanes[str(workflow)] = top
        top -= max(slots.values()) + 0.6
    for row in jobs.itertuples():
        x, y = positions[(row.workflow, row.job)]
        for need in row.needs:
            x0, y0 = positions[(row.workflow, need)]
            figure.add_annotation(
                x=x - 0.8,
                y=y,
                ax=x0 + 0.8,
                ay=y0,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=3,
                arrowcolor="#555",
                text="",
            )
        colour = "#f6e7db" if row.environment else "#dbe9f6"
        figure.add_shape(
            type="rect",
            x0=x - 0.8,
            x1=x + 0.8,
            y0=y - 0.35,
            y1=y + 0.35,
            line={"color": "#1f4e79"},
            fillcolor=colour,
        )
        label = f"<b>{row.job}</b>"
        if row.environment:
            label += f"<br><i>{row.environment}</i>"
        figure.add_annotation(x=x, y=y, text=label, showarrow=False, font={"size": 10})
    for workflow, lane in lanes.items():
        figure.add_annotation(
            x=-1.0, y=lane, text=f"<b>{workflow}</b>", showarrow=False, xanchor="right"
        )
    xs = [p[0] for p in positions.values()]
    figure.update_xaxes(visible=False, range=[-2.8, max(xs) + 1.0])
    figure.update_yaxes(visible=False, range=[top + 0.1, 0.6])
    figure.update_layout(
        height=int(80 + 55 * -top),
        title="Workflows: jobs in dependency order (orange: protected environment)",
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return figure


def matrix_figure(matrix: pd.DataFrame) -> go.Figure:
    """Heat map of granted actions per role and service."""
    counts = (
        matrix.assign(n=matrix["actions"].map(len) * matrix["resources"].map(len))
        .pivot_table(index="role", columns="service", values="n", aggfunc="sum")
        .fillna(0)
    )
    figure = px.imshow(
        counts,
        text_auto=True,
        color_continuous_scale="Blues",
        aspect="auto",
        title="Grants (action x resource) per role and service",
        labels={"color": "grants"},
    )
    figure.update_layout(height=380)
    return figure


def zones_figure(zones: pd.DataFrame) -> go.Figure:
    """Sunburst: zone, then key, then the stores it encrypts."""
    frame = zones.assign(stores=1)
    figure = px.sunburst(
        frame,
        path=["zone", "key", "store"],
        values="stores",
        color="zone",
        color_discrete_map={"data": "#4c78a8", "audit": "#f58518"},
        title="Encryption zones: which key protects which store",
    )
    figure.update_layout(height=520)
    return figure


def trail_figure(trail: pd.DataFrame, **layout: Any) -> go.Figure:
    """Timeline of the recorded calls: one marker per call, a row per role."""
    frame = trail.assign(
        call=trail["service"] + ":" + trail["action"],
        ok=trail["outcome"].eq("success").map({True: "success", False: "error"}),
    )
    figure = px.scatter(
        frame,
        x="time",
        y="role",
        color="service",
        symbol="ok",
        hover_data=["call", "resource", "outcome", "caller"],
        title="Audit trail: every AWS call of the run, by the role that made it",
    )
    figure.update_traces(marker={"size": 7, "opacity": 0.7})
    figure.update_layout(height=360, **layout)
    return figure
