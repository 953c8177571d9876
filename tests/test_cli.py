"""The command line: bad input exits 2 with one 'error:' line and touches nothing;
a good run writes the whole results folder atomically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=env,
        timeout=timeout,
        preexec_fn=lambda: os.umask(0o022),  # a known umask for the permission check
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every path under folder (hidden ones too) with its content."""
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
    }


# (id, scenario text, fragments naming the field and what is allowed)
BAD = {
    "negative-seats": (
        'name = "bad"\nweeks = 5\n[org]\nn = 30\ndepartments = 2\n[freemium]\nfree_seats = -1\n',
        ["freemium.free_seats", "greater than or equal to 0", "(got -1)"],
    ),
    "bad-enum-in-plan": (
        'name = "bad"\nweeks = 5\n[org]\nn = 30\ndepartments = 2\n[[plans]]\nname = "a"\n'
        '[[plans]]\nname = "b"\nadoption = { rule = "magic" }\n',
        ["plan 'b'", "adoption.rule", "'linear', 'threshold' or 'count'", "'magic'"],
    ),
    "unknown-department": (
        'name = "bad"\nweeks = 5\n[org]\nn = 30\ndepartments = 2\n'
        '[mandate]\nenabled = true\nscope = ["Sales"]\n',
        ["mandate.scope", "['Sales']", "['D1', 'D2']"],
    ),
    "missing-graph-file": (
        'name = "bad"\nweeks = 5\n[org]\ngenerator = "krackhardt"\npath = "nodata"\n',
        ["nodata/Krack-High-Tec-Attributes.csv", "file not found"],
    ),
    "invalid-toml": ('name = "bad"\nweeks = = 5\n', ["not valid TOML", "line 2"]),
    "plans-not-an-array": ('name = "bad"\nplans = 5\n', ["plans", "array of tables"]),
    "graph-folder-missing": (
        'name = "bad"\nweeks = 5\n[org]\ngenerator = "krackhardt"\npath = "gone"\n',
        ["bad.toml: org.path: folder", "gone not found"],
    ),
    "sweep-point-unknown-department": (
        'name = "bad"\nweeks = 5\n[org]\nn = 30\ndepartments = 2\n[mandate]\nenabled = true\n'
        '[sweep]\nmandate.scope = ["org", ["ZZ"]]\n',
        ["sweep point 1", "mandate.scope", "['ZZ']", "['D1', 'D2']"],
    ),
}


@pytest.fixture
def workspace(tmp_path):
    """A folder with results/bad/ already holding earlier results."""
    results = tmp_path / "results"
    (results / "bad").mkdir(parents=True)
    (results / "bad" / "sentinel.txt").write_text("earlier results\n")
    (results / "bad" / "summary.parquet").write_bytes(b"old bytes")
    (tmp_path / "nodata").mkdir()
    return tmp_path


# `run` costs ~2 s a call (heavier imports), so it gets the cases from each stage of checking:
# schema, org-dependent check, graph file; `check` gets them all.
RUN_CASES = ["negative-seats", "unknown-department", "missing-graph-file"]
CASES = [(c, "check") for c in BAD] + [(c, "run") for c in RUN_CASES]


@pytest.mark.parametrize(("case", "verb"), CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_bad_scenario_exits_2_with_one_error_line(workspace, verb, case):
    text, fragments = BAD[case]
    scenario = workspace / "bad.toml"
    scenario.write_text(text)
    before = snapshot(workspace / "results")
    args = [verb, "bad.toml"] + (["--results", str(workspace / "results")] if verb == "run" else [])
    proc = cli(*args, cwd=workspace)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error:"), line
    assert "bad.toml" in line or "nodata/" in line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} missing from {line!r}"
    assert snapshot(workspace / "results") == before  # nothing touched, nothing added


def test_run_bad_scenario_creates_no_results_folder(tmp_path):
    (tmp_path / "bad.toml").write_text("weeks = -1\n")
    proc = cli("run", "bad.toml", "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: bad.toml: weeks:")
    assert not (tmp_path / "out").exists()


def test_missing_scenario_file(tmp_path):
    for verb in ("run", "check"):
        proc = cli(verb, "nope.toml", cwd=tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.strip() == "error: nope.toml: file not found"
    assert not (tmp_path / "results").exists()


def test_unknown_engine_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "s.toml").write_text("weeks = 3\n[org]\nn = 30\ndepartments = 2\n")
    proc = cli("run", "s.toml", "--engine", "warp", "--results", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --engine 'warp': allowed: batched, reference"
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["default", "krackhardt", "freemium_sweep"])
def test_check_shipped_scenarios(name):
    proc = cli("check", f"scenarios/{name}.toml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert load_scenario(ROOT / "scenarios" / f"{name}.toml").digest() in proc.stdout
    assert proc.stdout.rstrip().endswith("OK")


def test_check_says_what_a_sweep_runs():
    proc = cli("check", "scenarios/freemium_sweep.toml")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())  # the terminal may wrap the line
    assert "sweep (grid): 9 points over freemium.free_seats, freemium.free_value" in text
    assert "(18 runs of 20 replicates)" in text


def test_check_json_is_the_resolved_scenario():
    proc = cli("check", "scenarios/krackhardt.toml", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data == json.loads(
        json.dumps(load_scenario(ROOT / "scenarios" / "krackhardt.toml").resolved())
    )
    assert [p["name"] for p in data["plans"]] == ["bottom-up", "top-down", "hybrid"]
    assert data["plans"][1]["config"]["mandate"]["week"] == 2


@pytest.mark.parametrize("verb", ["run", "check"])
def test_help_has_an_example(verb):
    proc = cli(verb, "--help")
    assert proc.returncode == 0
    assert "Example" in proc.stdout
    assert f"adoptsim {verb} scenarios/" in proc.stdout


SMALL = """
name = "small"
weeks = 10
replicates = 2
seed = 7
[org]
generator = "hierarchy"
n = 60
departments = 3
[seeding]
count = 3
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = { strategy = "none", count = 0 }
mandate = { enabled = true, week = 2 }
"""


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_run")
    (folder / "small.toml").write_text(SMALL)
    proc = cli("run", "small.toml", "--results", str(folder / "results"), cwd=folder)
    return folder, proc


def test_run_writes_every_result_file(small_run):
    folder, proc = small_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    results = folder / "results"
    assert sorted(p.name for p in results.iterdir()) == ["small"]  # no hidden staging left
    files = sorted(p.name for p in (results / "small").iterdir())
    assert files == [
        "departments.parquet",
        "manifest.json",
        "report.html",
        "summary.parquet",
        "trajectories.parquet",
    ]
    assert "small: 60 employees" in proc.stdout


def test_run_manifest(small_run):
    folder, _ = small_run
    manifest = json.loads((folder / "results" / "small" / "manifest.json").read_text())
    assert manifest["scenario_hash"] == load_scenario(folder / "small.toml").digest()
    assert manifest["versions"]["mesa"] == "3.3.1"
    assert set(manifest["versions"]) >= {"numpy", "networkx", "polars", "pydantic", "scipy"}
    assert manifest["seed"] == 7
    assert manifest["replicates"] == {"bottom-up": 2, "top-down": 2}
    assert manifest["employees"] == {"bottom-up": 60, "top-down": 60}
    assert manifest["scenario"]["name"] == "small"
    assert manifest["started"] <= manifest["finished"]


def test_run_tables(small_run):
    folder, _ = small_run
    out = folder / "results" / "small"
    traj = pl.read_parquet(out / "trajectories.parquet")
    assert traj.height == 2 * 2 * 11  # plans x replicates x weeks 0..10
    assert set(traj["plan"]) == {"bottom-up", "top-down"}
    assert set(traj["replicate"]) == {0, 1}
    assert sorted(set(traj["week"])) == list(range(11))
    assert traj.unique(["plan", "point", "replicate", "week"]).height == traj.height
    states = ["unaware", "aware", "active", "nominal", "lapsed", "blocked"]
    assert (traj.select(pl.sum_horizontal(states)).to_series() == 60).all()
    bottom = traj.filter(pl.col("plan") == "bottom-up")
    assert (bottom.filter(pl.col("week") == 0)["active"] == 3).all()  # 3 champions
    top = traj.filter(pl.col("plan") == "top-down")
    assert (top.filter(pl.col("week") == 0)["active"] == 0).all()
    assert (top.filter(pl.col("week") < 2)["licensed"] == 0).all()
    assert (top.filter(pl.col("week") >= 2)["licensed"] == 60).all()  # org-wide mandate

    summary = pl.read_parquet(out / "summary.parquet")
    assert summary.height == 4
    assert summary.unique(["plan", "replicate"]).height == 4

    dept = pl.read_parquet(out / "departments.parquet")
    assert dept.height == 2 * 2 * 11 * 3
    assert set(dept["department"]) == {"D1", "D2", "D3"}
    week0 = dept.filter((pl.col("plan") == "bottom-up") & (pl.col("week") == 0))
    assert week0.group_by("replicate").agg(pl.col("size").sum())["size"].to_list() == [60, 60]
    assert week0.group_by("replicate").agg(pl.col("active").sum())["active"].to_list() == [3, 3]

    html = (out / "report.html").read_text()
    assert "bottom-up" in html and "top-down" in html


def test_run_twice_replaces_results_without_leftovers(small_run):
    folder, first = small_run
    before = pl.read_parquet(folder / "results" / "small" / "trajectories.parquet")
    proc = cli("run", "small.toml", "--results", str(folder / "results"), cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (folder / "results").iterdir()) == ["small"]
    after = pl.read_parquet(folder / "results" / "small" / "trajectories.parquet")
    assert after.equals(before)  # same scenario and seed: same rows


def test_error_line_keeps_the_allowed_range_hint(tmp_path):
    (tmp_path / "bad.toml").write_text("weeks = -3\n")
    proc = cli("check", "bad.toml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "1..1040" in proc.stderr


def test_results_follow_the_umask(small_run):
    folder, _ = small_run  # run under umask 022
    out = folder / "results" / "small"
    assert out.stat().st_mode & 0o777 == 0o755
    assert (out / "report.html").stat().st_mode & 0o777 == 0o644


def test_results_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "s.toml").write_text(SMALL)
    (tmp_path / "afile").write_text("mine\n")
    for verb, results in [("run", "afile"), ("sweep", "afile"), ("run", "afile/deeper")]:
        proc = cli(verb, "s.toml", "--results", results, cwd=tmp_path)
        assert proc.returncode == 2, (verb, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip() == (
            f"error: --results {results}: afile is a file, expected a folder"
        )
    assert (tmp_path / "afile").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "s.toml"]


def test_compare_refuses_a_missing_folder_and_a_file(tmp_path):
    (tmp_path / "afile").write_text("x\n")
    for target, problem in [("nowhere", "does not exist"), ("afile", "is a file")]:
        proc = cli("compare", target, cwd=tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"error: {target}: {problem}"), proc.stderr


def test_compare_refuses_the_same_plan_twice(small_run):
    folder, _ = small_run
    before = snapshot(folder / "results")
    proc = cli("compare", "results/small", "--a", "top-down", "--b", "top-down", cwd=folder)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --a and --b both name plan 'top-down'; compare two different plans "
        "(plans: ['bottom-up', 'top-down'])"
    )
    assert snapshot(folder / "results") == before


def test_compare_with_one_plan_named_pairs_it_with_another(small_run):
    folder, _ = small_run
    proc = cli("compare", "results/small", "--b", "bottom-up", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert "paired difference top-down − bottom-up" in proc.stdout


def test_sweep_help_shows_the_sweep_table():
    proc = cli("sweep", "--help")
    assert proc.returncode == 0
    assert "scenario TOML file with a [sweep] table" in proc.stdout


def test_output_into_a_closed_pipe_ends_quietly(small_run):
    """`adoptsim compare RESULTS | head -1`: the reader leaves early; no error, no traceback."""
    folder, _ = small_run
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "compare", "results/small"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # before the command prints anything
    stderr = process.stderr.read().decode()
    process.wait(timeout=120)
    assert process.returncode in (0, 141), stderr
    assert stderr == ""
