"""Chunked log-probs: the same numbers and gradients as the whole-sequence computation, with a
peak memory bounded by the chunk (measured in fresh processes on a 151,936-word vocabulary)."""

from __future__ import annotations

import subprocess
import sys

import torch

from harness.grpo import ResponseLogprobs, response_forward
from harness.logprobs import head_logprobs
from harness.modeling import load_policy
from harness.prompts import prompt_ids
from harness.sampling.torch_sampler import TorchSampler
from harness.temperature.base import ControllerContext, build_controller, constant


def test_chunks_give_the_same_logprobs_entropies_and_gradients():
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 300, bias=False)
    hidden = torch.randn(3, 37, 16, requires_grad=True)
    tokens, temps = torch.randint(0, 300, (3, 37)), torch.rand(3, 37) + 0.5
    results = []
    for chunk in (None, 8):
        hidden.grad, head.weight.grad = None, None
        logp, ent = head_logprobs(head, hidden, tokens, temps, chunk)
        (logp * torch.linspace(-1, 1, 37)).sum().backward()  # entropies are statistics, not in losses
        results.append((logp.detach(), ent.detach(), hidden.grad.clone(), head.weight.grad.clone()))
    for whole, chunked in zip(*results):
        torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-5)


def test_response_forward_with_chunks_matches_the_sampler(tiny_policy_dir, device):
    model, tok = load_policy(tiny_policy_dir, device)
    sampler = TorchSampler(model, tok.eos_token_id, tok.pad_token_id, torch.Generator().manual_seed(0))
    rollout = sampler.generate([prompt_ids(tok, p) for p in ["3+4=?", "12-5+7=?"]] * 2, constant(0.8), 20)
    assert rollout.tokens.device.type == rollout.logprobs.device.type == device
    rows = torch.arange(4, device=device)
    with torch.no_grad():
        whole = response_forward(ResponseLogprobs(model), rollout, rows, rollout.temperatures)[0]
        chunked = response_forward(ResponseLogprobs(model), rollout, rows, rollout.temperatures, chunk=3)[0]
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-5)
    assert float(((chunked - rollout.logprobs) * rollout.mask).abs().max()) < 1e-4
    # controller statistics (TAMPO's K virtual-temperature log-probs) are chunked the same way
    ctx = ControllerContext(total_steps=10, hidden_size=32, seed=0, device=torch.device(device))
    tampo = build_controller({"controller": "tampo"}, ctx)
    with torch.no_grad():
        stats = [response_forward(ResponseLogprobs(model), rollout, rows, rollout.temperatures, tampo.token_stats, c)[2] for c in (None, 3)]
    torch.testing.assert_close(stats[1]["tampo_logp"], stats[0]["tampo_logp"], rtol=1e-5, atol=1e-5)


PEAK = """
import resource, sys, torch
from harness.logprobs import head_logprobs
torch.set_num_threads(1)  # one allocator arena: peak RSS then tracks the tensors, not fragmentation
torch.manual_seed(0)
chunk = None if sys.argv[1] == "none" else int(sys.argv[1])
head = torch.nn.Linear(64, 151_936, bias=False)
hidden = torch.randn(1, 1024, 64, requires_grad=True)
tokens, temps = torch.randint(0, 151_936, (1, 1024)), torch.ones(1, 1024)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
logp, _ = head_logprobs(head, hidden, tokens, temps, chunk)
logp.sum().backward()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)  # MiB
"""


def peak_mib(chunk: str) -> float:
    out = subprocess.run([sys.executable, "-c", PEAK, chunk], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def test_chunked_peak_memory_is_bounded_by_the_chunk():
    # whole: (1, 1024, 151936) fp32 logits are 594 MiB, held several times over (log-softmax, grads);
    # chunks of 128 positions: 74 MiB each
    whole, chunked = peak_mib("none"), peak_mib("128")
    assert whole > 1500 and chunked < whole / 4, (whole, chunked)
