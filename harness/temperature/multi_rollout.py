"""Several temperatures per prompt (Zhuang et al. 2025, arXiv 2510.08892, rollout level): the G
rollouts of a prompt are sampled at base + [0, 0, -d, +d, -2d, +2d, ...], floored at
min_temperature, so every group mixes cautious and exploratory samples."""

from __future__ import annotations

import torch
from pydantic import Field

from harness.temperature.base import (
    MethodParams,
    RowTemperatures,
    TemperatureController,
    TokenPolicy,
    constant,
    register,
)


class MultiRolloutParams(MethodParams):
    base: float = Field(1.0, gt=0)
    delta: float = Field(0.1, gt=0, description="spacing d of the offsets")
    min_temperature: float = Field(0.05, gt=0, description="floor of base + offset")


def group_offsets(group_size: int, delta: float) -> list[float]:
    """[0, 0, -d, +d, -2d, +2d, ...] truncated to G entries."""
    offsets = [0.0, 0.0]
    k = 1
    while len(offsets) < group_size:
        offsets += [-k * delta, k * delta]
        k += 1
    return offsets[:group_size]


@register("multi_rollout")
class MultiRollout(TemperatureController):
    Params = MultiRolloutParams
    params: MultiRolloutParams

    def group_temperatures(self, group_size: int) -> list[float]:
        p = self.params
        return [max(p.base + off, p.min_temperature) for off in group_offsets(group_size, p.delta)]

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        # rows are prompt-major: row r is rollout r % G of its prompt
        return RowTemperatures(torch.tensor(self.group_temperatures(group_size), device=self.ctx.device), period=group_size)

    def eval_policy(self) -> TokenPolicy:
        return constant(self.params.base, self.ctx.device)
