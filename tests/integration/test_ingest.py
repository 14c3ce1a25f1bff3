"""Tests of the ingest path on moto: replays, duplicates and partial batch retries."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from smartfactory_lib.cloud.handler import IngestHandler
from smartfactory_lib.cloud.pipeline import reconcile
from smartfactory_lib.cloud.resources import Resources, ensure_resources
from smartfactory_lib.cloud.storage import list_keys, read_curated, read_jsonl
from smartfactory_lib.cloud.stream import KinesisPoller, put_payloads
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.faults import FaultConfig, inject
from smartfactory_lib.simulation import FactoryConfig, FactorySimulator


@pytest.fixture
def cloud() -> Iterator[tuple[Settings, Resources]]:
    """Moto in-process with every pipeline resource created."""
    settings = Settings(backend="moto", region="eu-west-1", environment="test")
    with aws_backend(settings):
        yield settings, ensure_resources(settings)


@pytest.fixture
def faulted(seed: int) -> tuple[list[bytes], list[str]]:
    """Twenty minutes of three machines ending now, with 20 % faults."""
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(minutes=20)).floor("s")
    config = FactoryConfig(n_machines=3, seed=seed, start=start.to_pydatetime())
    readings = FactorySimulator(config, 1 / 3).run().readings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        batch = inject(readings, FaultConfig.uniform(0.2, seed=seed))
    return batch.payloads(), batch.readings["machine_id"].astype(str).tolist()


def _put(
    settings: Settings, res: Resources, data: tuple[list[bytes], list[str]]
) -> Any:
    kinesis = client("kinesis", settings)
    put_payloads(kinesis, res.stream, data[0], data[1])
    return kinesis


def _counts(settings: Settings, res: Resources) -> tuple[int, int, int]:
    s3 = client("s3", settings)
    return (
        len(read_curated(s3, res.curated_bucket)),
        len(read_jsonl(s3, res.raw_bucket, settings.limits.quarantine_prefix)),
        len(read_jsonl(s3, res.raw_bucket, settings.limits.duplicates_prefix)),
    )


@pytest.mark.parametrize("replay_batch", [200, 77], ids=["same", "other-bounds"])
def test_replayed_stream_stores_nothing_twice(
    cloud: tuple[Settings, Resources],
    faulted: tuple[list[bytes], list[str]],
    replay_batch: int,
) -> None:
    """Check reading the whole stream again, in any batch size, changes no count."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)
    KinesisPoller(kinesis, res.stream, IngestHandler(settings), batch_size=200).drain()
    first = _counts(settings, res)
    sqs = client("sqs", settings)
    attributes = ["ApproximateNumberOfMessages"]
    dead = sqs.get_queue_attributes(QueueUrl=res.queue_url, AttributeNames=attributes)

    replay = IngestHandler(settings)
    KinesisPoller(kinesis, res.stream, replay, batch_size=replay_batch).drain()

    assert first[1] > 0 and first[2] > 0, "the fixture should quarantine and repeat"
    assert _counts(settings, res) == first
    assert sum(o.redelivered for o in replay.outcomes) == sum(first)
    assert sum(o.stored for o in replay.outcomes) == 0
    assert not any(o.quarantined for o in replay.outcomes)
    again = sqs.get_queue_attributes(QueueUrl=res.queue_url, AttributeNames=attributes)
    assert again == dead or again["Attributes"] == dead["Attributes"]
    counts = reconcile(settings, res, len(faulted[0]), len(faulted[0]))
    assert counts.balanced, counts


def test_duplicated_deliveries_are_logged_not_stored(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check each reading is stored once and every extra copy is a duplicate."""
    settings, res = cloud
    payloads, keys = faulted
    copies = (payloads + payloads[:300], keys + keys[:300])
    kinesis = _put(settings, res, copies)

    KinesisPoller(kinesis, res.stream, IngestHandler(settings)).drain()

    curated = read_curated(client("s3", settings), res.curated_bucket)
    assert not curated.duplicated(["machine_id", "seq"]).any()
    counts = reconcile(settings, res, len(copies[0]), len(copies[0]))
    assert counts.balanced, counts
    assert counts.duplicates >= 300


def test_partially_failed_batch_is_retried_until_all_are_handled(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check records that fail once are delivered again and stored exactly once."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)
    failed_once: set[str] = set()

    def flaky(record: Any) -> None:
        number = record.kinesis.sequence_number
        if int(number) % 97 == 0 and number not in failed_once:
            failed_once.add(number)
            raise ConnectionError(f"transient failure on {number}")

    poller = KinesisPoller(
        kinesis, res.stream, IngestHandler(settings, record_hook=flaky)
    )
    poller.drain()

    assert failed_once
    assert any(call.failed for call in poller.invocations)
    counts = reconcile(settings, res, len(faulted[0]), len(faulted[0]))
    assert counts.balanced, counts
    curated = read_curated(client("s3", settings), res.curated_bucket)
    assert not curated.duplicated(["machine_id", "seq"]).any()


def test_storage_failure_fails_whole_batch_then_recovers(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check a failed write reports every record and the retry stores them once."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)
    handler = IngestHandler(settings)
    real_client = handler._client("s3")
    calls = {"n": 0}

    class BrokenS3:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_client, name)

        def put_object(self, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise ConnectionError("S3 unavailable")
            return real_client.put_object(**kwargs)

    handler._clients["s3"] = BrokenS3()
    poller = KinesisPoller(kinesis, res.stream, handler, batch_size=250)

    poller.drain()

    assert poller.invocations[0].failed == poller.invocations[0].records
    counts = reconcile(settings, res, len(faulted[0]), len(faulted[0]))
    assert counts.balanced, counts


def test_poller_stops_rather_than_skip_a_poison_record(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check a record that always fails stops the poller with a clear error."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)

    def always(record: Any) -> None:
        raise ConnectionError("down")

    poller = KinesisPoller(
        kinesis, res.stream, IngestHandler(settings, record_hook=always), max_attempts=3
    )

    with pytest.raises(RuntimeError, match="failed 3 deliveries"):
        poller.drain()


def test_handler_emits_sli_events_for_every_stored_reading_and_alert(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check the SLI metrics count one event per stored reading and per alert."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)
    handler = IngestHandler(settings)

    KinesisPoller(kinesis, res.stream, handler, batch_size=200).drain()

    def samples(metric: str) -> list[int]:
        return [v for d in handler.emitted_sli if metric in d for v in d[metric]]

    stored = sum(o.stored for o in handler.outcomes)
    alerts = sum(o.alerts for o in handler.outcomes)
    assert stored > 0 and alerts > 0
    assert len(samples("IngestionLatencyBad")) == stored
    assert len(samples("AlertDeliveryLatencyBad")) == alerts
    assert len(samples("InferenceTimeBad")) == sum(
        1 for o in handler.outcomes if o.alerts
    )
    limits = settings.limits  # skewed clocks inside the limits are accepted
    latency = samples("IngestionLatency")
    assert all(-limits.max_future_skew_s <= v <= limits.max_age_s for v in latency)


def test_reconciliation_sees_a_record_held_twice(
    cloud: tuple[Settings, Resources], faulted: tuple[list[bytes], list[str]]
) -> None:
    """Check a quarantine object copied under a second name unbalances the books."""
    settings, res = cloud
    kinesis = _put(settings, res, faulted)
    KinesisPoller(kinesis, res.stream, IngestHandler(settings), batch_size=200).drain()
    s3 = client("s3", settings)
    prefix = settings.limits.quarantine_prefix
    key = list_keys(s3, res.raw_bucket, prefix)[0]
    before = reconcile(settings, res, len(faulted[0]), len(faulted[0]))

    s3.copy_object(
        Bucket=res.raw_bucket,
        Key=key.replace(".jsonl.gz", "-copy.jsonl.gz"),
        CopySource={"Bucket": res.raw_bucket, "Key": key},
    )
    after = reconcile(settings, res, len(faulted[0]), len(faulted[0]))

    assert before.balanced and before.repeated == 0
    assert after.repeated > 0 and not after.balanced
