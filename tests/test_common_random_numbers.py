"""Common random numbers, the guarantee paired comparisons rest on (README "Statistics"): two
methods with the same seed index see the same training prompts in the same order and draw their
rollouts from the same row seeds, and are evaluated on the same problems with the same
per-sample seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config import TrainConfig, load_config
from harness.io import read_jsonl, write_jsonl
from harness.sampling.torch_sampler import TorchSampler
from harness.stages import evaluate_cell, train_cell
from harness.train import build_run, grpo_step


def crn_config(methods: dict) -> object:
    return load_config({
        "name": "crn", "seeds": [0], "models": {"m": {"tiny": {}}},
        "train": {"steps": 2, "prompts_per_step": 2, "group_size": 4, "max_new_tokens": 12, "lr": 1e-3, "save_every": 10},
        "methods": methods,
        "eval": {"benchmarks": ["arith"], "n_samples": 4, "ks": [1, 4], "max_new_tokens": 12},
    })


def without_times(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not k.startswith("time/")} for r in rows]


def test_one_method_under_two_names_writes_identical_metrics(tmp_path, toy_policy_dir, toy_records):
    tampo = {"controller": "tampo"}  # a learning controller with its own sampling: the strongest case
    cfg = crn_config({"first": tampo, "second": tampo})
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records)
    for method in ("first", "second"):
        out = tmp_path / method
        train_cell(cfg, "m", method, 0, toy_policy_dir, data, out / "train", out / "model")
        evaluate_cell(cfg, "m", method, 0, "arith", out / "model", data, out / "arith.json", out / "arith.generations.jsonl")
    first, second = tmp_path / "first", tmp_path / "second"
    train_first, train_second = (without_times(read_jsonl(p / "model" / "train_metrics.jsonl")) for p in (first, second))
    assert train_first == train_second and len(train_first) == 2
    assert (first / "model" / "model.safetensors").read_bytes() == (second / "model" / "model.safetensors").read_bytes()
    eval_first, eval_second = (json.loads((p / "arith.json").read_text()) for p in (first, second))
    assert eval_first["metrics"] == eval_second["metrics"] and eval_first["method"] != eval_second["method"]
    assert (first / "arith.generations.jsonl").read_bytes() == (second / "arith.generations.jsonl").read_bytes()


def record_rollouts(run) -> list[dict]:
    """Wrap the run's sampler: every call's prompts, row seeds and temperatures."""
    calls, generate = [], run.sampler.generate

    def recording(prompts, policy, max_new_tokens, **kwargs):
        rollout = generate(prompts, policy, max_new_tokens, **kwargs)
        calls.append({"prompts": prompts, "seeds": kwargs["seeds"].tolist(), "temperature": float(rollout.temperatures[0, 0])})
        return rollout

    run.sampler.generate = recording
    return calls


def test_two_fixed_temperatures_draw_their_rollouts_from_the_same_prompts_and_row_seeds(toy_policy_dir, toy_records):
    cfg = TrainConfig(steps=3, prompts_per_step=2, group_size=4, max_new_tokens=8, lr=1e-3)
    seen = {}
    for temperature, seed in ((0.6, 0), (1.2, 0), (0.6, 1)):
        run = build_run(toy_policy_dir, toy_records * 4, {"controller": "fixed", "temperature": temperature}, cfg, seed)
        calls = record_rollouts(run)
        for step in range(3):
            grpo_step(run, step)
        seen[(temperature, seed)] = calls
    low, high = seen[(0.6, 0)], seen[(1.2, 0)]
    assert [c["prompts"] for c in low] == [c["prompts"] for c in high]
    assert [c["seeds"] for c in low] == [c["seeds"] for c in high]
    assert len(set(low[0]["seeds"])) == 8  # a seed per row of the 2 x 4 batch
    assert [c["temperature"] for c in low] == pytest.approx([0.6] * 3) and high[0]["temperature"] == pytest.approx(1.2)
    assert [c["seeds"] for c in seen[(0.6, 1)]] != [c["seeds"] for c in low]  # another seed index, other seeds


def test_evaluations_share_problems_and_per_sample_seeds(tmp_path, monkeypatch, tiny_policy_dir, toy_policy_dir, toy_records):
    cfg = crn_config({"a": {"controller": "fixed", "temperature": 1.0}})
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records)
    seeds: list[list[int]] = []
    generate = TorchSampler.generate

    def recording(self, prompts, policy, max_new_tokens, **kwargs):
        seeds.append(kwargs["seeds"].tolist())
        return generate(self, prompts, policy, max_new_tokens, **kwargs)

    monkeypatch.setattr(TorchSampler, "generate", recording)
    rows = {}
    for name, model_dir in (("random", tiny_policy_dir), ("trained", toy_policy_dir)):  # two different policies
        out = Path(tmp_path / name)
        evaluate_cell(cfg, "m", "a", 0, "arith", model_dir, data, out / "arith.json", out / "arith.generations.jsonl")
        rows[name] = read_jsonl(out / "arith.generations.jsonl")
    assert seeds[0] == seeds[1] and len(seeds[0]) == len(toy_records) * 4
    assert [(r["id"], r["sample"]) for r in rows["random"]] == [(r["id"], r["sample"]) for r in rows["trained"]]
    assert [r["response"] for r in rows["random"]] != [r["response"] for r in rows["trained"]]
