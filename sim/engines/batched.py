"""The batched engine: the reference model's rules on arrays, R replicates at once.

State is held as N x R arrays (one column per replicate) and W x R for workspaces.  Each
week is a few compiled passes (:mod:`sim.engines.kernels`) that call :mod:`sim.rules` for
every decision and :mod:`sim.randomness` for every uniform, so the two engines produce
identical trajectories for the same scenario and seed (``tests/test_engines_agree.py``).

The update order mirrors ``AdoptionModel.step`` line for line:
cover -> agent decisions and keepers' seats -> paywall decisions -> requesters' seats ->
commit -> trial starts -> end-of-week events (mandate, deal) -> record.  When every seat
is granted (``kernels.NO_SEATS``) the decision pass also does the commit's work, and the
commit is a swap of the state arrays.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from sim import randomness
from sim.engines import kernels
from sim.engines.params import params_of
from sim.engines.population import (
    LICENCE,
    MANDATE,
    SUNSET,
    TRAINING,
    ActionPlan,
    SecurityReviews,
    action_plan,
    actions_due,
    adjacency,
    can_push,
    champion_ties,
    champions_of,
    department_values,
    draw_traits,
    plain_appeal,
    tie_runs,
    workspaces,
)
from sim.errors import AdoptsimError
from sim.lanes import aligned_zeros, padded
from sim.observe import (
    INCUMBENT_ROW,
    TALLY_ROWS,
    UNLICENSED_ACTIVE_ROW,
    Prices,
    Recorder,
    repaid,
    rollout_cost,
    tally,
    weekly_counts,
)
from sim.org import Org
from sim.rules import (
    State,
    Verdict,
    every_seat_granted,
    fade_probability,
    only_wants_possible,
    rule_code,
)
from sim.scenario import Config


@dataclass(frozen=True)
class ColumnGroup:
    """Replicates of one configuration, as a block of columns of a :class:`BatchedModel`
    (a sweep point: its columns share the org with the other points')."""

    config: Config
    replicates: tuple[int, ...]


def column_key(config: Config) -> str:
    """What the column groups of one model must share: the org (and the seed that builds
    it), the horizon, the adoption rule (which trait arrays the pass reads), the kind of
    workspace and the pricing model.  Everything else (every scalar parameter, department
    overrides, seeding, actions, prices) may differ from group to group."""
    return json.dumps(
        [
            config.org.model_dump(mode="json"),
            config.seed,
            config.weeks,
            config.adoption.rule,
            config.freemium.workspace,
            config.tool.pricing,
        ],
        sort_keys=True,
    )


# Groups are compiled in as a tuple whose length is part of its type, so every compiled
# pass has one machine code for a single group and one for MAX_GROUPS (fewer groups are
# padded; the passes loop over the real ones).  A model holds at most MAX_GROUPS groups:
# the pass for 4 compiles in about 2 s more than the pass for one, for 16 in 20 s more.
MAX_GROUPS = 4
# fewer replicates than this: the weekly pass sums ties from the state itself, not from
# 0/1 bytes padded to 64 lanes (kernels.decide); with so few, padding buys nothing, and a
# large org split into many small sub-batches would hold 64 bytes an employee in each
MIN_BLOCK_REPLICATES = 16


def _padded(count: int) -> int:
    """The tuple length a model of ``count`` groups is compiled for."""
    if count > MAX_GROUPS:
        raise ValueError(f"a model holds at most {MAX_GROUPS} column groups, not {count}")
    return 1 if count == 1 else MAX_GROUPS


class BatchedModel:
    """R replicates of one plan, advanced together one week at a time; or, with
    ``groups``, several configurations' replicates as blocks of columns on one org."""

    def __init__(
        self,
        config: Config,
        org: Org,
        replicates: list[int],
        seed: int | None = None,
        groups: list[ColumnGroup] | None = None,
    ):
        if groups is None:
            groups = [ColumnGroup(config, tuple(replicates))]
        if len({column_key(g.config) for g in groups}) != 1:
            raise ValueError("column groups must share org, seed, weeks, rule, workspace, pricing")
        config = groups[0].config
        seed = config.seed if seed is None else seed
        self.groups = groups
        # what all groups share (column_key: org, weeks, rule, workspace, pricing) is read
        # from the first group's configuration; everything else per group
        self.config, self.org, self.seed = config, org, seed
        self.replicates = [rep for g in groups for rep in g.replicates]
        sizes = [len(g.replicates) for g in groups]
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.bounds = bounds  # group g: columns bounds[g]:bounds[g + 1]
        pad = _padded(len(groups)) - len(groups)  # parameter blocks no column reads
        self.group_of = np.repeat(np.arange(len(groups), dtype=np.int64), sizes)
        configs = [g.config for g in groups]
        group_params = [params_of(c) for c in configs]
        self.block = tuple(group_params + group_params[-1:] * pad)
        n, r = org.n, len(self.replicates)
        self.keys = randomness.stream_keys(seed, self.replicates)  # every draw's streams
        self.scope = workspaces(org, config.freemium.workspace)
        local = [department_values(org, c, self.scope) for c in configs]
        # per group: p and q per employee, cap and value per workspace, reluctance fading
        self.p = np.stack([v.p for v in local])
        self.q = np.stack([v.q for v in local])
        self.free_seats = np.stack([v.free_seats for v in local])
        self.value = np.stack([v.value for v in local])
        fades = [fade_probability(c.reluctance.half_life_weeks) for c in configs]
        self.p_fade = np.array(fades, dtype=np.float64)
        traits = [
            draw_traits(seed, rep, n, g.config.adoption, local[k].potential)
            for k, g in enumerate(groups)
            for rep in g.replicates
        ]
        # each rule reads only its own (N x R float64 each): the other is left empty
        rule = config.adoption.rule
        empty = np.zeros((0, r))
        self.threshold = (
            np.stack([t.threshold for t in traits], axis=1) if rule == "threshold" else empty
        )
        self.k_needed = np.stack([t.k_needed for t in traits], axis=1) if rule == "count" else empty
        self.fits = np.stack([t.fits for t in traits], axis=1)
        self.some_unfit = not self.fits.all()
        uses = [rule == "linear" and c.adoption.heterogeneity != "none" for c in configs]
        # read only when it is not 1 for everyone (an empty array tells the pass so); a
        # group without heterogeneity has readiness 1 exactly
        self.readiness = (
            np.stack([t.readiness for t in traits], axis=1) if any(uses) else np.ones((0, r))
        )
        self.features = ~0  # a bit stays only if every group can leave its work out
        for c, params, uses_readiness in zip(configs, group_params, uses, strict=True):
            self.features &= run_features(c, params, uses_readiness, self.some_unfit)

        weights = adjacency(org, config.org.tie_weights)
        self.degree = np.asarray(weights.sum(axis=1)).reshape(-1)
        self.ties = tie_runs(org, config.org.tie_weights)
        if np.diff(self.ties.row_runs).max(initial=0) <= 1:  # see kernels.ONE_RUN
            self.features |= kernels.ONE_RUN
        w = self.scope.count
        self._actions_of_groups(org, configs)
        self.fired = np.zeros((self.actions.count, r), dtype=bool)  # actions fired so far
        self.department_size = np.bincount(org.department, minlength=len(org.department_names))
        self.prices = Prices.of_columns([Prices.of(c) for c in configs], sizes)

        self.state = np.empty((n, r), dtype=np.int8)
        self.incumbent = np.empty((n, r), dtype=bool)  # the old tool is there
        for k, c in enumerate(configs):
            columns = slice(bounds[k], bounds[k + 1])
            self.state[:, columns] = State.AWARE if not c.discovery.enabled else State.UNAWARE
            self.incumbent[:, columns] = c.incumbent.enabled
        self.licensed = np.zeros((n, r), dtype=bool)
        self.pushed = np.zeros((n, r), dtype=bool)  # licensed by a mandate or the deal
        self.reluctant = np.zeros((n, r), dtype=bool)
        self.trained_until = np.full((n, r), -1, dtype=np.int32)  # boosted up to this week
        self.trains = bool((self.actions.kind == TRAINING).any())
        self._unused_bool = np.zeros((0, r), dtype=bool)
        self._unused_weeks = np.zeros((0, r), dtype=np.int32)
        self.reviews = SecurityReviews.start(r)
        self.paid = np.zeros((w, r), dtype=bool)
        self._paid_workspaces = np.zeros(r, dtype=np.int64)  # paid.sum(axis=0), kept up
        self.trial_start = np.full((w, r), -1, dtype=np.int64)
        self.deal = np.zeros(r, dtype=bool)
        self.week = 0
        self._next = np.empty((n, r), dtype=np.int8)
        # what a week without seats passes for the cover and seat counts: never read
        # (kernels.decide under NO_SEATS), so made once
        self._no_seats = (
            np.zeros((w, r), dtype=bool),
            *(np.zeros((w, r), dtype=np.int32) for _ in range(3)),
        )
        self._request = np.empty((n, r), dtype=bool)
        # who is engaged, as 0/1 bytes in rows padded to a multiple of 64 (kernels.decide)
        width = padded(r) if r >= MIN_BLOCK_REPLICATES else 0
        self._is_active = aligned_zeros((n, width), np.int8)
        # the same for the nominal users, where some can be (only a push makes anyone
        # nominal: rules.complies) and they weigh something; the pass counts them only then
        self._nominal_counts = any(p.mandate_nominal_weight > 0 for p in group_params) and any(
            can_push(c) for c in configs
        )
        self._is_nominal = aligned_zeros((n, width if self._nominal_counts else 0), np.int8)
        self._active_current = False  # whether it holds ``state`` (left so by kernels.decide)
        self.recorder = Recorder(self.replicates, org.department, org.department_names)
        # the week's tally (see sim.observe.tally), kept up to date by the commit
        self._tallied = np.zeros((TALLY_ROWS, r), dtype=np.int64)
        self._department_active = np.zeros((len(org.department_names), r), dtype=np.int64)

        champions = np.zeros((n, r), dtype=bool)
        for col, t in enumerate(traits):
            chosen = champions_of(org, groups[self.group_of[col]].config, t)
            champions[chosen, col] = True
        self.champion = champions.copy()  # champions keep evangelising (seeding.champion_weight)
        self.champion_ties = champion_ties(weights, champions)
        self.champion_count = champions.sum(axis=0)
        # what the end-of-week events can skip in every week of this run
        self._reviewing = any(r.security_review_enabled for r in group_params)
        self._signing = any(c.enterprise.enabled for c in configs)
        self._rollout_always_zero = self.actions.count == 0 and not (
            self.champion_count.any() and np.any(np.asarray(self.prices.champion_week) != 0)
        )
        # Week 0: champions ask for seats like any adopter, then the end-of-week events.
        no_seat_taken_yet = np.zeros((w, r), dtype=np.int32)
        covered = kernels.cover(self.block, self.bounds, self.paid, self.trial_start, -1)
        self._grant_and_commit(
            self.state.copy(), champions, no_seat_taken_yet, covered, week=0, recount=True
        )

    def _actions_of_groups(self, org: Org, configs: list[Config]) -> None:
        """Every group's actions, one after another (``self.actions``); each fires only in
        its own group's columns (``self.action_columns``: A x R), in its plan's order."""
        plans = [action_plan(org, c) for c in configs]
        self.actions = ActionPlan.concatenate(plans)
        self.action_group = np.repeat(
            np.arange(len(plans), dtype=np.int64), [plan.count for plan in plans]
        )
        self.action_columns = self.action_group[:, None] == self.group_of[None, :]

    # -- one week ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One week for all replicates, mirroring ``AdoptionModel.step``."""
        week = self.week + 1
        seats = not self.features & kernels.NO_SEATS
        if seats:
            covered = kernels.cover(self.block, self.bounds, self.paid, self.trial_start, self.week)
            n_ws, reps = self.paid.shape
            # int32 (a workspace has fewer than 2^31 members): twice the SIMD lanes of int64
            kept = np.zeros((n_ws, reps), dtype=np.int32)
            blocked_unlicensed = np.zeros((n_ws, reps), dtype=np.int32)
            active_unlicensed = np.zeros((n_ws, reps), dtype=np.int32)
        else:  # freemium off, every seat granted: no cover, seat counts or paywall (eq. 8)
            covered, kept, blocked_unlicensed, active_unlicensed = self._no_seats
        # nominal ties matter only when they weigh something and someone is nominal
        nominal_last_week = self.recorder.weeks[-1]["nominal"].any()
        count_nominal = self._nominal_counts and bool(nominal_last_week)
        count_champions = any(r.seeding_champion_weight != 1.0 for r in self.block)
        # the arrays of mechanisms not in use are not read (empty: see kernels.decide)
        fits = self.fits if self.some_unfit else self._unused_bool
        anyone_has_it = self._tallied[INCUMBENT_ROW].any()  # the tally is this week's
        incumbent = self.incumbent if anyone_has_it else self._unused_bool
        trained = self.trained_until if self.trains else self._unused_weeks
        # decide returns whether it left ``_is_active`` holding ``_next``: only a pass that
        # also commits (NO_SEATS) does, and ``_next`` becomes the state just below
        self._active_current = kernels.call_specialised(  # kernels.decide, for these features
            kernels.decide,
            2,
            self.block,
            self.bounds,
            self.features,
            self.ties.row_runs,
            self.ties.run_start,
            self.ties.run_weight,
            self.ties.indices,
            self.degree,
            self.state,
            self.licensed,
            self.pushed,
            self.reluctant,
            fits,
            self.champion,
            incumbent,
            trained,
            self.readiness,
            covered,
            self.reviews.banned,
            self.scope.of_agent,
            self.free_seats,
            self.keys,
            week,
            self.threshold,
            self.k_needed,
            self.p,
            self.q,
            count_nominal,
            count_champions,
            self.champion_ties.start,
            self.champion_ties.indices,
            self.champion_ties.weight,
            self._is_active,
            self._is_nominal,
            self._active_current,
            self.p_fade,
            self._next,
            self._request,
            kept,
            blocked_unlicensed,
            active_unlicensed,
            self.paid,
            self.org.department,
            self.prices.per_seat,
            self._tallied,
            self._department_active,
        )
        if not seats:  # decide did the commit's work but the swap, and kept the tally
            self.state, self._next = self._next, self.state
            self._end_week(week)
            return
        pays = kernels.decide_payment(
            self.block,
            self.bounds,
            self.state,
            self.paid,
            self.deal,
            self.reviews.banned,
            self.scope.holder,
            self.value,
            blocked_unlicensed,
            active_unlicensed,
            self.keys,
            week,
        )
        if pays.any():  # a paid workspace changes its members' seat counts (last week's)
            start, members = self.scope.members
            repaid(
                self._tallied, pays, start, members, self.state, self.licensed, self.prices.per_seat
            )
            self._paid_workspaces += pays.sum(axis=0)  # pays: workspaces not paid before
        self.paid |= pays
        self._grant_and_commit(self._next, self._request, kept, covered, week, recount=False)

    def _grant_and_commit(
        self,
        nxt: np.ndarray,
        request: np.ndarray,
        kept: np.ndarray,
        covered: np.ndarray,
        week: int,
        recount: bool,
    ) -> None:
        """Requesters' seats (eq. 9), commit as ``week``, trials started by first free users,
        then the end-of-week events and the record.  The week's tally is last week's with
        the employees who changed moved (and the members of workspaces that started paying,
        moved before: ``observe.repaid``), unless ``recount`` (week 0; an event that changed
        the org's licences, old tools or states has everyone counted again after it)."""
        has_free_user = np.zeros(self.paid.shape, dtype=bool)
        trial_pending = (self.trial_start < 0).any(axis=1)
        kernels.grant_and_commit(
            self.block,
            self.bounds,
            nxt,
            request,
            kept,
            covered,
            self.reviews.banned,
            self.scope.of_agent,
            self.free_seats,
            self.licensed,
            self.incumbent,
            self.paid,
            self.org.department,
            self.prices.per_seat,
            trial_pending,
            recount,
            self.state,
            has_free_user,
            self._tallied,
            self._department_active,
        )
        if recount:
            self._retally()
        kernels.start_trials(self.trial_start, has_free_user, week)
        self._end_week(week)

    def _end_week(self, week: int) -> None:
        """After the commit: the end-of-week events, then the week's record."""
        self.week = week
        changed, rollout = self._end_of_week_events(self._tallied, self._department_active)
        if changed:
            self._retally()
            self._active_current = False  # the events changed who is engaged
        counts = weekly_counts(  # its counts are views: of a copy, as the tally moves on
            self._tallied.copy(),
            self._paid_workspaces.copy(),
            self.deal,
            self.reviews.banned,
            self.prices,
            rollout,
        )
        self.recorder.record(counts, self.deal, self._department_active.copy())

    def _retally(self) -> None:
        """Counts the week's tally afresh (after what the commit does not follow: licences,
        old tools or paid workspaces that changed)."""
        self._tallied, self._department_active = tally(
            self.state,
            self.licensed,
            self.incumbent,
            self.paid,
            self.scope.of_agent,
            self.org.department,
            len(self.org.department_names),
            self.prices.per_seat,
        )

    def _end_of_week_events(
        self, tallied: np.ndarray, department_active: np.ndarray
    ) -> tuple[bool, np.ndarray]:
        """Top-down actions that fire this week (eqs. 10, 11, in plan order), the security
        review (eq. 14), then enterprise deals (eq. 7).  ``tallied``: the week's tally after
        the commit; ``department_active``: engaged per department (actions do not change
        who is engaged).  Returns whether anything changed, and the week's rollout cost per
        replicate (eq. 12)."""
        changed = False
        reps = len(self.replicates)
        engaged = tallied[State.ACTIVE]
        newly_trained = np.zeros(reps, dtype=np.int64)
        due = actions_due(
            self.actions,
            self.fired,
            self.week,
            engaged,
            department_active,
            self.department_size,
            self.action_columns,
        )
        for a in np.flatnonzero(due.any(axis=1)) if self.actions.count else ():
            kind, scope = self.actions.kind[a], self.actions.scope[a]
            if kind in (MANDATE, LICENCE):
                kernels.apply_action(
                    self.state,
                    self.licensed,
                    self.reluctant,
                    self.pushed,
                    scope,
                    due[a],
                    kind == MANDATE,
                )
            elif kind == TRAINING:
                weeks = self.groups[self.action_group[a]].config.training.weeks
                kernels.apply_training(
                    self.state, self.trained_until, scope, due[a], self.week, weeks, newly_trained
                )
            elif kind == SUNSET:
                kernels.apply_sunset(self.incumbent, scope, due[a])
            changed = True
        signs = np.zeros(reps, dtype=bool)
        if self._reviewing:  # off in every group: no verdict (verdicts says so)
            verdicts = np.concatenate(
                [
                    self.reviews.of_columns(columns).verdicts(
                        self.block[k],
                        self.week,
                        tallied[UNLICENSED_ACTIVE_ROW, columns],
                        self.org.n,
                        self.seed,
                        self.replicates[columns],
                    )
                    for k, columns in enumerate(self._group_columns())
                ]
            )
            if (verdicts == Verdict.BAN).any():
                kernels.apply_ban(self.state, self.licensed, verdicts == Verdict.BAN)
                changed = True
            signs |= (verdicts == Verdict.REQUIRE_ENTERPRISE) & ~self.deal
        if self._signing:
            signs |= kernels.sign_deals(self.block, self.bounds, self.deal, engaged, self.org.n)
        if signs.any():
            self.deal |= signs
            self.licensed[:, signs] = True
            self.pushed[:, signs] = True
            changed = True
        if self._rollout_always_zero:  # no action, no champion's time: nothing to pay
            return changed, np.zeros(reps)
        cost = rollout_cost(
            self.prices, self.week, self.champion_count, due.sum(axis=0), newly_trained
        )
        return changed, cost

    def _group_columns(self) -> list[slice]:
        """Each group's block of columns."""
        return [slice(self.bounds[k], self.bounds[k + 1]) for k in range(len(self.groups))]

    def group_results(self) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
        """(trajectories, departments) of each group, in the groups' order."""
        return [
            (self.recorder.trajectories(columns), self.recorder.departments(columns))
            for columns in self._group_columns()
        ]


def run_features(config: Config, params, uses_readiness: bool, some_unfit: bool) -> int:
    """The ``kernels`` feature bits of a run: which mechanisms its weekly pass can leave
    out, because they cannot change anything in this run (see ``kernels.decide``)."""
    features = rule_code(config.adoption.rule) << kernels.RULE_SHIFT
    if only_wants_possible(params, can_push(config)):
        features |= kernels.ONLY_WANTS
    if plain_appeal(config):
        features |= kernels.PLAIN_APPEAL
    if every_seat_granted(params):
        features |= kernels.NO_SEATS
    if not (uses_readiness or some_unfit):
        features |= kernels.PLAIN_PEOPLE
    return features


MIN_REPLICATES_PER_THREAD = 8  # fewer: one thread (a sub-batch must amortize its week)...
MIN_CELLS_PER_THREAD = 80_000  # ...unless the org is large: employees x replicates per thread


def default_threads() -> int:
    """Threads for one batched run: ``$ADOPTSIM_THREADS``, else one per usable core."""
    setting = os.environ.get("ADOPTSIM_THREADS", "").strip()
    if not setting:
        return max(1, len(os.sched_getaffinity(0)))
    if not setting.isdigit() or int(setting) < 1:
        raise AdoptsimError(f"ADOPTSIM_THREADS={setting!r}: expected a whole number >= 1")
    return int(setting)


def split_replicates(replicates: list[int], threads: int, n: int = 0) -> list[list[int]]:
    """Contiguous sub-batches, one per thread: of at least MIN_REPLICATES_PER_THREAD
    replicates each, or on an org of ``n`` employees at least MIN_CELLS_PER_THREAD
    employee-replicates each (a million-person org splits even 2 replicates)."""
    by_replicates = len(replicates) // MIN_REPLICATES_PER_THREAD
    by_cells = len(replicates) * n // MIN_CELLS_PER_THREAD
    parts = max(1, min(threads, len(replicates), max(by_replicates, by_cells)))
    bounds = np.linspace(0, len(replicates), parts + 1).round().astype(int)
    return [replicates[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def simulate_batched(
    config: Config,
    org: Org,
    replicates: list[int],
    seed: int | None = None,
    threads: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the replicates; return (trajectories, departments) like the reference.

    The replicates are split into sub-batches advanced in ``threads`` threads (default:
    :func:`default_threads`); the compiled passes release the GIL, so they run on all
    cores.  Each replicate draws from its own stream, so the rows are the same for any
    split (``tests/test_engines_agree.py``).
    """
    (result,) = simulate_groups([ColumnGroup(config, tuple(replicates))], org, seed, threads)
    return result


def simulate_groups(
    groups: list[ColumnGroup],
    org: Org,
    seed: int | None = None,
    threads: int | None = None,
) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """Several configurations' replicates on one org (the points of a sweep), run as the
    columns of one model: per group, the (trajectories, departments) it would have alone.

    The groups must share what :func:`column_key` names.  All their columns are split into
    contiguous sub-batches, one per thread (a sub-batch may hold parts of several groups),
    so a sweep of many small points fills the SIMD lanes and the cores as one big run does.
    """
    columns = [(k, rep) for k, group in enumerate(groups) for rep in group.replicates]
    parts, owners = [], []  # per thread: its models (one after another), their groups
    for part in split_replicates(columns, threads or default_threads(), org.n):
        runs: list[tuple[int, list[int]]] = []  # consecutive columns of one group
        for k, rep in part:
            if runs and runs[-1][0] == k:
                runs[-1][1].append(rep)
            else:
                runs.append((k, [rep]))
        models = []
        for start in range(0, len(runs), MAX_GROUPS):
            chunk = runs[start : start + MAX_GROUPS]
            sub = [ColumnGroup(groups[k].config, tuple(reps)) for k, reps in chunk]
            models.append(BatchedModel(sub[0].config, org, [], seed, groups=sub))
            owners.append((models[-1], [k for k, _ in chunk]))
        parts.append(models)
    advance_parts(parts, groups[0].config.weeks)
    pieces: list[list[tuple[pl.DataFrame, pl.DataFrame]]] = [[] for _ in groups]
    for model, owned in owners:
        for k, result in zip(owned, model.group_results(), strict=True):
            pieces[k].append(result)
    return [
        (
            pl.concat([t for t, _ in results]).sort("replicate", "week"),
            pl.concat([d for _, d in results]).sort("replicate", "week", "department"),
        )
        for results in pieces
    ]


def advance_parts(parts: list[list[BatchedModel]], weeks: int) -> None:
    """Each part's models one after another, ``weeks`` weeks each, the parts in threads."""

    def run(models: list[BatchedModel]) -> None:
        for model in models:
            advance([model], weeks)

    if len(parts) == 1:
        run(parts[0])
        return
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        list(pool.map(run, parts))  # list(): re-raise a thread's exception here


def advance(models: list[BatchedModel], weeks: int) -> None:
    """Step every model ``weeks`` weeks, each in its own thread when there are several."""

    def run(model: BatchedModel) -> None:
        for _ in range(weeks):
            model.step()

    if len(models) == 1:
        run(models[0])
        return
    with ThreadPoolExecutor(max_workers=len(models)) as pool:
        list(pool.map(run, models))  # list(): re-raise a thread's exception here
