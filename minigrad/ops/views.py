"""In-place writes through views: PyTorch's ``CopySlices``, and views given a new history.

A view shares its base's memory (``b[0]``, ``b.t()``, ``b.reshape(...)``, a view of a view...;
``t._base`` is the base, see ``minigrad.inplace.track_view``). Writing into a view in place
(``b[0].mul_(2)``, ``b[:, 1] = x``) changes the base too, so, as in PyTorch, the base's history
changes with it:

- the base's node becomes ``CopySlices(old base, value)``, where ``value`` is the in-place op's
  result, computed out of place from the view's old values (whose history runs through the
  view's node back to the old base) and the op's other operands. Backward sends the gradient
  of the written elements to ``value`` (so through the in-place op's backward, to the view's
  old values and the operands) and passes the rest through to the old base;
- every live view of the base, the written one included (they share the memory, so each may
  have changed), becomes ``AsStrided(new base)``: the base's elements at the view's positions.

An in-place op on the base itself gives the base the op's node, as for any tensor, and then
its views new histories the same way. A view's positions are flat indices into its base,
worked out from the arrays' strides and addresses (``backend.view_positions``), so any view
NumPy or CuPy makes is covered. ``retain_grad()`` moves to the new node (the gradient of the
new values, as in PyTorch); hooks stay on the old one.

Owns: ``CopySlices``, ``AsStrided`` and the rebasing the Tensor's in-place methods call.
May import: ``backend``, ``autograd``, ``inplace``, ``ops.shape``; ``tensor`` for annotations only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from minigrad import autograd, backend
from minigrad.autograd import Function, increment_version, wrap
from minigrad.inplace import live_views
from minigrad.ops.shape import GetItem, IndexAdd

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor


class CopySlices(Function):
    """The base of a view written in place: ``base`` with the view's elements (flat positions
    ``pos`` into ``base``) replaced by ``value``. Its forward computes that out of place, as
    any op's (so gradcheck can replay it); ``write_through_view`` writes the memory itself."""

    @staticmethod
    def forward(ctx, base, value, pos):
        ctx.pos = pos
        out = base.copy()
        out.reshape(-1)[pos.reshape(-1)] = value.reshape(-1)
        return out

    @staticmethod
    def backward(ctx, g):
        # dbase = g with zeros at the written positions ; dvalue = g at those positions
        pos = ctx.pos.reshape(-1)  # flat: a 0-d index would pick a NumPy scalar, not an array
        dbase = backend.array_module(g).array(g)  # a copy, and an array where g is a 0-d scalar
        dbase.reshape(-1)[pos] = 0
        return dbase, g.reshape(-1)[pos].reshape(ctx.pos.shape)

    @staticmethod
    def backward_graph(ctx, g):
        pos = ctx.pos.reshape(-1)
        written = backend.array_module(g.array).zeros(g.shape, dtype=bool)
        written.reshape(-1)[pos] = True
        value = GetItem.apply(g.reshape(-1), index=pos, advanced=True).reshape(ctx.pos.shape)
        return g.masked_fill(wrap(written), 0.0), value


class AsStrided(Function):
    """A view with a new history after its base was written in place (PyTorch's
    ``AsStridedBackward``): the elements of ``base`` at flat positions ``pos`` (the forward
    gathers a copy of them: the view's tensor keeps its own array, and only takes the node)."""

    @staticmethod
    def forward(ctx, base, pos, repeats=False):
        ctx.base_shape, ctx.pos, ctx.repeats = base.shape, pos, repeats
        return backend.array_module(base).take(base, pos)

    @staticmethod
    def backward(ctx, g):
        # dbase = zeros with g added at the view's positions (an expanded view repeats some)
        dbase = backend.array_module(g).zeros(math.prod(ctx.base_shape), dtype=g.dtype)
        if ctx.repeats:
            backend.scatter_add(dbase, ctx.pos, g)
        else:
            dbase[ctx.pos] = g
        return dbase.reshape(ctx.base_shape)

    @staticmethod
    def backward_graph(ctx, g):
        size = math.prod(ctx.base_shape)
        flat = IndexAdd.apply(g, in_shape=(size,), index=ctx.pos, advanced=True)
        return flat.reshape(ctx.base_shape)


def write_through_view(view: Tensor, value: Tensor, what: str) -> None:
    """Write ``value`` (the in-place op's result: ``view``'s shape and dtype, its history
    running through ``view``'s old node) into ``view``, a view, and record it in the base's
    history (``CopySlices``); then every live view of the base gets a new history.

    Raises (before anything changes) when the view's memory is no longer its base's (the
    base's array was replaced: ``base.data = other``).
    """
    base = view._view_of[0]
    pos = backend.view_positions(base.array, view.array)
    if pos is None:
        raise RuntimeError(
            f"{what}: this view of shape {tuple(view.shape)} no longer lies in the memory of its "
            f"base of shape {tuple(base.shape)} (was the base's array replaced, base.data = "
            "...?), so the write cannot be recorded in the base's history; clone() the view "
            "first"
        )
    node = CopySlices.apply(base, value, pos=pos).grad_fn
    view.array[...] = value.array
    increment_version(view)
    set_history(base, node)
    rebase_views(base)


def rebase_views(base: Tensor) -> None:
    """Give every live view of ``base`` a new history: the view's elements of the base's
    current one (``AsStrided``). Called after ``base`` took a new node."""
    for view in live_views(base):
        pos = backend.view_positions(base.array, view.array)
        if pos is None:  # the base has other memory now (base.data = ...): the write missed it
            continue
        repeats = any(n > 1 and step == 0 for n, step in zip(view.shape, view.array.strides))
        set_history(view, AsStrided.apply(base, pos=pos, repeats=repeats).grad_fn)


def set_history(tensor: Tensor, node: Any) -> None:
    """``tensor`` takes ``node`` as its ``grad_fn`` (its history is rebased). A
    ``retain_grad()`` on it moves to ``node``, so ``.grad`` is the gradient of the new values,
    as in PyTorch; hooks stay on the old node (they see the gradient of the old values)."""
    old = tensor.grad_fn
    tensor.grad_fn, tensor.requires_grad = node, True
    if old is not None and old._retained is not None and old._retained() is tensor:
        old._retained = None
        autograd.retain_node_grad(node, tensor)
