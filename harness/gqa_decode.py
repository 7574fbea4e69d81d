"""Decode-step attention of grouped-query models without copying the KV cache per query head.

With the fused CPU attention off (harness.gemm), a decode step without a padding mask goes
through transformers' SDPA path with ``enable_gqa=True``, and torch's reference attention then
repeats every layer's whole key and value cache once per query head of its group
(``repeat_interleave``) before two batched products: a copy of the cache at every step.
`install` wraps transformers' ``sdpa`` attention so that this one case (one query token, no
mask, no gradient) computes the same reference form on numpy views that broadcast each cached
head over its group instead (stride 0). Every product is the same pinned matrix-vector call on
the same operands, so the bits are those of the reference form (tests/test_gqa_decode.py); every
other case (prefill, a padding mask, training) goes to transformers' function unchanged. A
decode step without a mask (every row's prompt as long, as in the eos-suppressed benchmark, or
the rows left once the shorter prompts' rows have finished) takes about a third less time.
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


def _applies(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, kwargs: dict[str, Any]) -> bool:
    """The case `attention` reproduces bit for bit; any other goes to transformers (with a
    padding mask, transformers already packs a cache head's query heads without a copy)."""
    return (mask is None and query.shape[2] == 1 and getattr(module, "num_key_value_groups", 1) > 1
            and not torch.is_grad_enabled() and query.device.type == "cpu"
            and query.dtype == torch.float32 and query.is_contiguous()
            and all(t.dtype == torch.float32 and t.stride()[-2:] == (t.shape[-1], 1) for t in (key, value))
            and not kwargs.get("dropout") and kwargs.get("position_bias") is None and kwargs.get("cache") is None
            and kwargs.get("scaling") is not None and not kwargs.get("softcap") and not kwargs.get("output_attentions"))


def _wrapped(module: nn.Module, query: Tensor, key: Tensor, value: Tensor, attention_mask: Tensor | None,
             **kwargs: Any) -> tuple[Tensor, None]:
    assert _sdpa is not None
    if not _applies(module, query, key, value, attention_mask, kwargs):
        return _sdpa(module, query, key, value, attention_mask, **kwargs)
    out = attention(query, key, value, kwargs["scaling"])  # (B, Hq, 1, D)
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
