"""GRPO at one fixed sampling temperature: the baseline of every paper (TAMPO Table 1,
IntroLLM Table 1, Appendix D.1)."""

from __future__ import annotations

from pydantic import Field

from harness.temperature.base import MethodParams, TemperatureController, TokenPolicy, constant, register


class FixedParams(MethodParams):
    temperature: float = Field(gt=0, description="sampling temperature for every token")


@register("fixed")
class Fixed(TemperatureController):
    Params = FixedParams
    params: FixedParams

    def policy(self, step: int, group_size: int) -> TokenPolicy:
        return constant(self.params.temperature, self.ctx.device)
