"""The array backend: the only module that knows NumPy from CuPy.

Everything above this module receives an *array module* ``xp`` (``numpy`` or ``cupy``) taken
from the arrays it is given, and calls ``xp.exp``, ``xp.matmul`` and so on. The few things the
two libraries do differently live here: devices and host copies, random generators, scatter-add,
``erf``, and the lazy import of CuPy.

Devices are plain strings: ``"cpu"`` for NumPy arrays and ``"cuda:N"`` for CuPy arrays.

Owns: array modules, devices, host copies, random generators, named kernels. May import:
NumPy, CuPy (lazily) and ``minigrad.errors``; nothing else of minigrad.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy

from minigrad.errors import ScalarOverflowError

__all__ = [
    "Array",
    "BackendError",
    "UnknownBackendError",
    "array_module",
    "device_of",
    "default_device",
    "get_backend",
    "set_backend",
    "set_backend_from_environment",
    "set_rng_state",
    "get_rng_state",
    "manual_seed",
    "normalize_device",
    "to_device",
    "to_host",
    "int_range",
]

Array = Any  # numpy.ndarray or cupy.ndarray; Any keeps both type checkers and readers honest

# Dtypes are NumPy's dtype objects; CuPy uses the same ones.
float16 = numpy.dtype("float16")
float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
uint8 = numpy.dtype("uint8")
int8 = numpy.dtype("int8")
int16 = numpy.dtype("int16")
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")
DEFAULT_FLOAT = float32

_CUPY_HINT = (
    "install it with `pip install 'minigrad[gpu]'` (cupy-cuda12x) on a machine with an NVIDIA GPU "
    "and CUDA 12, or use the NumPy backend: minigrad.set_backend('numpy')"
)


class BackendError(RuntimeError):
    """Raised when a backend or device is asked for that this machine cannot provide."""


# ---------------------------------------------------------------------------------------------
# The lazy CuPy import
# ---------------------------------------------------------------------------------------------

_cupy: ModuleType | None = None
#: The array types the engine accepts as tensor data; cupy.ndarray joins once CuPy is loaded.
ARRAY_TYPES: tuple[type, ...] = (numpy.ndarray,)


def _load_cupy() -> ModuleType:
    """Import CuPy on first use and check that a GPU is present."""
    global _cupy, ARRAY_TYPES
    if _cupy is not None:
        return _cupy
    try:
        import cupy  # noqa: PLC0415  (imported lazily on purpose)
    except ImportError as err:
        raise BackendError(
            f"the CuPy backend needs the cupy package, which is missing: {_CUPY_HINT}"
        ) from err
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken
        raise BackendError(
            f"CuPy is installed but no CUDA GPU can be used ({err}); {_CUPY_HINT}"
        ) from err
    if count < 1:
        raise BackendError(f"CuPy is installed but this machine has no CUDA GPU; {_CUPY_HINT}")
    _cupy = cupy
    ARRAY_TYPES = (numpy.ndarray, cupy.ndarray)
    return cupy


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        _load_cupy()
    except BackendError:
        return False
    return True


def _is_cupy_array(arr: Array) -> bool:
    return _cupy is not None and isinstance(arr, _cupy.ndarray)


# ---------------------------------------------------------------------------------------------
# The current backend and devices
# ---------------------------------------------------------------------------------------------

_BACKENDS = ("numpy", "cupy")
_backend: str | None = "numpy"  # None: MINIGRAD_BACKEND named no usable backend (see below)
_environment_problem: tuple[type[BackendError], str] | None = None


class UnknownBackendError(BackendError, ValueError):
    """A backend name that is neither ``"numpy"`` nor ``"cupy"`` (a ``ValueError`` too)."""


def set_backend(name: str) -> None:
    """Choose where new tensors are created: ``"numpy"`` (CPU) or ``"cupy"`` (GPU).

    Existing tensors stay where they are; move them with ``Tensor.to(device)``. A choice made
    here replaces a bad ``MINIGRAD_BACKEND``.

    Raises:
        UnknownBackendError: (a ``ValueError``) for any other name.
        BackendError: for ``"cupy"`` on a machine without CuPy or a GPU.
    """
    global _backend, _environment_problem
    if name not in _BACKENDS:
        raise UnknownBackendError(f"unknown backend {name!r}; choose 'numpy' or 'cupy'")
    if name == "cupy":
        _load_cupy()
    _backend = name
    _environment_problem = None


def set_backend_from_environment() -> None:
    """Choose the backend ``MINIGRAD_BACKEND`` names (``numpy`` when unset or empty), as
    ``import minigrad`` does.

    A value that names no backend (``tpu``), or ``cupy`` on a machine without CuPy or a GPU, is
    not ignored: every later call that needs the backend (:func:`get_backend`,
    :func:`default_device`, so every new tensor) raises the error, naming the variable, its value
    and the valid values, until :func:`set_backend` chooses one. It is raised there rather than
    at import so that a command line can report it as one line (as PyTorch reports a bad CUDA
    setting at the first CUDA call, not at ``import torch``).
    """
    global _backend, _environment_problem
    value = os.environ.get("MINIGRAD_BACKEND", "")
    try:
        set_backend(value.strip().lower() or "numpy")
    except UnknownBackendError:
        _backend = None
        _environment_problem = (
            UnknownBackendError,
            f"the environment variable MINIGRAD_BACKEND={value!r} names no backend; set it to "
            "'numpy' or 'cupy', or unset it (numpy)",
        )
    except BackendError as err:
        _backend = None
        _environment_problem = (BackendError, f"MINIGRAD_BACKEND={value!r}: {err}")


def _environment_error() -> BackendError:
    """A new error for the bad ``MINIGRAD_BACKEND`` (a fresh one each time: a raised instance
    would keep every traceback it was raised with)."""
    kind, message = _environment_problem  # type: ignore[misc]
    return kind(message)


def get_backend() -> str:
    """The name of the current backend: ``"numpy"`` or ``"cupy"``."""
    if _backend is None:
        raise _environment_error()
    return _backend


def default_device() -> str:
    """The device new tensors go to under the current backend."""
    if _backend == "numpy":
        return "cpu"
    if _backend == "cupy":
        return f"cuda:{_load_cupy().cuda.runtime.getDevice()}"
    raise _environment_error()


def normalize_device(device: Any) -> str:
    """Turn ``None``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` (or a torch-like device) into a string."""
    if device is None:
        return default_device()
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda":
        return f"cuda:{_load_cupy().cuda.runtime.getDevice()}"
    if name.startswith("cuda:") and name[5:].isdigit():
        cupy = _load_cupy()
        index = int(name[5:])
        count = cupy.cuda.runtime.getDeviceCount()
        if index >= count:
            raise BackendError(f"device {name!r} does not exist: this machine has {count} GPU(s)")
        return name
    raise ValueError(f"unknown device {device!r}; use 'cpu', 'cuda' or 'cuda:N'")


def array_module(arr: Array) -> ModuleType:
    """The array module (``numpy`` or ``cupy``) that owns ``arr``."""
    if arr.__class__ is numpy.ndarray:  # the usual case first: every op asks
        return numpy
    if _is_cupy_array(arr):
        return _cupy  # type: ignore[return-value]
    return numpy


def device_of(arr: Array) -> str:
    """``"cpu"`` for a NumPy array, ``"cuda:N"`` for a CuPy array on GPU N."""
    if _is_cupy_array(arr):
        return f"cuda:{arr.device.id}"
    return "cpu"


def module_for_device(device: str) -> ModuleType:
    """The array module that holds arrays on ``device``."""
    return numpy if device == "cpu" else _load_cupy()


def asarray(data: Any, dtype: Any = None, device: str = "cpu") -> Array:
    """Make an array on ``device`` from nested lists, scalars or arrays of either backend."""
    if device == "cpu":
        if _is_cupy_array(data):
            data = data.get()
        return numpy.asarray(data, dtype=dtype)
    cupy = _load_cupy()
    with cupy.cuda.Device(int(device.split(":")[1])):
        return cupy.asarray(data, dtype=dtype)


def to_device(arr: Array, device: str) -> Array:
    """Copy ``arr`` to ``device`` (no copy when it is already there)."""
    if device_of(arr) == device:
        return arr
    return asarray(arr, device=device)


def to_host(arr: Array) -> numpy.ndarray:
    """A NumPy array with the values of ``arr`` (a device-to-host copy for CuPy arrays).

    Every read of array values to the host in minigrad, nn and transformer goes through here
    (``Tensor.numpy``, ``item``, the id checks of :func:`int_range`, decoding's stop tests), so
    that on a GPU each sync is visible, and a test can count them by patching this function.
    """
    if arr.__class__ is numpy.ndarray:  # the usual case: already on the host
        return arr
    if _is_cupy_array(arr):
        return arr.get()
    return numpy.asarray(arr)


def int_range(arr: Array, skip: int | None = None) -> tuple[int, int, bool]:
    """The smallest and largest of the integers in ``arr``, read to the host in one transfer.

    Elements equal to ``skip`` are left out; the third value says whether there were any.
    When nothing is left (``arr`` is empty, or every element equals ``skip``), the range is
    empty: lo > hi. This is how an op checks ids against a size before it indexes with them:
    one small device-to-host read (a sync on the GPU) per check, not one per bound.
    """
    if arr.size == 0:
        return 0, -1, False
    if arr.__class__ is numpy.ndarray or not _is_cupy_array(arr):  # on the host the read is
        # free: no need to stack the statistics
        return _host_int_range(to_host(arr), skip)
    xp = array_module(arr)
    info = _iinfo(arr.dtype)
    if skip is not None and not info.min <= skip <= info.max:
        skip = None  # no element can equal it
    if skip is None:
        stats = xp.stack([arr.min(), arr.max()])
        lo, hi = (int(v) for v in to_host(stats))
        return lo, hi, False
    keep = arr != skip
    stats = xp.stack(
        [
            xp.where(keep, arr, info.max).min(),
            xp.where(keep, arr, info.min).max(),
            (~keep).any().astype(arr.dtype),
        ]
    )
    lo, hi, skipped = (int(v) for v in to_host(stats))
    return lo, hi, bool(skipped)


_iinfo = functools.cache(numpy.iinfo)


INT_RANGE_LIST_SIZE = 256  # up to here Python's min and max of a list beat two NumPy reductions


def _host_int_range(arr: numpy.ndarray, skip: int | None) -> tuple[int, int, bool]:
    """``int_range`` of a non-empty NumPy array."""
    if arr.size <= INT_RANGE_LIST_SIZE:  # one sort of a few ints costs less than min() and max()
        values = arr.ravel().tolist()
        values.sort()
        lo, hi = int(values[0]), int(values[-1])
    else:
        lo, hi = int(numpy.minimum.reduce(arr, None)), int(numpy.maximum.reduce(arr, None))
    if skip is None or not lo <= skip <= hi:  # the usual case: no element can equal skip
        return lo, hi, False
    keep = arr != skip
    if keep.all():
        return lo, hi, False
    arr = arr[keep]
    if arr.size == 0:
        return 0, -1, True
    return int(arr.min()), int(arr.max()), True


def ensure_array(value: Any, like: Array) -> Array:
    """Wrap a 0-d result (NumPy returns scalars from ufuncs on 0-d arrays) as an array."""
    return array_module(like).asarray(value)


# ---------------------------------------------------------------------------------------------
# Random numbers: one generator per backend, reseeded together by manual_seed
# ---------------------------------------------------------------------------------------------

_seed: int | None = None
_generators: dict[str, Any] = {}


def manual_seed(seed: int) -> None:
    """Seed every random draw (factories, dropout) on every backend."""
    global _seed
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"manual_seed expects a non-negative int, got {seed!r}")
    _seed = seed
    _generators.clear()


def seed() -> int:
    """Seed every generator from fresh entropy (PyTorch's ``torch.seed``); returns the seed,
    which ``manual_seed`` takes to replay what follows."""
    chosen = int(numpy.random.SeedSequence().generate_state(1, numpy.uint64)[0] >> 1)
    manual_seed(chosen)
    return chosen


def float_limits(dtype: Any) -> tuple[int, float, float, float, float, float]:
    """``(bits, eps, max, min, smallest normal, resolution)`` of a floating dtype."""
    info = numpy.finfo(dtype)
    return (
        info.bits,
        float(info.eps),
        float(info.max),
        float(info.min),
        float(info.smallest_normal),
        10.0**-info.precision,  # 10 ** -digits, as a Python float (PyTorch's)
    )


def int_limits(dtype: Any) -> tuple[int, int, int]:
    """``(bits, max, min)`` of an integer dtype."""
    info = numpy.iinfo(dtype)
    return info.bits, int(info.max), int(info.min)


def seed_legacy_numpy(seed: int) -> None:
    """Seed NumPy's legacy global generator (``numpy.random.rand`` and the like, which user
    code in a DataLoader worker may call) with ``seed`` (taken modulo 2**32)."""
    numpy.random.seed(seed % 2**32)


def initial_seed() -> int | None:
    """The seed ``manual_seed`` (or ``seed``) last set; None while every generator draws from
    fresh entropy (PyTorch's default generator starts from a fixed seed instead)."""
    return _seed


def generator(device: str) -> Any:
    """The random generator for ``device`` (``numpy.random.Generator`` or CuPy's)."""
    gen = _generators.get(device)
    if gen is None:
        gen = _generators[device] = new_generator(device, _seed)
    return gen


def new_generator(device: str, seed: int | None = None) -> Any:
    """A generator of its own for ``device``, seeded with ``seed`` (None: fresh entropy)."""
    if device == "cpu":
        return numpy.random.default_rng(seed)
    cupy = _load_cupy()
    with cupy.cuda.Device(int(device.split(":")[1])):
        return cupy.random.default_rng(seed)


def draws_on_cpu(gen: Any) -> bool:
    """False for a generator that draws on a GPU (CuPy's), True for NumPy's (a ``Generator``
    or a legacy ``RandomState``), which draw on the CPU."""
    return not type(gen).__module__.startswith("cupy")


def get_rng_state(devices: tuple[str, ...] = ()) -> tuple[int | None, dict[str, Any]]:
    """A copy of every random generator's state (and the seed), to give to ``set_rng_state``.

    The generators of ``devices`` are made first if they do not exist yet, so that draws on
    them after this call can be replayed even without ``manual_seed``.
    """
    for device in devices:
        generator(device)
    return _seed, {device: (gen, _state_of(gen)) for device, gen in _generators.items()}


def set_rng_state(state: tuple[int | None, dict[str, Any]]) -> None:
    """Put the generators back as ``get_rng_state`` found them (the state stays reusable)."""
    global _seed
    _seed, saved = state
    _generators.clear()
    for device, (gen, gen_state) in saved.items():
        _set_state_of(gen, gen_state)
        _generators[device] = gen


def _state_of(gen: Any) -> Any:
    if isinstance(gen, numpy.random.Generator):
        return gen.bit_generator.state  # a new dict each time
    # CuPy's cuRAND generators keep their state in a device array (no public accessor)
    return gen.bit_generator._state.copy()


def _set_state_of(gen: Any, state: Any) -> None:
    if isinstance(gen, numpy.random.Generator):
        gen.bit_generator.state = state
    else:
        gen.bit_generator._state[...] = state


def uniform(shape: tuple[int, ...], dtype: Any, device: str, source: Any = None) -> Array:
    """Uniform samples in [0, 1), drawn directly in ``dtype`` (float32 or float64) on
    ``device``: from ``source`` when given (a ``Generator`` of minigrad's, NumPy's or CuPy's),
    else from the device's generator (the one ``manual_seed`` seeds)."""
    if source is None:
        return generator(device).random(shape, dtype=dtype)
    return to_device(source.random(shape, dtype=dtype), device)


def normal(shape: tuple[int, ...], dtype: Any, device: str, source: Any = None) -> Array:
    """Standard normal samples, drawn directly in ``dtype`` (float32 or float64) on
    ``device``: from ``source`` when given, else from the device's generator (as
    :func:`uniform`)."""
    if source is None:
        return generator(device).standard_normal(shape, dtype=dtype)
    return to_device(source.standard_normal(shape, dtype=dtype), device)


def keep_mask(shape: tuple[int, ...], p: float, device: str) -> Array:
    """A bool mask that is False with probability ``p`` (dropout's survivors).

    On the CPU the draw is 16-bit integers compared with round(p * 2^16), 2.5x faster than
    float draws; p is thereby rounded to a multiple of 2^-16 (1.5e-5).
    """
    if device == "cpu":
        threshold = round(p * 65536)
        return generator(device).integers(0, 65536, size=shape, dtype=numpy.uint16) >= threshold
    return generator(device).random(shape, dtype=numpy.float32) >= p


def integers(low: int, high: int, shape: tuple[int, ...], dtype: Any, device: str) -> Array:
    """Integers drawn uniformly from [low, high)."""
    gen = generator(device)
    if device == "cpu":
        return gen.integers(low, high, size=shape, dtype=dtype)
    return gen.integers(low, high, size=shape).astype(dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Operations the two libraries spell differently
# ---------------------------------------------------------------------------------------------


def scatter_add(target: Array, index: Any, values: Array) -> None:
    """``target[index] += values`` where repeated indices accumulate (in place)."""
    if _is_cupy_array(target) and not cupy_adds_at(target.dtype):  # int64 on CuPy 13, bool, ...
        scatter_add_on_host(target, index, values)
    elif _is_cupy_array(target) and not hasattr(_load_cupy().add, "at"):
        import cupyx  # noqa: PLC0415  (CuPy before ufunc.at; deprecated in later CuPy)

        cupyx.scatter_add(target, index, values)
    else:
        array_module(target).add.at(target, index, values)


def scatter_reduce_at(target: Array, index: Any, values: Array, how: str) -> None:
    """``target[index] = how(target[index], values)`` where repeated indices all take part, for
    ``how`` one of "add", "multiply", "maximum", "minimum" (in place; NumPy's ``ufunc.at``).
    On CuPy all but "add" go through the host."""
    if how == "add":
        scatter_add(target, index, values)
    elif not _is_cupy_array(target):
        getattr(numpy, how).at(target, index, values)
    else:  # CuPy lacks multiply.at, and its maximum.at / minimum.at gave wrong results on an
        # H200 (CuPy 14.2): NumPy's, on the host
        host = to_host(target)
        host_index = tuple(to_host(i) if _is_cupy_array(i) else i for i in index)
        getattr(numpy, how).at(host, host_index, to_host(values))
        target[...] = _load_cupy().asarray(host)


def integer_power(a: Any, b: Any) -> Array:
    """``a ** b`` of integers where some ``b`` is negative (NumPy refuses): PyTorch's integer
    power, ``a ** -n`` being 1 for a = 1, (-1) ** n for a = -1 and 0 otherwise."""
    xp = array_module(b)  # an array: a negative Python int exponent is refused before
    negative = b < 0
    out = a ** xp.where(negative, 0, b).astype(b.dtype, copy=False)
    odd = (b % 2) != 0
    at_negative = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, at_negative, out).astype(out.dtype, copy=False)


def floor_divide(a: Any, b: Any) -> Array:
    """``a // b`` of floats as NumPy computes it (and Python, and PyTorch): from ``fmod``, so
    ``1.0 // 0.1`` is 9, where ``floor(1.0 / 0.1)`` is 10. CuPy's ``floor_divide`` is the
    latter, so on CuPy NumPy's steps are spelled out (:func:`floor_divide_by_fmod`)."""
    xp = array_module(b if isinstance(a, (int, float)) else a)
    if xp is numpy:
        return numpy.floor_divide(a, b)
    dtype = xp.result_type(a, b)
    work = numpy.float32 if dtype == numpy.float16 else dtype  # NumPy's float16 goes by float32
    out = floor_divide_by_fmod(xp, xp.asarray(a, work), xp.asarray(b, work))
    return out.astype(dtype, copy=False)


def floor_divide_by_fmod(xp: ModuleType, a: Array, b: Array) -> Array:
    """The steps of NumPy's float ``floor_divide`` (``npy_divmod``) in array ops, for arrays
    ``a`` and ``b`` of one float dtype; the tests check them against NumPy's on the CPU."""
    mod = xp.fmod(a, b)
    div = (a - mod) / b  # a multiple of b over b: exact up to one rounding
    div = xp.where((mod != 0) & ((b < 0) != (mod < 0)), div - 1, div)  # toward -inf
    floor = xp.floor(div)
    floor = xp.where(div - floor > 0.5, floor + 1, floor)  # div was rounded just below
    quotient = a / b
    floor = xp.where(div == 0, xp.copysign(xp.zeros_like(floor), quotient), floor)
    return xp.where(b == 0, quotient, floor)  # x / 0: +-inf or NaN


def index_rows_add(num_rows: int, index: Array, values: Array) -> Array:
    """Sum the rows of ``values`` (shape (*index.shape, D)) into a (num_rows, D) array by ``index``.

    The gradient of an embedding lookup. The positions are sorted by row once, and each row's
    values are summed in that order: deterministic, the same sums on every run (``add.at`` on a
    GPU adds them atomically, in a different order each run). NumPy sums the segments with
    ``add.reduceat``, CuPy with :func:`_segment_rows_sum` (one kernel over all rows).
    """
    xp = array_module(values)
    flat_index = index.reshape(-1)
    flat_values = values.reshape(flat_index.shape[0], math.prod(values.shape[index.ndim :]))
    if xp is numpy or flat_index.shape[0] == 0:
        out = xp.zeros((num_rows, flat_values.shape[1]), dtype=values.dtype)
        if flat_index.shape[0]:
            order, rows, starts = row_segments(flat_index)
            out[rows] = numpy.add.reduceat(flat_values[order], starts, axis=0)
        return out
    return _segment_rows_sum(flat_values, *row_ranges(flat_index, num_rows))


def row_ranges(flat_index: Array, num_rows: int) -> tuple[Array, Array, Array]:
    """Every row's positions in a 1-D ``flat_index`` of values in [0, num_rows): ``order``
    sorts them (stable), and the positions of row ``r`` are ``order[starts[r]:ends[r]]``
    (``starts``, ``ends``: (num_rows,); an absent row's range is empty). Found by searchsorted,
    which, unlike flatnonzero (:func:`row_segments`), needs no wait for a GPU to learn how
    many rows are present."""
    xp = array_module(flat_index)
    flat_index = flat_index.astype(numpy.int64, copy=False)  # rows past a uint8's 255 too
    order = xp.argsort(flat_index, kind="stable")  # CuPy's is stable and takes kind="stable"
    sorted_index = flat_index[order]
    rows = xp.arange(num_rows, dtype=numpy.int64)
    starts = xp.searchsorted(sorted_index, rows, side="left")
    ends = xp.searchsorted(sorted_index, rows, side="right")
    return order, starts, ends


def row_segments(flat_index: Array) -> tuple[Array, Array, Array]:
    """The positions of a non-empty 1-D ``flat_index`` grouped by value: ``order`` sorts them
    (stable), ``rows`` holds the distinct values in ascending order, and the positions of
    ``rows[r]`` start at ``order[starts[r]]`` and run to the next start (``add.reduceat``'s
    segments)."""
    xp = array_module(flat_index)
    order = xp.argsort(flat_index, kind="stable")  # CuPy's is stable and takes kind="stable"
    sorted_index = flat_index[order]
    first = xp.empty(sorted_index.shape, dtype=bool)  # the first position of each value
    first[0] = True
    xp.not_equal(sorted_index[1:], sorted_index[:-1], out=first[1:])
    starts = xp.flatnonzero(first)
    return order, sorted_index[starts], starts


_segment_rows_kernel: Any = None


def _segment_rows_sum(values: Array, order: Array, starts: Array, ends: Array) -> Array:
    """CuPy: (len(starts), D) sums, row r = ``values[order[starts[r]:ends[r]]].sum(0)``, added
    one after the other in that order by one GPU thread per (r, column)."""
    global _segment_rows_kernel
    cupy = _load_cupy()
    if _segment_rows_kernel is None:
        _segment_rows_kernel = cupy.ElementwiseKernel(
            "raw T values, raw int64 order, raw int64 starts, raw int64 ends, int64 width",
            "T sums",
            """
            const long long row = i / width, col = i % width;
            T acc = 0;
            for (long long k = starts[row]; k < ends[row]; ++k) {
                acc += values[order[k] * width + col];
            }
            sums = acc;
            """,
            "minigrad_segment_rows_sum",
        )
    dtype = values.dtype
    if dtype not in (numpy.float32, numpy.float64):  # float16 sums in float32
        values = values.astype(numpy.float32)
    values = cupy.ascontiguousarray(values)
    sums = cupy.empty((starts.shape[0], values.shape[1]), dtype=values.dtype)
    _segment_rows_kernel(
        values, order.astype(numpy.int64, copy=False), starts.astype(numpy.int64, copy=False),
        ends.astype(numpy.int64, copy=False), values.shape[1], sums,
    )  # fmt: skip
    return sums.astype(dtype, copy=False)


_adam_kernel: Any = None


def adam_step_fused(
    param: Array,
    grad: Array,
    exp_avg: Array,
    exp_avg_sq: Array,
    beta1: float,
    beta2: float,
    bias_correction2_sqrt: float,
    eps: float,
    step_size: float,
) -> bool:
    """Adam's update of ``param``, ``exp_avg`` and ``exp_avg_sq`` (same shape) in place, as one
    GPU kernel instead of 13. nn.optim's ``_adam_formula`` states the formula; the kernel keeps
    its order of operations and rounds each one, so it gives the same bits. Returns False, doing
    nothing, where there is no such kernel: NumPy arrays (a NumPy call launches nothing), and
    dtypes other than float32 and float64."""
    global _adam_kernel
    if not _is_cupy_array(param) or param.dtype not in (numpy.float32, numpy.float64):
        return False
    if grad.dtype != param.dtype or exp_avg.dtype != param.dtype:
        return False
    if _adam_kernel is None:
        _adam_kernel = _load_cupy().ElementwiseKernel(
            "T grad, T beta1, T one_minus_beta1, T beta2, T one_minus_beta2, "
            "T bias_correction2_sqrt, T eps, T step_size",
            "T param, T exp_avg, T exp_avg_sq",
            """
            exp_avg = exp_avg * beta1 + one_minus_beta1 * grad;
            exp_avg_sq = exp_avg_sq * beta2 + one_minus_beta2 * (grad * grad);
            param -= exp_avg / (sqrt(exp_avg_sq) / bias_correction2_sqrt + eps) * step_size;
            """,
            "minigrad_adam_step",
            options=("--fmad=false",),  # no fused multiply-add: each line rounds as NumPy's
        )
    _adam_kernel(
        grad, beta1, 1.0 - beta1, beta2, 1.0 - beta2, bias_correction2_sqrt, eps, step_size,
        param, exp_avg, exp_avg_sq,
    )  # fmt: skip
    return True


# erf: CuPy has it; NumPy does not, so we build a piecewise Chebyshev interpolant of math.erf
# on [0, 6] at import time and evaluate it with Clenshaw's recurrence. Accuracy: about 1e-16
# absolute in float64. One more piece, [6, 6.5], is the constant 1 (erf(x) rounds to 1 in
# float64 beyond 5.93): |x| >= 6 (and infinity) is clipped into it and gives exactly 1, and
# NaN, whose piece index fmin also sends there, stays NaN through the recurrence.
_ERF_PIECES = 12
_ERF_WIDTH = 0.5
_ERF_DEGREE = 18
_ERF_CLIP = (_ERF_PIECES + 0.5) * _ERF_WIDTH  # the middle of the constant piece


def _erf_table() -> numpy.ndarray:
    table = numpy.zeros((_ERF_DEGREE + 1, _ERF_PIECES + 1))
    for piece in range(_ERF_PIECES):
        lo = piece * _ERF_WIDTH
        nodes = numpy.cos(numpy.pi * (numpy.arange(_ERF_DEGREE + 1) + 0.5) / (_ERF_DEGREE + 1))
        values = [math.erf(lo + (t + 1.0) * _ERF_WIDTH / 2) for t in nodes]
        table[:, piece] = numpy.polynomial.chebyshev.chebfit(nodes, values, _ERF_DEGREE)
    table[0, _ERF_PIECES] = 1.0
    return table


_ERF_TABLE = _erf_table()
_erf_tables: dict[Any, numpy.ndarray] = {}


def erf(x: Array) -> Array:
    """The error function, elementwise, in the dtype of ``x`` (NaN gives NaN)."""
    if _is_cupy_array(x):
        return cupy_special("erf", x)
    table = _erf_tables.get(x.dtype)
    if table is None:
        table = _erf_tables[x.dtype] = _ERF_TABLE.astype(x.dtype)
    ax = numpy.minimum(numpy.abs(x), _ERF_CLIP)  # NaN stays NaN
    piece = (numpy.fmin(ax, _ERF_CLIP) * (1.0 / _ERF_WIDTH)).astype(numpy.intp)
    t = (ax - piece * _ERF_WIDTH) * (2.0 / _ERF_WIDTH) - 1.0  # position in the piece, in [-1, 1]
    t2 = 2.0 * t
    b1 = numpy.zeros_like(t)
    b2 = numpy.zeros_like(t)
    for k in range(_ERF_DEGREE, 0, -1):  # Clenshaw: b_k = c_k + 2t b_{k+1} - b_{k+2}
        b1, b2 = table[k][piece] + t2 * b1 - b2, b1
    result = table[0][piece] + t * b1 - b2
    return numpy.copysign(numpy.minimum(result, 1.0), x).astype(x.dtype, copy=False)


try:  # NumPy >= 2 (what numpy.errstate does itself, less building the state at each call)
    from numpy._core.umath import _extobj_contextvar as _errstate_var
    from numpy._core.umath import _make_extobj

    _SILENT = _make_extobj(all="ignore")
except ImportError:  # NumPy 1.x: numpy.seterr (its state is per thread there)
    _errstate_var = None

# NumPy's floating point warnings off, as two calls: ``token = silence_warnings()`` ...
# ``restore_warnings(token)``. On NumPy 2 both are C calls (the error-state context variable's
# own set and reset, to a state made once), so the backward loop, once per call, pays no
# Python method; quiet() is the same pair as a with-block.
if _errstate_var is not None:
    silence_warnings: Callable[[], Any] = functools.partial(_errstate_var.set, _SILENT)
    restore_warnings: Callable[[Any], Any] = _errstate_var.reset
else:

    def silence_warnings() -> Any:
        return numpy.seterr(all="ignore")

    def restore_warnings(token: Any) -> Any:
        return numpy.seterr(**token)


def quiet() -> Any:
    """A context that silences NumPy's floating point warnings (division by zero, invalid,
    overflow, underflow), for ops where inf or NaN is the answer, as in PyTorch, which never
    warns (nor does CuPy): :func:`silence_warnings` on entry, :func:`restore_warnings` on exit,
    so that threads and nested uses each restore their own state."""
    return _Quiet()


def quietly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run under :func:`quiet`: for an op's whole forward (``@backend.quietly`` under
    ``@staticmethod``), where inf or NaN may arise at several steps."""

    @functools.wraps(fn)
    def run_quietly(*args: Any, **kwargs: Any) -> Any:
        with quiet():
            return fn(*args, **kwargs)

    return run_quietly


class _Quiet:
    """:func:`quiet`'s context: the state :func:`silence_warnings` replaced, restored on exit."""

    __slots__ = ("token",)

    def __enter__(self) -> None:
        self.token = silence_warnings()

    def __exit__(self, *exc: object) -> None:
        restore_warnings(self.token)


def numpy_module() -> ModuleType:
    """NumPy itself, for shape arithmetic on the host (``broadcast_shapes``), never for data."""
    return numpy


def is_owned(arr: Array) -> bool:
    """True when ``arr`` owns its memory (not a view), is C-contiguous and writable."""
    if arr.base is not None:
        return False
    flags = arr.flags
    if arr.__class__ is not numpy.ndarray and _is_cupy_array(arr):  # CuPy has no read-only flag
        return flags.c_contiguous
    return flags.c_contiguous and flags.writeable


def is_writable(arr: Array) -> bool:
    """False for an array whose elements share memory (an ``expand`` view repeats one element
    along a stride-0 dim): NumPy marks those read-only; CuPy has no flag, so its strides say."""
    if _is_cupy_array(arr):
        return all(stride or size <= 1 for stride, size in zip(arr.strides, arr.shape))
    return bool(arr.flags.writeable)


def diagonal_view(arr: Array, offset: int, dim1: int, dim2: int) -> Array:
    """The ``offset`` diagonal of the (dim1, dim2) planes of ``arr`` as the last dim: a view,
    writable where ``arr`` is (NumPy's own is read-only; CuPy's is writable), as PyTorch's."""
    if _is_cupy_array(arr):
        return arr.diagonal(offset, dim1, dim2)
    out = numpy.diagonal(arr, offset, dim1, dim2)
    if arr.flags.writeable:
        out.flags.writeable = True
    return out


def _address(arr: Array) -> int:
    """Where ``arr``'s first element lies in memory."""
    return arr.data.ptr if _is_cupy_array(arr) else arr.__array_interface__["data"][0]


def _byte_offsets(xp: ModuleType, arr: Array) -> Array:
    """The offset in bytes of each element of ``arr`` from its first one (``arr``'s shape)."""
    offsets = xp.zeros(arr.shape, dtype=int64)
    for k, (n, stride) in enumerate(zip(arr.shape, arr.strides)):
        along = [1] * arr.ndim
        along[k] = n
        offsets += (xp.arange(n, dtype=int64) * stride).reshape(along)
    return offsets


def view_positions(base: Array, view: Array) -> Array | None:
    """For each element of ``view``, an array sharing ``base``'s memory, its position in
    ``base`` as a flat (C order) index: an int64 array of ``view``'s shape, so that
    ``base.reshape(-1)[positions]`` holds ``view``'s values. None when some element of ``view``
    is not an element of ``base`` (other memory, another dtype, a misaligned element).

    The in-place writes through a view (``minigrad.ops.views``) route gradients with it. It
    costs a pass over ``base`` (and a sort when ``base`` is not C-contiguous), paid per write.
    """
    xp = array_module(base)
    if view.dtype != base.dtype:
        return None
    if view.size == 0:
        return xp.zeros(view.shape, dtype=int64)
    wanted = _byte_offsets(xp, view) + (_address(view) - _address(base))
    if base.flags.c_contiguous:  # offsets are positions times the item size
        positions = wanted // base.itemsize
        found = (wanted % base.itemsize == 0) & (positions >= 0) & (positions < base.size)
        return positions if bool(found.all()) else None
    offsets = _byte_offsets(xp, base).reshape(-1)
    order = xp.argsort(offsets)
    ranked = xp.minimum(xp.searchsorted(offsets[order], wanted), base.size - 1)
    if not bool((offsets[order][ranked] == wanted).all()):
        return None
    return order[ranked]


def contiguous(arr: Array) -> Array:
    """``arr`` as a C-contiguous array that owns writable memory (a copy only when needed);
    the buffers handed to MPI (``minigrad.distributed``)."""
    if _is_cupy_array(arr):
        return _cupy.ascontiguousarray(arr)  # type: ignore[union-attr]
    if arr.__class__ is not numpy.ndarray:
        return numpy.asarray(arr)
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return numpy.array(arr, order="C")


# ---------------------------------------------------------------------------------------------
# Matrix products as 2-D GEMMs
# ---------------------------------------------------------------------------------------------
# NumPy's batched matmul of small matrices reaches a fraction of BLAS speed (PERF-NOTES.md);
# a product with a 2-D operand is one 2-D GEMM over the flattened rows instead.

# NumPy's ``dot`` makes the same BLAS call as ``@`` for matrices at half the call overhead (``@``
# goes through the generalized-ufunc machinery: ~4,000 instructions more on an 8x8 product), but
# it zeroes its output first, an extra pass that costs more than that above ~64x64 outputs (2-7%
# slower on (2048, 128) @ (128, 512)).
SMALL_GEMM_OUTPUT = 4096


def gemm(a: Array, b: Array) -> Array:
    """``a @ b`` of two matrices, through ``dot`` when the output is small (its lower overhead)."""
    if a.shape[0] * b.shape[1] <= SMALL_GEMM_OUTPUT:
        return a.dot(b)
    return a @ b


def flat_rows(a: Array) -> Array:
    """(..., k) -> (rows, k), the leading dims flattened (no -1 in the shape: it cannot be
    resolved when k = 0)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def matmul(a: Array, b: Array) -> Array:
    """``a @ b``; (..., n, k) @ (k, m) as one 2-D GEMM over the flattened rows of ``a``."""
    if b.ndim == 2:
        if a.ndim == 2:  # gemm(a, b), inlined: the usual case, where a call costs
            return a.dot(b) if a.shape[0] * b.shape[1] <= SMALL_GEMM_OUTPUT else a @ b
        if a.ndim > 2:
            return gemm(flat_rows(a), b).reshape(a.shape[:-1] + (b.shape[1],))
    return a @ b


def matmul_at(a: Array, g: Array, b_ndim: int) -> Array:
    """``a^T @ g`` (the last two axes swapped); when the other operand was 2-D (``b_ndim``),
    summed over the leading dims of ``a`` as one 2-D GEMM of the flattened rows."""
    if a.ndim == 2 and g.ndim == 2:  # gemm(a.T, g), inlined as in matmul
        return a.T.dot(g) if a.shape[1] * g.shape[1] <= SMALL_GEMM_OUTPUT else a.T @ g
    if b_ndim == 2 and a.ndim > 2:
        return gemm(flat_rows(a).T, flat_rows(g))
    return a.swapaxes(-1, -2) @ g


# ---------------------------------------------------------------------------------------------
# Threads for large elementwise work on the CPU
# ---------------------------------------------------------------------------------------------
# NumPy's ufuncs run on one core, but they release the GIL, so a big softmax split into row
# blocks runs on every core from a few Python threads. BLAS does this for matmul by itself.

PARALLEL_MIN_SIZE = 1 << 18  # below ~256K elements the thread hand-off costs more than it saves
_pool: Any = None


def num_threads() -> int:
    """Threads used for large CPU ops: ``MINIGRAD_NUM_THREADS``, else the usable cores."""
    value = os.environ.get("MINIGRAD_NUM_THREADS")
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(
                f"MINIGRAD_NUM_THREADS must be a whole number of threads, got {value!r}"
            ) from None
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel(fn: Any, out: Array, *arrays: Array, keep: int | None = None) -> Array:
    """Run ``fn(out_block, *array_blocks)`` over blocks of ``out`` on threads; returns ``out``.

    ``fn`` reduces along axis ``keep`` (or is elementwise when ``keep`` is None), so the blocks
    split another axis: the longest one. Every array must have ``out``'s length along that axis
    (other dims may differ, e.g. size 1 on the reduced dim); ``fn`` writes its block of the
    result into ``out_block`` (and may write into the blocks of the other arrays). Small arrays,
    GPU arrays, single-core machines and arrays with no other axis to split (a 1-D softmax) run
    ``fn`` once, whole.
    """
    global _pool
    if out.size < PARALLEL_MIN_SIZE or _is_cupy_array(out):
        fn(out, *arrays)
        return out
    threads = num_threads()
    axes = [a for a in range(out.ndim) if a != keep]
    axis = max(axes, key=out.shape.__getitem__, default=None)
    if threads < 2 or axis is None or out.shape[axis] < 2:
        fn(out, *arrays)
        return out
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="minigrad")
    n = out.shape[axis]
    lead = (slice(None),) * axis
    bounds = [n * k // threads for k in range(threads + 1)]
    blocks = [lead + (slice(a, b),) for a, b in zip(bounds, bounds[1:]) if b > a]
    for future in [_pool.submit(fn, out[b], *(a[b] for a in arrays)) for b in blocks]:
        future.result()
    return out


# ---------------------------------------------------------------------------------------------
# Row kernels: softmax and friends along one dim, in place, on threads for large arrays
# ---------------------------------------------------------------------------------------------
# Each computes the formula its op states, with out= buffers (one pass less over memory) and
# backend.parallel's row blocks. A "row" is a slice along ``dim``; a row of only -inf has no
# probability mass and gives 0 (PyTorch gives NaN), with a zero gradient.

_LOWEST: dict[Any, float] = {}
ROW_DOT_EINSUM_SIZE = 65536  # below this einsum's fixed cost is more than a * b's temporary


def lowest(dtype: Any) -> float:
    """The most negative finite value of a float dtype, as a (weak) Python float."""
    value = _LOWEST.get(dtype)
    if value is None:
        value = _LOWEST[dtype] = float(numpy.finfo(dtype).min)
    return value


_CONSTANTS: dict[tuple[float, Any], Any] = {}


def constant(value: float, like: Array) -> Any:
    """``value`` for a ufunc with ``like``: on NumPy a cached read-only 0-d array of
    ``like``'s dtype (a Python float is converted anew at each call, which on a small array
    costs as much as the op itself; the result is the same, as the float would be cast to
    that dtype); on CuPy the float itself."""
    if like.__class__ is not numpy.ndarray:
        _require_64_bits(value, like)
        return value
    if value == 0 and math.copysign(1.0, value) < 0:  # -0.0 == 0.0 as a key: not cached
        return numpy.asarray(value, like.dtype)
    key = (value, like.dtype)
    c = _CONSTANTS.get(key)
    if c is None:
        _require_64_bits(value, like)  # checked once, as the value enters the cache
        if len(_CONSTANTS) >= 1024:  # values that vary from call to call: keep it bounded
            _CONSTANTS.clear()
        with quiet():  # 2**63 or 1e5 into float16: inf, as PyTorch
            c = _CONSTANTS[key] = numpy.asarray(value, like.dtype)
        c.flags.writeable = False
    return c


def fits_64_bits(value: float) -> bool:
    """Whether a Python number lies in [-2**63, 2**64): for an int, whether PyTorch can hold
    it (in int64 or uint64; beyond, "int too big to convert"); False for NaN. The one place
    that states the bounds: every check of a number operand's 64 bits calls it."""
    return -(2**63) <= value < 2**64


def _require_64_bits(value: float, like: Array) -> None:
    """Refuse a Python int outside [-2**63, 2**64), as PyTorch ("int too big to convert"),
    where NumPy would round it into ``like``'s float dtype (``float16_tensor + 2**70``)."""
    if value.__class__ is int and not fits_64_bits(value):
        raise ScalarOverflowError(
            f"the Python int {value} is too big to convert (a number operand must fit in int64 "
            f"or uint64, as in PyTorch; the tensor is {like.dtype} of shape {tuple(like.shape)})"
        )


def is_constant(arr: Any) -> bool:
    """Whether ``arr`` is one of ``constant``'s cached arrays (an op saved a number for its
    backward, not a tensor: ``saved_tensors_hooks`` leave it alone)."""
    if arr.__class__ is not numpy.ndarray or arr.ndim or arr.flags.writeable:
        return False
    return _CONSTANTS.get((arr.item(), arr.dtype)) is arr


def machine_eps(dtype: Any) -> float:
    """The machine epsilon of a float dtype (``torch.finfo(dtype).eps``), a Python float."""
    return float(numpy.finfo(dtype).eps)


# The reductions below call NumPy's ufuncs directly: the ndarray methods (``x.sum()``,
# ``x.max()``, and ``x.mean()`` most of all) go through Python wrappers in NumPy that cost
# more than the reduction itself on a small array. CuPy keeps its methods.


def row_sum(x: Array, dims: int | tuple[int, ...]) -> Array:
    """``sum(x, dims, keepdims=True)``.

    Over the last axis of a float32/float64 NumPy array (rows of at most
    ``BLAS_ROW_SUM_LENGTH`` elements, at most ``BLAS_ROW_SUM_SIZE`` in all) it is
    ``x @ ones``, a matrix-vector product: one BLAS call, 3-6x faster than ``add.reduce``
    along the contiguous axis (8x8: 0.3 us against 0.8; 256x128 float32: 1.6 us against 8.2).
    BLAS adds in another order than NumPy's pairwise sum: the last bits differ, by at most a
    few ulps at these row lengths (its error grows with the row's length, the pairwise sum's
    with its logarithm, hence the limit). Each row gets one sum: an (n, n) matrix of ones
    (each sum repeated along its row, so the next op needs no broadcast) was tried and left
    out, as BLAS adds a row's copies in different orders (up to 4 ulps apart), so equal
    entries of a softmax or layer-norm row came out unequal and argmax broke ties unlike
    PyTorch. The result is a new array (for 3 dims or more, a reshaped view of one).
    """
    if x.__class__ is numpy.ndarray:
        ndim = x.ndim
        if ndim and (dims == -1 or dims == ndim - 1 or dims == (ndim - 1,)):
            key = (x.shape[-1], x.dtype)
            ones = _ONES.get(key, False)
            if ones is False:
                ones = _ones_column(key)
            if ones is not None and x.size <= BLAS_ROW_SUM_SIZE:
                if ndim <= 2:
                    return x.dot(ones)
                if x.flags.c_contiguous:  # the rows as one matrix (a view), then its shape back
                    rows = x.reshape(-1, key[0]).dot(ones)
                    return rows.reshape(x.shape[:-1] + (1,))
        return numpy.add.reduce(x, dims, None, None, True)
    return x.sum(axis=dims, keepdims=True)


_BLAS_FLOATS = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))
# Above this the rows are summed by add.reduce: the row kernels split such arrays over threads
# (``parallel``), and BLAS's own threads inside each block made a 64x512x512 softmax 10% slower.
BLAS_ROW_SUM_SIZE = PARALLEL_MIN_SIZE
# Longer rows are summed by add.reduce too: BLAS's error grows with the row's length (a float32
# row of 1024 times 0.1 is off by 9.7e-7, against 1.3e-7 for NumPy's pairwise sum; 256 of them
# by 3e-7, two and a half float32 epsilons)
BLAS_ROW_SUM_LENGTH = 256
_ONES: dict[tuple[int, Any], Any] = {}  # (row length, dtype) -> a column of ones, or None


def _ones_column(key: tuple[int, Any]) -> Any:
    """For ``key = (n, dtype)``: a cached read-only (n, 1) column of ones, ``x @ ones`` sums
    x's rows; None (cached too) where BLAS does not sum them (other dtypes, empty or longer
    rows)."""
    n, dtype = key
    ones = None
    if dtype in _BLAS_FLOATS and 0 < n <= BLAS_ROW_SUM_LENGTH:
        ones = numpy.ones((n, 1), dtype)
        ones.flags.writeable = False
    if len(_ONES) >= 1024:  # many distinct row lengths and dtypes: keep it bounded
        _ONES.clear()
    _ONES[key] = ones
    return ones


def row_max(x: Array, dims: int | tuple[int, ...]) -> Array:
    """``max(x, dims, keepdims=True)``."""
    if x.__class__ is numpy.ndarray:
        return numpy.maximum.reduce(x, dims, None, None, True)
    return x.max(axis=dims, keepdims=True)


def _row_max_finite(x: Array, dim: int) -> Array:
    """``maximum(max(x, dim, keepdims=True), lowest(x.dtype))``: a row of only -inf gives the
    lowest finite value, so that ``x - max`` stays -inf there (not NaN); one reduction on NumPy
    (``initial``)."""
    low = _LOWEST.get(x.dtype)
    if low is None:
        low = lowest(x.dtype)
    if x.__class__ is numpy.ndarray:
        return numpy.maximum.reduce(x, dim, None, None, True, low)
    return array_module(x).maximum(x.max(axis=dim, keepdims=True), low)  # CuPy: no initial


def sum_half_in_float32(x: Array, axes: int | tuple[int, ...], keepdims: bool) -> Array:
    """``x.sum(axes, keepdims)``, float16 added in float32 and rounded once, as PyTorch (NumPy
    adds float16 in float16, where 2048 + 1 rounds to 2048): the sums of gradients over
    broadcast rows (``autograd.unbroadcast``, ``linear``'s bias)."""
    if x.dtype == float16:
        return x.sum(axis=axes, keepdims=keepdims, dtype=float32).astype(x.dtype)
    return x.sum(axis=axes, keepdims=keepdims)


def reduce_sum(x: Array, dims: tuple[int, ...] | None, keepdims: bool) -> Array:
    """``x.sum(dims, keepdims)`` (every dim when ``dims`` is None) as an array: NumPy's ufunc
    directly (the method adds a Python wrapper), and a 0-d array for a full sum where NumPy
    returns a scalar that the engine would otherwise wrap. Same dtypes as ``x.sum``."""
    if x.__class__ is numpy.ndarray or not _is_cupy_array(x):
        if dims and x.size >= LONG_SUM_SIZE and x.dtype in _BLAS_FLOATS:
            out = _sum_down_rows(x, dims, keepdims)
            if out is not None:
                return out
        out = numpy.add.reduce(x, dims, None, None, keepdims)
        return out if isinstance(out, numpy.ndarray) else numpy.asarray(out)
    if dims and x.size >= LONG_SUM_SIZE and x.dtype in _BLAS_FLOATS:  # CuPy
        out = _sum_down_rows_in_blocks(x, dims, keepdims)
        if out is not None:
            return out
    return x.sum(axis=dims, keepdims=keepdims)


# Sums down a long strided axis (``x.sum(0)`` of an (N, C) array): NumPy adds pairwise only along
# the axis it loops over innermost, the contiguous one; down the rows it adds one row at a time,
# so the error grows with N (a (10^6, 4) float32 sum(0) was 4e-5 off, PyTorch's cascade sum 6e-8).
# Such sums add the rows pairwise instead, the error growing with log N. Narrow rows (up to
# LONG_SUM_ROW_BYTES) are added in halves, which is also faster than NumPy's loop over a short
# inner axis; wider rows in blocks of LONG_SUM_BLOCK by add.reduce (naive over 128 rows, about as
# fast as NumPy down the whole axis), then the blocks' sums in halves.
LONG_SUM_SIZE = 1 << 14  # smaller arrays keep add.reduce: a few calls more would cost more
LONG_SUM_ROWS = 512
LONG_SUM_ROW_BYTES = 1024
LONG_SUM_BLOCK = 128


def _rows_to_sum(x: Array, dims: tuple[int, ...]) -> Array | None:
    """``x`` as rows ``(n, *the others)`` whose ``sum(0)`` is ``x.sum(dims)``, for a reduction
    over one axis other than the last, or over the leading axes of a C-contiguous array, with
    at least LONG_SUM_ROWS rows; None otherwise (the array module's own sum is then as
    accurate)."""
    if dims[-1] == x.ndim - 1:  # the contiguous axis of a C array: NumPy sums it pairwise
        return None
    if dims == (0,):
        rows = x
    elif len(dims) == 1:
        rows = array_module(x).moveaxis(x, dims[0], 0)  # a view: (n, *the others)
    elif dims == tuple(range(len(dims))) and x.flags.c_contiguous:
        rows = x.reshape((-1,) + x.shape[len(dims) :])
    else:
        return None
    return rows if rows.shape[0] >= LONG_SUM_ROWS else None


def _sum_down_rows(x: Array, dims: tuple[int, ...], keepdims: bool) -> Array | None:
    """``add.reduce(x, dims)`` summed pairwise down the rows (see ``_rows_to_sum``); None where
    that does not apply."""
    rows = _rows_to_sum(x, dims)
    if rows is None:
        return None
    if x.size // rows.shape[0] * x.itemsize > LONG_SUM_ROW_BYTES:
        rows = _block_sums(rows)
    out = _sum_in_halves(rows)
    return out.reshape(reduced_shape(x.shape, dims)) if keepdims else out


def _sum_down_rows_in_blocks(x: Array, dims: tuple[int, ...], keepdims: bool) -> Array | None:
    """CuPy's ``x.sum(dims)`` down many rows (see ``_rows_to_sum``) as sums of blocks of
    LONG_SUM_BLOCK rows, then the sum of the blocks: two kernels, where CuPy's one kernel has
    each thread add a long strided run of rows one at a time (a (256, 64, 8) float32 sum over
    the first two axes was 2.4e-6 off); None where that does not apply."""
    rows = _rows_to_sum(x, dims)
    if rows is None:
        return None
    out = _block_sums(rows).sum(axis=0)
    return out.reshape(reduced_shape(x.shape, dims)) if keepdims else out


def _block_sums(rows: Array) -> Array:
    """The sums of the blocks of LONG_SUM_BLOCK rows, ``(m, *the others)``, the rows left over
    added to the first block's sum (a naive sum over 128 rows: its error stays small)."""
    n, m = rows.shape[0], rows.shape[0] // LONG_SUM_BLOCK
    blocks = rows[: m * LONG_SUM_BLOCK].reshape((m, LONG_SUM_BLOCK) + rows.shape[1:])
    parts = blocks.sum(axis=1)
    if m * LONG_SUM_BLOCK < n:
        parts[0] += rows[m * LONG_SUM_BLOCK :].sum(axis=0)
    return parts


def reduced_shape(shape: Sequence[int], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced dims kept as size 1 (the keepdim shape; all of them for
    None)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _sum_in_halves(rows: Array) -> Array:
    """``rows.sum(0)`` by adding the second half of the rows to the first until 32 are left
    (pairwise summation), then those 32; a new array."""
    n = rows.shape[0]
    if n <= 32:
        return numpy.add.reduce(rows, 0)
    half = n // 2
    buf = rows[:half] + rows[half : 2 * half]
    if n % 2:
        buf[0] += rows[n - 1]
    n = half
    while n > 32:
        half = n // 2
        numpy.add(buf[:half], buf[half : 2 * half], out=buf[:half])
        if n % 2:
            buf[0] += buf[n - 1]
        n = half
    return numpy.add.reduce(buf[:n], 0)


def total(a: Array) -> Array:
    """The sum of all of ``a``'s elements as a 0-d array, of ``a.sum()``'s dtype (NumPy's
    ``sum`` returns a scalar, which the engine would then have to wrap)."""
    if a.__class__ is numpy.ndarray:  # reduce_sum's NumPy branch, one call less
        return numpy.asarray(numpy.add.reduce(a, None, None, None, False))
    return reduce_sum(a, None, False)


def row_positions(ids: Array, classes: int) -> Array:
    """The flat positions ``i * classes + ids[i]`` of the entries ``x[i, ids[i]]`` of a
    C-contiguous (len(ids), classes) array ``x``: ``x.reshape(-1)[positions]`` reads them and
    ``x.reshape(-1)[positions] -= v`` writes them, cheaper than ``x[arange(len(ids)), ids]``."""
    if ids.dtype != int64:  # int64 both: arange + uint64 ids would promote to float64, no index
        ids = ids.astype(int64)
    if ids.__class__ is numpy.ndarray and ids.shape[0] <= ROW_STARTS_CACHED:
        key = (ids.shape[0], classes)
        starts = _ROW_STARTS.get(key)
        if starts is None:
            starts = _row_starts(key)
        return starts + ids
    return array_module(ids).arange(0, ids.shape[0] * classes, classes) + ids


ROW_STARTS_CACHED = 4096  # rows up to here: row_positions keeps their starts (32 KiB at most)
_ROW_STARTS: dict[tuple[int, int], Any] = {}  # (rows, classes) -> i * classes, read-only


def _row_starts(key: tuple[int, int]) -> Any:
    """``arange(0, rows * classes, classes)`` for ``key = (rows, classes)``, cached read-only
    (a batch size and a vocabulary come back at every step)."""
    rows, classes = key
    starts = numpy.arange(0, rows * classes, classes, dtype=int64)
    starts.flags.writeable = False
    if len(_ROW_STARTS) >= 64:  # many distinct shapes: keep it bounded (2 MiB at most)
        _ROW_STARTS.clear()
    _ROW_STARTS[key] = starts
    return starts


def row_dot(a: Array, b: Array, dim: int) -> Array:
    """``sum(a * b, dim, keepdims=True)``; on large arrays without materializing ``a * b``."""
    if a.size < ROW_DOT_EINSUM_SIZE:
        return row_sum(a * b, dim)
    xp = array_module(a)
    t = xp.einsum("...i,...i->...", xp.moveaxis(a, dim, -1), xp.moveaxis(b, dim, -1))
    return xp.expand_dims(t, dim)


def softmax_rows(x: Array, dim: int) -> Array:
    """``exp(x - max) / sum(exp(x - max))`` along ``dim``, in a new array."""
    if x.ndim == 0:
        return softmax_rows(x.reshape(1), 0).reshape(())
    xp = array_module(x)
    if 0 < x.size < PARALLEL_MIN_SIZE:  # one block: the result needs no buffer made up front
        y = x - _row_max_finite(x, dim)  # as in _softmax_block
        xp.exp(y, out=y)
        y /= xp.maximum(row_sum(y, dim), constant(1, y))
        return y
    return parallel(functools.partial(_softmax_block, dim=dim), xp.empty_like(x), x, keep=dim)


def _softmax_block(y: Array, x: Array, dim: int) -> None:
    """:func:`softmax_rows` of the block ``x``, written into ``y``."""
    if x.size == 0:
        return
    xp = array_module(x)
    # a row of only -inf has max -inf: subtract the lowest finite value instead, so exp
    # gives 0 (not NaN); a live row's sum is >= 1 (its max gives exp(0) = 1), so dividing
    # by max(sum, 1) leaves it alone and keeps a dead row at 0
    xp.subtract(x, _row_max_finite(x, dim), out=y)
    xp.exp(y, out=y)
    y /= xp.maximum(row_sum(y, dim), 1)


def softmax_rows_inplace(s: Array) -> Array:
    """:func:`softmax_rows` over the last axis, written into ``s`` (the attention scores)."""
    xp = array_module(s)
    if s.size:
        s -= _row_max_finite(s, -1)
        xp.exp(s, out=s)
        s /= xp.maximum(row_sum(s, -1), 1)
    return s


def softmax_rows_grad(g: Array, y: Array, dim: int) -> Array:
    """``y * (g - sum(g * y, dim))``, the softmax backward, in a new array."""
    if g.ndim == 0:
        return softmax_rows_grad(g.reshape(1), y.reshape(1), 0).reshape(())
    if g.size < PARALLEL_MIN_SIZE:  # one block: the result needs no buffer made up front
        dx = g - row_dot(g, y, dim)
        dx *= y
        return dx
    block = functools.partial(_softmax_grad_block, dim=dim)
    return parallel(block, array_module(g).empty_like(g), g, y, keep=dim)


def _softmax_grad_block(dx: Array, g: Array, y: Array, dim: int) -> None:
    """:func:`softmax_rows_grad` of a block, written into ``dx``."""
    array_module(g).subtract(g, row_dot(g, y, dim), out=dx)
    dx *= y


def log_softmax_rows(x: Array, dim: int) -> tuple[Array, Array]:
    """``x - max - log(sum(exp(x - max)))`` along ``dim``, and the mask of dead rows (all -inf,
    where the result is 0), of shape ``x.shape`` with size 1 on ``dim``."""
    if x.ndim == 0:
        out, dead = log_softmax_rows(x.reshape(1), 0)
        return out.reshape(()), dead.reshape(())
    xp = array_module(x)
    if 0 < x.size < PARALLEL_MIN_SIZE:  # one block: the results need no buffers made up front
        out = x - _row_max_finite(x, dim)  # as in _log_softmax_block
        s = row_sum(xp.exp(out), dim)
        zero, one = constant(0, s), constant(1, s)
        dead = s == zero
        out -= xp.log(xp.maximum(s, one))
        xp.copyto(out, zero, where=dead)
        return out, dead
    dead = xp.empty(x.shape[:dim] + (1,) + x.shape[dim + 1 :], dtype=bool)
    block = functools.partial(_log_softmax_block, dim=dim)
    return parallel(block, xp.empty_like(x), x, dead, keep=dim), dead


def _log_softmax_block(out: Array, x: Array, dead: Array, dim: int) -> None:
    """:func:`log_softmax_rows` of a block, written into ``out`` and ``dead``."""
    if x.size == 0:
        dead[...] = False
        return
    xp = array_module(x)
    # as in softmax: a row of only -inf has the lowest finite value subtracted, so it stays
    # -inf and its sum of exp is 0 (that is how it is found: a live row's sum is >= 1); its
    # result is then set to 0
    xp.subtract(x, _row_max_finite(x, dim), out=out)
    s = row_sum(xp.exp(out), dim)
    xp.equal(s, 0, out=dead)
    out -= xp.log(xp.maximum(s, 1))
    xp.copyto(out, 0, where=dead)


def log_softmax_rows_grad(g: Array, out: Array, dead: Array, dim: int) -> Array:
    """``g - exp(out) * sum(g, dim)``, the log_softmax backward, 0 on dead rows."""
    if g.ndim == 0:
        return log_softmax_rows_grad(g.reshape(1), out.reshape(1), dead.reshape(1), 0).reshape(())
    xp = array_module(g)
    if g.size < PARALLEL_MIN_SIZE:  # one block: the result needs no buffer made up front
        dx = xp.exp(out)
        dx *= row_sum(g, dim)
        xp.subtract(g, dx, out=dx)
    else:
        block = functools.partial(_log_softmax_grad_block, dim=dim)
        dx = parallel(block, xp.empty_like(g), g, out, keep=dim)
    xp.copyto(dx, constant(0, dx), where=dead)
    return dx


def _log_softmax_grad_block(dx: Array, g: Array, out: Array, dim: int) -> None:
    """:func:`log_softmax_rows_grad` of a block (dead rows aside), written into ``dx``."""
    xp = array_module(g)
    xp.exp(out, out=dx)
    dx *= row_sum(g, dim)
    xp.subtract(g, dx, out=dx)


# =============================================================================================
# Special functions and scans for minigrad.ops.mathops: erfc, erfinv, ufunc accumulate
# =============================================================================================

# erfc(x) = exp(-x^2) * erfcx(x): erfcx is smooth and slowly varying, so a piecewise Chebyshev
# interpolant of math.erfc(t) * exp(t^2) on [0, 6] (built at import time, as erf's) gives erfc
# to a few ulp *relative*, where 1 - erf(x) would lose every digit of its tail. Beyond 6 the
# continued fraction erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / ...)))
# converges in a few dozen terms; erfc(-x) = 2 - erfc(x).
_ERFCX_PIECES = 12
_ERFCX_LAST = _ERFCX_PIECES * _ERF_WIDTH  # 6.0
_ERFC_FRACTION_TERMS = 40
_SQRT_PI = math.sqrt(math.pi)


def _exp_minus_square(x: numpy.ndarray, shift: Any = 0.0) -> numpy.ndarray:
    """``exp(-x^2 - shift)`` without the rounding of ``x^2`` (which exp multiplies by x^2):
    x = hi + lo with hi on a 1/16 grid, whose square is exact, and x^2 = hi^2 + lo (x + hi)."""
    hi = numpy.trunc(x * 16.0) / 16.0
    return numpy.exp(-hi * hi) * numpy.exp(-(x - hi) * (x + hi) - shift)


def _erfcx_table() -> numpy.ndarray:
    table = numpy.zeros((_ERF_DEGREE + 1, _ERFCX_PIECES))
    nodes = numpy.cos(numpy.pi * (numpy.arange(_ERF_DEGREE + 1) + 0.5) / (_ERF_DEGREE + 1))
    for piece in range(_ERFCX_PIECES):
        points = piece * _ERF_WIDTH + (nodes + 1.0) * _ERF_WIDTH / 2
        values = [math.erfc(t) for t in points] / _exp_minus_square(points)
        table[:, piece] = numpy.polynomial.chebyshev.chebfit(nodes, values, _ERF_DEGREE)
    return table


_ERFCX_TABLE = _erfcx_table()


def _erfc_positive(ax: numpy.ndarray) -> numpy.ndarray:
    """erfc of ``ax >= 0`` (float64 NumPy array; NaN stays NaN)."""
    near = numpy.minimum(ax, _ERFCX_LAST - 1e-12)  # NaN stays NaN, far values use the fraction
    piece = numpy.nan_to_num(near * (1.0 / _ERF_WIDTH)).astype(numpy.intp)
    t = (near - piece * _ERF_WIDTH) * (2.0 / _ERF_WIDTH) - 1.0
    b1, b2 = numpy.zeros_like(t), numpy.zeros_like(t)
    for k in range(_ERF_DEGREE, 0, -1):  # Clenshaw: b_k = c_k + 2t b_{k+1} - b_{k+2}
        b1, b2 = _ERFCX_TABLE[k][piece] + 2.0 * t * b1 - b2, b1
    erfcx = _ERFCX_TABLE[0][piece] + t * b1 - b2
    far = numpy.minimum(numpy.maximum(ax, _ERFCX_LAST), 1e3)  # erfc is 0 far before 1e3
    fraction = far.copy()
    for k in range(_ERFC_FRACTION_TERMS, 0, -1):
        fraction = far + (0.5 * k) / fraction
    with numpy.errstate(invalid="ignore", over="ignore", under="ignore"):
        # the division inside the exponent: the result may be subnormal where exp(-x^2) is not
        tail = _exp_minus_square(far, numpy.log(_SQRT_PI * fraction))
        return numpy.where(ax < _ERFCX_LAST, _exp_minus_square(near) * erfcx, tail)


def erfc(x: Array) -> Array:
    """The complementary error function ``1 - erf(x)``, elementwise, accurate to a few ulp
    relative also in its tail (``erfc(10)`` is 2.1e-45), in the dtype of ``x``."""
    if _is_cupy_array(x):
        return cupy_special("erfc", x)
    x64 = numpy.asarray(x, dtype=numpy.float64)
    positive = _erfc_positive(numpy.abs(x64))
    return numpy.where(x64 < 0, 2.0 - positive, positive).astype(x.dtype, copy=False)


_ERF_SERIES_TERMS = 30  # |x| <= 0.5: the last term is below 1e-17 of the first


def _erf_series(x: numpy.ndarray) -> numpy.ndarray:
    """erf by its Taylor series, 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)), accurate to an
    ulp relative for |x| <= 0.5 (where the backend's erf is accurate only absolutely)."""
    x2 = x * x
    term, total = x.copy(), x.copy()
    for n in range(1, _ERF_SERIES_TERMS):
        term = term * (-x2 / n)
        total = total + term / (2 * n + 1)
    return total * (2.0 / _SQRT_PI)


_ERFINV_STEPS = 4  # Newton from a guess within 2e-3: 4e-6, 2e-11, then float64's precision
_WINITZKI_A = 0.147


def erfinv(y: Array) -> Array:
    """The inverse error function, elementwise, in the dtype of ``y``: ``erf(erfinv(y)) = y``
    for ``-1 < y < 1``, ``±inf`` at ``±1``, NaN outside [-1, 1].

    NumPy has none: Winitzki's closed form (relative error below 2e-3) starts Newton's method on
    ``erf(x) - y``, computed as ``erf_series(x) - y`` where ``|y| <= 1/2`` and as
    ``(1 - |y|) - erfc(|x|)`` beyond (1 - |y| is exact there, and erfc keeps its relative
    precision), so the result is accurate to a few ulp up to the ends of the interval."""
    if _is_cupy_array(y):
        return cupy_special("erfinv", y)
    y64 = numpy.asarray(y, dtype=numpy.float64)
    ay = numpy.abs(y64)
    inside = ay < 1  # NaN and |y| >= 1 are set at the end
    a = numpy.where(inside, ay, 0.5)
    log_term = numpy.log((1.0 - a) * (1.0 + a))  # ln(1 - y^2), no cancellation near 1
    base = 2.0 / (math.pi * _WINITZKI_A) + log_term / 2
    x = numpy.sqrt(numpy.sqrt(base * base - log_term / _WINITZKI_A) - base)
    central = a <= 0.5
    for _ in range(_ERFINV_STEPS):
        residual = numpy.where(central, _erf_series(x) - a, (1.0 - a) - _erfc_positive(x))
        x = x - residual / ((2.0 / _SQRT_PI) * numpy.exp(-x * x))
    with numpy.errstate(invalid="ignore"):
        edge = numpy.where(ay == 1, numpy.inf, numpy.nan)  # NaN for |y| > 1 and NaN
    out = numpy.copysign(numpy.where(inside, x, edge), y64)
    return out.astype(y.dtype, copy=False)


def accumulate(ufunc: str, x: Array, axis: int) -> Array:
    """NumPy's ``ufunc.accumulate`` along ``axis`` (``ufunc``: "maximum", "minimum",
    "logaddexp", ...): ``out[i] = f(out[i-1], x[i])``. CuPy without ``accumulate`` for the
    ufunc takes :func:`scan_by_doubling` (log2(n) kernels), or a loop along the axis, one
    kernel per step, for a ufunc it does not take."""
    xp = array_module(x)
    fn = getattr(xp, ufunc)
    if not _is_cupy_array(x) or hasattr(fn, "accumulate"):
        try:
            return fn.accumulate(x, axis=axis)
        except (NotImplementedError, TypeError):
            if not _is_cupy_array(x):
                raise
    if ufunc in _SCANS_BY_DOUBLING:
        return scan_by_doubling(xp, ufunc, x, axis)
    out = xp.moveaxis(x.copy(), axis, 0)
    for i in range(1, out.shape[0]):
        out[i] = fn(out[i - 1], out[i])
    return xp.moveaxis(out, 0, axis)


# lgamma, digamma, polygamma: NumPy has none. lgamma by Lanczos' approximation (g = 7, nine
# terms: relative error of Gamma about 1e-15) for x >= 1/2 and the reflection formula below;
# digamma and polygamma(n >= 1) by the recurrence psi_n(x) = psi_n(x + 1) - (-1)^n n! / x^(n+1)
# up to x >= _PSI_SHIFT, then the asymptotic series with Bernoulli numbers, and for x < 1/2 the
# reflection (-1)^n psi_n(1 - x) - psi_n(x) = pi d^n/dx^n cot(pi x).
_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_PSI_SHIFT = 20.0
_EULER = 0.5772156649015329  # the Euler-Mascheroni constant: lgamma(x) ~ -log|x| - _EULER x
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _sin_pi(x: numpy.ndarray) -> numpy.ndarray:
    """sin(pi x), exact in the argument: x - round(x) is exact, and sin has period 2."""
    nearest = numpy.round(x)
    sign = numpy.where(numpy.fmod(nearest, 2) == 0, 1.0, -1.0)
    return sign * numpy.sin(math.pi * (x - nearest))


def _lgamma_right(x: numpy.ndarray) -> numpy.ndarray:
    """log|Gamma(x)| for x >= 1/2 (Lanczos)."""
    z = x - 1.0
    series = numpy.full_like(z, _LANCZOS[0])
    for i in range(1, len(_LANCZOS)):
        series = series + _LANCZOS[i] / (z + i)
    t = z + _LANCZOS_G + 0.5
    return _HALF_LOG_2PI + (z + 0.5) * numpy.log(t) - t + numpy.log(series)


def lgamma(x: Array) -> Array:
    """log|Gamma(x)|, elementwise, in the dtype of ``x``: inf at 0 and the negative integers,
    inf at ±inf, NaN at NaN (as PyTorch)."""
    if _is_cupy_array(x):
        return cupy_special("lgamma", x)
    x64 = numpy.asarray(x, dtype=numpy.float64)
    with numpy.errstate(all="ignore"):
        right = _lgamma_right(numpy.where(x64 >= 0.5, x64, 1.0 - x64))
        # x < 1/2: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        left = math.log(math.pi) - numpy.log(numpy.abs(_sin_pi(x64))) - right
        out = numpy.where(x64 >= 0.5, right, left)
        # near 0, -log|x| - gamma x: sin(pi x) loses its digits once pi x is subnormal
        out = numpy.where(numpy.abs(x64) < 1e-8, -numpy.log(numpy.abs(x64)) - _EULER * x64, out)
        out = numpy.where((x64 == 1) | (x64 == 2), 0.0, out)  # exact zeros, as PyTorch
        out = numpy.where(numpy.isinf(x64), numpy.inf, out)
    return out.astype(x.dtype, copy=False)


def _cot_derivative_polynomials(n: int) -> list[float]:
    """Coefficients (in c = cot(pi x), lowest first) of d^n/dx^n cot(pi x) / pi^n: P_0 = c,
    P_{k+1} = -(1 + c^2) P_k'."""
    poly = [0.0, 1.0]
    for _ in range(n):
        deriv = [i * poly[i] for i in range(1, len(poly))] or [0.0]
        poly = [0.0] * (len(deriv) + 2)
        for i, coef in enumerate(deriv):
            poly[i] -= coef
            poly[i + 2] -= coef
    return poly


def _psi_right(n: int, x: numpy.ndarray) -> numpy.ndarray:
    """psi_n(x) (digamma for n = 0) for x >= 1/2: the recurrence, then the asymptotic series."""
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n + 1)
    factorial = math.factorial(n)
    total = numpy.zeros_like(x)
    y = x.copy()
    steps = int(max(0.0, math.ceil(_PSI_SHIFT - numpy.nanmin(x, initial=_PSI_SHIFT))))
    for _ in range(steps):  # psi_n(y) = psi_n(y + 1) + (-1)^(n+1) n! / y^(n+1)
        low = y < _PSI_SHIFT
        total = total + numpy.where(low, 1.0 / y ** (n + 1), 0.0)
        y = numpy.where(low, y + 1.0, y)
    inv = 1.0 / y
    if n == 0:
        series = numpy.log(y) - 0.5 * inv
        for k, b in enumerate(_BERNOULLI, start=1):
            series = series - b / (2 * k) * inv ** (2 * k)
        return series - total
    series = math.factorial(n - 1) * inv**n + factorial / 2 * inv ** (n + 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * inv ** (
            2 * k + n
        )
    return sign * (series + factorial * total)


def polygamma(n: int, x: Array) -> Array:
    """The n-th derivative of digamma (``n = 0``: digamma itself), elementwise, in the dtype of
    ``x``. Poles (0 and the negative integers) give ±inf or NaN."""
    if _is_cupy_array(x):
        return cupy_special("polygamma", x, n)
    x64 = numpy.asarray(x, dtype=numpy.float64)
    with numpy.errstate(all="ignore"):
        right = _psi_right(n, numpy.where(x64 >= 0.5, x64, 1.0 - x64))
        # x < 1/2: psi_n(x) = (-1)^n psi_n(1 - x) - pi^(n+1) P_n(cot(pi x))
        nearest = numpy.round(x64)
        c = 1.0 / numpy.tan(math.pi * (x64 - nearest))
        cot_term = numpy.polynomial.polynomial.polyval(c, _cot_derivative_polynomials(n))
        left = (-1.0) ** n * right - math.pi ** (n + 1) * cot_term
        out = numpy.where(x64 >= 0.5, right, left)
        # where cot(pi x) overflows (the poles 0, -1, ... and a subnormal step from them), the
        # limit from that side: -1/d for digamma, n!/d^(n+1) for psi_n, d = x - round(x)
        side = numpy.where(x64 - nearest < 0, numpy.inf, -numpy.inf)
        out = numpy.where((x64 < 0.5) & numpy.isinf(c), numpy.inf if n % 2 else side, out)
        if n == 0:  # PyTorch's poles: -inf at 0 (inf at -0), NaN at the negative integers
            pole = numpy.where(x64 == 0, -numpy.copysign(numpy.inf, x64), numpy.nan)
            out = numpy.where((x64 <= 0) & (x64 == nearest), pole, out)
        out = numpy.where(x64 == numpy.inf, numpy.inf if n == 0 else 0.0, out)
        out = numpy.where(x64 == -numpy.inf, numpy.nan, out)
    return out.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# Sliding windows: convolution and pooling (im2col and its adjoint, col2im)
# ---------------------------------------------------------------------------------------------


def sliding_windows(
    x: Array, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int]
) -> Array:
    """Every window of the last ``len(kernel)`` dims of ``x``, as a view (no copy):
    (*lead, *L) -> (*lead, *O, *K), where ``out[..., o, k] = x[..., o * stride + k * dilation]``
    and ``O = (L - dilation * (K - 1) - 1) // stride + 1`` (im2col without the copy; the
    matmul that reads it makes the one copy). ``sliding_window_view`` (:func:`window_view`)."""
    nd = len(kernel)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    axes = tuple(range(x.ndim - nd, x.ndim))
    view = window_view(x, span, axes)
    lead = (slice(None),) * (x.ndim - nd)
    return view[
        lead
        + tuple(slice(None, None, s) for s in stride)
        + tuple(slice(None, None, d) for d in dilation)
    ]


def add_windows(
    out: Array, windows: Array, stride: Sequence[int], dilation: Sequence[int]
) -> Array:
    """The adjoint of :func:`sliding_windows` (col2im), in place:
    ``out[..., o * stride + k * dilation] += windows[..., o, k]`` for every window o and offset
    k, overlaps summed. ``out``: (*lead, *L), ``windows``: (*lead, *O, *K). One strided add per
    kernel offset (prod(K) adds of the whole output, no scatter)."""
    nd = len(stride)
    positions, kernel = windows.shape[-2 * nd : -nd], windows.shape[-nd:]
    lead = (slice(None),) * (out.ndim - nd)
    for offset in itertools.product(*map(range, kernel)):
        target = tuple(
            slice(k * d, k * d + s * (o - 1) + 1, s)
            for k, d, s, o in zip(offset, dilation, stride, positions)
        )
        out[lead + target] += windows[(Ellipsis,) + offset]
    return out


# ---------------------------------------------------------------------------------------------
# Memory layout in elements (Tensor.stride, Tensor.storage_offset)
# ---------------------------------------------------------------------------------------------


def element_strides(arr: Array) -> tuple[int, ...]:
    """``arr``'s strides counted in elements, as PyTorch's ``Tensor.stride()`` (NumPy and CuPy
    count bytes)."""
    return tuple(s // arr.itemsize for s in arr.strides)


def element_offset(arr: Array) -> int:
    """How many elements ``arr``'s first element lies past the start of the memory it views
    (the first array in its chain of ``base`` arrays that owns its memory): PyTorch's
    ``storage_offset()``. 0 for an array that owns its memory."""
    root = arr
    while isinstance(root.base, ARRAY_TYPES):
        root = root.base
    return (_address(arr) - _address(root)) // arr.itemsize


# =============================================================================================
# CuPy-portable kernels (audit of session 11)
# =============================================================================================
# The ops added in session 11 (mathops, binarymath, statistics, search, conv, ...) were read
# against CuPy's source, tags v13.6.0 and v14.2.0 (the lent GPU's image has 14.2), wherever they
# call the array module. What CuPy lacks or does differently has a kernel here: its NumPy path
# is NumPy's own call, unchanged; its CuPy path is written from CuPy's API, as array code common
# to both where it can be, so that tests/test_cupy_audit.py runs that code on NumPy too.

# the dtypes whose atomics cupy.add.at takes (cupy/_core/_routines_indexing.pyx); 14 adds int64
_CUPY_ADD_AT = frozenset(numpy.dtype(name) for name in ("int32", "uint32", "uint64", "float16",
                                                       "float32", "float64"))  # fmt: skip


def cupy_adds_at(dtype: Any) -> bool:
    """Whether CuPy's ``add.at`` takes ``dtype``: CuPy 13 raises TypeError for int64 (14 takes
    it), every version for int8, int16, uint8, uint16 and bool."""
    if dtype == int64:
        return int(_load_cupy().__version__.split(".")[0]) >= 14
    return numpy.dtype(dtype) in _CUPY_ADD_AT


def scatter_add_on_host(target: Array, index: Any, values: Any) -> None:
    """``target[index] += values`` with repeats accumulating, by ``numpy.add.at`` on host
    copies written back into ``target`` (in place): the dtypes CuPy's atomics refuse."""
    host = to_host(target)
    if isinstance(index, tuple):
        host_index = tuple(_host_copy(i) for i in index)
    else:
        host_index = _host_copy(index)
    numpy.add.at(host, host_index, _host_copy(values))
    if host is not target:
        target[...] = array_module(target).asarray(host)


def _host_copy(value: Any) -> Any:
    """A CuPy array's values on the host; anything else (slices, numbers) as it is."""
    return value.get() if _is_cupy_array(value) else value


def bincount(x: Array, weights: Array | None = None, minlength: int = 0) -> Array:
    """NumPy's ``bincount``: how often each of 0 .. max(x) occurs in the 1-d non-negative
    integer ``x``, at least ``minlength`` bins (int64), or the sum of ``weights`` (x's shape)
    in each bin (float64). See :func:`bincount_portable` for CuPy."""
    xp = array_module(x)
    if xp is numpy:
        return numpy.bincount(x, weights, minlength)
    return bincount_portable(xp, x, weights, minlength)


def bincount_portable(xp: ModuleType, x: Array, weights: Array | None, minlength: int) -> Array:
    """:func:`bincount` by ``xp.bincount`` without its CuPy 13 failure: on an empty ``x`` it
    takes the max of nothing and raises ValueError (CuPy 14 answers NumPy's int64 zeros, with
    weights too). The weights go in as float64: CuPy's kernel adds each one atomically into a
    float64 bin."""
    if x.shape[0] == 0:
        return xp.zeros(minlength, dtype=int64)
    if weights is not None:
        weights = weights.astype(float64, copy=False)
    return xp.bincount(x, weights=weights, minlength=minlength)


def cupy_special(name: str, x: Array, n: int = 0) -> Array:
    """cupyx.scipy.special's function ``name`` ("erf", "erfc", "erfinv", "lgamma",
    "polygamma" of order ``n``) of the CuPy array ``x``: :func:`special_in_float`."""
    import cupyx.scipy.special  # noqa: PLC0415  (CuPy is imported lazily)

    return special_in_float(_load_cupy(), cupyx.scipy.special, name, x, n)


def special_in_float(xp: ModuleType, special: Any, name: str, x: Array, n: int = 0) -> Array:
    """``name`` of ``x`` by ``special`` (SciPy's special functions for ``xp``, as cupyx's),
    computed in float32 or float64 and returned in x's dtype, with PyTorch's values where
    SciPy's differ (the NumPy kernels above give PyTorch's).

    - cupyx's functions take 'f' and 'd' only: a float16 ``x`` came back float32 (CuPy 13) or
      float64 (CuPy 14, 'e->d'), so float16 is computed in float32 and rounded back.
    - lgamma(-inf): SciPy's gammaln gives -inf, PyTorch inf.
    - digamma(-0.0): SciPy's -inf (both zeros), PyTorch's inf.
    - polygamma(n >= 1): cupyx's ``polygamma(n, x)`` fails for a Python int ``n`` (it calls
      ``cupy.where(n == 0, ...)`` on a bool), so its formula is written out here,
      ``psi_n(x) = (-1)^(n+1) n! zeta(n + 1, x)``; at -inf zeta gives inf, PyTorch NaN.
    """
    work = x if x.dtype in (float32, float64) else x.astype(float32)
    if name == "lgamma":
        out = xp.where(xp.isinf(work), numpy.inf, special.gammaln(work))
    elif name == "polygamma" and n == 0:
        out = xp.where((work == 0) & xp.signbit(work), numpy.inf, special.digamma(work))
    elif name == "polygamma":
        scale = (-1.0) ** (n + 1) * float(math.factorial(n))
        out = xp.where(work == -numpy.inf, numpy.nan, scale * special.zeta(float(n + 1), work))
    else:
        out = getattr(special, name)(work)
    return out.astype(x.dtype, copy=False)


# associative and commutative ufuncs: their running value may be combined in any grouping
_SCANS_BY_DOUBLING = frozenset({"maximum", "minimum", "logaddexp", "logaddexp2"})


def scan_by_doubling(xp: ModuleType, ufunc: str, x: Array, axis: int) -> Array:
    """``ufunc.accumulate(x, axis)`` for ``ufunc`` in _SCANS_BY_DOUBLING, in log2(n) steps over
    the whole array (Hillis and Steele's scan: after the step of width w each entry combines
    the 2w entries ending at it), not n: CuPy's ufuncs accumulate add and multiply only, and a
    loop along the axis launches a kernel per position. maximum and minimum give NumPy's values
    exactly; logaddexp the same sum grouped otherwise (an ulp or so apart)."""
    fn = getattr(xp, ufunc)
    out = xp.moveaxis(x, axis, 0).copy()
    width = 1
    while width < out.shape[0]:
        out[width:] = fn(out[:-width], out[width:])  # earlier first, as accumulate; a new array
        width *= 2
    return xp.moveaxis(out, 0, axis)


def window_view(x: Array, window: Sequence[int], axes: Sequence[int]) -> Array:
    """``sliding_window_view(x, window, axis=axes)``, a read-only view: NumPy's own; on CuPy by
    ``as_strided`` with the layout worked out on the host (:func:`window_layout`). CuPy's
    sliding_window_view copies ``window`` to the GPU and reads each entry back to check its sign,
    a device sync per dim on every convolution and pooling call."""
    if array_module(x) is numpy:
        return numpy.lib.stride_tricks.sliding_window_view(x, window, axis=axes)
    shape, strides = window_layout(x.shape, x.strides, window, axes)
    return _load_cupy().lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def window_layout(
    shape: Sequence[int], strides: Sequence[int], window: Sequence[int], axes: Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shape and byte strides of ``sliding_window_view(x, window, axis=axes)`` for an array
    of ``shape`` and ``strides``: each axis in ``axes`` shortened to its number of windows, then
    one more dim per window, stepping as its axis does."""
    positions = list(shape)
    for axis, size in zip(axes, window):
        if not 0 <= size <= positions[axis]:
            raise ValueError(f"a window of {size} does not fit in a dim of {positions[axis]}")
        positions[axis] -= size - 1
    return tuple(positions) + tuple(window), tuple(strides) + tuple(strides[a] for a in axes)


def unique_along(x: Array, axis: int) -> tuple[Array, Array, Array]:
    """The distinct slices of ``x`` along ``axis`` in lexicographic order, the index of each
    slice among them ((n,), n = x.shape[axis]) and how often each occurs: NumPy's
    ``unique(x, return_inverse=True, return_counts=True, axis=axis)``. See
    :func:`unique_along_portable` for CuPy."""
    if array_module(x) is numpy:
        values, inverse, counts = numpy.unique(
            x, return_inverse=True, return_counts=True, axis=axis
        )
        return values, inverse.reshape(-1), counts
    return unique_along_portable(_load_cupy(), x, axis)


def unique_along_portable(xp: ModuleType, x: Array, axis: int) -> tuple[Array, Array, Array]:
    """:func:`unique_along` by one ``lexsort`` of the slices (flattened to rows, the first
    entry the primary key) and a comparison of neighbours. CuPy's ``unique(axis=)`` sorts the
    slices by a quicksort in Python that reads each comparison back from the GPU (a sync per
    comparison), on the sign of the first nonzero of ``left - right``: bool slices raise
    TypeError there (no bool subtract) and int8/int16 ones wrap (100 - -100 is -56), which
    misorders them and leaves duplicates apart. CuPy's lexsort is stable and puts NaN last,
    as NumPy's. The NaNs of float slices are all distinct (NaN != NaN), as NumPy's."""
    n = x.shape[axis]
    width = math.prod(size for dim, size in enumerate(x.shape) if dim != axis)
    if n == 0:
        empty = xp.zeros(0, dtype=int64)
        return x, empty, empty
    rows = xp.moveaxis(x, axis, 0).reshape(n, width)
    order = xp.lexsort(rows.T[::-1])  # lexsort's last key is its primary one
    ordered = rows[order]
    first = xp.ones(n, dtype=bool)  # where a run of equal rows starts
    first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    inverse = xp.empty(n, dtype=int64)
    inverse[order] = xp.cumsum(first) - 1
    starts = xp.flatnonzero(first)
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=starts.dtype)]))
    return xp.take(x, order[starts], axis=axis), inverse, counts.astype(int64, copy=False)


def repeat_positions(counts: Array) -> Array:
    """``repeat(arange(n), counts)`` for the 1-d non-negative integer ``counts`` (n of them):
    position i written counts[i] times, int64. See :func:`repeat_positions_portable` for
    CuPy."""
    if array_module(counts) is numpy:
        return numpy.repeat(numpy.arange(counts.shape[0], dtype=int64), counts)
    return repeat_positions_portable(_load_cupy(), counts)


def repeat_positions_portable(xp: ModuleType, counts: Array) -> Array:
    """:func:`repeat_positions` by a searchsorted of each output position in the running
    totals of ``counts`` (one read of the total to the host): CuPy 13's ``repeat`` refuses a
    CuPy array of repeats (ValueError; CuPy 14 takes one)."""
    ends = xp.cumsum(counts.astype(int64, copy=False))
    total = int(ends[-1]) if counts.shape[0] else 0
    return xp.searchsorted(ends, xp.arange(total, dtype=int64), side="right").astype(int64)


# =============================================================================================
# Dense linear algebra for minigrad.ops.decompositions: SVD, symmetric eigensystems,
# determinants, inverses and solves, each batched over leading dims (an empty batch allowed)
# =============================================================================================

# what NumPy and CuPy raise for a singular or non-positive-definite matrix (CuPy reuses NumPy's)
LINALG_ERRORS: tuple[type[Exception], ...] = (numpy.linalg.LinAlgError,)


def svd(a: Array, full_matrices: bool = False) -> tuple[Array, Array, Array]:
    """The thin SVD ``a = U diag(S) Vh`` of (..., m, n): U (..., m, k), S (..., k) descending,
    Vh (..., k, n), k = min(m, n); ``full_matrices``: U (..., m, m) and Vh (..., n, n)."""
    return tuple(array_module(a).linalg.svd(a, full_matrices=full_matrices))


def svdvals(a: Array) -> Array:
    """The singular values of (..., m, n), descending: (..., min(m, n))."""
    return array_module(a).linalg.svd(a, compute_uv=False)


def eigh(a: Array) -> tuple[Array, Array]:
    """The eigenvalues (ascending, (..., n)) and orthonormal eigenvectors (columns, (..., n, n))
    of the symmetric (..., n, n) matrices whose lower triangles ``a`` holds."""
    return tuple(array_module(a).linalg.eigh(a, UPLO="L"))


def eigvalsh(a: Array) -> Array:
    """The eigenvalues (ascending, (..., n)) of the symmetric matrices ``a``'s lower triangles
    hold."""
    return array_module(a).linalg.eigvalsh(a, UPLO="L")


def slogdet(a: Array) -> tuple[Array, Array]:
    """The sign (-1, 0 or 1) and log |det| of (..., n, n): two (...,) arrays in ``a``'s dtype."""
    xp = array_module(a)
    with quiet():  # NaN or inf entries: NaN, without NumPy's warning (PyTorch's)
        sign, logabsdet = xp.linalg.slogdet(a)
    return xp.asarray(sign, dtype=a.dtype), xp.asarray(logabsdet, dtype=a.dtype)


def det(a: Array) -> Array:
    """The determinant of (..., n, n): (...,)."""
    xp = array_module(a)
    with quiet():  # NaN or inf entries: NaN, without NumPy's warning (PyTorch's)
        return xp.asarray(xp.linalg.det(a), dtype=a.dtype)  # an array also for one matrix


def inv(a: Array) -> Array:
    """The inverse of (..., n, n); a singular matrix raises one of ``LINALG_ERRORS``."""
    return array_module(a).linalg.inv(a)


def solve(a: Array, b: Array) -> Array:
    """X with ``a @ X = b``: (..., n, n), (..., n, k) -> (..., n, k), batch dims broadcast."""
    xp = array_module(a)
    batch = numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    return xp.linalg.solve(a, b)


def cholesky(a: Array) -> Array:
    """The lower Cholesky factor of the symmetric positive-definite (..., n, n) matrices whose
    lower triangles ``a`` holds."""
    return array_module(a).linalg.cholesky(a)


def qr(a: Array, complete: bool = False) -> tuple[Array, Array]:
    """The QR of (..., m, n), k = min(m, n): Q (..., m, k) with orthonormal columns and upper
    R (..., k, n); ``complete``: Q (..., m, m), R (..., m, n)."""
    return tuple(array_module(a).linalg.qr(a, mode="complete" if complete else "reduced"))


def lu_factor(a: Array, pivot: bool = True) -> tuple[Array, Array, Array]:
    """LU with partial pivoting of (..., m, n), as LAPACK's getrf (neither NumPy nor CuPy has
    one): k = min(m, n) elimination steps, each swapping up the row whose entry in the column
    is largest in size (the first of equals), then subtracting multiples of it from the rows
    below. Returns the packed factors (..., m, n) (L's strict lower triangle, its unit
    diagonal implied, over U), the pivots (..., k) int32, 1-based as LAPACK's (step i swapped
    rows i and pivots[i] - 1), and info (...) int32: 0, or the 1-based step of the first exact
    zero on U's diagonal (the factors are still complete, as getrf's). ``pivot=False``: no
    swaps (pivots i + 1); a zero pivot then divides by zero (inf/NaN multipliers)."""
    xp = array_module(a)
    *batch, m, n = a.shape
    k = min(m, n)
    lu = xp.array(a, copy=True).reshape(math.prod(batch), m, n)
    pivots = xp.zeros((lu.shape[0], k), dtype=xp.int32)
    info = xp.zeros(lu.shape[0], dtype=xp.int32)
    rows = xp.arange(lu.shape[0])
    for j in range(k):
        # the pivot row (B,); without pivoting (LAPACK has none; PyTorch's CUDA LU does) row j
        p = j + xp.abs(lu[:, j:, j]).argmax(axis=1) if pivot else xp.full(lu.shape[0], j)
        pivots[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        diagonal = lu[:, j, j]
        zero = diagonal == 0  # pivoting: the column below is 0 too, its multipliers stay 0
        info[(info == 0) & zero] = j + 1
        lu[:, j + 1 :, j] /= xp.where(zero & pivot, 1, diagonal)[:, None]
        lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j : j + 1] * lu[:, j : j + 1, j + 1 :]
    return lu.reshape(a.shape), pivots.reshape((*batch, k)), info.reshape(batch)


def geqrf(a: Array) -> tuple[Array, Array]:
    """LAPACK's compact QR of (..., m, n): R on and above the diagonal, the Householder vectors
    below it (each with an implicit 1 on the diagonal), and their scales tau (..., min(m, n))."""
    xp = array_module(a)
    m, n = a.shape[-2:]
    if not m or not n or not a.size:
        return a.copy(), xp.zeros((*a.shape[:-2], min(m, n)), dtype=a.dtype)
    h, tau = xp.linalg.qr(a, mode="raw")  # h: the compact form, transposed (Fortran order)
    return xp.ascontiguousarray(h.swapaxes(-1, -2)), tau.astype(a.dtype, copy=False)


def solve_triangular(t: Array, b: Array, upper: bool, unitriangular: bool = False) -> Array:
    """X with ``T X = B`` by substitution, T the upper or lower triangle of (..., n, n) (1s on
    its diagonal when ``unitriangular``), B (..., n, k), batch dims broadcast. A zero on the
    diagonal gives inf/NaN, as LAPACK's trtrs without its check (no warning)."""
    xp = array_module(t)
    batch = numpy.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    n = t.shape[-1]
    t = xp.broadcast_to(t, batch + t.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]), dtype=xp.result_type(t, b))
    with quiet():
        for i in range(n - 1, -1, -1) if upper else range(n):
            done = slice(i + 1, n) if upper else slice(0, i)
            x[..., i, :] -= (t[..., i, None, done] @ x[..., done, :])[..., 0, :]
            if not unitriangular:
                x[..., i, :] /= t[..., i, i, None]
    return x


def cholesky_info(a: Array) -> Array:
    """LAPACK's potrf ``info`` for each of (..., n, n) (its lower triangle read): 0 where the
    Cholesky factorization exists, else the order of the first leading minor that is not
    positive-definite, found by the unblocked factorization run on the host (called after
    LAPACK's refused: a failure is rare)."""
    xp = array_module(a)
    host = to_host(a).reshape(-1, *a.shape[-2:]).astype(numpy.float64)
    info = numpy.zeros(host.shape[0], dtype=numpy.int32)
    for b, matrix in enumerate(host):
        factor = numpy.tril(matrix)
        for j in range(matrix.shape[0]):
            d = factor[j, j] - factor[j, :j] @ factor[j, :j]
            if not d > 0:  # NaN too
                info[b] = j + 1
                break
            factor[j, j] = math.sqrt(d)
            factor[j + 1 :, j] = (
                factor[j + 1 :, j] - factor[j + 1 :, :j] @ factor[j, :j]
            ) / factor[j, j]
    return xp.asarray(info.reshape(a.shape[:-2]))


def histogram(a: Array, bins: Any, value_range: Any, weights: Any, density: bool) -> tuple:
    """NumPy's (CuPy's) histogram of the 1-D ``a``: (counts, edges) in float64."""
    return array_module(a).histogram(
        a, bins=bins, range=value_range, weights=weights, density=density
    )


def lu_permutation(pivots: Array, m: int) -> Array:
    """The row order LAPACK's pivots (..., k) give rows of length m: perm (..., m) int64 with
    ``A[perm] = L U`` (the swaps applied in turn to 0, 1, ..., m - 1)."""
    xp = array_module(pivots)
    batch = pivots.shape[:-1]
    count = math.prod(batch)
    perm = xp.broadcast_to(xp.arange(m), (*batch, m)).reshape(count, m).copy()
    swaps = pivots.reshape(count, pivots.shape[-1]).astype(xp.int64) - 1
    rows = xp.arange(perm.shape[0])
    for i in range(swaps.shape[1]):
        target = swaps[:, i]
        held = perm[:, i].copy()
        perm[:, i] = perm[rows, target]
        perm[rows, target] = held
    return perm.reshape((*batch, m))


# =============================================================================================
# minigrad.Generator: a seeded random stream of one's own, as torch.Generator
# =============================================================================================


class Generator:
    """A random generator of its own for one device (``torch.Generator``): draws from it do not
    move the global generator ``manual_seed`` seeds, and one seed gives one stream. A new one
    starts from PyTorch's default seed, ``DEFAULT_SEED``; ``seed()`` draws a fresh one.

    ``minigrad.Generator().manual_seed(0)`` makes one; the functions that take ``generator=``
    (``multinomial``, ``nn.init``'s fills) call its ``random``/``standard_normal``/``integers``,
    NumPy's ``Generator`` methods, so a NumPy or CuPy generator serves them too.
    """

    # the seed a new torch.Generator starts from (c10's default_rng_seed_val): two fresh
    # generators give one stream until one is seeded
    DEFAULT_SEED = 67280421310721

    def __init__(self, device: Any = "cpu") -> None:
        self.device = normalize_device(device)
        self._initial_seed = self.DEFAULT_SEED
        self._gen = new_generator(self.device, self._initial_seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (a non-negative int); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"Generator.manual_seed expects a non-negative int, got {seed!r}")
        self._initial_seed = seed
        self._gen = new_generator(self.device, seed)
        return self

    def seed(self) -> int:
        """Restart the stream from a fresh random seed, and return that seed."""
        fresh = int(numpy.random.SeedSequence().generate_state(1, numpy.uint64)[0])
        self.manual_seed(fresh)
        return fresh

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._initial_seed

    def random(self, shape: Any, dtype: Any = float64) -> Array:
        """U[0, 1) samples of ``shape`` on the generator's device."""
        return self._gen.random(shape, dtype=dtype)

    def standard_normal(self, shape: Any, dtype: Any = float64) -> Array:
        """N(0, 1) samples of ``shape`` on the generator's device."""
        return self._gen.standard_normal(shape, dtype=dtype)

    def integers(self, low: int, high: int, size: Any = None, dtype: Any = int64) -> Array:
        """Integers in [low, high) of shape ``size`` on the generator's device."""
        return self._gen.integers(low, high, size=size, dtype=dtype)

    def __repr__(self) -> str:
        return f"minigrad.Generator(device={self.device!r}, initial_seed={self._initial_seed})"
