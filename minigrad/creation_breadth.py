"""More factories, beside ``minigrad.creation``'s: the ``*_like`` random draws, randperm,
normal, logspace and the deprecated ``range``.

As there, each takes ``dtype``, ``device`` and ``requires_grad`` where PyTorch's does, and random
draws come from the generator ``minigrad.manual_seed`` seeds (``backend.uniform``,
``backend.normal``, ``backend.integers``).

Owns: these factories. May import: ``backend``, ``autograd``, ``ops``, ``creation`` and
``tensor``.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from minigrad import autograd, backend, ops
from minigrad.creation import (
    _count,
    _dtype,
    _finish,
    _float_dtype,
    _OnDevice,
    _shape,
    _spaced,
    arange,
    empty,
)
from minigrad.ops._util import broadcast_shape
from minigrad.tensor import Tensor

__all__ = [
    "empty_like",
    "logspace",
    "normal",
    "rand_like",
    "randint_like",
    "randn_like",
    "randperm",
    "range",
]


def _like(t: Tensor, dtype: Any, device: Any) -> tuple[Any, str]:
    if not isinstance(t, Tensor):
        raise TypeError(f"expects a tensor to take the shape of, got {type(t).__name__}")
    dtype = _dtype(dtype, t.dtype)
    return dtype, t.device if device is None else backend.normalize_device(device)


def _draw(sample: Any, shape: tuple[int, ...], dtype: Any, device: str, name: str) -> Any:
    """``sample(shape, dtype, device)`` (``backend.uniform`` or ``backend.normal``) for a float
    dtype; float16 is drawn in float32 and rounded (the generators draw float32 and float64)."""
    if dtype == backend.float16:
        return sample(shape, backend.float32, device).astype(backend.float16)
    return sample(shape, _float_dtype(dtype, name), device)


def empty_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uninitialized memory of ``input``'s shape, dtype and device (unless given)."""
    dtype, device = _like(input, dtype, device)
    return empty(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples in [0, 1) of ``input``'s shape, dtype (a float) and device."""
    dtype, device = _like(input, dtype, device)
    draw = _draw(backend.uniform, tuple(input.shape), dtype, device, "rand_like")
    return _finish(draw, requires_grad)


def randn_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples of ``input``'s shape, dtype (a float) and device."""
    dtype, device = _like(input, dtype, device)
    draw = _draw(backend.normal, tuple(input.shape), dtype, device, "randn_like")
    return _finish(draw, requires_grad)


def randint_like(
    input: Tensor,  # noqa: A002
    low: int,
    high: int | None = None,
    *,
    dtype: Any = None,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high) (``randint_like(x, high)``: low = 0) in
    ``input``'s shape, dtype and device (a float tensor gets whole floats, as PyTorch)."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint_like: high ({high}) must be greater than low ({low})")
    dtype, device = _like(input, dtype, device)
    ints = backend.integers(low, high, tuple(input.shape), backend.int64, device)
    return Tensor._wrap(ints.astype(dtype, copy=False))


def randperm(
    n: int,
    *,
    generator: Any = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of 0 .. n-1 (int64 unless ``dtype`` says), drawn from
    ``generator`` (a ``minigrad.Generator``) if given, else from the global generator."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    dtype = _dtype(dtype, backend.int64)
    device = backend.normalize_device(device)
    # the order of n random keys
    keys = backend.uniform((n,), backend.float64, device, source=generator)
    return _finish(backend.array_module(keys).argsort(keys).astype(dtype), requires_grad)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples with ``mean`` and ``std``: tensors (broadcast together, the result their
    shape, dtype and device) or numbers with ``size``. As PyTorch, the result of tensor
    arguments that require grad is in their graph with a zero gradient."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: give size when mean and std are both numbers")
        if not std >= 0:
            raise ValueError(f"normal: std must be >= 0, got {std}")
        device = backend.normalize_device(device)
        draw = backend.normal(_shape((size,)), _float_dtype(dtype, "normal"), device)
        return _finish(draw * std + mean, requires_grad)
    if size is not None:
        raise TypeError("normal: size is only for numbers mean and std, not tensors")
    if isinstance(std, Tensor) and std.numel() and bool((std < 0).any()):
        raise ValueError(f"normal: std (shape {tuple(std.shape)}) must be >= 0 everywhere")
    if isinstance(std, (int, float)) and not std >= 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    shape = broadcast_shape("normal", "mean and std, shapes", *(t.shape for t in tensors))
    first = tensors[0]
    kind = builtins.max(tensors, key=lambda t: t.dtype.itemsize).dtype
    draw = _draw(backend.normal, shape, kind, first.device, "normal")
    with autograd.no_grad():
        sample = Tensor._wrap(draw) * std + mean
    if autograd.is_grad_enabled() and any(t.requires_grad for t in tensors):
        everywhere = Tensor._wrap(backend.array_module(draw).ones(shape, dtype=bool))
        return ops.where(everywhere, sample, ops.add(mean, std))  # in the graph, gradient 0
    return sample


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``base ** linspace(start, end, steps)``: ``steps`` values spaced evenly on a log scale
    (float32 unless ``dtype`` says; an integer dtype truncates, and converts ``start`` and
    ``end`` to itself first, as PyTorch: see ``creation._spaced``)."""
    steps = _count("logspace", steps)
    d = _dtype(dtype)
    device = backend.normalize_device(device)
    with _OnDevice(device):
        xp = backend.module_for_device(device)
        with backend.quiet():  # past the dtype's range: inf, as PyTorch
            values = base ** _spaced("logspace", start, end, steps, d, xp)
            if d.kind in "iu":
                values = xp.trunc(values)
            return _finish(values.astype(d), requires_grad)


def range(  # noqa: A001  (torch.range: PyTorch's name)
    start: float,
    end: float,
    step: float = 1,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` to ``end`` *inclusive* by ``step``, float32 by default: PyTorch's
    deprecated ``torch.range`` (``arange`` excludes ``end``; prefer it)."""
    if step == 0:
        raise ValueError("range: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(
            f"range: upper bound and lower bound inconsistent with step sign (start {start}, "
            f"end {end}, step {step})"
        )
    count = math.floor((end - start) / step) + 1
    d = _dtype(dtype)
    device = backend.normalize_device(device)
    with _OnDevice(device):
        steps = arange(count, dtype=backend.float64, device=device).array
        return _finish((start + steps * step).astype(d), requires_grad)
