"""Conversions: dtype casts, device copies and clones (differentiable), and comparisons (not).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``, ``tensor``.
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd import Function
from minigrad.promotion import result_type
from minigrad.tensor import Tensor


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        # dx = g cast back to x's dtype
        return g.astype(ctx.in_dtype)


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.in_device = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        # dx = g copied back to x's device
        return backend.to_device(g, ctx.in_device)


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        # dx = g
        return g


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` (``x`` itself when it already is); the gradient is cast back."""
    if x.array.dtype == dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor._wrap(x.array.astype(dtype))  # an integer result has no gradient
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
    first, other = a.array, b.array if isinstance(b, Tensor) else b
    if isinstance(b, Tensor):
        if b.device != a.device:
            raise RuntimeError(
                f"{name}: tensors on {a.device} and {b.device}; move them to one device"
            )
        if first.dtype != other.dtype:  # compared in PyTorch's result type, not NumPy's
            dtype = result_type(a, b)
            first, other = first.astype(dtype, copy=False), other.astype(dtype, copy=False)
    return Tensor._wrap(backend.ensure_array(getattr(xp, name)(first, other), a.array))


def logical_not(a: Tensor) -> Tensor:
    """Elementwise not of a bool tensor."""
    if a.dtype != backend.bool_:
        raise TypeError(f"~ needs a bool tensor, got {a.dtype}")
    return Tensor._wrap(backend.array_module(a.array).logical_not(a.array))


def logical(a: Tensor, b: Tensor, name: str) -> Tensor:
    """Elementwise and/or of bool tensors."""
    if a.dtype != backend.bool_ or not isinstance(b, Tensor) or b.dtype != backend.bool_:
        raise TypeError(
            f"{name} needs bool tensors, got {a.dtype} and {getattr(b, 'dtype', type(b).__name__)}"
        )
    return Tensor._wrap(getattr(backend.array_module(a.array), name)(a.array, b.array))
