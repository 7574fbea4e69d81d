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
