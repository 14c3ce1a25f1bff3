"""Write and read a simulation run as a folder of Parquet files.

A run folder holds ``readings.parquet`` (in delivery order, with labels and,
when faults were injected, the ``fault`` and ``malformed`` columns),
``failures.parquet`` (ground-truth failure events), ``layout.parquet`` (one
row per machine), ``faults.parquet`` (the fault log, possibly empty) and
``run.json`` (the settings and counts of the run). Later chapters and the
``smartfactory`` commands read runs back with :func:`load_run`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Run", "load_run", "save_run"]

logger = logging.getLogger(__name__)

_TABLES = ("readings", "failures", "layout", "faults")


@dataclass(frozen=True)
class Run:
    """A stored simulation run.

    Attributes
    ----------
    readings, failures, layout, faults : pandas.DataFrame
        The tables described in the module docstring.
    meta : dict
        The settings and counts from ``run.json``.
    """

    readings: pd.DataFrame
    failures: pd.DataFrame
    layout: pd.DataFrame
    faults: pd.DataFrame
    meta: dict[str, Any]


def save_run(
    out: str | Path,
    *,
    readings: pd.DataFrame,
    failures: pd.DataFrame,
    layout: pd.DataFrame,
    faults: pd.DataFrame | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a run folder and return its path (created if missing).

    Raises
    ------
    NotADirectoryError
        If ``out`` exists and is a file.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"out must be a directory, got the file {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "readings": readings,
        "failures": failures,
        "layout": layout,
        "faults": faults if faults is not None else pd.DataFrame(),
    }
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "run.json").write_text(json.dumps(meta or {}, indent=2, default=str))
    logger.info("Wrote run of %d readings to %s", len(readings), folder)
    return folder


def load_run(folder: str | Path) -> Run:
    """Read a run folder written by :func:`save_run`.

    Raises
    ------
    FileNotFoundError
        Naming the first missing file.
    """
    path = Path(folder)
    missing = [f"{n}.parquet" for n in _TABLES if not (path / f"{n}.parquet").exists()]
    if missing or not (path / "run.json").exists():
        first = missing[0] if missing else "run.json"
        raise FileNotFoundError(f"{path} is not a run folder: {first} is missing")
    tables = {name: pd.read_parquet(path / f"{name}.parquet") for name in _TABLES}
    meta = json.loads((path / "run.json").read_text())
    return Run(meta=meta, **tables)
