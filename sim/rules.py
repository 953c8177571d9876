"""The adoption rules as pure formulas, shared by both engines.

Each function takes plain numbers (one employee, one week) and uses only ``+ - * /``,
comparisons and ``max``.  The reference engine calls them as plain Python; the batched
engine compiles the very same functions with numba (``sim.kernels``: IEEE float64, no
fast-math), so both engines make bit-identical decisions.  ``docs/model.md`` states each
formula; keep the two in step.

Symbols (per employee i, read at the end of the previous week):
    S_i  weighted number of users among the neighbours:
         sum_j w_ij [j active] + nominal_weight * sum_j w_ij [j nominal]
    D_i  weighted degree, sum_j w_ij
    s_i  S_i / D_i, the weighted active share (0 when D_i = 0)
    a_i  appeal: value multiplier / (1 + resistance * reluctant_i)
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class State(IntEnum):
    """Where an employee stands with the tool."""

    UNAWARE = 0
    AWARE = 1
    ACTIVE = 2  # engaged user
    NOMINAL = 3  # licensed by mandate, not engaged (shelfware)
    LAPSED = 4  # stopped using it, for good
    BLOCKED = 5  # wants a seat, the workspace's free plan is full (paywall)


STATE_NAMES = tuple(s.name.lower() for s in State)

# Rogers (1962/2003) adopter categories: innovators, early adopters, early majority,
# late majority, laggards, as cumulative population shares.
ROGERS_CUMULATIVE = np.array([0.025, 0.16, 0.50, 0.84, 1.0])

# Peer-influence rule families, as the integer codes the rule functions take.
LINEAR, THRESHOLD, COUNT = 0, 1, 2
RULES = ("linear", "threshold", "count")


def rule_code(name: str) -> int:
    """'linear' -> LINEAR, 'threshold' -> THRESHOLD, 'count' -> COUNT."""
    return RULES.index(name)


def weighted_users(weighted_active, weighted_nominal, nominal_weight):
    """S = S_active + nominal_weight * S_nominal.

    Both sums are multiples of 1/64 (exact in float32 and float64), and so is
    ``nominal_weight``; the product and the sum are exact in float64, so both engines agree
    bit for bit however they summed.
    """
    return weighted_active + nominal_weight * weighted_nominal


def active_share(weighted_active, weighted_degree):
    """s = S / D, and 0 where an employee has no ties."""
    return weighted_active / weighted_degree if weighted_degree > 0.0 else 0.0


def appeal(value_multiplier, resistance, reluctant):
    """a = m / (1 + resistance * reluctant): how attractive the tool is to this employee."""
    return value_multiplier / (1.0 + resistance * reluctant)


def awareness_probability(external_rate, word_of_mouth, share):
    """P(unaware -> aware) = external_rate + word_of_mouth * s."""
    return external_rate + word_of_mouth * share


def want_probability(rule, appeal_, p, q, share):
    """P_w, the random part of wanting the tool: a * (p + q * s) for linear, a * p otherwise."""
    if rule == LINEAR:
        return appeal_ * (p + q * share)
    return appeal_ * p


def wants_to_adopt(rule, u, p_want, appeal_, share, weighted_active, threshold, k_needed):
    """Whether an aware (or nominal) employee chooses to use the tool this week.

    linear:    u < P_w                                   (Bass on a network)
    threshold: a * s >= theta_i   or  u < P_w            (Granovetter / Watts)
    count:     a * S >= k_i       or  u < P_w            (complex contagion)

    Written without branches (``&``, ``|`` on booleans) so that the compiled batched pass
    can evaluate it for many replicates at once in SIMD lanes.
    """
    pushed = ((rule == THRESHOLD) & (appeal_ * share >= threshold)) | (
        (rule == COUNT) & (appeal_ * weighted_active >= k_needed)
    )
    return pushed | (u < p_want)


def complies(u, p_want, compliance):
    """A licensed employee who does not want the tool uses it nominally: u < P_w + c (1 - P_w).

    Same uniform as the adoption decision: given u >= P_w, u is uniform on [P_w, 1), so
    this has probability ``compliance``, independent of the adoption draw's outcome.
    """
    return u < p_want + compliance * (1.0 - p_want)


def lapse_probability(rate, appeal_, standalone_value, share):
    """P(active -> lapsed) = rate * (1 - a * (v0 + (1 - v0) * s)): users lapse as value falls."""
    return rate * (1.0 - appeal_ * (standalone_value + (1.0 - standalone_value) * share))


def pay_probability(decision_rate, price, value, demand, demand_scale, holder_boost, holder_active):
    """P(budget holder pays this week) at the paywall.

    = decision_rate * max(0, 1 - price / value) * D / (D + D_half) * (1 + boost * [holder active])
    """
    surplus = max(1.0 - price / value, 0.0)
    pressure = demand / (demand + demand_scale)
    return decision_rate * surplus * pressure * (1.0 + holder_boost * holder_active)
