"""Unit tests of the transport pieces that need no broker."""

from __future__ import annotations

import base64
import hashlib
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from smartfactory_lib.core.aws import aws_backend
from smartfactory_lib.core.config import Settings
from smartfactory_lib.transport import (
    MAX_MESSAGE_BYTES,
    Device,
    Endpoint,
    SequenceTracker,
    hash_password,
    issue_device_credentials,
    load_device_credentials,
    make_certificates,
    pack_batches,
    secret_name,
    status_topic,
    telemetry_topic,
)


@pytest.mark.parametrize("batch_size", [1, 2, 7, 100])
def test_pack_batches_keeps_order_and_size(batch_size: int) -> None:
    """Check that batches keep every payload, in order, within both caps."""
    payloads = [f'{{"seq":{i},"pad":"{"x" * (i % 50)}"}}'.encode() for i in range(500)]

    messages = pack_batches(payloads, batch_size, max_bytes=4096)

    lines = [line for message in messages for line in message.split(b"\n")]
    assert lines == payloads
    assert all(len(m) <= 4096 for m in messages)
    assert all(m.count(b"\n") < batch_size for m in messages)


def test_pack_batches_fills_up_to_the_byte_cap() -> None:
    """Check that the byte cap, not the batch size, ends a batch when it binds."""
    payloads = [b"x" * 99] * 100  # 100 bytes per line with its newline

    messages = pack_batches(payloads, batch_size=1000, max_bytes=1000)

    assert [m.count(b"\n") + 1 for m in messages] == [10] * 10
    assert all(len(m) == 999 for m in messages)


def test_pack_batches_handles_empty_and_oversized_payloads() -> None:
    """Check that nothing packs to nothing and a too-large reading travels alone."""
    big = b"x" * 5000

    assert pack_batches([], 10) == []
    assert pack_batches([b"{}", big, b"{}"], 10, max_bytes=4096) == [b"{}", big, b"{}"]


def test_pack_batches_rejects_zero_batch() -> None:
    """Check that a batch size below 1 is refused with the value given."""
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        pack_batches([b"{}"], 0)


def test_sequence_tracker_counts_duplicates_and_gaps() -> None:
    """Check duplicates, gaps and missing readings per machine."""
    tracker = SequenceTracker()
    for machine_id, seq in [("a", 0), ("a", 2), ("a", 2), ("b", 1), ("b", 1), ("b", 0)]:
        tracker.observe(machine_id, seq)

    assert tracker.unique == 4
    assert tracker.duplicates == 2
    assert tracker.gaps() == 1
    assert tracker.missing({"a": 4, "b": 2, "c": 1}) == 2 + 0 + 1
    assert tracker.by_machine()["gaps"].tolist() == [1, 0]


def test_hash_password_matches_mosquitto_format() -> None:
    """Check the $7$ PBKDF2-SHA512 format mosquitto 2 reads."""
    salt = bytes(range(12))

    text = hash_password("s3cret", salt=salt)

    _, kind, iterations, salt64, hash64 = text.split("$")
    assert (kind, iterations) == ("7", "101")
    assert base64.b64decode(salt64) == salt
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret", salt, 101)
    assert base64.b64decode(hash64) == expected
    assert hash_password("s3cret") != hash_password("s3cret")  # fresh salts


def test_hash_password_rejects_empty_password() -> None:
    """Check that an empty password is refused."""
    with pytest.raises(ValueError, match="password must not be empty"):
        hash_password("")


def test_certificates_chain_to_their_ca(tmp_path: Path) -> None:
    """Check that the server certificate verifies against the CA for loopback."""
    files = make_certificates(tmp_path)
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())

    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "localhost" in names.value.get_values_for_type(x509.DNSName)
    assert files.server_key.stat().st_mode & 0o077 == 0
    context = ssl.create_default_context(cafile=str(files.ca_cert))
    context.load_cert_chain(files.server_cert, files.server_key)


def test_certificates_reject_bad_validity(tmp_path: Path) -> None:
    """Check that a validity outside 1-3650 days is refused."""
    with pytest.raises(ValueError, match="days must be between 1 and 3650, got 0"):
        make_certificates(tmp_path, days=0)


def test_credentials_round_trip_through_secrets_manager() -> None:
    """Check that issued credentials are stored and read back, and rotate."""
    settings = Settings(backend="moto", prefix="sf-unit")
    with aws_backend(settings):
        first = issue_device_credentials(["m0001", "m0002"], settings)
        loaded = load_device_credentials("m0002", settings)
        rotated = issue_device_credentials(["m0001"], settings)["m0001"]
        reloaded = load_device_credentials("m0001", settings)

        with pytest.raises(KeyError, match="sf-unit-dev-device/m0404"):
            load_device_credentials("m0404", settings)

    assert loaded == first["m0002"]
    assert reloaded == rotated != first["m0001"]
    assert loaded.password not in repr(loaded)
    assert secret_name("m0001", settings) == "sf-unit-dev-device/m0001"


def test_topics_name_the_machine() -> None:
    """Check the topic layout and that wildcards are refused."""
    assert telemetry_topic("s01", "s01-l02", "m0007") == (
        "factory/s01/s01-l02/m0007/telemetry"
    )
    assert status_topic("s01", "l", "m1").endswith("/m1/status")
    with pytest.raises(ValueError, match="machine_id must be a non-empty topic level"):
        telemetry_topic("s01", "l", "m+")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("qos", 2, "qos must be 0 or 1, got 2"),
        ("batch_size", 0, "batch_size must be between 1 and 100000, got 0"),
        ("max_batch_bytes", 100, "max_batch_bytes must be between 4096"),
        ("overflow", "block", "overflow must be one of wait, drop_newest"),
        ("max_buffered", 0, "max_buffered must be at least 1, got 0"),
    ],
)
def test_device_rejects_bad_settings(setting: str, value: object, message: str) -> None:
    """Check that each device setting is checked with a clear message."""
    endpoint = Endpoint("127.0.0.1", 1, None)

    with pytest.raises(ValueError, match=message):
        Device("m0001", "s01", "l01", endpoint, None, **{setting: value})  # type: ignore[arg-type]


def test_message_cap_is_aws_iot_limit() -> None:
    """Check that the default message cap is AWS IoT Core's 128 KiB."""
    assert MAX_MESSAGE_BYTES == 131072


def test_count_only_subscriber_sets_aside_mistyped_keys() -> None:
    """Check a counting subscriber rejects a string seq instead of crashing later."""
    from smartfactory_lib.core.schema import encode_reading
    from smartfactory_lib.simulation import simulate
    from smartfactory_lib.transport.broker import Endpoint
    from smartfactory_lib.transport.subscriber import Subscriber

    rows = simulate(1, 0.01).readings.to_dict("records")
    good = [encode_reading(row) for row in rows[:3]]
    bad = good[1].replace(b'"seq":1,', b'"seq":"1",')
    subscriber = Subscriber(Endpoint("127.0.0.1", 1, None), None, validate=False)
    topic = "factory/s01/s01-l01/m0001/telemetry"

    subscriber._telemetry(topic, b"\n".join([good[0], bad, good[2]]))
    stats = subscriber.stats()

    assert stats.readings == 3
    assert stats.unique == 2
    assert stats.malformed_by_reason == {"wrong_type": 1}
