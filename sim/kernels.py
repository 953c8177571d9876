"""The batched engine's inner loops, compiled by numba: one pass per phase of a week.

State arrays have one row per employee and one column per replicate (N x R, C order).
Every pass walks the employees in id order and, for each, its row of R replicates, so that

* per-workspace counters (seats kept and granted, lowest id first) are updated in the
  order the reference engine's workspaces hand out seats, and
* the innermost loops run over one contiguous row (the weighted-users sum of eq. S reads
  each tie's row once, like a CSR sparse product, without building S; the decision
  formulas and the tally are branch-free there, so LLVM runs them in SIMD lanes).

The decision formulas are :mod:`sim.rules`' own functions compiled from the same source
that the reference engine runs as plain Python: float64 arithmetic with no fast-math
flags, so every comparison comes out bit-identical.  Tie weights are multiples of 1/64,
so the sums S_i are exact in any order.  Every function releases the GIL (``nogil``):
the batched engine runs sub-batches of replicates in threads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim import rules
from sim.rules import State

UNAWARE, AWARE, ACTIVE = np.int8(State.UNAWARE), np.int8(State.AWARE), np.int8(State.ACTIVE)
NOMINAL, LAPSED, BLOCKED = np.int8(State.NOMINAL), np.int8(State.LAPSED), np.int8(State.BLOCKED)
NO_INTENT, KEEP, REQUEST = 0, 1, 2
N_STATES = len(State)
# rows of the weekly tally (after the N_STATES state counts)
LICENSED_ROW, PAID_SEATS_ROW, SHELFWARE_ROW, FREE_USERS_ROW = range(N_STATES, N_STATES + 4)
TALLY_ROWS = N_STATES + 4

_compile = njit(cache=True, nogil=True)
active_share = _compile(rules.active_share)
weighted_users = _compile(rules.weighted_users)
appeal = _compile(rules.appeal)
awareness_probability = _compile(rules.awareness_probability)
want_probability = _compile(rules.want_probability)
wants_to_adopt = _compile(rules.wants_to_adopt)
complies = _compile(rules.complies)
lapse_probability = _compile(rules.lapse_probability)
pay_probability = _compile(rules.pay_probability)


class Rules(NamedTuple):
    """The scenario's numbers the weekly decisions need (see docs/model.md, eqs. 1-9)."""

    rule: int  # rules.LINEAR / THRESHOLD / COUNT
    p: float
    q: float
    discovery: bool
    external_rate: float
    word_of_mouth: float
    freemium: bool
    free_value: float
    cap: int  # free seats per workspace; -1: unlimited
    resistance: float
    compliance: float
    nominal_weight: float
    abandonment: bool
    lapse_rate: float
    standalone_value: float
    decision_rate: float
    price: float
    value: float
    demand_scale: float
    holder_boost: float


@njit(cache=True, nogil=True)
def _unlimited(r: Rules, covered: bool) -> bool:
    return (not r.freemium) | (r.cap < 0) | covered


@njit(cache=True, nogil=True)
def transition(
    state: np.int8,
    licensed: bool,
    discovers: bool,
    wants: bool,
    complies_: bool,
    gives_up: bool,
    lapses: bool,
) -> tuple[np.int8, int]:
    """(next state, seat intent) of one employee: the transition table of docs/model.md,
    first matching line wins.  Requesters and keepers learn their seat from eq. 9."""
    if state == UNAWARE:
        return (AWARE if discovers else UNAWARE), NO_INTENT
    if state == AWARE:
        if wants:
            return (ACTIVE, NO_INTENT) if licensed else (AWARE, REQUEST)
        return (NOMINAL if licensed and complies_ else AWARE), NO_INTENT
    if state == BLOCKED:
        if gives_up:
            return LAPSED, NO_INTENT
        return (ACTIVE, NO_INTENT) if licensed else (BLOCKED, REQUEST)
    if state == ACTIVE:
        if lapses:
            return LAPSED, NO_INTENT
        return ACTIVE, (NO_INTENT if licensed else KEEP)
    if state == NOMINAL:
        return (ACTIVE if wants else NOMINAL), NO_INTENT
    return state, NO_INTENT


@njit(cache=True, nogil=True)
def _case(state, licensed, discovers, wants, complies_, gives_up, lapses) -> int:
    """The row of :func:`transition_table` for one employee's week: 7 facts as bits."""
    return (
        state * 64
        + licensed * 32
        + discovers * 16
        + wants * 8
        + complies_ * 4
        + gives_up * 2
        + lapses * 1
    )


@njit(cache=True, nogil=True)
def transition_table() -> tuple[np.ndarray, np.ndarray]:
    """:func:`transition` tabulated over every combination of its inputs (6 x 2^6 rows),
    so that the weekly pass looks its answer up instead of branching on mixed states."""
    rows = N_STATES * 64
    next_state = np.empty(rows, dtype=np.int8)
    next_intent = np.empty(rows, dtype=np.int8)
    for st in range(N_STATES):
        for bits in range(64):
            facts = [(bits >> shift) & 1 == 1 for shift in range(5, -1, -1)]
            case = _case(st, facts[0], facts[1], facts[2], facts[3], facts[4], facts[5])
            nx, intent = transition(
                np.int8(st), facts[0], facts[1], facts[2], facts[3], facts[4], facts[5]
            )
            next_state[case] = nx
            next_intent[case] = intent
    return next_state, next_intent


@njit(cache=True, nogil=True)
def decide(
    r: Rules,
    indptr: np.ndarray,
    indices: np.ndarray,
    weights_64ths: np.ndarray,
    degree: np.ndarray,
    state: np.ndarray,
    licensed: np.ndarray,
    reluctant: np.ndarray,
    covered: np.ndarray,
    workspace_of: np.ndarray,
    u: np.ndarray,
    threshold: np.ndarray,
    k_needed: np.ndarray,
    count_nominal: bool,
    nxt: np.ndarray,
    request: np.ndarray,
    kept: np.ndarray,
    blocked_unlicensed: np.ndarray,
    active_unlicensed: np.ndarray,
) -> None:
    """Phase 1 of a week: every employee's move (eqs. 1-5) and the keepers' seats (eq. 9).

    ``weights_64ths`` are the CSR tie weights in units of 1/64 (integers, so the sums are
    exact and cheap).  Reads the state at the end of last week; writes ``nxt`` (next state,
    requesters still pending), ``request`` (asks for a seat), per workspace and replicate
    ``kept`` (free seats kept) and last week's paywall counts (blocked and active
    unlicensed members).
    ``u`` is N x R like the state: column c holds replicate c's transition draws.
    """
    n, reps = state.shape
    nu = r.nominal_weight
    give_up = lapse_probability(r.lapse_rate, 0.0, 0.0, 0.0)  # a blocked user gets no value
    next_state, next_intent = transition_table()
    # eq. 1 takes four values (free tier or full value, reluctant or not): compute each once
    a_full, a_full_r = appeal(1.0, r.resistance, 0.0), appeal(1.0, r.resistance, 1.0)
    a_free = appeal(r.free_value, r.resistance, 0.0)
    a_free_r = appeal(r.free_value, r.resistance, 1.0)
    free_off, discovery, abandonment, rule = not r.freemium, r.discovery, r.abandonment, r.rule
    # in units of 1/64, exact; int32 holds any sum: a tie weighs at most 16 x 64 (schema)
    # and an employee has fewer than 10^6 ties, so a sum stays below 2^30
    engaged = np.zeros(reps, dtype=np.int32)
    nominal = np.zeros(reps, dtype=np.int32)
    case = np.zeros(reps, dtype=np.int32)
    unused = np.zeros(reps)  # stands in for theta_i / k_i under the rules that ignore them
    for i in range(n):
        engaged[:] = 0
        nominal[:] = 0
        for nz in range(indptr[i], indptr[i + 1]):
            w = np.int32(weights_64ths[nz])
            tie = state[indices[nz]]
            for c in range(reps):  # a plain loop over one row: vectorized
                engaged[c] += w * np.int32(tie[c] == ACTIVE)
            if count_nominal:
                for c in range(reps):
                    nominal[c] += w * np.int32(tie[c] == NOMINAL)
        ws = workspace_of[i]
        d = degree[i]
        st_row, lic_row, u_row = state[i], licensed[i], u[i]
        covered_row, reluctant_row = covered[ws], reluctant[i]
        # only the rule that uses theta_i or k_i reads it (two N x R float64 arrays)
        theta_row = threshold[i] if rule == rules.THRESHOLD else unused
        k_row = k_needed[i] if rule == rules.COUNT else unused
        # Every quantity of eqs. 1-4 for every replicate, branch-free so that the loop
        # runs in SIMD lanes: its only output is each employee's row of the table.
        for c in range(reps):
            lic, uc = lic_row[c], u_row[c]
            s_users = weighted_users(engaged[c] / 64.0, nominal[c] / 64.0, nu)
            share = active_share(s_users, d)
            full = free_off | lic | covered_row[c]
            relu = reluctant_row[c]
            a = (a_full_r if relu else a_full) if full else (a_free_r if relu else a_free)
            p_want = want_probability(rule, a, r.p, r.q, share)
            p_aware = awareness_probability(r.external_rate, r.word_of_mouth, share)
            p_lapse = lapse_probability(r.lapse_rate, a, r.standalone_value, share)
            case[c] = _case(
                st_row[c],
                lic,
                discovery & (uc < p_aware),
                wants_to_adopt(rule, uc, p_want, a, share, s_users, theta_row[c], k_row[c]),
                complies(uc, p_want, r.compliance),
                abandonment & (uc < give_up),
                abandonment & (uc < p_lapse),
            )
        for c in range(reps):
            st = st_row[c]
            nx, intent = next_state[case[c]], next_intent[case[c]]
            if not lic_row[c]:
                blocked_unlicensed[ws, c] += st == BLOCKED
                active_unlicensed[ws, c] += st == ACTIVE
            if intent == KEEP:  # keepers first, lowest id first (eq. 9)
                if _unlimited(r, covered_row[c]) or kept[ws, c] < r.cap:
                    kept[ws, c] += 1
                else:
                    nx = BLOCKED
            request[i, c] = intent == REQUEST
            nxt[i, c] = nx


@njit(cache=True, nogil=True)
def decide_payment(
    r: Rules,
    state: np.ndarray,
    paid: np.ndarray,
    deal: np.ndarray,
    holder: np.ndarray,
    blocked_unlicensed: np.ndarray,
    active_unlicensed: np.ndarray,
    v: np.ndarray,
) -> np.ndarray:
    """Eq. 8: W x R, the workspaces whose budget holder pays this week (``v`` is R x W)."""
    n_ws, reps = paid.shape
    pays = np.zeros((n_ws, reps), dtype=np.bool_)
    if not r.freemium:
        return pays
    for w in range(n_ws):
        for c in range(reps):
            blocked = blocked_unlicensed[w, c]
            if paid[w, c] or deal[c] or blocked == 0:
                continue
            demand = float(blocked + active_unlicensed[w, c])
            holder_active = 1.0 if state[holder[w], c] == ACTIVE else 0.0
            p_pay = pay_probability(
                r.decision_rate,
                r.price,
                r.value,
                demand,
                r.demand_scale,
                r.holder_boost,
                holder_active,
            )
            pays[w, c] = v[c, w] < p_pay
    return pays


@njit(cache=True, nogil=True)
def grant_and_commit(
    r: Rules,
    nxt: np.ndarray,
    request: np.ndarray,
    kept: np.ndarray,
    covered: np.ndarray,
    workspace_of: np.ndarray,
    licensed: np.ndarray,
    paid: np.ndarray,
    department: np.ndarray,
    state: np.ndarray,
    has_free_user: np.ndarray,
    counts: np.ndarray,
    department_active: np.ndarray,
) -> None:
    """Phase 2: requesters get the seats keepers left (lowest id first), then commit.

    Writes the new state into ``state``; flags, per workspace and replicate, whether it
    has an unlicensed engaged user now (a trial starts with its first free user); and
    tallies the new state as :func:`tally` does (valid unless an end-of-week event
    changes it).  ``counts``, ``department_active`` and ``has_free_user`` come in zeroed.
    """
    n, reps = nxt.shape
    granted = np.zeros(kept.shape, dtype=np.int64)
    for i in range(n):
        ws = workspace_of[i]
        row = nxt[i]
        for c in range(reps):
            if request[i, c]:  # rare: a plain branch
                limit = r.cap - kept[ws, c]
                if _unlimited(r, covered[ws, c]) or granted[ws, c] < limit:
                    granted[ws, c] += 1
                    row[c] = ACTIVE
                else:
                    row[c] = BLOCKED
        state[i] = row
        lic_row = licensed[i]
        for c in range(reps):
            has_free_user[ws, c] |= (row[c] == ACTIVE) & (not lic_row[c])
        _count_row(counts, department_active, row, lic_row, paid[ws], department[i])


@njit(cache=True, nogil=True)
def _count_row(
    counts: np.ndarray,
    department_active: np.ndarray,
    states: np.ndarray,
    licensed: np.ndarray,
    paid: np.ndarray,
    department: int,
) -> None:
    """Add one employee (a row: one value per replicate) to the week's tally (see
    :func:`tally`).  Branch-free, one row of counts at a time, so it runs in SIMD lanes."""
    reps = len(states)
    for s in range(N_STATES):
        out = counts[s]
        for c in range(reps):
            out[c] += states[c] == s
    licences, shelf = counts[LICENSED_ROW], counts[SHELFWARE_ROW]
    seats, free = counts[PAID_SEATS_ROW], counts[FREE_USERS_ROW]
    dept = department_active[department]
    for c in range(reps):
        engaged, lic = states[c] == ACTIVE, licensed[c]
        licences[c] += lic
        shelf[c] += lic & (not engaged)
        seats[c] += engaged & (not lic) & paid[c]
        free[c] += engaged & (not lic) & (not paid[c])
        dept[c] += engaged


@njit(cache=True, nogil=True)
def tally(
    state: np.ndarray,
    licensed: np.ndarray,
    paid: np.ndarray,
    workspace_of: np.ndarray,
    department: np.ndarray,
    n_departments: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One week's counts per replicate: (TALLY_ROWS x R, departments x R engaged users).

    Rows: employees in each state, licences held, paid seats (engaged, unlicensed, in a
    paid workspace), shelfware (licensed, not engaged), free users (engaged, unlicensed,
    in an unpaid workspace).
    """
    n, reps = state.shape
    counts = np.zeros((TALLY_ROWS, reps), dtype=np.int64)
    department_active = np.zeros((n_departments, reps), dtype=np.int64)
    for i in range(n):
        _count_row(
            counts, department_active, state[i], licensed[i], paid[workspace_of[i]], department[i]
        )
    return counts, department_active
