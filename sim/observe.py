"""What is measured each week, shared by both engines so that they report alike.

State arrays have one row per employee and one column per replicate (N x R); the
reference engine passes a single column.  :class:`Recorder` collects the weekly counts
into the trajectory and department tables (column names documented in docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from sim.rules import STATE_NAMES, State

COUNT_COLUMNS = (
    *STATE_NAMES,
    "licensed",  # licences held (mandate or enterprise deal), used or not
    "paid_seats",  # seats paid for by workspaces that crossed the paywall
    "seats",  # licensed + paid_seats: everything the org pays for
    "shelfware",  # licences held by employees who are not engaged users
    "free_users",  # engaged users on a free plan (or a trial)
    "paid_workspaces",  # workspaces that have paid (paywall conversions so far)
)
TRAJECTORY_COLUMNS = ("replicate", "week", *COUNT_COLUMNS, "deal", "cost", "cum_cost")


@dataclass(frozen=True)
class Prices:
    seat: float  # paid-workspace seat, per week
    licence: float  # mandate licence, per week
    enterprise: float  # enterprise-deal licence, per week


def _column_count(flags: np.ndarray) -> np.ndarray:
    """Per-column count of a boolean N x R array (int8 view: faster than summing bools)."""
    return flags.view(np.int8).sum(axis=0, dtype=np.int32).astype(np.int64)


def observe_week(
    state: np.ndarray,
    licensed: np.ndarray,
    paid: np.ndarray,
    workspace_of: np.ndarray,
    deal: np.ndarray,
    prices: Prices,
) -> dict[str, np.ndarray]:
    """Counts for one week, one value per replicate (state, licensed: N x R; paid: W x R)."""
    counts = {name: _column_count(state == s) for name, s in zip(STATE_NAMES, State, strict=True)}
    active = state == State.ACTIVE
    unlicensed_active = active & ~licensed
    in_paid = paid[workspace_of]
    counts["licensed"] = _column_count(licensed)
    counts["paid_seats"] = _column_count(unlicensed_active & in_paid)
    counts["seats"] = counts["licensed"] + counts["paid_seats"]
    counts["shelfware"] = _column_count(licensed & ~active)
    counts["free_users"] = _column_count(unlicensed_active & ~in_paid)
    counts["paid_workspaces"] = _column_count(paid)
    licence_price = np.where(deal, prices.enterprise, prices.licence)
    counts["cost"] = counts["licensed"] * licence_price + counts["paid_seats"] * prices.seat
    return counts


@dataclass
class Recorder:
    """Accumulates weekly observations for R replicates; builds polars tables at the end."""

    replicates: list[int]
    department: np.ndarray
    department_names: tuple[str, ...]
    weeks: list[dict[str, np.ndarray]] = field(default_factory=list)
    department_active: list[np.ndarray] = field(default_factory=list)
    _cum_cost: np.ndarray | None = None
    _membership: sp.csr_matrix | None = None

    def record(self, counts: dict[str, np.ndarray], deal: np.ndarray, state: np.ndarray) -> None:
        cost = counts["cost"].astype(np.float64)
        self._cum_cost = cost.copy() if self._cum_cost is None else self._cum_cost + cost
        row = dict(counts)
        row["deal"] = deal.copy()
        row["cum_cost"] = self._cum_cost.copy()
        self.weeks.append(row)
        if self._membership is None:
            n = len(self.department)
            self._membership = sp.csr_matrix(
                (np.ones(n, dtype=np.float32), (self.department, np.arange(n))),
                shape=(len(self.department_names), n),
            )
        active = (state == State.ACTIVE).view(np.int8).astype(np.float32)
        self.department_active.append(np.rint(self._membership @ active).astype(np.int64))

    def trajectories(self) -> pl.DataFrame:
        n_weeks, n_reps = len(self.weeks), len(self.replicates)
        columns: dict[str, np.ndarray] = {
            "replicate": np.tile(np.asarray(self.replicates, dtype=np.int64), n_weeks),
            "week": np.repeat(np.arange(n_weeks, dtype=np.int64), n_reps),
        }
        for name in (*COUNT_COLUMNS, "deal", "cost", "cum_cost"):
            stacked = np.concatenate([np.asarray(w[name]).reshape(-1) for w in self.weeks])
            if name == "deal":
                columns[name] = stacked.astype(bool)
            elif name in ("cost", "cum_cost"):
                columns[name] = stacked.astype(np.float64)
            else:
                columns[name] = stacked.astype(np.int64)
        return pl.DataFrame(columns).sort("replicate", "week")

    def departments(self) -> pl.DataFrame:
        n_weeks, n_reps = len(self.weeks), len(self.replicates)
        n_dep = len(self.department_names)
        sizes = np.bincount(self.department, minlength=n_dep)
        active = np.stack(self.department_active)  # weeks x departments x replicates
        frame = pl.DataFrame(
            {
                "replicate": np.tile(np.asarray(self.replicates, dtype=np.int64), n_weeks * n_dep),
                "week": np.repeat(np.arange(n_weeks, dtype=np.int64), n_dep * n_reps),
                "department": np.tile(np.repeat(np.array(self.department_names), n_reps), n_weeks),
                "active": active.reshape(-1).astype(np.int64),
                "size": np.tile(np.repeat(sizes, n_reps), n_weeks).astype(np.int64),
            }
        )
        return frame.with_columns(active_share=pl.col("active") / pl.col("size")).sort(
            "replicate", "week", "department"
        )
