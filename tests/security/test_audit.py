"""The audit trail: the pipeline's own AWS calls, recorded and checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from smartfactory_lib.cloud.cost import CostMeter
from smartfactory_lib.cloud.pipeline import run_pipeline
from smartfactory_lib.cloud.resources import ensure_resources
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.governance.audit import AuditTrail, check_trail, resource_of
from smartfactory_lib.governance.iam import load_matrix


@pytest.fixture
def settings() -> Iterator[Settings]:
    """A moto backend with names unique to the test."""
    with aws_backend(Settings(backend="moto", prefix="audit", environment="test")) as s:
        yield s


def test_resource_of_names_what_a_call_acts_on() -> None:
    """Check S3 objects, listings, batch tables and named resources."""
    assert resource_of("s3", {"Bucket": "b", "Key": "k"}) == "s3://b/k"
    assert resource_of("s3", {"Bucket": "b", "Prefix": "raw/"}) == "s3://b/raw/*"
    assert resource_of("dynamodb", {"RequestItems": {"t2": [], "t1": []}}) == "t1,t2"
    assert resource_of("kinesis", {"StreamName": "s"}) == "s"
    assert resource_of("sts", {}) == "-"


def test_trail_records_who_what_where_when_and_outcome(settings: Settings) -> None:
    """Check that resource creation is recorded as the deployer, with outcomes."""
    trail = AuditTrail()

    with trail.recording():
        resources = ensure_resources(settings)
        s3 = client("s3", settings)
        with pytest.raises(s3.exceptions.NoSuchKey):
            s3.get_object(Bucket=resources.raw_bucket, Key="missing")

    frame = trail.frame()
    created = frame[frame["action"] == "CreateBucket"]
    assert set(created["role"]) == {"deployer"}
    assert set(created["resource"]) == {
        "s3://audit-test-raw",
        "s3://audit-test-curated",
    }
    assert (created["outcome"] == "success").all()
    failed = frame[frame["action"] == "GetObject"].iloc[-1]
    assert failed["outcome"] == "NoSuchKey"
    assert failed["status"] == 404
    assert failed["role"] == "unknown"
    assert frame["time"].is_monotonic_increasing


def test_trail_stops_recording_after_the_block(settings: Settings) -> None:
    """Check that calls after the block are not recorded."""
    trail = AuditTrail()
    with trail.recording():
        client("sqs", settings).list_queues()

    client("sqs", settings).list_queues()

    assert len(trail.events) == 1


def test_trail_and_cost_meter_record_the_same_run(settings: Settings) -> None:
    """Check that the audit trail and the cost meter share the hooks peacefully."""
    trail, meter = AuditTrail(), CostMeter()

    with trail.recording(), meter.recording():
        ensure_resources(settings)

    calls = trail.frame().groupby(["service", "action"]).size()
    for key, count in meter.usage.calls.items():
        service, action = key.split(".")
        assert calls[(service, action)] == count


def test_every_call_of_the_ingest_function_is_granted(
    settings: Settings, repo: Path
) -> None:
    """Check a pipeline run: every lambda.ingest and iot.rule call is granted."""
    trail = AuditTrail()
    with trail.recording():
        run = run_pipeline(
            2, 0.1, fault_rate=0.05, settings=settings, transport="direct"
        )

    table = check_trail(
        trail.frame(), load_matrix(repo / "governance/iam_scope_matrix.csv")
    )

    assert run.reconciliation.balanced
    deployed = table[table["role"].isin(["lambda.ingest", "iot.rule"])]
    assert {"lambda.ingest", "iot.rule"} == set(deployed["role"])
    assert deployed["granted"].all(), deployed[~deployed["granted"]]
    assert "s3:PutObject" in set(deployed["iam_action"])


def test_check_trail_flags_an_ungranted_call(repo: Path) -> None:
    """Check that a call the matrix does not grant is marked as such."""
    trail = pd.DataFrame(
        {
            "role": ["lambda.ingest", "lambda.ingest", "deployer"],
            "iam_action": ["s3:PutObject", "s3:DeleteObject", "s3:CreateBucket"],
            "action": ["PutObject", "DeleteObject", "CreateBucket"],
            "outcome": ["success", "AccessDenied", "success"],
        }
    )

    table = check_trail(trail, load_matrix(repo / "governance/iam_scope_matrix.csv"))

    granted = table.set_index("iam_action")["granted"]
    assert bool(granted["s3:PutObject"]) is True
    assert bool(granted["s3:DeleteObject"]) is False
    assert pd.isna(granted["s3:CreateBucket"])
    assert table.set_index("iam_action").loc["s3:DeleteObject", "failed"] == 1
