"""Sensor, clock and transport faults, injected on purpose and logged.

A *machine failure* is the machine itself going wrong (see
:mod:`smartfactory_lib.simulation`). A *fault* is the measurement or its
delivery going wrong while the machine may be perfectly healthy: a sensor
reads nothing or nonsense, a device clock is off, the network repeats,
reorders or mangles a message. Pipelines must survive faults and models must
not mistake them for failures, so the book injects them deliberately.

Every fault type has a rate: the fraction of readings it affects. Each
reading receives at most one fault, so the rates add up. Run faults
(``stuck_at``, ``calibration_drift``, ``timestamp_drift``, ``clock_skew``)
affect runs of consecutive readings of one machine; the others affect single
readings. Everything is drawn from the configuration's seed and written to a
fault log, one row per affected reading.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd

from ..core.schema import SIGNAL_NAMES, frame_to_payloads

__all__ = [
    "FAULT_CLASSES",
    "FAULT_TYPES",
    "MALFORMED_KINDS",
    "FaultConfig",
    "FaultedBatch",
    "inject",
    "inject_stream",
]

logger = logging.getLogger(__name__)

FAULT_CLASSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "dropout": "sensor",
        "spike": "sensor",
        "stuck_at": "sensor",
        "calibration_drift": "sensor",
        "timestamp_drift": "clock",
        "clock_skew": "clock",
        "duplicate": "transport",
        "out_of_order": "transport",
        "malformed": "transport",
    }
)
"""Each fault type and the part of the chain it hits."""

FAULT_TYPES: Final = tuple(FAULT_CLASSES)
RUN_FAULTS: Final = ("stuck_at", "calibration_drift", "timestamp_drift", "clock_skew")
MALFORMED_KINDS: Final = ("invalid_json", "wrong_type", "missing_field")

_SCALE: Final[Mapping[str, float]] = MappingProxyType(
    {
        "ambient_c": 2.0,
        "humidity_pct": 5.0,
        "load_pct": 10.0,
        "spindle_rpm": 800.0,
        "power_kw": 4.0,
        "temperature_c": 8.0,
        "vibration_mm_s": 1.5,
    }
)
"""Typical spread of each signal; spikes and drifts are multiples of it."""


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, how often, and from which seed.

    Parameters
    ----------
    rates : Mapping[str, float]
        Fraction of readings affected, per fault type (keys from
        :data:`FAULT_TYPES`). Each in [0, 1]; together at most 1.
    seed : int, default 0
        Seed of every draw.
    run_length : int, default 20
        Readings per run for the run faults.
    max_delay : int, default 50
        Largest displacement, in messages, of a late or repeated message.

    Examples
    --------
    >>> FaultConfig.uniform(0.2).rates["spike"]
    0.0222...
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    run_length: int = 20
    max_delay: int = 50

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rates) - set(FAULT_TYPES))
        if unknown:
            raise ValueError(
                f"fault types must be among {', '.join(FAULT_TYPES)}, "
                f"got {', '.join(unknown)}"
            )
        for name, rate in self.rates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate of {name} must be between 0 and 1, got {rate}")
        total = sum(self.rates.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates must add up to at most 1, got {total:g}")
        if not 1 <= self.run_length <= 10_000:
            raise ValueError(
                f"run_length must be between 1 and 10000, got {self.run_length}"
            )
        if not 1 <= self.max_delay <= 10_000:
            raise ValueError(
                f"max_delay must be between 1 and 10000, got {self.max_delay}"
            )

    @classmethod
    def uniform(
        cls,
        fault_rate: float,
        types: Iterable[str] = FAULT_TYPES,
        *,
        seed: int = 0,
        run_length: int = 20,
    ) -> FaultConfig:
        """Spread ``fault_rate`` evenly over ``types``.

        Parameters
        ----------
        fault_rate : float
            Fraction of all readings that receive some fault, in [0, 1].
        types : iterable of str, default all fault types
            The fault types to inject.
        seed, run_length
            As for :class:`FaultConfig`.
        """
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, got {fault_rate}")
        chosen = tuple(types)
        if not chosen:
            raise ValueError("types must name at least one fault type, got none")
        share = fault_rate / len(chosen)
        return cls({name: share for name in chosen}, seed=seed, run_length=run_length)


@dataclass(frozen=True)
class FaultedBatch:
    """Readings after fault injection, in delivery order, and their fault log.

    Attributes
    ----------
    readings : pandas.DataFrame
        The readings as a device would deliver them: values and timestamps
        altered, repeated messages included, late messages moved. Column
        ``fault`` names the fault of each row (``none`` for a clean one) and
        ``malformed`` marks rows whose payload is corrupted in transit.
    log : pandas.DataFrame
        One row per affected reading: ``fault_type``, ``fault_class``,
        ``machine_id``, ``seq``, ``field`` (the signal or ``ts``, empty for
        transport faults), ``position`` (row in :attr:`readings`),
        ``magnitude`` (added amount, stuck value, clock offset in seconds or
        displacement in messages) and ``detail`` (kind of corruption).
    """

    readings: pd.DataFrame
    log: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """Return the number of affected readings per fault type."""
        counts = self.log["fault_type"].value_counts()
        return {name: int(counts.get(name, 0)) for name in FAULT_TYPES}

    def payloads(self) -> list[bytes]:
        """Return one JSON payload per row, malformed rows corrupted."""
        payloads = frame_to_payloads(self.readings)
        broken = self.log[self.log["fault_type"] == "malformed"]
        for position, kind in zip(broken["position"], broken["detail"], strict=True):
            payloads[position] = _corrupt(payloads[position], str(kind))
        return payloads


def _corrupt(payload: bytes, kind: str) -> bytes:
    """Corrupt one payload the way a faulty link or firmware would."""
    if kind == "invalid_json":
        return payload[: len(payload) // 2]
    body = json.loads(payload)
    if kind == "wrong_type":
        body["temperature_c"] = "hot"
        body["seq"] = str(body["seq"])
    else:  # missing_field
        del body["ts"]
    return json.dumps(body, separators=(",", ":")).encode()


def _machine_runs(codes: np.ndarray, length: int) -> np.ndarray:
    """Return complete runs of ``length`` consecutive rows of one machine.

    The result has shape (runs, length) and holds row positions.
    """
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    runs = []
    for start, size in zip(starts, sizes, strict=True):
        whole = size // length
        if whole:
            block = order[start : start + whole * length]
            runs.append(block.reshape(whole, length))
    if not runs:
        return np.empty((0, length), dtype=np.int64)
    return np.concatenate(runs)


def inject(
    frame: pd.DataFrame, config: FaultConfig, *, stream: int = 0
) -> FaultedBatch:
    """Inject faults into a readings table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Readings with the schema columns, in time order (as the simulator
        produces them).
    config : FaultConfig
        Fault rates and seed.
    stream : int, default 0
        Index of the chunk when injecting into a stream, so that each chunk
        draws from its own random stream.

    Returns
    -------
    FaultedBatch
        The faulty readings in delivery order and the fault log.
    """
    n = len(frame)
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 11, stream]))
    signals = {
        name: frame[name].to_numpy(dtype=np.float64, copy=True) for name in SIGNAL_NAMES
    }
    ts = pd.DatetimeIndex(frame["ts"]).as_unit("ms").asi8.copy()
    codes = frame["machine_id"].cat.codes.to_numpy()
    fault = np.zeros(n, dtype=np.int8)  # 0 = none, else 1 + FAULT_TYPES index
    entries: list[tuple[np.ndarray, ...]] = []

    def record(
        name: str,
        rows: np.ndarray,
        fields: np.ndarray,
        magnitude: np.ndarray,
        detail: np.ndarray | None = None,
    ) -> None:
        """Mark ``rows`` with fault ``name``; fields and details are codes."""
        fault[rows] = FAULT_TYPES.index(name) + 1
        entries.append(
            (
                rows,
                np.full(len(rows), FAULT_TYPES.index(name), np.int8),
                fields.astype(np.int8),
                magnitude.astype(np.float64),
                np.zeros(len(rows), np.int8) if detail is None else detail,
            )
        )

    # Run faults: whole runs of one machine's consecutive readings.
    length = config.run_length
    runs = _machine_runs(codes, length)
    rng.shuffle(runs)
    taken = 0
    for name in RUN_FAULTS:
        count = int(round(config.rates.get(name, 0.0) * n / length))
        chosen = runs[taken : taken + count]
        taken += len(chosen)
        if not len(chosen):
            continue
        ramp = np.linspace(0.0, 1.0, length)[None, :]
        rows = chosen.ravel()
        if name in ("stuck_at", "calibration_drift"):
            picks = rng.integers(0, len(SIGNAL_NAMES), len(chosen))
            fields = np.repeat(picks + 1, length)
            magnitude = np.empty(rows.shape)
            for k, signal in enumerate(SIGNAL_NAMES):
                mine = np.repeat(picks == k, length)
                if not mine.any():
                    continue
                block = chosen[picks == k]
                values = signals[signal]
                if name == "stuck_at":
                    stuck = np.repeat(values[block[:, 0]], length)
                    values[block.ravel()] = stuck
                    magnitude[mine] = stuck
                else:
                    top = rng.uniform(1.0, 3.0, (len(block), 1)) * _SCALE[signal]
                    offset = (top * ramp).ravel()
                    values[block.ravel()] += offset
                    magnitude[mine] = offset
            record(name, rows, fields, magnitude)
        else:
            if name == "timestamp_drift":
                top = rng.uniform(5.0, 60.0, (len(chosen), 1))
                offset_s = (top * ramp).ravel()
            else:
                sign = rng.choice([-1.0, 1.0], (len(chosen), 1))
                offset_s = np.repeat(
                    sign * rng.uniform(600.0, 10_800.0, (len(chosen), 1)),
                    length,
                    axis=1,
                ).ravel()
            ts[rows] += np.round(offset_s * 1000.0).astype(np.int64)
            record(name, rows, np.full(len(rows), _TS_FIELD), offset_s)
    if taken < sum(
        int(round(config.rates.get(r, 0.0) * n / length)) for r in RUN_FAULTS
    ):
        logger.warning(
            "Batch of %d readings too short for every requested fault run", n
        )

    # Point faults: single readings among those still clean.
    free = np.flatnonzero(fault == 0)
    rng.shuffle(free)
    start = 0
    point_rows: dict[str, np.ndarray] = {}
    for name in ("dropout", "spike", "duplicate", "out_of_order", "malformed"):
        count = min(int(round(config.rates.get(name, 0.0) * n)), len(free) - start)
        point_rows[name] = np.sort(free[start : start + count])
        start += count

    rows = point_rows["dropout"]
    if len(rows):
        picks = rng.integers(0, len(SIGNAL_NAMES), len(rows))
        for k, signal in enumerate(SIGNAL_NAMES):
            signals[signal][rows[picks == k]] = np.nan
        record("dropout", rows, picks + 1, np.full(len(rows), np.nan))
    rows = point_rows["spike"]
    if len(rows):
        picks = rng.integers(0, len(SIGNAL_NAMES), len(rows))
        amount = rng.uniform(5.0, 15.0, len(rows)) * rng.choice(
            [-1.0, 1.0, 1.0], len(rows)
        )
        for k, signal in enumerate(SIGNAL_NAMES):
            mine = picks == k
            amount[mine] *= _SCALE[signal]
            signals[signal][rows[mine]] += amount[mine]
        record("spike", rows, picks + 1, amount)
    rows = point_rows["malformed"]
    if len(rows):
        kinds = rng.integers(1, len(MALFORMED_KINDS) + 1, len(rows)).astype(np.int8)
        nothing = np.zeros(len(rows), np.int8)
        record("malformed", rows, nothing, np.full(len(rows), np.nan), kinds)
    late = point_rows["out_of_order"]
    late_delay = rng.integers(1, config.max_delay + 1, len(late))
    if len(late):
        record("out_of_order", late, np.zeros(len(late)), late_delay.astype(float))
    repeated = point_rows["duplicate"]
    repeat_delay = rng.integers(0, config.max_delay + 1, len(repeated))

    # Lay out the delivery order: late messages move back, copies follow
    # their original after a delay. ``source`` maps each delivered row to the
    # input row it carries.
    key = np.arange(n, dtype=np.float64)
    key[late] += late_delay + 0.5
    order = np.argsort(np.r_[key, repeated + repeat_delay + 0.25], kind="stable")
    source = np.r_[np.arange(n), repeated][order]
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    fault_codes = np.r_[fault, np.full(len(repeated), _DUPLICATE_CODE, np.int8)]
    delivered = _gather(frame, source, signals, ts)
    delivered["fault"] = pd.Categorical.from_codes(
        fault_codes[order], ["none", *FAULT_TYPES]
    )
    delivered["malformed"] = delivered["fault"] == "malformed"

    # The log: one row per affected reading, pointing at its delivered row.
    if len(repeated):
        copy_rows = n + np.arange(len(repeated))
        fault_code = np.full(len(repeated), FAULT_TYPES.index("duplicate"), np.int8)
        nothing = np.zeros(len(repeated), np.int8)
        entries.append(
            (copy_rows, fault_code, nothing, repeat_delay.astype(float), nothing)
        )
    combined = np.r_[np.arange(n), repeated]  # input row of each combined row
    log = _build_log(entries, frame, combined, position)
    logger.info(
        "Injected %d faults into %d readings (%d delivered)",
        len(log),
        n,
        len(delivered),
    )
    return FaultedBatch(delivered, log)


_TS_FIELD: Final = len(SIGNAL_NAMES) + 1
_DUPLICATE_CODE: Final = FAULT_TYPES.index("duplicate") + 1
_FIELDS: Final = ("", *SIGNAL_NAMES, "ts")
_DETAILS: Final = ("", *MALFORMED_KINDS)


def _gather(
    frame: pd.DataFrame,
    source: np.ndarray,
    signals: dict[str, np.ndarray],
    ts: np.ndarray,
) -> pd.DataFrame:
    """Return the rows ``source`` of ``frame``, with altered signals and clocks."""
    columns: dict[str, object] = {}
    for name in frame.columns:
        if name in signals:
            columns[name] = signals[name][source]
        elif name == "ts":
            columns[name] = pd.DatetimeIndex(ts[source].view("M8[ms]")).tz_localize(
                "UTC"
            )
        elif isinstance(frame[name].dtype, pd.CategoricalDtype):
            column = frame[name]
            columns[name] = pd.Categorical.from_codes(
                column.cat.codes.to_numpy()[source], column.cat.categories
            )
        else:
            columns[name] = frame[name].to_numpy()[source]
    return pd.DataFrame(columns, copy=False)


def _build_log(
    entries: list[tuple[np.ndarray, ...]],
    frame: pd.DataFrame,
    combined: np.ndarray,
    position: np.ndarray,
) -> pd.DataFrame:
    """Assemble the fault log from code arrays, sorted by delivered position."""
    parts = (
        [np.concatenate(column) for column in zip(*entries, strict=True)]
        if entries
        else None
    )
    if parts is None:
        parts = [np.empty(0, np.int64), *(np.empty(0, np.int8) for _ in range(2))]
        parts += [np.empty(0), np.empty(0, np.int8)]
    rows, fault_code, field_code, magnitude, detail_code = parts
    order = np.argsort(position[rows], kind="stable")
    rows = rows[order]
    inputs = combined[rows]
    machine = frame["machine_id"]
    classes = [FAULT_CLASSES[name] for name in FAULT_TYPES]
    class_names = sorted(set(classes))
    class_code = np.array([class_names.index(c) for c in classes], np.int8)
    fault_code = fault_code[order]
    return pd.DataFrame(
        {
            "fault_type": pd.Categorical.from_codes(fault_code, FAULT_TYPES),
            "fault_class": pd.Categorical.from_codes(
                class_code[fault_code], class_names
            ),
            "machine_id": pd.Categorical.from_codes(
                machine.cat.codes.to_numpy()[inputs], machine.cat.categories
            ),
            "seq": frame["seq"].to_numpy()[inputs],
            "field": pd.Categorical.from_codes(field_code[order], _FIELDS),
            "position": position[rows],
            "magnitude": magnitude[order],
            "detail": pd.Categorical.from_codes(detail_code[order], _DETAILS),
        }
    )


def inject_stream(
    chunks: Iterable[pd.DataFrame], config: FaultConfig
) -> Iterator[FaultedBatch]:
    """Inject faults into a stream of reading chunks, one batch per chunk.

    Each chunk draws from its own random stream, so the result does not
    depend on how fast the stream is consumed. Runs and displacements stay
    inside their chunk.

    Parameters
    ----------
    chunks : iterable of pandas.DataFrame
        For example :meth:`FactorySimulator.chunks`.
    config : FaultConfig
        Fault rates and seed.
    """
    for index, chunk in enumerate(chunks):
        yield inject(chunk, config, stream=index)
