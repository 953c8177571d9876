"""The batched engine's inner loops, compiled by numba: one pass per phase of a week.

These passes hold no decision of their own: every decision is a call to a :mod:`sim.rules`
function (compiled from the source the reference engine runs as plain Python), and every
random number a call to :mod:`sim.randomness` (the same counter-based bits the reference
computes with numpy).  What is here is only the walking:

* state arrays have one row per employee and one column per replicate (N x R, C order);
  every pass walks the employees in id order and, for each, its row of R replicates, so
  per-workspace seat counters are updated in the order the reference engine's workspaces
  hand out seats (lowest id first);
* the innermost loops run over one contiguous row (the weighted-users sum of eq. S reads
  each tie's row once, like a CSR sparse product), branch-free where the rules allow, so
  LLVM runs them in SIMD lanes;
* tie weights are summed as integers in units of 1/64, exact in any order: a row's ties
  come in runs of one weight (``population.TieRuns``), whose engaged ties are counted in
  int8 lanes and multiplied by the weight once;
* the columns come in groups (``bounds``: group g is columns ``bounds[g]:bounds[g+1]``),
  each with its own parameter block ``params[g]`` (a tuple of ``Params``) and its own
  department values (``p``, ``q``, ``free_seats``, ``value``: one row per group), so that
  the points of a sweep run as columns of one model on their shared org; a plain run is
  one group.

Every function releases the GIL (``nogil``): the batched engine runs sub-batches of
replicates in threads.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

from sim import randomness, rules
from sim.jit import invalidate_if_rules_changed
from sim.lanes import aligned_bytes, block, byte_window, columns, lanes, window_of
from sim.observe import INT16_ROWS, MOVES, apply_move, apply_moves, move_of
from sim.rules import Draw, Intent, State

invalidate_if_rules_changed(__file__)  # numba's cache must not outlive a rules edit

N_STATES = len(State)
# What a run uses, known before it starts (``features`` of :func:`decide`, from
# ``sim.engines.batched.run_features``).  The weekly pass is compiled once per combination
# (numba's literal dispatch, cached on disk), so the formulas of a mechanism a run does not
# use are not in its machine code at all; each bit is set only when skipping the work
# gives the very numbers the full formulas give.  Bits RULE_SHIFT and the next hold the adoption
# rule (rules.LINEAR, THRESHOLD or COUNT: the same for every column of a model).
ONLY_WANTS = 1  # no discovery, abandonment, win-back or compliance (rules.only_wants_possible)
PLAIN_APPEAL = 2  # no old tool, no training, no mandate (reluctance): appeal = value multiplier
NO_SEATS = 4  # freemium and the security review off: full value, every seat free
PLAIN_PEOPLE = 8  # readiness 1 and everyone fits the tool
RULE_SHIFT = 4
# (bits 4 and 5: the rule) every row's ties in at most one run: one weight in the org, and
# no row with more than MAX_RUN ties (set by the batched engine from its TieRuns)
ONE_RUN = 64
FACT_BITS = 7  # licensed + the six facts of rules.week_facts
# int8 like the state arrays: comparing an int8 row with an int64 enum member would widen
# the SIMD lanes of the weighted-users sums eightfold
_ACTIVE, _NOMINAL, _AWARE = np.int8(State.ACTIVE), np.int8(State.NOMINAL), np.int8(State.AWARE)

# error_model="numpy": no zero-division check around each ``/`` (Python's error model
# branches there, which stops LLVM from running the decision loop in SIMD lanes: 1.7x
# slower).  No rule ever divides by zero (appeal divides by 1 + resistance * reluctant >= 1,
# active_share guards D = 0, the schema keeps value and demand_scale > 0), so the answers
# are the plain-Python ones.
_compile = njit(cache=True, nogil=True, error_model="numpy")
# the one move of a Bass week: an aware employee adopts a free tool (see decide)
_ADOPTS_FREE = move_of.py_func(State.AWARE, State.ACTIVE, False, False)


_SPECIALISED: dict[tuple, object] = {}


# numpy's flags that decide numba's array type: C- and F-contiguous (its layout),
# aligned, writeable
_TYPE_FLAGS = 0x1 | 0x2 | 0x100 | 0x400


def _shape_of(arg) -> tuple:
    """What decides numba's type of an argument, cheaply (numba's own typeof is slow, and
    reading the flags one by one took half of a week's Python at 10,000 x 100)."""
    if isinstance(arg, np.ndarray):
        return (arg.dtype, arg.ndim, arg.flags.num & _TYPE_FLAGS)
    if isinstance(arg, tuple):  # a tuple of parameter blocks: its type has its length
        return (tuple, len(arg))
    return (type(arg),)


def call_specialised(dispatcher, literal_at: int, *args):
    """``dispatcher(*args)`` with ``args[literal_at]`` compiled in as a constant.

    numba's literal dispatch (``numba.literally``) would re-derive every argument's type
    on every call (milliseconds a week); this compiles, or loads from the disk cache, the
    machine code for the literal signature once and then calls it directly.  Returns
    what the call returns."""
    key = (dispatcher, args[literal_at], *(_shape_of(arg) for arg in args))
    compiled = _SPECIALISED.get(key)
    if compiled is None:
        types = tuple(
            numba.types.literal(arg) if k == literal_at else dispatcher.typeof_pyval(arg)
            for k, arg in enumerate(args)
        )
        compiled = _SPECIALISED[key] = dispatcher.compile(types)
    return compiled(*args)


@_compile
def _case(state, licensed, discovers, wants, complies_, gives_up, lapses, returns) -> int:
    """The row of :func:`transition_table` for one employee's week: state and 7 facts."""
    return (
        state * 128
        + licensed * 64
        + discovers * 32
        + wants * 16
        + complies_ * 8
        + gives_up * 4
        + lapses * 2
        + returns * 1
    )


@_compile
def transition_table() -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.rules.next_state` tabulated over every combination of its inputs
    (6 states x 2^7 facts), so that the weekly pass looks its answer up instead of
    branching on mixed states in SIMD lanes."""
    rows = N_STATES * 2**FACT_BITS
    next_state = np.empty(rows, dtype=np.int8)
    next_intent = np.empty(rows, dtype=np.int8)
    for st in range(N_STATES):
        for bits in range(2**FACT_BITS):
            f = [(bits >> shift) & 1 == 1 for shift in range(FACT_BITS - 1, -1, -1)]
            case = _case(st, f[0], f[1], f[2], f[3], f[4], f[5], f[6])
            nx, intent = rules.next_state(np.int8(st), f[0], f[1], f[2], f[3], f[4], f[5], f[6])
            next_state[case] = nx
            next_intent[case] = intent
    return next_state, next_intent


@_compile
def wants_only_table() -> tuple[np.uint64, np.uint64]:
    """The rows of :func:`transition_table` a run can reach when ``wants`` is the only fact
    (``ONLY_WANTS``), packed into two words, one per value of ``wants``: row k = state * 2
    + licensed holds next state | intent << 3 in bits 5k to 5k + 4.  Shifting a word is a
    SIMD lane operation; looking a table up is not (no gathers on this hardware), so a
    pass that reads these keeps its whole row in SIMD lanes."""
    next_state, next_intent = transition_table()
    words = np.zeros(2, dtype=np.uint64)
    for wants in range(2):
        for st in range(N_STATES):
            for lic in range(2):
                case = _case(st, lic == 1, False, wants == 1, False, False, False, False)
                row = np.uint64(next_state[case]) | (np.uint64(next_intent[case]) << np.uint64(3))
                words[wants] |= row << np.uint64(5 * (st * 2 + lic))
    return words[0], words[1]


@njit(inline="always")
def _wants_only_row(not_wanted, wanted, state, licensed, wants) -> np.uint64:
    """Row (state, licensed) of :func:`wants_only_table`'s word for ``wants``: next state
    | intent << 3."""
    word = wanted if wants else not_wanted
    shift = np.uint64(5) * (np.uint64(state) * np.uint64(2) + np.uint64(licensed))
    return (word >> shift) & np.uint64(31)


# The tables, made once: numba compiles these globals into the passes as constants (made
# in each pass, they cost 0.1 ms a week, 0.1 ns an employee-week at 10,000 x 100)
_NEXT_STATE, _NEXT_INTENT = transition_table()
# each row of the table as next state | intent << 3, as the shifts in decide give it
_PACKED = _NEXT_STATE.astype(np.int8) | (_NEXT_INTENT.astype(np.int8) << np.int8(3))
_NOT_WANTED, _WANTED = wants_only_table()  # the table's rows when only wants can be true


@_compile
def cover(params, bounds, paid: np.ndarray, trial_start: np.ndarray, week: int) -> np.ndarray:
    """Eq. 6 for every workspace and replicate (W x R) at the end of ``week``."""
    n_ws, reps = paid.shape
    out = np.empty((n_ws, reps), dtype=np.bool_)
    for g in range(len(bounds) - 1):
        trial_weeks = params[g].freemium_trial_weeks
        for w in range(n_ws):
            for c in columns(bounds, g):
                out[w, c] = rules.covered(paid[w, c], trial_weeks, trial_start[w, c], week)
    return out


@_compile
def decide(
    params,
    bounds: np.ndarray,
    features: int,
    row_runs: np.ndarray,
    run_start: np.ndarray,
    run_weight: np.ndarray,
    tie_indices: np.ndarray,
    degree: np.ndarray,
    state: np.ndarray,
    licensed: np.ndarray,
    pushed: np.ndarray,
    reluctant: np.ndarray,
    fits: np.ndarray,
    champion: np.ndarray,
    incumbent: np.ndarray,
    trained_until: np.ndarray,
    readiness: np.ndarray,
    covered: np.ndarray,
    banned: np.ndarray,
    workspace_of: np.ndarray,
    free_seats: np.ndarray,
    keys: np.ndarray,
    week: int,
    threshold: np.ndarray,
    k_needed: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    count_nominal: bool,
    count_champions: bool,
    champion_start: np.ndarray,
    champion_tie: np.ndarray,
    champion_weight: np.ndarray,
    is_active: np.ndarray,
    is_nominal: np.ndarray,
    active_current: bool,
    p_fade: np.ndarray,
    nxt: np.ndarray,
    request: np.ndarray,
    kept: np.ndarray,
    blocked_unlicensed: np.ndarray,
    active_unlicensed: np.ndarray,
    paid: np.ndarray,
    department: np.ndarray,
    per_seat: bool,
    counts: np.ndarray,
    department_active: np.ndarray,
) -> bool:
    """Phase 1 of ``week``: every employee's move and the keepers' seats (eq. 9).

    Reads the state at the end of last week; writes ``nxt`` (next state, requesters still
    pending), ``request`` (asks for a seat), per workspace and replicate ``kept`` (free
    seats kept) and last week's paywall demand (blocked and active unlicensed members).
    Without seats (``NO_SEATS``: asking for a seat is having one) it is also the commit's
    work but the swap: ``nxt`` gets every employee's final state, ``request`` and the seat
    counters are not touched, and the week's tally (``counts``, ``department_active``,
    holding last week's, see :func:`grant_and_commit`) moves the employees who change.
    Also updates ``reluctant`` in place for next week (eq. 13): only employee i reads its
    own reluctance, and it has read it by then.
    Employee i's uniform in replicate c is draw (week, i) of stream
    ``keys[Draw.TRANSITION, c]`` (``keys``: purposes x R, from ``randomness.stream_keys``).
    ``features``: the bits above, a compile-time constant (one machine code per value).
    Group g's columns read ``params[g]``, ``p[g]``, ``q[g]``, ``free_seats[g]`` and
    ``p_fade[g]``.  ``is_active``: scratch, N x a multiple of 64 with the columns past R
    zero, rewritten from ``state`` (the engaged ties are summed from it in 64-lane
    blocks), unless ``active_current`` (it holds ``state`` already); N x 0: sum from
    ``state``.  ``is_nominal``: the same for the nominal ties, rewritten when
    ``count_nominal``.  The engaged champions among row i's ties are summed over its
    ties to champions alone (``champion_start[i]:champion_start[i + 1]`` of
    ``champion_tie`` and ``champion_weight``, from ``population.champion_ties``).
    Returns whether ``is_active`` holds ``nxt`` when the pass ends (rewritten from it to
    recount the tally, see ``recounts``).
    """
    numba.literally(features)
    only_wants = (features & ONLY_WANTS) != 0
    plain_appeal = (features & PLAIN_APPEAL) != 0
    seats = (features & NO_SEATS) == 0
    plain_people = (features & PLAIN_PEOPLE) != 0
    adoption_rule = (features >> RULE_SHIFT) & 3  # a constant: one rule's formulas only
    one_run = (features & ONE_RUN) != 0
    # With wants the only fact, every seat granted and nobody reluctant, an employee's
    # move is its table row alone: the decision loop writes it, and the loop that looks
    # moves up, hands out seats and fades reluctance has nothing to do
    fused = only_wants and not seats and plain_appeal
    n, reps = state.shape
    groups = len(bounds) - 1
    packed, not_wanted, wanted = _PACKED, _NOT_WANTED, _WANTED
    transition_keys = keys[Draw.TRANSITION]
    fade_keys = keys[Draw.RELUCTANCE_FADES]
    week_bits = np.uint64(week)
    # in units of 1/64, exact; int32 holds any sum: a tie weighs at most 28 x 64 (schema)
    # and an employee has fewer than 10^6 ties, so a sum stays below 2^31
    engaged = np.zeros(max(is_active.shape[1], reps), dtype=np.int32)  # width, below
    nominal = np.zeros(max(is_active.shape[1], reps), dtype=np.int32)  # width, as engaged
    champions = np.zeros(reps, dtype=np.int32)
    # The engaged (and nominal) ties are counted from 0/1 bytes (``is_active``: N x
    # width, width a multiple of 64, the columns past R zero) in blocks of 64 lanes: LLVM
    # runs a block as one SIMD add, where a loop over R = 100 int8 lanes runs in 16-lane
    # pieces and a scalar tail (Bass: 0.3 ns an employee-week).  Width 0: too few
    # replicates for blocks to pay, counted from ``state`` directly.
    width = max(is_active.shape[1], reps)
    blocks = is_active.shape[1] // 64
    active_ties = aligned_bytes(width)  # one run's count (at most MAX_RUN ties)
    nominal_ties = aligned_bytes(width)  # zero unless count_nominal
    case = np.zeros(reps, dtype=np.int32)
    uniform = np.empty(reps)  # employee i's uniform in each replicate this week
    # rows read only by a mechanism in use: the others stand in with one constant row, so
    # a plan without training, an old tool, unfit employees or heterogeneity does not pay
    # for their arrays (an empty array is the engine's way of saying "not in use"); theta_i
    # and k_i are read only by their own rule
    fits_ = _or_row(fits, n, np.ones((1, reps), dtype=np.bool_))
    incumbent_ = _or_row(incumbent, n, np.zeros((1, reps), dtype=np.bool_))
    trained_ = _or_row(trained_until, n, np.full((1, reps), -1, dtype=trained_until.dtype))
    threshold_ = _or_row(threshold, n, np.zeros((1, reps)))
    k_needed_ = _or_row(k_needed, n, np.zeros((1, reps)))
    readiness_ = _or_row(readiness, n, np.ones((1, reps)))
    counted = count_nominal or count_champions
    in_blocks = blocks > 0
    # without blocks, the sums S reads are made in one read of each tie's row of ``state``
    state_sums = counted and not in_blocks
    # with one run a row, a sum is w_i x its count, read where it is used (see ONE_RUN)
    by_count = one_run and not state_sums
    # Fused, with the 0/1 bytes: the tally's engaged users per department are counted
    # afresh after the pass, from the bytes rewritten for ``nxt`` (next week's pass reads
    # them: ``active_current``), in SIMD lanes; and if every move this week was an aware
    # employee adopting a free tool (``others`` stays 0: always so in Bass), the moves
    # are as many as the engaged users gained.  Walking the replicates that change, one by
    # one, cost 0.3 ns an employee-week in Bass; the count, 0.05 (the rewrite was done at
    # the start of the pass before).  ``others`` is an int64 OR, not a bool, so that the
    # decision loop stays in SIMD lanes.
    recounts = fused and in_blocks
    # the week's moves, for the tally when the pass commits and does not recount
    moves = np.zeros((MOVES if not seats and not recounts else 0, reps), dtype=np.int64)
    others = np.int64(0)
    if in_blocks and not active_current:  # idempotent: 64-lane windows, the last overlapping
        _fill_flags(is_active, state, _ACTIVE)
    if in_blocks and count_nominal:
        _fill_flags(is_nominal, state, _NOMINAL)
    # Rows are read as array[i, c], never as a view array[i]: numba counts references to
    # each view with a call and an atomic add, about 18 of them an employee here (80 ns,
    # more than the work of 20 replicates), and LLVM does not remove them.
    for i in range(n):
        # with one run a row, the engaged sum is read as weight x count where it is used:
        # no int32 row to clear and fill (0.05 ns an employee-week in Bass)
        if state_sums or not one_run:
            engaged[:] = 0
        w_i = np.int32(0)  # the weight of row i's one run (0: no ties, and no count read)
        if state_sums or (count_nominal and not one_run):
            nominal[:] = 0
        if state_sums or count_champions:
            champions[:] = 0
        # tie by tie in runs of equal weight (population.TieRuns): each run's engaged ties
        # are counted in int8 lanes, then its weight multiplies the count once
        for run in range(row_runs[i], row_runs[i + 1]):
            w = run_weight[run]
            if state_sums:  # the three sums in one read of each row
                for nz in range(run_start[run], run_start[run + 1]):
                    j = tie_indices[nz]
                    for c in lanes(reps):  # unused sums cost a lane op: weighted 0 in S
                        active = state[j, c] == _ACTIVE
                        engaged[c] += w * np.int32(active)
                        nominal[c] += w * np.int32(state[j, c] == _NOMINAL)
                        champions[c] += w * np.int32(active & champion[j, c])
            else:  # a run's engaged ties, four to a pass over the rows
                active_ties[:] = 0
                first, last = run_start[run], run_start[run + 1]
                fours = first + (last - first) // 4 * 4
                for nz in range(first, fours, 4):
                    a, b = tie_indices[nz], tie_indices[nz + 1]
                    d2, d3 = tie_indices[nz + 2], tie_indices[nz + 3]
                    if in_blocks:  # from the 0/1 bytes (see above)
                        for blk in range(blocks):
                            for k in block(blk):  # one 64-lane SIMD add
                                active_ties[k] += (is_active[a, k] + is_active[b, k]) + (
                                    is_active[d2, k] + is_active[d3, k]
                                )
                    else:
                        for c in lanes(reps):
                            active_ties[c] += (
                                np.int8(state[a, c] == _ACTIVE) + np.int8(state[b, c] == _ACTIVE)
                            ) + (
                                np.int8(state[d2, c] == _ACTIVE) + np.int8(state[d3, c] == _ACTIVE)
                            )
                for nz in range(fours, last):
                    j = tie_indices[nz]
                    if in_blocks:
                        for blk in range(blocks):
                            for k in block(blk):
                                active_ties[k] += is_active[j, k]
                    else:
                        for c in lanes(reps):
                            active_ties[c] += np.int8(state[j, c] == _ACTIVE)
                if count_nominal:  # here always in blocks (without them: state_sums)
                    nominal_ties[:] = 0
                    for nz in range(first, last):
                        j = tie_indices[nz]
                        for blk in range(blocks):
                            for k in block(blk):
                                nominal_ties[k] += is_nominal[j, k]
                if one_run:
                    w_i = w
                else:  # all the width: whole vectors, no scalar tail (lanes past R: 0)
                    for c in lanes(width):
                        engaged[c] += w * np.int32(active_ties[c])
                    for c in lanes(width if count_nominal else 0):
                        nominal[c] += w * np.int32(nominal_ties[c])
        # the engaged champions among the ties: only the ties to champions are read
        if count_champions and not state_sums:
            for t in range(champion_start[i], champion_start[i + 1]):
                j, w = champion_tie[t], champion_weight[t]
                for c in lanes(reps):
                    champions[c] += w * np.int32(champion[j, c] & (state[j, c] == _ACTIVE))
        ws = workspace_of[i]
        d = degree[i]
        hashed = randomness.counter_hash(week_bits, np.uint64(i))
        for part in range(2):  # the row's uniforms first: a tight loop of integer lanes
            for c in window_of(0, reps, part):
                uniform[c] = randomness.uniform_from_hash(transition_keys[c], hashed)
        fit_i, incumbent_i, trained_i = _row(fits_, i), _row(incumbent_, i), _row(trained_, i)
        theta_i, k_i, ready_i = _row(threshold_, i), _row(k_needed_, i), _row(readiness_, i)
        for g in range(groups):
            r = params[g]
            nu, extra = r.mandate_nominal_weight, r.seeding_champion_weight - 1.0
            resistance, boost = r.mandate_resistance, r.training_boost
            strength, incumbent_on = r.incumbent_strength, r.incumbent_enabled
            p_i, q_i = p[g, i], q[g, i]
            for part in range(2):
                for c in window_of(bounds[g], bounds[g + 1], part):  # branch-free
                    lic = licensed[i, c]
                    u = uniform[c]
                    # by_count: w_i x count is the same integer as the int32 sum (it is
                    # below 2^31); the sums not counted this week are 0 exactly
                    if counted:
                        e_users = w_i * np.int32(active_ties[c]) if by_count else engaged[c]
                        n_users = w_i * np.int32(nominal_ties[c]) if by_count else nominal[c]
                        s_users = rules.weighted_users(
                            e_users / 64.0, n_users / 64.0, nu, champions[c] / 64.0, extra
                        )
                    elif by_count:  # both other sums 0: nu * 0 + extra * 0 adds +0.0 exactly
                        s_users = (w_i * np.int32(active_ties[c])) / 64.0
                    else:
                        s_users = engaged[c] / 64.0
                    share = rules.active_share(s_users, d)
                    # each skipped formula below gives exactly 1 (or 0, False) for such a run
                    multiplier = rules.value_multiplier(r, lic, covered[ws, c]) if seats else 1.0
                    if plain_appeal:
                        a = multiplier
                    else:
                        present = incumbent_on & incumbent_[incumbent_i, c]
                        held = rules.switching_cost(strength, share, present)
                        trained_boost = (
                            boost if rules.trained(week, trained_[trained_i, c]) else 0.0
                        )
                        reluctance = 1.0 if reluctant[i, c] else 0.0
                        a = rules.appeal(multiplier, resistance, reluctance, trained_boost, held)
                    discovers, wants, complies_, gives_up, lapses, returns = rules.week_facts(
                        r,
                        u,
                        share,
                        s_users,
                        a,
                        threshold_[theta_i, c],
                        k_needed_[k_i, c],
                        p_i,
                        q_i,
                        pushed[i, c],
                        1.0 if plain_people else readiness_[ready_i, c],
                        True if plain_people else fits_[fit_i, c],
                        only_wants,
                        adoption_rule,
                    )
                    st = state[i, c]
                    if fused:  # the row's move itself (see ``fused``)
                        row = _wants_only_row(not_wanted, wanted, st, lic, wants)
                        nx, intent = np.int8(row & np.uint64(7)), np.int8(row >> np.uint64(3))
                        nx = rules.seat_outcome(True) if intent != Intent.NONE else nx
                        nxt[i, c] = nx
                        # (no workspace pays under NO_SEATS; licences come from actions)
                        adopts_free = (
                            (st == _AWARE) & (nx == _ACTIVE) & (not lic) & (not paid[ws, c])
                        )
                        others |= np.int64((nx != st) & (not adopts_free))
                    elif only_wants:  # the table's row, by shifts (SIMD lanes)
                        case[c] = np.int32(_wants_only_row(not_wanted, wanted, st, lic, wants))
                    else:
                        case[c] = _case(
                            st, lic, discovers, wants, complies_, gives_up, lapses, returns
                        )
        for c in lanes(reps if seats else 0):  # the paywall's demand (eq. 8), in SIMD lanes
            blocked, free = rules.paywall_demand(state[i, c], licensed[i, c])
            blocked_unlicensed[ws, c] += np.int32(blocked)
            active_unlicensed[ws, c] += np.int32(free)
        for g in range(0 if fused else groups):
            r = params[g]
            cap, fade = np.int32(free_seats[g, ws]), p_fade[g]  # int32 like ``kept``
            # branch-free, so in SIMD lanes (the table lookup is a scalar load per lane):
            # a lane that keeps no seat adds 0 to the count and keeps its next state
            for c in columns(bounds, g):
                if only_wants:  # case holds the row itself: next state | intent << 3
                    nx, intent = np.int8(case[c] & 7), np.int8(case[c] >> 3)
                else:  # one lookup, its index known not negative (no wraparound check)
                    row = packed[np.uint32(case[c])]
                    nx, intent = np.int8(row & 7), np.int8(row >> 3)
                if seats:  # the keepers' seats (always kept otherwise)
                    keeps = intent == Intent.KEEP  # keepers first, lowest id first (eq. 9)
                    unlimited = rules.seats_unlimited(r, covered[ws, c], cap, banned[c])
                    granted = keeps & rules.gets_seat(unlimited, kept[ws, c], cap, banned[c])
                    kept[ws, c] += np.int32(granted)
                    nx = np.int8(rules.seat_outcome(granted)) if keeps else nx
                    request[i, c] = intent == Intent.REQUEST
                elif intent != Intent.NONE:  # every seat is free: keepers keep theirs,
                    nx = np.int8(rules.seat_outcome(True))  # requesters get one now (eq. 9)
                nxt[i, c] = nx
            if plain_appeal or fade == 0.0:  # nobody reluctant, or reluctance for good
                continue
            # eq. 13, rare (only a mandate makes anyone reluctant): a plain branch, in
            # the rows where someone is reluctant
            reluctant_here = 0
            for c in columns(bounds, g):
                reluctant_here += reluctant[i, c]
            if reluctant_here == 0:
                continue
            for c in columns(bounds, g):
                if reluctant[i, c]:
                    v = randomness.uniform_from_hash(fade_keys[c], hashed)
                    if rules.loses_reluctance(True, state[i, c], v, fade):
                        reluctant[i, c] = False
        if not seats and not recounts:  # the commit of such a run: the tally to keep
            _move_changed(
                moves, department_active, True, state, nxt, i, licensed, paid, ws, department[i]
            )
    if recounts:
        _fill_flags(is_active, nxt, _ACTIVE)
        _count_departments(department_active, is_active, department, reps)
        if others == 0:  # every move an aware employee adopting a free tool
            # the tally still holds last week's engaged users
            gained = department_active.sum(axis=0) - counts[State.ACTIVE]
            apply_move(counts, _ADOPTS_FREE, gained, per_seat)
        else:  # a move of another kind: every move, one at a time
            moves = np.zeros((MOVES, reps), dtype=np.int64)
            for i in range(n):
                ws = workspace_of[i]
                _move_changed(moves, department_active, False, state, nxt, i, licensed, paid, ws, 0)
    if not seats:
        apply_moves(counts, moves, per_seat)  # none if counted above
    return recounts


@njit(inline="always")
def _or_row(rows, n, stand_in):
    """``rows`` (one row per employee) where in use, else ``stand_in`` (one row)."""
    return rows if rows.shape[0] == n else stand_in


@njit(inline="always")
def _row(rows, i):
    """Employee i's row of an array from :func:`_or_row`: its own, or the one stand-in."""
    return i if rows.shape[0] > 1 else 0


@njit(inline="always")
def _fill_flags(flags, state, code):
    """``flags`` (N x a multiple of 64, the columns past R zero): 1 where ``state`` is
    ``code`` (the engaged bytes, the nominal bytes).  Idempotent 64-lane windows, the last
    overlapping the one before."""
    n, reps = state.shape
    for i in range(n):
        for part in range(2):
            for c in byte_window(reps, part):
                flags[i, c] = state[i, c] == code


@njit(inline="always")
def _count_departments(department_active, is_active, department, reps):
    """``department_active`` (departments x R) counted afresh from ``is_active``: sums in
    int16 lanes (:func:`_sum_departments`), added up every ``INT16_ROWS`` employees."""
    n = is_active.shape[0]
    department_active[:] = 0
    for first in range(0, n, INT16_ROWS):
        last = min(n, first + INT16_ROWS)
        sums = _sum_departments(is_active, department, first, last, len(department_active))
        for d in range(len(department_active)):
            for c in lanes(reps):
                department_active[d, c] += sums[d, c]


@_compile
def _sum_departments(is_active, department, first, last, departments):
    """Rows ``first:last`` of ``is_active`` summed per department in int16 lanes, 64 at a
    time, in int16 arithmetic (numba's own would widen each sum to int64: 20% slower)."""
    n, width = is_active.shape
    sums = np.zeros((departments, width), dtype=np.int16)
    for i in range(first, last):
        d = department[i]
        for blk in range(width // 64):
            for k in block(blk):  # one SIMD add (in int16: numba would widen to int64)
                sums[d, k] = np.int16(sums[d, k] + np.int16(is_active[i, k]))
    return sums


@njit(inline="always")
def _move_changed(
    moves, department_active, move_department, old, new, i, licensed, paid, ws, department
):
    """Counts the moves of employee i (``ws``: its workspace) in the replicates in which
    its state changes from ``old[i]`` to ``new[i]`` (``moves``, for
    :func:`sim.observe.apply_moves`), and, if ``move_department``, moves it in
    ``department_active`` (row ``department``)."""
    reps = new.shape[1]
    for lo in range(0, reps, 64):  # 64 replicates at a time: a bit for each that changes
        base = np.uint64(lo)
        bits = np.uint64(0)
        for k in range(np.uint64(min(64, reps - lo))):  # vectorized: compares in SIMD lanes
            bits |= np.uint64(new[i, base + k] != old[i, base + k]) << k
        while bits != np.uint64(0):  # the few that change (a listing of all 64 cost more)
            c = lo + trailing_zeros(bits)
            bits &= bits - np.uint64(1)
            was, now = old[i, c], new[i, c]
            moves[move_of(was, now, licensed[i, c], paid[ws, c]), c] += 1
            if move_department:
                change = np.int64(now == _ACTIVE) - np.int64(was == _ACTIVE)
                department_active[department, c] += change


@_compile
def decide_payment(
    params,
    bounds: np.ndarray,
    state: np.ndarray,
    paid: np.ndarray,
    deal: np.ndarray,
    banned: np.ndarray,
    holder: np.ndarray,
    value: np.ndarray,
    blocked_unlicensed: np.ndarray,
    active_unlicensed: np.ndarray,
    keys: np.ndarray,
    week: int,
) -> np.ndarray:
    """Eq. 8: W x R, the workspaces whose budget holder pays this week.  Workspace w's
    uniform in replicate c is draw (week, w) of stream ``keys[Draw.PAYMENT, c]``; group g's
    columns read ``params[g]`` and ``value[g]``."""
    n_ws, reps = paid.shape
    pays = np.zeros((n_ws, reps), dtype=np.bool_)
    payment_keys = keys[Draw.PAYMENT]
    week_bits = np.uint64(week)
    for w in range(n_ws):
        hashed = randomness.counter_hash(week_bits, np.uint64(w))
        for g in range(len(bounds) - 1):
            r = params[g]
            for c in columns(bounds, g):
                blocked = blocked_unlicensed[w, c]
                if rules.at_paywall(r, paid[w, c], deal[c], blocked, banned[c]):
                    v = randomness.uniform_from_hash(payment_keys[c], hashed)
                    holder_active = state[holder[w], c] == State.ACTIVE
                    pays[w, c] = rules.pays(
                        r, v, blocked, active_unlicensed[w, c], holder_active, value[g, w]
                    )
    return pays


@_compile
def grant_and_commit(
    params,
    bounds: np.ndarray,
    nxt: np.ndarray,
    request: np.ndarray,
    taken: np.ndarray,
    covered: np.ndarray,
    banned: np.ndarray,
    workspace_of: np.ndarray,
    free_seats: np.ndarray,
    licensed: np.ndarray,
    incumbent: np.ndarray,
    paid: np.ndarray,
    department: np.ndarray,
    per_seat: bool,
    trial_pending: np.ndarray,
    recount: bool,
    state: np.ndarray,
    has_free_user: np.ndarray,
    counts: np.ndarray,
    department_active: np.ndarray,
) -> None:
    """Phase 2: requesters get the seats keepers left (lowest id first), then commit.

    ``taken``: the seats taken per workspace and replicate, the keepers' (``kept`` of
    :func:`decide`); the requesters' are added to it.  Writes the new state into ``state``;
    flags, per workspace and replicate, whether it has an unlicensed engaged user now (only
    where ``trial_pending``: a workspace with a replicate whose trial has not started; a
    trial starts with its first free user); and brings the tally of the state (``counts``,
    ``department_active``, as :func:`sim.observe.tally` counts it) up to date: with
    ``recount`` they are left alone (the caller counts everyone afresh); otherwise they hold
    the tally of the state before this commit, and only the employees whose state changes
    are moved (licences and the old tool must not have changed since that tally, and
    workspaces that started paying must already be moved: :func:`sim.observe.repaid`).
    ``has_free_user`` comes in zeroed.  Group g's columns' seats follow ``params[g]`` and
    ``free_seats[g]``.
    """
    n, reps = nxt.shape
    moves = np.zeros((MOVES, reps), dtype=np.int64)  # the moves of the tally
    for i in range(n):
        ws = workspace_of[i]
        requests = 0
        for c in lanes(reps):  # vectorized: does anyone in this row ask for a seat?
            requests += request[i, c]
        for g in range(len(bounds) - 1 if requests > 0 else 0):
            cap = np.int32(free_seats[g, ws])  # int32 like ``taken``
            # branch-free, so in SIMD lanes: a lane that asks for nothing takes no seat
            for c in columns(bounds, g):
                asks = request[i, c]
                unlimited = rules.seats_unlimited(params[g], covered[ws, c], cap, banned[c])
                seat = asks & rules.gets_seat(unlimited, taken[ws, c], cap, banned[c])
                taken[ws, c] += np.int32(seat)
                nxt[i, c] = np.int8(rules.seat_outcome(seat)) if asks else nxt[i, c]
        if not recount:  # element by element, as in decide: a view costs reference counting
            _move_changed(
                moves, department_active, True, state, nxt, i, licensed, paid, ws, department[i]
            )
        for c in lanes(reps):
            state[i, c] = nxt[i, c]
        if trial_pending[ws]:
            for c in lanes(reps):
                has_free_user[ws, c] |= rules.free_user(nxt[i, c], licensed[i, c])
    apply_moves(counts, moves, per_seat)  # none at a recount


@_compile
def start_trials(trial_start: np.ndarray, has_free_user: np.ndarray, week: int) -> None:
    """Workspaces whose trial starts this week (their first free user) record ``week``."""
    n_ws, reps = trial_start.shape
    for w in range(n_ws):
        for c in range(reps):
            if rules.trial_starts(trial_start[w, c], has_free_user[w, c]):
                trial_start[w, c] = week


@_compile
def sign_deals(params, bounds, deal: np.ndarray, engaged: np.ndarray, n: int) -> np.ndarray:
    """Eq. 7 per replicate: which replicates sign the enterprise deal this week."""
    signs = np.zeros(len(deal), dtype=np.bool_)
    for g in range(len(bounds) - 1):
        for c in columns(bounds, g):
            signs[c] = rules.deal_signed(params[g], deal[c], engaged[c], n)
    return signs


@_compile
def apply_action(
    state: np.ndarray,
    licensed: np.ndarray,
    reluctant: np.ndarray,
    pushed: np.ndarray,
    in_scope: np.ndarray,
    fires: np.ndarray,
    pushes: bool,
) -> None:
    """Eq. 10 for one mandate or licence action, in the replicates where it fires
    (``fires``: R), for every employee in scope."""
    n, reps = state.shape
    for i in range(n):
        if not in_scope[i]:
            continue
        for c in range(reps):
            if fires[c]:
                new_state, licenses, resists, push = rules.action_effect(state[i, c], True, pushes)
                state[i, c] = new_state
                licensed[i, c] |= licenses
                reluctant[i, c] |= resists
                pushed[i, c] |= push


@_compile
def apply_training(
    state: np.ndarray,
    trained_until: np.ndarray,
    in_scope: np.ndarray,
    fires: np.ndarray,
    week: int,
    weeks: int,
    newly_trained: np.ndarray,
) -> None:
    """Eq. 10b for one training action where it fires: unaware employees in scope become
    aware and everyone in scope is boosted until ``week + weeks``; adds the employees not
    under a boost already to ``newly_trained`` (R)."""
    n, reps = state.shape
    for i in range(n):
        if not in_scope[i]:
            continue
        for c in range(reps):
            if fires[c]:
                newly_trained[c] += not rules.trained(week + 1, trained_until[i, c])
                new_state, until = rules.training_effect(state[i, c], week, weeks)
                state[i, c] = new_state
                trained_until[i, c] = until


@_compile
def apply_sunset(incumbent: np.ndarray, in_scope: np.ndarray, fires: np.ndarray) -> None:
    """A sunset action where it fires: the old tool is gone for everyone in scope."""
    n, reps = incumbent.shape
    for i in range(n):
        if in_scope[i]:
            for c in range(reps):
                if fires[c]:
                    incumbent[i, c] = False


@_compile
def apply_ban(state: np.ndarray, licensed: np.ndarray, bans: np.ndarray) -> None:
    """Eq. 14, a ban where ``bans`` (R): unlicensed engaged users are blocked."""
    n, reps = state.shape
    for i in range(n):
        for c in range(reps):
            if bans[c]:
                state[i, c] = rules.ban_effect(state[i, c], licensed[i, c])
