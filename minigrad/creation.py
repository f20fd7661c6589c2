"""Factories: tensors made from a shape, a range or a random draw, on the current backend.

Every factory takes ``dtype`` (default float32, int64 for integer ranges), ``device`` (default:
the current backend's device) and ``requires_grad``. Random draws come from the generator that
``minigrad.manual_seed`` seeds.

Owns: the factories (``tensor``, ``zeros``, ``randn``, ...). May import: ``backend``,
``promotion`` and ``tensor``.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from typing import Any

from minigrad import backend
from minigrad.promotion import checked_scalar
from minigrad.tensor import DTYPES_HELP, SUPPORTED_DTYPES, Tensor, checked_dtype

_NDARRAY = backend.ARRAY_TYPES[0]  # numpy.ndarray


def _on_host() -> bool:
    """Whether new tensors go to the CPU (the NumPy backend)."""
    return backend.get_backend() == "numpy"


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:  # ints (Python, NumPy or one-element integer tensors), never a float: 2.5 raises
        shape = tuple(operator.index(n) for n in size)
    except TypeError:
        kinds = ", ".join(type(n).__name__ for n in size)
        raise TypeError(f"sizes must be ints, got {tuple(size)!r:.80} ({kinds})") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"sizes must be non-negative, got {shape}")
    return shape


def _finish(data: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(dtype: Any, default: Any = backend.DEFAULT_FLOAT) -> Any:
    return default if dtype is None else checked_dtype(dtype)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy or CuPy arrays).

    Python floats become float32 (the default); arrays keep their dtype unless ``dtype`` is given.
    """
    if data.__class__ is _NDARRAY and dtype is None and device is None:
        # the usual case, a NumPy array for the NumPy backend: its copy, wrapped, when it passes
        # Tensor()'s checks (a dtype it accepts; requires_grad only for floats)
        kind = data.dtype.kind
        if data.dtype in SUPPORTED_DTYPES and (kind == "f" or not requires_grad) and _on_host():
            t = Tensor._wrap(data.copy())
            if requires_grad:
                t.requires_grad = True
            return t
    t = Tensor(data, dtype, requires_grad, device)  # positional: keywords cost at this scale
    if t.array is (data.array if isinstance(data, Tensor) else data):
        t.array = t.array.copy()  # never share memory with the caller's array
    return t


def from_numpy(array: Any) -> Tensor:
    """A tensor sharing ``array``'s memory (a NumPy array, any shape, kept in its dtype), as
    ``torch.from_numpy``: writes through either show in the other. On the CPU.

    Raises:
        TypeError: ``array`` is not a NumPy array, or of a dtype minigrad has no tensors of.
    """
    if not isinstance(array, _NDARRAY):
        raise TypeError(f"from_numpy: expected a NumPy ndarray, got {type(array).__name__}")
    if array.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"from_numpy: dtype {array.dtype} is not supported: {DTYPES_HELP}")
    return Tensor._wrap(array)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))`` -> (2, 3), float32 by default."""
    return full(_shape(size), 0, dtype=_dtype(dtype), device=device, requires_grad=requires_grad)


def full(
    size: Sequence[int],
    fill_value: float,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (int fill gives int64 unless dtype says)."""
    if dtype is None and isinstance(fill_value, bool):
        dtype = backend.bool_
    elif dtype is None and isinstance(fill_value, numbers.Integral):  # NumPy ints too
        dtype = backend.int64
    if not (fill_value == 0 or fill_value == 1):  # 0 and 1 fit any dtype
        fill_value = checked_scalar("full", fill_value, _dtype(dtype))  # as PyTorch: 300 in
        # uint8 raises, -1 is 255; NumPy would raise for -1 and give 44 for 300.5
    device = backend.normalize_device(device)
    xp = backend.module_for_device(device)
    with _OnDevice(device):
        return _finish(
            xp.full(
                _shape((size,)),
                fill_value,
                dtype=_dtype(dtype),
            ),
            requires_grad,
        )


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))`` -> (2, 3), float32 by default."""
    return full(_shape(size), 1, dtype=_dtype(dtype), device=device, requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialized memory of the given size (read it only after writing)."""
    device = backend.normalize_device(device)
    with _OnDevice(device):
        return _finish(
            backend.module_for_device(device).empty(_shape(size), dtype=_dtype(dtype)),
            requires_grad,
        )


def zeros_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Zeros of ``t``'s shape, dtype and device (unless given)."""
    return full_like(t, 0, dtype=dtype, requires_grad=requires_grad, device=device)


def ones_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Ones of ``t``'s shape, dtype and device (unless given)."""
    return full_like(t, 1, dtype=dtype, requires_grad=requires_grad, device=device)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all three are
    integers (Python or NumPy), else float32.

    As PyTorch: the length is ``ceil((end - start) / step)``; element i is
    ``start + i * step`` computed in float64 (float32 for float16) and rounded once to
    ``dtype``; a step of the wrong sign for the bounds, a zero or NaN step and infinite bounds
    raise. Bool is refused, and an integer ``dtype`` wants a whole-number start and step
    (PyTorch's int32 and int64 kernels truncate fractional ones, each its own way).
    """
    if end is None:
        start, end = 0, start
    start, end, step = (_real("arange", v) for v in (start, end, step))
    count = _arange_length("arange", start, end, step)
    if dtype is None:
        whole = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = backend.int64 if whole else backend.DEFAULT_FLOAT
    dtype = _dtype(dtype)
    device = backend.normalize_device(device)
    xp = backend.module_for_device(device)
    with _OnDevice(device):
        if dtype.kind == "f":  # PyTorch's accumulate type: float32 for float16, else float64
            acc = backend.float32 if dtype == backend.float16 else backend.float64
            steps = xp.arange(count, dtype=acc)
            with backend.quiet():  # past float16's range: inf, as PyTorch
                values = (steps * acc.type(step) + acc.type(start)).astype(dtype)
        else:
            _whole_bounds("arange", dtype, start=start, step=step)  # the length rule takes end
            values = (xp.arange(count, dtype=backend.int64) * int(step) + int(start)).astype(dtype)
        return _finish(values, requires_grad)


def _real(name: str, value: Any) -> Any:
    """``value`` as a number: a 0-d or one-element Tensor gives its item, as PyTorch."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    return value


def _arange_length(name: str, start: Any, end: Any, step: Any) -> int:
    """PyTorch's checks and length rule for ``arange``: ceil((end - start) / step)."""
    if not (step > 0 or step < 0):
        raise ValueError(f"{name}: step must be nonzero, got {step}")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"{name}: unsupported range: {start} -> {end}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise ValueError(
            f"{name}: upper bound and lower bound inconsistent with step sign (start {start}, "
            f"end {end}, step {step})"
        )
    return math.ceil((float(end) - float(start)) / float(step))


def _whole_bounds(name: str, dtype: Any, **values: Any) -> None:
    """An integer ``dtype`` takes whole numbers only (here: ``values``); bool is refused."""
    if dtype.kind == "b":
        raise TypeError(f"{name}: dtype bool is not supported (as PyTorch)")
    fractional = {k: v for k, v in values.items() if v != int(v)}
    if fractional:
        shown = ", ".join(f"{k} {v}" for k, v in fractional.items())
        raise ValueError(
            f"{name}: an integer dtype ({dtype}) needs a whole-number start and step, got {shown}; "
            "give a float dtype and cast the result if truncation is meant"
        )


def eye(
    n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """An (n, m) matrix with ones on the diagonal."""
    device = backend.normalize_device(device)
    with _OnDevice(device):
        return _finish(
            backend.module_for_device(device).eye(n, m, dtype=_dtype(dtype)), requires_grad
        )


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    device = backend.normalize_device(device)
    return _finish(
        backend.uniform(_shape(size), _float_dtype(dtype, "rand"), device), requires_grad
    )


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    device = backend.normalize_device(device)
    return _finish(
        backend.normal(_shape(size), _float_dtype(dtype, "randn"), device), requires_grad
    )


def randint(
    low: int,
    high: int | None = None,
    size: Sequence[int] = (),
    dtype: Any = None,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint(high, size=...)`` means low = 0)."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    device = backend.normalize_device(device)
    return Tensor._wrap(
        backend.integers(
            low,
            high,
            _shape((size,)),
            _dtype(dtype, backend.int64),
            device,
        )
    )


def _float_dtype(dtype: Any, name: str) -> Any:
    d = _dtype(dtype)
    if d not in (backend.float32, backend.float64):
        raise TypeError(f"{name}: dtype must be float32 or float64, got {d}")
    return d


class _OnDevice:
    """Allocate on a given GPU (no-op on the CPU)."""

    def __init__(self, device: str) -> None:
        self.ctx = None
        if device != "cpu":
            self.ctx = backend.module_for_device(device).cuda.Device(int(device.split(":")[1]))

    def __enter__(self) -> None:
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def full_like(
    t: Tensor,
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    *,
    device: Any = None,
) -> Tensor:
    """A tensor of ``t``'s shape, dtype and device (unless ``dtype`` or ``device`` says)
    filled with ``fill_value``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"expects a tensor to take the shape of, got {type(t).__name__}")
    dtype = t.dtype if dtype is None else dtype
    device = t.device if device is None else device
    return full(t.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 unless
    ``dtype`` says; an integer dtype truncates, with PyTorch's rule: see :func:`_spaced`)."""
    steps = _count("linspace", steps)
    d = _dtype(dtype)
    device = backend.normalize_device(device)
    with _OnDevice(device):
        xp = backend.module_for_device(device)
        values = _spaced("linspace", start, end, steps, d, xp)
        if d.kind in "iu":
            values = xp.trunc(values)  # PyTorch truncates toward zero
        return _finish(values.astype(d), requires_grad)


def _count(name: str, steps: Any) -> int:
    """``steps``: a non-negative int (Python or NumPy; not a bool, not a float)."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"{name}: steps must be a non-negative int, got {steps!r}")
    return int(steps)


def _spaced(name: str, start: float, end: float, steps: int, dtype: Any, xp: Any) -> Any:
    """The ``steps`` points of ``linspace``/``logspace``'s exponents, in float64.

    For a float ``dtype``: ``start + i * (end - start) / (steps - 1)``, ending exactly at
    ``end``. For an integer ``dtype``, PyTorch's rule: ``start`` and ``end`` are first converted
    to the dtype (truncated, checked as ``full``'s value), then the first half of the points is
    counted up from ``start`` and the second half down from ``end``. Bool is refused.
    """
    if dtype.kind == "b":
        raise TypeError(f"{name}: dtype bool is not supported (as PyTorch)")
    start, end = _real(name, start), _real(name, end)
    if dtype.kind == "f" or steps <= 1:  # one point: start itself, as PyTorch
        return xp.linspace(start, end, steps, dtype=backend.float64)
    start, end = (int(checked_scalar(name, v, dtype)) for v in (start, end))  # truncated
    step = (end - start) / (steps - 1)
    index = xp.arange(steps, dtype=backend.float64)
    return xp.where(index < steps // 2, start + step * index, end - step * (steps - 1 - index))
