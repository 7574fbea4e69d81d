"""pass@k against brute force, and the confidence intervals."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from harness.metrics import avg_at_n, bootstrap_interval, pass_at_k, pass_at_k_table, t_interval


@pytest.mark.parametrize("n,c,k", [(8, 0, 1), (8, 1, 1), (8, 3, 2), (8, 3, 8), (10, 4, 5), (6, 5, 3), (5, 5, 1)])
def test_pass_at_k_equals_enumeration_of_subsets(n, c, k):
    outcomes = [1] * c + [0] * (n - c)
    subsets = list(itertools.combinations(range(n), k))
    brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct_and_avg_matches():
    correct = [0, 3, 8, 5]
    table = pass_at_k_table(8)  # [c, k - 1]
    assert table[correct, 0].mean() == pytest.approx(avg_at_n(correct, 8)) == pytest.approx(16 / 32)
    assert table.shape == (9, 8) and table[3, 1] == pytest.approx(pass_at_k(8, 3, 2))


def test_pass_at_k_rejects_impossible_counts():
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(8, 9, 1)
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(8, 1, 9)


def test_t_interval_by_hand():
    values = [40.0, 42.0, 44.0]
    half = stats.t.ppf(0.975, 2) * 2.0 / math.sqrt(3)  # sample std is 2
    assert t_interval(values) == pytest.approx((42 - half, 42 + half))
    assert all(math.isnan(x) for x in t_interval([1.0]))


def test_bootstrap_interval_covers_the_mean_and_is_reproducible():
    x = np.random.default_rng(1).binomial(1, 0.3, size=500).astype(float)
    lo, hi = bootstrap_interval(x, seed=3)
    assert lo < x.mean() < hi
    assert hi - lo == pytest.approx(2 * 1.96 * x.std() / math.sqrt(x.size), rel=0.15)
    assert bootstrap_interval(x, seed=3) == (lo, hi)
