"""Small checks shared by the op modules: dims, dtypes and error messages.

Owns: the shared argument checks of the op modules. May import: ``backend``,
``autograd`` and ``errors``; ``tensor`` for annotations only.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import TensorBase, tensor_class
from minigrad.errors import (
    DimError,
    DTypeError,
    ShapeError,  # noqa: F401  (the op modules import it from here)
)

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


def norm_dim(dim: int, ndim: int, shape: Sequence[int] = ()) -> int:
    """A dim in [-ndim, ndim) as a non-negative int; IndexError naming the shape otherwise."""
    if dim.__class__ is int and -ndim <= dim < ndim:  # the usual case first: every op asks
        return dim % ndim
    if not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__} {dim!r}")
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if dim < low or dim > high:
        raise DimError(
            f"dimension out of range (expected to be in range of [{low}, {high}], but got {dim}) "
            f"for a tensor of shape {tuple(shape)}"
        )
    return dim % ndim if ndim else 0


def refuse_0d_dim(op: str, dim: Any, x: Tensor) -> None:
    """Refuse a dim for a 0-d ``x`` in the ops PyTorch refuses it in (``roll``,
    ``repeat_interleave``), where most ops take 0 and -1."""
    if x.ndim == 0:
        raise DimError(
            f"{op}: dimension specified as {dim} but the tensor has no dimensions (shape ()), "
            "as in PyTorch; leave dims out to treat it as one element"
        )


def norm_dims(
    dim: int | Sequence[int] | None, ndim: int, shape: Sequence[int] = ()
) -> tuple[int, ...] | None:
    """``None`` (all dims, also for an empty tuple) or a sorted tuple of distinct non-negative
    dims (empty for a 0-d tensor)."""
    if dim is None:
        return None
    if isinstance(dim, int):
        dims = (norm_dim(dim, ndim, shape),)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(norm_dim(d, ndim, shape) for d in dim)
    else:
        raise TypeError(
            f"dim must be an int, a tuple of ints or None, got {type(dim).__name__} {dim!r}"
        )
    if ndim == 0:
        return ()  # a 0-d tensor accepts dim 0 and -1, and has no axis to reduce
    if not dims:
        return None  # an empty list of dims means every dim, as in PyTorch
    if len(set(dims)) != len(dims):
        raise ValueError(f"dim {tuple(dim)} names a dimension twice (tensor shape {tuple(shape)})")
    return tuple(sorted(dims))


def require_float(op: str, x: Tensor) -> None:
    """Refuse integer and bool tensors in ops that only make sense on floats."""
    if x.array.dtype.kind != "f":
        raise DTypeError(
            f"{op} expects a floating point tensor, got {x.array.dtype} (shape {tuple(x.shape)}); "
            "convert it with .float() or .double()"
        )


def as_tensor_like(value: Any, like: Tensor) -> Any:
    """Scalars (Python or NumPy) become plain ``int``/``float`` constants, which stay weak;
    arrays and lists become tensors on ``like``'s device."""
    if isinstance(value, TensorBase):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return tensor_class()(value, device=like.device)


# -- checks shared by the public op functions (validation happens there, once) -----------------


def same_dtype(op: str, first: tuple[str, Tensor | None], second: tuple[str, Tensor]) -> None:
    """Refuse two tensors of different dtypes (NumPy would silently upcast one; PyTorch refuses
    the mix in most of the fused ops that call this, see docs/guide/differences.md for the rest):
    ``same_dtype("linear", ("weight", w), ("the input", x))``; a None tensor passes."""
    (name1, t1), (name2, t2) = first, second
    if t1 is not None and t1.array.dtype != t2.array.dtype:
        raise TypeError(
            f"{op}: {name1} is {t1.dtype} (shape {tuple(t1.shape)}) but {name2} is {t2.dtype} "
            f"(shape {tuple(t2.shape)}); cast one of them"
        )


def broadcast_shape(op: str, what: str, *shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape ``shapes`` broadcast to; ShapeError naming them (as ``what``) otherwise."""
    try:
        return tuple(backend.numpy_module().broadcast_shapes(*map(tuple, shapes)))
    except ValueError:
        listed = ", ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(f"{op}: {what} {listed} cannot be broadcast together") from None


def describe_operand(x: Any) -> str:
    """An operand for an error message: a tensor (or an array) by dtype and shape, else itself
    (``"a float32 tensor of shape (2, 3)"``, ``"the int 3"``)."""
    if hasattr(x, "dtype") and hasattr(x, "shape"):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    return f"the {type(x).__name__} {x!r}"


def require_0d_value(op: str, value: Any) -> None:
    """Refuse a fill value that is a tensor of one or more dims, as PyTorch (a number or a 0-d
    tensor fills; NumPy would broadcast a one-element tensor silently)."""
    if isinstance(value, TensorBase) and value.ndim:
        raise ShapeError(
            f"{op}: the value must be a number or a 0-d tensor, got a tensor of shape "
            f"{tuple(value.shape)}"
        )


def require_bool_mask(op: str, mask: Any) -> None:
    """Refuse a mask that is not a bool tensor."""
    if not isinstance(mask, TensorBase) or mask.dtype != backend.bool_:
        what = mask.dtype if isinstance(mask, TensorBase) else type(mask).__name__
        raise TypeError(f"{op}: the mask must be a bool tensor, got {what}")


def check_ids(op: str, ids: Tensor, high: int, what: str, ignore: int | None = None) -> bool:
    """Raise IndexError if an id is outside [0, high), ids equal to ``ignore`` excepted.

    One device-to-host read (backend.int_range). Returns whether some id equals ``ignore``
    (when none does, the caller can skip masking).
    """
    lo, hi, ignored = backend.int_range(ids.array, ignore)
    if lo <= hi and (lo < 0 or hi >= high):
        raise IndexError(
            f"{op}: ids must be in [0, {what} = {high}), got values in [{lo}, {hi}] "
            f"(ids of shape {tuple(ids.shape)})"
        )
    return ignored


def half_in_float32(fn: Any, *args: Any, **kwargs: Any) -> Tensor:
    """``fn(*args, **kwargs)`` with each float16 tensor argument cast to float32, its result
    rounded once to float16: PyTorch computes half precision in float32 (its opmath type), where
    NumPy adds in float16 and 2048 + 1 rounds to 2048. The casts are differentiable, so the
    gradient is computed in float32 as well and comes back in float16."""

    def wide(value: Any) -> Any:
        if isinstance(value, TensorBase) and value.dtype == backend.float16:
            return value.to(dtype=backend.float32)
        return value

    out = fn(*map(wide, args), **{name: wide(value) for name, value in kwargs.items()})
    return out.to(dtype=backend.float16)
