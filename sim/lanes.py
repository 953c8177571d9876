"""Loops over a row of replicates that LLVM runs in whole SIMD vectors.

The batched engine's compiled passes (``sim.engines.kernels``) walk N x R arrays row by
row, each row's R replicates in an inner loop.  LLVM runs such a loop as whole vectors
and leaves the lanes past the last whole vector to a scalar tail, where a lane costs about
six times a lane in a vector; for int8 lanes it uses whole 64-lane vectors only from 256
lanes up, so a row of R = 100 runs in 16-lane pieces and a scalar tail.  The ranges here
avoid both:

* :func:`window_of` / :func:`byte_window`: for a loop whose lanes may be computed twice
  (each lane's writes depend on that lane alone), the whole vectors, then the last
  vector's worth of lanes, overlapping the ones before;
* :func:`block`: 64 lanes of a row padded to a multiple of 64 (the padding zero), for
  sums, which must not count a lane twice.

Every index is unsigned: an index numba knows is not negative needs no wraparound check,
which would keep the loop out of SIMD lanes.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def aligned_zeros(shape: tuple[int, ...], dtype) -> np.ndarray:
    """``np.zeros(shape, dtype)`` starting at a multiple of 64 bytes, so that each 64-lane
    :func:`block` of a row padded to :func:`padded` is one cache line (numpy aligns to 16:
    a block split over two lines made the Bass pass 4% slower)."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.zeros(size + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + size].view(dtype).reshape(shape)


@njit(inline="always")
def aligned_bytes(width):
    """``np.zeros(width, np.int8)`` in compiled code, starting at a multiple of 64 bytes
    (numba's own arrays start 32 bytes past one: each 64-lane block would span two cache
    lines)."""
    raw = np.zeros(width + 64, dtype=np.int8)
    start = -np.int64(raw.ctypes.data % 64) % 64
    return raw[start : start + width]


def padded(reps: int) -> int:
    """Row length for :func:`block` loops: ``reps`` rounded up to a multiple of 64 (the
    int8 lanes of one 512-bit vector)."""
    return -(-reps // 64) * 64


@njit(inline="always")
def lanes(reps):
    """Columns ``0:reps``."""
    return range(np.uint64(0), np.uint64(reps))


@njit(inline="always")
def columns(bounds, g):
    """Group g's columns ``bounds[g]:bounds[g + 1]``."""
    return range(np.uint64(bounds[g]), np.uint64(bounds[g + 1]))


@njit(inline="always")
def window_of(lo, hi, part):
    """Columns ``lo:hi`` in two parts for a loop of 64-bit lanes whose lanes may be
    computed twice: the most that fill whole vectors of 8, then the last 8, overlapping
    the first part.  With R = 100, four lanes in a scalar tail cost what 28 more in
    vectors do."""
    lo, hi = np.uint64(lo), np.uint64(hi)
    main = lo + (hi - lo) // np.uint64(8) * np.uint64(8)
    if part == 0:
        return range(lo, main)
    if main == hi:  # no tail
        return range(hi, hi)
    return range(hi - np.uint64(8) if hi - lo >= np.uint64(8) else lo, hi)


@njit(inline="always")
def byte_window(reps, part):
    """Columns ``0:reps`` in two parts for a loop of int8 lanes whose lanes may be
    computed twice, as :func:`window_of` does for 8: whole blocks of 64, then the last
    64, overlapping."""
    hi = np.uint64(reps)
    main = hi // np.uint64(64) * np.uint64(64)
    if part == 0:
        return range(np.uint64(0), main)
    if main == hi:
        return range(hi, hi)
    return range(hi - np.uint64(64) if hi >= np.uint64(64) else np.uint64(0), hi)


@njit(inline="always")
def block(k):
    """Lanes ``64 k : 64 (k + 1)`` of a row padded to a multiple of 64: one SIMD op."""
    base = np.uint64(k) * np.uint64(64)
    return range(base, base + np.uint64(64))
