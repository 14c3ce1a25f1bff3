"""``smartfactory check``: every governance and security gate, one report."""

from __future__ import annotations

import argparse
from typing import Any

from ..governance.checks import CHECKS, ROOT, CheckResult, run_checks
from ._args import add_json_flag, emit

_MARK = {"passed": "PASS", "failed": "FAIL", "not run": "SKIP"}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "check",
        help="run every governance and security check; non-zero exit on a violation",
        description="Parse the Terraform, check resource names against the "
        "configuration, validate every IAM policy, cross-check the IAM scope "
        "matrix both ways, check the encryption zones, and run bandit, "
        "detect-secrets and checkov. Exits 1 on any violation.",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=CHECKS,
        metavar="CHECK",
        help=f"run only this check (repeatable): {', '.join(CHECKS)}",
    )
    parser.add_argument(
        "--require-all",
        action="store_true",
        help="fail when a check cannot run (for example checkov not installed)",
    )
    parser.add_argument("--root", default=str(ROOT), help="repository root to check")
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def _text(results: list[CheckResult], failed: bool) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for result in results:
        lines.append(
            f"{_MARK[result.status]}  {result.name:<{width}}  {result.summary}"
            f"  [{result.seconds:.1f} s]"
        )
        for finding in result.findings:
            lines.append(f"      {finding.location}: {finding.message}")
    counts = {s: sum(r.status == s for r in results) for s in _MARK}
    lines.append(
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['not run']} not run: "
        + ("VIOLATIONS FOUND" if failed else "all clear")
    )
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    results = run_checks(args.root, args.only or CHECKS)
    failed = any(r.status == "failed" for r in results) or (
        args.require_all and any(r.status == "not run" for r in results)
    )
    emit(
        {"passed": not failed, "checks": [r.as_dict() for r in results]},
        args.json,
        _text(results, failed),
    )
    return 1 if failed else 0
