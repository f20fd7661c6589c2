"""PyTorch's semantics for scatter's reductions, clamp's tensor bounds and matmul's dtypes
(issue 16), checked against PyTorch over ties, zeros, NaN, integers, 0-d inputs and the bad
inputs; the registry (tests/op_cases.py) gradchecks the same ops."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")

REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]


def _both(values, dtype=np.float64, requires_grad=False):
    arr = np.asarray(values, dtype=dtype)
    return (
        mg.tensor(arr, requires_grad=requires_grad),
        torch.tensor(arr, requires_grad=requires_grad),
    )


def _same(ours, theirs, rtol: float | None = None) -> None:
    theirs = theirs.detach()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    if rtol is None:
        rtol = 1e-6 if ours.dtype in (mg.float32, mg.float16) else 1e-12
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=0, equal_nan=True)


# =============================================================================================
# scatter_reduce, scatter(reduce=)
# =============================================================================================


@pytest.mark.parametrize(
    "reduce, include_self, dim", list(itertools.product(REDUCTIONS, [True, False], [0, 1, -1]))
)
def test_scatter_reduce_matches_torch_with_ties(reduce, include_self, dim):
    rng = np.random.default_rng(hash((reduce, include_self, dim)) % 2**32)
    d = dim % 2
    index_shape = (2, 3) if d == 0 else (3, 2)
    index = rng.integers(0, 3 if d == 0 else 4, index_shape)
    # small integers as floats: ties between x and src, and among src, on purpose
    x, tx = _both(rng.integers(-2, 3, (3, 4)), requires_grad=True)
    src, tsrc = _both(rng.integers(-2, 3, index_shape), requires_grad=True)
    out = x.scatter_reduce(dim, mg.tensor(index), src, reduce, include_self=include_self)
    tout = tx.scatter_reduce(dim, torch.tensor(index), tsrc, reduce, include_self=include_self)
    _same(out, tout)
    seed = rng.standard_normal((3, 4))
    gx, gsrc = mg.grad(out, [x, src], mg.tensor(seed))
    tgx, tgsrc = torch.autograd.grad(tout, [tx, tsrc], torch.tensor(seed))
    _same(gx, tgx)
    if reduce in ("amax", "amin") and not include_self:
        # PyTorch counts x among the winners here although it does not take part, so its src
        # gradient loses x's share (differences.md); ours splits g among the winning src values
        total = np.zeros((3, 4))
        np.add.at(total, _positions(index, d), gsrc.numpy())
        hit = np.zeros((3, 4), dtype=bool)
        hit[_positions(index, d)] = True
        np.testing.assert_allclose(total[hit], seed[hit], rtol=1e-12)
    else:
        _same(gsrc, tgsrc)


def _positions(index: np.ndarray, dim: int) -> tuple:
    grids = list(np.indices(index.shape))
    grids[dim] = index
    return tuple(grids)


def test_scatter_reduce_amax_without_self_splits_ties_among_src_only():
    x = mg.tensor([5.0, 0.0], requires_grad=True)
    src = mg.tensor([5.0, 5.0, 1.0], requires_grad=True)
    out = x.scatter_reduce(0, mg.tensor([0, 0, 1]), src, "amax", include_self=False)
    assert out.tolist() == [5.0, 1.0]
    gx, gsrc = mg.grad(out.sum(), [x, src])
    assert gx.tolist() == [0.0, 0.0] and gsrc.tolist() == [0.5, 0.5, 1.0]


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_of_integers_matches_torch(reduce, include_self):
    x, tx = _both([[5, -3, 7], [2, 2, -9]], np.int64)
    src, tsrc = _both([[-4, 3, 1], [7, -7, 2]], np.int64)
    index, tindex = _both([[0, 0, 2], [1, 1, 1]], np.int64)
    _same(
        x.scatter_reduce(1, index, src, reduce, include_self=include_self),
        tx.scatter_reduce(1, tindex, tsrc, reduce, include_self=include_self),
    )


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_gradient_with_zeros_matches_torch(include_self):
    x, tx = _both([0.0, 2.0, 3.0, 0.0], requires_grad=True)
    src, tsrc = _both([0.0, 4.0, 0.0, 5.0, 6.0, 0.0], requires_grad=True)
    index, tindex = _both([0, 1, 1, 2, 3, 3], np.int64)
    out = x.scatter_reduce(0, index, src, "prod", include_self=include_self)
    tout = tx.scatter_reduce(0, tindex, tsrc, "prod", include_self=include_self)
    _same(out, tout)
    for ours, theirs in zip(
        mg.grad(out.sum(), [x, src]), torch.autograd.grad(tout.sum(), [tx, tsrc])
    ):
        _same(ours, theirs)


def _prod_first_derivative(src_values: list[float]):
    """d/dsrc of sum(ones(3).scatter_reduce(0, [0, 0, 1], src, "prod")) with create_graph=True,
    in minigrad and PyTorch, checked equal; returns (src, tsrc, g, tg)."""
    x, tx = _both([1.0, 1.0, 1.0], requires_grad=True)
    src, tsrc = _both(src_values, requires_grad=True)
    index, tindex = _both([0, 0, 1], np.int64)
    (g,) = mg.grad(x.scatter_reduce(0, index, src, "prod").sum(), src, create_graph=True)
    (tg,) = torch.autograd.grad(
        tx.scatter_reduce(0, tindex, tsrc, "prod").sum(), tsrc, create_graph=True
    )
    _same(g, tg)
    return src, tsrc, g, tg


def test_scatter_reduce_prod_second_derivative_refused_with_two_zeros_as_torch():
    """The first derivative with create_graph=True matches PyTorch; the second one, through a
    position where two src zeros meet, raises in both (no silently wrong answer)."""
    src, _, g, tg = _prod_first_derivative([0.0, 0.0, 2.0])
    with pytest.raises(RuntimeError, match="two or more zeros"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match=">1 zeros"):
        tg.sum().backward()
    assert src.grad is None  # refused before anything changed


def test_scatter_reduce_prod_second_derivative_with_one_zero_matches_torch():
    src, tsrc, g, tg = _prod_first_derivative([0.0, 3.0, 2.0])
    (g.sum()).backward()
    (tg.sum()).backward()
    _same(src.grad, tsrc.grad)


def test_scatter_reduce_of_0d_input_matches_torch():
    for reduce in REDUCTIONS:
        x, tx = _both(2.0)
        src, tsrc = _both([5.0, -3.0])
        index, tindex = _both([0, 0], np.int64)
        _same(x.scatter_reduce(0, index, src, reduce), tx.scatter_reduce(0, tindex, tsrc, reduce))


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_argument_matches_torch(reduce):
    rng = np.random.default_rng(1)
    x, tx = _both(rng.standard_normal((3, 4)))
    src, tsrc = _both(rng.standard_normal((2, 4)))
    index, tindex = _both(rng.integers(0, 3, (2, 4)), np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch: reduce= is deprecated there
        _same(x.scatter(0, index, src, reduce=reduce), tx.scatter(0, tindex, tsrc, reduce=reduce))
        _same(
            mg.scatter(x, 0, index, 1.5, reduce=reduce),
            torch.scatter(tx, 0, tindex, 1.5, reduce=reduce),
        )
        ours, theirs = x.clone(), tx.clone()
        ours.scatter_(1, index[:, :2], src, reduce=reduce)
        theirs.scatter_(1, tindex[:, :2], tsrc, reduce=reduce)
        _same(ours, theirs)
        ours.scatter_(0, index, value=2.0, reduce=reduce)
        theirs.scatter_(0, tindex, value=2.0, reduce=reduce)
        _same(ours, theirs)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.scatter_(2, lib.tensor([[0]]), 1.0),  # dim out of range
        lambda lib, x: x.scatter_(1, lib.tensor([[-1]]), 1.0),  # a negative index
        lambda lib, x: x.scatter_(1, lib.tensor([0, 1]), 1.0),  # index of another ndim
        lambda lib, x: x.scatter_(1, lib.tensor([[0]]), lib.tensor([[5.0]])),  # float32 src
        lambda lib, x: x.scatter_(1, lib.tensor([[0, 1]]), lib.tensor([[5.0]], dtype=lib.float64)),
    ],
)
def test_scatter_in_place_refuses_as_torch_before_writing(call):
    """scatter_ (no reduce) checks dim, index and src as scatter does, before anything changes
    (it wrote x[:, 0] for dim=2 of a 2-D x, wrapped a negative index, cast a float32 src)."""
    x, tx = _both(np.arange(12.0).reshape(3, 4))
    with pytest.raises((IndexError, RuntimeError)):
        call(torch, tx)
    with pytest.raises((IndexError, ValueError, TypeError)):
        call(mg, x)
    np.testing.assert_array_equal(x.numpy(), np.arange(12.0).reshape(3, 4))
    assert x._version == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.index_fill_(2, lib.tensor([0]), 1.0),  # dim out of range (wrapped)
        lambda lib, x: x.index_fill_(-3, lib.tensor([0]), 1.0),
        lambda lib, x: x.index_fill_(1, lib.tensor([[1]]), 1.0),  # a 2-D index
        lambda lib, x: x.index_fill_(0, lib.tensor([True, False, True]), 1.0),  # a mask
    ],
)
def test_index_fill_refuses_as_torch_before_writing(call):
    x, tx = _both(np.arange(12.0).reshape(3, 4))
    with pytest.raises((IndexError, RuntimeError)):
        call(torch, tx)
    with pytest.raises(IndexError):
        call(mg, x)
    np.testing.assert_array_equal(x.numpy(), np.arange(12.0).reshape(3, 4))
    assert x._version == 0


def test_index_fill_of_0d_matches_torch():
    for dim, index in ((0, 0), (-1, [0])):
        x, tx = _both(3.0)
        _same(
            x.index_fill_(dim, mg.tensor(index), 5.0), tx.index_fill_(dim, torch.tensor(index), 5.0)
        )


def test_scatter_in_place_of_0d_matches_torch():
    for index in (0, [0]):
        x, tx = _both(3.0)
        src, tsrc = _both([5.0] if index == [0] else 5.0)
        _same(x.scatter_(0, mg.tensor(index), src), tx.scatter_(0, torch.tensor(index), tsrc))


def test_scatter_add_and_reduce_in_place():
    x, tx = _both(np.zeros((2, 3)))
    src, tsrc = _both([[1.0, 2.0, 3.0]])
    index, tindex = _both([[1, 0, 1]], np.int64)
    _same(x.scatter_add_(0, index, src), tx.scatter_add_(0, tindex, tsrc))
    _same(
        x.scatter_reduce_(0, index, src, "amin", include_self=False),
        tx.scatter_reduce_(0, tindex, tsrc, "amin", include_self=False),
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda x, i, s: x.scatter_reduce(0, i, s, "max"),
            ValueError,
            r"scatter_reduce: reduce must be one of .*'amax'.*got 'max'",
        ),
        (
            lambda x, i, s: x.scatter(0, i, s, reduce="sum"),
            ValueError,
            r"'add' or 'multiply'.*'sum'",
        ),
        (
            lambda x, i, s: x.scatter_reduce(0, i, s.float(), "sum"),
            TypeError,
            r"src is float32.*float64",
        ),
        (
            lambda x, i, s: x.scatter_reduce(0, i, s.reshape(-1), "sum"),
            mg.ShapeError,
            r"index \(shape \(1, 2\)\).*src \(shape \(2,\)\)",
        ),
        (
            lambda x, i, s: x.scatter_reduce(0, i + 5, s, "prod"),
            IndexError,
            r"\[5, 6\].*size 2.*\(2, 3\)",
        ),
        (lambda x, i, s: x.scatter_reduce(0, i, 1.0, "sum"), TypeError, r"src must be a tensor"),
    ],
)
def test_scatter_reduce_bad_input(call, error, match):
    x = mg.zeros(2, 3, dtype=mg.float64, requires_grad=True)
    index = mg.tensor([[0, 1]])
    src = mg.ones(1, 2, dtype=mg.float64)
    with pytest.raises(error, match=match):
        call(x, index, src)
    assert x.tolist() == [[0.0] * 3] * 2 and x.grad is None


# =============================================================================================
# clamp with tensor bounds
# =============================================================================================

NAN = float("nan")
CLAMP_X = [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, -1.0, 1.0, 0.0, NAN, 4.0]
CLAMP_MIN = [0.0, 0.0, 1.0, 1.0, 2.5, 3.0, 0.0, 0.0, 0.0, 0.0, NAN]
CLAMP_MAX = [1.0, 0.0, 0.5, 0.5, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0, 5.0]


@pytest.mark.parametrize("bounds", ["both", "min", "max"])
def test_clamp_tensor_bounds_match_torch_at_ties_nan_and_min_above_max(bounds):
    x, tx = _both(CLAMP_X, requires_grad=True)
    lo, tlo = _both(CLAMP_MIN, requires_grad=True)
    hi, thi = _both(CLAMP_MAX, requires_grad=True)
    lo, tlo = (lo, tlo) if bounds != "max" else (None, None)
    hi, thi = (hi, thi) if bounds != "min" else (None, None)
    out, tout = mg.clamp(x, lo, hi), torch.clamp(tx, tlo, thi)
    _same(out, tout)
    inputs = [t for t in (x, lo, hi) if t is not None]
    tinputs = [t for t in (tx, tlo, thi) if t is not None]
    seed = np.arange(1.0, len(CLAMP_X) + 1)
    grads = mg.grad(out, inputs, mg.tensor(seed))
    for ours, theirs in zip(grads, torch.autograd.grad(tout, tinputs, torch.tensor(seed))):
        _same(ours, theirs)


@pytest.mark.parametrize("low, high", [(3.0, 2.0), (2.0, 3.0), (0.5, 0.5), (2.0, None)])
def test_clamp_scalar_bounds_match_torch(low, high):
    x, tx = _both([1.0, 2.0, 2.5, 3.0, 5.0], requires_grad=True)
    out, tout = x.clamp(low, high), tx.clamp(low, high)
    _same(out, tout)
    _same(mg.grad(out.sum(), [x])[0], torch.autograd.grad(tout.sum(), tx)[0])


@pytest.mark.parametrize(
    "x_shape, x_dtype, low_shape, low_dtype, high_shape",
    [
        ((2, 3), np.float32, (3,), np.float32, (2, 1)),
        ((3,), np.float32, (2, 1), np.float64, None),
        ((2, 3), np.float32, (), np.float64, ()),
        ((3,), np.int64, (3,), np.float32, None),
        ((3,), np.int64, (3,), np.int64, (1,)),
    ],
)
def test_clamp_tensor_bounds_broadcast_and_promote_as_torch(
    x_shape, x_dtype, low_shape, low_dtype, high_shape
):
    rng = np.random.default_rng(0)
    x, tx = _both(rng.integers(-3, 4, x_shape), x_dtype)
    lo, tlo = _both(rng.integers(-2, 1, low_shape), low_dtype)
    hi, thi = (None, None) if high_shape is None else _both(np.full(high_shape, 2), low_dtype)
    _same(mg.clamp(x, lo, hi), torch.clamp(tx, tlo, thi))
    _same(x.clip(lo, hi), tx.clip(tlo, thi))


def test_clamp_in_place_with_tensor_bounds():
    x, tx = _both([[-2.0, 0.5, 3.0], [1.0, -1.0, 0.0]])
    lo, tlo = _both([0.0, 1.0, -1.0])
    _same(
        x.clamp_(min=lo, max=mg.tensor(2.0, dtype=mg.float64)),
        tx.clamp_(tlo, torch.tensor(2.0, dtype=torch.float64)),
    )
    with pytest.raises(RuntimeError, match=r"\(2, 2, 3\).*\(2, 3\)"):
        x.clamp_(min=mg.zeros(2, 1, 3, dtype=mg.float64).expand(2, 2, 3))


# =============================================================================================
# matmul and friends refuse mixed dtypes, as PyTorch
# =============================================================================================


MATMULS = {
    "matmul": (lambda p, q: p @ q, (2, 3), (3, 4)),
    "mm": (lambda p, q: p.mm(q), (2, 3), (3, 4)),
    "bmm": (lambda p, q: p.bmm(q), (2, 2, 3), (2, 3, 4)),
    "vector": (lambda p, q: p.matmul(q), (3,), (3, 4)),
}


@pytest.mark.parametrize(
    "dtypes", [(np.int64, np.float32), (np.float32, np.float64), (np.float32, np.int64)]
)
@pytest.mark.parametrize("op", sorted(MATMULS))
def test_matmul_refuses_mixed_dtypes_as_torch(dtypes, op):
    fn, shape_a, shape_b = MATMULS[op]
    a, ta = _both(np.ones(shape_a), dtypes[0])
    b, tb = _both(np.ones(shape_b), dtypes[1])
    with pytest.raises(RuntimeError, match="dtype|scalar type"):
        fn(ta, tb)
    first, second = np.dtype(dtypes[0]).name, np.dtype(dtypes[1]).name
    expected = rf"{first} \(shape {re.escape(str(shape_a))}\).*{second} \(shape {re.escape(str(shape_b))}\)"
    with pytest.raises(TypeError, match=expected):
        fn(a, b)


def test_matmul_of_integers_matches_torch():
    a, ta = _both(np.arange(6).reshape(2, 3), np.int64)
    b, tb = _both(np.arange(6).reshape(3, 2), np.int64)
    _same(a @ b, ta @ tb)
    _same(a.mm(b), ta.mm(tb))
    _same(mg.bmm(a[None], b[None]), torch.bmm(ta[None], tb[None]))


def test_linear_refuses_mixed_dtypes_naming_shapes():
    x = mg.ones(4, 3)
    w = mg.ones(2, 3, dtype=mg.float64)
    with pytest.raises(
        TypeError, match=r"weight is float64 \(shape \(2, 3\)\).*float32 \(shape \(4, 3\)\)"
    ):
        F.linear(x, w)
    with pytest.raises(RuntimeError):
        torch.nn.functional.linear(torch.ones(4, 3), torch.ones(2, 3, dtype=torch.float64))


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: mg.mm(mg.ones(2, 3), mg.ones(3)),
            r"mm: both operands must be 2-D.*\(2, 3\) and \(3,\)",
        ),
        (lambda: mg.bmm(mg.ones(2, 3), mg.ones(2, 3, 4)), r"3-D.*\(2, 3\) and \(2, 3, 4\)"),
        (lambda: mg.bmm(mg.ones(2, 2, 3), mg.ones(3, 3, 4)), r"batch.*\(2, 2, 3\) and \(3, 3, 4\)"),
        (lambda: mg.mm(mg.ones(2, 3), mg.ones(4, 2)), r"\(2, 3\) and \(4, 2\)"),
    ],
)
def test_mm_bmm_bad_shapes(call, match):
    with pytest.raises(mg.ShapeError, match=match):
        call()


# =============================================================================================
# edge cases of the issue-16 ops, against PyTorch
# =============================================================================================


def test_sign_of_nan_is_zero_as_torch():
    a, ta = _both([float("nan"), -2.0, 0.0, -0.0, 3.0], np.float32)
    _same(mg.sign(a), torch.sign(ta))


def test_floor_divide_of_infinities_matches_torch():
    inf = float("inf")
    a, ta = _both([inf, -inf, 5.0, -5.0, 5.0, inf, 1.0, 0.0], np.float32)
    b, tb = _both([2.0, -2.0, inf, inf, -inf, 0.0, 0.0, 0.0], np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        _same(a // b, ta // tb)
        _same(a // 2.0, ta // 2.0)
        _same(mg.floor_divide(7.0, b), torch.floor_divide(torch.tensor(7.0), tb))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_div_with_floor_rounding_is_floor_divide_as_torch(dtype):
    """div(rounding_mode="floor") rounds as //: 1.0 // 0.1 is 9 (floor(1.0 / 0.1) is 10),
    -1 // inf is -1, inf // 2 is NaN; it computed floor(a / b)."""
    inf = float("inf")
    a, ta = _both([1.0, -1.0, 7.5, inf, 0.3, -2.0, 5.0], dtype)
    b, tb = _both([0.1, inf, 0.1, 2.0, 0.1, 0.0, -inf], dtype)
    i, ti = _both([1, -1, 7], np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning for a division by zero either
        _same(a.div(b, rounding_mode="floor"), ta.div(tb, rounding_mode="floor"))
        _same(mg.div(a, 0.1, rounding_mode="floor"), torch.div(ta, 0.1, rounding_mode="floor"))
        _same(i.div(0.1, rounding_mode="floor"), ti.div(0.1, rounding_mode="floor"))
        _same(a.div(b, rounding_mode="trunc"), ta.div(tb, rounding_mode="trunc"))
        _same(a.clone().div_(b, rounding_mode="floor"), ta.clone().div_(tb, rounding_mode="floor"))
    for mode in ("floor", "trunc"):  # integer division by zero raises, as PyTorch (NumPy: 0)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            ti.div(torch.tensor([1, 0, 2]), rounding_mode=mode)
        with pytest.raises(ZeroDivisionError, match=r"div: integer division by zero.*\(3,\)"):
            i.div(mg.tensor([1, 0, 2]), rounding_mode=mode)
        with pytest.raises(ZeroDivisionError):
            i.clone().div_(0, rounding_mode=mode)


def test_repeat_interleave_of_counts_alone_matches_torch():
    for counts in ([2, 0, 1], [], [3]):
        a, ta = _both(counts, np.int64)
        _same(mg.repeat_interleave(a), torch.repeat_interleave(ta))


@pytest.mark.parametrize("reduction", ["none", "mean", "batchmean", "sum"])
def test_kl_div_broadcasts_and_promotes_as_torch(reduction):
    x, tx = _both(np.full((2, 3), -1.2), np.float32)
    t, tt = _both([0.2, 0.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _same(F.kl_div(x, t, reduction), torch.nn.functional.kl_div(tx, tt, reduction=reduction))
        _same(F.kl_div(t, x, reduction), torch.nn.functional.kl_div(tt, tx, reduction=reduction))
    # an input that the target broadcasts: batchmean divides by the input's first dim (3 here,
    # not the broadcast 4), as PyTorch (the case above is NaN: a negative target)
    x, tx = _both(-np.arange(1.0, 7.0).reshape(3, 2) / 4, requires_grad=True)
    t, tt = _both(np.arange(1.0, 25.0).reshape(4, 3, 2) / 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch's note on "mean"
        theirs = torch.nn.functional.kl_div(tx, tt, reduction=reduction)
    ours = F.kl_div(x, t, reduction)
    _same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    _same(x.grad, tx.grad)


def test_bce_weights_take_the_input_dtype_and_a_float64_target_promotes_as_torch():
    x, tx = _both([[0.3, -1.0, 2.0]], np.float32)
    t, tt = _both([[1.0, 0.0, 0.5]], np.float32)
    w, tw = _both([0.5, 2.0, 1.0])  # float64
    tnf = torch.nn.functional
    for reduction in ["none", "mean"]:
        _same(
            F.binary_cross_entropy_with_logits(x, t, w, reduction, pos_weight=w),
            tnf.binary_cross_entropy_with_logits(tx, tt, tw, reduction=reduction, pos_weight=tw),
        )
        _same(
            F.binary_cross_entropy(x.sigmoid(), t, w, reduction),
            tnf.binary_cross_entropy(tx.sigmoid(), tt, tw, reduction=reduction),
        )
    t64, tt64 = _both([[1.0, 0.0, 0.5]])
    _same(  # computed from float32 logits
        F.binary_cross_entropy_with_logits(x, t64),
        tnf.binary_cross_entropy_with_logits(tx, tt64),
        rtol=1e-6,
    )


def test_normalize_inf_norm_splits_ties_as_torch():
    x, tx = _both([[3.0, -3.0, 1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    out, tout = F.normalize(x, float("inf")), torch.nn.functional.normalize(tx, float("inf"))
    _same(out, tout)
    _same(mg.grad(out.sum(), [x])[0], torch.autograd.grad(tout.sum(), tx)[0])


def test_nll_loss_weight_gradient_is_the_finite_difference():
    x = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    w = mg.tensor([0.5, 2.0, 1.5], dtype=mg.float64, requires_grad=True)
    target = mg.tensor([0, 2, -100, 2])
    for reduction in ["mean", "sum", "none"]:
        assert mg.gradcheck(lambda x, w, r=reduction: F.nll_loss(x, target, w, reduction=r), [x, w])


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_elu_gradient_keeps_its_digits_far_left_and_at_nan_as_torch(alpha):
    x, tx = _both([-30.0, -1.0, 0.0, 1e-8, 20.0, float("nan")], requires_grad=True)
    out, tout = F.elu(x, alpha), torch.nn.functional.elu(tx, alpha)
    _same(out, tout)
    _same(mg.grad(out.sum(), [x])[0], torch.autograd.grad(tout.sum(), tx)[0])


def test_clip_in_place_is_clamp_in_place():
    x, tx = _both([-2.0, 0.5, 3.0])
    _same(x.clip_(-1.0, mg.tensor(1.0, dtype=mg.float64)), tx.clip_(-1.0, 1.0))


def test_scatter_reduce_kernel_goes_through_the_host_where_ufunc_at_is_missing(monkeypatch):
    """CuPy's multiply.at raises NotImplementedError; the kernel then reduces on the host and
    writes the result back (simulated here: no GPU in the default suite)."""
    backend = mg.backend

    class NoAt:
        def __getattr__(self, name):
            def at(*args):
                raise NotImplementedError(f"`cupy_{name}.at` is not supported yet")

            return type("Ufunc", (), {"at": staticmethod(at)})

    class Shim:  # stands in for the cupy module: asarray copies back to the "device"
        asarray = staticmethod(np.asarray)

    monkeypatch.setattr(backend, "array_module", lambda arr: NoAt())
    monkeypatch.setattr(backend, "_load_cupy", lambda: Shim)
    target = np.array([1.0, 2.0, 3.0])
    backend.scatter_reduce_at(
        target, (np.array([0, 0, 2]),), np.array([4.0, 5.0, -1.0]), "multiply"
    )
    np.testing.assert_array_equal(target, [20.0, 2.0, -3.0])


def test_bool_floor_division_remainder_and_rounded_div_are_refused_as_torch():
    """NumPy gives int8 for these on two bools; PyTorch refuses them, and so does minigrad
    (tests/test_known_gaps.py has the rest of the family). scatter_reduce "mean" of bools is
    refused, as PyTorch."""
    t, u = mg.tensor([True, False, True]), mg.tensor([True, True, True])
    for call in (
        lambda: t // u,
        lambda: t % u,
        lambda: t.div(u, rounding_mode="floor"),
        lambda: t.div(u, rounding_mode="trunc"),
        lambda: t**u,
    ):
        with pytest.raises(NotImplementedError, match=r"two bool operands.*\(3,\)"):
            call()
    with pytest.raises(NotImplementedError):
        torch.tensor([True]).scatter_reduce(0, torch.tensor([0]), torch.tensor([True]), "mean")
    with pytest.raises(TypeError, match=r"'mean'.*bool.*\(3,\)"):
        t.scatter_reduce(0, mg.tensor([0, 0]), u[:2], "mean")
