"""A trained model's evaluations, run by its training job and handed to the evaluation jobs.

Every job of the pipeline is a fresh process, and a model job spends seconds importing torch and
transformers before its work starts (README: Job start-up). With `eval.with_training` (the
default) the training job evaluates the model it has just saved on every benchmark of the
experiment, in the same process, through the same code as an evaluation job
(harness.stages.run_evaluation), and keeps each result in the model directory under
`evaluations/` with the key of what it was computed from. The evaluation job of that cell then
adopts the result, a copy, when its own inputs give the same key, and evaluates as before when
they do not. The key holds everything the result depends on: the resolved config, the cell, the
model's files, the benchmark's dataset, the harness's code, the package versions and the
numerics (harness.numerics.identity); so an adopted result is byte for byte what the evaluation
job would have computed (tests/test_handoff.py), and any change of inputs makes the job evaluate.
The key is computed without loading torch, and an adopting job starts in a fraction of a second
(workflow/scripts/evaluate.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import numerics
from harness.io import PROVENANCE_FILES, atomic_path, fingerprint_files, key_differences, package_versions, write_json

HANDOFF_DIR = "evaluations"  # in a trained model directory
# what a trained model directory also holds, beside the model: provenance, these evaluations,
# and hidden files (Snakemake's .snakemake_timestamp, added after the job; atomic temporaries)
MODEL_FILES_SKIPPED = (*PROVENANCE_FILES, f"{HANDOFF_DIR}/*", ".*")
CODE_DIR = Path(__file__).resolve().parent  # the harness package: what an evaluation runs


def handoff_paths(model_dir: Path, benchmark: str) -> tuple[Path, Path, Path]:
    """Where a training job keeps one benchmark's evaluation: metrics, generations, key."""
    stem = Path(model_dir) / HANDOFF_DIR / benchmark
    return stem.with_suffix(".json"), stem.with_suffix(".generations.jsonl"), stem.with_suffix(".key.json")


def handoff_key(config: dict[str, Any], model: str, method: str, seed: int, benchmark: str,
                model_dir: Path, data_path: Path, threads: int) -> dict[str, Any]:
    """What an evaluation of this cell is computed from (see the module docstring), by a job of
    `threads` threads with the resolved experiment `config` (ExperimentConfig.model_dump in JSON
    mode), as JSON gives it back (lists for tuples), so that a saved key compares equal."""
    return json.loads(json.dumps({
        "config": config,
        "cell": {"model": model, "method": method, "seed": seed, "benchmark": benchmark},
        "model_files": fingerprint_files(model_dir, MODEL_FILES_SKIPPED),
        "dataset": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
        "code": fingerprint_files(CODE_DIR, ("*__pycache__*",)),
        "versions": package_versions(),
        "numerics": numerics.identity(threads),
    }))


def seal(key: dict[str, Any], model_dir: Path, benchmark: str) -> None:
    """Mark a benchmark's evaluation in `model_dir` complete: its key is written last, so a
    kill before leaves metrics without a key, which no evaluation job adopts."""
    write_json(handoff_paths(model_dir, benchmark)[2], key)


def adopt(key: dict[str, Any], model_dir: Path, benchmark: str, out_json: Path, out_generations: Path) -> dict | None:
    """Copy the training job's evaluation of `benchmark` to the evaluation job's outputs if it was
    computed from `key`, and return its metrics; None (nothing written) if there is none or its
    key differs, which the log explains."""
    metrics, generations, key_file = handoff_paths(model_dir, benchmark)
    if not key_file.exists():
        return None
    saved = json.loads(key_file.read_text())
    if saved != key:
        differences = key_differences(saved, key)
        more = f"; and {len(differences) - 5} more" if len(differences) > 5 else ""
        print(f"not adopting the evaluation of {benchmark} that the training job ran: other inputs "
              f"({'; '.join(differences[:5])}{more}); evaluating", flush=True)
        return None
    for source, target in ((generations, out_generations), (metrics, out_json)):
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    print(f"adopted the evaluation of {benchmark} that the training job ran on this model from the same inputs "
          f"({metrics})", flush=True)
    return json.loads(metrics.read_text())["metrics"]


def adopted(eval_file: Path, model_dir: Path, benchmark: str) -> bool:
    """Whether the evaluation job that wrote `eval_file` adopted the training job's evaluation (a
    copy: the same bytes) rather than computing it, so that its model work ran in the training job."""
    kept = handoff_paths(model_dir, benchmark)[0]
    return kept.exists() and kept.read_bytes() == Path(eval_file).read_bytes()


def evaluate_or_adopt(key: dict[str, Any], model_dir: Path, benchmark: str, out_json: Path, out_generations: Path,
                      evaluate: Callable[[], dict]) -> dict:
    """The training job's evaluation of this cell if computed from `key` (`adopt`), else `evaluate()`."""
    summary = adopt(key, model_dir, benchmark, out_json, out_generations)
    return evaluate() if summary is None else summary
