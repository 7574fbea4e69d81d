"""A real (tiny) GRPO run: loss, parameter change, checkpoints, and exact resume."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from harness.checkpoint import list_checkpoints
from harness.config import TrainConfig
from harness.modeling import load_policy
from harness.paths import CONTROLLER_FILE
from harness.temperature.base import CONTROLLERS, load_methods
from harness.train import build_run, lr_schedule, train

CFG = TrainConfig(steps=4, prompts_per_step=4, group_size=4, max_new_tokens=16, lr=1e-3, save_every=2, micro_batch_size=8)
METHOD = {"controller": "linear", "start": 0.9, "end": 1.5}


def run(tmp, policy_dir, records, cfg=CFG, stop_after=None, name="run"):
    return train(policy_dir, records, METHOD, cfg, 3, tmp / name, tmp / f"{name}-final", {"test": True}, stop_after)


def metrics(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_times(rows):
    return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in rows]


def test_two_steps_train_and_save_a_loadable_policy(tmp_path, toy_policy_dir, toy_records):
    cfg = CFG.model_copy(update={"steps": 2})
    out = run(tmp_path, toy_policy_dir, toy_records, cfg)
    rows = metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1]
    assert rows[0]["zero_advantage_groups"] < 1  # the batch carried signal
    for r in rows:
        assert all(torch.isfinite(torch.tensor(v)) for v in r.values())
        assert r["logprob_mismatch"] < 1e-4  # trainer and sampler agree on every token
        assert r["temperature_mean"] == pytest.approx(0.9 if r["step"] == 0 else 1.5, abs=1e-6)
        rows_per_step = cfg.prompts_per_step * cfg.group_size  # the model's work: each prompt once, then every row
        assert r["tokens/generated"] == pytest.approx(r["response_length"] * rows_per_step)
        assert r["tokens/trained"] == r["tokens/prompt"] * cfg.group_size + r["tokens/generated"] and r["tokens/rescored"] == 0
    before, after = load_file(toy_policy_dir / "model.safetensors"), load_file(out / "model.safetensors")
    assert any(not torch.equal(before[k], after[k]) for k in before)
    model, tok = load_policy(out)
    assert tok.eos_token == "<|eos|>" and (out / CONTROLLER_FILE).exists()
    assert json.loads((out / "run.json").read_text())["seed"] == 3


def test_checkpoint_round_trip_and_exact_resume(tmp_path, toy_policy_dir, toy_records):
    run(tmp_path, toy_policy_dir, toy_records, name="full")
    assert run(tmp_path, toy_policy_dir, toy_records, stop_after=2, name="split") is None
    [checkpoint] = list_checkpoints(tmp_path / "split")
    assert checkpoint.name == "step_000002"
    # a partial log line past the checkpoint (a killed job) is cut back on resume
    with (tmp_path / "split" / "metrics.jsonl").open("a") as f:
        f.write(json.dumps({"step": 2, "reward": -1}) + "\n")
    run(tmp_path, toy_policy_dir, toy_records, name="split")
    full, split = metrics(tmp_path / "full" / "metrics.jsonl"), metrics(tmp_path / "split" / "metrics.jsonl")
    assert without_times(full) == without_times(split)
    a, b = load_file(tmp_path / "full-final" / "model.safetensors"), load_file(tmp_path / "split-final" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_kl_and_reused_batches_run(tmp_path, toy_policy_dir, toy_records):
    cfg = CFG.model_copy(update={"steps": 1, "kl_coef": 0.1, "updates_per_batch": 2, "minibatches": 2})
    run(tmp_path, toy_policy_dir, toy_records, cfg)
    [row] = metrics(tmp_path / "run" / "metrics.jsonl")
    assert row["kl"] >= 0 and row["logprob_mismatch"] < 1e-4
    sequences = row["tokens/prompt"] * cfg.group_size + row["tokens/generated"]
    # two passes of the update; no-grad passes: theta_old (the batch is reused) and the KL reference
    assert row["tokens/trained"] == 2 * sequences and row["tokens/rescored"] == 2 * sequences


load_methods()
# Settings that make a controller act within two tiny steps; every registered controller is
# trained (with its defaults where none are given here), so a new method file cannot escape.
FAST = {
    "fixed": {"temperature": 0.8},
    "linear": {"start": 0.9, "end": 1.5},
    "tampo": {"warmup_ratio": 0.0, "top_p": 1.0},
    "ead": {"fixed_tokens": 1, "d0": 3.0},
    "ead_introllm": {"fixed_tokens": 1},
    "entropy": {"window": 50},
    "spike": {"every": 1},
    "introllm": {"lr": 1e-2},
}
VARIANTS = {  # named variants whose code paths differ from their controller's defaults
    "tampo-introllm": {"controller": "tampo", "preset": "introllm"},
    "introllm-prompt": {"controller": "introllm", "granularity": "prompt"},
    "introllm-always": {"controller": "introllm", "gate": False},
}
EVERY_METHOD = {name: {"controller": name, **FAST.get(name, {})} for name in CONTROLLERS} | VARIANTS


def test_fast_settings_name_registered_controllers():
    assert set(FAST) <= set(CONTROLLERS) and set(EVERY_METHOD) >= set(CONTROLLERS)


def assert_same_state(a, b, where="state"):
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same_state(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


@pytest.mark.parametrize("name", sorted(EVERY_METHOD))
def test_every_method_trains_and_resumes_with_identical_controller_state(tmp_path, toy_policy_dir, toy_records, name, device):
    method = EVERY_METHOD[name]
    cfg = CFG.model_copy(update={"steps": 2, "save_every": 1, "device": device})
    go = lambda run_name, stop=None: train(  # noqa: E731
        toy_policy_dir, toy_records, method, cfg, 5, tmp_path / run_name, tmp_path / f"{run_name}-final", {}, stop
    )
    go("full")
    go("split", stop=1)
    go("split")
    full = torch.load(tmp_path / "full-final" / CONTROLLER_FILE, weights_only=False)
    split = torch.load(tmp_path / "split-final" / CONTROLLER_FILE, weights_only=False)
    assert_same_state(full, split)
    rows = metrics(tmp_path / "full" / "metrics.jsonl")
    assert without_times(rows) == without_times(metrics(tmp_path / "split" / "metrics.jsonl"))
    assert all(r["logprob_mismatch"] < 1e-4 for r in rows)


def test_training_the_t1_policy_off_policy_with_tis(tmp_path, toy_policy_dir, toy_records):
    """EAD as trained in its paper: sampled at annealed temperatures, loss at T = 1, TIS."""
    cfg = CFG.model_copy(update={"steps": 2, "loss_temperature": 1.0, "tis_cap": 2.0})
    method = {"controller": "ead", "fixed_tokens": 0, "d0": 2.0}
    train(toy_policy_dir, toy_records, method, cfg, 5, tmp_path / "run", tmp_path / "final", {})
    rows = metrics(tmp_path / "run" / "metrics.jsonl")
    assert all("logprob_mismatch" not in r and 0 < r["tis_weight_mean"] <= 2.0 for r in rows)
    assert rows[0]["temperature_min"] < 1.0  # the schedule really annealed


def test_gradient_checkpointing_changes_nothing(tmp_path, toy_policy_dir, toy_records):
    run(tmp_path, toy_policy_dir, toy_records, name="plain")
    plain = metrics(tmp_path / "plain" / "metrics.jsonl")
    ckpt_cfg = CFG.model_copy(update={"gradient_checkpointing": True})
    assert build_run(toy_policy_dir, toy_records, METHOD, ckpt_cfg, 3).model.is_activation_checkpointing
    run(tmp_path, toy_policy_dir, toy_records, ckpt_cfg, name="ckpt")
    checkpointed = metrics(tmp_path / "ckpt" / "metrics.jsonl")
    for a, b in zip(plain, checkpointed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6) and a["reward"] == b["reward"]


def test_bf16_autocast_trains(tmp_path, toy_policy_dir, toy_records, device):
    run(tmp_path, toy_policy_dir, toy_records, CFG.model_copy(update={"bf16_autocast": True, "device": device}), name="bf16")
    bf16 = metrics(tmp_path / "bf16" / "metrics.jsonl")
    assert len(bf16) == CFG.steps and all(math.isfinite(r["loss"]) for r in bf16)
    # sampler and trainer both run in bf16 autocast: their log-probs agree to bf16 precision
    assert max(r["logprob_mismatch"] for r in bf16) < 0.1


def test_lr_schedule_warms_up_then_decays_to_min_lr_ratio():
    """4 steps, warm-up ceil(0.5 * 4) = 2: lr x (0, 1/2, 1), then cosine from 1 to 0.1:
    midway 0.1 + 0.9 * (1 + cos(pi / 2)) / 2 = 0.55, at the end 0.1."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    schedule = lr_schedule(optimizer, CFG.model_copy(update={"warmup_ratio": 0.5, "min_lr_ratio": 0.1}))
    lrs = []
    for _ in range(5):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs == pytest.approx([0.0, 1.0, 2.0, 1.1, 0.2])
