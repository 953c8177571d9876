"""Human names of scenario settings (a sweep's parameters), read from the schema.

A sweep names its parameters by dotted path (``freemium.free_seats``); charts and tables
show what the schema's field description says instead ("free seats per workspace"), with
the scenario's currency where the description says "currency".  The dotted path stays in
legends and captions, so the reader can find the setting in the scenario file.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel

from sim.scenario import Config

RANGE = re.compile(r"^\s*(?:[<>]=?\s*)?-?[\d.]+\s*(?:\.\.|$)")  # '0..1', '> 0', '1..16, ...'


def _field(path: str) -> Any:
    """The pydantic field a dotted path names inside a plan's Config, or None; list
    indexes and dict keys (``actions.0``, ``departments.Sales``) are stepped over."""
    current: Any = Config
    parts = path.split(".")
    skip = False
    for k, part in enumerate(parts):
        if skip:
            skip = False
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        field = fields[part]
        if k == len(parts) - 1:
            return field
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current = annotation
            continue
        inner = [
            a
            for a in typing.get_args(annotation)
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not inner:
            return None
        current = inner[0]
        skip = typing.get_origin(annotation) in (list, dict)
    return None


def setting_label(path: str, currency: str = "currency") -> str:
    """What a setting is, in words: the schema description without its allowed range,
    a 'currency' unit in brackets with the scenario's currency; the last path part when the
    schema does not describe it."""
    field = _field(path)
    text = (field.description or "") if field is not None else ""
    if not text:
        return short_name(path).replace("_", " ")
    text = re.sub(r"\s*\((?:eq\.|\[)[^)]*\)", "", text)  # '(eq. 3)', '([[plans.actions]])'
    head, *rest = [part.strip() for part in text.split(",")]
    units = [r for r in rest if "currency" in r]
    label = head.replace("currency", currency)
    if units:
        label += f" ({units[0].replace('currency', currency)})"
    elif rest and not RANGE.match(rest[0]):
        label = ", ".join([head, *[r for r in rest if not RANGE.match(r)]])
    return label


def short_name(path: str) -> str:
    """The last part of a dotted path: a point's short label ('free_seats=5')."""
    return path.rsplit(".", 1)[-1]
