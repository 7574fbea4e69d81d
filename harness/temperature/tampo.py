"""TAMPO: Temperature Adaptive Meta Policy Optimization (Dang et al., ICLR 2026, Sec. 3.3,
Algorithm 1).

A meta-policy pi over K candidate temperatures picks ONE temperature per training step. After
the step, every trajectory's log-likelihood is evaluated at all K virtual temperatures from the
same forward pass (eq. 6 / eq. 8), normalised over K (sparsemax), multiplied by the
trajectory's advantage (eq. 9), averaged over the batch (eq. 10), smoothed by an EMA (eq. 11)
and min-max normalised into the new pi (eq. 12). No extra rollouts.

Presets: `tampo` is the paper (alpha 0.05, top-p 0.7, mean likelihood, sparsemax). `introllm`
is TAMPO as IntroLLM re-ran it (Appendix D.3): top-p 0.9, "EMA with alpha = 0.9" read in
eq. 11's notation (weight 0.9 on the new batch), and the softmax form that appendix writes,
A * P(y | T_j) / sum_k P(y | T_k), i.e. softmax over summed log-likelihoods. Any field can
still be set explicitly; the decay reading of "EMA 0.9" is alpha = 0.1.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import Field, PositiveFloat, model_validator
from torch import Tensor

from harness.logprobs import chosen_logprob
from harness.temperature.base import MethodParams, ScoredBatch, TemperatureController, TokenPolicy, constant, register

PRESETS: dict[str, dict[str, Any]] = {
    "tampo": {"alpha": 0.05, "top_p": 0.7, "likelihood": "mean", "normalization": "sparsemax"},
    "introllm": {"alpha": 0.9, "top_p": 0.9, "likelihood": "sum", "normalization": "softmax"},
}


class TampoParams(MethodParams):
    preset: Literal["tampo", "introllm"] = "tampo"
    candidates: list[PositiveFloat] = Field(
        default_factory=lambda: [round(0.6 + 0.1 * k, 1) for k in range(10)], min_length=2,
        description="virtual temperatures T_1..T_K",
    )
    likelihood: Literal["mean", "sum"] = Field(description="length-averaged (eq. 6) or summed (eq. 8)")
    normalization: Literal["sparsemax", "softmax"] = Field(description="normalisation over K of eq. 9")
    alpha: float = Field(ge=0, le=1, description="EMA weight of the new batch, eq. 11")
    top_p: float = Field(ge=0, le=1, description="nucleus for sampling T from pi; 0 = greedy")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="first steps sample at warmup_temperature")
    warmup_temperature: float = Field(1.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            preset = data.get("preset", "tampo")
            if preset not in PRESETS:
                raise ValueError(f"preset: unknown {preset!r}; allowed: {', '.join(PRESETS)}")
            data = {**PRESETS[preset], **data}
        return data


def sparsemax(z: Tensor) -> Tensor:
    """Euclidean projection of z onto the simplex, over the last dim (Martins & Astudillo 2016):
    p = max(z - tau, 0) with tau chosen so that p sums to 1."""
    z_sorted, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cumsum = z_sorted.cumsum(-1)
    support = 1 + k * z_sorted > cumsum  # (..., K), true for the first k(z) entries
    k_z = support.sum(-1, keepdim=True)
    tau = (cumsum.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return (z - tau).clamp(min=0)


def minmax_distribution(ema: Tensor) -> Tensor:
    """eq. 12: (x - min) / (max - min), divided by its sum; uniform if all entries are equal."""
    spread = ema.max() - ema.min()
    if spread <= 0:
        return torch.full_like(ema, 1.0 / ema.numel())
    scaled = (ema - ema.min()) / spread
    return scaled / scaled.sum()


def sample_top_p(pi: Tensor, top_p: float, generator: torch.Generator) -> int:
    """Index drawn from the smallest set of most likely entries whose mass reaches top_p
    (nucleus sampling); top_p = 0 picks the most likely entry."""
    probs, order = torch.sort(pi, descending=True, stable=True)
    if top_p <= 0:
        return int(order[0])
    keep = probs.cumsum(0) - probs < top_p  # entries before the mass reaches top_p, plus the one that does
    kept = probs * keep
    return int(order[torch.multinomial(kept / kept.sum(), 1, generator=generator)])


@register("tampo")
class Tampo(TemperatureController):
    Params = TampoParams
    params: TampoParams

    def __init__(self, params: TampoParams, ctx):
        super().__init__(params, ctx)
        k, device = len(params.candidates), ctx.device
        self.candidates = torch.tensor(params.candidates, device=device)
        self.ema = torch.zeros(k, device=device)  # A-bar_0 = 0 (Alg. 1 l.1)
        self.pi = torch.full((k,), 1.0 / k, device=device)  # uniform meta-policy
        self.generator = torch.Generator(device="cpu").manual_seed(ctx.seed + 7919)  # the same draws on every device
        self.sampled = params.warmup_temperature
        self.warmup_steps = math.ceil(params.warmup_ratio * ctx.total_steps)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        """Alg. 1 l.4: T_s ~ pi_{s-1} by top-p sampling; T = 1.0 during warm-up."""
        if step < self.warmup_steps:
            self.sampled = self.params.warmup_temperature
        else:
            self.sampled = float(self.candidates[sample_top_p(self.pi.cpu(), self.params.top_p, self.generator)])
        return constant(self.sampled, self.ctx.device)

    def eval_policy(self) -> TokenPolicy:
        """The most likely temperature of the final meta-policy."""
        return constant(float(self.candidates[int(self.pi.argmax())]), self.ctx.device)

    def token_stats(self, logits: Tensor, tokens: Tensor, hidden: Tensor) -> dict[str, Tensor]:
        """log pi_{theta,T_k}(o_t | s_t) for every virtual temperature: (B, C, K)."""
        return {"tampo_logp": torch.stack([chosen_logprob(logits, tokens, float(t)) for t in self.candidates], -1)}

    def trajectory_likelihoods(self, token_logp: Tensor, mask: Tensor) -> Tensor:
        """l_{T_k}(tau_i): (N, L, K) token log-probs -> (N, K), summed (eq. 8) or averaged (eq. 6)."""
        total = (token_logp * mask.unsqueeze(-1)).sum(1)
        return total / mask.sum(1, keepdim=True).clamp(min=1) if self.params.likelihood == "mean" else total

    def update(self, batch: ScoredBatch) -> dict[str, Any]:
        """Alg. 1 l.14-19: temperature-specific advantages -> EMA -> new meta-policy."""
        ell = self.trajectory_likelihoods(batch.token_stats["tampo_logp"], batch.rollout.mask)  # (N, K)
        norm = sparsemax(ell) if self.params.normalization == "sparsemax" else torch.softmax(ell, -1)
        temp_advantage = (norm * batch.advantages.unsqueeze(-1)).mean(0)  # eq. 9-10: (K,)
        self.ema = (1 - self.params.alpha) * self.ema + self.params.alpha * temp_advantage  # eq. 11
        self.pi = minmax_distribution(self.ema)  # eq. 12
        t_star = self.candidates[ell.argmax(-1)]  # likelihood-optimal temperature per trajectory (eq. 7)
        pos, neg = batch.advantages > 0, batch.advantages < 0
        k = len(self.candidates)
        return {
            "sampled": self.sampled,
            "pi": self.pi.tolist(),
            "ema_advantage": self.ema.tolist(),
            "t_star_pos_mean": float(t_star[pos].mean()) if pos.any() else None,
            "t_star_neg_mean": float(t_star[neg].mean()) if neg.any() else None,
            "t_star_pos_hist": torch.bincount(ell.argmax(-1)[pos], minlength=k).tolist(),
            "t_star_neg_hist": torch.bincount(ell.argmax(-1)[neg], minlength=k).tolist(),
            # the first group's likelihood-vs-temperature curves, for figures: (G, K) and (G,)
            "group_likelihoods": ell[: batch.group_size].tolist(),
            "group_advantages": batch.advantages[: batch.group_size].tolist(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"ema": self.ema, "pi": self.pi, "generator": self.generator.get_state(), "sampled": self.sampled}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema, self.pi, self.sampled = state["ema"].to(self.ctx.device), state["pi"].to(self.ctx.device), state["sampled"]
        self.generator.set_state(state["generator"])
