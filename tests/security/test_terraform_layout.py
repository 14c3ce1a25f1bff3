"""Terraform layout: files, documented variables and outputs, governance READMEs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smartfactory_lib.governance.terraform import TerraformCode, format_problems

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (ROOT / "terraform" / "modules").iterdir() if p.is_dir())
EXPECTED = {
    "iot",
    "kinesis",
    "lambda",
    "s3_data_lake",
    "dynamodb",
    "sns",
    "cloudwatch",
    "cloudtrail",
    "config_rules",
    "secrets",
    "kms",
}


def test_every_module_exists() -> None:
    """Check that the eleven modules of the pipeline are all there."""
    assert {p.name for p in MODULES} == EXPECTED


@pytest.mark.parametrize("module", MODULES, ids=[p.name for p in MODULES])
def test_module_has_its_files_and_a_governance_section(module: Path) -> None:
    """Check the four Terraform files and a README ending with its governance."""
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).is_file(), f"{module.name} lacks {name}"
    readme = (module / "README.md").read_text()
    assert "## Governance" in readme
    assert readme.rstrip().rfind("## ") == readme.rfind("## Governance")


def test_every_variable_and_output_is_described(terraform: TerraformCode) -> None:
    """Check description, type and default on every variable; description on outputs."""
    for variable in terraform.find("variable"):
        where = f"{variable.unit}/var.{variable.name}"
        assert variable.body.get("description"), f"{where} has no description"
        assert "type" in variable.body, f"{where} has no type"
        assert "default" in variable.body, f"{where} has no default"
    for output in terraform.find("output"):
        assert output.body.get("description"), f"{output.unit}/{output.name}"


def test_versions_pin_lower_bounds_only(terraform: TerraformCode) -> None:
    """Check that every versions.tf pins Terraform and providers with '>='."""
    for path in (ROOT / "terraform").rglob("versions.tf"):
        text = path.read_text()
        assert 'required_version = ">=' in text, path
        assert re.search(r'^\s+version\s+=\s+">=', text, re.MULTILINE), path


def test_example_readme_says_what_it_creates_and_costs() -> None:
    """Check the example environment's README sections."""
    readme = (ROOT / "terraform/environments/example/README.md").read_text()

    assert "## What it creates" in readme
    assert "## What it costs" in readme
    assert "data/aws_prices.csv" in readme


def test_layout_matches_terraform_fmt(repo: Path, tmp_path: Path) -> None:
    """Check indentation and '=' alignment, and that a misaligned copy fails."""
    assert format_problems(repo / "terraform") == []
    broken = tmp_path / "main.tf"
    broken.write_text('resource "x" "y" {\n  name = "a"\n  description = "b"\n}\n')

    problems = format_problems(broken)

    assert [(line, message) for _, line, message in problems] == [
        (2, "'=' of name must be in column 15"),
    ]
