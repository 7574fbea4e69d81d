"""The model FLOPs of each job of a finished run, from the token counts its logs record
(harness.pretrain.sft, harness.train.token_counts, harness.stages.evaluate_cell), so that a
run's cost can be set against the CPU's peak (README: What the grid costs; benchmarks/grid.py).

Convention (Kaplan et al. 2020; harness.efficiency counts IntroLLM Table 3 the same way): 2 FLOPs
per weight for every token through a forward pass, 6 through a forward and backward pass.
Attention over the context is left out (4 x layers x context x hidden per token: under 7% of
the weights' 2 x 0.4M at the tiny setting's contexts of under 100 tokens). What is counted is
the work the algorithm needs: each prompt once per sampling call, every generated token, every
prompt and response token of an update; not padding, nor a prompt prefilled twice because its
samples fell into two batches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from harness.handoff import adopted
from harness.io import read_jsonl
from harness.paths import path

FORWARD, FORWARD_BACKWARD = 2, 6  # FLOPs per weight and token


def parameters(run_root: Path, exp: str, model: str) -> int:
    """The base model's parameter count, as its stage recorded it (run.json)."""
    return int(json.loads((run_root / path("base_model", exp=exp, model=model) / "run.json").read_text())["parameters"])


def logged(file: Path, keys: tuple[str, ...]) -> list[dict]:
    rows = read_jsonl(file)
    if not rows or any(k not in rows[0] for k in keys):
        raise KeyError(f"{file} records no token counts ({', '.join(keys)}): it was written before they were "
                       "logged; rerun the job (make run) to count its FLOPs")
    return rows


def job_flops(run_root: Path, exp: str, job: Mapping) -> float:
    """Model FLOPs of one job of experiment `exp` under `run_root` (the directory holding
    results/): `job` is a row of harness.readme.job_times (kind base_model, train or eval;
    model, method, seed; job, e.g. eval-arith). The model work of an evaluation that its training
    job ran (harness.handoff) counts for the training job, not the evaluation job that adopted it."""
    params, kind = parameters(run_root, exp, job["model"]), job["kind"]
    if kind == "base_model":
        rows = logged(run_root / path("base_model", exp=exp, model=job["model"]) / "pretrain_metrics.jsonl", ("tokens/trained",))
        return FORWARD_BACKWARD * params * sum(r["tokens/trained"] for r in rows)
    if kind not in ("train", "eval"):
        raise ValueError(f"job kind {kind!r}: expected base_model, train or eval")
    cell = dict(exp=exp, model=job["model"], method=job["method"], seed=int(job["seed"]))
    if kind == "train":
        keys = ("tokens/prompt", "tokens/generated", "tokens/rescored", "tokens/trained")
        rows = logged(run_root / path("train_dir", **cell) / "metrics.jsonl", keys)
        forward = sum(r["tokens/prompt"] + r["tokens/generated"] + r["tokens/rescored"] for r in rows)
        model_dir = run_root / path("model", **cell)
        evaluated = (run_root / path("eval", **cell, benchmark="any")).parent.glob("*.json")
        return (params * (FORWARD * forward + FORWARD_BACKWARD * sum(r["tokens/trained"] for r in rows))
                + sum(evaluation_flops(file, params) for file in evaluated if adopted(file, model_dir, file.stem)))
    benchmark = job["job"].removeprefix("eval-")
    file = run_root / path("eval", **cell, benchmark=benchmark)
    return 0.0 if adopted(file, run_root / path("model", **cell), benchmark) else evaluation_flops(file, params)


def evaluation_flops(eval_file: Path, params: int) -> float:
    tokens = json.loads(eval_file.read_text()).get("tokens")
    if tokens is None:
        raise KeyError(f"{eval_file} records no token counts: it was written before they were logged, or by the "
                       "lm-eval engine; rerun the job to count its FLOPs")
    return FORWARD * params * (tokens["prompt"] + tokens["generated"])
