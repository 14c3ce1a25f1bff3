"""Encryption zones: every store encrypted with the key the document names."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartfactory_lib.governance.encryption import (
    check_encryption,
    load_zones,
    store_keys,
)
from smartfactory_lib.governance.terraform import TerraformCode


def test_every_real_store_uses_its_documented_key(
    repo: Path, terraform: TerraformCode
) -> None:
    """Check the real Terraform against encryption_zones.md, both ways."""
    zones = load_zones(repo / "governance" / "encryption_zones.md")

    assert check_encryption(terraform, zones) == []
    assert set(zones["key"]) == {"data_key", "audit_key", "SSE-S3"}


def test_no_real_store_is_unencrypted(terraform: TerraformCode) -> None:
    """Check that every store resolves to a key module or SSE-S3."""
    keys = {s.key for s in store_keys(terraform)}

    assert keys <= {"data_key", "audit_key", "SSE-S3"}


def test_audit_zone_is_separate_from_data_zone(
    repo: Path, terraform: TerraformCode
) -> None:
    """Check that the trail and AWS Config never use the data key."""
    stores = {s.address: s.key for s in store_keys(terraform)}

    audit = [a for a in stores if a.startswith(("module.trail.", "module.config."))]
    assert audit
    assert {stores[a] for a in audit} == {"audit_key"}


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("module.bad.aws_sns_topic.topic", "must be encrypted with data_key"),
        ("module.bad.aws_sqs_queue.plain", "got none"),
        ("module.bad.aws_sqs_queue.plain", "does not list it"),
        ("module.bad.aws_kinesis_stream.removed", "no such store exists"),
    ],
)
def test_broken_zones_are_reported(
    broken_repo: Path, broken_terraform: TerraformCode, address: str, message: str
) -> None:
    """Check that wrong keys, missing encryption and stale rows are reported."""
    zones = load_zones(broken_repo / "governance" / "encryption_zones.md")

    findings = check_encryption(broken_terraform, zones)

    assert any(f.location == address and message in f.message for f in findings)


def test_load_zones_needs_the_table(tmp_path: Path) -> None:
    """Check that a document without the zone table is refused."""
    path = tmp_path / "zones.md"
    path.write_text("# Zones\n\nNo table here.\n")

    with pytest.raises(ValueError, match="Store \\| Terraform address"):
        load_zones(path)
