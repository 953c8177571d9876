"""Same scenario and seed, same numbers: byte-identical Parquet, twice; seeds matter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCENARIO = """
name = "twice"
weeks = 15
replicates = 3
seed = 99
[org]
n = 120
departments = 3
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
mandate = { enabled = true, week = 2 }
"""


def run_cli(scenario: Path, results: Path, *extra: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(scenario), "--results", str(results), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_same_seed_gives_identical_parquet_twice(tmp_path):
    scenario = tmp_path / "twice.toml"
    scenario.write_text(SCENARIO)
    run_cli(scenario, tmp_path / "a")
    run_cli(scenario, tmp_path / "b")
    for name in ("trajectories.parquet", "departments.parquet", "summary.parquet"):
        first = (tmp_path / "a" / "twice" / name).read_bytes()
        second = (tmp_path / "b" / "twice" / name).read_bytes()
        assert first == second, name


def test_reference_engine_writes_the_same_trajectories(tmp_path):
    scenario = tmp_path / "twice.toml"
    scenario.write_text(SCENARIO)
    run_cli(scenario, tmp_path / "batched")
    run_cli(scenario, tmp_path / "reference", "--engine", "reference")
    for name in ("trajectories.parquet", "summary.parquet"):
        assert (tmp_path / "batched" / "twice" / name).read_bytes() == (
            tmp_path / "reference" / "twice" / name
        ).read_bytes()


def test_another_seed_gives_other_numbers(tmp_path):
    scenario = tmp_path / "twice.toml"
    scenario.write_text(SCENARIO)
    run_cli(scenario, tmp_path / "a")
    scenario.write_text(SCENARIO.replace("seed = 99", "seed = 100"))
    run_cli(scenario, tmp_path / "b")
    first = (tmp_path / "a" / "twice" / "trajectories.parquet").read_bytes()
    second = (tmp_path / "b" / "twice" / "trajectories.parquet").read_bytes()
    assert first != second


def test_one_call_block_draw_equals_the_two_call_draw():
    """The batched engine draws a replicate's week in one call (fill_step_block); the
    reference in two (step_uniforms). Same stream, same numbers, for odd and even sizes."""
    import numpy as np

    from sim.randomness import fill_step_block, replicate_rng, step_uniforms

    for n, w in ((10_001, 7), (10_000, 8), (3, 5)):
        two_calls, one_call = replicate_rng(5, 1), replicate_rng(5, 1)
        for _ in range(3):
            agent, workspace = step_uniforms(two_calls, n, w)
            block = np.empty(n + w, dtype=np.float32)
            fill_step_block(one_call, block)
            assert np.array_equal(block, np.concatenate([agent.ravel(), workspace.ravel()]))


def test_a_bad_thread_setting_is_named(monkeypatch):
    import pytest

    from sim.batched import default_threads
    from sim.scenario import ScenarioError

    monkeypatch.setenv("ADOPTSIM_THREADS", "two")
    with pytest.raises(ScenarioError, match="ADOPTSIM_THREADS='two': expected a whole number"):
        default_threads()
    monkeypatch.setenv("ADOPTSIM_THREADS", "3")
    assert default_threads() == 3
