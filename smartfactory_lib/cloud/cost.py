"""What the run would cost on AWS, from the requests it actually made.

:class:`CostMeter` listens to every boto3 call made while it records (through
botocore's ``before-parameter-build`` event on the default session, so clients created
anywhere are counted) and turns each call into the units AWS bills: Kinesis
PUT payload units (25 KB chunks per record), S3 requests by tier and bytes
written, DynamoDB read and write request units, SQS and SNS requests. Lambda
is run in-process, so its invocations and duration come from the poller, and
the IoT Core messages and rule actions from the pipeline's counts.

:func:`estimate` multiplies the units by the dated price table in
``data/aws_prices.csv`` and scales them from the run to a month of a stated
fleet. The prices are on-demand list prices of one region on the table's date,
without free tiers, discounts, taxes or data transfer; the Lambda duration is
measured on this machine with moto answering in the same process, so it is an
upper bound of what the function would take on AWS. KMS requests made by S3,
Kinesis and SQS on our behalf are not visible to boto3 and are left out.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from ..core.aws import event_hooks

__all__ = ["PRICES_PATH", "CostMeter", "Usage", "estimate", "load_prices"]

logger = logging.getLogger(__name__)

PRICES_PATH: Final = Path(__file__).resolve().parents[2] / "data" / "aws_prices.csv"
"""The dated price table shipped with the book."""

_KB: Final = 1024
_PAYLOAD_UNIT: Final = 25 * _KB
_S3_TIER1: Final = frozenset(
    {
        "PutObject",
        "CopyObject",
        "CompleteMultipartUpload",
        "ListObjectsV2",
        "ListObjects",
    }
)
_S3_TIER2: Final = frozenset({"GetObject", "HeadObject", "SelectObjectContent"})
_MONTH_HOURS: Final = 730.0


@dataclass
class Usage:
    """Billable units counted during a run.

    Attributes
    ----------
    units : dict
        ``"service.item" -> quantity``, keyed like the price table.
    calls : collections.Counter
        ``"service.Operation" -> calls``, for inspection.
    bytes_put : int
        Bytes written to Kinesis (data and partition keys).
    """

    units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)
    bytes_put: int = 0


def _body_size(body: Any) -> int:
    """Size of an S3 body: bytes, or the file-like object botocore wraps them in."""
    if isinstance(body, bytes | bytearray):
        return len(body)
    if hasattr(body, "getbuffer"):
        return int(body.getbuffer().nbytes)
    return 0


def _item_kb(item: dict[str, Any]) -> int:
    return max(1, math.ceil(len(json.dumps(item, default=str)) / _KB))


class CostMeter:
    """Count billable units of every boto3 call while recording.

    Examples
    --------
    >>> meter = CostMeter()
    >>> with meter.recording():  # doctest: +SKIP
    ...     run_pipeline(...)
    """

    def __init__(self) -> None:
        self.usage = Usage()

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        try:
            self._count(model, params)
        except Exception:  # metering must never break the call it observes
            logger.exception("Could not meter a call of %s", model.name)

    def _count(self, model: Any, params: dict[str, Any]) -> None:
        service = model.service_model.service_name
        operation = model.name
        units = self.usage.units
        self.usage.calls[f"{service}.{operation}"] += 1
        if service == "kinesis" and operation in ("PutRecords", "PutRecord"):
            records = params.get("Records") or [params]
            for record in records:
                size = len(record["Data"]) + len(record["PartitionKey"].encode())
                units["kinesis.put_payload_unit"] += math.ceil(size / _PAYLOAD_UNIT)
                self.usage.bytes_put += size
        elif service == "s3":
            if operation in _S3_TIER1:
                units["s3.tier1_request"] += 1
            elif operation in _S3_TIER2:
                units["s3.tier2_request"] += 1
            body = params.get("Body")
            if operation == "PutObject" and body is not None:
                units["s3.bytes_written"] += _body_size(body)
        elif service == "dynamodb":
            if operation == "BatchWriteItem":
                for requests in params["RequestItems"].values():
                    for request in requests:
                        item = request.get("PutRequest", {}).get("Item", {})
                        units["dynamodb.write_request_unit"] += _item_kb(item)
            elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
                units["dynamodb.write_request_unit"] += _item_kb(
                    params.get("Item") or params.get("ExpressionAttributeValues") or {}
                )
            elif operation == "BatchGetItem":
                for request in params["RequestItems"].values():
                    units["dynamodb.read_request_unit"] += 0.5 * len(request["Keys"])
            elif operation in ("GetItem", "Query", "Scan"):
                units["dynamodb.read_request_unit"] += 0.5
        elif service == "sqs":
            units["sqs.request"] += 1
        elif service == "sns" and operation == "Publish":
            units["sns.publish"] += 1

    @contextmanager
    def recording(self, *clients: Any) -> Iterator[CostMeter]:
        """Count the boto3 calls made inside the block.

        Clients created inside the block are counted automatically; clients
        that already exist must be passed in, because botocore gives each
        client its own copy of the session's event hooks when it is created.
        """
        with event_hooks([("before-parameter-build", self._before_call)], *clients):
            yield self

    def add_lambda(self, durations_s: Iterable[float], memory_mb: int) -> None:
        """Add Lambda invocations and their GB-seconds (duration x memory)."""
        for seconds in durations_s:
            self.usage.units["lambda.request"] += 1
            billed = math.ceil(seconds * 1000.0) / 1000.0
            self.usage.units["lambda.gb_second"] += billed * memory_mb / 1024.0

    def add_iot(self, messages: int, forwarded: int) -> None:
        """Add IoT Core messages, rules triggered and Kinesis actions."""
        self.usage.units["iot.message"] += messages
        self.usage.units["iot.rule_triggered"] += messages
        self.usage.units["iot.rule_action"] += forwarded


def load_prices(path: Path | str | None = None) -> pd.DataFrame:
    """Read the price table; each row is ``service, item, unit, usd_per_unit, ...``.

    Raises
    ------
    FileNotFoundError
        If the table is missing.
    ValueError
        If a required column is missing.
    """
    prices = pd.read_csv(path or PRICES_PATH)
    required = {"service", "item", "unit", "usd_per_unit", "units_per_price", "as_of"}
    missing = required - set(prices.columns)
    if missing:
        raise ValueError(
            f"price table needs column(s) {', '.join(sorted(missing))}, got "
            f"{', '.join(prices.columns)}"
        )
    prices["key"] = prices["service"] + "." + prices["item"]
    return prices.set_index("key")


def estimate(
    usage: Usage,
    prices: pd.DataFrame,
    *,
    run_machines: int,
    run_hours: float,
    fleet_machines: int,
    shards: int | None = None,
    month_hours: float = _MONTH_HOURS,
) -> pd.DataFrame:
    """Price a run's usage and scale it to a month of a fleet.

    Request-driven units scale with machines and hours. Shard-hours do not:
    the month needs enough shards for the fleet's write rate (1,000 records
    or 1 MB per second per shard), all month. S3 storage is one month's
    curated and raw data, billed for a whole month (an upper bound for the
    first month).

    Parameters
    ----------
    usage : Usage
        Units counted during the run.
    prices : pandas.DataFrame
        From :func:`load_prices`.
    run_machines : int
        Machines in the run.
    run_hours : float
        Simulated hours of the run.
    fleet_machines : int
        Machines of the fleet to price.
    shards : int or None, default None
        Shards to price; sized from the fleet's write rate when None.
    month_hours : float, default 730
        Hours in a billing month.

    Returns
    -------
    pandas.DataFrame
        One row per price item: ``quantity_run``, ``cost_run_usd``,
        ``quantity_month``, ``cost_month_usd``, ``unit``, ``as_of``,
        ``region``.

    Raises
    ------
    ValueError
        If a size or duration is not positive.
    """
    for name, value in (
        ("run_machines", run_machines),
        ("run_hours", run_hours),
        ("fleet_machines", fleet_machines),
    ):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    scale = (fleet_machines / run_machines) * (month_hours / run_hours)
    quantities = dict(usage.units)
    run_seconds = run_hours * 3600.0
    records = quantities.get("iot.message", 0.0)
    if shards is None:
        records_per_s = records * fleet_machines / run_machines / run_seconds
        bytes_per_s = usage.bytes_put * fleet_machines / run_machines / run_seconds
        shards = max(1, math.ceil(records_per_s / 1000), math.ceil(bytes_per_s / 2**20))
    rows = []
    for key, price in prices.iterrows():
        if key == "kinesis.shard_hour":
            run_quantity = shards * run_hours
            month_quantity = shards * month_hours
        elif key == "s3.storage_gb_month":
            gigabytes = quantities.get("s3.bytes_written", 0.0) / 2**30
            run_quantity = gigabytes * run_hours / month_hours
            month_quantity = gigabytes * scale
        elif key == "athena.tb_scanned":
            continue
        else:
            run_quantity = quantities.get(str(key), 0.0)
            month_quantity = run_quantity * scale
        per_unit = float(price["usd_per_unit"]) / float(price["units_per_price"])
        rows.append(
            {
                "item": key,
                "unit": price["unit"],
                "quantity_run": run_quantity,
                "cost_run_usd": run_quantity * per_unit,
                "quantity_month": month_quantity,
                "cost_month_usd": month_quantity * per_unit,
                "region": price.get("region", ""),
                "as_of": price["as_of"],
            }
        )
    table = pd.DataFrame(rows)
    logger.info(
        "Estimated %.2f USD a month for %d machines (%d shards)",
        table["cost_month_usd"].sum(),
        fleet_machines,
        shards,
    )
    return table
