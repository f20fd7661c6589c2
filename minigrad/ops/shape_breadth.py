"""Shape functions PyTorch code reaches for, each a composition of existing differentiable ops
(expand, reshape, cat, narrow, flip, transpose, getitem; ``DiagonalScatter`` for diag_embed), so
their gradients, first and higher order, come from those:

- broadcasting: broadcast_shapes broadcast_to broadcast_tensors
- joining and splitting: hstack vstack (row_stack) dstack column_stack, tensor_split hsplit
  vsplit dsplit, atleast_1d atleast_2d atleast_3d
- rearranging: ravel tile fliplr flipud rot90 select narrow_copy diag_embed diagflat take put
- function forms of Tensor methods: numel t detach
- grids and indices: meshgrid cartesian_prod tril_indices triu_indices unravel_index

Owns: these functions. May import: ``backend``, ``autograd``, ``errors``, sibling op modules;
``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import TensorBase, wrap
from minigrad.errors import ShapeError
from minigrad.ops._util import broadcast_shape, norm_dim
from minigrad.ops.conversion import clone
from minigrad.ops.rearrange import DiagonalScatter, flip, repeat
from minigrad.ops.search import index_put
from minigrad.ops.shape import cat, expand, getitem, narrow, reshape, stack, transpose

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "cartesian_prod",
    "column_stack",
    "diag_embed",
    "diagflat",
    "detach",
    "dsplit",
    "dstack",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "meshgrid",
    "narrow_copy",
    "numel",
    "put",
    "ravel",
    "rot90",
    "row_stack",
    "select",
    "t",
    "take",
    "tensor_split",
    "tile",
    "tril_indices",
    "triu_indices",
    "unravel_index",
    "vsplit",
    "vstack",
]


def _tensors(op: str, tensors: Any) -> tuple[Tensor, ...]:
    """``f(a, b)`` and ``f([a, b])`` alike, each a tensor."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if not isinstance(t, TensorBase):
            raise TypeError(f"{op}: expects tensors, got {type(t).__name__}")
    return tuple(tensors)


# =============================================================================================
# broadcasting
# =============================================================================================


def broadcast_shapes(*shapes: int | Sequence[int]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to (an int n stands for the shape (n,))."""
    as_tuples = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    return broadcast_shape("broadcast_shapes", "shapes", *as_tuples)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` broadcast to ``size`` (a view; -1 keeps a dim), as ``expand``."""
    return expand(input, tuple(size))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors broadcast to one shape (views)."""
    tensors = _tensors("broadcast_tensors", tensors)
    shape = broadcast_shape("broadcast_tensors", "shapes", *(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


# =============================================================================================
# atleast_nd, stacking
# =============================================================================================


def _atleast(op: str, tensors: Any, fix: Any) -> Any:
    single = len(tensors) == 1 and isinstance(tensors[0], TensorBase)
    out = tuple(fix(t) for t in _tensors(op, tensors))
    return out[0] if single else out


def atleast_1d(*tensors: Tensor) -> Any:
    """Each tensor with at least 1 dim (a 0-d one becomes (1,)); one tensor in, one out, else
    a tuple."""
    return _atleast("atleast_1d", tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors: Tensor) -> Any:
    """Each tensor with at least 2 dims: () -> (1, 1), (n,) -> (1, n)."""
    return _atleast("atleast_2d", tensors, lambda t: t.reshape(1, -1) if t.ndim < 2 else t)


def _to_3d(t: Tensor) -> Tensor:
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    return t.unsqueeze(-1) if t.ndim == 2 else t


def atleast_3d(*tensors: Tensor) -> Any:
    """Each tensor with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast("atleast_3d", tensors, _to_3d)


def _join(op: str, tensors: Any) -> tuple[Tensor, ...]:
    tensors = _tensors(op, (tensors,))
    if not tensors:
        raise ValueError(f"{op}: expects a non-empty sequence of tensors")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Tensors joined column-wise: along dim 0 for 1-D (and 0-d) tensors, else dim 1."""
    ts = [atleast_1d(t) for t in _join("hstack", tensors)]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Tensors joined row-wise (dim 0), each made at least 2-D: (n,) rows become (1, n)."""
    return cat([atleast_2d(t) for t in _join("vstack", tensors)], 0)


row_stack = vstack  # PyTorch's alias


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Tensors joined depth-wise (dim 2), each made at least 3-D."""
    return cat([atleast_3d(t) for t in _join("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Tensors joined as columns (dim 1): a 0-d or 1-D tensor of n values is an (n, 1) column."""
    ts = _join("column_stack", tensors)
    return cat([t.reshape(t.numel(), 1) if t.ndim < 2 else t for t in ts], 1)


# =============================================================================================
# splitting
# =============================================================================================


def _split_points(op: str, n: int, sections: Any) -> list[int]:
    """The boundaries of ``tensor_split``'s pieces along a dim of size ``n``."""
    if isinstance(sections, TensorBase):
        if sections.dtype.kind not in "iu" or sections.ndim > 1:
            raise TypeError(
                f"{op}: a tensor of sections or indices must be a 0-d or 1-D int tensor, got "
                f"{sections.dtype} of shape {tuple(sections.shape)}"
            )
        sections = sections.tolist()
    if isinstance(sections, int):
        if sections <= 0:
            raise ValueError(f"{op}: number of sections must be larger than 0, got {sections}")
        # the first n % sections pieces get one more element
        size, extra = divmod(n, sections)
        return [k * size + min(k, extra) for k in range(1, sections)]
    return [int(i) for i in sections]


def tensor_split(
    input: Tensor,  # noqa: A002
    indices_or_sections: int | Sequence[int] | Tensor,
    dim: int = 0,
) -> tuple[Tensor, ...]:
    """Views of ``input`` split along ``dim``: into ``n`` near-equal pieces (an int; the first
    ``size % n`` one longer), or at the given indices (a list: ``[2, 5]`` gives
    ``x[:2], x[2:5], x[5:]``, clamped as Python slices)."""
    if input.ndim == 0:
        raise ShapeError("tensor_split: expects at least a 1-dimensional tensor, got a 0-d one")
    d = norm_dim(dim, input.ndim, input.shape)
    n = input.shape[d]
    points = _split_points("tensor_split", n, indices_or_sections)
    bounds = [0, *(min(max(p + n if p < 0 else p, 0), n) for p in points), n]
    starts = bounds[:-1]
    ends = [max(e, s) for s, e in zip(starts, bounds[1:])]
    return tuple(narrow(input, d, s, e - s) for s, e in zip(starts, ends))


def _split_along(op: str, x: Tensor, sections: Any, dim: int, min_ndim: int) -> tuple[Tensor, ...]:
    if x.ndim < min_ndim:
        raise ShapeError(
            f"{op} requires a tensor with at least {min_ndim} dimension, but got a tensor with "
            f"{x.ndim} dimensions (shape {tuple(x.shape)})"
        )
    if isinstance(sections, int) and sections > 0 and x.shape[dim] % sections:
        raise ValueError(
            f"{op} attempted to split along dimension {dim}, but the size of the dimension "
            f"{x.shape[dim]} is not divisible by the split_size {sections} (shape "
            f"{tuple(x.shape)})"
        )
    return tensor_split(x, sections, dim)


def hsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:  # noqa: A002
    """``tensor_split`` along dim 1 (dim 0 for a 1-D tensor); an int must divide evenly."""
    dim = 0 if input.ndim == 1 else 1
    return _split_along("torch.hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:  # noqa: A002
    """``tensor_split`` along dim 0 of a tensor with 2 or more dims; an int must divide evenly."""
    return _split_along("torch.vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:  # noqa: A002
    """``tensor_split`` along dim 2 of a tensor with 3 or more dims; an int must divide evenly."""
    return _split_along("torch.dsplit", input, indices_or_sections, 2, 3)


# =============================================================================================
# rearranging
# =============================================================================================


def numel(input: Tensor) -> int:  # noqa: A002
    """The number of elements (``Tensor.numel``)."""
    return input.numel()


def t(input: Tensor) -> Tensor:  # noqa: A002
    """The transpose of a matrix; a 0-d or 1-D tensor as it is (``Tensor.t``)."""
    return input.t()


def detach(input: Tensor) -> Tensor:  # noqa: A002
    """The values without the history, sharing the memory (``Tensor.detach``)."""
    return input.detach()


def ravel(input: Tensor) -> Tensor:  # noqa: A002
    """The elements as a 1-D tensor (a view when the memory allows)."""
    return reshape(input, -1)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``input`` repeated ``dims[i]`` times along dim i; fewer ``dims`` than dims are padded
    with leading 1s (unlike ``repeat``, which refuses them)."""
    dims = tuple(int(d) for d in dims)
    return repeat(input, *((1,) * (input.ndim - len(dims)) + dims))


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """The columns (dim 1) in reverse order; at least 2-D."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: input must be >= 2-d, got shape {tuple(input.shape)}")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """The rows (dim 0) in reverse order; at least 1-D."""
    if input.ndim < 1:
        raise ShapeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(input, 0)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """``input`` rotated ``k`` quarter turns in the plane of ``dims``, from the first dim
    toward the second."""
    dims = tuple(dims)
    if len(dims) != 2 or input.ndim < 2:
        raise ShapeError(
            f"rot90: expects two dims of a tensor with 2 or more dims, got dims {dims} for "
            f"shape {tuple(input.shape)}"
        )
    d0, d1 = (norm_dim(d, input.ndim, input.shape) for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, d0), d0, d1)
    return clone(input)


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002
    """The slice at ``index`` along ``dim``, that dim removed (a view): ``x.select(1, 2)`` is
    ``x[:, 2]``."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = norm_dim(dim, input.ndim, input.shape)
    index = int(index)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {tuple(input.shape)} at "
            f"dimension {d}"
        )
    return getitem(input, (slice(None),) * d + (index,))


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """``narrow``'s slice as a copy with its own memory."""
    return clone(narrow(input, dim, start, length))


def diag_embed(
    input: Tensor,  # noqa: A002
    offset: int = 0,
    dim1: int = -2,
    dim2: int = -1,
) -> Tensor:
    """Each row of the last dim of ``input`` on the ``offset`` diagonal of a square matrix over
    the new dims ``dim1``, ``dim2`` of the result: (..., n) -> (..., n + |offset|, n + |offset|)
    for the default dims; zeros elsewhere. Its gradient is the diagonal."""
    if input.ndim == 0:
        raise ShapeError("diag_embed: expects at least a 1-D tensor, got a 0-d one")
    out_ndim = input.ndim + 1
    d1, d2 = (norm_dim(d, out_ndim, ()) for d in (dim1, dim2))
    if d1 == d2:
        raise ValueError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.shape[-1] + abs(int(offset))
    batch = iter(input.shape[:-1])
    shape = tuple(n if k in (d1, d2) else next(batch) for k in range(out_ndim))
    return DiagonalScatter.apply(input, in_shape=shape, args=(int(offset), d1, d2))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:  # noqa: A002
    """The flattened ``input`` on the ``offset`` diagonal of a square matrix: (n...) ->
    (N + |offset|, N + |offset|), N the number of elements."""
    return diag_embed(reshape(input, -1), offset)


def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """The elements of ``input`` at flat (row-major) positions ``index`` (negative counts from
    the end): a tensor of ``index``'s shape; the gradient adds up at repeated positions."""
    _check_flat_index("take", input, index)
    return getitem(reshape(input, -1), index)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``source``'s elements written at flat (row-major) positions
    ``index`` (negative counts from the end), as ``torch.put``: with ``accumulate=True`` added
    instead (repeated positions add up); without, a repeated position keeps the last write
    (PyTorch leaves it unspecified). ``index`` and ``source`` have as many elements, any
    shapes; the result has ``input``'s shape. Differentiable in ``input`` and ``source``."""
    _check_flat_index("put", input, index)
    if not isinstance(source, TensorBase) or source.dtype != input.dtype:
        got = source.dtype if isinstance(source, TensorBase) else type(source).__name__
        raise TypeError(f"put: source ({got}) must be a tensor of input's dtype ({input.dtype})")
    if source.numel() != index.numel():
        raise ShapeError(
            f"put: source (shape {tuple(source.shape)}) and index (shape {tuple(index.shape)}) "
            "must have as many elements"
        )
    # out.flat[index] = source (or += with accumulate): dinput = g (off the written positions
    # without accumulate), dsource = g.flat[index]
    flat = index_put(reshape(input, -1), (reshape(index, -1),), reshape(source, -1), accumulate)
    return reshape(flat, tuple(input.shape))


def _check_flat_index(op: str, input: Tensor, index: Any) -> None:  # noqa: A002
    """``index`` is an integer tensor of flat positions in [-numel, numel) of ``input``."""
    if not isinstance(index, TensorBase) or index.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: index must be an integer tensor, got "
            f"{index.dtype if isinstance(index, TensorBase) else type(index).__name__}"
        )
    n = input.numel()
    if index.numel():
        lo, hi, _ = backend.int_range(index.array)
        if lo < -n or hi >= n:
            raise IndexError(
                f"{op}: index out of range: values in [{lo}, {hi}] for a tensor of shape "
                f"{tuple(input.shape)} ({n} elements)"
            )


# =============================================================================================
# grids and indices
# =============================================================================================


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D (or 0-d) tensors of sizes n0, n1, ...: each output has shape
    (n0, n1, ...) and varies along its own dim (views). ``indexing="xy"`` swaps the first two
    dims (NumPy's default, (n1, n0, ...)); PyTorch's default is ``"ij"``."""
    tensors = _tensors("meshgrid", tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = [
        expand(t.reshape(tuple(-1 if k == i else 1 for k in range(len(flat)))), shape)
        for i, t in enumerate(flat)
    ]
    if swap:  # the grids of the swapped inputs, back in the inputs' order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, in order: (n0 n1 ..., k) for k
    tensors (one tensor comes back as it is)."""
    tensors = _tensors("cartesian_prod", tensors)
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def _indices(op: str, row: int, col: int, offset: int, dtype: Any, device: Any) -> Tensor:
    """``tril_indices``/``triu_indices`` (``op``, also NumPy's function's name): the
    coordinates worked out on the host (index arithmetic, not data), then moved to ``device``."""
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got {row} and {col}")
    device = backend.normalize_device(device)
    dtype = backend.int64 if dtype is None else backend.numpy_module().dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"{op}: dtype must be an integer type, got {dtype}")
    host = backend.numpy_module()
    rows, cols = getattr(host, op)(row, offset, col)
    return wrap(backend.asarray(host.stack([rows, cols]), dtype, device))


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None
) -> Tensor:
    """The (row, col) coordinates of the lower triangle of a (row, col) matrix (on and below
    the ``offset`` diagonal), row by row: a (2, N) int64 tensor."""
    return _indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None
) -> Tensor:
    """The (row, col) coordinates of the upper triangle of a (row, col) matrix (on and above
    the ``offset`` diagonal), row by row: a (2, N) int64 tensor."""
    return _indices("triu_indices", row, col, offset, dtype, device)


def unravel_index(indices: Tensor, shape: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Flat (row-major) positions as coordinates into ``shape``: one int64 tensor of
    ``indices``' shape per dim. As PyTorch, positions wrap modulo the sizes (-1 is the last)."""
    if not isinstance(indices, TensorBase) or indices.dtype.kind not in "iu":
        raise TypeError(
            "unravel_index: expects an integer tensor of indices, got "
            f"{indices.dtype if isinstance(indices, TensorBase) else type(indices).__name__}"
        )
    shape = (shape,) if isinstance(shape, int) else tuple(int(n) for n in shape)
    if any(n < 0 for n in shape):
        raise ValueError(f"unravel_index: sizes must be non-negative, got shape {shape}")
    flat = indices.array.astype(backend.int64)
    if math.prod(shape) == 0:
        if indices.numel():
            raise ValueError(f"unravel_index: cannot unravel into the empty shape {shape}")
        return tuple(wrap(flat.copy()) for _ in shape)
    coords, stride = [], math.prod(shape)
    for n in shape:
        stride //= n
        coords.append(wrap((flat // stride) % n))  # (flat // stride) mod n, floor division
    return tuple(coords)
