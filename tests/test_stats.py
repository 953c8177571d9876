"""Confidence intervals for replicate outcomes (sim.results.stats) and how tables label them."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from sim.results.compare import Results, paired_differences
from sim.results.report import format_interval, outcome_table
from sim.results.stats import difference_range, mean_ci, outcome_range


def test_student_t_interval_matches_the_textbook_value():
    # two values 0 and 1: mean 0.5, sd 1/sqrt(2), t(0.975, 1) = 12.706 -> half width 6.353
    mean, low, high = mean_ci([0.0, 1.0])
    assert mean == 0.5
    assert low == pytest.approx(0.5 - 6.3531, abs=1e-4)
    assert high == pytest.approx(0.5 + 6.3531, abs=1e-4)


def test_share_intervals_are_clipped_to_zero_one_and_costs_to_non_negative():
    assert mean_ci([0.0, 1.0], bounds=outcome_range("final_active_share")) == (0.5, 0.0, 1.0)
    mean, low, high = mean_ci([0.0, 10.0], bounds=outcome_range("total_cost"))
    assert (mean, low) == (5.0, 0.0) and high > 60


def test_nulls_and_nans_are_left_out_and_none_left_gives_nan():
    assert mean_ci([None, float("nan"), 3.0]) == (3.0, 3.0, 3.0)
    assert all(math.isnan(x) for x in mean_ci([None, float("nan")]))


def test_a_share_no_run_defines_is_not_called_never():
    summary = pl.DataFrame(
        {
            "plan": ["a", "a"],
            "t50": [None, None],
            "final_active_share": [0.0, 0.0],
            "peak_active_share": [0.0, 0.0],
            "shelfware_share": [None, None],  # nothing licensed: undefined
            "cost_per_engaged_user": [None, None],
            "total_cost": [0.0, 0.0],
            "paywall_conversions": [0, 0],
            "departments_reached": [0, 0],
        },
        schema_overrides={
            "t50": pl.Float64,
            "shelfware_share": pl.Float64,
            "cost_per_engaged_user": pl.Float64,
        },
    )
    cells = {r["outcome"]: format_interval(r) for r in outcome_table(summary).iter_rows(named=True)}
    assert cells["t50"] == "never"
    assert cells["shelfware_share"] == "n/a"
    assert cells["final_active_share"] == "0.0% [0.0%, 0.0%]"


def test_difference_ranges():
    assert difference_range("final_active_share") == (-1.0, 1.0)
    assert difference_range("shelfware_share") == (-1.0, 1.0)
    assert difference_range("t50") == (-math.inf, math.inf)
    assert difference_range("cost_per_engaged_user") == (-math.inf, math.inf)


def stored_run(folder, a_values: list[float], b_values: list[float]) -> Results:
    """A results folder written by hand: plans a and b, one value per replicate."""
    n = len(a_values)
    manifest = {
        "kind": "run",
        "scenario": {"name": "hand", "plans": [{"name": "a"}, {"name": "b"}], "sweep": None},
        "employees": {"a": 10, "b": 10},
        "seed": 1,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    values = a_values + b_values
    pl.DataFrame(
        {
            "plan": ["a"] * n + ["b"] * n,
            "point": [0] * (2 * n),
            "replicate": list(range(n)) * 2,
            "t50": [float(10 * v) for v in values],
            "final_active_share": values,
            "shelfware_share": values,
            "cost_per_engaged_user": [float(100 * v) for v in values],
        }
    ).write_parquet(folder / "summary.parquet")
    return Results(folder)


def test_paired_differences_of_shares_are_clipped_to_minus_one_one(tmp_path):
    # differences -0.5 and -0.1: t interval -0.3 ± 2.54, far outside what shares allow
    results = stored_run(tmp_path, [0.0, 0.5], [0.5, 0.6])
    rows = {r["outcome"]: r for r in paired_differences(results, "a", "b")}
    for share in ("final_active_share", "shelfware_share"):
        row = rows[share]
        assert row["mean"] == pytest.approx(-0.3)
        assert (row["low"], row["high"]) == (-1.0, 1.0)
    # other outcomes are not bounded: their interval keeps its t width
    assert rows["t50"]["low"] == pytest.approx(-3.0 - 25.4, abs=0.1)
    assert rows["cost_per_engaged_user"]["high"] == pytest.approx(-30.0 + 254.1, abs=0.5)


def test_one_value_gives_a_mean_but_no_interval():
    mean, low, high = mean_ci([36.0, None])
    row = {"outcome": "t50", "mean": mean, "low": low, "high": high, "n": 1, "replicates": 2}
    assert format_interval({**row, "fmt": "{:.1f}"}) == "36.0 [n/a] (1/2)"
    assert format_interval({**row, "n": 0, "mean": float("nan"), "fmt": "{:.1f}"}) == "never"
