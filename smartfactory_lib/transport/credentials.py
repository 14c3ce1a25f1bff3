"""Device credentials kept in AWS Secrets Manager, never in code or files.

Each machine gets its own MQTT username (its machine id) and a random
password. :func:`issue_device_credentials` creates them and stores each one
as a secret named ``<prefix>-<environment>-device/<machine_id>``;
:func:`load_device_credentials` is what a device runs at start-up to fetch
its own. With the default settings the secrets live in moto's in-process
Secrets Manager; with ``backend="aws"`` they live in a real account, and the
code does not change.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.aws import client
from ..core.config import Settings

__all__ = [
    "DeviceCredentials",
    "issue_device_credentials",
    "load_device_credentials",
    "secret_name",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceCredentials:
    """A device's MQTT username and password; the password never shows in repr.

    Attributes
    ----------
    username : str
        The MQTT username, equal to the machine id.
    password : str
        The clear-text password.
    """

    username: str
    password: str = field(repr=False)


def secret_name(machine_id: str, settings: Settings) -> str:
    """Return the Secrets Manager name of a device's credentials.

    Examples
    --------
    >>> secret_name("m0001", Settings(backend="moto"))
    'smartfactory-dev-device/m0001'
    """
    return f"{settings.name('device')}/{machine_id}"


def issue_device_credentials(
    machine_ids: Iterable[str],
    settings: Settings,
    *,
    secrets_client: Any | None = None,
) -> dict[str, DeviceCredentials]:
    """Create a random password per device and store it in Secrets Manager.

    An existing secret gets a new version (the password is rotated).

    Parameters
    ----------
    machine_ids : iterable of str
        The devices; each id becomes the MQTT username.
    settings : Settings
        Which backend and names to use; the backend must be open
        (:func:`~smartfactory_lib.core.aws.aws_backend`).
    secrets_client : botocore client or None, default None
        A Secrets Manager client; one is made from ``settings`` when None.

    Returns
    -------
    dict of str to DeviceCredentials
        The credentials by machine id, for the broker's password file.

    Raises
    ------
    ValueError
        If no machine id is given or one is empty.
    """
    ids = list(machine_ids)
    if not ids:
        raise ValueError("machine_ids must name at least one device, got none")
    sm = secrets_client or client("secretsmanager", settings)
    issued: dict[str, DeviceCredentials] = {}
    for machine_id in ids:
        if not isinstance(machine_id, str) or not machine_id:
            raise ValueError(
                f"machine_id must be a non-empty string, got {machine_id!r}"
            )
        creds = DeviceCredentials(machine_id, secrets.token_urlsafe(24))
        value = json.dumps({"username": creds.username, "password": creds.password})
        name = secret_name(machine_id, settings)
        try:
            sm.create_secret(
                Name=name,
                SecretString=value,
                Description=f"MQTT credentials of machine {machine_id}",
                Tags=[{"Key": "machine_id", "Value": machine_id}],
            )
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)
        issued[machine_id] = creds
    logger.info(
        "Stored MQTT credentials of %d device(s) in Secrets Manager under %s/",
        len(issued),
        settings.name("device"),
    )
    return issued


def load_device_credentials(
    machine_id: str, settings: Settings, *, secrets_client: Any | None = None
) -> DeviceCredentials:
    """Fetch one device's credentials from Secrets Manager.

    Parameters
    ----------
    machine_id : str
        The device.
    settings : Settings
        Which backend and names to use.
    secrets_client : botocore client or None, default None
        A Secrets Manager client; one is made from ``settings`` when None.

    Returns
    -------
    DeviceCredentials
        The stored username and password.

    Raises
    ------
    KeyError
        If no secret exists for the device (Secrets Manager's
        ``ResourceNotFoundException``).
    ValueError
        If the secret does not hold a JSON object with username and password.
    """
    sm = secrets_client or client("secretsmanager", settings)
    name = secret_name(machine_id, settings)
    try:
        value = sm.get_secret_value(SecretId=name)["SecretString"]
    except sm.exceptions.ResourceNotFoundException:
        raise KeyError(
            f"Secrets Manager can't find the specified secret: {name}"
        ) from None
    try:
        body = json.loads(value)
        return DeviceCredentials(str(body["username"]), str(body["password"]))
    except (ValueError, KeyError, TypeError):
        raise ValueError(
            f"secret {name} must hold a JSON object with username and password"
        ) from None
