"""PyTorch's breadth of unary elementwise math (the binary functions and comparisons are in
``binarymath``, the reductions in ``statistics``).

- log1p expm1 log10 tan sinh cosh asin acos atan asinh acosh atanh (and the arc... aliases)
  reciprocal square sgn frac erfc erfinv logit sinc deg2rad rad2deg nan_to_num lgamma
  digamma polygamma; no gradient: signbit isposinf isneginf

Each op is a ``Function`` with its forward and backward side by side (see ``minigrad.ops``);
the ones that are a line of existing ops are written as that line, and get their gradients
from them. Integer and bool inputs to the float functions are computed in the default float,
as PyTorch's (``tan`` of an int64 tensor is float32). The special functions NumPy lacks
(``erfc`` accurate in its tail, ``erfinv``, ``lgamma``, ``polygamma``) are named kernels in
``minigrad.backend``.

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``promotion``, the
sibling ``ops`` modules; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.ops._util import half_in_float32, require_float
from minigrad.ops.conversion import cast, isfinite
from minigrad.ops.elementwise import clamp, exp, mul, pow, sqrt
from minigrad.ops.elementwise import cos as _cos
from minigrad.ops.rounding import sign

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2


def _tensor(name: str, a: Any) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{name}: expected a Tensor, got {type(a).__name__} {a!r}")


def _as_float(name: str, a: Tensor) -> Tensor:
    _tensor(name, a)
    return a if a.array.dtype.kind == "f" else cast(a, backend.DEFAULT_FLOAT)


def _float_unary(op: type[Function], name: str, a: Tensor, **options: Any) -> Tensor:
    """``op`` on ``a``, an integer or bool ``a`` first cast to the default float (PyTorch's
    rule for its float functions)."""
    return op.apply(_as_float(name, a), **options)


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
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
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
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
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
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
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
    @backend.quietly  # inf and NaN inputs give inf and NaN, as PyTorch, no warning
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
        with backend.quiet():  # at ±1: inf
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
        # da = g / (a (1 - a)), NaN outside [0, 1] (where logit is NaN), as PyTorch
        with backend.quiet():
            return backend.array_module(a).where((a < 0) | (a > 1), math.nan, g / (a * (1 - a)))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        outside = wrap((a.array < 0) | (a.array > 1))
        with backend.quiet():
            return (g / (a * (1 - a))).masked_fill(outside, math.nan)


class Sinc(Function):
    @staticmethod
    @backend.quietly  # sin(inf) is NaN, as PyTorch, no warning
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
    """Elementwise normalized sinc ``sin(pi a) / (pi a)``, 1 at 0. float16 is computed in
    float32 and rounded once, as PyTorch's (pi a overflows float16 past |a| = 20850)."""
    if a.dtype == backend.float16:
        return half_in_float32(_float_unary, Sinc, "sinc", a)
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
# lgamma, digamma, polygamma
# =============================================================================================


class Lgamma(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return backend.lgamma(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * digamma(a)
        return g * backend.polygamma(0, a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * Polygamma.apply(a, n=0)


class Polygamma(Function):
    """The n-th derivative of digamma (``n = 0``: digamma)."""

    @staticmethod
    def forward(ctx, a, n=0):
        ctx.save_for_backward(a)
        ctx.n = n
        return backend.polygamma(n, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * polygamma(n + 1, a)
        return g * backend.polygamma(ctx.n + 1, a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * Polygamma.apply(a, n=ctx.n + 1)


def lgamma(a: Tensor) -> Tensor:
    """Elementwise ``log|Gamma(a)|`` (inf at 0 and the negative integers); gradient digamma."""
    return _float_unary(Lgamma, "lgamma", a)


def digamma(a: Tensor) -> Tensor:
    """Elementwise ``d/da log Gamma(a)``; gradient ``polygamma(1, a)``."""
    return _float_unary(Polygamma, "digamma", a, n=0)


def polygamma(n: int, a: Tensor) -> Tensor:
    """Elementwise n-th derivative of :func:`digamma` (``n = 0``: digamma itself)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    return _float_unary(Polygamma, "polygamma", a, n=n)


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
