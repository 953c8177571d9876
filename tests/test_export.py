"""`adoptsim export`: the table holds the stored summary's numbers (checked against polars
and scipy, computed here independently), reads back from .xlsx and .csv, and --figures
writes real PNG and SVG files; bad inputs are one message and exit 2."""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim import api, cli
from sim.results import export as exporting

SMALL = """
name = "{name}"
weeks = 12
replicates = 4
seed = 11
[org]
n = 60
departments = 3
[seeding]
count = 3
[[plans]]
name = "bottom-up"
[[plans]]
name = "top-down"
seeding = {{ strategy = "none", count = 0 }}
mandate = {{ enabled = true, week = 2 }}
"""
SWEEP = "[sweep]\nadoption.q = [0.3, 0.6]\n"
HEADER = ["plan", "point", "outcome", "label", "unit", "mean", "ci_low", "ci_high", "k", "R"]


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """One small run of two plans, shared by the module's tests."""
    folder = tmp_path_factory.mktemp("export")
    (folder / "small.toml").write_text(SMALL.format(name="small"))
    return api.run(folder / "small.toml").save(folder / "results")


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """A two-point sweep of the same scenario."""
    folder = tmp_path_factory.mktemp("export_sweep")
    (folder / "sw.toml").write_text(SMALL.format(name="sw") + SWEEP)
    return api.sweep(folder / "sw.toml", folder / "results", workers=1).folder


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def by_hand(summary: pl.DataFrame, plan: str, column: str) -> tuple[float, float, float, int]:
    """Mean, Student-t 95% CI (a share's clipped to [0, 1]) and count of defined values."""
    values = summary.filter(pl.col("plan") == plan)[column].drop_nulls().cast(pl.Float64)
    mean, sd, k = values.mean(), values.std(), values.len()
    half = stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k) if sd else 0.0
    low, high = mean - half, mean + half
    if column.endswith("_share"):
        low, high = max(low, 0.0), min(high, 1.0)
    return mean, low, high, k


def test_csv_holds_the_stored_summary(stored, tmp_path):
    code, out, err = invoke("export", str(stored), "--to", str(tmp_path / "s.csv"))
    assert code == 0, err
    table = pl.read_csv(tmp_path / "s.csv")
    assert table.columns[: len(HEADER)] == HEADER
    summary = pl.read_parquet(stored / "summary.parquet")
    outcomes = [c for c in summary.columns if c not in ("plan", "point", "replicate")]
    assert table.height == 2 * len(outcomes) and f"({table.height} rows;" in out
    for plan in ("bottom-up", "top-down"):
        for column in ("final_active_share", "total_cost", "cost_per_engaged_user"):
            row = table.filter((pl.col("plan") == plan) & (pl.col("outcome") == column)).row(
                0, named=True
            )
            mean, low, high, k = by_hand(summary, plan, column)
            assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
            assert (row["k"], row["R"]) == (k, 4)
    # the paired difference to the reference plan, bottom-up by default
    a = summary.filter(pl.col("plan") == "top-down").sort("replicate")["final_active_share"]
    b = summary.filter(pl.col("plan") == "bottom-up").sort("replicate")["final_active_share"]
    row = table.filter(
        (pl.col("plan") == "top-down") & (pl.col("outcome") == "final_active_share")
    ).row(0, named=True)
    assert row["reference"] == "bottom-up"
    assert row["diff_mean"] == pytest.approx((a - b).mean()) and row["diff_k"] == 4
    own = table.filter(pl.col("plan") == "bottom-up")
    assert own["diff_mean"].null_count() == own.height  # no difference to itself


def test_xlsx_reads_back_with_the_same_rows(stored, tmp_path):
    code, _, err = invoke(
        "export", str(stored), "--to", str(tmp_path / "s.xlsx"), "--reference", "top-down"
    )
    assert code == 0, err
    assert (
        invoke("export", str(stored), "--to", str(tmp_path / "s.csv"), "--reference", "top-down")[0]
        == 0
    )
    sheet = pl.read_excel(tmp_path / "s.xlsx", sheet_name="summary")
    csv = pl.read_csv(tmp_path / "s.csv")
    assert sheet.columns == csv.columns and sheet.height == csv.height
    assert sheet["plan"].to_list() == csv["plan"].to_list()
    assert sheet["outcome"].to_list() == csv["outcome"].to_list()
    for column in ("mean", "ci_low", "diff_mean"):
        assert sheet[column].cast(pl.Float64).to_list() == pytest.approx(
            csv[column].cast(pl.Float64).to_list(), nan_ok=True
        )
    assert set(sheet["reference"].drop_nulls()) == {"top-down"}
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temporary file left


def test_a_sweeps_table_has_a_row_per_point_and_the_swept_values(swept, tmp_path):
    code, _, err = invoke("export", str(swept), "--to", str(tmp_path / "sw.csv"))
    assert code == 0, err
    table = pl.read_csv(tmp_path / "sw.csv")
    assert table.columns[:3] == ["plan", "point", "adoption.q"]
    rows = table.filter(pl.col("outcome") == "final_active_share").sort("plan", "point")
    assert rows.select("plan", "point", "adoption.q").rows() == [
        ("bottom-up", 0, 0.3),
        ("bottom-up", 1, 0.6),
        ("top-down", 0, 0.3),
        ("top-down", 1, 0.6),
    ]
    summary = pl.read_parquet(swept / "summary.parquet").filter(pl.col("point") == 1)
    mean, low, high, _ = by_hand(summary, "top-down", "final_active_share")
    row = rows.filter((pl.col("plan") == "top-down") & (pl.col("point") == 1)).row(0, named=True)
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR), checking its signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(not exporting.CHROMIUM.is_file(), reason="needs Debian's chromium")
def test_figures_are_real_png_and_svg(stored, tmp_path):
    folder = tmp_path / "figures"
    code, out, err = invoke("export", str(stored), "--figures", str(folder))
    assert code == 0, err
    names = {"adoption", "departments", "outcomes-point-0"}
    assert {p.name for p in folder.iterdir()} == {f"{n}.{x}" for n in names for x in ("png", "svg")}
    for name in names:
        png = folder / f"{name}.png"
        assert png.stat().st_size > 5_000
        assert png_size(png)[0] == exporting.FIGURE_WIDTH
        root = ET.parse(folder / f"{name}.svg").getroot()
        assert root.tag.endswith("svg") and root.get("width") == str(exporting.FIGURE_WIDTH)
    assert "figures: 6 files" in out


def test_the_figures_are_the_pages(stored):
    """The export draws the list of figures report.html draws (then the outcome charts)."""
    from sim.results.compare import Results

    names = [name for name, _ in exporting.folder_figures(Results(stored))]
    assert names == ["adoption", "departments", "outcomes-point-0"]


def test_missing_chromium_is_one_message_naming_the_package(stored, tmp_path, monkeypatch):
    monkeypatch.setattr(exporting, "CHROMIUM", tmp_path / "no-chromium")
    code, _, err = invoke("export", str(stored), "--figures", str(tmp_path / "f"))
    assert code == 2
    assert "apt package `chromium`" in " ".join(err.split())
    assert not (tmp_path / "f").exists()


def test_bad_inputs_are_one_message(stored, tmp_path):
    (tmp_path / "afile").write_text("x\n")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("manifest.json", "summary.parquet"):
        (damaged / name).write_bytes((stored / name).read_bytes())
    (damaged / "summary.parquet").write_bytes(b"PAR1 not really")
    cases = [
        ((str(tmp_path / "nowhere"), "--to", "s.csv"), "does not exist"),
        ((str(damaged), "--to", str(tmp_path / "d.csv")), "damaged or unreadable results"),
        ((str(stored), "--to", str(tmp_path / "s.txt")), "allowed: .xlsx, .csv"),
        ((str(stored), "--to", str(tmp_path / "afile" / "s.csv")), "could not write"),
        ((str(stored), "--to", str(tmp_path)), "is a folder"),
        ((str(stored), "--figures", str(tmp_path / "afile")), "is a file"),
        ((str(stored), "--to", str(tmp_path / "r.csv"), "--reference", "x"), "no such plan"),
        ((str(stored),), "nothing to export"),
    ]
    for args, message in cases:
        code, _, err = invoke("export", *args)
        assert code == 2, (args, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[0].startswith("error:") and message in " ".join(err.split()), (args, err)
        assert "Traceback" not in err
    assert not (tmp_path / "d.csv").exists() and not (tmp_path / "r.csv").exists()
