output "alarm_arns" {
  description = "ARN of each SLO alarm by objective."
  value = {
    errors           = aws_cloudwatch_metric_alarm.errors.arn
    freshness        = aws_cloudwatch_metric_alarm.freshness.arn
    throttles        = aws_cloudwatch_metric_alarm.throttles.arn
    quarantine_ratio = aws_cloudwatch_metric_alarm.quarantine_ratio.arn
    dead_letters     = aws_cloudwatch_metric_alarm.dead_letters.arn
  }
}

output "dashboard_name" {
  description = "Name of the pipeline dashboard."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}
