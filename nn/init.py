"""Initializers, after ``torch.nn.init``: each fills a tensor in place and returns it.

Random draws come from ``minigrad.manual_seed``'s generator for the tensor's device, so a seeded
model is the same on every run. Fan-in and fan-out follow PyTorch: for a weight of shape
(out, in, *kernel), fan_in = in * prod(kernel) and fan_out = out * prod(kernel).

Owns: the initializers. May import: minigrad's public API.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from minigrad import autograd, backend
from minigrad.tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for ``nonlinearity`` (scales the initial std)."""
    convolutions = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")
    linear = ("linear", *convolutions, "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight with at least 2 dims."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dims, got shape {tuple(tensor.shape)}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _float_tensor(name: str, tensor: Tensor) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating point tensor, got {tensor.dtype}")


def _draw(
    tensor: Tensor, kind: str, generator: Any = None, shape: tuple[int, ...] | None = None
) -> Any:
    """Samples of U[0, 1) or N(0, 1) shaped as ``tensor`` (or ``shape``), from ``generator``
    (a ``minigrad.Generator``, or a NumPy or CuPy ``Generator``, as
    ``minigrad.backend.new_generator`` makes) or else minigrad's generator for the tensor's
    device."""
    # float16 cannot be drawn directly: draw float32 and cast
    dtype = tensor.dtype if tensor.dtype in (backend.float32, backend.float64) else backend.float32
    shape = tuple(tensor.shape) if shape is None else shape
    method = "random" if kind == "uniform" else "standard_normal"
    if generator is not None and not callable(getattr(generator, method, None)):
        raise TypeError(
            "generator: expected a minigrad.Generator or a NumPy or CuPy random Generator "
            f"(minigrad.backend.new_generator), got {type(generator).__name__}"
        )
    sample = backend.uniform if kind == "uniform" else backend.normal
    return sample(shape, dtype, tensor.device, generator)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from U(a, b) (drawn from ``generator`` when given: a NumPy or CuPy
    ``Generator``)."""
    _float_tensor("uniform_", tensor)
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    with autograd.no_grad():
        tensor.array[...] = _draw(tensor, "uniform", generator) * (b - a) + a
    autograd.increment_version(tensor)
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with samples from N(mean, std^2) (drawn from ``generator`` when given)."""
    _float_tensor("normal_", tensor)
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    with autograd.no_grad():
        tensor.array[...] = _draw(tensor, "normal", generator) * std + mean
    autograd.increment_version(tensor)
    return tensor


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> Tensor:
    """Fill with samples from N(mean, std^2) truncated to [a, b] (absolute bounds, as
    PyTorch's), by PyTorch's method: uniform in [cdf(a), cdf(b)], through the inverse normal
    CDF, clamped to [a, b]. Warns, as PyTorch, when ``mean`` is more than 2 std outside."""
    _float_tensor("trunc_normal_", tensor)
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution "
            "of values may be incorrect.",
            stacklevel=2,
        )
    low, high = _norm_cdf((a - mean) / std), _norm_cdf((b - mean) / std)
    u = _draw(tensor, "uniform", generator).astype(backend.float64)  # erfinv in float64
    # kept 1 ulp inside +-1, where erfinv is finite (+-5.9): the clamp below bounds it anyway
    y = backend.array_module(u).clip(
        u * (2 * high - 2 * low) + (2 * low - 1), -1 + 2**-52, 1 - 2**-52
    )
    x = backend.erfinv(y) * (std * math.sqrt(2.0)) + mean
    with autograd.no_grad():
        xp = backend.array_module(x)
        tensor.array[...] = xp.clip(x, a, b)
    autograd.increment_version(tensor)
    return tensor


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Saxe et al. (2013): fill with a (semi-)orthogonal matrix times ``gain``, as PyTorch's:
    the tensor seen as (shape[0], numel / shape[0]) has orthonormal rows (wide) or columns
    (tall), the Q of a QR of a Gaussian matrix with its signs fixed by R's diagonal."""
    _float_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(
            "orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    if tensor.numel() == 0:
        return tensor  # as PyTorch: nothing to fill
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _draw(tensor, "normal", generator, (rows, cols))
    if rows < cols:
        flat = flat.T
    xp = backend.array_module(flat)
    q, r = xp.linalg.qr(flat)  # reduced: q (max, min) with orthonormal columns
    q = q * xp.sign(xp.diagonal(r))  # the unique Q whose R has a positive diagonal
    if rows < cols:
        q = q.T
    with autograd.no_grad():
        tensor.array[...] = (q * gain).reshape(tensor.shape)
    autograd.increment_version(tensor)
    return tensor


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal of a non-square one too)."""
    if not isinstance(tensor, Tensor) or tensor.ndim != 2:
        what = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {what}")
    xp = backend.array_module(tensor.array)
    with autograd.no_grad():
        tensor.array[...] = xp.eye(*tensor.shape, dtype=tensor.dtype)
    autograd.increment_version(tensor)
    return tensor


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a convolution weight (out, in, *kernel), 3 to 5 dims, with the Dirac delta: each
    of ``groups`` groups of output channels passes its input channels through unchanged (one
    1 at the kernel's centre per channel), as PyTorch's."""
    if not isinstance(tensor, Tensor) or tensor.ndim not in (3, 4, 5):
        what = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor).__name__
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {what}"
        )
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"dirac_: groups must be a positive int, got {groups!r}")
    if tensor.shape[0] % groups != 0:
        raise ValueError(
            f"dirac_: dim 0 must be divisible by groups, got {tensor.shape[0]} and {groups}"
        )
    out_per_group = tensor.shape[0] // groups
    centre = tuple(n // 2 for n in tensor.shape[2:])
    with autograd.no_grad():
        tensor.array[...] = 0
        for g in range(groups):
            for d in range(min(out_per_group, tensor.shape[1])):
                tensor.array[(g * out_per_group + d, d, *centre)] = 1
    autograd.increment_version(tensor)
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (any dtype, as PyTorch: a float ``val`` is truncated into integers)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"constant_: expected a Tensor, got {type(tensor).__name__}")
    tensor.array[...] = val
    autograd.increment_version(tensor)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """He et al. (2015): U(-b, b) with b = gain * sqrt(3 / fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """He et al. (2015): N(0, std^2) with std = gain / sqrt(fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)
