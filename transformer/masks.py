"""Masks, with PyTorch's convention: ``True`` means "may not attend".

Owns: ``causal_mask``, ``padding_mask``. May import: minigrad's public API.
"""

from __future__ import annotations

from typing import Any

from minigrad.creation import arange
from minigrad.tensor import Tensor, as_tensor


def causal_mask(size: int, offset: int = 0, device: Any = None) -> Tensor:
    """A (size, offset + size) bool mask: query i may not attend to key j > offset + i.

    With ``offset`` > 0 the queries are the last ``size`` positions of a longer sequence
    (decoding with a key/value cache): they see the ``offset`` earlier keys and the causal
    part of their own.
    """
    if size < 0 or offset < 0:
        raise ValueError(f"causal_mask: size and offset must be >= 0, got {size} and {offset}")
    q = arange(size, device=device).array[:, None]
    k = arange(offset + size, device=device).array[None, :]
    return as_tensor(k > q + offset)


def padding_mask(tokens: Tensor, pad_id: int) -> Tensor:
    """(B, T) bool: True where ``tokens`` (B, T) equals ``pad_id``."""
    if tokens.dtype.kind not in "iu":
        raise TypeError(f"padding_mask: tokens must be integer ids, got {tokens.dtype}")
    return as_tensor(tokens.array == pad_id)
