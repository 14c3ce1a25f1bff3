"""Execute every chapter with its fast parameters.

The fast parameters live in ``fast_parameters.yaml`` beside this file, one
mapping per notebook. Papermill injects them after the cell tagged
``parameters``; nbclient then runs the notebook, which, unlike papermill's own
runner, lets a cell tagged ``raises-exception`` raise (the book shows a few
deliberate errors) and fails on any other error. Each executed notebook is
written to ``.nbtest`` (beside ``notebooks/``, so that relative paths such as
``../data`` resolve alike), where ``make test`` then runs nbval in lax mode
over it.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FAST = yaml.safe_load((Path(__file__).with_name("fast_parameters.yaml")).read_text())
OUT = ROOT / ".nbtest"  # beside notebooks/, so relative paths still resolve


def _parameters_cell(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    return "".join(tagged[0]["source"])


def test_every_notebook_has_fast_parameters() -> None:
    """Check that each notebook is listed with fast parameters it really has."""
    assert NOTEBOOKS, "no notebooks found"
    assert sorted(FAST) == sorted(p.stem for p in NOTEBOOKS)
    for path in NOTEBOOKS:
        source = _parameters_cell(path)
        for name in FAST[path.stem] or {}:
            assert f"{name} =" in source, f"{path.name} has no parameter {name}"


def test_notebooks_are_committed_without_outputs() -> None:
    """Check that no notebook carries outputs or execution counts."""
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"], f"{path.name} has stored outputs"
                assert cell["execution_count"] is None, f"{path.name} was executed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_with_fast_parameters(path: Path) -> None:
    """Check that a chapter runs top to bottom with its fast parameters."""
    OUT.mkdir(parents=True, exist_ok=True)
    notebook = load_notebook_node(str(path))
    notebook = parameterize_notebook(notebook, FAST.get(path.stem) or {})
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(notebook, OUT / path.name)

    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "raises-exception" in tags:
            kinds = [output["output_type"] for output in cell["outputs"]]
            assert "error" in kinds, f"{path.name}: a deliberate error did not raise"
