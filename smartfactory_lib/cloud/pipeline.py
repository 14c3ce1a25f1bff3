"""The whole pipeline, end to end, with every record accounted for.

:func:`run_pipeline` simulates a factory, injects faults, publishes each
reading through its machine's device to the MQTT broker, lets the IoT rule
stand-in forward the messages into Kinesis, drains the stream through the
ingest handler (via the event source mapping stand-in) and finally counts
what landed in storage. The counts come from storage itself, not from the
handler's own tallies, so retries and replays cannot inflate them:

``published == stored + sum(quarantined.values()) + duplicates`` and
``lost == 0``.

It must run inside :func:`~smartfactory_lib.core.aws.aws_backend`, so that
with moto the stored data outlives the call and can be queried afterwards.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, Literal

import pandas as pd

from ..core.aws import client
from ..core.config import Settings
from ..core.schema import frame_to_payloads
from ..faults import FaultConfig, inject
from ..simulation import FactoryConfig, FactorySimulator
from .cost import CostMeter
from .handler import IngestHandler
from .resources import Resources, ensure_resources
from .rule import RuleForwarder, TopicRule
from .scoring import Scorer
from .storage import read_curated, read_jsonl
from .stream import Invocation, KinesisPoller

__all__ = ["TRANSPORTS", "PipelineRun", "Reconciliation", "reconcile", "run_pipeline"]

logger = logging.getLogger(__name__)

Transport = Literal["mqtt", "direct"]
TRANSPORTS: Final[tuple[Transport, ...]] = ("mqtt", "direct")
"""``mqtt`` goes through the broker; ``direct`` hands payloads to the rule."""


@dataclass
class Reconciliation:
    """Where every published reading ended up.

    Attributes
    ----------
    published : int
        Readings the devices published (duplicates included).
    forwarded : int
        Records the IoT rule put into Kinesis.
    stored : int
        Rows in the curated zone.
    quarantined : dict
        Quarantined records per reason.
    duplicates : int
        Copies of readings already stored.
    lost : int
        ``published - stored - sum(quarantined) - duplicates``; must be 0.
    repeated : int
        Rows held twice: curated readings sharing a ``(machine_id, seq)``, or
        quarantine and duplicate rows sharing a Kinesis record (shard and
        sequence number). Must be 0; it is counted apart because a repeat
        could otherwise hide a loss in the sum.
    """

    published: int
    forwarded: int
    stored: int
    quarantined: dict[str, int]
    duplicates: int
    lost: int
    repeated: int = 0

    @property
    def balanced(self) -> bool:
        """Whether the counts reconcile exactly, nothing is lost or held twice."""
        total = self.stored + sum(self.quarantined.values()) + self.duplicates
        return self.published == total and self.lost == 0 and self.repeated == 0

    def as_dict(self) -> dict[str, Any]:
        """The counts as a plain dict, with ``balanced``."""
        return {**asdict(self), "balanced": self.balanced}


@dataclass
class PipelineRun:
    """The outcome of :func:`run_pipeline`.

    Attributes
    ----------
    reconciliation : Reconciliation
        The counts.
    machines, hours, fault_rate, transport
        What was run.
    faults : dict
        Injected faults per type.
    seconds : dict
        Wall-clock seconds per stage.
    invocations : list of Invocation
        Every handler call, for cost.
    resources : Resources
        Where the data is.
    handler : IngestHandler
        The handler, with its per-batch outcomes and metrics.
    """

    reconciliation: Reconciliation
    machines: int
    hours: float
    fault_rate: float
    transport: str
    faults: dict[str, int]
    seconds: dict[str, float]
    invocations: list[Invocation]
    resources: Resources
    handler: IngestHandler
    alerts: int = 0
    redelivered: int = 0

    @property
    def readings_per_s(self) -> float:
        """Published readings per wall-clock second, simulator to storage."""
        total = sum(self.seconds.values())
        return self.reconciliation.published / total if total else 0.0

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: reconciliation, stage times and throughput."""
        return {
            **self.reconciliation.as_dict(),
            "machines": self.machines,
            "hours": self.hours,
            "fault_rate": self.fault_rate,
            "transport": self.transport,
            "faults": self.faults,
            "alerts": self.alerts,
            "redelivered": self.redelivered,
            "invocations": len(self.invocations),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "readings_per_s": round(self.readings_per_s, 1),
        }


def reconcile(
    settings: Settings, resources: Resources, published: int, forwarded: int
) -> Reconciliation:
    """Count what is in storage and reconcile it with what was published.

    Parameters
    ----------
    settings : Settings
        Backend and prefixes.
    resources : Resources
        Buckets to count in.
    published, forwarded : int
        Readings published by the devices and records put by the rule.

    Returns
    -------
    Reconciliation
        The counts.
    """
    s3 = client("s3", settings)
    limits = settings.limits
    curated = read_curated(s3, resources.curated_bucket)
    quarantine = read_jsonl(s3, resources.raw_bucket, limits.quarantine_prefix)
    duplicates = read_jsonl(s3, resources.raw_bucket, limits.duplicates_prefix)
    reasons: dict[str, int] = {}
    for row in quarantine:
        reasons[row["reason"]] = reasons.get(row["reason"], 0) + 1
    stored = len(curated)
    lost = published - stored - len(quarantine) - len(duplicates)
    repeated = int(curated.duplicated(["machine_id", "seq"]).sum()) if stored else 0
    # Kinesis numbers records per shard, so a record is its shard and number.
    records = [
        (r.get("shard"), r["sequence_number"]) for r in (*quarantine, *duplicates)
    ]
    repeated += len(records) - len(set(records))
    return Reconciliation(
        published=published,
        forwarded=forwarded,
        stored=stored,
        quarantined=dict(sorted(reasons.items())),
        duplicates=len(duplicates),
        lost=lost,
        repeated=repeated,
    )


def _publish_mqtt(
    frame: pd.DataFrame,
    payloads: Sequence[bytes],
    rule: RuleForwarder,
    settings: Settings,
    timeout: float,
) -> int:
    """Publish through mosquitto with one device per machine; return published."""
    from ..transport import (
        Broker,
        Device,
        DeviceCredentials,
        Subscriber,
        load_device_credentials,
        provision_devices,
        publish_fleet,
    )

    places = frame.drop_duplicates("machine_id")[["machine_id", "site", "line"]]
    with Broker() as broker:
        provision_devices(broker, [str(m) for m in places["machine_id"]], settings)
        reader = DeviceCredentials("iot-rule", broker.add_service_user("iot-rule"))
        subscriber = Subscriber(
            broker.endpoint,
            reader,
            topic=rule.rule.topic_filter,
            # validate=False would skip decoding, but its seq counter does not
            # cope with malformed readings whose seq is a string.
            validate=True,
            keep_readings=False,
            on_message=rule.on_message,
        ).start()
        devices: dict[str, Device] = {}
        try:
            for machine_id, site, line in places.itertuples(index=False):
                devices[str(machine_id)] = Device(
                    str(machine_id),
                    str(site),
                    str(line),
                    broker.endpoint,
                    load_device_credentials(str(machine_id), settings),
                ).connect()
            publish_fleet(frame, devices, payloads=payloads)
            for device in devices.values():
                device.flush(timeout)
            published = sum(d.stats.readings for d in devices.values())
            deadline = time.monotonic() + timeout
            while rule.matched < published and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            for device in devices.values():
                device.close()
            subscriber.stop()
    return published


def run_pipeline(
    n_machines: int,
    hours: float,
    *,
    fault_rate: float = 0.0,
    seed: int = 7,
    settings: Settings | None = None,
    transport: Transport = "mqtt",
    scorer: Scorer | None = None,
    end: datetime | None = None,
    timeout: float = 120.0,
    meter: CostMeter | None = None,
) -> PipelineRun:
    """Run simulator, faults, broker, rule, Kinesis, handler and storage; reconcile.

    Parameters
    ----------
    n_machines : int
        Machines in the factory.
    hours : float
        Simulated hours; the readings end at ``end``.
    fault_rate : float, default 0.0
        Fraction of readings that receive a fault, in [0, 1].
    seed : int, default 7
        Seed of the simulator and of the faults.
    settings : Settings or None, default None
        Backend and names; the backend must be open (:func:`aws_backend`).
    transport : {"mqtt", "direct"}, default "mqtt"
        ``mqtt`` publishes through a mosquitto broker started on loopback;
        ``direct`` hands the payloads straight to the rule (no broker).
    scorer : Scorer or None, default None
        The handler's anomaly scorer; its default when None.
    end : datetime or None, default None
        Time of the last reading; the current hour when None, so that the
        readings are recent at arrival and pass the skew check.
    timeout : float, default 120.0
        Seconds to wait for the broker to deliver everything.
    meter : CostMeter or None, default None
        Records the billable requests of publishing and ingestion (not of
        creating resources or of counting the results).

    Returns
    -------
    PipelineRun
        The reconciliation and what it took.

    Raises
    ------
    ValueError
        If ``fault_rate`` or ``transport`` is invalid.
    """
    if not 0.0 <= fault_rate <= 1.0:
        raise ValueError(f"fault_rate must be between 0 and 1, got {fault_rate}")
    if transport not in TRANSPORTS:
        raise ValueError(
            f"transport must be one of {', '.join(TRANSPORTS)}, got {transport!r}"
        )
    settings = settings or Settings()
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    stop = pd.Timestamp(end if end is not None else pd.Timestamp.now(tz="UTC"))
    start = (stop - pd.Timedelta(hours=hours)).floor("s")
    config = FactoryConfig(
        n_machines=n_machines, seed=seed, start=start.to_pydatetime()
    )
    readings = FactorySimulator(config, hours).run().readings
    seconds["simulate"] = time.perf_counter() - started

    started = time.perf_counter()
    faults: dict[str, int] = {}
    if fault_rate > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            batch = inject(readings, FaultConfig.uniform(fault_rate, seed=seed))
        frame, payloads = batch.readings, batch.payloads()
        faults = {k: v for k, v in batch.counts().items() if v}
    else:
        frame, payloads = readings, frame_to_payloads(readings)
    seconds["faults"] = time.perf_counter() - started

    started = time.perf_counter()
    resources = ensure_resources(settings)
    kinesis = client("kinesis", settings)
    rule = RuleForwarder(kinesis, resources.stream, TopicRule(settings.limits.rule_sql))
    seconds["resources"] = time.perf_counter() - started

    recording = meter.recording(kinesis) if meter is not None else nullcontext()
    started = time.perf_counter()
    with recording:
        published, poller, handler = _publish_and_ingest(
            frame,
            payloads,
            rule,
            settings,
            resources,
            transport,
            scorer,
            timeout,
            seconds,
        )
    if meter is not None:
        meter.add_lambda((i.seconds for i in poller.invocations), poller.memory_mb)
        meter.add_iot(published, rule.forwarded)
    logger.debug("Publish and ingest took %.2f s", time.perf_counter() - started)

    started = time.perf_counter()
    counts = reconcile(settings, resources, published, rule.forwarded)
    seconds["reconcile"] = time.perf_counter() - started
    run = PipelineRun(
        reconciliation=counts,
        machines=n_machines,
        hours=float(hours),
        fault_rate=float(fault_rate),
        transport=transport,
        faults=faults,
        seconds=seconds,
        invocations=poller.invocations,
        resources=resources,
        handler=handler,
        alerts=sum(o.alerts for o in handler.outcomes),
        redelivered=sum(o.redelivered for o in handler.outcomes),
    )
    logger.info(
        "Pipeline: published %d, stored %d, quarantined %d, duplicates %d, lost %d",
        counts.published,
        counts.stored,
        sum(counts.quarantined.values()),
        counts.duplicates,
        counts.lost,
    )
    return run


def _publish_and_ingest(
    frame: pd.DataFrame,
    payloads: Sequence[bytes],
    rule: RuleForwarder,
    settings: Settings,
    resources: Resources,
    transport: Transport,
    scorer: Scorer | None,
    timeout: float,
    seconds: dict[str, float],
) -> tuple[int, KinesisPoller, IngestHandler]:
    """Publish (through the broker or directly), forward, then drain the stream."""
    started = time.perf_counter()
    if transport == "mqtt":
        published = _publish_mqtt(frame, payloads, rule, settings, timeout)
    else:
        from ..transport.device import telemetry_topic

        topics = [
            telemetry_topic(str(s), str(ln), str(m))
            for s, ln, m in zip(
                frame["site"], frame["line"], frame["machine_id"], strict=False
            )
        ]
        rule.forward(topics, payloads)
        published = len(payloads)
    rule.flush()
    seconds["publish_and_forward"] = time.perf_counter() - started

    started = time.perf_counter()
    handler = IngestHandler(settings, scorer=scorer)
    poller = KinesisPoller(
        rule.kinesis,
        resources.stream,
        handler,
        batch_size=settings.limits.batch_size,
        memory_mb=settings.limits.lambda_memory_mb,
    )
    poller.drain()
    seconds["ingest"] = time.perf_counter() - started
    return published, poller, handler
