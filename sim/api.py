"""The Python API: everything the command line does, as plain calls.

    from sim import load_scenario, run, sweep

    result = run("scenarios/default.toml", replicates=10)   # every plan, paired
    result.summary                                         # one row per plan x replicate
    result.save("results")                                 # results/<name>/ + report.html

    sweep("scenarios/freemium_sweep.toml", "results")      # resumable, parallel

The command line only parses options, calls these functions, prints tables and progress
bars, and maps :class:`~sim.errors.AdoptsimError` to exit status 2.  Experiments and
notebooks use the same calls, so a result made in Python is the same as one made by
``adoptsim``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from sim import tasks as sweeps
from sim.engines.memory import check_fits
from sim.engines.runner import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    PreparedPlan,
    prepare,
    run_scenario,
)
from sim.errors import AdoptsimError
from sim.results import store
from sim.scenario import Config, Scenario, load_scenario

__all__ = [
    "RunResult",
    "SweepResult",
    "SweepStopped",
    "Comparison",
    "Export",
    "FolderComparison",
    "build_manifest",
    "compare",
    "compare_folders",
    "export",
    "load_scenario",
    "prepare",
    "run",
    "sweep",
]


RANDOMNESS_CONTRACT = 2  # sim/randomness.py; results of another contract are not mixed in


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    """A loaded scenario, from a Scenario or the path of a TOML file."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def check_engine(engine: str, option: str = "engine") -> None:
    """Refuse an unknown engine (``option``: how the caller named the setting)."""
    if engine not in ENGINE_NAMES:
        raise AdoptsimError(f"{option} {engine!r}: allowed: {', '.join(ENGINE_NAMES)}")


def check_scheduler(scheduler: str | None, option: str = "scheduler") -> None:
    """Refuse a Dask scheduler address that is not tcp://, tls:// or inproc://."""
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise AdoptsimError(f"{option} {scheduler!r}: expected an address like tcp://HOST:PORT")


def check_replicates(replicates: int | None, option: str = "replicates") -> None:
    """An override of the replicates obeys the schema's range, like the scenario file's."""
    if replicates is None:
        return
    bounds = {type(m).__name__: m for m in Config.model_fields["replicates"].metadata}
    low, high = bounds["Ge"].ge, bounds["Le"].le
    if (
        isinstance(replicates, bool)
        or not isinstance(replicates, int)
        or not (low <= replicates <= high)
    ):
        raise AdoptsimError(f"{option} {replicates!r}: allowed: {low}..{high:,}")


def results_folder(results: Path | str, name: str, option: str = "results") -> Path:
    """``results/<name>``, refused when it or a folder above it is a file."""
    folder = Path(results) / name
    for path in (folder, *folder.parents):
        if path.exists() and not path.is_dir():
            raise AdoptsimError(f"{option} {results}: {path} is a file, expected a folder")
    return folder


def build_manifest(
    scenario: Scenario, kind: str, engine: str, prepared: list[PreparedPlan], **extra: Any
) -> dict[str, Any]:
    """The one manifest builder: ``run`` and ``sweep`` folders carry the same keys
    (scenario as resolved and its hash, seed, head count per plan, versions, command)."""
    return {
        "kind": kind,
        "scenario": scenario.resolved(),
        "scenario_file": scenario.source,
        "scenario_hash": scenario.digest(),
        "data_files": scenario.data_files(),  # the org's files by content (compare A B)
        "engine": engine,
        "seed": scenario.plans[0].config.seed,
        "employees": {p.plan.name: p.org.n for p in prepared},
        "randomness": RANDOMNESS_CONTRACT,
        "versions": store.package_versions(),
        "command": " ".join(sys.argv),
        **extra,
    }


# -- run ------------------------------------------------------------------------------------
@dataclass
class RunResult:
    """Every plan x replicate of one scenario, in memory; :meth:`save` writes it."""

    scenario: Scenario
    prepared: list[PreparedPlan] = field(repr=False)
    trajectories: pl.DataFrame = field(repr=False)
    departments: pl.DataFrame = field(repr=False)
    summary: pl.DataFrame = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)

    @property
    def employees(self) -> dict[str, int]:
        """Head count per plan (plans may run on orgs of different sizes)."""
        return {p.plan.name: p.org.n for p in self.prepared}

    def save(self, results: Path | str = "results", force: bool = False) -> Path:
        """Write ``results/<name>/`` (Parquet tables, report.html, manifest.json), swapped
        in whole.  Refuses to replace a sweep's results unless ``force``."""
        from sim.results.report import html_report

        target = results_folder(results, self.scenario.name)
        refuse_to_replace_sweep(target, force)
        manifest = {**self.manifest, "finished": store.now()}

        def fill(folder: Path) -> None:
            store.write_parquet(self.trajectories, folder / "trajectories.parquet")
            store.write_parquet(self.departments, folder / "departments.parquet")
            store.write_parquet(self.summary, folder / "summary.parquet")
            page = html_report(
                self.scenario.name,
                self.scenario.description,
                self.trajectories,
                self.departments,
                self.summary,
                self.employees,
                manifest,
            )
            store.write_text(page, folder / "report.html")
            store.write_json(manifest, folder / "manifest.json")

        return store.publish(target, fill, lambda folder, kind: refuse_sweep(folder, kind, force))


def refuse_to_replace_sweep(folder: Path, force: bool) -> None:
    """``run`` replaces its folder whole: only a folder adoptsim wrote, and a sweep's only
    with ``force``.  Also refuses a folder it could not write.  Checked before simulating
    (to fail early) and again when saving, holding the folder's lock."""
    refuse_sweep(folder, store.read_kind(folder), force)
    store.check_writable(folder)


def refuse_sweep(folder: Path, kind: str | None, force: bool) -> None:
    """``run`` replaces only a run's results (or nothing) without ``force``: a sweep's, a
    fit's, a sensitivity study's or an optimize search's are kept unless forced."""
    if kind not in (None, "run") and not force:
        raise AdoptsimError(
            f"{folder}: holds {kind} results (from `adoptsim {kind}`), which `run` would "
            "replace; use another --results folder, or pass --force to replace them"
        )


def run(
    scenario: Scenario | str | Path,
    engine: str = DEFAULT_ENGINE,
    replicates: int | None = None,
    on_replicates_done: Callable[[int], None] | None = None,
    prepared: list[PreparedPlan] | None = None,
    posterior: Path | str | None = None,
) -> RunResult:
    """Run every plan of ``scenario`` (its base plans; a ``[sweep]`` is :func:`sweep`'s)
    with R replicates, paired: every plan sees the same org and the same random numbers.

    ``replicates`` overrides the scenario's; ``on_replicates_done(k)`` is called as
    replicates finish (progress bars); ``prepared`` reuses :func:`prepare`'s orgs.
    ``posterior`` (a fit's posterior.parquet): each replicate draws its parameters from it,
    the same draw for every plan, so intervals carry parameter uncertainty too.
    """
    check_engine(engine)
    check_replicates(replicates)
    loaded = as_scenario(scenario)
    prepared = prepared if prepared is not None else prepare(loaded)
    if engine == "reference":
        for item in prepared:
            check_fits(item.config, f"{loaded.source}: plan {item.plan.name!r}", engine)
    started = store.now()
    draw = posterior_draws(posterior, loaded) if posterior is not None else None
    output = run_scenario(prepared, engine, replicates, on_replicates_done, draw)
    manifest = build_manifest(
        loaded,
        "run",
        engine,
        prepared,
        replicates={p.plan.name: replicates or p.config.replicates for p in prepared},
        started=started,
        posterior=str(posterior) if posterior is not None else None,
        intervals=interval_kind(posterior),
    )
    return RunResult(
        loaded, prepared, output.trajectories, output.departments, output.summary, manifest
    )


def interval_kind(posterior: Path | str | None) -> str:
    """What a run's or sweep's intervals are over, in words (manifest and reports)."""
    if posterior is not None:
        return "over replicates and posterior draws (parameter uncertainty included)"
    return "over replicates at fixed parameters"


def posterior_draws(path: Path | str, scenario: Scenario) -> Callable[[int], dict[str, Any]]:
    """``draw(r)``: replicate r's parameters, drawn by weight from a fit's posterior with a
    generator seeded by (scenario seed, r): the same for every plan, sweep point and run.
    Every draw is checked against every plan (at every sweep point) first; a parameter a
    ``[sweep]`` varies cannot also come from the posterior."""
    import numpy as np
    from pydantic import ValidationError

    from sim.scenario.schema import _leaf_field, with_values

    path = Path(path)
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as error:
        raise AdoptsimError(f"--posterior {path}: cannot read it ({error})") from None
    names = [c for c in frame.columns if c != "weight"]
    if "weight" not in frame.columns or not names or frame.is_empty():
        raise AdoptsimError(
            f"--posterior {path}: expected a fit's posterior.parquet (parameter columns and weight)"
        )
    unknown = [n for n in names if _leaf_field(n) is None]
    if unknown:
        raise AdoptsimError(f"--posterior {path}: columns {unknown} name no scenario setting")
    weights = frame["weight"].to_numpy().astype(float)
    if not np.all(np.isfinite(weights)) or weights.min() < 0 or weights.sum() <= 0:
        raise AdoptsimError(f"--posterior {path}: weights must be finite, >= 0, not all 0")
    weights = weights / weights.sum()
    values = {n: frame[n].to_list() for n in names}
    if frame.select(names).unique().height < 2:
        raise AdoptsimError(
            f"--posterior {path}: holds one parameter set, so it carries no uncertainty; use "
            "a fit's posterior (many weighted draws)"
        )
    seed = scenario.plans[0].config.seed

    def draw(replicate: int) -> dict[str, Any]:
        rng = np.random.default_rng([seed, replicate, 0xF17])
        k = int(rng.choice(len(weights), p=weights))
        return {n: values[n][k] for n in names}

    swept = [n for n in names if scenario.sweep is not None and n in scenario.sweep.parameters]
    if swept:
        raise AdoptsimError(
            f"--posterior {path}: {swept} are swept by the scenario's [sweep] and drawn by the "
            "posterior; vary each in one place only"
        )
    points = range(len(scenario.points))
    for plan in scenario.plans:  # every draw must make a valid plan: check them now
        for point in points:
            at = f" at sweep point {point}" if scenario.sweep is not None else ""
            for k in range(frame.height):
                try:
                    with_values(plan.at(point), {n: values[n][k] for n in names})
                except ValidationError as error:
                    first = error.errors()[0]
                    where = ".".join(str(x) for x in first["loc"])
                    problem = first["msg"].removeprefix("Value error, ")
                    raise AdoptsimError(
                        f"--posterior {path}: draw {k} makes plan {plan.name!r}{at} invalid: "
                        f"{where + ': ' if where else ''}{problem}"
                    ) from None
                except (TypeError, ValueError) as error:
                    raise AdoptsimError(
                        f"--posterior {path}: draw {k} makes plan {plan.name!r}{at} invalid "
                        f"({error})"
                    ) from None
    return draw


# -- sweep ------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """Where a sweep's results are, and how much of it this call did."""

    folder: Path
    tasks: int
    already_done: int
    ran: int


class SweepStopped(Exception):
    """The sweep was stopped (SIGTERM); finished tasks are kept, the rest can be resumed."""

    def __init__(self, folder: Path, finished: int, total: int):
        super().__init__(f"stopped: {finished} of {total} tasks done and kept in {folder}")
        self.folder, self.finished, self.total = folder, finished, total


def sweep(
    scenario: Scenario | str | Path,
    results: Path | str = "results",
    workers: int | None = None,
    scheduler: str | None = None,
    replicates: int | None = None,
    engine: str = DEFAULT_ENGINE,
    force: bool = False,
    on_start: Callable[[str, int, int], None] | None = None,
    on_task_done: Callable[[dict[str, Any]], None] | None = None,
    posterior: Path | str | None = None,
) -> SweepResult:
    """Every plan x sweep point x replicate, in ``results/<name>/``: parallel (local
    processes, or a Dask cluster at ``scheduler``), streamed to Parquet and resumable:
    called again after a kill, it redoes only the unfinished tasks.

    ``on_start(line, tasks, already_done)`` gets a one-line description before work
    starts; ``on_task_done`` a receipt per finished task.  Raises :class:`SweepStopped` on SIGTERM.
    ``posterior`` (a fit's posterior.parquet): replicate r draws its parameters from it, the
    same draw at every plan and sweep point (:func:`posterior_draws`), so every interval
    carries parameter uncertainty and plans stay paired.
    """
    # Everything that can refuse the sweep comes first: nothing is written until it passed.
    check_engine(engine)
    check_replicates(replicates)
    check_scheduler(scheduler)
    loaded = as_scenario(scenario)
    prepared = prepare(loaded)  # every plan at every sweep point fits its org
    folder = results_folder(results, loaded.name)
    draw = posterior_draws(posterior, loaded) if posterior is not None else None
    tasks = sweeps.make_tasks(loaded, replicates, engine, draw=draw)
    manifest = build_manifest(
        loaded,
        "sweep",
        engine,
        prepared,
        tasks=sweeps.task_records(tasks),
        posterior=str(Path(posterior).resolve()) if posterior is not None else None,
        intervals=interval_kind(posterior),
    )
    in_process = False
    if scheduler is None:
        workers = workers_that_fit(loaded, workers or sweeps.default_workers(), engine)
        # threads only for the batched engine: its compiled passes release the GIL, the
        # reference engine's Python does not (its sweeps keep one process per core)
        in_process = engine == "batched" and small_sweep(tasks, prepared)
        if in_process:  # the tasks reuse the orgs prepare() built (and their set-up)
            sweeps.share_orgs([(item.config, item.org) for item in prepared])
    client = sweeps.connect(scheduler) if scheduler else None  # before anything is written
    try:
        return _sweep_locked(
            loaded,
            folder,
            tasks,
            manifest,
            client,
            workers,
            scheduler,
            force,
            on_start,
            on_task_done,
            in_process,
            {item.plan.name: item.org.n for item in prepared},
        )
    finally:
        if in_process:
            sweeps.forget_orgs()
        if client is not None:
            client.close()


def small_sweep(tasks: list, prepared: list[PreparedPlan]) -> bool:
    """Whether a sweep is small enough to run in this process's threads (less work than
    ``tasks.IN_PROCESS_AGENT_STEPS``): worker processes would cost more than they save.
    A task's org size is its plan's (or, for a swept ``org.n``, the point's).
    ``ADOPTSIM_SWEEP_PROCESSES=1`` always uses worker processes."""
    if os.environ.get("ADOPTSIM_SWEEP_PROCESSES", "").strip() == "1":
        return False
    size = {item.plan.name: item.org.n for item in prepared}
    total = 0
    for task in tasks:
        org = task.config["org"]
        employees = size[task.plan]
        if org.get("generator") not in ("chart", "krackhardt"):
            employees = max(employees, int(org.get("n", employees)))
        total += sweeps.agent_steps(task, employees)
    return total < sweeps.IN_PROCESS_AGENT_STEPS


def workers_that_fit(scenario: Scenario, workers: int, engine: str) -> int:
    """Local worker processes each build (and cache) their own orgs: use no more of them
    than this machine's memory holds at once (at least one; prepare() refused a plan
    that does not fit even alone)."""
    from sim.engines.memory import USABLE_SHARE, available_bytes, estimate_bytes

    need = max(
        estimate_bytes(plan.at(i), engine)
        for plan in scenario.plans
        for i in range(len(scenario.points))
    )
    fitting = int(USABLE_SHARE * available_bytes() // max(need, 1))
    return max(1, min(workers, fitting))


def _sweep_locked(
    loaded: Scenario,
    folder: Path,
    tasks: list,
    manifest: dict[str, Any],
    client,
    workers: int | None,
    scheduler: str | None,
    force: bool,
    on_start,
    on_task_done,
    in_process: bool = False,
    employees: dict[str, int] | None = None,
) -> SweepResult:
    """The sweep's lifecycle, holding the results folder's lock (``employees``: each
    plan's org size)."""
    with store.lock(folder):  # a second sweep on these results is refused, not mixed in
        store.recover(folder)
        existing = sweeps.existing_manifest(folder, manifest, force)
        store.check_writable(folder)
        todo = tasks if force else [t for t in tasks if not sweeps.is_done(folder, t)]
        already = len(tasks) - len(todo)
        if existing is not None and not todo and store.is_complete(folder):
            return SweepResult(folder, len(tasks), already, 0)
        manifest = sweeps.open_folder(folder, manifest, existing, force)
        sweeps.clean_partial_writes(folder)
        sweeps.discard_damaged(folder, todo)  # a damaged task is redone from scratch
        if on_start:
            count = workers or sweeps.default_workers()
            where = scheduler or (
                f"{count} thread(s) in this process" if in_process else f"{count} local worker(s)"
            )
            on_start(
                f"{loaded.name}: {len(loaded.plans)} plan(s) x {len(loaded.points)} "
                f"point(s): {len(tasks)} tasks, {already} already done; running on {where}",
                len(tasks),
                already,
            )
        done = on_task_done or (lambda receipt: None)
        try:
            with sweeps.sigterm_raises_terminated():
                if client is not None:
                    sweeps.execute_dask(todo, folder, client, done)
                else:
                    count = workers or sweeps.default_workers()
                    sweeps.execute_local(todo, folder, count, done, in_process, employees)
        except sweeps.Terminated:
            sweeps.clean_partial_writes(folder)
            finished = sum(sweeps.is_done(folder, t) for t in todo) + already
            raise SweepStopped(folder, finished, len(tasks)) from None
        try:
            finish_sweep(loaded, folder, manifest, tasks)
        except OSError as error:
            raise sweeps.write_failed(error) from None
        store.recover(folder)  # finished: results set aside by --force can go now
    return SweepResult(folder, len(tasks), already, len(todo))


def finish_sweep(scenario: Scenario, folder: Path, manifest: dict, tasks: list) -> None:
    """All tasks done: combined summary, points table, report.html, and last the manifest's
    finish time (a sweep killed before it finishes these on the next run)."""
    from sim.results.compare import Results, default_pair, html_report

    sweeps.combine_summaries(folder, tasks)
    store.write_parquet(sweeps.points_frame(scenario), folder / "points.parquet")
    stored = Results(folder)
    plan_a, plan_b = default_pair(stored.plans)
    store.write_text(html_report(stored, plan_a, plan_b), folder / "report.html")
    sweeps.stamp_finished(folder, manifest, tasks)


# -- compare ----------------------------------------------------------------------------------
@dataclass
class Comparison:
    """What ``compare`` compared and where it wrote the page."""

    results: Any = field(repr=False)  # sim.results.compare.Results
    plans: list[str]  # the plans compared
    pair: tuple[str, str] | None  # (A, B) when --a/--b chose them; None: every plan ranked
    ranked: list[dict[str, Any]] = field(repr=False)  # the ranking (empty for a pair)
    page: Path


@dataclass
class FolderComparison:
    """Two results folders of the same org compared plan by plan (B − A)."""

    a: Any = field(repr=False)
    b: Any = field(repr=False)
    plans: list[str]  # the plans both folders have
    paired: bool  # same seed and replicates: paired differences; else Welch's interval
    rows: list[dict[str, Any]] = field(repr=False)
    page: Path
    why: str = ""  # why the differences are paired, or why not


@contextmanager
def holding(*folders: Path) -> Iterator[None]:
    """Hold each results folder's lock and finish an interrupted replacement of it first,
    so what is read is whole and no other command writes it meanwhile."""
    from sim.results.compare import Results

    with ExitStack() as stack:
        for folder in folders:
            if not folder.resolve().parent.is_dir():
                Results(folder)  # says what is wrong; never creates folders
            stack.enter_context(store.lock(folder.resolve()))  # resolved: "." has a name
            store.recover(folder.resolve())
        yield


def write_page(text: str, path: Path, folders: tuple[Path, ...] = ()) -> None:
    """Write a comparison page atomically; a failure is one message naming it.  The page
    is an .html file and, inside a results folder, only a ``compare*.html`` one: the
    results themselves and their report are never overwritten."""
    if path.is_dir():
        raise AdoptsimError(f"--out {path}: is a folder; name an .html file")
    if path.suffix.lower() not in (".html", ".htm"):
        raise AdoptsimError(f"--out {path}: the page is HTML; name an .html file")
    inside = [f for f in folders if path.resolve().parent == f.resolve()]
    if inside and not path.name.lower().startswith("compare"):
        raise AdoptsimError(
            f"--out {path}: would overwrite a file of the results in {inside[0]}; inside a "
            "results folder only compare*.html may be written (e.g. compare-mine.html)"
        )
    try:
        store.write_text(text, path)
    except OSError as error:
        raise AdoptsimError(
            f"{path.parent}: could not write {path.name} ({error.strerror or error})"
        ) from None


def compare(
    folder: Path | str,
    plan_a: str | None = None,
    plan_b: str | None = None,
    out: Path | str | None = None,
) -> Comparison:
    """Compare the plans of stored results and write ``compare.html`` beside them (or at
    ``out``); the folder's own report.html is never touched.

    With ``plan_a`` and/or ``plan_b``: those two plans, with their paired difference A − B.
    With neither: every plan ranked on every outcome, with its paired difference to the
    best and a winner only where the CIs say so.  Damaged results give one clear
    :class:`AdoptsimError`; an interrupted replacement of the folder is finished first.
    """
    from sim.results.compare import Results, html_report, ranking, ranking_report, reading

    folder = Path(folder)  # as given: messages name it as the user wrote it
    page = Path(out) if out is not None else folder / "compare.html"
    with holding(folder):
        stored = Results(folder)
        with reading(folder):
            if plan_a is None and plan_b is None:
                ranked = ranking(stored)
                text = ranking_report(stored, ranked)
                result = Comparison(stored, list(stored.plans), None, ranked, page)
            else:
                pair = chosen_pair(stored, plan_a, plan_b)
                text = html_report(stored, *pair)
                plans = list(dict.fromkeys(pair))
                result = Comparison(stored, plans, pair, [], page)
        write_page(text, page, (folder,))
    return result


def compare_folders(
    folder_a: Path | str, folder_b: Path | str, out: Path | str | None = None
) -> FolderComparison:
    """Compare two results folders of the same org (e.g. base vs calibrated): every plan
    both have, per outcome, with B − A and its 95% CI (paired when the manifests show the
    same seed and replicates, else Welch's unpaired interval).  Writes
    ``A/compare-<B's name>.html`` (or ``out``).  Refuses folders of different orgs (head
    count or [org] table), of different sweep points, or with no plan name in common."""
    from sim.results.compare import (
        Results,
        folder_differences,
        folders_report,
        pairing,
        reading,
        shared_plans,
    )

    a, b = Path(folder_a), Path(folder_b)
    if a.resolve() == b.resolve():
        raise AdoptsimError(f"{a} and {b} are the same folder; name two results folders")
    page = Path(out) if out is not None else a / f"compare-{b.resolve().name}.html"
    with holding(a, b):
        stored_a, stored_b = Results(a), Results(b)
        with reading(a), reading(b):
            plans = shared_plans(stored_a, stored_b)
            paired, why = pairing(stored_a, stored_b, plans)
            rows = folder_differences(stored_a, stored_b, plans, paired)
            text = folders_report(stored_a, stored_b, rows, plans, paired)
        write_page(text, page, (a, b))
    return FolderComparison(stored_a, stored_b, plans, paired, rows, page, why)


def chosen_pair(stored, plan_a: str | None, plan_b: str | None) -> tuple[str, str]:
    """The two plans to compare: ``plan_a`` and ``plan_b`` where given, else the defaults.

    Both must exist and differ. A plan left out is taken from the defaults, never equal to
    the one given (unless the folder has only one plan, whose outcomes are shown alone).
    """
    from sim.results.compare import default_pair

    for plan in (plan_a, plan_b):
        if plan is not None and plan not in stored.plans:
            raise AdoptsimError(f"{stored.folder}: no plan {plan!r}; plans: {stored.plans}")
    if plan_a is not None and plan_a == plan_b:
        raise AdoptsimError(
            f"--a and --b both name plan {plan_a!r}; compare two different plans "
            f"(plans: {stored.plans})"
        )
    if plan_a is not None and plan_b is not None:
        return plan_a, plan_b  # both given: exactly these (was: B replaced by a default)
    default_a, default_b = default_pair(stored.plans)
    if plan_a is None and plan_b is None:
        return default_a, default_b
    given = plan_a if plan_a is not None else plan_b
    others = [p for p in (default_a, default_b, *stored.plans) if p != given] or [given]
    return (given, others[0]) if plan_a is not None else (others[0], given)


# -- export -----------------------------------------------------------------------------------
@dataclass
class Export:
    """What ``export`` wrote."""

    table: Path | None
    rows: int
    figures: list[Path]
    reference: str | None


def export(
    folder: Path | str,
    to: Path | str | None = None,
    figures: Path | str | None = None,
    reference: str | None = None,
) -> Export:
    """Write stored results for stakeholders: ``to`` (.xlsx or .csv) gets one row per plan
    [x sweep point] x outcome with mean, 95% CI, k of R replicates and the paired
    difference to ``reference`` (default: bottom-up, or the first plan); ``figures`` (a
    folder) gets the report's charts as PNG and SVG.  Every file is written atomically."""
    from sim.results import export as exporting
    from sim.results.compare import Results, default_pair, reading

    folder = Path(folder)
    table_path = Path(to) if to is not None else None
    figures_path = Path(figures) if figures is not None else None
    if table_path is None and figures_path is None:
        raise AdoptsimError(
            "nothing to export: give --to FILE (.xlsx or .csv) and/or --figures DIR"
        )
    if table_path is not None:
        exporting.check_table_path(table_path)
    if figures_path is not None:
        exporting.check_figures_path(figures_path)
        exporting.chromium()  # missing: say so before reading anything
    with holding(folder):
        stored = Results(folder)
        if reference is not None and reference not in stored.plans:
            raise AdoptsimError(f"--reference {reference!r}: no such plan; plans: {stored.plans}")
        if reference is None and len(stored.plans) > 1:
            reference = default_pair(stored.plans)[0]
        with reading(folder):
            table = exporting.summary_table(stored, reference) if table_path else None
            charts = exporting.folder_figures(stored) if figures_path else []
    if table is not None:
        exporting.write_table(table, table_path)
    written = exporting.write_figures(charts, figures_path) if figures_path else []
    return Export(table_path, table.height if table is not None else 0, written, reference)


def keep_other_kinds(kind: str, force: bool) -> Callable[[Path, str | None], None]:
    """For :func:`store.publish`: a study replaces its own folder, or a new one, but another
    command's results only with ``force``."""

    def refuse(folder: Path, found: str | None) -> None:
        if found not in (None, kind) and not force:
            raise AdoptsimError(
                f"{folder}: holds a {found}'s results; choose another --results folder, or "
                "--force to replace them"
            )

    return refuse


# -- sensitivity -----------------------------------------------------------------------------
def sensitivity(
    scenario: Scenario | str | Path,
    results: Path | str = "results",
    force: bool = False,
    on_sample: Callable[[int, int], None] | None = None,
    prepared: list[PreparedPlan] | None = None,
) -> tuple[Any, Path]:
    """Run the scenario's ``[sensitivity]`` study and write ``results/<name>-sensitivity/``
    (indices.parquet, samples.parquet, sensitivity.html, manifest.json), swapped in whole.

    Returns (the :class:`sim.sensitivity.SensitivityResult`, the folder).  A scenario
    without a ``[sensitivity]`` table is one clear error.
    """
    from sim.sensitivity import run_sensitivity, sensitivity_page

    loaded = as_scenario(scenario)
    if loaded.sensitivity is None:
        raise AdoptsimError(
            f"{loaded.source}: no [sensitivity] table; add one, e.g. [sensitivity] "
            'outcome = "final_active_share" and [sensitivity.parameters] '
            '"adoption.q" = { min = 0.1, max = 0.6 } (docs/scenarios.md)'
        )
    target = results_folder(results, f"{loaded.name}-sensitivity")
    prepared = prepared if prepared is not None else prepare(loaded)
    result = run_sensitivity(loaded, prepared, on_sample)
    spec = loaded.sensitivity
    manifest = build_manifest(
        loaded,
        "sensitivity",
        DEFAULT_ENGINE,
        prepared,
        sensitivity=spec.model_dump(),
        samples=result.samples.height,
        undefined_samples=result.undefined,
        finished=store.now(),
    )

    def fill(folder: Path) -> None:
        store.write_parquet(result.indices, folder / "indices.parquet")
        store.write_parquet(result.samples, folder / "samples.parquet")
        store.write_text(sensitivity_page(loaded, result), folder / "sensitivity.html")
        store.write_json(manifest, folder / "manifest.json")

    return result, store.publish(target, fill, keep_other_kinds("sensitivity", force))


# -- optimize --------------------------------------------------------------------------------
def optimize(
    scenario: Scenario | str | Path,
    results: Path | str = "results",
    force: bool = False,
    on_trial: Callable[[int, int], None] | None = None,
    prepared: list[PreparedPlan] | None = None,
) -> tuple[Any, Path]:
    """Run the scenario's ``[optimize]`` search and write ``results/<name>-optimize/``
    (trials.parquet, best.json, optimize.html, manifest.json), swapped in whole.

    Returns (the :class:`sim.optimize.OptimizeResult`, the folder).  With two objectives
    best.json also holds the Pareto front, each point confirmed on fresh replicates.
    """
    from sim.optimize import optimize_page, search

    loaded = as_scenario(scenario)
    if loaded.optimize is None:
        raise AdoptsimError(
            f"{loaded.source}: no [optimize] table; add one, e.g. [optimize] plan = "
            '"hybrid", objective = "net_value" and [optimize.levers] "mandate.week" = '
            "{ min = 4, max = 52 } (docs/scenarios.md)"
        )
    target = results_folder(results, f"{loaded.name}-optimize")
    prepared = prepared if prepared is not None else prepare(loaded)
    result = search(loaded, prepared, on_trial)
    manifest = build_manifest(
        loaded,
        "optimize",
        DEFAULT_ENGINE,
        prepared,
        optimize=loaded.optimize.model_dump(),
        finished=store.now(),
    )

    def fill(folder: Path) -> None:
        store.write_parquet(result.trials, folder / "trials.parquet")
        best = {"best": result.best, "confirm": result.confirm}
        if result.front:  # two objectives: the Pareto front, each point confirmed
            best["front"] = result.front
        store.write_json(best, folder / "best.json")
        store.write_text(optimize_page(loaded, result), folder / "optimize.html")
        store.write_json(manifest, folder / "manifest.json")

    return result, store.publish(target, fill, keep_other_kinds("optimize", force))


# -- fit -------------------------------------------------------------------------------------
def fit(
    scenario: Scenario | str | Path,
    observed: Path | str,
    scope: list[str] | None = None,
    results: Path | str = "results",
    force: bool = False,
    prepared: list[PreparedPlan] | None = None,
    employees: list[str] | str | None = None,
) -> tuple[Any, Path]:
    """Calibrate the scenario's ``[fit]`` plan to observed weekly counts (ABC-SMC) and write
    ``results/<name>-fit/`` (posterior.parquet, summary.parquet, predictive.parquet,
    fit.html, manifest.json), swapped in whole.

    The observed counts are the whole org's, or a pilot's inside it: ``scope`` names
    departments and/or teams, ``employees`` employee ids (a list, or as ``--employees``
    takes them: a file of ids or ids separated by commas); the pilot is all of them."""
    from sim.fit import fit as run_fit
    from sim.fit import fit_page, read_observed
    from sim.pilot import employee_list, resolve

    loaded = as_scenario(scenario)
    if loaded.fit is None:
        raise AdoptsimError(
            f"{loaded.source}: no [fit] table; add one, e.g. [fit.parameters] "
            '"adoption.q" = { prior = "uniform", min = 0.05, max = 0.8 } (docs/scenarios.md)'
        )
    counts = read_observed(observed)
    target = results_folder(results, f"{loaded.name}-fit")
    prepared = prepared if prepared is not None else prepare(loaded)
    ids = employee_list(employees) if isinstance(employees, str) else employees
    (item,) = [p for p in prepared if p.plan.name == loaded.fit.plan]
    pilot = resolve(item.org, scope, ids)
    result = run_fit(loaded, prepared, counts, pilot)
    manifest = build_manifest(
        loaded,
        "fit",
        DEFAULT_ENGINE,
        prepared,
        fit=loaded.fit.model_dump(),
        observed=str(observed),
        scope=pilot.record(),
        finished=store.now(),
    )

    def fill(folder: Path) -> None:
        store.write_parquet(result.posterior, folder / "posterior.parquet")
        store.write_parquet(result.summary, folder / "summary.parquet")
        store.write_parquet(result.predictive, folder / "predictive.parquet")
        store.write_text(fit_page(loaded, result), folder / "fit.html")
        store.write_json(manifest, folder / "manifest.json")

    return result, store.publish(target, fill, keep_other_kinds("fit", force))
