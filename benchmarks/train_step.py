"""One training step (forward, backward, Adam) of an encoder-decoder transformer, minigrad beside
PyTorch's ``torch.nn.Transformer``, and the time to greedy-decode 32 tokens.

    python benchmarks/train_step.py --preset small              # about 15 s on 2 cores
    python benchmarks/train_step.py --preset base               # about a minute
    python benchmarks/train_step.py --preset small --dropout 0  # without dropout's masks
    python benchmarks/train_step.py --preset small --profile    # + where minigrad's time goes
    python benchmarks/train_step.py --preset small --memory     # + what minigrad's graph keeps
    python benchmarks/train_step.py --preset small --checkpoint-layers  # + recompute's cost
    python benchmarks/train_step.py --preset large --backend cupy  # minigrad on CuPy, torch CUDA
    python benchmarks/train_step.py --preset small --json out.json

The two models are the same: minigrad's ``transformer.Transformer`` (post-norm, ReLU) and, in
PyTorch, embeddings * sqrt(d_model) + the sinusoidal encoding + ``torch.nn.Transformer``
(``batch_first``, source and target key padding masks, a causal target mask; the final encoder
and decoder norms that ``nn.Transformer`` adds are removed, as the post-norm paper model has
none) + a Linear head. Both start from the *same weights* (minigrad's initialization, copied),
see the same token batches (random lengths, padded with id 0), and train with
``cross_entropy(ignore_index=0, label_smoothing=0.1)`` and Adam, in float32. Before timing, the
loss of one batch in eval mode (no dropout) is computed by both as a check that the models
match.

Each framework runs in its own Python process (started by this script, driven over a pipe), so
that the peak resident memory of each process (``ru_maxrss``) is that framework's alone: it
covers the interpreter, the imports, the model, Adam's state and the largest step. The steps of
the two processes are interleaved (one minigrad step, one PyTorch step, ...), so that a burst of
noise from other processes on the machine hits both alike; a short pause before each step lets
the idle process's thread pools go to sleep.

Timing: ``--warmup`` steps, then the median of ``--steps`` steps (``time.perf_counter``; on a
GPU, synchronized before each clock reading), with the forward, backward and optimizer parts
timed separately too. Tokens per second count the non-padding *target* tokens (the ones the loss
is taken over) per step; a second line counts source + target tokens. ``--dropout`` defaults to
0.1; random masks are a large share of PyTorch's CPU step, so compare with ``--dropout 0`` too.

Greedy decoding: 32 new tokens for 32 source rows, in eval mode without gradients, encoder
included, from the initial weights (it runs before the training steps). minigrad decodes with
its key/value cache (``transformer.decoding.greedy_decode``); PyTorch's
``nn.Transformer`` has no cache, so it reruns the decoder over the whole prefix at each step (as
PyTorch's tutorials do). The logits of the padding and end-of-sequence ids are pushed down by
1e4 while decoding, so that no row ever stops early and both always decode exactly 32 tokens.

Threads: ``--threads`` (default: the cores this process may use, which is what minigrad uses)
goes to the BLAS libraries (OpenBLAS under NumPy, MKL/OpenMP under PyTorch), to minigrad's
elementwise thread pool (``MINIGRAD_NUM_THREADS``) and to ``torch.set_num_threads``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------------------------

PRESETS: dict[str, dict[str, int]] = {
    "small": dict(d_model=128, n_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=512,
                  vocab=1000, batch=32, src_len=32, tgt_len=32, steps=10, warmup=2),
    "base": dict(d_model=256, n_heads=8, num_encoder_layers=3, num_decoder_layers=3, d_ff=1024,
                 vocab=8000, batch=32, src_len=64, tgt_len=64, steps=5, warmup=2),
    # for the GPU; the vocabulary is 8000 as in base (the issue leaves it open)
    "large": dict(d_model=512, n_heads=8, num_encoder_layers=6, num_decoder_layers=6, d_ff=2048,
                  vocab=8000, batch=64, src_len=128, tgt_len=128, steps=5, warmup=2),
}  # fmt: skip

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2  # content tokens are 3 .. vocab - 1
DECODE_TOKENS = 32  # new tokens per row
DECODE_ROWS = 32  # source rows decoded at once
NUM_BATCHES = 4  # distinct batches, cycled through by the steps
LR, BETAS, EPS = 1e-4, (0.9, 0.98), 1e-9  # the paper's Adam settings
LABEL_SMOOTHING = 0.1

# A pause before each timed step or decode: with 2 cores, the thread pools of OpenBLAS and of
# PyTorch's OpenMP keep spinning for a moment after their last job and would steal the cores of
# the other process.
SETTLE_S = 0.05

# ---------------------------------------------------------------------------------------------
# Command line (parsed before NumPy is imported, so that the thread counts take effect)
# ---------------------------------------------------------------------------------------------


def usable_cores() -> int:
    """The cores this process may run on: minigrad's default thread count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=tuple(PRESETS), default="small")
    parser.add_argument(
        "--backend",
        choices=("numpy", "cupy"),
        default="numpy",
        help="minigrad backend; with cupy, PyTorch runs on CUDA",
    )
    parser.add_argument("--dropout", type=float, default=0.1, help="dropout (default 0.1)")
    parser.add_argument("--steps", type=int, help="timed steps (default: 10 small, 5 base/large)")
    parser.add_argument("--warmup", type=int, help="untimed steps first (default 2)")
    parser.add_argument(
        "--decode-reps", type=int, default=3, help="timed greedy decodes (default 3)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=usable_cores(),
        help=f"BLAS, minigrad and PyTorch threads (default: the usable cores, {usable_cores()})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and batches")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run cProfile over a few minigrad steps and print the top 25 by tottime",
    )
    parser.add_argument(
        "--profile-steps", type=int, default=3, help="steps under cProfile (default 3)"
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also print minigrad's memory ledger (mg.trace_memory) of one step, per layer type",
    )
    parser.add_argument(
        "--checkpoint-layers",
        action="store_true",
        help="also time minigrad steps with every layer checkpointed (mg.checkpoint) against "
        "plain ones, interleaved, and report the peak bytes saved for backward and the time cost",
    )
    parser.add_argument("--no-torch", action="store_true", help="time minigrad alone")
    parser.add_argument("--json", metavar="PATH", help="write the figures to PATH as JSON")
    # internal: this script started as one framework's worker process
    parser.add_argument("--worker", choices=("minigrad", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-config", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset]
    if args.steps is None:
        args.steps = preset["steps"]
    if args.warmup is None:
        args.warmup = preset["warmup"]
    if args.steps < 1 or args.warmup < 0 or args.decode_reps < 1 or args.threads < 1:
        parser.error("--steps, --decode-reps and --threads must be >= 1, --warmup >= 0")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.seed < 0 or args.profile_steps < 1:
        parser.error(
            f"--seed must be >= 0, --profile-steps >= 1, got {args.seed}, {args.profile_steps}"
        )
    if args.json and Path(args.json).is_dir():
        parser.error(f"--json {args.json} is a directory, not a file name")
    return args


def set_thread_env(threads: int) -> dict[str, str]:
    """Pin the BLAS / OpenMP thread pools and minigrad's; must run before NumPy is imported.

    The worker processes inherit these variables.
    """
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "MINIGRAD_NUM_THREADS")
    for name in names:
        os.environ[name] = str(threads)
    return {name: os.environ[name] for name in names}


# ---------------------------------------------------------------------------------------------
# Memory of this process
# ---------------------------------------------------------------------------------------------


def peak_rss_bytes() -> int:
    """The peak resident set size of this process so far (``ru_maxrss``: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int | None:
    """The resident set size now (Linux), or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# The shared inputs: weights (minigrad's initialization) and token batches
# ---------------------------------------------------------------------------------------------


def model_kwargs(cfg: dict[str, Any]) -> dict[str, Any]:
    return dict(
        src_vocab_size=cfg["vocab"],
        tgt_vocab_size=cfg["vocab"],
        d_model=cfg["d_model"],
        n_heads=cfg["n_heads"],
        num_encoder_layers=cfg["num_encoder_layers"],
        num_decoder_layers=cfg["num_decoder_layers"],
        d_ff=cfg["d_ff"],
        dropout=cfg["dropout"],
        max_len=cfg["max_len"],
        norm_first=False,
        pad_id=PAD_ID,
    )


def make_batches(np: Any, cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """``NUM_BATCHES`` batches of src (B, S), tgt_in (B, T), tgt_out (B, T), int64 ids.

    Each source row has a random length in [S/2, S], padded with 0. Each target row is BOS, a
    random number of content tokens, EOS, then padding; tgt_in is it without its last position,
    tgt_out without its first (teacher forcing). The first row of every batch is full length.
    """
    rng = np.random.default_rng(seed + 1)
    # shape names as in the papers: B batch, S source length, T target length, V vocabulary
    B, S, T, V = cfg["batch"], cfg["src_len"], cfg["tgt_len"], cfg["vocab"]  # noqa: N806
    out: dict[str, Any] = {}
    for i in range(NUM_BATCHES):
        src_len = rng.integers(max(1, S // 2), S + 1, size=B)
        src_len[0] = S
        src = rng.integers(3, V, size=(B, S), dtype=np.int64)
        src[np.arange(S)[None, :] >= src_len[:, None]] = PAD_ID
        # tgt_len = content tokens + EOS, in [T/2, T]; the full row is T + 1 long with BOS
        tgt_len = rng.integers(max(1, T // 2), T + 1, size=B)
        tgt_len[0] = T
        full = rng.integers(3, V, size=(B, T + 1), dtype=np.int64)
        full[:, 0] = BOS_ID
        full[np.arange(B), tgt_len] = EOS_ID
        full[np.arange(T + 1)[None, :] > tgt_len[:, None]] = PAD_ID
        out[f"src{i}"] = src
        out[f"tgt_in{i}"] = np.ascontiguousarray(full[:, :-1])
        out[f"tgt_out{i}"] = np.ascontiguousarray(full[:, 1:])
    return out


def write_inputs(path: Path, cfg: dict[str, Any], seed: int) -> dict[str, float]:
    """Save minigrad's initial weights and the batches to ``path`` (.npz); returns token counts."""
    import numpy as np  # noqa: PLC0415  (after the thread variables are set)

    import minigrad as mg  # noqa: PLC0415
    from transformer import Transformer  # noqa: PLC0415

    mg.manual_seed(seed)
    model = Transformer(**model_kwargs(cfg), device="cpu")
    arrays = {f"w:{k}": mg.backend.to_host(v.array) for k, v in model.state_dict().items()}
    batches = make_batches(np, cfg, seed)
    np.savez(path, **arrays, **batches)
    tgt = [int((batches[f"tgt_out{i}"] != PAD_ID).sum()) for i in range(NUM_BATCHES)]
    src = [int((batches[f"src{i}"] != PAD_ID).sum()) for i in range(NUM_BATCHES)]
    return {
        "target_tokens_per_step": sum(tgt) / NUM_BATCHES,
        "source_tokens_per_step": sum(src) / NUM_BATCHES,
        "padding_share_target": 1.0 - sum(tgt) / (NUM_BATCHES * batches["tgt_out0"].size),
        "padding_share_source": 1.0 - sum(src) / (NUM_BATCHES * batches["src0"].size),
        "parameters": sum(int(p.array.size) for p in model.parameters()),
    }


# ---------------------------------------------------------------------------------------------
# Workers: one framework each, in its own process
# ---------------------------------------------------------------------------------------------


class Runner:
    """What a worker can do; each method returns a JSON-able dict."""

    # Set by the subclasses: the model, its optimizer, the batches, a device sync, and the loss.
    model: Any
    optimizer: Any
    batches: list[tuple[Any, Any, Any]]
    sync: Callable[[], None]

    def _loss(self, src: Any, tgt_in: Any, tgt_out: Any) -> Any:
        raise NotImplementedError

    def no_grad(self) -> Any:
        raise NotImplementedError

    def check(self) -> dict[str, Any]:
        """The eval-mode loss of batch 0 (both frameworks must agree on it)."""
        self.model.eval()
        with self.no_grad():
            loss = float(self._loss(*self.batches[0]).item())
        self.model.train()
        return {"loss": loss}

    def step(self, index: int) -> dict[str, Any]:
        """One training step on batch ``index``, its phases timed separately."""
        src, tgt_in, tgt_out = self.batches[index % NUM_BATCHES]
        box: dict[str, Any] = {}

        def forward() -> None:
            self.optimizer.zero_grad()
            box["loss"] = self._loss(src, tgt_in, tgt_out)

        def backward() -> None:
            box["loss"].backward()

        def update() -> float:
            self.optimizer.step()
            return float(box["loss"].item())

        (t_fwd, t_bwd, t_opt), loss = _timed_phases(self.sync, [forward, backward, update])
        return {"forward": t_fwd, "backward": t_bwd, "optimizer": t_opt, "loss": loss}

    def decode(self, want_tokens: bool) -> dict[str, Any]:
        raise NotImplementedError

    def memory(self) -> dict[str, Any]:
        raise NotImplementedError

    def profile(self, steps: int, top: int) -> dict[str, Any]:
        raise NotImplementedError


def _timed_phases(
    sync: Callable[[], None], phases: list[Callable[[], Any]]
) -> tuple[list[float], Any]:
    """Run ``phases`` in order, syncing after each; their seconds and the last one's result."""
    times = []
    result = None
    sync()
    start = time.perf_counter()
    for phase in phases:
        result = phase()
        sync()
        now = time.perf_counter()
        times.append(now - start)
        start = now
    return times, result


class MinigradRunner(Runner):
    def __init__(self, cfg: dict[str, Any], data: Any) -> None:
        import numpy as np  # noqa: PLC0415

        sys.path.insert(0, str(REPO_ROOT))
        import minigrad as mg  # noqa: PLC0415
        import nn.optim  # noqa: PLC0415
        from transformer import Transformer  # noqa: PLC0415

        self.np, self.mg, self.cfg = np, mg, cfg
        mg.set_backend(cfg["backend"])
        mg.manual_seed(cfg["seed"] + 2)  # the dropout masks
        device = "cuda" if cfg["backend"] == "cupy" else "cpu"
        if cfg["backend"] == "cupy":
            import cupy  # noqa: PLC0415  (mg.set_backend succeeded, so it imports)

            self.cupy = cupy
            self.sync: Callable[[], None] = lambda: cupy.cuda.Device().synchronize()
        else:
            self.cupy = None
            self.sync = lambda: None
        self.model = Transformer(**model_kwargs(cfg), device=device)
        weights = {k[2:]: data[k] for k in data.files if k.startswith("w:")}
        self.model.load_state_dict(weights)
        self.batches = [
            tuple(
                mg.tensor(data[f"{name}{i}"], device=device)
                for name in ("src", "tgt_in", "tgt_out")
            )
            for i in range(NUM_BATCHES)
        ]
        self.optimizer = nn.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.vocab = cfg["vocab"]
        self.model.train()

    def _loss(self, src: Any, tgt_in: Any, tgt_out: Any) -> Any:
        logits = self.model(src, tgt_in)  # (B, T, V)
        return self.mg.cross_entropy(
            logits.reshape(-1, self.vocab),
            tgt_out.reshape(-1),
            ignore_index=PAD_ID,
            label_smoothing=LABEL_SMOOTHING,
        )

    def no_grad(self) -> Any:
        return self.mg.no_grad()

    def _greedy(self, src: Any) -> Any:
        """(B, DECODE_TOKENS) new token ids, and which implementation made them."""
        from transformer.decoding import greedy_decode  # noqa: PLC0415

        out = greedy_decode(self.model, src, DECODE_TOKENS, BOS_ID, EOS_ID)
        ids = out.array[:, 1:]  # without the BOS column
        return ids, "transformer.decoding.greedy_decode (cached)"

    def decode(self, want_tokens: bool) -> dict[str, Any]:
        mg = self.mg
        src = self.mg.as_tensor(self.batches[0][0].array[:DECODE_ROWS])
        bias = self.model.output_proj.bias.array
        saved = bias[[PAD_ID, EOS_ID]].copy()
        self.model.eval()
        try:
            bias[[PAD_ID, EOS_ID]] -= 1e4  # never stop early, never emit padding
            with mg.no_grad():
                (seconds,), (ids, how) = _timed_phases(self.sync, [lambda: self._greedy(src)])
        finally:
            bias[[PAD_ID, EOS_ID]] = saved
            self.model.train()
        out: dict[str, Any] = {"seconds": seconds, "how": how, "shape": list(ids.shape)}
        if want_tokens:
            out["tokens"] = mg.backend.to_host(ids).tolist()
        return out

    def memory(self) -> dict[str, Any]:
        out: dict[str, Any] = {"peak_rss": peak_rss_bytes(), "rss_now": current_rss_bytes()}
        if self.cupy is not None:
            pool = self.cupy.get_default_memory_pool()
            out["gpu_pool_used"] = int(pool.used_bytes())
            out["gpu_pool_total"] = int(pool.total_bytes())
        else:
            # NumPy reports its array allocations to tracemalloc: the peak of what one step
            # allocates (activations, gradients, temporaries; not the weights or Adam's state,
            # which exist before it starts). Untimed: tracing slows the step.
            import tracemalloc  # noqa: PLC0415

            tracemalloc.start()
            self.step(0)
            out["step_traced_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        return out

    def ledger(self) -> dict[str, Any]:
        """One training step under ``mg.trace_memory``: the bytes the graph's nodes saved for
        backward, per layer type (the module whose forward made each node) and per op."""
        import nn  # noqa: PLC0415

        def layer_type() -> str:
            # the innermost module forward on the call stack, and the module that called it
            names: list[str] = []
            frame = sys._getframe(1)
            while frame is not None and len(names) < 2:
                owner = frame.f_locals.get("self") if frame.f_code.co_name == "forward" else None
                if isinstance(owner, nn.Module):
                    names.append(type(owner).__name__)
                frame = frame.f_back
            return " in ".join(names) if names else "(outside any module: the loss)"

        with self.mg.trace_memory(label=layer_type) as m:
            self.step(0)
        records = m.records
        per_layer: dict[str, list[int]] = {}
        for r in records:
            entry = per_layer.setdefault(r["label"], [0, 0])
            entry[0] += r["bytes"]
            entry[1] += 1
        return {
            "per_layer": sorted(per_layer.items(), key=lambda kv: -kv[1][0]),
            "per_op": list(m.totals("op").items()),
            "saved_total": sum(r["bytes"] for r in records),
            "peak_saved": m.peak_saved_bytes,
            "saved_after": m.saved_bytes,
            "process_peak": m.process_peak_bytes,
            "nodes": len(records),
        }

    def checkpoint_layers(self, steps: int) -> dict[str, Any]:
        """Plain steps and steps with every layer checkpointed, interleaved: the median times
        and, for one step of each, the peak bytes the graph saved (mg.trace_memory) and, on
        the CPU, the process's traced peak (tracemalloc)."""
        model = self.model

        def use(on: bool) -> None:
            model.encoder.checkpoint_layers = model.decoder.checkpoint_layers = on

        out: dict[str, Any] = {}
        times: dict[bool, list[float]] = {False: [], True: []}
        try:
            for on in (False, True):
                use(on)
                with self.mg.trace_memory(measure_process=self.cupy is None) as m:
                    self.step(0)
                out["plain" if not on else "checkpointed"] = {
                    "peak_saved": m.peak_saved_bytes,
                    "process_peak": m.process_peak_bytes if self.cupy is None else None,
                }
            for i in range(steps + 1):  # the first round is a warm-up
                for on in (False, True):
                    use(on)
                    time.sleep(SETTLE_S)
                    sample = self.step(i)
                    if i:
                        times[on].append(sample["forward"] + sample["backward"])
        finally:
            use(False)
        out["plain"]["step_s"] = statistics.median(times[False])
        out["checkpointed"]["step_s"] = statistics.median(times[True])
        return out

    def profile(self, steps: int, top: int) -> dict[str, Any]:
        import cProfile  # noqa: PLC0415
        import pstats  # noqa: PLC0415

        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(steps):
            self.step(i)
        profiler.disable()
        # (file, line, name) -> (primitive calls, calls, tottime, cumtime, callers)
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        rows = [
            {"function": _where(file, line, name), "ncalls": calls, "tottime": tt, "cumtime": ct}
            for (file, line, name), (_, calls, tt, ct, _) in stats.items()
        ]
        # Each op's forward and backward, cumulative: ops do not call one another, so these
        # add up without counting anything twice.
        ops: dict[str, dict[str, float]] = {}
        for row in rows:
            where, _, qualname = row["function"].partition(" ")
            op, _, method = qualname.rpartition(".")
            if where.startswith("minigrad/ops/") and op and method in ("forward", "backward"):
                ops.setdefault(op, {"forward": 0.0, "backward": 0.0})[method] += row["cumtime"]
        optimizer = sum(r["cumtime"] for r in rows if r["function"].endswith(" Optimizer.step"))
        return {
            "steps": steps,
            "total_s": sum(row["tottime"] for row in rows),
            "by_tottime": sorted(rows, key=lambda r: -r["tottime"])[:top],
            "ops": ops,
            "optimizer_s": optimizer,
        }


def _where(file: str, line: int, name: str) -> str:
    """``path:line qualname`` for a profiled function (the class found in the source)."""
    if file.startswith("~") or not os.path.exists(file):  # a built-in
        return name
    path = Path(file).resolve()
    where = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else path.name
    qualname = name
    lines = _source_lines(str(path))
    if 0 < line <= len(lines):
        indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
        for text in reversed(lines[: line - 1]):
            stripped = text.lstrip()
            if stripped and len(text) - len(stripped) < indent:
                if stripped.startswith("class "):
                    qualname = stripped[6:].split("(")[0].split(":")[0] + "." + name
                    break
                if not stripped.startswith(("@", "#", ")")):
                    break
    return f"{where}:{line} {qualname}"


_SOURCES: dict[str, list[str]] = {}


def _source_lines(path: str) -> list[str]:
    if path not in _SOURCES:
        try:
            _SOURCES[path] = Path(path).read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            _SOURCES[path] = []
    return _SOURCES[path]


class TorchRunner(Runner):
    def __init__(self, cfg: dict[str, Any], data: Any) -> None:
        import numpy as np  # noqa: PLC0415
        import torch  # noqa: PLC0415  (an oracle, imported only by this benchmark)

        self.np, self.torch, self.cfg = np, torch, cfg
        # In eval mode nn.TransformerEncoder packs padded batches into nested tensors (its
        # inference fast path, kept: it is what users get) and warns that the API is a prototype.
        warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors")
        torch.set_num_threads(cfg["threads"])
        torch.manual_seed(cfg["seed"] + 2)  # the dropout masks
        self.device = "cuda" if cfg["backend"] == "cupy" else "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("PyTorch has no CUDA device here")
        cuda = self.device == "cuda"
        self.sync: Callable[[], None] = torch.cuda.synchronize if cuda else lambda: None
        self.model = self._build(cfg).to(self.device)
        self._load(data)
        self.batches = [
            tuple(
                torch.from_numpy(data[f"{name}{i}"]).to(self.device)
                for name in ("src", "tgt_in", "tgt_out")
            )
            for i in range(NUM_BATCHES)
        ]
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.vocab = cfg["vocab"]
        self.model.train()
        if cuda:
            torch.cuda.reset_peak_memory_stats()

    def _build(self, cfg: dict[str, Any]) -> Any:
        torch, np = self.torch, self.np
        nn = torch.nn
        d, max_len = cfg["d_model"], cfg["max_len"]
        # the sinusoidal table, as transformer.layers.PositionalEncoding builds it
        angle = np.arange(max_len)[:, None] * np.exp(np.arange(0, d, 2) * (-math.log(1e4) / d))
        pe = np.zeros((max_len, d))
        pe[:, 0::2] = np.sin(angle)
        pe[:, 1::2] = np.cos(angle[:, : d // 2])

        class Seq2Seq(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                vocab = cfg["vocab"]
                self.scale = math.sqrt(d)
                self.src_embed = nn.Embedding(vocab, d, padding_idx=PAD_ID)
                self.tgt_embed = nn.Embedding(vocab, d, padding_idx=PAD_ID)
                self.register_buffer("pe", torch.from_numpy(pe.astype(np.float32)))
                causal = torch.ones(max_len, max_len, dtype=torch.bool).triu(1)
                self.register_buffer("causal", causal)  # True: may not attend
                self.dropout = nn.Dropout(cfg["dropout"])
                self.transformer = nn.Transformer(
                    d, cfg["n_heads"], cfg["num_encoder_layers"], cfg["num_decoder_layers"],
                    cfg["d_ff"], cfg["dropout"], batch_first=True,
                )  # fmt: skip
                # nn.Transformer ends each stack with a LayerNorm even for post-norm layers;
                # the paper's model (and minigrad's) has none
                self.transformer.encoder.norm = None
                self.transformer.decoder.norm = None
                self.output_proj = nn.Linear(d, vocab)

            def embed(self, table: Any, ids: Any, offset: int = 0) -> Any:
                end = offset + ids.shape[1]
                return self.dropout(table(ids) * self.scale + self.pe[offset:end])

            def forward(self, src: Any, tgt_in: Any) -> Any:
                length = tgt_in.shape[1]
                src_pad = src == PAD_ID
                out = self.transformer(
                    self.embed(self.src_embed, src),
                    self.embed(self.tgt_embed, tgt_in),
                    tgt_mask=self.causal[:length, :length],
                    src_key_padding_mask=src_pad,
                    tgt_key_padding_mask=tgt_in == PAD_ID,
                    memory_key_padding_mask=src_pad,
                    tgt_is_causal=True,
                )
                return self.output_proj(out)

        return Seq2Seq()

    def _load(self, data: Any) -> None:
        """Copy minigrad's weights into the PyTorch model (renaming, stacking q/k/v)."""
        torch = self.torch
        w = {k[2:]: data[k] for k in data.files if k.startswith("w:")}
        state: dict[str, Any] = {}
        for name in ("src_embed.weight", "tgt_embed.weight", "output_proj.weight",
                     "output_proj.bias"):  # fmt: skip
            state[name] = w.pop(name)
        stacks = (
            ("encoder", self.cfg["num_encoder_layers"], {"self_attn": "self_attn"}),
            ("decoder", self.cfg["num_decoder_layers"],
             {"self_attn": "self_attn", "cross_attn": "multihead_attn"}),
        )  # fmt: skip
        for stack, count, attentions in stacks:
            for i in range(count):
                ours, theirs = f"{stack}.layers.{i}.", f"transformer.{stack}.layers.{i}."
                for mine, torch_name in attentions.items():
                    for kind in ("weight", "bias"):
                        parts = [w.pop(f"{ours}{mine}.{p}_proj.{kind}") for p in "qkv"]
                        state[f"{theirs}{torch_name}.in_proj_{kind}"] = self.np.concatenate(parts)
                        state[f"{theirs}{torch_name}.out_proj.{kind}"] = w.pop(
                            f"{ours}{mine}.out_proj.{kind}"
                        )
                for key in [k for k in w if k.startswith(ours)]:
                    rest = key[len(ours) :].replace("ff.", "")  # ff.linear1 -> linear1
                    state[theirs + rest] = w.pop(key)
        if w:
            raise RuntimeError(f"minigrad weights with no PyTorch twin: {sorted(w)}")
        tensors = {k: torch.from_numpy(self.np.ascontiguousarray(v)) for k, v in state.items()}
        tensors["pe"], tensors["causal"] = self.model.pe, self.model.causal
        self.model.load_state_dict(tensors, strict=True)

    def _loss(self, src: Any, tgt_in: Any, tgt_out: Any) -> Any:
        logits = self.model(src, tgt_in)  # (B, T, V)
        return self.torch.nn.functional.cross_entropy(
            logits.reshape(-1, self.vocab),
            tgt_out.reshape(-1),
            ignore_index=PAD_ID,
            label_smoothing=LABEL_SMOOTHING,
        )

    def no_grad(self) -> Any:
        return self.torch.no_grad()

    def _greedy(self, src: Any) -> Any:
        # no cache in nn.Transformer: encode once, rerun the decoder over the whole prefix
        torch, model = self.torch, self.model
        src_pad = src == PAD_ID
        memory = model.transformer.encoder(
            model.embed(model.src_embed, src), src_key_padding_mask=src_pad
        )
        ys = torch.full((src.shape[0], 1), BOS_ID, dtype=torch.int64, device=src.device)
        for _ in range(DECODE_TOKENS):
            length = ys.shape[1]
            out = model.transformer.decoder(
                model.embed(model.tgt_embed, ys),
                memory,
                tgt_mask=model.causal[:length, :length],
                memory_key_padding_mask=src_pad,
                tgt_is_causal=True,
            )
            next_ids = model.output_proj(out[:, -1]).argmax(-1, keepdim=True)  # (B, 1)
            ys = torch.cat([ys, next_ids], dim=1)
        return ys[:, 1:]

    def decode(self, want_tokens: bool) -> dict[str, Any]:
        torch = self.torch
        src = self.batches[0][0][:DECODE_ROWS]
        bias = self.model.output_proj.bias
        self.model.eval()
        try:
            with torch.no_grad():
                saved = bias[[PAD_ID, EOS_ID]].clone()
                bias[[PAD_ID, EOS_ID]] -= 1e4  # never stop early, never emit padding
                (seconds,), ids = _timed_phases(self.sync, [lambda: self._greedy(src)])
        finally:
            with torch.no_grad():
                bias[[PAD_ID, EOS_ID]] = saved
            self.model.train()
        how = "nn.Transformer decoder rerun over the prefix (no cache)"
        out: dict[str, Any] = {"seconds": seconds, "how": how, "shape": list(ids.shape)}
        if want_tokens:
            out["tokens"] = ids.cpu().tolist()
        return out

    def memory(self) -> dict[str, Any]:
        out: dict[str, Any] = {"peak_rss": peak_rss_bytes(), "rss_now": current_rss_bytes()}
        if self.device == "cuda":
            out["gpu_max_allocated"] = int(self.torch.cuda.max_memory_allocated())
            out["gpu_max_reserved"] = int(self.torch.cuda.max_memory_reserved())
        return out


def serve(name: str, config_path: str) -> int:
    """A worker's main loop: one JSON command per line on stdin, one JSON reply per line."""
    # Keep the protocol on the real stdout; anything else printed goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(obj: dict[str, Any]) -> None:
        proto.write(json.dumps(obj) + "\n")

    try:
        cfg = json.loads(Path(config_path).read_text())
        rss_start = current_rss_bytes()
        start = time.perf_counter()
        import numpy as np  # noqa: PLC0415

        data = np.load(cfg["data"])
        runner: Runner = (MinigradRunner if name == "minigrad" else TorchRunner)(cfg, data)
        data.close()
        reply(
            {
                "ready": True,
                "setup_s": time.perf_counter() - start,
                "rss_start": rss_start,
                "rss_ready": current_rss_bytes(),
                "pid": os.getpid(),
            }
        )
    except Exception:
        reply({"error": traceback.format_exc()})
        return 1
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            op = cmd["cmd"]
            if op == "quit":
                break
            if op == "check":
                result = runner.check()
            elif op == "decode":
                time.sleep(SETTLE_S)
                result = runner.decode(cmd.get("tokens", False))
            elif op == "step":
                time.sleep(SETTLE_S)
                result = runner.step(cmd["index"])
            elif op == "memory":
                result = runner.memory()
            elif op == "profile":
                result = runner.profile(cmd["steps"], cmd["top"])
            elif op == "ledger":
                result = runner.ledger()
            elif op == "checkpoint_layers":
                result = runner.checkpoint_layers(cmd["steps"])  # type: ignore[attr-defined]
            else:
                raise ValueError(f"unknown command {op!r}")
            reply(result)
        except Exception:
            reply({"error": traceback.format_exc()})
    return 0


class Worker:
    """The parent's handle on a worker process."""

    def __init__(self, name: str, config_path: Path) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", name,
             "--worker-config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=str(REPO_ROOT),
        )  # fmt: skip
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"the {self.name} worker exited (code {self.proc.wait()})")
        out = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"the {self.name} worker failed:\n{out['error']}")
        return out

    def call(self, cmd: str, **kw: Any) -> dict[str, Any]:
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")  # type: ignore[union-attr]
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd": "quit"}\n')  # type: ignore[union-attr]
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s"


def fmt_bytes(n: float | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f} MiB"


def fmt_ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}x"


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    headers = ("", "minigrad", "PyTorch", "minigrad/PyTorch")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(4)]
    for i, row in enumerate([headers, *rows]):
        print(
            f"{row[0]:<{widths[0]}}  "
            + "  ".join(f"{cell:>{w}}" for cell, w in zip(row[1:], widths[1:]))
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def summarize(samples: list[dict[str, float]]) -> dict[str, Any]:
    steps = [s["forward"] + s["backward"] + s["optimizer"] for s in samples]
    out: dict[str, Any] = {
        "step_s": statistics.median(steps),
        "step_min_s": min(steps),
        "step_max_s": max(steps),
        "steps_s": steps,
        "losses": [s["loss"] for s in samples],
    }
    for phase in ("forward", "backward", "optimizer"):
        out[f"{phase}_s"] = statistics.median(s[phase] for s in samples)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return serve(args.worker, args.worker_config)
    thread_env = set_thread_env(args.threads)
    sys.stdout.reconfigure(line_buffering=True)  # keep the report in order with the progress
    sys.path.insert(0, str(REPO_ROOT))
    import numpy as np  # noqa: PLC0415  (after the thread variables are set)

    import minigrad as mg  # noqa: PLC0415

    try:
        mg.set_backend(args.backend)  # the worker sets it again; this checks that it can
    except mg.BackendError as err:
        print(f"cannot use the {args.backend} backend: {err}", file=sys.stderr)
        return 2
    mg.set_backend("numpy")  # the initial weights are made on the CPU

    preset = PRESETS[args.preset]
    cfg: dict[str, Any] = {
        **{k: v for k, v in preset.items() if k not in ("steps", "warmup")},
        "dropout": args.dropout,
        "max_len": max(preset["src_len"], preset["tgt_len"], DECODE_TOKENS + 1),
        "backend": args.backend,
        "threads": args.threads,
        "seed": args.seed,
    }
    frameworks = ["minigrad"] if args.no_torch else ["minigrad", "torch"]

    try:
        import torch  # noqa: PLC0415  (only for its version here; the worker uses it)

        torch_version = torch.__version__
        del torch
    except ImportError:
        torch_version = None
        frameworks = ["minigrad"]

    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(
        f"numpy {np.__version__}   torch {torch_version or '(not installed)'}   "
        f"minigrad {mg.__version__} (backend: {args.backend}; PyTorch on "
        f"{'cuda' if args.backend == 'cupy' else 'the CPU'})"
    )
    print(
        "threads: "
        + " ".join(f"{k}={v}" for k, v in thread_env.items())
        + f"   torch.set_num_threads({args.threads})"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = "  (other processes are busy: expect noisy timings)" if load > 0.5 else ""
        print(f"load average (1 min) before starting: {load:.2f}{busy}")
    print(
        f"preset {args.preset}: d_model {cfg['d_model']}, {cfg['n_heads']} heads, "
        f"{cfg['num_encoder_layers']}+{cfg['num_decoder_layers']} layers, d_ff {cfg['d_ff']}, "
        f"vocab {cfg['vocab']}, batch {cfg['batch']}, src/tgt length "
        f"{cfg['src_len']}/{cfg['tgt_len']}, dropout {args.dropout}, float32, post-norm"
    )

    results: dict[str, Any] = {}
    workers: dict[str, Worker] = {}
    with tempfile.TemporaryDirectory(prefix="train_step_") as tmp:
        data_path, config_path = Path(tmp) / "inputs.npz", Path(tmp) / "config.json"
        counts = write_inputs(data_path, cfg, args.seed)
        config_path.write_text(json.dumps({**cfg, "data": str(data_path)}))
        print(
            f"{counts['parameters']:,} parameters; per step {counts['target_tokens_per_step']:.0f}"
            f" target and {counts['source_tokens_per_step']:.0f} source tokens that are not "
            f"padding (padding: {counts['padding_share_target']:.0%} of target, "
            f"{counts['padding_share_source']:.0%} of source positions)"
        )
        print(
            f"timing: {args.warmup} warm-up steps, then the median of {args.steps} steps, "
            "the two frameworks interleaved, each in its own process"
        )
        print()
        try:
            for name in frameworks:
                print(f"  starting the {name} worker ...", file=sys.stderr, flush=True)
                workers[name] = Worker(name, config_path)
                results[name] = {"setup": workers[name].ready}

            # 1. the models match: the same loss on the same batch, in eval mode
            for name, w in workers.items():
                results[name]["check_loss"] = w.call("check")["loss"]

            # 2. greedy decoding (before training, so both decode from the same weights)
            print("  greedy decoding ...", file=sys.stderr, flush=True)
            decode_samples: dict[str, list[float]] = {name: [] for name in workers}
            tokens: dict[str, Any] = {}
            for rep in range(args.decode_reps + 1):  # the first one is a warm-up
                for name, w in workers.items():
                    out = w.call("decode", tokens=rep == 0)
                    if rep == 0:
                        tokens[name] = out.pop("tokens")
                        results[name]["decode"] = out
                    else:
                        decode_samples[name].append(out["seconds"])
            for name in workers:
                results[name]["decode"]["seconds"] = statistics.median(decode_samples[name])
                results[name]["decode"]["samples"] = decode_samples[name]

            # 3. training steps, interleaved
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in workers}
            for i in range(args.warmup + args.steps):
                print(
                    f"  step {i + 1}/{args.warmup + args.steps}"
                    + (" (warm-up)" if i < args.warmup else ""),
                    file=sys.stderr,
                    flush=True,
                )
                for name, w in workers.items():
                    out = w.call("step", index=i)
                    if i >= args.warmup:
                        samples[name].append(out)
            for name in workers:
                train = results[name]["train"] = summarize(samples[name])
                train["target_tokens_per_s"] = counts["target_tokens_per_step"] / train["step_s"]
                train["src_tgt_tokens_per_s"] = (
                    counts["target_tokens_per_step"] + counts["source_tokens_per_step"]
                ) / train["step_s"]
                results[name]["memory"] = workers[name].call("memory")

            # 4. where minigrad's time goes
            if args.profile:
                print("  profiling minigrad ...", file=sys.stderr, flush=True)
                results["minigrad"]["profile"] = workers["minigrad"].call(
                    "profile", steps=args.profile_steps, top=25
                )

            # 5. what minigrad's graph keeps for backward
            if args.memory:
                print("  minigrad's memory ledger ...", file=sys.stderr, flush=True)
                results["minigrad"]["ledger"] = workers["minigrad"].call("ledger")

            # 6. what checkpointing every layer saves and costs
            if args.checkpoint_layers:
                print("  minigrad with checkpointed layers ...", file=sys.stderr, flush=True)
                results["minigrad"]["checkpoint_layers"] = workers["minigrad"].call(
                    "checkpoint_layers", steps=args.steps
                )
        finally:
            for w in workers.values():
                w.close()

    report(args, cfg, counts, results, tokens)
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        print(f"load average (1 min) at the end: {load:.2f} (this run's own threads count in it)")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": np.__version__,
            "torch": torch_version,
            "minigrad": mg.__version__,
            "cpu_count": os.cpu_count(),
            "thread_env": thread_env,
            "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "steps": args.steps,
            "warmup": args.warmup,
            "decode_reps": args.decode_reps,
            "tokens_per_second_counts": "non-padding target tokens",
            "memory_method": "peak RSS (ru_maxrss) of each framework's own process",
        }
        summary = {
            "ratio_step": ratio(results, "train", "step_s"),
            "ratio_decode": ratio(results, "decode", "seconds"),
        }
        path.write_text(
            json.dumps(
                {
                    "meta": meta,
                    "preset": args.preset,
                    "config": cfg,
                    "inputs": counts,
                    "summary": summary,
                    "results": results,
                },
                indent=2,
            )  # fmt: skip
            + "\n"
        )
        print(f"wrote {path}")
    return 0


def ratio(results: dict[str, Any], part: str, key: str) -> float | None:
    if "torch" not in results:
        return None
    return results["minigrad"][part][key] / results["torch"][part][key]


def report(
    args: argparse.Namespace,
    cfg: dict[str, Any],
    counts: dict[str, float],
    results: dict[str, Any],
    tokens: dict[str, Any],
) -> None:
    names = ("minigrad", "torch")

    def get(name: str, *keys: str) -> Any:
        value: Any = results.get(name)
        for key in keys:
            if value is None:
                return None
            value = value.get(key)
        return value

    def time_row(label: str, *keys: str) -> tuple[str, str, str, str]:
        a, b = get("minigrad", *keys), get("torch", *keys)
        return (label, fmt_time(a), fmt_time(b), fmt_ratio(a, b))

    tgt_tokens = counts["target_tokens_per_step"]
    all_tokens = tgt_tokens + counts["source_tokens_per_step"]

    def rate(name: str, n: float) -> str:
        step = get(name, "train", "step_s")
        return "-" if step is None else f"{n / step:,.0f}"

    def mem(name: str, key: str) -> str:
        return fmt_bytes(get(name, "memory", key))

    def growth(name: str) -> int | None:
        """What training and decoding added to the process's memory after the setup."""
        peak, ready = get(name, "memory", "peak_rss"), get(name, "setup", "rss_ready")
        return None if peak is None or ready is None else peak - ready

    rows = [
        time_row("train step (median)", "train", "step_s"),
        time_row("  forward", "train", "forward_s"),
        time_row("  backward", "train", "backward_s"),
        time_row("  optimizer (Adam)", "train", "optimizer_s"),
        time_row("  fastest step", "train", "step_min_s"),
        time_row("  slowest step", "train", "step_max_s"),
        ("tokens/s (target, non-pad)", rate("minigrad", tgt_tokens), rate("torch", tgt_tokens),
         fmt_ratio(get("torch", "train", "step_s"), get("minigrad", "train", "step_s"))),
        ("tokens/s (source + target)", rate("minigrad", all_tokens), rate("torch", all_tokens),
         ""),
        time_row(f"greedy decode {DECODE_TOKENS} tok x {DECODE_ROWS}", "decode", "seconds"),
        ("peak RSS of the process", mem("minigrad", "peak_rss"), mem("torch", "peak_rss"),
         fmt_ratio(get("minigrad", "memory", "peak_rss"), get("torch", "memory", "peak_rss"))),
        ("RSS at start (interpreter)", fmt_bytes(get("minigrad", "setup", "rss_start")),
         fmt_bytes(get("torch", "setup", "rss_start")), ""),
        ("RSS after imports + setup", fmt_bytes(get("minigrad", "setup", "rss_ready")),
         fmt_bytes(get("torch", "setup", "rss_ready")), ""),
        ("peak RSS - RSS after setup", fmt_bytes(growth("minigrad")), fmt_bytes(growth("torch")),
         fmt_ratio(growth("minigrad"), growth("torch"))),
    ]  # fmt: skip
    if args.backend == "cupy":
        rows += [
            ("GPU: cupy pool used / held", mem("minigrad", "gpu_pool_used")
             + " / " + mem("minigrad", "gpu_pool_total"), "-", ""),
            ("GPU: torch max allocated", "-", mem("torch", "gpu_max_allocated"), ""),
            ("GPU: torch max reserved", "-", mem("torch", "gpu_max_reserved"), ""),
        ]  # fmt: skip
    else:
        rows.append(("one step's allocations (tracemalloc)", mem("minigrad", "step_traced_peak"),
                     "-", ""))  # fmt: skip
    print_rows(rows)
    print()
    ratio_step = ratio(results, "train", "step_s")
    if ratio_step is not None:
        verdict = "meets" if ratio_step <= 1.0 else "misses"
        print(
            f"minigrad/PyTorch training step: {ratio_step:.2f} ({verdict} the goal of 1.0 or "
            f"lower); greedy decode: {ratio(results, 'decode', 'seconds'):.2f}"
        )
    print(
        f"dropout {args.dropout}; threads {args.threads}; tokens/s = non-padding target tokens "
        f"per step ({tgt_tokens:.0f}, the ones the loss counts) / median step time"
    )
    print(
        "memory: each framework runs in its own process; peak RSS is that process's ru_maxrss "
        "(interpreter, imports, model, Adam state, batches and the largest step);"
    )
    if args.backend == "cupy":
        print(
            "  GPU: CuPy's default pool after the steps (held = the pool's high-water mark, "
            "as it never returns blocks), torch.cuda.max_memory_allocated/reserved."
        )
    else:
        print(
            "  tracemalloc: the peak of what one minigrad step allocates (NumPy reports its "
            "arrays to it), beyond the weights and Adam state."
        )
    for name in names:
        if name in results:
            d = results[name]["decode"]
            print(f"decode ({name}): {d['how']}, output {d['shape'][0]}x{d['shape'][1]}")
    print()
    if "torch" in results:
        a, b = results["minigrad"]["check_loss"], results["torch"]["check_loss"]
        print(
            f"check, same weights and batch in eval mode: loss minigrad {a:.6f}, PyTorch {b:.6f} "
            f"(relative difference {abs(a - b) / max(abs(b), 1e-12):.1e})"
        )
        ta, tb = tokens["minigrad"], tokens["torch"]
        same = sum(x == y for ra, rb in zip(ta, tb) for x, y in zip(ra, rb))
        total = sum(len(r) for r in tb)
        rows_same = sum(ra == rb for ra, rb in zip(ta, tb))
        print(
            f"check, greedy decode from the same weights: {same}/{total} tokens and "
            f"{rows_same}/{len(tb)} rows identical (float32 near-ties can split a row)"
        )
        la, lb = results["minigrad"]["train"]["losses"], results["torch"]["train"]["losses"]
        print(
            "training losses of the timed steps: minigrad "
            + " ".join(f"{x:.3f}" for x in la)
            + " | PyTorch "
            + " ".join(f"{x:.3f}" for x in lb)
        )
    profile = get("minigrad", "profile")
    if profile:
        print_profile(profile, get("minigrad", "train", "step_s"))
    ledger = get("minigrad", "ledger")
    if ledger:
        print_ledger(ledger)
    ckpt = get("minigrad", "checkpoint_layers")
    if ckpt:
        print_checkpoint_layers(ckpt)


def print_checkpoint_layers(ckpt: dict[str, Any]) -> None:
    plain, ckpted = ckpt["plain"], ckpt["checkpointed"]
    mib = lambda n: "-" if n is None else f"{n / 2**20:.2f} MiB"  # noqa: E731
    print()
    print("minigrad, every encoder and decoder layer through mg.checkpoint (checkpoint_layers):")
    print(f"{'':<44}{'plain':>12}{'checkpointed':>14}{'change':>10}")
    rows = [
        ("peak saved for backward (mg.trace_memory)", "peak_saved", mib),
        ("process traced peak of a step (tracemalloc)", "process_peak", mib),
        ("forward + backward, median", "step_s", fmt_time),
    ]
    for label, key, fmt in rows:
        a, b = plain.get(key), ckpted.get(key)
        change = "-" if a is None or b is None or not a else f"{(b - a) / a:+.0%}"
        print(f"{label:<44}{fmt(a):>12}{fmt(b):>14}{change:>10}")


def print_ledger(ledger: dict[str, Any]) -> None:
    mib = lambda n: f"{n / 2**20:8.2f} MiB"  # noqa: E731
    total = ledger["saved_total"] or 1
    print()
    print(
        f"memory ledger of one minigrad step (mg.trace_memory): {ledger['nodes']} nodes saved "
        f"{mib(ledger['saved_total']).strip()} for backward (each array once), at most "
        f"{mib(ledger['peak_saved']).strip()} held at once; {mib(ledger['saved_after']).strip()} "
        "still held after backward"
    )
    print(
        f"the process's traced peak during the step (tracemalloc, above its start): "
        f"{mib(ledger['process_peak'] or 0).strip()}: the saved arrays plus outputs, "
        "gradients and temporaries"
    )
    print(
        f"{'layer type (innermost module in its caller)':<48}  {'nodes':>6}  {'saved':>12}  share"
    )
    for label, (nbytes, nodes) in ledger["per_layer"]:
        print(f"{label:<48}  {nodes:>6}  {mib(nbytes):>12}  {nbytes / total:>5.1%}")
    print(f"{'by op':<48}  {'':>6}  {'saved':>12}  share")
    for op, nbytes in ledger["per_op"]:
        if nbytes:
            print(f"{op:<48}  {'':>6}  {mib(nbytes):>12}  {nbytes / total:>5.1%}")


def print_profile(profile: dict[str, Any], step_s: float | None) -> None:
    steps, total = profile["steps"], profile["total_s"]
    print()
    print(
        f"cProfile over {steps} minigrad steps: {total / steps * 1e3:.1f} ms/step profiled "
        f"(unprofiled median {fmt_time(step_s)}; profiling inflates Python-heavy functions)"
    )
    print("top functions by own time (tottime), per step:")
    print(f"{'calls':>6}  {'tottime':>9}  {'share':>5}  {'cumtime':>9}  function")
    for r in profile["by_tottime"]:
        print(
            f"{r['ncalls'] / steps:>6.0f}  {r['tottime'] / steps * 1e3:>6.2f} ms  "
            f"{r['tottime'] / total:>5.1%}  {r['cumtime'] / steps * 1e3:>6.2f} ms  {r['function']}"
        )
    ops = sorted(profile["ops"].items(), key=lambda kv: -(kv[1]["forward"] + kv[1]["backward"]))
    in_ops = sum(t["forward"] + t["backward"] for _, t in ops)
    print()
    print("by op (cumulative time inside each op's forward and backward), per step:")
    print(f"{'op':<16}  {'forward':>9}  {'backward':>9}  {'total':>9}  {'share':>5}")
    for op, t in ops:
        both = t["forward"] + t["backward"]
        print(
            f"{op:<16}  {t['forward'] / steps * 1e3:>6.2f} ms  "
            f"{t['backward'] / steps * 1e3:>6.2f} ms  {both / steps * 1e3:>6.2f} ms  "
            f"{both / total:>5.1%}"
        )
    rest = total - in_ops - profile["optimizer_s"]
    print(
        f"{'all ops':<16}  {'':>9}  {'':>9}  {in_ops / steps * 1e3:>6.2f} ms  "
        f"{in_ops / total:>5.1%}\n"
        f"{'Adam step':<16}  {'':>9}  {'':>9}  {profile['optimizer_s'] / steps * 1e3:>6.2f} ms  "
        f"{profile['optimizer_s'] / total:>5.1%}\n"
        f"{'the rest':<16}  {'':>9}  {'':>9}  {rest / steps * 1e3:>6.2f} ms  {rest / total:>5.1%}"
        "  (modules, Tensor and graph bookkeeping, checks, the backward walk)"
    )


if __name__ == "__main__":
    sys.exit(main())
