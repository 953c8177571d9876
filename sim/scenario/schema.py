"""Scenario files: one pydantic schema, the only place where input is validated.

A scenario TOML file holds a base configuration (org, tool, adoption, freemium, mandate,
run length, replicates, seed) and named ``[[plans]]`` whose tables override parts of the
base.  Each plan is merged onto the base and validated as a whole, so a plan can never
produce a configuration the schema would refuse.  Every numeric field has a unit and an
allowed range (see ``docs/scenarios.md``); a wrong file raises :class:`ScenarioError`
with one message naming the file, the field and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import AdoptsimError

if TYPE_CHECKING:
    from sim.org import Org

WEIGHT_QUANTUM = 64  # tie weights are rounded to multiples of 1/64: sums are then exact floats


class ScenarioError(AdoptsimError):
    """A scenario file is wrong. The message names the file, the field and what is allowed."""


def control(
    name: str, label: str, step: float | None = None, most: int | str | None = None
) -> dict[str, Any]:
    """Declare a field as a control of the browser view (``sim/viz/controls.py`` builds
    the widget from the field's type and range).  ``name``: the view's keyword for it;
    ``step``: a float slider's step; ``most``: a slider's upper end when the schema's is
    too wide to use: a number (raised to the plan's value if that is higher), ``"weeks"``
    (the run's length) or ``"employees"`` (the org's size, at most 200 unless the plan's
    value is higher)."""
    spec: dict[str, Any] = {"name": name, "label": label}
    if step is not None:
        spec["step"] = step
    if most is not None:
        spec["most"] = most
    return {"control": spec}


class Section(BaseModel):
    """Base for every table: unknown keys are errors, and values are never coerced.

    Strict mode refuses a TOML value of the wrong type ("0.5" for a number, true for a count,
    1 for a switch) instead of silently converting it; an integer is still a valid float.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def summary(self) -> str:
        """One line for ``adoptsim check``: "off" for a switched-off mechanism, else its
        fields as ``name value``.  A section may say it better by overriding this."""
        if getattr(self, "enabled", True) is False:
            return "off"
        return ", ".join(
            f"{name} {value}"
            for name, value in self.model_dump().items()
            if name != "enabled" and not isinstance(value, dict | list)
        )


class TieWeights(Section):
    """Weight of a tie by its kind.  The three kinds every org has are fields; an org
    chart's ``ties.csv`` may name more kinds (``advice = 1.25``, ``friendship = 0.75``):
    any other key here is such a kind, 0..16.  A kind not listed weighs as ``informal``."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    manager: float = Field(1.0, ge=0, le=16, description="weight of a reporting-line tie, 0..16")
    peer: float = Field(1.0, ge=0, le=16, description="weight of a teammate tie, 0..16")
    informal: float = Field(1.0, ge=0, le=16, description="weight of an informal tie, 0..16")
    dotted: float = Field(
        1.0, ge=0, le=16, description="weight of a dotted-line (second manager) tie, 0..16"
    )

    @field_validator("manager", "peer", "informal", "dotted")
    @classmethod
    def _quantize(cls, w: float) -> float:
        return round(w * WEIGHT_QUANTUM) / WEIGHT_QUANTUM

    @model_validator(mode="after")
    def _extra_kinds(self) -> TieWeights:
        """Extra keys are tie kinds: each a number 0..16, rounded to 1/64 like the rest."""
        for kind, weight in (self.__pydantic_extra__ or {}).items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ValueError(f"tie kind {kind!r}: weight must be a number 0..16")
            if not 0 <= weight <= 16:
                raise ValueError(f"tie kind {kind!r}: weight must be in 0..16 (got {weight})")
            self.__pydantic_extra__[kind] = round(weight * WEIGHT_QUANTUM) / WEIGHT_QUANTUM
        return self

    def weight(self, kind: str) -> float:
        """The weight of a tie of ``kind``: its own entry, else ``informal``'s."""
        extra = self.__pydantic_extra__ or {}
        if kind in type(self).model_fields:
            return float(getattr(self, kind))
        return float(extra.get(kind, self.informal))

    def summary(self) -> str:
        weights = {**self.model_dump()}
        return ", ".join(f"{kind} {weight}" for kind, weight in weights.items())


class OrgSpec(Section):
    generator: Literal[
        "hierarchy",
        "complete",
        "erdos_renyi",
        "watts_strogatz",
        "barabasi_albert",
        "krackhardt",
        "chart",
    ] = Field("hierarchy", description="which org graph to build (chart: your own files)")
    n: int = Field(2000, ge=2, le=1_000_000, description="employees, 2..1,000,000")
    span: int = Field(8, ge=1, le=200, description="direct reports per manager, 1..200")
    departments: int = Field(6, ge=1, le=1000, description="departments, 1..1000")
    informal_ties: float = Field(
        4.0, ge=0, le=200, description="mean informal ties per employee, 0..200"
    )
    cross_department_share: float = Field(
        0.25, ge=0, le=1, description="share of informal ties that cross departments, 0..1"
    )
    team_size: int = Field(8, ge=1, le=10_000, description="team size for flat graphs, 1..10000")
    mean_degree: float = Field(6.0, ge=0, le=10_000, description="erdos_renyi mean degree")
    k: int = Field(6, ge=2, le=10_000, description="watts_strogatz nearest neighbours (even)")
    rewire: float = Field(0.1, ge=0, le=1, description="watts_strogatz rewiring probability, 0..1")
    m: int = Field(3, ge=1, le=10_000, description="barabasi_albert edges per new node")
    path: str | None = Field(None, description="krackhardt data folder (default: bundled copy)")
    chart: str | None = Field(
        None,
        description="chart: people CSV (employee_id, department; optional manager_id, team, "
        "title, location, dotted_manager_id), relative to the scenario's folder",
    )
    ties: str | None = Field(
        None,
        description="chart: optional ties CSV (source, target; optional weight > 0, kind), "
        "relative to the scenario's folder",
    )
    informal: list[Literal["advice", "friendship"]] = Field(
        default_factory=lambda: ["advice", "friendship"],
        description="krackhardt relations used as informal ties",
    )
    tie_weights: TieWeights = Field(default_factory=TieWeights)

    @model_validator(mode="after")
    def _consistent(self) -> OrgSpec:
        if self.generator == "hierarchy" and self.n <= self.departments:
            raise ValueError(
                f"hierarchy needs n > departments (got n={self.n}, departments={self.departments})"
            )
        if self.generator == "watts_strogatz" and (self.k % 2 or self.k >= self.n):
            raise ValueError(f"watts_strogatz needs an even k < n (got k={self.k}, n={self.n})")
        if self.generator == "chart" and not self.chart:
            raise ValueError('generator = "chart" needs chart = "people.csv" (the org chart)')
        if self.generator != "chart" and (self.chart or self.ties):
            raise ValueError('chart and ties are read only with generator = "chart"')
        if self.generator == "barabasi_albert" and self.m >= self.n:
            raise ValueError(f"barabasi_albert needs m < n (got m={self.m}, n={self.n})")
        return self


TARGET_KINDS = ("departments", "teams", "employees", "titles")


def _targets_text(section: BaseModel) -> str:
    """' in Sales, Support' for a section's non-empty target lists (seeding, actions)."""
    named = [name for kind in TARGET_KINDS for name in getattr(section, kind, [])]
    if not named:
        return ""
    shown = ", ".join(named[:4]) + (f" (+{len(named) - 4})" if len(named) > 4 else "")
    return f" in {shown}"


class Tool(Section):
    price_per_seat_week: float = Field(
        2.0, ge=0, le=10_000, description="price of one paid seat, currency per week"
    )
    value_per_seat_week: float = Field(
        5.0, gt=0, le=100_000, description="value of the paid tier to one user, currency per week"
    )
    standalone_value: float = Field(
        0.5, ge=0, le=1, description="share of the tool's value with no colleague using it, 0..1"
    )
    onboarding: float = Field(
        1.0,
        ge=0,
        le=10,
        description="self-service onboarding quality: multiplies the chance of adopting (eq. 3)",
    )
    enterprise_ready: float = Field(
        0.5,
        ge=0,
        le=1,
        description="chance an IT security review approves the tool (SSO, audit, data controls)",
    )
    pricing: Literal["per_seat", "per_active_user"] = Field(
        "per_seat",
        description="paid team plans and the enterprise deal bill every member, or engaged users",
    )

    def summary(self) -> str:
        return (
            f"price {self.price_per_seat_week} {self.pricing.replace('_', ' ')}, "
            f"value {self.value_per_seat_week}, standalone {self.standalone_value}"
            + (f", onboarding x{self.onboarding}" if self.onboarding != 1 else "")
        )


class Discovery(Section):
    enabled: bool = Field(True, description="if false, everyone knows the tool from week 0")
    external_rate: float = Field(
        0.01, ge=0, le=1, description="chance per week of hearing of the tool from outside, 0..1"
    )
    word_of_mouth: float = Field(
        0.5, ge=0, le=1, description="added awareness chance per week at 100% active ties, 0..1"
    )

    def summary(self) -> str:
        if not self.enabled:
            return "off (everyone aware)"
        return f"external {self.external_rate}, word of mouth {self.word_of_mouth}"

    @model_validator(mode="after")
    def _probability(self) -> Discovery:
        if self.external_rate + self.word_of_mouth > 1:
            raise ValueError("external_rate + word_of_mouth must be <= 1 (a weekly probability)")
        return self


class Adoption(Section):
    rule: Literal["linear", "threshold", "count"] = Field(
        "linear", description="peer-influence rule family"
    )
    p: float = Field(0.005, ge=0, le=1, description="spontaneous adoption chance per week, 0..1")
    q: float = Field(
        0.3,
        ge=0,
        le=1,
        description="linear: added chance at 100% active ties, 0..1",
        json_schema_extra=control("peer_influence", "Peer influence q (linear rule)", step=0.01),
    )
    threshold: float = Field(
        0.2, ge=0, le=1, description="threshold: share of active ties needed, 0..1"
    )
    k: float = Field(2, ge=0, le=1000, description="count: active ties needed (weighted), 0..1000")
    heterogeneity: Literal["none", "rogers", "normal"] = Field(
        "rogers",
        description="how readiness varies between employees: thresholds and k, and under "
        "linear the chance of adopting (eq. 3a)",
    )
    market_potential: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of employees the tool fits (Bass's m): the rest never want it, 0..1",
    )
    spread: float = Field(
        0.3, ge=0, le=10, description="normal heterogeneity: coefficient of variation, 0..10"
    )
    rogers_multipliers: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 1.0, 1.5, 2.5],
        min_length=5,
        max_length=5,
        description="threshold multipliers for innovators, early adopters, early majority, "
        "late majority, laggards (each 0..100)",
    )

    def summary(self) -> str:
        fit = f", fits {self.market_potential:.0%}" if self.market_potential < 1 else ""
        return f"{self.rule}, p {self.p}, q {self.q}, {self.heterogeneity}{fit}"

    @model_validator(mode="after")
    def _checks(self) -> Adoption:
        if self.rule == "linear" and self.p + self.q > 1:
            raise ValueError("linear rule needs p + q <= 1 (a weekly probability)")
        if any(not 0 <= m <= 100 for m in self.rogers_multipliers):
            raise ValueError("rogers_multipliers must each be in 0..100")
        return self


class Seeding(Section):
    strategy: Literal["none", "random", "hubs", "brokers", "managers", "team"] = Field(
        "random",
        description="who the first champions are",
        json_schema_extra=control("seeding", "Seeding strategy"),
    )
    count: int = Field(
        10,
        ge=0,
        le=1_000_000,
        description="number of champions at week 0",
        json_schema_extra=control("champions", "Champions", most="employees"),
    )

    champion_weight: float = Field(
        1.0,
        ge=1,
        le=16,
        description="how much an engaged champion counts in colleagues' S_i (evangelising), "
        "1..16, rounded to 1/64",
    )
    departments: list[str] = Field(
        default_factory=list, description="champions only from these departments (names)"
    )
    teams: list[str] = Field(default_factory=list, description="champions only from these teams")
    employees: list[str] = Field(
        default_factory=list, description="champions only among these employee ids"
    )
    titles: list[str] = Field(
        default_factory=list, description="champions only with these job titles"
    )

    @field_validator("champion_weight")
    @classmethod
    def _quantize(cls, w: float) -> float:
        return round(w * WEIGHT_QUANTUM) / WEIGHT_QUANTUM

    def summary(self) -> str:
        weight = f", weight {self.champion_weight}" if self.champion_weight != 1 else ""
        return f"{self.strategy} x{self.count}" + _targets_text(self) + weight


class Freemium(Section):
    enabled: bool = Field(True, description="if false, seats are free and unlimited")
    workspace: Literal["team", "department", "org"] = Field(
        "team", description="the unit that shares a free plan and pays for it"
    )
    free_seats: int | None = Field(
        5,
        ge=0,
        le=1_000_000,
        description='free seats per workspace, 0..1000000, or "unlimited"',
        json_schema_extra=control("free_seats", "Free seat cap per workspace (-1 = none)", most=50),
    )
    free_value: float = Field(
        0.6, ge=0, le=1, description="value of the free tier relative to paid, 0..1"
    )
    trial_weeks: int = Field(
        0,
        ge=0,
        le=520,
        description="weeks of full paid access before the cap applies, 0..520",
        json_schema_extra=control("trial_weeks", "Trial weeks", most=52),
    )
    decision_rate: float = Field(
        0.15, ge=0, le=1, description="chance per week a budget holder at the paywall decides"
    )
    demand_scale: float = Field(
        5.0, gt=0, le=1_000_000, description="users at which demand pressure is half, > 0"
    )
    holder_boost: float = Field(
        1.0, ge=0, le=100, description="added pay chance (relative) when the holder is a user"
    )

    @field_validator("free_seats", mode="before")
    @classmethod
    def _unlimited(cls, value: object) -> object:
        """TOML has no null: the word "unlimited" stands for no cap (stored as None)."""
        return None if value == "unlimited" else value

    def summary(self) -> str:
        if not self.enabled:
            return "off"
        seats = "unlimited" if self.free_seats is None else self.free_seats
        return f"{self.workspace}, {seats} free seats, trial {self.trial_weeks}w"


class Mandate(Section):
    enabled: bool = Field(
        False,
        description="whether licences are bought top-down",
        json_schema_extra=control("mandate", "Mandate"),
    )
    week: int = Field(
        0,
        ge=0,
        le=520,
        description="week the licences are bought, 0..520",
        json_schema_extra=control("mandate_week", "Mandate week", most="weeks"),
    )
    scope: Literal["org"] | list[str] = Field(
        "org",
        description='"org" or a list of department names',
        json_schema_extra=control("mandate_scope", "Mandate scope"),
    )
    compliance: float = Field(
        0.3,
        ge=0,
        le=1,
        description="chance per week a licensed non-user starts using it, 0..1",
        json_schema_extra=control("compliance", "Mandate compliance", step=0.05),
    )
    resistance: float = Field(
        0.5, ge=0, le=100, description="mandated non-users' appeal is divided by 1 + resistance"
    )
    nominal_weight: float = Field(
        0.25,
        ge=0,
        le=1,
        description="how much a nominal user counts in colleagues' active ties, relative to an "
        "engaged one, 0..1 (rounded to 1/64)",
    )
    price_per_seat_week: float | None = Field(
        None, ge=0, le=10_000, description="licence price per seat-week (default: tool price)"
    )

    @field_validator("nominal_weight")
    @classmethod
    def _quantize(cls, w: float) -> float:
        return round(w * WEIGHT_QUANTUM) / WEIGHT_QUANTUM

    def summary(self) -> str:
        if not self.enabled:
            return "off"
        scope = "org" if self.scope == "org" else ", ".join(self.scope)
        return f"week {self.week}, {scope}, compliance {self.compliance}"


class Enterprise(Section):
    enabled: bool = Field(True, description="land and expand: an org-wide deal at a threshold")
    threshold: float = Field(
        0.4, ge=0, le=1, description="org-wide active share that triggers the deal, 0..1"
    )
    price_per_seat_week: float = Field(
        1.5, ge=0, le=10_000, description="enterprise licence price per seat-week"
    )

    def summary(self) -> str:
        return f"at {self.threshold:.0%}" if self.enabled else "off"


class Abandonment(Section):
    """Active users lapse as the value they get falls (eq. 4)."""

    enabled: bool = Field(True, description="whether users can lapse")
    rate: float = Field(
        0.03, ge=0, le=1, description="weekly lapse chance of a user who gets no value, 0..1"
    )


class Winback(Section):
    """Lapsed employees come back as the value they would get rises (eq. 4b)."""

    enabled: bool = Field(False, description="whether lapsed employees can come back")
    rate: float = Field(
        0.02,
        ge=0,
        le=1,
        description="weekly chance a lapsed employee comes back at full value, 0..1 (0 = never)",
    )


class Reluctance(Section):
    """A mandated employee's reluctance fades with use (eq. 13)."""

    half_life_weeks: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="weeks of use (nominal or engaged) in which half of the reluctant lose "
        'their reluctance; "never" keeps it for good',
    )

    @field_validator("half_life_weeks", mode="before")
    @classmethod
    def _never(cls, value: object) -> object:
        return None if value == "never" else value

    def summary(self) -> str:
        never = self.half_life_weeks is None
        return "forever" if never else f"half-life {self.half_life_weeks} weeks of use"


class SecurityReview(Section):
    """IT notices shadow IT (unlicensed engaged users) and reviews it (eq. 14)."""

    enabled: bool = Field(False, description="whether IT reviews unsanctioned use")
    threshold_share: float = Field(
        0.15,
        ge=0,
        le=1,
        description="unlicensed engaged share of the org that makes IT notice, 0..1",
    )
    threshold_count: int | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="or this many unlicensed engaged users, whichever comes first",
    )
    delay_weeks: int = Field(8, ge=0, le=520, description="weeks from noticing to the verdict")
    on_fail: Literal["enterprise", "ban"] = Field(
        "ban",
        description="a failed review (chance 1 - tool.enterprise_ready) requires the enterprise "
        "plan (the deal is signed at its price) or bans unlicensed use",
    )

    def summary(self) -> str:
        if not self.enabled:
            return "off"
        count = f" or {self.threshold_count}" if self.threshold_count is not None else ""
        return (
            f"at {self.threshold_share:.0%}{count} unlicensed users, verdict after "
            f"{self.delay_weeks}w, else {self.on_fail}"
        )


class Incumbent(Section):
    """The tool people already use: switching away costs, less as colleagues switch."""

    enabled: bool = Field(False, description="whether an old tool competes with the new one")
    strength: float = Field(
        0.5,
        ge=0,
        le=100,
        description="switching cost relative to the new tool's value: appeal / (1 + strength "
        "(1 - s_i)) while the old tool is there",
    )
    cost_per_employee_week: float = Field(
        0.0, ge=0, le=10_000, description="what the old tool costs per employee-week until sunset"
    )

    def summary(self) -> str:
        return f"strength {self.strength}" if self.enabled else "off"


class Training(Section):
    """What a training action does to the employees it trains."""

    boost: float = Field(
        0.5, ge=0, le=10, description="trained employees' appeal x (1 + boost), 0..10"
    )
    weeks: int = Field(8, ge=1, le=520, description="weeks the boost lasts after the training")

    def summary(self) -> str:
        return f"appeal x{1 + self.boost:g} for {self.weeks}w"


class Trigger(Section):
    """When a triggered action fires: the first week whose end sees ``active_share`` of
    the org (or of ``department``) engaged."""

    active_share: float = Field(
        ..., ge=0, le=1, description="engaged share that fires the action, 0..1"
    )
    department: str | None = Field(
        None, description="measure the share in this department (default: the whole org)"
    )


class Action(Section):
    """One top-down action of a plan (``[[plans.actions]]``), at a week or on a trigger.

    mandate: licences plus a push (eq. 10: compliance, reluctance); licence: licences only
    (no push: nobody becomes a nominal user or reluctant because of it); training: the
    ``[training]`` boost to appeal; sunset: the old tool (``[incumbent]``) is switched off.
    """

    kind: Literal["mandate", "licence", "training", "sunset"] = Field(
        ...,
        description="mandate: licences and a push; licence: licences only; training: appeal "
        "boost ([training]); sunset: the old tool is switched off ([incumbent])",
    )
    departments: list[str] = Field(default_factory=list, description="only these departments")
    teams: list[str] = Field(default_factory=list, description="only these teams")
    employees: list[str] = Field(default_factory=list, description="only these employee ids")
    titles: list[str] = Field(default_factory=list, description="only these job titles")
    week: int | None = Field(None, ge=0, le=1040, description="fires at the end of this week")
    when: Trigger | None = Field(None, description="or: fires when a share is engaged")

    @model_validator(mode="after")
    def _one_time(self) -> Action:
        if (self.week is None) == (self.when is None):
            raise ValueError(
                "an action needs exactly one of week = N or when = { active_share = S }"
            )
        return self

    def summary(self) -> str:
        timing = (
            f"at week {self.week}"
            if self.week is not None
            else f"when {self.when.active_share:.0%} are active"
            + (f" in {self.when.department}" if self.when.department else "")
        )
        return f"{self.kind}{_targets_text(self) or ' org-wide'} {timing}"


class AdoptionOverride(Section):
    p: float | None = Field(None, ge=0, le=1, description="this department's adoption.p")
    q: float | None = Field(None, ge=0, le=1, description="this department's adoption.q")
    market_potential: float | None = Field(
        None, ge=0, le=1, description="this department's adoption.market_potential"
    )


class FitOverride(Section):
    market_potential: float | None = Field(
        None, ge=0, le=1, description="this title's adoption.market_potential"
    )


class TitleOverrides(Section):
    """``[titles."Account Executive"]``: who the tool fits, by job title (wins over the
    department's)."""

    adoption: FitOverride = Field(default_factory=FitOverride)


class ToolOverride(Section):
    value_per_seat_week: float | None = Field(
        None, gt=0, le=100_000, description="this department's tool.value_per_seat_week"
    )


class FreemiumOverride(Section):
    free_seats: int | None = Field(
        None, ge=0, le=1_000_000, description="this department's freemium.free_seats"
    )


class DepartmentOverrides(Section):
    """``[departments."Engineering"]``: a department where the tool fits differently.
    A workspace follows its budget holder's department."""

    adoption: AdoptionOverride = Field(default_factory=AdoptionOverride)
    tool: ToolOverride = Field(default_factory=ToolOverride)
    freemium: FreemiumOverride = Field(default_factory=FreemiumOverride)


class Costs(Section):
    """What a rollout costs besides licences and seats, and what an engaged user is worth.

    Outcomes: total cost of ownership (licences, seats and these), value created, net
    value and ROI (docs/model.md, "Cost and value")."""

    currency: str = Field("USD", description="currency label for reports")
    champion_hours_per_week: float = Field(
        0.0, ge=0, le=80, description="hours each champion spends evangelising per week"
    )
    hourly_cost: float = Field(
        0.0, ge=0, le=10_000, description="loaded cost of an employee hour, currency"
    )
    champion_weeks: int = Field(
        12, ge=0, le=1040, description="weeks a champion programme runs, from week 1"
    )
    training_per_employee: float = Field(
        0.0,
        ge=0,
        le=100_000,
        description="onboarding cost per employee a top-down action newly licenses",
    )
    rollout_per_action: float = Field(
        0.0, ge=0, le=100_000_000, description="fixed cost of each top-down action that fires"
    )
    it_per_action: float = Field(
        0.0,
        ge=0,
        le=100_000_000,
        description="IT set-up cost (SSO, provisioning) of each top-down action that fires",
    )
    value_per_engaged_user_week: float | None = Field(
        None,
        ge=0,
        le=100_000,
        description="value an engaged user creates per week (default: tool.value_per_seat_week)",
    )

    def summary(self) -> str:
        parts = []
        if self.champion_hours_per_week and self.hourly_cost:
            parts.append(
                f"champions {self.champion_hours_per_week}h/w x {self.hourly_cost} "
                f"for {self.champion_weeks}w"
            )
        if self.training_per_employee:
            parts.append(f"training {self.training_per_employee}/employee")
        per_action = self.rollout_per_action + self.it_per_action
        if per_action:
            parts.append(f"{per_action} per action")
        return ", ".join(parts) or "licences and seats only"


class Config(Section):
    """One fully resolved configuration: what one plan of a scenario runs."""

    weeks: int = Field(104, ge=1, le=1040, description="weeks simulated, 1..1040")
    replicates: int = Field(20, ge=1, le=100_000, description="replicates per plan, 1..100000")
    seed: int = Field(12345, ge=0, lt=2**63, description="run seed, 0..2^63-1")
    org: OrgSpec = Field(default_factory=OrgSpec)
    tool: Tool = Field(default_factory=Tool)
    discovery: Discovery = Field(default_factory=Discovery)
    adoption: Adoption = Field(default_factory=Adoption)
    seeding: Seeding = Field(default_factory=Seeding)
    freemium: Freemium = Field(default_factory=Freemium)
    mandate: Mandate = Field(default_factory=Mandate)
    enterprise: Enterprise = Field(default_factory=Enterprise)
    abandonment: Abandonment = Field(default_factory=Abandonment)
    winback: Winback = Field(default_factory=Winback)
    reluctance: Reluctance = Field(default_factory=Reluctance)
    security_review: SecurityReview = Field(default_factory=SecurityReview)
    incumbent: Incumbent = Field(default_factory=Incumbent)
    training: Training = Field(default_factory=Training)
    actions: list[Action] = Field(
        default_factory=list, description="staged or triggered top-down actions ([[plans.actions]])"
    )
    departments: dict[str, DepartmentOverrides] = Field(
        default_factory=dict, description='per-department overrides ([departments."Name"])'
    )
    titles: dict[str, TitleOverrides] = Field(
        default_factory=dict, description='who the tool fits by job title ([titles."Name"])'
    )
    costs: Costs = Field(default_factory=Costs)

    @model_validator(mode="after")
    def _cross(self) -> Config:
        if self.seeding.count > self.org.n and self.org.generator not in ("krackhardt", "chart"):
            raise ValueError(f"seeding.count ({self.seeding.count}) exceeds org.n ({self.org.n})")
        if self.mandate.enabled and self.mandate.week > self.weeks:
            raise ValueError(
                f"mandate.week ({self.mandate.week}) is after the last week ({self.weeks})"
            )
        for index, action in enumerate(self.actions):
            if action.week is not None and action.week > self.weeks:
                raise ValueError(
                    f"actions[{index + 1}].week ({action.week}) is after the last week "
                    f"({self.weeks})"
                )
        if self.adoption.rule == "linear":
            for name, override in self.departments.items():
                p = self.adoption.p if override.adoption.p is None else override.adoption.p
                q = self.adoption.q if override.adoption.q is None else override.adoption.q
                if p + q > 1:
                    raise ValueError(
                        f"departments.{name}: linear rule needs p + q <= 1 (got p {p}, q {q})"
                    )
        return self

    def plan_actions(self) -> list[Action]:
        """Every top-down action, in the order they apply within a week: the ``[mandate]``
        table (when enabled) first, as the one-action case, then ``actions``."""
        actions = list(self.actions)
        if self.mandate.enabled:
            scope = [] if self.mandate.scope == "org" else list(self.mandate.scope)
            actions.insert(0, Action(kind="mandate", departments=scope, week=self.mandate.week))
        return actions

    @property
    def value_per_engaged_user(self) -> float:
        value = self.costs.value_per_engaged_user_week
        return self.tool.value_per_seat_week if value is None else value

    @property
    def licence_price(self) -> float:
        price = self.mandate.price_per_seat_week
        return self.tool.price_per_seat_week if price is None else price


# The model's mechanisms: the Config sections whose fields feed the rule layer.  Each one's
# fields become the parameter block the rules read (``r.<section>_<field>``, built by
# ``sim.engines.params``), a column of ``adoptsim check`` (``Section.summary``) and a row
# of docs/scenarios.md.  A new mechanism adds its section to Config and its name here.
MECHANISMS = (
    "tool",
    "discovery",
    "adoption",
    "seeding",
    "freemium",
    "mandate",
    "enterprise",
    "abandonment",
    "winback",
    "reluctance",
    "security_review",
    "incumbent",
    "training",
)


class Plan(BaseModel):
    """A named rollout plan: its resolved configuration, and one per sweep point."""

    model_config = ConfigDict(frozen=True)
    name: str
    description: str = ""
    config: Config
    point_configs: list[Config] = Field(default_factory=list, repr=False)

    def at(self, point: int) -> Config:
        """The configuration at a sweep point (point 0 is the base when there is no sweep)."""
        return self.point_configs[point] if self.point_configs else self.config


class Sweep(BaseModel):
    """A scenario's ``[sweep]``: parameters by dotted path, as a grid or a Latin hypercube."""

    model_config = ConfigDict(frozen=True)
    design: Literal["grid", "latin_hypercube"] = "grid"
    parameters: dict[str, Any]
    points: list[dict[str, Any]]


class Sensitivity(BaseModel):
    """A scenario's ``[sensitivity]``: which parameters to vary over which ranges, for which
    outcome of which plan (or the paired difference of two plans), by Morris screening or
    Sobol indices (``adoptsim sensitivity``)."""

    model_config = ConfigDict(frozen=True)
    method: Literal["morris", "sobol"] = "morris"
    outcomes: tuple[str, ...] = ("final_active_share",)  # one or more, from the same runs
    plans: list[str]  # one plan: its outcome; two: the paired difference A - B
    parameters: dict[str, tuple[float, float]]  # dotted path -> (min, max)
    trajectories: int = 10  # Morris trajectories; Sobol base samples (a power of 2)
    replicates: int = 10  # per sample, paired (common random numbers) across samples
    seed: int = 0  # of the sample design

    @property
    def outcome(self) -> str:
        """The (first) outcome."""
        return self.outcomes[0]

    def target_of(self, outcome: str) -> str:
        """What one outcome's indices are of: 'final_active_share of A' or '..., A - B'."""
        plans = self.plans
        return (
            f"{outcome} of {plans[0]}" if len(plans) == 1 else f"{outcome}, {plans[0]} - {plans[1]}"
        )

    @property
    def target(self) -> str:
        """Every outcome's target, in words ('a, b and c of A' or '..., A - B')."""
        *rest, last = self.outcomes
        return self.target_of(f"{', '.join(rest)} and {last}" if rest else last)


class Optimize(BaseModel):
    """A scenario's ``[optimize]``: the plan levers to search (ranges or choices), one
    objective or two (then the Pareto front of both is searched), and an optional budget
    (``adoptsim optimize``)."""

    model_config = ConfigDict(frozen=True)
    plan: str
    objectives: tuple[str, ...] = ("net_value",)  # one, or two: a Pareto front
    directions: tuple[Literal["maximize", "minimize"], ...] = ("maximize",)  # one per objective
    levers: dict[str, Any]  # dotted path -> (min, max) or a list of choices
    trials: int = 30
    replicates: int = 10  # per candidate, on common random numbers
    confirm_replicates: int = 40  # the winner and the plan as written, on fresh replicates
    budget: float | None = None  # mean total cost of ownership must not exceed it
    seed: int = 0

    @property
    def objective(self) -> str:
        """The (first) objective."""
        return self.objectives[0]

    @property
    def direction(self) -> str:
        """The (first) objective's direction."""
        return self.directions[0]

    @property
    def pareto(self) -> bool:
        """Two objectives: the search is for their Pareto front."""
        return len(self.objectives) > 1


class Fit(BaseModel):
    """A scenario's ``[fit]``: the free parameters and their priors, for ``adoptsim fit``."""

    model_config = ConfigDict(frozen=True)
    plan: str
    parameters: dict[str, dict[str, Any]]  # dotted path -> {prior, min, max} or {prior, mean, sd}
    population: int = 100  # particles per generation (ABC-SMC)
    generations: int = 5
    seed: int = 0


class Scenario(BaseModel):
    """A loaded scenario file: a name, its plans (at least one), and where it came from."""

    model_config = ConfigDict(frozen=True)
    name: str
    description: str = ""
    source: str = ""
    plans: list[Plan]
    sweep: Sweep | None = None
    sensitivity: Sensitivity | None = None
    optimize: Optimize | None = None
    fit: Fit | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def points(self) -> list[dict[str, Any]]:
        """Sweep points as {dotted path: value}; one empty point when there is no sweep."""
        return self.sweep.points if self.sweep else [{}]

    def resolved(self) -> dict[str, Any]:
        """The scenario as resolved (every default filled in), JSON-ready."""
        return {
            "name": self.name,
            "description": self.description,
            "plans": [
                {"name": p.name, "description": p.description, "config": p.config.model_dump()}
                for p in self.plans
            ],
            "sweep": self.sweep.model_dump() if self.sweep else None,
        }

    def data_files(self) -> dict[str, str]:
        """The org data files the plans read (chart, ties, a Krackhardt folder's files),
        each with the SHA-256 of its bytes: an edited people.csv is a different run."""
        paths: set[Path] = set()
        for plan in self.plans:
            for config in [plan.config, *plan.point_configs]:
                org = config.org
                paths.update(Path(f) for f in (org.chart, org.ties) if f)
                if org.path and Path(org.path).is_dir():
                    paths.update(f for f in Path(org.path).iterdir() if f.is_file())
        hashes = {}
        for path in sorted(paths):
            try:
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                hashes[str(path)] = "unreadable"
        return hashes

    def digest(self) -> str:
        """A hash of the resolved scenario and its data files: equal digests, equal runs."""
        text = json.dumps({**self.resolved(), "data_files": self.data_files()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_TOP_LEVEL = {"name", "description", "plans", "sweep", "sensitivity", "optimize", "fit"}
_SHARED = ("weeks", "replicates", "seed")  # set once at the top, never inside a plan
_NOT_SWEPT = {"seed", "replicates"}  # shared by every point: the comparison stays paired
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _describe(err: dict[str, Any], model: type[BaseModel], in_plan: bool = False) -> str:
    """One line for one pydantic error: dotted field, problem, value and what is allowed.

    ``in_plan`` says an unknown key was written inside a ``[[plans]]`` table, where the
    allowed keys differ from the top level's (no plans, sweep, weeks, replicates or seed).
    """
    loc = [str(p) for p in err["loc"]]
    field_path = _shown_path(err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    if not loc:  # a check across fields: its message names the fields itself
        return message
    hint = _field_description(model, loc)
    got = ""
    if err["type"] != "missing" and "input" in err and not isinstance(err["input"], dict):
        got = f" (got {err['input']!r})"
    if err["type"] == "extra_forbidden":
        section = _section_model(model, loc[:-1])
        names = set(section.model_fields) if section else set()
        if len(loc) == 1 and model is Config:
            names = _plan_keys() if in_plan else names | _TOP_LEVEL
        allowed = ", ".join(sorted(names))
        return f"{field_path}: unknown field; allowed here: {allowed}"
    return f"{field_path}: {message}{got}" + (f" [{hint}]" if hint else "")


def _plan_keys() -> set[str]:
    """The keys a ``[[plans]]`` table may hold: its name, description and overrides."""
    return (set(Config.model_fields) - set(_SHARED)) | {"name", "description"}


def _shown_path(loc: tuple | list) -> str:
    """A field's location as a user counts: ``actions[1].week`` for the first
    ``[[actions]]`` block's week (pydantic counts list items from 0)."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part + 1}]" if parts else f"[{part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts) if parts else "(scenario)"


def _has_path(data: Any, loc: list[str]) -> bool:
    """Whether nested dicts and lists ``data`` hold the location ``loc``."""
    for key in loc:
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
            continue
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def _plan_error(
    err: ValidationError, plan_name: str, overrides: dict[str, Any], single_base: bool
) -> str:
    """The message for a plan that fails validation (base merged with its overrides).

    An unknown key that the plan did not write comes from the base, so it is reported
    at the top level rather than as part of the plan.
    """
    first = err.errors()[0]
    loc = [str(p) for p in first["loc"]]
    from_plan = _has_path(overrides, loc)
    if first["type"] == "extra_forbidden" and not from_plan:
        return _describe(first, Config)
    prefix = "" if single_base else f"plan {plan_name!r}: "
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{prefix}{_describe(first, Config, in_plan=from_plan)}{more}"


def _section_model(model: type[BaseModel], loc: list[str]) -> type[BaseModel] | None:
    """The table model a location names; list indexes and dict keys inside it
    (``actions.0``, ``departments.Sales``) are stepped over."""
    current: Any = model
    expect_key = False  # the previous field was a list or dict of tables: skip its key
    for part in loc:
        if expect_key:
            expect_key = False
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        annotation = fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
            continue
        args = typing.get_args(annotation)
        inner = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not inner:
            return None
        current = inner[0]
        expect_key = typing.get_origin(annotation) in (list, dict)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_description(model: type[BaseModel], loc: list[str]) -> str:
    if not loc:
        return ""
    section = _section_model(model, loc[:-1])
    if section is None or loc[-1] not in section.model_fields:
        return ""
    return section.model_fields[loc[-1]].description or ""


def is_safe_name(name: Any) -> bool:
    """A scenario name is one safe path component: ``results/<name>`` can never be ``.``,
    ``..``, hidden, absolute or nested."""
    return (
        isinstance(name, str)
        and 0 < len(name) <= 100
        and set(name) <= _NAME_OK
        and name[0].isascii()
        and name[0].isalnum()
    )


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario already read into a dict; raise ScenarioError on any problem."""

    def fail(where: str, what: str) -> ScenarioError:
        return ScenarioError(f"{source}: {where}: {what}")

    if not isinstance(data, dict):
        raise fail("(file)", "must be a TOML table")
    name = data.get("name", Path(source).stem)
    if not is_safe_name(name):
        given = "" if "name" in data else " (taken from the file name; set name = ...)"
        raise fail(
            "name",
            "must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit: "
            f"it names the results folder (got {name!r}{given})",
        )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be a string")
    base = {k: v for k, v in data.items() if k not in _TOP_LEVEL}
    seed = base.get("seed", Config.model_fields["seed"].default)
    sweep = None
    if "sweep" in data:
        sweep = _parse_sweep(data["sweep"], source, seed if isinstance(seed, int) else 0)
    plans_raw = data.get("plans", [{"name": "base"}])
    if not isinstance(plans_raw, list) or not plans_raw:
        raise fail("plans", "must be a non-empty array of tables ([[plans]])")

    plans: list[Plan] = []
    seen: set[str] = set()
    for index, plan_raw in enumerate(plans_raw):
        where = f"plans[{index}]"
        if not isinstance(plan_raw, dict):
            raise fail(where, "must be a table with a name")
        plan_name = plan_raw.get("name")
        if not isinstance(plan_name, str) or not plan_name or not set(plan_name) <= _NAME_OK:
            raise fail(
                f"{where}.name", f"needs a name of letters, digits, '-', '_' (got {plan_name!r})"
            )
        if plan_name in seen:
            raise fail(f"{where}.name", f"duplicate plan name {plan_name!r}")
        seen.add(plan_name)
        plan_description = plan_raw.get("description", "")
        if not isinstance(plan_description, str):
            raise fail(f"{where} ({plan_name}).description", "must be a string")
        overrides = {k: v for k, v in plan_raw.items() if k not in ("name", "description")}
        for key in _SHARED:
            if key in overrides:
                raise fail(
                    f"{where} ({plan_name}).{key}", "is shared by all plans; set it at the top"
                )
        merged = deep_merge(base, overrides)
        if isinstance(base.get("actions"), list) and isinstance(overrides.get("actions"), list):
            # the shared [[actions]] apply to every plan; a plan's own come after them
            merged["actions"] = copy.deepcopy(base["actions"]) + copy.deepcopy(overrides["actions"])
        try:
            config = Config.model_validate(merged)
        except ValidationError as err:
            single_base = len(plans_raw) == 1 and plan_name == "base"
            message = _plan_error(err, plan_name, overrides, single_base)
            raise ScenarioError(f"{source}: {message}") from None
        point_configs = []
        for point_index, point in enumerate(sweep.points if sweep else []):
            at_point = copy.deepcopy(merged)
            for path, value in point.items():
                _deep_set(at_point, path, value)
            try:
                point_configs.append(Config.model_validate(at_point))
            except ValidationError as err:
                shown = ", ".join(f"{k}={v!r}" for k, v in point.items())
                raise ScenarioError(
                    f"{source}: plan {plan_name!r}, sweep point {point_index} ({shown}): "
                    f"{_describe(err.errors()[0], Config)}"
                ) from None
        plans.append(
            Plan(
                name=plan_name,
                description=plan_description,
                config=config,
                point_configs=point_configs,
            )
        )
    sensitivity = None
    if "sensitivity" in data:
        sensitivity = _parse_sensitivity(data["sensitivity"], source, plans)
    optimize = _parse_optimize(data["optimize"], source, plans) if "optimize" in data else None
    fit = _parse_fit(data["fit"], source, plans) if "fit" in data else None
    return Scenario(
        name=name,
        description=description,
        source=source,
        plans=plans,
        sweep=sweep,
        sensitivity=sensitivity,
        optimize=optimize,
        fit=fit,
        raw=data,
    )


def _deep_set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[leaf] = value


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables to dotted paths; a {min, max} table is a range leaf."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not ({"min", "max"} & set(value)):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _leaf_field(path: str):
    """The pydantic field a dotted path names, or None when it names no setting."""
    *parents, leaf = path.split(".")
    section = _section_model(Config, parents) if parents else Config
    if section is None or leaf not in section.model_fields:
        return None
    field = section.model_fields[leaf]
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None
    return field


def _parse_sweep(table: Any, source: str, seed: int) -> Sweep:
    """Expand ``[sweep]`` into points; every problem names ``sweep.<path>``."""
    from itertools import product

    def fail(where: str, what: str) -> ScenarioError:
        return ScenarioError(f"{source}: sweep{where}: {what}")

    if not isinstance(table, dict):
        raise fail("", "must be a table of dotted parameter paths")
    table = dict(table)
    design = table.pop("design", "grid")
    n_points = table.pop("points", None)
    if design not in ("grid", "latin_hypercube"):
        raise fail(".design", f"allowed: grid, latin_hypercube (got {design!r})")
    parameters = _flatten(table)
    if not parameters:
        raise fail("", "names no parameter; e.g. freemium.free_seats = [3, 5, 10]")
    for path in parameters:
        if path in _NOT_SWEPT:
            raise fail(f".{path}", "cannot be swept (shared by all points so plans stay paired)")
        if _leaf_field(path) is None:
            raise fail(f".{path}", "names no scenario setting (see docs/scenarios.md)")
    if design == "grid":
        for path, values in parameters.items():
            if not isinstance(values, list) or not values:
                raise fail(f".{path}", "a grid needs a non-empty list of values")
        paths = list(parameters)
        points = [dict(zip(paths, combo, strict=True)) for combo in product(*parameters.values())]
        return Sweep(design="grid", parameters=parameters, points=points)

    if not isinstance(n_points, int) or isinstance(n_points, bool) or not 2 <= n_points <= 100_000:
        raise fail(
            ".points", f"latin_hypercube needs points = an integer 2..100000 (got {n_points!r})"
        )
    lows, highs = [], []
    for path, spec in parameters.items():
        if not isinstance(spec, dict) or set(spec) - {"min", "max"} or len(spec) != 2:
            raise fail(f".{path}", "latin_hypercube needs a range: { min = LOW, max = HIGH }")
        low, high = spec["min"], spec["max"]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
        if not numeric or not low < high:
            raise fail(f".{path}", f"needs numbers min < max (got min={low!r}, max={high!r})")
        lows.append(low)
        highs.append(high)
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    unit = qmc.LatinHypercube(d=len(parameters), rng=rng).random(n_points)
    scaled = qmc.scale(unit, lows, highs)
    points = []
    for row in scaled:
        point = {}
        for path, value in zip(parameters, row, strict=True):
            is_int = _leaf_field(path).annotation in (int, int | None)
            point[path] = int(round(value)) if is_int else float(value)
        points.append(point)
    return Sweep(design="latin_hypercube", parameters=parameters, points=points)


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a scenario TOML file; relative data paths resolve against its folder."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, expected a TOML file")
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (TOML must be UTF-8)") from None
    _resolve_paths(data, path.parent)
    scenario = parse_scenario(data, str(path))
    _check_org_paths(scenario)
    return scenario


ORG_PATH_FIELDS = ("path", "chart", "ties")  # [org] keys naming files or folders


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make relative ``org.path``, ``org.chart`` and ``org.ties`` values (base and plans)
    relative to the scenario's folder.

    Only well-formed tables are touched: anything else is left for the schema to refuse.
    """
    plans = data.get("plans")
    tables = [data.get("org")] + [
        p.get("org") for p in (plans if isinstance(plans, list) else []) if isinstance(p, dict)
    ]
    for table in tables:
        for key in ORG_PATH_FIELDS:
            if isinstance(table, dict) and isinstance(table.get(key), str):
                candidate = Path(table[key])
                if not candidate.is_absolute():
                    table[key] = str((folder / candidate).resolve())


def _check_org_paths(scenario: Scenario) -> None:
    """A Krackhardt ``org.path`` must name an existing folder, an org chart's ``chart`` and
    ``ties`` existing files (their contents are checked when the org is built)."""
    for plan in scenario.plans:
        for config in [plan.config, *plan.point_configs]:
            problem = _org_path_problem(config.org)
            if problem:
                where = "" if plan.name == "base" else f"plan {plan.name!r}: "
                raise ScenarioError(f"{scenario.source}: {where}{problem}")


def _org_path_problem(org: OrgSpec) -> str | None:
    """What is wrong with the files or folder an ``[org]`` table names, or None."""
    if org.generator == "krackhardt" and org.path is not None and not Path(org.path).is_dir():
        problem = "is a file, expected a folder" if Path(org.path).exists() else "not found"
        hint = OrgSpec.model_fields["path"].description
        return f"org.path: folder {org.path} {problem} [{hint}]"
    if org.generator == "chart":
        for key in ("chart", "ties"):
            name = getattr(org, key)
            if name is None or Path(name).is_file():
                continue
            problem = "is a folder, expected a CSV file" if Path(name).exists() else "not found"
            hint = OrgSpec.model_fields[key].description
            return f"org.{key}: file {name} {problem} [{hint}]"
    return None


def check_against_org(
    config: Config,
    org: Org,
    source: str,
    plan: str,
    point: tuple[int, dict[str, Any]] | None = None,
) -> None:
    """Checks that need the built org: enough people to seed, mandate departments exist.

    A loaded org (Krackhardt: 21 managers) has a size the schema cannot know in advance.
    ``point`` (index and swept values) names the sweep point ``config`` belongs to.
    """
    where = f"{source}: plan {plan!r}"
    if point is not None:
        shown = ", ".join(f"{k}={v!r}" for k, v in point[1].items())
        where += f", sweep point {point[0]} ({shown})"
    if config.seeding.count > org.n:
        raise ScenarioError(
            f"{where}: seeding.count: {config.seeding.count} champions but the "
            f"{config.org.generator} org has {org.n} employees; allowed: 0..{org.n}"
        )
    _check_names(config, org, where)
    department_names = org.department_names
    scope = config.mandate.scope
    if config.mandate.enabled and scope != "org":
        unknown = [d for d in scope if d not in department_names]
        if unknown:
            raise ScenarioError(
                f"{where}: mandate.scope: unknown department(s) {unknown}; "
                f'allowed: "org" or a list of {list(department_names)}'
            )
        if not scope:
            raise ScenarioError(f"{where}: mandate.scope: empty department list")
    _check_tie_kinds(config, org, where)


def _check_tie_kinds(config: Config, org: Org, where: str) -> None:
    """Every extra kind in ``org.tie_weights`` must be a kind of some tie of the org: a
    typo (``informl = 1``) would otherwise weigh nothing and go unnoticed."""
    extra = config.org.tie_weights.__pydantic_extra__ or {}
    if not extra:
        return
    kinds = org.ties.kinds_present()
    for kind in extra:
        if kind not in kinds:
            raise ScenarioError(
                f"{where}: org.tie_weights.{kind}: no tie in the org is of kind {kind!r}; "
                f"kinds in this org: {', '.join(sorted(kinds)) or 'none (no ties)'}"
            )


def _check_names(config: Config, org: Org, where: str) -> None:
    """Every department, team, employee and title a plan names exists in the built org,
    and targeted seeding has enough people to choose from."""

    def unknown(field: str, kind: str, names: list[str]) -> None:
        missing = org.unknown_names(kind, names)
        if missing:
            raise ScenarioError(
                f"{where}: {field}: unknown {kind[:-1]}(s) {missing}; "
                f"this org has: {org.known_names(kind)}"
            )

    for kind in TARGET_KINDS:
        unknown(f"seeding.{kind}", kind, getattr(config.seeding, kind))
    targeted = any(getattr(config.seeding, kind) for kind in TARGET_KINDS)
    if targeted and config.seeding.strategy != "none":
        pool = int(org.members(**{k: getattr(config.seeding, k) for k in TARGET_KINDS}).sum())
        if config.seeding.count > pool:
            raise ScenarioError(
                f"{where}: seeding.count: {config.seeding.count} champions but only {pool} "
                f"employee(s) match{_targets_text(config.seeding)}; allowed: 0..{pool}"
            )
    for index, action in enumerate(config.actions, start=1):
        for kind in TARGET_KINDS:
            unknown(f"actions[{index}].{kind}", kind, getattr(action, kind))
        if action.when is not None and action.when.department is not None:
            unknown(f"actions[{index}].when.department", "departments", [action.when.department])
    unknown("departments", "departments", list(config.departments))


SUMMARY_OUTCOMES = (  # sim.metrics.SUMMARY_COLUMNS (the scenario layer cannot import it)
    "t50",
    "t80",
    "final_active_share",
    "peak_active_share",
    "mean_active_share",
    "shelfware_share",
    "cost_per_engaged_user",
    "total_cost",
    "cost_per_employee",
    "value_created",
    "net_value",
    "roi",
    "departments_reached",
    "paywall_conversions",
    "deal_week",
)


def _integers(
    table: dict[str, Any], fail: Any, *specs: tuple[str, int, int, int]
) -> dict[str, int]:
    """The integer settings of a table, each (key, default, low, high); a value of another
    type or out of range is ``fail(".key", what is allowed)``."""
    values = {}
    for key, default, low, high in specs:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise fail(f".{key}", f"an integer {low}..{high} (got {value!r})")
        values[key] = value
    return values


def _valid_at(plan: Plan, path: str, value: Any, fail: Any) -> None:
    """Refuse (``fail(message)``) a value of ``path`` that would make ``plan`` invalid: a
    range is checked at its ends, a list of choices at each choice."""
    data = copy.deepcopy(plan.config.model_dump())
    _deep_set(data, path, value)
    try:
        Config.model_validate(data)
    except ValidationError as err:
        problem = _describe(err.errors()[0], Config)
        raise fail(f"at {value!r} plan {plan.name!r} is invalid: {problem}") from None


def _parse_sensitivity(table: Any, source: str, plans: list[Plan]) -> Sensitivity:
    """Validate ``[sensitivity]``; every problem names ``sensitivity.<key>``.  Each
    parameter's range is checked by validating the plans at its two ends."""

    def fail(where: str, what: str) -> ScenarioError:
        return ScenarioError(f"{source}: sensitivity{where}: {what}")

    if not isinstance(table, dict):
        raise fail("", "must be a table: method, outcome, plans, [sensitivity.parameters]")
    allowed = {"method", "outcome", "plans", "parameters", "trajectories", "replicates", "seed"}
    for key in table:
        if key not in allowed:
            raise fail(f".{key}", f"unknown field; allowed here: {', '.join(sorted(allowed))}")
    method = table.get("method", "morris")
    if method not in ("morris", "sobol"):
        raise fail(".method", f"allowed: morris, sobol (got {method!r})")
    outcome = table.get("outcome", "final_active_share")
    outcomes = outcome if isinstance(outcome, list) else [outcome]
    if not outcomes or len(set(map(str, outcomes))) != len(outcomes):
        raise fail(
            ".outcome",
            "one outcome, or a list of different ones (each gets its indices from the same "
            f'runs), e.g. ["final_active_share", "total_cost"] (got {outcome!r})',
        )
    for name in outcomes:
        if name not in SUMMARY_OUTCOMES:
            raise fail(".outcome", f"allowed: {', '.join(SUMMARY_OUTCOMES)} (got {name!r})")
    names = [p.name for p in plans]
    chosen = table.get("plans", names[:1])
    if (
        not isinstance(chosen, list)
        or not 1 <= len(chosen) <= 2
        or any(p not in names for p in chosen)
        or len(set(chosen)) != len(chosen)
    ):
        raise fail(
            ".plans",
            f"one plan (its outcome) or two (their paired difference) of {names} (got {chosen!r})",
        )
    counts = _integers(
        table,
        fail,
        ("trajectories", 10, 2, 10_000),
        ("replicates", 10, 1, 10_000),
        ("seed", 0, 0, 2**63 - 1),
    )
    if method == "sobol" and counts["trajectories"] & (counts["trajectories"] - 1):
        raise fail(".trajectories", "Sobol needs a power of 2 base samples (e.g. 64, 128)")
    raw = table.get("parameters")
    if not isinstance(raw, dict) or not raw:
        raise fail(
            ".parameters",
            'names no parameter; e.g. "adoption.q" = { min = 0.1, max = 0.6 }',
        )
    parameters = {}
    for path, spec in _flatten(raw).items():
        if path in _NOT_SWEPT:
            raise fail(f".parameters.{path}", "cannot vary (shared by all samples)")
        field = _leaf_field(path)
        if field is None:
            raise fail(f".parameters.{path}", "names no scenario setting (see docs/scenarios.md)")
        if not isinstance(spec, dict) or set(spec) != {"min", "max"}:
            raise fail(f".parameters.{path}", "needs a range: { min = LOW, max = HIGH }")
        low, high = spec["min"], spec["max"]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
        if not numeric or not low < high:
            raise fail(f".parameters.{path}", f"needs numbers min < max (got {low!r}, {high!r})")
        if field.annotation is bool and (low, high) != (0, 1):
            raise fail(
                f".parameters.{path}",
                f"a switch: {{ min = 0, max = 1 }} (on where the sample is >= 0.5; got "
                f"{low!r}, {high!r})",
            )
        for plan in plans:
            if plan.name in chosen:
                for end in (low, high):
                    _valid_at(
                        plan, path, _cast(field, end), lambda m, w=f".parameters.{path}": fail(w, m)
                    )
        parameters[path] = (float(low), float(high))
    return Sensitivity(
        method=method,
        outcomes=tuple(outcomes),
        plans=chosen,
        parameters=parameters,
        **counts,
    )


def _cast(field: Any, value: float) -> Any:
    """A sampled number as the field's type: rounded for integer fields; a switch (a
    true/false field, sampled over 0..1) is on from 0.5."""
    if field.annotation is bool:
        return bool(value >= 0.5)
    return int(round(value)) if field.annotation in (int, int | None) else float(value)


def with_parameters(config: Config, values: dict[str, float]) -> Config:
    """``config`` with dotted-path parameters set (integers rounded), validated."""
    data = config.model_dump()
    for path, value in values.items():
        _deep_set(data, path, _cast(_leaf_field(path), value))
    return Config.model_validate(data)


def _parse_optimize(table: Any, source: str, plans: list[Plan]) -> Optimize:
    """Validate ``[optimize]``; every problem names ``optimize.<key>``.  Each lever is
    checked at its ends (or each choice) against the plan."""

    def fail(where: str, what: str) -> ScenarioError:
        return ScenarioError(f"{source}: optimize{where}: {what}")

    if not isinstance(table, dict):
        raise fail("", "must be a table: plan, objective, [optimize.levers]")
    allowed = {
        "plan",
        "objective",
        "direction",
        "levers",
        "trials",
        "replicates",
        "confirm_replicates",
        "budget",
        "seed",
    }
    for key in table:
        if key not in allowed:
            raise fail(f".{key}", f"unknown field; allowed here: {', '.join(sorted(allowed))}")
    names = [p.name for p in plans]
    plan_name = table.get("plan", names[0])
    if plan_name not in names:
        raise fail(".plan", f"one of {names} (got {plan_name!r})")
    (plan,) = [p for p in plans if p.name == plan_name]
    objective = table.get("objective", "net_value")
    objectives = objective if isinstance(objective, list) else [objective]
    if not 1 <= len(objectives) <= 2 or len(set(map(str, objectives))) != len(objectives):
        raise fail(
            ".objective",
            "one outcome, or a list of two different ones for a Pareto front, e.g. "
            f'["final_active_share", "total_cost"] (got {objective!r})',
        )
    for name in objectives:
        if name not in SUMMARY_OUTCOMES:
            raise fail(".objective", f"allowed: {', '.join(SUMMARY_OUTCOMES)} (got {name!r})")
    direction = table.get("direction", "maximize" if len(objectives) == 1 else None)
    directions = direction if isinstance(direction, list) else [direction]
    if len(directions) != len(objectives):
        raise fail(
            ".direction",
            f"one per objective, e.g. {json.dumps(['maximize', 'minimize'][: len(objectives)])}"
            f" (got {direction!r})",
        )
    for way in directions:
        if way not in ("maximize", "minimize"):
            raise fail(".direction", f"maximize or minimize (got {way!r})")
    counts = _integers(
        table,
        fail,
        ("trials", 30, 1, 100_000),
        ("replicates", 10, 1, 10_000),
        ("confirm_replicates", 40, 2, 100_000),
        ("seed", 0, 0, 2**63 - 1),
    )
    budget = table.get("budget")
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0
    ):
        raise fail(".budget", f"a positive amount of the scenario's currency (got {budget!r})")
    raw = table.get("levers")
    if not isinstance(raw, dict) or not raw:
        raise fail(".levers", 'names no lever; e.g. "mandate.week" = { min = 4, max = 52 }')
    levers: dict[str, Any] = {}
    for path, spec in _flatten(raw).items():
        if path in _NOT_SWEPT:
            raise fail(f".levers.{path}", "cannot be a lever (shared by all candidates)")
        field = _leaf_field(path)
        if field is None:
            raise fail(f".levers.{path}", "names no scenario setting (see docs/scenarios.md)")
        if isinstance(spec, list):
            if not spec:
                raise fail(f".levers.{path}", "a list of choices needs at least one")
            ends = spec
            levers[path] = list(spec)
        elif isinstance(spec, dict) and set(spec) == {"min", "max"}:
            low, high = spec["min"], spec["max"]
            numeric = all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)
            )
            if not numeric or not low < high:
                raise fail(f".levers.{path}", f"needs numbers min < max (got {low!r}, {high!r})")
            ends = [_cast(field, low), _cast(field, high)]
            levers[path] = (low, high)
        else:
            raise fail(f".levers.{path}", "a range { min = LOW, max = HIGH } or a list of choices")
        for end in ends:
            _valid_at(plan, path, end, lambda m, w=f".levers.{path}": fail(w, m))
    return Optimize(
        plan=plan_name,
        objectives=tuple(objectives),
        directions=tuple(directions),
        levers=levers,
        budget=float(budget) if budget is not None else None,
        **counts,
    )


def with_values(config: Config, values: dict[str, Any]) -> Config:
    """``config`` with dotted-path settings set as given (numbers of integer fields
    rounded), validated: ValidationError when the combination is not allowed."""
    data = config.model_dump()
    for path, value in values.items():
        field = _leaf_field(path)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        _deep_set(data, path, _cast(field, value) if numeric else value)
    return Config.model_validate(data)


PRIORS = {"uniform": ("min", "max"), "log_uniform": ("min", "max"), "normal": ("mean", "sd")}


def _parse_fit(table: Any, source: str, plans: list[Plan]) -> Fit:
    """Validate ``[fit]``; every problem names ``fit.<key>``."""

    def fail(where: str, what: str) -> ScenarioError:
        return ScenarioError(f"{source}: fit{where}: {what}")

    if not isinstance(table, dict):
        raise fail("", "must be a table: plan and [fit.parameters]")
    allowed = {"plan", "parameters", "population", "generations", "seed"}
    for key in table:
        if key not in allowed:
            raise fail(f".{key}", f"unknown field; allowed here: {', '.join(sorted(allowed))}")
    names = [p.name for p in plans]
    plan = table.get("plan", names[0])
    if plan not in names:
        raise fail(".plan", f"one of {names} (got {plan!r})")
    counts = _integers(
        table,
        fail,
        ("population", 100, 10, 100_000),
        ("generations", 5, 1, 100),
        ("seed", 0, 0, 2**32 - 1),
    )
    raw = table.get("parameters")
    if not isinstance(raw, dict) or not raw:
        raise fail(
            ".parameters",
            'names no parameter; e.g. "adoption.q" = { prior = "uniform", min = 0.05, max = 0.8 }',
        )
    parameters = {}
    for path, spec in raw.items():
        where = f".parameters.{path}"
        field = _leaf_field(path)
        if field is None or path in _NOT_SWEPT:
            raise fail(where, "names no scenario setting that can be fitted (docs/scenarios.md)")
        if field.annotation not in (float, int, float | None, int | None):
            raise fail(where, "only a number can be fitted (not a switch or a choice)")
        if not isinstance(spec, dict) or spec.get("prior") not in PRIORS:
            raise fail(where, f"needs prior = one of {', '.join(PRIORS)}")
        keys = PRIORS[spec["prior"]]
        if set(spec) != {"prior", *keys}:
            raise fail(where, f"a {spec['prior']} prior takes {' and '.join(keys)}")
        a, b = (spec[k] for k in keys)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
            raise fail(where, f"{' and '.join(keys)} must be numbers")
        if spec["prior"] == "normal" and not b > 0:
            raise fail(where, f"sd must be > 0 (got {b})")
        if spec["prior"] != "normal" and not a < b:
            raise fail(where, f"needs min < max (got {a}, {b})")
        if spec["prior"] == "log_uniform" and not a > 0:
            raise fail(where, f"a log-uniform prior needs min > 0 (got {a})")
        parameters[path] = {"prior": spec["prior"], keys[0]: float(a), keys[1]: float(b)}
        if spec["prior"] != "normal":  # a range: both ends must make a valid plan
            (chosen,) = [p for p in plans if p.name == plan]
            for end in (a, b):
                _valid_at(chosen, path, _cast(field, end), lambda m, w=where: fail(w, m))
    return Fit(plan=plan, parameters=parameters, **counts)
