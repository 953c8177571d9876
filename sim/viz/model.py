"""The model the browser view runs: the reference engine for one plan, with live overrides.

:class:`ViewSpec` holds what ``adoptsim viz`` was started with (scenario, plan) and the
orgs built from it (once; the layout and network painter are cached per org).
:class:`VizModel` is :class:`~sim.engines.reference.AdoptionModel` built from keyword
parameters: the plan, the seed, and the controls the schema declares
(``sim.viz.controls``).

Parameter semantics: every control value passed is an override of the selected plan,
whatever its value (so a value equal to another plan's can be applied); a control not
passed takes the selected plan's value.  The page passes only the controls the user has
changed, shows the others at the selected plan's values, and marks the overrides.
:meth:`VizModel.summary` says what is actually running.  The run stops at the scenario's
last week: stepping further does nothing (and Mesa's step counter stays put).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sim.engines.reference import AdoptionModel
from sim.engines.runner import PreparedPlan, prepare
from sim.scenario import Scenario, ScenarioError, check_against_org, load_scenario
from sim.viz.controls import CONTROL_NAMES, CONTROLS, apply_controls, control_values, widget

SCENARIO_ENV = "ADOPTSIM_VIZ_SCENARIO"
PLAN_ENV = "ADOPTSIM_VIZ_PLAN"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"


@dataclass(eq=False)
class ViewSpec:
    """A scenario and the plan the view starts with; orgs are built once and shared."""

    scenario: Scenario
    plan: str
    prepared: list[PreparedPlan] = field(repr=False)

    @classmethod
    def load(cls, path: Path | str, plan: str | None = None) -> ViewSpec:
        """Load and check a scenario; ``plan`` defaults to the first one."""
        scenario = load_scenario(path)
        names = [p.name for p in scenario.plans]
        if plan is not None and plan not in names:
            raise ScenarioError(f"{path}: no plan {plan!r}; plans: {', '.join(names)}")
        return cls(scenario, plan or names[0], prepare(scenario))

    @property
    def plan_names(self) -> list[str]:
        return [p.plan.name for p in self.prepared]

    def prepared_plan(self, name: str) -> PreparedPlan:
        for item in self.prepared:
            if item.plan.name == name:
                return item
        raise ScenarioError(f"no plan {name!r}; plans: {', '.join(self.plan_names)}")

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """Control values of the launched plan (and its seed)."""
        return self.values(self.plan)

    def values(self, plan: str) -> dict[str, Any]:
        """Control values of ``plan`` as the scenario writes it (and its seed)."""
        config = self.prepared_plan(plan).config
        return {"seed": config.seed, **control_values(config)}

    def widgets(self, plan: str | None = None) -> dict[str, dict[str, Any]]:
        """One widget description per declared control (``sim.viz.controls.widget``), at
        ``plan``'s values and with ranges for ``plan``'s org (the launched plan by default)."""
        item = self.prepared_plan(plan or self.plan)
        values = self.values(item.plan.name)
        return {c.name: widget(c, values[c.name], item.config, item.org) for c in CONTROLS}


def parse_seed(text: Any, default: int) -> int:
    """The seed typed into the page, or ``default`` when it is not a non-negative integer."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        return default
    return seed if 0 <= seed < 2**63 else default


_spec: ViewSpec | None = None
_spec_lock = threading.Lock()


def current_spec() -> ViewSpec:
    """The spec named by $ADOPTSIM_VIZ_SCENARIO / $ADOPTSIM_VIZ_PLAN (loaded once)."""
    global _spec
    with _spec_lock:
        if _spec is None:
            path = os.environ.get(SCENARIO_ENV) or str(DEFAULT_SCENARIO)
            _spec = ViewSpec.load(path, os.environ.get(PLAN_ENV) or None)
        return _spec


def set_spec(spec: ViewSpec) -> None:
    """Use ``spec`` instead of the environment (tests, notebooks)."""
    global _spec
    with _spec_lock:
        _spec = spec


class VizModel(AdoptionModel):
    """The reference engine for one plan of the current spec, with the controls applied.

    Every argument is a keyword with a default, so ``VizModel()`` is the launched plan.
    """

    def __init__(
        self,
        plan: str | None = None,
        seed: str | int | None = None,
        spec: ViewSpec | None = None,
        **kwargs: Any,
    ):
        """``kwargs``: control values by name (``sim.viz.controls.CONTROL_NAMES``), each an
        override of the plan; ``None`` means 'the plan's value'."""
        unknown = sorted(set(kwargs) - set(CONTROL_NAMES))
        if unknown:
            raise ScenarioError(f"unknown control(s) {unknown}; controls: {list(CONTROL_NAMES)}")
        spec = spec or current_spec()
        item = spec.prepared_plan(plan or spec.plan)
        self.notes: list[str] = []
        overrides = {k: v for k, v in kwargs.items() if v is not None}
        if seed is not None:
            parsed = parse_seed(seed, item.config.seed)
            if str(seed).strip() != str(parsed):
                self.notes.append(
                    f"seed {str(seed)!r} is not a whole number 0..2^63-1: running seed {parsed}"
                )
            else:
                overrides["seed"] = parsed
        config = self._applicable(item, overrides, spec)
        applied = control_values(config)
        for name, value in overrides.items():
            if name in applied and applied[name] != value:
                self.notes.append(
                    f"{name} {value} is outside what the plan allows: running {applied[name]}"
                )
        self.spec, self.plan_name, self.overrides = spec, item.plan.name, overrides
        self.champions = np.array([], dtype=np.int64)
        super().__init__(config, item.org, replicate=0, seed=config.seed)
        self.running = not self.finished

    def _applicable(self, item: PreparedPlan, overrides: dict[str, Any], spec: ViewSpec):
        """The plan with the controls applied, if they fit its org; else the plan as it is,
        with a note (a control set for one plan can name a department, or a number of
        champions, that another plan's org does not have)."""
        try:
            config = apply_controls(item.config, overrides)
            check_against_org(config, item.org, spec.scenario.source, item.plan.name)
        except ScenarioError as error:
            self.notes.append(
                f"the controls do not fit plan {item.plan.name!r} ({error}); "
                "running the plan as it is"
            )
            overrides.clear()
            return item.config
        return config

    def _place_champions(self, champions: np.ndarray) -> None:
        self.champions = np.asarray(champions, dtype=np.int64)
        super()._place_champions(champions)

    @property
    def finished(self) -> bool:
        """Whether the run has reached the scenario's last week."""
        return self.week >= self.config.weeks

    def _wrapped_step(self, *args: Any, **kwargs: Any) -> None:
        """Mesa's step wrapper, refusing to go past the last week (a 'step 9 weeks' that
        starts at week 50 of 52 stops at 52, and Mesa's step count with it)."""
        if self.finished:
            self.running = False
            return
        super()._wrapped_step(*args, **kwargs)

    def step(self) -> None:
        """One week; the run stops at the scenario's last week."""
        super().step()
        self.running = not self.finished

    def running_values(self) -> dict[str, Any]:
        """The control values of what is running (and its seed)."""
        return {"seed": self.config.seed, **control_values(self.config)}

    def monitors(self) -> dict[str, Any]:
        """This week's headline numbers: week, active share, seats paid for, shelfware share
        of those seats (None without seats), cost this week and to date, conversions."""
        latest, n = self.latest, max(self.org.n, 1)
        seats = latest.get("seats", 0.0)
        return {
            "week": self.week,
            "weeks": self.config.weeks,
            "active_share": latest.get("active", 0.0) / n,
            "seats": seats,
            "shelfware_share": latest.get("shelfware", 0.0) / seats if seats > 0 else None,
            "cost_week": latest.get("cost", 0.0),
            "cost_to_date": latest.get("cum_cost", 0.0),
            "conversions": latest.get("paid_workspaces", 0.0),
            "currency": self.config.costs.currency,
        }

    def summary(self) -> str:
        """One line: what is running (plan, overrides, seed, size)."""
        changed = ", ".join(f"{k}={v}" for k, v in self.overrides.items() if k != "seed")
        return (
            f"plan {self.plan_name}"
            + (f" with {changed}" if changed else "")
            + f"; seed {self.config.seed}; {self.org.n:,} employees, "
            f"{len(self.workspaces):,} {self.config.freemium.workspace} workspaces"
            + "".join(f". Note: {note}" for note in self.notes)
        )
