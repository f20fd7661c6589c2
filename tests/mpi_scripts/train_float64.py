"""``python -m transformer.train`` with the model in float64, for tests/test_distributed.py.

    python tests/mpi_scripts/train_float64.py OUT [train flags]                 # one process
    mpiexec -n 2 python tests/mpi_scripts/train_float64.py OUT [train flags]    # two

In float64 the 2-process run (each its shard of the global batch, maybe in micro-batches) must
match the 1-process run to 1e-10: the loss scaling makes the gradient exactly the global
batch's token-mean gradient, whatever the padding. The reverse task pads (lengths 5..12).
"""

from __future__ import annotations

import sys

from transformer import cli, train

FLAGS = [
    "--task", "reverse", "--d-model", "16", "--heads", "2", "--encoder-layers", "1",
    "--decoder-layers", "1", "--d-ff", "32", "--batch-size", "12", "--eval-size", "20",
    "--log-every", "2", "--dropout", "0", "--warmup", "4", "--no-plots",
]  # fmt: skip


build_model = train.build_model
Transformer = cli.Transformer  # what the checkpoint check builds to load the weights into


def build_model_float64(config, device):
    return build_model(config, device).double()


def transformer_float64(*args, **kwargs):
    return Transformer(*args, **kwargs).double()


if __name__ == "__main__":
    train.build_model = build_model_float64
    cli.Transformer = transformer_float64
    sys.exit(train.main(["--out", sys.argv[1], *FLAGS, *sys.argv[2:]]))
