"""Study 2: bottom-up vs top-down vs hybrid on the default org and on Krackhardt's org.

    .venv/bin/python experiments/plans.py      (part of `make experiments`)

Runs every plan of scenarios/default.toml (2,000 employees) and scenarios/krackhardt.toml
(21 managers, real ties) on the batched engine with the scenario's seed, so every plan
sees the same org and the same random streams: replicate r of one plan is paired with
replicate r of another. Reports, per plan, the adoption curve with its 95% band, weeks to
50% engaged (t50), shelfware share, cost per engaged user, final active share and total
cost (mean and 95% Student-t CI over replicates), and the paired differences
bottom-up − top-down and hybrid − top-down (mean of per-replicate differences, 95% CI).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from common import PALETTE, ROOT, Output, add_band, bands, ci_row, excludes_zero, interval, paired
from plotly.subplots import make_subplots

from sim.engines.runner import prepare, run_scenario
from sim.scenario import load_scenario

ORGS = (  # (label, scenario file, replicates: more for the small, noisy org)
    ("default", "scenarios/default.toml", 50),
    ("krackhardt", "scenarios/krackhardt.toml", 500),
)
OUTCOMES = (  # column, label, format
    ("t50", "weeks to 50% engaged", "{:.1f}"),
    ("final_active_share", "final active share", "{:.1%}"),
    ("peak_active_share", "peak active share", "{:.1%}"),
    ("shelfware_share", "shelfware share of seats", "{:.1%}"),
    ("cost_per_engaged_user", "cost per engaged user", "{:,.0f}"),
    ("total_cost", "total cost", "{:,.0f}"),
)
PAIRS = (("bottom-up", "top-down"), ("hybrid", "top-down"))


def study(out: Output, label: str, path: str, replicates: int) -> tuple[list, list, str]:
    scenario = load_scenario(ROOT / path)
    prepared = prepare(scenario)
    result = run_scenario(prepared, "batched", replicates)
    plans = [p.name for p in scenario.plans]
    config = scenario.plans[0].config
    n, seed, weeks = prepared[0].org.n, config.seed, config.weeks
    context = (
        f"{path} ({n:,} employees, {weeks} weeks), {replicates} replicates per plan, "
        f"seed {seed}, batched engine; plans paired (same org, same random streams)."
    )
    out.table(result.summary.with_columns(pl.lit(label).alias("org")), f"summary_{label}")

    # adoption curves: engaged users and seats paid for, mean and 95% band per plan
    traj = result.trajectories
    engaged = bands(traj, pl.col("active") / n, ["plan"])
    seats = bands(traj, pl.col("seats") / n, ["plan"])
    out.table(
        engaged.with_columns(pl.lit(label).alias("org"), pl.lit("active").alias("series")).vstack(
            seats.with_columns(pl.lit(label).alias("org"), pl.lit("seats").alias("series"))
        ),
        f"curves_{label}",
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("engaged users (share of org)", "seats paid for (share of org)"),
    )
    for i, plan in enumerate(plans):
        color = PALETTE[i % len(PALETTE)]
        add_band(fig, engaged.filter(pl.col("plan") == plan), plan, color, 1, 1)
        add_band(fig, seats.filter(pl.col("plan") == plan), plan, color, 1, 2, showlegend=False)
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(title_text="week")
    fig.update_layout(title=f"{label}: adoption curves per plan, mean and 95% band", height=480)
    out.figure(
        fig,
        f"curves_{label}",
        f"{context} Gap between the panels' curves = shelfware and unused paid seats.",
    )

    # outcomes per plan and paired differences
    rows, diffs = [], []
    summary = result.summary
    for column, name, fmt in OUTCOMES:
        for plan in plans:
            values = summary.filter(pl.col("plan") == plan)[column].to_list()
            rows.append(ci_row(values, org=label, plan=plan, outcome=column, label=name, fmt=fmt))
        for a, b in PAIRS:
            diffs.append(
                paired(
                    summary.filter(pl.col("plan") == a),
                    summary.filter(pl.col("plan") == b),
                    column,
                    ["replicate"],
                    org=label,
                    a=a,
                    b=b,
                    outcome=column,
                    label=name,
                    fmt=fmt,
                )
            )
    fig = make_subplots(rows=1, cols=5, subplot_titles=[o[1] for o in OUTCOMES[:5]])
    for k, (column, name, _) in enumerate(OUTCOMES[:5]):
        part = [r for r in rows if r["outcome"] == column]
        fig.add_trace(
            go.Scatter(
                x=[r["plan"] for r in part],
                y=[r["mean"] for r in part],
                mode="markers",
                marker={"size": 10, "color": list(PALETTE[: len(part)])},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r["high"] - r["mean"] for r in part],
                    "arrayminus": [r["mean"] - r["low"] for r in part],
                },
                name=name,
                showlegend=False,
            ),
            1,
            k + 1,
        )
        if "share" in column:
            fig.update_yaxes(tickformat=".0%", row=1, col=k + 1)
    fig.update_layout(title=f"{label}: outcomes per plan, mean and 95% CI", height=420)
    out.figure(
        fig,
        f"outcomes_{label}",
        f"{context} t50 over replicates that reached 50% within {weeks} weeks.",
    )

    # findings
    reached = {
        plan: summary.filter(pl.col("plan") == plan)["t50"].is_not_null().mean() for plan in plans
    }
    out.say(f"**{label}** ({context})")
    for plan in plans:
        cells = []
        for column, name, fmt in OUTCOMES:
            r = next(x for x in rows if x["plan"] == plan and x["outcome"] == column)
            cells.append(f"{name} {interval(r['mean'], r['low'], r['high'], fmt)}")
            out.numbers[f"{label}.{plan}.{column}"] = {k: r[k] for k in ("mean", "low", "high")}
        out.numbers[f"{label}.{plan}.reached_50"] = reached[plan]
        out.say(
            f"  {label} / {plan}: {'; '.join(cells)}; reached 50% in {reached[plan]:.0%} "
            f"of replicates"
        )
    for a, b in PAIRS:
        cells = []
        for column, name, fmt in OUTCOMES:
            r = next(x for x in diffs if x["a"] == a and x["b"] == b and x["outcome"] == column)
            mark = "*" if excludes_zero(r) else ""
            pairs = f" ({r['n']}/{r['of']} pairs)" if r["n"] < r["of"] else ""
            cells.append(
                f"{name} {interval(r['mean'], r['low'], r['high'], fmt, signed=True)}{mark}{pairs}"
            )
            out.numbers[f"{label}.{a}-{b}.{column}"] = {k: r[k] for k in ("mean", "low", "high")}
        out.say(f"  {label}, paired {a} − {b}: {'; '.join(cells)}")
    fastest = min(
        plans,
        key=lambda p: next(r["mean"] for r in rows if r["plan"] == p and r["outcome"] == "t50"),
    )
    cheapest = min(
        plans,
        key=lambda p: next(
            r["mean"] for r in rows if r["plan"] == p and r["outcome"] == "cost_per_engaged_user"
        ),
    )
    out.say(
        f"  {label}: fastest to 50% on average: {fastest}; lowest cost per engaged user: "
        f"{cheapest} (* = paired 95% CI excludes 0)"
    )
    return rows, diffs, f"{path}: {replicates} replicates per plan, seed {seed}"


def forest(out: Output, diffs: list[dict], context: str) -> None:
    """All paired differences of both orgs, one panel per outcome."""
    shown = tuple(o for o in OUTCOMES if o[0] != "total_cost")
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=[o[1] for o in shown])
    for k, (column, _, _) in enumerate(shown):
        part = [d for d in diffs if d["outcome"] == column]
        fig.add_trace(
            go.Scatter(
                x=[d["mean"] for d in part],
                y=[f"{d['org']}: {d['a']} − {d['b']}" for d in part],
                mode="markers",
                marker={
                    "size": 9,
                    "color": ["#d62728" if excludes_zero(d) else "#777" for d in part],
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [d["high"] - d["mean"] for d in part],
                    "arrayminus": [d["mean"] - d["low"] for d in part],
                },
                showlegend=False,
            ),
            1,
            k + 1,
        )
        fig.add_vline(x=0, line_dash="dot", row=1, col=k + 1)
        if "share" in column:
            fig.update_xaxes(tickformat=".0%", row=1, col=k + 1)
        if k:
            fig.update_yaxes(showticklabels=False, row=1, col=k + 1)
    fig.update_layout(
        title="Paired differences between plans (mean and 95% CI; red = CI excludes 0)",
        height=420,
        margin={"l": 230},
    )
    out.figure(fig, "differences", context)


def main() -> None:
    out = Output("plans")
    all_rows, all_diffs = [], []
    contexts = []
    for label, path, replicates in ORGS:
        rows, diffs, context = study(out, label, path, replicates)
        all_rows += rows
        all_diffs += diffs
        contexts.append(context)
    out.table(pl.DataFrame(all_rows), "outcomes")
    out.table(pl.DataFrame(all_diffs), "differences")
    forest(
        out,
        all_diffs,
        "; ".join(contexts) + ". Batched engine; paired by replicate (same org and streams). "
        "t50 pairs: replicates where both plans reached 50%.",
    )
    out.finish("Study 2: bottom-up vs top-down vs hybrid")


if __name__ == "__main__":
    main()
