"""Data parallelism on one machine: 1 process x 2 threads against 2 processes x 1 thread (MPI),
on the training step of benchmarks/train_step.py's presets.

    python benchmarks/data_parallel.py --preset small
    python benchmarks/data_parallel.py --preset base --steps 5
    python benchmarks/data_parallel.py --preset tiny --steps 2 --warmup 1    # a smoke run
    python benchmarks/data_parallel.py --preset small --json out.json

Both runs train the same model (minigrad's transformer, float32, no dropout, Adam) on the same
global batches of the preset (random lengths, padded); ``--processes`` ranks each take their
shard of every batch under ``nn.parallel.DistributedDataParallel``, the single process takes the
whole batch with all the threads. Each configuration runs in its own processes, started by this
script (the ranks through ``mpiexec``), one after the other.

Reported per configuration: the median step (forward, backward with its gradient all-reduce,
Adam) over ``--steps`` after ``--warmup``, and target tokens per second of the global batch.
For the data-parallel run also, per step (medians, from rank 0): the gradient bytes reduced, the
bytes each rank sends under a ring all-reduce (2(N-1)/N of them), the number of buckets, the
time the buckets' all-reduces were in flight (summed over buckets), how much of it passed before
backward's compute ended (overlapped), the share of the bytes already reduced by then (MPICH
moves data only inside MPI calls, which DDP makes at each gradient hook, so in flight is not
the same as moving; ``MPIR_CVAR_ASYNC_PROGRESS=1`` gives MPICH a progress thread), how long the
end of backward then waited for the rest (exposed), and, for reference, one blocking all-reduce
of all the gradient bytes at once.

Threads: ``--threads`` (default 2) for the single process; 1 per rank for the processes (BLAS,
OpenMP and minigrad's pool: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS,
MINIGRAD_NUM_THREADS), so both use the same number of cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS.parent
sys.path.insert(0, str(BENCHMARKS))
sys.path.insert(0, str(REPO_ROOT))

from train_step import NUM_BATCHES, PAD_ID, PRESETS, make_batches, model_kwargs  # noqa: E402

PRESETS = {
    **PRESETS,
    "tiny": dict(d_model=32, n_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=64,
                 vocab=100, batch=8, src_len=8, tgt_len=8, steps=3, warmup=1),
}  # fmt: skip
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=tuple(PRESETS), default="small")
    p.add_argument("--steps", type=int, help="timed steps (default: the preset's)")
    p.add_argument("--warmup", type=int, help="untimed steps first (default: the preset's)")
    p.add_argument("--processes", type=int, default=2, help="ranks of the MPI run (default 2)")
    p.add_argument("--threads", type=int, default=2, help="threads of the single process")
    p.add_argument("--bucket-cap-mb", type=float, default=25.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="write the figures to PATH as JSON")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    preset = PRESETS[args.preset]
    args.steps = preset["steps"] if args.steps is None else args.steps
    args.warmup = preset["warmup"] if args.warmup is None else args.warmup
    if args.steps < 1 or args.warmup < 0 or args.processes < 1 or args.threads < 1:
        p.error("--steps, --processes and --threads must be >= 1, --warmup >= 0")
    if not 0 < args.bucket_cap_mb < float("inf") or args.seed < 0:
        p.error(
            f"--bucket-cap-mb must be > 0 and --seed >= 0, got {args.bucket_cap_mb}, {args.seed}"
        )
    if args.json and Path(args.json).is_dir():
        p.error(f"--json {args.json} is a directory, not a file name")
    return args


# ---------------------------------------------------------------------------------------------
# The worker: one process, or one rank of the MPI job
# ---------------------------------------------------------------------------------------------


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Time ``--warmup`` + ``--steps`` training steps; returns the figures (rank 0's)."""
    import numpy as np  # noqa: PLC0415

    import minigrad as mg  # noqa: PLC0415  (after the thread variables are set)
    import minigrad.distributed as dist  # noqa: PLC0415
    import nn  # noqa: PLC0415
    from transformer import Transformer  # noqa: PLC0415
    from transformer.data import shard_slice  # noqa: PLC0415

    parallel = dist.launched_by_mpi()
    if parallel:
        dist.init_process_group()
    rank, world = (dist.get_rank(), dist.get_world_size()) if parallel else (0, 1)
    cfg = dict(PRESETS[args.preset], dropout=0.0)
    cfg["max_len"] = max(cfg["src_len"], cfg["tgt_len"]) + 1
    mg.manual_seed(args.seed)
    model = Transformer(**model_kwargs(cfg), device="cpu")
    trainer = nn.parallel.DistributedDataParallel(model, args.bucket_cap_mb) if parallel else model
    opt = nn.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    batches = make_batches(np, cfg, args.seed)
    rows = shard_slice(cfg["batch"], rank, world)
    times, syncs, tokens = [], [], []
    for step in range(args.warmup + args.steps):
        i = step % NUM_BATCHES
        src, tgt_in, tgt_out = (batches[f"{k}{i}"] for k in ("src", "tgt_in", "tgt_out"))
        global_tokens = int((tgt_out != PAD_ID).sum())
        if parallel:
            dist.barrier()  # every rank starts the step together
        start = time.perf_counter()
        opt.zero_grad()
        logits = trainer(mg.tensor(src[rows]), mg.tensor(tgt_in[rows]))
        loss = mg.cross_entropy(
            logits.reshape(-1, cfg["vocab"]), mg.tensor(tgt_out[rows]).reshape(-1),
            ignore_index=PAD_ID, label_smoothing=0.1, reduction="sum",
        ) * (world / global_tokens)  # fmt: skip
        loss.backward()
        opt.step()
        loss.item()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
            tokens.append(global_tokens)
            if parallel:
                syncs.append(dict(trainer.last_sync))
    figures = summarize(times, tokens, syncs, world)
    if parallel:
        figures["blocking_all_reduce_seconds"] = blocking_all_reduce(mg, dist, model)
        dist.destroy_process_group()
    figures["parameters"] = model.num_parameters()
    return figures if rank == 0 else {}


def summarize(
    times: list[float], tokens: list[int], syncs: list[dict[str, float]], world: int
) -> dict[str, Any]:
    step = statistics.median(times)
    out: dict[str, Any] = {
        "processes": world,
        "step_seconds": step,
        "target_tokens_per_second": statistics.median(tokens) / step,
    }
    if syncs:
        for key in syncs[0]:
            out[key] = statistics.median(s[key] for s in syncs)
        out["overlapped_share"] = out["overlapped_seconds"] / max(out["comm_seconds"], 1e-12)
    return out


def blocking_all_reduce(mg: Any, dist: Any, model: Any, reps: int = 5) -> float:
    """The median time of one blocking all-reduce of all the gradient elements at once."""
    flat = mg.zeros(model.num_parameters())
    times = []
    for _ in range(reps):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(flat)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------
# The driver: one run per configuration, in fresh processes
# ---------------------------------------------------------------------------------------------


def launch(args: argparse.Namespace, processes: int, threads: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), MINIGRAD_NUM_THREADS=str(threads))
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    env.pop("MINIGRAD_BACKEND", None)
    command = [sys.executable, __file__, "--worker", "--preset", args.preset]
    command += ["--steps", str(args.steps), "--warmup", str(args.warmup), "--seed", str(args.seed)]
    command += ["--bucket-cap-mb", str(args.bucket_cap_mb)]
    if processes > 1:
        mpiexec = Path(sys.executable).with_name("mpiexec")
        launcher = str(mpiexec) if mpiexec.exists() else shutil.which("mpiexec")
        if launcher is None:
            sys.exit("error: no mpiexec found: pip install mpi4py mpich")
        command = [launcher, "-n", str(processes), *command]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{result.stderr}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def report(single: dict[str, Any], multi: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"preset {args.preset}: {single['parameters']:,} parameters, float32, "
        f"{args.steps} steps after {args.warmup}"
    )
    for name, r in ((f"1 process x {args.threads} threads", single),
                    (f"{args.processes} processes x 1 thread", multi)):  # fmt: skip
        print(
            f"  {name:24s} step {r['step_seconds'] * 1e3:8.1f} ms   "
            f"{r['target_tokens_per_second']:10,.0f} target tokens/s"
        )
    print(
        f"  all-reduce per step: {multi['bytes'] / 2**20:.2f} MiB of gradients in "
        f"{multi['buckets']:.0f} bucket(s), {multi['ring_bytes_sent'] / 2**20:.2f} MiB sent per "
        f"rank (ring); in flight {multi['comm_seconds'] * 1e3:.1f} ms, of which "
        f"{multi['overlapped_seconds'] * 1e3:.1f} ms before backward's compute ended "
        f"({multi['overlapped_share']:.0%}); {multi['hidden_bytes'] / multi['bytes']:.0%} of the bytes "
        f"reduced by then; exposed wait {multi['exposed_wait_seconds'] * 1e3:.1f}"
        f" ms; one blocking all-reduce of everything {multi['blocking_all_reduce_seconds'] * 1e3:.1f}"
        f" ms"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        figures = worker(args)
        if figures:
            print(json.dumps(figures), flush=True)
        return 0
    single = launch(args, 1, args.threads)
    multi = launch(args, args.processes, 1)
    report(single, multi, args)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"preset": args.preset, "single": single, "parallel": multi}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
