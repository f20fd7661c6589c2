"""Train a two-hidden-layer MLP on two moons with nothing but minigrad tensors.

    python examples/train_mlp.py                      # NumPy backend, 60 epochs, a few seconds
    python examples/train_mlp.py --backend cupy       # the same on a GPU
    python examples/train_mlp.py --epochs 100 --seed 3

This is minigrad's end-to-end check until the transformer lands: the parameters are plain
leaf tensors (``requires_grad=True``), the model is three matmuls and two tanh, the loss is
``mg.cross_entropy``, and Adam is written out by hand on the parameters' ``.array`` arrays. It
prints the loss every few epochs and the final accuracies, and exits with status 1 when the
test accuracy is below 0.95, so a broken gradient anywhere on that path fails loudly.

The data: 1000 points of scikit-learn's ``make_moons`` (two interleaved half circles, Gaussian
noise 0.1), generated here with NumPy from ``--seed``, split 800 for training and 200 for test.
``tqdm`` draws a progress bar when it is installed (``pip install -e ".[examples]"``).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

try:
    import minigrad as mg
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import minigrad as mg

from transformer.cli import ArgumentParser, run  # noqa: E402  (bad input: one line, status 2)

try:
    from tqdm import tqdm
except ImportError:  # tqdm is an optional extra: fall back to plain prints
    tqdm = None

PASS_ACCURACY = 0.95  # below this test accuracy the script exits with status 1


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


def make_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half circles plus Gaussian noise, shuffled.

    Returns x (n, 2) float32 and labels y (n,) int64 (0: upper moon, 1: lower moon), as
    ``sklearn.datasets.make_moons`` does.
    """
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, math.pi, n_upper)
    t_lower = np.linspace(0.0, math.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    x = np.concatenate([upper, lower]) + rng.normal(scale=noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)]).astype(np.int64)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


# ---------------------------------------------------------------------------------------------
# Model: parameters are leaves, the forward is three lines
# ---------------------------------------------------------------------------------------------


def init_params(sizes: list[int]) -> list[mg.Tensor]:
    """Weights (fan_in, fan_out) drawn with Xavier/Glorot scaling (suited to tanh), zero biases;
    every one a leaf that requires grad."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        # randn(...) * scale of tensors without grad is still a leaf: no graph is recorded
        w = mg.randn(fan_in, fan_out) * math.sqrt(2.0 / (fan_in + fan_out))
        params += [w.requires_grad_(), mg.zeros(fan_out, requires_grad=True)]
    return params


def forward(params: list[mg.Tensor], x: mg.Tensor) -> mg.Tensor:
    """Logits (N, 2) from inputs (N, 2): linear, tanh, linear, tanh, linear."""
    w1, b1, w2, b2, w3, b3 = params
    h = mg.tanh(x @ w1 + b1)  # (N, H)
    h = mg.tanh(h @ w2 + b2)  # (N, H)
    return h @ w3 + b3  # (N, 2)


class Adam:
    """Adam (Kingma & Ba, 2015) on the parameters' arrays, with bias correction."""

    def __init__(
        self,
        params: list[mg.Tensor],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.eps = params, lr, eps
        self.beta1, self.beta2 = betas
        self.m = [mg.zeros_like(p).array for p in params]  # first moments, on each param's device
        self.v = [mg.zeros_like(p).array for p in params]  # second moments
        self.t = 0

    def step(self) -> None:
        self.t += 1
        step_size = self.lr * math.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        # The update changes parameters in place: no graph must record it, and minigrad refuses
        # in-place changes to tensors that require grad while grad mode is on.
        with mg.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                g = p.grad.array
                m *= self.beta1
                m += (1 - self.beta1) * g  # m = b1 m + (1 - b1) g
                v *= self.beta2
                v += (1 - self.beta2) * g * g  # v = b2 v + (1 - b2) g^2
                p.array -= step_size * m / (v**0.5 + self.eps)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None  # the next backward stores a fresh gradient (no accumulation)


@mg.no_grad()
def accuracy(params: list[mg.Tensor], x: mg.Tensor, y: mg.Tensor) -> float:
    predicted = mg.argmax(forward(params, x), dim=1)
    return (predicted == y).float().mean().item()


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="train_mlp.py", description="Train an MLP on two moons with minigrad."
    )
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=32, help="width of both hidden layers")
    parser.add_argument("--log-every", type=int, default=10, help="print the loss every N epochs")
    args = parser.parse_args(argv)
    counts = {"--epochs": args.epochs, "--batch-size": args.batch_size, "--hidden": args.hidden}
    counts["--log-every"] = args.log_every
    for flag, value in counts.items():
        if value < 1:
            print(f"train_mlp.py: error: {flag} must be >= 1, got {value}", file=sys.stderr)
            return 2
    if not args.lr > 0:
        print(f"train_mlp.py: error: --lr must be > 0, got {args.lr}", file=sys.stderr)
        return 2
    if args.lr == float("inf"):
        print("train_mlp.py: error: --lr must be finite, got inf", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"train_mlp.py: error: --seed must be >= 0, got {args.seed}", file=sys.stderr)
        return 2
    try:
        mg.set_backend(args.backend)
    except mg.BackendError as err:
        print(f"cannot use the {args.backend} backend: {err}", file=sys.stderr)
        return 2
    mg.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    # Data: standardized with the training set's statistics, then moved to the backend's device
    x_all, y_all = make_moons(1000, noise=0.1, rng=rng)
    n_train = 800
    mean, std = x_all[:n_train].mean(axis=0), x_all[:n_train].std(axis=0)
    x_all = (x_all - mean) / std
    x_train, y_train = mg.tensor(x_all[:n_train]), mg.tensor(y_all[:n_train])
    x_test, y_test = mg.tensor(x_all[n_train:]), mg.tensor(y_all[n_train:])

    params = init_params([2, args.hidden, args.hidden, 2])
    optimizer = Adam(params, lr=args.lr)
    n_params = sum(p.numel() for p in params)
    print(
        f"two moons: {n_train} train / {len(x_test)} test points, noise 0.1, seed {args.seed}; "
        f"MLP 2-{args.hidden}-{args.hidden}-2 ({n_params} parameters), Adam lr {args.lr}, "
        f"batch {args.batch_size}, backend {mg.get_backend()} ({x_train.device})"
    )

    start = time.perf_counter()
    epochs = range(1, args.epochs + 1)
    bar = tqdm(epochs, desc="training", unit="epoch") if tqdm is not None else None
    log = bar.write if bar is not None else print
    for epoch in bar if bar is not None else epochs:
        # a fresh shuffle each epoch; batches are slices of the shuffled tensors
        order = mg.tensor(rng.permutation(n_train))
        xs, ys = x_train[order], y_train[order]
        total, batches = 0.0, 0
        for i in range(0, n_train, args.batch_size):
            logits = forward(params, xs[i : i + args.batch_size])
            loss = mg.cross_entropy(logits, ys[i : i + args.batch_size])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        if bar is not None:
            bar.set_postfix(loss=f"{total / batches:.4f}")
        if epoch % args.log_every == 0 or epoch == 1 or epoch == args.epochs:
            log(
                f"epoch {epoch:4d}  loss {total / batches:.4f}  "
                f"train acc {accuracy(params, x_train, y_train):.3f}  "
                f"({time.perf_counter() - start:.1f} s)"
            )
    if bar is not None:
        bar.close()

    train_acc = accuracy(params, x_train, y_train)
    test_acc = accuracy(params, x_test, y_test)
    elapsed = time.perf_counter() - start
    print(f"final: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f} ({elapsed:.1f} s)")
    if test_acc < PASS_ACCURACY:
        print(f"FAIL: test accuracy {test_acc:.4f} is below {PASS_ACCURACY}", file=sys.stderr)
        return 1
    print(f"PASS: test accuracy >= {PASS_ACCURACY}")
    return 0


if __name__ == "__main__":
    sys.exit(run(main, "train_mlp.py"))
