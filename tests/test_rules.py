"""The rule layer (``sim/rules.py``) against hand-computed values from docs/model.md, section
"Submodels" (equations 1-11 and the transition table), and the numba-compiled rules against
the plain-Python ones.

Every expected number is written out by hand from the equation it checks; the defaults of
the parameter block (``params_of(Config())``) are only a starting point, and each test
``_replace``s the fields it reads so that it does not depend on them.
"""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

from sim import rules
from sim.engines.params import params_of
from sim.rules import COUNT, LINEAR, THRESHOLD, Intent, State
from sim.scenario import Config

BASE = params_of(Config())


def params(**fields):
    """The default parameter block with ``fields`` replaced."""
    return BASE._replace(**fields)


def below(x):
    """The largest float64 below ``x``."""
    return float(np.nextafter(x, -np.inf))


def above(x):
    """The smallest float64 above ``x``."""
    return float(np.nextafter(x, np.inf))


# -- the transition table ------------------------------------------------------------------
U, AW, AC, NO, LA, BL = (
    State.UNAWARE,
    State.AWARE,
    State.ACTIVE,
    State.NOMINAL,
    State.LAPSED,
    State.BLOCKED,
)
T, F = True, False

# (id, state, licensed, discovers, wants, complies, gives_up, lapses, returns, next state,
#  intent)
TABLE = [
    # unaware | discovers | aware
    ("unaware-discovers", U, F, T, F, F, F, F, F, AW, Intent.NONE),
    ("unaware-discovers-ignores-other-facts", U, T, T, T, T, T, T, F, AW, Intent.NONE),
    ("unaware-otherwise-unchanged", U, T, F, T, T, T, T, F, U, Intent.NONE),
    # aware | wants, licensed | active
    ("aware-wants-licensed", AW, T, F, T, F, F, F, F, AC, Intent.NONE),
    ("aware-wants-licensed-beats-complies", AW, T, F, T, T, F, F, F, AC, Intent.NONE),
    # aware | wants, not licensed | requests a seat
    ("aware-wants-unlicensed-requests", AW, F, F, T, F, F, F, F, AW, Intent.REQUEST),
    ("aware-wants-unlicensed-complies-requests", AW, F, F, T, T, F, F, F, AW, Intent.REQUEST),
    # aware | licensed, complies | nominal
    ("aware-licensed-complies-nominal", AW, T, F, F, T, F, F, F, NO, Intent.NONE),
    ("aware-unlicensed-complies-unchanged", AW, F, F, F, T, F, F, F, AW, Intent.NONE),
    ("aware-otherwise-unchanged", AW, T, T, F, F, T, T, F, AW, Intent.NONE),
    # blocked | gives up | lapsed
    ("blocked-gives-up", BL, F, F, F, F, T, F, F, LA, Intent.NONE),
    ("blocked-gives-up-beats-licensed", BL, T, F, F, F, T, F, F, LA, Intent.NONE),
    ("blocked-gives-up-beats-wants", BL, F, F, T, F, T, F, F, LA, Intent.NONE),
    # blocked | licensed | active
    ("blocked-licensed-active", BL, T, F, F, F, F, F, F, AC, Intent.NONE),
    # blocked | otherwise | requests a seat
    ("blocked-otherwise-requests", BL, F, F, F, F, F, F, F, BL, Intent.REQUEST),
    ("blocked-lapses-is-not-gives-up", BL, F, T, T, T, F, T, F, BL, Intent.REQUEST),
    # active | lapses | lapsed
    ("active-lapses", AC, T, F, F, F, F, T, F, LA, Intent.NONE),
    ("active-lapses-unlicensed-beats-keep", AC, F, F, F, F, F, T, F, LA, Intent.NONE),
    # active | not licensed | keeps its seat if it can
    ("active-unlicensed-keeps", AC, F, F, F, F, F, F, F, AC, Intent.KEEP),
    ("active-unlicensed-gives-up-is-not-lapses", AC, F, T, T, T, T, F, F, AC, Intent.KEEP),
    ("active-licensed-unchanged", AC, T, T, T, T, T, F, F, AC, Intent.NONE),
    # nominal | wants | active
    ("nominal-wants-active", NO, T, F, T, F, F, F, F, AC, Intent.NONE),
    ("nominal-otherwise-unchanged", NO, T, T, F, T, T, T, F, NO, Intent.NONE),
    # lapsed | returns, licensed | active; returns, not licensed | requests a seat
    ("lapsed-returns-licensed", LA, T, F, F, F, F, F, T, AC, Intent.NONE),
    ("lapsed-returns-unlicensed-requests", LA, F, F, F, F, F, F, T, LA, Intent.REQUEST),
    # lapsed | otherwise | lapsed (absorbing when win-back is off)
    ("lapsed-stays-all-other-facts", LA, T, T, T, T, T, T, F, LA, Intent.NONE),
    ("lapsed-stays-no-facts", LA, F, F, F, F, F, F, F, LA, Intent.NONE),
    ("returns-only-matters-when-lapsed", AW, F, F, F, F, F, F, T, AW, Intent.NONE),
]


@pytest.mark.parametrize(
    "state, licensed, facts, expected_state, intent",
    [(row[1], row[2], row[3:9], row[9], row[10]) for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_next_state_row(state, licensed, facts, expected_state, intent):
    """Each line of the transition table, the first matching line winning."""
    got = rules.next_state(state, licensed, *facts)
    assert got == (expected_state, intent)


def test_next_state_rejects_unknown_state():
    """A state with no row in the table is an error, not a silent 'unchanged'."""
    with pytest.raises(ValueError):
        rules.next_state(len(State), True, True, True, True, True, True, True)


# -- what an employee perceives (eqs. S, 1) ------------------------------------------------
def test_weighted_users():
    """S = S_active + (champion_weight - 1) S_champions + nominal_weight * S_nominal."""
    assert rules.weighted_users(2.0, 4.0, 0.25, 0.0, 0.0) == 3.0
    assert rules.weighted_users(2.0, 4.0, 0.0, 0.0, 0.0) == 2.0
    assert rules.weighted_users(0.0, 1.5, 1.0, 0.0, 0.0) == 1.5
    # 2 engaged ties of weight 1, one of them a champion at weight 2.5: 2 + 1.5 = 3.5
    assert rules.weighted_users(2.0, 0.0, 0.25, 1.0, 1.5) == 3.5


def test_active_share():
    """s = S / D, and 0 when D = 0 (no ties), not NaN."""
    assert rules.active_share(1.5, 3.0) == 0.5
    assert rules.active_share(3.0, 3.0) == 1.0
    assert rules.active_share(0.0, 0.0) == 0.0


def test_value_multiplier():
    """m = 1 when freemium is off, licensed or covered; else freemium.free_value."""
    r = params(freemium_enabled=True, freemium_free_value=0.6)
    assert rules.value_multiplier(r, False, False) == 0.6
    assert rules.value_multiplier(r, True, False) == 1.0
    assert rules.value_multiplier(r, False, True) == 1.0
    assert rules.value_multiplier(r._replace(freemium_enabled=False), False, False) == 1.0


def test_appeal():
    """Eq. 1: a = m (1 + boost) / (L (1 + resistance * reluctant))."""
    assert rules.appeal(0.6, 0.5, 1.0, 0.0, 1.0) == pytest.approx(0.6 / 1.5)
    assert rules.appeal(0.6, 0.5, 0.0, 0.0, 1.0) == 0.6
    assert rules.appeal(1.0, 0.0, 1.0, 0.0, 1.0) == 1.0
    assert rules.appeal(0.6, 0.5, 0.0, 0.5, 1.0) == pytest.approx(0.9)  # trained
    assert rules.appeal(1.0, 0.5, 1.0, 1.0, 2.0) == pytest.approx(2 * 0.5 / 1.5)
    assert rules.appeal(0.6, 0.5, 0.0, 0.0, 3.0) == pytest.approx(0.2)  # the old tool's pull


def test_switching_cost():
    """Eq. 1b: L = 1 + strength (1 - s) while the old tool is there; lock-in weakens as
    colleagues switch (s -> 1); 1 once it is switched off."""
    assert rules.switching_cost(2.0, 0.0, True) == 3.0
    assert rules.switching_cost(2.0, 0.5, True) == 2.0
    assert rules.switching_cost(2.0, 1.0, True) == 1.0
    assert rules.switching_cost(2.0, 0.0, False) == 1.0


def test_trained():
    """A training at the end of week 3 with weeks = 4 boosts the decisions of weeks 4..7."""
    until = rules.training_effect(State.AWARE, 3, 4)[1]
    assert until == 7
    assert [rules.trained(week, until) for week in (4, 7, 8)] == [True, True, False]
    assert not rules.trained(0, -1)
    assert rules.training_effect(State.UNAWARE, 3, 4)[0] == State.AWARE


def test_readiness():
    """Under linear, 1 / mu: innovators (0.25) 4x, laggards (2.5) 0.4x; the default Rogers
    shares and multipliers average to 1 (0.025*4 + 0.135*2 + 0.34 + 0.34/1.5 + 0.16*0.4)."""
    assert rules.readiness(0.25) == 4.0
    assert rules.readiness(2.5) == 0.4
    assert rules.readiness(0.0) == 1 / rules.MIN_MULTIPLIER
    shares = np.diff(np.concatenate([[0.0], rules.ROGERS_CUMULATIVE]))
    multipliers = [0.25, 0.5, 1, 1.5, 2.5]
    mean = sum(s * rules.readiness(m) for s, m in zip(shares, multipliers, strict=True))
    assert mean == pytest.approx(1.0, abs=0.001)


# -- the probabilities of one week (eqs. 2-5) ---------------------------------------------
def test_awareness_probability():
    """Eq. 2: P(aware) = external_rate + word_of_mouth * s."""
    assert rules.awareness_probability(0.01, 0.5, 0.2) == pytest.approx(0.11)
    assert rules.awareness_probability(0.01, 0.5, 0.0) == 0.01


def test_want_probability_scales_with_readiness_and_onboarding():
    """Eq. 3a: P_w = o rho a (p + q s) under linear: 1.5 x 2 x 0.5 x (0.01 + 0.4 x 0.5)."""
    got = rules.want_probability(LINEAR, 0.5, 0.01, 0.4, 0.5, 2.0, 1.5)
    assert got == pytest.approx(1.5 * 2 * 0.5 * 0.21)
    assert rules.want_probability(THRESHOLD, 0.5, 0.01, 0.4, 0.5, 2.0, 1.5) == pytest.approx(
        1.5 * 0.5 * 0.01
    )  # readiness acts through theta_i under the other rules


def test_want_probability():
    """P_w = a (p + q s) for linear; a p for threshold and count (s only pushes there)."""
    assert rules.want_probability(LINEAR, 0.4, 0.005, 0.3, 0.5, 1.0, 1.0) == pytest.approx(0.062)
    assert rules.want_probability(THRESHOLD, 0.4, 0.005, 0.3, 0.5, 1.0, 1.0) == pytest.approx(0.002)
    assert rules.want_probability(COUNT, 0.4, 0.005, 0.3, 0.5, 1.0, 1.0) == pytest.approx(0.002)
    # the reluctant free user of the defaults: a = 0.6 / 1.5, no colleagues
    assert rules.want_probability(LINEAR, 0.6 / 1.5, 0.005, 0.3, 0.0, 1.0, 1.0) == pytest.approx(
        0.005 * 0.6 / 1.5
    )


def _wants(
    rule_, u, p_want=0.01, appeal_=0.5, share=0.4, weighted_active=4.0, threshold=0.2, k_needed=2.0
):
    return rules.wants_to_adopt(
        rule_, u, p_want, appeal_, share, weighted_active, threshold, k_needed
    )


def test_wants_linear_is_the_draw_only():
    """Eq. 3a: linear wants iff u < P_w; a share above the threshold does not push."""
    assert _wants(LINEAR, below(0.01))
    assert not _wants(LINEAR, 0.01)
    assert not _wants(LINEAR, 0.99, share=1.0, weighted_active=100.0)


def test_wants_threshold_pushed_at_the_threshold():
    """Eq. 3b: a s >= theta pushes even with u high (0.5 * 0.4 = 0.2 = theta)."""
    assert _wants(THRESHOLD, 0.99, threshold=0.2)
    assert not _wants(THRESHOLD, 0.99, threshold=above(0.2))
    assert _wants(THRESHOLD, below(0.01), threshold=above(0.2))  # the draw still counts
    assert not _wants(THRESHOLD, 0.99, threshold=0.9, weighted_active=100.0, k_needed=0.0)


def test_wants_count_pushed_at_k():
    """Eq. 3c: a S >= k pushes even with u high (0.5 * 4 = 2 = k)."""
    assert _wants(COUNT, 0.99, k_needed=2.0)
    assert not _wants(COUNT, 0.99, k_needed=above(2.0))
    assert _wants(COUNT, below(0.01), k_needed=above(2.0))
    assert not _wants(COUNT, 0.99, k_needed=3.0, share=1.0, threshold=0.0)


def test_complies_boundary():
    """Eq. 5: nominal iff u < P_w + c (1 - P_w): 0.25 + 0.5 * 0.75 = 0.625 (exact)."""
    assert rules.complies(below(0.625), 0.25, 0.5)
    assert not rules.complies(0.625, 0.25, 0.5)
    assert rules.complies(0.25, 0.25, 0.5)  # u = P_w: did not want, complies
    assert not rules.complies(0.25, 0.25, 0.0)  # compliance 0: never, given u >= P_w
    assert rules.complies(below(1.0), 0.25, 1.0)  # compliance 1: always


def test_complies_has_probability_compliance_given_not_wanting():
    """Given u >= P_w (u uniform on [P_w, 1)) complies has probability exactly c."""
    p_want, compliance, n = 0.2, 0.3, 1000
    us = p_want + (1.0 - p_want) * (np.arange(n) + 0.5) / n  # midpoints of n equal cells
    assert sum(rules.complies(u, p_want, compliance) for u in us) == 300


def test_lapse_probability():
    """Eq. 4: rate (1 - a (v0 + (1 - v0) s)); a blocked employee (a = 0) lapses at rate."""
    assert rules.lapse_probability(0.03, 0.6, 0.5, 0.5) == pytest.approx(0.03 * 0.55)
    assert rules.lapse_probability(0.03, 1.0, 0.5, 1.0) == 0.0  # full value: never
    assert rules.lapse_probability(0.03, 0.0, 0.0, 0.0) == 0.03


NO_DISCOVERY, NO_ABANDON = {"discovery_enabled": False}, {"abandonment_enabled": False}
BY_THRESHOLD, BY_COUNT = {"adoption_rule": THRESHOLD}, {"adoption_rule": COUNT}

# (id, r fields, u, share, S, appeal, theta, k, expected facts)
FACTS = [
    # defaults, linear: P_aware = 0.01 + 0.5 * 0.5 = 0.26, P_w = 0.005 + 0.3 * 0.5 = 0.155,
    # complies below 0.155 + 0.3 * 0.845 = 0.4085, gives up below 0.03,
    # lapses below 0.03 * (1 - (0.5 + 0.5 * 0.5)) = 0.0075
    ("all-five", {}, 0.005, 0.5, 1.0, 1.0, 0.0, 0.0, (T, T, T, T, T)),
    ("gives-up-not-lapses", {}, 0.02, 0.5, 1.0, 1.0, 0.0, 0.0, (T, T, T, T, F)),
    ("discovers-complies", {}, 0.2, 0.5, 1.0, 1.0, 0.0, 0.0, (T, F, T, F, F)),
    ("complies-only", {}, 0.4, 0.5, 1.0, 1.0, 0.0, 0.0, (F, F, T, F, F)),
    ("none", {}, 0.5, 0.5, 1.0, 1.0, 0.0, 0.0, (F, F, F, F, F)),
    ("discovery-off", NO_DISCOVERY, 0.005, 0.5, 1.0, 1.0, 0.0, 0.0, (F, T, T, T, T)),
    ("abandonment-off", NO_ABANDON, 0.005, 0.5, 1.0, 1.0, 0.0, 0.0, (T, T, T, F, F)),
    # threshold: a s = 0.5 >= theta 0.5 pushes at u = 0.9 (P_w = 0.005)
    ("threshold-pushed", BY_THRESHOLD, 0.9, 0.5, 1.0, 1.0, 0.5, 0.0, (F, T, F, F, F)),
    ("threshold-not-pushed", BY_THRESHOLD, 0.9, 0.5, 1.0, 1.0, 0.6, 0.0, (F, F, F, F, F)),
    # count: a S = 0.5 * 4 = 2 >= k 2
    ("count-pushed", BY_COUNT, 0.9, 0.5, 4.0, 0.5, 0.0, 2.0, (F, T, F, F, F)),
    ("count-not-pushed", BY_COUNT, 0.9, 0.5, 4.0, 0.5, 0.0, 2.5, (F, F, F, F, F)),
]


@pytest.mark.parametrize(
    "fields, u, share, s_users, appeal_, threshold, k_needed, expected",
    [row[1:] for row in FACTS],
    ids=[row[0] for row in FACTS],
)
def test_week_facts(fields, u, share, s_users, appeal_, threshold, k_needed, expected):
    """(discovers, wants, complies, gives_up, lapses) from one uniform u, eqs. 2-5."""
    r = params(**fields)
    pq = (r.adoption_p, r.adoption_q)
    got = rules.week_facts(r, u, share, s_users, appeal_, threshold, k_needed, *pq, True, 1.0, True)
    assert tuple(bool(x) for x in got)[:5] == expected


def test_week_facts_reads_the_employees_own_p_and_q():
    """A department's p and q (``[departments]``), not adoption.p/q: with p 0.1 and q 0.5
    at s 0.5, P_w = 0.35 (the defaults' 0.155 would refuse u = 0.3)."""
    r = params()
    facts = rules.week_facts(r, 0.3, 0.5, 1.0, 1.0, 0.0, 0.0, 0.1, 0.5, True, 1.0, True)
    assert bool(facts[1])
    facts = rules.week_facts(
        r, 0.3, 0.5, 1.0, 1.0, 0.0, 0.0, r.adoption_p, r.adoption_q, True, 1.0, True
    )
    assert not bool(facts[1])


def test_an_employee_the_tool_does_not_fit_never_wants_it():
    """Market potential: with fits false, wants is false even at u = 0 (still complies)."""
    r = params()
    pq = (r.adoption_p, r.adoption_q)
    fit = rules.week_facts(r, 0.0, 1.0, 5.0, 1.0, 0.0, 0.0, *pq, True, 1.0, True)
    unfit = rules.week_facts(r, 0.0, 1.0, 5.0, 1.0, 0.0, 0.0, *pq, True, 1.0, False)
    assert bool(fit[1]) and not bool(unfit[1])
    assert bool(unfit[2])  # a mandate can still make it a nominal user


def test_return_probability_and_the_returns_fact():
    """Eq. 4b: rate a (v0 + (1 - v0) s) = 0.2 x 0.8 x (0.5 + 0.5 x 0.5) = 0.12; returns is
    u < 0.12 when win-back is on, never when it is off or the tool does not fit."""
    assert rules.return_probability(0.2, 0.8, 0.5, 0.5) == pytest.approx(0.12)
    r = params(winback_enabled=True, winback_rate=0.2, tool_standalone_value=0.5)
    pq = (r.adoption_p, r.adoption_q)

    def returns(u, fits=True, r=r):
        return bool(rules.week_facts(r, u, 0.5, 1.0, 0.8, 0.0, 0.0, *pq, True, 1.0, fits)[5])

    p_return = rules.return_probability(0.2, 0.8, 0.5, 0.5)
    assert returns(below(p_return)) and not returns(p_return)
    assert not returns(0.0, fits=False)
    assert not returns(0.0, r=r._replace(winback_enabled=False))


def test_reluctance_fades_with_a_half_life():
    """Eq. 13: 1 - 2^(-1/h); h = 4 weeks: 0.1591; after 4 weeks of use half remain."""
    p = rules.fade_probability(4.0)
    assert p == pytest.approx(1 - 2**-0.25)
    assert (1 - p) ** 4 == pytest.approx(0.5)
    assert rules.fade_probability(None) == 0.0
    assert rules.loses_reluctance(True, State.ACTIVE, below(p), p)
    assert rules.loses_reluctance(True, State.NOMINAL, below(p), p)
    assert not rules.loses_reluctance(True, State.ACTIVE, p, p)
    assert not rules.loses_reluctance(True, State.AWARE, 0.0, p)  # not using it
    assert not rules.loses_reluctance(False, State.ACTIVE, 0.0, p)


def test_security_review_rules():
    """Eq. 14: noticed at threshold_share x N (or the count); approved below
    enterprise_ready; a ban blocks the unlicensed engaged only."""
    r = params(
        security_review_enabled=True,
        security_review_threshold_share=0.15,
        security_review_threshold_count=-1,
        tool_enterprise_ready=0.3,
        security_review_on_fail=rules.ON_FAIL_BAN,
    )
    assert rules.shadow_it_noticed(r, 15, 100) and not rules.shadow_it_noticed(r, 14, 100)
    assert rules.shadow_it_noticed(r._replace(security_review_threshold_count=10), 10, 100)
    assert not rules.shadow_it_noticed(r._replace(security_review_enabled=False), 99, 100)
    assert rules.review_verdict(r, below(0.3)) == rules.Verdict.APPROVE
    assert rules.review_verdict(r, 0.3) == rules.Verdict.BAN
    enterprise = r._replace(security_review_on_fail=rules.ON_FAIL_ENTERPRISE)
    assert rules.review_verdict(enterprise, 0.9) == rules.Verdict.REQUIRE_ENTERPRISE
    assert rules.ban_effect(State.ACTIVE, False) == State.BLOCKED
    assert rules.ban_effect(State.ACTIVE, True) == State.ACTIVE
    assert rules.ban_effect(State.AWARE, False) == State.AWARE


def test_only_a_pushed_employee_complies():
    """A plain licence does not push: complies is false whatever u (eq. 10)."""
    r = params()
    pq = (r.adoption_p, r.adoption_q)
    assert bool(rules.week_facts(r, 0.2, 0.5, 1.0, 1.0, 0.0, 0.0, *pq, True, 1.0, True)[2])
    assert not bool(rules.week_facts(r, 0.2, 0.5, 1.0, 1.0, 0.0, 0.0, *pq, False, 1.0, True)[2])


# -- workspaces: cover, seats, paywall, trial (eqs. 6, 8, 9) -------------------------------
def test_covered():
    """Eq. 6: paid, or trial_weeks > 0 and the trial not started or started < trial_weeks
    weeks ago."""
    assert rules.covered(True, 0, -1, 5)  # paid
    assert rules.covered(False, 4, -1, 5)  # trial not started yet
    assert rules.covered(False, 4, 10, 13)  # 3 weeks in
    assert not rules.covered(False, 4, 10, 14)  # 4 weeks in: over
    assert not rules.covered(False, 0, -1, 5)  # no trial
    assert not rules.covered(False, 0, 5, 5)


def test_seats_unlimited():
    """Eq. 9: no cap when freemium is off, free_seats is -1 (None) or covered."""
    r = params(freemium_enabled=True)
    assert not rules.seats_unlimited(r, False, 5, False)
    assert rules.seats_unlimited(r, True, 5, False)
    assert rules.seats_unlimited(r, False, -1, False)  # this workspace's cap is unlimited
    assert rules.seats_unlimited(r._replace(freemium_enabled=False), False, 5, False)
    assert not rules.seats_unlimited(r, False, 0, False)
    assert not rules.seats_unlimited(r, True, -1, True)  # banned: nothing is unlimited


def test_gets_seat():
    """Eq. 9: a seat while fewer than cap are taken, always when unlimited."""
    assert rules.gets_seat(False, 4, 5, False)
    assert not rules.gets_seat(False, 5, 5, False)
    assert not rules.gets_seat(False, 0, 0, False)
    assert rules.gets_seat(True, 5, 5, False)
    assert rules.gets_seat(True, 0, -1, False)
    assert not rules.gets_seat(False, 0, 5, True)  # banned


def test_seat_outcome():
    """Eq. 9: with a seat active, without one blocked."""
    assert rules.seat_outcome(True) == State.ACTIVE
    assert rules.seat_outcome(False) == State.BLOCKED


@pytest.mark.parametrize("state", list(State), ids=rules.STATE_NAMES)
def test_free_user_and_paywall_demand(state):
    """Only an unlicensed active employee is a free user; only an unlicensed blocked one
    counts as blocked at the paywall (eq. 8's demand); a licence removes both."""
    assert bool(rules.free_user(state, False)) == (state == State.ACTIVE)
    assert not rules.free_user(state, True)
    blocked, free = rules.paywall_demand(state, False)
    assert (bool(blocked), bool(free)) == (state == State.BLOCKED, state == State.ACTIVE)
    blocked, free = rules.paywall_demand(state, True)
    assert (bool(blocked), bool(free)) == (False, False)


def test_at_paywall():
    """Eq. 8: freemium on, not paid, no deal, some unlicensed member blocked."""
    r = params(freemium_enabled=True)
    assert rules.at_paywall(r, False, False, 1, False)
    assert not rules.at_paywall(r, False, False, 0, False)
    assert not rules.at_paywall(r, True, False, 3, False)
    assert not rules.at_paywall(r, False, True, 3, False)
    assert not rules.at_paywall(r._replace(freemium_enabled=False), False, False, 3, False)
    assert not rules.at_paywall(r, False, False, 3, True)  # banned


def test_pay_probability():
    """Eq. 8: rate * max(0, 1 - price/value) * D / (D + D_half) * (1 + boost * h)."""
    assert rules.pay_probability(0.15, 2.0, 5.0, 5.0, 5.0, 1.0, 1.0) == pytest.approx(
        0.15 * 0.6 * 0.5 * 2.0
    )
    assert rules.pay_probability(0.15, 2.0, 5.0, 15.0, 5.0, 1.0, 0.0) == pytest.approx(
        0.15 * 0.6 * 0.75
    )
    assert rules.pay_probability(0.15, 5.0, 5.0, 5.0, 5.0, 1.0, 1.0) == 0.0  # no surplus
    assert rules.pay_probability(0.15, 8.0, 5.0, 5.0, 5.0, 1.0, 1.0) == 0.0  # not negative
    assert rules.pay_probability(0.15, 2.0, 5.0, 0.0, 5.0, 1.0, 1.0) == 0.0  # no demand


def test_pays():
    """Eq. 8: pays iff v < P_pay, demand = blocked + unlicensed active, h = holder active.
    Defaults: 0.15 * (1 - 2/5) * 5 / (5 + 5) * (1 + 1) = 0.09 with the holder active."""
    r = params(
        freemium_decision_rate=0.15,
        tool_price_per_seat_week=2.0,
        tool_value_per_seat_week=5.0,
        freemium_demand_scale=5.0,
        freemium_holder_boost=1.0,
    )
    p_holder = rules.pay_probability(0.15, 2.0, 5.0, 5.0, 5.0, 1.0, 1.0)
    assert p_holder == pytest.approx(0.09)
    assert rules.pays(r, below(p_holder), 3, 2, True, 5.0)
    assert not rules.pays(r, p_holder, 3, 2, True, 5.0)
    assert not rules.pays(r, 0.06, 3, 2, False, 5.0)  # 0.045 without the holder
    assert rules.pays(r, 0.044, 3, 2, False, 5.0)
    assert not rules.pays(r._replace(tool_price_per_seat_week=5.0), 0.0, 3, 2, True, 5.0)
    # the workspace's own value (a department override): 0.15 * (1 - 2/10) * 0.5 * 2 = 0.12
    assert rules.pays(r, 0.11, 3, 2, True, 10.0)
    assert not rules.pays(r, 0.11, 3, 2, True, 5.0)


def test_trial_starts():
    """A trial starts with the first engaged unlicensed user, once."""
    assert rules.trial_starts(-1, True)
    assert not rules.trial_starts(-1, False)
    assert not rules.trial_starts(3, True)


# -- end-of-week events (eqs. 7, 10) -------------------------------------------------------
MANDATE_IN_SCOPE = {
    # state: (state after, reluctant); everyone in scope is licensed
    State.UNAWARE: (State.AWARE, True),
    State.AWARE: (State.AWARE, True),
    State.ACTIVE: (State.ACTIVE, False),
    State.NOMINAL: (State.NOMINAL, True),
    State.LAPSED: (State.LAPSED, True),
    State.BLOCKED: (State.BLOCKED, False),
}


@pytest.mark.parametrize("state", list(State), ids=rules.STATE_NAMES)
def test_action_effect(state):
    """Eq. 10: in scope, licensed; unaware becomes aware; a mandate makes reluctant all
    but the active and blocked (they wanted it) and pushes; a plain licence does neither.
    Out of scope nothing changes."""
    after, reluctant = MANDATE_IN_SCOPE[state]
    assert rules.action_effect(state, True, True) == (after, True, reluctant, True)
    assert rules.action_effect(state, True, False) == (after, True, False, False)
    assert rules.action_effect(state, False, True) == (state, False, False, False)


def test_action_fires():
    """Eq. 11: once; at its week, or when the measured share reaches the trigger."""
    assert rules.action_fires(False, 8, 8, 0.0, 0.0)
    assert not rules.action_fires(False, 8, 7, 0.0, 0.0)
    assert not rules.action_fires(True, 8, 8, 0.0, 0.0)  # already fired
    assert rules.action_fires(False, -1, 3, 0.3, 0.3)
    assert not rules.action_fires(False, -1, 3, 0.3, 0.2999)
    assert not rules.action_fires(True, -1, 3, 0.3, 0.9)


def test_deal_signed():
    """Eq. 7: signed once engaged >= threshold * N (0.4 * 100 = 40), once, if enabled."""
    r = params(enterprise_enabled=True, enterprise_threshold=0.4)
    assert rules.deal_signed(r, False, 40, 100)
    assert not rules.deal_signed(r, False, 39, 100)
    assert not rules.deal_signed(r, True, 100, 100)  # already signed
    assert not rules.deal_signed(r._replace(enterprise_enabled=False), False, 100, 100)


# -- the compiled rules give the same answers ----------------------------------------------
N_STATES = len(State)
N_FACTS = 7  # licensed + the six facts


def _bits(bits):
    return [(bits >> shift) & 1 == 1 for shift in range(N_FACTS - 1, -1, -1)]


@numba.njit(cache=True)
def _next_state_compiled():
    rows = N_STATES * 2**N_FACTS
    out = np.empty((rows, 2), dtype=np.int64)
    for st in range(N_STATES):
        for bits in range(2**N_FACTS):
            f = [(bits >> shift) & 1 == 1 for shift in range(N_FACTS - 1, -1, -1)]
            nx, intent = rules.next_state(st, f[0], f[1], f[2], f[3], f[4], f[5], f[6])
            out[st * 2**N_FACTS + bits, 0] = nx
            out[st * 2**N_FACTS + bits, 1] = intent
    return out


@numba.njit(cache=True)
def _week_facts_compiled(r, u, share, s_users, appeal_, threshold, k_needed):
    pq = (r.adoption_p, r.adoption_q)
    return rules.week_facts(
        r, u, share, s_users, appeal_, threshold, k_needed, *pq, True, 1.0, True
    )


def test_next_state_compiled_matches_python():
    """numba's next_state equals Python's for every state and all 2^6 fact combinations."""
    expected = [
        tuple(int(x) for x in rules.next_state(st, *_bits(bits)))
        for st, bits in itertools.product(range(N_STATES), range(2**N_FACTS))
    ]
    assert [tuple(row) for row in _next_state_compiled().tolist()] == expected


def test_week_facts_compiled_matches_python():
    """numba's week_facts equals Python's on the inputs of test_week_facts."""
    for _, fields, *inputs, _ in FACTS:
        r = params(**fields)
        compiled = tuple(bool(x) for x in _week_facts_compiled(r, *inputs))
        pq = (r.adoption_p, r.adoption_q)
        python = rules.week_facts(r, *inputs, *pq, True, 1.0, True)
        assert compiled == tuple(bool(x) for x in python)


def test_fixed_outcomes_are_the_states_whose_answer_needs_no_facts():
    """With abandonment, win-back and discovery off and nothing to push, an engaged user's
    week needs no facts (licensed: stays; unlicensed: keeps its seat), a lapsed one stays
    lapsed; an aware one always needs its facts.  Win-back on makes lapsed depend on them."""
    quiet = params(abandonment_enabled=False, winback_enabled=False, discovery_enabled=False)
    fixed = rules.fixed_outcomes(quiet, can_push=False)
    assert fixed[(State.ACTIVE, True)] == (State.ACTIVE, Intent.NONE)
    assert fixed[(State.ACTIVE, False)] == (State.ACTIVE, Intent.KEEP)
    assert fixed[(State.LAPSED, False)] == (State.LAPSED, Intent.NONE)
    assert (State.AWARE, False) not in fixed and (State.NOMINAL, True) not in fixed
    assert (State.LAPSED, False) not in rules.fixed_outcomes(
        quiet._replace(winback_enabled=True), can_push=False
    )
    assert (State.ACTIVE, True) not in rules.fixed_outcomes(
        quiet._replace(abandonment_enabled=True), can_push=False
    )


@pytest.mark.parametrize(
    "discovery, abandonment, winback, can_push",
    list(itertools.product([False, True], repeat=4)),
)
def test_only_wants_changes_no_next_state(discovery, abandonment, winback, can_push):
    """The batched pass leaves out every fact but ``wants`` when ``only_wants_possible``
    says so: then, for every state the run can reach, licence, push and uniform,
    ``next_state`` of the lean facts equals ``next_state`` of the full ones; and where
    it is not taken, leaving them out would change something.  Without abandonment
    nobody can be lapsed (only lapsing and giving up lead there), so win-back, which only
    the lapsed read, does not matter."""
    r = params(
        discovery_enabled=discovery,
        abandonment_enabled=abandonment,
        abandonment_rate=0.3,
        winback_enabled=winback,
        winback_rate=0.5,
        discovery_external_rate=0.2,
    )
    lean = rules.only_wants_possible(r, can_push)
    assert lean == (not (discovery or abandonment or can_push))
    reachable = [st for st in range(N_STATES) if abandonment or st != State.LAPSED]
    differs = False
    for state, licensed, pushed, u in itertools.product(
        reachable, (False, True), (False, can_push), np.linspace(0.0, 0.99, 12)
    ):
        args = (r, u, 0.4, 2.0, 0.8, 0.3, 1.0, 0.05, 0.4, pushed, 1.0, True)
        full = rules.next_state(state, licensed, *rules.week_facts(*args))
        short = rules.next_state(state, licensed, *rules.week_facts(*args, True))
        differs |= tuple(map(int, full)) != tuple(map(int, short))
    # where the shortcut is taken nothing differs; where it is not, it would (the check bites)
    assert differs == (not lean)


def test_the_packed_wants_only_rows_are_the_transition_tables():
    """kernels.wants_only_table (the rows a run reaches when wants is the only fact,
    packed so that the batched pass reads them by shifts) answers as next_state does."""
    from sim.engines.kernels import wants_only_table
    from sim.rules import State, next_state

    words = wants_only_table()
    for wants in (False, True):
        for state in State:
            for licensed in (False, True):
                row = (int(words[wants]) >> (5 * (int(state) * 2 + licensed))) & 31
                expected = next_state(state, licensed, False, wants, False, False, False, False)
                assert (row & 7, row >> 3) == tuple(int(x) for x in expected), (state, licensed)
