"""Argument types that check their range and say what they got."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_json_flag", "bounded", "emit"]


_NOUNS = {"int": "a whole number", "float": "a number"}


def _number(value: float) -> str:
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"


def bounded(
    kind: Callable[[str], float], low: float, high: float
) -> Callable[[str], Any]:
    """Return an argparse type that parses with ``kind`` and checks the range.

    The error names the allowed range and the value given; argparse adds the
    argument's name, for example ``argument --machines: must be between 1 and
    5000, got '0'``.
    """

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {_NOUNS.get(kind.__name__, kind.__name__)} between "
                f"{_number(low)} and {_number(high)}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be between {_number(low)} and {_number(high)}, got {text!r}"
            )
        return value

    parse.__name__ = kind.__name__
    return parse


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add ``--json``: print one JSON object instead of the text summary."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on standard output"
    )


def emit(result: dict[str, Any], as_json: bool, text: str) -> None:
    """Print ``result`` as JSON, or ``text`` for people."""
    if as_json:
        json.dump(result, sys.stdout, default=str)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
