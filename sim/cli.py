"""The ``adoptsim`` command line (also ``python -m sim``)."""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
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
            err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
        TextColumn("left"), TimeRemainingColumn(), console=err, transient=False,
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
            rows = table_data.filter((table_data["plan"] == plan) & (table_data["outcome"] == column))
            cells.append(format_cell(rows.row(0, named=True)))
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
    from sim import store
    from sim.report import html_report
    from sim.runner import build_orgs, engines, run_scenario

    if engine not in engines():
        raise ScenarioError(f"--engine {engine!r}: allowed: {', '.join(engines())}")
    loaded = load_scenario(scenario)
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
        page = html_report(loaded.name, loaded.description, output.trajectories,
                           output.departments, output.summary, n, manifest)
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
        free = (f"{c.freemium.workspace}, {c.freemium.free_seats} free seats, "
                f"trial {c.freemium.trial_weeks}w" if c.freemium.enabled else "off")
        mandate = (f"week {c.mandate.week}, {c.mandate.scope}, compliance {c.mandate.compliance}"
                   if c.mandate.enabled else "off")
        deal = f"at {c.enterprise.threshold:.0%}" if c.enterprise.enabled else "off"
        table.add_row(
            item.plan.name,
            f"{c.org.generator}: {item.org.n:,} people, {item.org.graph.number_of_edges():,} ties, "
            f"{len(item.org.department_names)} depts",
            c.adoption.rule, f"{c.seeding.strategy} x{c.seeding.count}", free, mandate, deal,
        )
    out.print(table)
    c0 = prepared[0].config
    out.print(f"weeks {c0.weeks}, replicates {c0.replicates}, seed {c0.seed}: OK")


def main() -> None:
    app()
