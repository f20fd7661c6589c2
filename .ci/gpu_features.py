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
``docs`` (every page of the documentation executed with CuPy as the backend) and
``adam-kernel`` (the fused Adam step against the NumPy formula).
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
