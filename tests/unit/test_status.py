"""Tests of the build status helpers: execution times and environment."""

from __future__ import annotations

from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from smartfactory_lib.operations.status import (
    PACKAGES,
    environment_table,
    notebook_timings,
)


def _cache_execution(cache_dir: Path, name: str, source: str, seconds: float) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cache = get_cache(cache_dir)
    bundle = CacheBundleIn(
        notebook, f"/book/{name}.ipynb", data={"execution_seconds": seconds}
    )
    cache.cache_notebook_bundle(bundle, check_validity=False)


def test_notebook_timings_reads_the_latest_execution(tmp_path: Path) -> None:
    """Check each notebook reports the seconds of its most recent execution."""
    _cache_execution(tmp_path, "01_simulation", "x = 1", 4.0)
    _cache_execution(tmp_path, "02_faults", "y = 2", 7.5)
    _cache_execution(tmp_path, "01_simulation", "x = 3", 2.5)

    timings = notebook_timings(tmp_path)

    assert timings["notebook"].tolist() == ["01_simulation", "02_faults"]
    assert timings["seconds"].tolist() == [2.5, 7.5]


def test_notebook_timings_without_a_cache_is_empty(tmp_path: Path) -> None:
    """Check that a run without a book cache reports no timings, not an error."""
    timings = notebook_timings(tmp_path / "missing")

    assert timings.empty
    assert list(timings.columns) == ["notebook", "executed_at", "seconds"]


def test_environment_table_lists_every_package() -> None:
    """Check the environment names the interpreter and each listed package."""
    table = environment_table().set_index("component")["version"]

    assert table["python"].startswith("3.")
    assert set(PACKAGES) <= set(table.index)
    assert table["numpy"] != "not installed"
