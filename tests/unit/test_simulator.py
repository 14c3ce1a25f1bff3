"""Tests of the factory simulator: physics, failures, labels and modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.core.schema import COLUMNS, FAILURE_MODES, validate_frame
from smartfactory_lib.simulation import (
    FactoryConfig,
    FactorySimulator,
    Simulation,
    build_layout,
    simulate,
)
from smartfactory_lib.simulation import simulator as simulator_module


def test_simulate_is_deterministic_for_a_seed(seed: int) -> None:
    """Check that the same seed gives the same readings and another seed does not."""
    first = simulate(4, 2, seed=seed)
    again = simulate(4, 2, seed=seed)
    other = simulate(4, 2, seed=seed + 1)

    pd.testing.assert_frame_equal(first.readings, again.readings)
    pd.testing.assert_frame_equal(first.failures, again.failures)
    assert not np.allclose(
        first.readings["temperature_c"], other.readings["temperature_c"]
    )


def test_batch_chunks_and_stream_agree(seed: int) -> None:
    """Check that batch, chunked and streamed readings are the same readings."""
    sim = FactorySimulator(FactoryConfig(n_machines=3, seed=seed, rate_hz=0.5), 2.5)

    batch = sim.run().readings
    chunked = pd.concat(list(sim.chunks()), ignore_index=True)
    streamed = list(sim.stream())

    pd.testing.assert_frame_equal(batch, chunked)
    assert len(streamed) == len(batch)
    for k in (0, 1799, len(batch) - 1):
        assert streamed[k]["seq"] == batch["seq"].iloc[k]
        assert streamed[k]["temperature_c"] == batch["temperature_c"].iloc[k]


def test_readings_follow_the_schema() -> None:
    """Check identity fields, dtypes, sequence numbers and UTC timestamps."""
    sim = simulate(5, 1, rate_hz=2.0)
    readings = sim.readings

    validate_frame(readings)
    assert list(readings.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert len(readings) == 5 * 3600 * 2
    per_machine = readings.groupby("machine_id", observed=True)["seq"]
    assert (per_machine.diff().dropna() == 1).all()
    assert (per_machine.min() == 0).all()
    assert str(readings["ts"].dt.tz) == "UTC"
    assert readings["ts"].diff().max() == pd.Timedelta(milliseconds=500)


def test_layout_groups_machines_in_lines_and_sites() -> None:
    """Check that machines are grouped in lines and lines in sites."""
    layout = simulate(30, 0.01).layout

    assert layout["line"].nunique() == 30 // 4 + 1
    assert layout["site"].nunique() == 3
    assert layout.groupby("line")["site"].nunique().max() == 1


def test_signals_are_physically_coupled(day_of_factory: Simulation) -> None:
    """Check the couplings: heat follows power, humidity falls as the hall warms."""
    healthy = day_of_factory.readings.query("anomaly == 0")
    healthy = healthy.assign(rise=healthy["temperature_c"] - healthy["ambient_c"])

    def per_machine(a: str, b: str) -> pd.Series:
        groups = healthy.groupby("machine_id", observed=True)
        return groups[[a, b]].apply(lambda g: np.corrcoef(g[a], g[b])[0, 1])

    # The thermal lag blurs the coupling on machines whose load hardly changes.
    heat = per_machine("power_kw", "rise")
    assert heat.median() > 0.85 and heat.min() > 0.3
    assert (per_machine("load_pct", "power_kw") > 0.95).all()
    assert (per_machine("ambient_c", "humidity_pct") < -0.5).all()
    assert (per_machine("spindle_rpm", "vibration_mm_s") > 0.5).all()


def test_ambient_follows_a_daily_cycle(day_of_factory: Simulation) -> None:
    """Check that afternoons are warmer than nights in every site."""
    readings = day_of_factory.readings
    hour = readings["ts"].dt.hour
    by_hour = readings.groupby([readings["site"], hour], observed=True)["ambient_c"]
    mean = by_hour.mean().unstack()

    assert (mean[15] > mean[3] + 2.0).all()


def test_every_failure_mode_occurs_with_ground_truth(
    day_of_factory: Simulation,
) -> None:
    """Check that each failure mode occurs and labels its readings."""
    readings, failures = day_of_factory.readings, day_of_factory.failures

    assert set(failures["failure_mode"]) == set(FAILURE_MODES[1:])
    labelled = readings.loc[readings["anomaly"] == 1, "failure_mode"]
    assert set(labelled.unique()) == set(FAILURE_MODES[1:])
    assert (readings.loc[readings["anomaly"] == 0, "failure_mode"] == "none").all()


def _window(
    readings: pd.DataFrame, machine: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    mine = readings[readings["machine_id"] == machine]
    return mine[(mine["ts"] >= start) & (mine["ts"] < end)]


def test_failures_are_preceded_by_their_degradation_signal(
    day_of_factory: Simulation,
) -> None:
    """Check bearing wear raises vibration and overheating raises temperature."""
    readings = day_of_factory.readings
    hour = pd.Timedelta(hours=1)
    checked = 0
    for event in day_of_factory.failures.itertuples():
        if (
            event.failure_mode == "electrical"
            or event.onset - 2 * hour < readings["ts"].min()
        ):
            continue
        before = _window(
            readings, event.machine_id, event.onset - 2 * hour, event.onset
        )
        late = _window(
            readings, event.machine_id, event.failure - hour / 4, event.failure
        )
        before, late = before[before["load_pct"] > 20], late[late["load_pct"] > 20]
        if before.empty or late.empty:
            continue  # the machine was idle (night shift) around the event
        if event.failure_mode == "bearing_wear":
            ratio = late["vibration_mm_s"].median() / before["vibration_mm_s"].median()
            assert ratio > 2.5, f"{event}: vibration grew only {ratio:.2f}x"
        else:
            excess = lambda w: (w["temperature_c"] - w["ambient_c"]).median()  # noqa: E731
            assert excess(late) > excess(before) + 10.0, f"{event}: no heating"
        checked += 1

    assert checked >= 3


def test_electrical_faults_give_no_warning(day_of_factory: Simulation) -> None:
    """Check the electrical failure: labelled only from the trip, a surge before."""
    readings = day_of_factory.readings
    electrical = day_of_factory.failures.query("failure_mode == 'electrical'")

    assert (electrical["onset"] == electrical["failure"]).all()
    event = electrical.iloc[0]
    mine = readings[readings["machine_id"] == event.machine_id]
    down = mine[(mine["ts"] > event.failure) & (mine["ts"] < event.repair_end)]
    assert (down["load_pct"] == 0).all() and (down["anomaly"] == 1).all()


def test_time_to_failure_counts_down_to_the_failure(day_of_factory: Simulation) -> None:
    """Check that time to failure is defined before a failure and reaches zero."""
    readings = day_of_factory.readings
    event = day_of_factory.failures.iloc[0]
    mine = readings[readings["machine_id"] == event.machine_id]
    before = mine[mine["ts"] < event.failure]
    after = mine[(mine["ts"] >= event.failure) & (mine["ts"] < event.repair_end)]

    expected = (event.failure - before["ts"]).dt.total_seconds()
    np.testing.assert_allclose(before["time_to_failure_s"], expected, atol=0.01)
    assert after["time_to_failure_s"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_machines": 0}, "n_machines must be between 1 and 5000, got 0"),
        ({"n_machines": 6000}, "n_machines must be between 1 and 5000, got 6000"),
        ({"rate_hz": 0.0}, "rate_hz must be between 0.001 and 50, got 0.0"),
        ({"hours": -1.0}, "hours must be between 0.01 and 8784, got -1.0"),
        ({"failure_rates": {"meltdown": 1.0}}, "failure_rates keys must be among"),
        ({"failure_rates": {"electrical": -1.0}}, "failure_rate must be between"),
    ],
)
def test_bad_settings_fail_clearly(kwargs: dict[str, object], message: str) -> None:
    """Check that a bad setting names itself, its range and the value given."""
    arguments: dict[str, object] = {"n_machines": 2, "hours": 1.0, **kwargs}

    with pytest.raises(ValueError, match=message):
        simulate(**arguments)  # type: ignore[arg-type]


def test_stream_paces_readings_in_accelerated_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that the stream sleeps so that simulated time runs at ``speed``."""
    clock = {"now": 0.0}
    sleeps: list[float] = []
    monkeypatch.setattr(simulator_module.time, "monotonic", lambda: clock["now"])

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(simulator_module.time, "sleep", fake_sleep)
    sim = FactorySimulator(FactoryConfig(n_machines=2), 0.01)

    readings = list(sim.stream(speed=10.0))

    assert len(readings) == 72
    assert clock["now"] == pytest.approx(35 / 10.0)
    assert len(sleeps) == 35
    with pytest.raises(ValueError, match="speed must be positive or None, got 0"):
        next(sim.stream(speed=0))


def test_an_edited_layout_changes_the_shift_pattern() -> None:
    """Check a layout with three shifts everywhere keeps every spindle on at night."""
    config = FactoryConfig(n_machines=4, rate_hz=1 / 60, seed=3)
    layout = build_layout(config).assign(shifts=3)

    readings = FactorySimulator(config, 24, layout=layout).run().readings

    night = readings[readings["ts"].dt.hour.isin([1, 2, 3])]
    running = readings["anomaly"] == 0
    assert (night.loc[running, "spindle_rpm"] > 0).mean() > 0.9
    with pytest.raises(ValueError, match="layout must have 4 rows"):
        FactorySimulator(config, 1, layout=layout.iloc[:2])
