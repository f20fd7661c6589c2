"""Review of minigrad.linalg (session 11): regressions for the differences from PyTorch found by
fuzzing the decompositions and matrix functions against torch. Each test fails on the code
before its fix."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1111)


def _sign_free_loss(lib: Any, svd: Any, weights: tuple[Any, Any, Any]) -> Any:
    """sum(w_U U*U) + sum(w_Vh Vh*Vh) + sum(w_S S): blind to the singular vectors' signs."""
    wu, wvh, ws = (lib.tensor(w) for w in weights)
    return (svd.U * svd.U * wu).sum() + (svd.Vh * svd.Vh * wvh).sum() + (svd.S * ws).sum()


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (2, 5, 3), (2, 3, 5), (3, 1), (0, 3)])
def test_svd_full_matrices_of_a_non_square_matrix_differentiates_as_pytorch(shape: Any) -> None:
    """svd's default (full_matrices=True) of a non-square A that requires grad raised
    ValueError; PyTorch differentiates it, ignoring the complement's columns of U (rows of Vh).
    First and second derivatives against PyTorch's."""
    a = RNG.standard_normal(shape)
    ma, ta = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = mg.linalg.svd(ma), torch.linalg.svd(ta)
    assert ours.U.shape == tuple(theirs.U.shape) and ours.Vh.shape == tuple(theirs.Vh.shape)
    eye = np.eye(shape[-2])
    np.testing.assert_allclose(np.swapaxes(ours.U.detach().numpy(), -1, -2) @ ours.U.detach().numpy(),
                               np.broadcast_to(eye, ours.U.shape), atol=1e-12)  # fmt: skip
    weights = tuple(RNG.standard_normal(tuple(t.shape)) for t in (theirs.U, theirs.Vh, theirs.S))
    (g,) = mg.grad(_sign_free_loss(mg, ours, weights), [ma], create_graph=True)
    (expected,) = torch.autograd.grad(
        _sign_free_loss(torch, theirs, weights), [ta], create_graph=True
    )
    np.testing.assert_allclose(g.detach().numpy(), expected.detach().numpy(), atol=1e-9)
    if a.size:
        v = RNG.standard_normal(shape)
        (h,) = mg.grad((g * mg.tensor(v)).sum(), [ma])
        (expected_h,) = torch.autograd.grad((expected * torch.tensor(v)).sum(), [ta])
        np.testing.assert_allclose(h.numpy(), expected_h.numpy(), atol=1e-8)


def test_matrix_exp_of_inf_is_nan_as_pytorch_and_the_rest_of_the_batch_is_exact() -> None:
    """An inf entry raised OverflowError (log2 of an infinite norm); a NaN one scaled nothing,
    so the batch's large matrices lost accuracy. PyTorch: NaN for that matrix alone."""
    a = RNG.standard_normal((3, 3, 3)) * 10
    a[1, 0, 0], a[2, 1, 1] = np.inf, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mg.linalg.matrix_exp(mg.tensor(a)).numpy()
    expected = torch.linalg.matrix_exp(torch.tensor(a)).numpy()
    assert np.isnan(out[1:]).all() and np.isnan(expected[1:]).all()
    np.testing.assert_allclose(out[0], expected[0], rtol=1e-10)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3), (3, 0)])
@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, float("inf"), "fro", "nuc"])
def test_cond_of_empty_matrices_is_zero_as_pytorch(shape: Any, p: Any) -> None:
    """cond of an empty matrix raised (narrow past the end of no singular values); PyTorch
    gives 0 (and refuses "fro"/"nuc" of a non-square one)."""
    a = np.zeros(shape)
    if p in ("fro", "nuc") and shape[-1] != shape[-2]:
        with pytest.raises(mg.ShapeError, match=r"square.*\(\d, \d\)"):
            mg.linalg.cond(mg.tensor(a), p)
        return
    out, expected = mg.linalg.cond(mg.tensor(a), p), torch.linalg.cond(torch.tensor(a), p)
    assert out.shape == tuple(expected.shape) and out.dtype == mg.float64
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_logdet_of_a_negative_determinant_has_no_gradient_as_pytorch() -> None:
    """logdet was log|det| + log(sign): NaN where det < 0, as PyTorch, but its gradient was
    A^-T there; PyTorch's is 0 (where(sign == -1, nan, logabsdet))."""
    a = np.stack([np.diag([-1.0, 2.0]), np.diag([3.0, 2.0])])
    ma, ta = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, expected = mg.logdet(ma), torch.logdet(ta)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy())
    assert (ma.grad.numpy()[0] == 0).all()


def test_matrix_power_zero_stays_in_the_graph_with_a_zero_gradient() -> None:
    """matrix_power(A, 0) of an A that requires grad was a constant (backward raised); PyTorch's
    requires grad and gives A a zero gradient."""
    a = RNG.standard_normal((2, 3, 3))
    ma, ta = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, expected = mg.linalg.matrix_power(ma, 0), torch.linalg.matrix_power(ta, 0)
    assert out.requires_grad and expected.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(ma.grad.numpy(), ta.grad.numpy())
    with mg.no_grad():
        assert not mg.linalg.matrix_power(ma, 0).requires_grad


@pytest.mark.parametrize("uplo", ["l", "u"])
def test_eigh_takes_uplo_in_either_case_as_pytorch(uplo: str) -> None:
    """UPLO="u" raised ValueError; PyTorch reads it as "U"."""
    a = RNG.standard_normal((3, 3))
    ma, ta = mg.tensor(a), torch.tensor(a)
    np.testing.assert_allclose(
        mg.linalg.eigvalsh(ma, UPLO=uplo).numpy(), torch.linalg.eigvalsh(ta, UPLO=uplo).numpy()
    )
    np.testing.assert_allclose(
        mg.linalg.eigh(ma, uplo).eigenvalues.numpy(),
        torch.linalg.eigh(ta, uplo).eigenvalues.numpy(),
    )
    with pytest.raises(ValueError, match="UPLO"):
        mg.linalg.eigh(ma, "X")


def test_a_fresh_generator_starts_from_pytorchs_default_seed() -> None:
    """minigrad.Generator() started from a random seed; torch.Generator() starts from one fixed
    seed (67280421310721), so two fresh generators draw one stream."""
    assert mg.Generator().initial_seed() == torch.Generator().initial_seed()
    w = mg.tensor([0.2, 0.3, 0.5])
    first = mg.multinomial(w, 8, True, generator=mg.Generator()).tolist()
    assert first == mg.multinomial(w, 8, True, generator=mg.Generator()).tolist()


@pytest.mark.parametrize("ord_", [-1, -0.5, -2])
def test_vector_norm_of_a_negative_order_at_a_zero_entry_is_silent(ord_: float) -> None:
    """|0|^ord = inf under a negative ord made NumPy warn "divide by zero"; PyTorch answers 0
    silently. Values and gradients as PyTorch's."""
    a = np.array([[0.0, 1.0, -2.0], [3.0, -1.0, 0.5]])
    ma, ta = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mg.linalg.vector_norm(ma, ord_, dim=1)
        out.sum().backward()
    expected = torch.linalg.vector_norm(ta, ord_, dim=1)
    expected.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy())


@pytest.mark.parametrize("b_shape", [(3, 2), (3, 4), (3, 3), (3,)])
def test_solve_reads_b_as_vectors_only_when_1d_or_of_shape_a_shape_minus_one(b_shape: Any) -> None:
    """solve took B (3, 2) beside A (3, 3, 3) for a batch of vectors (its batch dims matched
    A's) and raised; PyTorch's rule is B.shape == A.shape[:-1], so B is a (3, 2) matrix
    broadcast over A's batch. Values and gradients of both operands."""
    a = RNG.standard_normal((3, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal(b_shape)
    (ma, ta), (mb, tb) = (
        (mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)) for x in (a, b)
    )
    out, expected = mg.linalg.solve(ma, mb), torch.linalg.solve(ta, tb)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-10)
    w = RNG.standard_normal(tuple(expected.shape))
    (out * mg.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_has_no_vector_case(left: bool) -> None:
    """solve_triangular went through solve's vector rule: B (3, 3) beside A (3, 3, 3) gave one
    vector per matrix, (3, 3), where PyTorch broadcasts the matrix B: (3, 3, 3); with
    left=False it raised. B (2, 3) beside A (2, 3, 3) answered (2, 3) where PyTorch refuses
    (left=False: X (2, 2, 3))."""
    a = RNG.standard_normal((3, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((3, 3))
    out = mg.linalg.solve_triangular(mg.tensor(a), mg.tensor(b), upper=True, left=left)
    expected = torch.linalg.solve_triangular(
        torch.tensor(a), torch.tensor(b), upper=True, left=left
    )
    assert out.shape == tuple(expected.shape) == (3, 3, 3)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)
    # B (2, 3) beside A (2, 3, 3): two rows of a matrix, not a batch of vectors
    b2 = RNG.standard_normal((2, 3))
    if left:  # A X = B needs 3 rows
        with pytest.raises(mg.ShapeError, match=r"solve_triangular.*\(2, 3, 3\).*\(2, 3\)"):
            mg.linalg.solve_triangular(mg.tensor(a[:2]), mg.tensor(b2), upper=True)
    else:  # X A = B: X (2, 2, 3), as PyTorch
        out = mg.linalg.solve_triangular(mg.tensor(a[:2]), mg.tensor(b2), upper=True, left=False)
        expected = torch.linalg.solve_triangular(
            torch.tensor(a[:2]), torch.tensor(b2), upper=True, left=False
        )
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_det_and_slogdet_of_non_finite_entries_are_silent(bad: float) -> None:
    """det, slogdet and logdet of a matrix holding NaN or inf made NumPy warn "invalid value
    encountered in det"; PyTorch answers silently. Values as PyTorch's (the sign aside)."""
    a = np.array([[[1.0, bad], [0.0, 1.0]], [[2.0, 1.0], [1.0, 3.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        det, (sign, logabsdet) = mg.linalg.det(mg.tensor(a)), mg.linalg.slogdet(mg.tensor(a))
        logdet = mg.logdet(mg.tensor(a))
    t = torch.tensor(a)
    np.testing.assert_allclose(det.numpy(), torch.linalg.det(t).numpy())
    np.testing.assert_allclose(logabsdet.numpy(), torch.linalg.slogdet(t).logabsdet.numpy())
    assert sign.shape == (2,)  # the sign of a NaN determinant is LAPACK's pick (PyTorch: 0)
    np.testing.assert_allclose(logdet.numpy(), torch.logdet(t).numpy())


def test_slogdet_gradient_at_a_singular_matrix_raises_minigrads_linalg_error() -> None:
    """The gradient of slogdet at a singular matrix raised NumPy's LinAlgError ("Singular
    matrix", naming nothing), which `except mg.LinAlgError` does not catch; now minigrad's,
    naming the op and the shape (PyTorch answers inf/NaN: differences.md)."""
    a = mg.tensor(np.ones((3, 3)), requires_grad=True)
    with pytest.raises(mg.LinAlgError, match=r"slogdet.*\(3, 3\)"):
        mg.linalg.slogdet(a).logabsdet.backward()
    assert a.grad is None
