"""Reports that lead with a decision (issue 17): the verdicts say what the numbers say,
bands stay inside the outcome's range, every sweep point gets its chart, heatmaps are
coloured by which plan is *better* for each outcome, one (Student t) interval everywhere,
outcome-vs-parameter plots never pool sweep points, costs carry currency and horizon, and
the terminal tables fit 80 columns.

The results here are written by hand (no simulation), so every expected number is
computed independently in the test, and the suite stays fast."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from plotly.subplots import make_subplots
from scipy import stats
from typer.testing import CliRunner

from sim import cli
from sim.palette import DIVERGING
from sim.results import grid, report
from sim.results.compare import (
    Results,
    curves_figure,
    difference_heatmap,
    html_report,
    outcome_vs_parameter,
)
from sim.results.verdict import lead, rank, sentence
from sim.rules import STATE_NAMES

PLANS = ["bottom-up", "top-down", "hybrid"]
REPS = 8
RNG = np.random.default_rng(17)

# Per plan: (final active share, total cost) centres; bottom-up clearly cheapest, top-down
# and hybrid tie on the share within noise (no clear winner on it).
CENTRES = {"bottom-up": (0.55, 1_000.0), "top-down": (0.70, 5_000.0), "hybrid": (0.70, 4_000.0)}


def summary_frame(points: int = 1) -> pl.DataFrame:
    """Replicate outcomes per plan and point, with noise that is shared by the plans of one
    replicate (as common random numbers make it) plus a little of each plan's own."""
    rows = []
    for point in range(points):
        for replicate in range(REPS):
            shared = RNG.normal(0, 0.02)
            for plan, (share, cost) in CENTRES.items():
                own = RNG.normal(0, 0.01)
                final = float(np.clip(share + 0.01 * point + shared + own, 0, 1))
                total = cost * (1 + 0.1 * point) + RNG.normal(0, 100)
                rows.append(
                    {
                        "plan": plan,
                        "point": point,
                        "replicate": replicate,
                        "t50": float(20 + 10 * PLANS.index(plan) + RNG.integers(0, 3)),
                        "final_active_share": final,
                        "shelfware_share": float(np.clip(0.3 + RNG.normal(0, 0.02), 0, 1)),
                        "cost_per_engaged_user": total / (final * 100),
                        "total_cost": total,
                        "net_value": 10_000 * final - total,
                    }
                )
    return pl.DataFrame(rows)


def trajectory_frame(points: int = 1, employees: int = 100, weeks: int = 10) -> pl.DataFrame:
    """Weekly state counts: engaged share close to 100% (with noise) for top-down, so an
    unclipped band would pass 100%; cost near 0 at week 0, so it would dip below 0."""
    rows = []
    for point in range(points):
        for plan in PLANS:
            for replicate in range(REPS):
                for week in range(weeks + 1):
                    top = plan == "top-down"
                    near_all = employees if replicate % 4 else employees - 6
                    active = near_all if top else 40 + int(RNG.integers(-3, 3))
                    active = max(active, 0) if week else int(RNG.integers(0, 3))
                    rows.append(
                        {
                            "plan": plan,
                            "point": point,
                            "replicate": replicate,
                            "week": week,
                            "unaware": employees - active,
                            "aware": 0,
                            "active": active,
                            "nominal": 0,
                            "lapsed": 0,
                            "blocked": 0,
                            "seats": active,
                            "cum_cost": max(week * 100 - 95 + RNG.normal(0, 30), 0.0),
                        }
                    )
    return pl.DataFrame(rows)


def manifest(kind: str, parameters: dict | None = None) -> dict:
    config = {"weeks": 52, "costs": {"currency": "EUR"}}
    points = []
    if parameters:
        names = list(parameters)
        points = [
            dict(zip(names, combo, strict=True))
            for combo in np.array(np.meshgrid(*parameters.values(), indexing="ij"))
            .reshape(len(names), -1)
            .T.tolist()
        ]
    return {
        "kind": kind,
        "seed": 5,
        "employees": dict.fromkeys(PLANS, 100),
        "scenario": {
            "name": "hand",
            "description": "written by hand",
            "plans": [{"name": p, "config": config} for p in PLANS],
            "sweep": {"parameters": parameters, "points": points} if parameters else None,
        },
    }


def stored(folder: Path, parameters: dict | None = None) -> Results:
    """A results folder written by hand: a run, or a sweep over ``parameters``."""
    info = manifest("sweep" if parameters else "run", parameters)
    points = len(info["scenario"]["sweep"]["points"]) if parameters else 1
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(info))
    summary_frame(points).write_parquet(folder / "summary.parquet")
    trajectory_frame(points).write_parquet(folder / "trajectories.parquet")
    return Results(folder)


SWEEP = {"freemium.free_seats": [2, 5, 10], "freemium.free_value": [0.3, 0.6, 0.9]}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Results:
    return stored(tmp_path_factory.mktemp("run") / "hand")


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Results:
    return stored(tmp_path_factory.mktemp("sweep") / "hand", SWEEP)


def by_hand(summary: pl.DataFrame, a: str, b: str, column: str) -> tuple[float, float, float]:
    """Mean paired difference A − B over replicates and its 95% Student-t interval."""
    x = summary.filter(pl.col("plan") == a).sort("replicate")[column].to_numpy()
    y = summary.filter(pl.col("plan") == b).sort("replicate")[column].to_numpy()
    d = x - y
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


# -- the run report's verdicts -------------------------------------------------------------------
def test_the_verdict_names_the_winner_and_the_paired_difference_to_the_runner_up(run_folder):
    summary = run_folder.summary
    entry = rank(summary, PLANS, "total_cost")
    # bottom-up is cheapest by 3,000 with noise of 100: a clear winner; hybrid is next
    means = {p: summary.filter(pl.col("plan") == p)["total_cost"].mean() for p in PLANS}
    best, runner = sorted(PLANS, key=means.get)[:2]
    assert (entry["best"], entry["winner"]) == (best, best) == ("bottom-up", "bottom-up")
    mean, low, high = by_hand(summary, best, runner, "total_cost")
    text = sentence(entry, lead(summary, entry), run_folder.money)
    assert text.startswith(f"{best} wins: better than {runner} (the runner-up) by ")
    assert f"{abs(mean):,.0f} EUR" in text
    assert f"{mean:+,.0f} [{low:+,.0f}, {high:+,.0f}]" in text
    assert f"over {REPS}/{REPS} replicate pairs" in text


def test_no_clear_winner_when_the_runner_ups_interval_includes_zero(run_folder):
    summary = run_folder.summary
    entry = rank(summary, PLANS, "final_active_share")
    means = {p: summary.filter(pl.col("plan") == p)["final_active_share"].mean() for p in PLANS}
    best, runner = sorted(PLANS, key=means.get, reverse=True)[:2]
    mean, low, high = by_hand(summary, best, runner, "final_active_share")
    assert low < 0 < high  # the data: top-down and hybrid tie within noise
    assert entry["winner"] is None and entry["best"] == best
    text = sentence(entry, lead(summary, entry), run_folder.money)
    assert text.startswith(f"No clear winner (the 95% CI of {runner} includes 0)")
    assert f"{mean:+.1%} [{low:+.1%}, {high:+.1%}]" in text


def test_the_run_page_leads_with_the_verdicts_and_costs_carry_currency_and_horizon(run_folder):
    summary = run_folder.summary
    page = report.html_report(
        "hand",
        "written by hand",
        trajectory_frame(),
        pl.DataFrame(
            {"plan": PLANS, "week": [10] * 3, "department": ["D1"] * 3, "active_share": [0.5] * 3}
        ),
        summary,
        dict.fromkeys(PLANS, 100),
        run_folder.manifest,
    )
    decision = page.index("<h2>Decision")
    assert decision < page.index("<h2>Outcomes by plan") < page.index("plotly")
    verdicts = page[decision : page.index("</table>", decision)]
    assert "bottom-up wins" in verdicts and "no clear winner" in verdicts
    mean, low, high = by_hand(summary, "bottom-up", "hybrid", "total_cost")
    assert html.escape(f"{mean:+,.0f} [{low:+,.0f}, {high:+,.0f}]") in verdicts
    for label in ("total cost of ownership", "cost per engaged user", "net value"):
        assert re.search(re.escape(label) + r" \(EUR[^)]*, over 52 weeks\)", page), label


# -- bands ---------------------------------------------------------------------------------------
def test_bands_never_leave_the_outcomes_range():
    frame = trajectory_frame()
    share = report.band(frame, "active", True)
    cost = report.band(frame, "cum_cost", False)
    assert share["high"].max() <= 1.0 and share["low"].min() >= 0.0
    assert cost["low"].min() >= 0.0
    # unclipped, the data would leave the range: the test can fail
    raw = share["mean"] + share["half"]
    assert raw.max() > 1.0 and (cost["mean"] - cost["half"]).min() < 0
    # and what the figure draws is the clipped band
    figure = report.adoption_figure(frame, "t")
    shares = [t for t in figure.data if t.xaxis in ("x", "x2")]
    assert max(max(y for y in t.y if y is not None) for t in shares) <= 1.0
    assert figure.layout.yaxis.range[1] == pytest.approx(1.02)


def test_the_band_is_a_student_t_interval_not_1_96():
    frame = trajectory_frame()
    rows = report.band(frame, "active", True).filter(
        (pl.col("plan") == "hybrid") & (pl.col("week") == 5)
    )
    values = (
        frame.filter((pl.col("plan") == "hybrid") & (pl.col("week") == 5))
        .select(pl.col("active") / pl.sum_horizontal(*STATE_NAMES))
        .to_series()
        .to_numpy()
    )
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    assert rows["half"].item() == pytest.approx(half)


# -- the sweep report ----------------------------------------------------------------------------
def test_every_sweep_point_gets_a_chart(sweep_folder):
    figure = curves_figure(sweep_folder)
    points = sweep_folder.points["point"].to_list()
    assert len(points) == 9
    titles = [a.text for a in figure.layout.annotations]
    assert titles == [sweep_folder.point_label(p) for p in points]
    axes = {t.xaxis for t in figure.data if t.name in PLANS}  # the mean lines
    assert len(axes) == 9
    page = html_report(sweep_folder, "bottom-up", "top-down")
    assert "all 9 sweep point(s)" in page


def test_each_points_chart_shows_that_points_mean_curve(sweep_folder):
    """The bands of every point come from one pass grouped by point: each chart must still
    hold its own point's mean engaged share, computed here by hand."""
    figure = curves_figure(sweep_folder)
    frame = sweep_folder.trajectories().collect()
    shares = frame.with_columns(share=pl.col("active") / pl.sum_horizontal(*STATE_NAMES))
    axes = sorted({t.xaxis for t in figure.data}, key=lambda a: int(a[1:] or 1))
    for point, axis in zip(sweep_folder.points["point"].to_list(), axes, strict=True):
        for plan in PLANS:
            (line,) = [t for t in figure.data if t.xaxis == axis and t.name == plan]
            means = (
                shares.filter((pl.col("point") == point) & (pl.col("plan") == plan))
                .group_by("week")
                .agg(pl.col("share").mean())
                .sort("week")
            )
            assert list(line.x) == means["week"].to_list()
            assert list(line.y) == pytest.approx(means["share"].to_list(), rel=1e-12)


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (1, 3), (2, 3), (3, 2), (7, 3)])
@pytest.mark.parametrize(("shared_x", "shared_y"), [(False, False), (True, True), (False, True)])
@pytest.mark.parametrize("titled_cells", [None, "all", "some"])
@pytest.mark.parametrize("spacing", [None, (0.04, 0.08)])
def test_a_grid_of_charts_is_laid_out_as_plotly_lays_it_out(
    rows, cols, shared_x, shared_y, titled_cells, spacing
):
    """The sweep report's grids are built as dicts (sim.results.grid), not by plotly's
    make_subplots: the figure must be the same, axis for axis and title for title."""
    titles = {
        None: None,
        "all": [f"cell {k}" for k in range(rows * cols)],
        "some": ["first", "", "third"],
    }[titled_cells]
    hs, vs = spacing or (None, None)
    made = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        shared_xaxes=shared_x,
        shared_yaxes=shared_y,
        horizontal_spacing=hs,
        vertical_spacing=vs,
    )
    layout = grid.subplot_grid(
        rows,
        cols,
        titles,
        shared_xaxes=shared_x,
        shared_yaxes=shared_y,
        horizontal_spacing=hs,
        vertical_spacing=vs,
    )
    assert grid.figure([], layout).to_plotly_json() == made.to_plotly_json()
    made.add_trace({"type": "scatter", "x": [1], "y": [2]}, row=rows, col=cols)
    placed = {"type": "scatter", "x": [1], "y": [2], **grid.cell(rows, cols, cols)}
    assert grid.figure([placed], layout).to_plotly_json() == made.to_plotly_json()


def heatmap(results: Results, outcome: str):
    return difference_heatmap(results, "bottom-up", "top-down", outcome).data[0]


@pytest.mark.parametrize(
    ("outcome", "better"), [("total_cost", "lower"), ("final_active_share", "higher")]
)
def test_heatmap_colour_follows_which_plan_is_better(sweep_folder, outcome, better):
    """Bottom-up costs less (better: lower is better) and has a lower final share (worse:
    higher is better): the map must put cost on the A side and share on the B side."""
    trace = heatmap(sweep_folder, outcome)
    summary = sweep_folder.summary
    xs, ys = SWEEP["freemium.free_seats"], SWEEP["freemium.free_value"]
    for point, row in enumerate(sweep_folder.points.iter_rows(named=True)):
        mean, _, _ = by_hand(
            summary.filter(pl.col("point") == point), "bottom-up", "top-down", outcome
        )
        a_better = mean < 0 if better == "lower" else mean > 0
        z = trace.z[ys.index(row["freemium.free_value"])][xs.index(row["freemium.free_seats"])]
        assert (z > 0) == a_better, (point, mean, z)
        assert abs(z) == pytest.approx(abs(mean))
    assert a_better == (outcome == "total_cost")  # the data: one of each
    # high z is drawn in A's colour and keyed "better for A"
    assert trace.colorscale[-1][1] == DIVERGING[0] and trace.colorscale[0][1] == DIVERGING[2]
    assert trace.colorbar.ticktext[-1] == "better for bottom-up"
    assert trace.colorbar.ticktext[0] == "better for top-down"
    assert trace.zmin == -trace.zmax
    assert all(f"{REPS}/{REPS} pairs" in cell for line in trace.text for cell in line)


def test_outcome_vs_parameter_has_one_point_and_ci_per_sweep_point(sweep_folder):
    figure = outcome_vs_parameter(sweep_folder, "freemium.free_seats", "total_cost")
    summary = sweep_folder.summary
    lines = [t for t in figure.data if t.name == "hybrid"]
    assert len(lines) == 3  # one chart per value of the other parameter
    seen = 0
    for line in lines:
        assert list(line.x) == SWEEP["freemium.free_seats"]
        for x, y, up in zip(line.x, line.y, line.error_y.array, strict=True):
            assert up > 0
            seen += 1
            matches = [
                r["point"]
                for r in sweep_folder.points.iter_rows(named=True)
                if r["freemium.free_seats"] == x
            ]
            means = [
                summary.filter((pl.col("point") == p) & (pl.col("plan") == "hybrid"))[
                    "total_cost"
                ].mean()
                for p in matches
            ]
            assert any(y == pytest.approx(m) for m in means)  # one point's own mean
            assert y != pytest.approx(float(np.mean(means)))  # never pooled over points
    assert seen == 9
    assert figure.layout.xaxis.title.text == "free seats per workspace"
    assert "freemium.free_seats" not in (figure.layout.xaxis.title.text or "")


# -- the terminal --------------------------------------------------------------------------------
def invoke80(monkeypatch, *args: str) -> str:
    monkeypatch.setattr(cli.out, "width", 80)
    monkeypatch.setattr(cli.err, "width", 80)
    result = CliRunner().invoke(cli.app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_terminal_tables_fit_80_columns_and_cut_no_label(sweep_folder, monkeypatch):
    pair = invoke80(monkeypatch, "compare", str(sweep_folder.folder), "--a", "bottom-up")
    ranked = invoke80(monkeypatch, "compare", str(sweep_folder.folder))
    for text in (pair, ranked):
        assert max(len(line) for line in text.splitlines()) <= 80
        assert "…" not in text
    for point in sweep_folder.points["point"].to_list():
        label = sweep_folder.point_label(point)
        assert f"point {point}: {label}" in " ".join(pair.split())
    assert "A = bottom-up, B = top-down" in pair


def test_run_prints_the_decision_the_report_leads_with(run_folder, monkeypatch):
    """`adoptsim run`'s terminal decision table: the winner (or no clear winner) per
    outcome, its paired lead over the runner-up as computed by hand, money in the
    scenario's currency, within 80 columns."""
    rows = {row[0]: row[1:] for row in cli.decision_rows(run_folder.summary, run_folder.money)}
    mean, low, high = by_hand(run_folder.summary, "bottom-up", "hybrid", "total_cost")
    verdict_, lead_, pairs = rows["total cost of ownership (EUR)"]
    assert verdict_ == "bottom-up wins"
    assert lead_ == f"{mean:+,.0f} [{low:+,.0f}, {high:+,.0f}] vs hybrid"
    assert pairs == f"{REPS}/{REPS}"
    assert rows["final active share"][0] == "no clear winner"
    monkeypatch.setattr(cli.out, "width", 80)
    with cli.out.capture() as captured:
        cli.print_decision(run_folder.summary, run_folder.folder)
    text = captured.get()
    assert "Decision" in text and "bottom-up wins" in text
    assert max(len(line) for line in text.splitlines()) <= 80
