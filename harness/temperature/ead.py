"""EAD, exploratory annealed decoding: the temperature falls with the token's position in the
response, hot early (where reasoning branches) and cool late. Two published forms:

- `ead` (Yang et al. 2025, arXiv 2510.05251, and its official code):
  tau_t = max(1 + tau_max - exp(t / (s * d_n)), tau_min) after the first c tokens (tau = 1 there),
  d_n = min(d_0 + alpha * n, d_max) at training step n. The official code divides t by 20 * d,
  i.e. time_scale s = 20 (its decay_freq 25 is an effective d_0 of 500 tokens growing by 100
  per step); the paper's text has s = 1.
- `ead_introllm` (IntroLLM Appendix D.2): tau_t = max(tau_min, tau_start * gamma_n ** t) after
  the first c tokens (tau_start there), gamma_n = exp(-(c_0 / L_avg) * (n / N_total)) with L_avg
  a moving average of the response length.

Both papers train with truncated importance sampling; in this harness that is the generic
`train: {loss_temperature: 1.0, tis_cap: ...}` override of a method (see configs/tiny.yaml).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from pydantic import Field
from torch import Tensor

from harness.temperature.base import MethodParams, ScoredBatch, TemperatureController, TokenPolicy, register


class PositionSchedule(TokenPolicy):
    """The same temperature for every row at a given response position."""

    def __init__(self, temperature_at: Callable[[int], float]):
        self.temperature_at = temperature_at

    def __call__(self, position: int, logits: Tensor, hidden: Tensor, rows: Tensor) -> Tensor:
        return torch.full((logits.shape[0],), self.temperature_at(position), device=logits.device)


class EadParams(MethodParams):
    tau_max: float = Field(1.2, gt=0)
    tau_min: float = Field(0.1, gt=0)
    fixed_tokens: int = Field(10, ge=0, description="c: the first c tokens are sampled at T = 1")
    d0: float = Field(200.0, gt=0, description="initial decay length in tokens")
    d_alpha: float = Field(5.0, ge=0, description="growth of the decay length per training step")
    d_max: float = Field(4e4, gt=0)
    time_scale: float = Field(1.0, gt=0, description="t is divided by time_scale * d (official code: 20)")


@register("ead")
class Ead(TemperatureController):
    Params = EadParams
    params: EadParams

    def temperature(self, position: int, step: int) -> float:
        p = self.params
        if position < p.fixed_tokens:
            return 1.0
        d = min(p.d0 + p.d_alpha * step, p.d_max)
        return max(1 + p.tau_max - math.exp(position / (p.time_scale * d)), p.tau_min)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return PositionSchedule(lambda t: self.temperature(t, step))


class EadIntroLLMParams(MethodParams):
    tau_start: float = Field(1.2, gt=0)
    tau_min: float = Field(0.1, gt=0)
    fixed_tokens: int = Field(10, ge=0, description="the first c tokens are sampled at tau_start")
    c0: float = Field(25.0, gt=0, description="initial decay coefficient")
    length_momentum: float = Field(
        0.9, ge=0, lt=1, description="L_avg <- m * L_avg + (1 - m) * batch mean (the paper does not say)"
    )


@register("ead_introllm")
class EadIntroLLM(TemperatureController):
    Params = EadIntroLLMParams
    params: EadIntroLLMParams

    def __init__(self, params: EadIntroLLMParams, ctx):
        super().__init__(params, ctx)
        self.mean_length: float | None = None  # L_avg, known after the first batch

    def gamma(self, step: int) -> float:
        if self.mean_length is None:  # only before the first batch, where n = 0 gives 1 anyway
            return 1.0
        return math.exp(-(self.params.c0 / self.mean_length) * (step / self.ctx.total_steps))

    def temperature(self, position: int, step: int) -> float:
        p = self.params
        if position < p.fixed_tokens:
            return p.tau_start
        return max(p.tau_min, p.tau_start * self.gamma(step) ** position)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return PositionSchedule(lambda t: self.temperature(t, step))

    def update(self, batch: ScoredBatch) -> dict[str, Any]:
        length = float(batch.rollout.lengths.mean())
        m = self.params.length_momentum
        self.mean_length = length if self.mean_length is None else m * self.mean_length + (1 - m) * length
        return {"mean_length": self.mean_length, "gamma_next": self.gamma(batch.step + 1)}

    def state_dict(self) -> dict[str, Any]:
        return {"mean_length": self.mean_length}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean_length = state["mean_length"]
