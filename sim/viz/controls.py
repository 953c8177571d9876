"""The browser view's controls, derived from the scenario schema (never mapped by hand).

A schema field declared with ``json_schema_extra=control(...)`` (``sim.scenario.schema``)
becomes one control of the page.  Its widget follows from the field's declared type and
range:

* ``bool`` -> a checkbox; a ``Literal`` of words -> a select of those words;
* ``float`` -> a slider over the field's ``ge``..``le`` range, in the declared step;
* ``int`` -> a slider from ``ge`` to the declared ``most`` (or ``le``);
* ``int | None`` (``None`` = unlimited) -> a slider that starts at -1, meaning None;
* ``"org" | list of departments`` -> a select of "org" and the org's department names.

The same declaration converts both ways between a plan's configuration and the control
values (:func:`control_values`, :func:`apply_controls`), so a new mechanism's control
needs no code here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from sim.org import Org
from sim.scenario import MECHANISMS, Config, ScenarioError

UNLIMITED = -1  # the value of an ``int | None`` control that means None (no cap)
EMPLOYEES_SHOWN = 200  # an "employees" slider's upper end on large orgs


@dataclass(frozen=True)
class Control:
    """One control of the view: which field it sets and how it is drawn."""

    name: str  # keyword of VizModel
    section: str
    field: str
    label: str
    kind: str  # checkbox, choice, float, int, optional_int, scope
    low: float = 0.0
    high: float | None = None
    step: float = 1.0
    most: int | str | None = None
    choices: tuple[str, ...] = ()


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is bool:
        return "checkbox", ()
    if annotation is float:
        return "float", ()
    if annotation is int:
        return "int", ()
    if origin is Literal:
        return "choice", tuple(args)
    if origin in (typing.Union, types.UnionType) and int in args and type(None) in args:
        return "optional_int", ()
    if origin in (typing.Union, types.UnionType):
        return "scope", ()
    raise TypeError(f"no control for a field of type {annotation!r}")


def declared_controls() -> tuple[Control, ...]:
    """Every field of every mechanism section that declares a control, in schema order."""
    controls = []
    for section in MECHANISMS:
        model = Config.model_fields[section].annotation
        for field_name, info in model.model_fields.items():
            spec = (info.json_schema_extra or {}).get("control")
            if not spec:
                continue
            kind, choices = _kind(info.annotation)
            bounds = {type(m).__name__: m for m in info.metadata}
            low = getattr(bounds.get("Ge"), "ge", 0.0)
            high = getattr(bounds.get("Le"), "le", None)
            controls.append(
                Control(
                    name=spec["name"],
                    section=section,
                    field=field_name,
                    label=spec["label"],
                    kind=kind,
                    low=low,
                    high=high,
                    step=spec.get("step", 1.0),
                    most=spec.get("most"),
                    choices=choices,
                )
            )
    return tuple(controls)


CONTROLS = declared_controls()
CONTROL_NAMES = tuple(c.name for c in CONTROLS)

# The unit each numeric control's value is shown in ("week" reads "week 26").  A numeric
# control without a unit here fails tests/test_viz.py, so a new one cannot go unlabelled.
UNITS = {
    "peer_influence": "per week",
    "compliance": "per week",
    "champions": "people",
    "free_seats": "seats",
    "trial_weeks": "weeks",
    "mandate_week": "week",
}


def shown(c: Control, value: Any) -> str:
    """A control's value as the page writes it, with its unit: '0.30 per week', 'week 26',
    '5 seats', 'no cap', 'on'."""
    if c.kind == "checkbox":
        return "on" if value else "off"
    if c.kind in ("choice", "scope"):
        return str(value)
    if c.kind == "optional_int" and int(value) == UNLIMITED:
        return "no cap"
    unit = UNITS.get(c.name, "")
    number = f"{float(value):.2f}" if c.kind == "float" else f"{int(value):,}"
    if unit == "week":
        return f"week {number}"
    return f"{number} {unit}".strip()


def control_values(cfg: Config) -> dict[str, Any]:
    """The control values that reproduce ``cfg``."""
    values = {}
    for c in CONTROLS:
        value = getattr(getattr(cfg, c.section), c.field)
        if c.kind == "optional_int":
            value = UNLIMITED if value is None else value
        elif c.kind == "scope":
            value = value if isinstance(value, str) else ",".join(value)
        values[c.name] = value
    return values


def _config_value(c: Control, value: Any, data: dict[str, Any]) -> Any:
    """A control value as the schema takes it, kept inside what the plan allows."""
    if c.kind == "checkbox":
        return bool(value)
    if c.kind == "choice":
        return str(value)
    if c.kind == "optional_int":
        return None if int(value) < 0 else int(value)
    if c.kind == "scope":
        text = str(value)
        return "org" if text == "org" else text.split(",")
    if c.kind == "float":
        number = float(value)
        if (c.section, c.field) == ("adoption", "q"):  # p + q <= 1: a weekly probability
            number = min(number, 1.0 - data["adoption"]["p"])
        return number
    number = int(value)
    return min(number, data["weeks"]) if c.most == "weeks" else number


def apply_controls(cfg: Config, controls: dict[str, Any]) -> Config:
    """``cfg`` with the given control values applied (and ``seed``), validated by the schema."""
    data = cfg.model_dump()
    for c in CONTROLS:
        if c.name in controls:
            data[c.section][c.field] = _config_value(c, controls[c.name], data)
    if "seed" in controls:
        data["seed"] = int(controls["seed"])
    try:
        return Config.model_validate(data)
    except ValueError as error:
        raise ScenarioError(f"controls {controls}: {error}") from None


def widget(c: Control, value: Any, cfg: Config, org: Org) -> dict[str, Any]:
    """How the page draws one control showing ``value``: type (Checkbox, Select,
    SliderFloat, SliderInt), label, value, and the range or choices."""
    entry: dict[str, Any] = {"value": value, "label": c.label}
    if c.kind == "checkbox":
        return {"type": "Checkbox", **entry}
    if c.kind == "choice":
        return {"type": "Select", "values": list(c.choices), **entry}
    if c.kind == "scope":
        scopes = ["org", *org.department_names]
        if value not in scopes:
            scopes.append(value)
        return {"type": "Select", "values": scopes, **entry}
    if c.kind == "float":
        return {"type": "SliderFloat", "min": c.low, "max": c.high, "step": c.step, **entry}
    if c.most == "weeks":
        top = cfg.weeks
    elif c.most == "employees":
        top = max(value, min(org.n, EMPLOYEES_SHOWN))
    elif isinstance(c.most, int):
        top = max(c.most, value)
    else:
        top = c.high
    low = UNLIMITED if c.kind == "optional_int" else int(c.low)
    return {"type": "SliderInt", "min": low, "max": top, "step": 1, **entry}
