"""Org graphs: seeded generators, the hierarchy's formal structure, and the Krackhardt data."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from sim import org as orgs
from sim.org import KRACKHARDT_DIR, TIE_KINDS, build_org
from sim.scenario import OrgSpec

NODE_ATTRS = {"level", "department", "team", "manager", "is_manager"}


def edges(org) -> set[tuple[int, int, str]]:
    return {(min(a, b), max(a, b), k) for a, b, k in org.graph.edges(data="kind")}


def node_attrs(org) -> dict[int, dict]:
    return {i: dict(d) for i, d in org.graph.nodes(data=True)}


def same_org(a, b) -> bool:
    return (
        edges(a) == edges(b)
        and node_attrs(a) == node_attrs(b)
        and a.department_names == b.department_names
        and all(
            np.array_equal(getattr(a, f), getattr(b, f))
            for f in ("department", "team", "manager", "level")
        )
    )


# name -> (direct call taking a seed, OrgSpec fields, random?)
GENERATORS = {
    "hierarchy": (
        lambda s: orgs.hierarchy(120, span=4, departments=3, informal_ties=3.0, seed=s),
        dict(n=120, span=4, departments=3, informal_ties=3.0, cross_department_share=0.25),
        True,
    ),
    "complete": (
        lambda s: orgs.complete(30, departments=2, team_size=5, seed=s),
        dict(n=30, departments=2, team_size=5),
        False,
    ),
    "erdos_renyi": (
        lambda s: orgs.erdos_renyi(100, 6.0, departments=2, team_size=8, seed=s),
        dict(n=100, mean_degree=6.0, departments=2, team_size=8),
        True,
    ),
    "watts_strogatz": (
        lambda s: orgs.watts_strogatz(80, 4, 0.3, departments=2, team_size=8, seed=s),
        dict(n=80, k=4, rewire=0.3, departments=2, team_size=8),
        True,
    ),
    "barabasi_albert": (
        lambda s: orgs.barabasi_albert(80, 2, departments=2, team_size=8, seed=s),
        dict(n=80, m=2, departments=2, team_size=8),
        True,
    ),
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_org(name):
    make, _, _ = GENERATORS[name]
    a, b = make(7), make(7)
    assert a.graph is not b.graph
    assert same_org(a, b)
    assert list(a.graph.nodes) == list(range(a.n))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_different_seed_different_org_where_random(name):
    make, _, random = GENERATORS[name]
    a, b = make(7), make(8)
    if random:
        assert edges(a) != edges(b)
    else:
        assert edges(a) == edges(b)
    assert a.n == b.n  # size never depends on the seed


@pytest.mark.parametrize("name", list(GENERATORS))
def test_build_org_matches_the_generator(name):
    make, fields, _ = GENERATORS[name]
    spec = OrgSpec(generator=name, **fields)
    built = build_org(spec, 7)
    assert built.name == name
    assert same_org(built, make(7))
    assert same_org(built, build_org(spec, 7))
    if GENERATORS[name][2]:
        assert edges(built) != edges(build_org(spec, 8))


@pytest.mark.parametrize("name", list(GENERATORS))
def test_every_edge_has_a_known_kind_and_every_node_its_attributes(name):
    org = GENERATORS[name][0](3)
    assert TIE_KINDS == ("manager", "peer", "informal")
    kinds = [k for _, _, k in org.graph.edges(data="kind")]
    assert kinds and set(kinds) <= set(TIE_KINDS)
    for i, data in org.graph.nodes(data=True):
        assert NODE_ATTRS <= set(data)
        assert data["level"] == org.level[i]
        assert data["department"] == org.department[i]
        assert data["manager"] == org.manager[i]
        assert data["team"] == org.team[i]
        assert data["is_manager"] == bool(org.is_manager[i])


def test_flat_graph_sizes():
    assert orgs.complete(30).graph.number_of_edges() == 30 * 29 // 2
    ws = orgs.watts_strogatz(80, 4, 0.3, seed=1)
    assert ws.graph.number_of_edges() == 80 * 4 // 2  # rewiring keeps the edge count
    ba = orgs.barabasi_albert(80, 2, seed=1)
    assert ba.graph.number_of_edges() == (80 - 2) * 2
    er = orgs.erdos_renyi(400, 6.0, seed=1)
    assert 5.0 < 2 * er.graph.number_of_edges() / 400 < 7.0


def test_flat_graphs_get_block_teams_and_departments():
    org = orgs.erdos_renyi(20, 4.0, departments=2, team_size=5, seed=1)
    assert {k for _, _, k in org.graph.edges(data="kind")} == {"informal"}
    assert org.department.tolist() == [0] * 10 + [1] * 10
    assert org.department_names == ("D1", "D2")
    leaders = [0, 5, 10, 15]
    assert org.manager.tolist() == [x for t in leaders for x in [-1] + [t] * 4]
    assert org.team.tolist() == [0] * 5 + [5] * 5 + [10] * 5 + [15] * 5
    assert org.level.tolist() == [1, 2, 2, 2, 2] * 4
    assert np.flatnonzero(org.is_manager).tolist() == [0, 5, 10, 15]


# --- hierarchy --------------------------------------------------------------------------

N, SPAN, DEPTS, TIES = 200, 5, 4, 3.0


@pytest.fixture(scope="module")
def company():
    return orgs.hierarchy(N, span=SPAN, departments=DEPTS, informal_ties=TIES, seed=11)


def reports_of(org) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, m in enumerate(org.manager.tolist()):
        if m >= 0:
            out.setdefault(m, []).append(i)
    return out


def test_hierarchy_levels_follow_reporting_lines(company):
    org = company
    assert org.manager[0] == -1 and org.level[0] == 0 and org.head == 0
    assert (org.manager[1:] >= 0).all()  # one top only
    for i in range(1, N):
        assert org.level[i] == org.level[org.manager[i]] + 1
    assert org.manager[1 : DEPTS + 1].tolist() == [0] * DEPTS
    assert org.level[1 : DEPTS + 1].tolist() == [1] * DEPTS
    # reporting lines form a tree rooted at the CEO
    tree = nx.Graph([(i, int(org.manager[i])) for i in range(1, N)])
    assert nx.is_tree(tree) and tree.number_of_nodes() == N


def test_hierarchy_span_is_respected(company):
    counts = {m: len(r) for m, r in reports_of(company).items()}
    assert max(counts.values()) <= SPAN
    assert counts[0] == DEPTS  # the CEO's reports are the department executives
    # filled level by level: all managers but the last of each department have a full span
    full = Counter(c == SPAN for m, c in counts.items() if m != 0)
    assert full[True] >= full[False]
    assert company.is_manager.tolist() == [i in counts for i in range(N)]


def test_hierarchy_depth_is_logarithmic_in_span(company):
    per_department = (N - 1) / DEPTS
    # a complete SPAN-ary tree of `per_department` nodes under each executive
    depth = 0
    while (SPAN ** (depth + 1) - 1) / (SPAN - 1) < per_department:
        depth += 1
    assert company.level.max() == 1 + depth


def test_hierarchy_departments(company):
    org = company
    assert org.department_names == tuple(f"D{d}" for d in range(1, DEPTS + 1))
    assert sorted(set(org.department.tolist())) == list(range(DEPTS))
    assert org.department[1 : DEPTS + 1].tolist() == list(range(DEPTS))
    sizes = Counter(org.department[1:].tolist())
    assert max(sizes.values()) - min(sizes.values()) <= 1  # dealt in turn
    for i in range(DEPTS + 1, N):
        assert org.department[i] == org.department[org.manager[i]]


def test_hierarchy_edge_kinds_and_dense_teams(company):
    org, g = company, company.graph
    for i in range(1, N):
        assert g.edges[i, int(org.manager[i])]["kind"] == "manager"
    for manager, mates in reports_of(org).items():
        for a in mates:
            assert org.team[a] == manager
            for b in mates:
                if a < b:
                    assert g.has_edge(a, b), f"teammates {a},{b} not tied"
                    assert g.edges[a, b]["kind"] == "peer"
    kinds = Counter(k for _, _, k in g.edges(data="kind"))
    assert kinds["manager"] == N - 1
    expected_peer = sum(len(r) * (len(r) - 1) // 2 for r in reports_of(org).values())
    assert kinds["peer"] == expected_peer
    assert org.team[0] == 0  # the top leads its own team


@pytest.mark.parametrize(("n", "ties"), [(200, 3.0), (99, 3.0), (150, 0.5), (60, 0.0)])
def test_hierarchy_informal_tie_count(n, ties):
    org = orgs.hierarchy(n, span=6, departments=3, informal_ties=ties, seed=2)
    informal = [e for e in org.graph.edges(data="kind") if e[2] == "informal"]
    assert len(informal) == round(n * ties / 2)
    assert all(a != b for a, b, _ in informal)


def test_hierarchy_no_cross_department_informal_ties_when_share_is_zero():
    org = orgs.hierarchy(
        150, span=5, departments=3, informal_ties=4.0, cross_department_share=0.0, seed=4
    )
    informal = [(a, b) for a, b, k in org.graph.edges(data="kind") if k == "informal"]
    assert len(informal) == 300
    assert all(org.department[a] == org.department[b] for a, b in informal)


def test_hierarchy_cross_department_share_is_roughly_honoured():
    org = orgs.hierarchy(
        400, span=6, departments=4, informal_ties=6.0, cross_department_share=0.5, seed=4
    )
    informal = [(a, b) for a, b, k in org.graph.edges(data="kind") if k == "informal"]
    crossing = sum(org.department[a] != org.department[b] for a, b in informal)
    assert 0.4 < crossing / len(informal) < 0.6


def test_hierarchy_needs_more_people_than_departments():
    with pytest.raises(ValueError, match="n > departments"):
        orgs.hierarchy(4, departments=4)


# --- Krackhardt ---------------------------------------------------------------------------

CEO = 6  # file id 7
VPS = [1, 13, 17, 20]  # file ids 2, 14, 18, 21


def read_pairs(relation: str) -> set[tuple[int, int]]:
    pairs = set()
    text = (KRACKHARDT_DIR / f"Krack-High-Tec-edgelist-{relation}.txt").read_text()
    for line in text.splitlines():
        if line.split():
            a, b, t = (int(x) for x in line.split())
            if t == 1 and a != b:
                pairs.add((min(a, b) - 1, max(a, b) - 1))
    return pairs


@pytest.fixture(scope="module")
def krack():
    return orgs.krackhardt()


def test_krackhardt_reports_to_tree(krack):
    org = krack
    assert org.n == 21
    assert org.head == CEO
    assert org.manager[CEO] == -1 and org.level[CEO] == 0
    assert (np.delete(org.manager, CEO) >= 0).all()
    manager_edges = [(a, b) for a, b, k in org.graph.edges(data="kind") if k == "manager"]
    assert len(manager_edges) == 20
    assert nx.is_tree(nx.Graph(manager_edges))
    assert sorted(np.flatnonzero(org.level == 1).tolist()) == VPS
    assert org.manager[VPS].tolist() == [CEO] * 4
    assert sorted(np.flatnonzero(org.is_manager).tolist()) == sorted([CEO, *VPS])
    for i in range(21):
        if i != CEO:
            assert org.level[i] == org.level[org.manager[i]] + 1
    # file: employee 1 reports to 2, employee 3 to 14
    assert org.manager[0] == 1 and org.manager[2] == 13


def test_krackhardt_departments(krack):
    assert krack.department_names == ("D0", "D1", "D2", "D3", "D4")
    assert krack.department[CEO] == 0
    assert np.flatnonzero(krack.department == 0).tolist() == [CEO]
    assert Counter(krack.department.tolist()) == {0: 1, 1: 5, 2: 8, 3: 3, 4: 4}


def test_krackhardt_informal_ties(krack):
    reports = read_pairs("ReportsTo")
    advice, friendship = read_pairs("Advice"), read_pairs("Friendship")
    informal = {
        (min(a, b), max(a, b)) for a, b, k in krack.graph.edges(data="kind") if k == "informal"
    }
    assert informal == (advice | friendship) - reports
    assert len(informal) > 100
    assert krack.graph.number_of_edges() == len(reports | advice | friendship)


@pytest.mark.parametrize("relation", ["advice", "friendship"])
def test_krackhardt_one_informal_relation(relation):
    org = orgs.krackhardt(informal=(relation,))
    pairs = read_pairs(relation.capitalize()) - read_pairs("ReportsTo")
    informal = {
        (min(a, b), max(a, b)) for a, b, k in org.graph.edges(data="kind") if k == "informal"
    }
    assert informal == pairs


def test_krackhardt_no_informal_relation():
    org = orgs.krackhardt(informal=())
    assert {k for _, _, k in org.graph.edges(data="kind")} == {"manager"}
    assert org.graph.number_of_edges() == 20


def test_krackhardt_via_build_org(krack):
    org = build_org(OrgSpec(generator="krackhardt"), 123)
    assert same_org(org, krack)


# --- suspected bug in seeding on these orgs ------------------------------------------------


def test_team_seeding_returns_distinct_people(krack):
    from sim.engines.population import choose_champions

    keys = np.random.default_rng(1).random(krack.n)
    chosen = choose_champions(krack, "team", 21, keys)
    assert len(set(chosen.tolist())) == len(chosen)


# -- betweenness (sim/betweenness.py) ---------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: orgs.hierarchy(300, seed=3),
        lambda: orgs.watts_strogatz(200, 6, 0.2, seed=1),
        lambda: orgs.barabasi_albert(250, 2, seed=2),
        lambda: orgs.krackhardt(),
    ],
    ids=["hierarchy", "small-world", "hubs", "krackhardt"],
)
def test_exact_betweenness_equals_networkx(make):
    """Within the edge-visit budget every node is a source: networkx's numbers."""
    import networkx as nx

    org = make()
    expected = nx.betweenness_centrality(org.graph, normalized=True)
    got = org.betweenness()
    assert np.allclose(got, [expected[i] for i in range(org.n)], rtol=1e-12, atol=1e-15)


def test_sampled_betweenness_is_as_good_as_networkxs_estimate(monkeypatch):
    """Beyond the budget, sources are sampled (seeded, 64 of 1,500 here): against the exact
    values the estimate ranks as well as networkx's own estimate from as many sources (top
    20 brokers found within 2; rank correlation within 0.05 and above 0.8), and it is the
    same every run."""
    import networkx as nx
    from scipy.stats import spearmanr

    from sim import betweenness as module

    org = orgs.hierarchy(1500, seed=4)
    monkeypatch.setattr(module, "EDGE_VISIT_BUDGET", 1500 * 100)  # forces sampling
    indptr, indices = org.csr()
    sources = module.sources_for(org.n, len(indices) // 2, org.seed)
    assert sources is not None and len(sources) == module.MIN_SOURCES
    estimate = module.betweenness(indptr, indices, seed=org.seed)
    exact = nx.betweenness_centrality(org.graph, normalized=True)
    exact = np.array([exact[i] for i in range(org.n)])
    theirs = nx.betweenness_centrality(org.graph, k=len(sources), seed=0, normalized=True)
    theirs = np.array([theirs[i] for i in range(org.n)])

    def top_found(values, top=20):
        return len(set(np.argsort(-values)[:top]) & set(np.argsort(-exact)[:top]))

    assert top_found(estimate) >= top_found(theirs) - 2
    ours_rho, their_rho = spearmanr(estimate, exact).statistic, spearmanr(theirs, exact).statistic
    assert ours_rho > 0.8 and ours_rho > their_rho - 0.05
    assert np.array_equal(estimate, module.betweenness(indptr, indices, seed=org.seed))


def _hierarchy_ties_the_networkx_way(n, span, departments, informal, cross, seed):
    """The hierarchy generator's ties as it built them before its arrays-first rewrite (a
    networkx graph, edge by edge): the oracle for ``test_hierarchy_ties_are_the_networkx_ones``."""
    org = orgs.hierarchy(n, span, departments, 0.0, cross, seed)  # structure only
    rng = np.random.default_rng(seed)
    # the structure draws nothing, so the informal ties start from a fresh generator
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i in range(1, n):
        graph.add_edge(i, int(org.manager[i]), kind="manager")
    teams: dict[int, list[int]] = {}
    for i in range(1, n):
        teams.setdefault(int(org.manager[i]), []).append(i)
    for mates in teams.values():
        for k, a in enumerate(mates):
            for b in mates[k + 1 :]:
                graph.add_edge(a, b, kind="peer")
    # a department's executive, then its employees as they were dealt (the CEO in none)
    rest = range(departments + 1, n)
    members = [
        [1 + d] + [i for i in rest if (i - departments - 1) % departments == d]
        for d in range(departments)
    ]
    target, added, attempts = int(round(n * informal / 2)), 0, 0
    while added < target and attempts < 20 * target + 100:
        attempts += 1
        a = int(rng.integers(n))
        if departments > 1 and rng.random() < cross:
            other = int(rng.integers(departments - 1))
            d = other if other < org.department[a] else other + 1
        else:
            d = int(org.department[a])
        b = int(members[d][rng.integers(len(members[d]))])
        if a == b or graph.has_edge(a, b):
            continue
        graph.add_edge(a, b, kind="informal")
        added += 1
    return graph


@pytest.mark.parametrize("args", [(300, 6, 4, 4.0, 0.25, 5), (200, 3, 1, 12.0, 0.5, 9)])
def test_hierarchy_ties_are_the_networkx_ones(args):
    """Same seed, same org: the arrays-first generator (numba's Generator draws numpy's
    numbers) makes exactly the ties, kinds and neighbour order the networkx code made."""
    expected = _hierarchy_ties_the_networkx_way(*args)
    org = orgs.hierarchy(*args)
    assert list(org.graph.edges(data="kind")) == list(expected.edges(data="kind"))
    assert all(list(org.graph.adj[i]) == list(expected.adj[i]) for i in range(org.n))
    indptr, indices = org.csr()
    assert np.array_equal(org.degree(), np.diff(indptr))


def test_adjacency_holds_each_ties_edge_weight():
    """The engines' weighted adjacency (built for all ties at once) holds exactly
    ``population.edge_weight`` of each tie: kind weight x strength, rounded to 1/64, on an
    org chart whose ties carry strengths."""
    from sim.engines.population import adjacency, edge_weight
    from sim.engines.runner import prepare
    from sim.scenario import load_scenario

    (item, *_) = prepare(load_scenario("scenarios/acme/acme.toml"))
    weights = item.config.org.tie_weights
    matrix = adjacency(item.org, weights).todok()
    graph = item.org.graph
    assert any("strength" in data for *_, data in graph.edges(data=True))
    for a, b, data in graph.edges(data=True):
        expected = edge_weight(data.get("kind", "informal"), weights, data.get("strength", 1.0))
        assert matrix[a, b] == expected == matrix[b, a]


def test_tie_runs_hold_the_adjacency_in_runs_of_one_weight():
    """The batched pass's runs of equal-weight ties (``population.tie_runs``) hold every tie
    of the adjacency once, with its weight, each run at most MAX_RUN ties of one row: on a
    hierarchy with three tie weights and on a complete graph whose rows need several runs."""
    from sim.engines.population import MAX_RUN, adjacency, tie_runs
    from sim.scenario import TieWeights

    weights = TieWeights(manager=1.5, peer=1.0, informal=0.75)
    for org in (orgs.hierarchy(300, departments=3, seed=2), orgs.complete(300)):
        matrix = adjacency(org, weights)
        runs = tie_runs(org, weights)
        lengths = np.diff(runs.run_start)
        assert lengths.min() >= 1 and lengths.max() <= MAX_RUN
        row_of_run = np.repeat(np.arange(org.n), np.diff(runs.row_runs))
        rebuilt = sp.csr_matrix(
            (
                np.repeat(runs.run_weight, lengths) / 64.0,
                (np.repeat(row_of_run, lengths), runs.indices),
            ),
            shape=matrix.shape,
        )
        assert rebuilt.nnz == matrix.nnz  # no tie twice
        assert (rebuilt != matrix).nnz == 0
    assert lengths.max() == MAX_RUN  # the complete graph's rows were split


@pytest.mark.parametrize("n", [2, 3, 41])
def test_complete_graph_as_arrays_is_networkxs(n):
    """The complete generator builds its ties as arrays: the same ties, order and teams as
    networkx's complete_graph made into an org."""
    expected = nx.complete_graph(n)
    org = orgs.complete(n, departments=2, team_size=4)
    assert list(org.graph.edges()) == list(expected.edges())
    assert all(list(org.graph.adj[i]) == list(expected.adj[i]) for i in range(n))
    assert org.n == n and np.array_equal(org.degree(), np.full(n, n - 1))


def test_what_threads_derive_from_one_org_is_built_once():
    """Threads of an in-process sweep share an org: a table derived from it (adjacency,
    tie runs, workspaces) is built by the first thread that asks, and the others wait for
    it instead of building their own copy."""
    import threading
    import time

    from sim.engines.population import derived

    org = orgs.hierarchy(60, departments=2, seed=1)
    builds = []

    def build():
        builds.append(1)
        time.sleep(0.2)  # long enough for every thread to ask meanwhile
        return object()

    got = []
    askers = [
        threading.Thread(target=lambda: got.append(derived(org, "a table", build)))
        for _ in range(4)
    ]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(builds) == 1
    assert len(got) == 4 and all(table is got[0] for table in got)
