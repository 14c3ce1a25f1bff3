variable "function_name" {
  description = "Name of the ingest function, such as smartfactory-dev-ingest."
  type        = string
  default     = "smartfactory-dev-ingest"
}

variable "dead_letter_queue_name" {
  description = "Name of the dead-letter queue of quarantined and failed records."
  type        = string
  default     = "smartfactory-dev-ingest-dlq"
}

variable "settings_prefix" {
  description = "SMARTFACTORY_PREFIX seen by the handler; must match the resource names."
  type        = string
  default     = "smartfactory"
}

variable "settings_environment" {
  description = "SMARTFACTORY_ENVIRONMENT seen by the handler; must match the resource names."
  type        = string
  default     = "dev"
}

variable "source_dir" {
  description = "Folder with the packaged library, built by scripts/build_lambda.sh."
  type        = string
  default     = "../../../build/lambda"
}

variable "package_path" {
  description = "Where archive_file writes the zip."
  type        = string
  default     = "../../../build/lambda.zip"
}

variable "handler" {
  description = "Entry point of the function."
  type        = string
  default     = "smartfactory_lib.cloud.handler.lambda_handler"
}

variable "runtime" {
  description = "Lambda runtime; the library needs Python 3.11 or later."
  type        = string
  default     = "python3.11"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be one of python3.11, python3.12, python3.13."
  }
}

variable "layer_arns" {
  description = "Layers with the handler's dependencies (pandas, numpy, pyarrow, aws-lambda-powertools)."
  type        = list(string)
  default     = []
}

variable "memory_mb" {
  description = "Memory of the function in MB; CPU grows with it."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 128 and 10240."
  }
}

variable "timeout_s" {
  description = "Seconds an invocation may run."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_s >= 1 && var.timeout_s <= 900
    error_message = "timeout_s must be between 1 and 900."
  }
}

variable "batch_size" {
  description = "Records per invocation read from the stream."
  type        = number
  default     = 500

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "maximum_retry_attempts" {
  description = "Deliveries of a failing batch before it goes to the dead-letter queue."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between 0 and 10000."
  }
}

variable "reserved_concurrency" {
  description = "Most concurrent instances; one per shard is enough for Kinesis."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "provisioned_concurrency" {
  description = "Warm instances kept ready against cold starts (billed while idle); 0 turns it off."
  type        = number
  default     = 0

  validation {
    condition     = var.provisioned_concurrency >= 0
    error_message = "provisioned_concurrency must be 0 or more."
  }
}

variable "scorer" {
  description = "SMARTFACTORY_SCORER: threshold, or a package.module:Class path."
  type        = string
  default     = "threshold"
}

variable "slo_thresholds" {
  description = "SMARTFACTORY_SLO_THRESHOLDS: threshold of each SLO the function measures, by SLO name (from governance/slos.yaml); empty emits no SLI metrics."
  type        = map(number)
  default     = {}
}

variable "stream_arn" {
  description = "ARN of the telemetry stream."
  type        = string
  default     = null
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
  default     = null
}

variable "curated_bucket_arn" {
  description = "ARN of the curated bucket."
  type        = string
  default     = null
}

variable "models_bucket_arn" {
  description = "ARN of the model registry bucket."
  type        = string
  default     = null
}

variable "ledger_table_arn" {
  description = "ARN of the ingest ledger table."
  type        = string
  default     = null
}

variable "state_table_arn" {
  description = "ARN of the machine state table."
  type        = string
  default     = null
}

variable "alerts_table_arn" {
  description = "ARN of the alerts table."
  type        = string
  default     = null
}

variable "alert_topic_arn" {
  description = "ARN of the alert topic."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of the data key (environment, logs, queue and the data it reads and writes)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
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
