"""Run amqtt as the fallback broker process: ``python -m ... CONFIG.json``.

:class:`~smartfactory_lib.transport.broker.Broker` starts this module where
mosquitto is not installed. It reads the listener, TLS files, users and
roles that the broker class wrote, hashes the passwords with Argon2 (the
format amqtt's password-file plugin reads), deletes the clear-text file, and
serves on loopback until it is terminated. Device topics are restricted with
amqtt's access-control plugin in the same shape as mosquitto's ACL.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["amqtt_config", "main"]


def amqtt_config(settings: dict[str, Any], password_file: Path) -> dict[str, Any]:
    """Return amqtt's broker configuration for the broker class's settings."""
    listener: dict[str, Any] = {
        "type": "tcp",
        "bind": f"{settings['host']}:{settings['port']}",
    }
    if settings["certfile"]:
        listener |= {
            "ssl": True,
            "certfile": settings["certfile"],
            "keyfile": settings["keyfile"],
        }
    publish: dict[str, list[str]] = {}
    subscribe: dict[str, list[str]] = {}
    for username, role in settings["roles"].items():
        if role == "device":
            publish[username] = [f"{settings['root']}/+/+/{username}/#"]
        elif role == "reader":
            subscribe[username] = [f"{settings['root']}/#"]
        else:
            publish[username] = subscribe[username] = ["#"]
    return {
        "listeners": {"default": listener},
        "plugins": {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {
                "allow_anonymous": False
            },
            "amqtt.plugins.authentication.FileAuthPlugin": {
                "password_file": str(password_file)
            },
            "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                "publish_acl": publish,
                "acl": subscribe,  # amqtt's name for the subscribe ACL
            },
        },
    }


async def _serve(config: dict[str, Any]) -> None:
    from amqtt.broker import Broker as AmqttBroker

    broker = AmqttBroker(config)
    await broker.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await broker.shutdown()


def main(path: str) -> int:
    """Serve the broker described by the JSON file at ``path``."""
    from pwdlib.hashers.argon2 import Argon2Hasher

    settings_path = Path(path)
    settings = json.loads(settings_path.read_text())
    settings_path.unlink()
    hasher = Argon2Hasher()
    password_file = settings_path.with_name("amqtt.passwd")
    password_file.write_text(
        "".join(f"{u}:{hasher.hash(p)}\n" for u, p in settings["users"].items())
    )
    password_file.chmod(0o600)
    asyncio.run(_serve(amqtt_config(settings, password_file)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
