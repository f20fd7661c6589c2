"""Named tuples that ops return, as ``torch.return_types``: ``max(dim)`` gives
``return_types.max(values, indices)``.

Owns: these tuple types. May import: nothing from minigrad (the fields hold Tensors).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.max(dim)``: the largest values along ``dim`` and the index of each."""

    values: Any
    indices: Any


class min(NamedTuple):  # noqa: N801 (PyTorch's name)
    """``x.min(dim)``: the smallest values along ``dim`` and the index of each."""

    values: Any
    indices: Any
