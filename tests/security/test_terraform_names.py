"""Resource names and limits: Terraform and smartfactory_lib.core.config agree."""

from __future__ import annotations

import pytest

from smartfactory_lib.core.config import RESOURCES, Settings
from smartfactory_lib.governance.checks import check_names, evaluate
from smartfactory_lib.governance.terraform import TerraformCode
from smartfactory_lib.ml.registry import ModelRegistry
from smartfactory_lib.transport.credentials import secret_name


def test_every_resource_name_agrees_with_config(terraform: TerraformCode) -> None:
    """Check that local.names has config's keys and config's names."""
    assert check_names(terraform) == []
    assert set(terraform.locals["example"]["names"]) == set(RESOURCES)


def test_names_outside_resources_agree(terraform: TerraformCode) -> None:
    """Check the model registry bucket and the device secret prefix."""
    settings = Settings(backend="moto")
    local = terraform.locals["example"]
    variables = {"prefix": settings.prefix, "environment": settings.environment}

    bucket = evaluate(local["models_bucket"], variables)
    prefix = evaluate(local["device_prefix"], variables)

    assert bucket == ModelRegistry(settings=settings).bucket
    assert secret_name("m0001", settings) == f"{prefix}/m0001"


def test_module_defaults_use_config_names(terraform: TerraformCode) -> None:
    """Check that each module's default names are the dev environment's."""
    settings = Settings(backend="moto", prefix="smartfactory", environment="dev")
    defaults = {
        (b.unit, b.name): b.body.get("default") for b in terraform.find("variable")
    }

    assert defaults[("kinesis", "stream_name")] == settings.resource("stream")
    assert defaults[("lambda", "function_name")] == settings.resource("ingest_function")
    assert defaults[("iot", "rule_name")] == settings.rule_name()
    assert defaults[("dynamodb", "ledger_table_name")] == settings.resource(
        "ledger_table"
    )


def test_broken_names_are_reported(broken_terraform: TerraformCode) -> None:
    """Check that missing, unknown and wrong names and limits are reported."""
    messages = [f.message for f in check_names(broken_terraform)]

    assert any("must name the resource 'alert_topic'" in m for m in messages)
    assert any(
        "'unknown_name', which config.RESOURCES does not know" in m for m in messages
    )
    assert any("got 'smartfactory-dev-raw-data'" in m for m in messages)
    assert any("PipelineLimits.shard_count = 2, got 7" in m for m in messages)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("${var.prefix}-${var.environment}-raw", "sf-prod-raw"),
        ('replace("${var.prefix}_${var.environment}_x", "-", "_")', "sf_prod_x"),
    ],
)
def test_evaluate_supports_names(expression: str, expected: str) -> None:
    """Check the small HCL evaluator on the forms names use."""
    assert evaluate(expression, {"prefix": "sf", "environment": "prod"}) == expected


def test_evaluate_refuses_unknown_variables() -> None:
    """Check that an unknown variable is named in the error."""
    with pytest.raises(ValueError, match="unknown variable var.region"):
        evaluate("${var.region}-x", {})
