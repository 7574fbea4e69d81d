"""tempo-harness: GRPO with adaptive sampling temperature, reproducibly."""

from harness.numerics import pin_environment

pin_environment()  # before anything loads torch: see harness/numerics.py
