"""Benchmark the simulator and the fault injector against a plain numpy fill.

The workload is the book's reference batch: 100 machines for 24 h at 1 Hz,
8.64 million readings. The baseline fills float64 arrays of the same shape
(seven signals) with Gaussian noise, the least any simulator of these signals
must do; the ratio says how much the physics, labels and the table cost on
top of that.
"""

from __future__ import annotations

import numpy as np

from ..faults import FaultConfig, inject
from ..simulation import FactoryConfig, FactorySimulator
from . import Measurement, median_seconds

__all__ = ["run"]

_SIM_TARGET = 5_000_000
_FAULT_TARGET = 2_000_000


def run(quick: bool = False) -> list[Measurement]:
    """Measure batch generation and fault injection in readings per second."""
    machines, hours = (20, 6.0) if quick else (100, 24.0)
    simulator = FactorySimulator(FactoryConfig(n_machines=machines), hours)
    n = simulator.n_readings
    label = f"{machines} machines x {hours:g} h at 1 Hz"

    def fill() -> None:
        rng = np.random.default_rng(0)
        out = np.empty((7, n))
        for row in out:
            rng.standard_normal(out=row)

    baseline = n / median_seconds(fill)
    simulated = n / median_seconds(simulator.run)
    readings = simulator.run().readings
    config = FaultConfig.uniform(0.2, seed=1)
    injected = n / median_seconds(lambda: inject(readings, config))
    baseline_name = "numpy Gaussian fill of 7 x readings float64"
    return [
        Measurement(
            "simulate",
            f"batch, {label}",
            simulated,
            "readings/s",
            baseline_name,
            baseline,
            f">= {_SIM_TARGET:,} readings/s",
            simulated >= _SIM_TARGET,
        ),
        Measurement(
            "simulate",
            f"fault injection at 20 %, {label}",
            injected,
            "readings/s",
            baseline_name,
            baseline,
            f">= {_FAULT_TARGET:,} readings/s",
            injected >= _FAULT_TARGET,
        ),
    ]
