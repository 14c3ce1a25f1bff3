"""``smartfactory export``: run the pipeline and write its tables as CSV files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..cloud.pipeline import TRANSPORTS
from ..core.aws import aws_backend
from ..core.config import Settings
from ..operations.export import export_csv, record_run, summary
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export",
        help="run the pipeline and export readings, alerts and audit events as CSV",
        description="Run the pipeline end to end while recording the audit trail "
        "and the cost, then write readings.csv, alerts.csv, audit_events.csv, "
        "quarantine.csv and cost.csv into --out.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/export"), help="folder (data/export)"
    )
    parser.add_argument(
        "--machines", type=bounded(int, 1, 500), default=4, help="machines (default 4)"
    )
    parser.add_argument(
        "--hours", type=bounded(float, 0.01, 48), default=2.0, help="simulated hours"
    )
    parser.add_argument(
        "--fault-rate",
        type=bounded(float, 0.0, 1.0),
        default=0.01,
        help="fraction of readings that receive a fault (default 0.01)",
    )
    parser.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=7)
    parser.add_argument("--transport", choices=TRANSPORTS, default="mqtt")
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="AWS endpoint (a moto server or LocalStack); moto in-process when absent",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = Settings().with_endpoint(args.endpoint_url)
    with aws_backend(settings):
        record = record_run(
            args.machines,
            args.hours,
            fault_rate=args.fault_rate,
            seed=args.seed,
            settings=settings,
            transport=args.transport,
        )
    written = export_csv(record, args.out)
    result = {**summary(record), "files": {k: str(v) for k, v in written.items()}}
    lines = [f"{stem:<13} {path}" for stem, path in written.items()]
    text = "\n".join(
        [
            f"Exported {len(record.readings):,} readings, {len(record.alerts):,} "
            f"alerts and {len(record.audit):,} audit events:",
            *lines,
        ]
    )
    emit(result, args.json, text)
    return 0 if record.run.reconciliation.balanced else 1
