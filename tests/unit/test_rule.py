"""Tests of the IoT rule stand-in and of the pluggable scorers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.cloud.rule import RuleForwarder, TopicRule, topic_matches
from smartfactory_lib.cloud.scoring import Scorer, ThresholdScorer, load_scorer


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("factory/+/+/+/telemetry", "factory/s01/s01-l01/m0001/telemetry", True),
        ("factory/+/+/+/telemetry", "factory/s01/s01-l01/m0001/status", False),
        ("factory/+/+/+/telemetry", "factory/s01/m0001/telemetry", False),
        ("factory/#", "factory/s01/anything/else", True),
        ("factory/s02/#", "factory/s01/x", False),
    ],
)
def test_topic_matches_mqtt_wildcards(
    topic_filter: str, topic: str, expected: bool
) -> None:
    """Check + matches one level and # the rest, as MQTT defines them."""
    assert topic_matches(topic_filter, topic) is expected


def test_topic_rule_refuses_sql_it_cannot_run() -> None:
    """Check a WHERE clause is refused rather than silently ignored."""
    with pytest.raises(ValueError, match="WHERE and functions are not supported"):
        TopicRule("SELECT * FROM 'factory/#' WHERE temperature_c > 80")


class _FakeKinesis:
    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> Any:
        self.calls.append(Records)
        return {"FailedRecordCount": 0, "Records": [{} for _ in Records]}


def test_forwarder_batches_matching_messages_partitioned_by_machine() -> None:
    """Check matching messages go in batches keyed by machine; others are ignored."""
    kinesis = _FakeKinesis()
    rule = RuleForwarder(
        kinesis,
        "s",
        TopicRule("SELECT * FROM 'factory/+/+/+/telemetry'"),
        batch_records=2,
    )

    rule.on_message("factory/s01/l1/m0001/telemetry", b"a")
    rule.on_message("factory/s01/l1/m0001/status", b"ignored")
    rule.on_message("factory/s01/l1/m0002/telemetry", b"b")
    rule.on_message("factory/s01/l1/m0003/telemetry", b"c")
    rule.flush()

    assert [len(call) for call in kinesis.calls] == [2, 1]
    assert [r["PartitionKey"] for r in kinesis.calls[0]] == ["m0001", "m0002"]
    assert (rule.matched, rule.ignored, rule.forwarded) == (3, 1, 3)


def test_threshold_scorer_flags_alarm_levels_and_ignores_missing() -> None:
    """Check the score is the largest ratio to an alarm level, NaN scoring 0."""
    readings = pd.DataFrame(
        {"vibration_mm_s": [2.25, 9.0, np.nan], "temperature_c": [35.0, 20.0, np.nan]}
    )

    scores = ThresholdScorer().score(readings)

    np.testing.assert_allclose(scores, [0.5, 2.0, 0.0])


def test_load_scorer_by_name_and_import_path() -> None:
    """Check a scorer loads by short name or path, and a bad spec says why."""
    assert isinstance(load_scorer("threshold"), Scorer)
    assert (
        load_scorer("smartfactory_lib.cloud.scoring:ThresholdScorer").threshold == 1.0
    )
    with pytest.raises(ValueError, match="got 'nonsense'"):
        load_scorer("nonsense")
    with pytest.raises(TypeError, match="must have name, threshold and score"):
        load_scorer("collections:OrderedDict")
