"""Encryption at rest, checked against the zones the book documents.

``governance/encryption_zones.md`` holds a table with one row per data store:
its Terraform address in the example environment
(``module.tables.aws_dynamodb_table.this``), its zone and the key that must
encrypt it (the name of a ``kms`` module instance, such as ``data_key``, or
``SSE-S3`` where AWS supports no customer managed key). :func:`store_keys`
finds every store in the Terraform and follows its key attribute through the
module's input to the key module it comes from; :func:`check_encryption`
compares the two both ways: a store without encryption, a store the document
does not list, a store encrypted with another key than the document names,
and a documented store that does not exist are all violations.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from .iam import Finding
from .terraform import TerraformCode

__all__ = [
    "KEY_ATTRIBUTES",
    "StoreKey",
    "check_encryption",
    "load_zones",
    "store_keys",
]

logger = logging.getLogger(__name__)

KEY_ATTRIBUTES: Final[dict[str, tuple[str, ...]]] = {
    "aws_s3_bucket_server_side_encryption_configuration": (
        "rule",
        "apply_server_side_encryption_by_default",
        "kms_master_key_id",
    ),
    "aws_dynamodb_table": ("server_side_encryption", "kms_key_arn"),
    "aws_kinesis_stream": ("kms_key_id",),
    "aws_sns_topic": ("kms_master_key_id",),
    "aws_sqs_queue": ("kms_master_key_id",),
    "aws_secretsmanager_secret": ("kms_key_id",),
    "aws_cloudwatch_log_group": ("kms_key_id",),
    "aws_cloudtrail": ("kms_key_id",),
    "aws_lambda_function": ("kms_key_arn",),
    "aws_config_delivery_channel": ("s3_kms_key_arn",),
}
"""Resource type -> path of the attribute that names its KMS key."""

SSE_S3: Final = "SSE-S3"
NONE: Final = "none"


@dataclass(frozen=True)
class StoreKey:
    """A data store and the key that encrypts it.

    Attributes
    ----------
    address : str
        ``module.<instance>.<type>.<name>`` in the environment.
    resource_type : str
        Terraform resource type.
    key : str
        A key module instance (``data_key``), ``SSE-S3`` or ``none``.
    """

    address: str
    resource_type: str
    key: str


def _dig(body: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    if isinstance(body, list):
        body = body[0] if body else None
    return body


def _sse_algorithm(body: dict[str, Any]) -> Any:
    return _dig(
        body, ("rule", "apply_server_side_encryption_by_default", "sse_algorithm")
    )


def _resolve(value: Any, inputs: dict[str, Any]) -> str:
    """Follow var.X to the module input and module.K.key_arn to the key K."""
    if value is None:
        return NONE
    text = str(value)
    match = re.fullmatch(r"var\.(\w+)", text)
    if match:
        text = str(inputs.get(match.group(1), "null"))
    if text in ("null", "None", ""):
        return NONE
    match = re.fullmatch(r"module\.(\w+)\.key_(?:arn|id)", text)
    return match.group(1) if match else text


def store_keys(code: TerraformCode, environment: str = "example") -> list[StoreKey]:
    """Find every data store of an environment and the key that encrypts it.

    Parameters
    ----------
    code : TerraformCode
        From :func:`~.terraform.load_terraform`.
    environment : str, default "example"
        The environment whose module instances are followed.

    Returns
    -------
    list of StoreKey
        One per store resource block of each module instance.
    """
    stores = []
    for instance in code.find("module", unit=environment):
        unit = Path(str(instance.body.get("source", ""))).name
        for block in code.find("resource", unit=unit):
            path = KEY_ATTRIBUTES.get(block.type)
            if path is None:
                continue
            if block.type.startswith("aws_s3_bucket_server") and str(
                _sse_algorithm(block.body)
            ) in ("AES256",):
                key = SSE_S3
            else:
                key = _resolve(_dig(block.body, path), instance.body)
            stores.append(
                StoreKey(f"module.{instance.name}.{block.address}", block.type, key)
            )
    return stores


def load_zones(path: Path | str) -> pd.DataFrame:
    """Read the zone table of ``encryption_zones.md``.

    The table is the first Markdown table whose header has the columns
    ``Store``, ``Terraform address``, ``Zone`` and ``Key``.

    Returns
    -------
    pandas.DataFrame
        Columns ``store``, ``address``, ``zone``, ``key``.

    Raises
    ------
    ValueError
        If the document has no such table.
    """
    rows: list[list[str]] = []
    header: list[str] | None = None
    for line in Path(path).read_text().splitlines():
        if not line.startswith("|"):
            if header is not None and rows:
                break
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if header is None:
            if [c.lower() for c in cells[:4]] == [
                "store",
                "terraform address",
                "zone",
                "key",
            ]:
                header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        rows.append(cells[:4])
    if header is None:
        raise ValueError(
            f"{path} needs a table with columns Store | Terraform address | "
            "Zone | Key, found none"
        )
    return pd.DataFrame(rows, columns=["store", "address", "zone", "key"])


def check_encryption(
    code: TerraformCode, zones: pd.DataFrame, environment: str = "example"
) -> list[Finding]:
    """Check every store against the zone table, both ways.

    Parameters
    ----------
    code : TerraformCode
        From :func:`~.terraform.load_terraform`.
    zones : pandas.DataFrame
        From :func:`load_zones`.
    environment : str, default "example"
        The environment to check.

    Returns
    -------
    list of Finding
        Empty when every store is encrypted with the key its row names.
    """
    found = {s.address: s for s in store_keys(code, environment)}
    documented = dict(zip(zones["address"], zones["key"], strict=True))
    findings = []
    for address, store in sorted(found.items()):
        if store.key == NONE:
            findings.append(
                Finding(
                    "encryption",
                    address,
                    "must be encrypted with a named key, got none",
                )
            )
        if address not in documented:
            findings.append(
                Finding(
                    "encryption",
                    address,
                    f"is a data store encrypted with {store.key}, but "
                    "encryption_zones.md does not list it",
                )
            )
        elif documented[address] != store.key and store.key != NONE:
            findings.append(
                Finding(
                    "encryption",
                    address,
                    f"must be encrypted with {documented[address]} as documented, "
                    f"got {store.key}",
                )
            )
    for address in sorted(set(documented) - set(found)):
        findings.append(
            Finding(
                "encryption",
                address,
                "is listed in encryption_zones.md but no such store exists "
                "in Terraform",
            )
        )
    logger.info(
        "Checked encryption of %d stores against %d documented: %d finding(s)",
        len(found),
        len(documented),
        len(findings),
    )
    return findings
