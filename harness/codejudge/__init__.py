"""Judging generated code outside its reach: the tests never run next to the candidate's code.

EvalPlus's design, for HumanEval-style problems (a prompt, a canonical solution, a `check`
function of asserts, an entry point). Running the tests inside the candidate's process lets the
candidate win without solving: an object whose ``__eq__`` is always true passes 157 of 164
problems, and anything that reaches the test's verdict (a nonce, an exit status, the reference
solution on disk) can be forged. So each problem is judged in three sandbox runs
(harness.sandbox), the programs in inside.py:

1. record (once per problem and process): the tests against the canonical solution, capturing
   the arguments of every call they make, as plain values;
2. call (per response): the candidate's code alone, called on each recorded argument list; it
   reports the return values as plain values (plain.py: None, bool, int, float, str, bytes,
   list, tuple, set, frozenset, dict, exact types only), anything else fails;
3. replay (per batch): the tests alone, against a stand-in that checks each call's arguments
   against the recording and returns the candidate's decoded values in order, so the tests'
   own asserts judge genuine built-in values.

The candidate's sandbox holds neither the tests nor the expected values, and its report is
decoded strictly here before the judge sees it: forging a pass means producing the right
values, which is solving the problem. An exception, a timeout or a crash in the candidate, a
malformed report or a call the tests make that was not recorded all fail.

What the design assumes: the tests call the entry point with plain values and judge it by its
return values (true of all 164 HumanEval problems; a test that checks a mutation of its
arguments, or expects an exception, cannot be replayed), and calls that depend on earlier
results match the recording only if the candidate returned what the canonical solution did.
Stricter than running the tests beside the code, by design: a return value that is not a plain
value fails even where a test would have converted it (a generator under `tuple(...)`), and the
candidate can import only the standard library (the sandbox binds nothing else).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from harness.codejudge import plain
from harness.sandbox import DETAIL_CHARS, STRICTEST, ExecResult, Isolation, Limits, Program, run_program, run_programs

INSIDE = Path(__file__).with_name("inside.py").read_text()
PLAIN = Path(__file__).with_name("plain.py").read_text()
JUDGE_MARGIN_S = 10.0  # start-up and reading of one record or replay run, on a busy machine

# A fenced block opens with ``` at the start of a line and closes at the next line-start ```, or at the end of a
# response cut off by the token limit. Blocks are paired first and filtered by language afterwards, so the
# closing fence of a ```bash block is never mistaken for the opening of a plain one.
FENCE = re.compile(r"^```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:^```|\Z)", re.DOTALL | re.MULTILINE)
PYTHON_TAGS = {"", "python", "python3", "py"}

_recorded: dict[str, list[Any]] = {}  # problem key -> the tests' calls, encoded


class CodeJudgeError(ValueError):
    """A problem the judge cannot use (no canonical solution, or tests that cannot be recorded)."""


def _defines(code: str, entry_point: str) -> bool:
    return re.search(rf"^def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None


def extract_code(response: str, entry_point: str) -> str:
    """The code to run from a chat model's answer: the last ```python (or untagged) block that
    defines the entry point, else the last such block (a function body), else the answer as is
    (a base model's continuation). A usage example in a later block is not the solution."""
    blocks = [code for tag, code in FENCE.findall(response) if tag.lower() in PYTHON_TAGS]
    defining = [code for code in blocks if _defines(code, entry_point)]
    return (defining or blocks or [response])[-1]


def solution_source(prompt: str, completion: str, entry_point: str) -> str:
    """The candidate's module: the prompt and a base model's continuation of the function body, or
    the prompt followed by a chat model's whole function. Every HumanEval prompt is valid Python
    on its own (the stub's body is its docstring), and its imports and helpers (is_palindrome,
    poly, encode_cyclic) are needed by such answers; the answer's definition replaces the stub."""
    code = extract_code(completion, entry_point)
    return f"{prompt}\n{code}" if _defines(code, entry_point) else prompt + code


def _problem(record: dict) -> dict[str, Any]:
    if not record.get("canonical_solution"):
        raise CodeJudgeError(
            f"record {record.get('id')!r} has no canonical_solution: the judge records the tests' calls by running it"
        )
    return {k: record[k] for k in ("id", "test", "entry_point", "canonical_solution")} | {"prompt": record["problem"]}


def _key(problem: dict[str, Any]) -> str:
    fields = [problem[k] for k in ("prompt", "canonical_solution", "test", "entry_point")]
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def _job(mode: str, files: dict[str, str] | None = None, **fields: Any) -> Program:
    """A run of inside.py: the job's fields in job.json, plain.py and any other files beside it."""
    return Program(INSIDE, {"plain.py": PLAIN, "job.json": json.dumps({"mode": mode, **fields}), **(files or {})})


def _record(problems: dict[str, dict], limits: Limits, isolation: Isolation) -> None:
    """Record the calls of every problem not recorded yet, in one sandbox run."""
    todo = {key: p for key, p in problems.items() if key not in _recorded}
    if not todo:
        return
    budget = Limits(timeout_s=limits.timeout_s * len(todo) + JUDGE_MARGIN_S, memory_mb=limits.memory_mb)
    result = run_program(_job("record", items=list(todo.values()), timeout=limits.timeout_s), budget, isolation)
    reports = [json.loads(line) for line in result.stdout.decode().splitlines()]
    for index, (key, problem) in enumerate(todo.items()):
        report = reports[index] if index < len(reports) else {"error": result.detail}
        if "error" in report:
            raise CodeJudgeError(
                f"problem {problem['id']!r}: its tests cannot be recorded against its canonical solution: {report['error']}"
            )
        _recorded[key] = report["calls"]


def _reported_values(result: ExecResult, calls: list[Any]) -> list[Any] | str:
    """The candidate's return values, encoded and checked here; the reason it failed otherwise."""
    if not result.passed:
        return result.detail
    lines = result.stdout.splitlines()
    try:
        if len(lines) != 1:
            raise plain.NotPlain(f"{len(lines)} report lines instead of 1")
        values = plain.loads(lines[0])
        if type(values) is not list or len(values) != len(calls):
            raise plain.NotPlain(f"not a list of {len(calls)} values")
        for value in values:
            plain.decode(value)
    except plain.NotPlain as error:
        return f"malformed report: {error}"
    return values


def _replay(problems: dict[str, dict], items: list[dict], limits: Limits, isolation: Isolation) -> list[dict]:
    """A verdict per (problem, values) item. A judge run that dies takes only the item it was on:
    the items after it are judged again in a new run."""
    verdicts: list[dict] = []
    while len(verdicts) < len(items):
        rest = items[len(verdicts):]
        budget = Limits(timeout_s=limits.timeout_s * len(rest) + JUDGE_MARGIN_S, memory_mb=limits.memory_mb)
        job = _job("replay", items=rest, problems=problems, timeout=limits.timeout_s)
        result = run_program(job, budget, isolation)
        lines = result.stdout.decode().splitlines()[: len(rest)]
        verdicts += [json.loads(line) for line in lines]
        if len(lines) < len(rest):
            verdicts.append({"error": f"the judge's process died: {result.detail}"})
    return verdicts


def judge(
    records: list[dict], responses: list[str], limits: Limits = Limits(), isolation: Isolation = STRICTEST,
    workers: int = 2,
) -> list[ExecResult]:
    """A verdict per (record, response): passed only if the problem's tests accept the values the
    candidate's code returned. Records are the harness's code records (problem = the prompt, test,
    entry_point, canonical_solution)."""
    problems = [_problem(r) for r in records]
    keys = [_key(p) for p in problems]
    _record(dict(zip(keys, problems)), limits, isolation)
    programs = [
        _job("call", {"solution.py": solution_source(p["prompt"], response, p["entry_point"])},
             entry_point=p["entry_point"], calls=_recorded[key])
        for p, key, response in zip(problems, keys, responses)
    ]
    runs = run_programs(programs, limits, isolation, workers)
    reported = [_reported_values(run, _recorded[key]) for run, key in zip(runs, keys)]
    judged = [i for i, values in enumerate(reported) if isinstance(values, list)]
    tests = {key: p | {"calls": _recorded[key]} for key, p in zip(keys, problems)}
    verdicts = _replay(tests, [{"problem": keys[i], "values": reported[i]} for i in judged], limits, isolation)
    # A run that exited cleanly with a malformed report failed too; timeouts stay timeouts.
    results = [ExecResult("failed" if run.passed else run.status, str(values)) for run, values in zip(runs, reported)]
    for i, verdict in zip(judged, verdicts):
        results[i] = ExecResult("passed", runs[i].detail) if verdict.get("passed") else ExecResult(
            "failed", f"{runs[i].detail}the tests rejected the returned values: {verdict['error']}"[-DETAIL_CHARS:]
        )
    return results
