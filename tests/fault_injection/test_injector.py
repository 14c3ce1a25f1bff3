"""Tests of the fault injector: rates, reproducibility and the fault log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.core.schema import SchemaError, decode_reading
from smartfactory_lib.faults import (
    FAULT_TYPES,
    MALFORMED_KINDS,
    FaultConfig,
    FaultedBatch,
    inject,
    inject_stream,
)
from smartfactory_lib.simulation import FactoryConfig, FactorySimulator, simulate


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    """Six machines for four hours: 86,400 clean readings."""
    return simulate(6, 4, seed=5).readings


@pytest.fixture(scope="module")
def faulted(clean: pd.DataFrame) -> FaultedBatch:
    """The clean readings with 27 % of them faulty, 3 % per fault type."""
    return inject(clean, FaultConfig.uniform(0.27, seed=9))


def test_each_fault_type_appears_at_its_rate(
    clean: pd.DataFrame, faulted: FaultedBatch
) -> None:
    """Check every type's share of readings is within one run (20 readings) of 3 %."""
    tolerance = 20 / len(clean)

    for name, count in faulted.counts().items():
        assert abs(count / len(clean) - 0.03) <= tolerance, name


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.2, 0.5])
def test_total_fault_rate_holds(clean: pd.DataFrame, rate: float) -> None:
    """Check the overall share of faulty readings for several rates."""
    batch = inject(clean, FaultConfig.uniform(rate, seed=1))

    share = len(batch.log) / len(clean)

    assert share == pytest.approx(rate, abs=9 * 20 / len(clean))


def test_injection_is_reproducible_by_seed(clean: pd.DataFrame) -> None:
    """Check the same seed gives the same faults and another seed other faults."""
    first = inject(clean, FaultConfig.uniform(0.1, seed=4))
    again = inject(clean, FaultConfig.uniform(0.1, seed=4))
    other = inject(clean, FaultConfig.uniform(0.1, seed=5))

    pd.testing.assert_frame_equal(first.readings, again.readings)
    pd.testing.assert_frame_equal(first.log, again.log)
    assert not first.log["position"].equals(other.log["position"])


def test_clean_readings_are_left_alone(
    clean: pd.DataFrame, faulted: FaultedBatch
) -> None:
    """Check that readings without a fault are delivered unchanged."""
    untouched = faulted.readings[faulted.readings["fault"] == "none"]
    original = clean.set_index(["machine_id", "seq"]).loc[
        pd.MultiIndex.from_frame(untouched[["machine_id", "seq"]])
    ]

    np.testing.assert_array_equal(untouched["temperature_c"], original["temperature_c"])
    np.testing.assert_array_equal(untouched["ts"], original["ts"])


def _logged(batch: FaultedBatch, name: str) -> pd.DataFrame:
    return batch.log[batch.log["fault_type"] == name]


def test_log_points_at_sensor_faults(
    clean: pd.DataFrame, faulted: FaultedBatch
) -> None:
    """Check dropouts are missing, spikes and drifts moved by their magnitude."""
    rows = faulted.readings
    original = clean.set_index(["machine_id", "seq"])
    for entry in _logged(faulted, "dropout").itertuples():
        assert np.isnan(rows.at[entry.position, entry.field])
    for name in ("spike", "calibration_drift"):
        for entry in _logged(faulted, name).head(200).itertuples():
            before = original.at[(entry.machine_id, entry.seq), entry.field]
            after = rows.at[entry.position, entry.field]
            assert after - before == pytest.approx(entry.magnitude)
    for entry in _logged(faulted, "stuck_at").head(200).itertuples():
        assert rows.at[entry.position, entry.field] == entry.magnitude


def test_stuck_at_holds_one_value_for_a_run(faulted: FaultedBatch) -> None:
    """Check a stuck sensor repeats one value over consecutive readings."""
    stuck = _logged(faulted, "stuck_at")
    first = stuck.iloc[0]
    run = stuck[
        (stuck["machine_id"] == first.machine_id) & (stuck["field"] == first.field)
    ]
    run = run[run["seq"].between(first.seq, first.seq + 19)]

    assert len(run) == 20
    assert run["seq"].diff().dropna().eq(1).all()
    assert run["magnitude"].nunique() == 1


def test_log_points_at_clock_faults(clean: pd.DataFrame, faulted: FaultedBatch) -> None:
    """Check skewed and drifting clocks moved timestamps by the logged offset."""
    original = clean.set_index(["machine_id", "seq"])["ts"]
    for name in ("timestamp_drift", "clock_skew"):
        for entry in _logged(faulted, name).head(200).itertuples():
            moved = faulted.readings.at[entry.position, "ts"]
            offset = (moved - original[(entry.machine_id, entry.seq)]).total_seconds()
            assert offset == pytest.approx(entry.magnitude, abs=1e-3)
    skews = _logged(faulted, "clock_skew")["magnitude"].abs()
    assert skews.between(600, 10_800).all()


def test_transport_faults_repeat_reorder_and_corrupt(
    clean: pd.DataFrame, faulted: FaultedBatch
) -> None:
    """Check duplicates repeat a reading, late ones arrive late, malformed fail."""
    rows = faulted.readings
    keys = rows[["machine_id", "seq"]]
    n_duplicates = len(_logged(faulted, "duplicate"))

    assert len(rows) == len(clean) + n_duplicates
    assert keys.duplicated().sum() == n_duplicates
    late = _logged(faulted, "out_of_order")
    per_machine = rows.groupby("machine_id", observed=True)["seq"].diff()
    assert (per_machine < 0).sum() >= len(late)
    payloads = faulted.payloads()
    reasons = {
        "invalid_json": "invalid_json",
        "wrong_type": "wrong_type",
        "missing_field": "missing_field",
    }
    for entry in _logged(faulted, "malformed").itertuples():
        with pytest.raises(SchemaError) as caught:
            decode_reading(payloads[entry.position])
        assert caught.value.reason == reasons[entry.detail]
    assert set(_logged(faulted, "malformed")["detail"]) == set(MALFORMED_KINDS)


def test_every_delivered_row_has_a_payload(faulted: FaultedBatch) -> None:
    """Check the payloads are one per delivered row and the clean ones decode."""
    payloads = faulted.payloads()
    clean_rows = np.flatnonzero(faulted.readings["fault"].to_numpy() == "none")

    assert len(payloads) == len(faulted.readings)
    for position in clean_rows[:500]:
        decode_reading(payloads[position])


def test_inject_stream_applies_to_each_chunk() -> None:
    """Check stream injection logs faults per chunk at the configured rate."""
    sim = FactorySimulator(FactoryConfig(n_machines=4, seed=2), 3)
    config = FaultConfig({"spike": 0.05, "duplicate": 0.05}, seed=3)

    batches = list(inject_stream(sim.chunks(), config))

    assert len(batches) == 3
    for batch in batches:
        counts = batch.counts()
        assert counts["spike"] == counts["duplicate"] == round(0.05 * 4 * 3600)
        assert len(batch.readings) == 4 * 3600 + counts["duplicate"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FaultConfig({"gremlins": 0.1}), "fault types must be among"),
        (
            lambda: FaultConfig({"spike": 1.5}),
            "rate of spike must be between 0 and 1, got 1.5",
        ),
        (
            lambda: FaultConfig({"spike": 0.6, "dropout": 0.6}),
            "add up to at most 1, got 1.2",
        ),
        (
            lambda: FaultConfig.uniform(-0.1),
            "fault_rate must be between 0 and 1, got -0.1",
        ),
        (lambda: FaultConfig.uniform(0.1, types=[]), "at least one fault type"),
        (
            lambda: FaultConfig(run_length=0),
            "run_length must be between 1 and 10000, got 0",
        ),
    ],
)
def test_bad_fault_config_fails_clearly(make: object, message: str) -> None:
    """Check that a bad fault configuration names what it expected and got."""
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_all_types_are_known() -> None:
    """Check the nine fault types the book teaches are all injectable."""
    assert len(FAULT_TYPES) == 9
    batch = inject(simulate(2, 1).readings, FaultConfig.uniform(0.9, seed=0))
    assert all(count > 0 for count in batch.counts().values())
