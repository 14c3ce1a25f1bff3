variable "topic_name" {
  description = "Name of the topic, such as smartfactory-dev-alerts."
  type        = string
  default     = "smartfactory-dev-alerts"
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the messages."
  type        = string
  default     = null
}

variable "email_endpoints" {
  description = "E-mail addresses subscribed to the topic; empty for none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.email_endpoints : can(regex("^[^@ ]+@[^@ ]+$", address))])
    error_message = "email_endpoints must be e-mail addresses."
  }
}

variable "tags" {
  description = "Tags added to the topic."
  type        = map(string)
  default     = {}
}
