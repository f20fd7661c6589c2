"""The Annotated Transformer's copy task: 10 random symbols, length 10, target = source.

    python examples/copy_task.py                    # NumPy backend, CPU, a few minutes
    python examples/copy_task.py --backend cupy     # the same on a GPU
    python examples/copy_task.py --out runs/copy --steps 3000

Trains a small encoder-decoder transformer with ``python -m transformer.train`` settings tuned
for this task until greedy decoding copies every one of 1,000 validation sequences (or 3,000
steps), then decodes the 1,000 test sequences (neither set is ever sampled for training). Exits
with status 1 unless every test sequence is copied exactly. Extra flags go to
``transformer.train``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from transformer import train  # noqa: E402
from transformer.cli import run  # noqa: E402

DEFAULTS = [
    "--task", "copy", "--out", "runs/copy", "--d-model", "64", "--heads", "4",
    "--encoder-layers", "2", "--decoder-layers", "2", "--d-ff", "128", "--dropout", "0.0",
    "--batch-size", "64", "--steps", "3000", "--warmup", "200", "--lr-factor", "0.3",
    "--eval-every", "250", "--target-accuracy", "1.0",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = DEFAULTS + (sys.argv[1:] if argv is None else argv)  # later flags win
    train.main(argv)
    out = Path(train.parse_args(argv).out)
    accuracy = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    print(f"copy task: test exact match {accuracy:.4f} on 1,000 unseen sequences (goal 1.0)")
    return 0 if accuracy == 1.0 else 1


if __name__ == "__main__":
    sys.exit(run(main, "python examples/copy_task.py"))  # bad input: one line on stderr, status 2
