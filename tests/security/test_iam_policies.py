"""IAM policy validation and the scope-matrix cross-check, on real and broken code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from smartfactory_lib.governance.iam import (
    UNSCOPABLE_ACTIONS,
    cross_check,
    load_matrix,
    managed_attachments,
    terraform_grants,
    validate_policies,
)
from smartfactory_lib.governance.terraform import (
    TerraformCode,
    load_terraform,
    normalize,
    policy_documents,
)


def test_normalize_strips_quotes_and_expression_wrappers() -> None:
    """Check that literals lose quotes, expressions lose ${}, interpolations stay."""
    assert normalize('"abc"') == "abc"
    assert normalize("${var.x}") == "var.x"
    assert normalize('"${var.arn}/raw/*"') == "${var.arn}/raw/*"
    assert normalize({"a": ['"x"'], "__is_block__": True}) == {"a": ["x"]}


def test_policy_documents_are_all_attached(terraform: TerraformCode) -> None:
    """Check that every policy document of the repository is attached to something."""
    documents = policy_documents(terraform)

    assert len(documents) >= 10
    assert not [d.address for d in documents if d.kind == "unused"]
    principals = {d.principal for d in documents if d.kind == "identity"}
    assert {"lambda.ingest", "iot.rule", "iot.device"} <= principals


def test_real_policies_follow_every_rule(terraform: TerraformCode) -> None:
    """Check that the repository's policies grant no wildcard and scope resources."""
    assert validate_policies(policy_documents(terraform)) == []


def test_real_policies_use_star_only_for_unscopable_actions(
    terraform: TerraformCode,
) -> None:
    """Check that resource '*' in identity policies only carries unscopable actions."""
    starred = {
        g.action
        for g in terraform_grants(policy_documents(terraform))
        if g.resource == "*"
    }

    assert starred
    assert starred <= UNSCOPABLE_ACTIONS


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("EverythingEverywhere", "got the wildcard '*'"),
        ("AllOfS3", "got the wildcard 's3:*'"),
        ("ScopableOnStar", "got dynamodb:PutItem"),
        ("NotActions", "must not use not_actions"),
        ("PublicRead", "must name its principals"),
        ("AnyoneMayAssume", "must name its principals, got 'AWS:*'"),
        ("ServiceForAnyAccount", "aws:SourceAccount or aws:SourceArn condition"),
    ],
)
def test_broken_policies_are_reported(
    broken_terraform: TerraformCode, statement: str, message: str
) -> None:
    """Check that each deliberately broken statement gives its finding."""
    findings = validate_policies(policy_documents(broken_terraform))

    assert any(
        f.location.endswith(f"statement {statement}") and message in f.message
        for f in findings
    ), findings


def test_deny_statements_may_use_wildcards(terraform: TerraformCode) -> None:
    """Check that the TLS-only Deny with s3:* exists and is not a finding."""
    denies = [
        s
        for d in policy_documents(terraform)
        for s in d.statements
        if s.effect == "Deny"
    ]

    assert any("s3:*" in s.actions for s in denies)


def test_matrix_matches_terraform_both_ways(
    repo: Path, terraform: TerraformCode
) -> None:
    """Check that the scope matrix and the Terraform grants are the same set."""
    matrix = load_matrix(repo / "governance" / "iam_scope_matrix.csv")

    assert cross_check(policy_documents(terraform), terraform, matrix) == []
    assert set(matrix["role"]) >= {"lambda.ingest", "iot.rule", "config_rules.recorder"}


def test_matrix_lists_managed_policies(terraform: TerraformCode) -> None:
    """Check that the AWS Config role's managed policy is seen as a grant."""
    actions = {g.action for g in managed_attachments(terraform)}

    assert "service-role/AWS_ConfigRole" in actions


def test_broken_matrix_fails_both_ways(
    broken_repo: Path, broken_terraform: TerraformCode
) -> None:
    """Check that a missing row, an extra row and a wrong service are reported."""
    matrix = load_matrix(broken_repo / "governance" / "iam_scope_matrix.csv")

    messages = [
        f.message
        for f in cross_check(
            policy_documents(broken_terraform), broken_terraform, matrix
        )
    ]

    assert any("which the scope matrix does not list" in m for m in messages)
    assert any("which Terraform does not grant" in m for m in messages)
    assert any("every action must start with 'dynamodb:'" in m for m in messages)


def test_removing_a_real_matrix_row_fails(
    repo: Path, terraform: TerraformCode, tmp_path: Path
) -> None:
    """Check that deleting one row of the real matrix is caught."""
    matrix = load_matrix(repo / "governance" / "iam_scope_matrix.csv")

    findings = cross_check(policy_documents(terraform), terraform, matrix.iloc[1:])

    assert findings
    assert all(f.location.startswith("Terraform role lambda.ingest") for f in findings)


def test_adding_a_grant_to_terraform_fails(repo: Path, tmp_path: Path) -> None:
    """Check that a grant added to a module but not to the matrix is caught."""
    copy = tmp_path / "terraform"
    shutil.copytree(repo / "terraform", copy)
    main = copy / "modules" / "lambda" / "main.tf"
    main.write_text(
        main.read_text().replace(
            'actions   = ["dynamodb:UpdateItem"]',
            'actions   = ["dynamodb:UpdateItem", "dynamodb:DeleteItem"]',
        )
    )
    code = load_terraform(copy)
    matrix = load_matrix(repo / "governance" / "iam_scope_matrix.csv")

    findings = cross_check(policy_documents(code), code, matrix)

    assert [f.message for f in findings] == [
        "grants dynamodb:DeleteItem on var.state_table_arn, which the scope matrix "
        "does not list"
    ]


def test_load_matrix_rejects_missing_columns(tmp_path: Path) -> None:
    """Check that a matrix without a rationale column is refused."""
    path = tmp_path / "matrix.csv"
    pd.DataFrame(
        {
            "role": ["r"],
            "service": ["s3"],
            "actions": ["s3:GetObject"],
            "resources": ["x"],
        }
    ).to_csv(path, index=False)

    with pytest.raises(ValueError, match="missing rationale"):
        load_matrix(path)


def test_load_terraform_rejects_invalid_hcl(tmp_path: Path) -> None:
    """Check that a file that is not HCL is named in the error."""
    (tmp_path / "bad.tf").write_text('resource "x" {\n')

    with pytest.raises(ValueError, match="bad.tf is not valid HCL"):
        load_terraform(tmp_path)
