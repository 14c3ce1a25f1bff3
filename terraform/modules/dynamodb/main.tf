# The pipeline's three tables: the ingest ledger (idempotency), the latest
# state per machine and the alerts (expired by TTL). On-demand billing,
# point-in-time recovery and the data key on each.

locals {
  tables = {
    ledger = {
      name      = var.ledger_table_name
      hash_key  = { name = "machine_id", type = "S" }
      range_key = { name = "seq", type = "N" }
      ttl       = null
    }
    state = {
      name      = var.state_table_name
      hash_key  = { name = "machine_id", type = "S" }
      range_key = null
      ttl       = null
    }
    alerts = {
      name      = var.alerts_table_name
      hash_key  = { name = "machine_id", type = "S" }
      range_key = { name = "hour", type = "S" }
      ttl       = var.alert_ttl_attribute
    }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name                        = each.value.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key.name
  range_key                   = each.value.range_key == null ? null : each.value.range_key.name
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.hash_key.name
    type = each.value.hash_key.type
  }

  dynamic "attribute" {
    for_each = each.value.range_key == null ? [] : [each.value.range_key]

    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttl == null ? [] : [each.value.ttl]

    content {
      enabled        = true
      attribute_name = ttl.value
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
