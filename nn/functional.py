"""The engine's ops under the names ``torch.nn.functional`` uses (activations, losses, ``pad``,
``normalize``), plus the composites ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss`` and ``one_hot``, and ``cross_entropy`` with PyTorch's order of arguments
(``weight`` third; the engine's op takes it last).

Shapes follow PyTorch: ``linear`` maps (*, in) to (*, out); losses take (N, C) logits.

Owns: the functional names. May import: minigrad's public API.
"""

from __future__ import annotations

from minigrad import backend
from minigrad.errors import ShapeError
from minigrad.ops import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    dropout,
    elu,
    embedding,
    gelu,
    kl_div,
    layer_norm,
    leaky_relu,
    linear,
    log_softmax,
    nll_loss,
    normalize,
    pad,
    relu,
    rms_norm,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
    where,
)
from minigrad.ops import cross_entropy as fused_cross_entropy
from minigrad.ops.conv import (  # convolution and pooling (issue h15)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
from minigrad.tensor import Tensor, as_tensor
from nn.attention import (  # issue h15
    cosine_similarity,
    pairwise_distance,
    scaled_dot_product_attention,
)
from nn.normalization import (  # issue h15
    batch_norm,
    group_norm,
    instance_norm,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "elu",
    "kl_div",
    "leaky_relu",
    "nll_loss",
    "normalize",
    "pad",
    "silu",
    "softplus",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "one_hot",
    "relu",
    "rms_norm",
    "sigmoid",
    "smooth_l1_loss",
    "softmax",
    "tanh",
    # convolution, pooling, normalization (issue h15)
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "conv1d",
    "conv2d",
    "group_norm",
    "instance_norm",
    "max_pool1d",
    "max_pool2d",
    "cosine_similarity",
    "pairwise_distance",
    "scaled_dot_product_attention",
]


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """The engine's fused ``cross_entropy`` (``mg.cross_entropy``, which documents it) with
    ``torch.nn.functional.cross_entropy``'s order of arguments: ``weight`` third. The rest are
    keywords: PyTorch's fourth and sixth positions are its deprecated ``size_average`` and
    ``reduce``, so a positional value there would mean something else in each library.

    Shapes: input (N, C) or (N, C, d1, ...); target (N,) or (N, d1, ...) class ids, or class
    probabilities shaped as the input -> () for ``"mean"``/``"sum"``, the target's shape for
    ``"none"``.
    """
    return fused_cross_entropy(
        input,
        target,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        reduction=reduction,
        weight=weight,
    )


def _elementwise_loss(
    name: str,
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str,
    floats: bool = True,
) -> Tensor:
    """``input - target`` for a pointwise loss, once the reduction and the shapes are checked.
    With ``floats`` (PyTorch's mse, smooth_l1 and huber kernels), two integer operands raise and
    a bool one is cast to the other's dtype (those kernels take it; our ``-`` does not).

    Unlike PyTorch, which broadcasts with a warning, different shapes raise: a (N, 1) input
    against an (N,) target silently computes an (N, N) loss there.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if floats and input.dtype.kind != "f" and target.dtype.kind != "f":
        raise TypeError(  # as PyTorch, whose kernel has no integer version
            f"{name}: needs a floating point input or target, got {input.dtype} and {target.dtype}"
        )
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"{name}: input shape {tuple(input.shape)} and target shape "
            f"{tuple(target.shape)} differ"
        )
    if floats and input.dtype == bool:
        input = input.to(target.dtype)  # noqa: A001
    elif floats and target.dtype == bool:
        target = target.to(input.dtype)
    return input - target


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or sum, or elementwise) squared error. Shapes: input and target alike (different
    shapes raise, where PyTorch broadcasts with a warning)."""
    diff = _elementwise_loss("mse_loss", input, target, reduction)
    # d/dinput = 2 (input - target) / N, built from primitives
    return _reduced(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or sum, or elementwise) absolute error. Shapes: input and target alike. As
    PyTorch's, it takes integers (their mean raises) and refuses a bool operand (``-``)."""
    # d/dinput = sign(input - target) / N (0 where they are equal, as PyTorch)
    diff = _elementwise_loss("l1_loss", input, target, reduction, floats=False)
    return _reduced(diff.abs(), reduction)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``);
    ``beta=0`` is ``l1_loss``. Shapes: input and target alike."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    diff = _elementwise_loss("smooth_l1_loss", input, target, reduction)
    size = diff.abs()
    if beta == 0:  # the quadratic branch would divide by 0 (NaN in its unused gradient)
        return _reduced(size, reduction)
    return _reduced(where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = input -
    target``): ``delta`` times ``smooth_l1_loss`` with ``beta=delta``. Shapes: alike."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    diff = _elementwise_loss("huber_loss", input, target, reduction)
    size = diff.abs()
    return _reduced(where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta)), reduction)


def one_hot(indices: Tensor, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape (*indices.shape, num_classes) with ones at ``indices``."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be an integer tensor, got {indices.dtype}")
    xp = backend.array_module(indices.array)
    data = indices.array
    lo, hi, _ = backend.int_range(data)  # one device read
    if num_classes < 0:
        num_classes = max(hi + 1, 0)
    if lo <= hi and (lo < 0 or hi >= num_classes):
        raise IndexError(
            f"one_hot: class ids must be in [0, {num_classes}), got values in [{lo}, {hi}]"
        )
    out = (data[..., None] == xp.arange(num_classes)).astype(backend.int64)
    return as_tensor(out)
