"""The ``adoptsim`` command line (also ``python -m sim``)."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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

from sim.errors import AdoptsimError

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
        except AdoptsimError as error:
            # escape: the message ends with an "[allowed range]" hint, not a rich style tag
            err.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=error.exit_code) from None

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


@contextmanager
def counting(label: str, unit: str, digits: int = 1) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for a study that reports (done, total) as it goes; yields the
    callback to hand it, which also shows the rate in ``unit`` per second."""
    clock = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(label, total=None, rate="")

        def advance(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - clock, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:.{digits}f} {unit}/s")

        yield advance


def print_summary(summary, title: str) -> None:
    """``adoptsim run``'s table: outcome rows, one column per plan (narrow at 80 columns)."""
    from sim.results.outcomes import describe
    from sim.results.report import RUN_OUTCOMES, outcome_table
    from sim.results.terminal import summary_tables

    table_data = outcome_table(summary)
    plans = summary["plan"].unique(maintain_order=True).to_list()
    rows = {(r["plan"], r["outcome"]): r for r in table_data.iter_rows(named=True)}
    labels = [(c, describe(c).label) for c in RUN_OUTCOMES if c in table_data["outcome"]]
    for renderable in summary_tables(out, rows, plans, labels, title):
        out.print(renderable)


def decision_rows(summary, where) -> list[tuple[str, str, str, str]]:
    """The report's verdicts in short, one row per ranked outcome: (outcome, verdict, best
    minus runner-up paired [95% CI] vs the runner-up, replicate pairs k/R); ``where``:
    the results' currency and horizon (``outcomes.money``)."""
    from sim.results.outcomes import format_interval, unit
    from sim.results.report import verdicts
    from sim.results.verdict import verdict

    plans = summary["plan"].unique(maintain_order=True).to_list()
    rows = []
    for entry, gap in verdicts(summary, plans):
        lead = ""
        if gap is not None:
            lead = f"{format_interval({**gap, 'replicates': 0}, signed=True)} vs {gap['b']}"
        pairs = f"{gap['n']}/{gap['replicates']}" if gap is not None else ""
        money_unit = where.currency in unit(entry["outcome"], where)
        label = entry["label"] + (f" ({where.currency})" if money_unit else "")
        rows.append((label, verdict(entry), lead, pairs))
    return rows


def print_decision(summary, folder: Path) -> None:
    """``adoptsim run``'s verdicts after its table: per outcome the winning plan (or no
    clear winner) and its paired lead over the runner-up, as report.html's first table."""
    from rich.table import Table

    from sim.results import store
    from sim.results.outcomes import money

    if summary["plan"].n_unique() < 2:
        return
    where = money(store.read_json(folder / store.MANIFEST))
    table = Table(title="Decision (paired over replicates; report.html says more)")
    for column in ("outcome", "verdict", "lead over the runner-up [95% CI]", "pairs"):
        table.add_column(column, overflow="fold")
    for row in decision_rows(summary, where):
        table.add_row(*row)
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
    posterior: Path = typer.Option(
        None,
        help="a fit's posterior.parquet: each replicate draws its parameters from it, so the "
        "intervals carry parameter uncertainty",
    ),
) -> None:
    """Run every plan of SCENARIO with R replicates; write results/<name>/ and print a summary.

    A scenario's \\[sweep] table is not run here (only its base plans): use adoptsim sweep.

    Example:  adoptsim run scenarios/default.toml --replicates 10
    """
    from sim import api

    loaded = api.load_scenario(scenario)  # a bad file fails here, before the heavier imports
    api.check_engine(engine, "--engine")
    api.check_replicates(replicates, "--replicates")
    target = api.results_folder(results, loaded.name, "--results")
    prepared = api.prepare(loaded)  # the scenario is checked whole before its folder
    api.refuse_to_replace_sweep(target, force)
    if loaded.sweep is not None:
        note = (
            f"note: {scenario} has a [sweep] table: `run` runs the base plans only; "
            "`adoptsim sweep` runs the grid"
        )
        err.print(escape(note), highlight=False, soft_wrap=True)
    total = sum(replicates or p.config.replicates for p in prepared)
    clock = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"{loaded.name}: plans x replicates", total=total, rate="")

        def advance(k: int) -> None:
            done = bar.tasks[task].completed + k
            rate = done / max(time.perf_counter() - clock, 1e-9)
            bar.update(task, advance=k, rate=f"{rate:.1f} runs/s")

        result = api.run(
            loaded, engine, replicates, advance, prepared=prepared, posterior=posterior
        )
    target = result.save(results, force=force)
    sizes = sorted(set(result.employees.values()))
    size = f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}-{sizes[-1]:,}"
    print_summary(result.summary, f"{loaded.name}: {size} employees")
    print_decision(result.summary, target)
    if posterior is not None:
        out.print(
            f"intervals are over replicates and posterior draws from {posterior}: they carry "
            "parameter uncertainty (each replicate's draw is the same for every plan)",
            highlight=False,
            soft_wrap=True,
        )
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
    from sim import api
    from sim.scenario import MECHANISMS

    def department_sizes(org) -> str:
        """': Engineering 900, Sales 650, ...': an org chart's departments, largest first."""
        sizes = [int((org.department == d).sum()) for d in range(len(org.department_names))]
        order = sorted(range(len(sizes)), key=lambda d: (-sizes[d], org.department_names[d]))
        shown = ", ".join(f"{org.department_names[d]} {sizes[d]:,}" for d in order[:12])
        return ": " + shown + (", ..." if len(order) > 12 else "")

    loaded = api.load_scenario(scenario)
    prepared = api.prepare(loaded)  # every plan at every sweep point, as `sweep` checks them
    if as_json:
        out.print_json(json.dumps(loaded.resolved(), default=str))
        return

    def org_line(item) -> str:
        org = item.org
        return (
            f"{item.config.org.generator}: {org.n:,} people, "
            f"{len(org.ties):,} ties, {len(org.department_names)} depts"
            + (department_sizes(org) if item.config.org.generator == "chart" else "")
        )

    def actions_text(config) -> str:
        return "; ".join(a.summary() for a in config.plan_actions()) or "none"

    def overrides_text(config) -> str:
        parts = []
        for name, override in config.departments.items():
            changed = [
                f"{field} {value}"
                for section in (override.adoption, override.tool, override.freemium)
                for field, value in section.model_dump().items()
                if value is not None
            ]
            parts.append(f"{name}: {', '.join(changed)}")
        return "; ".join(parts) or "none"

    title = f"{scenario}: {loaded.name} (hash {loaded.digest()})"
    shared_org = all(item.org is prepared[0].org for item in prepared)
    if shared_org:
        out.print(f"org (all plans) {org_line(prepared[0])}", highlight=False)
    table = Table(title=title, title_justify="left")
    # one row per mechanism, from the schema's declarations (Section.summary)
    table.add_column("")
    for item in prepared:
        table.add_column(item.plan.name)
    rows = [("org", [org_line(item) for item in prepared])] if not shared_org else []
    rows += [(s, [getattr(p.config, s).summary() for p in prepared]) for s in MECHANISMS]
    rows += [
        ("actions", [actions_text(p.config) for p in prepared]),
        ("departments", [overrides_text(p.config) for p in prepared]),
        ("costs", [p.config.costs.summary() for p in prepared]),
    ]
    differ = [(name, cells) for name, cells in rows if len(set(cells)) > 1]
    for name, cells in rows:  # what every plan shares: one line each, the table stays narrow
        if len(set(cells)) == 1 and len(prepared) > 1:
            out.print(f"{name} (all plans): {cells[0]}", highlight=False, soft_wrap=True)
    for name, cells in differ if len(prepared) > 1 else rows:
        table.add_row(name, *cells)
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
    posterior: Path = typer.Option(
        None,
        help="a fit's posterior.parquet: each replicate draws its parameters from it (the "
        "same draw for every plan and point), so the intervals carry parameter uncertainty",
    ),
) -> None:
    """Run every plan x sweep point x replicate; resumable, parallel, streamed to Parquet.

    Killed half-way (or stopped with SIGTERM)? Run the same command again: only unfinished
    tasks are redone.

    Example:  adoptsim sweep scenarios/freemium_sweep.toml --workers 2
    """
    from sim import api

    api.check_engine(engine, "--engine")
    api.check_replicates(replicates, "--replicates")
    api.check_scheduler(scheduler, "--scheduler")
    loaded = api.load_scenario(scenario)
    folder = api.results_folder(results, loaded.name, "--results")
    clock = time.perf_counter()
    with progress_bar() as bar:
        bars: list = []

        def started(line: str, total: int, already: int) -> None:
            out.print(line)
            bars.append(bar.add_task("tasks", total=total, completed=already, rate=""))
            bars.append(already)

        def done(receipt: dict) -> None:
            task_bar, already = bars
            finished = bar.tasks[task_bar].completed + 1 - already
            rate = finished / max(time.perf_counter() - clock, 1e-9)
            bar.update(task_bar, advance=1, rate=f"{rate:.2f} tasks/s")

        try:
            result = api.sweep(
                loaded,
                results,
                workers,
                scheduler,
                replicates,
                engine,
                force,
                started,
                done,
                posterior,
            )
        except api.SweepStopped as stop:
            err.print(
                f"stopped by SIGTERM: {stop.finished} of {stop.total} tasks done and kept in "
                f"{stop.folder}; run the same command again (without --force) to finish the rest",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=143) from None
    if result.ran == 0 and result.already_done == result.tasks:
        out.print(
            f"{folder}: all {result.tasks} tasks already done; nothing to do (--force redoes)"
        )
        return
    from sim.results.compare import Results, default_pair

    stored = Results(folder)
    print_comparison(stored, *default_pair(stored.plans))
    if posterior is not None:
        out.print(
            f"intervals are over replicates and posterior draws from {posterior}: they carry "
            "parameter uncertainty (each replicate's draw is the same for every plan and point)",
            highlight=False,
            soft_wrap=True,
        )
    out.print(f"results: {folder}/  (report.html, summary.parquet, parts/)")


def print_comparison(stored, plan_a: str, plan_b: str, max_points: int = 20) -> None:
    """The terminal table: per point, plans A and B and their paired difference A − B."""
    from sim.results.compare import compared, find_row, outcome_rows, paired_differences
    from sim.results.terminal import pair_tables

    plans = [plan_a] if plan_a == plan_b else [plan_a, plan_b]
    columns = compared(stored)
    outcomes = outcome_rows(stored, [c for c, _, _ in columns], plans)
    diffs = paired_differences(stored, plan_a, plan_b) if plan_a != plan_b else []
    title = f"paired difference {plan_a} − {plan_b}" if diffs else f"plan {plan_a}"
    points = stored.points["point"].to_list()
    shown = [(p, stored.point_label(p) if stored.parameters else "") for p in points]
    for renderable in pair_tables(
        out,
        f"{stored.manifest['scenario']['name']}: mean [95% CI] per plan; {title}",
        [(c, label) for c, label, _ in columns],
        shown[:max_points],
        plans,
        lambda point, column, plan: find_row(outcomes, point, column, plan),
        lambda point, column: find_row(diffs, point, column),
    ):
        out.print(renderable)
    if len(points) > max_points:
        out.print(f"... {len(points) - max_points} more points in the page")


def print_ranking(stored, ranked: list, max_points: int = 20) -> None:
    """The terminal table without --a/--b: per point and outcome, every plan best first,
    its paired difference to the best, and the verdict (a winner only where CIs say so)."""
    from sim.results.compare import verdict, win_shares
    from sim.results.terminal import ranking_tables

    name = stored.manifest["scenario"]["name"]
    points = stored.points["point"].to_list()
    if len(points) > 1:
        print_wins(win_shares(ranked, stored.plans), stored.plans, name)
    shown = [(p, stored.point_label(p) if stored.parameters else "") for p in points]
    for renderable in ranking_tables(out, name, ranked, shown[:max_points], verdict):
        out.print(renderable)
    if len(points) > max_points:
        out.print(f"... {len(points) - max_points} more points in the page")


def print_wins(shares: dict, plans: list[str], name: str) -> None:
    """Sweeps: per outcome, the points each plan wins clearly, their share and its 95%
    Wilson interval."""
    from sim.results.compare import describe, win_cell
    from sim.results.terminal import wins_tables

    title = f"{name}: sweep points won clearly, per outcome (share, 95% Wilson interval)"
    for renderable in wins_tables(out, title, shares, plans, describe, win_cell):
        out.print(renderable)


def print_folders(compared) -> None:
    """The two-folder table: per shared plan and outcome, A, B and B − A with its CI."""
    from sim.results.compare import direction_note
    from sim.results.terminal import folder_tables

    a, b = compared.a, compared.b
    how = f"{'paired' if compared.paired else 'Welch'}: {compared.why}"
    title = f"A = {a.folder}, B = {b.folder}: mean [95% CI]; B − A ({how})"

    def where(row: dict) -> str:
        return row["plan"] + (f" @ {a.point_label(row['point'])}" if a.parameters else "")

    for renderable in folder_tables(out, title, compared.rows, where, direction_note):
        out.print(renderable)


@app.command()
@friendly_errors
def compare(
    results_folder: Path = typer.Argument(..., metavar="RESULTS", help="a results/<name>/ folder"),
    other: Path = typer.Argument(
        None,
        metavar="OTHER",
        help="a second results folder of the same org: compare the two folders plan by plan",
    ),
    plan_a: str = typer.Option(None, "--a", help="plan A of a pair (default: rank every plan)"),
    plan_b: str = typer.Option(None, "--b", help="plan B of a pair (default: rank every plan)"),
    out_page: Path = typer.Option(
        None,
        "--out",
        help="where the page goes (default: RESULTS/compare.html; with OTHER: "
        "RESULTS/compare-<OTHER's name>.html)",
    ),
) -> None:
    """Compare plans from stored results, with 95% CIs and paired differences; write a page.

    Without --a/--b: every plan is ranked on every outcome, with its paired difference to
    the best; a plan wins an outcome only when the CI of every other plan's difference to
    it excludes 0 ("no clear winner" otherwise).  With --a and/or --b: that pair, A − B.
    With a second folder OTHER (same org, e.g. base vs calibrated): each shared plan's
    outcomes in both and OTHER − RESULTS with its CI (paired when the seeds and
    replicates are the same, else Welch's).

    Writes RESULTS/compare.html (curves with bands, outcome charts, outcome vs swept
    parameter, 2-D heatmaps); RESULTS/report.html, the run's or sweep's own, is never
    changed.

    Example:  adoptsim compare results/default --a hybrid --b top-down

    Example:  adoptsim compare results/default results/calibrated
    """
    from sim import api
    from sim.results.compare import reading

    # the page first: a reader that stops early (`| head`) must not cost the page
    if other is not None:
        if plan_a is not None or plan_b is not None:
            raise AdoptsimError(
                "--a/--b choose a pair of plans within one folder; with two folders every "
                "plan they share is compared"
            )
        folders = api.compare_folders(results_folder, other, out_page)
        with reading(results_folder), reading(other):
            print_folders(folders)
        out.print(f"report: {folders.page}", soft_wrap=True)
        return
    done = api.compare(results_folder, plan_a, plan_b, out_page)
    with reading(results_folder):
        if done.pair is None:
            print_ranking(done.results, done.ranked)
        else:
            print_comparison(done.results, *done.pair)
            if done.results.manifest.get("posterior"):
                print_draw_wins(done.results, *done.pair)
    out.print(f"report: {done.page}", soft_wrap=True)


def print_draw_wins(stored, plan_a: str, plan_b: str) -> None:
    """A posterior run or sweep: in what share of plausible worlds (posterior draws) A
    beats B, per outcome (and sweep point)."""
    from sim.results.compare import draw_wins

    table = Table(
        title=f"plausible worlds (posterior draws, one per replicate): {plan_a} better than "
        f"{plan_b}",
        title_justify="left",
    )
    sweep = stored.points.height > 1
    columns = ("point",) * sweep + ("outcome", "worlds where A is better", "share [95% Wilson]")
    for column in columns:
        table.add_column(column, justify="left" if column in ("point", "outcome") else "right")
    last = None
    for row in draw_wins(stored, plan_a, plan_b):
        where = stored.point_label(row["point"]) if sweep else None
        table.add_row(
            *((escape(where) if where != last else "",) if sweep else ()),
            row["label"],
            f"{row['wins']} of {row['worlds']}",
            f"{row['share']:.0%} [{row['low']:.0%}, {row['high']:.0%}]",
        )
        last = where
    out.print(table)


@app.command()
@friendly_errors
def export(
    results_folder: Path = typer.Argument(..., metavar="RESULTS", help="a results/<name>/ folder"),
    to: Path = typer.Option(
        None, "--to", help="table file: .xlsx (Excel) or .csv; one row per plan x outcome"
    ),
    figures: Path = typer.Option(
        None, "--figures", help="folder for the report's charts as PNG and SVG"
    ),
    reference: str = typer.Option(
        None, help="plan the paired differences are taken to (default: bottom-up, or the first)"
    ),
) -> None:
    """Export stored results for stakeholders: a table (.xlsx or .csv) and/or the charts.

    The table has one row per plan \\[x sweep point] x outcome: plan, point (and the swept
    parameters), outcome, label, unit, mean, ci_low, ci_high, k (replicates defining the
    outcome), R (replicates), and the paired difference to --reference with its CI.
    --figures writes the report's charts as PNG and SVG (drawn by Debian's chromium).

    Example:  adoptsim export results/default --to summary.xlsx --figures figures/
    """
    from sim import api

    done = api.export(results_folder, to, figures, reference)
    if done.table is not None:
        versus = f"; differences to {done.reference}" if done.reference else ""
        out.print(f"table: {done.table} ({done.rows} rows{versus})", soft_wrap=True)
    if done.figures:
        out.print(f"figures: {len(done.figures)} files in {figures}/", soft_wrap=True)


@app.command()
@friendly_errors
def sensitivity(
    scenario: Path = typer.Argument(..., help="scenario TOML file with a \\[sensitivity] table"),
    results: Path = typer.Option(
        Path("results"), help="folder that receives results/<name>-sensitivity/"
    ),
    force: bool = typer.Option(
        False, "--force", help="replace the folder even if it holds other results"
    ),
) -> None:
    """Which assumptions move the answer: Morris screening or Sobol indices (SALib) over
    the parameters SCENARIO's \\[sensitivity] table names, for one plan's outcome(s) or the
    paired difference of two plans.  Prints the ranked indices with their confidence and
    writes results/<name>-sensitivity/ (indices.parquet, samples.parquet, sensitivity.html).

    Example:  adoptsim sensitivity scenarios/sensitivity.toml
    """
    import polars as pl

    from sim import api
    from sim.sensitivity import direction

    loaded = api.load_scenario(scenario)
    prepared = api.prepare(loaded)
    with counting(f"{loaded.name}: samples", "samples") as advance:
        result, target = api.sensitivity(loaded, results, force, advance, prepared)
    spec = result.spec
    morris = spec.method == "morris"
    for outcome in spec.outcomes:  # one table per outcome, so the names keep their width
        table = Table(
            title=f"{loaded.name}: {spec.method.title()} indices for {spec.target_of(outcome)} "
            f"({result.samples.height} samples x {spec.replicates} replicates), most "
            "important first",
            title_justify="left",
        )
        part = result.indices.filter(pl.col("outcome") == outcome).drop("outcome")
        width = max(len(name) for name in part["parameter"])
        for column in part.columns:
            if column == "parameter":  # the names are what is read: never cut
                table.add_column(column, no_wrap=True, min_width=width)
            else:
                table.add_column(column, justify="right")
        if morris:
            table.add_column("raising it", justify="left")
        for row in part.iter_rows(named=True):
            cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()]
            if morris:
                cells.append(direction(spec, outcome, row["mu"]))
            table.add_row(*cells)
        out.print(table)
    for outcome, count in result.undefined.items():
        if count:
            out.print(
                f"note: {count} samples had no replicate defining {outcome}; "
                "they were given the mean of the others"
            )
    out.print(f"results: {target}/  (sensitivity.html, indices.parquet, samples.parquet)")


@app.command()
@friendly_errors
def optimize(
    scenario: Path = typer.Argument(..., help="scenario TOML file with an \\[optimize] table"),
    results: Path = typer.Option(
        Path("results"), help="folder that receives results/<name>-optimize/"
    ),
    force: bool = typer.Option(
        False, "--force", help="replace the folder even if it holds other results"
    ),
) -> None:
    """Search a plan's levers (\\[optimize.levers]: ranges and choices) for the best
    objective under an optional budget, with Optuna's TPE sampler on common random
    numbers; then confirm the winner against the plan as written on fresh replicates.

    With two objectives (objective = ["final_active_share", "total_cost"]) it searches
    their Pareto front and confirms every point of it on fresh replicates.

    Example:  adoptsim optimize scenarios/optimize.toml
    """
    from sim import api

    loaded = api.load_scenario(scenario)
    prepared = api.prepare(loaded)
    with counting(f"{loaded.name}: trials", "trials", digits=2) as advance:
        result, target = api.optimize(loaded, results, force, advance, prepared)
    from sim.optimize import number

    if result.spec.pareto:
        print_front(loaded.name, result)
        out.print(f"results: {target}/  (optimize.html, trials.parquet, best.json)")
        return
    spec, c = result.spec, result.confirm
    scored = result.trials.filter(pl_col_is("feasible"))
    table = Table(
        title=f"{loaded.name}: best {spec.plan} candidates for {spec.objective} "
        f"({spec.direction}, {spec.replicates} replicates each)",
        title_justify="left",
    )
    for column in (*spec.levers, spec.objective, "total cost"):
        table.add_column(column, justify="right")
    ranked = scored.sort("value", descending=spec.direction == "maximize").head(5)
    for row in ranked.iter_rows(named=True):
        cells = [f"{row[p]:.4g}" if isinstance(row[p], float) else str(row[p]) for p in spec.levers]
        table.add_row(*cells, number(row["value"]), f"{row['total_cost']:,.0f}")
    out.print(table)

    def interval(cell: dict) -> str:
        return f"{number(cell['mean'])} [{number(cell['low'])}, {number(cell['high'])}]"

    out.print(
        f"confirmed on {c['replicates']} fresh replicates: winner {interval(c['winner'])}, "
        f"as written {interval(c['as_written'])}, paired difference "
        f"{interval(c['difference'])}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"results: {target}/  (optimize.html, trials.parquet, best.json)")


def print_front(name: str, result) -> None:
    """Two objectives: the Pareto front, each point with its search values and its
    confirmation on fresh replicates."""
    from sim.optimize import number

    spec, c = result.spec, result.confirm
    table = Table(
        title=f"{name}: Pareto front of {spec.plan}, {spec.directions[0]} {spec.objectives[0]} "
        f"and {spec.directions[1]} {spec.objectives[1]} ({len(result.front)} points; "
        f"confirmed on {c['replicates']} fresh replicates: mean [95% CI])",
        title_justify="left",
    )
    for column in (*spec.levers, *spec.objectives, "still on front"):
        table.add_column(column, justify="right")
    for point in result.front:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in point["levers"].values()]
        for objective in spec.objectives:
            cell = point["objectives"][objective]
            cells.append(f"{number(cell['mean'])} [{number(cell['low'])}, {number(cell['high'])}]")
        table.add_row(*cells, "yes" if point["on_front_confirmed"] else "no")
    out.print(table)
    written = ", ".join(f"{n} {number(c['as_written'][n]['mean'])}" for n in spec.objectives)
    out.print(f"the plan as written: {written}", highlight=False, soft_wrap=True)


def pl_col_is(state: str):
    """A polars filter: trials in ``state``."""
    import polars as pl

    return pl.col("state") == state


@app.command()
@friendly_errors
def fit(
    scenario: Path = typer.Argument(..., help="scenario TOML file with a \\[fit] table"),
    observed: Path = typer.Option(
        ..., "--observed", help="CSV of observed weekly counts: week, active[, licensed, ...]"
    ),
    scope: list[str] = typer.Option(
        None,
        "--scope",
        help="the pilot whose active count was observed: a department or team name "
        "(repeat the option; department:NAME or team:NAME where a name is both)",
    ),
    employees: str = typer.Option(
        None,
        "--employees",
        help="the pilot's employees (with or instead of --scope): a file of employee ids "
        "(one per line, or a CSV with an employee_id column) or ids separated by commas",
    ),
    results: Path = typer.Option(Path("results"), help="folder that receives results/<name>-fit/"),
    force: bool = typer.Option(
        False, "--force", help="replace the folder even if it holds other results"
    ),
) -> None:
    """Calibrate a plan to a pilot: ABC-SMC (pyabc) over the parameters SCENARIO's \\[fit]
    table names, with the batched engine as the simulator.  Prints the posterior (mean and
    95% credible interval), says which parameters the data cannot tell apart, and writes
    results/<name>-fit/ (posterior.parquet, fit.html with marginals, a pair plot and the
    observed curve against posterior-predictive bands).

    A pilot inside the org (--scope, --employees): the whole org is simulated and the
    pilot's engaged users are compared with the observed ones.

    Example:  adoptsim fit scenarios/pilot_fit.toml --observed scenarios/pilot_observed.csv

    Example:  adoptsim fit S.toml --observed pilot.csv --scope Sales --scope team:Platform
    """
    from sim import api
    from sim.fit import identifiability

    loaded = api.load_scenario(scenario)
    prepared = api.prepare(loaded)
    with progress_bar() as bar:
        bar.add_task(f"{loaded.name}: ABC-SMC", total=None, rate="")
        result, target = api.fit(
            loaded, observed, list(scope or []), results, force, prepared, employees
        )
    table = Table(
        title=f"{loaded.name}: posterior of {result.spec.plan} ({result.generations} "
        f"generations of {result.spec.population} particles, tolerance {result.epsilon:.3g})",
        title_justify="left",
    )
    for column in ("parameter", "posterior mean", "95% credible interval"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for row in result.summary.iter_rows(named=True):
        table.add_row(
            row["parameter"], f"{row['mean']:.4g}", f"[{row['low']:.4g}, {row['high']:.4g}]"
        )
    out.print(table)
    for note in identifiability(result):
        out.print(f"identifiability: {note}", highlight=False, soft_wrap=True)
    out.print(f"results: {target}/  (fit.html, posterior.parquet)")


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
