"""The one catalogue of summary outcomes: label, unit, format and which direction is better.

Every page and table (the run's report.html, compare, export, the terminal) names outcomes
from here, so a cost always carries its currency and horizon and "better" means the same
thing everywhere.  A cost's unit is written with the scenario's own currency
(``[costs] currency``) and horizon (``weeks``): see :class:`Money`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from sim.results.stats import mean_ci, outcome_range


class Outcome(NamedTuple):
    """How an outcome is named and shown.

    ``unit`` may hold ``{currency}``; ``money`` says the outcome is an amount accumulated
    over the horizon (so its label carries "over N weeks"); ``better`` is "lower",
    "higher" or None (shown, never ranked: the vendor's gain is the org's cost)."""

    label: str
    unit: str
    fmt: str
    better: str | None
    money: bool = False


OUTCOMES: dict[str, Outcome] = {
    "t50": Outcome("weeks to 50% active", "weeks", "{:.1f}", "lower"),
    "t80": Outcome("weeks to 80% active", "weeks", "{:.1f}", "lower"),
    "final_active_share": Outcome("final active share", "share of employees", "{:.1%}", "higher"),
    "peak_active_share": Outcome("peak active share", "share of employees", "{:.1%}", "higher"),
    "mean_active_share": Outcome(
        "mean active share over the run", "share of employees", "{:.1%}", "higher"
    ),
    "shelfware_share": Outcome("shelfware share", "share of seats paid for", "{:.1%}", "lower"),
    "cost_per_engaged_user": Outcome(
        "cost per engaged user", "{currency} per engaged user", "{:,.1f}", "lower", True
    ),
    "total_cost": Outcome("total cost of ownership", "{currency}", "{:,.0f}", "lower", True),
    "cost_per_employee": Outcome(
        "cost per employee", "{currency} per employee", "{:,.1f}", "lower", True
    ),
    "departments_reached": Outcome("departments >= 50% active", "departments", "{:.1f}", "higher"),
    "paywall_conversions": Outcome("paywall conversions", "workspaces", "{:.1f}", None),
    "deal_week": Outcome("week of the enterprise deal", "week", "{:.1f}", None),
    "value_created": Outcome("value created", "{currency}", "{:,.0f}", "higher", True),
    "net_value": Outcome("net value", "{currency}", "{:,.0f}", "higher", True),
    "roi": Outcome("return on investment", "net value / total cost", "{:.1%}", "higher", True),
}

# Which direction of each outcome is better ("lower", "higher"), or None where neither is.
BETTER: dict[str, str | None] = {column: o.better for column, o in OUTCOMES.items()}

WEEK_OUTCOMES = ("t50", "t80", "deal_week")  # undefined in a run: the week never came


def describe(column: str) -> Outcome:
    """Label, unit, format and direction of an outcome; one this module does not know yet
    is shown under its column name, never ranked."""
    return OUTCOMES.get(column, Outcome(column, "", "{:.3g}", None))


class Money(NamedTuple):
    """The currency and horizon that every cost of one results folder is in."""

    currency: str
    weeks: int | None  # None: the horizon differs between sweep points (weeks is swept)

    @property
    def horizon(self) -> str:
        return f"over {self.weeks} weeks" if self.weeks else "over each point's horizon"


def money(manifest: dict[str, Any]) -> Money:
    """The currency (``[costs] currency``) and horizon (``weeks``) of a run or sweep, from
    its manifest; plans with different currencies are listed together ("USD/EUR")."""
    scenario = manifest.get("scenario") or {}
    configs = [p.get("config") or {} for p in scenario.get("plans") or []]
    currencies = []
    for config in configs:
        currency = (config.get("costs") or {}).get("currency") or "USD"
        if currency not in currencies:
            currencies.append(currency)
    swept = "weeks" in ((scenario.get("sweep") or {}).get("parameters") or {})
    weeks = next((c.get("weeks") for c in configs if c.get("weeks")), None)
    return Money("/".join(currencies) or "USD", None if swept else weeks)


def unit(column: str, where: Money | None = None) -> str:
    """The outcome's unit in words, with the currency filled in: 'USD per engaged user'."""
    return describe(column).unit.format(currency=where.currency if where else "currency")


def titled(column: str, where: Money | None = None) -> str:
    """Label with unit (and horizon for amounts over the run), for table rows and axes:
    'total cost of ownership (USD, over 104 weeks)', 'final active share'."""
    info = describe(column)
    if info.money:
        horizon = f", {where.horizon}" if where else ""
        return f"{info.label} ({unit(column, where)}{horizon})"
    if info.unit in ("weeks", "week"):
        return info.label if "week" in info.label else f"{info.label} ({info.unit})"
    return info.label


def summarise(values: list, column: str, bounds: tuple[float, float] | None = None) -> dict:
    """Mean, 95% Student-t CI and how many of ``values`` are defined (``n`` of
    ``replicates``) of one outcome, as the row that tables and pages format."""
    mean, low, high = mean_ci(values, bounds=bounds or outcome_range(column))
    defined = sum(v is not None and math.isfinite(v) for v in values)
    return outcome_row(column, mean, low, high, defined, len(values))


def outcome_row(column: str, mean, low, high, n: int, replicates: int) -> dict:
    """The row tables and pages format for one outcome's estimate and interval (``n``
    defined values of ``replicates``), with the outcome's label and number format."""
    info = describe(column)
    return {
        "outcome": column,
        "label": info.label,
        "mean": mean,
        "low": low,
        "high": high,
        "n": n,
        "replicates": replicates,
        "fmt": info.fmt,
    }


def format_interval(row: dict | None, signed: bool = False) -> str:
    """``mean [low, high]`` in the outcome's format, for tables in the terminal and reports.

    No run defines the outcome: "never" for a week (t50: nobody reached 50%), else "n/a"
    (e.g. shelfware share with no seat licensed). One run defines it: "mean [n/a]" (no
    interval from one value). Fewer runs (or replicate pairs) than replicates: "(n/replicates)"
    follows.
    """
    if row is not None and row.get("paired") and row["n"] == 0 and row.get("replicates"):
        return f"n/a (0/{row['replicates']})"  # no pair defines the difference
    if row is None or row["n"] == 0 or math.isnan(row["mean"]):
        return "never" if row is not None and row.get("outcome") in WEEK_OUTCOMES else "n/a"
    fmt = row["fmt"].replace("{:", "{:+") if signed else row["fmt"]
    if row["n"] == 1 or math.isnan(row["low"]) or math.isnan(row["high"]):
        text = f"{fmt.format(row['mean'])} [n/a]"
    else:
        text = f"{fmt.format(row['mean'])} [{fmt.format(row['low'])}, {fmt.format(row['high'])}]"
    if row.get("replicates") and row["n"] < row["replicates"]:
        text += f" ({row['n']}/{row['replicates']})"
    return text
