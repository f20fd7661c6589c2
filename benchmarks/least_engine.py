"""The least engine: how fast can any autograd engine written in Python on NumPy run the tiny
graph of ``benchmarks/ops.py``? It sets the bar that a tiny-graph target can be judged against.

    python benchmarks/least_engine.py               # about 20 s
    python benchmarks/least_engine.py --threads 2   # BLAS and PyTorch on two threads
    python benchmarks/least_engine.py --quick       # a smoke test (a few seconds)

The tiny graph is ``layer_norm(x @ w)``, ``softmax(h * 2 + 1)``, ``tanh``, ``cross_entropy``,
forward and backward, with the leaves x and w (8x8 float32) made from host arrays inside each
step. Six programs compute the same loss and gradients, timed in turns in one process:

- **NumPy by hand** (``ops.tiny_graph_by_hand``): the arithmetic of minigrad's kernels alone,
  no bookkeeping. The floor under an engine with those kernels (not under every engine: see
  the tiny-array engine).
- **the least engine** (``LeastEngine``): micrograd's design for tensors. A tensor object per
  value, a closure per op that holds what its backward needs, an iterative topological walk,
  the same NumPy calls as the floor. No checks, no dtype promotion, no broadcasting, no hooks,
  no version counters, no ``no_grad``: only what this graph needs, so what it costs above the
  floor is about the least that recording and walking a graph of Python objects costs.
- **the tiny-array engine** (``TinyArrayEngine``): the least engine with arithmetic written for
  8x8 arrays (no broadcast columns, softmax shifted by the row's mean, constant arrays).
- **the checked engine** (``CheckedEngine``), level by level: the tiny-array engine with the
  features minigrad must have for this graph, each written as the least code that does it
  correctly and added one at a time (``FEATURES``): first tensors apart from graph nodes (the
  graph keeps only what a backward needs, as minigrad's tests ask), then a: validation of the
  operands (tensors, dtypes, matmul shapes, class ids, ``normalized_shape``, ``dim``), b: grad
  mode and requires_grad propagation, c: version counters (the "modified by an inplace
  operation" error), d: leaves as accumulate nodes that check each gradient and add it to
  ``.grad`` in place, e: the test for hooks on each node and leaf, f: freeing the saved arrays
  after backward and refusing a second one. Levels ``""``, ``"a"``, ``"ab"``, ...,
  ``"abcdef"`` (``LEVELS``). Its increments say what each feature costs; its last level is
  about the least an engine that stands in for minigrad on this graph can cost.
- **minigrad**, and **PyTorch** (its C++ engine, as an oracle; imported only here).

It prints each time, its ratio to PyTorch's, the bookkeeping of the least engine and of
minigrad above the floor, and which programs meet a target ratio (``--target``, default 0.5);
then the checked engine's levels with the increment of each, and which levels meet the target.
``benchmarks/instructions.py tiny_graph_checked_none tiny_graph_checked_a ...`` counts the
levels' instructions, which do not move with the load on the machine.
"""

from __future__ import annotations

import argparse
import math
import sys
import weakref
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops import (  # noqa: E402  (benchmarks/ is not a package)
    REPO_ROOT,
    Timing,
    max_rel_error,
    measure,
    set_thread_env,
    small_array_kernels,
    tiny_graph_by_hand,
    tiny_graph_minigrad,
    tiny_graph_torch,
)

# ---------------------------------------------------------------------------------------------
# The least engine
# ---------------------------------------------------------------------------------------------


class Value:
    """A tensor of the least engine: an array, its gradient, and how it was made.

    ``backward`` takes the gradient of the loss with respect to this value and adds each
    input's share to that input's ``grad`` (None for a leaf)."""

    __slots__ = ("backward", "data", "grad", "inputs")

    def __init__(
        self,
        data: Any,
        inputs: tuple[Value, ...] = (),
        backward: Callable[[Any], None] | None = None,
    ) -> None:
        self.data, self.grad, self.inputs, self.backward = data, None, inputs, backward


def _accumulate(value: Value, grad: Any) -> None:
    value.grad = grad if value.grad is None else value.grad + grad


class LeastEngine:
    """The seven ops of the tiny graph and ``backward``, on the floor's kernels for rows of
    ``width`` elements of ``dtype`` (``ops.small_array_kernels``). Arrays are (rows, width)."""

    def __init__(self, xp: Any, width: int, dtype: Any) -> None:
        self.xp, self.dtype = xp, xp.dtype(dtype).type
        self.row_sum, self.row_max, self.total, self.dot = small_array_kernels(xp, width, dtype)

    def matmul(self, a: Value, b: Value) -> Value:
        dot = self.dot

        def backward(g: Any) -> None:  # da = g b^T ; db = a^T g
            _accumulate(a, dot(g, b.data.T))
            _accumulate(b, dot(a.data.T, g))

        return Value(dot(a.data, b.data), (a, b), backward)

    def layer_norm(self, a: Value, eps: float = 1e-5) -> Value:
        row_sum, dtype = self.row_sum, self.dtype
        inv = dtype(1.0 / a.data.shape[-1])
        c = a.data - row_sum(a.data) * inv
        rstd = 1.0 / self.xp.sqrt(row_sum(c * c) * inv + dtype(eps))
        h = c * rstd

        def backward(g: Any) -> None:  # da = rstd (g - mean(g) - h mean(g h))
            _accumulate(a, rstd * (g - row_sum(g) * inv - h * (row_sum(g * h) * inv)))

        return Value(h, (a,), backward)

    def scalar(self, k: float, like: Any) -> Any:
        """The Python number ``k`` as an operand for the array ``like``: a scalar of the
        engine's dtype."""
        return self.dtype(k)

    def mul(self, a: Value, k: float) -> Value:
        k = self.scalar(k, a.data)

        def backward(g: Any) -> None:  # da = k g
            _accumulate(a, g * k)

        return Value(a.data * k, (a,), backward)

    def add(self, a: Value, k: float) -> Value:
        def backward(g: Any) -> None:  # da = g
            _accumulate(a, g)

        return Value(a.data + self.scalar(k, a.data), (a,), backward)

    def softmax(self, a: Value) -> Value:
        row_sum = self.row_sum
        e = self.xp.exp(a.data - self.row_max(a.data))
        p = e / row_sum(e)

        def backward(g: Any) -> None:  # da = p (g - sum(g p))
            _accumulate(a, p * (g - row_sum(g * p)))

        return Value(p, (a,), backward)

    def tanh(self, a: Value) -> Value:
        y = self.xp.tanh(a.data)

        def backward(g: Any) -> None:  # da = g (1 - y^2)
            _accumulate(a, g * (1 - y * y))

        return Value(y, (a,), backward)

    def cross_entropy(self, a: Value, target: Any) -> Value:
        """Mean over rows of logsumexp(a) - a[i, target[i]]; ``target`` holds (rows,) ids."""
        xp, y, dtype = self.xp, a.data, self.dtype
        inv_n, rows = dtype(1.0 / y.shape[0]), xp.arange(y.shape[0])
        m = self.row_max(y)
        ey = xp.exp(y - m)
        s = self.row_sum(ey)
        loss = self.total((m + xp.log(s))[:, 0] - y[rows, target]) * inv_n

        def backward(g: Any) -> None:  # da = g (softmax(a) - onehot(target)) / n
            da = ey * (g * inv_n / s)
            da[rows, target] -= g * inv_n
            _accumulate(a, da)

        return Value(loss, (a,), backward)

    def backward(self, loss: Value) -> None:
        """Gradients of the scalar ``loss`` into every value's ``grad``: the values in reverse
        topological order (an iterative depth-first walk), each handing its gradient on."""
        order: list[Value] = []
        seen: set[int] = set()
        stack = [(loss, False)]
        while stack:
            value, inputs_done = stack.pop()
            if inputs_done:
                order.append(value)
            elif id(value) not in seen:
                seen.add(id(value))
                stack.append((value, True))
                stack.extend((v, False) for v in value.inputs)
        loss.grad = self.dtype(1.0)
        for value in reversed(order):
            if value.backward is not None:
                value.backward(value.grad)


class TinyArrayEngine(LeastEngine):
    """The least engine with kernels for tiny NumPy arrays: the same graph and bookkeeping,
    cheaper arithmetic (found by an independent check of the claim that the hand-written NumPy
    of ``ops.tiny_graph_by_hand`` was the floor under every engine on NumPy: it is not).

    - No (rows, 1) column is broadcast against a (rows, width) array: on 8x8 float32 such a
      subtraction takes 0.77 us, a same-shape one 0.26 us. A row statistic comes out of a
      product with a constant (width, width) matrix already repeated along the row, and
      ``x - mean(x)`` is the one product ``x (I - J / width)``.
    - softmax and cross-entropy shift each row by its mean, not its max (no max reduction):
      after the shift a row's largest entry is >= 0, so its sum of exp is >= 1. Where exp
      overflows (a row spanning more than ~88 in float32) they compute it again with the max.
    - Scalars are constant arrays of the operand's shape; the targets' one-hot rows are taken
      from an identity matrix (``take``), not written by fancy indexing.

    It pays only for rows of a few elements: the (width, width) products cost width^2 a row
    (at width 32 they already cost more than they save). The mean shift is one product with
    ``I - J / width``: it loses about eps times a row's mean, where the max shift loses nothing
    (float32 logits of 1e4 give errors of 3e-4), so it also wants rows of modest values."""

    def __init__(self, xp: Any, width: int, dtype: Any) -> None:
        super().__init__(xp, width, dtype)
        ones = xp.ones((width, width), self.dtype)
        self.eye = xp.eye(width, dtype=self.dtype)
        self.center = self.eye - ones / width  # x @ center = x - mean(x)
        self.spread_mean, self.spread_sum = ones / width, ones  # row mean / sum, repeated
        self._fulls: dict[tuple[tuple[int, ...], float], Any] = {}
        self._eyes_over_n: dict[int, Any] = {}

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        """A cached constant array of ``shape`` filled with ``value``."""
        c = self._fulls.get((shape, value))
        if c is None:
            c = self._fulls[shape, value] = self.xp.full(shape, value, self.dtype)
        return c

    def layer_norm(self, a: Value, eps: float = 1e-5) -> Value:
        x, center, spread_mean = a.data, self.center, self.spread_mean
        c = x.dot(center)  # x - mean(x)
        s = self.xp.sqrt((c * c).dot(spread_mean) + self.full(x.shape, eps))  # (rows, width)
        h = c / s

        def backward(g: Any) -> None:  # da = (g - mean(g) - h mean(g h)) / s
            _accumulate(a, (g.dot(center) - h * (g * h).dot(spread_mean)) / s)

        return Value(h, (a,), backward)

    def scalar(self, k: float, like: Any) -> Any:
        """``k`` as a constant array of ``like``'s shape (a same-shape op is the cheaper)."""
        return self.full(like.shape, k)

    def softmax(self, a: Value) -> Value:
        spread_sum = self.spread_sum
        e = self.xp.exp(a.data.dot(self.center))  # shifted by the row's mean
        if not e.ravel().dot(self.full((e.size,), 1.0)) < math.inf:  # exp or a row's sum
            return super().softmax(a)  # overflowed (or a NaN): shift by the max
        p = e / e.dot(spread_sum)

        def backward(g: Any) -> None:  # da = p (g - sum(g p))
            _accumulate(a, p * (g - (g * p).dot(spread_sum)))

        return Value(p, (a,), backward)

    def tanh(self, a: Value) -> Value:
        y = self.xp.tanh(a.data)
        one = self.full(y.shape, 1.0)

        def backward(g: Any) -> None:  # da = g (1 - y^2)
            _accumulate(a, g * (one - y * y))

        return Value(y, (a,), backward)

    def mean_shifted_cross_entropy(self, y: Any, target: Any) -> tuple[float, Any, Any, Any]:
        """The loss (a Python float, inf where exp overflowed), exp(y - mean), n * each row's
        sum of it and the targets' one-hot rows / n ((rows, width) each): the gradient of the
        loss is ``exp / sum - onehot``."""
        n, width = y.shape
        yc = y.dot(self.center)  # shifted by the row's mean
        ey = self.xp.exp(yc)
        sn = ey.dot(self.full((width, width), n))  # n * each row's sum of exp, along the row
        onehot_n = self.eye_n(n).take(target, 0)  # (n, width): the targets' one-hot rows / n
        # mean over rows of log(sum(exp)) - y[i, target[i]], both shifted by the same mean
        mean_log_sn = self.xp.log(sn).ravel().dot(self.full((y.size,), 1.0 / y.size))
        loss = mean_log_sn - yc.ravel().dot(onehot_n.ravel()) - math.log(n)
        return loss, ey, sn, onehot_n

    def cross_entropy(self, a: Value, target: Any) -> Value:
        loss, ey, sn, onehot_n = self.mean_shifted_cross_entropy(a.data, target)
        if not loss < math.inf:  # exp overflowed: shift by the max
            return super().cross_entropy(a, target)

        def backward(g: Any) -> None:  # da = g (softmax(a) - onehot(target)) / n
            _accumulate(a, (ey / sn - onehot_n) * g)

        return Value(self.xp.asarray(loss, self.dtype), (a,), backward)

    def eye_n(self, n: int) -> Any:
        """The identity matrix divided by ``n``, cached: its rows are one-hot rows over n."""
        c = self._eyes_over_n.get(n)
        if c is None:
            c = self._eyes_over_n[n] = self.eye / self.dtype(n)
        return c


def tiny_graph_least(engine: LeastEngine, np_x: Any, np_w: Any, target: Any) -> tuple[Any, ...]:
    """The tiny graph on the least engine, leaves copied from host arrays as minigrad's and
    PyTorch's are. Returns the loss and the gradients of x and w."""
    e = engine
    x, w = Value(e.xp.array(np_x)), Value(e.xp.array(np_w))
    h = e.layer_norm(e.matmul(x, w))  # (n, n)
    p = e.softmax(e.add(e.mul(h, 2), 1))  # (n, n)
    loss = e.cross_entropy(e.tanh(p), target)  # ()
    e.backward(loss)
    return loss.data, x.grad, w.grad


# ---------------------------------------------------------------------------------------------
# The checked engine: the tiny-array engine with minigrad's features, each behind a switch
# ---------------------------------------------------------------------------------------------

# The features an engine must have to stand in for minigrad on this graph, in the order the
# levels add them (a level has every feature up to its letter).
FEATURES = {
    "a": "validation",  # operands, dtypes, shapes, ids, normalized_shape: before anything changes
    "b": "grad mode",  # no_grad, requires_grad propagation: no node where nothing needs one
    "c": "versions",  # a saved tensor changed in place since the forward: backward refuses it
    "d": "leaf nodes",  # a leaf's accumulate node: .grad checked, then added to in place
    "e": "hooks",  # the check of each node and leaf for hooks (none in the timed graph)
    "f": "freeing",  # saved arrays dropped after backward; a second backward refuses
}
LEVELS = ["", *("abcdef"[: i + 1] for i in range(len(FEATURES)))]  # "", "a", "ab", ...
OUTPUT = (None,)  # what an op saved, for feature c: its output alone
_new = object.__new__
_INPLACE_EPOCH = [0]  # counts in-place changes: a backward compares versions only if it moved


class GradMode:
    """Whether the checked engine's ops record nodes (feature b): ``no_grad`` turns it off."""

    enabled = True


class no_grad:  # noqa: N801 (PyTorch's name)
    """``with no_grad():`` the checked engine's ops record nothing (feature b)."""

    def __enter__(self) -> None:
        self.before, GradMode.enabled = GradMode.enabled, False

    def __exit__(self, *exc: object) -> None:
        GradMode.enabled = self.before


class Tensor:
    """A tensor of the checked engine: its array, ``.grad``, whether it requires grad, and
    ``node``, where its gradient goes: the node of the op that made it, a leaf's accumulate
    node (feature d), or None (a leaf without d, a tensor that requires no grad). ``version``
    (feature c) is its in-place version counter, a one-element list the graph can share
    without holding the tensor. Unlike the least engine's ``Value`` the graph holds nodes,
    not tensors: an array no backward needs dies with its tensor, as minigrad's tests ask."""

    __slots__ = ("__dict__", "__weakref__", "data", "grad", "node", "requires_grad", "version")
    hooks: list[Callable[[Tensor], Tensor | None]] | None = None  # a leaf's (register_hook)
    inputs: tuple[Any, ...] = ()  # without feature d a leaf stands in the graph as its own node

    def __init__(self, data: Any, requires_grad: bool = True, node: Any = None) -> None:
        self.data, self.grad, self.requires_grad, self.node = data, None, requires_grad, node


class Node:
    """A recorded op: its name, its ``backward`` closure (the output's gradient -> each
    input's node's ``grad``), its inputs' nodes (None for one that needs no gradient), the sum
    of the gradients that reached it so far, whether it keeps arrays for the backward
    (``saves``: feature f frees them), and the versions of the tensors it saved (feature c:
    ``(in-place epoch, [(counter, version), ...])``). Made by ``CheckedEngine.record`` only."""

    __slots__ = ("__dict__", "backward", "grad", "inputs", "name", "saves", "versions")
    hooks: list[Callable[[Tensor], Tensor | None]] | None = None  # its output's (register_hook)


class AccumulateGrad:
    """A leaf's node (feature d): the gradients reaching the leaf are summed here, then added
    to its ``.grad``. It holds its leaf weakly (the leaf holds it): no reference cycle."""

    __slots__ = ("grad", "variable")
    name, inputs, saves, versions, hooks = "AccumulateGrad", (), False, None, None

    def __init__(self, leaf: Tensor) -> None:
        self.variable, self.grad = weakref.ref(leaf), None


class CheckedEngine(TinyArrayEngine):
    """The tiny-array engine's arithmetic with minigrad's bookkeeping: tensors apart from
    graph nodes, and each feature of ``FEATURES`` whose letter is in ``features``, written as
    the least code that does it correctly (the switches cost a test of a flag each). Ops take
    and return ``Tensor``s; ``tiny_graph_checked`` runs the tiny graph on it."""

    def __init__(self, xp: Any, width: int, dtype: Any, features: str = "abcdef") -> None:
        super().__init__(xp, width, dtype)
        if set(features) - set(FEATURES) or ("e" in features and "d" not in features):
            raise ValueError(
                f"features: letters of {''.join(FEATURES)} (e needs d), got {features!r}"
            )
        self.validate, self.grad_mode, self.versions, self.leaf_nodes, self.hooks, self.free = (
            letter in features for letter in FEATURES
        )
        self.width, self.array_dtype = width, xp.dtype(dtype)

    # -- tensors and the bookkeeping every op shares ----------------------------------------------

    def tensor(self, data: Any, requires_grad: bool = False) -> Tensor:
        """A leaf: ``data`` copied, its dtype kept."""
        array = self.xp.array(data)
        if self.validate and requires_grad and array.dtype.kind != "f":
            raise TypeError(f"only floating point tensors can require grad, got {array.dtype}")
        t = Tensor(array, requires_grad)
        if self.versions:
            t.version = [0]
        if self.leaf_nodes and (requires_grad or not self.grad_mode):  # without b all do
            t.node = AccumulateGrad(t)
        return t

    def constant(self, data: Any) -> Tensor:
        """The output of an op that records no node (feature b)."""
        t = Tensor(data, False)
        if self.versions:
            t.version = [0]
        return t

    def record(
        self, name: str, data: Any, backward: Callable[[Any], None], inputs: tuple, saves: bool,
        saved: tuple[Tensor | None, ...] = (),
    ) -> Tensor:  # fmt: skip
        """The output of an op, with its node. ``saves``: the backward keeps arrays; ``saved``:
        the tensors among them (None: the output), whose versions feature c records."""
        # the node and Tensor(data, True, node) made without calling __init__ (two calls an op
        # cost 8k of the checked engine's 380k instructions a step)
        node = _new(Node)
        node.name, node.backward, node.inputs, node.saves = name, backward, inputs, saves
        node.grad = node.versions = None
        out = _new(Tensor)
        out.data, out.grad, out.requires_grad, out.node = data, None, True, node
        if self.versions:
            counter = out.version = [0]
            if saved is OUTPUT:  # the usual case, without a loop
                node.versions = (_INPLACE_EPOCH[0], ((counter, 0),))
            elif saved:
                pairs = [(counter, 0) if t is None else (t.version, t.version[0]) for t in saved]
                node.versions = (_INPLACE_EPOCH[0], pairs)
        return out

    def add_(self, t: Tensor, k: float) -> Tensor:
        """``t += k`` in place, outside the graph (as under no_grad): a change that feature c's
        counters see."""
        t.data += self.scalar(k, t.data)
        if self.versions:
            t.version[0] += 1
            _INPLACE_EPOCH[0] += 1
        return t

    def register_hook(self, t: Tensor, hook: Callable[[Tensor], Tensor | None]) -> None:
        """Run ``hook`` on ``t``'s gradient in backward (feature e); it may return another."""
        if not self.hooks or not t.requires_grad:
            raise RuntimeError("register_hook: needs feature e and a tensor that requires grad")
        owner = t.node if t.node.__class__ is Node else t  # a leaf keeps its own hooks
        owner.hooks = [*(owner.hooks or ()), hook]

    # -- feature a: each op tests its operands inline (a call costs more than the test); the
    # -- rare failure calls refuse(), which finds the fault and raises naming it

    def refuse(self, op: str, *operands: Any) -> None:
        """Raise for the first operand that is no tensor of the engine's dtype with 2 dims (a
        dtype equal to the engine's but not its very object passes)."""
        for a in operands:
            if a.__class__ is not Tensor:
                raise TypeError(f"{op}: expected a Tensor, got {type(a).__name__}")
            if a.data.dtype != self.array_dtype:
                raise TypeError(f"{op}: expected a {self.array_dtype} tensor, got {a.data.dtype}")
            if a.data.ndim != 2:
                raise ValueError(f"{op}: expected (rows, columns), got {tuple(a.data.shape)}")

    def check_scalar(self, op: str, a: Any, k: Any) -> None:
        """mul's and add's operands: a tensor and a Python number (taken in its dtype)."""
        if a.__class__ is not Tensor or a.data.dtype is not self.array_dtype or a.data.ndim != 2:
            self.refuse(op, a)
        if k.__class__ is not float and k.__class__ is not int:
            raise TypeError(f"{op}: expected a Python number, got {type(k).__name__}")

    def check_classes(self, logits: Tensor, target: Any) -> None:
        """cross_entropy's operands: (n, width) logits, (n,) integer ids in [0, width), the
        range read with one min and one max."""
        a = logits
        if a.__class__ is not Tensor or a.data.dtype is not self.array_dtype or a.data.ndim != 2:
            self.refuse("cross_entropy", a)
        if target.__class__ is not Tensor or target.data.dtype.kind not in "iu":
            raise TypeError("cross_entropy: target must be a tensor of integer class ids")
        ids = target.data
        if ids.shape != logits.data.shape[:1]:
            raise ValueError(
                f"cross_entropy: logits of shape {tuple(logits.data.shape)} need a target of "
                f"shape {tuple(logits.data.shape[:1])}, got {tuple(ids.shape)}"
            )
        listed = ids.tolist()  # on a few ids Python's min and max beat two NumPy reductions
        if listed and (min(listed) < 0 or max(listed) >= logits.data.shape[1]):
            raise IndexError(
                f"cross_entropy: ids must be in [0, {logits.data.shape[1]}), got values in "
                f"[{min(listed)}, {max(listed)}]"
            )

    # -- the ops: the tiny-array engine's arithmetic. An input's gradient goes to ``a.node or
    # -- a`` (a leaf without feature d is its own node), or nowhere (None) under feature b
    # -- when grad mode is off or the input needs none. A wrong width fails in NumPy's dot
    # -- before anything is recorded (the engine's own limit, not a check of feature a).

    def matmul(self, a: Tensor, b: Tensor) -> Tensor:
        if self.validate:
            dt = self.array_dtype
            if (a.__class__ is not Tensor or b.__class__ is not Tensor
                    or a.data.dtype is not dt or b.data.dtype is not dt
                    or a.data.ndim != 2 or b.data.ndim != 2):  # fmt: skip
                self.refuse("matmul", a, b)
            if a.data.shape[1] != b.data.shape[0]:
                raise ValueError(
                    f"matmul: shapes {a.data.shape} and {b.data.shape} are not aligned"
                )
        x, w, dot, on = a.data, b.data, self.dot, not self.grad_mode or GradMode.enabled
        pa = a.node or a if on and a.requires_grad else None
        pb = b.node or b if on and b.requires_grad else None
        if pa is None and pb is None:
            return self.constant(dot(x, w))

        def backward(g: Any) -> None:  # da = g b^T ; db = a^T g
            if pa is not None:
                _accumulate(pa, dot(g, w.T))
            if pb is not None:
                _accumulate(pb, dot(x.T, g))

        return self.record("MatMul", dot(x, w), backward, (pa, pb), True, (a, b))

    def layer_norm(self, a: Tensor, normalized_shape: Any, eps: float = 1e-5) -> Tensor:
        if self.validate:
            if (a.__class__ is not Tensor or a.data.dtype is not self.array_dtype
                    or a.data.ndim != 2):  # fmt: skip
                self.refuse("layer_norm", a)
            width = a.data.shape[1]
            if normalized_shape != width and normalized_shape != (width,):
                raise ValueError(
                    f"layer_norm: input of shape {a.data.shape} does not end with "
                    f"normalized_shape {normalized_shape!r}"
                )
        x = a.data
        center, spread_mean = self.center, self.spread_mean
        c = x.dot(center)  # x - mean(x)
        s = self.xp.sqrt((c * c).dot(spread_mean) + self.full(x.shape, eps))  # (rows, width)
        h = c / s
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        if pa is None:
            return self.constant(h)

        def backward(g: Any) -> None:  # da = (g - mean(g) - h mean(g h)) / s
            _accumulate(pa, (g.dot(center) - h * (g * h).dot(spread_mean)) / s)

        return self.record("LayerNorm", h, backward, (pa,), True, OUTPUT)

    def mul(self, a: Tensor, k: float) -> Tensor:
        if self.validate:
            self.check_scalar("mul", a, k)
        k = self.scalar(k, a.data)  # a Python number in a's dtype
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        if pa is None:
            return self.constant(a.data * k)

        def backward(g: Any) -> None:  # da = k g
            _accumulate(pa, g * k)

        return self.record("Mul", a.data * k, backward, (pa,), False)

    def add(self, a: Tensor, k: float) -> Tensor:
        if self.validate:
            self.check_scalar("add", a, k)
        out = a.data + self.scalar(k, a.data)
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        if pa is None:
            return self.constant(out)

        def backward(g: Any) -> None:  # da = g
            _accumulate(pa, g)

        return self.record("Add", out, backward, (pa,), False)

    def softmax(self, a: Tensor, dim: int = -1) -> Tensor:
        if self.validate:
            if (a.__class__ is not Tensor or a.data.dtype is not self.array_dtype
                    or a.data.ndim != 2):  # fmt: skip
                self.refuse("softmax", a)
            if dim != -1 and dim != 1:
                raise ValueError(f"softmax: the engine takes rows (dim -1 or 1), got dim={dim}")
        spread_sum = self.spread_sum
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        e = self.xp.exp(a.data.dot(self.center))  # shifted by the row's mean
        if e.ravel().dot(self.full((e.size,), 1.0)) < math.inf:
            p = e / e.dot(spread_sum)

            def backward(g: Any) -> None:  # da = p (g - sum(g p))
                _accumulate(pa, p * (g - (g * p).dot(spread_sum)))

        else:  # exp or a row's sum overflowed (or a NaN): shift by the max
            p, backward = self.max_shifted(LeastEngine.softmax, a.data, pa)
        if pa is None:
            return self.constant(p)
        return self.record("Softmax", p, backward, (pa,), True, OUTPUT)

    def tanh(self, a: Tensor) -> Tensor:
        if self.validate:
            if (a.__class__ is not Tensor or a.data.dtype is not self.array_dtype
                    or a.data.ndim != 2):  # fmt: skip
                self.refuse("tanh", a)
        y = self.xp.tanh(a.data)
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        if pa is None:
            return self.constant(y)
        one = self.full(y.shape, 1.0)

        def backward(g: Any) -> None:  # da = g (1 - y^2)
            _accumulate(pa, g * (one - y * y))

        return self.record("Tanh", y, backward, (pa,), True, OUTPUT)

    def cross_entropy(self, a: Tensor, target: Tensor) -> Tensor:
        """Mean over rows of logsumexp(a) - a[i, target[i]]; ``target`` a tensor of (rows,)
        class ids."""
        if self.validate:
            self.check_classes(a, target)
        y, ids = a.data, target.data
        pa = a.node or a if not self.grad_mode or GradMode.enabled and a.requires_grad else None
        loss, ey, sn, onehot_n = self.mean_shifted_cross_entropy(y, ids)
        if loss < math.inf:
            loss = self.xp.asarray(loss, self.dtype)

            def backward(g: Any) -> None:  # da = g (softmax(a) - onehot(target)) / n
                _accumulate(pa, (ey / sn - onehot_n) * g)

        else:  # exp overflowed: shift by the max
            loss, backward = self.max_shifted(LeastEngine.cross_entropy, y, pa, ids)
        if pa is None:
            return self.constant(loss)
        return self.record("CrossEntropy", loss, backward, (pa,), True)

    def max_shifted(self, op: Callable[..., Value], data: Any, pa: Any, *args: Any) -> tuple:
        """Where the mean shift overflows: the least engine's ``op`` (shifted by the max) on
        ``data``, as its output and a backward closure that adds its gradient into ``pa``."""
        x = Value(data)
        y = op(self, x, *args)

        def backward(g: Any) -> None:
            x.grad = None
            y.backward(g)
            _accumulate(pa, x.grad)

        return y.data, backward

    # -- backward ----------------------------------------------------------------------------

    def backward(self, loss: Tensor, retain_graph: bool = False) -> None:
        """Gradients of the one-element ``loss`` into the ``.grad`` of every leaf that requires
        grad: the nodes in reverse topological order, each handing its summed gradient on;
        then the leaves' accumulate step (feature d)."""
        if self.validate and (loss.__class__ is not Tensor or loss.data.size != 1):
            raise RuntimeError("backward: the loss must be a tensor of one element")
        if self.grad_mode and not loss.requires_grad:
            raise RuntimeError("backward: the loss does not require grad and has no node")
        root = loss.node or loss
        order, leaves = _graph_order(root)
        root.grad = self.xp.array(1.0, loss.data.dtype)
        hooks, versions, frees = self.hooks, self.versions, self.free
        free_now = frees and not retain_graph
        for node in order:
            g, node.grad = node.grad, None
            if hooks and node.hooks is not None:
                g = _run_hooks(node.hooks, g)
            if versions and node.versions is not None and node.versions[0] != _INPLACE_EPOCH[0]:
                _check_versions(node)
            fn = node.backward
            if frees and fn is None:
                raise RuntimeError(
                    f"trying to backward through the graph a second time ({node.name} node): "
                    "its saved arrays were freed; pass retain_graph=True the first time"
                )
            fn(g)
            if free_now and node.saves:
                node.backward = None  # the closure held the saved arrays
        if self.leaf_nodes:
            _accumulate_leaves(leaves, hooks)


def _graph_order(root: Any) -> tuple[list[Any], list[Any]]:
    """The op nodes reachable from ``root``, each before the nodes of its inputs (an iterative
    depth-first walk), and apart the leaves' nodes (no inputs), where nothing runs."""
    order: list[Any] = []
    leaves: list[Any] = []
    seen: set[Any] = set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            if node.inputs:
                stack.append((node, True))
                stack.extend((p, False) for p in node.inputs if p is not None)
            else:
                leaves.append(node)
    order.reverse()
    return order, leaves


def _check_versions(node: Node) -> None:
    """Feature c: raise if a tensor ``node`` saved was changed in place since the forward."""
    for counter, version in node.versions[1]:
        if counter[0] != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: saved by {node.name}, it is at version {counter[0]}; "
                f"expected version {version} instead"
            )


def _accumulate_leaves(leaves: list[Any], hooks: bool) -> None:
    """Feature d: each leaf's summed gradient, after its hooks (feature e), checked against
    the leaf's shape and dtype and its ``.grad``'s, then added to ``.grad`` in place (or made
    its ``.grad``). Every gradient is checked before any ``.grad`` changes. A gradient here is
    no other node's: every backward closure makes a new array or hands on one it alone holds."""
    arrived = []
    for node in leaves:
        g, node.grad = node.grad, None
        leaf = node.variable()
        if leaf is None or g is None:  # a leaf nobody holds: nobody can read its .grad
            continue
        if hooks and leaf.hooks is not None:
            g = _run_hooks(leaf.hooks, g)
        data, grad = leaf.data, leaf.grad
        if (g.shape != data.shape or g.dtype is not data.dtype and g.dtype != data.dtype) or (
            grad is not None and (grad.shape != g.shape or grad.dtype != g.dtype)
        ):
            raise RuntimeError(
                f"backward: a gradient of shape {tuple(g.shape)} and dtype {g.dtype} for a leaf "
                f"of shape {tuple(data.shape)} and dtype {data.dtype}"
                + ("" if grad is None else f" whose .grad has shape {tuple(grad.shape)}")
            )
        arrived.append((leaf, g))
    for leaf, g in arrived:
        if leaf.grad is None:
            leaf.grad = g
        else:
            leaf.grad += g


def _run_hooks(hooks: list[Callable[[Tensor], Tensor | None]], g: Any) -> Any:
    """Feature e: the hooks on a gradient, in order, under no_grad; each may return another of
    the same shape and dtype. The result is copied: a hook may keep what it saw, and a leaf's
    ``.grad`` is added to in place."""
    before, GradMode.enabled = GradMode.enabled, False
    try:
        for hook in hooks:
            replaced = hook(Tensor(g, False))
            if replaced is not None:
                if replaced.data.shape != g.shape or replaced.data.dtype != g.dtype:
                    raise RuntimeError(
                        f"a hook returned a gradient of shape {tuple(replaced.data.shape)} and "
                        f"dtype {replaced.data.dtype}; expected {tuple(g.shape)} and {g.dtype}"
                    )
                g = replaced.data
    finally:
        GradMode.enabled = before
    return g.copy()


def tiny_graph_checked(engine: CheckedEngine, np_x: Any, np_w: Any, target: Tensor) -> tuple:
    """The tiny graph on the checked engine, its leaves made from host arrays, ``target`` a
    tensor of class ids (made once, as minigrad's). Returns the loss and the gradients of x
    and w."""
    e = engine
    x, w = e.tensor(np_x, requires_grad=True), e.tensor(np_w, requires_grad=True)
    h = e.layer_norm(e.matmul(x, w), np_x.shape[-1])  # (n, n)
    p = e.softmax(e.add(e.mul(h, 2), 1), dim=-1)  # (n, n)
    loss = e.cross_entropy(e.tanh(p), target)  # ()
    e.backward(loss)
    return loss.data, x.grad, w.grad


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


NOISY = 1.25  # rounds further apart than this (worst / best) give no verdict


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few, short rounds: a smoke test")
    # one thread: 8x8 products gain nothing from more, and on 2 shared cores PyTorch's idle
    # OpenMP threads made its time jump between ~65 and ~85 us from run to run (61 us on one)
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads")
    parser.add_argument("--size", type=int, default=8, help="rows and width (default 8)")
    parser.add_argument(
        "--target", type=float, default=0.5, help="a ratio to PyTorch to judge (default 0.5)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.size < 1 or args.threads < 1 or args.target <= 0:
        print("--size and --threads must be at least 1, --target above 0", file=sys.stderr)
        return 2
    set_thread_env(args.threads)
    programs, results, want, np = _programs(args.size, args.threads)
    for name, values in results.items():  # the same loss and gradients, before any timing
        error = max(max_rel_error(g, r, np, np.asarray) for g, r in zip(values, want))
        if not error < 1e-4:
            print(f"{name} disagrees with NumPy by hand: relative error {error:.2e}")
            return 1
    round_s, rounds = (0.01, 3) if args.quick else (0.1, 9)
    timings = measure({k: (f, lambda: None) for k, f in programs.items()}, round_s, rounds)
    print(
        f"tiny graph ({args.size}x{args.size} float32, 7 ops, fresh leaves), {args.threads} "
        f"thread(s), median of {rounds} rounds"
    )
    noisy = [name for name, t in timings.items() if t.worst > NOISY * t.best]
    target = None if noisy else args.target  # no verdict on noisy rounds
    _report(timings, target)
    _report_levels(timings, target)
    if noisy:
        print(
            f"  too noisy to judge: the rounds of {', '.join(noisy)} differ by more than "
            f"{NOISY - 1:.0%} (another process on the cores?); run again"
        )
    return 0


def _programs(n: int, threads: int) -> tuple[dict[str, Callable[[], Any]], dict, tuple, Any]:
    """The programs to time, by name; what each gives for the loss and the gradients of x and
    w (PyTorch: its gradients beside the floor's loss); what the floor gives; NumPy."""
    import numpy as np  # noqa: PLC0415  (after the thread variables are set)

    sys.path.insert(0, str(REPO_ROOT))
    import minigrad as mg  # noqa: PLC0415

    mg.set_backend("numpy")  # engines on NumPy: minigrad too, whatever MINIGRAD_BACKEND says
    try:
        import torch  # noqa: PLC0415  (an optional oracle)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    np_x, np_w = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    target = rng.integers(0, n, size=n)
    mg_target = mg.tensor(target)
    engine, tiny_engine = LeastEngine(np, n, np.float32), TinyArrayEngine(np, n, np.float32)
    programs: dict[str, Callable[[], Any]] = {
        "NumPy by hand": lambda: tiny_graph_by_hand(np, np_x, np_w, target),
        "least engine": lambda: tiny_graph_least(engine, np_x, np_w, target),
        "tiny-array engine": lambda: tiny_graph_least(tiny_engine, np_x, np_w, target),
        "minigrad": lambda: tiny_graph_minigrad(mg, np_x, np_w, mg_target),
    }
    for level in LEVELS:  # each with its own engine and its own tensor of the target ids
        checked = CheckedEngine(np, n, np.float32, level)
        ids = checked.tensor(target)
        programs[_level_name(level)] = partial(tiny_graph_checked, checked, np_x, np_w, ids)
    results = {name: programs[name]() for name in programs if name != "NumPy by hand"}
    loss, x, w = results["minigrad"]
    results["minigrad"] = (loss.array, x.grad.array, w.grad.array)
    want = tiny_graph_by_hand(np, np_x, np_w, target)
    if torch is not None:
        torch.set_num_threads(threads)
        t_target = torch.tensor(target)
        programs["PyTorch"] = lambda: tiny_graph_torch(torch, np_x, np_w, t_target, "cpu")
        tx, tw = programs["PyTorch"]()
        results["PyTorch (gradients)"] = (want[0], tx.grad.numpy(), tw.grad.numpy())
    return programs, results, want, np


def _level_name(level: str) -> str:
    """The checked engine's program at ``level``: "checked -", "checked a", "checked ab"..."""
    return f"checked {level or '-'}"


def _report(timings: dict[str, Timing], target: float | None) -> None:
    """Each program's time (the checked engine's levels apart), its ratio to PyTorch's, the
    bookkeeping above the floor, and which programs meet ``target`` times PyTorch's time
    (None: no verdict)."""
    times = {name: t.median for name, t in timings.items()}
    torch_s = times.get("PyTorch")
    levels = {_level_name(level) for level in LEVELS}
    for name, seconds in times.items():
        if name in levels:
            continue
        ratio = "" if torch_s is None else f"  {seconds / torch_s:.2f}x PyTorch"
        t = timings[name]
        spread = f"  (rounds {t.best * 1e6:.1f}-{t.worst * 1e6:.1f} us)"
        print(f"  {name:<17} {seconds * 1e6:7.1f} us{ratio}{spread}")
    floor = times["NumPy by hand"]
    print(
        "  bookkeeping above the floor (the same kernels): least engine "
        f"{(times['least engine'] - floor) * 1e6:.1f} us, minigrad "
        f"{(times['minigrad'] - floor) * 1e6:.1f} us"
    )
    if target is None or torch_s is None:
        return
    bar = target * torch_s
    met = [name for name, seconds in times.items() if seconds <= bar and name not in levels]
    print(f"  {target:g}x PyTorch is {bar * 1e6:.1f} us; met by: {', '.join(met or ['none'])}")


def _report_levels(timings: dict[str, Timing], target: float | None) -> None:
    """The checked engine level by level: the tiny-array engine, then its tensors apart from
    graph nodes, then each feature added in turn; each level's time, ratio to PyTorch and
    increment on the level before, and the levels that meet ``target`` times PyTorch's time."""
    torch = timings.get("PyTorch")
    print("  the tiny-array engine with minigrad's features added one at a time:")
    rows = [("tiny-array engine", "the tiny-array engine")]
    rows.append((_level_name(""), "+ tensors apart from graph nodes"))
    rows += [(_level_name(lv), f"+ {lv[-1]}: {FEATURES[lv[-1]]}") for lv in LEVELS[1:]]
    before = None
    for name, label in rows:
        t = timings[name]
        ratio = "" if torch is None else f"  {t.median / torch.median:.2f}x PyTorch"
        step = "" if before is None else f"  {(t.median - before) * 1e6:+5.1f} us"
        spread = f"  (rounds {t.best * 1e6:.1f}-{t.worst * 1e6:.1f} us)"
        print(f"    {label:<32} {t.median * 1e6:7.1f} us{ratio}{step}{spread}")
        before = t.median
    if target is None or torch is None:
        return
    bar = target * torch.median
    met = [label for name, label in rows if timings[name].median <= bar]
    print(
        f"  {target:g}x PyTorch is {bar * 1e6:.1f} us; levels that meet it: {', '.join(met or ['none'])}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
