"""Elementwise ops: arithmetic with broadcasting, unary math, activations, max/min, clamp.

Each class holds the forward and, right below it, the gradient. Binary ops broadcast as
NumPy does; their backward returns gradients of the broadcast shape and the engine sums them
back to each input's shape. A Python scalar operand stays a weak constant: ``x * 2.0`` keeps
``x``'s dtype and gets no gradient.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``; ``tensor``
for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.errors import DTypeError, ScalarOverflowError
from minigrad.ops._util import (
    ShapeError,
    as_tensor_like,
    broadcast_shape,
    describe_operand,
    half_in_float32,
    require_float,
)
from minigrad.ops.conversion import cast
from minigrad.promotion import (
    checked_scalar,
    dtype_range,
    float_result_type,
    require_64_bit_int,
    result_type,
    scalar_result_type,
    tensors_result_type,
    wrapped_int,
)

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# Arithmetic
# =============================================================================================


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        # da = g ; db = g
        return g, g

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except TypeError:  # NumPy refuses two bools; its message names no minigrad function
            if _BOOL in (getattr(a, "dtype", None), getattr(b, "dtype", None)):
                _refuse_bool_sub(a, b)
            raise

    @staticmethod
    def backward(ctx, g):
        # da = g ; db = -g
        return g, (-g if ctx.needs_input_grad[1] else None)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # only what the wanted gradients read, as PyTorch: `y[:, 0] = y[:, 0] * 2` then needs
        # no old value of y, so the write does not fail the backward
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g * b ; db = g * a
        return (
            g * b if ctx.needs_input_grad[0] else None,
            g * a if ctx.needs_input_grad[1] else None,
        )

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)  # as Mul: what is read
        with backend.quiet():  # x / 0 is +-inf, 0 / 0 NaN: as PyTorch, without a warning
            return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g / b ; db = -g * a / b^2
        da = g / b
        return da, (-da * a / b if ctx.needs_input_grad[1] else None)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            with backend.quiet():  # 0^(negative) is inf, (negative)^0.5 NaN: as PyTorch
                out = a**b
        except ValueError:  # NumPy refuses integers to negative integer powers: PyTorch's rule
            out = backend.integer_power(a, b)
        # out serves the exponent's gradient only: none for a number (nor does PyTorch save it)
        ctx.save_for_backward(a, b, None if isinstance(b, (int, float)) else out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = backend.array_module(g)
        da = db = None
        with backend.quiet():  # 0^(negative) is inf, log(0) is -inf: as PyTorch
            if ctx.needs_input_grad[0]:
                # da = g * b * a^(b-1), 0 where b = 0 (as PyTorch, also at a = 0)
                if isinstance(b, (int, float)):
                    da = g * (b * a ** (b - 1) if b != 0 else 0.0)
                else:
                    da = g * xp.where(b == 0, 0, b * a ** (b - 1))
            if ctx.needs_input_grad[1]:
                # db = g * a^b * log(a), 0 where a = 0 and b >= 0 (as PyTorch)
                if isinstance(a, (int, float)):
                    log_a = math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
                    db = g * (out * log_a if a != 0 else xp.where(b >= 0, 0, out * log_a))
                else:
                    db = g * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
        return da, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b, out = ctx.saved_tensors  # Tensors, or Python scalars
        da = db = None
        with backend.quiet():
            if ctx.needs_input_grad[0]:
                # da = g * b * a^(b-1), 0 where b = 0
                if isinstance(b, (int, float)):
                    da = g * (b * a ** (b - 1)) if b != 0 else g * 0.0
                else:
                    # masked, not multiplied by (b != 0): 0 * a^(-1) is NaN at a = 0
                    da = g * (b * a ** (b - 1)).masked_fill(wrap(b.array == 0), 0.0)
            if ctx.needs_input_grad[1]:
                # db = g * a^b * log(a), 0 where a = 0 and b >= 0
                if isinstance(a, (int, float)):
                    log_a = math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan)
                    db = g * (out * log_a) if a != 0 else g * out * 0.0
                else:
                    zero = (a.array == 0) & (b.array >= 0 if isinstance(b, TensorBase) else b >= 0)
                    # log(1) where a = 0 and b >= 0; log(0) = -inf where b < 0 (out = inf)
                    db = g * out * (a + zero).log() * ~zero
        return da, db


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        try:
            return -a
        except TypeError:  # NumPy refuses a bool array, naming NumPy
            raise DTypeError(
                f"neg: negation, the `-` operator, on a bool tensor is not supported, as in "
                f"PyTorch (shape {tuple(a.shape)}); use `~` to invert a mask"
            ) from None

    @staticmethod
    def backward(ctx, g):
        # da = -g
        return -g

    backward_graph = backward  # operators only: the same formula runs on Tensors


_SCALARS = (bool, int, float)
_BOOL = backend.bool_
# NumPy rounds a Python number to a float16 tensor's dtype before the op. So does PyTorch for
# most ops, but its CPU kernels multiply and divide a float16 tensor by a number in float32
# (their opmath type), rounding the result once: 0.001 * 1e5 is 100.06, not inf (1e5 is no
# float16); _binary sends those through float32 (``_OPMATH_OPS``, defined below the ops)
_HALF = backend.float16


def _binary(op: type[Function], a: Any, b: Any, **options: Any) -> Tensor:
    """Apply a binary op to tensors or a tensor and a Python scalar, with clear shape errors;
    the operands are first cast to PyTorch's result type (``minigrad.promotion``)."""
    if isinstance(a, TensorBase):
        if isinstance(b, TensorBase):
            x, y = a.array, b.array
            if x.shape != y.shape:
                _check_broadcast(op, a, b)
            if x.dtype != y.dtype:
                if op is Sub and "b" in (x.dtype.kind, y.dtype.kind):
                    _refuse_bool_sub(a, b)
                dtype = tensors_result_type(x.dtype, x.ndim > 0, y.dtype, y.ndim > 0)
                a, b = cast(a, dtype), cast(b, dtype)
        elif b.__class__ in _SCALARS:
            if a.array.dtype.kind != "f":  # else the tensor's float dtype wins (a weak scalar)
                a, b = _with_scalar(op, a, b, scalar_first=False)
            elif a.array.dtype is _HALF and op in _OPMATH_OPS:  # x * v, x / v: in float32
                return half_in_float32(_binary, op, a, b)
            elif op in _CONSTANT_OPERAND:
                b = backend.constant(b, a.array)  # checks an int's 64 bits as it caches it
            elif (b.__class__ is int and not backend.fits_64_bits(b)) or a.array.dtype is _HALF:
                b = _float_tensor_operand(op, a, b)  # pow, remainder...: refused or checked
        else:
            return _binary(op, a, as_tensor_like(b, a), **options)
    elif a.__class__ in _SCALARS:
        if b.array.dtype.kind != "f":  # else the tensor's float dtype wins (a weak scalar)
            b, a = _with_scalar(op, b, a, scalar_first=True)
        elif b.array.dtype is _HALF and op in _OPMATH_OPS and not (op is Div and a == 1):
            if op is Div:  # v / x: PyTorch's reciprocal(x) * v, the product in float32
                return _binary(Mul, _binary(Div, 1, b), a)
            return half_in_float32(_binary, op, a, b)
        elif op in _CONSTANT_OPERAND:
            a = backend.constant(a, b.array)
        elif a.__class__ is int:
            require_64_bit_int(op.__name__.lower(), a, b.array.dtype)
    else:
        return _binary(op, as_tensor_like(a, b), b, **options)
    # only a rounded div has options: a call with an empty **options costs ~0.1 us more
    return op.apply(a, b, **options) if options else op.apply(a, b)


# Ops whose Python-number operand of a float tensor becomes ``backend.constant`` (the same
# value as a cached 0-d array of the tensor's dtype, which NumPy combines with a small array in
# half the time of a Python number: 8x8 float32 ``x * 2``, 0.23 us against 0.53). The others
# keep the number (``Pow``'s backward tells a scalar exponent by its class).
_CONSTANT_OPERAND = (Add, Sub, Mul, Div)
_OPMATH_OPS = (Mul, Div)  # a float16 tensor with a Python number: in float32, as PyTorch


def _float_tensor_operand(op: type[Function], t: Tensor, s: Any) -> Any:
    """The Python number ``s`` as an operand of ``op`` (not +, -, *, /) with the float tensor
    ``t``, as PyTorch: an int beyond 64 bits refused, and a float16 tensor's exponent outside
    float16's range (``half ** 1e6``), where NumPy gives inf or 1."""
    if s.__class__ is int:
        require_64_bit_int(op.__name__.lower(), s, t.array.dtype)
    if op is Pow and t.array.dtype is _HALF:
        s = checked_scalar("pow", s, _HALF)
    return s


def _with_scalar(op: type[Function], t: Tensor, s: Any, scalar_first: bool) -> tuple[Tensor, Any]:
    """``t`` cast to the result type of ``t`` and the Python scalar ``s`` (an integer tensor and
    a float give the default float, as PyTorch); NumPy then keeps that dtype (a weak scalar).
    And ``s``, an int outside an integer result type's range taken modulo 2**bits (PyTorch's
    rule) where that is exact (``_wraps``), else refused. ``t`` is an integer or bool tensor."""
    dtype = t.array.dtype
    if op is Sub and dtype.kind == "b":
        _refuse_bool_sub(*((s, t) if scalar_first else (t, s)))
    dtype = scalar_result_type(dtype, s.__class__)
    if s.__class__ is int and dtype.kind != "f":
        low, high = dtype_range(dtype)
        if not low <= s <= high:
            name = "div" if op is RoundedDiv else op.__name__.lower()
            s = int_operand(name, s, dtype, _wraps(op, scalar_first))
    return cast(t, dtype), s


def _wraps(op: type[Function], scalar_first: bool) -> bool:
    """Whether an out-of-range Python int may be wrapped into the dtype for ``op``: +, - and *
    are arithmetic modulo 2**bits, so wrapping the operand first gives the same result as
    wrapping the exact result (as does the base of ``**``, a product)."""
    return op in (Add, Sub, Mul) or (op is Pow and scalar_first)


def int_operand(op: str, value: int, dtype: Any, wraps: bool) -> int:
    """A Python int outside the integer ``dtype``'s range, as an operand of ``op``: wrapped into
    the range (``wraps``: as PyTorch, exact for +, -, *, the bitwise ops and the base of
    ``**``), else refused: PyTorch wraps it there too (int8 ``100 // 300`` gives 2, ``100 % 300``
    12), a result that is not the operation's, or refuses it (an exponent)."""
    if wraps:
        return wrapped_int(op, value, dtype)
    low, high = dtype_range(dtype)
    raise ScalarOverflowError(
        f"{op}: the Python int {value} is outside the range of the {dtype} tensor ({low} to "
        f"{high}); cast the tensor to a wider dtype first"
    )


def _refuse_bool_sub(a: Any, b: Any) -> None:
    """PyTorch refuses ``-`` with a bool tensor operand (NumPy: only two bools)."""
    raise DTypeError(
        f"sub: subtraction, the `-` operator, with a bool operand is not supported, as in "
        f"PyTorch (operands: {describe_operand(a)} and {describe_operand(b)}); use `^` "
        f"(logical xor) for two bools, `~` to invert a bool tensor, or cast it with .long() first"
    )


def _check_broadcast(op: type[Function], a: Tensor, b: Tensor) -> None:
    sa, sb = a.array.shape, b.array.shape
    for x, y in zip(reversed(sa), reversed(sb)):
        if x != y and x != 1 and y != 1:
            raise ShapeError(
                f"{op.__name__.lower()}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast "
                f"together (size {x} vs {y})"
            )


def add(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    return _binary(Add, a, _scaled("add", a, b, alpha))


def sub(a: Any, b: Any, alpha: Any = 1) -> Tensor:
    """``a - alpha * b`` with broadcasting. A bool operand (a tensor or a Python bool) is
    refused, as in PyTorch."""
    if a.__class__ is bool or b.__class__ is bool:  # x - True: PyTorch refuses even for floats
        _refuse_bool_sub(a, b)
    return _binary(Sub, a, _scaled("sub", a, b, alpha))


def _scaled(op: str, a: Any, b: Any, alpha: Any) -> Any:
    """``alpha * b`` for add/sub's ``alpha`` (a Python product when ``b`` is a number). As
    PyTorch, ``alpha`` goes into the result's dtype by the checked conversion: an integer or
    bool result refuses a float ``alpha``, any result one outside its range (300 for int8, 1e6
    for float16), and a bool result takes ``bool(alpha)`` (``a + 2 * b`` is ``a or b``)."""
    if alpha == 1:
        return b
    floats = isinstance(a, TensorBase) and a.array.dtype.kind == "f" and a.array.dtype.itemsize > 2
    if floats and (alpha.__class__ not in _SCALARS or backend.fits_64_bits(alpha)):
        dtype = None  # the usual case: float32/64 hold any alpha within 64-bit ints unchecked
    else:
        dtype = result_type(a, b)
    if dtype is not None and alpha.__class__ in _SCALARS:
        if alpha.__class__ is float and dtype.kind in "iub":
            raise DTypeError(
                f"{op}: for integral input tensors, alpha must not be a floating point number, "
                f"as in PyTorch; got alpha={alpha!r} with {describe_operand(a)} and "
                f"{describe_operand(b)}"
            )
        alpha = checked_scalar(op, alpha, dtype)  # raises for alpha=300 with int8 operands
        if dtype.kind == "b":
            alpha = bool(alpha)
    return mul(b, alpha) if isinstance(b, TensorBase) else b * alpha


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    return _binary(Mul, a, b)


def floor_divide_floats(xp: Any, a: Any, b: Any) -> Any:
    """``a // b`` of floats as PyTorch (and Python): ``floor((a - fmod(a, b)) / b)``, so
    ``1.0 // 0.1`` is 9, not ``floor(1.0 / 0.1)`` = 10, ``-1 // inf`` is -1, and an infinite
    ``a`` over a finite ``b`` is NaN (NumPy gives inf there). A quotient past the dtype's range
    is +-inf without NumPy's overflow warning (PyTorch warns nothing)."""
    with backend.quiet():
        out = backend.floor_divide(a, b)
    return xp.where(xp.isinf(a) & xp.isfinite(b) & (b != 0), xp.nan, out).astype(
        out.dtype, copy=False
    )


class RoundedDiv(Function):
    @staticmethod
    def forward(ctx, a, b, mode):
        xp = backend.array_module(a if not isinstance(a, (int, float)) else b)
        if xp.result_type(a, b).kind == "f":
            with backend.quiet():  # x / 0 is +-inf or NaN, as PyTorch
                return xp.trunc(a / b) if mode == "trunc" else floor_divide_floats(xp, a, b)
        q = xp.floor_divide(a, b)
        if mode == "trunc":  # floor rounds down where the signs differ: one up there
            q = q + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)))
        return q

    @staticmethod
    def backward(ctx, g):
        # da = db = 0: a step function of a and b (PyTorch's gradient too)
        zero = backend.array_module(g).zeros_like(g)
        return zero, zero

    @staticmethod
    def backward_graph(ctx, g):
        return g * 0.0, g * 0.0


def div(a: Any, b: Any, rounding_mode: str | None = None) -> Tensor:
    """``a / b`` with broadcasting. True division (``rounding_mode=None``): integer inputs give
    the default float. ``"trunc"`` rounds toward zero, ``"floor"`` down, in the inputs' result
    type (integers stay integers); their gradient is zero."""
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"{rounding_mode!r}"
            )
        from minigrad.ops.rounding import _int_divisor_check  # noqa: PLC0415 (it imports this)

        _int_divisor_check("div", a, b)  # integers: ZeroDivisionError, as PyTorch (NumPy: 0)
        return refuse_bool("div", _binary(RoundedDiv, a, b, mode=rounding_mode), a, b)
    if not (_float_or_scalar(a) and _float_or_scalar(b)):  # else _binary's promotion is enough
        dtype = float_result_type(a, b)
        if isinstance(a, TensorBase) and a.array.dtype != dtype:
            a = cast(a, dtype)
        if isinstance(b, TensorBase) and b.array.dtype != dtype:
            b = cast(b, dtype)
    return _binary(Div, a, b)


def _float_or_scalar(x: Any) -> bool:
    """A floating point tensor or a Python scalar: an operand that true division need not cast
    (integer and bool tensors become the default float first)."""
    return x.__class__ in _SCALARS or (isinstance(x, TensorBase) and x.array.dtype.kind == "f")


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 (PyTorch's name)
    """``a ** b`` with broadcasting. Integers to negative integer powers, as PyTorch: a Python
    int exponent raises; an integer tensor exponent gives 1 for a base of 1, +-1 for -1, 0
    otherwise (where NumPy refuses). Two bool operands raise NotImplementedError, as PyTorch,
    except a bool tensor to a Python bool power (bool, as PyTorch)."""
    if b.__class__ is int and b < 0 and isinstance(a, TensorBase) and a.array.dtype.kind in "biu":
        raise ValueError(
            "pow: Integers to negative integer powers are not allowed. "
            f"(a {a.dtype} tensor of shape {tuple(a.shape)} to the power {b})"
        )
    out = _binary(Pow, a, b)
    if b.__class__ is bool and out.array.dtype == backend.int8 and a.array.dtype is _BOOL:
        return cast(out, _BOOL)  # PyTorch: a bool tensor to a Python bool power stays bool
    return refuse_bool("pow", out, a, b)


def refuse_bool(op: str, out: Tensor, a: Any, b: Any) -> Tensor:
    """``out``, unless both operands are bool: NumPy gives int8 for ``**``, ``//``, ``%`` and a
    rounded ``div`` of two bools, PyTorch refuses them ("pow" not implemented for 'Bool'). The
    check costs one comparison: only a bool or int8 operand gives an int8 result."""
    if out.array.dtype == backend.int8 and result_type(a, b) == backend.bool_:
        raise NotImplementedError(
            f"{op} is not implemented for two bool operands, as in PyTorch "
            f"({describe_operand(a)} and {describe_operand(b)}); cast them to an integer dtype "
            "with .long() first"
        )
    return out


def neg(a: Tensor) -> Tensor:
    """``-a``."""
    return Neg.apply(a)


# =============================================================================================
# Unary math
# =============================================================================================


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # past the float's range: inf, as PyTorch
            out = backend.array_module(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * exp(a)
        return g * out

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # log(0) is -inf, of a negative NaN: as PyTorch
            return backend.array_module(a).log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / a
        return g / a

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # of a negative: NaN, as PyTorch
            out = backend.array_module(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g / (2 sqrt(a))
        return g / (2 * out)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * sign(a), where sign is 0 at 0 and at NaN (as PyTorch's sgn)
        return g * backend.array_module(a).subtract(a > 0, a < 0, dtype=g.dtype)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * sign(a): sign is a constant, so the second derivative is 0
        return g * backend.array_module(a.array).subtract(a.array > 0, a.array < 0, dtype=g.dtype)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.array_module(a).tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * (1 - tanh(a)^2)
        return g * (1 - out * out)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        # 0.5 (1 + tanh(a/2)) equals 1 / (1 + exp(-a)) and never overflows
        out = 0.5 * (1 + backend.array_module(a).tanh(0.5 * a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * s * (1 - s)
        return g * out * (1 - out)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.array_module(a).maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g where relu(a) > 0 or is NaN, else 0 (PyTorch passes the gradient at NaN);
        # a product with the mask, as np.where is many times slower on a random mask
        return g * ~(out <= 0)

    @staticmethod
    def backward_graph(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * mask, the mask a constant (second derivative 0)
        return g * ~(out.array <= 0)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class Gelu(Function):
    @staticmethod
    def forward(ctx, a, approximate="none"):
        xp = backend.array_module(a)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a))
            ctx.save_for_backward(a, t)
            return 0.5 * a * (1 + t)
        cdf = 0.5 * (1 + backend.erf(a * _SQRT_HALF))  # Phi(a), the standard normal CDF
        ctx.save_for_backward(a, cdf)
        with backend.quiet():  # -inf * 0: NaN, as PyTorch
            return a * cdf

    @staticmethod
    def backward(ctx, g):
        a, s = ctx.saved_tensors
        xp = backend.array_module(a)
        if ctx.approximate == "tanh":
            # da = g * (0.5 (1 + t) + 0.5 a (1 - t^2) c (1 + 3 * 0.044715 a^2)),  t = tanh(c (a + 0.044715 a^3))
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return g * (0.5 * (1 + s) + 0.5 * a * (1 - s * s) * inner)
        # da = g * (Phi(a) + a * phi(a))
        return g * (s + a * _INV_SQRT_2PI * xp.exp(-0.5 * a * a))

    @staticmethod
    def backward_graph(ctx, g):
        a, _ = ctx.saved_tensors  # the derived t / Phi(a) is recomputed from a, in the graph
        if ctx.approximate == "tanh":
            t = (_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)).tanh()
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * inner)
        return g * GeluGrad.apply(a)


class GeluGrad(Function):
    """gelu'(a) = Phi(a) + a phi(a) as an op of its own (Phi needs erf, which has no op), so
    that the exact gelu differentiates twice and more."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        cdf = 0.5 * (1 + backend.erf(a * _SQRT_HALF))
        return cdf + a * _INV_SQRT_2PI * backend.array_module(a).exp(-0.5 * a * a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * gelu''(a) = g * phi(a) (2 - a^2)
        return g * (_INV_SQRT_2PI * backend.array_module(a).exp(-0.5 * a * a) * (2 - a * a))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (_INV_SQRT_2PI * (-0.5 * a * a).exp() * (2 - a * a))


def _unary(op: type[Function], name: str, a: Tensor, **options: Any) -> Tensor:
    if a.array.dtype.kind != "f":
        if op not in _TAKES_INTEGERS:  # gelu, silu, elu, ...: PyTorch refuses integers
            require_float(name, a)  # raises, naming the op and the dtype
        a = cast(a, backend.DEFAULT_FLOAT)  # exp, log, sin, ...: PyTorch's default float
    # only gelu and a few activations have options: an empty **options costs ~0.1 us more
    return op.apply(a, **options) if options else op.apply(a)


def exp(a: Tensor) -> Tensor:
    """Elementwise e^a."""
    return _unary(Exp, "exp", a)


def log(a: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return _unary(Log, "log", a)


def sqrt(a: Tensor) -> Tensor:
    """Elementwise square root."""
    return _unary(Sqrt, "sqrt", a)


def abs(a: Tensor) -> Tensor:  # noqa: A001
    """Elementwise |a| (gradient sign(a), 0 at 0)."""
    if a.array.dtype is _BOOL:
        raise NotImplementedError(
            f"abs is not implemented for bool tensors, as in PyTorch (shape {tuple(a.shape)})"
        )
    return Abs.apply(a)


def tanh(a: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return _unary(Tanh, "tanh", a)


def sigmoid(a: Tensor) -> Tensor:
    """Elementwise logistic function 1 / (1 + e^-a)."""
    return _unary(Sigmoid, "sigmoid", a)


def relu(a: Tensor) -> Tensor:
    """Elementwise max(a, 0) (gradient 0 at 0, as PyTorch)."""
    if a.array.dtype is _BOOL:  # NumPy would give int64
        raise DTypeError(f"relu: bool inputs are not supported, as in PyTorch (shape {a.shape})")
    return Relu.apply(a)


def gelu(a: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: ``a * Phi(a)`` (``approximate="none"``, the exact erf form)
    or the tanh approximation (``approximate="tanh"``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(Gelu, "gelu", a, approximate=approximate)


# =============================================================================================
# Maximum, minimum, clamp
# =============================================================================================


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.array_module(a if not isinstance(a, (int, float)) else b).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g where a > b, g/2 where a == b, 0 where a < b ; db the other way round
        return _select_grads(ctx, g, a < b, a > b, a == b)

    @staticmethod
    def backward_graph(ctx, g):
        a, b = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        return _select_grads_graph(ctx, g, a < b, a > b, a == b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return backend.array_module(a if not isinstance(a, (int, float)) else b).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g where a < b, g/2 where a == b, 0 where a > b ; db the other way round
        return _select_grads(ctx, g, a > b, a < b, a == b)

    @staticmethod
    def backward_graph(ctx, g):
        a, b = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        return _select_grads_graph(ctx, g, a > b, a < b, a == b)


def _select_grads(ctx: Function, g: Any, a_loses: Any, b_loses: Any, tie: Any) -> tuple[Any, Any]:
    # da = 0 where a loses, g/2 on ties, else g ; db likewise. A NaN neither wins, loses nor
    # ties, so both sides get g there (as PyTorch, whose result is the NaN)
    xp = backend.array_module(g)
    shared = xp.where(tie, g * 0.5, g)
    da = xp.where(a_loses, 0, shared) if ctx.needs_input_grad[0] else None
    db = xp.where(b_loses, 0, shared) if ctx.needs_input_grad[1] else None
    return da, db


def _select_grads_graph(ctx: Any, g: Tensor, a_loses: Any, b_loses: Any, tie: Any) -> tuple:
    # the same split as _select_grads, as constant weights (1, 1/2 or 0) times g
    xp = backend.array_module(g.array)
    shared = xp.where(tie, 0.5, 1.0).astype(g.dtype)
    da = g * xp.where(a_loses, 0, shared).astype(g.dtype) if ctx.needs_input_grad[0] else None
    db = g * xp.where(b_loses, 0, shared).astype(g.dtype) if ctx.needs_input_grad[1] else None
    return da, db


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max with broadcasting; on ties each input gets half the gradient."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min with broadcasting; on ties each input gets half the gradient."""
    return _binary(Minimum, a, b)


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, low=None, high=None):
        # out = minimum(maximum(a, low), high): where low > high, high (PyTorch's rule)
        xp = backend.array_module(a)
        ctx.save_for_backward(a, low, high)
        out = a
        if low is not None:
            out = xp.maximum(out, low)
        if high is not None:
            out = xp.minimum(out, high)
        return out

    @staticmethod
    def backward(ctx, g):
        return _clamp_grads(ctx, g, *ctx.saved_tensors)

    @staticmethod
    def backward_graph(ctx, g):
        # the same masks as constants: clamp is piecewise linear (second derivative 0)
        return _clamp_grads(ctx, g, *(getattr(t, "array", t) for t in ctx.saved_tensors))


def _clamp_grads(ctx: Function, g: Any, a: Any, low: Any, high: Any) -> tuple[Any, Any, Any]:
    # da = g where low <= a <= high ; dlow = g where a < low < high ;
    # dhigh = g where a > high or high < low (the bound the output took; PyTorch's masks)
    inside = (True if low is None else a >= low) & (True if high is None else a <= high)
    da = g * inside if ctx.needs_input_grad[0] else None
    dlow = dhigh = None
    if ctx.needs_input_grad[1]:
        dlow = g * ((a < low) & (True if high is None else low < high))
    if ctx.needs_input_grad[2]:
        dhigh = g * ((a > high) | (False if low is None else high < low))
    return da, dlow, dhigh


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit ``a`` to [min, max] elementwise: ``minimum(maximum(a, min), max)``, so where
    min > max the result is max, as in PyTorch. ``min`` and ``max`` are numbers or tensors
    that broadcast with ``a`` (the result has the broadcast shape and the promoted dtype).
    The gradient goes to ``a`` where ``min <= a <= max`` (ties included), else to the bound
    the output took (``min`` only where ``min < max``), as PyTorch's."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    dtype = result_type(a, min, max)
    if dtype.kind != "f" or dtype.itemsize == 2 or _past_int64(min) or _past_int64(max):
        # PyTorch's checked bounds: 300 in int8 raises, 1e300 in float32, 2**70 in any dtype
        _check_clamp_bounds(a, min, max, dtype)
        min, max = (  # noqa: A001
            checked_scalar("clamp", b, dtype) if b.__class__ in _SCALARS else b for b in (min, max)
        )
    if any(isinstance(b, TensorBase) for b in (min, max)):
        shapes = [tuple(t.shape) for t in (a, min, max) if isinstance(t, TensorBase)]
        broadcast_shape("clamp", "the shapes of the input and its bounds", *shapes)
        min, max = (cast(b, dtype) if isinstance(b, TensorBase) else b for b in (min, max))  # noqa: A001
    if a.array.dtype != dtype:  # an integer tensor and a float bound: the default float
        a = cast(a, dtype)
    return Clamp.apply(a, min, max)


def _past_int64(bound: Any) -> bool:
    """Whether ``bound`` is a Python number outside [-2**63, 2**64) (or NaN): only then can a
    float32 or float64 clamp refuse it (an int beyond 64 bits, a float past float32's range),
    so only then is it checked."""
    return bound.__class__ in _SCALARS and not backend.fits_64_bits(bound)


def _check_clamp_bounds(a: Tensor, low: Any, high: Any, dtype: Any) -> None:
    """PyTorch refuses a clamp whose result is bool ("clamp" not implemented for 'Bool')."""
    if dtype.kind == "b":
        raise NotImplementedError(
            f"clamp is not implemented for bool, as in PyTorch: a bool tensor of shape "
            f"{tuple(a.shape)} with bounds {describe_operand(low)} and "
            f"{describe_operand(high)}"
        )


# =============================================================================================
# More unary math (issue 16): sin cos rsqrt erf log2 exp2
# =============================================================================================

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_LN2 = math.log(2.0)


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # of +-inf: NaN, as PyTorch
            return backend.array_module(a).sin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * cos(a)
        return g * backend.array_module(a).cos(a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * a.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # of +-inf: NaN, as PyTorch
            return backend.array_module(a).cos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = -g * sin(a)
        return -g * backend.array_module(a).sin(a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * a.sin()


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # rsqrt(0) is inf, of a negative NaN: as PyTorch
            out = 1 / backend.array_module(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = -g / 2 * a^(-3/2) = -g / 2 * rsqrt(a)^3
        return -0.5 * g * out * out * out

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Erf(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.erf(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * 2/sqrt(pi) * exp(-a^2)
        return g * _TWO_OVER_SQRT_PI * backend.array_module(a).exp(-a * a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * _TWO_OVER_SQRT_PI * (-a * a).exp()


class Log2(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # log2(0) is -inf, of a negative NaN: as PyTorch
            return backend.array_module(a).log2(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (a ln 2)
        return g / (a * _LN2)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Exp2(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # past the float's range: inf, as PyTorch
            out = backend.array_module(a).exp2(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * 2^a * ln 2
        return g * out * _LN2

    backward_graph = backward  # operators only: the same formula runs on Tensors


def sin(a: Tensor) -> Tensor:
    """Elementwise sine."""
    return _unary(Sin, "sin", a)


def cos(a: Tensor) -> Tensor:
    """Elementwise cosine."""
    return _unary(Cos, "cos", a)


def rsqrt(a: Tensor) -> Tensor:
    """Elementwise 1 / sqrt(a)."""
    return _unary(Rsqrt, "rsqrt", a)


def erf(a: Tensor) -> Tensor:
    """Elementwise error function 2/sqrt(pi) * integral_0^a exp(-t^2) dt."""
    return _unary(Erf, "erf", a)


def log2(a: Tensor) -> Tensor:
    """Elementwise base-2 logarithm."""
    return _unary(Log2, "log2", a)


def exp2(a: Tensor) -> Tensor:
    """Elementwise 2^a."""
    return _unary(Exp2, "exp2", a)


# =============================================================================================
# logaddexp (issue 16)
# =============================================================================================


class LogAddExp(Function):
    @staticmethod
    @backend.quietly  # inf and -inf give NaN, as PyTorch, no warning
    def forward(ctx, a, b):
        xp = backend.array_module(a if not isinstance(a, (int, float)) else b)
        ctx.save_for_backward(a, b)
        return xp.logaddexp(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g / (1 + e^(b - a)) ; db = g / (1 + e^(a - b))   (softmax of the pair)
        with backend.quiet():  # a = inf: da 1, db 0; both ±inf: NaN, as PyTorch
            da = g / (1 + xp.exp(b - a)) if ctx.needs_input_grad[0] else None
            db = g / (1 + xp.exp(a - b)) if ctx.needs_input_grad[1] else None
        return da, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.saved_tensors
        with backend.quiet():
            # as sigmoid(a - b): its own derivative is 0, not NaN, where a or b is -inf
            da = g * (a - b).sigmoid() if ctx.needs_input_grad[0] else None
            db = g * (b - a).sigmoid() if ctx.needs_input_grad[1] else None
        return da, db


def logaddexp(a: Any, b: Any) -> Tensor:
    """``log(exp(a) + exp(b))``, computed stably, with broadcasting. An integer operand is
    taken with a float one in their promoted dtype; two integer ones raise (as PyTorch)."""
    for x in (a, b):
        if isinstance(x, TensorBase) and x.dtype.kind != "f" and result_type(a, b).kind != "f":
            require_float("logaddexp", x)  # raises, naming the dtype
    return _binary(LogAddExp, a, b)


# the unary ops that take integer and bool tensors, computed in the default float (as PyTorch's
# exp, log, sin, ...); the activations (gelu, silu, softplus, leaky_relu, elu) refuse them
_TAKES_INTEGERS = frozenset({Exp, Log, Sqrt, Tanh, Sigmoid, Sin, Cos, Rsqrt, Erf, Log2, Exp2})
