"""Property-based fuzzing of validation and of the ingest handler with bad records."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartfactory_lib.cloud.handler import IngestHandler
from smartfactory_lib.cloud.resources import Resources, ensure_resources
from smartfactory_lib.cloud.storage import read_jsonl
from smartfactory_lib.cloud.validation import REASONS, validate_batch, validate_reading
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.core.schema import WIRE_FIELDS, SchemaError, parse_timestamp

TS = "2026-01-05T08:00:00.000Z"
ARRIVAL = parse_timestamp(TS).timestamp()
GOOD: dict[str, Any] = {
    "schema_version": 1,
    "machine_id": "m0001",
    "site": "s01",
    "line": "s01-l01",
    "seq": 1,
    "ts": TS,
    "ambient_c": 20.0,
    "humidity_pct": 50.0,
    "load_pct": 60.0,
    "spindle_rpm": 3000.0,
    "power_kw": 10.0,
    "temperature_c": 40.0,
    "vibration_mm_s": 1.5,
}

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def altered_reading(draw: st.DrawFn) -> bytes:
    body = dict(GOOD, seq=draw(st.integers(0, 10**6)))
    for name in draw(st.lists(st.sampled_from(WIRE_FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body[name] = draw(odd_values)
        else:
            body.pop(name)
    text = json.dumps(body, allow_nan=True, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


payloads = st.one_of(
    altered_reading(),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(min_size=4097, max_size=6000),
    st.just(b""),
    st.just(json.dumps(GOOD).encode()),
)


def _exact(payload: bytes) -> str | None:
    try:
        validate_reading(payload, ARRIVAL)
    except SchemaError as exc:
        return exc.reason
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(payloads, min_size=1, max_size=40))
def test_validate_batch_never_crashes_and_matches_exact_path(
    batch: list[bytes],
) -> None:
    """Check every record is accepted or rejected exactly as one by one."""
    result = validate_batch(batch, ARRIVAL)

    reasons = {r.position: r.reason for r in result.rejections}
    assert set(reasons) | set(result.positions.tolist()) == set(range(len(batch)))
    assert not set(reasons) & set(result.positions.tolist())
    for position, payload in enumerate(batch):
        assert reasons.get(position) == _exact(payload)
    assert set(reasons.values()) <= set(REASONS)
    for value in result.readings["temperature_c"].dropna():
        assert math.isfinite(value)


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[Settings, Resources]]:
    """Moto in-process with every pipeline resource, shared by the examples."""
    settings_ = Settings(backend="moto", region="eu-west-1", environment="fuzz")
    with aws_backend(settings_):
        yield settings_, ensure_resources(settings_)


_counter = {"seq": 0}


def _event(batch: list[bytes]) -> dict[str, Any]:
    records = []
    for payload in batch:
        _counter["seq"] += 1
        number = str(10**20 + _counter["seq"])
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "m0001",
                    "sequenceNumber": number,
                    "data": base64.b64encode(payload).decode(),
                    "approximateArrivalTimestamp": ARRIVAL,
                },
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{number}",
                "eventName": "aws:kinesis:record",
                "eventVersion": "1.0",
                "awsRegion": "eu-west-1",
            }
        )
    return {"Records": records}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(payloads, min_size=1, max_size=30))
def test_handler_quarantines_every_bad_record_with_reason(
    cloud: tuple[Settings, Resources], batch: list[bytes]
) -> None:
    """Check the handler never fails a batch and quarantines each bad record."""
    settings_, res = cloud
    handler = IngestHandler(settings_)
    event = _event(batch)
    bad = {
        r["kinesis"]["sequenceNumber"]: _exact(p)
        for r, p in zip(event["Records"], batch, strict=False)
        if _exact(p) is not None
    }

    response = handler(event, None)

    assert response == {"batchItemFailures": []}
    outcome = handler.outcomes[-1]
    assert sum(outcome.quarantined.values()) == len(bad)
    assert outcome.stored + outcome.duplicates + outcome.redelivered == len(
        batch
    ) - len(bad)
    stored = read_jsonl(
        client("s3", settings_), res.raw_bucket, settings_.limits.quarantine_prefix
    )
    found = {row["sequence_number"]: row["reason"] for row in stored}
    for number, reason in bad.items():
        assert found[number] == reason


def test_handler_sends_large_rejects_to_dead_letters_within_sqs_limits(
    cloud: tuple[Settings, Resources],
) -> None:
    """Check twelve large bad records reach the dead-letter queue, none refused."""
    settings_, res = cloud
    sqs = client("sqs", settings_)
    sqs.purge_queue(QueueUrl=res.queue_url)
    big = [bytes([65 + i]) * 140_000 for i in range(12)]  # ~187 kB as base64 each

    response = IngestHandler(settings_)(_event(big), None)

    assert response == {"batchItemFailures": []}
    bodies = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=res.queue_url, MaxNumberOfMessages=10
        ).get("Messages", [])
        if not messages:
            break
        bodies.extend(json.loads(m["Body"]) for m in messages)
        sqs.delete_message_batch(
            QueueUrl=res.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)
            ],
        )
    assert len(bodies) == len(big)
    assert {b["reason"] for b in bodies} == {"payload_too_large"}
