"""Paired comparisons of two methods: the difference of a metric, its 95% interval, a verdict,
and what the design can detect. Claims, the comparisons table and the diffs against the papers
all decide through `compare`.

Why pairing. Methods with the same seed index see the same training prompts in the same order
and draw their rollouts from the same row seeds, and every cell is evaluated on the same
problems with the same per-sample seeds (common random numbers; README "Statistics"). So the
difference is taken where the randomness is shared: per seed, per problem, and per sample index
where both methods have samples. What the two methods share cancels: the problems' difficulty,
and much of the sampling noise (equal noise draws pick equal tokens where the models agree).

The estimator (Miller 2024, "Adding Error Bars to Evals", arXiv 2411.00640, Sec. 2-4: paired
differences and clustered standard errors; here with two crossed clusters, seeds and problems).
A `Panel` holds x[s, u], a method's value on problem u under seed s (in points), and weights w_u
(1 / P on one benchmark; 1 / (B P_b) for the papers' Average over B benchmarks); the metric is
theta = mean_s Y_s with Y_s = sum_u w_u x[s, u]. With d[s, u] = x_A[s, u] - x_B[s, u] and the
two-way random-effects model d[s, u] = theta + a_s + b_u + e_su (seed, problem, residual),

    Var(theta_hat) = Var_s(Y) / S + sum_h q_h sigma_b,h^2,       q_h = sum_{u in h} w_u^2,

estimated without bias by the method of moments: the sample variance of Y_s over seeds (the
seed part, S - 1 degrees of freedom), and per stratum h (problems drawn together: one benchmark,
or one level where a column selects levels) sigma_b,h^2 = (MS_problems - MS_residual) / S from
the two-way ANOVA mean squares, truncated at 0 (the problem part, P_h - 1 degrees of freedom).
The 95% interval is theta_hat +- sqrt(sum over parts of t_{df}^2 x part): each part with the t
quantile of its own degrees of freedom. In simulation (tests/test_compare.py) this covers 95-97%
at 3 seeds, where one Satterthwaite t for the sum covered only 90-93%. With one problem, or no
variation between problems, it is exactly the paired t-interval over seeds
(scipy.stats.ttest_rel). The unpaired (Welch) interval beside it applies the same estimator to
each method alone and adds the parts, the two seed parts under one t with Welch-Satterthwaite
degrees of freedom: with one problem it is exactly Welch's interval over seed means. With one
common seed the training variance is unmeasured: the interval then covers problems only and the
verdict is `undecided`.

Verdicts, from the 95% interval [lo, hi] and the equivalence margin delta (points):
`better` if lo > 0, `worse` if hi < 0, else `equivalent` if -delta < lo and hi < delta (two
one-sided tests, Schuirmann 1987, each at 2.5%), else `undecided`. An interval above 0 but
inside +-delta reads `better`: the sign is known, and the size is below delta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from harness.power import ALPHA, VarianceComponents, minimum_detectable_difference, seeds_needed, t_quantile

Verdict = Literal["better", "worse", "equivalent", "undecided"]


@dataclass(frozen=True)
class Panel:
    """One method's values of a metric per (seed, problem), in points, on a fixed set of problems."""

    seeds: tuple[int, ...]
    units: tuple[str, ...]  # problem keys, e.g. "arith/arith-L3-0042", the same under every seed
    values: np.ndarray  # (S, U)
    weights: np.ndarray  # (U,), summing to 1: the metric of seed s is values[s] @ weights
    strata: np.ndarray  # (U,) int labels: problems drawn together (a benchmark, or a level of one)
    samples: np.ndarray | None = None  # (S, U, n) per-sample values whose mean over n is `values` (Avg@n)

    def per_seed(self) -> np.ndarray:
        """The metric under each seed, (S,)."""
        return self.values @ self.weights

    def select(self, seeds: list[int]) -> Panel:
        rows = [self.seeds.index(s) for s in seeds]
        return replace(self, seeds=tuple(seeds), values=self.values[rows],
                       samples=None if self.samples is None else self.samples[rows])

    def __sub__(self, other: Panel) -> Panel:
        """The paired difference, seed by seed, problem by problem and sample by sample."""
        if self.seeds != other.seeds or self.units != other.units:
            raise ValueError("a paired difference needs the same seeds and problems on both sides")
        paired = self.samples is not None and other.samples is not None and self.samples.shape == other.samples.shape
        return replace(self, values=self.values - other.values,
                       samples=self.samples - other.samples if paired else None)


@dataclass(frozen=True)
class Estimate:
    """A mean with its variance parts (estimate, degrees of freedom) and variance components."""

    mean: float
    seed_part: tuple[float, float] | None  # (variance, df) between seeds; None with one seed
    problem_parts: tuple[tuple[float, float], ...]  # (variance, df) per stratum of problems
    seeds: int
    problems: int
    components: VarianceComponents

    @property
    def parts(self) -> tuple[tuple[float, float], ...]:
        """The independent parts of Var(mean)."""
        return ((self.seed_part,) if self.seed_part else ()) + self.problem_parts

    @property
    def se(self) -> float:
        return math.sqrt(sum(v for v, _ in self.parts))

    def interval(self, alpha: float = ALPHA) -> tuple[float, float]:
        """mean +- sqrt(sum of t_df^2 x part); NaN when a part is unknown."""
        if any(math.isnan(v) for v, _ in self.parts):
            return (math.nan, math.nan)
        half = math.sqrt(sum(t_quantile(df, alpha) ** 2 * v for v, df in self.parts if v > 0))
        return (self.mean - half, self.mean + half)


def _sample_variance(panel: Panel, units: np.ndarray) -> float:
    """Mean over (seed, problem) of the variance between a problem's samples (per sample)."""
    return float(panel.samples[:, units].var(axis=2, ddof=1).mean())


def estimate(panel: Panel) -> Estimate:
    """The mean of a panel over seeds and problems, with seeds and problems both random
    (see the module docstring); with one seed, over problems only (seed variance NaN)."""
    S, U = panel.values.shape
    per_seed = panel.per_seed()
    n = None if panel.samples is None else panel.samples.shape[2]
    problem_sum = within_sum = sample_sum = 0.0
    parts: list[tuple[float, float]] = []  # the problem parts
    for h in np.unique(panel.strata):
        units = np.flatnonzero(panel.strata == h)
        q, x = float(np.sum(panel.weights[units] ** 2)), panel.values[:, units]
        if n is not None and n > 1:
            sample_sum += q * _sample_variance(panel, units)
        if len(units) < 2:
            continue  # a single problem has no estimable problem variance
        if S == 1:  # problems only: their spread holds problem variance and residual together
            problem_sum += q * float(x[0].var(ddof=1))
            parts.append((q * float(x[0].var(ddof=1)), len(units) - 1))
            continue
        col, row, grand = x.mean(axis=0), x.mean(axis=1, keepdims=True), x.mean()
        ms_problems = S * float(np.sum((col - grand) ** 2)) / (len(units) - 1)
        ms_residual = float(np.sum((x - row - col + grand) ** 2)) / ((S - 1) * (len(units) - 1))
        sigma_b = max(0.0, (ms_problems - ms_residual) / S)
        problem_sum += q * sigma_b
        within_sum += q * ms_residual
        parts.append((q * sigma_b, len(units) - 1))
    sample = U * sample_sum if n is not None and n > 1 else None
    if S == 1:
        components = VarianceComponents(math.nan, U * problem_sum, math.nan, sample, n)
        return Estimate(float(per_seed.mean()), None, tuple(parts), S, U, components)
    between_seeds = float(per_seed.var(ddof=1))
    components = VarianceComponents(max(0.0, between_seeds - within_sum), U * problem_sum, U * within_sum, sample, n)
    return Estimate(float(per_seed.mean()), (between_seeds / S, S - 1), tuple(parts), S, U, components)


def fixed_problems_estimate(panel: Panel) -> Estimate:
    """The mean with the problems held fixed (the same test set as whoever it is compared
    with): the noise of training seeds and sampling only. Over seeds when there are two or
    more; with one seed, the sampling noise of the samples alone (Avg@n; NaN otherwise)."""
    S, U = panel.values.shape
    per_seed = panel.per_seed()
    components = estimate(panel).components
    if S > 1:
        return Estimate(float(per_seed.mean()), (float(per_seed.var(ddof=1)) / S, S - 1), (), S, U, components)
    if panel.samples is not None and panel.samples.shape[2] > 1:
        n = panel.samples.shape[2]
        part = (float(np.sum(panel.weights**2 * panel.samples[0].var(axis=1, ddof=1))) / n, U * (n - 1))
    else:
        part = (math.nan, math.nan)
    return Estimate(float(per_seed.mean()), None, (part,), S, U, components)


def unpaired(a: Estimate, b: Estimate) -> Estimate:
    """The difference of two independent means: problem parts added, the two seed parts under
    one t with Welch-Satterthwaite degrees of freedom (Welch's interval when there are no
    problem parts; a method measured on one seed has no seed part to add)."""
    seeds = [p for p in (a.seed_part, b.seed_part) if p is not None]
    var = sum(v for v, _ in seeds)
    denominator = sum(v**2 / df for v, df in seeds if v > 0)
    seed_part = (var, var**2 / denominator if denominator > 0 else math.inf) if seeds else None
    return Estimate(a.mean - b.mean, seed_part, a.problem_parts + b.problem_parts, 0, a.problems, a.components)


def verdict(low: float, high: float, margin: float) -> Verdict:
    """better / worse / equivalent / undecided from a 95% interval (module docstring)."""
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    if -margin < low and high < margin:
        return "equivalent"
    return "undecided"


def combine(verdicts: list[Verdict]) -> Verdict:
    """One verdict for a claim made of several comparisons: `better` (or `equivalent`) only if
    every comparison is; `worse` if any is; `undecided` otherwise."""
    if "worse" in verdicts:
        return "worse"
    for shared in ("better", "equivalent"):
        if verdicts and all(v == shared for v in verdicts):
            return shared
    return "undecided"


@dataclass(frozen=True)
class Comparison:
    """Method A against method B on one metric: paired difference A - B in points, its 95%
    interval, the unpaired interval, the verdict, and the power of the design."""

    difference: float
    low: float
    high: float
    seeds: int  # seeds both methods have (the pairs)
    problems: int
    samples: int | None
    verdict: Verdict
    unpaired_low: float
    unpaired_high: float
    components: VarianceComponents  # of the paired difference
    mdd: float  # minimum detectable difference (80% power, 5% two-sided) at this design
    detect: float  # the difference whose seed count is given
    seeds_needed: int | None  # seeds for an MDD of `detect` at these problems and samples; None: unreachable

    @property
    def width_ratio(self) -> float:
        """Paired interval width over unpaired: below 1 is what pairing bought."""
        unpaired = self.unpaired_high - self.unpaired_low
        return (self.high - self.low) / unpaired if unpaired > 0 else math.nan

    def text(self) -> str:
        """One evidence line: difference, both intervals and power."""
        if self.seeds < 2:
            power = "; one common seed: training variance unmeasured"
        else:
            needed = (f"{self.seeds_needed} seeds" if self.seeds_needed is not None
                      else "more problems (over 1000 seeds at these)")
            power = f"; MDD {self.mdd:.1f} at {self.seeds} seeds x {self.problems} problems; {self.detect:g} points need {needed}"
        return (f"paired difference {self.difference:+.1f} [95% CI {self.low:+.1f}, {self.high:+.1f}], "
                f"unpaired (Welch) [{self.unpaired_low:+.1f}, {self.unpaired_high:+.1f}]{power}")


def compare(a: Panel, b: Panel, margin: float = 1.0, detect: float = 2.0) -> Comparison:
    """A against B, paired on the seeds both have (see the module docstring)."""
    common = [s for s in a.seeds if s in b.seeds]
    if not common:
        raise ValueError(f"no common seed to pair on: {list(a.seeds)} and {list(b.seeds)}")
    paired = estimate(a.select(common) - b.select(common))
    low, high = paired.interval()
    unpaired_low, unpaired_high = unpaired(estimate(a), estimate(b)).interval()
    c, samples = paired.components, paired.components.samples
    return Comparison(
        difference=paired.mean, low=low, high=high, seeds=len(common), problems=paired.problems, samples=samples,
        verdict=verdict(low, high, margin) if len(common) > 1 else "undecided",
        unpaired_low=unpaired_low, unpaired_high=unpaired_high, components=c,
        mdd=minimum_detectable_difference(c, len(common), paired.problems, samples), detect=detect,
        seeds_needed=seeds_needed(c, detect, paired.problems, samples),
    )
