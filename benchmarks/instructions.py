"""Instructions per call of tiny graphs in minigrad, beside PyTorch and hand-written NumPy,
counted by Valgrind (no timing noise: the same tree gives the same count run after run).

    python benchmarks/instructions.py              # every case (about 3 min)
    python benchmarks/instructions.py tiny_graph   # some cases by name
    python benchmarks/instructions.py tiny_graph tiny_graph_forward tiny_graph_no_grad \
        tiny_graph_apply tiny_graph_kept_leaves    # where the tiny graph's bookkeeping goes
    python benchmarks/instructions.py tiny_graph_pytorch tiny_graph_tiny_array_engine \
        tiny_graph_checked_none tiny_graph_checked_a tiny_graph_checked_ab \
        tiny_graph_checked_abc tiny_graph_checked_abcd tiny_graph_checked_abcde \
        tiny_graph_checked_abcdef                  # what each of minigrad's features costs

On a shared machine wall-clock timings of microsecond ops move by 20% from run to run; the
instruction count does not, so it shows what a change to the engine's hot path saves or costs
per op. It counts instructions only (not cache misses or the cost of each instruction), so use
it beside ``benchmarks/ops.py``, not instead of it.

How: each case runs in a child Python under ``valgrind --tool=callgrind``, with BLAS on one
thread, address randomization off (``setarch -R``) and ``PYTHONHASHSEED=0``. The child warms the
case up, then calls it N times between two marker calls (``os.getppid`` and ``os.getpgrp``);
callgrind zeroes its counters at the first marker and dumps them at the second, so start-up and
import are not counted. Needs ``valgrind`` and ``setarch`` (Debian: ``apt install valgrind``).
PyTorch is imported only in its own case, as an oracle.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CASES = (
    "tanh",  # one forward, 8x8, input requires grad
    "matmul",  # x @ w forward
    "matmul_sum_backward",  # (x @ w).sum().backward()
    "tanh_chain",  # ten tanh, sum, backward
    "tiny_graph",  # benchmarks/ops.py's tiny_graph: leaves made in the step, 7 ops, backward
    "tiny_graph_numpy",  # the same forward and backward written by hand in NumPy
    "tiny_graph_least_engine",  # the same on benchmarks/least_engine.py's featureless engine
    "tiny_graph_tiny_array_engine",  # that engine with arithmetic written for 8x8 arrays
    "tiny_graph_pytorch",  # the same graph in PyTorch (1 thread)
)
# The tiny graph with one part of minigrad's bookkeeping left out each: what each part costs
# (``python benchmarks/instructions.py tiny_graph`` and these prints the difference to each).
LEDGER = {
    "tiny_graph_no_grad": "recording the graph (the forward under no_grad, no backward)",
    "tiny_graph_forward": "backward and freeing the graph (the forward alone, recorded)",
    "tiny_graph_apply": "the public functions' checks and dispatch (each op's apply called)",
    "tiny_graph_kept_leaves": "two fresh leaves a step (the same two leaves every step)",
}
TINY = (
    "tiny_graph",
    "tiny_graph_numpy",
    "tiny_graph_least_engine",
    "tiny_graph_tiny_array_engine",
    "tiny_graph_pytorch",
)
# The tiny graph on benchmarks/least_engine.py's checked engine, level by level (the
# tiny-array engine plus minigrad's features a, b, ... one at a time: least_engine.FEATURES)
CHECKED = {
    f"tiny_graph_checked_{level or 'none'}": level
    for level in ("", *("abcdef"[:i] for i in range(1, 7)))
}
CALLS = {name: 300 for name in (*TINY, *LEDGER, *CHECKED)}


def _case(name: str) -> Callable[[], object]:
    """The function a child process calls N times (8x8 float32, seeded)."""
    import numpy as np  # noqa: PLC0415 (the child's imports, after the thread settings)

    rng = np.random.default_rng(0)
    a, b = (
        rng.standard_normal((8, 8), dtype=np.float32),
        rng.standard_normal((8, 8), dtype=np.float32),
    )
    target = rng.integers(0, 8, size=8)
    # the tiny graph's three forms are benchmarks/ops.py's, so both scripts count the same work
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ops import (  # noqa: PLC0415
        tiny_graph_by_hand,
        tiny_graph_loss,
        tiny_graph_minigrad,
        tiny_graph_torch,
    )

    if name == "tiny_graph_pytorch":
        import torch  # noqa: PLC0415

        torch.set_num_threads(1)
        t_target = torch.tensor(target)
        return lambda: tiny_graph_torch(torch, a, b, t_target, "cpu")
    if name == "tiny_graph_numpy":
        return lambda: tiny_graph_by_hand(np, a, b, target)
    if name in CHECKED:
        from least_engine import CheckedEngine, tiny_graph_checked  # noqa: PLC0415

        engine = CheckedEngine(np, 8, np.float32, CHECKED[name])
        ids = engine.tensor(target)
        return lambda: tiny_graph_checked(engine, a, b, ids)
    if name in ("tiny_graph_least_engine", "tiny_graph_tiny_array_engine"):
        from least_engine import LeastEngine, TinyArrayEngine, tiny_graph_least  # noqa: PLC0415

        kind = LeastEngine if name == "tiny_graph_least_engine" else TinyArrayEngine
        engine = kind(np, 8, np.float32)
        return lambda: tiny_graph_least(engine, a, b, target)
    import minigrad as mg  # noqa: PLC0415
    from minigrad.ops import elementwise, fused, shape  # noqa: PLC0415 (tiny_graph_apply)

    mg.set_backend("numpy")  # a CPU count: on NumPy, whatever MINIGRAD_BACKEND says

    x, w, mg_target = (
        mg.tensor(a, requires_grad=True),
        mg.tensor(b, requires_grad=True),
        mg.tensor(target),
    )

    def matmul_sum_backward() -> None:
        x.grad = w.grad = None
        (x @ w).sum().backward()

    def tanh_chain() -> None:
        x.grad = None
        y = x
        for _ in range(10):
            y = mg.tanh(y)
        y.sum().backward()

    def tiny_graph_forward() -> Any:  # the forward only: no backward, the graph freed unused
        x, w = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
        return tiny_graph_loss(mg, x, w, mg_target)

    def tiny_graph_no_grad() -> None:  # the same under no_grad (its with-block: ~1k of it)
        with mg.no_grad():
            tiny_graph_forward()

    def loss_by_apply(x: Any, w: Any) -> Any:  # tiny_graph_loss through each op's apply
        h = fused.LayerNorm.apply(shape.MatMul.apply(x, w), None, None, dims=(1,), eps=1e-5)
        z = elementwise.Add.apply(elementwise.Mul.apply(h, 2), 1)
        y = elementwise.Tanh.apply(fused.Softmax.apply(z, dim=1))
        options = dict(ignore_index=None, label_smoothing=0.0, reduction="mean")
        return fused.CrossEntropy.apply(y, mg_target, **options, class_probs=False)

    def tiny_graph_apply() -> None:  # as tiny_graph, without the public functions' checks
        x, w = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
        loss_by_apply(x, w).backward()

    def tiny_graph_kept_leaves() -> None:
        x.grad = w.grad = None
        tiny_graph_loss(mg, x, w, mg_target).backward()

    cases = {
        "tiny_graph_no_grad": tiny_graph_no_grad,
        "tiny_graph_forward": tiny_graph_forward,
        "tiny_graph_apply": tiny_graph_apply,
        "tiny_graph_kept_leaves": tiny_graph_kept_leaves,
        "tanh": lambda: mg.tanh(x),
        "matmul": lambda: x @ w,
        "matmul_sum_backward": matmul_sum_backward,
        "tanh_chain": tanh_chain,
        "tiny_graph": lambda: tiny_graph_minigrad(mg, a, b, mg_target),
    }
    return cases[name]


def _child(name: str, calls: int) -> None:
    import gc  # noqa: PLC0415

    fn = _case(name)
    for _ in range(30):
        fn()
    gc.collect()
    gc.disable()
    os.getppid()  # callgrind: --zero-before
    for _ in range(calls):
        fn()
    os.getpgrp()  # callgrind: --dump-before


def count(name: str) -> int:
    """Instructions per call of case ``name``, in a child process under callgrind."""
    calls = CALLS.get(name, 1000)
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env["MKL_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        command = ["setarch", os.uname().machine, "-R", "valgrind", "--tool=callgrind"]
        command += ["--zero-before=os_getppid", "--dump-before=os_getpgrp"]
        # sys.executable as is: a virtual environment's python is a link whose path finds the
        # environment's packages (its real path would not)
        command += [f"--callgrind-out-file={out}", sys.executable]
        command += [__file__, "--child", name, str(calls)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"{name}: the child under valgrind failed: {last}")
        summary = re.search(r"^summary: (\d+)", Path(f"{out}.1").read_text(), re.MULTILINE)
    if summary is None:
        raise RuntimeError(f"{name}: callgrind wrote no summary")
    return int(summary.group(1)) // calls


def main(names: list[str]) -> int:
    for tool in ("valgrind", "setarch"):
        if shutil.which(tool) is None:
            print(f"instructions.py: needs {tool} on PATH (apt install valgrind)", file=sys.stderr)
            return 2
    unknown = [n for n in names if n not in CASES and n not in LEDGER and n not in CHECKED]
    if unknown:
        choices = [*CASES, *LEDGER, *CHECKED]
        print(f"instructions.py: unknown case(s) {unknown}; choose from {choices}", file=sys.stderr)
        return 2
    results = {}
    for name in names or CASES:
        results[name] = count(name)
        print(f"{name:<28} {results[name]:>10,d} instructions per call", flush=True)
    if {"tiny_graph", "tiny_graph_pytorch"} <= results.keys():
        ratio = results["tiny_graph"] / results["tiny_graph_pytorch"]
        print(f"tiny_graph minigrad/PyTorch: {ratio:.2f} (instructions)")
    for name, what in (
        ("tiny_graph_numpy", "hand-written NumPy"),
        ("tiny_graph_least_engine", "the least engine"),
        ("tiny_graph_tiny_array_engine", "the tiny-array engine"),
    ):
        if {name, "tiny_graph_pytorch"} <= results.keys():
            ratio = results[name] / results["tiny_graph_pytorch"]
            print(f"tiny_graph {what}/PyTorch: {ratio:.2f} (instructions)")
    _print_ledger(results)
    _print_checked(results)
    return 0


def _print_checked(results: dict[str, int]) -> None:
    """The checked engine's levels: each one's count beside the level before (the tiny-array
    engine before the first) and, with PyTorch's count, its ratio."""
    before, torch = results.get("tiny_graph_tiny_array_engine"), results.get("tiny_graph_pytorch")
    for name in CHECKED:
        if name not in results:
            before = None
            continue
        step = "" if before is None else f"  {results[name] - before:+,d} on the level before"
        ratio = "" if torch is None else f"  {results[name] / torch:.2f} of PyTorch's"
        print(f"  {name:<28} {results[name]:>10,d}{step}{ratio}")
        before = results[name]


def _print_ledger(results: dict[str, int]) -> None:
    """What each part of the bookkeeping costs: tiny_graph minus the case without that part
    (the forward alone for backward, the no_grad forward for recording)."""
    if "tiny_graph" not in results or not LEDGER.keys() & results.keys():
        return
    base = {name: results["tiny_graph"] for name in LEDGER}
    base["tiny_graph_no_grad"] = results.get("tiny_graph_forward")
    for name, what in LEDGER.items():
        if name in results and base[name] is not None:
            print(f"  {base[name] - results[name]:>10,d}  {what}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(main(sys.argv[1:]))
