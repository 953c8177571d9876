"""Plan comparison: the terminal table and the self-contained plotly ``report.html``."""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots
from scipy import stats

from sim.results.stats import mean_ci, outcome_range
from sim.rules import STATE_NAMES

OUTCOMES = (
    ("t50", "weeks to 50% active", "{:.1f}"),
    ("final_active_share", "final active share", "{:.1%}"),
    ("peak_active_share", "peak active share", "{:.1%}"),
    ("shelfware_share", "shelfware share", "{:.1%}"),
    ("cost_per_engaged_user", "cost per engaged user", "{:,.0f}"),
    ("total_cost", "total cost of ownership", "{:,.0f}"),
    ("value_created", "value created", "{:,.0f}"),
    ("net_value", "net value", "{:,.0f}"),
    ("roi", "return on investment", "{:.1%}"),
    ("paywall_conversions", "paywall conversions", "{:.1f}"),
    ("departments_reached", "departments >= 50%", "{:.1f}"),
)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def outcome_table(summary: pl.DataFrame) -> pl.DataFrame:
    """Per plan and outcome: mean, 95% CI, and how many replicates reached it (t50 may be null)."""
    rows = []
    for plan in summary["plan"].unique(maintain_order=True):
        part = summary.filter(pl.col("plan") == plan)
        for column, label, fmt in OUTCOMES:
            if column not in part.columns:  # results written before the outcome existed
                continue
            values = part[column].to_list()
            mean, low, high = mean_ci(values, bounds=outcome_range(column))
            reached = sum(
                v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values
            )
            rows.append(
                {
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
    return pl.DataFrame(rows)


WEEK_OUTCOMES = ("t50", "t80", "deal_week")  # undefined in a run: the week never came


def format_interval(row: dict | None, signed: bool = False) -> str:
    """``mean [low, high]`` in the outcome's format, for tables in the terminal and reports.

    No run defines the outcome: "never" for a week (t50: nobody reached 50%), else "n/a"
    (e.g. shelfware share with no seat licensed). One run defines it: "mean [n/a]" (no
    interval from one value). Fewer runs than replicates: "(n/replicates)" follows.
    """
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


def band(
    trajectories: pl.DataFrame, column: str, per_employee: bool, level: float = 0.95
) -> pl.DataFrame:
    """Per plan and week: mean of the column over replicates with a t confidence band;
    with ``per_employee``, as a share of each row's own head count (the sum of its state
    counts), so plans run on orgs of different sizes are each divided by their own."""
    t = float(stats.t.ppf(0.5 + level / 2, max(trajectories["replicate"].n_unique() - 1, 1)))
    value = pl.col(column) / pl.sum_horizontal(*STATE_NAMES) if per_employee else pl.col(column)
    return (
        trajectories.group_by("plan", "week", maintain_order=True)
        .agg(
            mean=value.mean(),
            sd=value.std(),
            reps=pl.len(),
        )
        .with_columns(half=(pl.col("sd").fill_null(0) * t / pl.col("reps").sqrt()))
        .with_columns(low=pl.col("mean") - pl.col("half"), high=pl.col("mean") + pl.col("half"))
        .sort("plan", "week", maintain_order=True)
    )


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def adoption_figure(trajectories: pl.DataFrame, title: str) -> go.Figure:
    """Active share, seats paid for, and cumulative cost per plan, with 95% bands."""
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(
            "Engaged users (share of org)",
            "Seats paid for (share of org)",
            "Cumulative cost",
        ),
    )
    plans = trajectories["plan"].unique(maintain_order=True).to_list()
    shares = (("active", True), ("seats", True), ("cum_cost", False))
    for col, (column, per_employee) in enumerate(shares, 1):
        stats_frame = band(trajectories, column, per_employee)
        for i, plan in enumerate(plans):
            color = PALETTE[i % len(PALETTE)]
            part = stats_frame.filter(pl.col("plan") == plan)
            weeks = part["week"].to_list()
            fig.add_trace(
                go.Scatter(
                    x=weeks + weeks[::-1],
                    y=part["high"].to_list() + part["low"].to_list()[::-1],
                    fill="toself",
                    fillcolor=_rgba(color, 0.2),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=plan,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=weeks,
                    y=part["mean"].to_list(),
                    name=plan,
                    legendgroup=plan,
                    line={"color": color},
                    showlegend=(col == 1),
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="week", row=1, col=col)
    fig.update_layout(title=title, height=450, hovermode="x unified")
    return fig


def departments_figure(departments: pl.DataFrame) -> go.Figure:
    """Final-week active share per department and plan (mean over replicates)."""
    final = departments.filter(pl.col("week") == pl.col("week").max())
    means = final.group_by("plan", "department", maintain_order=True).agg(
        share=pl.col("active_share").mean()
    )
    fig = go.Figure()
    for i, plan in enumerate(means["plan"].unique(maintain_order=True).to_list()):
        part = means.filter(pl.col("plan") == plan).sort("department")
        fig.add_trace(
            go.Bar(
                x=part["department"].to_list(),
                y=part["share"].to_list(),
                name=plan,
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(
        title="Final active share by department",
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        height=380,
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
    trajectories: pl.DataFrame, departments: pl.DataFrame, title: str
) -> list[tuple[str, go.Figure]]:
    """The charts of a run's report.html, named: the same list feeds the page and
    ``adoptsim export --figures``."""
    return [
        (
            "adoption",
            adoption_figure(trajectories, f"Adoption by plan (mean, 95% CI band) — {title}"),
        ),
        ("departments", departments_figure(departments)),
    ]


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
    table = outcome_table(summary)
    plans = summary["plan"].unique(maintain_order=True).to_list()
    header = "".join(f"<th>{html.escape(p)}</th>" for p in plans)
    body = []
    for column, label, _ in OUTCOMES:
        cells = []
        for plan in plans:
            row = table.filter((pl.col("plan") == plan) & (pl.col("outcome") == column)).row(
                0, named=True
            )
            cells.append(f"<td>{html.escape(format_interval(row))}</td>")
        body.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    figures = run_figures(trajectories, departments, title)
    plots = "".join(
        fig.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, (_, fig) in enumerate(figures)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>adoptsim: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head>
<body><h1>adoptsim: {html.escape(name)}</h1><p>{html.escape(description)}</p>
<p>{html.escape(title)}. Engine: {html.escape(str(meta.get("engine")))}.
Cells: mean [95% confidence interval]; (k/R) when only k of R replicates reached it.</p>
<table><tr><th>outcome</th>{header}</tr>{"".join(body)}</table>
{plots}
</body></html>
"""
