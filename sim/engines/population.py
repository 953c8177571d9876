"""Who the employees are at week 0: traits, workspaces, tie weights and champions.

Shared by both engines, so that they start from the very same population.  Everything
here is a pure function of the org, the configuration and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sim import randomness
from sim.org import Org
from sim.rules import ROGERS_CUMULATIVE
from sim.scenario import Adoption, Config, TieWeights


@dataclass(frozen=True)
class Traits:
    """Per-employee draws made once per replicate, before week 1."""

    multiplier: np.ndarray  # heterogeneity multiplier mu_i (thresholds and k scale with it)
    threshold: np.ndarray  # theta_i = threshold * mu_i
    k_needed: np.ndarray  # k_i = k * mu_i
    keys: np.ndarray  # uniform tie-breaking keys (random seeding order)


def draw_traits(seed: int, replicate: int, n: int, adoption: Adoption) -> Traits:
    """One replicate's traits, from its week-0 streams (randomness contract v2): employee
    i's adopter category, normal deviate and seeding key are draws i of their purposes."""
    u = randomness.uniforms(seed, replicate, randomness.ADOPTER_CATEGORY, 0, n)
    z = randomness.standard_normals(seed, replicate, randomness.HETEROGENEITY_NORMAL, 0, n)
    keys = randomness.uniforms(seed, replicate, randomness.SEEDING_KEYS, 0, n)
    if adoption.heterogeneity == "rogers":
        category = np.searchsorted(ROGERS_CUMULATIVE, u, side="right")
        multiplier = np.asarray(adoption.rogers_multipliers, dtype=np.float64)[category]
    elif adoption.heterogeneity == "normal":
        multiplier = np.maximum(0.0, 1.0 + adoption.spread * z)
    else:
        multiplier = np.ones(n)
    return Traits(
        multiplier=multiplier,
        threshold=adoption.threshold * multiplier,
        k_needed=adoption.k * multiplier,
        keys=keys,
    )


def edge_weight(kind: str, weights: TieWeights) -> float:
    return float(getattr(weights, kind))


def adjacency(org: Org, weights: TieWeights) -> sp.csr_matrix:
    """Symmetric N x N CSR matrix of tie weights w_ij (by edge kind)."""
    rows, cols, vals = [], [], []
    for a, b, kind in org.graph.edges(data="kind", default="informal"):
        w = edge_weight(kind, weights)
        rows += [a, b]
        cols += [b, a]
        vals += [w, w]
    n = org.n
    matrix = sp.csr_matrix((np.array(vals, dtype=np.float64), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


@dataclass(frozen=True)
class Workspaces:
    """The units that share a free plan: each employee's workspace and each one's budget holder."""

    of_agent: np.ndarray  # int, workspace index per employee
    holder: np.ndarray  # int, employee id of each workspace's budget holder

    @property
    def count(self) -> int:
        return len(self.holder)


def workspaces(org: Org, scope: str) -> Workspaces:
    """Workspaces by scope and their budget holders.

    team: the manager's team, held by that manager; department: held by its most senior
    member; org: one workspace held by the top of the hierarchy.
    """
    if scope == "team":
        leaders, of_agent = np.unique(org.team, return_inverse=True)
        return Workspaces(of_agent=of_agent.astype(np.int64), holder=leaders.astype(np.int64))
    if scope == "department":
        return Workspaces(of_agent=org.department.copy(), holder=org.department_heads())
    if scope == "org":
        return Workspaces(of_agent=np.zeros(org.n, dtype=np.int64), holder=np.array([org.head]))
    raise ValueError(f"unknown workspace scope {scope!r}")


def choose_champions(org: Org, strategy: str, count: int, keys: np.ndarray) -> np.ndarray:
    """The employees active at week 0, sorted by id.

    random: the ``count`` lowest keys; hubs: highest degree; brokers: highest betweenness;
    managers: managers in key order; team: whole teams (leader and direct reports), teams
    taken in their leader's key order until ``count`` is reached (at least one team).
    Ties are broken by the replicate's keys.
    """
    count = min(count, org.n)
    if strategy == "none" or count == 0:
        return np.array([], dtype=np.int64)
    if strategy == "random":
        order = np.argsort(keys, kind="stable")
    elif strategy == "hubs":
        order = np.lexsort((keys, -org.degree()))
    elif strategy == "brokers":
        order = np.lexsort((keys, -org.betweenness()))
    elif strategy == "managers":
        order = np.lexsort((keys, ~org.is_manager))
    elif strategy == "team":
        leaders = np.flatnonzero(org.is_manager)
        # A manager leads its own team and sits in its boss's team: count each person once.
        chosen: set[int] = set()
        for leader in leaders[np.argsort(keys[leaders], kind="stable")]:
            chosen.add(int(leader))
            chosen.update(np.flatnonzero(org.manager == leader).tolist())
            if len(chosen) >= count:
                break
        return np.array(sorted(chosen), dtype=np.int64)
    else:
        raise ValueError(f"unknown seeding strategy {strategy!r}")
    return np.sort(order[:count]).astype(np.int64)


def mandate_scope(org: Org, config: Config) -> np.ndarray:
    """Boolean mask of the employees a mandate licenses."""
    scope = config.mandate.scope
    if scope == "org":
        return np.ones(org.n, dtype=bool)
    wanted = [org.department_names.index(d) for d in scope]
    return np.isin(org.department, wanted)
