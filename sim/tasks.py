"""Parameter sweeps: every plan x sweep point x replicate, parallel, streamed and resumable.

A sweep is cut into tasks (one plan, one point, a block of replicates). A task is a pure
function of its inputs: it builds the org from the plan's seed, runs the batched engine and
writes its rows as three Parquet parts (trajectories, departments, summary), each
atomically, summary last. A task is done when all three parts are readable and hold the
rows it writes (:func:`is_done`), so a sweep that is killed and started again redoes only
the other tasks (a damaged part is redone too), and ends with exactly the rows of an
uninterrupted run. Tasks run in local worker processes (one per core) or, with
``scheduler="tcp://HOST:PORT"``, on a Dask distributed cluster; the rows are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing import active_children, get_context
from pathlib import Path
from typing import Any

import polars as pl

from sim.children import die_with_parent
from sim.errors import AdoptsimError
from sim.results import store
from sim.scenario import Config, Scenario, ScenarioError

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
    draws: tuple[dict[str, Any], ...] | None = None  # per replicate: posterior parameters

    @property
    def name(self) -> str:
        return f"task-{self.index:06d}"


def make_tasks(
    scenario: Scenario,
    replicates: int | None = None,
    engine: str = "batched",
    per_task: int = REPLICATES_PER_TASK,
    draw: Callable[[int], dict[str, Any]] | None = None,
) -> list[Task]:
    """Tasks in a fixed order (plan, point, replicate block): the same for any worker count.

    ``draw(r)`` (a posterior, :func:`sim.api.posterior_draws`): the parameters replicate r
    runs with, the same at every plan and sweep point (paired); kept in the task."""
    tasks = []
    for plan in scenario.plans:
        for point in range(len(scenario.points)):
            config = plan.at(point)
            total = replicates if replicates is not None else config.replicates
            for start in range(0, total, per_task):
                block = tuple(range(start, min(start + per_task, total)))
                draws = tuple(draw(r) for r in block) if draw is not None else None
                tasks.append(
                    Task(
                        len(tasks),
                        plan.name,
                        point,
                        block,
                        config.model_dump(mode="json"),
                        engine,
                        draws,
                    )
                )
    return tasks


class WorkerDied(AdoptsimError):
    """A worker process died mid-task (killed, out of memory); finished tasks are kept."""

    exit_code = 1


def write_failed(error: OSError) -> AdoptsimError:
    """A task that could not write its parts (disk full, folder removed) as a message."""
    return AdoptsimError(
        f"a sweep task could not write its results ({error.strerror or error}); the tasks "
        "finished so far are kept: free some space and run the same command again "
        "(without --force)"
    )


class Terminated(Exception):
    """The sweep was sent SIGTERM: its workers are stopped, finished tasks are kept."""


def _org_key(org: dict[str, Any]) -> str:
    """An org spec as canonical JSON: the cache key of :func:`org_for`."""
    return json.dumps(org, sort_keys=True)


_ORGS: dict[tuple[str, int], Any] = {}  # (org spec, seed) -> Org, in this process
_ORGS_KEPT = 4
_ORGS_LOCK = threading.Lock()


def org_for(org_json: str, seed: int):
    """The org of a task, built once per process (tasks of one org share it, and with it
    its adjacency, workspaces and betweenness): thread-safe, the last few kept."""
    from sim.org import build_org
    from sim.randomness import org_seed
    from sim.scenario import OrgSpec

    key = (org_json, seed)
    with _ORGS_LOCK:  # threads that need the same org wait for one build
        if key not in _ORGS:
            if len(_ORGS) >= _ORGS_KEPT:
                _ORGS.pop(next(iter(_ORGS)))
            _ORGS[key] = build_org(OrgSpec.model_validate(json.loads(org_json)), org_seed(seed))
        return _ORGS[key]


def share_orgs(configs_and_orgs: list[tuple[Config, Any]]) -> None:
    """Hand the orgs ``prepare`` just built to the tasks of one sweep run in this process,
    in place of any kept from before (an org chart's files may have changed since: the
    spec names the files, not their contents).  :func:`forget_orgs` when it is done."""
    with _ORGS_LOCK:
        _ORGS.clear()
        for config, org in configs_and_orgs:
            _ORGS[(_org_key(config.org.model_dump(mode="json")), config.seed)] = org


def forget_orgs() -> None:
    """Drop the orgs kept in this process (after an in-process sweep)."""
    with _ORGS_LOCK:
        _ORGS.clear()


def run_task(task: Task, folder: str, threads: int | None = None) -> dict[str, Any]:
    """Run one task and write its parts under ``folder/parts``; returns a small receipt.
    ``threads``: the batched engine's threads (default: as ``default_threads`` says)."""
    from sim.engines.runner import load_engine

    started = time.perf_counter()
    config = Config.model_validate(task.config)
    org = org_for(_org_key(task.config["org"]), config.seed)
    if task.draws is None:
        trajectories, departments = load_engine(task.engine)(
            config, org, list(task.replicates), config.seed, threads=threads
        )
    else:  # each replicate with its own posterior draw, as `run --posterior` runs them
        from sim.engines.runner import PreparedPlan, simulate_plan
        from sim.scenario import Plan

        item = PreparedPlan(Plan(name=task.plan, config=config), org)
        trajectories, departments = simulate_plan(
            item, task.engine, list(task.replicates), task.point, draws=list(task.draws)
        )
    return _write_task(task, folder, org.n, trajectories, departments, started)


def run_task_group(tasks: list[Task], folder: str, threads: int | None = None) -> list[dict]:
    """Run tasks that :func:`task_groups` put together as the column groups of one batched
    model on their shared org (``sim.engines.batched.simulate_groups``), then write each
    task's parts as :func:`run_task` would: the same rows, with the org's rows read once
    per week for all of them.  Returns the receipts, in task order."""
    from sim.engines.batched import ColumnGroup, simulate_groups

    if len(tasks) == 1:
        return [run_task(tasks[0], folder, threads)]
    started = time.perf_counter()
    configs = [Config.model_validate(task.config) for task in tasks]
    org = org_for(_org_key(tasks[0].config["org"]), configs[0].seed)
    groups = [ColumnGroup(c, task.replicates) for c, task in zip(configs, tasks, strict=True)]
    results = simulate_groups(groups, org, configs[0].seed, threads)
    share = (time.perf_counter() - started) / len(tasks)  # each task's part of the run

    def write(task: Task, frames: tuple[pl.DataFrame, pl.DataFrame]) -> dict[str, Any]:
        # a receipt's seconds: its share of the run, then its own writing
        return _write_task(task, folder, org.n, *frames, time.perf_counter() - share)

    # polars summarizes and writes Parquet outside the GIL: the tasks' parts in threads
    with ThreadPoolExecutor(max_workers=threads or 1) as pool:
        return list(pool.map(write, tasks, results))


def task_groups(
    tasks: list[Task], employees: dict[str, int], most_tasks: int | None = None
) -> list[list[Task]]:
    """The tasks cut into groups that can run as one batched model (in task order): batched
    tasks without posterior draws whose configurations share an org (and what else
    ``sim.engines.batched.column_key`` names), up to ``BATCH_CELLS`` employee-replicates
    and ``most_tasks`` tasks a group (``employees``: the org size of each plan); every
    other task alone."""
    from sim.engines.batched import column_key
    from sim.engines.memory import BATCH_CELLS

    groups: dict[str, list[list[Task]]] = {}
    order: list[list[Task]] = []
    for task in tasks:
        if task.engine != "batched" or task.draws is not None:
            order.append([task])
            continue
        config = Config.model_validate(task.config)
        key = column_key(config)
        n = employees.get(task.plan, 0)
        if config.org.generator not in ("chart", "krackhardt"):
            n = max(n, config.org.n)
        cells = n * len(task.replicates)
        open_groups = groups.setdefault(key, [])
        last = open_groups[-1] if open_groups else None
        size = sum(len(t.replicates) for t in last) * n if last else 0
        room = most_tasks is None or (last is not None and len(last) < most_tasks)
        if last is not None and room and size + cells <= BATCH_CELLS:
            last.append(task)
        else:
            open_groups.append([task])
            order.append(open_groups[-1])
    return order


def _write_task(
    task: Task,
    folder: str,
    employees: int,
    trajectories: pl.DataFrame,
    departments: pl.DataFrame,
    started: float,
) -> dict[str, Any]:
    """Tag a task's rows with its plan and point, summarize them and write its three parts
    (summary last); the receipt."""
    from sim.metrics import summarize

    tags = [pl.lit(task.plan).alias("plan"), pl.lit(task.point, pl.Int64).alias("point")]
    trajectories = trajectories.with_columns(tags).select(
        "plan", "point", pl.exclude("plan", "point")
    )
    departments = departments.with_columns(tags).select(
        "plan", "point", pl.exclude("plan", "point")
    )
    summary = summarize(trajectories, departments, employees)
    frames = {"trajectories": trajectories, "departments": departments, "summary": summary}
    for part in PARTS:
        store.write_parquet(frames[part], part_path(Path(folder), part, task))
    return {"task": task.index, "rows": len(trajectories), "seconds": time.perf_counter() - started}


def part_path(folder: Path, part: str, task: Task) -> Path:
    return folder / "parts" / part / f"{task.name}.parquet"


def expected_rows(task: Task) -> dict[str, int | None]:
    """Rows each part of a finished task holds (None: not known from the task alone)."""
    reps = len(task.replicates)
    weeks = int(task.config.get("weeks", 0))
    return {"trajectories": reps * (weeks + 1), "departments": None, "summary": reps}


def _readable_rows(path: Path) -> int | None:
    """Rows of a Parquet file, from its footer; None when it is missing or damaged."""
    try:
        if path.stat().st_size == 0:
            return None
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    except Exception:  # noqa: BLE001 (polars raises several types for a damaged file)
        return None


def is_done(folder: Path, task: Task) -> bool:
    """A task is done when all its parts are complete and readable, with the rows it
    writes: a part that is empty, truncated or short means the task is redone."""
    expected = expected_rows(task)
    for part in PARTS:
        rows = _readable_rows(part_path(folder, part, task))
        if rows is None or (expected[part] is not None and rows != expected[part]):
            return False
    return True


def discard_damaged(folder: Path, tasks: list[Task]) -> int:
    """Delete the parts of tasks that are not done (damaged or partly written), so that
    they are redone from scratch; returns how many tasks' parts were deleted."""
    discarded = 0
    for task in tasks:
        paths = [part_path(folder, part, task) for part in PARTS]
        if any(p.exists() for p in paths) and not is_done(folder, task):
            for path in paths:
                path.unlink(missing_ok=True)
            discarded += 1
    return discarded


def clean_partial_writes(folder: Path) -> int:
    """Remove temporary files left by a killed run (parts, summary, manifest); returns
    how many."""
    return store.clean_temporary(folder)


@contextmanager
def sigterm_raises_terminated() -> Iterator[None]:
    """Inside this block SIGTERM raises :class:`Terminated` (main thread) instead of killing
    the process at once, so a sweep can stop its workers on the way out.

    A second SIGTERM during that clean-up is ignored; the old handler is restored after.
    """

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can take signals (a sweep called from a thread)
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# Below this many agent-steps (employees x replicates x weeks, all tasks together) a sweep
# runs in this process, in threads: starting worker processes (imports, compiled code,
# each its own org) would cost more than the simulation (about 10 s of one core's work).
IN_PROCESS_AGENT_STEPS = 500_000_000


def agent_steps(task: Task, employees: int) -> int:
    """The work of one task on an org of ``employees``: employees x replicates x weeks."""
    return employees * len(task.replicates) * int(task.config.get("weeks", 0))


def execute_local(
    tasks: list[Task],
    folder: Path,
    workers: int,
    on_done: Callable[[dict], None],
    in_process: bool = False,
    employees: dict[str, int] | None = None,
) -> None:
    """Run tasks in ``workers`` local processes, or in this process (``in_process``, or
    one worker) in ``workers`` threads: the compiled passes release the GIL, so a small
    sweep uses every core without paying for worker processes.  The rows are the same.

    If anything interrupts the loop (SIGTERM, Ctrl-C, a failed task), tasks not yet started
    are cancelled and the worker processes are terminated before the exception goes on:
    no worker outlives the sweep. Parts already written are complete (atomic writes).
    ``employees``: each plan's org size (how many tasks one in-process model may hold).
    """
    if workers <= 1 or in_process:
        _execute_in_threads(tasks, folder, max(1, workers), on_done, employees or {})
        return
    others = set(active_children())
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_one_thread_each,
        initargs=(os.getpid(),),
    ) as pool:
        pending: set[Future] = set()
        try:
            for task in tasks:
                pending.add(pool.submit(run_task, task, str(folder)))
            _collect(pending, on_done)
        except BaseException:
            _stop_pool(pool, pending, others)
            raise


def _execute_in_threads(
    tasks: list[Task],
    folder: Path,
    threads: int,
    on_done: Callable[[dict], None],
    employees: dict[str, int],
) -> None:
    """Tasks in this process, one group of :func:`task_groups` after another, each group as
    one batched model whose columns are split over ``threads`` threads (one: the engine
    on every core, as ``default_threads`` says).  A group holds no more than an eighth of
    the tasks, unless that would leave a thread's model short of column groups, so that
    progress is reported and a killed sweep keeps its work group by group.  On an
    interruption the running group finishes its weeks unwritten; the groups written so
    far are kept."""
    from sim.engines.batched import MAX_GROUPS, default_threads

    engine_threads = threads if threads > 1 else None
    most = max(MAX_GROUPS * (engine_threads or default_threads()), -(-len(tasks) // 8))
    for group in task_groups(tasks, employees, most):
        try:
            receipts = run_task_group(group, str(folder), engine_threads)
        except OSError as error:
            raise write_failed(error) from None
        for receipt in receipts:
            on_done(receipt)


def _one_thread_each(parent: int) -> None:
    """In a worker process: the workers already use every core between them, so each
    batched run keeps to one thread (see ``sim.engines.batched.default_threads``); and
    the worker dies with the sweep, even one killed with SIGKILL."""
    os.environ["ADOPTSIM_THREADS"] = "1"
    die_with_parent(parent)


def _collect(pending: set[Future], on_done: Callable[[dict], None]) -> None:
    """Hand each task's receipt to ``on_done`` as it finishes (a failed task raises).

    Finished futures leave ``pending``, so on an interruption it holds what is left to stop.
    """
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            pending.discard(future)
            try:
                receipt = future.result()
            except OSError as error:
                raise write_failed(error) from None
            except BrokenProcessPool:
                raise WorkerDied(
                    "a sweep worker process died (killed, or out of memory); the tasks "
                    "finished so far are kept: run the same command again (without --force) "
                    "to finish the rest"
                ) from None
            on_done(receipt)


def _stop_pool(pool: ProcessPoolExecutor, pending: set[Future], others: set) -> None:
    """Cancel tasks not yet started and terminate the pool's worker processes.

    The workers are the child processes started since the pool was made (``others`` are
    the children that were there before); waiting for them would let running tasks go on.
    """
    for future in pending:
        future.cancel()
    pool.shutdown(wait=False, cancel_futures=True)
    workers = [p for p in active_children() if p not in others]
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=30)


def scheduler_timeout() -> float:
    """Seconds to wait for a Dask scheduler to answer: ``$ADOPTSIM_SCHEDULER_TIMEOUT``,
    else 10."""
    setting = os.environ.get("ADOPTSIM_SCHEDULER_TIMEOUT", "").strip()
    if not setting:
        return 10.0
    try:
        seconds = float(setting)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise AdoptsimError(
            f"ADOPTSIM_SCHEDULER_TIMEOUT={setting!r}: expected a number of seconds above 0"
        )
    return seconds


def connect(scheduler: str, timeout: float | None = None):
    """A Dask client for the scheduler at ``scheduler``; ScenarioError if none answers
    within ``timeout`` seconds (default: :func:`scheduler_timeout`).

    Called before anything is written, so a wrong address leaves the results folder as it was.
    """
    from distributed import Client

    seconds = scheduler_timeout() if timeout is None else timeout
    try:
        return Client(scheduler, timeout=f"{seconds}s")
    except (OSError, TimeoutError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(
            f"--scheduler {scheduler}: cannot connect ({reason}); start a Dask scheduler "
            "there, or leave out --scheduler to use local worker processes"
        ) from None


def execute_dask(tasks: list[Task], folder: Path, client, on_done: Callable[[dict], None]) -> None:
    """Run tasks on a Dask distributed cluster (workers must see ``folder``).

    If anything interrupts the loop, the tasks not yet finished are cancelled on the cluster.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    # keys unique per results folder: two sweeps of one scenario into different folders
    # on a shared scheduler must not be taken for the same work
    where = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    futures = [
        client.submit(run_task, task, str(folder), key=f"adoptsim-{where}-{task.name}", pure=False)
        for task in tasks
    ]
    try:
        for future in as_completed(futures):
            try:
                receipt = future.result()
            except OSError as error:
                raise write_failed(error) from None
            except KilledWorker:
                raise WorkerDied(
                    "a Dask worker died running a sweep task (killed, or out of memory); "
                    "the tasks finished so far are kept: run the same command again "
                    "(without --force) to finish the rest"
                ) from None
            on_done(receipt)
    except BaseException:
        client.cancel(futures)
        raise


def task_records(tasks: list[Task]) -> list[dict[str, Any]]:
    """The task list as the manifest stores it (without the configs, which the scenario has)."""
    return [{k: v for k, v in asdict(t).items() if k != "config"} | {"name": t.name} for t in tasks]


def existing_manifest(folder: Path, manifest: dict[str, Any], force: bool) -> dict[str, Any] | None:
    """The manifest of an earlier start of this same sweep in ``folder``, or None.

    A folder holding other results (another scenario, a ``run``, other replicates or
    engine) is refused unless ``force``; a folder adoptsim did not write is always
    refused. Reads only: nothing is written.
    """
    kind = store.read_kind(folder)  # a folder adoptsim did not write is refused, even forced
    if kind is None or force:
        return None
    existing = store.read_json(folder / store.MANIFEST)
    reasons = differences(existing, manifest)
    if reasons:
        raise ScenarioError(
            f"{folder}: holds other results ({'; '.join(reasons)}); rename the scenario, use "
            "another --results folder, or pass --force to replace them"
        )
    return existing


def differences(existing: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """What makes stored results other than this sweep's, in words; empty when the same."""
    kind = existing.get("kind")
    if kind != "sweep":
        return [f"results of `adoptsim {kind}`, not of a sweep"]
    reasons = []
    if existing.get("randomness") != manifest.get("randomness"):
        reasons.append(
            f"random numbers of contract {existing.get('randomness', 1)}, now "
            f"{manifest.get('randomness')} (their rows would not mix)"
        )
    old_hash, new_hash = existing.get("scenario_hash"), manifest["scenario_hash"]
    if old_hash != new_hash:
        reasons.append(f"a different scenario: hash {old_hash}, now {new_hash}")
    if existing.get("engine") != manifest["engine"]:
        reasons.append(f"engine {existing.get('engine')}, now {manifest['engine']}")
    if existing.get("posterior") != manifest.get("posterior"):
        before, now = existing.get("posterior") or "none", manifest.get("posterior") or "none"
        reasons.append(f"posterior draws from {before}, now {now}")
    old_reps = _replicates(existing.get("tasks") or [])
    new_reps = _replicates(manifest["tasks"])
    if old_reps != new_reps:
        reasons.append(f"{old_reps} replicates per plan and point, now {new_reps}")
    if not reasons and existing.get("tasks") != json.loads(json.dumps(manifest["tasks"])):
        reasons.append("a different task list")
    return reasons


def _replicates(tasks: list[dict[str, Any]]) -> int:
    """Replicates per plan and point in a manifest's task list (the same for all of them)."""
    if not tasks:
        return 0
    first = (tasks[0]["plan"], tasks[0]["point"])
    return sum(len(t["replicates"]) for t in tasks if (t["plan"], t["point"]) == first)


def open_folder(
    folder: Path, manifest: dict[str, Any], existing: dict[str, Any] | None, force: bool
) -> dict[str, Any]:
    """Create the sweep's folder and write its manifest.

    With ``force`` the old results are set aside, not deleted: they are deleted once this
    sweep has finished (``store.recover``), so a sweep killed early loses nothing.  A
    resumed sweep keeps its first start time. Returns the manifest as written.
    """
    if force and folder.exists():
        store.set_aside(folder)
    started = existing.get("started") if existing else None
    manifest = {**manifest, "started": started or store.now()}
    folder.mkdir(parents=True, exist_ok=True)
    store.write_json(manifest, folder / "manifest.json")
    return manifest


def combine_summaries(folder: Path, tasks: list[Task]) -> None:
    """All tasks done: write the combined summary of every task's summary part."""
    paths = [part_path(folder, "summary", t) for t in tasks]
    summary = pl.concat([pl.read_parquet(p) for p in paths])
    summary = summary.sort("plan", "point", "replicate")
    store.write_parquet(summary, folder / "summary.parquet")


def stamp_finished(folder: Path, manifest: dict[str, Any], tasks: list[Task]) -> None:
    """The last write of a sweep: its manifest says it finished (and which tasks)."""
    manifest["done"] = [t.name for t in tasks]
    manifest["finished"] = store.now()
    store.write_json(manifest, folder / store.MANIFEST)


def points_frame(scenario: Scenario) -> pl.DataFrame:
    """One row per sweep point with the swept values (columns named by dotted path)."""
    rows = [{"point": i, **point} for i, point in enumerate(scenario.points)]
    return pl.DataFrame(rows)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
