"""Named tuples that ops return, as ``torch.return_types``: ``max(dim)`` gives
``return_types.max(values, indices)``.

Owns: these tuple types. May import: nothing from minigrad (the fields hold Tensors).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.max(dim)``: the largest values along ``dim`` and the index of each."""

    values: Any
    indices: Any


class min(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.min(dim)``: the smallest values along ``dim`` and the index of each."""

    values: Any
    indices: Any


# -- minigrad.ops.statistics (PyTorch breadth): scans and order statistics -------------------


class cummax(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.cummax(dim)``: the running maxima along ``dim`` and the index of each."""

    values: Any
    indices: Any


class cummin(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.cummin(dim)``: the running minima along ``dim`` and the index of each."""

    values: Any
    indices: Any


class median(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.median(dim)``: the lower medians along ``dim`` and the index of each."""

    values: Any
    indices: Any


class nanmedian(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.nanmedian(dim)``: the lower medians of the non-NaN values and the index of each."""

    values: Any
    indices: Any


class aminmax(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.aminmax()``: the smallest and the largest values."""

    min: Any
    max: Any


# -- minigrad.ops.search (PyTorch breadth): order statistics ---------------------------------


class kthvalue(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.kthvalue(k, dim)``: the k-th smallest values along ``dim`` and the index of each."""

    values: Any
    indices: Any


class mode(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.mode(dim)``: the most frequent values along ``dim`` and the index of each."""

    values: Any
    indices: Any


# -- minigrad.ops.decompositions (minigrad.linalg): matrix decompositions ---------------------


class linalg_svd(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.svd(A)``: A = U diag(S) Vh."""

    U: Any
    S: Any
    Vh: Any


class linalg_eigh(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.eigh(A)``: the eigenvalues (ascending) and the eigenvectors (columns)."""

    eigenvalues: Any
    eigenvectors: Any


class linalg_slogdet(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.slogdet(A)``: the sign of the determinant and the log of its absolute value."""

    sign: Any
    logabsdet: Any


class linalg_lstsq(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.lstsq(A, B)``: the solution, residuals, ranks and singular values."""

    solution: Any
    residuals: Any
    rank: Any
    singular_values: Any


class linalg_qr(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.qr(A)``: A = Q R, Q with orthonormal columns, R upper triangular."""

    Q: Any
    R: Any


# -- minigrad.ops.lu (minigrad.linalg): LU and the solves with an info -------------------------


class linalg_lu_factor(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.lu_factor(A)``: L and U packed in one matrix, and LAPACK's 1-based pivots."""

    LU: Any
    pivots: Any


class linalg_lu_factor_ex(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.lu_factor_ex(A)``: ``lu_factor``'s and LAPACK's ``info``."""

    LU: Any
    pivots: Any
    info: Any


class linalg_lu(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.lu(A)``: A = P L U."""

    P: Any
    L: Any
    U: Any


class lu_unpack(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``lu_unpack(LU, pivots)``: A = P L U."""

    P: Any
    L: Any
    U: Any


class linalg_solve_ex(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.solve_ex(A, B)``: the solution and LAPACK's ``info``."""

    result: Any
    info: Any


class linalg_inv_ex(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.inv_ex(A)``: the inverse and LAPACK's ``info``."""

    inverse: Any
    info: Any


class linalg_cholesky_ex(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``linalg.cholesky_ex(A)``: the Cholesky factor and LAPACK's ``info``."""

    L: Any
    info: Any


class svd(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``Tensor.svd()`` (``torch.svd``): A = U diag(S) V^T, V itself."""

    U: Any
    S: Any
    V: Any


class histogram(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``histogram(input, bins)``: the counts (or densities) and the bins' edges."""

    hist: Any
    bin_edges: Any


# -- minigrad/composites_linalg.py: PyTorch's top-level linear algebra spellings -------------


class qr(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``minigrad.qr(A)``: A = Q R."""

    Q: Any
    R: Any


class geqrf(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``minigrad.geqrf(A)``: LAPACK's compact QR, the Householder vectors below R's diagonal
    in ``a`` and their scales in ``tau``."""

    a: Any
    tau: Any


class triangular_solve(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``minigrad.triangular_solve(b, A)``: the solution and a copy of A."""

    solution: Any
    cloned_coefficient: Any
