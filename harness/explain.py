"""`harness explain`: a resolved experiment config, value by value, with where each value comes
from: the source its file cites for it (`sources:`: a paper's section, equation or table, or
why the paper's silence was filled so), or the harness default when the file does not set it."""

from __future__ import annotations

import json
from typing import Any

from harness.config import ExperimentConfig

UNCITED = ("name", "include", "sources")  # identifiers and bookkeeping, not settings


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value for every value of a nested mapping that is not itself a non-empty mapping."""
    if isinstance(tree, dict) and tree:
        return {k: v for key, value in tree.items() for k, v in leaves(value, f"{prefix}{key}.").items()}
    return {prefix.removesuffix("."): tree}


def source_of(key: str, sources: dict[str, str]) -> str | None:
    """The source cited for `key` or for the nearest key above it (e.g. `methods.tampo` covers
    `methods.tampo.alpha`)."""
    parts = key.split(".")
    return next((sources[k] for n in range(len(parts), 0, -1) if (k := ".".join(parts[:n])) in sources), None)


def set_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """The settings a config file (its includes resolved) sets, as dotted keys."""
    return leaves({k: v for k, v in raw.items() if k not in UNCITED})


def uncited(raw: dict[str, Any]) -> list[str]:
    """The keys a config file sets without citing a source."""
    sources = raw.get("sources") or {}
    return [key for key in set_keys(raw) if source_of(key, sources) is None]


def explain(raw: dict[str, Any], cfg: ExperimentConfig) -> str:
    """One line per resolved value: `key = value`, then its cited source, `(set, no source)`,
    or `(harness default)` for a value the file leaves to the harness."""
    written, sources = leaves({k: v for k, v in raw.items() if k != "sources"}), raw.get("sources") or {}
    lines = []
    for key, value in leaves(cfg.model_dump(mode="json")).items():
        if key in written or any(k.startswith(f"{key}.") for k in written):
            origin = source_of(key, sources) or ("(set)" if key.split(".")[0] in UNCITED else "(set, no source)")
        else:
            origin = "(harness default)"
        lines.append(f"{key} = {json.dumps(value)}    # {origin}")
    return "\n".join(lines)
