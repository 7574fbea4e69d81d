"""A KV cache that grows by chunks: each decoding step writes its keys and values into spare
positions instead of concatenating the whole cache again (transformers' DynamicLayer copies every
layer's cache at every step). The attention reads a view of the filled positions: within each
head the same (T, D) rows as a concatenated cache, so the same products and the same bits.
"""

from __future__ import annotations

import torch
from torch import Tensor
from transformers import PretrainedConfig
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer

CHUNK = 16  # spare positions allocated at a time


class ChunkedLayer(DynamicLayer):
    """One layer's keys and values (B, H, capacity, D), the first `length` positions filled;
    `keys` / `values` are views of those (B, H, length, D)."""

    def lazy_initialization(self, key_states: Tensor, value_states: Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        self.buffers = [key_states.new_empty((*key_states.shape[:2], 0, key_states.shape[3])),
                        value_states.new_empty((*value_states.shape[:2], 0, value_states.shape[3]))]
        self.length = 0
        self.is_initialized = True

    def update(self, key_states: Tensor, value_states: Tensor, *args, **kwargs) -> tuple[Tensor, Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        new = key_states.shape[2]
        if self.length + new > self.buffers[0].shape[2]:  # full: a larger buffer, the filled part copied once
            self.buffers = [torch.cat([b[:, :, : self.length], b.new_empty((*b.shape[:2], new + CHUNK, b.shape[3]))], dim=2)
                            for b in self.buffers]
        for buffer, states in zip(self.buffers, (key_states, value_states), strict=True):
            buffer[:, :, self.length : self.length + new] = states
        self.length += new
        self._views()
        return self.keys, self.values

    def _views(self) -> None:
        self.keys, self.values = (b[:, :, : self.length] for b in self.buffers)

    def get_seq_length(self) -> int:
        return self.length if self.is_initialized else 0

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError(f"crop takes a negative count of tokens to remove, not {tokens_to_remove}")
        if self.is_initialized and tokens_to_remove:
            self.length = max(0, self.length + tokens_to_remove)
            self._views()

    def batch_repeat_interleave(self, repeats: int) -> None:
        if self.get_seq_length() > 0:
            self.buffers = [b.repeat_interleave(repeats, dim=0) for b in self.buffers]
            self._views()

    def batch_select_indices(self, indices: Tensor) -> None:
        """Keep the rows `indices` (n,), in that order (repeats allowed): a copy per row, for which
        index_select takes under half the time of advanced indexing (`b[indices]`)."""
        if self.get_seq_length() > 0:
            self.buffers = [torch.index_select(b, 0, indices) for b in self.buffers]
            self._views()


def chunked_cache(config: PretrainedConfig) -> Cache:
    """transformers' cache for a model of `config`, its full-attention layers chunked; layers of
    another kind (a sliding window, e.g. Mistral's) stay as transformers makes them."""
    cache = DynamicCache(config=config)
    cache.layers = [ChunkedLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
    return cache
