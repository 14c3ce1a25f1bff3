"""Athena-style SQL over the curated zone, with DuckDB as the local stand-in.

moto accepts Athena calls but runs no SQL, so the book queries the curated
zone with DuckDB instead: :func:`mirror` copies the objects of a prefix from
S3 (any backend) to a local folder with the same keys, and DuckDB reads the
Hive-partitioned Parquet from there. DuckDB's own S3 support needs an
extension download, which this offline setting does not allow.

Athena bills the bytes it reads from S3. :func:`scanned_bytes` computes that
figure the way a columnar engine reads: for Parquet, the compressed column
chunks of the columns a query touches, in the files left after partition
pruning (row-group skipping by statistics is not modelled, so the figure is
an upper bound); for CSV, every byte of every file. :func:`compare_layouts`
asks one question of the same readings stored as CSV, as one unpartitioned
Parquet file and as the partitioned curated zone, and reports both the
answers (which must agree) and the bytes each layout makes the engine read.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from .storage import list_keys

__all__ = [
    "Question",
    "compare_layouts",
    "curated_glob",
    "mirror",
    "scanned_bytes",
    "write_layouts",
]

logger = logging.getLogger(__name__)


def mirror(s3: Any, bucket: str, prefix: str, folder: Path | str) -> Path:
    """Download every object under ``prefix`` into ``folder``, keeping keys.

    Parameters
    ----------
    s3 : botocore client
        An S3 client.
    bucket, prefix : str
        What to copy.
    folder : Path or str
        Local destination; created if missing.

    Returns
    -------
    Path
        ``folder / prefix``, the local root of the copied objects.
    """
    root = Path(folder)
    for key in list_keys(s3, bucket, prefix):
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
    return root / prefix


def scanned_bytes(files: Iterable[Path], columns: Iterable[str] | None) -> int:
    """Bytes a columnar engine reads to get ``columns`` out of ``files``.

    Parameters
    ----------
    files : iterable of Path
        Parquet or CSV files the query cannot skip.
    columns : iterable of str or None
        Columns the query reads; None means every column. Ignored for CSV,
        which must be read whole.

    Returns
    -------
    int
        For Parquet, the compressed size of the needed column chunks plus
        the footer; for CSV, the file size.
    """
    wanted = None if columns is None else set(columns)
    total = 0
    for path in files:
        if path.suffix != ".parquet":
            total += path.stat().st_size
            continue
        metadata = pq.ParquetFile(path).metadata
        total += metadata.serialized_size
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                if wanted is None or chunk.path_in_schema in wanted:
                    total += chunk.total_compressed_size
    return total


@dataclass(frozen=True)
class Question:
    """One analyst's question, asked of every layout.

    Parameters
    ----------
    site, date : str
        The site and the day (``YYYY-MM-DD``).
    hour : int
        The hour of the day (UTC).
    """

    site: str
    date: str
    hour: int

    columns = ("machine_id", "vibration_mm_s", "temperature_c")

    def __post_init__(self) -> None:
        # The values are written into SQL text below, so they are checked here.
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", self.site):
            raise ValueError(f"site must be letters, digits, - or _, got {self.site!r}")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.date):
            raise ValueError(f"date must be YYYY-MM-DD, got {self.date!r}")
        if not (isinstance(self.hour, int) and 0 <= self.hour <= 23):
            raise ValueError(f"hour must be an integer from 0 to 23, got {self.hour!r}")

    def sql(self, source: str, pruned: bool) -> str:
        """The SQL for one layout; ``pruned`` filters on partition columns."""
        if pruned:
            where = (
                f"site = '{self.site}' AND date = '{self.date}' AND hour = {self.hour}"
            )
        else:
            start = pd.Timestamp(f"{self.date} {self.hour:02d}:00", tz="UTC")
            end = start + pd.Timedelta(hours=1)
            where = (
                f"site = '{self.site}' AND ts >= TIMESTAMPTZ '{start.isoformat()}' "
                f"AND ts < TIMESTAMPTZ '{end.isoformat()}'"
            )
        return (
            "SELECT machine_id, count(*) AS readings, "
            "round(avg(vibration_mm_s), 4) AS mean_vibration_mm_s, "
            "round(max(temperature_c), 4) AS max_temperature_c "
            f"FROM {source} WHERE {where} GROUP BY machine_id ORDER BY machine_id"  # nosec B608: values checked in __post_init__
        )


def _query(sql: str) -> pd.DataFrame:
    relation = duckdb.sql(sql)
    if relation is None:
        raise ValueError(f"query returned no result set: {sql[:80]!r}")
    return relation.df()


def write_layouts(curated_root: Path, folder: Path) -> dict[str, Path]:
    """Write the curated readings again as one CSV and one unpartitioned Parquet.

    Parameters
    ----------
    curated_root : Path
        Local mirror of the curated zone (Hive-partitioned Parquet).
    folder : Path
        Where to write ``readings.csv`` and ``readings.parquet``.

    Returns
    -------
    dict
        ``{"csv": path, "parquet": path, "partitioned": curated_root}``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    glob = str(curated_root / "**" / "*.parquet")
    frame = _query(
        f"SELECT * EXCLUDE (date, hour) FROM read_parquet('{glob}', "  # nosec B608: a path we built
        "hive_partitioning = true, hive_types_autocast = false) ORDER BY ts, machine_id"
    )
    csv_path = folder / "readings.csv"
    parquet_path = folder / "readings.parquet"
    frame.to_csv(csv_path, index=False)
    frame.to_parquet(parquet_path, index=False)
    return {"csv": csv_path, "parquet": parquet_path, "partitioned": curated_root}


def compare_layouts(layouts: dict[str, Path], question: Question) -> pd.DataFrame:
    """Ask one question of each layout; report answers, bytes scanned and time.

    Parameters
    ----------
    layouts : dict
        From :func:`write_layouts`.
    question : Question
        The question.

    Returns
    -------
    pandas.DataFrame
        One row per layout: ``layout``, ``files_read``, ``bytes_scanned``,
        ``seconds``, ``rows`` and ``answer`` (the result as records).
    """
    partitioned = layouts["partitioned"]
    partition = partitioned / (
        f"site={question.site}/date={question.date}/hour={question.hour:02d}"
    )
    plans = [
        (
            "csv",
            f"read_csv('{layouts['csv']}', auto_detect = true)",
            False,
            [layouts["csv"]],
            None,
        ),
        (
            "parquet",
            f"read_parquet('{layouts['parquet']}')",
            False,
            [layouts["parquet"]],
            (*question.columns, "site", "ts"),
        ),
        (
            "parquet, partition-pruned",
            f"read_parquet('{partitioned / '**' / '*.parquet'}', "
            "hive_partitioning = true, hive_types_autocast = false)",
            True,
            sorted(partition.glob("*.parquet")),
            question.columns,
        ),
    ]
    rows = []
    for name, source, pruned, files, columns in plans:
        sql = question.sql(source, pruned)
        if pruned:
            sql = sql.replace(
                f"hour = {question.hour}", f"hour = '{question.hour:02d}'"
            )
        started = time.perf_counter()
        answer = _query(sql)
        seconds = time.perf_counter() - started
        rows.append(
            {
                "layout": name,
                "files_read": len(files),
                "bytes_scanned": scanned_bytes(files, columns),
                "seconds": seconds,
                "rows": int(answer["readings"].sum()) if len(answer) else 0,
                "answer": answer.to_dict("records"),
            }
        )
    table = pd.DataFrame(rows)
    logger.info("Compared %d layouts for %s", len(table), question)
    return table


def curated_glob(root: Path) -> str:
    """Return the DuckDB glob of a local curated zone mirror."""
    return str(root / "**" / "*.parquet")
