"""The receiving end: collect telemetry, validate it, and account for every reading.

A :class:`Subscriber` connects to the broker with a service account, subscribes
to every machine's telemetry (``factory/+/+/+/telemetry``) and status, and
for each message:

1. splits it into readings (one JSON reading per line; see
   :func:`.device.pack_batches`);
2. decodes each with :func:`~smartfactory_lib.core.schema.decode_reading`,
   and sets a reading that fails aside as :class:`Rejected` with the schema's
   reason, or with ``topic_mismatch`` when the reading names another machine
   than its topic (a device may publish only to its own topic, so a reading
   that claims another machine is forged or misrouted);
3. counts it by machine and sequence number in a :class:`SequenceTracker`,
   which tells duplicates (a QoS 1 re-send) from gaps (lost readings).

A callback (``on_reading`` per valid new reading, ``on_message`` per raw
message) lets the cloud pipeline reuse the subscriber as its ingestion point.
Nothing a callback raises stops the subscriber: the error is logged and the
message is counted as one rejected reading with reason ``callback_error``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Final

import paho.mqtt.client as mqtt
import pandas as pd

from ..core.schema import COLUMNS, SchemaError, decode_reading
from .broker import TOPIC_ROOT, Endpoint
from .credentials import DeviceCredentials
from .device import connect_client

__all__ = [
    "STATUS_FILTER",
    "TELEMETRY_FILTER",
    "Rejected",
    "SequenceTracker",
    "StreamStats",
    "Subscriber",
]

logger = logging.getLogger(__name__)

TELEMETRY_FILTER: Final = f"{TOPIC_ROOT}/+/+/+/telemetry"
"""Topic filter of every machine's telemetry."""

STATUS_FILTER: Final = f"{TOPIC_ROOT}/+/+/+/status"
"""Topic filter of every machine's status (online, offline, lost)."""

_MACHINE_LEVEL: Final = 3
_ATTRIBUTE_MACHINE: Final = re.compile(rb'"machine_id":\s*"([^"]{1,64})"')
_ATTRIBUTE_SEQ: Final = re.compile(rb'"seq":\s*"?(\d{1,18})')


@dataclass(frozen=True)
class Rejected:
    """A reading set aside, with why.

    Attributes
    ----------
    topic : str
        Topic the message arrived on.
    payload : bytes
        The offending line of the message, as received (cut at 4 KiB).
    reason : str
        Machine-readable reason: a :class:`SchemaError` reason,
        ``topic_mismatch`` or ``callback_error``.
    detail : str
        The human-readable message.
    """

    topic: str
    payload: bytes
    reason: str
    detail: str


def _is_key(machine_id: object, seq: object) -> bool:
    """Whether ``(machine_id, seq)`` can identify a reading: str and int."""
    return (
        isinstance(machine_id, str)
        and isinstance(seq, int)
        and not isinstance(seq, bool)
    )


class SequenceTracker:
    """Count readings by (machine, seq): unique, duplicates and gaps.

    Each machine numbers its readings 0, 1, 2, ... A reading seen before is a
    duplicate; a number never seen below the highest one seen is a gap.

    Examples
    --------
    >>> tracker = SequenceTracker()
    >>> [tracker.observe("m1", seq) for seq in (0, 1, 1, 3)]
    [True, True, False, True]
    >>> tracker.duplicates, tracker.gaps()
    (1, 1)
    """

    def __init__(self) -> None:
        self._seen: dict[str, set[int]] = {}
        self.duplicates = 0

    def observe(self, machine_id: str, seq: int) -> bool:
        """Record a reading; return False if it is a duplicate."""
        seen = self._seen.get(machine_id)
        if seen is None:
            seen = self._seen[machine_id] = set()
        if seq in seen:
            self.duplicates += 1
            return False
        seen.add(seq)
        return True

    def seen(self, machine_id: str) -> set[int]:
        """Return the sequence numbers seen of one machine (a copy)."""
        return set(self._seen.get(machine_id, ()))

    @property
    def unique(self) -> int:
        """Distinct readings seen."""
        return sum(len(seen) for seen in self._seen.values())

    def gaps(self, first_seq: int | None = 0) -> int:
        """Count sequence numbers missing up to each machine's highest one.

        Parameters
        ----------
        first_seq : int or None, default 0
            The first sequence number each machine sent; None counts from the
            lowest one seen (for a subscriber that joined late).
        """
        missing = 0
        for seen in self._seen.values():
            low = min(seen) if first_seq is None else first_seq
            missing += max(seen) - low + 1 - sum(1 for s in seen if s >= low)
        return missing

    def missing(self, expected: Mapping[str, int], first_seq: int = 0) -> int:
        """Count readings not seen, given how many each machine published.

        Parameters
        ----------
        expected : Mapping[str, int]
            Readings published per machine, numbered from ``first_seq``.
        first_seq : int, default 0
            Sequence number of each machine's first reading.
        """
        lost = 0
        for machine_id, count in expected.items():
            seen = self._seen.get(machine_id, set())
            top = first_seq + count
            lost += count - sum(1 for s in seen if first_seq <= s < top)
        return lost

    def by_machine(self) -> pd.DataFrame:
        """Return first and last seq, unique readings and gaps per machine."""
        rows = [
            {
                "machine_id": machine_id,
                "first_seq": min(seen),
                "last_seq": max(seen),
                "unique": len(seen),
                "gaps": max(seen) - min(seen) + 1 - len(seen),
            }
            for machine_id, seen in sorted(self._seen.items())
        ]
        return pd.DataFrame(
            rows, columns=["machine_id", "first_seq", "last_seq", "unique", "gaps"]
        )


@dataclass
class StreamStats:
    """Counts of a subscriber's stream so far.

    Attributes
    ----------
    messages : int
        Telemetry messages received.
    readings : int
        Readings received, valid or not, duplicates included.
    unique : int
        Distinct valid readings (by machine and seq).
    duplicates : int
        Valid readings received more than once.
    gaps : int
        Sequence numbers missing below each machine's highest one.
    malformed : int
        Readings set aside, by any reason.
    malformed_by_reason : dict of str to int
        The same, per reason.
    """

    messages: int = 0
    readings: int = 0
    unique: int = 0
    duplicates: int = 0
    gaps: int = 0
    malformed: int = 0
    malformed_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a plain dict."""
        return asdict(self)


class Subscriber:
    """Collect, validate and account for telemetry from the broker; a context manager.

    Parameters
    ----------
    endpoint : Endpoint
        The broker's host, port and CA.
    credentials : DeviceCredentials or None
        A reader's username and password (see :meth:`.Broker.add_service_user`).
    topic : str, default TELEMETRY_FILTER
        Topic filter of the telemetry to collect.
    qos : {0, 1}, default 1
        Subscription QoS.
    client_id : str or None, default None
        With ``clean_session=False`` the broker keeps the subscription and
        queues QoS 1 messages under this id while the subscriber is away.
        None makes a unique ``smartfactory-subscriber-<hex>``; two clients
        with the same id push each other off the broker.
    clean_session : bool, default False
        True forgets the session on disconnect.
    validate : bool, default True
        Decode every reading with :func:`decode_reading`. False only parses
        the JSON and counts ``machine_id`` and ``seq``, as a forwarding rule
        would; validation then happens downstream.
    keep_readings : bool, default True
        Keep valid new readings for :meth:`frame`.
    on_reading : callable or None
        Called with each valid new reading (a dict), on the network thread.
    on_message : callable or None
        Called with ``(topic, payload)`` of each telemetry message before it
        is decoded, on the network thread.
    max_rejected : int, default 10_000
        Rejected readings kept for inspection; all are counted.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: DeviceCredentials | None,
        *,
        topic: str = TELEMETRY_FILTER,
        qos: int = 1,
        client_id: str | None = None,
        clean_session: bool = False,
        validate: bool = True,
        keep_readings: bool = True,
        on_reading: Callable[[dict[str, Any]], None] | None = None,
        on_message: Callable[[str, bytes], None] | None = None,
        max_rejected: int = 10_000,
    ) -> None:
        if qos not in (0, 1):
            raise ValueError(f"qos must be 0 or 1, got {qos!r}")
        self.endpoint = endpoint
        self.topic = topic
        self.qos = qos
        self.validate = validate
        self.keep_readings = keep_readings
        self.on_reading = on_reading
        self.on_message = on_message
        self.max_rejected = max_rejected
        self.tracker = SequenceTracker()
        self.rejected_ids = SequenceTracker()
        self.rejected: list[Rejected] = []
        self._unattributed = 0
        self.statuses: dict[str, dict[str, Any]] = {}
        self._readings: list[dict[str, Any]] = []
        self._reasons: Counter[str] = Counter()
        self._messages = 0
        self._received = 0
        self._subscribed = threading.Event()
        self._refused: str | None = None
        self._lock = threading.RLock()
        self._last_message = time.monotonic()
        self._client = connect_client(
            endpoint,
            None if credentials is None else credentials.username,
            None if credentials is None else credentials.password,
            client_id=client_id or f"smartfactory-subscriber-{uuid.uuid4().hex[:8]}",
            clean_session=clean_session,
        )
        self._client.max_inflight_messages_set(1000)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # -- callbacks -------------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            logger.warning("Broker refused the subscriber: %s", reason)
            return
        client.subscribe([(self.topic, self.qos), (STATUS_FILTER, 1)])
        logger.info(
            "Subscriber connected (session present=%s); subscribing to %s",
            flags.session_present,
            self.topic,
        )

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any
    ) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            self._refused = f"subscription refused: {', '.join(failed)}"
            logger.warning("Broker refused the subscription: %s", failed)
            return
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: Any) -> None:
        try:
            if message.topic.endswith("/status"):
                self._status(message.topic, message.payload)
            else:
                with self._lock:
                    self._telemetry(message.topic, message.payload)
        except Exception as exc:  # never let one message stop the subscriber
            logger.exception("Subscriber failed on a message of %s", message.topic)
            self._reject(message.topic, message.payload, "callback_error", repr(exc))

    def _status(self, topic: str, payload: bytes) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            body = {"state": "unreadable"}
        self.statuses[topic.split("/")[_MACHINE_LEVEL]] = body

    def _reject(self, topic: str, line: bytes, reason: str, detail: str) -> None:
        machine = _ATTRIBUTE_MACHINE.search(line)
        seq = _ATTRIBUTE_SEQ.search(line)
        with self._lock:
            if machine is not None and seq is not None:
                self.rejected_ids.observe(machine.group(1).decode(), int(seq.group(1)))
            else:
                self._unattributed += 1
            self._reasons[reason] += 1
            if len(self.rejected) < self.max_rejected:
                self.rejected.append(
                    Rejected(topic, bytes(line[:4096]), reason, detail)
                )
        logger.debug("Rejected a reading on %s: %s (%s)", topic, reason, detail)

    def _telemetry(self, topic: str, payload: bytes) -> None:
        self._last_message = time.monotonic()
        self._messages += 1
        if self.on_message is not None:
            self.on_message(topic, payload)
        machine = topic.split("/")[_MACHINE_LEVEL]
        lines = payload.split(b"\n")
        self._received += len(lines)
        if not self.validate:
            self._count_only(topic, machine, lines)
            return
        observe = self.tracker.observe
        keep = self._readings.append if self.keep_readings else None
        for line in lines:
            try:
                reading = decode_reading(line)
            except SchemaError as exc:
                self._reject(topic, line, exc.reason, str(exc))
                continue
            if reading["machine_id"] != machine:
                self._reject(
                    topic,
                    line,
                    "topic_mismatch",
                    f"reading of machine {reading['machine_id']} on the topic of "
                    f"{machine}",
                )
                continue
            if observe(machine, reading["seq"]):
                if keep is not None:
                    keep(reading)
                if self.on_reading is not None:
                    self.on_reading(reading)

    def _count_only(self, topic: str, machine: str, lines: list[bytes]) -> None:
        try:
            bodies = json.loads(b"[" + b",".join(lines) + b"]")
            pairs = [(b["machine_id"], b["seq"]) for b in bodies]
            if not all(_is_key(m, s) for m, s in pairs):
                raise TypeError("a reading's machine_id or seq has the wrong type")
        except (ValueError, TypeError, KeyError):
            pairs = []
            for line in lines:
                try:
                    reading = decode_reading(line, check_ranges=False)
                except SchemaError as exc:
                    self._reject(topic, line, exc.reason, str(exc))
                    continue
                pairs.append((reading["machine_id"], reading["seq"]))
        observe = self.tracker.observe
        for machine_id, seq in pairs:
            if machine_id != machine:
                self._reject(topic, b"", "topic_mismatch", f"machine {machine_id}")
                continue
            observe(machine, seq)

    # -- life cycle ----------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Subscriber:
        """Connect, subscribe, and wait until the broker confirms the subscription.

        Raises
        ------
        ConnectionRefusedError
            If the broker refuses the credentials or the subscription.
        TimeoutError
            If there is no answer within ``timeout`` seconds.
        """
        self._client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=30)
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._subscribed.wait(0.02):
            if self._refused is not None or time.monotonic() > deadline:
                self._client.loop_stop()
                self._client.disconnect()
                if self._refused is not None:
                    raise ConnectionRefusedError(
                        f"broker refused the subscriber: {self._refused}"
                    )
                raise TimeoutError(
                    f"subscriber got no answer from {self.endpoint.host}:"
                    f"{self.endpoint.port} within {timeout:g} s"
                )
        return self

    def stop(self) -> None:
        """Disconnect; with a persistent session the broker keeps queuing for us."""
        self._client.disconnect()
        self._client.loop_stop()
        logger.info("Subscriber stopped: %s", self.stats())

    def __enter__(self) -> Subscriber:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- results -------------------------------------------------------------

    def wait_for(
        self,
        readings: int,
        timeout: float = 30.0,
        *,
        quiet_s: float = 0.0,
        idle_s: float | None = None,
    ) -> bool:
        """Wait until ``readings`` readings have arrived, valid or not.

        Parameters
        ----------
        readings : int
            Readings (lines) to wait for, duplicates and malformed included.
        timeout : float, default 30.0
            Seconds to wait at most.
        quiet_s : float, default 0.0
            Then wait until no message has arrived for this long, so that
            late re-sends are counted too.
        idle_s : float or None, default None
            Give up early when no message has arrived for this long (at QoS
            0 what is lost never comes).

        Returns
        -------
        bool
            Whether the count was reached in time.
        """
        deadline = time.monotonic() + timeout
        while self._received < readings:
            now = time.monotonic()
            if now > deadline:
                return False
            if idle_s is not None and now - self._last_message > idle_s:
                return False
            time.sleep(0.005)
        while quiet_s > 0 and time.monotonic() - self._last_message < quiet_s:
            if time.monotonic() > deadline:
                break
            time.sleep(min(quiet_s, 0.05))
        return True

    @property
    def last_message_at(self) -> float:
        """``time.monotonic()`` when the last telemetry message arrived."""
        return self._last_message

    def reset(self) -> None:
        """Forget every count, reading and rejection (between measurements)."""
        with self._lock:
            self.tracker = SequenceTracker()
            self.rejected_ids = SequenceTracker()
            self.rejected.clear()
            self._readings.clear()
            self._reasons.clear()
            self._messages = 0
            self._received = 0
            self._unattributed = 0

    @property
    def received(self) -> int:
        """Readings (lines) received so far, valid or not; cheap to read."""
        return self._received

    @property
    def malformed(self) -> int:
        """Readings set aside so far; cheap to read."""
        return sum(self._reasons.values())

    def stats(self, first_seq: int | None = 0) -> StreamStats:
        """Return the counts so far (see :class:`StreamStats`)."""
        with self._lock:
            reasons = dict(self._reasons)
            return StreamStats(
                messages=self._messages,
                readings=self._received,
                unique=self.tracker.unique,
                duplicates=self.tracker.duplicates,
                gaps=self.tracker.gaps(first_seq),
                malformed=sum(reasons.values()),
                malformed_by_reason=reasons,
            )

    def lost(self, published: Mapping[str, Iterable[int]]) -> int:
        """Count published readings that never arrived, valid or rejected.

        A reading counts as arrived when it was received as a valid reading or
        set aside as a rejected one whose machine and seq could still be read
        from the bytes. A rejected line too broken for that cannot be matched
        to what was published; :attr:`unattributed` counts those, and each may
        show up here as lost.

        Parameters
        ----------
        published : Mapping[str, iterable of int]
            Sequence numbers published, by machine.
        """
        missing = 0
        with self._lock:
            for machine_id, seqs in published.items():
                wanted = set(seqs)
                wanted -= self.tracker.seen(machine_id)
                wanted -= self.rejected_ids.seen(machine_id)
                missing += len(wanted)
        return missing

    @property
    def unattributed(self) -> int:
        """Rejected lines whose machine and seq could not be read."""
        return self._unattributed

    def frame(self) -> pd.DataFrame:
        """Return the valid readings kept so far as a table with the schema's dtypes."""
        with self._lock:
            frame = pd.DataFrame(list(self._readings), columns=list(COLUMNS))
        if frame.empty:
            return frame.astype({k: v for k, v in COLUMNS.items() if k != "ts"})
        return frame.astype(COLUMNS)
