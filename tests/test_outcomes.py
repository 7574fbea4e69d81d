"""Generations files read back as per-problem outcomes and as the panels the comparisons pair."""

from __future__ import annotations

import pytest

from harness.io import write_jsonl
from harness.outcomes import generation_paths, load_outcomes, panel, per_problem
from tests.cells import write_cell


def test_outcomes_and_per_problem_metrics_by_hand(tmp_path):
    path = write_cell(tmp_path, "a", 0, [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]])
    out = load_outcomes(path.with_suffix(".generations.jsonl"))
    assert out.ids == ("q0", "q1", "q2", "q3") and out.correct.shape == (4, 4)
    avg, samples = per_problem(out, "avg@4")
    assert avg.tolist() == [0, 25, 50, 100] and samples[1].tolist() == [100, 0, 0, 0]
    pass2, none = per_problem(out, "pass@2")  # 1 - C(4 - c, 2) / C(4, 2)
    assert pass2 == pytest.approx([0, 50, 100 * 5 / 6, 100]) and none is None
    with pytest.raises(ValueError, match=r"allowed avg@n or pass@k with 1 <= k <= n = 4"):
        per_problem(out, "pass@5")


def test_a_missing_or_repeated_sample_is_an_error_naming_the_problem(tmp_path):
    path = tmp_path / "bad.generations.jsonl"
    write_jsonl(path, [{"id": "a", "sample": 0, "correct": 1}, {"id": "a", "sample": 1, "correct": 0},
                       {"id": "b", "sample": 0, "correct": 1}])
    with pytest.raises(ValueError, match=r"problem 'b' has samples \[0\], expected 0..1"):
        load_outcomes(path)
    write_jsonl(path, [{"id": "a", "sample": 0, "correct": 1}, {"id": "a", "sample": 0, "correct": 0}])
    with pytest.raises(ValueError, match=r"problem 'a' has sample 0 twice"):
        load_outcomes(path)


def test_a_level_and_its_benchmark_share_problems_with_summed_weights(tmp_path):
    # 4 problems, levels 1, 1, 2, 2; the column averages "arith@2" and "arith" (a tiny mirror's Average)
    correct = {0: [[1, 1], [0, 0], [1, 0], [0, 0]], 1: [[1, 1], [1, 0], [1, 1], [0, 0]]}
    paths = [write_cell(tmp_path, "a", s, c, levels=[1, 1, 2, 2]) for s, c in correct.items()]
    p = panel(generation_paths(paths), "m", "a", [0, 1], [("arith", "2"), ("arith", "all")], "avg@2")
    assert p.units == ("arith/q2", "arith/q3", "arith/q0", "arith/q1")
    # level 2: 1/2 x 1/2 + 1/2 x 1/4; level 1: 1/2 x 1/4; two strata (in both items / in one)
    assert p.weights == pytest.approx([3 / 8, 3 / 8, 1 / 8, 1 / 8]) and p.strata.tolist() == [0, 0, 1, 1]
    # seed 0: level 2 mean 25, all 37.5 -> 31.25; seed 1: level 2 mean 50, all 62.5 -> 56.25
    assert p.per_seed() == pytest.approx([31.25, 56.25])
    assert p.samples.shape == (2, 4, 2)


def test_seeds_evaluated_on_other_problems_are_an_error(tmp_path):
    paths = [write_cell(tmp_path, "a", 0, [[1], [0]]), write_cell(tmp_path, "a", 1, [[1], [0]], ids=["q0", "x"])]
    with pytest.raises(ValueError, match="seed 1 was evaluated on other problems than seed 0"):
        panel(generation_paths(paths), "m", "a", [0, 1], [("arith", "all")], "avg@1")
    with pytest.raises(ValueError, match="no generations of m / b / seed 0 / arith"):
        panel(generation_paths(paths), "m", "b", [0], [("arith", "all")], "avg@1")
