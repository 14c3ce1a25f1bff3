"""Tests of the SLO file, error budgets, burn rates and the Terraform alarms."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.operations.slo import (
    SLOS_PATH,
    TERRAFORM_PATH,
    burn_alerts,
    burn_rate,
    burn_series,
    error_budget,
    evaluate_expression,
    events,
    load_slos,
    percentiles,
    terraform_disagreements,
)


@pytest.fixture(scope="module")
def slos():
    """The repository's SLO file."""
    return load_slos()


def test_load_slos_reads_the_repository_file(slos) -> None:
    """Check that the SLO file defines the four SLIs and the module's alarms."""
    assert {s.name for s in slos.slos} == {
        "ingestion_latency",
        "inference_time",
        "alert_delivery",
        "completeness",
    }
    assert all(0 < s.error_budget < 1 for s in slos.slos)
    assert len(slos.alarms) >= 5
    assert slos.rules[0].short_window_s < slos.rules[0].long_window_s


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("objective: 0.99\n", "objective: 1.5\n", "objective must be between 0 and 1"),
        ("comparison: GreaterThanThreshold", "comparison: Above", "comparison must"),
        ("severity: ticket\n", "severity: later\n", "severity must be one of"),
        ("    threshold: 60.0\n", "", "needs 'threshold'"),
    ],
)
def test_load_slos_rejects_bad_entries(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """Check that a bad entry is refused with what was expected and what arrived."""
    path = tmp_path / "slos.yaml"
    path.write_text(SLOS_PATH.read_text().replace(old, new, 1))

    with pytest.raises(ValueError, match=message):
        load_slos(path)


def test_events_judge_values_against_the_threshold(slos) -> None:
    """Check that values above the threshold and NaN are bad events."""
    slo = slos.slo("ingestion_latency")

    frame = events(slo, [1.0, 2.0, 3.0], [1.0, slo.threshold + 1, np.nan])

    assert frame["good"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="same length"):
        events(slo, [1.0], [1.0, 2.0])


def test_percentiles_match_numpy(slos, seed: int) -> None:
    """Check the reported p50, p95 and p99 against numpy's percentiles."""
    rng = np.random.default_rng(seed)
    values = rng.exponential(2.0, 1000)
    frame = events(slos.slo("ingestion_latency"), np.arange(1000.0), values)

    table = percentiles(frame).set_index("slo")

    assert table.loc["ingestion_latency", "events"] == 1000
    for q in (50, 95, 99):
        assert table.loc["ingestion_latency", f"p{q}"] == pytest.approx(
            np.percentile(values, q)
        )


def test_error_budget_counts_bad_events(slos) -> None:
    """Check that 2 bad events in 100 spend twice a 1 % budget."""
    slo = slos.slo("ingestion_latency")
    values = np.zeros(100)
    values[:2] = slo.threshold * 10
    frame = events(slo, np.arange(100.0), values)

    budget = error_budget(slos, frame).set_index("slo")

    row = budget.loc["ingestion_latency"]
    assert row["bad"] == 2
    assert row["budget_spent"] == pytest.approx(2.0)
    assert not row["met"]
    assert budget.loc["completeness", "events"] == 0
    assert budget.loc["completeness", "met"]


def test_burn_rate_uses_only_the_window(slos) -> None:
    """Check that old bad events leave the window; the rate is bad share / budget."""
    slo = slos.slo("ingestion_latency")
    times = np.arange(0.0, 200.0)
    values = np.where(times < 100, slo.threshold * 2, 0.0)
    frame = events(slo, times, values)

    assert burn_rate(slo, frame, 50.0, 199.0) == 0.0
    assert burn_rate(slo, frame, 200.0, 199.0) == pytest.approx(0.5 / slo.error_budget)
    with pytest.raises(ValueError, match="window_s must be positive"):
        burn_rate(slo, frame, 0.0, 199.0)


def test_burn_alerts_fire_only_when_both_windows_burn(slos) -> None:
    """Check that a fast burn pages and a recovered short window stops it."""
    slo = slos.slo("completeness")
    times = np.arange(0.0, 3600.0, 10.0)
    frame = events(slo, times, np.ones_like(times))

    burning = burn_alerts(slos, frame, now_s=3590.0)
    recovered = burn_alerts(
        slos,
        pd.concat(
            [frame, events(slo, [3600.0 + i for i in range(400)], np.zeros(400))]
        ),
        now_s=3999.0,
        time_scale=1.0,
    )

    page = burning[(burning["slo"] == "completeness") & (burning["severity"] == "page")]
    assert page["firing"].all()
    fast = recovered[
        (recovered["slo"] == "completeness") & (recovered["limit"] == 14.4)
    ]
    assert not fast["firing"].any()
    assert not burning[burning["slo"] == "inference_time"]["firing"].any()


def test_burn_series_has_one_point_per_step(slos) -> None:
    """Check the sliding burn-rate series of a steady half-bad stream."""
    slo = slos.slo("completeness")
    frame = events(slo, np.arange(100.0), np.arange(100) % 2)

    series = burn_series(slo, frame, window_s=20.0, step_s=10.0)

    assert len(series) == 10
    assert series["burn_rate"].iloc[-1] == pytest.approx(
        0.5 / slo.error_budget, rel=0.1
    )


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        (
            "quarantined / MAX([quarantined + stored, 1])",
            {"quarantined": 5, "stored": 95},
            0.05,
        ),
        (
            "quarantined / MAX([quarantined + stored, 1])",
            {"quarantined": 0, "stored": 0},
            0.0,
        ),
        ("a * 1000 - b", {"a": 2, "b": 1}, 1999.0),
    ],
)
def test_evaluate_expression_computes_metric_math(
    expression: str, values: dict[str, float], expected: float
) -> None:
    """Check the metric-math subset the alarms use."""
    assert evaluate_expression(expression, values) == pytest.approx(expected)


def test_evaluate_expression_refuses_other_code() -> None:
    """Check that anything beyond arithmetic and MAX/MIN is refused."""
    with pytest.raises(ValueError, match="unsupported metric math"):
        evaluate_expression("__import__('os')", {})
    with pytest.raises(ValueError, match="names metric 'x'"):
        evaluate_expression("x + 1", {"y": 1.0})


def test_terraform_alarms_agree_with_the_slo_file(slos) -> None:
    """Check that every CloudWatch alarm in Terraform matches the SLO file."""
    assert terraform_disagreements(slos) == []


def test_terraform_disagreements_find_a_changed_threshold(slos, tmp_path: Path) -> None:
    """Check that a threshold edited in Terraform alone is reported."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_PATH, copy)
    variables = copy / "modules" / "cloudwatch" / "variables.tf"
    text = variables.read_text()
    variables.write_text(text.replace("default     = 0.05", "default     = 0.2", 1))

    problems = terraform_disagreements(slos, copy)

    assert problems == [
        "alarm quarantine-ratio: threshold should be 0.05, Terraform has 0.2"
    ]


def test_with_thresholds_changes_only_the_named_slo(slos) -> None:
    """Check that a drill copy tightens one threshold and leaves the file's alone."""
    drill = slos.with_thresholds(ingestion_latency=1.0)

    assert drill.slo("ingestion_latency").threshold == 1.0
    assert slos.slo("ingestion_latency").threshold != 1.0
    assert drill.slo("completeness") == slos.slo("completeness")
    with pytest.raises(KeyError, match="slo must be one of"):
        slos.with_thresholds(uptime=1.0)


def test_burn_rate_alarms_in_terraform_are_generated_from_the_slo_file(
    slos,
) -> None:
    """Check the committed burn-rate alarms: generated text, fmt layout, counts."""
    from smartfactory_lib.governance.terraform import format_problems, load_terraform
    from smartfactory_lib.operations.slo import burn_rate_alarms_hcl

    committed = TERRAFORM_PATH / "modules" / "cloudwatch" / "slo_alarms.tf"

    code = load_terraform(TERRAFORM_PATH)

    assert committed.read_text() == burn_rate_alarms_hcl(slos), "run make slo-alarms"
    pairs = len(slos.slos) * len(slos.rules)
    alarms = [
        b
        for b in code.find("resource", "aws_cloudwatch_metric_alarm", "cloudwatch")
        if b.name.startswith("burn_")
    ]
    assert len(alarms) == 2 * pairs
    assert len(code.find("resource", "aws_cloudwatch_composite_alarm")) == pairs
    assert format_problems(committed) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "threshold           = 0.144",
            "threshold           = 0.5",
            "burn-rate alarm burn_ingestion_latency_page_3600_long: threshold "
            "should be 0.144, Terraform has 0.5",
        ),
        (
            "period      = 3600",
            "period      = 60",
            "burn-rate alarm burn_ingestion_latency_page_3600_long: metric_query "
            "should be",
        ),
    ],
    ids=["threshold", "period"],
)
def test_burn_rate_alarms_disagree_when_edited_in_terraform(
    slos, tmp_path: Path, old: str, new: str, problem: str
) -> None:
    """Check that a burn-rate alarm changed in Terraform only is reported."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_PATH, copy)
    generated = copy / "modules" / "cloudwatch" / "slo_alarms.tf"
    generated.write_text(generated.read_text().replace(old, new, 1))

    problems = terraform_disagreements(slos, copy)

    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_burn_rate_alarms_missing_from_terraform_are_reported(
    slos, tmp_path: Path
) -> None:
    """Check that deleting the generated alarms fails the check, alarm by alarm."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM_PATH, copy)
    (copy / "modules" / "cloudwatch" / "slo_alarms.tf").unlink()

    problems = terraform_disagreements(slos, copy)

    pairs = len(slos.slos) * len(slos.rules)
    assert len(problems) == 3 * pairs
    assert all("missing in Terraform" in p for p in problems)
