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
    result = mpirun([str(SCRIPTS / "failure.py"), mode], timeout_env=3, limit=60)
    elapsed = time.monotonic() - start
    assert result.returncode != 0
    assert "unreachable" not in result.stdout
    if mode == "raise":
        assert "rank 1: ValueError: bad batch on purpose" in result.stderr
    else:
        assert "rank 0: DistributedTimeoutError: all_reduce" in result.stderr
        assert "within 3 s (MINIGRAD_DIST_TIMEOUT)" in result.stderr
    assert elapsed < 30, f"the job took {elapsed:.0f} s to end"
