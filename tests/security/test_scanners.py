"""Security scanners: bandit, detect-secrets and checkov, on real and broken code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from smartfactory_lib.governance.scanners import (
    checkov_path,
    run_bandit,
    run_checkov,
    run_detect_secrets,
)

ROOT = Path(__file__).resolve().parents[2]
NO_CHECKOV = checkov_path(ROOT) is None
CHECKOV_REASON = "checkov is not installed; scripts/checkov.sh creates .venv-checkov"


def test_bandit_finds_shell_injection_in_broken_code(broken_repo: Path) -> None:
    """Check that bandit's high-severity finding fails the gate."""
    result = run_bandit(broken_repo, "insecure")

    assert result.ran
    assert any("B602" in f.message and "(high)" in f.message for f in result.findings)


def test_bandit_reports_the_library(repo: Path) -> None:
    """Check that bandit reads the whole library and counts by severity."""
    result = run_bandit(repo)

    assert result.counts["files"] > 20
    assert {"low", "medium", "high"} <= set(result.counts)
    assert result.counts["medium"] == result.counts["high"] == 0
    assert result.findings == []  # medium and high findings fail the gate


def test_bandit_refuses_a_missing_folder(tmp_path: Path) -> None:
    """Check that scanning a folder that does not exist is an error, not a pass."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        run_bandit(tmp_path, "nothing_here")


def test_detect_secrets_finds_the_leaked_password(broken_repo: Path) -> None:
    """Check that a committed password fails the gate with its file and line."""
    result = run_detect_secrets(broken_repo)

    assert [f.location for f in result.findings] == ["leaked_config.py:3"]


def test_detect_secrets_finds_nothing_in_the_repository(repo: Path) -> None:
    """Check that the whole repository, notebooks and tests included, is clean."""
    result = run_detect_secrets(repo)

    assert result.findings == []
    assert result.counts["files_flagged"] == 0


@pytest.mark.skipif(NO_CHECKOV, reason=CHECKOV_REASON)
def test_checkov_passes_on_the_terraform(repo: Path) -> None:
    """Check that checkov reports no failed check on terraform/."""
    result = run_checkov(repo)

    assert result.ran
    assert result.findings == []
    assert result.counts["passed"] > 200


@pytest.mark.skipif(NO_CHECKOV, reason=CHECKOV_REASON)
def test_checkov_fails_on_the_broken_terraform(broken_repo: Path) -> None:
    """Check that checkov fails the unencrypted queue of the broken module."""
    result = run_checkov(broken_repo)

    assert any(
        "CKV_AWS_27" in f.message and "aws_sqs_queue.plain" in f.location
        for f in result.findings
    )


def test_checkov_skips_carry_a_reason(repo: Path) -> None:
    """Check that every inline checkov skip says why."""
    skips = [
        line.strip()
        for path in (repo / "terraform").rglob("*.tf")
        for line in path.read_text().splitlines()
        if "checkov:skip=" in line
    ]

    assert skips
    for skip in skips:
        check, _, reason = skip.split("checkov:skip=", 1)[1].partition(":")
        assert check.startswith("CKV"), skip
        assert len(reason.split()) >= 5, f"skip without a real reason: {skip}"


def test_checkov_script_is_offline(repo: Path) -> None:
    """Check that the checkov script pins the version and never downloads checks."""
    script = (repo / "scripts" / "checkov.sh").read_text()

    assert "checkov==3.3.30" in script
    assert "--skip-download" in script
    completed = subprocess.run(
        ["bash", "-n", str(repo / "scripts" / "checkov.sh")], check=False
    )
    assert completed.returncode == 0


def test_workflows_are_valid_yaml_with_pinned_actions(repo: Path) -> None:
    """Check that every workflow parses and pins its actions to a commit."""
    workflows = sorted((repo / ".github" / "workflows").glob("*.yml"))
    assert {p.name for p in workflows} >= {"ci.yml", "deploy.yml", "linkcheck.yml"}
    for path in workflows:
        document = yaml.safe_load(path.read_text())
        assert document["permissions"] == {}, f"{path.name} must start from no rights"
        for job in document["jobs"].values():
            for step in job.get("steps", []):
                uses = step.get("uses")
                if uses:
                    ref = uses.split("@", 1)[1]
                    assert len(ref) == 40, (
                        f"{path.name}: {uses} is not pinned to a commit"
                    )
