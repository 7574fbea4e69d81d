"""The pinned matrix product kernel (harness/gemm.py): torch's products, on one OpenBLAS kernel."""

import os

import pytest
import torch

from harness import gemm, numerics

pytestmark = pytest.mark.skipif(os.environ.get(numerics.MODE_VARIABLE, "pinned") != "pinned",
                                reason="the kernel is installed under pinned numerics only")


def test_the_test_process_runs_openblas_haswell():
    assert gemm.installed() and gemm.openblas_coretype() == "Haswell"


def test_products_of_small_integers_are_exact():
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
    b = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]])  # (3, 2)
    assert (a @ b).tolist() == [[7.0, -1.0], [16.0, -1.0]]
    assert torch.addmm(torch.tensor([10.0, 20.0]), a, b, beta=0.5, alpha=2.0).tolist() == [[19.0, 8.0], [37.0, 8.0]]
    nan = torch.full((2, 2), float("nan"))
    assert torch.addmm(nan, a, b, beta=0.0).tolist() == [[7.0, -1.0], [16.0, -1.0]]  # beta = 0 ignores the input
    assert torch.bmm(a[None], b[None]).tolist() == [[[7.0, -1.0], [16.0, -1.0]]]


def test_transposed_and_strided_operands_and_gradients_match_a_float64_reference():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 16, requires_grad=True)  # (n, L, d) as a model's hidden states
    w = torch.randn(8, 16, requires_grad=True)  # (out, in): Linear multiplies by w.T, a transposed view
    y = torch.nn.functional.linear(x, w)
    (y * torch.arange(8.0)).sum().backward()
    x64, w64 = x.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    (torch.nn.functional.linear(x64, w64) * torch.arange(8.0, dtype=torch.float64)).sum().backward()
    assert torch.allclose(y.double(), x64 @ w64.T, atol=1e-5)
    assert torch.allclose(x.grad.double(), x64.grad, atol=1e-5) and torch.allclose(w.grad.double(), w64.grad, atol=1e-4)


def test_other_dtypes_keep_torchs_kernels():
    a = torch.arange(6.0).view(2, 3)
    assert (a.bfloat16() @ a.T.bfloat16()).dtype == torch.bfloat16
    assert (a.double() @ a.T.double()).tolist() == [[5.0, 14.0], [14.0, 50.0]]
    assert torch.addmm(torch.zeros(2, 2, dtype=torch.float64), a.double(), a.T.double()).tolist() == [[5.0, 14.0], [14.0, 50.0]]


def test_the_bits_do_not_depend_on_where_the_operands_lie_in_memory():
    """Allocations land at other addresses on another machine or run: the product must not care."""
    torch.manual_seed(1)
    a, w = torch.randn(37, 128), torch.randn(96, 128)  # a row count off the kernel's unroll, as in decoding
    reference = a @ w.T
    for offset in range(1, 9):
        a_moved = torch.empty(a.numel() + offset)[offset:].view_as(a).copy_(a)
        w_moved = torch.empty(w.numel() + offset)[offset:].view_as(w).copy_(w)
        assert torch.equal(a_moved @ w_moved.T, reference)


def test_operands_without_a_unit_stride_are_multiplied_correctly():
    a = torch.arange(24.0).view(4, 6)[:, ::2]  # (4, 3), strides (6, 2)
    b = torch.ones(1, 3).expand(3, 3)  # stride 0
    assert (a @ b).tolist() == [[6.0] * 3, [24.0] * 3, [42.0] * 3, [60.0] * 3]
