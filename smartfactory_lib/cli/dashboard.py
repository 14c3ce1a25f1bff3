"""``smartfactory dashboard``: a live page of readings and alerts, on loopback."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..core.aws import aws_backend
from ..core.config import Settings
from ..operations.canary import LivePipeline
from ..operations.dashboard import LiveDashboard
from ._args import bounded


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="serve a live page of readings and alerts from a running pipeline",
        description="Start the pipeline (broker, devices, IoT rule stand-in, Kinesis, "
        "ingest handler, storage) in real time and serve a page that shows readings "
        "as the broker delivers them and alerts as SNS sends them. The page can "
        "inject faults. Listens on 127.0.0.1 unless --host says otherwise.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address (default loopback)"
    )
    parser.add_argument(
        "--port", type=bounded(int, 0, 65535), default=8765, help="port; 0 picks one"
    )
    parser.add_argument(
        "--machines", type=bounded(int, 1, 50), default=4, help="machines (default 4)"
    )
    parser.add_argument(
        "--tick",
        type=bounded(float, 0.05, 10),
        default=0.5,
        help="seconds between readings of each machine (default 0.5)",
    )
    parser.add_argument(
        "--seconds",
        type=bounded(float, 0, 86400),
        default=0,
        help="stop after this many seconds; 0 runs until interrupted",
    )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="AWS endpoint (a moto server or LocalStack); moto in-process when absent",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = Settings().with_endpoint(args.endpoint_url)
    with (
        aws_backend(settings),
        LivePipeline(settings, n_machines=args.machines) as live,
    ):
        with LiveDashboard(live, args.host, args.port, tick_s=args.tick) as dashboard:
            sys.stdout.write(f"Dashboard on {dashboard.url} (Ctrl-C stops it)\n")
            sys.stdout.flush()
            stop = time.monotonic() + args.seconds if args.seconds else None
            try:
                while dashboard.error is None and (
                    stop is None or time.monotonic() < stop
                ):
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass
        if dashboard.error is not None:
            raise OSError(f"the live pipeline stopped: {dashboard.error}")
    sys.stdout.write(
        f"Published {live.published} readings; {len(live.alerts)} alert(s) raised\n"
    )
    return 0
