"""Data-parallel training: `DistributedDataParallel` (PyTorch's name and defaults).

    mpiexec -n 4 python train.py

    >>> import minigrad.distributed as dist
    >>> dist.init_process_group()
    >>> model = nn.parallel.DistributedDataParallel(build_model())   # rank 0's weights everywhere
    >>> loss = loss_fn(model(x_shard), y_shard)                      # this rank's share of the batch
    >>> loss.backward()                                              # gradients averaged over ranks
    >>> opt.step()                                                   # the same step on every rank

How the gradients travel. The parameters are split, in reverse order of registration (the order
backward tends to finish them in), into buckets of at most ``bucket_cap_mb`` MB of one dtype and
device (the first of at most 1 MB, as in PyTorch, to start communicating early), each one flat
tensor. Every parameter has a post-accumulate-grad hook: when backward has
finished a parameter's gradient, the hook copies it into its bucket, and when a bucket is full it
starts that bucket's non-blocking all-reduce (MPI ``Iallreduce``), while backward goes on with the
earlier layers. Buckets start strictly in bucket order, so every rank issues the same
collectives in the same order. At the end of backward (an autograd end-of-backward callback) the
remaining buckets start, all are waited for, and each parameter's ``.grad`` becomes the mean
over ranks.

Parameters that got no gradient in a step (a branch this batch did not use) do not hang the job:
their bucket starts at the end of backward with zeros in their place, together with a count of
the ranks that did produce a gradient for each parameter (one extra element per parameter in the
bucket). A parameter some rank used gets the sum divided by the world size, as PyTorch's
``find_unused_parameters=True``; one no rank used keeps ``.grad`` as it was (``None`` after
``zero_grad``). Unlike PyTorch's default, no flag is needed and nothing raises; the cost is
that the bucket of an unused parameter, and every bucket after it, waits for the end of
backward. ``find_unused_parameters=True`` (PyTorch's name) removes that cost: after each
forward the graph is walked and unreached parameters count as ready from the start.

``no_sync()`` skips all of this for gradient accumulation: gradients accumulate locally, and the
next backward outside it reduces the accumulated ``.grad``. ``state_dict``/``load_state_dict``
are the wrapped module's (no ``module.`` prefix), so checkpoints load with or without DDP.

Owns: ``DistributedDataParallel``. May import: minigrad's public API (``autograd``,
``distributed``) and ``nn.module``.
"""

from __future__ import annotations

import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import minigrad as mg
from minigrad import autograd
from minigrad import distributed as dist
from nn.module import IncompatibleKeys, Module, Parameter

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """A flat tensor holding the gradients of some parameters, then one "used" count each."""

    def __init__(self, params: list[Parameter]) -> None:
        self.params = params
        self.offsets: list[int] = []
        size = 0
        for p in params:
            self.offsets.append(size)
            size += p.numel()
        self.numel = size  # gradient elements; the counts follow
        self.flat = mg.zeros(size + len(params), dtype=params[0].dtype, device=params[0].device)
        self.ready = 0  # parameters whose gradient is final in this backward
        self.work: dist.Work | None = None

    @property
    def nbytes(self) -> int:
        return self.flat.numel() * self.flat.dtype.itemsize

    def fill(self) -> None:
        """Copy each parameter's gradient in (zeros where it has none) and its "used" flag."""
        data = self.flat.array
        for i, (p, start) in enumerate(zip(self.params, self.offsets)):
            segment = data[start : start + p.numel()]
            if p.grad is None:
                segment[...] = 0
                data[self.numel + i] = 0
            else:
                segment[...] = p.grad.array.reshape(-1)
                data[self.numel + i] = 1

    def unpack(self, world_size: int) -> None:
        """Write the mean over ranks into each ``.grad`` that any rank produced."""
        data = self.flat.array
        data[: self.numel] /= world_size
        used = self.flat[self.numel :].numpy()  # one read, not one per parameter
        for i, (p, start) in enumerate(zip(self.params, self.offsets)):
            if used[i] == 0:
                continue  # no rank has a gradient for it: leave .grad as it is (None)
            if p.grad is None:
                p.grad = mg.zeros_like(p)
            p.grad.array[...] = data[start : start + p.numel()].reshape(p.shape)


class DistributedDataParallel(Module):
    """Wraps ``module`` so that backward averages its gradients over all ranks.

    At construction rank 0's parameters and buffers are broadcast to every rank, so ranks may
    start from different seeds. Give each rank its own shard of every batch.

    Args:
        module: the model; its parameters must have the same names, shapes and dtypes on every
            rank.
        bucket_cap_mb: the most megabytes (MiB) of gradients one all-reduce carries.
        broadcast_buffers: broadcast rank 0's buffers at every forward in training mode, so
            buffers a forward updates stay equal.
        find_unused_parameters: after each forward, walk the graph from the outputs and count
            the parameters it does not reach as ready at once, so that their buckets need not
            wait for the end of backward (a walk over the graph per forward; worth it only for
            models that leave parameters unused). Every gradient must then flow through the
            forward's outputs (not, say, through a penalty on ``parameters()`` added to the
            loss), as in PyTorch.

    Raises:
        DistributedError: no process group, or ranks hold different parameter shapes.
    """

    def __init__(
        self,
        module: Module,
        bucket_cap_mb: float = 25,
        broadcast_buffers: bool = True,
        find_unused_parameters: bool = False,
    ) -> None:
        super().__init__()
        if not dist.is_initialized():
            raise dist.DistributedError(
                "DistributedDataParallel: call minigrad.distributed.init_process_group() first"
            )
        if not bucket_cap_mb > 0:
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}"
            )
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.world_size = dist.get_world_size()
        params = [p for p in module.parameters() if p.requires_grad]
        _check_same_model(params)
        with mg.no_grad():
            for t in [*module.parameters(), *module.buffers()]:
                dist.broadcast(t, src=0)
        self._buckets = _make_buckets(params, bucket_cap_mb * 2**20)
        where = {}
        for b, bucket in enumerate(self._buckets):
            for p in bucket.params:
                where[id(p)] = b
        self._bucket_of = where
        self._sync = True
        self._in_backward = False
        self._next_bucket = 0
        self._seen = set()
        self._unreached: set[int] | None = None  # parameters no forward since backward reached
        self._step_started = 0.0
        self.last_sync = {}
        ready = weakref.WeakMethod(self._grad_ready)  # the hooks do not keep this wrapper alive

        def hook(param: Parameter) -> None:
            method = ready()
            if method is not None:
                method(param)

        for p in params:
            p.register_post_accumulate_grad_hook(hook)

    # -- the module's face ------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Call the wrapped module (after broadcasting rank 0's buffers, in training mode)."""
        if self._in_backward:
            raise dist.DistributedError(
                "DistributedDataParallel: the previous backward did not finish its gradient "
                "reduction (it raised midway); end the job"
            )
        if self.broadcast_buffers and self.training:
            # async_op + wait: the broadcast without the collectives' check that every rank
            # passes the same shape (made once, when __init__ first broadcast the buffers)
            with mg.no_grad():
                for buf in self.module.buffers():
                    dist.broadcast(buf, src=0, async_op=True).wait()
        output = self.module(*args, **kwargs)
        if self.find_unused_parameters and self._sync and mg.is_grad_enabled():
            unreached = set(self._bucket_of) - _reached_leaves(output)
            previous = self._unreached
            self._unreached = unreached if previous is None else previous & unreached
        return output

    def state_dict(self, prefix: str = "") -> OrderedDict[str, mg.Tensor]:
        """The wrapped module's state dict (no ``module.`` prefix)."""
        return self.module.state_dict(prefix)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Load into the wrapped module (keys without a ``module.`` prefix)."""
        return self.module.load_state_dict(state_dict, strict)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward inside accumulates gradients locally, without communicating; the first
        backward after it reduces everything accumulated."""
        previous = self._sync
        self._sync = False
        try:
            yield
        finally:
            self._sync = previous

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{b.nbytes / 2**20:.2f}" for b in self._buckets)
        return f"world_size={self.world_size}, buckets MB=[{sizes}]"

    # -- during backward ------------------------------------------------------------------------

    def _grad_ready(self, param: Parameter) -> None:
        """Post-accumulate hook: ``param.grad`` is final for this backward."""
        if not self._sync:
            return
        if not self._in_backward:
            self._in_backward = True
            self._step_started = time.perf_counter()
            autograd.queue_callback(self._finish_backward)
            for key in self._unreached or ():  # no gradient can reach them in this backward
                self._mark_ready(key)
        self._mark_ready(id(param))
        self._launch_ready()
        for b in self._buckets[: self._next_bucket]:
            b.work.is_completed()  # MPI progresses only inside MPI calls: poke it

    def _mark_ready(self, key: int) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self._buckets[self._bucket_of[key]].ready += 1

    def _launch(self, bucket: _Bucket) -> None:
        bucket.fill()
        bucket.work = dist.all_reduce(bucket.flat, "sum", async_op=True)
        self._next_bucket = self._next_bucket + 1

    def _launch_ready(self) -> None:
        """Start, in bucket order, every bucket whose gradients are all final."""
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if bucket.ready < len(bucket.params):
                return
            self._launch(bucket)

    def _finish_backward(self) -> None:
        """End of backward: start what is left (unused parameters as zeros), wait, unpack."""
        compute_done = time.perf_counter()
        started_in_backward = self._next_bucket
        try:
            while self._next_bucket < len(self._buckets):
                self._launch(self._buckets[self._next_bucket])
            for bucket in self._buckets:
                bucket.work.wait()
            waited = time.perf_counter() - compute_done
            for bucket in self._buckets:
                bucket.unpack(self.world_size)
        finally:
            self._in_backward = False
            self._next_bucket = 0
            self._seen.clear()
            self._unreached = None
            for bucket in self._buckets:
                bucket.ready = 0
        self._record(compute_done, waited)
        self.last_sync["buckets_started_in_backward"] = started_in_backward

    def _record(self, compute_done: float, waited: float) -> None:
        """Timing of the last synchronized backward, for benchmarks (``last_sync``).

        ``comm_seconds``: the buckets' all-reduces in flight, summed over buckets;
        ``overlapped_seconds``: the part of that before backward's compute ended;
        ``hidden_bytes``: the bytes of buckets already complete then (MPI progresses inside MPI
        calls only, i.e. when a hook polls, so in flight is not the same as moving);
        ``exposed_wait_seconds``: how long the end of backward waited for the rest;
        ``backward_seconds``: from the first gradient ready to the end of the compute;
        ``buckets_started_in_backward``: buckets started from the hooks, before the end.
        """
        works = [b.work for b in self._buckets]
        in_flight = sum(w.finished - w.started for w in works)
        before_end = sum(max(0.0, min(w.finished, compute_done) - w.started) for w in works)
        nbytes = sum(b.nbytes for b in self._buckets)
        hidden = sum(b.nbytes for b in self._buckets if b.work.finished <= compute_done)
        self.last_sync.update(
            buckets=len(works),
            bytes=nbytes,
            ring_bytes_sent=2 * (self.world_size - 1) / self.world_size * nbytes,
            comm_seconds=in_flight,
            overlapped_seconds=before_end,
            hidden_bytes=hidden,
            exposed_wait_seconds=waited,
            backward_seconds=compute_done - self._step_started,
        )


def _reached_leaves(output: Any) -> set[int]:
    """ids of the leaf tensors the graph of ``output`` (a tensor, or a tuple, list or dict of
    them) reaches, walking ``grad_fn.next_functions``. A leaf shows there as the tensor itself
    or as a node holding it in ``variable`` (PyTorch's ``AccumulateGrad``)."""
    if isinstance(output, dict):
        outputs = list(output.values())
    else:
        outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    stack = [t.grad_fn for t in outputs if isinstance(t, mg.Tensor) and t.grad_fn is not None]
    seen = {id(node) for node in stack}
    reached: set[int] = set()
    while stack:
        for nxt in stack.pop().next_functions:
            if nxt is None:
                continue
            leaf = nxt if isinstance(nxt, mg.Tensor) else getattr(nxt, "variable", None)
            if leaf is not None:
                reached.add(id(leaf))
            elif id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return reached


FIRST_BUCKET_BYTES = 2**20  # PyTorch's: a small first bucket starts communicating early


def _make_buckets(params: list[Parameter], cap_bytes: float) -> list[_Bucket]:
    """Group parameters, last registered first, into buckets of one dtype and device: the
    first of at most 1 MiB, the others of at most ``cap_bytes``."""
    buckets: list[_Bucket] = []
    current: list[Parameter] = []
    size = 0
    for p in reversed(params):
        nbytes = p.numel() * p.dtype.itemsize
        fits = current and current[0].dtype == p.dtype and current[0].device == p.device
        cap = min(cap_bytes, FIRST_BUCKET_BYTES) if not buckets else cap_bytes
        if current and (not fits or size + nbytes > cap):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _check_same_model(params: list[Parameter]) -> None:
    """Every rank must hold the same parameter list; a mismatch would garble the buckets."""
    shapes = str([(tuple(p.shape), p.dtype.name) for p in params]).encode()
    signature = [len(params), sum(p.numel() for p in params), zlib.crc32(shapes)]
    device = params[0].device if params else None
    low, high = mg.tensor(signature, device=device), mg.tensor(signature, device=device)
    dist.all_reduce(low, "min")
    dist.all_reduce(high, "max")
    if low.tolist() != high.tolist():
        raise dist.DistributedError(
            f"DistributedDataParallel: rank {dist.get_rank()} has {len(params)} parameters with "
            f"{signature[1]} elements, but the ranks' models differ (parameter count, "
            "shapes or dtypes): build the same model on every rank"
        )
