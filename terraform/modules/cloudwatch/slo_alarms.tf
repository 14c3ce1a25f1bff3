# Generated from governance/slos.yaml by burn_rate_alarms_hcl; do not edit.
# Regenerate with 'make slo-alarms' after changing that file.

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_page_3600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-page-3600-long"
  alarm_description   = "SLO ingestion_latency: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 3600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 3600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_page_3600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-page-3600-short"
  alarm_description   = "SLO ingestion_latency: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_ingestion_latency_page_3600" {
  alarm_name        = "${var.name}-burn-ingestion-latency-page-3600"
  alarm_description = "SLO ingestion_latency: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_page_3600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_page_3600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_page_21600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-page-21600-long"
  alarm_description   = "SLO ingestion_latency: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.06
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_page_21600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-page-21600-short"
  alarm_description   = "SLO ingestion_latency: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.06
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 1800
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 1800
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_ingestion_latency_page_21600" {
  alarm_name        = "${var.name}-burn-ingestion-latency-page-21600"
  alarm_description = "SLO ingestion_latency: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_page_21600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_page_21600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_ticket_259200_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-ticket-259200-long"
  alarm_description   = "SLO ingestion_latency: budget burn over the long window."
  evaluation_periods  = 3
  threshold           = 0.01
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 86400
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 86400
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_ingestion_latency_ticket_259200_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-ingestion-latency-ticket-259200-short"
  alarm_description   = "SLO ingestion_latency: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.01
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "IngestionLatencyBad"
      dimensions  = { slo = "ingestion_latency" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_ingestion_latency_ticket_259200" {
  alarm_name        = "${var.name}-burn-ingestion-latency-ticket-259200"
  alarm_description = "SLO ingestion_latency: ticket when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_ticket_259200_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_ingestion_latency_ticket_259200_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_page_3600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-page-3600-long"
  alarm_description   = "SLO inference_time: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 3600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 3600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_page_3600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-page-3600-short"
  alarm_description   = "SLO inference_time: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_inference_time_page_3600" {
  alarm_name        = "${var.name}-burn-inference-time-page-3600"
  alarm_description = "SLO inference_time: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_page_3600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_page_3600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_page_21600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-page-21600-long"
  alarm_description   = "SLO inference_time: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.06
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_page_21600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-page-21600-short"
  alarm_description   = "SLO inference_time: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.06
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 1800
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 1800
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_inference_time_page_21600" {
  alarm_name        = "${var.name}-burn-inference-time-page-21600"
  alarm_description = "SLO inference_time: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_page_21600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_page_21600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_ticket_259200_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-ticket-259200-long"
  alarm_description   = "SLO inference_time: budget burn over the long window."
  evaluation_periods  = 3
  threshold           = 0.01
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 86400
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 86400
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_inference_time_ticket_259200_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-inference-time-ticket-259200-short"
  alarm_description   = "SLO inference_time: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.01
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "InferenceTimeBad"
      dimensions  = { slo = "inference_time" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_inference_time_ticket_259200" {
  alarm_name        = "${var.name}-burn-inference-time-ticket-259200"
  alarm_description = "SLO inference_time: ticket when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_ticket_259200_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_inference_time_ticket_259200_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_page_3600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-page-3600-long"
  alarm_description   = "SLO alert_delivery: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.0144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 3600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 3600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_page_3600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-page-3600-short"
  alarm_description   = "SLO alert_delivery: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.0144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_alert_delivery_page_3600" {
  alarm_name        = "${var.name}-burn-alert-delivery-page-3600"
  alarm_description = "SLO alert_delivery: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_page_3600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_page_3600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_page_21600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-page-21600-long"
  alarm_description   = "SLO alert_delivery: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.006
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_page_21600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-page-21600-short"
  alarm_description   = "SLO alert_delivery: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.006
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 1800
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 1800
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_alert_delivery_page_21600" {
  alarm_name        = "${var.name}-burn-alert-delivery-page-21600"
  alarm_description = "SLO alert_delivery: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_page_21600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_page_21600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_ticket_259200_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-ticket-259200-long"
  alarm_description   = "SLO alert_delivery: budget burn over the long window."
  evaluation_periods  = 3
  threshold           = 0.001
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 86400
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 86400
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_alert_delivery_ticket_259200_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-alert-delivery-ticket-259200-short"
  alarm_description   = "SLO alert_delivery: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.001
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "AlertDeliveryLatencyBad"
      dimensions  = { slo = "alert_delivery" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_alert_delivery_ticket_259200" {
  alarm_name        = "${var.name}-burn-alert-delivery-ticket-259200"
  alarm_description = "SLO alert_delivery: ticket when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_ticket_259200_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_alert_delivery_ticket_259200_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_page_3600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-page-3600-long"
  alarm_description   = "SLO completeness: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.0144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 3600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 3600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_page_3600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-page-3600-short"
  alarm_description   = "SLO completeness: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.0144
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_completeness_page_3600" {
  alarm_name        = "${var.name}-burn-completeness-page-3600"
  alarm_description = "SLO completeness: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_page_3600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_page_3600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_page_21600_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-page-21600-long"
  alarm_description   = "SLO completeness: budget burn over the long window."
  evaluation_periods  = 1
  threshold           = 0.006
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_page_21600_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-page-21600-short"
  alarm_description   = "SLO completeness: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.006
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 1800
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 1800
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_completeness_page_21600" {
  alarm_name        = "${var.name}-burn-completeness-page-21600"
  alarm_description = "SLO completeness: page when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_page_21600_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_page_21600_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_ticket_259200_long" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-ticket-259200-long"
  alarm_description   = "SLO completeness: budget burn over the long window."
  evaluation_periods  = 3
  threshold           = 0.001
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 86400
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 86400
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "burn_completeness_ticket_259200_short" {
  # checkov:skip=CKV_AWS_319: one window alone must not page; the composite alarm of both windows notifies
  alarm_name          = "${var.name}-burn-completeness-ticket-259200-short"
  alarm_description   = "SLO completeness: budget burn over the short window."
  evaluation_periods  = 1
  threshold           = 0.001
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }

  metric_query {
    id = "bad"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "Sum"
      period      = 21600
    }
  }

  metric_query {
    id = "total"

    metric {
      namespace   = "SmartFactory"
      metric_name = "CanaryMissingBad"
      dimensions  = { slo = "completeness" }
      stat        = "SampleCount"
      period      = 21600
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "burn_completeness_ticket_259200" {
  alarm_name        = "${var.name}-burn-completeness-ticket-259200"
  alarm_description = "SLO completeness: ticket when both windows burn."
  alarm_rule        = "ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_ticket_259200_long.alarm_name}) AND ALARM(${aws_cloudwatch_metric_alarm.burn_completeness_ticket_259200_short.alarm_name})"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}
