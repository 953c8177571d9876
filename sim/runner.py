"""Run a scenario: build each plan's org, simulate R replicates with an engine, summarize.

Everything that can fail on bad input (schema, graph files, department names) happens in
:func:`prepare`, before any simulation starts or any file is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from sim.metrics import summarize
from sim.org import Org, build_org
from sim.randomness import org_seed
from sim.scenario import Config, Plan, Scenario, check_against_org

Engine = Callable[[Config, Org, list[int], int | None], tuple[pl.DataFrame, pl.DataFrame]]


def engines() -> dict[str, Engine]:
    """The available engines by name (imported lazily: the Mesa one is heavier)."""
    from sim.model import simulate_reference

    return {"reference": simulate_reference}


DEFAULT_ENGINE = "reference"


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


def build_orgs(scenario: Scenario) -> list[PreparedPlan]:
    """Build (once per distinct org spec and seed) the org of every plan and check it fits."""
    cache: dict[str, Org] = {}
    prepared = []
    for plan in scenario.plans:
        cfg = plan.config
        key = json.dumps([cfg.org.model_dump(), cfg.seed], sort_keys=True, default=str)
        if key not in cache:
            cache[key] = build_org(cfg.org, org_seed(cfg.seed))
        org = cache[key]
        check_against_org(cfg, org.department_names, scenario.source, plan.name)
        prepared.append(PreparedPlan(plan, org))
    return prepared


def simulate_plan(
    prepared: PreparedPlan,
    engine: str,
    replicates: list[int],
    point: int = 0,
    on_replicates_done: Callable[[int], None] | None = None,
    batch: int = 1,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the given replicates of one plan; tag rows with plan and sweep point."""
    simulate = engines()[engine]
    trajectories, departments = [], []
    for start in range(0, len(replicates), batch):
        chunk = replicates[start : start + batch]
        traj, dept = simulate(prepared.config, prepared.org, chunk, prepared.config.seed)
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
    batch: int = 1,
) -> RunOutput:
    """Every plan x replicate of a scenario (paired: same org and seeds for every plan)."""
    trajectories, departments, summaries = [], [], []
    for item in prepared:
        reps = list(range(replicates if replicates is not None else item.config.replicates))
        traj, dept = simulate_plan(item, engine, reps, 0, on_replicates_done, batch)
        trajectories.append(traj)
        departments.append(dept)
        summaries.append(summarize(traj, dept, item.org.n))
    return RunOutput(pl.concat(trajectories), pl.concat(departments), pl.concat(summaries))
