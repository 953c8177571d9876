"""What is measured each week, shared by both engines so that they report alike.

State arrays have one row per employee and one column per replicate (N x R); the
reference engine passes a single column.  :class:`Recorder` collects the weekly counts
into the trajectory and department tables (column names documented in docs/results.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numba import njit

from sim import rules
from sim.jit import invalidate_if_rules_changed
from sim.rules import STATE_NAMES, State

invalidate_if_rules_changed(__file__)  # numba's cache must not outlive a rules edit

N_STATES = len(State)
# rows of the weekly tally (after the N_STATES state counts)
(
    LICENSED_ROW,
    PAID_SEATS_ROW,
    SHELFWARE_ROW,
    FREE_USERS_ROW,
    UNLICENSED_ACTIVE_ROW,
    INCUMBENT_ROW,
) = range(N_STATES, N_STATES + 6)
TALLY_ROWS = N_STATES + 6

COUNT_COLUMNS = (
    *STATE_NAMES,
    "licensed",  # licences held (mandate or enterprise deal), used or not
    "paid_seats",  # seats paid for by workspaces that crossed the paywall
    "seats",  # licensed + paid_seats: everything the org pays for
    "shelfware",  # seats paid for (licences; per-seat team plans) held by non-engaged employees
    "free_users",  # engaged users on a free plan (or a trial)
    "paid_workspaces",  # workspaces that have paid (paywall conversions so far)
    "unlicensed_active",  # engaged users without a licence: the shadow IT a review sees
    "incumbent_users",  # employees who still have the old tool
)
MONEY_COLUMNS = (
    "licence_cost",  # licences and paid seats this week
    "rollout_cost",  # champions' time, training, and fixed costs of actions fired this week
    "cost",  # licence_cost + rollout_cost: this week's share of total cost of ownership
    "cum_cost",
    "value",  # value created this week: engaged users x value per engaged user-week
    "cum_value",
)
TRAJECTORY_COLUMNS = ("replicate", "week", *COUNT_COLUMNS, "deal", *MONEY_COLUMNS)


@dataclass(frozen=True)
class Prices:
    """What things cost and are worth per week (``Prices.of(config)``), in the scenario's
    currency."""

    seat: float  # paid-workspace seat, per week
    licence: float  # mandate licence, per week
    enterprise: float  # enterprise-deal licence, per week
    value_per_user: float = 0.0  # value an engaged user creates per week
    champion_week: float = 0.0  # one champion's time for one week (hours x hourly cost)
    champion_weeks: int = 0  # weeks 1..champion_weeks carry the champions' time
    per_action: float = 0.0  # fixed rollout + IT cost of one action firing
    training: float = 0.0  # per employee a training action newly trains
    incumbent: float = 0.0  # the old tool, per employee-week until it is switched off
    per_seat: bool = True  # tool.pricing: paid plans and the deal bill every seat

    @classmethod
    def of(cls, config) -> Prices:
        costs = config.costs
        return cls(
            seat=config.tool.price_per_seat_week,
            licence=config.licence_price,
            enterprise=config.enterprise.price_per_seat_week,
            value_per_user=config.value_per_engaged_user,
            champion_week=costs.champion_hours_per_week * costs.hourly_cost,
            champion_weeks=costs.champion_weeks,
            per_action=costs.rollout_per_action + costs.it_per_action,
            training=costs.training_per_employee,
            incumbent=config.incumbent.cost_per_employee_week if config.incumbent.enabled else 0.0,
            per_seat=config.tool.pricing == "per_seat",
        )

    @classmethod
    def of_columns(cls, groups: list[Prices], sizes: list[int]) -> Prices:
        """Each group's prices repeated over its ``sizes`` columns: one array per price
        (column groups of one model; they share ``per_seat``)."""
        if len(groups) == 1:
            return groups[0]
        fields = {
            name: np.repeat([getattr(g, name) for g in groups], sizes)
            for name in cls.__dataclass_fields__
            if name != "per_seat"
        }
        return cls(**fields, per_seat=groups[0].per_seat)


def rollout_cost(
    prices: Prices,
    week: int,
    champions: np.ndarray,
    actions_fired: np.ndarray,
    newly_trained: np.ndarray,
) -> np.ndarray:
    """Eq. 12, the week's rollout cost per replicate: the champions' time (weeks
    1..champion_weeks), each action fired, and the training of those a training action
    newly trained."""
    champion_time = np.where(
        (1 <= week) & (week <= np.asarray(prices.champion_weeks)),
        champions * prices.champion_week,
        0.0,
    )
    return (
        champion_time + actions_fired * prices.per_action + newly_trained * prices.training
    ).astype(np.float64)


@njit(cache=True, nogil=True, inline="always")
def paid_for(state, licensed, paid, per_seat):
    """One employee's (shelfware, paid seat, free user, unlicensed engaged user) flags."""
    engaged = state == State.ACTIVE
    unlicensed_user = rules.free_user(state, licensed)
    # shelfware: seats paid for, not engaged (licences; per seat, team-plan seats too)
    shelf = (not engaged) & (licensed | (per_seat & paid))
    # a paid team plan bills every unlicensed member (per seat) or its engaged ones
    seat = (unlicensed_user | (per_seat & (not licensed))) & paid
    free = unlicensed_user & (not paid)
    return shelf, seat, free, unlicensed_user


# a move: (state before, state after, licensed, workspace paid), one of MOVES codes
MOVES = N_STATES * N_STATES * 4


@njit(cache=True, nogil=True, inline="always")
def move_of(was: int, now: int, licensed: bool, paid: bool) -> int:
    """The code of one employee's move from ``was`` to ``now`` (licence and workspace
    unchanged), for :func:`apply_moves`."""
    return ((was * N_STATES + now) * 2 + np.int64(licensed)) * 2 + np.int64(paid)


@njit(cache=True, nogil=True)
def apply_moves(counts: np.ndarray, moves: np.ndarray, per_seat: bool) -> None:
    """Moves the employees of ``moves`` (MOVES x R: how many of each :func:`move_of` in
    each replicate) in the week's tally: the counts :func:`tally`
    would give after the moves, kept up to date instead of recounted (a week changes few
    employees).  Each code's flags are worked out once, whatever the number of moves."""
    reps = moves.shape[1]
    for code in range(moves.shape[0]):
        moved = 0
        for c in range(reps):
            moved += moves[code, c] != 0
        if moved != 0:
            apply_move(counts, code, moves[code], per_seat)


@njit(cache=True, nogil=True, inline="always")
def apply_move(counts: np.ndarray, code: int, moved: np.ndarray, per_seat: bool) -> None:
    """Moves ``moved[c]`` employees by the move ``code`` (:func:`move_of`) in replicate c
    of the week's tally, for every c."""
    was, now = code // 4 // N_STATES, code // 4 % N_STATES
    licensed, paid = (code // 2) % 2 == 1, code % 2 == 1
    shelf_was, seat_was, free_was, user_was = paid_for(was, licensed, paid, per_seat)
    shelf_now, seat_now, free_now, user_now = paid_for(now, licensed, paid, per_seat)
    shelf = np.int64(shelf_now) - np.int64(shelf_was)
    seat = np.int64(seat_now) - np.int64(seat_was)
    free = np.int64(free_now) - np.int64(free_was)
    user = np.int64(user_now) - np.int64(user_was)
    for c in range(len(moved)):
        k = moved[c]
        counts[was, c] -= k
        counts[now, c] += k
        counts[SHELFWARE_ROW, c] += shelf * k
        counts[PAID_SEATS_ROW, c] += seat * k
        counts[FREE_USERS_ROW, c] += free * k
        counts[UNLICENSED_ACTIVE_ROW, c] += user * k


@njit(cache=True, nogil=True)
def repaid(
    counts: np.ndarray,
    pays: np.ndarray,
    members_start: np.ndarray,
    members: np.ndarray,
    state: np.ndarray,
    licensed: np.ndarray,
    per_seat: bool,
) -> None:
    """Moves the members of the workspaces that pay (``pays``, W x R: workspace w starts
    paying in replicate c) from unpaid to paid in the week's tally, at their states in
    ``state``: the paid seats, free users and shelfware :func:`tally` would count
    after the payment, kept up to date instead of recounting everyone (some workspace
    pays in some replicate nearly every week).  ``members_start``, ``members``: the
    workspaces' members (``Workspaces.members``)."""
    n_ws, reps = pays.shape
    for w in range(n_ws):
        for c in range(reps):
            if not pays[w, c]:
                continue
            for k in range(members_start[w], members_start[w + 1]):
                i = members[k]
                shelf_was, seat_was, free_was, _ = paid_for(
                    state[i, c], licensed[i, c], False, per_seat
                )
                shelf_now, seat_now, free_now, _ = paid_for(
                    state[i, c], licensed[i, c], True, per_seat
                )
                counts[SHELFWARE_ROW, c] += np.int64(shelf_now) - np.int64(shelf_was)
                counts[PAID_SEATS_ROW, c] += np.int64(seat_now) - np.int64(seat_was)
                counts[FREE_USERS_ROW, c] += np.int64(free_now) - np.int64(free_was)


# int16 lanes hold the counts of this many employees (then added up in int64); the
# batched pass's department counts use it too
INT16_ROWS = 32767


@njit(cache=True, nogil=True)
def tally(
    state: np.ndarray,
    licensed: np.ndarray,
    incumbent: np.ndarray,
    paid: np.ndarray,
    workspace_of: np.ndarray,
    department: np.ndarray,
    n_departments: int,
    per_seat: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One week's counts per replicate: (TALLY_ROWS x R, departments x R engaged users).

    Rows: employees in each state, licences held, paid seats (unlicensed members of paid
    workspaces: all of them per seat, the engaged per active user), shelfware (licensed,
    not engaged), free users (engaged, unlicensed, in an unpaid workspace), unlicensed
    engaged users, employees who still have the old tool.  Counted in int16 lanes
    (:func:`_tally_rows`), added up every ``INT16_ROWS`` employees.
    """
    n, reps = state.shape
    counts = np.zeros((TALLY_ROWS, reps), dtype=np.int64)
    department_active = np.zeros((n_departments, reps), dtype=np.int64)
    for first in range(0, n, INT16_ROWS):
        rows = (first, min(n, first + INT16_ROWS))
        arrays = (state, licensed, incumbent, paid, workspace_of, department)
        sums, engaged = _tally_rows(*arrays, n_departments, per_seat, rows)
        counts += sums
        department_active += engaged
    return counts, department_active


@njit(cache=True, nogil=True)
def _tally_rows(
    state, licensed, incumbent, paid, workspace_of, department, n_departments, per_seat, rows
):
    """:func:`tally` of employees ``rows[0]:rows[1]`` (at most ``INT16_ROWS``), in int16
    arithmetic: branch-free rows of 16-bit lanes, four times as many to a SIMD op as
    numba's own int64 sums (a recount of 10,000 x 100 took 1.8 ms in int64)."""
    reps = state.shape[1]
    sums = np.zeros((TALLY_ROWS, reps), dtype=np.int16)
    engaged = np.zeros((n_departments, reps), dtype=np.int16)
    for i in range(rows[0], rows[1]):
        ws, d = workspace_of[i], department[i]
        for s in range(N_STATES):
            for c in range(reps):
                sums[s, c] = np.int16(sums[s, c] + np.int16(state[i, c] == s))
        for c in range(reps):
            st, licence = state[i, c], licensed[i, c]
            shelf, seat, free, unlicensed_user = paid_for(st, licence, paid[ws, c], per_seat)
            sums[LICENSED_ROW, c] = np.int16(sums[LICENSED_ROW, c] + np.int16(licence))
            sums[SHELFWARE_ROW, c] = np.int16(sums[SHELFWARE_ROW, c] + np.int16(shelf))
            sums[PAID_SEATS_ROW, c] = np.int16(sums[PAID_SEATS_ROW, c] + np.int16(seat))
            sums[FREE_USERS_ROW, c] = np.int16(sums[FREE_USERS_ROW, c] + np.int16(free))
            user = np.int16(unlicensed_user)
            sums[UNLICENSED_ACTIVE_ROW, c] = np.int16(sums[UNLICENSED_ACTIVE_ROW, c] + user)
            old = np.int16(incumbent[i, c])
            sums[INCUMBENT_ROW, c] = np.int16(sums[INCUMBENT_ROW, c] + old)
            engaged[d, c] = np.int16(engaged[d, c] + np.int16(st == State.ACTIVE))
    return sums, engaged


def observe_week(
    state: np.ndarray,
    licensed: np.ndarray,
    incumbent: np.ndarray,
    paid: np.ndarray,
    workspace_of: np.ndarray,
    department: np.ndarray,
    n_departments: int,
    deal: np.ndarray,
    banned: np.ndarray,
    prices: Prices,
    rollout: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One week's counts, one value per replicate (state, licensed: N x R; paid: W x R),
    and the engaged users per department (departments x R).

    Both engines count with the same compiled :func:`tally` (the reference
    with one column; the batched engine tallies during its commit pass), so they count alike.
    """
    tallied, department_active = tally(
        state, licensed, incumbent, paid, workspace_of, department, n_departments, prices.per_seat
    )
    paid_workspaces = paid.sum(axis=0, dtype=np.int64)
    return weekly_counts(tallied, paid_workspaces, deal, banned, prices, rollout), department_active


def weekly_counts(
    tallied: np.ndarray,
    paid_workspaces: np.ndarray,
    deal: np.ndarray,
    banned: np.ndarray,
    prices: Prices,
    rollout: np.ndarray,
) -> dict[str, np.ndarray]:
    """The recorded columns (``COUNT_COLUMNS``, costs and value) from a :func:`tally`, the
    workspaces that have paid (one count per replicate) and the week's :func:`rollout_cost`."""
    counts = {name: tallied[s] for name, s in zip(STATE_NAMES, State, strict=True)}
    counts["licensed"] = tallied[LICENSED_ROW]
    counts["paid_seats"] = np.where(banned, 0, tallied[PAID_SEATS_ROW])  # a ban ends team plans
    counts["seats"] = counts["licensed"] + counts["paid_seats"]
    counts["shelfware"] = tallied[SHELFWARE_ROW]
    counts["free_users"] = tallied[FREE_USERS_ROW]
    counts["paid_workspaces"] = paid_workspaces
    counts["unlicensed_active"] = tallied[UNLICENSED_ACTIVE_ROW]
    counts["incumbent_users"] = tallied[INCUMBENT_ROW]
    # licences per seat; once the enterprise deal is signed, per seat or per engaged user
    billed = counts["licensed"]
    if not prices.per_seat:
        billed = np.where(deal, counts["active"], billed)
    licence_price = np.where(deal, prices.enterprise, prices.licence)
    licence_cost = (
        billed * licence_price
        + counts["paid_seats"] * prices.seat
        + counts["incumbent_users"] * prices.incumbent
    )
    counts["licence_cost"] = licence_cost.astype(np.float64)
    counts["rollout_cost"] = np.asarray(rollout, dtype=np.float64)
    counts["cost"] = counts["licence_cost"] + counts["rollout_cost"]
    counts["value"] = counts["active"] * np.asarray(prices.value_per_user, dtype=np.float64)
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
    _cum_value: np.ndarray | None = None
    _stacked: dict[str, np.ndarray] = field(default_factory=dict)  # see _by_week

    def record(
        self, counts: dict[str, np.ndarray], deal: np.ndarray, department_active: np.ndarray
    ) -> None:
        """Keep one week: ``observe_week``'s counts and department actives, and the deal."""
        cost, value = counts["cost"], counts["value"]
        self._cum_cost = cost.copy() if self._cum_cost is None else self._cum_cost + cost
        self._cum_value = value.copy() if self._cum_value is None else self._cum_value + value
        row = dict(counts)
        row["deal"] = deal.copy()
        row["cum_cost"] = self._cum_cost.copy()
        row["cum_value"] = self._cum_value.copy()
        self.weeks.append(row)
        self.department_active.append(department_active)

    def trajectories(self, of: slice = slice(None)) -> pl.DataFrame:
        """One row per replicate and week, by replicate then week (``of``: a block of
        replicates, default all)."""
        replicates = np.asarray(self.replicates, dtype=np.int64)[of]
        order = np.argsort(replicates, kind="stable")
        n_weeks, n_reps = len(self.weeks), len(replicates)
        columns: dict[str, np.ndarray] = {
            "replicate": np.repeat(replicates[order], n_weeks),
            "week": np.tile(np.arange(n_weeks, dtype=np.int64), n_reps),
        }
        for name in (*COUNT_COLUMNS, "deal", *MONEY_COLUMNS):
            by_week = self._by_week(name)[:, of][:, order]  # weeks x these replicates
            kind = bool if name == "deal" else np.float64 if name in MONEY_COLUMNS else np.int64
            columns[name] = by_week.T.reshape(-1).astype(kind)
        return pl.DataFrame(columns)

    def _by_week(self, name: str) -> np.ndarray:
        """Weeks x replicates of one recorded column (a count recorded as one number for
        every replicate is repeated), built once after the last week for every block."""
        built = self._stacked.get(name)
        if built is None or len(built) != len(self.weeks):
            reps = len(self.replicates)
            built = np.stack([np.broadcast_to(w[name], reps) for w in self.weeks])
            self._stacked[name] = built
        return built

    def departments(self, of: slice = slice(None)) -> pl.DataFrame:
        """One row per replicate, week and department (``of`` as for trajectories)."""
        replicates = np.asarray(self.replicates, dtype=np.int64)[of]
        n_weeks, n_reps = len(self.weeks), len(replicates)
        n_dep = len(self.department_names)
        sizes = np.bincount(self.department, minlength=n_dep)
        active = np.stack(self.department_active)[:, :, of]  # weeks x departments x replicates
        frame = pl.DataFrame(
            {
                "replicate": np.tile(replicates, n_weeks * n_dep),
                "week": np.repeat(np.arange(n_weeks, dtype=np.int64), n_dep * n_reps),
                "department": np.tile(np.repeat(np.array(self.department_names), n_reps), n_weeks),
                "active": active.reshape(-1).astype(np.int64),
                "size": np.tile(np.repeat(sizes, n_reps), n_weeks).astype(np.int64),
            }
        )
        return frame.with_columns(active_share=pl.col("active") / pl.col("size")).sort(
            "replicate", "week", "department"
        )
