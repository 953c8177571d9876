"""Per-run outcomes computed from trajectories: one summary row per (plan, point, replicate)."""

from __future__ import annotations

import polars as pl

RUN_KEYS = ("plan", "point", "replicate")
SUMMARY_COLUMNS = (
    "t50",  # first week with >= 50% of employees engaged (null: never)
    "t80",  # first week with >= 80% engaged (null: never)
    "final_active_share",
    "peak_active_share",
    "mean_active_share",  # active share averaged over every week: speed and reach together
    "shelfware_share",  # licences not engaged / seats paid for, final week (null: no seats)
    "cost_per_engaged_user",  # cumulative cost / engaged users, final week (null: none)
    "total_cost",  # total cost of ownership: licences, seats, champions, training, actions
    "cost_per_employee",  # total_cost / employees: defined in every run, unlike per engaged user
    "value_created",  # engaged user-weeks x value per engaged user-week
    "net_value",  # value_created - total_cost
    "roi",  # net_value / total_cost (null: nothing spent)
    "departments_reached",  # departments with >= 50% engaged in the final week
    "paywall_conversions",  # workspaces that paid by the final week
    "deal_week",  # week of the enterprise deal (null: none)
)
REACHED_SHARE = 0.5


def _first_week(condition: pl.Expr) -> pl.Expr:
    return pl.col("week").filter(condition).min()


def summarize(trajectories: pl.DataFrame, departments: pl.DataFrame, n: int) -> pl.DataFrame:
    """Summary outcomes of each run in ``trajectories`` (an org of ``n`` employees)."""
    keys = [k for k in RUN_KEYS if k in trajectories.columns]
    share = pl.col("active") / n
    last = pl.col("week") == pl.col("week").max()
    summary = (
        trajectories.group_by(keys, maintain_order=True)
        .agg(
            t50=_first_week(share >= 0.5),
            t80=_first_week(share >= 0.8),
            final_active_share=share.filter(last).first(),
            peak_active_share=share.max(),
            mean_active_share=share.mean(),
            final_seats=pl.col("seats").filter(last).first(),
            final_shelfware=pl.col("shelfware").filter(last).first(),
            final_active=pl.col("active").filter(last).first(),
            total_cost=pl.col("cum_cost").filter(last).first(),
            value_created=pl.col("cum_value").filter(last).first(),
            paywall_conversions=pl.col("paid_workspaces").filter(last).first(),
            deal_week=_first_week(pl.col("deal")),
        )
        .with_columns(
            shelfware_share=pl.when(pl.col("final_seats") > 0)
            .then(pl.col("final_shelfware") / pl.col("final_seats"))
            .otherwise(None),
            cost_per_engaged_user=pl.when(pl.col("final_active") > 0)
            .then(pl.col("total_cost") / pl.col("final_active"))
            .otherwise(None),
            cost_per_employee=pl.col("total_cost") / n,
            net_value=pl.col("value_created") - pl.col("total_cost"),
            roi=pl.when(pl.col("total_cost") > 0)
            .then((pl.col("value_created") - pl.col("total_cost")) / pl.col("total_cost"))
            .otherwise(None),
        )
    )
    reached = (
        departments.filter(pl.col("week") == pl.col("week").max().over(keys))
        .group_by(keys)
        .agg(
            departments_reached=(
                (pl.col("size") > 0) & (pl.col("active_share") >= REACHED_SHARE)
            )  # an empty department's share is 0/0 = NaN, which polars ranks above 0.5
            .sum()
            .cast(pl.Int64)
        )
    )
    summary = summary.join(reached, on=keys, how="left")
    return summary.select(*keys, *SUMMARY_COLUMNS).sort(keys)
