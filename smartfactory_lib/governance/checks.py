"""Every governance and security check of the repository, in one call.

:func:`run_checks` runs, in order: Terraform parsing, the resource-name
agreement between :class:`~smartfactory_lib.core.config.Settings` and the
example environment, the IAM rules, the scope-matrix cross-check, the
encryption zones, then the scanners (bandit, detect-secrets, checkov). Each
returns a :class:`CheckResult`; the repository passes when every check that
ran found nothing. ``smartfactory check`` prints them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..core.config import RESOURCES, PipelineLimits, Settings
from .encryption import check_encryption, load_zones
from .iam import Finding, cross_check, load_matrix, validate_policies
from .scanners import ScanResult, run_bandit, run_checkov, run_detect_secrets
from .terraform import (
    TerraformCode,
    format_problems,
    load_terraform,
    policy_documents,
)

__all__ = [
    "CHECKS",
    "ROOT",
    "CheckResult",
    "check_names",
    "evaluate",
    "run_checks",
]

logger = logging.getLogger(__name__)

ROOT: Final = Path(__file__).resolve().parents[2]
"""The repository root (where ``terraform/`` and ``governance/`` live)."""

CHECKS: Final = (
    "terraform",
    "names",
    "iam",
    "matrix",
    "encryption",
    "bandit",
    "detect-secrets",
    "checkov",
)
"""Every check, in the order :func:`run_checks` runs them."""

_LIMITS: Final = {
    "shard_count": "shard_count",
    "batch_size": "batch_size",
    "lambda_memory_mb": "lambda_memory_mb",
    "topic_filter": "topic_filter",
}
"""Example-environment variable -> :class:`PipelineLimits` field."""


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    name : str
        One of :data:`CHECKS`.
    status : str
        ``passed``, ``failed`` or ``not run``.
    findings : list of Finding
        The violations.
    summary : str
        One line saying what was checked.
    seconds : float
        How long it took.
    """

    name: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "status": self.status,
            "summary": self.summary,
            "seconds": round(self.seconds, 2),
            "findings": [f.__dict__ for f in self.findings],
        }


def evaluate(expression: str, variables: dict[str, Any]) -> str:
    """Evaluate the small part of HCL that resource names use.

    Supports string interpolation of ``var.*`` and
    ``replace("<string>", "<old>", "<new>")``.

    Raises
    ------
    ValueError
        If the expression uses anything else, or an unknown variable.
    """

    def substitute(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                raise ValueError(f"unknown variable var.{name} in {expression!r}")
            return str(variables[name])

        rest = re.sub(r"\$\{var\.(\w+)\}", one, text)
        if "${" in rest:
            raise ValueError(
                f"only var.* interpolation is supported, got {expression!r}"
            )
        return rest

    match = re.fullmatch(r'replace\("(.*)",\s*"(.*)",\s*"(.*)"\)', expression)
    if match:
        return substitute(match.group(1)).replace(match.group(2), match.group(3))
    if expression.startswith(("var.", "local.", "module.")):
        raise ValueError(f"expected a string, got the reference {expression!r}")
    return substitute(expression)


def check_names(code: TerraformCode, environment: str = "example") -> list[Finding]:
    """Check that Terraform names every resource as ``Settings`` does.

    The example environment's ``local.names`` must have exactly the keys of
    :data:`~smartfactory_lib.core.config.RESOURCES`, and each name, with
    the variables' defaults, must equal ``Settings.resource(key)`` (the IoT
    rule: ``Settings.rule_name()``) for the same prefix and environment. The
    variables that mirror :class:`PipelineLimits` must default to its values.

    Returns
    -------
    list of Finding
        Empty when the two agree.
    """
    defaults = {
        b.name: b.body.get("default") for b in code.find("variable", unit=environment)
    }
    names = code.locals.get(environment, {}).get("names")
    where = f"{environment}/local.names"
    if not isinstance(names, dict):
        return [Finding("names", where, "expected a map of resource names, found none")]
    settings = Settings(
        backend="moto",
        prefix=str(defaults.get("prefix")),
        environment=str(defaults.get("environment")),
    )
    findings = []
    for key in sorted(set(RESOURCES) - set(names)):
        findings.append(
            Finding("names", where, f"must name the resource {key!r}, which is missing")
        )
    for key in sorted(set(names) - set(RESOURCES)):
        findings.append(
            Finding(
                "names", where, f"names {key!r}, which config.RESOURCES does not know"
            )
        )
    for key in sorted(set(names) & set(RESOURCES)):
        expected = settings.rule_name() if key == "iot_rule" else settings.resource(key)
        try:
            actual = evaluate(str(names[key]), defaults)
        except ValueError as exc:
            findings.append(Finding("names", f"{where}.{key}", str(exc)))
            continue
        if actual != expected:
            findings.append(
                Finding(
                    "names",
                    f"{where}.{key}",
                    f"must be {expected!r} as in config, got {actual!r}",
                )
            )
    limits = PipelineLimits()
    for variable, attribute in _LIMITS.items():
        expected_value = getattr(limits, attribute)
        if defaults.get(variable) != expected_value:
            findings.append(
                Finding(
                    "names",
                    f"{environment}/var.{variable}",
                    f"must default to PipelineLimits.{attribute} = {expected_value!r}, "
                    f"got {defaults.get(variable)!r}",
                )
            )
    return findings


def _scan(result: ScanResult, summary: str) -> tuple[str, list[Finding], str]:
    if not result.ran:
        return "not run", [], result.note
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    return (
        ("failed" if result.findings else "passed"),
        result.findings,
        f"{summary} ({counts})",
    )


def run_checks(
    root: Path | str = ROOT,
    names: Sequence[str] = CHECKS,
    *,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the named checks over the repository at ``root``.

    Parameters
    ----------
    root : pathlib.Path or str, default ROOT
        Repository root.
    names : sequence of str, default CHECKS
        Which checks to run, any of :data:`CHECKS`.
    on_result : callable or None, default None
        Called with each result as soon as it is known.

    Returns
    -------
    list of CheckResult
        In the order of :data:`CHECKS`.

    Raises
    ------
    ValueError
        If a name is not one of :data:`CHECKS`.
    """
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(
            f"checks must be among {', '.join(CHECKS)}, got {', '.join(unknown)}"
        )
    root = Path(root)
    results: list[CheckResult] = []
    code: TerraformCode | None = None

    def record(name: str, work: Callable[[], tuple[str, list[Finding], str]]) -> None:
        started = time.perf_counter()
        try:
            status, findings, summary = work()
        except (OSError, ValueError) as exc:
            status, findings, summary = (
                "failed",
                [Finding(name, "-", str(exc))],
                str(exc),
            )
        result = CheckResult(
            name, status, findings, summary, time.perf_counter() - started
        )
        logger.info("Check %s %s: %d finding(s)", name, status, len(findings))
        results.append(result)
        if on_result is not None:
            on_result(result)

    def outcome(
        findings: list[Finding], summary: str
    ) -> tuple[str, list[Finding], str]:
        return ("failed" if findings else "passed"), findings, summary

    def terraform() -> tuple[str, list[Finding], str]:
        nonlocal code
        code = load_terraform(root / "terraform")
        layout = [
            Finding("terraform", f"{Path(file).relative_to(root)}:{line}", message)
            for file, line, message in format_problems(root / "terraform")
        ]
        return outcome(
            layout,
            f"{len(code.files)} files in {len(code.units)} modules parsed, "
            "layout as terraform fmt",
        )

    def needs_code() -> TerraformCode:
        return code if code is not None else load_terraform(root / "terraform")

    def iam() -> tuple[str, list[Finding], str]:
        documents = policy_documents(needs_code())
        statements = sum(len(d.statements) for d in documents)
        return outcome(
            validate_policies(documents),
            f"{len(documents)} policy documents, {statements} statements",
        )

    def matrix() -> tuple[str, list[Finding], str]:
        table = load_matrix(root / "governance" / "iam_scope_matrix.csv")
        current = needs_code()
        return outcome(
            cross_check(policy_documents(current), current, table),
            f"{len(table)} matrix rows against the Terraform grants, both ways",
        )

    def encryption() -> tuple[str, list[Finding], str]:
        zones = load_zones(root / "governance" / "encryption_zones.md")
        return outcome(
            check_encryption(needs_code(), zones),
            f"{len(zones)} documented stores against the Terraform",
        )

    def names_check() -> tuple[str, list[Finding], str]:
        return outcome(
            check_names(needs_code()),
            f"{len(RESOURCES)} resource names and {len(_LIMITS)} limits against config",
        )

    work: dict[str, Callable[[], tuple[str, list[Finding], str]]] = {
        "terraform": terraform,
        "names": names_check,
        "iam": iam,
        "matrix": matrix,
        "encryption": encryption,
        "bandit": lambda: _scan(run_bandit(root), "bandit over smartfactory_lib"),
        "detect-secrets": lambda: _scan(run_detect_secrets(root), "detect-secrets"),
        "checkov": lambda: _scan(run_checkov(root), "checkov over terraform/, offline"),
    }
    for name in CHECKS:
        if name in names:
            record(name, work[name])
    return results
