"""Benchmark: adoptsim's engines against three anchors, as ratios measured in one run.

    make bench                                  # or: .venv/bin/python experiments/bench_engines.py
    .venv/bin/python experiments/bench_engines.py --million     # also the 1,000,000-employee run

Every engine runs the same Bass dynamics on the same 10,000-person hierarchy for 26 weeks
(``anchors.bass_config``): a plain Mesa model as Mesa's examples write one, adoptsim's
reference (Mesa) engine, a hand-written numba kernel, and adoptsim's batched engine (one
thread); then the batched engine with every mechanism on, beside the third anchor: that
week's decision written by hand (``full_anchor.full_kernel``, seats always granted, no
tally: a lower bound), whole, without its sums over ties, and evaluating each cell's own
state's formulas only.  Each is timed in CPU seconds
(``time.process_time``; everything runs in one thread, so CPU time is the work done),
median of 3, and reported as agent-steps per CPU second and as ratios against the anchors,
so that a shared, noisy machine changes the rates but hardly the ratios.

Also: a sweep's wall time over the wall time of the same agent-steps in one batched call
(``sweep_over_simulation``), and with ``--million`` a 1,000,000-employee default org with
broker seeding, 104 weeks, R = 20, end to end as ``adoptsim run`` (wall seconds and peak
resident memory of that process).  Writes ``results/bench/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from anchors import PlainBassModel, bass_config, bass_kernel, run_bass_kernel
from full_anchor import full_inputs, full_kernel, transition_rows
from rich.console import Console
from rich.table import Table

from sim import api
from sim.engines.batched import BatchedModel, advance
from sim.engines.reference import AdoptionModel
from sim.engines.runner import prepare
from sim.results import store
from sim.scenario import deep_merge, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261130
P, Q = 0.01, 0.3
EVERY_MECHANISM = {  # on top of the default scenario's hybrid plan
    "freemium": {"trial_weeks": 4},
    "mandate": {"enabled": True, "week": 8},
    "seeding": {"champion_weight": 2.0},
    "adoption": {"market_potential": 0.9},
    "incumbent": {"enabled": True, "strength": 0.5},
    "security_review": {"enabled": True, "threshold_share": 0.2},
    "training": {"boost": 0.5, "weeks": 6},
    "actions": [
        {"kind": "training", "departments": ["D1"], "week": 4},
        {"kind": "sunset", "week": 20},
    ],
}


def cpu_median(work, repeats: int = 3, setup=None) -> float:
    """Median CPU seconds of ``work(setup())`` over ``repeats`` runs; ``setup`` (building a
    model, untimed) gives ``work`` its argument."""
    times = []
    for _ in range(repeats):
        made = setup() if setup is not None else None
        start = time.process_time()
        work(made) if setup is not None else work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def scenario(n: int, extra: dict | None = None, plan: str | None = None):
    """One prepared plan of the default scenario on an n-person org, with ``extra`` merged."""
    raw = tomllib.loads((ROOT / "scenarios" / "default.toml").read_text())
    raw["org"]["n"] = n
    raw["seed"] = SEED
    if plan is not None:
        raw["plans"] = [p for p in raw["plans"] if p["name"] == plan]
    else:
        raw.pop("plans")
    raw = deep_merge(raw, extra or {})
    if "actions" in (extra or {}):
        raw["actions"] = extra["actions"]
    (prepared,) = prepare(parse_scenario(raw, f"bench-{n}"))
    return prepared


def measure(n: int, weeks: int, replicates: int) -> dict[str, float]:
    """Agent-steps per CPU second of each engine on the Bass scenario, of the batched
    engine with every mechanism on, and of that week's decision by hand (``HAND_FULL``)."""
    bass = scenario(n, bass_config(P, Q))
    graph = bass.org.graph
    rates: dict[str, float] = {}

    def plain_mesa() -> None:
        model = PlainBassModel(graph, P, Q, seed=SEED)
        for _ in range(weeks):
            model.step()

    def reference() -> None:
        model = AdoptionModel(bass.config, bass.org, 0)
        for _ in range(weeks):
            model.step()

    indptr, indices, keys, state = run_bass_kernel(graph, P, Q, SEED, replicates, weeks)

    def numba_anchor() -> None:
        bass_kernel(indptr, indices, P, Q, keys, weeks, state.copy())

    def batched_model(prepared):
        return lambda: BatchedModel(prepared.config, prepared.org, list(range(replicates)))

    def batched(model) -> None:  # the weeks: the model is built untimed, like the kernel's CSR
        advance([model], weeks)

    full = scenario(n, EVERY_MECHANISM, plan="hybrid")
    numba_anchor()  # compile (or load) before timing
    batched(batched_model(scenario(200, bass_config(P, Q)))())
    small_full = scenario(200, EVERY_MECHANISM, plan="hybrid")
    batched(batched_model(small_full)())
    rates["plain_mesa"] = n * weeks / cpu_median(plain_mesa)
    rates["reference"] = n * weeks / cpu_median(reference)
    rates["numba_anchor"] = n * weeks * replicates / cpu_median(numba_anchor)
    rates["batched"] = n * weeks * replicates / cpu_median(batched, setup=batched_model(bass))
    rates["batched_full"] = n * weeks * replicates / cpu_median(batched, setup=batched_model(full))
    table = transition_rows()
    for name, with_ties, by_state in HAND_FULL:

        def hand(arguments, by_state=by_state) -> None:
            full_kernel(*arguments, weeks, table, by_state)

        def hand_inputs(with_ties=with_ties, prepared=full):
            return lambda: full_inputs(batched_model(prepared)(), with_ties)

        hand(hand_inputs(prepared=small_full)())  # compile (or load) before timing
        rates[name] = n * weeks * replicates / cpu_median(hand, setup=hand_inputs())
    return rates


# the hand-written every-mechanism anchor's three runs: (rate key, with ties, by state)
HAND_FULL = (
    ("hand_full", True, False),
    ("hand_full_formulas", False, False),
    ("hand_full_by_state", True, True),
)


def sweep_over_simulation(n: int, weeks: int) -> dict[str, float]:
    """The default scenario's 3 plans x 4 points x 20 replicates on an n-person org, as
    ``adoptsim sweep`` runs it (tasks, Parquet parts, summaries, report) and as one batched
    call of the same agent-steps (``simulate_groups``: every plan and point as columns of
    one model).  Both start from the scenario (parse it, build the org, find its brokers).
    Each runs once untimed, so that neither pays for loading compiled code, then three
    times interleaved (a busy moment of the shared machine hits all of them): wall seconds,
    median of 3.  Also the call the ratio used before sweeps could run as one call: 240
    columns of the hybrid plan alone (``sweep_over_one_plan_call``)."""
    from sim.engines.batched import ColumnGroup, simulate_batched, simulate_groups

    raw = tomllib.loads((ROOT / "scenarios" / "default.toml").read_text())
    raw.update(name="bench-sweep", weeks=weeks, replicates=20, seed=SEED)
    raw["org"]["n"] = n
    raw["sweep"] = {"adoption": {"q": [0.3, 0.4, 0.5, 0.6]}}
    threads = os.cpu_count() or 1  # on every core, as the sweep runs

    def one_call() -> None:
        loaded = parse_scenario(raw, "<bench-sweep>")
        (prepared, *_) = prepare(loaded)
        groups = [
            ColumnGroup(plan.at(point), tuple(range(20)))
            for plan in loaded.plans
            for point in range(len(loaded.points))
        ]
        simulate_groups(groups, prepared.org, threads=threads)

    def one_plan_call() -> None:
        prepared = scenario(n, {"weeks": weeks}, plan="hybrid")
        columns = 3 * 4 * 20
        simulate_batched(prepared.config, prepared.org, list(range(columns)), threads=threads)

    def a_sweep() -> None:
        with tempfile.TemporaryDirectory() as folder:
            api.sweep(parse_scenario(raw, "<bench-sweep>"), results=folder, workers=threads)

    runs: dict[str, list[float]] = {"sweep": [], "one": [], "one_plan": []}
    works = {"sweep": a_sweep, "one": one_call, "one_plan": one_plan_call}
    for work in works.values():
        work()  # untimed: compiled code loaded
    for _ in range(3):  # interleaved, so that a busy moment of the machine hits all three
        for name, work in works.items():
            start = time.perf_counter()
            work()
            runs[name].append(time.perf_counter() - start)
    times = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "sweep_wall_s": times["sweep"],
        "one_call_wall_s": times["one"],
        "sweep_over_simulation": times["sweep"] / times["one"],
        "one_plan_call_wall_s": times["one_plan"],
        "sweep_over_one_plan_call": times["sweep"] / times["one_plan"],
    }


def million(results: Path) -> tuple[float, float, float]:
    """``adoptsim run`` of a 1,000,000-employee default org (broker seeding, 104 weeks,
    R = 20): wall seconds, the child's CPU seconds (all threads: on a shared machine the
    wall time also counts other work) and its peak resident memory in GiB."""
    raw = tomllib.loads((ROOT / "scenarios" / "default.toml").read_text())
    raw.update(name="million", replicates=20)
    raw["org"]["n"] = 1_000_000
    raw["plans"] = [p for p in raw["plans"] if p["name"] == "hybrid"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "million.toml"
        path.write_text(_toml(raw))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sim", "run", str(path), "--results", folder, "--force"],
            check=True,
            # as a user runs it: every core (the rates above are timed on one thread)
            env={k: v for k, v in os.environ.items() if k != "ADOPTSIM_THREADS"},
        )
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 2**20


def _toml(data: dict) -> str:
    """A small TOML writer for the scenario dicts used here (tables, arrays of tables)."""
    lines, tables, arrays = [], [], []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            arrays.append((key, value))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    for key, table in tables:
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        lines.append(f"[{key}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items() if k not in nested]
        for sub, values in nested.items():
            lines.append(f"[{key}.{sub}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{key}]]")
            for k, v in item.items():
                if isinstance(v, dict):
                    inner = ", ".join(f"{a} = {json.dumps(b)}" for a, b in v.items())
                    lines.append(f"{k} = {{ {inner} }}")
                else:
                    lines.append(f"{k} = {json.dumps(v)}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--million", action="store_true", help="also the 1M-employee run")
    args = parser.parse_args()
    os.environ.setdefault("ADOPTSIM_THREADS", "1")
    console = Console(width=None if sys.stdout.isatty() else 120)

    rates = measure(args.employees, args.weeks, args.replicates)
    sweep = sweep_over_simulation(2000, 52)
    million_s = million_cpu = million_gib = None
    if args.million:
        million_s, million_cpu, million_gib = million(ROOT / "results" / "bench")
        console.print(
            f"1,000,000 employees, broker seeding, 104 weeks, R = 20 (adoptsim run): "
            f"{million_s:.0f} s wall, {million_cpu:.0f} CPU s, peak {million_gib:.2f} GiB"
        )

    table = Table(
        title=f"agent-steps per CPU second, one thread ({args.employees:,} employees, "
        f"{args.weeks} weeks; R = {args.replicates} for the column engines, 1 for Mesa's)"
    )
    for column in ("engine", "agent-steps / CPU s", "vs plain Mesa", "vs numba anchor"):
        table.add_column(column, justify="right")
    names = {
        "plain_mesa": "plain Mesa model (anchor)",
        "reference": "adoptsim reference (Mesa)",
        "numba_anchor": "hand-written numba kernel (anchor)",
        "batched": "adoptsim batched, Bass",
        "batched_full": "adoptsim batched, every mechanism on",
        "hand_full": "every mechanism's decision by hand (anchor)",
        "hand_full_formulas": "... its formulas alone, no sums over ties",
        "hand_full_by_state": "... each cell's own state's formulas only",
    }
    for key, label in names.items():
        table.add_row(
            label,
            f"{rates[key] / 1e6:,.2f} M",
            f"{rates[key] / rates['plain_mesa']:,.2f}x",
            f"{rates[key] / rates['numba_anchor']:,.2f}x",
        )
    console.print(table)
    console.print(
        f"sweep (3 plans x 4 points x 20 replicates, 2,000 employees, 52 weeks, "
        f"{os.cpu_count()} threads): {sweep['sweep_wall_s']:.2f} s wall; the same agent-steps "
        f"in one batched call: {sweep['one_call_wall_s']:.2f} s; ratio "
        f"{sweep['sweep_over_simulation']:.2f} (over 240 columns of one plan: "
        f"{sweep['sweep_over_one_plan_call']:.2f})"
    )
    report = {
        "cores": os.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],  # others' work shows in the wall times
        "employees": args.employees,
        "weeks": args.weeks,
        "replicates": args.replicates,
        "agent_steps_per_cpu_second": rates,
        "batched_over_plain_mesa": rates["batched"] / rates["plain_mesa"],
        "batched_over_numba_anchor": rates["batched"] / rates["numba_anchor"],
        "batched_full_over_numba_anchor": rates["batched_full"] / rates["numba_anchor"],
        "reference_over_plain_mesa": rates["reference"] / rates["plain_mesa"],
        # the every-mechanism week's decision by hand, a lower bound on its cost
        **{f"{key}_over_numba_anchor": rates[key] / rates["numba_anchor"] for key, *_ in HAND_FULL},
        "batched_full_over_hand_full": rates["batched_full"] / rates["hand_full"],
        **sweep,
        "million_end_to_end_s": million_s,
        "million_cpu_s": million_cpu,
        "million_peak_gib": million_gib,
        "million_note": None if args.million else "not run: pass --million",
    }
    target = ROOT / "results" / "bench"
    target.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(report, indent=2) + "\n", target / "bench.json")
    console.print(f"written: {target / 'bench.json'}")


if __name__ == "__main__":
    main()
