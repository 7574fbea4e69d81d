"""The KV-cache sampler: temperatures recorded per token, log-probs the trainer reproduces,
eos and padding, determinism, and agreement with transformers' generate."""

import torch

from harness.grpo import ResponseLogprobs, old_policy_pass, response_forward
from harness.logprobs import entropy
from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import TokenPolicy, constant


class PositionRamp(TokenPolicy):
    """Row r at position t gets 0.5 + 0.1 r + 0.05 t (a per-row, per-step temperature)."""

    def __call__(self, position, logits, hidden, rows):
        return 0.5 + 0.1 * rows.float() + 0.05 * position


def sample(policy_dir, policy, n=6, seed=0, **kw):
    model, tok = load_policy(policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * (n // 3)
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(seed))
    return model, tok, sampler.generate(prompts, policy, 24, **kw)


def test_recorded_temperatures_are_the_policys(tiny_policy_dir):
    _, _, ro = sample(tiny_policy_dir, PositionRamp())
    rows, steps = torch.nonzero(ro.mask, as_tuple=True)
    expected = 0.5 + 0.1 * rows.float() + 0.05 * steps.float()
    assert torch.allclose(ro.temperatures[rows, steps], expected)
    assert torch.all(ro.temperatures[ro.mask == 0] == 1.0)


def test_trainer_recomputes_the_samplers_logprobs_at_the_recorded_temperatures(tiny_policy_dir):
    model, _, ro = sample(tiny_policy_dir, PositionRamp())
    old = old_policy_pass(ResponseLogprobs(model), ro, ro.temperatures, micro_batch=4)  # micro-batches of different widths
    assert torch.allclose(old.logprobs, ro.logprobs, atol=1e-5)
    # dividing by any other temperature gives different numbers: the test can fail
    at_one = response_forward(ResponseLogprobs(model), ro, torch.arange(6), torch.ones_like(ro.temperatures))[0]
    assert not torch.allclose(at_one * ro.mask, ro.logprobs, atol=1e-3)


def test_stops_at_eos_and_pads_after(tiny_policy_dir):
    model, tok, ro = sample(tiny_policy_dir, constant(1.0), n=30)
    for row in range(ro.tokens.shape[0]):
        length = int(ro.mask[row].sum())
        assert ro.mask[row, :length].all() and not ro.mask[row, length:].any()
        generated = ro.tokens[row, :length].tolist()
        assert tok.eos_token_id not in generated[:-1]  # eos only as the last generated token
        if length < 24:
            assert generated[-1] == tok.eos_token_id
        assert (ro.tokens[row, length:] == tok.pad_token_id).all()
        assert (ro.logprobs[row, length:] == 0).all()


def test_same_seed_same_samples(tiny_policy_dir):
    a = sample(tiny_policy_dir, constant(1.0), seed=5)[2]
    b = sample(tiny_policy_dir, constant(1.0), seed=5)[2]
    c = sample(tiny_policy_dir, constant(1.0), seed=6)[2]
    assert torch.equal(a.tokens, b.tokens) and not torch.equal(a.tokens, c.tokens)


def test_entropies_and_hidden_states_on_request(tiny_policy_dir):
    model, _, ro = sample(tiny_policy_dir, constant(0.7), return_entropies=True, return_hidden=True)
    assert ro.hidden.shape == (*ro.tokens.shape, model.config.hidden_size)
    # hidden state at position t is what produced token t: the head reproduces the logits
    logits = model.get_output_embeddings()(ro.hidden)
    expected = entropy(torch.log_softmax(logits, -1)) * ro.mask  # the T = 1 entropy
    assert torch.allclose(ro.entropies, expected, atol=1e-5)


def test_near_zero_temperature_matches_greedy_generate(tiny_policy_dir):
    model, tok = load_policy(tiny_policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]]
    ro = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0)).generate(
        prompts, constant(1e-4), 12
    )
    for row, prompt in enumerate(prompts):
        ref = model.generate(torch.tensor([prompt]), max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
        ours = ro.tokens[row, : int(ro.mask[row].sum())]
        assert ref[0, len(prompt) :].tolist() == ours.tolist()


def test_splitmix64_matches_the_reference_stream():
    """The first outputs of SplitMix64 seeded with 0 (Steele et al. 2014; Vigna's reference C code)."""
    from harness.sampling.torch_sampler import _GOLDEN, splitmix64

    states = torch.tensor([1, 2, 3]) * _GOLDEN  # the generator's states after 1, 2, 3 steps
    expected = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert [v % 2**64 for v in splitmix64(states).tolist()] == expected


def test_noise_is_exponential_and_sampling_follows_the_probabilities():
    from harness.sampling.torch_sampler import exponential_noise, sample_rows

    noise = exponential_noise(torch.arange(4000), position=3, vocab=50)  # (4000, 50)
    assert abs(float(noise.mean()) - 1.0) < 0.01 and abs(float(noise.var()) - 1.0) < 0.03
    assert torch.equal(noise[7], exponential_noise(torch.tensor([7]), 3, 50)[0])  # a row's stream is its own
    assert not torch.equal(noise[7], exponential_noise(torch.tensor([7]), 4, 50)[0])  # and moves with the position
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    draws = sample_rows(probs.log().expand(20000, 4), torch.arange(20000), position=0)
    freq = torch.bincount(draws, minlength=4) / 20000.0
    assert torch.allclose(freq, probs, atol=0.012)


def test_rows_sharing_a_prompt_sample_what_they_would_alone(tiny_policy_dir):
    """Shared prefill (one decoder pass per distinct prompt) changes no row's sample."""
    model, tok = load_policy(tiny_policy_dir)
    prompts = [prompt_ids(tok, p) for p in ["3+4=?", "3+4=?", "12-5+7=?", "3+4=?", "12-5+7=?"]]
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0))
    seeds = torch.arange(100, 105)
    together = sampler.generate(prompts, constant(1.0), 16, seeds=seeds)
    for row, prompt in enumerate(prompts):
        alone = sampler.generate([prompt], constant(1.0), 16, seeds=seeds[row : row + 1])
        length = int(alone.mask.sum())
        assert together.tokens[row, :length].tolist() == alone.tokens[0, :length].tolist()
        assert torch.allclose(together.logprobs[row, :length], alone.logprobs[0, :length], atol=1e-6)


class TransformersMask(TorchSampler):
    """The sampler before `decode_mask`: every decoding step hands transformers the 2-D mask."""

    def decode_mask(self, attn):
        return attn


def test_the_decoding_mask_built_directly_gives_transformers_bits(tiny_policy_dir):
    """Under SDPA the sampler builds each step's mask itself (none without padding, else the
    padding mask in 4-D): tokens, log-probs and hidden states equal, bit for bit, those of
    letting transformers build it, on a padded batch whose rows finish at different steps and on
    an unpadded one; other attention implementations get the 2-D mask."""
    model, tok = load_policy(tiny_policy_dir)
    assert model.config._attn_implementation == "sdpa"
    padded = [prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?", "40+2-9+1=?"]] * 4
    for prompts in (padded, padded[:1] * 6):
        runs = [cls(model, tok.eos_token_id, tok.pad_token_id, torch.Generator()).generate(
                    prompts, PositionRamp(), 24, return_hidden=True, seeds=torch.arange(len(prompts)))
                for cls in (TorchSampler, TransformersMask)]
        if prompts is padded:
            assert runs[0].mask.sum(-1).unique().numel() > 1  # rows leave the batch at different steps
        for field in ("tokens", "mask", "logprobs", "hidden"):
            assert torch.equal(getattr(runs[0], field), getattr(runs[1], field)), field
    attn = torch.tensor([[0, 1, 1], [1, 1, 1]])
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator())
    assert torch.equal(sampler.decode_mask(attn), attn.bool()[:, None, None, :])
    assert sampler.decode_mask(torch.ones(2, 3, dtype=torch.long)) is None
    model.config._attn_implementation = "eager"
    assert sampler.decode_mask(attn) is attn
