"""Integration tests of streaming through mosquitto: nothing lost, bad input aside."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pandas as pd
import pytest

from smartfactory_lib.cli import main
from smartfactory_lib.core.aws import aws_backend
from smartfactory_lib.core.config import Settings
from smartfactory_lib.core.schema import frame_to_payloads
from smartfactory_lib.simulation import simulate
from smartfactory_lib.transport import (
    Broker,
    Device,
    DeviceCredentials,
    Subscriber,
    find_mosquitto,
    load_device_credentials,
    provision_devices,
    publish_fleet,
    stream_readings,
)
from smartfactory_lib.transport.device import connect_client

pytestmark = [
    pytest.mark.mosquitto,
    pytest.mark.skipif(
        find_mosquitto() is None,
        reason="needs the mosquitto binary (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def readings() -> pd.DataFrame:
    return simulate(n_machines=3, hours=0.25, seed=11).readings


@pytest.fixture
def settings() -> Iterator[Settings]:
    with aws_backend(Settings(backend="moto", prefix="sf-test")) as opened:
        yield opened


@pytest.fixture
def broker() -> Iterator[Broker]:
    with Broker(implementation="mosquitto") as running:
        yield running


def _expected(frame: pd.DataFrame) -> dict[str, list[int]]:
    seqs = frame.groupby("machine_id", observed=True)["seq"].unique()
    return {str(m): [int(s) for s in values] for m, values in seqs.items()}


def _connect_fleet(
    frame: pd.DataFrame, broker: Broker, settings: Settings, **kwargs: object
) -> dict[str, Device]:
    places = frame.drop_duplicates("machine_id")
    provision_devices(broker, [str(m) for m in places["machine_id"]], settings)
    devices = {}
    for machine_id, site, line in places[["machine_id", "site", "line"]].itertuples(
        index=False
    ):
        creds = load_device_credentials(str(machine_id), settings)
        devices[str(machine_id)] = Device(
            str(machine_id),
            str(site),
            str(line),
            broker.endpoint,
            creds,
            **kwargs,  # type: ignore[arg-type]
        ).connect()
    return devices


@pytest.mark.parametrize(("qos", "batch_size"), [(1, 1), (1, 40), (0, 40)])
def test_stream_delivers_every_reading(
    readings: pd.DataFrame,
    broker: Broker,
    settings: Settings,
    qos: int,
    batch_size: int,
) -> None:
    """Check that every published reading arrives once, valid, and reconciles."""
    report, subscriber = stream_readings(
        readings, broker, settings, qos=qos, batch_size=batch_size, keep_readings=True
    )

    assert report.published == len(readings)
    assert report.lost == 0 and report.duplicates == 0 and report.malformed == 0
    assert report.reconciled
    assert report.messages == -(-len(readings) // 3 // batch_size) * 3
    received = subscriber.frame().sort_values(["machine_id", "seq"])
    sent = readings.sort_values(["machine_id", "seq"])
    assert received["seq"].tolist() == sent["seq"].tolist()
    assert received["vibration_mm_s"].to_numpy() == pytest.approx(
        sent["vibration_mm_s"].to_numpy(), abs=1e-4
    )


def test_stream_survives_broker_restart(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that at QoS 1 a broker restart mid-stream loses no reading."""
    reader = DeviceCredentials("ingest", broker.add_service_user("ingest"))
    subscriber = Subscriber(broker.endpoint, reader, qos=1, client_id="ingest-1")
    subscriber.start()
    devices = _connect_fleet(readings, broker, settings, qos=1, batch_size=5)
    half = len(readings) // 2

    publish_fleet(readings.iloc[:half], devices)
    broker.restart()
    publish_fleet(readings.iloc[half:], devices)
    flushed = [device.flush(timeout=60) for device in devices.values()]
    deadline = time.monotonic() + 60
    while subscriber.lost(_expected(readings)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for device in devices.values():
        device.close()
    subscriber.stop()
    stats = subscriber.stats()

    assert all(flushed)
    assert subscriber.lost(_expected(readings)) == 0
    assert stats.unique == len(readings)
    assert stats.malformed == 0
    assert stats.readings == stats.unique + stats.duplicates
    assert all(device.stats.connects >= 2 for device in devices.values())


def test_subscriber_sets_malformed_payloads_aside(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that broken payloads are counted with their reason; the stream goes on."""
    reader = DeviceCredentials("ingest", broker.add_service_user("ingest"))
    one = readings[readings["machine_id"] == readings["machine_id"].iloc[0]].head(20)
    machine_id, site, line = (
        str(one[c].iloc[0]) for c in ("machine_id", "site", "line")
    )
    devices = _connect_fleet(one, broker, settings)
    password = load_device_credentials(machine_id, settings).password
    raw = connect_client(broker.endpoint, machine_id, password, client_id="raw")
    raw.connect(broker.host, broker.port)
    raw.loop_start()
    topic = f"factory/{site}/{line}/{machine_id}/telemetry"
    broken = [
        b"",
        b"{not json",
        b'{"schema_version": 1}',
        b"\xff\xfe binary",
        b"[1, 2, 3]",
        frame_to_payloads(one.iloc[:1])[0].replace(machine_id.encode(), b"m9999"),
    ]

    with Subscriber(broker.endpoint, reader) as subscriber:
        devices[machine_id].publish_frame(one.iloc[:10])
        for payload in broken:
            raw.publish(topic, payload, qos=1).wait_for_publish(5)
        devices[machine_id].publish_frame(one.iloc[10:])
        devices[machine_id].flush()
        assert subscriber.wait_for(20 + len(broken), timeout=10, quiet_s=0.1)
    raw.disconnect()
    raw.loop_stop()
    devices[machine_id].close()
    stats = subscriber.stats()

    assert stats.unique == 20
    assert stats.malformed == len(broken)
    assert stats.malformed_by_reason == {
        "empty_payload": 1,
        "invalid_json": 2,
        "missing_field": 1,
        "not_an_object": 1,
        "topic_mismatch": 1,
    }
    assert {r.reason for r in subscriber.rejected} == set(stats.malformed_by_reason)


def test_stream_with_faults_reconciles(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that injected faults are all counted: duplicates, malformed, none lost."""
    faults = pytest.importorskip(
        "smartfactory_lib.faults", reason="the fault injector is not importable"
    )
    batch = faults.inject(readings, faults.FaultConfig.uniform(0.2, seed=5))

    report, _ = stream_readings(
        batch.readings,
        broker,
        settings,
        qos=1,
        batch_size=25,
        payloads=batch.payloads(),
    )

    assert report.published == len(batch.readings)
    assert report.lost == 0
    assert report.reconciled
    assert report.duplicates == batch.counts()["duplicate"]
    assert report.malformed_by_reason.get("invalid_json", 0) > 0
    assert report.malformed >= int(batch.readings["malformed"].sum())


def test_drop_newest_counts_what_it_drops(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that a full offline buffer drops new messages and counts each one."""
    one = readings[readings["machine_id"] == readings["machine_id"].iloc[0]].head(30)
    devices = _connect_fleet(
        one, broker, settings, qos=1, max_buffered=5, overflow="drop_newest"
    )
    device = next(iter(devices.values()))
    broker.stop()
    deadline = time.monotonic() + 10
    while device.connected and time.monotonic() < deadline:
        time.sleep(0.01)

    device.publish_frame(one)

    assert not device.connected
    assert device.stats.readings == 5
    assert device.stats.dropped_readings == 25
    assert device.stats.readings + device.stats.dropped_readings == len(one)
    device._client.loop_stop()


def test_wait_policy_raises_when_buffer_stays_full(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that the wait policy gives up with a clear error, never silently."""
    one = readings[readings["machine_id"] == readings["machine_id"].iloc[0]].head(10)
    devices = _connect_fleet(
        one, broker, settings, qos=1, max_buffered=2, overflow_timeout=0.3
    )
    device = next(iter(devices.values()))
    broker.stop()
    deadline = time.monotonic() + 10
    while device.connected and time.monotonic() < deadline:
        time.sleep(0.01)

    with pytest.raises(RuntimeError, match="could not send for 0.3 s"):
        device.publish_frame(one)
    assert device.stats.readings == 2
    device._client.loop_stop()


def test_stream_command_prints_reconciliation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that `smartfactory stream --json` prints the reconciled counts."""
    code = main(
        ["stream", "--machines", "2", "--minutes", "2", "--batch", "10", "--json"]
    )

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["published"] == result["received"] == 2 * 120
    assert result["lost"] == result["duplicates"] == result["malformed"] == 0
    assert result["readings_per_s"] > 0


def test_stream_command_rejects_bad_fault_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check that a fault rate above 1 exits with code 2 and says why."""
    with pytest.raises(SystemExit) as stopped:
        main(["stream", "--fault-rate", "1.5"])

    assert stopped.value.code == 2
    assert "must be between 0 and 1, got '1.5'" in capsys.readouterr().err


def test_stream_readings_midway_restart_reconciles(
    readings: pd.DataFrame, broker: Broker, settings: Settings
) -> None:
    """Check that the round trip with a restart half-way reports nothing lost."""
    report, _ = stream_readings(
        readings, broker, settings, qos=1, batch_size=20, midway=broker.restart
    )

    assert report.reconnects == 3
    assert report.lost == 0
    assert report.unique == len(readings)
    assert report.reconciled
