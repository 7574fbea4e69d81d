"""The pinned vector math (harness/vecmath.py): torch's exp, log, sqrt, ... on code that does not
depend on the CPU, with torch's semantics (dtypes, in-place forms, special values, gradients)."""

import math
import os

import pytest
import torch

from harness import numerics, vecmath

pytestmark = pytest.mark.skipif(os.environ.get(numerics.MODE_VARIABLE, "pinned") != "pinned",
                                reason="the kernels are installed under pinned numerics only")

DOMAIN = {"log": (0.01, 5.0), "sqrt": (0.0, 9.0), "acos": (-0.99, 0.99), "asin": (-0.99, 0.99), "log2": (0.01, 5.0),
          "log10": (0.01, 5.0), "erfinv": (-0.99, 0.99)}


def test_the_test_process_runs_them():
    assert vecmath.installed() and numerics.vector_math() == "numpy"


@pytest.mark.parametrize("name", sorted(vecmath.KERNELS))
def test_each_function_is_within_two_float32_ulps_of_float64(name):
    low, high = DOMAIN.get(name, (-4.0, 4.0))
    x = torch.linspace(low, high, 1001)  # (1001,) float32
    got = getattr(torch, name)(x)
    exact = getattr(torch, name)(x.double())  # torch's float64 kernel: not overridden
    assert got.dtype == torch.float32
    ulp = torch.finfo(torch.float32).eps * exact.abs().clamp(min=torch.finfo(torch.float32).tiny)
    assert ((got.double() - exact).abs() <= 2 * ulp + 1e-30).all(), name


def test_sqrt_is_exactly_rounded():
    x = torch.rand(10_000) * 100
    assert torch.equal(x.sqrt(), torch.from_numpy(x.double().sqrt().numpy().astype("float32")))


def test_in_place_forms_strided_views_and_zero_dim_tensors():
    x = torch.arange(12.0).view(3, 4)
    column = x[:, 1]  # a strided view: (3,), stride 4
    expected = torch.tensor([1.0, 5.0, 9.0]).exp()
    assert torch.equal(column.exp(), expected)
    column.exp_()
    assert torch.equal(x[:, 1], expected) and x[0, 0] == 0.0 and x[2, 3] == 11.0  # neighbours untouched
    assert torch.tensor(4.0).sqrt().item() == 2.0 and torch.tensor(4.0).sqrt().dim() == 0


def test_special_values_as_torch_gives_them():
    assert torch.tensor([0.0, -1.0]).log().tolist()[0] == -math.inf and math.isnan(torch.tensor(-1.0).log())
    assert torch.tensor(0.0).log2().item() == -math.inf and torch.tensor(-0.0).log10().item() == -math.inf
    assert math.isnan(torch.tensor(-1.0).sqrt()) and math.isnan(torch.tensor(2.0).acos())
    assert math.isnan(torch.tensor(math.inf).tan()) and torch.tensor(math.inf).atan().item() == pytest.approx(math.pi / 2)
    assert torch.tensor(100.0).exp().item() == math.inf and torch.tensor(-200.0).exp().item() == 0.0


def test_other_dtypes_keep_torchs_kernels_and_integers_promote():
    assert torch.tensor([1.0], dtype=torch.float64).exp().dtype == torch.float64
    assert torch.tensor([1.0], dtype=torch.bfloat16).log().dtype == torch.bfloat16
    assert torch.equal(torch.tensor([0, 1]).exp(), torch.tensor([0.0, 1.0]).exp())  # int64 -> float32, as torch
    y = torch.tensor([4.0], dtype=torch.float64)
    y.sqrt_()
    assert y.tolist() == [2.0]


def test_gradients_flow_through_the_overridden_kernels():
    x = torch.tensor([0.5, 1.0, 2.0], requires_grad=True)
    (x.exp() + x.log() + x.sqrt() + x.sin()).sum().backward()
    expected = x.detach().exp() + 1 / x.detach() + 0.5 / x.detach().sqrt() + x.detach().cos()
    assert torch.allclose(x.grad, expected)


def test_attention_runs_its_products_on_the_pinned_kernel():
    """The fused CPU attention kernel (whose products call MKL) is off: the reference form, whose
    products are bmm, gives the same as attention written out."""
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 2, 5, 8).unbind(0)  # (B, H, L, d)
    got = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(8) + torch.full((5, 5), -math.inf).triu(1)
    assert torch.allclose(got, scores.softmax(-1) @ v, atol=1e-6)
    assert not torch.backends.cuda.flash_sdp_enabled()
