"""A machine's MQTT client: telemetry, status with a last will, batches and buffering.

A :class:`Device` is what runs on (or beside) one machine. It connects to the
broker over TLS with its own credentials and publishes its readings to
``factory/<site>/<line>/<machine_id>/telemetry``. It announces itself as
``online`` on ``factory/<site>/<line>/<machine_id>/status`` (retained) and
leaves a last will there, so that the broker itself publishes ``lost`` when
the device disappears without saying goodbye.

A telemetry message carries one reading, or in batch mode many readings as
JSON lines (one reading per line, the format :func:`pack_batches` makes),
never more than ``max_batch_bytes``: 128 KiB by default, the message size
limit of AWS IoT Core. Batching trades latency for throughput: one publish and
one acknowledgement carry hundreds of readings.

Delivery:

- QoS 0 sends each message once; the broker does not acknowledge it.
  What is published while the connection is down is lost, and counted in
  :attr:`DeviceStats.dropped_readings` (with ``overflow="wait"`` the device
  first waits for the connection to come back).
- QoS 1 keeps each message until the broker acknowledges it, re-sends it after
  a reconnect, and so may deliver it twice; the subscriber counts duplicates
  by sequence number.
- The connection is re-established by paho-mqtt with exponential backoff,
  from ``reconnect_min_s`` doubling to ``reconnect_max_s``.
- Messages not yet acknowledged wait in a bounded buffer of ``max_buffered``
  messages. When it is full, ``overflow="wait"`` blocks the caller until the
  broker has acknowledged enough to make room (back-pressure on the machine's
  data source) and raises :class:`BufferFullError` after ``overflow_timeout``
  seconds; ``overflow="drop_newest"`` drops the new message, counts its
  readings as dropped and logs a warning. Nothing is dropped without being
  counted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd

from ..core.schema import encode_reading, frame_to_payloads
from .broker import TOPIC_ROOT, Endpoint
from .credentials import DeviceCredentials

__all__ = [
    "MAX_MESSAGE_BYTES",
    "OVERFLOW_POLICIES",
    "BufferFullError",
    "Device",
    "DeviceStats",
    "connect_client",
    "pack_batches",
    "publish_fleet",
    "status_topic",
    "telemetry_topic",
]

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES: Final = 128 * 1024
"""Default cap of one telemetry message: AWS IoT Core's message size limit."""

OVERFLOW_POLICIES: Final = ("wait", "drop_newest")
"""What a device does when its buffer of unacknowledged messages is full."""

Overflow = Literal["wait", "drop_newest"]
_MIN_BATCH_BYTES: Final = 4096
_MAX_BATCH_BYTES: Final = 268_435_455


class BufferFullError(RuntimeError):
    """The device's buffer stayed full for longer than ``overflow_timeout``."""


def telemetry_topic(site: str, line: str, machine_id: str) -> str:
    """Return the telemetry topic ``factory/<site>/<line>/<machine>/telemetry``.

    Raises
    ------
    ValueError
        If a part is empty or contains ``/``, ``+`` or ``#``.
    """
    return _topic(site, line, machine_id, "telemetry")


def status_topic(site: str, line: str, machine_id: str) -> str:
    """Return a machine's status topic, ``factory/<site>/<line>/<machine>/status``."""
    return _topic(site, line, machine_id, "status")


def _topic(site: str, line: str, machine_id: str, leaf: str) -> str:
    for name, value in (("site", site), ("line", line), ("machine_id", machine_id)):
        if not isinstance(value, str) or not value or set("/+#") & set(value):
            raise ValueError(
                f"{name} must be a non-empty topic level without / + #, got {value!r}"
            )
    return f"{TOPIC_ROOT}/{site}/{line}/{machine_id}/{leaf}"


def pack_batches(
    payloads: Sequence[bytes], batch_size: int, max_bytes: int = MAX_MESSAGE_BYTES
) -> list[bytes]:
    """Pack JSON payloads into messages of at most ``batch_size`` lines each.

    Each message is the payloads joined by newlines (JSON lines), in order.
    A single payload larger than ``max_bytes`` travels alone.

    Parameters
    ----------
    payloads : sequence of bytes
        One JSON reading each, without newlines.
    batch_size : int
        Most readings per message; 1 sends each reading alone.
    max_bytes : int, default MAX_MESSAGE_BYTES
        Most bytes per message.

    Returns
    -------
    list of bytes
        The messages.

    Examples
    --------
    >>> pack_batches([b"{}", b"{}", b"{}"], batch_size=2)
    [b'{}\\n{}', b'{}']
    """
    join = b"\n".join
    return [join(payloads[a:b]) for a, b in _bounds(payloads, batch_size, max_bytes)]


def _bounds(
    payloads: Sequence[bytes], batch_size: int, max_bytes: int
) -> list[tuple[int, int]]:
    """Return (start, stop) of each message of :func:`pack_batches`."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    total = len(payloads)
    if batch_size == 1:
        return [(i, i + 1) for i in range(total)]
    lengths = np.fromiter(map(len, payloads), dtype=np.int64, count=total)
    ends = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=ends[1:])  # ends[i]: bytes of lines 0..i-1 with "\n"
    starts = np.arange(0, total, batch_size)
    stops = np.minimum(starts + batch_size, total)
    if (ends[stops] - ends[starts] - 1 <= max_bytes).all():
        bounds = list(zip(starts.tolist(), stops.tolist(), strict=True))
    else:
        bounds = []
        start = 0
        while start < total:
            # Largest end with sum(len) + newlines <= max_bytes, at most batch_size.
            limit = ends[start] + max_bytes + 1
            end = int(np.searchsorted(ends, limit, side="right")) - 1
            end = max(start + 1, min(end, start + batch_size, total))
            bounds.append((start, end))
            start = end
    return bounds


@dataclass
class DeviceStats:
    """What a device has done so far.

    Attributes
    ----------
    readings : int
        Readings handed to the network layer (sent or buffered).
    messages : int
        Telemetry messages handed to the network layer.
    acknowledged : int
        Messages written (QoS 0) or acknowledged by the broker (QoS 1),
        status messages included.
    dropped_readings : int
        Readings dropped by the stated policy (full buffer, or QoS 0 while
        disconnected).
    connects : int
        Successful connections, the first one included.
    """

    readings: int = 0
    messages: int = 0
    acknowledged: int = 0
    dropped_readings: int = 0
    connects: int = 0


def connect_client(
    endpoint: Endpoint,
    username: str | None,
    password: str | None,
    *,
    client_id: str = "",
    clean_session: bool = True,
    reconnect_min_s: int = 1,
    reconnect_max_s: int = 30,
) -> mqtt.Client:
    """Return a paho-mqtt 2 client set up for ``endpoint`` (TLS when it has a CA).

    The client is configured but not connected; the caller sets callbacks,
    then calls ``connect_async`` and ``loop_start``.
    """
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
    )
    if username is not None:
        client.username_pw_set(username, password)
    if endpoint.ca_file is not None:
        client.tls_set(ca_certs=str(endpoint.ca_file))
    client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
    return client


class Device:
    """One machine's MQTT connection; a context manager.

    Parameters
    ----------
    machine_id, site, line : str
        The machine and where it stands; they make its topics.
    endpoint : Endpoint
        The broker's host, port and CA (:attr:`.Broker.endpoint`).
    credentials : DeviceCredentials or None
        Username and password; None connects anonymously (which the project's
        broker refuses).
    qos : {0, 1}, default 1
        Delivery guarantee of telemetry.
    batch_size : int, default 1
        Readings per telemetry message (1 to 100,000).
    max_batch_bytes : int, default MAX_MESSAGE_BYTES
        Cap of one message, at least 4096 bytes.
    max_buffered : int, default 1000
        Messages that may wait unacknowledged (in flight or offline).
    max_inflight : int, default 100
        Messages sent and not yet acknowledged at once (QoS 1).
    overflow : {"wait", "drop_newest"}, default "wait"
        Policy when the buffer is full (see the module docstring).
    overflow_timeout : float, default 30.0
        Seconds ``wait`` blocks before raising :class:`BufferFullError`.
    reconnect_min_s, reconnect_max_s : int, default 1 and 30
        Exponential backoff of reconnection attempts.
    clean_session : bool, default False
        False keeps the session at the broker across reconnects.

    Raises
    ------
    ValueError
        If a setting lies outside its range; the message names it.

    Examples
    --------
    >>> device = Device("m0001", "s01", "s01-l01", endpoint, creds)  # doctest: +SKIP
    >>> with device:  # doctest: +SKIP
    ...     device.publish_frame(readings)
    """

    def __init__(
        self,
        machine_id: str,
        site: str,
        line: str,
        endpoint: Endpoint,
        credentials: DeviceCredentials | None,
        *,
        qos: int = 1,
        batch_size: int = 1,
        max_batch_bytes: int = MAX_MESSAGE_BYTES,
        max_buffered: int = 1000,
        max_inflight: int = 100,
        overflow: Overflow = "wait",
        overflow_timeout: float = 30.0,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        clean_session: bool = False,
    ) -> None:
        if qos not in (0, 1):
            raise ValueError(f"qos must be 0 or 1, got {qos!r}")
        if not 1 <= batch_size <= 100_000:
            raise ValueError(
                f"batch_size must be between 1 and 100000, got {batch_size}"
            )
        if not _MIN_BATCH_BYTES <= max_batch_bytes <= _MAX_BATCH_BYTES:
            raise ValueError(
                f"max_batch_bytes must be between {_MIN_BATCH_BYTES} and "
                f"{_MAX_BATCH_BYTES}, got {max_batch_bytes}"
            )
        if max_buffered < 1:
            raise ValueError(f"max_buffered must be at least 1, got {max_buffered}")
        if max_inflight < 1:
            raise ValueError(f"max_inflight must be at least 1, got {max_inflight}")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(
                f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}, "
                f"got {overflow!r}"
            )
        if overflow_timeout <= 0:
            raise ValueError(
                f"overflow_timeout must be positive, got {overflow_timeout}"
            )
        self.machine_id = machine_id
        self.topic = telemetry_topic(site, line, machine_id)
        self.status_topic = status_topic(site, line, machine_id)
        self.endpoint = endpoint
        self.qos = qos
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.overflow: Overflow = overflow
        self.overflow_timeout = overflow_timeout
        self.stats = DeviceStats()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._unacked: deque[mqtt.MQTTMessageInfo] = deque()
        self._connected = threading.Event()
        self._refused: str | None = None
        self._closed_early: str | None = None
        self._connecting = False
        self._closing = False

        self._client = connect_client(
            endpoint,
            None if credentials is None else credentials.username,
            None if credentials is None else credentials.password,
            client_id=machine_id,
            clean_session=clean_session,
            reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
        )
        self._client.max_queued_messages_set(max_buffered)
        self._client.max_inflight_messages_set(min(max_inflight, max_buffered))
        self._client.will_set(
            self.status_topic, self._status("lost"), qos=1, retain=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect

    # -- callbacks (paho's network thread) ---------------------------------

    def _status(self, state: str) -> bytes:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = {"machine_id": self.machine_id, "state": state, "ts": stamp}
        return json.dumps(body, separators=(",", ":")).encode()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            logger.info("Broker refused device %s: %s", self.machine_id, reason)
            return
        self.stats.connects += 1
        self._publish_status("online")
        self._connected.set()
        logger.info(
            "Device %s connected to %s:%d (connect #%d)",
            self.machine_id,
            self.endpoint.host,
            self.endpoint.port,
            self.stats.connects,
        )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._connected.clear()
        if self._connecting and self._refused is None:
            self._closed_early = (
                f"the broker closed the connection before accepting it ({reason}); "
                "is it a TLS port reached without TLS, or the reverse?"
            )
        elif not self._closing and not self._connecting:
            logger.warning(
                "Device %s lost its connection (%s); reconnecting with backoff",
                self.machine_id,
                reason,
            )

    def _publish_status(self, state: str) -> None:
        info = self._client.publish(self.status_topic, self._status(state), 1, True)
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._unacked.append(info)

    def _prune(self) -> int:
        """Drop delivered messages from the front of the queue; return those left."""
        # paho's MQTTMessageInfo.is_published() raises for a message queued
        # while offline (its rc stays NO_CONN after the re-send), so read the
        # flag it guards. A paho callback per message would halve QoS 0 speed.
        unacked = self._unacked
        while unacked and unacked[0]._published:
            unacked.popleft()
            self.stats.acknowledged += 1
        return len(unacked)

    # -- life cycle ----------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the device is connected to the broker right now."""
        return self._connected.is_set()

    def connect(self, timeout: float = 10.0) -> Device:
        """Connect to the broker and wait until it accepts the device.

        Raises
        ------
        ConnectionRefusedError
            If the broker refuses the credentials (the message carries the
            broker's reason, such as ``Not authorized``).
        ConnectionError
            If the broker closes the connection before answering, as a TLS
            listener does with a plain-TCP client.
        TimeoutError
            If there is no answer within ``timeout`` seconds (wrong port, or
            a TLS handshake that fails, for example against a plain-TCP port).
        """
        self._refused = None
        self._closed_early = None
        self._connecting = True
        self._client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=30)
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.02):
            failed = self._refused is not None or self._closed_early is not None
            if failed or time.monotonic() > deadline:
                self._connecting = False
                self._client.disconnect()
                self._client.loop_stop()
                if self._refused is not None:
                    raise ConnectionRefusedError(
                        f"broker refused device {self.machine_id}: {self._refused}"
                    )
                if self._closed_early is not None:
                    raise ConnectionError(
                        f"device {self.machine_id}: {self._closed_early}"
                    )
                raise TimeoutError(
                    f"device {self.machine_id} got no answer from "
                    f"{self.endpoint.host}:{self.endpoint.port} within {timeout:g} s"
                )
        self._connecting = False
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Send what is pending, wait for acknowledgements, say offline, disconnect."""
        try:
            self.flush(timeout)
        finally:
            self._closing = True
            if self.connected:
                info = self._client.publish(
                    self.status_topic, self._status("offline"), 1, True
                )
                info.wait_for_publish(min(timeout, 5.0))
            self._client.disconnect()
            self._client.loop_stop()
            logger.info(
                "Device %s closed: %d readings in %d messages, %d dropped",
                self.machine_id,
                self.stats.readings,
                self.stats.messages,
                self.stats.dropped_readings,
            )

    def __enter__(self) -> Device:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- publishing ------------------------------------------------------------

    def _send(self, message: bytes, n_readings: int) -> None:
        info = self._client.publish(self.topic, message, self.qos)
        rc = info.rc
        # With QoS 1, NO_CONN means kept in paho's buffer, sent after reconnect.
        if rc == mqtt.MQTT_ERR_SUCCESS or (
            rc == mqtt.MQTT_ERR_NO_CONN and self.qos == 1
        ):
            self._accepted(info, n_readings)
            return
        self._overflow(message, n_readings, rc)

    def _accepted(self, info: mqtt.MQTTMessageInfo, n_readings: int) -> None:
        self.stats.messages += 1
        self.stats.readings += n_readings
        self._unacked.append(info)
        if len(self._unacked) > 4096:
            self._prune()

    def _overflow(self, message: bytes, n_readings: int, rc: int) -> None:
        if self.overflow == "wait":
            deadline = time.monotonic() + self.overflow_timeout
            while time.monotonic() < deadline:
                if rc == mqtt.MQTT_ERR_NO_CONN:
                    self._connected.wait(0.05)
                else:
                    time.sleep(0.001)
                info = self._client.publish(self.topic, message, self.qos)
                rc = info.rc
                if rc == mqtt.MQTT_ERR_SUCCESS or (
                    rc == mqtt.MQTT_ERR_NO_CONN and self.qos == 1
                ):
                    self._accepted(info, n_readings)
                    return
            raise BufferFullError(
                f"device {self.machine_id} could not send for "
                f"{self.overflow_timeout:g} s ({mqtt.error_string(rc)}); "
                f"{self.stats.readings} readings sent so far"
            )
        self.stats.dropped_readings += n_readings
        logger.warning(
            "Device %s dropped a message of %d reading(s): %s (policy drop_newest)",
            self.machine_id,
            n_readings,
            mqtt.error_string(rc),
        )

    def publish_payloads(self, payloads: Sequence[bytes]) -> int:
        """Publish encoded readings of this machine, batched by ``batch_size``.

        A batch that is not full stays pending until more readings arrive or
        :meth:`flush` is called.

        Parameters
        ----------
        payloads : sequence of bytes
            JSON readings of this machine (from :func:`frame_to_payloads`).
            They are not checked here; the subscriber rejects a reading whose
            machine does not match its topic.

        Returns
        -------
        int
            Readings handed to the network layer by this call.
        """
        before = self.stats.readings
        if self.batch_size == 1:
            send = self._send
            for payload in payloads:
                send(payload, 1)
            return self.stats.readings - before
        pending = [*self._pending, *payloads] if self._pending else payloads
        full = len(pending) // self.batch_size * self.batch_size
        self._pending = list(pending[full:])
        if full:
            self._send_all(pending[:full])
        return self.stats.readings - before

    def _send_all(self, payloads: Sequence[bytes]) -> None:
        # Join each message just before it is sent, so that joining overlaps
        # with paho's network thread writing the previous one.
        join, send = b"\n".join, self._send
        for start, stop in _bounds(payloads, self.batch_size, self.max_batch_bytes):
            send(join(payloads[start:stop]), stop - start)

    def publish_frame(self, frame: pd.DataFrame) -> int:
        """Encode and publish a table of this machine's readings, in row order.

        Raises
        ------
        ValueError
            If the table holds readings of another machine.
        """
        if frame.empty:
            return 0
        machines = pd.unique(frame["machine_id"].astype(str))
        if len(machines) != 1 or machines[0] != self.machine_id:
            others = ", ".join(str(m) for m in machines if m != self.machine_id)
            raise ValueError(
                f"frame holds readings of machine(s) {others}; "
                f"this device is {self.machine_id}"
            )
        return self.publish_payloads(frame_to_payloads(frame))

    def publish_reading(self, reading: Mapping[str, Any]) -> int:
        """Encode and publish one reading (a dict with the schema's fields)."""
        return self.publish_payloads([encode_reading(reading)])

    def flush(self, timeout: float = 30.0) -> bool:
        """Send the pending partial batch and wait until the broker has it all.

        Returns
        -------
        bool
            True when every message was written (QoS 0) or acknowledged
            (QoS 1) within ``timeout`` seconds.
        """
        if self._pending:
            pending, self._pending = self._pending, []
            self._send_all(pending)
        deadline = time.monotonic() + timeout
        while left := self._prune():
            if time.monotonic() > deadline:
                logger.warning(
                    "Device %s: %d message(s) still unacknowledged after %g s",
                    self.machine_id,
                    left,
                    timeout,
                )
                return False
            last = self._unacked[-1]
            try:
                # Wakes as soon as the newest message is delivered.
                last.wait_for_publish(0.05)
            except (RuntimeError, ValueError):  # queued while offline
                time.sleep(0.005)
        return True

    def __repr__(self) -> str:
        return (
            f"Device({self.machine_id}, topic={self.topic!r}, qos={self.qos}, "
            f"batch_size={self.batch_size}, connected={self.connected})"
        )


def publish_fleet(
    frame: pd.DataFrame,
    devices: Mapping[str, Device],
    *,
    payloads: Sequence[bytes] | None = None,
    speed: float | None = None,
    step_s: float = 60.0,
) -> int:
    """Publish many machines' readings through their own devices, in row order.

    The table is cut into slices of about ``step_s`` simulated seconds; each
    slice is encoded once and each machine's rows go out through its device.
    Pacing uses each row's position in the table, not its timestamp, so that
    faulty clocks in the data do not disturb it.

    Parameters
    ----------
    frame : pandas.DataFrame
        Readings of the machines in ``devices``, in delivery order; at least
        the column ``machine_id`` (and ``ts`` when ``speed`` is given).
    devices : Mapping[str, Device]
        Connected devices by machine id.
    payloads : sequence of bytes or None, default None
        Ready payloads, one per row (for example with faults injected);
        the rows are encoded with :func:`frame_to_payloads` when None.
    speed : float or None, default None
        Simulated seconds per wall-clock second; None publishes as fast as
        the devices take the readings.
    step_s : float, default 60.0
        Simulated seconds per slice (the pacing granularity).

    Returns
    -------
    int
        Readings handed to the devices.

    Raises
    ------
    ValueError
        If ``speed`` or ``step_s`` is not positive, ``payloads`` does not
        match the rows, or a machine in the table has no device.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be positive or None, got {speed}")
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    if payloads is not None and len(payloads) != len(frame):
        raise ValueError(
            f"payloads must match the rows: {len(frame)} rows, got {len(payloads)}"
        )
    if frame.empty:
        return 0
    machines = frame["machine_id"].astype(str).to_numpy()
    unknown = set(pd.unique(machines)) - set(devices)
    if unknown:
        raise ValueError(f"no device for machine(s) {', '.join(sorted(unknown))}")

    span_s = 0.0
    if speed is not None:
        ts = pd.DatetimeIndex(frame["ts"])
        span_s = max((ts.max() - ts.min()).total_seconds(), 0.0)
    rows_per_s = len(frame) / span_s if span_s > 0 else float(len(frame))
    step_rows = max(1, int(rows_per_s * step_s))
    wall_start = time.monotonic()
    sent = 0
    for start in range(0, len(frame), step_rows):
        end = min(start + step_rows, len(frame))
        if speed is not None:
            delay = wall_start + start / rows_per_s / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if payloads is None:
            part = frame_to_payloads(frame.iloc[start:end])
        else:
            part = list(payloads[start:end])
        slice_machines = machines[start:end]
        for machine_id in pd.unique(slice_machines):
            rows = np.flatnonzero(slice_machines == machine_id)
            sent += devices[machine_id].publish_payloads([part[i] for i in rows])
    return sent
