"""LU and what is built on it, as ``torch.linalg``: ``lu_factor``, ``lu_factor_ex``, ``lu``,
``lu_solve``, ``solve_ex``, ``inv_ex``, ``cholesky_ex``; and PyTorch's top-level
``lu_unpack``, ``cholesky_solve``, ``cholesky_inverse``. Batched over leading dims.

A = P L U, with P a permutation, L (m, k) unit lower triangular, U (k, n) upper triangular,
k = min(m, n); ``lu_factor`` packs L below U's diagonal and keeps P as LAPACK's pivots (1-based
row swaps, int32). The factorization is the named kernel ``backend.lu_factor`` (NumPy has no
LU); its gradient is PyTorch's ``linalg_lu_backward`` (``FunctionsManual.cpp``), with
Phi = tril(L^T gL, -1) + triu(gU U^T):

- square: dA = P L^-T Phi U^-T;
- wide (m < n), U = [U1 | U2]: dA = P L^-T [(tril(L^T gL - triu(gU) U^T, -1) U1^-T + triu(gU1))
  | gU2];
- tall (m > n), L = [L1; L2]: dA = P [(L1^-T triu(gU U^T - L^T tril(gL, -1)) + tril(gL1, -1));
  gL2] U^-T.

``lu_unpack``, ``lu_solve`` and ``cholesky_solve`` / ``cholesky_inverse`` are composites of
differentiable ops (triangles, ``solve_triangular``, a row gather), so their gradients, with
respect to the factors and the right-hand side, come from those ops.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``return_types``, sibling
op modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.autograd import TensorBase, is_grad_enabled, wrap
from minigrad.errors import LinAlgError, ShapeError
from minigrad.ops.decompositions import (
    _Factor,
    _mT,
    cholesky,
    inv,
    require_matrices,
    solve,
)
from minigrad.ops.matrix_functions import solve_triangular
from minigrad.ops.shape import cat, tril, triu, where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

__all__ = [
    "cholesky_ex",
    "cholesky_inverse",
    "cholesky_solve",
    "inv_ex",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "lu_unpack",
    "solve_ex",
]


# -- the gradient, one formula for arrays and Tensors -----------------------------------------


class _ArrayOps:
    """What the formula needs, on backend arrays (the first-order backward)."""

    def __init__(self, like: Any) -> None:
        self.xp = backend.array_module(like)

    def tril(self, x: Any, k: int = 0) -> Any:
        return self.xp.tril(x, k)

    def triu(self, x: Any, k: int = 0) -> Any:
        return self.xp.triu(x, k)

    def cat(self, parts: list[Any], dim: int) -> Any:
        return self.xp.concatenate(parts, axis=dim)

    def solve(self, t: Any, b: Any, upper: bool, unit: bool = False) -> Any:
        return backend.solve_triangular(t, b, upper, unit)  # inf/NaN for a singular U


class _TensorOps:
    """The same on Tensors, with differentiable ops (``backward_graph``)."""

    @staticmethod
    def tril(x: Tensor, k: int = 0) -> Tensor:
        return tril(x, k)

    @staticmethod
    def triu(x: Tensor, k: int = 0) -> Tensor:
        return triu(x, k)

    @staticmethod
    def cat(parts: list[Tensor], dim: int) -> Tensor:
        return cat(parts, dim)

    @staticmethod
    def solve(t: Tensor, b: Tensor, upper: bool, unit: bool = False) -> Tensor:
        return solve_triangular(t, b, upper=upper, unitriangular=unit)


def _solve_right(ops: Any, b: Any, t: Any, upper: bool) -> Any:
    """X with X T = B: (T^T X^T = B^T)."""
    return _mT(ops.solve(_mT(t), _mT(b), not upper))


def _lu_grad(ops: Any, l: Any, u: Any, gl: Any, gu: Any) -> Any:  # noqa: E741 (L, as the math)
    """(P^T) dA from the cotangents of L (m, k) and U (k, n): PyTorch's linalg_lu_backward."""
    m, n = l.shape[-2], u.shape[-1]
    k = min(m, n)
    lt = _mT(l)
    if m == n:  # dA = L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T
        phi = ops.tril(lt @ gl, -1) + ops.triu(gu @ _mT(u))
        return ops.solve(lt, _solve_right(ops, phi, _mT(u), False), True, True)
    if m < n:  # wide: U = [U1 | U2]
        u1, gu1, gu2 = u[..., :k], gu[..., :k], gu[..., k:]
        phi = ops.tril(lt @ gl - ops.triu(gu) @ _mT(u), -1)
        inner = ops.cat([_solve_right(ops, phi, _mT(u1), False) + ops.triu(gu1), gu2], -1)
        return ops.solve(lt, inner, True, True)
    # tall: L = [L1; L2]
    l1, gl1, gl2 = l[..., :k, :], gl[..., :k, :], gl[..., k:, :]
    phi = ops.triu(gu @ _mT(u) - lt @ ops.tril(gl, -1))
    inner = ops.cat([ops.solve(_mT(l1), phi, True, True) + ops.tril(gl1, -1), gl2], -2)
    return _solve_right(ops, inner, _mT(u), False)


def _unpacked(ops: Any, lu_data: Any) -> tuple[Any, Any]:
    """L (..., m, k) with its unit diagonal and U (..., k, n) from the packed factors."""
    m, n = lu_data.shape[-2:]
    k = min(m, n)
    arr = lu_data.array if isinstance(lu_data, TensorBase) else lu_data
    eye = backend.array_module(arr).eye(m, k, dtype=arr.dtype)
    unit = wrap(eye) if isinstance(lu_data, TensorBase) else eye
    return ops.tril(lu_data, -1)[..., :, :k] + unit, ops.triu(lu_data)[..., :k, :]


class LUFactor(_Factor):
    """The packed factors of A's LU (``which`` 0); the pivots are a constant beside them."""

    @staticmethod
    def forward(ctx, a, factors=(), which=0, pivot=True):
        ctx.pivot = pivot  # backward_graph factors A again the same way
        return _Factor.forward(ctx, a, factors, which)

    @staticmethod
    def backward(ctx, g):
        _, lu_data, pivots = ctx.saved_tensors
        ops = _ArrayOps(g)
        l, u = _unpacked(ops, lu_data)  # noqa: E741
        k = min(g.shape[-2:])
        # the packed gradient holds gL below the diagonal and gU on and above it
        gl, gu = ops.tril(g, -1)[..., :, :k], ops.triu(g)[..., :k, :]
        # dA = P (P^T dA): row perm[i] of dA is row i of the formula's
        rows = _inverse_rows(backend.lu_permutation(pivots, g.shape[-2]))
        return (backend.array_module(g).take_along_axis(_lu_grad(ops, l, u, gl, gu), rows, -2),)

    @staticmethod
    def backward_graph(ctx, g):
        a = ctx.saved_tensors[0]
        lu_data, pivots = lu_factor_ex(a, pivot=ctx.pivot)[:2]
        ops = _TensorOps()
        l, u = _unpacked(ops, lu_data)  # noqa: E741
        k = min(g.shape[-2:])
        gl, gu = tril(g, -1)[..., :, :k], triu(g)[..., :k, :]
        rows = _inverse_rows(backend.lu_permutation(pivots.array, g.shape[-2]))
        return (_lu_grad(ops, l, u, gl, gu).take_along_dim(wrap(rows), -2),)


def _inverse_rows(perm: Any) -> Any:
    """The row index (..., m, 1) that puts row i of X at row perm[i]: X[argsort(perm)]."""
    return backend.array_module(perm).argsort(perm, axis=-1)[..., None]


# -- the factorization ------------------------------------------------------------------------


def lu_factor_ex(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    *,
    pivot: bool = True,
    check_errors: bool = False,
) -> return_types.linalg_lu_factor_ex:
    """A = P L U, packed: (..., m, n) -> LU (..., m, n), pivots (..., k) int32 (1-based row
    swaps, LAPACK's), info (...) int32 (0, or the 1-based index of the first zero on U's
    diagonal; with ``check_errors`` that raises). ``pivot=False`` factors without row swaps
    (only PyTorch's CUDA LU does)."""
    require_matrices("linalg.lu_factor_ex", A)
    lu_data, pivots, info = backend.lu_factor(A.array, pivot)
    if check_errors:
        _raise_for_info("linalg.lu_factor_ex", info, "U[{i},{i}] is zero")
    if A.requires_grad and is_grad_enabled():
        packed = LUFactor.apply(A, factors=(lu_data, pivots), which=0, pivot=pivot)
    else:
        packed = wrap(lu_data)
    return return_types.linalg_lu_factor_ex(packed, wrap(pivots), wrap(info))


def lu_factor(A: Tensor, *, pivot: bool = True) -> return_types.linalg_lu_factor:  # noqa: N803
    """``lu_factor_ex`` without ``info``: a zero on U's diagonal (a singular square A, which
    ``lu_solve`` would divide by) raises, naming it; ``lu`` and ``lu_factor_ex`` take it."""
    lu_data, pivots, info = lu_factor_ex(A, pivot=pivot)
    _raise_for_info(
        "linalg.lu_factor",
        info.array,
        "U[{i},{i}] is zero and using it on lu_solve would result in a division by zero; "
        "linalg.lu or linalg.lu_factor_ex factor it anyway",
    )
    return return_types.linalg_lu_factor(lu_data, pivots)


def _raise_for_info(op: str, info: Any, what: str) -> None:
    """A ``LinAlgError`` for the first nonzero ``info``, naming the batch entry and the step."""
    flat = backend.to_host(info).reshape(-1)
    bad = flat.nonzero()[0]
    if bad.size:
        index, i = int(bad[0]), int(flat[bad[0]])
        where = f" (batch entry {index})" if info.ndim else ""
        raise LinAlgError(f"{op}: {what.format(i=i)}{where}")


def lu_unpack(
    LU_data: Tensor,  # noqa: N803 (PyTorch's names)
    LU_pivots: Tensor,  # noqa: N803
    unpack_data: bool = True,
    unpack_pivots: bool = True,
) -> return_types.lu_unpack:
    """P (..., m, m), L (..., m, k), U (..., k, n) from ``lu_factor``'s packed factors and
    pivots, so that A = P L U; differentiable in ``LU_data``. A part not unpacked is an empty
    tensor, as PyTorch's."""
    require_matrices("lu_unpack", LU_data)
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise ShapeError(
            f"lu_unpack: LU_pivots of shape {tuple(LU_pivots.shape)} do not fit LU_data of shape "
            f"{tuple(LU_data.shape)}: expected {tuple(LU_data.shape[:-2]) + (k,)}"
        )
    if LU_pivots.dtype.kind not in "iu":
        raise TypeError(f"lu_unpack: LU_pivots must be integers, got {LU_pivots.dtype}")
    empty = wrap(backend.array_module(LU_data.array).zeros(0, dtype=LU_data.dtype))
    l, u = _unpacked(_TensorOps(), LU_data) if unpack_data else (empty, empty)  # noqa: E741
    p = _permutation_matrix(LU_pivots, m, LU_data) if unpack_pivots else empty
    return return_types.lu_unpack(p, l, u)


def _permutation_matrix(pivots: Tensor, m: int, like: Tensor) -> Tensor:
    """P (..., m, m) with A = P L U: the rows of A in the factors' order are P^T A, so P is
    the identity's rows taken in that order, transposed."""
    arr = like.array
    xp = backend.array_module(arr)
    _check_pivots("lu_unpack", pivots, m)
    perm = backend.lu_permutation(pivots.array, m)
    return wrap(_mT(xp.eye(m, dtype=arr.dtype)[perm]))


def _check_pivots(op: str, pivots: Tensor, m: int) -> None:
    values = backend.to_host(pivots.array)
    if values.size and (values.min() < 1 or values.max() > m):
        raise IndexError(
            f"{op}: pivots must be 1-based rows in [1, {m}], got values in "
            f"[{values.min()}, {values.max()}]"
        )


def lu(A: Tensor, *, pivot: bool = True) -> return_types.linalg_lu:  # noqa: N803
    """A = P L U: (..., m, n) -> P (..., m, m), L (..., m, k), U (..., k, n), k = min(m, n);
    differentiable in A (a singular A too: its L and U exist)."""
    lu_data, pivots = lu_factor_ex(A, pivot=pivot)[:2]
    p, l, u = lu_unpack(lu_data, pivots)  # noqa: E741
    return return_types.linalg_lu(p, l, u)


# -- solving with the factors -----------------------------------------------------------------


def lu_solve(
    LU: Tensor,  # noqa: N803 (PyTorch's name)
    pivots: Tensor,
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    adjoint: bool = False,
) -> Tensor:
    """X with A X = B (``left=False``: X A = B; ``adjoint``: A^T in place of A), from A's
    ``lu_factor``: LU (..., n, n), pivots (..., n), B (..., n, k) (``left=False``: (..., k, n)),
    batch dims broadcast. Differentiable in LU and B."""
    require_matrices("linalg.lu_solve", LU, square=True)
    n = LU.shape[-1]
    if tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise ShapeError(
            f"linalg.lu_solve: pivots of shape {tuple(pivots.shape)} do not fit LU of shape "
            f"{tuple(LU.shape)}: expected {tuple(LU.shape[:-1])}"
        )
    if not isinstance(B, TensorBase) or B.ndim < 2 or B.shape[-2 if left else -1] != n:
        shape = tuple(B.shape) if isinstance(B, TensorBase) else type(B).__name__
        raise ShapeError(
            f"linalg.lu_solve: B of shape {shape} does not fit LU of shape {tuple(LU.shape)} "
            f"({'(..., n, k)' if left else '(..., k, n)'} with n = {n})"
        )
    p, l, u = lu_unpack(LU, pivots)  # noqa: E741
    # X A = B is A^T X^T = B^T, and X A^T = B is A X^T = B^T: a left solve, transposed
    rhs = B if left else B.mT
    if left == adjoint:  # A^T X = B, or X A = B
        return _solve_lu_transposed(p, l, u, rhs, transpose=not left)
    return _solve_lu(p, l, u, rhs, transpose=not left)


def _solve_lu(p: Tensor, l: Tensor, u: Tensor, b: Tensor, transpose: bool) -> Tensor:  # noqa: E741
    """X = U^-1 L^-1 P^T B (A X = B); transposed at the end when ``transpose``."""
    y = solve_triangular(l, p.mT @ b, upper=False, unitriangular=True)
    x = solve_triangular(u, y, upper=True)
    return x.mT if transpose else x


def _solve_lu_transposed(p: Tensor, l: Tensor, u: Tensor, b: Tensor, transpose: bool) -> Tensor:  # noqa: E741
    """X = P L^-T U^-T B (A^T X = B); transposed at the end when ``transpose``."""
    y = solve_triangular(u.mT, b, upper=False)
    x = p @ solve_triangular(l.mT, y, upper=True, unitriangular=True)
    return x.mT if transpose else x


def solve_ex(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    B: Tensor,  # noqa: N803
    *,
    left: bool = True,
    check_errors: bool = False,
) -> return_types.linalg_solve_ex:
    """``linalg.solve`` with LAPACK's ``info`` beside the result: (result, info (...) int32),
    info the 1-based index of the first zero on the diagonal of A's U (0 for an invertible A).
    With ``check_errors`` a singular A raises; without, its result is NaN (PyTorch's is what
    its LAPACK left there, inf or NaN) and the other matrices of the batch are solved, with
    their gradients."""
    require_matrices("linalg.solve_ex", A, square=True)
    check = "the solve could not be completed: U[{i},{i}] is zero" if check_errors else None
    result, info = _with_info(
        "linalg.solve_ex", A, lambda a: solve(a, B, left=left), _lu_info, check
    )
    return return_types.linalg_solve_ex(result, info)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> return_types.linalg_inv_ex:  # noqa: N803
    """``linalg.inv`` with LAPACK's ``info``: (inverse, info (...) int32); a singular A as in
    ``solve_ex``."""
    require_matrices("linalg.inv_ex", A, square=True)
    check = "the diagonal element {i} is zero: the matrix is singular" if check_errors else None
    result, info = _with_info("linalg.inv_ex", A, inv, _lu_info, check)
    return return_types.linalg_inv_ex(result, info)


def _lu_info(a: Any) -> Any:
    return backend.lu_factor(a)[2]


def _with_info(op: str, A: Tensor, compute: Any, info_of: Any, check: str | None) -> tuple:  # noqa: N803
    """``compute(A)`` and LAPACK's ``info`` (...) int32. The op runs first: where it succeeds
    every info is 0, and nothing else is computed. Where LAPACK refuses some matrix, ``info_of``
    finds which; then ``check`` (the message of ``check_errors``) raises, or the others are
    computed and the refused ones are NaN (``_regular_only``)."""
    try:
        return compute(A), wrap(backend.array_module(A.array).zeros(A.shape[:-2], dtype="int32"))
    except LinAlgError as err:
        info = info_of(A.array)
        if not backend.to_host(info).any():  # LAPACK and the kernel disagree at a rounding
            raise err
    if check is not None:
        _raise_for_info(op, info, check)
    return _regular_only(A, info, compute), wrap(info)


def _regular_only(A: Tensor, info: Any, op: Any) -> Tensor:  # noqa: N803
    """``op(A)`` with each matrix of the batch whose ``info`` is not 0 replaced by the identity
    (so that the others keep their values and gradients), NaN in the result there."""
    xp = backend.array_module(A.array)
    failed = (info != 0)[..., None, None]  # (..., 1, 1), broadcasting with A's batch
    out = op(where(wrap(failed), wrap(xp.eye(A.shape[-1], dtype=A.dtype)), A))
    if out.ndim < A.ndim:  # a batch of vectors (solve's vector case)
        failed = failed[..., 0]
    return where(wrap(failed), wrap(xp.asarray(xp.nan, dtype=A.dtype)), out)


def cholesky_ex(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    *,
    upper: bool = False,
    check_errors: bool = False,
) -> return_types.linalg_cholesky_ex:
    """``linalg.cholesky`` with ``info``: (L, info (...) int32), info the order of the first
    leading minor that is not positive-definite (0 if none). Where it is not 0 (and
    ``check_errors`` is off) that matrix's factor is NaN: PyTorch leaves LAPACK's partial
    factor there, which no formula can use."""
    require_matrices("linalg.cholesky_ex", A, square=True)
    check = (
        "the input is not positive-definite (the leading minor of order {i} is not "
        "positive-definite)"
        if check_errors
        else None
    )
    factor, info = _with_info(
        "linalg.cholesky_ex", A, lambda a: cholesky(a, upper=upper), backend.cholesky_info, check
    )
    return return_types.linalg_cholesky_ex(factor, info)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """X with A X = B for A = L L^T (``upper``: A = U^T U) given its Cholesky factor: B
    (..., n, k), L (..., n, n), batch dims broadcast. Differentiable in B and L."""
    require_matrices("cholesky_solve", L, square=True)
    if not isinstance(B, TensorBase) or B.ndim < 2 or B.shape[-2] != L.shape[-1]:
        shape = tuple(B.shape) if isinstance(B, TensorBase) else type(B).__name__
        raise ShapeError(
            f"cholesky_solve: B of shape {shape} does not fit the factor of shape "
            f"{tuple(L.shape)} ((..., n, k) with n = {L.shape[-1]})"
        )
    lower = L.mT if upper else L  # A = lower lower^T
    y = solve_triangular(lower, B, upper=False)
    return solve_triangular(lower.mT, y, upper=True)


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:  # noqa: N803
    """A^-1 for A = L L^T (``upper``: A = U^T U) from its Cholesky factor (..., n, n)."""
    require_matrices("cholesky_inverse", L, square=True)
    eye = backend.array_module(L.array).eye(L.shape[-1], dtype=L.dtype)
    return cholesky_solve(wrap(eye), L, upper)
