"""Decode-step attention of grouped-query models without copying the KV cache per query head.

With the fused CPU attention off (harness.gemm), a decode step without a padding mask goes
through transformers' SDPA path with ``enable_gqa=True``, and torch's reference attention then
repeats every layer's whole key and value cache once per query head of its group
(``repeat_interleave``) before two batched products: a copy of the cache at every step.
`install` wraps transformers' ``sdpa`` attention so that this case (one query token, no mask,
no gradient) computes the same reference form on numpy views that broadcast each cached head
over its group instead (stride 0). Every product is the same pinned matrix-vector call on the
same operands, so the bits are those of the reference form. A decode step without a mask (every
row's prompt as long, as in the eos-suppressed benchmark, or the rows left once the shorter
prompts' rows have finished) takes about a third less time.

A decode step with a padding mask (left-padded prompts of different lengths) goes through
transformers' packed form and then torch's reference attention, whose `_safe_softmax` makes
extra passes over the scores to zero rows that have no key at all; `masked_attention` computes
the same operations without them where every row keeps the key of the token being decoded, so
no row can be empty (real-rollout sampler calls 0.955x, an arithmetic evaluation batch 0.975x).
Every other case (prefill, other masks, training) goes to transformers' function unchanged.
tests/test_gqa_decode.py compares both cases bit for bit with what they replace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from harness.gemm import as_numpy

_sdpa: Callable[..., tuple[Tensor, None]] | None = None  # transformers' function, wrapped


def attention(query: Tensor, key: Tensor, value: Tensor, scaling: float) -> Tensor:
    """torch's reference attention (`_scaled_dot_product_attention_math` with ``enable_gqa``)
    for one query token and no mask: query (B, Hq, 1, D), key and value (B, Hkv, T, D) with
    Hq = G * Hkv, query head h reading key head h // G. Returns (B, Hq, 1, D)."""
    batch, heads, _, dim = query.shape
    kv_heads, length = key.shape[1], key.shape[2]
    group = heads // kv_heads
    root = math.sqrt(scaling)  # the reference form scales q and k by sqrt(scale) each
    q = (query * root).reshape(batch, kv_heads, group, 1, dim)  # (B, Hkv, G, 1, D): a vector per query head
    k = (key * root).unsqueeze(2).transpose(-2, -1)  # (B, Hkv, 1, D, T): broadcast over G, not copied
    scores = query.new_empty((batch, kv_heads, group, 1, length))
    np.matmul(as_numpy(q), as_numpy(k), out=as_numpy(scores))  # (B, Hkv, G, 1, T)
    # The reference form's `_safe_softmax` zeroes rows whose scores are all -inf (fully masked);
    # without a mask a row is that only if a query or key is infinite, so plain softmax gives its
    # bits without the all-rows check (unmasked sampler calls 0.92x as long, README: Measured figures)
    probs = torch.softmax(scores, -1)
    out = query.new_empty((batch, kv_heads, group, 1, dim))
    np.matmul(as_numpy(probs), as_numpy(value.unsqueeze(2)), out=as_numpy(out))  # (B, Hkv, G, 1, D)
    return out.reshape(batch, heads, 1, dim)


def masked_attention(query: Tensor, key: Tensor, value: Tensor, scaling: float, mask: Tensor) -> Tensor:
    """What transformers' ``sdpa`` path computes for one query token with a padding mask (B, 1, 1, T)
    of booleans in which every row keeps its last key (the token being decoded): its packed form,
    the G query heads of a cache head as the G rows of one product, then torch's reference
    attention with the mask added as 0 / -inf. No row is all -inf, so plain softmax gives
    `_safe_softmax`'s bits. Shapes as `attention`."""
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    root = math.sqrt(scaling)
    q = (query * root).reshape(batch, kv_heads, heads // kv_heads, dim)  # (B, Hkv, G, D)
    scores = torch.matmul(q, (key * root).transpose(-2, -1))  # (B, Hkv, G, T)
    scores.add_(torch.where(mask.logical_not(), -math.inf, 0.0))  # (B, 1, 1, T) over heads and rows
    return torch.matmul(torch.softmax(scores, -1), value).reshape(batch, heads, 1, dim)


def _padding_mask(mask: Tensor | None, query: Tensor, key: Tensor) -> bool:
    """A (B, 1, 1, T) boolean mask in which every row keeps its last key."""
    return (mask is not None and mask.dtype == torch.bool and mask.shape == (query.shape[0], 1, 1, key.shape[2])
            and bool(mask[..., -1].all()))


def _applies(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, kwargs: dict[str, Any]) -> bool:
    """The cases `attention` (no mask) and `masked_attention` reproduce bit for bit; any other
    goes to transformers."""
    return (query.shape[2] == 1 and getattr(module, "num_key_value_groups", 1) > 1
            and not torch.is_grad_enabled() and query.device.type == "cpu"
            and query.dtype == torch.float32 and query.is_contiguous()
            and all(t.dtype == torch.float32 and t.stride()[-2:] == (t.shape[-1], 1) for t in (key, value))
            and not kwargs.get("dropout") and kwargs.get("position_bias") is None and kwargs.get("cache") is None
            and kwargs.get("scaling") is not None and not kwargs.get("softcap") and not kwargs.get("output_attentions")
            and (mask is None or _padding_mask(mask, query, key)))


def _wrapped(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, attention_mask: Tensor | None,
             **kwargs: Any) -> tuple[Tensor, None]:
    assert _sdpa is not None
    if not _applies(module, query, key, value, attention_mask, kwargs):
        return _sdpa(module, query, key, value, attention_mask, **kwargs)
    if attention_mask is None:
        out = attention(query, key, value, kwargs["scaling"])  # (B, Hq, 1, D)
    else:
        out = masked_attention(query, key, value, kwargs["scaling"], attention_mask)  # (B, Hq, 1, D)
    return out.transpose(1, 2).contiguous(), None  # (B, 1, Hq, D), as transformers' function returns


def install() -> None:
    """Wrap transformers' ``sdpa`` attention (idempotent); only with harness.gemm installed."""
    global _sdpa
    if _sdpa is not None:
        return
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    _sdpa = sdpa_attention_forward
    AttentionInterface.register("sdpa", _wrapped)


def installed() -> bool:
    return _sdpa is not None


@contextmanager
def transformers_attention() -> Iterator[None]:
    """Inside: transformers' own ``sdpa`` attention, as `generate` runs outside the harness
    (benchmarks/core.py times the sampler against both)."""
    from transformers import AttentionInterface

    if _sdpa is None:  # not installed: transformers' already
        yield
        return
    AttentionInterface.register("sdpa", _sdpa)
    try:
        yield
    finally:
        AttentionInterface.register("sdpa", _wrapped)
