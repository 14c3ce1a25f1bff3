variable "alias" {
  description = "Alias of the key without the alias/ prefix, such as smartfactory-dev-data."
  type        = string
  default     = "smartfactory-dev-data"

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias)) && !startswith(var.alias, "aws/")
    error_message = "alias must be 1-250 letters, digits, '/', '_' or '-' and must not start with aws/."
  }
}

variable "description" {
  description = "What the key protects, shown in the KMS console."
  type        = string
  default     = "Smart factory data at rest"
}

variable "deletion_window_in_days" {
  description = "Days a scheduled deletion waits before the key is destroyed (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  description = "Days between automatic rotations of the key material (90-2560)."
  type        = number
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "rotation_period_in_days must be between 90 and 2560."
  }
}

variable "service_principals" {
  description = "AWS service principals that may use the key for this account, such as cloudtrail.amazonaws.com."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}
}
