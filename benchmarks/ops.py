"""Forward + backward time of single ops in minigrad, beside PyTorch and hand-written NumPy.

    python benchmarks/ops.py                 # the full run (about 40 s on 2 cores)
    python benchmarks/ops.py --quick         # a smoke test (about 10 s)
    python benchmarks/ops.py --json out.json # also write the results
    python benchmarks/ops.py --backend cupy  # minigrad on the GPU, PyTorch on CUDA if it has one

Each case times one iteration of: reset the leaves' ``.grad`` to None, run the op, reduce its
output to a scalar with ``sum`` (cross_entropy is already a scalar), and call ``backward``.
PyTorch does exactly the same. The "NumPy" column is the same forward and backward math written
by hand with the array module (NumPy, or CuPy with ``--backend cupy``), with no graph at all, so

    engine overhead = minigrad time - NumPy time

is what minigrad's bookkeeping (Tensor objects, graph nodes, checks, the backward walk) costs on
top of the arithmetic. On tiny 8x8 tensors that overhead is nearly the whole time; on large
tensors the arithmetic dominates and all three columns should meet.

Timing: ``time.perf_counter`` around a batch of iterations, the batch size grown until one batch
takes a set time (about 0.1 s), several batches ("rounds"), and the median per-iteration time
reported. The garbage collector is paused while a batch runs (as ``timeit`` does). BLAS and
PyTorch both run on ``--threads`` threads (default 2, the core count of these machines); the
BLAS thread count is set through environment variables before NumPy is imported.

PyTorch is imported only here, only as an oracle: minigrad never depends on it. Without it the
PyTorch columns are left empty.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Command line (parsed before NumPy is imported, so that the BLAS thread count takes effect)
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few, short rounds: a smoke test")
    parser.add_argument(
        "--backend", choices=("numpy", "cupy"), default="numpy", help="minigrad backend"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results to PATH as JSON")
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS and PyTorch threads (default 2)"
    )
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if args.json and Path(args.json).is_dir():
        parser.error(f"--json {args.json} is a directory, not a file name")
    return args


def set_thread_env(threads: int) -> dict[str, str]:
    """Pin the BLAS / OpenMP thread pools; must run before NumPy (or PyTorch) is imported."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    for name in names:
        os.environ[name] = str(threads)
    return {name: os.environ[name] for name in names}


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


# A pause before each timed batch: with 2 cores, the thread pools of OpenBLAS and of PyTorch's
# OpenMP keep spinning for a moment after their last job and would steal the cores of whichever
# engine runs next.
SETTLE_S = 0.01


@dataclass
class Timing:
    """Per-iteration seconds: the median over rounds, with the spread and the batch size."""

    median: float
    best: float
    worst: float
    reps: int
    rounds: int


def _batch(step: Callable[[], Any], sync: Callable[[], None], reps: int) -> float:
    """Seconds for ``reps`` calls of ``step``, with the garbage collector paused."""
    time.sleep(SETTLE_S)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(reps):
            step()
        sync()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def calibrate(step: Callable[[], Any], sync: Callable[[], None], round_s: float) -> int:
    """The number of calls of ``step`` (one forward + backward) that fills ``round_s``."""
    step()  # warm up: caches, lazy imports, allocator pools
    sync()
    reps = 1
    while True:
        elapsed = _batch(step, sync, reps)
        if elapsed >= round_s or reps >= 1_000_000:
            return reps
        # aim a little past the target so the loop ends in one or two more tries
        reps = max(reps * 2, int(reps * 1.2 * round_s / max(elapsed, 1e-9)))


def measure(
    engines: dict[str, tuple[Callable[[], Any], Callable[[], None]]], round_s: float, rounds: int
) -> dict[str, Timing]:
    """Per-iteration times of each engine's ``(step, sync)``.

    The engines take turns, one batch each per round, so that a burst of noise from other
    processes on the machine hits all of them alike instead of one engine's whole measurement.
    """
    reps = {name: calibrate(step, sync, round_s) for name, (step, sync) in engines.items()}
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(rounds):
        for name, (step, sync) in engines.items():
            samples[name].append(_batch(step, sync, reps[name]) / reps[name])
    return {
        name: Timing(statistics.median(s), min(s), max(s), reps[name], rounds)
        for name, s in samples.items()
    }


# ---------------------------------------------------------------------------------------------
# The cases: one forward + backward each, written three times (minigrad, PyTorch, NumPy)
# ---------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One benchmark case: its three implementations share the same input values."""

    name: str
    size: str  # "tiny" or "large"
    shape: str
    minigrad: Callable[[], Any]
    torch: Callable[[], Any] | None
    numpy: Callable[[], Any] | None
    # (minigrad grad, reference grad) pairs, the references hand-written and from PyTorch, to
    # compare once before timing
    check: Callable[[], list[tuple[Any, Any]]] = field(repr=False, default=lambda: [])


class Env:
    """Modules and helpers shared by the case builders."""

    def __init__(self, np: Any, mg: Any, xp: Any, torch: Any, torch_device: str | None) -> None:
        self.np, self.mg, self.xp, self.torch, self.torch_device = np, mg, xp, torch, torch_device
        self.rng = np.random.default_rng(0)

    def host(self, *shape: int) -> Any:
        """Float32 normal samples on the host (the single source of every case's inputs)."""
        return self.rng.standard_normal(shape, dtype=self.np.float32)

    def leaf(self, arr: Any) -> Any:
        return self.mg.tensor(arr, requires_grad=True)  # on the current minigrad backend

    def dev(self, arr: Any) -> Any:
        """The array on minigrad's device, for the hand-written baseline."""
        return self.xp.asarray(arr)

    def tleaf(self, arr: Any) -> Any:
        return self.torch.tensor(arr, device=self.torch_device, requires_grad=True)

    @staticmethod
    def thost(t: Any) -> Any:
        """A PyTorch tensor's values as a NumPy array."""
        return t.detach().cpu().numpy()


def case_matmul(env: Env, n: int, size: str) -> Case:
    np_a, np_b = env.host(n, n), env.host(n, n)
    a, b = env.leaf(np_a), env.leaf(np_b)
    xa, xb = env.dev(np_a), env.dev(np_b)
    xp = env.xp

    def run_mg() -> None:
        a.grad = b.grad = None
        (a @ b).sum().backward()

    def run_np() -> tuple[Any, Any]:
        c = xa @ xb
        c.sum()
        g = xp.ones_like(c)  # d(sum)/dc
        return g @ xb.T, xa.T @ g  # da = g b^T ; db = a^T g

    run_torch = None
    if env.torch is not None:
        ta, tb = env.tleaf(np_a), env.tleaf(np_b)

        def run_torch() -> None:
            ta.grad = tb.grad = None
            (ta @ tb).sum().backward()

    def check() -> list[tuple[Any, Any]]:
        run_mg()
        da, db = run_np()
        pairs = [(a.grad.array, da), (b.grad.array, db)]
        if run_torch is not None:
            run_torch()
            pairs += [(a.grad.array, env.thost(ta.grad)), (b.grad.array, env.thost(tb.grad))]
        return pairs

    return Case("matmul", size, f"({n},{n})@({n},{n})", run_mg, run_torch, run_np, check)


def case_softmax(env: Env, shape: tuple[int, ...], size: str) -> Case:
    np_x = env.host(*shape)
    x = env.leaf(np_x)
    xx = env.dev(np_x)
    xp = env.xp
    mg = env.mg

    def run_mg() -> None:
        x.grad = None
        mg.softmax(x, dim=-1).sum().backward()

    def run_np(upstream: Any = None) -> Any:
        y = xp.exp(xx - xx.max(axis=-1, keepdims=True))
        y /= y.sum(axis=-1, keepdims=True)
        y.sum()
        g = xp.ones_like(y) if upstream is None else upstream
        # dx = y (g - sum(g y)), with in-place updates to spare temporaries
        dx = g * y
        dx -= y * dx.sum(axis=-1, keepdims=True)
        return dx

    run_torch = None
    if env.torch is not None:
        tx = env.tleaf(np_x)

        def run_torch() -> None:
            tx.grad = None
            env.torch.softmax(tx, dim=-1).sum().backward()

    def check() -> list[tuple[Any, Any]]:
        # The gradient of sum(softmax(x)) is 0 (up to rounding), which would check nothing:
        # compare the gradients for a random upstream gradient instead.
        upstream = env.host(*shape)
        x.grad = None
        mg.softmax(x, dim=-1).backward(mg.tensor(upstream))
        pairs = [(x.grad.array, run_np(env.dev(upstream)))]
        if run_torch is not None:
            tx.grad = None
            env.torch.softmax(tx, dim=-1).backward(
                env.torch.tensor(upstream, device=env.torch_device)
            )
            pairs.append((x.grad.array, env.thost(tx.grad)))
        return pairs

    return Case(
        "softmax", size, "x".join(map(str, shape)) + ", dim=-1", run_mg, run_torch, run_np, check
    )


def case_layer_norm(env: Env, shape: tuple[int, ...], size: str) -> Case:
    d = shape[-1]
    np_x, np_w, np_b = env.host(*shape), env.host(d), env.host(d)
    x, w, b = env.leaf(np_x), env.leaf(np_w), env.leaf(np_b)
    xx, xw, xb = env.dev(np_x), env.dev(np_w), env.dev(np_b)
    xp, mg, eps = env.xp, env.mg, 1e-5

    def run_mg() -> None:
        x.grad = w.grad = b.grad = None
        mg.layer_norm(x, d, w, b, eps).sum().backward()

    def run_np() -> tuple[Any, Any, Any]:
        mu = xx.mean(axis=-1, keepdims=True)
        centered = xx - mu
        rstd = 1.0 / xp.sqrt((centered * centered).mean(axis=-1, keepdims=True) + eps)
        xhat = centered * rstd
        y = xhat * xw + xb
        y.sum()
        g = xp.ones_like(y)
        # dxhat = g w ; dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
        dxhat = g * xw
        dx = rstd * (
            dxhat
            - dxhat.mean(axis=-1, keepdims=True)
            - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
        )
        batch_axes = tuple(range(xx.ndim - 1))
        return dx, (g * xhat).sum(axis=batch_axes), g.sum(axis=batch_axes)

    run_torch = None
    if env.torch is not None:
        tx, tw, tb = env.tleaf(np_x), env.tleaf(np_w), env.tleaf(np_b)
        f = env.torch.nn.functional

        def run_torch() -> None:
            tx.grad = tw.grad = tb.grad = None
            f.layer_norm(tx, (d,), tw, tb, eps).sum().backward()

    def check() -> list[tuple[Any, Any]]:
        run_mg()
        dx, dw, db = run_np()
        pairs = [(x.grad.array, dx), (w.grad.array, dw), (b.grad.array, db)]
        if run_torch is not None:
            run_torch()
            pairs += [(p.grad.array, env.thost(t.grad)) for p, t in ((x, tx), (w, tw), (b, tb))]
        return pairs

    shape_text = "x".join(map(str, shape)) + f", w,b ({d},)"
    return Case("layer_norm", size, shape_text, run_mg, run_torch, run_np, check)


def case_cross_entropy(env: Env, n: int, classes: int, size: str) -> Case:
    np_logits = env.host(n, classes)
    np_target = env.rng.integers(0, classes, size=n, dtype=env.np.int64)
    logits, target = env.leaf(np_logits), env.mg.tensor(np_target)
    xl, xt = env.dev(np_logits), env.dev(np_target)
    xp, mg = env.xp, env.mg

    def run_mg() -> None:
        logits.grad = None
        mg.cross_entropy(logits, target).backward()  # mean over samples: already a scalar

    def run_np() -> Any:
        m = xl.max(axis=1, keepdims=True)
        e = xp.exp(xl - m)
        s = e.sum(axis=1, keepdims=True)
        logp = xl - (m + xp.log(s))
        rows = xp.arange(n)
        loss = -logp[rows, xt].mean()  # noqa: F841  (computed, as the other columns do)
        # dlogits = (softmax - onehot) / n
        d = e / s
        d[rows, xt] -= 1.0
        d *= 1.0 / n
        return d

    run_torch = None
    if env.torch is not None:
        tl = env.tleaf(np_logits)
        tt = env.torch.tensor(np_target, device=env.torch_device)
        f = env.torch.nn.functional

        def run_torch() -> None:
            tl.grad = None
            f.cross_entropy(tl, tt).backward()

    def check() -> list[tuple[Any, Any]]:
        run_mg()
        pairs = [(logits.grad.array, run_np())]
        if run_torch is not None:
            run_torch()
            pairs.append((logits.grad.array, env.thost(tl.grad)))
        return pairs

    return Case(
        "cross_entropy", size, f"({n},{classes}) int64 target", run_mg, run_torch, run_np, check
    )


def tiny_graph_loss(mg: Any, x: Any, w: Any, target: Any) -> Any:
    """The tiny graph's forward on the leaves x and w: layer_norm(x @ w), softmax(h * 2 + 1),
    tanh, cross_entropy. Returns the loss."""
    h = mg.layer_norm(x @ w, x.shape[-1])
    p = mg.softmax(h * 2 + 1, dim=-1)
    return mg.cross_entropy(mg.tanh(p), target)


def tiny_graph_minigrad(mg: Any, np_x: Any, np_w: Any, target: Any) -> tuple[Any, Any, Any]:
    """The tiny graph in minigrad, leaves made from host arrays, forward and backward. Returns
    the loss and the leaves (x, w)."""
    x, w = mg.tensor(np_x, requires_grad=True), mg.tensor(np_w, requires_grad=True)
    loss = tiny_graph_loss(mg, x, w, target)
    loss.backward()
    return loss, x, w


def tiny_graph_torch(torch: Any, np_x: Any, np_w: Any, target: Any, device: Any) -> tuple[Any, Any]:
    """The same graph in PyTorch, fresh leaves copied from host arrays as minigrad's are."""
    f = torch.nn.functional
    tx = torch.tensor(np_x, device=device, requires_grad=True)
    tw = torch.tensor(np_w, device=device, requires_grad=True)
    h = f.layer_norm(tx @ tw, (tx.shape[-1],))
    p = torch.softmax(h * 2 + 1, dim=-1)
    f.cross_entropy(torch.tanh(p), target).backward()
    return tx, tw


@functools.lru_cache(maxsize=64)  # made once, as minigrad's kernels keep their ones columns
def small_array_kernels(xp: Any, width: int, dtype: Any) -> tuple[Callable[..., Any], ...]:
    """The tricks minigrad's kernels use on small arrays, for the hand-written baselines: on NumPy
    a row sum is the product with a column of ones (one BLAS call, a third of
    ``add.reduce``'s time), a row max calls the ufunc's ``reduce`` (the ``max`` method adds a
    Python wrapper), matrix products go through ``dot``. Returns ``(row_sum, row_max, total,
    matmul)`` for rows of ``width`` elements of ``dtype``; the row reductions keep the last axis
    (shape ``(..., 1)``)."""
    if xp.__name__ != "numpy":  # CuPy: the methods
        row_sum = functools.partial(xp.sum, axis=-1, keepdims=True)
        row_max = functools.partial(xp.max, axis=-1, keepdims=True)
        return row_sum, row_max, xp.sum, xp.matmul
    ones = xp.ones((width, 1), dtype)

    def row_sum(v: Any) -> Any:
        return v.dot(ones)

    row_max = functools.partial(xp.maximum.reduce, axis=-1, keepdims=True)
    return row_sum, row_max, xp.add.reduce, xp.dot


def tiny_graph_by_hand(xp: Any, xx: Any, xw: Any, xt: Any) -> tuple[Any, Any, Any]:
    """The same forward (the loss value included) and backward written by hand with the array
    module ``xp`` (no graph, as the other cases' NumPy columns), tuned for small arrays as
    minigrad's kernels are (``small_array_kernels``; means multiply by 1/n, scalars are of the
    arrays' dtype). It is the floor under an engine built on minigrad's kernels: their
    arithmetic alone, no bookkeeping. (Arithmetic written for 8x8 arrays alone is cheaper:
    ``least_engine.TinyArrayEngine``.) Returns the loss and the gradients of x and w."""
    n, dtype = xx.shape[0], xx.dtype.type
    row_sum, row_max, total, matmul = small_array_kernels(xp, xx.shape[1], dtype)
    xx, xw = xp.array(xx), xp.array(xw)  # the leaves, copied as the engines copy theirs
    inv = dtype(1.0 / xx.shape[1])
    a = matmul(xx, xw)
    c = a - row_sum(a) * inv
    rstd = 1.0 / xp.sqrt(row_sum(c * c) * inv + dtype(1e-5))
    h = c * rstd
    z = h * dtype(2) + dtype(1)
    e = xp.exp(z - row_max(z))
    p = e / row_sum(e)
    y = xp.tanh(p)
    m = row_max(y)
    ey = xp.exp(y - m)
    s = row_sum(ey)
    rows = xp.arange(n)
    # the loss: mean of logsumexp(y) - y[i, t[i]]
    loss = total((m + xp.log(s))[:, 0] - y[rows, xt]) * dtype(1.0 / n)
    dy = ey * (dtype(1.0 / n) / s)  # d(mean cross-entropy)/dy = (softmax(y) - onehot) / n
    dy[rows, xt] -= dtype(1.0 / n)
    dp = dy * (1 - y * y)  # d tanh
    dz = p * (dp - row_sum(dp * p))  # d softmax
    dh = dz * dtype(2)
    # d layer_norm (no affine): rstd (dh - mean(dh) - h mean(dh h))
    da = rstd * (dh - row_sum(dh) * inv - h * (row_sum(dh * h) * inv))
    return loss, matmul(da, xw.T), matmul(xx.T, da)


def case_tiny_graph(env: Env, n: int, size: str) -> Case:
    """A small graph whose time is nearly all engine bookkeeping: the leaves are made inside the
    timed step, then layer_norm(x @ w), softmax(h * 2 + 1), tanh, cross_entropy, backward."""
    np_x, np_w = env.host(n, n), env.host(n, n)
    np_target = env.rng.integers(0, n, size=n, dtype=env.np.int64)
    xp, mg = env.xp, env.mg
    target = mg.tensor(np_target)
    xx, xw, xt = env.dev(np_x), env.dev(np_w), env.dev(np_target)
    results: list[Any] = []  # minigrad's loss, x and w

    def run_mg() -> None:
        results[:] = tiny_graph_minigrad(mg, np_x, np_w, target)

    def run_np() -> tuple[Any, Any, Any]:
        return tiny_graph_by_hand(xp, xx, xw, xt)

    run_torch = None
    if env.torch is not None:
        torch = env.torch
        tt = torch.tensor(np_target, device=env.torch_device)
        tleaves: list[Any] = []

        def run_torch() -> None:
            tleaves[:] = tiny_graph_torch(torch, np_x, np_w, tt, env.torch_device)

    def check() -> list[tuple[Any, Any]]:
        run_mg()
        loss, dx, dw = run_np()
        mg_loss, x, w = results
        pairs = [(mg_loss.array, loss), (x.grad.array, dx), (w.grad.array, dw)]
        if run_torch is not None:
            run_torch()
            tx, tw = tleaves
            pairs += [(x.grad.array, env.thost(tx.grad)), (w.grad.array, env.thost(tw.grad))]
        return pairs

    shape = f"({n},{n}) leaves made in the step, 7 ops"
    return Case("tiny_graph", size, shape, run_mg, run_torch, run_np, check)


def build_cases(env: Env) -> list[Case]:
    return [
        case_tiny_graph(env, 8, "tiny"),
        case_matmul(env, 8, "tiny"),
        case_softmax(env, (8, 8), "tiny"),
        case_layer_norm(env, (8, 8), "tiny"),
        case_cross_entropy(env, 8, 8, "tiny"),
        case_matmul(env, 1024, "large"),
        case_softmax(env, (64, 512, 512), "large"),
    ]


# ---------------------------------------------------------------------------------------------
# Setup: versions, threads, PyTorch's device
# ---------------------------------------------------------------------------------------------


def load_torch(backend: str, threads: int) -> tuple[Any, str | None, str]:
    """PyTorch (or None), the device to run it on, and a line saying what was chosen."""
    try:
        import torch  # noqa: PLC0415  (an optional oracle, imported only by this benchmark)
    except ImportError:
        return None, None, "PyTorch is not installed: its columns are left empty"
    torch.set_num_threads(threads)
    if backend == "cupy":
        if not torch.cuda.is_available():
            return (
                None,
                None,
                "PyTorch has no CUDA device here: skipping the PyTorch comparison on the GPU",
            )
        return torch, "cuda", f"PyTorch on cuda ({torch.cuda.get_device_name()})"
    return torch, "cpu", "PyTorch on the CPU"


def max_rel_error(got: Any, want: Any, np: Any, to_host: Callable[[Any], Any]) -> float:
    got, want = (
        np.asarray(to_host(got), dtype=np.float64),
        np.asarray(to_host(want), dtype=np.float64),
    )
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-12))


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


COLUMNS = (
    ("case", "<"),
    ("shape", "<"),
    ("minigrad", ">"),
    ("PyTorch", ">"),
    ("NumPy", ">"),
    ("mg/torch", ">"),
    ("overhead", ">"),
    ("ovh/torch", ">"),
)


def print_table(rows: list[dict[str, Any]], baseline_name: str) -> None:
    headers = [name if name != "NumPy" else baseline_name for name, _ in COLUMNS]
    cells = [
        [
            r["case"],
            r["shape"],
            fmt_time(r["minigrad_s"]),
            fmt_time(r["torch_s"]),
            fmt_time(r["numpy_s"]),
            fmt_ratio(r["minigrad_over_torch"]),
            fmt_time(r["overhead_s"]),
            fmt_ratio(r["overhead_over_torch"]),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(f"{v:{align}{w}}" for v, (_, align), w in zip(values, COLUMNS, widths))

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    size = None
    for r, c in zip(rows, cells):
        if size is not None and r["size"] != size:
            print()
        size = r["size"]
        print(line(c))


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    thread_env = set_thread_env(args.threads)

    import numpy as np  # noqa: PLC0415  (after the thread variables are set)

    try:
        import minigrad as mg  # noqa: PLC0415
    except ImportError:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(REPO_ROOT))
        import minigrad as mg  # noqa: PLC0415

    try:
        mg.set_backend(args.backend)
    except mg.BackendError as err:
        print(f"cannot use the {args.backend} backend: {err}", file=sys.stderr)
        return 2

    torch, torch_device, torch_note = load_torch(args.backend, args.threads)
    if args.backend == "cupy":
        import cupy  # noqa: PLC0415  (mg.set_backend succeeded, so it imports)

        xp = cupy
        baseline_name = "CuPy"

        def sync_mg() -> None:
            cupy.cuda.Device().synchronize()
    else:
        xp = np
        baseline_name = "NumPy"

        def sync_mg() -> None:
            pass

    def sync_torch() -> None:
        if torch_device == "cuda":
            torch.cuda.synchronize()

    round_s, rounds = (0.01, 3) if args.quick else (0.1, 7)

    meta = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "minigrad": mg.__version__,
        "minigrad_backend": mg.get_backend(),
        "torch_device": torch_device,
        "threads": args.threads,
        "thread_env": thread_env,
        "torch_num_threads": None if torch is None else torch.get_num_threads(),
        "torch_interop_threads": None if torch is None else torch.get_num_interop_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "quick": args.quick,
        "round_seconds": round_s,
        "rounds": rounds,
    }
    print(f"python {meta['python']} on {meta['platform']}, {meta['cpu_count']} CPUs")
    print(
        f"numpy {meta['numpy']}   torch {meta['torch'] or '(not installed)'}   "
        f"minigrad {meta['minigrad']} (backend: {meta['minigrad_backend']})"
    )
    env_text = " ".join(f"{k}={v}" for k, v in thread_env.items())
    torch_threads = (
        "-"
        if torch is None
        else f"{meta['torch_num_threads']} (interop {meta['torch_interop_threads']})"
    )
    print(f"threads: {env_text}   torch.get_num_threads()={torch_threads}")
    print(torch_note)
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = "  (other processes are busy: expect noisy timings)" if load > 0.5 else ""
        print(f"load average (1 min) before starting: {load:.2f}{busy}")
    print(
        f"timing: median of {rounds} rounds of ~{round_s * 1e3:.0f} ms each, per iteration; "
        "one iteration = reset .grad, op, sum, backward (float32)"
    )
    print()

    env = Env(np, mg, xp, torch, torch_device)
    cases = build_cases(env)
    rows = []
    warnings: list[str] = []
    progress = sys.stderr.isatty()
    for case in cases:
        # one correctness check of minigrad's gradients before timing anything
        worst = max(max_rel_error(got, want, np, mg.backend.to_host) for got, want in case.check())
        if worst > 1e-4:
            warnings.append(
                f"WARNING: {case.name} {case.shape}: minigrad's result (loss or gradient) differs from the "
                f"reference (max relative error {worst:.2e})"
            )
        if progress:
            print(f"  timing {case.name} {case.shape} ...", file=sys.stderr, flush=True)
        engines = {"minigrad": (case.minigrad, sync_mg)}
        if case.torch is not None:
            engines["torch"] = (case.torch, sync_torch)
        if case.numpy is not None:
            engines["numpy"] = (case.numpy, sync_mg)
        timings = measure(engines, round_s, rounds)
        t_mg, t_torch, t_np = timings["minigrad"], timings.get("torch"), timings.get("numpy")
        mg_s = t_mg.median
        torch_s = t_torch.median if t_torch else None
        np_s = t_np.median if t_np else None
        overhead = mg_s - np_s if (np_s is not None and case.size == "tiny") else None
        rows.append(
            {
                "case": case.name,
                "size": case.size,
                "shape": case.shape,
                "minigrad_s": mg_s,
                "torch_s": torch_s,
                "numpy_s": np_s,
                "minigrad_over_torch": mg_s / torch_s if torch_s else None,
                "overhead_s": overhead,
                "overhead_over_torch": overhead / torch_s
                if (overhead is not None and torch_s)
                else None,
                "grad_max_rel_error": worst,
                "timings": {
                    "minigrad": asdict(t_mg),
                    "torch": asdict(t_torch) if t_torch else None,
                    "numpy": asdict(t_np) if t_np else None,
                },
            }
        )

    print_table(rows, baseline_name)
    print()
    print(
        f"overhead = minigrad - {baseline_name} (tiny ops only): the engine's bookkeeping per "
        "forward+backward; ovh/torch = that overhead as a share of PyTorch's whole time."
    )
    references = "the hand-written ones" + (" and PyTorch's" if torch is not None else "")
    print(
        f"minigrad's gradients checked against {references} before timing: worst relative "
        f"error {max(r['grad_max_rel_error'] for r in rows):.1e}"
    )
    for line in warnings:
        print(line)

    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
