"""Vectorized factory simulator: coupled signals, degradation and failures.

The simulator computes whole blocks of time for every machine at once with
numpy. Each block ("chunk") has its own random stream derived from the seed,
and the only state carried from one chunk to the next is each machine's
thermal state, so a batch run and a stream of the same configuration produce
the same readings, and any chunk can be recomputed alone.

The physics, per machine:

- the hall's ambient temperature follows a daily cycle and humidity falls as
  it warms;
- load follows the shift pattern with slow variation, spindle speed and power
  follow load;
- housing temperature follows power through a first-order thermal lag;
- vibration grows with spindle speed and with bearing wear, which
  accumulates with running hours and is reset by each repair.

Failure modes, with ground truth on every reading:

- ``bearing_wear``: vibration grows quadratically over 6-18 h before the
  failure (and the bearing runs a little warmer);
- ``overheating``: the cooling degrades over 0.5-2 h, so the housing
  temperature climbs although the load does not change;
- ``electrical``: no warning at all; a short power surge, then the machine
  trips. No model can see it coming, and the book says so.

After a failure the machine is down for a repair (load, speed and power near
zero) and then runs again with a fresh bearing.

Sensor noise is taken from a seeded bank of two million Gaussian samples at
random offsets instead of being drawn afresh for every reading. That is
several times cheaper, and for the analyses in this book indistinguishable
from fresh draws; it does mean that two readings far apart may share the same
noise sequence, so do not use this simulator to study noise statistics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from ..core.schema import FAILURE_MODES, SCHEMA_VERSION, SIGNAL_NAMES
from .factory import FactoryConfig, build_layout, check_range

__all__ = ["CHUNK_SECONDS", "FactorySimulator", "Simulation", "simulate"]

logger = logging.getLogger(__name__)

CHUNK_SECONDS: Final = 3600
"""Simulated seconds computed per chunk (one hour)."""

_MODE_CODE: Final = {mode: code for code, mode in enumerate(FAILURE_MODES)}
_DEGRADATION_H: Final = {
    "bearing_wear": (6.0, 18.0),
    "overheating": (0.5, 2.0),
    "electrical": (0.0, 0.0),
}
_REPAIR_H: Final = {
    "bearing_wear": (2.0, 6.0),
    "overheating": (1.0, 3.0),
    "electrical": (0.5, 2.0),
}
_WEAR_PER_HOUR: Final = 0.0004
"""Relative growth of vibration per running hour of the bearing."""
_NOISE_BANK_SIZE: Final = 1 << 21
_SLOW_PERIODS_S: Final = np.array([1800.0, 5400.0, 14400.0])


@dataclass(frozen=True)
class Simulation:
    """The result of a batch run.

    Attributes
    ----------
    readings : pandas.DataFrame
        One row per reading in time order (then machine order), with the
        schema columns and the ground-truth labels.
    failures : pandas.DataFrame
        One row per failure: ``machine_id``, ``failure_mode``, ``onset``
        (start of degradation), ``failure`` and ``repair_end`` timestamps.
    layout : pandas.DataFrame
        One row per machine (see :func:`~.factory.build_layout`).
    seconds : float
        Wall-clock seconds the run took.
    """

    readings: pd.DataFrame
    failures: pd.DataFrame
    layout: pd.DataFrame
    seconds: float


class FactorySimulator:
    """Simulate a factory for a fixed horizon, in batch or as a stream.

    Parameters
    ----------
    config : FactoryConfig
        The factory, its reading rate and its seed.
    hours : float
        Simulated duration. Failures are scheduled over this horizon.
    layout : pandas.DataFrame or None, default None
        The machines, as :func:`~.factory.build_layout` returns them for
        ``config``, edited if need be (three shifts for every machine, say);
        built from ``config`` when None.

    Raises
    ------
    ValueError
        If ``layout`` does not have one row per machine of ``config`` and the
        columns of :func:`~.factory.build_layout`.

    Examples
    --------
    >>> sim = FactorySimulator(FactoryConfig(n_machines=2), hours=0.1)
    >>> len(sim.run().readings)
    720
    """

    def __init__(
        self, config: FactoryConfig, hours: float, layout: pd.DataFrame | None = None
    ) -> None:
        check_range("hours", hours)
        self.config = config
        self.hours = float(hours)
        built = build_layout(config)
        if layout is not None:
            if len(layout) != len(built) or list(layout.columns) != list(built.columns):
                raise ValueError(
                    f"layout must have {len(built)} rows and the columns "
                    f"{', '.join(built.columns)}, got {len(layout)} rows and "
                    f"{', '.join(map(str, layout.columns))}"
                )
            built = layout.reset_index(drop=True)
        self.layout = built
        self.n_steps = max(1, int(round(hours * 3600 * config.rate_hz)))
        self.chunk_steps = max(1, int(round(CHUNK_SECONDS * config.rate_hz)))
        self._dt = 1.0 / config.rate_hz
        self._events = self._schedule_failures()
        bank_rng = np.random.default_rng(np.random.SeedSequence([config.seed, 2]))
        self._noise = bank_rng.standard_normal(_NOISE_BANK_SIZE, dtype=np.float32)
        self._start_ms = int(pd.Timestamp(config.start).value // 1_000_000)
        phase_rng = np.random.default_rng(np.random.SeedSequence([config.seed, 4]))
        self._phases = phase_rng.uniform(
            0, 2 * np.pi, (len(_SLOW_PERIODS_S), config.n_machines)
        )
        lay = self.layout
        self._machine_constants = {
            name: lay[name].to_numpy(dtype=np.float64)
            for name in lay.columns
            if name not in ("machine_id", "site", "line", "shifts")
        }
        self._machine_constants["three_shifts"] = (lay["shifts"] == 3).to_numpy()
        taus = lay["tau_s"].to_numpy()
        self._tau_groups = [
            (tau, np.flatnonzero(taus == tau)) for tau in np.unique(taus)
        ]
        self._site_codes = _codes(lay["site"])
        self._line_codes = _codes(lay["line"])

    @property
    def n_readings(self) -> int:
        """Number of readings the run produces."""
        return self.n_steps * self.config.n_machines

    @property
    def failures(self) -> pd.DataFrame:
        """Ground-truth failure events, one row per failure."""
        start = pd.Timestamp(self.config.start)
        frame = pd.DataFrame(
            self._events,
            columns=["machine", "failure_mode", "onset_s", "failure_s", "repair_s"],
        )
        ids = self.layout["machine_id"].to_numpy()
        frame.insert(0, "machine_id", ids[frame["machine"].to_numpy(dtype=int)])
        for column, source in (
            ("onset", "onset_s"),
            ("failure", "failure_s"),
            ("repair_end", "repair_s"),
        ):
            frame[column] = (start + pd.to_timedelta(frame[source], unit="s")).dt.round(
                "ms"
            )
        return frame.drop(columns=["machine", "onset_s", "failure_s", "repair_s"])

    def _schedule_failures(self) -> list[tuple[int, str, float, float, float]]:
        rng = np.random.default_rng(np.random.SeedSequence([self.config.seed, 1]))
        horizon_s = self.n_steps * self._dt
        days = horizon_s / 86400.0
        events: list[tuple[int, str, float, float, float]] = []
        for machine in range(self.config.n_machines):
            candidates: list[tuple[float, str]] = []
            for mode, rate in sorted(self.config.failure_rates.items()):
                count = rng.poisson(rate * days)
                candidates += [(t, mode) for t in rng.uniform(0, horizon_s, count)]
            candidates.sort()
            free_from = -np.inf
            for failure_s, mode in candidates:
                low, high = _DEGRADATION_H[mode]
                onset_s = failure_s - rng.uniform(low, high) * 3600.0
                repair_s = failure_s + rng.uniform(*_REPAIR_H[mode]) * 3600.0
                if onset_s < free_from:
                    continue
                events.append((machine, mode, onset_s, failure_s, repair_s))
                free_from = repair_s
        logger.info(
            "Scheduled %d failures for %d machines over %.1f h",
            len(events),
            self.config.n_machines,
            horizon_s / 3600.0,
        )
        return events

    def _noise_block(self, rng: np.random.Generator, shape: tuple[int, int]) -> Any:
        size = shape[0] * shape[1]
        if size > _NOISE_BANK_SIZE:
            return rng.standard_normal(shape, dtype=np.float32)
        offset = int(rng.integers(0, _NOISE_BANK_SIZE - size + 1))
        return self._noise[offset : offset + size].reshape(shape)

    def _chunk(
        self, index: int, thermal_state: np.ndarray | None, out: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Compute chunk ``index`` into ``out``; return the new thermal state.

        Arrays are time-major, shaped (steps, machines), so that each one
        ravels into table order without a copy.
        """
        cfg, _lay = self.config, self.layout
        first = index * self.chunk_steps
        steps = min(self.chunk_steps, self.n_steps - first)
        n = cfg.n_machines
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 3, index]))
        t = (first + np.arange(steps)) * self._dt  # seconds since start
        t_abs = t + self._start_ms / 1000.0
        machine = self._machine_constants

        # Machine state from the failure schedule.
        state = self._state(t, steps, out)
        running = ~state["down"]

        # Hall climate: a daily cycle, humidity falling as the hall warms.
        hour = (t_abs % 86400.0) / 3600.0
        daily = np.sin(2 * np.pi * (hour - 9.0) / 24.0)[:, None]
        ambient = out["ambient_c"]
        np.multiply(machine["site_amplitude_c"], daily, out=ambient)
        ambient += machine["site_ambient_c"]
        ambient += 0.1 * self._noise_block(rng, (steps, n))
        humidity = out["humidity_pct"]
        np.subtract(ambient, machine["site_ambient_c"], out=humidity)
        humidity *= -2.0
        humidity += machine["site_humidity_pct"]
        humidity += 0.5 * self._noise_block(rng, (steps, n))
        np.clip(humidity, 5.0, 95.0, out=humidity)

        # Load follows the shift pattern with slow variation.
        # sin(wt + phase) = sin(wt) cos(phase) + cos(wt) sin(phase): two outer
        # products instead of a sine per reading.
        slow = np.zeros((steps, n))
        for k, period in enumerate(_SLOW_PERIODS_S):
            angle = 2 * np.pi * t_abs[:, None] / period
            slow += np.sin(angle) * np.cos(self._phases[k])
            slow += np.cos(angle) * np.sin(self._phases[k])
        day_shift = ((hour >= 6) & (hour < 22))[:, None]
        on_shift = machine["three_shifts"] | day_shift
        load = out["load_pct"]
        np.multiply(slow, 4.0, out=load)
        load += machine["load_level"]
        np.copyto(load, 3.0, where=~on_shift)
        load += 1.5 * self._noise_block(rng, (steps, n))
        np.copyto(load, 0.0, where=~running)
        np.clip(load, 0.0, 105.0, out=load)

        # Speed and power follow load.
        fraction = load / 100.0
        rpm = out["spindle_rpm"]
        np.multiply(machine["nominal_rpm"], 0.2 + 0.8 * fraction, out=rpm)
        # The spindle runs on shift while the machine is up; load noise at idle
        # must not switch it on and off.
        np.copyto(rpm, 0.0, where=~(on_shift & running))
        power = out["power_kw"]
        np.sqrt(fraction, out=power)
        np.sqrt(power, out=power)
        power *= fraction  # fraction ** 1.25: losses grow faster than load
        power *= machine["rated_kw"]
        power += 0.3
        power += 0.1 * self._noise_block(rng, (steps, n))
        np.multiply(power, 3.0, out=power, where=state["surge"])
        np.clip(power, 0.0, None, out=power)

        # Housing temperature: first-order lag on heat input, cooling may fail.
        heat = machine["heat_gain"] * power * state["cooling"]
        heat += 2.0 * (state["wear"] > 1.5)  # a worn bearing runs warmer
        if thermal_state is None:  # start from the steady state of the first step
            thermal_state = heat[0].copy()
        new_state = np.empty(n)
        temperature = out["temperature_c"]
        for tau, rows in self._tau_groups:
            a = np.exp(-self._dt / tau)
            rise, zf = lfilter(
                [1 - a],
                [1, -a],
                heat[:, rows],
                axis=0,
                zi=thermal_state[None, rows] * a,
            )
            temperature[:, rows] = rise
            new_state[rows] = zf[0] / a
        temperature += ambient
        temperature += 0.2 * self._noise_block(rng, (steps, n))

        # Vibration grows with speed and with bearing wear; a stopped spindle
        # leaves only the hall's background vibration.
        vibration = out["vibration_mm_s"]
        np.divide(rpm, machine["nominal_rpm"], out=vibration)
        vibration *= state["wear"]
        vibration *= 0.9
        vibration += 0.1
        vibration *= machine["base_vibration"]
        vibration *= 1.0 + 0.05 * self._noise_block(rng, (steps, n))
        vibration += 0.05
        np.clip(vibration, 0.0, None, out=vibration)

        out["machine"][:] = np.arange(n, dtype=np.int16)
        out["seq"][:] = (first + np.arange(steps, dtype=np.int64))[:, None]
        out["ts"][:] = (self._start_ms + np.round(t * 1000.0).astype(np.int64))[:, None]
        return new_state

    def _state(
        self, t: np.ndarray, steps: int, out: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Per step and machine: wear and cooling factors, downtime, and labels.

        The labels (anomaly, failure mode, time to failure) are written to
        ``out`` directly.
        """
        n = self.config.n_machines
        hours_used = self._machine_constants["initial_wear"] + t[:, None] / 3600.0
        wear = np.ones((steps, n))
        cooling = np.ones((steps, n))
        down = np.zeros((steps, n), dtype=bool)
        surge = np.zeros((steps, n), dtype=bool)
        anomaly, mode, ttf = out["anomaly"], out["mode"], out["ttf"]
        anomaly[:] = 0
        mode[:] = 0
        ttf[:] = np.nan
        t0, t1 = t[0], t[-1]
        previous_repair: dict[int, float] = {}
        for machine, kind, onset, failure, repair in self._events:
            after_last = previous_repair.get(machine, -np.inf)
            previous_repair[machine] = repair
            if repair < t0 or after_last > t1:
                continue
            m = machine
            # Time to failure is defined from the previous repair to this failure.
            before = (t >= after_last) & (t < failure)
            ttf[before, m] = failure - t[before]
            # The bearing is new after the repair.
            renewed = t >= repair
            hours_used[renewed, m] = (t[renewed] - repair) / 3600.0
            window = (t >= onset) & (t < repair)
            anomaly[window, m] = 1
            mode[window, m] = _MODE_CODE[kind]
            down[(t >= failure) & (t < repair), m] = True
            degrading = (t >= onset) & (t < failure)
            progress = (t[degrading] - onset) / max(failure - onset, 1e-9)
            if kind == "bearing_wear":
                wear[degrading, m] = 1.0 + 3.0 * progress**2
            elif kind == "overheating":
                cooling[degrading, m] = 1.0 + 2.5 * progress
            elif kind == "electrical":
                surge[(t >= failure - 5.0) & (t < failure), m] = True
        wear *= 1.0 + _WEAR_PER_HOUR * hours_used
        return {"wear": wear, "cooling": cooling, "down": down, "surge": surge}

    def _buffers(self, steps: int) -> dict[str, np.ndarray]:
        n = self.config.n_machines
        dtypes: dict[str, type] = {name: np.float64 for name in SIGNAL_NAMES}
        dtypes.update(machine=np.int16, seq=np.int64, ts=np.int64)
        dtypes.update(anomaly=np.int8, mode=np.int8, ttf=np.float64)
        return {name: np.empty((steps, n), dtype) for name, dtype in dtypes.items()}

    def _frame(self, buffers: dict[str, np.ndarray]) -> pd.DataFrame:
        columns = {name: array.reshape(-1) for name, array in buffers.items()}
        machine = columns["machine"]
        site_codes, sites = self._site_codes
        line_codes, lines = self._line_codes
        frame = pd.DataFrame(
            {
                "schema_version": np.full(len(machine), SCHEMA_VERSION, np.int8),
                "machine_id": pd.Categorical.from_codes(
                    machine, categories=self.layout["machine_id"].tolist()
                ),
                "site": pd.Categorical.from_codes(site_codes[machine], sites),
                "line": pd.Categorical.from_codes(line_codes[machine], lines),
                "seq": columns["seq"],
                "ts": pd.DatetimeIndex(columns["ts"].view("M8[ms]")).tz_localize("UTC"),
                **{name: columns[name] for name in SIGNAL_NAMES},
                "anomaly": columns["anomaly"],
                "failure_mode": pd.Categorical.from_codes(
                    columns["mode"], categories=list(FAILURE_MODES)
                ),
                "time_to_failure_s": columns["ttf"],
            },
            copy=False,
        )
        return frame

    def _chunk_count(self) -> int:
        return -(-self.n_steps // self.chunk_steps)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield the readings one chunk (one simulated hour) at a time."""
        thermal: np.ndarray | None = None
        for index in range(self._chunk_count()):
            steps = min(self.chunk_steps, self.n_steps - index * self.chunk_steps)
            buffers = self._buffers(steps)
            thermal = self._chunk(index, thermal, buffers)
            yield self._frame(buffers)

    def run(self) -> Simulation:
        """Simulate the whole horizon at once (the batch mode)."""
        started = time.perf_counter()
        buffers = self._buffers(self.n_steps)
        thermal: np.ndarray | None = None
        for index in range(self._chunk_count()):
            first = index * self.chunk_steps
            view = {
                name: b[first : first + self.chunk_steps] for name, b in buffers.items()
            }
            thermal = self._chunk(index, thermal, view)
        readings = self._frame(buffers)
        seconds = time.perf_counter() - started
        logger.info(
            "Simulated %d readings of %d machines in %.2f s",
            len(readings),
            self.config.n_machines,
            seconds,
        )
        return Simulation(readings, self.failures, self.layout, seconds)

    def stream(self, speed: float | None = None) -> Iterator[dict[str, Any]]:
        """Yield readings one by one in time order, paced like a live factory.

        Parameters
        ----------
        speed : float or None, default None
            Simulated seconds per wall-clock second: 1 is real time, 60 runs
            an hour a minute. None yields as fast as the consumer takes them.

        Yields
        ------
        dict
            One reading with the schema fields (``ts`` a pandas Timestamp) and
            its labels, identical to the matching row of :meth:`run`.
        """
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None, got {speed}")
        wall_start = time.monotonic()
        for frame in self.chunks():
            first_ms = self._start_ms
            records = frame.to_dict("records")
            for reading in records:
                if speed is not None:
                    sim_s = (reading["ts"].value // 1_000_000 - first_ms) / 1000.0
                    delay = wall_start + sim_s / speed - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                yield reading


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int32), [str(u) for u in uniques]


def simulate(
    n_machines: int = 12,
    hours: float = 24.0,
    *,
    rate_hz: float = 1.0,
    seed: int = 7,
    **config: Any,
) -> Simulation:
    """Run the factory in batch mode and return readings and ground truth.

    Parameters
    ----------
    n_machines : int, default 12
        Number of machines.
    hours : float, default 24.0
        Simulated duration.
    rate_hz : float, default 1.0
        Readings per machine and second.
    seed : int, default 7
        Seed of every random draw.
    **config
        Further :class:`~.factory.FactoryConfig` fields.

    Returns
    -------
    Simulation
        Readings, failure events and the factory layout.

    Raises
    ------
    ValueError
        If a setting lies outside its allowed range; the message names it.
    """
    factory = FactoryConfig(n_machines=n_machines, rate_hz=rate_hz, seed=seed, **config)
    return FactorySimulator(factory, hours).run()
