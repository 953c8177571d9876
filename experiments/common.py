"""Helpers shared by the experiments: scenarios in code, output folders, findings text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from sim import store
from sim.batched import simulate_batched
from sim.metrics import summarize
from sim.org import Org
from sim.runner import build_orgs
from sim.scenario import Config, _deep_merge, parse_scenario

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
    return _deep_merge(QUIET, overrides)


def prepare(data: dict[str, Any], name: str = "experiment") -> tuple[Config, Org]:
    """One plan's config and org from a scenario dict (validated by the schema)."""
    (prepared,) = build_orgs(parse_scenario({"name": name, **data}, f"<{name}>"))
    return prepared.config, prepared.org


def simulate(data: dict[str, Any], replicates: int, name: str = "experiment"):
    """(trajectories, summary, org) for a scenario dict on the batched engine."""
    config, org = prepare(data, name)
    trajectories, departments = simulate_batched(config, org, list(range(replicates)))
    tags = [pl.lit(name).alias("plan"), pl.lit(0, pl.Int64).alias("point")]
    trajectories = trajectories.with_columns(tags)
    summary = summarize(trajectories, departments.with_columns(tags), org.n)
    return trajectories, summary, org


class Output:
    """results/<experiment>/: data, figures and findings, each written atomically."""

    def __init__(self, experiment: str):
        self.folder = ROOT / "results" / experiment
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
