"""Tests of the Athena stand-in: same answers, fewer bytes with better layouts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from smartfactory_lib.cloud.handler import score
from smartfactory_lib.cloud.queries import (
    Question,
    compare_layouts,
    mirror,
    scanned_bytes,
    write_layouts,
)
from smartfactory_lib.cloud.scoring import ThresholdScorer
from smartfactory_lib.cloud.storage import (
    CURATED_PREFIX,
    compact,
    list_keys,
    read_curated,
    write_curated,
)
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.core.schema import LABELS
from smartfactory_lib.simulation import FactoryConfig, FactorySimulator


@pytest.fixture
def curated(tmp_path: Path, seed: int) -> Path:
    """Three hours of six machines written to a moto bucket and mirrored locally."""
    config = FactoryConfig(n_machines=6, rate_hz=0.2, seed=seed)
    readings = FactorySimulator(config, 3).run().readings
    frame = score(
        readings.drop(columns=["anomaly", "failure_mode", "time_to_failure_s"]),
        ThresholdScorer(),
    )
    settings = Settings(backend="moto", region="eu-west-1")
    with aws_backend(settings):
        s3 = client("s3", settings)
        s3.create_bucket(
            Bucket="curated-test",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        write_curated(s3, "curated-test", frame, "test", file_rows=1000)
        return mirror(s3, "curated-test", CURATED_PREFIX, tmp_path / "lake")


def test_mirror_keeps_hive_partitions_of_sized_files(curated: Path) -> None:
    """Check one folder per site, date and hour, holding files of at most 1000 rows."""
    partitions = sorted(str(p.relative_to(curated)) for p in curated.glob("*/*/*"))
    files = sorted((curated / partitions[0]).glob("*.parquet"))

    assert partitions == [f"site=s01/date=2026-01-05/hour={h:02d}" for h in range(3)]
    rows = [pq.ParquetFile(f).metadata.num_rows for f in files]
    assert rows == [1000, 1000, 1000, 1000, 320]


def test_layouts_agree_and_pruning_scans_least(curated: Path, tmp_path: Path) -> None:
    """Check CSV, Parquet and pruned Parquet give one answer at falling cost."""
    layouts = write_layouts(curated, tmp_path / "flat")

    table = compare_layouts(layouts, Question("s01", "2026-01-05", 1))

    answers = [pd.DataFrame(a) for a in table["answer"]]
    for answer in answers[1:]:
        pd.testing.assert_frame_equal(answer, answers[0], check_dtype=False)
    assert (table["rows"] == 6 * 720).all()
    scanned = table.set_index("layout")["bytes_scanned"]
    assert scanned["csv"] > scanned["parquet"] > scanned["parquet, partition-pruned"]


def test_scanned_bytes_counts_only_requested_columns(curated: Path) -> None:
    """Check fewer columns mean fewer bytes, and CSV always counts whole files."""
    files = sorted(curated.rglob("*.parquet"))

    narrow = scanned_bytes(files, ["vibration_mm_s"])
    wide = scanned_bytes(files, None)

    assert 0 < narrow < wide
    csv = curated.parent / "x.csv"
    csv.write_text("a,b\n1,2\n")
    assert scanned_bytes([csv], ["a"]) == csv.stat().st_size


def test_compact_merges_small_files_and_heals_repeats(seed: int) -> None:
    """Check compaction leaves one sorted object per partition and no repeats."""
    config = FactoryConfig(n_machines=3, rate_hz=0.2, seed=seed)
    readings = FactorySimulator(config, 2).run().readings
    frame = score(readings.drop(columns=list(LABELS)), ThresholdScorer())
    settings = Settings(backend="moto", region="eu-west-1")
    with aws_backend(settings):
        s3 = client("s3", settings)
        s3.create_bucket(
            Bucket="compact-test",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        write_curated(s3, "compact-test", frame, "a", file_rows=500)
        # A second copy of the first hour stands for a crash in mid-compaction.
        write_curated(s3, "compact-test", frame.iloc[:100], "b", file_rows=500)

        result = compact(s3, "compact-test", file_rows=10_000)
        stored = read_curated(s3, "compact-test")
        objects = list_keys(s3, "compact-test", CURATED_PREFIX)

    assert result.partitions == 2
    assert result.objects_after == len(objects) == 2
    assert result.objects_before > result.objects_after
    assert len(stored) == len(frame)
    assert not stored.duplicated(["machine_id", "seq"]).any()
