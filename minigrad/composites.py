"""PyTorch's top-level functions that are other names for ops minigrad has, small predicates,
and a few functions built from its differentiable ops (so their gradients, of every order,
come from those ops): ``block_diag``, ``combinations``, ``mvlgamma``,
``chain_matmul``; and ``histogram`` (no gradient, as PyTorch's) and the signal windows
(``hann_window``, ``hamming_window``, ``blackman_window``, ``bartlett_window``,
``kaiser_window``).

Owns: these functions. May import: ``backend``, ``ops``, ``promotion``, ``return_types``,
``tensor``, ``creation``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from minigrad import backend, creation, ops, promotion, return_types
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor, checked_dtype

__all__ = [
    "absolute",
    "bartlett_window",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "blackman_window",
    "block_diag",
    "can_cast",
    "chain_matmul",
    "clamp_max",
    "clamp_min",
    "combinations",
    "concat",
    "concatenate",
    "divide",
    "finfo",
    "fix",
    "get_rng_state",
    "hamming_window",
    "hann_window",
    "histogram",
    "iinfo",
    "initial_seed",
    "is_complex",
    "is_floating_point",
    "is_nonzero",
    "is_same_size",
    "is_tensor",
    "isreal",
    "kaiser_window",
    "multiply",
    "mvlgamma",
    "negative",
    "positive",
    "promote_types",
    "result_type",
    "seed",
    "set_rng_state",
    "subtract",
]


# -- other names ------------------------------------------------------------------------------


def absolute(input: Tensor) -> Tensor:  # noqa: A002 (PyTorch's name)
    return input.abs()


def negative(input: Tensor) -> Tensor:  # noqa: A002
    return input.neg()


def positive(input: Tensor) -> Tensor:  # noqa: A002
    return input.positive()


def fix(input: Tensor) -> Tensor:  # noqa: A002
    return input.trunc()


def subtract(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:  # noqa: A002
    return input.sub(other, alpha)


def multiply(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input.mul(other)


def divide(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:  # noqa: A002
    return input.div(other, rounding_mode)


def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    return input.clamp(min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    return input.clamp(max=max)


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    return ops.cat(tensors, dim)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """``cat`` under NumPy's name, with NumPy's ``axis`` (PyTorch's ``concatenate``)."""
    return ops.cat(tensors, axis)


def bitwise_and(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input & other


def bitwise_or(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input | other


def bitwise_xor(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input ^ other


def bitwise_not(input: Tensor) -> Tensor:  # noqa: A002
    return ~input


def bitwise_left_shift(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input << other


def bitwise_right_shift(input: Tensor, other: Any) -> Tensor:  # noqa: A002
    return input >> other


# -- predicates and dtypes --------------------------------------------------------------------


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:  # noqa: A002
    return input.is_complex()


def is_nonzero(input: Tensor) -> bool:  # noqa: A002
    return input.is_nonzero()


def is_same_size(input: Tensor, other: Tensor) -> bool:  # noqa: A002
    return input.is_same_size(other)


def isreal(input: Tensor) -> Tensor:  # noqa: A002
    return input.isreal()


class finfo:  # noqa: N801 (PyTorch's name)
    """The numerical limits of a floating dtype (default: the default float), as
    ``torch.finfo``: ``bits``, ``eps`` (the gap from 1 to the next number), ``max``, ``min``,
    ``tiny`` and ``smallest_normal`` (the smallest positive normal number), ``resolution``
    (10 ** -digits), ``dtype`` (its name)."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002 (PyTorch's name)
        dtype = backend.DEFAULT_FLOAT if type is None else checked_dtype(type)
        if dtype.kind != "f":
            raise TypeError(
                f"finfo() requires a floating point input type, got {dtype}; use iinfo for "
                "integer types"
            )
        self.bits, self.eps, self.max, self.min, self.tiny, self.resolution = backend.float_limits(
            dtype
        )
        self.smallest_normal, self.dtype = self.tiny, str(dtype)

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
            f"tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 (PyTorch's name)
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min``,
    ``dtype`` (its name)."""

    def __init__(self, type: Any) -> None:  # noqa: A002 (PyTorch's name)
        dtype = checked_dtype(type)
        if dtype.kind not in "iu":
            raise TypeError(
                f"iinfo() requires an integer input type, got {dtype}; use finfo for floating "
                "types" + (" (bool has no limits)" if dtype.kind == "b" else "")
            )
        self.bits, self.max, self.min = backend.int_limits(dtype)
        self.dtype = str(dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def result_type(tensor1: Any, tensor2: Any) -> Any:
    """The dtype ``tensor1 op tensor2`` gives (tensors or Python numbers), PyTorch's rules."""
    return promotion.result_type(tensor1, tensor2)


def promote_types(type1: Any, type2: Any) -> Any:
    """The smallest dtype both convert to."""
    return promotion.promote_types(type1, type2)


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's promotion allows the cast: within a kind or up the kinds (bool <
    integers < floats), never down (a float to an int, an int to a bool)."""
    return bool(backend.numpy_module().can_cast(from_, to, casting="same_kind"))


# -- built from differentiable ops -------------------------------------------------------------


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors on the diagonal of a matrix of zeros: 0-d as (1, 1), 1-D (n,) as (1, n),
    2-D as they are; the result in their promoted dtype. Differentiable."""
    blocks = []
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.ndim > 2:
            what = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise ShapeError(
                f"block_diag: input {i} must be a tensor of at most 2 dims, got {what}"
            )
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not blocks:
        return creation.zeros((1, 0))
    dtype = blocks[0].dtype
    for b in blocks[1:]:
        dtype = promotion.promote_types(dtype, b.dtype)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        b = b.to(dtype)
        before = creation.zeros((b.shape[0], left), dtype=dtype, device=b.device)
        after = creation.zeros(
            (b.shape[0], width - left - b.shape[1]), dtype=dtype, device=b.device
        )
        rows.append(ops.cat([before, b, after], 1))
        left += b.shape[1]
    return ops.cat(rows, 0)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """Every combination of ``r`` elements of the 1-D ``input`` (``itertools.combinations``,
    or ``combinations_with_replacement``), one per row: (count, r); (0,) for ``r = 0``.
    Differentiable (a gather)."""
    if not isinstance(input, Tensor) or input.ndim != 1:
        what = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ShapeError(f"combinations: input must be a 1-D tensor, got {what}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return input[:0]
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = [k for combo in pick(range(input.shape[0]), r) for k in combo]
    xp = backend.array_module(input.array)
    return input[Tensor._wrap(xp.asarray(index, dtype=backend.int64))].reshape(-1, r)


def mvlgamma(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """The multivariate log-gamma of dimension ``p``: p (p - 1) / 4 log(pi) + sum_{i<p}
    lgamma(x - i / 2). Differentiable."""
    if not isinstance(p, int) or p < 1:
        raise ValueError(f"mvlgamma: p must be a positive int, got {p!r}")
    total = sum(ops.lgamma(input - i / 2) for i in range(p))
    return total + p * (p - 1) / 4 * math.log(math.pi)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices (``linalg.multi_dot``'s order of products)."""
    return ops.linalg.multi_dot(list(matrices))


# -- no gradient ---------------------------------------------------------------------------------


def histogram(
    input: Tensor,  # noqa: A002
    bins: int | Tensor = 100,
    *,
    range: tuple[float, float] | None = None,  # noqa: A002 (PyTorch's name)
    weight: Tensor | None = None,
    density: bool = False,
) -> return_types.histogram:
    """The histogram of a float ``input``: ``bins`` equal bins over ``range`` (default the
    data's [min, max]), or the edges ``bins`` (a 1-D tensor); the last bin is closed.
    Returns (hist (bins,), bin_edges (bins + 1,)) in the input's dtype, as PyTorch's."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        what = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"histogram: input must be a floating point tensor, got {what}")
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.shape[0] < 2:
            raise ShapeError(
                f"histogram: bin edges must be 1-D with 2 or more, got {tuple(bins.shape)}"
            )
        edges = bins.array
    elif not isinstance(bins, int) or bins <= 0:
        raise ValueError(
            f"histogram: bins must be a positive int or a tensor of edges, got {bins!r}"
        )
    else:
        edges = bins
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ShapeError(
            f"histogram: weight of shape {tuple(weight.shape)} must have the input's shape "
            f"{tuple(input.shape)}"
        )
    hist, bin_edges = backend.histogram(
        input.array.reshape(-1),
        edges,
        range,
        None if weight is None else weight.array.reshape(-1),
        density,
    )
    return return_types.histogram(
        Tensor._wrap(hist.astype(input.dtype)), Tensor._wrap(bin_edges.astype(input.dtype))
    )


# -- windows -------------------------------------------------------------------------------------


def _window(
    name: str,
    length: int,
    periodic: bool,
    dtype: Any,
    device: Any,
    requires_grad: bool,
    formula: Any,
) -> Tensor:
    """A window of ``length`` from ``formula(n, N)`` over n = 0..length-1 (host float64),
    N the length of the symmetric window it is cut from (length + 1 when ``periodic``)."""
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"{name}: window_length must be a non-negative int, got {length!r}")
    dtype = backend.float32 if dtype is None else dtype
    if backend.numpy_module().dtype(dtype).kind != "f":
        raise TypeError(f"{name}: expects a floating point dtype, got {dtype}")
    np = backend.numpy_module()
    if length <= 1:
        values = np.ones(length)
    else:
        values = formula(np.arange(length, dtype=np.float64), length + 1 if periodic else length)
    return creation.tensor(values.astype(dtype), device=device, requires_grad=requires_grad)


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """0.5 - 0.5 cos(2 pi n / (N - 1))."""

    def formula(n: Any, size: int) -> Any:
        return 0.5 - 0.5 * backend.numpy_module().cos(2 * math.pi * n / (size - 1))

    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, formula)


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """alpha - beta cos(2 pi n / (N - 1))."""

    def formula(n: Any, size: int) -> Any:
        return alpha - beta * backend.numpy_module().cos(2 * math.pi * n / (size - 1))

    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, formula)


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""

    def formula(n: Any, size: int) -> Any:
        cos, turn = backend.numpy_module().cos, 2 * math.pi * n / (size - 1)
        return 0.42 - 0.5 * cos(turn) + 0.08 * cos(2 * turn)

    return _window(
        "blackman_window", window_length, periodic, dtype, device, requires_grad, formula
    )


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """1 - |2 n / (N - 1) - 1|."""

    def formula(n: Any, size: int) -> Any:
        return 1 - backend.numpy_module().abs(2 * n / (size - 1) - 1)

    return _window(
        "bartlett_window", window_length, periodic, dtype, device, requires_grad, formula
    )


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta), I0 the modified Bessel function
    of the first kind."""
    np = backend.numpy_module()

    def formula(n: Any, size: int) -> Any:
        return np.i0(beta * np.sqrt(1 - (2 * n / (size - 1) - 1) ** 2)) / np.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, formula)


# -- the random state ---------------------------------------------------------------------------


def get_rng_state() -> Any:
    """A copy of the state of every random generator minigrad has made (and of the seed), for
    ``set_rng_state``: draws after it replay. An opaque object, where PyTorch's is a uint8
    tensor (minigrad keeps one NumPy or CuPy generator per device)."""
    return backend.get_rng_state()


def set_rng_state(new_state: Any) -> None:
    """Put the generators back as ``get_rng_state`` found them."""
    if not (isinstance(new_state, tuple) and len(new_state) == 2):
        raise TypeError(
            f"set_rng_state: expects what get_rng_state returned, got {type(new_state).__name__}"
        )
    backend.set_rng_state(new_state)


def seed() -> int:
    """Seed every generator from fresh entropy; returns the seed."""
    return backend.seed()


def initial_seed() -> int | None:
    """The seed last set by ``manual_seed`` or ``seed`` (None before either)."""
    return backend.initial_seed()
