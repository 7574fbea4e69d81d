"""Supervised fine-tuning of the tiny random-init base model on demonstrations.

The loss covers the answer tokens only (prompt tokens are masked), AdamW with linear warm-up
and cosine decay. The number of steps, not wall time, sets how skilled the base model is, so
the result is the same on every machine (under the pinned numerics of harness/numerics.py).

Each batch is sorted by length and run in micro-batches, so the forward passes compute little
padding (answers range from a 5-token direct answer to a 45-token worked chain); the loss is
still the mean over every answer token of the batch. With `ema_decay`, the saved weights are
an exponential moving average of the iterates: the last steps' SGD noise (e.g. in how often
the model answers directly, one token's decision) then averages out instead of deciding the
base model's skill.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_cosine_with_min_lr_schedule_with_warmup

from harness.config import PretrainConfig
from harness.progress import progress
from harness.prompts import SftEncoder

IGNORE = -100


def collate(examples: list[tuple[list[int], int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (B, T) and labels (B, T) with prompt and padding set to IGNORE, on the CPU."""
    width, cpu = max(len(ids) for ids, _ in examples), torch.device("cpu")
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long, device=cpu)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long, device=cpu)
    for row, (seq, answer_start) in enumerate(examples):
        ids[row, : len(seq)] = torch.tensor(seq, device=cpu)
        labels[row, answer_start : len(seq)] = torch.tensor(seq[answer_start:], device=cpu)
    return ids, labels


def batch_loss(model: PreTrainedModel, examples: list[tuple[list[int], int]], pad_id: int, micro_batch: int) -> float:
    """Backpropagate the mean token loss of the batch, `micro_batch` rows of similar length at a
    time; returns that mean."""
    examples = sorted(examples, key=lambda e: len(e[0]))
    answer_tokens = sum(len(seq) - start for seq, start in examples)
    total = 0.0
    for begin in range(0, len(examples), micro_batch):
        ids, labels = (t.to(model.device) for t in collate(examples[begin : begin + micro_batch], pad_id))
        logits = model(input_ids=ids, attention_mask=(ids != pad_id).long()).logits  # (b, T, V)
        loss = torch.nn.functional.cross_entropy(  # next-token targets, summed over the answer tokens
            logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=IGNORE, reduction="sum"
        ) / answer_tokens
        loss.backward()
        total += float(loss.detach())
    return total


def sft(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[dict],
    cfg: PretrainConfig,
    log_path: Path,
    solution: Callable[[dict, random.Random], str] = lambda record, rng: record["solution"],
) -> dict[str, float]:
    """Train on `solution(record, rng)` for records drawn uniformly with replacement; with
    `cfg.ema_decay`, `model` ends with the averaged weights."""
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_with_min_lr_schedule_with_warmup(
        optimizer,
        num_warmup_steps=math.ceil(cfg.warmup_ratio * cfg.steps),
        num_training_steps=cfg.steps,
        min_lr_rate=cfg.min_lr_ratio,
    )
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay)) if cfg.ema_decay is not None else None
    encode = SftEncoder(tokenizer)
    model.train()
    with log_path.open("w") as log:
        for step in (bar := progress(range(cfg.steps), "pre-training", mininterval=5)):
            batch = [records[rng.randrange(len(records))] for _ in range(cfg.batch_size)]
            examples = encode(batch, [solution(r, rng) for r in batch])
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(model, examples, tokenizer.pad_token_id, cfg.micro_batch_size)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            if average is not None:
                average.update_parameters(model)
            row = {"step": step, "loss": loss, "grad_norm": float(grad_norm), "lr": scheduler.get_last_lr()[0],
                   "tokens/trained": sum(len(ids) for ids, _ in examples)}  # forward + backward, no padding
            log.write(json.dumps(row) + "\n")
            bar.set_postfix(loss=f"{row['loss']:.3f}", refresh=False)
    if average is not None:
        with torch.no_grad():
            for mine, averaged in zip(model.parameters(), average.module.parameters()):
                mine.copy_(averaged)
    model.eval()
    return row
