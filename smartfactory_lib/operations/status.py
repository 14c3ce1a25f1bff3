"""The build's own status: where the book ran and how long each chapter took.

The book executes its notebooks through jupyter-cache, which records the
seconds each execution took. :func:`notebook_timings` reads those records so
that the status page reports real figures from the build that produced it,
and :func:`environment_table` describes the machine and the packages.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

__all__ = ["PACKAGES", "environment_table", "notebook_timings"]

logger = logging.getLogger(__name__)

PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "shap",
    "onnxruntime",
    "plotly",
    "paho-mqtt",
    "boto3",
    "moto",
    "aws-lambda-powertools",
    "duckdb",
    "jupyter-book",
)
"""Packages whose versions the status page lists."""


def environment_table() -> pd.DataFrame:
    """Return the interpreter, platform, CPU, memory and package versions."""
    rows = [
        ("python", sys.version.split()[0]),
        ("platform", platform.platform()),
        ("processor", platform.machine()),
        ("cpus", str(os.cpu_count())),
    ]
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        rows.append(("memory", f"{pages / 2**30:.1f} GiB"))
    except (ValueError, OSError, AttributeError):
        logger.info("Physical memory is not reported on this platform")
    for name in PACKAGES:
        try:
            rows.append((name, version(name)))
        except PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["component", "version"])


def notebook_timings(cache_dir: str | Path) -> pd.DataFrame:
    """Return each notebook's latest execution time from a jupyter-cache.

    Parameters
    ----------
    cache_dir : str or Path
        The cache the book build uses (``_build/.jupyter_cache``).

    Returns
    -------
    pandas.DataFrame
        One row per notebook: ``notebook``, ``executed_at`` (UTC) and
        ``seconds``, sorted by notebook. Empty when there is no cache yet,
        for example in a test run that executes notebooks without the book.
    """
    path = Path(cache_dir)
    columns = ["notebook", "executed_at", "seconds"]
    if not (path / "global.db").exists():
        logger.info("No jupyter-cache at %s; no timings to report", path)
        return pd.DataFrame(columns=columns)

    from jupyter_cache import get_cache

    cache = get_cache(path)
    latest: dict[str, tuple[pd.Timestamp, float]] = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is None:
            continue
        created = pd.Timestamp(record.created, tz="UTC")
        name = Path(record.uri).stem
        if name not in latest or created > latest[name][0]:
            latest[name] = (created, float(seconds))
    rows = [(name, at, seconds) for name, (at, seconds) in sorted(latest.items())]
    return pd.DataFrame(rows, columns=columns)
