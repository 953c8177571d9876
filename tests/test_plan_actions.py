"""Plans that say what a rollout team would do: targeted seeding, staged and triggered
actions, per-department overrides, and the cost of it all (eqs. 10-12 of docs/model.md).

Each test checks a number a hand calculation gives; the engines' agreement on these
mechanisms is in tests/test_engines_agree.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sim.engines.batched import simulate_batched
from sim.engines.reference import simulate_reference
from sim.scenario import ScenarioError
from tests.conftest import make_plans, quiet

REPS = [0, 1, 2, 3]
ORG = {"generator": "hierarchy", "n": 400, "departments": 4, "span": 6, "informal_ties": 3.0}


def base(**overrides) -> dict:
    """Discovery off (everyone aware), linear adoption, no freemium, no deal, no lapse."""
    return {
        **quiet(**overrides),
        "weeks": 30,
        "replicates": 4,
        "seed": 11,
        "org": ORG,
        "adoption": {"rule": "linear", "p": 0.01, "q": 0.4, "heterogeneity": "none"},
    }


def run(data: dict, plans: list[dict] | None = None, engine=simulate_batched):
    """Trajectories of each plan, by plan name, and the prepared plans."""
    prepared = make_plans(data, plans)
    out = {}
    for item in prepared:
        trajectories, _ = engine(item.config, item.org, REPS)
        out[item.plan.name] = trajectories
    return out, {item.plan.name: item for item in prepared}


def department_size(item, name: str) -> int:
    org = item.org
    return int((org.department == org.department_names.index(name)).sum())


def test_staged_mandates_license_each_department_at_its_week():
    """Sales-like staging: D2 at week 8, D3 at week 16; licences jump by the department's
    size exactly then, in every replicate."""
    actions = [
        {"kind": "mandate", "departments": ["D2"], "week": 8},
        {"kind": "mandate", "departments": ["D3"], "week": 16},
    ]
    trajectories, prepared = run(base(actions=actions))
    item, traj = prepared["base"], trajectories["base"]
    d2, d3 = department_size(item, "D2"), department_size(item, "D3")
    for rep in REPS:
        licensed = traj.filter(pl.col("replicate") == rep)["licensed"].to_list()
        assert licensed[7] == 0 and licensed[8] == d2
        assert licensed[15] == d2 and licensed[16] == d2 + d3
        assert licensed[-1] == d2 + d3


def test_triggered_licence_fires_in_the_first_week_the_share_is_reached():
    """when = { active_share = 0.2 }: the licences arrive at the end of the first week whose
    engaged share is >= 20%, a week that differs between replicates."""
    actions = [{"kind": "licence", "when": {"active_share": 0.2}}]
    trajectories, prepared = run(base(actions=actions, seeding={"strategy": "random", "count": 10}))
    traj, n = trajectories["base"], prepared["base"].org.n
    weeks = set()
    for rep in REPS:
        rows = traj.filter(pl.col("replicate") == rep)
        share = (rows["active"] / n).to_list()
        first = next(week for week, s in enumerate(share) if s >= 0.2)
        licensed = rows["licensed"].to_list()
        assert licensed[first - 1] == 0 and licensed[first] == n
        weeks.add(first)
    assert len(weeks) > 1  # a trigger, not a fixed week


def test_trigger_measured_in_one_department():
    """when = { department = "D1", active_share = 0.5 }: fires when D1 is half engaged,
    whatever the org-wide share."""
    actions = [
        {
            "kind": "licence",
            "departments": ["D4"],
            "when": {"department": "D1", "active_share": 0.5},
        }
    ]
    data = base(actions=actions, seeding={"strategy": "random", "count": 20, "departments": ["D1"]})
    prepared = make_plans(data)[0]
    traj, departments = simulate_batched(prepared.config, prepared.org, REPS)
    d4 = department_size(prepared, "D4")
    for rep in REPS:
        d1 = departments.filter((pl.col("replicate") == rep) & (pl.col("department") == "D1"))
        first = next(w for w, s in enumerate(d1["active_share"].to_list()) if s >= 0.5)
        licensed = traj.filter(pl.col("replicate") == rep)["licensed"].to_list()
        assert licensed[first - 1] == 0 and licensed[first] == d4


def test_a_licence_does_not_push_and_a_mandate_does():
    """Licences alone make no nominal (shelfware-by-compliance) users and nobody reluctant;
    the same licences as a mandate (compliance 0.5) do."""
    licence = [{"kind": "licence", "week": 2}]
    mandate = [{"kind": "mandate", "week": 2}]
    data = base(mandate={"compliance": 0.5, "resistance": 1.0})
    trajectories, _ = run(
        data, [{"name": "licence", "actions": licence}, {"name": "mandate", "actions": mandate}]
    )
    assert trajectories["licence"]["nominal"].max() == 0
    assert trajectories["mandate"]["nominal"].max() > 0


def test_the_mandate_table_is_the_one_action_case():
    """[mandate] enabled at week 5 in D2 runs exactly like one mandate action."""
    data = base()
    plans = [
        {"name": "table", "mandate": {"enabled": True, "week": 5, "scope": ["D2"]}},
        {"name": "action", "actions": [{"kind": "mandate", "departments": ["D2"], "week": 5}]},
    ]
    trajectories, _ = run(data, plans)
    assert trajectories["table"].equals(trajectories["action"])


def test_targeted_seeding_picks_champions_in_the_named_department():
    """seeding = { count = 15, departments = ["D3"] }: week 0 has 15 engaged, all in D3."""
    data = base(seeding={"strategy": "random", "count": 15, "departments": ["D3"]})
    prepared = make_plans(data)[0]
    _, departments = simulate_batched(prepared.config, prepared.org, REPS)
    week0 = departments.filter(pl.col("week") == 0)
    assert week0.filter(pl.col("department") == "D3")["active"].to_list() == [15] * len(REPS)
    assert week0.filter(pl.col("department") != "D3")["active"].sum() == 0


def test_targeting_by_team_employee_and_title_intersects():
    """Filters of different kinds narrow each other: employees named AND in a department."""
    data = base(
        seeding={
            "strategy": "random",
            "count": 2,
            "employees": ["5", "9", "13"],
            "departments": ["D1"],
        }
    )
    prepared = make_plans(data)[0]
    org = prepared.org
    pool = org.members(employees=["5", "9", "13"], departments=["D1"])
    assert set(np.flatnonzero(pool)) == {i for i in (5, 9, 13) if org.department[i] == 0}


def test_a_department_override_changes_only_that_department():
    """freemium.free_seats = 0 in D1 (team workspaces): D1's champions are all blocked at
    week 0, while the other departments' get their free seats."""
    data = base(
        freemium={"enabled": True, "free_seats": 5, "workspace": "team"},
        seeding={"strategy": "random", "count": 40},
        departments={"D1": {"freemium": {"free_seats": 0}}},
    )
    prepared = make_plans(data)[0]
    model_traj, departments = simulate_reference(prepared.config, prepared.org, [0])
    from sim.engines.population import champions_of, draw_traits

    traits = draw_traits(prepared.config.seed, 0, prepared.org.n, prepared.config.adoption)
    champions = champions_of(prepared.org, prepared.config, traits)
    in_d1 = int((prepared.org.department[champions] == 0).sum())
    assert in_d1 > 0
    week0 = model_traj.filter(pl.col("week") == 0)
    assert week0["blocked"].item() >= in_d1
    d1 = departments.filter((pl.col("week") == 0) & (pl.col("department") == "D1"))
    assert d1["active"].item() == 0


def test_a_department_q_override_speeds_that_department():
    """q = 0.9 in D2 (the others 0.4): D2 reaches half engaged before the rest, on average."""
    data = base(
        seeding={"strategy": "random", "count": 20}, departments={"D2": {"adoption": {"q": 0.59}}}
    )
    prepared = make_plans(data)[0]
    _, departments = simulate_batched(prepared.config, prepared.org, REPS)
    week10 = (
        departments.filter(pl.col("week") == 10)
        .group_by("department")
        .agg(pl.col("active_share").mean())
    )
    shares = dict(zip(week10["department"], week10["active_share"], strict=True))
    assert shares["D2"] > max(shares["D1"], shares["D3"], shares["D4"]) + 0.05


def test_rollout_cost_by_hand():
    """Eq. 12: champions 10 x 2 h x 50 in weeks 1..6; 1,500 per action fired; 30 per
    employee a training newly trains (D2 at week 4, then the whole org at week 9 when D2's
    8-week boost still runs: the second one newly trains everyone but D2)."""
    data = base(
        seeding={"strategy": "random", "count": 10},
        actions=[
            {"kind": "mandate", "departments": ["D2"], "week": 2},
            {"kind": "training", "departments": ["D2"], "week": 4},
            {"kind": "training", "week": 9},
        ],
        costs={
            "champion_hours_per_week": 2.0,
            "hourly_cost": 50.0,
            "champion_weeks": 6,
            "training_per_employee": 30.0,
            "rollout_per_action": 1000.0,
            "it_per_action": 500.0,
        },
    )
    trajectories, prepared = run(data)
    item, traj = prepared["base"], trajectories["base"]
    n, d2 = item.org.n, department_size(item, "D2")
    expected = [0.0] * 31
    for week in range(1, 7):
        expected[week] += 10 * 2 * 50
    expected[2] += 1500
    expected[4] += 1500 + 30 * d2
    expected[9] += 1500 + 30 * (n - d2)
    for rep in REPS:
        rows = traj.filter(pl.col("replicate") == rep)
        assert rows["rollout_cost"].to_list() == pytest.approx(expected)
        assert rows["cost"].to_list() == pytest.approx(
            (rows["licence_cost"] + rows["rollout_cost"]).to_list()
        )


def test_value_net_value_and_roi():
    """value = engaged x value per engaged user-week; ROI = (value - cost) / cost."""
    from sim.metrics import summarize

    data = base(
        seeding={"strategy": "random", "count": 10},
        actions=[{"kind": "licence", "week": 3}],
        costs={"value_per_engaged_user_week": 4.0},
        mandate={"price_per_seat_week": 1.0},
    )
    trajectories, prepared = run(data)
    traj = trajectories["base"]
    assert traj["value"].to_list() == pytest.approx((traj["active"] * 4.0).to_list())
    summary = summarize(
        traj, simulate_batched(prepared["base"].config, prepared["base"].org, REPS)[1], 400
    )
    for row in summary.iter_rows(named=True):
        rows = traj.filter(pl.col("replicate") == row["replicate"])
        value, cost = float((rows["active"] * 4.0).sum()), float(rows["cost"].sum())
        assert row["value_created"] == pytest.approx(value)
        assert row["total_cost"] == pytest.approx(cost)
        assert row["net_value"] == pytest.approx(value - cost)
        assert row["roi"] == pytest.approx((value - cost) / cost)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (
            {"actions": [{"kind": "mandate", "departments": ["Sales"], "week": 3}]},
            ["actions[1].departments", "unknown department", "'Sales'", "D1"],
        ),
        (
            {"actions": [{"kind": "mandate", "when": {"department": "Ops", "active_share": 0.3}}]},
            ["actions[1].when.department", "'Ops'"],
        ),
        (
            {"seeding": {"strategy": "random", "count": 5, "teams": ["Platform"]}},
            ["seeding.teams", "unknown team", "'Platform'"],
        ),
        (
            {"seeding": {"strategy": "random", "count": 150, "departments": ["D1"]}},
            ["seeding.count", "150 champions", "match in D1", "allowed: 0.."],
        ),
        ({"departments": {"Legal": {"adoption": {"q": 0.2}}}}, ["departments", "'Legal'"]),
    ],
    ids=[
        "action-department",
        "trigger-department",
        "seeding-team",
        "seeding-pool",
        "override-department",
    ],
)
def test_names_the_org_lacks_are_refused_with_what_it_has(overrides, words):
    with pytest.raises(ScenarioError) as info:
        make_plans(base(**overrides))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize(
    "action, words",
    [
        ({"kind": "mandate"}, ["exactly one of week", "when"]),
        ({"kind": "mandate", "week": 3, "when": {"active_share": 0.2}}, ["exactly one of week"]),
        ({"kind": "hire", "week": 3}, ["actions[1].kind", "mandate", "licence", "sunset"]),
        ({"kind": "mandate", "week": 99}, ["after the last week"]),
        ({"kind": "licence", "when": {"active_share": 1.5}}, ["active_share", "0..1"]),
    ],
    ids=["no-time", "both-times", "unknown-kind", "after-the-end", "share-above-1"],
)
def test_bad_actions_are_refused(action, words):
    with pytest.raises(ScenarioError) as info:
        make_plans(base(actions=[action]))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_a_department_override_keeps_p_plus_q_a_probability():
    with pytest.raises(ScenarioError) as info:
        make_plans(base(departments={"D1": {"adoption": {"q": 0.995}}}))
    assert "departments.D1" in str(info.value) and "p + q <= 1" in str(info.value)


def test_acme_pilot_then_staged_plan_does_what_it_says():
    """The README's example on the shipped 3,000-person chart: 20 champions in Engineering
    at week 0; Sales licensed at week 8; Support in the first week 30% are active."""
    from pathlib import Path

    from sim.engines.runner import prepare
    from sim.scenario import load_scenario

    scenario = load_scenario(Path(__file__).parent.parent / "scenarios/acme/acme.toml")
    (item,) = [p for p in prepare(scenario) if p.plan.name == "pilot-then-staged"]
    traj, departments = simulate_batched(item.config, item.org, [0, 1])
    sales, support = department_size(item, "Sales"), department_size(item, "Support")
    week0 = departments.filter(pl.col("week") == 0)
    assert week0.filter(pl.col("department") == "Engineering")["active"].to_list() == [20, 20]
    assert week0.filter(pl.col("department") != "Engineering")["active"].sum() == 0
    for rep in (0, 1):
        rows = traj.filter(pl.col("replicate") == rep)
        licensed = rows["licensed"].to_list()
        share = (rows["active"] / item.org.n).to_list()
        first = next(week for week, s in enumerate(share) if s >= 0.3)
        assert licensed[7] == 0 and licensed[8] == sales
        assert first > 8 and not rows["deal"][first]  # the trigger, not the deal, licenses
        assert licensed[first - 1] == sales and licensed[first] == sales + support


def test_shared_actions_apply_to_every_plan_before_its_own():
    """Top-level [[actions]] apply to every plan; a plan's own come after them (they do
    not replace them, as other lists in a plan would)."""
    shared = [{"kind": "licence", "departments": ["D3"], "week": 3}]
    own = [{"kind": "mandate", "departments": ["D2"], "week": 5}]
    a, b = make_plans(base(actions=shared), [{"name": "a"}, {"name": "b", "actions": own}])
    assert [x.kind for x in a.config.actions] == ["licence"]
    assert [(x.kind, x.week) for x in b.config.actions] == [("licence", 3), ("mandate", 5)]


def test_an_unknown_key_in_a_plans_action_names_the_plan_and_the_block():
    with pytest.raises(ScenarioError) as info:
        make_plans(
            base(),
            [
                {"name": "a"},
                {"name": "b", "actions": [{"kind": "mandate", "week": 2, "department": "D1"}]},
            ],
        )
    message = str(info.value)
    assert "plan 'b'" in message and "actions[1].department: unknown field" in message
    assert "departments" in message  # what is allowed there
