"""Figures of simulated readings for the book's chapters.

Each function takes a table of readings (and, where needed, the failure
events) and returns a plotly figure; none of them computes anything that is
not also available as a table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..core.schema import SIGNALS

__all__ = ["failure_context", "machine_day_figure", "precursor_figure"]

_UNITS = {s.name: s.unit for s in SIGNALS}


def failure_context(
    readings: pd.DataFrame,
    failures: pd.DataFrame,
    mode: str,
    hours_before: float = 12.0,
    hours_after: float = 2.0,
) -> pd.DataFrame | None:
    """Return the readings of one machine around its first failure of ``mode``.

    Parameters
    ----------
    readings, failures : pandas.DataFrame
        A simulation's readings and failure events.
    mode : str
        A failure mode such as ``"bearing_wear"``.
    hours_before, hours_after : float
        Window around the failure.

    Returns
    -------
    pandas.DataFrame or None
        The readings with an added column ``hours_to_failure`` (negative
        before the failure), or None when the run has no such failure.
    """
    events = failures[failures["failure_mode"] == mode]
    if events.empty:
        return None
    event = events.iloc[0]
    start = event["failure"] - pd.Timedelta(hours=hours_before)
    end = event["failure"] + pd.Timedelta(hours=hours_after)
    mine = readings[
        (readings["machine_id"] == event["machine_id"])
        & (readings["ts"] >= start)
        & (readings["ts"] < end)
    ]
    hours = (mine["ts"] - event["failure"]).dt.total_seconds() / 3600.0
    return mine.assign(hours_to_failure=hours)


def machine_day_figure(readings: pd.DataFrame, machine_id: str) -> Any:
    """Plot one machine's coupled signals over time, one panel per signal."""
    from plotly.subplots import make_subplots

    names = ("load_pct", "power_kw", "temperature_c", "ambient_c", "vibration_mm_s")
    mine = readings[readings["machine_id"] == machine_id]
    figure = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.03
    )
    for row, name in enumerate(names, start=1):
        figure.add_scatter(
            x=mine["ts"], y=mine[name], mode="lines", name=name, row=row, col=1
        )
        figure.update_yaxes(title_text=_UNITS[name], row=row, col=1)
    figure.update_layout(
        height=620,
        title=f"Machine {machine_id}: load drives power, power drives heat",
        legend={"orientation": "h", "y": -0.08},
    )
    return figure


def precursor_figure(contexts: dict[str, pd.DataFrame | None]) -> Any:
    """Plot each failure mode's telltale signal in the hours before failure.

    Parameters
    ----------
    contexts : dict
        Failure mode to the output of :func:`failure_context` (None skips it).
    """
    from plotly.subplots import make_subplots

    signal = {
        "bearing_wear": ("vibration_mm_s", "vibration (mm/s)"),
        "overheating": ("temperature_c", "housing temperature (°C)"),
        "electrical": ("power_kw", "power (kW)"),
    }
    present = {mode: frame for mode, frame in contexts.items() if frame is not None}
    figure = make_subplots(
        rows=1, cols=max(len(present), 1), subplot_titles=list(present) or ["none"]
    )
    for col, (mode, frame) in enumerate(present.items(), start=1):
        name, label = signal[mode]
        figure.add_scatter(
            x=frame["hours_to_failure"],
            y=frame[name],
            mode="lines",
            name=mode,
            row=1,
            col=col,
        )
        figure.add_vline(x=0, line_dash="dash", line_color="firebrick", row=1, col=col)
        figure.update_yaxes(title_text=label, row=1, col=col)
        figure.update_xaxes(title_text="hours to failure", row=1, col=col)
    figure.update_layout(
        height=380, showlegend=False, title="What each failure mode looks like before"
    )
    return figure
