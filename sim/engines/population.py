"""Who the employees are at week 0: traits, workspaces, tie weights and champions.

Shared by both engines, so that they start from the very same population.  Everything
here is a pure function of the org, the configuration and the seed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit

from sim import randomness, rules
from sim.jit import invalidate_if_rules_changed
from sim.org import Org
from sim.rules import ROGERS_CUMULATIVE, Intent, State
from sim.scenario import WEIGHT_QUANTUM, Adoption, Config, TieWeights
from sim.scenario.schema import TARGET_KINDS, Seeding

invalidate_if_rules_changed(__file__)  # numba's cache must not outlive a rules edit


@dataclass(frozen=True)
class Traits:
    """Per-employee draws made once per replicate, before week 1."""

    multiplier: np.ndarray  # heterogeneity multiplier mu_i (thresholds and k scale with it)
    threshold: np.ndarray  # theta_i = threshold * mu_i
    k_needed: np.ndarray  # k_i = k * mu_i
    keys: np.ndarray  # uniform tie-breaking keys (random seeding order)
    readiness: np.ndarray  # rho_i = 1 / max(mu_i, MIN_MULTIPLIER): linear rule (eq. 3a)
    fits: np.ndarray  # bool: the tool fits employee i (market potential)


def draw_traits(
    seed: int,
    replicate: int,
    n: int,
    adoption: Adoption,
    potential: np.ndarray | None = None,
) -> Traits:
    """One replicate's traits, from its week-0 streams (randomness contract v2): employee
    i's adopter category, normal deviate, seeding key and job-fit draw are draws i of their
    purposes.  ``potential``: each employee's market potential (department and title
    overrides), default ``adoption.market_potential`` for all."""
    if potential is None:
        potential = np.full(n, adoption.market_potential)
    # a draw no rule reads is not made (counter-based: skipping it moves no other number)
    if (potential >= 1.0).all():
        fits = np.ones(n, dtype=bool)
    else:
        fits = randomness.uniforms(seed, replicate, rules.Draw.JOB_FIT, 0, n) < potential
    keys = randomness.uniforms(seed, replicate, randomness.SEEDING_KEYS, 0, n)
    if adoption.heterogeneity == "rogers":
        u = randomness.uniforms(seed, replicate, randomness.ADOPTER_CATEGORY, 0, n)
        category = np.searchsorted(ROGERS_CUMULATIVE, u, side="right")
        multiplier = np.asarray(adoption.rogers_multipliers, dtype=np.float64)[category]
    elif adoption.heterogeneity == "normal":
        z = randomness.standard_normals(seed, replicate, randomness.HETEROGENEITY_NORMAL, 0, n)
        multiplier = np.maximum(0.0, 1.0 + adoption.spread * z)
    else:
        multiplier = np.ones(n)
    return Traits(
        multiplier=multiplier,
        threshold=adoption.threshold * multiplier,
        k_needed=adoption.k * multiplier,
        keys=keys,
        readiness=rules.readiness(multiplier),
        fits=fits,
    )


# one build at a time: threads of an in-process sweep share an org and would otherwise
# each build the same table (re-entrant: the tie runs are built from the adjacency)
_BUILDING = threading.RLock()


def derived(org: Org, key: str, build: Callable[[], Any]) -> Any:
    """``org.derived[key]``, built by ``build()`` the first time it is asked for: what
    the engines derive from an org (adjacency, tie runs, workspaces) is made once and
    shared by models, threads, plans and sweep points."""
    with _BUILDING:
        if key not in org.derived:
            org.derived[key] = build()
        return org.derived[key]


def edge_weight(kind: str, weights: TieWeights, strength: float = 1.0) -> float:
    """w_ij: the weight of the tie's kind times its strength (an org chart's ties.csv
    weight mapped to 0.25..1.75, see ``sim.org_chart``; 1 otherwise), rounded to 1/64 so
    that every sum of weights is exact in float64."""
    return round(weights.weight(kind) * strength * WEIGHT_QUANTUM) / WEIGHT_QUANTUM


def adjacency(org: Org, weights: TieWeights) -> sp.csr_matrix:
    """Symmetric N x N CSR matrix of tie weights w_ij (by edge kind), built once per org
    and weight table (plans, threads and sweep points share it; nobody writes to it)."""
    key = "adjacency " + json.dumps(weights.model_dump(), sort_keys=True)
    return derived(org, key, lambda: _build_adjacency(org, weights))


def _build_adjacency(org: Org, weights: TieWeights) -> sp.csr_matrix:
    ties = org.ties
    kind_weight = np.array([weights.weight(kind) for kind in ties.kinds], dtype=np.float64)
    # edge_weight for every tie at once (numpy rounds half to even, as round() does)
    w = np.round(kind_weight[ties.kind] * ties.strength * WEIGHT_QUANTUM) / WEIGHT_QUANTUM
    rows = np.concatenate([ties.a, ties.b])
    cols = np.concatenate([ties.b, ties.a])
    n = org.n
    matrix = sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


# a run holds at most this many ties: its count of engaged ties fits an int8 lane
MAX_RUN = 127


@dataclass(frozen=True)
class TieRuns:
    """The adjacency as runs of ties of equal weight, for the batched pass's sums (eq. S).

    Row i's runs are ``row_runs[i]:row_runs[i + 1]``; run r's ties end at
    ``indices[run_start[r]:run_start[r + 1]]`` and each weighs ``run_weight[r]`` / 64.  A
    pass counts a run's engaged ties in int8 lanes (at most ``MAX_RUN`` of them) and
    multiplies the count by the weight once: the same integer sum as tie by tie, with a
    quarter of the lane width and no multiply per tie.
    """

    row_runs: np.ndarray
    run_start: np.ndarray
    run_weight: np.ndarray  # int32, units of 1/64
    indices: np.ndarray


def tie_runs(org: Org, weights: TieWeights) -> TieRuns:
    """:class:`TieRuns` of :func:`adjacency`, built once per org and weight table."""
    key = "tie runs " + json.dumps(weights.model_dump(), sort_keys=True)
    return derived(org, key, lambda: _tie_runs(adjacency(org, weights)))


def _tie_runs(matrix: sp.csr_matrix) -> TieRuns:
    in_64ths = matrix.data * WEIGHT_QUANTUM
    if not np.array_equal(in_64ths, np.rint(in_64ths)):
        raise ValueError("tie weights must be multiples of 1/64 (the schema rounds them)")
    weight = in_64ths.astype(np.int32)
    n, nnz = matrix.shape[0], matrix.nnz
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    new_row = np.ones(nnz, dtype=bool)
    new_row[1:] = rows[1:] != rows[:-1]
    indices = matrix.indices
    if not (new_row[1:] | (weight[1:] >= weight[:-1])).all():  # else sorted already
        order = np.lexsort((weight, rows))  # by row, then by weight
        weight, indices = weight[order], indices[order]
    changes = new_row.copy()
    changes[1:] |= weight[1:] != weight[:-1]
    first = np.flatnonzero(changes)
    place = np.arange(nnz) - first[np.cumsum(changes) - 1]  # a tie's place in its run
    run_start = np.append(np.flatnonzero(changes | (place % MAX_RUN == 0)), nnz)
    return TieRuns(
        row_runs=np.searchsorted(run_start, matrix.indptr).astype(np.int64),
        run_start=run_start.astype(np.int64),
        run_weight=weight[run_start[:-1]],
        indices=indices,
    )


@dataclass(frozen=True)
class ChampionTies:
    """Each employee's ties to the employees who champion in some replicate, for the
    batched pass's sum of engaged champions (eq. S): row i's are ``start[i]:start[i + 1]``,
    to ``indices`` weighing ``weight`` / 64.  Champions are a few among thousands, so most
    rows are empty, and the pass reads two rows per champion tie instead of every tie's."""

    start: np.ndarray  # int64, N + 1
    indices: np.ndarray  # int64, employee ids
    weight: np.ndarray  # int32, units of 1/64


def champion_ties(matrix: sp.csr_matrix, champions: np.ndarray) -> ChampionTies:
    """:class:`ChampionTies` of the weighted adjacency ``matrix`` (:func:`adjacency`) for
    ``champions`` (N x R: who champions in which replicate)."""
    ids = np.flatnonzero(champions.any(axis=1))
    columns = matrix[:, ids].tocsr()
    columns.sort_indices()
    return ChampionTies(
        start=columns.indptr.astype(np.int64),
        indices=ids[columns.indices].astype(np.int64),
        weight=np.rint(columns.data * WEIGHT_QUANTUM).astype(np.int32),
    )


@dataclass(frozen=True)
class Workspaces:
    """The units that share a free plan: each employee's workspace and each one's budget holder."""

    of_agent: np.ndarray  # int, workspace index per employee
    holder: np.ndarray  # int, employee id of each workspace's budget holder

    @property
    def count(self) -> int:
        return len(self.holder)

    @cached_property
    def members(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, ids): workspace w's members are ``ids[start[w]:start[w + 1]]``, in id
        order (a CSR of the workspaces, made once)."""
        ids = np.argsort(self.of_agent, kind="stable").astype(np.int64)
        start = np.zeros(self.count + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.of_agent, minlength=self.count), out=start[1:])
        return start, ids


def workspaces(org: Org, scope: str) -> Workspaces:
    """Workspaces by scope and their budget holders (built once per org and scope).

    team: the manager's team, held by that manager; department: held by its most senior
    member; org: one workspace held by the top of the hierarchy.
    """
    key = f"workspaces {scope}"
    return derived(org, key, lambda: _workspaces(org, scope))


def _workspaces(org: Org, scope: str) -> Workspaces:
    if scope == "team":
        leaders, of_agent = np.unique(org.team, return_inverse=True)
        return Workspaces(of_agent=of_agent.astype(np.int64), holder=leaders.astype(np.int64))
    if scope == "department":
        return Workspaces(of_agent=org.department.copy(), holder=org.department_heads())
    if scope == "org":
        return Workspaces(of_agent=np.zeros(org.n, dtype=np.int64), holder=np.array([org.head]))
    raise ValueError(f"unknown workspace scope {scope!r}")


def champion_pool(org: Org, seeding: Seeding) -> np.ndarray:
    """The employees targeted seeding may choose from: all, or those every named filter
    (departments, teams, employees, titles) admits."""
    return org.members(**{kind: getattr(seeding, kind) for kind in TARGET_KINDS})


def choose_champions(
    org: Org, strategy: str, count: int, keys: np.ndarray, pool: np.ndarray | None = None
) -> np.ndarray:
    """The employees active at week 0, sorted by id, chosen from ``pool`` (a mask; all
    employees when None).

    random: the ``count`` lowest keys; hubs: highest degree; brokers: highest betweenness
    (both measured on the whole org); managers: managers in key order; team: whole teams
    (leader and direct reports, those in the pool), teams taken in their leader's key order
    until ``count`` is reached (at least one team).  Ties are broken by the replicate's keys.
    """
    pool = np.ones(org.n, dtype=bool) if pool is None else pool
    count = min(count, int(pool.sum()))
    if strategy == "none" or count == 0:
        return np.array([], dtype=np.int64)
    if strategy == "random":
        return _first_in_order(np.zeros(org.n, dtype=np.int8), keys, pool, count)
    if strategy == "hubs":
        return _first_in_order(-org.degree(), keys, pool, count)
    if strategy == "brokers":
        return _first_in_order(-org.betweenness(), keys, pool, count)
    if strategy == "managers":
        return _first_in_order((~org.is_manager).astype(np.int8), keys, pool, count)
    if strategy == "team":
        # A team is its leader and the members of ``org.team`` (a manager's direct reports,
        # or an org chart's named team).  A manager leads its own team and sits in its
        # boss's: count each person once.
        leaders = np.unique(org.team)
        leaders = leaders[pool[leaders]]
        chosen: set[int] = set()
        for leader in leaders[np.argsort(keys[leaders], kind="stable")]:
            chosen.add(int(leader))
            chosen.update(np.flatnonzero((org.team == leader) & pool).tolist())
            if len(chosen) >= count:
                break
        return np.array(sorted(chosen), dtype=np.int64)
    raise ValueError(f"unknown seeding strategy {strategy!r}")


def _first_in_order(primary: np.ndarray, keys: np.ndarray, pool: np.ndarray, count: int):
    """The ``count`` members of ``pool`` that come first by ``primary``, then ``keys``, then
    id (``np.lexsort((keys, primary))`` restricted to the pool), sorted by id.  Only the
    members that can make the cut are sorted: on a million-person org that is a few
    hundred, not a million, per replicate."""
    members = np.flatnonzero(pool)
    values = primary[members]
    if count < len(members):
        cut = np.partition(values, count - 1)[count - 1]  # the count-th smallest value
        members = members[values <= cut]  # everyone who can be among the first count
        values = primary[members]
    order = members[np.lexsort((keys[members], values))]
    return np.sort(order[:count]).astype(np.int64)


def champions_of(org: Org, config: Config, traits: Traits) -> np.ndarray:
    """One replicate's champions: the plan's seeding in its targeted pool."""
    seeding = config.seeding
    return choose_champions(
        org, seeding.strategy, seeding.count, traits.keys, champion_pool(org, seeding)
    )


ACTION_KINDS = ("mandate", "licence", "training", "sunset")
MANDATE, LICENCE, TRAINING, SUNSET = range(len(ACTION_KINDS))


@dataclass(frozen=True)
class ActionPlan:
    """A plan's top-down actions as arrays both engines read (``Config.plan_actions``)."""

    scope: np.ndarray  # A x N bool: who each action reaches
    kind: np.ndarray  # A int: index into ACTION_KINDS
    pushes: np.ndarray  # A bool: a mandate (True) or another kind
    at_week: np.ndarray  # A int: the week it fires, -1 when triggered
    trigger_share: np.ndarray  # A float: engaged share that fires a triggered action
    trigger_department: np.ndarray  # A int: department measured, -1 for the whole org

    @property
    def count(self) -> int:
        return len(self.pushes)

    @classmethod
    def concatenate(cls, plans: list[ActionPlan]) -> ActionPlan:
        """Several plans' actions one after another (column groups of one model)."""
        if len(plans) == 1:
            return plans[0]
        return cls(
            *(
                np.concatenate([getattr(plan, name) for plan in plans])
                for name in (
                    "scope",
                    "kind",
                    "pushes",
                    "at_week",
                    "trigger_share",
                    "trigger_department",
                )
            )
        )


def action_plan(org: Org, config: Config) -> ActionPlan:
    """The arrays of ``config``'s actions on ``org`` (names checked by check_against_org)."""
    actions = config.plan_actions()
    scope = np.zeros((len(actions), org.n), dtype=bool)
    at_week = np.full(len(actions), -1, dtype=np.int64)
    share = np.zeros(len(actions))
    department = np.full(len(actions), -1, dtype=np.int64)
    for a, action in enumerate(actions):
        scope[a] = org.members(**{kind: getattr(action, kind) for kind in TARGET_KINDS})
        if action.week is not None:
            at_week[a] = action.week
        else:
            share[a] = action.when.active_share
            if action.when.department is not None:
                department[a] = org.department_names.index(action.when.department)
    kind = np.array([ACTION_KINDS.index(action.kind) for action in actions], dtype=np.int64)
    pushes = kind == MANDATE
    return ActionPlan(scope, kind, pushes, at_week, share, department)


def actions_due(
    plan: ActionPlan,
    fired: np.ndarray,
    week: int,
    engaged: np.ndarray,
    department_engaged: np.ndarray,
    department_size: np.ndarray,
    columns: np.ndarray | None = None,
) -> np.ndarray:
    """A x R: which actions fire at the end of ``week`` in each replicate (eq. 11), read
    from the state after the week's commit (``engaged``: R engaged users;
    ``department_engaged``: D x R).  Marks them in ``fired`` (A x R).  ``columns`` (A x R
    bool, default all): the replicates each action belongs to (a column group's own)."""
    if columns is None:
        columns = np.ones(fired.shape, dtype=bool)
    due = _due(
        fired,
        plan.at_week.astype(np.int64),
        plan.trigger_share.astype(np.float64),
        plan.trigger_department.astype(np.int64),
        week,
        # counts, exact in float64: numpy divided them as float64 too
        np.asarray(engaged, dtype=np.float64),
        np.asarray(department_engaged, dtype=np.float64),
        np.asarray(department_size, dtype=np.float64),
        columns,
    )
    fired |= due
    return due


@njit(cache=True, nogil=True)
def _due(
    fired,
    at_week,
    trigger_share,
    trigger_department,
    week,
    engaged,
    department_engaged,
    department_size,
    columns,
):
    """:func:`actions_due`'s answers, compiled: a Python call of ``rules.action_fires``
    per action and replicate cost 0.2 ms a week at 100 replicates."""
    org_size = max(department_size.sum(), 1.0)
    due = np.zeros(fired.shape, dtype=np.bool_)
    for a in range(fired.shape[0]):
        d = trigger_department[a]  # the department whose share is measured, -1: the org
        for c in range(fired.shape[1]):
            if not columns[a, c]:
                continue
            if d >= 0:
                share = department_engaged[d, c] / max(department_size[d], 1.0)
            else:
                share = engaged[c] / org_size
            due[a, c] = rules.action_fires(fired[a, c], at_week[a], week, trigger_share[a], share)
    return due


@dataclass(frozen=True)
class DepartmentValues:
    """``[departments]`` overrides resolved per employee and per workspace."""

    p: np.ndarray  # N float: adoption.p of each employee's department
    q: np.ndarray  # N float: adoption.q
    value: np.ndarray  # W float: tool.value_per_seat_week of each workspace's holder
    free_seats: np.ndarray  # W int: freemium.free_seats (-1 = unlimited)
    potential: np.ndarray  # N float: market potential (title, else department, else base)


def department_values(org: Org, config: Config, spaces: Workspaces) -> DepartmentValues:
    """Each employee's p and q and each workspace's value and free-seat cap: the base
    configuration's, except in a department ``[departments."Name"]`` overrides.  A
    workspace follows its budget holder's department."""
    n_dep = len(org.department_names)
    base_cap = -1 if config.freemium.free_seats is None else config.freemium.free_seats
    p = np.full(n_dep, config.adoption.p)
    q = np.full(n_dep, config.adoption.q)
    value = np.full(n_dep, config.tool.value_per_seat_week)
    cap = np.full(n_dep, base_cap, dtype=np.int64)
    potential = np.full(n_dep, config.adoption.market_potential)
    for name, override in config.departments.items():
        d = org.department_names.index(name)
        if override.adoption.p is not None:
            p[d] = override.adoption.p
        if override.adoption.q is not None:
            q[d] = override.adoption.q
        if override.tool.value_per_seat_week is not None:
            value[d] = override.tool.value_per_seat_week
        if override.freemium.free_seats is not None:
            cap[d] = override.freemium.free_seats
        if override.adoption.market_potential is not None:
            potential[d] = override.adoption.market_potential
    holder_department = org.department[spaces.holder]
    employee_potential = potential[org.department]
    for title, override in config.titles.items():
        if override.adoption.market_potential is not None:
            has_title = np.array([t == title for t in org.titles], dtype=bool)
            employee_potential[has_title] = override.adoption.market_potential
    return DepartmentValues(
        p=p[org.department],
        q=q[org.department],
        value=value[holder_department],
        free_seats=cap[holder_department],
        potential=employee_potential,
    )


@dataclass
class SecurityReviews:
    """Per replicate: the week IT noticed shadow IT (-1: not yet), whether it gave its
    verdict, and whether unlicensed use is banned (eq. 14)."""

    noticed: np.ndarray  # R int
    decided: np.ndarray  # R bool
    banned: np.ndarray  # R bool

    @classmethod
    def start(cls, replicates: int) -> SecurityReviews:
        return cls(
            noticed=np.full(replicates, -1, dtype=np.int64),
            decided=np.zeros(replicates, dtype=bool),
            banned=np.zeros(replicates, dtype=bool),
        )

    def of_columns(self, columns: slice) -> SecurityReviews:
        """The reviews of a block of replicates, as views: its updates land here."""
        return SecurityReviews(self.noticed[columns], self.decided[columns], self.banned[columns])

    def verdicts(
        self,
        r,
        week: int,
        unlicensed_active: np.ndarray,
        n: int,
        seed: int,
        replicates: list[int],
    ) -> np.ndarray:
        """R verdicts given at the end of ``week`` (``rules.Verdict`` values, -1: none).
        IT notices when the unlicensed engaged users (after the week's commit, before its
        actions) reach the threshold, and decides ``delay_weeks`` later from the
        replicate's draw (week, 0) of its security-review stream.  A ban is recorded."""
        out = np.full(len(replicates), -1, dtype=np.int64)
        if not r.security_review_enabled:
            return out
        for c, replicate in enumerate(replicates):
            if self.decided[c]:
                continue
            if self.noticed[c] < 0 and rules.shadow_it_noticed(r, int(unlicensed_active[c]), n):
                self.noticed[c] = week
            if self.noticed[c] >= 0 and week >= self.noticed[c] + r.security_review_delay_weeks:
                draw = randomness.uniforms(seed, replicate, rules.Draw.SECURITY_REVIEW, week, 1)
                v = float(draw[0])
                out[c] = rules.review_verdict(r, v)
                self.decided[c] = True
                self.banned[c] = out[c] == rules.Verdict.BAN
        return out


def can_push(config: Config) -> bool:
    """Whether anything in the plan can push employees to comply (``rules.fixed_outcomes``):
    a mandate (table or action), the enterprise deal, or a review that can require it."""
    review = config.security_review
    return (
        config.mandate.enabled
        or config.enterprise.enabled
        or (review.enabled and review.on_fail == "enterprise")
        or any(action.kind == "mandate" for action in config.actions)
    )


def plain_appeal(config: Config) -> bool:
    """Whether appeal (eq. 1) is the value multiplier for everyone, all run: no old tool,
    no training boost and nobody reluctant (only a mandate makes anyone reluctant), so
    ``rules.appeal`` returns ``m`` exactly and both engines may skip its other factors."""
    mandates = config.mandate.enabled or any(a.kind == "mandate" for a in config.actions)
    trains = any(a.kind == "training" for a in config.actions)
    return not (config.incumbent.enabled or trains or mandates)


def settled_states(params, config: Config) -> list[list[bool]]:
    """``settled[licensed][state]``: whether the week cannot change an employee in that
    state (``rules.fixed_outcomes``: one answer whatever its facts, its own state, and no
    seat to ask for, or only one to keep when every seat is granted).  Such an employee
    need not gather its facts: the reference engine leaves it out of the week (the
    batched engine computes every row in SIMD lanes, where skipping one employee saves
    nothing).  Reluctance can still fade (eq. 13): the engine handles that apart."""
    fixed = rules.fixed_outcomes(params, can_push(config))
    stays = {int(Intent.NONE)}
    if rules.every_seat_granted(params):  # a keeper keeps its seat for sure
        stays.add(int(Intent.KEEP))
    never = (-1, -1)  # no fixed answer: the week's facts decide
    answers = [[fixed.get((int(st), lic), never) for st in State] for lic in (False, True)]
    return [
        [answer[0] == st and answer[1] in stays for st, answer in zip(State, row, strict=True)]
        for row in answers
    ]
