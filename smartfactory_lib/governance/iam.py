"""Least privilege, checked: IAM policy rules and the scope matrix cross-check.

:func:`validate_policies` applies the repository's IAM rules to every policy
document found in the Terraform:

* no Allow statement grants an action with a wildcard (``*``, ``s3:*`` or
  ``s3:Get*``); Deny statements may use wildcards, because they only take
  rights away;
* no Allow statement of an identity policy names the resource ``*`` unless
  every action in it is one AWS cannot scope to a resource
  (:data:`UNSCOPABLE_ACTIONS`); in a KMS key policy ``*`` means "this key"
  and is the only form AWS accepts;
* no Allow statement of a resource, key or trust policy has the principal
  ``*``;
* a trust policy that lets an AWS service assume a role binds it to this
  account with an ``aws:SourceAccount`` or ``aws:SourceArn`` condition, so
  that the service cannot be made to act for another account (the confused
  deputy);
* no Allow statement uses ``not_actions`` or ``not_resources``, and every
  action and resource list can be read (is literal, or a ``local`` list).

:func:`cross_check` compares the grants of every identity policy with
``governance/iam_scope_matrix.csv`` both ways, row by row: a grant that the
matrix lacks and a matrix row that Terraform does not grant are both
violations. Managed-policy attachments are compared the same way.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from .terraform import PolicyDocument, Statement, TerraformCode

__all__ = [
    "MATRIX_COLUMNS",
    "UNSCOPABLE_ACTIONS",
    "Finding",
    "Grant",
    "cross_check",
    "load_matrix",
    "managed_attachments",
    "terraform_grants",
    "validate_policies",
]

logger = logging.getLogger(__name__)

MATRIX_COLUMNS: Final = ("role", "service", "actions", "resources", "rationale")
"""Columns of ``iam_scope_matrix.csv``; actions and resources separated by ``;``."""

UNSCOPABLE_ACTIONS: Final = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
        "kinesis:ListStreams",
    }
)
"""Actions for which AWS supports no resource-level scoping (``Resource: *``)."""

MANAGED: Final = "managed-policy"
"""The ``service`` of matrix rows that stand for an attached managed policy."""


@dataclass(frozen=True)
class Finding:
    """One violation found by a check.

    Attributes
    ----------
    check : str
        The check that found it, such as ``iam`` or ``matrix``.
    location : str
        Where: a policy document, a matrix row or a file.
    message : str
        What is wrong, saying what was expected and what was found.
    """

    check: str
    location: str
    message: str


@dataclass(frozen=True, order=True)
class Grant:
    """One action on one resource granted to one principal.

    Attributes
    ----------
    role : str
        ``<module>.<role or policy>``, such as ``lambda.ingest``.
    action : str
        An IAM action (``s3:PutObject``) or, for a managed policy, its name.
    resource : str
        The resource as written in Terraform (``var.stream_arn``).
    """

    role: str
    action: str
    resource: str


def _has_wildcard(action: str) -> bool:
    return "*" in action


def validate_policies(documents: list[PolicyDocument]) -> list[Finding]:
    """Apply the IAM rules to every policy document.

    Parameters
    ----------
    documents : list of PolicyDocument
        From :func:`~.terraform.policy_documents`.

    Returns
    -------
    list of Finding
        One per broken rule; empty when every policy complies.
    """
    findings = []
    for document in documents:
        for number, statement in enumerate(document.statements, start=1):
            where = f"{document.address} statement {statement.sid or number}"
            if statement.effect != "Allow":
                continue
            for expression in statement.unresolved:
                findings.append(
                    Finding(
                        "iam",
                        where,
                        "actions and resources must be literal lists or local lists, "
                        f"got the expression {expression!r}",
                    )
                )
            if statement.not_actions or statement.not_resources:
                findings.append(
                    Finding(
                        "iam",
                        where,
                        "an Allow statement must not use not_actions or "
                        "not_resources, got one",
                    )
                )
            for action in statement.actions:
                if _has_wildcard(action):
                    findings.append(
                        Finding(
                            "iam",
                            where,
                            "actions must be named one by one, "
                            f"got the wildcard {action!r}",
                        )
                    )
            if document.kind in ("identity", "unused"):
                findings += _check_resources(
                    where, statement.actions, statement.resources
                )
            if document.kind == "trust":
                findings += _check_trust(where, statement)
            if document.kind in ("resource", "key", "trust"):
                for principal in statement.principals:
                    if principal.split(":", 1)[-1] == "*":
                        findings.append(
                            Finding(
                                "iam",
                                where,
                                "an Allow statement must name its "
                                f"principals, got {principal!r}",
                            )
                        )
            if document.kind == "resource" and "*" in statement.resources:
                findings.append(
                    Finding(
                        "iam",
                        where,
                        "a resource policy must name its resources, got '*'",
                    )
                )
    logger.info(
        "Validated %d policy documents: %d finding(s)", len(documents), len(findings)
    )
    return findings


_SOURCE_KEYS: Final = frozenset({"aws:SourceAccount", "aws:SourceArn"})


def _check_trust(where: str, statement: Statement) -> list[Finding]:
    services = [p for p in statement.principals if p.startswith("Service:")]
    if services and not _SOURCE_KEYS & set(statement.condition_keys):
        return [
            Finding(
                "iam",
                where,
                "a trust policy for a service must bind it to this account with "
                "an aws:SourceAccount or aws:SourceArn condition, got "
                f"{', '.join(statement.condition_keys) or 'no condition'} for "
                f"{', '.join(services)}",
            )
        ]
    return []


def _check_resources(
    where: str, actions: tuple[str, ...], resources: tuple[str, ...]
) -> list[Finding]:
    if not resources:
        return [
            Finding("iam", where, "an Allow statement must list resources, got none")
        ]
    if "*" not in resources:
        return []
    scopable = sorted(a for a in actions if a not in UNSCOPABLE_ACTIONS)
    if not scopable:
        return []
    return [
        Finding(
            "iam",
            where,
            "resource '*' is allowed only for actions AWS cannot scope, got "
            f"{', '.join(scopable)}",
        )
    ]


def terraform_grants(documents: list[PolicyDocument]) -> set[Grant]:
    """Return every (role, action, resource) that identity policies allow."""
    grants = set()
    for document in documents:
        if document.kind != "identity":
            continue
        for statement in document.statements:
            if statement.effect != "Allow":
                continue
            for action in statement.actions:
                for resource in statement.resources:
                    grants.add(Grant(document.principal, action, resource))
    return grants


def managed_attachments(code: TerraformCode) -> set[Grant]:
    """Return each managed policy attached to a role, as a :class:`Grant`.

    The action is the policy's name after ``policy/`` (for example
    ``service-role/AWS_ConfigRole``) and the resource is ``-``.
    """
    grants = set()
    for block in code.find("resource", "aws_iam_role_policy_attachment"):
        role = re.match(
            r"^aws_iam_role\.(\w+)\.(?:name|id)$", str(block.body.get("role"))
        )
        owner = role.group(1) if role else str(block.body.get("role"))
        arn = str(block.body.get("policy_arn", ""))
        grants.add(Grant(f"{block.unit}.{owner}", arn.split(":policy/", 1)[-1], "-"))
    return grants


def load_matrix(path: Path | str) -> pd.DataFrame:
    """Read the IAM scope matrix.

    Parameters
    ----------
    path : pathlib.Path or str
        ``governance/iam_scope_matrix.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per CSV row, with ``actions`` and ``resources`` as lists.

    Raises
    ------
    ValueError
        If a column is missing or a row has an empty field.
    """
    with Path(path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = set(rows[0]) if rows else set()
    missing = [c for c in MATRIX_COLUMNS if c not in columns]
    if missing:
        raise ValueError(
            f"the scope matrix needs columns {', '.join(MATRIX_COLUMNS)}, "
            f"missing {', '.join(missing)}"
        )
    for number, row in enumerate(rows, start=2):
        empty = [c for c in MATRIX_COLUMNS if not (row.get(c) or "").strip()]
        if empty:
            raise ValueError(
                f"{path} line {number}: every field must be filled, "
                f"got an empty {', '.join(empty)}"
            )
    frame = pd.DataFrame(rows, columns=list(MATRIX_COLUMNS))
    for column in ("actions", "resources"):
        frame[column] = frame[column].map(
            lambda text: [part.strip() for part in text.split(";") if part.strip()]
        )
    return frame


def matrix_grants(matrix: pd.DataFrame) -> dict[Grant, int]:
    """Return each grant of the matrix with its row number (1 = first data row)."""
    grants: dict[Grant, int] = {}
    for number, row in enumerate(matrix.itertuples(index=False), start=1):
        for action in row.actions:
            for resource in row.resources:
                grants.setdefault(Grant(row.role, action, resource), number)
    return grants


def cross_check(
    documents: list[PolicyDocument], code: TerraformCode, matrix: pd.DataFrame
) -> list[Finding]:
    """Compare Terraform's grants with the scope matrix, both ways.

    Parameters
    ----------
    documents : list of PolicyDocument
        From :func:`~.terraform.policy_documents`.
    code : TerraformCode
        For the managed-policy attachments.
    matrix : pandas.DataFrame
        From :func:`load_matrix`.

    Returns
    -------
    list of Finding
        A grant missing from the matrix, a matrix row granting nothing in
        Terraform, or a row whose ``service`` is not its actions' prefix.
    """
    granted = terraform_grants(documents) | managed_attachments(code)
    listed = matrix_grants(matrix)
    findings = []
    for grant in sorted(granted - set(listed)):
        findings.append(
            Finding(
                "matrix",
                f"Terraform role {grant.role}",
                f"grants {grant.action} on {grant.resource}, which the scope matrix "
                "does not list",
            )
        )
    for grant in sorted(set(listed) - granted):
        findings.append(
            Finding(
                "matrix",
                f"matrix row {listed[grant]} ({grant.role})",
                f"lists {grant.action} on {grant.resource}, "
                "which Terraform does not grant",
            )
        )
    for number, row in enumerate(matrix.itertuples(index=False), start=1):
        for action in row.actions:
            prefix = MANAGED if row.service == MANAGED else f"{row.service}:"
            if row.service != MANAGED and not action.startswith(prefix):
                findings.append(
                    Finding(
                        "matrix",
                        f"matrix row {number} ({row.role})",
                        f"service is {row.service!r}, so every action must start with "
                        f"{prefix!r}, got {action!r}",
                    )
                )
    logger.info(
        "Cross-checked %d Terraform grants with %d matrix grants: %d finding(s)",
        len(granted),
        len(listed),
        len(findings),
    )
    return findings
