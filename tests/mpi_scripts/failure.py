"""Run by tests/test_distributed.py under ``mpiexec -n 2`` with MINIGRAD_DIST_TIMEOUT set low.

failure.py raise     rank 1 raises ValueError before a collective rank 0 waits in: the
                     job must end, naming rank 1 and its error.
failure.py timeout   rank 1 sleeps instead of joining an all_reduce: rank 0's must fail with
                     DistributedTimeoutError within the timeout and end the job.
"""

from __future__ import annotations

import sys
import time

import minigrad as mg
import minigrad.distributed as dist


def main(mode: str) -> None:
    dist.init_process_group()
    rank = dist.get_rank()
    dist.barrier()
    if rank == 1:
        if mode == "raise":
            raise ValueError("bad batch on purpose")
        time.sleep(120)  # never joins: only the abort from rank 0 ends this process
    dist.all_reduce(mg.ones(3))
    print("unreachable: the collective completed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
