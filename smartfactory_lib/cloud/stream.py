"""Kinesis: the stream between the IoT rule and the ingest handler.

:func:`put_payloads` writes records with ``PutRecords`` in batches of at most
500 records and 5 MiB, partitioned by machine, so that one machine's readings
stay in order on one shard; records that Kinesis refuses (throttling) are
retried until accepted.

:class:`KinesisPoller` is a local stand-in for Lambda's Kinesis event source
mapping, which moto does not run (and moto's Lambda needs Docker). It reads
each shard in order, builds the standard Kinesis event (base64 data, sequence
numbers, arrival times), calls the handler in-process and honours the
handler's partial batch response the way Lambda does: it checkpoints before
the lowest failed sequence number and delivers the batch again from there.
It does not emulate parallelization factors, batching windows, bisection or
on-failure destinations; after ``max_attempts`` it stops with an error rather
than skip a record.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..core.config import Settings

__all__ = [
    "Invocation",
    "KinesisPoller",
    "LocalContext",
    "PutResult",
    "create_stream",
    "kinesis_event",
    "put_payloads",
]

logger = logging.getLogger(__name__)

_MAX_RECORDS: Final = 500
_MAX_BYTES: Final = 5 * 1024 * 1024

Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


def create_stream(kinesis: Any, name: str, settings: Settings) -> str:
    """Create the stream (if missing), wait until active, encrypt it with KMS.

    Returns
    -------
    str
        The stream ARN.
    """
    with contextlib.suppress(kinesis.exceptions.ResourceInUseException):
        kinesis.create_stream(StreamName=name, ShardCount=settings.limits.shard_count)
    kinesis.get_waiter("stream_exists").wait(
        StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    description = kinesis.describe_stream_summary(StreamName=name)
    summary = description["StreamDescriptionSummary"]
    if summary.get("EncryptionType", "NONE") == "NONE":
        kinesis.start_stream_encryption(
            StreamName=name,
            EncryptionType="KMS",
            KeyId=f"alias/{settings.resource('kms_alias')}",
        )
    return str(summary["StreamARN"])


@dataclass
class PutResult:
    """What one :func:`put_payloads` call did.

    Attributes
    ----------
    records : int
        Records accepted by Kinesis.
    requests : int
        ``PutRecords`` calls made, retries included.
    retried : int
        Records that had to be sent again.
    """

    records: int = 0
    requests: int = 0
    retried: int = 0


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry["Data"]) + len(entry["PartitionKey"])
        if current and (len(current) == _MAX_RECORDS or size + entry_size > _MAX_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        batches.append(current)
    return batches


def put_payloads(
    kinesis: Any,
    stream: str,
    payloads: Sequence[bytes],
    partition_keys: Sequence[str],
    *,
    max_attempts: int = 8,
) -> PutResult:
    """Put records in batches, retrying the ones Kinesis refuses.

    Parameters
    ----------
    kinesis : botocore client
        A Kinesis client.
    stream : str
        Stream name.
    payloads : sequence of bytes
        Record data, in order.
    partition_keys : sequence of str
        One partition key per record (the machine id).
    max_attempts : int, default 8
        Attempts per batch before giving up.

    Returns
    -------
    PutResult
        Records put and requests made.

    Raises
    ------
    ValueError
        If ``payloads`` and ``partition_keys`` differ in length.
    RuntimeError
        If records are still refused after ``max_attempts``.
    """
    if len(payloads) != len(partition_keys):
        raise ValueError(
            f"need one partition key per payload, got {len(partition_keys)} keys "
            f"for {len(payloads)} payloads"
        )
    result = PutResult()
    entries = [
        {"Data": bytes(data), "PartitionKey": key}
        for data, key in zip(payloads, partition_keys, strict=False)
    ]
    for batch in _batches(entries):
        pending = batch
        for attempt in range(max_attempts):
            response = kinesis.put_records(StreamName=stream, Records=pending)
            result.requests += 1
            if not response.get("FailedRecordCount"):
                break
            pending = [
                entry
                for entry, outcome in zip(pending, response["Records"], strict=False)
                if "ErrorCode" in outcome
            ]
            result.retried += len(pending)
            logger.info("Kinesis refused %d records; retrying", len(pending))
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError(
                f"Kinesis refused {len(pending)} records after {max_attempts} attempts"
            )
        result.records += len(batch)
    return result


def kinesis_event(
    records: Sequence[dict[str, Any]], shard_id: str, stream_arn: str, region: str
) -> dict[str, Any]:
    """Build the event Lambda passes for a batch of ``GetRecords`` records.

    Parameters
    ----------
    records : sequence of dict
        Records as ``GetRecords`` returns them.
    shard_id, stream_arn, region : str
        Where they came from.

    Returns
    -------
    dict
        ``{"Records": [...]}`` in the documented Lambda Kinesis event format.
    """
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode(),
                    "approximateArrivalTimestamp": record[
                        "ApproximateArrivalTimestamp"
                    ].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/ingest",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers commonly read."""

    function_name: str = "ingest"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "local"
    invoked_function_arn: str = "arn:aws:lambda:local:123456789012:function:ingest"
    deadline_s: float = field(default_factory=lambda: time.time() + 900.0)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (local) timeout."""
        return max(0, int((self.deadline_s - time.time()) * 1000))


@dataclass(frozen=True)
class Invocation:
    """One call of the handler by the poller.

    Attributes
    ----------
    shard_id : str
        Shard the batch came from.
    records : int
        Records in the batch.
    failed : int
        Records the handler reported as failed.
    seconds : float
        Wall-clock duration of the call.
    """

    shard_id: str
    records: int
    failed: int
    seconds: float


class KinesisPoller:
    """Local stand-in for Lambda's Kinesis event source mapping.

    Parameters
    ----------
    kinesis : botocore client
        A Kinesis client.
    stream : str
        Stream name.
    handler : callable
        ``handler(event, context)`` returning a partial batch response
        (``{"batchItemFailures": [{"itemIdentifier": seq}, ...]}``) or None.
    batch_size : int, default 500
        Most records per invocation.
    max_attempts : int, default 5
        Deliveries of the same record before the poller gives up.
    memory_mb : int, default 512
        Memory reported in the context (and used for cost).

    Attributes
    ----------
    invocations : list of Invocation
        Every call made, for metrics and cost.
    """

    def __init__(
        self,
        kinesis: Any,
        stream: str,
        handler: Handler,
        *,
        batch_size: int = 500,
        max_attempts: int = 5,
        memory_mb: int = 512,
    ) -> None:
        if not 1 <= batch_size <= 10_000:
            raise ValueError(
                f"batch_size must be between 1 and 10000, got {batch_size}"
            )
        self.kinesis = kinesis
        self.stream = stream
        self.handler = handler
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.memory_mb = memory_mb
        self.invocations: list[Invocation] = []
        description = kinesis.describe_stream(StreamName=stream)["StreamDescription"]
        self.stream_arn: str = description["StreamARN"]
        self.region = self.stream_arn.split(":")[3]
        self.shards = [shard["ShardId"] for shard in description["Shards"]]
        self._iterators: dict[str, str | None] = {
            shard: self._iterator(shard, None) for shard in self.shards
        }
        self._attempts: dict[str, int] = {}
        self._retrying: set[str] = set()
        self._behind: dict[str, bool] = {}

    def _iterator(self, shard: str, at_sequence: str | None) -> str:
        if at_sequence is None:
            response = self.kinesis.get_shard_iterator(
                StreamName=self.stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )
        else:
            response = self.kinesis.get_shard_iterator(
                StreamName=self.stream,
                ShardId=shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                StartingSequenceNumber=at_sequence,
            )
        return str(response["ShardIterator"])

    def poll_shard(self, shard: str) -> int:
        """Deliver the next batch of one shard; return the records checkpointed.

        Raises
        ------
        RuntimeError
            If a record has failed ``max_attempts`` deliveries.
        """
        iterator = self._iterators[shard]
        if iterator is None:
            return 0
        response = self.kinesis.get_records(
            ShardIterator=iterator, Limit=self.batch_size
        )
        records = response["Records"]
        # An empty page is not the end: Kinesis may return one while records
        # remain further on. The shard is caught up when it says it is behind
        # by nothing (or is closed and has no next iterator).
        self._behind[shard] = bool(response.get("MillisBehindLatest", 0)) and bool(
            response.get("NextShardIterator")
        )
        if not records:
            self._iterators[shard] = response.get("NextShardIterator")
            return 0
        event = kinesis_event(records, shard, self.stream_arn, self.region)
        started = time.perf_counter()
        try:
            result = self.handler(
                event, LocalContext(memory_limit_in_mb=self.memory_mb)
            )
            failures = [
                f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])
            ]
        except Exception:
            logger.exception("Handler raised; the whole batch is delivered again")
            failures = [records[0]["SequenceNumber"]]
        seconds = time.perf_counter() - started
        self.invocations.append(Invocation(shard, len(records), len(failures), seconds))
        if not failures:
            self._iterators[shard] = response.get("NextShardIterator")
            self._retrying.discard(shard)
            return len(records)

        self._retrying.add(shard)
        first = min(failures, key=int)
        attempts = self._attempts.get(first, 0) + 1
        self._attempts[first] = attempts
        if attempts >= self.max_attempts:
            raise RuntimeError(
                f"record {first} of {shard} failed {attempts} deliveries; stopping "
                "rather than skipping it"
            )
        logger.info(
            "Batch of %d records on %s failed from %s; delivering again (attempt %d)",
            len(records),
            shard,
            first,
            attempts + 1,
        )
        self._iterators[shard] = self._iterator(shard, first)
        done = sum(1 for r in records if int(r["SequenceNumber"]) < int(first))
        return done

    def drain(self, max_rounds: int = 1_000_000) -> int:
        """Deliver batches from every shard until all are caught up.

        A shard is caught up when a poll moves nothing, no batch of it is
        being retried and ``GetRecords`` reports it zero milliseconds behind
        the tip, so the empty pages real Kinesis returns mid-stream do not
        end the drain early.

        Returns
        -------
        int
            Records checkpointed.
        """
        total = 0
        for _ in range(max_rounds):
            moved = 0
            busy = False
            for shard in self.shards:
                count = self.poll_shard(shard)
                moved += count
                busy = (
                    busy
                    or count > 0
                    or shard in self._retrying
                    or self._behind.get(shard, False)
                )
            total += moved
            if not busy:
                return total
        raise RuntimeError(f"stream not drained after {max_rounds} rounds")
