"""Gradient clipping, after ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``;
``nn.utils.rnn`` is ``nn.rnn_utils`` (``torch.nn.utils.rnn``: packed sequences).

Both change the parameters' ``.grad`` arrays in place, record no graph and skip parameters
whose ``grad`` is None.

Owns: gradient clipping. May import: minigrad's public API, ``nn.rnn_utils``.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable
from typing import Any

from minigrad import backend
from minigrad.autograd import increment_version
from minigrad.tensor import Tensor, as_tensor
from nn import rnn_utils as rnn

sys.modules[f"{__name__}.rnn"] = rnn  # `from nn.utils.rnn import ...` too, as os.path does

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


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


def _norm_arguments(max_norm: Any, norm_type: Any, where: str) -> tuple[float, float]:
    """``clip_grad_norm_``'s max_norm (>= 0) and norm_type (> 0, or inf), checked."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"{where}max_norm must be a real number, got {max_norm!r}")
    max_norm = float(max_norm)  # a Python float: a NumPy float64 would widen the coefficient
    if not max_norm >= 0:
        raise ValueError(f"{where}max_norm must be >= 0, got {max_norm}")
    try:
        norm_type = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"{where}norm_type must be a number or 'inf', got {norm_type!r}") from None
    if not norm_type > 0:
        raise ValueError(f"{where}norm_type must be > 0 or inf, got {norm_type}")
    return max_norm, norm_type


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
    the limit are unchanged, and it is computed on the device, with no host round trip).

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
    max_norm, norm_type = _norm_arguments(max_norm, norm_type, where)
    grad_tensors = _grads(parameters, where)
    grads = [g.array for g in grad_tensors]
    if not grads:
        device = backend.default_device()
        return as_tensor(backend.asarray(0.0, dtype=backend.float32, device=device))

    first_device = backend.device_of(grads[0])
    xp = backend.array_module(grads[0])
    norms = [backend.to_device(_vector_norm(g, norm_type), first_device) for g in grads]
    total_norm = _vector_norm(xp.stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(norm := float(backend.to_host(total_norm))):
        raise RuntimeError(
            f"{where}the total norm of order {norm_type} of the gradients is "
            f"{norm}, so it cannot be clipped; set error_if_nonfinite=False to "
            "scale the gradients by it anyway"
        )
    # c = min(max_norm / (total + 1e-6), 1); g = c * g  (minimum keeps a NaN total as NaN;
    # a float16 total divides in float32, where a small one does not overflow to inf)
    total = total_norm.astype(backend.float32) if total_norm.dtype.itemsize < 4 else total_norm
    clip_coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= backend.to_device(clip_coef.astype(g.dtype), backend.device_of(g))
    for t in grad_tensors:
        increment_version(t)
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
