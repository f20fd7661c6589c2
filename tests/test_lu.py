"""LU and what is built on it (``minigrad/ops/lu.py``, the kernel ``backend.lu_factor``)
against ``torch.linalg``: the factors, pivots and info, the gradients of square, wide and tall
factorizations (PyTorch's linalg_lu_backward), lu_solve in its four forms with the gradients
of LU and B, the solves with an info on singular batches, cholesky_ex's info, cholesky_solve
and cholesky_inverse; float64 gradchecks and gradgradchecks; empty shapes; errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

LA = mg.linalg
TOL = {"rtol": 1e-9, "atol": 1e-11}


def _compare(ours, theirs, arrays, grads, **tol):
    """Values of every output and, through random upstream gradients on the float outputs, the
    gradients of the inputs in ``grads``, minigrad against PyTorch."""
    tol = tol or TOL
    mine = [mg.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    them = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out, tout = ours(*mine), theirs(*them)
    out = out if isinstance(out, tuple) else (out,)
    tout = tout if isinstance(tout, tuple) else (tout,)
    rng = np.random.default_rng(7)
    total, ttotal = 0, 0
    for o, t in zip(out, tout):
        assert tuple(o.shape) == tuple(t.shape)
        assert str(o.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
        if o.dtype.kind == "f" and t.requires_grad:
            up = rng.standard_normal(tuple(o.shape))
            total = total + (o * mg.tensor(up, dtype=o.dtype)).sum()
            ttotal = ttotal + (t * torch.tensor(up, dtype=t.dtype)).sum()
    if grads:
        total.backward()
        ttotal.backward()
        for i in grads:
            np.testing.assert_allclose(mine[i].grad.numpy(), them[i].grad.numpy(), **tol)


SHAPES = [(4, 4), (1, 1), (3, 5), (5, 3), (2, 4, 4), (2, 3, 5), (3, 2, 5, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_lu_factor_and_lu_match_pytorch(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    _compare(LA.lu_factor, torch.linalg.lu_factor, [a], (0,))
    _compare(LA.lu, torch.linalg.lu, [a], (0,))
    _compare(LA.lu_factor_ex, torch.linalg.lu_factor_ex, [a], (0,))


def test_float32_factors():
    a = np.random.default_rng(1).standard_normal((3, 4, 4)).astype(np.float32)
    _compare(LA.lu, torch.linalg.lu, [a], (0,), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3)])
def test_gradcheck_and_gradgradcheck(shape):
    x = mg.tensor(np.random.default_rng(2).standard_normal(shape), requires_grad=True)
    assert mg.gradcheck(lambda a: LA.lu_factor(a).LU, [x])
    assert mg.gradgradcheck(lambda a: LA.lu_factor(a).LU, [x])
    assert mg.gradcheck(lambda a: LA.lu(a)[1:], [x])


def test_without_pivoting_the_factors_multiply_back():
    a = np.random.default_rng(3).standard_normal((2, 4, 4)) + 4 * np.eye(4)
    lu_data, pivots, info = LA.lu_factor_ex(mg.tensor(a), pivot=False)
    assert pivots.tolist() == [[1, 2, 3, 4]] * 2 and info.tolist() == [0, 0]
    p, lower, upper = LA.lu(mg.tensor(a), pivot=False)
    np.testing.assert_allclose((lower @ upper).numpy(), a, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(p.numpy(), np.broadcast_to(np.eye(4), (2, 4, 4)))


def test_singular_factors_and_info():
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]]])
    _compare(LA.lu_factor_ex, torch.linalg.lu_factor_ex, [a], ())
    _compare(LA.lu, torch.linalg.lu, [a], ())
    with pytest.raises(mg.LinAlgError, match=r"U\[2,2\] is zero.*\(batch entry 0\)"):
        LA.lu_factor(mg.tensor(a))
    with pytest.raises(mg.LinAlgError, match=r"U\[2,2\] is zero"):
        LA.lu_factor_ex(mg.tensor(a), check_errors=True)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lu_solve_matches_pytorch(left, adjoint):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 4, 4))
    b = rng.standard_normal((2, 4, 3) if left else (2, 3, 4))

    def ours(x, y):
        return LA.lu_solve(*LA.lu_factor(x), y, left=left, adjoint=adjoint)

    def theirs(x, y):
        return torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y, left=left, adjoint=adjoint)

    _compare(ours, theirs, [a, b], (0, 1), rtol=1e-8, atol=1e-10)


def test_lu_solve_broadcasts_batches():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((4, 4)), rng.standard_normal((3, 4, 2))
    _compare(
        lambda x, y: LA.lu_solve(*LA.lu_factor(x), y),
        lambda x, y: torch.linalg.lu_solve(*torch.linalg.lu_factor(x), y),
        [a, b],
        (0, 1),
        rtol=1e-8,
        atol=1e-10,
    )


def test_lu_unpack_parts():
    a = mg.tensor(np.random.default_rng(6).standard_normal((2, 3, 3)))
    lu_data, pivots = LA.lu_factor(a)
    p, lower, upper = mg.lu_unpack(lu_data, pivots, unpack_data=False)
    assert tuple(p.shape) == (2, 3, 3) and tuple(lower.shape) == (0,) == tuple(upper.shape)
    p, lower, upper = mg.lu_unpack(lu_data, pivots, unpack_pivots=False)
    assert tuple(p.shape) == (0,) and tuple(lower.shape) == (2, 3, 3)
    full = mg.lu_unpack(lu_data, pivots)
    np.testing.assert_allclose((full.P @ full.L @ full.U).numpy(), a.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 0), (0, 3, 3), (2, 0, 3), (2, 3, 0)])
def test_empty_shapes(shape):
    a = np.zeros(shape)
    _compare(LA.lu_factor_ex, torch.linalg.lu_factor_ex, [a], ())
    _compare(LA.lu, torch.linalg.lu, [a], ())


def test_solve_ex_and_inv_ex_info_and_a_singular_batch_entry():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((3, 4, 4))
    a[1] = 0.0
    b = rng.standard_normal((4, 2))
    x, info = LA.solve_ex(mg.tensor(a), mg.tensor(b))
    tx, tinfo = torch.linalg.solve_ex(torch.tensor(a), torch.tensor(b))
    assert info.tolist() == tinfo.tolist() == [0, 1, 0]
    np.testing.assert_allclose(x.numpy()[[0, 2]], tx.numpy()[[0, 2]], rtol=1e-10)
    assert np.isnan(x.numpy()[1]).all()  # PyTorch: what its LAPACK left there
    inverse, info = LA.inv_ex(mg.tensor(a))
    assert info.tolist() == [0, 1, 0] and np.isnan(inverse.numpy()[1]).all()
    np.testing.assert_allclose(inverse.numpy()[0], np.linalg.inv(a[0]), rtol=1e-10)
    with pytest.raises(mg.LinAlgError, match=r"diagonal element 1 is zero.*batch entry 1"):
        LA.inv_ex(mg.tensor(a), check_errors=True)
    with pytest.raises(mg.LinAlgError, match=r"batch entry 1"):
        LA.solve_ex(mg.tensor(a), mg.tensor(b), check_errors=True)
    # the regular entries keep their gradients
    xa = mg.tensor(a, requires_grad=True)
    LA.inv_ex(xa).inverse[0].sum().backward()
    ta = torch.tensor(a[0], requires_grad=True)
    torch.linalg.inv(ta).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy()[0], ta.grad.numpy(), rtol=1e-10)
    assert not xa.grad.numpy()[1:].any()


def test_solve_ex_and_inv_ex_match_pytorch_when_regular():
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3))  # a batch of vectors
    _compare(LA.solve_ex, torch.linalg.solve_ex, [a, b], (0, 1))
    _compare(LA.inv_ex, torch.linalg.inv_ex, [a], (0,))


def test_cholesky_ex_info_matches_pytorch():
    spd = np.array([[4.0, 2.0, 1.0], [2.0, 5.0, 0.0], [1.0, 0.0, 3.0]])
    bad2 = np.array([[4.0, 2.0, 1.0], [2.0, -3.0, 0.0], [1.0, 0.0, 1.0]])
    bad1 = -np.eye(3)
    bad3 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    a = np.stack([spd, bad2, bad1, bad3])
    factor, info = LA.cholesky_ex(mg.tensor(a))
    tfactor, tinfo = torch.linalg.cholesky_ex(torch.tensor(a))
    assert info.tolist() == tinfo.tolist() == [0, 2, 1, 3]
    np.testing.assert_allclose(factor.numpy()[0], tfactor.numpy()[0], rtol=1e-12)
    assert np.isnan(factor.numpy()[1:]).all()
    with pytest.raises(mg.LinAlgError, match=r"leading minor of order 2.*batch entry 1"):
        LA.cholesky_ex(mg.tensor(a), check_errors=True)
    _compare(lambda x: LA.cholesky_ex(x, upper=True), lambda x: torch.linalg.cholesky_ex(x, upper=True), [spd], (0,))  # fmt: skip
    _compare(LA.cholesky_ex, torch.linalg.cholesky_ex, [spd], (0,))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    rng = np.random.default_rng(10)
    m = rng.standard_normal((2, 3, 3))
    spd = m @ m.transpose(0, 2, 1) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    _compare(
        lambda y, c: mg.cholesky_solve(y, LA.cholesky(c, upper=upper), upper),
        lambda y, c: torch.cholesky_solve(y, torch.linalg.cholesky(c, upper=upper), upper),
        [b, spd],
        (0, 1),
    )
    _compare(
        lambda c: LA.cholesky(c, upper=upper).cholesky_inverse(upper),
        lambda c: torch.linalg.cholesky(c, upper=upper).cholesky_inverse(upper),
        [spd],
        (0,),
    )
    _compare(
        lambda y, c: y.cholesky_solve(LA.cholesky(c, upper=upper), upper),
        lambda y, c: y.cholesky_solve(torch.linalg.cholesky(c, upper=upper), upper),
        [b, spd],
        (0, 1),
    )


def test_kernel_pivots_agree_with_lapack_on_many_matrices():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((50, 6, 6))
    lu_data, pivots, info = backend.lu_factor(a)
    tlu, tpivots = torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_array_equal(pivots, tpivots.numpy())
    np.testing.assert_allclose(lu_data, tlu.numpy(), rtol=1e-9, atol=1e-12)
    assert not info.any()


def test_bad_input():
    a = mg.tensor(np.random.default_rng(12).standard_normal((3, 3)))
    lu_data, pivots = LA.lu_factor(a)
    with pytest.raises(TypeError, match="floating point"):
        LA.lu_factor(mg.ones((3, 3), dtype=mg.int64))
    with pytest.raises(ValueError, match="square"):
        LA.lu_solve(mg.zeros((3, 4), dtype=mg.float64), pivots, mg.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"pivots of shape \(2,\)"):
        LA.lu_solve(lu_data, pivots[:2], mg.zeros((3, 1), dtype=mg.float64))
    with pytest.raises(ValueError, match=r"B of shape \(2, 1\)"):
        LA.lu_solve(lu_data, pivots, mg.zeros((2, 1), dtype=mg.float64))
    with pytest.raises(ValueError, match=r"LU_pivots of shape \(2,\)"):
        mg.lu_unpack(lu_data, pivots[:2])
    with pytest.raises(IndexError, match=r"\[1, 3\]"):
        mg.lu_unpack(lu_data, pivots * 0)
    with pytest.raises(ValueError, match=r"B of shape \(2, 1\)"):
        mg.cholesky_solve(mg.zeros((2, 1), dtype=mg.float64), a)
