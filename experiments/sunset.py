"""Study 7: sunsetting the old tool. Does switching the incumbent off change the
top-down vs bottom-up verdict?

    .venv/bin/python experiments/sunset.py      (part of `make experiments`)

The three plans of scenarios/default.toml (2,000 employees, 104 weeks) with an incumbent
tool (docs/model.md, eq. 1b: appeal / (1 + strength (1 − s)), strength 1, costing 0.5 per
employee-week until it is switched off), each plan run twice: the old tool kept, and a
sunset action at week 26.  Paired across plans and variants (same org, same streams).
Outcomes: final active share and net value; the verdict is the plan with the highest
mean, and whether the paired difference to the runner-up excludes 0.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from common import ROOT, Output, ci_row, deep_merge, excludes_zero, interval, paired

from sim.engines.batched import simulate_batched
from sim.engines.runner import prepare
from sim.metrics import summarize
from sim.scenario import load_scenario, parse_scenario

SCENARIO = "scenarios/default.toml"
REPLICATES = 40
INCUMBENT = {"enabled": True, "strength": 1.0, "cost_per_employee_week": 0.5}
VARIANTS = {"old tool kept": [], "sunset at week 26": [{"kind": "sunset", "week": 26}]}
OUTCOMES = (("final_active_share", "{:.1%}"), ("net_value", "{:,.0f}"))


def run_variant(actions: list[dict]) -> pl.DataFrame:
    scenario = load_scenario(ROOT / SCENARIO)
    data = deep_merge(dict(scenario.raw), {"incumbent": INCUMBENT})
    data["actions"] = actions
    prepared = prepare(parse_scenario(data, "<sunset>"))
    parts = []
    for item in prepared:
        trajectories, departments = simulate_batched(item.config, item.org, list(range(REPLICATES)))
        tags = [pl.lit(item.plan.name).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
        parts.append(
            summarize(trajectories.with_columns(tags), departments.with_columns(tags), item.org.n)
        )
    return pl.concat(parts)


def main() -> None:
    out = Output("sunset")
    frames = []
    for variant, actions in VARIANTS.items():
        frames.append(run_variant(actions).with_columns(pl.lit(variant).alias("variant")))
    frame = pl.concat(frames)
    out.table(frame, "replicates")
    fig = go.Figure()
    for variant in VARIANTS:
        part = frame.filter(pl.col("variant") == variant)
        plans = part["plan"].unique(maintain_order=True).to_list()
        for outcome, fmt in OUTCOMES:
            rows = [
                ci_row(part.filter(pl.col("plan") == p)[outcome].to_list(), plan=p) for p in plans
            ]
            best, runner = sorted(rows, key=lambda r: -r["mean"])[:2]
            diff = paired(
                part.filter(pl.col("plan") == best["plan"]),
                part.filter(pl.col("plan") == runner["plan"]),
                outcome,
                ["replicate"],
            )
            sure = "clearly" if excludes_zero(diff) else "not clearly"
            lead = interval(diff["mean"], diff["low"], diff["high"], fmt, signed=True)
            out.say(
                f"{variant}, {outcome.replace('_', ' ')}: {best['plan']} wins {sure} "
                f"({interval(best['mean'], best['low'], best['high'], fmt)}; vs "
                f"{runner['plan']} {lead})"
            )
            out.numbers[f"{variant}:{outcome}"] = {r["plan"]: r["mean"] for r in rows}
            if outcome == "final_active_share":
                fig.add_trace(
                    go.Bar(
                        name=variant,
                        x=[r["plan"] for r in rows],
                        y=[r["mean"] for r in rows],
                        error_y={
                            "type": "data",
                            "symmetric": False,
                            "array": [r["high"] - r["mean"] for r in rows],
                            "arrayminus": [r["mean"] - r["low"] for r in rows],
                        },
                    )
                )
    fig.update_layout(
        title="Final active share by plan, with the old tool kept or sunset at week 26",
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1.02]},
    )
    out.figure(
        fig,
        "verdict",
        f"{SCENARIO} with an incumbent (strength 1, 0.5 per employee-week); {REPLICATES} "
        "replicates per plan; mean and 95% CI",
    )
    out.finish("Sunsetting the old tool: does it change the verdict?")


if __name__ == "__main__":
    main()
