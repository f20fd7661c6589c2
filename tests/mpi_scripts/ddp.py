"""Run by tests/test_distributed.py under ``mpiexec -n 2``: DDP equals one process on the whole
batch (float64, 1e-10), with SGD momentum and Adam, with and without no_sync accumulation;
ranks end with identical weights; unused parameters neither hang nor get a made-up gradient.

Each rank also trains, on its own, a reference copy of the model on the whole global batch:
that is the one-process run the distributed one must match. Prints "ok <checks>" on rank 0.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
import nn
from nn.parallel import DistributedDataParallel

STEPS = 4
GLOBAL_BATCH = 8


class Net(nn.Module):
    """A small MLP with a branch (``extra``) the forward uses only when asked."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
        self.extra = nn.Linear(5, 3)
        self.never = nn.Linear(2, 2)  # no forward uses it

    def forward(self, x: mg.Tensor, use_extra: bool = False) -> mg.Tensor:
        out = self.body(x)
        return out + self.extra(x) if use_extra else out


def make_optimizer(kind: str, params: list) -> nn.optim.Optimizer:
    if kind == "sgd":
        return nn.optim.SGD(params, lr=0.1, momentum=0.9)
    return nn.optim.Adam(params, lr=0.01)


def train(
    kind: str,
    accumulate: int,
    rank: int,
    world: int,
    bucket_cap_mb: float,
    find_unused: bool = False,
) -> None:
    mg.manual_seed(100 + rank)  # different initial weights on each rank: DDP must broadcast
    ddp = DistributedDataParallel(
        Net().double(), bucket_cap_mb=bucket_cap_mb, find_unused_parameters=find_unused
    )
    reference = Net().double()
    reference.load_state_dict(ddp.state_dict())  # no "module." prefix: loads as is
    opt = make_optimizer(kind, list(ddp.parameters()))
    ref_opt = make_optimizer(kind, list(reference.parameters()))
    data = np.random.default_rng(7)  # the same global batches on every rank
    share = GLOBAL_BATCH // world
    for _ in range(STEPS):
        x = data.standard_normal((GLOBAL_BATCH, 5))
        y = data.standard_normal((GLOBAL_BATCH, 3))
        ref_opt.zero_grad()
        nn.functional.mse_loss(reference(mg.tensor(x)), mg.tensor(y)).backward()
        ref_opt.step()

        opt.zero_grad()
        mine = slice(rank * share, (rank + 1) * share)
        micro = np.array_split(np.arange(GLOBAL_BATCH)[mine], accumulate)
        for i, rows in enumerate(micro):
            loss = nn.functional.mse_loss(ddp(mg.tensor(x[rows])), mg.tensor(y[rows]))
            if i < accumulate - 1:
                with ddp.no_sync():
                    (loss * (1 / accumulate)).backward()
            else:
                (loss * (1 / accumulate)).backward()
        opt.step()
    check_equal(ddp, reference, f"{kind}, accumulate {accumulate}")


def check_equal(ddp: DistributedDataParallel, reference: nn.Module, what: str) -> None:
    for (name, p), q in zip(ddp.state_dict().items(), reference.state_dict().values()):
        err = float(np.max(np.abs(p.numpy() - q.numpy())))
        assert err < 1e-10, f"{what}: {name} differs from one process by {err}"
        gathered = [mg.zeros_like(p) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, p)
        assert all(np.array_equal(g.numpy(), p.numpy()) for g in gathered), f"{what}: {name}"


def unused_parameters(rank: int, world: int, find_unused: bool) -> None:
    """``extra`` is used on rank 0 only, ``never`` nowhere: no hang, mean over ranks, None."""
    mg.manual_seed(5)
    net = Net().double()
    ddp = DistributedDataParallel(
        net, bucket_cap_mb=0.0002, find_unused_parameters=find_unused
    )  # several buckets
    x = mg.tensor(np.random.default_rng(rank).standard_normal((4, 5)))
    ddp(x, use_extra=rank == 0).sum().backward()
    local = Net().double()
    local.load_state_dict(ddp.state_dict())
    local(x, use_extra=True).sum().backward()
    expected = local.extra.weight.grad.numpy() if rank == 0 else np.zeros((3, 5))
    total = mg.tensor(expected)
    dist.all_reduce(total)
    # ``never``, registered last, is in the first bucket: with no gradient for it, no bucket
    # may start before the end of backward (the price of not hanging on unused parameters),
    # unless find_unused_parameters saw after forward that no gradient would reach it
    started = ddp.last_sync["buckets_started_in_backward"]
    assert ddp.last_sync["buckets"] >= 4
    assert started == (ddp.last_sync["buckets"] if find_unused else 0), (find_unused, started)
    got = ddp.module.extra.weight.grad
    assert got is not None, "a parameter rank 0 used has no gradient"
    assert np.allclose(got.numpy(), total.numpy() / world, atol=1e-12), "unused: wrong mean"
    assert ddp.module.never.weight.grad is None, "a parameter no rank used got a gradient"


def buckets_start_during_backward() -> None:
    """With every parameter used, each of the 4 one-parameter buckets starts from its hook."""
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0001)
    ddp(mg.tensor(np.ones((2, 5)))).sum().backward()
    assert ddp.last_sync["buckets"] == 4
    assert ddp.last_sync["buckets_started_in_backward"] == 4


def main() -> None:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    for kind in ("sgd", "adam"):
        for accumulate in (1, 2):
            train(kind, accumulate, rank, world, bucket_cap_mb=25)
    train("adam", 1, rank, world, bucket_cap_mb=0.0001)  # one parameter per bucket
    train("sgd", 2, rank, world, bucket_cap_mb=0.0001, find_unused=True)
    buckets_start_during_backward()
    for find_unused in (False, True):
        unused_parameters(rank, world, find_unused)
    dist.barrier()
    if rank == 0:
        print(
            "ok ddp: sgd, adam x accumulate 1, 2; small buckets; unused parameters, found or not",
            flush=True,
        )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
