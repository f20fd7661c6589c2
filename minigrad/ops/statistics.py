"""Reductions and scans PyTorch users reach for: NaN-aware sums and means, cumulative products
and extremes, log-cumsum-exp, medians and quantiles, counts, and paired results.

- ``nansum nanmean``: the sum and mean of the values that are not NaN
- ``cumprod cummax cummin logcumsumexp``: scans along a dim
- ``median nanmedian quantile nanquantile``: order statistics (the lower median, as PyTorch;
  quantiles by linear interpolation between the order statistics, or the other PyTorch modes)
- ``count_nonzero aminmax std_mean var_mean diff``

Ops that are a few lines of existing differentiable ops are written so (their gradients come
from them: a median's goes to the element it picked, a quantile's to the two order statistics
it interpolates); ``cumprod``, ``cummax``/``cummin``, ``logcumsumexp`` and the global median are
``Function`` classes with their backward beside the forward.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``promotion``,
``return_types``, the sibling ``ops`` modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import backend, return_types
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.errors import DTypeError
from minigrad.ops._util import norm_dim, norm_dims, require_float
from minigrad.ops.conversion import cast, isnan
from minigrad.ops.elementwise import exp
from minigrad.ops.indexing import scatter_add, sort, take_along_dim
from minigrad.ops.mathops import _tensor
from minigrad.ops.reductions import _cast_for_sum, amax, amin, mean, std, sum, var
from minigrad.ops.shape import cat, narrow, where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


def _positions(n: int, dim: int, ndim: int, like: Any) -> Any:
    """0, 1, ..., n-1 along ``dim``, shaped to broadcast against an ``ndim``-d array."""
    xp = backend.array_module(like)
    return xp.arange(n).reshape([-1 if i == dim else 1 for i in range(ndim)])


def _reverse_cumsum(xp: Any, g: Any, dim: int) -> Any:
    """``out_i = sum_{j >= i} g_j`` along ``dim``."""
    return xp.flip(xp.flip(g, dim).cumsum(axis=dim), dim)


def _int_dim(name: str, dim: Any) -> None:
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__} {dim!r}")


def _scan_input(name: str, x: Tensor, dim: int) -> tuple[Tensor, int, bool]:
    """``x`` as at least 1-d and ``dim`` normalized; the flag says it was 0-d."""
    _tensor(name, x)
    _int_dim(name, dim)
    d = norm_dim(dim, x.ndim, x.shape)
    return (x.reshape(1), 0, True) if x.ndim == 0 else (x, d, False)


# =============================================================================================
# nansum, nanmean
# =============================================================================================


@accepts_axis
def nansum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum over ``dim`` (all when None) of the values that are not NaN (0 for none); the
    gradient is 0 at the NaNs. Integers are summed as :func:`sum` (in int64); ``dtype`` as
    :func:`sum`'s."""
    _tensor("nansum", x)
    if x.dtype.kind == "f":
        x = where(isnan(x), 0.0, x)
    if dtype is None:
        return sum(x, dim, keepdim=keepdim)
    return sum(_cast_for_sum(x, dtype, "nansum"), dim, keepdim, dtype=dtype)


@accepts_axis
def nanmean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The mean over ``dim`` of the values that are not NaN (NaN where all are); floats only,
    as PyTorch (``dtype``, a float one, casts x first)."""
    _tensor("nanmean", x)
    require_float("nanmean", x)
    if dtype is not None:
        x = x.to(dtype=dtype)
        require_float("nanmean", x)  # an integer dtype= (PyTorch: "could not infer")
    count = sum(cast(~isnan(x), x.dtype), dim, keepdim=keepdim)
    empty = count == 0  # a row of NaNs only: NaN (its gradient 0, not 0 / 0)
    return where(empty, math.nan, nansum(x, dim, keepdim) / where(empty, 1.0, count))


# =============================================================================================
# cumprod: exact gradients with zeros
# =============================================================================================


class CumProd(Function):
    @staticmethod
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
    def forward(ctx, x, dim=0):
        out = x.cumprod(axis=dim)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, d = backend.array_module(g), ctx.dim
        if x.shape[d] == 1:  # out = x: dx = g (g * out / x is NaN at an inf or NaN x)
            return g
        before, at, x_one = _first_zero(x, d)
        # dx_i = sum_{i <= j < z} g_j out_j / x_i before the first zero z of the row (out_j is 0
        # from z on: left out, as PyTorch, not NaN where an inf follows); at z,
        # prod_{k < z} x_k * sum_{z <= j < z'} g_j prod_{z < k <= j} x_k up to the next zero z'
        # (the product of the others, its prefix factored out as PyTorch); after z, 0 (each
        # product holds x_z)
        with backend.quiet():
            fast = _reverse_cumsum(xp, xp.where(before, g * out, 0), d) / xp.where(before, x, 1)
            prefix = xp.where(before, x, 1).cumprod(axis=d)
            suffix = xp.where(before | at, 1, x).cumprod(axis=d)
            past_next = (x_one == 0).cumsum(axis=d) > 0
            at_zero = prefix * _reverse_cumsum(xp, xp.where(past_next, 0, g * suffix), d)
        return xp.where(before, fast, xp.where(at, at_zero, 0))

    @staticmethod
    def backward_graph(ctx, g):
        x, _ = ctx.saved_tensors
        d = ctx.dim
        n = x.shape[d]
        # dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k, as the cumprod of n rows, row i
        # being x with x_i set to 1: exact with zeros, and differentiable again (O(n^2) memory)
        xp = backend.array_module(x.array)
        rows = x.movedim(d, -1).unsqueeze(-2).expand(*x.movedim(d, -1).shape[:-1], n, n)
        others = rows.masked_fill(wrap(xp.eye(n, dtype=bool)), 1.0)
        partial = CumProd.apply(others, dim=others.ndim - 1)  # [..., i, j]
        later = wrap(~xp.triu(xp.ones((n, n), dtype=bool)))  # j < i: not in dx_i
        terms = (partial * g.movedim(d, -1).unsqueeze(-2)).masked_fill(later, 0.0)
        return sum(terms, -1).movedim(-1, d)


def _first_zero(x: Any, dim: int) -> tuple[Any, Any, Any]:
    """Masks along ``dim``: positions before each row's first zero (all of a row without one),
    the first zero itself; and ``x`` with that zero read as 1."""
    xp = backend.array_module(x)
    zero = x == 0
    n = x.shape[dim]
    if x.size == 0:  # nothing to scan (argmax refuses an empty axis)
        first = n
    else:
        first = xp.where(zero.any(axis=dim, keepdims=True), zero.argmax(axis=dim, keepdims=True), n)
    pos = _positions(n, dim, x.ndim, x)
    at = pos == first
    return pos < first, at, xp.where(at, xp.ones((), x.dtype), x)


@accepts_axis
def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Cumulative product along ``dim``: ``out[i] = x[0] * ... * x[i]``; integers and bools
    give int64 (``dtype``: x cast to it first, the products in it, as PyTorch). The gradient
    is exact with zeros in ``x`` (as PyTorch's), not ``g * out / x``."""
    _tensor("cumprod", x)
    if dtype is not None:
        x = _cast_for_sum(x, dtype, "cumprod")
        if x.dtype.kind in "iub":  # the int64 products cast back wrap as PyTorch's in dtype
            return cumprod(x, dim).to(dtype=x.dtype)
    x, d, was_0d = _scan_input("cumprod", x, dim)
    if x.dtype.kind in "biu":
        x = cast(x, backend.int64)
    out = CumProd.apply(x, dim=d)
    return out.reshape(()) if was_0d else out


# =============================================================================================
# cummax, cummin
# =============================================================================================


class CumExtreme(Function):
    """Values of ``x`` at ``index`` (the running arg-max or arg-min along ``dim``)."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.index, ctx.dim, ctx.in_shape = index, dim, x.shape
        return backend.array_module(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = backend.array_module(g)
        # dx_k = sum of g_j over the j whose running extreme is x_k (a scatter-add)
        dx = xp.zeros(ctx.in_shape, dtype=g.dtype)
        full = tuple(
            ctx.index if i == ctx.dim else _positions(n, i, ctx.index.ndim, g)
            for i, n in enumerate(ctx.index.shape)
        )
        backend.scatter_add(dx, full, g)
        return dx

    @staticmethod
    def backward_graph(ctx, g):
        zeros = wrap(backend.array_module(ctx.index).zeros(ctx.in_shape, dtype=g.dtype))
        return scatter_add(zeros, ctx.dim, wrap(ctx.index), g)


def _cum_extreme(x: Tensor, dim: int, name: str) -> Any:
    x, d, was_0d = _scan_input(name, x, dim)
    data = x.array
    xp = backend.array_module(data)
    ufunc = "maximum" if name == "cummax" else "minimum"
    running = backend.accumulate(ufunc, data, d)
    # the latest index where x equals its running extreme (a NaN, once seen, is the extreme)
    hit = data == running
    if data.dtype.kind == "f":
        hit |= xp.isnan(data)
    pos = _positions(data.shape[d] if data.ndim else 1, d, data.ndim, data)
    index = backend.accumulate("maximum", xp.where(hit, pos, 0), d).astype(backend.int64)
    values = CumExtreme.apply(x, index=index, dim=d)
    indices = wrap(index)
    if was_0d:
        values, indices = values.reshape(()), indices.reshape(())
    tuple_type = return_types.cummax if name == "cummax" else return_types.cummin
    return tuple_type(values, indices)


@accepts_axis
def cummax(x: Tensor, dim: int) -> Any:
    """Running maximum along ``dim``: the named tuple ``(values, indices)``, each index the
    latest position of its value (ties take the later one, a NaN propagates), as PyTorch; the
    gradient goes to those positions."""
    return _cum_extreme(x, dim, "cummax")


@accepts_axis
def cummin(x: Tensor, dim: int) -> Any:
    """Running minimum along ``dim``: ``(values, indices)`` as :func:`cummax`."""
    return _cum_extreme(x, dim, "cummin")


# =============================================================================================
# logcumsumexp
# =============================================================================================


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim=0):
        with backend.quiet():  # -inf inputs: -inf, as PyTorch
            out = backend.accumulate("logaddexp", x, dim)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, d = backend.array_module(g), ctx.dim
        # dx_k = sum_{j >= k} g_j exp(x_k - out_j), the positive and negative parts of g each
        # summed in log space, exp(x_k + log sum_{j >= k} g_j exp(-out_j)), so nothing overflows
        with backend.quiet():
            parts = [_log_tail_sum(xp, x, p, out, d) for p in (g, -g)]
        return parts[0] - parts[1]

    @staticmethod
    def backward_graph(ctx, g):
        x, out = ctx.saved_tensors
        d = ctx.dim
        n = x.shape[d]
        # dx_k = sum_j [j >= k] g_j exp(x_k - out_j): x_k <= out_j there, so no exp overflows
        xk = x.unsqueeze(d + 1)  # index k at d, j at d + 1
        outj, gj = out.unsqueeze(d), g.unsqueeze(d)
        pos = backend.array_module(x.array).arange(n)
        later = (pos.reshape(-1, 1) <= pos.reshape(1, -1)).reshape(
            [n if i in (d, d + 1) else 1 for i in range(x.ndim + 1)]
        )
        weight = exp((xk - outj).masked_fill(wrap(~later), -math.inf))
        return sum(weight * gj, d + 1)


def _log_tail_sum(xp: Any, x: Any, p: Any, out: Any, dim: int) -> Any:
    """``exp(x_k + log sum_{j >= k} p_j exp(-out_j))`` along ``dim`` over the entries p_j > 0
    (the others, g's entries of the other sign or NaN, count as 0, as in PyTorch). A NaN in
    ``out`` (from a NaN input) makes every sum that holds it NaN, as PyTorch's."""
    log_terms = xp.log(p) - out  # NaN where p < 0 or NaN (or -inf - -inf): counted as 0
    dropped = xp.isnan(log_terms) & ~xp.isnan(out)
    log_terms = xp.where(dropped, -math.inf, log_terms)
    tail = xp.flip(backend.accumulate("logaddexp", xp.flip(log_terms, dim), dim), dim)
    return xp.exp(x + tail)


@accepts_axis
def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim``, computed stably (running ``logaddexp``); floats
    only, as PyTorch."""
    x, d, was_0d = _scan_input("logcumsumexp", x, dim)
    require_float("logcumsumexp", x)
    out = LogCumSumExp.apply(x, dim=d)
    return out.reshape(()) if was_0d else out


# =============================================================================================
# median, nanmedian
# =============================================================================================


class SpreadToMatches(Function):
    """The 0-d ``value`` picked from ``x`` (a median); its gradient is shared evenly by the
    elements of ``x`` equal to it (the NaNs for a NaN), as PyTorch's ``median()``."""

    @staticmethod
    def forward(ctx, x, value):
        xp = backend.array_module(x)
        hits = (x == value) | (xp.isnan(x) & xp.isnan(value))
        ctx.weight = hits / xp.maximum(hits.sum(), 1)
        return xp.asarray(value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        # dx = g / k at each of the k elements equal to the value, 0 elsewhere
        return g * ctx.weight.astype(g.dtype, copy=False)

    backward_graph = backward  # operators only: the same formula runs on Tensors


def _order_index(data: Any, dim: int, skip_nan: bool) -> Any:
    """The index along ``dim`` (keepdim shape) of the lower median of each row: of its first
    NaN where there is one (``skip_nan`` False), else of the middle of the sorted non-NaN
    values (a NaN where a row has none). Ties: the position a stable sort gives, as PyTorch."""
    xp = backend.array_module(data)
    order = xp.argsort(data, axis=dim, kind="stable")  # NaNs sort last, in their order
    n = data.shape[dim]
    if data.dtype.kind == "f":
        valid = (~xp.isnan(data)).sum(axis=dim, keepdims=True)
    else:
        valid = xp.full(backend.reduced_shape(data.shape, (dim,)), n)
    if skip_nan:
        rank = (xp.maximum(valid, 1) - 1) // 2
    else:
        rank = xp.where(valid < n, valid, (n - 1) // 2)
    return xp.take_along_axis(order, rank, axis=dim)


def _median(x: Tensor, dim: Any, keepdim: bool, name: str) -> Any:
    _tensor(name, x)
    if x.dtype == backend.bool_:  # as PyTorch ("median_cpu" not implemented for 'Bool')
        raise NotImplementedError(f"{name}: not implemented for bool (shape {tuple(x.shape)})")
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return SpreadToMatches.apply(flat, value=_nan_like(flat.array))
        index = _order_index(flat.array, 0, name == "nanmedian")
        return SpreadToMatches.apply(flat, value=flat.array[index[0]])
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name}: dim must be an int or None, got {type(dim).__name__} {dim!r}")
    d = norm_dim(dim, x.ndim, x.shape)
    was_0d = x.ndim == 0
    if was_0d:
        x, d = x.reshape(1), 0
    if x.shape[d] == 0:
        raise IndexError(
            f"{name}: cannot reduce over dim {dim} of size 0 (tensor shape {tuple(x.shape)})"
        )
    index = wrap(_order_index(x.array, d, name == "nanmedian").astype(backend.int64))
    values = take_along_dim(x, index, d)
    if was_0d or not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    tuple_type = return_types.median if name == "median" else return_types.nanmedian
    return tuple_type(values, index)


def _nan_like(data: Any) -> Any:
    xp = backend.array_module(data)
    return xp.asarray(math.nan if data.dtype.kind == "f" else 0, dtype=data.dtype)


@accepts_axis
def median(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``median(x)``: the lower median of all elements (the smaller middle value of an even
    count, as PyTorch), NaN if any is NaN; 0-d, its gradient shared by the elements equal to
    it. ``median(x, dim)``: the named tuple ``(values, indices)`` along ``dim``, as
    ``max(dim)``; the gradient goes to the returned index."""
    return _median(x, dim, keepdim, "median")


@accepts_axis
def nanmedian(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """:func:`median` of the values that are not NaN (NaN where a row has none)."""
    return _median(x, dim, keepdim, "nanmedian")


# =============================================================================================
# quantile, nanquantile
# =============================================================================================

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(name: str, q: Any, x: Tensor) -> tuple[Any, bool]:
    """``q`` as a 1-d array of x's dtype on x's device, checked to lie in [0, 1]; and whether
    it was a scalar (a number or a 0-d tensor: no leading dim in the result)."""
    xp = backend.array_module(x.array)
    if isinstance(q, TensorBase):
        if q.ndim > 1 or q.dtype != x.dtype:
            raise ValueError(
                f"{name}: q must be a number or a 0-d or 1-d tensor of the input's dtype "
                f"{x.dtype}, got {q.dtype} of shape {tuple(q.shape)}"
            )
        scalar, values = q.ndim == 0, q.array.reshape(-1)
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        scalar, values = True, xp.asarray([q], dtype=x.dtype)
    else:
        raise TypeError(f"{name}: q must be a float or a Tensor, got {type(q).__name__}")
    host = backend.to_host(values)
    if not ((host >= 0) & (host <= 1)).all():  # NaN fails too
        raise ValueError(f"{name}: q values must be in the range [0, 1], got {host.tolist()}")
    return values, scalar


def _quantile_ranks(x: Any, q: Any, skip_nan: bool, interpolation: str) -> tuple[Any, Any, Any]:
    """For sorted rows along the last dim of ``x`` (NaNs last): the low and high positions
    (int64, shape (Q, ..., 1)) to interpolate between and the weight of the high one; for
    "lower", "higher" and "nearest" the one position taken, twice, and no weight (None)."""
    xp = backend.array_module(x)
    n = x.shape[-1]
    valid = (~xp.isnan(x)).sum(axis=-1, keepdims=True)
    q = q.reshape((-1,) + (1,) * x.ndim)
    if skip_nan:  # a row without a value: position 0, a NaN
        rank = q * xp.maximum(valid - 1, 0).astype(x.dtype)  # in x's dtype, as PyTorch
    else:  # a row holding a NaN: the last position, a NaN
        rank = xp.where(valid < n, n - 1, q * (n - 1))
    if interpolation in ("lower", "higher", "nearest"):  # round half to even, as PyTorch
        pick = {"lower": xp.floor, "higher": xp.ceil, "nearest": xp.round}[interpolation]
        taken = pick(rank).astype(backend.int64)
        return taken, taken, None
    low, high = xp.floor(rank), xp.ceil(rank)
    weight = rank - low if interpolation == "linear" else xp.where(high > low, 0.5, 0.0)
    return low.astype(backend.int64), high.astype(backend.int64), weight.astype(x.dtype)


def _quantile(x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str, name: str) -> Tensor:
    _tensor(name, x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{name}: input must be a float tensor, got {x.dtype}")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"{name}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}"
        )
    qs, scalar = _quantile_q(name, q, x)
    dims = None if dim is None else (norm_dim(dim, x.ndim, x.shape),)
    rows = x.reshape(-1) if dims is None else x.movedim(dims[0], -1)
    if rows.ndim == 0:
        rows = rows.reshape(1)
    if rows.shape[-1] == 0:
        raise ValueError(f"{name}: the input must not be empty (shape {tuple(x.shape)})")
    ordered = sort(rows, -1).values  # NaNs last
    low, high, weight = _quantile_ranks(ordered.array, qs, name == "nanquantile", interpolation)
    lo = take_along_dim(ordered.unsqueeze(0), wrap(low), -1)
    if weight is None:  # one order statistic, as it is: an inf stays inf (no inf - inf)
        out = lo.squeeze(-1)
    else:
        hi = take_along_dim(ordered.unsqueeze(0), wrap(high), -1)
        w = wrap(weight)
        # lerp as PyTorch's, from the nearer end: lo + w (hi - lo) or hi - (1 - w) (hi - lo)
        out = where(wrap(weight < 0.5), lo + w * (hi - lo), hi - (1 - w) * (hi - lo)).squeeze(-1)
    if keepdim:
        out = out.reshape((out.shape[0],) + backend.reduced_shape(x.shape, dims))
    return out.squeeze(0) if scalar else out


def quantile(
    x: Tensor,
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """The ``q``-th quantiles of ``x`` along ``dim`` (of all elements when None): position
    ``q * (n - 1)`` of the sorted values, interpolated (``interpolation``: "linear", "lower",
    "higher", "midpoint" or "nearest", as PyTorch). ``q``: a number in [0, 1], or a 0-d or 1-d
    tensor (then the result has a leading dim of ``len(q)``). A row holding a NaN gives NaN.
    The gradient goes to the order statistics interpolated."""
    return _quantile(x, q, dim, keepdim, interpolation, "quantile")


def nanquantile(
    x: Tensor,
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """:func:`quantile` of the values that are not NaN (NaN where a row has none)."""
    return _quantile(x, q, dim, keepdim, interpolation, "nanquantile")


# =============================================================================================
# count_nonzero, aminmax, std_mean, var_mean, diff
# =============================================================================================


def count_nonzero(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """How many elements of ``x`` are not 0 over ``dim`` (all when None); int64, no gradient."""
    _tensor("count_nonzero", x)
    dims = norm_dims(dim, x.ndim, x.shape)
    xp = backend.array_module(x.array)
    counts = (x.array != 0).sum(axis=dims)
    return wrap(xp.asarray(counts, dtype=backend.int64))


def aminmax(x: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` over ``dim`` (all when None), a named tuple as ``torch.aminmax``; the
    gradients as :func:`amin` and :func:`amax` (split among ties)."""
    _tensor("aminmax", x)
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool)):
        raise TypeError(f"aminmax: dim must be an int or None, got {type(dim).__name__} {dim!r}")
    return return_types.aminmax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def _moments_arguments(dim: Any, unbiased: Any, correction: Any) -> tuple[Any, int]:
    if isinstance(dim, bool):  # std_mean(x, False): PyTorch's (input, unbiased) overload
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def std_mean(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:
    """``(std(x, dim), mean(x, dim))``, a plain tuple as PyTorch's."""
    dim, correction = _moments_arguments(dim, unbiased, correction)
    return std(x, dim, correction=correction, keepdim=keepdim), mean(x, dim, keepdim=keepdim)


def var_mean(
    x: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:
    """``(var(x, dim), mean(x, dim))``, a plain tuple as PyTorch's."""
    dim, correction = _moments_arguments(dim, unbiased, correction)
    return var(x, dim, correction=correction, keepdim=keepdim), mean(x, dim, keepdim=keepdim)


def diff(
    x: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]``, applied
    ``n`` times, after ``prepend`` and ``append`` (tensors of x's shape but along ``dim``) are
    joined on. Bool tensors give ``x[i + 1] != x[i]``, as PyTorch. Shape: x's, ``n`` shorter
    along ``dim`` (empty when ``n`` exceeds it)."""
    _tensor("diff", x)
    if x.ndim == 0:
        raise ValueError("diff: expects a tensor with at least one dimension, got a 0-d tensor")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    d = norm_dim(dim, x.ndim, x.shape)
    parts = []
    for what, extra in (("prepend", prepend), (None, x), ("append", append)):
        if extra is None:
            continue
        _tensor(f"diff: {what}", extra)
        if what is not None and extra.ndim != x.ndim:
            raise ValueError(
                f"diff: {what} must have as many dims as the input ({x.ndim}), got shape "
                f"{tuple(extra.shape)}"
            )
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else x
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        later, earlier = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = later != earlier if x.dtype == backend.bool_ else later - earlier
    return x
