"""Fixtures shared by every kind of test."""

from __future__ import annotations

import pytest

from smartfactory_lib.simulation import FactoryConfig, FactorySimulator, Simulation


@pytest.fixture
def seed() -> int:
    """A fixed seed, so that every random draw in a test is reproducible."""
    return 20260105


@pytest.fixture(scope="session")
def day_of_factory() -> Simulation:
    """Twelve machines for two days, with failures common enough to study."""
    config = FactoryConfig(
        n_machines=12,
        rate_hz=0.2,
        seed=11,
        failure_rates={"bearing_wear": 0.5, "overheating": 0.5, "electrical": 0.5},
    )
    return FactorySimulator(config, 48).run()
