"""Tests of the reading schema: encoding, decoding and its errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.core.schema import (
    SIGNALS,
    WIRE_FIELDS,
    SchemaError,
    decode_reading,
    encode_reading,
    frame_to_payloads,
    validate_frame,
)
from smartfactory_lib.simulation import simulate


def _reading() -> dict[str, object]:
    return {
        "schema_version": 1,
        "machine_id": "m0001",
        "site": "s01",
        "line": "s01-l01",
        "seq": 42,
        "ts": datetime(2026, 1, 5, 8, 0, 0, 250000, tzinfo=UTC),
        **{s.name: (s.low + s.high) / 2 for s in SIGNALS},
    }


def test_encode_decode_round_trip() -> None:
    """Check that a reading survives encoding and decoding unchanged."""
    reading = _reading()

    decoded = decode_reading(encode_reading(reading))

    assert decoded == reading


def test_frame_to_payloads_matches_encode_reading() -> None:
    """Check that the vectorized encoder writes what the per-reading one does."""
    frame = simulate(3, 0.05).readings
    frame.loc[5, "temperature_c"] = np.nan

    payloads = frame_to_payloads(frame)

    assert len(payloads) == len(frame)
    for row, payload in zip(frame.to_dict("records"), payloads, strict=True):
        assert json.loads(payload) == json.loads(encode_reading(row))
    assert json.loads(payloads[5])["temperature_c"] is None


@pytest.mark.parametrize(
    ("payload", "reason", "message"),
    [
        (b"", "empty_payload", "payload is empty"),
        (b"{not json", "invalid_json", "not valid JSON"),
        (b"[1, 2]", "not_an_object", "must be a JSON object, got list"),
        (b'{"schema_version": 1}', "missing_field", "missing field"),
        (b"x" * 5000, "payload_too_large", "at most 4096 bytes, got 5000"),
    ],
)
def test_decode_reading_rejects_malformed(
    payload: bytes, reason: str, message: str
) -> None:
    """Check that each kind of malformed payload fails with its reason."""
    with pytest.raises(SchemaError, match=message) as caught:
        decode_reading(payload)

    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("seq", "42", "wrong_type"),
        ("seq", True, "wrong_type"),
        ("seq", -1, "bad_value"),
        ("schema_version", 2, "unsupported_version"),
        ("machine_id", "", "wrong_type"),
        ("ts", "yesterday", "bad_timestamp"),
        ("ts", "2026-01-05T08:00:00", "bad_timestamp"),
        ("temperature_c", "hot", "wrong_type"),
        ("temperature_c", 1e6, "out_of_range"),
        ("vibration_mm_s", -3.0, "out_of_range"),
    ],
)
def test_decode_reading_names_the_bad_field(
    field: str, value: object, reason: str
) -> None:
    """Check that a bad value is reported with the field and the value given."""
    body = json.loads(encode_reading(_reading()))
    body[field] = value

    with pytest.raises(SchemaError) as caught:
        decode_reading(json.dumps(body))

    assert caught.value.reason == reason
    assert caught.value.field == field
    assert field in str(caught.value)


def test_decode_reading_rejects_non_finite_numbers() -> None:
    """Check that NaN and infinity, which JSON parsers accept, are refused."""
    text = (
        encode_reading(_reading())
        .decode()
        .replace('"power_kw":', '"power_kw":NaN,"x":')
    )

    with pytest.raises(SchemaError, match="power_kw must be finite") as caught:
        decode_reading(text)

    assert caught.value.reason == "not_finite"


def test_decode_reading_keeps_missing_signal_as_none() -> None:
    """Check that a dropped-out signal (null) is a valid reading."""
    reading = _reading()
    reading["humidity_pct"] = None

    decoded = decode_reading(encode_reading(reading))

    assert decoded["humidity_pct"] is None


def test_validate_frame_names_missing_and_mistyped_columns() -> None:
    """Check that a table is checked against the schema's columns and dtypes."""
    frame = simulate(2, 0.02).readings
    validate_frame(frame)

    with pytest.raises(SchemaError, match="lacks column"):
        validate_frame(frame.drop(columns=["seq"]))
    with pytest.raises(SchemaError, match="column seq must be int64, got float64"):
        validate_frame(frame.assign(seq=frame["seq"].astype(float)))


def test_wire_fields_exclude_labels() -> None:
    """Check that ground truth never travels on the wire."""
    payload = json.loads(frame_to_payloads(simulate(1, 0.01).readings)[0])

    assert list(payload) == list(WIRE_FIELDS)
    assert isinstance(pd.Timestamp(payload["ts"]), pd.Timestamp)
