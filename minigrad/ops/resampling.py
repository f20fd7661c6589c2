"""Resampling: interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area),
pixel_shuffle / pixel_unshuffle, channel_shuffle, unfold / fold (``torch.nn.functional``'s
names, arguments, output sizes and errors).

Interpolation is separable: each spatial dim in turn, every output position a weighted sum of a
few input positions, its taps: ``y[o] = sum_t w[o, t] x[index[o, t]]`` along that dim (one tap
of weight 1 for nearest, two for linear, four for bicubic, each clamped inside the input).
PyTorch's source coordinates give the taps (``_linear_taps``, ``_cubic_taps``,
``_nearest_taps``); the op (``Resample``) is the same for every mode, and its gradient is its
adjoint, each ``g[o] w[o, t]`` added back at ``index[o, t]`` (``ResampleAdjoint``), each of the
two the other's gradient, so interpolation differentiates to any order. ``area`` is adaptive
average pooling, as PyTorch's.

``unfold`` is im2col, the windows of a convolution laid out as columns (``Unfold``, the strided
view ``backend.sliding_windows``), ``fold`` its adjoint, col2im, overlaps summed
(``Fold``, ``backend.add_windows``); again each the other's gradient. The shuffles are views
and permutes of the channels, composed from ``reshape`` and ``permute``.

Shapes: (N, C, *L) with one to three spatial dims L; unfold (N, C, H, W) or (C, H, W) ->
(N, C * kH * kW, L), fold the reverse.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``,
``ops.conv``; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, NamedTuple

from minigrad import backend
from minigrad.autograd import Function
from minigrad.errors import DTypeError
from minigrad.ops._util import ShapeError
from minigrad.ops.conv import (
    Geometry,
    _adaptive_avg_pool,
    _ints,
    _is_int,
    _iterable,
    _pad,
)

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


# =============================================================================================
# the op: a few weighted taps per output position along one dim, and its adjoint
# =============================================================================================


class Taps(NamedTuple):
    """Along ``axis`` (input size ``size``), output position o reads ``index[o, t]`` with weight
    ``weight[o, t]``: (out, T) int64 and (out, T) float, or ``weight`` None for one tap of
    weight 1 (nearest: a gather, any dtype)."""

    axis: int
    size: int
    index: Any
    weight: Any


def _rows(x: Any, axis: int) -> tuple[Any, tuple[int, ...]]:
    """``x`` with ``axis`` first and the other dims flattened: (L, D), and their shape."""
    moved = backend.array_module(x).moveaxis(x, axis, 0)
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:])), moved.shape[1:]


def _unrows(rows: Any, rest: tuple[int, ...], axis: int) -> Any:
    return backend.array_module(rows).moveaxis(rows.reshape(rows.shape[:1] + rest), 0, axis)


def resample(x: Any, taps: Taps) -> Any:
    """y[..., o, ...] = sum_t weight[o, t] x[..., index[o, t], ...] along ``taps.axis``."""
    rows, rest = _rows(x, taps.axis)  # (L, D)
    if taps.weight is None:
        return _unrows(rows[taps.index[:, 0]], rest, taps.axis)
    y = taps.weight[:, :1] * rows[taps.index[:, 0]]  # the taps added in PyTorch's order
    for t in range(1, taps.index.shape[1]):
        y += taps.weight[:, t : t + 1] * rows[taps.index[:, t]]
    return _unrows(y, rest, taps.axis)  # (out, D) back in place


def resample_adjoint(g: Any, taps: Taps) -> Any:
    """dx[..., i, ...] = sum over (o, t) with index[o, t] = i of weight[o, t] g[..., o, ...]:
    each output's gradient added back where it read (``backend.index_rows_add``)."""
    rows, rest = _rows(g, taps.axis)  # (out, D)
    weight = 1 if taps.weight is None else taps.weight[..., None]
    dx = backend.index_rows_add(taps.size, taps.index, weight * rows[:, None, :])  # (L, D)
    return _unrows(dx, rest, taps.axis)


class Resample(Function):
    @staticmethod
    def forward(ctx, x, taps=None):
        ctx.taps = taps
        return resample(x, taps)

    @staticmethod
    def backward(ctx, g):
        # dx[i] = sum_{o, t: index[o, t] = i} w[o, t] g[o]  (the adjoint: a scatter-add)
        return resample_adjoint(g, ctx.taps)

    @staticmethod
    def backward_graph(ctx, g):
        return ResampleAdjoint.apply(g, taps=ctx.taps)


class ResampleAdjoint(Function):
    """dx = the adjoint of ``Resample`` applied to g; linear in g."""

    @staticmethod
    def forward(ctx, g, taps=None):
        ctx.taps = taps
        return resample_adjoint(g, taps)

    @staticmethod
    def backward(ctx, h):
        # dg[o] = sum_t w[o, t] h[index[o, t]]  (the adjoint of the adjoint: the resampling)
        return resample(h, ctx.taps)

    @staticmethod
    def backward_graph(ctx, h):
        return Resample.apply(h, taps=ctx.taps)


# =============================================================================================
# the taps: PyTorch's source coordinates (aten/src/ATen/native/UpSample.h)
# =============================================================================================


def _scale(n: int, out: int, align_corners: bool, factor: float | None, dtype: Any) -> Any:
    """PyTorch's ``area_pixel_compute_scale``: the input step per output step, in ``dtype``."""
    real = backend.numpy_module().dtype(dtype).type
    if align_corners:
        return real(n - 1) / real(out - 1) if out > 1 else real(0)
    if factor is not None and factor > 0:
        return real(1.0 / factor)
    return real(n) / real(out)


def _source(n: int, out: int, options: tuple, dtype: Any, cubic: bool) -> tuple[Any, Any]:
    """Each output position's source coordinate (``area_pixel_compute_source_index``), split
    as PyTorch's ``guard_index_and_lambda``: the index below it, capped at n - 1, and the
    fraction past it in [0, 1]."""
    align_corners, factor = options
    np = backend.numpy_module()
    scale = _scale(n, out, align_corners, factor, dtype)
    o = np.arange(out).astype(dtype)
    if align_corners:
        real = scale * o
    else:  # half-pixel centers; linear clamps at 0, cubic reads past the edge (clamped below)
        real = scale * (o + dtype(0.5)) - dtype(0.5)
        real = real if cubic else np.maximum(real, dtype(0))
    index = np.minimum(np.floor(real).astype(np.int64), n - 1)
    return index, np.clip(real - index.astype(dtype), dtype(0), dtype(1))


def _linear_taps(n: int, out: int, options: tuple, dtype: Any) -> tuple[Any, Any]:
    """Two taps: x[i] (1 - t) + x[i + 1] t, i + 1 capped at n - 1."""
    np = backend.numpy_module()
    index, frac = _source(n, out, options, dtype, cubic=False)
    after = index + (index < n - 1)
    return np.stack([index, after], 1), np.stack([1 - frac, frac], 1)


A = -0.75  # PyTorch's bicubic: Keys' kernel with a = -0.75, as OpenCV


def _cubic_taps(n: int, out: int, options: tuple, dtype: Any) -> tuple[Any, Any]:
    """Four taps i - 1 .. i + 2, clamped inside the input (the border repeated), with the
    weights of PyTorch's ``get_cubic_upsample_coefficients``."""
    np = backend.numpy_module()
    index, t = _source(n, out, options, dtype, cubic=True)
    a = dtype(A)

    def near(x: Any) -> Any:  # |x| <= 1: ((a + 2) x - (a + 3)) x^2 + 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Any) -> Any:  # 1 < |x| < 2: ((a x - 5a) x + 8a) x - 4a
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = dtype(1)
    weight = np.stack([far(t + one), near(t), near(one - t), far(2 * one - t)], 1)
    taps = np.clip(index[:, None] + np.arange(-1, 3), 0, n - 1)
    return taps, weight.astype(dtype)


def _nearest_taps(n: int, out: int, factor: float | None, exact: bool) -> Any:
    """One tap: PyTorch's ``nearest_idx`` (floor(o * scale)) or ``nearest_exact_idx``
    (floor((o + 1/2) * scale)), in float32 as PyTorch computes them, capped at n - 1;
    same size and double size exact."""
    np = backend.numpy_module()
    o = np.arange(out)
    if not exact and out == n:
        return o[:, None]
    if not exact and out == 2 * n:
        return (o >> 1)[:, None]
    scale = np.float32(1.0 / factor) if factor is not None and factor > 0 else np.float32(n) / out
    if exact:  # (o + 0.5) * scale in double, rounded to float, as floorf's argument
        real = ((o + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        real = o.astype(np.float32) * scale
    return np.minimum(np.floor(real).astype(np.int64), n - 1)[:, None]


KERNELS = {  # antialiasing filters, and how many input steps each spans when not stretched
    # PyTorch's aa_filter's: the triangle, Keys' cubic with a = -0.5 (PIL's), Lanczos-3
    "bilinear": (lambda x: backend.numpy_module().maximum(1 - x, 0), 2),
    "bicubic": (lambda x: _keys(x, -0.5), 4),
    "lanczos": (lambda x: _lanczos(x, 3), 6),
}


def _keys(x: Any, a: float) -> Any:
    """Keys' cubic kernel at |x|: 1 - (a + 3) x^2 + (a + 2) x^3 within 1, then
    a (x^3 - 5 x^2 + 8 x - 4) within 2, 0 past it."""
    np = backend.numpy_module()
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0))


def _lanczos(x: Any, a: int) -> Any:
    """sinc(x) sinc(x / a) within a, 0 past it (normalized sinc)."""
    np = backend.numpy_module()
    return np.where(x < a, np.sinc(x) * np.sinc(x / a), 0)


def _antialias_taps(n: int, out: int, options: tuple, mode: str) -> tuple[Any, Any]:
    """PyTorch's ``_compute_weights_aa`` (PIL's resampling): output i is centered at
    ``scale (i + 1/2)``; when shrinking (scale > 1) the filter is stretched by the scale, so
    that every input position it covers contributes; the taps inside the input are
    renormalized to sum to 1 (no border clamping)."""
    np = backend.numpy_module()
    align_corners, factor, dtype = options
    scale = _scale(n, out, align_corners, factor, dtype)
    kernel, span = KERNELS[mode]
    support = span * 0.5 * scale if scale >= 1 else span * 0.5
    invscale = 1.0 / scale if scale >= 1 else 1.0
    width = math.ceil(support) * 2 + 1
    center = (scale * (np.arange(out) + 0.5)).astype(dtype)[:, None]
    first = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    count = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n) - first
    j = np.arange(width)
    index = first + j  # (out, width)
    weight = kernel(np.abs((index - center + 0.5) * invscale))
    weight = np.where(j < np.clip(count, 0, width), weight, 0)
    total = weight.sum(1, keepdims=True)
    weight = np.where(total != 0, weight / np.where(total != 0, total, 1), weight)
    return np.minimum(index, n - 1), weight.astype(dtype)


def interpolation_taps(x: Any, sizes: tuple, mode: str, options: tuple) -> list[Taps]:
    """The taps of each spatial dim of ``x`` (N, C, *L) resampled to ``sizes``: one ``Taps``
    per dim, in order. ``options``: (align_corners, scale factors or None, antialias)."""
    align_corners, factors, antialias = options
    np = backend.numpy_module()
    # PyTorch's opmath type: the coordinates of a float16 input in float32
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    device = backend.device_of(x)
    taps = []
    for dim, (n, out) in enumerate(zip(x.shape[2:], sizes)):
        factor = None if factors is None else factors[dim]
        if mode in ("nearest", "nearest-exact"):
            index, weight = _nearest_taps(n, out, factor, mode == "nearest-exact"), None
        elif antialias:
            index, weight = _antialias_taps(n, out, (align_corners, factor, dtype), mode)
        else:
            make = _cubic_taps if mode == "bicubic" else _linear_taps
            index, weight = make(n, out, (align_corners, factor), dtype)
        if weight is not None:
            weight = backend.to_device(weight.astype(x.dtype), device)
        taps.append(Taps(2 + dim, n, backend.to_device(index, device), weight))
    return taps


# =============================================================================================
# interpolate: PyTorch's argument checks, then one Resample per dim
# =============================================================================================

MODES = {  # mode -> the spatial dims it takes (None: any of 1 to 3)
    "nearest": None,
    "nearest-exact": None,
    "area": None,
    "linear": 1,
    "bilinear": 2,
    "trilinear": 3,
    "bicubic": 2,
    "lanczos": 2,  # antialias only
}
_MODE_LIST = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _check_mode(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    """PyTorch's refusals, in its order: align_corners outside the linear modes, antialias,
    a mode this many spatial dims cannot take."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError(
            "interpolate: align_corners option can only be set with the interpolating modes: "
            f"linear | bilinear | bicubic | trilinear (got mode={mode!r})"
        )
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or x.ndim != 4):
        raise ValueError(
            "interpolate: antialias=True is restricted to the bilinear, bicubic and lanczos "
            f"modes and a 4-D input, got mode={mode!r} and an input of shape {tuple(x.shape)}"
        )
    if mode == "lanczos" and not antialias:
        raise ValueError("interpolate: mode 'lanczos' requires antialias=True")
    if mode == "lanczos" and align_corners:
        raise ValueError("interpolate: mode 'lanczos' does not support align_corners=True")
    nd = x.ndim - 2
    wants = MODES.get(mode, 0)
    if mode not in MODES or nd not in (1, 2, 3) or (wants is not None and wants != nd):
        expected = {1: "3D", 2: "4D", 3: "5D"}.get(wants, "3D, 4D or 5D")
        raise NotImplementedError(
            f"interpolate: mode {mode!r} needs a {expected} input (N, C, *spatial), got "
            f"{x.ndim}D input of shape {tuple(x.shape)} (modes: {_MODE_LIST})"
        )


def _per_dim(name: str, value: Any, nd: int, shape: tuple) -> tuple:
    if not _iterable(value):
        return (value,) * nd
    value = tuple(value)
    if len(value) != nd:
        raise ValueError(
            f"interpolate: input and {name} must have the same number of spatial dimensions, "
            f"but got input of shape {shape} (spatial dims {list(shape[2:])}) and {name} "
            f"{value}; give the input as (N, C, d1, ..., dK) and {name} as K values"
        )
    return value


def _output_size(x: Tensor, size: Any, scale_factor: Any, recompute: bool | None) -> tuple:
    """(sizes, scale factors or None), as PyTorch's interpolate works them out: an explicit
    ``size``, or each ``floor(L * scale_factor)``, the factors then kept for the source
    coordinates unless ``recompute_scale_factor``."""
    nd, shape = x.ndim - 2, tuple(x.shape)
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if recompute and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with a size")
    if size is not None:
        sizes = _per_dim("size", size, nd, shape)
        if not all(_is_int(s) for s in sizes):
            raise TypeError(
                f"interpolate: size must be an int or a tuple of ints, got {size!r} "
                f"(types {[type(s).__name__ for s in sizes]})"
            )
        return tuple(operator.index(s) for s in sizes), None
    factors = tuple(float(f) for f in _per_dim("scale_factor", scale_factor, nd, shape))
    sizes = tuple(math.floor(n * f) for n, f in zip(shape[2:], factors))
    return sizes, None if recompute else factors


def _check_sizes(x: Tensor, sizes: tuple) -> None:
    shape = tuple(x.shape)
    if 0 in shape[1:]:  # PyTorch's: only the batch may be empty
        raise ShapeError(
            f"interpolate: input of shape {shape} is empty: only the batch dim may be 0"
        )
    if any(s < 1 for s in sizes):
        raise ShapeError(
            f"interpolate: input and output sizes should be greater than 0, but got input of "
            f"shape {shape} and output size {sizes}"
        )


def interpolate(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample ``input`` (N, C, *L), one to three spatial dims, to ``size`` or to
    ``floor(L * scale_factor)``: (N, C, *size).

    Modes as PyTorch's: ``"nearest"`` (PyTorch's floor(o * scale), not the centered one),
    ``"nearest-exact"`` (floor((o + 1/2) * scale)), ``"linear"`` (3-D input), ``"bilinear"``
    (4-D), ``"bicubic"`` (4-D, a = -0.75, the border repeated), ``"trilinear"`` (5-D),
    ``"area"`` (adaptive average pooling). ``align_corners`` (linear modes only): the corner
    pixels' centers map onto each other, the scale factor then unused; without it the
    factor, when given, sets the source coordinates unless ``recompute_scale_factor``.
    ``antialias=True`` (bilinear, bicubic with a = -0.5, and ``"lanczos"``, which needs it;
    4-D only): a downscale's filter widened by the scale, PIL's resampling, as PyTorch's.
    """
    _check_mode(input, mode, align_corners, antialias)
    if mode not in ("nearest", "nearest-exact", "area"):
        align_corners = bool(align_corners)
    if mode == "area" and size is None:
        recompute_scale_factor = True  # PyTorch's: area needs a size
    sizes, factors = _output_size(input, size, scale_factor, recompute_scale_factor)
    if mode != "nearest" and mode != "nearest-exact" and input.array.dtype.kind != "f":
        raise DTypeError(
            f"interpolate: mode {mode!r} expects a floating point input, got {input.dtype} "
            f"(shape {tuple(input.shape)})"
        )
    _check_sizes(input, sizes)
    if mode == "area":
        op = f"adaptive_avg_pool{input.ndim - 2}d"
        return _adaptive_avg_pool(op, input.ndim - 2, input, sizes)
    y = input
    options = (align_corners, factors, antialias)
    for taps in interpolation_taps(input.array, sizes, mode, options):
        y = Resample.apply(y, taps=taps)
    return y


def upsample(
    input: Tensor,  # noqa: A002
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated name for :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,  # noqa: A002
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
) -> Tensor:
    """``interpolate(input, size, scale_factor, mode="nearest")`` (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,  # noqa: A002
    size: int | tuple[int, ...] | None = None,
    scale_factor: float | tuple[float, ...] | None = None,
) -> Tensor:
    """``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``
    (PyTorch's deprecated name; note the corners aligned). Shapes: (N, C, H, W) only."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# =============================================================================================
# pixel_shuffle, pixel_unshuffle, channel_shuffle: reshapes and permutes of the channels
# =============================================================================================


def _factor(op: str, name: str, value: Any) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"{op}: expects a positive int {name}, got {value!r}")
    return operator.index(value)


def _at_least_3d(op: str, x: Tensor) -> None:
    if x.ndim < 3:
        raise ShapeError(
            f"{op}: expects an input of at least 3 dims (*, C, H, W), got shape {tuple(x.shape)}"
        )


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange channels into space: (*, C r^2, H, W) -> (*, C, H r, W r), with r =
    ``upscale_factor``; ``out[..., c, h r + i, w r + j] = in[..., c r^2 + i r + j, h, w]``."""
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    _at_least_3d("pixel_shuffle", input)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(
            f"pixel_shuffle: the channel dim (size(-3) = {c}, input of shape "
            f"{tuple(input.shape)}) must be divisible by upscale_factor ** 2 = {r * r}"
        )
    lead, k = tuple(lead), len(lead)
    y = input.reshape(lead + (c // (r * r), r, r, h, w))  # (*, C, i, j, H, W)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, i, W, j)
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """Rearrange space into channels, pixel_shuffle's inverse: (*, C, H r, W r) ->
    (*, C r^2, H, W), with r = ``downscale_factor``."""
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    _at_least_3d("pixel_unshuffle", input)
    *lead, c, h, w = input.shape
    for name, n in (("height", h), ("width", w)):
        if n % r:
            raise ShapeError(
                f"pixel_unshuffle: the {name} ({n}, input of shape {tuple(input.shape)}) must "
                f"be divisible by downscale_factor = {r}"
            )
    lead, k = tuple(lead), len(lead)
    y = input.reshape(lead + (c, h // r, r, w // r, r))  # (*, C, H, i, W, j)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, i, j, H, W)
    return y.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """Interleave the channel groups: (N, C, *) with the channels seen as (groups, C / groups)
    transposed to (C / groups, groups) (ShuffleNet). Shapes: (N, C, *) -> (N, C, *)."""
    if not _is_int(groups) or groups < 1:
        raise ValueError(f"channel_shuffle: the number of groups must be positive, got {groups!r}")
    if input.ndim < 3:
        raise ShapeError(
            f"channel_shuffle: expects an input of more than 2 dims (N, C, *), got shape "
            f"{tuple(input.shape)}"
        )
    n, c, *rest = input.shape
    if c % groups:
        raise ShapeError(
            f"channel_shuffle: the number of channels ({c}, input of shape "
            f"{tuple(input.shape)}) must be divisible by groups = {groups}"
        )
    y = input.reshape((n, groups, c // groups, *rest)).transpose(1, 2)
    return y.reshape(tuple(input.shape))


# =============================================================================================
# unfold (im2col) and fold (col2im), each the other's adjoint
# =============================================================================================


def unfold_columns(x: Any, geo: Geometry) -> Any:
    """cols[n, (c, *k), o] = x_pad[n, c, o * stride + k * dilation]:
    (N, C, *L) -> (N, C * prod(K), prod(O))."""
    n, c, nd = x.shape[0], x.shape[1], len(geo.kernel)
    windows = backend.sliding_windows(_pad(x, geo.padding), geo.kernel, geo.stride, geo.dilation)
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))  # (N, C, *K, *O)
    rows = c * math.prod(geo.kernel)
    return windows.transpose(order).reshape(n, rows, math.prod(geo.out_size))


def fold_columns(cols: Any, geo: Geometry) -> Any:
    """x[n, c, p] = sum of cols[n, (c, *k), o] over the (k, o) with o * stride + k * dilation
    = p + padding (col2im): (N, C * prod(K), prod(O)) -> (N, C, *L)."""
    xp, nd, n = backend.array_module(cols), len(geo.kernel), cols.shape[0]
    c = cols.shape[1] // math.prod(geo.kernel)
    windows = cols.reshape((n, c) + geo.kernel + geo.out_size)
    windows = windows.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))  # a view
    padded = tuple(s + a + b for s, (a, b) in zip(geo.size, geo.padding))
    x = xp.zeros((n, c) + padded, dtype=cols.dtype)
    backend.add_windows(x, windows, geo.stride, geo.dilation)
    crop = tuple(slice(a, a + s) for s, (a, _) in zip(geo.size, geo.padding))
    return x[(slice(None),) * 2 + crop]


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, geo=None):
        ctx.geo = geo
        return unfold_columns(x, geo)

    @staticmethod
    def backward(ctx, g):
        # dx = fold(g): each column's gradient added back where its window read
        return fold_columns(g, ctx.geo)

    @staticmethod
    def backward_graph(ctx, g):
        return Fold.apply(g, geo=ctx.geo)


class Fold(Function):
    @staticmethod
    def forward(ctx, cols, geo=None):
        ctx.geo = geo
        return fold_columns(cols, geo)

    @staticmethod
    def backward(ctx, g):
        # dcols = unfold(g): each column reads the gradient where it was added
        return unfold_columns(g, ctx.geo)

    @staticmethod
    def backward_graph(ctx, g):
        return Unfold.apply(g, geo=ctx.geo)


def _window_geometry(op: str, size: tuple, options: tuple) -> Geometry:
    """Unfold's and fold's windows over a plane of ``size``: kernel_size, dilation, padding,
    stride (each an int or a pair), PyTorch's order."""
    kernel_size, dilation, padding, stride = options
    kernel = _ints(op, "kernel_size", kernel_size, 2, 1)
    dilation = _ints(op, "dilation", dilation, 2, 1)
    pads = _ints(op, "padding", padding, 2, 0)
    stride = _ints(op, "stride", stride, 2, 1)
    return Geometry(size, kernel, stride, dilation, tuple((p, p) for p in pads))


def _describe(geo: Geometry) -> str:
    return (
        f"kernel_size={geo.kernel}, dilation={geo.dilation}, "
        f"padding={tuple(p for p, _ in geo.padding)}, stride={geo.stride}"
    )


def unfold(
    input: Tensor,  # noqa: A002
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """im2col: every sliding window of ``input`` as a column. Shapes: (N, C, H, W) or
    (C, H, W) -> (N, C * kH * kW, L), L = the number of windows, ``prod((H + 2 padding -
    dilation (k - 1) - 1) // stride + 1)``; rows ordered (c, kh, kw), columns row-major."""
    shape = tuple(input.shape)
    if input.ndim not in (3, 4) or 0 in shape[-3:]:
        raise ShapeError(
            f"unfold: expects a 3-D (C, H, W) or 4-D (N, C, H, W) input with non-empty C, H, "
            f"W, got shape {shape}"
        )
    if input.array.dtype.kind != "f":
        raise DTypeError(f"unfold: expects a floating point input, got {input.dtype}")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    geo = _window_geometry("unfold", tuple(x.shape[2:]), (kernel_size, dilation, padding, stride))
    if any(o < 1 for o in geo.out_size):
        raise ShapeError(
            f"unfold: input of shape {shape} has {geo.out_size} windows ({_describe(geo)}): "
            "need at least one per dim"
        )
    cols = Unfold.apply(x, geo=geo)
    return cols.squeeze(0) if input.ndim == 3 else cols


def fold(
    input: Tensor,  # noqa: A002
    output_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """col2im, unfold's adjoint: each column added back onto the window it came from,
    overlaps summed. Shapes: (N, C * kH * kW, L) or (C * kH * kW, L) -> (N, C, *output_size),
    L the number of windows of an ``output_size`` plane."""
    shape = tuple(input.shape)
    if input.ndim not in (2, 3) or 0 in shape[-2:]:
        raise ShapeError(
            f"fold: expects a 2-D (C * kH * kW, L) or 3-D (N, C * kH * kW, L) input with "
            f"non-empty dims past the batch, got shape {shape}"
        )
    if input.array.dtype.kind != "f":
        raise DTypeError(f"fold: expects a floating point input, got {input.dtype}")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    size = _ints("fold", "output_size", output_size, 2, 1)
    geo = _window_geometry("fold", size, (kernel_size, dilation, padding, stride))
    kernel = math.prod(geo.kernel)
    if x.shape[1] % kernel:
        raise ShapeError(
            f"fold: input of shape {shape}: its dim {x.ndim - 2} ({x.shape[1]}) must be "
            f"divisible by the kernel's size {geo.kernel} = {kernel}"
        )
    if x.shape[2] != math.prod(geo.out_size) or any(o < 1 for o in geo.out_size):
        raise ShapeError(
            f"fold: input of shape {shape} has {x.shape[2]} columns, but output_size={size}, "
            f"{_describe(geo)} give {geo.out_size[0]} * {geo.out_size[1]} windows"
        )
    y = Fold.apply(x, geo=geo)
    return y.squeeze(0) if input.ndim == 2 else y
