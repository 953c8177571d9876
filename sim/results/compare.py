"""Plan comparison from stored results: paired outcomes, paired differences, report.html.

Every plan of a run or sweep sees the same org and random streams at each sweep point, so
plans are compared *paired*: for each (point, replicate) the difference between two plans'
outcomes, then a Student-t confidence interval of the mean difference. Pairing removes the
variation that the plans share (the org, the luck of the draw) and gives much tighter
intervals than comparing two independent means.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl
from polars.exceptions import PolarsError

from sim.errors import AdoptsimError
from sim.results import store
from sim.results.report import PALETTE, _rgba, format_interval
from sim.results.stats import difference_range, mean_ci, outcome_range
from sim.scenario import ScenarioError

COMPARED = (
    ("t50", "weeks to 50% active", "{:.1f}"),
    ("final_active_share", "final active share", "{:.1%}"),
    ("shelfware_share", "shelfware share", "{:.1%}"),
    ("cost_per_engaged_user", "cost per engaged user", "{:,.1f}"),
)


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
        return ", ".join(f"{p.rsplit('.', 1)[-1]}={_short(row[p])}" for p in self.parameters)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def outcome_rows(results: Results) -> list[dict[str, Any]]:
    """Per point, plan and outcome: mean and 95% CI over replicates."""
    rows = []
    for (point, plan), part in results.summary.group_by("point", "plan", maintain_order=True):
        for column, label, fmt in COMPARED:
            values = part[column].to_list()
            mean, low, high = mean_ci(values, bounds=outcome_range(column))
            reached = sum(v is not None for v in values)
            rows.append(
                {
                    "point": point,
                    "plan": plan,
                    "outcome": column,
                    "label": label,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": reached,
                    "replicates": len(values),
                    "fmt": fmt,
                }
            )
    return rows


def paired_differences(results: Results, plan_a: str, plan_b: str) -> list[dict[str, Any]]:
    """Per point and outcome: mean of (A - B) over paired replicates, with its 95% CI.

    Replicates where either plan has no value (e.g. never reached 50%) are left out; ``n``
    says how many pairs remain.
    """
    for plan in (plan_a, plan_b):
        if plan not in results.plans:
            raise ScenarioError(
                f"plan {plan!r} is not in {results.folder} (plans: {results.plans})"
            )
    a = results.summary.filter(pl.col("plan") == plan_a)
    b = results.summary.filter(pl.col("plan") == plan_b)
    joined = a.join(b, on=["point", "replicate"], suffix="_b")
    rows = []
    for (point,), part in joined.group_by("point", maintain_order=True):
        for column, label, fmt in COMPARED:
            pairs = part.select(diff=pl.col(column) - pl.col(f"{column}_b")).drop_nulls()["diff"]
            mean, low, high = mean_ci(pairs.to_list(), bounds=difference_range(column))
            rows.append(
                {
                    "point": point,
                    "outcome": column,
                    "label": label,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": len(pairs),
                    "fmt": fmt,
                    "a": plan_a,
                    "b": plan_b,
                }
            )
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


# -- report.html ---------------------------------------------------------------------------------
def curves_figure(results: Results, point: int) -> go.Figure:
    share = pl.col("active") / pl.sum_horizontal(
        "unaware", "aware", "active", "nominal", "lapsed", "blocked"
    )
    stats_frame = (
        results.trajectories()
        .filter(pl.col("point") == point)
        .group_by("plan", "week")
        .agg(mean=share.mean(), sd=share.std(), reps=pl.len())
        .with_columns(half=1.96 * pl.col("sd").fill_null(0) / pl.col("reps").sqrt())
        .sort("plan", "week")
        .collect()
    )
    fig = go.Figure()
    for i, plan in enumerate(results.plans):
        color = PALETTE[i % len(PALETTE)]
        part = stats_frame.filter(pl.col("plan") == plan)
        weeks = part["week"].to_list()
        high = (part["mean"] + part["half"]).to_list()
        low = (part["mean"] - part["half"]).to_list()
        fig.add_trace(
            go.Scatter(
                x=weeks + weeks[::-1],
                y=high + low[::-1],
                fill="toself",
                fillcolor=_rgba(color, 0.2),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=plan,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=weeks,
                y=part["mean"].to_list(),
                name=plan,
                legendgroup=plan,
                line={"color": color},
            )
        )
    fig.update_layout(
        title=f"Engaged users (share of org), mean and 95% CI — point "
        f"{point}: {results.point_label(point)}",
        xaxis_title="week",
        yaxis={"tickformat": ".0%"},
        height=420,
    )
    return fig


def outcome_vs_parameter(results: Results, parameter: str, outcome: str, label: str) -> go.Figure:
    """Mean outcome (95% CI) per plan against one swept parameter (others averaged over)."""
    joined = results.summary.join(results.points.select("point", parameter), on="point")
    fig = go.Figure()
    for i, plan in enumerate(results.plans):
        part = joined.filter(pl.col("plan") == plan)
        xs, means, lows, highs = [], [], [], []
        for (x,), group in part.group_by(parameter, maintain_order=True):
            mean, low, high = mean_ci(group[outcome].to_list(), bounds=outcome_range(outcome))
            xs.append(x)
            means.append(mean)
            lows.append(mean - low if mean == mean else None)
            highs.append(high - mean if mean == mean else None)
        order = sorted(range(len(xs)), key=lambda k: xs[k])
        fig.add_trace(
            go.Scatter(
                x=[xs[k] for k in order],
                y=[means[k] for k in order],
                name=plan,
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)]},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [highs[k] for k in order],
                    "arrayminus": [lows[k] for k in order],
                },
            )
        )
    fig.update_layout(
        title=f"{label} vs {parameter}", xaxis_title=parameter, yaxis_title=label, height=380
    )
    return fig


def difference_heatmap(
    results: Results, plan_a: str, plan_b: str, outcome: str, label: str
) -> go.Figure:
    """2-D sweeps: mean paired difference (A - B) over the grid; positive = A higher."""
    x_param, y_param = results.parameters[:2]
    diffs = (
        pl.DataFrame(paired_differences(results, plan_a, plan_b))
        .filter(pl.col("outcome") == outcome)
        .join(results.points, on="point")
    )
    xs = sorted(diffs[x_param].unique().to_list())
    ys = sorted(diffs[y_param].unique().to_list())
    grid = [[None] * len(xs) for _ in ys]
    text = [[""] * len(xs) for _ in ys]
    for row in diffs.iter_rows(named=True):
        i, j = ys.index(row[y_param]), xs.index(row[x_param])
        grid[i][j] = row["mean"]
        significant = row["n"] > 1 and (row["low"] > 0 or row["high"] < 0)
        text[i][j] = f"{row['mean']:+.3g}{'*' if significant else ''}"
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=[str(x) for x in xs],
            y=[str(y) for y in ys],
            text=text,
            texttemplate="%{text}",
            colorscale="RdBu",
            zmid=0,
            colorbar={"title": f"{plan_a} − {plan_b}"},
        )
    )
    fig.update_layout(
        title=f"{label}: {plan_a} − {plan_b} (paired mean; * = 95% CI excludes 0)",
        xaxis_title=x_param,
        yaxis_title=y_param,
        height=420,
    )
    return fig


def html_report(results: Results, plan_a: str, plan_b: str) -> str:
    """The comparison page: tables, curves, outcome vs parameter, 2-D difference heatmaps."""
    outcomes = outcome_rows(results)
    diffs = paired_differences(results, plan_a, plan_b) if plan_a != plan_b else []
    points = results.points["point"].to_list()
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in COMPARED)
    body = []
    for point in points:
        for plan in results.plans:
            cells = [find_row(outcomes, point, c, plan) for c, _, _ in COMPARED]
            body.append(
                f"<tr><td>{html.escape(results.point_label(point))}</td><td>{html.escape(plan)}</td>"
                + "".join(f"<td>{html.escape(format_interval(c)) if c else ''}</td>" for c in cells)
                + "</tr>"
            )
        if diffs:
            cells = [find_row(diffs, point, c) for c, _, _ in COMPARED]
            body.append(
                f"<tr class='diff'><td>{html.escape(results.point_label(point))}</td>"
                f"<td>{html.escape(plan_a)} − {html.escape(plan_b)}</td>"
                + "".join(f"<td>{html.escape(format_interval(c, signed=True))}</td>" for c in cells)
                + "</tr>"
            )
    figures = [curves_figure(results, p) for p in points[:6]]
    for parameter in results.parameters:
        for column, label, _ in COMPARED[1:2] + COMPARED[3:4]:
            figures.append(outcome_vs_parameter(results, parameter, column, label))
    if len(results.parameters) == 2 and plan_a != plan_b:
        for column, label, _ in COMPARED:
            figures.append(difference_heatmap(results, plan_a, plan_b, column, label))
    plots = "".join(
        f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)
    )
    scenario = results.manifest["scenario"]
    seed = results.manifest.get("seed")
    reps = int(results.summary.group_by("plan", "point").len()["len"].max())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>adoptsim compare: {html.escape(scenario["name"])}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px}} tr.diff td{{background:#f3f3f3;font-weight:bold}}
</style></head><body>
<h1>{html.escape(scenario["name"])}: plan comparison</h1>
<p>{html.escape(scenario.get("description", ""))}</p>
<p>{results.employees:,} employees, {len(points)} sweep point(s), {reps} replicates per plan
and point, seed {seed}. Cells: mean [95% CI]; difference rows are paired (same org and
random streams), with a Student-t interval of the mean paired difference.</p>
<table><tr><th>point</th><th>plan</th>{head}</tr>{"".join(body)}</table>
{plots}
</body></html>
"""
