"""Decode-step GQA attention on broadcast views (harness/gqa_decode.py): the bits of torch's
reference attention, without its copy of the KV cache."""

import os

import pytest
import torch
from transformers import DynamicCache

from harness import gqa_decode, numerics
from harness.data.tokenizer import build_tokenizer
from harness.modeling import build_tiny_llama

pytestmark = pytest.mark.skipif(os.environ.get(numerics.MODE_VARIABLE, "pinned") != "pinned",
                                reason="installed under pinned numerics only")


def qkv(batch: int, kv_heads: int, group: int, length: int, dim: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, kv_heads * group, 1, dim, generator=g),  # (B, Hq, 1, D)
            3 * torch.randn(batch, kv_heads, length, dim, generator=g),  # (B, Hkv, T, D)
            torch.randn(batch, kv_heads, length, dim, generator=g))


@pytest.mark.parametrize("shape", [(1, 1, 2, 1, 8), (3, 2, 2, 5, 32), (16, 2, 4, 17, 64), (128, 2, 2, 63, 32)])
def test_one_decode_step_has_the_bits_of_torchs_reference_attention(shape):
    q, k, v = qkv(*shape)
    dim = shape[-1]
    with torch.no_grad():
        reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=dim**-0.5, enable_gqa=True)
        out = gqa_decode.attention(q, k, v, dim**-0.5)
    assert out.shape == reference.shape and torch.equal(out, reference)
    group = shape[2]  # and it is attention: query head h reads key head h // G
    k64, v64 = (t.double().repeat_interleave(group, dim=1) for t in (k, v))
    weights = torch.softmax(q.double() @ k64.transpose(-2, -1) * dim**-0.5, dim=-1)  # (B, Hq, 1, T)
    assert torch.allclose(out.double(), weights @ v64, atol=1e-5)


def left_padding(batch: int, length: int, seed: int = 0) -> torch.Tensor:
    """A decode step's padding mask (B, 1, 1, T): row b keeps keys from a random start to the last."""
    starts = torch.randint(0, length, (batch,), generator=torch.Generator().manual_seed(seed))
    return (torch.arange(length)[None, :] >= starts[:, None])[:, None, None, :]


def grouped(groups: int) -> torch.nn.Module:
    module = torch.nn.Module()
    module.num_key_value_groups = groups
    return module


@pytest.mark.parametrize("shape", [(1, 1, 2, 1, 8), (3, 2, 2, 5, 32), (16, 2, 4, 17, 64), (128, 2, 2, 63, 32)])
def test_a_masked_decode_step_has_the_bits_of_transformers_sdpa_path(shape):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    q, k, v = qkv(*shape)
    mask, dim = left_padding(shape[0], shape[3]), shape[-1]
    with torch.no_grad():
        reference, _ = sdpa_attention_forward(grouped(shape[2]), q, k, v, mask, scaling=dim**-0.5)
        out, _ = gqa_decode._wrapped(grouped(shape[2]), q, k, v, mask, scaling=dim**-0.5)
    assert out.shape == reference.shape and torch.equal(out, reference)
    # and it is attention over the kept keys only: a masked key's value does not reach the output
    v_masked = v.masked_fill(~mask[:, :, 0, :, None], 1e6)  # (B, Hkv, T, D)
    with torch.no_grad():
        assert torch.equal(gqa_decode._wrapped(grouped(shape[2]), q, k, v_masked, mask, scaling=dim**-0.5)[0], out)


def test_the_bits_do_not_depend_on_where_the_cache_lies_in_memory():
    q, k, v = qkv(8, 2, 2, 23, 32, seed=1)
    reference = gqa_decode.attention(q, k, v, 32**-0.5)
    for offset in range(1, 5):
        k_moved, v_moved = (torch.empty(t.numel() + offset)[offset:].view_as(t).copy_(t) for t in (k, v))
        assert torch.equal(gqa_decode.attention(q, k_moved, v_moved, 32**-0.5), reference)


def decode(model: torch.nn.Module, prompt: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """Logits of a prefill then `steps` greedy decode steps, without an attention mask."""
    cache, logits, ids = DynamicCache(), [], prompt
    with torch.no_grad():
        for _ in range(steps + 1):
            step = model(input_ids=ids, past_key_values=cache, use_cache=True).logits[:, -1]  # (B, V)
            logits.append(step)
            ids = step.argmax(-1, keepdim=True)  # (B, 1)
    return logits


def test_a_grouped_query_model_decodes_the_same_bits_through_it(monkeypatch):
    tokenizer = build_tokenizer(["0123456789+-*/=() abc"])
    model = build_tiny_llama(tokenizer, hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2,
                             intermediate_size=128, max_positions=64, seed=0).eval()
    prompt = torch.randint(4, len(tokenizer), (6, 9), generator=torch.Generator().manual_seed(0))  # (B, L)
    calls, attention = [], gqa_decode.attention

    def counted(*args: torch.Tensor | float) -> torch.Tensor:
        calls.append(args)
        return attention(*args)

    monkeypatch.setattr(gqa_decode, "attention", counted)
    fast = decode(model, prompt, steps=12)
    assert len(calls) == 12 * 2  # every decode step of both layers; the prefill went to transformers
    with gqa_decode.transformers_attention():
        reference = decode(model, prompt, steps=12)
    assert len(calls) == 12 * 2  # inside, nothing came here
    assert all(torch.equal(a, b) for a, b in zip(fast, reference, strict=True))
    assert len(decode(model, prompt, steps=1)) == 2 and len(calls) == 13 * 2  # and it is back


def test_other_masks_or_a_gradient_go_to_transformers(monkeypatch):
    module = grouped(2)
    q, k, v = qkv(2, 2, 2, 5, 8)
    monkeypatch.setattr(gqa_decode, "_sdpa", lambda *a, **kw: ("transformers", None))
    padding = left_padding(2, 5)
    without_last = padding.clone()
    without_last[1, ..., -1] = False  # a row that may have nothing to attend to: _safe_softmax's zeros
    with torch.enable_grad():
        assert gqa_decode._wrapped(module, q, k, v, None, scaling=0.3)[0] == "transformers"
        assert gqa_decode._wrapped(module, q, k, v, padding, scaling=0.3)[0] == "transformers"
    with torch.no_grad():
        for mask in (without_last, padding.float(), padding.expand(2, 4, 1, 5)):
            assert gqa_decode._wrapped(module, q, k, v, mask, scaling=0.3)[0] == "transformers"
        for mask in (None, padding):
            out, _ = gqa_decode._wrapped(module, q, k, v, mask, scaling=0.3)
            assert out.shape == (2, 1, 4, 8)  # (B, 1, Hq, D)
