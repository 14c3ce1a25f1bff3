"""Where readings land: S3 zones, DynamoDB tables, the dead-letter queue and alerts.

The data lake has two zones. The *raw* zone keeps every record as it
arrived, one gzip-compressed JSON-lines object per handler batch, so that any
later stage can be re-run from it. The *curated* zone holds accepted readings
as Parquet, partitioned Hive-style by ``site``, ``date`` and ``hour`` and
written as sized files (up to ``file_rows`` rows each) instead of one object
per reading, which is what keeps queries and request costs small. Every object
is encrypted with the pipeline's KMS key (SSE-KMS).

Records that fail validation go to the *quarantine* prefix of the raw bucket,
one JSON line per record with its reason, and to the dead-letter queue.
Duplicates are kept under their own prefix, so that nothing that arrived is
thrown away unrecorded.

DynamoDB holds three tables: the *ledger* that makes ingestion idempotent
(one item per accepted ``(machine_id, seq)`` naming the Kinesis record that
won), the *latest state* per machine, and *alerts* with a time-to-live. moto
stores the TTL attribute but never deletes expired items, and real DynamoDB
deletes them up to a few days late, so :func:`read_alerts` filters expired
items itself.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CURATED_PREFIX",
    "Compaction",
    "LedgerKey",
    "compact",
    "encode_parquet",
    "ledger_commit",
    "ledger_lookup",
    "list_keys",
    "partition_path",
    "publish_alerts",
    "read_alerts",
    "read_curated",
    "read_jsonl",
    "read_machine_state",
    "send_dead_letters",
    "update_machine_state",
    "write_curated",
    "write_jsonl",
]

logger = logging.getLogger(__name__)

CURATED_PREFIX: Final = "readings/"
"""Key prefix of the curated readings in the curated bucket."""

_SQS_MAX_BODY: Final = 200_000
_SQS_MAX_BATCH: Final = 262_144
"""Most bytes of message bodies in one ``SendMessageBatch`` request."""

LedgerKey = tuple[str, int]
"""A reading's identity: ``(machine_id, seq)``."""


def partition_path(site: str, date: str, hour: int) -> str:
    """Return the Hive-style partition path ``site=s01/date=2026-01-05/hour=08``."""
    return f"site={site}/date={date}/hour={hour:02d}"


def encode_parquet(frame: pd.DataFrame, file_rows: int) -> list[tuple[str, bytes]]:
    """Split readings by partition and encode each part as Parquet files.

    Parameters
    ----------
    frame : pandas.DataFrame
        Curated readings with ``site`` and a UTC ``ts`` column.
    file_rows : int
        Most rows in one file; a bigger partition becomes several files.

    Returns
    -------
    list of (str, bytes)
        Partition path and Parquet bytes (snappy) of each file. The
        partition columns live in the path, not in the file.
    """
    if frame.empty:
        return []
    ts_ms = frame["ts"].to_numpy(dtype="datetime64[ms]").astype(np.int64)
    hours = ts_ms // 3_600_000
    sites = pd.Categorical(frame["site"].astype(str))
    site_names = np.asarray(sites.categories, dtype=object)
    site_codes = sites.codes.astype(np.int64)
    group_codes = site_codes * (1 << 40) + hours
    table = pa.Table.from_pandas(frame.drop(columns=["site"]), preserve_index=False)
    if (group_codes == group_codes[0]).all():
        order = np.arange(len(group_codes))
    else:
        order = np.argsort(group_codes, kind="stable")
    sorted_codes = group_codes[order]
    bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
    files: list[tuple[str, bytes]] = []
    for rows in np.split(order, bounds):
        first = rows[0]
        moment = pd.Timestamp(int(hours[first]) * 3_600_000, unit="ms", tz="UTC")
        path = partition_path(
            str(site_names[site_codes[first]]), f"{moment:%Y-%m-%d}", moment.hour
        )
        for begin in range(0, len(rows), file_rows):
            picked = np.sort(rows[begin : begin + file_rows])
            if len(picked) == table.num_rows:
                chunk = table
            else:
                chunk = table.take(pa.array(picked))
            sink = io.BytesIO()
            pq.write_table(chunk, sink, compression="snappy")
            files.append((path, sink.getvalue()))
    return files


def _put(s3: Any, bucket: str, key: str, body: bytes, kms_key: str | None) -> None:
    extra: dict[str, Any] = {}
    if kms_key:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}
    s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def write_curated(
    s3: Any,
    bucket: str,
    frame: pd.DataFrame,
    name: str,
    *,
    file_rows: int,
    kms_key: str | None = None,
) -> list[str]:
    """Write curated readings as partitioned Parquet objects.

    Parameters
    ----------
    s3 : botocore client
        An S3 client.
    bucket : str
        The curated bucket.
    frame : pandas.DataFrame
        Readings to write.
    name : str
        Stable name of this write (the same records give the same name), so
        that a retried write replaces its objects instead of adding copies.
    file_rows : int
        Most rows per object.
    kms_key : str or None, default None
        KMS key for SSE-KMS; objects are written with S3's default
        encryption when None.

    Returns
    -------
    list of str
        The keys written.
    """
    keys = []
    for index, (path, body) in enumerate(encode_parquet(frame, file_rows)):
        key = f"{CURATED_PREFIX}{path}/part-{name}-{index:03d}.parquet"
        _put(s3, bucket, key, body, kms_key)
        keys.append(key)
    logger.debug("Wrote %d curated rows in %d objects", len(frame), len(keys))
    return keys


def write_jsonl(
    s3: Any,
    bucket: str,
    key: str,
    rows: Iterable[dict[str, Any]],
    kms_key: str | None = None,
) -> int:
    """Write rows as one gzip-compressed JSON-lines object; return its size."""
    text = "".join(json.dumps(row, default=str) + "\n" for row in rows)
    body = gzip.compress(text.encode(), compresslevel=6, mtime=0)
    _put(s3, bucket, key, body, kms_key)
    return len(body)


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Return every key under ``prefix``, in key order."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix
    ):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def read_jsonl(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    """Read every gzip JSON-lines object under ``prefix`` into a list of rows."""
    rows: list[dict[str, Any]] = []
    for key in list_keys(s3, bucket, prefix):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = gzip.decompress(body).decode()
        rows.extend(json.loads(line) for line in text.splitlines() if line)
    return rows


def read_curated(s3: Any, bucket: str, prefix: str = CURATED_PREFIX) -> pd.DataFrame:
    """Read every curated Parquet object back, with its partition columns.

    Parameters
    ----------
    s3 : botocore client
        An S3 client.
    bucket : str
        The curated bucket.
    prefix : str, default :data:`CURATED_PREFIX`
        Where to read from.

    Returns
    -------
    pandas.DataFrame
        All rows, with ``site``, ``date`` and ``hour`` taken from the keys.
    """
    parts = []
    for key in list_keys(s3, bucket, prefix):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        frame = pq.read_table(io.BytesIO(body)).to_pandas()
        for segment in key.split("/"):
            column, sep, value = segment.partition("=")
            if sep:
                frame[column] = value
        parts.append(frame)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Compaction:
    """What :func:`compact` did.

    Attributes
    ----------
    partitions : int
        Partitions rewritten.
    objects_before, objects_after : int
        Objects in those partitions before and after.
    rows : int
        Rows written.
    """

    partitions: int
    objects_before: int
    objects_after: int
    rows: int


def compact(
    s3: Any,
    bucket: str,
    *,
    file_rows: int,
    kms_key: str | None = None,
    prefix: str = CURATED_PREFIX,
) -> Compaction:
    """Rewrite each partition's small objects as few large, sorted ones.

    Every partition with more than one object is read whole, sorted by
    ``machine_id`` and ``ts`` (which helps compression and lets engines skip
    row groups by their statistics), cut into files of ``file_rows`` rows and
    written back; then the old objects are deleted. Run it on closed
    partitions only (hours that receive no more readings).

    A crash between writing and deleting leaves both copies for a moment;
    running :func:`compact` again merges them and drops the repeated
    ``(machine_id, seq)``, so the partition heals. Readers that list the
    partition in that moment would see the rows twice; table formats such as
    Apache Iceberg avoid that with an atomic commit, which this does not have.

    Parameters
    ----------
    s3 : botocore client
        An S3 client.
    bucket : str
        The curated bucket.
    file_rows : int
        Most rows per compacted object.
    kms_key : str or None, default None
        KMS key for SSE-KMS.
    prefix : str, default :data:`CURATED_PREFIX`
        Root of the partitions.

    Returns
    -------
    Compaction
        Counts of partitions, objects and rows.
    """
    by_partition: dict[str, list[str]] = {}
    for key in list_keys(s3, bucket, prefix):
        by_partition.setdefault(key.rsplit("/", 1)[0], []).append(key)
    partitions = before = after = rows = 0
    for path, keys in sorted(by_partition.items()):
        if len(keys) < 2:
            continue
        tables = [
            pq.read_table(
                io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())
            )
            for k in keys
        ]
        frame = pa.concat_tables(tables, promote_options="default").to_pandas()
        frame = frame.drop_duplicates(["machine_id", "seq"]).sort_values(
            ["machine_id", "ts"], ignore_index=True
        )
        name = hashlib.sha1(",".join(keys).encode(), usedforsecurity=False).hexdigest()[
            :16
        ]
        written = []
        for index, start in enumerate(range(0, len(frame), file_rows)):
            table = pa.Table.from_pandas(
                frame.iloc[start : start + file_rows], preserve_index=False
            )
            sink = io.BytesIO()
            pq.write_table(table, sink, compression="snappy")
            key = f"{path}/compacted-{name}-{index:03d}.parquet"
            _put(s3, bucket, key, sink.getvalue(), kms_key)
            written.append(key)
        for start in range(0, len(keys), 1000):
            s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]},
            )
        partitions += 1
        before += len(keys)
        after += len(written)
        rows += len(frame)
    logger.info(
        "Compacted %d partitions: %d objects into %d", partitions, before, after
    )
    return Compaction(partitions, before, after, rows)


def ledger_lookup(
    dynamodb: Any, table: str, keys: Sequence[LedgerKey]
) -> dict[LedgerKey, str]:
    """Return the winning Kinesis sequence number of each known reading.

    Parameters
    ----------
    dynamodb : botocore client
        A DynamoDB client.
    table : str
        The ledger table (hash key ``machine_id``, range key ``seq``).
    keys : sequence of (str, int)
        Readings to look up; repeats are fine.

    Returns
    -------
    dict
        ``(machine_id, seq) -> sequence number`` for the readings already
        accepted; unknown readings are absent.
    """
    unique = list(dict.fromkeys(keys))
    found: dict[LedgerKey, str] = {}
    for start in range(0, len(unique), 100):
        request = {
            table: {
                "Keys": [
                    {"machine_id": {"S": m}, "seq": {"N": str(s)}}
                    for m, s in unique[start : start + 100]
                ],
                "ProjectionExpression": "machine_id, seq, winner",
            }
        }
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                key = (item["machine_id"]["S"], int(item["seq"]["N"]))
                found[key] = item["winner"]["S"]
            request = response.get("UnprocessedKeys") or {}
    return found


def ledger_commit(
    dynamodb: Any, table: str, winners: dict[LedgerKey, str], max_attempts: int = 8
) -> None:
    """Record accepted readings in the ledger, retrying unprocessed items.

    Raises
    ------
    RuntimeError
        If DynamoDB still leaves items unprocessed after ``max_attempts``.
    """
    items = [
        {
            "PutRequest": {
                "Item": {
                    "machine_id": {"S": m},
                    "seq": {"N": str(s)},
                    "winner": {"S": winner},
                }
            }
        }
        for (m, s), winner in winners.items()
    ]
    for start in range(0, len(items), 25):
        request = {table: items[start : start + 25]}
        for attempt in range(max_attempts):
            response = dynamodb.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError(
                f"ledger write left {len(request[table])} items unprocessed "
                f"after {max_attempts} attempts"
            )


def update_machine_state(dynamodb: Any, table: str, readings: pd.DataFrame) -> int:
    """Store each machine's newest reading, never moving state backwards.

    A reading older than the stored state (a late, out-of-order arrival) is
    kept in the curated zone but does not replace the newer state: the update
    is conditional on the timestamp.

    Returns
    -------
    int
        Number of machines whose state changed.
    """
    if readings.empty:
        return 0
    latest = readings.sort_values("seq").groupby("machine_id", observed=True).tail(1)
    changed = 0
    for row in latest.itertuples(index=False):
        ts_ms = int(pd.Timestamp(row.ts).value // 1_000_000)
        values = {
            ":ts": {"N": str(ts_ms)},
            ":seq": {"N": str(int(row.seq))},
            ":site": {"S": str(row.site)},
            ":line": {"S": str(row.line)},
            ":score": {"N": repr(float(row.anomaly_score))},
            ":anomaly": {"BOOL": bool(row.is_anomaly)},
            ":reading": {"S": _reading_json(row)},
        }
        try:
            dynamodb.update_item(
                TableName=table,
                Key={"machine_id": {"S": str(row.machine_id)}},
                UpdateExpression=(
                    "SET ts_ms = :ts, seq = :seq, site = :site, line = :line, "
                    "anomaly_score = :score, is_anomaly = :anomaly, reading = :reading"
                ),
                ConditionExpression="attribute_not_exists(seq) OR seq < :seq",
                ExpressionAttributeValues=values,
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        changed += 1
    return changed


def _reading_json(row: Any) -> str:
    body = {k: v for k, v in row._asdict().items() if k not in ("ts",)}
    body["ts"] = pd.Timestamp(row.ts).isoformat()
    return json.dumps(
        {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in body.items()
        },
        default=str,
    )


def read_machine_state(dynamodb: Any, table: str) -> pd.DataFrame:
    """Return the latest state of every machine, one row each."""
    rows = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            rows.append(
                {
                    "machine_id": item["machine_id"]["S"],
                    "ts": pd.Timestamp(int(item["ts_ms"]["N"]), unit="ms", tz="UTC"),
                    "seq": int(item["seq"]["N"]),
                    "anomaly_score": float(item["anomaly_score"]["N"]),
                    "is_anomaly": item["is_anomaly"]["BOOL"],
                }
            )
    return pd.DataFrame(rows).sort_values("machine_id", ignore_index=True)


@dataclass(frozen=True)
class _Alert:
    machine_id: str
    hour: str
    ts: str
    score: float
    scorer: str


def publish_alerts(
    dynamodb: Any,
    sns: Any,
    table: str,
    topic_arn: str,
    anomalies: pd.DataFrame,
    *,
    scorer: str,
    ttl_s: int,
    now_s: float | None = None,
) -> int:
    """Raise at most one alert per machine and hour, and publish it to SNS.

    The alert item is written with a condition that it does not exist yet, so
    a retried or replayed batch raises no second alert and sends no second
    notification.

    Parameters
    ----------
    dynamodb, sns : botocore clients
        DynamoDB and SNS clients.
    table : str
        The alerts table (hash key ``machine_id``, range key ``hour``).
    topic_arn : str
        The alert topic.
    anomalies : pandas.DataFrame
        Readings scored as anomalies.
    scorer : str
        Name of the scorer that flagged them.
    ttl_s : int
        Seconds until the alert expires.
    now_s : float or None, default None
        Current time in seconds since the epoch; the clock when None.

    Returns
    -------
    int
        Alerts raised.
    """
    if anomalies.empty:
        return 0
    now = time.time() if now_s is None else now_s
    hours = anomalies["ts"].dt.strftime("%Y-%m-%dT%H")
    first = anomalies.assign(hour=hours).sort_values("ts")
    first = first.groupby(["machine_id", "hour"], observed=True).head(1)
    raised = 0
    for row in first.itertuples(index=False):
        alert = _Alert(
            str(row.machine_id),
            str(row.hour),
            pd.Timestamp(row.ts).isoformat(),
            float(row.anomaly_score),
            scorer,
        )
        try:
            dynamodb.put_item(
                TableName=table,
                Item={
                    "machine_id": {"S": alert.machine_id},
                    "hour": {"S": alert.hour},
                    "ts": {"S": alert.ts},
                    "score": {"N": repr(alert.score)},
                    "scorer": {"S": alert.scorer},
                    "expires_at": {"N": str(int(now + ttl_s))},
                },
                ConditionExpression="attribute_not_exists(machine_id)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue
        sns.publish(
            TopicArn=topic_arn,
            Subject=f"Anomaly on {alert.machine_id}",
            Message=json.dumps(alert.__dict__),
        )
        raised += 1
    if raised:
        logger.info("Raised %d alerts", raised)
    return raised


def read_alerts(dynamodb: Any, table: str, now_s: float | None = None) -> pd.DataFrame:
    """Return the alerts that have not expired at ``now_s``.

    DynamoDB's TTL deletes expired items late (moto never does), so the
    filter on ``expires_at`` is what makes expiry exact.
    """
    now = time.time() if now_s is None else now_s
    rows = []
    paginator = dynamodb.get_paginator("scan")
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="expires_at > :now",
        ExpressionAttributeValues={":now": {"N": str(int(now))}},
    ):
        for item in page["Items"]:
            rows.append(
                {
                    "machine_id": item["machine_id"]["S"],
                    "hour": item["hour"]["S"],
                    "ts": item["ts"]["S"],
                    "score": float(item["score"]["N"]),
                    "scorer": item["scorer"]["S"],
                    "expires_at": int(item["expires_at"]["N"]),
                }
            )
    columns = ["machine_id", "hour", "ts", "score", "scorer", "expires_at"]
    return pd.DataFrame(rows, columns=columns).sort_values(
        ["machine_id", "hour"], ignore_index=True
    )


def send_dead_letters(sqs: Any, queue_url: str, rows: Sequence[dict[str, Any]]) -> int:
    """Send quarantined records to the dead-letter queue, batched within SQS limits.

    A request carries at most ten messages and at most 256 KiB in all, as
    ``SendMessageBatch`` allows. A payload larger than the queue's message
    limit is cut; the quarantine object in S3 keeps it whole.

    Returns
    -------
    int
        Messages sent.
    """
    bodies = []
    for row in rows:
        body = json.dumps(row, default=str)
        if len(body.encode()) > _SQS_MAX_BODY:
            body = json.dumps(
                {**row, "data": row["data"][:1000], "truncated": True}, default=str
            )
        bodies.append((body, len(body.encode())))

    batches: list[list[str]] = []
    size = 0
    for body, length in bodies:
        if not batches or len(batches[-1]) == 10 or size + length > _SQS_MAX_BATCH:
            batches.append([])
            size = 0
        batches[-1].append(body)
        size += length
    for batch in batches:
        _send_batch(sqs, queue_url, batch)
    return len(bodies)


def _send_batch(sqs: Any, queue_url: str, bodies: Sequence[str]) -> None:
    entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    failed = response.get("Failed", [])
    if failed:
        raise RuntimeError(
            f"dead-letter queue refused {len(failed)} messages: "
            f"{failed[0].get('Message', failed[0].get('Code'))}"
        )
