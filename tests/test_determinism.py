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


def test_a_bad_thread_setting_is_named(monkeypatch):
    import pytest

    from sim.engines.batched import default_threads
    from sim.errors import AdoptsimError

    monkeypatch.setenv("ADOPTSIM_THREADS", "two")
    with pytest.raises(AdoptsimError, match="ADOPTSIM_THREADS='two': expected a whole number"):
        default_threads()
    monkeypatch.setenv("ADOPTSIM_THREADS", "3")
    assert default_threads() == 3
