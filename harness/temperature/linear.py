"""A temperature that moves linearly over training steps: GRPO (T_s: 0.9 -> 1.5) in TAMPO
Table 1, and the multi-temperature paper's linear increase (e.g. 1.2 -> 1.4 over 300 steps,
then constant)."""

from __future__ import annotations

from pydantic import Field

from harness.temperature.base import MethodParams, TemperatureController, TokenPolicy, constant, register


class LinearParams(MethodParams):
    start: float = Field(gt=0, description="temperature at step 0")
    end: float = Field(gt=0, description="temperature at the end of the ramp")
    ramp_steps: int | None = Field(
        default=None, gt=0, description="steps to go from start to end; null = the whole run"
    )


@register("linear")
class Linear(TemperatureController):
    Params = LinearParams
    params: LinearParams

    def temperature(self, step: int) -> float:
        ramp = self.params.ramp_steps or self.ctx.total_steps
        frac = min(step / max(ramp - 1, 1), 1.0)
        return self.params.start + frac * (self.params.end - self.params.start)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return constant(self.temperature(step), self.ctx.device)
