"""Parameter sweeps: every plan x sweep point x replicate, parallel, streamed and resumable.

A sweep is cut into tasks (one plan, one point, a block of replicates). A task is a pure
function of its inputs: it builds the org from the plan's seed, runs the batched engine and
writes its rows as three Parquet parts (trajectories, departments, summary), each atomically,
summary last. A task is done when its summary part exists, so a sweep that is killed and
started again redoes only the tasks without one, and ends with exactly the rows of an
uninterrupted run. Tasks run in local worker processes (one per core) or, with
``scheduler="tcp://HOST:PORT"``, on a Dask distributed cluster; the rows are the same.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import polars as pl

from sim import store
from sim.scenario import Config, Scenario, ScenarioError, check_against_org

PARTS = ("trajectories", "departments", "summary")  # summary last: it marks a task done
REPLICATES_PER_TASK = 25


@dataclass(frozen=True)
class Task:
    """One unit of work: a block of replicates of one plan at one sweep point."""

    index: int
    plan: str
    point: int
    replicates: tuple[int, ...]
    config: dict[str, Any]  # the resolved Config, as JSON-ready data (cheap to ship)
    engine: str = "batched"

    @property
    def name(self) -> str:
        return f"task-{self.index:06d}"


def make_tasks(
    scenario: Scenario,
    replicates: int | None = None,
    engine: str = "batched",
    per_task: int = REPLICATES_PER_TASK,
) -> list[Task]:
    """Tasks in a fixed order (plan, point, replicate block): the same for any worker count."""
    tasks = []
    for plan in scenario.plans:
        for point in range(len(scenario.points)):
            config = plan.at(point)
            total = replicates if replicates is not None else config.replicates
            for start in range(0, total, per_task):
                block = tuple(range(start, min(start + per_task, total)))
                tasks.append(
                    Task(
                        len(tasks), plan.name, point, block, config.model_dump(mode="json"), engine
                    )
                )
    return tasks


def check_orgs(scenario: Scenario) -> None:
    """Fail early (before any file is written) on graph files or department names."""
    from sim.runner import build_orgs

    build_orgs(scenario)
    if scenario.sweep and any(p.startswith("org.") for p in scenario.sweep.parameters):
        for plan in scenario.plans:
            for point in range(len(scenario.points)):
                config = plan.at(point)
                org = _org(
                    json.dumps(config.org.model_dump(mode="json"), sort_keys=True), config.seed
                )
                check_against_org(config, org, scenario.source, plan.name)


@lru_cache(maxsize=4)
def _org(org_json: str, seed: int):
    """Orgs are cached per worker process: tasks of one point share one org."""
    from sim.org import build_org
    from sim.randomness import org_seed
    from sim.scenario import OrgSpec

    return build_org(OrgSpec.model_validate(json.loads(org_json)), org_seed(seed))


def run_task(task: Task, folder: str) -> dict[str, Any]:
    """Run one task and write its parts under ``folder/parts``; returns a small receipt."""
    from sim.metrics import summarize
    from sim.runner import engines

    started = time.perf_counter()
    config = Config.model_validate(task.config)
    org = _org(json.dumps(task.config["org"], sort_keys=True), config.seed)
    trajectories, departments = engines()[task.engine](
        config, org, list(task.replicates), config.seed
    )
    tags = [pl.lit(task.plan).alias("plan"), pl.lit(task.point, pl.Int64).alias("point")]
    trajectories = trajectories.with_columns(tags).select(
        "plan", "point", pl.exclude("plan", "point")
    )
    departments = departments.with_columns(tags).select(
        "plan", "point", pl.exclude("plan", "point")
    )
    summary = summarize(trajectories, departments, org.n)
    frames = {"trajectories": trajectories, "departments": departments, "summary": summary}
    for part in PARTS:
        store.write_parquet(frames[part], part_path(Path(folder), part, task))
    return {"task": task.index, "rows": len(trajectories), "seconds": time.perf_counter() - started}


def part_path(folder: Path, part: str, task: Task) -> Path:
    return folder / "parts" / part / f"{task.name}.parquet"


def is_done(folder: Path, task: Task) -> bool:
    return part_path(folder, "summary", task).exists()


def clean_partial_writes(folder: Path) -> int:
    """Remove temporary files left by a killed run; returns how many."""
    removed = 0
    for tmp in (folder / "parts").glob("*/.*.tmp"):
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed


def execute_local(
    tasks: list[Task], folder: Path, workers: int, on_done: Callable[[dict], None]
) -> None:
    """Run tasks in ``workers`` local processes (in this process when workers == 1)."""
    if workers <= 1:
        for task in tasks:
            on_done(run_task(task, str(folder)))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        pending = {pool.submit(run_task, task, str(folder)) for task in tasks}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                on_done(future.result())


def execute_dask(
    tasks: list[Task], folder: Path, scheduler: str, on_done: Callable[[dict], None]
) -> None:
    """Run tasks on a Dask distributed cluster (workers must see ``folder``)."""
    from distributed import Client, as_completed

    with Client(scheduler, timeout="30s") as client:
        futures = [
            client.submit(
                run_task, task, str(folder), key=f"adoptsim-{folder.name}-{task.name}", pure=False
            )
            for task in tasks
        ]
        for future in as_completed(futures):
            on_done(future.result())


def sweep_manifest(scenario: Scenario, tasks: list[Task], engine: str) -> dict[str, Any]:
    return {
        "kind": "sweep",
        "scenario": scenario.resolved(),
        "scenario_file": scenario.source,
        "scenario_hash": scenario.digest(),
        "engine": engine,
        "seed": scenario.plans[0].config.seed,
        "tasks": [
            {k: v for k, v in asdict(t).items() if k != "config"} | {"name": t.name} for t in tasks
        ],
        "versions": store.package_versions(),
    }


def prepare_folder(
    folder: Path, scenario: Scenario, tasks: list[Task], engine: str, force: bool
) -> dict[str, Any]:
    """Create or reopen a sweep's folder; refuse a different scenario under the same name."""
    manifest_path = folder / "manifest.json"
    manifest = sweep_manifest(scenario, tasks, engine)
    if manifest_path.exists() and not force:
        existing = store.read_json(manifest_path)
        same_tasks = existing.get("tasks") == json.loads(json.dumps(manifest["tasks"]))
        same_scenario = existing.get("scenario_hash") == manifest["scenario_hash"]
        if existing.get("kind") != "sweep" or not same_scenario or not same_tasks:
            raise ScenarioError(
                f"{folder}: holds results of a different scenario or run "
                f"(hash {existing.get('scenario_hash')}, now {manifest['scenario_hash']}); "
                f"rename the scenario, use another --results folder, or pass --force to replace it"
            )
        manifest["started"] = existing.get("started", store.now())
    else:
        if force and folder.exists():
            import shutil

            shutil.rmtree(folder)
        manifest["started"] = store.now()
    folder.mkdir(parents=True, exist_ok=True)
    store.write_json(manifest, manifest_path)
    return manifest


def finish_folder(folder: Path, manifest: dict[str, Any], tasks: list[Task]) -> None:
    """All tasks done: write the combined summary and points table, stamp the manifest."""
    summary = pl.scan_parquet(folder / "parts" / "summary" / "*.parquet").collect()
    summary = summary.sort("plan", "point", "replicate")
    store.write_parquet(summary, folder / "summary.parquet")
    manifest["done"] = [t.name for t in tasks]
    manifest["finished"] = store.now()
    store.write_json(manifest, folder / "manifest.json")


def points_frame(scenario: Scenario) -> pl.DataFrame:
    """One row per sweep point with the swept values (columns named by dotted path)."""
    rows = [{"point": i, **point} for i, point in enumerate(scenario.points)]
    return pl.DataFrame(rows)


def iter_results(folder: Path, part: str) -> Iterator[Path]:
    yield from sorted((folder / "parts" / part).glob("*.parquet"))


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
