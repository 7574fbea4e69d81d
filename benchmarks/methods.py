"""Cost of each temperature method next to fixed-temperature GRPO, measured in one run
(run: `python benchmarks/methods.py [--smoke]`; with the numerics of a pipeline job).

1. Training-step time of every method of configs/tiny.yaml on the tiny setting, from the same
   base model, interleaved round-robin so that machine noise hits every method alike. Since
   methods change what is generated (longer or shorter responses), the fair figure is the time
   per generated token relative to fixed-temperature GRPO; the time spent inside the method's
   own code (its policy during sampling, token statistics, update) is reported too.
2. TAMPO's memory: peak extra memory of its K-temperature likelihoods on a large synthetic
   vocabulary, against a naive version that keeps K x V log-probabilities, each measured in a
   fresh process (peak RSS).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict

# first: _common imports harness, which pins the numerics before torch loads
from _common import experiment, parse_args, policy_dir, start_math_verify, train_records

# isort: split

import torch

from harness.temperature.base import TemperatureController, TokenPolicy
from harness.train import build_run, grpo_step


class Timed(TokenPolicy):
    """Wraps a policy and adds the time spent in it to `clock`."""

    def __init__(self, inner: TokenPolicy, clock: dict[str, float]):
        self.inner, self.clock = inner, clock

    def __call__(self, position, logits, hidden, rows):
        start = time.perf_counter()
        out = self.inner(position, logits, hidden, rows)
        self.clock["method"] += time.perf_counter() - start
        return out

    def records(self):
        start = time.perf_counter()
        out = self.inner.records()
        self.clock["method"] += time.perf_counter() - start
        return out


def instrument(controller: TemperatureController, clock: dict[str, float]) -> None:
    """Count the time spent in the controller's own code."""
    for name in ("token_stats", "update"):
        original = getattr(controller, name)

        def timed(*args, _original=original, **kwargs):
            start = time.perf_counter()
            out = _original(*args, **kwargs)
            clock["method"] += time.perf_counter() - start
            return out

        setattr(controller, name, timed)
    policy = controller.policy
    controller.policy = lambda step, g: Timed(policy(step, g), clock)


def step_costs(smoke: bool, steps: int, warmup: int) -> None:
    cfg = experiment(smoke)
    base = policy_dir(cfg)
    records = train_records(cfg, 5000)
    runs, clocks = {}, {}
    for name in cfg.methods:
        torch.manual_seed(0)
        runs[name] = build_run(base, records, cfg.controller_spec(name), cfg.train_config(name), seed=0)
        clocks[name] = defaultdict(float)
        instrument(runs[name].controller, clocks[name])
    start_math_verify()
    seconds: dict[str, list[float]] = defaultdict(list)  # per measured round
    tokens: dict[str, list[float]] = defaultdict(list)
    in_method: dict[str, list[float]] = defaultdict(list)
    for step in range(warmup + steps):
        order = list(runs)
        random.Random(step).shuffle(order)  # round-robin in a new order each round: drift and position hit all alike
        for name in order:
            clocks[name]["method"] = 0.0
            metrics = grpo_step(runs[name], step)
            if step >= warmup:
                seconds[name].append(metrics["time/step"])
                tokens[name].append(metrics["response_length"] * cfg.train.prompts_per_step * cfg.train.group_size)
                in_method[name].append(clocks[name]["method"])
    print(f"model: {base}")
    print(f"\n### Training-step cost per method ({cfg.train.prompts_per_step} x {cfg.train.group_size} rollouts, "
          f"{steps} steps after {warmup} warm-up, every method once per round in a shuffled order, "
          f"{torch.get_num_threads()} thread)\n")
    print("| method | s / step | tokens / step | s per 1k tokens | vs grpo-t1.0 per token: median over rounds [range] "
          "| in method code |")
    print("|---|---|---|---|---|---|")
    ref = "grpo-t1.0"
    for name in runs:
        ratios = [(s / n) / (rs / rn) - 1 for s, n, rs, rn in zip(seconds[name], tokens[name], seconds[ref], tokens[ref])]
        print(f"| {name} | {statistics.mean(seconds[name]):.3f} | {statistics.mean(tokens[name]):.0f} | "
              f"{1000 * sum(seconds[name]) / sum(tokens[name]):.3f} | {statistics.median(ratios):+.1%} "
              f"[{min(ratios):+.0%}, {max(ratios):+.0%}] | {sum(in_method[name]) / sum(seconds[name]):.1%} |")


MEMORY_CHILD = """
import sys
from harness import numerics
from harness.logprobs import chosen_logprob
import torch

def status(key):  # kB, from the kernel's accounting of this process
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key))

mode, k, vocab = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
numerics.configure(int(sys.argv[4]))
g = torch.Generator().manual_seed(0)
logits = torch.randn(4, 256, vocab, generator=g)
tokens = torch.randint(0, vocab, (4, 256), generator=g)
temps = [0.6 + 0.1 * i for i in range(k)]
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS")
if mode == "harness":  # what harness.temperature.tampo.Tampo.token_stats does
    out = torch.stack([chosen_logprob(logits, tokens, t) for t in temps], -1)
else:  # naive: K x V log-probabilities at once
    out = torch.log_softmax(logits.unsqueeze(-2) / torch.tensor(temps)[:, None], -1)
    out = out.gather(-1, tokens[..., None, None].expand(-1, -1, k, 1)).squeeze(-1)
print((status("VmHWM") - before) / 1024)
"""


def tampo_memory(ks: list[int], vocab: int, threads: int) -> None:
    print(f"\n### TAMPO virtual-temperature likelihoods: extra peak memory (MiB), logits 4 x 256 x {vocab:,} "
          f"({4 * 256 * vocab * 4 / 2**20:.0f} MiB)\n")
    print("| K | harness (per-temperature logsumexp) | naive (K x V log-probs) |\n|---|---|---|")
    for k in ks:
        row = []
        for mode in ("harness", "naive"):
            child = [MEMORY_CHILD, mode, str(k), str(vocab), str(threads)]
            out = subprocess.run([sys.executable, "-c", *child], capture_output=True, text=True)
            row.append(float(out.stdout.strip()) if out.returncode == 0 else float("nan"))
        print(f"| {k} | {row[0]:.0f} | {row[1]:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 5, 10, 20], help="TAMPO's virtual temperatures")
    parser.add_argument("--vocab", type=int, default=32_000)
    args = parse_args(parser, {"steps": 1, "warmup": 1, "ks": [2], "vocab": 256})
    step_costs(args.smoke, args.steps, args.warmup)
    tampo_memory(args.ks, args.vocab, args.threads)


if __name__ == "__main__":
    main()
