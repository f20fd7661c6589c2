"""minigrad.distributed, nn.parallel.DistributedDataParallel and ``transformer.train
--distributed``, each run as ``mpiexec -n 2`` over a small script in tests/mpi_scripts/.

Skipped, with the reason, where mpi4py or mpiexec is missing (``pip install -e '.[test]'``
installs both: mpi4py and the mpich wheel). The single-process parts (API errors without a
process group, the post-accumulate-grad hook, the sampler) run everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.distributed as dist
import nn
from transformer import train
from transformer.data import DistributedBatchSampler, make_task, shard_slice

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).resolve().parent / "mpi_scripts"


def _mpiexec() -> str | None:
    beside_python = Path(sys.executable).with_name("mpiexec")
    return str(beside_python) if beside_python.exists() else shutil.which("mpiexec")


def _why_no_mpi() -> str | None:
    try:
        import mpi4py  # noqa: F401, PLC0415
    except ImportError:
        return "mpi4py is not installed (pip install -e '.[test]' installs mpi4py and mpich)"
    if _mpiexec() is None:
        return "no mpiexec on PATH or beside the Python executable (pip install mpich)"
    return None


needs_mpi = pytest.mark.skipif(_why_no_mpi() is not None, reason=str(_why_no_mpi()))


def mpirun(
    args: list[str], n: int = 2, timeout_env: float = 30, limit: float = 120, **kwargs
) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` on ``n`` ranks from the repository root; the wall-time ``limit``
    turns a hang into a failure instead of a stuck suite."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_DIST_TIMEOUT=str(timeout_env))
    env.pop("MINIGRAD_BACKEND", None)  # the MPI backend runs on NumPy arrays
    env["MINIGRAD_NUM_THREADS"] = "1"
    command = [_mpiexec(), "-n", str(n), sys.executable, *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=limit, **kwargs
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


# ---------------------------------------------------------------------------------------------
# One process: no MPI needed
# ---------------------------------------------------------------------------------------------


def test_collectives_without_a_process_group_say_what_to_call():
    assert not dist.is_initialized()
    for call in (
        dist.get_rank,
        dist.get_world_size,
        dist.barrier,
        lambda: dist.all_reduce(mg.ones(2)),
    ):
        with pytest.raises(dist.DistributedError, match="init_process_group"):
            call()
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))


def test_nccl_without_cupy_is_a_clear_error():
    if mg.cupy_available():
        pytest.skip("CuPy is available here: the error path cannot be taken")
    with pytest.raises(dist.DistributedError, match="CuPy"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized()


def test_bad_backend_and_timeout(monkeypatch):
    with pytest.raises(dist.DistributedError, match="'mpi' or 'nccl'"):
        dist.init_process_group("gloo")
    monkeypatch.setenv("MINIGRAD_DIST_TIMEOUT", "soon")
    with pytest.raises(dist.DistributedError, match="MINIGRAD_DIST_TIMEOUT"):
        dist.init_process_group()
    assert not dist.is_initialized()


def test_launched_by_mpi_reads_the_launcher_environment(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not dist.launched_by_mpi()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not dist.launched_by_mpi()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert dist.launched_by_mpi()


def test_post_accumulate_grad_hook_sees_the_final_gradient_before_backward_ends():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    events = []

    def on_a(t):
        events.append(("a", t.grad.tolist()))
        mg.autograd.queue_callback(lambda: events.append(("end", b.grad.tolist())))

    remove = a.register_post_accumulate_grad_hook(on_a)
    b.register_post_accumulate_grad_hook(lambda t: events.append(("b", t.grad.tolist())))
    # a is used once, early in backward; b twice: a's gradient is final first
    ((a * b).sum() * 2 + (b * b).sum()).backward()
    assert events == [("a", [6.0, 8.0]), ("b", [8.0, 12.0]), ("end", [8.0, 12.0])]
    events.clear()
    (a * 3).sum().backward()  # accumulates: the hook sees the sum
    assert events[0] == ("a", [9.0, 11.0])
    remove()
    events.clear()
    (a * 3).sum().backward()
    assert events == [] and a.grad.tolist() == [12.0, 14.0]
    with pytest.raises(RuntimeError, match="leaf"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="no backward"):
        mg.autograd.queue_callback(lambda: None)


def test_post_accumulate_grad_hook_runs_while_backward_still_has_work():
    """a's last use is the first node backward runs: its hook must come before the node that
    leads to b (what lets DDP's all-reduce overlap the rest of backward)."""
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    events = []
    a.register_post_accumulate_grad_hook(lambda t: events.append("a ready"))
    b.register_post_accumulate_grad_hook(lambda t: events.append("b ready"))
    h = b * 2
    h.register_hook(lambda g: events.append("h's gradient"))
    (a * h).sum().backward()
    assert events == ["a ready", "h's gradient", "b ready"]
    assert a.grad.tolist() == [6.0, 8.0] and b.grad.tolist() == [2.0, 4.0]


def test_post_accumulate_grad_hook_is_not_called_by_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    a.register_post_accumulate_grad_hook(calls.append)
    (g,) = mg.grad((a * a).sum(), a)
    assert g.tolist() == [2.0, 4.0] and calls == [] and a.grad is None


# ---------------------------------------------------------------------------------------------
# Two processes
# ---------------------------------------------------------------------------------------------


@needs_mpi
def test_collectives_on_two_ranks():
    assert "ok collectives on 2 ranks" in _ok(mpirun([str(SCRIPTS / "collectives.py")]))


@needs_mpi
def test_ddp_equals_one_process_on_the_whole_batch():
    """SGD momentum and Adam, with and without no_sync accumulation, 1e-10 in float64;
    identical weights on every rank; unused parameters."""
    assert "ok ddp" in _ok(mpirun([str(SCRIPTS / "ddp.py")]))


@needs_mpi
@pytest.mark.parametrize("mode", ["raise", "timeout"])
def test_a_failing_rank_ends_the_job_naming_it(mode):
    start = time.monotonic()
    # raise: the timeout must outlast rank 1's start-up, or rank 0 times out before rank 1
    # raises; timeout: short, to show the timeout ends the job
    timeout_env = 30 if mode == "raise" else 3
    result = mpirun([str(SCRIPTS / "failure.py"), mode], timeout_env=timeout_env, limit=60)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert "unreachable" not in result.stdout
    if mode == "raise":
        assert "rank 1: ValueError: bad batch on purpose" in result.stderr
    else:
        assert "rank 0: DistributedTimeoutError: all_reduce" in result.stderr
        assert "within 3 s (MINIGRAD_DIST_TIMEOUT)" in result.stderr
    assert elapsed < 30, f"the job took {elapsed:.0f} s to end"


@pytest.mark.gpu
def test_nccl_backend_on_one_gpu_collectives_and_training():
    """Untested so far (no GPU was lent while it was written); runs where CuPy and a GPU are."""
    if _why_no_mpi() is not None:
        pytest.skip(str(_why_no_mpi()))
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_BACKEND="cupy")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "nccl_one_rank.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "ok nccl" in _ok(result)


# ---------------------------------------------------------------------------------------------
# Sharding the data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, world", [(64, 2), (10, 3), (7, 7), (5, 1), (0, 2)])
def test_shard_slices_are_disjoint_balanced_and_cover_the_batch(n, world):
    parts = [list(range(n))[shard_slice(n, r, world)] for r in range(world)]
    assert sum(parts, []) == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError, match="rank"):
        shard_slice(n, world, world)


@pytest.mark.parametrize("world", [1, 2, 3])
def test_sampler_gives_each_rank_a_disjoint_shard_of_every_global_batch(world):
    def epoch(rank: int, number: int) -> list[np.ndarray]:
        sampler = DistributedBatchSampler(51, 12, rank=rank, world_size=world, seed=3)
        sampler.set_epoch(number)
        return list(sampler)

    one = DistributedBatchSampler(51, 12, seed=3)  # what one process sees
    one.set_epoch(1)
    global_batches = list(one)
    assert len(global_batches) == len(one) == 5 and len(global_batches[-1]) == 3
    shards = [epoch(r, 1) for r in range(world)]
    assert all(len(s) == len(one) for s in shards)  # every rank steps the same number of times
    for b, batch in enumerate(global_batches):
        parts = [shards[r][b] for r in range(world)]
        assert np.array_equal(np.concatenate(parts), batch)  # disjoint, together the batch
    assert sorted(np.concatenate(global_batches).tolist()) == list(range(51))
    assert np.array_equal(np.concatenate(epoch(0, 1)), np.concatenate(epoch(0, 1)))
    assert not np.array_equal(np.concatenate(epoch(0, 1)), np.concatenate(epoch(0, 2)))


def test_sampler_bad_arguments():
    with pytest.raises(ValueError, match="smaller than world_size"):
        DistributedBatchSampler(10, 2, rank=0, world_size=3)
    with pytest.raises(ValueError, match="drop_last"):
        DistributedBatchSampler(13, 4, rank=0, world_size=2)  # last global batch: 1 example
    assert len(DistributedBatchSampler(13, 4, world_size=2, drop_last=True)) == 3
    with pytest.raises(ValueError, match="rank 2"):
        DistributedBatchSampler(10, 4, rank=2, world_size=2)


def test_task_batches_shard_the_same_global_batch():
    task = make_task("reverse", seed=0)
    whole = next(task.train_batches(9, rng=4))
    parts = [next(task.train_batches(9, rng=4, rank=r, world_size=2)) for r in range(2)]
    assert [len(p) for p in parts] == [5, 4]
    assert parts[0].src_text + parts[1].src_text == whole.src_text


# ---------------------------------------------------------------------------------------------
# The training command line on two processes
# ---------------------------------------------------------------------------------------------

FLOAT64_SCRIPT = str(SCRIPTS / "train_float64.py")
LOW_LR = ["--lr-factor", "0.05"]  # Adam's step is scale-free: keep rounding differences small


def _weights(out: Path) -> dict[str, np.ndarray]:
    state = nn.load(train.checkpoint_path(out))
    return {name: t.numpy() for name, t in state["model"].items()}


def _max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def _python(args: list[str]) -> str:
    """Run ``python ARGS`` as one plain process, on NumPy like `mpirun`'s ranks."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_NUM_THREADS="1")
    env.pop("MINIGRAD_BACKEND", None)
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    return _ok(result)


@needs_mpi
def test_two_processes_train_the_one_process_model_and_resume_on_one(tmp_path):
    """float64: 2 processes x 2 micro-batches == 1 process == 1 process x 3 micro-batches, to
    1e-10, on the padded reverse task; a 2-process checkpoint at step 3 resumes on 1 process
    to the same step-6 model. Launched without --distributed: found from mpiexec's PMI_SIZE."""
    one, accumulated, two = tmp_path / "one", tmp_path / "accumulated", tmp_path / "two"
    steps = ["--eval-every", "3", *LOW_LR]
    _python([FLOAT64_SCRIPT, str(one), "--steps", "6", *steps])
    _python([FLOAT64_SCRIPT, str(accumulated), "--steps", "6", "--accumulate", "3", *steps])
    out = _ok(mpirun([FLOAT64_SCRIPT, str(two), "--steps", "3", "--accumulate", "2", *steps]))
    assert "2 processes" in out
    assert nn.load(train.checkpoint_path(two))["step"] == 3
    _python([FLOAT64_SCRIPT, str(two), "--steps", "6", *steps])  # resume on one process
    reference = _weights(one)
    assert next(iter(reference.values())).dtype == np.float64
    assert _max_difference(reference, _weights(accumulated)) < 1e-10
    assert _max_difference(reference, _weights(two)) < 1e-10
    losses = [nn.load(train.checkpoint_path(d))["history"]["loss"] for d in (one, two)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)


COPY = [
    "--task",
    "copy",
    "--d-model",
    "64",
    "--heads",
    "4",
    "--encoder-layers",
    "2",
    "--decoder-layers",
    "2",
    "--d-ff",
    "128",
    "--dropout",
    "0.0",
    "--batch-size",
    "64",
    "--warmup",
    "200",
    "--lr-factor",
    "0.3",
    "--no-plots",
]  # fmt: skip (examples/copy_task.py's settings)


@needs_mpi
def test_cli_on_two_processes_matches_one_process(tmp_path):
    """The real launcher path, float32: ``mpiexec -n 2 python -m transformer.train
    --distributed``; rank 0 alone writes the checkpoint and metrics."""
    tiny = [*COPY, "--d-model", "16", "--d-ff", "32", "--steps", "4", "--eval-every", "4"]
    tiny += ["--eval-size", "20", *LOW_LR]
    two, one = tmp_path / "two", tmp_path / "one"
    out = _ok(mpirun(["-m", "transformer.train", "--out", str(two), *tiny, "--distributed"]))
    assert out.count("test exact match") == 1  # printed by rank 0 only
    assert json.loads((two / "metrics.json").read_text())["processes"] == 2
    _python(["-m", "transformer.train", "--out", str(one), *tiny])
    assert _max_difference(_weights(one), _weights(two)) < 1e-4  # float32 rounding


@needs_mpi
def test_cli_rejects_a_global_batch_too_small_for_the_processes(tmp_path):
    result = mpirun(
        ["-m", "transformer.train", "--out", str(tmp_path), *COPY, "--batch-size", "3",
         "--accumulate", "2", "--distributed"]
    )  # fmt: skip
    assert result.returncode == 2
    message = (
        "python -m transformer.train: error: --batch-size 3 (the global batch) is smaller "
        "than 2 processes x --accumulate 2"
    )
    # one line from each rank that gets to print it: the ranks share one stderr pipe, so two
    # lines may run together, and mpiexec may end one rank when the other exits first
    lines = result.stderr.replace(message, f"\n{message}\n").splitlines()
    lines = [line for line in lines if line.strip()]
    assert 1 <= len(lines) <= 2 and set(lines) == {message}, result.stderr


@needs_mpi
@pytest.mark.slow
def test_cli_learns_the_copy_task_on_two_processes(tmp_path):
    """examples/copy_task.py's settings on 2 processes: every test sequence copied. Several
    minutes here (2 shared cores), hence slow."""
    run = ["-m", "transformer.train", "--out", str(tmp_path), *COPY, "--distributed"]
    run += ["--steps", "3000", "--eval-every", "250", "--target-accuracy", "1.0"]
    _ok(mpirun(run, timeout_env=300, limit=3600))
    assert json.loads((tmp_path / "metrics.json").read_text())["test_accuracy"] == 1.0


@needs_mpi
def test_cli_a_rank_that_raises_ends_the_job_naming_it(tmp_path):
    tiny = [*COPY, "--d-model", "16", "--d-ff", "32", "--steps", "50", "--eval-every", "50"]
    start = time.monotonic()
    result = mpirun([str(SCRIPTS / "train_fails.py"), "--out", str(tmp_path), *tiny], limit=60)
    assert result.returncode != 0
    assert "rank 1: FloatingPointError: loss is nan on purpose" in result.stderr
    assert time.monotonic() - start < 30  # ended by MPI_Abort, not by a 30 s timeout
    assert not (tmp_path / "metrics.json").exists()


@needs_mpi
def test_data_parallel_benchmark_runs(tmp_path):
    """A smoke run of benchmarks/data_parallel.py (tiny model, 2 steps): both configurations
    run and the figures it reports are there and consistent (no timing is asserted)."""
    out = tmp_path / "dp.json"
    bench = [str(ROOT / "benchmarks" / "data_parallel.py"), "--preset", "tiny"]
    _python(
        [*bench, "--steps", "2", "--warmup", "1", "--bucket-cap-mb", "0.05", "--json", str(out)]
    )
    figures = json.loads(out.read_text())
    single, parallel = figures["single"], figures["parallel"]
    assert single["processes"] == 1 and parallel["processes"] == 2
    assert parallel["parameters"] == single["parameters"]
    assert parallel["bytes"] >= 4 * parallel["parameters"] and parallel["buckets"] >= 2
    assert parallel["ring_bytes_sent"] == parallel["bytes"]  # 2(N-1)/N = 1 for N = 2
    assert 0 <= parallel["overlapped_seconds"] <= parallel["comm_seconds"]
