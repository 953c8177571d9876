"""Study 3: the freemium trap. Where does a more generous free tier raise adoption but
lower paid conversion?

    .venv/bin/python experiments/freemium_trap.py      (part of `make experiments`)

The bottom-up plan of scenarios/freemium_sweep.toml (500-person hierarchy, 4 departments,
teams of up to 8, 10 random champions, 78 weeks) over a grid of the free plan's seat cap
per team workspace (freemium.free_seats: 1..8 and unlimited) and the free tier's value
relative to paid (freemium.free_value: 0.2..1.0), in two variants:

* land and expand: as in the scenario, an org-wide enterprise deal is signed when 40% are
  engaged (after which every seat is licensed and paywalls no longer matter);
* freemium only: no enterprise deal; teams pay only by lifting their own paywall.

Outcomes per replicate: final active share; paid conversion = share of team workspaces
that paid (paywall_conversions / workspaces); paid seats = engaged users in paid
workspaces, share of employees, final week (0 once an enterprise deal licenses everyone);
revenue = total cost to the org over the 78 weeks (paid seats, and enterprise licences
once a deal is signed).

Every grid point uses the same org and the same replicate streams, so neighbouring cells
are compared *paired*. A step to more generosity (next larger cap at the same value, or
next higher value at the same cap) is a **trap step** when the paired 95% CI of the change
in final active share is above 0 and that of the change in paid conversion is below 0.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl
from common import Output, deep_merge, interval, paired, plan_and_org, scenario_base
from plotly.subplots import make_subplots

from sim.engines.batched import simulate_batched
from sim.engines.population import workspaces
from sim.metrics import summarize

SCENARIO = "scenarios/freemium_sweep.toml"
SEATS: tuple[int | None, ...] = (1, 2, 3, 4, 5, 6, 7, 8, None)  # None: unlimited
VALUES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
REPLICATES = 50
VARIANTS = {
    "land and expand": {},
    "freemium only": {"enterprise": {"enabled": False}},
}
OUTCOMES = (  # column, label, format
    ("final_active_share", "final active share", "{:.1%}"),
    ("conversion", "paid conversion (share of team workspaces that paid)", "{:.1%}"),
    ("paid_seat_share", "paid seats (share of employees, final week)", "{:.1%}"),
    ("revenue", "revenue (total cost to the org, 78 weeks)", "{:,.0f}"),
)


def seats_label(seats: int | None) -> str:
    return "unlimited" if seats is None else str(seats)


def run_grid(base: dict) -> tuple[pl.DataFrame, int, int, int, int]:
    rows = []
    n = w = weeks = largest = 0
    for variant, overrides in VARIANTS.items():
        for i, seats in enumerate(SEATS):
            for j, value in enumerate(VALUES):
                data = deep_merge(
                    base, {**overrides, "freemium": {"free_seats": seats, "free_value": value}}
                )
                config, org = plan_and_org(data, "freemium_trap")
                n, weeks = org.n, config.weeks
                scope = workspaces(org, config.freemium.workspace)
                w, largest = scope.count, int(np.bincount(scope.of_agent).max())
                traj, dept = simulate_batched(config, org, list(range(REPLICATES)))
                tags = [pl.lit(variant).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
                summary = summarize(traj.with_columns(tags), dept.with_columns(tags), n)
                paid = traj.filter(pl.col("week") == weeks).select("replicate", "paid_seats")
                rows.append(
                    summary.join(paid, on="replicate").select(
                        pl.lit(variant).alias("variant"),
                        pl.lit(i).alias("seats_index"),
                        pl.lit(seats, pl.Int64).alias("free_seats"),
                        pl.lit(j).alias("value_index"),
                        pl.lit(value).alias("free_value"),
                        "replicate",
                        "final_active_share",
                        (pl.col("paywall_conversions") / w).alias("conversion"),
                        (pl.col("paid_seats") / n).alias("paid_seat_share"),
                        pl.col("total_cost").alias("revenue"),
                        "deal_week",
                    )
                )
    return pl.concat(rows), n, w, weeks, largest


def trap_steps(frame: pl.DataFrame) -> pl.DataFrame:
    """Every one-step increase in generosity with paired changes in the outcomes."""
    rows = []
    cell = {key: part for key, part in frame.group_by("variant", "seats_index", "value_index")}
    for variant in VARIANTS:
        for i in range(len(SEATS)):
            for j in range(len(VALUES)):
                for axis, (i2, j2) in (("seats", (i + 1, j)), ("value", (i, j + 1))):
                    if i2 >= len(SEATS) or j2 >= len(VALUES):
                        continue
                    before, after = cell[(variant, i, j)], cell[(variant, i2, j2)]
                    row = {
                        "variant": variant,
                        "axis": axis,
                        "from_seats": seats_label(SEATS[i]),
                        "to_seats": seats_label(SEATS[i2]),
                        "from_value": VALUES[j],
                        "to_value": VALUES[j2],
                        "i": i,
                        "j": j,
                        "i2": i2,
                        "j2": j2,
                    }
                    for column, _, _ in OUTCOMES:
                        d = paired(after, before, column, ["replicate"])
                        row |= {f"d_{column}": d["mean"], f"lo_{column}": d["low"]}
                        row |= {f"hi_{column}": d["high"]}
                    rows.append(row)
    steps = pl.DataFrame(rows)
    return steps.with_columns(
        trap=(pl.col("lo_final_active_share") > 0) & (pl.col("hi_conversion") < 0),
        revenue_trap=(pl.col("lo_final_active_share") > 0) & (pl.col("hi_revenue") < 0),
    )


def step_text(row: dict) -> str:
    if row["axis"] == "seats":
        cap, value = f"{row['from_seats']}→{row['to_seats']}", f"{row['from_value']:.1f}"
        return f"raising the cap {cap} at free_value {value}"
    value = f"{row['from_value']:.1f}→{row['to_value']:.1f}"
    return f"raising free_value {value} at cap {row['from_seats']}"


def describe_region(steps: pl.DataFrame, axis: str) -> str:
    """Trap steps along one axis, grouped by the other axis' value."""
    part = steps.filter(pl.col("trap") & (pl.col("axis") == axis))
    if part.is_empty():
        return "none"
    groups = []
    if axis == "seats":
        for (value,), g in part.sort("j", "i").group_by("from_value", maintain_order=True):
            hops = ", ".join(
                f"{a}→{b}" for a, b in zip(g["from_seats"], g["to_seats"], strict=True)
            )
            groups.append(f"free_value {value:.1f}: cap {hops}")
    else:
        for (seats,), g in part.sort("i", "j").group_by("from_seats", maintain_order=True):
            hops = ", ".join(
                f"{a:.1f}→{b:.1f}" for a, b in zip(g["from_value"], g["to_value"], strict=True)
            )
            groups.append(f"cap {seats}: value {hops}")
    return "; ".join(groups)


def heatmaps(out: Output, means: pl.DataFrame, steps: pl.DataFrame, variant: str, caption: str):
    fig = make_subplots(
        rows=1,
        cols=len(OUTCOMES),
        subplot_titles=[o[1] for o in OUTCOMES],
        horizontal_spacing=0.07,
    )
    part = means.filter(pl.col("variant") == variant)
    for k, (column, _, fmt) in enumerate(OUTCOMES):
        grid = np.full((len(VALUES), len(SEATS)), np.nan)
        text = [[""] * len(SEATS) for _ in VALUES]
        for row in part.iter_rows(named=True):
            grid[row["value_index"], row["seats_index"]] = row[column]
            shown = fmt.format(row[column]).replace(",000", "k")
            text[row["value_index"]][row["seats_index"]] = shown
        fig.add_trace(
            go.Heatmap(
                z=grid,
                x=list(range(len(SEATS))),
                y=list(range(len(VALUES))),
                text=text,
                texttemplate="%{text}",
                textfont={"size": 8},
                colorscale="Viridis",
                showscale=False,
            ),
            1,
            k + 1,
        )
    # trap steps: arrows on the conversion panel (from the less to the more generous cell)
    traps = steps.filter((pl.col("variant") == variant) & pl.col("trap"))
    for row in traps.iter_rows(named=True):
        fig.add_annotation(
            x=row["i2"],
            y=row["j2"],
            ax=row["i"],
            ay=row["j"],
            xref="x2",
            yref="y2",
            axref="x2",
            ayref="y2",
            showarrow=True,
            arrowhead=2,
            arrowwidth=1.5,
            arrowcolor="#ff3030",
            text="",
        )
    fig.update_xaxes(
        tickvals=list(range(len(SEATS))),
        ticktext=["no cap" if s is None else str(s) for s in SEATS],
        tickangle=0,
        title_text="free seats per team",
    )
    fig.update_yaxes(
        tickvals=list(range(len(VALUES))),
        ticktext=[f"{v:.1f}" for v in VALUES],
        title_text="free-tier value",
    )
    fig.update_layout(
        title=f"Freemium trap, {variant}: means over replicates; red arrows = trap steps "
        "(more generous, adoption up and conversion down, both paired 95% CIs exclude 0)",
        height=640,
        width=1500,
    )
    slug = variant.replace(" ", "_")
    out.figure(fig, f"heatmaps_{slug}", caption)


def main() -> None:
    out = Output("freemium_trap")
    base = scenario_base(SCENARIO)
    seed = base["seed"]
    frame, n, w, weeks, largest = run_grid(base)
    out.table(frame, "runs")
    means = frame.group_by("variant", "seats_index", "value_index", "free_seats", "free_value").agg(
        *(pl.col(c).mean() for c, _, _ in OUTCOMES)
    )
    out.table(means, "means")
    steps = trap_steps(frame)
    out.table(steps, "steps")
    context = (
        f"{SCENARIO} bottom-up plan ({n} employees, {w} team workspaces, {weeks} weeks), "
        f"{REPLICATES} replicates per grid cell, seed {seed}, batched engine; all cells share "
        f"the org and the replicate streams (paired)."
    )
    out.say(f"Setting: {context}")
    for variant in VARIANTS:
        heatmaps(out, means, steps, variant, f"{variant}. {context}")
        vs = steps.filter(pl.col("variant") == variant)
        vm = means.filter(pl.col("variant") == variant)
        n_trap = int(vs["trap"].sum())
        n_rev = int(vs["revenue_trap"].sum())
        out.numbers[f"{variant}.trap_steps"] = n_trap
        out.numbers[f"{variant}.revenue_trap_steps"] = n_rev
        out.numbers[f"{variant}.steps"] = len(vs)
        out.say(
            f"**{variant}**: {n_trap} of {len(vs)} one-step increases in generosity are trap "
            f"steps (adoption up, conversion down; paired 95% CIs exclude 0); {n_rev} raise "
            f"adoption but lower revenue."
        )
        out.say(f"  {variant}, raising the seat cap is a trap at: {describe_region(vs, 'seats')}")
        out.say(
            f"  {variant}, raising the free-tier value is a trap at: {describe_region(vs, 'value')}"
        )
        if n_trap:
            worst = vs.filter(pl.col("trap")).sort("d_conversion").row(0, named=True)
            out.numbers[f"{variant}.largest_trap_step"] = {
                k: worst[k] for k in worst if k.startswith(("d_", "lo_", "hi_", "from_", "to_"))
            }
            out.say(
                f"  {variant}, largest conversion loss in one step: {step_text(worst)} "
                "changes final active share by "
                + interval(
                    worst["d_final_active_share"],
                    worst["lo_final_active_share"],
                    worst["hi_final_active_share"],
                    "{:.1%}",
                    signed=True,
                )
                + " and paid conversion by "
                + interval(
                    worst["d_conversion"],
                    worst["lo_conversion"],
                    worst["hi_conversion"],
                    "{:.1%}",
                    signed=True,
                )
                + " and revenue by "
                + interval(
                    worst["d_revenue"],
                    worst["lo_revenue"],
                    worst["hi_revenue"],
                    "{:,.0f}",
                    signed=True,
                )
            )
        for column, label in (
            ("final_active_share", "adoption"),
            ("conversion", "conversion"),
            ("revenue", "revenue"),
        ):
            # ties (a cap of 8 = unlimited): name the most generous cell
            best = vm.sort([column, "seats_index"], descending=True).row(0, named=True)
            out.numbers[f"{variant}.best_{column}"] = {
                "free_seats": best["free_seats"],
                "free_value": best["free_value"],
                **{c: best[c] for c, _, _ in OUTCOMES},
            }
            out.say(
                f"  {variant}, highest {label}: cap {seats_label(best['free_seats'])}, value "
                f"{best['free_value']:.1f} (final active share {best['final_active_share']:.1%}, "
                f"conversion {best['conversion']:.1%}, paid seats "
                f"{best['paid_seat_share']:.1%}, revenue {best['revenue']:,.0f})"
            )
    columns = ["variant", "free_value", "replicate", *(c for c, _, _ in OUTCOMES)]
    at_largest = frame.filter(pl.col("free_seats") == largest).select(columns)
    unlimited = frame.filter(pl.col("free_seats").is_null()).select(columns)
    same = at_largest.sort(columns[:3]).equals(unlimited.sort(columns[:3]))
    paid_unlimited = float(unlimited["conversion"].max())
    out.numbers["largest_workspace"] = largest
    out.numbers["cap_at_largest_equals_unlimited"] = same
    out.say(
        f"The largest team workspace has {largest} members, so a cap of {largest} free seats "
        f"{'gives exactly' if same else 'does not give'} the runs of an unlimited free plan; "
        f"with unlimited seats nobody is blocked and the highest conversion in any cell is "
        f"{paid_unlimited:.1%}."
    )
    out.finish("Study 3: the freemium trap")


if __name__ == "__main__":
    main()
