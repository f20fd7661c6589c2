"""Small checks shared by the op modules: dims, dtypes and error messages.

Owns: the shared argument checks of the op modules. May import: ``errors`` and ``tensor``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from minigrad.errors import (
    DimError,
    DTypeError,
    ShapeError,  # noqa: F401  (the op modules import it from here)
)
from minigrad.tensor import Tensor


def norm_dim(dim: int, ndim: int, shape: Sequence[int] = ()) -> int:
    """A dim in [-ndim, ndim) as a non-negative int; IndexError naming the shape otherwise."""
    if not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if dim < low or dim > high:
        raise DimError(
            f"dimension out of range (expected to be in range of [{low}, {high}], but got {dim}) "
            f"for a tensor of shape {tuple(shape)}"
        )
    return dim % ndim if ndim else 0


def norm_dims(
    dim: int | Sequence[int] | None, ndim: int, shape: Sequence[int] = ()
) -> tuple[int, ...] | None:
    """``None`` (all dims) or a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, int):
        return (norm_dim(dim, ndim, shape),)
    dims = tuple(norm_dim(d, ndim, shape) for d in dim)
    if len(set(dims)) != len(dims):
        raise ValueError(f"dim {tuple(dim)} names a dimension twice (tensor shape {tuple(shape)})")
    return tuple(sorted(dims))


def require_float(op: str, x: Tensor) -> None:
    """Refuse integer and bool tensors in ops that only make sense on floats."""
    if x.data.dtype.kind != "f":
        raise DTypeError(
            f"{op} expects a floating point tensor, got {x.data.dtype} (shape {tuple(x.shape)}); "
            "convert it with .float() or .double()"
        )


def as_tensor_like(value: Any, like: Tensor) -> Any:
    """Scalars (Python or NumPy) become plain ``int``/``float`` constants, which stay weak;
    arrays and lists become tensors on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return Tensor(value, device=like.device)


def reduced_shape(shape: Sequence[int], dims: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced dims kept as size 1 (the keepdim shape)."""
    if dims is None:
        return (1,) * len(shape)
    return tuple(1 if i in dims else n for i, n in enumerate(shape))
