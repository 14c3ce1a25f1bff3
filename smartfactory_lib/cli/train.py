"""``smartfactory train``: train and evaluate a classifier, write a model folder.

Two kinds of data are accepted. A run folder written by ``smartfactory
simulate`` trains the factory's failure classifier on windowed features,
evaluated on later readings of held-out machines. A CSV or Parquet file
trains on any table: ``--label`` names the binary target, and
cross-validation is stratified, grouped (``--group``) or time-ordered
(``--timestamp``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from ..ml.artifacts import ModelBundle, save_bundle
from ..ml.onnx_export import export_onnx
from ..ml.training import (
    MODELS,
    ModelCard,
    load_table,
    parse_derive,
    run_experiment,
    train_tabular,
)
from ..simulation.store import load_run
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "train",
        help="train and evaluate a classifier on a run folder or any CSV/Parquet",
        description="Train a tree-ensemble classifier, evaluate it without leakage "
        "and write model.onnx, model.joblib, model.json and a model card to --out.",
    )
    parser.add_argument(
        "--data",
        required=True,
        help="a run folder from 'smartfactory simulate', or a .csv/.parquet file",
    )
    parser.add_argument("--label", help="binary target column (tables only)")
    parser.add_argument("--features", help="comma-separated feature columns")
    parser.add_argument("--timestamp", help="time column: time-ordered folds")
    parser.add_argument(
        "--group", help="group column (e.g. machine): groups kept whole"
    )
    parser.add_argument("--model", choices=MODELS, default="forest")
    parser.add_argument(
        "--derive",
        action="append",
        default=[],
        metavar="NAME=EXPR",
        help="add a feature from a pandas expression (repeatable)",
    )
    parser.add_argument("--trees", type=bounded(int, 1, 2000), default=200)
    parser.add_argument(
        "--depth",
        type=bounded(int, 0, 64),
        default=None,
        help="max tree depth, 0 for none (default: 8 for a run, none for a table)",
    )
    parser.add_argument("--folds", type=bounded(int, 2, 20), default=5)
    parser.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=0)
    parser.add_argument("--out", required=True, help="model folder to write")
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def _train_run(args: argparse.Namespace) -> tuple[ModelBundle, ModelCard, Any]:
    if args.label or args.features or args.derive or args.timestamp or args.group:
        raise ValueError(
            "a run folder trains the factory classifier; --label, --features, "
            "--derive, --timestamp and --group apply to tables only"
        )
    run = load_run(args.data)
    experiment = run_experiment(
        run.readings,
        run.failures,
        model=args.model,
        n_estimators=args.trees,
        max_depth=8 if args.depth is None else (args.depth or None),
        seed=args.seed,
    )
    metrics = experiment.classifier_eval.summary()
    metrics.update(
        n_rows=len(run.readings),
        n_features=len(experiment.features),
        evaluation="later readings of held-out machines",
        train_seconds=round(experiment.train_seconds, 2),
    )
    bundle = ModelBundle(
        model=experiment.classifier,
        kind="factory",
        features=experiment.features,
        X_normal=experiment.X_train[experiment.y_train == 0],
        metrics=metrics,
        windows=list(experiment.windows),
        label="degradation before a failure",
    )
    return bundle, experiment.card(), experiment.X_test


def _train_table(args: argparse.Namespace) -> tuple[ModelBundle, ModelCard, Any]:
    if not args.label:
        raise ValueError("--label is required for a table; name its binary column")
    frame = load_table(args.data)
    derive = dict(parse_derive(spec) for spec in args.derive)
    features = [f.strip() for f in args.features.split(",")] if args.features else None
    result = train_tabular(
        frame,
        args.label,
        features=features,
        timestamp=args.timestamp,
        group=args.group,
        model=args.model,
        derive=derive,
        n_splits=args.folds,
        n_estimators=args.trees,
        max_depth=args.depth or None,
        seed=args.seed,
        source=str(args.data),
    )
    bundle = ModelBundle(
        model=result.model,
        kind="tabular",
        features=result.features,
        X_normal=result.X[result.y == 0],
        metrics=result.metrics,
        derive=derive,
        categories=result.categories,
        label=args.label,
    )
    return bundle, result.card, result.X


def handle(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if not data.exists():
        raise FileNotFoundError(f"data not found: {data}")
    train = _train_run if data.is_dir() else _train_table
    bundle, card, X_check = train(args)

    exported = export_onnx(bundle.model, np.asarray(X_check, dtype=np.float32)[:5000])
    bundle.onnx = exported.model
    folder = save_bundle(bundle, args.out)
    card.write(folder)

    metrics = bundle.metrics
    result = {
        **{k: metrics[k] for k in ("f1", "precision", "recall", "pr_auc")},
        "n_rows": metrics["n_rows"],
        "n_features": len(bundle.features),
        "kind": bundle.kind,
        "model": args.model,
        "evaluation": metrics.get("cv", metrics.get("evaluation")),
        "onnx_max_abs_diff": exported.max_abs_diff,
        "onnx_bytes": exported.size_bytes,
        "out": str(folder),
    }
    text = (
        f"Trained {args.model} on {result['n_rows']:,} rows x "
        f"{result['n_features']} features ({result['evaluation']}): "
        f"F1 {result['f1']:.3f}, precision {result['precision']:.3f}, "
        f"recall {result['recall']:.3f}, PR-AUC {result['pr_auc']:.3f}; "
        f"ONNX parity {exported.max_abs_diff:.1e}; wrote {folder}"
    )
    emit(result, args.json, text)
    return 0
