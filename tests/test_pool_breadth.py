"""Max unpooling and power-average pooling (minigrad/ops/conv.py, nn/conv.py) against PyTorch:
max_unpool1d/2d/3d, lp_pool1d/2d/3d and their layers.

Forward and input gradient over a grid of kernels, strides, paddings and output sizes, float32
and float64, batched and unbatched; minigrad's max_pool -> max_unpool round trip against
PyTorch's (the same indices, the same output and gradient); float64 gradcheck; the errors bad
input gets, each naming the shapes. (tests/op_cases.py holds one registry case per op besides.)"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")
if torch is not None:
    import torch.nn.functional as tnf

TOL = {
    "float64": {"rtol": 1e-9, "atol": 1e-10},
    "float32": {"rtol": 2e-4, "atol": 2e-5},
}
UNPOOL = {1: "max_unpool1d", 2: "max_unpool2d", 3: "max_unpool3d"}
MAXPOOL = {1: "max_pool1d", 2: "max_pool2d", 3: "max_pool3d"}
LP = {1: "lp_pool1d", 2: "lp_pool2d", 3: "lp_pool3d"}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 6)}


def _distinct(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values with no ties, so that every window's maximum is one position."""
    rng = np.random.default_rng(seed)
    return rng.permutation(math.prod(shape)).reshape(shape) * 0.1 - 1.0


def _check_against_torch(y, ty, x, tx, dtype: str, seed: int = 1) -> None:
    """The same output, then the same gradient of x under the same random output gradient."""
    assert tuple(y.shape) == tuple(ty.shape) and str(y.dtype) == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL[dtype])
    seed_grad = np.random.default_rng(seed).standard_normal(tuple(ty.shape)).astype(dtype)
    (y * mg.tensor(seed_grad)).sum().backward()
    (ty * torch.tensor(seed_grad)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL[dtype])


# -- max_unpool -------------------------------------------------------------------------------

UNPOOL_GRID = [  # (kernel, stride, padding); stride < kernel: overlapping windows share maxima
    (2, None, 0),
    (3, 2, 1),
    (2, 1, 0),
    (3, 3, 1),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("options", UNPOOL_GRID, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_max_pool_unpool_round_trip_matches_torch(nd, options, dtype, batched):
    kernel, stride, padding = options
    shape = ((2,) if batched else ()) + (3,) + SPATIAL[nd]
    arr = _distinct(shape).astype(dtype)
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    pool = (kernel, stride, padding)
    y, idx = getattr(F, MAXPOOL[nd])(x, *pool, return_indices=True)
    ty, tidx = getattr(tnf, MAXPOOL[nd])(tx, *pool, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert str(idx.dtype) == "int64"
    # back to the input's size (the default formula may differ from it by less than a stride)
    u = getattr(F, UNPOOL[nd])(y, idx, *pool, output_size=SPATIAL[nd])
    tu = getattr(tnf, UNPOOL[nd])(ty, tidx, *pool, output_size=SPATIAL[nd])
    assert tuple(u.shape) == shape
    _check_against_torch(u, tu, x, tx, dtype)
    # the maxima are back where they were, zeros elsewhere
    kept = u.numpy() != 0
    np.testing.assert_array_equal(u.numpy()[kept], arr[kept])


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("options", UNPOOL_GRID, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_max_unpool_default_size_and_gradient_match_torch(nd, options, dtype):
    """Values of their own scattered to distinct random positions of each output plane, whose
    size is the default ``(L - 1) * stride + kernel - 2 * padding``."""
    kernel, stride, padding = options
    pooled = {1: (4,), 2: (3, 4), 3: (2, 3, 2)}[nd]
    out = [(n - 1) * (stride or kernel) + kernel - 2 * padding for n in pooled]
    rng = np.random.default_rng(3)
    count, plane = math.prod(pooled), math.prod(out)
    index = np.stack([rng.permutation(plane)[:count] for _ in range(4)]).reshape((2, 2) + pooled)
    arr = rng.standard_normal((2, 2) + pooled).astype(dtype)
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    u = getattr(F, UNPOOL[nd])(x, mg.tensor(index), kernel, stride, padding)
    tu = getattr(tnf, UNPOOL[nd])(tx, torch.tensor(index), kernel, stride, padding)
    assert tuple(u.shape[2:]) == tuple(out)
    _check_against_torch(u, tu, x, tx, dtype)


@pytest.mark.parametrize("output_size", [(7, 7), (5, 6), (1, 2, 7, 5)], ids=str)
def test_max_unpool_output_size_within_a_stride(output_size):
    """Any size strictly within a stride of the default (6, 6) here; PyTorch's N, C prefix."""
    arr = _distinct((1, 2, 3, 3))
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    idx = mg.tensor(np.array([[[[0, 3, 4], [13, 15, 17], [24, 26, 29]]] * 2]))
    u = F.max_unpool2d(x, idx, 2, output_size=output_size)
    tu = tnf.max_unpool2d(tx, torch.tensor(idx.numpy()), 2, output_size=output_size)
    _check_against_torch(u, tu, x, tx, "float64")


def test_max_unpool_gradcheck_float64():
    # stride 2: no index repeats (a repeated one keeps one value, yet gives each its
    # gradient, as PyTorch: not the derivative of the forward)
    _, idx = F.max_pool2d(mg.tensor(_distinct((2, 2, 6, 4))), 2, 2, return_indices=True)
    x = mg.tensor(np.random.default_rng(4).standard_normal(tuple(idx.shape)), requires_grad=True)
    assert mg.gradcheck(lambda a: F.max_unpool2d(a, idx, 2, 2), [x])
    # the gradient built as a graph (create_graph): w read at the indices, itself differentiable
    u = F.max_unpool2d(x, idx, 2, 2)
    w = mg.tensor(np.random.default_rng(5).standard_normal(tuple(u.shape)), requires_grad=True)
    (gx,) = mg.grad((u * w).sum(), [x], create_graph=True)
    n, c = idx.shape[:2]
    read = np.take_along_axis(w.numpy().reshape(n, c, -1), idx.numpy().reshape(n, c, -1), -1)
    np.testing.assert_array_equal(gx.numpy(), read.reshape(tuple(x.shape)))

    # and its derivative in the output gradient (backward_graph's Gather), checked numerically
    assert mg.gradgradcheck(lambda a: F.max_unpool2d(a, idx, 2, 2), [x])


def test_max_unpool_layers_match_torch():
    arr = _distinct((2, 3, 6, 5, 4))
    for nd in (1, 2, 3):
        layer, tlayer = getattr(nn, f"MaxUnpool{nd}d"), getattr(torch.nn, f"MaxUnpool{nd}d")
        shape = arr.shape[: 2 + nd]
        ty, tidx = getattr(tnf, MAXPOOL[nd])(
            torch.tensor(_distinct(shape)), 2, 1, return_indices=True
        )
        x, tx = mg.tensor(ty.numpy(), requires_grad=True), ty.clone().requires_grad_(True)
        m, tm = layer(2, stride=1), tlayer(2, stride=1)
        assert repr(m) == repr(tm)
        u = m(x, mg.tensor(tidx.numpy()), output_size=shape[2:])
        tu = tm(tx, tidx, output_size=shape[2:])
        _check_against_torch(u, tu, x, tx, "float64")


# -- lp_pool ----------------------------------------------------------------------------------

LP_GRID = [  # (kernel, stride, ceil_mode)
    (2, None, False),
    (3, 2, True),
    (2, 1, False),
    (3, 2, False),
]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5, math.inf, -math.inf], ids=str)
@pytest.mark.parametrize("options", LP_GRID, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lp_pool_matches_torch(nd, norm_type, options, dtype):
    kernel, stride, ceil_mode = options
    shape = (2, 3) + SPATIAL[nd]
    rng = np.random.default_rng(nd)
    arr = rng.uniform(0.2, 2.0, shape)  # positive: x ** 1.5 is real
    if norm_type in (1, 2, math.inf, -math.inf):  # real for any sign
        arr *= rng.choice([-1.0, 1.0], shape)
    arr = arr.astype(dtype)
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    y = getattr(F, LP[nd])(x, norm_type, kernel, stride, ceil_mode)
    ty = getattr(tnf, LP[nd])(tx, norm_type, kernel, stride, ceil_mode)
    _check_against_torch(y, ty, x, tx, dtype)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_lp_pool_unbatched_matches_batched(nd):
    arr = np.random.default_rng(6).uniform(0.2, 2.0, (3,) + SPATIAL[nd])
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    y = getattr(F, LP[nd])(x, 2, 2, 1)
    ty = getattr(tnf, LP[nd])(tx, 2, 2, 1)
    _check_against_torch(y, ty, x, tx, "float64")
    np.testing.assert_allclose(y.numpy(), getattr(F, LP[nd])(x.unsqueeze(0), 2, 2, 1)[0].numpy())


def test_lp_pool_zero_window_passes_no_gradient_as_torch():
    """A window whose p-th powers sum to 0: output 0, gradient 0 (not 0 * inf = NaN)."""
    arr = np.array([[[0.0, 0.0, 1.0, -2.0, 0.0, 0.0]]])
    x, tx = mg.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    _check_against_torch(F.lp_pool1d(x, 2, 2), tnf.lp_pool1d(tx, 2, 2), x, tx, "float64")
    assert np.isfinite(x.grad.numpy()).all() and x.grad.numpy()[0, 0, 0] == 0


def test_lp_pool_gradcheck_float64():
    arr = np.random.default_rng(7).uniform(0.3, 2.0, (2, 2, 5, 4))
    x = mg.tensor(arr, requires_grad=True)
    assert mg.gradcheck(lambda a: F.lp_pool2d(a, 1.5, (2, 3), (1, 2), True), [x])
    x3 = mg.tensor(arr[..., None].repeat(3, -1), requires_grad=True)
    assert mg.gradcheck(lambda a: F.lp_pool3d(a, 3, 2), [x3])
    assert mg.gradcheck(lambda a: F.lp_pool1d(a, 2, 3, 2), [mg.tensor(arr[0], requires_grad=True)])


def test_lp_pool_layers_match_torch():
    arr = np.random.default_rng(8).uniform(0.2, 2.0, (2, 3, 6, 5, 4))
    for nd, args in itertools.product((1, 2, 3), [(2, 3), (1.5, 2, 1, True)]):
        m, tm = getattr(nn, f"LPPool{nd}d")(*args), getattr(torch.nn, f"LPPool{nd}d")(*args)
        assert repr(m) == repr(tm)
        sub = arr[(slice(None),) * (2 + nd) + (0,) * (3 - nd)]
        x, tx = mg.tensor(sub, requires_grad=True), torch.tensor(sub, requires_grad=True)
        _check_against_torch(m(x), tm(tx), x, tx, "float64")


# -- errors -----------------------------------------------------------------------------------


def _pooled():
    x = mg.tensor(_distinct((1, 2, 4, 4)))
    return F.max_pool2d(x, 2, return_indices=True)


def test_max_unpool_refuses_mismatched_shapes():
    y, idx = _pooled()
    with pytest.raises(ValueError, match=r"indices of shape \(1, 1, 2, 2\).*\(1, 2, 2, 2\)"):
        F.max_unpool2d(y, idx[:, :1], 2)
    with pytest.raises(ValueError, match=r"3-D \(unbatched\) or 4-D.*\(2, 2\)"):
        F.max_unpool2d(y[0, 0], idx[0, 0], 2)
    with pytest.raises(ValueError, match=r"2-D \(unbatched\) or 3-D.*\(1, 2, 2, 2\)"):
        F.max_unpool1d(y, idx, 2)


def test_max_unpool_refuses_non_int64_indices():
    y, idx = _pooled()
    with pytest.raises(TypeError, match="int64 tensor, got int32"):
        F.max_unpool2d(y, idx.int(), 2)
    with pytest.raises(TypeError, match="int64 tensor, got ndarray"):
        F.max_unpool2d(y, idx.numpy(), 2)
    with pytest.raises(TypeError, match="floating point"):
        F.max_unpool2d(y.long(), idx, 2)


@pytest.mark.parametrize("shift", [100, -100])
def test_max_unpool_refuses_indices_outside_the_output_plane(shift):
    y, idx = _pooled()
    with pytest.raises(IndexError, match=r"output plane of size \(4, 4\).*shape \(1, 2, 2, 2\)"):
        F.max_unpool2d(y, idx + shift, 2)
    # a smaller output_size shrinks the plane: index 15 no longer fits in 3 x 3
    bad = mg.tensor(np.full((1, 2, 2, 2), 15))
    with pytest.raises(IndexError, match=r"\(3, 3\) \(\[0, 9\)\), got values in \[15, 15\]"):
        F.max_unpool2d(y, bad, 2, output_size=(3, 3))


def test_max_unpool_refuses_wrong_output_size():
    y, idx = _pooled()
    with pytest.raises(ValueError, match=r"\(9, 4\): dim 0 must be strictly between 2 and 6"):
        F.max_unpool2d(y, idx, 2, output_size=(9, 4))
    with pytest.raises(ValueError, match=r"2 or 4 ints, got \(1, 2, 3\)"):
        F.max_unpool2d(y, idx, 2, output_size=(1, 2, 3))
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        F.max_unpool2d(y, idx, (2, 2, 2))
    with pytest.raises(ValueError, match="negative size"):
        F.max_unpool1d(mg.zeros((1, 1, 1)), mg.zeros((1, 1, 1), dtype=mg.int64), 2, padding=2)


def test_max_unpool_errors_leave_the_graph_alone():
    """A refused call builds nothing: the input's gradient stays unset after a backward of
    something else."""
    y, idx = _pooled()
    y.requires_grad_(True)
    with pytest.raises(IndexError):
        F.max_unpool2d(y, idx + 100, 2)
    y.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones(tuple(y.shape)))


def test_lp_pool_refuses_bad_input():
    x = mg.tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="norm_type must be a nonzero number, got 0"):
        F.lp_pool1d(x, 0, 2)
    with pytest.raises(ValueError, match="norm_type must be a nonzero number, got '2'"):
        F.lp_pool1d(x, "2", 2)
    with pytest.raises(ValueError, match=r"3-D \(unbatched\) or 4-D.*\(3, 4\)"):
        F.lp_pool2d(mg.tensor(np.ones((2, 3, 4)))[0], 2, 2)
    with pytest.raises(ValueError, match=r"output would have size.*\(2, 3, 4\)"):
        F.lp_pool1d(x, 2, 5)
    with pytest.raises(TypeError, match="floating point"):
        F.lp_pool1d(x.long(), 2, 2)
