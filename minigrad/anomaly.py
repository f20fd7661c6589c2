"""Anomaly mode: find the forward line behind a NaN or infinite gradient.

    with minigrad.detect_anomaly():
        loss = model(x)          # each node remembers the file, line and function that made it
        loss.backward()          # the first non-finite gradient raises AnomalyError

While the block is active each new graph node keeps its creation site (the innermost frames
outside the minigrad package: the line that called the op, then where that was called from),
and backward checks every gradient a node's backward returns. The first one holding a NaN or
an infinity raises :class:`AnomalyError`, naming the op, its output's shape, the input whose
gradient went bad, and the forward line. ``check_forward=True`` also stops at the first op
whose forward produced a NaN (infinities pass: masks fill with ``-inf`` on purpose).

Outside the block the engine pays one ``is None`` check per op and per backward step.

Owns: ``detect_anomaly`` and ``AnomalyError``. May import: ``backend`` and ``observe`` (it
watches the engine through observe's slot; the engine never imports it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from minigrad import backend, observe

__all__ = ["AnomalyError", "detect_anomaly"]


class AnomalyError(RuntimeError):
    """A NaN or infinity found by :func:`detect_anomaly`."""


def _non_finite(arr: Any, nan_only: bool = False) -> str | None:
    """None when ``arr`` is finite (or not a float array); else how many NaN/inf and where."""
    if not hasattr(arr, "dtype") or arr.dtype.kind not in "fc":
        return None
    xp = backend.array_module(arr)
    bad = xp.isnan(arr) if nan_only else ~xp.isfinite(arr)
    if not bool(backend.to_host(bad.any())):  # one read from the device in the usual case
        return None
    count = int(backend.to_host(bad.sum()))
    nans = int(backend.to_host(xp.isnan(arr).sum()))
    flat = int(backend.to_host(bad.reshape(-1).argmax()))
    where = tuple(int(i) for i in backend.numpy_module().unravel_index(flat, arr.shape))
    return (
        f"{count} of {arr.size} elements non-finite ({nans} nan, {count - nans} inf), "
        f"the first at index {where}"
    )


def _describe_input(parent: Any) -> str:
    if parent is None:
        return "a constant"
    if not parent.parents:  # a leaf's AccumulateGrad node
        return f"a leaf tensor of shape {tuple(parent.out_shape)}"
    site = getattr(parent, "_created_at", None)
    where = f", created at {observe.format_site(site[0]).splitlines()[0]}" if site else ""
    return f"the output of a {parent.name} node{where}"


class _AnomalyObserver(observe.Observer):
    def __init__(self) -> None:
        self.check_forward = False

    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        recorded = result.grad_fn is node
        if recorded:
            node._created_at = observe.call_stack()
        if not self.check_forward:
            return
        found = _non_finite(result.array, nan_only=True)
        if found is None:
            return
        already = [i for i, a in enumerate(arrays) if _non_finite(a, nan_only=True) is not None]
        cause = (
            f"its input(s) {already} already held NaN"
            if already
            else "from inputs without NaN, so this op made it"
        )
        frames = node._created_at if recorded else observe.call_stack()
        raise AnomalyError(
            f"detect_anomaly(check_forward=True): {type(node).__name__}.forward produced NaN in "
            f"its output of shape {tuple(result.shape)} ({result.dtype}): {found}; {cause}.\n"
            f"The forward line:\n{observe.format_stack(frames)}"
        )

    def backward(self, node: Any, grad: Any, input_grads: tuple, retain_graph: bool) -> None:
        for i, g in enumerate(input_grads):
            if g is None:
                continue
            found = _non_finite(g)
            if found is None:
                continue
            incoming = _non_finite(grad)
            cause = (
                f"the gradient reaching its output was already non-finite ({incoming})"
                if incoming
                else f"the gradient reaching its output was finite, so {node.name}.backward made it"
            )
            raise AnomalyError(
                f"detect_anomaly: {node.name}.backward returned a non-finite gradient for input "
                f"{i} ({_describe_input(node.parents[i])}): {found}; {cause}.\n"
                f"The {node.name} node (output shape {tuple(node.out_shape)}, {node.out_dtype}) "
                f"was created at:\n{observe.format_stack(getattr(node, '_created_at', None))}"
            )


_observer = _AnomalyObserver()
_stack: list[bool] = []  # check_forward of each active block, innermost last


class detect_anomaly:  # noqa: N801 (PyTorch's name)
    """Context manager and decorator: ``with minigrad.detect_anomaly():`` or
    ``@minigrad.detect_anomaly()``.

    Args:
        check_forward: also raise at the first op whose forward output holds a NaN.
    """

    def __init__(self, check_forward: bool = False) -> None:
        self.check_forward = bool(check_forward)

    def __enter__(self) -> detect_anomaly:
        if not _stack:
            observe.attach(_observer)
        _stack.append(self.check_forward)
        _observer.check_forward = self.check_forward
        return self

    def __exit__(self, *exc: object) -> None:
        _stack.pop()
        if _stack:
            _observer.check_forward = _stack[-1]
        else:
            observe.detach(_observer)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        check_forward = self.check_forward

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(check_forward):
                return fn(*args, **kwargs)

        return wrapper
