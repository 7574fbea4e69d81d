"""Training checkpoints: the model in Hugging Face format plus everything needed to continue
exactly (optimizer, scheduler, temperature controller, data order and every RNG), keyed to the
run they belong to.

Layout: {run_dir}/checkpoints/step_000050/{model.safetensors, config.json, trainer_state.pt,
run_key.json}. A checkpoint directory appears only once complete (written aside, then renamed).

The key is everything that determines the trajectory: the resolved training config (but the
fields of EXECUTION_FIELDS: a run resumes under another checkpoint period or process count),
the method's spec, the seed, the prompt format, a fingerprint of the base model's files and one
of the training records, and TRAINER_FORMAT. A checkpoint whose key differs from the run's is
never resumed: it would finish another configuration's run and record this one's config.
The code revision is not part of the key (a fix elsewhere must not throw away days of
training); it is stored with the key, and a resume across revisions says so in run.json.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import PreTrainedModel

from harness.config import ConfigError, TrainConfig
from harness.io import PROVENANCE_FILES, atomic_path, fingerprint_files, fingerprint_json, git_revision, key_differences

STATE_FILE = "trainer_state.pt"
KEY_FILE = "run_key.json"
# Bump when a change to the trainer makes a resumed step compute something the saved run would
# not have (or changes what trainer_state.pt holds): older checkpoints are then not resumed.
TRAINER_FORMAT = 1
StalePolicy = Literal["refuse", "discard"]
log = logging.getLogger(__name__)


class StaleCheckpointError(ConfigError):
    """A run directory holds a checkpoint of another run configuration."""


def run_key(
    base_dir: Path, train_records: list[dict], method: dict[str, Any], cfg: TrainConfig, seed: int, prompt_format: str
) -> dict[str, Any]:
    """What a checkpoint of this run must have been written by (see the module docstring)."""
    return {
        "trainer_format": TRAINER_FORMAT,
        "train": cfg.result_fields(),
        "method": method,
        "seed": seed,
        "prompt_format": prompt_format,
        "base_model": fingerprint_files(base_dir, PROVENANCE_FILES),
        "train_data": fingerprint_json(train_records),
    }


def saved_key(checkpoint: Path) -> tuple[dict[str, Any], str | None]:
    """A checkpoint's run key and the code revision that wrote it ({} for an unkeyed one)."""
    path = Path(checkpoint) / KEY_FILE
    if not path.exists():
        return {}, None
    saved = json.loads(path.read_text())
    return saved["key"], saved["git_revision"]


def check_key(run_dir: Path, checkpoint: Path, key: dict[str, Any], stale: StalePolicy) -> str | None:
    """None if `checkpoint` belongs to the run `key` describes. Otherwise what differs, or with
    stale='refuse' (the by-hand default) a StaleCheckpointError saying what to do; the workflow's
    train job passes 'discard' (Snakemake reruns it when the config changed, having removed that
    configuration's model output already) and removes the checkpoints (discard_checkpoints)."""
    saved, _ = saved_key(checkpoint)
    diffs = key_differences(saved, key) if saved else ["the checkpoint has no run key (written before keys existed)"]
    if not diffs:
        return None
    what = f"{run_dir}: checkpoint {Path(checkpoint).name} was written by another run configuration ({'; '.join(diffs)})"
    if stale == "refuse":
        raise StaleCheckpointError(
            f"{what}. Resuming it would finish that run and label it with this config. To train this "
            f"configuration from step 0, delete {run_dir}; to keep both, give this one another experiment name."
        )
    return what


def discard_checkpoints(run_dir: Path, reason: str) -> None:
    shutil.rmtree(Path(run_dir) / "checkpoints")
    log.warning("%s; removed it, training this configuration from step 0", reason)


def save_checkpoint(
    run_dir: Path, step: int, model: PreTrainedModel, weights: dict[str, torch.Tensor], state: dict[str, Any],
    keep: int, key: dict[str, Any],
) -> Path:
    """Save `weights` (full, keyed as in `model`), the trainer state after `step` steps and the
    run's key; keep only the newest `keep` checkpoints."""
    path = Path(run_dir) / "checkpoints" / f"step_{step:06d}"
    with atomic_path(path) as tmp:
        model.save_pretrained(tmp, state_dict=weights)
        torch.save({"step": step, **state}, tmp / STATE_FILE)
        (tmp / KEY_FILE).write_text(json.dumps({"key": key, "git_revision": git_revision()}, indent=1) + "\n")
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old)
    return path


def list_checkpoints(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    return sorted(p for p in root.glob("step_*") if (p / STATE_FILE).exists()) if root.exists() else []


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The checkpoint's weights and trainer state, on the CPU whatever device saved them (each
    part is moved to the device of what it is loaded into), so a run resumes on any device."""
    from safetensors.torch import load_file

    state = torch.load(Path(path) / STATE_FILE, weights_only=False, map_location="cpu")
    return load_file(Path(path) / "model.safetensors", device="cpu"), state
