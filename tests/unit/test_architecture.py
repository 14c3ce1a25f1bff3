"""Tests of the library's layering: each stage imports only earlier stages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "smartfactory_lib"
STAGES = (
    "core",
    "simulation",
    "faults",
    "transport",
    "cloud",
    "ml",
    "operations",
    "governance",
)
TOP = ("cli", "bench", "notebook")
ALLOWED = {stage: set(STAGES[:i]) for i, stage in enumerate(STAGES)}
# Operations and governance look at the whole pipeline; they may read each other.
ALLOWED["operations"].add("governance")
ALLOWED["governance"].add("operations")
HANDLER_FORBIDDEN = (
    "paho",
    "amqtt",
    "fastapi",
    "uvicorn",
    "dash",
    "flask",
    "starlette",
)


def _imports(path: Path) -> set[str]:
    """Return the smartfactory_lib sub-packages a module imports."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    parts = path.relative_to(PACKAGE).parts
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                target = list(base) + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("smartfactory_lib"):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add(target[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("smartfactory_lib."):
                    found.add(alias.name.split(".")[1])
    return found


def _modules(stage: str) -> list[Path]:
    return sorted((PACKAGE / stage).rglob("*.py"))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_imports_only_earlier_stages(stage: str) -> None:
    """Check a stage depends only on the core and the stages before it."""
    for path in _modules(stage):
        used = _imports(path) & set(STAGES + TOP)
        used.discard(stage)
        assert used <= ALLOWED[stage], f"{path.relative_to(PACKAGE)} imports {used}"


def test_library_never_imports_cli_or_notebook_helpers() -> None:
    """Check no stage imports the CLI, the benchmarks or the notebook helpers."""
    for stage in STAGES:
        for path in _modules(stage):
            assert not _imports(path) & set(TOP), path


def test_lambda_handler_needs_no_broker_or_web_server() -> None:
    """Check that importing the Lambda handler loads no MQTT or web framework."""
    handler = PACKAGE / "cloud" / "handler.py"
    if not handler.exists():
        pytest.skip("the cloud stage has no Lambda handler in this checkout")
    probe = (
        "import sys, smartfactory_lib.cloud.handler;"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()

    assert not set(loaded) & set(HANDLER_FORBIDDEN)
    transport = subprocess.run(
        [sys.executable, "-c", probe.replace("m.split('.')[0]", "m")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [m for m in transport if m.startswith("smartfactory_lib.transport")]


def test_library_does_not_print() -> None:
    """Check the library logs instead of printing (the CLI presents results)."""
    for stage in STAGES:
        for path in _modules(stage):
            tree = ast.parse(path.read_text())
            calls = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id == "print"
            ]
            assert not calls, f"{path.relative_to(PACKAGE)} calls print"


def test_only_the_cli_imports_the_dashboard() -> None:
    """Check the live dashboard stays a top layer that no library module uses."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "cli" or path.name == "dashboard.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.endswith("dashboard"), path
                if node.module.endswith("operations"):
                    names = {alias.name for alias in node.names}
                    assert "dashboard" not in names, path
