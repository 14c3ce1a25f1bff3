"""The model registry: versioned ONNX models on S3, promoted by their metrics.

Every trained model is stored as an immutable version under
``models/<name>/v<NNNN>/`` in the registry bucket: ``model.onnx`` and
``metadata.json`` with the model's sha256, the git commit of the code that
trained it, a UTC timestamp, a fingerprint of its training data, its
metrics, its features and its stage. A new version is a ``candidate``.
:meth:`ModelRegistry.promote` makes it ``production`` only if its metrics
meet the thresholds, and archives the version it replaces; a pointer object
``models/<name>/production.json`` names the production version.

:class:`ProductionScorer` is what the Lambda handler uses: it loads the
production model, checks its sha256 and scores readings with onnxruntime.
It imports neither scikit-learn nor a broker.

All calls are real boto3 S3 calls, against moto in-process by default
(see :mod:`smartfactory_lib.core.aws`) or any endpoint or AWS account.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from ..core.aws import client
from ..core.config import Settings
from ._json import json_ready
from .features import window_features
from .onnx_export import OnnxScorer

__all__ = [
    "STAGES",
    "IntegrityError",
    "ModelRegistry",
    "ModelVersion",
    "PromotionError",
    "ProductionScorer",
    "RegistryScorer",
    "git_commit",
]

logger = logging.getLogger(__name__)

STAGES: Final = ("candidate", "production", "archived")
"""Stages a model version moves through."""


class PromotionError(ValueError):
    """A version's metrics do not meet the promotion thresholds."""


class IntegrityError(RuntimeError):
    """A stored model's bytes do not match the sha256 in its metadata."""


def git_commit(path: str | Path = ".") -> str:
    """Return the git commit of the code, or ``unknown`` outside a checkout.

    ``SMARTFACTORY_GIT_COMMIT`` overrides it (a build pipeline sets it).
    """
    override = os.environ.get("SMARTFACTORY_GIT_COMMIT")
    if override:
        return override
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


@dataclass
class ModelVersion:
    """Metadata of one stored model version.

    Attributes
    ----------
    name : str
        Model name, such as ``failure-classifier``.
    version : int
        1, 2, ... in order of registration.
    sha256 : str
        Digest of ``model.onnx``.
    git_commit : str
        Commit of the code that trained it.
    created : str
        UTC timestamp of registration (ISO 8601).
    data_fingerprint : str
        Fingerprint of the training data.
    metrics : dict
        Evaluation metrics.
    features : list of str
        Input columns in order.
    windows : list of str
        Feature windows (empty for models on other tables).
    stage : str
        One of :data:`STAGES`.
    size_bytes : int
        Size of ``model.onnx``.
    history : list of dict
        Stage changes with their time and reason.
    """

    name: str
    version: int
    sha256: str
    git_commit: str
    created: str
    data_fingerprint: str
    metrics: dict[str, Any]
    features: list[str]
    windows: list[str]
    stage: str = "candidate"
    size_bytes: int = 0
    history: list[dict[str, str]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        """Key prefix of this version in the bucket."""
        return f"models/{self.name}/v{self.version:04d}/"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ModelRegistry:
    """Store, list, promote and load model versions in an S3 bucket.

    Parameters
    ----------
    settings : Settings or None, default None
        Backend and names; the bucket is ``settings.name("models")``.
    bucket : str or None, default None
        Overrides the bucket name.

    Notes
    -----
    Call inside :func:`smartfactory_lib.core.aws.aws_backend` when the
    backend is moto. Two writers promoting at the same moment are not
    serialized: the last pointer write wins (S3 has no transactions; a
    production registry would add a DynamoDB lock).
    """

    def __init__(self, settings: Settings | None = None, bucket: str | None = None):
        self.settings = settings or Settings()
        self.bucket = bucket or self.settings.name("models")
        self.s3 = client("s3", self.settings)

    def ensure_bucket(self) -> None:
        """Create the bucket with object versioning, if it does not exist."""
        existing = {b["Name"] for b in self.s3.list_buckets().get("Buckets", [])}
        if self.bucket in existing:
            return
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.settings.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {
                "LocationConstraint": self.settings.region
            }
        self.s3.create_bucket(**kwargs)
        self.s3.put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        logger.info("Created registry bucket %s", self.bucket)

    def _put_json(self, key: str, body: Mapping[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(json_ready(dict(body)), indent=2).encode(),
            ContentType="application/json",
        )

    def _get_json(self, key: str) -> dict[str, Any]:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return dict(json.loads(body))

    def register(
        self,
        name: str,
        model: bytes,
        *,
        metrics: Mapping[str, Any],
        features: Sequence[str],
        data_fingerprint: str,
        windows: Sequence[str] = (),
        card: str | None = None,
    ) -> ModelVersion:
        """Store a new version of ``name`` as a candidate.

        Parameters
        ----------
        name : str
            Model name (letters, digits, ``-`` and ``_``).
        model : bytes
            Serialized ONNX model.
        metrics : mapping
            Evaluation metrics; promotion reads them.
        features : sequence of str
            Input columns in order.
        data_fingerprint : str
            Fingerprint of the training data.
        windows : sequence of str, default ()
            Feature windows the model expects.
        card : str or None, default None
            Model card in Markdown, stored beside the model.

        Returns
        -------
        ModelVersion
        """
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(
                f"model name must be letters, digits, '-' or '_', got {name!r}"
            )
        if not model:
            raise ValueError("model must be a non-empty ONNX model, got 0 bytes")
        self.ensure_bucket()
        existing = self.versions(name)
        entry = ModelVersion(
            name=name,
            version=(existing[-1].version + 1) if existing else 1,
            sha256=hashlib.sha256(model).hexdigest(),
            git_commit=git_commit(),
            created=_now(),
            data_fingerprint=data_fingerprint,
            metrics=json_ready(dict(metrics)),
            features=list(features),
            windows=list(windows),
            size_bytes=len(model),
        )
        entry.history.append({"stage": "candidate", "at": entry.created, "why": "new"})
        self.s3.put_object(
            Bucket=self.bucket,
            Key=entry.prefix + "model.onnx",
            Body=model,
            Metadata={"sha256": entry.sha256},
        )
        if card is not None:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=entry.prefix + "model_card.md",
                Body=card.encode(),
            )
        self._put_json(entry.prefix + "metadata.json", asdict(entry))
        logger.info("Registered %s v%d (%d bytes)", name, entry.version, len(model))
        return entry

    def versions(self, name: str) -> list[ModelVersion]:
        """Return every version of ``name``, oldest first."""
        paginator = self.s3.get_paginator("list_objects_v2")
        keys = []
        try:
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=f"models/{name}/v"
            ):
                keys += [
                    o["Key"]
                    for o in page.get("Contents", [])
                    if o["Key"].endswith("/metadata.json")
                ]
        except self.s3.exceptions.NoSuchBucket:
            return []
        return [ModelVersion(**self._get_json(k)) for k in sorted(keys)]

    def get(self, name: str, version: int) -> ModelVersion:
        """Return the metadata of one version.

        Raises
        ------
        KeyError
            If the version does not exist.
        """
        key = f"models/{name}/v{version:04d}/metadata.json"
        try:
            return ModelVersion(**self._get_json(key))
        except self.s3.exceptions.NoSuchKey:
            raise KeyError(f"model {name!r} has no version {version}") from None

    def production(self, name: str) -> ModelVersion:
        """Return the production version of ``name``.

        Raises
        ------
        KeyError
            If no version of ``name`` is in production.
        """
        try:
            pointer = self._get_json(f"models/{name}/production.json")
        except (self.s3.exceptions.NoSuchKey, self.s3.exceptions.NoSuchBucket):
            raise KeyError(f"model {name!r} has no production version") from None
        return self.get(name, int(pointer["version"]))

    def promote(
        self, name: str, version: int, thresholds: Mapping[str, float]
    ) -> ModelVersion:
        """Make a version the production model if its metrics allow it.

        Parameters
        ----------
        name : str
            Model name.
        version : int
            Version to promote.
        thresholds : mapping of str to float
            Minimum value of each named metric, such as ``{"f1": 0.8}``.

        Returns
        -------
        ModelVersion
            The promoted version.

        Raises
        ------
        PromotionError
            If a metric is missing or below its threshold; the message lists
            every failed check.
        """
        entry = self.get(name, version)
        failed = []
        for metric, minimum in thresholds.items():
            value = entry.metrics.get(metric)
            if value is None or not float(value) >= minimum:
                failed.append(f"{metric} must be at least {minimum:g}, got {value}")
        if failed:
            logger.warning("Refused to promote %s v%d: %s", name, version, failed)
            raise PromotionError(
                f"cannot promote {name} v{version}: " + "; ".join(failed)
            )
        now = _now()
        try:
            previous: ModelVersion | None = self.production(name)
        except KeyError:
            previous = None
        if previous is not None and previous.version != version:
            previous.stage = "archived"
            previous.history.append(
                {"stage": "archived", "at": now, "why": f"replaced by v{version}"}
            )
            self._put_json(previous.prefix + "metadata.json", asdict(previous))
        entry.stage = "production"
        entry.history.append(
            {"stage": "production", "at": now, "why": f"met {dict(thresholds)}"}
        )
        self._put_json(entry.prefix + "metadata.json", asdict(entry))
        self._put_json(
            f"models/{name}/production.json", {"version": version, "at": now}
        )
        logger.info("Promoted %s v%d to production", name, version)
        return entry

    def load(self, name: str, version: int | None = None) -> tuple[bytes, ModelVersion]:
        """Return a version's ONNX bytes (production by default), verified.

        Raises
        ------
        IntegrityError
            If the bytes do not match the stored sha256.
        KeyError
            If the version (or a production version) does not exist.
        """
        entry = self.production(name) if version is None else self.get(name, version)
        body = self.s3.get_object(Bucket=self.bucket, Key=entry.prefix + "model.onnx")
        model = body["Body"].read()
        digest = hashlib.sha256(model).hexdigest()
        if digest != entry.sha256:
            raise IntegrityError(
                f"{name} v{entry.version}: sha256 of model.onnx is {digest}, "
                f"metadata says {entry.sha256}"
            )
        return model, entry


class ProductionScorer:
    """Score readings with the production model, as the Lambda handler does.

    Parameters
    ----------
    model : bytes
        Serialized ONNX classifier.
    entry : ModelVersion
        Its metadata (features and windows).
    threshold : float, default 0.5
        Probability at or above which a reading raises an alert.
    """

    def __init__(self, model: bytes, entry: ModelVersion, threshold: float = 0.5):
        self.entry = entry
        self.threshold = threshold
        self._scorer = OnnxScorer(model)

    @classmethod
    def from_registry(
        cls, registry: ModelRegistry, name: str, threshold: float = 0.5
    ) -> ProductionScorer:
        """Load and verify the production version of ``name``."""
        model, entry = registry.load(name)
        logger.info("Loaded %s v%d for scoring", name, entry.version)
        return cls(model, entry, threshold)

    @property
    def name(self) -> str:
        """Short name of the model and version, stored with each scored reading."""
        return f"{self.entry.name}-v{self.entry.version}"

    def score(self, readings: pd.DataFrame) -> np.ndarray:
        """Return the failure probability of each reading (float64).

        This is the scorer protocol of the ingest handler
        (:class:`smartfactory_lib.cloud.scoring.Scorer`).
        """
        probability = self.score_readings(readings)["probability"]
        return probability.to_numpy(dtype=np.float64)

    def score_features(self, X: Any) -> np.ndarray:
        """Return the failure probability of each feature row."""
        return self._scorer.score(X)

    def score_readings(self, readings: pd.DataFrame) -> pd.DataFrame:
        """Compute features for a batch of readings and score each one.

        Parameters
        ----------
        readings : pandas.DataFrame
            Readings with the schema's columns (any order, several machines).

        Returns
        -------
        pandas.DataFrame
            ``machine_id``, ``ts``, ``probability`` and ``alert`` per
            reading, in the input order.
        """
        if not self.entry.windows:
            raise ValueError(
                f"model {self.entry.name} v{self.entry.version} was not trained on "
                "windowed readings; use score_features"
            )
        X = window_features(readings, self.entry.windows)[self.entry.features]
        probability = self.score_features(X.to_numpy(np.float32))
        return pd.DataFrame(
            {
                "machine_id": readings["machine_id"].to_numpy(),
                "ts": readings["ts"].to_numpy(),
                "probability": probability,
                "alert": probability >= self.threshold,
            },
            index=readings.index,
        )


class RegistryScorer(ProductionScorer):
    """The production model, found by configuration alone.

    The ingest handler builds its scorer from a ``package.module:Class``
    path without arguments; with ``SMARTFACTORY_SCORER`` set to
    ``smartfactory_lib.ml.registry:RegistryScorer`` it loads the production
    version of ``SMARTFACTORY_MODEL`` (default ``failure-classifier``) from
    the registry bucket of the default :class:`Settings`, and alerts at
    ``SMARTFACTORY_MODEL_THRESHOLD`` (default 0.5).

    Parameters
    ----------
    settings : Settings or None, default None
        Backend and names; from the environment by default.
    model : str or None, default None
        Model name; ``SMARTFACTORY_MODEL`` by default.
    threshold : float or None, default None
        Alert threshold; ``SMARTFACTORY_MODEL_THRESHOLD`` by default.

    Raises
    ------
    KeyError
        If the model has no production version.
    ValueError
        If the threshold is not a number between 0 and 1.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        model: str | None = None,
        threshold: float | None = None,
    ) -> None:
        name = model or os.environ.get("SMARTFACTORY_MODEL", "failure-classifier")
        if threshold is None:
            text = os.environ.get("SMARTFACTORY_MODEL_THRESHOLD", "0.5")
            try:
                threshold = float(text)
            except ValueError:
                raise ValueError(
                    f"SMARTFACTORY_MODEL_THRESHOLD must be a number, got {text!r}"
                ) from None
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
        payload, entry = ModelRegistry(settings).load(name)
        super().__init__(payload, entry, threshold)
