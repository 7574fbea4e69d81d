"""The chunked KV cache (harness/sampling/kv_cache.py): the keys and values of a concatenated
cache, and a sampler that decodes the same bits with it."""

from collections.abc import Callable

import pytest
import torch
from transformers import DynamicCache, LlamaConfig, MistralConfig
from transformers.cache_utils import DynamicSlidingWindowLayer

from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.sampling import torch_sampler
from harness.sampling.kv_cache import CHUNK, ChunkedLayer, chunked_cache
from harness.sampling.torch_sampler import TorchSampler
from tests.test_sampler import PositionRamp


def states(batch: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 2, length, 4, generator=g), torch.randn(batch, 2, length, 4, generator=g)  # (B, H, T, D)


def test_it_holds_what_concatenation_holds_across_chunks_row_selection_and_crops():
    layer, keys, values = ChunkedLayer(), *states(3, 5, seed=0)  # a prefill of 5 positions
    out = layer.update(keys, values)
    assert torch.equal(out[0], keys) and torch.equal(out[1], values)
    for step in range(2 * CHUNK + 3):  # one position at a time, past two chunk boundaries
        k, v = states(len(keys), 1, seed=step + 1)
        if step == CHUNK:  # rows 0 and 2 leave, as finished rows leave the sampler's batch
            layer.batch_select_indices(torch.tensor([0, 2]))
            keys, values = keys[[0, 2]], values[[0, 2]]
            k, v = k[:2], v[:2]
        keys, values = torch.cat([keys, k], dim=2), torch.cat([values, v], dim=2)
        out = layer.update(k, v)
        assert torch.equal(out[0], keys) and torch.equal(out[1], values)
        assert out[0].stride()[-2:] == (4, 1)  # within each head, rows of D as in a concatenated cache
    assert layer.get_seq_length() == 5 + 2 * CHUNK + 3
    layer.crop(-4)
    assert torch.equal(layer.keys, keys[:, :, :-4]) and layer.get_seq_length() == 5 + 2 * CHUNK - 1
    layer.batch_repeat_interleave(2)
    assert torch.equal(layer.values, values[:, :, :-4].repeat_interleave(2, dim=0))
    with pytest.raises(ValueError, match="negative count"):
        layer.crop(3)


def test_the_sampler_decodes_the_same_bits_as_with_a_concatenated_cache(tiny_policy_dir, monkeypatch):
    """Padded rows that finish at different steps, and rows of one prompt (no mask): tokens,
    log-probs and hidden states equal those of transformers' DynamicCache, bit for bit."""
    model, tok = load_policy(tiny_policy_dir)
    padded = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * 4
    made, chunked = [], torch_sampler.chunked_cache

    def recorded(cache: type | Callable) -> Callable:
        return lambda config: made.append(cache(config=config)) or made[-1]

    for prompts in (padded, padded[:1] * 6):
        runs = []
        for cache in (chunked, DynamicCache):
            monkeypatch.setattr(torch_sampler, "chunked_cache", recorded(cache))
            runs.append(TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator()).generate(
                prompts, PositionRamp(), 2 * CHUNK + 8, return_hidden=True, seeds=torch.arange(len(prompts))))
        if prompts is padded:
            assert runs[0].mask.sum(-1).unique().numel() > 1  # rows leave the batch at different steps
        for field in ("tokens", "mask", "logprobs", "hidden"):
            assert torch.equal(getattr(runs[0], field), getattr(runs[1], field)), field
    assert [type(c.layers[0]).__name__ for c in made] == ["ChunkedLayer", "DynamicLayer"] * 2


def test_layers_of_another_kind_stay_as_transformers_makes_them():
    """A sliding-window model keeps transformers' sliding layers; full attention is chunked."""
    llama = chunked_cache(LlamaConfig(num_hidden_layers=2))
    mistral = chunked_cache(MistralConfig(num_hidden_layers=2, sliding_window=8))
    assert [type(layer) for layer in llama.layers] == [ChunkedLayer, ChunkedLayer]
    assert [type(layer) for layer in mistral.layers] == [DynamicSlidingWindowLayer] * 2
