"""End-to-end tests of the pipeline: every published reading is accounted for."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from smartfactory_lib.cli import main
from smartfactory_lib.cloud.pipeline import run_pipeline
from smartfactory_lib.cloud.storage import read_curated
from smartfactory_lib.core.aws import aws_backend, client
from smartfactory_lib.core.config import Settings
from smartfactory_lib.transport import find_mosquitto

needs_mosquitto = pytest.mark.skipif(
    find_mosquitto() is None, reason="the mosquitto binary is not installed"
)


@pytest.mark.mosquitto
@needs_mosquitto
def test_pipeline_reconciles_exactly_at_20_percent_faults(seed: int) -> None:
    """Check published == stored + quarantined + duplicates through the broker."""
    settings = Settings(backend="moto", region="eu-west-1", environment="e2e")
    with aws_backend(settings):
        run = run_pipeline(3, 0.25, fault_rate=0.2, seed=seed, settings=settings)
        curated = read_curated(client("s3", settings), run.resources.curated_bucket)

    counts = run.reconciliation
    assert counts.balanced, counts
    assert counts.lost == 0
    assert counts.published == 3 * 900 + run.faults["duplicate"]
    assert counts.forwarded == counts.published
    assert counts.duplicates >= run.faults["duplicate"]
    assert sum(counts.quarantined.values()) > 0
    assert len(curated) == counts.stored
    assert not curated.duplicated(["machine_id", "seq"]).any()


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on loopback, on a free port, with throwaway credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_cli_pipeline_runs_against_moto_server(
    moto_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Check the command reconciles against an endpoint URL, not only in-process."""
    code = main(
        [
            "pipeline",
            "--machines",
            "2",
            "--hours",
            "0.1",
            "--fault-rate",
            "0.2",
            "--transport",
            "direct",
            "--endpoint-url",
            moto_server,
            "--json",
        ]
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["balanced"] is True
    assert summary["lost"] == 0
    assert (
        summary["published"]
        == summary["stored"]
        + sum(summary["quarantined"].values())
        + summary["duplicates"]
    )
    kinesis = client("kinesis", Settings().with_endpoint(moto_server))
    assert kinesis.list_streams()["StreamNames"] == ["smartfactory-dev-telemetry"]


def test_cli_pipeline_rejects_bad_fault_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check a fault rate above 1 exits 2 and names the range and the value."""
    with pytest.raises(SystemExit) as caught:
        main(["pipeline", "--machines", "2", "--hours", "1", "--fault-rate", "1.5"])

    assert caught.value.code == 2
    assert "must be between 0 and 1, got '1.5'" in capsys.readouterr().err
