"""``axis=`` as an alias of ``dim=``, as PyTorch accepts both (NumPy's name and its own).

Owns: ``accepts_axis``. May import: nothing from minigrad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def accepts_axis(fn: F) -> F:
    """Let ``fn(..., axis=d)`` mean ``fn(..., dim=d)``; giving both is a TypeError."""

    @functools.wraps(fn)
    def with_axis(*args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}() got both dim and its alias axis; give one")
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)

    return with_axis  # type: ignore[return-value]
