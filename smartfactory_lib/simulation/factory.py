"""The factory floor: sites, lines, machines and their fixed characteristics.

A :class:`FactoryConfig` says how large the factory is and how often things
break; :func:`build_layout` turns it into one row per machine with the
physical constants the simulator uses (rated power, spindle speed, thermal
time constant, vibration baseline, shift pattern). Everything is drawn from
the configuration's seed, so the same seed always builds the same factory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_FAILURE_RATES",
    "FactoryConfig",
    "LIMITS",
    "build_layout",
    "check_range",
]

DEFAULT_FAILURE_RATES: Final[Mapping[str, float]] = MappingProxyType(
    {"bearing_wear": 0.10, "overheating": 0.08, "electrical": 0.05}
)
"""Expected failures per machine and day, by failure mode."""

LIMITS: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "n_machines": (1, 5000),
        "hours": (0.01, 24 * 366),
        "rate_hz": (0.001, 50.0),
        "machines_per_line": (1, 100),
        "lines_per_site": (1, 100),
        "failure_rate": (0.0, 24.0),
    }
)
"""Allowed range of each numeric setting, inclusive."""

_EPOCH: Final = datetime(2026, 1, 5, tzinfo=UTC)


def check_range(name: str, value: float) -> None:
    """Raise ValueError unless ``value`` lies in ``LIMITS[name]``.

    The message names the setting, the allowed range and the value given,
    for example ``n_machines must be between 1 and 5000, got 0``.
    """
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not low <= value <= high or value != value:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, got {value!r}")


@dataclass(frozen=True)
class FactoryConfig:
    """Size, timing and reliability of the simulated factory.

    Parameters
    ----------
    n_machines : int, default 12
        Number of machines, numbered ``m0001`` onwards.
    machines_per_line : int, default 4
        Machines on one production line.
    lines_per_site : int, default 3
        Lines in one site (a building with its own climate).
    rate_hz : float, default 1.0
        Readings per machine and second.
    seed : int, default 7
        Seed of every random draw; the same seed gives the same readings.
    start : datetime, default 2026-01-05 00:00 UTC
        Timestamp of the first reading; must be timezone-aware.
    failure_rates : Mapping[str, float]
        Expected failures per machine and day, by failure mode.
    """

    n_machines: int = 12
    machines_per_line: int = 4
    lines_per_site: int = 3
    rate_hz: float = 1.0
    seed: int = 7
    start: datetime = _EPOCH
    failure_rates: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_FAILURE_RATES)
    )

    def __post_init__(self) -> None:
        check_range("n_machines", self.n_machines)
        check_range("rate_hz", self.rate_hz)
        check_range("machines_per_line", self.machines_per_line)
        check_range("lines_per_site", self.lines_per_site)
        if not isinstance(self.n_machines, int):
            raise TypeError(
                f"n_machines must be an integer, got {type(self.n_machines).__name__}"
            )
        if self.start.tzinfo is None:
            raise ValueError(f"start must be timezone-aware, got {self.start!r}")
        unknown = set(self.failure_rates) - set(DEFAULT_FAILURE_RATES)
        if unknown:
            raise ValueError(
                f"failure_rates keys must be among {', '.join(DEFAULT_FAILURE_RATES)},"
                f" got {', '.join(sorted(unknown))}"
            )
        for rate in self.failure_rates.values():
            check_range("failure_rate", rate)


def build_layout(config: FactoryConfig) -> pd.DataFrame:
    """Return one row per machine with its place and physical constants.

    Parameters
    ----------
    config : FactoryConfig
        The factory to lay out.

    Returns
    -------
    pandas.DataFrame
        Indexed 0..n-1 with columns ``machine_id``, ``site``, ``line``,
        ``rated_kw``, ``nominal_rpm``, ``base_vibration``, ``heat_gain``
        (°C of housing temperature per kW at steady state), ``tau_s`` (thermal
        time constant), ``load_level`` (% load when running), ``shifts``
        (2 or 3 shifts a day), ``initial_wear`` (hours of bearing use), and
        the site climate ``site_ambient_c``, ``site_amplitude_c``,
        ``site_humidity_pct``.
    """
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    n = config.n_machines
    index = np.arange(n)
    line_no = index // config.machines_per_line
    site_no = line_no // config.lines_per_site
    n_sites = int(site_no.max()) + 1

    site_ambient = rng.uniform(18.0, 24.0, n_sites)
    site_amplitude = rng.uniform(2.0, 5.0, n_sites)
    site_humidity = rng.uniform(40.0, 60.0, n_sites)
    layout = pd.DataFrame(
        {
            "machine_id": [f"m{i + 1:04d}" for i in index],
            "site": [f"s{s + 1:02d}" for s in site_no],
            "line": [
                f"s{s + 1:02d}-l{ln + 1:02d}"
                for s, ln in zip(site_no, line_no, strict=True)
            ],
            "rated_kw": rng.uniform(8.0, 30.0, n),
            "nominal_rpm": rng.uniform(3000.0, 9000.0, n),
            "base_vibration": rng.uniform(1.0, 2.5, n),
            "heat_gain": rng.uniform(0.8, 1.5, n),
            "tau_s": rng.choice([300.0, 600.0, 900.0], n),
            "load_level": rng.uniform(55.0, 85.0, n),
            "shifts": rng.choice([2, 3], n, p=[0.6, 0.4]),
            "initial_wear": rng.uniform(0.0, 500.0, n),
            "site_ambient_c": site_ambient[site_no],
            "site_amplitude_c": site_amplitude[site_no],
            "site_humidity_pct": site_humidity[site_no],
        }
    )
    return layout
