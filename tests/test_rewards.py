"""math-verify rewards: boxed extraction, equivalence, timeouts in any thread."""

import threading
import time

from harness.rewards import last_boxed, math_rewards, verify_answers


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
