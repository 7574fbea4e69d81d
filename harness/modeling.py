"""Policy models: the tiny random-init Llama of the embedded setting, and loading any
transformers causal LM from a directory.

The tiny model is a Llama-architecture decoder (as SmolLM2), not Qwen2: transformers 5 loads
any `qwen2` directory with its Qwen2 tokenizer class, which would replace our word-level
pre-tokenizer, whereas a `llama` directory keeps the tokenizer it was saved with."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from harness import numerics
from harness.config_file import ConfigError

numerics.install_attention()  # the models below decode with it under pinned numerics


def build_tiny_llama(
    tokenizer: PreTrainedTokenizerBase,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    num_kv_heads: int,
    intermediate_size: int,
    max_positions: int,
    seed: int,
) -> LlamaForCausalLM:
    """A Llama-architecture model with tied embeddings, randomly initialised from `seed`."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def load_policy(path: Path, device: torch.device | str = "cpu") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A saved causal LM and its tokenizer, in fp32 on `device`, in eval mode."""
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device)
    model.eval()
    return model, tokenizer


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


CHECKPOINT_HELP = "allowed: a directory holding a transformers checkpoint (config.json, weights, tokenizer), or a hub id such as Qwen/Qwen3-1.7B-Base"


def load_checkpoint(source: str, field: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A transformers checkpoint by hub id or local directory (fp32, as the trainer expects).
    transformers takes a directory that does not exist for a hub id and answers with a message
    about repositories; here a value written as a path (/..., ./..., ~/..., a/b/c) must be a
    directory, and a failed load names the config `field`."""
    path = Path(source).expanduser()
    if not path.is_dir() and (source.startswith(("/", ".", "~")) or source.count("/") > 1 or source.endswith("/")):
        raise ConfigError(f"{field}: {source!r} is not an existing directory; {CHECKPOINT_HELP}")
    location = str(path) if path.is_dir() else source
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
        return AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32), tokenizer
    except (OSError, ValueError) as err:  # hub errors are either (offline, unknown id, invalid id)
        what = "the directory" if path.is_dir() else "no such directory, and the hub"
        raise ConfigError(f"{field}: {source!r}: {what} gave no checkpoint ({str(err).splitlines()[0]}); {CHECKPOINT_HELP}") from None


def gguf_path(package: str | None, directory: str | None, file: str) -> Path:
    """A GGUF file inside an installed package (found without importing it) or a directory."""
    from harness.benchmarks.packages import package_dir

    path = (package_dir(package) if package else Path(directory)) / file
    if not path.exists():
        raise FileNotFoundError(f"gguf file {path} does not exist")
    return path


def load_gguf(path: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A GGUF checkpoint dequantised to fp32 by transformers (which needs the `gguf` package).

    transformers marks a model loaded from GGUF as quantised and refuses to save it, so its
    dequantised weights are moved into a plain model built from the same config."""
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    return model.eval(), tokenizer
