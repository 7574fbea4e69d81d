"""IntroLLM: a temperature policy on the LLM's last hidden state, trained by hierarchical RL
(arXiv 2602.13035, Sec. 4, Algorithm 1, Appendix B).

At every decoding step the head reads h_t and outputs u_t = [u_c, u_a, u_b] (eq. 8); a gate
c_t ~ Bernoulli(sigmoid(u_c)) decides whether to change the temperature, and if so
z_t ~ Beta(softplus(u_a) + eps, softplus(u_b) + eps) (eq. 9) sets tau_t = tau_min + z_t (tau_max -
tau_min); otherwise tau_t = tau_{t-1}, with tau_0 = 1.0. The joint log-probability is
log P(c_t) + c_t log Beta(z_t; a, b) (eq. 10). (c, z, tau) are stored per token.

Coordinate ascent (Sec. 4.3): the trainer's GRPO step updates the LLM with the recorded
temperatures fixed (step A); then `update` runs the same clipped GRPO objective on the head
with the tokens fixed, the same advantages, and its own optimizer and learning rate (step B).
The head reads the hidden states recorded at sampling time (theta_old's), which is why the
order of A and B does not change step B.

Ablations (Table 4): granularity `prompt` (one temperature per response, chosen from the
prompt's last hidden state at the first step) and `gate: false` (always-update: a new
temperature at every token, no Bernoulli gate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from harness.objectives import clipped_objective
from harness.temperature.base import MethodParams, ScoredBatch, TemperatureController, TokenPolicy, register

EPS = 1e-6  # eq. 9's numerical floor on the Beta parameters
Z_EDGE = 1e-6  # z is kept inside (0, 1) so that log Beta(z) stays finite


class IntroLLMParams(MethodParams):
    tau_min: float = Field(0.6, gt=0)
    tau_max: float = Field(1.5, gt=0)
    tau_init: float = Field(1.0, gt=0, description="tau_0, in force until the first change")
    granularity: Literal["token", "prompt"] = "token"
    gate: bool = Field(True, description="False: always-update ablation (a new temperature every token)")
    lr: float = Field(5e-5, gt=0, description="AdamW learning rate of the head (Table 5)")
    weight_decay: float = Field(0.0, ge=0)
    clip: float = Field(0.2, gt=0, description="epsilon of the head's clipped objective")
    grad_clip: float = Field(1.0, gt=0)
    updates_per_batch: int = Field(1, gt=0)
    init_std: float = Field(0.02, gt=0, description="std of the N(0, std) weight init (Appendix B.1)")

    @property
    def gated(self) -> bool:
        """Whether a Bernoulli gate decides each change (eq. 9): at token granularity, gate on."""
        return self.gate and self.granularity == "token"

    @model_validator(mode="after")
    def _bounds(self) -> IntroLLMParams:
        if not self.tau_min < self.tau_max:
            raise ValueError(f"tau_min ({self.tau_min}) must be below tau_max ({self.tau_max})")
        return self


@dataclass
class HeadOutput:
    """The head's two distributions at hidden states (...): the gate c ~ Bernoulli(sigmoid(u_c))
    and the value z ~ Beta(a, b), concentration [a, b] (eq. 9). Written out rather than built as
    `torch.distributions` objects at every decoding step (whose construction was a quarter of the
    head's time): the same operations in torch's order, so the same draws and bits (tested)."""

    gate_logits: Tensor  # (...) u_c
    concentration: Tensor  # (..., 2) [a, b]

    def p_change(self) -> Tensor:
        return torch.sigmoid(self.gate_logits)

    def beta_mean(self) -> Tensor:
        a, b = self.concentration.unbind(-1)
        return a / (a + b)

    def sample(self, gated: bool) -> tuple[Tensor, Tensor]:
        """(c, z) of shape (...), drawn from torch's global generator (gate first); without the
        gate, c is 1 and no Bernoulli is drawn."""
        with torch.no_grad():
            c = torch.bernoulli(self.p_change()) if gated else torch.ones_like(self.gate_logits)
            z = torch._sample_dirichlet(self.concentration)[..., 0]  # Beta(a, b) as a 2-way Dirichlet
        return c, z

    def logprob(self, c: Tensor, z: Tensor, gated: bool) -> Tensor:
        """eq. 10: log P(c) + c log Beta(z; a, b); without the gate, log Beta(z) alone."""
        z = z.clamp(Z_EDGE, 1 - Z_EDGE)
        conc = self.concentration
        beta_term = (torch.xlogy(conc - 1.0, torch.stack([z, 1.0 - z], -1)).sum(-1)
                     + torch.lgamma(conc.sum(-1)) - torch.lgamma(conc).sum(-1))
        if not gated:
            return beta_term
        return -nn.functional.binary_cross_entropy_with_logits(self.gate_logits, c, reduction="none") + c * beta_term


class TemperatureHead(nn.Module):
    """Linear(d, d/2) -> ReLU -> Linear(d/2, 3) (eq. 8, Appendix B.1); initialised to maximum
    entropy: P(change) = sigmoid(0) = 0.5 and Beta(1, 1) (softplus(0.5413) = 1)."""

    BETA_BIAS = math.log(math.e - 1)  # softplus^-1(1) = 0.5413

    def __init__(self, hidden_size: int, init_std: float, generator: torch.Generator):
        """Built on the CPU from a CPU `generator`, so a seed gives the same head on every device
        (move it with `.to(device)`)."""
        super().__init__()
        cpu = torch.device("cpu")
        self.net = nn.Sequential(nn.Linear(hidden_size, hidden_size // 2, device=cpu), nn.ReLU(),
                                 nn.Linear(hidden_size // 2, 3, device=cpu))
        for layer in (self.net[0], self.net[2]):
            nn.init.normal_(layer.weight, std=init_std, generator=generator)
            nn.init.zeros_(layer.bias)
        with torch.no_grad():
            self.net[2].bias.copy_(torch.tensor([0.0, self.BETA_BIAS, self.BETA_BIAS], device=cpu))

    def forward(self, hidden: Tensor) -> HeadOutput:
        """The gate and value distributions for hidden states (..., d)."""
        u = self.net(hidden.float())  # (..., 3)
        return HeadOutput(u[..., 0], nn.functional.softplus(u[..., 1:]) + EPS)


class HeadPolicy(TokenPolicy):
    """Samples (c_t, z_t) from the head at every position and keeps tau_{t-1} per row. The
    head's log-probabilities at sampling time (eq. 10) are computed once, in `records`, from each
    step's distributions: elementwise, so the same bits as step by step (tested), in one pass."""

    reads_hidden = True

    def __init__(self, head: TemperatureHead, params: IntroLLMParams):
        self.head, self.p = head, params
        self.tau_prev: Tensor | None = None  # (N,)
        self.steps: list[dict[str, Any]] = []

    def __call__(self, position: int, logits: Tensor, hidden: Tensor, rows: Tensor) -> Tensor:
        p = self.p
        if self.tau_prev is None:
            self.tau_prev = torch.full((len(rows),), p.tau_init, device=hidden.device)  # the first call sees every row
        decides = p.granularity == "token" or position == 0  # prompt level: one choice, at t = 0
        with torch.no_grad():
            out = self.head(hidden)
            c, z = out.sample(p.gated)
            if not p.gated:
                c = c * float(decides)
            z = z.clamp(Z_EDGE, 1 - Z_EDGE)
            tau = torch.where(c > 0, p.tau_min + z * (p.tau_max - p.tau_min), self.tau_prev[rows])
        self.tau_prev[rows] = tau
        self.steps.append({"rows": rows, "c": c, "z": z, "out": out, "decision": float(decides)})
        return tau

    def records(self) -> dict[str, Tensor]:
        """(N, L) per-token c, z, the head's log-prob at sampling time, and whether the token
        carried a temperature decision."""
        n, length = len(self.tau_prev), len(self.steps)
        rows = torch.cat([step["rows"] for step in self.steps])  # every (row, step) decided, step-major
        active = torch.tensor([len(step["rows"]) for step in self.steps], device=rows.device)
        cols = torch.repeat_interleave(torch.arange(length, device=rows.device), active)
        c, z = (torch.cat([step[key] for step in self.steps]) for key in ("c", "z"))  # (sum of active,)
        out = HeadOutput(torch.cat([step["out"].gate_logits for step in self.steps]),
                         torch.cat([step["out"].concentration for step in self.steps]))
        decision = torch.tensor([step["decision"] for step in self.steps], device=rows.device)
        values = {"c": c, "z": z * c, "logp": out.logprob(c, z, self.p.gated),
                  "decision": torch.repeat_interleave(decision, active)}
        records = {}
        for key, value in values.items():
            records[f"introllm_{key}"] = torch.zeros(n, length, device=self.tau_prev.device)
            records[f"introllm_{key}"][rows, cols] = value
        return records


@register("introllm")
class IntroLLM(TemperatureController):
    Params = IntroLLMParams
    params: IntroLLMParams
    needs_hidden = True

    def __init__(self, params: IntroLLMParams, ctx):
        super().__init__(params, ctx)
        init = torch.Generator(device="cpu").manual_seed(ctx.seed + 104729)  # the head's init depends on the seed only
        self.head = TemperatureHead(ctx.hidden_size, params.init_std, init).to(ctx.device)
        self.optimizer = torch.optim.AdamW(self.head.parameters(), lr=params.lr, weight_decay=params.weight_decay)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return HeadPolicy(self.head, self.params)

    def eval_policy(self) -> TokenPolicy:
        return HeadPolicy(self.head, self.params)

    def update(self, batch: ScoredBatch) -> dict[str, Any]:
        """Step B of Alg. 1: the clipped GRPO objective on the head, tokens fixed, same A_i,
        averaged over the tokens that carried a temperature decision."""
        rollout, rec = batch.rollout, batch.rollout.extras
        weights = rollout.mask * rec["introllm_decision"]  # (N, L)
        weights = weights / weights.sum().clamp(min=1)
        totals = {"loss": 0.0, "grad_norm": 0.0}
        for _ in range(self.params.updates_per_batch):
            out = self.head(rollout.hidden)  # (N, L) distributions
            logp = out.logprob(rec["introllm_c"], rec["introllm_z"], self.params.gated)
            objective, _ = clipped_objective(logp, rec["introllm_logp"], batch.advantages, self.params.clip, self.params.clip)
            loss = -(objective * weights).sum()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            totals["grad_norm"] += float(nn.utils.clip_grad_norm_(self.head.parameters(), self.params.grad_clip))
            self.optimizer.step()
            totals["loss"] += float(loss.detach())
        with torch.no_grad():
            decided = weights > 0
            p_change = out.p_change()[decided].mean()
            beta_mean = out.beta_mean()[decided].mean()
        k = self.params.updates_per_batch
        return {
            "head_loss": totals["loss"] / k,
            "head_grad_norm": totals["grad_norm"] / k,
            "p_change": float(p_change),
            "beta_mean": float(beta_mean),
            "change_rate": float((rec["introllm_c"] * rollout.mask).sum() / rollout.mask.sum()),
        }

    def summary(self) -> dict[str, Any]:
        n = sum(p.numel() for p in self.head.parameters())
        share = n / self.ctx.model_parameters if self.ctx.model_parameters else None
        return {"head_parameters": n, "head_share_of_model": share}

    def state_dict(self) -> dict[str, Any]:
        return {"head": self.head.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])
