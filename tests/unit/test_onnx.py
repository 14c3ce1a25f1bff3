"""Tests of the ONNX export: parity, loud failure and quantization."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import IsolationForest

from smartfactory_lib.ml.onnx_export import (
    OnnxScorer,
    ParityError,
    QuantizationError,
    export_onnx,
    quantize_model,
    train_mlp,
)
from smartfactory_lib.ml.training import make_classifier


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """A small imbalanced binary problem with twelve features."""
    X, y = make_classification(1500, 12, n_informative=6, weights=[0.9], random_state=0)
    return X.astype(np.float32), y


@pytest.mark.parametrize("model", ["forest", "extra_trees"])
def test_export_matches_scikit_learn(
    data: tuple[np.ndarray, np.ndarray], model: str
) -> None:
    """Check that ONNX probabilities agree with scikit-learn within 1e-5."""
    X, y = data
    clf = make_classifier(model, n_estimators=20).fit(X, y)

    exported = export_onnx(clf, X)

    assert exported.max_abs_diff <= 1e-5
    assert exported.n_checked == len(X)
    expected = clf.predict_proba(X[:5])[:, 1]
    np.testing.assert_allclose(exported.scorer().score(X[:5]), expected, atol=1e-5)


def test_export_of_a_detector_keeps_its_scores(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    """Check that an IsolationForest exports with the same anomaly scores."""
    X, _ = data
    detector = IsolationForest(n_estimators=30, random_state=0).fit(X)

    exported = export_onnx(detector, X)

    scores = exported.scorer().score(X[:10])
    np.testing.assert_allclose(scores, -detector.decision_function(X[:10]), atol=1e-5)


def test_export_fails_loudly_without_parity(
    data: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check that a disagreeing export raises ParityError naming the gap."""
    X, y = data
    clf = make_classifier("forest", n_estimators=5).fit(X, y)
    original = OnnxScorer.score
    monkeypatch.setattr(OnnxScorer, "score", lambda self, X: original(self, X) + 1e-3)

    with pytest.raises(ParityError, match="tolerance is 1e-05"):
        export_onnx(clf, X)


def test_export_rejects_empty_check_rows(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Check that an empty check set is refused with its shape."""
    X, y = data
    clf = make_classifier("forest", n_estimators=5).fit(X, y)

    with pytest.raises(ValueError, match="non-empty 2-D"):
        export_onnx(clf, X[:0])


def test_scorer_accepts_a_single_reading(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Check that a 1-D row is scored as one reading."""
    X, y = data
    exported = export_onnx(make_classifier(n_estimators=5).fit(X, y), X)

    assert exported.scorer().score(X[0]).shape == (1,)


def test_quantization_shrinks_an_mlp(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Check that 8-bit weights make the MLP smaller and keep it usable."""
    X, y = data
    mlp = train_mlp(X, y, hidden=(64, 64))
    exported = export_onnx(mlp, X)

    result = quantize_model(exported, X, y)

    assert result.size_after < result.size_before
    assert result.as_dict()["size_ratio"] < 1.0
    assert result.f1_after > 0.5 * result.f1_before


def test_quantization_fails_loudly_past_its_accuracy_gate(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    """Check a quantized model that loses F1 beyond the gate raises, naming both."""
    X, _ = data
    X_wide = X * 30  # wide activations coarsen the 8-bit scales
    exported = export_onnx(train_mlp(X, data[1], hidden=(64, 64)), X)
    own = (exported.scorer().score(X_wide) >= 0.5).astype(int)  # float F1 is 1

    with pytest.raises(QuantizationError, match=r"within 0 of .* 1\.0000, got 0\."):
        quantize_model(exported, X_wide, own, max_f1_drop=0.0)
    with pytest.raises(ValueError, match="max_f1_drop must be between 0 and 1"):
        quantize_model(exported, X_wide, own, max_f1_drop=1.5)
