"""Stream a table of readings through the broker and account for every one.

:func:`provision_devices` gives each machine a password in Secrets Manager
and an account on the broker. :func:`stream_readings` then does what a plant
does: every machine connects as its own device (fetching its password from
Secrets Manager), publishes its readings, and a subscriber on the other side
receives, validates and counts them. The :class:`StreamReport` reconciles
the two ends: every published reading is received as a valid reading, set
aside as malformed, or counted as a duplicate, and ``lost`` is what is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from ..core.config import Settings
from .broker import Broker
from .credentials import (
    DeviceCredentials,
    issue_device_credentials,
    load_device_credentials,
)
from .device import Device, publish_fleet
from .subscriber import Subscriber

__all__ = ["StreamReport", "provision_devices", "stream_readings"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamReport:
    """Both ends of a stream, reconciled.

    Attributes
    ----------
    machines : int
        Devices that published.
    qos, batch_size : int
        Delivery settings of the devices.
    published : int
        Readings the devices handed to the network (injected repeats included).
    messages : int
        Telemetry messages published.
    received : int
        Readings the subscriber received (valid, duplicate or malformed).
    unique : int
        Distinct valid readings received.
    duplicates : int
        Valid readings received more than once.
    malformed : int
        Readings set aside, with ``malformed_by_reason`` per reason.
    dropped : int
        Readings the devices dropped under their buffer policy.
    reconnects : int
        Times a device had to connect again after losing the broker.
    lost : int
        Distinct published readings that arrived neither valid nor set aside.
    seconds : float
        Wall-clock time from the first publish to the last reading received.
    readings_per_s : float
        ``published / seconds``.
    """

    machines: int
    qos: int
    batch_size: int
    published: int
    messages: int
    received: int
    unique: int
    duplicates: int
    malformed: int
    dropped: int
    reconnects: int
    lost: int
    seconds: float
    readings_per_s: float
    malformed_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a plain dict, for JSON."""
        return asdict(self)

    @property
    def reconciled(self) -> bool:
        """Whether received = unique + duplicates + malformed, and nothing is lost."""
        return (
            self.received == self.unique + self.duplicates + self.malformed
            and self.lost == 0
        )


def provision_devices(
    broker: Broker, machine_ids: Iterable[str], settings: Settings
) -> dict[str, DeviceCredentials]:
    """Issue each machine a password in Secrets Manager and an account on the broker.

    Parameters
    ----------
    broker : Broker
        The broker to add the devices to.
    machine_ids : iterable of str
        The machines.
    settings : Settings
        Backend and names for Secrets Manager; the backend must be open.

    Returns
    -------
    dict of str to DeviceCredentials
        The credentials by machine id.
    """
    issued = issue_device_credentials(machine_ids, settings)
    broker.add_users({m: c.password for m, c in issued.items()})
    return issued


def stream_readings(
    frame: pd.DataFrame,
    broker: Broker,
    settings: Settings,
    *,
    qos: int = 1,
    batch_size: int = 1,
    payloads: Sequence[bytes] | None = None,
    speed: float | None = None,
    timeout: float = 120.0,
    keep_readings: bool = False,
    midway: Callable[[], object] | None = None,
) -> tuple[StreamReport, Subscriber]:
    """Publish readings through the broker, one device per machine, and reconcile.

    Machines the broker does not know yet are provisioned first
    (:func:`provision_devices`); every device then fetches its own password
    from Secrets Manager, as a real one does at start-up.

    Parameters
    ----------
    frame : pandas.DataFrame
        Readings in delivery order with ``machine_id``, ``site``, ``line``,
        ``seq`` and ``ts``.
    broker : Broker
        A running broker.
    settings : Settings
        Backend for Secrets Manager (open it with ``aws_backend``).
    qos : {0, 1}, default 1
        Delivery guarantee.
    batch_size : int, default 1
        Readings per message.
    payloads : sequence of bytes or None, default None
        Ready payloads per row (with faults injected); encoded when None.
    speed : float or None, default None
        Simulated seconds per second; None as fast as possible.
    timeout : float, default 120.0
        Seconds to wait for the subscriber after the last publish.
    keep_readings : bool, default False
        Keep the valid readings in the subscriber (``subscriber.frame()``).
    midway : callable or None, default None
        Called once when half of the rows are published, for example
        ``broker.restart`` to show what a broker outage does.

    Returns
    -------
    (StreamReport, Subscriber)
        The reconciliation, and the stopped subscriber with its rejected
        readings and statuses.
    """
    places = frame.drop_duplicates("machine_id")[["machine_id", "site", "line"]]
    seqs = frame.groupby("machine_id", observed=True)["seq"].unique()
    expected = {str(m): [int(s) for s in values] for m, values in seqs.items()}
    machine_ids = [str(m) for m in places["machine_id"]]
    new = [m for m in machine_ids if m not in broker.usernames]
    if new:
        provision_devices(broker, new, settings)
    reader = DeviceCredentials(
        "stream-reader", broker.add_service_user("stream-reader")
    )
    subscriber = Subscriber(
        broker.endpoint, reader, qos=qos, keep_readings=keep_readings
    ).start()
    devices: dict[str, Device] = {}
    try:
        for machine_id, site, line in places.itertuples(index=False):
            creds = load_device_credentials(str(machine_id), settings)
            devices[str(machine_id)] = Device(
                str(machine_id),
                str(site),
                str(line),
                broker.endpoint,
                creds,
                qos=qos,
                batch_size=batch_size,
            ).connect()
        started = time.perf_counter()
        half = len(frame) // 2 if midway is not None else len(frame)
        first = None if payloads is None else payloads[:half]
        publish_fleet(frame.iloc[:half], devices, payloads=first, speed=speed)
        if midway is not None:
            midway()
            rest = None if payloads is None else payloads[half:]
            publish_fleet(frame.iloc[half:], devices, payloads=rest, speed=speed)
        for device in devices.values():
            device.flush(timeout)
        published = sum(d.stats.readings for d in devices.values())
        subscriber.wait_for(published, timeout, quiet_s=0.2, idle_s=3.0)
        if qos == 1:
            # Re-sent duplicates can make up the count while a reading is
            # still on its way; at QoS 1 wait until every one is accounted for.
            deadline = time.monotonic() + timeout
            while subscriber.lost(expected) and time.monotonic() < deadline:
                time.sleep(0.1)
        seconds = time.perf_counter() - started
    finally:
        for device in devices.values():
            device.close()
        subscriber.stop()

    stats = subscriber.stats()
    report = StreamReport(
        machines=len(devices),
        qos=qos,
        batch_size=batch_size,
        published=published,
        messages=sum(d.stats.messages for d in devices.values()),
        received=stats.readings,
        unique=stats.unique,
        duplicates=stats.duplicates,
        malformed=stats.malformed,
        dropped=sum(d.stats.dropped_readings for d in devices.values()),
        reconnects=sum(d.stats.connects - 1 for d in devices.values()),
        lost=subscriber.lost(expected),
        seconds=seconds,
        readings_per_s=published / seconds if seconds > 0 else 0.0,
        malformed_by_reason=stats.malformed_by_reason,
    )
    logger.info(
        "Streamed %d readings of %d machines in %.2f s: %d unique, %d duplicates, "
        "%d malformed, %d lost",
        report.published,
        report.machines,
        seconds,
        report.unique,
        report.duplicates,
        report.malformed,
        report.lost,
    )
    return report, subscriber
