variable "name" {
  description = "Prefix of the recorder, channel, role and rule names, such as smartfactory-dev."
  type        = string
  default     = "smartfactory-dev"
}

variable "delivery_bucket_name" {
  description = "Bucket that receives configuration snapshots (the audit bucket)."
  type        = string
  default     = "smartfactory-dev-audit"
}

variable "delivery_bucket_arn" {
  description = "ARN of the same bucket."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the audit key that encrypts the snapshots."
  type        = string
  default     = null
}

variable "snapshot_frequency" {
  description = "How often AWS Config delivers a configuration snapshot."
  type        = string
  default     = "TwentyFour_Hours"

  validation {
    condition     = contains(["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"], var.snapshot_frequency)
    error_message = "snapshot_frequency must be One_Hour, Three_Hours, Six_Hours, Twelve_Hours or TwentyFour_Hours."
  }
}

variable "tags" {
  description = "Tags added to the role and the rules."
  type        = map(string)
  default     = {}
}
