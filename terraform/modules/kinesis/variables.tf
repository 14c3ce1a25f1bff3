variable "stream_name" {
  description = "Name of the stream, such as smartfactory-dev-telemetry."
  type        = string
  default     = "smartfactory-dev-telemetry"
}

variable "shard_count" {
  description = "Shards of the stream; each takes 1,000 records or 1 MB per second."
  type        = number
  default     = 2

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 500
    error_message = "shard_count must be between 1 and 500."
  }
}

variable "retention_hours" {
  description = "Hours a record stays readable, so a failed consumer can catch up (24-8760)."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "retention_hours must be between 24 and 8760."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the records (the data key)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the stream."
  type        = map(string)
  default     = {}
}
