"""IntroLLM Table 3 measured on the configured model: what the temperature head adds in
parameters and FLOPs, and generation throughput with and without it at several context lengths.

Throughput is measured with the harness's own sampler (batch 1, eos suppressed so every run
generates exactly `new_tokens`), once with a constant temperature and once with the IntroLLM
head deciding each token's temperature from the hidden state; the best of `repeats` timings is
kept. FLOPs per generated token are counted analytically: 2 per weight of the decoder and the
LM head plus attention over the context (4 x layers x context x hidden), and 2 per head weight.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import torch

from harness.io import atomic_path
from harness.modeling import count_parameters, load_policy
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import ControllerContext, TokenPolicy, build_controller, constant


def tokens_per_second(sampler: TorchSampler, policy: TokenPolicy, context: int, new_tokens: int, repeats: int) -> float:
    vocab = sampler.model.config.vocab_size
    prompt = [[i % vocab for i in range(context)]]  # arbitrary in-vocabulary ids
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        rollout = sampler.generate(prompt, policy, new_tokens)
        best = min(best, time.perf_counter() - start)
    return int(rollout.lengths.sum()) / best


def efficiency_table(model_dir: Path, method: dict, contexts: list[int], new_tokens: int = 32, repeats: int = 3) -> pd.DataFrame:
    """Rows: default sampling and the temperature head; columns: parameters, their share, FLOPs
    per token and throughput (tokens/s) per context length."""
    model, _ = load_policy(model_dir)
    cfg = model.config
    ctx = ControllerContext(total_steps=1, hidden_size=cfg.hidden_size, seed=0, model_parameters=count_parameters(model))
    head = build_controller(method, ctx)  # a controller with a `head` module (IntroLLM)
    head_params = count_parameters(head.head)
    base_params = count_parameters(model)
    sampler = TorchSampler(model, eos_id=-1, pad_id=0, generator=torch.Generator(device="cpu").manual_seed(0))  # -1: never eos
    rows = []
    for name, policy_fn, extra in (("default sampling", lambda: constant(1.0), 0), ("temperature head", head.eval_policy, head_params)):
        row: dict[str, object] = {"method": name, "parameters": base_params + extra,
                                  "parameter delta %": 100.0 * extra / base_params}
        for c in contexts:
            flops = 2 * base_params + 4 * cfg.num_hidden_layers * c * cfg.hidden_size + 2 * extra
            row[f"GFLOPs/token @{c}"] = flops / 1e9
            row[f"tokens/s @{c}"] = tokens_per_second(sampler, policy_fn(), c, new_tokens, repeats)
        rows.append(row)
    return pd.DataFrame(rows)


def write_efficiency(frame: pd.DataFrame, stem: Path, title: str) -> None:
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(f"# {title}\n\n" + frame.to_markdown(index=False, floatfmt=".4g") + "\n")
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        frame.to_csv(tmp, index=False)
