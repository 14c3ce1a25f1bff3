"""The ingest handler: a Kinesis batch in; curated readings, quarantine and alerts out.

This module is the AWS Lambda function of the pipeline, deployable unchanged
with ``smartfactory_lib.cloud.handler.lambda_handler`` as its entry point. It
takes the standard Kinesis event, walks it with aws-lambda-powertools'
``BatchProcessor`` (partial batch failures reported as
``batchItemFailures``), logs with the powertools ``Logger`` and emits
CloudWatch metrics in the embedded metric format with ``Metrics``. It imports
nothing that needs a broker or a web server.

For each batch it keeps the records as received (raw zone), validates them
(:mod:`.validation`), drops duplicates, scores the rest with a pluggable
:class:`~.scoring.Scorer`, and writes: curated Parquet, quarantine with a
reason per record plus the dead-letter queue, the duplicates log, the ledger,
the latest state per machine and alerts.

Idempotency. A reading is identified by ``(machine_id, seq)``. The ledger
table names, for each accepted reading, the Kinesis record that won it. A
record whose reading is already in the ledger is either that same record
delivered again (a retry or a replay: skipped) or another copy (a duplicate:
logged). Records that are quarantined or logged as duplicates are entered in
the same ledger under their own Kinesis identity (hash key
``~record/<shard>/<sequence number>``, range key -1, which no reading can
have: validation rejects a negative ``seq``), so a replay whose batch
boundaries differ from the first delivery quarantines nothing twice. Output
objects are named after the records they hold, so a batch delivered again
rewrites the same objects instead of adding copies, and the ledger is written
only after the objects. The ledger is read and written in batches, not with
one conditional put per reading: every reading of a machine travels on the
same shard, and Lambda processes one batch of a shard at a time (with the
default parallelization factor of 1), so no two invocations race for the same
reading. Lambda resumes a failed batch at its lowest failed record; the
handler therefore processes only the records before the first failure and
reports every later one as failed, so no record's outputs are written twice in
different objects.

Known limit: if the function dies after some but not all ledger writes of a
batch, and the retried batch differs from the first delivery, a few readings
can appear in two curated objects. Exactly-once files need a transactional
table format (Apache Iceberg, for example), which this pipeline does not use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from ..core.aws import client
from ..core.config import PipelineLimits, Settings
from .resources import Resources
from .scoring import Scorer, load_scorer
from .sli import emf_documents, load_thresholds
from .storage import (
    ledger_commit,
    ledger_lookup,
    publish_alerts,
    send_dead_letters,
    update_machine_state,
    write_curated,
    write_jsonl,
)
from .validation import ValidationResult, validate_batch

__all__ = [
    "SERVICE",
    "BatchOutcome",
    "IngestHandler",
    "Transformed",
    "keys_of",
    "lambda_handler",
    "score",
    "transform",
]

logger = logging.getLogger(__name__)

SERVICE: Final = "smartfactory-ingest"
"""Service name in logs and metrics."""

_IN_LAMBDA: Final = "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@dataclass(frozen=True)
class Transformed:
    """The pure part of the handler's work on one batch.

    Attributes
    ----------
    validation : ValidationResult
        Accepted readings and rejections.
    curated : pandas.DataFrame
        Accepted readings with ``anomaly_score`` and ``is_anomaly``.
    """

    validation: ValidationResult
    curated: pd.DataFrame


def transform(
    payloads: Sequence[bytes],
    arrival_s: float | np.ndarray,
    scorer: Scorer,
    limits: PipelineLimits | None = None,
) -> Transformed:
    """Decode, validate and score a batch of payloads (no I/O).

    Parameters
    ----------
    payloads : sequence of bytes
        Records as received.
    arrival_s : float or numpy.ndarray
        Arrival time(s) in seconds since the epoch.
    scorer : Scorer
        The anomaly scorer.
    limits : PipelineLimits or None, default None
        Skew limits; the defaults when None.

    Returns
    -------
    Transformed
        Validation result and the scored readings.
    """
    result = validate_batch(payloads, arrival_s, limits)
    return Transformed(result, score(result.readings, scorer))


def score(readings: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """Return ``readings`` with ``anomaly_score`` and ``is_anomaly`` added."""
    scores = (
        np.asarray(scorer.score(readings), dtype=np.float64)
        if len(readings)
        else np.empty(0)
    )
    return readings.assign(anomaly_score=scores, is_anomaly=scores >= scorer.threshold)


@dataclass
class BatchOutcome:
    """What one invocation did with its records.

    Attributes
    ----------
    received : int
        Records in the event.
    processed : int
        Records before the first failed one, handled in this invocation.
    stored, duplicates, redelivered, alerts : int
        Readings written to the curated zone, copies of a reading already
        accepted, records already handled by an earlier delivery, alerts
        raised.
    quarantined : dict
        Quarantined records per reason.
    failed : int
        Records reported back as failed (delivered again later).
    sli : dict
        Values measured for the SLOs of :data:`.sli.HANDLER_SLIS`, in
        seconds: per stored reading, its device timestamp to its curated
        write; when the batch raised alerts, the scoring call's duration and,
        per alert, the end of scoring to SNS accepting the batch's last
        notification (an upper bound for the earlier ones).
    """

    received: int = 0
    processed: int = 0
    stored: int = 0
    duplicates: int = 0
    redelivered: int = 0
    alerts: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    sli: dict[str, list[float]] = field(default_factory=dict)


def _digest(sequence_numbers: Sequence[str]) -> str:
    return hashlib.sha1(
        ",".join(sequence_numbers).encode(), usedforsecurity=False
    ).hexdigest()[:16]


_RECORD_KEY: Final = "~record/"
"""Ledger hash-key prefix of records entered by their Kinesis identity."""


def _record_key(shard: str, sequence_number: str) -> tuple[str, int]:
    return (f"{_RECORD_KEY}{shard}/{sequence_number}", -1)  # no reading has seq -1


def _stamp_path(arrival_s: float) -> str:
    moment = datetime.fromtimestamp(arrival_s, UTC)
    return f"date={moment:%Y-%m-%d}/hour={moment:%H}"


class IngestHandler:
    """The ingest function; an instance is callable as ``handler(event, context)``.

    Parameters
    ----------
    settings : Settings or None, default None
        Backend and names; from the environment when None.
    scorer : Scorer or None, default None
        Anomaly scorer; built from ``SMARTFACTORY_SCORER`` (default
        ``threshold``) when None.
    record_hook : callable or None, default None
        Called with each powertools ``KinesisStreamRecord`` before the batch
        is processed; an exception fails that record. A seam for tests that
        need transient failures.

    Attributes
    ----------
    outcomes : list of BatchOutcome
        One per invocation.
    emitted_metrics : list of dict
        EMF metric sets of each invocation when running outside Lambda
        (inside Lambda they are printed for CloudWatch instead).
    emitted_sli : list of dict
        EMF documents of the SLI events (:mod:`.sli`), likewise.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        scorer: Scorer | None = None,
        record_hook: Callable[[Any], None] | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.scorer = scorer or load_scorer(
            os.environ.get("SMARTFACTORY_SCORER", "threshold")
        )
        self.record_hook = record_hook
        self.processor = BatchProcessor(
            event_type=EventType.KinesisDataStreams,
            raise_on_entire_batch_failure=False,
        )
        self.log = Logger(
            service=SERVICE,
            logger_handler=None if _IN_LAMBDA else logging.NullHandler(),
        )
        self.metrics = Metrics(namespace="SmartFactory", service=SERVICE)
        self.outcomes: list[BatchOutcome] = []
        self.emitted_metrics: list[dict[str, Any]] = []
        self.emitted_sli: list[dict[str, Any]] = []
        self.slo_thresholds = load_thresholds()
        self._resources: Resources | None = None
        self._clients: dict[str, Any] = {}

    @property
    def resources(self) -> Resources:
        """The pipeline's resources, looked up once."""
        if self._resources is None:
            self._resources = Resources.lookup(self.settings)
        return self._resources

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(service, self.settings)
        return self._clients[service]

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Handle one Kinesis event; return the partial batch response."""
        records = event.get("Records", [])
        hook = self.record_hook

        def record_handler(record: Any) -> None:
            if hook is not None:
                hook(record)

        with self.processor(records=records, handler=record_handler):
            self.processor.process()
        failed = {
            item["itemIdentifier"]
            for item in self.processor.response()["batchItemFailures"]
        }
        cut = next(
            (
                i
                for i, r in enumerate(records)
                if r["kinesis"]["sequenceNumber"] in failed
            ),
            len(records),
        )
        outcome = BatchOutcome(received=len(records), processed=cut)
        try:
            if cut:
                self._process(records[:cut], outcome)
        except Exception:
            self.log.exception("Batch processing failed; reporting the whole batch")
            logger.exception("Batch of %d records failed; reporting all", len(records))
            cut = 0
            outcome = BatchOutcome(received=len(records), processed=0)
        failures = [r["kinesis"]["sequenceNumber"] for r in records[cut:]]
        outcome.failed = len(failures)
        self.outcomes.append(outcome)
        self._emit(outcome)
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failures]}

    def _emit(self, outcome: BatchOutcome) -> None:
        self.log.info(
            "Batch handled",
            received=outcome.received,
            stored=outcome.stored,
            quarantined=outcome.quarantined,
            duplicates=outcome.duplicates,
            redelivered=outcome.redelivered,
            failed=outcome.failed,
        )
        logger.debug(
            "Batch of %d: stored %d, quarantined %d, duplicates %d, failed %d",
            outcome.received,
            outcome.stored,
            sum(outcome.quarantined.values()),
            outcome.duplicates,
            outcome.failed,
        )
        count = MetricUnit.Count
        self.metrics.add_metric(name="RecordsStored", unit=count, value=outcome.stored)
        self.metrics.add_metric(
            name="RecordsQuarantined",
            unit=count,
            value=sum(outcome.quarantined.values()),
        )
        self.metrics.add_metric(name="Duplicates", unit=count, value=outcome.duplicates)
        self.metrics.add_metric(
            name="Redelivered", unit=count, value=outcome.redelivered
        )
        self.metrics.add_metric(name="RecordsFailed", unit=count, value=outcome.failed)
        self.metrics.add_metric(name="Alerts", unit=count, value=outcome.alerts)
        if _IN_LAMBDA:
            self.metrics.flush_metrics()
        else:
            self.emitted_metrics.append(dict(self.metrics.serialize_metric_set()))
            self.metrics.clear_metrics()
        stamp = int(time.time() * 1000)
        for slo, values in outcome.sli.items():
            if slo not in self.slo_thresholds or not values:
                continue
            for document in emf_documents(
                slo, values, self.slo_thresholds[slo], stamp, self.metrics.namespace
            ):
                if _IN_LAMBDA:
                    # Embedded metric format: CloudWatch reads metrics from the
                    # function's standard output, one JSON document a line.
                    sys.stdout.write(json.dumps(document) + "\n")
                else:
                    self.emitted_sli.append(document)

    def _process(
        self, records: Sequence[dict[str, Any]], outcome: BatchOutcome
    ) -> None:
        res = self.resources
        limits = self.settings.limits
        s3 = self._client("s3")
        dynamodb = self._client("dynamodb")
        kinesis = [r["kinesis"] for r in records]
        sequence = [k["sequenceNumber"] for k in kinesis]
        arrivals = np.array([k["approximateArrivalTimestamp"] for k in kinesis])
        payloads = [base64.b64decode(k["data"]) for k in kinesis]
        shard = records[0].get("eventID", "shard:").split(":")[0] or "shard"
        stamp = _stamp_path(float(arrivals[0]))

        # Raw zone: everything as received, before any judgement.
        write_jsonl(
            s3,
            res.raw_bucket,
            f"{limits.raw_prefix}{stamp}/{shard}-{sequence[0]}-{sequence[-1]}.jsonl.gz",
            (
                {
                    "sequence_number": k["sequenceNumber"],
                    "partition_key": k["partitionKey"],
                    "arrival": k["approximateArrivalTimestamp"],
                    "data": k["data"],
                }
                for k in kinesis
            ),
            res.kms_key_arn,
        )

        # Validate, then separate new readings from duplicates and redeliveries.
        result = validate_batch(payloads, arrivals, limits)
        readings = result.readings
        keys = list(
            zip(
                readings["machine_id"].astype(str),
                readings["seq"].tolist(),
                strict=False,
            )
        )
        record_keys = [_record_key(shard, s) for s in sequence]
        winners = ledger_lookup(dynamodb, res.ledger_table, keys + record_keys)
        new = np.zeros(len(readings), bool)
        duplicates: list[dict[str, Any]] = []
        claimed: dict[tuple[str, int], str] = {}
        for row, (key, position) in enumerate(
            zip(keys, result.positions, strict=False)
        ):
            own = sequence[position]
            winner = winners.get(key) or claimed.get(key)
            if winner is None:
                claimed[key] = own
                new[row] = True
            elif winner == own or record_keys[position] in winners:
                outcome.redelivered += 1
            else:
                duplicates.append(
                    {
                        "shard": shard,
                        "machine_id": key[0],
                        "seq": key[1],
                        "sequence_number": own,
                        "winner": winner,
                    }
                )

        # Curated zone first, ledger after: a crash in between repeats the write.
        scoring = time.time()
        curated = score(readings.loc[new].reset_index(drop=True), self.scorer)
        scored = time.time()
        new_sequence = [sequence[p] for p in result.positions[new]]
        if len(curated):
            write_curated(
                s3,
                res.curated_bucket,
                curated,
                _digest(new_sequence),
                file_rows=limits.file_rows,
                kms_key=res.kms_key_arn,
            )
            device_s = curated["ts"].to_numpy(dtype="datetime64[ms]").astype(np.int64)
            outcome.sli["ingestion_latency"] = (time.time() - device_s / 1000).tolist()

        # A quarantined record already entered in the ledger is a redelivery.
        rejections = [
            r for r in result.rejections if record_keys[r.position] not in winners
        ]
        outcome.redelivered += len(result.rejections) - len(rejections)
        quarantine = [
            {
                "shard": shard,
                "sequence_number": sequence[r.position],
                "partition_key": kinesis[r.position]["partitionKey"],
                "arrival": kinesis[r.position]["approximateArrivalTimestamp"],
                "reason": r.reason,
                "message": r.message,
                "data": kinesis[r.position]["data"],
            }
            for r in rejections
        ]
        if quarantine:
            name = _digest([q["sequence_number"] for q in quarantine])
            write_jsonl(
                s3,
                res.raw_bucket,
                f"{limits.quarantine_prefix}{stamp}/{shard}-{name}.jsonl.gz",
                quarantine,
                res.kms_key_arn,
            )
            send_dead_letters(self._client("sqs"), res.queue_url, quarantine)
        if duplicates:
            name = _digest([d["sequence_number"] for d in duplicates])
            write_jsonl(
                s3,
                res.raw_bucket,
                f"{limits.duplicates_prefix}{stamp}/{shard}-{name}.jsonl.gz",
                duplicates,
                res.kms_key_arn,
            )

        handled = [q["sequence_number"] for q in quarantine] + [
            d["sequence_number"] for d in duplicates
        ]
        ledger_commit(
            dynamodb,
            res.ledger_table,
            dict(zip(keys_of(curated), new_sequence, strict=False))
            | {_record_key(shard, s): s for s in handled},
        )
        update_machine_state(dynamodb, res.state_table, curated)
        outcome.alerts = publish_alerts(
            dynamodb,
            self._client("sns"),
            res.alerts_table,
            res.topic_arn,
            curated.loc[curated["is_anomaly"]],
            scorer=self.scorer.name,
            ttl_s=limits.alert_ttl_s,
        )
        if outcome.alerts:
            outcome.sli["inference_time"] = [scored - scoring]
            outcome.sli["alert_delivery"] = [time.time() - scored] * outcome.alerts
        outcome.stored = len(curated)
        outcome.duplicates = len(duplicates)
        outcome.quarantined = dict(
            sorted(Counter(r.reason for r in rejections).items())
        )


def keys_of(readings: pd.DataFrame) -> list[tuple[str, int]]:
    """Return the ``(machine_id, seq)`` identity of each reading, in row order."""
    return list(
        zip(readings["machine_id"].astype(str), readings["seq"].tolist(), strict=False)
    )


_DEFAULT: IngestHandler | None = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: configuration from the environment.

    Parameters
    ----------
    event : dict
        A Kinesis event.
    context : LambdaContext
        The Lambda context.

    Returns
    -------
    dict
        ``{"batchItemFailures": [...]}`` for ``ReportBatchItemFailures``.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = IngestHandler()
    return _DEFAULT(event, context)
