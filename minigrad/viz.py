"""Graph export for people studying the internals: ``to_dot(tensor)`` gives Graphviz DOT text.

Each op node shows its name and output shape and dtype; leaves show their shape, dtype and
whether they require grad. ``render(tensor, path)`` writes an SVG when the ``dot`` program is
installed (``apt-get install graphviz``) and the DOT text otherwise.

Owns: ``to_dot`` and ``render``. May import: ``autograd`` and ``tensor``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from minigrad import autograd
from minigrad.tensor import Tensor

__all__ = ["render", "to_dot"]


def _label(shape: tuple[int, ...], dtype: object) -> str:
    return f"{tuple(shape)} {dtype}"


def to_dot(tensor: Tensor, name: str = "output") -> str:
    """The graph that produced ``tensor`` as DOT text; edges point from inputs to the op using them."""
    lines = ["digraph minigrad {", "  rankdir=BT;", '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}

    def node_id(obj: object) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    out_id = node_id(tensor)
    lines.append(f'  {out_id} [shape=note, label="{name}\\n{_label(tensor.shape, tensor.dtype)}"];')
    if tensor.grad_fn is None:
        lines.append("}")
        return "\n".join(lines)
    lines.append(f"  {node_id(tensor.grad_fn)} -> {out_id};")
    for fn in autograd.walk_graph(tensor):
        fid = node_id(fn)
        lines.append(
            f'  {fid} [shape=box, style=filled, fillcolor="#dde8f5", label="{fn.name}\\n{_label(fn.out_shape, fn.out_dtype)}"];'
        )
        for k, parent in enumerate(fn.parents):
            if parent is None:
                continue
            pid = node_id(parent)
            if not parent.next_functions:  # a leaf's AccumulateGrad node
                lines.append(
                    f'  {pid} [shape=ellipse, label="leaf\\n{_label(parent.out_shape, parent.out_dtype)}"];'
                )
            lines.append(f'  {pid} -> {fid} [label="{k}"];')
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # a leaf used twice is declared once


def render(tensor: Tensor, path: str | Path) -> Path:
    """Write the graph to ``path``: SVG via Graphviz ``dot`` when available, else DOT text
    (the suffix is changed to .dot). Returns the path written."""
    dot = to_dot(tensor)
    path = Path(path)
    exe = shutil.which("dot")
    if exe is None:
        path = path.with_suffix(".dot")
        path.write_text(dot)
        return path
    svg = subprocess.run([exe, "-Tsvg"], input=dot.encode(), capture_output=True, check=True).stdout
    path.write_bytes(svg)
    return path
