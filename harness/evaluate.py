"""Evaluation: each method's temperatures under the config's protocol, n samples per problem,
Pass@k (unbiased), Avg@n, per-level breakdowns, 95% bootstrap intervals over problems, by the
strict and the flexible reading of each reply (harness.benchmarks.scoring), and every
generation kept for inspection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from harness.benchmarks.scoring import Verdict, verdicts
from harness.config import EvalConfig, ExperimentConfig
from harness.metrics import READINGS, avg_at_n, bootstrap_interval, pass_at_k
from harness.paths import CONTROLLER_FILE
from harness.progress import progress
from harness.prompts import PromptFormat, record_prompt_ids
from harness.sampling.base import Sampler
from harness.sampling.torch_sampler import draw_seeds
from harness.sandbox import require
from harness.temperature.base import ControllerContext, TokenPolicy, build_controller, constant


@dataclass(frozen=True)
class Generation:
    text: str
    length: int  # generated tokens, eos included
    temperature_mean: float  # mean sampling temperature over those tokens
    temperatures: tuple[float, ...] = ()  # per token, kept only when they vary within the response


def eval_policy(
    cfg: ExperimentConfig, method: str, model_dir: Path, hidden_size: int, seed: int, device: torch.device
) -> TokenPolicy:
    """A fresh temperature policy for one generation call on the policy's `device`, by the
    config's eval protocol: one fixed T for every model (TAMPO), or each method's own strategy
    (IntroLLM), its trained state loaded whatever device trained it."""
    if cfg.eval.temperature != "method" or method == "base":
        return constant(1.0 if cfg.eval.temperature == "method" else float(cfg.eval.temperature), device)
    ctx = ControllerContext(total_steps=cfg.train_config(method).steps, hidden_size=hidden_size, seed=seed, device=device)
    controller = build_controller(cfg.controller_spec(method), ctx)
    controller.load_state_dict(torch.load(model_dir / CONTROLLER_FILE, weights_only=False, map_location="cpu"))
    return controller.eval_policy()


def generate(
    sampler: Sampler,
    tokenizer: PreTrainedTokenizerBase,
    policy: Callable[[], TokenPolicy],
    prompts: list[list[int]],
    max_new_tokens: int,
    batch_size: int,
) -> list[Generation]:
    """One sampled response per prompt, in batches, each batch with a fresh temperature policy.
    Row seeds are drawn once for all prompts, so the responses do not depend on `batch_size`."""
    out: list[Generation] = []
    seeds = draw_seeds(sampler.generator, len(prompts))
    for start in progress(range(0, len(prompts), batch_size), "generation batches"):
        batch = slice(start, start + batch_size)
        rollout = sampler.generate(prompts[batch], policy(), max_new_tokens, seeds=seeds[batch])
        texts = tokenizer.batch_decode(rollout.tokens, skip_special_tokens=True)
        lengths = rollout.lengths
        temp_means = (rollout.temperatures * rollout.mask).sum(-1) / lengths.clamp(min=1)
        for text, n, mean, temps in zip(texts, lengths.long().tolist(), temp_means.tolist(), rollout.temperatures):
            temps = temps[:n]
            varying = n > 1 and bool((temps != temps[0]).any())
            out.append(Generation(text, n, mean, tuple(round(t, 4) for t in temps.tolist()) if varying else ()))
    return out


def sample_row(record: dict, sample: int, generation: Generation, verdict: Verdict) -> dict:
    """The generations file's row for one sampled response, with both verdicts."""
    return {
        "id": record["id"],
        "level": record.get("level"),
        "sample": sample,
        "response": generation.text,
        "answer": record["answer"],
        "correct": verdict.correct,
        "correct_flexible": verdict.flexible,
        "length": generation.length,
        "temperature_mean": generation.temperature_mean,
        **({"temperatures": list(generation.temperatures)} if generation.temperatures else {}),
    }


def generate_and_score(
    sampler: Sampler,
    tokenizer: PreTrainedTokenizerBase,
    policy: Callable[[], TokenPolicy],
    records: list[dict],
    cfg: EvalConfig,
    max_new_tokens: int,
    prompt_format: PromptFormat = "chat",
) -> list[dict]:
    """n samples per problem, each scored by its record's scorer: one row per sample."""
    if any(r["task"] == "code" for r in records):
        require(cfg.sandbox)  # an unavailable sandbox is refused before generating, so no generation is lost
    prompts = [record_prompt_ids(tokenizer, r, prompt_format) for r in records]
    jobs = [(r, s, p) for r, p in zip(records, prompts) for s in range(cfg.n_samples)]
    generations = generate(sampler, tokenizer, policy, [p for _, _, p in jobs], max_new_tokens, cfg.batch_size)
    scores = verdicts([r for r, _, _ in jobs], [g.text for g in generations], cfg.score_timeout, cfg.sandbox)
    return [sample_row(r, s, g, v) for (r, s, _), g, v in zip(jobs, generations, scores)]


def summarize(rows: list[dict], n: int, ks: list[int]) -> dict:
    """Avg@n and Pass@k over problems, overall and per level, each with a 95% bootstrap CI: by
    the strict reading under the plain keys (avg@n, pass@k), by the flexible one under
    `flexible_` keys (flexible_avg@n, ...)."""
    correct: dict[str, dict[str, int]] = {field: defaultdict(int) for field in READINGS.values()}
    level: dict[str, object] = {}
    for row in rows:
        for field, counts in correct.items():
            counts[row["id"]] += int(row[field] > 0)
        level[row["id"]] = row["level"]

    def block(ids: list[str]) -> dict:
        out: dict = {"problems": len(ids)}
        for prefix, field in READINGS.items():
            counts = [correct[field][i] for i in ids]
            out[f"{prefix}avg@{n}"] = avg_at_n(counts, n)
            out[f"{prefix}avg@{n}_ci95"] = bootstrap_interval(np.asarray(counts) / n)
            for k in ks:
                per_problem = [pass_at_k(n, c, k) for c in counts]
                out[f"{prefix}pass@{k}"] = float(np.mean(per_problem))
                out[f"{prefix}pass@{k}_ci95"] = bootstrap_interval(per_problem)
        return out

    ids = list(level)
    summary = block(ids)
    levels = sorted({lv for lv in level.values() if lv is not None})
    if levels:
        summary["by_level"] = {str(lv): block([i for i in ids if level[i] == lv]) for lv in levels}
    summary["temperature_mean"] = float(np.mean([r["temperature_mean"] for r in rows]))
    summary["response_length"] = float(np.mean([r["length"] for r in rows]))
    return summary
