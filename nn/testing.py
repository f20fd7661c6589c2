"""Gradient checks for whole modules: every parameter and every float input at once.

Owns: ``gradcheck_module``. May import: minigrad's public API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.tensor import Tensor
from nn.module import Module


def gradcheck_module(
    module: Module,
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """``minigrad.gradcheck`` of ``module(*inputs)`` with respect to the inputs that require
    grad and every parameter that does. Parameters and inputs must be float64 (call
    ``module.double()`` first); a failure names the parameter by its dotted name.

    Returns:
        True (raises :class:`minigrad.GradcheckError` on the first mismatch).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    n_in = len(inputs)
    # gradcheck perturbs each parameter's array in place, so the module sees the change
    # without being handed the parameters as arguments
    args = list(inputs) + [p for _, p in named]
    names = [f"input {i}" for i in range(n_in)] + [f"parameter '{name}'" for name, _ in named]
    try:
        return gradcheck(
            lambda *a: module(*a[:n_in]),
            args,
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            seed=seed,
        )
    except GradcheckError as err:
        # name the failing argument: "input 3" becomes "input 3 (parameter 'lin.weight')"
        found = re.search(r"input (\d+)", str(err))
        if found is None:
            raise
        i = int(found.group(1))
        message = str(err).replace(found.group(0), f"{found.group(0)} ({names[i]})", 1)
        raise GradcheckError(f"{type(module).__name__}: {message}") from err
