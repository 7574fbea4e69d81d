"""The one place where a temperature meets logits.

Both the sampler and the trainer call `scaled_log_softmax`, so the distribution a token was
sampled from and the one the loss differentiates are the same function of the same per-token
temperature (TAMPO eq. 2, IntroLLM Sec. 4.1: pi(y_t | h_t, tau_t) = softmax(l_t / tau_t)).
"""

from __future__ import annotations

import torch
from torch import Tensor


def scaled_log_softmax(logits: Tensor, temperatures: Tensor) -> Tensor:
    """log softmax(z / T) over the vocabulary: logits (..., V), temperatures (...) -> (..., V)."""
    return torch.log_softmax(logits.float() / temperatures.unsqueeze(-1), dim=-1)


def entropy(logprobs: Tensor) -> Tensor:
    """Entropy of each distribution given its log-probabilities (..., V) -> (...)."""
    return -(logprobs.exp() * logprobs).sum(-1)


def token_logprobs(logits: Tensor, tokens: Tensor, temperatures: Tensor) -> tuple[Tensor, Tensor]:
    """Log-probability of each chosen token at its own temperature, and the entropy of the
    distribution it was drawn from: logits (B, L, V), tokens (B, L), temperatures (B, L)."""
    logp = scaled_log_softmax(logits, temperatures)  # (B, L, V)
    return logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1), entropy(logp)


def chosen_logprob(logits: Tensor, tokens: Tensor, temperature: float) -> Tensor:
    """log softmax(z / T)[o] = z[o] / T - logsumexp(z / T) for one temperature, without keeping
    the (..., V) log-probabilities: logits (..., V), tokens (...) -> (...). Evaluating K virtual
    temperatures this way costs K passes over the logits but never K x V memory."""
    z = logits.float() / temperature
    return z.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(z, dim=-1)
