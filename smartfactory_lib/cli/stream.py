"""``smartfactory stream``: simulated machines publish through a real broker."""

from __future__ import annotations

import argparse
from typing import Any

from ..core.aws import aws_backend
from ..core.config import Settings
from ..simulation import simulate
from ..transport import Broker, stream_readings
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "stream",
        help="publish simulated readings through mosquitto and reconcile",
        description="Start a TLS broker on loopback, connect one device per machine "
        "with its own credentials from Secrets Manager, publish the simulated "
        "readings, and count what the subscriber received, lost, saw twice or "
        "set aside as malformed.",
    )
    parser.add_argument(
        "--machines", type=bounded(int, 1, 500), default=4, help="machines (1-500)"
    )
    parser.add_argument(
        "--minutes",
        type=bounded(float, 1.0, 1440),
        default=10.0,
        help="simulated minutes (1-1440)",
    )
    parser.add_argument(
        "--speed",
        type=bounded(float, 0.1, 1e6),
        default=None,
        help="simulated seconds per second (default: as fast as possible)",
    )
    parser.add_argument(
        "--batch",
        type=bounded(int, 1, 10_000),
        default=1,
        help="readings per message (1-10000)",
    )
    parser.add_argument(
        "--qos", type=bounded(int, 0, 1), default=1, help="MQTT QoS, 0 or 1"
    )
    parser.add_argument(
        "--fault-rate",
        type=bounded(float, 0.0, 1.0),
        default=0.0,
        help="fraction of readings given a fault (0-1)",
    )
    parser.add_argument(
        "--seed",
        type=bounded(int, 0, 2**32 - 1),
        default=7,
        help="seed of every draw (0-4294967295)",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    frame = simulate(args.machines, args.minutes / 60.0, seed=args.seed).readings
    payloads = None
    faults: dict[str, int] = {}
    if args.fault_rate > 0:
        from ..faults import FaultConfig, inject

        batch = inject(frame, FaultConfig.uniform(args.fault_rate, seed=args.seed))
        frame, payloads = batch.readings, batch.payloads()
        faults = {name: n for name, n in batch.counts().items() if n}

    with aws_backend(Settings()) as settings, Broker() as broker:
        report, _ = stream_readings(
            frame,
            broker,
            settings,
            qos=args.qos,
            batch_size=args.batch,
            payloads=payloads,
            speed=args.speed,
        )
    result = {**report.as_dict(), "faults_injected": faults}
    reasons = ", ".join(f"{k}={v}" for k, v in report.malformed_by_reason.items())
    text = (
        f"published {report.published:,} readings from {report.machines} machines "
        f"in {report.messages:,} messages (QoS {report.qos}, batch {report.batch_size})"
        f"\nreceived {report.received:,}: {report.unique:,} unique, "
        f"{report.duplicates:,} duplicates, {report.malformed:,} malformed"
        f"{f' ({reasons})' if reasons else ''}"
        f"\nlost {report.lost:,}; {report.readings_per_s:,.0f} readings/s"
    )
    emit(result, args.json, text)
    return 0 if report.lost == 0 else 1
