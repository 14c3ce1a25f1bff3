# AWS Config: a recorder of every supported resource, delivery to the audit
# bucket, and managed rules for encryption and public access.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  rules = {
    s3-bucket-sse-enabled          = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
    s3-bucket-public-read-blocked  = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
    s3-bucket-public-write-blocked = "S3_BUCKET_PUBLIC_WRITE_PROHIBITED"
    s3-bucket-level-public-blocked = "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED"
    s3-bucket-tls-only             = "S3_BUCKET_SSL_REQUESTS_ONLY"
    dynamodb-table-encrypted-kms   = "DYNAMODB_TABLE_ENCRYPTED_KMS"
    dynamodb-pitr-enabled          = "DYNAMODB_PITR_ENABLED"
    kinesis-stream-encrypted       = "KINESIS_STREAM_ENCRYPTED"
    sns-encrypted-kms              = "SNS_ENCRYPTED_KMS"
    sqs-encrypted                  = "SQS_QUEUE_ENCRYPTED"
    secrets-use-cmk                = "SECRETSMANAGER_USING_CMK"
    kms-key-rotation-enabled       = "CMK_BACKING_KEY_ROTATION_ENABLED"
    cloudtrail-encrypted           = "CLOUD_TRAIL_ENCRYPTION_ENABLED"
    cloudtrail-log-validation      = "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED"
    cloudwatch-log-group-encrypted = "CLOUDWATCH_LOG_GROUP_ENCRYPTED"
    lambda-function-public-blocked = "LAMBDA_FUNCTION_PUBLIC_ACCESS_PROHIBITED"
    iam-root-access-key-absent     = "IAM_ROOT_ACCESS_KEY_CHECK"
    iam-policy-no-admin-statements = "IAM_POLICY_NO_STATEMENTS_WITH_ADMIN_ACCESS"
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "recorder" {
  name                 = "${var.name}-config-recorder"
  description          = "Role of the AWS Config recorder; see governance/iam_scope_matrix.csv."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "recorder" {
  role       = aws_iam_role.recorder.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "delivery" {
  statement {
    sid       = "DeliverSnapshots"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${var.delivery_bucket_arn}/config/*"]
  }

  statement {
    sid       = "CheckDeliveryBucket"
    effect    = "Allow"
    actions   = ["s3:GetBucketAcl"]
    resources = [var.delivery_bucket_arn]
  }

  statement {
    sid       = "EncryptSnapshots"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "delivery" {
  name   = "config-delivery"
  role   = aws_iam_role.recorder.id
  policy = data.aws_iam_policy_document.delivery.json
}

resource "aws_config_configuration_recorder" "this" {
  name     = "${var.name}-recorder"
  role_arn = aws_iam_role.recorder.arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = true
  }
}

resource "aws_config_delivery_channel" "this" {
  name           = "${var.name}-delivery"
  s3_bucket_name = var.delivery_bucket_name
  s3_key_prefix  = "config"
  s3_kms_key_arn = var.kms_key_arn

  snapshot_delivery_properties {
    delivery_frequency = var.snapshot_frequency
  }

  depends_on = [aws_config_configuration_recorder.this]
}

resource "aws_config_configuration_recorder_status" "this" {
  name       = aws_config_configuration_recorder.this.name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "managed" {
  for_each = local.rules

  name = "${var.name}-${each.key}"

  source {
    owner             = "AWS"
    source_identifier = each.value
  }

  depends_on = [aws_config_configuration_recorder_status.this]
  tags       = var.tags
}
