"""Regression tests for review 10 of the semantics fixes, math breadth and linear algebra breadth.

Each test failed before its fix: a NumPy scalar or a range inside a list index, the gradients of
atan2 at the origin, logaddexp/logaddexp2 at inf, logit outside [0, 1], polygamma at its poles and
lgamma at 1, 2 and near 0. PyTorch is the oracle throughout.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _close(got: mg.Tensor, want: torch.Tensor) -> None:
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# A list index: PyTorch reads it as a tuple only when an item is a sequence, tensor, slice, None
# or Ellipsis; a NumPy scalar is none of these, a range is a sequence
# ---------------------------------------------------------------------------------------------

ROWS = np.arange(24.0).reshape(4, 6)


@pytest.mark.parametrize(
    "index",
    [
        [np.int64(1), 2],  # rows 1 and 2 (NumPy scalars do not make a tuple)
        [np.int32(3), np.int64(0)],
        [range(2)],  # x[range(2)], as a tuple of one sequence
        [(0, 1)],  # a tuple inside: also one sequence of rows
        [(0, 2), [1, 3]],
        [0, 2],
        [[0, 1], [1, 0]],
        [np.array([0, 1]), np.array([1, 0])],
    ],
    ids=["np-int64", "np-int32", "range", "tuple", "tuple-list", "ints", "nested", "arrays"],
)
def test_a_list_index_reads_as_pytorch_reads_it(index: list) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warning for the tuple reading
        want = torch.tensor(ROWS)[index]
        target = torch.tensor(ROWS)
        target[index] = -1.0
    _close(mg.tensor(ROWS)[index], want)
    got = mg.tensor(ROWS)
    got[index] = -1.0
    _close(got, target)


# ---------------------------------------------------------------------------------------------
# Gradients at edge values
# ---------------------------------------------------------------------------------------------


def _grads(name: str, a: list[float], b: list[float]) -> None:
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ma = mg.tensor(a, dtype=mg.float64, requires_grad=True)
    mb = mg.tensor(b, dtype=mg.float64, requires_grad=True)
    getattr(torch, name)(ta, tb).sum().backward()
    getattr(mg, name)(ma, mb).sum().backward()
    _close(ma.grad, ta.grad)
    _close(mb.grad, tb.grad)


def test_atan2_gradient_at_the_origin_is_zero_as_pytorch() -> None:
    # the angle of a zero vector: 0 * inf gave NaN, which poisons every gradient upstream
    _grads("atan2", [0.0, -0.0, 1e-300, 3.0, 0.0], [0.0, 0.0, 0.0, 4.0, -2.0])


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradient_at_inf_as_pytorch(name: str) -> None:
    inf = float("inf")
    _grads(name, [inf, 0.0, inf, -inf, 1e300, 2.0], [0.0, inf, inf, -inf, 0.0, 2.0])


def test_logit_gradient_outside_the_unit_interval_is_nan_as_pytorch() -> None:
    x = [-1.0, -0.5, 0.25, 0.5, 2.0, 1.5]
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    mx = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    torch.logit(tx).sum().backward()
    mg.logit(mx).sum().backward()
    _close(mx.grad, tx.grad)
    # the graph formula (double backward) agrees
    mx2 = mg.tensor(x, dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(mg.logit(mx2).sum(), [mx2], create_graph=True)
    _close(g, tx.grad)


# ---------------------------------------------------------------------------------------------
# lgamma and polygamma at poles, at 1 and 2 and near 0
# ---------------------------------------------------------------------------------------------

POLES = [0.0, -0.0, -2.0, -30.0, 5e-324, 1e-320, -1e-320, 1e-310, -2.5, 0.3, 1e300]


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_at_and_beside_its_poles_as_pytorch(n: int) -> None:
    x = np.array(POLES)
    got = mg.polygamma(n, mg.tensor(x)).numpy()
    want = torch.polygamma(n, torch.tensor(x)).numpy()
    # PyTorch's psi_1 at the negative integers is a finite 1e32 from its own rounding; the
    # pole's value (inf) is the limit from both sides there
    finite_pole = (x < 0) & (x == np.round(x)) & np.isfinite(want) & (n == 1)
    np.testing.assert_allclose(got[~finite_pole], want[~finite_pole], rtol=1e-10)
    assert np.all(got[finite_pole] == np.inf)


def test_digamma_gradient_at_zero_is_inf_not_nan() -> None:
    x = mg.tensor([0.0, 1e-310], dtype=mg.float64, requires_grad=True)
    mg.digamma(x).sum().backward()
    assert np.all(x.grad.numpy() == np.inf)


def test_lgamma_is_exactly_zero_at_one_and_two_and_exact_near_zero() -> None:
    x = np.array([1.0, 2.0, 5e-324, 1e-320, -1e-320, 1e-12, -3e-9])
    got = mg.lgamma(mg.tensor(x)).numpy()
    want = torch.lgamma(torch.tensor(x)).numpy()
    assert got[0] == 0.0 and got[1] == 0.0
    np.testing.assert_allclose(got, want, rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# vector_norm of an empty reduction: a negative order has no identity either
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [-1.0, -2.0, -0.5, float("-inf"), float("inf")])
def test_vector_norm_of_an_empty_dim_refuses_a_negative_order_as_pytorch(order: float) -> None:
    with pytest.raises(RuntimeError):
        torch.linalg.vector_norm(torch.zeros(0, 3), order, dim=0)
    with pytest.raises(ValueError, match=r"norm on an empty tensor of shape \(0, 3\)"):
        mg.vector_norm(mg.zeros(0, 3), order, dim=0)


@pytest.mark.parametrize("order", [0.0, 1.0, 2.0, 0.5])
def test_vector_norm_of_an_empty_dim_is_zero_for_a_positive_order(order: float) -> None:
    want = torch.linalg.vector_norm(torch.zeros(0, 3), order, dim=0)
    np.testing.assert_array_equal(mg.vector_norm(mg.zeros(0, 3), order, dim=0).numpy(), want)


# ---------------------------------------------------------------------------------------------
# random_ on an integer or bool tensor: a range its dtype cannot hold is refused, not wrapped
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "bounds", "what"),
    [
        ("int8", (0, 300), "to - 1"),
        ("int8", (-200, 0), "from"),
        ("uint8", (-1, 5), "from"),
        ("bool", (0, 3), "to - 1"),
    ],
)
def test_random_refuses_a_range_the_dtype_cannot_hold(dtype: str, bounds: tuple, what: str) -> None:
    with pytest.raises(RuntimeError, match="out of bounds"):
        torch.zeros(3, dtype=getattr(torch, dtype)).random_(*bounds)
    x = mg.zeros(3, dtype=getattr(mg, dtype))
    with pytest.raises(mg.ScalarOverflowError, match=f"{what} = .* out of bounds for {dtype}"):
        x.random_(*bounds)
    assert not x.numpy().any() and x._version == 0  # nothing written


@pytest.mark.parametrize(("dtype", "bounds"), [("int8", (127, 128)), ("bool", (0, 2))])
def test_random_takes_a_range_at_the_edge_of_the_dtype(dtype: str, bounds: tuple) -> None:
    x = mg.zeros(200, dtype=getattr(mg, dtype)).random_(*bounds)
    values = x.numpy().astype(np.int64)
    assert values.min() >= bounds[0] and values.max() <= bounds[1] - 1


def test_where_of_two_numbers_refuses_an_int_beyond_64_bits_as_pytorch() -> None:
    with pytest.raises(OverflowError):
        torch.where(torch.tensor([True]), 2**70, 1.0)
    with pytest.raises(mg.ScalarOverflowError, match="1180591620717411303424"):
        mg.where(mg.tensor([True]), 2**70, 1.0)
    got = mg.where(mg.tensor([True, False]), 2**63 - 1, 1.0)  # within 64 bits: as PyTorch
    want = torch.where(torch.tensor([True, False]), 2**63 - 1, 1.0)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")


@pytest.mark.parametrize(("shape", "dim"), [((0, 3), 0), ((0, 3), 1), ((2, 0), 1), ((0,), 0)])
def test_cumprod_of_an_empty_tensor_has_an_empty_gradient(shape: tuple, dim: int) -> None:
    x = mg.zeros(*shape, dtype=mg.float64, requires_grad=True)
    tx = torch.zeros(*shape, dtype=torch.float64, requires_grad=True)
    mg.cumprod(x, dim).sum().backward()  # argmax over the empty dim raised
    torch.cumprod(tx, dim).sum().backward()
    assert x.grad.shape == tuple(tx.grad.shape)


# ---------------------------------------------------------------------------------------------
# fmod of two bools is refused (NumPy gave int8); isin compares an out-of-range int exactly
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("other", [True, "tensor"])
def test_fmod_of_two_bools_is_refused_as_pytorch(other: object) -> None:
    a = mg.tensor([True, False])
    b = mg.tensor([True, True]) if other == "tensor" else other
    with pytest.raises(NotImplementedError, match="fmod is not implemented for two bool"):
        mg.fmod(a, b)
    with pytest.raises(NotImplementedError):
        torch.fmod(torch.tensor([True, False]), torch.tensor([True, True]))


@pytest.mark.parametrize(("dtype", "value"), [("uint8", -1), ("int8", 300), ("uint8", 256)])
def test_isin_with_an_int_outside_the_dtype_matches_nothing(dtype, value) -> None:
    # exact, as minigrad's comparisons (differences.md; PyTorch wraps 300 to 44 in int8 and
    # finds 44); NumPy raised a bare OverflowError naming no op
    values = [1, 0, 7, 44, 127, 255 if dtype == "uint8" else -1]
    got = mg.isin(mg.tensor(values, dtype=getattr(mg, dtype)), value)
    assert got.dtype == mg.bool and not got.numpy().any()
    inverted = mg.isin(mg.tensor(values, dtype=getattr(mg, dtype)), value, invert=True)
    assert inverted.numpy().all()


@pytest.mark.parametrize(
    ("xs", "gs"),
    [
        ([1.0, np.nan, 2.0], [1.0, 1.0, 1.0]),  # a NaN input: the whole row's gradient is NaN
        ([1.0, 2.0, np.nan], [1.0, 1.0, 1.0]),
        ([np.nan, 1.0, 2.0], [0.0, 0.0, 1.0]),
        ([1.0, 2.0, 3.0], [1.0, np.nan, 1.0]),  # a NaN gradient counts as 0, as PyTorch's
        ([-np.inf, 0.0, 1.0], [1.0, -2.0, 1.0]),
        ([-np.inf, -np.inf, 1.0], [1.0, 1.0, 1.0]),
        ([np.inf, 1.0, 2.0], [1.0, -1.0, 1.0]),
        ([1.0, 2.0, 3.0], [1.0, -2.0, 0.5]),
    ],
)
def test_logcumsumexp_gradient_with_nan_and_inf_as_torch(xs: list, gs: list) -> None:
    """A NaN input made only the positions from it on NaN: the gradient of every earlier one
    also sums terms exp(x_k - out_j) over the NaN outputs, so PyTorch's is NaN throughout."""
    x = mg.tensor(xs, dtype=mg.float64, requires_grad=True)
    mg.logcumsumexp(x, 0).backward(mg.tensor(gs, dtype=mg.float64))
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    torch.logcumsumexp(tx, 0).backward(torch.tensor(gs, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.array, tx.grad.numpy(), rtol=1e-12, equal_nan=True)


def test_float16_sinc_is_computed_in_float32_as_torch() -> None:
    """float16 sinc: pi x overflows float16 past |x| = 20850 (sinc gave NaN at 60000) and half
    precision put it 3e-4 off at integers; computed in float32 and rounded once, the values
    equal PyTorch's bit for bit and the gradient stays finite (the true cos(pi x)/x - ...)."""
    v = np.array([0, 0.5, 1, 2, 3, 100, 1000.5, 30000, 60000, -60000, 65504], dtype=np.float16)
    x = mg.tensor(v, requires_grad=True)
    y = mg.sinc(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.array, torch.sinc(torch.tensor(v)).numpy())
    assert y.dtype == mg.float16 and x.grad.dtype == mg.float16
    assert np.isfinite(x.grad.array.astype(np.float64)).all()
    exact = (
        np.cos(np.pi * v[1:].astype(np.float64)) / v[1:] - np.sinc(v[1:].astype(np.float64)) / v[1:]
    )
    np.testing.assert_allclose(x.grad.array[1:].astype(np.float64), exact, rtol=2e-3, atol=1e-7)
