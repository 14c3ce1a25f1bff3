"""A trained model on disk: everything needed to score and explain it again.

A model folder holds ``model.onnx`` (for scoring anywhere),
``model.joblib`` (the scikit-learn model, which SHAP needs to explain),
``model.json`` (kind, features, windows, derived columns, encodings and
metrics), ``normal.parquet`` (a sample of normal-operation features that
sets what "normal" means in explanations) and the model card.

:func:`features_for` turns new data into the model's input columns the same
way training did: windowed features for readings of the simulated factory,
derived and encoded columns for any other table.

``model.joblib`` is a pickle: load only model folders you wrote yourself.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import joblib
import pandas as pd

from ._json import json_ready
from .features import window_features

__all__ = ["KINDS", "ModelBundle", "features_for", "load_bundle", "save_bundle"]

logger = logging.getLogger(__name__)

KINDS: Final = ("factory", "tabular")
"""``factory``: windowed features of readings; ``tabular``: any table."""

_NORMAL_SAMPLE: Final = 2000


@dataclass
class ModelBundle:
    """A trained classifier with what it needs to be used again.

    Attributes
    ----------
    model : Any
        The fitted scikit-learn classifier.
    kind : str
        One of :data:`KINDS`.
    features : list of str
        Input columns in order.
    X_normal : pandas.DataFrame
        Features of normal operation (a sample).
    metrics : dict
        Evaluation metrics.
    windows : list of str
        Feature windows (``factory`` only).
    derive : dict
        Derived columns ``{name: expression}`` (``tabular`` only).
    categories : dict
        Category order of encoded columns (``tabular`` only).
    label : str
        The target column or description.
    onnx : bytes or None
        The exported model, when there is one.
    """

    model: Any
    kind: str
    features: list[str]
    X_normal: pd.DataFrame
    metrics: dict[str, Any]
    windows: list[str] = field(default_factory=list)
    derive: dict[str, str] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    label: str = ""
    onnx: bytes | None = None


def save_bundle(bundle: ModelBundle, directory: str | Path) -> Path:
    """Write a model folder and return its path.

    Raises
    ------
    NotADirectoryError
        If ``directory`` exists and is a file.
    ValueError
        If the bundle's kind is unknown.
    """
    if bundle.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {bundle.kind!r}")
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"out must be a directory, got the file {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle.model, folder / "model.joblib")
    if bundle.onnx is not None:
        (folder / "model.onnx").write_bytes(bundle.onnx)
    normal = bundle.X_normal
    if len(normal) > _NORMAL_SAMPLE:
        normal = normal.sample(_NORMAL_SAMPLE, random_state=0)
    normal.reset_index(drop=True).to_parquet(folder / "normal.parquet", index=False)
    meta = {
        "kind": bundle.kind,
        "features": bundle.features,
        "windows": bundle.windows,
        "derive": bundle.derive,
        "categories": bundle.categories,
        "label": bundle.label,
        "metrics": bundle.metrics,
    }
    (folder / "model.json").write_text(json.dumps(json_ready(meta), indent=2) + "\n")
    logger.info("Wrote %s model to %s", bundle.kind, folder)
    return folder


def load_bundle(directory: str | Path) -> ModelBundle:
    """Read a model folder written by :func:`save_bundle`.

    Raises
    ------
    FileNotFoundError
        Naming the first missing file.
    """
    folder = Path(directory)
    for name in ("model.json", "model.joblib", "normal.parquet"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder} is not a model folder: {name} is missing"
            )
    meta = json.loads((folder / "model.json").read_text())
    onnx_path = folder / "model.onnx"
    return ModelBundle(
        model=joblib.load(folder / "model.joblib"),
        kind=meta["kind"],
        features=list(meta["features"]),
        X_normal=pd.read_parquet(folder / "normal.parquet"),
        metrics=dict(meta["metrics"]),
        windows=list(meta["windows"]),
        derive=dict(meta["derive"]),
        categories={k: list(v) for k, v in meta["categories"].items()},
        label=str(meta["label"]),
        onnx=onnx_path.read_bytes() if onnx_path.is_file() else None,
    )


def features_for(bundle: ModelBundle, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as the model's input columns, computed as in training.

    Parameters
    ----------
    bundle : ModelBundle
        The trained model.
    frame : pandas.DataFrame
        Readings (``factory``) or a table like the training table
        (``tabular``).

    Returns
    -------
    pandas.DataFrame
        Columns ``bundle.features``, index of ``frame``.

    Raises
    ------
    ValueError
        If a needed column is missing or an expression does not evaluate.
    """
    if bundle.kind == "factory":
        return window_features(frame, bundle.windows)[bundle.features]
    table = frame.copy()
    for name, expr in bundle.derive.items():
        try:
            table[name] = table.eval(expr)
        except Exception as exc:  # eval raises many kinds; say which expression
            raise ValueError(f"cannot derive {name} from {expr!r}: {exc}") from None
    missing = [c for c in bundle.features if c not in table]
    if missing:
        raise ValueError(
            f"data lacks the model's feature column(s) {', '.join(missing)}"
        )
    X = pd.DataFrame(index=table.index)
    for column in bundle.features:
        if column in bundle.categories:
            codes = pd.Categorical(
                table[column].astype(str), categories=bundle.categories[column]
            ).codes
            X[column] = codes.astype("float64")
        else:
            X[column] = pd.to_numeric(table[column], errors="raise").astype("float64")
    return X
