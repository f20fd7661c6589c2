"""Fused ops with hand-written gradients: softmax, log_softmax, layer_norm, rms_norm, dropout,
embedding, cross_entropy, attention, linear.

Writing these as one op each (instead of a chain of exp, sum and divide) keeps them stable
(max subtraction) and fast (one saved array, one backward formula).

Fully masked rows: a softmax row whose entries are all -inf has no probability mass. PyTorch
returns NaN there; we return zeros with a zero gradient, so padded rows cannot poison a sum.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``; ``tensor``
for annotations only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, is_grad_enabled, wrap
from minigrad.ops._util import (
    ShapeError,
    broadcast_shape,
    check_ids,
    half_in_float32,
    norm_dim,
    require_float,
    same_dtype,
)
from minigrad.ops.shape import IndexAdd

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# softmax / log_softmax
# =============================================================================================


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        # y = exp(x - max(x)) / sum(exp(x - max(x))) along dim
        y = backend.softmax_rows(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # dx = y * (g - sum(g * y, dim))
        return backend.softmax_rows_grad(g, y, ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        (y,) = ctx.saved_tensors  # the output, its grad_fn this node
        return y * (g - (g * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        # out = x - max(x) - log(sum(exp(x - max(x)))) along dim
        out, dead = backend.log_softmax_rows(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(out, dead)
        return out

    @staticmethod
    def backward(ctx, g):
        out, dead = ctx.saved_tensors
        # dx = g - softmax(x) * sum(g, dim), with softmax(x) = exp(out)
        return backend.log_softmax_rows_grad(g, out, dead, ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        out, dead = ctx.saved_tensors  # out: the output, its grad_fn this node
        dx = g - out.exp() * g.sum(ctx.dim, keepdim=True)
        return dx.masked_fill(wrap(dead), 0.0)


@accepts_axis
def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable; a slice of only -inf gives zeros."""
    dtype = x.array.dtype
    if dtype is not backend.float32 and dtype is not backend.float64:  # the checks inlined
        require_float("softmax", x)  # raises, naming the dtype
        if dtype is backend.float16:  # sums in float32, as PyTorch
            return half_in_float32(softmax, x, dim)
    return Softmax.apply(x, dim=norm_dim(dim, x.array.ndim, x.array.shape))


@accepts_axis
def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable; a slice of only -inf gives zeros (and zero gradient)."""
    require_float("log_softmax", x)
    if x.array.dtype is backend.float16:  # sums in float32, as PyTorch
        return half_in_float32(log_softmax, x, dim)
    return LogSoftmax.apply(x, dim=norm_dim(dim, x.array.ndim, x.array.shape))


# =============================================================================================
# layer_norm
# =============================================================================================


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        # xhat = (x - mean(x)) / sqrt(var(x) + eps) over dims ; out = xhat * w + b
        xp = backend.array_module(x)
        # sum * (1/n): NumPy's mean() is slow; 1/n and eps as constants of x's dtype
        inv_n = backend.constant(1.0 / math.prod(x.shape[dims[0] :]), x)
        centered = x - backend.row_sum(x, dims) * inv_n
        var = backend.row_sum(centered * centered, dims) * inv_n
        rstd = xp.reciprocal(xp.sqrt(var + backend.constant(eps, x)))
        xhat = centered
        xhat *= rstd
        ctx.dims, ctx.inv_n, ctx.eps = dims, inv_n, eps
        ctx.save_for_backward(xhat, rstd, weight)
        out = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        dims = ctx.dims
        # dxhat = g * w ; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
        dxhat = g * weight if weight is not None else g
        dx = None
        if ctx.needs_input_grad[0]:
            inv_n = ctx.inv_n
            dx = dxhat - backend.row_sum(dxhat, dims) * inv_n
            dx -= xhat * (backend.row_sum(dxhat * xhat, dims) * inv_n)
            dx *= rstd
        # dw = sum over the batch axes of g * xhat ; db = sum over the batch axes of g
        batch_axes = tuple(range(dims[0]))
        dw = backend.reduce_sum(g * xhat, batch_axes, False) if ctx.needs_input_grad[1] else None
        db = backend.reduce_sum(g, batch_axes, False) if ctx.needs_input_grad[2] else None
        return dx, dw, db

    @staticmethod
    def backward_graph(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        dims, batch_axes = ctx.dims, tuple(range(ctx.dims[0]))
        # x - mean(x) stands in for x (layer_norm does not change when x shifts along its
        # rows); xhat and rstd are rebuilt from it in the graph, then the same formulas
        x = ctx.input(0, xhat / rstd)
        centered = x - x.mean(dims, keepdim=True)
        rstd = ((centered * centered).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = centered * rstd
        dxhat = g * weight if weight is not None else g
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            mean_dxhat = dxhat.mean(dims, keepdim=True)
            dx = rstd * (dxhat - mean_dxhat - xhat * (dxhat * xhat).mean(dims, keepdim=True))
        if ctx.needs_input_grad[1]:
            dw = (g * xhat).sum(batch_axes) if batch_axes else g * xhat
        if ctx.needs_input_grad[2]:
            db = g.sum(batch_axes) if batch_axes else g
        return dx, dw, db


def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims, then scale by ``weight`` and
    shift by ``bias`` (each of shape ``normalized_shape``).

    Shapes: x (..., *normalized_shape) -> same shape.
    """
    if x.array.dtype.kind != "f":  # the check inlined: a call costs at this scale
        require_float("layer_norm", x)  # raises, naming the dtype
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or x.array.shape[-n:] != shape or x.array.ndim < n:
        raise ShapeError(
            f"layer_norm: input of shape {tuple(x.shape)} does not end with normalized_shape {shape}"
        )
    if weight is not None or bias is not None:
        _check_affine("layer_norm", shape, x, ("weight", weight), ("bias", bias))
    if 0 in shape:
        return _normalized_nothing(x, weight, bias)
    if x.array.dtype is backend.float16:  # sums over rows and batch in float32, as PyTorch
        return half_in_float32(layer_norm, x, normalized_shape, weight, bias, eps)
    dims = tuple(range(x.array.ndim - n, x.array.ndim))
    return LayerNorm.apply(x, weight, bias, dims=dims, eps=eps)


def _normalized_nothing(x: Tensor, weight: Tensor | None, bias: Tensor | None = None) -> Tensor:
    """A norm over rows of no elements (a 0 in ``normalized_shape``): empty, as PyTorch's, with
    empty gradients for each input (the kernels would divide by the row size 0)."""
    out = x * 1 if weight is None else x * weight
    return out if bias is None else out + bias


def _check_affine(
    op: str, shape: tuple[int, ...], x: Tensor, *params: tuple[str, Tensor | None]
) -> None:
    """The scale and shift of a normalization: ``normalized_shape`` and the input's dtype."""
    for name, p in params:
        if p is not None and tuple(p.shape) != shape:
            raise ShapeError(
                f"{op}: {name} has shape {tuple(p.shape)}, expected normalized_shape {shape}"
            )
        same_dtype(op, (name, p), ("the input", x))


# =============================================================================================
# rms_norm
# =============================================================================================


class RMSNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, dims, eps):
        # rstd = 1 / sqrt(mean(x^2) + eps) over dims ; xhat = x * rstd ; out = xhat * w
        xp = backend.array_module(x)
        inv_n = backend.constant(1.0 / math.prod(x.shape[dims[0] :]), x)  # as in LayerNorm
        mean_square = backend.row_sum(x * x, dims) * inv_n
        rstd = xp.reciprocal(xp.sqrt(mean_square + backend.constant(eps, x)))
        xhat = x * rstd
        ctx.dims, ctx.inv_n, ctx.eps = dims, inv_n, eps
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight if weight is not None else xhat

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        # dxhat = g * w ; dx = rstd * (dxhat - xhat * mean(dxhat * xhat))
        dxhat = g * weight if weight is not None else g
        dx = None
        if ctx.needs_input_grad[0]:
            dx = dxhat - xhat * (backend.row_sum(dxhat * xhat, ctx.dims) * ctx.inv_n)
            dx *= rstd
        # dw = sum over the batch axes of g * xhat
        batch_axes = tuple(range(ctx.dims[0]))
        dw = backend.reduce_sum(g * xhat, batch_axes, False) if ctx.needs_input_grad[1] else None
        return dx, dw

    @staticmethod
    def backward_graph(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        dims, batch_axes = ctx.dims, tuple(range(ctx.dims[0]))
        # x = xhat / rstd, rebuilt in the graph (rms_norm, unlike layer_norm, changes when x
        # shifts, so x itself stands in); rstd and xhat from it, then the same formulas
        # without a weight the output is xhat itself, so xhat may come back as that tensor
        x = ctx.input(0, getattr(xhat, "array", xhat) / rstd)
        rstd = ((x * x).mean(dims, keepdim=True) + ctx.eps) ** -0.5
        xhat = x * rstd
        dxhat = g * weight if weight is not None else g
        dx = dw = None
        if ctx.needs_input_grad[0]:
            dx = rstd * (dxhat - xhat * (dxhat * xhat).mean(dims, keepdim=True))
        if ctx.needs_input_grad[1]:
            dw = (g * xhat).sum(batch_axes) if batch_axes else g * xhat
        return dx, dw


def rms_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Root-mean-square norm (Zhang & Sennrich, 2019), as PyTorch's ``rms_norm``:
    ``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` dims.

    Shapes: x (..., *normalized_shape), weight ``normalized_shape`` -> x's shape. ``eps=None``
    means the machine epsilon of x's dtype (``torch.finfo(x.dtype).eps``), float32's for float16
    (computed in float32, as PyTorch).
    """
    require_float("rms_norm", x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or x.ndim < n or tuple(x.shape[-n:]) != shape:
        raise ShapeError(
            f"rms_norm: input of shape {tuple(x.shape)} does not end with normalized_shape {shape}"
        )
    _check_affine("rms_norm", shape, x, ("weight", weight))
    if 0 in shape:
        return _normalized_nothing(x, weight)
    if eps is None:  # float16 is computed in float32, with float32's epsilon (as PyTorch)
        eps = backend.machine_eps(backend.float32 if x.dtype == backend.float16 else x.dtype)
    eps = float(eps)
    if not eps >= 0:
        raise ValueError(f"rms_norm: eps must be >= 0, got {eps}")
    if x.dtype == backend.float16:
        return half_in_float32(rms_norm, x, normalized_shape, weight, eps)
    dims = tuple(range(x.ndim - n, x.ndim))
    return RMSNorm.apply(x, weight, dims=dims, eps=eps)


# =============================================================================================
# dropout
# =============================================================================================


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p):
        keep = backend.keep_mask(x.shape, p, backend.device_of(x))
        ctx.scale = 1.0 / (1.0 - p)
        ctx.save_for_backward(keep)  # 1 byte per element
        out = x * keep
        out *= ctx.scale
        return out

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        # dx = g * keep / (1 - p)
        dx = g * keep
        dx *= ctx.scale
        return dx

    @staticmethod
    def backward_graph(ctx, g):
        (keep,) = ctx.saved_tensors  # the same mask
        return g * keep * ctx.scale


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when
    not training or p == 0)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    require_float("dropout", x)
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=p)


# =============================================================================================
# embedding
# =============================================================================================


class Embedding(Function):
    @staticmethod
    def forward(ctx, indices, weight, padding_idx=None):
        ctx.save_for_backward(indices)
        ctx.num_rows = weight.shape[0]
        ctx.padding_idx = padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        # dweight[i] = sum of g over the positions that looked up row i ; the padding row gets 0
        dw = backend.index_rows_add(ctx.num_rows, indices, g)
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return None, dw.reshape((ctx.num_rows,) + g.shape[indices.ndim :])

    @staticmethod
    def backward_graph(ctx, g):
        (indices,) = ctx.saved_tensors  # a constant integer Tensor
        ids = indices.array
        shape = (ctx.num_rows,) + tuple(g.shape[ids.ndim :])
        dw = IndexAdd.apply(g, in_shape=shape, index=ids, advanced=True)
        if ctx.padding_idx is not None:
            padding = backend.array_module(ids).arange(ctx.num_rows) == ctx.padding_idx
            dw = dw.masked_fill(wrap(padding.reshape((-1,) + (1,) * (dw.ndim - 1))), 0.0)
        return None, dw


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` looked up by integer ``indices``.

    Shapes: indices (*), weight (num_embeddings, dim) -> (*, dim). The row ``padding_idx``
    receives no gradient.
    """
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {indices.dtype}")
    if weight.array.ndim != 2:
        raise ShapeError(
            f"embedding: weight must be 2-D (num_embeddings, dim), got shape {tuple(weight.shape)}"
        )
    num = weight.array.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise IndexError(
                f"embedding: padding_idx {padding_idx} is out of range for {num} embeddings"
            )
        padding_idx %= num
    check_ids("embedding", indices, num, "num_embeddings")
    return Embedding.apply(indices, weight, padding_idx=padding_idx)


# =============================================================================================
# cross_entropy
# =============================================================================================


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target, ignore_index, label_smoothing, reduction, class_probs):
        """logits (N, C, *) ; target (N, *) class ids, or (N, C, *) probabilities."""
        xp = backend.array_module(logits)
        x = _class_rows(logits)  # (M, C) with M = N * prod(*)
        classes = x.shape[1]
        m = backend.row_max(x, 1)
        e = xp.exp(x - m)
        s = backend.row_sum(e, 1)  # (M, 1)
        lse = m[:, 0] + xp.log(s[:, 0])  # logsumexp of each row, (M,)
        eps = label_smoothing
        at = valid = q = None
        if class_probs:
            # q = (1 - eps) * target + eps / C ; loss = -sum_c q_c log p_c = sum(q) lse - sum(q x)
            q = _class_rows(target)
            if eps:
                q = q * (1 - eps) + eps / classes
            loss = q.sum(axis=1) * lse - (q * x).sum(axis=1)
        else:
            # loss = -log p[t], mixed with eps * mean_c(-log p_c); 0 where t == ignore_index
            t = target.reshape(-1)
            if ignore_index is not None:
                valid = t != ignore_index
                t = xp.where(valid, t, 0)
            at = backend.row_positions(t, classes)  # x[i, t[i]] is x.reshape(-1)[at[i]]
            loss = lse - x.reshape(-1)[at]
            if eps:
                loss = (1 - eps) * loss + eps * (lse - x.sum(axis=1) * (1.0 / classes))
            if valid is not None:
                loss = xp.where(valid, loss, 0)  # not loss * valid: NaN logits there give 0
        ctx.shape, ctx.reduction, ctx.eps = logits.shape, reduction, eps
        # "mean" divides by the targets that count; over class ids at least 1 (0, not NaN, when
        # none counts or the batch is empty, as nll_loss), over probabilities by every row
        if valid is not None:
            ctx.count = xp.maximum(valid.sum(), 1).astype(loss.dtype)
        else:
            ctx.count = backend.constant(max(loss.shape[0], 0 if class_probs else 1), loss)
        ctx.save_for_backward(e, s, q, at, valid)
        if reduction == "none":
            return loss.reshape(logits.shape[:1] + logits.shape[2:])
        total = backend.total(loss)  # a 0-d array
        if reduction == "mean" and class_probs and not loss.size:
            total = total * math.nan  # the mean of no rows, as mean() (0 / 0 without a warning)
        elif reduction == "mean":
            total /= ctx.count
        return total

    @staticmethod
    def backward(ctx, g):
        e, s, q, at, valid = ctx.saved_tensors
        xp = backend.array_module(g)
        # dlogits = (softmax(logits) * sum(q) - q) * dloss, where q is the target distribution
        # (sum(q) = 1 for class ids); 0 for ignored targets
        d = xp.ascontiguousarray(e / s)  # C order, so that d.reshape(-1) below is a view
        if q is None:  # q = (1 - eps) * one_hot(t) + eps / C
            d.reshape(-1)[at] -= backend.constant(1.0 - ctx.eps, d)  # d[i, t[i]]
            if ctx.eps:
                d -= ctx.eps / e.shape[1]
        else:
            d *= q.sum(axis=1, keepdims=True)
            d -= q
        if ctx.reduction == "none":
            weight = g.reshape(-1)
        else:
            weight = g if ctx.reduction == "sum" else g / ctx.count
        if valid is not None:
            weight = weight * valid
        d *= weight[:, None] if weight.ndim else weight
        if len(ctx.shape) == 2:
            return d, None
        n, c, *rest = ctx.shape
        return xp.moveaxis(d.reshape((n, *rest, c)), -1, 1), None

    @staticmethod
    def backward_graph(ctx, g):
        e, s, q, at, valid = ctx.saved_tensors
        q = q.array if isinstance(q, TensorBase) else q  # the target: data, not a variable
        xp = backend.array_module(e)
        # log(softmax(logits)) stands in for the logits (the loss does not change when a row
        # shifts); softmax is rebuilt from it in the graph, then the same formula
        with backend.quiet():
            x = ctx.input(0, _logits_layout(xp.log(e / s), ctx.shape))
        p = _class_rows_graph(x).softmax(1)
        if q is None:  # q = (1 - eps) * one_hot(t) + eps / C
            target = xp.zeros(e.shape, dtype=e.dtype)
            target.reshape(-1)[at] = 1.0 - ctx.eps  # target[i, t[i]]
            d = p - (target + ctx.eps / e.shape[1])
        else:
            d = p * q.sum(axis=1, keepdims=True) - q
        if ctx.reduction == "none":
            weight = g.reshape(-1)
        else:
            weight = g if ctx.reduction == "sum" else g / ctx.count
        if valid is not None:
            weight = weight * valid
        d = d * (weight.unsqueeze(1) if weight.ndim else weight)
        if len(ctx.shape) == 2:
            return d, None
        n, c, *rest = ctx.shape
        return d.reshape((n, *rest, c)).permute(
            0, len(ctx.shape) - 1, *range(1, len(rest) + 1)
        ), None


def _class_rows(a):
    """(N, C, *) -> (M, C), C-contiguous (``backend.row_positions`` index it flat): one row
    of classes per target."""
    xp = backend.array_module(a)
    if a.ndim == 2:
        return xp.ascontiguousarray(a)
    return xp.ascontiguousarray(xp.moveaxis(a, 1, -1).reshape(-1, a.shape[1]))


def _class_rows_graph(x: Tensor) -> Tensor:
    """``_class_rows`` on a Tensor, with differentiable ops."""
    if x.ndim == 2:
        return x
    return x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])


def _logits_layout(rows, shape):
    """(M, C) rows back to the logits' layout (N, C, *)."""
    if len(shape) == 2:
        return rows
    n, c, *rest = shape
    return backend.array_module(rows).moveaxis(rows.reshape((n, *rest, c)), -1, 1)


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Cross-entropy between ``logits`` and class ids (or class probabilities), fused with
    log_softmax.

    Shapes: logits (N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...) integer class ids, or
    a float tensor of the logits' shape holding probabilities. Returns a scalar for
    ``reduction="mean"|"sum"``, the per-target losses for ``"none"``. Targets equal to
    ``ignore_index`` contribute nothing to the loss, even where their logits are NaN or inf
    (as PyTorch); with ``"mean"`` the sum is divided by the number of targets that count (a
    batch where all are ignored gives 0, not NaN).
    Probability targets need not sum to 1 (an all-zero row gives loss 0 and no gradient) and
    take no ``ignore_index``.

    ``weight`` (C,), one per class, as PyTorch's: each target's loss is multiplied by the weight
    of its class (with label smoothing, or probabilities, the class terms are each weighted), and
    ``"mean"`` over class ids divides by the summed weights of the targets that count (over
    probabilities, by the number of targets).
    """
    if logits.array.dtype.kind != "f":  # the check inlined: a call costs at this scale
        require_float("cross_entropy", logits)  # raises, naming the dtype
    if not isinstance(target, TensorBase) or not logits.array.ndim:
        _refuse_ce_operands(logits, target)
    _check_ce_options(reduction, label_smoothing, ignore_index)
    if logits.array.ndim == 1:  # a single sample: (C,) with a 0-d target
        out = cross_entropy(
            logits.unsqueeze(0),
            target.reshape(1) if target.dtype.kind in "iu" else target.unsqueeze(0),
            ignore_index,
            label_smoothing,
            reduction,
            weight,
        )
        return out.reshape(()) if reduction == "none" else out
    if weight is not None:  # class weights: their own branch, the fused op takes none
        return _weighted_cross_entropy(
            logits, target, weight, ignore_index, label_smoothing, reduction
        )
    class_probs = target.array.dtype.kind == "f"
    if class_probs:
        _check_probability_target(logits, target, ignore_index)
        if target.requires_grad and is_grad_enabled():
            return _soft_cross_entropy(logits, target, float(label_smoothing), reduction)
    elif not _check_class_target(logits, target, ignore_index):
        ignore_index = None  # no target equals it: skip the masking
    return CrossEntropy.apply(
        logits,
        target,
        ignore_index=ignore_index,
        label_smoothing=float(label_smoothing),
        reduction=reduction,
        class_probs=class_probs,
    )


def _soft_cross_entropy(
    logits: Tensor,
    target: Tensor,
    label_smoothing: float,
    reduction: str,
    weight: Tensor | None = None,
) -> Tensor:
    """Cross-entropy with probability targets that require grad, or with class weights ``w``,
    from differentiable ops (the fused op gives the target no gradient and takes no weight):
    ``-sum_c w_c q_c log_softmax(x)_c`` with ``q = (1 - eps) * target + eps / C``; the
    target's gradient is ``-(1 - eps) w log p``."""
    q = target
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / logits.shape[1]
    if weight is not None:
        q = q * _along_classes(weight, logits.ndim)
    loss = -(q * log_softmax(logits, dim=1)).sum(1)  # (N, d1, ...)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _weighted_cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor,
    ignore_index: int | None,
    label_smoothing: float,
    reduction: str,
) -> Tensor:
    """Cross-entropy with class weights ``w``, from differentiable ops (PyTorch's nll_loss plus
    its smoothing term): ``loss = -sum_c w_c q_c log_softmax(x)_c`` with ``q = (1 - eps) *
    one_hot(t) + eps / C``, 0 where t is ``ignore_index``; ``"mean"`` divides by ``sum(w[t])``
    over the targets that count (0, not NaN, when that is 0). Probability targets: see
    ``_soft_cross_entropy``."""
    _check_ce_weight(logits, weight)
    if target.array.dtype.kind == "f":
        _check_probability_target(logits, target, ignore_index)
        return _soft_cross_entropy(logits, target, float(label_smoothing), reduction, weight)
    if not _check_class_target(logits, target, ignore_index):
        ignore_index = None  # no target equals it: skip the masking
    xp = backend.array_module(logits.array)
    classes, ids, eps = logits.shape[1], target.array, float(label_smoothing)
    valid = ids != ignore_index if ignore_index is not None else xp.ones(ids.shape, dtype=bool)
    ids = xp.where(valid, ids, 0)
    hot = xp.expand_dims(ids, 1) == xp.arange(classes).reshape((1, classes) + (1,) * (ids.ndim - 1))
    q = hot * backend.constant(1.0 - eps, logits.array) + backend.constant(
        eps / classes, logits.array
    )
    q = q.astype(logits.dtype, copy=False) * xp.expand_dims(valid, 1)  # (N, C, d1, ...)
    picked = (wrap(q) * _along_classes(weight, logits.ndim) * log_softmax(logits, dim=1)).sum(1)
    loss = (-picked).masked_fill(wrap(~valid), 0.0)  # 0 where ignored, even for NaN logits
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    total = (weight[wrap(ids)] * wrap(valid.astype(logits.dtype))).sum()
    # sum(w[t]) = 0 read as 1 (the loss is then 0), as nll_loss
    return loss.sum() / (total + wrap(xp.asarray(total.array == 0, dtype=logits.dtype)))


def _along_classes(weight: Tensor, ndim: int) -> Tensor:
    """The class weights (C,) shaped to broadcast along dim 1 of (N, C, d1, ...)."""
    return weight.reshape((-1,) + (1,) * (ndim - 2))


def _check_ce_weight(logits: Tensor, weight: Tensor) -> None:
    classes = logits.shape[1]
    if not isinstance(weight, TensorBase) or tuple(weight.shape) != (classes,):
        what = tuple(weight.shape) if isinstance(weight, TensorBase) else type(weight).__name__
        raise ShapeError(
            f"cross_entropy: weight must be a tensor of shape ({classes},), one per class of the "
            f"logits {tuple(logits.shape)}, got {what}"
        )
    same_dtype("cross_entropy", ("weight", weight), ("the logits", logits))


def _refuse_ce_operands(logits: Tensor, target: object) -> None:
    """Raise for a target that is no tensor, or 0-d logits (no class dim)."""
    if not isinstance(target, TensorBase):
        raise TypeError(f"cross_entropy: target must be a tensor, got {type(target).__name__}")
    raise ShapeError(
        "cross_entropy: logits must have a class dim, (C,), (N, C) or (N, C, d1, ...), got a "
        f"0-d tensor (target of shape {tuple(target.shape)})"
    )


def _check_ce_options(reduction: str, label_smoothing: float, ignore_index: int) -> None:
    if ignore_index.__class__ is not int and not hasattr(ignore_index, "__index__"):
        raise TypeError(
            "cross_entropy: ignore_index must be an int (a class id), got "
            f"{ignore_index!r} of type {type(ignore_index).__name__}"
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")


def _check_probability_target(logits: Tensor, target: Tensor, ignore_index: int) -> None:
    shape, tshape = tuple(logits.shape), tuple(target.shape)
    if tshape != shape:
        raise ShapeError(
            f"cross_entropy: probability targets must have the logits' shape {shape}, got {tshape}"
        )
    same_dtype("cross_entropy", ("target", target), ("the logits", logits))
    if ignore_index != -100:
        raise ValueError(
            f"cross_entropy: ignore_index ({ignore_index}) is not supported with probability "
            f"targets (a {target.dtype} target of shape {tshape}); give an all-zero target row "
            "to leave a sample out"
        )


def _check_class_target(logits: Tensor, target: Tensor, ignore_index: int) -> bool:
    """Check the class ids; returns whether some target equals ``ignore_index``."""
    shape, tshape = logits.array.shape, target.array.shape
    if target.array.dtype.kind not in "iu":
        raise TypeError(
            "cross_entropy: target must hold integer class ids or float probabilities, "
            f"got {target.dtype}"
        )
    if tshape != shape[:1] + shape[2:]:
        raise ShapeError(
            f"cross_entropy: logits of shape {shape} need a target of shape "
            f"{shape[:1] + shape[2:]}, got {tshape}"
        )
    return check_ids(
        "cross_entropy", target, shape[1], "the number of classes", ignore=ignore_index
    )


# =============================================================================================
# attention core
# =============================================================================================


class Attention(Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p):
        xp = backend.array_module(q)
        # 1. scores = scale * q k^T   (..., Tq, Tk)
        p = q @ k.swapaxes(-1, -2)
        p *= scale
        # 2. mask: True may not attend (-inf), a float mask is added
        if mask is not None:
            if mask.dtype == backend.bool_:
                xp.copyto(p, -xp.inf, where=mask)
            else:
                p += mask
        # 3. p = softmax(scores) over the keys; 4. dropout on p
        backend.softmax_rows_inplace(p)
        keep = None
        if dropout_p > 0.0:  # survivors scaled by 1/(1-p), in p's dtype
            keep = backend.keep_mask(p.shape, dropout_p, backend.device_of(p)).astype(p.dtype)
            keep *= 1.0 / (1.0 - dropout_p)
        ctx.scale = scale
        ctx.save_for_backward(q, k, v, p, keep)
        # 5. out = p v   (..., Tq, Dv)
        return (p * keep if keep is not None else p) @ v

    @staticmethod
    def backward(ctx, g):
        q, k, v, p, keep = ctx.saved_tensors
        pd = p * keep if keep is not None else p
        # dv = p^T g ; dp = g v^T (through dropout: times keep)
        dv = pd.swapaxes(-1, -2) @ g if ctx.needs_input_grad[2] else None
        del pd
        dp = g @ v.swapaxes(-1, -2)
        if keep is not None:
            dp *= keep
        # ds = p * (dp - sum(dp * p)) : the softmax backward; masked entries have p = 0
        dp -= backend.row_dot(dp, p, -1)
        dp *= p
        dmask = dp if ctx.needs_input_grad[3] else None  # d(scores)/d(float mask) = 1
        # dq = scale * ds k ; dk = scale * ds^T q
        dq = (dp @ k) * ctx.scale if ctx.needs_input_grad[0] else None
        dk = (dp.swapaxes(-1, -2) @ q) * ctx.scale if ctx.needs_input_grad[1] else None
        return dq, dk, dv, dmask

    @staticmethod
    def backward_graph(ctx, g):
        q, k, v, p, keep = ctx.saved_tensors  # q, k, v: Tensors; p, keep: constant arrays
        xp = backend.array_module(p)
        # scores = log(p) + scale * (dq k^T + q dk^T + dq dk^T) + dmask, where each d is a
        # zero Tensor connected to its input: the values are the forward's (up to a shift per
        # row), every derivative is exact, and masked entries stay -inf
        with backend.quiet():
            scores = wrap(xp.log(p))
        dq0 = ctx.input(0, xp.zeros_like(q.array))
        dk0 = ctx.input(1, xp.zeros_like(k.array)).transpose(-1, -2)
        kt, qc = wrap(k.array).transpose(-1, -2), wrap(q.array)
        tangent = dq0 @ kt + qc @ dk0 + dq0 @ dk0
        scores = scores + tangent * ctx.scale
        if ctx.needs_input_grad[3]:
            scores = scores + ctx.input(3, xp.zeros(ctx.parents[3].out_shape, dtype=p.dtype))
        p = scores.softmax(-1)
        pd = p * keep if keep is not None else p
        # the same formulas as backward
        dv = pd.transpose(-1, -2) @ g if ctx.needs_input_grad[2] else None
        dp = g @ v.transpose(-1, -2)
        if keep is not None:
            dp = dp * keep
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))
        dmask = ds if ctx.needs_input_grad[3] else None
        dq = (ds @ k) * ctx.scale if ctx.needs_input_grad[0] else None
        dk = (ds.transpose(-1, -2) @ q) * ctx.scale if ctx.needs_input_grad[1] else None
        return dq, dk, dv, dmask


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = True,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q k^T * scale + mask) v, fused: one op with a hand-written backward.

    Shapes: q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv) -> (..., Tq, Dv); the leading dims
    broadcast. ``mask`` broadcasts to (..., Tq, Tk): boolean ``True`` means "may not attend"
    (as ``masked_fill``), a float mask is added to the scores (and gets a gradient). A query
    that may attend to nothing gets zeros, not NaN. ``scale`` defaults to 1/sqrt(D); dropout
    with probability ``dropout_p`` applies to the attention weights when ``training``.

    ``enable_gqa`` (grouped-query attention, as PyTorch's): q (..., Hq, Tq, D) with k, v
    (..., Hkv, Tk, D), Hq divisible by Hkv; query head h reads key/value head h // (Hq // Hkv),
    and the key/value gradient sums over the query heads of its group.
    """
    half = q.dtype == k.dtype == v.dtype == backend.float16
    if half and getattr(mask, "dtype", backend.float16) in (backend.float16, backend.bool_):
        # sums over the keys in float32, as PyTorch
        return half_in_float32(attention, q, k, v, mask, dropout_p, training, scale, enable_gqa)
    if enable_gqa:
        return _grouped_attention(q, k, v, mask, dropout_p, training, scale)
    scores = _attention_scores_shape(q, k, v)
    if mask is not None:
        _check_attention_mask(mask, scores, q)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"attention: dropout_p must be in [0, 1), got {dropout_p}")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return Attention.apply(
        q, k, v, mask, scale=scale, dropout_p=float(dropout_p) if training else 0.0
    )


def _grouped_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None,
    dropout_p: float,
    training: bool,
    scale: float | None,
) -> Tensor:
    """GQA as plain attention with each group's queries stacked along time: q (..., Hkv,
    G * Tq, D) against k, v (..., Hkv, Tk, D). The products q k^T and p v then cover a whole
    group in one matrix product, and dk = ds^T q, dv = p^T g sum over the group's queries."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.ndim < 3:
            raise ShapeError(
                f"attention: enable_gqa needs (..., heads, T, D) inputs, {name} has shape "
                f"{tuple(t.shape)}"
            )
    hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
    if hk != hv or hk == 0 or hq % hk:
        raise ShapeError(
            f"attention: enable_gqa needs the query heads divisible by the key/value heads, "
            f"got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} (heads at dim -3)"
        )
    tq = q.shape[-2]
    if mask is not None:
        mask = _grouped_mask(mask, tuple(q.shape), hk)
    q = q.reshape(*q.shape[:-3], hk, hq // hk * tq, q.shape[-1])  # (..., Hkv, G * Tq, D)
    out = attention(q, k, v, mask, dropout_p, training, scale)  # (..., Hkv, G * Tq, Dv)
    return out.reshape(*out.shape[:-3], hq, tq, out.shape[-1])  # (..., Hq, Tq, Dv)


def _grouped_mask(mask: Tensor, q_shape: tuple[int, ...], hk: int) -> Tensor:
    """A mask for the scores (..., Hq, Tq, Tk) laid out for (..., Hkv, G * Tq, Tk)."""
    hq, tq = q_shape[-3], q_shape[-2]
    heads = mask.shape[-3] if mask.ndim >= 3 else 1
    if heads not in (1, hq):
        raise ShapeError(
            f"attention: mask of shape {tuple(mask.shape)} has {heads} heads at dim -3, need "
            f"1 or the {hq} query heads of q {q_shape}"
        )
    if mask.ndim < 2 or (heads == 1 and mask.shape[-2] == 1):
        return mask  # one row for every query: it broadcasts over the stacked queries as it is
    while mask.ndim < 3:
        mask = mask.unsqueeze(0)
    mask = mask.expand(*mask.shape[:-3], hq, tq, mask.shape[-1])  # (..., Hq, Tq, Tk)
    return mask.reshape(*mask.shape[:-3], hk, hq // hk * tq, mask.shape[-1])


def _attention_scores_shape(q: Tensor, k: Tensor, v: Tensor) -> tuple[int, ...]:
    """Check q, k, v; returns the shape of the scores, (..., Tq, Tk)."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_float("attention", t)
        if t.array.ndim < 2:
            raise ShapeError(f"attention: {name} needs at least 2 dims, got shape {tuple(t.shape)}")
        same_dtype("attention", ("q", q), (name, t))
    sq, sk, sv = q.array.shape, k.array.shape, v.array.shape
    if sq[-1] != sk[-1] or sk[-2] != sv[-2]:
        raise ShapeError(
            f"attention: q {tuple(sq)}, k {tuple(sk)}, v {tuple(sv)} do not fit: need "
            "q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv)"
        )
    what = f"batch dims of q {tuple(sq)}, k {tuple(sk)}, v {tuple(sv)}:"
    return broadcast_shape("attention", what, sq[:-2], sk[:-2], sv[:-2]) + (sq[-2], sk[-2])


def _check_attention_mask(mask: Tensor, scores: tuple[int, ...], q: Tensor) -> None:
    if mask.dtype != backend.bool_ and mask.dtype != q.dtype:
        raise TypeError(f"attention: mask must be bool or {q.dtype}, got {mask.dtype}")
    try:
        fits = broadcast_shape("attention", "", mask.shape, scores) == scores
    except ShapeError:
        fits = False
    if not fits:
        raise ShapeError(
            f"attention: mask of shape {tuple(mask.shape)} does not broadcast to the scores' "
            f"shape {scores}"
        )


# =============================================================================================
# linear
# =============================================================================================


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # y = x W^T + b as one 2-D GEMM over all rows, the bias added in place
        x2 = backend.flat_rows(x)
        y = x2 @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        g2 = backend.flat_rows(g)
        # dx = g W ; dW = g^T x ; db = sum of g over rows
        dx = (g2 @ weight).reshape(x.shape) if ctx.needs_input_grad[0] else None
        dw = g2.T @ backend.flat_rows(x) if ctx.needs_input_grad[1] else None
        db = backend.sum_half_in_float32(g2, 0, False) if ctx.needs_input_grad[2] else None
        return dx, dw, db

    @staticmethod
    def backward_graph(ctx, g):
        x, weight = ctx.saved_tensors
        rows = math.prod(x.shape[:-1])  # not -1: ambiguous when a dim is 0
        g2 = g.reshape(rows, g.shape[-1])
        # dx = g W ; dW = g^T x ; db = sum of g over rows
        dx = (g2 @ weight).reshape(x.shape) if ctx.needs_input_grad[0] else None
        dw = g2.transpose(0, 1) @ x.reshape(rows, x.shape[-1]) if ctx.needs_input_grad[1] else None
        db = g2.sum(0) if ctx.needs_input_grad[2] else None
        return dx, dw, db


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, fused: one GEMM over the flattened rows, no transpose node, no
    broadcast add.

    Shapes: x (*, in), weight (out, in), bias (out,) -> (*, out).
    """
    require_float("linear", x)
    if weight.array.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out, in), got shape {tuple(weight.shape)}")
    out_features, in_features = weight.array.shape
    if x.array.ndim == 0 or x.array.shape[-1] != in_features:
        raise ShapeError(
            f"linear: expected input of shape (*, {in_features}), got {tuple(x.shape)} "
            f"(weight of shape {tuple(weight.shape)}: out_features={out_features}, "
            f"in_features={in_features})"
        )
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise ShapeError(f"linear: bias must have shape ({out_features},), got {tuple(bias.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        same_dtype("linear", (name, t), ("the input", x))
    return Linear.apply(x, weight, bias)
