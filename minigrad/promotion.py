"""Type promotion as PyTorch does it (``torch.result_type``), not as NumPy does.

Owns: ``promote_types``, ``result_type`` and its cached forms for two operands, and how a
Python number goes into a dtype (``checked_scalar``, ``wrapped_int``). May import:
``minigrad.backend`` and ``minigrad.errors``.

Two rules differ from NumPy's:

- An integer (or bool) meeting a floating point type gives that floating point type
  (int32 with float32 is float32; NumPy says float64).
- Operands come in three ranks: tensors with at least one dim, 0-d tensors, and Python scalars.
  A lower rank changes the result only when it is of a higher *category* (bool < integer <
  floating point): a float64 0-d tensor times a float32 tensor is float32, an int64 0-d tensor
  plus a uint8 tensor is uint8, but a float 0-d tensor or a Python float meeting an integer
  tensor makes the result floating point. A Python bool counts as bool, an int as int64 and a
  float as the default float dtype (float32).
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

from minigrad import backend
from minigrad.errors import ScalarOverflowError


def category(dtype: Any) -> int:
    """0 bool, 1 integer, 2 floating point."""
    return 0 if dtype.kind == "b" else (2 if dtype.kind == "f" else 1)


def promote_types(a: Any, b: Any) -> Any:
    """The smallest dtype both ``a`` and ``b`` convert to (``torch.promote_types``)."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb and 2 in (ca, cb):
        return a if ca == 2 else b  # the floating point side wins, whatever its width
    return backend.numpy_module().promote_types(a, b)


def _combine(higher: Any, lower: Any) -> Any:
    """PyTorch's combine_categories: ``lower`` (a lower rank) counts only if of a higher
    category than ``higher``, or when ``higher`` is bool or absent."""
    if higher is None:
        return lower
    if lower is None or category(higher) == 2:
        return higher
    if higher.kind == "b" or category(lower) == 2:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value: Any) -> Any:
    """The dtype a Python scalar takes part as: bool, int64 or the default float."""
    if isinstance(value, bool):
        return backend.bool_
    if isinstance(value, int):
        return backend.int64
    if isinstance(value, float):
        return backend.DEFAULT_FLOAT
    raise TypeError(f"expected a tensor or a Python bool, int or float, got {type(value).__name__}")


@functools.cache
def scalar_result_type(dtype: Any, scalar_type: type) -> Any:
    """``result_type`` of a tensor of ``dtype`` (any rank) and a Python scalar of type
    ``scalar_type`` (bool, int or float), cached: an integer or bool tensor asks it in every op
    with a Python scalar."""
    return _combine(dtype, scalar_dtype(scalar_type()))


@functools.cache
def tensors_result_type(a: Any, a_has_dims: bool, b: Any, b_has_dims: bool) -> Any:
    """``result_type`` of two tensors given by their dtypes and whether each has at least one
    dim (else it is 0-d, a lower rank), cached: a binary op on tensors of two dtypes (a bool
    mask times a float tensor) asks it on every call."""
    if a_has_dims == b_has_dims:
        return promote_types(a, b)
    return _combine(a, b) if a_has_dims else _combine(b, a)


def result_type(*operands: Any) -> Any:
    """The dtype of an op on ``operands`` (tensors, arrays or Python scalars), as
    ``torch.result_type``; ``None`` operands are skipped."""
    dimensioned = zero_dim = scalars = None
    for x in operands:
        if x is None:
            continue
        dtype = getattr(x, "dtype", None)
        if dtype is None:
            scalars = promote_types(scalars, scalar_dtype(x))
        elif x.ndim:
            dimensioned = promote_types(dimensioned, dtype)
        else:
            zero_dim = promote_types(zero_dim, dtype)
    return _combine(dimensioned, _combine(zero_dim, scalars))


def float_result_type(*operands: Any) -> Any:
    """``result_type``, with an integer or bool result made the default float (true division)."""
    dtype = result_type(*operands)
    return dtype if dtype.kind == "f" else backend.DEFAULT_FLOAT


# ---------------------------------------------------------------------------------------------
# A Python number in a dtype: PyTorch's two conversions
# ---------------------------------------------------------------------------------------------


@functools.cache
def dtype_range(dtype: Any) -> tuple[Any, Any]:
    """The least and the largest value of ``dtype`` (finite for floats), as Python numbers."""
    np = backend.numpy_module()
    if dtype.kind == "f":
        info = np.finfo(dtype)
        return info.min.item(), info.max.item()
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def wrapped_int(op: str, value: int, dtype: Any) -> int:
    """A Python int in arithmetic with an integer tensor of ``dtype``, taken modulo 2**bits into
    the dtype's range, as PyTorch casts it (``int8 + 300`` adds 44: the same result as adding
    300 and wrapping, since +, -, * and the bitwise ops are arithmetic modulo 2**bits).

    Raises:
        ScalarOverflowError: for an int outside [-2**63, 2**64), which PyTorch cannot hold
            either ("int too big to convert").
    """
    low, high = dtype_range(dtype)
    if low <= value <= high:
        return value
    require_64_bit_int(op, value, dtype)
    return (value - low) % (high - low + 1) + low


def require_64_bit_int(op: str, value: int, dtype: Any) -> None:
    """Refuse a Python int outside [-2**63, 2**64) as an operand of a tensor of ``dtype`` (any
    dtype, floats too: ``float16_tensor + 2**70``), as PyTorch ("int too big to convert"): it
    holds every number operand in 64 bits, where NumPy would round it to the tensor's dtype.

    Raises:
        ScalarOverflowError: naming the op, the value and the dtype.
    """
    if not backend.fits_64_bits(value):
        raise ScalarOverflowError(
            f"{op}: the Python int {value} is too big to convert (a scalar must fit in int64 or "
            f"uint64, as in PyTorch; the tensor is {dtype})"
        )


def checked_scalar(op: str, value: Any, dtype: Any) -> Any:
    """``value`` (a Python bool, int or float) ready to be stored in ``dtype``, by PyTorch's
    checked conversion (``full``, ``fill_``, ``masked_fill``, ``where``, ``clamp``'s bounds,
    ``t[i] = v``, ``tensor``): a value outside the dtype's range raises, naming it and the dtype.

    As PyTorch (``c10::checked_convert``): a negative int down to -max goes into an unsigned
    dtype modulo 2**bits (-1 is 255 in uint8); a float goes into an integer dtype only if it
    lies in [min, max] (it is then truncated), never NaN or an infinity; a finite float beyond
    a float dtype's largest value raises (an infinity does not); anything goes into bool.

    Raises:
        ScalarOverflowError: (an ``OverflowError`` and a ``RuntimeError``) otherwise.
    """
    kind = dtype.kind
    if not isinstance(value, (int, float)) and isinstance(value, numbers.Integral):
        value = int(value)  # a NumPy int: NumPy would wrap it silently
    if kind == "b" or value.__class__ is bool or not isinstance(value, (int, float)):
        return value  # anything else is left to NumPy (and its error)
    if value.__class__ is int:
        require_64_bit_int(op, value, dtype)
    low, high = dtype_range(dtype)
    if kind == "f":
        if not abs(value) > high or abs(value) == float("inf"):  # NaN passes too
            return value
    elif isinstance(value, int):
        if low <= value <= high:
            return value
        if kind == "u" and -high <= value < 0:
            return value + high + 1
    elif low <= value <= high:  # a float (False for NaN)
        return value
    wraps = f"; negative ints down to -{high} wrap around" if kind == "u" else ""
    raise ScalarOverflowError(
        f"{op}: the value {value!r} is out of bounds for {dtype}, which holds {low} to {high}"
        f"{wraps} (it cannot be converted without overflow)"
    )
