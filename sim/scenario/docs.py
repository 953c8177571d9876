"""Generate docs/scenarios.md's field reference from the schema (one source of truth).

python -m sim.scenario.docs > docs/scenarios.md
"""

from __future__ import annotations

from typing import Literal, get_args, get_origin

from pydantic import BaseModel

from sim.scenario import Config
from sim.scenario.chart_docs import CHART_SECTION
from sim.scenario.plan_docs import (
    FIT_SECTION,
    OPTIMIZE_SECTION,
    PLAN_SECTION,
    SENSITIVITY_SECTION,
)

INTRO = """# Scenario files

A scenario is a TOML file: top-level `name`, `description`, `weeks`, `replicates`,
`seed`, the tables below (the base configuration), and `[[plans]]`. Each plan has a
`name`, an optional `description`, and any tables or keys that override the base for that
plan (for example `mandate = { enabled = true, week = 4 }`). `weeks`, `replicates` and
`seed` are shared by all plans, so every plan sees the same org and random streams
(paired comparison). A file without `[[plans]]` runs one plan named `base`.

`adoptsim check FILE` validates a file and prints what it resolves to. A wrong file gets
one message naming the file, the field and what is allowed, and exit code 2. Types are
strict: a number is a TOML number (`0.5`, not `"0.5"`), a count an integer, a switch
`true`/`false`; an integer is accepted where a fraction is expected. Relative
`org.path`, `org.chart` and `org.ties` values are resolved against the scenario file's
folder.

This reference is generated from the schema in `sim/scenario/schema.py`
(`python -m sim.scenario.docs > docs/scenarios.md`); a test keeps it in step.
"""


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_rows(annotation, f"{prefix}{name}."))
            continue
        inner = _model_inside(annotation)
        if inner is not None:  # a list of tables ([[actions]]) or named tables
            text = field.description or ""
            empty = field.get_default(call_default_factory=True)
            rows.append(f"| `{prefix}{name}` | `{empty!r}` | {text} |")
            origin = get_origin(annotation)
            key = "[]" if origin is list else ".NAME" if origin is dict else ""
            rows.extend(_rows(inner, f"{prefix}{name}{key}."))
            continue
        default = field.get_default(call_default_factory=True)
        shown_default = "required" if field.is_required() else f"`{default!r}`"
        text = field.description or ""
        choices = _choices(annotation)
        if choices:
            text += "; one of " + ", ".join(f"`{c}`" for c in choices)
        rows.append(f"| `{prefix}{name}` | {shown_default} | {text} |")
    return rows


def _model_inside(annotation) -> type[BaseModel] | None:
    """The table model of ``list[Model]``, ``dict[str, Model]`` or ``Model | None``."""
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _choices(annotation) -> list[str]:
    """The allowed literal values inside an annotation (Literal, or a list/union of them)."""
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    found = []
    for arg in get_args(annotation):
        found += _choices(arg)
    return found


def render() -> str:
    lines = [
        INTRO,
        "## Fields",
        "",
        "| field | default | unit and allowed values |",
        "|---|---|---|",
    ]
    lines += _rows(Config, "")
    lines += ["", PLAN_SECTION.rstrip("\n"), "", SENSITIVITY_SECTION.rstrip("\n")]
    lines += ["", OPTIMIZE_SECTION.rstrip("\n"), "", FIT_SECTION.rstrip("\n")]
    lines += ["", CHART_SECTION.rstrip("\n")]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
