"""Core timing figures, printed as Markdown (run: `make bench` or `python benchmarks/core.py`).

1. The KV-cache sampler against transformers `generate` on the same model, batch and length
   (eos suppressed in both so every row generates exactly the same number of tokens).
2. A GRPO training-step breakdown on the tiny setting: rollout, scoring, log-prob recompute
   (a no-grad pass) and the policy update (forward + backward + optimizer step).

Uses the pre-trained tiny model of the default pipeline if it exists
(results/tiny/tiny-llama/base/model), else a random-init model of the same shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

# first: _common imports harness, which pins the numerics before torch loads
from _common import experiment, parse_args, policy_dir, timed, train_records

# isort: split

import torch

from harness.grpo import group_advantages, old_policy_pass, policy_update
from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import constant
from harness.train import build_run, rollout_step, score


def sampler_vs_generate(model_dir: Path, batch: int, length: int, repeats: int) -> None:
    model, tok = load_policy(model_dir)
    prompt = prompt_ids(tok, "32+0-26-0+9=?")
    prompts = [prompt] * batch
    ours = TorchSampler(model, eos_id=-1, pad_id=tok.pad_token_id, generator=torch.Generator().manual_seed(0))
    ids = torch.tensor(prompts)

    def hf_generate():
        model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
            max_new_tokens=length, min_new_tokens=length, pad_token_id=tok.pad_token_id,
        )

    t_ours = timed(lambda: ours.generate(prompts, constant(1.0), length), repeats)
    t_hf = timed(hf_generate, repeats)
    tokens = batch * length
    print(f"\n### Sampler vs transformers generate ({batch} rows x {length} new tokens, {torch.get_num_threads()} thread(s))\n")
    print("| sampler | seconds | tokens/s |\n|---|---|---|")
    print(f"| harness TorchSampler (per-row temperature, log-probs) | {t_ours:.3f} | {tokens / t_ours:,.0f} |")
    print(f"| transformers generate (sampling) | {t_hf:.3f} | {tokens / t_hf:,.0f} |")
    print(f"\nratio (ours / generate throughput): {t_hf / t_ours:.2f}")


def train_step_breakdown(cfg, model_dir: Path, steps: int) -> None:
    run = build_run(model_dir, train_records(cfg, 5000), {"controller": "fixed", "temperature": 1.0}, cfg.train, seed=0)
    parts: dict[str, list[float]] = {"rollout": [], "score": [], "log-prob recompute (no grad)": [], "update (fwd + bwd + step)": []}
    micro = cfg.train.micro_batch_size or 10**9
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
    total = sum(statistics.mean(v) for v in parts.values())
    print(f"\n### GRPO step breakdown ({cfg.train.prompts_per_step} prompts x {cfg.train.group_size} rollouts, "
          f"micro-batch {cfg.train.micro_batch_size}, {torch.get_num_threads()} thread(s), mean of {steps} steps)\n")
    print("| part | seconds | share |\n|---|---|---|")
    for key, values in parts.items():
        print(f"| {key} | {statistics.mean(values):.3f} | {statistics.mean(values) / total:.0%} |")
    print(f"| total | {total:.3f} | |")
    print("\nThe trainer skips the recompute pass when each batch gets one optimizer step (the update's own forward is then theta_old).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--length", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    args = parse_args(parser, {"batch": 4, "length": 8, "repeats": 1, "steps": 1})
    cfg = experiment(args.smoke)
    model_dir = policy_dir(cfg)
    print(f"model: {model_dir}")
    sampler_vs_generate(model_dir, args.batch, args.length, args.repeats)
    train_step_breakdown(cfg, model_dir, args.steps)


if __name__ == "__main__":
    main()
