"""Multiple choice: lettered options, deterministic shuffling, and answer-letter extraction."""

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


# Strongest signal first: an explicit "Answer: X" / "answer is (X)", then \boxed{X}, then a
# reply that is nothing but the letter.
_EXPLICIT = re.compile(r"answer\s*(?:is|:)\s*(?:option\s*)?[\(\[\*\s$]*(?:\\boxed\{|\\text\{|\\textbf\{)?([A-Z])\b", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*([A-Z])\s*\}")
_BARE = re.compile(r"\s*[\(\[]?([A-Z])[\)\]\.]?\s*")


def extract_letter(response: str, n_options: int) -> str | None:
    """The answer letter of a response (the last explicit one), or None if it gives none of the
    first `n_options` letters."""
    valid = LETTERS[:n_options]
    for pattern in (_EXPLICIT, _BOXED):
        found = [m.upper() for m in pattern.findall(response) if m.upper() in valid]
        if found:
            return found[-1]
    bare = _BARE.fullmatch(response)
    return bare.group(1) if bare and bare.group(1) in valid else None
