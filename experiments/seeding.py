"""Study 4: seeding. Which champions spread the tool fastest, and how does that depend on
informal ties across departments?

    .venv/bin/python experiments/seeding.py      (part of `make experiments`)

The org, tool, discovery, adoption and abandonment settings of scenarios/default.toml
(2,000-person hierarchy, 6 departments, 104 weeks), with the same number of champions for
every strategy: random, hubs (highest degree), brokers (highest betweenness), managers,
and one team (whole teams, leader and direct reports, until the count is reached; a team
can overshoot it, so the number actually seeded is reported). The free plan's seat cap
and the enterprise deal are switched off here so that champions differ only in where they
sit in the network (the seat cap is study 3's subject): with a cap, a seeded team of 9 would
find 4 of its members blocked.

org.cross_department_share (the share of informal ties that cross departments) is varied;
each value is a different org (same generator seed, informal ties redrawn). Two adoption
settings: the default (spontaneous adoption p = 0.01 per week on top of peer influence)
and word of mouth only (p = 0: nobody adopts without an engaged colleague).

Within one org the strategies share the replicate streams, so each strategy is compared
with random seeding *paired* by replicate.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from common import (
    PALETTE,
    Output,
    add_band,
    bands,
    ci_row,
    configure,
    deep_merge,
    excludes_zero,
    interval,
    paired,
    plan_and_org,
    scenario_base,
)
from plotly.subplots import make_subplots

from sim.engines.batched import simulate_batched
from sim.metrics import summarize

SCENARIO = "scenarios/default.toml"
STRATEGIES = ("random", "hubs", "brokers", "managers", "team")
CROSS = (0.0, 0.1, 0.25, 0.5, 0.8)
CHAMPIONS = 18  # two full teams of a leader and 8 reports
REPLICATES = 50
SETTINGS = {  # label: overrides
    "default adoption (p = 0.01)": {},
    "word of mouth only (p = 0)": {"adoption": {"p": 0.0}},
}
OFF = {"freemium": {"enabled": False}, "enterprise": {"enabled": False}}


def run(base: dict) -> tuple[pl.DataFrame, pl.DataFrame, int, int]:
    summaries, curves = [], []
    n = weeks = 0
    for cross in CROSS:
        org_data = deep_merge(base, {"org": {"cross_department_share": cross}})
        _, org = plan_and_org(org_data, "seeding")  # one org per cross share, shared by all runs
        n = org.n
        for setting, overrides in SETTINGS.items():
            for strategy in STRATEGIES:
                data = deep_merge(
                    org_data,
                    {**overrides, "seeding": {"strategy": strategy, "count": CHAMPIONS}},
                )
                config = configure(data, "seeding")
                weeks = config.weeks
                traj, dept = simulate_batched(config, org, list(range(REPLICATES)))
                tags = [
                    pl.lit(setting).alias("setting"),
                    pl.lit(cross).alias("cross_department_share"),
                    pl.lit(strategy).alias("strategy"),
                ]
                keys = [pl.lit(strategy).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
                summary = summarize(traj.with_columns(keys), dept.with_columns(keys), n)
                seeded = traj.filter(pl.col("week") == 0).select("replicate", champions="active")
                summaries.append(
                    summary.join(seeded, on="replicate").select(
                        *tags, "replicate", "t50", "final_active_share", "champions"
                    )
                )
                curves.append(traj.select(*tags, "replicate", "week", "active"))
    return pl.concat(summaries), pl.concat(curves), n, weeks


def main() -> None:
    out = Output("seeding")
    base = deep_merge(scenario_base(SCENARIO), OFF)
    seed = base["seed"]
    summary, curves, n, weeks = run(base)
    out.table(summary, "runs")
    context = (
        f"{SCENARIO} org and adoption settings ({n:,} employees, {weeks} weeks), free-seat cap "
        f"and enterprise deal off, {CHAMPIONS} champions requested, {REPLICATES} replicates "
        f"per cell, seed {seed}, batched engine; strategies paired by replicate within an org."
    )
    out.say(f"Setting: {context}")

    rows, diffs = [], []
    for (setting, cross, strategy), part in summary.group_by(
        "setting", "cross_department_share", "strategy", maintain_order=True
    ):
        keys = {"setting": setting, "cross_department_share": cross, "strategy": strategy}
        for column in ("t50", "final_active_share", "champions"):
            rows.append(ci_row(part[column].to_list(), outcome=column, **keys))
        if strategy != "random":
            reference = summary.filter(
                (pl.col("setting") == setting)
                & (pl.col("cross_department_share") == cross)
                & (pl.col("strategy") == "random")
            )
            for column in ("t50", "final_active_share"):
                diffs.append(paired(part, reference, column, ["replicate"], outcome=column, **keys))
    table = pl.DataFrame(rows)
    out.table(table, "outcomes")
    out.table(pl.DataFrame(diffs), "vs_random")

    def cell(setting, cross, strategy, outcome="t50"):
        return table.filter(
            (pl.col("setting") == setting)
            & (pl.col("cross_department_share") == cross)
            & (pl.col("strategy") == strategy)
            & (pl.col("outcome") == outcome)
        ).row(0, named=True)

    seeded = {
        s: float(summary.filter(pl.col("strategy") == s)["champions"].mean()) for s in STRATEGIES
    }
    out.numbers["champions_seeded_mean"] = seeded
    out.say(
        "Champions actually seeded (mean): " + ", ".join(f"{s} {seeded[s]:.1f}" for s in STRATEGIES)
    )

    # figure: t50 and final share vs cross-department share, per strategy and setting
    fig = make_subplots(
        rows=2,
        cols=2,
        subplot_titles=[
            f"{setting}: {label}"
            for setting in SETTINGS
            for label in ("weeks to 50% engaged", "final active share")
        ],
        vertical_spacing=0.14,
    )
    for r, setting in enumerate(SETTINGS, start=1):
        for c, outcome in enumerate(("t50", "final_active_share"), start=1):
            for k, strategy in enumerate(STRATEGIES):
                pts = [cell(setting, x, strategy, outcome) for x in CROSS]
                fig.add_trace(
                    go.Scatter(
                        x=list(CROSS),
                        y=[p["mean"] for p in pts],
                        mode="lines+markers",
                        name=strategy,
                        legendgroup=strategy,
                        showlegend=(r == 1 and c == 1),
                        line={"color": PALETTE[k]},
                        error_y={
                            "type": "data",
                            "symmetric": False,
                            "array": [p["high"] - p["mean"] for p in pts],
                            "arrayminus": [p["mean"] - p["low"] for p in pts],
                        },
                    ),
                    r,
                    c,
                )
    fig.update_xaxes(title_text="org.cross_department_share")
    fig.update_yaxes(tickformat=".0%", col=2)
    fig.update_layout(
        title="Seeding strategies vs informal ties across departments (mean, 95% CI)",
        height=780,
    )
    out.figure(fig, "seeding", context + " t50 over replicates that reached 50%.")

    # figure: adoption curves at the two ends of the cross-share range, word of mouth only
    setting = list(SETTINGS)[1]
    ends = (CROSS[0], CROSS[-1])
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=[f"cross_department_share = {x}" for x in ends]
    )
    for c, cross in enumerate(ends, start=1):
        part = curves.filter(
            (pl.col("setting") == setting) & (pl.col("cross_department_share") == cross)
        )
        band = bands(part, pl.col("active") / n, ["strategy"])
        for k, strategy in enumerate(STRATEGIES):
            add_band(
                fig,
                band.filter(pl.col("strategy") == strategy),
                strategy,
                PALETTE[k],
                1,
                c,
                showlegend=(c == 1),
            )
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(title_text="week")
    fig.update_layout(
        title=f"Engaged users by seeding strategy, {setting}: mean and 95% band", height=460
    )
    out.figure(fig, "curves", context)

    # findings
    for setting in SETTINGS:
        out.say(f"**{setting}**")
        for cross in CROSS:
            ranked = sorted(STRATEGIES, key=lambda s: cell(setting, cross, s)["mean"])
            parts = []
            for s in ranked:
                c = cell(setting, cross, s)
                reach = f" ({c['n']}/{c['of']} reached 50%)" if c["n"] < c["of"] else ""
                parts.append(f"{s} {interval(c['mean'], c['low'], c['high'])}{reach}")
            out.say(f"  cross share {cross}: weeks to 50%, fastest first: {'; '.join(parts)}")
            out.numbers[f"{setting}.cross{cross}.t50"] = {
                s: cell(setting, cross, s)["mean"] for s in STRATEGIES
            }
            out.numbers[f"{setting}.cross{cross}.final"] = {
                s: cell(setting, cross, s, "final_active_share")["mean"] for s in STRATEGIES
            }
        wins = {
            s: sum(
                min(STRATEGIES, key=lambda x, c=c: cell(setting, c, x)["mean"]) == s for c in CROSS
            )
            for s in STRATEGIES
        }
        best = max(wins, key=wins.get)
        out.say(f"  fastest strategy at {wins[best]} of {len(CROSS)} cross shares: {best}")
        for strategy in STRATEGIES:
            low, high = cell(setting, CROSS[0], strategy), cell(setting, CROSS[-1], strategy)
            out.numbers[f"{setting}.{strategy}.t50_change_cross_0_to_max"] = (
                high["mean"] - low["mean"]
            )
        change = {
            s: cell(setting, CROSS[-1], s)["mean"] - cell(setting, CROSS[0], s)["mean"]
            for s in STRATEGIES
        }
        most = min(change, key=change.get)
        out.say(
            f"  from cross share {CROSS[0]} to {CROSS[-1]}, weeks to 50% change by "
            + ", ".join(f"{s} {change[s]:+.1f}" for s in STRATEGIES)
            + f"; {most} depends most on cross-department ties"
        )
        for cross in (CROSS[0], CROSS[-1]):
            parts = []
            for strategy in STRATEGIES[1:]:
                d = next(
                    x
                    for x in diffs
                    if x["setting"] == setting
                    and x["cross_department_share"] == cross
                    and x["strategy"] == strategy
                    and x["outcome"] == "t50"
                )
                mark = "*" if excludes_zero(d) else ""
                pairs = f" ({d['n']}/{d['of']} pairs)" if d["n"] < d["of"] else ""
                parts.append(
                    f"{strategy} {interval(d['mean'], d['low'], d['high'], signed=True)}"
                    f"{mark}{pairs}"
                )
            out.say(
                f"  cross share {cross}, paired t50 difference vs random seeding (weeks; "
                f"* = 95% CI excludes 0): {'; '.join(parts)}"
            )
    out.finish("Study 4: seeding strategies and cross-department ties")


if __name__ == "__main__":
    main()
