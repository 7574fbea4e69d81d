"""pydantic validation errors as messages a user can act on: one line per bad field, its dotted
path, what is allowed, the value given, and for an unknown key the closest valid keys."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from harness.names import did_you_mean


def _unwrap(annotation: Any) -> Any:
    """The model or mapping type inside `X | None` / `Union[...]`, else the annotation."""
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            if get_origin(arg) is dict or (isinstance(arg, type) and issubclass(arg, BaseModel)):
                return arg
    return annotation


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at `loc` below `model` (keys of a mapping field are
    skipped as its entries' names); [] where `loc` leaves the typed models."""
    node: Any = model
    for part in loc:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return []
            node = field.annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        else:
            return []
    node = _unwrap(node)
    return list(node.model_fields) if isinstance(node, type) and issubclass(node, BaseModel) else []


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_lines(err: ValidationError, model: type[BaseModel], prefix: str = "") -> list[str]:
    """One line per error of `err`, raised while validating `model` at the dotted `prefix`."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = fields_at(model, e["loc"][:-1])
            message = f"unknown key{did_you_mean(str(e['loc'][-1]), allowed)}; allowed: {', '.join(allowed)}"
        elif e["type"] not in ("value_error", "missing"):
            message += f" (got {_short(e['input'])})"
        lines.append(f"{loc}: {message}" if loc else message)
    return lines


def error_message(err: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """error_lines joined: one line for one error, else one line each, indented."""
    lines = error_lines(err, model, prefix)
    return lines[0] if len(lines) == 1 else "\n".join(f"  - {line}" for line in lines)
