variable "region" {
  description = "AWS region of every resource (Settings.region)."
  type        = string
  default     = "eu-west-1"
}

variable "prefix" {
  description = "First part of every resource name (Settings.prefix)."
  type        = string
  default     = "smartfactory"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.prefix))
    error_message = "prefix must be 2-21 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "environment" {
  description = "Second part of every resource name (Settings.environment)."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "test", "prod"], var.environment)
    error_message = "environment must be one of dev, test, prod."
  }
}

variable "shard_count" {
  description = "Shards of the telemetry stream (PipelineLimits.shard_count)."
  type        = number
  default     = 2
}

variable "batch_size" {
  description = "Records per invocation of the ingest function (PipelineLimits.batch_size)."
  type        = number
  default     = 500
}

variable "lambda_memory_mb" {
  description = "Memory of the ingest function in MB (PipelineLimits.lambda_memory_mb)."
  type        = number
  default     = 512
}

variable "topic_filter" {
  description = "MQTT topic filter of the IoT rule (PipelineLimits.topic_filter)."
  type        = string
  default     = "factory/+/+/+/telemetry"
}

variable "provisioned_concurrency" {
  description = "Warm instances of the ingest function; 0 (the default) turns provisioned concurrency off."
  type        = number
  default     = 0
}

variable "lambda_source_dir" {
  description = "Folder built by scripts/build_lambda.sh with the library's runtime packages."
  type        = string
  default     = "../../../build/lambda"
}

variable "lambda_package_path" {
  description = "Where the zip of the function is written."
  type        = string
  default     = "../../../build/lambda.zip"
}

variable "lambda_layer_arns" {
  description = "Layers with pandas, numpy, pyarrow and aws-lambda-powertools for the region."
  type        = list(string)
  default     = []
}

variable "machine_ids" {
  description = "Machines that get a credentials secret."
  type        = list(string)
  default     = ["m0001", "m0002", "m0003"]
}

variable "alert_emails" {
  description = "Addresses subscribed to the alert and deployment topics."
  type        = list(string)
  default     = []
}
