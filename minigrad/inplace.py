"""Version counters: how the graph notices in-place changes to the arrays a node saved.

A node's backward reads the arrays its forward saved (``ctx.save_for_backward``). If one of
them is changed in place between the forward and the backward (``x.fill_(0)`` under
``no_grad``, ``opt.step()`` before a ``retain_graph`` backward), the backward would compute a
wrong gradient without a word. PyTorch guards against this with a version counter per tensor;
minigrad does the same:

1. every tensor carries a counter (``t._version``, 0 at creation) that each in-place change
   bumps: ``zero_``, ``fill_``, ``copy_``, the ``nn.init`` functions, optimizer steps, gradient
   clipping, ``load_state_dict``, and anything that calls :func:`increment_version`;
2. a tensor made by an op whose result is a view of an input's array (``reshape``,
   ``transpose``, basic indexing, ``detach()``...) shares that input's counter, so a change
   through the view is seen by the base and the other way round. A view made by an op also
   keeps its base (``t._base``, the root of a chain of views, as PyTorch's) and is listed,
   weakly, after the count in the shared counter (:func:`track_view`): an in-place write into
   a base or any of its views then gives the base and each live view a new history
   (``minigrad/ops/views.py``, PyTorch's ``CopySlices``);
3. when an op records a node, it notes the counter and current version of each tensor whose
   array the forward saved: an input's array saved as is (matched by identity) or the output;
4. before running a node's backward, the engine checks those versions and raises, naming the
   tensor and the op that saved it, if one moved.

The cost: one list per tensor, a few identity comparisons when a node is recorded, and in
backward one comparison per node: a global count of in-place changes (:data:`epoch`) is
recorded with the versions, and a node's versions are looked at only when it moved since.

Limits (as in PyTorch): a write through the raw array (``t.array[...] = ...``) is not counted
(nor is a change through ``t.data``, a tensor with its own counter, as in PyTorch); a saved
array the forward computed (a copy, a product) needs no check since no in-place change of an
input reaches it; and arrays sharing memory outside minigrad's ops (a NumPy view wrapped in a
new ``Tensor``) do not share a counter.

Owns: the version counters and the check of a node's saved arrays. May import: no minigrad
module (``observe``, above it, hands down the function that writes where a node was created).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["increment_version"]

#: The input slot of a record for a tensor an op used as an index (``note_index_tensors``):
#: its ``j`` holds the tensor's description, as no saved array stands for it.
INDEX = -2

#: Counts every in-place change anywhere. A node records it with its versions; when it has not
#: moved by the node's backward (the usual case: nothing changed in place between the forward
#: and the backward), the engine skips the node's check.
epoch = [0]
_weak = weakref.ref

#: Writes the stack a node was created at (``node._created_at``, recorded under
#: ``minigrad.detect_anomaly``) for the error below; set by ``minigrad.observe`` when it loads.
format_stack: Callable[[Any], str] | None = None


def increment_version(tensor: Any) -> None:
    """Record that ``tensor``'s array was changed in place (PyTorch's
    ``torch.autograd.graph.increment_version``).

    minigrad's own in-place methods call this; call it yourself after writing into
    ``tensor.array`` directly (as the optimizers do), so that a backward that still needs the old
    values raises instead of using the new ones.
    """
    tensor._version_counter[0] += 1
    epoch[0] += 1


def track_view(result: Any, inputs: tuple[Any, ...], grad_mode: bool) -> None:
    """Called by ``Function.apply`` for an output whose array is a view (or is an input's
    array): when it views an input tensor's memory, the output shares that input's version
    counter and becomes a view of that input's base (PyTorch's ``_base``: the tensor that is
    not a view at the root of a chain of views).

    The view keeps ``(base, grad_mode)`` in ``_view_of``; its base's counter keeps a weak
    reference to it after the count (``counter[1:]``), so that an in-place write into the base
    or any of its views can give every live view a new history
    (``minigrad.ops.views.rebase_views``). Tensors that are not views pay nothing: only this
    function, reached for views, reads or sets these.
    """
    out = result.array
    base = out.base
    for x in inputs:
        counter = getattr(x, "_version_counter", None)
        if counter is None:  # not a tensor
            continue
        data = x.array
        if out is data or (base is not None and (base is data or base is data.base)):
            result._version_counter = counter
            # only views and their bases (None) have _view_of set: a read of an unset slot costs
            # a caught AttributeError, so memory without views yet is not asked
            of = getattr(x, "_view_of", None) if len(counter) > 1 else None
            if of is None:
                root = x
                x._view_of = None  # x is a base: its next view reads this without a miss
            else:
                root = of[0]
                grad_mode = grad_mode and of[1]  # a view of a view made under no_grad is one too
            result._view_of = (root, grad_mode)
            if grad_mode:
                counter.append(_weak(result))
                n = len(counter)
                if n >= 64 and not n & (n - 1):  # at each power of two: amortized O(1) a view
                    counter[1:] = [ref for ref in counter[1:] if ref() is not None]
            elif len(counter) == 1:  # no_grad views are never rebased: only mark the memory
                counter.append(_no_view)
            return


def _no_view() -> None:
    """A registry entry that is no view (a dead reference): marks memory viewed under no_grad."""
    return None


def live_views(tensor: Any) -> list[Any]:
    """The live views whose base is ``tensor`` (made by ops while grad mode was on)."""
    views = []
    for ref in tensor._version_counter[1:]:
        view = ref()
        if view is not None and view._view_of[0] is tensor:
            views.append(view)
    return views


def record_saved_versions(
    saved: tuple[Any, ...], inputs: tuple[Any, ...], arrays: list[Any], result: Any
) -> tuple[int, list[tuple[list[int], int, int, int]]] | None:
    """``(epoch now, records)``, a record for each saved array that is an input tensor's array
    (by identity) or the result's: ``(counter, version now, position in saved, input index or
    -1 for the result)``. None when no saved array is one of those. ``arrays`` holds what the
    forward received: each input tensor's array, or the input itself when it is no tensor.

    Runs once per recorded node, so it is written for speed: saved arrays outside (one to
    three), inputs inside, no allocation when nothing matches.
    """
    records = None
    out = result.array
    j = 0
    for arr in saved:
        if arr is out:
            x, i = result, -1
        elif arr.__class__ is not out.__class__:  # None, a scalar: no tensor's array
            j += 1
            continue
        else:
            i = 0
            for a in arrays:
                if a is arr and inputs[i] is not a:  # an input given as an array is no tensor
                    break
                i += 1
            else:
                j += 1
                continue
            x = inputs[i]
        counter = x._version_counter
        if records is None:
            records = []
        records.append((counter, counter[0], j, i))
        j += 1
    return None if records is None else (epoch[0], records)


def saved_output_is(node: Any, tensor: Any) -> None:
    """An in-place op wrote its result into ``tensor`` and ``node`` (the op's) saved that result
    as its output (``exp_``, ``sigmoid_``...): count it as ``tensor``'s, at its version now, so
    that a later in-place change of ``tensor`` fails ``node``'s backward, as in PyTorch (whose
    node saved ``tensor`` itself; minigrad's computed on a copy, which no later write reaches)."""
    versions = node._saved_versions if node is not None else None
    if versions is None:
        return
    counter = tensor._version_counter
    records = [
        (counter, counter[0], j, i) if i == -1 else (c, v, j, i) for c, v, j, i in versions[1]
    ]
    node._saved_versions = (versions[0], records)


def saved_as_result(node: Any, tensor: Any) -> None:
    """An in-place op wrote its result into ``tensor`` and PyTorch's node for it saves that
    result (``relu_``, ``leaky_relu_``, ``elu_``), where ``node`` (the op's) saved its input, a
    copy of the old values: count each array ``node`` saved as ``tensor``'s, at its version
    now, so that a later in-place change of ``tensor`` fails ``node``'s backward as PyTorch's.
    Each record keeps its input index: ``backward_graph`` differentiates a saved input through
    that input (``GraphContext``), not through ``node``'s output.
    """
    versions = node._saved_versions if node is not None else None
    if versions is None:
        return
    counter = tensor._version_counter
    node._saved_versions = (
        versions[0],
        [(c, v, j, i) if i == INDEX else (counter, counter[0], j, i) for c, v, j, i in versions[1]],
    )


def note_index_tensors(node: Any, tensors: Any) -> None:
    """``node``'s backward reads the positions held by ``tensors`` (integer or bool tensors the
    op used as an index: ``x[ids]``, ``gather``, ``masked_select``...), which it keeps as they
    are, not copied: record their versions too, so that a change of an index in place between
    the forward and the backward raises the error below instead of sending the gradient to the
    new positions, as PyTorch (whose nodes save the index tensors). No-op when ``node`` is None
    (nothing recorded) or ``tensors`` is empty."""
    if node is None or not tensors:
        return
    records = [(t._version_counter, t._version_counter[0], _describe(t), INDEX) for t in tensors]
    versions = node._saved_versions
    # nothing was changed in place since the node was recorded: the epoch it noted still holds
    node._saved_versions = (
        (epoch[0], records) if versions is None else (versions[0], versions[1] + records)
    )


def _describe(tensor: Any) -> str:
    return f"[{tensor.dtype} tensor of shape {tuple(tensor.shape)}]"


def check_saved_versions(node: Any) -> None:
    """Raise if a tensor whose array ``node`` saved was changed in place since the forward."""
    for counter, expected, j, i in node._saved_versions[1]:
        if counter[0] != expected:
            raise RuntimeError(_modified_message(node, counter[0], expected, j, i))


def _modified_message(node: Any, version: int, expected: int, j: Any, i: int) -> str:
    """PyTorch's wording, plus the op that saved the tensor."""
    if i == INDEX:  # j describes the index tensor
        return _modified_text(node, f"{j}, used as an index by {node.name},", version, expected)
    arr = node.saved_tensors[j]
    what = f"[{arr.dtype} tensor of shape {tuple(arr.shape)}]"
    if i < 0:
        what += f", which is output 0 of {node.name}, saved by {node.name} as its output,"
    else:
        parent = node.parents[i]
        if parent is not None and parent.parents:  # an op's node: the input was computed
            what += f", which is output 0 of {parent.name}"
        what += f", saved by {node.name} as input {i},"
    return _modified_text(node, what, version, expected)


def _modified_text(node: Any, what: str, version: int, expected: int) -> str:
    site = getattr(node, "_created_at", None)  # recorded under minigrad.detect_anomaly()
    if site and format_stack is not None:
        where = f"The {node.name} node was created at:\n{format_stack(site)}"
    else:
        where = (
            "Hint: run the forward inside `with minigrad.detect_anomaly():` to see the line that "
            f"created the {node.name} node."
        )
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {what} is at version {version}; expected version {expected} instead. "
        "It was changed in place (fill_, zero_, copy_, an optimizer step, ...) after the forward "
        "that saved it: change a clone() instead, or run the forward again after the change. "
        f"{where}"
    )
