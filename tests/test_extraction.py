"""Answer extraction, case by case: the multiple-choice letter (strict and flexible) and the math
answer (the last box; the stated answer without one). tests/test_replies.py checks both on
hand-labelled replies of a real model."""

from __future__ import annotations

import pytest

from harness.answers import final_answer, last_boxed, stated_answer
from harness.benchmarks.choice import extract_letter, flexible_letter
from harness.benchmarks.scoring import Verdict, verdicts

MORAL = ["Wrong, Wrong", "Wrong, Not wrong", "Not wrong, Wrong", "Not wrong, Not wrong"]


@pytest.mark.parametrize(
    ("response", "strict", "flexible"),
    [
        ("Let me think. B looks odd.\nAnswer: C", "C", "C"),
        ("The answer is (d).", "D", "D"),
        ("The answer is: B", "B", "B"),
        ("The correct answer would be: **C**", "C", "C"),
        ("The correct option is D.", "D", "D"),
        ("Option C is correct because it is the only one.", "C", "C"),
        ("so \\boxed{A}", "A", "A"),
        ("$\\boxed{\\text{B}}$", "B", "B"),
        ("B", "B", "B"),
        ("(B)", "B", "B"),
        ("Answer: b.", "B", "B"),
        ("Answer: A ... wait, the answer is B", "B", "B"),
        # the article, the pronoun and letters inside words are no options
        ("The answer is a tough one, but I pick C.", "C", "C"),
        ("The answer is a tough one.", None, None),
        ("Answer: a tough one", None, None),
        ("I think it is probably a trick question.", None, None),
        ("THIS is correct.", None, None),
        # SmolLM2's most common reply: an option line; flexible only (no statement of an answer)
        ("B) Not wrong, Wrong", None, "B"),
        ("C) Not wrong, Wrong\n\nThe main character does nothing wrong in scenario 1.", None, "C"),
        ("Scenario 1 is fine but scenario 2 is not.\nD) Not wrong, Not wrong", None, "D"),
        # listing the options is no answer
        ("A) Wrong, Wrong\nB) Wrong, Not wrong\nC) Not wrong, Wrong\nD) Not wrong, Not wrong", None, None),
        ("Option A: Wrong, Wrong\nOption B: Wrong, Not wrong", None, None),
        # one parenthesised letter; several are no answer
        ("I would go for (C), since the first is fine.", None, "C"),
        ("(A) is unlikely and (B) fits better", None, None),
        # an option's own text, alone or as the last line
        ("Not wrong, Wrong", None, "C"),
        ("In scenario 1 nothing is wrong.\nWrong, Not wrong.", None, "B"),
        ("Answer: E", None, None),  # not among 4 options
        # real replies of SmolLM2 (tests/data/replies.jsonl)
        ("B) Stars are made of sodium.\n\nThe answer to this question is A) Absorption lines.", "A", "A"),
        ("A) They raise the temperature.\n\nChoose A: A) They raise the temperature.\n\nD) They alter K_eq.", "A", "A"),
        ("C) confounding variables\n\nStep 1: Identify the subject of the question (A)\nStep 2: the answer (A)", None, "C"),
        ("A) Wrong, Wrong\nD) Not wrong\n\nStep 3: Provide a final answer.\nD) Not wrong, Not wrong.\n\nPremise: none", None, "D"),
        ("A) Simple\n\nWhich type?\n\nA) Simple\nB) Choice\nC) Complex\nD) Elaborate", None, "A"),
        ("C) Wrong, Not wrong\n\nScenario 1 is fine.\n\nD) Not wrong, Not wrong\n\nScenario 2 too.", None, None),
        ("Bartering for services is A) not allowable under any circumstance.", None, "A"),
        ("A pulse may be felt where, in my view, it is not wrong, not wrong", None, "D"),
        ("A: Not wrong, Wrong\n\nSo the answer is that both are wrong.", None, None),  # letter and text disagree
        # "X would be the correct answer"; the last of a list is no answer
        ("B would be the correct answer.", "B", "B"),
        ("One of A, B, C, or D is correct.", None, None),
        # "answer:" heading a listing of the options states nothing, nor does the listing's last text
        ("Step-by-step answer:\nA) Wrong, Wrong\nB) Wrong, Not wrong\nC) Not wrong, Wrong", None, None),
        # a weak answer statement marking one letter; several, or a hedge, are no choice
        ("Hmm.\nThe correct answers are to D) the second scenario.", None, "D"),
        ("C) Wrong, Not wrong\n\nThere are only two possible answers: A) one and B) two.", None, None),
        ("B) Wrong, Not wrong\n\nThe answer is either A or C.", None, None),
        # the parentheses of a probability mark no option
        ("Since P(A) is small and P(A ∩ B), its part, is 0, (C) holds.", None, "C"),
    ],
)
def test_letter_by_each_reading(response, strict, flexible):
    assert extract_letter(response, 4) == strict
    assert flexible_letter(response, MORAL) == flexible


def test_ten_options_do_not_read_the_pronoun_i_as_an_option():
    ten = [f"option {i}" for i in range(10)]
    assert extract_letter("The answer is I think B", 10) is None
    assert flexible_letter("Well, I think (B) fits.", ten) == "B"
    assert extract_letter("The answer is I.", 10) == "I" and extract_letter("Answer: (I)", 10) == "I"
    assert extract_letter("The answer is J", 10) == "J" and extract_letter("The answer is J", 4) is None


@pytest.mark.parametrize(
    ("response", "boxed", "stated"),
    [
        (r"so \boxed{1} then \boxed{\frac{1}{2}} done", r"\frac{1}{2}", None),  # several boxes: the last
        (r"$\boxed{\{1, 2\}}$", r"\{1, 2\}", None),  # nested braces
        (r"so \boxed {5}", "5", None),  # a space before the brace: LaTeX renders a box
        (r"so \fbox{5}", "5", None),
        (r"so $\boxed 5$.", "5", None),  # no braces: the next run of characters, as MATH reads it
        (r"so \boxed 3/4.", "3/4", None),
        (r"almost \boxed{12", None, None),  # cut off before the closing brace
        (r"\boxedanswer", None, None),
        ("The final answer is $\\frac{3}{4}$.", None, r"\frac{3}{4}"),
        ("Final Answer: The final answer is $252$. I hope it is correct.", None, "252"),
        ("Answer: 7", None, "7"),
        ("So the answer is 12 apples.", None, "12"),
        ("The answer is: -3, which is odd.", None, "-3"),
        ("The answer to this depends on n.\nStep 3: 4 + 5 = 9", None, None),  # a last number is no statement
        ("Let a = b.\n\nSo, the smallest value of a^2-ab is 1.", None, "1"),  # a conclusion of the last paragraph
        ("So, x = 1, a first step.\n\nThen we add y and", None, None),  # not of the last paragraph
        ("Thus the count is 28 ways.", None, "28"),
        ("So, the answer is 11.\n\nTherefore, the string is 111 in decimal.", None, "11"),  # no value ends the clause
        ("So, the remainder when a_n is divided by a_n+1 is a_n+1.", None, "a_n+1"),
        ("The answer is x = 5.", None, "5"),
        ("Therefore, our answer is:\n\n(2^32+1)^2 \ufffd", None, None),  # cut inside a character
        ("So, the answer is 14 + 4 = 19.", None, "19"),  # the last side of a chain
        ("Therefore, a_50 = 25*2 = 50. In this case,", None, "50"),
        ("So, the final answer is:\n\n2n + 1 = ", None, None),  # cut off by the response budget
        ("So the answer is 1.\n\nSo, the final answer is:\n\n(ab(a+b)+bc(b+c)-a", None, None),
        ("no answer", None, None),
    ],
)
def test_math_answer_by_each_reading(response, boxed, stated):
    assert last_boxed(response) == boxed
    assert stated_answer(response) == stated
    assert final_answer(response) == (boxed if boxed is not None else stated)


def test_verdicts_give_both_readings_and_score_the_strict_one():
    choice = {"task": "choice", "options": MORAL, "answer": "C"}
    math = {"task": "math", "answer": "\\frac{1}{2}"}
    records = [choice, choice, choice, math, math, math]
    responses = ["Answer: C", "C) Not wrong, Wrong", "Answer: A", "\\boxed{0.5}", "The final answer is $1/2$.", "1/2"]
    assert verdicts(records, responses, timeout=5.0) == [
        Verdict(1.0, 1.0), Verdict(0.0, 1.0), Verdict(0.0, 0.0), Verdict(1.0, 1.0), Verdict(0.0, 1.0), Verdict(0.0, 0.0),
    ]
