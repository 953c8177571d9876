"""Never lose or mangle a user's data (issue #12): each test names the class of failure it
guards against; each failed on the code before that issue.

Commands run in-process (typer's CliRunner) where a subprocess adds nothing; the kill -9
tests need a real process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from sim import api
from sim.cli import app
from sim.errors import AdoptsimError
from sim.results import store
from sim.scenario import ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parents[1]

TINY = """
name = "tiny"
weeks = 6
replicates = 3
seed = 3
[org]
n = 40
departments = 2
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = { strategy = "none", count = 0 }
mandate = { enabled = true, week = 2 }
"""

SWEEP = TINY.replace('name = "tiny"', 'name = "swept"') + "[sweep]\nadoption.q = [0.2, 0.4]\n"


def invoke(*args: str):
    """Run the CLI in this process; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a failure of the test, shown as such
    return result.exit_code, result.stdout, result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture
def swept(tmp_path: Path) -> Path:
    path = tmp_path / "swept.toml"
    path.write_text(SWEEP)
    return path


# -- data loss ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [".", "..", ".hidden", "a/b", "", "x" * 101, "-x"])
def test_a_scenario_name_is_one_safe_path_component(name):
    """If the name could leave results/ (".", "..") or hide ("."-prefixed), it is refused."""
    with pytest.raises(ScenarioError, match="name: must be 1-100 letters"):
        parse_scenario({"name": name}, "s.toml")


def test_a_file_name_that_is_not_a_safe_name_is_refused(tmp_path):
    path = tmp_path / "..toml"
    path.write_text("weeks = 3\n")
    code, _, err = invoke("check", str(path))
    assert code == 2
    assert "taken from the file name" in err


@pytest.mark.parametrize("force", [False, True])
def test_run_never_replaces_a_folder_adoptsim_did_not_write(tiny, tmp_path, force):
    """A user's own folder at results/<name> (no manifest) is left exactly as it was."""
    mine = tmp_path / "results" / "tiny"
    mine.mkdir(parents=True)
    (mine / "thesis.docx").write_bytes(b"years of work")
    before = snapshot(tmp_path / "results")
    args = ["run", str(tiny), "--results", str(tmp_path / "results")]
    code, _, err = invoke(*args, *(["--force"] if force else []))
    assert code == 2
    assert "not results written by adoptsim" in " ".join(err.split())
    assert snapshot(tmp_path / "results") == before


def test_run_never_replaces_a_folder_with_an_unreadable_manifest(tiny, tmp_path):
    folder = tmp_path / "results" / "tiny"
    (folder / "parts" / "summary").mkdir(parents=True)
    (folder / "parts" / "summary" / "task-000000.parquet").write_bytes(b"a sweep's work")
    (folder / "manifest.json").write_text("{not json")
    before = snapshot(tmp_path / "results")
    code, _, _ = invoke("run", str(tiny), "--results", str(tmp_path / "results"))
    assert code == 2
    assert snapshot(tmp_path / "results") == before


def _run(tiny: Path, results: Path) -> Path:
    code, out, err = invoke("run", str(tiny), "--results", str(results))
    assert code == 0, err + out
    return results / "tiny"


def test_a_swap_killed_between_its_renames_is_undone_by_the_next_command(tiny, tmp_path):
    """kill -9 after the old results were set aside and before the new ones were renamed
    into place: the next command puts the old ones back (no staging folder is complete)."""
    folder = _run(tiny, tmp_path / "results")
    before = snapshot(folder)
    aside = store.set_aside(folder)  # the first rename of a replacement
    incomplete = tmp_path / "results" / ".tiny.abc.staging"
    incomplete.mkdir()
    (incomplete / "summary.parquet").write_bytes(b"half")  # no manifest: unfinished
    assert not folder.exists()
    stored = api.compare(folder).results
    assert snapshot(folder).keys() == before.keys() | {"compare.html"}  # compare's own page
    assert not aside.exists() and not incomplete.exists()
    assert stored.plans == ["bottom-up", "top-down"]


def test_a_swap_killed_between_its_renames_is_finished_by_the_next_command(tiny, tmp_path):
    """... and when the new results were complete, the next command puts them in place."""
    folder = _run(tiny, tmp_path / "results")
    staged = tmp_path / "results" / ".tiny.xyz.staging"
    shutil.copytree(folder, staged)
    manifest = json.loads((staged / "manifest.json").read_text())
    manifest["finished"] = "the new one"
    (staged / "manifest.json").write_text(json.dumps(manifest))
    store.set_aside(folder)
    store.recover(folder)
    assert json.loads((folder / "manifest.json").read_text())["finished"] == "the new one"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["tiny"]


def test_sweep_force_keeps_the_old_results_until_the_new_ones_finish(swept, tmp_path):
    results = tmp_path / "results"
    code, _, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 0, err
    folder = results / "swept"
    old_summary = (folder / "summary.parquet").read_bytes()
    scenario = api.load_scenario(swept)
    # a forced sweep killed before its first task: the old results are still on disk
    from sim import tasks as sweeps

    sweeps.open_folder(folder, {"kind": "sweep"}, None, force=True)
    (aside,) = list(results.glob(".swept.*.old"))
    assert (aside / "summary.parquet").read_bytes() == old_summary
    # the next forced sweep finishes, and only then deletes them
    result = api.sweep(scenario, results, workers=1, force=True)
    assert result.ran == result.tasks
    assert not aside.exists()
    assert pl.read_parquet(folder / "summary.parquet").height == 2 * 2 * 3


# -- silent wrong answers ---------------------------------------------------------------------
def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes(b"" if how == "empty" else data[: len(data) // 2])


@pytest.mark.parametrize("how", ["empty", "truncated"])
def test_a_damaged_sweep_part_is_redone_not_trusted(swept, tmp_path, how):
    results = tmp_path / "results"
    code, _, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 0, err
    folder = results / "swept"
    complete = pl.read_parquet(folder / "summary.parquet")
    _damage(folder / "parts" / "summary" / "task-000001.parquet", how)
    _damage(folder / "parts" / "trajectories" / "task-000002.parquet", how)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["finished"]  # as if killed right after the damage
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, out, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 0, err
    assert "2 already done" in " ".join(out.split())  # 4 tasks, 2 damaged and redone
    assert pl.read_parquet(folder / "summary.parquet").equals(complete)


def test_a_sweep_killed_before_its_report_writes_it_on_the_next_run(swept, tmp_path):
    results = tmp_path / "results"
    assert invoke("sweep", str(swept), "--workers", "1", "--results", str(results))[0] == 0
    folder = results / "swept"
    (folder / "report.html").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["finished"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 0, err
    assert (folder / "report.html").stat().st_size > 10_000
    assert json.loads((folder / "manifest.json").read_text())["finished"]


def test_report_shares_use_each_plans_own_head_count():
    """Plans on orgs of 100 and 400 people, 50 engaged each: 50% and 12.5%, not both / 100."""
    from sim.results.report import band
    from sim.rules import STATE_NAMES

    rows = []
    for plan, n in (("small", 100), ("large", 400)):
        for replicate in range(2):
            counts = dict.fromkeys(STATE_NAMES, 0) | {"active": 50, "unaware": n - 50}
            rows.append({"plan": plan, "week": 0, "replicate": replicate, **counts})
    shares = band(pl.DataFrame(rows), "active", per_employee=True)
    assert dict(zip(shares["plan"], shares["mean"], strict=True)) == {
        "small": 0.5,
        "large": 0.125,
    }


def test_a_second_command_on_the_same_results_is_refused(swept, tmp_path):
    results = tmp_path / "results"
    with store.lock(results / "swept"):
        code, _, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 2
    assert "another adoptsim command is writing these results" in " ".join(err.split())
    assert not (results / "swept").exists()


def test_replicates_obey_the_schemas_cap_everywhere(tiny, tmp_path):
    code, _, err = invoke("run", str(tiny), "--replicates", "100001", "--results", str(tmp_path))
    assert code == 2 and "--replicates 100001: allowed: 1..100,000" in err
    with pytest.raises(AdoptsimError, match="replicates 0: allowed"):
        api.run(tiny, replicates=0)


def test_the_view_says_when_it_runs_another_seed_or_value():
    from sim.viz.model import ViewSpec, VizModel

    spec = ViewSpec.load(ROOT / "scenarios" / "default.toml")
    model = VizModel(spec=spec, seed="abc", mandate_week=10_000)
    summary = model.summary()
    assert f"seed 'abc' is not a whole number 0..2^63-1: running seed {model.config.seed}" in (
        summary
    )
    assert f"mandate_week 10000 is outside what the plan allows: running {model.config.weeks}" in (
        summary
    )


# -- tracebacks instead of messages -----------------------------------------------------------
COMPARE_DAMAGE = {
    "manifest-not-json": ("manifest.json", b"{oops"),
    "manifest-a-list": ("manifest.json", b"[1, 2]"),
    "manifest-no-scenario": ("manifest.json", b'{"kind": "run"}'),
    "manifest-binary": ("manifest.json", bytes(range(256))),
    "summary-empty": ("summary.parquet", b""),
    "summary-garbage": ("summary.parquet", b"PAR1 not really"),
    "summary-truncated": ("summary.parquet", None),
    "trajectories-truncated": ("trajectories.parquet", None),
    "summary-other-table": ("summary.parquet", "other"),
    "summary-missing": ("summary.parquet", "delete"),
}


@pytest.mark.parametrize("case", list(COMPARE_DAMAGE))
def test_compare_on_damaged_results_is_one_message(tiny, tmp_path, case):
    folder = _run(tiny, tmp_path / "results")
    name, content = COMPARE_DAMAGE[case]
    path = folder / name
    if content is None:
        _damage(path, "truncated")
    elif content == "other":
        pl.DataFrame({"x": [1, 2]}).write_parquet(path)
    elif content == "delete":
        path.unlink()
    else:
        path.write_bytes(content)
    code, out, err = invoke("compare", str(folder))
    assert code == 2, out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:") and str(folder) in " ".join(err.split())


def test_a_full_disk_is_refused_before_simulating(tiny, tmp_path, monkeypatch):
    spent = []
    monkeypatch.setattr(
        store.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 1024)
    )
    monkeypatch.setattr(api, "run_scenario", lambda *a, **k: spent.append(1))
    code, _, err = invoke("run", str(tiny), "--results", str(tmp_path / "results"))
    assert code == 2 and "MiB free on its disk" in err
    assert spent == []


@pytest.mark.parametrize(
    ("line", "message"),
    [("1 2 inf\n", "must be whole numbers"), ("1 2 1e400\n", "must be whole numbers")],
)
def test_an_edge_file_with_non_finite_numbers_is_named(tmp_path, line, message):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "sim" / "data" / "krackhardt_hightech", data)
    with (data / "Krack-High-Tec-edgelist-Advice.txt").open("a") as handle:
        handle.write(line)
    scenario = tmp_path / "k.toml"
    scenario.write_text(f'[org]\ngenerator = "krackhardt"\npath = "{data}"\n')
    code, _, err = invoke("check", str(scenario))
    assert code == 2 and message in err and "Advice.txt:442" in err


def test_a_binary_edge_file_is_named(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "sim" / "data" / "krackhardt_hightech", data)
    (data / "Krack-High-Tec-edgelist-Friendship.txt").write_bytes(bytes(range(256)) * 4)
    scenario = tmp_path / "k.toml"
    scenario.write_text(f'[org]\ngenerator = "krackhardt"\npath = "{data}"\n')
    code, _, err = invoke("check", str(scenario))
    assert code == 2 and "Friendship.txt: not a text file" in err


def test_an_org_too_big_for_this_machine_is_refused_with_the_figure(tmp_path):
    scenario = tmp_path / "big.toml"
    scenario.write_text('[org]\ngenerator = "complete"\nn = 200000\n')
    code, _, err = invoke("check", str(scenario))
    text = " ".join(err.split())
    assert code == 2 and "too big for this machine" in text
    assert "19,999,900,000 ties" in text and "GiB is available" in text


# -- orphans ----------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_sweep_workers_die_when_the_sweep_is_killed(tmp_path):
    """kill -9 of `adoptsim sweep` takes its worker processes with it (forced to use them:
    a sweep this size would run in threads of its own process)."""
    scenario = tmp_path / "long.toml"
    scenario.write_text(
        SWEEP.replace('name = "swept"', 'name = "long"')
        .replace("weeks = 6", "weeks = 400")
        .replace("n = 40", "n = 3000")
        .replace("replicates = 3", "replicates = 50")
    )
    sweep = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", str(scenario), "--workers", "2"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ADOPTSIM_SWEEP_PROCESSES": "1"},
    )
    try:
        deadline = time.time() + 90
        workers: list[int] = []
        while time.time() < deadline and len(workers) < 2:
            time.sleep(0.5)
            workers = [p for p in _children(sweep.pid) if "spawn_main" in _cmdline(p)]
        assert len(workers) == 2, "the sweep did not start its workers"
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        deadline = time.time() + 20
        while time.time() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers), "workers outlived the killed sweep"
    finally:
        if sweep.poll() is None:
            sweep.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # a failed test leaves no orphans behind


@pytest.mark.slow
def test_the_view_server_dies_when_adoptsim_viz_is_killed(tmp_path):
    """kill -9 of `adoptsim viz` takes its web server (and the port) with it."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    viz = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "viz",
            str(ROOT / "scenarios" / "krackhardt.toml"),
            "--port",
            str(port),
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    servers: list[int] = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not servers:
            time.sleep(0.5)
            servers = _children(viz.pid)
        assert servers, "adoptsim viz started no server"
        viz.send_signal(signal.SIGKILL)
        viz.wait()
        deadline = time.time() + 20
        while time.time() < deadline and any(_alive(p) for p in servers):
            time.sleep(0.2)
        assert not any(_alive(p) for p in servers), "the server outlived adoptsim viz"
    finally:
        if viz.poll() is None:
            viz.kill()
        for pid in servers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_control_that_does_not_fit_the_switched_plan_is_a_note_not_a_crash(tmp_path):
    """Scope "D5" set while viewing a 6-department plan, then a plan on a 2-department
    org selected: the view runs that plan as it is and says why."""
    from sim.viz.model import ViewSpec, VizModel

    path = tmp_path / "two.toml"
    path.write_text(
        TINY.replace("departments = 2", "departments = 6")
        + '[[plans]]\nname = "small-org"\norg = { n = 40, departments = 2 }\n'
        + "mandate = { enabled = true }\n"
    )
    spec = ViewSpec.load(path, "top-down")
    model = VizModel(spec=spec, plan="small-org", mandate_scope="D5")
    assert model.plan_name == "small-org"
    assert model.config == spec.prepared_plan("small-org").config
    assert "the controls do not fit plan 'small-org'" in model.summary()
    assert "unknown department(s) ['D5']" in model.summary()


def test_a_write_that_fails_half_way_is_a_message_and_keeps_the_old_results(
    tiny, tmp_path, monkeypatch
):
    """The disk fills up while the new results are written: one message, exit 2, and the
    previous results exactly as they were."""
    import errno

    folder = _run(tiny, tmp_path / "results")
    before = snapshot(tmp_path / "results")

    def full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_parquet", full)
    code, _, err = invoke("run", str(tiny), "--results", str(tmp_path / "results"))
    assert code == 2
    assert "could not write the results (No space left on device)" in " ".join(err.split())
    assert snapshot(tmp_path / "results") == before
    assert folder.exists()


# -- found in review ---------------------------------------------------------------------------
def test_recovery_never_takes_another_scenarios_leftovers(tmp_path):
    """Scenario "a" must not adopt or delete what scenario "a.b" set aside."""
    results = tmp_path / "results"
    theirs = results / ".a.b.123-456.old"
    theirs.mkdir(parents=True)
    (theirs / "manifest.json").write_text('{"kind": "sweep"}')
    store.recover(results / "a")
    assert theirs.exists() and not (results / "a").exists()


def test_a_sweep_of_the_earlier_random_numbers_is_not_resumed(swept, tmp_path):
    results = tmp_path / "results"
    assert invoke("sweep", str(swept), "--workers", "1", "--results", str(results))[0] == 0
    manifest_path = results / "swept" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["randomness"]  # written before randomness contract v2
    manifest_path.write_text(json.dumps(manifest))
    code, _, err = invoke("sweep", str(swept), "--workers", "1", "--results", str(results))
    assert code == 2
    assert "random numbers of contract 1, now 2" in " ".join(err.split())


def test_a_failed_parquet_write_is_an_os_error(tmp_path, monkeypatch):
    """polars reports a disk filling up mid-write as its own error, not OSError."""

    def disk_full(self, path, **kwargs):
        raise pl.exceptions.ComputeError("underlying IO error: No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        store.write_parquet(pl.DataFrame({"x": [1]}), tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


def test_run_does_not_replace_a_sweep_it_finds_set_aside(tiny, swept, tmp_path):
    """Killed between setting a sweep aside and starting anew: `run` (no --force) puts the
    sweep back and refuses to replace it."""
    results = tmp_path / "results"
    text = swept.read_text().replace('name = "swept"', 'name = "tiny"')
    swept.write_text(text)
    assert invoke("sweep", str(swept), "--workers", "1", "--results", str(results))[0] == 0
    before = snapshot(results / "tiny")
    store.set_aside(results / "tiny")
    code, _, err = invoke("run", str(tiny), "--results", str(results))
    assert code == 2 and "holds sweep results" in " ".join(err.split())
    assert snapshot(results / "tiny") == before


def test_compare_from_inside_the_results_folder(tiny, tmp_path, monkeypatch):
    folder = _run(tiny, tmp_path / "results")
    monkeypatch.chdir(folder)
    code, out, err = invoke("compare", ".")
    assert code == 0, err
    assert "report:" in out


def test_compare_that_cannot_write_its_report_is_a_message(tiny, tmp_path, monkeypatch):
    import errno

    folder = _run(tiny, tmp_path / "results")

    def full(text, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "write_text", full)
    code, _, err = invoke("compare", str(folder))
    assert code == 2 and "could not write compare.html (No space left on device)" in err


def test_a_folder_holding_only_a_killed_writes_temp_file_is_taken_as_empty(swept, tmp_path):
    folder = tmp_path / "results" / "swept"
    folder.mkdir(parents=True)
    (folder / ".manifest.json.abc123.tmp").write_text("{")
    code, _, err = invoke(
        "sweep", str(swept), "--workers", "1", "--results", str(tmp_path / "results")
    )
    assert code == 0, err
    assert not list(folder.glob(".*.tmp"))


def test_sweep_workers_are_capped_by_memory(monkeypatch, swept):
    """Each worker builds its own orgs: never more workers than memory holds at once."""
    from sim.engines import memory

    scenario = api.load_scenario(swept)
    need = memory.estimate_bytes(scenario.plans[0].config)
    monkeypatch.setattr(memory, "available_bytes", lambda: int(need * 3 / memory.USABLE_SHARE))
    assert api.workers_that_fit(scenario, 16, "batched") == 3
    monkeypatch.setattr(memory, "available_bytes", lambda: 1)
    assert api.workers_that_fit(scenario, 16, "batched") == 1


def test_run_never_replaces_a_fit_or_optimize_folder_without_force(tmp_path):
    """A scenario whose name collides with another command's folder (name-fit) cannot
    overwrite that study's results unless --force (the probe's finding)."""
    from sim import api
    from sim.errors import AdoptsimError
    from sim.results import store
    from sim.scenario import parse_scenario

    folder = tmp_path / "study-fit"
    folder.mkdir()
    store.write_json({"kind": "fit"}, folder / "manifest.json")
    (folder / "posterior.parquet").write_bytes(b"precious")
    scenario = parse_scenario(
        {"name": "study-fit", "weeks": 3, "replicates": 1, "org": {"n": 30}}, "<collide>"
    )
    with pytest.raises(AdoptsimError) as info:
        api.run(scenario).save(tmp_path)
    assert "holds fit results" in str(info.value) and "--force" in str(info.value)
    assert (folder / "posterior.parquet").read_bytes() == b"precious"
    api.run(scenario).save(tmp_path, force=True)
    assert not (folder / "posterior.parquet").exists()
