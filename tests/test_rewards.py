"""math-verify rewards: boxed extraction, equivalence, timeouts in any thread."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pebble import ProcessPool

from harness.answers import last_boxed
from harness.rewards import math_rewards, verify_answers


def test_last_boxed_handles_nesting_and_absence():
    assert last_boxed(r"so \boxed{1} then \boxed{\frac{1}{2}} done") == r"\frac{1}{2}"
    assert last_boxed("no answer") is None
    assert last_boxed(r"\boxed{unclosed") is None


def test_equivalent_answers_are_correct_and_others_not():
    responses = [r"\boxed{0.5}", r"x \boxed{\frac{1}{2}}", r"\boxed{1/3}", "12", r"\boxed{}", r"\boxed{15}"]
    golds = ["1/2", r"\frac12", "1/2", "12", "3", "15"]
    assert math_rewards(responses, golds) == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0]


def test_pathological_answer_times_out_as_wrong_without_blocking_others():
    start = time.monotonic()
    verdicts = verify_answers([("1", "9^{9^{9^{9^{9^{9}}}}}"), ("7", "7")], timeout=1.0)
    assert verdicts == [False, True]
    assert time.monotonic() - start < 30


def test_works_from_a_worker_thread():
    out = []
    thread = threading.Thread(target=lambda: out.append(math_rewards([r"\boxed{2+2}"], ["4"])))
    thread.start()
    thread.join(timeout=60)
    assert out == [[1.0]]


def test_integer_literals_agree_with_math_verify():
    """The integer shortcut must give math-verify's own verdicts."""
    from harness.rewards import _integer_verdict, _run

    pairs = [("15", "15"), ("15", "015"), ("-3", "-3"), ("12", "21"), ("0", "-0"), ("7", "8")]
    assert [_integer_verdict(*p) for p in pairs] == _run(pairs, timeout=5.0)
    assert _integer_verdict("1/2", "0.5") is None and _integer_verdict("15", "15.0") is None


# Gold answers from real solutions (CHAMP answers as published; MATH-500 golds), each with an
# equivalent rewriting and a near miss, labelled by hand.
LABELLED_PAIRS = [
    ("2^(n-1)", "2^{n-1}", True),  # CHAMP P_Combinatorics: plain-text gold, LaTeX answer
    ("2^(n-1)", "2^n", False),
    ("n(n-3)/2", "\\frac{n^2-3n}{2}", True),
    ("n(n-3)/2", "n(n-3)", False),
    ("(4^n+2^n)/2", "2^{2n-1}+2^{n-1}", True),
    ("1/2", "0.5", True),
    ("1/2", "1/3", False),
    ("[-1, 1]", "[-1,1]", True),
    ("[-1, 1]", "(-1, 1)", False),  # open vs closed interval
    ("239", "238", False),
    ("\\frac{14}{3}", "14/3", True),  # MATH-500
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)", True),  # MATH-500 #1
    ("p - q", "-q+p", True),  # MATH-500
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", True),
    ("\\sqrt{3}/3", "\\sqrt{3}", False),
    ("\\text{(C)}", "(C)", True),
    ("5050", "5{,}050", True),
    ("x^2+2x+1", "(x+1)^2", True),
    ("x^2+2x+1", "(x-1)^2", False),
]


def test_math_verify_agrees_with_hand_labels_on_real_answers():
    verdicts = verify_answers([(gold, answer) for gold, answer, _ in LABELLED_PAIRS])
    assert verdicts == [label for _, _, label in LABELLED_PAIRS]


# ---------------------------------------------------------------- hostile answers (issue 12)

ATTACKS = [
    "9^9^9^9",  # power towers
    "9^{9^{9}}",
    "9^(9^9)",
    "x^{9^{9^{9}}}",
    "9^{9999999}",  # one power of 9.5 million digits
    "1000000!",
    "(10!)!",
    "\\{" + ", ".join(map(str, range(5000))) + "\\}",  # a set of 5,000 elements
    "{" * 16 + "7" + "}" * 16,  # braces nested 16 deep: seconds in the LaTeX parser
    "(" * 50 + "7" + ")" * 50,
]


def test_any_integer_answer_gets_a_verdict():
    """int() refuses more than 4,300 digits: one such answer used to raise in the caller."""
    huge = "1" * 4301
    responses = [f"\\boxed{{{huge}}}", "\\boxed{7}", f"\\boxed{{00{huge}}}", f"\\boxed{{-{huge}}}"]
    assert math_rewards(responses, ["7", "7", huge, huge]) == [0.0, 1.0, 1.0, 0.0]


def test_answers_beyond_the_limits_are_wrong_without_reaching_math_verify(monkeypatch):
    import harness.rewards

    def never(pairs, timeout):
        raise AssertionError(f"math-verify was asked about {pairs}")

    monkeypatch.setattr(harness.rewards, "_run", lambda pairs, timeout: never(pairs, timeout) if pairs else [])
    assert verify_answers([("7", answer) for answer in ATTACKS]) == [False] * len(ATTACKS)
    # a long gold allows a long answer: a chain of 1,900 powers is estimated without recursion
    assert verify_answers([("x" * 1000, "^".join(["2"] * 1900))]) == [False]


# Answers solutions write, including long, deep or large ones, that the limits must leave to math-verify.
NORMAL = [
    ("2^{2^{n}}", "2^{2^n}"), ("2^{81}", "2^{3^{4}}"), ("10^{100}", "10^{100}"), ("2^{2024}", "2^{2024}"),
    ("100!", "100!"), ("9^{99999}", "9^{99999}"), ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "\\left(3,\\frac{\\pi}{2}\\right)"), ("e^{x^2}", "e^{x^{2}}"),
    ("\\{1, 2, 3\\}", "\\{3, 2, 1\\}"), ("[-1, 1]", "(-1, 1)"), ("x^2+2x+1", "(x+1)^2"), ("0.5", "\\frac{1}{2}"),
    ("\\frac{1}{1+\\frac{1}{1+\\frac{1}{2}}}", "\\frac{3}{5}"), ("((((1+2))))", "3"), ("5050", "5{,}050"),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"),
    ("1, 2, " + ", ".join(map(str, range(3, 60))), ", ".join(map(str, range(1, 60)))),  # 170 characters
]


def test_limits_keep_math_verify_verdicts_on_normal_answers():
    from harness.answer_limits import exceeds_limits
    from harness.rewards import _verify

    assert [exceeds_limits(gold, answer) for gold, answer in NORMAL] == [None] * len(NORMAL)
    direct = [_verify(gold, answer, 5.0) for gold, answer in NORMAL]  # math-verify itself, in this process
    assert verify_answers(NORMAL) == direct and any(direct) and not all(direct)


def test_a_check_that_raises_or_overruns_scores_wrong():
    from concurrent.futures import Future

    from harness.rewards import _outcome

    raised, overran = Future(), Future()
    raised.set_exception(ValueError("Exceeds the limit (4300 digits) for integer string conversion"))
    overran.set_exception(TimeoutError())
    assert _outcome(raised) is False and _outcome(overran) is False


def test_one_slow_answer_holds_one_worker_while_the_others_are_checked():
    from harness.rewards import WORKERS, _cache, _pool_instance

    assert WORKERS >= 2
    verify_answers([("1", "1.0")])  # the pool is up
    busy = _pool_instance().schedule(time.sleep, args=(600,))  # a check that never ends, in one worker
    try:
        _cache.clear()
        pairs = [(f"\\frac{{{i}}}{{{i + 1}}}", f"\\frac{{{2 * i}}}{{{2 * i + 2}}}") for i in range(1, 9)]
        assert verify_answers(pairs) == [True] * 8
        assert not busy.done()  # checked by the other workers while that one was still busy
    finally:
        busy.cancel()


def test_workers_fork_from_one_thread_and_come_from_a_forkserver_beside_others():
    from harness.rewards import native_threads, worker_context

    code = ("import harness.rewards as r, threading; print(r.native_threads(), r.worker_context().get_start_method()); "
            "threading.Thread(target=threading.Event().wait, daemon=True).start(); "
            "print(r.native_threads(), r.worker_context().get_start_method())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.split() == ["1", "fork", "2", "forkserver"]  # a fresh process, then with a second thread

    release = threading.Event()
    extra = threading.Thread(target=release.wait)
    extra.start()  # this process now surely runs several threads, as a job holding CUDA does
    try:
        assert native_threads() >= 2 and worker_context().get_start_method() == "forkserver"
        pool = ProcessPool(max_workers=1, context=worker_context())
        try:
            from harness.rewards import _verify

            parent = pool.schedule(os.getppid).result(timeout=120)
            with pytest.raises(TimeoutError):  # an overrun kills the worker; pebble starts another from the server
                pool.schedule(time.sleep, args=(600,), timeout=1).result(timeout=120)
            assert pool.schedule(_verify, args=("\\frac{1}{2}", "0.5", 5.0)).result(timeout=120) is True
        finally:
            pool.stop()
            pool.join()
        assert parent != os.getpid()  # the worker's parent is the forkserver, not this process
    finally:
        release.set()
        extra.join()
