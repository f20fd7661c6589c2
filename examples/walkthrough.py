"""A walk through minigrad's autograd, one small graph at a time.

    python examples/walkthrough.py                  # on the CPU (NumPy)
    python examples/walkthrough.py --backend cupy   # the same graph on a GPU (CuPy)
    python examples/walkthrough.py --draw out/      # also write graph.png and sweep.png there

We build the smallest network worth the name,

    loss = sum(tanh(x @ W + b))        x: (2, 3) input, W: (3, 2) weight, b: (2,) bias

and look at it from every side: the forward values, the graph of nodes that the forward
recorded, that graph as Graphviz DOT text, a trace of what ``backward()`` did node by node,
the gradients it produced, and finally one gradient worked out by hand with NumPy to show that
the engine computed exactly the chain rule.

Read it top to bottom; each step prints a banner and says what to look at.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

try:
    import minigrad as mg
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import minigrad as mg

from transformer.cli import ArgumentParser, run  # noqa: E402  (bad input: one line, status 2)


def banner(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}")


def describe(obj: object) -> str:
    """A short name for an entry of ``next_functions``: an op's node, a leaf's node, or None."""
    if obj is None:
        return "None (an input that needs no gradient)"
    if not obj.next_functions:  # AccumulateGrad: the node of a leaf, where gradients stop
        leaf = obj.variable
        return f"AccumulateGrad of the leaf tensor {tuple(leaf.shape)} (adds into its .grad)"
    return f"{obj.name}Backward node"


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="walkthrough.py", description="Print one small autograd graph inside out."
    )
    parser.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    parser.add_argument(
        "--draw", metavar="DIR", help="write graph.png (needs Graphviz) and sweep.png there"
    )
    args = parser.parse_args(argv)
    if args.draw and Path(args.draw).exists() and not Path(args.draw).is_dir():
        print(f"walkthrough.py: error: --draw {args.draw} is not a directory", file=sys.stderr)
        return 2
    if args.draw:  # made now, so a path that cannot be is refused before the work
        try:
            Path(args.draw).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            print(f"walkthrough.py: error: --draw {args.draw}: {err.strerror}", file=sys.stderr)
            return 2
    try:
        mg.set_backend(args.backend)  # every tensor below is created on this backend's device
    except mg.BackendError as err:
        print(f"cannot use the {args.backend} backend: {err}", file=sys.stderr)
        return 2
    np.set_printoptions(precision=4, suppress=True)

    # -----------------------------------------------------------------------------------------
    banner("1. The leaves: tensors we create ourselves")
    # -----------------------------------------------------------------------------------------
    # x is data, so it does not require a gradient. W and b are parameters: requires_grad=True
    # tells the engine to record every op that uses them, so that backward can reach them.
    # Small fixed values keep the printout readable.
    x = mg.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])  # (2, 3)
    W = mg.tensor([[0.1, -0.2], [0.4, 0.3], [-0.3, 0.2]], requires_grad=True)  # noqa: N806  (3, 2)
    b = mg.tensor([0.05, -0.1], requires_grad=True)  # (2,)
    for name, t in (("x", x), ("W", W), ("b", b)):
        print(f"{name} = {t}")
        print(
            f"    shape={tuple(t.shape)} dtype={t.dtype} device={t.device} "
            f"requires_grad={t.requires_grad} is_leaf={t.is_leaf} grad_fn={t.grad_fn}"
        )

    # -----------------------------------------------------------------------------------------
    banner("2. The forward pass: each op computes its value AND records a node")
    # -----------------------------------------------------------------------------------------
    # Every op (a Function subclass in minigrad/ops) runs its forward on the raw arrays. Because
    # one of its inputs requires grad, it also keeps a node: ``out.grad_fn``. The node remembers
    # its inputs' nodes (``next_functions``) and the arrays its backward will need.
    z = x @ W  # (2, 3) @ (3, 2) -> (2, 2)   MatMul
    h = z + b  # (2, 2) + (2,)   -> (2, 2)   Add, b broadcast over the rows
    y = mg.tanh(h)  # (2, 2)                  Tanh
    loss = y.sum()  # ()                      Sum
    steps = {"z = x @ W": z, "h = z + b": h, "y = tanh(h)": y, "loss = y.sum()": loss}
    for name, t in steps.items():
        print(f"{name:<16} -> {t}")

    # -----------------------------------------------------------------------------------------
    banner("3. The graph: walk grad_fn.next_functions from the loss down to the leaves")
    # -----------------------------------------------------------------------------------------
    # The graph stores nodes, not intermediate tensors. Each node's ``next_functions`` lists,
    # for each input of the op, the input's node (if an op computed it), the leaf's
    # AccumulateGrad node (if we created it: .variable is the leaf), or None (if it needs no
    # gradient, like x). ``saved_tensors`` holds
    # what the backward formula needs: MatMul keeps x (W's gradient reads it; x wants none, so
    # W is not kept and its place holds None), Tanh keeps its output
    # (d tanh = 1 - tanh^2), Add and Sum keep nothing.
    # mg.autograd.walk_graph yields every node once, outputs first (a topological order): the
    # order backward will visit them in.
    for node in mg.autograd.walk_graph(loss):
        print(node)  # <OpBackward inputs=[...] out=shape dtype>
        for k, parent in enumerate(node.next_functions):
            print(f"    next_functions[{k}]: {describe(parent)}")
        saved = [tuple(a.shape) if hasattr(a, "shape") else a for a in node.saved_tensors]
        print(f"    saved for backward: {saved or 'nothing'}")

    # -----------------------------------------------------------------------------------------
    banner("4. The same graph as Graphviz DOT text")
    # -----------------------------------------------------------------------------------------
    # Paste it into any Graphviz viewer (or `dot -Tsvg`) to see it drawn.
    # Boxes are op nodes, ellipses are leaves; an edge labelled k goes into the op's k-th input.
    # x does not appear: nothing flows back to it. mg.viz.render(loss, "graph.svg") writes an
    # SVG when Graphviz's `dot` is installed.
    print(mg.viz.to_dot(loss, name="loss"))

    # -----------------------------------------------------------------------------------------
    banner("5. The backward pass, traced")
    # -----------------------------------------------------------------------------------------
    # backward() seeds d(loss)/d(loss) = 1, then visits the nodes in the order above. Each node
    # receives the gradient of its output and returns one gradient per input; the engine sums
    # gradients that meet at the same node, reduces broadcast gradients to the input's shape
    # (Add's gradient for b arrives as (2, 2) and is summed over the rows to (2,)), and finally
    # stores each leaf's total in ``leaf.grad``. trace_backward records each step.
    with mg.trace_backward() as trace:
        loss.backward()
    # Columns: the op, its output's shape, the shapes of the gradients its backward returned
    # (before the engine reduces broadcast ones: Add's second is (2, 2), b's grad is (2,)), and
    # the microseconds it took.
    print(trace)
    print("\nthe same records as data (trace.records[0]):")
    print(trace.records[0])
    # After backward the nodes' saved arrays are freed (unless retain_graph=True): a second
    # loss.backward() would raise an error that says so.

    # -----------------------------------------------------------------------------------------
    banner("6. The gradients")
    # -----------------------------------------------------------------------------------------
    print(f"W.grad =\n{W.grad}")
    print(f"b.grad = {b.grad}")
    print(f"x.grad = {x.grad}   (x did not ask for one)")

    # -----------------------------------------------------------------------------------------
    banner("7. Checking dloss/dW by hand with NumPy")
    # -----------------------------------------------------------------------------------------
    # The chain rule, one factor per node, read from the loss down:
    #   Sum:    dloss/dy = 1                                  (2, 2) of ones
    #   Tanh:   dloss/dh = dloss/dy * (1 - tanh(h)^2)         elementwise
    #   Add:    dloss/dz = dloss/dh ; dloss/db = rows of dloss/dh summed (b was broadcast)
    #   MatMul: dloss/dW = x^T @ dloss/dz                     (3, 2) @ (2, 2) -> (3, 2)
    x_np, W_np, b_np = x.numpy(), W.numpy(), b.numpy()  # noqa: N806  (host copies)
    y_np = np.tanh(x_np @ W_np + b_np)
    dy = np.ones_like(y_np)
    dh = dy * (1.0 - y_np**2)
    dW_by_hand = x_np.T @ dh  # noqa: N806
    db_by_hand = dh.sum(axis=0)
    dW_engine = W.grad.numpy()  # noqa: N806
    print(f"dloss/dW by hand:\n{dW_by_hand}")
    print(f"dloss/dW from minigrad:\n{dW_engine}")
    print(f"dloss/db by hand: {db_by_hand}   from minigrad: {b.grad.numpy()}")
    worst = float(np.max(np.abs(dW_by_hand - dW_engine)))
    ok = np.allclose(dW_by_hand, dW_engine, rtol=1e-5, atol=1e-6) and np.allclose(
        db_by_hand, b.grad.numpy(), rtol=1e-5, atol=1e-6
    )
    print(f"largest difference in dW: {worst:.2e} -> {'match' if ok else 'MISMATCH'}")
    studying_tools(x, W, b, args.draw)
    return 0 if ok else 1


class BadTanh(mg.autograd.Function):
    """tanh written by hand, with a mistake in its backward: 1 - y instead of 1 - y^2."""

    @staticmethod
    def forward(ctx, h):
        y = mg.backend.array_module(h).tanh(h)  # NumPy or CuPy, whichever holds h
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * (1 - y)  # the bug: d tanh(h) = 1 - tanh(h)^2


def studying_tools(x: mg.Tensor, W: mg.Tensor, b: mg.Tensor, draw: str | None) -> None:  # noqa: N803
    """Steps 8-12: the same graph under each tool that studies the internals."""
    out_dir = Path(draw) if draw else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    show_values(x, W, b, out_dir)
    show_anomaly(x, W, b)
    # finite differences need float64: the same leaves, promoted
    x64, W64, b64 = (t.double().detach().requires_grad_(t.requires_grad) for t in (x, W, b))  # noqa: N806
    show_locate(x64, W64, b64)
    show_ledger(x, W, b)
    show_sweep(x64, W64, b64, out_dir)


def show_values(x: mg.Tensor, W: mg.Tensor, b: mg.Tensor, out_dir: Path | None) -> None:  # noqa: N803
    # -----------------------------------------------------------------------------------------
    banner("8. The graph with its values: viz.to_dot(values=True)")
    # -----------------------------------------------------------------------------------------
    # Nodes do not keep their outputs (activations die as early as possible), so we rebuild the
    # graph inside keep_values(), which makes each node keep its output array for the drawing.
    # h.retain_grad() asks backward to keep h's gradient too; leaves always get theirs.
    W.grad = b.grad = None
    with mg.viz.keep_values():
        h = x @ W + b
        h.retain_grad()
        loss = mg.tanh(h).sum()
    loss.backward()
    print(mg.viz.to_dot(loss, name="loss", values=True))
    if out_dir is not None:
        path = mg.viz.render(loss, out_dir / "graph.png", values=True, name="loss")
        print(f"\ndrawn to {path}")


def show_anomaly(x: mg.Tensor, W: mg.Tensor, b: mg.Tensor) -> None:  # noqa: N803
    # -----------------------------------------------------------------------------------------
    banner("9. Anomaly mode: which forward line made the gradient infinite?")
    # -----------------------------------------------------------------------------------------
    # sqrt(relu(h)) is fine forward, but relu sends the negative entries of h to 0, where sqrt
    # has an infinite slope. Inside detect_anomaly() every node remembers the line that made it,
    # and backward stops at the first non-finite gradient, naming the op and that line.
    with mg.detect_anomaly():
        h = x @ W + b
        root = mg.sqrt(mg.relu(h)).sum()
        try:
            with np.errstate(divide="ignore"):  # NumPy's own warning about 1 / 0, not needed here
                root.backward()
        except mg.AnomalyError as err:
            print(f"AnomalyError: {err}")


def show_locate(x64: mg.Tensor, W64: mg.Tensor, b64: mg.Tensor) -> None:  # noqa: N803
    # -----------------------------------------------------------------------------------------
    banner("10. gradcheck(locate=True): which backward is wrong?")
    # -----------------------------------------------------------------------------------------
    # The same graph in float64 (finite differences need it), with tanh replaced by BadTanh,
    # whose backward has a bug. The whole-graph check fails; locate=True then checks each node's
    # backward against finite differences of its own forward, from the loss down.

    def bad_net(W: mg.Tensor, b: mg.Tensor) -> mg.Tensor:  # noqa: N803
        return BadTanh.apply(x64 @ W + b).sum()

    try:
        mg.gradcheck(bad_net, (W64, b64), locate=True)
    except mg.GradcheckError as err:
        print(f"GradcheckError: {err}")


def show_ledger(x: mg.Tensor, W: mg.Tensor, b: mg.Tensor) -> None:  # noqa: N803
    # -----------------------------------------------------------------------------------------
    banner("11. trace_memory(): the bytes the graph keeps for backward")
    # -----------------------------------------------------------------------------------------
    # MatMul keeps x, which W's gradient reads (x wants no gradient, so W is not kept, as in
    # PyTorch), Tanh its output; Add and Sum keep nothing. Each array is
    # counted once, and backward frees each node's arrays right after using them ("freed" is the
    # backward step: 1 is Sum). tracemalloc measures what the process allocated meanwhile.
    with mg.trace_memory() as ledger:
        loss = mg.tanh(x @ W + b).sum()
        print(f"held after the forward: {ledger.saved_bytes} bytes")
        loss.backward()
        print(f"held after backward:    {ledger.saved_bytes} bytes\n")
    print(ledger)


def show_sweep(x64: mg.Tensor, W64: mg.Tensor, b64: mg.Tensor, out_dir: Path | None) -> None:  # noqa: N803
    # -----------------------------------------------------------------------------------------
    banner("12. gradcheck_sweep(): how large should the finite-difference step be?")

    # -----------------------------------------------------------------------------------------
    # The worst error of central differences against the (correct) analytic gradient, for steps
    # 1e-1 .. 1e-10: truncation shrinks like eps^2 on the right, round-off grows like 1/eps on
    # the left; the bottom of the V is the best step. From it, tolerances for float32.
    def net(W: mg.Tensor, b: mg.Tensor) -> mg.Tensor:  # noqa: N803
        return mg.tanh(x64 @ W + b).sum()

    plot = out_dir / "sweep.png" if out_dir is not None else None
    sweep = mg.gradcheck_sweep(net, (W64, b64), plot=plot)
    print(sweep)
    if sweep.plot is not None:
        print(f"\ndrawn to {sweep.plot}")


if __name__ == "__main__":
    sys.exit(run(main, "walkthrough.py"))
