"""Shared helpers: small scenarios built in code, merged onto a minimal base."""

from __future__ import annotations

import copy

import pytest

from sim.engines.runner import prepare
from sim.scenario import deep_merge, parse_scenario

QUIET = {
    "discovery": {"enabled": False},
    "freemium": {"enabled": False},
    "mandate": {"enabled": False},
    "enterprise": {"enabled": False},
    "abandonment": {"enabled": False},
    "seeding": {"strategy": "none", "count": 0},
}


def make_plans(base: dict, plans: list[dict] | None = None, name: str = "test"):
    """Prepared plans (config + org) for a scenario given as dicts."""
    data = copy.deepcopy(base)
    data["name"] = name
    if plans:
        data["plans"] = plans
    return prepare(parse_scenario(data, f"<{name}>"))


def quiet(**overrides) -> dict:
    """A scenario with every mechanism off, then the given overrides merged in."""
    return deep_merge(QUIET, overrides)


@pytest.fixture
def prepared_plans():
    return make_plans
