output "recorder_name" {
  description = "Name of the configuration recorder."
  value       = aws_config_configuration_recorder.this.name
}

output "rule_names" {
  description = "Names of the managed Config rules, by short name."
  value       = { for short, rule in aws_config_config_rule.managed : short => rule.name }
}
