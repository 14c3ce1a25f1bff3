"""Service level indicators the ingest function measures, as embedded metrics.

The SLOs live in ``governance/slos.yaml`` and the burn-rate alarms of
``terraform/modules/cloudwatch/slo_alarms.tf`` are generated from it. Those
alarms read ``<metric>Bad`` (one value per event: 1 when the event missed its
threshold, 0 when it met it) with the dimension ``slo``; this module turns the
events the handler measures into CloudWatch embedded-metric-format documents
that carry exactly that, beside the raw values.

The handler runs without the governance folder in AWS, so it takes the
thresholds from ``SMARTFACTORY_SLO_THRESHOLDS`` (a JSON object of SLO name to
threshold, which Terraform fills from the same file); run from the repository,
it reads the file itself. It needs no more than the standard library and
numpy, so the Lambda package stays small.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["HANDLER_SLIS", "THRESHOLDS_ENV", "emf_documents", "load_thresholds"]

logger = logging.getLogger(__name__)

THRESHOLDS_ENV: Final = "SMARTFACTORY_SLO_THRESHOLDS"
"""Environment variable with the SLO thresholds as a JSON object."""

HANDLER_SLIS: Final = {
    "ingestion_latency": ("IngestionLatency", "Seconds"),
    "inference_time": ("InferenceTime", "Seconds"),
    "alert_delivery": ("AlertDeliveryLatency", "Seconds"),
}
"""The SLOs the ingest function measures: SLO name to (metric, unit)."""

_SLOS_FILE: Final = Path(__file__).resolve().parents[2] / "governance" / "slos.yaml"
_MAX_VALUES: Final = 100  # values of one metric in one EMF document


def load_thresholds(
    environ: Mapping[str, str] | None = None, path: Path | None = None
) -> dict[str, float]:
    """Return the threshold of each SLO the handler measures.

    Parameters
    ----------
    environ : mapping or None, default None
        Where to look for :data:`THRESHOLDS_ENV`; ``os.environ`` when None.
    path : pathlib.Path or None, default None
        The SLO file read when the variable is unset; the repository's
        ``governance/slos.yaml`` when None.

    Returns
    -------
    dict
        SLO name to threshold; empty when neither source exists, in which
        case the handler emits no SLI metrics.

    Raises
    ------
    ValueError
        If the variable is not a JSON object of numbers.
    """
    environ = os.environ if environ is None else environ
    text = environ.get(THRESHOLDS_ENV)
    if text:
        try:
            raw = json.loads(text)
            thresholds = {str(k): float(v) for k, v in dict(raw).items()}
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{THRESHOLDS_ENV} must be a JSON object of SLO name to number, "
                f"got {text[:80]!r}"
            ) from exc
        return {k: v for k, v in thresholds.items() if k in HANDLER_SLIS}
    path = path or _SLOS_FILE
    if not path.is_file():
        logger.info("No SLO thresholds (%s unset, no %s)", THRESHOLDS_ENV, path)
        return {}
    import yaml

    slos = yaml.safe_load(path.read_text()).get("slos", [])
    return {s["name"]: float(s["threshold"]) for s in slos if s["name"] in HANDLER_SLIS}


def emf_documents(
    slo: str,
    values: Sequence[float] | np.ndarray,
    threshold: float,
    timestamp_ms: int,
    namespace: str = "SmartFactory",
) -> list[dict[str, Any]]:
    """Return embedded-metric-format documents of one SLO's events.

    Parameters
    ----------
    slo : str
        A key of :data:`HANDLER_SLIS`.
    values : sequence of float
        One measured value per event; NaN counts as bad.
    threshold : float
        An event is good when its value is at most this.
    timestamp_ms : int
        When the events happened, in milliseconds since the epoch.
    namespace : str, default "SmartFactory"
        CloudWatch namespace.

    Returns
    -------
    list of dict
        One document per 100 events (EMF's limit of values per metric), each
        with ``<metric>`` and ``<metric>Bad`` under the dimension ``slo``.

    Raises
    ------
    KeyError
        If ``slo`` is not one the handler measures.
    """
    if slo not in HANDLER_SLIS:
        raise KeyError(f"slo must be one of {', '.join(HANDLER_SLIS)}, got {slo!r}")
    metric, unit = HANDLER_SLIS[slo]
    measured = np.asarray(values, dtype=np.float64)
    bad = (np.nan_to_num(measured, nan=np.inf) > threshold).astype(int)
    documents = []
    for start in range(0, measured.size, _MAX_VALUES):
        chunk = slice(start, start + _MAX_VALUES)
        documents.append(
            {
                "_aws": {
                    "Timestamp": int(timestamp_ms),
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": [["slo"]],
                            "Metrics": [
                                {"Name": metric, "Unit": unit},
                                {"Name": f"{metric}Bad", "Unit": "Count"},
                            ],
                        }
                    ],
                },
                "slo": slo,
                # JSON has no NaN: a value that could not be measured is
                # counted as bad and left out of the values.
                metric: [round(float(v), 6) for v in measured[chunk] if v == v],
                f"{metric}Bad": bad[chunk].tolist(),
            }
        )
    return documents
