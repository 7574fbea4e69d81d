"""A batched KV-cache sampler in plain torch + transformers, with a temperature per row and
per decoding step.

Works with any decoder-only transformers model that exposes `get_decoder()` and an output
embedding (Llama, Qwen2/3, Mistral, ...). The decoder runs once on the left-padded prompts and
then one token per step on its KV cache (harness.sampling.kv_cache: written in place, grown by
chunks); logits come from the normalised last hidden state,
which is also what learned temperature heads read (IntroLLM Sec. 4.2). Rows that emitted eos
leave the batch (and the cache), so a step costs only as much as the rows still generating.

Every row draws its tokens from its own random stream, a counter-based hash of (row seed,
position, token id): a row's response depends on its prompt, its temperatures and its seed only,
not on which other rows share the batch. So a batch split over processes (harness.distributed)
or into evaluation batches of any size samples exactly the responses of the whole batch at once,
as vLLM's per-request seeds do; and the noise of a whole step is one vectorised computation.

Rows with the same prompt (the G rollouts of a GRPO group, the n samples of an evaluated
problem) share one prefill: each distinct prompt runs through the decoder once and its KV cache
is copied to its rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from transformers import PreTrainedModel
from transformers.cache_utils import Cache

from harness.logprobs import entropy, scaled_log_softmax
from harness.rollout import Rollout
from harness.sampling.kv_cache import chunked_cache
from harness.temperature.base import TokenPolicy


def left_pad(prompts: list[list[int]], pad_id: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Token lists -> ids (N, P) and mask (N, P) on `device`, padded on the left (built on the
    CPU, one copy to the device)."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device="cpu")
    mask = torch.zeros((len(prompts), width), dtype=torch.long, device="cpu")
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long, device="cpu")
        mask[row, width - len(prompt) :] = 1
    return ids.to(device), mask.to(device)


def draw_seeds(generator: torch.Generator, n: int) -> Tensor:
    """n consecutive row seeds (n,) from one draw of `generator`: rows i and j of the same draw
    never share a stream, and the draw advances the generator by the same amount for any n."""
    base = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
    return base + torch.arange(n, dtype=torch.long, device="cpu")


# SplitMix64 (Steele et al. 2014) on int64 tensors: torch's int64 multiply wraps modulo 2^64,
# and right shifts are made logical by masking. Constants as two's-complement int64.
_GOLDEN = 0x9E3779B97F4A7C15 - 2**64
_MIX1 = 0xBF58476D1CE4E5B9 - 2**64
_MIX2 = 0x94D049BB133111EB - 2**64


def _shift_right(x: Tensor, bits: int) -> Tensor:
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def splitmix64(x: Tensor) -> Tensor:
    """SplitMix64's output function of each int64 state: well mixed, deterministic everywhere."""
    x = (x ^ _shift_right(x, 30)) * _MIX1
    x = (x ^ _shift_right(x, 27)) * _MIX2
    return x ^ _shift_right(x, 31)


def exponential_noise(seeds: Tensor, position: int, vocab: int) -> Tensor:
    """Exp(1) noise (n, V) for decoding `position` of rows with `seeds` (n,): element (r, v) is a
    function of (seeds[r], position, v) alone (the stream index is position * V + v)."""
    index = position * vocab + torch.arange(vocab, device=seeds.device)  # (V,)
    state = seeds[:, None] + (index[None, :] + 1) * _GOLDEN  # (n, V)
    top24 = _shift_right(splitmix64(state), 40)  # uniform integers in [0, 2^24)
    uniform = (top24.to(torch.float32) + 0.5) * 2.0**-24  # in (0, 1), never 0 or 1
    return -torch.log(uniform)


def sample_rows(logp: Tensor, seeds: Tensor, position: int) -> Tensor:
    """One token per row of log-probs (n, V), row i from its stream seeds[i]: the exponential
    race argmax_v p_v / E_v with E_v ~ Exp(1) draws v with probability p_v."""
    return (logp - exponential_noise(seeds, position, logp.shape[-1]).log()).argmax(-1)


def shared_prefill(prompts: list[list[int]]) -> tuple[list[list[int]], Tensor]:
    """The distinct prompts in order of first appearance, and each row's index among them (N,)."""
    first: dict[tuple[int, ...], int] = {}
    rows = [first.setdefault(tuple(p), len(first)) for p in prompts]
    return [list(p) for p in first], torch.tensor(rows, dtype=torch.long, device="cpu")


@dataclass
class Steps:
    """What `TorchSampler.generate` records at each decoding step of each row: tokens, mask,
    temperatures and log-probs (N, L), entropies (N, L) and hidden states (N, L, d) when asked."""

    tokens: Tensor
    mask: Tensor
    temperatures: Tensor
    logprobs: Tensor
    entropies: Tensor | None
    hidden: Tensor | None

    @classmethod
    def empty(cls, n: int, length: int, d: int, pad_id: int, device: torch.device, entropies: bool, hidden: bool) -> Steps:
        def zeros(*shape: int) -> Tensor:
            return torch.zeros(shape, device=device)

        return cls(tokens=torch.full((n, length), pad_id, dtype=torch.long, device=device), mask=zeros(n, length),
                   temperatures=torch.ones((n, length), device=device), logprobs=zeros(n, length),
                   entropies=zeros(n, length) if entropies else None, hidden=zeros(n, length, d) if hidden else None)

    def record(self, rows: Tensor, t: int, token: Tensor, temps: Tensor, logp: Tensor, logits: Tensor, hidden: Tensor) -> None:
        """Step t of the active `rows` (n_active,): the sampled tokens, their temperatures and
        log-probs (from `logp` (n_active, V)), and what was asked for."""
        self.tokens[rows, t] = token
        self.mask[rows, t] = 1.0
        self.temperatures[rows, t] = temps
        self.logprobs[rows, t] = logp.gather(-1, token[:, None]).squeeze(-1)
        if self.entropies is not None:
            self.entropies[rows, t] = entropy(torch.log_softmax(logits, -1))
        if self.hidden is not None:
            self.hidden[rows, t] = hidden

    def rollout(self, prompt_ids: Tensor, prompt_mask: Tensor, extras: dict[str, Tensor]) -> Rollout:
        """The rollout, without the columns no row reached."""
        width = int(self.mask.sum(0).nonzero().max()) + 1

        def cut(x: Tensor | None) -> Tensor | None:
            return None if x is None else x[:, :width]

        return Rollout(prompt_ids=prompt_ids, prompt_mask=prompt_mask, tokens=cut(self.tokens), mask=cut(self.mask),
                       temperatures=cut(self.temperatures), logprobs=cut(self.logprobs), entropies=cut(self.entropies),
                       hidden=cut(self.hidden), extras={k: cut(v) for k, v in extras.items()})


class TorchSampler:
    """Samples with per-row, per-step temperatures; see `harness.sampling.base.Sampler`."""

    def __init__(self, model: PreTrainedModel, eos_id: int, pad_id: int, generator: torch.Generator):
        self.model = model
        self.eos_id = eos_id
        self.pad_id = pad_id
        self.generator = generator  # draws the row seeds of every call: seeded, checkpointed

    def update_weights(self, weights: Callable[[], dict[str, Tensor]]) -> None:
        """Nothing to copy: this sampler decodes with the live training model."""

    @torch.no_grad()
    def generate(
        self,
        prompts: list[list[int]],
        policy: TokenPolicy,
        max_new_tokens: int,
        *,
        return_entropies: bool = False,
        return_hidden: bool = False,
        seeds: Tensor | None = None,
    ) -> Rollout:
        """`seeds` (N,): one per row (default: a fresh draw from the sampler's generator)."""
        decoder, head = self.model.get_decoder(), self.model.get_output_embeddings()
        device = head.weight.device
        prompt_ids, prompt_mask = left_pad(prompts, self.pad_id, device)
        hidden, cache = self.prefill(prompts, device)  # (N, d), and every row's prompt in the cache
        next_pos = (prompt_mask.cumsum(-1) - 1).clamp(min=0)[:, -1:] + 1  # (N, 1): explicit under left padding
        attn = prompt_mask  # (N, P + t)
        steps = Steps.empty(len(prompts), max_new_tokens, self.model.config.hidden_size, self.pad_id, device,
                            return_entropies, return_hidden)
        rows = torch.arange(len(prompts), device=device)  # original index of each active row
        seeds = (draw_seeds(self.generator, len(prompts)) if seeds is None else seeds).to(device)

        for t in range(max_new_tokens):
            logits = head(hidden).float()  # (n_active, V)
            temps = policy(t, logits, hidden, rows).to(device=device, dtype=torch.float32)  # (n_active,)
            logp = scaled_log_softmax(logits, temps)  # (n_active, V)
            token = sample_rows(logp, seeds[rows], t)
            steps.record(rows, t, token, temps, logp, logits, hidden)
            keep = token != self.eos_id
            if t == max_new_tokens - 1 or not bool(keep.any()):
                break
            if not bool(keep.all()):  # finished rows leave the batch and the KV cache
                cache.batch_select_indices(keep.nonzero().squeeze(-1))
                rows, token, attn, next_pos = rows[keep], token[keep], attn[keep], next_pos[keep]
            attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
            hidden = decoder(
                input_ids=token[:, None], attention_mask=self.decode_mask(attn), position_ids=next_pos,
                past_key_values=cache, use_cache=True,
            ).last_hidden_state[:, -1]
            next_pos = next_pos + 1
        return steps.rollout(prompt_ids, prompt_mask, policy.records())

    def decode_mask(self, attn: Tensor) -> Tensor | None:
        """The attention mask of one decoding step, from the 2-D mask `attn` (n, P + t): under SDPA,
        the mask transformers would build for a single query (none without padding, else the
        padding mask as (n, 1, 1, P + t) booleans), built here directly, since building it through
        transformers' mask functions cost a twentieth of a decoding step; other attention
        implementations get `attn` and build their own."""
        if self.model.config._attn_implementation != "sdpa":
            return attn
        return None if bool(attn.all()) else attn.bool()[:, None, None, :]

    def prefill(self, prompts: list[list[int]], device: torch.device) -> tuple[Tensor, Cache]:
        """Each distinct prompt through the decoder once: every row's last hidden state (N, d) and
        a KV cache holding every row's prompt (rows of one prompt share its prefill)."""
        distinct, row_prompt = shared_prefill(prompts)  # (u prompts), (N,)
        ids, mask = left_pad(distinct, self.pad_id, device)  # (u, P): the width of all rows
        cache = chunked_cache(self.model.config)
        hidden = self.model.get_decoder()(
            input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
            past_key_values=cache, use_cache=True,
        ).last_hidden_state[:, -1]  # (u, d)
        if len(distinct) < len(prompts):  # each row gets its prompt's cache and last state
            row_prompt = row_prompt.to(device)
            cache.batch_select_indices(row_prompt)
            hidden = hidden[row_prompt]
        return hidden, cache
