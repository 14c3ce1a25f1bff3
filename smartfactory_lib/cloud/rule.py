"""Local stand-in for the AWS IoT rules engine: MQTT messages into Kinesis.

On AWS, a topic rule such as ``SELECT * FROM 'factory/+/+/+/telemetry'`` with
a Kinesis action forwards every matching message to the stream, partitioned
by a key taken from the topic (``${topic(4)}``, the machine id). moto stores
topic rules but never runs them, so :class:`RuleForwarder` does that job here:
it receives messages from the broker (through the transport's
:class:`~smartfactory_lib.transport.Subscriber`), applies the rule's topic
filter and forwards each message unchanged into Kinesis in batches of up to
500 records, partitioned by machine.

Supported SQL: ``SELECT * FROM '<topic filter>'`` only, with the MQTT
wildcards ``+`` and ``#``. Projections, ``WHERE`` clauses, functions and the
rule's error action are not implemented; a statement that uses them is
refused rather than half-applied. One MQTT message becomes one Kinesis
record, as with the real Kinesis action, so devices should send one reading
per message.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from .stream import PutResult, put_payloads

__all__ = ["RuleForwarder", "TopicRule", "topic_matches"]

logger = logging.getLogger(__name__)

_SQL: Final = re.compile(r"^\s*SELECT\s+\*\s+FROM\s+'([^']+)'\s*;?\s*$", re.IGNORECASE)


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Return whether an MQTT topic matches a filter with ``+`` and ``#``.

    Examples
    --------
    >>> topic_matches("factory/+/+/+/telemetry", "factory/s01/s01-l01/m0001/telemetry")
    True
    >>> topic_matches("factory/#", "plant/x")
    False
    """
    levels = topic.split("/")
    parts = topic_filter.split("/")
    for index, part in enumerate(parts):
        if part == "#":
            return True
        if index >= len(levels):
            return False
        if part != "+" and part != levels[index]:
            return False
    return len(parts) == len(levels)


@dataclass(frozen=True)
class TopicRule:
    """The part of an IoT rule this stand-in runs.

    Parameters
    ----------
    sql : str
        ``SELECT * FROM '<topic filter>'``.
    partition_level : int, default 3
        Topic level (0-based) whose value is the Kinesis partition key; the
        machine id in ``factory/<site>/<line>/<machine>/telemetry``.

    Raises
    ------
    ValueError
        If the SQL uses anything beyond ``SELECT * FROM '<filter>'``.
    """

    sql: str
    partition_level: int = 3

    def __post_init__(self) -> None:
        if not _SQL.match(self.sql):
            raise ValueError(
                "rule SQL must be SELECT * FROM '<topic filter>' (projections, "
                f"WHERE and functions are not supported here), got {self.sql!r}"  # nosec B608: an error message
            )

    @property
    def topic_filter(self) -> str:
        """The topic filter of the ``FROM`` clause."""
        match = _SQL.match(self.sql)
        assert match is not None
        return match.group(1)

    def partition_key(self, topic: str) -> str:
        """Return the partition key of a message on ``topic``."""
        levels = topic.split("/")
        if self.partition_level < len(levels):
            return levels[self.partition_level]
        return topic


class RuleForwarder:
    """Forward matching MQTT messages into Kinesis, in batches.

    Parameters
    ----------
    kinesis : botocore client
        A Kinesis client.
    stream : str
        The stream of the rule's Kinesis action.
    rule : TopicRule
        The rule.
    batch_records : int, default 500
        Records per ``PutRecords`` call (at most 500).

    Attributes
    ----------
    matched, ignored : int
        Messages that matched the rule, and that did not.
    forwarded : int
        Records put into Kinesis.
    requests : int
        ``PutRecords`` calls made.
    """

    def __init__(
        self, kinesis: Any, stream: str, rule: TopicRule, *, batch_records: int = 500
    ) -> None:
        if not 1 <= batch_records <= 500:
            raise ValueError(
                f"batch_records must be between 1 and 500, got {batch_records}"
            )
        self.kinesis = kinesis
        self.stream = stream
        self.rule = rule
        self.batch_records = batch_records
        self.matched = 0
        self.ignored = 0
        self.forwarded = 0
        self.requests = 0
        self._payloads: list[bytes] = []
        self._keys: list[str] = []
        self._lock = threading.Lock()

    def on_message(self, topic: str, payload: bytes) -> None:
        """Take one MQTT message (the subscriber's ``on_message`` callback)."""
        if not topic_matches(self.rule.topic_filter, topic):
            self.ignored += 1
            return
        with self._lock:
            self.matched += 1
            self._payloads.append(bytes(payload))
            self._keys.append(self.rule.partition_key(topic))
            full = len(self._payloads) >= self.batch_records
        if full:
            self.flush()

    def forward(self, topics: Sequence[str], payloads: Sequence[bytes]) -> None:
        """Take many messages at once, as if each had arrived over MQTT."""
        for topic, payload in zip(topics, payloads, strict=True):
            self.on_message(topic, payload)

    def flush(self) -> PutResult:
        """Put every buffered message into Kinesis now."""
        with self._lock:
            payloads, keys = self._payloads, self._keys
            self._payloads, self._keys = [], []
            if not payloads:
                return PutResult()
            result = put_payloads(self.kinesis, self.stream, payloads, keys)
            self.forwarded += result.records
            self.requests += result.requests
        logger.debug("Forwarded %d records to %s", result.records, self.stream)
        return result
