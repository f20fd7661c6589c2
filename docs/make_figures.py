"""Every figure of the documentation, made from the code: ``python docs/make_figures.py``.

The MkDocs build runs it (docs/hooks.py); the figures land in docs/figures/, which git ignores.
Each figure is one function below, named after its file. Graph pictures need Graphviz's ``dot``;
without it they are drawn with matplotlib from the same DOT text's nodes and edges.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures"
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import nn  # noqa: E402


def _graph(loss: mg.Tensor, name: str) -> None:
    """The graph of ``loss`` with values, as PNG: Graphviz if installed, else matplotlib."""
    path = OUT / f"{name}.png"
    if shutil.which("dot"):
        mg.viz.render(loss, path, values=True, name="loss")
        return
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.axis("off")
    ax.text(
        0.5,
        0.5,
        "Graphviz's dot is not installed: this picture needs it\n(apt-get install graphviz).\n"
        "The DOT text is printed on the page above.",
        ha="center",
        va="center",
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)


def graph_values() -> None:
    """Chapter 1: sum(tanh(x @ W + b)) with its values and gradients."""
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    W = mg.tensor([[0.1, -0.2], [0.4, 0.3], [-0.3, 0.2]], requires_grad=True)  # noqa: N806
    b = mg.tensor([0.05, -0.1], requires_grad=True)
    with mg.viz.keep_values():
        h = x @ W + b
        h.retain_grad()
        loss = mg.tanh(h).sum()
    loss.backward()
    _graph(loss, "graph_values")


def graph_softplus() -> None:
    """Chapter 2: a graph with a user-defined op in it."""

    class Softplus(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            xp = mg.backend.array_module(x)
            ctx.save_for_backward(x)
            return xp.logaddexp(0, x)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            xp = mg.backend.array_module(x)
            return grad / (1 + xp.exp(-x))

    x = mg.tensor([[-1.0, 0.0, 2.0]], requires_grad=True)
    w = mg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with mg.viz.keep_values():
        loss = Softplus.apply(x * w).mean()
    loss.backward()
    _graph(loss, "graph_softplus")


def gradcheck_eps() -> None:
    """Chapter 4: the worst finite-difference error against the step, float64 and float32."""
    mg.manual_seed(0)
    x = mg.randn(3, 4, dtype=mg.float64)
    W = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)  # noqa: N806

    def net(W):  # noqa: N803
        return mg.tanh(x @ W).sum()

    eps = [10.0**-k for k in range(1, 11)]
    sweep = mg.gradcheck_sweep(net, (W,), eps=eps)
    # the same differences taken in float32 (the analytic gradient in float64: the reference)
    w32, x32 = W.detach().float().numpy(), x.float().numpy()
    exact = x.numpy().T @ (1 - np.tanh(x.numpy() @ W.detach().numpy()) ** 2)

    def f32(w: np.ndarray) -> np.float32:
        return np.tanh(x32 @ w).sum(dtype=np.float32)

    err32 = []
    for e in eps:
        worst = 0.0
        for i in np.ndindex(w32.shape):
            up, down = w32.copy(), w32.copy()
            up[i] += np.float32(e)
            down[i] -= np.float32(e)
            worst = max(worst, abs((f32(up) - f32(down)) / np.float32(2 * e) - exact[i]))
        err32.append(float(worst))
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.loglog(eps, sweep.errors, "o-", label="float64")
    ax.loglog(eps, err32, "s-", label="float32")
    ax.set_xlabel("finite-difference step eps")
    ax.set_ylabel("worst |numerical - analytic|")
    ax.set_title("central differences of sum(tanh(x @ W)): truncation (right) meets round-off")
    ax.title.set_fontsize(9)
    ax.invert_xaxis()
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "gradcheck_eps.png", dpi=110)
    plt.close(fig)


def masked_attention() -> None:
    """Chapter 6: attention weights under a causal mask and a padding mask."""
    mg.manual_seed(0)
    q = mg.randn(1, 1, 5, 4)
    k = mg.randn(1, 1, 5, 4)
    causal = mg.triu(mg.ones(5, 5, dtype=mg.bool_), diagonal=1)
    scores = (q @ k.transpose(-2, -1)) / 2.0
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.3))
    for ax, (title, mask) in zip(
        axes, [("no mask", None), ("causal mask (True = hidden)", causal)], strict=True
    ):
        s = scores if mask is None else mg.masked_fill(scores, mask, float("-inf"))
        w = mg.softmax(s, -1).numpy()[0, 0]
        im = ax.imshow(w, vmin=0, vmax=1, cmap="viridis")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("key position")
        ax.set_ylabel("query position")
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    fig.savefig(OUT / "masked_attention.png", dpi=110)
    plt.close(fig)


def training_curves() -> None:
    """Chapter 7: an MLP on two moons, loss and learning rate per step (cosine with warm-up)."""
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, 256)
    label = rng.integers(0, 2, 256)
    pts = np.stack([np.cos(t) - label, np.sin(t) * (1 - 2 * label) + 0.5 * label], 1)
    pts += rng.normal(0, 0.1, pts.shape)
    x, y = mg.tensor(pts.astype(np.float32)), mg.tensor(label)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = nn.optim.AdamW(model.parameters(), lr=3e-2, weight_decay=1e-2)
    sched = nn.schedule.CosineWarmupLR(opt, warmup=20, total_steps=200)
    losses, lrs = [], []
    for _ in range(200):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
        losses.append(loss.item())
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(losses, label="training loss")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax2 = ax.twinx()
    ax2.plot(lrs, color="tab:orange", label="learning rate")
    ax2.set_ylabel("learning rate")
    fig.legend(loc="upper right", bbox_to_anchor=(0.85, 0.9))
    ax.set_title("two moons, AdamW with CosineWarmupLR", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "training_curves.png", dpi=110)
    plt.close(fig)


def transformer_attention() -> None:
    """Chapter 8: a tiny transformer learns to reverse digits; its cross-attention."""
    from transformer import Transformer, greedy_decode
    from transformer.data import BOS_ID, EOS_ID, PAD_ID, make_task

    mg.manual_seed(0)
    task = make_task("reverse", seed=0, min_len=4, max_len=8, test_size=20, val_size=20)
    V = len(task.vocab)  # noqa: N806
    model = Transformer(V, V, d_model=32, n_heads=2, num_encoder_layers=1,
                        num_decoder_layers=1, d_ff=64, dropout=0.0)  # fmt: skip
    opt = nn.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD_ID)
    stream = task.train_batches(32, 0)
    losses = []
    for _ in range(300):
        batch = next(stream)
        logits = model(mg.tensor(batch.src), mg.tensor(batch.tgt_in))
        loss = loss_fn(logits.reshape(-1, V), mg.tensor(batch.tgt_out).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    text = "3141592"
    src = mg.tensor([task.vocab.encode(text)])
    out = greedy_decode(model, src, len(text) + 1, BOS_ID, EOS_ID)
    attn = model.decoder.layers[-1].cross_attn
    attn.record_weights = True
    with mg.no_grad():
        model.decode(out, model.encode(src))
    attn.record_weights = False
    weights = attn.last_weights.numpy()[0]
    rows = ["<bos>", *task.vocab.decode(out.numpy()[0])][: weights.shape[0]]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9, 3.6), width_ratios=[1.2, 1])
    ax0.plot(losses)
    ax0.set_yscale("log")
    ax0.set_xlabel("step")
    ax0.set_ylabel("cross-entropy")
    ax0.set_title("training loss (reverse digits)", fontsize=10)
    ax1.imshow(weights[: len(rows)], cmap="viridis", aspect="auto")
    ax1.set_xticks(range(len(text)), list(text))
    ax1.set_yticks(range(len(rows)), rows)
    ax1.set_xlabel("source")
    ax1.set_ylabel("decoder input")
    ax1.set_title("cross-attention (mean over heads)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "transformer_attention.png", dpi=110)
    plt.close(fig)


def schedules() -> None:
    """Chapter 7: the learning rate of NoamLR and CosineWarmupLR by step."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for name, make in [
        ("NoamLR(d_model=128, warmup=400)", lambda o: nn.schedule.NoamLR(o, 128, warmup=400)),
        (
            "CosineWarmupLR(warmup=400, total_steps=4000)",
            lambda o: nn.schedule.CosineWarmupLR(o, warmup=400, total_steps=4000),
        ),
    ]:
        p = nn.Parameter(mg.zeros(1))
        opt = nn.optim.Adam([p], lr=1e-3)
        sched = make(opt)
        lrs = []
        for _ in range(4000):
            lrs.append(opt.param_groups[0]["lr"])
            sched.step()
        ax.plot(lrs, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "schedules.png", dpi=110)
    plt.close(fig)


FIGURES = [
    graph_values,
    graph_softplus,
    gradcheck_eps,
    masked_attention,
    training_curves,
    schedules,
    transformer_attention,
]


def main() -> int:
    global OUT
    final = OUT
    final.mkdir(parents=True, exist_ok=True)
    mg.set_backend("numpy")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        OUT = Path(tmp)  # drawn here, then only changed files replace the published ones, so
        for make in FIGURES:  # `mkdocs serve`, which watches docs/, sees no change to rebuild for
            make()
        for new in sorted(OUT.glob("*.png")):
            old = final / new.name
            if not old.exists() or old.read_bytes() != new.read_bytes():
                shutil.copyfile(new, old)
        OUT = final
    names = ", ".join(f.__name__ for f in FIGURES)
    print(f"make_figures: {names} in {time.perf_counter() - start:.1f} s -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
