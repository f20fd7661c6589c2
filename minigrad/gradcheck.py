"""Gradient checking: analytic gradients against central finite differences, in float64.

``gradcheck(fn, inputs)`` builds the full Jacobian both ways:

- numerically, column by column: J[:, j] = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps);
- analytically, row by row: J[i, :] = the gradient of output element i (one backward each);

and compares them with ``|analytic - numerical| <= atol + rtol * |numerical|``. It also checks
that every gradient has its input's shape and dtype, and that backward is deterministic (two
runs agree exactly).

For large inputs ``fast_mode=True`` compares one random projection instead (as PyTorch's fast
mode): u^T J v, analytic from one backward, numeric from one directional difference along v.

Owns: ``gradcheck`` and the numerical Jacobian. May import: ``backend``, ``autograd``,
``tensor``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, backend
from minigrad.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "numerical_jacobian"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one (or has the wrong shape/dtype)."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {i} of fn is a {type(o).__name__}, not a Tensor")
        if o.dtype != backend.float64:
            raise TypeError(f"gradcheck: output {i} is {o.dtype}; run the check in float64")
    return outs


def _flat_outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> np.ndarray:
    with autograd.no_grad():
        return np.concatenate([o.numpy().reshape(-1) for o in _outputs(fn, inputs)])


def _central_difference(
    fn: Callable[..., Any], inputs: Sequence[Any], x: Tensor, index: Any, delta: Any, eps: float
) -> np.ndarray:
    """(f(x + delta) - f(x - delta)) / (2 eps) with ``x.data[index]`` shifted by ``delta``, over all
    outputs flattened; ``x`` is restored even when ``fn`` raises."""
    orig = x.data[index].copy()
    try:
        x.data[index] = orig + delta
        plus = _flat_outputs(fn, inputs)
        x.data[index] = orig - delta
        minus = _flat_outputs(fn, inputs)
    finally:
        x.data[index] = orig
    # an output that did not move (including one that stays at +-inf) has derivative 0
    return np.where(plus == minus, 0.0, plus - minus) / (2 * eps)


def numerical_jacobian(
    fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float = 1e-6
) -> np.ndarray:
    """d(all outputs, flattened and concatenated)/d(inputs[index] flattened), by central
    differences. Shape: (total output elements, input elements)."""
    x = inputs[index]
    shape = tuple(x.shape)
    columns = [
        _central_difference(fn, inputs, x, _element(shape, j), eps, eps) for j in range(x.numel())
    ]
    if not columns:
        return np.zeros((_flat_outputs(fn, inputs).size, 0))
    return np.stack(columns, axis=1)


def _analytic_jacobians(
    fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int]
) -> tuple[list[np.ndarray], list[Tensor]]:
    outs = _outputs(fn, inputs)
    targets = [inputs[i] for i in diff]
    sizes = [o.numel() for o in outs]
    rows: list[list[np.ndarray]] = [[] for _ in diff]
    for k, out in enumerate(outs):
        for e in range(sizes[k]):
            seed = np.zeros(out.numel())
            seed[e] = 1.0
            seeds = [
                Tensor(
                    seed.reshape(o.shape) if m == k else np.zeros(o.shape),
                    dtype=backend.float64,
                    device=o.device,
                )
                for m, o in enumerate(outs)
            ]
            usable = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
            if not usable:
                grads = [None] * len(targets)
            else:
                grads = autograd.grad(
                    [o for o, _ in usable],
                    targets,
                    [s for _, s in usable],
                    retain_graph=True,
                    allow_unused=True,
                )
            for r, (t, g) in enumerate(zip(targets, grads)):
                if g is not None:
                    _check_meta(diff[r], t, g)
                rows[r].append(np.zeros(t.numel()) if g is None else g.numpy().reshape(-1))
    jacobians = [
        np.stack(r, axis=0) if r else np.zeros((0, inputs[i].numel())) for r, i in zip(rows, diff)
    ]
    return jacobians, outs


def _check_meta(index: int, x: Tensor, g: Tensor) -> None:
    if tuple(g.shape) != tuple(x.shape):
        raise GradcheckError(
            f"gradcheck: gradient for input {index} has shape {tuple(g.shape)}, input has {tuple(x.shape)}"
        )
    if g.dtype != x.dtype:
        raise GradcheckError(
            f"gradcheck: gradient for input {index} is {g.dtype}, input is {x.dtype}"
        )
    if g.device != x.device:
        raise GradcheckError(
            f"gradcheck: gradient for input {index} is on {g.device}, input on {x.device}"
        )


def _check_inputs(inputs: Sequence[Any]) -> list[int]:
    diff = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != backend.float64:
                raise TypeError(
                    f"gradcheck: input {i} is {x.dtype}; finite differences need float64 inputs "
                    "(use .double() on the inputs, and float64 parameters)"
                )
            if not x.is_leaf:
                raise ValueError(
                    f"gradcheck: input {i} must be a leaf tensor (use .detach().requires_grad_())"
                )
            diff.append(i)
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    return diff


def _element(shape: tuple[int, ...], flat_index: int) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Args:
        fn: takes ``*inputs`` and returns a float64 tensor or a tuple of them.
        inputs: tensors (those with ``requires_grad=True`` are checked; they must be float64
            leaves) and any other arguments ``fn`` takes.
        eps: the finite-difference step.
        atol, rtol: an element passes when ``|analytic - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        fast_mode: compare one random projection u^T J v per input instead of the full Jacobian.
        seed: seeds the random u and v of fast mode.

    Returns:
        True when every gradient matches.

    The error names the input, the element index (and output element), and both values.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = _check_inputs(inputs)
    try:
        if fast_mode:
            _fast_check(fn, inputs, diff, eps, atol, rtol, seed)
        else:
            _full_check(fn, inputs, diff, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _full_check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    diff: list[int],
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    analytic, outs = _analytic_jacobians(fn, inputs, diff)
    out_shapes = [tuple(o.shape) for o in outs]
    # A second run must give the same Jacobian: backward may not depend on hidden state.
    again, _ = _analytic_jacobians(fn, inputs, diff)
    for a, b, i in zip(analytic, again, diff):
        if not np.array_equal(a, b):
            raise GradcheckError(f"gradcheck: backward is not deterministic for input {i}")
    for a, i in zip(analytic, diff):
        numeric = numerical_jacobian(fn, inputs, i, eps)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        bad |= np.isnan(a) != np.isnan(numeric)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            out_k, out_e = _split_row(row, out_shapes)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {tuple(inputs[i].shape)}), element {_element(tuple(inputs[i].shape), col)}, "
                f"output {out_k} element {_element(out_shapes[out_k], out_e)}: analytic {a[row, col]!r} vs "
                f"numerical {numeric[row, col]!r} (atol={atol}, rtol={rtol}; {int(bad.sum())} of {bad.size} "
                "Jacobian entries differ)"
            )


def _split_row(row: int, shapes: list[tuple[int, ...]]) -> tuple[int, int]:
    for k, s in enumerate(shapes):
        n = int(np.prod(s)) if s else 1
        if row < n:
            return k, row
        row -= n
    return len(shapes) - 1, row


def _fast_check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    diff: list[int],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    us = [rng.standard_normal(tuple(o.shape)) for o in outs]
    usable = [
        (o, Tensor(u, dtype=backend.float64, device=o.device))
        for o, u in zip(outs, us)
        if o.requires_grad
    ]
    grads = autograd.grad(
        [o for o, _ in usable], [inputs[i] for i in diff], [u for _, u in usable], allow_unused=True
    )
    for i, g in zip(diff, grads):
        x = inputs[i]
        if g is not None:
            _check_meta(i, x, g)
        v = rng.standard_normal(tuple(x.shape))
        analytic = 0.0 if g is None else float((g.numpy() * v).sum())
        u_flat = np.concatenate([u.reshape(-1) for u in us])
        step = backend.to_device(eps * v, x.device)
        numeric = float(u_flat @ _central_difference(fn, inputs, x, Ellipsis, step, eps))
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            raise GradcheckError(
                f"gradcheck (fast mode): input {i} (shape {tuple(x.shape)}): u^T J v analytic {analytic!r} vs "
                f"numerical {numeric!r} (atol={atol}, rtol={rtol}); rerun without fast_mode to find the element"
            )
