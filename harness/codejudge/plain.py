"""Plain values as typed JSON: the only thing a sandboxed program can hand back to the harness.

A candidate's return values cross the sandbox boundary through this format, and the harness
decodes them before any test sees them, so what reaches a test is always a genuine built-in
value: an object whose ``__eq__`` is always true, an ``int`` subclass, a proxy or anything else
that is not one of the types below fails to encode (in the sandbox) and fails to decode (in the
harness, which never trusts the sandbox's encoder). Types survive the trip: ``1``, ``1.0``,
``True``, ``(1,)`` and ``[1]`` stay distinct.

  None, True, False, "text"  ->  null, true, false, "text"
  int, float, bytes          ->  ["int", hex], ["float", float.hex()], ["bytes", hex]
  list, tuple                ->  ["list", [...]], ["tuple", [...]]
  set, frozenset             ->  ["set", [...]], ["frozenset", [...]]  (elements in a canonical order)
  dict                       ->  ["dict", [[key, value], ...]]          (insertion order)

Hexadecimal keeps ints of any size clear of Python's limit on decimal conversion, and floats
exact (inf and nan included). The encoding of a value is canonical, so two values are the same
plain value iff their encodings are equal (`same`): nan matches nan, 1 never matches True.

This module runs inside the sandbox as well, so it imports nothing but the standard library.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100  # nesting beyond this is not a plausible answer, and would exhaust the C stack

SEQUENCES = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}


class NotPlain(ValueError):
    """A value (or an encoding) outside the plain types."""


def encode(value: Any, depth: int = 0) -> Any:
    """The JSON-able typed form of `value`; NotPlain for anything but the plain types (exact
    types: subclasses are refused, since their methods are the candidate's code)."""
    if depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return ["int", hex(value)]
    if kind is float:
        return ["float", value.hex()]
    if kind is bytes:
        return ["bytes", value.hex()]
    if kind is list or kind is tuple:
        return [kind.__name__, [encode(item, depth + 1) for item in value]]
    if kind is set or kind is frozenset:
        items = [encode(item, depth + 1) for item in value]
        return [kind.__name__, sorted(items, key=dumps)]  # iteration order varies with hash seeds
    if kind is dict:
        return ["dict", [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]]
    raise NotPlain(
        f"a {kind.__module__}.{kind.__qualname__} object; only None, bool, int, float, str, bytes, list, tuple, "
        "set, frozenset and dict are accepted"
    )


def decode(data: Any, depth: int = 0) -> Any:
    """The value an `encode` result stands for; NotPlain for anything `encode` cannot produce."""
    if depth > MAX_DEPTH:
        raise NotPlain(f"nested deeper than {MAX_DEPTH} levels")
    if data is None or type(data) is bool or type(data) is str:
        return data
    if type(data) is not list or len(data) != 2 or type(data[0]) is not str:
        raise NotPlain(f"not a typed value: {str(data)[:80]}")
    tag, payload = data
    try:
        if tag == "int" and type(payload) is str:
            return int(payload, 16)
        if tag == "float" and type(payload) is str:
            return float.fromhex(payload)
        if tag == "bytes" and type(payload) is str:
            return bytes.fromhex(payload)
        if tag in SEQUENCES and type(payload) is list:
            return SEQUENCES[tag](decode(item, depth + 1) for item in payload)
        if tag == "dict" and type(payload) is list and all(type(p) is list and len(p) == 2 for p in payload):
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in payload}
    except (TypeError, ValueError, OverflowError) as error:  # unhashable set elements or keys, bad hex
        raise NotPlain(f"bad {tag}: {error}") from None
    raise NotPlain(f"not a typed value: {str(data)[:80]}")


def dumps(encoded: Any) -> str:
    """One line of JSON, byte-identical for equal encodings."""
    return json.dumps(encoded, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """JSON text -> an encoding (not yet decoded); NotPlain for text that is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise NotPlain(f"not JSON: {error}") from None
