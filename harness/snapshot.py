"""Committed copies of runs (`reference/{run}/`, written by `make readme-numbers` and `make
robustness`): their run record, each experiment's resolved config and long-form summary, and
what a robustness run measures, the spread of the base model across pre-training seeds.

Each snapshot keeps the sha256 of every dataset, weight, generations and table file of its run
(`files.sha256`), so a rerun on another machine can be checked against it byte for byte
without the reference run's files (`make verify`).

The README (harness.readme) and the tables of an experiment whose config names a robustness
run (`statistics.base_spread`) state that spread beside their intervals with one function, so
an interval never promises what a rerun from another base model breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from harness.config import ExperimentConfig, load_config


def run_record(reference: Path) -> dict:
    return json.loads((reference / "run.json").read_text())


def experiment(reference: Path, exp: str) -> tuple[ExperimentConfig, pd.DataFrame, dict]:
    """An experiment's config as the run resolved it, its long-form summary, and the run record."""
    record = run_record(reference)
    if exp not in record["experiments"]:
        raise ValueError(f"{reference / 'run.json'} has no experiment {exp!r}; it has {sorted(record['experiments'])}")
    cfg = load_config(record["experiments"][exp])
    return cfg, pd.read_csv(reference / exp / "tables" / "main_summary.csv", dtype={"level": str}), record


def base_spread(reference: Path) -> tuple[ExperimentConfig, str, pd.Series, pd.Series]:
    """A robustness run's config, its method, and per pre-training seed (one model each) the
    base model's Avg@n and the method's gain over it."""
    (exp,) = run_record(reference)["experiments"]
    cfg, summary, _ = experiment(reference, exp)
    if len(cfg.methods) != 1:
        raise ValueError(f"{reference}: a robustness run trains one method on every base model; it has {list(cfg.methods)}")
    (method,) = cfg.methods
    rows = summary[(summary["metric"] == f"avg@{cfg.eval.n_samples}") & (summary["level"] == "all")]
    rows = rows.set_index(["model", "method"])["mean"]
    base = pd.Series({m: rows[(m, "base")] for m in cfg.models})
    gain = pd.Series({m: rows[(m, method)] - rows[(m, "base")] for m in cfg.models})
    return cfg, method, base, gain


def spread_note(reference: Path, where: str) -> str:
    """What a main table's intervals leave out: the spread across pre-training seeds of the
    base model, measured by the robustness run `reference` (cited as `where`), or that it is
    not measured."""
    if not reference.exists():
        return ("\nThe intervals cover training and sampling seeds of one base model; the spread across "
                "pre-training seeds is not measured yet (`make robustness`).\n")
    cfg, method, base, gain = base_spread(reference)
    return (f"\nThe intervals cover training and sampling seeds of one base model. Across {len(base)} pre-training "
            f"seeds ({where}) the base model's Avg@{cfg.eval.n_samples} has a std of {base.std():.1f} points "
            f"and the gain of {cfg.method_label(method)} one of {gain.std():.1f}: rerun from another base model, a row's "
            "level moves by about that much, beside its interval; differences between methods trained from the same base "
            "model are what these tables compare.\n")


DIGESTS = "files.sha256"  # in reference/{run}/: the sha256 of every file its numbers come from
RUN_FILES = ("data/*.jsonl", "**/model/model.safetensors", "**/model/controller.pt", "**/eval/*.generations.jsonl",
             "tables/*.csv")  # under results/{exp}/: datasets, weights, generations, tables' numbers (no timings, no
# provenance, and not the Markdown tables: they close with the spread of another snapshot, reference/robustness-*)


def run_digests(results: Path, experiments: Iterable[str]) -> dict[str, str]:
    """`{exp}/{file}` -> sha256 of each of a run's RUN_FILES, in sorted order."""
    files = sorted({f for exp in experiments for pattern in RUN_FILES for f in (results / exp).glob(pattern) if f.is_file()})
    return {str(f.relative_to(results)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def write_digests(path: Path, digests: Mapping[str, str]) -> None:
    """In `sha256sum`'s format, so `cd results && sha256sum -c` checks them too."""
    path.write_text("".join(f"{sha}  {name}\n" for name, sha in digests.items()))


def read_digests(path: Path) -> dict[str, str]:
    return {name: sha for sha, name in (line.split("  ", 1) for line in path.read_text().splitlines())}


def verify_run(results: Path, reference: Path) -> list[str]:
    """Every way a run's files differ from those of the reference run `reference` (empty: all
    byte-identical): a file whose bytes differ, one the run lacks, one the reference lacks."""
    if not (reference / DIGESTS).exists():
        raise FileNotFoundError(f"{reference / DIGESTS} does not exist: that reference run was snapshotted before "
                                "digests were kept")
    return compare_digests(read_digests(reference / DIGESTS), run_digests(results, run_record(reference)["experiments"]))


def compare_digests(expected: Mapping[str, str], actual: Mapping[str, str]) -> list[str]:
    """Every file whose digest differs, that `actual` lacks, or that `expected` lacks."""
    return ([f"differs: {f}" for f in expected if f in actual and actual[f] != expected[f]]
            + [f"missing: {f}" for f in expected if f not in actual]
            + [f"not in the reference: {f}" for f in actual if f not in expected])
