variable "thing_type_name" {
  description = "Name of the thing type of the factory's machines."
  type        = string
  default     = "smartfactory-dev-machine"
}

variable "device_policy_name" {
  description = "Name of the IoT policy attached to every machine's certificate."
  type        = string
  default     = "smartfactory-dev-device"
}

variable "rule_name" {
  description = "Name of the topic rule (letters, digits and underscores only)."
  type        = string
  default     = "smartfactory_dev_telemetry_to_kinesis"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_]+$", var.rule_name))
    error_message = "rule_name must contain only letters, digits and underscores."
  }
}

variable "topic_root" {
  description = "First level of every factory topic."
  type        = string
  default     = "factory"
}

variable "topic_filter" {
  description = "MQTT topic filter of the rule, factory/<site>/<line>/<machine>/telemetry."
  type        = string
  default     = "factory/+/+/+/telemetry"
}

variable "stream_name" {
  description = "Name of the Kinesis stream the rule writes to."
  type        = string
  default     = "smartfactory-dev-telemetry"
}

variable "stream_arn" {
  description = "ARN of the Kinesis stream the rule writes to."
  type        = string
  default     = null
}

variable "error_queue_arn" {
  description = "ARN of the queue that receives messages the rule could not deliver."
  type        = string
  default     = null
}

variable "error_queue_url" {
  description = "URL of the same queue."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the data key that encrypts the stream and the queue."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
