"""The process's global random number generators (Python, NumPy, torch CPU, and CUDA's where
it is in use) as one state: saved with a checkpoint so a resumed run continues the same
streams, and restored around code that reseeds them (vLLM). A state saved without CUDA's
(on the CPU) leaves CUDA's stream as seeded when restored on a GPU."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()  # this process's GPU (one per rank)
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"].cpu())
