"""The temperature-controller interface and the method registry.

A method decides temperatures at one of three granularities, all expressed the same way: a
`TokenPolicy` returns one temperature per row at every decoding position.
- per step (fixed, schedules, TAMPO): the same value for every row and position;
- per rollout (multi-temperature groups): a value per row, constant along the response;
- per token (EAD, entropy-based, IntroLLM): a value per row and position.
A learning method also implements `update`, called with the finished, scored batch, and
optionally `token_stats`, evaluated by the trainer on the policy's logits of that batch.

Adding a method is adding a module that subclasses `TemperatureController` and decorates it
with `@register("name")`; the trainer never changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from torch import Tensor

from harness.names import did_you_mean
from harness.rollout import Rollout
from harness.validation import error_lines


class TokenPolicy(ABC):
    """Temperatures for one batched generation of N rows; asked once per decoding position
    for the n rows still generating."""

    reads_hidden: ClassVar[bool] = False  # needs the last hidden states (only the torch sampler has them)

    @abstractmethod
    def __call__(self, position: int, logits: Tensor, hidden: Tensor, rows: Tensor) -> Tensor:
        """Temperatures (n,) for the tokens at response `position` of the active `rows` (n,)
        (indices into the N rows), given their logits before any temperature (n, V) and their
        last hidden states (n, d)."""

    def records(self) -> dict[str, Tensor]:
        """Per-token decisions to store with the rollout, each (N, L, ...)."""
        return {}

    def row_temperatures(self, n: int) -> Tensor | None:
        """The temperatures (n,) of n rows when each row keeps one temperature along its response
        whatever the logits (step- and rollout-level methods), else None. An inference engine
        then samples each row at its own request temperature."""
        return None


class RowTemperatures(TokenPolicy):
    """One temperature per row, constant along the response (step- and rollout-level methods):
    row r gets temperatures[r % period] (period = len(temperatures) by default)."""

    def __init__(self, temperatures: Tensor, period: int | None = None):
        self.temperatures = temperatures.float()
        self.period = period or len(temperatures)

    def __call__(self, position: int, logits: Tensor, hidden: Tensor, rows: Tensor) -> Tensor:
        if self.temperatures.device != logits.device:  # once per generation, not per position
            self.temperatures = self.temperatures.to(logits.device)
        return self.temperatures[rows % self.period]

    def row_temperatures(self, n: int) -> Tensor:
        return self.temperatures[torch.arange(n, device=self.temperatures.device) % self.period]


def constant(temperature: float, device: torch.device | str = "cpu") -> RowTemperatures:
    return RowTemperatures(torch.tensor([temperature], device=device))


@dataclass(frozen=True)
class ControllerContext:
    """What a controller may know about the run it belongs to."""

    total_steps: int  # number of GRPO steps of the run
    hidden_size: int  # d of the policy's last hidden state (for learned heads)
    seed: int
    model_parameters: int = 0  # size of the policy, for reporting a learned head's share
    device: torch.device = torch.device("cpu")  # the policy's: a controller's tensors and modules live there


@dataclass
class ScoredBatch:
    """A finished GRPO batch, as the controller sees it after the policy step."""

    step: int
    group_size: int  # G, rollouts per prompt; rows are prompt-major
    rollout: Rollout
    rewards: Tensor  # (N,)
    advantages: Tensor  # (N,) group-normalised, eq. 1 of TAMPO / eq. 3 of IntroLLM
    token_stats: dict[str, Tensor] = field(default_factory=dict)  # from `token_stats`, (N, L, ...)


class MethodParams(BaseModel):
    """Base of every method's parameters: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def check_run(self, total_steps: int) -> None:
        """Raise ValueError if these parameters cannot serve a run of `total_steps` steps, e.g.
        a schedule that reaches a temperature <= 0 before the end (one that validates field by
        field). Most methods' fields say all there is to check."""


class TemperatureController(ABC):
    """Decides sampling temperatures for a training run and, if it learns, learns them."""

    Params: ClassVar[type[MethodParams]] = MethodParams
    needs_hidden: ClassVar[bool] = False  # the sampler must pass last hidden states to policies

    def __init__(self, params: MethodParams, ctx: ControllerContext):
        self.params = params
        self.ctx = ctx

    @abstractmethod
    def policy(self, step: int, group_size: int) -> TokenPolicy:
        """The temperatures for the rollouts of training step `step` (0-based)."""

    def eval_policy(self) -> TokenPolicy:
        """The method's own inference-time temperatures (IntroLLM's evaluation protocol).
        By default: what the method would use after the last training step."""
        return self.policy(self.ctx.total_steps - 1, group_size=1)

    def token_stats(self, logits: Tensor, tokens: Tensor, hidden: Tensor) -> dict[str, Tensor]:
        """Statistics of the batch under the pre-update policy, computed without gradient from
        one chunk of the trainer's forward pass: logits (B, C, V) before temperature, tokens
        (B, C), hidden (B, C, d). Returned tensors are (B, C, ...) and are concatenated along C."""
        return {}

    def update(self, batch: ScoredBatch) -> dict[str, Any]:
        """Learn from a finished batch; returns metrics to log (numbers, or lists of numbers
        such as a distribution over candidate temperatures)."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Facts about the method to record with the trained model (e.g. a head's size)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} has no state but got keys {sorted(state)}")


C = TypeVar("C", bound=type[TemperatureController])
CONTROLLERS: dict[str, type[TemperatureController]] = {}


def register(name: str) -> Callable[[C], C]:
    def wrap(cls: C) -> C:
        if name in CONTROLLERS and CONTROLLERS[name] is not cls:
            raise ValueError(f"temperature controller {name!r} registered twice")
        CONTROLLERS[name] = cls
        cls.name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def load_methods() -> None:
    """Import every module of harness.temperature, so that each registers its method: a new
    method is a new file, with no list to edit."""
    import harness.temperature as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def validate_method(spec: dict[str, Any], where: str) -> MethodParams:
    """Check a method entry {controller: name, **params} and return its typed parameters."""
    load_methods()
    spec = dict(spec)
    name = spec.pop("controller", None)
    if name not in CONTROLLERS:
        raise ValueError(
            f"{where}.controller: unknown temperature controller {name!r}{did_you_mean(str(name), CONTROLLERS)}; "
            f"allowed: {', '.join(sorted(CONTROLLERS))}"
        )
    params = CONTROLLERS[name].Params
    try:
        return params.model_validate(spec)
    except ValidationError as err:
        raise ValueError("; ".join(error_lines(err, params, where))) from None


def build_controller(spec: dict[str, Any], ctx: ControllerContext) -> TemperatureController:
    params = validate_method(spec, "method")
    return CONTROLLERS[spec["controller"]](params, ctx)
