"""The ``smartfactory`` command line: a thin layer over the library.

Each command lives in its own module of this package with a ``register``
function that adds its sub-parser and sets ``handler``; :func:`main` parses
the arguments, configures logging and calls the handler. Handlers return
the process exit code. A bad argument exits with code 2 and a message that
names the argument, the allowed range and the value given.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = (
    "simulate",
    "stream",
    "broker",
    "pipeline",
    "train",
    "explain",
    "bench",
    "check",
    "dashboard",
    "export",
)
"""Command modules, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every available command registered."""
    parser = argparse.ArgumentParser(
        prog="smartfactory",
        description="Virtual Smart Factory: simulate, stream, ingest and learn.",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v, -vv)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.handler(args))
    except (ValueError, TypeError, OSError) as exc:
        parser.exit(2, f"smartfactory {args.command}: error: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
