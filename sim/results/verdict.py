"""Which plan wins an outcome, by how much, and how sure: the verdicts reports lead with.

Plans of one run (or one sweep point) see the same org and random streams, so they are
compared *paired*: per replicate the difference between two plans' outcomes, then the
Student-t interval of the mean difference (:func:`sim.results.stats.mean_ci`).  The best
plan on average is the *winner* only when every other plan's paired difference to it has a
95% CI that excludes 0; otherwise there is no clear winner.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from sim.results.outcomes import (
    BETTER,
    WEEK_OUTCOMES,
    Money,
    describe,
    format_interval,
    summarise,
    unit,
)
from sim.results.stats import difference_range


def paired(part: pl.DataFrame, plan_a: str, plan_b: str, column: str) -> dict[str, Any]:
    """Mean of A − B over replicate pairs (same point and replicate) with its 95% CI.

    Pairs where either plan has no value (e.g. never reached 50%) are left out: ``n`` says
    how many pairs define the difference, ``replicates`` how many pairs there are."""
    return paired_columns(part, plan_a, plan_b, [column])[0]


def paired_columns(
    part: pl.DataFrame, plan_a: str, plan_b: str, columns: list[str]
) -> list[dict[str, Any]]:
    """:func:`paired` for each of ``columns``, in their order, from one join of A's rows
    with B's (a report's table reads every outcome of a point: one join, not one each)."""
    keys = [k for k in ("point", "replicate") if k in part.columns]
    distinct = list(dict.fromkeys(columns))  # an outcome asked for twice is joined once
    # B's columns renamed by position, longer than any name in ``part`` so that none can
    # clash (a name with "_b" appended could be another outcome's)
    prefix = "b" * (1 + max(len(name) for name in part.columns))
    b_names = {column: f"{prefix}{k}" for k, column in enumerate(distinct)}
    a = part.filter(pl.col("plan") == plan_a).select(*keys, *distinct)
    b = part.filter(pl.col("plan") == plan_b).select(*keys, *distinct).rename(b_names)
    joined = a.join(b, on=keys)
    diffs = joined.select(pl.col(c) - pl.col(b_names[c]) for c in distinct)
    rows = []
    for column in columns:
        diff = diffs[column]
        diff = diff.drop_nulls().drop_nans() if diff.dtype.is_float() else diff.drop_nulls()
        row = summarise(diff.to_list(), column, bounds=difference_range(column))
        rows.append({**row, "replicates": joined.height, "a": plan_a, "b": plan_b, "paired": True})
    return rows


def excludes_zero(row: dict[str, Any] | None) -> bool:
    """Whether a difference's 95% CI lies wholly on one side of 0 (needs two or more
    values: one value has no interval)."""
    if row is None or row["n"] < 2 or math.isnan(row["low"]) or math.isnan(row["high"]):
        return False
    return row["low"] > 0 or row["high"] < 0


def _rank_key(row: dict[str, Any], better: str) -> tuple:
    """Sort key, best first: a plan with no value ranks last; for weeks-to-X outcomes a
    plan that got there in more replicates ranks first ("never" is the worst week)."""
    if row["n"] == 0 or math.isnan(row["mean"]):
        return (1, 0.0, 0.0)
    reached = -row["n"] / row["replicates"] if row["outcome"] in WEEK_OUTCOMES else 0.0
    return (0, reached, row["mean"] if better == "lower" else -row["mean"])


def rank(part: pl.DataFrame, plans: list[str], column: str, point: int = 0) -> dict | None:
    """Every plan of one point best first on ``column``, each with its paired difference to
    the best (plan − best), and the verdict.

    Returns point, outcome, label, better, plans (rows with ``rank`` and ``diff``), best
    and winner (None: no clear winner; a plan that never reached a week-to-X outcome while
    the best did in two or more replicates counts as beaten); None when no plan has rows.
    """
    better = BETTER[column]
    rows = []
    for plan in plans:
        values = part.filter(pl.col("plan") == plan)[column].to_list()
        if values:
            rows.append({"point": point, "plan": plan, **summarise(values, column)})
    if not rows or better is None:
        return None
    rows.sort(key=lambda r: _rank_key(r, better))
    best = rows[0]
    entries, beaten = [], []
    for position, row in enumerate(rows, 1):
        diff = None
        if row is not best:
            diff = paired(part, row["plan"], best["plan"], column)
            never = column in WEEK_OUTCOMES and row["n"] == 0 and best["n"] >= 2
            beaten.append(never or excludes_zero(diff))
        lost = bool(diff is not None and beaten[-1])
        entries.append({**row, "rank": position, "diff": diff, "beaten": lost})
    clear = len(rows) > 1 and best["n"] > 0 and all(beaten)
    return {
        "point": point,
        "outcome": column,
        "label": describe(column).label,
        "better": better,
        "plans": entries,
        "best": best["plan"],
        "winner": best["plan"] if clear else None,
    }


def verdict(entry: dict[str, Any]) -> str:
    """One line on who wins an outcome: the winner, or 'no clear winner'."""
    if entry["plans"][0]["n"] == 0:
        return "never reached" if entry["outcome"] in WEEK_OUTCOMES else "undefined for all"
    if len(entry["plans"]) < 2:
        return "one plan only"
    return f"{entry['winner']} wins" if entry["winner"] else "no clear winner"


def lead(part: pl.DataFrame, entry: dict[str, Any]) -> dict[str, Any] | None:
    """Best − runner-up, paired, with its CI and pairs (None with one plan or no value)."""
    if len(entry["plans"]) < 2 or entry["plans"][0]["n"] == 0:
        return None
    return paired(part, entry["best"], entry["plans"][1]["plan"], entry["outcome"])


def _amount(value: float, column: str, where: Money | None) -> str:
    """A magnitude in the outcome's format and unit: '19.0 weeks', '12.3%', '1,234 USD'."""
    info = describe(column)
    text = info.fmt.format(value)
    if text.endswith("%"):
        return f"{text[:-1]} percentage points"
    return f"{text} {unit(column, where)}".rstrip()


def sentence(entry: dict[str, Any], lead_row: dict[str, Any] | None, where: Money | None) -> str:
    """The verdict in words, with the numbers it rests on.

    'top-down wins: better than hybrid (the runner-up) by 19.0 weeks, paired difference
    -19.0 [-19.2, -18.8] over 20/20 replicate pairs.'  Without a clear winner it says which
    plan is best on average and which rival's interval includes 0."""
    column = entry["outcome"]
    first = entry["plans"][0]
    if first["n"] == 0:
        return "No plan reached it." if column in WEEK_OUTCOMES else "Undefined for every plan."
    if lead_row is None:
        return f"{entry['best']} is the only plan."
    runner = entry["plans"][1]
    if runner["n"] == 0 and column in WEEK_OUTCOMES:
        gap = f"{runner['plan']} (the runner-up) never reached it"
    elif lead_row["n"] == 0:
        gap = f"no replicate pair defines the difference to {runner['plan']} (the runner-up)"
    else:
        diff = {**lead_row, "replicates": 0}
        gap = (
            f"better than {runner['plan']} (the runner-up) by "
            f"{_amount(abs(lead_row['mean']), column, where)}: paired difference "
            f"{format_interval(diff, signed=True)} over {lead_row['n']}/{lead_row['replicates']} "
            "replicate pairs"
        )
    if entry["winner"]:
        return f"{entry['winner']} wins: {gap}."
    if lead_row["n"] and lead_row["low"] == lead_row["high"] == 0:
        return f"No clear winner: {entry['best']} and {runner['plan']} tie in every pair."
    rivals = [r["plan"] for r in entry["plans"][1:] if not r["beaten"]]
    why = f"the 95% CI of {', '.join(rivals)} includes 0" if rivals else "too few pairs"
    return f"No clear winner ({why}). Best on average: {entry['best']}, {gap}."
