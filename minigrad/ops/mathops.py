"""PyTorch's breadth of elementwise math: more unary functions, binary functions, and the
comparison and logical functions under PyTorch's names.

- unary: log1p expm1 log10 tan sinh cosh asin acos atan asinh acosh atanh reciprocal square
  sgn frac erfc erfinv logit sinc deg2rad rad2deg nan_to_num; no gradient: signbit isposinf
  isneginf
- binary: atan2 hypot fmod fmax fmin copysign logaddexp2 xlogy, and from existing ops lerp
  float_power true_divide ldexp; no gradient: heaviside
- comparison and logic (no gradient): eq ne lt le gt ge, logical_and logical_or logical_xor,
  isin, equal (a Python bool)

Each op is a ``Function`` with its forward and backward side by side (see ``minigrad.ops``);
the ones that are a line of existing ops are written as that line, and get their gradients
from them. Integer and bool inputs to the float functions are computed in the default float,
as PyTorch's (``tan`` of an int64 tensor is float32). The special functions NumPy lacks
(``erfc`` accurate in its tail, ``erfinv``) are named kernels in ``minigrad.backend``.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``promotion``, the
sibling ``ops`` modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.errors import DTypeError
from minigrad.ops._util import require_float
from minigrad.ops.conversion import cast, compare, isfinite
from minigrad.ops.elementwise import _binary, add, clamp, div, exp, exp2, log, mul, pow, sqrt
from minigrad.ops.elementwise import cos as _cos
from minigrad.ops.rounding import _int_divisor_check, sign
from minigrad.ops.shape import where
from minigrad.promotion import float_result_type, result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

_LN10 = math.log(10.0)
_LN2 = math.log(2.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2
_SCALARS = (bool, int, float)


def _xp(*operands: Any) -> Any:
    """The array module of the first array among ``operands`` (others may be Python numbers)."""
    return backend.array_module(next(x for x in operands if not isinstance(x, _SCALARS)))


def _tensor(name: str, a: Any) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{name}: expected a Tensor, got {type(a).__name__} {a!r}")


def _float_unary(op: type[Function], name: str, a: Tensor, **options: Any) -> Tensor:
    """``op`` on ``a``, an integer or bool ``a`` first cast to the default float (PyTorch's
    rule for its float functions)."""
    _tensor(name, a)
    if a.array.dtype.kind != "f":
        a = cast(a, backend.DEFAULT_FLOAT)
    return op.apply(a, **options)


def _float_binary(op: type[Function], name: str, a: Any, b: Any, ints: bool = True) -> Tensor:
    """``op`` on ``a`` and ``b`` (tensors or a tensor and a Python number, broadcasting) in
    their float result type: integer operands are taken in the default float, unless ``ints``
    is False and neither operand is float (PyTorch refuses those, naming the dtype)."""
    if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
        raise TypeError(
            f"{name}: expected a Tensor operand, got {type(a).__name__} and {type(b).__name__}"
        )
    if not ints and result_type(a, b).kind != "f":
        require_float(name, a if isinstance(a, TensorBase) else b)  # raises, naming the dtype
    dtype = float_result_type(a, b)
    a, b = (cast(x, dtype) if isinstance(x, TensorBase) else x for x in (a, b))
    return _binary(op, a, b)


# =============================================================================================
# Logarithms, exponentials, trigonometric and hyperbolic functions
# =============================================================================================


class Log1p(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).log1p(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (1 + a)
        return g / (1 + a)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Expm1(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.array_module(a).expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * exp(a) = g * (out + 1)
        return g * (out + 1)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Log10(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).log10(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (a ln 10)
        return g / (a * _LN10)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Tan(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.array_module(a).tan(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * (1 + tan(a)^2)
        return g * (1 + out * out)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Sinh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).sinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * cosh(a)
        return g * backend.array_module(a).cosh(a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * cosh(a)


class Cosh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).cosh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * sinh(a)
        return g * backend.array_module(a).sinh(a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * sinh(a)


class Asin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).arcsin(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / sqrt(1 - a^2)
        with backend.quiet():  # |a| >= 1: inf or NaN, as PyTorch
            return g / backend.array_module(a).sqrt(1 - a * a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g / sqrt(1 - a * a)


class Acos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).arccos(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = -g / sqrt(1 - a^2)
        with backend.quiet():
            return -g / backend.array_module(a).sqrt(1 - a * a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return -g / sqrt(1 - a * a)


class Atan(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).arctan(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (1 + a^2)
        return g / (1 + a * a)

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Asinh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.array_module(a).arcsinh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / sqrt(a^2 + 1)
        return g / backend.array_module(a).sqrt(a * a + 1)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g / sqrt(a * a + 1)


class Acosh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # a < 1: NaN, as PyTorch
            return backend.array_module(a).arccosh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / sqrt((a - 1)(a + 1))
        with backend.quiet():
            return g / backend.array_module(a).sqrt((a - 1) * (a + 1))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g / sqrt((a - 1) * (a + 1))


class Atanh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # atanh(±1) is ±inf, |a| > 1 NaN: as PyTorch
            return backend.array_module(a).arctanh(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (1 - a^2)
        with backend.quiet():
            return g / (1 - a * a)

    backward_graph = backward  # operators only: the same formula runs on Tensors


def log1p(a: Tensor) -> Tensor:
    """Elementwise ``log(1 + a)``, accurate for small ``a``; NaN below -1, -inf at -1."""
    with backend.quiet():
        return _float_unary(Log1p, "log1p", a)


def expm1(a: Tensor) -> Tensor:
    """Elementwise ``exp(a) - 1``, accurate for small ``a``."""
    return _float_unary(Expm1, "expm1", a)


def log10(a: Tensor) -> Tensor:
    """Elementwise base-10 logarithm."""
    with backend.quiet():
        return _float_unary(Log10, "log10", a)


def tan(a: Tensor) -> Tensor:
    """Elementwise tangent (gradient ``1 + tan(a)^2``)."""
    return _float_unary(Tan, "tan", a)


def sinh(a: Tensor) -> Tensor:
    """Elementwise hyperbolic sine."""
    return _float_unary(Sinh, "sinh", a)


def cosh(a: Tensor) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return _float_unary(Cosh, "cosh", a)


def asin(a: Tensor) -> Tensor:
    """Elementwise arcsine (NaN outside [-1, 1])."""
    with backend.quiet():
        return _float_unary(Asin, "asin", a)


def acos(a: Tensor) -> Tensor:
    """Elementwise arccosine (NaN outside [-1, 1])."""
    with backend.quiet():
        return _float_unary(Acos, "acos", a)


def atan(a: Tensor) -> Tensor:
    """Elementwise arctangent, in (-pi/2, pi/2)."""
    return _float_unary(Atan, "atan", a)


def asinh(a: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic sine."""
    return _float_unary(Asinh, "asinh", a)


def acosh(a: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic cosine (NaN below 1)."""
    return _float_unary(Acosh, "acosh", a)


def atanh(a: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic tangent (±inf at ±1, NaN beyond)."""
    return _float_unary(Atanh, "atanh", a)


arcsin, arccos, arctan = asin, acos, atan  # PyTorch's aliases
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# =============================================================================================
# reciprocal, square, sgn, frac, deg2rad, rad2deg
# =============================================================================================


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # 1/0 is inf, as PyTorch
            out = 1 / a
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = -g / a^2 = -g * out^2
        return -g * out * out

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Frac(Function):
    @staticmethod
    def forward(ctx, a):
        with backend.quiet():  # frac(±inf) is NaN, as PyTorch's a - trunc(a)
            return a - backend.array_module(a).trunc(a)

    @staticmethod
    def backward(ctx, g):
        # da = g   (trunc is piecewise constant)
        return g

    backward_graph = backward  # operators only: the same formula runs on Tensors


def reciprocal(a: Tensor) -> Tensor:
    """Elementwise ``1 / a``; integers give the default float, as PyTorch."""
    return _float_unary(Reciprocal, "reciprocal", a)


def square(a: Tensor) -> Tensor:
    """Elementwise ``a * a``, as ``pow(a, 2)``: integers stay integers (bool gives int64)."""
    _tensor("square", a)
    if a.array.dtype == backend.bool_:
        a = cast(a, backend.int64)
    return pow(a, 2)


def sgn(a: Tensor) -> Tensor:
    """The sign of ``a``: -1, 0 or 1 (:func:`sign`; PyTorch's ``sgn`` differs for complex
    numbers, which minigrad does not have)."""
    _tensor("sgn", a)
    return sign(a)


def frac(a: Tensor) -> Tensor:
    """Elementwise fractional part ``a - trunc(a)`` (the sign of ``a``); floats only, as
    PyTorch; gradient 1."""
    _tensor("frac", a)
    require_float("frac", a)
    return Frac.apply(a)


def deg2rad(a: Tensor) -> Tensor:
    """Degrees to radians, ``a * pi / 180``; integers give the default float."""
    return mul(_as_float("deg2rad", a), math.pi / 180.0)


def rad2deg(a: Tensor) -> Tensor:
    """Radians to degrees, ``a * 180 / pi``; integers give the default float."""
    return mul(_as_float("rad2deg", a), 180.0 / math.pi)


def _as_float(name: str, a: Tensor) -> Tensor:
    _tensor(name, a)
    return a if a.array.dtype.kind == "f" else cast(a, backend.DEFAULT_FLOAT)


# =============================================================================================
# erfc, erfinv, logit, sinc, nan_to_num
# =============================================================================================


class Erfc(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.erfc(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = -g * 2/sqrt(pi) * exp(-a^2)
        return -g * _TWO_OVER_SQRT_PI * backend.array_module(a).exp(-a * a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * _TWO_OVER_SQRT_PI * exp(-a * a)


class Erfinv(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.erfinv(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # da = g * sqrt(pi)/2 * exp(erfinv(a)^2)   (the inverse function's derivative)
        with backend.quiet(overflow=True):  # at ±1: inf
            return g * _SQRT_PI_OVER_TWO * backend.array_module(out).exp(out * out)

    @staticmethod
    def backward_graph(ctx, g):
        (out,) = ctx.saved_tensors
        return g * _SQRT_PI_OVER_TWO * exp(out * out)


class Logit(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        with backend.quiet():  # logit(0) = -inf, logit(1) = inf, NaN outside [0, 1]
            return backend.array_module(a).log(a / (1 - a))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / (a (1 - a))
        with backend.quiet():
            return g / (a * (1 - a))

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Sinc(Function):
    @staticmethod
    def forward(ctx, a):
        out = backend.array_module(a).sinc(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        xp = backend.array_module(a)
        zero = a == 0
        safe = xp.where(zero, 1, a)
        # da = g * (cos(pi a) - sinc(a)) / a, 0 at a = 0 (sinc's maximum)
        return xp.where(zero, 0, g * (xp.cos(math.pi * a) - out) / safe)

    @staticmethod
    def backward_graph(ctx, g):
        a, out = ctx.saved_tensors
        zero = a.array == 0
        safe = a.masked_fill(wrap(zero), 1.0)
        return (g * (_cos(a * math.pi) - out) / safe).masked_fill(wrap(zero), 0.0)


class NanToNum(Function):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.save_for_backward(a)
        xp = backend.array_module(a)
        return xp.nan_to_num(a, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g where a is finite, 0 where it was replaced
        return backend.array_module(g).where(backend.array_module(a).isfinite(a), g, 0)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * isfinite(a).to(dtype=g.dtype)


def erfc(a: Tensor) -> Tensor:
    """Elementwise complementary error function ``1 - erf(a)``, accurate to a few ulp relative
    in its tail too (``erfc(10)`` is 2.1e-45, where ``1 - erf(10)`` is 0)."""
    return _float_unary(Erfc, "erfc", a)


def erfinv(a: Tensor) -> Tensor:
    """Elementwise inverse error function: ``erf(erfinv(a)) = a`` on (-1, 1), ``±inf`` at
    ``±1``, NaN outside."""
    return _float_unary(Erfinv, "erfinv", a)


def logit(a: Tensor, eps: float | None = None) -> Tensor:
    """Elementwise ``log(a / (1 - a))``, the inverse of :func:`sigmoid`. With ``eps``, ``a``
    is first clamped to ``[eps, 1 - eps]`` (and gets no gradient outside it), as PyTorch."""
    a = _as_float("logit", a)
    if eps is not None:
        if not isinstance(eps, (int, float)) or isinstance(eps, bool):
            raise TypeError(f"logit: eps must be a float or None, got {type(eps).__name__}")
        a = clamp(a, eps, 1 - eps)
    return Logit.apply(a)


def sinc(a: Tensor) -> Tensor:
    """Elementwise normalized sinc ``sin(pi a) / (pi a)``, 1 at 0."""
    return _float_unary(Sinc, "sinc", a)


def nan_to_num(
    a: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """``a`` with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by
    default the largest and lowest finite values of the dtype); integer and bool tensors come
    back as copies. The gradient passes where ``a`` is finite, 0 where a value was replaced."""
    _tensor("nan_to_num", a)
    for what, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise TypeError(
                f"nan_to_num: {what} must be a number or None, got {type(value).__name__}"
            )
    if a.array.dtype.kind != "f":
        return wrap(a.array.copy())
    return NanToNum.apply(a, nan=nan, posinf=posinf, neginf=neginf)


# =============================================================================================
# Tests without gradient: signbit, isposinf, isneginf
# =============================================================================================


def signbit(a: Tensor) -> Tensor:
    """Elementwise: whether the sign bit is set (True for -0.0 and -inf); a bool tensor."""
    _tensor("signbit", a)
    xp = backend.array_module(a.array)
    if a.array.dtype == backend.bool_:
        return wrap(xp.zeros(a.array.shape, dtype=bool))
    return wrap(xp.signbit(a.array))


def isposinf(a: Tensor) -> Tensor:
    """Elementwise: whether ``a`` is +inf; a bool tensor."""
    _tensor("isposinf", a)
    xp = backend.array_module(a.array)
    return wrap(
        xp.asarray(a.array == math.inf)
        if a.array.dtype.kind == "f"
        else xp.zeros(a.array.shape, dtype=bool)
    )


def isneginf(a: Tensor) -> Tensor:
    """Elementwise: whether ``a`` is -inf; a bool tensor."""
    _tensor("isneginf", a)
    xp = backend.array_module(a.array)
    return wrap(
        xp.asarray(a.array == -math.inf)
        if a.array.dtype.kind == "f"
        else xp.zeros(a.array.shape, dtype=bool)
    )


# =============================================================================================
# Binary: atan2 hypot fmod fmax fmin copysign logaddexp2 xlogy
# =============================================================================================


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g * b / (a^2 + b^2) ; db = -g * a / (a^2 + b^2)
        with backend.quiet():
            scale = g / (a * a + b * b)
        return (
            scale * b if ctx.needs_input_grad[0] else None,
            -scale * a if ctx.needs_input_grad[1] else None,
        )

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Hypot(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _xp(a, b).hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        # da = g * a / hypot(a, b) ; db = g * b / hypot(a, b)
        with backend.quiet():
            scale = g / out
        return (
            scale * a if ctx.needs_input_grad[0] else None,
            scale * b if ctx.needs_input_grad[1] else None,
        )

    backward_graph = backward  # operators only: the same formula runs on Tensors


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with backend.quiet():  # fmod(a, 0) is NaN for floats, as PyTorch
            return _xp(a, b).fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g ; db = -g * trunc(a / b)   (fmod = a - trunc(a / b) * b)
        return g, (-g * _truncated_quotient(a, b) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, g):
        a, b = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        return g, (-g * _truncated_quotient(a, b) if ctx.needs_input_grad[1] else None)


def _truncated_quotient(a: Any, b: Any) -> Any:
    with backend.quiet():
        return _xp(a, b).trunc(a / b)


class Fmax(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).fmax(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g where a >= b or b is NaN (a was taken; ties go to a, as PyTorch) ; db = the rest
        return _taken_grads(ctx, g, (a >= b) | _xp(a, b).isnan(b))

    @staticmethod
    def backward_graph(ctx, g):
        a, b = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        return _taken_grads(ctx, g, (a >= b) | _xp(a, b).isnan(b))


class Fmin(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).fmin(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # da = g where a <= b or b is NaN (a was taken; ties go to a, as PyTorch) ; db = the rest
        return _taken_grads(ctx, g, (a <= b) | _xp(a, b).isnan(b))

    @staticmethod
    def backward_graph(ctx, g):
        a, b = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        return _taken_grads(ctx, g, (a <= b) | _xp(a, b).isnan(b))


def _taken_grads(ctx: Function, g: Any, a_taken: Any) -> tuple[Any, Any]:
    """g to ``a`` where ``a_taken`` (a constant bool array), to ``b`` elsewhere; on arrays or
    Tensors ``g`` (the mask as 0/1 weights)."""
    array = g.array if isinstance(g, TensorBase) else g
    xp = backend.array_module(array)
    weight = xp.asarray(a_taken).astype(array.dtype)
    da = g * weight if ctx.needs_input_grad[0] else None
    db = g * (1 - weight) if ctx.needs_input_grad[1] else None
    return da, db


class Copysign(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _xp(a, b).copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g * out / a (±1: whether the sign flipped), 0 at a = 0 ; db = 0
        with backend.quiet():
            da = xp.where(a == 0, 0, g * (out / a)) if ctx.needs_input_grad[0] else None
        return da, (xp.zeros_like(g) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, g):
        a, out = (x.array if isinstance(x, TensorBase) else x for x in ctx.saved_tensors)
        xp = backend.array_module(g.array)
        with backend.quiet():
            flip = xp.where(a == 0, 0, out / a).astype(g.dtype)  # a constant: ±1 or 0
        return (g * flip if ctx.needs_input_grad[0] else None), (
            g * 0.0 if ctx.needs_input_grad[1] else None
        )


class LogAddExp2(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = _xp(a, b).logaddexp2(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g * 2^(a - out) ; db = g * 2^(b - out)
        with backend.quiet():  # both -inf: NaN, as PyTorch
            da = g * xp.exp2(a - out) if ctx.needs_input_grad[0] else None
            db = g * xp.exp2(b - out) if ctx.needs_input_grad[1] else None
        return da, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b, out = ctx.saved_tensors
        with backend.quiet():
            da = g * exp2(a - out) if ctx.needs_input_grad[0] else None
            db = g * exp2(b - out) if ctx.needs_input_grad[1] else None
        return da, db


class Xlogy(Function):
    @staticmethod
    def forward(ctx, x, y):
        xp = _xp(x, y)
        ctx.save_for_backward(x, y)
        with backend.quiet():
            return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y)).astype(
                _float_dtype(x, y), copy=False
            )

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = backend.array_module(g)
        # dx = g * log(y), 0 where x = 0 and y <= 0 (as PyTorch) ; dy = g * x / y
        with backend.quiet():
            dx = xp.where((x == 0) & (y <= 0), 0, g * xp.log(y))
            dy = g * x / y if ctx.needs_input_grad[1] else None
        return (dx if ctx.needs_input_grad[0] else None), dy

    @staticmethod
    def backward_graph(ctx, g):
        x, y = ctx.saved_tensors
        xa, ya = (v.array if isinstance(v, TensorBase) else v for v in (x, y))
        with backend.quiet():
            dx = None
            if ctx.needs_input_grad[0]:
                log_y = log(y) if isinstance(y, TensorBase) else _xp(xa, ya).log(ya)
                dx = where(wrap(_xp(xa, ya).asarray((xa == 0) & (ya <= 0))), 0.0, g * log_y)
            dy = g * x / y if ctx.needs_input_grad[1] else None
        return dx, dy


def _float_dtype(*operands: Any) -> Any:
    return next(x.dtype for x in operands if not isinstance(x, _SCALARS))


def atan2(a: Any, b: Any) -> Tensor:
    """Elementwise angle of the point ``(b, a)``: ``atan(a / b)`` in the right quadrant, in
    [-pi, pi]; broadcasts; integers give the default float."""
    return _float_binary(Atan2, "atan2", a, b)


arctan2 = atan2  # PyTorch's alias


def hypot(a: Any, b: Any) -> Tensor:
    """Elementwise ``sqrt(a^2 + b^2)`` without overflow; broadcasts. Two integer operands are
    refused, as PyTorch."""
    return _float_binary(Hypot, "hypot", a, b, ints=False)


def fmod(a: Any, b: Any) -> Tensor:
    """Elementwise C remainder ``a - trunc(a / b) * b``: the result has the sign of ``a`` (of
    the dividend, unlike :func:`remainder`); integers stay integers and refuse a zero divisor.
    Gradient: 1 for ``a``, ``-trunc(a / b)`` for ``b``."""
    _int_divisor_check("fmod", a, b)
    return _binary(Fmod, a, b)


def fmax(a: Any, b: Any) -> Tensor:
    """Elementwise maximum that ignores NaN: the other value where one is NaN, NaN only where
    both are (:func:`maximum` propagates NaN). The gradient goes to the value taken, to ``a``
    on ties, as PyTorch."""
    return _binary(Fmax, a, b)


def fmin(a: Any, b: Any) -> Tensor:
    """Elementwise minimum that ignores NaN (see :func:`fmax`)."""
    return _binary(Fmin, a, b)


def copysign(a: Any, b: Any) -> Tensor:
    """Elementwise ``|a|`` with the sign of ``b`` (-0.0 counts as negative); integers give the
    default float. No gradient reaches ``b`` (it is 0, as PyTorch)."""
    return _float_binary(Copysign, "copysign", a, b)


def logaddexp2(a: Any, b: Any) -> Tensor:
    """``log2(2^a + 2^b)``, computed stably, with broadcasting; two integer operands are
    refused, as PyTorch."""
    return _float_binary(LogAddExp2, "logaddexp2", a, b, ints=False)


def xlogy(x: Any, y: Any) -> Tensor:
    """Elementwise ``x * log(y)``, 0 where ``x`` is 0 (even where ``y`` is 0; NaN where ``y``
    is NaN), as ``torch.xlogy``; integers give the default float."""
    return _float_binary(Xlogy, "xlogy", x, y)


def lerp(start: Tensor, end: Tensor, weight: Any) -> Tensor:
    """Linear interpolation ``start + weight * (end - start)``; ``weight`` a number or a
    tensor, all three broadcasting. ``start`` and ``end`` must be float tensors of one dtype,
    as PyTorch."""
    _tensor("lerp", start)
    _tensor("lerp", end)
    for name, t in (("start", start), ("end", end)) + (
        (("weight", weight),) if isinstance(weight, TensorBase) else ()
    ):
        if t.dtype != start.dtype or t.dtype.kind != "f":
            raise DTypeError(
                f"lerp: start, end and a tensor weight must be float tensors of one dtype, got "
                f"{name} {t.dtype} (start is {start.dtype})"
            )
    if not isinstance(weight, TensorBase) and (
        not isinstance(weight, (int, float)) or isinstance(weight, bool)
    ):
        raise TypeError(f"lerp: weight must be a number or a Tensor, got {type(weight).__name__}")
    return add(start, mul(weight, end - start))


def float_power(a: Any, b: Any) -> Tensor:
    """``a ** b`` computed in float64 (the result is float64 whatever the inputs' dtypes, as
    PyTorch); the gradient comes back to each input in its own dtype."""
    if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
        raise TypeError("float_power: expected a Tensor operand")
    a, b = (cast(x, backend.float64) if isinstance(x, TensorBase) else float(x) for x in (a, b))
    return pow(a, b)


def true_divide(a: Any, b: Any) -> Tensor:
    """:func:`div` (true division: integers give the default float), PyTorch's alias."""
    return div(a, b)


def ldexp(a: Any, b: Any) -> Tensor:
    """``a * 2 ** b``, elementwise with broadcasting; integers give the default float."""
    if not isinstance(a, TensorBase):
        raise TypeError(f"ldexp: expected a Tensor, got {type(a).__name__}")
    dtype = float_result_type(a, b)
    b = exp2(cast(b, dtype)) if isinstance(b, TensorBase) else 2.0 ** float(b)
    return mul(cast(a, dtype), b)


def heaviside(a: Tensor, values: Any) -> Tensor:
    """Elementwise step: ``values`` where ``a == 0``, 1 where ``a > 0``, else 0 (NaN gives 0,
    as PyTorch; NumPy's gives NaN); in the result type of ``a`` and ``values``; no gradient
    (PyTorch has none)."""
    _tensor("heaviside", a)
    dtype = result_type(a, values)
    x = a.array.astype(dtype, copy=False)
    v = values.array.astype(dtype, copy=False) if isinstance(values, TensorBase) else values
    xp = backend.array_module(x)
    step = xp.where(x == 0, v, x > 0).astype(dtype, copy=False)
    return wrap(backend.ensure_array(step, x))


# =============================================================================================
# Comparison and logic under PyTorch's names (no gradient)
# =============================================================================================


def eq(a: Tensor, b: Any) -> Tensor:
    """``a == b`` elementwise (broadcasting); a bool tensor."""
    _tensor("eq", a)
    return compare(a, b, "equal")


def ne(a: Tensor, b: Any) -> Tensor:
    """``a != b`` elementwise (broadcasting); a bool tensor."""
    _tensor("ne", a)
    return compare(a, b, "not_equal")


def lt(a: Tensor, b: Any) -> Tensor:
    """``a < b`` elementwise (broadcasting); a bool tensor."""
    _tensor("lt", a)
    return compare(a, b, "less")


def le(a: Tensor, b: Any) -> Tensor:
    """``a <= b`` elementwise (broadcasting); a bool tensor."""
    _tensor("le", a)
    return compare(a, b, "less_equal")


def gt(a: Tensor, b: Any) -> Tensor:
    """``a > b`` elementwise (broadcasting); a bool tensor."""
    _tensor("gt", a)
    return compare(a, b, "greater")


def ge(a: Tensor, b: Any) -> Tensor:
    """``a >= b`` elementwise (broadcasting); a bool tensor."""
    _tensor("ge", a)
    return compare(a, b, "greater_equal")


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne  # PyTorch's aliases


def _truth(name: str, a: Any, b: Any) -> Tensor:
    """``name`` (NumPy's logical_and, _or, _xor) of the truth values of two tensors of any
    dtype (nonzero is True, NaN too), broadcasting; a bool tensor."""
    _tensor(name, a)
    _tensor(name, b)
    if a.device != b.device:
        raise RuntimeError(f"{name}: tensors on {a.device} and {b.device}; move them to one device")
    x, y = a.array, b.array
    xp = backend.array_module(x)
    return wrap(backend.ensure_array(getattr(xp, name)(x != 0, y != 0), x))


def logical_and(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise ``a and b`` of the truth values (nonzero is True) of any dtypes."""
    return _truth("logical_and", a, b)


def logical_or(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise ``a or b`` of the truth values (nonzero is True) of any dtypes."""
    return _truth("logical_or", a, b)


def logical_xor(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise ``a xor b`` of the truth values (nonzero is True) of any dtypes."""
    return _truth("logical_xor", a, b)


def isin(
    elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False
) -> Tensor:
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a Python
    number, not both); a bool tensor of ``elements``' shape (``invert``: not in)."""
    if not isinstance(elements, TensorBase) and not isinstance(test_elements, TensorBase):
        raise TypeError("isin: expected a Tensor for elements or test_elements")
    like = elements if isinstance(elements, TensorBase) else test_elements
    xp = backend.array_module(like.array)
    dtype = result_type(elements, test_elements)
    x, y = (
        t.array.astype(dtype, copy=False) if isinstance(t, TensorBase) else xp.asarray(t, dtype)
        for t in (elements, test_elements)
    )
    return wrap(xp.asarray(xp.isin(x, y, assume_unique=assume_unique, invert=invert)))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when ``a`` and ``b`` have the same shape and equal elements (NaN is not equal to
    itself), as ``torch.equal``; a Python bool."""
    _tensor("equal", a)
    _tensor("equal", b)
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool(compare(a, b, "equal").array.all())
