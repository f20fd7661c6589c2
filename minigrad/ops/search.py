"""Sorted search, counting, order statistics and scatters PyTorch users reach for.

- ``logical_not``: of any dtype, as ``torch.logical_not``
- ``unique unique_consecutive searchsorted bucketize bincount histc argwhere``: searching and
  counting; integer (or histogram) results, no gradient, as PyTorch's
- ``kthvalue mode msort``: order statistics; the gradient goes to the returned index
- ``index_copy index_put masked_scatter slice_scatter select_scatter renorm``: out-of-place
  writes; the gradient of the written values is ``g`` read at the written positions, the rest
  of ``g`` goes to the input

Every differentiable op here is a few lines of existing differentiable ops (``take_along_dim``,
``setitem``, ``index_fill``/``index_add``, ``where``, ``vector_norm``), so its gradient and
its ``create_graph`` gradient come from theirs; the comment above each states the formula.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``inplace``,
``return_types``, the sibling ``ops`` modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.autograd import TensorBase, wrap
from minigrad.errors import DTypeError, ShapeError
from minigrad.inplace import note_index_tensors
from minigrad.ops._util import norm_dim, require_bool_mask, require_float
from minigrad.ops.conversion import cast
from minigrad.ops.indexing import (
    check_index_source,
    index_key,
    nonzero,
    sort,
    take_along_dim,
)
from minigrad.ops.linalg import vector_norm
from minigrad.ops.mathops import _tensor
from minigrad.ops.shape import IndexAdd, cat, index_tensors, setitem, where
from minigrad.ops.statistics import _int_dim, _positions, _scan_input, cumprod
from minigrad.promotion import result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


def _ints(x: Any) -> Any:
    return wrap(x.astype(backend.int64, copy=False))


def logical_not(x: Tensor) -> Tensor:
    """Elementwise ``not x`` of the truth values of any dtype (nonzero is True): a bool tensor,
    as ``torch.logical_not`` (``minigrad.logical_not``; ``~`` and ``ops.logical_not`` take
    bools only). No gradient."""
    _tensor("logical_not", x)
    xp = backend.array_module(x.array)
    return wrap(xp.asarray(xp.logical_not(x.array)))  # asarray: 0-d gives a NumPy scalar


# =============================================================================================
# unique, unique_consecutive: no gradient (PyTorch has none either)
# =============================================================================================


def unique(
    x: Tensor,
    sorted: bool = True,  # noqa: A002  (PyTorch's name)
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct values of ``x`` in ascending order (1-d; with ``dim``, the distinct slices
    along ``dim``), and with ``return_inverse`` the index of each element (slice) in them (x's
    shape; ``(x.shape[dim],)``), with ``return_counts`` how often each occurs (int64). Sorted
    whatever ``sorted`` says, as PyTorch on CPU. No gradient."""
    _tensor("unique", x)
    data, xp = x.array, backend.array_module(x.array)
    if dim is None:
        # each NaN is a value of its own, as PyTorch's (NumPy's default merges them)
        values, inverse, counts = xp.unique(
            data.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False
        )
        inverse = inverse.reshape(data.shape)
    else:
        d = _unique_dim("unique", x, dim)
        values, inverse, counts = backend.unique_along(data, d)
    return _unique_result(wrap(values), inverse, counts, return_inverse, return_counts)


def _unique_dim(name: str, x: Tensor, dim: Any) -> int:
    """``dim`` normalized; refused where another dim is empty (every slice along ``dim`` is
    then the same empty one: PyTorch refuses it too)."""
    _int_dim(name, dim)
    d = norm_dim(dim, x.ndim, x.shape)
    if any(size == 0 for i, size in enumerate(x.shape) if i != d):
        raise ShapeError(
            f"{name}: a tensor of shape {tuple(x.shape)} has an empty dim other than dim {dim}, "
            "so its slices along dim cannot be told apart"
        )
    return d


def _unique_result(
    values: Tensor, inverse: Any, counts: Any, with_inverse: bool, with_counts: bool
) -> Any:
    extra = ([_ints(inverse)] if with_inverse else []) + ([_ints(counts)] if with_counts else [])
    return (values, *extra) if extra else values


def unique_consecutive(
    x: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
) -> Any:
    """``x`` with each run of equal consecutive values (slices along ``dim``) kept once: the
    values (1-d for ``dim=None``), the run of each element, the length of each run. No
    gradient."""
    _tensor("unique_consecutive", x)
    data, xp = x.array, backend.array_module(x.array)
    if dim is None:
        rows, d = data.reshape(-1), 0
    else:
        rows = data.reshape(1) if data.ndim == 0 else data
        d = _unique_dim("unique_consecutive", x, dim)
    n = rows.shape[d]
    moved = xp.moveaxis(rows, d, 0).reshape(n, rows.size // n if n else 0)
    # a run starts where a slice differs from the one before it
    starts = xp.ones(n, dtype=bool)
    starts[1:] = (moved[1:] != moved[:-1]).any(axis=1) if moved.shape[1] else False
    run = xp.cumsum(starts) - 1
    first = xp.nonzero(starts)[0]
    counts = xp.diff(xp.concatenate([first, xp.asarray([n], dtype=first.dtype)]))
    values = xp.take(rows, first, axis=d)
    inverse = run.reshape(data.shape) if dim is None else run
    return _unique_result(wrap(values), inverse, counts, return_inverse, return_counts)


# =============================================================================================
# searchsorted, bucketize, bincount, histc, argwhere
# =============================================================================================


def searchsorted(
    sorted_sequence: Tensor,
    values: Any,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each of ``values``, the index at which it would be inserted into the rows of
    ``sorted_sequence`` (ascending along its last dim) to keep them sorted: the first such
    index, the last with ``right=True`` or ``side="right"``. ``sorted_sequence`` is 1-d, or
    has ``values``' leading dims; ``values`` may be a number (a 0-d result, 1-d sequences
    only). ``sorter``: the indices that sort an unsorted sequence. int64 (int32 with
    ``out_int32``), no gradient."""
    _tensor("searchsorted", sorted_sequence)
    if side not in (None, "left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if side == "left" and right:
        raise ValueError("searchsorted: side='left' and right=True contradict each other")
    right = right or side == "right"
    seq = sorted_sequence.array
    xp = backend.array_module(seq)
    scalar = not isinstance(values, TensorBase)
    if scalar and not isinstance(values, numbers.Real):
        raise TypeError(
            f"searchsorted: values must be a Tensor or a number, got {type(values).__name__}"
        )
    vals = xp.asarray(values) if scalar else values.array
    if seq.ndim == 0 or (scalar and seq.ndim != 1):
        raise ShapeError(
            f"searchsorted: the sorted sequence must be 1-d (or N-d with a tensor of values), "
            f"got shape {tuple(seq.shape)}"
        )
    if seq.ndim > 1 and tuple(seq.shape[:-1]) != tuple(vals.shape[:-1]):
        raise ShapeError(
            f"searchsorted: a sorted sequence of shape {tuple(seq.shape)} must share all but "
            f"its last dim with the values, got shape {tuple(vals.shape)}"
        )
    if sorter is not None:
        _tensor("searchsorted: sorter", sorter)
        if tuple(sorter.shape) != tuple(seq.shape) or sorter.dtype.kind not in "iu":
            raise ShapeError(
                f"searchsorted: sorter must be an integer tensor of the sequence's shape "
                f"{tuple(seq.shape)}, got {sorter.dtype} of shape {tuple(sorter.shape)}"
            )
        lo, hi, _ = backend.int_range(sorter.array, None)
        if sorter.numel() and not 0 <= lo <= hi < seq.shape[-1]:  # NumPy would wrap -1
            raise IndexError(
                f"searchsorted: sorter indices must be in [0, {seq.shape[-1]}), got [{lo}, {hi}]"
            )
        seq = xp.take_along_axis(seq, sorter.array, axis=-1)
    found = _search_rows(seq, vals, right)
    return wrap(found.astype(backend.int32 if out_int32 else backend.int64, copy=False))


def _search_rows(seq: Any, values: Any, right: bool) -> Any:
    """The insertion index of each value in its row of ``seq`` (1-d: one row for all)."""
    xp = backend.array_module(seq)
    if seq.ndim == 1:
        return xp.asarray(xp.searchsorted(seq, values, side="right" if right else "left"))
    # row by row at once: the number of the row's entries not at or above (right: not above)
    # each value, so a NaN value goes last, as on a 1-d sequence and in PyTorch
    rows, vals = seq[..., None, :], values[..., None]
    below = ~(rows > vals) if right else ~(rows >= vals)
    return below.sum(axis=-1)


def bucketize(
    input: Tensor,  # noqa: A002  (PyTorch's name)
    boundaries: Tensor,
    *,
    out_int32: bool = False,
    right: bool = False,
) -> Tensor:
    """The bucket of each element of ``input`` between the ascending 1-d ``boundaries``:
    ``i`` with ``boundaries[i-1] < x <= boundaries[i]`` (``boundaries[i-1] <= x <
    boundaries[i]`` with ``right=True``). ``input``'s shape, int64 (int32 with ``out_int32``)."""
    _tensor("bucketize", boundaries)
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-d, got shape {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(
    input: Tensor,  # noqa: A002  (PyTorch's name)
    weights: Tensor | None = None,
    minlength: int = 0,
) -> Tensor:
    """How often each of 0, 1, ..., max(input) occurs in the 1-d non-negative integer
    ``input`` (at least ``minlength`` bins): int64, or the sums of ``weights`` (input's shape)
    per bin: float32 for float32 weights, float64 for any other dtype, as PyTorch. No
    gradient."""
    _tensor("bincount", input)
    if input.ndim != 1 or input.dtype.kind not in "iub":
        raise DTypeError(
            f"bincount: expects a 1-d non-negative integer tensor, got {input.dtype} of shape "
            f"{tuple(input.shape)}"
        )
    if not isinstance(minlength, int) or minlength < 0:
        raise ValueError(f"bincount: minlength must be a non-negative int, got {minlength!r}")
    lo, _, _ = backend.int_range(input.array, None)
    if input.shape[0] and lo < 0:
        raise ValueError(f"bincount: expects non-negative values, got a minimum of {lo}")
    if weights is None:
        return _ints(backend.bincount(input.array, None, minlength))
    _tensor("bincount: weights", weights)
    if tuple(weights.shape) != tuple(input.shape):
        raise ShapeError(
            f"bincount: weights of shape {tuple(weights.shape)} must have the input's shape "
            f"{tuple(input.shape)}"
        )
    dtype = backend.float32 if weights.dtype == backend.float32 else backend.float64
    counts = backend.bincount(input.array, weights.array, minlength)
    return wrap(counts.astype(dtype, copy=False))


def histc(
    input: Tensor,  # noqa: A002  (PyTorch's name)
    bins: int = 100,
    min: float = 0,  # noqa: A002  (PyTorch's name)
    max: float = 0,  # noqa: A002  (PyTorch's name)
) -> Tensor:
    """A histogram of ``input`` in ``bins`` equal bins spanning [min, max] (the data's own
    range when both are 0); elements outside are ignored, the last bin is closed. Floats only,
    as PyTorch; input's dtype, no gradient."""
    _tensor("histc", input)
    require_float("histc", input)
    if not isinstance(bins, int) or bins <= 0:
        raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
    if min > max:
        raise ValueError(f"histc: max must be larger than min, got min={min} max={max}")
    data = input.array.reshape(-1)
    xp = backend.array_module(data)
    if min == max and data.shape[0]:
        min, max = float(data.min()), float(data.max())
    if min == max:  # PyTorch widens an empty range by 1 each side
        min, max = min - 1, max + 1
    if not -math.inf < min <= max < math.inf:  # a NaN or an infinity among the data or bounds
        raise ValueError(
            f"histc: the range [{min}, {max}] is not finite (input {input.dtype} of shape "
            f"{tuple(input.shape)})"
        )
    if data.dtype.itemsize < 4:  # float16: (v - min) * bins overflows it (PyTorch's gives inf)
        data = data.astype(backend.float32)
    kept = data[(data >= min) & (data <= max)]
    # bin of v: floor((v - min) * bins / (max - min)), the maximum in the last bin; computed
    # in the input's dtype, as PyTorch (float32 rounding decides the bin at an edge)
    which = ((kept - min) * bins / (max - min)).astype(backend.int64)
    which = xp.minimum(which, bins - 1)
    return wrap(backend.bincount(which, None, bins).astype(input.dtype))


def argwhere(x: Tensor) -> Tensor:
    """The indices of the nonzero elements of ``x``, int64 of shape (n, x.ndim)."""
    _tensor("argwhere", x)
    return nonzero(x)


# =============================================================================================
# kthvalue, mode, msort: the gradient goes to the returned index
# =============================================================================================


def _picked(x: Tensor, index: Any, d: int, squeeze: bool, kind: Any) -> Any:
    """``(values, indices)`` of ``x`` at ``index`` (keepdim shape) along ``d``; the values
    by ``take_along_dim``, so the gradient of each goes to its index."""
    indices = _ints(index)
    # values = x[index] along d: dx = g scattered to the index (take_along_dim's gradient)
    values = take_along_dim(x, indices, d)
    if squeeze:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return kind(values, indices)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """The ``k``-th smallest value (``k`` from 1) along ``dim`` and its index: the named tuple
    ``(values, indices)``; the gradient goes to that index."""
    x, d, was_0d = _scan_input("kthvalue", x, dim)
    n = x.shape[d]
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
        raise IndexError(
            f"kthvalue: k ({k!r}) must be in [1, {n}], the size of dim {dim} of a tensor of "
            f"shape {tuple(x.shape)}"
        )
    xp = backend.array_module(x.array)
    order = xp.argsort(x.array, axis=d, kind="stable")
    index = xp.take(order, xp.asarray([k - 1]), axis=d)
    return _picked(x, index, d, was_0d or not keepdim, return_types.kthvalue)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` (the smallest of those tied) and the index of its
    last occurrence, as PyTorch: the named tuple ``(values, indices)``; the gradient goes to
    that index."""
    x, d, was_0d = _scan_input("mode", x, dim)
    if x.shape[d] == 0:
        raise IndexError(f"mode: cannot reduce over dim {dim} of size 0 (shape {tuple(x.shape)})")
    data, xp = x.array, backend.array_module(x.array)
    ordered = xp.sort(data, axis=d)
    run_length = _run_lengths(ordered, d)
    # the first longest run of the sorted row holds the smallest of the most frequent values
    longest = xp.expand_dims(run_length.argmax(axis=d), d)
    best = xp.take_along_axis(ordered, longest, axis=d)
    pos = _positions(data.shape[d], d, data.ndim, data)
    hit = data == best
    if data.dtype.kind == "f":  # a NaN mode (a row of NaNs only) is found at a NaN
        hit |= xp.isnan(data) & xp.isnan(best)
    index = xp.where(hit, pos, -1).max(axis=d, keepdims=True)
    return _picked(x, index, d, was_0d or not keepdim, return_types.mode)


def _run_lengths(ordered: Any, d: int) -> Any:
    """For rows sorted along ``d``: the length of the run of equal values each entry is in."""
    xp = backend.array_module(ordered)
    n = ordered.shape[d]
    pos = _positions(n, d, ordered.ndim, ordered)
    first = xp.take(ordered, xp.arange(1, n), axis=d) != xp.take(ordered, xp.arange(n - 1), axis=d)
    pad = xp.ones([1 if i == d else s for i, s in enumerate(ordered.shape)], dtype=bool)
    starts = xp.concatenate([pad, first], axis=d)  # a run starts here
    ends = xp.concatenate([first, pad], axis=d)  # a run ends here
    start = backend.accumulate("maximum", xp.where(starts, pos, 0), d)
    end = xp.flip(backend.accumulate("minimum", xp.flip(xp.where(ends, pos, n), d), d), d)
    return end - start + 1


def msort(x: Tensor) -> Tensor:
    """``x`` sorted along dim 0 (``sort(x, 0).values``); the gradient goes back through the
    permutation."""
    _tensor("msort", x)
    return sort(x, 0).values if x.ndim else x.clone()


# =============================================================================================
# index_copy, index_put, masked_scatter, slice_scatter, select_scatter, renorm
# =============================================================================================


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``x`` whose slices ``index`` along ``dim`` are ``source``'s (x's shape but
    ``len(index)`` along ``dim``), as ``torch.index_copy``."""
    _tensor("index_copy", x)
    _tensor("index_copy: source", source)
    dim, key = index_key("index_copy", x, dim, index)
    # a 0-d tensor: dim 0 of one element, its source of shape () or (1,), as PyTorch
    if not x.ndim and source.ndim <= 1 and source.numel() == 1:
        return index_copy(x.reshape(1), 0, index, source.reshape(-1)).reshape(())
    check_index_source("index_copy", x, dim, index, source)
    # out = x with source's slices written at index (a repeated index: the last one's, where
    # PyTorch leaves it unspecified): dx = g off the index, dsource = g[index] (setitem's)
    return setitem(x, key, source)


def index_put(
    x: Tensor, indices: tuple[Tensor, ...], values: Any, accumulate: bool = False
) -> Tensor:
    """A copy of ``x`` with ``x[indices] = values`` (``values`` broadcast to the indexed
    shape), or ``x[indices] += values`` with ``accumulate=True`` (repeated indices add up),
    as ``torch.index_put``; ``indices`` a tuple of integer or bool tensors."""
    _tensor("index_put", x)
    if not isinstance(indices, (tuple, list)) or not all(
        isinstance(i, TensorBase) for i in indices
    ):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got {indices!r}")
    if not indices:  # x[()] would write every element; PyTorch fails on it
        raise IndexError(f"index_put: indices is empty (self of shape {tuple(x.shape)})")
    for i in indices:
        if i.dtype.kind not in "iub":
            raise DTypeError(f"index_put: indices must be integer or bool tensors, got {i.dtype}")
    if not isinstance(values, (TensorBase, numbers.Number)):
        raise TypeError(
            f"index_put: values must be a Tensor or a number, got {type(values).__name__}"
        )
    if not isinstance(values, TensorBase):
        values = wrap(backend.asarray(values, dtype=x.dtype, device=x.device))
    if values.dtype != x.dtype:
        raise DTypeError(
            f"index_put: values ({values.dtype}, shape {tuple(values.shape)}) must have the "
            f"dtype of self ({x.dtype})"
        )
    if not accumulate:
        return setitem(x, tuple(indices), values)
    index = tuple(i.array for i in indices)
    target = x.array[index].shape
    # out = x + (zeros with values added at index): dx = g, dvalues = g[index]
    added = IndexAdd.apply(values.expand(target), in_shape=x.shape, index=index, advanced=True)
    note_index_tensors(added.grad_fn, index_tensors(indices))  # its backward reads them
    return x + added


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``x`` whose positions where ``mask`` is True hold ``source``'s first elements,
    in row-major order, as ``torch.masked_scatter``: ``x`` and ``mask`` broadcast together (the
    in-place form keeps x's shape)."""
    _tensor("masked_scatter", x)
    _tensor("masked_scatter: source", source)
    require_bool_mask("masked_scatter", mask)
    if source.dtype != x.dtype:
        raise DTypeError(
            f"masked_scatter: source ({source.dtype}) must have the dtype of self ({x.dtype})"
        )
    xp = backend.array_module(x.array)
    try:
        shape = tuple(backend.numpy_module().broadcast_shapes(tuple(mask.shape), tuple(x.shape)))
    except ValueError:
        raise ShapeError(
            f"masked_scatter: a mask of shape {tuple(mask.shape)} and self of shape "
            f"{tuple(x.shape)} cannot be broadcast together"
        ) from None
    x = x.expand(shape) if shape != tuple(x.shape) else x  # PyTorch broadcasts self too
    full = xp.broadcast_to(mask.array, shape)
    count = xp.cumsum(full.reshape(-1))  # position k takes source element count_k - 1
    needed = int(count[-1]) if count.shape[0] else 0
    if needed > source.numel():
        raise ShapeError(
            f"masked_scatter: the mask selects {needed} elements but source (shape "
            f"{tuple(source.shape)}) has only {source.numel()}"
        )
    taken = xp.maximum(count - 1, 0).astype(backend.int64)
    if source.numel() == 0:
        return x.clone()
    # out = where(mask, source[taken], x): dx = g off the mask, dsource = g scattered back
    # the mask itself (not a new tensor of its array): where's node then notes its version
    mask = mask.expand(shape) if tuple(mask.shape) != shape else mask
    return where(mask, source.reshape(-1)[wrap(taken)].reshape(x.shape), x)


def _not_0d(name: str, x: Tensor) -> None:
    if x.ndim == 0:  # as PyTorch: a 0-d tensor has no dim to slice or select
        raise ShapeError(f"{name}: self must have at least one dimension, got shape ()")


def _scatter_into(name: str, x: Tensor, src: Tensor, key: tuple[Any, ...]) -> Tensor:
    """``setitem(x, key, src)``, ``src`` of exactly the shape ``x[key]`` has (as PyTorch);
    ``x`` is already checked by the caller."""
    _tensor(f"{name}: src", src)
    target = tuple(x.array[key].shape)
    if tuple(src.shape) != target:
        raise ShapeError(
            f"{name}: src of shape {tuple(src.shape)} must have the shape {target} of the "
            f"part of self (shape {tuple(x.shape)}) it replaces"
        )
    if src.dtype != x.dtype:
        raise DTypeError(f"{name}: src ({src.dtype}) must have the dtype of self ({x.dtype})")
    # out = x with x[key] = src: dx = g off key, dsrc = g[key]
    return setitem(x, key, src)


def slice_scatter(
    x: Tensor,
    src: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """A copy of ``x`` with ``x[..., start:end:step, ...]`` (along ``dim``) replaced by
    ``src``, as ``torch.slice_scatter``."""
    _tensor("slice_scatter", x)
    _int_dim("slice_scatter", dim)
    _not_0d("slice_scatter", x)
    if not isinstance(step, int) or step <= 0:
        raise ValueError(f"slice_scatter: step must be a positive int, got {step!r}")
    d = norm_dim(dim, x.ndim, x.shape)
    return _scatter_into("slice_scatter", x, src, (slice(None),) * d + (slice(start, end, step),))


def select_scatter(x: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``x`` with ``x.select(dim, index)`` replaced by ``src``, as
    ``torch.select_scatter``."""
    _tensor("select_scatter", x)
    _int_dim("select_scatter", dim)
    _not_0d("select_scatter", x)
    d = norm_dim(dim, x.ndim, x.shape)
    size = x.shape[d]
    if not isinstance(index, int) or not -size <= index < size:
        raise IndexError(
            f"select_scatter: index {index!r} is out of range for dim {dim} of size {size} "
            f"(shape {tuple(x.shape)})"
        )
    return _scatter_into("select_scatter", x, src, (slice(None),) * d + (index,))


def renorm(x: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``x`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to
    norm ``maxnorm`` (as PyTorch, by ``maxnorm / (norm + 1e-7)``). Floats only."""
    _tensor("renorm", x)
    require_float("renorm", x)
    _int_dim("renorm", dim)
    if x.ndim < 2:
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got shape {tuple(x.shape)}")
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"renorm: p must be a positive number, got {p!r}")
    if not isinstance(maxnorm, (int, float)) or maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be a non-negative number, got {maxnorm!r}")
    d = norm_dim(dim, x.ndim, x.shape)
    others = tuple(i for i in range(x.ndim) if i != d)
    norm = vector_norm(x, p, others, keepdim=True)
    # out = x * (maxnorm / (||x_i||_p + 1e-7) where ||x_i||_p > maxnorm, else 1)
    return x * where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


# =============================================================================================
# gcd, lcm, trapezoid, vander, cov, corrcoef, multinomial
# =============================================================================================


def _integer_pair(name: str, a: Tensor, b: Tensor) -> tuple[Any, Any, Any]:
    """``a`` and ``b``'s arrays in their integer result type (PyTorch's: a 0-d int64 keeps an
    int8 tensor int8, a bool joins an integer), and the array module."""
    _tensor(name, a)
    _tensor(name, b)
    dtype = result_type(a, b)
    if dtype.kind not in "iu":  # a float, or two bools (PyTorch: "not implemented for 'Bool'")
        raise DTypeError(
            f"{name}: expects integer tensors, got {a.dtype} (shape {tuple(a.shape)}) and "
            f"{b.dtype} (shape {tuple(b.shape)})"
        )
    x, y = (t.array.astype(dtype, copy=False) for t in (a, b))
    return x, y, backend.array_module(x)


def gcd(a: Tensor, b: Tensor) -> Tensor:
    """The greatest common divisor of ``a`` and ``b`` (broadcast, integers; non-negative,
    ``gcd(0, 0) = 0``), as ``torch.gcd``. No gradient."""
    x, y, xp = _integer_pair("gcd", a, b)
    return wrap(xp.asarray(xp.gcd(x, y)))  # asarray: 0-d gives a NumPy scalar


def lcm(a: Tensor, b: Tensor) -> Tensor:
    """The least common multiple of ``a`` and ``b`` (broadcast, integers; non-negative,
    ``lcm(0, n) = 0``), as ``torch.lcm``. No gradient."""
    x, y, xp = _integer_pair("lcm", a, b)
    return wrap(xp.asarray(xp.lcm(x, y)))  # asarray: 0-d gives a NumPy scalar


def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The trapezoid rule along ``dim``: ``sum_i (x_{i+1} - x_i) (y_i + y_{i+1}) / 2``, with
    sample points ``x`` (``y``'s shape along ``dim``, or 1-d) or a spacing ``dx`` (default 1).
    Shape: y's without ``dim``."""
    _tensor("trapezoid", y)
    if x is not None and dx is not None:
        raise TypeError("trapezoid: give the sample points x or the spacing dx, not both")
    if y.ndim == 0:
        raise ValueError("trapezoid: expects a tensor with at least one dimension, got 0-d")
    _int_dim("trapezoid", dim)
    d = norm_dim(dim, y.ndim, y.shape)
    n = y.shape[d]
    if y.dtype.kind not in "f":
        y = y.float()
    if n == 0:
        return y.sum(d) * 0
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2  # (y_i + y_{i+1}) / 2
    if x is None:
        return mid.sum(d) * (1.0 if dx is None else dx)
    _tensor("trapezoid: x", x)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(
                f"trapezoid: 1-d x of length {x.shape[0]} must match y's dim {dim} of size {n} "
                f"(y of shape {tuple(y.shape)})"
            )
        x = x.reshape([-1 if i == d else 1 for i in range(y.ndim)])
    step = x.narrow(d, 1, x.shape[d] - 1) - x.narrow(d, 0, x.shape[d] - 1)
    return (step * mid).sum(d)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of the 1-d ``x``: ``out[i, j] = x_i ** (N - 1 - j)`` (``x_i **
    j`` with ``increasing``), ``N`` columns (default ``len(x)``); (len(x), N). Built as a
    cumulative product, so the gradient is exact at ``x_i = 0``."""
    _tensor("vander", x)
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be 1-d, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else N
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"vander: N must be a non-negative int, got {N!r}")
    if x.dtype.kind in "biu":
        x = cast(x, backend.int64)
    if n == 0:
        return x.reshape(-1, 1).expand(x.shape[0], 0) * 1
    ones = wrap(backend.array_module(x.array).ones((x.shape[0], 1), dtype=x.dtype))
    # out[:, j] = prod_{k < j} x = x^j: cumprod's gradient is exact where x_i = 0
    powers = cumprod(cat([ones, x.reshape(-1, 1).expand(x.shape[0], n - 1)], 1), 1)
    return powers if increasing else powers.flip(1)


def _weights(name: str, w: Any, n: int, integer: bool) -> None:
    if w is None:
        return
    _tensor(name, w)
    if w.ndim != 1 or w.shape[0] != n:
        raise ShapeError(f"cov: {name} must be 1-d of length {n}, got shape {tuple(w.shape)}")
    if integer and w.dtype.kind not in "iu":
        raise DTypeError(f"cov: fweights must be integers, got {w.dtype}")
    if not integer and w.dtype.kind != "f":
        raise DTypeError(f"cov: aweights must be floats, got {w.dtype}")
    if n and bool((w.array < 0).any()):  # as PyTorch: a negative weight has no meaning
        raise ValueError(f"cov: {name} cannot be negative, got a minimum of {w.array.min()}")


def cov(
    x: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """The covariance matrix of the variables in the rows of ``x`` (1-d: one variable, a 0-d
    result), observations in the columns: ``(xc w) xc^T / (sum w - correction ...)`` with
    ``xc = x - the weighted mean``, as ``torch.cov`` (``fweights`` integer frequencies,
    ``aweights`` float importances). (V, N) -> (V, V); one variable gives a 0-d tensor."""
    _tensor("cov", x)
    if not isinstance(correction, int) or isinstance(correction, bool):
        raise TypeError(f"cov: correction must be an int, got {correction!r}")
    if x.ndim > 2:
        raise ShapeError(f"cov: expects a 1-d or 2-d tensor, got shape {tuple(x.shape)}")
    if x.dtype == backend.bool_:
        raise DTypeError(f"cov: expects numbers, got bool (shape {tuple(x.shape)})")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    if rows.dtype.kind != "f":
        rows = rows.float()
    n = rows.shape[1]
    _weights("fweights", fweights, n, True)
    _weights("aweights", aweights, n, False)
    if aweights is not None:  # the result in the two's promoted dtype, as PyTorch
        rows = rows.to(dtype=backend.numpy_module().result_type(rows.dtype, aweights.dtype))
    w = None
    for given in (fweights, aweights):
        if given is not None:
            given = given.to(dtype=rows.dtype)
            w = given if w is None else w * given
    if w is None:
        w_sum = float(n)
        mean = rows.mean(1, keepdim=True)
        norm = w_sum - correction
    else:
        w_sum = w.sum()
        mean = (rows * w).sum(1, keepdim=True) / w_sum
        scale = 1 if aweights is None else (w * aweights.to(dtype=rows.dtype)).sum() / w_sum
        norm = w_sum - correction * scale
    norm = norm.clamp(min=0) if isinstance(norm, TensorBase) else max(norm, 0)
    centered = rows - mean
    xw = centered if w is None else centered * w
    # cov = (xc w) xc^T / norm, xc = x - mean (norm 0: inf or NaN, as PyTorch's)
    with backend.quiet():
        out = (xw @ centered.t()) / norm
    return out.reshape(()) if out.shape[0] == 1 else out  # one variable: 0-d, as PyTorch


def corrcoef(x: Tensor) -> Tensor:
    """The Pearson correlation matrix of the variables in the rows of ``x``:
    ``cov_ij / sqrt(cov_ii cov_jj)``, clipped to [-1, 1], as ``torch.corrcoef``."""
    c = cov(x)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    # r = cov / (s_i s_j), s = sqrt(diag(cov))
    return (c / d.reshape(-1, 1) / d.reshape(1, -1)).clamp(-1, 1)


def multinomial(
    x: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None
) -> Tensor:
    """``num_samples`` category indices per row of the non-negative weights ``x`` ((C,) or
    (R, C)), drawn with probability proportional to the weights, with or without
    replacement; int64 of shape (num_samples,) or (R, num_samples). Draws come from
    ``generator`` when given (a ``minigrad.Generator``, or a NumPy or CuPy ``Generator``: the
    same seed gives the same samples, and the global generator is left as it was), else from
    the generator ``minigrad.manual_seed`` seeds."""
    _tensor("multinomial", x)
    require_float("multinomial", x)
    if generator is not None and not callable(getattr(generator, "random", None)):
        raise TypeError(
            "multinomial: generator must be a minigrad.Generator (or a NumPy or CuPy random "
            f"Generator), got {type(generator).__name__}"
        )
    if x.ndim not in (1, 2):
        raise ShapeError(f"multinomial: prob_dist must be 1-d or 2-d, got shape {tuple(x.shape)}")
    rows = x.array.reshape(1, -1) if x.ndim == 1 else x.array
    xp = backend.array_module(rows)
    categories = rows.shape[1]
    if not isinstance(num_samples, int) or num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be a positive int, got {num_samples!r}")
    if not replacement and num_samples > categories:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples without replacement from "
            f"{categories} categories (shape {tuple(x.shape)})"
        )
    bad = ~xp.isfinite(rows) | (rows < 0)
    total = rows.sum(axis=1)
    if bool(bad.any()) or bool((total <= 0).any()):
        raise ValueError(
            "multinomial: the weights must be finite, non-negative and have a positive sum in "
            f"every row (shape {tuple(x.shape)})"
        )
    weights = rows.astype(backend.float64)
    shape = (rows.shape[0], num_samples if replacement else categories)
    u = backend.uniform(shape, backend.float64, x.device, generator)
    if replacement:  # inverse CDF: the first category whose cumulative weight exceeds u
        cdf = xp.cumsum(weights, axis=1)
        cdf = cdf / cdf[:, -1:]
        # a binary search per row (comparing every u with every category held R x S x C)
        found = [xp.searchsorted(row, draws, side="right") for row, draws in zip(cdf, u)]
        picked = xp.stack(found) if found else u.astype(backend.int64)
        picked = xp.minimum(picked, categories - 1)
    else:  # an exponential race: the num_samples smallest -log(u) / w arrive first
        with backend.quiet():
            arrival = xp.where(weights > 0, -xp.log1p(-u) / weights, xp.inf)
        picked = xp.argsort(arrival, axis=1, kind="stable")[:, :num_samples]
    picked = picked.astype(backend.int64)
    return wrap(picked.reshape(-1) if x.ndim == 1 else picked)
