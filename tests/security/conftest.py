"""Fixtures of the security tests: the real repository and a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartfactory_lib.governance.terraform import TerraformCode, load_terraform

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).with_name("fixtures") / "broken_repo"


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def broken_repo() -> Path:
    """A small repository in which every governance rule is broken once."""
    return BROKEN


@pytest.fixture(scope="session")
def terraform() -> TerraformCode:
    """The repository's Terraform, parsed once."""
    return load_terraform(ROOT / "terraform")


@pytest.fixture(scope="session")
def broken_terraform() -> TerraformCode:
    """The broken repository's Terraform."""
    return load_terraform(BROKEN / "terraform")
