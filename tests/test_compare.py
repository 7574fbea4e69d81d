"""The paired estimator by hand and against scipy's t-tests, the verdicts at their boundaries,
and the power formula and interval coverage against seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.compare import Panel, combine, compare, estimate, fixed_problems_estimate, verdict
from harness.power import (
    VarianceComponents,
    design,
    minimum_detectable_difference,
    power,
    seeds_needed,
)

T2 = stats.t.ppf(0.975, 2)  # 4.3027: the t quantile of 3 seeds


def panel(values, samples=None, seeds=None) -> Panel:
    values = np.asarray(values, dtype=float)
    S, U = values.shape
    return Panel(tuple(seeds or range(S)), tuple(f"p{u}" for u in range(U)), values, np.full(U, 1 / U),
                 np.zeros(U, dtype=int), samples)


def test_paired_interval_by_hand_with_problem_variance():
    # d[s, u]: seed means 4, 5, 5 (mean 14/3, variance 1/3); problem means 2, 4, 8 -> MS_problems
    # = 3 * 56/3 / 2 = 28; residuals sum of squares 4 -> MS_residual = 4 / (2 * 2) = 1;
    # sigma_b^2 = (28 - 1) / 3 = 9. Seed part 1/3 / 3 = 1/9, problem part 3 * (1/3)^2 * 9 = 3.
    d = [[1, 3, 8], [3, 5, 7], [2, 4, 9]]
    e = estimate(panel(d))
    assert e.mean == pytest.approx(14 / 3)
    assert e.seed_part == pytest.approx((1 / 9, 2)) and e.problem_parts[0] == pytest.approx((3.0, 2))
    low, high = e.interval()
    assert (low, high) == pytest.approx((14 / 3 - T2 * math.sqrt(28 / 9), 14 / 3 + T2 * math.sqrt(28 / 9)))
    # per problem: seed 1/3 - 1/3 (the residual's share) = 0, problem 9, residual 1
    assert (e.components.seed, e.components.problem, e.components.within) == pytest.approx((0.0, 9.0, 1.0))


def test_one_problem_gives_scipys_paired_and_welch_intervals():
    a, b = np.array([[51.0], [47.5], [49.0], [53.0]]), np.array([[48.0], [47.0], [45.5], [50.0]])
    c = compare(panel(a), panel(b))
    assert (c.low, c.high) == pytest.approx(tuple(stats.ttest_rel(a[:, 0], b[:, 0]).confidence_interval()))
    welch = stats.ttest_ind(a[:, 0], b[:, 0], equal_var=False).confidence_interval()
    assert (c.unpaired_low, c.unpaired_high) == pytest.approx(tuple(welch))
    assert c.difference == pytest.approx(2.5) and c.seeds == 4  # (200.5 - 190.5) / 4


def test_no_problem_variance_gives_the_paired_t_over_seed_means():
    rng = np.random.default_rng(1)
    difficulty = rng.uniform(0, 100, size=(1, 40))  # shared by both methods: cancels in the pairs
    a = difficulty + np.array([[1.0], [2.5], [0.5]]) + 2.0
    b = difficulty + np.array([[0.5], [1.0], [1.5]])
    c = compare(panel(a), panel(b))
    expected = stats.ttest_rel(a.mean(axis=1), b.mean(axis=1)).confidence_interval()
    assert (c.low, c.high) == pytest.approx(tuple(expected))
    # unpaired, each method's problem part is the spread of difficulty over 40 problems, t on 39 df;
    # the seed parts go under Welch's t
    welch = stats.ttest_ind(a.mean(axis=1), b.mean(axis=1), equal_var=False)
    seed_half = welch.confidence_interval().high - 7 / 3
    half = math.sqrt(seed_half**2 + stats.t.ppf(0.975, 39) ** 2 * 2 * difficulty.var(ddof=1) / 40)
    assert (c.unpaired_low, c.unpaired_high) == pytest.approx((7 / 3 - half, 7 / 3 + half))
    assert c.width_ratio == pytest.approx((c.high - c.low) / (2 * half)) and c.width_ratio < 0.3


def test_pairing_uses_the_seeds_both_have_and_one_seed_decides_nothing():
    a, b = panel([[60, 40], [62, 44], [61, 42]], seeds=[0, 1, 2]), panel([[50, 30], [51, 33]], seeds=[1, 2])
    c = compare(a, b)
    assert c.seeds == 2 and c.difference == pytest.approx(((62 + 44 - 51 - 33) + (61 + 42 - 50 - 30)) / 4)
    single = compare(a, panel([[50, 30]], seeds=[2]))
    assert single.seeds == 1 and single.verdict == "undecided" and math.isnan(single.mdd)
    assert "training variance unmeasured" in single.text()


def test_fixed_problems_noise_is_the_seed_t_interval_or_the_sampling_noise_of_one_seed():
    x = [[40, 60], [50, 70], [45, 65]]  # seed values 50, 60, 55
    e = fixed_problems_estimate(panel(x))
    assert e.interval() == pytest.approx(tuple(stats.t.interval(0.95, 2, loc=55, scale=5 / math.sqrt(3))))
    samples = np.array([[[100, 0, 100, 0], [100, 100, 100, 0]]], dtype=float)  # per-sample variances 3333.3, 2500
    one = fixed_problems_estimate(panel(samples.mean(axis=2), samples))
    assert one.se == pytest.approx(math.sqrt((1 / 4) * (10000 / 3 + 2500) / 4))
    assert math.isnan(fixed_problems_estimate(panel([[40, 60]])).se)  # one seed, no samples: unknown


@pytest.mark.parametrize("low,high,expected", [
    (0.0, 0.5, "equivalent"),  # lo = 0 is not above 0, but inside +-1
    (0.0, 2.0, "undecided"),
    (1e-9, 2.0, "better"),
    (0.2, 0.8, "better"),  # above 0 and inside +-1: the sign is known
    (-2.0, -1e-9, "worse"),
    (-2.0, 0.0, "undecided"),
    (-1.0, 0.5, "undecided"),  # the margin itself is not inside
    (-0.999, 0.999, "equivalent"),
    (-0.5, 1.0, "undecided"),
])
def test_verdicts_at_their_boundaries(low, high, expected):
    assert verdict(low, high, margin=1.0) == expected


def test_combined_verdicts():
    assert combine(["better", "better"]) == "better"
    assert combine(["better", "worse"]) == "worse"
    assert combine(["equivalent", "equivalent"]) == "equivalent"
    assert combine(["better", "equivalent"]) == combine(["better", "undecided"]) == combine([]) == "undecided"


def test_power_without_problem_variance_is_the_noncentral_t_power():
    d = design(VarianceComponents(seed=4.0, problem=0.0, within=0.0), seeds=3, problems=100)
    for difference in (1.0, 3.0, 6.0):
        crit, nc = stats.t.ppf(0.975, 2), difference / d.se
        expected = stats.nct.sf(crit, 2, nc) + stats.nct.cdf(-crit, 2, nc)
        assert power(difference, d) == pytest.approx(expected, abs=2e-3)


def test_mdd_in_standard_errors_and_seeds_needed():
    c = VarianceComponents(seed=4.0, problem=0.0, within=0.0)
    assert minimum_detectable_difference(c, 1000, 100) / (2 / math.sqrt(1000)) == pytest.approx(2.80, abs=0.01)
    assert minimum_detectable_difference(c, 3, 100) / (2 / math.sqrt(3)) == pytest.approx(5.65, abs=0.02)
    n = seeds_needed(c, 2.0, problems=100)
    assert minimum_detectable_difference(c, n, 100) <= 2.0 < minimum_detectable_difference(c, n - 1, 100)
    # problem variance 400 over 100 problems: SE >= 2, no number of seeds reaches 2 points
    assert seeds_needed(VarianceComponents(4.0, 400.0, 0.0), 2.0, problems=100) is None


def test_residual_scales_with_the_samples_per_problem():
    c = VarianceComponents(seed=1.0, problem=2.0, within=10.0, sample=32.0, samples=8)
    assert c.within_at(8) == 10.0 and c.within_at(16) == pytest.approx(6.0 + 2.0)  # interaction 10 - 32/8 = 6
    assert VarianceComponents(1.0, 2.0, 10.0).within_at(16) == 10.0  # per-sample variance unknown


def simulate(S, P, sd_seed, sd_problem, sd_residual, difference, reps=2000, seed=0):
    """Detection rate (lower bound above 0) and coverage of `difference` over simulated
    experiments of the two-way model d = difference + a_s + b_u + e_su."""
    rng = np.random.default_rng(seed)
    detected = covered = 0
    for _ in range(reps):
        d = (difference + rng.normal(0, sd_seed, (S, 1)) + rng.normal(0, sd_problem, (1, P))
             + rng.normal(0, sd_residual, (S, P)))
        low, high = estimate(panel(d)).interval()
        detected += low > 0
        covered += low <= difference <= high
    return detected / reps, covered / reps


@pytest.mark.parametrize("S,P,sds", [(3, 200, (1.0, 3.0, 5.0)), (5, 100, (1.0, 3.0, 10.0)), (2, 100, (1.0, 1.0, 5.0))])
def test_power_formula_predicts_the_simulated_detection_rate(S, P, sds):
    c = VarianceComponents(sds[0] ** 2, sds[1] ** 2, sds[2] ** 2)
    mdd = minimum_detectable_difference(c, S, P)
    rate, coverage = simulate(S, P, *sds, difference=mdd)
    assert rate == pytest.approx(0.80, abs=0.03)
    assert 0.94 <= coverage <= 0.985  # each part with its own t: at or a little above 95%
