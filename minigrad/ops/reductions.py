"""Reductions over ``dim`` (an int, a tuple of ints, or ``None`` for all) with ``keepdim``.

The backward of a reduction first puts the gradient back into the "keepdim" shape (size 1 on
every reduced axis), then broadcasts it over the input.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``; ``tensor``
for annotations only.
"""

from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, is_grad_enabled, wrap
from minigrad.errors import DTypeError
from minigrad.ops._util import (
    half_in_float32,
    norm_dim,
    norm_dims,
    require_float,
)
from minigrad.ops.elementwise import maximum, minimum

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


def _keepdim_grad(ctx: Function, g: Any) -> Any:
    """``g`` reshaped to the input's shape with size 1 on the reduced axes."""
    return g.reshape(ctx.kept_shape) if g.shape != ctx.kept_shape else g


def _spread(g: Any, shape: tuple[int, ...]) -> Any:
    """A new array of ``shape`` filled by broadcasting ``g`` (cheaper than NumPy's Python-level
    broadcast_to, and owned, so it can become a leaf's .grad without a copy)."""
    out = backend.array_module(g).empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _count(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> int:
    n = 1
    for i, size in enumerate(shape):
        if dims is None or i in dims:
            n *= size
    return n


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        ctx.in_shape = x.shape
        ctx.kept_shape = backend.reduced_shape(x.shape, dims)
        return backend.reduce_sum(x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        # dx = g broadcast over the reduced axes
        return _spread(_keepdim_grad(ctx, g), ctx.in_shape)

    @staticmethod
    def backward_graph(ctx, g):
        return _keepdim_grad(ctx, g).expand(ctx.in_shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False):
        ctx.in_shape = x.shape
        ctx.kept_shape = backend.reduced_shape(x.shape, dims)
        ctx.count = _count(x.shape, dims)
        return _divide(backend.reduce_sum(x, dims, keepdim), ctx.count)

    @staticmethod
    def backward(ctx, g):
        # dx = g / N broadcast over the reduced axes
        return _spread(_keepdim_grad(ctx, g) / builtins.max(ctx.count, 1), ctx.in_shape)

    @staticmethod
    def backward_graph(ctx, g):
        return (_keepdim_grad(ctx, g) / builtins.max(ctx.count, 1)).expand(ctx.in_shape)


class Max(Function):
    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False, nan_hits=False):
        return _extreme(ctx, x, x.max(axis=dims, keepdims=True), dims, keepdim, nan_hits)

    @staticmethod
    def backward(ctx, g):
        # dx = g / k at each of the k positions equal to the extreme value, 0 elsewhere
        return _extreme_grad(ctx, g)

    @staticmethod
    def backward_graph(ctx, g):
        return _extreme_grad_graph(ctx, g)


class Min(Function):
    @staticmethod
    def forward(ctx, x, dims=None, keepdim=False, nan_hits=False):
        return _extreme(ctx, x, x.min(axis=dims, keepdims=True), dims, keepdim, nan_hits)

    @staticmethod
    def backward(ctx, g):
        # dx = g / k at each of the k positions equal to the extreme value, 0 elsewhere
        return _extreme_grad(ctx, g)

    @staticmethod
    def backward_graph(ctx, g):
        return _extreme_grad_graph(ctx, g)


def _extreme(
    ctx: Function, x: Any, out: Any, dims: tuple[int, ...] | None, keepdim: bool, nan_hits: bool
) -> Any:
    """Save what the max/min backward needs; ``out`` has keepdim shape."""
    ctx.save_for_backward(x, out)
    ctx.dims, ctx.nan_hits = dims, nan_hits
    ctx.kept_shape = out.shape
    return out if keepdim else out.reshape(_drop(out.shape, dims))


def _hits(ctx: Function, x: Any, out: Any) -> Any:
    """The positions the gradient goes to: those equal to the result; for ``max()`` / ``min()``
    without a dim, the NaNs when the result is NaN (PyTorch's evenly_distribute_backward;
    ``amax`` / ``amin`` give NaN gradients there, as PyTorch)."""
    hit = x == out
    if ctx.nan_hits and x.dtype.kind == "f":
        hit |= backend.array_module(x).isnan(x)  # the result is NaN exactly when some x is
    return hit


def _extreme_grad(ctx: Function, g: Any) -> Any:
    # dx = g / k at each of the k positions equal to the max (min), 0 elsewhere
    x, out = ctx.saved_tensors
    hit = _hits(ctx, x, out)
    count = hit.sum(axis=ctx.dims, keepdims=True).astype(x.dtype)
    with backend.quiet():  # a NaN in the slice: no hit, count 0, NaN gradients (as PyTorch)
        return hit * (_keepdim_grad(ctx, g) / count)


def _extreme_grad_graph(ctx: Any, g: Tensor) -> Tensor:
    # the same split over ties as _extreme_grad, with constant weights hit / k (a piecewise
    # linear op: its second derivative is 0)
    x, out = (a.array if isinstance(a, TensorBase) else a for a in ctx.saved_tensors)
    hit = _hits(ctx, x, out)
    count = hit.sum(axis=ctx.dims, keepdims=True).astype(x.dtype)
    with backend.quiet():
        return _keepdim_grad(ctx, g) * (hit / count)


def _reduced_dims(kept_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The dims a reduction with this keepdim shape may have reduced (reducing a size-1 dim
    too changes nothing); None (all) for a 0-d input."""
    return tuple(i for i, n in enumerate(kept_shape) if n == 1) or None


def _centered_graph(ctx: Any, centered: Any) -> Tensor:
    """``x - mean(x)`` in the graph: var and std do not change when x shifts, so the saved
    ``centered`` array stands in for x, and centering it again connects it as x - mean(x)."""
    x = ctx.input(0, centered)
    return x - x.mean(_reduced_dims(ctx.kept_shape), keepdim=True)


def _drop(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    if dims is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def _centered(ctx: Function, x: Any, dims: tuple[int, ...] | None, correction: int) -> Any:
    """``x - mean(x)`` over ``dims``; keeps the keepdim shape and N - correction on ``ctx``."""
    n = _count(x.shape, dims)
    ctx.kept_shape = backend.reduced_shape(x.shape, dims)
    ctx.denom = builtins.max(n - correction, 0)
    return x - _divide(backend.reduce_sum(x, dims, True), n)


def _divide(a: Any, n: int) -> Any:
    """``a / n``; by n = 0 (a mean of nothing, no degrees of freedom) inf or NaN, as PyTorch,
    without NumPy's warning (checked on n, so the usual case pays nothing for it)."""
    if n:
        return a / n
    with backend.quiet():
        return a / n


class Var(Function):
    @staticmethod
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
    def forward(ctx, x, dims=None, correction=1, keepdim=False):
        # var = sum((x - mean)^2) / (N - correction)
        centered = _centered(ctx, x, dims, correction)
        ctx.save_for_backward(centered)
        return _divide(backend.reduce_sum(centered * centered, dims, keepdim), ctx.denom)

    @staticmethod
    def backward(ctx, g):
        (centered,) = ctx.saved_tensors
        # dx = g * 2 (x - mean) / (N - correction)
        return _divide(_keepdim_grad(ctx, g) * centered * 2.0, ctx.denom)

    @staticmethod
    def backward_graph(ctx, g):
        (centered,) = ctx.saved_tensors
        with backend.quiet():
            return _keepdim_grad(ctx, g) * _centered_graph(ctx, centered) * 2.0 / ctx.denom


class Std(Function):
    @staticmethod
    def forward(ctx, x, dims=None, correction=1, keepdim=False):
        # std = sqrt(sum((x - mean)^2) / (N - correction))
        xp = backend.array_module(x)
        centered = _centered(ctx, x, dims, correction)
        out = xp.sqrt(_divide(backend.reduce_sum(centered * centered, dims, True), ctx.denom))
        ctx.save_for_backward(centered, out)
        return out if keepdim else out.reshape(_drop(out.shape, dims))

    @staticmethod
    def backward(ctx, g):
        centered, out = ctx.saved_tensors
        xp = backend.array_module(g)
        # dx = g * (x - mean) / ((N - correction) * std), 0 where std = 0 (as PyTorch)
        with backend.quiet():
            scale = xp.where(out == 0, 0, _keepdim_grad(ctx, g) / (out * ctx.denom))
        return scale * centered

    @staticmethod
    def backward_graph(ctx, g):
        centered, out = ctx.saved_tensors
        zero = (out.array if isinstance(out, TensorBase) else out) == 0
        c = _centered_graph(ctx, centered)
        with backend.quiet():
            var = (c * c).sum(_reduced_dims(ctx.kept_shape), keepdim=True) / ctx.denom
            # 1 where std = 0, masked before the sqrt: its derivative at 0 is infinite, and
            # inf * 0 would make the second derivative NaN there (PyTorch's is 0)
            std = var.masked_fill(wrap(zero), 1.0).sqrt()
            return _keepdim_grad(ctx, g) / (std * ctx.denom) * ~zero * c


class LogSumExp(Function):
    @staticmethod
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
    def forward(ctx, x, dims=None, keepdim=False):
        xp = backend.array_module(x)
        if x.size == 0:  # the log of an empty sum: -inf (as PyTorch)
            out = xp.full(backend.reduced_shape(x.shape, dims), -xp.inf, dtype=x.dtype)
            ctx.save_for_backward(xp.zeros_like(x))
            ctx.kept_shape = out.shape
            return out if keepdim else out.reshape(_drop(out.shape, dims))
        m = x.max(axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # a row of -inf gives -inf, not NaN
        e = xp.exp(x - m)
        s = e.sum(axis=dims, keepdims=True)
        empty = s == 0
        s_safe = xp.where(empty, 1, s)
        out = xp.where(empty, -xp.inf, m + xp.log(s_safe))
        ctx.save_for_backward(e / s_safe)  # softmax of x (0 on rows of -inf)
        ctx.kept_shape = out.shape
        return out if keepdim else out.reshape(_drop(out.shape, dims))

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        # dx = g * softmax(x)
        return _keepdim_grad(ctx, g) * p

    @staticmethod
    def backward_graph(ctx, g):
        (p,) = ctx.saved_tensors
        # log(softmax(x)) = x - logsumexp(x) stands in for x (logsumexp shifts with x), and
        # softmax(x) = exp(x - logsumexp(x)) is rebuilt from it in the graph
        with backend.quiet():
            x = ctx.input(0, backend.array_module(p).log(p))
            dims = _reduced_dims(ctx.kept_shape)
            return _keepdim_grad(ctx, g) * (x - x.logsumexp(dims, keepdim=True)).exp()


_FLOAT16 = backend.float16  # tested with `is`: NumPy's built-in dtypes are singletons


def _reduce(op: type[Function], x: Tensor, dim: Any, keepdim: bool, **options: Any) -> Tensor:
    dims = None if dim is None else norm_dims(dim, x.array.ndim, x.array.shape)
    if options:  # (a call with an empty ** costs more than one without)
        return op.apply(x, dims=dims, keepdim=keepdim, **options)
    return op.apply(x, dims=dims, keepdim=keepdim)


@accepts_axis
def sum(  # noqa: A001
    x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Sum over ``dim`` (all dims when None); integer and bool tensors give int64. ``dtype``:
    x is cast to it first, and the sum comes back in it (as PyTorch)."""
    if dtype is not None:
        x = _cast_for_sum(x, dtype, "sum")
        if x.array.dtype.kind in "iub":  # NumPy adds these in int64: the sum cast back wraps
            return sum(x, dim, keepdim).to(dtype=x.array.dtype)  # as PyTorch's does in int32
    dt = x.array.dtype
    if dt.kind != "f":
        if dt.kind == "u":  # NumPy sums unsigned integers to uint64, PyTorch to int64
            x = x.to(dtype=backend.int64)
    elif dt is _FLOAT16:
        return half_in_float32(sum, x, dim, keepdim)
    return _reduce(Sum, x, dim, keepdim)


def _cast_for_sum(x: Tensor, dtype: Any, name: str) -> Tensor:
    """``x`` in the ``dtype`` of ``name`` (sum, prod, cumsum...); an integer or bool one refused,
    as PyTorch ("Autograd not support dtype"), where ``x`` requires grad with grad mode on: the
    result would hold no graph."""
    out = x.to(dtype=dtype)
    if out.array.dtype.kind != "f" and x.requires_grad and is_grad_enabled():
        raise DTypeError(
            f"{name}: dtype={out.dtype} cannot carry a gradient, and the {x.dtype} tensor of "
            f"shape {tuple(x.shape)} requires grad (as in PyTorch); use a float dtype or detach()"
        )
    return out


@accepts_axis
def mean(
    x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Mean over ``dim`` (all dims when None). ``dtype``: x is cast to it first (as PyTorch; an
    integer tensor needs a float ``dtype``)."""
    if dtype is not None:
        x = x.to(dtype=dtype)
    require_float("mean", x)
    if x.array.dtype is _FLOAT16:
        return half_in_float32(mean, x, dim, keepdim)
    return _reduce(Mean, x, dim, keepdim)


@accepts_axis
def amax(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all dims when None), as ``torch.amax``.

    The gradient is split evenly among tied maxima: with k equal largest values each gets
    ``g / k``. Indices come from :func:`argmax` or :func:`max` with a ``dim``.
    """
    return _nonempty(Max, x, dim, keepdim)


@accepts_axis
def amin(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (all dims when None), as ``torch.amin``.

    The gradient is split evenly among tied minima: with k equal smallest values each gets
    ``g / k``. Indices come from :func:`argmin` or :func:`min` with a ``dim``.
    """
    return _nonempty(Min, x, dim, keepdim)


class ExtremeAt(Function):
    """The values of ``x`` at ``index`` (the arg-max or arg-min along ``dim``, keepdim shape)."""

    @staticmethod
    def forward(ctx, x, index, dim, keepdim):
        xp = backend.array_module(x)
        ctx.index, ctx.dim, ctx.in_shape = index, dim, x.shape
        out = xp.take_along_axis(x, index, axis=dim)
        return out if keepdim else out.squeeze(dim)

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(g)
        g = g.reshape(ctx.index.shape)
        along = [-1 if i == ctx.dim else 1 for i in range(g.ndim)]
        positions = xp.arange(ctx.in_shape[ctx.dim]).reshape(along)
        # dx = g at the returned index along dim, 0 elsewhere (ties: one index only, as PyTorch)
        return xp.where(positions == ctx.index, g, xp.zeros((), dtype=g.dtype))

    @staticmethod
    def backward_graph(ctx, g):
        xp = backend.array_module(ctx.index)
        along = [-1 if i == ctx.dim else 1 for i in range(ctx.index.ndim)]
        positions = xp.arange(ctx.in_shape[ctx.dim]).reshape(along)
        # the same selection, as a constant mask (a linear op: second derivative 0)
        return g.reshape(ctx.index.shape) * (positions == ctx.index)


@accepts_axis
def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``max(x)``: the largest value, 0-d (as :func:`amax`). ``max(x, dim)``: the named tuple
    ``(values, indices)`` along the int ``dim``, as PyTorch; the gradient goes to the returned
    index. ``max(x, other)`` with a tensor ``other``: :func:`maximum`."""
    return _max_or_min(x, dim, keepdim, "max")


@accepts_axis
def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """``min(x)``: the smallest value, 0-d (as :func:`amin`). ``min(x, dim)``: the named tuple
    ``(values, indices)`` along the int ``dim``, as PyTorch; the gradient goes to the returned
    index. ``min(x, other)`` with a tensor ``other``: :func:`minimum`."""
    return _max_or_min(x, dim, keepdim, "min")


def _max_or_min(x: Tensor, dim: Any, keepdim: bool, name: str) -> Any:
    if dim is None:  # the gradient of a NaN result goes to the NaNs, as PyTorch's max()
        return _nonempty(Max if name == "max" else Min, x, None, keepdim, nan_hits=True)
    if isinstance(dim, TensorBase):
        return (maximum if name == "max" else minimum)(x, dim)
    if not isinstance(dim, int):
        raise TypeError(
            f"{name}: dim must be an int (got {type(dim).__name__} {dim!r}); for several dims "
            f"use a{name}"
        )
    data = x.array
    axis = norm_dim(dim, data.ndim, data.shape)
    if data.ndim == 0:
        x, axis = x.reshape(1), 0
    elif data.shape[axis] == 0:
        raise ValueError(
            f"{name}: cannot reduce over a dim of size 0 (dim {dim}, tensor shape "
            f"{tuple(data.shape)})"
        )
    index = getattr(x.array, "arg" + name)(axis=axis, keepdims=True)
    values = ExtremeAt.apply(x, index=index, dim=axis, keepdim=keepdim or data.ndim == 0)
    indices = index if keepdim or data.ndim == 0 else index.squeeze(axis)
    if data.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    tuple_type = return_types.max if name == "max" else return_types.min
    return tuple_type(values, wrap(indices.astype(backend.int64, copy=False)))


def _nonempty(
    op: type[Function], x: Tensor, dim: Any, keepdim: bool, nan_hits: bool = False
) -> Tensor:
    """max and min have no value over nothing: refuse a reduced dim of size 0 (as PyTorch)."""
    dims = norm_dims(dim, x.array.ndim, x.array.shape)
    shape = x.array.shape
    if x.array.size == 0 and (dims is None or any(shape[d] == 0 for d in dims)):
        raise ValueError(
            f"a{op.__name__.lower()}: cannot reduce over a dim of size 0 (dim {dim}, tensor shape "
            f"{tuple(shape)})"
        )
    if nan_hits:
        return op.apply(x, dims=dims, keepdim=keepdim, nan_hits=True)
    return op.apply(x, dims=dims, keepdim=keepdim)


@accepts_axis
def var(
    x: Tensor,
    dim: int | tuple[int, ...] | None = None,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance over ``dim``: sum((x - mean)^2) / (N - correction); ``unbiased=False`` means
    ``correction=0`` (PyTorch's older spelling)."""
    require_float("var", x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if x.array.dtype == backend.float16:
        return half_in_float32(var, x, dim, correction=correction, keepdim=keepdim)
    return _reduce(Var, x, dim, keepdim, correction=correction)


@accepts_axis
def std(
    x: Tensor,
    dim: int | tuple[int, ...] | None = None,
    correction: int = 1,
    keepdim: bool = False,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation over ``dim``: sqrt(var(x, dim, correction))."""
    require_float("std", x)
    if unbiased is not None:
        correction = 1 if unbiased else 0
    if x.array.dtype == backend.float16:
        return half_in_float32(std, x, dim, correction=correction, keepdim=keepdim)
    return _reduce(Std, x, dim, keepdim, correction=correction)


@accepts_axis
def logsumexp(x: Tensor, dim: int | tuple[int, ...], keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed stably; a slice of only -inf gives -inf. Integer
    and bool tensors are taken in the default float (as PyTorch)."""
    if x.array.dtype.kind != "f":  # integers and bools: in the default float, as PyTorch
        x = x.to(dtype=backend.DEFAULT_FLOAT)
    if x.array.dtype == backend.float16:
        return half_in_float32(logsumexp, x, dim, keepdim)
    return _reduce(LogSumExp, x, dim, keepdim)


@accepts_axis
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value along ``dim`` (of the flattened tensor when None); int64,
    no gradient."""
    return _arg(x, dim, keepdim, "argmax")


@accepts_axis
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value along ``dim`` (of the flattened tensor when None); int64,
    no gradient."""
    return _arg(x, dim, keepdim, "argmin")


def _arg(x: Tensor, dim: int | None, keepdim: bool, name: str) -> Tensor:
    data = x.array
    if data.dtype.kind == "b":
        raise DTypeError(f"{name}: bool input is not supported, as in PyTorch (shape {data.shape})")
    if data.size == 0 and (dim is None or data.shape[norm_dim(dim, data.ndim, data.shape)] == 0):
        raise ValueError(
            f"{name}: cannot reduce over a dim of size 0 (dim {dim}, tensor shape {tuple(x.shape)})"
        )
    if dim is None or data.ndim == 0:
        if dim is not None:
            norm_dim(dim, 0, data.shape)  # 0-d: dim 0 or -1 only
        out = getattr(data.reshape(-1), name)()
        if keepdim:
            out = out.reshape((1,) * data.ndim)
    else:
        axis = norm_dim(dim, data.ndim, data.shape)
        out = getattr(data, name)(axis=axis, keepdims=keepdim)
    return wrap(backend.ensure_array(out, data).astype(backend.int64, copy=False))


# =============================================================================================
# prod, cumsum (issue 16)
# =============================================================================================


class Prod(Function):
    @staticmethod
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
    def forward(ctx, x, dims=None, keepdim=False):
        # the product itself, not 0 where a factor is 0: NaN or inf times 0 is NaN, as PyTorch
        out = x.prod(axis=dims, keepdims=True).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.kept_shape, ctx.dims = out.shape, dims
        return out if keepdim else out.reshape(_drop(out.shape, dims))

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp = backend.array_module(g)
        g = _keepdim_grad(ctx, g)
        if not x.ndim:  # dx = g: no other factor (g * x / x is NaN for x = inf or NaN)
            return g * 1
        # dx_i = g * prod_{j != i} x_j: g * prod / x_i where no factor is 0; else the product
        # of the factors before i times those after it (0 with two zeros or more; NaN where a
        # zero meets an inf), as PyTorch, which also gives 0 for two zeros in a full product
        zeros = int((x == 0).sum())
        with backend.quiet():
            if zeros == 0:
                return g * out / x
            if ctx.dims is None:
                if zeros > 1:
                    return xp.zeros_like(x) * g
                return g * _others_product(x.reshape(-1), 0).reshape(x.shape)
            return g * _others_product(x, ctx.dims[0])

    @staticmethod
    def backward_graph(ctx, g):
        x = ctx.saved_tensors[0]
        g = _keepdim_grad(ctx, g)
        if not x.ndim:
            return g * 1.0
        # dx_j = g * prod_{i != j} x_i, built as the product over rows of x with x_j set to 1
        # (exact with any number of zeros, and differentiable again)
        dims = ctx.dims if ctx.dims is not None else tuple(range(x.ndim))
        order = [d for d in range(x.ndim) if d not in dims] + list(dims)
        lead = tuple(x.shape[d] for d in order[: x.ndim - len(dims)])
        n = math.prod(x.shape[d] for d in dims)
        rows = x.permute(*order).reshape(lead + (n,))
        diagonal = wrap(backend.array_module(x.array).eye(n, dtype=bool))
        others = rows.unsqueeze(-2).expand(lead + (n, n)).masked_fill(diagonal, 1.0)
        excl = Prod.apply(others, dims=(len(lead) + 1,), keepdim=False)
        excl = excl.reshape(tuple(x.shape[d] for d in order))
        inverse = sorted(range(x.ndim), key=order.__getitem__)
        return g * excl.permute(*inverse)


def _others_product(x: Any, axis: int) -> Any:
    """``prod_{j != i} x_j`` along ``axis`` for each i, exact with zeros: the cumulative
    product of the factors before i times that of the factors after i."""
    xp = backend.array_module(x)
    lead = (slice(None),) * axis
    ones = xp.ones_like(x[lead + (slice(0, 1),)])
    before = xp.concatenate([ones, x[lead + (slice(0, -1),)]], axis)
    after = xp.concatenate([ones, xp.flip(x[lead + (slice(1, None),)], axis)], axis)
    return before.cumprod(axis=axis) * xp.flip(after.cumprod(axis=axis), axis)


class CumSum(Function):
    @staticmethod
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
    def forward(ctx, x, dim=0):
        ctx.dim = dim
        return x.cumsum(axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(g)
        # dx_i = sum_{j >= i} g_j: a cumulative sum of g from the end
        return xp.flip(xp.flip(g, ctx.dim).cumsum(axis=ctx.dim), ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim)


def _sum_dtype(x: Tensor) -> Any:
    """PyTorch sums and multiplies integers and bools in int64."""
    return backend.int64 if x.dtype.kind in "biu" else x.dtype


@accepts_axis
def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over ``dim`` (all elements when None); integer and bool tensors give int64.
    ``dtype``: x is cast to it first, and the product comes back in it (as PyTorch).

    The gradient stays right where factors are 0: with one zero only it gets a gradient (the
    product of the others); with two or more every gradient is 0 (as PyTorch).
    """
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod: dim must be an int or None, got {type(dim).__name__} {dim!r}")
    if dtype is not None:
        x = _cast_for_sum(x, dtype, "prod")
        if x.dtype.kind in "iub":  # the int64 product cast back wraps as PyTorch's in dtype
            return prod(x, dim, keepdim).to(dtype=x.dtype)
    x = x if x.dtype == _sum_dtype(x) else x.to(dtype=_sum_dtype(x))
    return _reduce(Prod, x, dim, keepdim)


@accepts_axis
def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``dim``: ``out[i] = x[0] + ... + x[i]``; integers give int64.
    ``dtype``: x is cast to it first, and the sums come back in it (as PyTorch)."""
    if dtype is not None:
        x = _cast_for_sum(x, dtype, "cumsum")
        if x.dtype.kind in "iub":  # the int64 sums cast back wrap as PyTorch's in dtype
            return cumsum(x, dim).to(dtype=x.dtype)
    d = norm_dim(dim, x.ndim, x.shape)
    if x.array.dtype == backend.float16:
        return half_in_float32(cumsum, x, d)
    x = x if x.dtype == _sum_dtype(x) else x.to(dtype=_sum_dtype(x))
    if x.ndim == 0:
        return CumSum.apply(x.reshape(1), dim=0).reshape(())
    return CumSum.apply(x, dim=d)
