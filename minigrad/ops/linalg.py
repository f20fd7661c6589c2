"""Linear algebra PyTorch code reaches for: products (dot, inner, outer, mv, tensordot, kron,
addmm and its family, vecdot, multi_dot), trace, norms and distances (norm, vector_norm,
matrix_norm, linalg_norm, dist, cdist), cross, cumulative_trapezoid, and on the decompositions
of ``ops/decompositions.py``: svdvals for the matrix norms (``ops/matrix_functions.py`` holds
the functions of matrices: cond, matrix_rank, matrix_power, matrix_exp, lstsq...).

Every function here is a composition of existing differentiable ops (matmul, reshapes, sums,
rolls, amax/amin, ``VectorNorm``, the p-norm primitive ``normalize`` uses, and the
decompositions' op ``svdvals``), so each gets its first and higher-order gradients
from those: nothing here has a backward of its own. The p-norm's gradient at a zero vector is
0, PyTorch's subgradient; the matrix norms are composed as PyTorch composes them (``"nuc"``: the
sum of the singular values, ``2``: their amax, ``1``: the amax of the column sums), so their
gradients, ties included, are PyTorch's.

``minigrad.linalg`` (``minigrad/linalg.py``) gathers ``torch.linalg``'s names from here and from
``ops/decompositions.py``; there ``norm`` is ``linalg_norm`` (torch.linalg.norm) and ``cross``
defaults to ``dim=-1``, while ``minigrad.norm`` is this module's ``norm`` (torch.norm) and
``minigrad.cross`` keeps ``torch.cross``'s default ``dim=None`` (the first dim of size 3).

Owns: these functions. May import: ``backend``, ``autograd``, ``errors``, sibling op modules
(``decompositions`` among them; it imports nothing from here); ``tensor`` for annotations only.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import TensorBase, wrap
from minigrad.errors import DTypeError, ShapeError
from minigrad.ops._util import broadcast_shape, half_in_float32, norm_dim, norm_dims, same_dtype
from minigrad.ops.decompositions import svdvals
from minigrad.ops.losses import VectorNorm
from minigrad.ops.rearrange import diagonal, roll
from minigrad.ops.reductions import amax, amin, cumsum, sum
from minigrad.ops.shape import bmm, expand, matmul, mm, narrow, permute, where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

__all__ = [
    "addbmm",
    "addcdiv",
    "addcmul",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "cdist",
    "cross",
    "cumulative_trapezoid",
    "dist",
    "dot",
    "ger",
    "inner",
    "kron",
    "linalg_norm",
    "matrix_norm",
    "multi_dot",
    "mv",
    "norm",
    "outer",
    "tensordot",
    "trace",
    "vdot",
    "vecdot",
    "vector_norm",
]


def _require_tensors(op: str, **named: Any) -> None:
    for name, value in named.items():
        if not isinstance(value, TensorBase):
            raise TypeError(f"{op}: {name} must be a tensor, got {type(value).__name__}")


# =============================================================================================
# products
# =============================================================================================


def dot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The dot product of two 1-D tensors of one length and dtype: (n,), (n,) -> ()."""
    _require_tensors("dot", input=input, other=other)
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(
            f"dot: 1D tensors expected, but got shapes {tuple(input.shape)} and "
            f"{tuple(other.shape)}"
        )
    if input.shape != other.shape:
        raise ShapeError(
            f"dot: inconsistent tensor size, shapes {tuple(input.shape)} and {tuple(other.shape)}"
        )
    return matmul(input, other)


def vdot(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """``dot`` with the first operand conjugated: for real tensors (all minigrad has), ``dot``."""
    return dot(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The sum of products over the last dims: (..a, n), (..b, n) -> (..a, ..b); a 0-d operand
    multiplies the other. Both operands have one dtype, as PyTorch."""
    _require_tensors("inner", input=input, other=other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    same_dtype("inner", ("the first operand", input), ("the second", other))
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(
            f"inner: the last dims of shapes {tuple(input.shape)} and {tuple(other.shape)} differ"
        )
    return tensordot(input, other, ([-1], [-1]))


def outer(input: Tensor, vec2: Tensor) -> Tensor:  # noqa: A002
    """The outer product of two 1-D tensors: (n,), (m,) -> (n, m), dtypes promoted."""
    _require_tensors("outer", input=input, vec2=vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(
            f"outer: 1D tensors expected, got shapes {tuple(input.shape)} and {tuple(vec2.shape)}"
        )
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer  # PyTorch's older name


def mv(input: Tensor, vec: Tensor) -> Tensor:  # noqa: A002
    """A matrix times a vector: (n, m), (m,) -> (n,)."""
    _require_tensors("mv", input=input, vec=vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(
            f"mv: expects a 2-D matrix and a 1-D vector, got shapes {tuple(input.shape)} and "
            f"{tuple(vec.shape)}"
        )
    return matmul(input, vec)


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * input + alpha * product``, ``input`` broadcast to the product's shape; with
    ``beta == 0`` the input is not read (its NaN and inf do not spread) and its gradient is 0,
    as PyTorch."""
    _require_tensors(op, input=input)
    shape = broadcast_shape(op, "the input and the product, shapes", input.shape, product.shape)
    if shape != tuple(product.shape):
        raise ShapeError(
            f"{op}: the input of shape {tuple(input.shape)} cannot be broadcast to the "
            f"product's shape {tuple(product.shape)}"
        )
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # every element from the product; the where keeps input in the graph
        everywhere = wrap(backend.array_module(product.array).ones(shape, dtype=bool))
        return where(everywhere, scaled, input) if input.requires_grad else scaled
    return scaled + (input if beta == 1 else input * beta)


def addr(
    input: Tensor,  # noqa: A002
    vec1: Tensor,
    vec2: Tensor,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``: (n,), (m,) -> (n, m), ``input``
    broadcast to (n, m)."""
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def addmm(
    input: Tensor,  # noqa: A002
    mat1: Tensor,
    mat2: Tensor,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``: (n, k) @ (k, m), ``input`` broadcast to (n, m)."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(
    input: Tensor,  # noqa: A002
    mat: Tensor,
    vec: Tensor,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``: (n, m) @ (m,), ``input`` broadcast to (n,)."""
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def baddbmm(
    input: Tensor,  # noqa: A002
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``: (B, n, k), (B, k, m) -> (B, n, m)."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def addbmm(
    input: Tensor,  # noqa: A002
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``: (B, n, k), (B, k, m) -> (n, m)."""
    return _scaled_sum("addbmm", input, sum(bmm(batch1, batch2), 0), beta, alpha)


def addcmul(
    input: Tensor,  # noqa: A002
    tensor1: Tensor,
    tensor2: Tensor,
    *,
    value: float = 1,
) -> Tensor:
    """``input + value * tensor1 * tensor2``, all three broadcast together."""
    _require_tensors("addcmul", input=input, tensor1=tensor1, tensor2=tensor2)
    broadcast_shape("addcmul", "shapes", input.shape, tensor1.shape, tensor2.shape)
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


def addcdiv(
    input: Tensor,  # noqa: A002
    tensor1: Tensor,
    tensor2: Tensor,
    *,
    value: float = 1,
) -> Tensor:
    """``input + value * tensor1 / tensor2``, all three broadcast together (integer
    ``tensor1`` and ``tensor2`` are refused, as PyTorch)."""
    _require_tensors("addcdiv", input=input, tensor1=tensor1, tensor2=tensor2)
    if tensor1.dtype.kind in "biu" and tensor2.dtype.kind in "biu":
        raise DTypeError(
            f"addcdiv: integer division is not supported (tensor1 {tensor1.dtype}, tensor2 "
            f"{tensor2.dtype}); use input + value * tensor1 / tensor2"
        )
    broadcast_shape("addcdiv", "shapes", input.shape, tensor1.shape, tensor2.shape)
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


def _tensordot_dims(a: Tensor, b: Tensor, dims: Any) -> tuple[list[int], list[int]]:
    """The contracted dims of ``a`` and ``b``, non-negative, from an int or a pair of lists."""
    if isinstance(dims, TensorBase):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: dims ({dims}) must be in [0, {min(a.ndim, b.ndim)}] for shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not (isinstance(dims, (list, tuple)) and len(dims) == 2):
        raise TypeError(f"tensordot: dims must be an int or a pair of lists, got {dims!r}")
    da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise ValueError(f"tensordot: both lists of dims must have one length, got {dims!r}")
    da = [norm_dim(d, a.ndim, a.shape) for d in da]
    db = [norm_dim(d, b.ndim, b.shape) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot: contracted dims differ in size: dim {i} of shape {tuple(a.shape)} "
                f"({a.shape[i]}) vs dim {j} of shape {tuple(b.shape)} ({b.shape[j]})"
            )
    return da, db


def tensordot(a: Tensor, b: Tensor, dims: int | Sequence[Any] = 2) -> Tensor:
    """The sum of products over ``dims``: an int n contracts the last n dims of ``a`` with the
    first n of ``b``; a pair of lists names them. Shape: ``a``'s free dims then ``b``'s."""
    _require_tensors("tensordot", a=a, b=b)
    same_dtype("tensordot", ("a", a), ("b", b))
    da, db = _tensordot_dims(a, b, dims)
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    # a -> (free_a, k), b -> (k, free_b), one matrix product, then the free dims back
    a2 = permute(a, *free_a, *da).reshape(math.prod(a.shape[d] for d in free_a), k)
    b2 = permute(b, *db, *free_b).reshape(k, math.prod(b.shape[d] for d in free_b))
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return mm(a2, b2).reshape(shape)


def kron(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002
    """The Kronecker product: block (i, j, ...) is ``input[i, j, ...] * other``; shape the
    product of the shapes dim by dim (the shorter one padded with leading 1s)."""
    _require_tensors("kron", input=input, other=other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    # (a0, a1) x (b0, b1): (a0, 1, a1, 1) * (1, b0, 1, b1) -> (a0 b0, a1 b1)
    spread_a = tuple(v for m in sa for v in (m, 1))
    spread_b = tuple(v for m in sb for v in (1, m))
    product = input.reshape(spread_a) * other.reshape(spread_b)
    return product.reshape(tuple(x * y for x, y in zip(sa, sb)))


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor: (n, m) -> () (integers sum in int64)."""
    _require_tensors("trace", input=input)
    if input.ndim != 2:
        raise ShapeError(f"trace: input must be 2-D, got shape {tuple(input.shape)}")
    return sum(diagonal(input))


# =============================================================================================
# norms and distances
# =============================================================================================


def vector_norm(
    x: Tensor,
    ord: float = 2,  # noqa: A002
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The ``ord``-norm of ``x`` over ``dim`` (every dim when None), as
    ``torch.linalg.vector_norm``: ``(sum |x|^ord)^(1/ord)``; ``inf``: max |x|; ``-inf``:
    min |x|; ``0``: the count of nonzeros. Floats only; ``dtype`` casts first.

    The gradient at a zero vector is 0 (PyTorch's subgradient); for ``inf`` ties share it.
    """
    _require_tensors("vector_norm", x=x)
    if dtype is not None:
        x = x.to(dtype=dtype)
    if x.dtype.kind != "f":
        raise DTypeError(
            f"linalg.vector_norm: expects a floating point tensor, got {x.dtype} (shape "
            f"{tuple(x.shape)})"
        )
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise TypeError(f"vector_norm: ord must be a number, got {ord!r}")
    dims = norm_dims(dim, x.ndim, x.shape)
    dims = tuple(range(x.ndim)) if dims is None else dims
    if x.dtype == backend.float16:
        return half_in_float32(vector_norm, x, ord, dims, keepdim)
    empty = any(x.shape[d] == 0 for d in dims) or (not dims and x.numel() == 0)
    if empty and (ord < 0 or math.isinf(ord)):  # max, min and 1 / sum(|x|^ord): no identity
        raise ValueError(
            f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor of shape "
            f"{tuple(x.shape)} because the operation does not have an identity (as PyTorch)"
        )
    if math.isinf(ord):
        extreme = amax if ord > 0 else amin
        return extreme(x.abs(), dims, keepdim=keepdim) if dims else x.abs()
    if ord == 0:  # sign(|x|) is 1 at a nonzero, 0 at a zero; its gradient is 0
        nonzero = x.abs().sign().masked_fill(x.isnan(), 1.0)  # NaN != 0 counts, as PyTorch's
        return sum(nonzero, dims, keepdim=keepdim) if dims else nonzero
    # ord < 0 and a zero entry: |0|^ord = inf and the norm 0, without NumPy's warning (PyTorch's)
    with backend.quiet() if ord < 0 else contextlib.nullcontext():
        out = VectorNorm.apply(x, p=float(ord), dim=dims)  # keeps the reduced dims
    return out if keepdim else out.reshape(tuple(n for d, n in enumerate(x.shape) if d not in dims))


def norm(
    input: Tensor,  # noqa: A002
    p: float | str | None = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: Any = None,
) -> Tensor:
    """``torch.norm``: a number ``p`` (or None: 2) is the vector ``p``-norm over ``dim`` (every
    dim when None); ``"fro"`` the 2-norm over ``dim`` (at most two dims); ``"nuc"`` (and
    ``"fro"`` over more than two dims, refused there) the matrix norm over the two dims ``dim``
    names (every dim when None: a 2-D input), as ``matrix_norm``."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        _require_tensors("norm", input=input)
        dims = tuple(range(input.ndim)) if dim is None else _as_dims(dim)
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


def _as_dims(dim: int | Sequence[int]) -> tuple[int, ...]:
    return (dim,) if isinstance(dim, int) else tuple(dim)


def linalg_norm(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    ord: float | str | None = None,  # noqa: A002
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """``torch.linalg.norm`` (``minigrad.linalg.norm``): a matrix norm (``matrix_norm``) when
    ``ord`` is given and ``dim`` names two dims, or ``dim`` is None and A is 2-D, or ``ord`` is
    ``"fro"``/``"nuc"``; else the vector norm (``vector_norm``, ``ord`` None: 2) over ``dim``
    (every dim when None). A given ``dim`` names one or two dims; an ``ord`` without ``dim``
    needs a 1-D or 2-D A."""
    _require_tensors("linalg.norm", A=A)
    dims = None if dim is None else _as_dims(dim)
    if dims is not None and len(dims) not in (1, 2):
        raise ValueError(
            f"linalg.norm: if dim is specified, it must be of length 1 or 2, got {dim} (shape "
            f"{tuple(A.shape)})"
        )
    if dims is None and ord is not None and A.ndim not in (1, 2):
        raise ShapeError(
            f"linalg.norm: if dim is not specified but ord is, the input must be 1-D or 2-D, "
            f"got shape {tuple(A.shape)}"
        )
    matrix = ord is not None and (
        isinstance(ord, str) or (dims is None and A.ndim == 2) or (dims and len(dims) == 2)
    )
    if matrix:
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def is_matrix_ord(ord: Any) -> bool:  # noqa: A002
    """Whether ``ord`` names a matrix norm: "fro", "nuc", +-1, +-2 or +-inf."""
    return ord in MATRIX_ORDS[:2] if isinstance(ord, str) else ord in MATRIX_ORDS[2:]


def _matrix_norm_checks(a: Tensor, ord: Any, dim: Any, dtype: Any) -> tuple[int, int]:
    """The two dims (non-negative) after refusing a non-float ``a``, fewer than 2 dims, ``dim``
    not two distinct dims, an ``ord`` that is not a matrix norm, or a narrowing ``dtype``."""
    op, shape = "linalg.matrix_norm", tuple(a.shape)
    if a.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating point tensor, got {a.dtype} (shape {shape})")
    if a.ndim < 2:
        raise ShapeError(f"{op}: the input tensor A must have at least 2 dims, got shape {shape}")
    if isinstance(dim, int) or not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"{op}: dim must be a 2-tuple, got {dim!r} (shape {shape})")
    d0, d1 = (norm_dim(d, a.ndim, shape) for d in dim)
    if d0 == d1:
        raise ValueError(f"{op}: dims must be different, got {tuple(dim)} (shape {shape})")
    if isinstance(ord, bool) or not is_matrix_ord(ord):
        raise ValueError(
            f"{op}: order {ord!r} not supported; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf"
        )
    if dtype is not None:
        wanted = backend.numpy_module().dtype(dtype)
        if wanted.kind != "f" or wanted.itemsize < a.dtype.itemsize:
            raise DTypeError(
                f"{op}: the input's dtype ({a.dtype}) should be convertible without narrowing "
                f"to the dtype given ({wanted})"
            )
    if ord in ("nuc", 2, -2) and a.dtype.itemsize < 4:
        raise DTypeError(
            f"{op}: ord {ord!r} needs an SVD, which float16 does not have (shape {shape}); "
            "convert A with .float()"
        )
    return d0, d1


def matrix_norm(
    A: Tensor,  # noqa: N803 (PyTorch's name)
    ord: float | str = "fro",  # noqa: A002
    dim: Sequence[int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: Any = None,
) -> Tensor:
    """The ``ord`` norm of the matrices A holds in the two dims ``dim``: (..., m, n) -> (...)
    (``keepdim``: 1s there), as ``torch.linalg.matrix_norm``.

    - ``"fro"``: sqrt(sum a_ij^2); ``"nuc"``: the sum of the singular values;
    - ``2`` / ``-2``: the largest / smallest singular value;
    - ``1`` / ``-1``: the largest / smallest column sum of |a_ij|; ``inf`` / ``-inf``: of rows.

    The gradients are those of these compositions, as PyTorch's: nuc U Vh; 2 u1 v1^T (split
    evenly between tied singular values, as amax splits its gradient); 1 and inf the signs of
    the largest column or row (split between ties). ``dtype`` casts A first.
    """
    _require_tensors("linalg.matrix_norm", A=A)
    d0, d1 = _matrix_norm_checks(A, ord, dim, dtype)
    a = A if dtype is None else A.to(dtype=dtype)
    kept = tuple(1 if d in (d0, d1) else n for d, n in enumerate(a.shape))
    dropped = tuple(n for d, n in enumerate(a.shape) if d not in (d0, d1))
    empty = a.shape[d0] == 0 or a.shape[d1] == 0
    if ord == "fro" or (empty and not isinstance(ord, str) and ord > 0):  # an empty matrix: 0
        return vector_norm(a, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):  # from the singular values of A with its two dims moved last
        rest = [d for d in range(a.ndim) if d not in (d0, d1)]
        s = svdvals(permute(a, *rest, d0, d1))  # (..., min(m, n))
        out = sum(s, -1) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1)
    else:  # 1: the extreme column sum (over d0, then across d1); inf: rows (d0, d1 swapped)
        across, along = (d0, d1) if abs(ord) == 1 else (d1, d0)
        sums = vector_norm(a, 1, across, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, along, keepdim=True)
    return out.reshape(kept if keepdim else dropped)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """The ``p``-norm of ``input - other`` (broadcast together), over every element: ()."""
    _require_tensors("dist", input=input, other=other)
    broadcast_shape("dist", "shapes", input.shape, other.shape)
    return vector_norm(input - other, p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2``:
    (..., P, M), (..., R, M) -> (..., P, R), batch dims broadcast. The gradient at a zero
    distance is 0, as PyTorch."""
    _require_tensors("cdist", x1=x1, x2=x2)
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(
            f"cdist: expects at least 2-D tensors, got shapes {tuple(x1.shape)} and "
            f"{tuple(x2.shape)}"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"cdist: X1 and X2 must have the same number of columns, got shapes "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if not p >= 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    broadcast_shape("cdist", "batch dims of shapes", x1.shape[:-2], x2.shape[:-2])
    same_dtype("cdist", ("x1", x1), ("x2", x2))
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
    if diff.numel() == 0 or diff.shape[-1] == 0:
        return sum(diff * 0, -1)  # zeros of (..., P, R)
    return vector_norm(diff, p, -1)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (both broadcast together): ``torch.cross``,
    whose default ``dim=None`` takes the first dim of size 3; ``linalg.cross`` takes -1."""
    _require_tensors("cross", input=input, other=other)
    shape = broadcast_shape("cross", "shapes", input.shape, other.shape)
    if dim is None:
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ShapeError(
                f"cross: no dim of size 3 in shapes {tuple(input.shape)}, {tuple(other.shape)}"
            )
    d = norm_dim(dim, len(shape), shape)
    if shape[d] != 3:
        raise ShapeError(
            f"cross: dim {dim} must have size 3, got shapes {tuple(input.shape)} and "
            f"{tuple(other.shape)}"
        )
    a, b = expand(input, shape), expand(other, shape)
    # c_i = a_(i+1) b_(i+2) - a_(i+2) b_(i+1), indices mod 3: rolls by -1 and -2
    return roll(a, -1, d) * roll(b, -2, d) - roll(a, -2, d) * roll(b, -1, d)


def cumulative_trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The running trapezoid-rule integral of ``y`` along ``dim``, one element shorter: spacing
    ``dx`` (default 1) or the sample points ``x`` (1-D, or ``y``'s shape)."""
    _require_tensors("cumulative_trapezoid", y=y)
    if y.ndim == 0:
        raise ShapeError("cumulative_trapezoid: expects at least a 1-D tensor, got a 0-d one")
    d = norm_dim(dim, y.ndim, y.shape)
    n = y.shape[d]
    if n == 0:
        return y * 1.0
    mids = narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)  # y_(i+1) + y_i
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: give x or dx, not both")
    if x is not None:
        xd = d if x.ndim == y.ndim else 0
        if x.shape[xd] != n or x.ndim not in (1, y.ndim):
            raise ShapeError(
                f"cumulative_trapezoid: x of shape {tuple(x.shape)} does not match y of shape "
                f"{tuple(y.shape)} along dim {d}"
            )
        steps = narrow(x, xd, 1, n - 1) - narrow(x, xd, 0, n - 1)
        if x.ndim == 1 and y.ndim > 1:
            steps = steps.reshape(tuple(n - 1 if k == d else 1 for k in range(y.ndim)))
        return cumsum(mids * steps / 2, d)
    return cumsum(mids * ((1 if dx is None else dx) / 2), d)


# =============================================================================================
# products of several tensors
# =============================================================================================


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product of the vectors along ``dim`` of ``x`` and ``y`` (broadcast together):
    sum(x * y, dim), one dtype for both."""
    _require_tensors("linalg.vecdot", x=x, y=y)
    same_dtype("linalg.vecdot", ("x", x), ("y", y))
    shape = broadcast_shape("linalg.vecdot", "shapes", x.shape, y.shape)
    d = norm_dim(dim, len(shape), shape)
    return sum(x * y, d)


def _chain_order(shapes: list[tuple[int, int]]) -> list[list[int]]:
    """The cheapest way to multiply matrices of ``shapes`` in a row (the classic dynamic
    program): split[i][j] is where the product of matrices i..j splits."""
    n = len(shapes)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + shapes[i][0] * shapes[k][1] * shapes[j][1], k)
                for k in range(i, j)
            )
    return split


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of two or more matrices in the order that costs fewest multiplications;
    the first may be a 1-D row vector and the last a 1-D column vector (their dims dropped
    from the result), the others 2-D, as ``torch.linalg.multi_dot``."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expects at least 2 tensors, got {len(tensors)}")
    for i, t in enumerate(tensors):
        _require_tensors("linalg.multi_dot", **{f"tensors[{i}]": t})
        edge = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (edge and t.ndim == 1):
            raise ShapeError(
                f"linalg.multi_dot: tensors[{i}] must be 2-D{' or 1-D' if edge else ''}, got "
                f"shape {tuple(t.shape)}"
            )
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [t.reshape(1, -1) if i == 0 and first else t for i, t in enumerate(tensors)]
    mats[-1] = mats[-1].reshape(-1, 1) if last else mats[-1]
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ShapeError(
                f"linalg.multi_dot: tensors[{i}] and tensors[{i + 1}] cannot be multiplied "
                f"(shapes {tuple(tensors[i].shape)} and {tuple(tensors[i + 1].shape)})"
            )
    split = _chain_order([tuple(m.shape) for m in mats])

    def product(i: int, j: int) -> Tensor:
        return mats[i] if i == j else mm(product(i, split[i][j]), product(split[i][j] + 1, j))

    out = product(0, len(mats) - 1)
    keep = [n for k, n in enumerate(out.shape) if not (k == 0 and first or k == 1 and last)]
    return out.reshape(tuple(keep))
