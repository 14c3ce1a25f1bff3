"""Tests of the live dashboard, driven in headless Chromium."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from smartfactory_lib.core.aws import aws_backend
from smartfactory_lib.core.config import Settings
from smartfactory_lib.operations.canary import LivePipeline
from smartfactory_lib.operations.dashboard import DashboardServer, LiveDashboard

# Debian's chromium here; the hosted runners ship Google Chrome instead.
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
    None,
)


@pytest.fixture(scope="module")
def dashboard() -> Iterator[LiveDashboard]:
    """Two machines ticking every 0.2 s, served on loopback."""
    settings = Settings(backend="moto", prefix="dashtest", region="eu-west-1")
    with aws_backend(settings), LivePipeline(settings, n_machines=2) as live:
        with LiveDashboard(live, tick_s=0.2) as running:
            yield running
        assert running.error is None, running.error


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium through Playwright."""
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


def test_dashboard_listens_on_loopback(dashboard: LiveDashboard) -> None:
    """Check that the default address is 127.0.0.1."""
    assert dashboard.url.startswith("http://127.0.0.1:")


def test_page_shows_live_readings_and_a_fault_alert(
    dashboard: LiveDashboard, browser: Any
) -> None:
    """Check that readings arrive in the page and an injected fault raises an alert."""
    page = browser.new_page()
    page.goto(dashboard.url)

    page.wait_for_selector("#status.live", timeout=15_000)
    page.wait_for_selector('tr[data-machine="m0002"]', timeout=15_000)
    page.wait_for_function(
        "Number(document.getElementById('readings-count').textContent) >= 10",
        timeout=15_000,
    )
    seq_before = int(page.inner_text('tr[data-machine="m0001"] td:nth-child(2)'))
    page.click('button[data-fault="sensor"]')
    page.wait_for_selector('#alerts li[data-machine="m0001"]', timeout=20_000)
    page.click('button[data-fault="all"]')
    page.wait_for_function(
        f"Number(document.querySelector('tr[data-machine=\"m0001\"] td:nth-child(2)')"
        f".textContent) > {seq_before}",
        timeout=15_000,
    )

    alert = page.inner_text('#alerts li[data-machine="m0001"]')
    assert "m0001" in alert and "delivered in" in alert
    assert page.locator('tr[data-machine="m0001"]').count() == 1
    assert dashboard.live.faults == {}
    page.close()


def test_state_endpoint_matches_what_the_pipeline_raised(
    dashboard: LiveDashboard,
) -> None:
    """Check /api/state: a latest reading per machine and the pipeline's alerts."""
    with urllib.request.urlopen(dashboard.url + "api/state", timeout=10) as response:
        state = json.load(response)

    assert set(state["readings"]) >= {"m0001", "m0002"}
    assert len(state["alerts"]) == len(dashboard.live.alerts)


def test_fault_endpoint_rejects_unknown_faults(dashboard: LiveDashboard) -> None:
    """Check that POST /api/fault answers 400 with the allowed names."""
    request = urllib.request.Request(
        dashboard.url + "api/fault?name=flood&on=true", method="POST"
    )

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)

    assert caught.value.code == 400
    assert "fault must be one of" in caught.value.read().decode()


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://attacker.example"}, {"Host": "rebound.example:80"}],
    ids=["other-origin", "other-host"],
)
def test_fault_endpoint_refuses_other_origins(
    dashboard: LiveDashboard, headers: dict[str, str]
) -> None:
    """Check a fault cannot be injected from another site's page or a rebound name."""
    request = urllib.request.Request(
        dashboard.url + "api/fault?name=sensor&on=true", method="POST", headers=headers
    )

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)

    assert caught.value.code == 403
    assert dashboard.live.faults == {}


def test_server_refuses_a_port_out_of_range() -> None:
    """Check the port check's message."""
    with pytest.raises(ValueError, match="port must be between 0 and 65535, got 70000"):
        DashboardServer(port=70000)


def test_run_live_dashboard_reports_what_the_page_showed() -> None:
    """Check the short live run: readings on the page, events and a clean stop."""
    from smartfactory_lib.operations.dashboard import run_live_dashboard

    settings = Settings(backend="moto", prefix="dashrun", region="eu-west-1")

    run = run_live_dashboard(settings, n_machines=1, seconds=2.0)

    assert "m0001" in run.state["readings"]
    assert run.state["events"] > 0
    assert run.published > 0
    assert (run.events["slo"] == "ingestion_latency").sum() > 0
    with pytest.raises(ValueError, match="seconds must be positive"):
        run_live_dashboard(settings, seconds=0)


def test_dashboard_command_serves_and_stops(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Check ``smartfactory dashboard --seconds``: the URL is on loopback, exit 0."""
    from smartfactory_lib.cli import main

    code = main(["dashboard", "--seconds", "2", "--port", "0", "--machines", "1"])

    out = capsys.readouterr().out
    assert code == 0
    assert "Dashboard on http://127.0.0.1:" in out
    assert "Published" in out
