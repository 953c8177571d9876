"""Which assumptions move the answer: Morris screening and Sobol indices (SALib) over a
scenario's ``[sensitivity]`` table, run on the batched engine.

Each sample of the design sets the named parameters on the chosen plan(s) and runs
``replicates`` replicates with the scenario's seed, so every sample sees the same org and
the same random numbers (common random numbers: differences between samples are the
parameters', not the dice's).  The output per sample is the outcome's mean over replicates
for one plan, or the mean paired difference of two plans (A - B, replicate by replicate).

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
    samples: pl.DataFrame  # one row per sample: the parameters and the output
    indices: pl.DataFrame  # one row per parameter, most important first
    undefined: int  # samples where no replicate defines the outcome (given the mean)


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
    """The output of every sample (NaN where no replicate defines the outcome)."""
    replicates = list(range(spec.replicates))
    outputs = np.empty(len(samples))
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
            per_plan.append(summary.sort("replicate")[spec.outcome].cast(pl.Float64))
        values_k = per_plan[0] if len(per_plan) == 1 else per_plan[0] - per_plan[1]
        values_k = values_k.drop_nulls().drop_nans()
        outputs[k] = float(values_k.mean()) if values_k.len() else np.nan
        if on_sample is not None:
            on_sample(k + 1)
    return outputs


def analyse(spec: Sensitivity, samples: np.ndarray, outputs: np.ndarray) -> pl.DataFrame:
    """The indices, most important first (Morris: by mu_star; Sobol: by ST)."""
    problem = _problem(spec)
    if spec.method == "morris":
        from SALib.analyze import morris

        result = morris.analyze(problem, samples, outputs, num_levels=4, seed=spec.seed)
        frame = pl.DataFrame(
            {
                "parameter": list(spec.parameters),
                "mu_star": np.asarray(result["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
                "mu": np.asarray(result["mu"], dtype=float),
                "sigma": np.asarray(result["sigma"], dtype=float),
            }
        )
        return frame.sort("mu_star", descending=True)
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
    return frame.sort("ST", descending=True)


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
    defined = ~np.isnan(outputs)
    undefined = int((~defined).sum())
    filled = np.where(defined, outputs, np.nanmean(outputs) if defined.any() else 0.0)
    indices = analyse(spec, samples, filled)
    frame = pl.DataFrame(
        {**{path: samples[:, j] for j, path in enumerate(spec.parameters)}, "output": outputs}
    )
    return SensitivityResult(spec=spec, samples=frame, indices=indices, undefined=undefined)


def indices_figure(result: SensitivityResult):
    """The ranked chart: one bar per parameter (mu_star or total-order ST; first-order S1
    beside it for Sobol), with its 95% confidence as an error bar."""
    import plotly.graph_objects as go

    frame = result.indices.reverse()  # plotly draws the first bar at the bottom
    names = frame["parameter"].to_list()
    fig = go.Figure()
    if result.spec.method == "morris":
        fig.add_trace(
            go.Bar(
                y=names,
                x=frame["mu_star"].to_list(),
                orientation="h",
                name="mu* (mean |elementary effect|)",
                error_x={"type": "data", "array": frame["mu_star_conf"].to_list()},
                marker_color="#0072B2",
            )
        )
        axis = f"mu*: mean absolute effect on {result.spec.target}"
    else:
        for column, colour, label in (
            ("ST", "#0072B2", "ST (total, with interactions)"),
            ("S1", "#E69F00", "S1 (first order)"),
        ):
            fig.add_trace(
                go.Bar(
                    y=names,
                    x=frame[column].to_list(),
                    orientation="h",
                    name=label,
                    error_x={"type": "data", "array": frame[f"{column}_conf"].to_list()},
                    marker_color=colour,
                )
            )
        axis = f"share of the variance of {result.spec.target}"
    fig.update_layout(
        title=f"Which assumptions move {result.spec.target} ({result.spec.method.title()})",
        xaxis_title=axis,
        barmode="group",
        height=max(320, 60 + 40 * len(names)),
        margin={"l": 220},
        legend={"orientation": "h", "y": -0.2},
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
    undefined = (
        f"<p>{result.undefined} of {result.samples.height} samples had no replicate "
        "defining the outcome and were given the mean of the others.</p>"
        if result.undefined
        else ""
    )
    about = (
        f"<p>{html.escape(scenario.name)}: {spec.method.title()} over "
        f"{len(spec.parameters)} parameters, {result.samples.height} samples, "
        f"{spec.replicates} replicates per sample (common random numbers, seed "
        f"{scenario.plans[0].config.seed}; design seed {spec.seed}). Output per sample: the "
        f"mean of {html.escape(spec.target)} over replicates. Bars are ranked; error bars "
        "are 95% bootstrap confidence intervals of each index. "
        + (
            "mu &gt; 0: raising the parameter raises the output; sigma large next to mu*: "
            "its effect depends on the others (interactions) or is not linear.</p>"
            if spec.method == "morris"
            else "S1: the share of the output's variance the parameter explains alone; ST: "
            "with its interactions.</p>"
        )
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>adoptsim sensitivity: {html.escape(scenario.name)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child{text-align:left}</style></head><body>"
        f"<h1>Sensitivity: {html.escape(spec.target)}</h1>{about}{undefined}"
        + fig.to_html(full_html=False, include_plotlyjs=True)
        + f"<table><tr>{head}</tr>{rows}</table></body></html>"
    )
