"""The parameter block the rules read, derived from the scenario schema (never by hand).

Every scalar field of every mechanism section (``sim.scenario.MECHANISMS``) becomes one
field of :class:`Params`, named ``<section>_<field>``: a new schema field is in the block,
in both engines, the moment it is declared.  Values are converted to what numba compiles
well, by the field's declared type:

* ``bool`` -> bool, ``int`` -> int, ``float`` -> float;
* ``int | None`` (e.g. ``freemium.free_seats``, None = unlimited) -> -1 for None;
  ``float | None`` -> NaN for None;
* a ``Literal`` of choices (``adoption.rule``) -> the index of the value among the choices,
  in declaration order (so ``adoption_rule`` is ``rules.LINEAR``/``THRESHOLD``/``COUNT``);
* lists, tables and mixed types (``mandate.scope``) are not scalars: the engines read
  those from the Config itself.
"""

from __future__ import annotations

import types
import typing
from collections import namedtuple
from typing import Any, Literal

from sim import rules
from sim.scenario import MECHANISMS, Config


def _converter(annotation: Any):
    """How to turn a field's value into a numba-friendly scalar, or None to skip it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is bool:
        return bool
    if annotation is int:
        return int
    if annotation is float:
        return float
    if origin is Literal and all(isinstance(a, str) for a in args):
        return lambda value, choices=args: choices.index(value)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        (inner,) = (a for a in args if a is not type(None))
        if inner is int:
            return lambda value: -1 if value is None else int(value)
        if inner is float:
            return lambda value: float("nan") if value is None else float(value)
    return None


def _fields() -> list[tuple[str, str, Any]]:
    """(section, field, converter) for every scalar field of every mechanism section."""
    out = []
    for section in MECHANISMS:
        model = Config.model_fields[section].annotation
        for name, info in model.model_fields.items():
            convert = _converter(info.annotation)
            if convert is not None:
                out.append((section, name, convert))
    return out


FIELDS = _fields()
Params = namedtuple("Params", [f"{section}_{name}" for section, name, _ in FIELDS])
Params.__module__ = __name__
Params.__doc__ = "The scenario's scalar parameters, one field per schema field (see module)."

_RULE_CHOICES = typing.get_args(
    Config.model_fields["adoption"].annotation.model_fields["rule"].annotation
)
assert _RULE_CHOICES == rules.RULES, "adoption.rule choices must match rules.RULES"


def params_of(config: Config) -> Params:
    """The parameter block of one configuration."""
    return Params(
        *(convert(getattr(getattr(config, section), name)) for section, name, convert in FIELDS)
    )
