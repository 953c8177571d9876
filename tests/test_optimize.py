"""adoptsim optimize: an Optuna search of a plan's levers on common random numbers, within
a budget, and the winner confirmed on fresh replicates against the plan as written."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from sim import api
from sim.cli import app
from sim.optimize import FRESH, outcomes
from sim.scenario import ScenarioError, parse_scenario
from sim.scenario.schema import with_values
from tests.conftest import quiet

# every mechanism off (tests.conftest.quiet), then the study's own settings
BASE = quiet(
    **{
        "name": "levers",
        "weeks": 30,
        "replicates": 4,
        "seed": 9,
        "org": {"generator": "hierarchy", "n": 300, "departments": 3},
        "adoption": {"rule": "linear", "p": 0.002, "q": 0.4, "heterogeneity": "none"},
        "seeding": {"strategy": "random", "count": 5},
        "costs": {"champion_hours_per_week": 2.0, "hourly_cost": 100.0, "champion_weeks": 10},
        "plans": [{"name": "pilot"}],
    }
)


def table(**changes) -> dict:
    spec = {
        "plan": "pilot",
        "objective": "final_active_share",
        "direction": "maximize",
        "trials": 12,
        "replicates": 4,
        "confirm_replicates": 8,
        "seed": 2,
        "budget": 20_000.0,  # 2 h x 100 x 10 weeks = 2,000 per champion: at most 10
        "levers": {"seeding.count": {"min": 0, "max": 40}},
    }
    spec.update(changes)
    return {**BASE, "optimize": spec}


def test_the_winner_keeps_to_the_budget_and_is_confirmed_on_fresh_replicates(tmp_path):
    """More champions reach more people but cost 2,000 each: the best candidate within a
    20,000 budget has at most 10, and its confirmation is recomputed here by hand."""
    scenario = parse_scenario(table(), "<levers>")
    result, folder = api.optimize(scenario, tmp_path)
    trials = pl.read_parquet(folder / "trials.parquet")
    assert trials.height == 12
    feasible = trials.filter(pl.col("state") == "feasible")
    assert (feasible["total_cost"] <= 20_000).all()
    assert (trials.filter(pl.col("state") == "over budget")["total_cost"] > 20_000).all()
    assert result.best["seeding.count"] <= 10
    assert (
        result.best["seeding.count"] == feasible.sort("value", descending=True)["seeding.count"][0]
    )
    (item,) = api.prepare(scenario)
    fresh = list(range(FRESH, FRESH + 8))
    by_hand = outcomes(with_values(item.config, result.best), item, fresh)
    assert result.confirm["winner"]["mean"] == pytest.approx(by_hand["final_active_share"].mean())
    written = json.loads((folder / "best.json").read_text())
    assert written["best"] == result.best
    assert json.loads((folder / "manifest.json").read_text())["kind"] == "optimize"
    assert "Confirmed on 8 fresh replicates" in (folder / "optimize.html").read_text()


def test_combinations_the_schema_refuses_are_pruned_not_run(tmp_path):
    """p and q as levers: where p + q > 1 the candidate is 'not allowed' and never wins."""
    levers = {"adoption.p": {"min": 0.0, "max": 0.5}, "adoption.q": {"min": 0.3, "max": 0.95}}
    scenario = parse_scenario(table(levers=levers, budget=None, trials=25), "<levers>")
    result, _ = api.optimize(scenario, tmp_path)
    refused = result.trials.filter(pl.col("state") == "not allowed")
    assert refused.height > 0
    assert ((refused["adoption.p"] + refused["adoption.q"]) > 1).all()
    assert result.best["adoption.p"] + result.best["adoption.q"] <= 1


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"plan": "nope"}, ["optimize.plan", "pilot"]),
        ({"objective": "joy"}, ["optimize.objective", "net_value"]),
        ({"budget": 0}, ["optimize.budget", "positive"]),
        ({"levers": {"adoption.qq": {"min": 0, "max": 1}}}, ["optimize.levers.adoption.qq"]),
        ({"levers": {"seeding.strategy": []}}, ["optimize.levers.seeding.strategy", "choice"]),
        ({"levers": {"adoption.q": {"min": 0.1, "max": 0.999}}}, ["at 0.999", "p + q <= 1"]),
        ({"direction": "up"}, ["optimize.direction", "maximize or minimize"]),
    ],
    ids=["plan", "objective", "budget", "path", "no-choice", "invalid-end", "direction"],
)
def test_bad_tables_are_one_message(changes, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(table(**changes), "<levers>")
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_an_impossible_budget_is_a_clear_message(tmp_path):
    scenario = parse_scenario(
        table(budget=1.0, levers={"seeding.count": {"min": 5, "max": 10}}, trials=4), "<levers>"
    )
    with pytest.raises(Exception) as info:
        api.optimize(scenario, tmp_path)
    assert "within the budget" in str(info.value)
    assert not (tmp_path / "levers-optimize").exists()


def test_the_command_without_a_table_is_exit_2(tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text('name = "plain"\nweeks = 5\n[org]\nn = 50\n')
    result = CliRunner().invoke(app, ["optimize", str(path), "--results", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no [optimize] table" in result.output


def test_compare_says_an_optimize_folder_is_not_a_run(tmp_path):
    scenario = parse_scenario(table(trials=3), "<levers>")
    _, folder = api.optimize(scenario, tmp_path)
    result = CliRunner().invoke(app, ["compare", str(folder)])
    assert result.exit_code == 2 and "holds an optimize study" in result.output


def test_the_optimiser_finds_a_known_optimum(tmp_path):
    """A scenario built to have one: nothing but champions costs anything (2,000 each) and
    cost is minimised, so the best seeding.count is 0; the search must find it and the
    confirmation must show the saving against the plan as written (5 champions)."""
    levers = {"seeding.count": {"min": 0, "max": 20}}
    data = table(
        objective="total_cost", direction="minimize", budget=None, trials=20, levers=levers
    )
    result, _ = api.optimize(parse_scenario(data, "<levers>"), tmp_path)
    assert result.best == {"seeding.count": 0}
    difference = result.confirm["difference"]
    assert difference["mean"] == pytest.approx(-5 * 2_000.0)


# A scenario built so the mandate week matters: little spreads on its own (p 0.001,
# q 0.15), a mandate makes licensees use it (compliance 0.6, nominal users count fully),
# so the earlier the mandate the more people are reached; but licences cost 2 per seat
# and week, so the earlier the mandate the dearer (300 x 2 x (30 - week), plus 10,000 for
# five champions).
MANDATE = {
    "weeks": 30,
    "adoption": {"rule": "linear", "p": 0.001, "q": 0.15, "heterogeneity": "none"},
    "mandate": {
        "enabled": True,
        "week": 20,
        "compliance": 0.6,
        "nominal_weight": 1.0,
        "resistance": 0.0,
    },
}


def mandate_table(**changes) -> dict:
    data = table(**changes)
    return {**data, **MANDATE}


def by_week(scenario, weeks, replicates) -> dict[int, tuple[float, float]]:
    """(final active share, total cost) of every mandate week, on the search's replicates."""
    (item,) = api.prepare(scenario)
    found = {}
    for week in weeks:
        summary = outcomes(with_values(item.config, {"mandate.week": week}), item, replicates)
        found[week] = (
            float(summary["final_active_share"].mean()),
            float(summary["total_cost"].mean()),
        )
    return found


def test_a_budget_makes_one_mandate_week_clearly_best(tmp_path):
    """Reach falls with every week the mandate waits, and so does cost (600 a week: 300
    licences at 2): a budget of 25,300 admits week 6 (25,000) but not week 5 (25,600),
    so the earliest affordable week, 6, is the known optimum.  Checked by running every
    week on the search's own replicates; the search must find it, and on fresh
    replicates it must reach more people than the plan as written (week 20)."""
    levers = {"mandate.week": {"min": 0, "max": 20}}
    data = mandate_table(levers=levers, budget=25_300.0, trials=25)
    scenario = parse_scenario(data, "<levers>")
    every = by_week(scenario, range(21), list(range(4)))
    affordable = {w: share for w, (share, cost) in every.items() if cost <= 25_300}
    known = max(affordable, key=affordable.get)
    assert known == min(affordable) == 6  # the earliest week within the budget
    runner_up = max(v for w, v in affordable.items() if w != known)
    assert affordable[known] - runner_up >= 0.004  # clearly best (1+ person of 300)
    result, _ = api.optimize(scenario, tmp_path)
    assert result.best == {"mandate.week": known}
    difference = result.confirm["difference"]
    assert difference["low"] > 0  # reaches more than week 20, on fresh replicates


def test_two_objectives_give_the_pareto_front_confirmed_on_fresh_replicates(tmp_path):
    """Engaged share against total cost over the mandate week: each front point is a week
    whose (share, cost) no other week beats in both, checked against every week run on
    the same replicates; trials off the front are dominated by one on it; every front
    point is confirmed on fresh replicates (recomputed here for one)."""
    from sim.optimize import pareto_front

    levers = {"mandate.week": {"min": 0, "max": 20}}
    data = mandate_table(
        levers=levers,
        objective=["final_active_share", "total_cost"],
        direction=["maximize", "minimize"],
        budget=None,
        trials=20,
    )
    scenario = parse_scenario(data, "<levers>")
    result, folder = api.optimize(scenario, tmp_path)
    every = by_week(scenario, range(21), list(range(4)))
    weeks = list(every)
    truly = {weeks[i] for i in pareto_front(list(every.values()), ("maximize", "minimize"))}
    trials = result.trials.filter(pl.col("state") == "feasible")
    front = trials.filter(pl.col("pareto"))
    assert len(result.front) >= 3
    for row in front.iter_rows(named=True):
        week = row["mandate.week"]
        assert week in truly, (week, sorted(truly))
        assert (row["value"], row["total_cost"]) == pytest.approx(every[week])
        assert row["value_2"] == row["total_cost"]
    for row in trials.filter(~pl.col("pareto")).iter_rows(named=True):
        assert any(
            f["value"] >= row["value"] and f["value_2"] <= row["value_2"]
            for f in front.iter_rows(named=True)
        )
    (item,) = api.prepare(scenario)
    point = result.front[0]
    fresh = list(range(FRESH, FRESH + 8))
    by_hand = outcomes(with_values(item.config, point["levers"]), item, fresh)
    share = point["objectives"]["final_active_share"]
    assert share["mean"] == pytest.approx(by_hand["final_active_share"].mean())
    assert share["low"] < share["mean"] < share["high"]
    written = json.loads((folder / "best.json").read_text())
    assert [p["levers"] for p in written["front"]] == [p["levers"] for p in result.front]
    page = (folder / "optimize.html").read_text()
    assert "Pareto front" in page and "fresh replicates" in page


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"objective": ["final_active_share"] * 2}, ["optimize.objective", "two different"]),
        (
            {"objective": ["t50", "t80", "roi"], "direction": ["minimize"] * 3},
            ["optimize.objective", "Pareto"],
        ),
        ({"objective": ["final_active_share", "total_cost"]}, ["optimize.direction", "one per"]),
        (
            {"objective": ["final_active_share", "joy"], "direction": ["maximize", "minimize"]},
            ["optimize.objective", "'joy'"],
        ),
        (
            {"objective": ["final_active_share", "total_cost"], "direction": ["up", "minimize"]},
            ["optimize.direction", "'up'"],
        ),
    ],
    ids=["same-twice", "three", "no-directions", "unknown", "bad-direction"],
)
def test_bad_two_objective_tables_are_one_message(changes, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(table(**changes), "<levers>")
    for word in words:
        assert word in str(info.value), (word, str(info.value))
