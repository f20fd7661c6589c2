"""Losses and normalization from ``torch.nn.functional`` (issue 16): nll_loss, kl_div,
binary_cross_entropy, binary_cross_entropy_with_logits, normalize.

Each pointwise loss is one op (forward and backward side by side) or a composition of
primitives; the weighting and the ``reduction`` ("none", "sum", "mean" and for ``kl_div``
"batchmean") are compositions, shared by :func:`_reduce_loss`.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util`` and
the other op modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.ops._util import (
    ShapeError,
    broadcast_shape,
    check_ids,
    half_in_float32,
    norm_dim,
    require_float,
    same_dtype,
)
from minigrad.ops.activations import softplus
from minigrad.ops.conversion import cast
from minigrad.ops.indexing import gather
from minigrad.ops.shape import where
from minigrad.promotion import result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


def _check_reduction(op: str, reduction: str, batchmean: bool = False) -> None:
    allowed = ("none", "sum", "mean") + (("batchmean",) if batchmean else ())
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce_loss(loss: Tensor, reduction: str, batch: int = 1) -> Tensor:
    """The per-element ``loss`` reduced: as it is, summed, averaged, or (``"batchmean"``)
    summed and divided by the batch size ``batch``."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss.sum() / batch if batch else loss.sum() * math.nan  # batchmean


def _same_shape(op: str, input: Tensor, target: Tensor, dtypes: bool = True) -> None:  # noqa: A002
    if not isinstance(target, TensorBase):
        raise TypeError(f"{op}: target must be a tensor, got {type(target).__name__}")
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{op}: target shape {tuple(target.shape)} differs from input shape "
            f"{tuple(input.shape)}"
        )
    if dtypes:
        same_dtype(op, ("target", target), ("the input", input))


# =============================================================================================
# nll_loss
# =============================================================================================


def nll_loss(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood of class ids given log-probabilities: ``-weight[t] * input[n, t]``.

    Shapes: input (N, C), (N, C, d1, ...) or (C,); target (N,), (N, d1, ...) or () integer class
    ids; weight (C,). ``"mean"`` divides by the summed weights of the targets that count
    (targets equal to ``ignore_index`` count for nothing); when none counts the loss is 0, as
    this library's ``cross_entropy`` (PyTorch gives NaN).
    """
    require_float("nll_loss", input)
    if not isinstance(target, TensorBase):
        raise TypeError(f"nll_loss: target must be a tensor, got {type(target).__name__}")
    if input.ndim == 0:
        raise ShapeError(
            "nll_loss: input must have a class dim, (C,), (N, C) or (N, C, d1, ...), got a 0-d "
            f"tensor (target of shape {tuple(target.shape)})"
        )
    if input.ndim == 1:
        out = nll_loss(input.unsqueeze(0), target.reshape(1), weight, ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    _check_reduction("nll_loss", reduction)
    shape = tuple(input.shape)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class ids, got {target.dtype}")
    if input.ndim < 2 or tuple(target.shape) != shape[:1] + shape[2:]:
        raise ShapeError(
            f"nll_loss: input of shape {shape} needs a target of shape {shape[:1] + shape[2:]}, "
            f"got {tuple(target.shape)}"
        )
    if weight is not None and tuple(weight.shape) != (shape[1],):
        raise ShapeError(
            f"nll_loss: weight must have shape ({shape[1]},), one per class, got "
            f"{tuple(weight.shape)}"
        )
    same_dtype("nll_loss", ("weight", weight), ("the input", input))
    check_ids("nll_loss", target, shape[1], "the number of classes", ignore=ignore_index)
    xp = backend.array_module(input.array)
    valid = target.array != ignore_index
    ids = xp.where(valid, target.array, 0)
    # -input[n, t, ...] picked along the class dim, weighted (0 where ignored)
    picked = gather(input, 1, wrap(xp.expand_dims(ids, 1))).squeeze(1)
    w = wrap(valid.astype(input.dtype))
    if weight is not None:  # weight[t], differentiable (PyTorch refuses a weight needing grad)
        w = weight[wrap(ids)] * w
    # an ignored position takes no part, whatever its input (a NaN there times 0 is NaN)
    loss = where(wrap(valid), -picked * w, 0.0)
    if reduction != "mean":
        return _reduce_loss(loss, reduction)
    total = w.sum()
    # mean = sum(loss) / sum(w), with sum(w) = 0 read as 1 (the loss is then 0)
    return loss.sum() / (total + wrap(xp.asarray(total.array == 0, dtype=input.dtype)))


# =============================================================================================
# kl_div
# =============================================================================================


class KLDiv(Function):
    @staticmethod
    def forward(ctx, x, t, log_target=False):
        xp = backend.array_module(x)
        ctx.save_for_backward(x, t)
        ctx.log_target = log_target
        if log_target:  # loss = e^t (t - x)
            return xp.exp(t) * (t - x)
        # loss = t (log t - x), 0 where t = 0 (t log t -> 0)
        with backend.quiet():
            return xp.where(t == 0, 0, t * xp.log(t)) - t * x

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        xp = backend.array_module(g)
        if ctx.log_target:
            # dx = -g e^t ; dt = g e^t (t - x + 1)
            e = xp.exp(t)
            return -g * e, (g * e * (t - x + 1) if ctx.needs_input_grad[1] else None)
        # dx = -g t ; dt = g (log t + 1 - x), written g (log t + t / t - x): NaN at t = 0, as
        # PyTorch (its t log t is xlogy(t, t), whose backward takes t / t there). The one-sided
        # limit is -inf, but t log t is defined on t >= 0 only (NaN below): no derivative at 0
        with backend.quiet():
            dt = g * (xp.log(t) + t / t - x) if ctx.needs_input_grad[1] else None
        return -g * t, dt

    @staticmethod
    def backward_graph(ctx, g):
        x, t = ctx.saved_tensors
        need_t = ctx.needs_input_grad[1]
        if ctx.log_target:
            e = t.exp()
            return -g * e, (g * e * (t - x + 1) if need_t else None)
        with backend.quiet():
            return -g * t, (g * (t.log() + t / t - x) if need_t else None)  # NaN at t = 0


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence of ``target`` from the distribution whose log-probabilities
    are ``input``: pointwise ``target * (log(target) - input)`` (``log_target=True``: the target
    is given as log-probabilities too). Shapes: input and target broadcast together.

    ``reduction="batchmean"`` (sum over everything divided by the batch size ``input.shape[0]``)
    gives the mathematical KL divergence; ``"mean"`` averages over every element, as PyTorch.
    """
    require_float("kl_div", input)
    if not isinstance(target, TensorBase):
        raise TypeError(f"kl_div: target must be a tensor, got {type(target).__name__}")
    _check_reduction("kl_div", reduction, batchmean=True)
    # input and target broadcast and promote, as PyTorch
    broadcast_shape("kl_div", "input and target shapes", input.shape, target.shape)
    dtype = result_type(input, target)
    loss = KLDiv.apply(cast(input, dtype), cast(target, dtype), log_target=bool(log_target))
    # batchmean divides by input's first dim, as PyTorch, even where target broadcasts it
    return _reduce_loss(loss, reduction, input.shape[0] if input.ndim else 1)


# =============================================================================================
# binary_cross_entropy, binary_cross_entropy_with_logits
# =============================================================================================


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, t):
        xp = backend.array_module(x)
        with backend.quiet():  # log(0) = -inf, clamped to -100 as PyTorch
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        ctx.save_for_backward(x, t, log_x, log_1mx)
        # loss = -(t log x + (1 - t) log(1 - x)), each log at least -100
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, g):
        x, t, log_x, log_1mx = ctx.saved_tensors
        xp = backend.array_module(g)
        # dx = g (x - t) / max(x (1 - x), 1e-12) ; dt = g (log(1 - x) - log x)
        dx = g * (x - t) / xp.maximum(x * (1 - x), 1e-12)
        return dx, (g * (log_1mx - log_x) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, g):
        x, t, _, _ = ctx.saved_tensors
        dx = g * (x - t) / (x * (1 - x)).clamp(min=1e-12)
        if not ctx.needs_input_grad[1]:
            return dx, None
        with backend.quiet():
            return dx, g * ((1 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0))


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` (in [0, 1]) against ``target``:
    ``-weight * (t log x + (1 - t) log(1 - x))``, each log clamped at -100 as PyTorch (so a
    certain wrong answer costs 100, not inf). Shapes: input and target alike; weight
    broadcasts to them."""
    require_float("binary_cross_entropy", input)
    _same_shape("binary_cross_entropy", input, target)
    _check_reduction("binary_cross_entropy", reduction)
    x, t = input.array, target.array
    outside = ~((x >= 0) & (x <= 1)), ~((t >= 0) & (t <= 1))  # NaN is outside too
    if x.size and bool(outside[0].any() | outside[1].any()):  # one device read
        name, arr = ("input", x) if bool(outside[0].any()) else ("target", t)
        raise ValueError(
            f"binary_cross_entropy: all elements of {name} should be between 0 and 1 ({name} "
            f"of shape {tuple(input.shape)} holds values in [{float(arr.min())}, "
            f"{float(arr.max())}])"
        )
    weight = _weight_like("binary_cross_entropy", "weight", weight, input)
    loss = BinaryCrossEntropy.apply(input, target)
    return _reduce_loss(loss if weight is None else loss * weight, reduction)


def _weight_like(op: str, name: str, weight: Tensor | None, like: Tensor) -> Tensor | None:
    """``weight`` cast to ``like``'s dtype (as PyTorch); it must broadcast to ``like``'s shape
    (never ``like`` to a larger one)."""
    if weight is None:
        return None
    shape = broadcast_shape(op, f"input and {name} shapes", like.shape, weight.shape)
    if shape != tuple(like.shape):
        raise ShapeError(
            f"{op}: {name} of shape {tuple(weight.shape)} does not broadcast to the input's "
            f"shape {tuple(like.shape)}"
        )
    return cast(weight, like.dtype)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against ``target``, computed stably from the
    logits: ``(1 - t) x + (1 + (pos_weight - 1) t) * softplus(-x)``, times ``weight``.

    Shapes: input and target alike; weight broadcasts to them; pos_weight broadcasts along the
    last dim (one per class).
    """
    op = "binary_cross_entropy_with_logits"
    require_float(op, input)
    _same_shape(op, input, target, dtypes=False)
    require_float(op, target)  # a float target of another dtype promotes (PyTorch: see the docs)
    _check_reduction(op, reduction)
    dtype = result_type(input, target)
    input, target = cast(input, dtype), cast(target, dtype)  # noqa: A001
    weight = _weight_like(op, "weight", weight, input)
    pos_weight = _weight_like(op, "pos_weight", pos_weight, input)
    # log(1 + e^-x), exact for every x: no threshold
    log_sig_neg = softplus(-input, threshold=math.inf)
    if pos_weight is None:
        loss = (1 - target) * input + log_sig_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * log_sig_neg
    return _reduce_loss(loss if weight is None else loss * weight, reduction)


# =============================================================================================
# normalize
# =============================================================================================


class VectorNorm(Function):
    @staticmethod
    def forward(ctx, x, p=2.0, dim=1):
        xp = backend.array_module(x)
        ax = xp.abs(x)
        # ||x||_p = (sum |x|^p)^(1/p), kept dim
        out = (
            xp.sqrt((x * x).sum(axis=dim, keepdims=True))
            if p == 2
            else ((ax**p).sum(axis=dim, keepdims=True) ** (1.0 / p))
        )
        ctx.save_for_backward(x, out)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp = backend.array_module(g)
        p = ctx.p
        # dx = g sign(x) |x|^(p-1) / ||x||^(p-1), 0 where ||x|| = 0 (as PyTorch), and for
        # p < 1 0 where x = 0 (|x|^(p-1) is infinite there; PyTorch's subgradient is 0)
        with backend.quiet():
            scale = xp.where(out == 0, 0, g / out ** (p - 1))
            slope = xp.sign(x) * xp.abs(x) ** (p - 1)
            return scale * (xp.where(x == 0, 0, slope) if p < 1 else slope)

    @staticmethod
    def backward_graph(ctx, g):
        x, out = ctx.saved_tensors
        p = ctx.p
        zero = wrap(out.array == 0)
        safe = out.masked_fill(zero, 1.0)
        scale = (g / safe ** (p - 1)).masked_fill(zero, 0.0)
        if p == 2:
            return scale * x
        with backend.quiet():  # 0^(p-1) is inf for p < 1, masked
            slope = x.sign() * x.abs() ** (p - 1)
            return scale * (slope.masked_fill(wrap(x.array == 0), 0.0) if p < 1 else slope)


@accepts_axis
def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``: unit vectors (zero vectors stay zero).
    ``p`` is positive; ``p=inf`` divides by the largest magnitude (ties share its gradient)."""
    require_float("normalize", input)
    if not p > 0:
        raise ValueError(f"normalize: p must be a positive number (or inf), got {p}")
    d = norm_dim(dim, input.ndim, input.shape)
    if input.ndim == 0:
        raise ValueError("normalize: expects a tensor with at least one dim, got a 0-d tensor")
    if input.dtype == backend.float16:
        return half_in_float32(normalize, input, p, d, eps)
    if math.isinf(p):  # ||x||_inf = max |x|
        norm = input.abs().amax(d, keepdim=True)
    else:
        norm = VectorNorm.apply(input, p=float(p), dim=d)
    return input / norm.clamp(min=eps)
