"""The per-token policy-gradient objectives that both the LLM update (harness.grpo) and a learned
temperature head (harness.temperature.introllm, step B) maximise: the clipped surrogate and the
k3 KL estimator. Tensors are (N, L): N rows, L response tokens."""

from __future__ import annotations

import torch
from torch import Tensor


def clipped_objective(
    logp: Tensor, old_logp: Tensor, advantages: Tensor, clip_low: float, clip_high: float
) -> tuple[Tensor, Tensor]:
    """min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A) per token (TAMPO eq. 13), with
    rho = pi_theta,T / pi_old,T at the same recorded temperatures. Returns the objective
    (N, L) and a float mask (N, L) of tokens where the clipped branch was taken."""
    ratio = torch.exp(logp - old_logp)  # (N, L)
    adv = advantages.unsqueeze(-1)  # (N, 1)
    unclipped = ratio * adv
    clipped = ratio.clamp(1 - clip_low, 1 + clip_high) * adv
    return torch.minimum(unclipped, clipped), (clipped < unclipped).float()


def kl_k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """k3 estimator of KL(pi_theta || pi_ref) per token: exp(q - p) - (q - p) - 1 (GRPO)."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1
