"""Checkpoints and evaluation on every device the machine has (tests/conftest.py's `device`):
the CPU in CI, CUDA as well on a GPU machine, where the prepared GPU check runs these tests with
`-m device -k cuda`. Training of every method on each device: tests/test_train.py; chunked
log-probs: tests/test_chunked.py."""

from __future__ import annotations

import json

import pytest
import torch

from harness.config import EvalConfig
from harness.distributed import Parallel, resolve_device
from harness.evaluate import eval_policy, generate_and_score
from harness.modeling import load_policy
from harness.sampling.torch_sampler import TorchSampler
from harness.train import build_run, grpo_step, resume, train
from tests.conftest import DEVICES
from tests.test_evaluate import _Cfg
from tests.test_train import CFG

STATEFUL = {  # methods whose controller keeps tensors or a module between steps
    "tampo": {"controller": "tampo", "warmup_ratio": 0.0, "top_p": 1.0},
    "entropy": {"controller": "entropy", "window": 50},
    "introllm": {"controller": "introllm", "lr": 1e-2},
}
PAIRS = [(a, b) for a in DEVICES for b in DEVICES if a != b] or [("cpu", "cpu")]


def controller_tensors(controller) -> list[torch.Tensor]:
    state = controller.state_dict()
    found: list[torch.Tensor] = []

    def walk(x):
        if isinstance(x, torch.Tensor):
            found.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk({k: v for k, v in state.items() if k != "generator"})  # a torch.Generator's state is a CPU byte tensor
    return found


@pytest.mark.parametrize("save,load", PAIRS)
@pytest.mark.parametrize("name", sorted(STATEFUL))
def test_a_checkpoint_saved_on_one_device_resumes_on_another(tmp_path, toy_policy_dir, toy_records, name, save, load):
    method, cfg = STATEFUL[name], CFG.model_copy(update={"steps": 2, "save_every": 1})
    run_dir = tmp_path / "run"
    assert train(toy_policy_dir, toy_records, method, cfg.model_copy(update={"device": save}), 5, run_dir,
                 tmp_path / "final", {}, stop_after=1) is None
    [saved_row] = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]

    run = build_run(toy_policy_dir, toy_records, method, cfg, 5, par=Parallel(device_type=load))
    assert resume(run, run_dir, run_dir / "metrics.jsonl", "refuse") == 1  # resumed, not restarted
    assert {p.device.type for p in run.model.parameters()} == {load}
    assert {t.device.type for t in controller_tensors(run.controller)} <= {load}
    if name == "introllm":  # the head's optimizer state follows the head
        moments = [t for s in run.controller.optimizer.state.values() for t in s.values() if t.dim() > 0]
        assert moments and {t.device.type for t in moments} == {load}
    row = grpo_step(run, 1)
    assert row["logprob_mismatch"] < 1e-4
    kept = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[0])
    assert kept == saved_row  # the step before the checkpoint is kept as logged, timings included


def test_evaluation_of_a_few_problems(tmp_path, toy_policy_dir, toy_records, device):
    """A method trained on `device` and evaluated there under both protocols: its own learned
    temperatures (IntroLLM's head) and one fixed T."""
    method = STATEFUL["introllm"]
    cfg = CFG.model_copy(update={"steps": 1, "device": device})
    out = train(toy_policy_dir, toy_records, method, cfg, 0, tmp_path / "run", tmp_path / "m", {})
    model, tok = load_policy(out, device)
    eval_cfg = EvalConfig(n_samples=4, ks=[1, 4], batch_size=3, device=device)
    for protocol, low, high in (("method", 0.6, 1.5), (0.7, 0.7, 0.7)):
        sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator(device="cpu").manual_seed(1))
        policy = lambda p=protocol: eval_policy(_Cfg(p, method), "introllm", out, 32, 0, model.device)  # noqa: E731
        rows = generate_and_score(sampler, tok, policy, toy_records, eval_cfg, max_new_tokens=12)
        assert len(rows) == len(toy_records) * 4 and {r["sample"] for r in rows} == {0, 1, 2, 3}
        assert all(low - 1e-6 <= r["temperature_mean"] <= high + 1e-6 for r in rows)
        assert all(r["correct"] in (0.0, 1.0) for r in rows)


def test_cuda_without_a_gpu_is_an_error_naming_the_field(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"train\.device: cuda, but .* sees no GPU .*allowed: auto, cpu, cuda"):
        resolve_device("cuda", "train.device")
    assert resolve_device("auto", "train.device") == "cpu"
    with pytest.raises(ValueError, match=r"eval\.device: 'tpu' is not a device; allowed: auto, cpu, cuda"):
        resolve_device("tpu", "eval.device")
