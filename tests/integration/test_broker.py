"""Integration tests of the broker: TLS, passwords and per-device ACLs on mosquitto."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import paho.mqtt.client as mqtt
import pytest

from smartfactory_lib.transport import (
    Broker,
    Device,
    DeviceCredentials,
    Subscriber,
    find_mosquitto,
)
from smartfactory_lib.transport import broker as broker_module
from smartfactory_lib.transport.device import connect_client

pytestmark = pytest.mark.mosquitto

PASSWORDS = {"m0001": "alpha-password", "m0002": "bravo-password"}


@pytest.fixture
def broker() -> Iterator[Broker]:
    if find_mosquitto() is None:
        pytest.skip("needs the mosquitto binary (.ci/run installs it)")
    with Broker(users=PASSWORDS, implementation="mosquitto") as running:
        yield running


@pytest.fixture
def reader(broker: Broker) -> DeviceCredentials:
    return DeviceCredentials("ingest", broker.add_service_user("ingest"))


def _device(broker: Broker, machine_id: str, password: str, **kwargs: object) -> Device:
    return Device(
        machine_id,
        "s01",
        "s01-l01",
        broker.endpoint,
        DeviceCredentials(machine_id, password),
        **kwargs,  # type: ignore[arg-type]
    )


def test_broker_listens_on_loopback_with_tls(broker: Broker) -> None:
    """Check that the broker runs on 127.0.0.1 with a CA clients can trust."""
    endpoint = broker.endpoint

    assert broker.implementation == "mosquitto"
    assert endpoint.host == "127.0.0.1"
    assert endpoint.port > 0
    assert endpoint.tls and endpoint.ca_file is not None and endpoint.ca_file.exists()


def test_broker_accepts_device_with_its_password(broker: Broker) -> None:
    """Check that a device with the right password connects and says online."""
    device = _device(broker, "m0001", PASSWORDS["m0001"])

    device.connect()
    connected = device.connected
    device.close()

    assert connected
    assert device.stats.connects == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("m0001", "wrong-password"), ("m0001", "bravo-password"), ("nobody", "x")],
    ids=["wrong-password", "other-devices-password", "unknown-user"],
)
def test_broker_refuses_bad_credentials(
    broker: Broker, username: str, password: str
) -> None:
    """Check that a wrong password or an unknown user is refused."""
    device = _device(broker, username, password)

    with pytest.raises(ConnectionRefusedError, match="Not authorized"):
        device.connect(timeout=5)


def test_broker_refuses_anonymous_client(broker: Broker) -> None:
    """Check that a client without username and password is refused."""
    device = Device("m0001", "s01", "s01-l01", broker.endpoint, None)

    with pytest.raises(ConnectionRefusedError, match="Not authorized"):
        device.connect(timeout=5)


def test_broker_refuses_plain_tcp_client(broker: Broker) -> None:
    """Check that a client without TLS cannot talk to the TLS listener."""
    plain = replace(broker.endpoint, ca_file=None)
    device = Device(
        "m0001", "s01", "s01-l01", plain, DeviceCredentials("m0001", PASSWORDS["m0001"])
    )

    with pytest.raises(ConnectionError, match="closed the connection"):
        device.connect(timeout=5)
    assert not device.connected


def test_broker_refuses_client_that_trusts_another_ca(
    broker: Broker, tmp_path: object
) -> None:
    """Check that a client trusting a different CA refuses the broker."""
    with Broker(implementation="mosquitto") as other:
        foreign = replace(broker.endpoint, ca_file=other.ca_file)
        device = Device(
            "m0001",
            "s01",
            "s01-l01",
            foreign,
            DeviceCredentials("m0001", PASSWORDS["m0001"]),
        )

        with pytest.raises((ConnectionError, TimeoutError)):
            device.connect(timeout=3)


def test_acl_drops_publish_to_another_devices_topic(
    broker: Broker, reader: DeviceCredentials
) -> None:
    """Check that device m0001 publishing on m0002's topic delivers nothing."""
    received: list[str] = []
    subscriber = Subscriber(
        broker.endpoint,
        reader,
        topic="factory/#",
        on_message=lambda topic, payload: received.append(topic),
    )
    client = connect_client(broker.endpoint, "m0001", PASSWORDS["m0001"])
    client.connect(broker.host, broker.port)
    client.loop_start()

    with subscriber:
        forged = client.publish("factory/s01/s01-l01/m0002/telemetry", b"forged", qos=1)
        forged.wait_for_publish(5)
        own = client.publish("factory/s01/s01-l01/m0001/telemetry", b"marker", qos=1)
        own.wait_for_publish(5)
        deadline = time.monotonic() + 15
        while "factory/s01/s01-l01/m0001/telemetry" not in received:
            assert time.monotonic() < deadline, "the device's own message never came"
            time.sleep(0.01)
        time.sleep(0.2)
    client.disconnect()
    client.loop_stop()

    assert forged.rc == mqtt.MQTT_ERR_SUCCESS  # the broker acknowledges, then drops
    assert "factory/s01/s01-l01/m0002/telemetry" not in received
    assert received.count("factory/s01/s01-l01/m0001/telemetry") == 1


def test_acl_keeps_reader_services_from_publishing(
    broker: Broker, reader: DeviceCredentials
) -> None:
    """Check a reader service publishing below its own name delivers nothing."""
    received: list[str] = []
    admin = DeviceCredentials("watcher", broker.add_service_user("watcher", "admin"))
    subscriber = Subscriber(
        broker.endpoint,
        admin,
        topic="factory/#",
        on_message=lambda topic, payload: received.append(topic),
    )
    client = connect_client(broker.endpoint, reader.username, reader.password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    device = connect_client(broker.endpoint, "m0001", PASSWORDS["m0001"])
    device.connect(broker.host, broker.port)
    device.loop_start()

    with subscriber:
        topic = f"factory/s01/s01-l01/{reader.username}/telemetry"
        client.publish(topic, b"forged", qos=1).wait_for_publish(5)
        device.publish("factory/s01/s01-l01/m0001/telemetry", b"marker", qos=1)
        deadline = time.monotonic() + 15
        while "factory/s01/s01-l01/m0001/telemetry" not in received:
            assert time.monotonic() < deadline, "the device's own message never came"
            time.sleep(0.01)
        time.sleep(0.2)
    for each in (client, device):
        each.disconnect()
        each.loop_stop()

    assert topic not in received


def test_acl_keeps_devices_from_subscribing(broker: Broker) -> None:
    """Check that a device may not read other machines' telemetry."""
    received: list[bytes | bytearray] = []
    spy = connect_client(broker.endpoint, "m0001", PASSWORDS["m0001"])
    spy.on_message = lambda client, userdata, message: received.append(message.payload)
    spy.connect(broker.host, broker.port)
    spy.loop_start()
    spy.subscribe("factory/#", qos=1)
    time.sleep(0.3)

    with _device(broker, "m0002", PASSWORDS["m0002"], qos=1) as device:
        device.publish_payloads([b"secret reading"])
    time.sleep(0.3)
    spy.disconnect()
    spy.loop_stop()

    assert b"secret reading" not in received


def test_broker_adds_user_while_running(broker: Broker) -> None:
    """Check that a user added to a running broker can connect at once."""
    broker.add_user("m0003", "charlie-password")

    with _device(broker, "m0003", "charlie-password") as device:
        assert device.connected


def test_last_will_reports_lost_device(
    broker: Broker, reader: DeviceCredentials
) -> None:
    """Check that the broker publishes 'lost' when a device vanishes."""
    with Subscriber(broker.endpoint, reader) as subscriber:
        device = _device(broker, "m0001", PASSWORDS["m0001"]).connect()
        deadline = time.monotonic() + 15
        while subscriber.statuses.get("m0001", {}).get("state") != "online":
            assert time.monotonic() < deadline, "no online status"
            time.sleep(0.01)
        sock = device._client.socket()
        assert sock is not None
        sock.close()  # a crash: no DISCONNECT is sent
        device._client.loop_stop()
        while subscriber.statuses.get("m0001", {}).get("state") != "lost":
            assert time.monotonic() < deadline + 60, "no last will"
            time.sleep(0.05)

    assert subscriber.statuses["m0001"]["machine_id"] == "m0001"


def test_broker_rejects_bad_settings() -> None:
    """Check that bad broker settings say what was expected."""
    with pytest.raises(ValueError, match="port must be between 0 and 65535, got 70000"):
        Broker(port=70000)
    with pytest.raises(ValueError, match="implementation must be one of"):
        Broker(implementation="hivemq")  # type: ignore[arg-type]


def test_broker_falls_back_to_amqtt_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Check that without mosquitto the broker warns and picks amqtt."""
    monkeypatch.setattr(broker_module, "find_mosquitto", lambda: None)

    with pytest.warns(RuntimeWarning, match="falling back to the pure-Python amqtt"):
        fallback = Broker()
    fallback.close()

    assert fallback.implementation == "amqtt"


def test_amqtt_fallback_enforces_passwords_and_topics() -> None:
    """Check that the amqtt fallback refuses bad passwords and foreign topics."""
    pytest.importorskip("amqtt", reason="amqtt is the optional fallback broker")
    with Broker(users=PASSWORDS, implementation="amqtt") as fallback:
        reader = DeviceCredentials("ingest", fallback.add_service_user("ingest"))
        seen: list[str] = []
        spy = Subscriber(
            fallback.endpoint,
            reader,
            topic="factory/#",
            on_message=lambda topic, payload: seen.append(topic),
        )
        with spy, _device(fallback, "m0001", PASSWORDS["m0001"]) as device:
            device._client.publish("factory/s01/s01-l01/m0002/telemetry", b"{}", 1)
            device.publish_payloads([b"{}"])
            device.flush(10)
            deadline = time.monotonic() + 10
            while device.topic not in seen and time.monotonic() < deadline:
                time.sleep(0.01)
        with pytest.raises(ConnectionRefusedError, match="Not authorized"):
            _device(fallback, "m0001", "wrong-password").connect(timeout=5)

    assert seen == ["factory/s01/s01-l01/m0001/telemetry"]
