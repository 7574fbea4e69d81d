"""Temperature spikes (Zhuang et al. 2025, arXiv 2510.08892, schedules): from a base T, the
temperature rises by `increment` every `every` steps (+0.1 every 50 steps in the paper)."""

from __future__ import annotations

from pydantic import Field

from harness.temperature.base import MethodParams, TemperatureController, TokenPolicy, constant, register


class SpikeParams(MethodParams):
    base: float = Field(1.0, gt=0)
    increment: float = Field(0.1)
    every: int = Field(50, gt=0, description="steps between increments")

    def check_run(self, total_steps: int) -> None:
        last = self.base + self.increment * ((total_steps - 1) // self.every)
        if last <= 0:
            raise ValueError(
                f"increment {self.increment} every {self.every} steps from base {self.base} reaches "
                f"T = {last:g} <= 0 by step {total_steps - 1}; allowed: temperatures > 0 throughout the run"
            )


@register("spike")
class Spike(TemperatureController):
    Params = SpikeParams
    params: SpikeParams

    def temperature(self, step: int) -> float:
        p = self.params
        return p.base + p.increment * (step // p.every)

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return constant(self.temperature(step), self.ctx.device)
