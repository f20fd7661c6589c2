"""The engine's ops under the names ``torch.nn.functional`` uses (activations, losses, ``pad``,
``normalize``), plus the composites ``mse_loss`` and ``one_hot``, and ``cross_entropy`` with
PyTorch's order of arguments (``weight`` third; the engine's op takes it last).

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
)
from minigrad.ops import cross_entropy as fused_cross_entropy
from minigrad.tensor import Tensor, as_tensor

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
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "one_hot",
    "relu",
    "rms_norm",
    "sigmoid",
    "softmax",
    "tanh",
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


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean (or sum, or elementwise) squared error. Shapes: input and target alike.

    Unlike PyTorch, which broadcasts with a warning, different shapes raise: a (N, 1) input
    against an (N,) target silently computes an (N, N) loss there.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if input.dtype.kind != "f" and target.dtype.kind != "f":
        raise TypeError(  # as PyTorch, whose kernel has no integer version
            f"mse_loss: needs a floating point input or target, got {input.dtype} and "
            f"{target.dtype}"
        )
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(
            f"mse_loss: input shape {tuple(input.shape)} and target shape "
            f"{tuple(target.shape)} differ"
        )
    # a bool operand is cast to the other's dtype: torch's kernel takes it, our `-` does not
    if input.dtype == bool:
        input = input.to(target.dtype)  # noqa: A001
    elif target.dtype == bool:
        target = target.to(input.dtype)
    diff = input - target
    # d/dinput = 2 (input - target) / N, built from primitives
    sq = diff * diff
    if reduction == "none":
        return sq
    return sq.sum() if reduction == "sum" else sq.mean()


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
