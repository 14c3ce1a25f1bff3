"""Per-machine windowed features: what a model sees of a stream of readings.

A single reading says little: a vibration of 4 mm/s is normal for one
machine at full speed and alarming for another at idle. What gives a
failure away is how a signal moves over the last minutes: its level, its
spread and its trend. :func:`window_features` computes, for every reading
and every signal, the rolling mean, standard deviation and least-squares
slope over one or more time windows, each machine on its own history.

Training and the Lambda handler call this same function, so a model never
sees features computed one way in the book and another way in the cloud.
It works on any readings table with the schema's columns (``machine_id``,
``ts`` and the signals) and costs little for a small batch.

Besides the machine's own signals it adds two physics features: the
housing temperature rise over the hall's air (``temperature_rise_c``) and
that rise per kilowatt drawn (``heat_per_kw``): a machine whose cooling
fails runs hotter than its load explains, whatever the weather. The hall's
own signals (air temperature, humidity) are left out as features: they are
the same for every machine of a site, and a model that learns them learns
the weather of the week it was trained in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from ..core.schema import SIGNAL_NAMES

__all__ = [
    "DEFAULT_WINDOWS",
    "DERIVED",
    "HALL_SIGNALS",
    "STATISTICS",
    "base_signals",
    "feature_names",
    "window_features",
]

logger = logging.getLogger(__name__)

DEFAULT_WINDOWS: Final[tuple[str, ...]] = ("10min", "60min")
"""Rolling windows of the default features (pandas offset strings)."""

STATISTICS: Final = ("mean", "std", "slope")
"""Statistics computed over each window."""

DERIVED: Final = ("temperature_rise_c", "heat_per_kw")
"""Physics features computed from the signals before windowing."""

HALL_SIGNALS: Final = ("ambient_c", "humidity_pct")
"""Signals of the hall, not of the machine; they enter only through
``temperature_rise_c``, so a model cannot learn one site's weather."""


def base_signals() -> tuple[str, ...]:
    """Return the columns that are windowed: machine signals and derived ones."""
    machine = tuple(name for name in SIGNAL_NAMES if name not in HALL_SIGNALS)
    return (*machine, *DERIVED)


def feature_names(windows: Sequence[str] = DEFAULT_WINDOWS) -> list[str]:
    """Return the feature columns :func:`window_features` produces, in order.

    Parameters
    ----------
    windows : sequence of str, default ``DEFAULT_WINDOWS``
        Window lengths as pandas offsets, such as ``"10min"``.

    Returns
    -------
    list of str
        ``<signal>`` for each current value, then
        ``<signal>__<statistic>_<window>`` for each window and statistic.
    """
    names = list(base_signals())
    for window in windows:
        for signal in base_signals():
            names += [f"{signal}__{stat}_{window}" for stat in STATISTICS]
    return names


def _check(readings: pd.DataFrame, windows: Sequence[str]) -> None:
    missing = [c for c in ("machine_id", "ts", *SIGNAL_NAMES) if c not in readings]
    if missing:
        raise ValueError(
            f"readings must have the columns machine_id, ts and the signals; "
            f"missing {', '.join(missing)}"
        )
    if not windows:
        raise ValueError("windows must name at least one window, got none")
    for window in windows:
        try:
            length = pd.Timedelta(window)
        except ValueError:
            raise ValueError(
                f"windows must be pandas offsets such as '10min', got {window!r}"
            ) from None
        if length <= pd.Timedelta(0):
            raise ValueError(f"windows must be positive, got {window!r}")


def window_features(
    readings: pd.DataFrame, windows: Sequence[str] = DEFAULT_WINDOWS
) -> pd.DataFrame:
    """Compute windowed features for every reading, per machine.

    Each window ends at (and includes) the reading itself, so a feature
    never looks into the future. A missing signal value (a sensor dropout)
    is left out of every statistic and replaced, in the current-value
    column, by the mean of the shortest window.

    Parameters
    ----------
    readings : pandas.DataFrame
        Readings with ``machine_id``, ``ts`` (datetime) and the signal
        columns of :data:`~smartfactory_lib.core.schema.SIGNALS`, in any
        order; other columns are ignored.
    windows : sequence of str, default ``("10min", "60min")``
        Window lengths as pandas offsets.

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``readings``, columns
        :func:`feature_names`. A statistic that cannot be computed (a
        standard deviation or slope from one reading) is 0; a value with no
        known reading in the window at all stays NaN.

    Raises
    ------
    ValueError
        If a column is missing or a window is not a positive pandas offset.

    Notes
    -----
    The slope is the least-squares slope in units per hour, from rolling
    sums of time and value. A batch only knows its own history: the Lambda
    handler computes features over the batch it receives, so its first
    readings of a machine see shorter windows than training did.

    Examples
    --------
    >>> from smartfactory_lib.simulation import simulate
    >>> readings = simulate(2, 1, rate_hz=1 / 60).readings
    >>> window_features(readings, ["10min"]).shape
    (120, 28)
    """
    _check(readings, windows)
    columns = feature_names(windows)
    if readings.empty:
        return pd.DataFrame(columns=columns, index=readings.index, dtype="float64")

    # Sort each machine's readings by time; remember where each row came from.
    machine = readings["machine_id"].astype(str).to_numpy()
    ts = pd.to_datetime(readings["ts"], utc=True)
    order = np.lexsort((ts.to_numpy(), machine))
    values = {
        name: readings[name].to_numpy(dtype="float64")[order] for name in SIGNAL_NAMES
    }
    values["temperature_rise_c"] = values["temperature_c"] - values["ambient_c"]
    # Degrees of rise per kilowatt (at least 1 kW, so idle noise stays small):
    # how well the machine sheds its heat, whatever its load.
    values["heat_per_kw"] = values["temperature_rise_c"] / np.maximum(
        values["power_kw"], 1.0
    )
    signals = base_signals()
    frame = pd.DataFrame(values, columns=list(signals))
    frame.index = pd.DatetimeIndex(ts.to_numpy()[order])
    # Hours since the first reading: small numbers keep the slope sums exact.
    t_hours = (frame.index - frame.index[0]) / pd.Timedelta(hours=1)
    groups = machine[order]

    out: dict[str, np.ndarray] = {}
    for i, window in enumerate(windows):
        stats = _rolling(frame, np.asarray(t_hours, dtype="float64"), groups, window)
        for signal in signals:
            for stat in STATISTICS:
                out[f"{signal}__{stat}_{window}"] = stats[stat][signal]
        if i == 0:
            first_means = stats["mean"]

    result = pd.DataFrame(out)
    for signal in signals:
        current = frame[signal].to_numpy()
        result[signal] = np.where(np.isnan(current), first_means[signal], current)
    result = result[columns]

    # Back to the caller's row order and index.
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    result = result.iloc[inverse]
    result.index = readings.index
    logger.debug(
        "Computed %d features for %d readings of %d machines",
        len(columns),
        len(result),
        len(set(groups)),
    )
    return result


def _rolling(
    frame: pd.DataFrame, t_hours: np.ndarray, groups: np.ndarray, window: str
) -> dict[str, dict[str, np.ndarray]]:
    """Rolling mean, std and slope of every column, each machine on its own."""
    present = frame.notna()
    tx = frame.mul(t_hours, axis=0)
    t = present.mul(t_hours, axis=0)
    tt = present.mul(t_hours**2, axis=0)
    parts = {
        "n": present.astype("float64"),
        "x": frame,
        "xx": frame**2,
        "t": t,
        "tt": tt,
        "tx": tx,
    }
    sums: dict[str, pd.DataFrame] = {}
    for key, part in parts.items():
        sums[key] = (
            part.groupby(groups, sort=False)
            .rolling(window, min_periods=1)
            .sum()
            .droplevel(0)
        )
    n = sums["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums["x"].to_numpy() / n
        var = np.clip(sums["xx"].to_numpy() / n - mean**2, 0.0, None)
        std = np.sqrt(var * n / np.maximum(n - 1, 1))
        t_mean = sums["t"].to_numpy() / n
        t_var = sums["tt"].to_numpy() / n - t_mean**2
        cov = sums["tx"].to_numpy() / n - t_mean * mean
        slope = np.where(t_var > 1e-12, cov / t_var, 0.0)
    std = np.where(n >= 2, std, 0.0)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    names = list(frame.columns)
    return {
        "mean": dict(zip(names, mean.T, strict=True)),
        "std": dict(zip(names, std.T, strict=True)),
        "slope": dict(zip(names, slope.T, strict=True)),
    }
