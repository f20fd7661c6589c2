"""Layers and losses, after ``torch.nn``: same names, same arguments, same default
initialization, so that weights copied from PyTorch give the same outputs.

Every layer takes ``device`` and ``dtype`` for its parameters (defaults: the current backend's
device, float32).

Owns: the layers and losses. May import: minigrad's public API, ``nn.init``,
``nn.functional``, ``nn.module``. A layer checks its constructor's arguments; its inputs are
checked once, by the op it calls.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from minigrad.ops import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    elu,
    embedding,
    gelu,
    kl_div,
    layer_norm,
    leaky_relu,
    log_softmax,
    nll_loss,
    relu,
    rms_norm,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
    unflatten,
)
from minigrad.tensor import Tensor
from nn import init
from nn.functional import dropout as inplace_dropout
from nn.functional import (
    elu_,
    huber_loss,
    l1_loss,
    leaky_relu_,
    linear,
    mse_loss,
    relu_,
    smooth_l1_loss,
)
from nn.functional import embedding as embedding_lookup
from nn.module import Module, _param, _positive


def _normalized_shape(layer: str, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """A norm layer's ``normalized_shape`` as a tuple of positive ints, not empty."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    _positive(layer, **{f"normalized_shape[{i}]": n for i, n in enumerate(shape)})
    if not shape:
        raise ValueError(f"{layer}: normalized_shape must not be empty")
    return shape


class Linear(Module):
    """y = x W^T + b. Shapes: x (*, in_features) -> (*, out_features).

    Initialization as PyTorch: W and b from U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _positive("Linear", in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _param((out_features, in_features), device, dtype)  # (out, in)
        self.bias = _param((out_features,), device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_ with a = sqrt(5) gives bound 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)  # (*, in) -> (*, out); the op checks shapes

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: integer ids (*) -> vectors (*, embedding_dim).

    Initialization as PyTorch: N(0, 1), with the ``padding_idx`` row zeroed; that row never
    receives a gradient, so it stays as it is during training. ``max_norm``: each looked-up row
    whose ``norm_type``-norm exceeds it is first scaled down to it, in place;
    ``scale_grad_by_freq``: each row's gradient is divided by its id's count in the batch (see
    :func:`nn.functional.embedding`). ``sparse=True`` is not supported.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        _positive("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if max_norm is not None and (
            isinstance(max_norm, bool) or not isinstance(max_norm, int | float) or max_norm < 0
        ):
            raise ValueError(f"Embedding: max_norm must be a number >= 0 or None, got {max_norm!r}")
        if sparse:
            raise ValueError("Embedding: sparse=True (sparse gradients) is not supported")
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
                raise TypeError(f"Embedding: padding_idx must be an int, got {padding_idx!r}")
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for "
                    f"{num_embeddings} embeddings"
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = _param((num_embeddings, embedding_dim), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, ids: Tensor) -> Tensor:
        if self.max_norm is None and not self.scale_grad_by_freq:
            return embedding(ids, self.weight, self.padding_idx)
        return embedding_lookup(
            ids,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text


class LayerNorm(Module):
    """Normalize over the last dims, then scale and shift (Ba et al., 2016).

    Shapes: x (*, *normalized_shape) -> same. Weight starts at 1, bias at 0.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = _normalized_shape("LayerNorm", normalized_shape)
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps}")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = _param(shape, device, dtype) if elementwise_affine else None
        self.bias = _param(shape, device, dtype) if elementwise_affine and bias else None
        self.has_bias = self.bias is not None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.has_bias}"
        )


class RMSNorm(Module):
    """Root-mean-square norm (Zhang & Sennrich, 2019), as PyTorch's ``nn.RMSNorm``:
    ``x / sqrt(mean(x^2) + eps) * weight`` over the last dims, no centering and no bias.

    Shapes: x (*, *normalized_shape) -> same. Weight starts at 1. ``eps=None`` means the
    machine epsilon of the input's dtype (``torch.finfo(x.dtype).eps``).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = _normalized_shape("RMSNorm", normalized_shape)
        if eps is not None and not eps >= 0:
            raise ValueError(f"RMSNorm: eps must be >= 0 or None, got {eps}")
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = _param(shape, device, dtype) if elementwise_affine else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode, scaling the rest by 1/(1-p);
    the identity in eval mode. Shapes: (*) -> (*). ``inplace=True`` writes the result into
    the input (see :func:`nn.functional.dropout`)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        if self.inplace:
            return inplace_dropout(x, self.p, self.training, inplace=True)
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=True" if self.inplace else f"p={self.p}"


class ReLU(Module):
    """max(x, 0) elementwise. Shapes: (*) -> (*). ``inplace=True`` writes the result into
    the input and returns it (version counters see it, as in PyTorch)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return relu_(x) if self.inplace else relu(x)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class GELU(Module):
    """GELU with the exact erf form (``approximate="none"``) or the tanh approximation.
    Shapes: (*) -> (*)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Tanh(Module):
    """tanh(x) elementwise. Shapes: (*) -> (*)."""

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise. Shapes: (*) -> (*)."""

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Softmax(Module):
    """Softmax over ``dim`` (a row masked entirely with -inf gives zeros, not NaN).
    Shapes: (*) -> (*), each slice along ``dim`` summing to 1."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer). Shapes: (*) -> (*). Takes and
    ignores any arguments, as PyTorch's, so it can stand in for the layer it replaces."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


# -- losses -------------------------------------------------------------------------------------


class CrossEntropyLoss(Module):
    """Cross-entropy on logits (N, C) or (N, C, d1, ...) and integer targets (or probabilities);
    the engine's fused ``cross_entropy``. Shapes: logits (N, C), target (N,) -> () for
    ``reduction="mean"|"sum"``, (N,) for ``"none"``; ``weight`` (C,), one per class (a
    buffer), first as in PyTorch: ``CrossEntropyLoss(class_weights)``; the rest are keywords
    (PyTorch's second position is its deprecated ``size_average``)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        self.register_buffer("weight", weight)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(
            logits, target, self.ignore_index, self.label_smoothing, self.reduction, self.weight
        )

    def extra_repr(self) -> str:
        return (
            f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, "
            f"reduction={self.reduction!r}"
        )


class MSELoss(Module):
    """Mean squared error; input and target must have the same shape.
    Shapes: input (*), target (*) -> () (``reduction="mean"|"sum"``) or (*) (``"none"``)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"MSELoss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return mse_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


# PyTorch's first positions in L1Loss and SmoothL1Loss are its deprecated size_average and
# reduce: their arguments are keywords here.


class L1Loss(Module):
    """Mean absolute error. Shapes: input (*), target (*) -> () or (*) (``"none"``)."""

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return l1_loss(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class SmoothL1Loss(Module):
    """``nn.functional.smooth_l1_loss`` with ``beta``. Shapes: (*), (*) -> () or (*)."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class HuberLoss(Module):
    """``nn.functional.huber_loss`` with ``delta``. Shapes: (*), (*) -> () or (*)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta}")
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


# -- issue 16: more activations, reshaping layers and losses --------------------------------------


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def forward(self, x: Tensor) -> Tensor:
        return silu(x)


class LogSoftmax(Module):
    """log(softmax(x)) over ``dim``, computed stably."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if beta == 0:
            raise ValueError("Softplus: beta must be nonzero")
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LeakyReLU(Module):
    """x where positive, negative_slope * x elsewhere; ``inplace=True`` writes into the input."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        if self.inplace:
            return leaky_relu_(x, self.negative_slope)
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where positive, alpha * (exp(x) - 1) elsewhere; ``inplace=True`` writes into the
    input."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return elu_(x, self.alpha) if self.inplace else elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 12) -> (N, 3, 4)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _reduction(
    layer: str, reduction: str, allowed: tuple[str, ...] = ("mean", "sum", "none")
) -> str:
    if reduction not in allowed:
        raise ValueError(f"{layer}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


class KLDivLoss(Module):
    """KL divergence of ``target`` from log-probabilities ``input`` (``reduction="batchmean"``
    is the mathematical one; ``log_target=True`` takes the target as log-probabilities)."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        self.reduction = _reduction("KLDivLoss", reduction, ("mean", "batchmean", "sum", "none"))
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return kl_div(input, target, self.reduction, self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class NLLLoss(Module):
    """Negative log likelihood of class ids given log-probabilities (N, C) or (N, C, d1, ...),
    with optional per-class ``weight`` (a buffer)."""

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.reduction = _reduction("NLLLoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


class BCELoss(Module):
    """Binary cross-entropy of probabilities, logs clamped at -100 (``weight``: a buffer)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.reduction = _reduction("BCELoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return binary_cross_entropy(input, target, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy of sigmoid(logits), computed stably; ``weight`` and ``pos_weight``
    (one per class, along the last dim) are buffers."""

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = _reduction("BCEWithLogitsLoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002
        return binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
