"""Statistical power of a comparison from its variance components: the minimum detectable
difference at a design (seeds x problems x samples) and the seeds a target difference needs.

The design is the crossed one of harness.compare: every seed is evaluated on every problem.
For the mean of a metric (or of a paired difference) over S seeds and P problems,

    SE^2 = A + B,   A = (seed + within / P) / S,   B = problem / P                  (1)

with `seed` the between-seed variance (training randomness), `problem` the between-problem
variance, and `within` the seed x problem residual (their interaction plus the sampling noise
of the n samples per problem, `interaction + sample / n`, where the per-sample variance is
known). Components are in points^2 and "per problem": for a weighted mean over several
benchmarks (the papers' Average) they are scaled so that (1) holds with P the number of
distinct problems, and scaling P scales every benchmark alike.

The test is the one harness.compare's interval makes: reject "no difference" when
|mean| > sqrt(t_{S-1}^2 A_hat + t_{P-1}^2 B_hat), each part with the t quantile of its own
degrees of freedom. A_hat is A chi^2_{S-1} / (S - 1) and independent of the mean; B_hat, from
many problems, is taken as exact. The power at a true difference d is then a one-dimensional
integral over that chi^2 (with no problem part, exactly the noncentral-t power of the paired
t-test), and the minimum detectable difference (MDD, 80% power, 5% two-sided) is the d where it
reaches 0.8: about 2.8 SE with many seeds, about 5.7 SE with 3 seeds (t on 2 degrees of freedom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, stats

ALPHA = 0.05  # two-sided level of every interval and test
POWER = 0.80  # power of the minimum detectable difference
_GRID = (np.arange(512) + 0.5) / 512  # probabilities at which the chi^2 of A_hat is integrated


@dataclass(frozen=True)
class VarianceComponents:
    """Variance components in points^2, per problem (see the module docstring)."""

    seed: float  # between seeds; NaN when measured on one seed
    problem: float  # between problems
    within: float  # seed x problem residual at the measured number of samples
    sample: float | None = None  # per-sample variance within a problem (Avg@n), part of `within`
    samples: int | None = None  # samples per problem it was measured at

    def within_at(self, samples: int | None) -> float:
        """The residual with `samples` samples per problem: the interaction stays, the sampling
        part scales as 1 / samples (unchanged when the per-sample variance is unknown)."""
        if samples is None or self.sample is None or self.samples is None:
            return self.within
        interaction = max(0.0, self.within - self.sample / self.samples)
        return interaction + self.sample / samples


@dataclass(frozen=True)
class Design:
    """The two variance parts of (1) at a design, with their degrees of freedom."""

    seed_part: float  # A
    seed_df: float  # S - 1
    problem_part: float  # B
    problem_df: float  # P - 1

    @property
    def se(self) -> float:
        return math.sqrt(self.seed_part + self.problem_part)


def design(c: VarianceComponents, seeds: int, problems: int, samples: int | None = None) -> Design:
    """The variance parts of the mean at `seeds` x `problems` x `samples`, by (1)."""
    if seeds < 2:
        raise ValueError(f"a design needs seeds >= 2 (the seed variance is estimated between seeds), got {seeds}")
    seed_part = (c.seed + c.within_at(samples) / problems) / seeds
    return Design(seed_part, seeds - 1, c.problem / problems, max(problems - 1, 1))


@lru_cache(maxsize=4096)
def t_quantile(df: float, alpha: float = ALPHA) -> float:
    return float(stats.t.ppf(1 - alpha / 2, df))


@lru_cache(maxsize=1024)
def _chi2_grid(df: float) -> np.ndarray:
    """Quantiles of chi^2_df at _GRID: the seed part's estimate, integrated over (512,)."""
    return stats.chi2.ppf(_GRID, df)


def power(difference: float, d: Design, alpha: float = ALPHA) -> float:
    """Probability that the test of the module docstring rejects "no difference" when the
    true difference is `difference`."""
    sd = d.se
    if sd == 0:
        return 1.0 if difference != 0 else 0.0
    a_hat = d.seed_part * _chi2_grid(d.seed_df) / d.seed_df
    critical = np.sqrt(t_quantile(d.seed_df, alpha) ** 2 * a_hat + t_quantile(d.problem_df, alpha) ** 2 * d.problem_part)
    reject = stats.norm.sf((critical - difference) / sd) + stats.norm.cdf((-critical - difference) / sd)
    return float(reject.mean())


def detectable(d: Design, alpha: float = ALPHA, target: float = POWER) -> float:
    """The minimum detectable difference of the test at design `d`."""
    if d.se == 0:
        return 0.0
    upper = 2 * t_quantile(d.seed_df, alpha) * d.se + 10 * d.se  # power there is ~1 for any target up to 0.999
    return optimize.brentq(lambda x: power(x, d, alpha) - target, 0.0, upper, xtol=1e-6 * d.se)


def minimum_detectable_difference(
    c: VarianceComponents, seeds: int, problems: int, samples: int | None = None,
    alpha: float = ALPHA, target: float = POWER,
) -> float:
    """MDD (points) at `seeds` x `problems` x `samples`: the true difference that the two-sided
    level-alpha test detects with probability `target`. NaN when the seed variance is unknown."""
    if math.isnan(c.seed) or seeds < 2:
        return math.nan
    return detectable(design(c, seeds, problems, samples), alpha, target)


def seeds_needed(
    c: VarianceComponents, difference: float, problems: int, samples: int | None = None,
    alpha: float = ALPHA, target: float = POWER, max_seeds: int = 1000,
) -> int | None:
    """The fewest seeds (>= 2) whose MDD is at most `difference` at `problems` x `samples`; None
    when even `max_seeds` do not suffice (the between-problem variance sets a floor of about
    2.8 sqrt(problem / P) that no number of seeds removes: then more problems are needed)."""
    if math.isnan(c.seed):
        return None

    def enough(seeds: int) -> bool:
        return minimum_detectable_difference(c, seeds, problems, samples, alpha, target) <= difference

    if not enough(max_seeds):
        return None
    low, high = 2, max_seeds  # the MDD falls with the seeds: bisect for the first that suffices
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if enough(mid) else (mid + 1, high)
    return low
