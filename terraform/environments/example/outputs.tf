output "stream_name" {
  description = "Name of the telemetry stream."
  value       = module.stream.stream_name
}

output "function_name" {
  description = "Name of the ingest function."
  value       = module.ingest.function_name
}

output "bucket_names" {
  description = "Data lake buckets by zone."
  value       = module.data_lake.bucket_names
}

output "alert_topic_arn" {
  description = "ARN of the alert topic."
  value       = module.alerts.topic_arn
}

output "deployments_topic_arn" {
  description = "ARN of the topic the deploy workflow notifies."
  value       = module.deployments.topic_arn
}

output "data_key_arn" {
  description = "ARN of the data key."
  value       = module.data_key.key_arn
}

output "audit_bucket_name" {
  description = "Name of the audit bucket."
  value       = module.trail.audit_bucket_name
}
