"""The ``adoptsim`` command line (also ``python -m sim``)."""

from __future__ import annotations

import functools
import json
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
out = Console()
err = Console(stderr=True)


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
    from sim.report import OUTCOMES, format_cell, outcome_table

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
            cells.append(format_cell(table_data.filter(mask).row(0, named=True)))
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
) -> None:
    """Run every plan of SCENARIO with R replicates; write results/<name>/ and print a summary.

    Example:  adoptsim run scenarios/default.toml --replicates 10
    """
    from sim.runner import build_orgs, engines, run_scenario

    if engine not in engines():
        raise ScenarioError(f"--engine {engine!r}: allowed: {', '.join(engines())}")
    loaded = load_scenario(scenario)  # a bad file fails here, before the heavier imports
    from sim import store
    from sim.report import html_report

    prepared = build_orgs(loaded)
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

    target = store.publish(results / loaded.name, fill)
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
    from sim.runner import build_orgs

    loaded = load_scenario(scenario)
    prepared = build_orgs(loaded)
    if as_json:
        out.print_json(json.dumps(loaded.resolved(), default=str))
        return
    table = Table(title=f"{scenario}: {loaded.name} (hash {loaded.digest()})", title_justify="left")
    for column in ("plan", "org", "rule", "seeding", "freemium", "mandate", "enterprise"):
        table.add_column(column)
    for item in prepared:
        c = item.config
        free = (
            f"{c.freemium.workspace}, {c.freemium.free_seats} free seats, "
            f"trial {c.freemium.trial_weeks}w"
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
    out.print(f"weeks {c0.weeks}, replicates {c0.replicates}, seed {c0.seed}: OK")


@app.command()
@friendly_errors
def sweep(
    scenario: Path = typer.Argument(..., help="scenario TOML file with a [sweep] table"),
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

    Killed half-way? Run the same command again: only unfinished tasks are redone.

    Example:  adoptsim sweep scenarios/freemium_sweep.toml --workers 2
    """
    from sim import store
    from sim import sweep as sweeps
    from sim.compare import Results, default_pair, html_report
    from sim.runner import engines

    if engine not in engines():
        raise ScenarioError(f"--engine {engine!r}: allowed: {', '.join(engines())}")
    loaded = load_scenario(scenario)
    sweeps.check_orgs(loaded)
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise ScenarioError(f"--scheduler {scheduler!r}: expected an address like tcp://HOST:PORT")
    tasks = sweeps.make_tasks(loaded, replicates, engine)
    folder = results / loaded.name
    manifest = sweeps.prepare_folder(folder, loaded, tasks, engine, force)
    sweeps.clean_partial_writes(folder)
    todo = [t for t in tasks if not sweeps.is_done(folder, t)]
    if not todo and (folder / "summary.parquet").exists():
        out.print(f"{folder}: all {len(tasks)} tasks already done; nothing to do (--force redoes)")
        return
    where = scheduler or f"{workers or sweeps.default_workers()} local worker(s)"
    out.print(
        f"{loaded.name}: {len(loaded.plans)} plan(s) x {len(loaded.points)} point(s): "
        f"{len(tasks)} tasks, {len(tasks) - len(todo)} already done; running on {where}"
    )
    clock = time.perf_counter()
    with progress_bar() as bar:
        task_bar = bar.add_task(
            "tasks", total=len(tasks), completed=len(tasks) - len(todo), rate=""
        )

        def done(receipt: dict) -> None:
            finished = bar.tasks[task_bar].completed + 1 - (len(tasks) - len(todo))
            rate = finished / max(time.perf_counter() - clock, 1e-9)
            bar.update(task_bar, advance=1, rate=f"{rate:.2f} tasks/s")

        if scheduler:
            sweeps.execute_dask(todo, folder, scheduler, done)
        else:
            sweeps.execute_local(todo, folder, workers or sweeps.default_workers(), done)
    sweeps.finish_folder(folder, manifest, tasks)
    store.write_parquet(sweeps.points_frame(loaded), folder / "points.parquet")
    stored = Results(folder)
    plan_a, plan_b = default_pair(stored.plans)
    store.write_text(html_report(stored, plan_a, plan_b), folder / "report.html")
    print_comparison(stored, plan_a, plan_b)
    out.print(f"results: {folder}/  (report.html, summary.parquet, parts/)")


def print_comparison(stored, plan_a: str, plan_b: str, max_points: int = 20) -> None:
    from sim.compare import COMPARED, format_interval, outcome_rows, paired_differences

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
            cells = [
                next(
                    r
                    for r in outcomes
                    if r["point"] == point and r["plan"] == plan and r["outcome"] == c
                )
                for c, _, _ in COMPARED
            ]
            table.add_row(plan, *(format_interval(c) for c in cells))
        if diffs:
            cells = [
                next(r for r in diffs if r["point"] == point and r["outcome"] == c)
                for c, _, _ in COMPARED
            ]
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
    from sim import store
    from sim.compare import Results, default_pair, html_report

    stored = Results(results_folder)
    default_a, default_b = default_pair(stored.plans)
    plan_a, plan_b = plan_a or default_a, plan_b or default_b
    for plan in (plan_a, plan_b):
        if plan not in stored.plans:
            raise ScenarioError(f"{results_folder}: no plan {plan!r}; plans: {stored.plans}")
    print_comparison(stored, plan_a, plan_b)
    store.write_text(html_report(stored, plan_a, plan_b), results_folder / "report.html")
    out.print(f"report: {results_folder / 'report.html'}")


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
