"""Faults: sensor, clock and transport faults, injected on purpose and logged."""

from .injector import (
    FAULT_CLASSES,
    FAULT_TYPES,
    MALFORMED_KINDS,
    RUN_FAULTS,
    FaultConfig,
    FaultedBatch,
    inject,
    inject_stream,
)

__all__ = [
    "FAULT_CLASSES",
    "FAULT_TYPES",
    "MALFORMED_KINDS",
    "RUN_FAULTS",
    "FaultConfig",
    "FaultedBatch",
    "inject",
    "inject_stream",
]
