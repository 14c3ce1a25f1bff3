"""``smartfactory broker``: run the plant's TLS broker in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ..transport import Broker
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "broker",
        help="run mosquitto on loopback with TLS, device passwords and ACLs",
        description="Start mosquitto on 127.0.0.1 with a CA and certificate made for "
        "this run, one password per device and an ACL that keeps each device on "
        "its own topics; print how to connect, and run until interrupted.",
    )
    parser.add_argument(
        "--port", type=bounded(int, 0, 65535), default=0, help="port (0: a free one)"
    )
    parser.add_argument(
        "--devices",
        type=bounded(int, 0, 5000),
        default=4,
        help="device accounts m0001.. to create (0-5000)",
    )
    parser.add_argument(
        "--directory",
        type=Path,
        default=None,
        help="folder for configuration, certificates and passwords "
        "(default: a temporary folder, removed on exit)",
    )
    parser.add_argument(
        "--duration",
        type=bounded(float, 0.0, 1e7),
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def _write_secret(path: Path, text: str) -> None:
    path.write_text(text + "\n")
    path.chmod(0o600)


def handle(args: argparse.Namespace) -> int:
    broker = Broker(args.directory, port=args.port)
    secrets_dir = broker.directory / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    # The pipeline's devices read their passwords from Secrets Manager; this
    # stand-alone broker outlives no process that could, so it leaves them in
    # files only its user can read, in a folder removed on exit by default.
    passwords = {
        f"m{index:04d}": Broker.new_password() for index in range(1, args.devices + 1)
    }
    broker.add_users(passwords)  # one write of the password and ACL files
    for machine_id, password in passwords.items():
        _write_secret(secrets_dir / f"{machine_id}.password", password)
    reader_password = broker.add_service_user("ingest")
    _write_secret(secrets_dir / "ingest.password", reader_password)

    stop = {"now": False}

    def request_stop(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    with broker:
        endpoint = broker.endpoint
        result = {
            "implementation": broker.implementation,
            "host": endpoint.host,
            "port": endpoint.port,
            "ca_file": str(endpoint.ca_file),
            "directory": str(broker.directory),
            "passwords": str(secrets_dir),
            "users": broker.usernames,
        }
        example = (
            f"mosquitto_sub -h {endpoint.host} -p {endpoint.port} "
            f"--cafile {endpoint.ca_file} -u ingest "
            f'-P "$(cat {secrets_dir / "ingest.password"})" -t "factory/#" -v'
        )
        emit(
            {**result, "example": example},
            args.json,
            f"{broker.implementation} listens on {endpoint.host}:{endpoint.port}"
            " (TLS)\n"
            f"CA certificate: {endpoint.ca_file}\n"
            f"users: {', '.join(broker.usernames)}; passwords in {secrets_dir} "
            "(one file each, mode 0600)\n"
            f"read everything:\n  {example}\n"
            "stop with Ctrl-C",
        )
        sys.stdout.flush()
        started = time.monotonic()
        try:
            while not stop["now"] and broker.running:
                if (
                    args.duration is not None
                    and time.monotonic() - started >= args.duration
                ):
                    break
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        crashed = not broker.running
        if crashed:
            sys.stderr.write(f"broker stopped unexpectedly: {broker.log_tail()}\n")
    return 1 if crashed else 0
