"""Tests of the dashboard panels on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.core.schema import SIGNAL_NAMES
from smartfactory_lib.operations import panels
from smartfactory_lib.operations.slo import events, load_slos


@pytest.fixture
def readings(seed: int) -> pd.DataFrame:
    """Two machines, ten minutes at 1 Hz, with scores."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2026-01-05", periods=600, freq="s", tz="UTC")
    parts = []
    for machine in ("m0001", "m0002"):
        frame = pd.DataFrame({"machine_id": machine, "ts": ts})
        for signal in SIGNAL_NAMES:
            frame[signal] = rng.normal(10, 1, len(ts))
        frame["anomaly_score"] = rng.uniform(0, 1.2, len(ts))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def test_sensor_trends_draws_one_line_per_machine_and_signal(readings) -> None:
    """Check 2 machines x 2 signals = 4 traces of 10 one-minute means."""
    fig = panels.sensor_trends(readings, ("temperature_c", "power_kw"))

    assert len(fig.data) == 4
    assert all(len(trace.x) == 10 for trace in fig.data)
    with pytest.raises(ValueError, match="signals must be columns"):
        panels.sensor_trends(readings, ("colour",))


def test_alerts_table_and_viewer_show_every_alert(readings) -> None:
    """Check that each alert is a table row and a marker."""
    alerts = pd.DataFrame(
        {
            "machine_id": ["m0001", "m0002"],
            "ts": ["2026-01-05T00:01:00+00:00", "2026-01-05T00:05:00+00:00"],
            "score": [1.1, 1.2],
            "scorer": "threshold",
            "reasons": ["Hot\nvery hot", ""],
        }
    )

    table = panels.alerts_table(alerts)
    viewer = panels.alert_viewer(readings, alerts)

    assert len(table.data[0].cells.values[0]) == 2
    assert "Hot<br>very hot" in table.data[0].cells.values[-1][0]
    assert len(viewer.data[-1].x) == 2


def test_audit_viewer_separates_failed_calls() -> None:
    """Check that failed and successful calls become two stacked bars."""
    audit = pd.DataFrame(
        {
            "role": ["deployer", "deployer", "lambda.ingest"],
            "iam_action": ["kms:DescribeKey", "kms:DescribeKey", "s3:PutObject"],
            "outcome": ["NotFoundException", "success", "success"],
        }
    )

    fig = panels.audit_viewer(audit)

    assert sorted(trace.name for trace in fig.data) == ["failed", "succeeded"]
    assert "3 AWS calls" in fig.layout.title.text


def test_cost_panel_totals_the_month() -> None:
    """Check the title's total against the items."""
    cost = pd.DataFrame({"item": ["a", "b"], "cost_month_usd": [1.25, 2.5]})

    fig = panels.cost_panel(cost)

    assert "$3.75" in fig.layout.title.text


def test_budget_burn_plots_every_slo() -> None:
    """Check one burn curve per SLO with events and one budget bar per SLO."""
    slos = load_slos()
    slo = slos.slo("completeness")
    frame = events(slo, np.arange(100.0), np.arange(100) % 10 == 0)

    fig = panels.budget_burn(slos, frame, window_s=20, step_s=10)

    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(lines) == len(slos.slos)
    assert list(fig.data[-1].x) == [s.name for s in slos.slos]


def test_trace_waterfall_draws_each_stage_of_one_trace() -> None:
    """Check one bar per segment, offsets from the first start, and a bad id."""
    segments = pd.DataFrame(
        {
            "trace_id": ["t1", "t1", "t1", "t2"],
            "segment": ["device", "ingest", "score", "device"],
            "parent_id": [None, None, "abc", None],
            "start": [100.0, 100.5, 100.6, 200.0],
            "seconds": [0.0, 0.2, 0.01, 0.0],
            "machine_id": "canary-01",
            "seq": 7,
            "canary": [True, True, True, False],
        }
    )

    fig = panels.trace_waterfall(segments)

    assert list(fig.data[0].y) == ["device", "ingest", "  score"]
    assert list(fig.data[0].base) == pytest.approx([0.0, 500.0, 600.0])
    with pytest.raises(ValueError, match="trace_id must be one of"):
        panels.trace_waterfall(segments, "t9")
