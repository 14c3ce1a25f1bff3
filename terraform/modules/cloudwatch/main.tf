# One alarm per service level objective of the pipeline, and a dashboard.
#
# SLOs: the function does not fail (errors), data is fresh (iterator age of
# the stream), records are not throttled (throttles), the share of
# quarantined records stays low (quarantine ratio from the handler's
# embedded metrics) and nothing waits in the dead-letter queue.

data "aws_region" "current" {}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.name}-ingest-errors"
  alarm_description   = "SLO: the ingest function runs without errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.max_errors_per_5_min
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "freshness" {
  alarm_name          = "${var.name}-data-freshness"
  alarm_description   = "SLO: readings reach storage within the freshness target (stream iterator age)."
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = var.stream_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.freshness_target_s * 1000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.name}-ingest-throttles"
  alarm_description   = "SLO: the function is never throttled."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "quarantine_ratio" {
  alarm_name          = "${var.name}-quarantine-ratio"
  alarm_description   = "SLO: at most the target share of records is quarantined."
  evaluation_periods  = 3
  threshold           = var.max_quarantine_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "quarantined / MAX([quarantined + stored, 1])"
    label       = "Share of records quarantined"
    return_data = true
  }

  metric_query {
    id = "quarantined"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "RecordsQuarantined"
      dimensions  = { service = var.metrics_service }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "stored"

    metric {
      namespace   = var.metrics_namespace
      metric_name = "RecordsStored"
      dimensions  = { service = var.metrics_service }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "SLO: no record waits in the dead-letter queue unexamined."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.max_dead_letters
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = true
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = "${var.name}-pipeline"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Records stored and quarantined"
          region = data.aws_region.current.name
          stat   = "Sum"
          period = 300
          metrics = [
            [var.metrics_namespace, "RecordsStored", "service", var.metrics_service],
            [var.metrics_namespace, "RecordsQuarantined", "service", var.metrics_service],
            [var.metrics_namespace, "Duplicates", "service", var.metrics_service],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Data freshness (iterator age, ms)"
          region  = data.aws_region.current.name
          stat    = "Maximum"
          period  = 60
          metrics = [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.stream_name]]
        }
      },
      {
        type = "alarm", x = 0, y = 6, width = 24, height = 4
        properties = {
          title = "Service level objectives"
          alarms = [
            aws_cloudwatch_metric_alarm.errors.arn,
            aws_cloudwatch_metric_alarm.freshness.arn,
            aws_cloudwatch_metric_alarm.throttles.arn,
            aws_cloudwatch_metric_alarm.quarantine_ratio.arn,
            aws_cloudwatch_metric_alarm.dead_letters.arn,
          ]
        }
      },
    ]
  })
}
