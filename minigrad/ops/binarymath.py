"""PyTorch's breadth of binary elementwise math, and the comparison and logical functions
under PyTorch's names.

- atan2 hypot fmod fmax fmin copysign logaddexp2 xlogy, and from existing ops lerp
  float_power true_divide ldexp; no gradient: heaviside
- comparison and logic (no gradient): eq ne lt le gt ge (and PyTorch's aliases greater less
  ...), logical_and logical_or logical_xor, isin, equal (a Python bool)

Each op is a ``Function`` with its forward and backward side by side (see ``minigrad.ops``),
or a line of existing ops. Operands broadcast, and either may be a Python number; integer
operands of the float functions are computed in the default float, as PyTorch's.

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
from minigrad.ops.conversion import cast, compare
from minigrad.ops.elementwise import _binary, div, exp2, log, mul, pow, refuse_bool
from minigrad.ops.mathops import _tensor
from minigrad.ops.rounding import _int_divisor_check
from minigrad.ops.shape import where
from minigrad.promotion import dtype_range, float_result_type, require_64_bit_int, result_type

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

_SCALARS = (bool, int, float)


def _xp(*operands: Any) -> Any:
    """The array module of the first array among ``operands`` (others may be Python numbers)."""
    return backend.array_module(next(x for x in operands if not isinstance(x, _SCALARS)))


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
        # da = g * b / (a^2 + b^2) ; db = -g * a / (a^2 + b^2), both 0 where a^2 + b^2 is 0
        with backend.quiet():  # squares past the float's range: inf, gradient 0
            squares = a * a + b * b
            origin = squares == 0  # PyTorch's gradient there (and where the squares underflow)
            scale = backend.array_module(g).where(origin, 0, g / _where(origin, 1, squares))
        return (
            scale * b if ctx.needs_input_grad[0] else None,
            -scale * a if ctx.needs_input_grad[1] else None,
        )

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.saved_tensors
        with backend.quiet():
            squares = a * a + b * b
            origin = wrap(squares.array == 0)
            scale = (g / squares.masked_fill(origin, 1.0)).masked_fill(origin, 0.0)
        return (
            scale * b if ctx.needs_input_grad[0] else None,
            -scale * a if ctx.needs_input_grad[1] else None,
        )


def _where(mask: Any, fill: float, arr: Any) -> Any:
    """``arr`` with ``fill`` where ``mask`` holds: a divisor made safe before dividing."""
    return backend.array_module(arr).where(mask, fill, arr)


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
    @backend.quietly  # inf and -inf give NaN, as PyTorch, no warning
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _xp(a, b).logaddexp2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g / (1 + 2^(b - a)) ; db = g / (1 + 2^(a - b))   (= g 2^(a - out), g 2^(b - out))
        with backend.quiet():  # a = inf: da 1, db 0; both ±inf: NaN, as PyTorch
            da = g / (1 + xp.exp2(b - a)) if ctx.needs_input_grad[0] else None
            db = g / (1 + xp.exp2(a - b)) if ctx.needs_input_grad[1] else None
        return da, db

    @staticmethod
    def backward_graph(ctx, g):
        a, b = ctx.saved_tensors
        with backend.quiet():
            # as sigmoid((a - b) ln 2): its own derivative is 0, not NaN, where a or b is -inf
            da = g * ((a - b) * math.log(2)).sigmoid() if ctx.needs_input_grad[0] else None
            db = g * ((b - a) * math.log(2)).sigmoid() if ctx.needs_input_grad[1] else None
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
    return refuse_bool("fmod", _binary(Fmod, a, b), a, b)  # two bools: NumPy's int8, refused


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
    """Linear interpolation ``start + weight * (end - start)``, from the nearer end as
    PyTorch (``end - (1 - weight) * (end - start)`` where ``|weight| >= 0.5``: exactly ``end``
    at weight 1); ``weight`` a number or a tensor, all three broadcasting. ``start`` and
    ``end`` must be float tensors of one dtype, as PyTorch."""
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
    with backend.quiet():  # inf - inf is NaN without a warning, as PyTorch
        diff = end - start
        if not isinstance(weight, TensorBase):
            return start + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)
        near_start = wrap(backend.array_module(weight.array).abs(weight.array) < 0.5)
        return where(near_start, start + weight * diff, end - diff * (1 - weight))


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
    with backend.quiet():  # inf * 0 is NaN without a warning, as PyTorch
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
    for t in (elements, test_elements):
        if t.__class__ is int and not backend.fits_64_bits(t):  # float tensors too, as PyTorch
            require_64_bit_int("isin", t, dtype)
        if t.__class__ is int and dtype.kind in "iu" and not _holds(dtype, t):
            # compared exactly, as the comparisons
            if not _holds(backend.int64, t):  # in [2**63, 2**64): no int tensor's element
                shape = elements.shape if isinstance(elements, TensorBase) else ()
                return wrap(xp.full(shape, invert))
            dtype = backend.int64
    x, y = (
        t.array.astype(dtype, copy=False) if isinstance(t, TensorBase) else xp.asarray(t, dtype)
        for t in (elements, test_elements)
    )
    return wrap(xp.asarray(xp.isin(x, y, assume_unique=assume_unique, invert=invert)))


def _holds(dtype: Any, value: int) -> bool:
    """Whether the integer ``dtype`` holds the Python int ``value``."""
    low, high = dtype_range(dtype)
    return low <= value <= high


def equal(a: Tensor, b: Tensor) -> bool:
    """True when ``a`` and ``b`` have the same shape and equal elements (NaN is not equal to
    itself), as ``torch.equal``; a Python bool."""
    _tensor("equal", a)
    _tensor("equal", b)
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool(compare(a, b, "equal").array.all())
