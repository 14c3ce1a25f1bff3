"""Pluggable anomaly scorers for the ingest handler.

The handler scores every accepted reading with an object that follows the
:class:`Scorer` protocol: a ``name``, a ``threshold`` and a vectorized
``score(readings)`` that returns one number per row, higher meaning more
anomalous. A reading whose score reaches the threshold is an anomaly and may
raise an alert.

Until a trained model is deployed, :class:`ThresholdScorer` flags readings by
fixed alarm levels on vibration and housing temperature. It is deliberately
simple: it sees a worn bearing late, does not see an electrical fault at all,
and knows nothing about a machine's normal range. :func:`load_scorer` builds a
scorer from a short name or a ``package.module:Class`` path, so a model-backed
scorer replaces it by configuration (``SMARTFACTORY_SCORER``) without a code
change in the handler.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["SCORERS", "Scorer", "ThresholdScorer", "load_scorer"]


@runtime_checkable
class Scorer(Protocol):
    """What the handler needs from an anomaly scorer.

    Attributes
    ----------
    name : str
        Short name, stored with every scored reading.
    threshold : float
        A score at or above it marks an anomaly.
    """

    @property
    def name(self) -> str:
        """Short name of the scorer."""
        ...

    @property
    def threshold(self) -> float:
        """Score at or above which a reading is an anomaly."""
        ...

    def score(self, readings: pd.DataFrame) -> np.ndarray:
        """Return one anomaly score per row of ``readings`` (float64)."""
        ...


@dataclass(frozen=True)
class ThresholdScorer:
    """Score readings by how close they are to fixed alarm levels.

    The score is the largest ratio of a signal to its alarm level, so a score
    of 1 means one signal reached its level. A missing value scores 0.

    Parameters
    ----------
    vibration_mm_s : float, default 4.5
        Alarm level of vibration velocity (RMS). 4.5 mm/s is the boundary
        between "acceptable" and "unsatisfactory" that ISO 10816-3 gives for
        medium-sized machines on rigid foundations.
    temperature_c : float, default 70.0
        Alarm level of the housing temperature.
    threshold : float, default 1.0
        Score at which a reading counts as an anomaly.
    """

    vibration_mm_s: float = 4.5
    temperature_c: float = 70.0
    threshold: float = 1.0
    name: str = "threshold"

    def score(self, readings: pd.DataFrame) -> np.ndarray:
        """Return the largest signal-to-alarm-level ratio of each reading.

        Parameters
        ----------
        readings : pandas.DataFrame
            Readings with ``vibration_mm_s`` and ``temperature_c``.

        Returns
        -------
        numpy.ndarray
            One float64 score per row.
        """
        vibration = readings["vibration_mm_s"].to_numpy(dtype=np.float64)
        temperature = readings["temperature_c"].to_numpy(dtype=np.float64)
        ratios = np.vstack(
            [vibration / self.vibration_mm_s, temperature / self.temperature_c]
        )
        return np.nan_to_num(ratios, nan=0.0).max(axis=0)


SCORERS: Final = {"threshold": ThresholdScorer}
"""Scorers known by short name."""


def load_scorer(spec: str) -> Scorer:
    """Build a scorer from a short name or a ``package.module:Class`` path.

    Parameters
    ----------
    spec : str
        A key of :data:`SCORERS`, or an import path whose class can be built
        without arguments.

    Returns
    -------
    Scorer
        The scorer.

    Raises
    ------
    ValueError
        If ``spec`` is neither a known name nor an importable class.
    TypeError
        If the object built does not follow :class:`Scorer`.
    """
    if spec in SCORERS:
        return SCORERS[spec]()
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise ValueError(
            f"scorer must be one of {', '.join(SCORERS)} or 'package.module:Class', "
            f"got {spec!r}"
        )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"scorer {spec!r} cannot be imported: {exc}") from None
    scorer = cls()
    if not isinstance(scorer, Scorer):
        raise TypeError(
            f"scorer {spec!r} must have name, threshold and score(readings), "
            f"got {type(scorer).__name__}"
        )
    return scorer
