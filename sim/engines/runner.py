"""Run a scenario: build each plan's org, simulate R replicates with an engine, summarize.

Everything that can fail on bad input (schema, graph files, department names, every sweep
point) happens in :func:`prepare`, before any simulation starts or any file is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from sim.engines.memory import BATCH_CELLS, check_fits
from sim.metrics import summarize
from sim.org import Org, build_org
from sim.randomness import org_seed
from sim.scenario import Config, Plan, Scenario, check_against_org
from sim.scenario.schema import with_values

# engine(config, org, replicates, seed=None, threads=None) -> (trajectories, departments)
Engine = Callable[..., tuple[pl.DataFrame, pl.DataFrame]]


ENGINE_NAMES = ("batched", "reference")


def load_engine(name: str) -> Engine:
    """One engine, importing only its own module: a batched run never imports Mesa (about
    a second per sweep worker)."""
    if name == "batched":
        from sim.engines.batched import simulate_batched

        return simulate_batched
    if name == "reference":
        from sim.engines.reference import simulate_reference

        return simulate_reference
    raise KeyError(name)


DEFAULT_ENGINE = "batched"


def batch_size(engine: str, n: int, replicates: int) -> int:
    """Replicates per engine call: many for the batched engine (bounded memory), 1 for Mesa."""
    if engine != "batched":
        return 1
    return max(1, min(replicates, BATCH_CELLS // max(n, 1), 100))


@dataclass
class PreparedPlan:
    plan: Plan
    org: Org

    @property
    def config(self) -> Config:
        return self.plan.config


@dataclass
class RunOutput:
    trajectories: pl.DataFrame
    departments: pl.DataFrame
    summary: pl.DataFrame


def prepare(scenario: Scenario) -> list[PreparedPlan]:
    """Validate a loaded scenario against its orgs and build each distinct org once.

    Every plan is checked against its org (department names, champion counts), and with a
    ``[sweep]`` every plan at every sweep point against the org of that point, so that
    ``run``, ``check``, ``sweep`` and ``viz`` refuse the same inputs before any work or
    any write.  Returns the base plans with their orgs.
    """
    cache: dict[str, Org] = {}

    def org_of(cfg: Config, plan: str) -> Org:
        key = json.dumps([cfg.org.model_dump(mode="json"), cfg.seed], sort_keys=True)
        if key not in cache:
            check_fits(cfg, f"{scenario.source}: plan {plan!r}")  # before building it
            cache[key] = build_org(cfg.org, org_seed(cfg.seed))
        return cache[key]

    prepared = []
    for plan in scenario.plans:
        org = org_of(plan.config, plan.name)
        check_against_org(plan.config, org, scenario.source, plan.name)
        prepared.append(PreparedPlan(plan, org))
    if scenario.sweep is not None:
        for plan in scenario.plans:
            for index, point in enumerate(scenario.points):
                config = plan.at(index)
                org = org_of(config, plan.name)
                check_against_org(config, org, scenario.source, plan.name, (index, point))
    return prepared


def simulate_plan(
    prepared: PreparedPlan,
    engine: str,
    replicates: list[int],
    point: int = 0,
    on_replicates_done: Callable[[int], None] | None = None,
    draws: list[dict[str, Any]] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the given replicates of one plan; tag rows with plan and sweep point.

    ``draws`` (one dict of parameter values per replicate, e.g. posterior draws): replicate
    ``replicates[k]`` runs with ``draws[k]`` set on the plan, so each replicate carries its
    own parameters (one engine call per replicate)."""
    simulate = load_engine(engine)
    batch = batch_size(engine, prepared.org.n, len(replicates))
    trajectories, departments = [], []
    if draws is not None:
        chunks = [
            ([r], with_values(prepared.config, d)) for r, d in zip(replicates, draws, strict=True)
        ]
    else:
        chunks = [
            (replicates[start : start + batch], prepared.config)
            for start in range(0, len(replicates), batch)
        ]
    for chunk, config in chunks:
        traj, dept = simulate(config, prepared.org, chunk, prepared.config.seed)
        trajectories.append(traj)
        departments.append(dept)
        if on_replicates_done:
            on_replicates_done(len(chunk))
    tags = [pl.lit(prepared.plan.name).alias("plan"), pl.lit(point, pl.Int64).alias("point")]
    traj = pl.concat(trajectories).with_columns(tags)
    dept = pl.concat(departments).with_columns(tags)
    return (
        traj.select("plan", "point", pl.exclude("plan", "point")),
        dept.select("plan", "point", pl.exclude("plan", "point")),
    )


def run_scenario(
    prepared: list[PreparedPlan],
    engine: str = DEFAULT_ENGINE,
    replicates: int | None = None,
    on_replicates_done: Callable[[int], None] | None = None,
    draw: Callable[[int], dict[str, Any]] | None = None,
) -> RunOutput:
    """Every plan x replicate of a scenario (paired: same org and seeds for every plan).

    ``draw(r)``: the parameters replicate r runs with (posterior draws), the same for every
    plan, so plans stay paired under parameter uncertainty too."""
    trajectories, departments, summaries = [], [], []
    for item in prepared:
        reps = list(range(replicates if replicates is not None else item.config.replicates))
        draws = [draw(r) for r in reps] if draw is not None else None
        traj, dept = simulate_plan(item, engine, reps, 0, on_replicates_done, draws)
        trajectories.append(traj)
        departments.append(dept)
        summaries.append(summarize(traj, dept, item.org.n))
    return RunOutput(pl.concat(trajectories), pl.concat(departments), pl.concat(summaries))
