"""The in-place activations PyTorch has at its top level: ``selu_``, ``celu_``, ``threshold_``
and ``rrelu_`` (``torch.selu_``...), the ops of ``minigrad/ops/activations_breadth.py`` written
into their input through the tensors' one in-place path (``minigrad.tensor.apply_inplace``:
version counter, views, the refusal of a leaf that requires grad).

As PyTorch's, the nodes of ``selu_``, ``celu_`` and ``rrelu_`` save their result, so a later
in-place change of it fails the backward; ``threshold_``'s saves none.

Owns: these four functions. May import: ``minigrad.ops``, ``minigrad.tensor``.
"""

from __future__ import annotations

from typing import Any

from minigrad.ops import activations_breadth as ops
from minigrad.tensor import Tensor, apply_inplace


def selu_(input: Tensor) -> Tensor:  # noqa: A002
    """``selu`` written into ``input``; returns ``input``."""
    return apply_inplace(input, "selu_", ops.selu, saves_result=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``celu`` written into ``input``; returns ``input``."""
    return apply_inplace(input, "celu_", lambda t: ops.celu(t, alpha), saves_result=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """``threshold`` written into ``input``; returns ``input``."""
    return apply_inplace(input, "threshold_", lambda t: ops.threshold(t, threshold, value))


def rrelu_(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator: Any = None,
) -> Tensor:
    """``rrelu`` written into ``input``; returns ``input``."""
    compute = lambda t: ops.rrelu(t, lower, upper, training, generator)  # noqa: E731
    return apply_inplace(input, "rrelu_", compute, saves_result=True)
