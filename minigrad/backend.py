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

import copy
import functools
import math
import os
from types import ModuleType
from typing import Any

import numpy

__all__ = [
    "Array",
    "BackendError",
    "array_module",
    "device_of",
    "default_device",
    "get_backend",
    "set_backend",
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
int32 = numpy.dtype("int32")
int64 = numpy.dtype("int64")
bool_ = numpy.dtype("bool")
DEFAULT_FLOAT = float32
DEFAULT_INT = int64

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
_backend = "numpy"


def set_backend(name: str) -> None:
    """Choose where new tensors are created: ``"numpy"`` (CPU) or ``"cupy"`` (GPU).

    Existing tensors stay where they are; move them with ``Tensor.to(device)``.
    """
    global _backend
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {_BACKENDS}")
    if name == "cupy":
        _load_cupy()
    _backend = name


def get_backend() -> str:
    """The name of the current backend: ``"numpy"`` or ``"cupy"``."""
    return _backend


def default_device() -> str:
    """The device new tensors go to under the current backend."""
    if _backend == "cupy":
        return f"cuda:{_load_cupy().cuda.runtime.getDevice()}"
    return "cpu"


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
    xp = array_module(arr)
    info = _iinfo(arr.dtype)
    if skip is not None and not info.min <= skip <= info.max:
        skip = None  # no element can equal it
    if xp is numpy:  # on the host the one read is free: no need to stack the statistics
        return _host_int_range(to_host(arr), skip)
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


def _host_int_range(arr: numpy.ndarray, skip: int | None) -> tuple[int, int, bool]:
    """``int_range`` of a NumPy array."""
    skipped = False
    if skip is not None:
        keep = arr != skip
        if not keep.all():
            skipped, arr = True, arr[keep]
            if arr.size == 0:
                return 0, -1, True
    return int(arr.min()), int(arr.max()), skipped


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


def generator(device: str) -> Any:
    """The random generator for ``device`` (``numpy.random.Generator`` or CuPy's)."""
    gen = _generators.get(device)
    if gen is None:
        if device == "cpu":
            gen = numpy.random.default_rng(_seed)
        else:
            cupy = _load_cupy()
            with cupy.cuda.Device(int(device.split(":")[1])):
                gen = cupy.random.default_rng(_seed)
        _generators[device] = gen
    return gen


def get_rng_state(devices: tuple[str, ...] = ()) -> tuple[int | None, dict[str, Any]]:
    """A copy of every random generator's state (and the seed), to give to ``set_rng_state``.

    The generators of ``devices`` are made first if they do not exist yet, so that draws on
    them after this call can be replayed even without ``manual_seed``.
    """
    for device in devices:
        generator(device)
    return _seed, {device: copy.deepcopy(gen) for device, gen in _generators.items()}


def set_rng_state(state: tuple[int | None, dict[str, Any]]) -> None:
    """Put the generators back as ``get_rng_state`` copied them (the state stays reusable)."""
    global _seed
    _seed, generators = state
    _generators.clear()
    _generators.update({device: copy.deepcopy(gen) for device, gen in generators.items()})


def uniform(shape: tuple[int, ...], dtype: Any, device: str) -> Array:
    """Uniform samples in [0, 1), drawn directly in ``dtype`` (float32 or float64)."""
    return generator(device).random(shape, dtype=dtype)


def normal(shape: tuple[int, ...], dtype: Any, device: str) -> Array:
    """Standard normal samples, drawn directly in ``dtype`` (float32 or float64)."""
    return generator(device).standard_normal(shape, dtype=dtype)


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
    if _is_cupy_array(target) and not hasattr(_load_cupy().add, "at"):
        import cupyx  # noqa: PLC0415  (CuPy before ufunc.at; deprecated in later CuPy)

        cupyx.scatter_add(target, index, values)
    else:
        array_module(target).add.at(target, index, values)


def index_rows_add(num_rows: int, index: Array, values: Array) -> Array:
    """Sum the rows of ``values`` (shape (*index.shape, D)) into a (num_rows, D) array by ``index``.

    The gradient of an embedding lookup. On NumPy a sparse-to-dense matrix product via
    ``bincount`` per column is slow, so we sort once and use ``add.reduceat``.
    """
    xp = array_module(values)
    flat_index = index.reshape(-1)
    flat_values = values.reshape(flat_index.shape[0], -1)
    out = xp.zeros((num_rows, flat_values.shape[1]), dtype=values.dtype)
    if flat_index.shape[0] == 0:
        return out
    if xp is numpy:
        order = numpy.argsort(flat_index, kind="stable")
        sorted_index = flat_index[order]
        starts = numpy.flatnonzero(numpy.r_[True, sorted_index[1:] != sorted_index[:-1]])
        out[sorted_index[starts]] = numpy.add.reduceat(flat_values[order], starts, axis=0)
    else:
        scatter_add(out, flat_index, flat_values)
    return out


# erf: CuPy has it; NumPy does not, so we build a piecewise Chebyshev interpolant of math.erf
# on [0, 6] at import time (erf(x) rounds to 1 in float64 beyond 6) and evaluate it with
# Clenshaw's recurrence. Accuracy: about 1e-16 absolute in float64.
_ERF_PIECES = 12
_ERF_WIDTH = 0.5
_ERF_DEGREE = 18


def _erf_table() -> numpy.ndarray:
    table = numpy.empty((_ERF_DEGREE + 1, _ERF_PIECES))
    for piece in range(_ERF_PIECES):
        lo = piece * _ERF_WIDTH
        nodes = numpy.cos(numpy.pi * (numpy.arange(_ERF_DEGREE + 1) + 0.5) / (_ERF_DEGREE + 1))
        values = [math.erf(lo + (t + 1.0) * _ERF_WIDTH / 2) for t in nodes]
        table[:, piece] = numpy.polynomial.chebyshev.chebfit(nodes, values, _ERF_DEGREE)
    return table


_ERF_TABLE = _erf_table()
_erf_tables: dict[Any, numpy.ndarray] = {}


def erf(x: Array) -> Array:
    """The error function, elementwise, in the dtype of ``x``."""
    if _is_cupy_array(x):
        import cupyx.scipy.special  # noqa: PLC0415

        return cupyx.scipy.special.erf(x)
    table = _erf_tables.get(x.dtype)
    if table is None:
        table = _erf_tables[x.dtype] = _ERF_TABLE.astype(x.dtype)
    ax = numpy.minimum(numpy.abs(x), _ERF_PIECES * _ERF_WIDTH)
    piece = numpy.minimum((ax * (1.0 / _ERF_WIDTH)).astype(numpy.intp), _ERF_PIECES - 1)
    t = (ax - piece * _ERF_WIDTH) * (2.0 / _ERF_WIDTH) - 1.0  # position in the piece, in [-1, 1]
    t2 = 2.0 * t
    b1 = numpy.zeros_like(t)
    b2 = numpy.zeros_like(t)
    for k in range(_ERF_DEGREE, 0, -1):  # Clenshaw: b_k = c_k + 2t b_{k+1} - b_{k+2}
        b1, b2 = table[k][piece] + t2 * b1 - b2, b1
    result = table[0][piece] + t * b1 - b2
    return numpy.copysign(numpy.minimum(result, 1.0), x).astype(x.dtype, copy=False)


def initial_backend() -> str:
    """The backend named by the ``MINIGRAD_BACKEND`` environment variable (default numpy)."""
    return os.environ.get("MINIGRAD_BACKEND", "numpy").strip().lower() or "numpy"


def numpy_module() -> ModuleType:
    """NumPy itself, for shape arithmetic on the host (``broadcast_shapes``), never for data."""
    return numpy


def is_owned(arr: Array) -> bool:
    """True when ``arr`` owns its memory (not a view), is C-contiguous and writable."""
    if _is_cupy_array(arr):
        return arr.base is None and arr.flags.c_contiguous
    if arr.base is not None:
        return False
    flags = arr.flags
    return flags.c_contiguous and flags.writeable


def contiguous(arr: Array) -> Array:
    """``arr`` as a C-contiguous array that owns writable memory (a copy only when needed)."""
    if _is_cupy_array(arr):
        return _cupy.ascontiguousarray(arr)  # type: ignore[union-attr]
    if arr.__class__ is not numpy.ndarray:
        return numpy.asarray(arr)
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return numpy.array(arr, order="C")


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
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel(fn: Any, out: Array, *arrays: Array, axis: int = 0) -> Array:
    """Run ``fn(out_block, *array_blocks)`` over blocks of rows along ``axis``; returns ``out``.

    Every array must have ``out``'s length along ``axis`` (other dims may differ, e.g. size 1
    on a reduced dim); ``fn`` writes its block of the result into ``out_block`` (and may write
    into the blocks of the other arrays). Small arrays, GPU arrays and single-core machines run ``fn`` once, whole.
    """
    global _pool
    if out.size < PARALLEL_MIN_SIZE or _is_cupy_array(out):
        fn(out, *arrays)
        return out
    threads = num_threads()
    n = out.shape[axis]
    if threads < 2 or n < 2:
        fn(out, *arrays)
        return out
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="minigrad")
    lead = (slice(None),) * axis
    bounds = [n * k // threads for k in range(threads + 1)]
    blocks = [lead + (slice(a, b),) for a, b in zip(bounds, bounds[1:]) if b > a]
    for future in [_pool.submit(fn, out[b], *(a[b] for a in arrays)) for b in blocks]:
        future.result()
    return out
