"""Plan comparison from stored results: paired outcomes, paired differences, report.html.

Every plan of a run or sweep sees the same org and random streams at each sweep point, so
plans are compared *paired*: for each (point, replicate) the difference between two plans'
outcomes, then a Student-t confidence interval of the mean difference. Pairing removes the
variation that the plans share (the org, the luck of the draw) and gives much tighter
intervals than comparing two independent means.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots
from polars.exceptions import PolarsError

from sim.errors import AdoptsimError
from sim.palette import DIVERGING, GRID, MUTED
from sim.results import grid, store
from sim.results.outcomes import (
    BETTER,
    OUTCOMES,
    WEEK_OUTCOMES,
    Money,
    Outcome,
    describe,
    format_interval,
    money,
    outcome_row,
    summarise,
    titled,
)
from sim.results.report import SHARE_AXIS, band, band_traces, plan_style
from sim.results.settings import setting_label, short_name
from sim.results.stats import difference_range, mean_ci, outcome_range, welch_ci
from sim.results.verdict import excludes_zero, paired_columns, rank, verdict
from sim.scenario import ScenarioError

__all__ = [
    "BETTER",
    "OUTCOMES",
    "Outcome",
    "Results",
    "describe",
    "excludes_zero",
    "paired_differences",
    "ranking",
    "verdict",
]

COMPARED = (
    ("t50", "weeks to 50% active", "{:.1f}"),
    ("final_active_share", "final active share", "{:.1%}"),
    ("shelfware_share", "shelfware share", "{:.1%}"),
    ("cost_per_engaged_user", "cost per engaged user", "{:,.1f}"),
    ("total_cost", "total cost of ownership", "{:,.0f}"),
    ("net_value", "net value", "{:,.0f}"),
)
KEYS = ("plan", "point", "replicate")


def outcomes_in(summary: pl.DataFrame, columns=None) -> list[str]:
    """The outcome columns a stored summary has, known ones first in BETTER's order (older
    results lack newer outcomes: they are skipped, not an error)."""
    if columns is not None:
        return [c for c in columns if c in summary.columns]
    known = [c for c in BETTER if c in summary.columns]
    extra = [
        c
        for c in summary.columns
        if c not in BETTER and c not in KEYS and summary.schema[c].is_numeric()
    ]
    return known + extra


def ranked_outcomes(summary: pl.DataFrame) -> list[str]:
    """The outcomes of ``summary`` that have a better direction, so plans can be ranked."""
    return [c for c in outcomes_in(summary) if BETTER.get(c)]


def compared(results: Results) -> list[tuple[str, str, str]]:
    """The pair table's columns (COMPARED) that these results have."""
    return [item for item in COMPARED if item[0] in results.summary.columns]


@contextmanager
def reading(folder: Path) -> Iterator[None]:
    """Turn any failure to read stored results (bad JSON, a missing key, a damaged
    Parquet file, a column of the wrong type) into one clear error naming the folder."""
    try:
        yield
    except AdoptsimError:
        raise
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        IndexError,
        AttributeError,
        PolarsError,
    ) as error:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        what = type(error).__name__ + (f": {reason}" if reason else "")
        raise AdoptsimError(
            f"{folder}: damaged or unreadable results ({what}); run the scenario again to "
            "rewrite them"
        ) from None


class Results:
    """A results folder written by ``adoptsim run`` or ``adoptsim sweep``."""

    def __init__(self, folder: Path):
        with reading(Path(folder)):
            self._load(Path(folder))

    def _load(self, folder: Path) -> None:
        self.folder = folder
        if not self.folder.exists():
            raise ScenarioError(f"{self.folder}: does not exist")
        if not self.folder.is_dir():
            raise ScenarioError(f"{self.folder}: is a file, expected a results folder")
        manifest = self.folder / "manifest.json"
        if not manifest.is_file():
            raise ScenarioError(f"{self.folder}: not a results folder (no manifest.json)")
        self.manifest = store.read_json(manifest)
        kind = self.manifest.get("kind") if isinstance(self.manifest, dict) else None
        if kind in ("sensitivity", "optimize", "fit"):
            raise ScenarioError(
                f"{self.folder}: holds {'an' if kind[0] in 'aeiou' else 'a'} {kind} study "
                f"({kind}.html); compare and export read "
                "the results of adoptsim run or adoptsim sweep"
            )
        summary = self.folder / "summary.parquet"
        if not summary.is_file():
            raise ScenarioError(f"{self.folder}: unfinished (no summary.parquet); run it again")
        self.summary = pl.read_parquet(summary)
        sweep = self._sweep()
        self.parameters: list[str] = list(sweep.get("parameters", {}))
        points = sweep.get("points") or [{}]
        self.points = pl.DataFrame([{"point": i, **p} for i, p in enumerate(points)])
        self.plans: list[str] = [p["name"] for p in self.manifest["scenario"]["plans"]]
        self.employees = self._employees()

    def _sweep(self) -> dict[str, Any]:
        """The sweep these results cover: none for ``adoptsim run``, which runs only the
        base plans even when the scenario has a ``[sweep]`` table."""
        if self.manifest.get("kind") == "run":
            return {}
        return self.manifest["scenario"].get("sweep") or {}

    def _employees(self) -> int:
        if "employees" in self.manifest:
            return int(next(iter(self.manifest["employees"].values())))
        first = (
            self.trajectories()
            .select(pl.sum_horizontal("unaware", "aware", "active", "nominal", "lapsed", "blocked"))
            .head(1)
            .collect()
        )
        return int(first.item())

    def trajectories(self) -> pl.LazyFrame:
        """All trajectory rows, lazily (a sweep's rows are never loaded at once)."""
        single = self.folder / "trajectories.parquet"
        if single.is_file():
            return pl.scan_parquet(single)
        return pl.scan_parquet(self.folder / "parts" / "trajectories" / "*.parquet")

    def point_label(self, point: int) -> str:
        if not self.parameters:
            return "all"
        row = self.points.filter(pl.col("point") == point).row(0, named=True)
        return ", ".join(f"{short_name(p)}={_short(row[p])}" for p in self.parameters)

    def point_value(self, point: int, parameter: str) -> Any:
        """The value of one swept parameter at one point."""
        return self.points.filter(pl.col("point") == point)[parameter].item()

    @property
    def money(self) -> Money:
        """The currency and horizon of every cost in these results."""
        return money(self.manifest)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _stats(values: list, column: str, bounds=None) -> dict[str, Any]:
    """Mean, 95% CI and how many of the values are defined (``n``) of one outcome."""
    return summarise(values, column, bounds)


def outcome_rows(
    results: Results, outcomes: list[str] | None = None, plans: list[str] | None = None
) -> list[dict[str, Any]]:
    """Per point, plan and outcome: mean and 95% CI over replicates.  ``outcomes``: the
    columns (default: the pair table's); ``plans``: which plans (default: all)."""
    columns = outcomes if outcomes is not None else [c for c, _, _ in compared(results)]
    rows = []
    for (point, plan), part in results.summary.group_by("point", "plan", maintain_order=True):
        if plans is not None and plan not in plans:
            continue
        for column in outcomes_in(part, columns):
            rows.append({"point": point, "plan": plan, **_stats(part[column].to_list(), column)})
    return rows


def paired_differences(
    results: Results, plan_a: str, plan_b: str, outcomes: list[str] | None = None
) -> list[dict[str, Any]]:
    """Per point and outcome: mean of (A - B) over paired replicates, with its 95% CI.

    Replicates where either plan has no value (e.g. never reached 50%) are left out; ``n``
    says how many pairs remain, ``replicates`` how many pairs there are (shown as (k/R)
    when fewer define the difference).
    """
    for plan in (plan_a, plan_b):
        if plan not in results.plans:
            raise ScenarioError(
                f"plan {plan!r} is not in {results.folder} (plans: {results.plans})"
            )
    columns = outcomes if outcomes is not None else [c for c, _, _ in compared(results)]
    columns = outcomes_in(results.summary, columns)
    rows = []
    for (point,), part in results.summary.group_by("point", maintain_order=True):
        for row in paired_columns(part, plan_a, plan_b, columns):
            if row["replicates"]:
                rows.append({"point": point, **row})
    return sorted(rows, key=lambda r: r["point"])


def find_row(
    rows: list[dict[str, Any]], point: int, outcome: str, plan: str | None = None
) -> dict[str, Any] | None:
    """The row of ``outcome_rows`` (with ``plan``) or ``paired_differences`` (without) for
    one point and outcome; None when the results have no such row."""
    for row in rows:
        if row["point"] == point and row["outcome"] == outcome and row.get("plan") == plan:
            return row
    return None


def default_pair(plans: list[str]) -> tuple[str, str]:
    """Bottom-up vs top-down when a scenario names them so, else its first two plans."""
    if "bottom-up" in plans and "top-down" in plans:
        return "bottom-up", "top-down"
    if len(plans) < 2:
        return plans[0], plans[0]
    return plans[0], plans[1]


# -- ranking every plan --------------------------------------------------------------------------
def ranking(results: Results) -> list[dict[str, Any]]:
    """Per point and ranked outcome: every plan best first, each with its paired difference
    to the best plan (plan − best) and the verdict (:func:`sim.results.verdict.rank`).

    The best plan is a *winner* only when every other plan's paired difference to it has a
    95% CI that excludes 0 (for weeks-to-X outcomes, a plan that never got there while the
    best did in two or more replicates counts as beaten too); otherwise there is no clear
    winner.  Returns dicts with point, outcome, label, better, plans (ranked outcome rows,
    each with ``rank`` and ``diff``), best and winner (None: no clear winner).
    """
    columns = ranked_outcomes(results.summary)
    ranked = []
    parts = {p: part for (p,), part in results.summary.group_by("point", maintain_order=True)}
    for point in results.points["point"].to_list():
        part = parts.get(point)
        if part is None:
            continue
        for column in columns:
            entry = rank(part, results.plans, column, point)
            if entry is not None:
                ranked.append(entry)
    return ranked


def wins(ranked: list[dict[str, Any]], plans: list[str]) -> dict[str, dict[str, int]]:
    """Per outcome: at how many points each plan was the clear winner, and how many points
    had no clear winner (the sweep-wide summary of :func:`ranking`)."""
    counts: dict[str, dict[str, int]] = {}
    for entry in ranked:
        tally = counts.setdefault(entry["outcome"], {p: 0 for p in [*plans, "no clear winner"]})
        tally[entry["winner"] or "no clear winner"] += 1
    return counts


def win_shares(
    ranked: list[dict[str, Any]], plans: list[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """Sweeps: per outcome and plan, the share of assumption sets (points) where the plan
    wins clearly, with its 95% Wilson interval, and the range over points of the plan's
    mean paired difference to the best plan there (0 where it is the best)."""
    from sim.results.stats import wilson

    counts = wins(ranked, plans)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for column, tally in counts.items():
        entries = [e for e in ranked if e["outcome"] == column]
        points = len(entries)
        out[column] = {}
        for plan in [*plans, "no clear winner"]:
            share, low, high = wilson(tally[plan], points)
            diffs = [
                0.0 if row["diff"] is None else row["diff"]["mean"]
                for e in entries
                for row in e["plans"]
                if row["plan"] == plan and row["n"]
            ]
            diffs = [d for d in diffs if d == d]
            out[column][plan] = {
                "wins": tally[plan],
                "points": points,
                "share": share,
                "low": low,
                "high": high,
                "diff_min": min(diffs) if diffs else float("nan"),
                "diff_max": max(diffs) if diffs else float("nan"),
            }
    return out


def draw_wins(results: Results, plan_a: str, plan_b: str) -> list[dict[str, Any]]:
    """A run or sweep with ``--posterior``: per sweep point and outcome with a better
    direction, in how many of the replicates (each a plausible world: its own posterior
    draw, the same for both plans and at every point) A does better than B, with the
    share's 95% Wilson interval.  Ties (equal values) count for neither; replicates where
    either plan has no value are left out."""
    rows = []
    for point in results.points["point"].to_list():
        rows += _draw_wins_at(results, plan_a, plan_b, point)
    return rows


def _draw_wins_at(results: Results, plan_a: str, plan_b: str, point: int) -> list[dict[str, Any]]:
    from sim.results.stats import wilson

    rows = []
    summary = results.summary.filter(pl.col("point") == point)
    a = summary.filter(pl.col("plan") == plan_a).sort("replicate")
    b = summary.filter(pl.col("plan") == plan_b).sort("replicate")
    for column in ranked_outcomes(results.summary):
        joined = (
            a.select("replicate", column)
            .join(b.select("replicate", column), on="replicate", suffix="_b")
            .drop_nulls()
        )
        if joined.is_empty():
            continue
        x, y = joined[column].to_numpy(), joined[f"{column}_b"].to_numpy()
        better = (x < y) if BETTER[column] == "lower" else (x > y)
        k, n = int(better.sum()), joined.height
        share, low, high = wilson(k, n)
        rows.append(
            {
                "point": point,
                "outcome": column,
                "label": describe(column).label,
                "wins": k,
                "worlds": n,
                "share": share,
                "low": low,
                "high": high,
            }
        )
    return rows


def wins_figure(shares: dict[str, dict[str, dict[str, float]]], plans: list[str]) -> go.Figure:
    """One chart for a whole sweep: per outcome, the share of points each plan wins
    clearly (and with no clear winner), with its 95% Wilson interval."""
    fig = go.Figure()
    labels = [describe(c).label for c in shares]
    for k, plan in enumerate([*plans, "no clear winner"]):
        cells = [shares[c][plan] for c in shares]
        fig.add_trace(
            go.Bar(
                name=plan,
                y=labels,
                x=[cell["share"] for cell in cells],
                orientation="h",
                marker_color=MUTED if plan == "no clear winner" else plan_style(k)[0],
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": [cell["high"] - cell["share"] for cell in cells],
                    "arrayminus": [cell["share"] - cell["low"] for cell in cells],
                },
            )
        )
    fig.update_layout(
        title="How often each plan wins clearly, across the sweep's assumption sets",
        barmode="group",
        xaxis={"title": "share of points won (95% Wilson interval)", "range": [0, 1.02]},
        yaxis={"autorange": "reversed"},  # outcomes in the table's order, top down
        height=max(360, 90 + 28 * len(labels) * (len(plans) + 1)),
        margin={"l": 220},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig


# -- two results folders -------------------------------------------------------------------------
def plan_configs(results: Results) -> dict[str, dict[str, Any]]:
    """Each plan's resolved configuration, from the manifest."""
    return {p["name"]: p.get("config", {}) for p in results.manifest["scenario"]["plans"]}


def plan_employees(results: Results) -> dict[str, int]:
    """Head count per plan (older manifests give one count for every plan)."""
    given = results.manifest.get("employees") or {}
    return {plan: int(given.get(plan, results.employees)) for plan in results.plans}


DATA_FIELDS = ("chart", "ties", "path")  # org fields that name files


def org_identity(results: Results, config: dict) -> dict | None:
    """A plan's [org] table with its data files by content, not path: the same people.csv
    copied to another folder is the same org, an edited one is not.  Results written
    before manifests recorded the files' hashes compare the paths."""
    org = config.get("org")
    hashes = results.manifest.get("data_files")
    if not isinstance(org, dict) or not isinstance(hashes, dict):
        return org
    named = dict(org)
    for key in DATA_FIELDS:
        location = org.get(key)
        if key == "path" and isinstance(location, str):
            folder = location.rstrip("/") + "/"
            named[key] = sorted(h for f, h in hashes.items() if f.startswith(folder))
        elif isinstance(location, str):
            named[key] = hashes.get(location, location)
    return named


def shared_plans(a: Results, b: Results) -> list[str]:
    """The plans two results folders share, refused unless they are of the same org:
    same head count and the same scenario org table for each shared plan, same sweep
    points.  Compares base and calibrated (or otherwise re-parameterized) runs."""
    if a.folder.resolve() == b.folder.resolve():
        raise AdoptsimError(f"{a.folder} and {b.folder} are the same folder; name two")
    plans = [p for p in a.plans if p in b.plans]
    if not plans:
        raise AdoptsimError(
            f"{a.folder} and {b.folder} share no plan name (plans: {a.plans} and {b.plans}); "
            "only plans of the same name are compared"
        )
    configs_a, configs_b = plan_configs(a), plan_configs(b)
    heads_a, heads_b = plan_employees(a), plan_employees(b)
    for plan in plans:
        if heads_a[plan] != heads_b[plan]:
            raise AdoptsimError(
                f"{a.folder} and {b.folder} are not of the same org: plan {plan!r} has "
                f"{heads_a[plan]:,} employees in one and {heads_b[plan]:,} in the other"
            )
        org_a, org_b = org_identity(a, configs_a[plan]), org_identity(b, configs_b[plan])
        if org_a != org_b:
            fields = sorted(
                k
                for k in {*(org_a or {}), *(org_b or {})}
                if (org_a or {}).get(k) != (org_b or {}).get(k)
            )
            raise AdoptsimError(
                f"{a.folder} and {b.folder} are not of the same org: plan {plan!r}'s [org] "
                f"table differs ({', '.join(fields) or 'missing'})"
            )
    if not a.points.equals(b.points):
        raise AdoptsimError(
            f"{a.folder} and {b.folder} have different sweep points; compare folders of "
            "the same runs or sweeps"
        )
    return plans


def pairing(a: Results, b: Results, plans: list[str]) -> tuple[bool, str]:
    """Whether replicates of the two folders are pairs, and why (or why not): same seed
    and randomness contract in the manifests and the same replicates of every plan at
    every point, so replicate r saw the same org and the same random numbers in both."""
    seed_a, seed_b = a.manifest.get("seed"), b.manifest.get("seed")
    if seed_a is None or seed_a != seed_b:
        return False, f"the seeds differ ({seed_a} and {seed_b})"
    if a.manifest.get("randomness") != b.manifest.get("randomness"):
        return False, "the random-number contracts differ"
    seeds_a, seeds_b = plan_configs(a), plan_configs(b)
    if not all(seeds_a[p].get("seed") == seeds_b[p].get("seed") for p in plans):
        return False, "a plan's seed differs"

    def replicates(results: Results) -> pl.DataFrame:
        return results.summary.filter(pl.col("plan").is_in(plans)).select(KEYS).sort(KEYS)

    rows_a, rows_b = replicates(a), replicates(b)
    if not rows_a.equals(rows_b):
        counts = (
            f"{rows_a.height} and {rows_b.height} runs" if rows_a.height != rows_b.height else ""
        )
        return False, "the replicates differ" + (f" ({counts})" if counts else "")
    return True, "same seed and replicates"


def can_pair(a: Results, b: Results, plans: list[str]) -> bool:
    """Whether the replicates of the two folders are pairs (see :func:`pairing`)."""
    return pairing(a, b, plans)[0]


def folder_differences(a: Results, b: Results, plans: list[str], paired: bool) -> list[dict]:
    """Per point, shared plan and outcome (both folders have): A's and B's mean [95% CI]
    and the difference B − A with its CI: paired (mean of per-replicate differences) when
    the replicates pair up, else Welch's unpaired interval."""
    columns = [c for c in outcomes_in(a.summary) if c in b.summary.columns]
    rows = []
    for point in a.points["point"].to_list():
        for plan in plans:
            part_a = a.summary.filter((pl.col("plan") == plan) & (pl.col("point") == point))
            part_b = b.summary.filter((pl.col("plan") == plan) & (pl.col("point") == point))
            for column in columns:
                stats_a = _stats(part_a[column].to_list(), column)
                stats_b = _stats(part_b[column].to_list(), column)
                diff = _folder_diff(part_a, part_b, column, paired)
                rows.append(
                    {
                        "point": point,
                        "plan": plan,
                        "outcome": column,
                        "label": stats_a["label"],
                        "a": stats_a,
                        "b": stats_b,
                        "diff": diff,
                        "method": "paired" if paired else "Welch",
                    }
                )
    return rows


def _folder_diff(part_a: pl.DataFrame, part_b: pl.DataFrame, column: str, paired: bool) -> dict:
    """B − A for one plan, point and outcome, as a row format_interval can show."""
    bounds = difference_range(column)
    if paired:
        joined = part_a.join(part_b, on=["replicate"], suffix="_b")
        diffs = [
            y - x
            for x, y in zip(joined[column].to_list(), joined[f"{column}_b"].to_list(), strict=True)
            if x is not None and y is not None
        ]
        row = _stats(diffs, column, bounds=bounds)
        return {**row, "replicates": 0}
    mean, low, high, n_a, n_b = welch_ci(
        part_a[column].to_list(), part_b[column].to_list(), bounds=bounds
    )
    return outcome_row(column, mean, low, high, min(n_a, n_b), 0)


def direction_note(row: dict[str, Any]) -> str:
    """Which folder does better on one outcome of one plan, when the CI of B − A excludes 0."""
    better = BETTER.get(row["outcome"])
    if not excludes_zero(row["diff"]):
        return "no clear difference"
    if better is None:
        return "B higher" if row["diff"]["mean"] > 0 else "B lower"
    b_better = (row["diff"]["mean"] < 0) == (better == "lower")
    return "B better" if b_better else "A better"


# -- figures -------------------------------------------------------------------------------------
SHARE = pl.col("active") / pl.sum_horizontal(
    "unaware", "aware", "active", "nominal", "lapsed", "blocked"
)
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star")


def _grid(count: int, most: int = 3) -> tuple[int, int]:
    """(rows, columns) of a grid of small charts: at most ``most`` across."""
    cols = max(1, min(most, count))
    return max(1, math.ceil(count / cols)), cols


def curves_figure(results: Results, plans: list[str] | None = None) -> go.Figure:
    """Engaged share per week, mean and 95% Student-t band, one small chart per sweep
    point (every point, in the sweep's order) with the same axes, one line per plan."""
    plans = plans or results.plans
    points = results.points["point"].to_list()
    rows, cols = _grid(len(points))
    titles = [results.point_label(p) if results.parameters else "" for p in points]
    layout = grid.subplot_grid(
        rows,
        cols,
        titles,
        shared_xaxes=True,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=min(0.5 / rows, 0.08),
    )
    frame = (
        results.trajectories()
        .filter(pl.col("plan").is_in(plans))
        .select("point", "plan", "replicate", "week", *STATE_COLUMNS)
        .collect()
    )
    bands = band(frame, "active", True, by=("point", "plan"))
    data = []
    for k, point in enumerate(points):
        stats_frame = bands.filter(pl.col("point") == point)
        where = grid.cell(k // cols + 1, k % cols + 1, cols)
        for i, plan in enumerate(results.plans):
            if plan not in plans:
                continue
            part = stats_frame.filter(pl.col("plan") == plan)
            data += [{**trace, **where} for trace in band_traces(part, plan, i, k == 0)]
    grid.update_axes(layout, "y", **SHARE_AXIS, gridcolor=GRID)
    grid.update_axes(layout, "x", gridcolor=GRID)
    for r in range(1, rows + 1):
        grid.set_title(grid.axis(layout, "y", r, 1, cols), "engaged share")
    for c in range(1, cols + 1):
        grid.set_title(grid.axis(layout, "x", rows, c, cols), "week")
    grid.annotation_font(layout, 12)
    grid.set_title(
        layout,
        f"Engaged users, share of employees (mean, 95% CI band): all {len(points)} sweep point(s)"
        if results.parameters
        else "Engaged users, share of employees",
    )
    layout.update(
        height=140 + 260 * rows,
        plot_bgcolor="white",
        legend={"title": {"text": "plan"}},
        margin={"t": 110},
    )
    return grid.figure(data, layout)


STATE_COLUMNS = ("unaware", "aware", "active", "nominal", "lapsed", "blocked")


def _groups(results: Results, parameter: str) -> list[tuple[str, list[int]]]:
    """The sweep's points split by the values of the *other* parameters: each group varies
    only ``parameter`` (title, points in the order of the parameter's values)."""
    others = [p for p in results.parameters if p != parameter]
    where = results.money
    groups: dict[tuple, list[int]] = {}
    for row in results.points.sort([*others, parameter]).iter_rows(named=True):
        groups.setdefault(tuple(row[o] for o in others), []).append(row["point"])
    titled_groups = []
    for key, members in groups.items():
        title = ", ".join(
            f"{setting_label(o, where.currency)} = {_short(v)}"
            for o, v in zip(others, key, strict=True)
        )
        titled_groups.append((title, members))
    return titled_groups


def outcome_vs_parameter(
    results: Results, parameter: str, outcome: str, plans: list[str] | None = None
) -> go.Figure:
    """Mean outcome with its 95% CI per plan against one swept parameter: one point per
    sweep point (its own replicates only, never pooled over the other parameters), one
    small chart per combination of the other parameters' values."""
    plans = plans or results.plans
    where = results.money
    groups = _groups(results, parameter)
    rows, cols = _grid(len(groups))
    layout = grid.subplot_grid(
        rows,
        cols,
        [title for title, _ in groups],
        shared_yaxes=True,
        horizontal_spacing=0.05,
        vertical_spacing=min(0.5 / rows, 0.12),
    )
    summary = results.summary
    data = []
    for k, (_, members) in enumerate(groups):
        for i, plan in enumerate(results.plans):
            if plan not in plans:
                continue
            xs, means, ups, downs = [], [], [], []
            for point in members:
                values = summary.filter((pl.col("point") == point) & (pl.col("plan") == plan))
                mean, low, high = mean_ci(values[outcome].to_list(), bounds=outcome_range(outcome))
                xs.append(results.point_value(point, parameter))
                means.append(mean if mean == mean else None)
                ups.append(high - mean if mean == mean else None)
                downs.append(mean - low if mean == mean else None)
            color, dash = plan_style(i)
            data.append(
                {
                    "type": "scatter",
                    "x": xs,
                    "y": means,
                    "name": plan,
                    "legendgroup": plan,
                    "showlegend": k == 0,
                    "mode": "lines+markers",
                    "line": {"color": color, "dash": dash},
                    "marker": {"symbol": SYMBOLS[i % len(SYMBOLS)], "size": 9},
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": ups,
                        "arrayminus": downs,
                    },
                    **grid.cell(k // cols + 1, k % cols + 1, cols),
                }
            )
    axis = setting_label(parameter, where.currency)
    grid.update_axes(layout, "x", title={"text": axis}, gridcolor=GRID)
    grid.update_axes(
        layout, "y", gridcolor=GRID, **(SHARE_AXIS if outcome.endswith("_share") else {})
    )
    for r in range(1, rows + 1):
        grid.set_title(grid.axis(layout, "y", r, 1, cols), titled(outcome, where))
    grid.annotation_font(layout, 12)
    grid.set_title(
        layout,
        f"{titled(outcome, where)} vs {axis}<br><sub>one point per sweep point: mean "
        f"and 95% CI over its replicates ({parameter})</sub>",
    )
    layout.update(
        height=170 + 300 * rows,
        plot_bgcolor="white",
        legend={"title": {"text": "plan"}},
        margin={"t": 120},
    )
    return grid.figure(data, layout)


def advantage(outcome: str, difference: float) -> float:
    """How much better plan A does than plan B, from the difference A − B: the difference
    itself where higher is better, its negative where lower is better (cost, weeks)."""
    return -difference if BETTER.get(outcome) == "lower" else difference


def difference_heatmap(results: Results, plan_a: str, plan_b: str, outcome: str) -> go.Figure:
    """2-D sweeps: per grid cell, the mean paired difference A − B, coloured by which plan
    it favours for THIS outcome (lower cost, fewer weeks, higher share), on a diverging
    orange-blue scale keyed "better for A / better for B"; each cell says how many replicate
    pairs define it (k/R) and * where the 95% CI excludes 0."""
    x_param, y_param = results.parameters[:2]
    where = results.money
    info = describe(outcome)
    diffs = pl.DataFrame(paired_differences(results, plan_a, plan_b, [outcome])).join(
        results.points, on="point"
    )
    xs = sorted(diffs[x_param].unique().to_list())
    ys = sorted(diffs[y_param].unique().to_list())
    grid: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    text = [["n/a"] * len(xs) for _ in ys]
    for row in diffs.iter_rows(named=True):
        i, j = ys.index(row[y_param]), xs.index(row[x_param])
        if row["n"] and row["mean"] == row["mean"]:
            grid[i][j] = advantage(outcome, row["mean"])
            signed = info.fmt.replace("{:", "{:+").format(row["mean"])
            star = "*" if excludes_zero(row) else ""
            text[i][j] = f"{signed}{star}<br>{row['n']}/{row['replicates']} pairs"
        elif row["replicates"]:
            text[i][j] = f"n/a<br>0/{row['replicates']} pairs"
    extent = max((abs(v) for line in grid for v in line if v is not None), default=1.0) or 1.0
    b_end, middle, a_end = DIVERGING[2], DIVERGING[1], DIVERGING[0]
    if info.better is None:
        keys = (f"{plan_b} higher", "equal", f"{plan_a} higher")
    else:
        keys = (f"better for {plan_b}", "no difference", f"better for {plan_a}")
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=[_short(x) for x in xs],
            y=[_short(y) for y in ys],
            text=text,
            texttemplate="%{text}",
            colorscale=[[0.0, b_end], [0.5, middle], [1.0, a_end]],
            zmin=-extent,
            zmax=extent,
            colorbar={
                "tickvals": [-extent, 0, extent],
                "ticktext": list(keys),
            },
            hovertemplate=f"{short_name(x_param)}=%{{x}}, {short_name(y_param)}=%{{y}}<br>"
            f"{plan_a} − {plan_b}: %{{text}}<extra></extra>",
        )
    )
    direction = f"{info.better} is better" if info.better else "neither direction is better"
    fig.update_layout(
        title=f"{titled(outcome, where)}: {plan_a} − {plan_b}, paired mean ({direction})"
        "<br><sub>colour: which plan does better for this outcome; * = 95% CI excludes 0; "
        "k/R = replicate pairs that define the difference</sub>",
        xaxis={"title": setting_label(x_param, where.currency), "type": "category"},
        yaxis={"title": setting_label(y_param, where.currency), "type": "category"},
        height=460,
        margin={"t": 110},
    )
    return fig


def outcomes_figure(results: Results, point: int, plans: list[str] | None = None) -> go.Figure:
    """Every ranked outcome as a small chart: each plan's mean with its 95% CI."""
    plans = plans or results.plans
    where = results.money
    columns = ranked_outcomes(results.summary)
    rows = outcome_rows(results, columns, plans)
    nrows, cols = _grid(len(columns), 4)
    titles = [f"{titled(c, where)}<br>({BETTER[c]} is better)" for c in columns]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles, vertical_spacing=0.16)
    for k, column in enumerate(columns):
        for i, plan in enumerate(results.plans):
            row = find_row(rows, point, column, plan)
            if row is None or plan not in plans:
                continue
            mean = row["mean"] if row["n"] else None
            fig.add_trace(
                go.Bar(
                    x=[plan],
                    y=[mean],
                    marker_color=plan_style(i)[0],
                    name=plan,
                    legendgroup=plan,
                    showlegend=(k == 0),
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [row["high"] - row["mean"] if row["n"] > 1 else 0],
                        "arrayminus": [row["mean"] - row["low"] if row["n"] > 1 else 0],
                    },
                ),
                row=k // cols + 1,
                col=k % cols + 1,
            )
        if column.endswith("_share"):
            fig.update_yaxes(**SHARE_AXIS, row=k // cols + 1, col=k % cols + 1)
    fig.update_annotations(font_size=11)
    fig.update_yaxes(gridcolor=GRID)
    fig.update_layout(
        title="Outcomes by plan, mean and 95% CI"
        + (f" — point {point}: {results.point_label(point)}" if results.parameters else ""),
        height=320 * nrows + 100,
        showlegend=True,
        plot_bgcolor="white",
        legend={"title": "plan"},
    )
    return fig


Figures = list[tuple[str, go.Figure]]


def comparison_figures(
    results: Results, plans: list[str], pair: tuple[str, str] | None = None
) -> Figures:
    """The charts of a comparison page, named: curves at every point (one grid), outcome vs
    each swept parameter, and for 2-D sweeps and a pair the difference heatmaps."""
    figures: Figures = [("curves", curves_figure(results, plans))]
    for parameter in results.parameters:
        for column in [c for c, _, _ in compared(results) if c in PARAMETER_OUTCOMES]:
            figure = outcome_vs_parameter(results, parameter, column, plans)
            figures.append((f"{column}-vs-{parameter}", figure))
    if len(results.parameters) == 2 and pair is not None and pair[0] != pair[1]:
        for column, _, _ in compared(results):
            figures.append((f"heatmap-{column}", difference_heatmap(results, *pair, column)))
    return figures


PARAMETER_OUTCOMES = ("final_active_share", "cost_per_engaged_user")


def ranking_figures(results: Results) -> Figures:
    """The ranking page's charts: the outcomes of every plan at every point, then the
    comparison charts of all plans."""
    points = results.points["point"].to_list()
    own = [(f"outcomes-point-{p}", outcomes_figure(results, p)) for p in points]
    return own + comparison_figures(results, results.plans)


def folder_figure(a: Results, b: Results, plans: list[str], names: tuple[str, str]) -> go.Figure:
    """Engaged share per week of each shared plan (point 0): A solid, B dashed."""
    fig = go.Figure()
    for results, name, dash in ((a, names[0], "solid"), (b, names[1], "dash")):
        share = pl.col("active") / pl.sum_horizontal(
            "unaware", "aware", "active", "nominal", "lapsed", "blocked"
        )
        means = (
            results.trajectories()
            .filter((pl.col("point") == 0) & pl.col("plan").is_in(plans))
            .group_by("plan", "week")
            .agg(mean=share.mean())
            .sort("plan", "week")
            .collect()
        )
        for i, plan in enumerate(plans):
            part = means.filter(pl.col("plan") == plan)
            fig.add_trace(
                go.Scatter(
                    x=part["week"].to_list(),
                    y=part["mean"].to_list(),
                    name=f"{plan} ({name})",
                    line={"color": plan_style(i)[0], "dash": dash},
                )
            )
    fig.update_layout(
        title=f"Engaged users (share of org), mean: {names[0]} solid, {names[1]} dashed",
        xaxis_title="week",
        yaxis={**SHARE_AXIS, "title": "engaged share of employees"},
        height=440,
        plot_bgcolor="white",
    )
    return fig


# -- pages ---------------------------------------------------------------------------------------
STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1600px;
padding:0 1.5em;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:0.5em 0 1.5em} small{color:#555;font-weight:normal}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:right}
th{background:#f6f6f6} td:nth-child(-n+2){text-align:left}
tr.diff td{background:#f3f3f3;font-weight:bold} td.win{font-weight:bold;color:#0072B2}
tr td.a{background:#FBEBCB} tr td.b{background:#CCE3F0} table.tally td{text-align:right}
p.note{color:#444;max-width:70em}
dl.legend{display:grid;grid-template-columns:max-content auto;gap:0 1em;color:#444}
dl.legend dt{font-family:monospace} dl.legend dd{margin:0}"""


def page(
    title: str, heading: str, intro: str, body: str, figures: Figures, js_in_body: bool = False
) -> str:
    """A self-contained HTML page (plotly.js embedded once: it opens offline).
    ``js_in_body``: the body already embeds plotly.js (a chart placed within the text)."""
    plots = "".join(
        f.to_html(
            full_html=False,
            include_plotlyjs=(i == 0 and not js_in_body),
            config={"responsive": True},
        )
        for i, (_, f) in enumerate(figures)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(heading)}</h1>
{intro}
{body}
{plots}
</body></html>
"""


def _cell(row: dict[str, Any] | None, signed: bool = False, css: str = "") -> str:
    klass = f" class='{css}'" if css else ""
    return f"<td{klass}>{html.escape(format_interval(row, signed=signed)) if row else ''}</td>"


def favours(
    row: dict[str, Any] | None, a: dict[str, Any] | None = None, b: dict[str, Any] | None = None
) -> str | None:
    """'a' or 'b': which plan a paired difference A − B clearly favours for its outcome
    (its CI excludes 0, read in the outcome's better direction); None otherwise.  With the
    plans' own rows ``a`` and ``b``: a week-to-X outcome one plan never reached while the
    other did in two or more replicates favours the other (as in the ranking)."""
    if row is None or BETTER.get(row["outcome"]) is None:
        return None
    if row["outcome"] in WEEK_OUTCOMES and a is not None and b is not None:
        if a["n"] == 0 and b["n"] >= 2:
            return "b"
        if b["n"] == 0 and a["n"] >= 2:
            return "a"
    if not excludes_zero(row):
        return None
    return "a" if advantage(row["outcome"], row["mean"]) > 0 else "b"


def _about(results: Results) -> str:
    """The lines under a page's heading: org size, points, replicates, seed, the currency
    and horizon of costs, and what each swept parameter's short name stands for."""
    scenario = results.manifest["scenario"]
    reps = int(results.summary.group_by("plan", "point").len()["len"].max())
    points = results.points.height
    where = results.money
    legend = "".join(
        f"<dt>{html.escape(short_name(p))}</dt><dd>{html.escape(setting_label(p, where.currency))}"
        f" <small>({html.escape(p)}; values {html.escape(', '.join(_short(v) for v in vals))})"
        "</small></dd>"
        for p, vals in ((p, results.points[p].unique(maintain_order=True).to_list())
                        for p in results.parameters)
    )  # fmt: skip
    swept = f"<p>Swept:</p><dl class='legend'>{legend}</dl>" if legend else ""
    kind = results.manifest.get("intervals") or "over replicates at fixed parameters"
    drawn = (
        f" Each replicate's parameters were drawn from the posterior "
        f"{html.escape(str(results.manifest['posterior']))}, the same draw for every plan and "
        "point."
        if results.manifest.get("posterior")
        else ""
    )
    return (
        f"<p>{html.escape(scenario.get('description', ''))}</p>\n<p class='note'>"
        f"{results.employees:,} employees, {points} sweep point(s), {reps} replicates per plan "
        f"and point, seed {html.escape(str(results.manifest.get('seed')))}. Costs and values "
        f"in {html.escape(where.currency)}, {html.escape(where.horizon)}. Cells: mean [95% CI, "
        "Student t]; (k/R) when only k of R replicates (or replicate pairs) define the "
        "outcome. Differences are paired (same org and random streams): the Student-t "
        "interval of the mean paired difference over R replicate pairs.</p>"
        f"<p class='note'><b>Intervals {html.escape(kind)}.</b>{drawn}</p>" + swept
    )


def pair_tally(
    results: Results,
    diffs: list[dict[str, Any]],
    pair: tuple[str, str],
    outcomes: list[dict[str, Any]],
) -> str:
    """The pair page's first table: per outcome, at how many sweep points each plan is
    clearly better (paired CI excludes 0, in the outcome's better direction)."""
    where = results.money
    rows = []
    for column, _, _ in compared(results):
        found = [r for r in diffs if r["outcome"] == column]
        sides = [
            favours(
                r,
                find_row(outcomes, r["point"], column, pair[0]),
                find_row(outcomes, r["point"], column, pair[1]),
            )
            for r in found
        ]
        a, b = sides.count("a"), sides.count("b")
        pairs = sorted({r["replicates"] for r in found})
        rows.append(
            f"<tr><th>{html.escape(titled(column, where))}<br><small>"
            f"{BETTER.get(column) or 'neither'} is better</small></th><td class='a'>{a}</td>"
            f"<td class='b'>{b}</td><td>{len(found) - a - b}</td>"
            f"<td>{'/'.join(str(p) for p in pairs)}</td></tr>"
        )
    a_name, b_name = (html.escape(p) for p in pair)
    return (
        "<h2>Decision: where each plan is clearly better</h2>"
        f"<p class='note'>Sweep points where {a_name} or {b_name} is better with a paired 95% "
        "CI that excludes 0, read in each outcome's better direction (lower cost, fewer "
        "weeks, higher share).</p>"
        f"<table class='tally'><tr><th>outcome</th><th>{a_name} better</th><th>{b_name} better</th>"
        f"<th>no clear difference</th><th>replicate pairs per point</th></tr>{''.join(rows)}"
        "</table>"
    )


def html_report(results: Results, plan_a: str, plan_b: str) -> str:
    """The pair page (a sweep's report.html; ``compare --a/--b``): where each plan is
    better, then A and B per point with the paired difference A − B (tinted by the plan it
    favours), curves at every point, outcome vs parameter, 2-D heatmaps."""
    plans = [plan_a] if plan_a == plan_b else [plan_a, plan_b]
    columns = compared(results)
    where = results.money
    outcomes = outcome_rows(results, [c for c, _, _ in columns], plans)
    diffs = paired_differences(results, plan_a, plan_b) if plan_a != plan_b else []
    head = "".join(f"<th>{html.escape(titled(c, where))}</th>" for c, _, _ in columns)
    body = []
    for point in results.points["point"].to_list():
        label = html.escape(results.point_label(point))
        for plan in plans:
            cells = "".join(_cell(find_row(outcomes, point, c, plan)) for c, _, _ in columns)
            body.append(f"<tr><td>{label}</td><td>{html.escape(plan)}</td>{cells}</tr>")
        if diffs:
            cells = "".join(
                _cell(
                    find_row(diffs, point, c),
                    signed=True,
                    css=favours(
                        find_row(diffs, point, c),
                        find_row(outcomes, point, c, plan_a),
                        find_row(outcomes, point, c, plan_b),
                    )
                    or "",
                )
                for c, _, _ in columns
            )
            body.append(
                f"<tr class='diff'><td>{label}</td><td>{html.escape(plan_a)} − "
                f"{html.escape(plan_b)}</td>{cells}</tr>"
            )
    name = results.manifest["scenario"]["name"]
    pair = f"{plan_a} vs {plan_b}" if plan_a != plan_b else plan_a
    tally = pair_tally(results, diffs, (plan_a, plan_b), outcomes) if diffs else ""
    key = (
        f"<p class='note'>Difference cells tinted <span style='background:#FBEBCB'>orange"
        f"</span> where {html.escape(plan_a)} is clearly better, <span style='background:"
        f"#CCE3F0'>blue</span> where {html.escape(plan_b)} is.</p>"
        if diffs
        else ""
    )
    table = (
        f"{tally}<h2>Outcomes per sweep point</h2>{key}"
        f"<table><tr><th>point</th><th>plan</th>{head}</tr>{''.join(body)}</table>"
    )
    figures = comparison_figures(results, plans, (plan_a, plan_b))
    return page(f"adoptsim compare: {name}", f"{name}: {pair}", _about(results), table, figures)


def ranking_report(results: Results, ranked: list[dict[str, Any]]) -> str:
    """The ranking page (``compare`` without --a/--b): per point and outcome every plan
    best first, its difference to the best with CI, and the verdict."""
    name = results.manifest["scenario"]["name"]
    body = []
    figures = ranking_figures(results)
    sweep = results.points.height > 1
    if sweep:  # the one chart of the whole sweep, right under its table
        shares = win_shares(ranked, results.plans)
        body.append(_wins_table(shares, results.plans))
        chart = wins_figure(shares, results.plans)
        body.append(chart.to_html(full_html=False, include_plotlyjs=True))
    rows = []
    for entry in ranked:
        where = html.escape(results.point_label(entry["point"]))
        for item in entry["plans"]:
            first = item["rank"] == 1
            outcome = (
                f"{html.escape(titled(entry['outcome'], results.money))} "
                f"<small>({entry['better']} is better)</small>"
                if first
                else ""
            )
            note = html.escape(verdict(entry)) if first else ""
            win = " class='win'" if first and entry["winner"] else ""
            rows.append(
                f"<tr><td>{where if first else ''}</td><td>{outcome}</td><td>{item['rank']}</td>"
                f"<td{win}>{html.escape(item['plan'])}</td>{_cell(item)}"
                f"{_cell(item['diff'], signed=True) if item['diff'] else _best(item)}"
                f"<td>{note}</td></tr>"
            )
    body.append(
        "<table><tr><th>point</th><th>outcome</th><th>rank</th><th>plan</th>"
        "<th>mean [95% CI]</th><th>plan − best, paired [95% CI]</th><th>verdict</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    intro = _about(results) + (
        "<p>Plans ranked on every outcome, best first. A plan <em>wins</em> an outcome only "
        "when the 95% CI of every other plan's paired difference to it excludes 0; "
        "otherwise there is no clear winner.</p>"
    )
    title = f"{name}: all plans ranked ({', '.join(results.plans)})"
    return page(f"adoptsim compare: {name}", title, intro, "".join(body), figures, sweep)


def _best(item: dict[str, Any]) -> str:
    """The difference cell of the best plan: 'best', or empty where no plan has a value."""
    return "<td>best</td>" if item["n"] else "<td></td>"


def win_cell(cell: dict[str, float]) -> str:
    """'12/40 (30% [18%, 45%])': points won, their share and its 95% Wilson interval."""
    if not cell["points"]:
        return "-"
    return (
        f"{cell['wins']}/{cell['points']} ({cell['share']:.0%} "
        f"[{cell['low']:.0%}, {cell['high']:.0%}])"
    )


def _wins_table(shares: dict[str, dict[str, dict[str, float]]], plans: list[str]) -> str:
    """Sweeps: per outcome, the points each plan wins clearly (share, Wilson interval) and
    the range of its difference to the best plan over the points."""
    head = "".join(f"<th>{html.escape(p)}</th>" for p in [*plans, "no clear winner"])
    rows = []
    for c, cells in shares.items():
        describe_c = describe(c)
        wins_row = "".join(f"<td>{win_cell(cells[p])}</td>" for p in [*plans, "no clear winner"])
        ranges = "".join(
            "<td>"
            + (
                "-"
                if cells[p]["diff_min"] != cells[p]["diff_min"]
                else f"{describe_c.fmt.format(cells[p]['diff_min'])} .. "
                f"{describe_c.fmt.format(cells[p]['diff_max'])}"
            )
            + "</td>"
            for p in plans
        )
        rows.append(
            f"<tr><td>{html.escape(describe_c.label)}</td>{wins_row}</tr>"
            f"<tr><td>&nbsp;&nbsp;range of plan − best</td>{ranges}<td></td></tr>"
        )
    return (
        "<h2>How often each plan wins, across the assumption sets</h2>"
        "<p>Points won clearly (the plan's CI-backed win at that point), their share with a "
        "95% Wilson interval, and the range over points of each plan's mean paired "
        "difference to the best plan there.</p>"
        f"<table><tr><th>outcome</th>{head}</tr>{''.join(rows)}</table>"
    )


def folders_report(a: Results, b: Results, rows: list[dict], plans: list[str], paired: bool) -> str:
    """The two-folder page: per shared plan and outcome, A, B and B − A with its CI."""
    names = (a.folder.resolve().name, b.folder.resolve().name)
    how = (
        "paired (same seed and replicates: replicate r saw the same org and random numbers)"
        if paired
        else "unpaired (Welch's t interval: the seeds or replicates differ)"
    )
    body = []
    for row in rows:
        where = html.escape(a.point_label(row["point"]))
        body.append(
            f"<tr><td>{where}</td><td>{html.escape(row['plan'])}</td>"
            f"<td>{html.escape(row['label'])}</td>{_cell(row['a'])}{_cell(row['b'])}"
            f"{_cell(row['diff'], signed=True)}<td>{html.escape(direction_note(row))}</td></tr>"
        )
    table = (
        f"<table><tr><th>point</th><th>plan</th><th>outcome</th><th>A: {html.escape(names[0])}"
        f"</th><th>B: {html.escape(names[1])}</th><th>B − A [95% CI]</th><th></th></tr>"
        + "".join(body)
        + "</table>"
    )
    intro = (
        f"<p>A = {html.escape(str(a.folder))}, B = {html.escape(str(b.folder))}: the same org "
        f"({a.employees:,} employees), plans {html.escape(', '.join(plans))}. Cells: mean "
        f"[95% CI]; differences B − A are {html.escape(how)}.</p>"
    )
    figures = [("folders-curves", folder_figure(a, b, plans, names))]
    heading = f"{names[0]} vs {names[1]}"
    return page(f"adoptsim compare: {heading}", heading, intro, table, figures)
