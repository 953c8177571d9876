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
