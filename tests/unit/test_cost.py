"""Tests of the cost estimate: metering boto3 calls and pricing them."""

from __future__ import annotations

import pandas as pd
import pytest

from smartfactory_lib.cloud.cost import CostMeter, Usage, estimate, load_prices
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings


def test_meter_counts_billable_units_of_real_calls() -> None:
    """Check Kinesis payload units, S3 tiers and bytes, DynamoDB units are counted."""
    settings = Settings(backend="moto", region="eu-west-1")
    with aws_backend(settings):
        kinesis = client("kinesis", settings)
        kinesis.create_stream(StreamName="meter", ShardCount=1)
        s3 = client("s3", settings)
        s3.create_bucket(
            Bucket="meter-bucket",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        meter = CostMeter()

        with meter.recording(kinesis, s3):
            kinesis.put_records(
                StreamName="meter",
                Records=[
                    {"Data": b"x" * 100, "PartitionKey": "m1"},
                    {"Data": b"x" * 30_000, "PartitionKey": "m2"},
                ],
            )
            s3.put_object(Bucket="meter-bucket", Key="k", Body=b"12345")
            s3.get_object(Bucket="meter-bucket", Key="k")
        s3.put_object(Bucket="meter-bucket", Key="after", Body=b"1")

    units = meter.usage.units
    assert units["kinesis.put_payload_unit"] == 1 + 2
    assert units["s3.tier1_request"] == 1
    assert units["s3.tier2_request"] == 1
    assert units["s3.bytes_written"] == 5


def test_meter_adds_lambda_gb_seconds_rounded_up_to_milliseconds() -> None:
    """Check invocations count once each and duration is billed per started ms."""
    meter = CostMeter()

    meter.add_lambda([0.0101, 0.5], memory_mb=1024)

    assert meter.usage.units["lambda.request"] == 2
    assert meter.usage.units["lambda.gb_second"] == pytest.approx(0.011 + 0.5)


def test_estimate_scales_requests_linearly_to_fleet_and_month() -> None:
    """Check a request count doubles with the fleet and shards are sized by rate."""
    usage = Usage()
    usage.units["dynamodb.write_request_unit"] = 1_000_000
    usage.units["iot.message"] = 3600
    prices = load_prices()

    small = estimate(usage, prices, run_machines=1, run_hours=1, fleet_machines=10)
    large = estimate(usage, prices, run_machines=1, run_hours=1, fleet_machines=20)

    def cost(table: pd.DataFrame, item: str) -> float:
        return float(table.set_index("item").loc[item, "cost_month_usd"])

    writes = cost(small, "dynamodb.write_request_unit")
    assert writes == pytest.approx(10 * 730 * 0.625)
    assert cost(large, "dynamodb.write_request_unit") == pytest.approx(2 * writes)
    assert cost(small, "kinesis.shard_hour") == pytest.approx(730 * 0.015)


def test_price_table_is_dated_and_cites_sources() -> None:
    """Check every price has a date, a region and an https source."""
    prices = load_prices()

    assert prices["as_of"].notna().all()
    assert (prices["region"] == "us-east-1").all()
    assert prices["source"].str.startswith("https://").all()
    assert (prices["usd_per_unit"] > 0).all()


def test_estimate_rejects_non_positive_sizes() -> None:
    """Check a fleet of zero machines is refused with the value named."""
    with pytest.raises(ValueError, match="fleet_machines must be positive, got 0"):
        estimate(Usage(), load_prices(), run_machines=1, run_hours=1, fleet_machines=0)
