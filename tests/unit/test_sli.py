"""Tests of the SLI metrics the ingest function emits in embedded metric format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smartfactory_lib.cloud.sli import HANDLER_SLIS, emf_documents, load_thresholds
from smartfactory_lib.operations.slo import load_slos


def test_emf_documents_count_bad_events_per_hundred() -> None:
    """Check values over the threshold (and NaN) count as bad, 100 per document."""
    values = np.r_[np.full(150, 1.0), np.full(100, 90.0), np.nan]

    documents = emf_documents("ingestion_latency", values, 60.0, 1_700_000_000_000)

    assert len(documents) == 3
    bad = sum(sum(d["IngestionLatencyBad"]) for d in documents)
    samples = sum(len(d["IngestionLatencyBad"]) for d in documents)
    assert (bad, samples) == (101, 251)
    metrics = documents[0]["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Dimensions"] == [["slo"]]
    assert [m["Name"] for m in metrics["Metrics"]] == [
        "IngestionLatency",
        "IngestionLatencyBad",
    ]
    json.dumps(documents, allow_nan=False)  # strict JSON for CloudWatch
    with pytest.raises(KeyError, match="slo must be one of"):
        emf_documents("uptime", values, 1.0, 0)


def test_thresholds_come_from_the_environment_or_the_slo_file(tmp_path: Path) -> None:
    """Check the thresholds agree with the SLO file, and a bad variable is named."""
    slos = load_slos()

    from_file = load_thresholds({})
    from_env = load_thresholds(
        {"SMARTFACTORY_SLO_THRESHOLDS": json.dumps(from_file | {"x": 1})}
    )

    assert from_file == {n: slos.slo(n).threshold for n in HANDLER_SLIS}
    assert from_env == from_file
    assert load_thresholds({}, tmp_path / "absent.yaml") == {}
    with pytest.raises(ValueError, match="SMARTFACTORY_SLO_THRESHOLDS must be"):
        load_thresholds({"SMARTFACTORY_SLO_THRESHOLDS": "[1, 2]"})


def test_handler_metrics_are_those_the_slo_file_names() -> None:
    """Check each SLI the handler emits is an SLO whose metric matches."""
    slos = load_slos()

    for name, (metric, _) in HANDLER_SLIS.items():
        assert slos.slo(name).metric == metric
