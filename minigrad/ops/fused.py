"""Fused ops with hand-written gradients: softmax, log_softmax, layer_norm, dropout, embedding,
cross_entropy, attention, linear.

Writing these as one op each (instead of a chain of exp, sum and divide) keeps them stable
(max subtraction) and fast (one saved array, one backward formula).

Fully masked rows: a softmax row whose entries are all -inf has no probability mass. PyTorch
returns NaN there; we return zeros with a zero gradient, so padded rows cannot poison a sum.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``, ``tensor``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigrad import backend
from minigrad.autograd import Function
from minigrad.ops._util import ShapeError, norm_dim, require_float
from minigrad.tensor import Tensor

# =============================================================================================
# softmax / log_softmax
# =============================================================================================


def _split_axis(x: Any, dim: int) -> int:
    """An axis other than ``dim`` to split a row-wise op along (for ``backend.parallel``)."""
    return 0 if dim != 0 or x.ndim < 2 else 1


def _row_dot(a: Any, b: Any, dim: int) -> Any:
    """sum(a * b) along ``dim`` (keepdim); on large arrays without materializing a * b."""
    if a.size < 65536:  # einsum's fixed cost dominates on small arrays
        return (a * b).sum(axis=dim, keepdims=True)
    xp = backend.array_module(a)
    t = xp.einsum("...i,...i->...", xp.moveaxis(a, dim, -1), xp.moveaxis(b, dim, -1))
    return xp.expand_dims(t, dim)


def _lowest(dtype: Any) -> float:
    """The most negative finite value of a float dtype, as a (weak) Python float."""
    value = _LOWEST.get(dtype)
    if value is None:
        value = _LOWEST[dtype] = float(backend.numpy_module().finfo(dtype).min)
    return value


_LOWEST: dict[Any, float] = {}


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = backend.array_module(x)
        low = _lowest(x.dtype)

        def rows(y, x):  # y = exp(x - max) / sum(exp(x - max)), written into y
            # a row of only -inf has max -inf: subtract the lowest finite value instead, so that
            # exp gives 0 (not NaN); a live row's sum is >= 1 (its max gives exp(0) = 1), so
            # dividing by max(sum, 1) leaves it alone and keeps a dead row at 0
            xp.subtract(x, xp.maximum(x.max(axis=dim, keepdims=True), low), out=y)
            xp.exp(y, out=y)
            y /= xp.maximum(y.sum(axis=dim, keepdims=True), 1)

        y = backend.parallel(rows, xp.empty_like(x), x, axis=_split_axis(x, dim))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        dim = ctx.dim
        xp = backend.array_module(g)

        def rows(dx, g, y):  # dx = y * (g - sum(g * y, dim))
            xp.subtract(g, _row_dot(g, y, dim), out=dx)
            dx *= y

        return backend.parallel(rows, xp.empty_like(g), g, y, axis=_split_axis(g, dim))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = backend.array_module(x)

        def rows(out, x, dead):  # out = x - max - log(sum(exp(x - max))), 0 on rows of only -inf
            mx = x.max(axis=dim, keepdims=True)
            xp.equal(mx, -xp.inf, out=dead)
            xp.subtract(x, xp.where(dead, 0, mx), out=out)
            s = xp.exp(out).sum(axis=dim, keepdims=True)
            out -= xp.log(xp.where(s == 0, 1, s))
            xp.copyto(out, 0, where=dead)

        dead = xp.empty(x.shape[:dim] + (1,) + x.shape[dim + 1 :], dtype=bool)
        out = backend.parallel(rows, xp.empty_like(x), x, dead, axis=_split_axis(x, dim))
        ctx.dim = dim
        ctx.save_for_backward(out, dead)
        return out

    @staticmethod
    def backward(ctx, g):
        out, dead = ctx.saved_tensors
        dim = ctx.dim
        xp = backend.array_module(g)

        def rows(dx, g, out):  # dx = g - softmax(x) * sum(g, dim), with softmax = exp(out)
            xp.exp(out, out=dx)
            dx *= g.sum(axis=dim, keepdims=True)
            xp.subtract(g, dx, out=dx)

        dx = backend.parallel(rows, xp.empty_like(g), g, out, axis=_split_axis(g, dim))
        xp.copyto(dx, 0, where=dead)  # rows of only -inf get no gradient
        return dx


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, stable; a slice of only -inf gives zeros."""
    require_float("softmax", x)
    return Softmax.apply(x, dim=norm_dim(dim, x.data.ndim, x.data.shape))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``, stable; a slice of only -inf gives zeros (and zero gradient)."""
    require_float("log_softmax", x)
    return LogSoftmax.apply(x, dim=norm_dim(dim, x.data.ndim, x.data.shape))


# =============================================================================================
# layer_norm
# =============================================================================================


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, dims, eps):
        xp = backend.array_module(x)
        inv_n = 1.0 / math.prod(x.shape[d] for d in dims)  # sum * (1/n): NumPy's mean() is slow
        centered = x - x.sum(axis=dims, keepdims=True) * inv_n
        rstd = 1.0 / xp.sqrt((centered * centered).sum(axis=dims, keepdims=True) * inv_n + eps)
        xhat = centered
        xhat *= rstd
        ctx.dims, ctx.inv_n = dims, inv_n
        ctx.batch_axes = tuple(range(x.ndim - len(dims)))
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
        if ctx.parents[0] is not None:
            inv_n = ctx.inv_n
            dx = dxhat - dxhat.sum(axis=dims, keepdims=True) * inv_n
            dx -= xhat * ((dxhat * xhat).sum(axis=dims, keepdims=True) * inv_n)
            dx *= rstd
        # dw = sum over the batch axes of g * xhat ; db = sum over the batch axes of g
        dw = (g * xhat).sum(axis=ctx.batch_axes) if ctx.parents[1] is not None else None
        db = g.sum(axis=ctx.batch_axes) if ctx.parents[2] is not None else None
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
    require_float("layer_norm", x)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(shape)
    if n == 0 or tuple(x.shape[-n:]) != shape or x.data.ndim < n:
        raise ShapeError(
            f"layer_norm: input of shape {tuple(x.shape)} does not end with normalized_shape {shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise ShapeError(
                f"layer_norm: {name} has shape {tuple(p.shape)}, expected normalized_shape {shape}"
            )
        if p is not None and p.dtype != x.dtype:
            raise TypeError(f"layer_norm: {name} is {p.dtype} but the input is {x.dtype}")
    dims = tuple(range(x.data.ndim - n, x.data.ndim))
    return LayerNorm.apply(x, weight, bias, dims=dims, eps=eps)


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


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` looked up by integer ``indices``.

    Shapes: indices (*), weight (num_embeddings, dim) -> (*, dim). The row ``padding_idx``
    receives no gradient.
    """
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {indices.dtype}")
    if weight.data.ndim != 2:
        raise ShapeError(
            f"embedding: weight must be 2-D (num_embeddings, dim), got shape {tuple(weight.shape)}"
        )
    num = weight.data.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise IndexError(
                f"embedding: padding_idx {padding_idx} is out of range for {num} embeddings"
            )
        padding_idx %= num
    _check_ids("embedding", indices, num, "num_embeddings")
    return Embedding.apply(indices, weight, padding_idx=padding_idx)


def _check_ids(name: str, ids: Tensor, high: int, what: str, ignore: int | None = None) -> bool:
    """Raise IndexError if an id is outside [0, high), ids equal to ``ignore`` excepted.

    One device-to-host read (backend.int_range). Returns whether some id equals ``ignore``
    (when none does, the caller can skip masking).
    """
    lo, hi, ignored = backend.int_range(ids.data, skip=ignore)
    if lo <= hi and (lo < 0 or hi >= high):
        raise IndexError(
            f"{name}: ids must be in [0, {what} = {high}), got values in [{lo}, {hi}] "
            f"(ids of shape {tuple(ids.shape)})"
        )
    return ignored


# =============================================================================================
# cross_entropy
# =============================================================================================


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target, ignore_index, label_smoothing, reduction, class_probs):
        """logits (N, C, *) ; target (N, *) class ids, or (N, C, *) probabilities."""
        xp = backend.array_module(logits)
        classes = logits.shape[1]
        # rows of classes: (M, C) with M = N * prod(*)
        x = logits if logits.ndim == 2 else xp.moveaxis(logits, 1, -1).reshape(-1, classes)
        m = x.max(axis=1, keepdims=True)
        e = xp.exp(x - m)
        s = e.sum(axis=1, keepdims=True)
        lse = (m + xp.log(s))[:, 0]  # logsumexp of each row, (M,)
        eps = label_smoothing
        if class_probs:
            q = target if target.ndim == 2 else xp.moveaxis(target, 1, -1).reshape(-1, classes)
            if eps:
                q = q * (1 - eps) + eps / classes
            # loss = -sum_c q_c log p_c = sum_c q_c * lse - sum_c q_c x_c
            loss = q.sum(axis=1) * lse - (q * x).sum(axis=1)
            valid = rows = t = None
        else:
            q = None
            t = target.reshape(-1)
            valid = None
            if ignore_index is not None:  # some target may equal ignore_index: mask those out
                valid = t != ignore_index
                t = xp.where(valid, t, 0)
            rows = xp.arange(t.shape[0])
            loss = lse - x[rows, t]  # -log p[target]
            if eps:  # smoothing mixes in the mean of -log p over the classes
                loss = (1 - eps) * loss + eps * (lse - x.sum(axis=1) * (1.0 / classes))
            if valid is not None:
                loss = loss * valid
        ctx.shape = logits.shape
        ctx.reduction = reduction
        ctx.eps = eps
        ctx.count = (
            loss.shape[0] if valid is None else xp.maximum(valid.sum(), 1).astype(loss.dtype)
        )
        ctx.save_for_backward(e, s, q, rows, t, valid)
        if reduction == "none":
            return loss.reshape(
                target.shape if not class_probs else target.shape[:1] + target.shape[2:]
            )
        total = loss.sum()
        if reduction == "sum":
            return total
        # mean over the targets that count (at least 1: 0, not NaN, when every target is ignored)
        return total / ctx.count

    @staticmethod
    def backward(ctx, g):
        e, s, q, rows, t, valid = ctx.saved_tensors
        xp = backend.array_module(g)
        classes = e.shape[1]
        # dlogits = (softmax(logits) - target distribution) * dloss, 0 for ignored targets
        d = e / s
        if q is None:  # the target distribution is (1 - eps) * one_hot(t) + eps / C
            d[rows, t] -= 1.0 - ctx.eps
            if ctx.eps:
                d -= ctx.eps / classes
        else:
            d -= q
        if ctx.reduction == "none":
            weight = g.reshape(-1)
        elif ctx.reduction == "sum":
            weight = g
        else:
            weight = g / ctx.count
        if valid is not None:
            weight = weight * valid
        d *= weight[:, None] if weight.ndim else weight
        if len(ctx.shape) == 2:
            return d, None
        n, c, *rest = ctx.shape
        return xp.moveaxis(d.reshape((n, *rest, c)), -1, 1), None


def cross_entropy(
    logits: Tensor,
    target: Tensor,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    """Cross-entropy between ``logits`` and class ids (or class probabilities), fused with
    log_softmax.

    Shapes: logits (N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...) integer class ids, or
    a float tensor of the logits' shape holding probabilities. Returns a scalar for
    ``reduction="mean"|"sum"``, the per-target losses for ``"none"``. Targets equal to
    ``ignore_index`` contribute nothing; with ``"mean"`` the sum is divided by the number of
    targets that count (a batch where all are ignored gives 0, not NaN).
    """
    require_float("cross_entropy", logits)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(
            f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if logits.data.ndim == 1:  # a single sample: (C,) with a 0-d target
        out = cross_entropy(
            logits.unsqueeze(0),
            target.reshape(1) if target.dtype.kind in "iu" else target.unsqueeze(0),
            ignore_index,
            label_smoothing,
            reduction,
        )
        return out.reshape(()) if reduction == "none" else out
    shape, tshape = tuple(logits.shape), tuple(target.shape)
    class_probs = target.dtype.kind == "f"
    if class_probs:
        if tshape != shape:
            raise ShapeError(
                f"cross_entropy: probability targets must have the logits' shape {shape}, got {tshape}"
            )
        if target.dtype != logits.dtype:
            raise TypeError(
                f"cross_entropy: target is {target.dtype} but logits are {logits.dtype}"
            )
    else:
        if target.dtype.kind not in "iu":
            raise TypeError(
                f"cross_entropy: target must hold integer class ids or float probabilities, got {target.dtype}"
            )
        if tshape != shape[:1] + shape[2:]:
            raise ShapeError(
                f"cross_entropy: logits of shape {shape} need a target of shape {shape[:1] + shape[2:]}, got {tshape}"
            )
        if not _check_ids(
            "cross_entropy", target, shape[1], "the number of classes", ignore=ignore_index
        ):
            ignore_index = None  # no target can equal it: skip the masking
    return CrossEntropy.apply(
        logits,
        target,
        ignore_index=ignore_index,
        label_smoothing=float(label_smoothing),
        reduction=reduction,
        class_probs=class_probs,
    )


# =============================================================================================
# attention core
# =============================================================================================


def _softmax_rows_inplace(s: Any) -> Any:
    """Softmax over the last axis of ``s``, written into ``s`` (rows of only -inf give 0)."""
    xp = backend.array_module(s)
    s -= xp.maximum(s.max(axis=-1, keepdims=True), _lowest(s.dtype))
    xp.exp(s, out=s)
    s /= xp.maximum(s.sum(axis=-1, keepdims=True), 1)
    return s


class Attention(Function):
    @staticmethod
    def forward(ctx, q, k, v, mask, scale, dropout_p):
        xp = backend.array_module(q)
        # 1. scores = scale * q k^T   (..., Tq, Tk)
        p = q @ xp.swapaxes(k, -1, -2)
        p *= scale
        # 2. mask: True may not attend (-inf), a float mask is added
        if mask is not None:
            if mask.dtype == backend.bool_:
                xp.copyto(p, -xp.inf, where=mask)
            else:
                p += mask
        # 3. p = softmax(scores) over the keys; 4. dropout on p
        _softmax_rows_inplace(p)
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
        xp = backend.array_module(g)
        pd = p * keep if keep is not None else p
        # dv = p^T g ; dp = g v^T (through dropout: times keep)
        dv = xp.swapaxes(pd, -1, -2) @ g if ctx.parents[2] is not None else None
        del pd
        dp = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            dp *= keep
        # ds = p * (dp - sum(dp * p)) : the softmax backward; masked entries have p = 0
        dp -= _row_dot(dp, p, -1)
        dp *= p
        dmask = dp if ctx.parents[3] is not None else None  # d(scores)/d(float mask) = 1
        # dq = scale * ds k ; dk = scale * ds^T q
        dq = (dp @ k) * ctx.scale if ctx.parents[0] is not None else None
        dk = (xp.swapaxes(dp, -1, -2) @ q) * ctx.scale if ctx.parents[1] is not None else None
        return dq, dk, dv, dmask


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = True,
    scale: float | None = None,
) -> Tensor:
    """softmax(q k^T * scale + mask) v, fused: one op with a hand-written backward.

    Shapes: q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv) -> (..., Tq, Dv); the leading dims
    broadcast. ``mask`` broadcasts to (..., Tq, Tk): boolean ``True`` means "may not attend"
    (as ``masked_fill``), a float mask is added to the scores (and gets a gradient). A query
    that may attend to nothing gets zeros, not NaN. ``scale`` defaults to 1/sqrt(D); dropout
    with probability ``dropout_p`` applies to the attention weights when ``training``.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        require_float("attention", t)
        if t.data.ndim < 2:
            raise ShapeError(f"attention: {name} needs at least 2 dims, got shape {tuple(t.shape)}")
        if t.dtype != q.dtype:
            raise TypeError(f"attention: q is {q.dtype} but {name} is {t.dtype}")
    sq, sk, sv = q.data.shape, k.data.shape, v.data.shape
    if sq[-1] != sk[-1] or sk[-2] != sv[-2]:
        raise ShapeError(
            f"attention: q {tuple(sq)}, k {tuple(sk)}, v {tuple(sv)} do not fit: need "
            "q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv)"
        )
    xp = backend.array_module(q.data)
    try:
        batch = xp.broadcast_shapes(sq[:-2], sk[:-2], sv[:-2])
    except ValueError:
        raise ShapeError(
            f"attention: batch dims of q {tuple(sq)}, k {tuple(sk)}, v {tuple(sv)} do not broadcast"
        ) from None
    scores = tuple(batch) + (sq[-2], sk[-2])
    if mask is not None:
        if mask.dtype != backend.bool_ and mask.dtype != q.dtype:
            raise TypeError(f"attention: mask must be bool or {q.dtype}, got {mask.dtype}")
        try:
            fits = xp.broadcast_shapes(mask.shape, scores) == scores
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(
                f"attention: mask of shape {tuple(mask.shape)} does not broadcast to the scores' "
                f"shape {scores}"
            )
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"attention: dropout_p must be in [0, 1), got {dropout_p}")
    scale = 1.0 / math.sqrt(sq[-1]) if scale is None else float(scale)
    return Attention.apply(
        q, k, v, mask, scale=scale, dropout_p=float(dropout_p) if training else 0.0
    )


# =============================================================================================
# linear
# =============================================================================================


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # y = x W^T + b as one 2-D GEMM over all rows, the bias added in place
        x2 = x.reshape(-1, x.shape[-1])
        y = x2 @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        g2 = g.reshape(-1, g.shape[-1])
        # dx = g W ; dW = g^T x ; db = sum of g over rows
        dx = (g2 @ weight).reshape(x.shape) if ctx.parents[0] is not None else None
        dw = g2.T @ x.reshape(-1, x.shape[-1]) if ctx.parents[1] is not None else None
        db = g2.sum(axis=0) if ctx.parents[2] is not None else None
        return dx, dw, db


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, fused: one GEMM over the flattened rows, no transpose node, no
    broadcast add.

    Shapes: x (*, in), weight (out, in), bias (out,) -> (*, out).
    """
    require_float("linear", x)
    if weight.data.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out, in), got shape {tuple(weight.shape)}")
    out_features, in_features = weight.data.shape
    if x.data.ndim == 0 or x.data.shape[-1] != in_features:
        raise ShapeError(
            f"linear: expected input of shape (*, {in_features}), got {tuple(x.shape)} "
            f"(weight of shape {tuple(weight.shape)}: out_features={out_features}, "
            f"in_features={in_features})"
        )
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise ShapeError(f"linear: bias must have shape ({out_features},), got {tuple(bias.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"linear: {name} is {t.dtype} but the input is {x.dtype}")
    return Linear.apply(x, weight, bias)
