"""``smartfactory simulate``: run the factory and write readings and fault log."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..faults import FAULT_TYPES, FaultConfig, inject
from ..simulation import FactoryConfig, FactorySimulator
from ..simulation.factory import LIMITS
from ..simulation.store import save_run
from ._args import add_json_flag, bounded, emit


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate",
        help="simulate the factory and write readings (Parquet) and the fault log",
        description="Simulate N machines for H hours in batch mode, optionally "
        "inject sensor, clock and transport faults, and write a run folder.",
    )
    machines, hours, rate = LIMITS["n_machines"], LIMITS["hours"], LIMITS["rate_hz"]
    parser.add_argument(
        "--machines", type=bounded(int, *machines), required=True, help="machines"
    )
    parser.add_argument(
        "--hours", type=bounded(float, *hours), required=True, help="simulated hours"
    )
    parser.add_argument(
        "--rate-hz", type=bounded(float, *rate), default=1.0, help="readings per s"
    )
    parser.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), default=7)
    parser.add_argument(
        "--fault-rate",
        type=bounded(float, 0.0, 1.0),
        default=0.0,
        help="fraction of readings that receive a fault, spread over all types",
    )
    parser.add_argument("--out", required=True, help="run folder to write")
    add_json_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise NotADirectoryError(f"out must be a directory, got the file {args.out}")
    started = time.perf_counter()
    config = FactoryConfig(
        n_machines=args.machines, rate_hz=args.rate_hz, seed=args.seed
    )
    simulator = FactorySimulator(config, args.hours)
    if simulator.n_readings > 200_000_000:
        raise ValueError(
            "machines x hours x rate must give at most 200,000,000 readings, "
            f"got {simulator.n_readings:,}"
        )
    simulation = simulator.run()
    readings, log = simulation.readings, None
    if args.fault_rate > 0:
        batch = inject(readings, FaultConfig.uniform(args.fault_rate, seed=args.seed))
        readings, log = batch.readings, batch.log
    counts = {name: 0 for name in FAULT_TYPES}
    if log is not None:
        counts.update(log["fault_type"].value_counts().astype(int).to_dict())
    seconds = time.perf_counter() - started
    result = {
        "readings": len(readings),
        "machines": args.machines,
        "hours": args.hours,
        "rate_hz": args.rate_hz,
        "seed": args.seed,
        "failures": len(simulation.failures),
        "seconds": round(seconds, 3),
        "simulate_seconds": round(simulation.seconds, 3),
        "readings_per_s": round(simulator.n_readings / simulation.seconds),
        "faults": counts,
        "out": str(args.out),
    }
    save_run(
        args.out,
        readings=readings,
        failures=simulation.failures,
        layout=simulation.layout,
        faults=log,
        meta=result,
    )
    text = (
        f"Simulated {result['readings']:,} readings from {args.machines} machines "
        f"over {args.hours:g} h in {simulation.seconds:.2f} s "
        f"({result['readings_per_s']:,} readings/s); "
        f"{result['failures']} failures, {sum(counts.values()):,} faults; "
        f"wrote {args.out}"
    )
    emit(result, args.json, text)
    return 0
