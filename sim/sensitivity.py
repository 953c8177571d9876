"""Which assumptions move the answer: Morris screening and Sobol indices (SALib) over a
scenario's ``[sensitivity]`` table, run on the batched engine.

Each sample of the design sets the named parameters on the chosen plan(s) and runs
``replicates`` replicates with the scenario's seed, so every sample sees the same org and
the same random numbers (common random numbers: differences between samples are the
parameters', not the dice's).  The output per sample is an outcome's mean over replicates
for one plan, or the mean paired difference of two plans (A - B, replicate by replicate).
Several outcomes can be named: each gets its own indices from the same runs.

Morris (1991; Campolongo et al. 2007): ``mu_star`` (mean absolute elementary effect, with
its bootstrap confidence), ``sigma`` (interactions or non-linearity).  Sobol (Saltelli
2002): first-order ``S1`` and total ``ST`` indices with their confidence.  Outcomes a run
does not reach (e.g. weeks to 50% when it never gets there) are left out of the replicate
mean; a sample where no replicate reaches it is counted (``undefined``) and given the mean
of the other samples, which the report says: prefer outcomes every run defines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sim.engines.batched import simulate_batched
from sim.engines.runner import PreparedPlan
from sim.metrics import summarize
from sim.scenario import Scenario
from sim.scenario.schema import Sensitivity, with_parameters


@dataclass
class SensitivityResult:
    """The design, each sample's output, and the indices ranked by importance."""

    spec: Sensitivity
    samples: pl.DataFrame  # one row per sample: the parameters, then one column per outcome
    indices: pl.DataFrame  # per outcome (in the spec's order) one row per parameter, ranked
    undefined: dict[str, int]  # per outcome: samples no replicate defines (given the mean)


def design(spec: Sensitivity) -> np.ndarray:
    """The sample matrix (samples x parameters) of the chosen method, seeded."""
    problem = _problem(spec)
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, spec.trajectories, num_levels=4, seed=spec.seed)
    from SALib.sample import sobol

    return sobol.sample(problem, spec.trajectories, calc_second_order=False, seed=spec.seed)


def _problem(spec: Sensitivity) -> dict[str, Any]:
    return {
        "num_vars": len(spec.parameters),
        "names": list(spec.parameters),
        "bounds": [list(bounds) for bounds in spec.parameters.values()],
    }


def evaluate(
    spec: Sensitivity,
    prepared: dict[str, PreparedPlan],
    samples: np.ndarray,
    on_sample: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Every sample's output, one column per outcome (NaN where no replicate defines it)."""
    replicates = list(range(spec.replicates))
    outputs = np.empty((len(samples), len(spec.outcomes)))
    for k, row in enumerate(samples):
        values = dict(zip(spec.parameters, row.tolist(), strict=True))
        per_plan = []
        for plan in spec.plans:
            item = prepared[plan]
            config = with_parameters(item.config, values)
            trajectories, departments = simulate_batched(config, item.org, replicates)
            tags = [pl.lit(plan).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
            summary = summarize(
                trajectories.with_columns(tags), departments.with_columns(tags), item.org.n
            )
            per_plan.append(summary.sort("replicate"))
        for j, outcome in enumerate(spec.outcomes):
            first = per_plan[0][outcome].cast(pl.Float64)
            values_k = first if len(per_plan) == 1 else first - per_plan[1][outcome]
            values_k = values_k.drop_nulls().drop_nans()
            outputs[k, j] = float(values_k.mean()) if values_k.len() else np.nan
        if on_sample is not None:
            on_sample(k + 1)
    return outputs


BOOTSTRAP_RESAMPLES = 1000  # of the Morris mu_star confidence (SALib's default is 100)


def analyse(spec: Sensitivity, samples: np.ndarray, outputs: np.ndarray) -> pl.DataFrame:
    """One outcome's indices, most important first (Morris: by mu_star; Sobol: by ST)."""
    problem = _problem(spec)
    if spec.method == "morris":
        from SALib.analyze import morris

        result = morris.analyze(
            problem,
            samples,
            outputs,
            num_resamples=BOOTSTRAP_RESAMPLES,
            num_levels=4,
            seed=spec.seed,
        )
        frame = pl.DataFrame(
            {
                "parameter": list(spec.parameters),
                "mu_star": np.asarray(result["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
                "mu": np.asarray(result["mu"], dtype=float),
                "sigma": np.asarray(result["sigma"], dtype=float),
            }
        )
        return frame.sort("mu_star", descending=True, maintain_order=True)
    from SALib.analyze import sobol

    result = sobol.analyze(problem, outputs, calc_second_order=False, seed=spec.seed)
    frame = pl.DataFrame(
        {
            "parameter": list(spec.parameters),
            "S1": np.asarray(result["S1"], dtype=float),
            "S1_conf": np.asarray(result["S1_conf"], dtype=float),
            "ST": np.asarray(result["ST"], dtype=float),
            "ST_conf": np.asarray(result["ST_conf"], dtype=float),
        }
    )
    return frame.sort("ST", descending=True, maintain_order=True)


def run_sensitivity(
    scenario: Scenario,
    prepared: list[PreparedPlan],
    on_sample: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Run the scenario's ``[sensitivity]`` study (``on_sample(done, total)`` for progress)."""
    spec = scenario.sensitivity
    assert spec is not None
    by_name = {item.plan.name: item for item in prepared}
    samples = design(spec)
    total = len(samples)
    outputs = evaluate(
        spec, by_name, samples, (lambda k: on_sample(k, total)) if on_sample else None
    )
    undefined = {}
    parts = []
    for j, outcome in enumerate(spec.outcomes):
        column = outputs[:, j]
        defined = ~np.isnan(column)
        undefined[outcome] = int((~defined).sum())
        filled = np.where(defined, column, np.nanmean(column) if defined.any() else 0.0)
        ranked = analyse(spec, samples, filled)
        parts.append(ranked.select(pl.lit(outcome).alias("outcome"), pl.all()))
    frame = pl.DataFrame(
        {
            **{path: samples[:, j] for j, path in enumerate(spec.parameters)},
            **{outcome: outputs[:, j] for j, outcome in enumerate(spec.outcomes)},
        }
    )
    return SensitivityResult(
        spec=spec, samples=frame, indices=pl.concat(parts), undefined=undefined
    )


def direction(spec: Sensitivity, outcome: str, mu: float) -> str:
    """What raising a parameter does, in words, from the sign of its mean elementary effect
    and which way the outcome is better: 'favours bottom-up' (a plan difference),
    'improves it' / 'worsens it' (one plan), 'raises it' / 'lowers it' (no better way)."""
    from sim.results.outcomes import BETTER

    better = BETTER.get(outcome)
    if mu == 0:
        return "no net direction"
    if better is None:
        return "raises it" if mu > 0 else "lowers it"
    good = (mu > 0) == (better == "higher")
    if len(spec.plans) == 2:
        return f"favours {spec.plans[0] if good else spec.plans[1]}"
    return "improves it" if good else "worsens it"


def indices_figure(result: SensitivityResult):
    """The ranked chart, one panel per outcome: Morris mu* bars with their 95% confidence,
    coloured (and hatched) by what raising the parameter does to the outcome, and sigma as
    diamonds; Sobol total-order ST and first-order S1 bars with their confidence."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from sim.palette import DIVERGING, LINE

    spec = result.spec
    outcomes = spec.outcomes
    fig = make_subplots(
        rows=1,
        cols=len(outcomes),
        subplot_titles=[spec.target_of(o) for o in outcomes],
        horizontal_spacing=min(0.2, 0.45 / len(outcomes)),  # room for the next panel's names
    )
    shown: set[str] = set()

    def once(name: str) -> bool:
        new = name not in shown
        shown.add(name)
        return new

    for col, outcome in enumerate(outcomes, start=1):
        frame = result.indices.filter(pl.col("outcome") == outcome)
        order = frame["parameter"].to_list()[::-1]  # plotly draws the first at the bottom
        if spec.method == "morris":
            words = [direction(spec, outcome, mu) for mu in frame["mu"]]
            kinds = list(dict.fromkeys(words))
            for kind in kinds:
                part = frame.filter(pl.Series(words) == kind)
                good = kind in ("improves it", f"favours {spec.plans[0]}")
                neutral = kind in ("raises it", "lowers it", "no net direction")
                fig.add_trace(
                    go.Bar(
                        y=part["parameter"].to_list(),
                        x=part["mu_star"].to_list(),
                        orientation="h",
                        name=f"mu*: raising it {kind}",
                        legendgroup=kind,
                        showlegend=once(kind),
                        error_x={"type": "data", "array": part["mu_star_conf"].to_list()},
                        marker={
                            "color": LINE if neutral else DIVERGING[0 if good else 2],
                            "pattern": {"shape": "" if good or neutral else "/"},
                        },
                    ),
                    1,
                    col,
                )
            fig.add_trace(
                go.Scatter(
                    y=frame["parameter"].to_list(),
                    x=frame["sigma"].to_list(),
                    mode="markers",
                    marker={"symbol": "diamond", "size": 9, "color": "black"},
                    name="sigma (interactions, non-linearity)",
                    legendgroup="sigma",
                    showlegend=once("sigma"),
                ),
                1,
                col,
            )
            axis = "mu* (mean |elementary effect|)"
        else:
            for column, colour, label in (
                ("ST", DIVERGING[2], "ST (total, with interactions)"),
                ("S1", DIVERGING[0], "S1 (first order)"),
            ):
                fig.add_trace(
                    go.Bar(
                        y=frame["parameter"].to_list(),
                        x=frame[column].to_list(),
                        orientation="h",
                        name=label,
                        legendgroup=column,
                        showlegend=once(column),
                        error_x={"type": "data", "array": frame[f"{column}_conf"].to_list()},
                        marker_color=colour,
                    ),
                    1,
                    col,
                )
            axis = "share of the variance"
        fig.update_yaxes(categoryorder="array", categoryarray=order, row=1, col=col)
        fig.update_xaxes(title_text=axis, row=1, col=col)
    height = max(380, 220 + 28 * len(spec.parameters))
    top, bottom = 100, 130
    fig.update_layout(
        title=f"Which assumptions move {spec.target} ({spec.method.title()})",
        barmode="overlay" if spec.method == "morris" else "group",
        height=height,
        margin={"l": 200, "t": top, "b": bottom},
        # below the axis titles: 60 px under the plot area, whatever the height
        legend={"orientation": "h", "y": -60 / (height - top - bottom), "yanchor": "top"},
    )
    return fig


def sensitivity_page(scenario: Scenario, result: SensitivityResult) -> str:
    """A self-contained HTML page (plotly.js embedded: it opens offline)."""
    import html

    spec = result.spec
    fig = indices_figure(result)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in result.indices.iter_rows()
    )
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.indices.columns)
    undefined = "".join(
        f"<p>{count} of {result.samples.height} samples had no replicate defining "
        f"{html.escape(outcome)} and were given the mean of the others.</p>"
        for outcome, count in result.undefined.items()
        if count
    )
    about = (
        f"<p>{html.escape(scenario.name)}: {spec.method.title()} over "
        f"{len(spec.parameters)} parameters, {result.samples.height} samples, "
        f"{spec.replicates} replicates per sample (common random numbers, seed "
        f"{scenario.plans[0].config.seed}; design seed {spec.seed}). Output per sample: the "
        f"mean of {html.escape(spec.target)} over replicates. Bars are ranked; error bars "
        "are 95% bootstrap confidence intervals of each index. "
        + (
            "mu &gt; 0: raising the parameter raises the output (the bar's colour says "
            "whether that is better, or which plan it favours); sigma large next to mu*: "
            "its effect depends on the others (interactions) or is not linear.</p>"
            if spec.method == "morris"
            else "S1: the share of the output's variance the parameter explains alone; ST: "
            "with its interactions.</p>"
        )
    )
    width = 1100 if len(spec.outcomes) == 1 else 1600
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>adoptsim sensitivity: {html.escape(scenario.name)}</title>"
        f"<style>body{{font-family:sans-serif;max-width:{width}px;margin:auto;padding:1em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}</style>"
        "</head><body>"
        f"<h1>Sensitivity: {html.escape(spec.target)}</h1>{about}{undefined}"
        + fig.to_html(full_html=False, include_plotlyjs=True)
        + f"<table><tr>{head}</tr>{rows}</table></body></html>"
    )
