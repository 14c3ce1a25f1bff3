"""``smartfactory bench``: run the benchmarks and print one table."""

from __future__ import annotations

import argparse
from typing import Any

from .. import bench
from ._args import add_json_flag, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "bench",
        help="measure throughput against same-run baselines",
        description="Run one benchmark, or all of them, and print a table of "
        "figures, baselines, ratios and targets.",
    )
    parser.add_argument(
        "name", nargs="?", choices=bench.BENCHMARKS, help="one benchmark (default: all)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller workloads, for smoke tests"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("benchmark", "measured", "value", "unit", "baseline", "ratio", "target")
    lines = [header]
    for row in rows:
        ratio = row["ratio"]
        met = {True: " (met)", False: " (missed)", None: ""}[row["target_met"]]
        lines.append(
            (
                row["benchmark"],
                row["name"],
                f"{row['value']:,.3g}"
                if row["value"] < 100
                else f"{row['value']:,.0f}",
                row["unit"],
                row["baseline"] or "",
                "" if ratio is None else f"{ratio:.2f}",
                (row["target"] or "") + met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def handle(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else None
    rows = [m.as_dict() for m in bench.run(names, quick=args.quick)]
    emit({"measurements": rows}, args.json, _table(rows))
    return 0
