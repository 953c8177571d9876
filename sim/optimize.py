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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
    """Every trial, the winner's levers, and its confirmation against the plan as written."""

    spec: Optimize
    trials: pl.DataFrame  # one row per trial: levers, objective, total cost, feasible, state
    best: dict[str, Any]  # the winner's lever values
    confirm: dict[str, Any]  # winner and baseline means, their paired difference and CI


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
        mean = summary[spec.objective].drop_nulls().mean()  # None: no replicate defines it
        value = float(mean) if mean is not None else float("nan")
        cost = float(summary["total_cost"].mean())
        feasible = spec.budget is None or cost <= spec.budget
        # feasible when <= 0: the sampler learns to stay within the budget
        trial.set_constraint("budget", 0.0 if spec.budget is None else cost - spec.budget)
        rows.append(
            {
                **values,
                "state": "feasible" if feasible else "over budget",
                "value": value,
                "total_cost": cost,
            }
        )
        if on_trial is not None:
            on_trial(trial.number + 1, spec.trials)
        if value != value:  # the objective is undefined in every replicate (never reached)
            return float("-inf") if spec.direction == "maximize" else float("inf")
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=spec.seed)
    study = optuna.create_study(direction=spec.direction, sampler=sampler)
    study.optimize(objective, n_trials=spec.trials, catch=())
    trials = pl.DataFrame(rows, infer_schema_length=None)
    feasible = trials.filter(pl.col("state") == "feasible") if "state" in trials.columns else trials
    if "value" not in trials.columns or feasible.filter(pl.col("value").is_not_nan()).is_empty():
        from sim.errors import AdoptsimError

        raise AdoptsimError(
            f"{scenario.source}: optimize: no trial of {spec.trials} was within the budget "
            "and defined the objective; raise the budget, widen the levers or add trials"
        )
    ranked = feasible.filter(pl.col("value").is_not_nan()).sort(
        "value", descending=spec.direction == "maximize"
    )
    best = {path: ranked[path][0] for path in spec.levers}
    return OptimizeResult(spec, trials, best, confirm(spec, item, best))


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
