"""The sampler interface: what every generation backend (torch, vLLM) must return.

The one currency between sampling and training is the per-token temperature tensor: a backend
records the temperature it used for every generated token, and the trainer divides logits by
exactly that tensor when it recomputes log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

from harness.temperature.base import TokenPolicy


@dataclass
class Rollout:
    """A batch of N generated responses of up to L tokens (right-padded after eos)."""

    prompt_ids: Tensor  # (N, P) left-padded prompt tokens
    prompt_mask: Tensor  # (N, P) 1 for real prompt tokens
    tokens: Tensor  # (N, L) response tokens; pad after eos
    mask: Tensor  # (N, L) 1.0 for generated tokens, eos included
    temperatures: Tensor  # (N, L) temperature each token was sampled at (1.0 on padding)
    logprobs: Tensor  # (N, L) log pi_T(o_t | s_t) at that temperature, from the sampler
    entropies: Tensor | None = None  # (N, L) entropy of the T=1 distribution, on request
    hidden: Tensor | None = None  # (N, L, d) last hidden state that produced each token
    extras: dict[str, Tensor] = field(default_factory=dict)  # controller records, (N, L, ...)

    @property
    def lengths(self) -> Tensor:  # (N,)
        return self.mask.sum(-1)

    def input_ids(self) -> tuple[Tensor, Tensor]:
        """Prompt and response as one sequence: ids (N, P+L) and attention mask (N, P+L)."""
        ids = torch.cat([self.prompt_ids, self.tokens], dim=1)
        attn = torch.cat([self.prompt_mask, self.mask.to(self.prompt_mask.dtype)], dim=1)
        return ids, attn


class Sampler(Protocol):
    def generate(
        self,
        prompts: list[list[int]],
        policy: TokenPolicy,
        max_new_tokens: int,
        *,
        return_entropies: bool = False,
        return_hidden: bool = False,
    ) -> Rollout: ...
