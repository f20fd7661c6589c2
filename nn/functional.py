"""The engine's ops under the names ``torch.nn.functional`` uses (activations, losses, ``pad``,
``normalize``), plus the composites ``mse_loss``, ``l1_loss``, ``smooth_l1_loss``,
``huber_loss``, ``pdist`` and ``one_hot``, re-exports of ``nn/losses.py``'s losses (margin,
ranking, embedding, Poisson, Gaussian, CTC) and of ``minigrad.ops.resampling``, and
``cross_entropy`` with PyTorch's order of arguments (``weight`` third; the engine's op takes it
last).

Shapes follow PyTorch: ``linear`` maps (*, in) to (*, out); losses take (N, C) logits.

Owns: the functional names. May import: minigrad's public API.
"""

from __future__ import annotations

from collections.abc import Callable

from minigrad import autograd, backend
from minigrad.errors import ShapeError
from minigrad.ops import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    gelu,
    kl_div,
    layer_norm,
    linear,
    log_softmax,
    nll_loss,
    normalize,
    pad,
    rms_norm,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
    vector_norm,
    where,
)
from minigrad.ops import cross_entropy as fused_cross_entropy
from minigrad.ops import dropout as _dropout
from minigrad.ops import elu as _elu
from minigrad.ops import embedding as _embedding
from minigrad.ops import leaky_relu as _leaky_relu
from minigrad.ops import relu as _relu
from minigrad.ops.conv import (  # convolution and pooling (issues h15, h17)
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from minigrad.tensor import Tensor, apply_inplace, as_tensor
from nn.attention import (  # issue h15
    cosine_similarity,
    multi_head_attention_forward,
    pairwise_distance,
    scaled_dot_product_attention,
)
from nn.losses import (  # the rest of torch.nn.functional's losses (session 12)
    _reduced,  # the reduction every loss here ends with
    cosine_embedding_loss,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
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
    "elu_",
    "kl_div",
    "leaky_relu",
    "leaky_relu_",
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
    "pdist",
    "relu",
    "relu_",
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
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool3d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "cosine_similarity",
    "multi_head_attention_forward",
    "pairwise_distance",
    "scaled_dot_product_attention",
    # the rest of the losses (session 12: nn/losses.py)
    "cosine_embedding_loss",
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "poisson_nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
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
    for role, operand in (("input", input), ("target", target)):
        if not isinstance(operand, Tensor):
            raise TypeError(f"{name}: {role} must be a tensor, got {type(operand).__name__}")
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
    if not beta >= 0:  # NaN too
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    diff = _elementwise_loss("smooth_l1_loss", input, target, reduction)
    size = diff.abs()
    if beta == 0:  # the quadratic branch would divide by 0 (NaN in its unused gradient)
        return _reduced(size, reduction)
    near = _within(diff, beta)
    return _reduced(where(size < beta, 0.5 * near * near / beta, size - 0.5 * beta), reduction)


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
    size, near = diff.abs(), _within(diff, delta)
    return _reduced(where(size < delta, 0.5 * near * near, delta * (size - 0.5 * delta)), reduction)


def _within(diff: Tensor, bound: float) -> Tensor:
    """``diff`` clamped to [-bound, bound], for the quadratic branch of smooth_l1 and huber:
    the same values where that branch is taken, and outside it a gradient of 0 times a finite
    value (``0.5 d^2``'s unused gradient at an infinite ``d`` is 0 * inf = NaN, where PyTorch's
    is the linear branch's +-1)."""
    return diff.clamp(-bound, bound)


# -- pdist (review r11; pixel_shuffle and pixel_unshuffle are minigrad.ops.resampling's) ---------


def pdist(input: Tensor, p: float = 2.0) -> Tensor:  # noqa: A002
    """The ``p``-norm distance between each pair of rows of ``input``, ``i < j`` in row-major
    order (the upper triangle of ``cdist(input, input)``, flattened). ``p`` >= 0 or ``inf``;
    the gradient at a zero distance is 0 (PyTorch's subgradient).
    Shapes: (N, M) -> (N (N - 1) / 2,)."""
    if not isinstance(input, Tensor) or input.ndim != 2:
        what = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ShapeError(f"pdist: needs a 2-D input (N, M), got {what}")
    if not p >= 0:
        raise ValueError(f"pdist: p must be >= 0, got {p}")
    xp = backend.array_module(input.array)
    rows, cols = (as_tensor(i) for i in xp.triu_indices(input.shape[0], 1))
    return vector_norm(input[rows] - input[cols], p, dim=-1)


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


# -- in-place activations ---------------------------------------------------------------------


def _in_place(
    name: str,
    input: Tensor,  # noqa: A002
    compute: Callable[[Tensor], Tensor],
    saves_result: bool = True,
) -> Tensor:
    """Write ``compute(input)`` into ``input`` and return ``input``, through the tensors' one
    in-place path (``minigrad.tensor.apply_inplace``: version counter, views, the leaf
    refusal). PyTorch's ``relu_``, ``leaky_relu_`` and ``elu_`` save their result (dropout's
    only its mask), so a later in-place change of ``input`` fails the backward, as there.
    In-place saves no memory here under autograd: the op runs on a copy of the old values."""
    return apply_inplace(input, name, compute, saves_result)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0) elementwise (gradient 0 at 0); ``inplace=True`` writes it into ``input`` and
    returns ``input``. Shapes: (*) -> (*)."""
    return _in_place("relu", input, _relu) if inplace else _relu(input)


def relu_(input: Tensor) -> Tensor:  # noqa: A002
    """``relu(input, inplace=True)``."""
    return _in_place("relu_", input, _relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where positive, ``negative_slope * x`` elsewhere; ``inplace=True`` writes into
    ``input``. Shapes: (*) -> (*)."""
    if inplace:
        return _in_place("leaky_relu", input, lambda t: _leaky_relu(t, negative_slope))
    return _leaky_relu(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:  # noqa: A002
    """``leaky_relu(input, negative_slope, inplace=True)``."""
    return _in_place("leaky_relu_", input, lambda t: _leaky_relu(t, negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where positive, ``alpha * (exp(x) - 1)`` elsewhere; ``inplace=True`` writes into
    ``input``. Shapes: (*) -> (*)."""
    return _in_place("elu", input, lambda t: _elu(t, alpha)) if inplace else _elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``elu(input, alpha, inplace=True)``."""
    return _in_place("elu_", input, lambda t: _elu(t, alpha))


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) when
    ``training`` (else ``input`` itself); ``inplace=True`` writes the result into ``input``.
    Shapes: (*) -> (*)."""
    if not inplace or not training or p == 0:
        return _dropout(input, p, training)  # checks p; the identity returns input itself
    return _in_place("dropout", input, lambda t: _dropout(t, p, training), saves_result=False)


# -- embedding ----------------------------------------------------------------------------------


def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` looked up by integer ids, as ``torch.nn.functional.embedding``.

    Shapes: input (*) ids in [0, num_embeddings), weight (num_embeddings, dim) -> (*, dim).
    ``padding_idx``'s row receives no gradient. ``max_norm``: first, under no_grad, each row
    the ids look up whose ``norm_type``-norm exceeds ``max_norm`` is scaled in place to
    ``max_norm / (norm + 1e-7)`` times itself (``weight``'s version moves, as in PyTorch).
    ``scale_grad_by_freq``: each row's gradient is divided by how often its id occurs in
    ``input`` (through a hook on the output's node: ``retain_grad`` on the output sees the
    scaled gradient). ``sparse=True`` (sparse gradients) is not supported.
    """
    if sparse:
        raise ValueError("embedding: sparse=True (sparse gradients) is not supported by minigrad")
    if max_norm is not None:
        _embedding_renorm_(input, weight, max_norm, norm_type)
    out = _embedding(input, weight, padding_idx)
    if scale_grad_by_freq and out.requires_grad:
        xp = backend.array_module(input.array)
        _, inverse, counts = xp.unique(input.array, return_inverse=True, return_counts=True)
        per_id = (1.0 / counts[inverse.reshape(input.shape)]).astype(out.dtype)[..., None]
        out.register_hook(lambda g: g * Tensor(per_id))  # (*, dim) / count of each id
    return out


def _embedding_renorm_(ids: Tensor, weight: Tensor, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` that ``ids`` name and whose norm exceeds ``max_norm`` down
    to it, in place (PyTorch's ``embedding_renorm_``); everything checked first."""
    if not isinstance(ids, Tensor) or ids.dtype.kind not in "iu":
        what = ids.dtype if isinstance(ids, Tensor) else type(ids).__name__
        raise TypeError(f"embedding: indices must be an integer tensor, got {what}")
    if not isinstance(weight, Tensor) or weight.ndim != 2 or weight.dtype.kind != "f":
        what = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"embedding: max_norm needs a 2-D floating point weight, got {what}")
    if isinstance(max_norm, bool) or not isinstance(max_norm, int | float) or max_norm < 0:
        raise ValueError(f"embedding: max_norm must be a number >= 0, got {max_norm!r}")
    num = weight.shape[0]
    lo, hi, _ = backend.int_range(ids.array)
    if lo <= hi and (lo < 0 or hi >= num):
        raise IndexError(
            f"embedding: ids must be in [0, num_embeddings = {num}), got values in [{lo}, {hi}] "
            f"(ids of shape {tuple(ids.shape)})"
        )
    xp = backend.array_module(weight.array)
    rows = xp.unique(backend.to_device(ids.array, weight.device).reshape(-1))
    picked = weight.array[rows]  # (k, dim)
    norms = _row_norms(xp, picked, float(norm_type))  # (k,)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
    with autograd.no_grad():
        weight.array[rows] = picked * scale[:, None]
        autograd.increment_version(weight)


def _row_norms(xp: object, rows: object, p: float) -> object:
    """The ``p``-norm of each row of ``rows`` (k, dim), as ``torch.norm``: max or min of the
    magnitudes for +-inf, the count of nonzeros for 0."""
    size = xp.abs(rows)
    if p == float("inf"):
        return size.max(axis=1)
    if p == float("-inf"):
        return size.min(axis=1)
    if p == 0:
        return (size != 0).sum(axis=1).astype(rows.dtype)
    return (size**p).sum(axis=1) ** (1.0 / p)


# -- the rest of PyTorch's activations, with inplace= and the *_ forms (nn/activations.py) ------
from nn.activations import (  # noqa: E402
    celu,
    celu_,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    rrelu,
    rrelu_,
    selu,
    selu_,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)

__all__ += [
    "celu",
    "celu_",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "logsigmoid",
    "mish",
    "prelu",
    "relu6",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "threshold_",
]

# -- resampling and rearranging (minigrad/ops/resampling.py) -----------------------------------
from minigrad.ops.resampling import (  # noqa: E402
    channel_shuffle,
    fold,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from nn.spatial import (  # noqa: E402 (channel dropout, local response norm, bilinear)
    alpha_dropout,
    bilinear,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
    local_response_norm,
)

__all__ += [
    "alpha_dropout",
    "bilinear",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "feature_alpha_dropout",
    "local_response_norm",
    "channel_shuffle",
    "fold",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]
