"""Confidence intervals for replicate outcomes."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

SIGNED = frozenset({"net_value", "roi"})  # outcomes that can be negative (value - cost)


def outcome_range(column: str) -> tuple[float, float]:
    """Where a per-run outcome's mean can lie: shares in [0, 1]; net value and ROI anywhere
    (a plan can lose money); times, costs and counts >= 0."""
    if column.endswith("_share"):
        return (0.0, 1.0)
    return (-float("inf"), float("inf")) if column in SIGNED else (0.0, float("inf"))


def difference_range(column: str) -> tuple[float, float]:
    """Where a mean paired difference (plan A − plan B) can lie: a difference of two shares
    is in [-1, 1]; other outcomes' differences are unbounded."""
    return (-1.0, 1.0) if column.endswith("_share") else (-float("inf"), float("inf"))


@lru_cache(maxsize=256)
def t_quantile(quantile: float, degrees_of_freedom: int) -> float:
    """Student's t quantile for a whole number of degrees of freedom, remembered: a report
    asks for the same few (replicates − 1) hundreds of times, and scipy's ``ppf`` costs
    about 0.1 ms a call."""
    return float(stats.t.ppf(quantile, degrees_of_freedom))


def mean_ci(
    values, level: float = 0.95, bounds: tuple[float, float] | None = None
) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the finite values; NaNs when none are.

    ``bounds`` clips the interval to the range the true mean must lie in (with few
    replicates a share's t interval can otherwise reach below 0 or above 1).
    """
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return mean, mean, mean
    half = float(t_quantile(0.5 + level / 2, int(x.size) - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, low, high


def finite(values) -> np.ndarray:
    """The finite values of ``values`` (None and NaN dropped) as a float array."""
    x = np.asarray([v for v in values if v is not None], dtype=np.float64)
    return x[np.isfinite(x)]


def welch_ci(
    a, b, level: float = 0.95, bounds: tuple[float, float] | None = None
) -> tuple[float, float, float, int, int]:
    """Mean of B minus mean of A for two *independent* samples, with Welch's t interval
    (unequal variances, Welch-Satterthwaite degrees of freedom).

    Returns (difference, low, high, size of A, size of B); the interval is NaN when either
    sample has fewer than two finite values, the difference NaN when either has none.
    Used to compare results of different seeds, whose replicates cannot be paired.
    """
    x, y = finite(a), finite(b)
    if x.size == 0 or y.size == 0:
        return float("nan"), float("nan"), float("nan"), int(x.size), int(y.size)
    diff = float(y.mean() - x.mean())
    if x.size < 2 or y.size < 2:
        return diff, float("nan"), float("nan"), int(x.size), int(y.size)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if va + vb == 0:
        return diff, diff, diff, int(x.size), int(y.size)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df) * np.sqrt(va + vb))
    low, high = diff - half, diff + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return diff, low, high, int(x.size), int(y.size)


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """The share k / n with its Wilson score interval (Wilson 1927): sensible at 0 and n
    and for few points, where the normal interval is not.  NaNs when n = 0."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + level / 2))
    share = k / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return share, max(0.0, centre - half), min(1.0, centre + half)
