terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.54.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.6.0"
    }
  }

  # Keep the state in an encrypted, versioned bucket of your own, for example
  # (S3-native locking with use_lockfile needs Terraform 1.11 or later):
  # backend "s3" {
  #   bucket       = "<your-state-bucket>"
  #   key          = "smartfactory/example.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = "smartfactory"
      environment = var.environment
      managed_by  = "terraform"
    }
  }
}
