"""The live dashboard: readings and alerts in the browser as they happen.

:class:`DashboardServer` is a small HTTP server from the standard library,
bound to ``127.0.0.1`` by default. It serves one self-contained page (no
scripts from the network) and streams events to it with Server-Sent Events
on ``/events``: every ``reading`` the broker delivers and every ``alert`` the
pipeline sends to SNS. ``/api/state`` returns the latest reading per machine
and the alerts so far as JSON, and ``POST /api/fault`` switches a fault on
or off through a callback, so that a reader can break the factory from the
page and watch the alert arrive.

:class:`LiveDashboard` wires a :class:`~.canary.LivePipeline` to a server and
runs the pipeline's ticks on a background thread.

Known limits: the server keeps the last ``max_events`` events in memory and
a client that reconnects receives only those; it has no authentication,
which is why it listens on loopback unless told otherwise.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlparse

import pandas as pd

from ..core.aws import aws_backend
from ..core.config import Settings
from .canary import FAULTS, LivePipeline

__all__ = ["PAGE", "DashboardServer", "LiveDashboard", "LiveRun", "run_live_dashboard"]

logger = logging.getLogger(__name__)

FaultCallback = Callable[[str, bool], None]

PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Smart factory: live</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
.bar { display: flex; gap: 1.5rem; align-items: baseline; margin-bottom: 1rem; }
#status { padding: .1rem .5rem; border-radius: .3rem; background: #ddd; }
#status.live { background: #c8efc8; }
table { border-collapse: collapse; min-width: 40rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.hot td { background: #ffe0e0; }
#alerts li { color: #a00; margin: .2rem 0; }
button { margin-right: .5rem; }
</style>
</head>
<body>
<h1>Smart factory: live readings and alerts</h1>
<div class="bar">
  <span id="status">connecting</span>
  <span>readings: <strong id="readings-count">0</strong></span>
  <span>alerts: <strong id="alerts-count">0</strong></span>
</div>
<div class="bar">
  <button data-fault="sensor" data-on="true">Inject sensor fault</button>
  <button data-fault="rule_disabled" data-on="true">Disable IoT rule</button>
  <button data-fault="all" data-on="false">Clear faults</button>
</div>
<table id="machines">
<thead><tr><th>machine</th><th>seq</th><th>time (UTC)</th><th>temperature °C</th>
<th>vibration mm/s</th><th>power kW</th></tr></thead>
<tbody></tbody>
</table>
<h2>Alerts</h2>
<ul id="alerts"></ul>
<script>
const rows = new Map();
let readings = 0, alerts = 0;
const fmt = (v) => (v === null || v === undefined) ? "-" : Number(v).toFixed(2);
function showReading(r) {
  readings += 1;
  document.getElementById("readings-count").textContent = readings;
  let tr = rows.get(r.machine_id);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.machine = r.machine_id;
    for (let i = 0; i < 6; i++) tr.appendChild(document.createElement("td"));
    rows.set(r.machine_id, tr);
    const body = document.querySelector("#machines tbody");
    [...rows.keys()].sort().forEach((m) => body.appendChild(rows.get(m)));
  }
  const cells = tr.children;
  cells[0].textContent = r.machine_id;
  cells[1].textContent = r.seq;
  cells[2].textContent = r.ts.slice(11, 23);
  cells[3].textContent = fmt(r.temperature_c);
  cells[4].textContent = fmt(r.vibration_mm_s);
  cells[5].textContent = fmt(r.power_kw);
  tr.classList.toggle("hot", r.temperature_c >= 70 || r.vibration_mm_s >= 4.5);
}
function showAlert(a) {
  alerts += 1;
  document.getElementById("alerts-count").textContent = alerts;
  const li = document.createElement("li");
  li.dataset.machine = a.machine_id;
  li.textContent = `${a.ts.slice(0, 19)} ${a.machine_id}: score ` +
    `${Number(a.score).toFixed(2)} (${a.scorer}), delivered in ` +
    `${Number(a.delivery_s).toFixed(3)} s`;
  document.getElementById("alerts").prepend(li);
}
const source = new EventSource("/events");
source.onopen = () => {
  const s = document.getElementById("status");
  s.textContent = "live"; s.className = "live";
};
source.onerror = () => {
  const s = document.getElementById("status");
  s.textContent = "reconnecting"; s.className = "";
};
source.addEventListener("reading", (e) => showReading(JSON.parse(e.data)));
source.addEventListener("alert", (e) => showAlert(JSON.parse(e.data)));
document.querySelectorAll("button[data-fault]").forEach((b) => {
  b.addEventListener("click", () => fetch(
    `/api/fault?name=${b.dataset.fault}&on=${b.dataset.on}`, {method: "POST"}));
});
</script>
</body>
</html>
"""
"""The dashboard page: plain HTML and JavaScript, nothing fetched from elsewhere."""


_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


class DashboardServer:
    """Serve the live page and stream events to it (Server-Sent Events).

    Parameters
    ----------
    host : str, default "127.0.0.1"
        Address to listen on; loopback unless you mean to share it.
    port : int, default 0
        Port; 0 picks a free one (see :attr:`url`).
    max_events : int, default 1000
        Events kept for clients that connect later.
    on_fault : callable or None, default None
        ``on_fault(name, on)`` for ``POST /api/fault``; the endpoint answers
        404 when None.

    Attributes
    ----------
    sent : int
        Events pushed so far.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_events: int = 1000,
        on_fault: FaultCallback | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        self.host = host
        self.port = port
        self.on_fault = on_fault
        self.sent = 0
        self._events: deque[tuple[int, str, str]] = deque(maxlen=max_events)
        self._latest: dict[str, dict[str, Any]] = {}
        self._alerts: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address, such as ``http://127.0.0.1:8765/``."""
        if self._server is None:
            raise RuntimeError("the dashboard server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def fetch_state(self, timeout: float = 10.0) -> dict[str, Any]:
        """Read ``/api/state`` over HTTP, as a browser on this machine would."""
        if self._server is None:
            raise RuntimeError("the dashboard server is not started")
        host, port = self._server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=timeout)
        try:
            connection.request("GET", "/api/state")
            response = connection.getresponse()
            if response.status != HTTPStatus.OK:
                raise RuntimeError(f"/api/state answered {response.status}")
            state: dict[str, Any] = json.load(response)
        finally:
            connection.close()
        return state

    def push(self, kind: str, data: dict[str, Any]) -> None:
        """Send one event to every connected page (a :class:`LivePipeline` listener)."""
        body = json.dumps(data, default=str)
        with self._changed:
            self.sent += 1
            self._events.append((self.sent, kind, body))
            if kind == "reading":
                self._latest[str(data.get("machine_id"))] = data
            elif kind == "alert":
                self._alerts.append(data)
            self._changed.notify_all()

    def state(self) -> dict[str, Any]:
        """Return the latest reading per machine and every alert."""
        with self._changed:
            return {
                "readings": dict(self._latest),
                "alerts": list(self._alerts),
                "events": self.sent,
            }

    def _wait(self, after: int, timeout: float) -> list[tuple[int, str, str]]:
        with self._changed:
            if self.sent <= after:
                self._changed.wait(timeout)
            return [e for e in self._events if e[0] > after]

    def start(self) -> DashboardServer:
        """Start serving on a background thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("Dashboard %s: " + format, self.client_address[0], *args)

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if path == "/":
                    self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
                elif path == "/api/state":
                    body = json.dumps(server.state(), default=str).encode()
                    self._send(HTTPStatus.OK, body, "application/json")
                elif path == "/events":
                    self._stream()
                else:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

            def _same_origin(self) -> bool:
                # A page of another site open in the same browser may post
                # here (loopback is reachable from it), and a rebound DNS name
                # may point here: only this server's own origin may inject.
                port = int(self.server.server_address[1])  # type: ignore[index]
                allowed = {f"{name}:{port}" for name in (server.host, *_LOOPBACK)}
                origin = self.headers.get("Origin")
                host_ok = self.headers.get("Host", "") in allowed
                return host_ok and (not origin or urlparse(origin).netloc in allowed)

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if not self._same_origin():
                    self._send(HTTPStatus.FORBIDDEN, b"cross-origin", "text/plain")
                    return
                if url.path != "/api/fault" or server.on_fault is None:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                    return
                name = query.get("name", [""])[0]
                on = query.get("on", ["true"])[0] == "true"
                try:
                    server.on_fault(name, on)
                except ValueError as exc:
                    self._send(HTTPStatus.BAD_REQUEST, str(exc).encode(), "text/plain")
                    return
                self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")

            def _stream(self) -> None:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                last = int(self.headers.get("Last-Event-ID") or 0)
                try:
                    self.wfile.write(b"retry: 1000\n\n")
                    self.wfile.flush()
                    while not server._closing.is_set():
                        batch = server._wait(last, timeout=1.0)
                        if not batch:
                            self.wfile.write(b": keep-alive\n\n")
                        for number, kind, body in batch:
                            message = f"id: {number}\nevent: {kind}\ndata: {body}\n\n"
                            self.wfile.write(message.encode())
                            last = number
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    logger.debug("Dashboard client went away")

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dashboard", daemon=True
        )
        self._thread.start()
        logger.info("Dashboard serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every stream."""
        self._closing.set()
        with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LiveDashboard:
    """A :class:`LivePipeline` ticking on a thread, shown by a :class:`DashboardServer`.

    Parameters
    ----------
    live : LivePipeline
        A started pipeline; its AWS backend must stay open while this runs.
    host : str, default "127.0.0.1"
        Address of the page.
    port : int, default 0
        Port of the page; 0 picks a free one.
    tick_s : float, default 0.5
        Seconds between ticks (one reading per machine each).
    """

    def __init__(
        self,
        live: LivePipeline,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tick_s: float = 0.5,
    ) -> None:
        if tick_s <= 0:
            raise ValueError(f"tick_s must be positive, got {tick_s}")
        self.live = live
        self.tick_s = tick_s
        self.server = DashboardServer(host, port, on_fault=self.set_fault)
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        live.add_listener(self.server.push)

    def set_fault(self, name: str, on: bool) -> None:
        """Switch a fault on or off (``all`` with ``on=False`` clears every fault)."""
        if name == "all" and not on:
            self.live.clear()
        elif name not in FAULTS:
            raise ValueError(
                f"fault must be one of {', '.join((*FAULTS, 'all'))}, got {name!r}"
            )
        elif on:
            self.live.inject(name)
        else:
            self.live.clear(name)

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                self.live.step()
                self._stop.wait(max(0.0, self.tick_s - (time.monotonic() - started)))
        except BaseException as exc:  # reported by stop() and by the CLI
            logger.exception("Live pipeline stopped")
            self.error = exc

    def start(self) -> LiveDashboard:
        """Start the page and the ticks."""
        self.server.start()
        self._thread = threading.Thread(target=self._loop, name="ticks", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        """The page's address."""
        return self.server.url

    def stop(self) -> None:
        """Stop ticking and serving."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.server.stop()

    def __enter__(self) -> LiveDashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class LiveRun:
    """What a short live run left behind.

    Attributes
    ----------
    events : pandas.DataFrame
        SLI events of the run.
    alerts : list of dict
        Alerts the pipeline delivered.
    state : dict
        The page's ``/api/state`` at the end, as a browser would read it.
    published : int
        Readings published, canary included.
    """

    events: pd.DataFrame
    alerts: list[dict[str, Any]]
    state: dict[str, Any]
    published: int


def run_live_dashboard(
    settings: Settings,
    *,
    n_machines: int = 3,
    seconds: float = 10.0,
    tick_s: float = 0.25,
    sensor_fault: dict[str, float] | None = None,
) -> LiveRun:
    """Run the live pipeline and its page for ``seconds``; return what they showed.

    Opens the AWS backend of ``settings``, starts a :class:`LivePipeline` and a
    :class:`LiveDashboard`, forces ``sensor_fault`` (signal values) on the
    first machine for the second half of the run, then reads the page's state
    over HTTP and stops everything.

    Raises
    ------
    ValueError
        If ``seconds`` is not positive.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    with (
        aws_backend(settings),
        LivePipeline(settings, n_machines=n_machines, canary_period_s=0.5) as live,
        LiveDashboard(live, tick_s=tick_s) as dashboard,
    ):
        time.sleep(seconds / 2)
        if sensor_fault:
            live.inject("sensor", live.machines[0], **sensor_fault)
        time.sleep(seconds / 2)
        live.clear()
        state = dashboard.server.fetch_state()
    if dashboard.error is not None:
        raise RuntimeError(f"the live pipeline stopped: {dashboard.error}")
    return LiveRun(live.events(), list(live.alerts), state, live.published)
