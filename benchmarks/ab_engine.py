"""Same-process A/B of the engine: this checkout's minigrad against another git revision's.

    python benchmarks/ab_engine.py                 # against main
    python benchmarks/ab_engine.py --before HEAD~3 --rounds 60

Timings taken in separate processes on a shared 2-core machine differ by more than the change
being measured, so both versions run in ONE process: the ``minigrad`` package of ``--before``
is extracted with ``git archive`` into a temporary directory and renamed ``minigrad_before``,
then the two versions take turns, round after round, and each keeps its best round (CPU time,
``time.process_time``, with one BLAS thread). Two workloads:

- ``chain``: 50 blocks ``h = tanh(h @ W) * 0.5 + h`` (201 nodes) on 4xN inputs, N = 8 (engine
  overhead is nearly all the time) and N = 64; reported per step and per node;
- ``block``: a 2-layer transformer-like forward and backward (embedding, attention, layer norm,
  gelu, cross-entropy; batch 32, 16 tokens, d 64).

Written to measure the version counter of ``minigrad/inplace.py``; any engine change fits.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One BLAS thread: CPU time then measures work, not the spinning of threads waiting for a core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def import_before(rev: str, into: Path):
    """``rev``'s minigrad, importable as ``minigrad_before``."""
    archive = subprocess.run(
        ["git", "archive", rev, "minigrad"], cwd=REPO, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / "minigrad_before"
    (into / "minigrad").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(re.sub(r"\bminigrad\b", "minigrad_before", path.read_text()))
    sys.path.insert(0, str(into))
    import minigrad_before  # noqa: PLC0415

    return minigrad_before


def chain(mg, n: int, depth: int = 50):
    rng = np.random.default_rng(0)
    ws = [mg.tensor(rng.standard_normal((n, n)) / n**0.5, requires_grad=True) for _ in range(depth)]
    x = mg.tensor(rng.standard_normal((4, n)))

    def step() -> None:
        h = x
        for w in ws:
            h = (h @ w).tanh() * 0.5 + h
        h.sum().backward()
        for w in ws:
            w.grad = None

    return step


def block(mg, batch: int = 32, tokens: int = 16, d: int = 64, heads: int = 4, vocab: int = 40):
    rng = np.random.default_rng(0)

    def p(*shape):
        values = rng.standard_normal(shape).astype(np.float32) * 0.1
        return mg.tensor(values, requires_grad=True)

    names = ("wq", "wk", "wv", "wo", "w1", "w2", "g1", "b1", "g2", "b2")
    shapes = ((d, d), (d, d), (d, d), (d, d), (d, 4 * d), (4 * d, d), (d,), (d,), (d,), (d,))
    layers = [{k: p(*s) for k, s in zip(names, shapes)} for _ in range(2)]
    emb, out = p(vocab, d), p(d, vocab)
    ids = mg.tensor(rng.integers(0, vocab, (batch, tokens)))
    target = mg.tensor(rng.integers(0, vocab, (batch * tokens,)))
    params = [emb, out] + [t for layer in layers for t in layer.values()]

    def split(x):  # (B, T, d) -> (B, H, T, d / H)
        return x.reshape(batch, tokens, heads, d // heads).transpose(1, 2)

    def step() -> None:
        x = mg.embedding(ids, emb)
        for w in layers:
            q, k, v = split(x @ w["wq"]), split(x @ w["wk"]), split(x @ w["wv"])
            a = mg.attention(q, k, v).transpose(1, 2).reshape(batch, tokens, d) @ w["wo"]
            x = mg.layer_norm(x + a, (d,), w["g1"], w["b1"])
            x = mg.layer_norm(x + mg.gelu(x @ w["w1"]) @ w["w2"], (d,), w["g2"], w["b2"])
        mg.cross_entropy((x @ out).reshape(batch * tokens, vocab), target).backward()
        for t in params:
            t.grad = None

    return step


def best_of(steps: dict, rounds: int, reps: int) -> dict[str, float]:
    """Each step's best mean CPU time over ``rounds`` interleaved rounds of ``reps`` calls."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.process_time()
            for _ in range(reps):
                step()
            best[name] = min(best[name], (time.process_time() - start) / reps)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="main", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    known = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{args.before}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
    )
    if known.returncode != 0:
        parser.error(f"--before {args.before} is not a git revision of {REPO}")
    sys.path.insert(0, str(REPO))
    import minigrad as after  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        before = import_before(args.before, Path(tmp))
        for n in (8, 64):
            t = best_of({"before": chain(before, n), "after": chain(after, n)}, args.rounds, 10)
            per_node = (t["after"] - t["before"]) / 201 * 1e6
            print(
                f"chain N={n:<3} before {t['before'] * 1e3:7.3f} ms  after "
                f"{t['after'] * 1e3:7.3f} ms  ratio {t['after'] / t['before']:.3f}  "
                f"({per_node:+.2f} us per node)"
            )
        t = best_of({"before": block(before), "after": block(after)}, max(args.rounds // 4, 3), 3)
        print(
            f"block       before {t['before'] * 1e3:7.2f} ms  after {t['after'] * 1e3:7.2f} ms  "
            f"ratio {t['after'] / t['before']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
