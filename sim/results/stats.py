"""Confidence intervals for replicate outcomes."""

from __future__ import annotations

import numpy as np
from scipy import stats


def outcome_range(column: str) -> tuple[float, float]:
    """Where a per-run outcome's mean can lie: shares in [0, 1], times, costs, counts >= 0."""
    return (0.0, 1.0) if column.endswith("_share") else (0.0, float("inf"))


def difference_range(column: str) -> tuple[float, float]:
    """Where a mean paired difference (plan A − plan B) can lie: a difference of two shares
    is in [-1, 1]; other outcomes' differences are unbounded."""
    return (-1.0, 1.0) if column.endswith("_share") else (-float("inf"), float("inf"))


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
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return mean, low, high
