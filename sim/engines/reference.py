"""The reference engine: a Mesa model with one agent per employee and one per workspace.

This is the readable face of the adoption model: each agent gathers what it sees at the
end of last week and asks :mod:`sim.rules` what to do (``docs/model.md`` gives the same
rules as equations).  No decision is made here.  Each week is synchronous: every decision
reads the state at the end of the previous week, and new states are committed together.

* :class:`Employee` (a ``FixedAgent`` on a ``mesa.discrete_space.Network`` cell) looks at
  its ties and its workspace, and gets its next state from ``rules.next_state``.
* :class:`Workspace` (the team, department or org that shares one free plan) decides
  whether its budget holder pays at the paywall, and hands out free seats.
* :class:`AdoptionModel` computes the week's uniforms (``sim.randomness``, vectorised),
  runs the two phases, applies the end-of-week events (mandate, enterprise deal) and records.

What an employee sees of its ties (eq. S) is kept up to date as they change state rather
than summed again every week: a tie that starts or stops using the tool adds or removes
its weight (multiples of 1/64, so the running sums are exactly the sums).  Employees whose
state has one outcome whatever the week brings skip the work (``rules.fixed_outcomes``).

To try a new rule, write it in ``sim/rules.py`` (both engines then run it); see
``docs/extending.md``.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from sim import randomness, rules
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
    settled_states,
    workspaces,
)
from sim.observe import Prices, Recorder, observe_week, rollout_cost
from sim.org import Org
from sim.randomness import framework_seed
from sim.rules import Draw, Intent, State, Verdict, fade_probability
from sim.scenario import Config

STATES = tuple(State)  # State(x) as a lookup (IntEnum's constructor is slow)
_ACTIVE, _NOMINAL = State.ACTIVE, State.NOMINAL
_NO_INTENT = Intent.NONE


class Employee(FixedAgent):
    """One employee on the org network."""

    def __init__(
        self,
        model: AdoptionModel,
        cell,
        index: int,
        threshold: float,
        k_needed: float,
        p: float,
        q: float,
        readiness: float,
        fits: bool,
    ):
        super().__init__(model)
        self.cell = cell
        self.index = index
        self.threshold = threshold
        self.k_needed = k_needed
        self.p, self.q = p, q  # its department's adoption.p and q
        self.readiness = readiness  # rho_i: its adopter category's readiness (linear rule)
        self.fits = fits  # whether the tool fits its job at all (market potential)
        self.state = State.AWARE if not model.config.discovery.enabled else State.UNAWARE
        self.licensed = False
        self.pushed = False  # licensed by a mandate or the deal: may comply (nominal use)
        self.reluctant = False
        self.champion = False  # a week-0 champion (counts champion_weight in S_j)
        self.incumbent = model.config.incumbent.enabled  # still has the old tool
        self.trained_until = -1  # a training action's boost lasts up to this week
        self.workspace: Workspace | None = None
        self.tie_ids: list[int] = []  # its ties' employee ids, in id order
        self.tie_weights: list[float] = []  # w_ij of each
        self.weighted_degree = 0.0
        # eq. S's sums over the ties, kept as they change state (see set_state)
        self.seen_engaged = 0.0  # weight of engaged ties
        self.seen_nominal = 0.0  # weight of nominal ties
        self.seen_champions = 0.0  # weight of engaged champion ties
        self._next = self.state
        self._intent = Intent.NONE
        self._reluctant_next = False

    # -- what this employee sees at the end of last week -------------------------------
    @property
    def history(self) -> list[int]:
        """Its state at the end of each week so far (after the week's events)."""
        return [int(week[self.index]) for week in self.model.state_history]

    def set_state(self, state: int) -> None:
        """Change state, and tell the ties what they now see of it (eq. S's sums)."""
        old = self.state
        self.state = STATES[state]
        if old == state:
            return
        self.model.states[self.index] = state
        engaged = (state == _ACTIVE) - (old == _ACTIVE)
        nominal = (state == _NOMINAL) - (old == _NOMINAL)
        if not (engaged or nominal):
            return
        employees = self.model.employees
        for j, weight in zip(self.tie_ids, self.tie_weights, strict=True):
            other = employees[j]
            other.seen_engaged += engaged * weight
            other.seen_nominal += nominal * weight
            if self.champion:
                other.seen_champions += engaged * weight

    def weighted_users(self) -> float:
        """S_i: engaged colleagues (engaged champions at ``seeding.champion_weight``), plus
        nominal ones at ``mandate.nominal_weight`` (eq. S)."""
        r = self.model.params
        extra = r.seeding_champion_weight - 1.0
        return rules.weighted_users(
            self.seen_engaged,
            self.seen_nominal,
            r.mandate_nominal_weight,
            self.seen_champions,
            extra,
        )

    def appeal(self, share: float) -> float:
        """a_i (eq. 1): the value it would get now, raised while trained, lowered by the old
        tool's pull (``share``: s_i) and if it resists a mandate."""
        r = self.model.params
        multiplier = rules.value_multiplier(r, self.licensed, self.workspace.covered)
        if self.model.plain_appeal:  # no old tool, training or reluctance: a = m exactly
            return multiplier
        held = rules.switching_cost(r.incumbent_strength, share, self.incumbent)
        boost = r.training_boost if rules.trained(self.model.week + 1, self.trained_until) else 0.0
        reluctance = 1.0 if self.reluctant else 0.0
        return rules.appeal(multiplier, r.mandate_resistance, reluctance, boost, held)

    # -- phase 1: decide -----------------------------------------------------------------
    def step(self) -> None:
        """Choose next week's state from last week's world (synchronous update): the facts
        of this week's one uniform ``u``, looked up in the transition table."""
        model = self.model
        fixed = model.fixed_answer[self.licensed][self.state]
        if fixed is not None and not (self.reluctant and model.fades):
            # the table has one answer for this state whatever the facts: skip gathering
            self._next, self._intent = fixed
            self._reluctant_next = self.reluctant
            if self._intent != _NO_INTENT:
                self.workspace.pending.append(self)
            return
        u = model.transition_uniforms[self.index]
        users = self.weighted_users()
        share = rules.active_share(users, self.weighted_degree)
        facts = rules.week_facts(
            model.params,
            u,
            share,
            users,
            self.appeal(share),
            self.threshold,
            self.k_needed,
            self.p,
            self.q,
            self.pushed,
            self.readiness,
            self.fits,
            model.only_wants,
        )
        self._next, self._intent = rules.next_state(self.state, self.licensed, *facts)
        if self._intent != _NO_INTENT:
            self.workspace.pending.append(self)
        self._reluctant_next = self.reluctant
        if self.reluctant and model.fades:  # eq. 13
            v = self.model.uniforms[Draw.RELUCTANCE_FADES][self.index]
            if rules.loses_reluctance(True, self.state, v, self.model.p_fade):
                self._reluctant_next = False

    # -- phase 2: commit -----------------------------------------------------------------
    def advance(self) -> None:
        if self._next != self.state:
            self.set_state(self._next)
        self._intent = _NO_INTENT
        self.reluctant = self._reluctant_next


class Workspace(mesa.Agent):
    """A team, department or the whole org sharing one free plan; its holder pays."""

    def __init__(self, model: AdoptionModel, index: int, holder: int, value: float, cap: int):
        super().__init__(model)
        self.index = index
        self.holder_id = holder
        self.value = value  # the paid tier's value per seat-week here (holder's department)
        self.free_seats = cap  # free-seat cap here, -1 = unlimited
        self.members: list[Employee] = []  # sorted by employee id
        self.pending: list[Employee] = []  # this week's keepers and requesters, by id
        self.paid = False
        self.trial_start = -1
        self.covered = False  # paid or on trial, as of the end of last week
        self._pays = False

    def update_cover(self, week: int) -> None:
        """Cover at the end of ``week`` (eq. 6)."""
        trial_weeks = self.model.params.freemium_trial_weeks
        self.covered = bool(rules.covered(self.paid, trial_weeks, self.trial_start, week))

    def decide_payment(self) -> None:
        """At the paywall (someone blocked), the budget holder may pay from this week on."""
        model = self.model
        if self.paid or model.deal or model.banned or not model.params.freemium_enabled:
            return  # not at the paywall whoever is blocked (rules.at_paywall)
        blocked = active = 0
        for member in self.members:
            is_blocked, is_free_user = rules.paywall_demand(member.state, member.licensed)
            blocked += is_blocked
            active += is_free_user
        r = self.model.params
        if rules.at_paywall(r, self.paid, self.model.deal, blocked, self.model.banned):
            v = self.model.uniforms[Draw.PAYMENT][self.index]
            holder_active = self.model.employee(self.holder_id).state == State.ACTIVE
            self._pays = bool(rules.pays(r, v, blocked, active, holder_active, self.value))

    def resolve_seats(self) -> None:
        """Grant seats to this week's keepers, then requesters, lowest employee id first."""
        r = self.model.params
        banned = self.model.banned
        unlimited = rules.seats_unlimited(r, self.covered, self.free_seats, banned)
        taken = 0
        for intent in (Intent.KEEP, Intent.REQUEST):
            for member in self.pending:  # members with an intent, in id order
                if member._intent == intent:
                    granted = rules.gets_seat(unlimited, taken, self.free_seats, banned)
                    taken += granted
                    member._next = rules.seat_outcome(granted)
        self.pending.clear()

    def commit(self, week: int) -> None:
        if self._pays:
            self.paid, self._pays = True, False
        if self.trial_start < 0:  # a trial starts once (rules.trial_starts)
            has_free_user = any(rules.free_user(m.state, m.licensed) for m in self.members)
            if rules.trial_starts(self.trial_start, has_free_user):
                self.trial_start = week


class AdoptionModel(mesa.Model):
    """One replicate of one plan: employees adopting a tool on an org network."""

    def __init__(self, config: Config, org: Org, replicate: int = 0, seed: int | None = None):
        seed = config.seed if seed is None else seed
        super().__init__(seed=framework_seed(seed, replicate))
        # The rules' uniforms come from the counter-based streams of (seed, replicate), never
        # from Mesa's own ``self.rng`` / ``self.random`` (seeded by framework_seed), so that
        # Mesa, the browser view or a subclass drawing from those cannot shift them.
        self.seed = seed
        self.config, self.org, self.replicate = config, org, replicate
        self.params = params_of(config)
        self.uniforms: list[list[float]] = [[] for _ in Draw]
        self.deal = False
        self.week = 0
        self.prices = Prices.of(config)
        self.scope = workspaces(org, config.freemium.workspace)
        local = department_values(org, config, self.scope)
        traits = draw_traits(seed, replicate, org.n, config.adoption, local.potential)
        self.p_fade = fade_probability(config.reluctance.half_life_weeks)
        self.reviews = SecurityReviews.start(1)
        self.fixed = rules.fixed_outcomes(self.params, can_push(config))
        # the same, as fixed_answer[licensed][state] (None: the week's facts decide)
        self.fixed_answer = [[self.fixed.get((int(st), lic)) for st in State] for lic in (0, 1)]
        self.fades = self.p_fade > 0.0  # reluctance can fade (eq. 13)
        self.plain_appeal = plain_appeal(config)
        # settled[licensed][state]: the week cannot change such an employee, so it need
        # not step or advance
        self.settled = settled_states(self.params, config)
        self.only_wants = rules.only_wants_possible(self.params, can_push(config))
        self.transition_uniforms: list[float] = []  # this week's, as uniforms[TRANSITION]
        self.network = Network(org.graph, random=self.random)
        # every employee's state, kept by Employee.set_state (read each week to record it)
        initial = State.AWARE if not config.discovery.enabled else State.UNAWARE
        self.states = np.full(org.n, initial, dtype=np.int8)
        self._held: tuple[np.ndarray, np.ndarray] | None = None  # see state_arrays
        self.employees: list[Employee] = []
        for i in range(org.n):
            self.employees.append(
                Employee(
                    self,
                    self.network[i],
                    i,
                    float(traits.threshold[i]),
                    float(traits.k_needed[i]),
                    float(local.p[i]),
                    float(local.q[i]),
                    float(traits.readiness[i]),
                    bool(traits.fits[i]),
                )
            )
        self._connect(org)
        self.workspaces = [
            Workspace(self, w, int(h), float(local.value[w]), int(local.free_seats[w]))
            for w, h in enumerate(self.scope.holder)
        ]
        for employee in self.employees:
            employee.workspace = self.workspaces[self.scope.of_agent[employee.index]]
            employee.workspace.members.append(employee)
        self.actions = action_plan(org, config)
        self.fired = np.zeros((self.actions.count, 1), dtype=bool)  # actions fired so far
        self.department_size = np.bincount(org.department, minlength=len(org.department_names))
        self.recorder = Recorder([replicate], org.department, org.department_names)
        self.state_history: list[np.ndarray] = []  # each week's states, after its events
        self.latest: dict[str, float] = {}
        champions = champions_of(org, config, traits)
        for index in champions:
            self.employees[index].champion = True
        self.champion_count = np.array([len(champions)])
        self._place_champions(champions)

    def _connect(self, org: Org) -> None:
        """Each employee's weighted ties w_ij, in id order: the row of the weighted
        adjacency the batched engine reads too (``population.adjacency``: the tie's kind
        weight times its strength, rounded to 1/64), the same ties as its network cell's."""
        weights = adjacency(org, self.config.org.tie_weights)
        indptr, indices, data = weights.indptr, weights.indices.tolist(), weights.data.tolist()
        employees = self.employees
        for employee in employees:
            start, end = indptr[employee.index], indptr[employee.index + 1]
            employee.tie_ids = indices[start:end]
            employee.tie_weights = data[start:end]
            employee.weighted_degree = sum(employee.tie_weights)

    def employee(self, index: int) -> Employee:
        return self.employees[index]

    def _place_champions(self, champions: np.ndarray) -> None:
        """Week 0: champions ask for seats like any adopter; then end-of-week events."""
        for workspace in self.workspaces:
            workspace.update_cover(-1)
        for employee in self.employees:
            employee._next = employee.state
        for index in champions:
            self.employees[index]._intent = Intent.REQUEST
            self.employees[index].workspace.pending.append(self.employees[index])
        for workspace in self.workspaces:
            workspace.resolve_seats()
        self._commit(0, self.employees)

    def step(self) -> None:
        """One week: uniforms, decide (employees, then workspaces), commit, events."""
        week = self.week + 1
        draws = {
            Draw.TRANSITION: self.org.n,
            Draw.PAYMENT: len(self.workspaces),
            Draw.RELUCTANCE_FADES: self.org.n,
        }
        self.uniforms = [[] for _ in Draw]  # by Draw: one list of floats per stream used
        for draw, count in draws.items():
            numbers = randomness.uniforms(self.seed, self.replicate, draw, week, count)
            self.uniforms[draw] = numbers.tolist()
        self.transition_uniforms = self.uniforms[Draw.TRANSITION]
        for workspace in self.workspaces:
            workspace.update_cover(self.week)
        deciding = self.deciding()
        for employee in deciding:
            employee.step()
        for workspace in self.workspaces:
            workspace.decide_payment()
            if workspace.pending:
                workspace.resolve_seats()
        self._commit(week, deciding)

    def deciding(self) -> list[Employee]:
        """The employees whose week can change them, in id order: the others (settled:
        say, engaged for good once nobody lapses) would step to where they are, so they are
        left out of the step and the commit (the same answer, without the work)."""
        settled, fades = self.settled, self.fades
        return [
            e for e in self.employees if not settled[e.licensed][e.state] or (fades and e.reluctant)
        ]

    def _commit(self, week: int, deciding: list[Employee]) -> None:
        for employee in deciding:
            employee.advance()
        for workspace in self.workspaces:
            workspace.commit(week)
        self.week = week
        rollout, arrays = self._end_of_week_events()
        self._record(rollout, arrays)

    @property
    def banned(self) -> bool:
        """Whether IT has banned unlicensed use (eq. 14)."""
        return bool(self.reviews.banned[0])

    def _end_of_week_events(self) -> tuple[np.ndarray, tuple | None]:
        """Top-down actions that fire this week (eqs. 10, 11), in plan order, the security
        review (eq. 14), then the enterprise deal (eq. 7); returns the week's rollout cost
        (eq. 12, one replicate) and, when no event changed anyone, the state arrays."""
        arrays = self.state_arrays()
        state, licensed = arrays[0], arrays[1]
        active = state[:, 0] == State.ACTIVE
        engaged_by_department = np.bincount(
            self.org.department, weights=active, minlength=len(self.org.department_names)
        ).astype(np.int64)
        engaged = int(engaged_by_department.sum())
        shadow = int(np.count_nonzero(active & ~licensed[:, 0]))  # rules.free_user
        due = actions_due(
            self.actions,
            self.fired,
            self.week,
            np.array([engaged]),
            engaged_by_department[:, None],
            self.department_size,
        )
        newly_trained = 0
        changed = False
        for a in np.flatnonzero(due[:, 0]):
            changed = True
            kind, in_scope = int(self.actions.kind[a]), self.actions.scope[a]
            for employee in self.employees:
                if not in_scope[employee.index]:
                    continue
                if kind in (MANDATE, LICENCE):
                    state, licenses, resists, pushed = rules.action_effect(
                        employee.state, True, kind == MANDATE
                    )
                    employee.set_state(state)
                    employee.licensed |= licenses
                    employee.reluctant |= resists
                    employee.pushed |= pushed
                elif kind == TRAINING:
                    newly_trained += not rules.trained(self.week + 1, employee.trained_until)
                    state, until = rules.training_effect(
                        employee.state, self.week, self.config.training.weeks
                    )
                    employee.set_state(state)
                    employee.trained_until = until
                elif kind == SUNSET:
                    employee.incumbent = False
        (verdict,) = self.reviews.verdicts(
            self.params, self.week, np.array([shadow]), self.org.n, self.seed, [self.replicate]
        )
        if verdict == Verdict.BAN:
            changed = True
            for employee in self.employees:
                employee.set_state(rules.ban_effect(employee.state, employee.licensed))
        forced = verdict == Verdict.REQUIRE_ENTERPRISE and not self.deal
        if forced or rules.deal_signed(self.params, self.deal, engaged, self.org.n):
            changed = True
            self.deal = True
            for employee in self.employees:
                employee.licensed = True
                employee.pushed = True
        if changed:
            self._held = None  # licences or old tools may have changed
        cost = rollout_cost(
            self.prices, self.week, self.champion_count, due.sum(axis=0), np.array([newly_trained])
        )
        return cost, (None if changed else arrays)

    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(state, licensed, incumbent, paid) as N x 1, N x 1, N x 1 and W x 1 arrays."""
        state = self.states.copy()
        if self._held is None:  # licences and old tools change only in end-of-week events
            self._held = (
                np.fromiter((e.licensed for e in self.employees), bool, self.org.n),
                np.fromiter((e.incumbent for e in self.employees), bool, self.org.n),
            )
        licensed, incumbent = (a.copy() for a in self._held)
        paid = np.fromiter((w.paid for w in self.workspaces), bool, len(self.workspaces))
        return state[:, None], licensed[:, None], incumbent[:, None], paid[:, None]

    def _record(self, rollout: np.ndarray, arrays: tuple | None = None) -> None:
        state, licensed, incumbent, paid = arrays if arrays is not None else self.state_arrays()
        # after the end-of-week events, so a mandate's unaware -> aware shows in the history
        self.state_history.append(state[:, 0])
        deal = np.array([self.deal])
        counts, department_active = observe_week(
            state,
            licensed,
            incumbent,
            paid,
            self.scope.of_agent,
            self.org.department,
            len(self.org.department_names),
            deal,
            self.reviews.banned,
            self.prices,
            rollout,
        )
        self.recorder.record(counts, deal, department_active)
        self.latest = {k: float(v[0]) for k, v in self.recorder.weeks[-1].items()}


def simulate_reference(
    config: Config,
    org: Org,
    replicates: list[int],
    seed: int | None = None,
    threads: int | None = None,
):
    """Run each replicate with the Mesa engine; return (trajectories, departments) tables.
    One replicate after another, in this thread (``threads`` is the batched engine's)."""
    import polars as pl

    trajectories, departments = [], []
    for replicate in replicates:
        model = AdoptionModel(config, org, replicate, seed)
        for _ in range(config.weeks):
            model.step()
        trajectories.append(model.recorder.trajectories())
        departments.append(model.recorder.departments())
    return pl.concat(trajectories), pl.concat(departments)
