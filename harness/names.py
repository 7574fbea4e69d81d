"""Names users write that the harness turns into paths or looks up: experiment, model, method
and table names must be safe path components (an experiment named `../x` once wrote outside
results/), and a name that is not found is answered with the closest valid ones."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SAFE_NAME_HELP = "letters, digits, '.', '_' and '-', starting with a letter or digit (no '/', no '..')"


def check_safe_name(value: str, field: str) -> str:
    """`value` if it can be one path component on every platform the harness runs on, else a
    ValueError naming `field` and the allowed characters."""
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value):
        raise ValueError(f"{field}: {value!r} is not allowed in a path; allowed: {SAFE_NAME_HELP}")
    return value


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """' (did you mean 'x' or 'y'?)' for the closest options by difflib's ratio, or ''."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
