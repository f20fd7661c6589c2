"""Shape ops (reshape, transpose, permute, expand), indexing, joining and masking, matmul.

Forward results are views where the backend allows it; each backward maps the gradient back
to the input's layout (indexing scatter-adds, so repeated indices accumulate).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``inplace``, ``ops._util``;
``tensor`` for annotations only.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.inplace import note_index_tensors
from minigrad.ops._util import (
    DimError,
    ShapeError,
    broadcast_shape,
    norm_dim,
    require_0d_value,
    require_bool_mask,
    same_dtype,
)
from minigrad.ops.conversion import cast
from minigrad.promotion import checked_scalar, promote_types, require_64_bit_int, result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# Reshaping
# =============================================================================================


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        # dx = g reshaped back
        return g.reshape(ctx.in_shape)

    backward_graph = backward  # Tensor methods only: the same formula runs on Tensors


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return x.swapaxes(dim0, dim1)

    @staticmethod
    def backward(ctx, g):
        # dx = g with the same two axes swapped back
        return g.swapaxes(*ctx.dims)

    @staticmethod
    def backward_graph(ctx, g):
        return g.transpose(*ctx.dims)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        # dx = g permuted by the inverse permutation
        return g.transpose(ctx.inverse)

    @staticmethod
    def backward_graph(ctx, g):
        return g.permute(*ctx.inverse)


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape):
        return backend.array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        # dx = g summed over the expanded axes (done by the engine's unbroadcast)
        return g

    backward_graph = backward  # Tensor methods only: the same formula runs on Tensors


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    shape = _shape_arg(shape)
    size = x.array.size
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if (
        shape.count(-1) > 1
        or (-1 not in shape and known != size)
        or (-1 in shape and (known == 0 or size % known))
    ):
        raise ShapeError(
            f"reshape: cannot view a tensor of shape {tuple(x.shape)} ({size} elements) as {shape}"
        )
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    shape = x.array.shape
    if not shape:
        return reshape(x, 1)
    start = norm_dim(start_dim, len(shape), shape)
    end = norm_dim(end_dim, len(shape), shape)
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {tuple(shape)})"
        )
    merged = math.prod(shape[start : end + 1])  # not -1: a size-0 dim elsewhere hides it
    return Reshape.apply(x, shape=shape[:start] + (merged,) + shape[end + 1 :])


@accepts_axis
def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    shape = x.array.shape
    d = norm_dim(dim, len(shape) + 1, shape)
    return Reshape.apply(x, shape=shape[:d] + (1,) + shape[d:])


@accepts_axis
def squeeze(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove size-1 dims (only those in ``dim`` when given; others are left as they are)."""
    shape = x.array.shape
    if dim is None:
        dims = {i for i, n in enumerate(shape) if n == 1}
    else:
        listed = (dim,) if isinstance(dim, int) else tuple(dim)
        normalized = [norm_dim(d, len(shape), shape) for d in listed]
        if len(set(normalized)) != len(normalized):  # as PyTorch (and the reductions)
            raise ValueError(
                f"squeeze: dim {listed} names a dimension twice (tensor shape {tuple(shape)})"
            )
        dims = {d for d in normalized if shape and shape[d] == 1}  # a 0-d tensor stays as it is
    return Reshape.apply(x, shape=tuple(n for i, n in enumerate(shape) if i not in dims))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    shape = x.array.shape
    if not shape:  # a 0-d tensor: dims 0 and -1 name no axis
        norm_dim(dim0, 0, shape), norm_dim(dim1, 0, shape)
        return Reshape.apply(x, shape=())
    return Transpose.apply(
        x, dim0=norm_dim(dim0, len(shape), shape), dim1=norm_dim(dim1, len(shape), shape)
    )


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dims: ``x.permute(2, 0, 1)``."""
    dims = _shape_arg(dims)
    shape = x.array.shape
    normalized = tuple(norm_dim(d, len(shape), shape) for d in dims)
    if sorted(normalized) != list(range(len(shape))):
        raise ValueError(
            f"permute: {dims} is not a permutation of the {len(shape)} dims of shape {tuple(shape)}"
        )
    return Permute.apply(x, dims=normalized)


def movedim(x: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """The dims ``source`` moved to positions ``destination``, the others kept in order (a view
    through ``permute``), as ``torch.movedim``: (2, 3, 4) with 0 -> -1 gives (3, 4, 2)."""
    shape = x.array.shape
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = tuple(norm_dim(d, len(shape), shape) for d in src)
    dst = tuple(norm_dim(d, len(shape), shape) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    if not shape:
        return Reshape.apply(x, shape=())
    order = dict(zip(dst, src))
    rest = iter(d for d in range(len(shape)) if d not in src)
    return Permute.apply(
        x, dims=tuple(order[i] if i in order else next(rest) for i in range(len(shape)))
    )


def narrow(x: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """``length`` elements along ``dim`` from ``start`` (negative counts from the end; an int or
    a 0-d integer tensor): a view, as ``torch.narrow``."""
    shape = x.array.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = norm_dim(dim, len(shape), shape)
    start = int(start.item()) if isinstance(start, TensorBase) else start
    size = shape[dim]
    if not -size <= start <= size:
        raise IndexError(
            f"narrow: start ({start}) out of range [{-size}, {size}] for dim {dim} of shape "
            f"{tuple(shape)}"
        )
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size}) of "
            f"dim {dim} of shape {tuple(shape)}"
        )
    return getitem(x, (slice(None),) * dim + (slice(start, start + length),))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dims to ``sizes`` without copying (-1 keeps a dim)."""
    sizes = _shape_arg(sizes)
    shape = x.array.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"expand: cannot expand shape {tuple(shape)} to the shorter {sizes}")
    lead = len(sizes) - len(shape)
    target = []
    for i, n in enumerate(sizes):
        old = shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ShapeError(f"expand: -1 is not allowed for a new leading dim ({sizes})")
            n = old
        elif old is not None and old != 1 and old != n:
            raise ShapeError(
                f"expand: dim {i} of shape {tuple(shape)} has size {old}, cannot expand to {n}"
            )
        target.append(n)
    return Expand.apply(x, shape=tuple(target))


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


# =============================================================================================
# Indexing
# =============================================================================================


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index, advanced=False):
        ctx.in_shape, ctx.in_dtype = x.shape, x.dtype
        ctx.index, ctx.advanced = index, advanced
        out = x[index]
        if not advanced and out.__class__ is not x.__class__:  # all ints: NumPy gives a scalar
            out = x[(*index, Ellipsis) if isinstance(index, tuple) else (index, Ellipsis)]
        return out  # a 0-d view then, as PyTorch's: a write into it reaches x

    @staticmethod
    def backward(ctx, g):
        # dx = zeros with g scattered into the indexed positions (added where indices repeat)
        xp = backend.array_module(g)
        dx = xp.zeros(ctx.in_shape, dtype=ctx.in_dtype)
        if ctx.advanced:
            backend.scatter_add(dx, ctx.index, g)
        else:
            dx[ctx.index] = g
        return dx

    @staticmethod
    def backward_graph(ctx, g):
        return IndexAdd.apply(g, in_shape=ctx.in_shape, index=ctx.index, advanced=ctx.advanced)


class IndexAdd(Function):
    """getitem's gradient as an op of its own (zeros of the input's shape, ``g`` added at the
    index), so that it differentiates again: its gradient is getitem at the same index."""

    @staticmethod
    def forward(ctx, g, in_shape, index, advanced):
        ctx.index, ctx.advanced = index, advanced
        dx = backend.array_module(g).zeros(in_shape, dtype=g.dtype)
        if advanced:
            backend.scatter_add(dx, index, g)
        else:
            dx[index] = g
        return dx

    @staticmethod
    def backward(ctx, u):
        # dg = u[index]
        return u[ctx.index]

    @staticmethod
    def backward_graph(ctx, u):
        return GetItem.apply(u, index=ctx.index, advanced=ctx.advanced)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with ints, slices, None, ..., integer arrays/tensors and boolean masks.

    Integers beside integer arrays or boolean masks select first, as in PyTorch: ``x[0, :, ids]``
    is ``x[0][:, ids]`` (NumPy would index with 0 and ids together and put their dim first).
    """
    tensors = index_tensors(index)
    index, advanced = _normalize_index(x, index)
    if isinstance(index, tuple) and _ints_beside_arrays(index):
        basic, index = _ints_first(index)
        x = GetItem.apply(x, index=basic, advanced=False)
    out = GetItem.apply(x, index=index, advanced=advanced)
    note_index_tensors(out.grad_fn, tensors)  # the backward reads their arrays, not copies
    return out


def index_tensors(index: Any) -> list[Tensor]:
    """The tensors of at least one dim in ``index`` (whole, or items of a tuple or list): their
    arrays become the index an op keeps for its backward. A 0-d one is read as a number."""
    items = index if isinstance(index, (tuple, list)) else (index,)
    return [i for i in items if isinstance(i, TensorBase) and i.ndim]


class SetItem(Function):
    """A copy of ``x`` with ``value`` written at ``basic`` then ``rest`` (``out[basic][rest]``:
    PyTorch's ints-first order, see getitem)."""

    @staticmethod
    def forward(ctx, x, value, basic, rest):
        ctx.basic, ctx.rest = basic, rest
        out = x.copy()
        out[basic][rest] = value
        return out

    @staticmethod
    def backward(ctx, g):
        # dx = g with zeros where value was written ; dvalue = g at the written positions
        dx = g.copy()
        dx[ctx.basic][ctx.rest] = 0
        return dx, g[ctx.basic][ctx.rest]

    @staticmethod
    def backward_graph(ctx, g):
        written = backend.array_module(g.array).zeros(g.shape, dtype=bool)
        written[ctx.basic][ctx.rest] = True
        picked = GetItem.apply(g, index=ctx.basic, advanced=_has_array(ctx.basic))
        value = GetItem.apply(picked, index=ctx.rest, advanced=_has_array(ctx.rest))
        return g.masked_fill(wrap(written), 0.0), value


def _has_array(index: tuple[Any, ...]) -> bool:
    return any(hasattr(i, "dtype") and hasattr(i, "shape") for i in index)


def setitem(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of ``x`` with ``x[index] = value`` (``value`` a scalar or a tensor broadcast to
    the indexed shape, cast to x's dtype); differentiable in both. ``Tensor.__setitem__`` writes
    it back into ``x``."""
    tensors = index_tensors(index)
    index, advanced = _normalize_index(x, index)
    basic, rest = (index if isinstance(index, tuple) else (index,)), (Ellipsis,)
    if _ints_beside_arrays(basic):
        basic, rest = _ints_first(basic)
    elif advanced or any(getattr(i, "dtype", None) == backend.bool_ for i in basic):
        basic, rest = (Ellipsis,), basic
    if not any(i is Ellipsis for i in basic):
        basic = (*basic, Ellipsis)  # a view even where every index is an int
    if not isinstance(value, TensorBase):
        if value.__class__ in (bool, int, float) and x.dtype.kind != "f":
            value = checked_scalar("setitem", value, x.dtype)  # PyTorch's rule, as fill_
        value = wrap(backend.asarray(value, dtype=x.dtype, device=x.device))
    target = x.array[basic][rest].shape
    while value.ndim > len(target) and value.shape[0] == 1:  # PyTorch drops leading 1s
        value = reshape(value, value.shape[1:])
    try:
        fits = broadcast_shape("setitem", "", target, value.shape) == tuple(target)
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(
            f"setitem: a value of shape {tuple(value.shape)} cannot fill the indexed shape "
            f"{tuple(target)} of a tensor of shape {tuple(x.shape)}"
        )
    out = SetItem.apply(x, cast(value, x.dtype), basic=basic, rest=rest)
    note_index_tensors(out.grad_fn, tensors)
    return out


def _ints_beside_arrays(index: tuple[Any, ...]) -> bool:
    """Whether ``index`` mixes Python ints with integer arrays or boolean masks."""
    return any(isinstance(i, int) for i in index) and any(_is_array(i) for i in index)


def _is_array(i: Any) -> bool:
    return hasattr(i, "dtype") and hasattr(i, "shape")


def _ints_first(index: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Split ``index`` into its basic part (ints, slices, None; each array replaced by full
    slices over the dims it indexes: one for an integer array, ``ndim`` for a boolean mask) and
    the arrays to apply to that result."""
    is_array = [_is_array(i) for i in index]
    basic = tuple(
        s
        for i, arr in zip(index, is_array)
        for s in (((slice(None),) * (i.ndim if i.dtype == backend.bool_ else 1)) if arr else (i,))
    )
    rest = tuple(
        i if arr or i is Ellipsis else slice(None)
        for i, arr in zip(index, is_array)
        if arr or not isinstance(i, int)
    )
    return basic, rest


def _normalize_index(x: Tensor, index: Any) -> tuple[Any, bool]:
    """Turn tensors in the index into arrays on x's device and check bounds up front."""
    if index.__class__ is list and _list_as_tuple(index):
        index = tuple(index)
    items = index if isinstance(index, tuple) else (index,)
    shape = x.array.shape
    xp = backend.array_module(x.array)
    out = []
    advanced = False
    # the dim each item indexes: count real dims consumed before an Ellipsis, then from the end
    consumed = sum(1 if not (i is None or i is Ellipsis) else 0 for i in items)
    for it in items:
        if isinstance(it, TensorBase):
            if it.device != x.device:
                raise RuntimeError(
                    f"index: the index tensor is on {it.device}, the indexed tensor on {x.device}"
                )
            it = it.array
        elif isinstance(it, bool):
            # a Python bool is a 0-d mask, as in PyTorch (NumPy's view-then-write in setitem
            # would write into a copy, and an int 1/0 beside arrays selects another row)
            it = backend.asarray(it, dtype=backend.bool_, device=x.device)
        elif isinstance(it, (list, tuple, range)):
            # a tuple or range inside the index is a sequence of positions, as a list is
            it = backend.to_device(_list_index(list(it)), x.device)
        elif hasattr(it, "__array__") and getattr(it, "ndim", 0) > 0:
            it = backend.to_device(it, x.device)
        if getattr(it, "ndim", None) == 0 and it.dtype.kind == "i":
            it = int(it)  # a 0-d integer tensor indexes as an int, as in PyTorch: it selects first
        if hasattr(it, "dtype") and hasattr(it, "shape") and not isinstance(it, (int, bool)):
            if it.dtype == backend.uint8:  # a mask in PyTorch (deprecated there), not positions
                it = it.astype(backend.bool_)
            if it.dtype == backend.bool_:
                consumed += it.ndim - 1
            elif it.dtype == backend.int64 or it.dtype == backend.int32:
                advanced = True
            else:
                raise IndexError(
                    "index: tensors used as indices must be int64, int32, uint8 or bool (as in "
                    f"PyTorch), got {it.dtype}"
                )
        out.append(it)
    if consumed > len(shape):
        raise IndexError(
            f"index: too many indices ({consumed}) for a tensor of shape {tuple(shape)}"
        )
    if consumed == len(shape) and len(out) > 1 and any(map(_is_array, out)):
        # an Ellipsis over no dims does not keep arrays apart (PyTorch); NumPy would then put
        # their dims first
        out = [it for it in out if it is not Ellipsis]
    _check_bounds(out, shape, xp)
    return (tuple(out) if isinstance(index, tuple) else out[0]), advanced


def _list_as_tuple(items: list[Any]) -> bool:
    """Whether a list index stands for a tuple of indices, by PyTorch's rule (NumPy's before
    1.23): one of fewer than 32 items holding a sequence (a range, an array: not a NumPy
    scalar, which has ``__array__`` but no length), a tensor, a slice, None or an Ellipsis.
    ``x[[[0, 1], [1, 0]]]`` is ``x[[0, 1], [1, 0]]``; ``x[[0, 1]]`` picks rows."""
    return len(items) < 32 and any(
        isinstance(i, (list, tuple, range, slice, TensorBase))
        or i is None
        or i is Ellipsis
        or (hasattr(i, "__array__") and hasattr(i, "__len__"))
        for i in items
    )


def _list_index(items: list[Any]) -> Any:
    """A list as an index array: an empty list is an empty int64 index (as PyTorch), not the
    float64 array NumPy would make of it."""
    arr = backend.asarray(items, device="cpu")
    return arr.astype(backend.int64) if arr.size == 0 else arr


def _check_bounds(items: list[Any], shape: tuple[int, ...], xp: Any) -> None:
    """Raise IndexError naming the shape for an int or integer array out of range."""
    dim = 0
    ellipsis_span = len(shape) - sum(
        (getattr(i, "ndim", 1) if getattr(i, "dtype", None) == backend.bool_ else 1)
        for i in items
        if not (i is None or i is Ellipsis)
    )
    for it in items:
        if it is None:
            continue
        if it is Ellipsis:
            dim += ellipsis_span
            continue
        if isinstance(it, slice):
            dim += 1
            continue
        if getattr(it, "dtype", None) == backend.bool_:
            if tuple(it.shape) != tuple(shape[dim : dim + it.ndim]):
                raise IndexError(
                    f"index: boolean mask of shape {tuple(it.shape)} does not match dims {dim}.. "
                    f"of a tensor of shape {tuple(shape)}"
                )
            dim += it.ndim
            continue
        size = shape[dim]
        if hasattr(it, "shape"):  # integer array
            # checked on every backend: CuPy would wrap an out-of-range index around silently
            lo, hi, _ = backend.int_range(it)  # one device read
            if lo <= hi and (lo < -size or hi >= size):
                bad = lo if lo < -size else hi
                raise IndexError(
                    f"index {bad} is out of range for dim {dim} of size {size} (tensor shape {tuple(shape)})"
                )
        elif isinstance(it, int) and not -size <= it < size:
            raise IndexError(
                f"index {it} is out of range for dim {dim} of size {size} (tensor shape {tuple(shape)})"
            )
        dim += 1


# =============================================================================================
# Joining and splitting
# =============================================================================================


class Cat(Function):
    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        ctx.bounds = []
        total = 0
        for x in xs:
            total += x.shape[dim]
            ctx.bounds.append(total)
        return backend.array_module(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        # dx_i = the slice of g that x_i filled
        return tuple(backend.array_module(g).split(g, ctx.bounds[:-1], axis=ctx.dim))

    @staticmethod
    def backward_graph(ctx, g):
        lead = (slice(None),) * ctx.dim
        starts = [0, *ctx.bounds[:-1]]
        return tuple(g[lead + (slice(lo, hi),)] for lo, hi in zip(starts, ctx.bounds))


class Stack(Function):
    @staticmethod
    def forward(ctx, *xs, dim=0):
        ctx.dim = dim
        return backend.array_module(xs[0]).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        # dx_i = g[..., i, ...] along the new dim
        lead = (slice(None),) * ctx.dim
        return tuple(g[lead + (i,)] for i in range(g.shape[ctx.dim]))

    backward_graph = backward  # Tensor methods only: the same formula runs on Tensors


def _check_join(name: str, tensors: Sequence[Tensor], dim: int, new_dim: bool) -> int:
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    shapes = [tuple(t.shape) for t in tensors]
    ndim = len(shapes[0])
    d = norm_dim(dim, ndim + 1 if new_dim else ndim, shapes[0])
    for s in shapes:
        if len(s) != ndim or any(
            a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if new_dim or i != d
        ):
            raise ShapeError(
                f"{name}: tensors must have the same shape{'' if new_dim else ' except in dim ' + str(d)}, got {shapes}"
            )
    return d


def _refuse_sequence(name: str, tensors: Any) -> None:
    """Raise TypeError, as PyTorch, unless ``tensors`` is a list or tuple of tensors (a
    generator, a lone tensor, or an element that is no tensor: a list, a number)."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{name}: expected a list or tuple of tensors, got {type(tensors).__name__}"
            + (" (a tensor: wrap it in a list)" if isinstance(tensors, TensorBase) else "")
        )
    for i, t in enumerate(tensors):
        if not isinstance(t, TensorBase):
            raise TypeError(
                f"{name}: expected a tensor as element {i} of the sequence, got "
                f"{type(t).__name__}; make it one with minigrad.tensor(...)"
            )


def _promoted(tensors: Sequence[Tensor]) -> Sequence[Tensor]:
    """The tensors in their common dtype (PyTorch's promotion), cast differentiably."""
    first = tensors[0].dtype
    if all(t.dtype == first for t in tensors):
        return tensors
    dtype = functools.reduce(promote_types, (t.dtype for t in tensors))
    return [t if t.dtype == dtype else cast(t, dtype) for t in tensors]


@accepts_axis
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate along an existing ``dim``; mixed dtypes are promoted (as PyTorch). A tensor
    of shape (0,) is skipped whatever the others' shapes (PyTorch's legacy rule, which lets
    ``cat([tensor([]), x])`` grow ``x``); its dtype still takes part in the promotion."""
    if tensors.__class__ is not list and tensors.__class__ is not tuple:
        _refuse_sequence("cat", tensors)
    try:
        skip = any(t.array.shape == (0,) for t in tensors)
    except AttributeError:
        _refuse_sequence("cat", tensors)
        raise
    if skip:
        kept = [t for t in tensors if t.shape != (0,)]
        if not kept:
            return Cat.apply(*_promoted(tensors), dim=0)
        shape = kept[0].shape
        d = norm_dim(dim, len(shape), shape)
        empty = (*shape[:d], 0, *shape[d + 1 :])  # the skipped, reshaped: in the graph still
        tensors = [reshape(t, empty) if t.shape == (0,) else t for t in tensors]
    d = _check_join("cat", tensors, dim, new_dim=False)
    return Cat.apply(*_promoted(tensors), dim=d)


@accepts_axis
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new ``dim``; mixed dtypes are promoted (as PyTorch)."""
    if tensors.__class__ is not list and tensors.__class__ is not tuple:
        _refuse_sequence("stack", tensors)
    try:
        d = _check_join("stack", tensors, dim, new_dim=True)
    except AttributeError:
        _refuse_sequence("stack", tensors)
        raise
    return Stack.apply(*_promoted(tensors), dim=d)


@accepts_axis
def split(
    x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given sizes."""
    shape = x.array.shape
    d = norm_dim(dim, len(shape), shape)
    size = shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, size - start) for start in range(0, size, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sizes and min(sizes) < 0:  # [4, -1] sums to 3 too
            raise ValueError(f"split: sections must be non-negative, got {sizes}")
        if sum(sizes) != size:
            raise ShapeError(
                f"split: sections {sizes} sum to {sum(sizes)}, but dim {d} of shape {tuple(shape)} has size {size}"
            )
    pieces, start = [], 0
    lead = (slice(None),) * d
    for n in sizes:
        pieces.append(getitem(x, lead + (slice(start, start + n),)))
        start += n
    return tuple(pieces)


@accepts_axis
def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``dim``, that dim removed, as ``torch.unbind``: views."""
    shape = x.array.shape
    if not shape:
        raise DimError(f"unbind: a 0-d tensor has no dim {dim} to unbind")
    d = norm_dim(dim, len(shape), shape)
    lead = (slice(None),) * d
    return tuple(getitem(x, lead + (i,)) for i in range(shape[d]))


@accepts_axis
def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` nearly equal pieces (as ``torch.chunk``: each of ceil(size/chunks))."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    shape = x.array.shape
    size = shape[norm_dim(dim, len(shape), shape)]
    if size == 0:  # as PyTorch: ``chunks`` empty pieces
        return tuple(split(x, [0] * chunks, dim))
    return split(x, -(-size // chunks), dim)


# =============================================================================================
# Masking
# =============================================================================================


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        xp = backend.array_module(condition)
        return xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, g):
        (condition,) = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g where condition ; db = g where not condition
        return (
            None,
            xp.where(condition, g, 0) if ctx.needs_input_grad[1] else None,
            xp.where(condition, 0, g) if ctx.needs_input_grad[2] else None,
        )

    @staticmethod
    def backward_graph(ctx, g):
        condition = _saved_mask(ctx, g)  # a constant bool Tensor
        return (
            None,
            where(condition, g, 0.0) if ctx.needs_input_grad[1] else None,
            where(condition, 0.0, g) if ctx.needs_input_grad[2] else None,
        )


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        return backend.array_module(x).where(mask, value, x)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        # dx = g where not mask, 0 where filled
        return backend.array_module(g).where(mask, 0, g), None, None

    @staticmethod
    def backward_graph(ctx, g):
        return g.masked_fill(_saved_mask(ctx, g), 0.0), None, None


def _saved_mask(ctx: Any, g: Tensor) -> Tensor:
    """The mask a Where or MaskedFill node saved, as a Tensor: the mask input comes back as one,
    except a NumPy bool scalar (a ``backward_graph`` that wrapped a 0-d comparison, ``b == 0``)
    that no input array matches and that comes back as it is."""
    (mask,) = ctx.saved_tensors
    return mask if isinstance(mask, TensorBase) else wrap(backend.ensure_array(mask, g.array))


class Tril(Function):
    @staticmethod
    def forward(ctx, x, diagonal=0):
        ctx.diagonal = diagonal
        return backend.array_module(x).tril(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        # dx = tril(g)
        return backend.array_module(g).tril(g, ctx.diagonal)

    @staticmethod
    def backward_graph(ctx, g):
        return tril(g, ctx.diagonal)


class Triu(Function):
    @staticmethod
    def forward(ctx, x, diagonal=0):
        ctx.diagonal = diagonal
        return backend.array_module(x).triu(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        # dx = triu(g)
        return backend.array_module(g).triu(g, ctx.diagonal)

    @staticmethod
    def backward_graph(ctx, g):
        return triu(g, ctx.diagonal)


def where(condition: Tensor, a: Any = None, b: Any = None) -> Tensor | tuple[Tensor, ...]:
    """``a`` where ``condition`` is True, else ``b`` (tensors or scalars; broadcasting). With
    ``condition`` alone: ``nonzero(condition, as_tuple=True)``, as PyTorch."""
    if a is None or b is None:
        if a is not None or b is not None:  # NumPy would fill in None: an object array
            raise TypeError("where: give both a and b (the values where True and where False)")
        from minigrad.ops.indexing import nonzero  # noqa: PLC0415 (indexing imports this module)

        return nonzero(condition, as_tuple=True)
    require_bool_mask("where", condition)
    shapes = [tuple(t.shape) for t in (condition, a, b) if isinstance(t, TensorBase)]
    broadcast_shape("where", "shapes (condition, a, b)", *shapes)
    dtype = result_type(a, b)  # PyTorch's promotion; two Python floats give the default float
    if dtype.kind == "f":
        for t in (a, b):  # as PyTorch: refused beyond 64 bits (two numbers as well), and a
            if t.__class__ is int:  # float past float32's range (float16's gives inf there)
                require_64_bit_int("where", t, dtype)
            elif t.__class__ is float and dtype.itemsize == 4:
                checked_scalar("where", t, dtype)
    if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
        a = wrap(backend.asarray(a, dtype=dtype, device=condition.device))
    if dtype.kind != "f":  # a Python int out of an integer dtype's range raises (NumPy wraps)
        a, b = (
            t if isinstance(t, TensorBase) else _scalar_in("where", t, dtype, condition.device)
            for t in (a, b)
        )
    a, b = (cast(t, dtype) if isinstance(t, TensorBase) else t for t in (a, b))
    return Where.apply(condition, a, b)


def masked_fill(x: Tensor, mask: Tensor, value: float) -> Tensor:
    """``x`` with ``value`` where ``mask`` is True; ``x`` and ``mask`` broadcast together, as
    PyTorch's (the result has the broadcast shape; ``masked_fill_`` keeps ``x``'s)."""
    require_bool_mask("masked_fill", mask)
    try:
        broadcast_shape("masked_fill", "", x.shape, mask.shape)
    except ShapeError:
        raise ShapeError(
            f"masked_fill: mask of shape {tuple(mask.shape)} does not broadcast with the "
            f"tensor's shape {tuple(x.shape)}"
        ) from None
    if isinstance(value, TensorBase):
        require_0d_value("masked_fill", value)
        if value.requires_grad and x.dtype.kind == "f":
            # a value that requires grad gets the gradient of the filled elements, as PyTorch
            return where(mask, cast(value.reshape(()), x.dtype), x)
        value = value.item()
    if isinstance(value, float) and x.dtype.kind in "iu":  # a bool tensor takes 2.5 as True
        raise TypeError(f"masked_fill: cannot fill a {x.dtype} tensor with the float {value!r}")
    if x.dtype.kind != "f":
        # the value in x's dtype, as PyTorch: a bool tensor stays bool (2 is True), an int out
        # of the dtype's range raises (NumPy's where widened the first, wrapped the second)
        value = _scalar_in("masked_fill", value, x.dtype, x.device)
    elif value.__class__ is float or value.__class__ is int:  # 1e10 in float16, 2**64 raise
        value = checked_scalar("masked_fill", value, x.dtype)
    return MaskedFill.apply(x, mask, value)


def _scalar_in(op: str, value: Any, dtype: Any, device: str) -> Any:
    """A Python number as a 0-d array of the integer or bool ``dtype``, by PyTorch's checked
    conversion (``promotion.checked_scalar``): one out of its range raises, naming the op, the
    value and the dtype; -1 in uint8 is 255."""
    return backend.asarray(checked_scalar(op, value, dtype), dtype=dtype, device=device)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (elements above ``diagonal`` set to 0)."""
    if x.array.ndim < 2:
        raise ShapeError(f"tril: needs at least 2 dims, got shape {tuple(x.shape)}")
    return Tril.apply(x, diagonal=diagonal)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (elements below ``diagonal`` set to 0)."""
    if x.array.ndim < 2:
        raise ShapeError(f"triu: needs at least 2 dims, got shape {tuple(x.shape)}")
    return Triu.apply(x, diagonal=diagonal)


# =============================================================================================
# Matrix product
# =============================================================================================


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        if needs_a or needs_b:  # da reads b, db reads a: keep only those (PyTorch's)
            ctx.save_for_backward(a if needs_b else None, b if needs_a else None)
            ctx.ndims = a.ndim, b.ndim
        # out = a @ b
        return backend.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        if a_ndim == 1 or b_ndim == 1:
            return _vector_matmul_grads(ctx, g, a, b)
        # da = g @ b^T ; db = a^T @ g, summed over the batch dims that b was broadcast over
        da = backend.matmul(g, b.swapaxes(-1, -2)) if b is not None else None
        db = backend.matmul_at(a, g, b_ndim) if a is not None else None
        return da, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.saved_tensors
        a_ndim, b_ndim = ctx.ndims
        # the same formulas; a vector operand is lifted to a matrix and the axis dropped again
        shape = tuple(g.shape) + ((1,) if b_ndim == 1 else ())
        if a_ndim == 1:
            shape = shape[:-1] + (1,) + shape[-1:]
        g2 = g.reshape(shape)
        da = db = None
        if b is not None:
            b2 = b.unsqueeze(-1) if b_ndim == 1 else b
            da = g2 @ b2.transpose(-1, -2)
            da = da.squeeze(-2) if a_ndim == 1 else da
        if a is not None:
            a2 = a.unsqueeze(0) if a_ndim == 1 else a
            db = a2.transpose(-1, -2) @ g2
            db = db.squeeze(-1) if b_ndim == 1 else db
        return da, db


def _vector_matmul_grads(ctx: Function, g: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """MatMul's gradients when an operand is a vector: lift it to a matrix (a row for ``a``,
    a column for ``b``), take the matrix gradients, drop the added axis again. ``a`` or ``b``
    is None when the other's gradient is not wanted (MatMul did not save it)."""
    a_ndim, b_ndim = ctx.ndims
    g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a_ndim == 1 else g
    g2 = g2[..., None] if b_ndim == 1 else g2
    da = db = None
    if b is not None:  # da = g @ b^T
        b2 = b[:, None] if b_ndim == 1 else b
        da = g2 @ b2.swapaxes(-1, -2)
        da = da.reshape(da.shape[:-2] + da.shape[-1:]) if a_ndim == 1 else da
    if a is not None:  # db = a^T @ g
        a2 = a[None, :] if a_ndim == 1 else a
        db = a2.swapaxes(-1, -2) @ g2
        db = db[..., 0] if b_ndim == 1 else db
    return da, db


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dims broadcast.
    Both operands have one dtype (PyTorch's rule; NumPy would promote): int @ int is allowed.

    Shapes: (n,) @ (n,) -> (); (..., n, k) @ (k,) -> (..., n); (..., n, k) @ (..., k, m) -> (..., n, m).
    """
    _check_matmul("matmul", a, b)
    return MatMul.apply(a, b)


def _check_matmul(op: str, a: Any, b: Any) -> None:
    """The operands' types, dtypes and aligned dims; errors name ``op`` (matmul, mm, bmm)."""
    if not isinstance(a, TensorBase) or not isinstance(b, TensorBase):
        raise TypeError(
            f"{op}: both operands must be tensors, got {type(a).__name__} and {type(b).__name__}"
        )
    if a.array.dtype != b.array.dtype:
        same_dtype(op, ("the first operand", a), ("the second", b))  # raises, naming both
    sa, sb = a.array.shape, b.array.shape
    if not sa or not sb:
        raise ShapeError(
            f"{op}: both operands need at least 1 dim, got shapes {tuple(sa)} and {tuple(sb)}"
        )
    k_a = sa[-1]
    k_b = sb[-2] if len(sb) > 1 else sb[0]
    if k_a != k_b:
        raise ShapeError(
            f"{op}: shapes {tuple(sa)} and {tuple(sb)} are not aligned: {k_a} (last dim of the first) "
            f"!= {k_b} ({'second-to-last' if len(sb) > 1 else 'only'} dim of the second)"
        )
    if len(sa) > 2 and len(sb) > 2:
        _check_batch(sa[:-2], sb[:-2], sa, sb)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two matrices, (n, k) @ (k, m) -> (n, m), as ``torch.mm`` (no vectors,
    no broadcasting: ``matmul`` has those)."""
    if getattr(a, "ndim", None) != 2 or getattr(b, "ndim", None) != 2:
        raise ShapeError(f"mm: both operands must be 2-D, got shapes {_shapes(a, b)}")
    _check_matmul("mm", a, b)
    return MatMul.apply(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product, (B, n, k) @ (B, k, m) -> (B, n, m), as ``torch.bmm`` (one batch
    size on both sides, no broadcasting: ``matmul`` has that)."""
    if getattr(a, "ndim", None) != 3 or getattr(b, "ndim", None) != 3:
        raise ShapeError(f"bmm: both operands must be 3-D, got shapes {_shapes(a, b)}")
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ, shapes {_shapes(a, b)}")
    _check_matmul("bmm", a, b)
    return MatMul.apply(a, b)


def _shapes(a: Any, b: Any) -> str:
    return " and ".join(
        str(tuple(t.shape)) if isinstance(t, TensorBase) else type(t).__name__ for t in (a, b)
    )


def _check_batch(
    ba: tuple[int, ...], bb: tuple[int, ...], sa: tuple[int, ...], sb: tuple[int, ...]
) -> None:
    for x, y in zip(reversed(ba), reversed(bb)):
        if x != y and x != 1 and y != 1:
            raise ShapeError(
                f"matmul: batch dims of shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast ({x} vs {y})"
            )
