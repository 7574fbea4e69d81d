"""Device-clean code, checked on any machine: every tensor the harness creates says where it
lives, and only harness.distributed decides which device that is. On a CPU-only machine a
tensor created without `device=` works by accident and breaks on the first GPU (a CPU reward
multiplied into a CUDA loss); this check fails on the CPU instead."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "harness"
# torch functions and modules that allocate: each call must name its device (a `*_like`,
# `new_*` or `.to(...)` call inherits or states one and is not listed)
FACTORIES = {"zeros", "ones", "full", "empty", "arange", "tensor", "as_tensor", "randn", "randint", "rand", "randperm",
             "linspace", "eye", "Linear", "Embedding", "Generator"}
DEVICE_DECIDERS = {"distributed.py", "rng.py"}  # resolve_device, and the CUDA random stream of a checkpoint


def undeviced_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) for each torch / nn factory call without a `device=` keyword."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FACTORIES):
            continue
        if ast.unparse(node.func.value) not in ("torch", "nn", "torch.nn"):
            continue
        if not any(k.arg == "device" for k in node.keywords):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_checker_flags_a_factory_without_device_and_accepts_one_with_it():
    source = "x = torch.zeros(3)\ny = torch.zeros(3, device=d)\nz = torch.zeros_like(y)\nh = nn.Linear(2, 3)\n"
    assert undeviced_calls(source) == [(1, "torch.zeros(3)"), (4, "nn.Linear(2, 3)")]


def test_every_tensor_the_harness_creates_names_its_device():
    problems = [f"{path.relative_to(ROOT.parent)}:{line}: {call}"
                for path in sorted(ROOT.rglob("*.py")) for line, call in undeviced_calls(path.read_text())]
    assert problems == [], "pass device= (the policy's, or 'cpu' where the CPU is meant):\n" + "\n".join(problems)


def test_only_harness_distributed_decides_the_device():
    """Elsewhere the device comes from the policy (`model.device`, a tensor's `.device`) or from
    harness.distributed.resolve_device; a module asking torch.cuda itself would run on the GPU
    where the config said cpu."""
    offenders = [f"{path.relative_to(ROOT.parent)}:{n}" for path in sorted(ROOT.rglob("*.py")) if path.name not in DEVICE_DECIDERS
                 for n, line in enumerate(path.read_text().splitlines(), 1) if "torch.cuda" in line or ".cuda(" in line]
    assert offenders == []
