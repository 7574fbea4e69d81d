"""GRPO formulas against values worked out by hand."""

import math

import pytest
import torch

from harness.grpo import group_advantages, loss_weights
from harness.logprobs import scaled_log_softmax, token_logprobs
from harness.objectives import clipped_objective, kl_k3


def test_group_advantages_by_hand():
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    adv = group_advantages(rewards, group_size=4)
    # group 1: mean 0.5, sample std sqrt(1/3); group 2: all equal -> 0
    expected = 0.5 / (math.sqrt(1 / 3) + 1e-6)
    assert torch.allclose(adv[:4], torch.tensor([expected, -expected, -expected, expected]), atol=1e-6)
    assert torch.equal(adv[4:], torch.zeros(4))
    assert torch.allclose(group_advantages(rewards, 4, scale=False)[:4], torch.tensor([0.5, -0.5, -0.5, 0.5]))


def test_clipped_objective_by_hand():
    old = torch.zeros(1, 4)
    logp = torch.log(torch.tensor([[1.5, 0.5, 0.5, 1.5]]))
    obj_pos, clip_pos = clipped_objective(logp, old, torch.tensor([1.0]), 0.2, 0.2)
    obj_neg, clip_neg = clipped_objective(logp, old, torch.tensor([-1.0]), 0.2, 0.2)
    # A > 0: min(1.5, 1.2) = 1.2 (clipped); min(0.5, 0.8) = 0.5 (not)
    assert torch.allclose(obj_pos, torch.tensor([[1.2, 0.5, 0.5, 1.2]]))
    assert clip_pos.tolist() == [[1.0, 0.0, 0.0, 1.0]]
    # A < 0: min(-0.5, -0.8) = -0.8 (clipped); min(-1.5, -1.2) = -1.5 (not)
    assert torch.allclose(obj_neg, torch.tensor([[-1.5, -0.8, -0.8, -1.5]]))
    assert clip_neg.tolist() == [[0.0, 1.0, 1.0, 0.0]]


def test_asymmetric_clip_bounds():
    logp = torch.log(torch.tensor([[1.25, 0.85]]))
    obj, clipped = clipped_objective(logp, torch.zeros(1, 2), torch.tensor([1.0]), clip_low=0.1, clip_high=0.28)
    assert torch.allclose(obj, torch.tensor([[1.25, 0.85]]))  # 1.25 < 1.28 and 0.85 < 0.9 -> unclipped
    assert clipped.sum() == 0


def test_kl_k3_by_hand():
    logp, ref = torch.tensor([-1.0, -2.0]), torch.tensor([-1.0, -1.0])
    # exp(1) - 1 - 1 for the second token, 0 for the first
    assert torch.allclose(kl_k3(logp, ref), torch.tensor([0.0, math.e - 2]))


def test_loss_weights_by_hand():
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    assert torch.allclose(loss_weights(mask, "token_mean"), mask / 5)
    assert torch.allclose(
        loss_weights(mask, "seq_mean_token_mean"), torch.tensor([[1 / 8] * 4, [1 / 2, 0, 0, 0]])
    )
    assert torch.allclose(loss_weights(mask, "seq_mean_token_sum_norm"), mask / 8)
    with pytest.raises(ValueError, match="loss_aggregation"):
        loss_weights(mask, "sum")


def test_temperature_scaled_logprobs_match_manual_softmax():
    logits = torch.tensor([[[2.0, 1.0, 0.0], [0.5, 0.5, 3.0]]])  # (1, 2, 3)
    tokens = torch.tensor([[0, 2]])
    temps = torch.tensor([[0.5, 2.0]])
    logp, ent = token_logprobs(logits, tokens, temps)
    for t, (tok, temp) in enumerate(zip([0, 2], [0.5, 2.0])):
        z = logits[0, t] / temp
        p = torch.exp(z) / torch.exp(z).sum()
        assert logp[0, t].item() == pytest.approx(math.log(p[tok].item()), abs=1e-6)
        assert ent[0, t].item() == pytest.approx(-(p * p.log()).sum().item(), abs=1e-6)
    # one temperature per row broadcasts over the vocabulary only
    assert scaled_log_softmax(logits[0], temps[0]).shape == (2, 3)


def test_tis_weights_by_hand():
    from harness.grpo import tis_weights

    old = torch.log(torch.tensor([[0.5, 0.9, 0.1]]))
    sampler = torch.log(torch.tensor([[0.25, 0.9, 0.5]]))
    # ratios 2.0, 1.0, 0.2; capped at 1.5
    assert torch.allclose(tis_weights(old, sampler, 1.5), torch.tensor([[1.5, 1.0, 0.2]]))
    assert tis_weights(old, sampler, None) is None
