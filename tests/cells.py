"""Synthetic evaluated cells for the statistics tests: an eval JSON and its generations file
(one row per sample) from a correctness matrix, as harness.stages.evaluate_cell writes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.io import write_jsonl


def write_cell(root: Path, method: str, seed: int, correct, benchmark: str = "arith", model: str = "m",
               levels=None, ids=None) -> Path:
    """Write {method}-{seed}-{benchmark}.json (Avg@n and Pass@n) and its .generations.jsonl;
    `correct` is (problems, n) of 0/1. Returns the eval JSON's path."""
    correct = np.asarray(correct, dtype=int)
    problems, n = correct.shape
    ids = ids or [f"q{i}" for i in range(problems)]
    levels = levels or [1] * problems
    Path(root).mkdir(parents=True, exist_ok=True)
    path = Path(root) / f"{method}-{seed}-{benchmark}.json"
    metrics = {f"avg@{n}": float(correct.mean()), f"pass@{n}": float((correct.sum(axis=1) > 0).mean())}
    path.write_text(json.dumps({"model": model, "method": method, "seed": seed, "benchmark": benchmark, "metrics": metrics}))
    write_jsonl(path.with_suffix(".generations.jsonl"), [
        {"id": ids[p], "level": levels[p], "sample": j, "correct": int(correct[p, j]), "temperature_mean": 1.0}
        for p in range(problems) for j in range(n)
    ])
    return path
