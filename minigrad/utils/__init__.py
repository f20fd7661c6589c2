"""Utilities above the tensor, as PyTorch's ``torch.utils``: ``minigrad.utils.data`` (datasets,
samplers, the DataLoader).

Owns: the ``utils`` package. May import: minigrad's public API (the layer of ``creation``).
"""

from minigrad.utils import data

__all__ = ["data"]
