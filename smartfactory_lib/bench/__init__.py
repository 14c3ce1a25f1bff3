"""Benchmarks: throughput of each stage against a baseline of the same run.

Each benchmark module of this package (``simulate``, ``mqtt``, ``pipeline``,
``model``) has a ``run(quick=False)`` function that returns a list of
:class:`Measurement`. A measurement pairs the library's figure with a baseline
measured in the same process moments before, so that a noisy, shared machine
still gives a meaningful ratio. Benchmarks report; they never assert. A
target, where the project has one, is reported beside the figure with whether
this run met it.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["BENCHMARKS", "Measurement", "available", "median_seconds", "run"]

BENCHMARKS = ("simulate", "mqtt", "pipeline", "model")
"""Benchmark modules, in the order ``smartfactory bench`` runs them."""


@dataclass(frozen=True)
class Measurement:
    """One benchmark figure and its same-run baseline.

    Attributes
    ----------
    benchmark : str
        Benchmark module, such as ``simulate``.
    name : str
        What was measured, such as ``batch 100 machines x 24 h``.
    value : float
        The figure, in ``unit``.
    unit : str
        ``readings/s``, ``ms``, ``ratio``, ...
    baseline : str or None
        What the baseline is, such as ``numpy fill of the same arrays``.
    baseline_value : float or None
        The baseline's figure in the same unit.
    target : str or None
        The project's target, in words (``>= 5,000,000 readings/s``).
    target_met : bool or None
        Whether this run met the target.
    """

    benchmark: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    target: str | None = None
    target_met: bool | None = None

    @property
    def ratio(self) -> float | None:
        """``value / baseline_value``, or None without a baseline."""
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, Any]:
        """Return the measurement with its ratio, for JSON and tables."""
        return {**asdict(self), "ratio": self.ratio}


def median_seconds(action: Callable[[], object], repeat: int = 3) -> float:
    """Run ``action`` once to warm up, then ``repeat`` times; return the median.

    The warm-up absorbs imports, caches and the first touch of fresh memory,
    which otherwise dominate a single timing on this kind of machine.
    """
    action()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def available() -> list[str]:
    """Return the benchmarks whose modules are present."""
    names = []
    for name in BENCHMARKS:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        names.append(name)
    return names


def run(names: list[str] | None = None, *, quick: bool = False) -> list[Measurement]:
    """Run the named benchmarks (all available ones by default) in order.

    With ``quick``, each benchmark runs a smaller workload than the one the
    project's targets are set for, so no target is judged: ``target`` says
    so and ``target_met`` is None.
    """
    measurements: list[Measurement] = []
    for name in names or available():
        if name not in BENCHMARKS:
            raise ValueError(
                f"benchmark must be one of {', '.join(BENCHMARKS)}, got {name!r}"
            )
        module = importlib.import_module(f"{__name__}.{name}")
        measurements.extend(module.run(quick=quick))
    if quick:
        measurements = [
            replace(m, target=f"{m.target} (full run only)", target_met=None)
            if m.target
            else m
            for m in measurements
        ]
    return measurements
