"""Spatial layers, after ``torch.nn``: resampling (Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d), rearranging (PixelShuffle, PixelUnshuffle, ChannelShuffle, Unfold, Fold),
padding (ZeroPad1d/2d/3d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d,
CircularPad1d/2d/3d); channel dropout (Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout),
LocalResponseNorm and Bilinear, with their functions (``dropout1d``/``2d``/``3d``,
``alpha_dropout``, ``feature_alpha_dropout``, ``local_response_norm``, ``bilinear``, composed
from minigrad's ops). Same arguments, defaults and reprs as PyTorch's.

The resampling work is done by minigrad's ops (``minigrad.ops.resampling`` and ``pad``, which
document the shapes and the gradients); a layer holds the options.

Owns: these layers. May import: minigrad's public API, ``nn.module``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from minigrad import rand
from minigrad.errors import ShapeError
from minigrad.ops import (
    avg_pool2d,
    avg_pool3d,
    channel_shuffle,
    einsum,
    fold,
    interpolate,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, _param, _positive

# =============================================================================================
# resampling
# =============================================================================================


class Upsample(Module):
    """Resample (N, C, *L) to ``size`` or ``floor(L * scale_factor)``: :func:`interpolate`
    with the layer's ``mode`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
    area), ``align_corners`` and ``recompute_scale_factor``."""

    def __init__(
        self,
        size: int | tuple[int, ...] | None = None,
        scale_factor: float | tuple[float, ...] | None = None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):  # floats, as PyTorch keeps them (and shows them)
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(
            x,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of (N, C, H, W): ``Upsample(mode="nearest")``."""

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        scale_factor: float | tuple[float, float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling of (N, C, H, W) with the corners aligned:
    ``Upsample(mode="bilinear", align_corners=True)``."""

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        scale_factor: float | tuple[float, float] | None = None,
    ) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# =============================================================================================
# rearranging: shuffles, unfold and fold
# =============================================================================================


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), r = ``upscale_factor`` (:func:`pixel_shuffle`)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), r = ``downscale_factor``
    (:func:`pixel_unshuffle`, PixelShuffle's inverse)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave ``groups`` channel groups: (N, C, *) -> (N, C, *) (:func:`channel_shuffle`)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class Unfold(Module):
    """im2col: (N, C, H, W) or (C, H, W) -> (N, C * prod(kernel_size), L) (:func:`unfold`)."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        dilation: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        stride: int | tuple[int, int] = 1,
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """col2im, Unfold's adjoint (overlaps summed): (N, C * prod(kernel_size), L) or
    (C * prod(kernel_size), L) -> (N, C, *output_size) (:func:`fold`)."""

    def __init__(
        self,
        output_size: int | tuple[int, int],
        kernel_size: int | tuple[int, int],
        dilation: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        stride: int | tuple[int, int] = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


# =============================================================================================
# padding: F.pad's modes as layers
# =============================================================================================


class _PadNd(Module):
    """What the padding layers share: ``padding`` an int (the same on every side of the last
    ``nd`` dims) or F.pad's tuple (left, right, top, bottom, front, back), kept as given."""

    nd = 0
    mode = "constant"

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        if isinstance(padding, (tuple, list)):
            self.padding = tuple(padding)
        else:
            self.padding = (padding,) * (2 * self.nd)

    def forward(self, x: Tensor) -> Tensor:
        if self.mode != "constant":
            self._check_input_dim(x)
        return pad(x, self.padding, mode=self.mode)

    def _check_input_dim(self, x: Tensor) -> None:
        """PyTorch's: a non-constant padding of k dims pads a (C, *k) or (N, C, *k) input."""
        k = len(self.padding) // 2
        if x.ndim not in (k + 1, k + 2):
            raise NotImplementedError(
                f"{type(self).__name__}: padding {self.padding} pads the last {k} dims of a "
                f"{k + 1}-D or {k + 2}-D input, got shape {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        return pad(x, self.padding, mode="constant", value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: (*, W) -> (*, W + left + right)."""

    nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``: (*, H, W) -> (*, H + top + bottom,
    W + left + right); ``padding`` (left, right, top, bottom) or an int."""

    nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``; ``padding`` (left, right, top, bottom, front,
    back) or an int."""

    nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros: (*, W) -> (*, W + left + right)."""

    nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last two dims with zeros; ``padding`` (left, right, top, bottom) or an int."""

    nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last three dims with zeros; ``padding`` (left, right, top, bottom, front,
    back) or an int."""

    nd = 3


class ReflectionPad1d(_PadNd):
    """Mirror the last dim without repeating the edge (widths below its size): (C, W) or
    (N, C, W) -> (.., W + left + right)."""

    nd, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last two dims of (C, H, W) or (N, C, H, W); ``padding`` (left, right, top,
    bottom) or an int, each below its dim's size."""

    nd, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last three dims of (C, D, H, W) or (N, C, D, H, W)."""

    nd, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge of the last dim: (C, W) or (N, C, W) -> (.., W + left + right)."""

    nd, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edges of the last two dims of (C, H, W) or (N, C, H, W)."""

    nd, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edges of the last three dims of (C, D, H, W) or (N, C, D, H, W)."""

    nd, mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def _check_input_dim(self, x: Tensor) -> None:
        """PyTorch's CircularPad checks the input against the layer's own dims (ValueError)."""
        if x.ndim not in (self.nd + 1, self.nd + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {self.nd + 1}-D or {self.nd + 2}-D input, "
                f"got shape {tuple(x.shape)}"
            )


class CircularPad1d(_CircularPadNd):
    """Wrap the last dim around (widths at most its size): (C, W) or (N, C, W)."""

    nd = 1


class CircularPad2d(_CircularPadNd):
    """Wrap the last two dims of (C, H, W) or (N, C, H, W) around."""

    nd = 2


class CircularPad3d(_CircularPadNd):
    """Wrap the last three dims of (C, D, H, W) or (N, C, D, H, W) around."""

    nd = 3


# =============================================================================================
# channel dropout: whole channels zeroed (PyTorch's feature dropout), and SELU's alpha dropout
# =============================================================================================

SELU_ALPHA = 1.7580993408473766  # -SELU's lowest value / its scale: where a dropped unit sits


def _probability(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def _keep(x: Tensor, p: float, per_channel: bool) -> Tensor:
    """1 (kept, probability 1 - p) or 0, in x's dtype: one draw per (N, C) channel and
    broadcast over the positions, or one per element."""
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if per_channel else tuple(x.shape)
    return (rand(*shape, dtype=x.dtype, device=x.device) >= p).to(dtype=x.dtype)


def _dropout(x: Tensor, p: float, mode: tuple[bool, bool], kind: tuple[bool, bool]) -> Tensor:
    """PyTorch's ``_dropout_impl``: ``x * keep / (1 - p)``, or alpha dropout's
    ``a (x * keep + alpha' (keep - 1)) + alpha' a p`` (alpha' = SELU's -alpha * scale), which
    keeps a SELU network's zero mean and unit variance; zeros at p = 1. ``mode``: (training,
    inplace); ``kind``: (per channel, alpha)."""
    (training, inplace), (per_channel, alpha) = mode, kind
    p = _probability(p)
    if not training or p == 0.0 or x.numel() == 0:
        return x
    if p == 1.0:
        return x.mul_(0.0) if inplace else x * 0.0
    keep = _keep(x, p, per_channel)
    if not alpha:
        return x.mul_(keep / (1 - p)) if inplace else x * (keep / (1 - p))
    a = 1.0 / math.sqrt((SELU_ALPHA**2 * p + 1) * (1 - p))
    shift = (keep - 1) * (SELU_ALPHA * a) + SELU_ALPHA * a * p
    return x.mul_(keep * a).add_(shift) if inplace else x * (keep * a) + shift


def _feature_dims(op: str, x: Tensor, spatial: int, strict: bool) -> bool:
    """Whether ``x`` is unbatched (C, *spatial): PyTorch's checks (dropout1d refuses other
    dims, dropout2d/3d warn and go on, dropout2d treating 3-D input as (N, C, L))."""
    batched, unbatched = spatial + 2, spatial + 1
    if x.ndim not in (unbatched, batched):
        message = (
            f"{op}: expected a {unbatched}-D (C, *spatial) or {batched}-D (N, C, *spatial) "
            f"input, got shape {tuple(x.shape)}"
        )
        if strict:
            raise ShapeError(message)
        warnings.warn(message + "; use dropout for elementwise dropout", stacklevel=3)
    if op == "dropout2d" and x.ndim == 3:
        warnings.warn(
            "dropout2d: a 3-D input is taken as (N, C, L), channel-wise 1-D dropout, as "
            "PyTorch does for now; use dropout1d for that",
            stacklevel=3,
        )
        return False
    return x.ndim == unbatched and op != "dropout2d"


def _channel_dropout(op: str, x: Tensor, p: float, options: tuple, spatial: int) -> Tensor:
    unbatched = _feature_dims(op, x, spatial, strict=spatial == 1)
    if not unbatched or _probability(p) == 0.0 or not options[0]:
        return _dropout(x, p, options, (True, False))
    y = _dropout(x.unsqueeze(0), p, options, (True, False))  # in place: through a view of x
    return x if options[1] else y.squeeze(0)


def dropout1d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels with probability ``p``, scale the rest by 1 / (1 - p):
    (N, C, L) or (C, L) -> same shape, one draw per channel."""
    return _channel_dropout("dropout1d", input, p, (training, inplace), 1)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels with probability ``p``, scale the rest by 1 / (1 - p):
    (N, C, H, W) -> same shape (a 3-D input is (N, C, L), as PyTorch, with a warning)."""
    return _channel_dropout("dropout2d", input, p, (training, inplace), 2)


def dropout3d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels with probability ``p``, scale the rest by 1 / (1 - p):
    (N, C, D, H, W) or (C, D, H, W) -> same shape."""
    return _channel_dropout("dropout3d", input, p, (training, inplace), 3)


def alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Alpha dropout (Klambauer et al., 2017), for SELU networks: each element dropped with
    probability ``p`` to SELU's negative saturation, then an affine map that keeps zero mean
    and unit variance. Note PyTorch's default ``training=False``. Shapes: (*) -> (*)."""
    return _dropout(input, p, (training, inplace), (False, True))


def feature_alpha_dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Alpha dropout of whole channels: (N, C, *) -> same shape, one draw per channel."""
    return _dropout(input, p, (training, inplace), (True, True))


class _DropoutNd(Module):
    functional: Any = None

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p, self.inplace = _probability(p), inplace

    def forward(self, x: Tensor) -> Tensor:
        return type(self).functional(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Channel dropout in training mode: (N, C, L) or (C, L) -> same shape."""

    functional = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Channel dropout in training mode: (N, C, H, W) -> same shape."""

    functional = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Channel dropout in training mode: (N, C, D, H, W) or (C, D, H, W) -> same shape."""

    functional = staticmethod(dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout (:func:`alpha_dropout`) in training mode: (*) -> (*)."""

    functional = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels in training mode: (N, C, *) -> same shape."""

    functional = staticmethod(feature_alpha_dropout)


# =============================================================================================
# local response normalization, bilinear
# =============================================================================================


def local_response_norm(
    input: Tensor,  # noqa: A002
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """AlexNet's normalization across channels: ``x / (k + alpha / n * sum of x^2 over the n =
    size neighbouring channels) ** beta``, the window centered (size // 2 before), zeros past
    the ends, as PyTorch composes it. Shapes: (N, C, *) -> same shape, at least 3-D."""
    if input.ndim < 3:
        raise ShapeError(
            f"local_response_norm: expected an input of 3 or more dims (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    if input.numel() == 0:
        return input
    square = input * input
    before, after = size // 2, (size - 1) // 2
    if input.ndim == 3:  # (N, 1, C + pads, L): a mean down the channels
        square = pad(square.unsqueeze(1), (0, 0, before, after))
        mean = avg_pool2d(square, (size, 1), stride=1).squeeze(1)
    else:  # (N, 1, C + pads, H, rest)
        n, c, h = input.shape[:3]
        square = pad(square.reshape(n, 1, c, h, -1), (0, 0, 0, 0, before, after))
        mean = avg_pool3d(square, (size, 1, 1), stride=1).squeeze(1).reshape(input.shape)
    return input / (mean * alpha + k) ** beta


class LocalResponseNorm(Module):
    """:func:`local_response_norm` over (N, C, *) -> same shape."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: Tensor) -> Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]``. Shapes: input1
    (*, in1), input2 (*, in2) with the same leading dims, weight (out, in1, in2), bias (out,)
    -> (*, out)."""
    if weight.ndim != 3 or input1.ndim < 1 or input2.ndim < 1:
        raise ShapeError(
            f"bilinear: expected weight (out, in1, in2) and inputs (*, in1), (*, in2), got "
            f"weight {tuple(weight.shape)}, inputs {tuple(input1.shape)}, {tuple(input2.shape)}"
        )
    wrong = (
        tuple(input1.shape[:-1]) != tuple(input2.shape[:-1])
        or input1.shape[-1] != weight.shape[1]
        or input2.shape[-1] != weight.shape[2]
        or (bias is not None and tuple(bias.shape) != (weight.shape[0],))
    )
    if wrong:
        raise ShapeError(
            f"bilinear: input1 {tuple(input1.shape)} (*, in1) and input2 "
            f"{tuple(input2.shape)} (*, in2) do not fit weight {tuple(weight.shape)} "
            f"(out, in1, in2)" + ("" if bias is None else f" and bias {tuple(bias.shape)}")
        )
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias


class Bilinear(Module):
    """``y = x1^T W x2 + b`` per output feature: (*, in1_features), (*, in2_features) ->
    (*, out_features). ``weight`` (out, in1, in2) and ``bias`` (out,) from
    U(-1/sqrt(in1), 1/sqrt(in1)), as PyTorch."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        sizes = {"in1_features": in1_features, "in2_features": in2_features}
        _positive("Bilinear", **sizes, out_features=out_features)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = _param((out_features, in1_features, in2_features), device, dtype)
        self.bias = _param((out_features,), device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
