"""Tests of the validation of arriving readings (schema, ranges, clock skew)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smartfactory_lib.cloud.validation import (
    REASONS,
    check_skew,
    validate_batch,
    validate_reading,
)
from smartfactory_lib.core.config import PipelineLimits
from smartfactory_lib.core.schema import SchemaError, parse_timestamp

TS = "2026-01-05T08:00:00.000Z"
ARRIVAL = parse_timestamp(TS).timestamp()


def reading(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "schema_version": 1,
        "machine_id": "m0001",
        "site": "s01",
        "line": "s01-l01",
        "seq": 5,
        "ts": TS,
        "ambient_c": 20.0,
        "humidity_pct": 50.0,
        "load_pct": 60.0,
        "spindle_rpm": 3000.0,
        "power_kw": 10.0,
        "temperature_c": 40.0,
        "vibration_mm_s": 1.5,
    }
    body.update(changes)
    return body


def payload(**changes: object) -> bytes:
    return json.dumps(reading(**changes)).encode()


BAD_CASES = [
    (b"", "empty_payload"),
    (b"{" + b" " * 5000 + b"}", "payload_too_large"),
    (b'{"schema_version": 1', "invalid_json"),
    (b"[1, 2]", "not_an_object"),
    (json.dumps({"seq": 1}).encode(), "missing_field"),
    (payload(seq="5"), "wrong_type"),
    (payload(seq=-1), "bad_value"),
    (payload(schema_version=2), "unsupported_version"),
    (payload(ts="yesterday"), "bad_timestamp"),
    (payload(ts="2026-01-05T08:00:00"), "bad_timestamp"),
    (payload(temperature_c=True), "wrong_type"),
    (payload(vibration_mm_s=1000.0), "out_of_range"),
    (payload(ts="2026-01-05T09:00:00.000Z"), "future_timestamp"),
    (payload(ts="2025-01-05T08:00:00.000Z"), "stale_timestamp"),
]


@pytest.mark.parametrize(("data", "reason"), BAD_CASES, ids=[r for _, r in BAD_CASES])
def test_validate_reading_rejects_with_reason(data: bytes, reason: str) -> None:
    """Check each kind of bad record is rejected with its own reason."""
    with pytest.raises(SchemaError) as caught:
        validate_reading(data, ARRIVAL)

    assert caught.value.reason == reason
    assert reason in REASONS


@pytest.mark.parametrize(("data", "reason"), BAD_CASES, ids=[r for _, r in BAD_CASES])
def test_validate_batch_agrees_with_single_record_path(
    data: bytes, reason: str
) -> None:
    """Check the vectorized path gives the same reason amid good records."""
    batch = [payload(seq=1), data, payload(seq=2)]

    result = validate_batch(batch, ARRIVAL)

    assert [(r.position, r.reason) for r in result.rejections] == [(1, reason)]
    assert result.positions.tolist() == [0, 2]
    assert result.readings["seq"].tolist() == [1, 2]


def test_validate_batch_accepts_clean_batch_on_fast_path() -> None:
    """Check a clean batch is accepted whole, in order, with schema dtypes."""
    batch = [payload(seq=i, vibration_mm_s=None if i == 3 else 1.0) for i in range(10)]

    result = validate_batch(batch, ARRIVAL)

    assert not result.rejections
    assert result.readings["seq"].tolist() == list(range(10))
    assert np.isnan(result.readings.loc[3, "vibration_mm_s"])
    assert str(result.readings["ts"].dtype) == "datetime64[ms, UTC]"


def test_validate_batch_rejects_nan_and_infinity() -> None:
    """Check NaN and Infinity, which Python's json accepts, are not_finite."""
    batch = [
        payload().replace(b"40.0", b"NaN"),
        payload().replace(b"40.0", b"Infinity"),
    ]

    result = validate_batch(batch, ARRIVAL)

    assert [r.reason for r in result.rejections] == ["not_finite", "not_finite"]
    assert result.readings.empty


def test_validate_batch_checks_skew_per_record_arrival() -> None:
    """Check each record's own arrival time is used for the skew limits."""
    batch = [payload(), payload()]
    arrivals = np.array([ARRIVAL, ARRIVAL - 3600.0])

    result = validate_batch(batch, arrivals)

    assert [(r.position, r.reason) for r in result.rejections] == [
        (1, "future_timestamp")
    ]


def test_check_skew_uses_configured_limits() -> None:
    """Check a tighter future limit rejects a reading the default accepts."""
    ts = parse_timestamp("2026-01-05T08:01:00Z")

    check_skew(ts, ARRIVAL)
    with pytest.raises(SchemaError, match="at most 30 s after arrival, got 60 s"):
        check_skew(ts, ARRIVAL, PipelineLimits(max_future_skew_s=30.0))


def test_validate_batch_handles_empty_batch() -> None:
    """Check an empty batch gives an empty, well-typed result."""
    result = validate_batch([], ARRIVAL)

    assert result.readings.empty
    assert list(result.readings.columns)[:2] == ["schema_version", "machine_id"]
    assert result.reason_counts() == {}
