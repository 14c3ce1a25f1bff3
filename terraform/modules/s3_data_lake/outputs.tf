output "bucket_arns" {
  description = "ARN of each data bucket by zone: raw, curated, models."
  value       = { for zone, bucket in aws_s3_bucket.this : zone => bucket.arn }
}

output "bucket_names" {
  description = "Name of each data bucket by zone: raw, curated, models."
  value       = { for zone, bucket in aws_s3_bucket.this : zone => bucket.id }
}

output "log_bucket_name" {
  description = "Name of the access-log bucket, for other buckets' logging."
  value       = aws_s3_bucket.logs.id
}

output "log_bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = aws_s3_bucket.logs.arn
}
