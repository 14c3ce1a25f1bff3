# IoT Core: the machine thing type, the device policy and the topic rule that
# forwards telemetry into Kinesis.
#
# The device policy lets a device connect only with its own thing name as
# client ID and publish only to its own topics,
# factory/<site>/<line>/<thing name>/telemetry and .../status.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  iot_arn = "arn:${data.aws_partition.current.partition}:iot:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
}

resource "aws_iot_thing_type" "machine" {
  name = var.thing_type_name

  properties {
    description           = "A machine on the factory floor that publishes telemetry."
    searchable_attributes = ["site", "line"]
  }

  tags = var.tags
}

data "aws_iam_policy_document" "device" {
  statement {
    sid       = "ConnectAsItself"
    effect    = "Allow"
    actions   = ["iot:Connect"]
    resources = ["${local.iot_arn}:client/&{iot:Connection.Thing.ThingName}"]

    condition {
      test     = "Bool"
      variable = "iot:Connection.Thing.IsAttached"
      values   = ["true"]
    }
  }

  statement {
    sid     = "PublishOwnTopics"
    effect  = "Allow"
    actions = ["iot:Publish"]
    resources = [
      "${local.iot_arn}:topic/${var.topic_root}/*/*/&{iot:Connection.Thing.ThingName}/telemetry",
      "${local.iot_arn}:topic/${var.topic_root}/*/*/&{iot:Connection.Thing.ThingName}/status",
    ]
  }
}

resource "aws_iot_policy" "device" {
  name   = var.device_policy_name
  policy = data.aws_iam_policy_document.device.json
}

# --- The rule's role: put into the stream, report errors to the queue ----------

data "aws_iam_policy_document" "assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["iot.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "rule" {
  name                 = "${var.rule_name}_role"
  description          = "Role of the telemetry topic rule; see governance/iam_scope_matrix.csv."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "rule" {
  statement {
    sid       = "PutTelemetry"
    effect    = "Allow"
    actions   = ["kinesis:PutRecord"]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "ReportRuleErrors"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [var.error_queue_arn]
  }

  statement {
    sid       = "UseDataKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "rule" {
  name   = "telemetry-rule-least-privilege"
  role   = aws_iam_role.rule.id
  policy = data.aws_iam_policy_document.rule.json
}

resource "aws_iot_topic_rule" "telemetry" {
  name        = var.rule_name
  description = "Forward every machine's telemetry to Kinesis, partitioned by machine."
  enabled     = true
  sql         = "SELECT * FROM '${var.topic_filter}'"
  sql_version = "2016-03-23"

  kinesis {
    role_arn      = aws_iam_role.rule.arn
    stream_name   = var.stream_name
    partition_key = "$${topic(4)}"
  }

  error_action {
    sqs {
      role_arn   = aws_iam_role.rule.arn
      queue_url  = var.error_queue_url
      use_base64 = true
    }
  }

  tags = var.tags
}
