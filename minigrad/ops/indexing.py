"""Indexing by index tensors (issue 16): gather, scatter, scatter_add, scatter_reduce,
masked_select, nonzero, the orderings sort, argsort, topk, and index_fill, index_add (whole
slices along one dim, picked by a 1-D index).

``gather``/``scatter`` address ``x`` along one ``dim`` with an integer ``index`` tensor, the other
dims by position (PyTorch's rule: ``out[i][j][k] = x[i][index[i][j][k]][k]`` for ``dim=1``).
Both turn ``index`` into one advanced-indexing tuple (:func:`_along`), so forward and backward
read the same positions: a gather's gradient scatter-adds, a scatter's gradient gathers.
Orderings return their indices without gradient and their values through ``gather``.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``inplace``, ``promotion``,
``ops._util``, ``ops.shape``; ``tensor`` for annotations only.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.inplace import note_index_tensors
from minigrad.ops._util import (
    ShapeError,
    broadcast_shape,
    check_ids,
    half_in_float32,
    norm_dim,
    require_0d_value,
    require_bool_mask,
)
from minigrad.ops.shape import expand, getitem, reshape, setitem
from minigrad.promotion import checked_scalar

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# gather, scatter, scatter_add
# =============================================================================================


def _along(index: Any, dim: int) -> tuple[Any, ...]:
    """The advanced index that reads ``x[..., index[...], ...]`` along ``dim`` and by position
    elsewhere: ``index`` itself at ``dim``, an ``arange`` (broadcast over the rest) at each
    other dim."""
    xp = backend.array_module(index)
    ndim = index.ndim
    return tuple(
        index if d == dim else xp.arange(n).reshape((n,) + (1,) * (ndim - d - 1))
        for d, n in enumerate(index.shape)
    )


class Gather(Function):
    @staticmethod
    def forward(ctx, x, index, dim=0):
        where = _along(index, dim)
        ctx.where, ctx.in_shape, ctx.index, ctx.dim = where, x.shape, index, dim
        return x[where]

    @staticmethod
    def backward(ctx, g):
        # dx = zeros with g added at the gathered positions (repeated indices accumulate)
        dx = backend.array_module(g).zeros(ctx.in_shape, dtype=g.dtype)
        backend.scatter_add(dx, ctx.where, g)
        return dx, None

    @staticmethod
    def backward_graph(ctx, g):
        zeros = wrap(backend.array_module(g.array).zeros(ctx.in_shape, dtype=g.dtype))
        return ScatterAdd.apply(zeros, ctx.index, g, dim=ctx.dim), None


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, index, src, dim=0):
        where = _along(index, dim)
        ctx.where, ctx.src_shape = where, getattr(src, "shape", None)
        ctx.index, ctx.dim = index, dim
        out = x.copy()
        out[where] = src[_leading(src, index)] if ctx.src_shape is not None else src
        return out

    @staticmethod
    def backward(ctx, g):
        # dx = g with the overwritten positions zeroed ; dsrc = g read at those positions
        dx = g.copy()
        dx[ctx.where] = 0
        return dx, None, _read_back(ctx, g)

    @staticmethod
    def backward_graph(ctx, g):
        dx = Scatter.apply(g, ctx.index, 0.0, dim=ctx.dim) if ctx.needs_input_grad[0] else None
        return dx, None, _read_back_graph(ctx, g)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, index, src, dim=0):
        where = _along(index, dim)
        ctx.where, ctx.src_shape, ctx.index, ctx.dim = where, src.shape, index, dim
        out = x.copy()
        backend.scatter_add(out, where, src[_leading(src, index)])
        return out

    @staticmethod
    def backward(ctx, g):
        # dx = g ; dsrc = g read at the positions each src element was added to
        return g, None, _read_back(ctx, g)

    @staticmethod
    def backward_graph(ctx, g):
        return g, None, _read_back_graph(ctx, g)


# =============================================================================================
# scatter_reduce: each position reduces x's value (include_self) and the src values landing on it
# =============================================================================================

SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _landed(shape: tuple[int, ...], where: tuple[Any, ...], like: Any) -> Any:
    """A bool array of ``shape``: True at each position some src value lands on."""
    hit = backend.array_module(like).zeros(shape, dtype=bool)
    hit[where] = True
    return hit


def _start(x: Any, where: tuple[Any, ...], s: Any, include_self: bool, identity: Any) -> Any:
    """A copy of ``x`` to reduce into: without ``include_self`` the landed positions start at
    the reduction's ``identity`` (or, given None, at one of the values landing there)."""
    out = x.copy()
    if not include_self:
        out[where] = s if identity is None else identity
    return out


class ScatterExtreme(Function):
    """``amax`` / ``amin`` of each position's values; ``how`` is "maximum" or "minimum"."""

    @staticmethod
    @backend.quietly  # a NaN wins silently, as in PyTorch
    def forward(ctx, x, index, src, dim=0, how="maximum", include_self=True):
        where = _along(index, dim)
        s = src[_leading(src, index)]
        out = _start(x, where, s, include_self, None)
        backend.scatter_reduce_at(out, where, s, how)
        ctx.save_for_backward(x, src, out)
        ctx.where, ctx.index, ctx.dim, ctx.src_shape = where, index, dim, src.shape
        ctx.include_self = include_self
        return out

    @staticmethod
    def backward(ctx, g):
        # the values equal to the result share g evenly: dx = g / n where x won (and took
        # part), dsrc = (g / n)[index] where src won; n = how many won at each position
        x_part, src_won, share = _extreme_winners(ctx, ctx.saved_tensors, g.dtype)
        return g * x_part, None, _read_back(ctx, g * share, src_won)

    @staticmethod
    def backward_graph(ctx, g):
        # the same split with constant weights (piecewise linear: second derivative 0)
        arrays = tuple(getattr(t, "array", t) for t in ctx.saved_tensors)
        x_part, src_won, share = _extreme_winners(ctx, arrays, g.dtype)
        dx = g * x_part if ctx.needs_input_grad[0] else None
        return dx, None, _read_back_graph(ctx, g * share, src_won)


def _extreme_winners(ctx: Function, saved: tuple[Any, ...], dtype: Any) -> tuple[Any, Any, Any]:
    """x's share of each position's gradient (1 / n where x equals the amax/amin result and
    took part, else 0), where src equals it, and 1 / n; n = how many values equal it. Where
    a NaN won, none equals it (n = 0): the shares there are NaN (0 / 0), as PyTorch's."""
    x, src, out = saved
    s = src[_leading(src, ctx.index)]
    x_won = x == out
    landed = None if ctx.include_self else _landed(x.shape, ctx.where, x)
    if landed is not None:
        x_won &= ~landed
    src_won = s == out[ctx.where]
    count = x_won.astype(dtype)
    backend.scatter_add(count, ctx.where, src_won.astype(dtype))
    share = (1 / count).astype(dtype, copy=False)  # inf where a NaN won
    x_part = share * x_won  # inf * 0: NaN where a NaN won
    if landed is not None:  # x took no part there: 0, NaN or not
        x_part = backend.array_module(x).where(landed, 0, x_part).astype(dtype, copy=False)
    return x_part, src_won.astype(dtype), share


class ScatterProd(Function):
    """The product of each position's values."""

    @staticmethod
    @backend.quietly  # overflow to inf and inf * 0 = NaN without a warning, as in PyTorch
    def forward(ctx, x, index, src, dim=0, include_self=True):
        where = _along(index, dim)
        out = _start(x, where, 1, include_self, 1)
        backend.scatter_reduce_at(out, where, src[_leading(src, index)], "multiply")
        ctx.save_for_backward(x, src)
        ctx.where, ctx.index, ctx.dim, ctx.src_shape = where, index, dim, src.shape
        ctx.include_self = include_self
        return out

    @staticmethod
    def backward(ctx, g):
        # d out / d value = the product of the position's other values: for x the product of
        # src there; for a src value v, prod(nonzero) / v, or prod(nonzero) if v is the only 0
        x, src = ctx.saved_tensors
        xp = backend.array_module(x)
        s = src[_leading(src, ctx.index)]
        src_prod = xp.ones_like(x)
        backend.scatter_reduce_at(src_prod, ctx.where, s, "multiply")
        dx = _drop_landed(ctx, g * src_prod, x) if ctx.needs_input_grad[0] else None
        members = x if ctx.include_self else _start(x, ctx.where, 1, False, 1)
        zeros = (members == 0).astype(x.dtype)
        backend.scatter_add(zeros, ctx.where, (s == 0).astype(x.dtype))
        nonzero_prod = xp.where(members == 0, 1, members)
        backend.scatter_reduce_at(nonzero_prod, ctx.where, xp.where(s == 0, 1, s), "multiply")
        zeros, nonzero_prod = zeros[ctx.where], nonzero_prod[ctx.where]
        others = xp.where(
            s == 0,
            nonzero_prod * (zeros == 1),
            nonzero_prod / xp.where(s == 0, 1, s) * (zeros == 0),
        )
        return dx, None, _read_back(ctx, g, others)

    @staticmethod
    def backward_graph(ctx, g):
        # the same products rebuilt with ScatterProd itself, so they differentiate again:
        # dx = g * prod(src); dsrc = (g * out)[index] / v, or (g * prod(others))[index] at a
        # lone zero v (a src value that is one of several zeros gets 0, its second derivative
        # is not followed)
        x, src = ctx.saved_tensors
        xp = backend.array_module(x.array)
        opts = {"dim": ctx.dim}
        dx = None
        if ctx.needs_input_grad[0]:
            ones = wrap(xp.ones_like(x.array))
            src_prod = ScatterProd.apply(ones, ctx.index, src, include_self=True, **opts)
            dx = g * src_prod
            if not ctx.include_self:  # 0 where src landed (NaN * 0 would be NaN)
                dx = dx.masked_fill(wrap(_landed(x.shape, ctx.where, x.array)), 0.0)
        if not ctx.needs_input_grad[2]:
            return dx, None, None
        zero = src.array == 0
        zeros_there = xp.zeros_like(x.array, dtype=g.dtype)
        backend.scatter_add(zeros_there, ctx.where, zero[_leading(src.array, ctx.index)])
        lone = (zero & _pad_index(zeros_there[ctx.where] == 1, src.shape)).astype(g.dtype)
        out = ScatterProd.apply(x, ctx.index, src, include_self=ctx.include_self, **opts)
        without = ScatterProd.apply(
            x, ctx.index, src * (1 - lone) + lone, include_self=ctx.include_self, **opts
        )
        zero = zero.astype(g.dtype)
        safe_src = src * (1 - zero) + zero
        lone_part = _read_back_graph(ctx, g * without, lone[_leading(lone, ctx.index)])
        rest = _read_back_graph(ctx, g * out, (1 - lone)[_leading(lone, ctx.index)])
        dsrc = lone_part + rest / safe_src
        if bool((zeros_there > 1).any()):  # its own gradient would be wrong: refuse it, as PyTorch
            dsrc = NotDifferentiable.apply(dsrc, message=_PROD_ZEROS)
        return dx, None, dsrc


_PROD_ZEROS = (
    "scatter_reduce: the double backward of 'prod' is not supported for src when two or more "
    "zeros in src are scattered to the same position (as in PyTorch)"
)


class NotDifferentiable(Function):
    """The identity, whose backward raises ``message``: it marks a gradient that cannot be
    differentiated again (PyTorch's ``Error`` node), so ``create_graph=True`` gives the first
    derivative and only going one order further raises."""

    @staticmethod
    def forward(ctx, a, message):
        ctx.message = message
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)

    backward_graph = backward


def _drop_landed(ctx: Function, dx: Any, x: Any) -> Any:
    """``dx`` (x's gradient) with 0 where src values landed when x took no part there
    (``include_self=False``): 0 even where ``dx`` is NaN or inf, as PyTorch's."""
    if ctx.include_self:
        return dx
    return backend.array_module(x).where(_landed(x.shape, ctx.where, x), 0, dx)


def _pad_index(part: Any, shape: tuple[int, ...]) -> Any:
    """``part`` (index-shaped, bool) padded with False to src's ``shape``."""
    if tuple(part.shape) == tuple(shape):
        return part
    full = backend.array_module(part).zeros(shape, dtype=bool)
    full[tuple(slice(0, n) for n in part.shape)] = part
    return full


def _leading(src: Any, index: Any) -> tuple[slice, ...]:
    """The part of ``src`` a scatter uses: its leading ``index.shape`` block."""
    return tuple(slice(0, n) for n in index.shape)


def _read_back(ctx: Function, g: Any, weight: Any = None) -> Any:
    """The gradient of a scatter's ``src``: ``g`` at the scattered positions (times ``weight``,
    index-shaped, if given), 0 on the part of ``src`` beyond ``index``'s shape (unused by the
    forward)."""
    if not ctx.needs_input_grad[2]:
        return None
    picked = g[ctx.where] if weight is None else g[ctx.where] * weight
    if picked.shape == ctx.src_shape:
        return picked
    dsrc = backend.array_module(g).zeros(ctx.src_shape, dtype=g.dtype)
    dsrc[tuple(slice(0, n) for n in picked.shape)] = picked
    return dsrc


def _read_back_graph(ctx: Function, g: Tensor, weight: Any = None) -> Tensor | None:
    """:func:`_read_back` in the graph: a gather (times the constant ``weight``), padded with
    zeros to ``src``'s shape."""
    if not ctx.needs_input_grad[2]:
        return None
    picked = Gather.apply(g, ctx.index, dim=ctx.dim)
    picked = picked if weight is None else picked * weight
    if tuple(picked.shape) == tuple(ctx.src_shape):
        return picked
    from minigrad.ops.rearrange import PadConstant  # noqa: PLC0415 (rearrange imports this module)

    widths = tuple((0, s - n) for s, n in zip(ctx.src_shape, picked.shape))
    return PadConstant.apply(picked, widths=widths, value=0.0)


def _check_index(op: str, x: Tensor, dim: int, index: Tensor, src: Any = None) -> int:
    """PyTorch's gather/scatter rules, checked up front: an int64 ``index`` with x's number of
    dims, no larger than ``x`` (nor ``src``) outside ``dim``, values in [0, size) at ``dim``."""
    if not isinstance(index, TensorBase) or index.dtype.kind not in "iu":
        what = index.dtype if isinstance(index, TensorBase) else type(index).__name__
        raise TypeError(f"{op}: index must be an integer tensor, got {what}")
    if index.device != x.device:
        raise RuntimeError(f"{op}: index is on {index.device}, the input on {x.device}")
    d = norm_dim(dim, x.ndim, x.shape)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise ShapeError(
            f"{op}: index (shape {tuple(index.shape)}) and input (shape {tuple(x.shape)}) must "
            "have the same number of dims"
        )
    if isinstance(src, TensorBase) and src.ndim != index.ndim and max(src.ndim, index.ndim) > 1:
        raise ShapeError(
            f"{op}: index (shape {tuple(index.shape)}) and src (shape {tuple(src.shape)}) must "
            "have the same number of dims"
        )
    for other, name in ((x, "input"), (src, "src")):
        if not isinstance(other, TensorBase) or other.ndim != index.ndim:
            continue
        too_big = [
            i
            for i in range(index.ndim)
            if (i != d or name == "src") and index.shape[i] > other.shape[i]
        ]
        if too_big:
            raise ShapeError(
                f"{op}: index of shape {tuple(index.shape)} is larger than {name} of shape "
                f"{tuple(other.shape)} in dim {too_big[0]}"
            )
    size = x.shape[d] if x.ndim else 1
    lo, hi, _ = backend.int_range(index.array)  # one device read
    if lo <= hi and (lo < 0 or hi >= size):  # no negative indices here, as PyTorch
        raise IndexError(
            f"{op}: index values in [{lo}, {hi}] are out of range [0, {size}) for dim {dim} of "
            f"size {size} (input shape {tuple(x.shape)})"
        )
    return d


def _indexed(out: Tensor, index: Tensor) -> Tensor:
    """``out``, whose node keeps ``index``'s array for its backward: an in-place change of
    ``index`` before that backward raises (``minigrad.inplace.note_index_tensors``)."""
    note_index_tensors(out.grad_fn, (index,))
    return out


def _zero_d(x: Tensor, index: Tensor) -> tuple[Tensor, Tensor, bool]:
    """A 0-d input (and index) is handled as one of shape (1,), as PyTorch allows."""
    if x.ndim:
        return x, index, False
    return x.reshape(1), index.reshape(-1), index.ndim == 0


@accepts_axis
def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """Values of ``x`` along ``dim`` picked by ``index`` (same number of dims as ``x``):
    ``out[i][j] = x[i][index[i][j]]`` for ``dim=1``. The output has ``index``'s shape; the
    gradient is added back at the picked positions."""
    d = _check_index("gather", x, dim, index)
    if x.dtype == backend.float16:  # its gradient adds up repeated positions
        return half_in_float32(gather, x, d, index)
    x1, index1, squeeze = _zero_d(x, index)
    out = _indexed(Gather.apply(x1, index1.array, dim=d), index)
    return out.reshape(()) if squeeze else out


@accepts_axis
def scatter(
    x: Tensor,
    dim: int,
    index: Tensor,
    src: Any = None,
    value: Any = None,
    *,
    reduce: str | None = None,
) -> Tensor:
    """A copy of ``x`` with ``src`` (a tensor, or the scalar ``value``) written at ``index``
    along ``dim``: ``out[i][index[i][j]] = src[i][j]`` for ``dim=1`` (out of place; where
    indices repeat, one of the writes wins, as in PyTorch). ``reduce="add"`` / ``"multiply"``
    adds / multiplies the values in instead, every repeat counting (``scatter_reduce``'s "sum"
    and "prod" with ``include_self=True``; PyTorch gives these no gradient, minigrad does)."""
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor) and value (a scalar)")
    if src is not None and not isinstance(src, TensorBase):
        src, value = None, src  # scatter(x, dim, index, 2.0): PyTorch's value form
    if value is not None:
        value = checked_scalar("scatter", value, x.dtype)  # 300 in int8 raises, as PyTorch
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if src is None and isinstance(index, TensorBase):
            full = backend.array_module(index.array).full(index.shape, value, dtype=x.dtype)
            src = wrap(full)
        how = "sum" if reduce == "add" else "prod"
        return _scatter_reduce("scatter", x, dim, index, src, how, include_self=True)
    d = _check_index("scatter", x, dim, index, src)
    if src is not None and src.dtype != x.dtype:
        raise TypeError(f"scatter: src is {src.dtype} but the input is {x.dtype}")
    x1, index1, squeeze = _zero_d(x, index)
    src1 = src.reshape(1) if src is not None and src.ndim == 0 and x.ndim == 0 else src
    out = _indexed(
        Scatter.apply(x1, index1.array, src1 if src1 is not None else value, dim=d), index
    )
    return out.reshape(()) if squeeze or not x.ndim else out


@accepts_axis
def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up):
    ``out[i][index[i][j]] += src[i][j]`` for ``dim=1``."""
    if x.dtype == getattr(src, "dtype", None) == backend.float16:
        return half_in_float32(scatter_add, x, dim, index, src)
    return _scatter_reduce("scatter_add", x, dim, index, src, "sum", include_self=True)


@accepts_axis
def scatter_reduce(
    x: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """A copy of ``x`` where each position ``index`` names along ``dim`` holds the ``reduce``
    ("sum", "prod", "mean", "amax", "amin") of the ``src`` values landing on it, and of its
    own value if ``include_self``: ``out[i][index[i][j]] = reduce(x[i][index[i][j]],
    src[i][j], ...)`` for ``dim=1``; positions nothing lands on keep x. ``index`` and ``src``
    have x's number of dims. "mean" of integers rounds down. Gradients as PyTorch's: amax/amin
    share it evenly among the values equal to the result."""
    return _scatter_reduce("scatter_reduce", x, dim, index, src, reduce, include_self)


def _scatter_reduce(
    op: str, x: Tensor, dim: int, index: Tensor, src: Any, reduce: str, include_self: bool
) -> Tensor:
    if reduce not in SCATTER_REDUCTIONS:
        raise ValueError(f"{op}: reduce must be one of {SCATTER_REDUCTIONS}, got {reduce!r}")
    if reduce == "mean" and x.dtype == backend.bool_:  # PyTorch refuses too (NumPy gave int8)
        raise TypeError(
            f"{op}: reduce='mean' is not defined for bool tensors (shape {tuple(x.shape)})"
        )
    if not isinstance(src, TensorBase):
        raise TypeError(f"{op}: src must be a tensor, got {type(src).__name__}")
    d = _check_index(op, x, dim, index, src)
    if src.dtype != x.dtype:
        raise TypeError(f"{op}: src is {src.dtype} but the input is {x.dtype}")
    x1, index1, _ = _zero_d(x, index)
    src1 = src.reshape(1) if src.ndim == 0 and x.ndim == 0 else src
    at, opts = index1.array, {"dim": d, "include_self": include_self}
    if reduce in ("sum", "mean"):
        base = x1 if include_self else _indexed(Scatter.apply(x1, at, 0, dim=d), index)
        out = _indexed(ScatterAdd.apply(base, at, src1, dim=d), index)
        out = _divide_by_count(out, at, d, include_self) if reduce == "mean" else out
    elif reduce == "prod":
        out = _indexed(ScatterProd.apply(x1, at, src1, **opts), index)
    else:
        how = "maximum" if reduce == "amax" else "minimum"
        out = _indexed(ScatterExtreme.apply(x1, at, src1, how=how, **opts), index)
    return out.reshape(()) if not x.ndim else out


def _divide_by_count(total: Tensor, index: Any, dim: int, include_self: bool) -> Tensor:
    """``total`` divided by how many values each position reduced (1 where none landed)."""
    xp = backend.array_module(index)
    count = xp.full(total.shape, int(include_self), dtype=total.dtype)
    backend.scatter_add(count, _along(index, dim), xp.ones(index.shape, dtype=total.dtype))
    count = xp.where(count == 0, 1, count).astype(total.dtype, copy=False)
    if total.dtype.kind != "f":  # integers round down, as PyTorch
        return wrap(xp.floor_divide(total.array, count))
    # out = total / count
    return total / wrap(count)


# =============================================================================================
# masked_select, nonzero
# =============================================================================================


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``x`` where the bool ``mask`` (broadcast with ``x``) is True, as a 1-d
    tensor in row-major order; the gradient flows back to those elements."""
    require_bool_mask("masked_select", mask)
    shape = broadcast_shape("masked_select", "input and mask shapes", x.shape, mask.shape)
    if tuple(x.shape) != shape:
        x = x.expand(shape)
    if tuple(mask.shape) != shape:
        mask = wrap(backend.array_module(mask.array).broadcast_to(mask.array, shape))
    return x.reshape(-1)[mask.reshape(-1)]


def nonzero(x: Tensor, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """The indices of the nonzero elements of ``x``: an int64 tensor of shape (n, x.ndim), or
    with ``as_tuple=True`` one 1-d tensor per dim (for 0-d input: one, as PyTorch). No gradient."""
    arr = x.array
    xp = backend.array_module(arr)
    found = xp.nonzero(arr.reshape(1) if arr.ndim == 0 else arr)
    found = tuple(backend.ensure_array(f, arr).astype(backend.int64, copy=False) for f in found)
    if as_tuple:
        return tuple(wrap(f) for f in found)
    if arr.ndim == 0:
        return wrap(xp.zeros((found[0].shape[0], 0), dtype=backend.int64))
    return wrap(xp.stack(found, axis=1) if found else xp.zeros((0, 0), dtype=backend.int64))


# =============================================================================================
# sort, argsort, topk: indices without gradient, values through gather
# =============================================================================================

SortResult = namedtuple("SortResult", ["values", "indices"])
TopKResult = namedtuple("TopKResult", ["values", "indices"])


def _order(arr: Any, dim: int, descending: bool) -> Any:
    """Stable sorting indices of ``arr`` along ``dim``; descending keeps equal values in their
    original order and puts NaN first, as PyTorch (ascending puts it last)."""
    xp = backend.array_module(arr)
    if not descending:
        return xp.argsort(arr, axis=dim, kind="stable")
    if arr.dtype == backend.bool_:
        key = ~arr
    elif arr.dtype.kind == "f":
        key = xp.where(xp.isnan(arr), -xp.inf, -arr)  # NaN counts as the largest value
    elif arr.dtype.kind == "u":
        key = arr.max() - arr if arr.size else arr
    else:
        key = -arr.astype(backend.int64)
    return xp.argsort(key, axis=dim, kind="stable")


@accepts_axis
def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (int64, no gradient; always a stable sort)."""
    if x.ndim == 0:
        norm_dim(dim, 0, x.shape)
        return wrap(backend.array_module(x.array).zeros((), dtype=backend.int64))
    d = norm_dim(dim, x.ndim, x.shape)
    return wrap(_order(x.array, d, descending).astype(backend.int64, copy=False))


@accepts_axis
def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """``(values, indices)`` of ``x`` sorted along ``dim``; the gradient of ``values`` flows back
    to the positions ``indices`` name."""
    indices = argsort(x, dim, descending, stable)
    if x.ndim == 0:
        return SortResult(x.clone(), indices)  # its dtype kept (x * 1 made a bool int64)
    return SortResult(gather(x, dim, indices), indices)


@accepts_axis
def topk(
    x: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002
) -> TopKResult:
    """The ``k`` largest (``largest=False``: smallest) values along ``dim`` and their indices,
    in order; the gradient of ``values`` flows back to the positions ``indices`` name."""
    d = norm_dim(dim, x.ndim, x.shape)
    size = x.shape[d] if x.ndim else 1
    if not isinstance(k, int) or not 0 <= k <= size:
        raise ValueError(
            f"topk: k ({k}) must be in [0, {size}], the size of dim {dim} (shape {tuple(x.shape)})"
        )
    if x.ndim == 0:  # the element itself, 0-d, as PyTorch (for k = 0 too)
        return TopKResult(*sort(x))
    order = _order(x.array, d, largest)
    order = order[tuple(slice(0, k) if i == d else slice(None) for i in range(x.ndim))]
    indices = wrap(order.astype(backend.int64, copy=False))
    return TopKResult(gather(x, d, indices), indices)


# =============================================================================================
# index_fill, index_add: whole slices along one dim, picked by a 1-D index
# =============================================================================================


def index_key(what: str, x: Tensor, dim: int, index: Any) -> tuple[int, tuple[Any, ...]]:
    """``(dim, key)``: ``dim`` normalized and the key ``x[key]`` that picks the slices ``index``
    (a 1-D or 0-d integer tensor) names along it; errors name ``what``."""
    dim = norm_dim(dim, x.ndim, x.shape)
    if not isinstance(index, TensorBase) or index.ndim > 1 or index.dtype.kind not in "iu":
        got = (
            f"{index.dtype} of shape {tuple(index.shape)}"
            if isinstance(index, TensorBase)
            else type(index).__name__
        )
        raise IndexError(f"{what}: index must be a 1-D or 0-d integer tensor, got {got}")
    return dim, (slice(None),) * dim + (index.reshape(-1),)


@accepts_axis
def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices ``index`` (a 1-D or 0-d integer tensor, each in [0, size)) of ``x`` along
    ``dim``, as ``torch.index_select``: x's shape with ``index.numel()`` along ``dim``."""
    dim, key = index_key("index_select", x, dim, index)
    check_ids("index_select", index, x.shape[dim] if x.ndim else 1, f"the size of dim {dim}")
    if not x.ndim:  # a 0-d tensor: index 0 along dim 0 or -1, once, as PyTorch
        if index.numel() != 1:
            raise ShapeError(f"index_select: a 0-d tensor takes one index, got {index.numel()}")
        return reshape(getitem(reshape(x, (1,)), key), ())
    return getitem(x, key)


@accepts_axis
def take_along_dim(x: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with broadcasting, as ``torch.take_along_dim``: ``x`` and ``indices`` (as many
    dims) broadcast against each other but along ``dim``; with ``dim=None`` both are flattened.

    Shapes: x (..., n, ...), indices (..., k, ...) -> the broadcast shape with k along ``dim``.
    """
    if dim is None:
        return gather(reshape(x, (-1,)), 0, reshape(indices, (-1,)))
    d = norm_dim(dim, x.ndim, x.shape)
    if not isinstance(indices, TensorBase) or indices.ndim != x.ndim:
        got = tuple(indices.shape) if isinstance(indices, TensorBase) else type(indices).__name__
        raise ShapeError(
            f"take_along_dim: indices must have as many dims as the input {tuple(x.shape)}, "
            f"got {got}"
        )
    shape = broadcast_shape(
        "take_along_dim",
        "shapes (but along dim)",
        [1 if i == d else n for i, n in enumerate(x.shape)],
        [1 if i == d else n for i, n in enumerate(indices.shape)],
    )
    x_shape, i_shape = list(shape), list(shape)
    x_shape[d], i_shape[d] = x.shape[d], indices.shape[d]
    # gathers at a copy of indices, as PyTorch's (a later change of indices in place does not
    # reach the gradient; the flattened form above reads indices itself, and refuses it)
    indices = wrap(indices.array.copy())
    return gather(expand(x, *x_shape), d, expand(indices, *i_shape))


@accepts_axis
def index_fill(x: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of ``x`` whose slices ``index`` along ``dim`` hold ``value`` (a number or a 0-d
    tensor, differentiable), as ``torch.index_fill``; shape of ``x``."""
    _, key = index_key("index_fill", x, dim, index)
    require_0d_value("index_fill", value)
    if not x.ndim:  # a 0-d tensor: index 0 along dim 0 or -1, as PyTorch
        return reshape(setitem(reshape(x, (1,)), key, value), ())
    return setitem(x, key, value)


def check_index_source(what: str, x: Tensor, dim: int, index: Tensor, source: Any) -> None:
    """``source`` for ``index_add``/``index_copy``: x's dtype, and x's shape but ``len(index)``
    along ``dim`` (already normalized); errors name ``what`` and the shapes."""
    if not isinstance(source, TensorBase) or source.dtype != x.dtype:
        got = source.dtype if isinstance(source, TensorBase) else type(source).__name__
        raise TypeError(f"{what}: self ({x.dtype}) and source ({got}) must have one dtype")
    want = list(x.shape)
    if want:
        want[dim] = index.numel()
    if tuple(source.shape) != tuple(want) or (not want and index.numel() != 1):
        raise ShapeError(
            f"{what}: source of shape {tuple(source.shape)} does not fit self of shape "
            f"{tuple(x.shape)} with {index.numel()} indices along dim {dim} (want {tuple(want)})"
        )


@accepts_axis
def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of ``x`` with ``alpha * source[..., j, ...]`` added to ``x[..., index[j], ...]``
    along ``dim`` (repeated indices add up), as ``torch.index_add``. ``source`` has ``x``'s
    shape but ``len(index)`` along ``dim``; built on ``scatter_add``."""
    dim, _ = index_key("index_add", x, dim, index)
    check_index_source("index_add", x, dim, index, source)
    if isinstance(alpha, float) and x.dtype.kind in "iub":
        if not alpha.is_integer():  # PyTorch truncates it silently
            raise TypeError(
                f"index_add: alpha={alpha!r} is not a whole number, but self is {x.dtype}"
            )
        alpha = int(alpha)  # 2.0 scales integers by 2, as PyTorch (not into floats)
    if alpha != 1:
        source = source * alpha
    if not x.ndim:  # a 0-d tensor: dim 0 of one element
        return reshape(index_add(reshape(x, (1,)), 0, index, reshape(source, (1,))), ())
    at = [1] * x.ndim
    at[dim] = -1
    return scatter_add(x, dim, expand(reshape(index, at), source.shape), source)
