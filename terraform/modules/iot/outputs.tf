output "thing_type_arn" {
  description = "ARN of the machine thing type."
  value       = aws_iot_thing_type.machine.arn
}

output "device_policy_name" {
  description = "Name of the device policy, to attach to each machine's certificate."
  value       = aws_iot_policy.device.name
}

output "rule_arn" {
  description = "ARN of the telemetry topic rule."
  value       = aws_iot_topic_rule.telemetry.arn
}

output "rule_role_arn" {
  description = "ARN of the rule's role."
  value       = aws_iam_role.rule.arn
}
