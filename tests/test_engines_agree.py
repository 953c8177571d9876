"""The batched engine reproduces the Mesa reference engine exactly: equal counts every week.

The scenarios below switch every mechanism on between them: freemium caps and trials,
paywall decisions (team, department and org workspaces), mandates with nominal users
(counted in S_i at two weights) and resistance (org-wide and department scopes), the
enterprise deal, abandonment, every rule family, heterogeneity and seeding strategy, and
unequal tie weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engines import kernels
from sim.engines.batched import BatchedModel, simulate_batched, split_replicates
from sim.engines.reference import simulate_reference
from sim.observe import (
    FREE_USERS_ROW,
    INCUMBENT_ROW,
    LICENSED_ROW,
    PAID_SEATS_ROW,
    SHELFWARE_ROW,
    UNLICENSED_ACTIVE_ROW,
    tally,
)
from sim.rules import State
from tests.conftest import make_plans

BASE = {
    "weeks": 40,
    "replicates": 3,
    "seed": 7,
    "org": {
        "generator": "hierarchy",
        "n": 240,
        "departments": 4,
        "span": 6,
        "informal_ties": 3.0,
        "tie_weights": {"manager": 1.5, "peer": 1.0, "informal": 0.75},
    },
    "discovery": {"external_rate": 0.02, "word_of_mouth": 0.5},
    "adoption": {"rule": "linear", "p": 0.01, "q": 0.4},
    "seeding": {"strategy": "random", "count": 12},
    "freemium": {"free_seats": 3, "decision_rate": 0.3},
    "enterprise": {"threshold": 0.45},
    "abandonment": {"rate": 0.05},
}

PLANS = [
    {"name": "linear-freemium-random"},
    {
        "name": "trial-lockout",
        "freemium": {"trial_weeks": 5, "free_seats": 0},
        "seeding": {"strategy": "hubs", "count": 8},
    },
    {
        "name": "threshold-mandate",
        "adoption": {"rule": "threshold", "threshold": 0.2, "p": 0.003},
        "mandate": {"enabled": True, "week": 6, "compliance": 0.25, "resistance": 1.5},
        "seeding": {"strategy": "brokers", "count": 10},
    },
    {
        "name": "count-dept-workspace",
        "adoption": {"rule": "count", "k": 2, "p": 0.003},
        "freemium": {"workspace": "department", "free_seats": 15, "trial_weeks": 3},
        "seeding": {"strategy": "team", "count": 6},
    },
    {
        "name": "dept-mandate-org-workspace",
        "freemium": {"workspace": "org", "free_seats": 25},
        "mandate": {
            "enabled": True,
            "week": 0,
            "scope": ["D2", "D4"],
            "compliance": 0.5,
            "nominal_weight": 1.0,
        },
        "adoption": {"heterogeneity": "normal", "spread": 0.4},
        "seeding": {"strategy": "managers", "count": 9},
    },
    {
        "name": "no-discovery-deal",
        "discovery": {"enabled": False},
        "adoption": {"rule": "threshold", "threshold": 0.3, "heterogeneity": "none", "p": 0.01},
        "enterprise": {"threshold": 0.12},
        "seeding": {"strategy": "random", "count": 20},
    },
    {
        "name": "small-world-mechanisms-off",
        "org": {"generator": "watts_strogatz", "n": 200, "k": 6, "rewire": 0.2},
        "freemium": {"enabled": False},
        "abandonment": {"enabled": False},
        "mandate": {"enabled": True, "week": 10, "compliance": 0.3, "nominal_weight": 0.0},
        "seeding": {"strategy": "hubs", "count": 4},
    },
    {
        "name": "staged-triggered-actions-overrides",
        "seeding": {"strategy": "random", "count": 8, "departments": ["D1"]},
        "actions": [
            {"kind": "mandate", "departments": ["D2"], "week": 8},
            {"kind": "licence", "departments": ["D3"], "when": {"active_share": 0.15}},
            {
                "kind": "mandate",
                "departments": ["D4"],
                "when": {"department": "D1", "active_share": 0.3},
            },
        ],
        "mandate": {"compliance": 0.4, "resistance": 1.0},
        "departments": {
            "D1": {"adoption": {"q": 0.7}, "freemium": {"free_seats": 8}},
            "D3": {"adoption": {"p": 0.002}, "tool": {"value_per_seat_week": 20.0}},
        },
        "costs": {
            "champion_hours_per_week": 2.0,
            "hourly_cost": 50.0,
            "champion_weeks": 10,
            "training_per_employee": 30.0,
            "rollout_per_action": 1000.0,
            "it_per_action": 500.0,
        },
    },
    {
        "name": "winback-fading-champions-fit",
        "winback": {"enabled": True, "rate": 0.3},
        "reluctance": {"half_life_weeks": 3.0},
        "seeding": {"strategy": "brokers", "count": 10, "champion_weight": 2.5},
        "adoption": {"market_potential": 0.7, "heterogeneity": "rogers"},
        "departments": {"D2": {"adoption": {"market_potential": 0.3}}},
        "mandate": {"enabled": True, "week": 5, "compliance": 0.3, "resistance": 2.0},
        "abandonment": {"rate": 0.15},
        "tool": {"onboarding": 1.5, "pricing": "per_active_user"},
    },
    {
        "name": "incumbent-sunset-training",
        "incumbent": {"enabled": True, "strength": 2.0, "cost_per_employee_week": 0.5},
        "training": {"boost": 1.0, "weeks": 4},
        "actions": [
            {"kind": "training", "departments": ["D1", "D3"], "week": 3},
            {"kind": "sunset", "departments": ["D1"], "when": {"active_share": 0.1}},
            {"kind": "sunset", "week": 20},
            {"kind": "licence", "teams": ["team of 1"], "week": 6},
        ],
        "costs": {"training_per_employee": 40.0},
    },
    {
        "name": "security-review-ban",
        "security_review": {"enabled": True, "threshold_share": 0.08, "delay_weeks": 2},
        "tool": {"enterprise_ready": 0.5},
        "freemium": {"free_seats": 10, "decision_rate": 0.6},
        "mandate": {"enabled": True, "week": 15, "scope": ["D1"]},
    },
    {
        "name": "security-review-enterprise",
        "security_review": {
            "enabled": True,
            "threshold_share": 0.5,
            "threshold_count": 15,
            "delay_weeks": 0,
            "on_fail": "enterprise",
        },
        "tool": {"enterprise_ready": 0.5},
        "enterprise": {"enabled": False},
        "adoption": {"heterogeneity": "normal", "spread": 0.6},
    },
    {  # every feature bit of the weekly pass set: its leanest machine code (kernels.decide)
        "name": "lean-bass-features",
        "discovery": {"enabled": False},
        "abandonment": {"enabled": False},
        "freemium": {"enabled": False},
        "enterprise": {"enabled": False},
        "adoption": {"heterogeneity": "none", "market_potential": 1.0},
        "seeding": {"strategy": "brokers", "count": 8, "champion_weight": 2.0},
    },
    {  # no freemium, but a ban still takes seats away: the pass must keep its seat logic
        "name": "review-ban-without-freemium",
        "freemium": {"enabled": False},
        "enterprise": {"enabled": False},
        "security_review": {
            "enabled": True,
            "threshold_share": 0.05,
            "delay_weeks": 1,
            "on_fail": "ban",
        },
        "tool": {"enterprise_ready": 0.0},
    },
    {  # nobody lapses, so engaged free users keep their seats every week (a settled state
        # only while every seat is granted): when trials end, caps block some of them
        "name": "trial-ends-without-lapsing",
        "abandonment": {"enabled": False},
        "freemium": {"free_seats": 2, "trial_weeks": 4, "decision_rate": 0.05},
        "enterprise": {"enabled": False},
        "mandate": {"enabled": True, "week": 12, "scope": ["D3"], "resistance": 1.0},
        "reluctance": {"half_life_weeks": 4.0},
    },
    {  # every tie weighs the same and each employee has 139: the batched pass counts them
        # in runs of at most population.MAX_RUN = 127 ties (and commits in its decision pass)
        "name": "complete-graph-long-runs",
        "org": {
            "generator": "complete",
            "n": 140,
            "departments": 2,
            "tie_weights": {"manager": 1.0, "peer": 1.0, "informal": 1.0},
        },
        "freemium": {"enabled": False},
        "enterprise": {"enabled": False},
        "abandonment": {"enabled": False},
        "adoption": {"p": 0.01, "q": 0.6},  # nearly everyone engaged: counts above 127
    },
    {
        "name": "krackhardt-count-no-seeds",
        "org": {"generator": "krackhardt"},
        "adoption": {"rule": "count", "k": 1.5, "p": 0.02},
        "freemium": {"free_seats": 2, "trial_weeks": 2},
        "seeding": {"strategy": "none", "count": 0},
    },
]


@pytest.mark.parametrize("plan", [p["name"] for p in PLANS])
def test_identical_trajectories(plan):
    (prepared,) = [p for p in make_plans(BASE, PLANS) if p.plan.name == plan]
    ref_traj, ref_dept = simulate_reference(prepared.config, prepared.org, [0, 1, 2])
    bat_traj, bat_dept = simulate_batched(prepared.config, prepared.org, [0, 1, 2])
    assert ref_traj.columns == bat_traj.columns
    for column in ref_traj.columns:
        assert ref_traj[column].to_list() == bat_traj[column].to_list(), column
    assert ref_dept.equals(bat_dept)


# lean-bass-features without champions' extra weight: no sum but the engaged one, so the
# pass sums in 64-lane blocks; wants the only fact, every seat granted, nobody reluctant
BASS_IN_BLOCKS = {
    **next(p for p in PLANS if p["name"] == "lean-bass-features"),
    "name": "bass-in-blocks",
    "seeding": {"strategy": "brokers", "count": 8},
}


# the same with licences bought for one department in week 8: its aware employees adopt
# licensed (a move the fused pass does not count by the engaged users gained), and the
# licences change the tally mid-run
BASS_IN_BLOCKS_LICENSED = {
    **BASS_IN_BLOCKS,
    "name": "bass-in-blocks-licence",
    "actions": [{"kind": "licence", "week": 8, "departments": ["D2"]}],
}
# every tie one weight: a row's ties are one run (kernels.ONE_RUN), on the hierarchy and
# on a sparse random org where some employees have no tie at all
BASS_ONE_WEIGHT = {
    **BASS_IN_BLOCKS,
    "name": "bass-one-weight",
    "org": {"tie_weights": {"manager": 1.5, "peer": 1.5, "informal": 1.5}},
}
BASS_SPARSE = {
    **BASS_IN_BLOCKS,
    "name": "bass-sparse-one-weight",
    "org": {"generator": "erdos_renyi", "mean_degree": 1.5},
    "seeding": {"strategy": "random", "count": 20},
    # only peers, counted (the count rule reads S itself, not S / D): a tie-less employee
    # never adopts
    "adoption": {"rule": "count", "k": 1, "p": 0.0},
}
# champions at 2.5 and nominal users at 1/4 (a mandate in week 5), summed in blocks: the
# engaged champions from each row's ties to champions alone (population.champion_ties),
# who here differ from replicate to replicate (random seeding), every tie one weight
CHAMPIONS_ONE_WEIGHT = {
    **next(p for p in PLANS if p["name"] == "winback-fading-champions-fit"),
    "name": "champions-nominal-one-weight",
    "org": {"tie_weights": {"manager": 1.0, "peer": 1.0, "informal": 1.0}},
    "seeding": {"strategy": "random", "count": 10, "champion_weight": 2.5},
}
FUSED = kernels.ONLY_WANTS | kernels.NO_SEATS | kernels.PLAIN_APPEAL
EXTRA = [BASS_IN_BLOCKS, BASS_IN_BLOCKS_LICENSED, BASS_ONE_WEIGHT, BASS_SPARSE]
EXTRA += [CHAMPIONS_ONE_WEIGHT]


@pytest.mark.parametrize(
    "plan",
    [
        "bass-in-blocks",
        "bass-in-blocks-licence",
        "bass-one-weight",
        "bass-sparse-one-weight",
        "linear-freemium-random",
        "winback-fading-champions-fit",
        "champions-nominal-one-weight",
    ],
)
def test_replicates_past_the_first_64_lanes_match_the_reference(plan):
    """With 130 replicates the weekly pass sums ties in blocks of 64 lanes (two full and a
    padded third) and finds changed replicates 64 at a time: replicates in every block,
    at both edges of the second, agree with the reference engine.  The Bass plans run
    fused (``kernels.decide``: the tally recounted from the engaged bytes); the champion
    plans count engaged champions and nominal users in S as well."""
    plans = make_plans(BASE, [*PLANS, *EXTRA])
    (prepared,) = [p for p in plans if p.plan.name == plan]
    model = BatchedModel(prepared.config, prepared.org, [0, 1])
    assert (model.features & FUSED == FUSED) == plan.startswith("bass")
    assert bool(model.features & kernels.ONE_RUN) == ("one-weight" in plan)
    if "sparse" in plan:  # employees with no tie, whose sum must not be another's
        assert (model.degree == 0).sum() > 20
    if "champions" in plan:  # champions weigh extra (and differ between replicates)
        assert model.block[0].seeding_champion_weight == 2.5
        differ = model.champion.any(axis=1).sum() > model.champion_count.max()
        assert differ == (plan == "champions-nominal-one-weight")
    picked = [0, 63, 64, 127, 129]
    many, _ = simulate_batched(prepared.config, prepared.org, list(range(130)), threads=1)
    ref, _ = simulate_reference(prepared.config, prepared.org, picked)
    mine = many.filter(many["replicate"].is_in(picked)).sort(["replicate", "week"])
    assert mine.equals(ref.sort(["replicate", "week"]))


def test_scenarios_exercise_every_mechanism():
    """Guard against the agreement test passing vacuously: each mechanism leaves a trace."""
    prepared = {p.plan.name: p for p in make_plans(BASE, PLANS)}
    seen = {}
    for name, item in prepared.items():
        traj, _ = simulate_batched(item.config, item.org, [0, 1, 2])
        seen[name] = {
            c: traj[c].max()
            for c in (
                "active",
                "blocked",
                "lapsed",
                "nominal",
                "paid_workspaces",
                "licensed",
                "free_users",
            )
        }
        seen[name]["deal"] = traj["deal"].any()
    assert seen["linear-freemium-random"]["blocked"] > 0
    assert seen["linear-freemium-random"]["paid_workspaces"] > 0
    assert seen["trial-lockout"]["blocked"] > 0
    assert seen["threshold-mandate"]["nominal"] > 0
    assert seen["dept-mandate-org-workspace"]["licensed"] > 0
    assert seen["no-discovery-deal"]["deal"]
    assert seen["small-world-mechanisms-off"]["nominal"] > 0
    assert seen["small-world-mechanisms-off"]["lapsed"] == 0  # abandonment off
    assert seen["small-world-mechanisms-off"]["blocked"] == 0  # freemium off
    assert seen["krackhardt-count-no-seeds"]["blocked"] > 0
    assert seen["staged-triggered-actions-overrides"]["nominal"] > 0
    assert seen["review-ban-without-freemium"]["blocked"] > 0  # the ban, not a paywall
    assert seen["lean-bass-features"]["lapsed"] == 0  # abandonment off
    assert seen["trial-ends-without-lapsing"]["blocked"] > 0
    without_lapsing = {"small-world-mechanisms-off", "lean-bass-features"}
    without_lapsing |= {"trial-ends-without-lapsing", "complete-graph-long-runs"}
    assert seen["complete-graph-long-runs"]["lapsed"] == 0  # abandonment off
    assert seen["complete-graph-long-runs"]["active"] > 127  # a run's count passes int8's 127
    assert all(s["lapsed"] > 0 for n, s in seen.items() if n not in without_lapsing)


@pytest.mark.parametrize("plan", ["trial-ends-without-lapsing", "winback-fading-champions-fit"])
def test_every_employee_ends_the_same(plan):
    """Beyond the counts: each employee's state, licence, reluctance and old tool agree
    week by week (the reference engine leaves settled employees out of a week's step,
    which must not leave their reluctance unfaded)."""
    import numpy as np

    from sim.engines.batched import BatchedModel
    from sim.engines.reference import AdoptionModel

    (prepared,) = [p for p in make_plans(BASE, PLANS) if p.plan.name == plan]
    reference = AdoptionModel(prepared.config, prepared.org, 1)
    batched = BatchedModel(prepared.config, prepared.org, [1])
    reluctant_seen = 0
    for _ in range(prepared.config.weeks):
        reference.step()
        batched.step()
        for name in ("state", "licensed", "reluctant", "incumbent"):
            mine = np.array([getattr(e, name) for e in reference.employees])
            assert (mine == batched.__dict__[name][:, 0]).all(), name
        reluctant_seen += batched.reluctant.sum()
    assert reluctant_seen > 0  # the mandate made someone reluctant


def test_replicate_results_do_not_depend_on_batching():
    """Replicate r gives the same rows whether run alone or with others."""
    (prepared,) = make_plans(BASE)
    together, _ = simulate_batched(prepared.config, prepared.org, [0, 1, 2])
    alone, _ = simulate_batched(prepared.config, prepared.org, [2])
    assert together.filter(together["replicate"] == 2).equals(alone)


@pytest.mark.parametrize("threads", [2, 3])
def test_same_rows_whatever_the_number_of_threads(threads):
    """Sub-batches in threads (split 24 replicates 3 ways, or 2 ways) give the rows of one."""
    (prepared,) = [p for p in make_plans(BASE, PLANS) if p.plan.name == "threshold-mandate"]
    replicates = list(range(24))
    one = simulate_batched(prepared.config, prepared.org, replicates, threads=1)
    many = simulate_batched(prepared.config, prepared.org, replicates, threads=threads)
    assert split_replicates(replicates, threads) != [replicates]  # really split
    assert one[0].equals(many[0])
    assert one[1].equals(many[1])


@pytest.mark.parametrize(
    "mechanism", ["discovery", "freemium", "mandate", "enterprise", "abandonment"]
)
def test_switching_a_mechanism_off_leaves_every_draw_unchanged(mechanism):
    """Randomness contract v2: the numbers an engine reads (week-0 traits and keys, and each
    week's transition and payment uniforms) do not depend on which mechanisms are on."""
    import numpy as np

    from sim.engines.batched import BatchedModel
    from sim.engines.population import draw_traits
    from sim.engines.reference import AdoptionModel
    from sim.rules import Draw

    on, off = make_plans(
        {**BASE, "mandate": {"enabled": True, "week": 3}},
        [{"name": "on"}, {"name": "off", mechanism: {"enabled": False}}],
    )
    assert getattr(on.config, mechanism).enabled and not getattr(off.config, mechanism).enabled
    models = [AdoptionModel(p.config, p.org, replicate=1) for p in (on, off)]
    for week in range(1, 4):
        for model in models:
            model.step()
        for draw in (Draw.TRANSITION, Draw.PAYMENT):
            assert np.array_equal(models[0].uniforms[draw], models[1].uniforms[draw]), week
    traits = [draw_traits(7, 1, on.org.n, p.config.adoption) for p in (on, off)]
    assert np.array_equal(traits[0].keys, traits[1].keys)
    assert np.array_equal(traits[0].threshold, traits[1].threshold)
    batched = [BatchedModel(p.config, p.org, [0, 1, 2]) for p in (on, off)]
    assert np.array_equal(batched[0].keys, batched[1].keys)


def test_new_mechanisms_leave_a_trace_in_the_agreement_plans():
    """The agreement test is not vacuous for the mechanisms of issue 14: lapsed employees
    come back, reluctance fades, some employees never fit, a review bans in one replicate
    and forces the deal in another, training reaches people and the old tool goes."""
    import numpy as np

    from sim.engines.batched import BatchedModel

    prepared = {p.plan.name: p for p in make_plans(BASE, PLANS)}
    models = {}
    for name in (
        "winback-fading-champions-fit",
        "incumbent-sunset-training",
        "security-review-ban",
        "security-review-enterprise",
        "review-ban-without-freemium",
    ):
        item = prepared[name]
        model = BatchedModel(item.config, item.org, [0, 1, 2])
        returns, most_reluctant = 0, 0
        for _ in range(item.config.weeks):
            before = model.state.copy()
            model.step()
            returns += int(((before == 4) & (model.state != 4)).sum())
            most_reluctant = max(most_reluctant, int(model.reluctant.sum()))
        models[name] = (model, returns, most_reluctant)
    model, returns, most_reluctant = models["winback-fading-champions-fit"]
    assert returns > 0
    assert int(model.reluctant.sum()) < most_reluctant / 4
    assert 0.4 < model.fits.mean() < 0.8
    model, _, _ = models["incumbent-sunset-training"]
    assert (model.trained_until >= 0).any() and not model.incumbent.any()
    assert models["security-review-ban"][0].reviews.banned.any()
    assert models["review-ban-without-freemium"][0].reviews.banned.all()
    enterprise = models["security-review-enterprise"][0]
    assert enterprise.reviews.decided.any() and enterprise.deal.any()
    assert not enterprise.config.enterprise.enabled  # the deal came from the review
    assert np.all(model.champion.sum(axis=0) == model.champion_count)
    from sim.engines import kernels

    lean = BatchedModel(
        prepared["lean-bass-features"].config, prepared["lean-bass-features"].org, [0]
    )
    every_bit = kernels.ONLY_WANTS | kernels.PLAIN_APPEAL | kernels.NO_SEATS | kernels.PLAIN_PEOPLE
    assert lean.features == every_bit


# Points of a sweep that differ in everything a column group may differ in (column_key).
GROUPED = [
    {"name": "g-base"},
    {
        "name": "g-mandate-prices",
        "adoption": {"p": 0.02, "q": 0.25, "heterogeneity": "rogers"},
        "mandate": {"enabled": True, "week": 4, "compliance": 0.4, "resistance": 1.5},
        "reluctance": {"half_life_weeks": 2.0},
        "tool": {"price_per_seat_week": 9.0, "value_per_seat_week": 12.0},
        "costs": {"champion_hours_per_week": 3.0, "hourly_cost": 40.0, "champion_weeks": 6},
        "seeding": {"strategy": "brokers", "count": 6, "champion_weight": 2.0},
    },
    {
        "name": "g-freemium-review",
        "freemium": {"free_seats": 1, "trial_weeks": 3, "decision_rate": 0.6},
        "security_review": {"enabled": True, "threshold_share": 0.05, "on_fail": "ban"},
        "tool": {"enterprise_ready": 0.0},
        "discovery": {"enabled": False},
        "enterprise": {"enabled": False},
    },
    {
        "name": "g-actions-overrides",
        "incumbent": {"enabled": True, "strength": 1.0},
        "training": {"boost": 0.8, "weeks": 3},
        "actions": [
            {"kind": "training", "departments": ["D2"], "week": 3},
            {"kind": "licence", "departments": ["D3"], "when": {"active_share": 0.1}},
            {"kind": "sunset", "week": 12},
        ],
        "departments": {"D1": {"adoption": {"q": 0.8}, "freemium": {"free_seats": 6}}},
        "abandonment": {"enabled": False},
        "adoption": {"market_potential": 0.8},
    },
]


@pytest.mark.parametrize(("threads", "rounds"), [(1, 1), (2, 1), (1, 2)])
def test_sweep_points_as_column_groups_give_each_points_own_rows(threads, rounds):
    """Several configurations as column groups of one model (a sweep's points on their
    shared org) give, point by point, exactly the rows each gives run alone, whichever
    way the columns are split between threads and models (``rounds`` = 2: twice the
    groups, more than one model holds, with other replicates the second time)."""
    from sim.engines.batched import MAX_GROUPS, ColumnGroup, column_key, simulate_groups

    prepared = make_plans({**BASE, "weeks": 30}, GROUPED)
    assert len({column_key(p.config) for p in prepared}) == 1
    org = prepared[0].org
    blocks = [(0, 1, 2, 5), (3, 7)][:rounds]
    runs = [(item, replicates) for replicates in blocks for item in prepared]
    assert (len(runs) > MAX_GROUPS) == (rounds == 2)
    together = simulate_groups([ColumnGroup(i.config, r) for i, r in runs], org, threads=threads)
    for (item, replicates), (trajectories, departments) in zip(runs, together, strict=True):
        alone = simulate_batched(item.config, org, list(replicates), threads=1)
        assert trajectories.equals(alone[0]), item.plan.name
        assert departments.equals(alone[1]), item.plan.name
    costs = [t["cum_cost"].max() for t, _ in together[: len(prepared)]]
    assert len(set(costs)) == len(costs)  # the points really differ


NO_SEATS_GROUPED = [  # freemium and the review off: the decision pass commits (NO_SEATS)
    {"name": "n-plain", "freemium": {"enabled": False}},
    {
        "name": "n-mandate-fading-champions",
        "freemium": {"enabled": False},
        "mandate": {"enabled": True, "week": 4, "compliance": 0.4, "resistance": 1.5},
        "reluctance": {"half_life_weeks": 2.0},
        "seeding": {"strategy": "brokers", "count": 6, "champion_weight": 2.0},
    },
    {
        "name": "n-old-tool-sunset-training",
        "freemium": {"enabled": False},
        "incumbent": {"enabled": True, "strength": 1.0},
        "training": {"boost": 0.8, "weeks": 3},
        "actions": [
            {"kind": "training", "departments": ["D2"], "week": 3},
            {"kind": "sunset", "week": 12},
        ],
    },
]


def test_column_groups_without_seats_give_the_reference_engines_rows():
    """Points whose every seat is granted, as column groups of one model (the decision
    pass commits, the state arrays are swapped): each point's rows are the reference
    engine's, with mandates, fading reluctance, champions, an old tool and its sunset."""
    from sim.engines import kernels
    from sim.engines.batched import BatchedModel, ColumnGroup, simulate_groups

    prepared = make_plans({**BASE, "weeks": 30}, NO_SEATS_GROUPED)
    org = prepared[0].org
    groups = [ColumnGroup(item.config, (0, 1, 2)) for item in prepared]
    model = BatchedModel(prepared[0].config, org, [], groups=groups)
    assert model.features & kernels.NO_SEATS
    together = simulate_groups(groups, org, threads=1)
    for item, (trajectories, departments) in zip(prepared, together, strict=True):
        reference = simulate_reference(item.config, org, [0, 1, 2])
        assert trajectories.equals(reference[0]), item.plan.name
        assert departments.equals(reference[1]), item.plan.name
    assert together[1][0]["nominal"].max() > 0  # the mandate pushed some into nominal use
    assert together[2][0]["incumbent_users"].min() == 0  # the sunset took the old tool away


BLOCK_GROUPED = [  # seats capped, nominal users and champions weighing differently per group
    {
        "name": "b-nominal-fading",
        "mandate": {
            "enabled": True,
            "week": 4,
            "compliance": 0.4,
            "resistance": 1.5,
            "nominal_weight": 0.5,
        },
        "reluctance": {"half_life_weeks": 2.0},
        "seeding": {"strategy": "random", "count": 6},
    },
    {
        "name": "b-champions-one-seat",
        "seeding": {"strategy": "random", "count": 6, "champion_weight": 3.0},
        "freemium": {"free_seats": 1},
        "mandate": {"enabled": True, "week": 8, "compliance": 0.2, "nominal_weight": 0.0},
    },
]


def test_column_groups_in_64_lane_blocks_give_the_reference_engines_rows():
    """Two points of 45 columns each, one model: the sums run in 64-lane blocks (width
    128) with each group's own nominal weight, champion weight and seat cap; replicates
    at both ends and inside each group's block match the reference engine."""
    from sim.engines.batched import BatchedModel, ColumnGroup, simulate_groups

    prepared = make_plans({**BASE, "weeks": 25}, BLOCK_GROUPED)
    org = prepared[0].org
    groups = [ColumnGroup(item.config, tuple(range(45))) for item in prepared]
    model = BatchedModel(prepared[0].config, org, [], groups=groups)
    assert model._is_active.shape[1] == 128 and model._is_nominal.shape[1] == 128
    together = simulate_groups(groups, org, threads=1)
    picked = [0, 20, 44]
    for item, (trajectories, _) in zip(prepared, together, strict=True):
        reference, _ = simulate_reference(item.config, org, picked)
        assert trajectories.filter(trajectories["replicate"].is_in(picked)).equals(reference)
    assert together[0][0]["nominal"].max() > 0  # nominal users, counted at 1/2
    assert together[1][0]["blocked"].max() > 0  # one free seat a workspace


def test_column_groups_must_share_their_org():
    from sim.engines.batched import BatchedModel, ColumnGroup

    a, b = make_plans(BASE, [{"name": "a"}, {"name": "b", "adoption": {"rule": "count"}}])
    with pytest.raises(ValueError, match="share org"):
        BatchedModel(
            a.config, a.org, [], groups=[ColumnGroup(a.config, (0,)), ColumnGroup(b.config, (0,))]
        )


def test_engaged_users_per_department_counted_past_what_int16_lanes_hold():
    """The fused pass counts engaged users per department in int16 lanes, added up every
    32,767 employees: a department of 70,000 engaged employees is counted in full."""
    rng = np.random.default_rng(3)
    n, reps = 70_000, 20
    engaged = np.zeros((n, 64), dtype=np.int8)
    engaged[:, :reps] = rng.random((n, reps)) < 0.9
    engaged[:, 5] = 1  # replicate 5: everyone engaged, past int16 in department 0
    department = np.where(np.arange(n) < 66_000, 0, rng.integers(1, 3, n))
    counted = np.full((3, reps), -1, dtype=np.int64)  # overwritten, not added to
    kernels._count_departments(counted, engaged, department, reps)
    expected = [engaged[department == d, :reps].sum(axis=0, dtype=np.int64) for d in range(3)]
    assert (counted == np.array(expected)).all()
    assert counted[0, 5] == 66_000


def test_the_tally_counts_past_what_int16_lanes_hold():
    """``observe.tally`` counts in int16 lanes, added up every 32,767 employees: 70,000
    employees, most engaged and licensed in replicate 1, are counted in full, row by row
    as numpy counts them."""
    rng = np.random.default_rng(5)
    n, reps, workspaces = 70_000, 3, 50
    state = rng.integers(0, len(State), (n, reps)).astype(np.int8)
    state[:, 1] = np.where(rng.random(n) < 0.95, State.ACTIVE, State.BLOCKED)
    licensed = rng.random((n, reps)) < 0.5
    licensed[:, 1] = True
    incumbent = rng.random((n, reps)) < 0.5
    paid = rng.random((workspaces, reps)) < 0.5
    workspace_of = rng.integers(0, workspaces, n)
    department = rng.integers(0, 2, n)
    counts, engaged = tally(state, licensed, incumbent, paid, workspace_of, department, 2, True)
    active = state == State.ACTIVE
    for s in State:
        assert (counts[s] == (state == s).sum(axis=0)).all(), s.name
    assert (counts[LICENSED_ROW] == licensed.sum(axis=0)).all()
    assert counts[LICENSED_ROW, 1] == n and counts[State.ACTIVE, 1] > 65_000
    assert (counts[INCUMBENT_ROW] == incumbent.sum(axis=0)).all()
    unlicensed_user = active & ~licensed
    assert (counts[UNLICENSED_ACTIVE_ROW] == unlicensed_user.sum(axis=0)).all()
    in_paid = paid[workspace_of]
    assert (counts[FREE_USERS_ROW] == (unlicensed_user & ~in_paid).sum(axis=0)).all()
    seats = (unlicensed_user | ~licensed) & in_paid  # per seat: every unlicensed member
    assert (counts[PAID_SEATS_ROW] == seats.sum(axis=0)).all()
    assert (counts[SHELFWARE_ROW] == (~active & (licensed | in_paid)).sum(axis=0)).all()
    for d in range(2):
        assert (engaged[d] == active[department == d].sum(axis=0)).all()
