# One Secrets Manager secret per machine for its MQTT credentials, encrypted
# with the data key, and the policy that lets the broker host read them.
#
# Terraform creates the secrets empty: the passwords are generated and stored
# by the provisioning step (smartfactory_lib.transport.credentials), so no
# password ever appears in Terraform code, plans or state.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Every device secret, and only those: <name_prefix>/<machine_id>-<random suffix>.
  device_credentials = "arn:${data.aws_partition.current.partition}:secretsmanager:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:secret:${var.name_prefix}/*"
}

resource "aws_secretsmanager_secret" "device" {
  # checkov:skip=CKV2_AWS_57:Passwords are rotated by re-running device provisioning, which also updates the broker; no rotation function is deployed.
  for_each = toset(var.machine_ids)

  name                    = "${var.name_prefix}/${each.value}"
  description             = "MQTT credentials of machine ${each.value}."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = merge(var.tags, { machine_id = each.value })
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ReadDeviceCredentials"
    effect    = "Allow"
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    resources = [local.device_credentials]
  }

  statement {
    sid       = "DecryptWithDataKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_policy" "reader" {
  name        = "${var.name_prefix}-credentials-reader"
  description = "Read the machines' MQTT credentials; attach to the broker host's role."
  policy      = data.aws_iam_policy_document.reader.json
  tags        = var.tags
}
