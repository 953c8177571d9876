"""The documentation stays in step with the code."""

from pathlib import Path

from sim.metrics import SUMMARY_COLUMNS
from sim.observe import TRAJECTORY_COLUMNS
from sim.scenario import docs as scenario_docs

ROOT = Path(__file__).resolve().parents[1]


def test_scenario_reference_is_generated_from_the_schema():
    assert (ROOT / "docs" / "scenarios.md").read_text() == scenario_docs.render(), (
        "run: python -m sim.scenario.docs > docs/scenarios.md"
    )


def test_every_result_column_is_documented():
    text = (ROOT / "docs" / "results.md").read_text()
    for column in (*TRAJECTORY_COLUMNS, *SUMMARY_COLUMNS):
        assert f"`{column}`" in text, column


def test_model_doc_follows_odd_and_names_every_rule():
    text = (ROOT / "docs" / "model.md").read_text()
    for heading in (
        "## Overview",
        "## Design concepts",
        "## Details",
        "Purpose",
        "Process overview and scheduling",
        "Initialization",
        "Submodels",
    ):
        assert heading in text
    for formula in (
        "a_i (p + q s_i)",
        "a_i s_i ≥ θ_i",
        "a_i S_i ≥ k_i",
        "rate · (1 − a_i (v0 + (1 − v0) s_i))",
        "D_w / (D_w + demand_scale)",
    ):
        assert formula in text, formula


def test_every_rule_function_is_named_in_the_model_doc():
    """docs/model.md says where each rule lives: a rule added to sim/rules.py without its
    line in the doc fails here."""
    import inspect

    from sim import rules

    text = (ROOT / "docs" / "model.md").read_text()
    functions = [
        name
        for name, obj in vars(rules).items()
        if inspect.isfunction(obj) and obj.__module__ == rules.__name__ and name != "rule_code"
    ]
    assert len(functions) > 15
    missing = [name for name in functions if f"`{name}`" not in text]
    assert not missing, f"not named in docs/model.md: {missing}"


def test_extending_guide_lists_at_most_eight_files():
    import re

    text = (ROOT / "docs" / "extending.md").read_text()
    section = text.split("## The files a new mechanism touches")[1].split("\n## ")[0]
    steps = [line for line in section.splitlines() if re.match(r"\d+\. ", line)]
    assert 0 < len(steps) <= 8


def test_every_parameter_has_a_source():
    """docs/parameters.md is generated from sim/scenario/sources.py, which names a source
    (or says 'assumption') for every field of every mechanism."""
    from sim.scenario import sources

    paths = [path for path, _, _ in sources._fields()]
    missing = [path for path in paths if path not in sources.SOURCES]
    assert not missing, f"no source in sim/scenario/sources.py: {missing}"
    assert (ROOT / "docs" / "parameters.md").read_text() == sources.render(), (
        "run: python -m sim.scenario.sources > docs/parameters.md"
    )
