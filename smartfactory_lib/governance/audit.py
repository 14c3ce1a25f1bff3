"""An audit trail of the pipeline's own AWS calls, recorded through boto3 hooks.

Local stand-in for CloudTrail's event history: moto does not implement
``LookupEvents``, so :class:`AuditTrail` records every AWS API call that the
library makes while it records, with what CloudTrail would say about it:
who made it, which action, on which resource, when and with what outcome
(success or the AWS error code).

It hooks botocore's ``before-parameter-build`` (the call's own parameters),
``before-call``, ``after-call`` and ``after-call-error`` events the way
:class:`~smartfactory_lib.cloud.cost.CostMeter` hooks
``before-parameter-build``: on boto3's default session, so that every
client created while recording is covered, plus the clients passed in. Both
can record the same run at once.

*Who* is the workload that would make the call in AWS, and so the role whose
grants it needs: the recorder walks the Python call stack to the innermost
frame of a known component (the ingest handler and the event source mapping
act as ``lambda.ingest``, the IoT rule as ``iot.rule``, resource creation as
``deployer``, and so on, see :data:`COMPONENT_ROLES`). The caller's access key
id is kept as well, as CloudTrail's ``userIdentity`` would.

Known limits: calls made by AWS on the pipeline's behalf (KMS requests by
S3, the event source mapping's own reads in AWS) are not visible to boto3;
a client created before recording starts is covered only if passed in; the
trail lives in memory.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import pandas as pd

from ..core.aws import event_hooks

__all__ = [
    "COMPONENT_ROLES",
    "IAM_ACTIONS",
    "STAND_IN_ACTIONS",
    "AuditEvent",
    "AuditTrail",
    "check_trail",
    "resource_of",
]

logger = logging.getLogger(__name__)

COMPONENT_ROLES: Final[tuple[tuple[str, str, str], ...]] = (
    # (module, qualified-name prefix, role); the innermost match wins.
    ("smartfactory_lib.cloud.handler", "", "lambda.ingest"),
    ("smartfactory_lib.cloud.stream", "KinesisPoller", "lambda.ingest"),
    ("smartfactory_lib.ml.registry", "ProductionScorer", "lambda.ingest"),
    ("smartfactory_lib.cloud.rule", "", "iot.rule"),
    ("smartfactory_lib.cloud.resources", "ensure_resources", "deployer"),
    ("smartfactory_lib.cloud.resources", "_", "deployer"),
    ("smartfactory_lib.transport", "", "provisioning"),
    ("smartfactory_lib.ml.registry", "ModelRegistry", "ml.registry"),
    ("smartfactory_lib.cloud.pipeline", "", "operator"),
    ("smartfactory_lib.cloud.queries", "", "analyst"),
)
"""Which workload a call belongs to, by the code that made it.

``lambda.ingest`` and ``iot.rule`` are roles of ``iam_scope_matrix.csv``;
``deployer`` (resources that Terraform creates in AWS), ``provisioning``,
``ml.registry``, ``operator`` and ``analyst`` are people or jobs outside the
deployed pipeline. A call from no known component is ``unknown``.
"""

IAM_ACTIONS: Final[dict[str, str]] = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
}
"""API operations whose IAM action has another name."""

STAND_IN_ACTIONS: Final[dict[tuple[str, str], str]] = {
    ("iot.rule", "kinesis:PutRecords"): "kinesis:PutRecord",
}
"""Calls a local stand-in makes differently from the AWS service it replaces.

The IoT rule stand-in batches its writes with ``PutRecords``; IoT Core's
Kinesis action calls ``PutRecord`` once per message, which is what the
rule's role is granted.
"""

_PARAM_RESOURCES: Final = (
    "TableName",
    "StreamName",
    "StreamARN",
    "QueueUrl",
    "TopicArn",
    "SecretId",
    "Name",
    "KeyId",
    "AliasName",
    "TargetKeyId",
    "FunctionName",
    "QueueName",
)


def resource_of(service: str, params: dict[str, Any]) -> str:
    """Return the resource a call acts on, from its parameters.

    S3 objects read ``s3://bucket/key`` (``s3://bucket/prefix*`` for a
    listing), batch DynamoDB calls name their tables; otherwise the first
    of the usual naming parameters, or ``-``.

    Examples
    --------
    >>> resource_of("s3", {"Bucket": "b", "Key": "raw/x.gz"})
    's3://b/raw/x.gz'
    """
    if "Bucket" in params:
        key = params.get("Key") or (
            f"{params['Prefix']}*" if params.get("Prefix") is not None else ""
        )
        return f"s3://{params['Bucket']}/{key}" if key else f"s3://{params['Bucket']}"
    if service == "dynamodb" and "RequestItems" in params:
        return ",".join(sorted(params["RequestItems"]))
    for name in _PARAM_RESOURCES:
        if params.get(name):
            return str(params[name])
    return "-"


def _component(frame: Any) -> tuple[str, str]:
    """Return (role, 'module:function') of the innermost known component."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("smartfactory_lib.") and not module.startswith(
            ("smartfactory_lib.governance", "smartfactory_lib.core")
        ):
            qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            for prefix, function, role in COMPONENT_ROLES:
                if module.startswith(prefix) and qualname.startswith(function):
                    return role, f"{module}:{qualname}"
        frame = frame.f_back
    return "unknown", "-"


@dataclass
class AuditEvent:
    """One AWS API call, as CloudTrail would record it.

    Attributes
    ----------
    time : datetime
        When the call was made (UTC).
    role : str
        The workload that made it (see :data:`COMPONENT_ROLES`).
    caller : str
        The code that made it, ``module:function``.
    access_key : str
        The access key id the call was signed with.
    service, action : str
        boto3 service name and API operation, such as ``s3`` and ``PutObject``.
    resource : str
        What it acted on (:func:`resource_of`).
    outcome : str
        ``success``, the AWS error code, the exception's name when no
        response arrived, or ``pending`` when the call never left botocore
        (its parameters failed validation).
    status : int
        HTTP status code (0 when no response arrived).
    duration_ms : float
        Time from request to response.
    """

    time: datetime
    role: str
    caller: str
    access_key: str
    service: str
    action: str
    resource: str
    outcome: str = "pending"
    status: int = 0
    duration_ms: float = 0.0

    @property
    def iam_action(self) -> str:
        """The IAM action the call needs, such as ``s3:PutObject``."""
        action = f"{self.service}:{self.action}"
        action = IAM_ACTIONS.get(action, action)
        return STAND_IN_ACTIONS.get((self.role, action), action)


@dataclass
class AuditTrail:
    """Record every boto3 call made while recording.

    Examples
    --------
    >>> trail = AuditTrail()
    >>> with trail.recording():  # doctest: +SKIP
    ...     run_pipeline(...)
    >>> trail.frame().head()  # doctest: +SKIP
    """

    events: list[AuditEvent] = field(default_factory=list)
    _open: dict[int, tuple[AuditEvent, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _before_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        try:
            role, caller = _component(sys._getframe(1))
            service = model.service_model.service_name
            event = AuditEvent(
                time=datetime.now(UTC),
                role=role,
                caller=caller,
                access_key="-",
                service=service,
                action=model.name,
                resource=resource_of(service, params or {}),
            )
            with self._lock:
                self.events.append(event)
                self._open[id(context)] = (event, time.perf_counter())
        except Exception:  # recording must never break the call it observes
            logger.exception(
                "Could not record a call of %s", getattr(model, "name", "?")
            )

    def _before_call(self, context: dict[str, Any], **kwargs: Any) -> None:
        with self._lock:
            entry = self._open.get(id(context))
        if entry is None:
            return
        credentials = getattr(kwargs.get("request_signer"), "_credentials", None)
        entry[0].access_key = str(getattr(credentials, "access_key", "") or "-")
        self._open[id(context)] = (entry[0], time.perf_counter())

    def _after_call(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        with self._lock:
            entry = self._open.pop(id(context), None)
        if entry is None:
            return
        event, started = entry
        event.duration_ms = (time.perf_counter() - started) * 1000.0
        event.status = int(getattr(http_response, "status_code", 0) or 0)
        error = (parsed or {}).get("Error", {}) if isinstance(parsed, dict) else {}
        event.outcome = str(error.get("Code")) if error.get("Code") else "success"

    def _after_error(
        self, exception: Exception, context: dict[str, Any], **_: Any
    ) -> None:
        with self._lock:
            entry = self._open.pop(id(context), None)
        if entry is None:
            return
        event, started = entry
        event.duration_ms = (time.perf_counter() - started) * 1000.0
        event.outcome = type(exception).__name__

    @contextmanager
    def recording(self, *clients: Any) -> Iterator[AuditTrail]:
        """Record the boto3 calls made inside the block.

        Parameters
        ----------
        *clients
            Clients created before the block; clients created inside it are
            covered automatically.
        """
        hooks = (
            ("before-parameter-build", self._before_build),
            ("before-call", self._before_call),
            ("after-call", self._after_call),
            ("after-call-error", self._after_error),
        )
        try:
            with event_hooks(hooks, *clients):
                yield self
        finally:
            logger.info("Audit trail holds %d calls", len(self.events))

    def frame(self) -> pd.DataFrame:
        """Return the trail as a table, one row per call, in call order."""
        columns = [f.name for f in AuditEvent.__dataclass_fields__.values()]
        if not self.events:
            return pd.DataFrame(columns=[*columns, "iam_action"])
        rows = [{**asdict(e), "iam_action": e.iam_action} for e in self.events]
        return pd.DataFrame(rows)


def check_trail(trail: pd.DataFrame, matrix: pd.DataFrame) -> pd.DataFrame:
    """Check each recorded call against the grants of the role that made it.

    Parameters
    ----------
    trail : pandas.DataFrame
        From :meth:`AuditTrail.frame`.
    matrix : pandas.DataFrame
        From :func:`~.iam.load_matrix`.

    Returns
    -------
    pandas.DataFrame
        One row per role and IAM action: ``calls``, ``failed`` (calls whose
        outcome was not success) and ``granted``, which is True or False for
        roles of the matrix and missing (``<NA>``) for workloads outside it.
    """
    granted: dict[str, set[str]] = {}
    for row in matrix.itertuples(index=False):
        granted.setdefault(row.role, set()).update(row.actions)
    if trail.empty:
        return pd.DataFrame(
            columns=["role", "iam_action", "calls", "failed", "granted"]
        )
    table = (
        trail.assign(failed=trail["outcome"] != "success")
        .groupby(["role", "iam_action"], as_index=False)
        .agg(calls=("action", "size"), failed=("failed", "sum"))
    )
    table["granted"] = pd.array(
        [
            (action in granted[role]) if role in granted else pd.NA
            for role, action in zip(table["role"], table["iam_action"], strict=True)
        ],
        dtype="boolean",
    )
    return table
