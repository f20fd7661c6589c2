"""Run by tests/test_distributed.py under ``mpiexec -n 2``: every collective on odd sizes,
0-d and zero-size tensors, float32 and float64 (and int64 for max/min), contiguous or not,
checked against the values NumPy computes from every rank's input. Prints "ok ..." on rank 0."""

from __future__ import annotations

import numpy as np

import minigrad as mg
import minigrad.distributed as dist

SHAPES = [(), (0,), (1,), (7,), (3, 5), (2, 0, 3), (13, 3, 1)]


def rank_values(rank: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    rng = np.random.default_rng(1000 + rank)
    if dtype == "int64":
        return rng.integers(-50, 50, size=shape)
    return rng.standard_normal(shape).astype(dtype)


def check_all_reduce(rank: int, world: int) -> None:
    expected_ops = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}
    for dtype in ("float32", "float64", "int64"):
        for shape in SHAPES:
            every = np.stack([rank_values(r, shape, dtype) for r in range(world)])
            for op, fn in expected_ops.items():
                if op == "mean" and dtype == "int64":
                    continue
                t = mg.tensor(rank_values(rank, shape, dtype))
                assert dist.all_reduce(t, op=op) is t
                assert t.dtype == np.dtype(dtype) and t.shape == shape
                tol = 1e-6 if dtype == "float32" else 1e-14
                assert np.allclose(t.numpy(), fn(every, axis=0), rtol=tol, atol=tol), (op, shape)


def check_non_contiguous(rank: int, world: int) -> None:
    base = np.arange(24.0).reshape(4, 6) * (rank + 1)
    t = mg.tensor(base).transpose(0, 1)  # a strided view: reduced through one copy
    dist.all_reduce(t)
    factor = world * (world + 1) / 2
    assert np.array_equal(t.numpy(), (np.arange(24.0).reshape(4, 6) * factor).T)


def check_broadcast_and_gather(rank: int, world: int) -> None:
    for dtype in ("float32", "float64"):
        for shape in SHAPES:
            for src in range(world):
                t = mg.tensor(rank_values(rank, shape, dtype))
                assert dist.broadcast(t, src=src) is t
                assert np.array_equal(t.numpy(), rank_values(src, shape, dtype))
            mine = mg.tensor(rank_values(rank, shape, dtype))
            out = [mg.zeros(shape, dtype=dtype) for _ in range(world)]
            assert dist.all_gather(out, mine) is out
            for r in range(world):
                assert np.array_equal(out[r].numpy(), rank_values(r, shape, dtype))


def check_other_dtypes_and_errors(rank: int, world: int) -> None:
    t = mg.tensor(np.array([rank + 1.5, -2], dtype="float16"))
    dist.all_reduce(t)
    assert t.dtype == np.float16 and t.tolist() == [sum(r + 1.5 for r in range(world)), -2 * world]
    flags = mg.tensor(np.array([rank == 0, True]))
    dist.broadcast(flags, src=world - 1)
    assert flags.tolist() == [world == 1, True]
    for bad, match in [
        (lambda: dist.all_reduce(flags), "bool"),
        (lambda: dist.all_reduce(mg.tensor([1, 2]), op="mean"), "floating point"),
        (lambda: dist.all_reduce(mg.ones(2), op="prod"), "op must be one of"),
        (lambda: dist.broadcast(mg.ones(2), src=world), f"not a rank of 0..{world - 1}"),
        (lambda: dist.all_gather([mg.ones(2)], mg.ones(2)), f"for {world} ranks"),
        (lambda: dist.all_gather([mg.ones(3)] * world, mg.ones(2)), "shape"),
        (lambda: dist.all_reduce(np.ones(2)), "expected a Tensor"),
        (lambda: dist.all_reduce(mg.ones(3).expand(2, 3)), "read-only"),
    ]:
        try:
            bad()
        except dist.DistributedError as err:
            assert match in str(err), (match, str(err))
        else:
            raise AssertionError(f"no error for {match}")


def check_async(rank: int, world: int) -> None:
    t = mg.tensor(np.full(11, rank + 1.0))
    work = dist.all_reduce(t, op="mean", async_op=True)
    assert work.wait() and work.is_completed()
    assert np.allclose(t.numpy(), (world + 1) / 2)


def check_distributed_sampler(rank: int, world: int) -> None:
    """DistributedSampler takes its world size and rank from the group; the ranks' shares of
    one epoch cover the 11 indices (padded to a multiple of the world size), each rank's the
    same length."""
    from minigrad.utils.data import DistributedSampler

    sampler = DistributedSampler(range(11), seed=3)
    assert (sampler.num_replicas, sampler.rank) == (world, rank)
    sampler.set_epoch(2)
    mine = mg.tensor(list(sampler))
    shares = [mg.zeros_like(mine) for _ in range(world)]
    dist.all_gather(shares, mine)
    every = [i for share in shares for i in share.tolist()]
    assert len(every) == sampler.total_size and set(every) == set(range(11)), every


def main() -> None:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    assert dist.is_initialized() and 0 <= rank < world and dist.get_local_rank() == rank
    check_all_reduce(rank, world)
    check_non_contiguous(rank, world)
    check_broadcast_and_gather(rank, world)
    check_async(rank, world)
    check_other_dtypes_and_errors(rank, world)
    check_distributed_sampler(rank, world)
    dist.barrier()
    if rank == 0:
        print(f"ok collectives on {world} ranks", flush=True)
    dist.destroy_process_group()
    assert not dist.is_initialized()


if __name__ == "__main__":
    main()
