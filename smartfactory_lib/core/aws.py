"""AWS clients for every backend, from one code path.

:func:`aws_backend` opens the backend named by :class:`~.config.Settings`:
with ``moto`` it starts moto's in-process mock for the duration of the block
(and sets throwaway credentials, so nothing can reach real AWS by accident);
with ``endpoint`` or ``aws`` it changes nothing. :func:`client` then builds a
boto3 client bound to the settings' region and endpoint. Code above the core
never imports moto.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3

from .config import Settings

__all__ = ["aws_backend", "client", "event_hooks"]

logger = logging.getLogger(__name__)

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
}


@contextmanager
def aws_backend(settings: Settings) -> Iterator[Settings]:
    """Make the backend of ``settings`` reachable for the duration of a block.

    Parameters
    ----------
    settings : Settings
        Which backend to open.

    Yields
    ------
    Settings
        The same settings, for ``with aws_backend(s) as s:``.
    """
    if settings.backend != "moto":
        logger.info(
            "Using AWS backend %s (endpoint=%s, region=%s)",
            settings.backend,
            settings.endpoint_url,
            settings.region,
        )
        yield settings
        return

    from moto import mock_aws

    saved = {name: os.environ.get(name) for name in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    try:
        with mock_aws():
            logger.info("Started moto in-process (region=%s)", settings.region)
            yield settings
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client(service: str, settings: Settings, **kwargs: Any) -> Any:
    """Return a boto3 client for ``service`` bound to the settings' backend.

    Parameters
    ----------
    service : str
        A boto3 service name such as ``"s3"`` or ``"secretsmanager"``.
    settings : Settings
        Region and endpoint to use.
    **kwargs
        Passed on to :func:`boto3.client`.
    """
    if settings.endpoint_url and settings.backend == "endpoint":
        kwargs.setdefault("endpoint_url", settings.endpoint_url)
    return boto3.client(service, region_name=settings.region, **kwargs)


@contextmanager
def event_hooks(
    hooks: Sequence[tuple[str, Callable[..., Any]]], *clients: Any
) -> Iterator[None]:
    """Register botocore event hooks for the duration of a block.

    The hooks go on boto3's default session, which covers every client
    created inside the block, and on each client passed in: botocore gives a
    client its own copy of the session's hooks when it is created, so a
    client made earlier would otherwise go unobserved. The cost meter and the
    audit trail both observe the pipeline's calls this way.

    Parameters
    ----------
    hooks : sequence of (event name, handler)
        For example ``[("before-call", on_call)]``.
    *clients
        boto3 clients created before the block.
    """
    emitters = [boto3._get_default_session().events]
    emitters += [c.meta.events for c in clients]
    for events in emitters:
        for name, hook in hooks:
            events.register(name, hook)
    try:
        yield
    finally:
        for events in emitters:
            for name, hook in hooks:
                events.unregister(name, hook)
