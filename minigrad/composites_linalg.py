"""PyTorch's top-level spellings of linear algebra, older than ``torch.linalg`` and still in
use: ``svd`` (V, not Vh), ``qr(some=)``, ``cholesky(upper=)``, ``lu``, ``lu_solve``,
``triangular_solve``, ``matrix_exp``, LAPACK's compact QR (``geqrf``) and its products
(``orgqr``, ``ormqr``), ``addr``, ``adjoint``, ``nuclear_norm``, ``frobenius_norm``.

Each is another name for an op of ``minigrad.linalg`` or a composite of differentiable ops,
with PyTorch's argument order and return values; their gradients come from those ops.
``geqrf`` has no gradient (PyTorch's raises when asked for one; here its results do not
require grad).

Owns: these functions (``geqrf`` and ``triangular_solve`` live in ``ops``, for
``Tensor``'s methods). May import: ``ops``, ``tensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigrad import ops
from minigrad.ops.decompositions import geqrf
from minigrad.ops.linalg import addr
from minigrad.ops.matrix_functions import householder_product, ormqr, triangular_solve
from minigrad.tensor import Tensor

__all__ = [
    "addr",
    "adjoint",
    "cholesky",
    "frobenius_norm",
    "geqrf",
    "lu",
    "lu_solve",
    "matrix_exp",
    "nuclear_norm",
    "orgqr",
    "ormqr",
    "qr",
    "svd",
    "triangular_solve",
]


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:  # noqa: A002
    """``(U, S, V)`` with A = U diag(S) V^T, V itself (``linalg.svd`` gives V^T); ``some=False``
    the full U and V, ``compute_uv=False`` zero U and V (as ``torch.svd``)."""
    return input.svd(some, compute_uv)


def qr(input: Tensor, some: bool = True) -> Any:  # noqa: A002
    """``(Q, R)``: the reduced QR, or the complete one when ``some=False`` (``torch.qr``)."""
    return input.qr(some)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:  # noqa: A002
    """The Cholesky factor L (A = L L^T), or U = L^T when ``upper`` (``torch.cholesky``)."""
    return input.cholesky(upper)


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """``linalg.matrix_exp``: e^A of (..., n, n)."""
    return ops.matrix_functions.matrix_exp(A)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
    """X with A X = b from ``lu``'s factors (``torch.lu_solve``'s argument order)."""
    return ops.lu.lu_solve(LU_data, LU_pivots, b)


def adjoint(input: Tensor) -> Tensor:  # noqa: A002 (PyTorch's name)
    """The conjugate transpose of the last two dims (for real tensors their transpose), a
    view: (..., m, n) -> (..., n, m)."""
    return input.adjoint()


def orgqr(input: Tensor, tau: Tensor) -> Tensor:  # noqa: A002
    """``linalg.householder_product`` under LAPACK's name."""
    return householder_product(input, tau)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:  # noqa: N803
    """``(A_LU, pivots)`` of ``linalg.lu_factor``, with LAPACK's ``infos`` as a third element when
    ``get_infos`` (then a singular matrix raises nothing), as ``torch.lu``."""
    return A.lu(pivot, get_infos)


def nuclear_norm(
    input: Tensor,  # noqa: A002
    dim: Sequence[int] | bool | None = None,
    keepdim: bool = False,
) -> Tensor:
    """The sum of the singular values of the matrices in ``dim`` (default the last two; as
    ``torch.nuclear_norm``, a bool second argument is ``keepdim``)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return ops.linalg.matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(
    input: Tensor,  # noqa: A002
    dim: Sequence[int] | int = (-2, -1),
    keepdim: bool = False,
) -> Tensor:
    """sqrt(sum(x^2)) over ``dim`` (default the last two), as ``torch.frobenius_norm``."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return ops.linalg.vector_norm(input, 2, dims, keepdim)
