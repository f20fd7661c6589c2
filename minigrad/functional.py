"""Derivatives of whole functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.

PyTorch's ``torch.autograd.functional``, with its argument and return conventions, so its
documentation reads across:

- ``func`` takes tensors and returns a tensor or a tuple of tensors;
- ``inputs`` (and ``v``) is a tensor or a tuple of tensors; the results follow the same
  structure: a tuple where a tuple was given, a single tensor where a single tensor was;
- ``vjp``, ``jvp``, ``hvp``, ``vhp`` return ``(func_output, result)``;
- the results (and the returned outputs) are detached unless ``create_graph=True``, in which
  case they carry a graph and can be differentiated again;
- an input the outputs do not depend on gets zeros, and an output that does not require grad
  contributes nothing (PyTorch's ``strict=False``, the only mode here).

Everything is reverse mode, built on ``minigrad.grad``; the ones that need a second derivative
(``jvp``, ``hessian``, ``hvp``, ``vhp``) call it with ``create_graph=True``. The inputs are
detached copies (sharing memory) that require grad, so ``func`` sees fresh leaves and the
caller's graph is untouched, unless ``create_graph=True`` and the input already requires grad:
then the input itself is used, so the result stays connected to it.

Owns: the six functions. May import: minigrad's public API (the layer of ``gradcheck``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad.autograd import enable_grad
from minigrad.autograd import grad as _autograd_grad
from minigrad.creation import eye, zeros, zeros_like
from minigrad.ops import reshape, stack
from minigrad.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

Tensors = Tensor | tuple[Tensor, ...]


# ---------------------------------------------------------------------------------------------
# The six functions
# ---------------------------------------------------------------------------------------------


def vjp(
    func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False
) -> tuple[Tensors, Tensors]:
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs`` (one backward pass).

    Args:
        func: ``func(*inputs)`` -> a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        v: one tensor per output, of the output's shape; may be left out when ``func`` returns
            a single one-element tensor.
        create_graph: make the result differentiable.

    Returns:
        ``(func_output, vjp)``: the outputs, and per input ``sum_k v_k . d out_k / d input``
        (the input's shape).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
    inputs = _prepare_inputs(inputs, create_graph, "vjp")
    with enable_grad():
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "vjp")
    if v is not None:
        _, v = _as_tuple(v, "v", "vjp")
        v = _prepare_v(v, create_graph)
        _validate_v(v, outputs, is_outputs_tuple, "vjp")
    elif len(outputs) != 1 or outputs[0].numel() != 1:
        raise RuntimeError(
            "vjp: v can only be None if the function returns a single tensor with a single "
            f"element; it returned shapes {[tuple(o.shape) for o in outputs]}"
        )
    with enable_grad():
        grads = _grad(outputs, inputs, v, create_graph)
    result = _fill_in_zeros(grads, inputs)
    return (
        _tuple_out(_finish(outputs, create_graph), is_outputs_tuple),
        _tuple_out(_finish(result, create_graph), is_inputs_tuple),
    )


def jvp(
    func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False
) -> tuple[Tensors, Tensors]:
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs``.

    Computed with the double-vjp construction (no forward mode here): ``g(u) = J^T u`` is
    linear in ``u``, so differentiating ``<g(u), v>`` with respect to ``u`` gives ``J v``. That
    is two backward passes, the first with ``create_graph=True``.

    Args:
        func: ``func(*inputs)`` -> a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors.
        v: one tensor per input, of the input's shape; may be left out when ``inputs`` is a
            single one-element tensor.
        create_graph: make the result differentiable.

    Returns:
        ``(func_output, jvp)``: the outputs, and per output ``sum_i d out / d input_i . v_i``
        (the output's shape).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
    inputs = _prepare_inputs(inputs, create_graph, "jvp")
    if v is not None:
        _, v = _as_tuple(v, "v", "jvp")
        v = _prepare_v(v, create_graph)
        _validate_v(v, inputs, is_inputs_tuple, "jvp")
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(
            "jvp: v can only be None if the input is a single tensor with a single element; "
            f"got shapes {[tuple(x.shape) for x in inputs]}"
        )
    with enable_grad():
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "jvp")
        # u: a dummy output gradient; g(u) = J^T u, linear in u, keeps its graph to u
        u = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        g = _grad(outputs, inputs, u, create_graph=True)
        # d <g(u), v> / du = J v
        result = _grad(g, u, v, create_graph)
    result = _fill_in_zeros(result, outputs)
    return (
        _tuple_out(_finish(outputs, create_graph), is_outputs_tuple),
        _tuple_out(_finish(result, create_graph), is_outputs_tuple),
    )


def jacobian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False) -> Any:
    """The Jacobian of ``func`` at ``inputs``, one backward pass per output element.

    Returns:
        ``J[i][j]`` of shape ``outputs[i].shape + inputs[j].shape``: a tensor when ``func``
        returns one tensor and ``inputs`` is one tensor, a tuple over the inputs (or over the
        outputs) when only that one is a tuple, else a tuple of tuples.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    inputs = _prepare_inputs(inputs, create_graph, "jacobian")
    with enable_grad():
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), _OUTPUTS, "jacobian")
        result = tuple(_jacobian_of(out, inputs, create_graph) for out in outputs)
    result = tuple(_finish(row, create_graph) for row in result)
    return _tuple_out2(result, is_outputs_tuple, is_inputs_tuple)


def hessian(func: Callable[..., Any], inputs: Tensors, create_graph: bool = False) -> Any:
    """The Hessian of a scalar function: the Jacobian of its gradient.

    Args:
        func: ``func(*inputs)`` -> a tensor with a single element.
        inputs: a tensor or a tuple of tensors.
        create_graph: make the result differentiable.

    Returns:
        ``H[i][j]`` of shape ``inputs[i].shape + inputs[j].shape``: a tensor for a single input,
        else a tuple of tuples.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*xs: Tensor) -> Tensor:
        out = _single_element_output(func(*xs), "hessian")
        return reshape(out, ())

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        return jacobian(scalar_func, xs, create_graph=True)

    result = jacobian(gradient, inputs, create_graph=create_graph)
    return _tuple_out2(result, is_inputs_tuple, is_inputs_tuple)


def vhp(
    func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False
) -> tuple[Tensor, Tensors]:
    """The vector-Hessian product ``v^T H`` of a scalar function at ``inputs``: the gradient
    of ``<grad func, v>`` (two backward passes, the first with ``create_graph=True``).

    Returns:
        ``(func_output, vhp)``, ``vhp`` with the structure and shapes of ``inputs``.
    """
    is_inputs_tuple, inputs, v, output = _second_order_setup(func, inputs, v, create_graph, "vhp")
    with enable_grad():
        g = _grad((output,), inputs, None, create_graph=True)
        result = _grad(g, inputs, v, create_graph)
    result = _fill_in_zeros(result, inputs)
    return (
        _finish((output,), create_graph)[0],
        _tuple_out(_finish(result, create_graph), is_inputs_tuple),
    )


def hvp(
    func: Callable[..., Any], inputs: Tensors, v: Tensors | None = None, create_graph: bool = False
) -> tuple[Tensor, Tensors]:
    """The Hessian-vector product ``H v`` of a scalar function at ``inputs``.

    As PyTorch, with the double-backward trick: ``w(u) = H^T u`` (a vhp, linear in a dummy
    ``u``) is differentiated along ``v`` with respect to ``u``, giving ``H v`` (three backward
    passes). For a twice continuously differentiable function H is symmetric and ``vhp``
    gives the same, cheaper.

    Returns:
        ``(func_output, hvp)``, ``hvp`` with the structure and shapes of ``inputs``.
    """
    is_inputs_tuple, inputs, v, output = _second_order_setup(func, inputs, v, create_graph, "hvp")
    with enable_grad():
        g = _grad((output,), inputs, None, create_graph=True)
        u = tuple(zeros_like(x, requires_grad=True) for x in inputs)
        w = _grad(g, inputs, u, create_graph=True)  # H^T u, linear in u
        result = _grad(w, u, v, create_graph)  # d <H^T u, v> / du = H v
    result = _fill_in_zeros(result, inputs)
    return (
        _finish((output,), create_graph)[0],
        _tuple_out(_finish(result, create_graph), is_inputs_tuple),
    )


# ---------------------------------------------------------------------------------------------
# Helpers: argument checks, the grad call, results' structure
# ---------------------------------------------------------------------------------------------

_OUTPUTS = "outputs of the user-provided function"


def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    """``(was a tuple, value as a tuple)``, checking that every element is a Tensor."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f" but the value at index {i} has" if is_tuple else ", got"
            raise TypeError(
                f"{fn}: the {what} must be either a Tensor or a tuple of Tensors{where} "
                f"type {type(item).__name__}"
            )
    return is_tuple, items


def _prepare_inputs(inputs: tuple[Tensor, ...], create_graph: bool, fn: str) -> tuple[Tensor, ...]:
    """Leaves for ``func`` to run on: the input itself when its graph must be kept (creating a
    graph from an input that already requires grad), else a detached copy requiring grad."""
    for i, x in enumerate(inputs):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{fn}: input {i} must be a floating point tensor to differentiate, got {x.dtype}"
            )
    return tuple(
        x if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in inputs
    )


def _prepare_v(v: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    return tuple(x if create_graph and x.requires_grad else x.detach() for x in v)


def _validate_v(
    v: tuple[Tensor, ...], other: tuple[Tensor, ...], is_other_tuple: bool, fn: str
) -> None:
    """``v`` must match ``other`` (the outputs for vjp, the inputs otherwise) one to one."""
    against = "outputs" if fn == "vjp" else "inputs"
    if len(v) != len(other):
        if is_other_tuple:
            raise RuntimeError(
                f"{fn}: v is a tuple of invalid length: should be {len(other)} (one per "
                f"{against[:-1]}) but got {len(v)}"
            )
        raise RuntimeError(f"{fn}: the given v should contain a single Tensor, got {len(v)}")
    for i, (a, b) in enumerate(zip(v, other)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"{fn}: entry {i} in v has invalid shape: should be {tuple(b.shape)} (the shape "
                f"of {against[:-1]} {i}) but got {tuple(a.shape)}"
            )
        if a.dtype != b.dtype or a.device != b.device:
            raise RuntimeError(
                f"{fn}: entry {i} in v is {a.dtype} on {a.device}, but {against[:-1]} {i} is "
                f"{b.dtype} on {b.device}"
            )


def _single_element_output(out: Any, fn: str) -> Tensor:
    is_tuple, outputs = _as_tuple(out, _OUTPUTS, fn)
    if is_tuple:
        raise RuntimeError(f"{fn}: the function should return a single Tensor, not a tuple")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"{fn}: the Tensor returned by the function should contain a single element, got "
            f"shape {tuple(outputs[0].shape)}"
        )
    return outputs[0]


def _second_order_setup(
    func: Callable[..., Any], inputs: Tensors, v: Tensors | None, create_graph: bool, fn: str
) -> tuple[bool, tuple[Tensor, ...], tuple[Tensor, ...] | None, Tensor]:
    """hvp's and vhp's common checks and forward: ``(is_inputs_tuple, inputs, v, output)``."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn)
    inputs = _prepare_inputs(inputs, create_graph, fn)
    if v is not None:
        _, v = _as_tuple(v, "v", fn)
        v = _prepare_v(v, create_graph)
        _validate_v(v, inputs, is_inputs_tuple, fn)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(
            f"{fn}: v can only be None if the input is a single tensor with a single element; "
            f"got shapes {[tuple(x.shape) for x in inputs]}"
        )
    with enable_grad():
        output = _single_element_output(func(*inputs), fn)
    return is_inputs_tuple, inputs, v, output


def _grad(
    outputs: Sequence[Tensor | None],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor | None] | None,
    create_graph: bool,
) -> tuple[Tensor | None, ...]:
    """``minigrad.grad`` over the outputs that require grad (``None`` per input when none
    does), unused inputs giving ``None``; the graph is kept for the caller's next pass."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [
        (out, go) for out, go in zip(outputs, grad_outputs) if out is not None and out.requires_grad
    ]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad(
        [out for out, _ in pairs],
        list(inputs),
        [go for _, go in pairs],
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
    )


def _fill_in_zeros(grads: Sequence[Tensor | None], like: Sequence[Tensor]) -> tuple[Tensor, ...]:
    return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, like))


def _finish(results: Sequence[Tensor], create_graph: bool) -> tuple[Tensor, ...]:
    """The results as returned: detached unless a graph was asked for."""
    if create_graph:
        return tuple(results)
    return tuple(r.detach() if r.requires_grad else r for r in results)


def _tuple_out(results: tuple[Tensor, ...], is_tuple: bool) -> Tensors:
    return results if is_tuple else results[0]


def _tuple_out2(results: tuple[tuple[Any, ...], ...], outer: bool, inner: bool) -> Any:
    """A tuple of tuples, with the levels that were not tuples unwrapped."""
    if not outer:
        return results[0] if inner else results[0][0]
    return results if inner else tuple(row[0] for row in results)


def _jacobian_of(out: Tensor, inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """``d out / d input`` for each input, of shape ``out.shape + input.shape``: one backward
    pass per element of ``out``, seeded with that element's one-hot gradient."""
    n = out.numel()
    if n == 0 or not out.requires_grad:
        return tuple(
            zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype, device=x.device) for x in inputs
        )
    rows: list[list[Tensor]] = [[] for _ in inputs]
    one_hot = eye(n, dtype=out.dtype, device=out.device)  # row k seeds element k
    for k in range(n):
        grads = _grad((out,), inputs, (reshape(one_hot[k], tuple(out.shape)),), create_graph)
        for row, g, x in zip(rows, grads, inputs):
            row.append(zeros_like(x) if g is None else g)
    return tuple(
        reshape(stack(row), tuple(out.shape) + tuple(x.shape)) for row, x in zip(rows, inputs)
    )
