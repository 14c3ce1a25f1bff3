"""One recorded run of the pipeline, and its data exported as CSV files.

:func:`record_run` runs :func:`~smartfactory_lib.cloud.pipeline.run_pipeline`
while the audit trail (:class:`~smartfactory_lib.governance.audit.AuditTrail`,
the local stand-in for CloudTrail's event history) and the cost meter
record every AWS call, then reads back from storage what the dashboard
chapter shows: the curated readings, the alerts, the quarantine reasons, the
audit events and the priced usage. :func:`export_csv` writes those tables as
CSV files, so that a reviewer can open them without running anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..cloud.cost import CostMeter, estimate, load_prices
from ..cloud.pipeline import PipelineRun, Transport, run_pipeline
from ..cloud.storage import read_alerts, read_curated, read_jsonl
from ..core.aws import client
from ..core.config import Settings
from ..governance.audit import AuditTrail

__all__ = ["RunRecord", "export_csv", "record_run", "summary"]

logger = logging.getLogger(__name__)


@dataclass
class RunRecord:
    """What one pipeline run left behind, as tables.

    Attributes
    ----------
    run : PipelineRun
        The run and its reconciliation.
    readings : pandas.DataFrame
        Curated readings, with ``anomaly_score`` and ``is_anomaly``.
    alerts : pandas.DataFrame
        The alerts table.
    quarantine : pandas.DataFrame
        One row per quarantined record: ``reason``, ``message``, ``arrival``.
    audit : pandas.DataFrame
        Every AWS call of the run (the audit trail).
    cost : pandas.DataFrame
        The run's priced usage, scaled to a month of ``fleet_machines``.
    """

    run: PipelineRun
    readings: pd.DataFrame
    alerts: pd.DataFrame
    quarantine: pd.DataFrame
    audit: pd.DataFrame
    cost: pd.DataFrame


def record_run(
    n_machines: int,
    hours: float,
    *,
    fault_rate: float = 0.0,
    seed: int = 7,
    settings: Settings | None = None,
    transport: Transport = "mqtt",
    fleet_machines: int = 100,
) -> RunRecord:
    """Run the pipeline with audit and cost recording; read the results back.

    Parameters
    ----------
    n_machines, hours, fault_rate, seed, transport
        As for :func:`~smartfactory_lib.cloud.pipeline.run_pipeline`.
    settings : Settings or None, default None
        Backend and names; the backend must be open.
    fleet_machines : int, default 100
        Fleet size the cost is scaled to.

    Returns
    -------
    RunRecord
        The run's tables.
    """
    settings = settings or Settings()
    trail = AuditTrail()
    meter = CostMeter()
    with trail.recording():
        run = run_pipeline(
            n_machines,
            hours,
            fault_rate=fault_rate,
            seed=seed,
            settings=settings,
            transport=transport,
            meter=meter,
        )
    s3 = client("s3", settings)
    resources = run.resources
    readings = read_curated(s3, resources.curated_bucket)
    if not readings.empty:
        readings = readings.sort_values(["ts", "machine_id"], ignore_index=True)
    quarantine = pd.DataFrame(
        read_jsonl(s3, resources.raw_bucket, settings.limits.quarantine_prefix),
        columns=["reason", "message", "arrival", "partition_key", "sequence_number"],
    )
    alerts = read_alerts(client("dynamodb", settings), resources.alerts_table)
    cost = estimate(
        meter.usage,
        load_prices(),
        run_machines=n_machines,
        run_hours=hours,
        fleet_machines=fleet_machines,
    )
    logger.info(
        "Recorded a run: %d readings, %d alerts, %d audit events",
        len(readings),
        len(alerts),
        len(trail.events),
    )
    return RunRecord(run, readings, alerts, quarantine, trail.frame(), cost)


def export_csv(
    record: RunRecord, folder: Path | str, extra: dict[str, pd.DataFrame] | None = None
) -> dict[str, Path]:
    """Write the run's readings, alerts, audit events and more as CSV files.

    Parameters
    ----------
    record : RunRecord
        From :func:`record_run`.
    folder : pathlib.Path or str
        Where to write; created when missing.
    extra : dict or None, default None
        More tables to write, by file stem (``{"slo_events": frame}``).

    Returns
    -------
    dict of str to pathlib.Path
        The files written, by stem: ``readings``, ``alerts``,
        ``audit_events``, ``quarantine``, ``cost`` and the extras.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, pd.DataFrame] = {
        "readings": record.readings,
        "alerts": record.alerts,
        "audit_events": record.audit,
        "quarantine": record.quarantine,
        "cost": record.cost,
        **(extra or {}),
    }
    written = {}
    for stem, frame in tables.items():
        path = folder / f"{stem}.csv"
        frame.to_csv(path, index=False)
        written[stem] = path
    logger.info("Exported %d tables to %s", len(written), folder)
    return written


def summary(record: RunRecord) -> dict[str, Any]:
    """Return the run's counts in one JSON-ready dict."""
    return {
        **record.run.summary(),
        "readings_rows": len(record.readings),
        "alerts_rows": len(record.alerts),
        "audit_events": len(record.audit),
    }
