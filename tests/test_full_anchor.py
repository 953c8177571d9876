"""The benchmark's hand-written every-mechanism anchor (experiments/full_anchor.py) must do
the model's arithmetic, or its cost says nothing about the engine's: its per-cell row is
``rules.week_facts`` and ``rules.next_state`` exactly, and its by-state run (unaware cells
take discovery alone) gives the same states as the whole decision."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sim import rules
from sim.engines import kernels
from sim.engines.batched import BatchedModel
from sim.engines.runner import prepare
from sim.scenario import parse_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import full_anchor  # noqa: E402


def test_a_cells_row_is_the_rules_facts_and_transition():
    rng = np.random.default_rng(3)
    constants = (0.6, 0.5, 0.5, 0.5, 0.9, 0.01, 0.2, 0.3, 0.05, 0.4, 0.1, 0.02, 0.4)
    names = ("freemium_free_value", "incumbent_strength", "training_boost",
             "mandate_resistance", "tool_onboarding", "discovery_external_rate",
             "discovery_word_of_mouth", "mandate_compliance", "abandonment_rate",
             "tool_standalone_value", "winback_rate")  # fmt: skip
    r = SimpleNamespace(
        **dict(zip(names, constants, strict=False)),
        discovery_enabled=True,
        abandonment_enabled=True,
        winback_enabled=True,
        freemium_enabled=True,
        adoption_rule=rules.LINEAR,
    )
    table = full_anchor.transition_rows()
    checked = 0
    for _ in range(3000):
        u, share = rng.random(), rng.random()
        st, lic = int(rng.integers(6)), bool(rng.integers(2))
        present, boosted, reluctant = (bool(b) for b in rng.integers(2, size=3))
        ready, fits, pushed = rng.uniform(0.5, 2), bool(rng.random() < 0.9), bool(rng.integers(2))
        row = full_anchor._row_of.py_func(
            u, share, lic, st, present, boosted, 1.0 if reluctant else 0.0, ready, fits,
            pushed, constants,
        )  # fmt: skip
        multiplier = rules.value_multiplier(r, lic, False)
        switching = rules.switching_cost(r.incumbent_strength, share, present)
        boost = r.training_boost if boosted else 0.0
        appeal = rules.appeal(multiplier, r.mandate_resistance, float(reluctant), boost, switching)
        facts = rules.week_facts(
            r, u, share, 0.0, appeal, 0.0, 0.0, constants[11], constants[12], pushed, ready, fits,
        )  # fmt: skip
        assert row == kernels._case.py_func(st, lic, *facts)
        nxt, intent = rules.next_state(st, lic, *facts)
        assert table[row] == (rules.State.ACTIVE if intent != rules.Intent.NONE else nxt)
        checked += facts != (False,) * 6
    assert checked > 500  # a third of the draws make some fact true: not zeros compared


@pytest.mark.parametrize("with_ties", [True, False])
def test_the_by_state_run_gives_the_whole_decisions_states(with_ties):
    raw = {
        "name": "anchor", "weeks": 12, "replicates": 8, "seed": 5,
        "org": {"generator": "hierarchy", "n": 300},
        "incumbent": {"enabled": True, "strength": 0.5},
        "seeding": {"strategy": "random", "count": 10, "champion_weight": 2.0},
    }  # fmt: skip
    (prepared,) = prepare(parse_scenario(raw, "<anchor>"))
    model = BatchedModel(prepared.config, prepared.org, list(range(8)))
    table = full_anchor.transition_rows()
    whole = full_anchor.full_inputs(model, with_ties)
    by_state = full_anchor.full_inputs(model, with_ties)
    full_anchor.full_kernel(*whole, 12, table, False)
    full_anchor.full_kernel(*by_state, 12, table, True)
    assert np.array_equal(whole[5], by_state[5])
    assert (whole[5] != model.state).mean() > 0.05  # the weeks moved people
