output "table_arns" {
  description = "ARN of each table by role: ledger, state, alerts."
  value       = { for role, table in aws_dynamodb_table.this : role => table.arn }
}

output "table_names" {
  description = "Name of each table by role: ledger, state, alerts."
  value       = { for role, table in aws_dynamodb_table.this : role => table.name }
}
