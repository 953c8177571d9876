"""adoptsim sensitivity: Morris and Sobol indices (SALib) over a scenario's [sensitivity]
table.  Common random numbers make an inert parameter's index exactly 0, which is what the
ranking tests check; bad tables get one message naming the field."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim import api
from sim.cli import app
from sim.engines.batched import simulate_batched
from sim.engines.runner import prepare
from sim.errors import AdoptsimError
from sim.metrics import summarize
from sim.scenario import ScenarioError, parse_scenario
from tests.conftest import quiet

ROOT = Path(__file__).resolve().parents[1]

# every mechanism off (tests.conftest.quiet), then the study's own settings
BASE = quiet(
    **{
        "name": "screen",
        "weeks": 20,
        "replicates": 4,
        "seed": 3,
        "org": {"generator": "hierarchy", "n": 200, "departments": 2},
        "adoption": {"rule": "linear", "p": 0.01, "q": 0.3, "heterogeneity": "none"},
        "seeding": {"strategy": "random", "count": 5},
    }
)


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
    assert (result.samples["final_active_share"] >= 0).all()  # champions never hurt, pair by pair


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
        (
            {"outcome": ["final_active_share", "final_active_share"]},
            ["sensitivity.outcome", "list of different ones"],
        ),
        (
            {"outcome": ["final_active_share", "happiness"]},
            ["sensitivity.outcome", "mean_active_share", "happiness"],
        ),
        (
            {"parameters": {"discovery.enabled": {"min": 0, "max": 2}}},
            ["sensitivity.parameters.discovery.enabled", "a switch", "min = 0, max = 1"],
        ),
    ],
    ids=[
        "outcome",
        "plans",
        "sobol-n",
        "method",
        "path",
        "range",
        "invalid-end",
        "unknown",
        "outcome-twice",
        "outcome-in-list",
        "switch-range",
    ],
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


def test_the_run_outcomes_the_screen_needs_are_summaries_of_every_run():
    """mean_active_share (speed and reach in one number) and cost_per_employee are defined
    in every run, even one where nobody engages (where t50 and cost per engaged user are
    not)."""
    (plan,) = prepare(parse_scenario(BASE, "<base>"))
    trajectories, departments = simulate_batched(plan.config, plan.org, [0, 1])
    summary = summarize(trajectories, departments, plan.org.n)
    by_hand = (
        trajectories.group_by("replicate")
        .agg(mean=(pl.col("active") / plan.org.n).mean(), cost=pl.col("cum_cost").last())
        .sort("replicate")
    )
    assert summary["mean_active_share"].to_list() == pytest.approx(by_hand["mean"].to_list())
    assert 0 < summary["mean_active_share"][0] < summary["final_active_share"][0]
    assert summary["cost_per_employee"].to_list() == pytest.approx(
        (summary["total_cost"] / plan.org.n).to_list()
    )
    nobody = {**BASE, "seeding": {"strategy": "none", "count": 0}}
    (plan,) = prepare(parse_scenario({**nobody, "adoption": {"p": 0.0, "q": 0.0}}, "<x>"))
    trajectories, departments = simulate_batched(plan.config, plan.org, [0])
    empty = summarize(trajectories, departments, plan.org.n)
    assert empty["cost_per_engaged_user"][0] is None
    assert empty["mean_active_share"][0] is not None and empty["cost_per_employee"][0] is not None


def test_several_outcomes_get_the_indices_one_outcome_alone_would():
    """A list of outcomes ranks each from the same runs: the first outcome's indices are
    exactly those of a study of it alone; the inert parameter scores 0 on both."""
    both = ["final_active_share", "mean_active_share"]
    alone = run_in_memory(screen())
    result = run_in_memory(screen(outcome=both))
    assert result.indices["outcome"].to_list() == [both[0]] * 2 + [both[1]] * 2
    first = result.indices.filter(pl.col("outcome") == both[0]).drop("outcome")
    assert first.equals(alone.indices.drop("outcome"))
    assert result.samples[both[0]].to_list() == alone.samples[both[0]].to_list()
    inert = result.indices.filter(pl.col("parameter") == "tool.price_per_seat_week")
    assert inert["mu_star"].to_list() == [0.0, 0.0]
    assert result.spec.target == "final_active_share and mean_active_share of base"


def run_in_memory(data: dict):
    from sim.sensitivity import run_sensitivity

    scenario = parse_scenario(data, "<screen>")
    return run_sensitivity(scenario, prepare(scenario))


def test_a_switch_is_off_below_half_and_on_from_half():
    """A true/false setting sampled over 0..1 is on from 0.5 (Morris levels 0 and 1/3 off,
    2/3 and 1 on).  Here everyone knows the tool with discovery off; switching it on makes
    awareness spread first, so every elementary effect is negative and every sample with it
    on ends below every sample with it off."""
    data = screen(parameters={"discovery.enabled": {"min": 0, "max": 1}})
    result = run_in_memory(data)
    (row,) = result.indices.rows(named=True)
    assert row["mu"] < 0 and row["mu_star"] == -row["mu"]
    on = result.samples.filter(pl.col("discovery.enabled") >= 0.5)["final_active_share"]
    off = result.samples.filter(pl.col("discovery.enabled") < 0.5)["final_active_share"]
    assert on.len() and off.len() and on.max() < off.min()


def load_study(monkeypatch):
    """experiments/sensitivity.py as a module (it imports experiments/common.py)."""
    monkeypatch.syspath_prepend(str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location(
        "study_sensitivity", ROOT / "experiments" / "sensitivity.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_morris_study_in_experiments_runs_through_the_command(tmp_path, monkeypatch):
    """Study 5 (experiments/sensitivity.py) is a [sensitivity] table run by the command's
    code, api.sensitivity: a small version of its scenario goes through it once, and the
    indices and numbers the study writes are the command's."""
    study = load_study(monkeypatch)
    scenario = study.study(trajectories=2, replicates=2, weeks=10, org={"n": 60})
    spec = scenario.sensitivity
    assert spec.outcomes == ("final_active_share", "mean_active_share", "cost_per_employee")
    assert spec.plans == ["bottom-up", "top-down"]
    assert len(spec.parameters) == 17 and spec.parameters["security_review.enabled"] == (0, 1)
    calls = []
    command = api.sensitivity

    def spy(*args, **kwargs):
        calls.append(args[0])
        return command(*args, **kwargs)

    monkeypatch.setattr(api, "sensitivity", spy)
    result = study.screen(scenario, study.Output("sensitivity", tmp_path))
    assert calls == [scenario]
    folder = tmp_path / "sensitivity"
    indices = pl.read_parquet(folder / f"{study.NAME}-sensitivity" / "indices.parquet")
    assert indices.height == 3 * 17 and indices.equals(result.indices)
    assert pl.read_parquet(folder / "morris.parquet").equals(indices)
    numbers = json.loads((folder / "numbers.json").read_text())
    for outcome in spec.outcomes:
        top = indices.filter(pl.col("outcome") == outcome).row(0, named=True)
        written = numbers[f"d_{outcome}"][top["parameter"]]
        assert written["mu_star"] == pytest.approx(top["mu_star"])
    wins = float((result.samples["final_active_share"] > 0).mean())
    assert numbers["share_of_samples_bottom_up_reaches_more"] == pytest.approx(wins)
    assert "Morris screening" in (folder / "morris.html").read_text()
