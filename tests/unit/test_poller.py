"""Tests of the event source mapping stand-in against a scripted Kinesis."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from smartfactory_lib.cloud.stream import KinesisPoller


class ScriptedKinesis:
    """A Kinesis client whose one shard answers GetRecords from a script.

    Real Kinesis may answer an empty page while records remain further on;
    the script does exactly that before handing out its records.
    """

    def __init__(self, pages: list[tuple[list[str], int]]) -> None:
        self.pages = pages
        self.calls = 0

    def describe_stream(self, StreamName: str) -> dict[str, Any]:
        return {
            "StreamDescription": {
                "StreamARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/s",
                "Shards": [{"ShardId": "shardId-000000000000"}],
            }
        }

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        return {"ShardIterator": "it-0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        page = self.pages[self.calls] if self.calls < len(self.pages) else ([], 0)
        self.calls += 1
        numbers, behind_ms = page
        records = [
            {
                "SequenceNumber": n,
                "PartitionKey": "m0001",
                "Data": base64.b64encode(b"{}"),
                "ApproximateArrivalTimestamp": datetime(2026, 1, 5, tzinfo=UTC),
            }
            for n in numbers
        ]
        return {
            "Records": records,
            "NextShardIterator": f"it-{self.calls}",
            "MillisBehindLatest": behind_ms,
        }


def test_drain_reads_past_empty_pages_until_caught_up() -> None:
    """Check an empty page that is still behind the tip does not end the drain."""
    kinesis = ScriptedKinesis([([], 5_000), ([], 3_000), (["1", "2"], 0)])
    delivered: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        delivered.extend(r["kinesis"]["sequenceNumber"] for r in event["Records"])
        return {"batchItemFailures": []}

    total = KinesisPoller(kinesis, "s", handler).drain()

    assert total == 2
    assert delivered == ["1", "2"]
