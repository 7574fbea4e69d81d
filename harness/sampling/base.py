"""The sampler interface: every generation backend (torch, vLLM) returns a `Rollout`
(harness.rollout) that records the temperature it used for every generated token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

from harness.rollout import Rollout
from harness.temperature.base import TokenPolicy


class Sampler(Protocol):
    generator: torch.Generator  # draws row seeds (harness.sampling.torch_sampler.draw_seeds)

    def update_weights(self, weights: Callable[[], dict[str, Tensor]]) -> None:
        """Sample from these weights from now on (called by the trainer before every rollout;
        `weights` is only called by engines that hold their own copy)."""

    def generate(
        self,
        prompts: list[list[int]],
        policy: TokenPolicy,
        max_new_tokens: int,
        *,
        return_entropies: bool = False,
        return_hidden: bool = False,
        seeds: Tensor | None = None,  # (N,) one per row; a row's sample depends on its seed only
    ) -> Rollout: ...
