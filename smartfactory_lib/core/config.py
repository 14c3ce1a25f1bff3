"""Configuration shared by every stage: where AWS is and what things are called.

One :class:`Settings` object says which AWS backend the code talks to and
names every cloud resource. The same names are used by the Terraform in
``terraform/``, and a test checks that the two agree. Values come from
keyword arguments, then ``SMARTFACTORY_*`` environment variables, then the
defaults below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Final, Literal, cast

__all__ = ["BACKENDS", "RESOURCES", "Backend", "PipelineLimits", "Settings"]

Backend = Literal["moto", "endpoint", "aws"]
BACKENDS: Final[tuple[Backend, ...]] = ("moto", "endpoint", "aws")


RESOURCES: Final[dict[str, str]] = {
    "stream": "telemetry",
    "raw_bucket": "raw",
    "curated_bucket": "curated",
    "state_table": "machine-state",
    "alerts_table": "alerts",
    "ledger_table": "ingest-ledger",
    "dead_letter_queue": "ingest-dlq",
    "alert_topic": "alerts",
    "kms_alias": "data",
    "ingest_function": "ingest",
    "iot_rule": "telemetry_to_kinesis",
}
"""Every cloud resource of the pipeline: logical name -> name suffix.

:meth:`Settings.name` prefixes a suffix with ``<prefix>-<environment>-``;
:meth:`Settings.resource` does the same by logical name. The Terraform in
``terraform/`` builds the same names from the same suffixes. IoT rule names
allow only letters, digits and underscores, so the rule uses
:meth:`Settings.rule_name`. Quarantined records and duplicates live under
prefixes of the raw bucket (:data:`PipelineLimits.quarantine_prefix`).
"""


@dataclass(frozen=True)
class PipelineLimits:
    """Sizes and limits of the ingestion pipeline, shared by code and Terraform.

    Parameters
    ----------
    shard_count : int, default 2
        Shards of the telemetry stream.
    batch_size : int, default 500
        Records per handler invocation (the event source mapping's batch size).
    max_future_skew_s : float, default 300
        A reading stamped more than this after its arrival is quarantined.
    max_age_s : float, default 604800
        A reading older than this at arrival (seven days) is quarantined.
    file_rows : int, default 100000
        Most rows in one curated Parquet file.
    alert_ttl_s : int, default 604800
        Time an alert stays in the alerts table.
    lambda_memory_mb : int, default 512
        Memory of the ingest function, used by the cost estimate.
    topic_filter : str, default "factory/+/+/+/telemetry"
        MQTT topic filter of the IoT rule.
    quarantine_prefix, duplicates_prefix, raw_prefix : str
        Key prefixes in the raw bucket.
    """

    shard_count: int = 2
    batch_size: int = 500
    max_future_skew_s: float = 300.0
    max_age_s: float = 7 * 86400.0
    file_rows: int = 100_000
    alert_ttl_s: int = 7 * 86400
    lambda_memory_mb: int = 512
    topic_filter: str = "factory/+/+/+/telemetry"
    raw_prefix: str = "raw/"
    quarantine_prefix: str = "quarantine/"
    duplicates_prefix: str = "duplicates/"

    @property
    def rule_sql(self) -> str:
        """The IoT rule's SQL statement."""
        return f"SELECT * FROM '{self.topic_filter}'"  # nosec B608: IoT rule SQL, no database


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SMARTFACTORY_{name}", default)


@dataclass(frozen=True)
class Settings:
    """Where the cloud is and what its resources are called.

    Parameters
    ----------
    backend : {"moto", "endpoint", "aws"}, default "moto"
        ``moto`` runs every AWS call in-process against moto; ``endpoint``
        sends them to ``endpoint_url`` (a moto server or LocalStack); ``aws``
        uses real AWS with credentials from the usual places.
    endpoint_url : str or None
        Required when ``backend`` is ``endpoint``.
    region : str, default "eu-west-1"
        AWS region of every resource.
    prefix : str, default "smartfactory"
        Prefix of every resource name, so several environments can share an
        account.
    environment : str, default "dev"
        Environment name, the second part of every resource name.
    limits : PipelineLimits
        Sizes and limits of the ingestion pipeline.
    """

    backend: Backend = field(default_factory=lambda: _backend_from_env())
    endpoint_url: str | None = field(
        default_factory=lambda: os.environ.get("SMARTFACTORY_ENDPOINT_URL") or None
    )
    region: str = field(default_factory=lambda: _env("REGION", "eu-west-1"))
    prefix: str = field(default_factory=lambda: _env("PREFIX", "smartfactory"))
    environment: str = field(default_factory=lambda: _env("ENVIRONMENT", "dev"))
    limits: PipelineLimits = field(default_factory=PipelineLimits)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.backend == "endpoint" and not self.endpoint_url:
            raise ValueError("backend 'endpoint' needs endpoint_url, got none")

    def name(self, resource: str) -> str:
        """Return the full name of a resource, such as ``smartfactory-dev-raw``."""
        return f"{self.prefix}-{self.environment}-{resource}"

    def resource(self, logical: str) -> str:
        """Return the full name of a pipeline resource by its logical name.

        Parameters
        ----------
        logical : str
            A key of :data:`RESOURCES`, such as ``"stream"``.

        Raises
        ------
        KeyError
            If ``logical`` is not a key of :data:`RESOURCES`.
        """
        if logical not in RESOURCES:
            raise KeyError(
                f"resource must be one of {', '.join(RESOURCES)}, got {logical!r}"
            )
        return self.name(RESOURCES[logical])

    def rule_name(self) -> str:
        """Return the IoT rule name (letters, digits and underscores only)."""
        return f"{self.prefix}_{self.environment}_{RESOURCES['iot_rule']}".replace(
            "-", "_"
        )

    def with_endpoint(self, endpoint_url: str | None) -> Settings:
        """Return a copy that talks to ``endpoint_url`` (unchanged when None)."""
        if endpoint_url is None:
            return self
        return replace(self, backend="endpoint", endpoint_url=endpoint_url)


def _backend_from_env() -> Backend:
    value = _env("BACKEND", "")
    if not value:
        return "endpoint" if os.environ.get("SMARTFACTORY_ENDPOINT_URL") else "moto"
    if value not in BACKENDS:
        raise ValueError(
            f"SMARTFACTORY_BACKEND must be one of {', '.join(BACKENDS)}, got {value!r}"
        )
    return cast(Backend, value)
