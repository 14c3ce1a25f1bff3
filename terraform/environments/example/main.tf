# The whole pipeline in one account and region, composed from the modules.
#
# Resource names are built exactly as smartfactory_lib.core.config.Settings
# builds them: <prefix>-<environment>-<suffix>, with the suffixes of
# smartfactory_lib.core.config.RESOURCES. tests/security/test_terraform_names.py
# checks that the two agree.

locals {
  name = "${var.prefix}-${var.environment}"
  # The SLOs are defined once, in governance/slos.yaml.
  slos = yamldecode(file("${path.module}/../../../governance/slos.yaml"))

  # Logical name -> full name; the keys are those of config.RESOURCES.
  names = {
    stream            = "${var.prefix}-${var.environment}-telemetry"
    raw_bucket        = "${var.prefix}-${var.environment}-raw"
    curated_bucket    = "${var.prefix}-${var.environment}-curated"
    state_table       = "${var.prefix}-${var.environment}-machine-state"
    alerts_table      = "${var.prefix}-${var.environment}-alerts"
    ledger_table      = "${var.prefix}-${var.environment}-ingest-ledger"
    dead_letter_queue = "${var.prefix}-${var.environment}-ingest-dlq"
    alert_topic       = "${var.prefix}-${var.environment}-alerts"
    kms_alias         = "${var.prefix}-${var.environment}-data"
    ingest_function   = "${var.prefix}-${var.environment}-ingest"
    iot_rule          = replace("${var.prefix}_${var.environment}_telemetry_to_kinesis", "-", "_")
  }

  # Names used by other parts of the library: the model registry bucket
  # (Settings.name("models")) and the device secrets (Settings.name("device")).
  models_bucket = "${var.prefix}-${var.environment}-models"
  device_prefix = "${var.prefix}-${var.environment}-device"
}

data "aws_region" "current" {}

# --- Keys: one for the data zone, one for the audit zone -------------------------

module "data_key" {
  source = "../../modules/kms"

  alias       = local.names.kms_alias
  description = "Smart factory data at rest: lake, stream, tables, queue, topic, secrets, function logs"
  service_principals = [
    "logs.${data.aws_region.current.name}.amazonaws.com",
    "cloudwatch.amazonaws.com",
  ]
}

module "audit_key" {
  source = "../../modules/kms"

  alias       = "${local.name}-audit"
  description = "Smart factory audit evidence: CloudTrail, AWS Config, trail logs"
  service_principals = [
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "logs.${data.aws_region.current.name}.amazonaws.com",
  ]
}

# --- Storage ----------------------------------------------------------------------

module "data_lake" {
  source = "../../modules/s3_data_lake"

  raw_bucket_name     = local.names.raw_bucket
  curated_bucket_name = local.names.curated_bucket
  models_bucket_name  = local.models_bucket
  log_bucket_name     = "${local.name}-access-logs"
  kms_key_arn         = module.data_key.key_arn
}

module "tables" {
  source = "../../modules/dynamodb"

  ledger_table_name   = local.names.ledger_table
  state_table_name    = local.names.state_table
  alerts_table_name   = local.names.alerts_table
  alert_ttl_attribute = "expires_at"
  kms_key_arn         = module.data_key.key_arn
}

module "alerts" {
  source = "../../modules/sns"

  topic_name      = local.names.alert_topic
  kms_key_arn     = module.data_key.key_arn
  email_endpoints = var.alert_emails
}

module "deployments" {
  source = "../../modules/sns"

  topic_name      = "${local.name}-deployments"
  kms_key_arn     = module.data_key.key_arn
  email_endpoints = var.alert_emails
}

module "device_secrets" {
  source = "../../modules/secrets"

  name_prefix = local.device_prefix
  machine_ids = var.machine_ids
  kms_key_arn = module.data_key.key_arn
}

# --- Ingestion ----------------------------------------------------------------------

module "stream" {
  source = "../../modules/kinesis"

  stream_name = local.names.stream
  shard_count = var.shard_count
  kms_key_arn = module.data_key.key_arn
}

module "ingest" {
  source = "../../modules/lambda"

  function_name           = local.names.ingest_function
  dead_letter_queue_name  = local.names.dead_letter_queue
  settings_prefix         = var.prefix
  settings_environment    = var.environment
  source_dir              = var.lambda_source_dir
  package_path            = var.lambda_package_path
  layer_arns              = var.lambda_layer_arns
  memory_mb               = var.lambda_memory_mb
  batch_size              = var.batch_size
  provisioned_concurrency = var.provisioned_concurrency
  slo_thresholds          = { for slo in local.slos.slos : slo.name => slo.threshold }
  stream_arn              = module.stream.stream_arn
  raw_bucket_arn          = module.data_lake.bucket_arns["raw"]
  curated_bucket_arn      = module.data_lake.bucket_arns["curated"]
  models_bucket_arn       = module.data_lake.bucket_arns["models"]
  ledger_table_arn        = module.tables.table_arns["ledger"]
  state_table_arn         = module.tables.table_arns["state"]
  alerts_table_arn        = module.tables.table_arns["alerts"]
  alert_topic_arn         = module.alerts.topic_arn
  kms_key_arn             = module.data_key.key_arn
}

module "iot" {
  source = "../../modules/iot"

  thing_type_name    = "${local.name}-machine"
  device_policy_name = "${local.name}-device"
  rule_name          = local.names.iot_rule
  topic_filter       = var.topic_filter
  stream_name        = module.stream.stream_name
  stream_arn         = module.stream.stream_arn
  error_queue_arn    = module.ingest.queue_arn
  error_queue_url    = module.ingest.queue_url
  kms_key_arn        = module.data_key.key_arn
}

# --- Operations and audit ---------------------------------------------------------------

module "monitoring" {
  source = "../../modules/cloudwatch"

  name            = local.name
  function_name   = module.ingest.function_name
  stream_name     = module.stream.stream_name
  queue_name      = module.ingest.queue_name
  alarm_topic_arn = module.alerts.topic_arn
}

module "trail" {
  source = "../../modules/cloudtrail"

  trail_name             = "${local.name}-trail"
  audit_bucket_name      = "${local.name}-audit"
  access_log_bucket_name = module.data_lake.log_bucket_name
  kms_key_arn            = module.audit_key.key_arn
  data_event_bucket_arns = [module.data_lake.bucket_arns["models"]]
}

module "config" {
  source = "../../modules/config_rules"

  name                 = local.name
  delivery_bucket_name = module.trail.audit_bucket_name
  delivery_bucket_arn  = module.trail.audit_bucket_arn
  kms_key_arn          = module.audit_key.key_arn
}
