"""Spatial layers, after ``torch.nn``: resampling (Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d), rearranging (PixelShuffle, PixelUnshuffle, ChannelShuffle, Unfold, Fold)
and padding (ZeroPad1d/2d/3d, ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d,
ReplicationPad1d/2d/3d, CircularPad1d/2d/3d). Same arguments, defaults and reprs as PyTorch's;
none holds a parameter.

The work is done by minigrad's ops (``minigrad.ops.resampling`` and ``pad``, which document the
shapes and the gradients); a layer holds the options.

Owns: these layers. May import: minigrad's public API, ``nn.module``.
"""

from __future__ import annotations

from minigrad.ops import (
    channel_shuffle,
    fold,
    interpolate,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    unfold,
)
from minigrad.tensor import Tensor
from nn.module import Module

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
