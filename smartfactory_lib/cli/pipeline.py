"""``smartfactory pipeline``: run the cloud pipeline end to end and reconcile."""

from __future__ import annotations

import argparse
from typing import Any

from ..cloud.pipeline import TRANSPORTS, run_pipeline
from ..core.aws import aws_backend
from ..core.config import Settings
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "pipeline",
        help="run simulator, broker, IoT rule, Kinesis, Lambda and storage; reconcile",
        description="Simulate N machines for H hours, inject faults, publish through "
        "the MQTT broker, forward with the IoT rule stand-in into Kinesis, ingest "
        "with the Lambda handler and count where every reading ended up. Exits 1 "
        "when the counts do not reconcile.",
    )
    parser.add_argument(
        "--machines", type=bounded(int, 1, 500), required=True, help="machines"
    )
    parser.add_argument(
        "--hours", type=bounded(float, 0.01, 48), required=True, help="simulated hours"
    )
    parser.add_argument(
        "--fault-rate",
        type=bounded(float, 0.0, 1.0),
        default=0.0,
        help="fraction of readings that receive a fault (default 0)",
    )
    parser.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=7)
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="AWS endpoint (a moto server or LocalStack); moto in-process when absent",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="mqtt",
        help="mqtt: through a mosquitto broker on loopback; direct: no broker",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def _text(summary: dict[str, Any]) -> str:
    quarantined = ", ".join(f"{k} {v}" for k, v in summary["quarantined"].items())
    return "\n".join(
        [
            f"published    {summary['published']:>9,}",
            f"stored       {summary['stored']:>9,}",
            f"quarantined  {sum(summary['quarantined'].values()):>9,}  ({quarantined})",
            f"duplicates   {summary['duplicates']:>9,}",
            f"lost         {summary['lost']:>9,}",
            f"balanced     {summary['balanced']}",
            f"throughput   {summary['readings_per_s']:>9,.0f} readings/s end to end",
        ]
    )


def handle(args: argparse.Namespace) -> int:
    settings = Settings().with_endpoint(args.endpoint_url)
    with aws_backend(settings):
        run = run_pipeline(
            args.machines,
            args.hours,
            fault_rate=args.fault_rate,
            seed=args.seed,
            settings=settings,
            transport=args.transport,
        )
    summary = run.summary()
    emit(summary, args.json, _text(summary))
    return 0 if run.reconciliation.balanced else 1
