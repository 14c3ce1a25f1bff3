"""Tests of ``smartfactory simulate``: output, JSON summary and bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from smartfactory_lib.cli import main
from smartfactory_lib.faults import FAULT_TYPES
from smartfactory_lib.simulation.store import load_run


def test_simulate_writes_a_run_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the run folder and the JSON summary agree with each other."""
    out = tmp_path / "run"

    code = main(
        [
            "simulate",
            "--machines",
            "4",
            "--hours",
            "0.5",
            "--fault-rate",
            "0.18",
            "--seed",
            "3",
            "--out",
            str(out),
            "--json",
        ]
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {
        "readings",
        "machines",
        "seconds",
        "readings_per_s",
        "faults",
        "out",
    } <= set(summary)
    run = load_run(out)
    assert summary["readings"] == len(run.readings)
    assert summary["machines"] == run.readings["machine_id"].nunique() == 4
    assert set(summary["faults"]) == set(FAULT_TYPES)
    assert summary["faults"]["spike"] == round(0.02 * 4 * 1800)
    assert sum(summary["faults"].values()) == len(run.faults)
    assert summary["readings"] == 4 * 1800 + summary["faults"]["duplicate"]
    assert isinstance(run.readings["ts"].dtype, pd.DatetimeTZDtype)


def test_simulate_text_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the text summary says how many readings were written where."""
    main(["simulate", "--machines", "2", "--hours", "0.1", "--out", str(tmp_path)])

    text = capsys.readouterr().out
    assert "Simulated 720 readings from 2 machines" in text
    assert str(tmp_path) in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--machines", "0", "--hours", "1"],
            "--machines: must be between 1 and 5000, got '0'",
        ),
        (
            ["--machines", "ten", "--hours", "1"],
            "--machines: must be a whole number between 1 and 5000, got 'ten'",
        ),
        (
            ["--machines", "2", "--hours", "9999"],
            "--hours: must be between 0.01 and 8784, got '9999'",
        ),
        (
            ["--machines", "2", "--hours", "1", "--rate-hz", "0"],
            "--rate-hz: must be between",
        ),
        (
            ["--machines", "2", "--hours", "1", "--fault-rate", "1.5"],
            "--fault-rate: must be between 0 and 1, got '1.5'",
        ),
        (["--hours", "1"], "the following arguments are required: --machines"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    """Check a bad argument exits 2 naming the argument, range and value."""
    with pytest.raises(SystemExit) as caught:
        main(["simulate", *arguments, "--out", str(tmp_path)])

    assert caught.value.code == 2
    assert message in capsys.readouterr().err


def test_out_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that writing a run over a file fails with exit code 2."""
    target = tmp_path / "file"
    target.write_text("x")

    with pytest.raises(SystemExit) as caught:
        main(["simulate", "--machines", "1", "--hours", "0.1", "--out", str(target)])

    assert caught.value.code == 2
    assert "out must be a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--minutes", "0.5"], "--minutes: must be between 1 and 1440, got '0.5'"),
        (["--seed", "-1"], "--seed: must be between 0 and 4294967295, got '-1'"),
        (["--qos", "2"], "--qos: must be between 0 and 1, got '2'"),
    ],
)
def test_stream_bad_arguments_exit_2_before_any_broker_starts(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    """Check the stream command refuses a bad argument with its range and value."""
    with pytest.raises(SystemExit) as caught:
        main(["stream", *arguments])

    assert caught.value.code == 2
    assert message in capsys.readouterr().err
