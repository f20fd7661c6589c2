"""Gradient clipping and parameter vectors, after ``torch.nn.utils``: ``clip_grad_norm_`` (which
is ``get_total_norm`` then ``clip_grads_with_norm_``), ``clip_grad_value_``,
``parameters_to_vector`` and ``vector_to_parameters``; ``nn.utils.rnn`` is ``nn.rnn_utils``
(``torch.nn.utils.rnn``: packed sequences).

The clipping functions change the parameters' ``.grad`` arrays in place, record no graph and
skip parameters whose ``grad`` is None.

Owns: gradient clipping, parameter vectors. May import: minigrad's public API, ``nn.rnn_utils``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.autograd import increment_version, no_grad
from minigrad.ops import cat
from minigrad.tensor import Tensor, as_tensor
from nn import rnn_utils as rnn

sys.modules[f"{__name__}.rnn"] = rnn  # `from nn.utils.rnn import ...` too, as os.path does

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _grads(parameters: Tensor | Iterable[Tensor], where: str) -> list[Tensor]:
    """The gradients of ``parameters`` (a Tensor or an iterable of them), None skipped."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}parameters[{i}] is a {type(p).__name__}, not a Tensor")
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def _vector_norm(arr: Any, norm_type: float) -> Any:
    """The ``norm_type``-norm of ``arr`` seen as one vector, as a 0-d array in its dtype.

    A float16 array is summed in float32 and the norm rounded to float16 at the end (as
    ``torch.linalg.vector_norm``): its squares overflow from 256 and underflow below 1e-4.
    """
    xp = backend.array_module(arr)
    if arr.size == 0:
        return xp.zeros((), dtype=arr.dtype)
    if arr.dtype.itemsize < 4:
        return _vector_norm(arr.astype(backend.float32), norm_type).astype(arr.dtype)
    flat = arr.reshape(-1)
    if norm_type == math.inf:
        # |x|_inf = max |x_i|
        return xp.asarray(xp.max(xp.abs(flat)))
    if norm_type == 2.0:
        # |x|_2 = sqrt(sum x_i^2)
        return xp.asarray(xp.sqrt(xp.dot(flat, flat)))
    if norm_type == 1.0:
        # |x|_1 = sum |x_i|
        return xp.asarray(xp.sum(xp.abs(flat)))
    # |x|_p = (sum |x_i|^p)^(1/p)
    return xp.asarray(xp.sum(xp.abs(flat) ** norm_type) ** (1.0 / norm_type))


def _max_norm(max_norm: Any, where: str) -> float:
    """A ``max_norm`` (>= 0), checked, as a Python float (a NumPy float64 would widen the
    coefficient)."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"{where}max_norm must be a real number, got {max_norm!r}")
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"{where}max_norm must be >= 0, got {max_norm}")
    return max_norm


def _norm_type(norm_type: Any, where: str) -> float:
    """A ``norm_type`` (> 0, or inf), checked."""
    try:
        norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"{where}norm_type must be a number or 'inf', got {norm_type!r}") from None
    if not norm_type > 0:
        raise ValueError(f"{where}norm_type must be > 0 or inf, got {norm_type}")
    return norm_type


def _total_norm(
    arrays: list[Any], norm_type: float, error_if_nonfinite: bool, where: str, what: str
) -> Any:
    """The ``norm_type``-norm of ``arrays`` (non-empty; ``what`` names them in the error)
    seen as one vector: the norm of their norms, as a 0-d array on the first one's device."""
    first_device = backend.device_of(arrays[0])
    xp = backend.array_module(arrays[0])
    norms = [backend.to_device(_vector_norm(a, norm_type), first_device) for a in arrays]
    total_norm = _vector_norm(xp.stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(norm := float(backend.to_host(total_norm))):
        raise RuntimeError(
            f"{where}the total norm of order {norm_type} of the {what} is {norm}, so it cannot "
            "be clipped; set error_if_nonfinite=False to scale the gradients by it anyway"
        )
    return total_norm


def _scale_by_norm(grad_tensors: list[Tensor], max_norm: float, total_norm: Any) -> None:
    """Multiply each gradient in place by ``min(max_norm / (total_norm + 1e-6), 1)``."""
    # c = min(max_norm / (total + 1e-6), 1); g = c * g  (minimum keeps a NaN total as NaN;
    # a float16 total divides in float32, where a small one does not overflow to inf)
    xp = backend.array_module(total_norm)
    total = total_norm.astype(backend.float32) if total_norm.dtype.itemsize < 4 else total_norm
    clip_coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for t in grad_tensors:
        t.array *= backend.to_device(clip_coef.astype(t.array.dtype), backend.device_of(t.array))
        increment_version(t)


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` taken together, as if concatenated into one vector
    (as ``torch.nn.utils.get_total_norm``): the norm of their norms. Records no graph.

    Args:
        tensors: a Tensor or an iterable of Tensors (of any shapes).
        norm_type: the p of the p-norm (> 0), or ``math.inf`` / ``"inf"``.
        error_if_nonfinite: raise when the total norm is NaN or infinite.
        foreach: accepted for PyTorch's signature and ignored: there is one implementation.

    Returns:
        A 0-d Tensor on the first tensor's device, in the dtype its norms promote to (float32 0
        when ``tensors`` is empty).

    Raises:
        ValueError: a ``norm_type`` that is not > 0.
        RuntimeError: a non-finite norm with ``error_if_nonfinite``.
    """
    where = "get_total_norm: "
    norm_type = _norm_type(norm_type, where)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}tensors[{i}] is a {type(t).__name__}, not a Tensor")
    if not tensors:
        device = backend.default_device()
        return as_tensor(backend.asarray(0.0, dtype=backend.float32, device=device))
    arrays = [t.array for t in tensors]
    return as_tensor(_total_norm(arrays, norm_type, error_if_nonfinite, where, "tensors"))


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Scale the gradients in place by ``min(max_norm / (total_norm + 1e-6), 1)``, with a total
    norm computed beforehand (``get_total_norm`` of the gradients, perhaps of several groups or
    processes), as ``torch.nn.utils.clip_grads_with_norm_``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` to scale.
        max_norm: the largest allowed norm (>= 0).
        total_norm: the norm to scale by: a 0-d Tensor or a number.
        foreach: accepted for PyTorch's signature and ignored.

    Raises:
        ValueError: a negative or NaN ``max_norm``, a ``total_norm`` of more than one element.
    """
    where = "clip_grads_with_norm_: "
    max_norm = _max_norm(max_norm, where)
    if isinstance(total_norm, Tensor):
        if total_norm.numel() != 1:
            raise ValueError(
                f"{where}total_norm must be one number, got a tensor of shape "
                f"{tuple(total_norm.shape)}"
            )
        total = total_norm.array.reshape(())
    elif isinstance(total_norm, numbers.Real) and not isinstance(total_norm, bool):
        total = backend.asarray(float(total_norm), dtype=backend.float64)  # cast per gradient
    else:
        raise TypeError(f"{where}total_norm must be a Tensor or a number, got {total_norm!r}")
    grad_tensors = _grads(parameters, where)
    if grad_tensors:
        _scale_by_norm(grad_tensors, max_norm, total)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated into one vector. When it
    exceeds ``max_norm``, every gradient is multiplied by ``max_norm / (total_norm + 1e-6)``
    (as ``torch.nn.utils.clip_grad_norm_``; the multiplier is clamped to 1, so gradients under
    the limit are unchanged, and it is computed on the device, with no host round trip). It is
    ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` to clip.
        max_norm: the largest allowed norm (>= 0).
        norm_type: the p of the p-norm (> 0), or ``math.inf`` / ``"inf"`` for the largest
            absolute value.
        error_if_nonfinite: raise when the total norm is NaN or infinite instead of scaling by it
            (which makes every gradient NaN).
        foreach: accepted for PyTorch's signature and ignored: there is one implementation.

    Returns:
        The total norm of the gradients before clipping, a 0-d Tensor (float32 0 when no
        parameter has a gradient).

    Raises:
        ValueError: a negative or NaN ``max_norm``, a ``norm_type`` that is not > 0.
        RuntimeError: a non-finite norm with ``error_if_nonfinite``; no gradient changes.
    """
    where = "clip_grad_norm_: "
    max_norm, norm_type = _max_norm(max_norm, where), _norm_type(norm_type, where)
    grad_tensors = _grads(parameters, where)
    if not grad_tensors:
        device = backend.default_device()
        return as_tensor(backend.asarray(0.0, dtype=backend.float32, device=device))
    arrays = [g.array for g in grad_tensors]
    total_norm = _total_norm(arrays, norm_type, error_if_nonfinite, where, "gradients")
    _scale_by_norm(grad_tensors, max_norm, total_norm)
    return as_tensor(total_norm)


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: a Tensor or an iterable of Tensors whose ``.grad`` to clip.
        clip_value: the largest allowed absolute value (>= 0).
        foreach: accepted for PyTorch's signature and ignored.

    Raises:
        ValueError: a negative or NaN ``clip_value``.
    """
    where = "clip_grad_value_: "
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real):
        raise TypeError(f"{where}clip_value must be a real number, got {clip_value!r}")
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{where}clip_value must be >= 0, got {clip_value}")
    for t in _grads(parameters, where):
        # g = clamp(g, -c, c)
        backend.array_module(t.array).clip(t.array, -clip_value, clip_value, out=t.array)
        increment_version(t)


def _vector_parameters(parameters: Iterable[Tensor], where: str) -> list[Tensor]:
    """``parameters`` as a non-empty list of Tensors on one device."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    if not parameters:
        raise ValueError(f"{where}got no parameters")
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}parameters[{i}] is a {type(p).__name__}, not a Tensor")
        if p.device != parameters[0].device:
            raise TypeError(
                f"{where}parameters[{i}] is on {p.device}, parameters[0] on "
                f"{parameters[0].device}: found two parameters on different devices"
            )
    return parameters


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated, in order, into one vector (as
    ``torch.nn.utils.parameters_to_vector``); differentiable.

    Args:
        parameters: an iterable of Tensors (``model.parameters()``), all on one device.

    Returns:
        A Tensor of shape ``(sum of numel,)``, in the dtype the parameters promote to.

    Raises:
        TypeError: an entry that is not a Tensor, parameters on different devices.
        ValueError: no parameters.
    """
    parameters = _vector_parameters(parameters, "parameters_to_vector: ")
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place and with no graph (as
    ``torch.nn.utils.vector_to_parameters``; the inverse of ``parameters_to_vector``).

    Unlike PyTorch, which points each parameter at a slice of ``vec`` (taking its dtype and
    device, and ignoring what is left over), the values are copied into the parameters' own
    arrays, and ``vec`` must match them: its length the parameters' total size, its dtype and
    device theirs. Everything is checked before any parameter changes.

    Args:
        vec: a 1-d Tensor of ``sum of numel`` elements.
        parameters: an iterable of Tensors (``model.parameters()``), all on one device.

    Raises:
        TypeError: ``vec`` or an entry of ``parameters`` that is not a Tensor, parameters on
            different devices.
        ValueError: a ``vec`` that is not 1-d, of another length, dtype or device.
    """
    where = "vector_to_parameters: "
    if not isinstance(vec, Tensor):
        raise TypeError(f"{where}expected a Tensor, got {type(vec).__name__}")
    parameters = _vector_parameters(parameters, where)
    sizes = [p.numel() for p in parameters]
    if vec.ndim != 1 or vec.shape[0] != sum(sizes):
        raise ValueError(
            f"{where}vec must be 1-d with {sum(sizes)} elements (the parameters' total size), "
            f"got shape {tuple(vec.shape)}"
        )
    for i, p in enumerate(parameters):
        if p.dtype != vec.dtype or p.device != vec.device:
            raise ValueError(
                f"{where}vec is {vec.dtype} on {vec.device}, parameters[{i}] {p.dtype} on "
                f"{p.device}"
            )
    offsets = [0, *itertools.accumulate(sizes)]
    with no_grad():
        for p, start, stop in zip(parameters, offsets, offsets[1:]):
            p.copy_(vec[start:stop].reshape(p.shape))
