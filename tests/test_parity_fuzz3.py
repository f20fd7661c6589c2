"""Regression tests for known PyTorch-parity gaps and for what a third differential hunt against
PyTorch found (``tests/parity_hunt.py``, run by hand, its ``index_*``, ``reduce_dtypes``,
``int_division``, ``comparisons``, ``clamps`` and ``sort_nans`` families): advanced indexing
and setitem, reductions' dtypes on integer and bool inputs, integer division signs, comparison
and logical dtypes, ``clamp`` with tensor bounds, ``where`` promotion, sort and topk, empty
tensors. Each test compares minigrad with PyTorch on the input that exposed the difference."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")
nan = float("nan")


def _same(ours, theirs, rtol: float = 1e-12, atol: float = 0.0) -> None:
    theirs = theirs.detach()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol, equal_nan=True)


def _both_refuse(ours, theirs, match: str) -> None:
    """PyTorch refuses ``theirs()``; minigrad refuses ``ours()`` with a message matching."""
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError, OverflowError)):
        theirs()
    with pytest.raises(mg.MinigradError, match=match):
        ours()


# =============================================================================================
# Part A: known gaps
# =============================================================================================


@pytest.mark.parametrize(
    ("values", "dtype"),
    [([-0.5], "uint8"), (-0.5, "uint8"), ([255.5], "uint8"), ([127.9], "int8"), ([nan], "int64")],
)
def test_a_float_outside_an_integer_dtype_is_refused_by_tensor(values, dtype) -> None:
    # PyTorch's checked conversion compares the float itself with [min, max]: -0.5 is below
    # uint8's 0 even though it truncates to 0
    _both_refuse(
        lambda: mg.tensor(values, dtype=getattr(mg, dtype)),
        lambda: torch.tensor(values, dtype=getattr(torch, dtype)),
        "out of bounds",
    )


@pytest.mark.parametrize(
    ("values", "dtype"), [([0.5, 255.0], "uint8"), ([-1], "uint8"), ([-3.7, 2.2], "int64")]
)
def test_a_floats_inside_an_integer_dtype_still_truncate(values, dtype) -> None:
    _same(
        mg.tensor(values, dtype=getattr(mg, dtype)),
        torch.tensor(values, dtype=getattr(torch, dtype)),
    )


def test_a_an_array_goes_into_an_integer_dtype_unchecked_as_pytorch() -> None:
    a = np.array([-0.5, -1.0, 3.9])
    _same(mg.tensor(a, dtype=mg.uint8), torch.tensor(a, dtype=torch.uint8))


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize(
    "call",
    [
        lambda x, v: x + v,
        lambda x, v: v - x,
        lambda x, v: x * v,
        lambda x, v: x / v,
        lambda x, v: x**v,
        lambda x, v: x % v,
        lambda x, v: x == v,
        lambda x, v: x < v,
        lambda x, v: x.add(x, alpha=v),
        lambda x, v: x.clamp(max=v),
    ],
)
def test_a_a_python_int_beyond_64_bits_is_refused_for_float_tensors(call, dtype) -> None:
    for big in (2**70, 2**64, -(2**63) - 1):
        _both_refuse(
            lambda: call(mg.ones(2, dtype=getattr(mg, dtype)), big),  # noqa: B023
            lambda: call(torch.ones(2, dtype=getattr(torch, dtype)), big),  # noqa: B023
            "too big|out of bounds",
        )


def test_a_a_python_int_beyond_64_bits_is_refused_by_where() -> None:
    _both_refuse(
        lambda: mg.where(mg.tensor([True, False]), mg.ones(2, dtype=mg.float16), 2**70),
        lambda: torch.where(torch.tensor([True, False]), torch.ones(2, dtype=torch.float16), 2**70),
        "too big",
    )


def test_a_64_bit_ints_and_big_floats_still_go_into_float_tensors() -> None:
    # 2**64 - 1 fits uint64; a float too large for float16 is inf there, as PyTorch
    for v in (2**63, 2**64 - 1, -(2**63), 1e5, 2.0**70):
        _same(mg.ones(2, dtype=mg.float16) + v, torch.ones(2, dtype=torch.float16) + v)
        _same(mg.ones(2) + v, torch.ones(2) + v)
        _same(v - mg.ones(2), v - torch.ones(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda x, v: x**v,
        lambda x, v: x.add(1.0, alpha=v),
        lambda x, v: x.sub(x, alpha=v),
    ],
)
def test_a_float16_refuses_an_exponent_or_alpha_it_cannot_hold(call) -> None:
    _both_refuse(
        lambda: call(mg.ones(2, dtype=mg.float16), 1e6),
        lambda: call(torch.ones(2, dtype=torch.float16), 1e6),
        "out of bounds",
    )
    _same(call(mg.ones(2, dtype=mg.float16), 2.0), call(torch.ones(2, dtype=torch.float16), 2.0))


def test_a_float32_refuses_an_alpha_it_cannot_hold() -> None:
    _both_refuse(
        lambda: mg.ones(2).add(1.0, alpha=1e300),
        lambda: torch.ones(2).add(1.0, alpha=1e300),
        "out of bounds",
    )


@pytest.mark.parametrize("alpha", [2, 0, 1, True, -3])
def test_a_bool_add_with_an_int_alpha_stays_bool(alpha) -> None:
    # PyTorch takes alpha into the bool result type: a + alpha * b is a or (bool(alpha) and b)
    a, b = [True, False, False], [True, True, False]
    _same(
        mg.tensor(a).add(mg.tensor(b), alpha=alpha),
        torch.tensor(a).add(torch.tensor(b), alpha=alpha),
    )


def test_a_bool_add_refuses_a_float_alpha() -> None:
    _both_refuse(
        lambda: mg.tensor([True]).add(mg.tensor([False]), alpha=1.5),
        lambda: torch.tensor([True]).add(torch.tensor([False]), alpha=1.5),
        "alpha must not be a floating point",
    )


@pytest.mark.parametrize("dim", [0, -1])
def test_a_roll_and_repeat_interleave_refuse_a_dim_of_a_0d_tensor(dim) -> None:
    x, t = mg.tensor(3.0), torch.tensor(3.0)
    _both_refuse(lambda: x.roll(1, dim), lambda: t.roll(1, dim), "no dimensions")
    _both_refuse(
        lambda: x.repeat_interleave(2, dim=dim),
        lambda: t.repeat_interleave(2, dim=dim),
        "no dimensions",
    )
    _both_refuse(
        lambda: x.repeat_interleave(mg.tensor([2]), dim=dim),
        lambda: t.repeat_interleave(torch.tensor([2]), dim=dim),
        "no dimensions",
    )
    # without a dim, a 0-d tensor is one element, as PyTorch
    _same(x.roll(1), t.roll(1))
    _same(x.repeat_interleave(2), t.repeat_interleave(2))


def test_a_mT_of_a_0d_tensor_is_the_tensor_and_of_a_1d_one_refused() -> None:  # noqa: N802
    x = mg.tensor(3.0, requires_grad=True)
    y = x.mT
    _same(y, torch.tensor(3.0).mT)
    y.backward()
    assert x.grad.item() == 1.0
    _both_refuse(lambda: mg.ones(2).mT, lambda: torch.ones(2).mT, "matrix")
    _same(mg.ones(2, 3).mT, torch.ones(2, 3).mT)


@pytest.mark.parametrize("reduction", ["sum", "none", "batchmean"])
def test_a_kl_div_gradient_with_respect_to_a_zero_target_is_nan(reduction) -> None:
    inp, tgt = np.log([[0.2, 0.3, 0.5]]), np.array([[0.0, 0.4, 0.6]])
    x, t = mg.tensor(inp, requires_grad=True), mg.tensor(tgt, requires_grad=True)
    tx, tt = torch.tensor(inp, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    out = F.kl_div(x, t, reduction=reduction)
    tout = torch.nn.functional.kl_div(tx, tt, reduction=reduction)
    _same(out, tout)
    g = mg.grad(out.sum(), [x, t], create_graph=True)
    tg = torch.autograd.grad(tout.sum(), [tx, tt], create_graph=True)
    for ours, theirs in zip(g, tg):
        _same(ours, theirs)
    assert np.isnan(g[1].numpy()[0, 0])
    # and the second derivative through the graph-building backward
    _same(mg.grad(g[1].sum(), t)[0], torch.autograd.grad(tg[1].sum(), tt)[0])


# =============================================================================================
# Part B: what tests/parity_hunt3.py found
# =============================================================================================


@pytest.mark.parametrize(
    ("values", "dim"),
    [
        ([[-2.0, 2.0], [-2.0, 0.0], [-1.0, nan]], None),  # NaN times 0 is NaN
        ([[-0.0, -3.0, 2.0], [nan, 4.0, nan]], 0),
        ([[float("inf"), 0.0], [1.0, 2.0]], 1),  # inf times 0 is NaN
        ([[-2.0, 0.0], [0.0, -0.0]], 1),  # signed zeros: the product's sign
    ],
)
def test_b_prod_with_a_zero_factor_is_the_ieee_product(values, dim) -> None:
    x, t = mg.tensor(values, dtype=mg.float64), torch.tensor(values, dtype=torch.float64)
    ours, theirs = (x.prod(), t.prod()) if dim is None else (x.prod(dim), t.prod(dim))
    _same(ours, theirs)
    assert np.array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


def test_b_prod_gradient_with_zeros_is_unchanged() -> None:
    values = [[1.0, 0.0, 3.0], [0.0, 0.0, 2.0], [2.0, 3.0, 4.0]]
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    x.prod(1).sum().backward()
    t.prod(1).sum().backward()
    _same(x.grad, t.grad)


@pytest.mark.parametrize("dtype", ["bool", "int8", "float64"])
def test_b_sort_and_topk_of_a_0d_tensor_keep_its_dtype(dtype) -> None:
    x, t = (
        mg.tensor(True, dtype=getattr(mg, dtype)),
        torch.tensor(True, dtype=getattr(torch, dtype)),
    )
    for ours, theirs in zip(x.sort(), t.sort()):
        _same(ours, theirs)
    if dtype != "bool":  # PyTorch's CPU topk refuses bool
        for ours, theirs in zip(x.topk(1), t.topk(1)):
            _same(ours, theirs)


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_b_sum_to_an_integer_dtype_of_a_tensor_that_requires_grad_is_refused(dtype) -> None:
    x, t = mg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    _both_refuse(
        lambda: x.sum(dtype=getattr(mg, dtype)),
        lambda: t.sum(dtype=getattr(torch, dtype)),
        "cannot carry a gradient",
    )
    with mg.no_grad(), torch.no_grad():  # no graph to keep: the sum is taken, as PyTorch
        _same(x.sum(dtype=getattr(mg, dtype)), t.sum(dtype=getattr(torch, dtype)))
    _same(x.detach().sum(dtype=getattr(mg, dtype)), t.detach().sum(dtype=getattr(torch, dtype)))
    _same(x.sum(dtype=mg.float64), t.sum(dtype=torch.float64))


@pytest.mark.parametrize(
    "key",
    [
        lambda lib: [[0, 1], [1, 0]],  # a list of lists: a tuple of two index lists
        lambda lib: [slice(None), 1],
        lambda lib: [None, 1],
        lambda lib: [Ellipsis, 1],
        lambda lib: [lib.tensor([0, 1]), lib.tensor([1, 2])],
        lambda lib: [0, 1],  # ints only: still one index list (rows 0 and 1)
        lambda lib: [True, False],
    ],
)
def test_b_a_list_index_holding_sequences_or_slices_is_a_tuple(key) -> None:
    x, t = mg.arange(6).reshape(2, 3), torch.arange(6).reshape(2, 3)
    _same(x[key(mg)], t[key(torch)])
    y, u = x.clone(), t.clone()
    y[key(mg)] = 9
    u[key(torch)] = 9
    _same(y, u)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_b_an_int8_or_int16_index_tensor_is_refused(dtype) -> None:
    with pytest.raises(IndexError, match="must be long, int, byte or bool"):
        torch.zeros(3)[torch.tensor([1], dtype=getattr(torch, dtype))]
    with pytest.raises(IndexError, match="must be int64, int32, uint8 or bool"):
        mg.zeros(3)[mg.tensor([1], dtype=getattr(mg, dtype))]
    _same(mg.zeros(3)[mg.tensor([1], dtype=mg.int32)], torch.zeros(3)[torch.tensor([1]).int()])
