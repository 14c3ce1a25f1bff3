variable "trail_name" {
  description = "Name of the trail, such as smartfactory-dev-trail."
  type        = string
  default     = "smartfactory-dev-trail"
}

variable "audit_bucket_name" {
  description = "Bucket that keeps the trail's log files and AWS Config's snapshots."
  type        = string
  default     = "smartfactory-dev-audit"
}

variable "access_log_bucket_name" {
  description = "Bucket receiving the audit bucket's server access logs."
  type        = string
  default     = "smartfactory-dev-access-logs"
}

variable "kms_key_arn" {
  description = "ARN of the audit key; its policy must let cloudtrail.amazonaws.com and the logs service use it."
  type        = string
  default     = null
}

variable "data_event_bucket_arns" {
  description = "Buckets whose object reads and writes are recorded as data events (billed per event)."
  type        = list(string)
  default     = []
}

variable "retention_days" {
  description = "Days audit log files are kept."
  type        = number
  default     = 2557

  validation {
    condition     = var.retention_days >= 365
    error_message = "retention_days must be at least 365."
  }
}

variable "log_retention_days" {
  description = "Days the trail's CloudWatch Logs copy is kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least one year (365, 400, 545, 731, ...)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
