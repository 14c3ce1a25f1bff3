"""A live pipeline that measures its own SLIs, a synthetic canary and record traces.

:class:`LivePipeline` keeps the whole path running, as the factory would:
device clients publish to mosquitto on loopback, a subscriber hands every
message to the IoT rule stand-in, which forwards it into Kinesis, and the
event source mapping stand-in delivers batches to the ingest handler, which
writes curated Parquet, the ledger, machine state and alerts (moto by
default). Unlike :func:`~smartfactory_lib.cloud.pipeline.run_pipeline`,
which replays hours of history in one go, it publishes in real time, one
reading per machine per tick, stamped with the wall clock, so that the
latencies it measures mean what they say. Sequence numbers start at the
start time in milliseconds, so that two runs against the same tables never
reuse one (the ledger would count the second as duplicates).

While it runs it records the events of every SLI in ``governance/slos.yaml``:

* ``ingestion_latency``: device timestamp to the end of the handler call that
  wrote the reading's curated object (an upper bound: the same call also
  writes the ledger, state and alerts);
* ``inference_time``: duration of the scoring call that flagged an alert's
  reading;
* ``alert_delivery``: end of that scoring call to the ``Timestamp`` SNS put on
  the notification, read from an SQS queue subscribed to the alert topic;
* ``completeness``: whether each canary reading was committed to the ledger
  (which the handler writes only after its curated object) by its deadline.

The :class:`Canary` is a device of its own that publishes a known, healthy
reading every ``period_s`` seconds; it feeds the completeness SLI.

Tracing. Each canary reading, and every ``trace_every``-th fleet reading, is
traced across the stages: publish, broker and rule, Kinesis, handler (with
a scoring subsegment). :class:`Segment` has the shape of an AWS X-Ray segment
document, and :meth:`LivePipeline.put_traces` sends them with X-Ray's
``PutTraceSegments``. This is a local trace in X-Ray's format, not the
aws-lambda-powertools ``Tracer``: outside Lambda the Tracer needs an X-Ray
daemon and otherwise records nothing.

Faults for exercising the runbooks (:data:`FAULTS`): ``sensor`` forces
signal values on one machine (a hot housing raises an alert),
``rule_disabled`` drops what reaches the IoT rule as a disabled rule would,
and ``slow_consumer`` delays every handler call.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from ..cloud.handler import IngestHandler
from ..cloud.resources import Resources, ensure_resources
from ..cloud.rule import RuleForwarder, TopicRule
from ..cloud.scoring import Scorer, ThresholdScorer
from ..cloud.storage import ledger_lookup, read_alerts, read_curated
from ..cloud.stream import KinesisPoller
from ..core.aws import client
from ..core.config import Settings
from ..core.schema import SIGNAL_NAMES, SchemaError, decode_reading
from ..simulation import simulate
from ..transport import (
    Broker,
    Device,
    DeviceCredentials,
    Subscriber,
    load_device_credentials,
    provision_devices,
)
from .slo import SLOSet, events, load_slos

__all__ = [
    "CANARY_READING",
    "FAULTS",
    "Canary",
    "LivePipeline",
    "Segment",
    "TimedScorer",
    "new_trace_id",
]

logger = logging.getLogger(__name__)

FAULTS: Final = ("sensor", "rule_disabled", "slow_consumer")
"""Faults :meth:`LivePipeline.inject` can switch on."""

CANARY_READING: Final[dict[str, float]] = {
    "ambient_c": 21.0,
    "humidity_pct": 45.0,
    "load_pct": 50.0,
    "spindle_rpm": 1500.0,
    "power_kw": 5.5,
    "temperature_c": 40.0,
    "vibration_mm_s": 1.5,
}
"""The canary's signal values: healthy, so it never raises an alert."""


def new_trace_id(now_s: float | None = None) -> str:
    """Return an X-Ray trace id: ``1-<epoch seconds, hex>-<96 random bits>``."""
    now = time.time() if now_s is None else now_s
    return f"1-{int(now):08x}-{secrets.token_hex(12)}"


@dataclass
class Segment:
    """One stage of a record's journey, shaped like an X-Ray segment document.

    Attributes
    ----------
    name : str
        The stage (``device``, ``broker-rule``, ``kinesis``, ``ingest``).
    trace_id : str
        The record's trace.
    start_time, end_time : float
        Seconds since the epoch.
    parent_id : str or None
        The segment this one is a subsegment of.
    annotations : dict
        Indexed key-value pairs (``machine_id``, ``seq``, ``canary``).
    """

    name: str
    trace_id: str
    start_time: float
    end_time: float
    parent_id: str | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def seconds(self) -> float:
        """Duration of the stage."""
        return self.end_time - self.start_time

    def document(self) -> dict[str, Any]:
        """The segment as an X-Ray segment document."""
        doc: dict[str, Any] = {
            "name": self.name,
            "id": self.id,
            "trace_id": self.trace_id,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "annotations": self.annotations,
        }
        if self.parent_id is not None:
            doc |= {"parent_id": self.parent_id, "type": "subsegment"}
        return doc


class TimedScorer:
    """Wrap a scorer and record each call: when, how long, which machines it flagged.

    Parameters
    ----------
    scorer : Scorer
        The scorer doing the work.
    """

    def __init__(self, scorer: Scorer) -> None:
        self.inner = scorer
        self.calls: list[dict[str, Any]] = []

    @property
    def name(self) -> str:
        """The wrapped scorer's name."""
        return self.inner.name

    @property
    def threshold(self) -> float:
        """The wrapped scorer's threshold."""
        return self.inner.threshold

    def score(self, readings: pd.DataFrame) -> np.ndarray:
        """Score ``readings`` with the wrapped scorer and time the call."""
        started = time.time()
        scores = np.asarray(self.inner.score(readings), dtype=np.float64)
        ended = time.time()
        flagged = scores >= self.inner.threshold
        self.calls.append(
            {
                "start": started,
                "end": ended,
                "rows": len(readings),
                "flagged": set(readings.loc[flagged, "machine_id"].astype(str)),
            }
        )
        return scores


@dataclass
class _Pending:
    trace_id: str
    published: float
    canary: bool
    at_rule: float | None = None


class Canary:
    """A synthetic device that publishes a known healthy reading on a schedule.

    Parameters
    ----------
    device : Device
        The canary's connected device client.
    machine_id, site, line : str
        Its identity.
    period_s : float, default 1.0
        Seconds between canary readings.
    deadline_s : float, default 30.0
        A canary reading not in the ledger this long after publishing is
        missing.

    Attributes
    ----------
    published : dict
        ``seq -> publish time`` of every canary reading.
    results : dict
        ``seq -> seconds to commit`` (None while pending, NaN when missed).
    """

    def __init__(
        self,
        device: Device,
        machine_id: str,
        site: str,
        line: str,
        *,
        period_s: float = 1.0,
        deadline_s: float = 30.0,
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"period_s must be positive, got {period_s}")
        self.device = device
        self.machine_id = machine_id
        self.site = site
        self.line = line
        self.period_s = period_s
        self.deadline_s = deadline_s
        self.published: dict[int, float] = {}
        self.results: dict[int, float | None] = {}
        self._seq = int(time.time() * 1000)
        self._next = 0.0

    def due(self, now_s: float) -> bool:
        """Whether the next canary reading is due at ``now_s``."""
        return now_s >= self._next

    def publish(self, now_s: float) -> int:
        """Publish one canary reading stamped ``now_s``; return its sequence number."""
        self._seq += 1
        reading = {
            "schema_version": 1,
            "machine_id": self.machine_id,
            "site": self.site,
            "line": self.line,
            "seq": self._seq,
            "ts": pd.Timestamp(now_s, unit="s", tz="UTC"),
            **CANARY_READING,
        }
        self.device.publish_reading(reading)
        self.published[self._seq] = now_s
        self.results[self._seq] = None
        self._next = now_s + self.period_s
        return self._seq

    def check(self, dynamodb: Any, ledger_table: str, now_s: float) -> int:
        """Look up pending canary readings in the ledger; return how many were missed.

        A reading found is recorded with its delay; one past its deadline
        and still absent is recorded as missed (NaN).
        """
        pending = [s for s, r in self.results.items() if r is None]
        if not pending:
            return 0
        found = ledger_lookup(
            dynamodb, ledger_table, [(self.machine_id, s) for s in pending]
        )
        missed = 0
        for seq in pending:
            if (self.machine_id, seq) in found:
                self.results[seq] = now_s - self.published[seq]
            elif now_s - self.published[seq] > self.deadline_s:
                self.results[seq] = float("nan")
                missed += 1
        if missed:
            logger.warning("Canary %s: %d reading(s) missed", self.machine_id, missed)
        return missed

    def frame(self) -> pd.DataFrame:
        """Return one row per canary reading: publish time, delay and outcome."""
        rows = [
            {
                "seq": seq,
                "published": self.published[seq],
                "delay_s": delay,
                "status": "pending"
                if delay is None
                else "missed"
                if np.isnan(delay)
                else "committed",
            }
            for seq, delay in self.results.items()
        ]
        return pd.DataFrame(rows, columns=["seq", "published", "delay_s", "status"])


Listener = Callable[[str, dict[str, Any]], None]


class LivePipeline:
    """Broker, devices, rule, Kinesis, handler and storage, running in real time.

    Parameters
    ----------
    settings : Settings or None, default None
        Backend and names; the backend must be open
        (:func:`~smartfactory_lib.core.aws.aws_backend`).
    n_machines : int, default 3
        Machines of the simulated fleet (plus the canary).
    seed : int, default 7
        Seed of the simulated signals.
    scorer : Scorer or None, default None
        The handler's scorer; :class:`~smartfactory_lib.cloud.scoring.ThresholdScorer`
        when None.
    canary_period_s : float, default 1.0
        Seconds between canary readings.
    canary_deadline_s : float, default 30.0
        Seconds after which a canary reading not committed counts as missing.
    trace_every : int, default 50
        Trace every n-th fleet reading (canary readings always).
    slos : SLOSet or None, default None
        The SLO file; the repository's when None.

    Examples
    --------
    >>> with aws_backend(settings), LivePipeline(settings) as live:  # doctest: +SKIP
    ...     live.run(seconds=5)
    ...     live.events()
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        n_machines: int = 3,
        seed: int = 7,
        scorer: Scorer | None = None,
        canary_period_s: float = 1.0,
        canary_deadline_s: float = 30.0,
        trace_every: int = 50,
        slos: SLOSet | None = None,
    ) -> None:
        if not 1 <= n_machines <= 200:
            raise ValueError(f"n_machines must be between 1 and 200, got {n_machines}")
        if trace_every < 1:
            raise ValueError(f"trace_every must be 1 or more, got {trace_every}")
        self.settings = settings or Settings()
        self.slos = slos or load_slos()
        self.scorer = TimedScorer(scorer or ThresholdScorer())
        self.trace_every = trace_every
        self.canary_period_s = canary_period_s
        self.canary_deadline_s = canary_deadline_s
        history = simulate(n_machines, 1.0, rate_hz=1.0, seed=seed).readings
        self._history = {
            str(m): group.reset_index(drop=True)
            for m, group in history.groupby("machine_id", observed=True)
        }
        self.machines = sorted(self._history)
        first = self._history[self.machines[0]].iloc[0]
        self.site, self.line = str(first["site"]), str(first["line"])
        self.canary_id = "canary-01"
        self.faults: dict[str, Any] = {}
        self.segments: list[Segment] = []
        self.alerts: list[dict[str, Any]] = []
        self.published = 0
        self.dropped_by_rule = 0
        self._tick = 0
        self._seq0 = int(time.time() * 1000)
        self._latency: list[tuple[float, float]] = []
        self._iterator_age: list[tuple[float, float]] = []
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._stack = ExitStack()
        self.resources: Resources | None = None
        self.canary: Canary | None = None

    # Life cycle --------------------------------------------------------------

    def start(self) -> LivePipeline:
        """Create the resources, start the broker and connect every client."""
        settings = self.settings
        self.resources = ensure_resources(settings)
        self.kinesis = client("kinesis", settings)
        self.dynamodb = client("dynamodb", settings)
        self.sqs = client("sqs", settings)
        sns = client("sns", settings)
        queue = self.sqs.create_queue(QueueName=settings.name("alerts-watch"))
        self._watch_url = queue["QueueUrl"]
        arn = self.sqs.get_queue_attributes(
            QueueUrl=self._watch_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.resources.topic_arn, Protocol="sqs", Endpoint=arn)
        self.rule = RuleForwarder(
            self.kinesis, self.resources.stream, TopicRule(settings.limits.rule_sql)
        )
        self.handler = IngestHandler(settings, scorer=self.scorer)
        self.poller = KinesisPoller(
            self.kinesis,
            self.resources.stream,
            self._handle,
            batch_size=settings.limits.batch_size,
        )
        broker = self._stack.enter_context(Broker())
        ids = [*self.machines, self.canary_id]
        provision_devices(broker, ids, settings)
        reader = DeviceCredentials("iot-rule", broker.add_service_user("iot-rule"))
        subscriber = Subscriber(
            broker.endpoint,
            reader,
            topic=self.rule.rule.topic_filter,
            keep_readings=False,
            on_message=self._at_rule,
            on_reading=self._on_reading,
        ).start()
        self._stack.callback(subscriber.stop)
        self.devices: dict[str, Device] = {}
        for machine_id in ids:
            device = Device(
                machine_id,
                self.site,
                self.line,
                broker.endpoint,
                load_device_credentials(machine_id, settings),
            ).connect()
            self._stack.callback(device.close)
            self.devices[machine_id] = device
        self.canary = Canary(
            self.devices[self.canary_id],
            self.canary_id,
            self.site,
            self.line,
            period_s=self.canary_period_s,
            deadline_s=self.canary_deadline_s,
        )
        logger.info(
            "Live pipeline started: %d machines and a canary on %s",
            len(self.machines),
            broker.endpoint,
        )
        return self

    def _started(self) -> Resources:
        if self.resources is None:
            raise RuntimeError("the live pipeline is not started; call start() first")
        return self.resources

    def _started_canary(self) -> Canary:
        if self.canary is None:
            raise RuntimeError("the live pipeline is not started; call start() first")
        return self.canary

    def stop(self) -> None:
        """Close every client and stop the broker."""
        self._stack.close()

    def __enter__(self) -> LivePipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(kind, data)`` for each ``reading`` and ``alert``."""
        self._listeners.append(listener)

    def _notify(self, kind: str, data: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                listener(kind, data)
            except Exception:
                logger.exception("Listener failed on a %s", kind)

    # Faults ------------------------------------------------------------------

    def inject(self, fault: str, machine_id: str | None = None, **values: Any) -> None:
        """Switch a fault on.

        Parameters
        ----------
        fault : {"sensor", "rule_disabled", "slow_consumer"}
            ``sensor`` overrides signals of ``machine_id`` (default
            ``temperature_c=95``); ``rule_disabled`` drops messages at the
            rule; ``slow_consumer`` sleeps ``delay_s`` (default 2) in every
            handler call.
        machine_id : str or None
            The machine of a ``sensor`` fault; the first machine when None.
        **values
            Signal values (``sensor``) or ``delay_s`` (``slow_consumer``).

        Raises
        ------
        ValueError
            If the fault, machine or signal is unknown.
        """
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}, got {fault!r}")
        if fault == "sensor":
            machine = machine_id or self.machines[0]
            if machine not in self._history:
                raise ValueError(
                    f"machine_id must be one of {', '.join(self.machines)}, "
                    f"got {machine!r}"
                )
            signals = values or {"temperature_c": 95.0}
            unknown = set(signals) - set(SIGNAL_NAMES)
            if unknown:
                raise ValueError(
                    f"signals must be among {', '.join(SIGNAL_NAMES)}, "
                    f"got {', '.join(sorted(unknown))}"
                )
            self.faults["sensor"] = (machine, signals)
        elif fault == "slow_consumer":
            self.faults["slow_consumer"] = float(values.get("delay_s", 2.0))
        else:
            self.faults["rule_disabled"] = True
        logger.warning("Injected fault %s %s", fault, self.faults[fault])

    def clear(self, fault: str | None = None) -> None:
        """Switch one fault off, or all of them when ``fault`` is None."""
        if fault is None:
            self.faults.clear()
        else:
            self.faults.pop(fault, None)

    # The data path -----------------------------------------------------------

    def _at_rule(self, topic: str, payload: bytes) -> None:
        now = time.time()
        if self.faults.get("rule_disabled"):
            self.dropped_by_rule += payload.count(b"\n") + 1
            return
        if self._pending:
            try:
                body = json.loads(payload)
                pending = self._pending.get((str(body["machine_id"]), int(body["seq"])))
            except (ValueError, KeyError, TypeError):
                pending = None
            if pending is not None:
                pending.at_rule = now
        self.rule.on_message(topic, payload)

    def _on_reading(self, reading: dict[str, Any]) -> None:
        data = {k: reading[k] for k in ("machine_id", "seq", *SIGNAL_NAMES)}
        data["ts"] = pd.Timestamp(reading["ts"]).isoformat()
        self._notify("reading", data)

    def _handle(self, event: dict[str, Any], context: Any) -> Any:
        started = time.time()
        delay = self.faults.get("slow_consumer")
        if delay:
            time.sleep(delay)
        calls_before = len(self.scorer.calls)
        result = self.handler(event, context)
        ended = time.time()
        failed = {
            f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])
        }
        for record in event["Records"]:
            kinesis = record["kinesis"]
            if kinesis["sequenceNumber"] in failed:
                continue
            arrival = float(kinesis["approximateArrivalTimestamp"])
            self._iterator_age.append((started, (started - arrival) * 1000.0))
            try:
                reading = decode_reading(base64.b64decode(kinesis["data"]))
            except SchemaError:
                continue
            device_ts = pd.Timestamp(reading["ts"]).timestamp()
            self._latency.append((ended, ended - device_ts))
            key = (str(reading["machine_id"]), int(reading["seq"]))
            pending = self._pending.pop(key, None)
            if pending is not None:
                self._trace(key, pending, arrival, started, ended, calls_before)
        return result

    def _trace(
        self,
        key: tuple[str, int],
        pending: _Pending,
        arrival: float,
        started: float,
        ended: float,
        calls_before: int,
    ) -> None:
        notes = {"machine_id": key[0], "seq": key[1], "canary": pending.canary}
        trace = pending.trace_id
        at_rule = pending.at_rule if pending.at_rule is not None else arrival
        ingest = Segment("ingest", trace, started, ended, annotations=notes)
        stages = [
            Segment("device", trace, pending.published, pending.published, None, notes),
            Segment("broker-rule", trace, pending.published, at_rule, None, notes),
            Segment("kinesis", trace, at_rule, started, None, notes),
            ingest,
        ]
        for call in self.scorer.calls[calls_before:]:
            stages.append(
                Segment("score", trace, call["start"], call["end"], ingest.id, notes)
            )
        self.segments.extend(stages)

    def _next_frame(self, now_s: float) -> pd.DataFrame:
        rows = []
        sensor = self.faults.get("sensor")
        for machine_id in self.machines:
            history = self._history[machine_id]
            row = history.iloc[self._tick % len(history)].to_dict()
            row["seq"] = self._seq0 + self._tick
            row["ts"] = pd.Timestamp(now_s, unit="s", tz="UTC")
            if sensor is not None and sensor[0] == machine_id:
                row.update(sensor[1])
            rows.append(row)
        self._tick += 1
        return pd.DataFrame(rows)

    def publish_tick(self, now_s: float | None = None) -> int:
        """Publish a reading per machine (and the canary when due); return the count."""
        now = time.time() if now_s is None else now_s
        frame = self._next_frame(now)
        for row in frame.to_dict("records"):
            if (self.published % self.trace_every) == 0:
                self._pending[(row["machine_id"], int(row["seq"]))] = _Pending(
                    new_trace_id(now), now, canary=False
                )
            self.devices[row["machine_id"]].publish_reading(row)
            self.published += 1
        canary = self._started_canary()
        if canary.due(now):
            seq = canary.publish(now)
            self._pending[(self.canary_id, seq)] = _Pending(
                new_trace_id(now), now, canary=True
            )
            self.published += 1
        return len(frame)

    def pump(self, timeout_s: float = 5.0) -> int:
        """Wait for the broker, forward to Kinesis, drain it and collect alerts.

        Returns
        -------
        int
            Records the handler checkpointed.
        """
        for device in self.devices.values():
            device.flush(timeout_s)
        expected = self.published - self.dropped_by_rule
        deadline = time.monotonic() + timeout_s
        while self.rule.matched < expected and time.monotonic() < deadline:
            if self.faults.get("rule_disabled"):
                break
            time.sleep(0.01)
            expected = self.published - self.dropped_by_rule
        self.rule.flush()
        moved = self.poller.drain()
        self._collect_alerts()
        self._started_canary().check(
            self.dynamodb, self._started().ledger_table, time.time()
        )
        return moved

    def _collect_alerts(self) -> None:
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self._watch_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                envelope = json.loads(message["Body"])
                alert = json.loads(envelope["Message"])
                sent = pd.Timestamp(envelope["Timestamp"]).timestamp()
                call = next(
                    (
                        c
                        for c in reversed(self.scorer.calls)
                        if alert["machine_id"] in c["flagged"] and c["end"] <= sent + 1
                    ),
                    None,
                )
                alert["sns_time"] = sent
                alert["detected"] = call["end"] if call else float("nan")
                alert["inference_s"] = (
                    call["end"] - call["start"] if call else float("nan")
                )
                alert["delivery_s"] = max(0.0, sent - alert["detected"])
                self.alerts.append(alert)
                self._notify("alert", alert)
                self.sqs.delete_message(
                    QueueUrl=self._watch_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def step(self) -> int:
        """Publish one tick and pump it through; return records checkpointed."""
        self.publish_tick()
        return self.pump()

    def run(self, seconds: float, tick_s: float = 0.25) -> int:
        """Publish a tick every ``tick_s`` for ``seconds``; return records published.

        Raises
        ------
        ValueError
            If ``seconds`` or ``tick_s`` is not positive.
        """
        if seconds <= 0 or tick_s <= 0:
            raise ValueError(
                f"seconds and tick_s must be positive, got {seconds} and {tick_s}"
            )
        before = self.published
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            started = time.monotonic()
            self.step()
            time.sleep(max(0.0, tick_s - (time.monotonic() - started)))
        return self.published - before

    # Results -----------------------------------------------------------------

    def events(self, slos: SLOSet | None = None) -> pd.DataFrame:
        """Return the SLI events measured so far (:data:`.slo.EVENT_COLUMNS`).

        Parameters
        ----------
        slos : SLOSet or None, default None
            Judges each event against these thresholds (a drill's, for
            example); the pipeline's own when None.
        """
        slos = slos or self.slos
        latency = np.array(self._latency or [(0.0, 0.0)][:0]).reshape(-1, 2)
        parts = [
            events(slos.slo("ingestion_latency"), latency[:, 0], latency[:, 1]),
        ]
        if self.alerts:
            alerts = pd.DataFrame(self.alerts)
            parts.append(
                events(
                    slos.slo("inference_time"),
                    alerts["detected"],
                    alerts["inference_s"],
                )
            )
            parts.append(
                events(
                    slos.slo("alert_delivery"), alerts["sns_time"], alerts["delivery_s"]
                )
            )
        canary = self._started_canary().frame()
        done = canary[canary["status"] != "pending"]
        parts.append(
            events(
                slos.slo("completeness"),
                done["published"],
                (done["status"] == "missed").astype(float),
            )
        )
        return pd.concat(parts, ignore_index=True)

    def iterator_age(self) -> pd.DataFrame:
        """Return the stand-in for Kinesis' iterator age: handler start - arrival."""
        return pd.DataFrame(self._iterator_age, columns=["time_s", "age_ms"])

    def trace_frame(self) -> pd.DataFrame:
        """Return every traced segment as a table, one row per segment."""
        rows = [
            {
                "trace_id": s.trace_id,
                "segment": s.name,
                "parent_id": s.parent_id,
                "start": s.start_time,
                "seconds": s.seconds,
                **s.annotations,
            }
            for s in self.segments
        ]
        return pd.DataFrame(rows)

    def put_traces(self, xray: Any) -> int:
        """Send the segments with X-Ray's ``PutTraceSegments``; return the count."""
        documents = [json.dumps(s.document()) for s in self.segments]
        unprocessed = 0
        for start in range(0, len(documents), 50):
            response = xray.put_trace_segments(
                TraceSegmentDocuments=documents[start : start + 50]
            )
            unprocessed += len(response.get("UnprocessedTraceSegments", []))
        if unprocessed:
            raise RuntimeError(f"X-Ray refused {unprocessed} trace segments")
        return len(documents)

    def publish_metrics(self, cloudwatch: Any) -> int:
        """Publish the SLIs and the stand-in AWS metrics to CloudWatch.

        Sends the SLI events (:func:`.slo.publish_events`), the handler's
        ``RecordsStored`` and ``RecordsQuarantined`` (its embedded metrics),
        the iterator age, the dead-letter queue depth and the function's
        errors and throttles (0 and 0 here: nothing throttles or crashes a
        local call unnoticed, which is what those alarms watch in AWS).

        Returns
        -------
        int
            Datapoints sent.
        """
        from .slo import dimension_value, publish_events, publish_values

        settings = self.settings
        now = time.time()
        sent = publish_events(cloudwatch, self.slos, self.events())
        service = {"service": dimension_value("service", settings)}
        for name in ("RecordsStored", "RecordsQuarantined"):
            values = [_emf_value(m, name) for m in self.handler.emitted_metrics]
            times = [_emf_time(m, now) for m in self.handler.emitted_metrics]
            sent += publish_values(
                cloudwatch, "SmartFactory", name, service, times, values
            )
        age = self.iterator_age()
        sent += publish_values(
            cloudwatch,
            "AWS/Kinesis",
            "GetRecords.IteratorAgeMilliseconds",
            {"StreamName": dimension_value("StreamName", settings)},
            age["time_s"],
            age["age_ms"],
            "Milliseconds",
        )
        depth = self.sqs.get_queue_attributes(
            QueueUrl=self._started().queue_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]["ApproximateNumberOfMessages"]
        sent += publish_values(
            cloudwatch,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": dimension_value("QueueName", settings)},
            [now],
            [float(depth)],
        )
        function = {"FunctionName": dimension_value("FunctionName", settings)}
        errors = sum(1 for i in self.poller.invocations if i.failed == i.records)
        for name, value in (("Errors", errors), ("Throttles", 0)):
            sent += publish_values(
                cloudwatch, "AWS/Lambda", name, function, [now], [float(value)]
            )
        return sent

    def stored(self) -> pd.DataFrame:
        """Return every curated reading (reads all Parquet objects back)."""
        bucket = self._started().curated_bucket
        return read_curated(client("s3", self.settings), bucket)

    def alert_table(self) -> pd.DataFrame:
        """Return the alerts table (DynamoDB) as it stands."""
        return read_alerts(self.dynamodb, self._started().alerts_table)


def _emf_value(metric_set: dict[str, Any], name: str) -> float:
    """Return the sum of one metric of an embedded-metric-format record."""
    value = metric_set.get(name, 0.0)
    return float(sum(value)) if isinstance(value, list) else float(value)


def _emf_time(metric_set: dict[str, Any], default: float) -> float:
    """Return the timestamp of an embedded-metric-format record, in seconds."""
    stamp = metric_set.get("_aws", {}).get("Timestamp")
    return float(stamp) / 1000.0 if stamp else default
