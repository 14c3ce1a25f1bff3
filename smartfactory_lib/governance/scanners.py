"""Security scanners run as subprocesses: bandit, detect-secrets and checkov.

Each function runs one tool as it would run on the command line, reads its
JSON report and returns the findings that fail the gate:

* :func:`run_bandit`: bandit over the library; medium and high severity fail.
* :func:`run_detect_secrets`: detect-secrets over the repository's text files
  (virtual environments, build output, data and the deliberately broken test
  fixtures excluded); any potential secret fails. A line that must hold a
  look-alike (moto's fake credentials) carries ``pragma: allowlist secret``.
* :func:`run_checkov`: checkov over ``terraform/``, offline
  (``--skip-download``), from its own virtual environment, because in the
  main environment it would downgrade several pinned packages; any failed
  check fails. Skips are written next to the resource with their reason.

bandit and detect-secrets are installed in the main environment and run with
the current interpreter (fixed argument lists, no shell); checkov is looked
up in ``$CHECKOV``, then ``.venv-checkov/bin/checkov`` under the repository;
when absent the result says so instead of passing silently.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess  # nosec B404
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .iam import Finding

__all__ = [
    "SECRETS_EXCLUDE",
    "ScanResult",
    "checkov_path",
    "run_bandit",
    "run_checkov",
    "run_detect_secrets",
]

logger = logging.getLogger(__name__)

_REPOSITORY: Final = Path(__file__).resolve().parents[2]

SECRETS_EXCLUDE: Final = (
    r"(^|/)(\.git|\.venv[^/]*|_build|\.mypy_cache|\.ruff_cache|\.pytest_cache"
    r"|\.hypothesis|\.ipynb_checkpoints|\.nbtest|build|data"
    r"|smartfactory_lib\.egg-info)/"
    r"|^tests/security/fixtures/|\.(parquet|onnx|zip|gz|png|svg|js|css)$"
)
"""Paths detect-secrets does not read (a regular expression)."""


@dataclass
class ScanResult:
    """What one scanner reported.

    Attributes
    ----------
    tool : str
        ``bandit``, ``detect-secrets`` or ``checkov``.
    ran : bool
        False when the tool is not installed (see ``note``).
    findings : list of Finding
        Findings that fail the gate.
    counts : dict
        Tool-specific totals, such as checks passed and skipped.
    note : str
        Why the tool did not run, or the command that ran.
    """

    tool: str
    ran: bool
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


def _run(
    command: list[str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    logger.info("Running %s", " ".join(command))
    return subprocess.run(  # nosec B603
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def _json(output: str, tool: str) -> Any:
    start = min((i for i in (output.find("{"), output.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError(f"{tool} must print a JSON report, got {output[:200]!r}")
    return json.loads(output[start:])


def run_bandit(root: Path | str, target: str = "smartfactory_lib") -> ScanResult:
    """Run bandit over ``target``; medium and high severity findings fail.

    Parameters
    ----------
    root : pathlib.Path or str
        Repository root.
    target : str, default "smartfactory_lib"
        Folder to scan, relative to ``root``.

    Returns
    -------
    ScanResult
        ``counts`` holds ``files``, ``low``, ``medium`` and ``high``.
    """
    root = Path(root)
    if not (root / target).exists():
        raise FileNotFoundError(
            f"bandit needs the folder {root / target}, which does not exist"
        )
    command = [sys.executable, "-m", "bandit", "-r", target, "-f", "json", "-q"]
    report = _json(_run(command, root, 600).stdout, "bandit")
    counts = {
        "files": len(report.get("metrics", {})) - 1,
        "low": 0,
        "medium": 0,
        "high": 0,
    }
    findings = []
    for issue in report.get("results", []):
        severity = issue["issue_severity"].lower()
        counts[severity] = counts.get(severity, 0) + 1
        if severity in ("medium", "high"):
            findings.append(
                Finding(
                    "bandit",
                    f"{issue['filename']}:{issue['line_number']}",
                    f"{issue['test_id']} ({severity}): {issue['issue_text']}",
                )
            )
    return ScanResult("bandit", True, findings, counts, " ".join(command[1:]))


def run_detect_secrets(
    root: Path | str, paths: list[str] | None = None, exclude: str = SECRETS_EXCLUDE
) -> ScanResult:
    """Run detect-secrets; every potential secret fails.

    Parameters
    ----------
    root : pathlib.Path or str
        Repository root (the scan's working directory).
    paths : list of str or None, default None
        Files or folders to scan; every file under ``root`` when None.
    exclude : str, default SECRETS_EXCLUDE
        Regular expression of paths not to read.

    Returns
    -------
    ScanResult
        ``counts`` holds ``files_flagged`` (files with findings) and ``secrets``.
    """
    root = Path(root)
    command = [sys.executable, "-m", "detect_secrets", "scan", "--all-files"]
    if exclude:
        command += ["--exclude-files", exclude]
    command += paths or ["."]
    report = _json(_run(command, root, 600).stdout, "detect-secrets")
    findings = [
        Finding(
            "detect-secrets",
            f"{path}:{secret['line_number']}",
            f"potential secret ({secret['type']}); move it to Secrets Manager "
            "or mark a harmless look-alike with 'pragma: allowlist secret'",
        )
        for path, secrets in sorted(report.get("results", {}).items())
        for secret in secrets
    ]
    counts = {"files_flagged": len(report.get("results", {})), "secrets": len(findings)}
    return ScanResult("detect-secrets", True, findings, counts, " ".join(command[1:]))


def checkov_path(root: Path | str) -> Path | None:
    """Return checkov: ``$CHECKOV``, else ``.venv-checkov`` of ``root`` or here."""
    candidates = [
        os.environ.get("CHECKOV", ""),
        str(Path(root) / ".venv-checkov/bin/checkov"),
        str(_REPOSITORY / ".venv-checkov/bin/checkov"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def run_checkov(root: Path | str, directory: str = "terraform") -> ScanResult:
    """Run checkov offline over ``directory``; every failed check fails.

    Parameters
    ----------
    root : pathlib.Path or str
        Repository root.
    directory : str, default "terraform"
        Folder of Terraform code, relative to ``root``.

    Returns
    -------
    ScanResult
        ``ran`` is False when checkov is not installed (create its virtual
        environment with ``scripts/checkov.sh``); ``counts`` holds
        ``passed``, ``failed`` and ``skipped``.
    """
    root = Path(root)
    executable = checkov_path(root)
    if executable is None:
        return ScanResult(
            "checkov",
            False,
            note="checkov is not installed: "
            "run scripts/checkov.sh to create .venv-checkov",
        )
    command = [
        str(executable),
        "-d",
        directory,
        "--framework",
        "terraform",
        "--skip-download",
        "--quiet",
        "--compact",
        "-o",
        "json",
    ]
    report = _json(_run(command, root, 900).stdout, "checkov")
    reports = report if isinstance(report, list) else [report]
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    findings = []
    for part in reports:
        summary = part.get("summary", {})
        for key in counts:
            counts[key] += int(summary.get(key, 0))
        for check in part.get("results", {}).get("failed_checks", []):
            findings.append(
                Finding(
                    "checkov",
                    f"{check.get('file_path', '')}:{check.get('resource', '')}",
                    f"{check['check_id']}: {check.get('check_name', '')}",
                )
            )
    return ScanResult("checkov", True, findings, counts, " ".join(command[1:]))
