"""Benchmark of MQTT streaming: the library's devices against a bare paho-mqtt loop.

Everything runs on loopback through the project's broker configuration
(mosquitto with TLS, passwords and ACLs). Two subscriber processes share
the telemetry subscription (an MQTT shared subscription, ``$share/...``, the
way an ingestion service scales out); each receives its share of the
readings and validates every one with
:func:`~smartfactory_lib.core.schema.decode_reading`.

For one reading per message and for batches, at QoS 0 and QoS 1, two figures
are measured, each the median of a few runs with the baseline run right
beside the library in every round (in alternating order):

- *publisher*: readings per second from the first publish until the broker
  has every message (written at QoS 0, acknowledged at QoS 1), for the
  library's :class:`~smartfactory_lib.transport.Device` and for a bare paho
  loop over the same payloads with the same in-flight window (in batch mode
  it joins fixed slices of 500 payloads per message). Their ratio is the
  library's overhead; target at least 0.8.
- *end to end*: readings per second from the first publish until the
  subscriber has received and validated the last reading. In batch mode the
  target is at least 100,000 readings/s.

Both sides start from payloads already encoded by
:func:`~smartfactory_lib.core.schema.frame_to_payloads`; encoding is not
timed here (it is the same work for both).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import statistics
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Final

from ..core.schema import frame_to_payloads
from ..simulation import simulate
from ..transport import (
    Broker,
    Device,
    DeviceCredentials,
    Endpoint,
    Subscriber,
)
from ..transport.device import connect_client
from ..transport.subscriber import TELEMETRY_FILTER
from . import Measurement

__all__ = ["run"]

logger = logging.getLogger(__name__)

BATCH: Final = 500
"""Readings per message in batch mode."""

INFLIGHT: Final = 100
"""In-flight window of both publishers at QoS 1."""

SUBSCRIBERS: Final = 2
"""Subscriber processes sharing the subscription."""

_TIMEOUT_S: Final = 120.0


def _subscriber_process(
    endpoint: Endpoint, password: str, topic: str, conn: Connection
) -> None:
    subscriber = Subscriber(
        endpoint,
        DeviceCredentials("bench-reader", password),
        topic=topic,
        qos=1,
        clean_session=True,
        keep_readings=False,
    ).start()
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "stop":
            break
        if command == "reset":
            subscriber.reset()
            conn.send("ok")
        elif command == "count":
            conn.send(
                (subscriber.received, subscriber.malformed, subscriber.last_message_at)
            )
    subscriber.stop()


def _bare_loop(
    endpoint: Endpoint,
    password: str,
    topic: str,
    payloads: list[bytes],
    qos: int,
    batch: int,
) -> tuple[float, float]:
    """Publish with plain paho calls; return (seconds, start time).

    In batch mode the loop joins fixed slices of ``batch`` payloads, the
    least a hand-written publisher must do (without the library's byte cap).
    """
    client = connect_client(endpoint, "m0001", password, client_id="bench-bare")
    client.max_inflight_messages_set(INFLIGHT)
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    started = time.monotonic()
    info = None
    if batch == 1:
        for payload in payloads:
            info = client.publish(topic, payload, qos)
    else:
        for start in range(0, len(payloads), batch):
            message = b"\n".join(payloads[start : start + batch])
            info = client.publish(topic, message, qos)
    if info is not None:
        info.wait_for_publish(_TIMEOUT_S)
    seconds = time.monotonic() - started
    client.disconnect()
    client.loop_stop()
    return seconds, started


def _library(
    endpoint: Endpoint, password: str, payloads: list[bytes], qos: int, batch: int
) -> tuple[float, float]:
    """Publish with the library's device; return (seconds, start time)."""
    device = Device(
        "m0001",
        "s01",
        "s01-l01",
        endpoint,
        DeviceCredentials("m0001", password),
        qos=qos,
        batch_size=batch,
        max_inflight=INFLIGHT,
        clean_session=True,
    ).connect()
    started = time.monotonic()
    device.publish_payloads(payloads)
    device.flush(_TIMEOUT_S)
    seconds = time.monotonic() - started
    device.close()
    return seconds, started


class _Subscribers:
    """Subscriber processes sharing one subscription, driven through pipes."""

    def __init__(self, endpoint: Endpoint, password: str, count: int) -> None:
        context = mp.get_context("spawn")
        topic = f"$share/bench/{TELEMETRY_FILTER}"
        self.pipes: list[Connection] = []
        self.processes = []
        for _ in range(count):
            parent, child = context.Pipe()
            process = context.Process(
                target=_subscriber_process,
                args=(endpoint, password, topic, child),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        for pipe in self.pipes:
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("a benchmark subscriber did not start")

    def reset(self) -> None:
        for pipe in self.pipes:
            pipe.send("reset")
        for pipe in self.pipes:
            pipe.recv()

    def wait(self, n: int) -> float:
        """Wait until the subscribers hold ``n`` readings; return the last arrival."""
        deadline = time.monotonic() + _TIMEOUT_S
        while True:
            for pipe in self.pipes:
                pipe.send("count")
            answers = [pipe.recv() for pipe in self.pipes]
            received = sum(a[0] for a in answers)
            if received >= n:
                malformed = sum(a[1] for a in answers)
                if malformed:
                    raise RuntimeError(f"{malformed} benchmark readings were rejected")
                return max(a[2] for a in answers)
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the subscribers received {received} of {n} readings"
                )
            time.sleep(0.01)

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()


def run(quick: bool = False) -> list[Measurement]:
    """Measure publisher and end-to-end throughput; see the module docstring.

    Parameters
    ----------
    quick : bool, default False
        Smaller workloads and one measured round, for smoke tests.

    Returns
    -------
    list of Measurement
        Eight figures: publisher and end to end, for single and batch
        messages, at QoS 0 and 1.
    """
    n_single = 2_000 if quick else 10_000
    n_batch = 20_000 if quick else 200_000
    rounds = 1 if quick else 7
    frame = simulate(n_machines=1, hours=n_batch / 3600 + 0.01, seed=3).readings
    payloads = frame_to_payloads(frame.iloc[:n_batch])
    topic = "factory/s01/s01-l01/m0001/telemetry"
    measurements: list[Measurement] = []

    with Broker() as broker:
        password = Broker.new_password()
        broker.add_user("m0001", password)
        reader_password = broker.add_service_user("bench-reader")
        endpoint = broker.endpoint
        subscribers = _Subscribers(endpoint, reader_password, SUBSCRIBERS)
        try:

            def timed(
                action: Callable[[], tuple[float, float]], n: int
            ) -> tuple[float, float]:
                subscribers.reset()
                seconds, started = action()
                last_at = subscribers.wait(n)
                return n / seconds, n / (last_at - started)

            for mode, n, batch in (("single", n_single, 1), ("batch", n_batch, BATCH)):
                work = payloads[:n]
                for qos in (0, 1):
                    bare = partial(
                        _bare_loop, endpoint, password, topic, work, qos, batch
                    )
                    library = partial(_library, endpoint, password, work, qos, batch)

                    if not quick:  # a warm-up round, not counted
                        timed(bare, n)
                        timed(library, n)
                    figures: dict[str, list[tuple[float, float]]] = {
                        "bare": [],
                        "library": [],
                    }
                    for round_ in range(rounds):
                        # Alternate the order so that drift in the machine's
                        # load favours neither side.
                        order = ("bare", "library")[:: 1 if round_ % 2 == 0 else -1]
                        for kind in order:
                            action = bare if kind == "bare" else library
                            figures[kind].append(timed(action, n))
                    label = f"{mode}, QoS {qos}"
                    if batch > 1:
                        label += f", {batch} readings/message"
                    for index, kind in ((0, "publisher"), (1, "end to end")):
                        measurements.append(
                            _measure(
                                f"{kind} ({label})",
                                statistics.median(f[index] for f in figures["library"]),
                                statistics.median(f[index] for f in figures["bare"]),
                                end_to_end=index == 1,
                                batch=batch > 1,
                            )
                        )
                    logger.info("Measured %s", label)
        finally:
            subscribers.close()
    return measurements


def _measure(
    name: str,
    value: float,
    baseline: float,
    *,
    end_to_end: bool = False,
    batch: bool = False,
) -> Measurement:
    target: str | None
    met: bool | None
    if end_to_end:
        target = ">= 100,000 readings/s" if batch else None
        met = value >= 100_000 if batch else None
        what = "bare paho-mqtt loop, same payloads, end to end"
    else:
        target = ">= 0.8 x bare loop"
        met = value >= 0.8 * baseline
        what = "bare paho-mqtt loop, same payloads"
    return Measurement(
        benchmark="mqtt",
        name=name,
        value=value,
        unit="readings/s",
        baseline=what,
        baseline_value=baseline,
        target=target,
        target_met=met,
    )
