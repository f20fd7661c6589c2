"""The nccl backend on one GPU, one rank (no mpiexec: MPI starts as a singleton), for
tests/test_distributed.py's gpu test: collectives on CuPy arrays, then DistributedDataParallel
training that must match plain training of the same model. Prints "ok nccl" at the end.

    MINIGRAD_BACKEND=cupy python tests/mpi_scripts/nccl_one_rank.py
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
import nn


def check_collectives(device: str) -> None:
    t = mg.tensor(np.arange(7, dtype="float32"), device=device)
    assert dist.all_reduce(t, op="mean") is t and t.device == device
    assert np.array_equal(t.numpy(), np.arange(7, dtype="float32"))
    for op in ("sum", "max", "min"):
        dist.all_reduce(t, op=op)
    dist.broadcast(t, src=0)
    out = [mg.zeros(7, device=device)]
    dist.all_gather(out, t)
    assert np.array_equal(out[0].numpy(), t.numpy())
    cpu = mg.tensor([1.0, 2.0])  # CPU tensors still travel over MPI
    assert dist.all_reduce(cpu).tolist() == [1.0, 2.0]
    dist.barrier()


def check_training(device: str) -> None:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
    reference = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).to(device)
    reference.load_state_dict(model.state_dict())
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    opts = [nn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (ddp, reference)]
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = mg.tensor(rng.standard_normal((6, 5)).astype("float32"), device=device)
        y = mg.tensor(rng.standard_normal((6, 2)).astype("float32"), device=device)
        for net, opt in zip((ddp, reference), opts):
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            opt.step()
    for (name, a), b in zip(ddp.state_dict().items(), reference.state_dict().values()):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-6), name
    assert ddp.last_sync["buckets"] >= 2


def main() -> None:
    mg.set_backend("cupy")
    dist.init_process_group()  # the CuPy backend is active: nccl
    assert dist.get_backend() == "nccl" and dist.get_world_size() == 1
    device = mg.backend.default_device()
    assert device == f"cuda:{dist.get_local_rank()}"
    check_collectives(device)
    check_training(device)
    dist.destroy_process_group()
    print("ok nccl", flush=True)


if __name__ == "__main__":
    main()
