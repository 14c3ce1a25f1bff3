"""The Lambda package: built by the script, importable, without the broker or CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_package_imports_the_handler_alone(repo: Path, tmp_path: Path) -> None:
    """Check that the built folder holds the handler and none of transport or cli."""
    out = tmp_path / "lambda"
    subprocess.run(
        ["bash", str(repo / "scripts" / "build_lambda.sh"), str(out)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import smartfactory_lib.cloud.handler as h;"
        "print(h.__file__);"
        "print(sorted(m for m in sys.modules if m.startswith('smartfactory_lib.')))"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe, str(out)],
        check=True,
        capture_output=True,
        text=True,
    )

    path, modules = result.stdout.splitlines()[:2]
    assert path.startswith(str(out))
    assert "transport" not in modules and "cli" not in modules and "paho" not in modules
    assert not (out / "smartfactory_lib" / "transport").exists()
    build = json.loads((out / "BUILD.json").read_text())
    assert set(build) == {"commit", "built_at"}
