"""Helpers shared by the experiments: scenarios in code, output folders, findings text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from sim.engines.batched import simulate_batched
from sim.engines.runner import prepare
from sim.metrics import summarize
from sim.org import Org
from sim.palette import DEPARTMENT_COLOURS, STATE_COLOURS  # noqa: F401 (re-exported)
from sim.results import store
from sim.results.stats import mean_ci
from sim.scenario import Config, deep_merge, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
QUIET: dict[str, Any] = {
    "discovery": {"enabled": False},
    "freemium": {"enabled": False},
    "mandate": {"enabled": False},
    "enterprise": {"enabled": False},
    "abandonment": {"enabled": False},
    "seeding": {"strategy": "none", "count": 0},
}


def quiet(**overrides: Any) -> dict[str, Any]:
    """A scenario with every mechanism off, then the overrides merged in."""
    return deep_merge(QUIET, overrides)


def plan_and_org(data: dict[str, Any], name: str = "experiment") -> tuple[Config, Org]:
    """One plan's config and org from a scenario dict (validated by the schema)."""
    (prepared,) = prepare(parse_scenario({"name": name, **data}, f"<{name}>"))
    return prepared.config, prepared.org


def simulate(data: dict[str, Any], replicates: int, name: str = "experiment"):
    """(trajectories, summary, org) for a scenario dict on the batched engine."""
    config, org = plan_and_org(data, name)
    trajectories, departments = simulate_batched(config, org, list(range(replicates)))
    tags = [pl.lit(name).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
    trajectories = trajectories.with_columns(tags)
    summary = summarize(trajectories, departments.with_columns(tags), org.n)
    return trajectories, summary, org


class Output:
    """results/<experiment>/: data, figures and findings, each written atomically."""

    def __init__(self, experiment: str, results: Path | None = None):
        """``results``: where ``<experiment>/`` goes (default ``results/``; tests use a
        temporary folder)."""
        self.folder = (results or ROOT / "results") / experiment
        self.folder.mkdir(parents=True, exist_ok=True)
        self.findings: list[str] = []
        self.numbers: dict[str, Any] = {}

    def table(self, frame: pl.DataFrame, name: str) -> None:
        store.write_parquet(frame, self.folder / f"{name}.parquet")

    def figure(self, fig: go.Figure, name: str, caption: str) -> None:
        """Every figure states its scenario, replicates and seed (in the caption)."""
        fig.add_annotation(
            text=caption,
            xref="paper",
            yref="paper",
            x=0,
            y=-0.22,
            showarrow=False,
            align="left",
            font={"size": 10},
        )
        fig.update_layout(margin={"b": 110})
        store.write_text(fig.to_html(include_plotlyjs=True), self.folder / f"{name}.html")

    def say(self, line: str) -> None:
        print(line)
        self.findings.append(line)

    def finish(self, title: str) -> None:
        text = f"# {title}\n\n" + "\n".join(f"- {line}" for line in self.findings) + "\n"
        store.write_text(text, self.folder / "findings.md")
        store.write_text(
            json.dumps(self.numbers, indent=2, default=float) + "\n", self.folder / "numbers.json"
        )


# -- helpers for the plan, freemium, seeding and sensitivity studies ---------------------------
# The reports' colours (sim.palette: Okabe-Ito, colour-blind safe), so a plan or study arm
# looks the same in the experiments' figures as in report.html; states use STATE_COLOURS.
PALETTE = DEPARTMENT_COLOURS


def scenario_base(path: str | Path) -> dict[str, Any]:
    """A scenario file's base configuration (no name, description, sweep or plans), as a dict."""
    import tomllib

    with open(ROOT / path, "rb") as handle:
        data = tomllib.load(handle)
    return {k: v for k, v in data.items() if k not in ("name", "description", "sweep", "plans")}


def interval(
    mean: float, low: float, high: float, fmt: str = "{:.1f}", signed: bool = False
) -> str:
    """'mean [low, high]' with one format; 'n/a' when there is no value."""
    if mean != mean:
        return "n/a"
    if signed:
        fmt = fmt.replace("{:", "{:+")
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def ci_row(values, **keys: Any) -> dict[str, Any]:
    """Mean and 95% Student-t CI of the non-null values, with how many there were."""
    values = list(values)
    mean, low, high = mean_ci(values)
    n = sum(v is not None and v == v for v in values)
    return {**keys, "mean": mean, "low": low, "high": high, "n": n, "of": len(values)}


def paired(left: pl.DataFrame, right: pl.DataFrame, column: str, on: list[str], **keys: Any):
    """Paired difference left - right of one outcome, joined on ``on`` (e.g. replicate).

    Pairs where either side is null (e.g. never reached 50%) are left out; ``n`` counts the
    pairs that remain, ``of`` all pairs."""
    joined = left.select(*on, column).join(right.select(*on, column), on=on, suffix="_b")
    diff = joined.select(d=pl.col(column) - pl.col(f"{column}_b"))["d"].to_list()
    return ci_row(diff, **keys)


def excludes_zero(row: dict[str, Any]) -> bool:
    return row["n"] > 1 and (row["low"] > 0 or row["high"] < 0)


def bands(frame: pl.DataFrame, value: pl.Expr, by: list[str]) -> pl.DataFrame:
    """Per group and week: mean of ``value`` over replicates and its 95% Student-t band."""
    from scipy import stats

    agg = (
        frame.group_by(*by, "week")
        .agg(mean=value.mean(), sd=value.std(), reps=pl.len())
        .sort(*by, "week")
    )
    t = [float(stats.t.ppf(0.975, max(r - 1, 1))) for r in agg["reps"]]
    half = pl.Series("t", t) * agg["sd"].fill_null(0) / agg["reps"].sqrt()
    return agg.with_columns(low=pl.col("mean") - half, high=pl.col("mean") + half)


def add_band(
    fig: go.Figure,
    part: pl.DataFrame,
    name: str,
    color: str,
    row: int | None = None,
    col: int | None = None,
    showlegend: bool = True,
) -> None:
    """A mean curve with its shaded 95% band (columns week, mean, low, high)."""
    weeks = part["week"].to_list()
    rgba = "rgba({},{},{},0.2)".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))
    where = {"row": row, "col": col} if row is not None else {}
    fig.add_trace(
        go.Scatter(
            x=weeks + weeks[::-1],
            y=part["high"].to_list() + part["low"].to_list()[::-1],
            fill="toself",
            fillcolor=rgba,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        ),
        **where,
    )
    fig.add_trace(
        go.Scatter(
            x=weeks,
            y=part["mean"].to_list(),
            name=name,
            legendgroup=name,
            line={"color": color},
            showlegend=showlegend,
        ),
        **where,
    )


def configure(data: dict[str, Any], name: str = "experiment") -> Config:
    """One plan's validated config from a scenario dict, without building its org."""
    return parse_scenario({"name": name, **data}, f"<{name}>").plans[0].config
