"""The one currency between sampling, training and the temperature methods: a batch of generated
responses with the temperature every token was sampled at. A sampler returns it, the trainer
divides logits by exactly its `temperatures` when it recomputes log-probabilities, and a
learning controller reads it back in `ScoredBatch`."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


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


    def to(self, device: torch.device | str) -> Rollout:
        """The same rollout with every tensor on `device`."""
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Rollout(move(self.prompt_ids), move(self.prompt_mask), move(self.tokens), move(self.mask),
                       move(self.temperatures), move(self.logprobs), move(self.entropies), move(self.hidden),
                       {k: v.to(device) for k, v in self.extras.items()})

    @classmethod
    def concat(cls, parts: list[Rollout], pad_id: int) -> Rollout:
        """Rows of several rollouts as one: prompts re-padded on the left, responses on the right
        (pad_id / mask 0 / temperature 1 / log-prob 0), in the order given."""

        def rows(get, fill: float, left: bool = False) -> Tensor:
            tensors = [get(p) for p in parts]
            width = max(t.shape[1] for t in tensors)
            return torch.cat([pad_columns(t, width, fill, left) for t in tensors])

        optional = {
            name: rows(lambda p, n=name: getattr(p, n), 0.0)
            for name in ("entropies", "hidden")
            if getattr(parts[0], name) is not None
        }
        return cls(
            prompt_ids=rows(lambda p: p.prompt_ids, pad_id, left=True),
            prompt_mask=rows(lambda p: p.prompt_mask, 0, left=True),
            tokens=rows(lambda p: p.tokens, pad_id),
            mask=rows(lambda p: p.mask, 0.0),
            temperatures=rows(lambda p: p.temperatures, 1.0),
            logprobs=rows(lambda p: p.logprobs, 0.0),
            extras={k: rows(lambda p, k=k: p.extras[k], 0.0) for k in parts[0].extras},
            **optional,
        )


def pad_columns(x: Tensor, width: int, fill: float, left: bool) -> Tensor:
    """Pad (n, w, ...) to (n, width, ...) with `fill`, before or after the existing columns."""
    pad = x.new_full((x.shape[0], width - x.shape[1], *x.shape[2:]), fill)
    return torch.cat([pad, x] if left else [x, pad], dim=1)
