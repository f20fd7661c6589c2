"""Dates written by humans in 21 formats -> ISO 8601: "Wednesday, 25 November 2026",
"11/25/26", "25.11.2026", "Nov 25, 2026", "the 25th of november 2026" -> "2026-11-25".

    python examples/dates.py                         # NumPy backend, 2 CPU cores, <= 15 minutes
    python examples/dates.py --backend cupy          # the same on a GPU
    python -m transformer.translate --checkpoint runs/dates "Tuesday 25 November 2026"

Data are generated in-process (``transformer.data``): training, the 1,000 validation dates and the
1,000 test dates are disjoint sets of days. Training stops at 99.5% validation exact match or
after 14 minutes; then the test dates are decoded once, and the script exits with status 1 below
99% on them. Extra flags go to ``transformer.train``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout as well

from transformer import train  # noqa: E402
from transformer.cli import run  # noqa: E402

GOAL = 0.99
DEFAULTS = [
    "--task", "dates", "--out", "runs/dates", "--d-model", "128", "--heads", "4",
    "--encoder-layers", "2", "--decoder-layers", "2", "--d-ff", "256", "--dropout", "0.1",
    "--batch-size", "128", "--steps", "8000", "--warmup", "400", "--lr-factor", "1.0",
    "--eval-every", "500", "--target-accuracy", "0.995", "--minutes", "14",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = DEFAULTS + (sys.argv[1:] if argv is None else argv)  # later flags win
    train.main(argv)
    out = Path(train.parse_args(argv).out)
    accuracy = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    print(f"dates: test exact match {accuracy:.4f} on 1,000 unseen dates (goal {GOAL})")
    return 0 if accuracy >= GOAL else 1


if __name__ == "__main__":
    sys.exit(run(main, "python examples/dates.py"))  # bad input: one line on stderr, status 2
