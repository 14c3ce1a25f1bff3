variable "raw_bucket_name" {
  description = "Bucket of the raw zone: records as received, quarantine and duplicates."
  type        = string
  default     = "smartfactory-dev-raw"
}

variable "curated_bucket_name" {
  description = "Bucket of the curated zone: validated, scored readings as Parquet."
  type        = string
  default     = "smartfactory-dev-curated"
}

variable "models_bucket_name" {
  description = "Bucket of the model registry (ONNX models and their metadata) and the Lambda packages."
  type        = string
  default     = "smartfactory-dev-models"
}

variable "log_bucket_name" {
  description = "Bucket receiving the server access logs of the other buckets."
  type        = string
  default     = "smartfactory-dev-access-logs"
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts every data bucket (the data key)."
  type        = string
  default     = null
}

variable "raw_infrequent_access_after_days" {
  description = "Days after which raw objects move to S3 Standard-IA (at least 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_infrequent_access_after_days >= 30
    error_message = "raw_infrequent_access_after_days must be at least 30 (the Standard-IA minimum)."
  }
}

variable "raw_archive_after_days" {
  description = "Days after which raw objects move to Glacier Instant Retrieval."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_archive_after_days >= 60
    error_message = "raw_archive_after_days must be at least 60 (30 days after the Standard-IA move)."
  }
}

variable "curated_infrequent_access_after_days" {
  description = "Days after which curated Parquet moves to S3 Standard-IA (at least 30)."
  type        = number
  default     = 60

  validation {
    condition     = var.curated_infrequent_access_after_days >= 30
    error_message = "curated_infrequent_access_after_days must be at least 30 (the Standard-IA minimum)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Days server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 90
    error_message = "log_retention_days must be at least 90."
  }
}

variable "tags" {
  description = "Tags added to every bucket."
  type        = map(string)
  default     = {}
}
