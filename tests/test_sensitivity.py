"""adoptsim sensitivity: Morris and Sobol indices (SALib) over a scenario's [sensitivity]
table.  Common random numbers make an inert parameter's index exactly 0, which is what the
ranking tests check; bad tables get one message naming the field."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from sim import api
from sim.cli import app
from sim.errors import AdoptsimError
from sim.scenario import ScenarioError, parse_scenario

BASE = {
    "name": "screen",
    "weeks": 20,
    "replicates": 4,
    "seed": 3,
    "org": {"generator": "hierarchy", "n": 200, "departments": 2},
    "discovery": {"enabled": False},
    "freemium": {"enabled": False},
    "mandate": {"enabled": False},
    "enterprise": {"enabled": False},
    "abandonment": {"enabled": False},
    "adoption": {"rule": "linear", "p": 0.01, "q": 0.3, "heterogeneity": "none"},
    "seeding": {"strategy": "random", "count": 5},
}


def screen(method: str = "morris", trajectories: int = 6, **changes) -> dict:
    table = {
        "method": method,
        "outcome": "final_active_share",
        "trajectories": trajectories,
        "replicates": 4,
        "seed": 1,
        "parameters": {
            "adoption.q": {"min": 0.05, "max": 0.6},
            "tool.price_per_seat_week": {"min": 1.0, "max": 9.0},  # inert: freemium is off
        },
    }
    table.update(changes)
    return {**BASE, "sensitivity": table}


@pytest.mark.parametrize("method, trajectories", [("morris", 6), ("sobol", 8)])
def test_the_parameter_that_matters_ranks_first_and_the_inert_one_scores_zero(
    tmp_path, method, trajectories
):
    scenario = parse_scenario(screen(method, trajectories), "<screen>")
    result, folder = api.sensitivity(scenario, tmp_path)
    ranked = result.indices["parameter"].to_list()
    assert ranked == ["adoption.q", "tool.price_per_seat_week"]
    main = "mu_star" if method == "morris" else "ST"
    inert = result.indices.filter(pl.col("parameter") == "tool.price_per_seat_week")
    assert inert[main].item() == 0.0  # common random numbers: exactly no effect
    assert result.indices.filter(pl.col("parameter") == "adoption.q")[main].item() > 0.05
    # written whole: indices, samples (one row per sample), a page, a manifest of its kind
    assert pl.read_parquet(folder / "indices.parquet").equals(result.indices)
    samples = pl.read_parquet(folder / "samples.parquet")
    expected_rows = (2 + 1) * trajectories if method == "morris" else trajectories * (2 + 2)
    assert samples.height == expected_rows
    assert json.loads((folder / "manifest.json").read_text())["kind"] == "sensitivity"
    assert "Sensitivity: final_active_share" in (folder / "sensitivity.html").read_text()


def test_a_plan_difference_is_the_paired_mean(tmp_path):
    """Two plans: each sample's output is the mean paired difference A - B of the same
    replicates: champions never make a replicate end lower, so no sample's output is
    negative."""
    data = screen(plans=["seeded", "unseeded"])
    data["plans"] = [
        {"name": "seeded"},
        {"name": "unseeded", "seeding": {"strategy": "none", "count": 0}},
    ]
    result, _ = api.sensitivity(parse_scenario(data, "<screen>"), tmp_path)
    assert result.spec.target == "final_active_share, seeded - unseeded"
    assert (result.samples["output"] >= 0).all()  # champions never hurt, pair by pair


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"outcome": "happiness"}, ["sensitivity.outcome", "final_active_share"]),
        ({"plans": ["nope"]}, ["sensitivity.plans", "base"]),
        ({"method": "sobol", "trajectories": 6}, ["sensitivity.trajectories", "power of 2"]),
        ({"method": "fast"}, ["sensitivity.method", "morris, sobol"]),
        (
            {"parameters": {"adoption.qq": {"min": 0, "max": 1}}},
            ["sensitivity.parameters.adoption.qq", "names no scenario setting"],
        ),
        (
            {"parameters": {"adoption.q": {"min": 0.5, "max": 0.2}}},
            ["sensitivity.parameters.adoption.q", "min < max"],
        ),
        (
            {"parameters": {"adoption.q": {"min": 0.1, "max": 0.999}}},
            ["sensitivity.parameters.adoption.q", "at 0.999", "p + q <= 1"],
        ),
        ({"colour": "red"}, ["sensitivity.colour", "unknown field"]),
    ],
    ids=["outcome", "plans", "sobol-n", "method", "path", "range", "invalid-end", "unknown"],
)
def test_bad_tables_are_one_message(changes, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(screen(**changes), "<screen>")
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_the_command_without_a_table_is_exit_2_and_writes_nothing(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('name = "plain"\nweeks = 5\n[org]\nn = 50\n')
    result = CliRunner().invoke(app, ["sensitivity", str(path), "--results", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no [sensitivity] table" in result.output
    assert not (tmp_path / "out").exists()
    with pytest.raises(AdoptsimError):
        api.sensitivity(parse_scenario({**BASE}, "<plain>"), tmp_path)
