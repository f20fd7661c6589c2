"""``minigrad.linalg``: the names of ``torch.linalg``, with its semantics.

Norms: ``norm`` (torch.linalg.norm: a matrix norm for an ``ord`` over two dims or of a 2-D
input, else a vector norm), ``vector_norm``, ``matrix_norm`` ("fro", "nuc", +-1, +-2, +-inf),
``cond``. Decompositions, each with its gradient: ``svd``, ``svdvals``, ``eigh``, ``eigvalsh``,
``cholesky``, ``qr``. Determinants, inverses and functions of matrices: ``det``, ``slogdet``,
``inv``, ``solve``, ``solve_triangular``, ``lstsq``, ``tensorinv``, ``tensorsolve``, ``pinv``,
``matrix_rank``, ``matrix_power``, ``matrix_exp``. LU: ``lu_factor``, ``lu_factor_ex``, ``lu``,
``lu_solve``; ``solve_ex``, ``inv_ex``, ``cholesky_ex`` (with LAPACK's ``info``). Products: ``cross`` (default ``dim=-1``, as
torch.linalg.cross; ``minigrad.cross`` keeps torch.cross's first dim of size 3), ``vecdot``,
``multi_dot``, ``matmul``; ``diagonal`` (of the last two dims by default); ``vander``
(increasing powers, batched); ``householder_product`` (LAPACK's orgqr).
``LinAlgError`` is raised for a singular or non-positive-definite matrix.

Owns: this namespace (no function of its own but ``cross``'s and ``diagonal``'s defaults, and
``vander``).
May import: ``errors``, ``minigrad.ops``; ``tensor`` for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigrad.errors import LinAlgError
from minigrad.ops import linalg as _ops_linalg
from minigrad.ops.decompositions import (
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
)
from minigrad.ops.linalg import linalg_norm as norm
from minigrad.ops.linalg import matrix_norm, multi_dot, vecdot, vector_norm
from minigrad.ops.lu import (
    cholesky_ex,
    inv_ex,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    solve_ex,
)
from minigrad.ops.matrix_functions import (
    cond,
    householder_product,
    lstsq,
    matrix_exp,
    matrix_power,
    matrix_rank,
    solve_triangular,
    tensorinv,
    tensorsolve,
)
from minigrad.ops.rearrange import diagonal as _diagonal
from minigrad.ops.shape import cat, matmul

if TYPE_CHECKING:
    from minigrad.tensor import Tensor

__all__ = [
    "LinAlgError",
    "cholesky",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "householder_product",
    "inv",
    "lstsq",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
    # LU and the solves with an info (minigrad/ops/lu.py)
    "cholesky_ex",
    "inv_ex",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "solve_ex",
]


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: N803
    """The diagonals of the matrices in dims ``dim1``, ``dim2`` (default the last two, where
    ``minigrad.diagonal`` takes 0 and 1), as ``torch.linalg.diagonal``."""
    return _diagonal(A, offset, dim1, dim2)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (default -1, as ``torch.linalg.cross``),
    both operands broadcast together."""
    return _ops_linalg.cross(input, other, dim)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The Vandermonde matrices of ``x`` (..., n): (..., n, N) with column j = x ** j, powers
    increasing from 0 (``N`` defaults to n), as ``torch.linalg.vander``. The powers are a
    running product, so the gradient is exact at x = 0."""
    if x.ndim < 1:
        raise ValueError(
            f"linalg.vander: x must have at least one dimension, got shape {tuple(x.shape)}"
        )
    n = x.shape[-1] if N is None else N
    if isinstance(n, bool) or not isinstance(n, int) or n <= 1:
        raise ValueError(f"linalg.vander: N must be greater than 1, got {n!r}")
    column = x.unsqueeze(-1)  # (..., n, 1)
    powers = column.expand(*x.shape, n - 1).cumprod(-1)  # x, x^2, ..., x^(N-1)
    return cat([column * 0 + 1, powers], -1)
