"""The batched engine: the reference model's rules on numpy arrays, R replicates at once.

State is held as N x R arrays (one column per replicate) and W x R for workspaces.  The
weighted number of engaged neighbours of every employee in every replicate is one sparse
matrix product ``A @ active`` with the CSR tie-weight matrix.  Tie weights are multiples
of 1/64, so these sums are exact in float32 and the rule formulas in :mod:`sim.rules`
give bit-identical decisions to :mod:`sim.model`: the two engines produce identical
trajectories for the same scenario and seed (``tests/test_engines_agree.py``).

The update order mirrors ``AdoptionModel.step`` line for line:
draw the block -> workspace cover -> agent decisions -> paywall decisions -> seat
resolution -> commit -> trial starts -> end-of-week events (mandate, deal) -> record.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from sim import rules
from sim.observe import Prices, Recorder, observe_week
from sim.org import Org
from sim.population import adjacency, choose_champions, draw_traits, mandate_scope, workspaces
from sim.randomness import (
    AGENT_DECISIONS,
    PAYMENT,
    TRANSITION,
    WORKSPACE_DECISIONS,
    fill_step_uniforms,
    replicate_rng,
)
from sim.rules import State
from sim.scenario import Config

ACTIVE, AWARE, BLOCKED = State.ACTIVE, State.AWARE, State.BLOCKED
UNAWARE, NOMINAL, LAPSED = State.UNAWARE, State.NOMINAL, State.LAPSED


class SegmentCounter:
    """Counts and seat grants within workspaces, for N x R boolean arrays (employees by id)."""

    def __init__(self, workspace_of: np.ndarray, n_workspaces: int):
        n = len(workspace_of)
        self.workspace_of = workspace_of
        self.n_workspaces = n_workspaces
        self.membership = sp.csr_matrix(
            (np.ones(n, dtype=np.float32), (workspace_of, np.arange(n))), shape=(n_workspaces, n)
        )

    def count(self, flags: np.ndarray) -> np.ndarray:
        """W x R: how many flagged employees each workspace has."""
        return np.rint(self.membership @ flags.astype(np.float32)).astype(np.int64)

    def grant(
        self,
        flags: np.ndarray,
        limit: np.ndarray,
        unlimited: np.ndarray,
        counts: np.ndarray | None = None,
    ) -> np.ndarray:
        """N x R: flagged employees that get one of ``limit`` (W x R) seats, lowest id first.

        Only contested workspaces (limited and over-asked) are ranked, so the cost follows
        the number of employees queueing, not N x R.
        """
        counts = self.count(flags) if counts is None else counts
        contested = ~unlimited & (counts > limit)
        if not contested.any():
            return flags
        granted = flags.copy()
        rows, cols = np.nonzero(flags & contested[self.workspace_of])  # by id, then replicate
        workspace = self.workspace_of[rows]
        group = cols * self.n_workspaces + workspace
        order = np.argsort(group, kind="stable")  # stable: id order within a group
        sorted_group = group[order]
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - np.searchsorted(sorted_group, sorted_group)
        granted[rows, cols] = rank < limit[workspace, cols]
        return granted


def _shift(delta: np.ndarray, mask: np.ndarray, source: State, target: State) -> None:
    """Add (target - source) to ``delta`` where ``mask``: one transition, in place."""
    step = int(target) - int(source)
    if step == 1:
        delta += mask.view(np.int8)
    elif step == -1:
        delta -= mask.view(np.int8)
    else:
        delta += mask.view(np.int8) * np.int8(step)


class BatchedModel:
    """R replicates of one plan, advanced together one week at a time."""

    def __init__(self, config: Config, org: Org, replicates: list[int], seed: int | None = None):
        seed = config.seed if seed is None else seed
        self.config, self.org, self.replicates = config, org, list(replicates)
        n, r = org.n, len(self.replicates)
        self.rngs = [replicate_rng(seed, rep) for rep in self.replicates]
        traits = [draw_traits(rng, n, config.adoption) for rng in self.rngs]
        self.threshold = np.stack([t.threshold for t in traits], axis=1)
        self.k_needed = np.stack([t.k_needed for t in traits], axis=1)

        self.weights = adjacency(org, config.org.tie_weights).astype(np.float32)
        degree = np.asarray(self.weights.sum(axis=1, dtype=np.float64)).reshape(-1, 1)
        self.safe_degree = np.where(degree > 0, degree, 1.0)
        self.scope = workspaces(org, config.freemium.workspace)
        self.segments = SegmentCounter(self.scope.of_agent, self.scope.count)
        w = self.scope.count
        self.mandated = mandate_scope(org, config)[:, None] if config.mandate.enabled else None
        self.prices = Prices(
            config.tool.price_per_seat_week,
            config.licence_price,
            config.enterprise.price_per_seat_week,
        )

        initial = AWARE if not config.discovery.enabled else UNAWARE
        self.state = np.full((n, r), initial, dtype=np.int8)
        self.licensed = np.zeros((n, r), dtype=bool)
        self.reluctant = np.zeros((n, r), dtype=bool)
        self.paid = np.zeros((w, r), dtype=bool)
        self.trial_start = np.full((w, r), -1, dtype=np.int64)
        self.deal = np.zeros(r, dtype=bool)
        self.week = 0
        self.agent_u = np.empty((r, len(AGENT_DECISIONS), n), dtype=np.float32)
        self.u = np.empty((n, r), dtype=np.float32)
        self.workspace_u = np.empty((r, len(WORKSPACE_DECISIONS), w), dtype=np.float32)
        self.recorder = Recorder(self.replicates, org.department, org.department_names)

        champions = np.zeros((n, r), dtype=bool)
        for col, t in enumerate(traits):
            picked = choose_champions(org, config.seeding.strategy, config.seeding.count, t.keys)
            champions[picked, col] = True
        _, granted = self._resolve_seats(np.zeros_like(champions), champions, self._cover(-1))
        nxt = np.where(granted, np.int8(ACTIVE), np.where(champions, np.int8(BLOCKED), self.state))
        self._commit(nxt.astype(np.int8), np.zeros_like(self.paid), week=0)

    # -- derived quantities -----------------------------------------------------------------
    def _cover(self, week: int) -> np.ndarray:
        """W x R: paid, or on a trial not yet started or still running, at the end of ``week``."""
        trial_weeks = self.config.freemium.trial_weeks
        if trial_weeks <= 0:
            return self.paid.copy()
        on_trial = (self.trial_start < 0) | (week - self.trial_start < trial_weeks)
        return self.paid | on_trial

    def _appeal(self, licensed: np.ndarray, covered: np.ndarray) -> np.ndarray | float:
        """Eq. 1. m and reluctance take two values each, so a has at most four: each is
        computed once by ``rules.appeal`` (bit-identical to the reference) and placed."""
        cfg = self.config
        full = licensed | covered[self.scope.of_agent] if cfg.freemium.enabled else None
        res = cfg.mandate.resistance
        free = cfg.freemium.free_value

        def place(eager: float, free_tier: float) -> np.ndarray | float:
            return eager if full is None else np.where(full, eager, free_tier)

        if not self.reluctant.any():
            return place(rules.appeal(1.0, res, 0.0), rules.appeal(free, res, 0.0))
        return np.where(
            self.reluctant,
            place(rules.appeal(1.0, res, 1.0), rules.appeal(free, res, 1.0)),
            place(rules.appeal(1.0, res, 0.0), rules.appeal(free, res, 0.0)),
        )

    def _draw(self) -> tuple[np.ndarray, np.ndarray]:
        """This week's uniforms as (N x R, W x R) arrays: column r from replicate r's stream."""
        for col, rng in enumerate(self.rngs):
            fill_step_uniforms(rng, self.agent_u[col], self.workspace_u[col])
        np.copyto(self.u, self.agent_u[:, TRANSITION, :].T)
        return self.u, self.workspace_u[:, PAYMENT, :].T

    # -- one week ---------------------------------------------------------------------------------
    def step(self) -> None:
        """One week for all replicates, mirroring ``AdoptionModel.step``.

        Each transition is a boolean mask over N x R; the masks of one week are disjoint
        (each applies to one source state), so the next state is the current one plus the
        sum of mask * (target - source): a few int8 passes instead of scattered writes.
        """
        cfg, a = self.config, self.config.adoption
        u, v = self._draw()
        covered = self._cover(self.week)
        state, licensed = self.state, self.licensed
        active = state == ACTIVE
        delta = np.zeros(state.shape, dtype=np.int8)

        weighted_active = self.weights @ active.view(np.int8).astype(np.float32)
        nominal = state == NOMINAL
        if cfg.mandate.nominal_weight > 0 and nominal.any():
            weighted_nominal = self.weights @ nominal.view(np.int8).astype(np.float32)
            weighted_active = rules.weighted_users(
                weighted_active.astype(np.float64),
                weighted_nominal.astype(np.float64),
                cfg.mandate.nominal_weight,
            )
        share = weighted_active / self.safe_degree  # exact: 0 / 1 where an employee has no ties
        appeal = self._appeal(licensed, covered)
        p_want = rules.want_probability(a.rule, appeal, a.p, a.q, share)
        wants = rules.wants_to_adopt(
            a.rule, u, p_want, appeal, share, weighted_active, self.threshold, self.k_needed
        )

        is_unaware = state == UNAWARE
        if cfg.discovery.enabled and is_unaware.any():
            p_aware = rules.awareness_probability(
                cfg.discovery.external_rate, cfg.discovery.word_of_mouth, share
            )
            _shift(delta, is_unaware & (u < p_aware), UNAWARE, AWARE)

        is_aware = state == AWARE
        aware_wants = is_aware & wants
        _shift(delta, aware_wants & licensed, AWARE, ACTIVE)
        request = aware_wants & ~licensed
        refusing = is_aware & ~wants & licensed
        if refusing.any():
            _shift(
                delta, refusing & rules.complies(u, p_want, cfg.mandate.compliance), AWARE, NOMINAL
            )

        lapse_on = cfg.abandonment.enabled
        is_blocked = state == BLOCKED
        if is_blocked.any():
            p_give_up = rules.lapse_probability(cfg.abandonment.rate, 0.0, 0.0, 0.0)
            stays = is_blocked
            if lapse_on:
                gives_up = is_blocked & (u < p_give_up)
                _shift(delta, gives_up, BLOCKED, LAPSED)
                stays = is_blocked & ~gives_up
            _shift(delta, stays & licensed, BLOCKED, ACTIVE)
            request = request | (stays & ~licensed)

        keep = active & ~licensed
        if lapse_on:
            p_lapse = rules.lapse_probability(
                cfg.abandonment.rate, appeal, cfg.tool.standalone_value, share
            )
            lapses = active & (u < p_lapse)
            _shift(delta, lapses, ACTIVE, LAPSED)
            keep &= ~lapses

        _shift(delta, nominal & wants, NOMINAL, ACTIVE)

        pays = self._decide_payment(v, state, licensed)
        kept, granted = self._resolve_seats(keep, request, covered)
        if kept is not keep:
            _shift(delta, keep & ~kept, ACTIVE, BLOCKED)
        _shift(delta, granted & is_aware, AWARE, ACTIVE)
        _shift(delta, granted & is_blocked, BLOCKED, ACTIVE)
        _shift(delta, request & ~granted & is_aware, AWARE, BLOCKED)
        self._commit(state + delta, pays, week=self.week + 1)

    def _decide_payment(
        self, u_pay: np.ndarray, state: np.ndarray, licensed: np.ndarray
    ) -> np.ndarray:
        """W x R: workspaces whose budget holder pays this week (eq. 8)."""
        cfg = self.config
        if not cfg.freemium.enabled:
            return np.zeros_like(self.paid)
        blocked = self.segments.count((state == BLOCKED) & ~licensed)
        at_paywall = ~self.paid & ~self.deal[None, :] & (blocked > 0)
        if not at_paywall.any():
            return at_paywall
        demand = blocked + self.segments.count((state == ACTIVE) & ~licensed)
        holder_active = (state[self.scope.holder] == ACTIVE).astype(np.float64)
        p_pay = rules.pay_probability(
            cfg.freemium.decision_rate,
            cfg.tool.price_per_seat_week,
            cfg.tool.value_per_seat_week,
            demand.astype(np.float64),
            cfg.freemium.demand_scale,
            cfg.freemium.holder_boost,
            holder_active,
        )
        return at_paywall & (u_pay < p_pay)

    def _resolve_seats(
        self, keep: np.ndarray, request: np.ndarray, covered: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(kept, granted): keepers first, then requesters, lowest id first (eq. 9).

        ``kept is keep`` when no keeper loses its seat (always, except when a trial ends).
        """
        cap = self.config.freemium.free_seats
        if not self.config.freemium.enabled or cap is None:
            return keep, request
        limit = np.full(covered.shape, cap, dtype=np.int64)
        keep_counts = self.segments.count(keep)
        kept = self.segments.grant(keep, limit, covered, keep_counts)
        kept_counts = keep_counts if kept is keep else self.segments.count(kept)
        seats_left = limit - np.where(covered, 0, kept_counts)
        return kept, self.segments.grant(request, seats_left, covered)

    def _commit(self, nxt: np.ndarray, pays: np.ndarray, week: int) -> None:
        self.state = nxt
        self.paid |= pays
        if self.config.freemium.trial_weeks > 0:  # trial_start matters only with trials
            users = self.segments.count((nxt == ACTIVE) & ~self.licensed) > 0
            self.trial_start[(self.trial_start < 0) & users] = week
        self.week = week
        self._end_of_week_events()
        counts = observe_week(
            self.state, self.licensed, self.paid, self.scope.of_agent, self.deal, self.prices
        )
        self.recorder.record(counts, self.deal, self.state)

    def _end_of_week_events(self) -> None:
        cfg = self.config
        if self.mandated is not None and self.week == cfg.mandate.week:
            scope = np.broadcast_to(self.mandated, self.state.shape)
            self.licensed |= scope
            self.state[scope & (self.state == UNAWARE)] = AWARE
            self.reluctant |= scope & (self.state != ACTIVE)
        if cfg.enterprise.enabled:
            active = (self.state == ACTIVE).sum(axis=0)
            signs = ~self.deal & (active >= cfg.enterprise.threshold * self.org.n)
            self.deal |= signs
            self.licensed[:, signs] = True


def simulate_batched(
    config: Config, org: Org, replicates: list[int], seed: int | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the replicates together; return (trajectories, departments) like the reference."""
    model = BatchedModel(config, org, replicates, seed)
    for _ in range(config.weeks):
        model.step()
    return model.recorder.trajectories(), model.recorder.departments()
