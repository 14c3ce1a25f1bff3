output "secret_arns" {
  description = "ARN of each machine's secret, by machine id."
  value       = { for id, secret in aws_secretsmanager_secret.device : id => secret.arn }
}

output "reader_policy_arn" {
  description = "ARN of the policy that reads the machines' credentials."
  value       = aws_iam_policy.reader.arn
}
