"""Pinned CPU numerics: the same seed gives the same bits on any x86-64 machine with AVX2.

Which kernels a CPU runs decides the low bits of every float, and training amplifies them:
sixty SFT steps of the tiny model give bitwise different weights on an AVX-512 and an AVX2
machine, and after the whole pipeline a table moves by more than its own error bars. So every
process of the harness pins the code paths that depend on the CPU:

- ``ATEN_CPU_CAPABILITY=avx2``: ATen's vectorised kernels (elementwise ops, softmax,
  reductions, random fills) run their AVX2 build whatever the CPU offers beyond it (AVX-512,
  AMX). A CPU without AVX2 (before 2013) cannot run it: `check` refuses rather than fall back.
- matrix products (every nn.Linear and its gradients) run OpenBLAS's Haswell SGEMM kernel
  (``OPENBLAS_CORETYPE=Haswell``, one thread), installed by `configure` (harness.gemm): the same
  AVX2 + FMA assembly and the same blocking on every CPU that has AVX2 and FMA.
- no MKL: torch calls it for matrix products inside its fused CPU attention kernel and for
  exp, log, sqrt, sin, cos, tanh and a few rarer functions (its vector math library), and MKL
  picks its code by the CPU it finds. Not even its COMPATIBLE branch (``MKL_CBWR``), documented
  to agree on Intel and AMD CPUs, did: the drift test's weights differed between an AMD EPYC and
  an Intel Xeon under it. So `configure` turns the fused attention kernel off (harness.gemm:
  attention's products become bmm, on the kernel above) and routes those functions to numpy
  (harness.vecmath); tests/test_drift.py checks that MKL's branch no longer moves a bit.
- ``ONEDNN_MAX_CPU_ISA=AVX2``: oneDNN, which fp32 training does not call, but bfloat16
  autocast does.
- one torch thread per job (``JOB_THREADS``), with ``MKL_DYNAMIC=FALSE`` and
  ``OMP_DYNAMIC=FALSE``, so the split of every parallel reduction is the same on a machine
  with 2 cores or 64; ``OMP_WAIT_POLICY=PASSIVE`` keeps idle threads from spinning on a
  shared machine.

These must be in the environment before torch is loaded, so `pin_environment` runs when the
`harness` package is imported (every entry point imports it before torch: the command line,
the Snakemake rules, the tests, the benchmarks), and processes started from there inherit it.
``HARNESS_NUMERICS=native`` leaves the environment alone, for speed over bitwise
reproducibility; results record which mode made them (`state`), and the README's numbers need
the default. The pinned mode costs speed (the README measures how much).

What the pin does not cover: the software stack (Python packages pinned by constraints.txt,
and glibc's libm, recorded in `state`). The interpreter is recorded beside it (harness.io's
provenance): its build decides the harness's speed, not its bits (README, Reproducibility).
"""

from __future__ import annotations

import os
import platform
import sys
from functools import cache
from pathlib import Path
from typing import Any

MODE_VARIABLE = "HARNESS_NUMERICS"
MODES = ("pinned", "native")
PINNED_ENVIRONMENT = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_DYNAMIC": "FALSE",
    "OMP_DYNAMIC": "FALSE",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "1",
}
# Caps a user may set to emulate an older CPU (each library's dispatch held below what the CPU
# has): not set by the pin, recorded in provenance when set (README: Reproducibility).
DISPATCH_CAPS = ("MKL_ENABLE_INSTRUCTIONS", "GLIBC_TUNABLES", "NPY_DISABLE_CPU_FEATURES")
JOB_THREADS = 1  # torch threads of every job under pinned numerics
EXPECTED_CAPABILITY = "AVX2"
PINNED_MATMUL = f"openblas-{PINNED_ENVIRONMENT['OPENBLAS_CORETYPE']}"  # what `configure` routes matrix products to
PINNED_VECTOR_MATH = "numpy"  # and exp, log, sqrt, ... (harness.vecmath)


class NumericsError(RuntimeError):
    """The process does not run the numerics its mode promises."""


def mode() -> str:
    """`pinned` (the default) or `native`, from the HARNESS_NUMERICS environment variable."""
    value = os.environ.get(MODE_VARIABLE, "pinned")
    if value not in MODES:
        raise NumericsError(f"{MODE_VARIABLE}={value!r}; allowed: {', '.join(MODES)}")
    return value


_torch_loaded_first = False
_configured_pinned = False  # set by `configure` in pinned mode: `install_attention` then acts


def pin_environment() -> None:
    """Set the pinned variables in this process's environment (inherited by its children).
    Too late for a torch that is already loaded: `check` then reports what is off."""
    global _torch_loaded_first
    _torch_loaded_first = "torch" in sys.modules
    if mode() == "pinned":
        os.environ.update(PINNED_ENVIRONMENT)


def job_threads(requested: int) -> int:
    """Torch threads for a job that asks for `requested`: pinned numerics fix the count."""
    return JOB_THREADS if mode() == "pinned" else max(1, requested)


def configure(threads: int) -> None:
    """A job's torch settings, then `check`: its thread count (`job_threads`), its matrix
    products and vector math on the pinned kernels (harness.gemm, harness.vecmath; pinned mode
    only) and denormal floats flushed
    to zero. A temperature near 0.1 (EAD's tail) makes softmax produce denormals, which
    every later op touches at a fraction of full speed; flushed, they are exact zeros, the same
    on every machine (x86 FTZ/DAZ)."""
    import torch

    global _configured_pinned
    torch.set_num_threads(job_threads(threads))
    torch.set_flush_denormal(True)
    if mode() == "pinned":
        from harness import gemm, vecmath

        gemm.install()
        vecmath.install()
        _configured_pinned = True
        if "transformers.modeling_utils" in sys.modules:
            install_attention()
    check()


def install_attention() -> None:
    """harness.gqa_decode's decode attention in transformers' models, once `configure` has
    pinned this process: called by `configure` when transformers' models are loaded already, else
    by harness.modeling when it loads them. A job without a model (dataset, tokenizer, tables)
    then never imports them, 4-5 s of its start-up (README: Measured figures, Job start-up)."""
    if _configured_pinned:
        from harness import gqa_decode

        gqa_decode.install()


@cache
def cpu() -> dict[str, Any]:
    """The CPU's model name and the instruction sets that change kernels (from /proc/cpuinfo)."""
    info = {"model": platform.processor() or platform.machine(), "flags": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")
    return {"model": fields.get("model name", info["model"]), "flags": [f for f in wanted if f in flags]}


def state() -> dict[str, Any]:
    """What decides this process's numbers, for provenance."""
    import torch

    return {
        "mode": mode(),
        "environment": environment(),
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        "matmul": matmul_kernel(),
        "vector_math": vector_math(),
        "torch_threads": torch.get_num_threads(),
        "denormals_flushed": _denormals_flushed(),
        "cpu": cpu(),
        "libc": "-".join(platform.libc_ver()),
    }


def environment() -> dict[str, str | None]:
    """The variables of the pin and the dispatch caps, as this process has them."""
    return {k: os.environ.get(k) for k in (*PINNED_ENVIRONMENT, *DISPATCH_CAPS)}


def identity(threads: int) -> dict[str, Any]:
    """What decides the numbers of a job configured for `threads` (`configure`), known without
    loading torch: the rest of its `state` follows from these and the package versions, since
    `configure` flushes denormals and sets the threads, and under pinned numerics `check` refuses
    any kernel but the pinned ones."""
    return {"mode": mode(), "environment": environment(), "torch_threads": job_threads(threads), "cpu": cpu(),
            "libc": "-".join(platform.libc_ver())}


def matmul_kernel() -> str:
    """Which kernel this process's CPU matrix products run."""
    from harness import gemm

    return f"openblas-{gemm.openblas_coretype()}" if gemm.installed() else "torch (mkl)"


def vector_math() -> str:
    """Which code this process's CPU exp, log, sqrt, ... run."""
    from harness import vecmath

    return "numpy" if vecmath.installed() else "torch (mkl)"


def _denormals_flushed() -> bool:
    """Whether this thread's float unit flushes denormals (x86 MXCSR's FTZ and DAZ bits)."""
    import torch

    return bool(torch.tensor([1e-39], dtype=torch.float32, device="cpu").item() == 0.0)


def check() -> None:
    """Raise unless this process runs the pinned kernels (in pinned mode); a job calls this
    before it computes anything, so a result can never claim numerics it did not have."""
    if mode() != "pinned":
        return
    import torch

    problems = []
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != EXPECTED_CAPABILITY:
        problems.append(f"ATen runs {capability} kernels, not {EXPECTED_CAPABILITY}"
                        + (" (this CPU has no AVX2)" if "avx2" not in cpu()["flags"] else ""))
    if (math := vector_math()) != PINNED_VECTOR_MATH:
        problems.append(f"vector math runs {math}, not {PINNED_VECTOR_MATH}")
    if "fma" not in cpu()["flags"]:
        problems.append("this CPU has no FMA, which the pinned matrix product kernel needs")
    if (kernel := matmul_kernel()) != PINNED_MATMUL:
        problems.append(f"matrix products run {kernel}, not {PINNED_MATMUL}")
    if torch.get_num_threads() != JOB_THREADS:
        problems.append(f"torch uses {torch.get_num_threads()} threads, not {JOB_THREADS}")
    if problems:
        loaded_first = "torch was imported before harness, " if _torch_loaded_first else ""
        raise NumericsError(
            "pinned numerics are not in effect: " + "; ".join(problems) + f". Likely cause: {loaded_first}"
            f"the environment overrides them, or the process skipped harness.numerics.configure. Import harness "
            f"before torch and call configure, or set {MODE_VARIABLE}=native "
            "to run anyway (results then record native numerics and will not match the README's)."
        )
