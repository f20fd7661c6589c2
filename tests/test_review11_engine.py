"""Review r6 of issue h20's engine changes: each bug found, against PyTorch (``lib`` is either
module where both run the same code)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minigrad as mg
import nn.functional as mF  # noqa: N812

torch = pytest.importorskip("torch")
tF = torch.nn.functional  # noqa: N816

FUNCTIONALS = pytest.mark.parametrize("lib", [(mg, mF), (torch, tF)], ids=["minigrad", "torch"])


def _np(x: Any) -> np.ndarray:
    return np.array(x.detach().tolist())


@FUNCTIONALS
@pytest.mark.parametrize("alpha", [0.7, 1.0])
@pytest.mark.parametrize("view", [False, True])
def test_double_backward_through_in_place_elu_matches_torch(
    lib: Any, alpha: float, view: bool
) -> None:
    # elu_'s node saved its input; the in-place path counted that array as the node's output,
    # so backward_graph differentiated exp(a) through elu's result: d2/dx2 came out wrong
    lib, F = lib
    x = lib.tensor([1.0, -2.0, -0.5], dtype=lib.float64, requires_grad=True)
    y = x * 2
    F.elu(y[1:] if view else y, alpha=alpha, inplace=True)
    (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
    (gg,) = lib.autograd.grad(gx.sum(), [x])
    e = np.exp(np.array([-4.0, -1.0]))  # y = 2x below 0: elu = alpha (e - 1), elu' = alpha e
    # d/dx sum 2 elu elu' * 2 = 4 (elu'^2 + elu elu'') * 2, elu'' = elu' (per d/dy, * 2 per x)
    neg = 8 * (alpha**2 * e**2 + alpha * (e - 1) * alpha * e)
    np.testing.assert_allclose(_np(gx)[1:], 4 * alpha * (e - 1) * alpha * e, rtol=1e-12)
    np.testing.assert_allclose(_np(gg), [8.0, *neg], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 2**70])
@pytest.mark.parametrize("side", ["test_elements", "elements"])
def test_isin_of_a_float_tensor_refuses_an_int_past_64_bits_as_pytorch(
    dtype: str, value: int, side: str
) -> None:
    # only an integer tensor checked the Python int: a float tensor answered False (or True for
    # an element equal to float(2**64)) where PyTorch raises "int too big to convert"
    for lib in (mg, torch):
        t = lib.tensor([0.0, 1.0, float(value)], dtype=getattr(lib, dtype))
        with pytest.raises((OverflowError, RuntimeError)) as err:
            lib.isin(t, value) if side == "test_elements" else lib.isin(value, t)
        if lib is mg:
            assert str(value) in str(err.value) and dtype in str(err.value)


def test_isin_of_a_float_tensor_and_an_int_within_64_bits_matches_torch() -> None:
    for value in (2**63, 2**64 - 1, -(2**63), 3):
        got, want = (
            lib.isin(lib.tensor([3.0, float(2**63), -float(2**63)], dtype=lib.float64), value)
            for lib in (mg, torch)
        )
        assert got.tolist() == want.tolist(), value


_FILL_CASES = [
    ("float32", 1e300),
    ("float32", -1e300),
    ("float32", 2**64),
    ("float64", -(2**63) - 1),
    ("float16", 70000),
    ("float16", 2**63),
]


@pytest.mark.parametrize(("dtype", "value"), _FILL_CASES)
def test_masked_fill_of_a_float_tensor_refuses_a_number_past_its_range_as_pytorch(
    dtype: str, value: float
) -> None:
    # only a Python float into float16 was checked: 1e300 became inf in float32 and 2**64 was
    # stored as 1.8e19, where PyTorch (and differences.md's rule for masked_fill) refuse
    for lib in (mg, torch):
        t = lib.tensor([0.0, 1.0], dtype=getattr(lib, dtype))
        with pytest.raises((OverflowError, RuntimeError)) as err:
            t.masked_fill(lib.tensor([True, False]), value)
        if lib is mg:
            assert str(value) in str(err.value) and dtype in str(err.value)


@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("value", [1e300, -1e300])
@pytest.mark.parametrize("side", ["a", "b", "both numbers"])
def test_where_refuses_a_float_past_float32_as_pytorch(dtype: str, value: float, side: str) -> None:
    # a float32 result took 1e300 as inf, where PyTorch refuses it
    for lib in (mg, torch):
        t = lib.tensor([0, 1], dtype=getattr(lib, dtype))
        mask = lib.tensor([True, False])
        a, b = {"a": (value, t), "b": (t, value), "both numbers": (value, 0.5)}[side]
        with pytest.raises(RuntimeError, match="overflow"):
            lib.where(mask, a, b)


@pytest.mark.parametrize(
    ("dtype", "value"), [("float16", 1e300), ("float64", 1e300), ("float32", float("inf"))]
)
def test_where_and_masked_fill_keep_what_pytorch_takes(dtype: str, value: float) -> None:
    # float16's where gives inf in PyTorch; float64 holds 1e300; inf goes into any float
    mask_data = [True, False]
    got, want = (
        lib.where(lib.tensor(mask_data), lib.tensor([0.0, 1.0], dtype=getattr(lib, dtype)), value)
        for lib in (mg, torch)
    )
    assert got.tolist() == want.tolist() and str(got.dtype).endswith(dtype)
    if dtype != "float16":
        got, want = (
            lib.tensor([0.0, 1.0], dtype=getattr(lib, dtype)).masked_fill(
                lib.tensor(mask_data), value
            )
            for lib in (mg, torch)
        )
        assert got.tolist() == want.tolist()
