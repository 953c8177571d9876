"""Confidence intervals for replicate outcomes (sim.stats) and how tables label them."""

from __future__ import annotations

import math

import polars as pl
import pytest

from sim.report import format_cell, outcome_table
from sim.stats import mean_ci, outcome_range


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
    cells = {r["outcome"]: format_cell(r) for r in outcome_table(summary).iter_rows(named=True)}
    assert cells["t50"] == "never"
    assert cells["shelfware_share"] == "n/a"
    assert cells["final_active_share"] == "0.0% [0.0%, 0.0%]"
