"""Convolution and pooling over 1, 2 or 3 spatial dims: conv1d/2d/3d,
conv_transpose1d/2d/3d, max_pool1d/2d/3d, avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d,
adaptive_max_pool1d/2d/3d, max_unpool1d/2d/3d, lp_pool1d/2d/3d (``torch.nn.functional``'s
names, arguments and output sizes).

A convolution is one matrix product over the windows of its input (im2col):
``y[n, o, p] = sum_{c, k} w[o, c, k] x_pad[n, c, p * stride + k * dilation] + b[o]``. The
windows are a strided view (``backend.sliding_windows``), the product a batched GEMM over the
groups. Its two gradients are ops of their own, so that each can be differentiated again:

- ``ConvInputGrad``, the transposed convolution: each window's gradient ``g W`` added back
  where the window read (``backend.add_windows``, col2im);
- ``ConvWeightGrad``: ``g^T`` times the windows of ``x``.

The three close the loop: the gradient of each is made of the other two (``Conv``'s input
gradient is ``ConvInputGrad``, whose gradient in ``g`` is ``Conv`` again, and so on), which is
what ``backward_graph`` uses. ``conv_transpose`` is that input gradient offered as an op
(``ConvTranspose``: the same kernel, plus a bias and output_padding), its gradients ``Conv``
and ``ConvWeightGrad``. Average pooling is a convolution of each channel with a box of ones
divided by the window's count; adaptive average pooling, per dim, the sum of each window
(gathered, padded to the widest) over its width; max pooling, adaptive or not, gathers the
argmax of each window and scatters its gradient back there (``ScatterAdd``, itself twice
differentiable). Max unpooling is the other way round: it scatters each value to its index in
the output plane (``MaxUnpool``) and gathers the gradient there (``Gather``). Power-average
pooling is composed, as PyTorch's: ``(avg_pool(x ** p) * kernel numel) ** (1 / p)``, its
gradient the chain of theirs.

Shapes: (N, C, *L) or (C, *L) with one to three spatial dims L; weights (out_channels,
in_channels / groups, *kernel), a transposed convolution's (in_channels, out_channels / groups,
*kernel), the weight of the convolution it is the input gradient of.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``,
``ops.indexing``, ``ops.shape``; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.errors import DTypeError
from minigrad.ops._util import ShapeError, require_float, same_dtype
from minigrad.ops.indexing import Gather, ScatterAdd, _along
from minigrad.ops.shape import masked_fill

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

IntOrTuple = Any  # an int, or a tuple of one int per spatial dim


@dataclass(frozen=True)
class Geometry:
    """Where a convolution's windows lie: per spatial dim the input size (unpadded), the
    kernel size, stride, dilation and (before, after) zero padding; the channel groups."""

    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    groups: int = 1

    @property
    def out_size(self) -> tuple[int, ...]:
        return tuple(
            (n + a + b - d * (k - 1) - 1) // s + 1
            for n, k, s, d, (a, b) in zip(
                self.size, self.kernel, self.stride, self.dilation, self.padding
            )
        )


# =============================================================================================
# the array kernels: the product of the windows, and its two adjoints
# =============================================================================================


def _pad(x: Any, padding: tuple[tuple[int, int], ...], value: float = 0.0) -> Any:
    if not any(a or b for a, b in padding):
        return x
    widths = ((0, 0),) * (x.ndim - len(padding)) + padding
    return backend.array_module(x).pad(x, widths, constant_values=value)


def _window_rows(x: Any, geo: Geometry) -> Any:
    """(N, C, *L) -> (G, N * prod(O), C/G * prod(K)): one row per window and group."""
    nd, groups = len(geo.kernel), geo.groups
    n, c = x.shape[:2]
    windows = backend.sliding_windows(_pad(x, geo.padding), geo.kernel, geo.stride, geo.dilation)
    windows = windows.reshape((n, groups, c // groups) + windows.shape[2:])  # (N, G, Cg, *O, *K)
    order = (1, 0, *range(3, 3 + nd), 2, *range(3 + nd, 3 + 2 * nd))
    rows, cols = n * math.prod(geo.out_size), c // groups * math.prod(geo.kernel)
    return windows.transpose(order).reshape(groups, rows, cols)


def _grad_rows(g: Any, groups: int) -> Any:
    """(N, Cout, *O) -> (G, N * prod(O), Cout/G): the output gradient, one row per window."""
    n, c, nd = g.shape[0], g.shape[1], g.ndim - 2
    g = g.reshape((n, groups, c // groups) + g.shape[2:])
    order = (1, 0, *range(3, 3 + nd), 2)
    return g.transpose(order).reshape(groups, n * math.prod(g.shape[3:]), c // groups)


def conv_forward(x: Any, w: Any, geo: Geometry) -> Any:
    """y = windows(x) W^T per group: (N, C, *L), (Cout, C/G, *K) -> (N, Cout, *O)."""
    groups, out = geo.groups, geo.out_size
    w_rows = w.reshape(groups, w.shape[0] // groups, -1)  # (G, Cout/G, C/G * prod(K))
    y = _window_rows(x, geo) @ w_rows.transpose(0, 2, 1)  # (G, N * prod(O), Cout/G)
    y = y.reshape((groups, x.shape[0]) + out + (w.shape[0] // groups,))
    nd = len(out)
    y = y.transpose(1, 0, 2 + nd, *range(2, 2 + nd))  # (N, G, Cout/G, *O)
    return y.reshape((x.shape[0], w.shape[0]) + out)


def conv_input_grad(g: Any, w: Any, geo: Geometry) -> Any:
    """The transposed convolution: each window's share W^T g added back where it read (col2im).
    (N, Cout, *O), (Cout, C/G, *K) -> (N, C, *L)."""
    xp = backend.array_module(g)
    groups, nd, n = geo.groups, len(geo.kernel), g.shape[0]
    cg, per_group = w.shape[1], w.shape[0] // groups
    w_rows = w.reshape(groups, per_group, -1)  # (G, Cout/G, C/G * prod(K))
    positions = math.prod(g.shape[2:])  # prod(O), spelled out: -1 cannot size an empty batch
    g_rows = g.reshape(n, groups, per_group, positions).transpose(1, 2, 0, 3)  # (G, Cout/G, N, O)
    # the columns kernel offset first, positions last: each offset's add then reads rows
    # of whole output rows, not one element in prod(K)
    cols = w_rows.transpose(0, 2, 1) @ g_rows.reshape(groups, per_group, n * positions)
    cols = cols.reshape((groups, cg) + geo.kernel + (n,) + geo.out_size)  # (G, C/G, *K, N, *O)
    order = (2 + nd, 0, 1, *range(3 + nd, 3 + 2 * nd), *range(2, 2 + nd))
    windows = cols.transpose(order)  # (N, G, C/G, *O, *K), a view
    padded = tuple(s + a + b for s, (a, b) in zip(geo.size, geo.padding))
    dx = xp.zeros((n, groups, cg) + padded, dtype=g.dtype)
    backend.add_windows(dx, windows, geo.stride, geo.dilation)
    crop = tuple(slice(a, a + s) for s, (a, _) in zip(geo.size, geo.padding))
    return dx.reshape((n, groups * cg) + padded)[(slice(None),) * 2 + crop]


def conv_weight_grad(x: Any, g: Any, geo: Geometry) -> Any:
    """dW = g^T windows(x) per group: (N, C, *L), (N, Cout, *O) -> (Cout, C/G, *K)."""
    dw = _grad_rows(g, geo.groups).transpose(0, 2, 1) @ _window_rows(x, geo)
    return dw.reshape((g.shape[1], x.shape[1] // geo.groups) + geo.kernel)


# =============================================================================================
# Conv and its two gradients, each the others' gradient
# =============================================================================================


class Conv(Function):
    @staticmethod
    def forward(ctx, x, w, bias, geo=None):
        ctx.geo = geo
        ctx.save_for_backward(x, w)
        y = conv_forward(x, w, geo)
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * len(geo.kernel))
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        # dx = conv_transpose(g, W) ; dW = g^T windows(x) ; db = sum of g over n and positions
        dx = conv_input_grad(g, w, ctx.geo) if needs[0] else None
        dw = conv_weight_grad(x, g, ctx.geo) if needs[1] else None
        db = g.sum((0, *range(2, g.ndim))) if needs[2] else None
        return dx, dw, db

    @staticmethod
    def backward_graph(ctx, g):
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        dx = ConvInputGrad.apply(g, w, geo=ctx.geo) if needs[0] else None
        dw = ConvWeightGrad.apply(x, g, geo=ctx.geo) if needs[1] else None
        db = g.sum((0, *range(2, g.ndim))) if needs[2] else None
        return dx, dw, db


class ConvInputGrad(Function):
    """dx = conv_transpose(g, W), the input gradient of ``Conv``; linear in g and in W."""

    @staticmethod
    def forward(ctx, g, w, geo=None):
        ctx.geo = geo
        ctx.save_for_backward(g, w)
        return conv_input_grad(g, w, geo)

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved_tensors
        # dg = conv(h, W) ; dW = g^T windows(h)  (the adjoints of h -> <conv_transpose(g, W), h>)
        dg = conv_forward(h, w, ctx.geo) if ctx.needs_input_grad[0] else None
        dw = conv_weight_grad(h, g, ctx.geo) if ctx.needs_input_grad[1] else None
        return dg, dw

    @staticmethod
    def backward_graph(ctx, h):
        g, w = ctx.saved_tensors
        dg = Conv.apply(h, w, None, geo=ctx.geo) if ctx.needs_input_grad[0] else None
        dw = ConvWeightGrad.apply(h, g, geo=ctx.geo) if ctx.needs_input_grad[1] else None
        return dg, dw


class ConvWeightGrad(Function):
    """dW = g^T windows(x), the weight gradient of ``Conv``; linear in x and in g."""

    @staticmethod
    def forward(ctx, x, g, geo=None):
        ctx.geo = geo
        ctx.save_for_backward(x, g)
        return conv_weight_grad(x, g, geo)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        # dx = conv_transpose(g, h) ; dg = conv(x, h)
        dx = conv_input_grad(g, h, ctx.geo) if ctx.needs_input_grad[0] else None
        dg = conv_forward(x, h, ctx.geo) if ctx.needs_input_grad[1] else None
        return dx, dg

    @staticmethod
    def backward_graph(ctx, h):
        x, g = ctx.saved_tensors
        dx = ConvInputGrad.apply(g, h, geo=ctx.geo) if ctx.needs_input_grad[0] else None
        dg = Conv.apply(x, h, None, geo=ctx.geo) if ctx.needs_input_grad[1] else None
        return dx, dg


class ConvTranspose(Function):
    """y = conv_transpose(x, W) + b: the gradient of a convolution with respect to its input
    (``conv_input_grad``), applied to x. ``geo`` is that convolution's: its input is y less
    ``extra`` trailing positions per dim (output_padding past the padding, which only the bias
    reaches), its output is x. Weight (C_in, C_out / G, *K), as the convolution's."""

    @staticmethod
    def forward(ctx, x, w, bias, geo=None, extra=()):
        ctx.geo, ctx.extra = geo, extra
        ctx.save_for_backward(x, w)
        y = _pad(conv_input_grad(x, w, geo), tuple((0, e) for e in extra))
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * len(geo.kernel))
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        needs, geo = ctx.needs_input_grad, ctx.geo
        db = g.sum((0, *range(2, g.ndim))) if needs[2] else None
        g = g[_inside(geo)]  # the extra positions read no x and no W
        # dx = conv(g, W) ; dW = windows(g)^T x per group ; db = sum of g over n and positions
        dx = conv_forward(g, w, geo) if needs[0] else None
        dw = conv_weight_grad(g, x, geo) if needs[1] else None
        return dx, dw, db

    @staticmethod
    def backward_graph(ctx, g):
        x, w = ctx.saved_tensors
        needs, geo = ctx.needs_input_grad, ctx.geo
        db = g.sum((0, *range(2, g.ndim))) if needs[2] else None
        g = g[_inside(geo)] if any(ctx.extra) else g
        dx = Conv.apply(g, w, None, geo=geo) if needs[0] else None
        dw = ConvWeightGrad.apply(g, x, geo=geo) if needs[1] else None
        return dx, dw, db


def _inside(geo: Geometry) -> tuple[slice, ...]:
    """The index of a conv_transpose output's first ``geo.size`` positions per dim."""
    return (slice(None),) * 2 + tuple(slice(0, n) for n in geo.size)


# =============================================================================================
# argument checks, shared by the convolutions and the poolings
# =============================================================================================


def _is_int(value: Any) -> bool:
    """An integer that is not a bool: a Python int, or a NumPy one (``__index__``), as PyTorch."""
    return not isinstance(value, bool) and hasattr(type(value), "__index__")


def _iterable(value: Any) -> bool:
    return hasattr(value, "__iter__") and not isinstance(value, str)


def _ints(op: str, name: str, value: IntOrTuple, nd: int, low: int) -> tuple[int, ...]:
    """``value`` (an int or one int per spatial dim) as a tuple of ``nd`` ints >= ``low``."""
    values = (value,) * nd if _is_int(value) else tuple(value) if _iterable(value) else ()
    if len(values) != nd or not all(_is_int(v) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {nd} ints, got {value!r}")
    values = tuple(operator.index(v) for v in values)  # a NumPy integer as a Python int
    if any(v < low for v in values):
        raise ValueError(f"{op}: {name} must be >= {low}, got {value!r}")
    return values


def _batched(op: str, x: Tensor, nd: int) -> tuple[Tensor, bool]:
    """``x`` with a batch dim (added to an unbatched (C, *L) input), and whether one was added."""
    require_float(op, x)
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(
            f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, got shape "
            f"{tuple(x.shape)}"
        )
    return (x.unsqueeze(0), True) if x.ndim == nd + 1 else (x, False)


def _out_size_positive(op: str, geo: Geometry, shape: tuple[int, ...]) -> None:
    if any(o < 1 for o in geo.out_size):
        raise ShapeError(
            f"{op}: the output would have size {geo.out_size}: input of shape {shape} "
            f"is too small for kernel {geo.kernel} (dilation {geo.dilation}, padding "
            f"{geo.padding})"
        )


def _conv_padding(op: str, padding: Any, kernel: tuple[int, ...], geo_args: dict) -> tuple:
    """PyTorch's ``padding``: ints, ``'valid'`` (none) or ``'same'`` (the output as long as the
    input, stride 1 only; an odd total puts the extra zero after, as PyTorch)."""
    nd = len(kernel)
    if padding == "valid":
        return ((0, 0),) * nd
    if padding == "same":
        if any(s != 1 for s in geo_args["stride"]):
            raise ValueError(f"{op}: padding='same' needs stride 1, got {geo_args['stride']}")
        totals = [d * (k - 1) for k, d in zip(kernel, geo_args["dilation"])]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'valid', 'same' or ints, got {padding!r}")
    return tuple((p, p) for p in _ints(op, "padding", padding, nd, 0))


def _groups(op: str, groups: Any) -> int:
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return operator.index(groups)


def _check_conv(
    op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, shown: tuple
) -> None:
    """``x``: (N, C, *L), the input given as ``shown`` (batched or not)."""
    nd = x.ndim - 2
    if weight.ndim != nd + 2 or 0 in weight.shape[2:]:
        raise ShapeError(
            f"{op}: weight must be {nd + 2}-D (out_channels, in_channels / groups, *kernel) with "
            f"a nonempty kernel, got shape {tuple(weight.shape)}"
        )
    out_channels, per_group = weight.shape[:2]
    if out_channels == 0:  # PyTorch's refusal
        raise ShapeError(f"{op}: weight of shape {tuple(weight.shape)} has no output channels")
    if 0 in x.shape[2:] and 0 not in x.shape[:2]:  # PyTorch's: only the padding to convolve
        raise ShapeError(f"{op}: input of shape {shown} has an empty spatial dim")
    if x.shape[1] != per_group * groups:
        raise ShapeError(
            f"{op}: input of shape {shown} has {x.shape[1]} channels, but weight of "
            f"shape {tuple(weight.shape)} with groups={groups} expects {per_group * groups} "
            f"(in_channels / groups = {per_group})"
        )
    if out_channels % groups:
        raise ShapeError(
            f"{op}: out_channels {out_channels} (weight of shape {tuple(weight.shape)}) is not "
            f"divisible by groups={groups}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},), got {tuple(bias.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        same_dtype(op, (name, t), ("the input", x))


# =============================================================================================
# conv1d, conv2d
# =============================================================================================


def _conv(
    op: str,
    nd: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    options: tuple[IntOrTuple, Any, IntOrTuple, int],
) -> Tensor:
    stride, padding, dilation, groups = options
    shape = tuple(x.shape)
    x, added = _batched(op, x, nd)
    groups = _groups(op, groups)
    _check_conv(op, x, weight, bias, groups, shape)
    kernel = tuple(weight.shape[2:])
    args = {
        "stride": _ints(op, "stride", stride, nd, 1),
        "dilation": _ints(op, "dilation", dilation, nd, 1),
    }
    pads = _conv_padding(op, padding, kernel, args)
    geo = Geometry(tuple(x.shape[2:]), kernel, padding=pads, groups=groups, **args)
    _out_size_positive(op, geo, shape)
    y = Conv.apply(x, weight, bias, geo=geo)
    return y.squeeze(0) if added else y


def conv1d(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """1-d convolution (cross-correlation, as PyTorch) of ``input`` with ``weight``.

    Shapes: input (N, C_in, L) or (C_in, L); weight (C_out, C_in / groups, K); bias (C_out,)
    -> (N, C_out, L_out) with ``L_out = (L + 2 padding - dilation (K - 1) - 1) // stride + 1``.
    ``padding`` is an int, ``'valid'`` (0) or ``'same'`` (stride 1 only).
    """
    return _conv("conv1d", 1, input, weight, bias, (stride, padding, dilation, groups))


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation, as PyTorch) of ``input`` with ``weight``.

    Shapes: input (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in / groups, kH, kW); bias
    (C_out,) -> (N, C_out, H_out, W_out), each ``(H + 2 padding - dilation (kH - 1) - 1) //
    stride + 1``. ``stride``, ``padding``, ``dilation``: an int or a pair; ``padding`` also
    ``'valid'`` or ``'same'`` (stride 1 only).
    """
    return _conv("conv2d", 2, input, weight, bias, (stride, padding, dilation, groups))


def conv3d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """3-d convolution (cross-correlation, as PyTorch) of ``input`` with ``weight``.

    Shapes: input (N, C_in, D, H, W) or (C_in, D, H, W); weight (C_out, C_in / groups, kD, kH,
    kW); bias (C_out,) -> (N, C_out, D_out, H_out, W_out), each as :func:`conv2d`'s.
    ``stride``, ``padding``, ``dilation``: an int or a triple; ``padding`` also ``'valid'`` or
    ``'same'`` (stride 1 only).
    """
    return _conv("conv3d", 3, input, weight, bias, (stride, padding, dilation, groups))


# =============================================================================================
# conv_transpose1d, conv_transpose2d: a convolution's input gradient, as an op
# =============================================================================================


def _check_conv_transpose(
    op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, shown: tuple
) -> None:
    """``x``: (N, C_in, *L), the input given as ``shown``; weight (C_in, C_out / groups, *K)."""
    nd = x.ndim - 2
    if weight.ndim != nd + 2 or 0 in weight.shape[2:]:
        raise ShapeError(
            f"{op}: weight must be {nd + 2}-D (in_channels, out_channels / groups, *kernel) with "
            f"a nonempty kernel, got shape {tuple(weight.shape)}"
        )
    if 0 in x.shape[2:]:  # PyTorch's refusal too: no position for a window to start at
        raise ShapeError(f"{op}: input of shape {shown} has an empty spatial dim")
    if 0 in weight.shape[:2]:  # PyTorch's refusal
        raise ShapeError(f"{op}: weight of shape {tuple(weight.shape)} has no channels")
    in_channels, out_channels = weight.shape[0], weight.shape[1] * groups
    if x.shape[1] != in_channels:
        raise ShapeError(
            f"{op}: input of shape {shown} has {x.shape[1]} channels, but weight of shape "
            f"{tuple(weight.shape)} expects {in_channels} (in_channels = weight.shape[0])"
        )
    if in_channels % groups:
        raise ShapeError(
            f"{op}: in_channels {in_channels} (weight of shape {tuple(weight.shape)}) is not "
            f"divisible by groups={groups}"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(
            f"{op}: bias must have shape ({out_channels},) (out_channels = weight.shape[1] * "
            f"groups), got {tuple(bias.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        same_dtype(op, (name, t), ("the input", x))


def _transpose_geometry(op: str, x: Tensor, kernel: tuple, options: tuple, shown: tuple) -> tuple:
    """The convolution whose input gradient the transposed one is, and the trailing positions
    output_padding adds past the padding: (Geometry, extra). PyTorch's output size per dim:
    ``(L - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1``."""
    stride, padding, output_padding, groups, dilation = options
    nd = len(kernel)
    stride = _ints(op, "stride", stride, nd, 1)
    dilation = _ints(op, "dilation", dilation, nd, 1)
    pads = _ints(op, "padding", padding, nd, 0)
    more = _ints(op, "output_padding", output_padding, nd, 0)
    if any(m >= s and m >= d for m, s, d in zip(more, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding {more} must be smaller than either stride {stride} or "
            f"dilation {dilation} in each dim"
        )
    out = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + m + 1
        for n, k, s, d, p, m in zip(x.shape[2:], kernel, stride, dilation, pads, more)
    )
    if any(o < 1 for o in out):
        raise ShapeError(
            f"{op}: the output would have size {out}: input of shape {shown} is too small for "
            f"kernel {kernel} (stride {stride}, dilation {dilation}, padding {pads}, "
            f"output_padding {more})"
        )
    # output_padding first takes the place of the padding after; what is left is extra zeros
    extra = tuple(max(m - p, 0) for m, p in zip(more, pads))
    pairs = tuple((p, p - m + e) for p, m, e in zip(pads, more, extra))
    size = tuple(o - e for o, e in zip(out, extra))
    return Geometry(size, kernel, stride, dilation, pairs, groups), extra


def _conv_transpose(
    op: str, nd: int, x: Tensor, weight: Tensor, bias: Tensor | None, options: tuple
) -> Tensor:
    shown = tuple(x.shape)
    x, added = _batched(op, x, nd)
    groups = _groups(op, options[3])
    _check_conv_transpose(op, x, weight, bias, groups, shown)
    options = options[:3] + (groups,) + options[4:]
    geo, extra = _transpose_geometry(op, x, tuple(weight.shape[2:]), options, shown)
    y = ConvTranspose.apply(x, weight, bias, geo=geo, extra=extra)
    return y.squeeze(0) if added else y


def conv_transpose1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Tensor:
    """1-d transposed convolution: the gradient of :func:`conv1d` (same stride, padding,
    dilation, groups and weight) with respect to its input, applied to ``input``.

    Shapes: input (N, C_in, L) or (C_in, L); weight (C_in, C_out / groups, K); bias (C_out,)
    -> (N, C_out, L_out) with ``L_out = (L - 1) stride - 2 padding + dilation (K - 1) +
    output_padding + 1``; ``output_padding`` (zeros added after, below stride or dilation)
    picks among the input sizes conv1d maps to ``L``.
    """
    options = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, options)


def conv_transpose2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Tensor:
    """2-d transposed convolution: the gradient of :func:`conv2d` with respect to its input.

    Shapes: input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out / groups, kH, kW); bias
    (C_out,) -> (N, C_out, H_out, W_out), each ``(H - 1) stride - 2 padding + dilation (kH - 1)
    + output_padding + 1``. ``stride``, ``padding``, ``output_padding``, ``dilation``: an int
    or a pair.
    """
    options = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, options)


def conv_transpose3d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    groups: int = 1,
    dilation: IntOrTuple = 1,
) -> Tensor:
    """3-d transposed convolution: the gradient of :func:`conv3d` with respect to its input.

    Shapes: input (N, C_in, D, H, W) or (C_in, D, H, W); weight (C_in, C_out / groups, kD, kH,
    kW); bias (C_out,) -> (N, C_out, D_out, H_out, W_out), each as :func:`conv_transpose2d`'s.
    """
    options = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, options)


# =============================================================================================
# pooling: the shared geometry (ceil_mode), max, average, adaptive average
# =============================================================================================


def _pool_geometry(op: str, x: Tensor, nd: int, options: tuple, shown: tuple) -> Geometry:
    """The windows of a pooling: PyTorch's output size, ``ceil_mode`` rounding up, as long as
    the last window starts inside the input or its left padding (extra zeros after the input
    make room for it; they count in no average)."""
    kernel_size, stride, padding, dilation, ceil_mode = options
    if x.shape[1] == 0:  # PyTorch's refusal: only the batch may be empty
        raise ShapeError(f"{op}: input of shape {shown} has no channels")
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    default = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if default else _ints(op, "stride", stride, nd, 1)
    pads = _ints(op, "padding", padding, nd, 0)
    dilation = _ints(op, "dilation", dilation, nd, 1)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{op}: padding {pads} must be at most half of kernel_size {kernel} (pad <= k / 2)"
        )
    pairs = []
    for n, k, s, d, p in zip(x.shape[2:], kernel, stride, dilation, pads):
        span = n + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        pairs.append((p, max((out - 1) * s + d * (k - 1) + 1 - n - p, p)))
    geo = Geometry(tuple(x.shape[2:]), kernel, stride, dilation, tuple(pairs))
    _out_size_positive(op, geo, shown)
    return geo


def _scan_argmax(flat: Any, has_nan: bool) -> Any:
    """PyTorch's scan for the largest of each row of ``flat`` (..., K) -> (...): the first
    largest value; a NaN beats anything, a later NaN an earlier one."""
    xp, arg = backend.array_module(flat), flat.argmax(-1)
    if has_nan:
        nan = xp.isnan(flat)
        last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
        arg = xp.where(nan.any(-1), last, arg)
    return arg


def max_positions(x: Any, geo: Geometry) -> tuple[Any, Any]:
    """Where each window's largest value is, as a flat position in the unpadded input plane
    (PyTorch's ``return_indices``), and which windows lie wholly outside the input.

    PyTorch's scan: the first largest value, the last NaN if any; a window whose values are
    all -inf keeps its first position inside the input (never a padded one). A window with no
    position inside the input (dilation can step over it) is marked ``outside``: its maximum
    is -inf, its position the one PyTorch reports. (N, C, *L) -> (N, C, prod(O)) int64, and
    (N, C, prod(O)) bool or None when no window is outside."""
    xp = backend.array_module(x)
    windows = backend.sliding_windows(
        _pad(x, geo.padding, value=-xp.inf), geo.kernel, geo.stride, geo.dilation
    )
    # the sizes spelled out, not -1: an empty batch has no size to infer
    flat = windows.reshape(
        windows.shape[: x.ndim] + (math.prod(geo.kernel),)
    )  # (N, C, *O, prod(K))
    arg = _scan_argmax(flat, bool(xp.isnan(x).any()))  # (N, C, *O)
    # an all -inf window ties with its padding: take its first position inside instead
    low = xp.take_along_axis(flat, arg[..., None], -1)[..., 0] == -xp.inf  # (N, C, *O)
    offsets = xp.unravel_index(arg, geo.kernel)  # one (N, C, *O) array per dim
    nd = len(geo.kernel)
    index = xp.zeros(arg.shape, dtype=backend.int64)
    outside = xp.zeros(arg.shape, dtype=bool)
    for dim in range(nd):
        size, step = geo.size[dim], geo.dilation[dim]
        o = xp.arange(arg.shape[2 + dim]).reshape((-1,) + (1,) * (nd - 1 - dim))
        start = o * geo.stride[dim] - geo.padding[dim][0]  # may lie in the padding
        first = start + (xp.maximum(-start, 0) + step - 1) // step * step  # first at >= 0
        pos = xp.where(low, first, start + offsets[dim] * step)
        outside |= pos >= size
        index = index * size + pos
    count = arg.shape[:2] + (math.prod(arg.shape[2:]),)
    found = outside.reshape(count)
    return index.reshape(count), (found if bool(found.any()) else None)


class MaxPool(Function):
    @staticmethod
    def forward(ctx, x, index, out_size=()):
        # y = x at each window's argmax (index: (N, C, prod(O)) flat positions in prod(L))
        ctx.index, ctx.in_shape = index, x.shape
        flat = x.reshape(x.shape[:2] + (math.prod(x.shape[2:]),))
        return (
            backend.array_module(x).take_along_axis(flat, index, -1).reshape(x.shape[:2] + out_size)
        )

    @staticmethod
    def backward(ctx, g):
        # dx = g added at each window's argmax
        n, c = g.shape[:2]
        dx = backend.array_module(g).zeros((n, c, math.prod(ctx.in_shape[2:])), dtype=g.dtype)
        g = g.reshape(n, c, math.prod(g.shape[2:]))
        backend.scatter_add(dx, _along(ctx.index, 2), g)  # dx[n, c, index]
        return dx.reshape(ctx.in_shape), None

    @staticmethod
    def backward_graph(ctx, g):
        n, c = g.shape[:2]
        xp = backend.array_module(g.array)
        zeros = xp.zeros((n, c, math.prod(ctx.in_shape[2:])), dtype=g.dtype)
        dx = ScatterAdd.apply(zeros, ctx.index, g.reshape(n, c, math.prod(g.shape[2:])), dim=2)
        return dx.reshape(ctx.in_shape), None


def _max_pool(op: str, nd: int, x: Tensor, options: tuple, return_indices: bool) -> Any:
    shown = tuple(x.shape)
    x, added = _batched(op, x, nd)
    geo = _pool_geometry(op, x, nd, options, shown)
    index, outside = max_positions(x.array, geo)
    if outside is None:
        y = MaxPool.apply(x, index, out_size=geo.out_size)
    else:  # a window with nothing of the input in it: -inf, no gradient (PyTorch's)
        y = MaxPool.apply(
            x, backend.array_module(index).where(outside, 0, index), out_size=geo.out_size
        )
        y = masked_fill(y, wrap(outside.reshape(y.shape)), float("-inf"))
    if not return_indices:
        return y.squeeze(0) if added else y
    indices = wrap(index.reshape(y.shape))
    return (y.squeeze(0), indices.squeeze(0)) if added else (y, indices)


def max_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window (padding counts as -inf). ``stride`` defaults to
    ``kernel_size``. Shapes: (N, C, L) or (C, L) -> (N, C, L_out); with ``return_indices``
    also the int64 position of each maximum in its input row."""
    options = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool("max_pool1d", 1, input, options, return_indices)


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window (padding counts as -inf). ``stride`` defaults to
    ``kernel_size``. Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out); with
    ``return_indices`` also the int64 position ``h * W + w`` of each maximum in its plane."""
    options = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool("max_pool2d", 2, input, options, return_indices)


def max_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window (padding counts as -inf). ``stride`` defaults to
    ``kernel_size``. Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out);
    with ``return_indices`` also the int64 position ``(d * H + h) * W + w`` of each maximum."""
    options = (kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool("max_pool3d", 3, input, options, return_indices)


def _window_counts(geo: Geometry, count_include_pad: bool, xp: Any, dtype: Any) -> Any:
    """How many elements each window averages, (*O): PyTorch's divisor. The zero padding
    counts with ``count_include_pad``; the extra room ``ceil_mode`` adds after it never does."""
    counts = xp.ones((), dtype=dtype)
    for dim, (n, k, s, (p, _)) in enumerate(zip(geo.size, geo.kernel, geo.stride, geo.padding)):
        start = xp.arange(geo.out_size[dim]) * s - p
        if count_include_pad:
            along = xp.minimum(start + k, n + p) - start
        else:
            along = xp.minimum(start + k, n) - xp.maximum(start, 0)
        counts = counts[..., None] * along.astype(dtype)
    return counts


def _avg_pool(op: str, nd: int, x: Tensor, options: tuple, divisor: tuple) -> Tensor:
    count_include_pad, divisor_override = divisor
    shown = tuple(x.shape)
    x, added = _batched(op, x, nd)
    geo = _pool_geometry(op, x, nd, options, shown)
    if nd == 3 and any(n < k for n, k in zip(geo.size, geo.kernel)):  # PyTorch's refusal
        raise ShapeError(
            f"{op}: input of shape {shown} is smaller than kernel_size {geo.kernel} "
            f"(PyTorch's avg_pool3d wants each spatial dim, unpadded, at least the kernel's)"
        )
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, int)
        or divisor_override == 0
    ):
        raise ValueError(f"{op}: divisor_override must be a nonzero int, got {divisor_override!r}")
    n, c = x.shape[:2]
    xp = backend.array_module(x.array)
    # a sum over each window: a convolution of every channel with a box of ones
    box = xp.ones((1, 1) + geo.kernel, dtype=x.dtype)
    sums = Conv.apply(x.reshape((n * c, 1) + tuple(x.shape[2:])), box, None, geo=geo)
    if divisor_override is not None:
        counts = divisor_override
    else:
        counts = wrap(_window_counts(geo, count_include_pad, xp, x.dtype))
    y = (sums / counts).reshape((n, c) + geo.out_size)
    return y.squeeze(0) if added else y


def avg_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window; the zero padding counts in the mean with
    ``count_include_pad`` (PyTorch's default). Shapes: (N, C, L) or (C, L) -> (N, C, L_out)."""
    options = (kernel_size, stride, padding, 1, ceil_mode)
    return _avg_pool("avg_pool1d", 1, input, options, (count_include_pad, None))


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window (or its sum over ``divisor_override``); the zero padding counts
    with ``count_include_pad``. Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""
    options = (kernel_size, stride, padding, 1, ceil_mode)
    return _avg_pool("avg_pool2d", 2, input, options, (count_include_pad, divisor_override))


def avg_pool3d(
    input: Tensor,  # noqa: A002
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window (or its sum over ``divisor_override``); the zero padding counts
    with ``count_include_pad``. Shapes: (N, C, D, H, W) or (C, D, H, W) ->
    (N, C, D_out, H_out, W_out)."""
    options = (kernel_size, stride, padding, 1, ceil_mode)
    return _avg_pool("avg_pool3d", 3, input, options, (count_include_pad, divisor_override))


def _bin_edges(n: int, out: int, xp: Any) -> tuple[Any, Any]:
    """PyTorch's adaptive windows over n positions: window i is ``[start[i], end[i])`` with
    ``start = floor(i n / out)``, ``end = ceil((i + 1) n / out)``; (out,) each."""
    i = xp.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _adaptive_windows(n: int, out: int, xp: Any) -> tuple[Any, Any, Any]:
    """PyTorch's adaptive windows over n positions (``_bin_edges``), each padded to the widest:
    the positions read (out, K), clamped inside the input; which of them are the window's own
    (out, K) bool; and each window's width (out,)."""
    start, end = _bin_edges(n, out, xp)
    along = start[:, None] + xp.arange(int((end - start).max()) if out else 0)
    return xp.minimum(along, n - 1), along < end[:, None], end - start


def _adaptive_sizes(op: str, x: Tensor, output_size: Any, shown: tuple) -> tuple[int, ...]:
    """``output_size`` (an int, or one int per spatial dim of ``x`` (N, C, *L); past 1-d also
    None, which keeps that dim's size, as PyTorch) as a tuple of ints >= 0 (0: an empty
    output, as PyTorch). An input with an empty spatial dim has no window: refused."""
    nd = x.ndim - 2
    if 0 in x.shape[2:]:
        raise ShapeError(f"{op}: input of shape {shown} has an empty spatial dim: no window")
    if _is_int(output_size) or (output_size is None and nd > 1):
        output_size = (output_size,) * nd
    if not _iterable(output_size) or len(output_size) != nd:
        raise ValueError(f"{op}: output_size must be an int or {nd} ints, got {output_size!r}")
    keep = nd > 1  # PyTorch's 1-d pools take no None
    sizes = tuple(n if o is None and keep else o for o, n in zip(output_size, x.shape[2:]))
    return _ints(op, "output_size", sizes, nd, 0)


def _adaptive_avg_pool(op: str, nd: int, x: Tensor, output_size: Any) -> Tensor:
    shown = tuple(x.shape)
    x, added = _batched(op, x, nd)
    sizes = _adaptive_sizes(op, x, output_size, shown)
    if nd == 3 and x.shape[1] == 0:  # PyTorch's refusal (its 1-d and 2-d ones take it)
        raise ShapeError(f"{op}: input of shape {shown} has no channels")
    xp = backend.array_module(x.array)
    y = x
    for dim in range(nd):  # each dim in turn, as the last: y[..., i] = sum of window i / width
        axis = 2 + dim
        n, out = x.shape[axis], sizes[dim]
        last = y.transpose(axis, -1)
        if out and n % out == 0:  # windows that tile the dim evenly: a view, (..., out, n / out)
            y = last.reshape(last.shape[:-1] + (out, n // out)).mean(-1).transpose(axis, -1)
            continue
        positions, inside, widths = _adaptive_windows(n, out, xp)
        rows = last[..., positions]  # (..., out, K)
        if not bool(inside.all()):  # the padding adds a zero, never 0 * x (x may be inf)
            rows = masked_fill(rows, wrap(~inside), 0.0)
        y = (rows.sum(-1) / wrap(widths.astype(x.dtype))).transpose(axis, -1)
    return y.squeeze(0) if added else y


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:  # noqa: A002
    """The mean over ``output_size`` windows that tile the input, as PyTorch lays them out
    (window i covers ``[floor(i L / out), ceil((i + 1) L / out))``).
    Shapes: (N, C, L) or (C, L) -> (N, C, output_size)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """The mean over windows that tile each plane into ``output_size`` (an int, a pair; None
    keeps that dim's size). Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """The mean over windows that tile each volume into ``output_size`` (an int, a triple;
    None keeps that dim's size). Shapes: (N, C, D, H, W) or (C, D, H, W) ->
    (N, C, *output_size)."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_positions(x: Any, sizes: tuple[int, ...]) -> Any:
    """Where the largest value of each adaptive window is (``_bin_edges``), as a flat position
    in the input plane: (N, C, *L) -> (N, C, prod(O)) int64. Each window is gathered padded to
    the widest one per dim, the padding -inf; PyTorch's scan picks among the real values (an
    all -inf window keeps its first position)."""
    xp = backend.array_module(x)
    nd, lengths = len(sizes), x.shape[2:]
    positions, inside = 0, True  # (*O, *K): flat positions, and which are real
    for dim, (n, out) in enumerate(zip(lengths, sizes)):
        start, end = _bin_edges(n, out, xp)
        along = start[:, None] + xp.arange(int((end - start).max()))  # (out, K): window i's
        shape = [1] * (2 * nd)
        shape[dim], shape[nd + dim] = along.shape
        positions = positions * n + xp.minimum(along, end[:, None] - 1).reshape(shape)
        inside = inside & (along < end[:, None]).reshape(shape)
    count, width = math.prod(sizes), math.prod(positions.shape[nd:])
    positions, inside = positions.reshape(count, width), inside.reshape(count, width)
    flat = x.reshape(x.shape[:2] + (math.prod(lengths),))[
        ..., positions
    ]  # (N, C, prod(O), prod(K))
    if not bool(inside.all()):  # windows of unequal widths: the shorter ones padded
        flat = xp.where(inside, flat, -xp.inf)
    arg = _scan_argmax(flat, bool(xp.isnan(x).any()))  # (N, C, prod(O))
    arg = xp.where(xp.take_along_axis(flat, arg[..., None], -1)[..., 0] == -xp.inf, 0, arg)
    return positions[xp.arange(count), arg]


def _adaptive_max_pool(op: str, nd: int, x: Tensor, output_size: Any, indices: bool) -> Any:
    shown = tuple(x.shape)
    x, added = _batched(op, x, nd)
    sizes = _adaptive_sizes(op, x, output_size, shown)
    if x.shape[1] == 0:  # PyTorch's refusal (its adaptive average pooling takes it)
        raise ShapeError(f"{op}: input of shape {shown} has no channels")
    xp = backend.array_module(x.array)
    if 0 in sizes:  # an empty output: no window to search
        index = xp.zeros(x.shape[:2] + (0,), dtype=backend.int64)
    else:
        index = adaptive_max_positions(x.array, sizes)
    y = MaxPool.apply(x, index, out_size=sizes)  # the gather and its scatter-back, as max_pool
    if not indices:
        return y.squeeze(0) if added else y
    index = wrap(index.reshape(y.shape))
    return (y.squeeze(0), index.squeeze(0)) if added else (y, index)


def adaptive_max_pool1d(
    input: Tensor,  # noqa: A002
    output_size: int | tuple[int],
    return_indices: bool = False,
) -> Any:
    """The largest value of each of ``output_size`` windows that tile the input, as PyTorch
    lays them out (window i covers ``[floor(i L / out), ceil((i + 1) L / out))``).
    Shapes: (N, C, L) or (C, L) -> (N, C, output_size); with ``return_indices`` also the int64
    position of each maximum in its input row."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(
    input: Tensor,  # noqa: A002
    output_size: Any,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window that tiles each plane into ``output_size`` (an int, a
    pair; None keeps that dim's size). Shapes: (N, C, H, W) or (C, H, W) ->
    (N, C, *output_size); with ``return_indices`` also each maximum's position ``h * W + w``."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(
    input: Tensor,  # noqa: A002
    output_size: Any,
    return_indices: bool = False,
) -> Any:
    """The largest value of each window that tiles each volume into ``output_size`` (an int, a
    triple; None keeps that dim's size). Shapes: (N, C, D, H, W) or (C, D, H, W) ->
    (N, C, *output_size); with ``return_indices`` also each maximum's position
    ``(d * H + h) * W + w``."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(
    input: Tensor,  # noqa: A002
    output_size: int | tuple[int],
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool1d` returning (values, indices) whatever ``return_indices`` says:
    ``torch.nn.functional.adaptive_max_pool1d_with_indices``, and ``torch.adaptive_max_pool1d``
    (which is ``minigrad.adaptive_max_pool1d`` too)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(
    input: Tensor,  # noqa: A002
    output_size: Any,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool2d` returning (values, indices) whatever ``return_indices``
    says: ``torch.nn.functional.adaptive_max_pool2d_with_indices``."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(
    input: Tensor,  # noqa: A002
    output_size: Any,
    return_indices: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`adaptive_max_pool3d` returning (values, indices) whatever ``return_indices``
    says: ``torch.nn.functional.adaptive_max_pool3d_with_indices``."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, True)


# =============================================================================================
# max unpooling: max pooling's partial inverse; power-average (Lp) pooling
# =============================================================================================


class MaxUnpool(Function):
    @staticmethod
    def forward(ctx, x, index, out_size=()):
        # y[n, c, index[n, c, i]] = x[n, c, i], 0 elsewhere (index: (N, C, prod(L)) flat
        # positions in the output plane prod(O)). A repeated index keeps one of its values
        # (which, PyTorch leaves unspecified; a max pool repeats one only with the same value)
        # and each gets the gradient, as in PyTorch
        n, c = x.shape[:2]
        ctx.index, ctx.in_shape = index, x.shape
        y = backend.array_module(x).zeros((n, c, math.prod(out_size)), dtype=x.dtype)
        y[_along(index, 2)] = x.reshape(index.shape)
        return y.reshape((n, c) + out_size)

    @staticmethod
    def backward(ctx, g):
        # dx[n, c, i] = g[n, c, index[n, c, i]]
        flat = g.reshape(g.shape[:2] + (math.prod(g.shape[2:]),))
        dx = backend.array_module(g).take_along_axis(flat, ctx.index, -1)
        return dx.reshape(ctx.in_shape), None

    @staticmethod
    def backward_graph(ctx, g):
        flat = g.reshape(g.shape[:2] + (math.prod(g.shape[2:]),))
        return Gather.apply(flat, ctx.index, dim=2).reshape(ctx.in_shape), None


def _unpool_size(op: str, x: Tensor, options: tuple, nd: int) -> tuple[int, ...]:
    """The output's spatial size: PyTorch's ``(L - 1) * stride + kernel - 2 * padding`` per
    dim, or ``output_size`` (nd ints, or nd + 2 of which the last nd count) strictly within
    ``stride`` of it, as PyTorch checks."""
    kernel_size, stride, padding, output_size = options
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    default = stride is None or (isinstance(stride, (tuple, list)) and not stride)
    stride = kernel if default else _ints(op, "stride", stride, nd, 1)
    pads = _ints(op, "padding", padding, nd, 0)
    sizes = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(x.shape[2:], kernel, stride, pads))
    if output_size is not None:
        given = tuple(output_size) if _iterable(output_size) else (output_size,)
        given = given[2:] if len(given) == nd + 2 else given
        if len(given) != nd or not all(_is_int(v) for v in given):
            raise ValueError(
                f"{op}: output_size must be {nd} or {nd + 2} ints, got {output_size!r}"
            )
        for d, (want, size, s) in enumerate(zip(given, sizes, stride)):
            if not size - s < want < size + s:
                raise ValueError(
                    f"{op}: invalid output_size {tuple(given)}: dim {d} must be strictly "
                    f"between {size - s} and {size + s} (input of shape {tuple(x.shape)}, "
                    f"kernel {kernel}, stride {stride}, padding {pads})"
                )
        sizes = tuple(operator.index(v) for v in given)
    if any(o < 0 for o in sizes):
        raise ValueError(f"{op}: the output would have the negative size {sizes}")
    return sizes


def _max_unpool(op: str, nd: int, x: Tensor, indices: Tensor, options: tuple) -> Tensor:
    shown = tuple(x.shape)
    if not isinstance(indices, TensorBase) or indices.array.dtype != backend.int64:
        what = indices.array.dtype if isinstance(indices, TensorBase) else type(indices).__name__
        raise DTypeError(f"{op}: indices must be an int64 tensor, got {what}")
    if tuple(indices.shape) != shown:
        raise ShapeError(
            f"{op}: indices of shape {tuple(indices.shape)} must have the input's shape {shown}"
        )
    x, added = _batched(op, x, nd)
    out_size = _unpool_size(op, x, options, nd)
    lo, hi, _ = backend.int_range(indices.array)
    plane = math.prod(out_size)
    if lo <= hi and (lo < 0 or hi >= plane):
        raise IndexError(
            f"{op}: indices must lie in the output plane of size {out_size} ([0, {plane})), "
            f"got values in [{lo}, {hi}] (input and indices of shape {shown})"
        )
    n, c = x.shape[:2]
    index = indices.array.reshape((n, c, math.prod(x.shape[2:])))
    y = MaxUnpool.apply(x, index, out_size=out_size)
    return y.squeeze(0) if added else y


def max_unpool1d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Any = None,
) -> Tensor:
    """Max pooling's partial inverse: each value of ``input`` put at its position in
    ``indices`` (as ``max_pool1d(return_indices=True)`` gives them), zeros elsewhere.
    Shapes: input and indices (N, C, L) or (C, L) -> (N, C, L_out) with
    ``L_out = (L - 1) * stride + kernel_size - 2 * padding`` or ``output_size``."""
    options = (kernel_size, stride, padding, output_size)
    return _max_unpool("max_unpool1d", 1, input, indices, options)


def max_unpool2d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Any = None,
) -> Tensor:
    """Max pooling's partial inverse: each value put at its flat position ``h * W_out + w`` in
    ``indices``, zeros elsewhere. Shapes: input and indices (N, C, H, W) or (C, H, W) ->
    (N, C, H_out, W_out), each ``(L - 1) * stride + kernel_size - 2 * padding`` or as
    ``output_size``."""
    options = (kernel_size, stride, padding, output_size)
    return _max_unpool("max_unpool2d", 2, input, indices, options)


def max_unpool3d(
    input: Tensor,  # noqa: A002
    indices: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    output_size: Any = None,
) -> Tensor:
    """Max pooling's partial inverse: each value put at its flat position
    ``(d * H_out + h) * W_out + w`` in ``indices``, zeros elsewhere. Shapes: input and indices
    (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), each
    ``(L - 1) * stride + kernel_size - 2 * padding`` or as ``output_size``."""
    options = (kernel_size, stride, padding, output_size)
    return _max_unpool("max_unpool3d", 3, input, indices, options)


def _lp_pool(op: str, nd: int, x: Tensor, norm_type: float, options: tuple) -> Tensor:
    """PyTorch's ``lp_pool``: ``(sum over the window of x ** p) ** (1 / p)``, as
    ``(avg_pool(x ** p) * kernel numel) ** (1 / p)``; p = +-inf is the max (min) of ``|x|``."""
    kernel_size, stride, ceil_mode = options
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type == 0:
        raise ValueError(f"{op}: norm_type must be a nonzero number, got {norm_type!r}")
    if norm_type == math.inf:
        return _max_pool(op, nd, x.abs(), (kernel_size, stride, 0, 1, ceil_mode), False)
    if norm_type == -math.inf:
        return -_max_pool(op, nd, -x.abs(), (kernel_size, stride, 0, 1, ceil_mode), False)
    _batched(op, x, nd)  # the checks, against the input as given, before x ** p
    kernel = _ints(op, "kernel_size", kernel_size, nd, 1)
    mean = _avg_pool(op, nd, x**norm_type, (kernel, stride, 0, 1, ceil_mode), (True, None))
    # PyTorch's sign(s) * relu(|s|) is s whose gradient is 0 where s == 0: a window whose
    # p-th powers sum to zero passes no gradient (not 0 * the infinite slope of s ** (1/p))
    mean = masked_fill(mean, wrap(mean.array == 0), 0.0)
    return (mean * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average pooling: ``(sum over each window of x ** p) ** (1 / p)``, p =
    ``norm_type`` (inf: the max of ``|x|``). ``stride`` defaults to ``kernel_size``; no
    padding. Shapes: (N, C, L) or (C, L) -> (N, C, L_out)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, (kernel_size, stride, ceil_mode))


def lp_pool2d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average pooling: ``(sum over each window of x ** p) ** (1 / p)``, p =
    ``norm_type`` (inf: the max of ``|x|``). ``stride`` defaults to ``kernel_size``; no
    padding. Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, (kernel_size, stride, ceil_mode))


def lp_pool3d(
    input: Tensor,  # noqa: A002
    norm_type: float,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average pooling: ``(sum over each window of x ** p) ** (1 / p)``, p =
    ``norm_type`` (inf: the max of ``|x|``). ``stride`` defaults to ``kernel_size``; no
    padding. Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, (kernel_size, stride, ceil_mode))
