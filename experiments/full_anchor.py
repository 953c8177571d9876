"""A third anchor for the engine benchmark (issue 15): the every-mechanism week written by
hand, to measure what its arithmetic costs outside the batched engine.

:func:`full_kernel` is a plain numba kernel in the style of ``anchors.bass_kernel`` (CSR
adjacency, one column per replicate, the counter-based random numbers made inside it) that
evaluates, for every employee and replicate, the model's decision with every mechanism on
(docs/model.md, eqs. S, 1, 1b, 2-5, 4b, under the ``linear`` rule): the weighted engaged
share with champions, the value multiplier, the old tool's switching cost, training and
reluctance in the appeal, and the six facts of ``rules.week_facts`` in float64, then the
transition table.  It leaves out everything else the engine does in a week: seats are
always granted (no seat caps, trial cover, paywall or payments), nominal users do not
count in S, reluctance never fades, and there is no tally, no event (no licence, mandate,
training or sunset: the arrays keep their week-0 values) and no record.  So it is a
*lower bound* on the every-mechanism pass, written as a competent hand would write it
(the uniforms and the table lookup in loops of their own, so that the decision runs in
SIMD lanes), not a model: its trajectories are not adoptsim's, and its mix of states (which
the by-state run's cost depends on) is not the engine's either.

Three ways to run it, for ``experiments/bench_engines.py``:

* ``with_ties``: the whole decision, the weighted sums over ties included;
* without ties (``indptr`` of zeros): the per-cell formulas alone (with the random
  numbers, the engaged bytes rewritten each week and the table lookup);
* ``by_state``: unaware cells (most of them in a run's first months) take only their one
  formula, discovery, and the others are listed and evaluated one by one; this is the
  "evaluate only each lane's own state's formulas" idea, measured.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import randomness
from sim.rules import Draw, Intent, State, next_state

ACTIVE = np.int8(State.ACTIVE)


def transition_rows() -> np.ndarray:
    """``rules.next_state`` tabulated by hand: row state * 128 + the 7 facts' bits (licensed,
    discovers, wants, complies, gives up, lapses, returns, high bit first); a seat asked for
    is a seat granted (the anchor has no seat caps)."""
    rows = np.empty(len(State) * 128, dtype=np.int8)
    for state in State:
        for bits in range(128):
            facts = [bool(bits >> shift & 1) for shift in range(6, -1, -1)]
            nxt, intent = next_state(state, *facts)
            rows[state * 128 + bits] = ACTIVE if intent != Intent.NONE else nxt
    return rows


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _row_of(u, share, lic, st, present, boosted, reluctant, ready, fits, pushed, k):
    """The table row of one cell: eqs. 1, 1b, 2-5 and 4b under the linear rule with every
    mechanism on (``rules.week_facts`` with discovery, abandonment, win-back and freemium
    enabled; ``tests/test_full_anchor.py``), with the constants ``k`` (a
    tuple of 13 floats, unpacked: an array slice in the loop would cost a reference count
    a cell and keep it out of SIMD lanes)."""
    free_value, strength, boost, resistance, onboarding, ext, wom = k[:7]
    compliance, rate, standalone, winback, p, q = k[7:]
    multiplier = 1.0 if lic else free_value
    switching = 1.0 + strength * (1.0 - share) * (1.0 if present else 0.0)
    trained = boost if boosted else 0.0
    appeal = multiplier * (1.0 + trained) / (switching * (1.0 + resistance * reluctant))
    p_want = onboarding * ready * appeal * (p + q * share)
    value = standalone + (1.0 - standalone) * share
    discovers = u < ext + wom * share
    wants = fits & (u < p_want)
    complies = pushed & (u < p_want + compliance * (1.0 - p_want))
    gives_up = u < rate
    lapses = u < rate * (1.0 - appeal * value)
    returns = fits & (u < winback * appeal * value)
    return (
        np.int32(st) * 128
        + np.int32(lic) * 64
        + np.int32(discovers) * 32
        + np.int32(wants) * 16
        + np.int32(complies) * 8
        + np.int32(gives_up) * 4
        + np.int32(lapses) * 2
        + np.int32(returns)
    )


@njit(cache=True, nogil=True, error_model="numpy")
def full_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    weight: np.ndarray,
    degree: np.ndarray,
    champion: np.ndarray,
    state: np.ndarray,
    licensed: np.ndarray,
    pushed: np.ndarray,
    reluctant: np.ndarray,
    incumbent: np.ndarray,
    trained_until: np.ndarray,
    readiness: np.ndarray,
    fits: np.ndarray,
    constants: np.ndarray,
    extra: float,
    keys: np.ndarray,
    weeks: int,
    table: np.ndarray,
    by_state: bool,
) -> None:
    """``weeks`` weeks of the every-mechanism decision on N x R ``state``, in place.

    ``weight``: each tie's weight in 1/64 (int32, as the engine sums them); ``degree``:
    each row's weighted degree; ``extra``: champion weight − 1; ``constants``: the 13
    floats :func:`_row_of` reads, p and q last.  Employee i's uniform in replicate c and
    week t is draw (t, i) of stream ``keys[c]``.
    """
    n, reps = state.shape
    nxt = np.empty_like(state)
    engaged = np.empty((n, reps), dtype=np.int8)
    users = np.zeros(reps, dtype=np.int32)
    champions = np.zeros(reps, dtype=np.int32)
    uniform = np.empty(reps)
    row = np.empty(reps, dtype=np.int32)
    listed = np.empty(reps, dtype=np.int32)
    k = (
        constants[0], constants[1], constants[2], constants[3], constants[4], constants[5],
        constants[6], constants[7], constants[8], constants[9], constants[10], constants[11],
        constants[12],
    )  # fmt: skip
    ext, wom = constants[5], constants[6]
    for week in range(1, weeks + 1):
        for i in range(n):
            for c in range(reps):
                engaged[i, c] = state[i, c] == ACTIVE
        week_bits = np.uint64(week)
        for i in range(n):
            users[:] = 0
            champions[:] = 0
            for nz in range(indptr[i], indptr[i + 1]):
                j, w = indices[nz], weight[nz]
                for c in range(reps):
                    users[c] += w * np.int32(engaged[j, c])
                    champions[c] += w * np.int32(engaged[j, c] & champion[j, c])
            d = degree[i] if degree[i] > 0.0 else 1.0  # no ties: the sums are 0, s = 0
            hashed = randomness.counter_hash(week_bits, np.uint64(i))
            for c in range(reps):
                uniform[c] = randomness.uniform_from_hash(keys[c], hashed)
            if by_state:  # unaware: discovery alone; the others listed, one by one
                listed_count = 0
                for c in range(reps):
                    st = state[i, c]
                    share = (users[c] / 64.0 + extra * (champions[c] / 64.0)) / d
                    nxt[i, c] = np.int8(uniform[c] < ext + wom * share) if st == 0 else st
                    listed[listed_count] = c
                    listed_count += np.int32(st != 0)
                for t in range(listed_count):
                    c = listed[t]
                    s_users = users[c] / 64.0 + extra * (champions[c] / 64.0)
                    nxt[i, c] = table[
                        _row_of(
                            uniform[c], s_users / d, licensed[i, c], state[i, c],
                            incumbent[i, c], week <= trained_until[i, c],
                            1.0 if reluctant[i, c] else 0.0, readiness[i, c], fits[i, c],
                            pushed[i, c], k,
                        )
                    ]  # fmt: skip
                continue
            for c in range(reps):
                s_users = users[c] / 64.0 + extra * (champions[c] / 64.0)
                row[c] = _row_of(
                    uniform[c], s_users / d, licensed[i, c], state[i, c],
                    incumbent[i, c], week <= trained_until[i, c],
                    1.0 if reluctant[i, c] else 0.0, readiness[i, c], fits[i, c],
                    pushed[i, c], k,
                )  # fmt: skip
            for c in range(reps):
                nxt[i, c] = table[row[c]]
        state[:, :] = nxt


def full_inputs(model, with_ties: bool = True) -> tuple:
    """:func:`full_kernel`'s arguments but ``weeks`` and ``by_state``, from a batched model
    of the every-mechanism scenario at its start (its org, tie weights, champions, traits
    and parameters; one column group).  Not timed by the caller."""
    n, reps = model.state.shape
    ties = model.ties
    weight = np.repeat(ties.run_weight, np.diff(ties.run_start)).astype(np.int32)
    indptr = ties.run_start[ties.row_runs].astype(np.int64)
    if not with_ties:
        indptr = np.zeros_like(indptr)
    r = model.block[0]

    def full(values, fill, dtype):  # the engine keeps arrays not in use empty
        return values if values.shape == (n, reps) else np.full((n, reps), fill, dtype=dtype)

    constants = np.array(
        [
            r.freemium_free_value,
            r.incumbent_strength,
            r.training_boost,
            r.mandate_resistance,
            r.tool_onboarding,
            r.discovery_external_rate,
            r.discovery_word_of_mouth,
            r.mandate_compliance,
            r.abandonment_rate,
            r.tool_standalone_value,
            r.winback_rate,
            float(model.p[0].mean()),
            float(model.q[0].mean()),
        ]
    )
    return (
        indptr,
        ties.indices.astype(np.int64),
        weight,
        model.degree,
        model.champion,
        model.state.copy(),
        model.licensed,
        model.pushed,
        model.reluctant,
        full(model.incumbent, True, bool),
        full(model.trained_until, -1, np.int32),
        full(model.readiness, 1.0, np.float64),
        full(model.fits, True, bool),
        constants,
        r.seeding_champion_weight - 1.0,
        model.keys[Draw.TRANSITION].copy(),
    )
