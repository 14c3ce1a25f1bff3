"""Tests of the S3 model registry on moto: versions, promotion, scoring."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from smartfactory_lib.cloud.scoring import Scorer, load_scorer
from smartfactory_lib.core.aws import aws_backend
from smartfactory_lib.core.config import Settings
from smartfactory_lib.ml.features import window_features
from smartfactory_lib.ml.onnx_export import export_onnx
from smartfactory_lib.ml.registry import (
    IntegrityError,
    ModelRegistry,
    ProductionScorer,
    PromotionError,
    RegistryScorer,
)
from smartfactory_lib.ml.training import run_experiment
from smartfactory_lib.simulation import simulate

RATES = {"bearing_wear": 0.5, "overheating": 0.5, "electrical": 0.2}


@pytest.fixture(scope="module")
def trained() -> tuple[bytes, object, list[str], tuple[str, ...], pd.DataFrame]:
    """A small factory model, exported to ONNX, and some fresh readings."""
    sim = simulate(8, 24, rate_hz=1 / 60, seed=9, failure_rates=RATES)
    experiment = run_experiment(
        sim.readings, sim.failures, n_estimators=20, machine_fraction=0.25
    )
    exported = export_onnx(experiment.classifier, experiment.X_test)
    fresh = simulate(3, 2, rate_hz=1 / 60, seed=10).readings
    return (
        exported.model,
        experiment.classifier,
        experiment.features,
        experiment.windows,
        fresh,
    )


@pytest.fixture
def registry() -> Iterator[ModelRegistry]:
    """A registry in a moto S3 bucket with a unique name."""
    settings = Settings(backend="moto", region="eu-west-1", environment="test")
    with aws_backend(settings):
        yield ModelRegistry(settings, bucket="smartfactory-test-models-registry")


def _register(registry: ModelRegistry, model: bytes, f1: float, features, windows):
    return registry.register(
        "failure-classifier",
        model,
        metrics={"f1": f1, "recall": 0.8},
        features=features,
        data_fingerprint="abc123",
        windows=windows,
        card="# Model card\n",
    )


def test_register_stores_versions_with_their_digest(registry, trained) -> None:
    """Check that versions count up and carry sha256, commit and timestamp."""
    model, _, features, windows, _ = trained

    first = _register(registry, model, 0.7, features, windows)
    second = _register(registry, model, 0.9, features, windows)

    assert [v.version for v in registry.versions("failure-classifier")] == [1, 2]
    assert second.sha256 == hashlib.sha256(model).hexdigest()
    assert first.stage == second.stage == "candidate"
    assert second.git_commit and second.created.endswith("Z")
    assert registry.get("failure-classifier", 2).data_fingerprint == "abc123"


def test_promotion_is_gated_by_metrics(registry, trained) -> None:
    """Check that a version below a threshold is refused and says why."""
    model, _, features, windows, _ = trained
    _register(registry, model, 0.6, features, windows)

    with pytest.raises(PromotionError, match="f1 must be at least 0.8, got 0.6"):
        registry.promote("failure-classifier", 1, {"f1": 0.8})
    with pytest.raises(PromotionError, match="precision must be at least"):
        registry.promote("failure-classifier", 1, {"precision": 0.1})
    with pytest.raises(KeyError, match="no production version"):
        registry.production("failure-classifier")


def test_promotion_archives_the_previous_model(registry, trained) -> None:
    """Check that promoting v2 archives v1 and moves the pointer."""
    model, _, features, windows, _ = trained
    _register(registry, model, 0.85, features, windows)
    _register(registry, model, 0.9, features, windows)

    registry.promote("failure-classifier", 1, {"f1": 0.8})
    registry.promote("failure-classifier", 2, {"f1": 0.8})

    assert registry.production("failure-classifier").version == 2
    assert registry.get("failure-classifier", 1).stage == "archived"
    history = registry.get("failure-classifier", 2).history
    assert [h["stage"] for h in history] == ["candidate", "production"]


def test_scorer_matches_scikit_learn(registry, trained) -> None:
    """Check that the production scorer scores readings as the forest does."""
    model, forest, features, windows, fresh = trained
    _register(registry, model, 0.9, features, windows)
    registry.promote("failure-classifier", 1, {"f1": 0.8})

    scorer = ProductionScorer.from_registry(registry, "failure-classifier")
    scored = scorer.score_readings(fresh)

    X = window_features(fresh, windows)[features].to_numpy(np.float32)
    expected = forest.predict_proba(X)[:, 1]
    np.testing.assert_allclose(scored["probability"], expected, atol=1e-5)
    assert list(scored.columns) == ["machine_id", "ts", "probability", "alert"]
    assert scored.index.equals(fresh.index)


def test_load_refuses_a_tampered_model(registry, trained) -> None:
    """Check that bytes that do not match their sha256 are refused."""
    model, _, features, windows, _ = trained
    entry = _register(registry, model, 0.9, features, windows)
    registry.s3.put_object(
        Bucket=registry.bucket, Key=entry.prefix + "model.onnx", Body=model[:-1] + b"x"
    )

    with pytest.raises(IntegrityError, match="sha256 of model.onnx"):
        registry.load("failure-classifier", 1)


@pytest.mark.parametrize(
    ("name", "model", "match"),
    [("bad name!", b"x", "model name must be"), ("ok", b"", "non-empty ONNX")],
)
def test_register_validates_its_input(
    registry, name: str, model: bytes, match: str
) -> None:
    """Check that a bad name or an empty model is refused."""
    with pytest.raises(ValueError, match=match):
        registry.register(name, model, metrics={}, features=[], data_fingerprint="")


def test_registry_scorer_plugs_into_the_handler(
    registry: ModelRegistry, trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that the handler's scorer path loads the production model."""
    model, forest, features, windows, fresh = trained
    for name in ("SMARTFACTORY_BACKEND", "SMARTFACTORY_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMARTFACTORY_MODEL_THRESHOLD", "0.4")
    default = ModelRegistry(Settings())  # the bucket a scorer built from nothing uses
    _register(default, model, 0.9, features, windows)
    default.promote("failure-classifier", 1, {"f1": 0.8})

    scorer = load_scorer("smartfactory_lib.ml.registry:RegistryScorer")

    assert isinstance(scorer, RegistryScorer)
    assert isinstance(scorer, Scorer)
    assert scorer.name == "failure-classifier-v1"
    assert scorer.threshold == 0.4
    scores = scorer.score(fresh)
    assert scores.dtype == np.float64 and scores.shape == (len(fresh),)
    X = window_features(fresh, windows)[features].to_numpy(np.float32)
    np.testing.assert_allclose(scores, forest.predict_proba(X)[:, 1], atol=1e-5)


def test_registry_scorer_refuses_a_bad_threshold(registry: ModelRegistry) -> None:
    """Check that a threshold outside [0, 1] is named with its value."""
    with pytest.raises(ValueError, match="threshold must be between 0 and 1, got 2"):
        RegistryScorer(registry.settings, threshold=2.0)
