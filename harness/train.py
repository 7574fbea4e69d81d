"""GRPO training with a pluggable temperature controller.

One step reads top to bottom:
  rollout -> score -> advantages -> policy step -> temperature update -> log
as in both papers' algorithms (TAMPO Alg. 1: inner-loop update, then meta-policy update;
IntroLLM Alg. 1: step A on theta, then step B on phi). Learning controllers read statistics of
the batch under the policy that sampled it (theta_old), which the policy step computes on its
first forward pass, so the temperature update sees exactly what it would see before it.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_cosine_with_min_lr_schedule_with_warmup

from harness import distributed
from harness.benchmarks.scoring import score as score_responses
from harness.checkpoint import (
    StalePolicy,
    check_key,
    discard_checkpoints,
    list_checkpoints,
    load_checkpoint,
    run_key,
    save_checkpoint,
    saved_key,
)
from harness.config import TrainConfig
from harness.distributed import Parallel
from harness.grpo import (
    OldPolicy,
    ResponseLogprobs,
    group_advantages,
    loss_temperatures,
    old_policy_pass,
    policy_update,
    reuses_batch,
    tis_weights,
)
from harness.io import atomic_path, git_revision, provenance, read_jsonl, write_json
from harness.modeling import count_parameters, load_policy
from harness.paths import CONTROLLER_FILE
from harness.progress import progress
from harness.prompts import PromptFormat, record_prompt_ids
from harness.rng import rng_state, set_rng_state
from harness.rollout import Rollout, pad_columns
from harness.sampling import build_sampler
from harness.sampling.base import Sampler
from harness.sampling.torch_sampler import draw_seeds
from harness.temperature.base import ControllerContext, ScoredBatch, TemperatureController, build_controller


class PromptStream:
    """Training prompts in a reshuffled order every epoch, reproducible from its state; seeded by
    the run's seed alone, so methods with the same seed see the same prompts in the same order
    (common random numbers: tests/test_common_random_numbers.py)."""

    def __init__(self, records: list[dict], seed: int):
        self.records = records
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(records))
        self.pos = 0

    def next(self, n: int) -> list[dict]:
        out = []
        for _ in range(n):
            if self.pos == len(self.order):
                self.order, self.pos = self.rng.permutation(len(self.records)), 0
            out.append(self.records[self.order[self.pos]])
            self.pos += 1
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state, "order": self.order, "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.order, self.pos = state["order"], state["pos"]


@dataclass
class Run:
    """Everything one training run (one process of it) mutates."""

    cfg: TrainConfig
    par: Parallel
    model: PreTrainedModel  # the policy as a transformers model (sampling, saving)
    policy: torch.nn.Module  # ResponseLogprobs(model), wrapped by DDP/FSDP on several processes
    ref_policy: ResponseLogprobs | None
    seed: int
    tokenizer: PreTrainedTokenizerBase
    controller: TemperatureController
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    sampler: Sampler
    prompts: PromptStream
    update_generator: torch.Generator  # minibatch shuffling
    prompt_format: PromptFormat
    key: dict[str, Any]  # what this run's checkpoints are keyed to (harness.checkpoint.run_key)
    resumed_from: list[dict[str, Any]] = field(default_factory=list)  # checkpoints of other code revisions resumed

    def state_dict(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """The full weights (keys as in the transformers model) and the trainer state; a
        collective call on several processes (rank 0 gets the values)."""
        weights, optimizer = distributed.full_state(self.policy, self.optimizer, self.model)
        return weights, {
            "optimizer": optimizer,
            "scheduler": self.scheduler.state_dict(),
            "controller": self.controller.state_dict(),  # identical on every rank
            "prompts": self.prompts.state_dict(),
            "sampler_rng": self.sampler.generator.get_state(),
            "update_rng": self.update_generator.get_state(),
            "rng": self.par.gather(rng_state()),  # per rank: the global RNG differs between ranks
        }

    def load_state_dict(self, weights: dict[str, Tensor], state: dict[str, Any]) -> None:
        distributed.load_full_state(self.policy, self.optimizer, {f"model.{k}": v for k, v in weights.items()}, state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.controller.load_state_dict(state["controller"])
        self.prompts.load_state_dict(state["prompts"])
        self.sampler.generator.set_state(state["sampler_rng"])
        self.update_generator.set_state(state["update_rng"])
        if self.par.rank < len(state["rng"]):
            set_rng_state(state["rng"][self.par.rank])
        else:  # more processes than the run was saved from: a new rank gets a fresh stream
            torch.manual_seed(rank_seed(self.seed, self.par.rank) + state["step"])


def rank_seed(seed: int, rank: int) -> int:
    """The global torch seed of a rank: rank 0 keeps `seed`, so one process runs as before."""
    return seed + 1_000_003 * rank


def lr_schedule(optimizer: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over warmup_ratio of the optimizer steps, then cosine from lr to
    lr * min_lr_ratio at the last step (TAMPO Sec. 4.1: warm-up ratio 0.1, then cosine)."""
    n_updates = cfg.steps * cfg.updates_per_batch * cfg.minibatches
    return get_cosine_with_min_lr_schedule_with_warmup(
        optimizer, math.ceil(cfg.warmup_ratio * n_updates), n_updates, min_lr_rate=cfg.min_lr_ratio
    )


def build_run(
    base_dir: Path, train_records: list[dict], method: dict[str, Any], cfg: TrainConfig, seed: int,
    prompt_format: PromptFormat = "chat", par: Parallel = distributed.SINGLE,
) -> Run:
    torch.manual_seed(rank_seed(seed, par.rank))
    model, tokenizer = load_policy(base_dir)
    model.to(par.device)
    if cfg.gradient_checkpointing:  # only active in train mode, i.e. in the policy update
        model.activation_checkpointing_enable({"use_reentrant": False})
    ref_policy = ResponseLogprobs(copy.deepcopy(model).requires_grad_(False)) if cfg.kl_coef > 0 else None
    ctx = ControllerContext(
        total_steps=cfg.steps, hidden_size=model.config.hidden_size, seed=seed, model_parameters=count_parameters(model),
        device=par.device,
    )
    policy = distributed.wrap(ResponseLogprobs(model), model, par)
    optimizer = torch.optim.AdamW(  # after wrapping: FSDP replaces the parameters by shards
        policy.parameters(), lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay
    )
    scheduler = lr_schedule(optimizer, cfg)
    return Run(
        cfg=cfg,
        par=par,
        model=model,
        policy=policy,
        ref_policy=ref_policy,
        seed=seed,
        tokenizer=tokenizer,
        controller=build_controller(method, ctx),
        optimizer=optimizer,
        scheduler=scheduler,
        # Random streams on the CPU whatever the device, so a seed draws the same rows, seeds and
        # minibatches on every device.
        sampler=build_sampler(cfg.sampler, model, base_dir, tokenizer, torch.Generator(device="cpu").manual_seed(seed), cfg.vllm),
        prompts=PromptStream(train_records, seed),
        update_generator=torch.Generator(device="cpu").manual_seed(seed + 1),
        prompt_format=prompt_format,
        key=run_key(base_dir, train_records, method, cfg, seed, prompt_format),
    )


# ---------------------------------------------------------------- one GRPO step


def rollout_step(run: Run, step: int, records: list[dict]) -> Rollout:
    """G rollouts of this rank's share of the prompts (rows prompt-major) at the controller's
    temperatures; row seeds are drawn for the whole batch, so the share is the same rows one
    process would sample, and one draw per step, so every method with this seed samples step
    s's rows from the same seeds."""
    g = run.cfg.group_size
    prompts = [ids for r in records for ids in [record_prompt_ids(run.tokenizer, r, run.prompt_format)] * g]
    mine = run.par.share(len(prompts), "train.prompts_per_step * group_size")
    seeds = draw_seeds(run.sampler.generator, len(prompts))[mine]
    run.sampler.update_weights(lambda: distributed.model_weights(run.policy, run.model, run.par))
    return distributed.with_full_parameters(
        run.policy, run.par, run.sampler.generate,
        prompts[mine],
        run.controller.policy(step, g),
        run.cfg.max_new_tokens,
        return_hidden=run.controller.needs_hidden,
        seeds=seeds,
    )


def score(run: Run, rollout: Rollout, records: list[dict]) -> Tensor:
    """Binary verifiable rewards (n,) of this rank's rows, by each record's scorer
    (math-verify, letter, tests)."""
    texts = run.tokenizer.batch_decode(rollout.tokens, skip_special_tokens=True)
    expanded = [r for r in records for _ in range(run.cfg.group_size)]
    return torch.tensor(score_responses(expanded, texts, run.cfg.reward_timeout, run.cfg.sandbox), device=run.model.device)


def grpo_step(run: Run, step: int) -> dict[str, float]:
    cfg, par, t0 = run.cfg, run.par, time.perf_counter()
    records = run.prompts.next(cfg.prompts_per_step)
    mine = records[par.share(len(records), "train.prompts_per_step")]
    rollout = rollout_step(run, step, records)
    t_rollout = time.perf_counter()
    rewards = score(run, rollout, mine)
    advantages = group_advantages(rewards, cfg.group_size, cfg.scale_advantages)
    t_score = time.perf_counter()

    micro = cfg.micro_batch_size or len(rewards)
    stat_fn, temps = run.controller.token_stats, loss_temperatures(rollout, cfg)
    chunk = cfg.logprob_chunk
    old = old_policy_pass(run.policy, rollout, temps, micro, stat_fn, chunk) if reuses_batch(cfg) else None
    ref_logp = old_policy_pass(run.ref_policy, rollout, temps, micro, None, chunk).logprobs if run.ref_policy is not None else None
    old, update_metrics = policy_update(
        run.policy, run.optimizer, run.scheduler, rollout, advantages, old, ref_logp, cfg, run.update_generator, stat_fn, par
    )
    t_update = time.perf_counter()

    rollout, rewards, advantages, old = gather_batch(run, rollout, rewards, advantages, old)
    batch = ScoredBatch(step, cfg.group_size, rollout, rewards, advantages, old.stats)
    temperature_metrics = run.controller.update(batch)
    t_temperature = time.perf_counter()
    return {
        "step": step,
        **batch_metrics(rollout, rewards, records, old, cfg),
        **token_counts(rollout, cfg),
        **update_metrics,
        "lr": run.scheduler.get_last_lr()[0],
        **{f"temp/{k}": v for k, v in temperature_metrics.items()},
        "time/rollout": t_rollout - t0,
        "time/score": t_score - t_rollout,
        "time/update": t_update - t_score,
        "time/temperature_update": t_temperature - t_update,
        "time/step": t_temperature - t0,
    }


def gather_batch(
    run: Run, rollout: Rollout, rewards: Tensor, advantages: Tensor, old: OldPolicy
) -> tuple[Rollout, Tensor, Tensor, OldPolicy]:
    """The whole scored batch on every rank (as is on one process)."""
    if run.par.world == 1:
        return rollout, rewards, advantages, old
    parts = run.par.gather((rollout, rewards, advantages, old))  # one exchange, in rank (= row) order
    full = Rollout.concat([p[0] for p in parts], run.tokenizer.pad_token_id)
    width = full.mask.shape[1]

    def rows(get: Callable[[OldPolicy], Tensor]) -> Tensor:  # (n, l, ...) per rank -> (N, L, ...)
        return torch.cat([pad_columns(get(p[3]), width, 0.0, left=False) for p in parts])

    old = OldPolicy(rows(lambda o: o.logprobs), rows(lambda o: o.entropies),
                    {k: rows(lambda o, k=k: o.stats[k]) for k in old.stats})
    return full, torch.cat([p[1] for p in parts]), torch.cat([p[2] for p in parts]), old


def batch_metrics(rollout: Rollout, rewards: Tensor, records: list[dict], old: OldPolicy, cfg: TrainConfig) -> dict[str, float]:
    mask, g = rollout.mask.bool(), cfg.group_size
    temps = rollout.temperatures[mask]
    grouped = rewards.view(-1, g)
    out = {
        "reward": float(rewards.mean()),
        "accuracy": float((rewards > 0).float().mean()),
        "solved_groups": float((grouped.max(1).values > 0).float().mean()),  # Pass@G on the batch
        "zero_advantage_groups": float((grouped.std(1) == 0).float().mean()),
        "entropy": float(old.entropies[mask].mean()),
        "response_length": float(rollout.lengths.mean()),
        "response_length_max": float(rollout.lengths.max()),
        "temperature_mean": float(temps.mean()),
        "temperature_std": float(temps.std()) if temps.numel() > 1 else 0.0,
        "temperature_min": float(temps.min()),
        "temperature_max": float(temps.max()),
    }
    if cfg.loss_temperature == "sampled":
        # The sampler's log-probs and the trainer's recomputation at the recorded temperatures
        # must agree: a mismatch here is the temperature bug TRL and verl once shipped.
        out["logprob_mismatch"] = float((old.logprobs - rollout.logprobs)[mask].abs().max())
    tis = tis_weights(old.logprobs, rollout.logprobs, cfg.tis_cap)
    if tis is not None:
        out["tis_weight_mean"] = float(tis[mask].mean())
        out["tis_truncated_fraction"] = float((tis[mask] >= cfg.tis_cap).float().mean())
    levels = np.repeat([r.get("level") for r in records], g)
    for level in sorted({lv for lv in levels if lv is not None}):
        out[f"reward_L{level}"] = float(rewards[torch.from_numpy(levels == level).to(rewards.device)].mean())
    return out


def token_counts(rollout: Rollout, cfg: TrainConfig) -> dict[str, float]:
    """The tokens the model processed this step (the whole batch, no padding), for its model
    FLOPs: each distinct prompt prefilled once, every generated token, and every prompt and
    response token through each forward + backward pass of the update and each no-grad pass
    (theta_old's recompute when a batch is reused, the KL reference)."""
    prompt, generated = float(rollout.prompt_mask.sum()), float(rollout.mask.sum())
    passes = int(reuses_batch(cfg)) + int(cfg.kl_coef > 0)
    return {"tokens/prompt": prompt / cfg.group_size, "tokens/generated": generated,
            "tokens/trained": (prompt + generated) * cfg.updates_per_batch, "tokens/rescored": (prompt + generated) * passes}


# ---------------------------------------------------------------- the loop


def train(
    base_dir: Path,
    train_records: list[dict],
    method: dict[str, Any],
    cfg: TrainConfig,
    seed: int,
    run_dir: Path,
    out_dir: Path,
    config_for_provenance: dict[str, Any],
    stop_after: int | None = None,
    prompt_format: PromptFormat = "chat",
    stale: StalePolicy = "refuse",
) -> Path | None:
    """Train (resuming from the newest checkpoint in `run_dir` if it belongs to this run, see
    harness.checkpoint; `stale` says what to do with one that does not), log every step to
    `run_dir/metrics.jsonl`, and save the final model to `out_dir`. `stop_after` ends the run
    early after that many steps (for resume tests); nothing is written to `out_dir` then.
    Under a distributed launcher every process calls this; rank 0 writes all files."""
    par = distributed.init(cfg.parallel, cfg.device)
    try:
        run = build_run(base_dir, train_records, method, cfg, seed, prompt_format, par)
        run_dir.mkdir(parents=True, exist_ok=True)
        log_path = run_dir / "metrics.jsonl"
        start = resume(run, run_dir, log_path, stale)
        end = cfg.steps if stop_after is None else min(stop_after, cfg.steps)
        steps = progress(range(start, end), f"GRPO steps ({method['controller']}, seed {seed})", end, start,
                         disable=not par.is_main)
        for step in steps:
            with torch.autocast(run.model.device.type, dtype=torch.bfloat16, enabled=cfg.bf16_autocast):
                metrics = grpo_step(run, step)
            if par.is_main:
                with log_path.open("a") as log:
                    log.write(json.dumps(metrics) + "\n")
            if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps or step + 1 == end < cfg.steps:
                checkpoint(run, run_dir, step + 1)
        if end < cfg.steps:
            return None
        meta = provenance(config_for_provenance, seed, method=method, method_summary=run.controller.summary(),
                          processes=par.world, parallel=par.kind, resumed_from=run.resumed_from)
        weights, _ = distributed.full_state(run.policy, run.optimizer, run.model)
        if par.is_main:
            save_final(run, weights, out_dir, log_path, meta)
        return out_dir
    finally:
        if par.grouped:
            torch.distributed.destroy_process_group()


def checkpoint(run: Run, run_dir: Path, step: int) -> None:
    weights, state = run.state_dict()  # every rank takes part in gathering
    if run.par.is_main:
        save_checkpoint(run_dir, step, run.model, weights, state, run.cfg.keep_checkpoints, run.key)


def resume(run: Run, run_dir: Path, log_path: Path, stale: StalePolicy) -> int:
    """Restore the newest checkpoint, if it belongs to this run, and cut the metrics log back
    to it; 0 (a fresh start) without one."""
    checkpoints = list_checkpoints(run_dir)
    if checkpoints and (reason := check_key(run_dir, checkpoints[-1], run.key, stale)):
        run.par.gather(None)  # every rank has read the run directory before rank 0 clears it
        if run.par.is_main:
            discard_checkpoints(run_dir, reason)
        checkpoints = []
    if not checkpoints:
        if run.par.is_main:
            log_path.unlink(missing_ok=True)
        return 0
    weights, state = load_checkpoint(checkpoints[-1])
    run.load_state_dict(weights, state)
    step = state["step"]
    revision = saved_key(checkpoints[-1])[1]
    if revision != git_revision():
        run.resumed_from.append({"step": step, "git_revision": revision})
    if run.par.is_main:
        kept = [row for row in read_jsonl(log_path) if row["step"] < step] if log_path.exists() else []
        with atomic_path(log_path) as tmp:
            tmp.write_text("".join(json.dumps(row) + "\n" for row in kept))
    return step


def save_final(run: Run, weights: dict[str, Tensor], out_dir: Path, log_path: Path, meta: dict[str, Any]) -> None:
    """The trained policy as a loadable model directory, with its controller, its training
    metrics and provenance."""
    with atomic_path(out_dir) as tmp:
        run.model.save_pretrained(tmp, state_dict=weights)
        shutil.copyfile(log_path, tmp / "train_metrics.jsonl")
        run.tokenizer.save_pretrained(tmp)
        torch.save(run.controller.state_dict(), tmp / CONTROLLER_FILE)
        write_json(tmp / "run.json", meta)
