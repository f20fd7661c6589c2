"""The features that landed after .ci/gpu-check was first written, checked on the CuPy backend
in one process (issue 17). Each check prints one line, ``ok NAME: figures`` or
``FAIL NAME: why`` (with the traceback after it); the exit status is the number that failed.

    MINIGRAD_BACKEND=cupy python .ci/gpu_features.py [NAME ...]

Checks: ``second-order`` (double backward, gradcheck and gradgradcheck on CuPy float64 arrays,
and a Hessian-vector product against the NumPy backend's), ``recompute-memory``
(``minigrad.checkpoint`` on the GPU: the memory pool's peak with and without it, and the same
gradients), ``checkpoint-round-trip`` (a model and its Adam state saved on the GPU, loaded on
the CPU, one more step on each), ``nccl`` (``init_process_group("nccl")`` with one rank: the
collectives and a DistributedDataParallel step, tests/mpi_scripts/nccl_one_rank.py),
``docs`` (every page of the documentation executed with CuPy as the backend),
``adam-kernel`` (the fused Adam step against the NumPy formula) and ``cupy-audit`` (session
11's ops, mathops to conv, on CuPy against the NumPy backend: values, dtypes, gradients).
"""

from __future__ import annotations

import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import minigrad as mg  # noqa: E402
import nn  # noqa: E402

CHECKS: dict[str, Callable[[], str]] = {}


def check(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def register(fn: Callable[[], str]) -> Callable[[], str]:
        CHECKS[name] = fn
        return fn

    return register


def _on_gpu(*tensors: mg.Tensor) -> None:
    for t in tensors:
        assert t.device.startswith("cuda"), f"a tensor is on {t.device}, not the GPU"
        assert type(t.array).__module__.startswith("cupy"), type(t.array)


@check("second-order")
def second_order() -> str:
    rng = np.random.default_rng(0)

    def leaf(*shape: int) -> mg.Tensor:
        return mg.tensor(rng.standard_normal(shape), dtype=mg.float64, requires_grad=True)

    x, w, b = leaf(4, 5), leaf(5, 3), leaf(3)
    ids = mg.tensor(rng.integers(0, 3, size=4))
    _on_gpu(x, w, b, ids)
    functions = {
        "tanh(x @ w + b)": lambda x, w, b: mg.tanh(x @ w + b),
        "softmax": lambda x, w, b: mg.softmax(x @ w, dim=-1) * b,
        "log_softmax": lambda x, w, b: mg.log_softmax(x @ w + b, dim=0),
        "layer_norm": lambda x, w, b: mg.layer_norm(x @ w, (3,), b, b),
        "gelu": lambda x, w, b: mg.gelu(x @ w) * b,
        "cross_entropy": lambda x, w, b: mg.cross_entropy(x @ w + b, ids),
        "exp, sqrt, pow": lambda x, w, b: (mg.exp(x).sum(0) @ w).pow(2) + mg.sqrt(b * b + 1),
    }
    for name, fn in functions.items():
        assert mg.gradcheck(fn, (x, w, b)), name
        assert mg.gradgradcheck(fn, (x, w, b)), name
    # a Hessian-vector product through create_graph, against the same on the NumPy backend
    hvps = []
    for backend in ("cupy", "numpy"):
        mg.set_backend(backend)
        xs = [mg.tensor(t.numpy(), requires_grad=True) for t in (x, w, b)]
        v = [mg.tensor(np.ones(t.shape)) for t in xs]
        loss = mg.cross_entropy(mg.tanh(xs[0] @ xs[1]) + xs[2], mg.tensor(ids.numpy()))
        grads = mg.grad(loss, xs, create_graph=True)
        dot = sum((g * u).sum() for g, u in zip(grads, v))
        hv = mg.grad(dot, xs)
        if backend == "cupy":
            _on_gpu(*grads, *hv)
        hvps.append([h.numpy() for h in hv])
    mg.set_backend("cupy")
    worst = max(float(np.max(np.abs(a - c))) for a, c in zip(*hvps))
    assert worst < 1e-12, f"the Hessian-vector products differ by {worst:.3g}"
    return (
        f"gradcheck and gradgradcheck of {len(functions)} functions in float64 on CuPy; "
        f"Hessian-vector product within {worst:.2g} of NumPy's"
    )


class _PoolPeak:
    """The most bytes CuPy's default memory pool had handed out at once while active."""

    def __init__(self) -> None:
        import cupy

        self.cupy = cupy
        self.pool = cupy.get_default_memory_pool()

    def __enter__(self) -> _PoolPeak:
        from cupy.cuda import memory_hook

        peak = self

        class Hook(memory_hook.MemoryHook):
            name = "minigrad_peak"

            def malloc_postprocess(self, **kw: int) -> None:
                peak.now += kw["mem_size"]
                peak.peak = max(peak.peak, peak.now)

            def free_postprocess(self, **kw: int) -> None:
                peak.now -= kw["mem_size"]

        self.cupy.cuda.Device().synchronize()
        self.now = self.peak = self.start = int(self.pool.used_bytes())
        self.hook = Hook()
        self.hook.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cupy.cuda.Device().synchronize()
        self.hook.__exit__(*exc)

    @property
    def extra(self) -> int:
        """The peak above what was in use when the block began."""
        return self.peak - self.start


@check("recompute-memory")
def recompute_memory() -> str:
    mg.manual_seed(0)
    width, depth, rows = 256, 8, 8192  # activations, not weights, fill the memory
    blocks = [
        nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        for _ in range(depth)
    ]
    params = [p for block in blocks for p in block.parameters()]
    x = mg.randn(rows, width, requires_grad=True)
    _on_gpu(x, *params)
    peaks, grads, seconds = {}, {}, {}
    for use in (False, True, False, True):  # the first pair warms CuPy's kernels
        for p in [x, *params]:
            p.grad = None
        mg.backend.array_module(x.array).get_default_memory_pool().free_all_blocks()
        start = time.perf_counter()
        with _PoolPeak() as peak:
            h = x
            for block in blocks:
                h = mg.checkpoint(block, h) if use else block(h)
            h.pow(2).mean().backward()
        seconds[use] = time.perf_counter() - start
        peaks[use] = peak.extra
        grads[use] = [t.grad.numpy() for t in (x, *params)]
    worst = max(float(np.max(np.abs(a - c))) for a, c in zip(grads[False], grads[True]))
    assert worst == 0.0, f"checkpointed gradients differ from plain ones by {worst:.3g}"
    assert peaks[True] < 0.6 * peaks[False], f"pool peaks (bytes): {peaks}"
    mib = 1 << 20
    return (
        f"{depth} blocks of Linear({width}, {4 * width}) GELU Linear on ({rows}, {width}) float32: "
        f"pool peak of forward+backward {peaks[False] / mib:.0f} MiB plain, "
        f"{peaks[True] / mib:.0f} MiB checkpointed ({peaks[True] / peaks[False]:.2f}x), "
        f"step {seconds[False] * 1e3:.1f} ms vs {seconds[True] * 1e3:.1f} ms; "
        "gradients bit-identical"
    )


@check("checkpoint-round-trip")
def checkpoint_round_trip() -> str:
    import tempfile

    from nn.checkpoint import load, save

    mg.manual_seed(0)

    def make() -> tuple[nn.Module, nn.optim.Adam]:
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
        return model, nn.optim.Adam(model.parameters(), lr=1e-2)

    def step(model: nn.Module, opt: nn.optim.Adam, x: np.ndarray, y: np.ndarray) -> float:
        device = next(iter(model.parameters())).device
        opt.zero_grad()
        loss = mg.cross_entropy(model(mg.tensor(x, device=device)), mg.tensor(y, device=device))
        loss.backward()
        opt.step()
        return float(loss.item())

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6)).astype("float32")
    y = rng.integers(0, 3, size=8)
    gpu_model, gpu_opt = make()
    _on_gpu(*gpu_model.parameters())
    for _ in range(3):
        step(gpu_model, gpu_opt, x, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ckpt"
        save({"model": gpu_model.state_dict(), "opt": gpu_opt.state_dict(), "step": 3}, path)
        state = load(path, device="cpu")
    assert state["step"] == 3
    cpu_model, cpu_opt = make()
    cpu_model.to("cpu")
    cpu_opt = nn.optim.Adam(cpu_model.parameters(), lr=1e-2)
    cpu_model.load_state_dict(state["model"])
    cpu_opt.load_state_dict(state["opt"])
    for (name, a), b in zip(gpu_model.state_dict().items(), cpu_model.state_dict().values()):
        assert b.device == "cpu", name
        assert np.array_equal(a.numpy(), b.numpy()), f"{name} changed in the round trip"
    gpu_loss, cpu_loss = step(gpu_model, gpu_opt, x, y), step(cpu_model, cpu_opt, x, y)
    worst = max(
        float(np.max(np.abs(a.numpy() - b.numpy())))
        for a, b in zip(gpu_model.parameters(), cpu_model.parameters())
    )
    assert abs(gpu_loss - cpu_loss) < 1e-5 and worst < 1e-5, (gpu_loss, cpu_loss, worst)
    return (
        "model + Adam state saved on the GPU, loaded on the CPU bit-identical; the next step's "
        f"loss {gpu_loss:.6f} (GPU) vs {cpu_loss:.6f} (CPU), weights within {worst:.2g}"
    )


@check("adam-kernel")
def adam_kernel() -> str:
    """backend.adam_step_fused (one kernel per parameter on the GPU) against nn.optim's
    formula run by NumPy, over a few steps with the same gradients."""
    rng = np.random.default_rng(0)
    worst = {}
    for dtype in ("float32", "float64"):
        start = rng.standard_normal((64, 33)).astype(dtype)
        grads = [rng.standard_normal((64, 33)).astype(dtype) for _ in range(4)]
        params = {}
        for device in ("cuda:0", "cpu"):
            p = nn.Parameter(mg.tensor(start, device=device))
            opt = nn.optim.Adam([p], lr=1e-2, weight_decay=0.01)
            for g in grads:
                p.grad = mg.tensor(g, device=device)
                opt.step()
            params[device] = p.numpy()
        scale = np.max(np.abs(params["cpu"] - start))
        worst[dtype] = float(np.max(np.abs(params["cuda:0"] - params["cpu"]))) / scale
    assert worst["float32"] < 1e-5 and worst["float64"] < 1e-12, worst
    return (
        "fused Adam kernel vs the NumPy formula over 4 steps: largest difference / largest "
        f"update {worst['float32']:.2g} (float32), {worst['float64']:.2g} (float64)"
    )


@check("nccl")
def nccl() -> str:
    script = ROOT / "tests" / "mpi_scripts" / "nccl_one_rank.py"
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    tail = (result.stdout + result.stderr).strip().splitlines()[-15:]
    assert result.returncode == 0 and "ok nccl" in result.stdout, "\n".join(tail)
    return "init_process_group('nccl'), one rank: collectives and a DDP step match plain training"


@check("docs")
def docs() -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    import test_docs

    ran, same, differ, failed = 0, 0, [], []
    for page in test_docs.PAGES:
        mg.set_backend("cupy")
        mg.manual_seed(0)
        name = str(page.relative_to(ROOT))
        try:
            results = test_docs.run_page(page)
        except Exception as err:  # noqa: BLE001  (reported, and the check fails)
            failed.append(f"{name}: {type(err).__name__}: {err}")
            continue
        ran += 1
        mismatch = []
        for block, expected, printed in results:
            if expected is None:
                continue
            want, got = test_docs.normalize(expected.code), test_docs.normalize(printed)
            if want != got:
                pairs = [(w, g) for w, g in zip(want.split("\n"), got.split("\n")) if w != g]
                w, g = pairs[0] if pairs else (want[-80:], got[-80:])
                mismatch.append(f"line {block.start + 1}: page {w.strip()!r}, CuPy {g.strip()!r}")
        if mismatch:
            differ.append(f"{name}: " + "; ".join(mismatch))
        else:
            same += 1
    mg.set_backend("cupy")
    for line in differ:  # device names and GPU rounding: shown for the reader, not a failure
        print(f"   printed output differs from the page's (numpy) output: {line}")
    assert not failed, "\n".join(failed)
    return f"{ran} pages ran on CuPy; {same} printed exactly what the page shows"


# ---------------------------------------------------------------------------------------------
# cupy-audit: session 11's ops on CuPy against the NumPy backend (tests/test_cupy_audit.py
# has the static audit; this runs the ops themselves on the GPU)
# ---------------------------------------------------------------------------------------------
_INF, _NAN = float("inf"), float("nan")
_EDGES = np.array([-_INF, -3.3, -2.5, -1.0, -0.0, 0.0, 1e-9, 0.5, 1.0, 3.7, 25.0, _INF, _NAN])
_UNIT = np.array([-1.0, -0.999, -0.5, -0.0, 0.0, 0.3, 0.999, 1.0, 1.5, _NAN])
_AUDIT_DEVICE = "cuda:0"  # a dry run of the cases on a machine without a GPU sets "cpu"


def _audit_cases() -> list[tuple[str, Callable, tuple, str]]:
    """(name, function of tensors, host inputs, kind): kind "grad" compares the outputs and
    the gradients of the float inputs, "value" the outputs, "random" shapes and dtypes only."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 37))
    x_nan = x.copy()
    x_nan[1, 5] = x_nan[2, 30] = _NAN
    y = rng.standard_normal((4, 37)) + 2.0
    p = rng.uniform(0.05, 0.95, (4, 37))
    pos = rng.uniform(0.5, 4.0, (4, 37))
    ids = rng.integers(0, 6, 40)
    ints = rng.integers(-20, 20, (3, 8))
    long = rng.standard_normal((2, 3000))
    img = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    kernel = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    cases: list[tuple[str, Callable, tuple, str]] = []
    for name in ("log1p", "expm1", "log10", "tan", "sinh", "cosh", "atan", "asinh", "sinc",
                 "reciprocal", "square", "frac", "erfc", "lgamma", "digamma"):  # fmt: skip
        fn = getattr(mg, name)
        cases.append((name, fn, (pos,), "grad"))
        for dtype in ("float16", "float32", "float64"):
            cases.append((f"{name} {dtype} edges", fn, (_EDGES.astype(dtype),), "value"))
    for name, inputs in (("asin", (p,)), ("acos", (p,)), ("atanh", (p,)), ("logit", (p,)),
                         ("erfinv", (p * 2 - 1,)), ("acosh", (pos + 1,))):  # fmt: skip
        cases.append((name, getattr(mg, name), inputs, "grad"))
        cases.append((f"{name} edges", getattr(mg, name), (_UNIT.astype("float32"),), "value"))
    for n in (1, 2, 3):
        cases.append((f"polygamma({n})", lambda t, n=n: mg.polygamma(n, t), (pos,), "grad"))
        for dtype in ("float16", "float32", "float64"):
            edges = _EDGES.astype(dtype)
            cases.append((f"polygamma({n}) {dtype} edges", lambda t, n=n: mg.polygamma(n, t),
                          (edges,), "value"))  # fmt: skip
    for name in ("signbit", "isposinf", "isneginf", "nan_to_num", "deg2rad", "sgn"):
        cases.append((name, getattr(mg, name), (_EDGES,), "value"))
    for name in ("atan2", "hypot", "fmod", "fmax", "fmin", "copysign", "logaddexp2", "xlogy"):
        cases.append((name, getattr(mg, name), (x, y), "grad"))
    cases += [
        ("xlogy with a number", lambda a: mg.xlogy(a, 2.5), (x,), "grad"),
        ("fmax with NaN", mg.fmax, (x_nan, y), "value"),
        ("float_power", lambda a, b: mg.float_power(a, b), (pos, x), "grad"),
        ("ldexp", lambda a: mg.ldexp(a, 3), (x,), "grad"),
        (
            "heaviside",
            lambda a: mg.heaviside(a, mg.tensor(0.5, device=a.device)),
            (_EDGES,),
            "value",
        ),  # fmt: skip
        ("isin", mg.isin, (ints, ints[0]), "value"),
        ("logical_xor", mg.logical_xor, (ints, ints[::-1]), "value"),
        ("gcd", mg.gcd, (ints, ints[::-1]), "value"),
        ("lcm", mg.lcm, (ints, ints[::-1]), "value"),
        ("nansum", lambda a: mg.nansum(a, 1), (x_nan,), "grad"),
        ("nanmean", lambda a: mg.nanmean(a, 0), (x_nan,), "grad"),
        ("cumprod", lambda a: mg.cumprod(a, 1), (np.where(x > 1, 0.0, x),), "grad"),
        ("cummax long", lambda a: mg.cummax(a, 1), (long,), "grad"),
        ("cummin with NaN", lambda a: mg.cummin(a, 1), (x_nan,), "grad"),
        ("logcumsumexp long", lambda a: mg.logcumsumexp(a, 1), (long,), "grad"),
        ("median", lambda a: mg.median(a, 1), (x,), "grad"),
        ("median of all", mg.median, (x,), "grad"),
        ("nanmedian", lambda a: mg.nanmedian(a, 1), (x_nan,), "value"),
        ("count_nonzero", lambda a: mg.count_nonzero(a, 0), (ints,), "value"),
        ("aminmax", lambda a: mg.aminmax(a, dim=1), (x,), "grad"),
        ("std_mean", lambda a: mg.std_mean(a, 1), (x,), "grad"),
        ("diff", lambda a: mg.diff(a, 2, 1), (x,), "grad"),
        (
            "unique",
            lambda a: mg.unique(a, return_inverse=True, return_counts=True),
            (ids,),
            "value",
        ),  # fmt: skip
        ("unique with NaN", mg.unique, (np.array([1.0, _NAN, 1.0, _NAN, 0.0]),), "value"),
        (
            "unique dim",
            lambda a: mg.unique(a, dim=0, return_inverse=True),
            (np.array([[1, 2], [0, 5], [1, 2], [0, 4]]),),
            "value",
        ),  # fmt: skip
        (
            "unique_consecutive",
            lambda a: mg.unique_consecutive(a, return_counts=True),
            (np.sort(ids),),
            "value",
        ),  # fmt: skip
        ("searchsorted", lambda a, b: mg.searchsorted(a, b), (np.sort(x, 1), y), "value"),
        (
            "searchsorted sorter",
            lambda a, b, s: mg.searchsorted(a, b, sorter=s),
            (x[0], y[0], np.argsort(x[0])),
            "value",
        ),  # fmt: skip
        ("bucketize", mg.bucketize, (y, np.linspace(-2, 4, 9)), "value"),
        ("bincount", lambda a: mg.bincount(a, minlength=9), (ids,), "value"),
        (
            "bincount of nothing",
            lambda a: mg.bincount(a, minlength=3),
            (np.zeros(0, np.int64),),
            "value",
        ),  # fmt: skip
        (
            "bincount weights float16",
            mg.bincount,
            (ids, long[0, :40].astype(np.float16)),
            "value",
        ),  # fmt: skip
        ("histc", lambda a: mg.histc(a, 7, -1, 1), (x.astype(np.float32),), "value"),
        (
            "histc of nothing",
            lambda a: mg.histc(a, 4, 10, 11),
            (x.astype(np.float32),),
            "value",
        ),  # fmt: skip
        ("kthvalue", lambda a: mg.kthvalue(a, 3, 1), (x,), "grad"),
        ("mode", lambda a: mg.mode(a, 1), (ints,), "value"),
        ("msort", mg.msort, (x,), "grad"),
        (
            "index_put accumulate int64",
            lambda a, i, v: mg.index_put(a, (i,), v, True),
            (np.zeros(6, np.int64), ids[:10], ids[10:20]),
            "value",
        ),  # fmt: skip
        (
            "scatter_add int8",
            lambda a, i, v: a.scatter_add(0, i, v),
            (np.zeros(6, np.int8), ids[:10], ids[10:20].astype(np.int8)),
            "value",
        ),  # fmt: skip
        ("masked_scatter", lambda a, m, s: mg.masked_scatter(a, m, s), (x, x > 0, y), "grad"),
        ("renorm", lambda a: mg.renorm(a, 2, 0, 3.0), (x,), "grad"),
        ("cov", mg.cov, (x[:3],), "grad"),
        ("trapezoid", lambda a: mg.trapezoid(a, dim=1), (x,), "grad"),
        (
            "tensor_split",
            lambda a, s: mg.tensor_split(a, s, 1),
            (x, np.array([3, 10])),
            "grad",
        ),  # fmt: skip
        ("unravel_index", lambda i: mg.unravel_index(i, (3, 4)), (ids,), "value"),
        ("cartesian_prod", mg.cartesian_prod, (x[0, :3], y[0, :4]), "grad"),
        (
            "conv2d",
            lambda a, w: mg.conv2d(a, w, stride=(2, 1), padding=1, dilation=(1, 2)),
            (img, kernel),
            "grad",
        ),  # fmt: skip
        (
            "max_pool2d",
            lambda a: mg.max_pool2d(a, 3, 2, 1, return_indices=True),
            (img,),
            "grad",
        ),  # fmt: skip
        (
            "avg_pool2d",
            lambda a: mg.ops.avg_pool2d(a, 2, 1, count_include_pad=False),
            (img,),
            "grad",
        ),  # fmt: skip
        (
            "adaptive_avg_pool2d",
            lambda a: mg.ops.adaptive_avg_pool2d(a, (4, 3)),
            (img,),
            "grad",
        ),  # fmt: skip
        ("randperm", lambda a: mg.randperm(50, device=a.device), (x,), "random"),
        ("multinomial", lambda a: mg.multinomial(a, 3), (pos,), "random"),
        ("normal", lambda a: mg.normal(a, 1.0), (x,), "random"),
        ("tril_indices", lambda a: mg.tril_indices(4, 5, 1, device=a.device), (x,), "value"),
        ("logspace", lambda a: mg.logspace(0, 2, 5, device=a.device), (x,), "value"),
    ]
    return cases


def _audit_run(fn: Callable, arrays: tuple, device: str, kind: str) -> list[np.ndarray]:
    """The outputs of ``fn`` on ``device`` (and the gradients of its float inputs), on the
    host."""
    inputs = [
        mg.tensor(a, device=device, requires_grad=kind == "grad" and a.dtype.kind == "f")
        for a in arrays
    ]
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for t in outs:
        assert t.device == device, f"an output on {t.device}, not {device}"
    results = [t.numpy() for t in outs]
    if kind == "grad":
        floats = [t for t in outs if t.dtype.kind == "f" and t.requires_grad]
        sum(((t * t).sum() for t in floats), mg.tensor(0.0, device=device)).backward()
        results += [t.grad.numpy() for t in inputs if t.requires_grad]
    return results


def _audit_compare(want: list[np.ndarray], got: list[np.ndarray], kind: str) -> None:
    assert len(want) == len(got), f"{len(got)} results, NumPy's backend gives {len(want)}"
    for w, g in zip(want, got):
        assert (g.shape, g.dtype) == (w.shape, w.dtype), (
            f"{g.shape} {g.dtype}, not {w.shape} {w.dtype}"
        )
        if kind == "random":
            continue
        tol = {"float16": 2e-3, "float32": 2e-5}.get(str(w.dtype), 1e-9)
        assert np.array_equal(np.isnan(g), np.isnan(w)) if w.dtype.kind == "f" else True, (g, w)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)


@check("cupy-audit")
def cupy_audit() -> str:
    """Each op the CuPy audit of session 11 read (mathops, binarymath, statistics, search,
    shape_breadth, creation_breadth, conv) on CuPy and on the NumPy backend: the same
    values, dtypes and gradients (shapes and dtypes for the random ones). The cases of the
    breakages the audit found run first; none starts after _AUDIT_DEADLINE_S seconds of this
    script (each new kernel compiles on a fresh machine), so the features stage ends in time
    and says how many ran."""
    cases = sorted(_audit_cases(), key=lambda case: not any(w in case[0] for w in _AUDIT_FIRST))
    failed, ran = [], 0
    for name, fn, arrays, kind in cases:
        if time.perf_counter() - _STARTED > _AUDIT_DEADLINE_S:
            break
        ran += 1
        try:
            mg.manual_seed(0)
            want = _audit_run(fn, arrays, "cpu", kind)
            got = _audit_run(fn, arrays, _AUDIT_DEVICE, kind)
            _audit_compare(want, got, kind)
        except Exception as err:  # noqa: BLE001  (every case reports; the check fails after)
            failed.append(f"{name}: {type(err).__name__}: {str(err).strip()[:300]}")
    assert not failed, f"{len(failed)} of {ran} cases differ:\n" + "\n".join(failed)
    rest = "" if ran == len(cases) else f" (the other {len(cases) - ran} did not start in time)"
    return f"{ran} cases of session 11's ops on CuPy match the NumPy backend{rest}"


_STARTED = time.perf_counter()
_AUDIT_DEADLINE_S = 125.0  # the features stage of .ci/gpu-check has 150 s
# words in the names of the cases that check what the audit fixed (run before the others)
_AUDIT_FIRST = ("nothing", "unique dim", "polygamma", "float16", "int8", "int64", "long",
                "conv2d", "pool")  # fmt: skip


def main(names: list[str]) -> int:
    if mg.get_backend() != "cupy":
        print("run with MINIGRAD_BACKEND=cupy on a machine with a CUDA GPU")
        return 2
    failures = 0
    for name in names or list(CHECKS):
        start = time.perf_counter()
        try:
            message = CHECKS[name]()
        except Exception:  # noqa: BLE001  (each check reports, the others still run)
            failures += 1
            print(f"FAIL {name} ({time.perf_counter() - start:.1f} s):", flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            print(f"ok {name} ({time.perf_counter() - start:.1f} s): {message}", flush=True)
        finally:
            mg.set_backend("cupy")
    return failures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
