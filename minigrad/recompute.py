"""Activation checkpointing: ``minigrad.checkpoint(function, *args)``.

Trades compute for memory (Chen et al., 2016, "Training Deep Nets with Sublinear Memory
Cost"): the block ``function(*args)`` runs as usual and records its graph, but its nodes keep
none of the arrays their backward needs. When backward first reaches one of them, the block is
run again from its inputs and the arrays it saves are handed to the nodes that lost them. Held
between forward and backward: the block's inputs, output and graph nodes, not its activations.

It is PyTorch's ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)`` and is built
the same way, on :class:`minigrad.saved_tensors_hooks`:

1. forward: under a pack hook that keeps only a counter, so each node of the block holds the
   index of each array it saved instead of the array;
2. backward: the first unpack re-runs ``function`` on detached copies of the inputs under
   ``enable_grad`` with a pack hook that records every saved array in order; the random
   generators are set back to their state at the forward for the re-run (the same dropout
   masks) and restored afterwards (the rest of training draws as if nothing happened);
3. each unpack hands over its array and drops the reference, so the block's recomputed arrays
   live only until backward has passed them.

Because the graph is the forward's own, gradients reach everything the block used (its inputs
and the parameters it reads), ``minigrad.grad`` works as well as ``backward()``, and the
gradients are the plain run's, bit for bit: the same ops run on the same arrays. Backward
through the block a second time (``retain_graph=True``) recomputes it again.

Owns: ``checkpoint``. May import: minigrad's public API (the layer of ``creation``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad import backend
from minigrad.autograd import enable_grad, is_grad_enabled
from minigrad.saved import saved_tensors_hooks
from minigrad.tensor import Tensor

__all__ = ["checkpoint"]


def checkpoint(
    function: Callable[..., Any], *args: Any, preserve_rng_state: bool = True, **kwargs: Any
) -> Any:
    """``function(*args, **kwargs)``, keeping only its inputs for backward and recomputing the
    rest when backward needs it.

    Args:
        function: the block; it must run the same ops when called again on the same inputs
            (it may draw random numbers: they are replayed).
        *args: its positional arguments; the tensors among them are the block's inputs
            (kept, as are the tensors it reads otherwise, such as a layer's parameters).
        preserve_rng_state: replay the random generators' state for the recomputation, so
            dropout draws the same masks (as PyTorch; turn off only for a block that draws
            nothing, to save copying the generators' state).
        **kwargs: its keyword arguments, passed as they are.

    Returns:
        What ``function`` returns. Outside grad mode it is simply called.

    Example::

        h = minigrad.checkpoint(layer, x, mask)  # layer's activations are recomputed in backward
    """
    if not callable(function):
        raise TypeError(f"checkpoint: function must be callable, got {type(function).__name__}")
    if not is_grad_enabled():
        return function(*args, **kwargs)
    frame = _Recomputation(function, args, kwargs, preserve_rng_state)
    with saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)


class _Recomputation:
    """One checkpointed call: what the re-run needs, and the arrays it produced."""

    def __init__(
        self, function: Callable[..., Any], args: tuple, kwargs: dict, preserve_rng_state: bool
    ) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        devices = tuple({a.device for a in args if isinstance(a, Tensor)} | {"cpu"})
        self.rng_state = backend.get_rng_state(devices) if preserve_rng_state else None
        self.count = 0  # arrays the forward saved (each node's, in order)
        self.recomputed: list[Any] | None = None  # the re-run's arrays, None once handed over

    def pack(self, tensor: Tensor) -> int:
        """Forward: keep the array's position, not the array."""
        self.count += 1
        return self.count - 1

    def unpack(self, index: int) -> Tensor:
        """Backward: the array at ``index`` of the re-run (re-running first if needed)."""
        if self.recomputed is None or self.recomputed[index] is None:
            self._rerun()
        tensor = self.recomputed[index]  # type: ignore[index]
        self.recomputed[index] = None  # type: ignore[index]
        return tensor

    def _rerun(self) -> None:
        saved: list[Any] = []
        inputs = [_detached(a) for a in self.args]
        outer = backend.get_rng_state() if self.rng_state is not None else None
        try:
            if self.rng_state is not None:
                backend.set_rng_state(self.rng_state)
            with enable_grad(), saved_tensors_hooks(saved.append, _never_unpacked):
                self.function(*inputs, **self.kwargs)
        finally:
            if outer is not None:
                backend.set_rng_state(outer)
        if len(saved) != self.count:
            raise RuntimeError(
                f"checkpoint: recomputing {_name(self.function)} saved {len(saved)} arrays for "
                f"backward where its forward saved {self.count}: the function must run the "
                "same ops on the same inputs each time it is called"
            )
        self.recomputed = saved


def _detached(arg: Any) -> Any:
    """A tensor argument cut from the graph (so the re-run records a graph of its own),
    requiring grad where the original did, so the same nodes are recorded."""
    if not isinstance(arg, Tensor):
        return arg
    return arg.detach().requires_grad_(arg.requires_grad)


def _never_unpacked(packed: Any) -> Any:  # pragma: no cover - the re-run's graph is dropped
    raise RuntimeError("checkpoint: the recomputed graph is not meant for backward")


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__
