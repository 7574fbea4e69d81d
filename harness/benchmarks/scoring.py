"""Scoring responses against records: one scorer per task, chosen by the record's `task`. Each
gives a strict and a flexible verdict per response, as lm-eval's strict-match and
flexible-extract filters do; the strict one is the score of the papers' tables, claims and
training rewards, the flexible one is reported beside it.

  math:   the answer (harness.answers: strict, the last box; flexible, else the stated answer),
          checked by math-verify against the gold (harness.rewards)
  choice: the answer letter equals the correct one (harness.benchmarks.choice: strict, an
          explicit final answer statement; flexible, also a standalone "X) option text" line,
          a sole "(X)", or an option's own text)
  code:   the problem's tests accept what the completion's code returned (harness.codejudge:
          the code runs in the sandbox, the tests outside it); one reading, so both verdicts
          are the same
  countdown: the last box's expression uses the given numbers once each and equals the target
          (harness.data.countdown); one reading

Every scorer takes the same arguments; `sandbox` is the isolation generated code runs under
(harness.sandbox), refused with an error where it is unavailable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from harness.answers import final_answer, last_boxed
from harness.benchmarks.choice import extract_letter, flexible_letter
from harness.codejudge import judge
from harness.data.countdown import check as countdown_check
from harness.rewards import math_rewards
from harness.sandbox import STRICTEST, Isolation, Limits


@dataclass(frozen=True)
class Verdict:
    """1.0 / 0.0 for one response by the strict and the flexible reading."""

    correct: float
    flexible: float


def _one_reading(values: list[float]) -> list[Verdict]:
    return [Verdict(v, v) for v in values]


def score_math(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[Verdict]:
    golds = [r["answer"] for r in records]
    strict = math_rewards(responses, golds, timeout)
    flexible = math_rewards(responses, golds, timeout, extract=final_answer)  # memoised: shared answers are free
    return [Verdict(s, f) for s, f in zip(strict, flexible)]


def score_choice(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[Verdict]:
    return [
        Verdict(float(extract_letter(text, len(r["options"])) == r["answer"]), float(flexible_letter(text, r["options"]) == r["answer"]))
        for r, text in zip(records, responses)
    ]


def score_code(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[Verdict]:
    return _one_reading([float(verdict.passed) for verdict in judge(records, responses, Limits(timeout_s=timeout), sandbox)])


def score_countdown(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[Verdict]:
    """Exact rational arithmetic on at most 40 characters: no timeout needed."""
    return _one_reading(
        [float(countdown_check(last_boxed(text) or "", r["numbers"], int(r["answer"]))) for r, text in zip(records, responses)]
    )


SCORERS: dict[str, Callable[[list[dict], list[str], float, Isolation], list[Verdict]]] = {
    "math": score_math,
    "choice": score_choice,
    "code": score_code,
    "countdown": score_countdown,
}


def verdicts(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation = STRICTEST) -> list[Verdict]:
    """Both verdicts per (record, response) pair, each scored by its record's task; records of
    several tasks may be mixed, each task's scorer sees its pairs in one batch."""
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_task[record["task"]].append(i)
    out: list[Verdict] = [Verdict(0.0, 0.0)] * len(records)
    for task, rows in by_task.items():
        if task not in SCORERS:
            raise ValueError(f"record task {task!r} has no scorer; allowed: {sorted(SCORERS)}")
        for i, verdict in zip(rows, SCORERS[task]([records[i] for i in rows], [responses[i] for i in rows], timeout, sandbox)):
            out[i] = verdict
    return out


def score(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation = STRICTEST) -> list[float]:
    """The strict verdict, 1.0 / 0.0, per (record, response) pair: training rewards and lm-eval's
    own aggregate."""
    return [v.correct for v in verdicts(records, responses, timeout, sandbox)]
