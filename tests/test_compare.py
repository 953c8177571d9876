"""`adoptsim compare`: the plans it says it compares are the ones compared (terminal table
and compare.html), the run's own report.html is never touched, every plan is ranked with a
winner only where the CIs say so, and two results folders of the same org are compared
plan by plan (paired or Welch)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim import api, cli
from sim.metrics import SUMMARY_COLUMNS
from sim.results.compare import BETTER, ranked_outcomes, ranking
from sim.results.report import format_interval
from sim.results.verdict import paired_columns

SMALL = """
name = "{name}"
weeks = 12
replicates = 4
seed = {seed}
[org]
n = {n}
departments = 3
[adoption]
q = {q}
[seeding]
count = 3
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = {{ strategy = "none", count = 0 }}
mandate = {{ enabled = true, week = 2 }}
[[plans]]
name = "hybrid"
mandate = {{ enabled = true, week = 6, scope = ["D1"] }}
"""
PLANS = ["bottom-up", "top-down", "hybrid"]


def write_run(folder: Path, name: str, seed: int = 7, n: int = 60, q: float = 0.5) -> Path:
    """Run a small three-plan scenario through the API and store it under ``folder``."""
    scenario = folder / f"{name}.toml"
    scenario.write_text(SMALL.format(name=name, seed=seed, n=n, q=q))
    return api.run(scenario).save(folder / "results")


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """One small run of three plans, shared by the module's tests."""
    return write_run(tmp_path_factory.mktemp("compare"), "small")


@pytest.fixture(scope="module")
def report_bytes(stored: Path) -> bytes:
    """report.html as the run wrote it, before any compare."""
    return (stored / "report.html").read_bytes()


def invoke(monkeypatch, *args: str) -> tuple[int, str, str]:
    """The CLI in this process on a wide console (no wrapped table cells)."""
    monkeypatch.setattr(cli.out, "width", 250)
    monkeypatch.setattr(cli.err, "width", 250)
    result = CliRunner().invoke(cli.app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def table_plans(stdout: str) -> list[str]:
    """The first cell of every body row of the terminal table."""
    cells = [line.split("│")[1].strip() for line in stdout.splitlines() if line.startswith("│")]
    return [c for c in cells if c]


def page_rows(page: str) -> list[str]:
    """The plan cell (second column) of every body row of the page's table."""
    table = page.split("<table>", 1)[1].split("</table>", 1)[0]
    rows = [
        re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table)
    ]
    return [html.unescape(cells[1]) for cells in rows if cells and cells[0] != "point"]


# (options, plan A, plan B): the pair each choice of --a/--b compares
PAIRS = [
    (["--a", "hybrid", "--b", "top-down"], "hybrid", "top-down"),  # the --help example
    (["--a", "top-down", "--b", "bottom-up"], "top-down", "bottom-up"),
    (["--a", "hybrid"], "hybrid", "bottom-up"),  # B: the default pair's first other plan
    (["--b", "hybrid"], "bottom-up", "hybrid"),
    (["--a", "bottom-up"], "bottom-up", "top-down"),
]


@pytest.mark.parametrize(("options", "plan_a", "plan_b"), PAIRS)
def test_compare_compares_the_plans_it_was_given(
    stored, report_bytes, monkeypatch, options, plan_a, plan_b
):
    code, out, err = invoke(monkeypatch, "compare", str(stored), *options)
    assert code == 0, err
    assert f"paired difference {plan_a} − {plan_b}" in out
    assert table_plans(out) == [plan_a, plan_b, f"{plan_a} − {plan_b}"]
    page = (stored / "compare.html").read_text()
    assert f"<h1>small: {plan_a} vs {plan_b}</h1>" in page
    assert page_rows(page) == [plan_a, plan_b, f"{plan_a} − {plan_b}"]
    (other,) = set(PLANS) - {plan_a, plan_b}
    assert f'"name":"{other}"' not in page  # nor in the curves
    assert (stored / "report.html").read_bytes() == report_bytes


def test_the_pair_difference_is_the_paired_mean_computed_by_hand(stored, monkeypatch):
    code, out, _ = invoke(monkeypatch, "compare", str(stored), "--a", "hybrid", "--b", "top-down")
    assert code == 0
    summary = pl.read_parquet(stored / "summary.parquet")
    a = summary.filter(pl.col("plan") == "hybrid").sort("replicate")["final_active_share"]
    b = summary.filter(pl.col("plan") == "top-down").sort("replicate")["final_active_share"]
    diff = (a - b).to_list()
    mean = sum(diff) / len(diff)
    half = stats.t.ppf(0.975, len(diff) - 1) * pl.Series(diff).std() / len(diff) ** 0.5
    row = {"outcome": "final_active_share", "fmt": "{:.1%}", "n": len(diff), "replicates": 0,
           "mean": mean, "low": max(mean - half, -1), "high": min(mean + half, 1)}  # fmt: skip
    expected = format_interval(row, signed=True)
    (line,) = [x for x in out.splitlines() if x.startswith("│ hybrid − top-down")]
    assert expected in line
    assert html.escape(expected) in (stored / "compare.html").read_text()


def test_paired_differences_of_several_outcomes_are_each_outcomes_own():
    """One join serves every outcome of a point: each row must still be its own column's
    A − B, also for an outcome asked for twice and for names that look like the join's
    (``x`` beside ``x_b``, ``b0``)."""
    part = pl.DataFrame(
        {
            "plan": ["a", "a", "a", "b", "b", "b"],
            "replicate": [0, 1, 2, 0, 1, 2],
            "x": [1.0, None, 4.0, 3.0, 2.0, 1.0],
            "x_b": [1, 2, 3, 4, 4, 4],
            "b0": [5, 6, 7, 7, 9, 9],
        }
    )
    rows = paired_columns(part, "a", "b", ["x", "x_b", "x", "b0"])
    assert [r["outcome"] for r in rows] == ["x", "x_b", "x", "b0"]
    # by hand: x pairs (1-3, 4-1), the null pair left out; x_b -3,-2,-1; b0 -2,-3,-2
    assert [r["mean"] for r in rows] == pytest.approx([0.5, -2.0, 0.5, -7 / 3])
    assert [(r["n"], r["replicates"]) for r in rows] == [(2, 3), (3, 3), (2, 3), (3, 3)]


def test_compare_without_plans_ranks_every_plan(stored, report_bytes, monkeypatch):
    code, out, err = invoke(monkeypatch, "compare", str(stored))
    assert code == 0, err
    assert "plans ranked per outcome, best first" in out
    body = [line.split("│") for line in out.splitlines() if line.startswith("│")]
    ranked_plans = [cells[3].strip() for cells in body]
    columns = ranked_outcomes(pl.read_parquet(stored / "summary.parquet"))
    assert len(ranked_plans) == 3 * len(columns)
    for i in range(len(columns)):  # each outcome ranks all three plans once
        assert sorted(ranked_plans[3 * i : 3 * i + 3]) == sorted(PLANS)
    page = (stored / "compare.html").read_text()
    assert "all plans ranked (bottom-up, top-down, hybrid)" in page
    summary = pl.read_parquet(stored / "summary.parquet")
    defined = [c for c in columns if summary[c].drop_nulls().len() > 0]  # some plan has it
    assert page.count("<td>best</td>") == len(defined)
    assert (stored / "report.html").read_bytes() == report_bytes
    assert sorted(p.name for p in stored.iterdir()) == [
        "compare.html",
        "departments.parquet",
        "manifest.json",
        "report.html",
        "summary.parquet",
        "trajectories.parquet",
    ]


def test_the_same_plan_twice_is_refused(stored, monkeypatch):
    code, _, err = invoke(monkeypatch, "compare", str(stored), "--a", "hybrid", "--b", "hybrid")
    assert code == 2
    assert "--a and --b both name plan 'hybrid'" in err
    assert "['bottom-up', 'top-down', 'hybrid']" in err


@pytest.mark.parametrize("option", ["--a", "--b"])
def test_an_unknown_plan_is_refused_with_the_plans(stored, monkeypatch, option):
    before = (stored / "compare.html").read_bytes() if (stored / "compare.html").exists() else None
    code, _, err = invoke(monkeypatch, "compare", str(stored), option, "sideways")
    assert code == 2
    assert err.startswith("error:") and "no plan 'sideways'" in err
    assert "plans: ['bottom-up', 'top-down', 'hybrid']" in err
    after = (stored / "compare.html").read_bytes() if (stored / "compare.html").exists() else None
    assert after == before


def test_out_puts_the_page_elsewhere(stored, tmp_path, monkeypatch, report_bytes):
    target = tmp_path / "pages" / "mine.html"
    code, out, err = invoke(monkeypatch, "compare", str(stored), "--out", str(target))
    assert code == 0, err
    assert "all plans ranked" in target.read_text()
    assert f"report: {target}" in out
    code, _, err = invoke(monkeypatch, "compare", str(stored), "--out", str(tmp_path))
    assert code == 2 and "is a folder" in err
    assert (stored / "report.html").read_bytes() == report_bytes


# -- ranking rules -------------------------------------------------------------------------------
def fake_results(values: dict[str, list[float | None]], column: str = "final_active_share"):
    """A stand-in for stored results: one point, the given plans' values of one outcome."""
    rows = [
        {"plan": plan, "point": 0, "replicate": r, column: v}
        for plan, vs in values.items()
        for r, v in enumerate(vs)
    ]
    summary = pl.DataFrame(rows, schema_overrides={column: pl.Float64})
    return SimpleNamespace(
        summary=summary,
        plans=list(values),
        points=pl.DataFrame({"point": [0]}),
        parameters=[],
        folder=Path("fake"),
        point_label=lambda point: "all",
    )


def test_a_clear_winner_needs_every_difference_to_exclude_zero():
    clear = fake_results({"a": [0.5, 0.6, 0.55, 0.52], "b": [0.3, 0.41, 0.33, 0.31]})
    (entry,) = ranking(clear)
    assert [p["plan"] for p in entry["plans"]] == ["a", "b"] and entry["winner"] == "a"
    close = fake_results({"a": [0.5, 0.6, 0.55, 0.52], "b": [0.52, 0.57, 0.5, 0.55]})
    (entry,) = ranking(close)
    assert entry["best"] == "a" and entry["winner"] is None
    third = fake_results(
        {"a": [0.5, 0.6, 0.55, 0.52], "b": [0.3, 0.41, 0.33, 0.31], "c": [0.49, 0.62, 0.5, 0.5]}
    )
    (entry,) = ranking(third)  # a beats b clearly but not c: no clear winner
    assert entry["winner"] is None


def test_lower_is_better_and_never_ranks_last():
    results = fake_results(
        {"slow": [20.0, 22.0, 21.0, 23.0], "fast": [10.0, 11.0, 12.0, 10.5], "never": [None] * 4},
        column="t50",
    )
    (entry,) = ranking(results)
    assert [p["plan"] for p in entry["plans"]] == ["fast", "slow", "never"]
    assert entry["winner"] == "fast"


def test_every_summary_column_and_the_value_outcomes_have_a_direction():
    assert set(SUMMARY_COLUMNS) <= set(BETTER)
    assert {"value_created": "higher", "net_value": "higher", "roi": "higher"}.items() <= (
        BETTER.items()
    )
    assert BETTER["total_cost"] == "lower"
    assert set(BETTER.values()) <= {"lower", "higher", None}


def test_results_without_newer_outcomes_still_compare(stored, tmp_path, monkeypatch):
    """Older results lack outcomes added since: those are skipped, the rest compared; an
    outcome a newer summary has (net value, negative) is ranked in its direction."""
    old = tmp_path / "old"
    shutil.copytree(stored, old)
    summary = pl.read_parquet(old / "summary.parquet")
    summary.drop("peak_active_share", "total_cost").write_parquet(old / "summary.parquet")
    code, out, err = invoke(monkeypatch, "compare", str(old))
    assert code == 0, err
    assert "peak active share" not in out and "total cost" not in out
    assert "final active share (higher is better)" in out
    newer = summary.with_columns(net_value=-pl.col("total_cost"))
    newer.write_parquet(old / "summary.parquet")
    code, out, err = invoke(monkeypatch, "compare", str(old))
    assert code == 0, err
    assert "net value (higher is better)" in out


# -- two folders ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def calibrated(stored: Path) -> Path:
    """The same org and seed with another adoption q: replicates pair up."""
    return write_run(stored.parent.parent, "calibrated", q=0.7)


def test_two_folders_of_the_same_seed_are_compared_paired(stored, calibrated, monkeypatch):
    code, out, err = invoke(monkeypatch, "compare", str(stored), str(calibrated))
    assert code == 0, err
    assert "paired: same seed and replicates" in out
    page = stored / "compare-calibrated.html"
    assert f"report: {page}" in out
    a = pl.read_parquet(stored / "summary.parquet").filter(pl.col("plan") == "bottom-up")
    b = pl.read_parquet(calibrated / "summary.parquet").filter(pl.col("plan") == "bottom-up")
    diffs = b.sort("replicate")["final_active_share"] - a.sort("replicate")["final_active_share"]
    done = api.compare_folders(stored, calibrated)
    assert done.paired and done.plans == PLANS
    (row,) = [
        r for r in done.rows if r["plan"] == "bottom-up" and r["outcome"] == "final_active_share"
    ]
    assert row["diff"]["mean"] == pytest.approx(diffs.mean())
    assert html.escape(format_interval(row["diff"], signed=True)) in page.read_text()


def test_two_folders_of_other_seeds_get_welchs_interval(stored, tmp_path, monkeypatch):
    other = write_run(stored.parent.parent, "reseeded", seed=99)
    done = api.compare_folders(stored, other)
    assert not done.paired
    a = pl.read_parquet(stored / "summary.parquet").filter(pl.col("plan") == "top-down")
    b = pl.read_parquet(other / "summary.parquet").filter(pl.col("plan") == "top-down")
    (row,) = [r for r in done.rows if r["plan"] == "top-down" and r["outcome"] == "total_cost"]
    test = stats.ttest_ind(b["total_cost"].to_numpy(), a["total_cost"].to_numpy(), equal_var=False)
    low, high = test.confidence_interval(0.95)
    assert row["diff"]["mean"] == pytest.approx(b["total_cost"].mean() - a["total_cost"].mean())
    assert (row["diff"]["low"], row["diff"]["high"]) == pytest.approx((low, high))
    page = tmp_path / "welch.html"
    code, out, _ = invoke(monkeypatch, "compare", str(stored), str(other), "--out", str(page))
    assert code == 0 and "Welch: the seeds differ" in out
    assert "unpaired (Welch" in page.read_text()


def test_folders_of_different_orgs_or_plans_are_refused(stored, monkeypatch):
    root = stored.parent.parent
    bigger = write_run(root, "bigger", n=70)
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(bigger))
    assert code == 2 and "not of the same org" in err and "60 employees in one and 70" in err
    renamed = root / "results" / "renamed"
    shutil.copytree(stored, renamed)
    manifest = json.loads((renamed / "manifest.json").read_text())
    for plan in manifest["scenario"]["plans"]:
        plan["name"] = "x-" + plan["name"]
    (renamed / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(renamed))
    assert code == 2 and "share no plan name" in err
    manifest = json.loads((stored / "manifest.json").read_text())
    manifest["scenario"]["plans"][0]["config"]["org"]["departments"] = 4
    (renamed / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(renamed))
    assert code == 2 and "[org] table differs (departments)" in err
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(stored), "--a", "hybrid")
    assert code == 2 and "--a/--b" in err
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(root / "nowhere"))
    assert code == 2 and "does not exist" in err


def test_a_damaged_second_folder_is_one_message(stored, tmp_path, monkeypatch):
    damaged = tmp_path / "damaged"
    shutil.copytree(stored, damaged)
    (damaged / "summary.parquet").write_bytes(b"PAR1 not really")
    code, _, err = invoke(monkeypatch, "compare", str(stored), str(damaged))
    assert code == 2
    assert err.startswith("error:") and "damaged or unreadable results" in err


def test_out_never_overwrites_the_results(stored, report_bytes, monkeypatch, tmp_path):
    """--out inside a results folder may only name a compare*.html page; other names and
    non-HTML files are refused, and the results stay readable."""
    summary = (stored / "summary.parquet").read_bytes()
    for target, words in (
        (stored / "summary.parquet", ["the page is HTML"]),
        (stored / "report.html", ["would overwrite", "compare*.html"]),
        (tmp_path / "page.txt", ["the page is HTML"]),
    ):
        code, _, err = invoke(monkeypatch, "compare", str(stored), "--out", str(target))
        assert code == 2, err
        for word in words:
            assert word in err, (word, err)
    assert (stored / "summary.parquet").read_bytes() == summary
    assert (stored / "report.html").read_bytes() == report_bytes
    code, _, err = invoke(
        monkeypatch, "compare", str(stored), "--out", str(stored / "compare-mine.html")
    )
    assert code == 0, err and (stored / "compare-mine.html").is_file()
