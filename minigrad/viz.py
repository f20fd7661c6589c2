"""Graph export for people studying the internals: ``to_dot(tensor)`` gives Graphviz DOT text.

Each op node shows its name and output shape and dtype; leaves show their shape, dtype and
whether they require grad. ``render(tensor, path)`` writes an SVG or PNG when the ``dot``
program is installed (``apt-get install graphviz``) and the DOT text otherwise.

With ``values=True`` every node also shows its values (each element as ``f"{v:.4g}"`` for at
most 16 elements, else min, mean and max) and, once backward has run, the gradient of each leaf
and of each tensor that called ``retain_grad()``. A node does not normally keep its output (the
graph holds nodes, not tensors, so that activations die early), so build the graph inside
``with minigrad.viz.keep_values():`` to have every node keep a reference to its output array;
outside it, only the output, the leaves and retained tensors have values to show.

Owns: ``to_dot`` and ``render``. May import: ``autograd`` and ``tensor``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from minigrad import autograd, backend, observe
from minigrad.tensor import Tensor

__all__ = ["FORMATS", "keep_values", "render", "to_dot", "values_text"]

FORMATS = ("svg", "png", "dot")  # dot: the DOT text itself
MAX_ELEMENTS = 16  # up to this many elements are shown one by one


class _ValueKeeper(observe.Observer):
    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        if result.grad_fn is node:
            node._value = result.array  # kept as long as the node: only inside keep_values()


_keeper = _ValueKeeper()
_depth = 0


class keep_values:  # noqa: N801 (a context manager named like no_grad)
    """Inside ``with minigrad.viz.keep_values():`` each new node keeps its output array, so that
    ``to_dot(..., values=True)`` can show it. This keeps every intermediate array alive for as
    long as the graph; outside the block nodes keep nothing."""

    def __enter__(self) -> None:
        global _depth
        if _depth == 0:
            observe.attach(_keeper)
        _depth += 1

    def __exit__(self, *exc: object) -> None:
        global _depth
        _depth -= 1
        if _depth == 0:
            observe.detach(_keeper)


def values_text(data: Any) -> str:
    """An array's values for a label: ``[1, 2.5]`` (one row per line for a matrix) up to 16
    elements, ``min .. mean .. max`` above, ``[]`` when empty."""
    arr = backend.to_host(data)
    if arr.dtype.kind == "b":
        arr = arr.astype("int64")
    if arr.size == 0:
        return "[]"
    if arr.size > MAX_ELEMENTS:
        mean = arr.astype("float64").mean()
        return f"min {arr.min():.4g}  mean {mean:.4g}  max {arr.max():.4g}"
    if arr.ndim == 0:
        return f"{arr.item():.4g}"
    rows = arr.reshape(-1, arr.shape[-1]) if arr.ndim > 1 else arr.reshape(1, -1)
    lines = ["[" + " ".join(f"{v:.4g}" for v in row.tolist()) + "]" for row in rows]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(shape: tuple[int, ...], dtype: object) -> str:
    return f"{tuple(shape)} {dtype}"


def _value_lines(value: Any, grad: Any) -> str:
    text = "" if value is None else "\n" + values_text(value)
    if grad is not None:
        text += "\ngrad " + values_text(grad.array).replace("\n", "\n     ")
    return text


def _node_value(fn: Any) -> tuple[Any, Any]:
    """The output array of node ``fn`` (when it kept one, or its tensor is retained) and the
    retained tensor's gradient."""
    retained = fn._retained() if fn._retained is not None else None
    value = getattr(fn, "_value", None)
    if value is None and retained is not None:
        value = retained.array
    return value, None if retained is None else retained.grad


def to_dot(tensor: Tensor, name: str = "output", values: bool = False) -> str:
    """The graph that produced ``tensor`` as DOT text; edges point from inputs to the op using
    them. ``values=True`` adds values and gradients to every node (see the module docstring)."""
    lines = ["digraph minigrad {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}

    def node_id(obj: object) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    out_id = node_id(tensor)
    extra = _value_lines(tensor.array, tensor.grad) if values else ""
    label = _escape(f"{name}\n{_label(tensor.shape, tensor.dtype)}{extra}")
    lines.append(f'  {out_id} [shape=note, label="{label}"];')
    if tensor.grad_fn is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {node_id(tensor.grad_fn)} -> {out_id};")
    for fn in autograd.walk_graph(tensor):
        fid = node_id(fn)
        extra = _value_lines(*_node_value(fn)) if values else ""
        label = _escape(f"{fn.name}\n{_label(fn.out_shape, fn.out_dtype)}{extra}")
        lines.append(f'  {fid} [shape=box, style=filled, fillcolor="#dde8f5", label="{label}"];')
        for k, parent in enumerate(fn.parents):
            if parent is None:
                continue
            pid = node_id(parent)
            if not parent.next_functions:  # a leaf's AccumulateGrad node
                leaf = parent.variable
                extra = _value_lines(leaf.array, leaf.grad) if values and leaf is not None else ""
                label = _escape(f"leaf\n{_label(parent.out_shape, parent.out_dtype)}{extra}")
                lines.append(f'  {pid} [shape=ellipse, label="{label}"];')
            lines.append(f'  {pid} -> {fid} [label="{k}"];')
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # a leaf used twice is declared once


def render(
    tensor: Tensor,
    path: str | Path,
    format: str | None = None,  # noqa: A002 (Graphviz's word)
    values: bool = False,
    name: str = "output",
) -> Path:
    """Draw the graph of ``tensor`` into ``path`` with Graphviz ``dot``.

    Args:
        format: ``"svg"``, ``"png"`` or ``"dot"`` (the text); by default the suffix of
            ``path``, svg when it has none.
        values: show values and gradients on the nodes (see :func:`to_dot`).

    Returns:
        The path written. Without Graphviz it prints a message to stderr and writes the DOT
        text instead, to ``path`` with the suffix ``.dot``.
    """
    path = Path(path)
    if format is None:
        fmt = path.suffix[1:].lower() or "svg"
        if fmt not in FORMATS:
            raise ValueError(
                f"render: cannot tell the picture format from the file name {path.name!r}; "
                f"use a suffix or format= among {', '.join(FORMATS)}"
            )
    elif format not in FORMATS:
        raise ValueError(f"render: unknown format {format!r}; use one of {', '.join(FORMATS)}")
    else:
        fmt = format
    dot = to_dot(tensor, name=name, values=values)
    exe = shutil.which("dot")
    if fmt == "dot":
        path.write_text(dot)
        return path
    if exe is None:
        path = path.with_suffix(".dot")
        path.write_text(dot)
        print(
            f"render: Graphviz's `dot` program is not installed, so no {fmt} was drawn; wrote the "
            f"DOT text to {path} (install Graphviz, e.g. `apt-get install graphviz`, or paste "
            "the text into any Graphviz viewer)",
            file=sys.stderr,
        )
        return path
    picture = subprocess.run(
        [exe, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=True
    ).stdout
    path.write_bytes(picture)
    return path
