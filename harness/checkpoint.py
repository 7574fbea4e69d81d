"""Training checkpoints: the model in Hugging Face format plus everything needed to continue
exactly (optimizer, scheduler, temperature controller, data order and every RNG).

Layout: {run_dir}/checkpoints/step_000050/{model.safetensors, config.json, trainer_state.pt}.
A checkpoint directory appears only once complete (written aside, then renamed).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel

from harness.io import atomic_path

STATE_FILE = "trainer_state.pt"


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(
    run_dir: Path, step: int, model: PreTrainedModel, weights: dict[str, torch.Tensor], state: dict[str, Any], keep: int
) -> Path:
    """Save `weights` (full, keyed as in `model`) and the trainer state after `step` steps;
    keep only the newest `keep` checkpoints."""
    path = Path(run_dir) / "checkpoints" / f"step_{step:06d}"
    with atomic_path(path) as tmp:
        model.save_pretrained(tmp, state_dict=weights)
        torch.save({"step": step, **state}, tmp / STATE_FILE)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old)
    return path


def list_checkpoints(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    return sorted(p for p in root.glob("step_*") if (p / STATE_FILE).exists()) if root.exists() else []


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The checkpoint's weights and trainer state."""
    from safetensors.torch import load_file

    return load_file(Path(path) / "model.safetensors"), torch.load(Path(path) / STATE_FILE, weights_only=False)
