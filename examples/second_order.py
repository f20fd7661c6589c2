"""Second derivatives with minigrad: a Hessian-vector product and a Newton step, a gradient
penalty, and the Hessian of a 2-parameter loss drawn beside its finite-difference estimate.

    python examples/second_order.py                      # a few seconds, NumPy backend
    python examples/second_order.py --plot hessian.png   # where the figure goes
    python examples/second_order.py --backend cupy

Everything here differentiates a gradient: ``minigrad.grad(..., create_graph=True)`` returns
gradients that carry a graph of their own, and ``minigrad.functional`` (``hvp``, ``hessian``,
...) is built on that. Each part prints what it computed beside an independent check (finite
differences of first-order gradients), and the script exits with status 1 when one disagrees.

1. A small MLP (2 -> 16 -> 1, tanh) fit to a noisy sine surface, in float64. Its Hessian-vector
   product ``H v`` (``minigrad.functional.hvp``) against the central difference of the gradient
   along ``v``; then one damped Newton step, ``theta -= (H + lambda I)^-1 g``, with the linear
   system solved by conjugate gradients that only ever ask for ``H v`` (no Hessian is formed,
   "Hessian-free" optimization): the loss drops far more than one gradient step's.
2. A gradient penalty: the loss plus ``weight * mean ||d f(x) / d x||^2`` (the input gradient's
   squared norm, as in WGAN-GP and double backpropagation). Its gradient with respect to a
   weight (a double backward) is checked by finite differences, then the MLP is trained with
   Adam with and without it: the penalized fit is flatter.
3. The Hessian of the loss of a 2-parameter model, ``L(a, b) = mean((b * tanh(a * x) - y)^2)``,
   over a grid of (a, b): three ``grad`` calls give H_aa, H_ab, H_bb at every grid point at
   once (the points are independent, so the grid's Hessian is diagonal per entry); the figure
   draws them beside central differences of the first-order gradient (matplotlib optional).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:
    import minigrad as mg
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import minigrad as mg

from minigrad import functional
from transformer.cli import ArgumentParser, run  # noqa: E402  (bad input: one line, status 2)

F64 = mg.float64
LR, LR_STEPS = 0.1, 300  # the gradient steps before the Newton step


# ---------------------------------------------------------------------------------------------
# 1. Hessian-vector product and a Newton step on a small MLP
# ---------------------------------------------------------------------------------------------


def mlp_data(rng: np.random.Generator, n: int = 64) -> tuple[mg.Tensor, mg.Tensor]:
    """x (n, 2) in [-2, 2]^2, y (n, 1) = sin(x0) * cos(x1) + noise."""
    x = rng.uniform(-2, 2, size=(n, 2))
    y = np.sin(x[:, :1]) * np.cos(x[:, 1:]) + 0.05 * rng.standard_normal((n, 1))
    return mg.tensor(x), mg.tensor(y)


def init_mlp(rng: np.random.Generator, hidden: int = 16) -> tuple[mg.Tensor, ...]:
    """(w1 (2, h), b1 (h,), w2 (h, 1), b2 (1,)), float64, Glorot-like scale."""
    return (
        mg.tensor(rng.standard_normal((2, hidden)) / np.sqrt(2)),
        mg.tensor(np.zeros(hidden)),
        mg.tensor(rng.standard_normal((hidden, 1)) / np.sqrt(hidden)),
        mg.tensor(np.zeros(1)),
    )


def mlp(x: mg.Tensor, w1: mg.Tensor, b1: mg.Tensor, w2: mg.Tensor, b2: mg.Tensor) -> mg.Tensor:
    return mg.tanh(x @ w1 + b1) @ w2 + b2  # (n, 1)


def mse(x: mg.Tensor, y: mg.Tensor):
    def loss(*params: mg.Tensor) -> mg.Tensor:
        return ((mlp(x, *params) - y) ** 2).mean()

    return loss


def gradient(loss, params: tuple[mg.Tensor, ...]) -> tuple[mg.Tensor, ...]:
    """First-order gradient of ``loss(*params)`` (a vjp with v = 1)."""
    return functional.vjp(loss, params)[1]


def axpy(a: float, xs, ys):
    """a * xs + ys, elementwise over tuples of tensors."""
    return tuple(a * x + y for x, y in zip(xs, ys))


def dot(xs, ys) -> float:
    return float(sum((x * y).sum().item() for x, y in zip(xs, ys)))


def check_hvp(loss, params, rng: np.random.Generator) -> bool:
    v = tuple(mg.tensor(rng.standard_normal(p.shape)) for p in params)
    _, hv = functional.hvp(loss, params, v)
    eps = 1e-5  # central difference of the gradient along v: H v + O(eps^2)
    g_plus = gradient(loss, axpy(eps, v, params))
    g_minus = gradient(loss, axpy(-eps, v, params))
    fd = tuple((a - b) / (2 * eps) for a, b in zip(g_plus, g_minus))
    err = max(float(mg.abs(a - b).max().item()) for a, b in zip(hv, fd))
    scale = max(float(mg.abs(a).max().item()) for a in hv)
    print(f"  H v (functional.hvp) vs finite differences of the gradient: max |diff| {err:.2e}")
    print(f"  (largest |H v| entry {scale:.3f}; the difference is the finite difference's error)")
    return err < 1e-6 * max(1.0, scale)


def newton_step(loss, params, damping: float = 1e-2, iters: int = 100):
    """``params - (H + damping I)^-1 g`` by conjugate gradients on ``H v`` products, stopped
    early at a direction of negative curvature (truncated Newton)."""
    g = gradient(loss, params)
    x = tuple(mg.zeros_like(p) for p in params)  # the step, solving (H + damping I) x = g
    r = g
    p = r
    rr = dot(r, r)
    for _ in range(iters):
        _, hp = functional.hvp(loss, params, p)
        hp = axpy(damping, p, hp)
        curvature = dot(p, hp)
        if curvature <= 0:  # H is not positive definite along p: keep the step so far
            break
        alpha = rr / curvature
        x = axpy(alpha, p, x)
        r = axpy(-alpha, hp, r)
        rr_new = dot(r, r)
        if rr_new < 1e-20:
            break
        p = axpy(rr_new / rr, p, r)
        rr = rr_new
    return axpy(-1.0, x, params)


def part_newton(rng: np.random.Generator) -> bool:
    print("1. Hessian-vector product and a Newton step on an MLP (2 -> 16 -> 1, 65 parameters)")
    x, y = mlp_data(rng)
    loss = mse(x, y)
    params = init_mlp(rng)
    # plain gradient steps first, so that the Newton step starts near a minimum
    for _ in range(LR_STEPS):
        params = axpy(-LR, gradient(loss, params), params)
    ok = check_hvp(loss, params, rng)
    before = loss(*params).item()
    after_gd = loss(*axpy(-LR, gradient(loss, params), params)).item()
    after_newton = loss(*newton_step(loss, params)).item()
    print(f"  loss {before:.5f}; after one gradient step {after_gd:.5f}; after one damped Newton")
    print(f"  step {after_newton:.5f} (conjugate gradients on H v, no Hessian formed)")
    return ok and after_newton < after_gd


# ---------------------------------------------------------------------------------------------
# 2. A gradient penalty
# ---------------------------------------------------------------------------------------------


def penalized_loss(x: mg.Tensor, y: mg.Tensor, params, weight: float) -> tuple[mg.Tensor, ...]:
    """(total, fit, penalty): mse + weight * mean over points of ||d f(x_i) / d x_i||^2."""
    x = x.detach().requires_grad_(True)
    out = mlp(x, *params)  # (n, 1)
    fit = ((out - y) ** 2).mean()
    # each output depends on its own row only: the gradient of the sum is the per-row gradient
    (grad_x,) = mg.grad(out.sum(), [x], create_graph=True)  # (n, 2), with a graph
    penalty = (grad_x**2).sum(-1).mean()
    return fit + weight * penalty, fit, penalty


def check_penalty_gradient(x: mg.Tensor, y: mg.Tensor, params, weight: float) -> bool:
    """d (penalized loss) / d w1[1, 3] by double backward, against finite differences."""
    total, _, _ = penalized_loss(x, y, params, weight)
    (g_w,) = mg.grad(total, [params[0]])
    eps, (i, j) = 1e-6, (1, 3)

    def shifted(delta: float) -> float:
        w = params[0].detach().numpy().copy()
        w[i, j] += delta
        return penalized_loss(x, y, (mg.tensor(w), *params[1:]), weight)[0].item()

    fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
    autograd = g_w.numpy()[i, j]
    print(f"  d loss / d w1[{i},{j}]: double backward {autograd:.8f}, finite differences {fd:.8f}")
    return abs(autograd - fd) < 1e-6 * max(1.0, abs(fd))


def train_penalized(x, y, params, weight: float, steps: int = 150) -> tuple[float, float]:
    """Adam (lr 0.02) on the penalized loss; the final (fit, penalty)."""
    m = [mg.zeros_like(p) for p in params]
    s = [mg.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        total, fit, penalty = penalized_loss(x, y, params, weight)
        grads = mg.grad(total, list(params))  # through the input gradient: double backward
        new = []
        for k, (p, g) in enumerate(zip(params, grads)):
            m[k] = 0.9 * m[k] + 0.1 * g
            s[k] = 0.999 * s[k] + 0.001 * g * g
            update = 0.02 * (m[k] / (1 - 0.9**step)) / (mg.sqrt(s[k] / (1 - 0.999**step)) + 1e-8)
            new.append((p - update).detach().requires_grad_(True))
        params = tuple(new)
    _, fit, penalty = penalized_loss(x, y, params, weight)
    return fit.item(), penalty.item()


def part_penalty(rng: np.random.Generator) -> bool:
    print("2. Gradient penalty: loss = mse + weight * mean ||d f(x) / d x||^2")
    x, y = mlp_data(rng)
    params = tuple(p.requires_grad_(True) for p in init_mlp(rng))
    ok = check_penalty_gradient(x, y, params, 0.1)
    results = {}
    for weight in (0.0, 0.3):
        fit, penalty = train_penalized(x, y, params, weight)
        results[weight] = penalty
        print(f"  weight {weight}: after 150 Adam steps, fit (mse) {fit:.4f}, "
              f"mean ||d f / d x||^2 {penalty:.4f}")  # fmt: skip
    print("  the penalty buys a flatter function for a little fit")
    return ok and results[0.3] < results[0.0]


# ---------------------------------------------------------------------------------------------
# 3. The Hessian of a 2-parameter loss over a grid, beside finite differences
# ---------------------------------------------------------------------------------------------


def two_param_loss(a: mg.Tensor, b: mg.Tensor, x: np.ndarray, y: np.ndarray) -> mg.Tensor:
    """L(a, b) = mean_k (b * tanh(a * x_k) - y_k)^2 at every grid point: a, b (G, G) ->
    (G, G); the data x, y (K,) broadcast along a last axis."""
    xk, yk = mg.tensor(x), mg.tensor(y)
    pred = b.unsqueeze(-1) * mg.tanh(a.unsqueeze(-1) * xk)  # (G, G, K)
    return ((pred - yk) ** 2).mean(-1)


def grid_hessian(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray):
    """H_aa, H_ab, H_bb (each (G, G)) by double backward, and by central differences of the
    first-order gradient."""
    at, bt = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    total = two_param_loss(at, bt, x, y).sum()  # each point's loss depends on its own (a, b)
    g_a, g_b = mg.grad(total, [at, bt], create_graph=True)
    h_aa, h_ab = mg.grad(g_a.sum(), [at, bt], retain_graph=True)
    (h_bb,) = mg.grad(g_b.sum(), [bt])
    exact = {"H_aa": h_aa.numpy(), "H_ab": h_ab.numpy(), "H_bb": h_bb.numpy()}

    def first_order(a_: np.ndarray, b_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at_, bt_ = mg.tensor(a_, requires_grad=True), mg.tensor(b_, requires_grad=True)
        ga, gb = mg.grad(two_param_loss(at_, bt_, x, y).sum(), [at_, bt_])
        return ga.numpy(), gb.numpy()

    h = 1e-5
    ga_pa, gb_pa = first_order(a + h, b)
    ga_ma, gb_ma = first_order(a - h, b)
    ga_pb, gb_pb = first_order(a, b + h)
    ga_mb, gb_mb = first_order(a, b - h)
    finite = {
        "H_aa": (ga_pa - ga_ma) / (2 * h),
        "H_ab": (ga_pb - ga_mb) / (2 * h),
        "H_bb": (gb_pb - gb_mb) / (2 * h),
    }
    return exact, finite


def draw(a, b, exact, finite, path: Path) -> bool:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("  (matplotlib is not installed: no figure)")
        return False
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharex=True, sharey=True)
    extent = (a.min(), a.max(), b.min(), b.max())
    for col, name in enumerate(exact):
        lo = min(exact[name].min(), finite[name].min())
        hi = max(exact[name].max(), finite[name].max())
        sources = (("double backward", exact), ("finite differences", finite))
        for row, (source, values) in enumerate(sources):
            ax = axes[row, col]
            im = ax.imshow(values[name], origin="lower", extent=extent, aspect="auto",
                           vmin=lo, vmax=hi, cmap="viridis")  # fmt: skip
            ax.set_title(f"{name}, {source}")
            if row == 1:
                ax.set_xlabel("a")
            if col == 0:
                ax.set_ylabel("b")
        fig.colorbar(im, ax=axes[:, col], shrink=0.8)
    fig.suptitle("Hessian of L(a, b) = mean (b tanh(a x) - y)^2 over a grid of (a, b)")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def part_grid(rng: np.random.Generator, plot: Path | None) -> bool:
    print("3. The Hessian of L(a, b) = mean (b tanh(a x) - y)^2 over a 41 x 41 grid of (a, b)")
    x = np.linspace(-2, 2, 20)
    y = 1.5 * np.tanh(0.8 * x) + 0.05 * rng.standard_normal(20)
    a, b = np.meshgrid(np.linspace(-3, 3, 41), np.linspace(-3, 3, 41))
    exact, finite = grid_hessian(a, b, x, y)
    worst = 0.0
    for name in exact:
        err = np.abs(exact[name] - finite[name]).max()
        worst = max(worst, err / max(1.0, np.abs(exact[name]).max()))
        print(f"  {name}: range [{exact[name].min():7.3f}, {exact[name].max():7.3f}], max |double"
              f" backward - finite differences| {err:.1e}")  # fmt: skip
    if plot is not None and draw(a, b, exact, finite, plot):
        print(f"  figure: {plot}")
    return worst < 1e-6


def _bad_flags(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags (None: nothing), found before the minutes of work."""
    if args.seed < 0:
        return f"--seed must be >= 0, got {args.seed}"
    if not args.no_plot and args.plot.is_dir():
        return f"--plot {args.plot} is a directory, not a file name for the figure"
    if not args.no_plot and not args.plot.resolve().parent.is_dir():
        return f"--plot {args.plot}: the directory {args.plot.parent} does not exist"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="second_order.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=Path("second_order.png"),
                        help="where the Hessian figure goes (default: second_order.png)")  # fmt: skip
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    problem = _bad_flags(args)
    if problem is None:
        try:
            mg.set_backend(args.backend)
        except mg.BackendError as err:
            problem = f"cannot use the {args.backend} backend: {err}"
    if problem is not None:  # one line, status 2, before any work
        print(f"second_order.py: error: {' '.join(problem.split())}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    results = [
        part_newton(rng),
        part_penalty(rng),
        part_grid(rng, None if args.no_plot else args.plot),
    ]
    if not all(results):
        print("a check FAILED", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(run(main, "second_order.py"))
