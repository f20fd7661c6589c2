"""A ledger of the bytes the graph keeps alive: ``with minigrad.trace_memory() as m:``.

Every graph node keeps, in ``ctx.saved_tensors``, the arrays its backward needs (MatMul each
operand the other's gradient reads, Tanh its output, ...). Those arrays are what a training
step's activation memory is.
While the block is active the ledger counts them as the forward saves them and as backward
frees them (``saved_tensors`` set to the freed marker):

- each array is counted once, by identity, however many nodes save it (a node that saves an
  array another node already holds is charged 0 bytes for it, shown as "shared");
- ``m.saved_bytes`` is what the nodes hold now, ``m.peak_saved_bytes`` the most they held;
- ``m.records`` has one dict per node: ``op``, ``shapes`` (of its saved arrays), ``bytes``
  (charged to it), ``shared_bytes``, ``label`` (from ``label=``, e.g. the layer that made the
  node), ``site`` (file:line that called the op), ``freed`` (the backward step that freed it,
  1 = the first node backward visited; ``None`` while held; ``"gc"`` when the graph was dropped
  without backward);
- ``print(m)`` shows the nodes sorted by bytes, and the total beside the peak of what the
  process allocated during the block, measured by ``tracemalloc`` (NumPy reports its arrays to
  it): the graph's saved arrays against everything else (outputs, gradients, temporaries).

Arrays an op keeps as plain ``ctx`` attributes instead of ``save_for_backward`` are not seen.
On CuPy the process figure counts host memory only. Ledgers do not nest.

Owns: ``trace_memory`` and its ledger. May import: ``observe`` (the slot it attaches to).
"""

from __future__ import annotations

import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from minigrad import backend, observe

__all__ = ["MemoryLedger", "trace_memory"]

_active: MemoryLedger | None = None


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


class MemoryLedger(observe.Observer):
    """What one ``trace_memory()`` block saw; see the module docstring for the fields."""

    def __init__(self, label: Callable[[], str] | None = None) -> None:
        self.label = label
        self.records: list[dict[str, Any]] = []
        self.saved_bytes = 0
        self.peak_saved_bytes = 0
        self.process_peak_bytes: int | None = None  # set when the block ends
        self._held: dict[int, list[int]] = {}  # id(array) -> [nbytes, nodes holding it]
        self._steps = 0  # backward steps seen

    # -- engine events ----------------------------------------------------------------------------

    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        saved = node.saved_tensors
        if result.grad_fn is not node or not saved:
            return
        if saved.__class__ is not tuple:  # packed by saved_tensors_hooks: what the hook kept
            saved = saved.held_arrays()
        record: dict[str, Any] = {
            "op": node.name,
            "shapes": [],
            "bytes": 0,
            "shared_bytes": 0,
            "label": self.label() if self.label is not None else "",
            "site": _site(observe.call_stack(limit=1)),
            "freed": None,
        }
        keys: list[int] = []
        for arr in saved:
            if not hasattr(arr, "nbytes") or backend.is_constant(arr):
                continue  # a constant saved beside the arrays
            record["shapes"].append(tuple(arr.shape))
            key = id(arr)
            if key in keys:
                continue  # the same array saved twice by one node
            keys.append(key)
            entry = self._held.get(key)
            if entry is not None:
                entry[1] += 1
                record["shared_bytes"] += entry[0]
            else:
                self._held[key] = [int(arr.nbytes), 1]
                record["bytes"] += int(arr.nbytes)
                self.saved_bytes += int(arr.nbytes)
        self.peak_saved_bytes = max(self.peak_saved_bytes, self.saved_bytes)
        node._ledger_entry = _Entry(self, record, keys)
        self.records.append(record)

    def backward(self, node: Any, grad: Any, input_grads: tuple, retain_graph: bool) -> None:
        self._steps += 1
        entry = getattr(node, "_ledger_entry", None)
        if not retain_graph and entry is not None and entry.ledger is self:
            entry.release(self._steps)

    def _release(self, keys: list[int]) -> None:
        for key in keys:
            entry = self._held[key]
            entry[1] -= 1
            if entry[1] == 0:
                self.saved_bytes -= self._held.pop(key)[0]

    # -- reading it ---------------------------------------------------------------------------

    def totals(self, by: str = "op") -> dict[str, int]:
        """Bytes charged per ``op`` or per ``label``, largest first."""
        sums: dict[str, int] = defaultdict(int)
        for r in self.records:
            sums[r[by] or "(none)"] += r["bytes"]
        return dict(sorted(sums.items(), key=lambda kv: -kv[1]))

    def table(self, top: int = 20) -> str:
        """The ``top`` nodes by bytes charged, then the totals."""
        rows = sorted(self.records, key=lambda r: -r["bytes"])
        lines = [f"{'op':<14}{'saved arrays':<34}{'bytes':>10}  {'shared':>9}  {'freed':<8}site"]
        for r in rows[:top]:
            shapes = " ".join(str(s).replace(" ", "") for s in r["shapes"])
            freed = "-" if r["freed"] is None else str(r["freed"])
            label = f" [{r['label']}]" if r["label"] else ""
            lines.append(
                f"{r['op']:<14}{shapes:<34}{format_bytes(r['bytes']):>10}  "
                f"{format_bytes(r['shared_bytes']):>9}  {freed:<8}{r['site']}{label}"
            )
        if len(rows) > top:
            rest = sum(r["bytes"] for r in rows[top:])
            lines.append(f"... {len(rows) - top} more nodes, {format_bytes(rest)}")
        total = sum(r["bytes"] for r in rows)
        process = (
            "not measured yet (the block has not ended)"
            if self.process_peak_bytes is None
            else format_bytes(self.process_peak_bytes)
        )
        lines.append(
            f"{len(rows)} nodes saved {format_bytes(total)} (each array once); held at the peak "
            f"{format_bytes(self.peak_saved_bytes)}, now {format_bytes(self.saved_bytes)}"
        )
        lines.append(
            f"process peak during the block (tracemalloc, above its start): {process}; the rest "
            "is outputs, gradients and temporaries"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


class _Entry:
    """Kept on a node: releases the node's arrays from the ledger when backward frees them, or
    when the node itself is collected (a graph dropped without backward, e.g. in eval)."""

    __slots__ = ("keys", "ledger", "record")

    def __init__(self, ledger: MemoryLedger, record: dict[str, Any], keys: list[int]) -> None:
        self.ledger, self.record, self.keys = ledger, record, keys

    def release(self, when: int | str) -> None:
        if self.record["freed"] is None:
            self.record["freed"] = when
            self.ledger._release(self.keys)

    def __del__(self) -> None:
        self.release("gc")


def _site(frames: tuple[observe.Frame, ...]) -> str:
    return observe.format_site(frames[0]).splitlines()[0] if frames else "?"


class trace_memory:  # noqa: N801 (a context manager named like no_grad)
    """``with minigrad.trace_memory() as m:`` counts the bytes held in nodes' saved arrays.

    Args:
        label: called with no arguments when a node saves arrays; its string is kept in the
            node's record (e.g. the layer type found on the call stack) for ``m.totals("label")``.
        measure_process: also trace the process's allocations with ``tracemalloc`` (slower).
    """

    def __init__(
        self, label: Callable[[], str] | None = None, measure_process: bool = True
    ) -> None:
        self.ledger = MemoryLedger(label)
        self.measure_process = measure_process

    def __enter__(self) -> MemoryLedger:
        global _active
        if _active is not None:
            raise RuntimeError(
                "trace_memory: a ledger is already active; ledgers do not nest (each array is "
                "counted by one ledger): end the outer block first"
            )
        _active = self.ledger
        self._started = False
        if self.measure_process:
            if not tracemalloc.is_tracing():
                tracemalloc.start()
                self._started = True
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
        observe.attach(self.ledger)
        return self.ledger

    def __exit__(self, *exc: object) -> None:
        global _active
        observe.detach(self.ledger)
        _active = None
        if self.measure_process:
            self.ledger.process_peak_bytes = tracemalloc.get_traced_memory()[1] - self._base
            if self._started:
                tracemalloc.stop()
