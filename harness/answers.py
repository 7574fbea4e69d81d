"""The final answer of a math reply, as a careful grader reads it, in two readings.

strict (`last_boxed`): the content of the last box. Every prompt of the harness asks for the
  final answer "within \\boxed{}", the RLVR reward of both papers checks that answer, and MATH's
  own reader (Hendrycks et al. 2021, `last_boxed_only_string`) and lm-eval's Minerva task take
  the last box too. A box is what LaTeX renders as one: \\boxed{...} with nested braces,
  \\boxed {x} (a space before the brace), \\fbox{x}, and \\boxed 5 without braces (the run of
  non-space characters, closing punctuation dropped, as MATH reads it). With several boxes the
  last one counts (math-verify instead joins them all into a set); a last box cut off before its
  closing brace is no answer.
flexible (`final_answer`): the last box, else the value of the reply's last statement of an
  answer: an explicit one anywhere ("the (final) answer is X", "Answer: X"), or a concluding
  sentence of the last paragraph ("So / Therefore / Thus / Hence / In other words / In
  conclusion / Finally / The final value, <the quantity> is X", also "= X", "equals X"; X must
  end its clause: "is 28 ways." but not "is 111 in decimal", unless it is a count: "there are 3
  pairs of digits"). X is a math span ($x$, \\(x\\),
  \\[x\\]) or an expression starting with a digit, sign, bracket, LaTeX command or a letter used
  as math (x = 2, a_n+1), up to the end of its sentence or the next word ("12 apples" is 12);
  of a chain "14 + 4 = 19" the last side counts. A value cut off by the response budget
  (unbalanced brackets, a trailing operator) is no answer. Numbers that are not stated (the
  steps of an unfinished derivation) are never read: this is where it differs from
  math-verify's own extraction, which falls back to the last number or expression anywhere.
"""

from __future__ import annotations

import re

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])\s*")
_BARE_BOX = re.compile(r"[^\s$]+")


def last_boxed(text: str) -> str | None:
    """Content of the last box in `text` (module docstring), or None."""
    boxes = list(_BOX.finditer(text))
    if not boxes:
        return None
    rest = text[boxes[-1].end():]
    if not rest.startswith("{"):
        bare = _BARE_BOX.match(rest)
        return bare.group().rstrip(".,;:") if bare else None
    depth = 0
    for end, char in enumerate(rest):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return rest[1:end]
    return None


# An explicit answer statement, anywhere: "the (final) answer is X", "Answer: X", "answer = X".
_ANSWER = re.compile(r"\banswer\b(?:\s+(?:is|was|would\s+be|will\s+be|should\s+be))?\s*[:=]?\s*", re.IGNORECASE)
# A concluding sentence of the last paragraph: "So, <the quantity> is X." (its last is / = / equals),
# "Therefore, there are X <things>".
_CONCLUSION = re.compile(
    r"(?:^|(?<=[.!?])[ \t]+)(?:so|therefore|thus|hence|in\s+other\s+words|in\s+conclusion|finally"
    r"|the\s+final\s+(?:value|result))\b(?:[^.\n]*?\bthere\s+(?:is|are)\s+|[^.\n]*(?:\s(?:is|are|equals)\s+|\s*=\s*))",
    re.IGNORECASE | re.MULTILINE,
)
_THERE = re.compile(r"\bthere\s+(?:is|are)\s+$", re.IGNORECASE)
_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
# A value: starts with a digit, sign, bracket, LaTeX command, or a letter used as math (x = 2,
# a_n+1, n^2, f(3)); runs to the end of its sentence or clause, or to the next word.
_VALUE = re.compile(
    r"(?:[-+(\[{\\\d]|[A-Za-z](?=[_^(\d]|\s*[-+*/=]|\s*(?:[.,;]|$)))[^\n]*?"
    r"(?=\.\s|\.?$|,\s|;|\s+[A-Za-z]{2,}\b)",
    re.MULTILINE,
)
_CLAUSE_END = re.compile(r"\s*(?:[A-Za-z]+\s*)?(?:[.,;]|$)", re.MULTILINE)  # "is 28 ways." but not "111 in decimal"
_CUT_OFF = re.compile("[-+*/^=(\\[{,\ufffd]\\s*$")


def _complete(value: str) -> bool:
    """False for a value the response budget cut off: open brackets, a trailing operator."""
    depth = sum({"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(char, 0) for char in value)
    return depth == 0 and not _CUT_OFF.search(value)


def _value(rest: str, conclusion: bool) -> str | None:
    """The value a statement gives at the start of `rest`: a math span or an expression (the
    last side of a chain a = b = c); '' if cut off; None if the statement gives none."""
    if span := _SPAN.match(rest):
        return next(g for g in span.groups() if g is not None).strip()
    value = _VALUE.match(rest)
    if value is None or (conclusion and not _CLAUSE_END.match(rest, value.end())):  # "is 111 in decimal"
        return None
    text = value.group().strip()
    return text.rsplit("=", 1)[-1].strip() if _complete(text) else ""


def stated_answer(text: str) -> str | None:
    """The value of the reply's last statement of an answer (module docstring), or None."""
    last_paragraph = max((m.end() for m in re.finditer(r"\n\s*\n", text.rstrip())), default=0)
    statements = [(m.end(), False) for m in _ANSWER.finditer(text)]
    statements += [(m.end(), True) for m in _CONCLUSION.finditer(text) if m.start() >= last_paragraph]
    for end, conclusion in sorted(statements, reverse=True):
        counted = _THERE.search(text, 0, end) is not None  # "there are 3 pairs": a count, words follow
        value = _value(text[end:], conclusion and not counted)
        if value is not None:
            return value or None
    return None


def final_answer(text: str) -> str | None:
    """The flexible reading: the last box, else the stated answer."""
    boxed = last_boxed(text)
    return boxed if boxed is not None else stated_answer(text)
