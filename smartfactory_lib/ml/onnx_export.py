"""ONNX export: the same model, scored without scikit-learn.

A Lambda function that imports scikit-learn starts slowly and scores one
row in milliseconds, mostly Python overhead. The same trees exported to
ONNX and run by onnxruntime score a row in microseconds. An export is only
worth having if it gives the same answers: :func:`export_onnx` compares the
two on real rows and raises :class:`ParityError` when any probability
differs by more than the tolerance (1e-5 by default).

Dynamic quantization stores weights as 8-bit integers. It shrinks matrix
multiplications, so it applies to a neural network (:func:`train_mlp`), not
to a tree ensemble, whose thresholds are comparisons and stay as they are.
:func:`quantize_model` reports what it gains in size and loses in accuracy.

Scoring (:class:`OnnxScorer`) needs only numpy and onnxruntime; scikit-learn
and skl2onnx are imported when a model is exported, so the Lambda handler
stays light.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

__all__ = [
    "OnnxExport",
    "OnnxScorer",
    "ParityError",
    "Quantization",
    "QuantizationError",
    "export_onnx",
    "quantize_model",
    "train_mlp",
]

logger = logging.getLogger(__name__)


class ParityError(RuntimeError):
    """The ONNX model disagrees with the scikit-learn model it came from."""


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


class QuantizationError(ParityError):
    """A quantized model lost more accuracy than allowed."""


class OnnxScorer:
    """Score rows with an ONNX model in onnxruntime.

    Parameters
    ----------
    model : bytes
        The serialized ONNX model.
    threads : int, default 1
        Intra-op threads; one is fastest for single rows and fits a Lambda.

    Notes
    -----
    For a classifier, :meth:`score` returns the positive-class probability;
    for an IsolationForest, the anomaly score (minus scikit-learn's
    ``decision_function``: above 0 means flagged).
    """

    def __init__(self, model: bytes, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.n_features = self.session.get_inputs()[0].shape[1]
        outputs = [o.name for o in self.session.get_outputs()]
        self.kind = "detector" if "scores" in outputs else "classifier"
        self._output = "scores" if self.kind == "detector" else outputs[1]

    def score(self, X: Any) -> np.ndarray:
        """Return one score per row of ``X`` (float32, shaped (rows, features))."""
        values = np.ascontiguousarray(X, dtype=np.float32)
        if values.ndim == 1:
            values = values[None, :]
        (out,) = self.session.run([self._output], {self.input_name: values})
        out = np.asarray(out)
        if self.kind == "detector":
            return -out.reshape(-1)
        return out[:, 1]


@dataclass(frozen=True)
class OnnxExport:
    """An exported model and its parity check.

    Attributes
    ----------
    model : bytes
        Serialized ONNX model.
    max_abs_diff : float
        Largest absolute difference from scikit-learn on the check rows.
    n_checked : int
        Rows compared.
    tolerance : float
        Largest difference allowed.
    """

    model: bytes
    max_abs_diff: float
    n_checked: int
    tolerance: float

    @property
    def size_bytes(self) -> int:
        """Size of the serialized model."""
        return len(self.model)

    def scorer(self, threads: int = 1) -> OnnxScorer:
        """Return an :class:`OnnxScorer` for this model."""
        return OnnxScorer(self.model, threads)

    def save(self, path: str | Path) -> Path:
        """Write the model to ``path`` and return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.model)
        return path


def _sklearn_score(model: Any, X: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import IsolationForest

    if isinstance(model, IsolationForest):
        return -model.decision_function(X)
    return np.asarray(model.predict_proba(X)[:, 1])


def export_onnx(model: Any, X_check: Any, tolerance: float = 1e-5) -> OnnxExport:
    """Export a fitted model to ONNX and prove it scores the same.

    Parameters
    ----------
    model : fitted estimator
        A tree-ensemble classifier, an MLP pipeline or an IsolationForest.
    X_check : array-like
        Rows to compare on (the test set); they also fix the input width.
    tolerance : float, default 1e-5
        Largest absolute difference in probability (or anomaly score)
        allowed between scikit-learn and onnxruntime.

    Returns
    -------
    OnnxExport

    Raises
    ------
    ParityError
        If any row differs by more than ``tolerance``; the message gives
        the largest difference and the row.
    ValueError
        If ``X_check`` holds no rows.
    """
    from skl2onnx import to_onnx
    from sklearn.ensemble import IsolationForest

    X = np.ascontiguousarray(X_check, dtype=np.float32)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X_check must be a non-empty 2-D table, got shape {X.shape}")

    if isinstance(model, IsolationForest):
        onx = to_onnx(model, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    else:
        onx = to_onnx(model, X[:1], options={"zipmap": False})
    serialized = onx.SerializeToString()

    expected = _sklearn_score(model, X)
    actual = OnnxScorer(serialized).score(X)
    diff = np.abs(expected - actual)
    worst = int(np.argmax(diff))
    max_diff = float(diff[worst])
    if not max_diff <= tolerance:
        raise ParityError(
            f"ONNX scores differ from scikit-learn by up to {max_diff:.3g} "
            f"(row {worst}: {expected[worst]:.6f} vs {actual[worst]:.6f}); "
            f"the tolerance is {tolerance:g}"
        )
    logger.info(
        "Exported %s to ONNX (%d bytes); max difference %.2g over %d rows",
        type(model).__name__,
        len(serialized),
        max_diff,
        len(X),
    )
    return OnnxExport(serialized, max_diff, len(X), tolerance)


def train_mlp(
    X: Any, y: Any, *, hidden: tuple[int, ...] = (64, 32), seed: int = 0
) -> Pipeline:
    """Train a small neural network (scaler + MLP), the quantizable variant.

    Parameters
    ----------
    X, y : array-like
        Training features and labels.
    hidden : tuple of int, default (64, 32)
        Units per hidden layer.
    seed : int, default 0
        Random state.
    """
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=hidden,
            max_iter=200,
            early_stopping=True,
            random_state=seed,
        ),
    )
    return pipeline.fit(np.asarray(X, dtype=np.float32), np.asarray(y))


@dataclass(frozen=True)
class Quantization:
    """What dynamic quantization did to a model.

    Attributes
    ----------
    model : bytes
        The quantized ONNX model.
    size_before, size_after : int
        Serialized sizes in bytes.
    f1_before, f1_after : float
        F1 at threshold 0.5 on the evaluation rows.
    max_abs_diff : float
        Largest probability change.
    """

    model: bytes
    size_before: int
    size_after: int
    f1_before: float
    f1_after: float
    max_abs_diff: float

    def as_dict(self) -> dict[str, float]:
        """Return the figures, with the size ratio."""
        return {
            "size_before_kb": self.size_before / 1024,
            "size_after_kb": self.size_after / 1024,
            "size_ratio": self.size_after / self.size_before,
            "f1_before": self.f1_before,
            "f1_after": self.f1_after,
            "max_abs_diff": self.max_abs_diff,
        }


def quantize_model(
    exported: OnnxExport, X_eval: Any, y_eval: Any, max_f1_drop: float = 0.1
) -> Quantization:
    """Quantize an exported model's weights to 8 bits and measure the change.

    Quantization changes probabilities by design, so the 1e-5 parity check of
    :func:`export_onnx` cannot apply; its gate is accuracy instead.

    Parameters
    ----------
    exported : OnnxExport
        An exported model with matrix multiplications (an MLP).
    X_eval, y_eval : array-like
        Rows and labels on which accuracy is compared.
    max_f1_drop : float, default 0.1
        Largest loss of F1 (at threshold 0.5) the quantized model may show.

    Returns
    -------
    Quantization

    Raises
    ------
    QuantizationError
        If F1 drops by more than ``max_f1_drop``.
    """
    if not 0.0 <= max_f1_drop <= 1.0:
        raise ValueError(f"max_f1_drop must be between 0 and 1, got {max_f1_drop}")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sklearn.metrics import f1_score

    X = np.ascontiguousarray(X_eval, dtype=np.float32)
    y = np.asarray(y_eval).astype(int)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp, "model.onnx"), Path(tmp, "model.int8.onnx")
        source.write_bytes(exported.model)
        # onnxruntime advises pre-processing through the root logger on every
        # call; it applies to convolutional models, not to this MLP.
        advice = _DropMessage("pre-processing before quantization")
        logging.getLogger().addFilter(advice)
        try:
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
        finally:
            logging.getLogger().removeFilter(advice)
        quantized = target.read_bytes()
    before = exported.scorer().score(X)
    after = OnnxScorer(quantized).score(X)
    result = Quantization(
        model=quantized,
        size_before=exported.size_bytes,
        size_after=len(quantized),
        f1_before=float(f1_score(y, before >= 0.5, zero_division=0)),
        f1_after=float(f1_score(y, after >= 0.5, zero_division=0)),
        max_abs_diff=float(np.abs(before - after).max()),
    )
    logger.info(
        "Quantized model from %d to %d bytes; F1 %.3f -> %.3f",
        result.size_before,
        result.size_after,
        result.f1_before,
        result.f1_after,
    )
    if result.f1_before - result.f1_after > max_f1_drop:
        raise QuantizationError(
            f"quantized F1 must be within {max_f1_drop:g} of the float model's "
            f"{result.f1_before:.4f}, got {result.f1_after:.4f}"
        )
    return result
