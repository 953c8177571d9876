"""Sweeps: expansion, worker-count and Dask invariance, kill-and-resume, refusals, comparison."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from sim import api
from sim.errors import AdoptsimError
from sim.results.compare import Results, paired_differences
from sim.scenario import ScenarioError, parse_scenario

SWEEP = """
name = "{name}"
weeks = {weeks}
replicates = {replicates}
seed = 5
[org]
n = {n}
departments = 3
[freemium]
free_seats = 3
[mandate]
week = 2
[sweep]
freemium.free_seats = [2, 6]
adoption.q = [0.2, 0.5]
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = {{ strategy = "none", count = 0 }}
mandate = {{ enabled = true }}
"""


def write(tmp_path: Path, name="sw", weeks=12, replicates=4, n=80) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SWEEP.format(name=name, weeks=weeks, replicates=replicates, n=n))
    return path


def sweep_cli(
    *args: str, timeout: int = 600, processes: bool = False
) -> subprocess.CompletedProcess:
    """``adoptsim sweep ARGS``; ``processes``: in worker processes even when it is small."""
    return subprocess.run(
        [sys.executable, "-m", "sim", "sweep", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "ADOPTSIM_SWEEP_PROCESSES": "1" if processes else ""},
    )


def all_rows(folder: Path, part: str) -> pl.DataFrame:
    frame = pl.read_parquet(folder / "parts" / part / "*.parquet")
    keys = [c for c in ("plan", "point", "replicate", "week", "department") if c in frame.columns]
    return frame.sort(keys)


def test_grid_and_latin_hypercube_points():
    scenario = parse_scenario(
        {"sweep": {"freemium": {"free_seats": [1, 2, 3]}, "adoption.q": [0.1, 0.2]}}, "x.toml"
    )
    assert len(scenario.points) == 6
    assert scenario.plans[0].at(5).freemium.free_seats == 3
    assert scenario.plans[0].at(5).adoption.q == 0.2
    lhs = parse_scenario(
        {
            "sweep": {
                "design": "latin_hypercube",
                "points": 10,
                "freemium.free_seats": {"min": 1, "max": 30},
                "adoption.q": {"min": 0.1, "max": 0.4},
            }
        },
        "x.toml",
    )
    seats = sorted(p["freemium.free_seats"] for p in lhs.points)
    qs = sorted(p["adoption.q"] for p in lhs.points)
    assert all(isinstance(s, int) and 1 <= s <= 30 for s in seats)
    # Latin hypercube: exactly one point in each of the 10 equal strata of q
    assert [int((q - 0.1) / 0.03) for q in qs] == list(range(10))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"freemium": {"free_seats": [-1]}}, "freemium.free_seats"),
        ({"nope": {"x": [1]}}, "sweep.nope.x: names no scenario setting"),
        ({"seed": [1, 2]}, "sweep.seed: cannot be swept"),
        ({"adoption.q": 0.3}, "sweep.adoption.q: a grid needs a non-empty list"),
        ({"design": "latin_hypercube", "points": 5, "adoption.q": [0.1]}, "needs a range"),
        ({"design": "random"}, "sweep.design"),
    ],
)
def test_bad_sweeps_are_named(table, message):
    with pytest.raises(ScenarioError, match="bad.toml") as error:
        parse_scenario({"sweep": table}, "bad.toml")
    assert message in str(error.value)


def test_same_rows_whatever_the_number_of_workers(tmp_path):
    """One thread, two threads, two worker processes: the same rows."""
    scenario = write(tmp_path)
    for folder, workers, processes in (
        ("one", "1", False),
        ("two", "2", False),
        ("procs", "2", True),
    ):
        done = sweep_cli(
            str(scenario),
            "--workers",
            workers,
            "--results",
            str(tmp_path / folder),
            processes=processes,
        )
        assert done.returncode == 0, done.stderr
        how = "local worker(s)" if processes else "thread(s) in this process"
        assert f"running on {workers} {how}" in " ".join(done.stdout.split())
    for part in ("trajectories", "departments", "summary"):
        one = all_rows(tmp_path / "one" / "sw", part)
        assert one.equals(all_rows(tmp_path / "two" / "sw", part))
        assert one.equals(all_rows(tmp_path / "procs" / "sw", part))
    summary = pl.read_parquet(tmp_path / "one" / "sw" / "summary.parquet")
    assert summary.height == 2 * 4 * 4  # plans x points x replicates


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dask_cluster_gives_the_local_rows(tmp_path):
    """A real Dask scheduler and two worker processes on loopback."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "worker",
            address,
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        scenario = write(tmp_path)
        done = sweep_cli(str(scenario), "--scheduler", address, "--results", str(tmp_path / "dask"))
        assert done.returncode == 0, done.stderr
        assert (
            sweep_cli(
                str(scenario), "--workers", "1", "--results", str(tmp_path / "local")
            ).returncode
            == 0
        )
        for part in ("trajectories", "summary"):
            assert all_rows(tmp_path / "dask" / "sw", part).equals(
                all_rows(tmp_path / "local" / "sw", part)
            )
    finally:
        for process in (worker, scheduler):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def test_sigkill_midway_then_resume_gives_exactly_the_uninterrupted_rows(tmp_path):
    scenario = write(tmp_path, name="killme", weeks=60, replicates=100, n=400)
    killed_folder = tmp_path / "killed" / "killme"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "sweep",
            str(scenario),
            "--workers",
            "2",
            "--results",
            str(tmp_path / "killed"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    summary_parts = killed_folder / "parts" / "summary"
    while time.time() < deadline and len(list(summary_parts.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(list(summary_parts.glob("*.parquet")))
    total_tasks = 2 * 4 * 4  # plans x points x blocks of 25 replicates
    assert 3 <= finished_before < total_tasks
    assert not (killed_folder / "summary.parquet").exists()

    resumed = sweep_cli(
        str(scenario), "--workers", "2", "--results", str(tmp_path / "killed"), processes=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{finished_before} already done" in " ".join(resumed.stdout.split())
    uninterrupted = sweep_cli(str(scenario), "--workers", "2", "--results", str(tmp_path / "clean"))
    assert uninterrupted.returncode == 0
    for part in ("trajectories", "departments", "summary"):
        resumed_rows = all_rows(killed_folder, part)
        clean_rows = all_rows(tmp_path / "clean" / "killme", part)
        assert resumed_rows.equals(clean_rows), part
    assert pl.read_parquet(killed_folder / "summary.parquet").equals(
        pl.read_parquet(tmp_path / "clean" / "killme" / "summary.parquet")
    )
    assert not list(killed_folder.rglob("*.tmp"))


def test_finished_sweep_is_not_redone_and_changed_scenario_is_refused(tmp_path):
    scenario = write(tmp_path)
    results = str(tmp_path / "r")
    assert sweep_cli(str(scenario), "--workers", "1", "--results", results).returncode == 0
    part = next((tmp_path / "r" / "sw" / "parts" / "summary").glob("*.parquet"))
    stamp = part.stat().st_mtime_ns
    again = sweep_cli(str(scenario), "--workers", "1", "--results", results)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert part.stat().st_mtime_ns == stamp

    scenario.write_text(scenario.read_text().replace("weeks = 12", "weeks = 13"))
    refused = sweep_cli(str(scenario), "--workers", "1", "--results", results)
    assert refused.returncode == 2
    assert "different scenario" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert part.stat().st_mtime_ns == stamp

    forced = sweep_cli(str(scenario), "--workers", "1", "--results", results, "--force")
    assert forced.returncode == 0
    summary = pl.read_parquet(tmp_path / "r" / "sw" / "parts" / "trajectories" / "*.parquet")
    assert summary["week"].max() == 13


def test_compare_reports_paired_differences(tmp_path):
    scenario = write(tmp_path)
    assert sweep_cli(str(scenario), "--workers", "1", "--results", str(tmp_path)).returncode == 0
    results = Results(tmp_path / "sw")
    rows = paired_differences(results, "bottom-up", "top-down")
    summary = results.summary
    for point in range(4):
        a = summary.filter((pl.col("plan") == "bottom-up") & (pl.col("point") == point))
        b = summary.filter((pl.col("plan") == "top-down") & (pl.col("point") == point))
        by_hand = (
            a.sort("replicate")["final_active_share"] - b.sort("replicate")["final_active_share"]
        ).mean()
        (row,) = [r for r in rows if r["point"] == point and r["outcome"] == "final_active_share"]
        assert row["mean"] == pytest.approx(by_hand)
        assert row["low"] <= row["mean"] <= row["high"]
    report = (tmp_path / "sw" / "report.html").read_bytes()  # the sweep's own report
    assert b"heatmap" in report and b"free_seats" in report
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "compare",
            str(tmp_path / "sw"),
            "--a",
            "bottom-up",
            "--b",
            "top-down",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "bottom-up − top-down" in done.stdout
    page = (tmp_path / "sw" / "compare.html").read_text()
    assert "heatmap" in page and "free_seats" in page
    assert (tmp_path / "sw" / "report.html").read_bytes() == report  # never rewritten
    # across the assumption sets: wins per plan, their share with a Wilson interval, and
    # the range of each plan's difference to the best, as one table and one chart
    from sim.results.compare import ranking, win_shares

    ranked = ranking(results)
    shares = win_shares(ranked, results.plans)
    for column, cells in shares.items():
        assert sum(cell["wins"] for cell in cells.values()) == 4  # every point counted once
        for plan, cell in cells.items():
            assert cell["low"] <= cell["share"] <= cell["high"]
            winners = [e for e in ranked if e["outcome"] == column and e["winner"] == plan]
            if plan != "no clear winner":
                assert cell["wins"] == len(winners)
    api.compare(tmp_path / "sw")
    ranked_page = (tmp_path / "sw" / "compare.html").read_text()
    assert "How often each plan wins clearly" in ranked_page
    assert "range of plan − best" in ranked_page


def test_wilson_interval_by_hand():
    """Wilson (1927) at 95%: 0 of 10 gives [0, z^2/(n + z^2)] = [0, 0.2775]; 5 of 10 gives
    0.5 +- 0.2634."""
    from sim.results.stats import wilson

    assert wilson(0, 10) == pytest.approx((0.0, 0.0, 0.27753), abs=1e-4)
    share, low, high = wilson(5, 10)
    assert share == 0.5 and low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)
    assert all(v != v for v in wilson(0, 0))


def test_reference_engine_sweep_gives_the_batched_rows(tmp_path):
    scenario = write(tmp_path, weeks=8, replicates=2, n=60)
    for engine in ("batched", "reference"):
        done = sweep_cli(
            str(scenario), "--workers", "1", "--engine", engine, "--results", str(tmp_path / engine)
        )
        assert done.returncode == 0, done.stderr
    for part in ("trajectories", "summary"):
        assert all_rows(tmp_path / "batched" / "sw", part).equals(
            all_rows(tmp_path / "reference" / "sw", part)
        )
    manifest = (tmp_path / "reference" / "sw" / "manifest.json").read_text()
    assert '"engine": "reference"' in manifest


# --- stopping, re-running and refusing without damage ------------------------------------


def adoptsim(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Any adoptsim command (``sweep_cli`` is the same for ``sweep``)."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=timeout
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every path under folder (hidden ones too) with its content and modification time."""
    return {
        str(p.relative_to(folder)): (
            (p.read_bytes(), p.stat().st_mtime_ns) if p.is_file() else (b"<dir>", 0)
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("processes", [True, False], ids=["worker-processes", "threads"])
def test_sigterm_stops_the_workers_and_a_rerun_resumes(tmp_path, processes):
    """Worker processes (forced; a sweep this small runs in threads by default) or threads:
    either way SIGTERM stops the sweep, keeps finished tasks and a rerun resumes."""
    psutil = pytest.importorskip("psutil")
    scenario = write(tmp_path, name="termme", weeks=60, replicates=100, n=400)
    folder = tmp_path / "stopped" / "termme"
    env = {**os.environ, "ADOPTSIM_SWEEP_PROCESSES": "1" if processes else ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(scenario), "--workers", "2"]
        + ["--results", str(tmp_path / "stopped")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    summary_parts = folder / "parts" / "summary"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(summary_parts.glob("*.parquet"))) < 3:
        time.sleep(0.05)
    children = psutil.Process(process.pid).children(recursive=True)
    if processes:
        assert len(children) >= 2  # the two spawn workers (and multiprocessing's tracker)
    else:
        assert children == []  # a small sweep: threads in the sweep's own process
    process.send_signal(signal.SIGTERM)  # to the sweep alone, as `kill PID` does
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr and "stopped by SIGTERM" in stderr
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"workers outlived the sweep: {alive}"

    finished = len(list(summary_parts.glob("*.parquet")))
    total_tasks = 2 * 4 * 4  # plans x points x blocks of 25 replicates
    assert 3 <= finished < total_tasks
    assert not list(folder.rglob("*.tmp"))  # no half-written file
    assert not (folder / "summary.parquet").exists()
    time.sleep(1)
    assert len(list(summary_parts.glob("*.parquet"))) == finished  # nobody writes any more

    resumed = sweep_cli(str(scenario), "--workers", "2", "--results", str(tmp_path / "stopped"))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{finished} already done" in " ".join(resumed.stdout.split())
    clean = sweep_cli(str(scenario), "--workers", "2", "--results", str(tmp_path / "clean"))
    assert clean.returncode == 0, clean.stderr
    for part in ("trajectories", "departments", "summary"):
        assert all_rows(folder, part).equals(all_rows(tmp_path / "clean" / "termme", part)), part


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A small finished sweep: (scenario file, its results folder)."""
    base = tmp_path_factory.mktemp("finished")
    scenario = write(base, weeks=6, replicates=4, n=60)
    done = sweep_cli(str(scenario), "--workers", "1", "--results", str(base / "results"))
    assert done.returncode == 0, done.stderr
    return scenario, base / "results"


def test_rerun_of_a_finished_sweep_writes_nothing(finished_sweep):
    scenario, results = finished_sweep
    before = snapshot(results)
    again = sweep_cli(str(scenario), "--workers", "1", "--results", str(results))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert snapshot(results) == before
    manifest = json.loads((results / "sw" / "manifest.json").read_text())
    assert len(manifest["done"]) == 2 * 4 and manifest["finished"] >= manifest["started"]


@pytest.mark.parametrize(
    ("option", "difference"),
    [
        (["--replicates", "3"], "4 replicates per plan and point, now 3"),
        (["--engine", "reference"], "engine batched, now reference"),
    ],
)
def test_refusal_says_what_differs(finished_sweep, option, difference):
    scenario, results = finished_sweep
    before = snapshot(results)
    refused = sweep_cli(str(scenario), "--workers", "1", "--results", str(results), *option)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    message = " ".join(refused.stderr.split())
    assert difference in message and "--force" in message
    assert "hash" not in message  # the scenario itself is the same
    assert snapshot(results) == before


def test_run_refuses_to_replace_a_sweep_unless_forced(finished_sweep, tmp_path):
    scenario, finished = finished_sweep
    results = tmp_path / "results"
    shutil.copytree(finished, results)
    before = snapshot(results)
    refused = adoptsim("run", str(scenario), "--results", str(results))
    assert refused.returncode == 2
    message = " ".join(refused.stderr.split())
    assert message.startswith(f"error: {results / 'sw'}: holds sweep results")
    assert "--results" in message and "--force" in message
    assert snapshot(results) == before

    forced = adoptsim("run", str(scenario), "--results", str(results), "--force")
    assert forced.returncode == 0, forced.stderr
    note = [line for line in forced.stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1
    assert "[sweep] table" in note[0] and "base plans only" in note[0]
    assert "adoptsim sweep" in note[0]
    assert not (results / "sw" / "parts").exists()

    compared = adoptsim("compare", str(results / "sw"))  # a run of a scenario with a [sweep]
    assert compared.returncode == 0, compared.stderr
    assert "plans ranked per outcome" in compared.stdout  # no --a/--b: every plan ranked

    swept = sweep_cli(str(scenario), "--workers", "1", "--results", str(results))
    assert swept.returncode == 2
    assert "results of `adoptsim run`, not of a sweep" in " ".join(swept.stderr.split())


def test_sweep_point_that_does_not_fit_the_org_is_refused_before_writing(tmp_path):
    scenario = tmp_path / "scope.toml"
    scenario.write_text(
        'name = "scope"\nweeks = 5\nreplicates = 2\n[org]\nn = 60\ndepartments = 3\n'
        '[mandate]\nenabled = true\n[sweep]\nmandate.scope = ["org", ["ZZ"]]\n'
    )
    results = ["--results", str(tmp_path / "r")]
    for args in (["check", str(scenario)], ["sweep", str(scenario), *results]):
        proc = adoptsim(*args)
        assert proc.returncode == 2, (args, proc.stdout)
        message = " ".join(proc.stderr.split())
        assert message.startswith(f"error: {scenario}: plan 'base', sweep point 1")
        assert "mandate.scope: unknown department(s) ['ZZ']" in message
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_unreachable_scheduler_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    scenario = write(tmp_path, weeks=5, replicates=2, n=60)
    # a port held bound but never listening: connections to it are refused, and no other
    # test (pytest runs several at once) can start a server on it meanwhile
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    address = f"tcp://127.0.0.1:{held.getsockname()[1]}"
    started = time.time()
    monkeypatch.setenv("ADOPTSIM_SCHEDULER_TIMEOUT", "2")  # sweep_cli passes it on
    with held:
        proc = sweep_cli(str(scenario), "--scheduler", address, "--results", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    message = " ".join(proc.stderr.split())
    assert message.startswith(f"error: --scheduler {address}: cannot connect")
    assert time.time() - started < 15
    assert not (tmp_path / "r").exists()


def test_a_bad_scheduler_timeout_is_named(tmp_path, monkeypatch):
    from sim.tasks import scheduler_timeout

    for bad in ("soon", "0", "-3", "inf"):
        monkeypatch.setenv("ADOPTSIM_SCHEDULER_TIMEOUT", bad)
        with pytest.raises(AdoptsimError, match=f"ADOPTSIM_SCHEDULER_TIMEOUT='{bad}'"):
            scheduler_timeout()
    monkeypatch.setenv("ADOPTSIM_SCHEDULER_TIMEOUT", "2.5")
    assert scheduler_timeout() == 2.5


def test_an_in_process_sweep_runs_on_the_org_its_files_hold_now(tmp_path):
    """Two sweeps in one process, the org chart's ties edited between them: the second
    runs on the edited org (an org kept from the first would give other rows)."""
    import random

    from sim import tasks

    people = ["employee_id,manager_id,department"] + ["E0,,Ops"]
    people += [f"E{i},E{(i - 1) // 4},{'Ops' if i % 2 else 'Eng'}" for i in range(1, 120)]
    (tmp_path / "people.csv").write_text("\n".join(people) + "\n")
    pick = random.Random(3)
    ties = ["source,target,weight"] + [
        f"E{a},E{b},{pick.randint(1, 9)}"
        for a, b in {tuple(sorted(pick.sample(range(120), 2))) for _ in range(300)}
    ]
    (tmp_path / "ties.csv").write_text("\n".join(ties) + "\n")
    scenario = tmp_path / "chart.toml"
    scenario.write_text(
        'name = "chart"\nweeks = 20\nreplicates = 3\nseed = 5\n'
        '[org]\ngenerator = "chart"\nchart = "people.csv"\nties = "ties.csv"\n'
        '[seeding]\nstrategy = "brokers"\ncount = 4\n'
        '[sweep]\n"adoption.q" = [0.3, 0.6]\n'
    )
    api.sweep(scenario, results=tmp_path / "first", workers=2)
    assert tasks._ORGS == {}  # nothing kept after an in-process sweep
    (tmp_path / "ties.csv").write_text("\n".join(ties[: len(ties) // 3]) + "\n")
    api.sweep(scenario, results=tmp_path / "edited", workers=2)
    fresh = sweep_cli(str(scenario), "--results", str(tmp_path / "fresh"))
    assert fresh.returncode == 0, fresh.stderr
    edited = all_rows(tmp_path / "edited" / "chart", "summary")
    assert edited.equals(all_rows(tmp_path / "fresh" / "chart", "summary"))
    assert not edited.equals(all_rows(tmp_path / "first" / "chart", "summary"))


def test_an_in_process_sweep_runs_group_by_group_on_every_core(tmp_path, monkeypatch):
    """One worker: each group of tasks is one batched model on every core (the engine's
    default threads, not one); a group holds at most an eighth of the tasks (but enough
    for every thread's model), so progress and a killed sweep's work come group by group."""
    from sim.engines import batched

    calls = []
    real = batched.simulate_groups

    def spy(groups, org, seed=None, threads=None):
        calls.append((len(groups), threads))
        return real(groups, org, seed, threads)

    monkeypatch.setattr(batched, "simulate_groups", spy)
    monkeypatch.setenv("ADOPTSIM_THREADS", "2")  # 2 threads x MAX_GROUPS = 8 tasks a group
    monkeypatch.setenv("ADOPTSIM_SWEEP_PROCESSES", "")
    scenario = write(tmp_path, weeks=12, replicates=100, n=80)  # 2 plans x 4 points x 4 blocks
    receipts = []
    api.sweep(scenario, results=tmp_path / "r", workers=1, on_task_done=receipts.append)
    assert calls == [(8, None)] * 4
    assert [r["task"] for r in receipts] == list(range(32))
