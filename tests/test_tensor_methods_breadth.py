"""The Tensor methods PyTorch has under other names or as small helpers (session 12):
predicates, aliases, in-place forms, ``unfold``, ``sum_to_size``, the old ``qr``/``svd``/
``cholesky``/``lu_solve`` spellings and the random fills, against torch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="torch is not installed"),
    pytest.mark.filterwarnings("ignore:torch.*is deprecated"),  # torch.qr, cholesky, lu_solve
]


def _pair(array, requires_grad=False):
    return mg.tensor(array, requires_grad=requires_grad), torch.tensor(
        array, requires_grad=requires_grad
    )


def _close(a, b, **tol):
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **(tol or {"rtol": 1e-12}))


@pytest.mark.parametrize(
    "array",
    [np.zeros(3), np.zeros(3, np.float32), np.zeros(3, np.int64), np.zeros(3, np.uint8),
     np.zeros(3, bool), np.zeros(3, np.int8)],
    ids=["float64", "float32", "int64", "uint8", "bool", "int8"],
)  # fmt: skip
def test_predicates(array):
    x, t = _pair(array)
    assert x.is_floating_point() == t.is_floating_point()
    assert x.is_signed() == t.is_signed()
    assert x.is_complex() is False
    assert x.is_cpu and not x.is_cuda and x.get_device() == t.get_device() == -1
    assert x.nelement() == t.nelement() and x.ndimension() == t.ndimension()
    assert x.is_same_size(mg.zeros(3)) and not x.is_same_size(mg.zeros(4))
    assert x.isreal().tolist() == t.isreal().tolist()


def test_is_nonzero_and_retains_grad():
    assert mg.tensor([2.0]).is_nonzero() and not mg.tensor(0).is_nonzero()
    for bad in (mg.zeros(2), mg.zeros(0)):
        with pytest.raises(RuntimeError, match="is_nonzero"):
            bad.is_nonzero()
    x = mg.ones(2, requires_grad=True)
    y = x * 2
    assert not x.retains_grad and not y.retains_grad
    y.retain_grad()
    assert y.retains_grad


@pytest.mark.parametrize(
    "name,args",
    [("absolute", ()), ("negative", ()), ("positive", ()), ("fix", ()), ("clamp_min", (0.1,)),
     ("clamp_max", (-0.2,)), ("multiply", (1.5,)), ("subtract", (0.5,)), ("divide", (3.0,))],
)  # fmt: skip
def test_aliases_match_and_differentiate(name, args):
    a = np.random.default_rng(0).standard_normal((3, 4)) * 2
    x, t = _pair(a, requires_grad=True)
    out, tout = getattr(x, name)(*args), getattr(t, name)(*args)
    _close(out, tout)
    up = np.random.default_rng(1).standard_normal(a.shape)
    (out * mg.tensor(up)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    _close(x.grad, t.grad)


def test_keyword_forms_and_in_place_aliases():
    a = np.random.default_rng(2).standard_normal((2, 3))
    x, t = _pair(a)
    _close(x.subtract(mg.tensor(a), alpha=2), t.subtract(torch.tensor(a), alpha=2))
    _close(x.divide(2.0, rounding_mode="floor"), t.divide(2.0, rounding_mode="floor"))
    for name, args in [("absolute_", ()), ("negative_", ()), ("fix_", ()), ("clamp_min_", (0.0,)),
                       ("clamp_max_", (0.5,)), ("multiply_", (2.0,)), ("subtract_", (1.0,)),
                       ("divide_", (4.0,))]:  # fmt: skip
        x, t = _pair(a.copy())
        assert getattr(x, name)(*args) is x
        getattr(t, name)(*args)
        _close(x, t)
    with pytest.raises(TypeError, match="bool"):
        mg.tensor([True]).positive()


def test_bitwise_methods():
    a, b = np.array([5, -3, 12, 0]), np.array([3, 1, 2, 7])
    (x, t), (y, u) = _pair(a), _pair(b)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift"):  # fmt: skip
        assert getattr(x, name)(y).tolist() == getattr(t, name)(u).tolist(), name
    assert x.bitwise_not().tolist() == t.bitwise_not().tolist()


def test_where_method_and_split_with_sizes():
    a = np.arange(6.0).reshape(2, 3)
    x, t = _pair(a, requires_grad=True)
    cond = a > 2
    out = x.where(mg.tensor(cond), 0.0)
    tout = t.where(torch.tensor(cond), 0.0)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(x.grad, t.grad)
    parts = x.split_with_sizes([1, 2], 1)
    assert [tuple(p.shape) for p in parts] == [
        tuple(p.shape) for p in t.split_with_sizes([1, 2], 1)
    ]


@pytest.mark.parametrize("name,args", [("tril_", (0,)), ("triu_", (1,)), ("round_", ()),
                                       ("cumsum_", (1,)), ("cumprod_", (0,))])  # fmt: skip
def test_in_place_forms(name, args):
    a = np.random.default_rng(3).standard_normal((3, 3)) * 3
    x, t = _pair(a.copy())
    version = x._version
    assert getattr(x, name)(*args) is x and x._version > version
    getattr(t, name)(*args)
    _close(x, t, rtol=1e-12, atol=1e-12)
    # through a graph: the gradient of the in-place result, as PyTorch's
    x0, t0 = _pair(a, requires_grad=True)
    y, u = x0 * 1, t0 * 1
    getattr(y, name)(*args)
    getattr(u, name)(*args)
    if name != "round_":  # round's gradient is 0 in both
        y.sum().backward()
        u.sum().backward()
        _close(x0.grad, t0.grad)


def test_in_place_comparisons():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    for name in ("eq_", "ne_", "lt_", "le_", "gt_", "ge_"):
        x, t = _pair(a.copy())
        getattr(x, name)(2.0)
        getattr(t, name)(2.0)
        _close(x, t)
        assert x.dtype == mg.float64
    x = mg.tensor([1, 5, 3])
    x.lt_(mg.tensor([2, 2, 2]))
    assert x.tolist() == [1, 0, 0] and x.dtype == mg.int64
    leaf = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        leaf.lt_(0.5)


@pytest.mark.parametrize(
    "shape,dim,size,step",
    [((7,), 0, 3, 2), ((7,), 0, 7, 1), ((4, 6), 1, 2, 2), ((4, 6), 0, 3, 1), ((2, 5, 3), -2, 4, 3),
     ((5,), 0, 0, 1), ((), 0, 1, 1)],
)  # fmt: skip
def test_unfold(shape, dim, size, step):
    a = np.random.default_rng(4).standard_normal(shape)
    x, t = _pair(a, requires_grad=True)
    out, tout = x.unfold(dim, size, step), t.unfold(dim, size, step)
    assert tuple(out.shape) == tuple(tout.shape)
    _close(out, tout)
    if out.numel():
        up = np.random.default_rng(5).standard_normal(tuple(out.shape))
        (out * mg.tensor(up)).sum().backward()
        (tout * torch.tensor(up)).sum().backward()
        _close(x.grad, t.grad)


def test_unfold_bad_arguments():
    with pytest.raises(ValueError, match=r"size 5 must be in \[0, 4\]"):
        mg.zeros(4).unfold(0, 5, 1)
    with pytest.raises(ValueError, match="step 0"):
        mg.zeros(4).unfold(0, 2, 0)


@pytest.mark.parametrize("size", [(1, 3), (3,), (2, 1), (1, 1), (2, 3)])
def test_sum_to_size(size):
    a = np.random.default_rng(6).standard_normal((2, 3))
    x, t = _pair(a, requires_grad=True)
    out, tout = x.sum_to_size(*size), t.sum_to_size(*size)
    _close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    _close(x.grad, t.grad)
    with pytest.raises(ValueError, match=r"size \(4,\) is not expandable"):
        x.sum_to_size(4)


def test_old_linear_algebra_spellings():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 5, 3))
    x, t = _pair(a)
    for some in (True, False):
        q, r = x.qr(some)
        tq, tr = t.qr(some)
        _close(q.abs(), tq.abs(), rtol=1e-10, atol=1e-12)  # signs are the LAPACK's
        u, s, v = x.svd(some)
        tu, ts, tv = t.svd(some)
        assert tuple(v.shape) == tuple(tv.shape) and tuple(u.shape) == tuple(tu.shape)
        _close(s, ts)
        k = s.shape[-1]
        rebuilt = (u[..., :k] * s.unsqueeze(-2)) @ v[..., :k].mT
        np.testing.assert_allclose(rebuilt.numpy(), a, rtol=1e-10, atol=1e-12)
    u, s, v = x.svd(compute_uv=False)
    tu, ts, tv = t.svd(compute_uv=False)
    assert tuple(u.shape) == tuple(tu.shape) and not u.numpy().any() and not v.numpy().any()
    spd = a[0].T @ a[0] + np.eye(3)
    _close(mg.tensor(spd).cholesky(), torch.tensor(spd).cholesky())
    b = rng.standard_normal((3, 2))
    lu_data, pivots = mg.linalg.lu_factor(mg.tensor(spd))
    tlu, tpiv = torch.linalg.lu_factor(torch.tensor(spd))
    _close(mg.tensor(b).lu_solve(lu_data, pivots), torch.tensor(b).lu_solve(tlu, tpiv), rtol=1e-10)


def test_random_fills():
    mg.manual_seed(0)
    x = mg.empty(20000, dtype=mg.float64)
    median = float(np.median(x.cauchy_(1.0, 2.0).numpy()))
    assert abs(median - 1.0) < 0.1
    logs = np.log(x.log_normal_(0.5, 0.25).numpy())
    assert abs(logs.mean() - 0.5) < 0.01 and abs(logs.std() - 0.25) < 0.01
    g = x.geometric_(0.25).numpy()
    assert g.min() >= 1 and np.all(g == np.round(g)) and abs(g.mean() - 4.0) < 0.1
    p = mg.full((20000,), 0.3, dtype=mg.float64)
    draws = p.bernoulli().numpy()
    assert set(np.unique(draws)) <= {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.02
    assert mg.zeros(5).bernoulli(1.0).tolist() == [1.0] * 5
    for bad in (lambda: x.log_normal_(0, 0), lambda: x.geometric_(1.0)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError, match="cauchy_"):
        mg.zeros(3, dtype=mg.int64).cauchy_()
