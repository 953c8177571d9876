"""The walking helpers of the batched engine's passes (sim.engines.kernels): a pass that
splits a row's columns must still visit every column of it, and no other."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.engines.kernels import _window_of


@njit
def _visits(lo: int, hi: int) -> np.ndarray:
    """How often the two parts of ``_window_of(lo, hi)`` visit each column 0..hi + 7,
    and (last) how many visits fall past them."""
    seen = np.zeros(hi + 9, dtype=np.int64)
    for part in range(2):
        for column in _window_of(lo, hi, part):
            c = np.int64(column)
            seen[min(c, hi + 8)] += 1
            if c > hi + 8:  # a window run wild: stop counting
                return seen
    return seen


@pytest.mark.parametrize("lo", [0, 1, 3, 8, 20])
@pytest.mark.parametrize("width", [0, 1, 5, 7, 8, 9, 15, 16, 17, 20, 31, 32, 100])
def test_the_overlapping_windows_cover_every_column_of_a_group_and_no_other(lo, width):
    """Every column lo..hi-1 at least once (the tail's last 8 overlap the whole vectors
    before them), at most twice, and nothing outside the group; a group narrower than 8
    or a whole number of 8 wide is visited once."""
    hi = lo + width
    seen = _visits(lo, hi)
    inside = seen[lo:hi]
    assert (inside >= 1).all()
    assert (inside <= 2).all()
    assert seen[:lo].sum() == 0 and seen[hi:].sum() == 0
    if width < 8 or width % 8 == 0:
        assert (inside == 1).all()
    else:
        assert inside.sum() == width // 8 * 8 + 8  # the whole vectors, then 8 more
