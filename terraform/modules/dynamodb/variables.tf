variable "ledger_table_name" {
  description = "Name of the ingest ledger table, keyed by machine_id and seq."
  type        = string
  default     = "smartfactory-dev-ingest-ledger"
}

variable "state_table_name" {
  description = "Name of the latest-state table, keyed by machine_id."
  type        = string
  default     = "smartfactory-dev-machine-state"
}

variable "alerts_table_name" {
  description = "Name of the alerts table, keyed by machine_id and hour."
  type        = string
  default     = "smartfactory-dev-alerts"
}

variable "alert_ttl_attribute" {
  description = "Attribute holding each alert's expiry time (epoch seconds) for DynamoDB TTL."
  type        = string
  default     = "expires_at"
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the tables (the data key)."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the tables until this is switched off."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every table."
  type        = map(string)
  default     = {}
}
