"""The model's mechanisms beyond adoption itself, run end to end (docs/model.md, eqs. 1b,
3a, 4b, 10b, 12-14): each test checks what a hand calculation or a plain reading of the
equation says must happen in a run.  The rule functions themselves are checked against
hand-computed values in tests/test_rules.py; the engines' agreement with every mechanism
on is in tests/test_engines_agree.py.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from sim.engines.batched import BatchedModel, simulate_batched
from sim.engines.reference import AdoptionModel
from tests.conftest import make_plans, quiet

ORG = {"generator": "hierarchy", "n": 300, "departments": 3, "span": 6, "informal_ties": 3.0}
REPS = [0, 1, 2, 3]


def scenario(**overrides) -> dict:
    """Everyone aware, linear adoption without heterogeneity, every other mechanism off."""
    base = {
        **quiet(),
        "weeks": 30,
        "replicates": 4,
        "seed": 5,
        "org": ORG,
        "adoption": {"rule": "linear", "p": 0.02, "q": 0.5, "heterogeneity": "none"},
    }
    for key, value in overrides.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return base


def only(data: dict):
    (item,) = make_plans(data)
    return item


def run(data: dict, weeks: int | None = None) -> BatchedModel:
    item = only(data)
    model = BatchedModel(item.config, item.org, REPS)
    for _ in range(weeks or item.config.weeks):
        model.step()
    return model


def test_market_potential_caps_who_ever_engages():
    """m = 0.4, no champions: nobody the tool does not fit ever engages, so engaged users
    never exceed the fits (about 40% of 300), while with m = 1 far more do."""
    model = run(scenario(adoption={"market_potential": 0.4}), weeks=60)
    engaged = (model.state == 2).sum(axis=0)
    assert np.all(engaged <= model.fits.sum(axis=0))
    assert np.all(((model.state == 2) & ~model.fits).sum(axis=0) == 0)
    assert 0.3 < model.fits.mean() < 0.5
    everyone = run(scenario(), weeks=60)
    assert (everyone.state == 2).sum(axis=0).min() > engaged.max()


def test_market_potential_by_department_and_title_override():
    """A department's potential overrides the base; a title's (an org chart's) wins over
    the department's.  Generated orgs have no titles, so the department rule is checked
    here on D2 = 0 (nobody in D2 fits) and D3 = 1 (everyone does)."""
    data = scenario(
        adoption={"market_potential": 0.5},
        departments={
            "D2": {"adoption": {"market_potential": 0.0}},
            "D3": {"adoption": {"market_potential": 1.0}},
        },
    )
    item = only(data)
    model = BatchedModel(item.config, item.org, REPS)
    d = item.org.department
    assert not model.fits[d == 1].any()
    assert model.fits[d == 2].all()
    assert 0.3 < model.fits[d == 0].mean() < 0.7


def test_winback_brings_lapsed_users_back():
    """Abandonment at 30%/week with win-back off leaves the lapsed for good; with win-back
    at rate 0.5, lapsed employees come back and fewer are lapsed at the end."""
    data = scenario(
        abandonment={"enabled": True, "rate": 0.3},
        seeding={"strategy": "random", "count": 30},
        tool={"standalone_value": 0.2},
    )
    gone = run(data)
    back = run({**data, "winback": {"enabled": True, "rate": 0.5}})
    assert (back.state == 4).sum() < 0.7 * (gone.state == 4).sum()
    assert (back.state == 2).sum() > (gone.state == 2).sum()


def test_reluctance_fades_at_its_half_life():
    """Everyone mandated at week 0 with compliance 1: all non-users are nominal users from
    week 1.  With a half-life of 2 weeks of use, the share still reluctant after k weeks is
    about 2^-(k-1)/2 ... checked as: after 9 weeks below 10% of the start, and never-fading
    reluctance stays where it was."""
    data = scenario(
        adoption={"p": 0.0, "q": 0.0},
        mandate={"enabled": True, "week": 0, "compliance": 1.0, "resistance": 1.0},
    )
    forever = run(data, weeks=10)
    fading = run({**data, "reluctance": {"half_life_weeks": 2.0}}, weeks=10)
    start = forever.reluctant.sum()
    assert start > 0.9 * 300 * len(REPS)
    # week 1 makes them nominal; weeks 2..10 of use: (1/2)^(9/2) = 4.4% expected
    assert fading.reluctant.sum() < 0.1 * start
    assert fading.reluctant.sum() > 0.01 * start


@pytest.mark.parametrize("pricing", ["per_seat", "per_active_user"])
def test_pricing_bills_seats_or_engaged_users(pricing):
    """Eq. 12 by hand from the model's own arrays: a paid team plan bills every unlicensed
    member (per seat) or its engaged unlicensed members (per active user); after the deal,
    licences are billed per seat or per engaged user, at the enterprise price."""
    data = scenario(
        freemium={"enabled": True, "free_seats": 2, "decision_rate": 1.0, "workspace": "team"},
        enterprise={"enabled": True, "threshold": 0.5, "price_per_seat_week": 1.5},
        tool={"price_per_seat_week": 2.0, "value_per_seat_week": 20.0, "pricing": pricing},
        seeding={"strategy": "random", "count": 40},
    )
    item = only(data)
    model = BatchedModel(item.config, item.org, REPS)
    checked_before = checked_after = 0
    for _ in range(item.config.weeks):
        model.step()
        row = model.recorder.weeks[-1]
        in_paid = model.paid[model.scope.of_agent]  # N x R: the employee's team has paid
        unlicensed = ~model.licensed
        engaged = model.state == 2
        billed_members = unlicensed & in_paid & (engaged if pricing == "per_active_user" else True)
        assert np.array_equal(row["paid_seats"], billed_members.sum(axis=0))
        billed = np.where(
            model.deal & (pricing == "per_active_user"), engaged.sum(axis=0), row["licensed"]
        )
        price = np.where(model.deal, 1.5, 2.0)
        expected = billed * price + row["paid_seats"] * 2.0
        assert np.allclose(row["licence_cost"], expected)
        checked_before += int((~model.deal & model.paid.any(axis=0)).sum())
        checked_after += int(model.deal.sum())
    assert checked_before > 0 and checked_after > 0  # both regimes were exercised
    if pricing == "per_seat":  # some paid seats were not used: shelfware on team plans
        paid_idle = ~model.licensed & model.paid[model.scope.of_agent] & (model.state != 2)
        assert paid_idle.any() or model.deal.all()


def test_a_ban_stops_unlicensed_use_and_spares_licences():
    """Security review noticing at 10% unlicensed users, verdict 3 weeks later, a tool
    that always fails (enterprise_ready 0) and on_fail = ban: from the verdict's week no
    engaged user lacks a licence, team plans cost nothing, and the licensed D1 (mandated at
    week 2) keep using it."""
    data = scenario(
        freemium={"enabled": True, "free_seats": 20, "decision_rate": 0.5},
        security_review={"enabled": True, "threshold_share": 0.1, "delay_weeks": 3},
        tool={"enterprise_ready": 0.0},
        mandate={"enabled": True, "week": 2, "scope": ["D1"], "compliance": 0.5},
        seeding={"strategy": "random", "count": 30},
        abandonment={"enabled": True, "rate": 0.05},
    )
    item = only(data)
    traj, _ = simulate_batched(item.config, item.org, REPS)
    for rep in REPS:
        rows = traj.filter(pl.col("replicate") == rep)
        noticed = next(w for w, x in enumerate(rows["unlicensed_active"]) if x >= 30)
        verdict = noticed + 3
        after = rows.filter(pl.col("week") >= verdict)
        assert after["unlicensed_active"].max() == 0
        assert after["paid_seats"].max() == 0 and after["free_users"].max() == 0
        assert rows["unlicensed_active"][verdict - 1] > 0  # it was there the week before
        assert after["active"].min() > 0  # licensed users carry on
        assert rows["blocked"][verdict] >= rows["unlicensed_active"][verdict - 1]


def test_a_failed_review_can_require_the_enterprise_plan():
    """on_fail = enterprise: the deal is signed in the verdict's week, whatever the
    enterprise threshold (here switched off)."""
    data = scenario(
        freemium={"enabled": True, "free_seats": 20},
        security_review={
            "enabled": True,
            "threshold_share": 0.05,
            "delay_weeks": 2,
            "on_fail": "enterprise",
        },
        tool={"enterprise_ready": 0.0},
        seeding={"strategy": "random", "count": 20},
    )
    item = only(data)
    traj, _ = simulate_batched(item.config, item.org, REPS)
    for rep in REPS:
        rows = traj.filter(pl.col("replicate") == rep)
        noticed = next(w for w, x in enumerate(rows["unlicensed_active"]) if x >= 15)
        deal = rows["deal"].to_list()
        assert not deal[noticed + 1] and deal[noticed + 2]
        assert rows["licensed"][noticed + 2] == item.org.n


def test_an_approved_tool_is_left_alone():
    """enterprise_ready 1: the review always approves; nothing is banned or forced."""
    data = scenario(
        freemium={"enabled": True, "free_seats": 20},
        security_review={"enabled": True, "threshold_share": 0.05, "delay_weeks": 0},
        tool={"enterprise_ready": 1.0},
        seeding={"strategy": "random", "count": 20},
    )
    model = run(data)
    assert model.reviews.decided.all() and not model.reviews.banned.any()
    assert not model.deal.any()


def test_the_old_tool_slows_adoption_until_its_sunset():
    """An incumbent of strength 3 slows adoption (appeal x 1/(1 + 3 (1 - s))); sunsetting it
    at week 10 removes the brake and its cost: incumbent users drop to 0 that week, and
    the cost of the old tool (0.5 per employee-week) stops."""
    data = scenario(seeding={"strategy": "random", "count": 10})
    free = run(data, weeks=10)
    held = run({**data, "incumbent": {"enabled": True, "strength": 3.0}}, weeks=10)
    assert (held.state == 2).sum() < 0.6 * (free.state == 2).sum()
    sunset = {
        **data,
        "incumbent": {"enabled": True, "strength": 3.0, "cost_per_employee_week": 0.5},
        "actions": [{"kind": "sunset", "week": 10}],
    }
    item = only(sunset)
    traj, _ = simulate_batched(item.config, item.org, REPS)
    for rep in REPS:
        rows = traj.filter(pl.col("replicate") == rep)
        assert rows["incumbent_users"][9] == 300 and rows["incumbent_users"][10] == 0
        assert rows["licence_cost"][9] == pytest.approx(150.0)
        assert rows["licence_cost"][10] == 0.0


def test_training_boosts_appeal_for_its_weeks():
    """A training of D1 at week 2 (boost 3 for 5 weeks) makes D1 adopt faster than the
    same department untrained, and costs 25 per trained employee that week."""
    data = scenario(
        training={"boost": 3.0, "weeks": 5},
        costs={"training_per_employee": 25.0},
        seeding={"strategy": "random", "count": 6},
    )
    trained = {**data, "actions": [{"kind": "training", "departments": ["D1"], "week": 2}]}
    item = only(trained)
    traj, departments = simulate_batched(item.config, item.org, REPS)
    plain_item = only(data)
    _, plain_departments = simulate_batched(plain_item.config, plain_item.org, REPS)

    def d1_at(frame, week):
        return frame.filter((pl.col("department") == "D1") & (pl.col("week") == week))[
            "active"
        ].sum()

    assert d1_at(departments, 7) > 1.3 * d1_at(plain_departments, 7)
    d1 = int((item.org.department == 0).sum())
    assert traj.filter(pl.col("week") == 2)["rollout_cost"].to_list() == [25.0 * d1] * len(REPS)


def test_champions_who_keep_evangelising_spread_it_faster():
    """champion_weight 4: engaged champions count 4x in their colleagues' S_i, so the
    tool spreads faster from the same champions than at weight 1."""
    data = scenario(
        seeding={"strategy": "random", "count": 10},
        adoption={"p": 0.0, "q": 0.6},
        org={**ORG, "informal_ties": 1.0},
    )
    plain = run(data, weeks=8)
    loud = run({**data, "seeding": {**data["seeding"], "champion_weight": 4.0}}, weeks=8)
    assert (loud.state == 2).sum() > 1.2 * (plain.state == 2).sum()


def test_adopter_categories_act_under_the_linear_rule():
    """Rogers heterogeneity under linear: innovators (mu 0.25, readiness 4) adopt far more
    often in the first weeks than laggards (mu 2.5, readiness 0.4), and the reference
    engine's employees carry the same readiness."""
    data = scenario(adoption={"heterogeneity": "rogers", "p": 0.05, "q": 0.0})
    model = run(data, weeks=4)
    item = only(data)
    from sim.engines.population import draw_traits

    adopted, ready = [], []
    for col, rep in enumerate(REPS):
        traits = draw_traits(item.config.seed, rep, item.org.n, item.config.adoption)
        adopted.append(model.state[:, col] == 2)
        ready.append(traits.readiness)
    adopted, ready = np.concatenate(adopted), np.concatenate(ready)
    assert adopted[ready == 4.0].mean() > 3 * adopted[ready == 0.4].mean()
    reference = AdoptionModel(item.config, item.org, replicate=0)
    assert [e.readiness for e in reference.employees[:50]] == list(
        draw_traits(item.config.seed, 0, item.org.n, item.config.adoption).readiness[:50]
    )
