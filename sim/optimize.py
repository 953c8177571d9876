"""Search a plan's levers for the best outcome under a budget: ``adoptsim optimize``.

Optuna's TPE sampler (seeded) proposes values for the levers of ``[optimize]`` (ranges and
lists of choices); each candidate plan runs ``replicates`` replicates on the batched engine
with the scenario's seed, so every candidate sees the same org and the same random
numbers (common random numbers: candidates differ by their levers, not by luck).  A budget
is a constraint (mean total cost of ownership at most ``budget``), handled by the sampler,
and a candidate the schema refuses (e.g. a mandate after the last week) is pruned.

The winner is then re-run, with the plan as written, on ``confirm_replicates`` fresh
replicates (numbers the search never saw: a search picks winners partly by luck on its
own replicates, and fresh ones remove that optimism), and the paired difference
winner − plan as written is reported with its 95% CI.

With two objectives (e.g. engaged share against total cost) the search is for their Pareto
front: the same TPE sampler in its multi-objective form (MOTPE; it learns from a few dozen
trials, where NSGA-II's generations would need hundreds), the front read off the feasible
trials, and every point of it re-run on the fresh replicates with a CI per objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import ValidationError

from sim.engines.batched import simulate_batched
from sim.engines.runner import PreparedPlan
from sim.metrics import summarize
from sim.results.stats import mean_ci
from sim.scenario import Config, Scenario
from sim.scenario.schema import Optimize, with_values

FRESH = 1_000_000  # confirmation replicates start here: streams the search never used


@dataclass
class OptimizeResult:
    """Every trial, the winner's levers, and its confirmation against the plan as written.
    Two objectives: ``front`` holds the Pareto front's points, each confirmed; ``best`` is
    then the front's best point for the first objective."""

    spec: Optimize
    trials: pl.DataFrame  # one row per trial: levers, objective(s), total cost, state
    best: dict[str, Any]  # the winner's lever values
    confirm: dict[str, Any]  # winner and baseline means, their paired difference and CI
    front: list[dict[str, Any]] = field(default_factory=list)  # Pareto front, confirmed


def outcomes(config: Config, prepared: PreparedPlan, replicates: list[int]) -> pl.DataFrame:
    """One summary row per replicate of ``config`` on the plan's org."""
    trajectories, departments = simulate_batched(config, prepared.org, replicates)
    tags = [pl.lit(prepared.plan.name).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
    return summarize(
        trajectories.with_columns(tags), departments.with_columns(tags), prepared.org.n
    ).sort("replicate")


def _suggest(trial, path: str, lever: Any, config: Config) -> Any:
    """The trial's value for one lever: a choice, an integer or a float in its range."""
    if isinstance(lever, list):
        return trial.suggest_categorical(path, lever)
    low, high = lever
    current = config
    for part in path.split("."):
        current = getattr(current, part)
    if isinstance(current, bool) or not isinstance(current, int | float):
        return trial.suggest_float(path, float(low), float(high))
    if isinstance(current, int):
        return trial.suggest_int(path, int(round(low)), int(round(high)))
    return trial.suggest_float(path, float(low), float(high))


def search(
    scenario: Scenario,
    prepared: list[PreparedPlan],
    on_trial: Callable[[int, int], None] | None = None,
) -> OptimizeResult:
    """Run the scenario's ``[optimize]`` search and confirm its winner."""
    import optuna

    spec = scenario.optimize
    assert spec is not None
    (item,) = [p for p in prepared if p.plan.name == spec.plan]
    base = item.config
    replicates = list(range(spec.replicates))
    rows: list[dict[str, Any]] = []

    def objective(trial) -> float:
        values = {path: _suggest(trial, path, lever, base) for path, lever in spec.levers.items()}
        try:
            config = with_values(base, values)
        except ValidationError:
            rows.append({**values, "state": "not allowed"})
            raise optuna.TrialPruned() from None
        summary = outcomes(config, item, replicates)
        scores = [mean_of(summary, name) for name in spec.objectives]
        cost = float(summary["total_cost"].mean())
        feasible = spec.budget is None or cost <= spec.budget
        # feasible when <= 0: the sampler learns to stay within the budget
        trial.set_constraint("budget", 0.0 if spec.budget is None else cost - spec.budget)
        rows.append(
            {
                **values,
                "state": "feasible" if feasible else "over budget",
                **dict(zip(VALUE_COLUMNS, scores, strict=False)),
                "total_cost": cost,
            }
        )
        if on_trial is not None:
            on_trial(trial.number + 1, spec.trials)
        # an objective undefined in every replicate (never reached) is the worst there is
        worst = [float("-inf") if d == "maximize" else float("inf") for d in spec.directions]
        told = [w if v != v else v for v, w in zip(scores, worst, strict=True)]
        return tuple(told) if spec.pareto else told[0]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec.seed)  # multi-objective (MOTPE) for two
    study = optuna.create_study(directions=list(spec.directions), sampler=sampler)
    study.optimize(objective, n_trials=spec.trials, catch=())
    trials = pl.DataFrame(rows, infer_schema_length=None)
    feasible = trials.filter(pl.col("state") == "feasible") if "state" in trials.columns else trials
    scored_columns = VALUE_COLUMNS[: len(spec.directions)]  # both objectives for a front
    defined = [pl.col(c).is_not_nan() for c in scored_columns if c in trials.columns]
    if len(defined) < len(scored_columns) or feasible.filter(pl.all_horizontal(defined)).is_empty():
        from sim.errors import AdoptsimError

        raise AdoptsimError(
            f"{scenario.source}: optimize: no trial of {spec.trials} was within the budget "
            "and defined the objective; raise the budget, widen the levers or add trials"
        )
    if spec.pareto:
        return pareto_result(spec, item, trials)
    ranked = feasible.filter(pl.col("value").is_not_nan()).sort(
        "value", descending=spec.direction == "maximize"
    )
    best = {path: ranked[path][0] for path in spec.levers}
    return OptimizeResult(spec, trials, best, confirm(spec, item, best))


VALUE_COLUMNS = ("value", "value_2")  # the trials' columns of the first and second objective


def mean_of(summary: pl.DataFrame, outcome: str) -> float:
    """An outcome's mean over the replicates that define it; NaN when none does."""
    mean = summary[outcome].drop_nulls().mean()
    return float(mean) if mean is not None else float("nan")


def pareto_front(points: list[tuple[float, ...]], directions: tuple[str, ...]) -> list[int]:
    """Indices of the points no other point dominates (at least as good in every
    objective and better in one, each read in its direction); equal points are all kept."""
    signs = [1.0 if d == "maximize" else -1.0 for d in directions]
    scored = [tuple(s * v for s, v in zip(signs, p, strict=True)) for p in points]
    return [
        i
        for i, a in enumerate(scored)
        if not any(all(x >= y for x, y in zip(b, a, strict=True)) and b != a for b in scored)
    ]


def pareto_result(spec: Optimize, item: PreparedPlan, trials: pl.DataFrame) -> OptimizeResult:
    """Two objectives: mark the feasible trials on the Pareto front, and confirm each
    distinct front point (and the plan as written) on the same fresh replicates."""
    trials = trials.with_row_index("trial")
    scored = trials.filter(
        (pl.col("state") == "feasible")
        & pl.col("value").is_not_nan()
        & pl.col("value_2").is_not_nan()
    )
    points = list(zip(scored["value"].to_list(), scored["value_2"].to_list(), strict=True))
    on_front = scored["trial"].gather(pareto_front(points, spec.directions)).to_list()
    trials = trials.with_columns(pareto=pl.col("trial").is_in(on_front)).drop("trial")
    front = trials.filter(pl.col("pareto")).unique(subset=list(spec.levers), maintain_order=True)
    front = front.sort("value", descending=spec.direction == "maximize")
    fresh = list(range(FRESH, FRESH + spec.confirm_replicates))
    baseline = outcomes(item.config, item, fresh)
    points_confirmed = []
    for row in front.iter_rows(named=True):
        levers = {path: row[path] for path in spec.levers}
        confirmed = outcomes(with_values(item.config, levers), item, fresh)
        cells = {}
        for name in spec.objectives:
            mean, low, high = mean_ci(confirmed[name].to_list())
            pairs = (confirmed[name] - baseline[name]).to_list()
            d_mean, d_low, d_high = mean_ci(pairs)
            cells[name] = {
                "search": row[VALUE_COLUMNS[spec.objectives.index(name)]],
                "mean": mean,
                "low": low,
                "high": high,
                "difference": {"mean": d_mean, "low": d_low, "high": d_high},
            }
        cost = float(confirmed["total_cost"].mean())
        points_confirmed.append({"levers": levers, "objectives": cells, "total_cost": cost})
    means = [tuple(p["objectives"][n]["mean"] for n in spec.objectives) for p in points_confirmed]
    kept = set(pareto_front(means, spec.directions))
    for k, point in enumerate(points_confirmed):
        point["on_front_confirmed"] = k in kept
    as_written = {}
    for name in spec.objectives:
        mean, low, high = mean_ci(baseline[name].to_list())
        as_written[name] = {"mean": mean, "low": low, "high": high}
    confirm = {
        "replicates": len(fresh),
        "as_written": as_written,
        "as_written_total_cost": float(baseline["total_cost"].mean()),
    }
    best = points_confirmed[0]["levers"] if points_confirmed else {}
    return OptimizeResult(spec, trials, best, confirm, points_confirmed)


def confirm(spec: Optimize, item: PreparedPlan, best: dict[str, Any]) -> dict[str, Any]:
    """The winner and the plan as written on fresh replicates, paired."""
    fresh = list(range(FRESH, FRESH + spec.confirm_replicates))
    winner = outcomes(with_values(item.config, best), item, fresh)
    baseline = outcomes(item.config, item, fresh)
    pairs = (winner[spec.objective] - baseline[spec.objective]).to_list()
    out: dict[str, Any] = {"replicates": len(fresh)}
    for name, frame in (("winner", winner), ("as_written", baseline)):
        mean, low, high = mean_ci(frame[spec.objective].to_list())
        cost = frame["total_cost"].mean()
        out[name] = {"mean": mean, "low": low, "high": high, "total_cost": cost}
    mean, low, high = mean_ci(pairs)
    out["difference"] = {"mean": mean, "low": low, "high": high}
    return out


def number(x: float) -> str:
    """A value as people read it: 36,870 for large numbers, 0.647 for shares."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def optimize_page(scenario: Scenario, result: OptimizeResult) -> str:
    """A self-contained page: the objective of every trial (best so far drawn over it),
    each lever against the objective, and the confirmed winner."""
    import html

    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    spec = result.spec
    if spec.pareto:
        return pareto_page(scenario, result)
    trials = result.trials.with_row_index("trial")
    scored = (
        trials.filter(pl.col("state") != "not allowed") if "state" in trials.columns else trials
    )
    levers = list(spec.levers)
    fig = make_subplots(
        rows=1,
        cols=1 + len(levers),
        subplot_titles=["objective by trial", *levers],
        horizontal_spacing=0.06,
    )
    feasible = scored.filter(pl.col("state") == "feasible")
    over = scored.filter(pl.col("state") == "over budget")
    best_so_far = []
    current = None
    for state, value in zip(scored["state"], scored["value"], strict=True):
        if state == "feasible" and value == value:
            better = current is None or (
                value > current if spec.direction == "maximize" else value < current
            )
            current = value if better else current
        best_so_far.append(current)
    fig.add_trace(
        go.Scatter(
            x=feasible["trial"],
            y=feasible["value"],
            mode="markers",
            name="within budget",
            marker={"color": "#0072B2"},
        ),
        row=1,
        col=1,
    )
    if over.height:
        fig.add_trace(
            go.Scatter(
                x=over["trial"],
                y=over["value"],
                mode="markers",
                name="over budget",
                marker={"color": "#D55E00", "symbol": "x"},
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=scored["trial"],
            y=best_so_far,
            mode="lines",
            name="best so far",
            line={"color": "#000000", "shape": "hv"},
        ),
        row=1,
        col=1,
    )
    for col, path in enumerate(levers, start=2):
        fig.add_trace(
            go.Scatter(
                x=feasible[path],
                y=feasible["value"],
                mode="markers",
                showlegend=False,
                marker={"color": "#0072B2"},
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(title_text=spec.objective, row=1, col=1)
    fig.update_layout(height=420, legend={"orientation": "h", "y": -0.2})
    c = result.confirm
    best = ", ".join(f"{html.escape(k)} = {html.escape(str(v))}" for k, v in result.best.items())
    budget = f"; budget {spec.budget:,.0f}" if spec.budget is not None else ""

    def interval(cell: dict[str, float]) -> str:
        return f"{number(cell['mean'])} [{number(cell['low'])}, {number(cell['high'])}]"

    summary = (
        f"<p>Plan <b>{html.escape(spec.plan)}</b>, {spec.direction} "
        f"<b>{html.escape(spec.objective)}</b>{budget}: {result.trials.height} trials of "
        f"{spec.replicates} replicates each (common random numbers, seed "
        f"{scenario.plans[0].config.seed}; sampler seed {spec.seed}).</p>"
        f"<p>Best levers: {best}.</p>"
        f"<p>Confirmed on {c['replicates']} fresh replicates: winner "
        f"{interval(c['winner'])} (total cost {c['winner']['total_cost']:,.0f}) vs the plan "
        f"as written {interval(c['as_written'])} (total cost "
        f"{c['as_written']['total_cost']:,.0f}); paired difference "
        f"{interval(c['difference'])}.</p>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>adoptsim optimize: {html.escape(scenario.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}</style>"
        f"</head><body><h1>Optimize {html.escape(spec.plan)}: {html.escape(spec.objective)}</h1>"
        + summary
        + fig.to_html(full_html=False, include_plotlyjs=True)
        + "</body></html>"
    )


def pareto_page(scenario: Scenario, result: OptimizeResult) -> str:
    """Two objectives: one chart of every trial (first objective against the second), the
    Pareto front as the search saw it, and each front point confirmed on fresh replicates
    with its 95% CI on both axes; then the front as a table."""
    import html

    import plotly.graph_objects as go

    spec = result.spec
    first, second = spec.objectives
    trials = result.trials
    scored = trials.filter(pl.col("state") != "not allowed")
    fig = go.Figure()
    for state, color, symbol in (
        ("feasible", "#999999", "circle"),
        ("over budget", "#D55E00", "x"),
    ):
        part = scored.filter((pl.col("state") == state) & ~pl.col("pareto"))
        if part.height:
            fig.add_trace(
                go.Scatter(
                    x=part["value_2"],
                    y=part["value"],
                    mode="markers",
                    name="trial" if state == "feasible" else "trial over budget",
                    marker={"color": color, "symbol": symbol, "size": 7},
                )
            )
    front = scored.filter(pl.col("pareto")).sort("value_2")
    fig.add_trace(
        go.Scatter(
            x=front["value_2"],
            y=front["value"],
            mode="lines+markers",
            name=f"Pareto front ({spec.replicates} search replicates)",
            line={
                "color": "#0072B2",
                "shape": "hv" if spec.directions[1] == "minimize" else "linear",
            },
            marker={"color": "#0072B2", "size": 9},
        )
    )
    points = result.front
    if points:
        xs = [p["objectives"][second] for p in points]
        ys = [p["objectives"][first] for p in points]
        fig.add_trace(
            go.Scatter(
                x=[c["mean"] for c in xs],
                y=[c["mean"] for c in ys],
                mode="markers",
                name=f"front point on {result.confirm['replicates']} fresh replicates (95% CI)",
                marker={"color": "#009E73", "symbol": "diamond", "size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [c["high"] - c["mean"] for c in xs],
                    "arrayminus": [c["mean"] - c["low"] for c in xs],
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [c["high"] - c["mean"] for c in ys],
                    "arrayminus": [c["mean"] - c["low"] for c in ys],
                },
            )
        )
    written = result.confirm["as_written"]
    fig.add_trace(
        go.Scatter(
            x=[written[second]["mean"]],
            y=[written[first]["mean"]],
            mode="markers",
            name="the plan as written (fresh replicates)",
            marker={"color": "#000000", "symbol": "star", "size": 13},
        )
    )
    if spec.budget is not None and second == "total_cost":
        fig.add_vline(x=spec.budget, line_dash="dot", annotation_text="budget")
    fig.update_layout(
        title=f"{first} ({spec.directions[0]}) against {second} ({spec.directions[1]})",
        xaxis_title=second,
        yaxis_title=first,
        height=560,
        legend={"orientation": "h", "y": -0.18},
    )

    def interval(cell: dict[str, float]) -> str:
        return f"{number(cell['mean'])} [{number(cell['low'])}, {number(cell['high'])}]"

    head = "".join(f"<th>{html.escape(p)}</th>" for p in spec.levers)
    rows = []
    for point in points:
        levers = "".join(f"<td>{html.escape(str(v))}</td>" for v in point["levers"].values())
        cells = "".join(
            f"<td>{number(point['objectives'][n]['search'])}</td>"
            f"<td>{interval(point['objectives'][n])}</td>"
            for n in spec.objectives
        )
        kept = "yes" if point["on_front_confirmed"] else "no (dominated on fresh replicates)"
        rows.append(f"<tr>{levers}{cells}<td>{kept}</td></tr>")
    objective_heads = "".join(
        f"<th>{html.escape(n)}: search</th><th>{html.escape(n)}: fresh replicates [95% CI]</th>"
        for n in spec.objectives
    )
    budget = f"; budget {spec.budget:,.0f}" if spec.budget is not None else ""
    as_written = ", ".join(f"{html.escape(n)} {interval(written[n])}" for n in spec.objectives)
    summary = (
        f"<p>Plan <b>{html.escape(spec.plan)}</b>: {spec.directions[0]} "
        f"<b>{html.escape(first)}</b> and {spec.directions[1]} <b>{html.escape(second)}</b>"
        f"{budget}. {trials.height} trials of {spec.replicates} replicates each (common random "
        f"numbers, seed {scenario.plans[0].config.seed}; multi-objective TPE, sampler seed "
        f"{spec.seed}). {len(points)} distinct lever settings are on the Pareto front of the "
        "feasible trials (none better in both objectives); each was re-run on "
        f"{result.confirm['replicates']} fresh replicates. The plan as written: {as_written}."
        "</p>"
    )
    table = (
        f"<table><tr>{head}{objective_heads}<th>still on the front</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>adoptsim optimize: {html.escape(scenario.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>"
        f"</head><body><h1>Optimize {html.escape(spec.plan)}: the Pareto front of "
        f"{html.escape(first)} and {html.escape(second)}</h1>"
        + summary
        + fig.to_html(full_html=False, include_plotlyjs=True)
        + "<h2>The front, confirmed</h2>"
        + table
        + "</body></html>"
    )
