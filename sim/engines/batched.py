"""The batched engine: the reference model's rules on arrays, R replicates at once.

State is held as N x R arrays (one column per replicate) and W x R for workspaces.  Each
week is a few compiled passes (:mod:`sim.engines.kernels`) that call :mod:`sim.rules` for
every decision and :mod:`sim.randomness` for every uniform, so the two engines produce
identical trajectories for the same scenario and seed (``tests/test_engines_agree.py``).

The update order mirrors ``AdoptionModel.step`` line for line:
cover -> agent decisions and keepers' seats -> paywall decisions -> requesters' seats ->
commit -> trial starts -> end-of-week events (mandate, deal) -> record.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

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
    SecurityReviews,
    action_plan,
    actions_due,
    adjacency,
    can_push,
    champions_of,
    department_values,
    draw_traits,
    plain_appeal,
    workspaces,
)
from sim.errors import AdoptsimError
from sim.observe import (
    TALLY_ROWS,
    UNLICENSED_ACTIVE_ROW,
    Prices,
    Recorder,
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
)
from sim.scenario import Config


class BatchedModel:
    """R replicates of one plan, advanced together one week at a time."""

    def __init__(self, config: Config, org: Org, replicates: list[int], seed: int | None = None):
        seed = config.seed if seed is None else seed
        self.config, self.org, self.replicates = config, org, list(replicates)
        self.params = params_of(config)
        n, r = org.n, len(self.replicates)
        self.seed = seed
        self.keys = randomness.stream_keys(seed, self.replicates)  # every draw's streams
        self.scope = workspaces(org, config.freemium.workspace)
        self.local = department_values(org, config, self.scope)
        traits = [
            draw_traits(seed, rep, n, config.adoption, self.local.potential)
            for rep in self.replicates
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
        adoption = config.adoption
        uses_readiness = adoption.rule == "linear" and adoption.heterogeneity != "none"
        # read only when it is not 1 for everyone (an empty array tells the pass so)
        self.readiness = (
            np.stack([t.readiness for t in traits], axis=1) if uses_readiness else np.ones((0, r))
        )
        self.p_fade = fade_probability(config.reluctance.half_life_weeks)
        self.features = run_features(config, self.params, uses_readiness, self.some_unfit)

        self.weights = adjacency(org, config.org.tie_weights)
        self.degree = np.asarray(self.weights.sum(axis=1)).reshape(-1)
        weights_64ths = self.weights.data * 64
        if not np.array_equal(weights_64ths, np.rint(weights_64ths)):
            raise ValueError("tie weights must be multiples of 1/64 (the schema rounds them)")
        self.weights_64ths = weights_64ths.astype(np.int64)
        w = self.scope.count
        self.actions = action_plan(org, config)
        self.fired = np.zeros((self.actions.count, r), dtype=bool)  # actions fired so far
        self.department_size = np.bincount(org.department, minlength=len(org.department_names))
        self.prices = Prices.of(config)

        initial = State.AWARE if not config.discovery.enabled else State.UNAWARE
        self.state = np.full((n, r), initial, dtype=np.int8)
        self.licensed = np.zeros((n, r), dtype=bool)
        self.pushed = np.zeros((n, r), dtype=bool)  # licensed by a mandate or the deal
        self.reluctant = np.zeros((n, r), dtype=bool)
        self.incumbent = np.full((n, r), config.incumbent.enabled, dtype=bool)  # old tool there
        self.trained_until = np.full((n, r), -1, dtype=np.int32)  # boosted up to this week
        self.trains = bool((self.actions.kind == TRAINING).any())
        self._unused_bool = np.zeros((0, r), dtype=bool)
        self._unused_weeks = np.zeros((0, r), dtype=np.int32)
        self.reviews = SecurityReviews.start(r)
        self.paid = np.zeros((w, r), dtype=bool)
        self.trial_start = np.full((w, r), -1, dtype=np.int64)
        self.deal = np.zeros(r, dtype=bool)
        self.week = 0
        self._next = np.empty((n, r), dtype=np.int8)
        self._request = np.empty((n, r), dtype=bool)
        self.recorder = Recorder(self.replicates, org.department, org.department_names)
        # the week's tally (see sim.observe.tally), kept up to date by the commit
        self._tallied = np.zeros((TALLY_ROWS, r), dtype=np.int64)
        self._department_active = np.zeros((len(org.department_names), r), dtype=np.int64)

        champions = np.zeros((n, r), dtype=bool)
        for col, t in enumerate(traits):
            champions[champions_of(org, config, t), col] = True
        self.champion = champions.copy()  # champions keep evangelising (seeding.champion_weight)
        self.champion_count = champions.sum(axis=0)
        # Week 0: champions ask for seats like any adopter, then the end-of-week events.
        no_seats_kept = np.zeros((w, r), dtype=np.int64)
        covered = kernels.cover(self.params, self.paid, self.trial_start, -1)
        self._grant_and_commit(
            self.state.copy(), champions, no_seats_kept, covered, week=0, recount=True
        )

    # -- one week ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One week for all replicates, mirroring ``AdoptionModel.step``."""
        week = self.week + 1
        covered = kernels.cover(self.params, self.paid, self.trial_start, self.week)
        n_ws, reps = self.paid.shape
        kept = np.zeros((n_ws, reps), dtype=np.int64)
        blocked_unlicensed = np.zeros((n_ws, reps), dtype=np.int64)
        active_unlicensed = np.zeros((n_ws, reps), dtype=np.int64)
        # nominal ties matter only when they weigh something and someone is nominal
        nominal_last_week = self.recorder.weeks[-1]["nominal"].any()
        count_nominal = self.params.mandate_nominal_weight > 0 and bool(nominal_last_week)
        count_champions = self.params.seeding_champion_weight != 1.0
        # the arrays of mechanisms not in use are not read (empty: see kernels.decide)
        fits = self.fits if self.some_unfit else self._unused_bool
        incumbent = self.incumbent if self.incumbent.any() else self._unused_bool
        trained = self.trained_until if self.trains else self._unused_weeks
        kernels.call_specialised(  # kernels.decide, compiled for this run's features
            kernels.decide,
            1,
            self.params,
            self.features,
            self.weights.indptr,
            self.weights.indices,
            self.weights_64ths,
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
            self.local.free_seats,
            self.keys,
            week,
            self.threshold,
            self.k_needed,
            self.local.p,
            self.local.q,
            count_nominal,
            count_champions,
            self.p_fade,
            self._next,
            self._request,
            kept,
            blocked_unlicensed,
            active_unlicensed,
        )
        pays = kernels.decide_payment(
            self.params,
            self.state,
            self.paid,
            self.deal,
            self.reviews.banned,
            self.scope.holder,
            self.local.value,
            blocked_unlicensed,
            active_unlicensed,
            self.keys,
            week,
        )
        self.paid |= pays
        recount = bool(pays.any())  # a paid workspace changes its members' seat counts
        self._grant_and_commit(self._next, self._request, kept, covered, week, recount)

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
        the employees who changed moved, unless ``recount`` (or an event changed the org's
        licences, old tools or states: then everyone is counted again)."""
        has_free_user = np.zeros(self.paid.shape, dtype=bool)
        if recount:
            self._tallied[:] = 0
            self._department_active[:] = 0
        trial_pending = (self.trial_start < 0).any(axis=1)
        kernels.grant_and_commit(
            self.params,
            nxt,
            request,
            kept,
            covered,
            self.reviews.banned,
            self.scope.of_agent,
            self.local.free_seats,
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
        kernels.start_trials(self.trial_start, has_free_user, week)
        self.week = week
        changed, rollout = self._end_of_week_events(self._tallied, self._department_active)
        if changed:
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
        counts = weekly_counts(  # its counts are views: of a copy, as the tally moves on
            self._tallied.copy(), self.paid, self.deal, self.reviews.banned, self.prices, rollout
        )
        self.recorder.record(counts, self.deal, self._department_active.copy())

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
            self.actions, self.fired, self.week, engaged, department_active, self.department_size
        )
        for a in np.flatnonzero(due.any(axis=1)):
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
                weeks = self.config.training.weeks
                kernels.apply_training(
                    self.state, self.trained_until, scope, due[a], self.week, weeks, newly_trained
                )
            elif kind == SUNSET:
                kernels.apply_sunset(self.incumbent, scope, due[a])
            changed = True
        verdicts = self.reviews.verdicts(
            self.params,
            self.week,
            tallied[UNLICENSED_ACTIVE_ROW],
            self.org.n,
            self.seed,
            self.replicates,
        )
        if (verdicts == Verdict.BAN).any():
            kernels.apply_ban(self.state, self.licensed, verdicts == Verdict.BAN)
            changed = True
        forced = verdicts == Verdict.REQUIRE_ENTERPRISE
        signs = forced & ~self.deal
        if self.config.enterprise.enabled:
            signs |= kernels.sign_deals(self.params, self.deal, engaged, self.org.n)
        if signs.any():
            self.deal |= signs
            self.licensed[:, signs] = True
            self.pushed[:, signs] = True
            changed = True
        cost = rollout_cost(
            self.prices, self.week, self.champion_count, due.sum(axis=0), newly_trained
        )
        return changed, cost


def run_features(config: Config, params, uses_readiness: bool, some_unfit: bool) -> int:
    """The ``kernels`` feature bits of a run: which mechanisms its weekly pass can leave
    out, because they cannot change anything in this run (see ``kernels.decide``)."""
    features = 0
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
    batches = split_replicates(list(replicates), threads or default_threads(), org.n)
    models = [BatchedModel(config, org, batch, seed) for batch in batches]
    advance(models, config.weeks)
    trajectories = pl.concat([m.recorder.trajectories() for m in models])
    departments = pl.concat([m.recorder.departments() for m in models])
    return (
        trajectories.sort("replicate", "week"),
        departments.sort("replicate", "week", "department"),
    )


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
