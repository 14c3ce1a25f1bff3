"""``smartfactory explain``: explain the alerts a model raises on stored data.

It loads a model folder written by ``smartfactory train``, computes the
model's features for a run folder (or a table like the training table),
scores every row and explains only the flagged ones: the three strongest
reasons per alert, in plain words.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from ..ml.artifacts import features_for, load_bundle
from ..ml.explain import AlertExplainer
from ..ml.training import load_table
from ..simulation.store import load_run
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "explain",
        help="explain a model's alerts on a stored run or table",
        description="Score a run folder (or a CSV/Parquet table) with a trained "
        "model and give the top reasons of every alert.",
    )
    parser.add_argument("--model", required=True, help="model folder from 'train'")
    parser.add_argument(
        "--data", required=True, help="run folder from 'simulate', or a table"
    )
    parser.add_argument("--threshold", type=bounded(float, 0.0, 1.0), default=0.5)
    parser.add_argument("--top", type=bounded(int, 1, 10), default=3)
    parser.add_argument(
        "--limit", type=bounded(int, 0, 100_000), default=20, help="alerts printed"
    )
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    bundle = load_bundle(args.model)
    data = Path(args.data)
    if not data.exists():
        raise FileNotFoundError(f"data not found: {data}")
    frame = load_run(data).readings if data.is_dir() else load_table(data)
    if bundle.kind == "factory" and "malformed" in frame:
        frame = frame[~frame["malformed"].astype(bool)]
    X = features_for(bundle, frame)

    explainer = AlertExplainer(bundle.model, bundle.features, bundle.X_normal)
    alerts = explainer.explain(X, threshold=args.threshold, top=args.top)
    if bundle.kind == "factory" and len(alerts):
        where = frame.loc[alerts["row"], ["machine_id", "ts"]]
        alerts.insert(1, "machine_id", where["machine_id"].astype(str).to_numpy())
        alerts.insert(2, "ts", pd.to_datetime(where["ts"]).astype(str).to_numpy())
    shown = alerts.head(args.limit)

    result = {
        "n_rows": len(X),
        "n_alerts": len(alerts),
        "threshold": args.threshold,
        "alerts": shown.to_dict("records"),
    }
    lines = [f"{len(alerts):,} alerts in {len(X):,} rows (threshold {args.threshold})"]
    for record in shown.to_dict("records"):
        where_text = (
            f"{record['machine_id']} at {record['ts']}"
            if "machine_id" in record
            else f"row {record['row']}"
        )
        lines.append(f"- {where_text}: probability {record['probability']:.2f}")
        lines += [
            f"    {k}. {record[f'reason_{k}']}"
            for k in range(1, args.top + 1)
            if record[f"reason_{k}"]
        ]
    emit(result, args.json, "\n".join(lines))
    return 0
