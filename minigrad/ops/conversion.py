"""Conversions: dtype casts, device copies and clones (differentiable), and comparisons (not).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``; ``tensor``
for annotations only.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.aliases import accepts_axis
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.ops._util import describe_operand, norm_dims
from minigrad.promotion import dtype_range, require_64_bit_int, result_type, wrapped_int

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        with backend.quiet():  # past float16's range: inf; NaN or inf to an int: as PyTorch
            return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        # dx = g cast back to x's dtype
        return g.astype(ctx.in_dtype)

    @staticmethod
    def backward_graph(ctx, g):
        return Cast.apply(g, dtype=ctx.in_dtype)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        # dx = g copied back to x's device
        return backend.to_device(g, ctx.in_device)

    @staticmethod
    def backward_graph(ctx, g):
        return ToDevice.apply(g, device=ctx.in_device)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        # dx = g
        return g

    backward_graph = backward  # dx = g, a Tensor as well


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` (``x`` itself when it already is); the gradient is cast back."""
    if x.array.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return wrap(x.array.astype(dtype))  # an integer result has no gradient
    return Cast.apply(x, dtype=dtype)


def to_device(x: Tensor, device: str) -> Tensor:
    """``x`` on ``device`` (``x`` itself when it is there already)."""
    if x.device == device:
        return x
    return ToDevice.apply(x, device=device)


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` with its own memory."""
    return Clone.apply(x)


def compare(a: Tensor, b: Any, name: str) -> Tensor:
    """Elementwise comparison (``numpy.less`` and friends by ``name``); a bool tensor, no gradient."""
    xp = backend.array_module(a.array)
    first, other = a.array, b.array if isinstance(b, TensorBase) else b
    if isinstance(b, TensorBase):
        if b.device != a.device:
            raise RuntimeError(
                f"{name}: tensors on {a.device} and {b.device}; move them to one device"
            )
        if first.dtype != other.dtype:  # compared in PyTorch's result type, not NumPy's
            dtype = result_type(a, b)
            first, other = first.astype(dtype, copy=False), other.astype(dtype, copy=False)
    elif other.__class__ is int:  # beyond 64 bits: refused, as PyTorch (NumPy compares it)
        require_64_bit_int(name, other, first.dtype)
    return wrap(backend.ensure_array(getattr(xp, name)(first, other), a.array))


def logical_not(a: Tensor) -> Tensor:
    """Elementwise not of a bool tensor."""
    if a.dtype != backend.bool_:
        raise TypeError(f"~ needs a bool tensor, got {a.dtype}")
    return wrap(backend.array_module(a.array).logical_not(a.array))


def logical(a: Tensor, b: Tensor, name: str) -> Tensor:
    """Elementwise and/or of bool tensors."""
    if a.dtype != backend.bool_ or not isinstance(b, TensorBase) or b.dtype != backend.bool_:
        raise TypeError(
            f"{name} needs bool tensors, got {a.dtype} and {getattr(b, 'dtype', type(b).__name__)}"
        )
    return wrap(getattr(backend.array_module(a.array), name)(a.array, b.array))


def bitwise(a: Any, b: Any, name: str) -> Tensor:
    """Elementwise ``&``, ``|``, ``^``, ``<<``, ``>>`` (``name``: NumPy's ``bitwise_and``,
    ``bitwise_or``, ``bitwise_xor``, ``left_shift``, ``right_shift``) of integer or bool tensors
    and Python ints or bools, in PyTorch's result type; no gradient. A shift by a negative count
    or by the dtype's width or more gives 0 (-1 for ``>>`` of a negative value), as PyTorch."""
    for x in (a, b):
        # Python and NumPy integers (numbers.Integral) count as scalars, as in PyTorch
        integral = isinstance(x, numbers.Integral)
        kind = x.dtype.kind if isinstance(x, TensorBase) else "b" if integral else "?"
        if kind not in "biu":
            what = x.dtype if isinstance(x, TensorBase) else type(x).__name__
            raise TypeError(
                f"{name} needs integer or bool tensors (or Python ints), got {what} (operands: "
                f"{describe_operand(a)} and {describe_operand(b)})"
            )
    dtype = result_type(a, b)
    if dtype == backend.bool_ and name in ("left_shift", "right_shift"):
        raise TypeError(
            f"{name} of two bools is not defined (as PyTorch): {describe_operand(a)}, {b!r}"
        )
    like = (a if isinstance(a, TensorBase) else b).array
    xp = backend.array_module(like)
    if dtype.kind != "b":
        a, b = _int_operands(name, a, b, dtype)
    x, y = (xp.asarray(v.array if isinstance(v, TensorBase) else v, dtype=dtype) for v in (a, b))
    if name in ("left_shift", "right_shift"):
        out = _shift(xp, x, y, name, dtype)
    else:
        out = getattr(xp, name)(x, y)
    return wrap(backend.ensure_array(out, like))


def _int_operands(name: str, a: Any, b: Any, dtype: Any) -> tuple[Any, Any]:
    """Python ints outside ``dtype``'s range made to fit, as PyTorch: a value wrapped modulo
    2**bits (exact for &, |, ^ and <<), a shift count beyond the width clamped to it (the
    result is the same: every bit shifted out)."""
    low, high = dtype_range(dtype)
    if b.__class__ is int and not low <= b <= high:
        if name in ("left_shift", "right_shift"):  # (-1 fits no unsigned dtype: the width then)
            width = dtype.itemsize * 8
            b = width if b < 0 and dtype.kind == "u" else max(-1, min(b, width))
        else:
            b = wrapped_int(name, b, dtype)
    if a.__class__ is int and not low <= a <= high:
        a = wrapped_int(name, a, dtype)
    return a, b


def _shift(xp: Any, x: Any, y: Any, name: str, dtype: Any) -> Any:
    """``x << y`` or ``x >> y``; counts outside [0, width) shift everything out, as PyTorch."""
    bits = dtype.itemsize * 8
    inside = (y >= 0) & (y < bits)
    out = getattr(xp, name)(x, xp.where(inside, y, 0).astype(dtype, copy=False))
    fill = x >> (bits - 1) if name == "right_shift" and dtype.kind == "i" else xp.zeros_like(x)
    return xp.where(inside, out, fill).astype(dtype, copy=False)


def bitwise_not(a: Tensor) -> Tensor:
    """Elementwise ``~``: bitwise not of an integer tensor, logical not of a bool tensor."""
    if not isinstance(a, TensorBase) or a.dtype.kind not in "biu":
        raise TypeError(f"~ needs an integer or bool tensor, got {describe_operand(a)}")
    return wrap(backend.ensure_array(backend.array_module(a.array).invert(a.array), a.array))


# =============================================================================================
# Value tests (issue 16): isnan isinf isfinite isclose allclose any all; bool, no gradient
# =============================================================================================


def _test(a: Tensor, name: str) -> Tensor:
    arr = a.array
    if arr.dtype.kind != "f":  # integers and bools are finite, never NaN nor inf
        xp = backend.array_module(arr)
        return wrap(xp.full(arr.shape, name == "isfinite", dtype=backend.bool_))
    return wrap(backend.ensure_array(getattr(backend.array_module(arr), name)(arr), arr))


def isnan(a: Tensor) -> Tensor:
    """Elementwise: is it NaN? A bool tensor, no gradient."""
    return _test(a, "isnan")


def isinf(a: Tensor) -> Tensor:
    """Elementwise: is it +inf or -inf? A bool tensor, no gradient."""
    return _test(a, "isinf")


def isfinite(a: Tensor) -> Tensor:
    """Elementwise: is it neither NaN nor infinite? A bool tensor, no gradient."""
    return _test(a, "isfinite")


def isclose(
    a: Tensor, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (equal infinities are close; NaN only with
    ``equal_nan``), with broadcasting; a bool tensor, no gradient."""
    other = b.array if isinstance(b, TensorBase) else b
    if isinstance(b, TensorBase):
        if b.device != a.device:
            raise RuntimeError(f"isclose: tensors on {a.device} and {b.device}")
        if (a.dtype == backend.bool_) != (b.dtype == backend.bool_) or (
            a.dtype.kind == "f" and b.dtype.kind == "f" and a.dtype != b.dtype
        ):
            raise TypeError(f"isclose: {a.dtype} and {b.dtype} differ; convert one first")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol ({rtol}) and atol ({atol}) must be non-negative")
    xp = backend.array_module(a.array)
    close = xp.isclose(a.array, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return wrap(backend.ensure_array(close, a.array))


def allclose(
    a: Tensor, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether every element of ``a`` is close to ``b`` (see :func:`isclose`); a Python bool."""
    return bool(isclose(a, b, rtol, atol, equal_nan).array.all())


# any and all live here rather than in reductions, whose code uses the builtins of these names


@accepts_axis
def any(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether some element over ``dim`` is nonzero (all dims when None); bool (uint8 for a
    uint8 tensor, as PyTorch), no gradient."""
    return _logical_reduce(x, dim, keepdim, "any")


@accepts_axis
def all(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``dim`` is nonzero (all dims when None); bool (uint8 for a
    uint8 tensor, as PyTorch), no gradient."""
    return _logical_reduce(x, dim, keepdim, "all")


def _logical_reduce(x: Tensor, dim: Any, keepdim: bool, name: str) -> Tensor:
    dims = norm_dims(dim, x.ndim, x.shape)
    arr = x.array  # no gradient: the answer is a bool
    if isinstance(dim, (tuple, list)) and not dim:
        out = arr != 0  # an empty tuple of dims reduces nothing in PyTorch's any and all
    else:
        out = getattr(arr, name)(axis=dims, keepdims=keepdim)
    if arr.dtype == backend.uint8:  # PyTorch answers a uint8 tensor in uint8 (0 or 1)
        out = out.astype(backend.uint8)
    return wrap(backend.ensure_array(out, arr))
