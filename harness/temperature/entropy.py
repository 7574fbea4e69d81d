"""Entropy-based token temperatures (Zhuang et al. 2025, arXiv 2510.08892, token level):
tokens whose (pre-temperature) entropy is among the top `high_fraction` of a sliding window of
recent token entropies are sampled at t_high ("reasoning" tokens), the rest at t_base
("knowledge" tokens). The threshold is refreshed once per generation call. Public code: a window of 100k tokens, high_fraction 0.2-0.4,
t_high 1.2-1.6, t_base 1.0."""

from __future__ import annotations

from typing import Any

import torch
from pydantic import Field
from torch import Tensor

from harness.logprobs import entropy
from harness.temperature.base import MethodParams, TemperatureController, TokenPolicy, register


class EntropyParams(MethodParams):
    t_base: float = Field(1.0, gt=0)
    t_high: float = Field(1.4, gt=0)
    high_fraction: float = Field(0.2, gt=0, lt=1, description="share of tokens counted as high-entropy")
    window: int = Field(100_000, gt=0, description="recent token entropies the quantile is taken over")


class EntropyWindow:
    """A ring buffer of the most recent token entropies, on the policy's device (the entropies
    of every decoding position are pushed without leaving it)."""

    def __init__(self, size: int, device: torch.device):
        self.values = torch.zeros(size, device=device)
        self.count = 0  # entries written so far (saturates at size)
        self.pos = 0

    def threshold(self, current: Tensor, high_fraction: float) -> Tensor:
        """The (1 - high_fraction) quantile (a 0-d tensor) of the window plus `current` entropies."""
        pool = torch.cat([self.values[: self.count], current.float().to(self.values.device)])
        return torch.quantile(pool, 1 - high_fraction)

    def push(self, values: Tensor) -> None:
        values = values.float().to(self.values.device)[-len(self.values) :]
        idx = (self.pos + torch.arange(len(values), device=self.values.device)) % len(self.values)
        self.values[idx] = values
        self.pos = int((self.pos + len(values)) % len(self.values))
        self.count = min(self.count + len(values), len(self.values))

    def state_dict(self) -> dict[str, Any]:
        return {"values": self.values.clone(), "count": self.count, "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.values = state["values"].to(self.values.device, copy=True)
        self.count, self.pos = state["count"], state["pos"]


class EntropyPolicy(TokenPolicy):
    """The threshold is the window's quantile when the generation starts (the window spans
    many batches, so refreshing it per position would change little at a high cost); with an
    empty window (the first batch), the quantile of the current position's tokens."""

    def __init__(self, params: EntropyParams, window: EntropyWindow):
        self.params, self.window = params, window
        empty = torch.empty(0, device=window.values.device)
        self.threshold = window.threshold(empty, params.high_fraction) if window.count else None

    def __call__(self, position: int, logits: Tensor, hidden: Tensor, rows: Tensor) -> Tensor:
        h = entropy(torch.log_softmax(logits.float(), -1))  # (n,) entropy before temperature
        threshold = self.threshold if self.threshold is not None else self.window.threshold(h, self.params.high_fraction)
        self.window.push(h)
        return torch.where(h > threshold, self.params.t_high, self.params.t_base)


@register("entropy")
class EntropyTemperature(TemperatureController):
    Params = EntropyParams
    params: EntropyParams

    def __init__(self, params: EntropyParams, ctx):
        super().__init__(params, ctx)
        self.window = EntropyWindow(params.window, ctx.device)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return EntropyPolicy(self.params, self.window)

    def eval_policy(self) -> TokenPolicy:
        """The same rule over a copy of the final window, so evaluation leaves no trace."""
        frozen = EntropyWindow(self.params.window, self.ctx.device)
        frozen.load_state_dict(self.window.state_dict())
        return EntropyPolicy(self.params, frozen)

    def state_dict(self) -> dict[str, Any]:
        return self.window.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.window.load_state_dict(state)
