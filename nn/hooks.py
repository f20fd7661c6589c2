"""Module hooks, after ``torch.nn.Module``'s: forward pre-hooks, forward hooks, full backward
hooks and backward pre-hooks, and the handle that removes one.

A module keeps its hooks in one ``nn.module.ModuleHooks`` object, made when the first hook is
registered and dropped when the last one is removed; while no module anywhere has one,
``Module.__call__`` (the training hot path) pays one check of a global count.

Full backward hooks work as PyTorch's (``torch.utils.hooks.BackwardHook``): the module's
positional tensor inputs that require grad, and after the forward its tensor outputs, each pass
through a gate of two nodes, :class:`GatherGate` (all of them, flattened into one array) and one
:class:`ScatterGate` per tensor (its piece back, a copy). In backward the engine sums the
pieces' gradients into the ``GatherGate`` node, so that one node sees the gradient of every
gated tensor at once: the outputs' gate calls the backward pre-hooks with ``grad_output`` and
records it, the inputs' gate calls the full backward hooks with ``(grad_input, grad_output)``;
a hook's returned tuple replaces what it was given. As in PyTorch, an output whose gradient
never arrived (nobody used it) gives None in ``grad_output``, and a tensor argument that needs
no gradient or that the forward ignored gives zeros in ``grad_input`` (a non-tensor: None).

Owns: ``RemovableHandle``, ``call_with_hooks`` and the gates. May import:
minigrad's public API.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from minigrad import autograd, backend
from minigrad.ops import pad
from minigrad.tensor import Tensor


class RemovableHandle:
    """What a ``register_*_hook`` method returns (PyTorch's ``RemovableHandle``): ``remove()``
    takes the hook off its module (again: nothing happens); ``with handle:`` removes it at the
    end of the block. ``id`` is unique among all handles."""

    def __init__(self, remove: Callable[[int], None], hook_id: int) -> None:
        self._remove = remove  # the module's own remover, holding the module weakly
        self.id = hook_id

    def remove(self) -> None:
        self._remove(self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# -- calling a module that has hooks -------------------------------------------------------------


def call_with_hooks(module: Any, hooks: Any, args: tuple, kwargs: dict) -> Any:
    """``module(*args, **kwargs)`` with its hooks, in PyTorch's order: forward pre-hooks (each
    may replace the arguments), the inputs' backward gate, ``forward``, forward hooks (each may
    replace the result), the outputs' backward gate. When something raises, the forward hooks
    registered with ``always_call=True`` that have not run yet still run."""
    result, called = None, set()
    try:
        args, kwargs = _run_pre_hooks(module, hooks, args, kwargs)
        gate = None
        if (hooks.backward or hooks.backward_pre) and autograd.is_grad_enabled():
            gate = BackwardHook(module, hooks)
            args = gate.setup_inputs(args)
        result = module.forward(*args, **kwargs)
        for hook_id, hook in tuple(hooks.forward.items()):
            if hook_id in hooks.always_call:
                called.add(hook_id)
            result = _forward_hook(module, hooks, hook_id, hook, args, kwargs, result)
        return gate.setup_outputs(result) if gate is not None else result
    except Exception:
        for hook_id, hook in tuple(hooks.forward.items()):
            if hook_id in hooks.always_call and hook_id not in called:
                try:
                    result = _forward_hook(module, hooks, hook_id, hook, args, kwargs, result)
                except Exception as err:  # the forward's error is the one to report
                    warnings.warn(
                        "module forward hook with ``always_call=True`` raised an exception that "
                        f"was silenced as another error was raised in forward: {err}",
                        stacklevel=2,
                    )
        raise


def _run_pre_hooks(module: Any, hooks: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    for hook_id, hook in tuple(hooks.forward_pre.items()):
        if hook_id in hooks.with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}."
                    )
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _forward_hook(
    module: Any,
    hooks: Any,
    hook_id: int,
    hook: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    result: Any,
) -> Any:
    if hook_id in hooks.with_kwargs:
        replaced = hook(module, args, kwargs, result)
    else:
        replaced = hook(module, args, result)
    return result if replaced is None else replaced


# -- full backward hooks ------------------------------------------------------------------------


class BackwardHook:
    """One call's backward hooks (PyTorch's ``BackwardHook``): gates its inputs and outputs
    and carries ``grad_output`` from the outputs' gate to the inputs' gate."""

    def __init__(self, module: Any, hooks: Any) -> None:
        self.module, self.hooks = module, hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = 0
        self.input_index: list[int] | None = None  # positions of the tensor arguments
        self.n_outputs = 0
        self.output_index: list[int] | None = None
        self.zeros: dict[int, tuple] = {}  # argument position -> (xp, shape, dtype)

    def setup_inputs(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        # as PyTorch's gate (a custom Function, whose missing gradients are zeros): a tensor
        # argument that needs no gradient, or gets none, shows as zeros in grad_input
        self.zeros = {
            i: (backend.array_module(a.array), a.shape, a.dtype)
            for i, a in enumerate(args)
            if isinstance(a, Tensor) and not a.requires_grad
        }
        args, self.input_index = _gate(args, self._input_gradients, materialize=True)
        return args

    def setup_outputs(self, result: Any) -> Any:
        if not isinstance(result, tuple | Tensor):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple "
                f"of Tensors but received {type(result)}",
                stacklevel=3,
            )
        single = not isinstance(result, tuple)
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        outputs, self.output_index = _gate(outputs, self._output_gradients)
        return outputs[0] if single else outputs

    def _output_gradients(self, grads: dict[int, Any]) -> dict[int, Any]:
        """At the outputs' gate: ``grads`` by output position -> the ones to pass on."""
        grad_outputs = _with_none(grads, self.n_outputs)
        for hook in tuple(self.hooks.backward_pre.values()):
            replaced = hook(self.module, grad_outputs)
            if replaced is not None:
                _check_count("Backward pre hook", "grad_output", replaced, len(grad_outputs))
                grad_outputs = tuple(replaced)
        if self.input_index is None:  # no input needs a gradient: the full hooks run now
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients.",
                stacklevel=2,
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in tuple(self.hooks.backward.values()):
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
        else:
            self.grad_outputs = grad_outputs
        return {i: grad_outputs[i] for i in grads}

    def _input_gradients(self, grads: dict[int, Any]) -> dict[int, Any]:
        """At the inputs' gate: ``grads`` by argument position -> the ones to pass on."""
        grad_outputs, self.grad_outputs = self.grad_outputs, None
        if grad_outputs is None:  # reached without passing the module's outputs
            return grads
        for i, (xp, shape, dtype) in self.zeros.items():
            grads[i] = autograd.wrap(xp.zeros(shape, dtype=dtype))
        grad_inputs = _with_none(grads, self.n_inputs)
        for hook in tuple(self.hooks.backward.values()):
            replaced = hook(self.module, grad_inputs, grad_outputs)
            if replaced is not None:
                _check_count("Backward hook", "grad_input", replaced, len(grad_inputs))
                grad_inputs = tuple(replaced)
        return {i: grad_inputs[i] for i in grads}


def _with_none(grads: dict[int, Any], size: int) -> tuple:
    return tuple(grads.get(i) for i in range(size))


def _check_count(what: str, name: str, replaced: Any, expected: int) -> None:
    if not isinstance(replaced, tuple | list) or len(replaced) != expected:
        got = len(replaced) if isinstance(replaced, tuple | list) else type(replaced).__name__
        raise RuntimeError(
            f"{what} returned an invalid number of {name}, got {got}, but expected {expected}"
        )


def _gate(
    values: tuple, on_gradients: Callable, materialize: bool = False
) -> tuple[tuple, list[int] | None]:
    """Route the tensors of ``values`` that require grad through a gate calling
    ``on_gradients`` in backward (with zeros for a tensor whose gradient did not arrive when
    ``materialize``, else None). Returns the new values and the positions of the tensors
    (None, and the values unchanged, when no tensor requires grad)."""
    index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    routed = [i for i in index if values[i].requires_grad]
    if not routed or not autograd.is_grad_enabled():
        return values, None
    state = _GateState(routed, on_gradients, materialize)
    gathered = GatherGate.apply(*(values[i] for i in routed), state=state)
    new = list(values)
    for k, i in enumerate(routed):
        new[i] = ScatterGate.apply(gathered, state=state, k=k)
    return (tuple(new) if type(values) is tuple else type(values)(*new)), index


class _GateState:
    """What the two gate nodes share: where each gated tensor sits in the flat array, which
    pieces received a gradient in this backward, and the callback."""

    def __init__(self, positions: list[int], on_gradients: Callable, materialize: bool) -> None:
        self.positions = positions  # argument (or output) position of each gated tensor
        self.on_gradients = on_gradients
        self.materialize = materialize
        self.arrived: set[int] = set()
        self.shapes: list[tuple[int, ...]] = []
        self.dtypes: list[Any] = []
        self.offsets: list[int] = [0]

    def gradients(self, pieces: list[Any]) -> list[Any]:
        """Hand the pieces (Tensors) to the callback by position (the arrived ones, or all when
        ``materialize``: a piece that did not arrive is zeros); the results, in order (None
        for what was not handed over or a hook replaced with None)."""
        arrived = set(range(len(pieces))) if self.materialize else self.arrived
        self.arrived = set()
        grads = {self.positions[k]: pieces[k] for k in sorted(arrived)}
        result = self.on_gradients(grads)
        return [result.get(p) if k in arrived else None for k, p in enumerate(self.positions)]


class GatherGate(autograd.Function):
    """The gated tensors flattened into one array (a copy). Backward: the sum of the pieces'
    gradients, handed to the hooks at once, each piece's result passed on to its tensor."""

    @staticmethod
    def forward(ctx, *arrays, state):
        ctx.state = state
        state.shapes = [a.shape for a in arrays]
        state.dtypes = [a.dtype for a in arrays]
        for a in arrays:
            state.offsets.append(state.offsets[-1] + a.size)
        xp = backend.array_module(arrays[0])
        return xp.concatenate([a.reshape(-1) for a in arrays])

    @staticmethod
    def backward(ctx, g):
        # d(tensor k) = whatever the hooks make of g[offset_k : offset_k+1]
        s = ctx.state
        pieces = [
            autograd.wrap(g[a:b].reshape(shape).astype(dtype, copy=False))
            for a, b, shape, dtype in _spans(s)
        ]
        return tuple(None if t is None else _array(t) for t in s.gradients(pieces))

    @staticmethod
    def backward_graph(ctx, g):
        s = ctx.state
        pieces = [g[a:b].reshape(shape).to(dtype=dtype) for a, b, shape, dtype in _spans(s)]
        return tuple(s.gradients(pieces))


class ScatterGate(autograd.Function):
    """Piece ``k`` of a ``GatherGate``'s array, in its tensor's shape and dtype (a copy)."""

    @staticmethod
    def forward(ctx, flat, state, k):
        ctx.state, ctx.k, ctx.size, ctx.dtype = state, k, flat.size, flat.dtype
        a, b = state.offsets[k], state.offsets[k + 1]
        return flat[a:b].reshape(state.shapes[k]).astype(state.dtypes[k])

    @staticmethod
    def backward(ctx, g):
        # dflat = g in piece k, 0 elsewhere
        ctx.state.arrived.add(ctx.k)
        a, b = ctx.state.offsets[ctx.k], ctx.state.offsets[ctx.k + 1]
        flat = backend.array_module(g).zeros(ctx.size, dtype=ctx.dtype)
        flat[a:b] = g.reshape(-1)
        return (flat,)

    @staticmethod
    def backward_graph(ctx, g):
        ctx.state.arrived.add(ctx.k)
        a, b = ctx.state.offsets[ctx.k], ctx.state.offsets[ctx.k + 1]
        return (pad(g.reshape(-1).to(dtype=ctx.dtype), (a, ctx.size - b)),)


def _spans(state: _GateState) -> list[tuple[int, int, tuple[int, ...], Any]]:
    """(start, stop, shape, dtype) of each gated tensor's piece of the flat array."""
    return [
        (state.offsets[k], state.offsets[k + 1], shape, state.dtypes[k])
        for k, shape in enumerate(state.shapes)
    ]


def _array(grad: Any) -> Any:
    if not isinstance(grad, Tensor):
        raise TypeError(f"a backward hook must give Tensors or None, got {type(grad).__name__}")
    return grad.array
