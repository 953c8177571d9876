"""Benchmark: reference (Mesa) vs batched (numpy) engine, side by side in one process.

    make bench            # or: .venv/bin/python experiments/bench_engines.py

Runs the default scenario's hybrid plan with every mechanism on (freemium caps and a
trial, paywall decisions, a mandate with resistance, the enterprise deal, abandonment)
on the default 2,000-person org and on a 10,000-person hierarchy, for R = 1 and R = 100.
Prints agent-steps per second (employees x replicates x weeks / wall seconds) for each
engine and the ratio. The reference engine's rate does not depend on R (it runs one
replicate at a time), so for R = 100 it is measured on a few replicates and reported as a
rate; the batched engine always runs all R replicates together. Speed is reported as a
ratio measured in the same run, since this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sim.engines.batched import BatchedModel, advance, default_threads, split_replicates
from sim.engines.reference import AdoptionModel
from sim.engines.runner import prepare
from sim.scenario import deep_merge, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
EVERY_MECHANISM = {"freemium": {"trial_weeks": 4}, "mandate": {"enabled": True, "week": 8}}


def hybrid_plan(n: int):
    raw = tomllib.loads((ROOT / "scenarios" / "default.toml").read_text())
    raw["org"]["n"] = n
    raw["plans"] = [p for p in raw["plans"] if p["name"] == "hybrid"]
    raw["plans"][0] = deep_merge(raw["plans"][0], EVERY_MECHANISM)
    (prepared,) = prepare(parse_scenario(raw, f"bench-{n}"))
    return prepared


def rate_reference(prepared, replicates: int, weeks: int) -> float:
    elapsed = 0.0
    for r in range(replicates):
        model = AdoptionModel(prepared.config, prepared.org, r)
        start = time.perf_counter()
        for _ in range(weeks):
            model.step()
        elapsed += time.perf_counter() - start
    return prepared.org.n * replicates * weeks / elapsed


def rate_batched(prepared, replicates: int, weeks: int, threads: int) -> float:
    """Agent-steps/s of the batched engine: R replicates split over ``threads`` threads,
    as ``simulate_batched`` runs them (the weeks timed, not the set-up)."""
    batches = split_replicates(list(range(replicates)), threads)
    models = [BatchedModel(prepared.config, prepared.org, batch) for batch in batches]
    start = time.perf_counter()
    advance(models, weeks)
    return prepared.org.n * replicates * weeks / (time.perf_counter() - start)


def warm_up() -> None:
    """Compile (or load from numba's cache) the batched passes before anything is timed."""
    prepared = hybrid_plan(200)
    for replicates in (1, 2):
        rate_batched(prepared, replicates, 10, threads=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=26, help="weeks timed per run (default 26)")
    parser.add_argument(
        "--reference-replicates",
        type=int,
        default=2,
        help="replicates timed for the reference engine (default 2)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 120)  # no truncated cells in logs
    table = Table(title=f"agent-steps per second ({args.weeks} weeks, every mechanism on)")
    threads = default_threads()
    columns = (
        "employees",
        "R",
        "reference",
        "batched, 1 thread",
        "/ reference",
        f"batched, {threads} threads",
        "/ reference",
    )
    for column in columns:
        table.add_column(column, justify="right")
    warm_up()
    for n in args.sizes:
        prepared = hybrid_plan(n)
        reference = rate_reference(prepared, args.reference_replicates, args.weeks)
        for replicates in (1, 100):
            single = rate_batched(prepared, replicates, args.weeks, threads=1)
            threaded = rate_batched(prepared, replicates, args.weeks, threads=threads)
            table.add_row(
                f"{n:,}",
                str(replicates),
                f"{reference:,.0f}",
                f"{single:,.0f}",
                f"{single / reference:,.0f}x",
                f"{threaded:,.0f}",
                f"{threaded / reference:,.0f}x",
            )
    console.print(table)
    console.print(
        "The reference engine runs one replicate at a time in one thread. The batched engine "
        f"splits R replicates into sub-batches of >= 8 over {threads} threads "
        "(ADOPTSIM_THREADS sets the number; R = 1 always runs in one)."
    )


if __name__ == "__main__":
    main()
