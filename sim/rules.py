"""Every decision of the adoption model, as plain functions: the one place to read it.

Each function takes plain numbers (one employee, workspace or org, one week) and returns
plain numbers; none keeps state or draws random numbers.  The reference engine
(``sim.engines.reference``, Mesa agents) calls them as ordinary Python; the batched engine
(``sim.engines.kernels``) calls the very same functions from its numba-compiled passes
(``register_jitable``: compiled from this source, IEEE float64, no fast-math), so both
engines make bit-identical decisions.  ``docs/model.md`` states each rule with the same
equation numbers; change the two together.

Symbols (per employee i, read at the end of the previous week):
    S_i  weighted number of users among the neighbours:
         sum_j w_ij [j active] + nominal_weight * sum_j w_ij [j nominal]
    D_i  weighted degree, sum_j w_ij
    s_i  S_i / D_i, the weighted active share (0 when D_i = 0)
    a_i  appeal: value multiplier / (1 + resistance * reluctant_i)

``r`` is the scenario's parameter block (:func:`sim.engines.params.params_of`): one field
per schema field, named ``section_field`` (``r.adoption_p``, ``r.freemium_free_seats``).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba.extending import register_jitable

# Compiled into the batched engine's passes; plain Python everywhere else.
rule = register_jitable


class State(IntEnum):
    """Where an employee stands with the tool."""

    UNAWARE = 0
    AWARE = 1
    ACTIVE = 2  # engaged user
    NOMINAL = 3  # licensed by mandate, not engaged (shelfware)
    LAPSED = 4  # stopped using it, for good
    BLOCKED = 5  # wants a seat, the workspace's free plan is full (paywall)


class Intent(IntEnum):
    """What an unlicensed employee asks of its workspace this week (eq. 9)."""

    NONE = 0
    KEEP = 1  # an active free user keeps its seat if the cap allows
    REQUEST = 2  # asks for a free seat


class Draw(IntEnum):
    """The model's random draws: one stream each (randomness contract v2, sim/randomness.py).

    A stream's key comes from its value, so append new draws, never insert or reorder:
    then adding a mechanism never changes another one's numbers.
    """

    TRANSITION = 0  # employee i's one decision in week t (eqs. 2-5): index i
    PAYMENT = 1  # workspace w's budget holder at the paywall (eq. 8): index w
    ADOPTER_CATEGORY = 2  # week 0: Rogers category of employee i
    HETEROGENEITY_NORMAL = 3  # week 0: normal heterogeneity z_i
    SEEDING_KEYS = 4  # week 0: tie-breaking keys for choosing champions
    RELUCTANCE_FADES = 5  # employee i's reluctance in week t (eq. 13): index i
    JOB_FIT = 6  # week 0: whether the tool fits employee i (market potential): index i
    SECURITY_REVIEW = 7  # the review's verdict in week t (eq. 14): index 0


class Verdict(IntEnum):
    """An IT security review's outcome (eq. 14)."""

    APPROVE = 0
    REQUIRE_ENTERPRISE = 1
    BAN = 2


STATE_NAMES = tuple(s.name.lower() for s in State)
# State.ACTIVE.value and State.BLOCKED.value as plain ints: the reference engine calls
# seat_outcome once per seat, and an enum member's ``.value`` is slow in plain Python
_ACTIVE_CODE, _BLOCKED_CODE = int(State.ACTIVE), int(State.BLOCKED)

# Rogers (1962/2003) adopter categories: innovators, early adopters, early majority,
# late majority, laggards, as cumulative population shares.
ROGERS_CUMULATIVE = np.array([0.025, 0.16, 0.50, 0.84, 1.0])

# Peer-influence rule families, in the order of the schema's adoption.rule choices.
LINEAR, THRESHOLD, COUNT = 0, 1, 2
RULES = ("linear", "threshold", "count")
UNLIMITED_SEATS = -1  # freemium.free_seats in the parameter block when there is no cap
PER_SEAT, PER_ACTIVE_USER = 0, 1  # tool.pricing, in the schema's order
ON_FAIL_ENTERPRISE, ON_FAIL_BAN = 0, 1  # security_review.on_fail, in the schema's order
# Under the linear rule readiness is 1 / mu_i; mu_i is kept at least this, so that a
# normal draw near 0 gives a very ready employee, not a division by zero.
MIN_MULTIPLIER = 0.05


def rule_code(name: str) -> int:
    """'linear' -> LINEAR, 'threshold' -> THRESHOLD, 'count' -> COUNT."""
    return RULES.index(name)


def fade_probability(half_life_weeks: float | None) -> float:
    """Eq. 13: the weekly chance that a reluctant user loses its reluctance, 1 - 2^(-1/h);
    0 when reluctance never fades.  Plain Python, computed once per run for both engines
    (so that both use the very same float)."""
    if half_life_weeks is None or half_life_weeks != half_life_weeks:  # None or NaN
        return 0.0
    return 1.0 - 2.0 ** (-1.0 / half_life_weeks)


# -- what an employee perceives (eqs. S, 1) ------------------------------------------------
@rule
def weighted_users(weighted_active, weighted_nominal, nominal_weight, champion_active, extra):
    """S = S_active + (champion_weight - 1) * S_champions + nominal_weight * S_nominal.

    S_champions is the weighted count of engaged champions among the ties (already in
    S_active once).  The sums are multiples of 1/64, and so are ``nominal_weight`` and
    ``extra`` = champion_weight - 1; the products and sums are exact in float64, so both
    engines agree bit for bit however they summed.
    """
    return weighted_active + extra * champion_active + nominal_weight * weighted_nominal


@rule
def active_share(weighted_active, weighted_degree):
    """s = S / D, and 0 where an employee has no ties."""
    return weighted_active / weighted_degree if weighted_degree > 0.0 else 0.0


@rule
def value_multiplier(r, licensed, covered):
    """m = 1 with full value (freemium off, licensed, or workspace covered), else free_value."""
    if (not r.freemium_enabled) or licensed or covered:
        return 1.0
    return r.freemium_free_value


@rule
def switching_cost(strength, share, present):
    """Eq. 1b: L = 1 + strength * (1 - s) while the old tool is there (switching costs,
    weakened as colleagues switch: network lock-in), 1 once it is switched off.  The old
    tool's pull on the appeal is 1 / L (:func:`appeal` divides by it)."""
    # branch-free (SIMD lanes): without the old tool the pull term is 0 and L = 1 exactly
    return 1.0 + strength * (1.0 - share) * (1.0 if present else 0.0)


@rule
def trained(week, trained_until):
    """An employee trained by a training action is boosted up to week ``trained_until``."""
    return week <= trained_until


@rule
def appeal(value_multiplier_, resistance, reluctant, boost, switching):
    """Eq. 1: a = m * (1 + boost) / (L * (1 + resistance * reluctant)): how attractive the
    tool is to this employee (``boost``: the training boost while trained, else 0;
    ``switching``: L, :func:`switching_cost`).  One division: the batched pass computes
    it in SIMD lanes for every employee, where a division costs what ten products do."""
    return value_multiplier_ * (1.0 + boost) / (switching * (1.0 + resistance * reluctant))


@rule
def readiness(multiplier):
    """Under the linear rule, 1 / mu_i: an innovator (mu = 0.25) is 4x as ready as the
    early majority, a laggard (mu = 2.5) 0.4x (the Rogers shares average to 1)."""
    return 1.0 / np.maximum(multiplier, MIN_MULTIPLIER)  # numbers or arrays alike


# -- the probabilities of one week (eqs. 2-4) -----------------------------------------------
@rule
def awareness_probability(external_rate, word_of_mouth, share):
    """P(unaware -> aware) = external_rate + word_of_mouth * s."""
    return external_rate + word_of_mouth * share


@rule
def want_probability(rule_, appeal_, p, q, share, readiness_, onboarding):
    """P_w, the random part of wanting the tool: o * rho * a * (p + q * s) for linear,
    o * a * p otherwise (o: onboarding quality; rho: readiness, 1 without heterogeneity)."""
    if rule_ == LINEAR:
        return onboarding * readiness_ * appeal_ * (p + q * share)
    return onboarding * appeal_ * p


@rule
def wants_to_adopt(rule_, u, p_want, appeal_, share, weighted_active, threshold, k_needed):
    """Whether an aware (or nominal) employee chooses to use the tool this week.

    linear:    u < P_w                                   (Bass on a network)
    threshold: a * s >= theta_i   or  u < P_w            (Granovetter / Watts)
    count:     a * S >= k_i       or  u < P_w            (complex contagion)

    Written without branches (``&``, ``|`` on booleans) so that the compiled batched pass
    can evaluate it for many replicates at once in SIMD lanes.
    """
    pushed = ((rule_ == THRESHOLD) & (appeal_ * share >= threshold)) | (
        (rule_ == COUNT) & (appeal_ * weighted_active >= k_needed)
    )
    return pushed | (u < p_want)


@rule
def complies(u, p_want, compliance):
    """A licensed employee who does not want the tool uses it nominally: u < P_w + c (1 - P_w).

    Same uniform as the adoption decision: given u >= P_w, u is uniform on [P_w, 1), so
    this has probability ``compliance``, independent of the adoption draw's outcome.
    """
    return u < p_want + compliance * (1.0 - p_want)


@rule
def lapse_probability(rate, appeal_, standalone_value, share):
    """P(active -> lapsed) = rate * (1 - a * (v0 + (1 - v0) * s)): users lapse as value falls."""
    return rate * (1.0 - appeal_ * (standalone_value + (1.0 - standalone_value) * share))


@rule
def return_probability(rate, appeal_, standalone_value, share):
    """Eq. 4b: P(lapsed -> back) = rate * a * (v0 + (1 - v0) * s): the value it would get
    now (colleagues using it, a licence) brings it back."""
    return rate * appeal_ * (standalone_value + (1.0 - standalone_value) * share)


@rule
def week_facts(
    r,
    u,
    share,
    weighted_active,
    appeal_,
    threshold,
    k_needed,
    p,
    q,
    pushed,
    readiness_,
    fits,
    only_wants=False,
    rule_=-1,
):
    """The six facts the transition table reads, from one uniform ``u`` (eqs. 2-5, 4b):

    (discovers, wants, complies, gives_up, lapses, returns).  The transitions open to a
    state are competing outcomes that partition [0, 1), so one uniform per employee and
    week suffices.  ``p`` and ``q`` are the employee's department's (``[departments]``
    overrides, else ``adoption.p``/``q``); only a ``pushed`` employee (licensed by a
    mandate or the enterprise deal, not by a plain licence action) complies; an employee
    the tool does not ``fits`` never wants it (market potential).
    ``only_wants``: the caller knows no other fact can be true in this run
    (:func:`only_wants_possible`), so they are not computed; the answer is the same.
    ``rule_``: ``r.adoption_rule``, passed by a caller that knows it when it compiles (the
    batched pass), so that the other rules' formulas are left out; -1: read it from ``r``.
    Branch-free, so the batched pass runs it for a row of replicates in SIMD lanes.
    """
    adoption_rule = rule_ if rule_ >= 0 else r.adoption_rule
    p_want = want_probability(adoption_rule, appeal_, p, q, share, readiness_, r.tool_onboarding)
    wants = fits & wants_to_adopt(
        adoption_rule, u, p_want, appeal_, share, weighted_active, threshold, k_needed
    )
    if only_wants:
        return False, wants, False, False, False, False
    p_aware = awareness_probability(r.discovery_external_rate, r.discovery_word_of_mouth, share)
    p_lapse = lapse_probability(r.abandonment_rate, appeal_, r.tool_standalone_value, share)
    p_give_up = lapse_probability(r.abandonment_rate, 0.0, 0.0, 0.0)  # blocked: no value
    p_return = return_probability(r.winback_rate, appeal_, r.tool_standalone_value, share)
    lapse_on = r.abandonment_enabled
    return (
        r.discovery_enabled & (u < p_aware),
        wants,
        pushed & complies(u, p_want, r.mandate_compliance),
        lapse_on & (u < p_give_up),
        lapse_on & (u < p_lapse),
        fits & r.winback_enabled & (u < p_return),
    )


def only_wants_possible(r, can_push: bool) -> bool:
    """Whether ``wants`` is the only fact :func:`week_facts` can make true that
    :func:`next_state` reads in a run: no discovery, no abandonment (so nobody lapses, and
    win-back, read only by the lapsed, has no one to bring back) and nothing that can push
    anyone to comply (``can_push``, as in :func:`fixed_outcomes`).  Plain Python, once per
    model."""
    return not (r.discovery_enabled or r.abandonment_enabled or can_push)


def every_seat_granted(r) -> bool:
    """Whether :func:`gets_seat` grants every keeper and requester in a run: no free-seat
    cap can apply (freemium off) and no ban can come (no security review), so asking for a
    seat is having one.  Plain Python, once per model."""
    return not (r.freemium_enabled or r.security_review_enabled)


# -- the transition table (docs/model.md, "Transitions") -------------------------------------
@rule
def next_state(state, licensed, discovers, wants, complies_, gives_up, lapses, returns):
    """(next state, seat intent) of one employee: first matching line of the table wins.

    | state    | condition                        | next state / intent        |
    |----------|----------------------------------|----------------------------|
    | unaware  | discovers                        | aware                      |
    | aware    | wants, licensed                  | active                     |
    | aware    | wants, not licensed              | requests a seat            |
    | aware    | licensed, complies               | nominal                    |
    | blocked  | gives up                         | lapsed                     |
    | blocked  | licensed                         | active                     |
    | blocked  | otherwise                        | requests a seat            |
    | active   | lapses                           | lapsed                     |
    | active   | not licensed                     | keeps its seat if it can   |
    | nominal  | wants                            | active                     |
    | lapsed   | returns, licensed                | active                     |
    | lapsed   | returns, not licensed            | requests a seat            |
    | any      | otherwise                        | unchanged                  |

    Requesters and keepers learn their seat from :func:`gets_seat` (eq. 9).
    """
    if state == State.UNAWARE:
        return (State.AWARE if discovers else State.UNAWARE), Intent.NONE
    if state == State.AWARE:
        if wants:
            return (State.ACTIVE, Intent.NONE) if licensed else (State.AWARE, Intent.REQUEST)
        return (State.NOMINAL if licensed and complies_ else State.AWARE), Intent.NONE
    if state == State.BLOCKED:
        if gives_up:
            return State.LAPSED, Intent.NONE
        return (State.ACTIVE, Intent.NONE) if licensed else (State.BLOCKED, Intent.REQUEST)
    if state == State.ACTIVE:
        if lapses:
            return State.LAPSED, Intent.NONE
        return State.ACTIVE, (Intent.NONE if licensed else Intent.KEEP)
    if state == State.NOMINAL:
        return (State.ACTIVE if wants else State.NOMINAL), Intent.NONE
    if state == State.LAPSED:
        if returns:
            return (State.ACTIVE, Intent.NONE) if licensed else (State.LAPSED, Intent.REQUEST)
        return State.LAPSED, Intent.NONE
    raise ValueError("next_state: a state with no row in the transition table")


# -- workspaces: cover, seats, paywall, trial (eqs. 6, 8, 9) ---------------------------------
@rule
def covered(paid, trial_weeks, trial_start, week):
    """Eq. 6: full value at the end of ``week`` when paid, or on a trial that has not
    started yet (it starts with the first free user) or started fewer than trial_weeks ago."""
    on_trial = (trial_weeks > 0) & ((trial_start < 0) | (week - trial_start < trial_weeks))
    return paid | on_trial


@rule
def seats_unlimited(r, covered_, cap, banned):
    """Eq. 9: no cap applies when freemium is off, the workspace's cap is unlimited (< 0)
    or the workspace is covered, unless IT banned unlicensed use (eq. 14)."""
    return (not banned) & ((not r.freemium_enabled) | (cap < 0) | covered_)


@rule
def gets_seat(unlimited, taken, cap, banned):
    """Eq. 9: the next keeper or requester (in employee id order) gets a free seat while
    fewer than ``cap`` are taken; none after a ban."""
    return unlimited | ((not banned) & (taken < cap))


@rule
def seat_outcome(granted):
    """Eq. 9: a keeper or requester with a seat is active; without one, blocked."""
    return _ACTIVE_CODE if granted else _BLOCKED_CODE


@rule
def free_user(state, licensed):
    """An engaged user without a licence: holds a free seat (or a paid workspace seat)."""
    return (state == State.ACTIVE) & (not licensed)


@rule
def paywall_demand(state, licensed):
    """Eq. 8's demand, one member's share: (blocked at the paywall, engaged free user),
    counting only members without a licence."""
    return (state == State.BLOCKED) & (not licensed), free_user(state, licensed)


@rule
def at_paywall(r, paid, deal, blocked, banned):
    """Eq. 8: a workspace's budget holder decides this week when freemium is on, it is not
    paid, no enterprise deal is signed, IT has not banned unlicensed use, and some
    unlicensed member is blocked."""
    return r.freemium_enabled & (not paid) & (not deal) & (not banned) & (blocked > 0)


@rule
def pay_probability(decision_rate, price, value, demand, demand_scale, holder_boost, holder_active):
    """P(budget holder pays this week) at the paywall.

    = decision_rate * max(0, 1 - price / value) * D / (D + D_half) * (1 + boost * [holder active])
    """
    surplus = max(1.0 - price / value, 0.0)
    pressure = demand / (demand + demand_scale)
    return decision_rate * surplus * pressure * (1.0 + holder_boost * holder_active)


@rule
def pays(r, v, blocked, active_unlicensed, holder_active, value):
    """Eq. 8: whether the budget holder pays, from its uniform ``v`` (call at the paywall);
    ``value``: the paid tier's value per seat-week in the holder's department."""
    demand = float(blocked + active_unlicensed)
    p_pay = pay_probability(
        r.freemium_decision_rate,
        r.tool_price_per_seat_week,
        value,
        demand,
        r.freemium_demand_scale,
        r.freemium_holder_boost,
        1.0 if holder_active else 0.0,
    )
    return v < p_pay


@rule
def trial_starts(trial_start, has_free_user):
    """A workspace's trial starts in the week it first has an engaged unlicensed user."""
    return (trial_start < 0) & has_free_user


# -- end-of-week events (eqs. 7, 10) ----------------------------------------------------------
@rule
def action_fires(fired, at_week, week, trigger_share, share):
    """Eq. 11: whether a top-down action fires at the end of ``week``: once, at its week
    (``at_week`` >= 0), or (``at_week`` < 0) in the first week whose end sees the engaged
    ``share`` of the org or its department reach ``trigger_share``."""
    if fired:
        return False
    if at_week >= 0:
        return week >= at_week
    return share >= trigger_share


@rule
def action_effect(state, in_scope, pushes):
    """Eq. 10, for one employee when a mandate or licence action fires: (state, licensed
    now, becomes reluctant, pushed now).  Everyone in scope is licensed and unaware ones
    become aware.  A mandate (``pushes``) also pushes: those who neither use the tool nor
    asked for it (blocked at the paywall) become reluctant, and all in scope may comply
    (nominal use).  A plain licence does neither."""
    if not in_scope:
        return int(state), False, False, False
    wanted_it = (state == State.ACTIVE) | (state == State.BLOCKED)
    new_state = State.AWARE.value if state == State.UNAWARE else int(state)
    return new_state, True, pushes and not wanted_it, pushes


@rule
def training_effect(state, week, weeks):
    """Eq. 10b, a training action for one employee in scope: (state, trained until).
    Unaware employees learn of the tool; the appeal boost lasts ``weeks`` weeks."""
    new_state = State.AWARE.value if state == State.UNAWARE else int(state)
    return new_state, week + weeks


@rule
def loses_reluctance(reluctant, state, v, p_fade):
    """Eq. 13: a reluctant employee who used the tool last week (engaged or nominal) is no
    longer reluctant from next week with probability p_fade (half-life h weeks of use)."""
    using = (state == State.ACTIVE) | (state == State.NOMINAL)
    return reluctant & using & (v < p_fade)


@rule
def shadow_it_noticed(r, unlicensed_active, n):
    """Eq. 14: IT notices unsanctioned use once the unlicensed engaged users reach
    threshold_share * N (or threshold_count, when set)."""
    by_share = unlicensed_active >= r.security_review_threshold_share * n
    by_count = (r.security_review_threshold_count >= 0) & (
        unlicensed_active >= r.security_review_threshold_count
    )
    return r.security_review_enabled & (by_share | by_count)


@rule
def review_verdict(r, v):
    """Eq. 14: the review approves with probability tool.enterprise_ready; otherwise it
    requires the enterprise plan or bans unlicensed use (security_review.on_fail)."""
    if v < r.tool_enterprise_ready:
        return Verdict.APPROVE.value
    if r.security_review_on_fail == ON_FAIL_ENTERPRISE:
        return Verdict.REQUIRE_ENTERPRISE.value
    return Verdict.BAN.value


@rule
def ban_effect(state, licensed):
    """Eq. 14, a ban, for one employee: an engaged user without a licence is blocked (and
    may give up and lapse, eq. 4); licences bought top-down are sanctioned."""
    if (state == State.ACTIVE) & (not licensed):
        return State.BLOCKED.value
    return int(state)


@rule
def deal_signed(r, deal, engaged, n):
    """Eq. 7: the enterprise deal is signed once ``engaged`` reaches threshold * N."""
    return r.enterprise_enabled & (not deal) & (engaged >= r.enterprise_threshold * n)


def fixed_outcomes(r, can_push: bool = True) -> dict[tuple[int, bool], tuple[int, int]]:
    """For each (state, licensed): the (next state, intent) that :func:`next_state` returns
    whatever the week's facts, when the scenario leaves it only one answer.  The facts a
    switched-off mechanism can never make true are held false (no discovery, no
    abandonment, no win-back, no compliance when nothing can push: ``can_push`` false when
    the plan has no mandate, no enterprise deal and no review that can require one).  An
    employee in such a state need not gather its facts: both engines skip the work and get
    the same answer.

    Plain Python, run once per model (not a compiled rule)."""
    import itertools

    choices = (
        (False, True) if r.discovery_enabled else (False,),  # discovers
        (False, True),  # wants
        (False, True) if can_push else (False,),  # complies (only the pushed comply)
        (False, True) if r.abandonment_enabled else (False,),  # gives up
        (False, True) if r.abandonment_enabled else (False,),  # lapses
        (False, True) if r.winback_enabled else (False,),  # returns
    )
    fixed = {}
    for state in State:
        for licensed in (False, True):
            outcomes = {
                tuple(int(x) for x in next_state(state, licensed, *facts))
                for facts in itertools.product(*choices)
            }
            if len(outcomes) == 1:
                fixed[(int(state), licensed)] = outcomes.pop()
    return fixed
