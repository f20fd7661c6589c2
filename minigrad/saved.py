"""Saved-tensor hooks: see, offload or compress what each graph node keeps for its backward.

``with minigrad.saved_tensors_hooks(pack_hook, unpack_hook):`` (PyTorch's
``torch.autograd.graph.saved_tensors_hooks``) changes what every node recorded inside the block
keeps: each array the op's forward saved (``ctx.save_for_backward``) is handed to
``pack_hook(tensor)`` as the node is recorded, and the node keeps whatever that returns instead
of the array. When backward reaches the node, ``unpack_hook(packed)`` must give the tensor back
(same shape and dtype), and the op's backward runs on it. So a hook can print what is saved,
move it to the host and back, store it in float16, or drop it and recompute it
(``minigrad.checkpoint`` is built this way).

- Only nodes that are recorded (an input requires grad, grad mode on) call ``pack_hook``; a
  saved constant that is not an array (a Python number, ``None``) is kept as it is.
- Contexts nest; the innermost one wins, and it applies to the nodes recorded while it is
  active, whenever their backward runs.
- With ``retain_graph=True`` the node keeps the packed values and unpacks them again at the
  next backward; otherwise they are freed with the node's other saved state.

Owns: the active hooks (:class:`SavedHooks`), the context manager, and :class:`PackedSaved`
(what a node keeps instead of its arrays). The engine calls :func:`pack` when a node is
recorded and ``PackedSaved.unpack`` before the node's backward; with no context active that
costs one check per recorded node that saves something.
May import: ``minigrad.backend`` only; the Tensor class is handed in by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad import backend

__all__ = ["PackedSaved", "SavedHooks", "pack", "saved_tensors_hooks"]

Hooks = tuple[Callable[[Any], Any], Callable[[Any], Any]]


class SavedHooks:
    """The hooks of the innermost active context (``top``, ``None`` when none is active)."""

    top: Hooks | None = None
    stack: list[Hooks] = []


class saved_tensors_hooks:  # noqa: N801 (PyTorch's name)
    """Pack every array a node saves for backward with ``pack_hook``; unpack it in backward.

    Args:
        pack_hook: ``pack_hook(tensor) -> Any``, called once per saved array (wrapped as a
            tensor that shares its memory) when the node is recorded.
        unpack_hook: ``unpack_hook(packed) -> Tensor``, called with what ``pack_hook`` returned
            when backward needs the array; the tensor must have the saved array's shape and
            dtype.

    Example::

        with minigrad.saved_tensors_hooks(lambda t: t.numpy().copy(), minigrad.tensor):
            loss = model(x).sum()
        loss.backward()
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(
                "saved_tensors_hooks: pack_hook and unpack_hook must be callables, got "
                f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}"
            )
        self.hooks: Hooks = (pack_hook, unpack_hook)

    def __enter__(self) -> saved_tensors_hooks:
        SavedHooks.stack.append(self.hooks)
        SavedHooks.top = self.hooks
        return self

    def __exit__(self, *exc: object) -> None:
        stack = SavedHooks.stack
        if stack and stack[-1] is self.hooks:
            stack.pop()
        SavedHooks.top = stack[-1] if stack else None


class PackedSaved:
    """What a node keeps instead of its saved arrays while hooks are active.

    ``items`` has one entry per saved value: ``(packed, shape, dtype)`` for an array handed to
    ``pack_hook``, or ``(value, None, None)`` for a constant kept as it is.
    """

    __slots__ = ("items", "tensor_class", "unpack_hook")

    def __init__(self, items: list[tuple], unpack_hook: Callable, tensor_class: type) -> None:
        self.items = items
        self.unpack_hook = unpack_hook
        self.tensor_class = tensor_class

    def unpack(self, node: Any) -> tuple[Any, ...]:
        """The saved values back, as the node's backward expects them."""
        out = []
        for i, (packed, shape, dtype) in enumerate(self.items):
            if shape is None:
                out.append(packed)
                continue
            t = self.unpack_hook(packed)
            arr = _array_of(t, self.tensor_class)
            if arr is None or tuple(arr.shape) != shape or arr.dtype != dtype:
                got = (
                    f"{type(t).__name__}"
                    if arr is None
                    else f"shape {tuple(arr.shape)} and dtype {arr.dtype}"
                )
                raise RuntimeError(
                    f"saved_tensors_hooks: unpack_hook returned {got} for saved value {i} of the "
                    f"{node.name} node; expected a tensor of shape {shape} and dtype {dtype}"
                )
            out.append(arr)
        return tuple(out)

    def held_arrays(self) -> list[Any]:
        """The arrays the packed values keep alive (for ``trace_memory``): each packed value
        that is itself an array or a tensor; anything else (a handle, a file name) holds none."""
        held = []
        for packed, shape, _ in self.items:
            if shape is None:
                continue
            arr = _array_of(packed, self.tensor_class)
            if arr is not None:
                held.append(arr)
        return held


def _array_of(value: Any, tensor_class: type) -> Any:
    """The backend array of a tensor or an array; ``None`` for anything else."""
    if isinstance(value, tensor_class):
        return value.array
    if value.__class__ in backend.ARRAY_TYPES:
        return value
    return None


def pack(saved: tuple[Any, ...], tensor_class: type) -> PackedSaved:
    """Run the innermost ``pack_hook`` on each saved array of a node being recorded."""
    hooks = SavedHooks.top
    pack_hook, unpack_hook = hooks  # type: ignore[misc]
    items = []
    SavedHooks.top = None  # the ops a hook runs (a cast, a copy) are not packed in turn
    try:
        for value in saved:
            if value.__class__ in backend.ARRAY_TYPES and not backend.is_constant(value):
                packed = pack_hook(tensor_class._wrap(value))
                items.append((packed, tuple(value.shape), value.dtype))
            else:  # a constant saved beside the arrays
                items.append((value, None, None))
    finally:
        SavedHooks.top = hooks
    return PackedSaved(items, unpack_hook, tensor_class)
