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
    ABANDONMENT,
    ADOPTION,
    AGENT_DECISIONS,
    AWARENESS,
    COMPLIANCE,
    PAYMENT,
    WORKSPACE_DECISIONS,
    fill_step_uniforms,
    replicate_rng,
)
from sim.rules import State
from sim.scenario import Config

ACTIVE, AWARE, BLOCKED = State.ACTIVE, State.AWARE, State.BLOCKED
UNAWARE, NOMINAL, LAPSED = State.UNAWARE, State.NOMINAL, State.LAPSED


class SegmentCounter:
    """Ranks and counts within workspaces, for N x R boolean arrays (employees by id)."""

    def __init__(self, workspace_of: np.ndarray, n_workspaces: int):
        n = len(workspace_of)
        self.order = np.lexsort((np.arange(n), workspace_of))  # by workspace, then id
        sorted_ws = workspace_of[self.order]
        self.start_of_row = np.searchsorted(sorted_ws, sorted_ws, side="left")
        self.workspace_of = workspace_of
        self.membership = sp.csr_matrix(
            (np.ones(n, dtype=np.float32), (workspace_of, np.arange(n))), shape=(n_workspaces, n)
        )

    def count(self, flags: np.ndarray) -> np.ndarray:
        """W x R: how many flagged employees each workspace has."""
        return np.rint(self.membership @ flags.astype(np.float32)).astype(np.int64)

    def rank(self, flags: np.ndarray) -> np.ndarray:
        """N x R: among flagged employees of the same workspace, 0-based rank by id."""
        in_order = flags[self.order].astype(np.int64)
        running = np.cumsum(in_order, axis=0)
        before_segment = running[self.start_of_row] - in_order[self.start_of_row]
        ranks = np.empty_like(running)
        ranks[self.order] = running - before_segment - 1
        return ranks


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
        self.weighted_degree = np.asarray(
            adjacency(org, config.org.tie_weights).sum(axis=1)
        ).reshape(-1, 1)
        self.scope = workspaces(org, config.freemium.workspace)
        self.segments = SegmentCounter(self.scope.of_agent, self.scope.count)
        w = self.scope.count
        self.mandated = mandate_scope(org, config)[:, None] if config.mandate.enabled else None
        self.prices = Prices(
            config.tool.price_per_seat_week, config.licence_price,
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
        self.workspace_u = np.empty((r, len(WORKSPACE_DECISIONS), w), dtype=np.float32)
        self.recorder = Recorder(self.replicates, org.department, org.department_names)

        champions = np.zeros((n, r), dtype=bool)
        for col, t in enumerate(traits):
            picked = choose_champions(org, config.seeding.strategy, config.seeding.count, t.keys)
            champions[picked, col] = True
        covered = self._cover(-1)
        nxt = self.state.copy()
        self._resolve_seats(nxt, np.zeros_like(champions), champions, covered)
        self._commit(nxt, np.zeros_like(self.paid), week=0)

    # -- derived quantities -----------------------------------------------------------------
    def _cover(self, week: int) -> np.ndarray:
        """W x R: paid, or on a trial not yet started or still running, at the end of ``week``."""
        trial_weeks = self.config.freemium.trial_weeks
        if trial_weeks <= 0:
            return self.paid.copy()
        on_trial = (self.trial_start < 0) | (week - self.trial_start < trial_weeks)
        return self.paid | on_trial

    def _draw(self) -> tuple[np.ndarray, np.ndarray]:
        for col, rng in enumerate(self.rngs):
            fill_step_uniforms(rng, self.agent_u[col], self.workspace_u[col])
        # views: (decision, N, R) and (decision, W, R)
        return self.agent_u.transpose(1, 2, 0), self.workspace_u.transpose(1, 2, 0)

    # -- one week ---------------------------------------------------------------------------------
    def step(self) -> None:
        cfg = self.config
        u, v = self._draw()
        covered = self._cover(self.week)
        state, licensed = self.state, self.licensed
        active = state == ACTIVE

        weighted_active = np.asarray(self.weights @ active.astype(np.float32), dtype=np.float64)
        share = rules.active_share(weighted_active, self.weighted_degree)
        if cfg.freemium.enabled:
            value = np.where(licensed | covered[self.scope.of_agent], 1.0, cfg.freemium.free_value)
        else:
            value = np.ones(state.shape)
        appeal = rules.appeal(value, cfg.mandate.resistance, self.reluctant.astype(np.float64))
        a = cfg.adoption
        wants = rules.wants_to_adopt(
            a.rule, u[ADOPTION], appeal, share, weighted_active, a.p, a.q,
            self.threshold, self.k_needed,
        )

        nxt = state.copy()
        keep = np.zeros(state.shape, dtype=bool)
        request = np.zeros(state.shape, dtype=bool)
        lapse_on = cfg.abandonment.enabled

        is_unaware = state == UNAWARE
        if cfg.discovery.enabled:
            p_aware = rules.awareness_probability(
                cfg.discovery.external_rate, cfg.discovery.word_of_mouth, share
            )
            nxt[is_unaware & (u[AWARENESS] < p_aware)] = AWARE

        is_aware = state == AWARE
        nxt[is_aware & wants & licensed] = ACTIVE
        request |= is_aware & wants & ~licensed
        nxt[is_aware & ~wants & licensed & (u[COMPLIANCE] < cfg.mandate.compliance)] = NOMINAL

        is_blocked = state == BLOCKED
        p_giveup = rules.lapse_probability(cfg.abandonment.rate, 0.0, 0.0, 0.0)
        gives_up = is_blocked & lapse_on & (u[ABANDONMENT] < p_giveup)
        nxt[gives_up] = LAPSED
        nxt[is_blocked & ~gives_up & licensed] = ACTIVE
        request |= is_blocked & ~gives_up & ~licensed

        p_lapse = rules.lapse_probability(
            cfg.abandonment.rate, appeal, cfg.tool.standalone_value, share
        )
        lapses = active & lapse_on & (u[ABANDONMENT] < p_lapse)
        nxt[lapses] = LAPSED
        keep |= active & ~lapses & ~licensed

        nxt[(state == NOMINAL) & wants] = ACTIVE

        pays = self._decide_payment(v[PAYMENT], state, licensed)
        self._resolve_seats(nxt, keep, request, covered)
        self._commit(nxt, pays, week=self.week + 1)

    def _decide_payment(self, u_pay: np.ndarray, state: np.ndarray, licensed: np.ndarray) -> np.ndarray:
        cfg = self.config
        if not cfg.freemium.enabled:
            return np.zeros_like(self.paid)
        blocked = self.segments.count((state == BLOCKED) & ~licensed)
        demand = blocked + self.segments.count((state == ACTIVE) & ~licensed)
        holder_active = (state[self.scope.holder] == ACTIVE).astype(np.float64)
        p_pay = rules.pay_probability(
            cfg.freemium.decision_rate, cfg.tool.price_per_seat_week,
            cfg.tool.value_per_seat_week, demand.astype(np.float64), cfg.freemium.demand_scale,
            cfg.freemium.holder_boost, holder_active,
        )
        at_paywall = ~self.paid & ~self.deal[None, :] & (blocked > 0)
        return at_paywall & (u_pay < p_pay)

    def _resolve_seats(
        self, nxt: np.ndarray, keep: np.ndarray, request: np.ndarray, covered: np.ndarray
    ) -> None:
        """Keepers first, then requesters, lowest id first, up to the free seats left."""
        cap = self.config.freemium.free_seats
        if not self.config.freemium.enabled or cap is None:
            nxt[keep | request] = ACTIVE
            return
        unlimited = covered[self.scope.of_agent]
        kept = keep & (unlimited | (self.segments.rank(keep) < cap))
        seats_left = cap - self.segments.count(kept)
        granted = request & (
            unlimited | (self.segments.rank(request) < seats_left[self.scope.of_agent])
        )
        nxt[kept | granted] = ACTIVE
        nxt[(keep & ~kept) | (request & ~granted)] = BLOCKED

    def _commit(self, nxt: np.ndarray, pays: np.ndarray, week: int) -> None:
        self.state = nxt
        self.paid |= pays
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
