"""The programs the code judge runs in the sandbox, one job each (job.json beside this file):

  record:  a problem's own tests against its canonical solution, recording the arguments of
           every call the tests make (the candidate's code is absent);
  call:    the candidate's code, called on each recorded argument list, its return values
           reported as plain values (the tests and the expected values are absent);
  replay:  the problem's tests against a stand-in for the entry point that returns the
           candidate's reported values in call order (the candidate's code is absent): the
           tests' own asserts judge them.

Each job writes its report (JSON lines) to the original stdout, which nothing else writes to:
whatever the code prints goes to stderr. This file and plain.py are copied into the sandbox,
which holds only the standard library, so they import nothing else.
"""

from __future__ import annotations

import json
import os
import random
import runpy
import signal
import sys
import traceback
from typing import Any

import plain

# The tests of HumanEval/38, /50 and /53 draw their inputs from the module-level generator: the
# same seed before recording and before replaying gives the same inputs (the replay checks them).
TEST_SEED = 20210707


class Expired(Exception):
    """The time limit of one problem or one replay ran out."""


def _expire(signum: int, frame: Any) -> None:
    raise Expired("timed out")


def _deadline(seconds: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _load(problem: dict[str, Any], solution: str) -> dict[str, Any]:
    """The namespace of `solution` followed by the tests, as one HumanEval program would have
    it: the tests see the prompt's helpers (poly, encode_cyclic) and the entry point's name."""
    namespace: dict[str, Any] = {"__name__": "solution"}
    exec(compile(solution, "solution", "exec"), namespace)
    exec(compile(problem["test"], "test", "exec"), namespace)
    return namespace


def _where(error: BaseException, test: str) -> str:
    """The error and the test line that raised it: what a reader of the verdict needs."""
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == "test" and f.lineno]
    where = f" at `{test.splitlines()[lines[-1] - 1].strip()[:200]}`" if lines else ""
    return f"{type(error).__name__}: {error}"[:300] + where


def record(problem: dict[str, Any]) -> list[Any]:
    """The encoded (args, kwargs) of every call the tests make, in order. Calls made while
    another is running (the canonical solution recursing through its own name) are not the
    tests' calls and are not recorded."""
    namespace = _load(problem, problem["prompt"] + problem["canonical_solution"])
    function = namespace[problem["entry_point"]]
    calls: list[Any] = []
    running = False

    def recorder(*args: Any, **kwargs: Any) -> Any:
        nonlocal running
        if running:
            return function(*args, **kwargs)
        calls.append(plain.encode((args, kwargs)))  # before the call, which may mutate them
        running = True
        try:
            return function(*args, **kwargs)
        finally:
            running = False

    # A test may call the entry point by name (HumanEval/33 does): the name means the function under test.
    namespace[problem["entry_point"]] = recorder
    random.seed(TEST_SEED)
    namespace["check"](recorder)
    return calls


def call(entry_point: str, calls: list[Any], report: Any) -> None:
    """Run the candidate (solution.py) on each recorded argument list; report its return values."""
    namespace = runpy.run_path(os.path.join(os.path.dirname(__file__), "solution.py"), run_name="solution")
    function = namespace[entry_point]
    values = []
    for number, encoded in enumerate(calls, 1):
        args, kwargs = plain.decode(encoded)
        value = function(*args, **kwargs)
        try:
            values.append(plain.encode(value))
        except plain.NotPlain as error:
            raise plain.NotPlain(f"call {number} of {len(calls)} returned {error}") from None
    report.write(plain.dumps(values) + "\n")
    report.flush()


def replay(problem: dict[str, Any], values: list[Any]) -> None:
    """Raises unless the tests pass when the entry point returns `values` (encoded) in order."""
    # The namespace the recording had (a prompt alone need not be valid Python); the entry point is replaced.
    namespace = _load(problem, problem["prompt"] + problem["canonical_solution"])
    calls = problem["calls"]
    made = 0

    def replayer(*args: Any, **kwargs: Any) -> Any:
        nonlocal made
        if made == len(calls):
            raise AssertionError(f"the tests made more than the {len(calls)} recorded calls")
        if plain.dumps(plain.encode((args, kwargs))) != plain.dumps(calls[made]):
            raise AssertionError(f"call {made + 1}: the tests passed other arguments than when recorded")
        made += 1
        return plain.decode(values[made - 1])

    namespace[problem["entry_point"]] = replayer
    random.seed(TEST_SEED)
    namespace["check"](replayer)
    if made != len(calls):
        raise AssertionError(f"the tests made {made} of the {len(calls)} recorded calls")


def main() -> None:
    job = json.loads(open(os.path.join(os.path.dirname(__file__), "job.json")).read())
    sys.stdout.flush()
    report = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # from here on, fd 1 (print, os.write(1, ...)) is stderr
    signal.signal(signal.SIGALRM, _expire)
    if job["mode"] == "call":
        call(job["entry_point"], job["calls"], report)
        return
    for item in job["items"]:  # record: problems; replay: (problem, values) pairs
        problem = item if job["mode"] == "record" else job["problems"][item["problem"]]
        try:
            _deadline(job["timeout"])
            if job["mode"] == "record":
                result = {"calls": record(problem)}
            else:
                replay(problem, item["values"])
                result = {"passed": True}
        except Exception as error:
            result = {"error": _where(error, problem["test"])}
        finally:
            _deadline(0)
        report.write(json.dumps(result) + "\n")
        report.flush()  # a verdict written survives a later crash of this process


if __name__ == "__main__":
    main()
