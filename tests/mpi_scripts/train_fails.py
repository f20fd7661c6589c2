"""``python -m transformer.train`` where rank 1 raises at its third step, for
tests/test_distributed.py: the job must end on both ranks, naming rank 1 and the error."""

from __future__ import annotations

import sys

from transformer import train

real_step = train.train_step


def failing_step(run: train.Run) -> None:
    if run.rank == 1 and run.step == 2:
        raise FloatingPointError("loss is nan on purpose")
    real_step(run)


if __name__ == "__main__":
    train.train_step = failing_step
    sys.exit(train.main(sys.argv[1:]))
