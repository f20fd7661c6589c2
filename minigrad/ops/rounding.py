"""Sign, rounding, remainder and floor division (issue 16): sign floor ceil round trunc
(gradient 0, as PyTorch), ``%`` and ``//`` with Python's sign conventions.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``promotion``, ``ops._util``,
``ops.elementwise``; ``tensor`` for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.ops.elementwise import _binary, floor_divide_floats, int_operand, refuse_bool
from minigrad.promotion import dtype_range, result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# Sign and rounding (issue 16): sign floor ceil round trunc; their gradient is 0, as PyTorch
# =============================================================================================


class _Piecewise(Function):
    """A piecewise constant function of ``a``: its gradient is 0 wherever it exists."""

    @staticmethod
    def backward(ctx, g):
        # da = 0
        return backend.array_module(g).zeros_like(g)

    @staticmethod
    def backward_graph(ctx, g):
        return g * 0.0


class Sign(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        # -1, 0 or 1; NaN gives 0, as PyTorch (NumPy keeps NaN)
        xp = backend.array_module(a)
        return xp.where(xp.isnan(a), 0, xp.sign(a)).astype(a.dtype, copy=False)


class Floor(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return backend.array_module(a).floor(a)


class Ceil(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return backend.array_module(a).ceil(a)


class Round(_Piecewise):
    @staticmethod
    def forward(ctx, a, decimals=0):
        # half to even, as PyTorch
        return backend.array_module(a).around(a, decimals)


class Trunc(_Piecewise):
    @staticmethod
    def forward(ctx, a):
        return backend.array_module(a).trunc(a)


def _rounding(op: type[Function], a: Tensor, **options: Any) -> Tensor:
    """Integer tensors are already whole: returned as they are (a copy), as PyTorch; bool
    tensors are refused, as PyTorch ("floor" not implemented for 'Bool')."""
    if a.dtype.kind != "f":
        if a.dtype.kind == "b":
            name = op.__name__.lower()
            raise NotImplementedError(
                f"{name} is not implemented for bool tensors, as in PyTorch (a bool tensor of "
                f"shape {tuple(a.shape)}); cast it with .long() or .float() first"
            )
        return wrap(a.array.copy())
    return op.apply(a, **options)


def sign(a: Tensor) -> Tensor:
    """Elementwise -1, 0 or 1 (0 for NaN, as PyTorch); gradient 0."""
    if a.dtype == backend.bool_:
        return wrap(a.array.copy())
    return Sign.apply(a)


def floor(a: Tensor) -> Tensor:
    """Elementwise largest integer <= a; gradient 0."""
    return _rounding(Floor, a)


def ceil(a: Tensor) -> Tensor:
    """Elementwise smallest integer >= a; gradient 0."""
    return _rounding(Ceil, a)


def round(a: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 (PyTorch's name)
    """Elementwise rounding to ``decimals`` places, halves to even (as PyTorch); gradient 0."""
    return _rounding(Round, a, decimals=int(decimals))


def trunc(a: Tensor) -> Tensor:
    """Elementwise rounding toward zero; gradient 0."""
    return _rounding(Trunc, a)


# =============================================================================================
# Remainder and floor division (issue 16)
# =============================================================================================


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        # Python's sign convention: the result has the sign of the divisor (NumPy's mod too)
        with backend.quiet():  # a float % 0 is NaN, as PyTorch
            return backend.array_module(a if not isinstance(a, (int, float)) else b).mod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = backend.array_module(g)
        # a % b = a - (a // b) * b:  da = g ; db = -g * (a // b), the forward's own quotient
        # (floor(a / b) rounds 3 / 0.001 up to 3000 where a // b is 2999), as PyTorch
        with backend.quiet():
            db = -g * floor_divide_floats(xp, a, b) if ctx.needs_input_grad[1] else None
        return g, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.saved_tensors
        return g, (-g * floor_divide(a, b) if ctx.needs_input_grad[1] else None)


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b`` with Python's sign convention (the sign of ``b``), as ``torch.remainder``;
    integer division by zero raises ZeroDivisionError."""
    _int_divisor_check("remainder", a, b)
    return refuse_bool("remainder", _binary(Remainder, a, b), a, b)


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: the quotient rounded toward -inf (``torch.floor_divide``); gradient 0.
    Integer division by zero raises ZeroDivisionError; an infinite float divided by a finite
    one gives NaN, as PyTorch (``inf - fmod(inf, b)`` is NaN there; NumPy gives inf)."""
    _int_divisor_check("floor_divide", a, b)
    if _is_integer(a) and _is_integer(b):
        ta = a if isinstance(a, TensorBase) else b
        xp = backend.array_module(ta.array)
        # PyTorch's result type (a 0-d int64 divisor keeps an int32 tensor int32; NumPy widens)
        dtype = result_type(a, b)
        arrays = [
            x.array.astype(dtype, copy=False) if isinstance(x, TensorBase) else x for x in (a, b)
        ]
        low, high = dtype_range(dtype) if dtype.kind != "b" else (0, 1)
        for x in (a, b):
            if x.__class__ is int and not low <= x <= high:
                int_operand("floor_divide", x, dtype, wraps=False)  # raises, naming them
        out = wrap(backend.ensure_array(xp.floor_divide(*arrays), ta.array))
        return refuse_bool("floor_divide", out, a, b)
    return _binary(FloorDivide, a, b)


class FloorDivide(Function):
    @staticmethod
    def forward(ctx, a, b):
        xp = backend.array_module(a if not isinstance(a, (int, float)) else b)
        with backend.quiet():  # x // 0 is +-inf or NaN, as PyTorch
            return floor_divide_floats(xp, a, b)

    @staticmethod
    def backward(ctx, g):
        # da = db = 0 (piecewise constant)
        zeros = backend.array_module(g).zeros_like(g)
        return zeros, zeros

    @staticmethod
    def backward_graph(ctx, g):
        return g * 0.0, g * 0.0


def _is_integer(x: Any) -> bool:
    return isinstance(x, int) or (isinstance(x, TensorBase) and x.dtype.kind in "biu")


def _int_divisor_check(op: str, a: Any, b: Any) -> None:
    """Integer division by zero: PyTorch raises, NumPy silently gives 0."""
    if not (_is_integer(a) and _is_integer(b)):
        return
    if isinstance(a, TensorBase) and not a.array.size:  # nothing is divided, as PyTorch
        return
    if isinstance(b, TensorBase):
        if bool((b.array == 0).any()):  # one device read
            raise ZeroDivisionError(
                f"{op}: integer division by zero (the divisor of shape {tuple(b.shape)} holds a 0)"
            )
    elif b == 0:
        raise ZeroDivisionError(f"{op}: integer division by zero")
