"""Where the tools that study the graph attach to the engine, and where nodes were created.

``detect_anomaly``, ``trace_memory``, ``viz.keep_values`` and ``gradcheck(locate=True)`` each
attach an :class:`Observer` while they are active. The engine knows only one name,
``autograd._observer``: ``None`` when no tool is active (one check per op and per backward
step, nothing more), else a fan-out to every attached observer:

- ``forward(node, result, arrays, options)`` after every op's forward (``result.grad_fn is
  node`` when the op recorded a graph node; ``arrays`` are the forward's inputs as backend
  arrays or constants);
- ``backward(node, grad, input_grads, retain_graph)`` after each node's backward, before its
  saved arrays are freed.

:func:`call_stack` gives the frames that created a node, outside the minigrad package, and
:func:`format_site` writes one as ``path/to/file.py:LINE in function`` with its source line.

Owns: the one observer slot the engine calls, and the creation sites of nodes. May import:
``autograd`` (to set the slot) and ``inplace`` (to hand it :func:`format_stack` for its error
message); the engine reads the slot and never imports this module.
"""

from __future__ import annotations

import linecache
import os
import sys
from typing import Any

from minigrad import autograd, inplace

__all__ = ["Observer", "attach", "call_stack", "detach", "format_site", "format_stack"]

Frame = tuple[str, int, str]  # (file, line, function)


class Observer:
    """Base class: override the events a tool needs."""

    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        pass

    def backward(self, node: Any, grad: Any, input_grads: tuple, retain_graph: bool) -> None:
        pass


class _Fanout:
    """Calls every attached observer, oldest first."""

    def __init__(self, observers: list[Observer]) -> None:
        self.observers = observers

    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        for obs in self.observers:
            obs.forward(node, result, arrays, options)

    def backward(self, node: Any, grad: Any, input_grads: tuple, retain_graph: bool) -> None:
        for obs in self.observers:
            obs.backward(node, grad, input_grads, retain_graph)


_attached: list[Observer] = []


def attach(observer: Observer) -> None:
    """Start sending the engine's events to ``observer``."""
    _attached.append(observer)
    autograd._observer = _Fanout(list(_attached))


def detach(observer: Observer) -> None:
    """Stop sending events to ``observer``; with none left the engine's check is ``None`` again."""
    if observer in _attached:
        _attached.remove(observer)
    autograd._observer = _Fanout(list(_attached)) if _attached else None


# ---------------------------------------------------------------------------------------------
# Creation sites
# ---------------------------------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_inside: dict[str, bool] = {}  # code file -> whether it belongs to the minigrad package


def _in_package(filename: str) -> bool:
    inside = _inside.get(filename)
    if inside is None:
        inside = _inside[filename] = os.path.abspath(filename).startswith(_PACKAGE_DIR)
    return inside


def call_stack(limit: int = 5) -> tuple[Frame, ...]:
    """The innermost ``limit`` frames of the caller's stack outside the minigrad package,
    innermost first: the first is the line that called the op (a user's line, or a layer's in
    ``nn``/``transformer``), the rest where that was called from."""
    frames: list[Frame] = []
    f = sys._getframe(1)
    while f is not None and len(frames) < limit:
        code = f.f_code
        if not _in_package(code.co_filename):
            frames.append((code.co_filename, f.f_lineno, code.co_name))
        f = f.f_back
    return tuple(frames)


def _short_path(filename: str) -> str:
    """``filename`` relative to the working directory when it lies below it."""
    path = os.path.abspath(filename)
    cwd = os.getcwd() + os.sep
    return path[len(cwd) :] if path.startswith(cwd) else filename


def format_site(frame: Frame) -> str:
    """``path/to/file.py:LINE in function`` and, on the next line, the source line itself."""
    filename, line, function = frame
    text = f"{_short_path(filename)}:{line} in {function}"
    source = linecache.getline(filename, line).strip()
    return f"{text}\n    {source}" if source else text


def format_stack(frames: tuple[Frame, ...] | None, indent: str = "  ") -> str:
    """The creation site of a node and where it was called from, one frame per entry."""
    if not frames:
        return f"{indent}(unknown: the node was created outside this tool's block)"
    lines = [indent + format_site(frames[0]).replace("\n", "\n" + indent)]
    for frame in frames[1:]:
        lines.append(f"{indent}called from " + format_site(frame).replace("\n", "\n" + indent))
    return "\n".join(lines)


inplace.format_stack = format_stack  # the in-place error names where the node was created
