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


def head_logprobs(
    head: torch.nn.Module, hidden: Tensor, tokens: Tensor, temperatures: Tensor, chunk: int | None = None
) -> tuple[Tensor, Tensor]:
    """`token_logprobs` of head(hidden), optionally `chunk` positions at a time: hidden (B, L, d),
    tokens and temperatures (B, L) -> log-probs (differentiable) and entropies (B, L).

    The (B, L, V) logits dominate memory at paper scale (6k tokens x a 151k vocabulary is 3.6 GB
    per row in fp32, several times over with the log-softmax and its gradient). Chunked, the
    forward keeps no logits and the backward recomputes them one chunk at a time
    (`ChunkedHeadLogprobs`), so peak memory is O(B x chunk x V) both ways."""
    if chunk is None or chunk >= hidden.shape[1]:
        return token_logprobs(head(hidden), tokens, temperatures)
    if getattr(head, "bias", None) is not None:
        raise ValueError("chunked log-probs need an output head without bias (an LM head)")
    return ChunkedHeadLogprobs.apply(hidden, head.weight, tokens, temperatures, chunk)


class ChunkedHeadLogprobs(torch.autograd.Function):
    """log softmax(h W^T / T)[o] and the entropy of that distribution, by chunks of positions.

    Gradients by hand, per chunk, with z = h W^T / T and p = softmax(z):
      d logp[o] / dz = onehot(o) - p;  dL/d(h W^T) = g (onehot(o) - p) / T;
      dL/dh = that @ W;  dL/dW = that^T @ h, summed over chunks."""

    @staticmethod
    def forward(ctx, hidden: Tensor, weight: Tensor, tokens: Tensor, temperatures: Tensor, chunk: int):  # noqa: ANN205
        logps, ents = [], []
        for start in range(0, hidden.shape[1], chunk):
            end = start + chunk
            logits = hidden[:, start:end] @ weight.T  # (B, c, V)
            logp, ent = token_logprobs(logits, tokens[:, start:end], temperatures[:, start:end])
            logps.append(logp)
            ents.append(ent)
        ctx.save_for_backward(hidden, weight, tokens, temperatures)
        ctx.chunk = chunk
        entropies = torch.cat(ents, dim=1)
        ctx.mark_non_differentiable(entropies)  # a statistic, never part of a loss
        return torch.cat(logps, dim=1), entropies

    @staticmethod
    def backward(ctx, grad_logp: Tensor, _grad_entropy: Tensor):  # noqa: ANN205
        hidden, weight, tokens, temperatures = ctx.saved_tensors
        grad_hidden, grad_weight = torch.zeros_like(hidden), torch.zeros_like(weight)
        for start in range(0, hidden.shape[1], ctx.chunk):
            end = start + ctx.chunk
            h, temp = hidden[:, start:end], temperatures[:, start:end, None]  # (B, c, d), (B, c, 1)
            g = -torch.softmax((h @ weight.T).float() / temp, dim=-1)  # -p, (B, c, V)
            g.scatter_add_(-1, tokens[:, start:end, None], torch.ones_like(g[..., :1]))  # onehot - p
            g *= grad_logp[:, start:end, None] / temp
            g = g.to(weight.dtype)
            grad_hidden[:, start:end] = g @ weight
            grad_weight += g.flatten(0, 1).T @ h.flatten(0, 1)
        return grad_hidden, grad_weight, None, None, None
