"""Study 8: simulation-based calibration of ``adoptsim fit``. Does its 90% credible
interval cover the truth about 90% of the time?

    .venv/bin/python experiments/calibration.py      (part of `make experiments`)

The pilot of scenarios/pilot_fit.toml (400-person hierarchy, 8 random champions, engaged
users observed for 8 weeks) and its ``[fit]`` priors (p log-uniform on [0.002, 0.1], q
uniform on [0.05, 0.9]). For each of FITS synthetic pilots:

1. a truth (p, q) is drawn from those priors (``sim.fit.draw_prior``, seeded per pilot);
2. adoptsim simulates the pilot at the truth on the batched engine (one replicate, on a
   stream no fit ever uses), and its weekly engaged users are written as the observed CSV;
3. ``sim.fit.fit`` fits it (ABC-SMC, pyabc) with the scenario's own budget (POPULATION
   particles, GENERATIONS generations; fit seed = pilot number): about 30 s of CPU per
   fit, so FITS fits take about 8 minutes on 2 worker processes.

Per parameter: the share of fits whose equal-tailed 90% credible interval covers the truth,
with a 95% Wilson interval (a binomial proportion of FITS fits), and the same at 50% and
95%. The posterior quantile of the truth (the weighted share of particles below it) is
uniform on [0, 1] when the fit is calibrated (Talts et al. 2018): too many truths in the
tails mean intervals too narrow (overconfident), too many in the middle too wide.
"""

from __future__ import annotations

import csv
import tempfile
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import polars as pl
from common import ROOT, Output
from plotly.subplots import make_subplots

from sim.engines.batched import simulate_batched
from sim.engines.runner import prepare
from sim.fit import credible_interval, draw_prior, read_observed
from sim.fit import fit as run_fit
from sim.results.stats import wilson
from sim.scenario import parse_scenario
from sim.scenario.schema import with_values

SCENARIO = "scenarios/pilot_fit.toml"
FITS = 30
POPULATION = 150  # particles per generation (as the scenario asks)
GENERATIONS = 6  # (as the scenario asks)
LEVELS = (0.5, 0.9, 0.95)
TRUTH_SEED = 8  # truths: numpy generator seeded (TRUTH_SEED, pilot)
PILOT_STREAMS = 1_000_000  # the synthetic pilots' replicate numbers (fits use 2,000,000+)
PILOT_WEEKS = 8  # observed weeks 0-8, as scenarios/pilot_observed.csv (the scenario projects 52)
WORKERS = 2


def scenario(pilot: int):
    """The example scenario with the calibration's fit budget and this pilot's fit seed."""
    with open(ROOT / SCENARIO, "rb") as handle:
        data = tomllib.load(handle)
    data["fit"] |= {"population": POPULATION, "generations": GENERATIONS, "seed": pilot}
    return parse_scenario(data, SCENARIO)


def one_fit(pilot: int) -> dict:
    """Draw a truth, simulate its pilot, fit it; the truth's place in the posterior."""
    started = time.process_time()
    loaded = scenario(pilot)
    spec = loaded.fit
    (item,) = [p for p in prepare(loaded) if p.plan.name == spec.plan]
    truth = draw_prior(spec, np.random.default_rng([TRUTH_SEED, pilot]))
    config = with_values(item.config, truth).model_copy(update={"weeks": PILOT_WEEKS})
    trajectories, _ = simulate_batched(config, item.org, [PILOT_STREAMS + pilot], threads=1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "observed.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["week", "active"])
            writer.writerows(trajectories.sort("week").select("week", "active").iter_rows())
        result = run_fit(loaded, [item], read_observed(path))
    posterior = result.posterior
    row: dict = {
        "pilot": pilot,
        "final_active": int(trajectories["active"][-1]),
        "generations": result.generations,
        "epsilon": result.epsilon,
        "cpu_s": time.process_time() - started,
    }
    weights = posterior["weight"].to_numpy()
    for name, value in truth.items():
        key = name.split(".")[-1]
        row[f"{key}_truth"] = value
        row[f"{key}_quantile"] = float(weights[posterior[name].to_numpy() < value].sum())
        for level in LEVELS:
            low, high = credible_interval(posterior, name, level)
            tag = f"{key}_{round(level * 100)}"
            row[f"{tag}_low"], row[f"{tag}_high"] = low, high
            row[f"{tag}_covers"] = bool(low <= value <= high)
    return row


def prior_width(loaded, name: str, level: float) -> float:
    """Width of the prior's central ``level`` interval (what a fit that learnt nothing gives)."""
    from sim.fit import _prior

    frozen = _prior(loaded.fit.parameters[name]).distribution
    return float(frozen.ppf(0.5 + level / 2) - frozen.ppf(0.5 - level / 2))


def main() -> None:
    out = Output("calibration")
    started = time.time()
    with ProcessPoolExecutor(WORKERS) as pool:
        rows = list(pool.map(one_fit, range(FITS)))
    wall = time.time() - started
    frame = pl.DataFrame(rows)
    out.table(frame, "fits")
    loaded = scenario(0)
    names = list(loaded.fit.parameters)
    weeks = PILOT_WEEKS
    context = (
        f"{SCENARIO}: {FITS} synthetic pilots (400 employees, weeks 0-{weeks}), truths "
        f"drawn from the [fit] priors (seed {TRUTH_SEED}); each fitted by ABC-SMC "
        f"(pyabc) with {POPULATION} particles x {GENERATIONS} generations, fit seed = pilot."
    )
    out.say(f"Setting: {context}")
    out.say(
        f"Run time: {wall:.0f} s wall on {WORKERS} worker processes "
        f"({frame['cpu_s'].sum():.0f} s CPU in the fits, {frame['cpu_s'].mean():.1f} s per fit)."
    )
    out.numbers.update(fits=FITS, wall_s=wall, cpu_s_per_fit=frame["cpu_s"].mean())
    table = []
    for name in names:
        key = name.split(".")[-1]
        for level in LEVELS:
            tag = f"{key}_{round(level * 100)}"
            k = int(frame[f"{tag}_covers"].sum())
            share, low, high = wilson(k, FITS)
            width = (frame[f"{tag}_high"] - frame[f"{tag}_low"]).mean()
            table.append(
                {
                    "parameter": name,
                    "level": level,
                    "covers": k,
                    "fits": FITS,
                    "share": share,
                    "low": low,
                    "high": high,
                    "mean_width": width,
                    "prior_width": prior_width(loaded, name, level),
                }
            )
    coverage = pl.DataFrame(table)
    out.table(coverage, "coverage")
    out.numbers["coverage"] = coverage.to_dicts()
    for row in coverage.filter(pl.col("level") == 0.9).iter_rows(named=True):
        verdict = (
            "consistent with 90%"
            if row["low"] <= 0.9 <= row["high"]
            else ("too wide (conservative)" if row["low"] > 0.9 else "too narrow (overconfident)")
        )
        out.say(
            f"**{row['parameter']}**: the 90% credible interval covers the truth in "
            f"{row['covers']} of {row['fits']} fits, {row['share']:.0%} "
            f"[{row['low']:.0%}, {row['high']:.0%}] (95% Wilson): {verdict}. Mean width "
            f"{row['mean_width']:.3g}, against {row['prior_width']:.3g} for the prior's own "
            "90% interval."
        )
    for name in names:
        key = name.split(".")[-1]
        u = frame[f"{key}_quantile"].to_numpy()
        tails = int(((u < 0.05) | (u > 0.95)).sum())
        middle = int(((u >= 0.25) & (u <= 0.75)).sum())
        out.numbers[f"{key}_quantiles"] = sorted(u.tolist())
        out.say(
            f"{name}: the truth's posterior quantile lies in the outer 10% in {tails} fits "
            f"(expected {0.1 * FITS:.0f} if calibrated) and in the middle 50% in {middle} "
            f"(expected {0.5 * FITS:.0f})."
        )
    figure(out, frame, coverage, names, context)
    out.finish("Study 8: simulation-based calibration of adoptsim fit")


def figure(out: Output, frame, coverage, names, context: str) -> None:
    """Left: each fit's 90% interval against its truth (sorted by truth); right: the
    coverage at each level with its Wilson interval against the nominal diagonal."""
    fig = make_subplots(
        rows=1,
        cols=len(names) + 1,
        subplot_titles=[f"{n}: 90% intervals and truths" for n in names]
        + ["coverage against nominal"],
        horizontal_spacing=0.08,
    )
    for c, name in enumerate(names, start=1):
        key = name.split(".")[-1]
        part = frame.sort(f"{key}_truth")
        x = list(range(part.height))
        covers = part[f"{key}_90_covers"].to_list()
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part[f"{key}_truth"],
                mode="markers",
                marker={"color": ["#0072B2" if v else "#D55E00" for v in covers], "size": 7},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part[f"{key}_90_high"] - part[f"{key}_truth"]).to_list(),
                    "arrayminus": (part[f"{key}_truth"] - part[f"{key}_90_low"]).to_list(),
                    "color": "#999999",
                },
                name="truth (orange: outside its 90% interval)",
                showlegend=c == 1,
            ),
            1,
            c,
        )
        fig.update_xaxes(title_text="fit, sorted by truth", row=1, col=c)
        if key == "p":
            fig.update_yaxes(type="log", row=1, col=c)
    last = len(names) + 1
    fig.add_trace(
        go.Scatter(
            x=[0.4, 1],
            y=[0.4, 1],
            mode="lines",
            line={"dash": "dot", "color": "black"},
            name="nominal",
        ),
        1,
        last,
    )
    for name, color in zip(names, ("#0072B2", "#009E73"), strict=False):
        part = coverage.filter(pl.col("parameter") == name)
        fig.add_trace(
            go.Scatter(
                x=part["level"],
                y=part["share"],
                mode="markers+lines",
                marker={"color": color},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["share"]).to_list(),
                    "arrayminus": (part["share"] - part["low"]).to_list(),
                },
                name=f"{name} coverage (95% Wilson)",
            ),
            1,
            last,
        )
    fig.update_xaxes(title_text="credible level", row=1, col=last)
    fig.update_yaxes(title_text="share of fits covering the truth", row=1, col=last)
    fig.update_layout(title="Simulation-based calibration of adoptsim fit", height=520, width=1500)
    out.figure(fig, "calibration", context)


if __name__ == "__main__":
    main()
