"""A run's ``report.html``: the decision first (a verdict per outcome), then the outcome
table and the charts, every cost in the scenario's currency over its horizon."""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots
from scipy import stats

from sim.palette import GRID, department_style
from sim.results.outcomes import (
    WEEK_OUTCOMES,
    Money,
    describe,
    format_interval,
    money,
    titled,
)
from sim.results.stats import mean_ci, outcome_range
from sim.results.verdict import lead, rank, sentence, verdict
from sim.rules import STATE_NAMES

__all__ = [
    "RUN_OUTCOMES",
    "WEEK_OUTCOMES",
    "band",
    "format_interval",
    "html_report",
    "outcome_table",
    "plan_style",
    "run_figures",
    "subtitle",
]

# The run report's outcomes, in the order its tables show them.
RUN_OUTCOMES = (
    "t50",
    "final_active_share",
    "peak_active_share",
    "shelfware_share",
    "cost_per_engaged_user",
    "total_cost",
    "value_created",
    "net_value",
    "roi",
    "paywall_conversions",
    "departments_reached",
)
SHARE_AXIS = {"tickformat": ".0%", "range": [0, 1.02]}  # 100% stays clear of the border


def plan_style(index: int) -> tuple[str, str]:
    """(colour, dash) of the index-th plan: sim.palette's colour-blind-safe set, and a
    dash style as a second cue, the same in every report and export."""
    return department_style(index)


def outcome_table(summary: pl.DataFrame) -> pl.DataFrame:
    """Per plan and outcome: mean, 95% CI, and how many replicates reached it (t50 may be null)."""
    rows = []
    for plan in summary["plan"].unique(maintain_order=True):
        part = summary.filter(pl.col("plan") == plan)
        for column in RUN_OUTCOMES:
            if column not in part.columns:  # results written before the outcome existed
                continue
            info = describe(column)
            values = part[column].to_list()
            mean, low, high = mean_ci(values, bounds=outcome_range(column))
            reached = sum(
                v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values
            )
            rows.append(
                {
                    "plan": plan,
                    "outcome": column,
                    "label": info.label,
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": reached,
                    "replicates": len(values),
                    "fmt": info.fmt,
                }
            )
    return pl.DataFrame(rows)


def band(
    trajectories: pl.DataFrame | pl.LazyFrame,
    column: str,
    per_employee: bool,
    level: float = 0.95,
    bounds: tuple[float, float] | None = None,
    by: tuple[str, ...] = ("plan",),
) -> pl.DataFrame:
    """Per plan and week (or per ``by`` and week: ``("point", "plan")`` gives every sweep
    point's bands in one pass over the rows): mean of the column over replicates with a
    Student-t confidence band (t with each week's own replicates − 1 degrees of freedom,
    as :func:`sim.results.stats.mean_ci`), clipped to where the value can lie: a share to
    [0, 1], a count or cost to >= 0 (``bounds`` overrides).  With ``per_employee``, as a
    share of each row's own head count (the sum of its state counts), so plans run on orgs
    of different sizes are each divided by their own."""
    low_end, high_end = bounds or ((0.0, 1.0) if per_employee else (0.0, math.inf))
    value = pl.col(column) / pl.sum_horizontal(*STATE_NAMES) if per_employee else pl.col(column)
    frame = (
        trajectories.lazy()
        .group_by(*by, "week", maintain_order=True)
        .agg(mean=value.mean(), sd=value.std(), reps=pl.len())
        .sort(*by, "week", maintain_order=True)
        .collect()
    )
    quantile = 0.5 + level / 2
    reps = frame["reps"].to_numpy()
    # one quantile per distinct replicate count (they are few), looked up for every week
    counts, index = np.unique(reps, return_inverse=True)
    by_count = np.where(counts > 1, stats.t.ppf(quantile, np.maximum(counts - 1, 1)), 0.0)
    half = pl.Series("t", by_count[index], dtype=pl.Float64) * frame["sd"].fill_null(0)
    frame = frame.with_columns(half=half / frame["reps"].sqrt())
    return frame.with_columns(
        low=(pl.col("mean") - pl.col("half")).clip(low_end, high_end),
        high=(pl.col("mean") + pl.col("half")).clip(low_end, high_end),
    )


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def band_traces(part: pl.DataFrame, plan: str, index: int, showlegend: bool) -> list[dict]:
    """One plan's shaded 95% band and, over it, its mean curve (its palette colour and
    dash), as plotly trace dicts (``part``: week, mean, low, high)."""
    color, dash = plan_style(index)
    weeks = part["week"].to_list()
    return [
        {
            "type": "scatter",
            "x": weeks + weeks[::-1],
            "y": part["high"].to_list() + part["low"].to_list()[::-1],
            "fill": "toself",
            "fillcolor": _rgba(color, 0.18),
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
            "legendgroup": plan,
        },
        {
            "type": "scatter",
            "x": weeks,
            "y": part["mean"].to_list(),
            "name": plan,
            "legendgroup": plan,
            "line": {"color": color, "dash": dash, "width": 2.5},
            "showlegend": showlegend,
        },
    ]


def add_band(
    fig: go.Figure, part: pl.DataFrame, plan: str, index: int, showlegend: bool, **where
) -> None:
    """One plan's mean curve over its shaded 95% band (:func:`band_traces`), added to
    ``fig`` (``where``: row and col of a subplot grid)."""
    for trace in band_traces(part, plan, index, showlegend):
        fig.add_trace(trace, **where)


def adoption_figure(
    trajectories: pl.DataFrame, title: str, where: Money | None = None
) -> go.Figure:
    """Active share, seats paid for, and cumulative cost per plan, with 95% bands."""
    currency = where.currency if where else "currency"
    panels = (
        ("active", True, "Engaged users", "share of employees"),
        ("seats", True, "Seats paid for", "seats as a share of employees"),
        ("cum_cost", False, "Cumulative cost", f"{currency}, cumulative"),
    )
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[p[2] for p in panels], horizontal_spacing=0.08
    )
    plans = trajectories["plan"].unique(maintain_order=True).to_list()
    for col, (column, per_employee, _, axis) in enumerate(panels, 1):
        frame = band(trajectories, column, per_employee)
        for i, plan in enumerate(plans):
            part = frame.filter(pl.col("plan") == plan)
            add_band(fig, part, plan, i, col == 1, row=1, col=col)
        fig.update_xaxes(title_text="week", row=1, col=col, gridcolor=GRID)
        yaxis = SHARE_AXIS if per_employee else {"rangemode": "tozero", "tickformat": "~s"}
        fig.update_yaxes(title_text=axis, row=1, col=col, gridcolor=GRID, **yaxis)
    fig.update_layout(
        title=title,
        height=460,
        hovermode="x unified",
        plot_bgcolor="white",
        legend={"title": "plan"},
        margin={"t": 110},
    )
    return fig


def departments_figure(departments: pl.DataFrame) -> go.Figure:
    """Final-week active share per department and plan (mean over replicates)."""
    final = departments.filter(pl.col("week") == pl.col("week").max())
    means = final.group_by("plan", "department", maintain_order=True).agg(
        share=pl.col("active_share").mean()
    )
    patterns = ("", "/", ".", "x", "\\", "+", "-")  # a second cue beside the colour
    fig = go.Figure()
    for i, plan in enumerate(means["plan"].unique(maintain_order=True).to_list()):
        part = means.filter(pl.col("plan") == plan).sort("department")
        fig.add_trace(
            go.Bar(
                x=part["department"].to_list(),
                y=part["share"].to_list(),
                name=plan,
                marker={
                    "color": plan_style(i)[0],
                    "pattern": {"shape": patterns[i % len(patterns)], "fgcolor": "white"},
                },
            )
        )
    fig.update_layout(
        title="Final active share by department (mean over replicates)",
        barmode="group",
        xaxis_title="department",
        yaxis={**SHARE_AXIS, "title": "final active share of the department"},
        height=400,
        plot_bgcolor="white",
        legend={"title": "plan"},
    )
    return fig


def subtitle(summary: pl.DataFrame, name: str, employees: dict[str, int], meta: dict) -> str:
    """``name: N employees, R replicates per plan, seed S`` (a range of head counts when
    plans run on orgs of different sizes)."""
    reps = summary.group_by("plan").len()["len"].max()
    sizes = sorted(set(employees.values()))
    size = f"{sizes[0]:,}" if len(sizes) == 1 else f"{sizes[0]:,}-{sizes[-1]:,}"
    intervals = f"; intervals {meta['intervals']}" if meta.get("intervals") else ""
    return (
        f"{name}: {size} employees, {reps} replicates per plan, seed {meta.get('seed')}" + intervals
    )


def run_figures(
    trajectories: pl.DataFrame, departments: pl.DataFrame, title: str, meta: dict | None = None
) -> list[tuple[str, go.Figure]]:
    """The charts of a run's report.html, named: the same list feeds the page and
    ``adoptsim export --figures``.  ``meta``: the manifest (for the currency)."""
    where = money(meta) if meta else None
    return [
        (
            "adoption",
            adoption_figure(
                trajectories, f"Adoption by plan (mean, 95% CI band)<br><sub>{title}</sub>", where
            ),
        ),
        ("departments", departments_figure(departments)),
    ]


def verdicts(summary: pl.DataFrame, plans: list[str]) -> list[tuple[dict, dict | None]]:
    """Per ranked outcome of the run (point 0): the ranking entry and best − runner-up."""
    part = summary.filter(pl.col("point") == 0) if "point" in summary.columns else summary
    out = []
    for column in RUN_OUTCOMES:
        if column not in part.columns or describe(column).better is None:
            continue
        entry = rank(part, plans, column)
        if entry is not None:
            out.append((entry, lead(part, entry)))
    return out


def verdict_table(summary: pl.DataFrame, plans: list[str], where: Money) -> str:
    """The page's first table: per outcome, the verdict, the best plan and the paired
    difference to the runner-up with its CI and the replicate pairs it rests on."""
    rows = []
    for entry, gap in verdicts(summary, plans):
        column = entry["outcome"]
        best = entry["plans"][0]
        diff = format_interval({**gap, "replicates": 0}, signed=True) if gap else ""
        pairs = f"{gap['n']}/{gap['replicates']}" if gap else ""
        runner = entry["plans"][1]["plan"] if len(entry["plans"]) > 1 else ""
        css = "win" if entry["winner"] else "open"
        rows.append(
            f"<tr class='{css}'><th>{html.escape(titled(column, where))}<br>"
            f"<small>{entry['better']} is better</small></th>"
            f"<td class='verdict'>{html.escape(verdict(entry))}</td>"
            f"<td>{html.escape(best['plan'])}: {html.escape(format_interval(best))}</td>"
            f"<td>{html.escape(diff)}<br><small>vs {html.escape(runner)}</small></td>"
            f"<td>{pairs}</td>"
            f"<td class='why'>{html.escape(sentence(entry, gap, where))}</td></tr>"
        )
    return (
        "<h2>Decision: which plan is better, outcome by outcome</h2>"
        "<p>A plan <em>wins</em> an outcome when the 95% CI of every other plan's paired "
        "difference to it excludes 0; otherwise there is <em>no clear winner</em>. Paired: "
        "replicate r of every plan saw the same org and random numbers, so the difference is "
        "taken per replicate, then a Student-t interval of its mean.</p>"
        "<table class='verdicts'><tr><th>outcome</th><th>verdict</th><th>best plan: mean "
        "[95% CI]</th><th>best − runner-up, paired [95% CI]</th><th>replicate pairs k/R</th>"
        f"<th>in words</th></tr>{''.join(rows)}</table>"
    )


STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1600px;
padding:0 1.5em;color:#222;line-height:1.4} table{border-collapse:collapse;margin:0.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f6f6f6} small{color:#555;font-weight:normal}
table.verdicts td.why{text-align:left;max-width:42em} table.verdicts td.verdict{font-weight:bold}
tr.win td.verdict{color:#0072B2} tr.open td.verdict{color:#555}
p.note{color:#444;max-width:70em}"""


def html_report(
    name: str,
    description: str,
    trajectories: pl.DataFrame,
    departments: pl.DataFrame,
    summary: pl.DataFrame,
    employees: dict[str, int],
    meta: dict,
) -> str:
    """A self-contained HTML page (plotly.js embedded: it opens offline).  ``employees``:
    head count per plan (plans may run on orgs of different sizes)."""
    title = subtitle(summary, name, employees, meta)
    where = money(meta)
    table = outcome_table(summary)
    plans = summary["plan"].unique(maintain_order=True).to_list()
    header = "".join(f"<th>{html.escape(p)}</th>" for p in plans)
    body = []
    for column in RUN_OUTCOMES:
        cells = []
        for plan in plans:
            found = table.filter((pl.col("plan") == plan) & (pl.col("outcome") == column))
            row = found.row(0, named=True) if found.height else None
            cells.append(f"<td>{html.escape(format_interval(row)) if row else ''}</td>")
        if any(cell != "<td></td>" for cell in cells):
            body.append(f"<tr><th>{html.escape(titled(column, where))}</th>{''.join(cells)}</tr>")
    figures = run_figures(trajectories, departments, title, meta)
    plots = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"responsive": True})
        for i, (_, fig) in enumerate(figures)
    )
    costs = (
        f"Costs and values are in {html.escape(where.currency)}, summed {where.horizon} "
        "(the scenario's <code>[costs] currency</code> and <code>weeks</code>)."
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>adoptsim: {html.escape(name)}</title>
<style>{STYLE}</style></head>
<body><h1>adoptsim: {html.escape(name)}</h1><p>{html.escape(description)}</p>
<p class="note">{html.escape(title)}. Engine: {html.escape(str(meta.get("engine")))}. {costs}</p>
{verdict_table(summary, plans, where)}
<h2>Outcomes by plan</h2>
<p class="note">Cells: mean [95% confidence interval, Student t over replicates]; (k/R) when
only k of R replicates reached it.</p>
<table><tr><th>outcome</th>{header}</tr>{"".join(body)}</table>
{plots}
</body></html>
"""
