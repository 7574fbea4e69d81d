"""Synthetic verifiable math tasks for the embedded tiny setting.

A problem is a chain of single-digit additions and subtractions, e.g. ``7+5-3+9=?``; its worked
solution keeps a running value, ``7+5=12 12-3=9 9+9=18 \\boxed{18}``. The level (1-5, like MATH's
L1-L5) is the number of operations, so a model with per-step accuracy p solves level L with
probability about p^L: easy levels are nearly solved after pre-training while hard levels keep
Pass@8 well above Pass@1, which is where exploration during RL can matter.

Records follow the MATH-500 schema (id, problem, solution, answer, level) so that the same
loaders, prompts and scorers serve the tiny and the real benchmarks.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from harness.section import Section

MAX_VALUE = 99  # running values stay in [0, MAX_VALUE]


class ArithConfig(Section):
    """The arithmetic task family (`data.arith` of an experiment)."""

    levels: list[Annotated[int, Field(ge=1)]] = Field(
        [1, 2, 3, 4, 5], min_length=1, description="difficulty levels = operations per problem"
    )
    test_per_level: int = Field(300, gt=0, description="distinct test problems per level")
    train_size: int = Field(50_000, gt=0, description="training records (disjoint from test)")
    first_max: int = Field(50, description="first term drawn from [1, first_max]")
    term_max: int = Field(9, description="other terms drawn from [0, term_max] (at most 49)")
    direct_rate: float = Field(
        0.6, ge=0, le=1, description="share of pre-training demonstrations that state only the final answer"
    )
    direct_answer: Literal["answer", "guess"] = Field(
        "answer", description="what a direct demonstration states: the answer, or a guess (a random value, never the answer)"
    )


@dataclass(frozen=True)
class Problem:
    terms: tuple[int, ...]
    ops: tuple[str, ...]  # len(ops) == len(terms) - 1 == level

    @property
    def level(self) -> int:
        return len(self.ops)

    @property
    def text(self) -> str:
        expr = str(self.terms[0]) + "".join(op + str(t) for op, t in zip(self.ops, self.terms[1:]))
        return f"{expr}=?"

    def steps(self) -> list[tuple[int, str, int, int]]:
        """(left, op, right, result) for each operation, in order."""
        value, out = self.terms[0], []
        for op, term in zip(self.ops, self.terms[1:]):
            result = value + term if op == "+" else value - term
            out.append((value, op, term, result))
            value = result
        return out

    @property
    def answer(self) -> int:
        return self.steps()[-1][3]

    @property
    def solution(self) -> str:
        work = " ".join(f"{a}{op}{b}={c}" for a, op, b, c in self.steps())
        return f"{work} \\boxed{{{self.answer}}}"


def sample_problem(rng: random.Random, level: int, first_max: int, term_max: int) -> Problem:
    """One problem with `level` operations; the first term is in [1, first_max], the others in
    [0, term_max], and an operation is flipped when it would leave [0, MAX_VALUE]."""
    terms, ops = [rng.randint(1, first_max)], []
    value = terms[0]
    for _ in range(level):
        term = rng.randint(0, term_max)
        op = rng.choice("+-")
        if (op == "-" and value - term < 0) or (op == "+" and value + term > MAX_VALUE):
            op = "+" if op == "-" else "-"
        value = value + term if op == "+" else value - term
        terms.append(term)
        ops.append(op)
    return Problem(tuple(terms), tuple(ops))


def to_record(problem: Problem, split: str, index: int) -> dict:
    return {
        "id": f"{split}-{index:06d}",
        "problem": problem.text,
        "solution": problem.solution,
        "answer": str(problem.answer),
        "level": problem.level,
    }


def generate_splits(seed: int, cfg: ArithConfig) -> dict[str, list[dict]]:
    """A test split of distinct problems per level and a disjoint i.i.d. training stream.

    Test problems are drawn first and never appear in train, so the test set measures
    generalisation to unseen problems; train draws a level uniformly for every record.
    """
    levels, test_per_level, train_size = cfg.levels, cfg.test_per_level, cfg.train_size
    first_max, term_max = cfg.first_max, cfg.term_max
    if not 1 <= first_max <= MAX_VALUE or not 0 <= term_max <= MAX_VALUE // 2:
        # a term above 49 could make both + and - leave [0, 99]
        raise ValueError(
            f"data.arith.first_max must be in [1, {MAX_VALUE}] and data.arith.term_max in [0, {MAX_VALUE // 2}], "
            f"got {first_max} and {term_max}"
        )
    rng = random.Random(seed)
    test: list[dict] = []
    held_out: set[Problem] = set()
    for level in levels:
        n_possible = first_max * (2 * (term_max + 1)) ** level
        if test_per_level > n_possible // 2:
            raise ValueError(
                f"data.arith.test_per_level={test_per_level} is too large for level {level}: only about "
                f"{n_possible} distinct problems exist; lower it or raise data.arith.first_max"
            )
        drawn = 0
        while drawn < test_per_level:
            problem = sample_problem(rng, level, first_max, term_max)
            if problem not in held_out:
                held_out.add(problem)
                test.append(to_record(problem, "test", len(test)))
                drawn += 1
    train: list[dict] = []
    while len(train) < train_size:
        problem = sample_problem(rng, rng.choice(levels), first_max, term_max)
        if problem not in held_out:
            train.append(to_record(problem, "train", len(train)))
    return {"train": train, "test": test}


def parse_problem(text: str) -> Problem:
    """Inverse of `Problem.text`: '7+5-3=?' -> Problem((7, 5, 3), ('+', '-'))."""
    parts = re.findall(r"[+-]|\d+", text.removesuffix("=?"))
    return Problem(tuple(int(p) for p in parts[0::2]), tuple(parts[1::2]))


def demonstration(record: dict, rng: random.Random, cfg: ArithConfig) -> str:
    """The solution a base model is pre-trained on: the worked chain, or with probability
    `direct_rate` only the final answer. A tiny model answers short problems well either way
    but long ones only by working them out, so the base model's choice of style is a global,
    learnable decision that RL can improve, most on the hardest levels.

    With `direct_answer: guess` a direct demonstration states a random value in [0, MAX_VALUE]
    other than the answer: answering without working is then right by chance only, so the base
    model's skill is set by how often it works a problem out (direct_rate, a property of the data)
    and how well, not by how much arithmetic a tiny model happens to do in its head (which varies
    with its pre-training seed: README, Reproducibility)."""
    if rng.random() < cfg.direct_rate:
        answer = int(record["answer"])
        if cfg.direct_answer == "guess":
            answer = rng.choice([g for g in range(MAX_VALUE + 1) if g != answer])
        return f"\\boxed{{{answer}}}"
    return record["solution"]
