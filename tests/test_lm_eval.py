"""lm-eval integration: the tempo_* tasks match the registry, the lm-eval engine reproduces the
native engine sample for sample, and the documented `lm_eval` command line runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.benchmarks import registry
from harness.config import load_config
from harness.io import read_jsonl, write_jsonl
from harness.lm_eval_model import TASK_DIR
from harness.stages import evaluate_cell

REPO = Path(__file__).resolve().parent.parent


def test_every_registered_benchmark_is_an_lm_eval_task():
    tasks = {p.stem: yaml.safe_load(p.read_text()) for p in TASK_DIR.glob("tempo_*.yaml")}
    assert set(tasks) == {f"tempo_{name}" for name in registry()}
    for name, spec in registry().items():
        task = tasks[f"tempo_{name}"]
        assert task["metadata"] == {"benchmark": name, "version": spec.version}
        assert task["generation_kwargs"]["max_gen_toks"] == spec.max_new_tokens


def test_lm_eval_engine_reproduces_the_native_engine(tmp_path, toy_policy_dir, toy_records):
    cfg = load_config(REPO / "configs" / "smoke.yaml")
    cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(update={"n_samples": 16, "ks": [1, 16]})})  # some right, some wrong
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records)
    args = ("tiny-llama", "base", 0, "arith", toy_policy_dir, data)
    native = evaluate_cell(cfg, *args, tmp_path / "native.json", tmp_path / "native.jsonl")
    lm_cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(update={"engine": "lm_eval"})})
    through_lm_eval = evaluate_cell(lm_cfg, *args, tmp_path / "lm.json", tmp_path / "lm.jsonl")
    rows = read_jsonl(tmp_path / "lm.jsonl")
    assert len(rows) == len(toy_records) * cfg.eval.n_samples  # all k samples kept
    assert rows == read_jsonl(tmp_path / "native.jsonl")  # same sampler, seed and order
    assert 0 < native["avg@16"] < 1
    assert through_lm_eval["lm_eval"]["avg_at_n,all_samples"] == pytest.approx(native["avg@16"])
    assert through_lm_eval["lm_eval"]["pass_at_n,all_samples"] == pytest.approx(native["pass@16"])


def test_documented_lm_eval_command_line(tmp_path, toy_policy_dir, toy_records):
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records)
    model_args = f"config=configs/smoke.yaml,model=tiny-llama,method=base,seed=0,model_dir={toy_policy_dir}"
    cmd = [
        sys.executable, "-m", "harness.lm_eval_model", "run", "--model", "tempo-harness", "--model_args", model_args,
        "--include_path", str(TASK_DIR), "--tasks", "tempo_arith", "--metadata", json.dumps({"data": str(data)}),
        "--log_samples", "--output_path", str(tmp_path / "out"),
    ]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    (samples_file,) = tmp_path.glob("out/**/samples_tempo_arith_*.jsonl")
    samples = read_jsonl(samples_file)
    assert len(samples) == 2 and all(len(s["filtered_resps"][0]) == 8 for s in samples)  # repeats: 8 kept
    (results_file,) = tmp_path.glob("out/**/results_*.json")
    metrics = json.loads(results_file.read_text())["results"]["tempo_arith"]
    assert 0 <= metrics["avg_at_n,all_samples"] <= metrics["pass_at_n,all_samples"] <= 1
