"""Transport: devices publish over MQTT to a real broker; nothing goes unaccounted.

The broker (:class:`Broker`) is mosquitto on loopback with TLS, one password
per device and an ACL that keeps each device on its own topics. Devices
(:class:`Device`) publish the simulator's readings, singly or in batches, at
QoS 0 or 1; the :class:`Subscriber` decodes what arrives and counts gaps,
duplicates and malformed readings by machine and sequence number. Device
passwords live in Secrets Manager (:mod:`.credentials`), and
:func:`stream_readings` runs the whole round trip and reconciles both ends.
"""

from .broker import ROLES, TOPIC_ROOT, Broker, Endpoint, find_mosquitto, hash_password
from .certs import TlsFiles, make_certificates
from .credentials import (
    DeviceCredentials,
    issue_device_credentials,
    load_device_credentials,
    secret_name,
)
from .device import (
    MAX_MESSAGE_BYTES,
    OVERFLOW_POLICIES,
    BufferFullError,
    Device,
    DeviceStats,
    pack_batches,
    publish_fleet,
    status_topic,
    telemetry_topic,
)
from .stream import StreamReport, provision_devices, stream_readings
from .subscriber import (
    STATUS_FILTER,
    TELEMETRY_FILTER,
    Rejected,
    SequenceTracker,
    StreamStats,
    Subscriber,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "OVERFLOW_POLICIES",
    "ROLES",
    "STATUS_FILTER",
    "TELEMETRY_FILTER",
    "TOPIC_ROOT",
    "Broker",
    "BufferFullError",
    "Device",
    "DeviceCredentials",
    "DeviceStats",
    "Endpoint",
    "Rejected",
    "SequenceTracker",
    "StreamReport",
    "StreamStats",
    "Subscriber",
    "TlsFiles",
    "find_mosquitto",
    "hash_password",
    "issue_device_credentials",
    "load_device_credentials",
    "make_certificates",
    "pack_batches",
    "provision_devices",
    "publish_fleet",
    "secret_name",
    "status_topic",
    "stream_readings",
    "telemetry_topic",
]
