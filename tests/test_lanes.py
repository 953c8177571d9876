"""The loop ranges of the compiled passes (sim.lanes): a pass that splits a row's columns
must still visit every column of it, and no other; a sum over blocks covers the padded
row once."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.lanes import aligned_zeros, block, byte_window, padded, window_of


@njit
def _visits(lo: int, hi: int, bytes_: bool) -> np.ndarray:
    """How often the two parts of ``window_of(lo, hi)`` (``byte_window(hi)`` with
    ``bytes_``, lo = 0) visit each column 0..hi + 63, and (last) how many visits fall
    past them."""
    seen = np.zeros(hi + 65, dtype=np.int64)
    for part in range(2):
        columns = byte_window(hi, part) if bytes_ else window_of(lo, hi, part)
        for column in columns:
            c = np.int64(column)
            seen[min(c, hi + 64)] += 1
            if c > hi + 64:  # a window run wild: stop counting
                return seen
    return seen


@pytest.mark.parametrize("lo", [0, 1, 3, 8, 20])
@pytest.mark.parametrize("width", [0, 1, 5, 7, 8, 9, 15, 16, 17, 20, 31, 32, 100])
def test_the_overlapping_windows_cover_every_column_of_a_group_and_no_other(lo, width):
    """Every column lo..hi-1 at least once (the tail's last 8 overlap the whole vectors
    before them), at most twice, and nothing outside the group; a group narrower than 8
    or a whole number of 8 wide is visited once."""
    hi = lo + width
    seen = _visits(lo, hi, False)
    inside = seen[lo:hi]
    assert (inside >= 1).all()
    assert (inside <= 2).all()
    assert seen[:lo].sum() == 0 and seen[hi:].sum() == 0
    if width < 8 or width % 8 == 0:
        assert (inside == 1).all()
    else:
        assert inside.sum() == width // 8 * 8 + 8  # the whole vectors, then 8 more


@pytest.mark.parametrize("reps", [1, 20, 63, 64, 65, 100, 128, 129, 200])
def test_the_byte_windows_cover_every_replicate_and_no_other(reps):
    """Whole blocks of 64, then the last 64 overlapping them: every column 0..reps-1 at
    least once, at most twice, nothing past; a row under 64 or a multiple of 64 once."""
    seen = _visits(0, reps, True)
    inside = seen[:reps]
    assert (inside >= 1).all() and (inside <= 2).all()
    assert seen[reps:].sum() == 0
    if reps < 64 or reps % 64 == 0:
        assert (inside == 1).all()
    else:
        assert inside.sum() == reps // 64 * 64 + 64


@njit
def _block_sum(row: np.ndarray) -> np.ndarray:
    """The sums of ``row`` (padded) the way the passes add rows, block by block."""
    total = np.zeros(row.shape[0], dtype=np.int64)
    for b in range(row.shape[0] // 64):
        for k in block(b):
            total[k] += row[k]
    return total


@pytest.mark.parametrize("reps", [1, 20, 64, 100, 130])
def test_blocks_cover_a_padded_row_once(reps):
    """A row padded to a multiple of 64 is added once, lane by lane, padding included."""
    width = padded(reps)
    assert width % 64 == 0 and reps <= width < reps + 64
    row = np.arange(1, width + 1, dtype=np.int64)
    assert (_block_sum(row) == row).all()


@pytest.mark.parametrize("shape", [(3, 64), (1000, 128), (0, 64), (5, 0)])
def test_aligned_zeros_start_on_a_cache_line(shape):
    """Rows padded to 64 lanes start on a 64-byte boundary; the array is zeros of its
    shape, C-contiguous and writeable, like np.zeros."""
    array = aligned_zeros(shape, np.int8)
    assert array.shape == shape and array.dtype == np.int8
    assert array.flags.c_contiguous and array.flags.writeable
    assert not array.any()
    if array.size:
        assert array.ctypes.data % 64 == 0
        array[-1, -1] = 1  # the whole array is writable memory of its own
        assert array.sum() == 1
