"""Betweenness centrality on a CSR adjacency, compiled: who the brokers are.

Brandes' (2001) algorithm for unweighted, undirected graphs: one breadth-first search per
source, then dependencies accumulated back along the search order.  With every node a
source it is exact; with k sources drawn at random (Brandes & Pich 2007) it is an unbiased
estimate, scaled by n / k.  Values are normalised as networkx normalises them
(``betweenness_centrality(G, normalized=True)``), and ``tests/test_org.py`` checks them
against networkx: equal when exact, and the same top brokers when sampled.

Written for the ``brokers`` seeding strategy of large orgs: networkx spends minutes on a
million-person org where this takes seconds (no Python per edge).
"""

from __future__ import annotations

import numpy as np
from numba import njit

import sim.jit  # noqa: F401  (cached passes: numba's cache saved under a lock)

# edge visits one estimate may spend: every node is a source while n * edges stays below
# this, otherwise as many sampled sources as fit (at least MIN_SOURCES)
EDGE_VISIT_BUDGET = 200_000_000
MIN_SOURCES = 64
# sampled sources are searched in this many blocks, in parallel threads, and the blocks'
# sums added in block order: the same numbers on any number of cores
SAMPLE_BLOCKS = 8


@njit(cache=True, nogil=True)
def _accumulate(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Sum over ``sources`` of each node's dependency (Brandes 2001, unweighted)."""
    n = len(indptr) - 1
    centrality = np.zeros(n)
    sigma = np.zeros(n)  # shortest paths from the source (float: no overflow)
    dist = np.full(n, -1, dtype=np.int64)
    delta = np.zeros(n)
    order = np.empty(n, dtype=np.int64)  # BFS order, reused as the stack
    for s in sources:
        head, tail = 0, 1
        order[0] = s
        sigma[s] = 1.0
        dist[s] = 0
        while head < tail:
            v = order[head]
            head += 1
            for nz in range(indptr[v], indptr[v + 1]):
                w = indices[nz]
                if dist[w] < 0:
                    dist[w] = dist[v] + 1
                    order[tail] = w
                    tail += 1
                if dist[w] == dist[v] + 1:
                    sigma[w] += sigma[v]
        for k in range(tail - 1, -1, -1):
            w = order[k]
            for nz in range(indptr[w], indptr[w + 1]):
                v = indices[nz]
                if dist[v] == dist[w] - 1:
                    delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w])
            if w != s:
                centrality[w] += delta[w]
        for k in range(tail):  # reset only what this search touched
            w = order[k]
            sigma[w] = 0.0
            dist[w] = -1
            delta[w] = 0.0
    return centrality


def sources_for(n: int, edges: int, seed: int) -> np.ndarray | None:
    """Every node (None: exact) while n x edges is within the budget, else a seeded
    sample of max(MIN_SOURCES, budget / edges) nodes."""
    if n * max(edges, 1) <= EDGE_VISIT_BUDGET:
        return None
    k = min(n, max(MIN_SOURCES, EDGE_VISIT_BUDGET // max(edges, 1)))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)


def betweenness(indptr: np.ndarray, indices: np.ndarray, seed: int = 0) -> np.ndarray:
    """Normalised betweenness of every node of a symmetric CSR graph (exact, or estimated
    from seeded sources on large graphs; see :func:`sources_for`)."""
    n = len(indptr) - 1
    if n < 3:
        return np.zeros(n)
    edges = len(indices) // 2
    sources = sources_for(n, edges, seed)
    indptr, indices = indptr.astype(np.int64), indices.astype(np.int64)
    if sources is None:
        raw = _accumulate(indptr, indices, np.arange(n, dtype=np.int64))
    else:
        raw = _accumulate_in_blocks(indptr, indices, sources)
    scale = 1.0 / ((n - 1) * (n - 2))  # networkx's normalisation (undirected, normalized)
    if sources is not None:
        scale *= n / len(sources)
    return raw * scale


def _accumulate_in_blocks(indptr: np.ndarray, indices: np.ndarray, sources: np.ndarray):
    """:func:`_accumulate` over SAMPLE_BLOCKS blocks of ``sources`` in threads (it releases
    the GIL), summed in block order."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    blocks = np.array_split(sources, SAMPLE_BLOCKS)
    setting = os.environ.get("ADOPTSIM_THREADS", "").strip()  # as the batched engine reads it
    usable = len(os.sched_getaffinity(0))
    threads = int(setting) if setting.isdigit() and int(setting) > 0 else usable
    with ThreadPoolExecutor(max_workers=min(threads, len(blocks))) as pool:
        parts = list(pool.map(lambda block: _accumulate(indptr, indices, block), blocks))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
