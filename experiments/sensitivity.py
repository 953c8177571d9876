"""Study 5: sensitivity. Which parameters move the bottom-up vs top-down difference most?

    .venv/bin/python experiments/sensitivity.py      (part of `make experiments`)

Morris elementary effects (SALib: ``SALib.sample.morris`` / ``SALib.analyze.morris``) over
eleven parameters of scenarios/freemium_sweep.toml (500-person hierarchy, 78 weeks) and its
two plans: bottom-up (10 random champions on the free plan, enterprise deal at 40%) and
top-down (licences for everyone in week 4, no champions). At each Morris sample both plans
run R replicates with the same seed (same org, same replicate streams), and the output is
the mean over replicates of the paired difference bottom-up − top-down in

* final active share (reach),
* mean active share over the 78 weeks (speed and reach together; unlike weeks to 50% it is
  defined in every run),
* total cost per employee over the run (currency; cost per engaged user is left out
  because it is undefined or explodes when almost nobody engages, which happens in parts
  of this parameter space).

The same seed at every sample (common random numbers) keeps the elementary effects from
drowning in replicate noise. mu* (mean absolute elementary effect, with its bootstrap 95%
interval) ranks the parameters; sigma large against mu* means the effect depends on the
other parameters (interactions or non-linearity); the sign of mu says the direction:
for the shares, mu > 0 means raising the parameter favours bottom-up; for the cost,
mu > 0 means it makes bottom-up dearer relative to top-down.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
from common import Output, configure, deep_merge, interval, plan_and_org, scenario_base
from plotly.subplots import make_subplots
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim.engines.batched import simulate_batched
from sim.metrics import summarize

SCENARIO = "scenarios/freemium_sweep.toml"
PLANS = {
    "bottom-up": {},
    "top-down": {"seeding": {"strategy": "none", "count": 0}, "mandate": {"enabled": True}},
}
PARAMETERS = {  # dotted path: (low, high)
    "adoption.q": (0.1, 0.6),
    "adoption.p": (0.001, 0.02),
    "discovery.word_of_mouth": (0.1, 0.9),
    "freemium.free_seats": (1, 8),  # rounded to an integer; 8 = team size = no cap
    "freemium.free_value": (0.2, 1.0),
    "freemium.decision_rate": (0.02, 0.5),
    "mandate.compliance": (0.05, 0.6),
    "mandate.resistance": (0.0, 2.0),
    "mandate.nominal_weight": (0.0, 0.5),  # rounded to 1/64 by the schema
    "abandonment.rate": (0.005, 0.08),
    "tool.standalone_value": (0.1, 0.9),
    # the mechanisms of issue 14, and one structural switch
    "winback.rate": (0.0, 0.05),  # win-back on; 0 = lapsing is forever
    "reluctance.half_life_weeks": (2.0, 104.0),
    "adoption.market_potential": (0.5, 1.0),
    "incumbent.strength": (0.0, 2.0),  # an old tool; 0 = none
    "seeding.champion_weight": (1.0, 4.0),  # rounded to 1/64 by the schema
    "security_review.enabled": (0.0, 1.0),  # a switch: a ban at 15% unlicensed use, or not
}
INTEGER = {"freemium.free_seats"}
SWITCHES = {"security_review.enabled"}  # >= 0.5: on
FIXED = {  # what the swept mechanisms need switched on around them
    "winback": {"enabled": True},
    "incumbent": {"enabled": True},
    "security_review": {"threshold_share": 0.15, "delay_weeks": 8, "on_fail": "ban"},
    "tool": {"enterprise_ready": 0.5},
}
TRAJECTORIES = 30  # Morris trajectories: (parameters + 1) samples each
LEVELS = 4
REPLICATES = 20
SAMPLE_SEED = 5
OUTPUTS = (  # column, label, format of the difference
    ("d_final_active_share", "final active share", "{:+.1%}"),
    ("d_mean_active_share", "mean active share over the run", "{:+.1%}"),
    ("d_cost_per_employee", "total cost per employee", "{:+,.1f}"),
)


def direction(mu: float, shares: bool) -> str:
    if shares:
        return "raising it favours bottom-up" if mu > 0 else "raising it favours top-down"
    return "raising it makes bottom-up dearer" if mu > 0 else "raising it makes bottom-up cheaper"


def nested(point: dict[str, float]) -> dict:
    data: dict = {}
    for path, value in point.items():
        section, key = path.split(".")
        if path in SWITCHES:
            value = bool(value >= 0.5)
        elif path in INTEGER:
            value = int(round(value))
        data.setdefault(section, {})[key] = value
    return data


def evaluate(base: dict, samples: np.ndarray) -> tuple[pl.DataFrame, int, int, int]:
    _, org = plan_and_org(base, "sensitivity")  # the org is not varied: build it once
    n = org.n
    rows = []
    weeks = seed = 0
    for index, x in enumerate(samples):
        point = dict(zip(PARAMETERS, x.tolist(), strict=True))
        outcome = {}
        for plan, overrides in PLANS.items():
            config = configure(deep_merge(deep_merge(base, nested(point)), overrides))
            weeks, seed = config.weeks, config.seed
            traj, dept = simulate_batched(config, org, list(range(REPLICATES)))
            tags = [pl.lit(plan).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
            summary = summarize(traj.with_columns(tags), dept.with_columns(tags), n)
            mean_share = traj.group_by("replicate").agg(
                mean_active_share=pl.col("active").mean() / n
            )
            outcome[plan] = summary.join(mean_share, on="replicate").sort("replicate")
        a, b = outcome["bottom-up"], outcome["top-down"]
        row = {"sample": index, **point}
        for column in ("final_active_share", "mean_active_share", "cost_per_engaged_user"):
            row[f"bottom_up_{column}"] = a[column].mean()
            row[f"top_down_{column}"] = b[column].mean()
            row[f"d_{column}"] = (a[column] - b[column]).mean()
        row["d_cost_per_employee"] = ((a["total_cost"] - b["total_cost"]) / n).mean()
        rows.append(row)
    return pl.DataFrame(rows), n, weeks, seed


def main() -> None:
    out = Output("sensitivity")
    base = deep_merge(scenario_base(SCENARIO), FIXED)
    problem = {
        "num_vars": len(PARAMETERS),
        "names": list(PARAMETERS),
        "bounds": [list(b) for b in PARAMETERS.values()],
    }
    samples = morris_sample.sample(problem, TRAJECTORIES, num_levels=LEVELS, seed=SAMPLE_SEED)
    frame, n, weeks, seed = evaluate(base, samples)
    out.table(frame, "samples")
    context = (
        f"{SCENARIO}: bottom-up vs top-down ({n} employees, {weeks} weeks); Morris design "
        f"with {TRAJECTORIES} trajectories x {len(PARAMETERS) + 1} = {len(samples)} samples, "
        f"{LEVELS} levels, sample seed {SAMPLE_SEED}; {REPLICATES} paired replicates per plan "
        f"and sample, run seed {seed}, batched engine."
    )
    out.say(f"Setting: {context}")
    wins = float((frame["d_final_active_share"] > 0).mean())
    out.numbers["share_of_samples_bottom_up_reaches_more"] = wins
    d = frame["d_final_active_share"]
    out.say(
        f"Across the {len(samples)} samples the paired difference in final active share "
        f"(bottom-up − top-down) ranges from {d.min():+.1%} to {d.max():+.1%} (mean "
        f"{d.mean():+.1%}); bottom-up reaches more people in {wins:.0%} of them."
    )

    results = []
    for column, label, fmt in OUTPUTS:
        shares = column != "d_cost_per_employee"
        y = frame[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        ok = np.isfinite(y)
        if not ok.all():  # a sample with nobody engaged has no cost per engaged user
            y = np.where(ok, y, np.nanmean(y))
        analysis = morris_analyze.analyze(
            problem,
            samples,
            y,
            num_resamples=1000,
            conf_level=0.95,
            num_levels=LEVELS,
            seed=SAMPLE_SEED,
        )
        for k, name in enumerate(PARAMETERS):
            results.append(
                {
                    "output": column,
                    "label": label,
                    "parameter": name,
                    "mu": float(analysis["mu"][k]),
                    "mu_star": float(analysis["mu_star"][k]),
                    "mu_star_conf": float(analysis["mu_star_conf"][k]),
                    "sigma": float(analysis["sigma"][k]),
                }
            )
        ranked = sorted((r for r in results if r["output"] == column), key=lambda r: -r["mu_star"])
        out.numbers[column] = {
            r["parameter"]: {k: r[k] for k in ("mu", "mu_star", "mu_star_conf", "sigma")}
            for r in ranked
        }
        top = "; ".join(
            f"{r['parameter']} mu* "
            + interval(
                r["mu_star"],
                r["mu_star"] - r["mu_star_conf"],
                r["mu_star"] + r["mu_star_conf"],
                fmt.replace("+", ""),
            )
            + f", sigma {fmt.replace('+', '').format(r['sigma'])}, "
            + direction(r["mu"], shares)
            for r in ranked[:3]
        )
        least = ", ".join(r["parameter"] for r in ranked[-3:])
        missing = "" if ok.all() else f" ({int((~ok).sum())} undefined samples set to the mean)"
        out.say(
            f"**Δ {label}** (bottom-up − top-down): largest effects: {top}. "
            f"Smallest: {least}.{missing}"
        )
    table = pl.DataFrame(results)
    out.table(table, "morris")
    inert = [
        name
        for name in PARAMETERS
        if table.filter(pl.col("parameter") == name)["mu_star"].abs().max() == 0
    ]
    out.numbers["inert_parameters"] = inert
    if inert:
        out.say(
            f"No effect at all (mu* = 0 on every output, all {len(samples)} samples): "
            f"{', '.join(inert)}."
            + (
                " Compliance only moves licensed non-users from aware to nominal, and nominal "
                "users act on others only through mandate.nominal_weight."
                if "mandate.compliance" in inert
                else ""
            )
        )

    fig = make_subplots(
        rows=1,
        cols=len(OUTPUTS),
        subplot_titles=[f"Δ {label}" for _, label, _ in OUTPUTS],
        horizontal_spacing=0.12,
    )
    for c, (column, _, _) in enumerate(OUTPUTS, start=1):
        part = table.filter(pl.col("output") == column).sort("mu_star")
        fig.add_trace(
            go.Bar(
                x=part["mu_star"],
                y=part["parameter"],
                orientation="h",
                name="mu* (95% CI)",
                marker_color=[
                    "#2ca02c" if (m > 0) == (column != "d_cost_per_employee") else "#d62728"
                    for m in part["mu"]
                ],
                error_x={"type": "data", "array": part["mu_star_conf"].to_list()},
                showlegend=c == 1,
            ),
            1,
            c,
        )
        fig.add_trace(
            go.Scatter(
                x=part["sigma"],
                y=part["parameter"],
                mode="markers",
                marker={"symbol": "diamond", "size": 9, "color": "black"},
                name="sigma",
                showlegend=c == 1,
            ),
            1,
            c,
        )
    fig.update_layout(
        title="Morris screening of bottom-up − top-down: mu* (bars; green: raising the "
        "parameter favours bottom-up, red: top-down) and sigma (diamonds)",
        height=520,
        width=1500,
    )
    out.figure(fig, "morris", context)
    out.finish("Study 5: sensitivity of bottom-up vs top-down (Morris)")


if __name__ == "__main__":
    main()
