"""Collectives across processes, for data-parallel training (PyTorch's ``torch.distributed`` names).

    mpiexec -n 2 python train.py

    >>> import minigrad.distributed as dist
    >>> dist.init_process_group()                 # MPI; "nccl" for CuPy arrays on GPUs
    >>> dist.all_reduce(t, op="mean")             # in place on t's array, on every rank
    >>> dist.get_rank(), dist.get_world_size()

Two backends:

- ``"mpi"`` (the default): MPI through mpi4py (``pip install mpi4py mpich`` brings both the
  bindings and an MPI library, no system MPI needed). Collectives read and write the NumPy array
  behind the tensor directly; a non-contiguous array goes through one contiguous copy, and a
  CuPy array through a host copy (this build assumes no CUDA-aware MPI).
- ``"nccl"``: NCCL through CuPy, for CuPy arrays, one GPU per rank (``cuda:{local rank}``).
  The NCCL communicator is bootstrapped over MPI: rank 0 makes the NCCL unique id and MPI
  broadcasts it. CPU tensors still go over MPI. It needs CuPy with NCCL and one GPU per rank
  on each node. It has run with one rank on one GPU (``.ci/gpu-check``), not yet across
  several GPUs.

Every collective is started non-blocking and then polled until it completes or
``MINIGRAD_DIST_TIMEOUT`` seconds (default 600) pass, when it raises `DistributedTimeoutError`.
What a timeout detects: a rank that never joins the collective (it crashed without ending the
job, hangs, waits in another collective, or has finished). What it cannot: ranks that call
collectives in a different order with compatible sizes (MPI matches them and returns wrong
numbers, or errors out), a rank stuck outside a collective while the others are not yet waiting
on it, and work slower than the timeout (a false alarm: raise the timeout). Ranks that pass
different shapes, dtypes, ops or sources to the same blocking collective are told apart first
(one small all-gather of each rank's call): every rank raises `DistributedError` naming each
rank's call, and no tensor changes. ``async_op=True`` calls skip that check (DDP checks its
buckets and buffers once, when it is built), as does every call on one rank. A collective that
timed out is still pending and cannot be cancelled: end the job (`abort`), do not retry.

After `init_process_group` with more than one rank, an uncaught exception on any rank prints
``rank R: ErrorType: message`` and ends the whole job (``MPI_Abort``), so no rank hangs in a
collective waiting for the failed one.

Only this module imports mpi4py (lazily: importing minigrad needs no MPI), and only
``minigrad.backend`` names NumPy or CuPy.

Owns: the process group and the collectives (``all_reduce``, ``broadcast``, ``all_gather``,
``barrier``). May import: ``backend`` and ``tensor`` (and mpi4py, lazily).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import zlib
from collections.abc import Callable
from types import ModuleType, TracebackType
from typing import Any

from minigrad import backend as array_backend
from minigrad.tensor import Tensor

__all__ = [
    "DistributedError",
    "DistributedTimeoutError",
    "Work",
    "abort",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_local_rank",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_initialized",
    "launched_by_mpi",
]

REDUCE_OPS = ("sum", "mean", "max", "min")
DEFAULT_TIMEOUT = 600.0
# Environment variables that MPI launchers set for each process (MPICH/Hydra, Open MPI, Slurm
# with PMI, Intel MPI): a size above 1 means this process is one rank of a parallel job.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE")


class DistributedError(RuntimeError):
    """A collective was misused (no process group, bad shapes, dtypes, devices or ops)."""


class DistributedTimeoutError(DistributedError):
    """A collective did not complete within ``MINIGRAD_DIST_TIMEOUT`` seconds."""


# ---------------------------------------------------------------------------------------------
# The process group
# ---------------------------------------------------------------------------------------------


class _Group:
    """What `init_process_group` sets up: the MPI communicators and, for NCCL, its own."""

    def __init__(self, mpi: ModuleType, backend_name: str, timeout: float) -> None:
        self.mpi = mpi
        self.comm = mpi.COMM_WORLD.Dup()  # our collectives never match the user's own MPI calls
        self.local = self.comm.Split_type(mpi.COMM_TYPE_SHARED)  # the ranks on this node
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.local_rank = self.local.Get_rank()
        self.backend = backend_name
        self.timeout = timeout
        self.nccl: Any = None  # cupy.cuda.nccl.NcclCommunicator for "nccl"
        self.previous_excepthook: Callable[..., Any] | None = None

    def free(self) -> None:
        if self.nccl is not None:
            self.nccl.destroy()
        self.local.Free()
        self.comm.Free()


_group: _Group | None = None


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (``mpiexec -n N``, N > 1) started this process, read from the
    environment variables launchers set (PMI_SIZE, OMPI_COMM_WORLD_SIZE, ...); imports no MPI."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def _import_mpi() -> ModuleType:
    try:
        from mpi4py import MPI  # noqa: PLC0415  (lazy: importing minigrad needs no MPI)
    except ImportError as err:
        raise DistributedError(
            "minigrad.distributed needs mpi4py and an MPI library: pip install mpi4py mpich "
            f"(or pip install 'minigrad[distributed]'); import failed: {err}"
        ) from None
    return MPI


def _timeout_from_env() -> float:
    raw = os.environ.get("MINIGRAD_DIST_TIMEOUT", "")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise DistributedError(f"MINIGRAD_DIST_TIMEOUT must be a positive number, got {raw!r}")
    return value


def init_process_group(
    backend: str | None = None, *, timeout: float | None = None, abort_on_error: bool = True
) -> None:
    """Join the job's process group: every rank of ``mpiexec -n N`` must call it.

    Args:
        backend: ``"mpi"`` or ``"nccl"``; ``None`` picks ``"nccl"`` when the CuPy backend is
            active, else ``"mpi"``. With ``"nccl"``, rank r uses GPU ``cuda:{local rank}``
            (made the current device) and the CuPy backend.
        timeout: seconds a collective may wait; default ``MINIGRAD_DIST_TIMEOUT`` or 600.
        abort_on_error: with more than one rank, install a ``sys.excepthook`` that names the
            rank and the error and ends every rank (``MPI_Abort``) instead of leaving the others
            waiting.

    Raises:
        DistributedError: already initialized, an unknown backend, mpi4py missing, or
            ``"nccl"`` without CuPy (or without NCCL in it).
    """
    global _group
    if _group is not None:
        raise DistributedError("init_process_group: the process group is already initialized")
    if backend is None:
        backend = "nccl" if array_backend.get_backend() == "cupy" else "mpi"
    if backend not in ("mpi", "nccl"):
        raise DistributedError(
            f"init_process_group: backend must be 'mpi' or 'nccl', got {backend!r}"
        )
    timeout = _timeout_from_env() if timeout is None else float(timeout)
    if not timeout > 0:
        raise DistributedError(f"init_process_group: timeout must be positive, got {timeout}")
    if backend == "nccl":
        _check_nccl_available()
    group = _Group(_import_mpi(), backend, timeout)
    if backend == "nccl":
        group.nccl = _init_nccl(group)
    _group = group
    if abort_on_error and group.size > 1:
        group.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_hook


def _check_nccl_available() -> None:
    if not array_backend.cupy_available():
        raise DistributedError(
            "init_process_group('nccl') needs CuPy and a CUDA GPU (pip install 'minigrad[gpu]'); "
            "use the default 'mpi' backend on CPUs"
        )
    try:
        from cupy.cuda import nccl  # noqa: PLC0415  (only for the nccl backend)
    except ImportError as err:
        nccl, reason = None, str(err)
    else:
        reason = "cupy.cuda.nccl.available is False"
    if nccl is None or not getattr(nccl, "available", True):
        raise DistributedError(
            f"init_process_group('nccl'): this CuPy has no NCCL support ({reason}); install "
            "NCCL (pip install nvidia-nccl-cu12) or use the 'mpi' backend"
        )


def _init_nccl(group: _Group) -> Any:
    """One GPU per rank, cuda:{local rank}; the NCCL id travels from rank 0 over MPI."""
    from cupy.cuda import nccl  # noqa: PLC0415

    cupy = array_backend.module_for_device("cuda:0")
    gpus = cupy.cuda.runtime.getDeviceCount()
    if group.local_rank >= gpus:
        raise DistributedError(
            f"rank {group.rank}: local rank {group.local_rank} needs cuda:{group.local_rank}, "
            f"but this node has {gpus} GPU(s): start at most {gpus} ranks per node"
        )
    cupy.cuda.Device(group.local_rank).use()
    array_backend.set_backend("cupy")
    uid = nccl.get_unique_id() if group.rank == 0 else None
    uid = group.comm.bcast(uid, root=0)
    return nccl.NcclCommunicator(group.size, uid, group.rank)


def _require_group(what: str) -> _Group:
    if _group is None:
        raise DistributedError(
            f"{what}: the process group is not initialized; call "
            "minigrad.distributed.init_process_group() first"
        )
    return _group


def is_initialized() -> bool:
    """Whether `init_process_group` ran (and `destroy_process_group` did not)."""
    return _group is not None


def get_rank() -> int:
    """This process's rank, 0..world_size - 1."""
    return _require_group("get_rank").rank


def get_world_size() -> int:
    """The number of processes in the group."""
    return _require_group("get_world_size").size


def get_local_rank() -> int:
    """This process's rank among the processes on its node (MPI's shared-memory split), which
    picks its GPU with NCCL."""
    return _require_group("get_local_rank").local_rank


def get_backend() -> str:
    """``"mpi"`` or ``"nccl"``."""
    return _require_group("get_backend").backend


def destroy_process_group() -> None:
    """Leave the process group (MPI itself is finalized by mpi4py at exit)."""
    global _group
    group = _require_group("destroy_process_group")
    if group.previous_excepthook is not None and sys.excepthook is _abort_hook:
        sys.excepthook = group.previous_excepthook
    group.free()
    _group = None


# ---------------------------------------------------------------------------------------------
# Ending the job on an error
# ---------------------------------------------------------------------------------------------


ABORT_DRAIN_SECONDS = 0.5  # the pause between a failing rank's last words and MPI_Abort


def abort(error: BaseException | str, code: int = 1) -> None:
    """Print ``rank R: ErrorType: message`` to stderr and end every rank of the job.

    Without a process group (or with one rank) it only prints; the caller then exits.
    """
    rank = _group.rank if _group is not None else 0
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    print(f"rank {rank}: {text}", file=sys.stderr, flush=True)
    if _group is not None and _group.size > 1:
        # MPI_Abort ends the job at once, and mpiexec may drop what this rank printed but it has
        # not forwarded yet (the traceback, the line above): give it a moment to pass it on
        time.sleep(ABORT_DRAIN_SECONDS)
        _group.mpi.COMM_WORLD.Abort(code)


def _abort_hook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    traceback.print_exception(exc_type, exc, tb)
    abort(exc)


# ---------------------------------------------------------------------------------------------
# Waiting, with a deadline
# ---------------------------------------------------------------------------------------------


class Work:
    """A started collective (PyTorch's ``Work``): `wait` blocks until it completes.

    Args:
        done: returns whether the collective has completed (and makes progress on it).
        finish: runs once after completion (divide for "mean", copy back a staging buffer).
        what: names the collective in a timeout error.
    """

    def __init__(self, done: Callable[[], bool], finish: Callable[[], None], what: str) -> None:
        self._done = done
        self._finish = finish
        self._what = what
        self._completed = False
        self.started = time.perf_counter()
        self.finished: float | None = None  # perf_counter() when first seen complete

    def is_completed(self) -> bool:
        """Whether it has completed; never blocks (polling also drives MPI's progress)."""
        if not self._completed and self._done():
            self._completed = True
            self.finished = time.perf_counter()
            self._finish()
        return self._completed

    def wait(self) -> bool:
        """Block until complete; returns True.

        Raises:
            DistributedTimeoutError: still incomplete after the group's timeout.
        """
        group = _require_group(self._what)
        deadline = time.monotonic() + group.timeout
        pause = 1e-5
        while not self.is_completed():
            if time.monotonic() > deadline:
                raise DistributedTimeoutError(
                    f"{self._what} on rank {group.rank} did not complete within {group.timeout:g} s "
                    f"(MINIGRAD_DIST_TIMEOUT): another rank failed, hangs, or calls collectives in "
                    f"another order; the collective is still pending, end the job"
                )
            time.sleep(pause)
            pause = min(2 * pause, 1e-3)
        return True


def _mpi_work(request: Any, finish: Callable[[], None], what: str) -> Work:
    return Work(request.Test, finish, what)


def _nccl_work(finish: Callable[[], None], what: str) -> Work:
    cupy = array_backend.module_for_device("cuda:0")
    event = cupy.cuda.Event(block=False, disable_timing=True)
    event.record()
    return Work(lambda: event.done, finish, what)


# ---------------------------------------------------------------------------------------------
# Buffers: the tensor's own array when MPI can use it, else one staging copy
# ---------------------------------------------------------------------------------------------


def _check_tensor(tensor: Any, what: str) -> None:
    if not isinstance(tensor, Tensor):
        raise DistributedError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind not in "fiub":
        raise DistributedError(f"{what}: unsupported dtype {tensor.dtype}")


_CALL_BYTES = 160  # each rank's description of its call, in the check that all agree


def _check_same_call(group: _Group, what: str, tensor: Tensor, detail: str = "") -> None:
    """Every rank passes the same shape and dtype (and ``detail``: the op or the source rank).

    MPI reduces or copies whatever bytes each rank hands it: a mismatch gives wrong numbers on
    some ranks, or an MPI error that names no shape. One all-gather of each rank's description
    of its call, before any data moves, turns it into the same error on every rank.

    Raises:
        DistributedError: the ranks' calls differ; the message lists each rank's.
    """
    if group.size == 1:
        return
    call = f"shape {tuple(tensor.shape)} {tensor.dtype.name}{detail}"
    text = f"{zlib.crc32(call.encode()):08x} {call}".encode()[:_CALL_BYTES]  # crc: cut text too
    host = array_backend.module_for_device("cpu")
    mine = host.zeros(_CALL_BYTES, dtype="uint8")
    mine[: len(text)] = host.frombuffer(text, dtype="uint8")
    table = host.empty((group.size, _CALL_BYTES), dtype="uint8")
    _mpi_work(group.comm.Iallgather(mine, table), lambda: None, what).wait()
    if (table == mine).all():
        return
    calls = [row.tobytes().rstrip(b"\0").decode(errors="replace")[9:] for row in table]
    listed = "; ".join(f"rank {rank}: {c}" for rank, c in enumerate(calls))
    raise DistributedError(
        f"{what} on rank {group.rank}: the ranks' calls differ ({listed}); every rank must pass "
        "the same shape, dtype and arguments (nothing was changed)"
    )


def _mpi_buffer(arr: Any, writes: bool, what: str) -> tuple[Any, Callable[[], None]]:
    """A contiguous host array for MPI and what copies it back into ``arr`` afterwards."""
    on_cpu = array_backend.device_of(arr) == "cpu"
    if writes and not array_backend.is_writable(arr):
        raise DistributedError(
            f"{what}: the tensor's array is read-only (a broadcast view?): the result has "
            "nowhere to go; pass a tensor that owns its memory"
        )
    if on_cpu and arr.flags.c_contiguous:
        return arr, lambda: None
    host = array_backend.contiguous(array_backend.to_host(arr))
    if not writes:
        return host, lambda: None

    def copy_back() -> None:
        arr[...] = array_backend.asarray(host, device=array_backend.device_of(arr))

    return host, copy_back


def _nccl_dtype(arr: Any, what: str) -> Any:
    from cupy.cuda import nccl  # noqa: PLC0415

    types = {
        "float16": nccl.NCCL_FLOAT16,
        "float32": nccl.NCCL_FLOAT32,
        "float64": nccl.NCCL_FLOAT64,
        "int32": nccl.NCCL_INT32,
        "int64": nccl.NCCL_INT64,
        "uint8": nccl.NCCL_UINT8,
    }
    if arr.dtype.name not in types:
        raise DistributedError(f"{what}: NCCL has no type for {arr.dtype}")
    return types[arr.dtype.name]


def _use_nccl(group: _Group, arr: Any, what: str) -> bool:
    """NCCL for GPU arrays under the nccl backend; MPI for everything else (CPU tensors too)."""
    if group.backend != "nccl" or array_backend.device_of(arr) == "cpu":
        return False
    if not arr.flags.c_contiguous:
        raise DistributedError(f"{what}: NCCL needs a contiguous tensor (call .contiguous())")
    return True


# ---------------------------------------------------------------------------------------------
# Collectives
# ---------------------------------------------------------------------------------------------


def all_reduce(tensor: Tensor, op: str = "sum", async_op: bool = False) -> Any:
    """Reduce ``tensor`` (any shape) across ranks, in place: every rank gets the result.

    Args:
        tensor: the same shape and dtype on every rank.
        op: ``"sum"``, ``"mean"`` (floating point only), ``"max"`` or ``"min"``.
        async_op: return a `Work` right after starting; ``tensor`` holds the result once
            ``work.wait()`` returns.

    Returns:
        ``tensor`` (or, with ``async_op``, the `Work`).
    """
    what = f"all_reduce(op={op!r}, shape {tuple(getattr(tensor, 'shape', ()))})"
    group = _require_group(what)
    _check_tensor(tensor, what)
    if op not in REDUCE_OPS:
        raise DistributedError(f"all_reduce: op must be one of {REDUCE_OPS}, got {op!r}")
    if tensor.dtype.kind == "b":
        raise DistributedError(
            f"all_reduce: bool tensors cannot be reduced (MPI has no {op!r} on bools); "
            "cast to an integer dtype first"
        )
    if op == "mean" and tensor.dtype.kind != "f":
        raise DistributedError(
            f"all_reduce: op 'mean' needs a floating point tensor, got {tensor.dtype}"
        )
    if not async_op:
        _check_same_call(group, "all_reduce", tensor, f", op {op!r}")
    arr = tensor.array
    if _use_nccl(group, arr, what):
        from cupy.cuda import nccl  # noqa: PLC0415

        nccl_op = {
            "sum": nccl.NCCL_SUM,
            "mean": nccl.NCCL_SUM,
            "max": nccl.NCCL_MAX,
            "min": nccl.NCCL_MIN,
        }[op]
        stream = array_backend.module_for_device("cuda:0").cuda.get_current_stream().ptr
        group.nccl.allReduce(
            arr.data.ptr, arr.data.ptr, arr.size, _nccl_dtype(arr, what), nccl_op, stream
        )
        if op == "mean":
            arr /= group.size  # queued on the same stream, after the sum
        work = _nccl_work(lambda: None, what)
    else:
        buf, copy_back = _mpi_buffer(arr, writes=True, what=what)
        mpi = group.mpi
        mpi_op = {"sum": mpi.SUM, "mean": mpi.SUM, "max": mpi.MAX, "min": mpi.MIN}[op]

        def finish() -> None:
            if op == "mean":
                buf[...] /= group.size
            copy_back()

        work = _mpi_work(group.comm.Iallreduce(mpi.IN_PLACE, buf, op=mpi_op), finish, what)
    if async_op:
        return work
    work.wait()
    return tensor


def broadcast(tensor: Tensor, src: int = 0, async_op: bool = False) -> Any:
    """Overwrite ``tensor`` on every rank with rank ``src``'s values, in place.

    Returns:
        ``tensor`` (or, with ``async_op``, the `Work`).
    """
    what = f"broadcast(src={src}, shape {tuple(getattr(tensor, 'shape', ()))})"
    group = _require_group(what)
    _check_tensor(tensor, what)
    if not 0 <= src < group.size:
        raise DistributedError(f"broadcast: src {src} is not a rank of 0..{group.size - 1}")
    if not async_op:
        _check_same_call(group, "broadcast", tensor, f", src {src}")
    arr = tensor.array
    if _use_nccl(group, arr, what):
        stream = array_backend.module_for_device("cuda:0").cuda.get_current_stream().ptr
        group.nccl.bcast(arr.data.ptr, arr.size, _nccl_dtype(arr, what), src, stream)
        work = _nccl_work(lambda: None, what)
    else:
        buf, copy_back = _mpi_buffer(arr, writes=True, what=what)
        work = _mpi_work(group.comm.Ibcast(buf, root=src), copy_back, what)
    if async_op:
        return work
    work.wait()
    return tensor


def all_gather(tensor_list: list[Tensor], tensor: Tensor) -> list[Tensor]:
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` on every rank (PyTorch's signature).

    Args:
        tensor_list: ``world_size`` tensors of ``tensor``'s shape and dtype, written in place.
        tensor: this rank's contribution, the same shape and dtype on every rank.

    Returns:
        ``tensor_list``.
    """
    what = f"all_gather(shape {tuple(getattr(tensor, 'shape', ()))})"
    group = _require_group(what)
    _check_tensor(tensor, what)
    if len(tensor_list) != group.size:
        raise DistributedError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors for {group.size} ranks"
        )
    for i, out in enumerate(tensor_list):
        _check_tensor(out, what)
        if out.shape != tensor.shape or out.dtype != tensor.dtype:
            raise DistributedError(
                f"all_gather: tensor_list[{i}] has shape {out.shape} and dtype {out.dtype}, "
                f"expected {tensor.shape} and {tensor.dtype}"
            )
    _check_same_call(group, "all_gather", tensor)
    arr = tensor.array
    if _use_nccl(group, arr, what):
        xp = array_backend.array_module(arr)
        gathered = xp.empty((group.size, *arr.shape), dtype=arr.dtype)
        stream = array_backend.module_for_device("cuda:0").cuda.get_current_stream().ptr
        group.nccl.allGather(
            arr.data.ptr, gathered.data.ptr, arr.size, _nccl_dtype(arr, what), stream
        )
        work = _nccl_work(lambda: None, what)
    else:
        send, _ = _mpi_buffer(arr, writes=False, what=what)
        gathered = array_backend.module_for_device("cpu").empty(
            (group.size, *arr.shape), dtype=arr.dtype
        )
        work = _mpi_work(group.comm.Iallgather(send, gathered), lambda: None, what)
    work.wait()
    for out, part in zip(tensor_list, gathered):
        out.array[...] = array_backend.asarray(part, device=out.device)
    return tensor_list


def barrier() -> None:
    """Wait until every rank has called `barrier`."""
    group = _require_group("barrier")
    _mpi_work(group.comm.Ibarrier(), lambda: None, "barrier").wait()
