"""Evaluation metrics and their uncertainty.

- pass@k: the unbiased estimator of Chen et al. (2021) from n samples with c correct,
  1 - C(n - c, k) / C(n, k), computed as a stable product.
- Avg@k: the mean over problems of c / n, i.e. expected Pass@1 (identical to Pass@1 from n
  samples).
- Confidence intervals: Student-t over seeds (training randomness), and a percentile bootstrap
  over problems (evaluation randomness of one model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

FLEXIBLE = "flexible_"  # key prefix of the metrics by the flexible reading (harness.benchmarks.scoring)
READINGS = {"": "correct", FLEXIBLE: "correct_flexible"}  # metric key prefix -> generations row field


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem: 1 - prod_{i = n-c+1}^{n} (1 - k / i)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_at_k_table(n: int) -> np.ndarray:
    """(n + 1, n) array: [c, k - 1] = pass@k with c of n correct, for every c and every k."""
    return np.array([[pass_at_k(n, c, k) for k in range(1, n + 1)] for c in range(n + 1)])


def avg_at_n(correct: Sequence[int], n: int) -> float:
    return float(np.mean(np.asarray(correct) / n))


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Two-sided Student-t interval for the mean; (nan, nan) with fewer than two values."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return (math.nan, math.nan)
    from scipy import stats  # loaded here: it costs a job's start-up a second

    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return (float(x.mean() - half), float(x.mean() + half))


def bootstrap_interval(
    per_problem: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over problems."""
    x = np.asarray(per_problem, dtype=float)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    return (float(np.quantile(means, 0.5 - level / 2)), float(np.quantile(means, 0.5 + level / 2)))
