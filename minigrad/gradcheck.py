"""Gradient checking: analytic gradients against central finite differences, in float64.

``gradcheck(fn, inputs)`` builds the full Jacobian both ways:

- numerically, column by column: J[:, j] = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps);
- analytically, row by row: J[i, :] = the gradient of output element i (one backward each);

and compares them with ``|analytic - numerical| <= atol + rtol * |numerical|``. It also checks
that every gradient has its input's shape and dtype, and that backward is deterministic (two
runs agree exactly).

For large inputs ``fast_mode=True`` compares one random projection instead (as PyTorch's fast
mode): u^T J v, analytic from one backward, numeric from one directional difference along v.

``gradgradcheck(fn, inputs)`` checks second derivatives the way PyTorch does: it gradchecks
the function ``(inputs, grad_outputs) -> grad(fn(inputs), inputs, grad_outputs,
create_graph=True)``, so the derivatives of the (differentiable) gradients are compared with
finite differences of the first-order gradients.

``locate=True`` finds the culprit when the check fails: it runs ``fn`` again recording every
node's inputs, then checks each node's own backward against finite differences of its own
forward, from the output down (see :func:`locate_wrong_backward`). ``gradcheck_sweep`` measures
the finite-difference error over a range of steps (``minigrad/sweep.py``).

Owns: ``gradcheck`` and the numerical Jacobian. May import: ``backend``, ``autograd``,
``tensor``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, backend, observe
from minigrad.tensor import Tensor

__all__ = [
    "GradcheckError",
    "gradcheck",
    "gradgradcheck",
    "locate_wrong_backward",
    "numerical_jacobian",
]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one (or has the wrong shape/dtype)."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {i} of fn is a {type(o).__name__}, not a Tensor")
        if o.dtype != backend.float64:
            raise TypeError(f"gradcheck: output {i} is {o.dtype}; run the check in float64")
    return outs


def _flat_outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> np.ndarray:
    with autograd.no_grad():
        return np.concatenate([o.numpy().reshape(-1) for o in _outputs(fn, inputs)])


def _central_difference(
    fn: Callable[..., Any], inputs: Sequence[Any], x: Tensor, index: Any, delta: Any, eps: float
) -> np.ndarray:
    """(f(x + delta) - f(x - delta)) / (2 eps) with ``x.array[index]`` shifted by ``delta``, over all
    outputs flattened; ``x`` is restored even when ``fn`` raises."""
    orig = x.array[index].copy()
    try:
        x.array[index] = orig + delta
        plus = _flat_outputs(fn, inputs)
        x.array[index] = orig - delta
        minus = _flat_outputs(fn, inputs)
    finally:
        x.array[index] = orig
    # an output that did not move (including one that stays at +-inf) has derivative 0
    return np.where(plus == minus, 0.0, plus - minus) / (2 * eps)


def numerical_jacobian(
    fn: Callable[..., Any], inputs: Sequence[Any], index: int, eps: float = 1e-6
) -> np.ndarray:
    """d(all outputs, flattened and concatenated)/d(inputs[index] flattened), by central
    differences. Shape: (total output elements, input elements)."""
    x = inputs[index]
    shape = tuple(x.shape)
    columns = [
        _central_difference(fn, inputs, x, _element(shape, j), eps, eps) for j in range(x.numel())
    ]
    if not columns:
        return np.zeros((_flat_outputs(fn, inputs).size, 0))
    return np.stack(columns, axis=1)


def _analytic_jacobians(
    fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int]
) -> tuple[list[np.ndarray], list[Tensor]]:
    outs = _outputs(fn, inputs)
    targets = [inputs[i] for i in diff]
    sizes = [o.numel() for o in outs]
    rows: list[list[np.ndarray]] = [[] for _ in diff]
    for k, out in enumerate(outs):
        for e in range(sizes[k]):
            seed = np.zeros(out.numel())
            seed[e] = 1.0
            seeds = [
                Tensor(
                    seed.reshape(o.shape) if m == k else np.zeros(o.shape),
                    dtype=backend.float64,
                    device=o.device,
                )
                for m, o in enumerate(outs)
            ]
            usable = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
            if not usable:
                grads = [None] * len(targets)
            else:
                grads = autograd.grad(
                    [o for o, _ in usable],
                    targets,
                    [s for _, s in usable],
                    retain_graph=True,
                    allow_unused=True,
                )
            for r, (t, g) in enumerate(zip(targets, grads)):
                if g is not None:
                    _check_meta(diff[r], t, g)
                rows[r].append(np.zeros(t.numel()) if g is None else g.numpy().reshape(-1))
    jacobians = [
        np.stack(r, axis=0) if r else np.zeros((0, inputs[i].numel())) for r, i in zip(rows, diff)
    ]
    return jacobians, outs


def _check_meta(index: int, x: Tensor, g: Tensor) -> None:
    if tuple(g.shape) != tuple(x.shape):
        raise GradcheckError(
            f"gradcheck: gradient for input {index} has shape {tuple(g.shape)}, input has {tuple(x.shape)}"
        )
    if g.dtype != x.dtype:
        raise GradcheckError(
            f"gradcheck: gradient for input {index} is {g.dtype}, input is {x.dtype}"
        )
    if g.device != x.device:
        raise GradcheckError(
            f"gradcheck: gradient for input {index} is on {g.device}, input on {x.device}"
        )


def _check_inputs(inputs: Sequence[Any]) -> list[int]:
    diff = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != backend.float64:
                raise TypeError(
                    f"gradcheck: input {i} is {x.dtype}; finite differences need float64 inputs "
                    "(use .double() on the inputs, and float64 parameters)"
                )
            if not x.is_leaf:
                raise ValueError(
                    f"gradcheck: input {i} must be a leaf tensor (use .detach().requires_grad_())"
                )
            diff.append(i)
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    return diff


def _element(shape: tuple[int, ...], flat_index: int) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    seed: int = 0,
    locate: bool = False,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Args:
        fn: takes ``*inputs`` and returns a float64 tensor or a tuple of them.
        inputs: tensors (those with ``requires_grad=True`` are checked; they must be float64
            leaves) and any other arguments ``fn`` takes.
        eps: the finite-difference step.
        atol: the absolute tolerance: an element passes when
            ``|analytic - numerical| <= atol + rtol * |numerical|``.
        rtol: the relative tolerance.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        fast_mode: compare one random projection u^T J v per input instead of the full Jacobian.
        seed: seeds the random u and v of fast mode (and of ``locate``).
        locate: when the check fails, find the first node (from the output down) whose own
            backward disagrees with its own forward, and raise an error naming it.

    Returns:
        True when every gradient matches.

    The error names the input, the element index (and output element), and both values.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if locate:
        _refuse_low_precision(inputs)
    diff = _check_inputs(inputs)
    try:
        if fast_mode:
            _fast_check(fn, inputs, diff, eps, atol, rtol, seed)
        else:
            _full_check(fn, inputs, diff, eps, atol, rtol)
    except GradcheckError as err:
        if not raise_exception:
            return False
        if locate:
            locate_wrong_backward(fn, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, cause=err)
        raise
    return True


def _full_check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    diff: list[int],
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    analytic, outs = _analytic_jacobians(fn, inputs, diff)
    out_shapes = [tuple(o.shape) for o in outs]
    # A second run must give the same Jacobian: backward may not depend on hidden state.
    again, _ = _analytic_jacobians(fn, inputs, diff)
    for a, b, i in zip(analytic, again, diff):
        if not np.array_equal(a, b):
            raise GradcheckError(f"gradcheck: backward is not deterministic for input {i}")
    for a, i in zip(analytic, diff):
        numeric = numerical_jacobian(fn, inputs, i, eps)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        bad |= np.isnan(a) != np.isnan(numeric)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            out_k, out_e = _split_row(row, out_shapes)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {tuple(inputs[i].shape)}), element {_element(tuple(inputs[i].shape), col)}, "
                f"output {out_k} element {_element(out_shapes[out_k], out_e)}: analytic {float(a[row, col])!r} vs "
                f"numerical {float(numeric[row, col])!r} (atol={atol}, rtol={rtol}; {int(bad.sum())} of {bad.size} "
                "Jacobian entries differ)"
            )


def _split_row(row: int, shapes: list[tuple[int, ...]]) -> tuple[int, int]:
    for k, s in enumerate(shapes):
        n = int(np.prod(s)) if s else 1
        if row < n:
            return k, row
        row -= n
    return len(shapes) - 1, row


def _fast_check(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    diff: list[int],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    us = [rng.standard_normal(tuple(o.shape)) for o in outs]
    usable = [
        (o, Tensor(u, dtype=backend.float64, device=o.device))
        for o, u in zip(outs, us)
        if o.requires_grad
    ]
    grads = autograd.grad(
        [o for o, _ in usable], [inputs[i] for i in diff], [u for _, u in usable], allow_unused=True
    )
    for i, g in zip(diff, grads):
        x = inputs[i]
        if g is not None:
            _check_meta(i, x, g)
        v = rng.standard_normal(tuple(x.shape))
        analytic = 0.0 if g is None else float((g.numpy() * v).sum())
        u_flat = np.concatenate([u.reshape(-1) for u in us])
        step = backend.to_device(eps * v, x.device)
        numeric = float(u_flat @ _central_difference(fn, inputs, x, Ellipsis, step, eps))
        if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
            raise GradcheckError(
                f"gradcheck (fast mode): input {i} (shape {tuple(x.shape)}): u^T J v analytic {analytic!r} vs "
                f"numerical {numeric!r} (atol={atol}, rtol={rtol}); rerun without fast_mode to find the element"
            )


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast_mode: bool = False,
    seed: int = 0,
) -> bool:
    """Check the second derivatives of ``fn`` at ``inputs`` against finite differences of its
    first derivatives (PyTorch's ``gradgradcheck``).

    Args:
        fn: takes ``*inputs`` and returns a float64 tensor or a tuple of them.
        inputs: as for :func:`gradcheck` (the float64 leaves with ``requires_grad=True`` are
            checked; float32 is refused).
        grad_outputs: one float64 tensor per output that requires grad, of its shape (the
            vector the first backward starts from); random when None. They are checked as
            variables too: the gradients are linear in them.
        eps: the finite-difference step (as for :func:`gradcheck`).
        atol: absolute tolerance (as for :func:`gradcheck`).
        rtol: relative tolerance (as for :func:`gradcheck`).
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        fast_mode: compare one random projection instead of the full Jacobian.
        seed: seeds the random grad_outputs and fast mode's projections.

    Returns:
        True when every second derivative matches.

    The error names the variable at fault (``input i`` or ``grad_outputs[j]``), the element,
    and which input's gradient disagrees.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    _refuse_for_gradgrad(inputs)
    diff = _check_inputs(inputs)
    gos = _grad_output_leaves(fn, inputs, grad_outputs, seed)
    n = len(inputs)
    try:
        return gradcheck(
            _first_order(fn, n, diff),
            (*inputs, *gos),
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            seed=seed,
        )
    except GradcheckError as err:
        if not raise_exception:
            return False
        raise GradcheckError(_second_order_message(str(err), n, diff)) from None


def _first_order(fn: Callable[..., Any], n: int, diff: list[int]) -> Callable[..., Any]:
    """The function gradgradcheck gradchecks: ``(*inputs, *grad_outputs)`` -> the gradients
    of ``fn``'s outputs with respect to the inputs ``diff`` names, as a differentiable graph
    (``n`` is the number of inputs)."""

    def first_order(*args: Any) -> tuple[Tensor, ...]:
        xs, vs = args[:n], args[n:]
        with autograd.enable_grad():  # also inside the finite differences' no_grad
            outs = [o for o in _outputs(fn, xs) if o.requires_grad]
            targets = [xs[i] for i in diff]
            grads = autograd.grad(outs, targets, list(vs), create_graph=True, allow_unused=True)
        # an input the outputs do not use has gradient 0, whose derivative is 0
        return tuple(t * 0.0 if g is None else g for t, g in zip(targets, grads))

    return first_order


def _refuse_for_gradgrad(inputs: Sequence[Any]) -> None:
    _require_float64(
        inputs,
        "gradgradcheck",
        "second derivatives by finite differences need float64 inputs (use .double() on the "
        "inputs, and float64 parameters)",
    )


def _require_float64(inputs: Sequence[Any], what: str, why: str) -> None:
    """TypeError naming the first input that requires grad and is not float64."""
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != backend.float64:
            raise TypeError(f"{what}: input {i} (shape {tuple(x.shape)}) is {x.dtype}; {why}")


def _grad_output_leaves(
    fn: Callable[..., Any], inputs: Sequence[Any], grad_outputs: Any, seed: int
) -> list[Tensor]:
    """The grad_outputs as float64 leaves that require grad (random ones when None)."""
    outs = [o for o in _outputs(fn, inputs) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        return [
            Tensor(
                rng.standard_normal(tuple(o.shape)), dtype=backend.float64, device=o.device
            ).requires_grad_()
            for o in outs
        ]
    given = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(given) != len(outs):
        raise ValueError(
            f"gradgradcheck: {len(outs)} outputs require grad but {len(given)} grad_outputs given"
        )
    leaves = []
    for j, (o, v) in enumerate(zip(outs, given)):
        if tuple(v.shape) != tuple(o.shape) or v.dtype != backend.float64:
            raise TypeError(
                f"gradgradcheck: grad_outputs[{j}] is {v.dtype} of shape {tuple(v.shape)}; "
                f"expected float64 of the output's shape {tuple(o.shape)}"
            )
        leaves.append(v if v.is_leaf and v.requires_grad else v.detach().requires_grad_())
    return leaves


def _second_order_message(message: str, n: int, diff: list[int]) -> str:
    """gradcheck's message about ``first_order`` told in gradgradcheck's terms."""
    import re  # noqa: PLC0415  (only on failure)

    def variable(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return f"input {i}" if i < n else f"grad_outputs[{i - n}]"

    def gradient(m: re.Match[str]) -> str:
        return f"the gradient of input {diff[int(m.group(1))]}"

    text = re.sub(r"input (\d+)", variable, message.removeprefix("gradcheck"), count=1)
    text = re.sub(r"output (\d+)", gradient, text, count=1)
    return "gradgradcheck (second derivatives)" + text


# ---------------------------------------------------------------------------------------------
# Locating the wrong backward: each node against finite differences of its own forward
# ---------------------------------------------------------------------------------------------


def _refuse_low_precision(inputs: Sequence[Any]) -> None:
    _require_float64(
        inputs,
        "gradcheck(locate=True)",
        "locating a wrong backward compares each node with finite differences, which "
        "float32 rounding drowns: pass float64 inputs (.double()) and float64 parameters",
    )


class _Replay(observe.Observer):
    """Keeps on every node the arrays and options its forward ran with, and where it was made."""

    def forward(self, node: Any, result: Any, arrays: tuple[Any, ...], options: dict) -> None:
        if result.grad_fn is node:
            node._replay = (arrays, options)
            node._created_at = observe.call_stack()


def _run_node(node: Any, arrays: list[Any], options: dict) -> tuple[Any, Any]:
    """A fresh copy of ``node`` (same op, same parents) run forward on ``arrays``."""
    cls = type(node)
    ctx = cls.__new__(cls)
    ctx.saved_tensors = ()
    ctx.parents, ctx.needs_input_grad = node.parents, node.needs_input_grad
    ctx._hooks = ctx._retained = None
    out = cls.forward(ctx, *arrays, **options)
    out = backend.ensure_array(out, next(a for a in arrays if hasattr(a, "shape")))
    ctx.out_shape, ctx.out_dtype = out.shape, out.dtype
    return ctx, out


def _numeric_vjp(
    node: Any, args: list[Any], options: dict, i: int, u: np.ndarray, eps: float
) -> np.ndarray:
    """d(sum(u * forward(args)))/d(args[i]) by central differences, element by element."""
    x = args[i]
    numeric = np.zeros(x.shape)
    for j in range(x.size):
        index = _element(tuple(x.shape), j)
        orig = x[index].copy()
        x[index] = orig + eps
        plus = float((backend.to_host(_run_node(node, args, options)[1]) * u).sum())
        x[index] = orig - eps
        minus = float((backend.to_host(_run_node(node, args, options)[1]) * u).sum())
        x[index] = orig
        numeric[index] = (plus - minus) / (2 * eps)
    return numeric


def _check_node(
    node: Any, eps: float, atol: float, rtol: float, rng: np.random.Generator
) -> dict[str, Any] | None:
    """The worst disagreement between ``node``'s backward and finite differences of its forward,
    as d(sum(u * out))/d(input) for a random u; None when every element agrees, and
    ``{"random": True}`` when two runs of its forward differ (dropout), so it cannot be checked.

    The float inputs that need a gradient run in float64; the others are kept as constants.
    """
    arrays, options = node._replay
    wanted = [
        i
        for i, (a, p) in enumerate(zip(arrays, node.parents))
        if p is not None and getattr(a, "dtype", None) is not None and a.dtype.kind == "f"
    ]
    args = [a.astype(backend.float64) if i in wanted else a for i, a in enumerate(arrays)]
    ctx, out = _run_node(node, args, options)
    if not np.array_equal(backend.to_host(out), backend.to_host(_run_node(node, args, options)[1])):
        return {"random": True}
    u_host = rng.standard_normal(tuple(out.shape))
    u = backend.to_device(u_host, backend.device_of(out))
    grads = type(node).backward(ctx, u.astype(out.dtype))
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i in wanted:
        x, g = args[i], grads[i] if i < len(grads) else None
        analytic = (
            np.zeros(x.shape) if g is None else backend.to_host(autograd.unbroadcast(g, x.shape))
        )
        numeric = _numeric_vjp(node, args, options, i, u_host, eps)
        excess = np.asarray(np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric)))  # 0-d too
        excess[np.isnan(analytic) != np.isnan(numeric)] = np.inf
        if (excess > 0).any():
            worst = np.unravel_index(int(np.argmax(excess)), x.shape) if x.ndim else ()
            return {
                "input": i,
                "element": tuple(int(k) for k in worst),
                "analytic": float(analytic[worst]),
                "numeric": float(numeric[worst]),
                "count": int((excess > 0).sum()),
                "size": int(x.size),
                "out_shape": tuple(out.shape),
            }
    return None


def _graph_nodes(outs: list[Tensor]) -> list[Any]:
    """The nodes behind ``outs``, outputs first, each once."""
    seen: dict[int, Any] = {}
    for o in outs:
        for node in autograd.walk_graph(o):
            seen.setdefault(id(node), node)
    return list(seen.values())


def _describe_arrays(node: Any) -> str:
    arrays, _ = node._replay
    parts = []
    for a, p in zip(arrays, node.parents):
        if hasattr(a, "shape"):
            parts.append(f"{tuple(a.shape)} {a.dtype}{'' if p is not None else ' (constant)'}")
        else:
            parts.append(repr(a))
    return ", ".join(parts)


def locate_wrong_backward(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    cause: Exception | None = None,
) -> None:
    """Run ``fn`` once more, then check every node of its graph on its own, from the output
    down: its backward, given random output weights u, against central differences of its
    forward (float64). Raises :class:`GradcheckError` naming the first node that disagrees
    (its op, its inputs' shapes, the worst element, where it was created), or, when every node
    agrees, saying that the graph's wiring is at fault. Ops whose forward draws random numbers
    (dropout) cannot be checked this way.
    """
    replay = _Replay()
    observe.attach(replay)
    try:
        outs = _outputs(fn, inputs)
    finally:
        observe.detach(replay)
    rng = np.random.default_rng(seed)
    suffix = f"\nThe whole-graph check said: {cause}" if cause is not None else ""
    nodes = _graph_nodes(outs)
    random: list[str] = []
    for node in nodes:
        bad = _check_node(node, eps, atol, rtol, rng)
        if bad is None or bad.get("random"):
            random += [node.name] if bad else []
            continue
        raise GradcheckError(
            f"gradcheck(locate=True): the backward of {node.name} is wrong (the first of "
            f"{len(nodes)} nodes, from the output down, whose backward disagrees with finite "
            f"differences of its own forward).\n"
            f"  {node.name} inputs: {_describe_arrays(node)}; output {bad['out_shape']}\n"
            f"  input {bad['input']}, element {bad['element']}: d(sum(u * out))/d(input) "
            f"analytic {bad['analytic']!r} vs numerical {bad['numeric']!r} (u: random weights; "
            f"{bad['count']} of {bad['size']} elements differ; atol={atol}, rtol={rtol})\n"
            f"  created at:\n{observe.format_stack(node._created_at, indent='    ')}{suffix}"
        ) from cause
    if random:
        raise GradcheckError(
            f"gradcheck(locate=True): no node's backward disagrees with its forward, but these "
            f"nodes draw random numbers in their forward: {', '.join(random)} ({len(random)} of "
            f"{len(nodes)}); neither they nor the whole graph can be checked against finite "
            f"differences: run the check without them (dropout p=0, or eval mode){suffix}"
        ) from cause
    raise GradcheckError(
        f"gradcheck(locate=True): each of the {len(nodes)} nodes' backward agrees with finite "
        "differences of its own forward, yet the whole graph's gradient is wrong: the wiring "
        "is at fault (a value computed outside the graph, e.g. from .array, .numpy() or "
        f"detach(), or an array changed in place after an op saved it){suffix}"
    ) from cause
