"""Tests of the live pipeline: SLI events, the canary, traces and injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.operations.canary import LivePipeline, new_trace_id
from smartfactory_lib.operations.slo import error_budget


@pytest.fixture(scope="module")
def live() -> Iterator[LivePipeline]:
    """Two machines and a canary, with a sensor fault and a disabled rule on the way."""
    settings = Settings(backend="moto", prefix="canarytest", region="eu-west-1")
    with aws_backend(settings):
        pipeline = LivePipeline(
            settings,
            n_machines=2,
            canary_period_s=0.2,
            canary_deadline_s=1.0,
            trace_every=5,
        )
        with pipeline:
            pipeline.run(1.5, tick_s=0.2)
            pipeline.inject("sensor", "m0002", vibration_mm_s=12.0)
            pipeline.run(1.0, tick_s=0.2)
            pipeline.clear()
            pipeline.inject("rule_disabled")
            pipeline.run(1.0, tick_s=0.2)
            pipeline.clear()
            pipeline.run(1.5, tick_s=0.2)
            time.sleep(0.1)
            pipeline.pump()
            yield pipeline


def test_live_pipeline_measures_every_sli(live: LivePipeline) -> None:
    """Check that latency, inference, delivery and completeness events exist."""
    frame = live.events()

    counts = frame.groupby("slo").size()
    assert counts["ingestion_latency"] > 10
    assert counts["inference_time"] >= 1
    assert counts["alert_delivery"] >= 1
    assert counts["completeness"] >= 5
    latency = frame[frame["slo"] == "ingestion_latency"]["value"]
    assert (latency > 0).all()


def test_sensor_fault_raises_an_alert_on_that_machine(live: LivePipeline) -> None:
    """Check that the forced vibration produced an SNS alert for m0002 only."""
    machines = {a["machine_id"] for a in live.alerts}

    assert machines == {"m0002"}
    alert = live.alerts[0]
    assert alert["delivery_s"] >= 0
    assert np.isfinite(alert["inference_s"])
    assert set(live.alert_table()["machine_id"]) == {"m0002"}


def test_disabled_rule_makes_the_canary_miss(live: LivePipeline) -> None:
    """Check that canaries sent while the rule was off count against completeness."""
    assert live.canary is not None
    canary = live.canary.frame()
    budget = error_budget(live.slos, live.events()).set_index("slo")

    assert live.dropped_by_rule > 0
    assert (canary["status"] == "missed").sum() >= 1
    assert (canary["status"] == "committed").sum() >= 3
    assert budget.loc["completeness", "bad"] == (canary["status"] == "missed").sum()
    assert not budget.loc["completeness", "met"]


def test_committed_canaries_are_in_curated_storage(live: LivePipeline) -> None:
    """Check the canary end to end: every committed reading is a curated row."""
    assert live.canary is not None
    canary = live.canary.frame()
    stored = live.stored()

    committed = set(canary.loc[canary["status"] == "committed", "seq"])
    in_storage = set(stored.loc[stored["machine_id"] == live.canary_id, "seq"])
    assert committed and committed <= in_storage


def test_traces_cover_every_stage_in_order(live: LivePipeline) -> None:
    """Check each traced record's segments: stages in order, scoring inside ingest."""
    traces = live.trace_frame()

    assert traces["canary"].any() and (~traces["canary"].astype(bool)).any()
    for _, trace in traces.groupby("trace_id"):
        stages = trace.set_index("segment")
        assert {"device", "broker-rule", "kinesis", "ingest", "score"} <= set(
            stages.index
        )
        assert (trace["seconds"] >= 0).all()
        assert stages.loc["kinesis", "start"] <= stages.loc["ingest", "start"]
    scores = traces[traces["segment"] == "score"]
    assert scores["parent_id"].notna().all()


def test_put_traces_accepts_every_segment(live: LivePipeline) -> None:
    """Check that X-Ray (moto) takes every segment document."""
    sent = live.put_traces(client("xray", live.settings))

    assert sent == len(live.segments) > 0


def test_new_trace_id_has_the_xray_shape() -> None:
    """Check the trace id format: version, epoch seconds in hex, 96 random bits."""
    trace_id = new_trace_id(0x5F000000)

    version, epoch, unique = trace_id.split("-")
    assert (version, epoch, len(unique)) == ("1", "5f000000", 24)


def test_inject_rejects_unknown_faults(live: LivePipeline) -> None:
    """Check the errors for an unknown fault, machine or signal."""
    with pytest.raises(ValueError, match="fault must be one of"):
        live.inject("earthquake")
    with pytest.raises(ValueError, match="machine_id must be one of"):
        live.inject("sensor", "m9999")
    with pytest.raises(ValueError, match="signals must be among"):
        live.inject("sensor", "m0001", colour=3)


def test_published_metrics_leave_the_healthy_alarms_ok(live: LivePipeline) -> None:
    """Check the run's metrics in CloudWatch: no dead letters, no errors, no alarm."""
    from smartfactory_lib.operations.slo import AlarmEvaluator, create_alarms

    cloudwatch = client("cloudwatch", live.settings)
    sent = live.publish_metrics(cloudwatch)
    create_alarms(cloudwatch, live.slos, live.settings)

    states = {
        s.alarm.removeprefix(live.settings.name("")): s
        for s in AlarmEvaluator(cloudwatch, live.slos, live.settings).evaluate(
            time.time() + 1
        )
    }

    assert sent > len(live.events())
    for name in (
        "dead-letters",
        "ingest-errors",
        "ingest-throttles",
        "quarantine-ratio",
    ):
        assert states[name].state == "OK", states[name].reason
    assert states["quarantine-ratio"].datapoints[-1] == 0.0
