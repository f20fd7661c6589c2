"""Factories: tensors made from a shape, a range or a random draw, on the current backend.

Every factory takes ``dtype`` (default float32, int64 for integer ranges), ``device`` (default:
the current backend's device) and ``requires_grad``. Random draws come from the generator that
``minigrad.manual_seed`` seeds.

Owns: the factories (``tensor``, ``zeros``, ``randn``, ...). May import: ``backend``,
``promotion`` and ``tensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigrad import backend
from minigrad.promotion import checked_scalar
from minigrad.tensor import Tensor

_NDARRAY = backend.ARRAY_TYPES[0]  # numpy.ndarray


def _on_host() -> bool:
    """Whether new tensors go to the CPU (the NumPy backend)."""
    return backend.get_backend() == "numpy"


def _shape(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise ValueError(f"sizes must be non-negative, got {shape}")
    return shape


def _finish(data: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(dtype: Any, default: Any = backend.DEFAULT_FLOAT) -> Any:
    return default if dtype is None else backend.numpy_module().dtype(dtype)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy or CuPy arrays).

    Python floats become float32 (the default); arrays keep their dtype unless ``dtype`` is given.
    """
    if data.__class__ is _NDARRAY and dtype is None and device is None:
        # the usual case, a NumPy array for the NumPy backend: its copy, wrapped, when it passes
        # Tensor()'s checks (a dtype it accepts; requires_grad only for floats)
        kind = data.dtype.kind
        if kind in "fbiu" and (kind == "f" or not requires_grad) and _on_host():
            t = Tensor._wrap(data.copy())
            if requires_grad:
                t.requires_grad = True
            return t
    t = Tensor(data, dtype, requires_grad, device)  # positional: keywords cost at this scale
    if t.array is (data.array if isinstance(data, Tensor) else data):
        t.array = t.array.copy()  # never share memory with the caller's array
    return t


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
    elif dtype is None and isinstance(fill_value, int):
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


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``t``'s shape, dtype (unless given) and device."""
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``t``'s shape, dtype (unless given) and device."""
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 when all three are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        all_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.int64 if all_int else backend.DEFAULT_FLOAT
    device = backend.normalize_device(device)
    with _OnDevice(device):
        return _finish(
            backend.module_for_device(device).arange(start, end, step, dtype=_dtype(dtype)),
            requires_grad,
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
    t: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``t``'s shape, dtype (unless ``dtype`` says) and device filled with
    ``fill_value``."""
    return full(
        t.shape, fill_value, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad
    )


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32 unless
    ``dtype`` says)."""
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    device = backend.normalize_device(device)
    with _OnDevice(device):
        xp = backend.module_for_device(device)
        d = _dtype(dtype)
        values = xp.linspace(start, end, steps, dtype=backend.float64)
        if d.kind in "iu":
            values = xp.trunc(values)  # PyTorch truncates toward zero
        return _finish(values.astype(d), requires_grad)
