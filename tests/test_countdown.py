"""The Countdown task family (harness/data/countdown.py): generator, verifier, demonstrations."""

import random
from collections import Counter
from fractions import Fraction

import pytest
from pydantic import ValidationError

from harness.benchmarks.scoring import score
from harness.data.countdown import (
    MAX_EXPRESSION_CHARS,
    CountdownConfig,
    InvalidExpression,
    Problem,
    check,
    demonstration,
    draw_tree,
    evaluate,
    generate_splits,
    random_expression,
    random_tree,
    sample_problem,
)

CFG = CountdownConfig(levels=[3, 4], test_per_level=40, train_size=400)


@pytest.fixture(scope="module")
def splits():
    return generate_splits(0, CFG)


def test_splits_are_deterministic_levelled_disjoint_and_solvable(splits):
    assert generate_splits(0, CFG) == splits
    assert generate_splits(1, CFG) != splits
    test, train = splits["test"], splits["train"]
    assert Counter(r["level"] for r in test) == {3: 40, 4: 40}
    assert len(train) == 400 and {r["level"] for r in train} == {3, 4}
    key = lambda r: (tuple(r["numbers"]), r["answer"])  # noqa: E731
    assert len({key(r) for r in test}) == len(test)  # distinct test problems
    assert not {key(r) for r in test} & {key(r) for r in train}
    for r in test + train:
        assert len(r["numbers"]) == r["level"] and all(1 <= n <= CFG.number_max for n in r["numbers"])
        assert CFG.target_min <= int(r["answer"]) <= CFG.target_max
        assert r["problem"] == " ".join(map(str, r["numbers"])) + f" -> {r['answer']}"
        witness = r["solution"].removeprefix("\\boxed{").removesuffix("}")
        assert check(witness, r["numbers"], int(r["answer"]))  # every problem keeps a witness


def test_verifier_by_hand():
    assert evaluate("7*2+3") == (Fraction(17), [7, 2, 3])
    assert evaluate("(1+2)/4") == (Fraction(3, 4), [1, 2, 4])
    assert check("7*2+3", [2, 3, 7], 17) and check("3+(7*2)", [7, 3, 2], 17)
    assert check("8/(3-8/3)", [3, 3, 8, 8], 24)  # exact fractions: 8 / (1/3)


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("7*2+3+3", "a number used twice"),
        ("7*2+4", "a number not given"),
        ("7*2", "a number left out"),
        ("7*3-2", "wrong result"),
        ("7/(3-3)+2", "division by zero"),
        ("7*2+", "malformed"),
        ("-7+2+3", "unary sign"),
        ("x+1", "a name"),
        ("7**2", "another operator"),
        ("(7*2+3)" + " " * MAX_EXPRESSION_CHARS, "longer than the limit"),
    ],
)
def test_verifier_rejects_near_misses(expression, why):
    numbers, target = [2, 3, 7], 17
    if why == "division by zero":
        numbers, target = [2, 3, 3, 7], 17
    assert not check(expression, numbers, target), why


def test_invalid_expressions_say_why():
    with pytest.raises(InvalidExpression, match="division by zero"):
        evaluate("1/(2-2)")
    with pytest.raises(InvalidExpression, match="longer than"):
        evaluate("1+" * 30 + "1")


def test_random_expressions_use_every_number_once_and_follow_the_operator_weights():
    rng = random.Random(0)
    only_plus = [random_expression(rng, [1, 5, 9], {"+": 1.0}) for _ in range(50)]
    assert all(check(e, [1, 5, 9], 15) for e in only_plus)
    mixed = [random_expression(rng, [2, 3, 4, 6], {"+": 0.5, "*": 0.5}) for _ in range(400)]
    assert all(sorted(evaluate(e)[1]) == [2, 3, 4, 6] for e in mixed)
    ops = Counter(c for e in mixed for c in e if c in "+-*/")
    assert set(ops) == {"+", "*"} and abs(ops["+"] / sum(ops.values()) - 0.5) < 0.05


def test_the_value_built_with_the_tree_is_the_value_of_its_text():
    """random_tree's value (computed while building) equals `evaluate` of the text it prints,
    division by zero included: the generator skips parsing on that equality."""
    rng = random.Random(0)
    weights = {"+": 1.0, "-": 1.0, "*": 1.0, "/": 1.0}
    seen_zero_division = 0
    for _ in range(3000):
        numbers = [rng.randint(1, 4) for _ in range(rng.randint(2, 6))]
        text, value = random_tree(rng, numbers, weights)
        try:
            assert value == evaluate(text)[0], text
        except InvalidExpression:
            assert value is None, text
            seen_zero_division += 1
    assert seen_zero_division > 10  # e.g. 3/(2-2): the case is exercised
    assert random_tree(random.Random(1), [5, 5, 2], {"/": 1.0, "-": 1.0})[0] == random_expression(random.Random(1), [5, 5, 2], {"/": 1.0, "-": 1.0})


def test_trees_and_problems_take_the_draws_of_the_random_module_calls_they_replace():
    """draw_tree and sample_problem draw as rng.sample, rng.randrange, rng.choices and
    rng.randint would (the datasets' bytes depend on it): the same trees and problems, and the
    generator left in the same state, against those calls made here."""
    weights = {"+": 0.43, "-": 0.43, "*": 0.12, "/": 0.02}
    ops, cum = list(weights), [0.43, 0.86, 0.98, 1.0]
    ours, theirs = random.Random(7), random.Random(7)
    for level in [2, 3, 4, 5, 6] * 400:
        numbers = [theirs.randint(1, 9) for _ in range(level)]
        assert [ours.randint(1, 9) for _ in range(level)] == numbers
        leaves = theirs.sample(numbers, len(numbers))
        merges = []
        while len(merges) < level - 1:
            merges.append((theirs.randrange(level - 1 - len(merges)), theirs.choices(ops, cum_weights=cum)[0]))
        assert draw_tree(ours, numbers, ops, cum)[:2] == (leaves, merges)
    assert ours.getstate() == theirs.getstate()

    cfg = CountdownConfig(target_min=37)
    ours, theirs = random.Random(3), random.Random(3)
    for level in [3, 4] * 100:
        while True:  # sample_problem with the random module's calls (the trees' draws are checked above)
            numbers = sorted(theirs.randint(1, cfg.number_max) for _ in range(level))
            text, value = random_tree(theirs, numbers, cfg.operators)
            if value is not None and len(text) <= MAX_EXPRESSION_CHARS and value.denominator == 1 and 37 <= value <= 99:
                break
        assert sample_problem(ours, level, cfg) == Problem(tuple(numbers), int(value), text)
    assert ours.getstate() == theirs.getstate()


def test_demonstrations_mix_witnesses_and_target_blind_attempts(splits):
    record = splits["train"][0]
    cfg = CFG.model_copy(update={"demo_hit_rate": 0.3})
    rng = random.Random(0)
    demos = [demonstration(record, rng, cfg) for _ in range(2000)]
    assert demos.count(record["solution"]) / 2000 == pytest.approx(0.3, abs=0.04)  # witnesses (and chance repeats)
    assert all(sorted(evaluate(d[len("\\boxed{"):-1])[1]) == sorted(record["numbers"]) for d in demos)


def test_config_rejects_bad_levels_and_operators():
    with pytest.raises(ValidationError, match="at least 2"):
        CountdownConfig(levels=[1, 3])
    with pytest.raises(ValidationError, match="operator weights"):
        CountdownConfig(demo_operators={"^": 1.0})


def test_the_scorer_reads_the_last_box():
    records = [{"task": "countdown", "numbers": [2, 3, 7], "answer": "17"}] * 3
    assert score(records, ["\\boxed{7*2+3}", "7*2+3", "\\boxed{2+3} \\boxed{7*2+3}"], 1.0) == [1.0, 0.0, 1.0]
