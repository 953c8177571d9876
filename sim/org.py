"""Organization graphs: who works with whom.

An :class:`Org` is an undirected networkx graph over employees ``0..N-1`` plus the
formal structure both engines need as arrays: department, team (the id of the employee
who leads the team an employee belongs to: its manager, or an org chart's named team's
leader), manager, level and whether the employee manages anyone.  Every edge carries a
``kind``: ``"manager"``, ``"peer"`` or ``"informal"`` (an org chart adds ``"dotted"`` and
its ties file's own kinds, and a ``strength``, see ``sim.org_chart``) so that a scenario can
weight reporting lines, teammates and informal ties differently.

Generators are pure functions of their parameters and an explicit ``seed``: the same
seed always gives the same graph.  ``build_org`` dispatches on a scenario's ``[org]``
table.

The ties are also kept as arrays (:class:`Ties`), and what the engines need (the CSR
adjacency, degrees, betweenness) is computed from those.  The default ``hierarchy``
generator builds arrays only, and the networkx graph is made the first time something asks
for it (the browser view, the reference engine): a million-person org never pays for
one in a batched run.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from numba import njit

import sim.jit  # noqa: F401  (cached passes: numba's cache saved under a lock)
from sim.errors import AdoptsimError

if TYPE_CHECKING:
    from sim.scenario import OrgSpec

TIE_KINDS = ("manager", "peer", "informal")


@dataclass(frozen=True)
class Ties:
    """An org's ties as arrays, in the order they were made: tie t joins ``a[t]`` and
    ``b[t]``, is of kind ``kinds[kind[t]]`` and has ``strength[t]`` (1 unless an org chart's
    ties file weighs it; ``weighed``: whether the graph's edges carry a strength)."""

    a: np.ndarray  # int64
    b: np.ndarray  # int64
    kind: np.ndarray  # int64, index into kinds
    kinds: tuple[str, ...]
    strength: np.ndarray  # float64
    weighed: bool = False

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def of_graph(cls, graph: nx.Graph) -> Ties:
        """The ties of a networkx graph (its edges' ``kind``, default informal, and
        ``strength``, default 1), in the graph's edge order."""
        edges = list(graph.edges(data=True))
        kinds: dict[str, int] = {}
        codes = [kinds.setdefault(data.get("kind", "informal"), len(kinds)) for *_, data in edges]
        return cls(
            a=np.array([a for a, _, _ in edges], dtype=np.int64),
            b=np.array([b for _, b, _ in edges], dtype=np.int64),
            kind=np.array(codes, dtype=np.int64),
            kinds=tuple(kinds),
            strength=np.array([d.get("strength", 1.0) for *_, d in edges], dtype=np.float64),
            weighed=any("strength" in d for *_, d in edges),
        )

    def kinds_present(self) -> set[str]:
        """The kinds some tie has."""
        return {self.kinds[k] for k in np.unique(self.kind)}

    def graph(self, n: int) -> nx.Graph:
        """The networkx graph of these ties over nodes 0..n-1, edges added in tie order."""
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        names = [self.kinds[k] for k in self.kind.tolist()]
        if self.weighed:
            graph.add_edges_from(
                (a, b, {"kind": k, "strength": s})
                for a, b, k, s in zip(
                    self.a.tolist(), self.b.tolist(), names, self.strength.tolist(), strict=True
                )
            )
        else:
            graph.add_edges_from(
                (a, b, {"kind": k})
                for a, b, k in zip(self.a.tolist(), self.b.tolist(), names, strict=True)
            )
        return graph


KRACKHARDT_DIR = Path(__file__).parent / "data" / "krackhardt_hightech"


class OrgDataError(AdoptsimError):
    """A graph file is missing or malformed; the message names the file and the problem."""


@dataclass(eq=False)
class Org:
    """An organization: its ties and the formal structure as arrays (index = employee), and
    the tie graph in networkx (made from the ties when first asked for)."""

    name: str
    ties: Ties
    department: np.ndarray  # int, index into department_names
    department_names: tuple[str, ...]
    team: np.ndarray  # int, id of the employee who leads the team (its manager)
    manager: np.ndarray  # int, -1 for the top of the hierarchy
    level: np.ndarray  # int, 0 = top
    _betweenness: np.ndarray | None = field(default=None, repr=False)
    # what both engines' set-up derives from the org (sim.engines.population: the weighted
    # CSR adjacency per tie-weight table, the workspaces per scope), built once per org and
    # shared by plans, threads and sweep points; nobody writes to what it holds
    derived: dict = field(default_factory=dict, repr=False)
    seed: int = 0
    # Who the employees are, as the org's own files name them (generated orgs: "0".."N-1").
    employee_ids: tuple[str, ...] = ()  # employee i's id as HR gives it
    team_names: dict[int, str] = field(default_factory=dict)  # team leader -> team name
    titles: tuple[str, ...] = ()  # job title per employee ("" when unknown)
    locations: tuple[str, ...] = ()  # location per employee ("" when unknown)
    _index: dict[str, int] | None = field(default=None, repr=False)
    _graph: nx.Graph | None = field(default=None, repr=False)

    @property
    def graph(self) -> nx.Graph:
        """The tie graph: nodes 0..N-1 with department, manager, level, team and
        is_manager; edges with their kind (and strength, from an org chart's ties)."""
        if self._graph is None:
            graph = self.ties.graph(self.n)
            _label_nodes(graph, self.department, self.manager, self.level, self.team)
            self._graph = graph
        return self._graph

    def __post_init__(self) -> None:
        n = len(self.department)
        if not self.employee_ids:
            self.employee_ids = tuple(str(i) for i in range(n))
        if not self.titles:
            self.titles = ("",) * n
        if not self.locations:
            self.locations = ("",) * n

    def index_of(self, employee_id: str) -> int | None:
        """The node id of an employee named as in the org's files, or None if unknown."""
        if self._index is None:
            self._index = {e: i for i, e in enumerate(self.employee_ids)}
        return self._index.get(employee_id)

    def team_name(self, leader: int) -> str:
        """A team's name: the chart's ``team`` column, else "team of <leader's id>"."""
        return self.team_names.get(int(leader), f"team of {self.employee_ids[int(leader)]}")

    def members(
        self,
        departments: list[str] | tuple[str, ...] = (),
        teams: list[str] | tuple[str, ...] = (),
        employees: list[str] | tuple[str, ...] = (),
        titles: list[str] | tuple[str, ...] = (),
    ) -> np.ndarray:
        """Boolean mask of the employees every given filter admits (each filter is a list
        of names, any of which matches; an empty filter admits everyone).  Names the org
        does not have are the caller's to check first (:meth:`unknown_names`)."""
        mask = np.ones(self.n, dtype=bool)
        if departments:
            wanted = [self.department_names.index(d) for d in departments]
            mask &= np.isin(self.department, wanted)
        if teams:
            team_of = np.array([self.team_name(t) for t in self.team], dtype=object)
            mask &= np.isin(team_of, list(teams))
        if employees:
            picked = np.zeros(self.n, dtype=bool)
            picked[[self.index_of(e) for e in employees]] = True
            mask &= picked
        if titles:
            mask &= np.isin(np.array(self.titles, dtype=object), list(titles))
        return mask

    def unknown_names(self, kind: str, names: list[str] | tuple[str, ...]) -> list[str]:
        """Which of ``names`` this org does not have, for ``kind`` in departments, teams,
        employees or titles."""
        known: set[str]
        if kind == "departments":
            known = set(self.department_names)
        elif kind == "teams":
            known = {self.team_name(t) for t in np.unique(self.team)}
        elif kind == "employees":
            known = set(self.employee_ids)
        elif kind == "titles":
            known = set(self.titles)
        else:
            raise ValueError(f"unknown kind of name {kind!r}")
        return [name for name in names if name not in known]

    def known_names(self, kind: str, most: int = 12) -> str:
        """Up to ``most`` of the org's names of ``kind``, for an error message."""
        if kind == "departments":
            names = list(self.department_names)
        elif kind == "teams":
            names = sorted({self.team_name(t) for t in np.unique(self.team)})
        elif kind == "employees":
            names = list(self.employee_ids)
        else:
            names = sorted(set(self.titles) - {""})
        if not names:
            return f"none (an org chart's `{kind[:-1]}` column gives them)"
        shown = ", ".join(names[:most])
        return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")

    @property
    def n(self) -> int:
        return len(self.department)

    @property
    def is_manager(self) -> np.ndarray:
        """True for employees with at least one direct report."""
        flags = np.zeros(self.n, dtype=bool)
        flags[self.manager[self.manager >= 0]] = True
        return flags

    @property
    def head(self) -> int:
        """The top of the hierarchy: lowest level, then lowest id."""
        return int(np.lexsort((np.arange(self.n), self.level))[0])

    def department_heads(self) -> np.ndarray:
        """For each department, its most senior member (lowest level, then lowest id)."""
        heads = np.full(len(self.department_names), -1, dtype=np.int64)
        for i in np.lexsort((np.arange(self.n), self.level))[::-1]:
            heads[self.department[i]] = i
        return heads

    def betweenness(self) -> np.ndarray:
        """Betweenness centrality, cached: exact while nodes x ties stays within
        ``sim.betweenness.EDGE_VISIT_BUDGET`` (the default 2,000-person org), else estimated
        from sources drawn with the org's seed; compiled, so 'brokers' seeding stays
        affordable at a million employees."""
        if self._betweenness is None:
            from sim.betweenness import betweenness

            indptr, indices = self.csr()
            self._betweenness = betweenness(indptr, indices, self.seed)
        return self._betweenness

    def csr(self) -> tuple[np.ndarray, np.ndarray]:
        """The tie graph as CSR arrays (indptr, indices), symmetric, rows sorted."""
        import scipy.sparse as sp

        ones = np.ones(2 * len(self.ties), dtype=np.int8)
        rows = np.concatenate([self.ties.a, self.ties.b])
        cols = np.concatenate([self.ties.b, self.ties.a])
        matrix = sp.csr_matrix((ones, (rows, cols)), shape=(self.n, self.n))
        matrix.sort_indices()
        return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)

    def degree(self) -> np.ndarray:
        """Ties per employee."""
        return np.bincount(self.ties.a, minlength=self.n) + np.bincount(
            self.ties.b, minlength=self.n
        )


def _finish(
    name: str,
    graph: nx.Graph | Ties,
    department: np.ndarray,
    department_names: tuple[str, ...],
    manager: np.ndarray,
    level: np.ndarray,
    seed: int,
    *,
    team: np.ndarray | None = None,
    employee_ids: tuple[str, ...] = (),
    team_names: dict[int, str] | None = None,
    titles: tuple[str, ...] = (),
    locations: tuple[str, ...] = (),
) -> Org:
    """Validate and package arrays into an Org (``graph``: a networkx graph, labelled and
    kept, or the ties as arrays, the graph made only when asked for).

    ``team`` defaults to the own manager (the top leads its own); an org chart passes its
    named teams, employee ids, titles and locations (``sim.org_chart``).
    """
    n = len(department)
    if isinstance(graph, Ties):
        ties, kept = graph, None
    else:
        if sorted(graph.nodes) != list(range(n)):
            raise ValueError("org graph nodes must be the integers 0..N-1")
        ties, kept = Ties.of_graph(graph), graph
    if team is None:
        team = np.where(manager >= 0, manager, np.arange(n))
    org = Org(
        name=name,
        ties=ties,
        department=department.astype(np.int64),
        department_names=department_names,
        team=team.astype(np.int64),
        manager=manager.astype(np.int64),
        level=level.astype(np.int64),
        seed=seed,
        employee_ids=employee_ids,
        team_names=dict(team_names or {}),
        titles=titles,
        locations=locations,
    )
    if kept is not None:
        _label_nodes(kept, org.department, org.manager, org.level, org.team)
        org._graph = kept
    return org


def _label_nodes(
    graph: nx.Graph, department: np.ndarray, manager: np.ndarray, level: np.ndarray, team
) -> None:
    """Every node's department, manager, level, team and whether it manages anyone."""
    n = len(department)
    is_manager = np.zeros(n, dtype=bool)
    is_manager[manager[manager >= 0]] = True
    for i in range(n):
        graph.nodes[i].update(
            department=int(department[i]),
            manager=int(manager[i]),
            level=int(level[i]),
            team=int(team[i]),
            is_manager=bool(is_manager[i]),
        )


def hierarchy(
    n: int,
    span: int = 8,
    departments: int = 6,
    informal_ties: float = 4.0,
    cross_department_share: float = 0.25,
    seed: int = 0,
) -> Org:
    """A company: a CEO, one executive per department, and span-of-control trees below.

    Employees are dealt to departments in turn; inside a department each manager takes up
    to ``span`` direct reports, filled level by level.  Ties: every reporting line
    (``manager``), all pairs of teammates sharing a manager (``peer``, dense teams), and
    ``informal_ties`` per employee on average (``informal``), a ``cross_department_share``
    of them to another department, the rest inside the own department.
    """
    if n < departments + 1:
        raise ValueError(f"n={n} is too small for {departments} departments (need n > departments)")
    rng = np.random.default_rng(seed)
    manager = np.full(n, -1, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    department = np.zeros(n, dtype=np.int64)
    members: list[list[int]] = [[] for _ in range(departments)]
    for d in range(departments):
        executive = 1 + d
        manager[executive], level[executive], department[executive] = 0, 1, d
        members[d].append(executive)
    for j, i in enumerate(range(departments + 1, n)):
        d = j % departments
        department[i] = d
        members[d].append(i)
    for d in range(departments):
        open_managers = [members[d][0]]  # queue of employees that can take reports
        reports = {members[d][0]: 0}
        for i in members[d][1:]:
            boss = open_managers[0]
            manager[i], level[i] = boss, level[boss] + 1
            reports[boss] += 1
            if reports[boss] == span:
                open_managers.pop(0)
            reports[i] = 0
            open_managers.append(i)

    reports = np.arange(1, n, dtype=np.int64)
    peer_a, peer_b = _teammate_pairs(manager)
    structural_a = np.concatenate([reports, peer_a])
    structural_b = np.concatenate([manager[1:], peer_b])
    member_lists = [np.asarray(m, dtype=np.int64) for m in members]
    pool = np.concatenate(member_lists)
    pool_start = np.cumsum([0] + [len(m) for m in member_lists]).astype(np.int64)
    informal_a, informal_b = _informal_ties(
        structural_a,
        structural_b,
        department,
        pool,
        pool_start,
        int(round(n * informal_ties / 2)),
        cross_department_share,
        rng,
    )
    ties = Ties(
        a=np.concatenate([structural_a, informal_a]),
        b=np.concatenate([structural_b, informal_b]),
        kind=np.repeat(np.arange(3, dtype=np.int64), [len(reports), len(peer_a), len(informal_a)]),
        kinds=("manager", "peer", "informal"),
        strength=np.ones(len(reports) + len(peer_a) + len(informal_a)),
    )
    names = tuple(f"D{d + 1}" for d in range(departments))
    return _finish("hierarchy", ties, department, names, manager, level, seed)


def _teammate_pairs(manager: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of employees who share a manager (``peer`` ties): teams in the order of
    their first member's id, members in id order, pairs (a, b) with a before b."""
    n = len(manager)
    reports = np.arange(1, n, dtype=np.int64)
    boss = manager[1:]
    first_report = np.full(n, n, dtype=np.int64)
    np.minimum.at(first_report, boss, reports)
    order = reports[np.lexsort((reports, first_report[boss]))]
    return _pairs_within_runs(order, manager[order])


@njit(cache=True)
def _pairs_within_runs(members: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (members[i], members[j]), i < j, inside each run of equal ``group``."""
    total = 0
    start = 0
    for i in range(1, len(members) + 1):
        if i == len(members) or group[i] != group[start]:
            size = i - start
            total += size * (size - 1) // 2
            start = i
    a = np.empty(total, dtype=np.int64)
    b = np.empty(total, dtype=np.int64)
    k = 0
    start = 0
    for i in range(1, len(members) + 1):
        if i == len(members) or group[i] != group[start]:
            for x in range(start, i):
                for y in range(x + 1, i):
                    a[k] = members[x]
                    b[k] = members[y]
                    k += 1
            start = i
    return a, b


@njit(cache=True)
def _informal_ties(
    tied_a: np.ndarray,
    tied_b: np.ndarray,
    department: np.ndarray,
    pool: np.ndarray,
    pool_start: np.ndarray,
    target: int,
    cross_share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``target`` informal ties between employees not yet tied (``tied_a``/``tied_b``),
    drawn from ``rng`` as the hierarchy generator always has: a random employee, then
    with probability ``cross_share`` another department, else its own, then a random
    member of it (``pool[pool_start[d]:pool_start[d + 1]]``); a self-tie or a repeat is
    drawn again, at most 20 x target + 100 attempts in all.  Numba's Generator gives
    numpy's numbers draw for draw, so the org is the one networkx code built before."""
    n = len(department)
    n_departments = len(pool_start) - 1
    tied = set()
    for t in range(len(tied_a)):
        x, y = tied_a[t], tied_b[t]
        tied.add(min(x, y) * n + max(x, y))
    out_a = np.empty(target, dtype=np.int64)
    out_b = np.empty(target, dtype=np.int64)
    added, attempts = 0, 0
    while added < target and attempts < 20 * target + 100:
        attempts += 1
        a = rng.integers(0, n)
        crosses = n_departments > 1 and rng.random() < cross_share
        if crosses:
            other = rng.integers(0, n_departments - 1)
            d = other if other < department[a] else other + 1
        else:
            d = department[a]
        size = pool_start[d + 1] - pool_start[d]
        b = pool[pool_start[d] + rng.integers(0, size)]
        key = min(a, b) * n + max(a, b)
        if a == b or key in tied:
            continue
        tied.add(key)
        out_a[added] = a
        out_b[added] = b
        added += 1
    return out_a[:added], out_b[:added]


def _flat(
    name: str,
    graph: nx.Graph | Ties,
    departments: int,
    team_size: int,
    seed: int,
    nodes: int | None = None,
) -> Org:
    """Give a structureless graph departments and teams as consecutive blocks of ids.

    Team t is ids ``t*team_size ..``; its first member leads it (level 1) and the others
    report to that leader (level 2).  All edges are ``informal``: the graph itself carries
    no reporting lines.  ``graph``: a networkx graph, or its ties as arrays over
    ``nodes`` employees, every tie informal.
    """
    if isinstance(graph, Ties):
        assert nodes is not None, "ties as arrays need the number of employees"
        n = nodes
    else:
        n = graph.number_of_nodes()
        graph = nx.convert_node_labels_to_integers(graph, ordering="sorted")
        nx.set_edge_attributes(graph, "informal", "kind")
    ids = np.arange(n)
    leader = (ids // team_size) * team_size
    manager = np.where(leader == ids, -1, leader)
    level = np.where(manager < 0, 1, 2)
    department = (ids * departments) // max(n, 1)
    names = tuple(f"D{d + 1}" for d in range(departments))
    return _finish(name, graph, department, names, manager, level, seed)


def complete(n: int, departments: int = 1, team_size: int = 8, seed: int = 0) -> Org:
    """Everyone tied to everyone: the well-mixed population of the Bass model.  Built as
    arrays (a complete graph of 5,000 is 12.5 million ties: minutes and gigabytes in
    networkx); the ties and their order are networkx's ``complete_graph``'s."""
    a, b = np.triu_indices(n, k=1)
    ties = Ties(
        a=a.astype(np.int64),
        b=b.astype(np.int64),
        kind=np.zeros(len(a), dtype=np.int64),
        kinds=("informal",),
        strength=np.ones(len(a)),
    )
    return _flat("complete", ties, departments, team_size, seed, nodes=n)


def erdos_renyi(
    n: int, mean_degree: float, departments: int = 1, team_size: int = 8, seed: int = 0
) -> Org:
    """G(n, p) with p = mean_degree / (n - 1)."""
    p = min(1.0, mean_degree / max(n - 1, 1))
    g = nx.fast_gnp_random_graph(n, p, seed=seed)
    return _flat("erdos_renyi", g, departments, team_size, seed)


def watts_strogatz(
    n: int, k: int, rewire: float, departments: int = 1, team_size: int = 8, seed: int = 0
) -> Org:
    """A ring lattice of k nearest neighbours with each edge rewired with probability rewire."""
    g = nx.watts_strogatz_graph(n, k, rewire, seed=seed)
    return _flat("watts_strogatz", g, departments, team_size, seed)


def barabasi_albert(n: int, m: int, departments: int = 1, team_size: int = 8, seed: int = 0) -> Org:
    """Preferential attachment, m edges per new node: hubs with many ties."""
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    return _flat("barabasi_albert", g, departments, team_size, seed)


def _read_text(path: Path) -> str:
    """A data file's text; a binary or unreadable file is a clear OrgDataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise OrgDataError(f"{path}: not a text file (expected UTF-8 text)") from None
    except OSError as error:
        raise OrgDataError(f"{path}: cannot read it ({error.strerror})") from None
    if "\x00" in text:
        raise OrgDataError(f"{path}: not a text file (it holds NUL bytes)")
    return text


def _read_tie_matrix(path: Path, n_expected: int | None = None) -> list[tuple[int, int]]:
    """Read an 'ego alter tie' edge list (1-based ids); return 0-based (ego, alter) with tie 1."""
    if not path.is_file():
        raise OrgDataError(f"{path}: file not found")
    pairs = []
    for line_no, line in enumerate(_read_text(path).splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise OrgDataError(f"{path}:{line_no}: expected 'ego alter tie', got {line.strip()!r}")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise OrgDataError(f"{path}:{line_no}: ids and tie must be numbers") from None
        if not all(math.isfinite(x) and x == int(x) for x in numbers):
            raise OrgDataError(
                f"{path}:{line_no}: ids and tie must be whole numbers, got {line.strip()!r}"
            )
        ego, alter, tie = (int(x) for x in numbers)
        if n_expected is not None and not (1 <= ego <= n_expected and 1 <= alter <= n_expected):
            raise OrgDataError(f"{path}:{line_no}: id out of range 1..{n_expected}")
        if tie not in (0, 1):
            raise OrgDataError(f"{path}:{line_no}: tie must be 0 or 1, got {tie}")
        if tie == 1 and ego != alter:
            pairs.append((ego - 1, alter - 1))
    return pairs


def krackhardt(
    path: Path | str | None = None,
    informal: tuple[str, ...] = ("advice", "friendship"),
    seed: int = 0,
) -> Org:
    """Krackhardt's (1987) 21 high-tech managers, from the files of the published data set.

    Reports-to gives the hierarchy (``manager`` ties, level and department from the
    attribute file); the chosen informal relations (advice and/or friendship, directed,
    symmetrised) give ``informal`` ties.  Department 0 is the CEO's office.
    """
    folder = Path(path) if path is not None else KRACKHARDT_DIR
    attr_path = folder / "Krack-High-Tec-Attributes.csv"
    if not attr_path.is_file():
        raise OrgDataError(f"{attr_path}: file not found")
    rows = list(csv.DictReader(_read_text(attr_path).splitlines()))
    needed = {"ID", "LEVEL", "DEPT"}
    if not rows or not needed <= set(rows[0]):
        raise OrgDataError(f"{attr_path}: needs columns {sorted(needed)}")
    n = len(rows)
    try:
        ids = [int(r["ID"]) for r in rows]
        level = np.array([int(r["LEVEL"]) - 1 for r in rows])
        dept = np.array([int(r["DEPT"]) for r in rows])
    except ValueError as err:
        raise OrgDataError(f"{attr_path}: ID, LEVEL and DEPT must be integers") from err
    if ids != list(range(1, n + 1)):
        raise OrgDataError(f"{attr_path}: IDs must be 1..{n} in order")
    manager = np.full(n, -1, dtype=np.int64)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for ego, alter in _read_tie_matrix(folder / "Krack-High-Tec-edgelist-ReportsTo.txt", n):
        if manager[ego] >= 0:
            raise OrgDataError(f"reports-to: employee {ego + 1} reports to two managers")
        manager[ego] = alter
        graph.add_edge(ego, alter, kind="manager")
    files = {"advice": "Advice", "friendship": "Friendship"}
    for relation in informal:
        if relation not in files:
            raise OrgDataError(f"informal relation {relation!r}: allowed {sorted(files)}")
        for ego, alter in _read_tie_matrix(
            folder / f"Krack-High-Tec-edgelist-{files[relation]}.txt", n
        ):
            if not graph.has_edge(ego, alter):
                graph.add_edge(ego, alter, kind="informal")
    department_values = sorted(set(dept.tolist()))
    index = {v: k for k, v in enumerate(department_values)}
    department = np.array([index[v] for v in dept])
    names = tuple(f"D{v}" for v in department_values)
    return _finish("krackhardt", graph, department, names, manager, level, seed)


def build_org(spec: OrgSpec, seed: int) -> Org:
    """Build the organization a scenario's ``[org]`` table describes, from an explicit seed."""
    g = spec.generator
    if g == "hierarchy":
        return hierarchy(
            spec.n,
            spec.span,
            spec.departments,
            spec.informal_ties,
            spec.cross_department_share,
            seed,
        )
    if g == "complete":
        return complete(spec.n, spec.departments, spec.team_size, seed)
    if g == "erdos_renyi":
        return erdos_renyi(spec.n, spec.mean_degree, spec.departments, spec.team_size, seed)
    if g == "watts_strogatz":
        return watts_strogatz(spec.n, spec.k, spec.rewire, spec.departments, spec.team_size, seed)
    if g == "barabasi_albert":
        return barabasi_albert(spec.n, spec.m, spec.departments, spec.team_size, seed)
    if g == "krackhardt":
        return krackhardt(spec.path, tuple(spec.informal), seed)
    if g == "chart":
        from sim.org_chart import load_chart  # imports this module

        return load_chart(spec.chart, spec.ties, seed)
    raise ValueError(f"unknown generator {g!r}")
