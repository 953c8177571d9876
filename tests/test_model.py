"""Hand-checkable behaviour of the adoption model, on both engines."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sim.engines.batched import simulate_batched
from sim.engines.reference import AdoptionModel, simulate_reference
from sim.rules import State
from tests.conftest import make_plans, quiet

ENGINES = {"reference": simulate_reference, "batched": simulate_batched}
SMALL_ORG = {"generator": "hierarchy", "n": 150, "departments": 3, "span": 5}


@pytest.mark.parametrize("engine", ENGINES)
def test_no_spontaneous_adoption_and_no_seeds_means_nobody_adopts(engine):
    scenario = quiet(
        weeks=30,
        org=SMALL_ORG,
        discovery={"enabled": True, "external_rate": 0.0, "word_of_mouth": 0.9},
        adoption={"rule": "linear", "p": 0.0, "q": 0.9},
        freemium={"enabled": True},
        abandonment={"enabled": True},
        enterprise={"enabled": True, "threshold": 0.0001},
    )
    (plan,) = make_plans(scenario)
    traj, _ = ENGINES[engine](plan.config, plan.org, [0, 1, 2, 3])
    assert traj["active"].max() == 0
    assert traj["aware"].max() == 0
    assert traj["unaware"].min() == 150
    assert traj["cum_cost"].max() == 0


@pytest.mark.parametrize("scope", ["team", "department"])
def test_free_seat_cap_is_never_exceeded(scope):
    """With a cap of k and nobody paying, no unpaid workspace ever has more than k free users."""
    cap = 3 if scope == "team" else 20
    scenario = quiet(
        weeks=25,
        org=SMALL_ORG,
        adoption={"rule": "linear", "p": 0.3, "q": 0.3},
        freemium={"enabled": True, "workspace": scope, "free_seats": cap, "decision_rate": 0.0},
        abandonment={"enabled": True, "rate": 0.2},
    )
    (plan,) = make_plans(scenario)
    model = AdoptionModel(plan.config, plan.org, replicate=0)
    full_workspaces = 0
    for _ in range(plan.config.weeks):
        model.step()
        for workspace in model.workspaces:
            free_users = sum(1 for m in workspace.members if m.state == State.ACTIVE)
            assert not workspace.paid
            assert free_users <= cap
            full_workspaces += free_users == cap
    assert full_workspaces > 0  # the cap binds
    assert model.recorder.trajectories()["blocked"].max() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_mandate_at_week_zero_with_full_compliance_licenses_everyone_in_scope(engine):
    scenario = quiet(
        weeks=3,
        org=SMALL_ORG,
        adoption={"rule": "threshold", "threshold": 0.9, "p": 0.0},
        mandate={"enabled": True, "week": 0, "scope": ["D2"], "compliance": 1.0},
    )
    (plan,) = make_plans(scenario)
    in_scope = int((plan.org.department == plan.org.department_names.index("D2")).sum())
    traj, _ = ENGINES[engine](plan.config, plan.org, [0, 1])
    week1 = traj.filter(traj["week"] == 1)
    assert week1["licensed"].to_list() == [in_scope, in_scope]
    # everyone licensed is now a user: engaged (active) or nominal (shelfware)
    assert (week1["active"] + week1["nominal"]).to_list() == [in_scope, in_scope]
    # nobody would choose it alone (threshold 0.9, no spontaneous adoption): all nominal
    assert week1["nominal"].to_list() == [in_scope, in_scope]
    assert week1["shelfware"].to_list() == [in_scope, in_scope]


@pytest.mark.parametrize("engine", ENGINES)
def test_trial_then_lockout_blocks_everyone_not_paying(engine):
    """A 4-week trial with zero free seats: users keep access for 4 weeks, then lose it."""
    scenario = quiet(
        weeks=8,
        org=SMALL_ORG,
        adoption={"rule": "linear", "p": 0.0, "q": 0.0},
        seeding={"strategy": "random", "count": 10},
        freemium={"enabled": True, "free_seats": 0, "trial_weeks": 4, "decision_rate": 0.0},
    )
    (plan,) = make_plans(scenario)
    traj, _ = ENGINES[engine](plan.config, plan.org, [0])
    assert traj["active"].to_list() == [10, 10, 10, 10, 10, 0, 0, 0, 0]
    assert traj["blocked"].to_list() == [0, 0, 0, 0, 0, 10, 10, 10, 10]


def mean_active_share(traj, n: int) -> np.ndarray:
    return traj.group_by("week").agg(pl.col("active").mean()).sort("week")["active"].to_numpy() / n


def bass_recursion(p: float, q: float, weeks: int) -> np.ndarray:
    f = [0.0]
    for _ in range(weeks):
        f.append(f[-1] + (1 - f[-1]) * (p + q * f[-1]))
    return np.array(f)


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.4), (0.01, 0.6)])
def test_linear_rule_on_complete_graph_follows_discrete_bass(p, q):
    """Mean active share over replicates ~ F(t+1) = F(t) + (1 - F(t)) (p + q F(t))."""
    weeks, n = 30, 400
    scenario = quiet(
        weeks=weeks,
        org={"generator": "complete", "n": n},
        adoption={"rule": "linear", "p": p, "q": q, "heterogeneity": "none"},
    )
    (plan,) = make_plans(scenario)
    traj, _ = simulate_batched(plan.config, plan.org, list(range(200)))
    mean = mean_active_share(traj, n)
    expected = bass_recursion(p, q, weeks)
    assert np.max(np.abs(mean - expected)) < 0.02
    assert mean[-1] > 0.9  # the curve really rose


def test_reference_engine_follows_discrete_bass_too():
    p, q, weeks, n = 0.03, 0.4, 20, 120
    scenario = quiet(
        weeks=weeks,
        org={"generator": "complete", "n": n},
        adoption={"rule": "linear", "p": p, "q": q, "heterogeneity": "none"},
    )
    (plan,) = make_plans(scenario)
    traj, _ = simulate_reference(plan.config, plan.org, list(range(30)))
    mean = mean_active_share(traj, n)
    assert np.max(np.abs(mean - bass_recursion(p, q, weeks))) < 0.04


def test_threshold_rule_is_deterministic_cascade():
    """Threshold rule, no noise: neighbours whose active share reaches theta convert."""
    scenario = quiet(
        weeks=5,
        org={"generator": "watts_strogatz", "n": 50, "k": 4, "rewire": 0.0},
        adoption={"rule": "threshold", "threshold": 0.25, "p": 0.0, "heterogeneity": "none"},
        seeding={"strategy": "random", "count": 1},
    )
    (plan,) = make_plans(scenario)
    traj, _ = simulate_batched(plan.config, plan.org, [0])
    # on a ring lattice with k=4, one active neighbour is a share of 1/4: the cascade adds
    # the 4 nearest neighbours of the frontier each week (2 on each side)
    assert traj["active"].to_list() == [1, 5, 9, 13, 17, 21]


def test_count_rule_needs_k_active_neighbours():
    scenario = quiet(
        weeks=5,
        org={"generator": "watts_strogatz", "n": 50, "k": 4, "rewire": 0.0},
        adoption={"rule": "count", "k": 2, "p": 0.0, "heterogeneity": "none"},
        seeding={"strategy": "random", "count": 1},
    )
    (plan,) = make_plans(scenario)
    traj, _ = simulate_batched(plan.config, plan.org, [0])
    assert traj["active"].to_list() == [1] * 6  # one seed can never give anyone 2 active ties


def test_abandonment_lapses_users_without_value():
    scenario = quiet(
        weeks=20,
        org=SMALL_ORG,
        adoption={"rule": "linear", "p": 0.0, "q": 0.0},
        seeding={"strategy": "random", "count": 50},
        tool={"standalone_value": 0.0},
        abandonment={"enabled": True, "rate": 0.5},
    )
    (plan,) = make_plans(scenario)
    traj, _ = simulate_batched(plan.config, plan.org, list(range(20)))
    assert traj.filter(traj["week"] == 20)["lapsed"].mean() > 45
    assert (traj["active"] + traj["lapsed"]).unique().to_list() == [50]


def test_compliance_changes_engagement_only_through_nominal_weight():
    """Nominal users raise colleagues' S_i by ``nominal_weight`` (docs/model.md, eq. S).

    With weight 0, compliance only relabels licensed non-users aware -> nominal: the
    engaged counts are identical week by week. With weight 1/2, full compliance puts
    everyone on the tool at once and engagement follows much faster than with none.
    """

    def run(compliance: float, weight: float):
        scenario = quiet(
            weeks=20,
            org=SMALL_ORG,
            adoption={"rule": "linear", "p": 0.002, "q": 0.3},
            seeding={"strategy": "random", "count": 5},
            mandate={
                "enabled": True,
                "week": 0,
                "compliance": compliance,
                "resistance": 1.0,
                "nominal_weight": weight,
            },
        )
        (plan,) = make_plans(scenario)
        traj, _ = simulate_batched(plan.config, plan.org, list(range(8)))
        return traj

    none, full = run(0.0, 0.0), run(1.0, 0.0)
    assert none["active"].to_list() == full["active"].to_list()
    assert none["nominal"].sum() == 0 < full["nominal"].sum()

    none, full = run(0.0, 0.5), run(1.0, 0.5)
    last = pl.col("week") == 10
    engaged_none = none.filter(last)["active"].mean()
    engaged_full = full.filter(last)["active"].mean()
    assert engaged_full > 2 * engaged_none, (engaged_none, engaged_full)


def test_reference_state_history_matches_the_weekly_counts():
    """Each employee's history (the browser view's inspector) agrees with the recorded counts
    every week, including a mandate week, where unaware employees in scope become aware."""
    scenario = quiet(
        weeks=6,
        org=SMALL_ORG,
        discovery={"enabled": True, "external_rate": 0.01, "word_of_mouth": 0.2},
        adoption={"rule": "linear", "p": 0.01, "q": 0.3},
        seeding={"strategy": "random", "count": 3},
        mandate={"enabled": True, "week": 2, "compliance": 0.5},
    )
    (plan,) = make_plans(scenario)
    model = AdoptionModel(plan.config, plan.org, replicate=0)
    for _ in range(6):
        model.step()
    history = np.array([e.history for e in model.employees])  # N x (weeks + 1)
    assert history.shape == (plan.org.n, 7)
    counts = model.recorder.weeks
    for week in range(7):
        for state in State:
            expected = counts[week][state.name.lower()][0]
            assert (history[:, week] == state).sum() == expected, (week, state)
    assert (history[:, 2] == State.UNAWARE).sum() == 0  # the mandate made everyone aware
    assert (history[:, 1] == State.UNAWARE).sum() > 0


def test_mandate_does_not_make_employees_blocked_at_the_paywall_reluctant():
    """Blocked employees asked for the tool: a mandate licenses them without reluctance."""
    scenario = quiet(
        weeks=6,
        org=SMALL_ORG,
        adoption={"rule": "linear", "p": 0.0, "q": 0.0},
        freemium={"enabled": True, "free_seats": 1, "decision_rate": 0.0},
        seeding={"strategy": "team", "count": 6},
        mandate={"enabled": True, "week": 3, "compliance": 0.0},
    )
    (plan,) = make_plans(scenario)
    model = AdoptionModel(plan.config, plan.org, replicate=0)
    for _ in range(3):
        model.step()
    blocked = [e for e in model.employees if e.state == State.BLOCKED]
    aware = [e for e in model.employees if e.state == State.AWARE]
    assert blocked and aware  # the team's champions beyond the one free seat wait
    assert not any(e.reluctant for e in blocked)
    assert all(e.reluctant for e in aware)  # mandated non-users resist
    model.step()  # licensed now: the blocked ones become engaged users
    assert all(e.state == State.ACTIVE for e in blocked)


def test_empty_departments_are_never_reached():
    """A department with nobody in it has share 0/0: it must not count as reached."""
    from sim.metrics import summarize

    scenario = quiet(
        weeks=5,
        org={"generator": "complete", "n": 6, "departments": 8},
        seeding={"strategy": "random", "count": 6},
    )
    (plan,) = make_plans(scenario)
    traj, dept = simulate_batched(plan.config, plan.org, [0])
    populated = int((dept.filter(dept["week"] == 5)["size"] > 0).sum())
    assert populated < 8
    summary = summarize(traj, dept, plan.org.n)
    assert summary["departments_reached"].to_list() == [populated]


def test_unlimited_free_seats_never_block_anyone():
    """free_seats = "unlimited" (TOML has no null) lifts the cap: nobody waits at a paywall."""
    scenario = quiet(
        weeks=20,
        org=SMALL_ORG,
        adoption={"rule": "linear", "p": 0.05, "q": 0.5},
        freemium={"enabled": True, "free_seats": "unlimited", "decision_rate": 0.0},
        seeding={"strategy": "team", "count": 6},
    )
    (plan,) = make_plans(scenario)
    assert plan.config.freemium.free_seats is None
    for simulate in ENGINES.values():
        traj, _ = simulate(plan.config, plan.org, [0, 1])
        assert traj["blocked"].max() == 0
        assert traj["free_users"].max() > 100  # far above any team's 5 default seats
