"""Model FLOPs of a run's jobs from the token counts their logs record: hand-computed values
for each kind of job, a clear error for logs without counts, and the convention (2 FLOPs per
weight and token forward) against torch's FLOP counter on a real model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.io import write_jsonl
from harness.model_flops import job_flops
from harness.modeling import build_tiny_llama, count_parameters, load_policy

BASE = Path("results/e/m/base/model")


@pytest.fixture
def run_root(tmp_path: Path) -> Path:
    (tmp_path / BASE).mkdir(parents=True)
    (tmp_path / BASE / "run.json").write_text(json.dumps({"parameters": 1000}))
    return tmp_path


def test_pretraining_counts_six_flops_per_weight_and_trained_token(run_root: Path):
    write_jsonl(run_root / BASE / "pretrain_metrics.jsonl", [{"step": 0, "tokens/trained": 10}, {"step": 1, "tokens/trained": 20}])
    job = {"kind": "base_model", "model": "m", "method": "base", "seed": None, "job": "base_model"}
    assert job_flops(run_root, "e", job) == 6 * 1000 * 30


def test_training_counts_sampling_forward_and_the_update_forward_backward(run_root: Path):
    steps = [{"step": 0, "tokens/prompt": 5, "tokens/generated": 40, "tokens/rescored": 0, "tokens/trained": 80},
             {"step": 1, "tokens/prompt": 6, "tokens/generated": 30, "tokens/rescored": 66, "tokens/trained": 66}]
    write_jsonl(run_root / "results/e/m/grpo/seed2/train/metrics.jsonl", steps)
    job = {"kind": "train", "model": "m", "method": "grpo", "seed": 2.0, "job": "train"}  # seeds read back from CSV as floats
    assert job_flops(run_root, "e", job) == 2 * 1000 * (45 + 36 + 66) + 6 * 1000 * (80 + 66)


def write_cell(path: Path, prompt: int, generated: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metrics": {}, "tokens": {"prompt": prompt, "generated": generated}}))


def test_evaluation_counts_each_prompt_once_and_every_generated_token(run_root: Path):
    write_cell(run_root / "results/e/m/base/seed0/eval/arith.json", 20, 100)
    job = {"kind": "eval", "model": "m", "method": "base", "seed": 0, "job": "eval-arith"}
    assert job_flops(run_root, "e", job) == 2 * 1000 * 120


def test_an_evaluation_run_by_the_training_job_counts_for_the_training_job(run_root: Path):
    cell = run_root / "results/e/m/grpo/seed1"
    write_jsonl(cell / "train/metrics.jsonl",
                [{"step": 0, "tokens/prompt": 5, "tokens/generated": 40, "tokens/rescored": 0, "tokens/trained": 80}])
    write_cell(cell / "model/evaluations/arith.json", 20, 100)  # the training job's (harness.handoff) ...
    (cell / "eval").mkdir()
    shutil.copyfile(cell / "model/evaluations/arith.json", cell / "eval/arith.json")  # ... adopted: a copy
    write_cell(cell / "model/evaluations/countdown.json", 10, 50)  # ... and one its evaluation job did not adopt
    write_cell(cell / "eval/countdown.json", 10, 60)
    train = {"kind": "train", "model": "m", "method": "grpo", "seed": 1.0, "job": "train"}
    assert job_flops(run_root, "e", train) == 2 * 1000 * 45 + 6 * 1000 * 80 + 2 * 1000 * 120
    adopting = {"kind": "eval", "model": "m", "method": "grpo", "seed": 1, "job": "eval-arith"}
    evaluating = {**adopting, "job": "eval-countdown"}
    assert job_flops(run_root, "e", adopting) == 0 and job_flops(run_root, "e", evaluating) == 2 * 1000 * 70


def test_logs_without_token_counts_are_refused_with_the_file_named(run_root: Path):
    write_jsonl(run_root / BASE / "pretrain_metrics.jsonl", [{"step": 0, "loss": 1.0}])
    with pytest.raises(KeyError, match="pretrain_metrics.jsonl records no token counts"):
        job_flops(run_root, "e", {"kind": "base_model", "model": "m", "method": "base", "seed": None, "job": "base_model"})
    with pytest.raises(ValueError, match="expected base_model, train or eval"):
        job_flops(run_root, "e", {"kind": "table", "model": "m", "method": "base", "seed": None, "job": "table"})


def test_two_flops_per_weight_and_token_are_the_models_matrix_products(tiny_policy_dir: Path):
    """Every weight but the norms' scales is a matrix-product weight (the tied LM head included),
    so the count differs from torch's by the norms alone: under 0.2% at the tiny setting's shape."""
    _, tokenizer = load_policy(tiny_policy_dir)
    model = build_tiny_llama(tokenizer, 128, 2, 4, 2, 384, 128, 0)
    ids = torch.randint(0, model.config.vocab_size, (2, 48), generator=torch.Generator().manual_seed(0))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(input_ids=ids)
    weight_products = {torch.ops.aten.mm, torch.ops.aten.addmm}  # attention's own products are bmm
    products = sum(n for op, n in counter.get_flop_counts()["Global"].items() if op in weight_products)
    assert products == pytest.approx(2 * count_parameters(model) * ids.numel(), rel=2e-3)
