"""Generation backends behind one interface (harness.sampling.base.Sampler)."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from harness.config import Sampler as SamplerKind
from harness.config import VllmConfig
from harness.sampling.base import Sampler


def build_sampler(
    kind: SamplerKind, model: PreTrainedModel, model_dir: Path, tokenizer: PreTrainedTokenizerBase,
    generator: torch.Generator, vllm: VllmConfig,
) -> Sampler:
    """The torch sampler decodes with `model` itself; a vLLM engine loads `model_dir` and
    receives later weights through `Sampler.update_weights`."""
    from harness.sampling.torch_sampler import TorchSampler

    if kind == "torch":
        return TorchSampler(model, tokenizer.eos_token_id, tokenizer.pad_token_id, generator)
    from harness.sampling.vllm_sampler import VllmSampler  # imports vllm: only where it is installed

    return VllmSampler(model_dir, tokenizer.eos_token_id, tokenizer.pad_token_id, generator, vllm, model.device)
