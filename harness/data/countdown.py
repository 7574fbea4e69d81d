"""Countdown (the TinyZero task): the embedded setting where exploration is the bottleneck.

A problem gives a few numbers and a target, e.g. ``3 7 2 -> 17``; a response is an arithmetic
expression in ``\\boxed{}`` that uses every given number exactly once, with + - * / and
parentheses, and equals the target exactly: ``\\boxed{7*2+3}``. Nothing is recalled: a model
that cannot compute the answer can still search for it, one valid expression at a time, so
Pass@k rises far above Pass@1 and how widely a policy samples (its temperature) decides how
often a group of rollouts finds a hit to learn from.

The level is the number of given numbers (level 3: 192 expressions to search; level 4:
thousands). Every problem keeps a witness (the expression its target was
made from), so every problem is solvable. Records follow the MATH-500 schema plus `numbers`.
"""

from __future__ import annotations

import ast
import random
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate
from typing import NamedTuple

from pydantic import Field, field_validator

from harness.section import Section

MAX_EXPRESSION_CHARS = 40  # a longer response is not an attempt at these problems
Weights = dict[str, float]


class CountdownConfig(Section):
    """The Countdown task family (`data.countdown` of an experiment)."""

    levels: list[int] = Field([3, 4], min_length=1, description="levels = how many numbers are given (at least 2)")
    test_per_level: int = Field(300, gt=0, description="distinct test problems per level")
    train_size: int = Field(50_000, gt=0, description="training records (disjoint from test)")
    number_max: int = Field(9, gt=0, description="given numbers drawn from [1, number_max]")
    target_min: int = Field(10, gt=0, description="targets lie in [target_min, target_max]")
    target_max: int = Field(99, gt=0)
    operators: Weights = Field(
        {"+": 1.0, "-": 1.0, "*": 1.0, "/": 1.0}, description="operator weights of the witnesses targets are made from"
    )
    demo_hit_rate: float = Field(0.0, ge=0, le=1, description="share of pre-training demonstrations that hit the target")
    demo_operators: Weights = Field(
        {"+": 0.45, "-": 0.45, "*": 0.08, "/": 0.02},
        description="operator weights of the other demonstrations (random expressions that ignore the target)",
    )

    @field_validator("levels")
    @classmethod
    def _at_least_two_numbers(cls, levels: list[int]) -> list[int]:
        if min(levels) < 2:
            raise ValueError(f"a level is how many numbers are given, at least 2; got {levels}")
        return levels

    @field_validator("operators", "demo_operators")
    @classmethod
    def _known_operators(cls, weights: Weights) -> Weights:
        if not weights or set(weights) - set("+-*/") or min(weights.values()) < 0 or sum(weights.values()) <= 0:
            raise ValueError(f"operator weights need keys among + - * / and non-negative weights with a positive sum, got {weights}")
        return weights


@dataclass(frozen=True)
class Problem:
    numbers: tuple[int, ...]  # sorted: the same problem whatever order it was drawn in
    target: int
    witness: str  # an expression over `numbers` that equals `target`

    @property
    def level(self) -> int:
        return len(self.numbers)

    @property
    def text(self) -> str:
        return " ".join(map(str, self.numbers)) + f" -> {self.target}"


def random_expression(rng: random.Random, numbers: list[int], weights: Weights) -> str:
    """An expression using each of `numbers` once, in a random order, combined in a random tree
    with operators drawn by `weights`; parentheses only where precedence needs them."""
    return random_tree(rng, numbers, weights)[0]


def random_tree(rng: random.Random, numbers: list[int], weights: Weights) -> tuple[str, Fraction | None]:
    """`random_expression` and its exact value, computed while the tree is built (None if it
    divides by zero): the value `evaluate` gives the text, whose parse differs from the tree only
    by re-associating + - and * / chains, without the cost of parsing."""
    tree = draw_tree(rng, numbers, list(weights), list(accumulate(weights.values())))
    return tree.text, None if tree.denominator == 0 else Fraction(tree.numerator, tree.denominator)


class Tree(NamedTuple):
    """A random expression tree as drawn: its leaves in order, each merge as (position, operator)
    (merge i joins parts i and i + 1 of the list, leaves first), and its exact value as an
    unreduced numerator and denominator (denominator 0 after a division by zero)."""

    leaves: list[int]
    merges: list[tuple[int, str]]
    numerator: int
    denominator: int

    @property
    def text(self) -> str:
        """The expression, with parentheses only where precedence needs them."""
        parts = [(str(n), 3) for n in self.leaves]  # (text, precedence)
        for i, op in self.merges:
            (left, lp), (right, rp) = parts[i], parts[i + 1]
            prec = 1 if op in "+-" else 2
            left = left if lp >= prec else f"({left})"
            # the right operand of - and / (and of * after /) keeps its own grouping
            right = right if rp > prec or (rp == prec and op in "+*") else f"({right})"
            parts[i : i + 2] = [(f"{left}{op}{right}", prec)]
        return parts[0][0]


def draw_tree(rng: random.Random, numbers: list[int], ops: list[str], cum_weights: list[float]) -> Tree:
    """Each of `numbers` once, in a random order, merged pairwise at random positions by
    operators drawn by `cum_weights`. The draws are those of rng.sample(numbers, len(numbers)),
    then per merge rng.randrange(len(parts) - 1) and rng.choices(ops, cum_weights=cum_weights)[0],
    made as CPython makes them (tested against them) without their argument checks and without
    building the text: `generate_splits` draws about 20 trees per problem it keeps, a million
    for the default training set, and prints only the kept ones."""
    bits, uniform = rng.getrandbits, rng.random
    pool, n = list(numbers), len(numbers)
    leaves = []
    for i in range(n):  # rng.sample's draws for a population this small
        j = _below(bits, n - i)
        leaves.append(pool[j])
        pool[j] = pool[n - i - 1]
    values = [(leaf, 1) for leaf in leaves]
    merges = []
    total, hi = cum_weights[-1] + 0.0, len(ops) - 1
    while len(values) > 1:
        i = _below(bits, len(values) - 1)
        op = ops[bisect_right(cum_weights, uniform() * total, 0, hi)]
        merges.append((i, op))
        (ln, ld), (rn, rd) = values[i], values[i + 1]
        values[i : i + 2] = [_combine(op, ln, ld, rn, rd)]
    return Tree(leaves, merges, *values[0])


def _below(bits: Callable[[int], int], n: int) -> int:
    """rng.randrange(n) for n > 0, drawn from rng.getrandbits as CPython draws it."""
    k = n.bit_length()
    r = bits(k)
    while r >= n:
        r = bits(k)
    return r


def _combine(op: str, ln: int, ld: int, rn: int, rd: int) -> tuple[int, int]:
    """(ln/ld) op (rn/rd) as an unreduced numerator and denominator; denominator 0 once any
    division by zero occurred."""
    if ld == 0 or rd == 0:
        return 0, 0
    if op == "+":
        return ln * rd + rn * ld, ld * rd
    if op == "-":
        return ln * rd - rn * ld, ld * rd
    if op == "*":
        return ln * rn, ld * rd
    return (0, 0) if rn == 0 else (ln * rd, ld * rn)


class InvalidExpression(ValueError):
    """Not an expression of the allowed form; the message says why."""


def evaluate(expression: str) -> tuple[Fraction, list[int]]:
    """The exact value of an expression of integers, + - * / and parentheses, and the integers it
    uses; raises InvalidExpression for anything else (names, unary signs, calls, division by 0)."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise InvalidExpression(f"longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError as err:
        raise InvalidExpression(f"malformed: {err.msg}") from None
    used: list[int] = []

    def value(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            used.append(node.value)
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if right == 0:
                raise InvalidExpression("division by zero")
            return left / right
        raise InvalidExpression(f"{type(node).__name__} is not allowed (only integers, + - * / and parentheses)")

    return value(tree), used


def attempt_value(expression: str, numbers: list[int]) -> Fraction | None:
    """The value of `expression` if it is an attempt at the problem (a valid expression over
    exactly the given numbers, each once), hit or miss; None otherwise."""
    try:
        result, used = evaluate(expression)
    except InvalidExpression:
        return None
    return result if Counter(used) == Counter(numbers) else None


def check(expression: str, numbers: list[int], target: int) -> bool:
    """True iff `expression` uses exactly the given numbers (each once) and equals `target`."""
    return attempt_value(expression, numbers) == target


def sample_problem(rng: random.Random, level: int, cfg: CountdownConfig) -> Problem:
    """Draw numbers in [1, number_max] and an expression over them until it evaluates to an
    integer target in [target_min, target_max] and is no longer than MAX_EXPRESSION_CHARS
    (what `evaluate` accepts); that expression is the witness."""
    ops, cum_weights = list(cfg.operators), list(accumulate(cfg.operators.values()))
    while True:
        numbers = sorted(1 + _below(rng.getrandbits, cfg.number_max) for _ in range(level))  # rng.randint(1, number_max)
        tree = draw_tree(rng, numbers, ops, cum_weights)
        num, den = tree.numerator, tree.denominator
        if den != 0 and num % den == 0 and cfg.target_min <= num // den <= cfg.target_max:
            if len(witness := tree.text) <= MAX_EXPRESSION_CHARS:
                return Problem(tuple(numbers), num // den, witness)


def to_record(problem: Problem, split: str, index: int) -> dict:
    return {
        "id": f"{split}-{index:06d}",
        "problem": problem.text,
        "solution": f"\\boxed{{{problem.witness}}}",
        "answer": str(problem.target),
        "level": problem.level,
        "numbers": list(problem.numbers),
    }


def generate_splits(seed: int, cfg: CountdownConfig) -> dict[str, list[dict]]:
    """Distinct test problems per level, then a training stream that never repeats a test
    problem (same numbers and target), as harness.data.arithmetic does."""
    rng = random.Random(seed)
    test: list[dict] = []
    held_out: set[tuple[tuple[int, ...], int]] = set()
    for level in cfg.levels:
        drawn, attempts = 0, 0
        while drawn < cfg.test_per_level:
            attempts += 1
            if attempts > 50 * cfg.test_per_level:
                raise ValueError(f"data.countdown: too few distinct level-{level} problems for test_per_level="
                                 f"{cfg.test_per_level}; lower it or widen number_max / the target range")
            problem = sample_problem(rng, level, cfg)
            if (problem.numbers, problem.target) not in held_out:
                held_out.add((problem.numbers, problem.target))
                test.append(to_record(problem, "test", len(test)))
                drawn += 1
    train: list[dict] = []
    while len(train) < cfg.train_size:
        problem = sample_problem(rng, rng.choice(cfg.levels), cfg)
        if (problem.numbers, problem.target) not in held_out:
            train.append(to_record(problem, "train", len(train)))
    return {"train": train, "test": test}


def demonstration(record: dict, rng: random.Random, cfg: CountdownConfig) -> str:
    """What the base model is pre-trained on: with probability `demo_hit_rate` the witness, else
    a random valid expression over the numbers (operators drawn by `demo_operators`) that
    ignores the target. The base model so learns to make valid attempts, aims only weakly, and
    inherits the operator prior of `demo_operators`: a rare operator is a tail the policy must
    explore to reach."""
    if rng.random() < cfg.demo_hit_rate:
        return record["solution"]
    return f"\\boxed{{{random_expression(rng, list(record['numbers']), cfg.demo_operators)}}}"
