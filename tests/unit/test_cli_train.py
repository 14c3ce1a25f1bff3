"""Tests of ``smartfactory train`` and ``smartfactory explain``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.cli import main
from smartfactory_lib.ml.artifacts import load_bundle
from smartfactory_lib.simulation import simulate
from smartfactory_lib.simulation.store import save_run

RATES = {"bearing_wear": 0.5, "overheating": 0.5, "electrical": 0.2}


@pytest.fixture(scope="module")
def table_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CSV whose label depends on the product of two columns with spaces."""
    rng = np.random.default_rng(1)
    n = 500
    frame = pd.DataFrame(
        {
            "Speed [rpm]": rng.uniform(1, 10, n),
            "Torque [Nm]": rng.uniform(1, 10, n),
            "Type": rng.choice(["L", "M", "H"], n),
            "ratio": rng.uniform(0, 1, n),
        }
    )
    frame["failed"] = (frame["Speed [rpm]"] * frame["Torque [Nm]"] > 60).astype(int)
    path = tmp_path_factory.mktemp("table") / "sensors.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stored simulation run with frequent failures."""
    sim = simulate(8, 24, rate_hz=1 / 60, seed=4, failure_rates=RATES)
    folder = tmp_path_factory.mktemp("run")
    save_run(folder, readings=sim.readings, failures=sim.failures, layout=sim.layout)
    return folder


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return dict(json.loads(capsys.readouterr().out))


def test_train_on_a_table_prints_the_metrics(
    table_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the JSON summary, the derived feature and the model folder."""
    code = main(
        [
            "train",
            "--data",
            str(table_file),
            "--label",
            "failed",
            "--features",
            "Speed [rpm],Torque [Nm],Type",
            "--derive",
            "work=`Speed [rpm]` * `Torque [Nm]`",
            "--trees",
            "30",
            "--out",
            str(tmp_path / "model"),
            "--json",
        ]
    )

    summary = _json(capsys)
    assert code == 0
    for key in ("f1", "precision", "recall", "pr_auc", "n_rows", "n_features"):
        assert key in summary
    assert summary["n_rows"] == 500
    assert summary["n_features"] == 4
    assert summary["f1"] > 0.8
    assert summary["onnx_max_abs_diff"] <= 1e-5
    bundle = load_bundle(tmp_path / "model")
    assert bundle.features[-1] == "work"
    assert (tmp_path / "model" / "model_card.md").exists()


def test_train_without_features_uses_numeric_columns(
    table_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that the default features are the numeric non-label columns."""
    code = main(
        ["train", "--data", str(table_file), "--label", "failed", "--trees", "10"]
        + ["--out", str(tmp_path / "m"), "--json"]
    )

    assert code == 0
    assert _json(capsys)["n_features"] == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--label", "nope"], "label column 'nope' not found"),
        (["--label", "ratio"], "must be binary 0/1"),
        (["--label", "failed", "--features", "ratio,ghost"], "not found: ghost"),
        (["--label", "failed", "--derive", "x=ghost * 2"], "cannot derive x"),
        (["--label", "failed", "--derive", "no equals sign"], "NAME=EXPR"),
        ([], "--label is required"),
    ],
)
def test_train_errors_exit_2_naming_the_problem(
    table_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    """Check that a bad column, label or expression exits 2 with its name."""
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--data", str(table_file), "--out", str(tmp_path), *extra])

    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "data not found"),
        ("table.txt", "a,b\n1,0\n", "must end in .csv or .parquet"),
        ("broken.parquet", "not parquet", "cannot read"),
    ],
)
def test_train_refuses_unreadable_files(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | None,
    message: str,
) -> None:
    """Check that a missing, unknown or corrupt file exits 2."""
    path = tmp_path / name
    if content is not None:
        path.write_text(content)

    with pytest.raises(SystemExit) as stopped:
        main(["train", "--data", str(path), "--label", "b", "--out", str(tmp_path)])

    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_train_and_explain_a_run(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a run trains the factory model and its alerts get reasons."""
    model = tmp_path / "model"
    code = main(
        ["train", "--data", str(run_folder), "--trees", "20", "--depth", "8"]
        + ["--out", str(model), "--json"]
    )
    trained = _json(capsys)

    explained_code = main(
        ["explain", "--model", str(model), "--data", str(run_folder)]
        + ["--limit", "5", "--json"]
    )
    explained = _json(capsys)

    assert code == explained_code == 0
    assert trained["kind"] == "factory"
    assert trained["evaluation"] == "later readings of held-out machines"
    assert explained["n_rows"] == 8 * 24 * 60
    assert explained["n_alerts"] > 0
    alert = explained["alerts"][0]
    assert alert["machine_id"].startswith("m")
    assert "normal" in alert["reason_1"]
    assert len(explained["alerts"]) == min(5, explained["n_alerts"])


def test_train_on_a_run_refuses_table_options(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that --label with a run folder is a clear error."""
    with pytest.raises(SystemExit) as stopped:
        main(
            ["train", "--data", str(run_folder), "--label", "x", "--out", str(tmp_path)]
        )

    assert stopped.value.code == 2
    assert "apply to tables only" in capsys.readouterr().err


def test_explain_needs_a_model_folder(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check that a folder without a model is named."""
    with pytest.raises(SystemExit) as stopped:
        main(["explain", "--model", str(tmp_path), "--data", str(run_folder)])

    assert stopped.value.code == 2
    assert "is not a model folder: model.json is missing" in capsys.readouterr().err
