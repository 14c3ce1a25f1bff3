"""Tests of the recorded run and its CSV export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from smartfactory_lib.cli import main
from smartfactory_lib.core.aws import aws_backend
from smartfactory_lib.core.config import Settings
from smartfactory_lib.operations.export import export_csv, record_run


def test_record_run_reads_back_what_the_pipeline_stored(tmp_path: Path) -> None:
    """Check that the exported tables reconcile with the run's own counts."""
    settings = Settings(backend="moto", prefix="exporttest", region="eu-west-1")
    with aws_backend(settings):
        record = record_run(
            2, 0.25, fault_rate=0.05, seed=3, settings=settings, transport="direct"
        )

    written = export_csv(record, tmp_path / "out", {"extra": pd.DataFrame({"a": [1]})})

    counts = record.run.reconciliation
    assert counts.balanced
    readings = pd.read_csv(written["readings"])
    assert len(readings) == counts.stored
    assert len(pd.read_csv(written["quarantine"])) == sum(counts.quarantined.values())
    audit = pd.read_csv(written["audit_events"])
    assert {"role", "action", "outcome", "iam_action"} <= set(audit.columns)
    assert (audit["action"] == "PutRecords").any()
    assert set(written) == {
        "readings",
        "alerts",
        "audit_events",
        "quarantine",
        "cost",
        "extra",
    }


def test_export_command_writes_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check ``smartfactory export --json``: exit 0, files named in the output."""
    out = tmp_path / "export"

    code = main(
        [
            "export",
            "--out",
            str(out),
            "--machines",
            "2",
            "--hours",
            "0.1",
            "--transport",
            "direct",
            "--json",
        ]
    )

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["balanced"] is True
    for path in result["files"].values():
        assert Path(path).is_file()


def test_export_command_rejects_a_bad_fault_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check the range error of --fault-rate (exit 2, names the value)."""
    with pytest.raises(SystemExit) as caught:
        main(["export", "--fault-rate", "1.5"])

    assert caught.value.code == 2
    assert "got '1.5'" in capsys.readouterr().err
