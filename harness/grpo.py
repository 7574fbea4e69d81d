"""GRPO as pure functions over a `Rollout`: advantages, loss aggregation, the forward pass at the
recorded per-token temperatures, and one policy update (objectives: harness.objectives).

Notation: N = |B| * G rows (prompt-major), L response tokens, V vocabulary, d hidden size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.distributed.tensor import DTensor
from transformers import PreTrainedModel

from harness.config import LossAggregation, TrainConfig
from harness.distributed import SINGLE, Parallel
from harness.logprobs import head_logprobs
from harness.objectives import clipped_objective, kl_k3
from harness.rollout import Rollout, pad_columns

ADV_EPS = 1e-6
TokenStatFn = Callable[[Tensor, Tensor, Tensor], dict[str, Tensor]]


def group_advantages(rewards: Tensor, group_size: int, scale: bool = True) -> Tensor:
    """A_i = (r_i - mean(r)) / (std(r) + eps) within each group of G (TAMPO eq. 1, IntroLLM
    Alg. 1 l.26); std is the sample std, as in TRL and verl. rewards (N,) -> (N,)."""
    r = rewards.view(-1, group_size)  # (|B|, G)
    centred = r - r.mean(dim=1, keepdim=True)
    if scale:
        centred = centred / (r.std(dim=1, keepdim=True) + ADV_EPS)
    return centred.reshape(-1)


def loss_weights(mask: Tensor, how: LossAggregation, par: Parallel = SINGLE) -> Tensor:
    """Per-token weights (N, L) so that sum(weights * per_token_loss) is the aggregated loss.
    - token_mean: every token of the batch counts once (DAPO);
    - seq_mean_token_mean: mean over tokens, then over sequences (GRPO; TAMPO eq. 13);
    - seq_mean_token_sum_norm: token sums divided by the longest length, mean over sequences
      (Dr. GRPO).
    With the batch split over processes, `mask` is this rank's rows and the counts are global, so
    the ranks' weighted sums add up to the aggregated loss of the whole batch."""
    n = float(par.sum(mask.shape[0]))
    if how == "token_mean":
        return mask / max(float(par.sum(mask.sum())), 1.0)
    if how == "seq_mean_token_mean":
        return mask / (mask.sum(-1, keepdim=True).clamp(min=1) * n)
    if how == "seq_mean_token_sum_norm":
        return mask / (float(par.max(mask.shape[1])) * n)
    raise ValueError(f"train.loss_aggregation: unknown {how!r}")


def loss_temperatures(rollout: Rollout, cfg: TrainConfig) -> Tensor:
    """The per-token temperatures (N, L) the loss divides logits by: those the sampler recorded
    (on-policy, the default), or one fixed temperature for every token."""
    if cfg.loss_temperature == "sampled":
        return rollout.temperatures
    return torch.full_like(rollout.temperatures, float(cfg.loss_temperature))


class ResponseLogprobs(nn.Module):
    """The policy's training forward pass as one module, so that DDP and FSDP (which hook a
    module's forward) see every use of the parameters: decoder, then the chunked head.

    forward(ids (n, P + W), attn (n, P + W), tokens (n, W), temperatures (n, W)) returns
    log pi_T(o_t) (n, W), the entropy of each such distribution (n, W), and, if `stat_fn` is
    given, its statistics of (raw logits, tokens, hidden) for the same tokens."""

    def __init__(self, model: PreTrainedModel):
        super().__init__()
        self.model = model

    def forward(
        self, ids: Tensor, attn: Tensor, tokens: Tensor, temperatures: Tensor,
        stat_fn: TokenStatFn | None = None, chunk: int | None = None,
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        width = tokens.shape[1]
        positions = (attn.cumsum(-1) - 1).clamp(min=0)
        hidden = self.model.get_decoder()(input_ids=ids, attention_mask=attn, position_ids=positions).last_hidden_state
        hidden = hidden[:, -width - 1 : -1]  # (n, W, d): the state that produced each token
        head = self.model.get_output_embeddings()
        logp, ent = head_logprobs(head, hidden, tokens, temperatures, chunk)
        if not stat_fn:
            return logp, ent, {}
        with torch.no_grad():  # statistics read the logits, chunk by chunk like the log-probs
            step = chunk or width
            parts = [stat_fn(head(hidden[:, s : s + step].detach()), tokens[:, s : s + step], hidden[:, s : s + step].detach())
                     for s in range(0, width, step)]
        return logp, ent, {k: torch.cat([p[k] for p in parts], dim=1) for k in parts[0]} if parts else {}

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn(*args, **kwargs): registered as a forward method under FSDP, so that code reading
        the model outside `forward` (the sampler) sees full parameters (harness.distributed)."""
        return fn(*args, **kwargs)


def response_forward(
    policy: nn.Module,
    rollout: Rollout,
    rows: Tensor,
    temperatures: Tensor,
    stat_fn: TokenStatFn | None = None,
    chunk: int | None = None,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Recompute the rows' response log-probs at `temperatures` (N, L) with `policy` (a
    `ResponseLogprobs`, possibly wrapped by DDP or FSDP). Returns (n, L) log-probs, (n, L)
    entropies and the (n, L, ...) statistics of `stat_fn`, zero past each row's response.
    `chunk` bounds the logits held at once to that many positions (harness.logprobs.head_logprobs).
    """
    width = int(rollout.mask[rows].sum(-1).max())  # the rows' longest response; the rest is pad
    ids, attn = rollout.input_ids()
    end = rollout.prompt_ids.shape[1] + width
    logp, ent, stats = policy(
        ids[rows, :end], attn[rows, :end], rollout.tokens[rows, :width], temperatures[rows, :width], stat_fn, chunk
    )
    length = rollout.mask.shape[1]
    return (pad_columns(logp, length, 0.0, left=False), pad_columns(ent, length, 0.0, left=False),
            {k: pad_columns(v, length, 0.0, left=False) for k, v in stats.items()})


@dataclass
class OldPolicy:
    """The batch under the policy that sampled it (theta_old), at the recorded temperatures."""

    logprobs: Tensor  # (N, L) log pi_old,T(o_t), 0 on padding
    entropies: Tensor  # (N, L) entropy of pi_old,T, 0 on padding
    stats: dict[str, Tensor]  # controller statistics, (N, L, ...)

    @classmethod
    def from_parts(cls, parts: list[tuple[Tensor, tuple[Tensor, Tensor, dict[str, Tensor]]]], mask: Tensor) -> OldPolicy:
        """Assemble (rows, response_forward output) pieces that cover every row once."""
        rows = torch.cat([r for r, _ in parts])
        inverse = torch.empty_like(rows)
        inverse[rows] = torch.arange(len(rows), device=rows.device)

        def gather(pieces: list[Tensor]) -> Tensor:
            return torch.cat(pieces)[inverse]

        stats = {k: gather([out[2][k] for _, out in parts]) for k in parts[0][1][2]}
        return cls(gather([out[0] for _, out in parts]) * mask, gather([out[1] for _, out in parts]) * mask, stats)


def reuses_batch(cfg: TrainConfig) -> bool:
    """With one optimizer step per batch, the update's own forward pass is at theta_old, so no
    separate pass is needed (the ratio is 1 and only its gradient matters)."""
    return cfg.updates_per_batch > 1 or cfg.minibatches > 1


@torch.no_grad()
def old_policy_pass(
    policy: nn.Module, rollout: Rollout, temperatures: Tensor, micro_batch: int, stat_fn: TokenStatFn | None = None,
    chunk: int | None = None,
) -> OldPolicy:
    """A no-grad forward over the whole batch before any update."""
    row_groups = torch.arange(rollout.tokens.shape[0], device=rollout.tokens.device).split(micro_batch)
    parts = [(r, response_forward(policy, rollout, r, temperatures, stat_fn, chunk)) for r in row_groups]
    return OldPolicy.from_parts(parts, rollout.mask)


def tis_weights(old_logp: Tensor, sampler_logp: Tensor, cap: float | None) -> Tensor | None:
    """Truncated importance sampling (Yao et al. 2025; EAD): min(pi_old(o) / pi_sampler(o), cap)
    per token, where pi_old is the trainer's policy at the loss temperature and pi_sampler the
    distribution the token was drawn from. None when off."""
    if cap is None:
        return None
    return torch.exp(old_logp - sampler_logp).clamp(max=cap)


@dataclass
class UpdateTotals:
    """Sums over one policy update, this rank's share (grad_norm: over optimizer steps)."""

    loss: float = 0.0
    kl: float = 0.0
    clipped_tokens: float = 0.0
    grad_norm: float = 0.0
    optimizer_steps: int = 0


def micro_batch_loss(
    logp: Tensor, old_logp: Tensor, sampler_logp: Tensor, ref_logp: Tensor | None, advantages: Tensor,
    mask: Tensor, weights: Tensor, cfg: TrainConfig, totals: UpdateTotals,
) -> Tensor:
    """The aggregated loss of one micro-batch of m rows, from its (m, L) log-probs under the
    current policy, theta_old, the sampler and the reference policy (TAMPO eq. 13 / IntroLLM
    eq. 5: clipped surrogate, optionally times truncated IS weights, plus beta * KL k3);
    `weights` (m, L) aggregate tokens (`loss_weights`). Adds its metrics to `totals`."""
    objective, clipped = clipped_objective(logp, old_logp, advantages, cfg.clip_low, cfg.clip_high)  # (m, L)
    tis = tis_weights(old_logp, sampler_logp, cfg.tis_cap)
    per_token = -objective if tis is None else -objective * tis
    if ref_logp is not None:
        kl = kl_k3(logp, ref_logp)
        per_token = per_token + cfg.kl_coef * kl
        totals.kl += float((kl.detach() * weights).sum())
    loss = (per_token * weights).sum()
    totals.loss += float(loss.detach())
    totals.clipped_tokens += float((clipped * mask).sum())
    return loss


def optimizer_step(policy: nn.Module, optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler,
                   grad_clip: float, totals: UpdateTotals) -> None:
    """Clip the accumulated gradients to `grad_clip` in global norm, step, advance the schedule."""
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), grad_clip)
    if isinstance(grad_norm, DTensor):  # FSDP: the norm over every rank's shard
        grad_norm = grad_norm.full_tensor()
    optimizer.step()
    scheduler.step()
    totals.grad_norm += float(grad_norm)
    totals.optimizer_steps += 1


def update_metrics(totals: UpdateTotals, tokens: float, par: Parallel) -> dict[str, float]:
    """Mean loss, KL and grad norm per optimizer step, and the fraction of clipped tokens, over
    every rank (each holds its share of the sums; grad_norm is global already)."""
    shared = torch.tensor([totals.loss, totals.kl, totals.clipped_tokens, tokens], dtype=torch.float64, device="cpu")
    loss, kl, clipped_tokens, tokens = par.sum(shared).tolist()
    return {
        "loss": loss / totals.optimizer_steps,
        "kl": kl / totals.optimizer_steps,
        "grad_norm": totals.grad_norm / totals.optimizer_steps,
        "clip_fraction": clipped_tokens / max(tokens, 1.0),
    }


def policy_update(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    rollout: Rollout,
    advantages: Tensor,
    old: OldPolicy | None,
    ref_logp: Tensor | None,
    cfg: TrainConfig,
    generator: torch.Generator,
    stat_fn: TokenStatFn | None = None,
    par: Parallel = SINGLE,
) -> tuple[OldPolicy, dict[str, float]]:
    """mu passes over the batch, each split into minibatches (one optimizer step each) and
    micro-batches (gradient accumulation). `old` must be given when the batch is reused;
    otherwise it is read off the single forward pass. Returns theta_old's view of the batch
    and the mean loss, clip fraction, KL and grad norm over the optimizer steps.

    `policy` is a `ResponseLogprobs`, wrapped by DDP or FSDP when `par` spans several processes;
    `rollout` is then this rank's rows, and each rank shuffles its own rows into minibatches."""
    if old is None and reuses_batch(cfg):
        raise ValueError("policy_update: old log-probs are required when a batch is reused")
    temperatures = loss_temperatures(rollout, cfg)
    n = rollout.tokens.shape[0]
    micro = cfg.micro_batch_size or n
    totals = UpdateTotals()
    parts: list[tuple[Tensor, tuple[Tensor, Tensor, dict[str, Tensor]]]] = []  # theta_old's view, read off the pass
    policy.train()
    for _ in range(cfg.updates_per_batch):
        # the shuffle draws from a CPU generator, so a seed gives the same minibatches on every device
        order = torch.randperm(n, generator=generator, device="cpu") if cfg.minibatches > 1 else torch.arange(n, device="cpu")
        order = order.to(rollout.tokens.device)
        for minibatch in order.chunk(cfg.minibatches):
            # Micro-batches of similar lengths waste the least compute on padding.
            minibatch = minibatch[rollout.lengths[minibatch].argsort(stable=True)]
            weights = loss_weights(rollout.mask[minibatch], cfg.loss_aggregation, par)  # (m, L)
            optimizer.zero_grad(set_to_none=True)
            for part, rows in zip(torch.arange(len(minibatch), device=minibatch.device).split(micro), minibatch.split(micro)):
                logp, ent, stats = response_forward(
                    policy, rollout, rows, temperatures, stat_fn if old is None else None, cfg.logprob_chunk
                )
                if old is None:
                    parts.append((rows, (logp.detach(), ent.detach(), stats)))
                old_logp = logp.detach() if old is None else old.logprobs[rows]
                loss = micro_batch_loss(
                    logp, old_logp, rollout.logprobs[rows], None if ref_logp is None else ref_logp[rows],
                    advantages[rows], rollout.mask[rows], weights[part], cfg, totals,
                )
                (loss * par.world).backward()  # DDP and FSDP average gradients over ranks; we want their sum
            optimizer_step(policy, optimizer, scheduler, cfg.grad_clip, totals)
    policy.eval()
    metrics = update_metrics(totals, float(rollout.mask.sum()) * cfg.updates_per_batch, par)
    return old if old is not None else OldPolicy.from_parts(parts, rollout.mask), metrics
