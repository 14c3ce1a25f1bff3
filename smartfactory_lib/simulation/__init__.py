"""Simulation: the factory floor and the readings its machines produce."""

from .factory import FactoryConfig, build_layout
from .simulator import FactorySimulator, Simulation, simulate

__all__ = [
    "FactoryConfig",
    "FactorySimulator",
    "Simulation",
    "build_layout",
    "simulate",
]
