"""Session 13: PyTorch's top-level names minigrad lacked, each against torch 2.13."""

from __future__ import annotations

import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

# the old spellings compared here are deprecated in PyTorch, which warns on each call
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")

FLOATS = [(mg.float16, torch.float16), (mg.float32, torch.float32), (mg.float64, torch.float64)]
INTS = [
    (mg.int8, torch.int8),
    (mg.uint8, torch.uint8),
    (mg.int16, torch.int16),
    (mg.int32, torch.int32),
    (mg.int64, torch.int64),
]


@pytest.mark.parametrize("ours,theirs", FLOATS)
def test_finfo_matches_pytorch(ours, theirs):
    a, b = mg.finfo(ours), torch.finfo(theirs)
    names = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    assert [getattr(a, n) for n in names] == [getattr(b, n) for n in names]
    assert repr(a) == repr(b)


def test_finfo_defaults_to_the_default_float():
    assert mg.finfo().dtype == torch.finfo().dtype == "float32"


@pytest.mark.parametrize("ours,theirs", INTS)
def test_iinfo_matches_pytorch(ours, theirs):
    a, b = mg.iinfo(ours), torch.iinfo(theirs)
    assert (a.bits, a.max, a.min, a.dtype) == (b.bits, b.max, b.min, b.dtype)
    assert repr(a) == repr(b)


def test_finfo_and_iinfo_refuse_the_other_kind():
    with pytest.raises(TypeError, match="iinfo"):
        mg.finfo(mg.int32)
    with pytest.raises(TypeError, match="finfo"):
        mg.iinfo(mg.float32)
    with pytest.raises(TypeError, match="bool"):
        mg.iinfo(mg.bool)


# -- linear algebra: householder_product / orgqr / ormqr / geqrf, vander, the old spellings ---

import itertools  # noqa: E402

import numpy as np  # noqa: E402


def _grads(out_t, out_m, inputs_t, inputs_m, rng):
    """Gradients of a random projection of each output, torch's and minigrad's."""
    g = rng.standard_normal(tuple(out_t.shape))
    gt = torch.autograd.grad(out_t, inputs_t, torch.tensor(g), allow_unused=True)
    gm = mg.grad(out_m, inputs_m, mg.tensor(g), allow_unused=True)
    return gt, gm


def _close(ours, theirs, tol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("m,n,k", [(5, 3, 3), (4, 4, 2), (6, 2, 1), (3, 3, 3), (4, 2, 0)])
def test_householder_product_and_its_gradients_match_pytorch(m, n, k):
    rng = np.random.default_rng(m * 100 + n * 10 + k)
    a, tau = rng.standard_normal((2, m, n)), rng.standard_normal((2, k))
    ta, tt = torch.tensor(a, requires_grad=True), torch.tensor(tau, requires_grad=True)
    ma, mt = mg.tensor(a, requires_grad=True), mg.tensor(tau, requires_grad=True)
    qt, qm = torch.linalg.householder_product(ta, tt), mg.linalg.householder_product(ma, mt)
    _close(qm, qt)
    assert mg.orgqr(ma, mt).shape == qm.shape == mg.Tensor.orgqr(ma, mt).shape
    gt, gm = _grads(qt, qm, (ta, tt), (ma, mt), rng)
    for ours, theirs in zip(gm, gt):
        if theirs is None:
            assert ours is None or not np.any(ours.numpy())
        else:
            _close(ours, theirs)


def test_householder_product_gradcheck_and_errors():
    rng = np.random.default_rng(0)
    a = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    tau = mg.tensor(rng.standard_normal(2), requires_grad=True)
    assert mg.gradcheck(mg.linalg.householder_product, (a, tau))
    assert mg.gradgradcheck(mg.linalg.householder_product, (a, tau))
    with pytest.raises(mg.ShapeError, match=r"\(3, 4\)"):
        mg.linalg.householder_product(mg.ones(3, 4), mg.ones(2))
    with pytest.raises(mg.ShapeError, match=r"tau of shape \(4,\)"):
        mg.linalg.householder_product(mg.ones(4, 3), mg.ones(4))
    with pytest.raises(mg.ShapeError, match=r"batch dims"):
        mg.linalg.householder_product(mg.ones(2, 4, 3), mg.ones(3, 2))
    with pytest.raises(TypeError, match="float64"):
        mg.linalg.householder_product(mg.ones(4, 3), mg.ones(2, dtype=mg.float64))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4), (0, 3), (3, 0)])
def test_geqrf_matches_pytorch_and_orgqr_rebuilds_the_matrix(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    ta, tau_t = torch.geqrf(torch.tensor(a))
    ma, tau_m = mg.geqrf(mg.tensor(a))
    _close(ma, ta)
    _close(tau_m, tau_t)
    assert not ma.requires_grad
    m, n = shape[-2:]
    if m >= n and n:
        q = mg.orgqr(ma, tau_m)
        np.testing.assert_allclose((q @ ma[..., :n, :].triu()).numpy(), a, atol=1e-12)


@pytest.mark.parametrize("left,transpose", list(itertools.product((True, False), repeat=2)))
def test_ormqr_and_its_gradients_match_pytorch(left, transpose):
    rng = np.random.default_rng(int(left) * 2 + int(transpose))
    a = rng.standard_normal((5, 3))
    c = rng.standard_normal((5, 4) if left else (4, 5))
    h, tau = torch.geqrf(torch.tensor(a))
    tensors_t = [torch.tensor(x.numpy(), requires_grad=True) for x in (h, tau)]
    tensors_t.append(torch.tensor(c, requires_grad=True))
    tensors_m = [mg.tensor(x.detach().numpy(), requires_grad=True) for x in tensors_t]
    out_t = torch.ormqr(*tensors_t, left=left, transpose=transpose)
    out_m = mg.ormqr(*tensors_m, left=left, transpose=transpose)
    _close(out_m, out_t)
    gt, gm = _grads(out_t, out_m, tensors_t, tensors_m, rng)
    for ours, theirs in zip(gm, gt):
        _close(ours, theirs)


@pytest.mark.parametrize("n", [None, 2, 5])
def test_linalg_vander_matches_pytorch_with_exact_gradients_at_zero(n):
    x = np.array([[0.0, 1.5, -2.0], [3.0, 0.5, 0.0]])
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    out_t, out_m = torch.linalg.vander(tx, N=n), mg.linalg.vander(mx, N=n)
    _close(out_m, out_t)
    gt, gm = _grads(out_t, out_m, (tx,), (mx,), np.random.default_rng(2))
    _close(gm[0], gt[0])
    ints = mg.linalg.vander(mg.tensor([1, 2, 3]))
    assert (
        ints.dtype == mg.int64
        and ints.tolist() == torch.linalg.vander(torch.tensor([1, 2, 3])).tolist()
    )
    with pytest.raises(ValueError, match="N must be greater than 1"):
        mg.linalg.vander(mg.ones(3), N=1)


@pytest.mark.parametrize("upper,transpose,unit", list(itertools.product((True, False), repeat=3)))
def test_triangular_solve_matches_pytorch(upper, transpose, unit):
    rng = np.random.default_rng(int(upper) * 4 + int(transpose) * 2 + int(unit))
    a, b = rng.standard_normal((2, 4, 4)) + 3 * np.eye(4), rng.standard_normal((4, 2))
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ma, mb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    out_t = torch.triangular_solve(tb, ta, upper, transpose, unit)
    out_m = mg.triangular_solve(mb, ma, upper, transpose, unit)
    _close(out_m.solution, out_t.solution)
    _close(out_m.cloned_coefficient, out_t.cloned_coefficient)
    assert out_m.cloned_coefficient.array is not ma.array
    gt, gm = _grads(out_t.solution, out_m.solution, (ta, tb), (ma, mb), rng)
    for ours, theirs in zip(gm, gt):
        _close(ours, theirs)
    same = mb.triangular_solve(ma, upper, transpose, unit).solution
    _close(same, out_t.solution)


def test_old_spellings_match_pytorch():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 3))
    ta, ma = torch.tensor(a), mg.tensor(a)
    for some in (True, False):
        u_t, s_t, v_t = torch.svd(ta, some=some)
        u_m, s_m, v_m = mg.svd(ma, some=some)
        _close(s_m, s_t)
        _close((u_m[:, :3] * s_m) @ v_m.mT, torch.tensor(a))  # the factors rebuild A
        assert tuple(v_m.shape) == tuple(v_t.shape) and tuple(u_m.shape) == tuple(u_t.shape)
        q_t, r_t = torch.qr(ta, some=some)
        q_m, r_m = mg.qr(ma, some=some)
        _close(q_m @ r_m, torch.tensor(a))
        assert tuple(q_m.shape) == tuple(q_t.shape) and tuple(r_m.shape) == tuple(r_t.shape)
    spd = a.T @ a + np.eye(3)
    for upper in (True, False):
        _close(mg.cholesky(mg.tensor(spd), upper), torch.cholesky(torch.tensor(spd), upper))
    square = rng.standard_normal((3, 3))
    _close(mg.matrix_exp(mg.tensor(square)), torch.matrix_exp(torch.tensor(square)))
    lu_t, piv_t = torch.lu(torch.tensor(square))
    lu_m, piv_m = mg.lu(mg.tensor(square))
    _close(lu_m, lu_t)
    assert piv_m.tolist() == piv_t.tolist()
    b = rng.standard_normal((3, 2))
    _close(mg.lu_solve(mg.tensor(b), lu_m, piv_m), torch.lu_solve(torch.tensor(b), lu_t, piv_t))
    *_, info = mg.lu(mg.zeros(2, 2), get_infos=True)
    assert info.tolist() == torch.lu(torch.zeros(2, 2), get_infos=True)[2].tolist()
    x, y, c = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal((4, 3))
    for beta, alpha in ((1, 1), (0.5, -2.0), (0, 3.0)):
        _close(
            mg.addr(mg.tensor(c), mg.tensor(x), mg.tensor(y), beta=beta, alpha=alpha),
            torch.addr(torch.tensor(c), torch.tensor(x), torch.tensor(y), beta=beta, alpha=alpha),
        )
    _close(mg.adjoint(ma), torch.adjoint(ta))
    batch = rng.standard_normal((2, 3, 4))
    _close(mg.nuclear_norm(mg.tensor(batch[0])), torch.nuclear_norm(torch.tensor(batch[0])))
    _close(
        mg.nuclear_norm(mg.tensor(batch), (1, 2), True),
        torch.nuclear_norm(torch.tensor(batch), (1, 2), True),
    )
    _close(
        mg.frobenius_norm(mg.tensor(batch), (0, 2)),
        torch.frobenius_norm(torch.tensor(batch), (0, 2)),
    )
