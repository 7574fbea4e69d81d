"""Pinned matrix products: every float32 matrix product on the CPU runs one kernel, OpenBLAS's
Haswell SGEMM (AVX2 + FMA), the same bits on any x86-64 CPU that has AVX2 and FMA.

Why not MKL, which torch calls by default: its results depend on the CPU it finds. Even its
COMPATIBLE branch, the one documented to agree on Intel and AMD CPUs, gave other bits on an
Intel Xeon than on an AMD EPYC (tests/test_drift.py, measured), and it is SSE2 code at about
20 GFLOP/s per core.
OpenBLAS (the BLAS numpy ships) with ``OPENBLAS_CORETYPE=Haswell`` runs the same assembly kernel
on every such CPU, whatever newer extensions it has, and blocks the reduction dimension by
SGEMM_DEFAULT_Q, a compile-time constant of that kernel, not a function of the cache sizes
(OpenBLAS kernel/setparam-ref.c); one thread (``OPENBLAS_NUM_THREADS=1``) fixes the rest. It
runs at 80-100 GFLOP/s per core here (benchmarks/core.py prints the figure).

How: `install` overrides torch's CPU kernels of ``aten::mm``, ``aten::addmm`` and ``aten::bmm``
(what nn.Linear, matmul and their backward passes dispatch to; autograd sits above the kernel, so
gradients flow as before) with numpy's matmul writing into a torch-owned output. Other dtypes
(bfloat16 autocast) run torch's own ``.out`` kernels. `install` also turns off torch's fused CPU
attention kernel, whose products call MKL: scaled_dot_product_attention then runs its reference
form (two bmm around a softmax), whose products come here. With harness.vecmath, no result of
the harness goes through MKL.
"""

from __future__ import annotations

import ctypes
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

_library: torch.library.Library | None = None


def _blas_layout(t: Tensor) -> bool:
    """Whether numpy hands matrices of this layout to BLAS (row- or column-major with a leading
    dimension at least the row length) rather than multiplying them with its own loop."""
    (rows, cols), (row_stride, col_stride) = t.shape[-2:], t.stride()[-2:]
    return (col_stride == 1 and row_stride >= max(cols, 1)) or (row_stride == 1 and col_stride >= max(rows, 1))


class _View:
    """A float32 CPU tensor's memory as numpy sees it (the array interface protocol). Unlike
    `Tensor.numpy`, it leaves the tensor's storage resizable, which FSDP needs: it frees
    gathered parameters by resizing their storage to zero."""

    def __init__(self, t: Tensor):
        self.__array_interface__ = {
            "version": 3, "typestr": "<f4", "data": (t.data_ptr(), False),
            "shape": tuple(t.shape), "strides": tuple(4 * s for s in t.stride()),
        }


def as_numpy(t: Tensor) -> np.ndarray:
    """A float32 CPU tensor's memory as a numpy array (no copy; the tensor must outlive it)."""
    return np.asarray(_View(t))


def _matmul_into(out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """out = a @ b for float32 (..., M, K) and (..., K, N) on the pinned kernel. The tensors
    outlive the numpy views of their memory."""
    a, b = (t if _blas_layout(t) else t.clone(memory_format=torch.contiguous_format) for t in (a, b))
    np.matmul(as_numpy(a), as_numpy(b), out=as_numpy(out))
    return out


def _float32(*tensors: Tensor) -> bool:
    return all(t.dtype == torch.float32 for t in tensors)


def _mm(a: Tensor, b: Tensor) -> Tensor:  # (M, K) @ (K, N) -> (M, N)
    out = a.new_empty((a.shape[0], b.shape[1]))
    return _matmul_into(out, a, b) if _float32(a, b) else torch.ops.aten.mm.out(a, b, out=out)


def _addmm(bias: Tensor, a: Tensor, b: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * bias + alpha * (a @ b), as torch.addmm (beta = 0 ignores bias, NaN included)."""
    out = a.new_empty((a.shape[0], b.shape[1]))
    if not _float32(bias, a, b):
        return torch.ops.aten.addmm.out(bias, a, b, beta=beta, alpha=alpha, out=out)
    _matmul_into(out, a, b)
    if alpha != 1:
        out.mul_(alpha)
    if beta != 0:
        out.add_(bias, alpha=beta)
    return out


def _bmm(a: Tensor, b: Tensor) -> Tensor:  # (B, M, K) @ (B, K, N) -> (B, M, N)
    out = a.new_empty((a.shape[0], a.shape[1], b.shape[2]))
    return _matmul_into(out, a, b) if _float32(a, b) else torch.ops.aten.bmm.out(a, b, out=out)


def install() -> None:
    """Route this process's CPU matrix products to the pinned kernel (idempotent). The
    environment (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS) must be set before numpy loads
    OpenBLAS: harness.numerics sets it when `harness` is imported."""
    global _library
    if _library is not None:
        return
    torch.backends.cuda.enable_flash_sdp(False)  # despite its name, the switch of the CPU's fused attention too
    library = torch.library.Library("aten", "IMPL")
    with warnings.catch_warnings():  # torch warns that a registered kernel is overridden: that is the point
        warnings.simplefilter("ignore")
        for name, kernel in (("mm", _mm), ("addmm", _addmm), ("bmm", _bmm)):
            library.impl(name, kernel, "CPU")
    _library = library


def installed() -> bool:
    return _library is not None and not torch.backends.cuda.flash_sdp_enabled()


def openblas_coretype() -> str | None:
    """The kernel family numpy's OpenBLAS runs (e.g. Haswell, SkylakeX, Zen), or None where
    numpy is built against another BLAS."""
    libs = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("lib*openblas*.so*"))
    for path in libs:
        lib = ctypes.CDLL(str(path))
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            if hasattr(lib, symbol):
                get = getattr(lib, symbol)
                get.restype = ctypes.c_char_p
                return get().decode()
    return None
