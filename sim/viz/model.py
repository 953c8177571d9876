"""The model the browser view runs: the reference engine for one plan, with live overrides.

:class:`ViewSpec` holds what ``adoptsim viz`` was started with (scenario, plan) and the
orgs built from it (once; the layout and network painter are cached per org).
:class:`VizModel` is :class:`~sim.engines.reference.AdoptionModel` built from keyword parameters, as
SolaraViz's Reset needs: the plan, the seed, and the main parameters.

Parameter semantics: the controls start at the launched plan's values.  A control left
at that value follows whichever plan is selected; a control moved away from it overrides
the selected plan.  :meth:`VizModel.summary` says what is actually running.
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
from sim.scenario import Config, Scenario, ScenarioError, load_scenario

SCENARIO_ENV = "ADOPTSIM_VIZ_SCENARIO"
PLAN_ENV = "ADOPTSIM_VIZ_PLAN"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "default.toml"
SEEDING_STRATEGIES = ("none", "random", "hubs", "brokers", "managers", "team")
UNLIMITED = -1  # free_seats control value meaning "no cap"


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
        """Control values of the launched plan (see :func:`controls_of`)."""
        return controls_of(self.prepared_plan(self.plan).config)

    def model_params(self) -> dict[str, Any]:
        """SolaraViz ``model_params``: the plan selector, seed and the main parameters."""
        d = self.defaults
        cfg = self.prepared_plan(self.plan).config
        org = self.prepared_plan(self.plan).org
        scopes = ["org", *org.department_names]
        if d["mandate_scope"] not in scopes:
            scopes.append(d["mandate_scope"])
        champions_max = max(d["champions"], min(org.n, 200))
        seats_max = max(d["free_seats"], 50)
        return {
            "plan": {
                "type": "Select",
                "value": self.plan,
                "values": self.plan_names,
                "label": "Plan",
            },
            "seed": {"type": "InputText", "value": str(d["seed"]), "label": "Seed"},
            "peer_influence": {
                "type": "SliderFloat",
                "value": d["peer_influence"],
                "min": 0.0,
                "max": 1.0,
                "step": 0.01,
                "label": "Peer influence q (linear rule)",
            },
            "free_seats": {
                "type": "SliderInt",
                "value": d["free_seats"],
                "min": UNLIMITED,
                "max": seats_max,
                "step": 1,
                "label": "Free seat cap per workspace (-1 = none)",
            },
            "trial_weeks": {
                "type": "SliderInt",
                "value": d["trial_weeks"],
                "min": 0,
                "max": max(52, d["trial_weeks"]),
                "step": 1,
                "label": "Trial weeks",
            },
            "mandate": {"type": "Checkbox", "value": d["mandate"], "label": "Mandate"},
            "mandate_week": {
                "type": "SliderInt",
                "value": d["mandate_week"],
                "min": 0,
                "max": cfg.weeks,
                "step": 1,
                "label": "Mandate week",
            },
            "mandate_scope": {
                "type": "Select",
                "value": d["mandate_scope"],
                "values": scopes,
                "label": "Mandate scope",
            },
            "compliance": {
                "type": "SliderFloat",
                "value": d["compliance"],
                "min": 0.0,
                "max": 1.0,
                "step": 0.05,
                "label": "Mandate compliance",
            },
            "seeding": {
                "type": "Select",
                "value": d["seeding"],
                "values": list(SEEDING_STRATEGIES),
                "label": "Seeding strategy",
            },
            "champions": {
                "type": "SliderInt",
                "value": d["champions"],
                "min": 0,
                "max": champions_max,
                "step": 1,
                "label": "Champions",
            },
        }


def controls_of(cfg: Config) -> dict[str, Any]:
    """The control values that reproduce ``cfg``."""
    scope = cfg.mandate.scope
    return {
        "seed": cfg.seed,
        "peer_influence": cfg.adoption.q,
        "free_seats": UNLIMITED if cfg.freemium.free_seats is None else cfg.freemium.free_seats,
        "trial_weeks": cfg.freemium.trial_weeks,
        "mandate": cfg.mandate.enabled,
        "mandate_week": cfg.mandate.week,
        "mandate_scope": scope if scope == "org" else ",".join(scope),
        "compliance": cfg.mandate.compliance,
        "seeding": cfg.seeding.strategy,
        "champions": cfg.seeding.count,
    }


def apply_controls(cfg: Config, controls: dict[str, Any]) -> Config:
    """``cfg`` with the given control values applied, validated by the scenario schema."""
    data = cfg.model_dump()
    c = controls
    if "peer_influence" in c:  # keep p + q <= 1 (a weekly probability)
        data["adoption"]["q"] = min(float(c["peer_influence"]), 1.0 - data["adoption"]["p"])
    if "free_seats" in c:
        data["freemium"]["free_seats"] = None if c["free_seats"] < 0 else int(c["free_seats"])
    if "trial_weeks" in c:
        data["freemium"]["trial_weeks"] = int(c["trial_weeks"])
    if "mandate" in c:
        data["mandate"]["enabled"] = bool(c["mandate"])
    if "mandate_week" in c:
        data["mandate"]["week"] = min(int(c["mandate_week"]), data["weeks"])
    if "mandate_scope" in c:
        scope = str(c["mandate_scope"])
        data["mandate"]["scope"] = "org" if scope == "org" else scope.split(",")
    if "compliance" in c:
        data["mandate"]["compliance"] = float(c["compliance"])
    if "seeding" in c:
        data["seeding"]["strategy"] = c["seeding"]
    if "champions" in c:
        data["seeding"]["count"] = int(c["champions"])
    if "seed" in c:
        data["seed"] = int(c["seed"])
    try:
        return Config.model_validate(data)
    except ValueError as error:
        raise ScenarioError(f"controls {controls}: {error}") from None


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

    Every argument is a keyword with the launched plan's value as default, so that
    ``VizModel()`` is the launched plan and SolaraViz's Reset can rebuild it.
    """

    def __init__(
        self,
        plan: str | None = None,
        seed: str | int | None = None,
        peer_influence: float | None = None,
        free_seats: int | None = None,
        trial_weeks: int | None = None,
        mandate: bool | None = None,
        mandate_week: int | None = None,
        mandate_scope: str | None = None,
        compliance: float | None = None,
        seeding: str | None = None,
        champions: int | None = None,
        spec: ViewSpec | None = None,
    ):
        spec = spec or current_spec()
        given = {
            "seed": seed,
            "peer_influence": peer_influence,
            "free_seats": free_seats,
            "trial_weeks": trial_weeks,
            "mandate": mandate,
            "mandate_week": mandate_week,
            "mandate_scope": mandate_scope,
            "compliance": compliance,
            "seeding": seeding,
            "champions": champions,
        }
        if given["seed"] is not None:
            given["seed"] = parse_seed(given["seed"], spec.defaults["seed"])
        # a control still at the launched plan's value follows the selected plan
        overrides = {k: v for k, v in given.items() if v is not None and v != spec.defaults[k]}
        item = spec.prepared_plan(plan or spec.plan)
        config = apply_controls(item.config, overrides)
        self.spec, self.plan_name, self.overrides = spec, item.plan.name, overrides
        self.champions = np.array([], dtype=np.int64)
        super().__init__(config, item.org, replicate=0, seed=config.seed)
        self.running = config.weeks > 0

    def _place_champions(self, champions: np.ndarray) -> None:
        self.champions = np.asarray(champions, dtype=np.int64)
        super()._place_champions(champions)

    def step(self) -> None:
        """One week; the run stops at the scenario's last week."""
        super().step()
        self.running = self.week < self.config.weeks

    def summary(self) -> str:
        """One line: what is running (plan, overrides, seed, size)."""
        changed = ", ".join(f"{k}={v}" for k, v in self.overrides.items() if k != "seed")
        return (
            f"plan {self.plan_name}"
            + (f" with {changed}" if changed else "")
            + f"; seed {self.config.seed}; {self.org.n:,} employees, "
            f"{len(self.workspaces):,} {self.config.freemium.workspace} workspaces"
        )
