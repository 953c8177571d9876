"""Study 6: shadow IT. When does a bottom-up spread get banned, and what does enterprise
readiness buy?

    .venv/bin/python experiments/shadow_it.py      (part of `make experiments`)

The bottom-up plan of scenarios/default.toml (2,000 employees, 20 random champions on the
free plan, 104 weeks) with an IT security review (docs/model.md, eq. 14): IT notices once
15% of employees use the tool without a licence and gives its verdict 8 weeks later;
the tool passes with probability ``tool.enterprise_ready`` (0, 0.25, 0.5, 0.75, 1);
otherwise IT bans unlicensed use, or requires the enterprise plan.  Every cell uses the
same org and the same replicate streams (paired).

Outcomes per replicate: banned (0/1), the week IT noticed, final active share, net value
(value created − total cost of ownership, docs/model.md eq. 12).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from common import Output, ci_row, deep_merge, interval, plan_and_org, scenario_base
from plotly.subplots import make_subplots

from sim.engines.batched import BatchedModel
from sim.metrics import summarize

SCENARIO = "scenarios/default.toml"
READINESS = (0.0, 0.25, 0.5, 0.75, 1.0)
ON_FAIL = ("ban", "enterprise")
REPLICATES = 40
REVIEW = {"enabled": True, "threshold_share": 0.15, "delay_weeks": 8}


def run_cell(base: dict, ready: float, on_fail: str) -> pl.DataFrame:
    data = deep_merge(
        base,
        {"tool": {"enterprise_ready": ready}, "security_review": {**REVIEW, "on_fail": on_fail}},
    )
    config, org = plan_and_org(data, "shadow_it")
    model = BatchedModel(config, org, list(range(REPLICATES)))
    for _ in range(config.weeks):
        model.step()
    trajectories = model.recorder.trajectories()
    departments = model.recorder.departments()
    tags = [pl.lit("bottom-up").alias("plan"), pl.lit(0, pl.Int64).alias("point")]
    summary = summarize(trajectories.with_columns(tags), departments.with_columns(tags), org.n)
    return summary.with_columns(
        pl.lit(ready).alias("enterprise_ready"),
        pl.lit(on_fail).alias("on_fail"),
        pl.Series("banned", model.reviews.banned.astype(int)),
        pl.Series(
            "noticed",
            [int(w) if w >= 0 else None for w in model.reviews.noticed],
            dtype=pl.Int64,
        ),
    )


def main() -> None:
    out = Output("shadow_it")
    base = scenario_base(SCENARIO)
    frame = pl.concat(
        [run_cell(base, ready, on_fail) for on_fail in ON_FAIL for ready in READINESS],
        how="diagonal_relaxed",
    )
    out.table(frame, "replicates")
    rows = []
    for (on_fail, ready), part in frame.group_by(
        "on_fail", "enterprise_ready", maintain_order=True
    ):
        for column in ("banned", "noticed", "final_active_share", "net_value"):
            rows.append(
                ci_row(part[column].to_list(), on_fail=on_fail, ready=ready, outcome=column)
            )
    table = pl.DataFrame(rows)
    out.table(table, "summary")

    def cell(on_fail: str, ready: float, outcome: str) -> dict:
        return table.filter(
            (pl.col("on_fail") == on_fail)
            & (pl.col("ready") == ready)
            & (pl.col("outcome") == outcome)
        ).row(0, named=True)

    noticed = cell("ban", 0.0, "noticed")
    out.say(
        f"IT notices the bottom-up spread (15% unlicensed users) in week "
        f"{interval(noticed['mean'], noticed['low'], noticed['high'])} "
        f"({noticed['n']} of {noticed['of']} replicates); its verdict comes 8 weeks later."
    )
    for ready in READINESS:
        banned = cell("ban", ready, "banned")
        share = cell("ban", ready, "final_active_share")
        value = cell("ban", ready, "net_value")
        out.say(
            f"enterprise_ready {ready:.2f}, on fail ban: banned in "
            f"{banned['mean']:.0%} of replicates; final active share "
            f"{interval(share['mean'], share['low'], share['high'], '{:.1%}')}; net value "
            f"{interval(value['mean'], value['low'], value['high'], '{:,.0f}')}"
        )
    never, always = cell("ban", 0.0, "final_active_share"), cell("ban", 1.0, "final_active_share")
    out.say(
        f"What enterprise readiness buys under a ban policy: final active share "
        f"{never['mean']:.1%} when the tool always fails the review vs {always['mean']:.1%} "
        f"when it always passes ({always['mean'] - never['mean']:+.1%})."
    )
    forced = cell("enterprise", 0.0, "net_value")
    out.say(
        "If a failed review requires the enterprise plan instead, the spread is kept and "
        f"paid for: net value {interval(forced['mean'], forced['low'], forced['high'], '{:,.0f}')} "
        "at enterprise_ready 0."
    )
    out.numbers = {
        row["on_fail"] + f"@{row['ready']}:" + row["outcome"]: row["mean"] for row in rows
    }

    fig = make_subplots(rows=1, cols=2, subplot_titles=("final active share", "net value"))
    for col, outcome in enumerate(("final_active_share", "net_value"), start=1):
        for on_fail, colour in zip(ON_FAIL, ("#D55E00", "#0072B2"), strict=True):
            means = [cell(on_fail, r, outcome) for r in READINESS]
            fig.add_trace(
                go.Scatter(
                    x=list(READINESS),
                    y=[m["mean"] for m in means],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [m["high"] - m["mean"] for m in means],
                        "arrayminus": [m["mean"] - m["low"] for m in means],
                    },
                    name=f"on fail: {on_fail}",
                    line={"color": colour},
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="tool.enterprise_ready", row=1, col=col)
    fig.update_layout(title="Shadow IT: what enterprise readiness buys (bottom-up plan)")
    out.figure(
        fig,
        "readiness",
        f"{SCENARIO}, bottom-up plan, review at 15% unlicensed users, verdict after 8 weeks; "
        f"{REPLICATES} replicates per point, seed {base.get('seed')}; mean and 95% CI",
    )
    out.finish("Shadow IT: when a bottom-up spread gets banned")


if __name__ == "__main__":
    main()
