"""Figures of injected faults for the book's chapters."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .injector import FAULT_TYPES, FaultedBatch

__all__ = ["fault_trace_figure", "rate_table"]


def rate_table(
    batch: FaultedBatch, rates: dict[str, float], n_input: int
) -> pd.DataFrame:
    """Compare configured and observed fault rates, one row per fault type.

    Parameters
    ----------
    batch : FaultedBatch
        The result of :func:`~.injector.inject`.
    rates : dict
        The configured rate per fault type.
    n_input : int
        Number of readings before injection.
    """
    counts = batch.counts()
    table = pd.DataFrame(
        {
            "fault_type": list(FAULT_TYPES),
            "configured": [rates.get(name, 0.0) for name in FAULT_TYPES],
            "readings": [counts[name] for name in FAULT_TYPES],
        }
    )
    table["observed"] = table["readings"] / n_input
    table["difference"] = table["observed"] - table["configured"]
    return table


def fault_trace_figure(batch: FaultedBatch, machine_id: str, signal: str) -> Any:
    """Plot one signal of one machine with its injected faults marked."""
    import plotly.graph_objects as go

    rows = batch.readings
    mine = rows[rows["machine_id"] == machine_id].sort_values("seq")
    figure = go.Figure()
    figure.add_scatter(x=mine["seq"], y=mine[signal], mode="lines", name=signal)
    log = batch.log
    marks = log[(log["machine_id"] == machine_id) & (log["field"] == signal)]
    for fault_type, group in marks.groupby("fault_type", observed=True):
        values = rows.loc[group["position"], signal]
        figure.add_scatter(
            x=group["seq"],
            y=values.fillna(mine[signal].median()),
            mode="markers",
            name=str(fault_type),
            marker={"size": 7, "symbol": "x" if fault_type == "dropout" else "circle"},
        )
    figure.update_layout(
        height=380,
        title=f"{signal} of {machine_id}, faults marked (dropouts drawn at the median)",
        xaxis_title="sequence number",
        yaxis_title=signal,
    )
    return figure
