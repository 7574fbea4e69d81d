"""tempo-harness: GRPO with adaptive sampling temperature, reproducibly."""
