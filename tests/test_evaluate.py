"""Evaluation: metrics from generations, and both temperature protocols."""

import pytest
import torch

from harness.config import EvalConfig
from harness.evaluate import eval_policy, summarize
from harness.io import read_jsonl
from harness.train import train
from tests.test_train import CFG


def test_summarize_by_hand():
    # (strict, flexible) verdicts: the flexible reading credits two more samples of problem a
    verdicts = {"a": [(1, 1), (0, 1), (0, 1), (0, 0)], "b": [(1, 1), (1, 1), (0, 0), (1, 1)]}
    rows = [
        {"id": i, "level": lv, "correct": c, "correct_flexible": f, "temperature_mean": 1.0, "length": 3}
        for (i, v), lv in zip(verdicts.items(), (1, 2)) for c, f in v
    ]
    out = summarize(rows, n=4, ks=[1, 2, 4])
    assert out["avg@4"] == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert out["pass@1"] == pytest.approx(out["avg@4"])
    assert out["pass@2"] == pytest.approx(((1 - 3 / 6) + 1.0) / 2)  # a: 1 - C(3,2)/C(4,2); b: n - c < k
    assert out["pass@4"] == 1.0
    assert out["by_level"]["1"]["avg@4"] == 0.25 and out["by_level"]["2"]["problems"] == 1
    lo, hi = out["avg@4_ci95"]
    assert lo <= out["avg@4"] <= hi
    assert out["flexible_avg@4"] == pytest.approx((3 / 4 + 3 / 4) / 2)
    assert out["flexible_pass@2"] == pytest.approx(1.0)  # a and b: n - c = 1 < k
    assert out["by_level"]["1"]["flexible_avg@4"] == 0.75 and out["by_level"]["1"]["avg@4"] == 0.25


class _Cfg:
    """The two fields of an experiment config that eval_policy reads."""

    def __init__(self, temperature, method_spec):
        self.eval = EvalConfig(temperature=temperature)
        self._spec = method_spec

    def train_config(self, name):
        return CFG

    def controller_spec(self, name):
        return self._spec


def test_both_evaluation_protocols(tmp_path, toy_policy_dir, toy_records):
    method = {"controller": "introllm", "lr": 1e-2}
    out = train(toy_policy_dir, toy_records, method, CFG.model_copy(update={"steps": 1}), 0, tmp_path / "run", tmp_path / "m", {})
    fixed = eval_policy(_Cfg(0.7, method), "introllm", out, hidden_size=32, seed=0, device=torch.device("cpu"))
    own = eval_policy(_Cfg("method", method), "introllm", out, hidden_size=32, seed=0, device=torch.device("cpu"))
    base = eval_policy(_Cfg("method", method), "base", out, hidden_size=32, seed=0, device=torch.device("cpu"))
    hidden = torch.randn(64, 32, generator=torch.Generator().manual_seed(0))
    args = (0, torch.zeros(64, 5), hidden, torch.arange(64))
    assert torch.allclose(fixed(*args), torch.full((64,), 0.7))
    assert torch.allclose(base(*args), torch.ones(64))  # the untrained model has no method: T = 1
    learned = own(*args)  # the trained head decides: temperatures in [0.6, 1.5], not all equal
    assert ((learned >= 0.6) & (learned <= 1.5)).all() and learned.std() > 0
    assert read_jsonl(tmp_path / "m" / "train_metrics.jsonl")[0]["step"] == 0
