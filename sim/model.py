"""The reference engine: a Mesa model with one agent per employee and one per workspace.

This is the readable statement of the adoption model (``docs/model.md`` gives the same
rules as equations).  Each week is synchronous: every decision reads the state at the end
of the previous week, and new states are committed together.

* :class:`Employee` (a ``FixedAgent`` on a ``mesa.discrete_space.Network`` cell) decides
  its own move: hear of the tool, adopt, comply with a mandate, lapse.
* :class:`Workspace` (the team, department or org that shares one free plan) decides
  whether its budget holder pays at the paywall, and hands out free seats.
* :class:`AdoptionModel` draws the week's uniforms (see ``sim.randomness``), runs the
  two phases, applies the end-of-week events (mandate, enterprise deal) and records.

To try a new rule, subclass :class:`Employee` and override :meth:`Employee.decide`.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from sim import rules
from sim.observe import COUNT_COLUMNS, Prices, Recorder, observe_week
from sim.org import Org
from sim.population import (
    choose_champions,
    draw_traits,
    edge_weight,
    mandate_scope,
    workspaces,
)
from sim.randomness import (
    PAYMENT,
    TRANSITION,
    framework_seed,
    replicate_rng,
    step_uniforms,
)
from sim.rules import State
from sim.scenario import Config

KEEP, REQUEST = "keep", "request"  # seat intents resolved by the workspace


class Employee(FixedAgent):
    """One employee on the org network."""

    def __init__(self, model: AdoptionModel, cell, index: int, threshold: float, k_needed: float):
        super().__init__(model)
        self.cell = cell
        self.index = index
        self.threshold = threshold
        self.k_needed = k_needed
        self.state = State.AWARE if not model.config.discovery.enabled else State.UNAWARE
        self.licensed = False
        self.reluctant = False
        self.workspace: Workspace | None = None
        self.ties: list[tuple[Employee, float]] = []
        self.weighted_degree = 0.0
        self.history: list[int] = []
        self._next = self.state
        self._intent: str | None = None

    # -- what this employee sees at the end of last week -------------------------------
    def weighted_active(self) -> float:
        """S_i: engaged colleagues, plus nominal ones at ``mandate.nominal_weight`` (eq. S)."""
        engaged = nominal = 0.0
        for other, weight in self.ties:
            if other.state == State.ACTIVE:
                engaged += weight
            elif other.state == State.NOMINAL:
                nominal += weight
        return rules.weighted_users(engaged, nominal, self.model.config.mandate.nominal_weight)

    def value_multiplier(self) -> float:
        freemium = self.model.config.freemium
        if not freemium.enabled or self.licensed or self.workspace.covered:
            return 1.0
        return freemium.free_value

    # -- phase 1: decide -----------------------------------------------------------------
    def decide(self) -> None:
        """Choose next week's state from last week's world (synchronous update).

        One uniform ``u`` per week: the transitions open to the current state are
        competing outcomes that partition [0, 1).
        """
        cfg = self.model.config
        u = float(self.model.agent_uniforms[TRANSITION, self.index])
        weighted_active = self.weighted_active()
        share = rules.active_share(weighted_active, self.weighted_degree)
        appeal = rules.appeal(
            self.value_multiplier(), cfg.mandate.resistance, 1.0 if self.reluctant else 0.0
        )
        adoption = cfg.adoption
        rule = self.model.rule
        p_want = rules.want_probability(rule, appeal, adoption.p, adoption.q, share)

        def wants() -> bool:
            return bool(
                rules.wants_to_adopt(
                    rule,
                    u,
                    p_want,
                    appeal,
                    share,
                    weighted_active,
                    self.threshold,
                    self.k_needed,
                )
            )

        state, nxt, intent = self.state, self.state, None
        lapse_on = cfg.abandonment.enabled
        if state == State.UNAWARE:
            p_aware = rules.awareness_probability(
                cfg.discovery.external_rate, cfg.discovery.word_of_mouth, share
            )
            if cfg.discovery.enabled and u < p_aware:
                nxt = State.AWARE
        elif state == State.AWARE:
            if wants():
                nxt, intent = (State.ACTIVE, None) if self.licensed else (state, REQUEST)
            elif self.licensed and rules.complies(u, p_want, cfg.mandate.compliance):
                nxt = State.NOMINAL
        elif state == State.BLOCKED:
            p_give_up = rules.lapse_probability(cfg.abandonment.rate, 0.0, 0.0, 0.0)
            if lapse_on and u < p_give_up:
                nxt = State.LAPSED
            elif self.licensed:
                nxt = State.ACTIVE
            else:
                intent = REQUEST
        elif state == State.ACTIVE:
            p_lapse = rules.lapse_probability(
                cfg.abandonment.rate, appeal, cfg.tool.standalone_value, share
            )
            if lapse_on and u < p_lapse:
                nxt = State.LAPSED
            elif not self.licensed:
                intent = KEEP
        elif state == State.NOMINAL:
            if wants():
                nxt = State.ACTIVE
        self._next, self._intent = nxt, intent

    # -- phase 2: commit -----------------------------------------------------------------
    def advance(self) -> None:
        self.state = self._next
        self._intent = None


class Workspace(mesa.Agent):
    """A team, department or the whole org sharing one free plan; its holder pays."""

    def __init__(self, model: AdoptionModel, index: int, holder: int):
        super().__init__(model)
        self.index = index
        self.holder_id = holder
        self.members: list[Employee] = []  # sorted by employee id
        self.paid = False
        self.trial_start = -1
        self.covered = False  # paid or on trial, as of the end of last week
        self._pays = False

    def update_cover(self, week: int) -> None:
        """Cover at the end of ``week``: paid, or a trial not yet started or still running."""
        trial_weeks = self.model.config.freemium.trial_weeks
        on_trial = trial_weeks > 0 and (
            self.trial_start < 0 or week - self.trial_start < trial_weeks
        )
        self.covered = self.paid or on_trial

    def decide_payment(self) -> None:
        """At the paywall (someone blocked), the budget holder may pay from this week on."""
        cfg = self.model.config
        if not cfg.freemium.enabled or self.paid or self.model.deal:
            return
        unlicensed = [m for m in self.members if not m.licensed]
        blocked = sum(1 for m in unlicensed if m.state == State.BLOCKED)
        if blocked == 0:
            return
        demand = blocked + sum(1 for m in unlicensed if m.state == State.ACTIVE)
        holder_active = 1.0 if self.model.employee(self.holder_id).state == State.ACTIVE else 0.0
        p_pay = rules.pay_probability(
            cfg.freemium.decision_rate,
            cfg.tool.price_per_seat_week,
            cfg.tool.value_per_seat_week,
            float(demand),
            cfg.freemium.demand_scale,
            cfg.freemium.holder_boost,
            holder_active,
        )
        if float(self.model.workspace_uniforms[PAYMENT, self.index]) < p_pay:
            self._pays = True

    def resolve_seats(self) -> None:
        """Grant seats to this week's keepers and requesters, lowest employee id first."""
        cfg = self.model.config.freemium
        cap = cfg.free_seats
        unlimited = not cfg.enabled or self.covered or cap is None
        free = cap if cap is not None else 0
        keepers = [m for m in self.members if m._intent == KEEP]
        requesters = [m for m in self.members if m._intent == REQUEST]
        for member in keepers:
            if unlimited or free > 0:
                member._next = State.ACTIVE
                free -= 1
            else:
                member._next = State.BLOCKED
        for member in requesters:
            if unlimited or free > 0:
                member._next = State.ACTIVE
                free -= 1
            else:
                member._next = State.BLOCKED

    def commit(self, week: int) -> None:
        if self._pays:
            self.paid, self._pays = True, False
        if self.trial_start < 0 and any(
            m.state == State.ACTIVE and not m.licensed for m in self.members
        ):
            self.trial_start = week


class AdoptionModel(mesa.Model):
    """One replicate of one plan: employees adopting a tool on an org network."""

    def __init__(self, config: Config, org: Org, replicate: int = 0, seed: int | None = None):
        seed = config.seed if seed is None else seed
        super().__init__(seed=framework_seed(seed, replicate))
        # The decision stream (randomness contract). Kept apart from Mesa's own ``self.rng``
        # / ``self.random`` (seeded by framework_seed), so that Mesa, the browser view or a
        # subclass drawing from those can never shift the draws the rules read.
        self.decisions = replicate_rng(seed, replicate)
        self.config, self.org, self.replicate = config, org, replicate
        self.rule = rules.rule_code(config.adoption.rule)
        self.deal = False
        self.week = 0
        self.prices = Prices(
            config.tool.price_per_seat_week,
            config.licence_price,
            config.enterprise.price_per_seat_week,
        )
        traits = draw_traits(self.decisions, org.n, config.adoption)
        self.network = Network(org.graph, random=self.random)
        self.employees: list[Employee] = []
        for i in range(org.n):
            self.employees.append(
                Employee(
                    self, self.network[i], i, float(traits.threshold[i]), float(traits.k_needed[i])
                )
            )
        self._connect(org)
        self.scope = workspaces(org, config.freemium.workspace)
        self.workspaces = [Workspace(self, w, int(h)) for w, h in enumerate(self.scope.holder)]
        for employee in self.employees:
            employee.workspace = self.workspaces[self.scope.of_agent[employee.index]]
            employee.workspace.members.append(employee)
        self.mandated = mandate_scope(org, config) if config.mandate.enabled else None
        self.recorder = Recorder([replicate], org.department, org.department_names)
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in (*COUNT_COLUMNS, "cum_cost")}
        )
        self._place_champions(
            choose_champions(org, config.seeding.strategy, config.seeding.count, traits.keys)
        )

    def _connect(self, org: Org) -> None:
        """Each employee's weighted ties, read from the Mesa network's cells."""
        weights = self.config.org.tie_weights
        for employee in self.employees:
            for cell in employee.cell.connections.values():
                other = self.employees[cell.coordinate]
                kind = org.graph.edges[employee.index, other.index].get("kind", "informal")
                employee.ties.append((other, edge_weight(kind, weights)))
            employee.ties.sort(key=lambda tie: tie[0].index)
            employee.weighted_degree = sum(w for _, w in employee.ties)

    def employee(self, index: int) -> Employee:
        return self.employees[index]

    def _place_champions(self, champions: np.ndarray) -> None:
        """Week 0: champions ask for seats like any adopter; then end-of-week events."""
        for workspace in self.workspaces:
            workspace.update_cover(-1)
        for employee in self.employees:
            employee._next = employee.state
        for index in champions:
            self.employees[index]._intent = REQUEST
        for workspace in self.workspaces:
            workspace.resolve_seats()
        self._commit(week=0)

    def step(self) -> None:
        """One week: draw the block, decide (agents, then workspaces), commit, events."""
        self.agent_uniforms, self.workspace_uniforms = step_uniforms(
            self.decisions, self.org.n, len(self.workspaces)
        )
        for workspace in self.workspaces:
            workspace.update_cover(self.week)
        self.agents_by_type[Employee].do("decide")
        for workspace in self.workspaces:
            workspace.decide_payment()
            workspace.resolve_seats()
        self._commit(week=self.week + 1)

    def _commit(self, week: int) -> None:
        self.agents_by_type[Employee].do("advance")
        for workspace in self.workspaces:
            workspace.commit(week)
        self.week = week
        self._end_of_week_events()
        self._record()

    def _end_of_week_events(self) -> None:
        cfg = self.config
        if self.mandated is not None and self.week == cfg.mandate.week:
            for employee in self.employees:
                if self.mandated[employee.index]:
                    employee.licensed = True
                    if employee.state == State.UNAWARE:
                        employee.state = State.AWARE
                    if employee.state not in (State.ACTIVE, State.BLOCKED):
                        employee.reluctant = True  # blocked ones asked for it: not reluctant
        if cfg.enterprise.enabled and not self.deal:
            active = sum(1 for e in self.employees if e.state == State.ACTIVE)
            if active >= cfg.enterprise.threshold * self.org.n:
                self.deal = True
                for employee in self.employees:
                    employee.licensed = True

    def state_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(state, licensed, paid) as N x 1, N x 1 and W x 1 arrays."""
        state = np.fromiter((e.state for e in self.employees), np.int8, self.org.n)
        licensed = np.fromiter((e.licensed for e in self.employees), bool, self.org.n)
        paid = np.fromiter((w.paid for w in self.workspaces), bool, len(self.workspaces))
        return state[:, None], licensed[:, None], paid[:, None]

    def _record(self) -> None:
        state, licensed, paid = self.state_arrays()
        # after the end-of-week events, so a mandate's unaware -> aware shows in the history
        for employee, value in zip(self.employees, state[:, 0].tolist(), strict=True):
            employee.history.append(value)
        deal = np.array([self.deal])
        counts, department_active = observe_week(
            state,
            licensed,
            paid,
            self.scope.of_agent,
            self.org.department,
            len(self.org.department_names),
            deal,
            self.prices,
        )
        self.recorder.record(counts, deal, department_active)
        self.latest = {k: float(v[0]) for k, v in self.recorder.weeks[-1].items()}
        self.datacollector.collect(self)


def _reporter(name: str):
    return lambda model: model.latest[name]


def simulate_reference(config: Config, org: Org, replicates: list[int], seed: int | None = None):
    """Run each replicate with the Mesa engine; return (trajectories, departments) tables."""
    import polars as pl

    trajectories, departments = [], []
    for replicate in replicates:
        model = AdoptionModel(config, org, replicate, seed)
        for _ in range(config.weeks):
            model.step()
        trajectories.append(model.recorder.trajectories())
        departments.append(model.recorder.departments())
    return pl.concat(trajectories), pl.concat(departments)
