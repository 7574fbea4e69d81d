"""Evaluation: n samples per problem, Pass@k (unbiased), Avg@n, per-level breakdowns, 95%
bootstrap intervals over problems, and every generation kept for inspection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch
from tqdm import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from harness.config import EvalConfig
from harness.metrics import avg_at_n, bootstrap_interval, pass_at_k
from harness.prompts import prompt_ids
from harness.rewards import math_rewards
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import TokenPolicy


def generate_and_score(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    policy: Callable[[], TokenPolicy],
    records: list[dict],
    cfg: EvalConfig,
    seed: int,
) -> list[dict]:
    """One row per (problem, sample): the response, its score and its temperatures."""
    sampler = TorchSampler(model, tokenizer.eos_token_id, tokenizer.pad_token_id, torch.Generator().manual_seed(seed))
    prompts = [prompt_ids(tokenizer, r["problem"]) for r in records]
    jobs = [(i, s) for i in range(len(records)) for s in range(cfg.n_samples)]
    rows: list[dict] = []
    for start in tqdm(range(0, len(jobs), cfg.batch_size), desc="eval"):
        chunk = [(records[i], s, prompts[i]) for i, s in jobs[start : start + cfg.batch_size]]
        rollout = sampler.generate([p for _, _, p in chunk], policy(), cfg.max_new_tokens)
        texts = tokenizer.batch_decode(rollout.tokens, skip_special_tokens=True)
        scores = math_rewards(texts, [r["answer"] for r, _, _ in chunk])
        temp_sums = (rollout.temperatures * rollout.mask).sum(-1)
        for i, ((record, sample, _), text, correct) in enumerate(zip(chunk, texts, scores)):
            rows.append({
                "id": record["id"],
                "level": record.get("level"),
                "sample": sample,
                "response": text,
                "answer": record["answer"],
                "correct": correct,
                "length": int(rollout.lengths[i]),
                "temperature_mean": float(temp_sums[i] / rollout.lengths[i].clamp(min=1)),
            })
    return rows


def summarize(rows: list[dict], n: int, ks: list[int]) -> dict:
    """Avg@n and Pass@k over problems, overall and per level, each with a 95% bootstrap CI."""
    correct: dict[str, int] = defaultdict(int)
    level: dict[str, object] = {}
    for row in rows:
        correct[row["id"]] += int(row["correct"] > 0)
        level[row["id"]] = row["level"]

    def block(ids: list[str]) -> dict:
        counts = [correct[i] for i in ids]
        out = {"problems": len(ids), f"avg@{n}": avg_at_n(counts, n)}
        out[f"avg@{n}_ci95"] = bootstrap_interval(np.asarray(counts) / n)
        for k in ks:
            per_problem = [pass_at_k(n, c, k) for c in counts]
            out[f"pass@{k}"] = float(np.mean(per_problem))
            out[f"pass@{k}_ci95"] = bootstrap_interval(per_problem)
        return out

    ids = list(correct)
    summary = block(ids)
    levels = sorted({lv for lv in level.values() if lv is not None})
    if levels:
        summary["by_level"] = {str(lv): block([i for i in ids if level[i] == lv]) for lv in levels}
    summary["temperature_mean"] = float(np.mean([r["temperature_mean"] for r in rows]))
    summary["response_length"] = float(np.mean([r["length"] for r in rows]))
    return summary
