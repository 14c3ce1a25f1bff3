"""``smartfactory check``: the report and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartfactory_lib.cli import main

STATIC = [
    "--only",
    "terraform",
    "--only",
    "names",
    "--only",
    "iam",
    "--only",
    "matrix",
    "--only",
    "encryption",
]


def test_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    """Check that the static checks pass on the repository and exit 0."""
    code = main(["check", *STATIC])

    out = capsys.readouterr().out
    assert code == 0
    assert "5 passed, 0 failed" in out
    assert "PASS  matrix" in out


def test_check_fails_on_the_broken_repository(
    broken_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that any violation gives exit code 1 and a JSON report of it."""
    code = main(["check", *STATIC, "--root", str(broken_repo), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["passed"] is False
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "terraform": "passed",
        "names": "failed",
        "iam": "failed",
        "matrix": "failed",
        "encryption": "failed",
    }


def test_check_rejects_an_unknown_check(capsys: pytest.CaptureFixture[str]) -> None:
    """Check that an unknown check name is an argument error (exit 2)."""
    with pytest.raises(SystemExit) as exc:
        main(["check", "--only", "nonsense"])

    assert exc.value.code == 2
    assert "invalid choice: 'nonsense'" in capsys.readouterr().err
