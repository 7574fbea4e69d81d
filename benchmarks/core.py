"""Core timing figures, printed as Markdown (run: `make bench` or `python benchmarks/core.py`).

1. The KV-cache sampler against transformers `generate` on the same model: with eos suppressed
   (every row generates exactly the same number of tokens) and on real training rollouts.
2. A GRPO training-step breakdown on the tiny setting: rollout, scoring, log-prob recompute
   (a no-grad pass) and the policy update (forward + backward + optimizer step).
3. The update's FLOP rate against the matrix-product peak of one thread, measured in the same
   run under pinned numerics (the OpenBLAS kernel every job runs) and native ones (MKL).

Uses the pre-trained tiny model of the default pipeline if it exists
(results/tiny/tiny-llama/base/model), else a random-init model of the same shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

# first: _common imports harness, which pins the numerics before torch loads
from _common import experiment, matmul_peak, parse_args, policy_dir, start_math_verify, train_records

# isort: split

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness import numerics
from harness.gqa_decode import transformers_attention
from harness.grpo import group_advantages, old_policy_pass, policy_update
from harness.modeling import load_policy
from harness.prompts import prompt_ids, record_prompt_ids
from harness.sampling.torch_sampler import TorchSampler, left_pad
from harness.temperature.base import constant
from harness.train import build_run, rollout_step, score


def sampler_vs_generate(cfg, model_dir: Path, batch: int, length: int, repeats: int) -> None:
    """Throughput of the two samplers on one model, (a) with eos suppressed, so every row
    generates exactly `length` tokens, and (b) on real training rollouts: `batch` / G distinct
    training prompts x G rows, eos kept, up to the training length (finished rows leave our batch;
    `generate` keeps them, padded, until the longest row ends). Each sampler draws with sampling
    seeds 0 .. repeats-1 in turn (the three interleaved, seed by seed), and its tokens/s is the
    tokens it sampled over the time it took: with real rollouts a seed's responses may be short or
    long, and over several seeds both samplers see the same spread of lengths."""
    model, tok = load_policy(model_dir)
    g = cfg.train.group_size
    fixed = [prompt_ids(tok, "32+0-26-0+9=?")] * batch
    real = [record_prompt_ids(tok, r, "chat") for r in train_records(cfg, max(batch // g, 1) * 50)[: max(batch // g, 1)] for _ in range(g)]
    print(f"\n### Sampler vs transformers generate ({torch.get_num_threads()} thread(s), sampling seeds 0-{repeats - 1} "
          "after a warm-up: mean seconds per call, tokens/s over all)\n")
    print("| rollouts | rows x new tokens | harness TorchSampler, s | tokens/s | generate, s | tokens/s | ratio "
          "| generate, transformers' attention, s | tokens/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, prompts, eos, new in (("eos suppressed", fixed, -1, length), ("real (eos kept)", real, tok.eos_token_id, cfg.train.max_new_tokens)):
        ids, mask = left_pad(prompts, tok.pad_token_id)
        hf_lengths = {"min_new_tokens": new} if eos < 0 else {"eos_token_id": tok.eos_token_id}

        def ours(seed: int) -> int:
            sampler = TorchSampler(model, eos_id=eos, pad_id=tok.pad_token_id, generator=torch.Generator().manual_seed(seed))
            return int(sampler.generate(prompts, constant(1.0), new).mask.sum())

        def hf_generate(seed: int) -> int:
            torch.manual_seed(seed)
            out = model.generate(ids, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                 max_new_tokens=new, pad_token_id=tok.pad_token_id, **hf_lengths)
            return int((out[:, ids.shape[1]:] != tok.pad_token_id).sum())

        def stock_generate(seed: int) -> int:
            with transformers_attention():
                return hf_generate(seed)

        (t_ours, speed), (t_hf, hf), (t_stock, stock) = over_seeds((ours, hf_generate, stock_generate), repeats)
        print(f"| {name} | {len(prompts)} x {new} | {t_ours:.3f} | {speed:,.0f} | {t_hf:.3f} | {hf:,.0f} | "
              f"{speed / hf:.2f} | {t_stock:.3f} | {stock:,.0f} | {speed / stock:.2f} |")
    print("\nratio: our tokens/s over generate's (both count the tokens each sampled up to its eos). `generate` runs "
          "the model as the harness does (pinned numerics, harness.gqa_decode's decode attention), then with "
          "transformers' own attention, as outside the harness.")


def over_seeds(samplers: tuple[Callable[[int], int], ...], seeds: int) -> list[tuple[float, float]]:
    """Each sampler's mean seconds per call and tokens per second over sampling seeds 0 .. seeds-1,
    after a warm-up call each; the samplers take turns at every seed, so that the machine's drift
    hits all alike. A sampler is called with a seed and returns how many tokens it sampled."""
    for sample in samplers:
        sample(0)
    seconds, tokens = [0.0] * len(samplers), [0] * len(samplers)
    for seed in range(seeds):
        for i, sample in enumerate(samplers):
            start = time.perf_counter()
            tokens[i] += sample(seed)
            seconds[i] += time.perf_counter() - start
    return [(s / seeds, n / s) for s, n in zip(seconds, tokens, strict=True)]


PEAKS = {  # (numerics mode, library): what the row measures
    ("pinned", "torch"): "pinned numerics: OpenBLAS's Haswell kernel (AVX2), what every job runs",
    ("native", "torch"): "native numerics: torch's own product (MKL)",
    ("native", "numpy"): "native numerics: numpy's OpenBLAS with the kernel it picks for this CPU",
}


def train_step_breakdown(cfg, model_dir: Path, steps: int, peak_n: int) -> None:
    run = build_run(model_dir, train_records(cfg, 5000), {"controller": "fixed", "temperature": 1.0}, cfg.train, seed=0)
    parts: dict[str, list[float]] = {"rollout": [], "score": [], "log-prob recompute (no grad)": [], "update (fwd + bwd + step)": []}
    micro = cfg.train.micro_batch_size or 10**9
    start_math_verify()
    for step in range(steps + 1):
        t0 = time.perf_counter()
        batch = run.prompts.next(cfg.train.prompts_per_step)
        rollout = rollout_step(run, step, batch)
        t1 = time.perf_counter()
        rewards = score(run, rollout, batch)
        t2 = time.perf_counter()
        old = old_policy_pass(run.policy, rollout, rollout.temperatures, micro)
        t3 = time.perf_counter()
        advantages = group_advantages(rewards, cfg.train.group_size)
        policy_update(run.policy, run.optimizer, run.scheduler, rollout, advantages, old, None, cfg.train, run.update_generator)
        t4 = time.perf_counter()
        if step > 0:  # step 0 warms up (worker start, allocator)
            for key, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                parts[key].append(dt)
    with FlopCounterMode(display=False) as flops:  # one more update, counted (products and attention, fwd + bwd)
        policy_update(run.policy, run.optimizer, run.scheduler, rollout, advantages, old, None, cfg.train, run.update_generator)
    update_gflops = flops.get_total_flops() / 1e9
    total = sum(statistics.mean(v) for v in parts.values())
    print(f"\n### GRPO step breakdown ({cfg.train.prompts_per_step} prompts x {cfg.train.group_size} rollouts, "
          f"micro-batch {cfg.train.micro_batch_size}, {torch.get_num_threads()} thread(s), mean of {steps} steps)\n")
    print("| part | seconds | share |\n|---|---|---|")
    for key, values in parts.items():
        print(f"| {key} | {statistics.mean(values):.3f} | {statistics.mean(values) / total:.0%} |")
    print(f"| total | {total:.3f} | |")
    achieved = update_gflops / statistics.mean(parts["update (fwd + bwd + step)"])
    peaks = {what: matmul_peak(mode, library, peak_n, 5) for (mode, library), what in PEAKS.items()}
    print(f"\n### Update (forward + backward + step) against the CPU's matrix-product peak ({update_gflops:.2f} GFLOP per update)\n")
    print(f"| peak measured in this run (1 thread, {peak_n} x {peak_n} float32 product) | GFLOP/s | update's share of it |")
    print("|---|---|---|")
    for what, peak in peaks.items():
        print(f"| {what} | {peak:.1f} | {achieved / peak:.0%} |")
    print(f"\nThe update achieves {achieved:.1f} GFLOP/s ({numerics.mode()} numerics); FLOPs counted by torch.utils.flop_counter.")
    print("\nThe trainer skips the recompute pass when each batch gets one optimizer step (the update's own forward is then theta_old).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--length", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--peak-n", type=int, default=1024, help="size of the square product that measures the peak")
    args = parse_args(parser, {"batch": 4, "length": 8, "repeats": 1, "steps": 1, "peak_n": 128})
    cfg = experiment(args.smoke)
    model_dir = policy_dir(cfg)
    print(f"model: {model_dir}")
    sampler_vs_generate(cfg, model_dir, args.batch, args.length, args.repeats)
    train_step_breakdown(cfg, model_dir, args.steps, args.peak_n)


if __name__ == "__main__":
    main()
