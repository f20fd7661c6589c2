"""Matrix decompositions and the functions built on them, as ``torch.linalg``: svd, svdvals,
eigh, eigvalsh, det, slogdet, inv, solve, pinv, cholesky, qr, each batched over leading dims
((..., m, n) inputs), float32 and float64.

Each op has its own backward beside its forward; the arrays' decompositions come from named
kernels in ``backend`` (NumPy's or CuPy's LAPACK). The gradient formulas are PyTorch's
(``torch/csrc/autograd/FunctionsManual.cpp``), written with operators that arrays and Tensors
share (``@``, ``*``, ``/``, ``swapaxes``), so one formula serves the first-order backward on
arrays and, fed the factors of a differentiable decomposition of the input, the higher-order
``backward_graph`` on Tensors:

- svd, A = U diag(S) Vh (thin), k = min(m, n), E_ij = s_j^2 - s_i^2 (1 on the diagonal):
  dA = U [diag(gS) + (skew(U^T gU) S + S skew(V^T gV)) / E] Vh, plus (I - U U^T) gU S^-1 Vh
  when m > n and U S^-1 gV^T (I - V V^T) when m < n; skew(X) = X - X^T.
  Repeated singular values make E zero off the diagonal: the gradient of U and Vh is then
  inf/NaN, as PyTorch's (they are not unique); the gradient of S alone, U diag(gS) Vh, stays
  finite, which is what the nuclear and spectral norms use.
- eigh, A = V diag(L) V^T: dA = V [diag(gL) + (V^T gV - gV^T V) / (2 E)] V^T, E_ij = l_j - l_i.
- det: dA = g det(A) A^-T, computed as the cofactor matrix U diag(prod_(j != i) s_j) Vh
  det(U) det(V) so that a singular A (rank n - 1) still has its gradient.
- slogdet: d logabsdet = g A^-T (the sign has no gradient).
- inv, X = A^-1: dA = -X^T g X^T.
- solve, X = A^-1 B: dB = A^-T g, dA = -dB X^T.
- solve_triangular, X = T^-1 B with T a triangle of A: dB = T^-T g, dA = -dB X^T on T's
  triangle only (its strict triangle when T's diagonal is taken as 1s).
- pinv, X = A^+: dA = -X^T g X^T + (I - A X) g^T X X^T + X^T X g^T (I - X A).
- cholesky, A = L L^T: dA = L^-T Phi(L^T gL) L^-1, Phi(M) = (tril(M) + tril(M, -1)^T) / 2.
- qr (reduced, m >= n), A = Q R: dA = [gQ + Q copyutl(gR R^T - Q^T gQ)] R^-T, copyutl copying
  the upper triangle onto the lower; for m < n, A = [X | Y] with X = Q R1: dY = Q gR2 and X
  takes the m >= n formula with gQ + Y gR2^T.

``minigrad.linalg`` re-exports these (``minigrad/ops/linalg.py`` builds the matrix norms on
them, ``minigrad/ops/matrix_functions.py`` cond, matrix_rank, matrix_power, matrix_exp,
solve_triangular and lstsq).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``return_types``, sibling
op modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.autograd import Function, TensorBase, is_grad_enabled, wrap
from minigrad.errors import DTypeError, LinAlgError, ShapeError
from minigrad.ops._util import broadcast_shape
from minigrad.ops.shape import cat, tril, triu

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

__all__ = [
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "geqrf",
    "inv",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
]


# -- checks -----------------------------------------------------------------------------------


def require_matrices(op: str, a: Any, *, square: bool = False) -> None:
    """Refuse what is not a float32/float64 tensor of (..., m, n) matrices (square ones when
    ``square``), naming the shape and dtype, before anything is computed."""
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}: A must be a tensor, got {type(a).__name__}")
    if a.dtype.kind != "f":
        raise DTypeError(
            f"{op}: expects a floating point tensor, got {a.dtype} (shape {tuple(a.shape)}); "
            "convert it with .float() or .double()"
        )
    if a.dtype == backend.float16:
        raise DTypeError(
            f"{op}: float16 is not supported (shape {tuple(a.shape)}), as in PyTorch on the "
            "CPU; convert it with .float()"
        )
    if a.ndim < 2:
        raise ShapeError(
            f"{op}: the input tensor A must have at least 2 dimensions, got shape {tuple(a.shape)}"
        )
    if square and a.shape[-1] != a.shape[-2]:
        raise ShapeError(
            f"{op}: A must be batches of square matrices, got shape {tuple(a.shape)} "
            f"({a.shape[-2]} by {a.shape[-1]} matrices)"
        )


def _lapack(op: str, kernel: Any, *arrays: Any) -> Any:
    """``kernel(*arrays)``, a failure of LAPACK (a singular matrix, one not positive-definite)
    raised as a ``LinAlgError`` naming the op and the shape (called inside the forwards, so the
    engine passes it on as it is)."""
    try:
        return kernel(*arrays)
    except backend.LINALG_ERRORS as err:
        raise LinAlgError(f"{op}: {err} (A of shape {tuple(arrays[0].shape)})") from err


# -- formulas shared by arrays and Tensors ----------------------------------------------------


def _mT(x: Any) -> Any:  # noqa: N802 (PyTorch's name for the matrix transpose)
    return x.swapaxes(-1, -2)


def _eye(like: Any, n: int) -> Any:
    """The (n, n) identity as a constant array of ``like``'s dtype and device."""
    arr = like.array if isinstance(like, TensorBase) else like
    return backend.array_module(arr).eye(n, dtype=arr.dtype)


def _tril_mask(like: Any, n: int, k: int = 0) -> Any:
    """The (n, n) 0/1 mask of the lower triangle below diagonal ``k``, a constant array."""
    arr = like.array if isinstance(like, TensorBase) else like
    return backend.array_module(arr).tri(n, k=k, dtype=arr.dtype)


def _svd_grad(u: Any, s: Any, vh: Any, gu: Any, gs: Any, gvh: Any) -> Any:
    """dA from the cotangents of U, S and Vh (any of them None), PyTorch's svd_backward."""
    m, n, k = u.shape[-2], vh.shape[-1], s.shape[-1]
    eye = _eye(s, k)
    v, gv = _mT(vh), None if gvh is None else _mT(gvh)
    inner = 0 if gs is None else gs[..., :, None] * eye  # diag(gS)
    if gu is not None or gv is not None:
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None] + eye  # E_ij = s_j^2 - s_i^2, 1 on the diagonal
        if gu is not None:
            utgu = _mT(u) @ gu
            inner = inner + (utgu - _mT(utgu)) / e * s[..., None, :]
        if gv is not None:
            vtgv = _mT(v) @ gv
            inner = inner + s[..., :, None] * ((vtgv - _mT(vtgv)) / e)
    ga = u @ (inner @ vh)
    if m > n and gu is not None:  # the part of gU off U's columns: (I - U U^T) gU S^-1 Vh
        gu_sinv = gu / s[..., None, :]
        ga = ga + (gu_sinv - u @ (_mT(u) @ gu_sinv)) @ vh
    if m < n and gv is not None:  # the part of gV off V's columns: U S^-1 gV^T (I - V V^T)
        sinv_gvh = _mT(gv) / s[..., :, None]
        ga = ga + u @ (sinv_gvh - (sinv_gvh @ v) @ vh)
    return ga


def _eigh_grad(lam: Any, v: Any, glam: Any, gv: Any) -> Any:
    """dA from the cotangents of the eigenvalues and eigenvectors (either None)."""
    n = lam.shape[-1]
    eye = _eye(lam, n)
    inner = 0 if glam is None else glam[..., :, None] * eye  # diag(gL)
    if gv is not None:
        vtgv = _mT(v) @ gv
        e = lam[..., None, :] - lam[..., :, None] + eye  # E_ij = l_j - l_i, 1 on the diagonal
        inner = inner + (vtgv - _mT(vtgv)) * 0.5 / e
    return v @ (inner @ _mT(v))


def _cholesky_grad(l_factor: Any, gl: Any, l_inv: Any) -> Any:
    """dA = L^-T Phi(L^T gL) L^-1, Phi(M) = (tril(M) + tril(M, -1)^T) / 2."""
    n = l_factor.shape[-1]
    m = (_mT(l_factor) @ gl) * _tril_mask(gl, n)
    phi = (m + _mT(m * _tril_mask(gl, n, -1))) * 0.5
    return _mT(l_inv) @ (phi @ l_inv)


def _qr_grad(q: Any, r: Any, gq: Any, gr: Any, solve_fn: Any, cat_fn: Any) -> Any:
    """dA from the cotangents of Q and R (either None), PyTorch's linalg_qr_backward (reduced).
    ``solve_fn(A, B)`` solves A X = B; ``cat_fn`` joins along the last dim."""
    m, n = q.shape[-2], r.shape[-1]
    if m < n:  # A = [X | Y], X = Q R1 square, Y = Q R2: dY = Q gR2, X sees gQ + Y gR2^T
        r1, gr1 = r[..., :, :m], None if gr is None else gr[..., :, :m]
        gr2 = None if gr is None else gr[..., :, m:]
        y = q @ r[..., :, m:]
        if gr2 is not None:
            gq = y @ _mT(gr2) if gq is None else gq + y @ _mT(gr2)
        gy = r[..., :, m:] * 0 if gr2 is None else q @ gr2  # (m, n - m); R is (m, n) here
        return cat_fn(_qr_grad(q, r1, gq, gr1, solve_fn, cat_fn), gy)
    m_term = 0 if gr is None else gr @ _mT(r)  # M = gR R^T - Q^T gQ, n x n
    if gq is not None:
        m_term = m_term - _mT(q) @ gq
    upper = m_term * _mT(_tril_mask(r, n))
    ga = q @ (upper + _mT(upper) - upper * _eye(r, n))  # copy the upper triangle to the lower
    if gq is not None:
        ga = ga + gq
    return _mT(solve_fn(r, _mT(ga)))  # ga R^-T


# -- SVD and the symmetric eigensystem --------------------------------------------------------


class _Factor(Function):
    """One factor (``which``) of a decomposition of A whose factors the caller computed once
    (``factors``); each subclass's backward takes the gradient of that factor alone."""

    @staticmethod
    def forward(ctx, a, factors=(), which=0):
        ctx.save_for_backward(a, *factors)
        ctx.which = which
        return factors[which]


def _cotangents(ctx: Function, g: Any, count: int) -> list[Any]:
    """The gradients of the ``count`` factors: ``g`` for the one this node returned, else None."""
    return [g if i == ctx.which else None for i in range(count)]


class SvdFactor(_Factor):
    """One factor (``which``: 0 U, 1 S, 2 Vh) of A's thin SVD, the three computed once."""

    @staticmethod
    def forward(ctx, a, factors=(), which=0, full=False):
        ctx.full = full  # the thin factors sliced from the full SVD
        return _Factor.forward(ctx, a, factors, which)

    @staticmethod
    def backward(ctx, g):
        _, u, s, vh = ctx.saved_tensors
        cotangents = _cotangents(ctx, g, 3)
        # dA = U [diag(gS) + (skew(U^T gU) S + S skew(V^T gV)) / E] Vh (+ off-span parts)
        with backend.quiet():  # repeated singular values: inf/NaN, as PyTorch's
            return (_svd_grad(u, s, vh, *cotangents),)

    @staticmethod
    def backward_graph(ctx, g):
        cotangents = _cotangents(ctx, g, 3)
        # the same, with U, S, Vh differentiable functions of A (from the SVD the forward ran,
        # so that the singular vectors' signs are the same)
        u, s, vh = svd(ctx.saved_tensors[0], full_matrices=ctx.full)
        k = s.shape[-1]
        if ctx.full:
            u, vh = u[..., :, :k], vh[..., :k, :]
        return (_svd_grad(u, s, vh, *cotangents),)


class EighFactor(_Factor):
    """One factor (``which``: 0 the eigenvalues, 1 the eigenvectors) of A's eigensystem."""

    @staticmethod
    def backward(ctx, g):
        _, lam, v = ctx.saved_tensors
        cotangents = _cotangents(ctx, g, 2)
        # dA = V [diag(gL) + skew(V^T gV) / (2 E)] V^T
        with backend.quiet():  # repeated eigenvalues: inf/NaN, as PyTorch's
            return (_eigh_grad(lam, v, *cotangents),)

    @staticmethod
    def backward_graph(ctx, g):
        cotangents = _cotangents(ctx, g, 2)
        return (_eigh_grad(*eigh(ctx.saved_tensors[0]), *cotangents),)


def _factors(
    op: type[Function], a: Tensor, arrays: tuple[Any, ...], **options: Any
) -> tuple[Tensor, ...]:
    """The factors as Tensors: each one a node of ``op`` when A needs a gradient."""
    if not (a.requires_grad and is_grad_enabled()):
        return tuple(wrap(x) for x in arrays)
    return tuple(op.apply(a, factors=arrays, which=i, **options) for i in range(len(arrays)))


def svd(a: Tensor, full_matrices: bool = True) -> return_types.linalg_svd:
    """A = U diag(S) Vh: (..., m, n) -> U (..., m, m), S (..., k), Vh (..., n, n), k = min(m, n);
    ``full_matrices=False`` gives the thin U (..., m, k) and Vh (..., k, n). S is descending.

    Differentiable, as PyTorch: with ``full_matrices=True`` and m != n, the gradients of U's
    columns and Vh's rows past k are ignored (any orthonormal basis of the complement would
    do). The signs of the singular vectors are LAPACK's, so compare U and Vh up to sign.
    """
    require_matrices("linalg.svd", a)
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        u, s, vh = _lapack("linalg.svd", backend.svd, a.array, True)
        k = s.shape[-1]
        thin = (u[..., :, :k], s, vh[..., :k, :])
        tu, ts, tvh = _factors(SvdFactor, a, thin, full=True)
        # the complement's columns (rows of Vh) are constants: no gradient reaches A from them
        if m > n:
            tu = cat([tu, wrap(u[..., :, k:])], -1)
        else:
            tvh = cat([tvh, wrap(vh[..., k:, :])], -2)
        return return_types.linalg_svd(tu, ts, tvh)
    arrays = _lapack("linalg.svd", backend.svd, a.array)
    return return_types.linalg_svd(*_factors(SvdFactor, a, arrays))


def svdvals(a: Tensor) -> Tensor:
    """The singular values of (..., m, n), descending: (..., min(m, n)). Gradient U diag(g) Vh,
    finite also where singular values repeat."""
    require_matrices("linalg.svdvals", a)
    if a.requires_grad and is_grad_enabled():  # the S node alone, on the whole SVD
        return SvdFactor.apply(a, factors=_lapack("linalg.svd", backend.svd, a.array), which=1)
    return wrap(_lapack("linalg.svdvals", backend.svdvals, a.array))


def eigh(a: Tensor, UPLO: str = "L") -> return_types.linalg_eigh:  # noqa: N803 (torch's name)
    """The eigenvalues (ascending, (..., n)) and eigenvectors (columns, (..., n, n)) of the
    symmetric matrices (..., n, n) whose lower (``UPLO="L"``) or upper triangle A holds."""
    require_matrices("linalg.eigh", a, square=True)
    a = _lower_holds(a, UPLO, "linalg.eigh")
    arrays = _lapack("linalg.eigh", backend.eigh, a.array)
    return return_types.linalg_eigh(*_factors(EighFactor, a, arrays))


def eigvalsh(a: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803 (torch's name)
    """The eigenvalues (ascending, (..., n)) of the symmetric matrices A's lower (or upper)
    triangle holds. Gradient V diag(g) V^T."""
    require_matrices("linalg.eigvalsh", a, square=True)
    a = _lower_holds(a, UPLO, "linalg.eigvalsh")
    if a.requires_grad and is_grad_enabled():  # the eigenvalues' node alone
        return EighFactor.apply(a, factors=_lapack("linalg.eigh", backend.eigh, a.array), which=0)
    return wrap(_lapack("linalg.eigvalsh", backend.eigvalsh, a.array))


def _lower_holds(a: Tensor, uplo: str, op: str) -> Tensor:
    """A, or for ``UPLO="U"`` its transpose, so that the lower triangle holds the matrix."""
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):  # any case, as PyTorch
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {uplo!r}")
    return a if uplo.upper() == "L" else a.swapaxes(-1, -2)


# -- determinants -----------------------------------------------------------------------------


def _cofactors(a: Any) -> Any:
    """det(A) A^-T of (..., n, n) arrays, from the SVD: U diag(prod_(j != i) s_j) Vh det(U Vh),
    finite for singular matrices too."""
    xp = backend.array_module(a)
    u, s, vh = backend.svd(a)
    ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.flip(xp.concatenate([s[..., 1:], ones], axis=-1), -1), -1), -1)
    rotation = backend.det(u) * backend.det(vh)  # +-1
    return (u * (before * after)[..., None, :]) @ vh * rotation[..., None, None]


class Det(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, _ = ctx.saved_tensors
        # dA = g det(A) A^-T (the cofactor matrix)
        return (g[..., None, None] * _cofactors(a),)

    @staticmethod
    def backward_graph(ctx, g):
        a, out = ctx.saved_tensors
        # the same, as det(A) inv(A)^T: differentiable where A is invertible
        return ((g * out)[..., None, None] * _mT(inv(a)),)


class LogAbsDet(Function):
    """log |det A|, its value computed with the sign by ``slogdet``."""

    @staticmethod
    def forward(ctx, a, logabsdet=None):
        ctx.save_for_backward(a)
        return logabsdet

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # d logabsdet = g A^-T (a singular A: LinAlgError, PyTorch's is inf/NaN)
        return (g[..., None, None] * _mT(_lapack("linalg.slogdet", backend.inv, a)),)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return (g[..., None, None] * _mT(inv(a)),)


def det(a: Tensor) -> Tensor:
    """The determinant of (..., n, n): (...,). Its gradient is the cofactor matrix (finite for a
    singular A); the second derivative goes through inv(A), so it needs an invertible A."""
    require_matrices("linalg.det", a, square=True)
    return Det.apply(a)


def slogdet(a: Tensor) -> return_types.linalg_slogdet:
    """The sign (-1, 0 or 1) and the log of the absolute value of the determinant of
    (..., n, n): two (...,) tensors; the sign has no gradient, logabsdet's is g A^-T."""
    require_matrices("linalg.slogdet", a, square=True)
    sign, logabsdet = _lapack("linalg.slogdet", backend.slogdet, a.array)
    return return_types.linalg_slogdet(wrap(sign), LogAbsDet.apply(a, logabsdet=logabsdet))


# -- inverses and solves ----------------------------------------------------------------------


class Inverse(Function):
    @staticmethod
    def forward(ctx, a):
        out = _lapack("linalg.inv", backend.inv, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # dA = -X^T g X^T
        return (-(_mT(x) @ g @ _mT(x)),)

    backward_graph = backward  # X is the output: a Tensor connected to A there


def inv(a: Tensor) -> Tensor:
    """The inverse of (..., n, n); a singular matrix raises ``LinAlgError`` (on NumPy; CuPy
    gives inf/NaN without checking)."""
    require_matrices("linalg.inv", a, square=True)
    return Inverse.apply(a)


class Solve(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _lapack("linalg.solve", backend.solve, a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        # dB = A^-T g, dA = -dB X^T (both summed back over broadcast batch dims by the engine)
        gb = backend.solve(_mT(a), g)
        return -(gb @ _mT(x)), gb

    @staticmethod
    def backward_graph(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(_mT(a), g)
        return -(gb @ _mT(x)), gb


def solve(a: Tensor, b: Tensor, *, left: bool = True) -> Tensor:
    """X with ``A X = B`` (``left=False``: ``X A = B``). A (..., n, n); B (..., n, k), or a
    batch of vectors (..., n) when B is 1-D or of shape A.shape[:-1] (PyTorch's rule); batch
    dims broadcast. A singular A raises ``LinAlgError``."""
    require_matrices("linalg.solve", a, square=True)
    if not isinstance(b, TensorBase):
        raise TypeError(f"linalg.solve: B must be a tensor, got {type(b).__name__}")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    return solve_matrices("linalg.solve", a, b, left=left, vector=vector)


class SolveTriangular(Function):
    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        # X = T^-1 B by substitution, T the upper or lower triangle of A (1s on its diagonal
        # when unitriangular); a zero on T's diagonal gives inf/NaN, as LAPACK's trtrs
        out = backend.solve_triangular(a, b, upper, unitriangular)
        ctx.upper, ctx.unitriangular = upper, unitriangular
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        upper, unit = ctx.upper, ctx.unitriangular
        # dB = T^-T g (T^T: the other triangle) ; dA = -dB X^T, on T's triangle only
        gb = backend.solve_triangular(_mT(a), g, not upper, unit)
        ga = -(gb @ _mT(x))
        xp = backend.array_module(ga)
        return (xp.triu(ga, int(unit)) if upper else xp.tril(ga, -int(unit))), gb

    @staticmethod
    def backward_graph(ctx, g):
        a, x = ctx.saved_tensors
        upper, unit = ctx.upper, ctx.unitriangular
        gb = SolveTriangular.apply(_mT(a), g, upper=not upper, unitriangular=unit)
        ga = -(gb @ _mT(x))
        return (triu(ga, int(unit)) if upper else tril(ga, -int(unit))), gb


def solve_matrices(
    op: str,
    a: Tensor,
    b: Tensor,
    *,
    left: bool,
    vector: bool = False,
    triangle: tuple[bool, bool] | None = None,
) -> Tensor:
    """``solve`` of a checked square A (..., n, n) by B (..., n, k) (``left=False``:
    (..., k, n)), or by a batch of vectors B (..., n) when ``vector``; batch dims broadcast.
    ``triangle=(upper, unitriangular)``: A stands for that triangle of it (``solve_triangular``,
    which has no vector case). ``op`` names the caller in the errors."""
    if b.dtype != a.dtype:
        raise DTypeError(
            f"{op}: A and B must have one dtype, got {a.dtype} and {b.dtype} (shapes "
            f"{tuple(a.shape)}, {tuple(b.shape)})"
        )
    n = a.shape[-1]
    rhs = b.unsqueeze(-1) if vector else (b if left else b.swapaxes(-1, -2))
    # a vector b is one column, so X A = b (left=False) fits no A, as in PyTorch
    if rhs.ndim < 2 or rhs.shape[-2] != n or (vector and not left):
        raise ShapeError(
            f"{op}: incompatible shapes of A {tuple(a.shape)} and B {tuple(b.shape)} "
            f"(B needs {n} {'rows' if left else 'columns'})"
        )
    broadcast_shape(op, "the batch dims of A and B", a.shape[:-2], rhs.shape[:-2])
    lhs = a if left else a.swapaxes(-1, -2)
    if triangle is None:
        x = Solve.apply(lhs, rhs)
    else:  # X T = B is T^T X^T = B^T: the transpose's triangle is the other one
        upper, unitriangular = triangle
        x = SolveTriangular.apply(lhs, rhs, upper=upper == left, unitriangular=unitriangular)
    return x.squeeze(-1) if vector else (x if left else x.swapaxes(-1, -2))


class Pinv(Function):
    @staticmethod
    def forward(ctx, a, atol=None, rtol=None):
        u, s, vh = _lapack("linalg.pinv", backend.svd, a)
        xp = backend.array_module(a)
        cutoff = _cutoff(xp, s, atol, rtol, max(a.shape[-2:]))
        with backend.quiet():
            s_inv = xp.where(s > cutoff[..., None], 1 / s, 0).astype(s.dtype)
        out = (_mT(vh) * s_inv[..., None, :]) @ _mT(u)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gt = _mT(g)
        # dA = -X^T g X^T + (I - A X) g^T X X^T + X^T X g^T (I - X A)
        left = gt @ (x @ _mT(x))
        right = (_mT(x) @ x) @ gt
        return (-(_mT(x) @ g @ _mT(x)) + left - a @ (x @ left) + right - (right @ x) @ a,)

    backward_graph = backward  # A and X come back as Tensors connected to the graph


def _cutoff(xp: Any, s: Any, atol: Any, rtol: Any, size: int) -> Any:
    """max(atol, rtol * s_max) per matrix; rtol defaults to eps * max(m, n) when neither is
    given and to 0 when only atol is, as PyTorch."""
    if rtol is None:
        rtol = xp.finfo(s.dtype).eps * size if atol is None or atol <= 0 else 0.0
    largest = s[..., 0] if s.shape[-1] else xp.zeros(s.shape[:-1], dtype=s.dtype)
    return xp.maximum(0.0 if atol is None else atol, rtol * largest).astype(s.dtype)


def pinv(
    a: Tensor, *, atol: float | None = None, rtol: float | None = None, hermitian: bool = False
) -> Tensor:
    """The Moore-Penrose pseudo-inverse of (..., m, n): (..., n, m), singular values at or below
    max(atol, rtol * s_max) treated as zero. ``hermitian`` is accepted for PyTorch's signature
    (the SVD serves symmetric matrices too, so both triangles are read). The gradient assumes
    the rank stays the same near A, as PyTorch's."""
    require_matrices("linalg.pinv", a)
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if tol is not None and not isinstance(tol, (int, float)):
            raise TypeError(f"linalg.pinv: {name} must be a number or None, got {tol!r}")
    del hermitian
    return Pinv.apply(a, atol=atol, rtol=rtol)


def singular_cutoff(a: Tensor, s: Any, atol: Any, rtol: Any) -> Any:
    """The per-matrix cutoff of ``matrix_rank`` and ``pinv`` for A's singular values ``s``
    (an array)."""
    return _cutoff(backend.array_module(s), s, atol, rtol, max(a.shape[-2:]))


# -- Cholesky ---------------------------------------------------------------------------------


class Cholesky(Function):
    @staticmethod
    def forward(ctx, a):
        out = _lapack("linalg.cholesky", backend.cholesky, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (l_factor,) = ctx.saved_tensors
        # dA = L^-T Phi(L^T gL) L^-1
        return (_cholesky_grad(l_factor, g, backend.inv(l_factor)),)

    @staticmethod
    def backward_graph(ctx, g):
        (l_factor,) = ctx.saved_tensors
        return (_cholesky_grad(l_factor, g, inv(l_factor)),)


def cholesky(a: Tensor, *, upper: bool = False) -> Tensor:
    """The lower Cholesky factor L (A = L L^T) of symmetric positive-definite (..., n, n)
    matrices whose lower triangle A holds; ``upper=True`` gives the upper factor U = L^T of the
    matrices A's upper triangle holds (as PyTorch, which reads that triangle then). One that is
    not positive-definite raises ``LinAlgError``."""
    require_matrices("linalg.cholesky", a, square=True)
    if upper:  # A's upper triangle is A^T's lower one
        return Cholesky.apply(a.swapaxes(-1, -2)).swapaxes(-1, -2)
    return Cholesky.apply(a)


# -- QR ---------------------------------------------------------------------------------------


def _cat_last(a: Any, b: Any) -> Any:
    if isinstance(a, TensorBase):
        return cat([a, b], -1)
    return backend.array_module(a).concatenate([a, b], axis=-1)


class QrFactor(_Factor):
    """One factor (``which``: 0 Q, 1 R) of A's reduced QR, the two computed once."""

    @staticmethod
    def backward(ctx, g):
        _, q, r = ctx.saved_tensors
        cotangents = _cotangents(ctx, g, 2)
        # dA = [gQ + Q copyutl(gR R^T - Q^T gQ)] R^-T (m >= n; m < n splits A = [X | Y])
        return (_qr_grad(q, r, *cotangents, backend.solve, _cat_last),)

    @staticmethod
    def backward_graph(ctx, g):
        cotangents = _cotangents(ctx, g, 2)
        q, r = qr(ctx.saved_tensors[0])
        return (_qr_grad(q, r, *cotangents, solve, _cat_last),)


def qr(a: Tensor, mode: str = "reduced") -> return_types.linalg_qr:
    """A = Q R for (..., m, n), k = min(m, n): ``"reduced"``: Q (..., m, k) with orthonormal
    columns, R (..., k, n) upper triangular; ``"complete"``: Q (..., m, m), R (..., m, n);
    ``"r"``: R only (Q is an empty tensor). Differentiable for ``"reduced"`` (and
    ``"complete"`` when m <= n, where it is the same), as PyTorch; needs R's leading k by k
    block invertible (A of full rank k)."""
    require_matrices("linalg.qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = a.shape[-2:]
    wants_grad = a.requires_grad and is_grad_enabled()
    if mode == "reduced" or (mode == "complete" and m <= n):
        arrays = _lapack("linalg.qr", backend.qr, a.array)
        return return_types.linalg_qr(*_factors(QrFactor, a, arrays))
    if wants_grad:
        raise ValueError(
            f"linalg.qr: mode={mode!r} is not differentiable for A of shape {tuple(a.shape)} "
            "(as in PyTorch); use mode='reduced'"
        )
    q, r = _lapack("linalg.qr", backend.qr, a.array, mode == "complete")
    if mode == "r":
        q = backend.array_module(r).zeros((0,), dtype=r.dtype)
    return return_types.linalg_qr(wrap(q), wrap(r))


def geqrf(input: Tensor) -> Any:  # noqa: A002
    """LAPACK's compact QR of (..., m, n): ``(a, tau)``, R on and above ``a``'s diagonal, the
    Householder vectors v_i below it (1 on the diagonal implied), their scales tau
    (..., min(m, n)). ``orgqr(a, tau)`` (``linalg.householder_product``) makes Q. No gradient."""
    require_matrices("geqrf", input)
    a, tau = backend.geqrf(input.array)
    return return_types.geqrf(wrap(a), wrap(tau))
