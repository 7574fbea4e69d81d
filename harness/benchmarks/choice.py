"""Multiple choice: lettered options, deterministic shuffling, and the answer letter a careful
grader reads, in a strict and a flexible form (as lm-eval's strict-match / flexible-extract).

strict (`extract_letter`): an explicit final answer statement, the last one in the reply:
  "Answer: X", "The (correct / final) answer is (X)", "answer is: X", "The answer to this
  question is X", "The correct option is X", "Option X is correct", "X is / would be the
  correct answer" (not the last of a list: "A, B, C, or D is correct"), "I choose / pick /
  select X", "Choose X" opening a line, "\\boxed{X}", or a reply that is nothing but the letter
  ("B", "(B)", "B."); an "answer:" ending a line above a listing of the options ("Step-by-step
  answer:\\nA) ...\\nB) ...") is a heading, no statement. "B) Not wrong, Wrong", SmolLM2's
  most common reply (the prompt's own option lines invite it), states no answer: strict reads
  nothing.
flexible (`flexible_letter`): the strict letter, else, in this order,
  - the last choice the reply offers, of these: an option line "X) text" that stands alone
    ("B) Not wrong, Wrong" opening the reply or ending it), counted only when every such line
    gives the same letter (two or more consecutive option lines are the options listed again,
    not a choice); a weak answer statement, "answer(s) ... is / are / be / :" followed in the
    same sentence by one marked letter ("The correct answers are to D) ..."), none when it
    marks several or hedges ("either A or B");
  - a letter marked "(X)" or " X) " within a line, when the reply marks only one letter so
    (not the parentheses of "P(A)");
  - an option's text: the reply, or its first or last line, is exactly one option's text or
    ends with it (texts of three words or more; the longest when one ends another).
When an option line's letter and text disagree ("C) Not wrong, Not wrong"), the letter counts.
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


# A letter standing as an answer, in one of the forms a reply writes it: wrapped ((X), [X], **X**,
# \boxed{X}, \text{X}; any case), or bare: uppercase, not part of a word, not the pronoun "I"
# followed by a lowercase word.
_WRAPPED = r"(?:\(|\[|\*\*|\\boxed\{|\\text\{|\\textbf\{|\\mathrm\{)\s*(?P<wrapped>[A-Za-z])\s*(?:\)|\]|\*\*|\})"


def _bare(group: str) -> str:
    """A bare letter standing as an answer, captured as `group`."""
    return rf"(?<![\w'’-])(?-i:(?P<{group}>[A-Z]))(?![\w'’-])(?!(?<=I)\s+(?-i:[a-z]))"


_LETTER = rf"(?:{_WRAPPED}|{_bare('bare')})"
_ANSWER = r"(?:answer(?:\s+to\s+(?:this|the)\s+question)?|(?:final|correct|best|right|my)\s+(?:answer|option|choice))"
_IS = r"\s*(?:(?:is|was|would\s+be|will\s+be|should\s+be)\s*:?|:|=)\s*(?:option\s+|choice\s+|letter\s+)?\$?"
_STRICT = [
    # "Answer: X", "The answer is (X)", "the correct answer would be: **X**", "answer is option X",
    # "The correct option is X", "The answer to this question is X"
    rf"{_ANSWER}{_IS}{_LETTER}",
    # "Answer: b." (lowercase only where nothing but punctuation follows)
    r"answer\s*:\s*(?P<lower>[a-z])(?=\s*[.)]?\s*$)",
    # "Option X is correct", "X would be the correct answer", "(X) is right"; not the last of a
    # list ("One of A, B, C, or D is correct")
    rf"(?<!or )(?<!, )(?:option\s+|choice\s+)?{_LETTER}\s+(?:is|would\s+be)\s+(?:the\s+)?(?:correct|right|best)"
    r"(?:\s+answer|\s+option|\s+choice)?\b",
    # "I choose X", "I'll go with option X", "Choose (X)" opening a line
    rf"(?:^[ \t]*|\bI(?:\s+would|'d|\s+will|'ll)?\s+)(?:choose|pick|select|go\s+with)\s+(?:option\s+|choice\s+)?{_LETTER}",
    r"\\boxed\{\s*(?:\\text\{)?\s*(?P<boxed>[A-Za-z])\s*\}",
]
_STRICT_RES = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _STRICT]
_ONLY_LETTER = re.compile(r"\s*[\(\[]?(?P<letter>[A-Za-z])[\)\]\.]?\s*")
_OPTION_LINE = re.compile(r"^\s*\**(?P<letter>[A-Z])\)\s*\S")  # "B) text", "**B) text"
_LETTER_MARK = re.compile(r"\s*\**(?i:option\s+)?[A-Z][):.]\s")
# A marked letter: "(X)", "(x)", or " X) " (not the parentheses of P(A) or P(A ∩ B))
_MARKED = re.compile(r"(?<!\w)\((?P<paren>[A-Za-z])\)|(?<!\S)(?P<closing>[A-Z])\)(?!\S)")
# A weak answer statement: the rest of a sentence after "answer(s) ... is / are / be / :", read
# for the letters it marks ("D)", "(D)") or hedges between ("either A or B")
_ANSWER_SENTENCE = re.compile(r"\banswers?\b[^.\n]*?(?:\b(?:is|are|was|were|be)\b|:)(?P<rest>[^.\n]*)", re.IGNORECASE)
_HEDGE = re.compile(rf"{_bare('first')}\s+or\s+{_bare('second')}")


def _found_letter(match: re.Match) -> str:
    return next(v for v in match.groupdict().values() if v).upper()


def _heads_a_listing(response: str, statement: re.Match) -> bool:
    """True for "answer:" closing one line with the next opening a listing of the options
    ("Step-by-step answer:\\nA) ...\\nB) ..."): a heading, not a statement of X."""
    if "\n" not in statement.group():
        return False
    line_start = response.rfind("\n", 0, statement.end()) + 1
    following = response[line_start:].splitlines()[:2]
    return len(following) == 2 and all(_OPTION_LINE.match(line) for line in following)


def extract_letter(response: str, n_options: int) -> str | None:
    """The strict answer letter: the last explicit final answer statement among the first
    `n_options` letters, or a reply that is only the letter; None if there is neither."""
    valid = LETTERS[:n_options]
    found = [
        (m.end(), letter) for r in _STRICT_RES for m in r.finditer(response)
        if (letter := _found_letter(m)) in valid and not _heads_a_listing(response, m)
    ]
    if found:
        return max(found)[1]
    only = _ONLY_LETTER.fullmatch(response)
    return only["letter"].upper() if only and only["letter"].upper() in valid else None


def _normal(text: str) -> str:
    """Text compared with an option's: lowercase, single spaces, no surrounding punctuation."""
    return " ".join(text.lower().split()).strip(" .,;:!*\"'")


def _sole(letters: set[str], valid: str) -> str | None:
    """The letter if the reply gives exactly one valid letter this way."""
    letters &= set(valid)
    return letters.pop() if len(letters) == 1 else None


def _choices_in_order(response: str, valid: str) -> list[tuple[int, str | None]]:
    """(position, letter or None) of what the reply offers as its choice, in order:
    - option lines ("X) text") that stand alone (a run of two or more consecutive option lines
      is a listing of the options, the prompt's own repeated, not a choice); standalone lines
      of different letters are no choice;
    - weak answer statements: a sentence "answer(s) ... is / are / be / :" that marks one letter
      after the verb ("The correct answers are to D) ..."); one that marks several or hedges
      ("is either A or B") is no choice."""
    lines = response.splitlines(keepends=True)
    starts = [sum(map(len, lines[:i])) for i in range(len(lines))]
    marks = [m["letter"] if (m := _OPTION_LINE.match(line)) else None for line in lines]
    standalone = [
        (starts[i], mark) for i, mark in enumerate(marks)
        if mark and not (i > 0 and marks[i - 1]) and not (i + 1 < len(marks) and marks[i + 1])
    ]
    choices: list[tuple[int, str | None]] = []
    if standalone:
        choices.append((standalone[-1][0], _sole({mark for _, mark in standalone}, valid)))
    for sentence in _ANSWER_SENTENCE.finditer(response):
        named = {_found_letter(m) for m in _MARKED.finditer(sentence["rest"])} & set(valid)
        hedged = {letter for m in _HEDGE.finditer(sentence["rest"]) for letter in (m["first"], m["second"])}
        if named | hedged:
            choices.append((sentence.start(), _sole(named, valid) if not hedged else None))
    return sorted(choices, key=lambda c: c[0])


def _option_by_text(candidates: list[str], options: list[str]) -> str | None:
    """The option whose text one candidate equals or, for texts of three words or more, ends
    with (the longest such text), if exactly one option qualifies. A candidate whose last line
    opens with a letter mark ("X)", "X:", "Option X:") ends with an option line (alone, or the
    end of a listing), read by its letter or not at all."""
    texts = [_normal(o) for o in options]
    for candidate in (_normal(c) for c in candidates if not _LETTER_MARK.match(c.strip().splitlines()[-1])):
        ends = [i for i, t in enumerate(texts) if t and (candidate == t or (
            len(t.split()) >= 3 and candidate.endswith(t) and not candidate[: -len(t)][-1:].isalnum()))]
        longest = [i for i in ends if len(texts[i]) == max(len(texts[j]) for j in ends)]
        if len(longest) == 1:
            return LETTERS[longest[0]]
    return None


def flexible_letter(response: str, options: list[str]) -> str | None:
    """The flexible answer letter (module docstring): the strict one, else a standalone option
    line, a sole marked letter, or an option's text."""
    valid = LETTERS[: len(options)]
    if strict := extract_letter(response, len(options)):
        return strict
    lines = [line for line in response.strip().splitlines() if line.strip()]
    if not lines:
        return None
    if choices := _choices_in_order(response, valid):
        return choices[-1][1]  # the last choice the reply offers, or none if it is ambiguous
    return _sole({_found_letter(m) for m in _MARKED.finditer(response)}, valid) or _option_by_text(
        [response, lines[0], lines[-1]], options
    )
