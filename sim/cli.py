"""The ``adoptsim`` command line (also ``python -m sim``)."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.org import OrgDataError
from sim.scenario import ScenarioError, load_scenario

app = typer.Typer(
    help="Simulate how a tool spreads through an organization and compare rollout plans: "
    "bottom-up, top-down or hybrid, with confidence intervals.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


class QuietPipeConsole(Console):
    """A console that stops the program quietly when its reader goes away.

    ``adoptsim compare RESULTS | head`` closes the pipe early; like other Unix tools the
    command then ends with status 141 (128 + SIGPIPE) and no error message.
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.file.fileno())  # later flushes at exit go nowhere, silently
        raise SystemExit(141)


out = QuietPipeConsole()
err = QuietPipeConsole(stderr=True)


def friendly_errors(command):
    """Bad input gets one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ScenarioError, OrgDataError) as error:
            # escape: the message ends with an "[allowed range]" hint, not a rich style tag
            err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def results_folder(results: Path, name: str) -> Path:
    """``results/<name>``, refused (exit 2) when it or a folder above it is a file."""
    folder = results / name
    for path in (folder, *folder.parents):
        if path.exists() and not path.is_dir():
            raise ScenarioError(f"--results {results}: {path} is a file, expected a folder")
    return folder


def refuse_to_replace_sweep(folder: Path, force: bool) -> None:
    """``run`` replaces its folder whole: refuse when that would discard a sweep's results."""
    manifest = folder / "manifest.json"
    if force or not manifest.is_file():
        return
    try:
        kind = json.loads(manifest.read_text()).get("kind")
    except (ValueError, OSError):
        return
    if kind == "sweep":
        raise ScenarioError(
            f"{folder}: holds sweep results (from `adoptsim sweep`), which `run` would "
            "replace; use another --results folder, or pass --force to replace them"
        )


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


def print_summary(summary, title: str) -> None:
    from sim.results.report import OUTCOMES, format_interval, outcome_table

    table_data = outcome_table(summary)
    plans = summary["plan"].unique(maintain_order=True).to_list()
    table = Table(title=title, title_justify="left")
    table.add_column("outcome (mean [95% CI])")
    for plan in plans:
        table.add_column(plan, justify="right")
    for column, label, _ in OUTCOMES:
        cells = []
        for plan in plans:
            mask = (table_data["plan"] == plan) & (table_data["outcome"] == column)
            cells.append(format_interval(table_data.filter(mask).row(0, named=True)))
        table.add_row(label, *cells)
    out.print(table)


@app.command()
@friendly_errors
def run(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    engine: str = typer.Option(
        "batched", help="simulation engine: batched (numpy, fast) or reference (Mesa)"
    ),
    replicates: int = typer.Option(None, min=1, help="override the scenario's replicates"),
    results: Path = typer.Option(Path("results"), help="folder that receives results/<name>/"),
    force: bool = typer.Option(
        False, "--force", help="replace results/<name>/ even if it holds a sweep's results"
    ),
) -> None:
    """Run every plan of SCENARIO with R replicates; write results/<name>/ and print a summary.

    A scenario's \\[sweep] table is not run here (only its base plans): use adoptsim sweep.

    Example:  adoptsim run scenarios/default.toml --replicates 10
    """
    from sim.engines.runner import build_orgs, engines, run_scenario

    if engine not in engines():
        raise ScenarioError(f"--engine {engine!r}: allowed: {', '.join(engines())}")
    loaded = load_scenario(scenario)  # a bad file fails here, before the heavier imports
    target = results_folder(results, loaded.name)
    refuse_to_replace_sweep(target, force)
    from sim.results import store
    from sim.results.report import html_report

    prepared = build_orgs(loaded)
    if loaded.sweep is not None:
        note = (
            f"note: {scenario} has a [sweep] table: `run` runs the base plans only; "
            "`adoptsim sweep` runs the grid"
        )
        err.print(escape(note), highlight=False, soft_wrap=True)
    started = store.now()
    total = sum(replicates or p.config.replicates for p in prepared)
    clock = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"{loaded.name}: plans x replicates", total=total, rate="")

        def advance(k: int) -> None:
            done = bar.tasks[task].completed + k
            rate = done / max(time.perf_counter() - clock, 1e-9)
            bar.update(task, advance=k, rate=f"{rate:.1f} runs/s")

        output = run_scenario(prepared, engine, replicates, advance)
    n = prepared[0].org.n
    manifest = {
        "scenario": loaded.resolved(),
        "scenario_file": str(scenario),
        "scenario_hash": loaded.digest(),
        "kind": "run",
        "engine": engine,
        "seed": prepared[0].config.seed,
        "replicates": {p.plan.name: replicates or p.config.replicates for p in prepared},
        "employees": {p.plan.name: p.org.n for p in prepared},
        "versions": store.package_versions(),
        "command": " ".join(sys.argv),
        "started": started,
    }

    def fill(folder: Path) -> None:
        store.write_parquet(output.trajectories, folder / "trajectories.parquet")
        store.write_parquet(output.departments, folder / "departments.parquet")
        store.write_parquet(output.summary, folder / "summary.parquet")
        page = html_report(
            loaded.name,
            loaded.description,
            output.trajectories,
            output.departments,
            output.summary,
            n,
            manifest,
        )
        store.write_text(page, folder / "report.html")
        store.write_json({**manifest, "finished": store.now()}, folder / "manifest.json")

    store.publish(target, fill)
    print_summary(output.summary, f"{loaded.name}: {n:,} employees")
    out.print(f"results: {target}/  (report.html, summary.parquet, trajectories.parquet)")


@app.command()
@friendly_errors
def check(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    as_json: bool = typer.Option(False, "--json", help="print the resolved scenario as JSON"),
) -> None:
    """Validate SCENARIO (schema, graph files, department names) and print what it resolves to.

    Example:  adoptsim check scenarios/krackhardt.toml
    """
    from sim.engines.runner import build_orgs
    from sim.sweep import check_points

    loaded = load_scenario(scenario)
    prepared = build_orgs(loaded)
    check_points(loaded)  # every plan at every sweep point, as `adoptsim sweep` checks them
    if as_json:
        out.print_json(json.dumps(loaded.resolved(), default=str))
        return
    table = Table(title=f"{scenario}: {loaded.name} (hash {loaded.digest()})", title_justify="left")
    for column in ("plan", "org", "rule", "seeding", "freemium", "mandate", "enterprise"):
        table.add_column(column)
    for item in prepared:
        c = item.config
        seats = "unlimited" if c.freemium.free_seats is None else c.freemium.free_seats
        free = (
            f"{c.freemium.workspace}, {seats} free seats, trial {c.freemium.trial_weeks}w"
            if c.freemium.enabled
            else "off"
        )
        mandate = (
            f"week {c.mandate.week}, {c.mandate.scope}, compliance {c.mandate.compliance}"
            if c.mandate.enabled
            else "off"
        )
        deal = f"at {c.enterprise.threshold:.0%}" if c.enterprise.enabled else "off"
        table.add_row(
            item.plan.name,
            f"{c.org.generator}: {item.org.n:,} people, {item.org.graph.number_of_edges():,} ties, "
            f"{len(item.org.department_names)} depts",
            c.adoption.rule,
            f"{c.seeding.strategy} x{c.seeding.count}",
            free,
            mandate,
            deal,
        )
    out.print(table)
    c0 = prepared[0].config
    if loaded.sweep is not None:
        design = loaded.sweep.design.replace("_", " ")
        out.print(
            f"sweep ({design}): {len(loaded.points)} points over "
            f"{', '.join(loaded.sweep.parameters)}; every plan checked at every point "
            f"({len(loaded.plans) * len(loaded.points)} runs of {c0.replicates} replicates)",
            highlight=False,
        )
    out.print(f"weeks {c0.weeks}, replicates {c0.replicates}, seed {c0.seed}: OK")


@app.command()
@friendly_errors
def sweep(
    scenario: Path = typer.Argument(..., help="scenario TOML file with a \\[sweep] table"),
    workers: int = typer.Option(None, min=1, help="local worker processes (default: one per core)"),
    scheduler: str = typer.Option(
        None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786 (default: local processes)"
    ),
    replicates: int = typer.Option(None, min=1, help="override the scenario's replicates"),
    results: Path = typer.Option(Path("results"), help="folder that receives results/<name>/"),
    force: bool = typer.Option(False, "--force", help="discard existing results and redo all"),
    engine: str = typer.Option(
        "batched", help="simulation engine: batched (numpy, fast) or reference (Mesa)"
    ),
) -> None:
    """Run every plan x sweep point x replicate; resumable, parallel, streamed to Parquet.

    Killed half-way (or stopped with SIGTERM)? Run the same command again: only unfinished
    tasks are redone.

    Example:  adoptsim sweep scenarios/freemium_sweep.toml --workers 2
    """
    from sim import sweep as sweeps
    from sim.engines.runner import engines

    # Everything that can refuse the sweep comes first: nothing is written until it all passed.
    if engine not in engines():
        raise ScenarioError(f"--engine {engine!r}: allowed: {', '.join(engines())}")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise ScenarioError(f"--scheduler {scheduler!r}: expected an address like tcp://HOST:PORT")
    loaded = load_scenario(scenario)
    sweeps.check_orgs(loaded)  # every plan at every sweep point fits its org
    folder = results_folder(results, loaded.name)
    tasks = sweeps.make_tasks(loaded, replicates, engine)
    manifest = sweeps.sweep_manifest(loaded, tasks, engine)
    existing = sweeps.existing_manifest(folder, manifest, force)
    todo = tasks if force else [t for t in tasks if not sweeps.is_done(folder, t)]
    if existing is not None and not todo and (folder / "summary.parquet").exists():
        out.print(f"{folder}: all {len(tasks)} tasks already done; nothing to do (--force redoes)")
        return
    client = sweeps.connect(scheduler) if scheduler else None
    try:
        manifest = sweeps.open_folder(folder, manifest, existing, force)
        sweeps.clean_partial_writes(folder)
        where = scheduler or f"{workers or sweeps.default_workers()} local worker(s)"
        out.print(
            f"{loaded.name}: {len(loaded.plans)} plan(s) x {len(loaded.points)} point(s): "
            f"{len(tasks)} tasks, {len(tasks) - len(todo)} already done; running on {where}"
        )
        run_sweep_tasks(todo, len(tasks), folder, workers, client)
    finally:
        if client is not None:
            client.close()
    finish_sweep(loaded, folder, manifest, tasks)


def run_sweep_tasks(todo: list, total: int, folder: Path, workers: int | None, client) -> None:
    """Run the unfinished tasks with a progress bar; on SIGTERM stop cleanly with exit 143."""
    from sim import sweep as sweeps

    clock = time.perf_counter()
    already = total - len(todo)
    try:
        with sweeps.sigterm_raises_terminated(), progress_bar() as bar:
            task_bar = bar.add_task("tasks", total=total, completed=already, rate="")

            def done(receipt: dict) -> None:
                finished = bar.tasks[task_bar].completed + 1 - already
                rate = finished / max(time.perf_counter() - clock, 1e-9)
                bar.update(task_bar, advance=1, rate=f"{rate:.2f} tasks/s")

            if client is not None:
                sweeps.execute_dask(todo, folder, client, done)
            else:
                sweeps.execute_local(todo, folder, workers or sweeps.default_workers(), done)
    except sweeps.Terminated:
        sweeps.clean_partial_writes(folder)
        finished = sum(sweeps.is_done(folder, t) for t in todo) + already
        err.print(
            f"stopped by SIGTERM: {finished} of {total} tasks done and kept in {folder}; "
            "run the same command again to finish the rest",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=143) from None


def finish_sweep(loaded, folder: Path, manifest: dict, tasks: list) -> None:
    """All tasks done: combined summary, points table, report.html and the comparison table."""
    from sim import sweep as sweeps
    from sim.results import store
    from sim.results.compare import Results, default_pair, html_report

    sweeps.finish_folder(folder, manifest, tasks)
    store.write_parquet(sweeps.points_frame(loaded), folder / "points.parquet")
    stored = Results(folder)
    plan_a, plan_b = default_pair(stored.plans)
    store.write_text(html_report(stored, plan_a, plan_b), folder / "report.html")
    print_comparison(stored, plan_a, plan_b)
    out.print(f"results: {folder}/  (report.html, summary.parquet, parts/)")


def print_comparison(stored, plan_a: str, plan_b: str, max_points: int = 20) -> None:
    """The terminal table: per point, each plan's outcomes and the paired difference A − B."""
    from sim.results.compare import COMPARED, find_row, outcome_rows, paired_differences
    from sim.results.report import format_interval

    outcomes = outcome_rows(stored)
    diffs = paired_differences(stored, plan_a, plan_b) if plan_a != plan_b else []
    table = Table(
        title=f"{stored.manifest['scenario']['name']}: mean [95% CI] per plan; "
        f"paired difference {plan_a} − {plan_b}",
        title_justify="left",
    )
    table.add_column("plan")
    for _, label, _ in COMPARED:
        table.add_column(label, justify="right")
    points = stored.points["point"].to_list()
    for point in points[:max_points]:
        if stored.parameters:
            table.add_row(f"[italic]point {point}: {stored.point_label(point)}[/]")
        for plan in stored.plans:
            cells = [find_row(outcomes, point, c, plan) for c, _, _ in COMPARED]
            table.add_row(plan, *(format_interval(c) for c in cells))
        if diffs:
            cells = [find_row(diffs, point, c) for c, _, _ in COMPARED]
            table.add_row(
                f"[bold]{plan_a} − {plan_b}[/]",
                *(f"[bold]{format_interval(c, signed=True)}[/]" for c in cells),
                end_section=True,
            )
    out.print(table)
    if len(points) > max_points:
        out.print(f"... {len(points) - max_points} more points in report.html")


@app.command()
@friendly_errors
def compare(
    results_folder: Path = typer.Argument(..., metavar="RESULTS", help="a results/<name>/ folder"),
    plan_a: str = typer.Option(None, "--a", help="first plan (default: bottom-up, or the first)"),
    plan_b: str = typer.Option(None, "--b", help="second plan (default: top-down, or the second)"),
) -> None:
    """Compare plans from stored results: outcomes with 95% CIs and paired differences.

    Also writes RESULTS/report.html (curves with bands, outcome vs swept parameter, and for
    2-D sweeps a heatmap of where one plan beats the other).

    Example:  adoptsim compare results/default --a hybrid --b top-down
    """
    from sim.results import store
    from sim.results.compare import Results, html_report

    stored = Results(results_folder)
    plan_a, plan_b = chosen_pair(stored, plan_a, plan_b)
    # the report first: a reader that stops early (`| head`) must not cost the report
    store.write_text(html_report(stored, plan_a, plan_b), results_folder / "report.html")
    print_comparison(stored, plan_a, plan_b)
    out.print(f"report: {results_folder / 'report.html'}")


def chosen_pair(stored, plan_a: str | None, plan_b: str | None) -> tuple[str, str]:
    """The two plans to compare: --a and --b where given, else the defaults.

    Both must exist, and --a and --b must not name the same plan. A plan left out is taken
    from the defaults, never equal to the one given (unless the folder has only one plan,
    whose outcomes are then shown alone).
    """
    from sim.results.compare import default_pair

    for plan in (plan_a, plan_b):
        if plan is not None and plan not in stored.plans:
            raise ScenarioError(f"{stored.folder}: no plan {plan!r}; plans: {stored.plans}")
    if plan_a is not None and plan_a == plan_b:
        raise ScenarioError(
            f"--a and --b both name plan {plan_a!r}; compare two different plans "
            f"(plans: {stored.plans})"
        )
    default_a, default_b = default_pair(stored.plans)
    if plan_a is None and plan_b is None:
        return default_a, default_b
    given = plan_a if plan_a is not None else plan_b
    others = [p for p in (default_a, default_b, *stored.plans) if p != given] or [given]
    return (given, others[0]) if plan_a is not None else (others[0], given)


def main() -> None:
    app()


@app.command()
@friendly_errors
def viz(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    plan: str = typer.Option(
        None, help="plan to start with (default: the first); the page can switch plans"
    ),
    port: int = typer.Option(8765, min=1, max=65535, help="port to serve on"),
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
) -> None:
    """Watch one plan of SCENARIO in the browser: the Mesa (SolaraViz) view of the
    reference engine, with the org network, live plots, controls and an employee inspector.

    Works offline: Solara's front-end files come from a local cache (.cache/solara-cdn),
    filled once from npm (`make viz-assets`).  Stop it with Ctrl-C.

    Example:  adoptsim viz scenarios/default.toml --plan hybrid --port 8765
    """
    from sim.viz import serve
    from sim.viz.model import ViewSpec

    spec = ViewSpec.load(scenario, plan)  # bad scenario / unknown plan: exit 2 here
    try:
        env = serve.server_env(scenario, spec.plan)
    except RuntimeError as error:
        err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    url = f"http://{host}:{port}/"
    out.print(
        f"{spec.scenario.name}: plan {spec.plan} ({spec.prepared[0].org.n:,} employees) "
        f"at [bold]{url}[/]  (Ctrl-C stops)"
    )
    raise typer.Exit(code=serve.run(env, port, host))
