"""Create the pipeline's cloud resources on the configured backend.

:func:`ensure_resources` creates, with plain boto3 calls, what the Terraform in
``terraform/`` declares for the pipeline: the KMS key and its alias, the raw
and curated buckets (default SSE-KMS, public access blocked), the Kinesis
stream, the DynamoDB tables (ledger, machine state, alerts with TTL), the
dead-letter queue and the alert topic. It is idempotent: a resource that
already exists is reused. On real AWS, apply the Terraform instead; this
function is for moto, a moto server or LocalStack.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..core.aws import client
from ..core.config import Settings

__all__ = ["Resources", "ensure_resources"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    """Names and addresses of the pipeline's resources.

    Attributes
    ----------
    stream, raw_bucket, curated_bucket, ledger_table, state_table, alerts_table
        Resource names.
    kms_key_arn : str
        ARN of the data key.
    queue_url : str
        URL of the dead-letter queue.
    topic_arn : str
        ARN of the alert topic.
    """

    stream: str
    raw_bucket: str
    curated_bucket: str
    ledger_table: str
    state_table: str
    alerts_table: str
    kms_key_arn: str
    queue_url: str
    topic_arn: str

    @classmethod
    def lookup(cls, settings: Settings) -> Resources:
        """Find existing resources by their configured names."""
        kms = client("kms", settings)
        key = kms.describe_key(KeyId=f"alias/{settings.resource('kms_alias')}")
        sqs = client("sqs", settings)
        # The topic's ARN follows from the key's partition, region and account,
        # so the function needs no right to look it up (sns:CreateTopic would).
        _, partition, _, region, account, _ = key["KeyMetadata"]["Arn"].split(":", 5)
        name = settings.resource("alert_topic")
        topic = f"arn:{partition}:sns:{region}:{account}:{name}"
        return cls(
            stream=settings.resource("stream"),
            raw_bucket=settings.resource("raw_bucket"),
            curated_bucket=settings.resource("curated_bucket"),
            ledger_table=settings.resource("ledger_table"),
            state_table=settings.resource("state_table"),
            alerts_table=settings.resource("alerts_table"),
            kms_key_arn=key["KeyMetadata"]["Arn"],
            queue_url=sqs.get_queue_url(
                QueueName=settings.resource("dead_letter_queue")
            )["QueueUrl"],
            topic_arn=topic,
        )


def _kms_key(settings: Settings) -> str:
    kms = client("kms", settings)
    alias = f"alias/{settings.resource('kms_alias')}"
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        pass
    key = kms.create_key(Description="Smart factory data at rest")["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def _bucket(s3: Any, settings: Settings, name: str, kms_key_arn: str) -> None:
    try:
        if settings.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": settings.region},
            )
    except (
        s3.exceptions.BucketAlreadyOwnedByYou,
        s3.exceptions.BucketAlreadyExists,
    ):
        pass
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": kms_key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _table(
    dynamodb: Any,
    name: str,
    hash_key: tuple[str, str],
    range_key: tuple[str, str] | None,
) -> None:
    attributes = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attributes.append(
            {"AttributeName": range_key[0], "AttributeType": range_key[1]}
        )
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    try:
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=attributes,
            KeySchema=schema,
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
    except dynamodb.exceptions.ResourceInUseException:
        return
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )


def ensure_resources(settings: Settings) -> Resources:
    """Create every pipeline resource that does not exist yet.

    Parameters
    ----------
    settings : Settings
        Backend, region and names.

    Returns
    -------
    Resources
        Names and addresses of the resources.
    """
    from .stream import create_stream

    kms_key_arn = _kms_key(settings)
    s3 = client("s3", settings)
    for logical in ("raw_bucket", "curated_bucket"):
        _bucket(s3, settings, settings.resource(logical), kms_key_arn)

    dynamodb = client("dynamodb", settings)
    _table(
        dynamodb, settings.resource("ledger_table"), ("machine_id", "S"), ("seq", "N")
    )
    _table(dynamodb, settings.resource("state_table"), ("machine_id", "S"), None)
    alerts = settings.resource("alerts_table")
    _table(dynamodb, alerts, ("machine_id", "S"), ("hour", "S"))
    try:
        dynamodb.update_time_to_live(
            TableName=alerts,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
    except dynamodb.exceptions.ClientError as exc:
        if "already enabled" not in str(exc):
            raise

    sqs = client("sqs", settings)
    sqs.create_queue(
        QueueName=settings.resource("dead_letter_queue"),
        Attributes={
            "MessageRetentionPeriod": str(14 * 86400),
            "KmsMasterKeyId": kms_key_arn,
        },
    )
    sns = client("sns", settings)
    sns.create_topic(
        Name=settings.resource("alert_topic"),
        Attributes={"KmsMasterKeyId": kms_key_arn},
    )
    create_stream(client("kinesis", settings), settings.resource("stream"), settings)
    logger.info("Pipeline resources ready (region=%s)", settings.region)
    return Resources.lookup(settings)
