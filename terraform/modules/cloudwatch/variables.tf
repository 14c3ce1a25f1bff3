variable "name" {
  description = "Prefix of alarm and dashboard names, such as smartfactory-dev."
  type        = string
  default     = "smartfactory-dev"
}

variable "function_name" {
  description = "Name of the ingest function."
  type        = string
  default     = "smartfactory-dev-ingest"
}

variable "stream_name" {
  description = "Name of the telemetry stream."
  type        = string
  default     = "smartfactory-dev-telemetry"
}

variable "queue_name" {
  description = "Name of the dead-letter queue."
  type        = string
  default     = "smartfactory-dev-ingest-dlq"
}

variable "alarm_topic_arn" {
  description = "ARN of the SNS topic that receives alarm and recovery notifications."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the handler's embedded metrics."
  type        = string
  default     = "SmartFactory"
}

variable "metrics_service" {
  description = "Value of the service dimension of the handler's metrics."
  type        = string
  default     = "smartfactory-ingest"
}

variable "max_errors_per_5_min" {
  description = "Function errors tolerated in five minutes."
  type        = number
  default     = 0

  validation {
    condition     = var.max_errors_per_5_min >= 0
    error_message = "max_errors_per_5_min must be 0 or more."
  }
}

variable "freshness_target_s" {
  description = "Seconds a reading may wait in the stream before the freshness SLO is broken."
  type        = number
  default     = 60

  validation {
    condition     = var.freshness_target_s > 0
    error_message = "freshness_target_s must be positive."
  }
}

variable "max_quarantine_ratio" {
  description = "Largest share of records that may be quarantined in five minutes."
  type        = number
  default     = 0.05

  validation {
    condition     = var.max_quarantine_ratio >= 0 && var.max_quarantine_ratio <= 1
    error_message = "max_quarantine_ratio must be between 0 and 1."
  }
}

variable "max_dead_letters" {
  description = "Messages tolerated in the dead-letter queue."
  type        = number
  default     = 0

  validation {
    condition     = var.max_dead_letters >= 0
    error_message = "max_dead_letters must be 0 or more."
  }
}

variable "tags" {
  description = "Tags added to every alarm."
  type        = map(string)
  default     = {}
}
