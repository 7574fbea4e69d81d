"""Limits on what one math answer may cost before math-verify sees it.

math-verify (through its LaTeX parser and sympy) spends seconds, or more than its own timeouts
can interrupt, on answers no correct solution writes: a set of 5,000 elements, braces nested 14
deep, or an integer too large to hold (`9^{9^{9}}`, `1000000!`, `(10!)!`). Such an answer is
scored wrong without being parsed. The limits leave every answer a solution plausibly writes to
math-verify, and scale with the gold answer where it is itself long or deep:

- length: at most max(MAX_CHARS, CHARS_PER_GOLD_CHAR x the gold's length) characters;
- nesting: brackets ( [ { at most max(MAX_DEPTH, the gold's depth) deep;
- size of a number written with powers and factorials of literals (exponent towers included):
  at most MAX_DIGITS digits, estimated from logarithms without computing it.
"""

from __future__ import annotations

import math
import re

MAX_CHARS = 256
CHARS_PER_GOLD_CHAR = 4
MAX_DEPTH = 8
MAX_DIGITS = 100_000

OPEN, CLOSE = "([{", ")]}"
TOKEN = re.compile(r"\d+(?:\.\d+)?|\*\*|\\[A-Za-z]+|\S")
IGNORED = {"\\left", "\\right", "\\big", "\\Big", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr"}


def depth(text: str) -> int:
    """Deepest bracket nesting of `text` (closers without an opener count as nothing)."""
    level = deepest = 0
    for char in text:
        if char in OPEN:
            level += 1
            deepest = max(deepest, level)
        elif char in CLOSE:
            level = max(level - 1, 0)
    return deepest


def _tree(text: str) -> list:
    """Tokens nested by brackets: number literals as floats (their log10), '^' (also for '**'),
    '!', other tokens as str, and each bracketed group as a list."""
    root: list = []
    stack = [root]
    for token in TOKEN.findall(text):
        if token in IGNORED:
            continue
        if token in OPEN:
            stack[-1].append([])
            stack.append(stack[-1][-1])
        elif token in CLOSE:
            if len(stack) > 1:
                stack.pop()
        elif token[0].isdigit():
            stack[-1].append(_log10_literal(token))
        else:
            stack[-1].append("^" if token == "**" else token)
    return root


def _log10_literal(literal: str) -> float:
    whole = literal.split(".")[0].lstrip("0")
    if not whole:
        return -math.inf  # 0.x: powers and factorials of it stay small
    return len(whole) - 1 + math.log10(float(f"0.{whole[:15]}") * 10)


def _pow(base: float, exponent: float) -> float:
    """log10(a^b) from log10 a and log10 b."""
    if base <= 0 or exponent == -math.inf:
        return 0.0  # |a| <= 1 or b = 0: a^b stays small
    return math.inf if exponent > 300 else base * 10**exponent


def _factorial(n: float) -> float:
    """log10(n!) from log10 n, by Stirling through lgamma."""
    if n > 300:
        return math.inf
    return math.lgamma(10**n + 1) / math.log(10)


def _largest(items: list, out: list[float]) -> float | None:
    """log10 of the value `items` spell if they are one number built from literals, powers and
    factorials (else None); every such number found inside is appended to `out`."""
    value, i = _term(items, 0, out)
    return value if value is not None and i == len(items) else None


def _term(items: list, i: int, out: list[float]) -> tuple[float | None, int]:
    """Parse operand ('!')* ('^' operand ('!')*)* at items[i], exponents right-associative,
    without recursion along the chain (an answer may chain thousands of them)."""
    values = []
    while True:
        if i >= len(items):
            values.append(None)
            break
        item = items[i]
        value = _largest(item, out) if isinstance(item, list) else item if isinstance(item, float) else None
        i += 1
        while value is not None and i < len(items) and items[i] == "!":
            value, i = _factorial(value), i + 1
        values.append(value)
        if i < len(items) and items[i] == "^":
            i += 1
            continue
        break
    result = values[-1]
    for base in reversed(values[:-1]):  # a^b^c = a^(b^c)
        result = _pow(base, result) if base is not None and result is not None else None
        if result is not None:
            out.append(result)
    out.extend(v for v in values if v is not None)
    return result, i


def _number_sizes(items: list, out: list[float]) -> None:
    """Every literal-built number in `items` and its groups, whatever surrounds it."""
    i = 0
    while i < len(items):
        if isinstance(items[i], list):
            _number_sizes(items[i], out)
        _, j = _term(items, i, out)
        i = max(j, i + 1)


def exceeds_limits(gold: str, answer: str) -> str | None:
    """Which limit `answer` exceeds (a phrase for logs), or None if math-verify may see it."""
    max_chars = max(MAX_CHARS, CHARS_PER_GOLD_CHAR * len(gold))
    if len(answer) > max_chars:
        return f"longer than {max_chars} characters"
    max_depth = max(MAX_DEPTH, depth(gold))
    if depth(answer) > max_depth:
        return f"brackets nested deeper than {max_depth}"
    sizes: list[float] = []
    _number_sizes(_tree(answer), sizes)
    if any(size >= MAX_DIGITS for size in sizes):
        return f"a number of more than {MAX_DIGITS} digits"
    return None
