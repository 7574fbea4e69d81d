"""Per-problem, per-sample outcomes of evaluated cells, read from their generations files, as
the panels harness.compare pairs: a method's metric per (seed, problem), with its samples.

A column of a table is a list of items (benchmark, level), each weighted 1 / (number of items):
one item for a benchmark ('all' its levels), one per benchmark for the papers' Average, and a
level of a benchmark where a paper's benchmark stands in as one (the tiny mirrors). A problem
in several items (a level and its whole benchmark) is one problem with the summed weight, and
problems in the same items form one stratum, drawn together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.compare import Panel
from harness.metrics import pass_at_k_table

Cell = tuple[str, str, int, str]  # (model, method, seed, benchmark)
Item = tuple[str, str]  # (benchmark, level or "all")


def generation_paths(eval_paths: Iterable[Path]) -> dict[Cell, Path]:
    """(model, method, seed, benchmark) -> the generations file next to each cell's metrics."""
    out = {}
    for path in map(Path, eval_paths):
        cell = json.loads(path.read_text())
        out[(cell["model"], cell["method"], cell["seed"], cell["benchmark"])] = path.with_suffix(".generations.jsonl")
    return out


@dataclass(frozen=True)
class Outcomes:
    """One evaluated cell: correctness by problem (file order) and sample index."""

    ids: tuple[str, ...]
    levels: tuple[str, ...]  # str(level), "None" where the dataset has none
    correct: np.ndarray  # (P, n) bool


def load_outcomes(path: Path) -> Outcomes:
    """Read a generations file (one row per sample), once per version of the file: tables,
    claims and diffs read the same cells many times. Every problem must have the same samples
    0..n-1: a missing or repeated sample is an error naming the file and the problem."""
    stat = Path(path).stat()
    return _read_outcomes(Path(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _read_outcomes(path: Path, mtime_ns: int, size: int) -> Outcomes:
    rows: dict[str, dict[int, bool]] = {}
    levels: dict[str, str] = {}
    with Path(path).open() as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                samples = rows.setdefault(row["id"], {})
                if int(row["sample"]) in samples:
                    raise ValueError(f"{path}: problem {row['id']!r} has sample {row['sample']} twice")
                samples[int(row["sample"])] = row["correct"] > 0
                levels[row["id"]] = str(row.get("level"))
    if not rows:
        raise ValueError(f"{path}: no generations")
    n = max(len(s) for s in rows.values())
    for pid, samples in rows.items():
        if sorted(samples) != list(range(n)):
            raise ValueError(f"{path}: problem {pid!r} has samples {sorted(samples)}, expected 0..{n - 1}")
    correct = np.array([[rows[pid][j] for j in range(n)] for pid in rows], dtype=bool)
    return Outcomes(tuple(rows), tuple(levels[pid] for pid in rows), correct)


def per_problem(outcomes: Outcomes, metric: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-problem values in points (P,) of 'avg@n' (with its per-sample values (P, n)) or of
    'pass@k' (unbiased estimator; no per-sample values)."""
    n = outcomes.correct.shape[1]
    name, _, k = metric.partition("@")
    if name == "avg":
        samples = 100.0 * outcomes.correct
        return samples.mean(axis=1), samples
    if name != "pass" or not 1 <= int(k) <= n:
        raise ValueError(f"metric {metric!r}: allowed avg@n or pass@k with 1 <= k <= n = {n}")
    counts = outcomes.correct.sum(axis=1)
    return 100.0 * pass_at_k_table(n)[counts, int(k) - 1], None


def panel(generations: dict[Cell, Path], model: str, method: str, seeds: list[int], items: list[Item],
          metric: str) -> Panel:
    """A method's panel of one column (items, equally weighted) of `metric`."""
    weights: dict[str, float] = {}
    membership: dict[str, list[int]] = {}
    per_seed: list[dict[str, tuple[float, np.ndarray | None]]] = []
    for seed in seeds:
        values: dict[str, tuple[float, np.ndarray | None]] = {}
        for i, (benchmark, level) in enumerate(items):
            path = generations.get((model, method, seed, benchmark))
            if path is None or not Path(path).exists():
                raise ValueError(f"no generations of {model} / {method} / seed {seed} / {benchmark}")
            out = load_outcomes(Path(path))
            keep = [j for j, lv in enumerate(out.levels) if level == "all" or lv == level]
            if not keep:
                raise ValueError(f"{path}: no problem of level {level!r}; levels: {sorted(set(out.levels))}")
            mean, samples = per_problem(out, metric)
            for j in keep:
                unit = f"{benchmark}/{out.ids[j]}"
                values[unit] = (mean[j], None if samples is None else samples[j])
                if seed == seeds[0]:
                    weights[unit] = weights.get(unit, 0.0) + 1.0 / (len(items) * len(keep))
                    membership.setdefault(unit, []).append(i)
        if per_seed and values.keys() != per_seed[0].keys():
            raise ValueError(f"{model} / {method}: seed {seed} was evaluated on other problems than seed {seeds[0]}")
        per_seed.append(values)
    units = tuple(weights)
    patterns = {p: h for h, p in enumerate(dict.fromkeys(tuple(membership[u]) for u in units))}
    samples = None
    if all(v[1] is not None for v in per_seed[0].values()):
        samples = np.array([[values[u][1] for u in units] for values in per_seed])
    return Panel(
        seeds=tuple(seeds), units=units,
        values=np.array([[values[u][0] for u in units] for values in per_seed]),
        weights=np.array([weights[u] for u in units]),
        strata=np.array([patterns[tuple(membership[u])] for u in units]),
        samples=samples,
    )
