"""Two anchors for the engine benchmark (issue 15): the same Bass dynamics written the plain
way, so that adoptsim's engines are measured against something outside themselves.

* :class:`PlainBassModel`: a Mesa 3 model as Mesa's own examples write one (the virus on
  a network): one ``FixedAgent`` per node on a ``mesa.discrete_space.Network``, each
  agent counting its active neighbours every step, a staged (synchronous) update.
* :func:`bass_kernel`: a hand-written numba kernel on a CSR adjacency with one column per
  replicate and the counter-based random numbers of ``sim.randomness`` made inside the
  kernel: about the least work a compiled pass can do for these dynamics.

The dynamics, for every employee i that is not yet active, each week:
``active if u < p + q * (active neighbours of i) / (neighbours of i)``; active is for good.
This is the batched engine's ``linear`` rule with discovery, freemium, mandates, the deal
and abandonment off, unit tie weights and no heterogeneity (``bass_config``), so the three
do the same work.
"""

from __future__ import annotations

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import FixedAgent, Network
from numba import njit

from sim import randomness
from sim.rules import Draw


class PlainAdopter(FixedAgent):
    """One employee: active or not; adopts with probability p + q * active share."""

    def __init__(self, model: PlainBassModel, cell):
        super().__init__(model)
        self.cell = cell
        self.active = False
        self._next = False

    def step(self) -> None:
        if self.active:
            self._next = True
            return
        neighbours = list(self.cell.neighborhood.agents)
        share = sum(n.active for n in neighbours) / len(neighbours) if neighbours else 0.0
        self._next = self.random.random() < self.model.p + self.model.q * share

    def advance(self) -> None:
        self.active = self._next


class PlainBassModel(mesa.Model):
    """The Bass model on a network, written as Mesa's examples write models."""

    def __init__(self, graph: nx.Graph, p: float, q: float, seed: int = 0):
        super().__init__(seed=seed)
        self.p, self.q = p, q
        self.network = Network(graph, random=self.random)
        for cell in self.network.all_cells:
            PlainAdopter(self, cell)

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")

    @property
    def active(self) -> int:
        return sum(a.active for a in self.agents)


@njit(cache=True, nogil=True)
def bass_kernel(
    indptr: np.ndarray,
    indices: np.ndarray,
    p: float,
    q: float,
    keys: np.ndarray,
    weeks: int,
    state: np.ndarray,
) -> None:
    """``weeks`` weeks of the Bass dynamics on N x R ``state`` (0/1, int8), in place.

    Employee i's uniform in replicate c and week t is draw (t, i) of stream ``keys[c]``
    (randomness contract v2), computed here; one pass per week reads last week's states.
    """
    n, reps = state.shape
    nxt = np.empty_like(state)
    count = np.zeros(reps, dtype=np.int32)
    for week in range(1, weeks + 1):
        week_bits = np.uint64(week)
        for i in range(n):
            count[:] = 0
            for nz in range(indptr[i], indptr[i + 1]):
                row = state[indices[nz]]
                for c in range(reps):
                    count[c] += row[c]
            degree = indptr[i + 1] - indptr[i]
            hashed = randomness.counter_hash(week_bits, np.uint64(i))
            own = state[i]
            out = nxt[i]
            for c in range(reps):
                share = count[c] / degree if degree > 0 else 0.0
                u = randomness.uniform_from_hash(keys[c], hashed)
                out[c] = own[c] | np.int8(u < p + q * share)
        state[:] = nxt


def run_bass_kernel(graph: nx.Graph, p: float, q: float, seed: int, replicates: int, weeks: int):
    """The kernel on ``graph`` (CSR built here, not timed by the caller's kernel timer)."""
    import scipy.sparse as sp

    matrix = sp.csr_matrix(nx.to_scipy_sparse_array(graph, nodelist=range(graph.number_of_nodes())))
    keys = randomness.stream_keys(seed, list(range(replicates)))[Draw.TRANSITION].copy()
    state = np.zeros((graph.number_of_nodes(), replicates), dtype=np.int8)
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), keys, state


def bass_config(p: float = 0.01, q: float = 0.3) -> dict:
    """A scenario table for adoptsim's engines with the anchors' dynamics."""
    return {
        "discovery": {"enabled": False},
        "freemium": {"enabled": False},
        "mandate": {"enabled": False},
        "enterprise": {"enabled": False},
        "abandonment": {"enabled": False},
        "winback": {"enabled": False},
        "seeding": {"strategy": "none", "count": 0},
        "adoption": {
            "rule": "linear",
            "p": p,
            "q": q,
            "heterogeneity": "none",
            "market_potential": 1.0,
        },
        "org": {"tie_weights": {"manager": 1.0, "peer": 1.0, "informal": 1.0}},
    }
