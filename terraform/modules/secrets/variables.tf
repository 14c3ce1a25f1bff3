variable "name_prefix" {
  description = "Prefix of every secret name; a machine's secret is <name_prefix>/<machine_id>."
  type        = string
  default     = "smartfactory-dev-device"
}

variable "machine_ids" {
  description = "Machines that get a secret, such as m0001."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.machine_ids : can(regex("^[A-Za-z0-9_-]{1,64}$", id))])
    error_message = "machine_ids must be 1-64 letters, digits, '_' or '-'."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the secrets (the data key)."
  type        = string
  default     = null
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (7-30)."
  type        = number
  default     = 7

  validation {
    condition     = var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30
    error_message = "recovery_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every secret."
  type        = map(string)
  default     = {}
}
