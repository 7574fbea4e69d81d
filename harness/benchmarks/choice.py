"""Multiple choice: lettered options, deterministic shuffling, and the answer letter a careful
grader reads, in a strict and a flexible form (as lm-eval's strict-match / flexible-extract).

strict (`extract_letter`): an explicit final answer statement, the last one in the reply:
  "Answer: X", "The (correct / final) answer is (X)", "answer is: X", "Option X is correct",
  "X is the correct answer", "I choose / pick / select X", "\\boxed{X}", or a reply that is
  nothing but the letter ("B", "(B)", "B.").
flexible (`flexible_letter`): the strict letter, else, in this order,
  - an option line "X) text" starting the first or the last line of the reply ("B) Not wrong,
    Wrong", SmolLM2's most common reply: the prompt's own option lines invite it), when the
    reply does not list several options that way;
  - one letter in parentheses, "(X)", when the reply has only one such letter;
  - the reply, or its first or last line, being exactly one option's text.
A letter counts only where it stands as an answer: uppercase, or lowercase inside parentheses
or right after "Answer:" with nothing but punctuation after it. So the article in "The answer
is a tough one" is no option A, and with ten options the pronoun in "the answer is I think B"
is no option I (an uppercase "I" followed by a lowercase word is the pronoun).
"""

from __future__ import annotations

import random
import re
import string

LETTERS = string.ascii_uppercase


def shuffled(correct: str, incorrect: list[str], problem_id: str, seed: int) -> tuple[list[str], str]:
    """The options in an order fixed by (seed, problem id), and the correct option's letter.

    Datasets that list the correct option first (GPQA) would otherwise always answer "A"; the
    order must not depend on anything but the problem and the seed, so every method and every
    sample sees the same question."""
    options = [correct, *incorrect]
    random.Random(f"{seed}:{problem_id}").shuffle(options)  # str seeds hash with sha512: stable
    return options, LETTERS[options.index(correct)]


def option_lines(options: list[str]) -> str:
    """'A) first\\nB) second ...'."""
    return "\n".join(f"{LETTERS[i]}) {text}" for i, text in enumerate(options))


def letters(n: int) -> str:
    """'A, B, C or D' for n = 4."""
    return ", ".join(LETTERS[: n - 1]) + f" or {LETTERS[n - 1]}"


# A letter standing as an answer, in one of the forms a reply writes it (named group `letter`):
# wrapped ((X), [X], **X**, \boxed{X}, \text{X}; any case), or bare: uppercase, not part of a
# word, not the pronoun "I" followed by a lowercase word.
_WRAPPED = r"(?:\(|\[|\*\*|\\boxed\{|\\text\{|\\textbf\{|\\mathrm\{)\s*(?P<wrapped>[A-Za-z])\s*(?:\)|\]|\*\*|\})"
_BARE = r"(?<![\w'’-])(?-i:(?P<bare>[A-Z]))(?![\w'’-])(?!(?<=I)\s+(?-i:[a-z]))"
_LETTER = rf"(?:{_WRAPPED}|{_BARE})"
_QUALIFIED = r"(?:final|correct|best|right|my)\s+(?:answer|option|choice)"
_IS = r"\s*(?:is|would\s+be|will\s+be|should\s+be|=)?\s*:?\s*(?:option\s+|choice\s+|letter\s+)?\$?"
_STRICT = [
    # "Answer: X", "The answer is (X)", "the correct answer would be: **X**", "answer is option X",
    # "The correct option is X"
    rf"(?:answer|{_QUALIFIED}){_IS}{_LETTER}",
    # "Answer: b." (lowercase only where nothing but punctuation follows)
    r"answer\s*:\s*(?P<lower>[a-z])(?=\s*[.)]?\s*$)",
    # "Option X is correct", "X is the correct answer", "(X) is right"
    rf"(?:option\s+|choice\s+)?{_LETTER}\s+is\s+(?:the\s+)?(?:correct|right|best)(?:\s+answer|\s+option|\s+choice)?\b",
    # "I choose X", "I pick (X)", "I'll go with option X"
    rf"\bI(?:\s+would|'d|\s+will|'ll)?\s+(?:choose|pick|select|go\s+with)\s+(?:option\s+|choice\s+)?{_LETTER}",
    r"\\boxed\{\s*(?:\\text\{)?\s*(?P<boxed>[A-Za-z])\s*\}",
]
_STRICT_RES = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _STRICT]
_ONLY_LETTER = re.compile(r"\s*[\(\[]?(?P<letter>[A-Za-z])[\)\]\.]?\s*")
_OPTION_LINE = re.compile(r"^\s*(?:\*\*)?(?P<letter>[A-Z])\)\s*\S", re.MULTILINE)
_PARENTHESISED = re.compile(r"\((?P<letter>[A-Za-z])\)")


def _found_letter(match: re.Match) -> str:
    return next(v for v in match.groupdict().values() if v).upper()


def extract_letter(response: str, n_options: int) -> str | None:
    """The strict answer letter: the last explicit final answer statement among the first
    `n_options` letters, or a reply that is only the letter; None if there is neither."""
    valid = LETTERS[:n_options]
    found = [(m.end(), letter) for r in _STRICT_RES for m in r.finditer(response) if (letter := _found_letter(m)) in valid]
    if found:
        return max(found)[1]
    only = _ONLY_LETTER.fullmatch(response)
    return only["letter"].upper() if only and only["letter"].upper() in valid else None


def _normal(text: str) -> str:
    """Text compared with an option's: lowercase, single spaces, no surrounding punctuation."""
    return " ".join(text.lower().split()).strip(" .,;:!*\"'")


def flexible_letter(response: str, options: list[str]) -> str | None:
    """The flexible answer letter (module docstring): the strict one, else an option line
    starting the reply or its last line, a sole parenthesised letter, or an option's text."""
    valid = LETTERS[: len(options)]
    if strict := extract_letter(response, len(options)):
        return strict
    lines = [line for line in response.strip().splitlines() if line.strip()]
    if not lines:
        return None
    listed = {m["letter"] for m in _OPTION_LINE.finditer(response)}
    if len(listed) == 1:
        (letter,) = listed
        starts = {m["letter"] for line in (lines[0], lines[-1]) if (m := _OPTION_LINE.match(line))}
        if letter in starts and letter in valid:
            return letter
    parenthesised = {m["letter"].upper() for m in _PARENTHESISED.finditer(response)} & set(valid)
    if len(parenthesised) == 1:
        return parenthesised.pop()
    texts = [_normal(o) for o in options]
    for candidate in (response, lines[0], lines[-1]):
        matches = [i for i, text in enumerate(texts) if text and text == _normal(candidate)]
        if len(matches) == 1:
            return LETTERS[matches[0]]
    return None
