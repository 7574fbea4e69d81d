"""Verifiable math reward: the last ``\\boxed{...}`` of a response checked against the gold
answer with math-verify (gold first), under a hard timeout.

math-verify's timeouts use signal.alarm, which only works in a process's main thread. So the
checks run in a pebble worker process, in its main thread, where math-verify's own per-answer
timeouts work; pebble additionally kills the worker if a whole batch overruns, after which the
batch is re-checked one answer per task so that only the culprit scores 0. Whatever thread or
process the caller runs in, a pathological expression costs one answer, never the caller.
Results are memoised on (gold, answer): repeated answers, the common case in RL, are free;
pairs of integer literals are compared by value without a round trip to the worker.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import re
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

_pool: ProcessPool | None = None
_cache: dict[tuple[str, str], bool] = {}


# A box as LaTeX renders one: \\boxed or \\fbox, then either a braced group (spaces allowed
# before it) or, without braces, the next run of non-space characters (MATH's own reading).
_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])\s*")
_BARE_BOX = re.compile(r"[^\s$]+")


def last_boxed(text: str) -> str | None:
    """Content of the last box in `text`: ``\\boxed{...}`` with balanced braces, ``\\boxed {x}``,
    ``\\fbox{x}``, or ``\\boxed 5`` (the run of non-space characters, closing punctuation
    dropped); None without a box or when the last one is cut off before its closing brace."""
    boxes = list(_BOX.finditer(text))
    if not boxes:
        return None
    rest = text[boxes[-1].end():]
    if not rest.startswith("{"):
        bare = _BARE_BOX.match(rest)
        return bare.group().rstrip(".,;:") if bare else None
    depth = 0
    for end, char in enumerate(rest):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return rest[1:end]
    return None


# "The final answer is $x$", "Answer: 12", "answer = \\frac{1}{2}": an explicit statement, then a
# math span or a bare expression up to the end of the sentence.
_STATEMENT = re.compile(r"\banswer\b(?:\s+(?:is|would\s+be|will\s+be|should\s+be))?\s*[:=]?\s*", re.IGNORECASE)
_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_EXPRESSION = re.compile(r"[-+(\[{\\\d][^\n]*?(?=\.\s|\.?$|,\s|;|\s+[A-Za-z]{2,}\b)", re.MULTILINE)


def stated_answer(text: str) -> str | None:
    """The answer of the last explicit final-answer statement without a box ("the final answer
    is $x$", "Answer: 12"), or None: a math span or an expression starting with a digit, sign,
    bracket or LaTeX command, up to the end of its sentence or the next word ("12 apples" is
    12). Numbers that are not stated as the
    answer (the last line of an unfinished derivation) are never read."""
    for statement in reversed(list(_STATEMENT.finditer(text))):
        rest = text[statement.end():]
        span = _SPAN.match(rest)
        if span:
            return next(g for g in span.groups() if g is not None).strip()
        expression = _EXPRESSION.match(rest)
        if expression:
            return expression.group().strip()
    return None


def final_answer(text: str) -> str | None:
    """The flexible reading of a math reply: the last box, else the stated answer."""
    boxed = last_boxed(text)
    return boxed if boxed is not None else stated_answer(text)


def _verify_batch(pairs: list[tuple[str, str]], timeout: float) -> list[bool]:
    """Runs in the worker's main thread: math-verify with its own timeouts."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    seconds = max(1, round(timeout))
    return [
        bool(
            verify(
                parse(f"${gold}$", parsing_timeout=seconds),
                parse(f"\\boxed{{{answer}}}", parsing_timeout=seconds),
                timeout_seconds=seconds,
            )
        )
        for gold, answer in pairs
    ]


def _stop(pool: ProcessPool) -> None:
    pool.stop()
    pool.join(timeout=10)


def _pool_instance() -> ProcessPool:
    global _pool
    if _pool is None or not _pool.active:
        _pool = ProcessPool(max_workers=1)
        # Stopped at exit, before multiprocessing joins child processes: a process started by
        # multiprocessing (e.g. a training rank) runs no atexit hooks and would wait for the
        # worker forever.
        multiprocessing.util.Finalize(_pool, _stop, args=(_pool,), exitpriority=10)
    return _pool


def _run(pairs: list[tuple[str, str]], timeout: float) -> list[bool] | None:
    """Check `pairs` in the worker; None if the worker overran or died."""
    budget = 3 * timeout * len(pairs) + 30  # parse gold + parse answer + verify, plus start-up
    future = _pool_instance().schedule(_verify_batch, args=(pairs, timeout), timeout=budget)
    try:
        return future.result()
    except (FutureTimeout, ProcessExpired):
        return None


INTEGER = re.compile(r"-?\d+")


def _integer_verdict(gold: str, answer: str) -> bool | None:
    """Two integer literals are equivalent iff their values are equal: decided here without
    math-verify (which would agree); None for anything else."""
    if INTEGER.fullmatch(gold) and INTEGER.fullmatch(answer):
        return int(gold) == int(answer)
    return None


def verify_answers(pairs: list[tuple[str, str]], timeout: float = 5.0) -> list[bool]:
    """math-verify each (gold, answer) pair, memoised; an answer that cannot be checked in
    time counts as wrong (as math-verify itself returns False on timeout)."""
    for pair in pairs:
        if pair not in _cache and (verdict := _integer_verdict(*pair)) is not None:
            _cache[pair] = verdict
    todo = sorted({p for p in pairs if p not in _cache})
    if todo:
        results = _run(todo, timeout)
        if results is None:  # isolate the answer that hung or crashed the worker
            results = [bool((_run([p], timeout) or [False])[0]) for p in todo]
        _cache.update(zip(todo, results))
    return [_cache[p] for p in pairs]


def math_rewards(
    responses: list[str], golds: list[str], timeout: float = 5.0, extract: Callable[[str], str | None] = last_boxed
) -> list[float]:
    """1.0 where the response's answer (by default its last box; `final_answer` for the
    flexible reading) is equivalent to the gold answer, else 0.0; no answer scores 0."""
    answers = [extract(r) for r in responses]
    checkable = [(g.strip(), a.strip()) for g, a in zip(golds, answers) if a and a.strip()]
    verdicts = iter(verify_answers(checkable, timeout))
    return [float(next(verdicts)) if a and a.strip() else 0.0 for a in answers]
