"""Functions of matrices built on the decompositions of ``ops/decompositions.py``, as
``torch.linalg``: cond, matrix_rank, matrix_power, matrix_exp, solve_triangular, lstsq,
tensorinv, tensorsolve, and PyTorch's top-level logdet, inverse, pinverse.

Each is a composition of differentiable ops (matmul, solve, solve_triangular's substitution,
inv, pinv, svdvals, the matrix norms of ``ops/linalg.py``), so each gets its first and
higher-order gradients from those: nothing here has a backward of its own.

Owns: these functions. May import: ``backend``, ``autograd``, ``errors``, ``return_types``,
sibling op modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.autograd import wrap
from minigrad.errors import ShapeError
from minigrad.ops._util import same_dtype
from minigrad.ops.decompositions import (
    inv,
    pinv,
    require_matrices,
    singular_cutoff,
    slogdet,
    solve,
    solve_matrices,
    svdvals,
)
from minigrad.ops.linalg import _require_tensors, is_matrix_ord, matrix_norm
from minigrad.ops.reductions import sum
from minigrad.ops.shape import matmul, tril, where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

__all__ = [
    "cond",
    "householder_product",
    "inverse",
    "logdet",
    "lstsq",
    "matrix_exp",
    "matrix_power",
    "matrix_rank",
    "ormqr",
    "pinverse",
    "solve_triangular",
    "tensorinv",
    "tensorsolve",
    "triangular_solve",
]


def cond(A: Tensor, p: float | str | None = None) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The condition number of (..., m, n) in the ``p`` norm: (...). ``None``/``2``: s_max / s_min
    (``-2``: s_min / s_max), from the singular values, for any m, n; the other matrix norms
    (``"fro"``, ``"nuc"``, +-1, +-inf): ``matrix_norm(A, p) * matrix_norm(inv(A), p)`` for square
    A (a singular A raises ``LinAlgError``, where PyTorch gives inf)."""
    require_matrices("linalg.cond", A)
    if p is not None and not is_matrix_ord(p):
        raise ValueError(
            f"linalg.cond: order {p!r} not supported; use None, 'fro', 'nuc', 1, -1, 2, -2, inf "
            "or -inf"
        )
    if A.shape[-1] == 0 or A.shape[-2] == 0:  # no singular value to divide by
        return _empty_cond(A, p)
    if p is None or (not isinstance(p, str) and p in (2, -2)):
        s = svdvals(A)
        largest, smallest = s.narrow(-1, 0, 1), s.narrow(-1, s.shape[-1] - 1, 1)
        with backend.quiet():  # a singular A: inf, as PyTorch
            ratio = largest / smallest if p is None or p == 2 else smallest / largest
        return ratio.squeeze(-1)
    require_matrices("linalg.cond", A, square=True)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def _empty_cond(A: Tensor, p: float | str | None) -> Tensor:  # noqa: N803
    """0 for each empty matrix, as PyTorch ("fro" and "nuc" still need square ones)."""
    if p in ("fro", "nuc"):
        require_matrices("linalg.cond", A, square=True)
    return wrap(backend.array_module(A.array).zeros(A.shape[:-2], dtype=A.dtype))


def matrix_rank(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    *,
    atol: float | None = None,
    rtol: float | None = None,
    hermitian: bool = False,
) -> Tensor:
    """The number of singular values of (..., m, n) above max(atol, rtol * s_max): int64 (...).
    ``rtol`` defaults to eps * max(m, n) when neither tolerance is given, 0 when only ``atol``
    is; ``hermitian`` is accepted (the SVD serves symmetric matrices too)."""
    require_matrices("linalg.matrix_rank", A)
    del hermitian
    return _rank(A, svdvals(A.detach()).array, atol, rtol)


def _rank(A: Tensor, s: Any, atol: Any, rtol: Any) -> Tensor:  # noqa: N803
    """How many of A's singular values ``s`` (an array, (..., k)) lie above the cutoff
    max(atol, rtol * s_max): int64 (...)."""
    cutoff = singular_cutoff(A, s, atol, rtol)
    return wrap((s > cutoff[..., None]).sum(axis=-1).astype(backend.int64))


def matrix_power(A: Tensor, n: int) -> Tensor:  # noqa: N803 (PyTorch's name)
    """A^n for square (..., m, m) and an int n, by repeated squaring: n = 0 gives the identity
    (no gradient reaches A, as PyTorch), n < 0 powers of inv(A)."""
    _require_tensors("linalg.matrix_power", A=A)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"linalg.matrix_power: A must be batches of square matrices, got shape {tuple(A.shape)}"
        )
    if n == 0:  # the identity, still in A's graph with a zero gradient, as PyTorch's
        xp = backend.array_module(A.array)
        eye = wrap(xp.broadcast_to(xp.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
        return where(wrap(xp.ones(A.shape, dtype=bool)), eye, A) if A.requires_grad else eye
    k, base, result = abs(n), (inv(A) if n < 0 else A), None
    while True:  # base holds A^(2^i) at the i-th bit of |n|
        if k & 1:
            result = base if result is None else matmul(result, base)
        k >>= 1
        if not k:
            return result
        base = matmul(base, base)


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """log(det(A)) of (..., n, n): NaN where det < 0, -inf where det = 0, as ``torch.logdet``.
    Gradient A^-T."""
    sign, logabsdet = slogdet(input)
    xp = backend.array_module(sign.array)
    nan = wrap(xp.full(sign.shape, math.nan, dtype=sign.dtype))
    # NaN where det < 0 (no gradient reaches A there), log|det| elsewhere, as torch.logdet
    return where(sign < 0, nan, logabsdet)


def inverse(input: Tensor) -> Tensor:  # noqa: A002
    """``torch.inverse``: ``linalg.inv``."""
    return inv(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """``torch.pinverse``: ``linalg.pinv`` with singular values at or below ``rcond * s_max``
    treated as zero."""
    return pinv(input, rtol=rcond)


def solve_triangular(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    B: Tensor,  # noqa: N803
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
) -> Tensor:
    """X with ``T X = B`` (``left=False``: ``X T = B``), T the upper (``upper=True``) or lower
    triangle of A, with 1s on its diagonal when ``unitriangular``: A (..., n, n), B (..., n, k)
    (``left=False``: (..., k, n)), batch dims broadcast. The other triangle of A is not read, so
    its gradient there is 0, as PyTorch's; a zero on T's diagonal gives inf/NaN, not an error,
    as PyTorch's (LAPACK's trtrs)."""
    require_matrices("linalg.solve_triangular", A, square=True)
    _require_tensors("linalg.solve_triangular", B=B)
    if B.ndim < 2:
        raise ShapeError(
            f"linalg.solve_triangular: B must be a batch of matrices, got shape {tuple(B.shape)} "
            f"(A of shape {tuple(A.shape)})"
        )
    return solve_matrices(
        "linalg.solve_triangular", A, B, left=left, triangle=(upper, unitriangular)
    )


def triangular_solve(
    b: Tensor,
    A: Tensor,  # noqa: N803
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
) -> Any:
    """``(solution, cloned_coefficient)``: X with T X = b (T^T X = b when ``transpose``), T the
    upper or lower triangle of A (1s on its diagonal when ``unitriangular``), and a copy of A:
    A (..., n, n), b (..., n, k), batch dims broadcast, as ``torch.triangular_solve``."""
    require_matrices("triangular_solve", A, square=True)
    coefficient = A.mT if transpose else A
    solution = solve_triangular(
        coefficient, b, upper=upper != transpose, unitriangular=unitriangular
    )
    return return_types.triangular_solve(solution, A.clone())


def householder_product(A: Tensor, tau: Tensor) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The first n columns of Q = H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T, where v_i is
    column i of A below its diagonal with a 1 on it (LAPACK's orgqr, as
    ``torch.linalg.householder_product``): A (..., m, n) with m >= n, tau (..., k) with
    k <= n -> (..., m, n). Built from differentiable ops (each reflector applied to the
    columns so far, right to left), so A and tau get gradients of every order."""
    _check_reflectors("linalg.householder_product", A, tau)
    m, n = A.shape[-2:]
    if m < n:
        raise ShapeError(
            f"linalg.householder_product: A of shape {tuple(A.shape)} needs at least as many "
            f"rows as columns ({m} < {n})"
        )
    eye = wrap(backend.array_module(A.array).eye(m, n, dtype=A.dtype))  # I's first n columns
    v = tril(A, -1) + eye  # column i: v_i, 1 on the diagonal, A below it
    q = eye.expand(*A.shape[:-2], m, n)
    if tau.shape[-1] == 0:  # no reflector: I's columns, in A's graph with a zero gradient
        return where(wrap(backend.array_module(A.array).ones(q.shape, dtype=bool)), q, A)
    for i in reversed(range(tau.shape[-1])):  # Q E = H_1 (H_2 (... (H_k E)))
        q = _reflect(q, v[..., i : i + 1], tau[..., i : i + 1], left=True)
    return q


def ormqr(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    tau: Tensor,
    other: Tensor,
    left: bool = True,
    transpose: bool = False,
) -> Tensor:
    """``other`` multiplied by Q = H_1 ... H_k of ``geqrf``'s Householder vectors (LAPACK's
    ormqr, as ``torch.ormqr``): Q C (``left``), C Q (``left=False``), with Q^T for
    ``transpose``. input (..., mn, k') holds v_i below its diagonal, tau (..., k), k <= k';
    other (..., m, n) with mn = m when ``left``, else n. Differentiable in all three."""
    _check_reflectors("ormqr", input, tau)
    _require_tensors("ormqr", other=other)
    same_dtype("ormqr", ("other", other), ("input", input))
    mn = input.shape[-2]
    if other.ndim < 2 or other.shape[-2 if left else -1] != mn:
        raise ShapeError(
            f"ormqr: other of shape {tuple(other.shape)} needs {mn} "
            f"{'rows' if left else 'columns'} (input of shape {tuple(input.shape)})"
        )
    k = tau.shape[-1]
    eye = wrap(backend.array_module(input.array).eye(mn, input.shape[-1], dtype=input.dtype))
    v = tril(input, -1) + eye
    # Q C = H_1 (... (H_k C)); Q^T C = H_k (... (H_1 C)); C Q = ((C H_1) ...) H_k
    forward = transpose if left else not transpose
    result = other
    for i in range(k) if forward else reversed(range(k)):
        result = _reflect(result, v[..., i : i + 1], tau[..., i : i + 1], left=left)
    return result


def _reflect(x: Tensor, v: Tensor, tau: Tensor, *, left: bool) -> Tensor:
    """H x = x - tau v (v^T x) (``left``), or x H = x - tau (x v) v^T: v (..., mn, 1), tau (..., 1)."""
    scale = tau.unsqueeze(-1)  # (..., 1, 1)
    if left:
        return x - scale * (v @ (v.mT @ x))
    return x - scale * ((x @ v) @ v.mT)


def _check_reflectors(op: str, A: Tensor, tau: Tensor) -> None:  # noqa: N803
    """A (..., m, n) of float matrices and tau (..., k), k <= n, of A's dtype and batch."""
    require_matrices(op, A)
    _require_tensors(op, tau=tau)
    same_dtype(op, ("tau", tau), ("input", A))
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise ShapeError(
            f"{op}: tau of shape {tuple(tau.shape)} must have the batch dims of the input "
            f"{tuple(A.shape[:-2])} and one more"
        )
    if tau.shape[-1] > A.shape[-1]:
        raise ShapeError(
            f"{op}: tau of shape {tuple(tau.shape)} has more scales than the input of shape "
            f"{tuple(A.shape)} has columns"
        )


# Higham's scaling and squaring with the [13/13] Pade approximant (SIAM J. Matrix Anal. Appl.
# 26(4), 2005): b_k, and theta_13, the largest 1-norm for which it is accurate to double's eps
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_THETA13 = 5.371920351148152


@backend.quietly  # inf and NaN entries give NaN without NumPy's warnings, as PyTorch
def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803 (PyTorch's name)
    """exp(A) = sum_k A^k / k! of square (..., n, n), by scaling and squaring: the [13/13]
    Pade approximant of exp(A / 2^s), squared s times, s from the largest 1-norm of the batch.
    Built of matmul and solve, so it differentiates (to any order) through them."""
    require_matrices("linalg.matrix_exp", A, square=True)
    if A.numel() == 0:
        return A * 1.0
    xp = backend.array_module(A.array)
    norms = xp.abs(A.array).sum(axis=-2).max(axis=-1)  # each matrix's 1-norm
    finite = norms[xp.isfinite(norms)]  # a matrix holding inf or NaN comes out NaN, as PyTorch
    norm1 = float(finite.max()) if finite.size else 0.0  # the largest finite 1-norm
    s = max(0, math.ceil(math.log2(norm1 / _THETA13))) if norm1 > 0 else 0
    a = A / 2.0**s if s else A
    b, eye = _PADE13, wrap(xp.eye(A.shape[-1], dtype=A.dtype))
    a2 = matmul(a, a)
    a4 = matmul(a2, a2)
    a6 = matmul(a4, a2)
    u = matmul(a, matmul(a6, a6 * b[13] + a4 * b[11] + a2 * b[9]) + a6 * b[7] + a4 * b[5]
               + a2 * b[3] + eye * b[1])  # fmt: skip
    v = matmul(a6, a6 * b[12] + a4 * b[10] + a2 * b[8]) + a6 * b[6] + a4 * b[4] + a2 * b[2]
    v = v + eye * b[0]
    x = solve(v - u, v + u)  # the [13/13] Pade approximant: (V - U)^-1 (V + U)
    for _ in range(s):
        x = matmul(x, x)
    return x


LSTSQ_DRIVERS = (None, "gelsy", "gelsd", "gelss", "gels")


def lstsq(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    B: Tensor,  # noqa: N803
    rcond: float | None = None,
    *,
    driver: str | None = None,
) -> return_types.linalg_lstsq:
    """The least-squares solution X of A X = B: A (..., m, n), B (..., m, k) or a batch of
    vectors (..., m); X (..., n, k) or (..., n), the minimum-norm one (pinv(A) B), singular
    values at or below ``rcond * s_max`` (default eps * max(m, n)) treated as zero. Returns
    ``(solution, residuals, rank, singular_values)`` as ``torch.linalg.lstsq`` on the CPU with
    ``driver`` (default "gelsy"): residuals, the squared column norms of A X - B, for "gelsd",
    "gelss" and "gels" when m > n and every A has full rank, else empty; rank for all but
    "gels"; the singular values for "gelsd" and "gelss". The solution and the residuals have
    gradients (through pinv)."""
    require_matrices("linalg.lstsq", A)
    _require_tensors("linalg.lstsq", B=B)
    if driver not in LSTSQ_DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be one of {LSTSQ_DRIVERS}, got {driver!r}")
    if B.ndim < A.ndim - 1 or B.ndim > A.ndim:
        raise ShapeError(
            f"linalg.lstsq: B must have A's number of dims or one fewer, got shapes "
            f"{tuple(A.shape)} and {tuple(B.shape)}"
        )
    same_dtype("linalg.lstsq", ("A", A), ("B", B))
    m, n = A.shape[-2:]
    rhs = B.unsqueeze(-1) if B.ndim == A.ndim - 1 else B
    if rhs.shape[-2] != m:
        raise ShapeError(
            f"linalg.lstsq: A and B need the same number of rows, got shapes {tuple(A.shape)} "
            f"and {tuple(B.shape)}"
        )
    rtol = backend.machine_eps(A.dtype) * max(m, n) if rcond is None or rcond < 0 else rcond
    x = matmul(pinv(A, rtol=rtol), rhs)
    s = svdvals(A.detach())
    rank = _rank(A, s.array, None, rtol)
    empty = wrap(backend.array_module(s.array).zeros((0,), dtype=A.dtype))
    full_rank = m > n and bool((rank.array == n).all())
    residuals = empty
    if driver in ("gelsd", "gelss", "gels") and full_rank:
        residuals = sum((matmul(A, x) - rhs) ** 2, -2)
    return return_types.linalg_lstsq(
        x.squeeze(-1) if rhs is not B else x,
        residuals,
        rank if driver != "gels" else empty.long(),
        s if driver in ("gelsd", "gelss") else empty,
    )


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The inverse of A read as a matrix with rows the product of its first ``ind`` dims:
    shape A.shape[ind:] + A.shape[:ind], ``tensordot(tensorinv(A), A, ind)`` the identity."""
    _require_tensors("linalg.tensorinv", A=A)
    require_matrices("linalg.tensorinv", A.reshape(-1, 1) if A.ndim < 2 else A)  # its dtype
    if isinstance(ind, bool) or not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ShapeError(
            f"linalg.tensorinv: the product of the first {ind} dims of shape {tuple(A.shape)} "
            f"({rows}) must equal the product of the rest ({cols})"
        )
    return inv(A.reshape(rows, cols)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    B: Tensor,  # noqa: N803
    dims: tuple[int, ...] | None = None,
) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) = B``: A's leading dims are B's shape, X's shape is the
    rest (after ``dims`` of A are moved last), their sizes' products equal."""
    _require_tensors("linalg.tensorsolve", A=A, B=B)
    if dims is not None:
        moved = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in moved], *moved)  # noqa: N806
    lead, rest = tuple(A.shape[: B.ndim]), tuple(A.shape[B.ndim :])
    if lead != tuple(B.shape) or math.prod(lead) != math.prod(rest):
        raise ShapeError(
            f"linalg.tensorsolve: A of shape {tuple(A.shape)} must start with B's shape "
            f"{tuple(B.shape)}, its remaining dims of as many elements"
        )
    n = math.prod(rest)
    return solve(A.reshape(n, n), B.reshape(n)).reshape(rest)
