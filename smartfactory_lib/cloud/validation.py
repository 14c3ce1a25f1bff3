"""Validation of arriving readings: schema, types, physical ranges and clock skew.

A reading is accepted only if :func:`~smartfactory_lib.core.schema.decode_reading`
accepts it and its timestamp is plausible at the moment it arrived: not more
than ``max_future_skew_s`` ahead of its arrival (a device clock running fast)
and not older than ``max_age_s`` (a clock set to the wrong year, or a replay
from long ago). Every other record is rejected with one short reason, which
the handler uses to quarantine it.

:func:`validate_batch` is the handler's path. It checks a whole batch with
numpy and pandas and sends only the records that fail a vectorized check
through :func:`decode_reading`, which names the exact reason. The vectorized
checks are never more lenient than ``decode_reading``: a record either passes
both or is decided by ``decode_reading`` itself, so the two paths cannot
disagree about what is accepted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from ..core.config import PipelineLimits
from ..core.schema import (
    COLUMNS,
    SCHEMA_VERSION,
    SIGNALS,
    WIRE_FIELDS,
    SchemaError,
    decode_reading,
)

__all__ = [
    "REASONS",
    "Rejection",
    "ValidationResult",
    "check_skew",
    "validate_batch",
    "validate_reading",
]

logger = logging.getLogger(__name__)

REASONS: Final = (
    "empty_payload",
    "payload_too_large",
    "invalid_json",
    "not_an_object",
    "missing_field",
    "wrong_type",
    "bad_value",
    "unsupported_version",
    "bad_timestamp",
    "not_finite",
    "out_of_range",
    "future_timestamp",
    "stale_timestamp",
)
"""Every reason a record can be rejected for: the schema's, then clock skew."""

_MAX_PAYLOAD_BYTES: Final = 4096
_WIRE_SET: Final = frozenset(WIRE_FIELDS)
_NUMBER_TYPES: Final[frozenset[type]] = frozenset({int, float, type(None)})
_ISO_UTC: Final = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)$"
_INT64_MAX: Final = 2**63 - 1


@dataclass(frozen=True)
class Rejection:
    """One record that failed validation.

    Attributes
    ----------
    position : int
        Position of the record in the batch.
    reason : str
        One of :data:`REASONS`.
    message : str
        What was expected and what arrived.
    """

    position: int
    reason: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating one batch.

    Attributes
    ----------
    readings : pandas.DataFrame
        Accepted readings in batch order, with the columns of
        :data:`~smartfactory_lib.core.schema.COLUMNS`.
    positions : numpy.ndarray
        Position in the batch of each row of ``readings``.
    rejections : list of Rejection
        The rejected records, in batch order.
    """

    readings: pd.DataFrame
    positions: np.ndarray
    rejections: list[Rejection]

    def reason_counts(self) -> dict[str, int]:
        """Return the number of rejected records per reason."""
        counts: dict[str, int] = {}
        for rejection in self.rejections:
            counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
        return counts


def check_skew(
    ts: datetime, arrival_s: float, limits: PipelineLimits | None = None
) -> None:
    """Raise unless a reading's timestamp is plausible at its arrival time.

    Parameters
    ----------
    ts : datetime
        The reading's timestamp (timezone-aware).
    arrival_s : float
        Arrival time in seconds since the epoch, as Kinesis records it.
    limits : PipelineLimits or None, default None
        The skew limits; the defaults when None.

    Raises
    ------
    SchemaError
        With reason ``future_timestamp`` or ``stale_timestamp``.
    """
    limits = limits or PipelineLimits()
    delta = ts.timestamp() - arrival_s
    if delta > limits.max_future_skew_s:
        raise SchemaError(
            "future_timestamp",
            f"ts must be at most {limits.max_future_skew_s:g} s after arrival, "
            f"got {delta:.0f} s ahead",
            "ts",
        )
    if -delta > limits.max_age_s:
        raise SchemaError(
            "stale_timestamp",
            f"ts must be at most {limits.max_age_s:g} s before arrival, "
            f"got {-delta:.0f} s old",
            "ts",
        )


def validate_reading(
    payload: bytes | str, arrival_s: float, limits: PipelineLimits | None = None
) -> dict[str, Any]:
    """Decode one payload and check its timestamp against its arrival.

    Parameters
    ----------
    payload : bytes or str
        The record as received.
    arrival_s : float
        Arrival time in seconds since the epoch.
    limits : PipelineLimits or None, default None
        The skew limits; the defaults when None.

    Returns
    -------
    dict
        The reading, as :func:`decode_reading` returns it.

    Raises
    ------
    SchemaError
        With one of :data:`REASONS`.
    """
    reading = decode_reading(payload)
    check_skew(reading["ts"], arrival_s, limits)
    return reading


def _type_mask(column: list[Any], allowed: frozenset[type]) -> np.ndarray | None:
    """Return per-row 'type allowed' flags, or None when every row is fine."""
    if set(map(type, column)) <= allowed:
        return None
    return np.fromiter((type(v) in allowed for v in column), bool, len(column))


def _check_columns(bodies: list[dict[str, Any]]) -> tuple[dict[str, Any], np.ndarray]:
    """Vectorized schema checks; returns columns and a per-row 'suspect' mask."""
    n = len(bodies)
    suspect = np.zeros(n, bool)
    columns: dict[str, Any] = {}

    for name in ("schema_version", "seq"):
        column = [b[name] for b in bodies]
        ok = _type_mask(column, frozenset({int}))
        if ok is not None:
            suspect |= ~ok
            column = [v if good else 0 for v, good in zip(column, ok, strict=False)]
        try:
            values = np.array(column, dtype=np.int64)
        except OverflowError:
            fits = np.fromiter(
                (-_INT64_MAX <= v <= _INT64_MAX for v in column), bool, n
            )
            suspect |= ~fits
            values = np.array(
                [v if f else 0 for v, f in zip(column, fits, strict=False)], np.int64
            )
        columns[name] = values
    suspect |= columns["schema_version"] != SCHEMA_VERSION
    suspect |= columns["seq"] < 0

    for name in ("machine_id", "site", "line"):
        column = [b[name] for b in bodies]
        ok = _type_mask(column, frozenset({str}))
        if ok is not None:
            suspect |= ~ok
            column = [v if good else "?" for v, good in zip(column, ok, strict=False)]
        lengths = np.fromiter(map(len, column), np.int64, n)
        suspect |= (lengths == 0) | (lengths > 64)
        columns[name] = column

    stamps = [b["ts"] for b in bodies]
    ok = _type_mask(stamps, frozenset({str}))
    if ok is not None:
        suspect |= ~ok
        stamps = [v if good else "" for v, good in zip(stamps, ok, strict=False)]
    text = pd.Series(stamps, dtype="str")
    suspect |= ~text.str.match(_ISO_UTC).to_numpy(dtype=bool)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    suspect |= parsed.isna().to_numpy()
    columns["ts"] = parsed.astype("datetime64[ms, UTC]")

    for signal in SIGNALS:
        column = [b[signal.name] for b in bodies]
        ok = _type_mask(column, _NUMBER_TYPES)
        if ok is not None:
            suspect |= ~ok
            column = [v if good else None for v, good in zip(column, ok, strict=False)]
        raw = np.array(column, dtype=object)
        missing = np.equal(raw, None)  # type: ignore[call-overload]
        try:
            values = np.where(missing, np.nan, raw).astype(np.float64)
        except OverflowError:
            values = np.array([_to_float(v) for v in column], dtype=np.float64)
            suspect |= ~missing & ~np.isfinite(values)
        present = ~missing
        with np.errstate(invalid="ignore"):
            suspect |= present & ~np.isfinite(values)
            suspect |= present & ((values < signal.low) | (values > signal.high))
        columns[signal.name] = values
    return columns, suspect


_ARROW_SCHEMA: Final = pa.schema(
    [
        ("schema_version", pa.int64()),
        ("seq", pa.int64()),
        ("machine_id", pa.string()),
        ("site", pa.string()),
        ("line", pa.string()),
        ("ts", pa.string()),
        *[(signal.name, pa.float64()) for signal in SIGNALS],
    ]
)
_ARROW_PARSE: Final = pa_json.ParseOptions(
    explicit_schema=_ARROW_SCHEMA, unexpected_field_behavior="ignore"
)


def _arrow_columns(
    payloads: Sequence[bytes],
) -> tuple[dict[str, Any], np.ndarray] | None:
    """Parse clean-looking payloads with Arrow's JSON reader in one call.

    Arrow rejects a whole block for one bad line, so this returns None as soon
    as anything is odd and the caller falls back to the per-record path.
    """
    joined = b"\n".join(payloads)
    if (
        min(map(len, payloads)) == 0
        or joined.count(b"\n") != len(payloads) - 1
        or b"\r" in joined
    ):
        return None
    try:
        table = pa_json.read_json(pa.py_buffer(joined), parse_options=_ARROW_PARSE)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows != len(payloads):
        return None
    n = table.num_rows
    suspect = np.zeros(n, bool)
    columns: dict[str, Any] = {}
    for name in ("schema_version", "seq", "machine_id", "site", "line", "ts"):
        suspect |= table[name].is_null().to_numpy(zero_copy_only=False)
    for name in ("schema_version", "seq"):
        columns[name] = table[name].fill_null(0).to_numpy()
    suspect |= columns["schema_version"] != SCHEMA_VERSION
    suspect |= columns["seq"] < 0
    for name in ("machine_id", "site", "line"):
        lengths = pc.utf8_length(table[name]).fill_null(0).to_numpy()
        suspect |= (lengths == 0) | (lengths > 64)
        # Dictionary-encoded in Arrow, these arrive as pandas categoricals.
        columns[name] = table[name].fill_null("?").dictionary_encode().to_pandas()
    stamps = table["ts"].fill_null("")
    suspect |= ~pc.match_substring_regex(stamps, _ISO_UTC).to_numpy(
        zero_copy_only=False
    )
    try:
        # Arrow's ISO 8601 cast is several times faster than pandas' parser;
        # one stamp it cannot read sends the whole column to pandas.
        cast = pc.cast(stamps, pa.timestamp("ms", tz="UTC"))
        parsed = pd.Series(cast.to_numpy(), dtype="datetime64[ms]").dt.tz_localize(
            "UTC"
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_datetime(
            stamps.to_pandas(), format="ISO8601", utc=True, errors="coerce"
        )
    suspect |= parsed.isna().to_numpy()
    columns["ts"] = parsed.astype("datetime64[ms, UTC]")
    for signal in SIGNALS:
        column = table[signal.name]
        # A null may be a missing key, which only the exact path can tell.
        suspect |= column.is_null().to_numpy(zero_copy_only=False)
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        with np.errstate(invalid="ignore"):
            suspect |= ~np.isfinite(values)
            suspect |= (values < signal.low) | (values > signal.high)
        columns[signal.name] = values
    return columns, suspect


def _to_float(value: Any) -> float:
    try:
        return np.nan if value is None else float(value)
    except OverflowError:
        return np.inf


def _frame(columns: dict[str, Any], keep: np.ndarray | None = None) -> pd.DataFrame:
    """Build the readings table column by column, in schema dtypes, keeping rows."""
    data: dict[str, Any] = {}
    for name, dtype in COLUMNS.items():
        values = columns[name]
        if name == "ts":
            stamps = pd.DatetimeIndex(values).as_unit("ms")
            if stamps.tz is None:
                stamps = stamps.tz_localize("UTC")
            data[name] = stamps if keep is None else stamps[keep]
        elif dtype == "category":
            if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
                codes = np.asarray(values.cat.codes)
                categories = pd.Index(
                    np.asarray(values.cat.categories, dtype=object), dtype=str
                )
                if keep is not None:
                    codes = codes[keep]
                kept = pd.Categorical.from_codes(codes, categories)
                data[name] = kept.remove_unused_categories()
            else:
                array = np.asarray(values, dtype=object)
                data[name] = pd.Categorical(array if keep is None else array[keep])
        else:
            array = np.asarray(values, dtype=dtype)
            data[name] = array if keep is None else array[keep]
    return pd.DataFrame(data)


def validate_batch(
    payloads: Sequence[bytes],
    arrival_s: float | np.ndarray,
    limits: PipelineLimits | None = None,
) -> ValidationResult:
    """Validate a batch of payloads; accept the good, give each bad one a reason.

    Parameters
    ----------
    payloads : sequence of bytes
        The records as received, in batch order.
    arrival_s : float or numpy.ndarray
        Arrival time in seconds since the epoch: one for the whole batch, or
        one per record.
    limits : PipelineLimits or None, default None
        Skew limits; the defaults when None.

    Returns
    -------
    ValidationResult
        Accepted readings (in batch order) and one rejection per bad record.

    Examples
    --------
    >>> result = validate_batch([b"", b"{"], arrival_s=0.0)
    >>> [r.reason for r in result.rejections]
    ['empty_payload', 'invalid_json']
    """
    limits = limits or PipelineLimits()
    n = len(payloads)
    arrival = np.broadcast_to(np.asarray(arrival_s, dtype=np.float64), (n,))

    # Fast path: a clean batch parses in one call of Arrow's JSON reader.
    fast = _arrow_columns(payloads) if n else None
    if fast is not None:
        columns, suspect = fast
        positions = np.flatnonzero(~suspect)
        frame = _frame(columns, ~suspect)
        return _finish(payloads, arrival, limits, frame, positions, suspect)

    # Stage 1: parse each payload; anything odd goes to the exact path.
    suspect = np.zeros(n, bool)
    bodies: list[dict[str, Any]] = []
    parsed_at: list[int] = []
    loads = json.loads
    for i, payload in enumerate(payloads):
        if not payload or len(payload) > _MAX_PAYLOAD_BYTES:
            suspect[i] = True
            continue
        try:
            body = loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            suspect[i] = True
            continue
        if type(body) is not dict or not _WIRE_SET.issubset(body):
            suspect[i] = True
            continue
        bodies.append(body)
        parsed_at.append(i)

    # Stage 2: vectorized checks of every field of the parsed records.
    positions = np.asarray(parsed_at, dtype=np.int64)
    if bodies:
        columns, column_suspect = _check_columns(bodies)
        suspect[positions[column_suspect]] = True
        keep = ~column_suspect
        positions = positions[keep]
        frame = _frame(columns, keep)
    else:
        frame = _frame({name: [] for name in COLUMNS})
    return _finish(payloads, arrival, limits, frame, positions, suspect)


def _finish(
    payloads: Sequence[bytes],
    arrival: np.ndarray,
    limits: PipelineLimits,
    frame: pd.DataFrame,
    positions: np.ndarray,
    suspect: np.ndarray,
) -> ValidationResult:
    """Decide the suspect records exactly, then check clock skew."""
    n = len(payloads)

    # Stage 3: the exact path names the reason of every suspect record.
    rejections: list[Rejection] = []
    rescued: list[dict[str, Any]] = []
    rescued_at: list[int] = []
    for i in np.flatnonzero(suspect):
        try:
            reading = decode_reading(payloads[int(i)])
        except SchemaError as exc:
            rejections.append(Rejection(int(i), exc.reason, str(exc)))
            continue
        rescued.append(reading)
        rescued_at.append(int(i))
    if rescued:
        extra = pd.DataFrame(rescued, columns=list(COLUMNS)).astype(COLUMNS)
        frame = pd.concat([frame, extra], ignore_index=True).astype(COLUMNS)
        positions = np.concatenate([positions, np.asarray(rescued_at, np.int64)])

    # Stage 4: clock skew relative to each record's arrival.
    ts_s = frame["ts"].to_numpy(dtype="datetime64[ms]").astype(np.int64) / 1000.0
    delta = ts_s - arrival[positions]
    future = delta > limits.max_future_skew_s
    stale = -delta > limits.max_age_s
    for i, d in zip(positions[future], delta[future], strict=False):
        rejections.append(
            Rejection(
                int(i),
                "future_timestamp",
                f"ts must be at most {limits.max_future_skew_s:g} s after arrival, "
                f"got {d:.0f} s ahead",
            )
        )
    for i, d in zip(positions[stale], delta[stale], strict=False):
        rejections.append(
            Rejection(
                int(i),
                "stale_timestamp",
                f"ts must be at most {limits.max_age_s:g} s before arrival, "
                f"got {-d:.0f} s old",
            )
        )
    good = ~(future | stale)
    frame = frame.loc[good]
    positions = positions[good]

    if len(positions) > 1 and not (positions[1:] > positions[:-1]).all():
        order = np.argsort(positions, kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        positions = positions[order]
    else:
        frame = frame.reset_index(drop=True)
    rejections.sort(key=lambda r: r.position)
    if rejections:
        logger.debug("Rejected %d of %d records", len(rejections), n)
    return ValidationResult(frame, positions, rejections)
