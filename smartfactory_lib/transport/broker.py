"""A real MQTT broker on loopback: mosquitto with TLS, passwords and per-device ACLs.

:class:`Broker` writes a mosquitto configuration into a folder of its own,
starts ``mosquitto -c CONF`` on ``127.0.0.1`` and a free port, and stops it
again. The configuration is the one a small plant would run:

- a TLS listener only (TLS 1.2 or newer), with a CA and server certificate
  made for this run by :func:`.certs.make_certificates`;
- no anonymous clients, one username and password per device (stored in
  mosquitto's own PBKDF2-SHA512 password format, written by
  :func:`hash_password`);
- an access control list under which a device may publish only below its own
  topic, ``factory/<site>/<line>/<its username>/...``, and services such as
  the subscriber may only read;
- persistence on, so that subscriptions and queued QoS 1 messages survive a
  restart of the broker (:meth:`Broker.restart`).

Users can be added while the broker runs: the files are rewritten and
mosquitto re-reads them on ``SIGHUP``.

Where the mosquitto binary is missing, the broker falls back to ``amqtt``, a
pure-Python broker, bound to loopback with the same TLS files, passwords and
topic restrictions (see :mod:`._amqtt`), and warns: amqtt is about ten times
slower, and it keeps no sessions across a restart, so QoS 1 messages queued
for an absent subscriber are lost when it restarts.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404: starts the broker binary, never a shell
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Literal

from .certs import TlsFiles, make_certificates

__all__ = [
    "ROLES",
    "Broker",
    "Endpoint",
    "TOPIC_ROOT",
    "find_mosquitto",
    "free_port",
    "hash_password",
]

logger = logging.getLogger(__name__)

TOPIC_ROOT: Final = "factory"
"""First level of every factory topic: ``factory/<site>/<line>/<machine>/...``."""

ROLES: Final = ("device", "reader", "admin")
"""User roles: a device writes below its own machine's topic; a reader reads
``factory/#``; an admin reads and writes every topic."""

Role = Literal["device", "reader", "admin"]
Implementation = Literal["auto", "mosquitto", "amqtt"]

_MOSQUITTO_PATHS: Final = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
_PBKDF2_ITERATIONS: Final = 101
_FORBIDDEN_IN_USERNAME: Final = set(":+#/ \t\r\n")


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects: host, port and the CA to trust.

    Attributes
    ----------
    host : str
        Host name or address of the listener.
    port : int
        TCP port of the listener.
    ca_file : Path or None
        CA certificate for TLS; None for a plain-TCP listener.
    """

    host: str
    port: int
    ca_file: Path | None

    @property
    def tls(self) -> bool:
        """Whether the listener speaks TLS."""
        return self.ca_file is not None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now.

    Another process may take it before it is used; :class:`Broker` retries
    with a new port when that happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def find_mosquitto() -> Path | None:
    """Return the mosquitto binary, or None where it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return Path(found)
    for candidate in _MOSQUITTO_PATHS:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def hash_password(
    password: str, *, salt: bytes | None = None, iterations: int = _PBKDF2_ITERATIONS
) -> str:
    """Hash a password in mosquitto's PBKDF2-SHA512 password-file format.

    This is the format ``mosquitto_passwd`` writes for mosquitto 2
    (``$7$<iterations>$<salt>$<hash>``, base64 salt of 12 bytes, 64-byte
    PBKDF2-HMAC-SHA512 hash), so the password file needs no external tool.

    Parameters
    ----------
    password : str
        The clear-text password; must not be empty.
    salt : bytes or None, default None
        12 random bytes when None.
    iterations : int, default 101
        PBKDF2 iterations (mosquitto_passwd's default).

    Returns
    -------
    str
        The hash, to follow ``username:`` in the password file.

    Raises
    ------
    ValueError
        If the password is empty or the salt is not 12 bytes.
    """
    if not password:
        raise ValueError("password must not be empty")
    salt = secrets.token_bytes(12) if salt is None else salt
    if len(salt) != 12:
        raise ValueError(f"salt must be 12 bytes, got {len(salt)}")
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    salt_text = base64.b64encode(salt).decode()
    return f"$7${iterations}${salt_text}${base64.b64encode(digest).decode()}"


def _check_username(username: str) -> None:
    if not isinstance(username, str) or not username or len(username) > 64:
        raise ValueError(
            f"username must be a non-empty string of at most 64 characters, "
            f"got {username!r}"
        )
    bad = sorted(_FORBIDDEN_IN_USERNAME & set(username))
    if bad:
        raise ValueError(
            f"username must not contain {' '.join(repr(c) for c in bad)}, "
            f"got {username!r}"
        )


class Broker:
    """An MQTT broker on loopback with TLS, passwords and ACLs; a context manager.

    Parameters
    ----------
    directory : Path, str or None, default None
        Folder for the configuration, certificates, password and ACL files,
        persistence and log. A new temporary folder (removed by
        :meth:`close`) when None.
    host : str, default "127.0.0.1"
        Address to listen on; keep it on loopback.
    port : int, default 0
        TCP port; 0 picks a free one.
    tls : bool, default True
        Serve TLS with certificates made for this broker. False serves plain
        TCP (for comparisons only).
    users : Mapping[str, str] or None, default None
        Device usernames (machine ids) and passwords to create before start.
    implementation : {"auto", "mosquitto", "amqtt"}, default "auto"
        ``auto`` uses mosquitto and falls back to amqtt with a warning where
        mosquitto is not installed.
    max_queued_messages : int, default 1_000_000
        QoS 1 messages mosquitto queues per client beyond those in flight;
        beyond this mosquitto drops messages silently, so it is set high.

    Attributes
    ----------
    implementation : str
        The broker that runs: ``mosquitto`` or ``amqtt``.

    Examples
    --------
    >>> with Broker(users={"m0001": "s3cret"}) as broker:  # doctest: +SKIP
    ...     print(broker.endpoint.port)
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        users: Mapping[str, str] | None = None,
        implementation: Implementation = "auto",
        max_queued_messages: int = 1_000_000,
    ) -> None:
        if implementation not in ("auto", "mosquitto", "amqtt"):
            raise ValueError(
                "implementation must be one of auto, mosquitto, amqtt, "
                f"got {implementation!r}"
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {port}")
        if max_queued_messages < 1:
            raise ValueError(
                f"max_queued_messages must be at least 1, got {max_queued_messages}"
            )
        binary = find_mosquitto()
        if implementation == "mosquitto" and binary is None:
            raise FileNotFoundError(
                "mosquitto is not installed (looked on PATH and in /usr/sbin); "
                "install the Debian package mosquitto"
            )
        if implementation == "auto" and binary is None:
            warnings.warn(
                "mosquitto is not installed; falling back to the pure-Python amqtt "
                "broker on loopback. It is about ten times slower and keeps no "
                "sessions across a restart.",
                RuntimeWarning,
                stacklevel=2,
            )
            implementation = "amqtt"
        elif implementation == "auto":
            implementation = "mosquitto"
        if implementation == "amqtt" and importlib.util.find_spec("amqtt") is None:
            raise FileNotFoundError(
                "no MQTT broker available: install the Debian package mosquitto, "
                "or the Python package amqtt (see requirements.txt)"
            )
        self.implementation: str = implementation
        self._binary = binary
        self.host = host
        self._requested_port = port
        self._port = port
        self._tls = tls
        self._max_queued = max_queued_messages
        self._owns_directory = directory is None
        self.directory = Path(
            tempfile.mkdtemp(prefix="smartfactory-broker-")
            if directory is None
            else directory
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self._users: dict[str, tuple[str, Role]] = {}
        # Clear-text passwords are kept only for amqtt, which hashes them in its
        # own format when it starts; mosquitto gets hashes only.
        self._clear: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._running_marks = 0
        self._tls_files: TlsFiles | None = None
        if tls:
            self._tls_files = make_certificates(self.directory / "tls")
        for username, password in (users or {}).items():
            self.add_user(username, password)

    # -- users -------------------------------------------------------------

    def add_user(self, username: str, password: str, role: Role = "device") -> None:
        """Create or update a user; a running broker re-reads its files at once.

        Parameters
        ----------
        username : str
            For a device, its machine id: the ACL lets it publish only to
            ``factory/+/+/<username>/#``.
        password : str
            Clear-text password; only its hash is written.
        role : {"device", "reader", "admin"}, default "device"
            What the user may do (see :data:`ROLES`).

        Raises
        ------
        ValueError
            If the username is empty, too long or contains ``: + # /`` or
            spaces, the password is empty, or the role is unknown.
        """
        _check_username(username)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        self._users[username] = (hash_password(password), role)
        if self.implementation == "amqtt":
            self._clear[username] = password
        self._write_access_files()
        if self.running:
            self.reload()

    def add_users(self, users: Mapping[str, str], role: Role = "device") -> None:
        """Create several users of one role with a single reload."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        for username, password in users.items():
            _check_username(username)
            if not password:
                raise ValueError(f"password of {username!r} must not be empty")
            self._users[username] = (hash_password(password), role)
            if self.implementation == "amqtt":
                self._clear[username] = password
        self._write_access_files()
        if self.running:
            self.reload()

    def add_service_user(self, username: str, role: Role = "reader") -> str:
        """Create a service user with a random password and return the password.

        Parameters
        ----------
        username : str
            Name of the service, such as ``ingest``.
        role : {"reader", "admin"}, default "reader"
            ``reader`` may subscribe to ``factory/#``; ``admin`` to anything.

        Returns
        -------
        str
            The generated password (32 URL-safe characters).
        """
        password = self.new_password()
        self.add_user(username, password, role)
        return password

    @staticmethod
    def new_password() -> str:
        """Return a random password (32 URL-safe characters, 192 bits)."""
        return secrets.token_urlsafe(24)

    @property
    def usernames(self) -> list[str]:
        """Usernames known to the broker, in the order they were added."""
        return list(self._users)

    def _acl_text(self) -> str:
        # One block per user rather than a `pattern`: a pattern applies to every
        # user, so it would also let a reader service publish as a machine.
        lines = [
            "# Generated by smartfactory_lib.transport.broker: do not edit.",
            "# A device publishes only below its own machine's topic.",
            "",
        ]
        for username, (_, role) in self._users.items():
            if role == "device":
                lines += [
                    f"user {username}",
                    f"topic write {TOPIC_ROOT}/+/+/{username}/#",
                    "",
                ]
            elif role == "reader":
                lines += [f"user {username}", f"topic read {TOPIC_ROOT}/#", ""]
            elif role == "admin":
                lines += [f"user {username}", "topic readwrite #", ""]
        return "\n".join(lines)

    def _write_access_files(self) -> None:
        passwd = "".join(f"{u}:{h}\n" for u, (h, _) in self._users.items())
        self._write(self.directory / "passwd", passwd, 0o600)
        self._write(self.directory / "acl", self._acl_text(), 0o600)

    def _write(self, path: Path, text: str, mode: int = 0o644) -> None:
        path.write_text(text)
        path.chmod(mode)
        self._give_to_broker_user(path)

    # -- configuration -----------------------------------------------------

    def _broker_account(self) -> tuple[str, int, int] | None:
        """Return (name, uid, gid) mosquitto runs as when started by root."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam("mosquitto")
        except KeyError:
            return ("root", 0, 0)
        return (entry.pw_name, entry.pw_uid, entry.pw_gid)

    def _give_to_broker_user(self, path: Path) -> None:
        # Started as root, mosquitto drops to user mosquitto: it must be able to
        # read its key, password and ACL files and write its persistence.
        account = self._broker_account()
        if account is not None and self.implementation == "mosquitto":
            os.chown(path, account[1], account[2])

    def _config_text(self) -> str:
        folder = self.directory
        account = self._broker_account()
        lines = [
            "# Generated by smartfactory_lib.transport.broker: do not edit.",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {folder / 'passwd'}",
            f"acl_file {folder / 'acl'}",
            "persistence true",
            f"persistence_location {folder / 'data'}/",
            "autosave_interval 30",
            f"max_queued_messages {self._max_queued}",
            "max_inflight_messages 1000",
            f"log_dest file {folder / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if account is not None:
            lines.append(f"user {account[0]}")
        lines.append(f"listener {self._port} {self.host}")
        if self._tls_files is not None:
            lines += [
                f"cafile {self._tls_files.ca_cert}",
                f"certfile {self._tls_files.server_cert}",
                f"keyfile {self._tls_files.server_key}",
                "tls_version tlsv1.2",
            ]
        return "\n".join(lines) + "\n"

    # -- life cycle ----------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def port(self) -> int:
        """The listener's port (known once the broker has started)."""
        return self._port

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate clients must trust; None without TLS."""
        return None if self._tls_files is None else self._tls_files.ca_cert

    @property
    def endpoint(self) -> Endpoint:
        """Host, port and CA of the listener, for clients."""
        if self._port == 0:
            raise RuntimeError("the broker has no port yet: call start() first")
        return Endpoint(self.host, self._port, self.ca_file)

    def start(self, timeout: float = 10.0) -> Broker:
        """Start the broker and wait until its listener accepts connections.

        Parameters
        ----------
        timeout : float, default 10.0
            Seconds to wait for the listener.

        Returns
        -------
        Broker
            ``self``, for chaining.

        Raises
        ------
        RuntimeError
            If the broker exits or does not listen within ``timeout``; the
            message carries the end of its log.
        """
        if self.running:
            return self
        attempts = 3 if self._requested_port == 0 else 1
        for attempt in range(1, attempts + 1):
            if self._requested_port == 0 and (attempt > 1 or self._port == 0):
                self._port = free_port(self.host)
            try:
                self._launch(timeout)
                return self
            except _PortTaken:
                logger.warning(
                    "Port %d was taken before the broker bound it; retrying",
                    self._port,
                )
        raise RuntimeError(f"could not bind a free port after {attempts} attempts")

    def _launch(self, timeout: float) -> None:
        (self.directory / "data").mkdir(exist_ok=True)
        self._give_to_broker_user(self.directory)
        self._give_to_broker_user(self.directory / "data")
        if self._tls_files is not None:
            self._give_to_broker_user(self._tls_files.ca_cert.parent)
            for path in (self._tls_files.server_key, self._tls_files.server_cert):
                self._give_to_broker_user(path)
        self._write_access_files()
        if self.implementation == "mosquitto":
            command = self._mosquitto_command()
        else:
            command = self._amqtt_command()
        self._running_marks = self.log_text().count(" running")
        log_path = self.directory / "process.log"
        log = log_path.open("ab")
        try:
            # nosec B603: a fixed binary and a config path this class wrote.
            self._process = subprocess.Popen(  # nosec B603
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                tail = self.log_tail()
                self._process = None
                if "Address already in use" in tail or "address already in use" in tail:
                    raise _PortTaken
                raise RuntimeError(
                    f"{self.implementation} exited with code {code} on start: {tail}"
                )
            if self._listening():
                break
            time.sleep(0.02)
        else:
            self.stop()
            raise RuntimeError(
                f"{self.implementation} did not listen on {self.host}:{self._port} "
                f"within {timeout:g} s: {self.log_tail()}"
            )
        logger.info(
            "Started %s on %s:%d (tls=%s, %d user(s), pid %d)",
            self.implementation,
            self.host,
            self._port,
            self._tls,
            len(self._users),
            self._process.pid,
        )

    def _listening(self) -> bool:
        if self.implementation == "mosquitto":
            # mosquitto logs "running" once its listeners are open; probing the
            # TLS port with a bare socket would log a failed handshake.
            return self.log_text().count(" running") > self._running_marks
        try:
            with socket.create_connection((self.host, self._port), timeout=0.2):
                return True
        except OSError:
            return False

    def _mosquitto_command(self) -> list[str]:
        conf = self.directory / "mosquitto.conf"
        self._write(conf, self._config_text(), 0o600)
        return [str(self._binary), "-c", str(conf)]

    def _amqtt_command(self) -> list[str]:
        files = self._tls_files
        config = {
            "host": self.host,
            "port": self._port,
            "root": TOPIC_ROOT,
            "certfile": None if files is None else str(files.server_cert),
            "keyfile": None if files is None else str(files.server_key),
            "users": dict(self._clear),
            "roles": {user: role for user, (_, role) in self._users.items()},
        }
        # The runner hashes the passwords and deletes this file at once.
        path = self.directory / "amqtt.json"
        self._write(path, json.dumps(config), 0o600)
        return [sys.executable, "-m", "smartfactory_lib.transport._amqtt", str(path)]

    def reload(self) -> None:
        """Make a running mosquitto re-read its password and ACL files (SIGHUP)."""
        if not self.running or self._process is None:
            return
        if self.implementation != "mosquitto":
            # amqtt reads users at start only: restart it to apply changes.
            self.restart()
            return
        marker = self.log_text().count("Reloading config")
        self._process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if self.log_text().count("Reloading config") > marker:
                break
            time.sleep(0.01)
        # mosquitto logs before it re-reads; give it a moment to finish.
        time.sleep(0.05)
        logger.info(
            "Reloaded the broker's passwords and ACL (%d users)", len(self._users)
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM, so mosquitto saves its persistence)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("Broker pid %d ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.wait(timeout)
        logger.info("Stopped %s on port %d", self.implementation, self._port)

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the broker, wait ``down_s`` seconds, and start it on the same port.

        Subscriptions of persistent sessions and their queued QoS 1 messages
        survive, because mosquitto saves them on stop and loads them on start.
        """
        self.stop()
        if down_s > 0:
            time.sleep(down_s)
        self._requested_port = self._port
        self.start()

    def close(self) -> None:
        """Stop the broker and remove its folder if the broker created it."""
        self.stop()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_text(self) -> str:
        """Return the broker's log so far (mosquitto's log and the process output)."""
        parts = []
        for name in ("mosquitto.log", "process.log"):
            path = self.directory / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def log_tail(self, lines: int = 8) -> str:
        """Return the last ``lines`` lines of the broker's log, on one line."""
        return " | ".join(self.log_text().strip().splitlines()[-lines:])

    def __enter__(self) -> Broker:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"Broker({self.implementation}, {self.host}:{self._port}, "
            f"tls={self._tls}, users={len(self._users)}, {state})"
        )


class _PortTaken(Exception):
    """The chosen port was taken before the broker could bind it."""
