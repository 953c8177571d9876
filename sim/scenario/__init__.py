"""Scenarios: the schema (the one place input is validated), loading and sweep design.

``schema`` holds the pydantic models and the loader; ``docs`` renders the field
reference in ``docs/scenarios.md`` from the schema.  Import from here.
"""

from sim.scenario.schema import (
    MECHANISMS,
    WEIGHT_QUANTUM,
    Adoption,
    Config,
    OrgSpec,
    Plan,
    Scenario,
    ScenarioError,
    Sweep,
    TieWeights,
    check_against_org,
    deep_merge,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "MECHANISMS",
    "WEIGHT_QUANTUM",
    "Adoption",
    "Config",
    "OrgSpec",
    "Plan",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "TieWeights",
    "check_against_org",
    "deep_merge",
    "load_scenario",
    "parse_scenario",
]
