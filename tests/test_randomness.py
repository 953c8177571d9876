"""Randomness contract v2: every uniform is a pure function of (seed, replicate, purpose,
week, index), the same bits in numpy (reference engine) and numba (batched engine), well
distributed, and independent between streams."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from sim import randomness
from sim.randomness import (
    PAYMENT,
    PURPOSES,
    TRANSITION,
    counter_hash,
    stream_key,
    uniform_from_hash,
    uniforms,
)


@njit(cache=True)
def _compiled_draws(key, week, count):
    out = np.empty(count)
    for i in range(count):
        out[i] = uniform_from_hash(key, counter_hash(np.uint64(week), np.uint64(i)))
    return out


def test_splitmix64_reference_values():
    """mix64((c + 1) * GOLDEN) is SplitMix64 seeded with 0: its published first outputs
    (Vigna's splitmix64.c test vector)."""
    first = counter_hash(np.uint64(0), np.arange(3, dtype=np.uint64))
    assert [hex(int(v)) for v in first] == [
        "0xe220a8397b1dcdaf",
        "0x6e789e6aa1b965f4",
        "0x6c45d188009454f",
    ]


@pytest.mark.parametrize(
    ("seed", "replicate", "purpose", "week"), [(0, 0, 0, 0), (12345, 7, 1, 52)]
)
def test_numpy_and_numba_compute_the_same_bits(seed, replicate, purpose, week):
    key = stream_key(seed, replicate, purpose)
    vectorised = uniforms(seed, replicate, purpose, week, 5_000)
    assert np.array_equal(vectorised, _compiled_draws(key, week, 5_000))


def test_a_draw_depends_on_nothing_but_its_own_coordinates():
    """Draw i of a week is the same whether 10 or 10,000 draws are made (no stream state)."""
    many = uniforms(3, 2, TRANSITION, 9, 10_000)
    few = uniforms(3, 2, TRANSITION, 9, 10)
    assert np.array_equal(many[:10], few)


def test_uniform_distribution():
    """200,000 draws: Kolmogorov-Smirnov against U(0, 1) and a 100-bin chi-square."""
    u = uniforms(12345, 0, TRANSITION, 1, 200_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    observed, _ = np.histogram(u, bins=100, range=(0.0, 1.0))
    assert stats.chisquare(observed).pvalue > 0.001


def test_streams_are_uncorrelated():
    """Neighbouring replicates, purposes, weeks and indices give uncorrelated numbers:
    |r| < 5 / sqrt(n) for n = 100,000 (a correlated pair would be far above)."""
    n = 100_000
    base = uniforms(1, 0, TRANSITION, 1, n)
    limit = 5 / np.sqrt(n)
    for other in (
        uniforms(1, 1, TRANSITION, 1, n),  # next replicate
        uniforms(1, 0, PAYMENT, 1, n),  # other purpose
        uniforms(1, 0, TRANSITION, 2, n),  # next week
        uniforms(2, 0, TRANSITION, 1, n),  # next seed
        np.roll(base, 1),  # next index
    ):
        assert abs(np.corrcoef(base, other)[0, 1]) < limit


def test_keys_differ_for_every_coordinate():
    keys = {
        int(stream_key(seed, rep, purpose))
        for seed in range(5)
        for rep in range(50)
        for purpose in range(len(PURPOSES))
    }
    assert len(keys) == 5 * 50 * len(PURPOSES)


def test_normals_by_inversion_are_standard():
    z = randomness.standard_normals(4, 0, randomness.HETEROGENEITY_NORMAL, 0, 100_000)
    assert np.isfinite(z).all()
    assert stats.kstest(z, "norm").pvalue > 0.001


def test_purposes_are_append_only():
    """Stored results rely on each purpose's position: the first ones never move."""
    assert PURPOSES[:5] == (
        "transition",
        "payment",
        "adopter_category",
        "heterogeneity_normal",
        "seeding_keys",
    )
