# The ingest function: the library's handler packaged as a zip, its own
# execution role scoped to the pipeline's resources, the Kinesis event source
# mapping with partial batch responses, a dead-letter queue, an encrypted log
# group and, as an option, provisioned concurrency against cold starts.
#
# Packaging: scripts/build_lambda.sh copies the library's runtime packages
# into var.source_dir; archive_file zips that folder. The heavy dependencies
# (pandas, numpy, pyarrow, aws-lambda-powertools) come from Lambda layers
# (var.layer_arns) because they exceed the 250 MB unzipped limit of a zip.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  qualifier = var.provisioned_concurrency > 0 ? aws_lambda_alias.live[0].arn : aws_lambda_function.this.arn
}

data "archive_file" "package" {
  type        = "zip"
  source_dir  = var.source_dir
  output_path = var.package_path
  excludes    = ["**/__pycache__/**"]
}

# --- Execution role -----------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "ingest" {
  name                 = "${var.function_name}-role"
  description          = "Execution role of the ingest function; see governance/iam_scope_matrix.csv."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid    = "ReadTelemetryStream"
    effect = "Allow"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "WriteRawZone"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${var.raw_bucket_arn}/raw/*", "${var.raw_bucket_arn}/quarantine/*", "${var.raw_bucket_arn}/duplicates/*"]
  }

  statement {
    sid       = "WriteCuratedZone"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${var.curated_bucket_arn}/readings/*"]
  }

  statement {
    sid       = "ReadProductionModel"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${var.models_bucket_arn}/models/*"]
  }

  statement {
    sid       = "LedgerLookupAndCommit"
    effect    = "Allow"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
    resources = [var.ledger_table_arn]
  }

  statement {
    sid       = "UpdateMachineState"
    effect    = "Allow"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.state_table_arn]
  }

  statement {
    sid       = "RecordAlerts"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem"]
    resources = [var.alerts_table_arn]
  }

  statement {
    sid       = "QuarantineToDeadLetterQueue"
    effect    = "Allow"
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }

  statement {
    sid       = "PublishAlerts"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [var.alert_topic_arn]
  }

  statement {
    sid       = "UseDataKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "SendTraces"
    effect    = "Allow"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "ingest" {
  name   = "ingest-least-privilege"
  role   = aws_iam_role.ingest.id
  policy = data.aws_iam_policy_document.ingest.json
}

# --- Logs and dead letters -----------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = var.dead_letter_queue_name
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

# --- The function --------------------------------------------------------------

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The function calls only regional AWS APIs; a VPC would add NAT or endpoint costs and no control.
  # checkov:skip=CKV_AWS_272:Code signing needs AWS Signer jobs in the deploy; the package is built from a tagged commit and its SHA-256 is recorded instead.
  function_name                  = var.function_name
  description                    = "Validate, deduplicate, score and store telemetry from Kinesis."
  role                           = aws_iam_role.ingest.arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = ["x86_64"]
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_s
  filename                       = data.archive_file.package.output_path
  source_code_hash               = data.archive_file.package.output_base64sha256
  layers                         = var.layer_arns
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  publish                        = var.provisioned_concurrency > 0

  environment {
    variables = {
      SMARTFACTORY_BACKEND        = "aws"
      SMARTFACTORY_PREFIX         = var.settings_prefix
      SMARTFACTORY_ENVIRONMENT    = var.settings_environment
      SMARTFACTORY_REGION         = data.aws_region.current.name
      SMARTFACTORY_SCORER         = var.scorer
      SMARTFACTORY_SLO_THRESHOLDS = jsonencode(var.slo_thresholds)
      POWERTOOLS_SERVICE_NAME     = "smartfactory-ingest"
    }
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.ingest]
  tags       = var.tags
}

resource "aws_lambda_alias" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  name             = "live"
  description      = "The published version that keeps warm instances."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_provisioned_concurrency_config" "live" {
  count = var.provisioned_concurrency > 0 ? 1 : 0

  function_name                     = aws_lambda_function.this.function_name
  qualifier                         = aws_lambda_alias.live[0].name
  provisioned_concurrent_executions = var.provisioned_concurrency
}

resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn               = var.stream_arn
  function_name                  = local.qualifier
  starting_position              = "TRIM_HORIZON"
  batch_size                     = var.batch_size
  maximum_retry_attempts         = var.maximum_retry_attempts
  bisect_batch_on_function_error = false
  function_response_types        = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.dead_letter.arn
    }
  }
}
