"""Verifiable math reward: the answer of a response (its last box, harness.answers) checked
against the gold answer with math-verify (gold first), under a hard timeout. Any answer gets a
verdict.

An answer beyond the limits of harness.answer_limits (length, nesting, numbers too large to
hold) is wrong without being parsed. The others are checked in a pool of pebble worker
processes, one task per answer, so that one slow answer holds one worker and the rest of the
batch goes on in the others. math-verify's timeouts use signal.alarm, which only works in a
process's main thread, as in a worker; what they cannot interrupt (a long computation in C)
pebble stops by killing the worker. An answer whose check overruns, kills its worker or raises
scores 0, whatever thread or process the caller runs in.
Results are memoised on (gold, answer): repeated answers, the common case in RL, are free;
pairs of integer literals are compared as digit strings without a round trip to the workers.

Workers are forked from the caller while it runs one thread, as a pipeline job on the CPU does.
A process that already runs others (CUDA's, in a training or evaluation job on a GPU) can
deadlock a forked child (a lock held by another thread is never released in the child; Python
warns), so its workers come from a forkserver instead, a clean process with math-verify imported.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.util
import os
import re
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from pebble import ProcessPool

from harness.answer_limits import exceeds_limits
from harness.answers import last_boxed

WORKERS = max(2, min(4, os.cpu_count() or 1))
log = logging.getLogger(__name__)
_pool: ProcessPool | None = None
_cache: dict[tuple[str, str], bool] = {}


def _verify(gold: str, answer: str, timeout: float) -> bool:
    """Runs in a worker's main thread: math-verify with its own timeouts."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    seconds = max(1, round(timeout))
    gold_parsed = parse(f"${gold}$", parsing_timeout=seconds)
    return bool(verify(gold_parsed, parse(f"\\boxed{{{answer}}}", parsing_timeout=seconds), timeout_seconds=seconds))


def _stop(pool: ProcessPool) -> None:
    pool.stop()
    pool.join(timeout=10)


def native_threads() -> int | None:
    """The threads this process runs (Linux: one entry per thread in /proc/self/task), or None
    where that cannot be read."""
    try:
        return len(os.listdir(Path("/proc/self/task")))
    except OSError:
        return None


def worker_context() -> multiprocessing.context.BaseContext:
    """fork while this process runs one thread; else a forkserver with math-verify loaded (and
    the platform's default where threads cannot be counted: spawn on macOS and Windows)."""
    threads = native_threads()
    if threads is None:
        return multiprocessing.get_context()
    if threads == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["harness.rewards", "math_verify"])
    return context


def _pool_instance() -> ProcessPool:
    global _pool
    if _pool is None or not _pool.active:
        _pool = ProcessPool(max_workers=WORKERS, context=worker_context())
        # Stopped at exit, before multiprocessing joins child processes: a process started by
        # multiprocessing (e.g. a training rank) runs no atexit hooks and would wait for the
        # worker forever.
        multiprocessing.util.Finalize(_pool, _stop, args=(_pool,), exitpriority=10)
    return _pool


def _outcome(future: Future) -> bool:
    """A task's verdict; False if it overran, its worker died, or math-verify raised."""
    try:
        return future.result()
    except Exception as err:  # overran (TimeoutError), its worker died (ProcessExpired), or math-verify raised
        log.warning("math-verify gave no verdict (%s); the answer is scored wrong", type(err).__name__)
        return False


def _run(pairs: list[tuple[str, str]], timeout: float) -> list[bool]:
    """Check `pairs` across the pool, one task each, concurrently."""
    budget = 3 * timeout + 30  # parse gold + parse answer + verify, plus a worker's start-up
    futures = [_pool_instance().schedule(_verify, args=(*pair, timeout), timeout=budget) for pair in pairs]
    return [_outcome(future) for future in futures]


INTEGER = re.compile(r"(-?)0*(\d+)")


def _integer_verdict(gold: str, answer: str) -> bool | None:
    """Two integer literals are equivalent iff sign and digits agree after leading zeros
    (-0 = 0): decided here without math-verify (which would agree) and without int(), which
    refuses more than 4,300 digits; None for anything else."""
    a, b = INTEGER.fullmatch(gold), INTEGER.fullmatch(answer)
    if a is None or b is None:
        return None
    return (a[2] == b[2]) and (a[1] == b[1] or a[2] == "0")


def _verdict_without_math_verify(gold: str, answer: str) -> bool | None:
    if (verdict := _integer_verdict(gold, answer)) is not None:
        return verdict
    return False if exceeds_limits(gold, answer) else None


def verify_answers(pairs: list[tuple[str, str]], timeout: float = 5.0) -> list[bool]:
    """math-verify each (gold, answer) pair, memoised; an answer beyond the limits of
    harness.answer_limits, or that cannot be checked in time, counts as wrong (as math-verify
    itself returns False on timeout)."""
    for pair in pairs:
        if pair not in _cache and (verdict := _verdict_without_math_verify(*pair)) is not None:
            _cache[pair] = verdict
    todo = sorted({p for p in pairs if p not in _cache})
    _cache.update(zip(todo, _run(todo, timeout)))
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
