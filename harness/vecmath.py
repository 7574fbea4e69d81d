"""Pinned vector math: torch's float32 exp, log, sqrt, sin, cos, tanh and the rest of the functions
it hands to MKL's vector math library (VML) run code whose bits do not depend on the CPU.

Why: torch's CPU kernels of these functions call VML (ATen/cpu/vml.h), which picks its code by
the CPU it finds. On an Intel Xeon (AVX-512, AMX) the results of exp, log and sqrt change with
MKL's code branch, and under ``MKL_CBWR=COMPATIBLE`` they still differed from an AMD EPYC's:
sixty SFT steps gave other weights (AdamW's square root alone moved them; tests/test_drift.py,
measured). So under pinned numerics no result of the harness goes through MKL.

How: `install` overrides torch's CPU kernels of the functional and in-place forms (``aten::exp``,
``aten::exp_``, ...; autograd sits above the kernel, so gradients flow as before):
- exp, log, sqrt, sin, cos, tanh: numpy's float32 loops. sqrt is IEEE-exact on every CPU; the
  others run one algorithm in every SIMD width numpy dispatches (identical bits with and without
  its AVX-512 loops, measured here on a million values each).
- acos, asin, atan, tan, log2, log10, erf, erfc, erfinv (numpy's float32 versions of these
  change with its AVX-512 loops, measured): in float64 through Python's math module (erfinv
  through scipy), element by element, then rounded to float32. Slow (about 0.2 s per million
  values), exact to the last float32 bit in all but rare ties, and rarely called: no method or
  model of the harness uses them.
Other dtypes keep torch's kernels (through the ``.out`` form, which is not overridden).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from harness.gemm import as_numpy

_library: torch.library.Library | None = None

Float32Fn = Callable[[np.ndarray, np.ndarray], None]  # (input, out) float32 arrays of one shape


def _numpy_ufunc(ufunc: np.ufunc) -> Float32Fn:
    def apply(x: np.ndarray, out: np.ndarray) -> None:
        with np.errstate(all="ignore"):  # NaN and inf as torch gives them, without warnings
            ufunc(x, out=out)
    return apply


def _elementwise(scalar: Callable[[float], float]) -> Float32Fn:
    """A float64 scalar function applied to every value. Where math raises, torch gives -inf at
    zero (log2, log10) and NaN elsewhere (out of the domain, or tan at infinity)."""
    def safe(v: float) -> float:
        try:
            return scalar(v)
        except ValueError:
            return -math.inf if v == 0 else math.nan

    vectorised = np.frompyfunc(safe, 1, 1)

    def apply(x: np.ndarray, out: np.ndarray) -> None:
        with np.errstate(all="ignore"):  # NaN and inf as torch gives them, without warnings
            out[...] = np.asarray(vectorised(x.astype(np.float64)), dtype=np.float64)  # 0-dim gives a float
    return apply


def _erfinv(x: np.ndarray, out: np.ndarray) -> None:
    from scipy import special  # only when called: its import costs a job's start-up

    out[...] = special.erfinv(x.astype(np.float64))


KERNELS: dict[str, Float32Fn] = {
    "exp": _numpy_ufunc(np.exp), "log": _numpy_ufunc(np.log), "sqrt": _numpy_ufunc(np.sqrt),
    "sin": _numpy_ufunc(np.sin), "cos": _numpy_ufunc(np.cos), "tanh": _numpy_ufunc(np.tanh),
    "acos": _elementwise(math.acos), "asin": _elementwise(math.asin), "atan": _elementwise(math.atan),
    "tan": _elementwise(math.tan), "log2": _elementwise(math.log2), "log10": _elementwise(math.log10),
    "erf": _elementwise(math.erf), "erfc": _elementwise(math.erfc), "erfinv": _erfinv,
}  # every float function torch hands to VML (ATen/cpu/vml.h) but trunc, which is exact anyway


def _functional(name: str, kernel: Float32Fn) -> Callable[[Tensor], Tensor]:
    original = getattr(torch.ops.aten, name).out

    def impl(x: Tensor) -> Tensor:
        dtype = x.dtype if x.is_floating_point() or x.is_complex() else torch.get_default_dtype()
        out = torch.empty_like(x, dtype=dtype)
        if dtype != torch.float32:
            return original(x, out=out)
        source = x.to(torch.float32)  # held while numpy reads its memory
        kernel(as_numpy(source), as_numpy(out))
        return out
    return impl


def _in_place(name: str, kernel: Float32Fn) -> Callable[[Tensor], Tensor]:
    original = getattr(torch.ops.aten, name).out

    def impl(x: Tensor) -> Tensor:
        if x.dtype != torch.float32:
            return original(x.clone(), out=x)
        kernel(as_numpy(x), as_numpy(x))
        return x
    return impl


def install() -> None:
    """Route this process's CPU float32 vector math to the kernels above (idempotent)."""
    global _library
    if _library is not None:
        return
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():  # torch warns that a registered kernel is overridden: that is the point
        warnings.simplefilter("ignore")
        for name, kernel in KERNELS.items():
            library.impl(name, _functional(name, kernel), "CPU")
            library.impl(f"{name}_", _in_place(name, kernel), "CPU")
    _library = library


def installed() -> bool:
    return _library is not None
