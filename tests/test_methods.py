"""Every temperature method's formulas against values worked out by hand."""

import math
import random

import pytest
import torch
from scipy import stats

from harness.rollout import Rollout
from harness.temperature.base import ControllerContext, ScoredBatch, build_controller, validate_method
from harness.temperature.introllm import Z_EDGE, HeadOutput, TemperatureHead
from harness.temperature.multi_rollout import group_offsets
from harness.temperature.tampo import minmax_distribution, sample_top_p, sparsemax


def ctx(total_steps=10, hidden_size=8, seed=0):
    return ControllerContext(total_steps=total_steps, hidden_size=hidden_size, seed=seed, model_parameters=1000)


def temps(policy, n=4, position=0, logits=None, hidden=None):
    logits = torch.zeros(n, 5) if logits is None else logits
    hidden = torch.zeros(n, 8) if hidden is None else hidden
    return policy(position, logits, hidden, torch.arange(n))


def batch_of(mask, advantages, step=0, token_stats=None, extras=None, hidden=None):
    n, length = mask.shape
    rollout = Rollout(
        prompt_ids=torch.zeros(n, 1, dtype=torch.long), prompt_mask=torch.ones(n, 1, dtype=torch.long),
        tokens=torch.zeros(n, length, dtype=torch.long), mask=mask, temperatures=torch.ones(n, length),
        logprobs=torch.zeros(n, length), hidden=hidden, extras=extras or {},
    )
    return ScoredBatch(step, 2, rollout, torch.zeros(n), advantages, token_stats or {})


# ----------------------------------------------------------------------------- TAMPO


def test_sparsemax_by_hand():
    assert torch.allclose(sparsemax(torch.tensor([1.0, 0.5, -1.0])), torch.tensor([0.75, 0.25, 0.0]))
    assert torch.allclose(sparsemax(torch.tensor([3.0, 0.0, 0.0])), torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(sparsemax(torch.zeros(4)), torch.full((4,), 0.25))
    z = torch.randn(5, 7)
    p = sparsemax(z)
    assert torch.allclose(p.sum(-1), torch.ones(5)) and (p >= 0).all()
    assert torch.allclose(sparsemax(z + 3.0), p, atol=1e-6)  # shift invariant, unlike its sparsity


def test_minmax_distribution_and_the_all_equal_guard():
    assert torch.allclose(minmax_distribution(torch.tensor([-0.15, 0.075, -0.0375])), torch.tensor([0.0, 2 / 3, 1 / 3]))
    assert torch.allclose(minmax_distribution(torch.zeros(3)), torch.full((3,), 1 / 3))


def test_top_p_sampling_keeps_the_nucleus():
    pi, g = torch.tensor([0.1, 0.6, 0.3]), torch.Generator().manual_seed(0)
    assert {sample_top_p(pi, 0.5, g) for _ in range(200)} == {1}
    assert {sample_top_p(pi, 0.7, g) for _ in range(200)} == {1, 2}
    assert {sample_top_p(pi, 1.0, g) for _ in range(500)} == {0, 1, 2}
    assert sample_top_p(pi, 0.0, g) == 1  # greedy


def tampo(**kw):
    spec = {"controller": "tampo", "candidates": [0.5, 1.0, 2.0], "alpha": 0.5, "top_p": 0.0, "warmup_ratio": 0.2, **kw}
    return build_controller(spec, ctx(total_steps=10))


def tampo_batch(ell):
    """Trajectory likelihoods ell (N, K) spread evenly over 2 tokens, so both the mean (eq. 6)
    and the sum / 2 (eq. 8) give ell back."""
    ell = torch.tensor(ell)
    return batch_of(torch.ones(2, 2), torch.tensor([1.0, -1.0]), token_stats={"tampo_logp": ell[:, None, :].expand(2, 2, 3)})


def test_tampo_update_by_hand():
    c = tampo()
    # sparsemax([-1.0, -0.2, -0.6]) = [0, 0.7, 0.3]; sparsemax([-0.3, -0.5, -1.5]) = [0.6, 0.4, 0]
    # eq. 9-10 with A = [+1, -1]: ([0, .7, .3] - [.6, .4, 0]) / 2 = [-0.3, 0.15, 0.15]
    metrics = c.update(tampo_batch([[-1.0, -0.2, -0.6], [-0.3, -0.5, -1.5]]))
    assert torch.allclose(c.ema, torch.tensor([-0.15, 0.075, 0.075]))  # eq. 11, alpha 0.5
    assert torch.allclose(c.pi, torch.tensor([0.0, 0.5, 0.5]))  # eq. 12
    assert metrics["t_star_pos_mean"] == 1.0 and metrics["t_star_neg_mean"] == 0.5
    assert metrics["t_star_pos_hist"] == [0, 1, 0] and metrics["t_star_neg_hist"] == [1, 0, 0]
    c.update(tampo_batch([[-1.0, -0.2, -0.6], [-0.3, -0.5, -1.5]]))
    assert torch.allclose(c.ema, torch.tensor([-0.225, 0.1125, 0.1125]))


def test_tampo_warmup_then_meta_policy():
    c = tampo()
    assert [temps(c.policy(s, 2))[0].item() for s in (0, 1)] == [1.0, 1.0]  # ceil(0.2 * 10) warm-up steps
    c.update(tampo_batch([[-2.0, -1.0, -0.1], [-0.1, -1.0, -2.0]]))  # T = 2.0 favoured by the winner
    assert c.pi.argmax() == 2
    assert temps(c.policy(2, 2))[0].item() == 2.0  # greedy after warm-up
    assert temps(c.eval_policy())[0].item() == 2.0


def test_tampo_all_equal_advantages_keep_the_uniform_policy():
    c = tampo()
    batch = tampo_batch([[-1.0, -0.2, -0.6], [-0.3, -0.5, -1.5]])
    batch.advantages = torch.zeros(2)
    c.update(batch)
    assert torch.allclose(c.pi, torch.full((3,), 1 / 3))


def test_tampo_sum_and_softmax_variants():
    c = tampo(likelihood="sum", normalization="softmax")
    ell = torch.tensor([[-1.0, -0.2, -0.6], [-0.3, -0.5, -1.5]])
    c.update(tampo_batch(ell.tolist()))
    expected = 0.5 * ((torch.softmax(2 * ell[0], -1) - torch.softmax(2 * ell[1], -1)) / 2)  # sums over 2 tokens
    assert torch.allclose(c.ema, expected)


def test_tampo_presets_and_overrides():
    paper = validate_method({"controller": "tampo"}, "m")
    rerun = validate_method({"controller": "tampo", "preset": "introllm"}, "m")
    assert (paper.alpha, paper.top_p, paper.likelihood, paper.normalization) == (0.05, 0.7, "mean", "sparsemax")
    assert (rerun.alpha, rerun.top_p, rerun.likelihood, rerun.normalization) == (0.9, 0.9, "sum", "softmax")
    assert validate_method({"controller": "tampo", "preset": "introllm", "alpha": 0.1}, "m").alpha == 0.1
    with pytest.raises(ValueError, match="preset"):
        validate_method({"controller": "tampo", "preset": "nope"}, "m")


def test_tampo_token_stats_are_log_softmax_at_each_virtual_temperature():
    c = tampo()
    logits, tokens = torch.randn(2, 3, 11), torch.randint(0, 11, (2, 3))
    stats = c.token_stats(logits, tokens, torch.zeros(2, 3, 8))["tampo_logp"]
    for k, t in enumerate([0.5, 1.0, 2.0]):
        manual = torch.log_softmax(logits / t, -1).gather(-1, tokens[..., None]).squeeze(-1)
        assert torch.allclose(stats[..., k], manual, atol=1e-6)


# ----------------------------------------------------------------------------- EAD


def test_ead_paper_form_by_hand():
    c = build_controller({"controller": "ead"}, ctx())
    assert c.temperature(5, 0) == 1.0  # first c = 10 tokens at T = 1
    assert c.temperature(10, 0) == pytest.approx(2.2 - math.exp(10 / 200))
    assert c.temperature(200, 0) == pytest.approx(0.1)  # floored at tau_min
    assert c.temperature(150, 20) == pytest.approx(2.2 - math.exp(150 / 300))  # d_20 = 200 + 5 * 20
    assert c.temperature(50, 10**6) == pytest.approx(2.2 - math.exp(50 / 4e4))  # d capped at d_max
    code = build_controller({"controller": "ead", "time_scale": 20}, ctx())
    assert code.temperature(100, 0) == pytest.approx(2.2 - math.exp(100 / 4000))
    assert temps(c.policy(0, 2), position=10)[0].item() == pytest.approx(2.2 - math.exp(10 / 200))


def test_ead_introllm_form_by_hand():
    c = build_controller({"controller": "ead_introllm", "c0": 5.0}, ctx(total_steps=100))
    assert c.temperature(30, 50) == 1.2  # no length seen yet: gamma = 1
    c.update(batch_of(torch.ones(2, 50), torch.zeros(2)))  # L_avg = 50
    gamma = math.exp(-(5 / 50) * (50 / 100))
    assert c.temperature(5, 50) == 1.2  # first 10 tokens at tau_start
    assert c.temperature(10, 50) == pytest.approx(1.2 * gamma**10)
    assert c.temperature(60, 50) == pytest.approx(0.1)
    c.update(batch_of(torch.cat([torch.ones(2, 30), torch.zeros(2, 20)], 1), torch.zeros(2)))
    assert c.mean_length == pytest.approx(0.9 * 50 + 0.1 * 30)


# ----------------------------------------------------------------------------- multi-temperature


def test_entropy_rule_on_a_known_window():
    c = build_controller({"controller": "entropy", "t_base": 1.0, "t_high": 1.5, "high_fraction": 0.2, "window": 100}, ctx())
    logits = torch.tensor([[20.0, 0, 0, 0], [0.0, 0, 0, 0], [1.0, 0, 0, 0], [2.0, 0, 0, 0], [3.0, 0, 0, 0]])
    # empty window (first batch): the 0.8-quantile of these 5 entropies; only ln 4 lies above it
    assert temps(c.policy(0, 2), n=5, logits=logits).tolist() == [1.0, 1.5, 1.0, 1.0, 1.0]
    c.window.push(torch.full((95,), 0.5))  # the 5 above + 95 x 0.5 fill the window
    assert c.window.count == 100 and c.window.values[0].item() == pytest.approx(0.0, abs=1e-6)
    # window quantile is now 0.5, fixed for the whole generation: ln 4 and 0.57 (logit 1) are above it
    out = temps(c.policy(1, 2), n=5, logits=logits)
    ent = [-(p * p.log()).sum().item() for p in torch.softmax(logits, -1)]
    assert out.tolist() == [1.5 if h > 0.5 else 1.0 for h in ent] and out.tolist().count(1.5) >= 2
    frozen = c.eval_policy()
    pos = c.window.pos
    temps(frozen, n=5, logits=logits)
    assert c.window.pos == pos  # evaluation does not touch the training window


def test_rollout_level_offsets_by_hand():
    assert group_offsets(8, 0.1) == pytest.approx([0, 0, -0.1, 0.1, -0.2, 0.2, -0.3, 0.3])
    c = build_controller({"controller": "multi_rollout", "base": 0.2, "delta": 0.1, "min_temperature": 0.05}, ctx())
    assert c.group_temperatures(8) == pytest.approx([0.2, 0.2, 0.1, 0.3, 0.05, 0.4, 0.05, 0.5])
    out = temps(c.policy(0, 4), n=8)
    assert out.tolist() == pytest.approx([0.2, 0.2, 0.1, 0.3] * 2)  # rows are prompt-major


def test_spike_schedule():
    c = build_controller({"controller": "spike", "base": 1.0, "increment": 0.1, "every": 50}, ctx(total_steps=200))
    assert [c.temperature(s) for s in (0, 49, 50, 149, 150)] == pytest.approx([1.0, 1.0, 1.1, 1.2, 1.3])


# ----------------------------------------------------------------------------- IntroLLM


def test_joint_logprob_against_scipy():
    out = HeadOutput(torch.tensor([0.3, 0.3]), torch.tensor([[2.0, 3.0], [2.0, 3.0]]))
    joint = out.logprob(torch.tensor([1.0, 0.0]), torch.tensor([0.25, 0.0]), gated=True)
    p = 1 / (1 + math.exp(-0.3))
    assert joint[0].item() == pytest.approx(math.log(p) + stats.beta.logpdf(0.25, 2, 3), abs=1e-5)
    assert joint[1].item() == pytest.approx(math.log(1 - p), abs=1e-6)
    ungated = out.logprob(torch.tensor([1.0, 1.0]), torch.tensor([0.25, 0.7]), gated=False)
    assert ungated.tolist() == pytest.approx([stats.beta.logpdf(0.25, 2, 3), stats.beta.logpdf(0.7, 2, 3)], abs=1e-5)


def test_head_output_draws_and_scores_exactly_as_torch_distributions():
    """The written-out distributions give torch.distributions' draws (same global seed),
    log-probabilities and gradients, bit for bit."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(64, 5, generator=g, requires_grad=True)
    conc = (torch.rand(64, 5, 2, generator=g) * 3 + 0.1).requires_grad_()
    ours = HeadOutput(logits, conc)
    gate = torch.distributions.Bernoulli(logits=logits, validate_args=False)
    value = torch.distributions.Beta(conc[..., 0], conc[..., 1], validate_args=False)
    torch.manual_seed(7)
    c, z = ours.sample(gated=True)
    torch.manual_seed(7)
    c_ref, z_ref = gate.sample(), value.sample()
    assert torch.equal(c, c_ref) and torch.equal(z, z_ref) and 0 < c.mean() < 1
    lp = ours.logprob(c, z, gated=True)
    lp_ref = gate.log_prob(c) + c * value.log_prob(z.clamp(1e-6, 1 - 1e-6))
    assert torch.equal(lp, lp_ref)
    assert torch.equal(ours.logprob(c, z, gated=False), value.log_prob(z.clamp(1e-6, 1 - 1e-6)))
    grads = torch.autograd.grad(lp.sum(), (logits, conc))
    grads_ref = torch.autograd.grad(lp_ref.sum(), (logits, conc))
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_ref))
    assert torch.equal(ours.p_change(), gate.probs)
    assert torch.equal(ours.beta_mean(), value.concentration1 / (value.concentration1 + value.concentration0))


def test_head_shape_and_maximum_entropy_init():
    head = TemperatureHead(128, 0.02, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in head.parameters()) == 128 * 64 + 64 + 64 * 3 + 3
    out = head(torch.zeros(5, 128))
    assert torch.allclose(out.p_change(), torch.full((5,), 0.5))
    assert torch.allclose(out.concentration, torch.full((5, 2), 1.0 + 1e-6))
    hidden = torch.randn(1000, 128, generator=torch.Generator().manual_seed(1))  # RMS-normed scale
    out = head(hidden)  # N(0, 0.02) weights keep it near maximum entropy
    assert (out.p_change() - 0.5).abs().max() < 0.05
    assert (out.concentration - 1).abs().max() < 0.1


def test_introllm_policy_gate_holds_the_previous_temperature():
    c = build_controller({"controller": "introllm"}, ctx(hidden_size=8))
    policy = c.policy(0, 2)
    torch.manual_seed(0)
    out = [temps(policy, n=64, position=t, hidden=torch.randn(64, 8)) for t in range(6)]
    rec = policy.records()
    c_, z = rec["introllm_c"], rec["introllm_z"]
    assert 0.3 < c_.mean() < 0.7  # P(change) about 0.5 at init
    tau = torch.stack(out, 1)
    expected_first = torch.where(c_[:, 0] > 0, 0.6 + 0.9 * z[:, 0], torch.tensor(1.0))  # tau_0 = 1.0
    assert torch.allclose(tau[:, 0], expected_first)
    held = c_[:, 1:] == 0
    assert torch.equal(tau[:, 1:][held], tau[:, :-1][held])
    assert ((tau >= 0.6) & (tau <= 1.5) | (tau == 1.0)).all()
    assert c.summary() == {"head_parameters": 8 * 4 + 4 + 4 * 3 + 3, "head_share_of_model": 51 / 1000}


def test_introllm_records_put_each_decision_at_its_row_and_step():
    """Rows leave the batch as they finish: each step's (c, z, log-prob, decision) lands at its
    active rows, and the steps a row did not reach stay zero."""
    c = build_controller({"controller": "introllm"}, ctx(hidden_size=8))
    policy = c.policy(0, 2)
    torch.manual_seed(0)
    active = [torch.tensor([0, 1, 2, 3]), torch.tensor([0, 2, 3]), torch.tensor([2])]
    for t, rows in enumerate(active):
        policy(t, torch.zeros(len(rows), 5), torch.randn(len(rows), 8), rows)
    rec = policy.records()
    assert all(v.shape == (4, 3) for v in rec.values())
    for t, (rows, step) in enumerate(zip(active, policy.steps)):
        assert torch.equal(rec["introllm_c"][rows, t], step["c"])
        assert torch.equal(rec["introllm_z"][rows, t], step["z"] * step["c"])  # z only where the temperature changed
        assert torch.equal(rec["introllm_logp"][rows, t], step["out"].logprob(step["c"], step["z"], gated=True))
    reached = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 1, 0]], dtype=torch.float32)
    assert torch.equal(rec["introllm_decision"], reached)
    assert (rec["introllm_logp"][reached == 0] == 0).all() and (rec["introllm_logp"][reached == 1] != 0).all()


def test_introllm_records_log_probs_as_step_by_step_bit_for_bit():
    """`records` computes eq. 10 once over every step's (c, z) instead of at each decoding step:
    the same elementwise operations, so the same bits whatever the steps' sizes (which decide
    where a vectorised kernel's tail falls), gated or not, hidden states small or large."""
    head = TemperatureHead(16, 0.5, torch.Generator().manual_seed(0))
    rng = random.Random(0)
    torch.manual_seed(0)
    for _ in range(40):
        outs, cs, zs = [], [], []
        with torch.no_grad():
            for _ in range(rng.randint(1, 40)):
                out = head(torch.randn(rng.randint(1, 130), 16) * rng.choice([0.1, 1.0, 5.0]))
                c, z = out.sample(gated=True)
                outs.append(out), cs.append(c), zs.append(z.clamp(Z_EDGE, 1 - Z_EDGE))
            whole = HeadOutput(torch.cat([o.gate_logits for o in outs]), torch.cat([o.concentration for o in outs]))
            for gated in (True, False):
                step_by_step = torch.cat([o.logprob(c, z, gated) for o, c, z in zip(outs, cs, zs)])
                assert torch.equal(whole.logprob(torch.cat(cs), torch.cat(zs), gated), step_by_step)


def test_introllm_ablations_decide_where_the_paper_says():
    torch.manual_seed(0)
    prompt = build_controller({"controller": "introllm", "granularity": "prompt"}, ctx()).policy(0, 2)
    always = build_controller({"controller": "introllm", "gate": False}, ctx()).policy(0, 2)
    for policy in (prompt, always):
        out = torch.stack([temps(policy, n=16, position=t, hidden=torch.randn(16, 8)) for t in range(4)], 1)
        rec = policy.records()
        if policy is prompt:
            assert rec["introllm_decision"].tolist() == [[1.0, 0.0, 0.0, 0.0]] * 16
            assert torch.equal(out, out[:, :1].expand(16, 4))  # one temperature per response
        else:
            assert (rec["introllm_c"] == 1).all() and (rec["introllm_decision"] == 1).all()


def test_introllm_update_moves_the_head_toward_rewarded_temperatures():
    c = build_controller({"controller": "introllm", "lr": 0.05, "gate": False}, ctx(hidden_size=8))
    torch.manual_seed(0)
    hidden = torch.randn(2, 4, 8)
    # rollout 0 (advantage +1) chose high temperatures, rollout 1 (advantage -1) low ones
    z = torch.tensor([[0.9] * 4, [0.1] * 4])
    with torch.no_grad():
        out = c.head(hidden)
        old = out.logprob(torch.ones(2, 4), z, gated=False)
    extras = {"introllm_c": torch.ones(2, 4), "introllm_z": z, "introllm_logp": old, "introllm_decision": torch.ones(2, 4)}
    before = out.beta_mean().mean()
    for _ in range(10):
        c.update(batch_of(torch.ones(2, 4), torch.tensor([1.0, -1.0]), extras=extras, hidden=hidden))
    after = c.head(hidden).beta_mean().mean()
    assert after > before + 0.02


def test_trajectory_likelihood_is_unimodal_in_temperature(tiny_policy_dir):
    """TAMPO Appendix B: log P_T(tau) is concave in 1/T, so along increasing T it rises then
    falls (or is monotone): never a valley. Checked on real rollouts of the tiny model."""
    from harness.grpo import ResponseLogprobs, response_forward
    from harness.modeling import load_policy
    from harness.prompts import prompt_ids
    from harness.sampling.torch_sampler import TorchSampler
    from harness.temperature.base import constant

    model, tok = load_policy(tiny_policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?", "7+7-3=?"]] * 8
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0))
    rollout = sampler.generate(prompts, constant(1.0), 20)
    grid = torch.linspace(0.2, 4.0, 60)
    with torch.no_grad():
        ell = torch.stack(
            [(response_forward(ResponseLogprobs(model), rollout, torch.arange(32), torch.full_like(rollout.temperatures, float(t)))[0]
              * rollout.mask).sum(-1) for t in grid], 1,
        )  # (N, grid)
    steps = ell.diff(dim=1)
    for row in steps:
        falling = (row < -1e-4).nonzero()
        if len(falling):  # after the first clear fall, no clear rise
            assert not (row[int(falling[0]) :] > 1e-4).any()
    peaks = grid[ell.argmax(1)]
    assert ((peaks > 0.2) & (peaks < 4.0)).any()  # typical trajectories peak inside the range
