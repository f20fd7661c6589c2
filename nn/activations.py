"""The rest of PyTorch's activations: the ``torch.nn.functional`` forms (``inplace=`` and the
in-place ``*_`` names, re-exported by ``nn.functional``) and the ``torch.nn`` modules (Mish,
SELU, CELU, Hardtanh, ReLU6, Hardswish, Hardsigmoid, LogSigmoid, Softsign, Softshrink,
Hardshrink, Tanhshrink, Threshold, GLU, PReLU, RReLU, Softmin, Softmax2d), with PyTorch's
arguments, defaults and reprs. The math and the gradients are the ops' in
``minigrad/ops/activations_breadth.py``.

An in-place form writes into its input through the tensors' one in-place path
(``minigrad.tensor.apply_inplace``: version counter, views, the refusal of a leaf that
requires grad); as PyTorch's, the nodes of ``selu_``, ``celu_`` and ``rrelu_`` save their
result, so a later in-place change of it fails the backward.

Owns: these functional forms and modules. May import: minigrad's public API, ``nn.init``,
``nn.module``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from minigrad import celu_, rrelu_, selu_, threshold_
from minigrad.ops import celu as _celu
from minigrad.ops import (
    glu,
    hardshrink,
    logsigmoid,
    prelu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
)
from minigrad.ops import hardsigmoid as _hardsigmoid
from minigrad.ops import hardswish as _hardswish
from minigrad.ops import hardtanh as _hardtanh
from minigrad.ops import mish as _mish
from minigrad.ops import relu6 as _relu6
from minigrad.ops import rrelu as _rrelu
from minigrad.ops import selu as _selu
from minigrad.ops import softmax as _softmax
from minigrad.ops import threshold as _threshold
from minigrad.ops.activations_breadth import gumbel_softmax
from minigrad.tensor import Tensor, apply_inplace
from nn import init
from nn.module import Module, _param, _positive

__all__ = [
    "CELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "LogSigmoid",
    "Mish",
    "PReLU",
    "ReLU6",
    "RReLU",
    "SELU",
    "Softmax2d",
    "Softmin",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "celu",
    "celu_",
    "glu",
    "gumbel_softmax",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "logsigmoid",
    "mish",
    "prelu",
    "relu6",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "threshold_",
]

# =============================================================================================
# torch.nn.functional's forms
# =============================================================================================


def _maybe_in_place(
    name: str,
    input: Tensor,  # noqa: A002
    compute: Callable[[Tensor], Tensor],
    inplace: bool,
) -> Tensor:
    """``compute(input)``, or with ``inplace`` written into ``input`` (whose node, as
    PyTorch's for these ops, saves no result of the write)."""
    return apply_inplace(input, name, compute) if inplace else compute(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * tanh(softplus(x))``. Shapes: (*) -> (*)."""
    return _maybe_in_place("mish", input, _mish, inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``scale * elu(x, alpha)`` with SELU's constants. Shapes: (*) -> (*)."""
    return selu_(input) if inplace else _selu(input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. Shapes: (*) -> (*)."""
    return celu_(input, alpha) if inplace else _celu(input, alpha)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]`` (gradient 0 at the bounds). Shapes: (*) -> (*)."""
    return _maybe_in_place("hardtanh", input, lambda t: _hardtanh(t, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """``hardtanh(input, min_val, max_val, inplace=True)``."""
    return apply_inplace(input, "hardtanh_", lambda t: _hardtanh(t, min_val, max_val))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``hardtanh(x, 0, 6)``. Shapes: (*) -> (*)."""
    return _maybe_in_place("relu6", input, _relu6, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x * relu6(x + 3) / 6``. Shapes: (*) -> (*)."""
    return _maybe_in_place("hardswish", input, _hardswish, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """``relu6(x + 3) / 6``. Shapes: (*) -> (*)."""
    return _maybe_in_place("hardsigmoid", input, _hardsigmoid, inplace)


def threshold(
    input: Tensor,  # noqa: A002
    threshold: float,
    value: float,
    inplace: bool = False,
) -> Tensor:
    """``x`` where greater than ``threshold``, else ``value``. Shapes: (*) -> (*)."""
    return threshold_(input, threshold, value) if inplace else _threshold(input, threshold, value)


def rrelu(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: a slope drawn from U(lower, upper) per element in training,
    ``(lower + upper) / 2`` otherwise. Shapes: (*) -> (*)."""
    if inplace:
        return rrelu_(input, lower, upper, training)
    return _rrelu(input, lower, upper, training)


# =============================================================================================
# torch.nn's modules
# =============================================================================================


def _inplace_repr(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class Mish(Module):
    """``x * tanh(softplus(x))``. Shapes: (*) -> (*)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return mish(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class SELU(Module):
    """``scale * elu(x, alpha)`` with SELU's constants. Shapes: (*) -> (*)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return selu(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. Shapes: (*) -> (*)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace)


class Hardtanh(Module):
    """``x`` clamped to ``[min_val, max_val]``. Shapes: (*) -> (*). ``min_value`` and
    ``max_value`` are PyTorch's deprecated spellings (a FutureWarning)."""

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        for old, new, value in (
            ("min_value", "min_val", min_value),
            ("max_value", "max_val", max_value),
        ):
            if value is not None:
                warnings.warn(
                    f"keyword argument `{old}` is deprecated and renamed to `{new}`",
                    FutureWarning,
                    stacklevel=2,
                )
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if max_val <= min_val:
            raise ValueError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val, self.max_val = min_val, max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(self.inplace)


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``: ``Hardtanh(0, 6)``. Shapes: (*) -> (*)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return relu6(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, first=True)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6``. Shapes: (*) -> (*). (PyTorch's repr shows no ``inplace``.)"""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``. Shapes: (*) -> (*). (PyTorch's repr shows no ``inplace``.)"""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return hardsigmoid(input, self.inplace)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, stable for large ``|x|``. Shapes: (*) -> (*)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return logsigmoid(input)


class Softsign(Module):
    """``x / (1 + |x|)``. Shapes: (*) -> (*)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softsign(input)


class Tanhshrink(Module):
    """``x - tanh(x)``. Shapes: (*) -> (*)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return tanhshrink(input)


class Softshrink(Module):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.
    Shapes: (*) -> (*)."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0. Shapes: (*) -> (*)."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Threshold(Module):
    """``x`` where greater than ``threshold``, else ``value``. Shapes: (*) -> (*)."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value = threshold, value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace_repr(self.inplace)


class GLU(Module):
    """``a * sigmoid(b)``, ``a`` and ``b`` the halves of the input along ``dim``.
    Shapes: (*, 2n, *) -> (*, n, *)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """``x`` where positive, ``weight * x`` elsewhere, ``weight`` a learned slope: one for all
    channels (``num_parameters=1``) or one per channel (dim 1 of the input), each starting at
    ``init``. Shapes: (N, C, *) -> (N, C, *); weight (num_parameters,)."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        _positive("PReLU", num_parameters=num_parameters)
        self.num_parameters = num_parameters
        self.init = init
        self.weight = _param((num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: in training a slope drawn from U(lower, upper) per element, in
    eval ``(lower + upper) / 2``. Shapes: (*) -> (*)."""

    def __init__(
        self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False
    ) -> None:
        super().__init__()
        self.lower, self.upper = lower, upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace_repr(self.inplace)


class Softmin(Module):
    """``softmax(-x, dim)`` (``dim=None``: PyTorch's implicit choice, with its warning).
    Shapes: (*) -> (*)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at each location. Shapes: (N, C, H, W) or (C, H, W), the
    same out."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return _softmax(input, -3)
