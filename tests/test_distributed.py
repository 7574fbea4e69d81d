"""Training on 2 processes (gloo on CPU, DDP and FSDP2) matches 1 process, and checkpoints move
between process counts. Rows sample from their own seeds, so a split batch is the same batch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from harness import distributed
from harness.checkpoint import list_checkpoints
from harness.cli import resolve
from harness.config import TrainConfig
from harness.evaluate import generate
from harness.io import write_jsonl
from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.rollout import Rollout
from harness.sampling.torch_sampler import TorchSampler, draw_seeds
from harness.temperature.base import RowTemperatures, constant
from harness.train import train

# 2 updates per batch exercise the old-policy pass; seq_mean_token_sum_norm the global max length
CFG = TrainConfig(
    steps=3, prompts_per_step=4, group_size=4, max_new_tokens=16, lr=1e-3, save_every=2, micro_batch_size=4,
    updates_per_batch=2, loss_aggregation="seq_mean_token_sum_norm",
)
METHOD = {"controller": "tampo", "warmup_ratio": 0.0}  # learns from the gathered batch
LOSS_TOLERANCE = 1e-4  # relative; the gradient sums over ranks in a different order than 1 process


def train_run(tmp, policy_dir, records, cfg, name, stop_after=None):
    args = (policy_dir, records, METHOD, cfg, 5, tmp / name, tmp / f"{name}-final", {"test": True}, stop_after)
    distributed.launch(train, args, cfg.processes)
    return [json.loads(line) for line in (tmp / name / "metrics.jsonl").read_text().splitlines()]


def assert_same_trajectory(one, two):
    assert [r["step"] for r in one] == [r["step"] for r in two]
    for a, b in zip(one, two):
        for key in ("reward", "response_length", "temperature_mean", "temp/sampled", "entropy"):
            assert b[key] == pytest.approx(a[key], rel=1e-6, abs=1e-6), key  # the same rollouts
        for key in ("loss", "grad_norm", "clip_fraction"):
            assert b[key] == pytest.approx(a[key], rel=LOSS_TOLERANCE, abs=1e-7), key
        assert b["temp/pi"] == pytest.approx(a["temp/pi"], rel=LOSS_TOLERANCE)  # the controller saw the whole batch


@pytest.fixture(scope="module")
def single(tmp_path_factory, toy_policy_dir, toy_records):
    tmp = tmp_path_factory.mktemp("single")
    return tmp, train_run(tmp, toy_policy_dir, toy_records, CFG, "one")


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_two_processes_follow_the_single_process_trajectory(tmp_path, single, toy_policy_dir, toy_records, parallel):
    one_dir, one = single
    two = train_run(tmp_path, toy_policy_dir, toy_records, CFG.model_copy(update={"processes": 2, "parallel": parallel}), "two")
    assert_same_trajectory(one, two)
    a, b = load_file(one_dir / "one-final" / "model.safetensors"), load_file(tmp_path / "two-final" / "model.safetensors")
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-6)
    assert json.loads((tmp_path / "two-final" / "run.json").read_text())["processes"] == 2


def test_a_checkpoint_of_two_processes_resumes_in_one(tmp_path, single, toy_policy_dir, toy_records):
    _, one = single
    two = CFG.model_copy(update={"processes": 2, "parallel": "fsdp"})
    train_run(tmp_path, toy_policy_dir, toy_records, two, "split", stop_after=2)
    [checkpoint] = list_checkpoints(tmp_path / "split")
    assert checkpoint.name == "step_000002" and not (tmp_path / "split-final").exists()
    resumed = train_run(tmp_path, toy_policy_dir, toy_records, CFG, "split")
    assert_same_trajectory(one, resumed)


def test_uneven_split_is_refused_with_the_fields_named():
    with pytest.raises(ValueError, match=r"train.prompts_per_step \(6\) must be divisible by train.processes \(4\)"):
        TrainConfig(prompts_per_step=6, processes=4)
    with pytest.raises(ValueError, match="must be divisible by the number of processes"):
        distributed.Parallel(rank=0, world=3).share(8, "rows")


# ---------------------------------------------------------------- per-row seeds


def test_a_rows_sample_does_not_depend_on_its_batch(tiny_policy_dir):
    model, tok = load_policy(tiny_policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * 2
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0))
    seeds = draw_seeds(torch.Generator().manual_seed(1), 6)
    temps = RowTemperatures(torch.tensor([0.7, 1.3, 1.0, 0.9, 1.1, 1.5]))
    whole = sampler.generate(prompts, temps, 20, seeds=seeds)
    parts = [
        sampler.generate(prompts[:2], RowTemperatures(temps.temperatures[:2]), 20, seeds=seeds[:2]),
        sampler.generate(prompts[2:], RowTemperatures(temps.temperatures[2:]), 20, seeds=seeds[2:]),
    ]
    joined = Rollout.concat(parts, tok.pad_token_id)
    for field in ("prompt_ids", "prompt_mask", "tokens", "mask", "temperatures"):
        assert torch.equal(getattr(joined, field), getattr(whole, field)), field
    torch.testing.assert_close(joined.logprobs, whole.logprobs, rtol=1e-5, atol=1e-6)  # padding changes float sums
    # the same seeds with another seed give another sample: the test can fail
    other = sampler.generate(prompts, temps, 20, seeds=seeds + 100)
    assert not torch.equal(other.tokens, whole.tokens)


def test_evaluation_samples_do_not_depend_on_the_batch_size(tiny_policy_dir):
    model, tok = load_policy(tiny_policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * 3

    def texts(batch_size):
        sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(7))
        return [g.text for g in generate(sampler, tok, lambda: constant(1.0), prompts, 16, batch_size)]

    assert texts(9) == texts(2) == texts(4)


def test_concat_pads_prompts_left_and_responses_right():
    a = Rollout(
        prompt_ids=torch.tensor([[5, 6]]), prompt_mask=torch.tensor([[1, 1]]), tokens=torch.tensor([[7]]),
        mask=torch.tensor([[1.0]]), temperatures=torch.tensor([[0.5]]), logprobs=torch.tensor([[-1.0]]),
        extras={"c": torch.tensor([[2.0]])},
    )
    b = Rollout(
        prompt_ids=torch.tensor([[9]]), prompt_mask=torch.tensor([[1]]), tokens=torch.tensor([[3, 4]]),
        mask=torch.tensor([[1.0, 1.0]]), temperatures=torch.tensor([[0.75, 0.25]]), logprobs=torch.tensor([[-2.0, -3.0]]),
        extras={"c": torch.tensor([[1.0, 1.0]])},
    )
    r = Rollout.concat([a, b], pad_id=0)
    assert r.prompt_ids.tolist() == [[5, 6], [0, 9]] and r.prompt_mask.tolist() == [[1, 1], [0, 1]]
    assert r.tokens.tolist() == [[7, 0], [3, 4]] and r.mask.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert r.temperatures.tolist() == [[0.5, 1.0], [0.75, 0.25]] and r.logprobs.tolist() == [[-1.0, 0.0], [-2.0, -3.0]]
    assert r.extras["c"].tolist() == [[2.0, 0.0], [1.0, 1.0]] and r.hidden is None


@pytest.mark.parametrize("method", [
    {"controller": "introllm"},  # hidden states and the head's decisions are gathered with the batch
    {"controller": "multi_rollout"},  # per-row temperatures: a rank's rows keep their places in the groups
    {"controller": "entropy", "high_fraction": 0.3},
])
def test_every_kind_of_controller_trains_on_two_processes(tmp_path, toy_policy_dir, toy_records, method):
    cfg = CFG.model_copy(update={"steps": 2, "processes": 2, "updates_per_batch": 1})
    args = (toy_policy_dir, toy_records, method, cfg, 5, tmp_path / "run", tmp_path / "final", {"test": True})
    distributed.launch(train, args, 2)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1] and all(r["logprob_mismatch"] < 1e-4 for r in rows)
    if method["controller"] == "multi_rollout":  # G = 4: offsets 0, 0, -0.1, +0.1 on every rank's groups
        assert rows[0]["temperature_min"] == pytest.approx(0.9) and rows[0]["temperature_max"] == pytest.approx(1.1)
    assert (tmp_path / "final" / "controller.pt").exists()


def test_torchrun_runs_the_train_command(tmp_path, toy_policy_dir, toy_records):
    """The launcher owns the processes: `torchrun ... -m harness.cli train` joins its group."""
    write_jsonl(tmp_path / "results" / "smoke" / "data" / "arith-train.jsonl", toy_records)
    shutil.copytree(toy_policy_dir, tmp_path / "results" / "smoke" / "tiny-llama" / "base" / "model")
    config = Path(__file__).resolve().parents[1] / "configs" / "smoke.yaml"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "harness.cli", "train", "--config", str(config), "--model", "tiny-llama", "--method", "grpo-t1.0",
        "--seed", "0", "--set", "train.steps=2", "--set", "train.parallel=fsdp",
    ]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    exp = resolve(config, ["train.steps=2", "train.parallel=fsdp"]).exp  # overridden: its own cells
    cell = tmp_path / "results" / exp / "tiny-llama" / "grpo-t1.0" / "seed0"
    rows = [json.loads(line) for line in (cell / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1] and all(r["logprob_mismatch"] < 1e-4 for r in rows)
    meta = json.loads((cell / "model" / "run.json").read_text())
    assert (meta["processes"], meta["parallel"]) == (2, "fsdp")
