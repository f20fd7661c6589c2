"""The errors minigrad raises itself, as one small class hierarchy.

Owns: ``MinigradError`` and its subclasses. May import: nothing from minigrad, so every layer
(backend <- autograd <- ops <- tensor <- nn <- transformer) may import it.

Each class also derives from the built-in error a caller would expect (``ShapeError`` is a
``ValueError``, ``DimError`` an ``IndexError``), so ``except ValueError`` keeps working. Being a
``MinigradError`` tells ``Function.apply`` that the message already names the shapes, dtypes or
devices at fault, so it passes the error on untouched instead of annotating it again.
"""

from __future__ import annotations

import functools

__all__ = [
    "DTypeError",
    "DeviceError",
    "DimError",
    "LinAlgError",
    "MinigradError",
    "ScalarOverflowError",
    "ShapeError",
    "as_minigrad_error",
]


class MinigradError(Exception):
    """Base of every error minigrad raises with the context already in its message."""


class ShapeError(MinigradError, ValueError):
    """Shapes that do not fit together (broadcasting, matmul, masks)."""


class DimError(MinigradError, IndexError):
    """A dim out of range for the tensor's number of dims."""


class DTypeError(MinigradError, TypeError):
    """A tensor of the wrong dtype (an integer tensor where only floats make sense)."""


class DeviceError(MinigradError, RuntimeError):
    """Tensors on different devices in one op."""


class LinAlgError(MinigradError, RuntimeError):
    """A matrix a decomposition cannot take: singular (inv, solve) or not positive-definite
    (cholesky); PyTorch's ``torch.linalg.LinAlgError`` is a ``RuntimeError`` too."""


class ScalarOverflowError(MinigradError, OverflowError, RuntimeError):
    """A Python number outside the range of the dtype it is stored in (``t.fill_(300)`` on
    int8). PyTorch raises ``RuntimeError`` ("value cannot be converted to type int8_t without
    overflow"), NumPy ``OverflowError``: this is both."""


@functools.cache
def _minigrad_subclass(base: type[Exception]) -> type[Exception]:
    return type(base.__name__, (MinigradError, base), {"__module__": __name__})


def as_minigrad_error(err: Exception, message: str) -> Exception:
    """A new error of ``err``'s own type (``except`` clauses for it still match) that is also a
    ``MinigradError``, with ``message``."""
    return _minigrad_subclass(type(err))(message)
