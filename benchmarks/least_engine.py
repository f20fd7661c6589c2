"""The least engine: how fast can any autograd engine written in Python on NumPy run the tiny
graph of ``benchmarks/ops.py``? It sets the bar that a tiny-graph target can be judged against.

    python benchmarks/least_engine.py               # about 10 s
    python benchmarks/least_engine.py --threads 2   # BLAS and PyTorch on two threads
    python benchmarks/least_engine.py --quick       # a smoke test (a few seconds)

The tiny graph is ``layer_norm(x @ w)``, ``softmax(h * 2 + 1)``, ``tanh``, ``cross_entropy``,
forward and backward, with the leaves x and w (8x8 float32) made from host arrays inside each
step. Five programs compute the same loss and gradients, timed in turns in one process:

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
- **minigrad**, and **PyTorch** (its C++ engine, as an oracle; imported only here).

It prints each time, its ratio to PyTorch's, the bookkeeping of the least engine and of
minigrad above the floor, and which programs meet a target ratio (``--target``, default 0.5).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops import (  # noqa: E402  (benchmarks/ is not a package)
    REPO_ROOT,
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

    def cross_entropy(self, a: Value, target: Any) -> Value:
        xp, y = self.xp, a.data
        n, width = y.shape
        yc = y.dot(self.center)  # shifted by the row's mean
        ey = xp.exp(yc)
        sn = ey.dot(self.full((width, width), n))  # n * each row's sum of exp, along the row
        onehot_n = self.eye_n(n).take(target, 0)  # (n, width): the targets' one-hot rows / n
        # mean over rows of log(sum(exp)) - y[i, target[i]], both shifted by the same mean
        mean_log_sn = xp.log(sn).ravel().dot(self.full((y.size,), 1.0 / y.size))
        loss = mean_log_sn - yc.ravel().dot(onehot_n.ravel()) - math.log(n)
        if not loss < math.inf:  # exp overflowed: shift by the max
            return super().cross_entropy(a, target)

        def backward(g: Any) -> None:  # da = g (softmax(a) - onehot(target)) / n
            _accumulate(a, (ey / sn - onehot_n) * g)

        return Value(xp.asarray(loss, self.dtype), (a,), backward)

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
    import numpy as np  # noqa: PLC0415  (after the thread variables are set)

    sys.path.insert(0, str(REPO_ROOT))
    import minigrad as mg  # noqa: PLC0415

    mg.set_backend("numpy")  # engines on NumPy: minigrad too, whatever MINIGRAD_BACKEND says

    try:
        import torch  # noqa: PLC0415  (an optional oracle)
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)

    n = args.size
    rng = np.random.default_rng(0)
    np_x, np_w = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    target = rng.integers(0, n, size=n)
    mg_target = mg.tensor(target)
    engine = LeastEngine(np, n, np.float32)
    tiny_engine = TinyArrayEngine(np, n, np.float32)

    programs: dict[str, Callable[[], Any]] = {
        "NumPy by hand": lambda: tiny_graph_by_hand(np, np_x, np_w, target),
        "least engine": lambda: tiny_graph_least(engine, np_x, np_w, target),
        "tiny-array engine": lambda: tiny_graph_least(tiny_engine, np_x, np_w, target),
        "minigrad": lambda: tiny_graph_minigrad(mg, np_x, np_w, mg_target),
    }
    if torch is not None:
        t_target = torch.tensor(target)
        programs["PyTorch"] = lambda: tiny_graph_torch(torch, np_x, np_w, t_target, "cpu")

    # the same loss and gradients from each, before anything is timed
    want = tiny_graph_by_hand(np, np_x, np_w, target)
    loss, x, w = tiny_graph_minigrad(mg, np_x, np_w, mg_target)
    got = {
        "least engine": tiny_graph_least(engine, np_x, np_w, target),
        "tiny-array engine": tiny_graph_least(tiny_engine, np_x, np_w, target),
        "minigrad": (loss.array, x.grad.array, w.grad.array),
    }
    if torch is not None:
        tx, tw = tiny_graph_torch(torch, np_x, np_w, t_target, "cpu")
        got["PyTorch (gradients)"] = (want[0], tx.grad.numpy(), tw.grad.numpy())
    for name, values in got.items():
        error = max(max_rel_error(g, r, np, np.asarray) for g, r in zip(values, want))
        if not error < 1e-4:
            print(f"{name} disagrees with NumPy by hand: relative error {error:.2e}")
            return 1

    round_s, rounds = (0.01, 3) if args.quick else (0.1, 9)
    timings = measure({k: (f, lambda: None) for k, f in programs.items()}, round_s, rounds)
    times = {name: t.median for name, t in timings.items()}
    print(
        f"tiny graph ({n}x{n} float32, 7 ops, fresh leaves), {args.threads} thread(s), "
        f"median of {rounds} rounds"
    )
    torch_s = times.get("PyTorch")
    for name, seconds in times.items():
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
    noisy = [name for name, t in timings.items() if t.worst > NOISY * t.best]
    if noisy:
        print(
            f"  too noisy to judge: the rounds of {', '.join(noisy)} differ by more than "
            f"{NOISY - 1:.0%} (another process on the cores?); run again"
        )
    elif torch_s is not None:
        bar = args.target * torch_s
        met = [name for name, seconds in times.items() if seconds <= bar] or ["none"]
        print(f"  {args.target:g}x PyTorch is {bar * 1e6:.1f} us; met by: {', '.join(met)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
