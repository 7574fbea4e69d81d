"""Supervised fine-tuning of the tiny random-init base model on worked solutions.

The loss covers the answer tokens only (prompt tokens are masked), AdamW with linear warm-up
and cosine decay. The number of steps, not wall time, sets how skilled the base model is, so
the result is the same on every machine.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_cosine_with_min_lr_schedule_with_warmup

from harness.config import PretrainConfig
from harness.prompts import sft_example

IGNORE = -100


def collate(examples: list[tuple[list[int], int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (B, T) and labels (B, T) with prompt and padding set to IGNORE."""
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for row, (seq, answer_start) in enumerate(examples):
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, answer_start : len(seq)] = torch.tensor(seq[answer_start:])
    return ids, labels


def sft(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[dict],
    cfg: PretrainConfig,
    log_path: Path,
    solution: Callable[[dict, random.Random], str] = lambda record, rng: record["solution"],
) -> dict[str, float]:
    """Train on `solution(record, rng)` for records drawn uniformly with replacement."""
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_with_min_lr_schedule_with_warmup(
        optimizer,
        num_warmup_steps=math.ceil(cfg.warmup_ratio * cfg.steps),
        num_training_steps=cfg.steps,
        min_lr_rate=cfg.min_lr_ratio,
    )
    model.train()
    with log_path.open("w") as log:
        for step in (bar := tqdm(range(cfg.steps), desc="pretrain")):
            batch = [records[rng.randrange(len(records))] for _ in range(cfg.batch_size)]
            examples = [sft_example(tokenizer, r, solution(r, rng)) for r in batch]
            ids, labels = collate(examples, tokenizer.pad_token_id)
            loss = model(input_ids=ids, attention_mask=(ids != tokenizer.pad_token_id).long(), labels=labels).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            row = {"step": step, "loss": float(loss.detach()), "grad_norm": float(grad_norm), "lr": scheduler.get_last_lr()[0]}
            log.write(json.dumps(row) + "\n")
            bar.set_postfix(loss=f"{row['loss']:.3f}")
    model.eval()
    return row
