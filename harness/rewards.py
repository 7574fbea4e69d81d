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

from harness.answers import last_boxed

_pool: ProcessPool | None = None
_cache: dict[tuple[str, str], bool] = {}


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
    """1.0 where the response's answer (by default its last box; harness.answers.final_answer
    for the flexible reading) is equivalent to the gold answer, else 0.0; no answer scores 0."""
    answers = [extract(r) for r in responses]
    checkable = [(g.strip(), a.strip()) for g, a in zip(golds, answers) if a and a.strip()]
    verdicts = iter(verify_answers(checkable, timeout))
    return [float(next(verdicts)) if a and a.strip() else 0.0 for a in answers]
