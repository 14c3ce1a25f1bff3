output "trail_arn" {
  description = "ARN of the trail."
  value       = aws_cloudtrail.this.arn
}

output "audit_bucket_name" {
  description = "Name of the audit bucket (CloudTrail and AWS Config)."
  value       = aws_s3_bucket.audit.id
}

output "audit_bucket_arn" {
  description = "ARN of the audit bucket."
  value       = aws_s3_bucket.audit.arn
}

output "log_group_name" {
  description = "Name of the trail's CloudWatch Logs group."
  value       = aws_cloudwatch_log_group.trail.name
}
