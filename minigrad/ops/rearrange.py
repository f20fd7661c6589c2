"""Ops that move elements around (issue 16): flip, roll, repeat, repeat_interleave, unflatten,
pad, diagonal, diagonal_scatter, diag, einsum.

``repeat``, ``repeat_interleave`` and ``unflatten`` are compositions of reshape, expand and
indexing (their gradients come from those); the others are primitives whose backward moves the
gradient back the way the forward moved the values.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``,
``ops.indexing``, ``ops.shape``; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.ops._util import ShapeError, half_in_float32, norm_dim, refuse_0d_dim
from minigrad.ops.indexing import ScatterAdd
from minigrad.ops.shape import where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# flip, roll
# =============================================================================================


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims=()):
        ctx.dims = dims
        return backend.array_module(x).flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        # dx = g flipped back
        return backend.array_module(g).flip(g, ctx.dims)

    @staticmethod
    def backward_graph(ctx, g):
        return Flip.apply(g, dims=ctx.dims)


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts=(), dims=None):
        ctx.shifts, ctx.dims = shifts, dims
        return backend.array_module(x).roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        # dx = g rolled back by -shifts
        return backend.array_module(g).roll(g, tuple(-s for s in ctx.shifts), ctx.dims)

    @staticmethod
    def backward_graph(ctx, g):
        return Roll.apply(g, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)


def _dims_arg(dims: Any) -> tuple[int, ...]:
    return (dims,) if isinstance(dims, int) else tuple(dims)


def flip(x: Tensor, dims: int | Sequence[int]) -> Tensor:
    """The elements in reverse order along each of ``dims``."""
    dims = tuple(norm_dim(d, x.ndim, x.shape) for d in _dims_arg(dims))
    if len(set(dims)) != len(dims):
        raise ValueError(f"flip: dims {dims} name a dim twice (shape {tuple(x.shape)})")
    return Flip.apply(x, dims=dims if x.ndim else ())


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted by ``shifts`` along ``dims``, wrapping around (the flattened tensor,
    shape kept, when ``dims`` is None)."""
    shifts = _dims_arg(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: without dims give one shift, got {shifts}")
        return Roll.apply(x.reshape(-1), shifts=shifts, dims=0).reshape(x.shape)
    refuse_0d_dim("roll", dims, x)
    dims = tuple(norm_dim(d, x.ndim, x.shape) for d in _dims_arg(dims))
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims ({shifts}, {dims})")
    return Roll.apply(x, shifts=shifts, dims=dims)


# =============================================================================================
# repeat, repeat_interleave, unflatten (compositions)
# =============================================================================================


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """``x`` tiled ``sizes[i]`` times along dim i (``torch.Tensor.repeat``; like ``numpy.tile``);
    ``sizes`` may have more entries than ``x`` has dims (new leading dims)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < x.ndim or any(s < 0 for s in sizes):
        raise ValueError(
            f"repeat: sizes {sizes} must be non-negative, one per dim at least (shape "
            f"{tuple(x.shape)})"
        )
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    # (n0, n1) -> (1, n0, 1, n1) -> expand to (s0, n0, s1, n1) -> (s0 n0, s1 n1)
    paired = tuple(v for n in shape for v in (1, n))
    spread = tuple(v for s, n in zip(sizes, shape) for v in (s, n))
    merged = tuple(s * n for s, n in zip(sizes, shape))
    return x.reshape(paired).expand(spread).reshape(merged)


@accepts_axis
def repeat_interleave(
    x: Tensor, repeats: int | Tensor | None = None, dim: int | None = None
) -> Tensor:
    """Each element repeated ``repeats`` times along ``dim`` (of the flattened tensor when
    None): ``[a, b]`` -> ``[a, a, b, b]``; ``repeats`` may be a tensor of one count per
    element. With ``x`` alone, a 1-D int tensor of counts: ``arange(len(x))`` repeated by it
    (``repeat_interleave(tensor([2, 0, 1]))`` is ``[0, 0, 2]``), as PyTorch."""
    if repeats is None:
        if x.ndim != 1 or x.dtype.kind not in "iu":
            raise ShapeError(
                "repeat_interleave: without repeats, the input holds the counts (1-D ints), "
                f"got shape {tuple(x.shape)} {x.dtype}"
            )
        xp = backend.array_module(x.array)
        positions = wrap(xp.arange(x.numel(), dtype=backend.int64))
        return repeat_interleave(positions, x, 0)
    if dim is None:
        x, dim = x.reshape(-1), 0
    refuse_0d_dim("repeat_interleave", dim, x)
    d = norm_dim(dim, x.ndim, x.shape)
    n = x.shape[d]
    if isinstance(repeats, TensorBase) and repeats.numel() == 1:
        repeats = int(repeats.item())
    if isinstance(repeats, int):
        if repeats < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        shape = tuple(x.shape)
        grown = x.unsqueeze(d + 1).expand(shape[: d + 1] + (repeats,) + shape[d + 1 :])
        return grown.reshape(shape[:d] + (n * repeats,) + shape[d + 1 :])
    counts = repeats.array if isinstance(repeats, TensorBase) else backend.asarray(repeats)
    if counts.ndim != 1 or counts.shape[0] != n or counts.dtype.kind not in "iu":
        raise ShapeError(
            f"repeat_interleave: repeats must be ints, one per element of dim {dim} (size {n}), "
            f"got shape {tuple(counts.shape)} {counts.dtype}"
        )
    if backend.int_range(counts)[0] < 0:
        raise ValueError("repeat_interleave: repeats must be non-negative")
    index = backend.repeat_positions(backend.to_device(counts, x.device))
    return x[(slice(None),) * d + (wrap(index),)]


@accepts_axis
def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1): (N, 6) -> (N, 2, 3)."""
    d = norm_dim(dim, x.ndim, x.shape)
    sizes = tuple(int(s) for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    n = x.shape[d]
    if (
        not sizes
        or sizes.count(-1) > 1
        or (-1 not in sizes and known != n)
        or (-1 in sizes and (known == 0 or n % known))
    ):
        raise ShapeError(
            f"unflatten: sizes {sizes} do not multiply to the size {n} of dim {dim} (shape "
            f"{tuple(x.shape)})"
        )
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return x.reshape(tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1 :]))


# =============================================================================================
# pad: constant, reflect, replicate, circular
# =============================================================================================


class PadConstant(Function):
    @staticmethod
    def forward(ctx, x, widths=(), value=0.0):
        # widths: one (before, after) per dim; negative widths crop
        src, dst, shape = _pad_windows(x.shape, widths)
        out = backend.array_module(x).full(shape, value, dtype=x.dtype)
        out[dst] = x[src]
        ctx.src, ctx.dst, ctx.in_shape = src, dst, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        # dx = g on the copied window, 0 on what was cropped
        dx = backend.array_module(g).zeros(ctx.in_shape, dtype=g.dtype)
        dx[ctx.src] = g[ctx.dst]
        return dx

    @staticmethod
    def backward_graph(ctx, g):
        # the window of g, padded with zeros back to the input's shape
        widths = tuple((w.start, n - w.stop) for w, n in zip(ctx.src, ctx.in_shape))
        return PadConstant.apply(g[ctx.dst], widths=widths, value=0.0)


class PadIndexed(Function):
    @staticmethod
    def forward(ctx, x, sources=()):
        # sources: per padded dim, (dim, the input position each output position copies)
        ctx.sources, ctx.in_shape = sources, x.shape
        xp = backend.array_module(x)
        for d, source in sources:
            x = xp.take(x, backend.to_device(source, backend.device_of(x)), axis=d)
        return x

    @staticmethod
    def backward(ctx, g):
        # dx = g added back to the positions each output copied (edges receive several)
        xp = backend.array_module(g)
        for d, source in reversed(ctx.sources):
            shape = g.shape[:d] + (ctx.in_shape[d],) + g.shape[d + 1 :]
            dx = xp.zeros(shape, dtype=g.dtype)
            where = (slice(None),) * d + (backend.to_device(source, backend.device_of(g)),)
            backend.scatter_add(dx, where, g)
            g = dx
        return g

    @staticmethod
    def backward_graph(ctx, g):
        xp = backend.array_module(g.array)
        for d, source in reversed(ctx.sources):
            shape = g.shape[:d] + (ctx.in_shape[d],) + g.shape[d + 1 :]
            zeros = wrap(xp.zeros(shape, dtype=g.dtype))
            where = backend.to_device(source, backend.device_of(g.array))
            index = xp.broadcast_to(where.reshape((-1,) + (1,) * (g.ndim - d - 1)), g.shape)
            g = ScatterAdd.apply(zeros, index, g, dim=d)
        return g


def _pad_windows(shape: tuple[int, ...], widths: tuple[tuple[int, int], ...]) -> Any:
    """For constant padding: the input window, the output window and the output shape."""
    src, dst, out = [], [], []
    for n, (lo, hi) in zip(shape, widths):
        size = n + lo + hi
        src.append(slice(max(-lo, 0), n - max(-hi, 0)))
        dst.append(slice(max(lo, 0), size - max(hi, 0)))
        out.append(size)
    return tuple(src), tuple(dst), tuple(out)


def _source_positions(n: int, lo: int, hi: int, mode: str) -> Any:
    """For each output position along a dim padded by (lo, hi), the input position it copies."""
    xp = backend.numpy_module()
    if mode == "circular":  # crop first (negative widths), then wrap around what is left
        start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + xp.arange(-max(lo, 0), kept + max(hi, 0)) % kept
    p = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(p, 0, n - 1)
    p = xp.abs(p)  # reflect about the first element, then about the last
    return xp.where(p > n - 1, 2 * (n - 1) - p, p)


def pad(
    x: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad ``x`` as ``torch.nn.functional.pad``: ``pad`` lists (before, after) widths from the
    LAST dim backwards, ``(left, right, top, bottom, ...)``.

    Modes: ``"constant"`` (``value``, default 0), ``"reflect"`` (mirror without repeating the
    edge: widths < the dim's size), ``"replicate"`` (repeat the edge) and
    ``"circular"`` (wrap around: widths <= the dim's size; negative widths crop first).
    Negative widths crop in every mode, as PyTorch.
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: the pad tuple {pad} must hold an even number of widths, two per dim at most "
            f"for the {x.ndim} dims of shape {tuple(x.shape)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        if any(s < 0 for s in shape):
            raise ValueError(f"pad: widths {pad} crop shape {tuple(x.shape)} below 0 ({shape})")
        return PadConstant.apply(x, widths=tuple(widths), value=0.0 if value is None else value)
    if mode not in _PAD_RULES:
        raise ValueError(
            f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}"
        )
    if value is not None and value != 0:
        raise ValueError(f"pad: value is only used in constant mode, not {mode!r}")
    sources = []
    for d, (lo, hi) in enumerate(widths):
        if lo == hi == 0:
            continue
        n = x.shape[d]
        fits, rule = _PAD_RULES[mode]
        if not fits(n, lo, hi):
            raise ValueError(
                f"pad: {mode} widths ({lo}, {hi}) for dim {d} of size {n} (shape "
                f"{tuple(x.shape)}) must be {rule}"
            )
        sources.append((d, _source_positions(n, lo, hi, mode)))
    return PadIndexed.apply(x, sources=tuple(sources))


#: per non-constant mode: which (size, before, after) it can pad, and that rule in words
_PAD_RULES = {
    # negative widths crop what the padding of the whole dim gives, as PyTorch
    "reflect": (
        lambda n, lo, hi: lo < n and hi < n and n + lo + hi > 0,
        "below the size, leaving a non-empty dim",
    ),
    "replicate": (
        lambda n, lo, hi: n > 0 and n + lo + hi > 0,
        "on a non-empty dim, leaving it non-empty",
    ),
    "circular": (
        lambda n, lo, hi: n - max(-lo, 0) - max(-hi, 0) >= max(lo, hi, 0),
        "at most the size left after any crop (wrapping around once)",
    ),
}


# =============================================================================================
# diagonal, diag
# =============================================================================================


def _diagonal_positions(rows: int, cols: int, offset: int, like: Any) -> tuple[Any, Any]:
    """Row and column indices of the ``offset`` diagonal of a (rows, cols) matrix, on the
    device of the array ``like``."""
    xp = backend.array_module(like)
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    start_row, start_col = max(-offset, 0), max(offset, 0)
    return xp.arange(start_row, start_row + n), xp.arange(start_col, start_col + n)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, x, offset=0, dim1=0, dim2=1, copy=False):
        ctx.args, ctx.in_shape = (offset, dim1, dim2), x.shape
        # the diagonal becomes the last dim; a view (writable) as PyTorch's diagonal, or a copy
        # as its diag
        out = backend.diagonal_view(x, offset, dim1, dim2)
        return out.copy() if copy else out

    @staticmethod
    def backward(ctx, g):
        # dx = zeros with g written back onto the diagonal
        return _diagonal_scatter(g, ctx.in_shape, ctx.args)

    @staticmethod
    def backward_graph(ctx, g):
        return DiagonalScatter.apply(g, in_shape=ctx.in_shape, args=ctx.args)


class DiagonalScatter(Function):
    """diagonal's gradient as an op of its own (zeros with ``g`` on the diagonal), so that it
    differentiates again: its gradient is the diagonal."""

    @staticmethod
    def forward(ctx, g, in_shape=(), args=(0, 0, 1)):
        ctx.args = args
        return _diagonal_scatter(g, in_shape, args)

    @staticmethod
    def backward(ctx, u):
        # dg = diagonal(u)
        offset, dim1, dim2 = ctx.args
        return backend.array_module(u).diagonal(u, offset, dim1, dim2).copy()

    @staticmethod
    def backward_graph(ctx, u):
        offset, dim1, dim2 = ctx.args
        return Diagonal.apply(u, offset=offset, dim1=dim1, dim2=dim2)


def _diagonal_scatter(g: Any, in_shape: tuple[int, ...], args: tuple[int, int, int]) -> Any:
    """Zeros of ``in_shape`` with ``g`` written onto the diagonal ``args`` = (offset, dim1, dim2)."""
    offset, dim1, dim2 = args
    xp = backend.array_module(g)
    dx = xp.zeros(in_shape, dtype=g.dtype)
    matrices = xp.moveaxis(dx, (dim1, dim2), (-2, -1))  # a view of dx
    rows, cols = _diagonal_positions(in_shape[dim1], in_shape[dim2], offset, g)
    matrices[..., rows, cols] = g
    return dx


class DiagEmbed(Function):
    @staticmethod
    def forward(ctx, x, offset=0):
        n = x.shape[0] + abs(offset)
        rows, cols = _diagonal_positions(n, n, offset, x)
        ctx.rows, ctx.cols, ctx.offset = rows, cols, offset
        out = backend.array_module(x).zeros((n, n), dtype=x.dtype)
        out[rows, cols] = x
        return out

    @staticmethod
    def backward(ctx, g):
        # dx = the diagonal of g
        return g[ctx.rows, ctx.cols]

    @staticmethod
    def backward_graph(ctx, g):
        return Diagonal.apply(g, offset=ctx.offset, dim1=0, dim2=1)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the matrices over dims ``dim1``, ``dim2``, as the last dim."""
    d1, d2 = norm_dim(dim1, x.ndim, x.shape), norm_dim(dim2, x.ndim, x.shape)
    if x.ndim < 2 or d1 == d2:
        raise ValueError(
            f"diagonal: needs two distinct dims of a tensor with 2 or more dims (dims {dim1}, "
            f"{dim2}, shape {tuple(x.shape)})"
        )
    return Diagonal.apply(x, offset=int(offset), dim1=d1, dim2=d2)


def diagonal_scatter(
    x: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """A copy of ``x`` whose ``offset`` diagonal over dims ``dim1``, ``dim2`` holds ``src``, as
    ``torch.diagonal_scatter``: ``src`` has the shape of ``diagonal(x, offset, dim1, dim2)``
    and x's dtype. Differentiable in both (dx = g off the diagonal, dsrc = its diagonal)."""
    picked = diagonal(x, offset, dim1, dim2)  # checks the dims
    if not isinstance(src, TensorBase) or tuple(src.shape) != tuple(picked.shape):
        got = tuple(src.shape) if isinstance(src, TensorBase) else type(src).__name__
        raise ShapeError(
            f"diagonal_scatter: src of shape {got} must have the shape {tuple(picked.shape)} of "
            f"the diagonal (offset {offset}, dims {dim1}, {dim2}) of self of shape "
            f"{tuple(x.shape)}"
        )
    if src.dtype != x.dtype:
        raise TypeError(f"diagonal_scatter: src ({src.dtype}) must have self's dtype ({x.dtype})")
    args = (int(offset), norm_dim(dim1, x.ndim, x.shape), norm_dim(dim2, x.ndim, x.shape))
    ones = backend.array_module(x.array).ones(picked.shape, dtype=bool)
    on_diagonal = wrap(_diagonal_scatter(ones, tuple(x.shape), args))
    # out = where(on the diagonal, src placed there, x)
    return where(on_diagonal, DiagonalScatter.apply(src, in_shape=tuple(x.shape), args=args), x)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-d ``x`` as the ``diagonal`` of a square matrix; of a 2-d ``x``, its ``diagonal``."""
    if x.ndim == 1:
        return DiagEmbed.apply(x, offset=int(diagonal))
    if x.ndim == 2:  # a copy, as PyTorch's diag (diagonal gives a view)
        return Diagonal.apply(x, offset=int(diagonal), dim1=0, dim2=1, copy=True)
    raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {tuple(x.shape)}")


# =============================================================================================
# einsum
# =============================================================================================


class Einsum(Function):
    @staticmethod
    def forward(ctx, *operands, inputs=(), output=""):
        # inputs: one subscript string per operand; output: the result's subscripts
        ctx.subscripts, ctx.out_subscripts = inputs, output
        ctx.save_for_backward(*operands)
        spec = ",".join(inputs) + "->" + output
        return backend.array_module(operands[0]).einsum(spec, *operands)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        # d operand_k = einsum(g and the other operands -> operand_k's subscripts): the sum of
        # g times the other factors over every index operand_k does not have
        return tuple(
            _einsum_grad(g, ctx.out_subscripts, operands, ctx.subscripts, k) if need else None
            for k, need in enumerate(ctx.needs_input_grad)
        )

    @staticmethod
    def backward_graph(ctx, g):
        operands = ctx.saved_tensors
        return tuple(
            _einsum_grad_graph(g, ctx.out_subscripts, operands, ctx.subscripts, k) if need else None
            for k, need in enumerate(ctx.needs_input_grad)
        )


def _einsum_grad(g: Any, output: str, operands: Any, inputs: Any, k: int) -> Any:
    xp = backend.array_module(g)
    subs, x = inputs[k], operands[k]
    sizes = dict(zip(subs, x.shape))
    letters = list(dict.fromkeys(subs))  # k's distinct indices, in order
    others = [(s, o) for i, (s, o) in enumerate(zip(inputs, operands)) if i != k]
    available = set(output).union(*(set(s) for s, _ in others))
    kept = "".join(c for c in letters if c in available)
    spec = ",".join([output] + [s for s, _ in others]) + "->" + kept
    grad = xp.einsum(spec, g, *[o for _, o in others])
    # indices only operand k has were summed away in the forward: the gradient is constant
    # along them
    full = grad.reshape([sizes[c] if c in kept else 1 for c in letters])
    full = xp.broadcast_to(full, [sizes[c] for c in letters])
    if len(letters) == len(subs):
        return xp.ascontiguousarray(xp.transpose(full, [letters.index(c) for c in subs]))
    # a repeated index (a diagonal, "ii->i"): write the gradient onto that diagonal
    dx = xp.zeros(x.shape, dtype=g.dtype)
    grids = [
        xp.arange(sizes[c]).reshape([-1 if j == i else 1 for j in range(len(letters))])
        for i, c in enumerate(letters)
    ]
    dx[tuple(grids[letters.index(c)] for c in subs)] = full
    return dx


def _einsum_grad_graph(g: Tensor, output: str, operands: Any, inputs: Any, k: int) -> Tensor:
    """:func:`_einsum_grad` in the graph: einsums, an expand, and for a repeated index an
    einsum with the identity that puts the gradient on the diagonal."""
    subs, x = inputs[k], operands[k]
    sizes = dict(zip(subs, x.shape))
    letters = list(dict.fromkeys(subs))
    others = [(s, o) for i, (s, o) in enumerate(zip(inputs, operands)) if i != k]
    available = set(output).union(*(set(s) for s, _ in others))
    kept = "".join(c for c in letters if c in available)
    grad = Einsum.apply(
        g, *[o for _, o in others], inputs=(output, *[s for s, _ in others]), output=kept
    )
    full = grad.reshape(tuple(sizes[c] if c in kept else 1 for c in letters))
    full = full.expand(tuple(sizes[c] for c in letters))
    # rename each repeated occurrence (ii -> iI) and join it to its index by the identity
    used = set("".join(inputs) + output)
    fresh = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    seen: set[str] = set()
    renamed, eyes = "", []
    for c in subs:
        if c in seen:
            new = next(fresh)
            eyes.append((c + new, _eye(sizes[c], x)))
            c = new
        seen.add(c)
        renamed += c
    return Einsum.apply(
        full,
        *[e for _, e in eyes],
        inputs=("".join(letters), *[s for s, _ in eyes]),
        output=renamed,
    )


def _eye(n: int, like: Tensor) -> Tensor:
    return wrap(backend.array_module(like.array).eye(n, dtype=like.dtype))


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """Explicit subscripts for each operand and the output, with ``...`` spelled out."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(
            f"einsum: the equation {equation!r} names {len(inputs)} operands, got {len(shapes)}"
        )
    used = set(equation) - set(".,->")
    free = iter(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    ellipsis_ndim = max(
        (len(shape) - len(s.replace("...", "")) for s, shape in zip(inputs, shapes) if "..." in s),
        default=0,
    )
    batch = "".join(next(free) for _ in range(max(ellipsis_ndim, 0)))
    expanded = []
    for s, shape in zip(inputs, shapes):
        if "..." in s:
            s = s.replace("...", batch[len(batch) - (len(shape) - len(s) + 3) :])
        if len(s) != len(shape) or (s and not s.isalpha()):
            raise ValueError(
                f"einsum: subscripts {s!r} do not fit an operand of shape {shape} ({equation!r})"
            )
        expanded.append(s)
    if arrow:
        output = rhs.replace("...", batch)
    else:
        counts = "".join(expanded)
        output = batch + "".join(
            sorted(c for c in set(counts) - set(batch) if counts.count(c) == 1)
        )
    return tuple(expanded), output


def _index_sizes(equation: str, inputs: Any, shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """Each index's size: one size across the operands, size 1 broadcasting, as PyTorch (an
    index repeated within one operand, a diagonal, needs one size there)."""
    sizes: dict[str, int] = {}
    for s, shape in zip(inputs, shapes):
        own: dict[str, int] = {}
        for c, n in zip(s, shape):
            m, first = sizes.setdefault(c, n), own.setdefault(c, n)
            if first != n or (m != n and 1 not in (m, n)):
                what = f"index {c!r}" if c in equation else "a dim covered by '...'"
                raise ShapeError(
                    f"einsum: {what} has size {first if first != n else m} and {n} in "
                    f"{equation!r} (operand shapes {shapes})"
                )
            sizes[c] = n if m == 1 else m
    return sizes


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)`` is a batched
    matmul. ``...`` stands for the leading dims; without ``->`` the output is the indices that
    appear once, sorted. Each index has one size across the operands, where size 1 broadcasts
    (inside ``...`` or not), as in PyTorch."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands or not all(isinstance(o, TensorBase) for o in operands):
        raise TypeError("einsum: expects an equation and one or more tensors")
    dtypes = {o.dtype for o in operands}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: operands have different dtypes {sorted(map(str, dtypes))}")
    if backend.float16 in dtypes:
        return half_in_float32(einsum, equation, *operands)
    inputs, output = _parse_einsum(equation, [tuple(o.shape) for o in operands])
    sizes = _index_sizes(equation, inputs, [tuple(o.shape) for o in operands])
    if set(output) - sizes.keys() or len(set(output)) != len(output):
        raise ValueError(f"einsum: output subscripts {output!r} are not valid for {equation!r}")
    # size-1 dims broadcast: expand them (expand's backward sums the gradient back)
    operands = tuple(
        o.expand(*full) if tuple(o.shape) != (full := tuple(sizes[c] for c in s)) else o
        for s, o in zip(inputs, operands)
    )
    return Einsum.apply(*operands, inputs=inputs, output=output)
