"""Convolution and pooling layers, after ``torch.nn``: Conv1d/2d/3d, ConvTranspose1d/2d/3d,
MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d, AdaptiveMaxPool1d/2d/3d,
MaxUnpool1d/2d/3d, LPPool1d/2d/3d. Same arguments, parameter names, shapes and default
initialization as PyTorch, so that a state_dict maps name for name.

The work is done by minigrad's ops (``minigrad.ops.conv``, which documents the shapes and the
gradients); a layer holds the weights and the options.

Owns: these layers. May import: minigrad's public API, ``nn.init``, ``nn.module``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from minigrad.ops import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
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
    pad,
)
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, _param, _positive

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _is_int(value: Any) -> bool:
    """A Python or NumPy integer, not a bool (PyTorch's layers take both)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _tuple(layer: str, name: str, value: Any, nd: int) -> tuple[int, ...]:
    iterable = hasattr(value, "__iter__") and not isinstance(value, str)
    values = (value,) * nd if _is_int(value) else tuple(value) if iterable else ()
    if len(values) != nd or not all(_is_int(v) for v in values):
        raise ValueError(f"{layer}: {name} must be an int or {nd} ints, got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    """What the convolutions share: the checks, the parameters, PyTorch's initialization. A
    transposed one's weight is (in_channels, out_channels / groups, *kernel)."""

    nd = 0
    transposed = False
    functional: Any = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        options: dict[str, Any],
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        layer, nd = type(self).__name__, self.nd
        self._check(layer, in_channels, out_channels, options)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(layer, "kernel_size", kernel_size, nd)
        if any(k < 1 for k in self.kernel_size):  # an empty kernel has no fan-in to init from
            raise ValueError(f"{layer}: kernel_size must be >= 1, got {kernel_size!r}")
        self.stride = _tuple(layer, "stride", options["stride"], nd)
        self.dilation = _tuple(layer, "dilation", options["dilation"], nd)
        padding = options["padding"]
        self.padding = (
            padding if isinstance(padding, str) else _tuple(layer, "padding", padding, nd)
        )
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{layer}: padding='same' needs stride 1, got stride {self.stride}")
        self.output_padding = _tuple(layer, "output_padding", options.get("output_padding", 0), nd)
        self.groups, self.padding_mode = options["groups"], options["padding_mode"]
        if self.transposed:
            shape = (in_channels, out_channels // self.groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // self.groups, *self.kernel_size)
        self.weight = _param(shape, device, dtype)
        self.bias = _param((out_channels,), device, dtype) if options["bias"] else None
        self.reset_parameters()

    @classmethod
    def _check(cls, layer: str, in_channels: int, out_channels: int, options: dict) -> None:
        groups = options["groups"]
        _positive(layer, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels {in_channels} and out_channels {out_channels} must both "
                f"be divisible by groups={groups}"
            )
        if options["padding_mode"] not in PADDING_MODES:
            raise ValueError(
                f"{layer}: padding_mode must be one of {PADDING_MODES}, got "
                f"{options['padding_mode']!r}"
            )
        if isinstance(options["padding"], str) and options["padding"] not in ("same", "valid"):
            raise ValueError(f"{layer}: padding must be 'same', 'valid' or ints")
        if cls.transposed and options["padding_mode"] != "zeros":
            raise ValueError(f'{layer}: only "zeros" padding mode is supported, as PyTorch')
        if cls.transposed and isinstance(options["padding"], str):
            raise ValueError(f"{layer}: padding must be ints, got {options['padding']!r}")

    def reset_parameters(self) -> None:
        # PyTorch's default: kaiming_uniform_ with a = sqrt(5) gives bound 1/sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:  # fan_in: weight.shape[1] * prod(kernel), as PyTorch's
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _padding_widths(self) -> tuple[int, ...]:
        """The explicit padding for a mode other than zeros: F.pad's (last dim first) widths."""
        if self.padding == "valid":
            return (0,) * (2 * self.nd)
        widths: list[int] = []
        for dim in reversed(range(self.nd)):
            if self.padding == "same":
                total = self.dilation[dim] * (self.kernel_size[dim] - 1)
                widths += [total // 2, total - total // 2]
            else:
                widths += [self.padding[dim]] * 2
        return tuple(widths)

    def forward(self, x: Tensor) -> Tensor:
        fn = type(self).functional
        if self.padding_mode == "zeros":
            padding = self.padding
        else:  # pad first in that mode, then a convolution without padding
            x, padding = pad(x, self._padding_widths(), mode=self.padding_mode), 0
        return fn(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.nd:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.nd:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.nd:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) or (C_in, L) -> (N, C_out, L_out).

    ``weight``: (out_channels, in_channels / groups, kernel_size); ``bias``: (out_channels,).
    Initialization as PyTorch: both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    in_channels / groups * kernel_size. ``padding``: an int, ``'valid'`` or ``'same'``;
    ``padding_mode``: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
    """

    nd = 1
    functional = staticmethod(conv1d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] | str = 0,
        dilation: int | tuple[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        options |= {"bias": bias, "padding_mode": padding_mode}
        super().__init__(in_channels, out_channels, kernel_size, options, device, dtype)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out).

    ``weight``: (out_channels, in_channels / groups, kH, kW); ``bias``: (out_channels,).
    Initialization as PyTorch: both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    in_channels / groups * kH * kW. ``stride``, ``padding``, ``dilation``: an int or a pair;
    ``padding`` also ``'valid'`` or ``'same'``; ``padding_mode`` as :class:`Conv1d`.
    """

    nd = 2
    functional = staticmethod(conv2d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        options |= {"bias": bias, "padding_mode": padding_mode}
        super().__init__(in_channels, out_channels, kernel_size, options, device, dtype)


class Conv3d(_ConvNd):
    """3-d convolution over (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out,
    W_out).

    ``weight``: (out_channels, in_channels / groups, kD, kH, kW); ``bias``: (out_channels,).
    Initialization as PyTorch (fan_in = in_channels / groups * kD * kH * kW). ``stride``,
    ``padding``, ``dilation``: an int or a triple; ``padding`` also ``'valid'`` or ``'same'``;
    ``padding_mode`` as :class:`Conv1d`.
    """

    nd = 3
    functional = staticmethod(conv3d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int, int],
        stride: int | tuple[int, int, int] = 1,
        padding: int | tuple[int, int, int] | str = 0,
        dilation: int | tuple[int, int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        options |= {"bias": bias, "padding_mode": padding_mode}
        super().__init__(in_channels, out_channels, kernel_size, options, device, dtype)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolutions share: the arguments' order (PyTorch's:
    output_padding, groups, bias, then dilation) and ``forward``'s ``output_size``."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        options |= {"bias": bias, "padding_mode": padding_mode, "output_padding": output_padding}
        super().__init__(in_channels, out_channels, kernel_size, options, device, dtype)

    def _output_padding(self, x: Tensor, output_size: Any) -> tuple[int, ...]:
        """The output_padding that makes the output ``output_size`` (its last ``nd`` entries;
        PyTorch's range: at most stride - 1 past the smallest size)."""
        nd, layer = self.nd, type(self).__name__
        sizes = tuple(output_size)
        sizes = sizes[-nd:] if len(sizes) == x.ndim else sizes  # (N, C, *L) or (C, *L) given
        if len(sizes) != nd:
            raise ValueError(
                f"{layer}: output_size must have {nd} or {x.ndim} elements, got {output_size!r}"
            )
        smallest = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(
                x.shape[-nd:], self.stride, self.padding, self.dilation, self.kernel_size
            )
        )
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if not all(lo <= n <= hi for n, lo, hi in zip(sizes, smallest, largest)):
            raise ValueError(
                f"{layer}: requested an output size of {sizes}, but valid sizes range from "
                f"{smallest} to {largest} (for an input of shape {tuple(x.shape)})"
            )
        return tuple(n - lo for n, lo in zip(sizes, smallest))

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        fn = type(self).functional
        more = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return fn(
            x, self.weight, self.bias, self.stride, self.padding, more, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (the gradient of a Conv1d with respect to its input): (N,
    C_in, L) or (C_in, L) -> (N, C_out, L_out), ``L_out = (L - 1) stride - 2 padding +
    dilation (K - 1) + output_padding + 1``; ``forward(x, output_size)`` picks the
    output_padding that gives that size.

    ``weight``: (in_channels, out_channels / groups, kernel_size); ``bias``: (out_channels,).
    Initialization as PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    out_channels / groups * kernel_size. ``padding_mode``: ``'zeros'`` only, as PyTorch.
    """

    nd = 1
    functional = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out),
    each as :class:`ConvTranspose1d`'s; ``stride``, ``padding``, ``output_padding``,
    ``dilation``: an int or a pair.

    ``weight``: (in_channels, out_channels / groups, kH, kW); ``bias``: (out_channels,).
    Initialization as PyTorch (fan_in = out_channels / groups * kH * kW).
    """

    nd = 2
    functional = staticmethod(conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out,
    H_out, W_out), each as :class:`ConvTranspose1d`'s; the options an int or a triple.

    ``weight``: (in_channels, out_channels / groups, kD, kH, kW); ``bias``: (out_channels,).
    Initialization as PyTorch (fan_in = out_channels / groups * kD * kH * kW).
    """

    nd = 3
    functional = staticmethod(conv_transpose3d)


# =============================================================================================
# pooling
# =============================================================================================


class _MaxPoolNd(Module):
    functional: Any = None

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        fn = type(self).functional
        return fn(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The largest value of each window: (N, C, L) or (C, L) -> (N, C, L_out); with
    ``return_indices``, also each maximum's position (for ``max_unpool``-style uses).
    ``stride`` defaults to ``kernel_size``."""

    functional = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """The largest value of each window: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out);
    with ``return_indices``, also each maximum's flat position ``h * W + w``.
    ``stride`` defaults to ``kernel_size``."""

    functional = staticmethod(max_pool2d)


class AvgPool1d(Module):
    """The mean of each window: (N, C, L) or (C, L) -> (N, C, L_out). ``stride`` defaults to
    ``kernel_size``; the zero padding counts in the mean with ``count_include_pad``."""

    def __init__(
        self,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] | None = None,
        padding: int | tuple[int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        one = _tuple("AvgPool1d", "kernel_size", kernel_size, 1)  # tuples, as PyTorch's repr
        self.kernel_size = one
        self.stride = one if stride is None else _tuple("AvgPool1d", "stride", stride, 1)
        self.padding = _tuple("AvgPool1d", "padding", padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool3d(_MaxPoolNd):
    """The largest value of each window: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out,
    H_out, W_out); with ``return_indices``, also each maximum's flat position
    ``(d * H + h) * W + w``. ``stride`` defaults to ``kernel_size``."""

    functional = staticmethod(max_pool3d)


class _AvgPoolNd(Module):
    """What AvgPool2d and AvgPool3d share: the options, kept as given (PyTorch's repr)."""

    functional: Any = None

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode, self.count_include_pad = padding, ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return type(self).functional(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """The mean of each window: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out). ``stride``
    defaults to ``kernel_size``; the zero padding counts with ``count_include_pad``; a
    ``divisor_override`` divides every window's sum by itself instead."""

    functional = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """The mean of each window: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out);
    the options as :class:`AvgPool2d`'s."""

    functional = staticmethod(avg_pool3d)


class AdaptiveAvgPool1d(Module):
    """The mean over ``output_size`` windows tiling the input: (N, C, L) or (C, L) ->
    (N, C, output_size)."""

    def __init__(self, output_size: int | tuple[int]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """The mean over windows tiling each plane into ``output_size`` (an int, or a pair where
    None keeps that dim): (N, C, H, W) or (C, H, W) -> (N, C, *output_size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool3d(Module):
    """The mean over windows tiling each volume into ``output_size`` (an int, or a triple
    where None keeps that dim): (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool3d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(Module):
    functional: Any = None

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x: Tensor) -> Any:
        return type(self).functional(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """The largest value of each of ``output_size`` windows tiling the input: (N, C, L) or
    (C, L) -> (N, C, output_size); with ``return_indices``, also each maximum's position."""

    functional = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """The largest value of each window tiling each plane into ``output_size`` (an int, or a
    pair where None keeps that dim): (N, C, H, W) or (C, H, W) -> (N, C, *output_size); with
    ``return_indices``, also each maximum's flat position ``h * W + w``."""

    functional = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """The largest value of each window tiling each volume into ``output_size`` (an int, or a
    triple where None keeps that dim): (N, C, D, H, W) or (C, D, H, W) -> (N, C,
    *output_size); with ``return_indices``, also each maximum's position."""

    functional = staticmethod(adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    """What MaxUnpool1d/2d/3d share: the options as tuples (PyTorch's repr)."""

    nd = 0
    functional: Any = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        layer, nd = type(self).__name__, self.nd
        self.kernel_size = _tuple(layer, "kernel_size", kernel_size, nd)
        self.stride = self.kernel_size if stride is None else _tuple(layer, "stride", stride, nd)
        self.padding = _tuple(layer, "padding", padding, nd)

    def forward(self, x: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        fn = type(self).functional
        return fn(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Max pooling's partial inverse: each value put back at the position ``indices`` (from
    ``MaxPool1d(return_indices=True)``) gives it, zeros elsewhere: (N, C, L) or (C, L) ->
    (N, C, (L - 1) * stride + kernel_size - 2 * padding), or ``output_size``."""

    nd, functional = 1, staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Max pooling's partial inverse: each value put back at its flat position ``h * W_out +
    w`` in ``indices``, zeros elsewhere: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out),
    each ``(L - 1) * stride + kernel_size - 2 * padding`` or as ``output_size``."""

    nd, functional = 2, staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Max pooling's partial inverse in 3 dims: (N, C, D, H, W) or (C, D, H, W) -> (N, C,
    D_out, H_out, W_out), as :class:`MaxUnpool2d`."""

    nd, functional = 3, staticmethod(max_unpool3d)


class _LPPoolNd(Module):
    """What LPPool1d/2d/3d share: the options, kept as given (PyTorch's repr)."""

    functional: Any = None

    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        fn = type(self).functional
        return fn(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling, ``(sum over each window of x ** p) ** (1 / p)`` with p =
    ``norm_type``: (N, C, L) or (C, L) -> (N, C, L_out). ``stride`` defaults to
    ``kernel_size``."""

    functional = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over each plane: (N, C, H, W) or (C, H, W) -> (N, C, H_out,
    W_out), as :class:`LPPool1d`."""

    functional = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over each volume: (N, C, D, H, W) or (C, D, H, W) -> (N, C,
    D_out, H_out, W_out), as :class:`LPPool1d`."""

    functional = staticmethod(lp_pool3d)
