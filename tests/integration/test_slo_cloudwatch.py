"""Tests of SLO metrics and alarms in CloudWatch (moto) with the local evaluator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.operations.slo import (
    AlarmEvaluator,
    create_alarms,
    dimension_value,
    events,
    load_slos,
    publish_events,
    publish_values,
)


@pytest.fixture
def cloud() -> Iterator[dict[str, Any]]:
    """CloudWatch, SNS and an SQS queue subscribed to the alarm topic, in moto."""
    settings = Settings(backend="moto", prefix="slotest", region="eu-west-1")
    with aws_backend(settings):
        sns = client("sns", settings)
        sqs = client("sqs", settings)
        topic = sns.create_topic(Name="slotest-alarms")["TopicArn"]
        queue = sqs.create_queue(QueueName="slotest-alarms")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        yield {
            "settings": settings,
            "cloudwatch": client("cloudwatch", settings),
            "sns": sns,
            "sqs": sqs,
            "topic": topic,
            "queue": queue,
        }


def _notifications(cloud: dict[str, Any]) -> list[dict[str, Any]]:
    messages = (
        cloud["sqs"]
        .receive_message(QueueUrl=cloud["queue"], MaxNumberOfMessages=10)
        .get("Messages", [])
    )
    return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]


def test_create_alarms_mirrors_the_slo_file(cloud: dict[str, Any]) -> None:
    """Check that every alarm of the file exists in CloudWatch with its threshold."""
    slos = load_slos()

    names = create_alarms(cloud["cloudwatch"], slos, cloud["settings"], cloud["topic"])

    described = cloud["cloudwatch"].describe_alarms(AlarmNames=names)["MetricAlarms"]
    thresholds = {a["AlarmName"]: a["Threshold"] for a in described}
    assert set(thresholds) == set(names)
    for alarm in slos.alarms:
        assert thresholds[alarm.full_name(cloud["settings"])] == alarm.threshold


def test_evaluator_raises_and_clears_the_dead_letter_alarm(
    cloud: dict[str, Any],
) -> None:
    """Check OK -> ALARM -> OK on dead letters, with a notification per change."""
    slos = load_slos()
    settings = cloud["settings"]
    cloudwatch = cloud["cloudwatch"]
    create_alarms(cloudwatch, slos, settings, cloud["topic"])
    evaluator = AlarmEvaluator(
        cloudwatch, slos, settings, sns=cloud["sns"], topic_arn=cloud["topic"]
    )
    queue = {"QueueName": dimension_value("QueueName", settings)}
    now = time.time()

    first = {s.alarm: s for s in evaluator.evaluate(now)}
    publish_values(
        cloudwatch, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, [now], [3]
    )
    second = {s.alarm: s for s in evaluator.evaluate(now + 1)}
    third = {s.alarm: s for s in evaluator.evaluate(now + 400)}

    name = f"{settings.name('dead-letters')}"
    assert first[name].state == "OK"
    assert second[name].state == "ALARM"
    assert second[name].datapoints == (3.0,)
    assert third[name].state == "OK"
    state = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert state["StateValue"] == "OK"
    changes = [n for n in _notifications(cloud) if n["AlarmName"] == name]
    assert [n["NewStateValue"] for n in changes][-2:] == ["ALARM", "OK"]


def test_evaluator_computes_the_quarantine_ratio(cloud: dict[str, Any]) -> None:
    """Check the metric-math alarm: 3 periods above 5 % quarantined raise it."""
    slos = load_slos()
    settings = cloud["settings"]
    cloudwatch = cloud["cloudwatch"]
    service = {"service": dimension_value("service", settings)}
    now = 1_800_000_000.0
    times = [now - 800, now - 500, now - 200]
    publish_values(
        cloudwatch, "SmartFactory", "RecordsQuarantined", service, times, [10] * 3
    )
    publish_values(
        cloudwatch, "SmartFactory", "RecordsStored", service, times, [90] * 3
    )
    create_alarms(cloudwatch, slos, settings)
    evaluator = AlarmEvaluator(cloudwatch, slos, settings)

    states = {s.alarm: s for s in evaluator.evaluate(now)}

    ratio = states[settings.name("quarantine-ratio")]
    assert ratio.state == "ALARM"
    assert ratio.datapoints == pytest.approx((0.1, 0.1, 0.1))
    freshness = states[settings.name("data-freshness")]
    assert freshness.state == "ALARM", "missing iterator age is treated as breaching"


def test_publish_events_round_trips_through_cloudwatch(cloud: dict[str, Any]) -> None:
    """Check that published SLI values come back as the same sum and count."""
    slos = load_slos()
    slo = slos.slo("ingestion_latency")
    now = time.time()
    values = np.array([1.0, 2.0, 120.0])
    frame = events(slo, [now - 3, now - 2, now - 1], values)

    sent = publish_events(cloud["cloudwatch"], slos, frame)

    assert sent == 6
    stats = cloud["cloudwatch"].get_metric_statistics(
        Namespace="SmartFactory",
        MetricName=f"{slo.metric}Bad",
        Dimensions=[{"Name": "slo", "Value": slo.name}],
        StartTime=now - 60,
        EndTime=now + 60,
        Period=120,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in stats) == 1.0
    assert sum(p["SampleCount"] for p in stats) == 3.0
