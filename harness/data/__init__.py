"""The embedded synthetic task families and their tokenizer.

Each family is a module with a config section (`data.<name>` of an experiment), a generator of
a test split and a disjoint training stream, and the demonstrations a tiny base model is
pre-trained on; benchmark specs name a family and a split (`source: {synthetic: ...}`).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from harness.data import arithmetic, countdown

FAMILIES = {"arith": arithmetic, "countdown": countdown}
TaskConfig = arithmetic.ArithConfig | countdown.CountdownConfig


def generate_splits(family: str, seed: int, cfg: TaskConfig) -> dict[str, list[dict]]:
    """{"train": [...], "test": [...]} of one family's records."""
    return FAMILIES[family].generate_splits(seed, cfg)


def demonstrations(family: str, cfg: TaskConfig) -> Callable[[dict, random.Random], str]:
    """The pre-training target of a record of this family (may draw from `rng`)."""
    module = FAMILIES[family]
    return lambda record, rng: module.demonstration(record, rng, cfg)
