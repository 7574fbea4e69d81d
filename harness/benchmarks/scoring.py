"""Scoring responses against records: one scorer per task, chosen by the record's `task`.

  math:   the last \\boxed{} answer, checked by math-verify against the gold (harness.rewards)
  choice: the answer letter (harness.benchmarks.choice) equals the correct one
  code:   the problem's tests accept what the completion's code returned (harness.codejudge:
          the code runs in the sandbox, the tests outside it)
  countdown: the last \\boxed{} expression uses the given numbers once each and equals the target
          (harness.data.countdown)

Every scorer takes the same arguments; `sandbox` is the isolation generated code runs under
(harness.sandbox), refused with an error where it is unavailable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from harness.benchmarks.choice import extract_letter
from harness.codejudge import judge
from harness.data.countdown import check as countdown_check
from harness.rewards import last_boxed, math_rewards
from harness.sandbox import STRICTEST, Isolation, Limits


def score_math(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[float]:
    return math_rewards(responses, [r["answer"] for r in records], timeout)


def score_choice(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[float]:
    return [float(extract_letter(text, len(r["options"])) == r["answer"]) for r, text in zip(records, responses)]


def score_code(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[float]:
    return [float(verdict.passed) for verdict in judge(records, responses, Limits(timeout_s=timeout), sandbox)]


def score_countdown(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation) -> list[float]:
    """Exact rational arithmetic on at most 40 characters: no timeout needed."""
    return [float(countdown_check(last_boxed(text) or "", r["numbers"], int(r["answer"]))) for r, text in zip(records, responses)]


SCORERS: dict[str, Callable[[list[dict], list[str], float, Isolation], list[float]]] = {
    "math": score_math,
    "choice": score_choice,
    "code": score_code,
    "countdown": score_countdown,
}


def score(records: list[dict], responses: list[str], timeout: float, sandbox: Isolation = STRICTEST) -> list[float]:
    """1.0 / 0.0 per (record, response) pair, each scored by its record's task; records of
    several tasks may be mixed, each task's scorer sees its pairs in one batch."""
    by_task: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_task[record["task"]].append(i)
    scores = [0.0] * len(records)
    for task, rows in by_task.items():
        if task not in SCORERS:
            raise ValueError(f"record task {task!r} has no scorer; allowed: {sorted(SCORERS)}")
        for i, value in zip(rows, SCORERS[task]([records[i] for i in rows], [responses[i] for i in rows], timeout, sandbox)):
            scores[i] = value
    return scores
