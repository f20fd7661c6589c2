"""Reverse-mode automatic differentiation over a dynamically built graph.

Owns: ``Function`` (an op and, once applied, its graph node), ``AccumulateGrad`` (a leaf's
node), ``TensorBase`` (a tensor's data, the base of ``minigrad.Tensor``) and ``wrap``, grad
mode, ``backward()``, ``grad()``, hooks, ``retain_grad``, ``trace_backward``, and the one place
where a broadcast gradient is summed back to its input's shape.
May import: ``minigrad.backend`` and ``minigrad.errors``; never ``minigrad.tensor``, which builds
on this module and hands its class down with ``register_tensor_class`` when it loads. The ops
use ``TensorBase`` and ``wrap`` from here for the same reason.

Every op is a :class:`Function` subclass with a static ``forward(ctx, *arrays)`` and
``backward(ctx, grad)`` written side by side (see ``minigrad/ops``). Calling ``Op.apply`` runs
the forward on the raw backend arrays and, when gradients are needed, keeps the ``ctx`` object
as the graph node: ``ctx.parents`` points at the nodes of the inputs (an ``AccumulateGrad``
node for a leaf, as in PyTorch), ``ctx.saved_tensors`` holds the arrays the backward needs.

``backward`` then (``_run_backward``, the whole algorithm on one screen):

1. orders the nodes topologically with an explicit stack (no recursion, so a chain of 100,000
   ops is fine);
2. walks them from the output down, calling each node's ``backward`` once with the sum of the
   gradients that reached its output;
3. reduces each input gradient to the input's shape where the forward broadcast it (done here,
   once, for every op) and checks its shape and dtype;
4. frees each node's saved arrays unless ``retain_graph=True``;
5. hands back the sum reaching each leaf's ``AccumulateGrad`` node; ``backward()`` runs the
   leaves' hooks and only then adds to any ``leaf.grad`` (a failing hook changes no ``.grad``).

The graph holds nodes, not intermediate tensors, so an activation's array lives only as long
as the user's tensor or a node that saved it.

Higher-order gradients (``create_graph=True``). ``_run_backward_graph`` walks the same order
with Tensors instead of arrays: the root gradients are Tensors (a ``grad_outputs`` tensor that
requires grad stays connected), and each node runs its ``backward_graph(ctx, g)``, the op's
gradient written with minigrad's differentiable ops, under grad mode, so every gradient it
returns is recorded and can be differentiated again, to any order. ``ctx`` is a
:class:`GraphContext`: the node's attributes, with ``saved_tensors`` reconnected to the graph:

- a saved array that was an input's array (matched by identity when the forward ran; the
  record ``inplace.record_saved_versions`` keeps anyway) comes back as a Tensor whose
  ``grad_fn`` is that input's node (its ``AccumulateGrad`` for a leaf);
- the saved output array comes back as a Tensor whose ``grad_fn`` is the node itself;
- anything else the forward computed (a mask, ``xhat``, a softmax) comes back as the constant
  array it is. An op whose gradient depends on such a value rebuilds it in the graph from
  ``ctx.input(i, value)``: a Tensor holding ``value`` whose gradient flows to input ``i``
  (for a shift-invariant op, e.g. layer_norm, the saved centered input stands in for x; a zero
  ``value`` gives an exact tangent, as attention uses for its scores).

How an op supplies ``backward_graph`` (every op in ``minigrad/ops`` must;
``tests/test_higher_order.py`` fails otherwise and gradgradchecks every registry case):

1. ``backward_graph = backward`` when the array formula only uses operators and methods that
   Tensors have too (``Add``, ``Mul``, ``Exp``, ``Reshape``...);
2. a second static method written with Tensor ops, beside ``backward``, the same formula
   (``Softmax``: ``y * (g - (g * y).sum(dim, keepdim=True))``);
3. an op of its own for a gradient that needs a new primitive, whose ``backward_graph`` closes
   the loop (``IndexAdd`` for getitem and embedding, ``GeluGrad`` for the exact gelu).

A user's ``Function`` without ``backward_graph`` still differentiates once; under
``create_graph=True`` the engine raises an error naming the op. The first-order loop is not
touched by any of this: ``backward()`` and ``grad()`` choose the graph loop once per call.
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.errors import DeviceError, MinigradError, as_minigrad_error
from minigrad.inplace import (
    check_saved_versions,
    increment_version,
    record_saved_versions,
    track_view,
)
from minigrad.inplace import epoch as _inplace_epoch
from minigrad.saved import SavedHooks, pack

if TYPE_CHECKING:  # for annotations only: at run time the class is registered, not imported
    from minigrad.tensor import Tensor

__all__ = [
    "AccumulateGrad",
    "Function",
    "TensorBase",
    "backward",
    "enable_grad",
    "grad",
    "increment_version",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "queue_callback",
    "register_post_accumulate_grad_hook",
    "set_grad_enabled",
    "tensor_class",
    "trace_backward",
    "wrap",
]


class TensorBase:
    """The data of a tensor that the graph needs: its array, gradient and node.

    ``minigrad.Tensor`` (``minigrad/tensor.py``) is its one subclass and adds every method; it
    registers itself here with ``register_tensor_class`` when it loads. The layers below the
    Tensor (this module, ``minigrad.ops``) test ``isinstance(x, TensorBase)`` and make tensors
    with :func:`wrap`, so they never import ``minigrad.tensor`` (PyTorch's ``torch._C.TensorBase``
    under ``torch.Tensor``, the same shape). Not meant to be instantiated on its own.
    """

    # _accumulator: a leaf's AccumulateGrad node, once it has entered a recorded op
    __slots__ = (
        "array",
        "grad",
        "requires_grad",
        "grad_fn",
        "_hooks",
        "_accumulator",
        "_version_counter",
        "_view_of",  # set on views only (minigrad.inplace.track_view): (base, made in grad mode)
        "__weakref__",
    )


# The Tensor class, registered by minigrad.tensor when it loads.
_Tensor: Any = None
_new = object.__new__


def register_tensor_class(cls: type) -> None:
    """Called once by ``minigrad.tensor``: the class ``Function.apply`` wraps its outputs in."""
    global _Tensor
    _Tensor = cls


def wrap(array: Any, grad_fn: Function | None = None) -> Tensor:
    """A ``minigrad.Tensor`` around ``array``, no copy, no checks (``Tensor._wrap``): a constant,
    or the output of the op whose node is ``grad_fn``. ``Function.apply`` makes its outputs the
    same way, inlined: a new slot is set in both places."""
    t = _new(_Tensor)
    t.array = array
    t.grad = None
    t.grad_fn = grad_fn
    t.requires_grad = grad_fn is not None
    t._hooks = None
    t._accumulator = None
    t._version_counter = [0]
    return t


def tensor_class() -> type[Tensor]:
    """``minigrad.Tensor``, as registered: how a lower layer builds one from Python data
    (``tensor_class()(data, device=...)``) without importing ``minigrad.tensor``."""
    return _Tensor


# ---------------------------------------------------------------------------------------------
# Grad mode
# ---------------------------------------------------------------------------------------------


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """Whether ops record the graph right now."""
    return _GradMode.enabled


class _SetGradMode:
    """Context manager and decorator that sets grad mode and restores it on exit. As a
    decorator (``@no_grad()`` or bare ``@no_grad``, as PyTorch's), a generator function runs
    each of its steps in the mode, and its caller's code between them in the caller's."""

    mode = True

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        self = super().__new__(cls)
        return self if func is None else self(func)  # the bare decorator: @no_grad

    def __enter__(self) -> None:
        self._prev = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            return _generator_in_mode(fn, mode)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _GradMode.enabled = prev

        return wrapper


def _generator_in_mode(fn: Callable[..., Any], mode: bool) -> Callable[..., Any]:
    """``fn``, a generator function, with every step of its generators run in grad ``mode``
    (PyTorch's ``_wrap_generator``): a plain wrapper would restore the mode before the first."""

    def step(call: Callable[..., Any], *args: Any) -> Any:
        prev = _GradMode.enabled
        _GradMode.enabled = mode
        try:
            return call(*args)
        finally:
            _GradMode.enabled = prev

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = step(fn, *args, **kwargs) if not kwargs else step(lambda: fn(*args, **kwargs))
        try:
            response = step(gen.send, None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    step(gen.close)
                    raise
                except BaseException as err:  # thrown in by the caller: pass it on
                    response = step(gen.throw, err)
                else:
                    response = step(gen.send, request)
        except StopIteration as stop:
            return stop.value

    return wrapper


class no_grad(_SetGradMode):  # noqa: N801 (PyTorch's name)
    """Disable graph recording: ``with minigrad.no_grad(): ...``, ``@minigrad.no_grad()`` or
    ``@minigrad.no_grad``."""

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801
    """Re-enable graph recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_SetGradMode):  # noqa: N801
    """Set grad mode to ``mode``: at once when called (``minigrad.set_grad_enabled(False)``),
    for a block (``with minigrad.set_grad_enabled(is_training): ...``, restored on exit) or for
    a function (``@minigrad.set_grad_enabled(False)``), as PyTorch's."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = _GradMode.enabled
        _GradMode.enabled = self.mode  # the plain call takes effect now

    def __enter__(self) -> None:
        pass  # set already, by __init__

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        _GradMode.enabled = self._prev  # as a decorator, the mode applies inside fn only
        return super().__call__(fn)


class inference_mode(_SetGradMode):  # noqa: N801
    """``no_grad`` under PyTorch's name; ``inference_mode(False)`` is ``enable_grad``, as
    PyTorch's. minigrad has no inference tensors: what is made inside may enter a graph later
    (PyTorch refuses that)."""

    mode = False

    def __new__(cls, mode: Any = True) -> Any:
        self = object.__new__(cls)
        return self(mode) if callable(mode) else self  # callable: the bare @inference_mode

    def __init__(self, mode: Any = True) -> None:
        self.mode = not mode


# The tools that study the graph (detect_anomaly, trace_memory, viz.keep_values, gradcheck's
# locate) attach one observer here through minigrad.observe; None costs one check per op.
_observer: Any = None

# ---------------------------------------------------------------------------------------------
# Function: an op and, once applied, its graph node
# ---------------------------------------------------------------------------------------------

_FREED = object()  # marks saved_tensors of a node whose graph was freed by backward()


class Function:
    """Base class of every op. Subclasses define two static methods:

    ``forward(ctx, *inputs, **options) -> array``
        Computes the output from backend arrays (``None`` or Python scalars pass through as
        constants). Saves what the backward needs with ``ctx.save_for_backward(...)`` and plain
        attributes (``ctx.dim = dim``) for non-array values.

    ``backward(ctx, grad) -> tuple``
        Receives the gradient of the output (an array of the output's shape and dtype) and
        returns one gradient per forward input (``None`` for constants, masks and integer
        inputs). A gradient may keep the broadcast shape; the engine reduces it.

    ``backward_graph(ctx, grad) -> tuple`` (used only with ``create_graph=True``)
        The same gradient built from minigrad's differentiable ops on Tensors, so that it can
        be differentiated again. ``ctx`` is a :class:`GraphContext`: its ``saved_tensors`` give
        back each saved input array or output array as a Tensor reconnected to the graph.
        ``backward_graph = backward`` where the array formula only uses operators that Tensors
        have too. An op without it refuses ``create_graph=True`` with an error naming it.
    """

    __slots__ = (
        "parents",
        "needs_input_grad",  # for each forward input, whether a gradient is wanted for it
        "saved_tensors",
        "out_shape",
        "out_dtype",
        "_saved_versions",  # (epoch, versions of the saved inputs/output): minigrad/inplace.py
        "__dict__",
        "__weakref__",
    )
    # Rarely set, so class-level defaults rather than slots every node would have to fill.
    # _hooks: the hooks on its output (register_hook); not None also after retain_grad, so that
    # the engine reads one attribute to know whether anything watches this node's gradient
    _hooks: list[Callable[[Tensor], Tensor | None]] | None = None
    _retained: weakref.ref | None = None  # its output tensor, after retain_grad()
    # the differentiable backward (see the class docstring); None: the op refuses create_graph
    backward_graph: Any = None

    # -- building the graph ---------------------------------------------------------------------

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the forward on the inputs' arrays and, if any input requires grad, record a node
        (kept lean: it runs once per op; what is rare lives in the helpers it calls)."""
        record = _GradMode.enabled
        arrays, parents, needs = [], [], []  # needs: needs_input_grad, built where it costs least
        requires_grad = False
        first = last = None
        for x in inputs:
            if isinstance(x, _Tensor):
                data = x.array
                if first is None:
                    first = data
                elif data is first or data is last:  # one array, two inputs: x * x.detach()
                    data = _own_array(x, inputs, data)
                elif data.__class__ is not first.__class__ or data.__class__ is not _NDARRAY:
                    _check_same_device(cls, inputs, data, first)
                arrays.append(data)
                last = data
                if record and x.requires_grad:
                    requires_grad = True
                    parents.append(x.grad_fn or x._accumulator or _grad_accumulator(x))
                    needs.append(True)
                    continue
            else:  # a constant: a Python scalar, None, an option array
                arrays.append(x)
            parents.append(None)
            needs.append(False)
        ctx = _new(cls)
        ctx.saved_tensors, ctx._saved_versions = (), None
        # set before the forward, which may save only what the wanted gradients read (MatMul),
        # as PyTorch's; when no node is recorded, the list itself (all False): no tuple to build
        ctx.needs_input_grad = tuple(needs) if requires_grad else needs
        try:  # (a call with **{} costs more than one without)
            out = cls.forward(ctx, *arrays, **options) if options else cls.forward(ctx, *arrays)
        except MinigradError:
            raise
        except (ValueError, IndexError, TypeError) as err:
            raise _annotate(err, cls, inputs) from err
        if out.__class__ is not _NDARRAY and out.__class__ not in backend.ARRAY_TYPES:
            out = _scalar_output(ctx, out, first)  # a NumPy scalar (a 0-d result)
        result = _new(_Tensor)  # made as wrap() makes one, inlined (a call costs)
        result.array = out
        result.grad = result._hooks = result._accumulator = None
        result._version_counter = [0]  # a view gets its base's instead, below
        if requires_grad:
            ctx.parents = tuple(parents)
            ctx.out_shape, ctx.out_dtype = out.shape, out.dtype
            result.requires_grad = True
            result.grad_fn = ctx
        else:
            result.requires_grad, result.grad_fn = False, None
        if out.base is not None or out is first:  # a view: its base's counter, base, registry
            track_view(result, inputs, record)
        if requires_grad and ctx.saved_tensors:
            ctx._saved_versions = record_saved_versions(ctx.saved_tensors, inputs, arrays, result)
            if SavedHooks.top is not None:  # minigrad.saved_tensors_hooks is active
                ctx.saved_tensors = pack(ctx.saved_tensors, _Tensor)
        if _observer is not None:
            _observer.forward(ctx, result, arrays, options)
        return result

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for the backward; they are freed after ``backward()`` runs."""
        self.saved_tensors = arrays

    # -- inspection -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The op's name, e.g. ``"MatMul"``."""
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[Function | None, ...]:
        """The inputs' nodes: the producing ``Function`` for a computed input, the leaf's
        ``AccumulateGrad`` for a leaf, ``None`` for an input that needs no gradient (PyTorch's
        name)."""
        return self.parents

    def _input_label(self) -> str:
        return f"{self.name}Backward"

    def __repr__(self) -> str:
        inputs = ", ".join("None" if p is None else p._input_label() for p in self.parents)
        return (
            f"<{self.name}Backward inputs=[{inputs}] out={tuple(self.out_shape)} {self.out_dtype}>"
        )

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class AccumulateGrad(Function):
    """The node of a leaf that requires grad: gradients stop here and are added to ``.grad``.

    Made the first time the leaf enters a recorded op and kept by the leaf (PyTorch's
    ``grad_accumulator``), so a parameter reuses one node step after step. The node refers
    back to its leaf weakly (``variable``), so leaf and node form no reference cycle; a leaf
    nobody holds any more receives nothing. The node has no inputs, which is what makes it a
    leaf to the engine, ``viz`` and ``repr``.
    """

    __slots__ = ("_variable",)

    # no inputs, nothing saved (a leaf's hooks live on the leaf tensor)
    parents = ()  # type: ignore[assignment]
    saved_tensors = ()  # type: ignore[assignment]
    _saved_versions = None  # type: ignore[assignment]

    def __init__(self, variable: Tensor) -> None:
        self._variable = weakref.ref(variable)
        self.out_shape = variable.array.shape  # what the gradients reaching it must match
        self.out_dtype = variable.array.dtype

    @property
    def variable(self) -> Tensor | None:
        """The leaf tensor (``None`` once it has been freed)."""
        return self._variable()

    def _input_label(self) -> str:
        return f"Leaf{tuple(self.out_shape)}"

    def __repr__(self) -> str:
        return f"<AccumulateGrad leaf={tuple(self.out_shape)} {self.out_dtype}>"


def _grad_accumulator(leaf: Tensor) -> AccumulateGrad:
    """The leaf's ``AccumulateGrad`` node, made on first use and kept by the leaf. Should the
    leaf's array later change shape or dtype (``t.array = ...``), the engine updates the node
    when a gradient of the new shape reaches it (``_check_and_unbroadcast``)."""
    node = leaf._accumulator
    if node is None:
        node = leaf._accumulator = AccumulateGrad(leaf)
    return node


def _own_array(x: Tensor, inputs: Sequence[Any], data: Any) -> Any:
    """``data``, the array of input ``x``, which an earlier input that is another tensor also
    holds (``x.detach()`` beside ``x``): a new array object over the same memory, so that the
    arrays the forward saves tell the two inputs apart (``GraphContext`` gives each saved input
    array back connected to its input, found by identity: ``x * x.detach()`` differentiates
    twice as x times a constant, not as x * x). The same tensor twice (x * x) keeps one array."""
    for other in inputs:
        if other is x:
            return data
        if isinstance(other, _Tensor) and other.array is data:
            break
    if data.__class__ is _NDARRAY or data.__class__ in backend.ARRAY_TYPES:
        return data.view()
    return data  # a NumPy scalar (a 0-d value a backward_graph wrapped): no view to make


def _check_same_device(cls: type, inputs: Sequence[Any], data: Any, first: Any) -> None:
    """Raise unless ``data`` is the same kind of array as ``first``, on the same device."""
    if _on_host(data) and _on_host(first):
        return  # a NumPy scalar: a 0-d value a backward_graph computed and wrapped, on the host
    if data.__class__ is not first.__class__ or data.device != first.device:
        raise _device_mismatch(cls, inputs)


def _array_of(value: Any) -> Any:
    """``value``, a NumPy scalar made a 0-d array: NumPy's ufuncs on 0-d arrays return scalars,
    and a backward_graph builds tensors from such values (a scalar's class is no array's, so
    the next op took it for an array of another device)."""
    if value.__class__ is _NDARRAY or value.__class__ in backend.ARRAY_TYPES:
        return value
    return backend.numpy_module().asarray(value)


def _scalar_output(ctx: Function, scalar: Any, like: Any) -> Any:
    """A forward that returned a NumPy scalar (a 0-d result): the 0-d array, also in place of
    the scalar among the saved values (saved as the output, as for any shape)."""
    out = backend.ensure_array(scalar, like)
    if ctx.saved_tensors:
        ctx.saved_tensors = tuple(out if a is scalar else a for a in ctx.saved_tensors)
    return out


def _node_of(t: Tensor) -> Function:
    return t.grad_fn or _grad_accumulator(t)


def _annotate(err: Exception, cls: type, inputs: Sequence[Any]) -> Exception:
    """Re-raise a backend error with the op's name and its inputs' shapes and dtypes."""
    described = ", ".join(
        f"Tensor(shape={tuple(x.shape)}, dtype={x.dtype}, device={x.device})"
        if isinstance(x, _Tensor)
        else repr(x)
        for x in inputs
    )
    return as_minigrad_error(err, f"{cls.__name__.lower()}: {err} [inputs: {described}]")


def _device_mismatch(cls: type, inputs: Sequence[Any]) -> DeviceError:
    devices = [f"{x.device}" for x in inputs if isinstance(x, _Tensor)]
    return DeviceError(
        f"{cls.__name__.lower()}: expected all tensors on the same device, got tensors on "
        f"{' and '.join(dict.fromkeys(devices))} (input devices in order: {devices}); "
        "move them with .to(device)"
    )


# ---------------------------------------------------------------------------------------------
# Backward: the algorithm, then the helpers it calls
# ---------------------------------------------------------------------------------------------


def _run_backward(
    roots: Sequence[Function],
    root_grads: Sequence[Any],
    retain_graph: bool,
    capture: _Capture | None = None,
    early: _EarlyLeaves | None = None,
) -> dict[AccumulateGrad, Any]:
    """The engine: push ``root_grads`` from the ``roots`` nodes down to the leaves.

    Returns the summed gradient reaching each leaf, keyed by the leaf's ``AccumulateGrad``.
    With ``capture`` (``grad()``'s), only the nodes on a path to its inputs run, and the
    gradient reaching each captured node's output is stored there too. With ``early``, a leaf
    with post-accumulate hooks is accumulated (and left out of the result) as soon as the last
    node using it has run. NumPy's floating point warnings are off meanwhile (hooks included):
    a gradient that is inf or NaN is the answer, as PyTorch gives it, without a warning.
    """
    grads: dict[Function, Any] = {}  # node -> the sum of the gradients reaching its output
    for node, g in zip(roots, root_grads):
        grads[node] = grads[node] + g if node in grads else g
    order = _topological_order(list(grads))  # op nodes, each before its inputs' nodes
    if capture is not None:  # grad(): only the nodes on a path to an input run
        order = capture.prune(order)
    if early is not None:
        early.count_consumers(order)
    quiet = backend.silence_warnings()  # x / 0, inf - inf in a gradient: inf, NaN, no warning
    try:
        for node in order:
            g = grads.pop(node, None)  # None: every path to it returned None, nothing to pass on
            if g is not None:
                if node._hooks is not None or capture:
                    g = _observe(node, g, capture)
                    if g is None:  # an input of grad() that leads to no other: captured, not run
                        continue
                input_grads = _call_backward(node, g, retain_graph)
                for parent, pg in zip(node.parents, input_grads):
                    if parent is None or pg is None:
                        continue
                    dtype = pg.dtype  # `is` first: NumPy's built-in dtypes are singletons
                    if pg.shape != parent.out_shape or (
                        dtype is not parent.out_dtype and dtype != parent.out_dtype
                    ):
                        pg = _check_and_unbroadcast(node, input_grads, pg, parent)
                    grads[parent] = grads[parent] + pg if parent in grads else pg
            if early is not None:
                early.visited(node, grads)
    finally:
        backend.restore_warnings(quiet)
    return grads  # every op node was popped: what is left are the leaves' nodes


def _call_backward(node: Function, g: Any, retain_graph: bool) -> tuple[Any, ...]:
    """``node.backward(node, g)`` as a tuple of one gradient per input, with what surrounds
    the call: the saved arrays made ready (unpacked, or the freed-graph error), the check that
    none was changed in place since the forward, the tracer and the tools' observer, and the
    saved arrays freed afterwards unless ``retain_graph``."""
    saved = node.saved_tensors
    if saved.__class__ is not tuple:  # freed, or packed by saved_tensors_hooks
        node.saved_tensors = _unpack_saved(node, saved)
    versions = node._saved_versions
    if versions is not None and versions[0] != _inplace_epoch[0]:
        check_saved_versions(node)  # an in-place change since: raises if to a saved array
    input_grads = node.backward(node, g) if _tracer is None else _tracer.run(node, g)
    if input_grads.__class__ is not tuple:
        input_grads = (input_grads,)
    if len(input_grads) != len(node.parents):
        raise _arity_error(node, input_grads)
    if _observer is not None:
        _observer.backward(node, g, input_grads, retain_graph)
    # a node that saved nothing has nothing to free: it may run again (PyTorch's AddBackward)
    node.saved_tensors = saved if retain_graph or not saved else _FREED
    return input_grads


def _topological_order(roots: Iterable[Function]) -> list[Function]:
    """The op nodes reachable from ``roots``, each before every node it depends on (iterative
    DFS). Leaves' ``AccumulateGrad`` nodes (no inputs) are left out: nothing runs there."""
    order: list[Function] = []
    visited: set[Function] = set()
    for root in roots:
        if not root.parents or root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p is not None and p not in visited:
                    visited.add(p)
                    inputs = p.parents
                    if inputs:  # an op's node; a leaf's has none
                        stack.append((p, iter(inputs)))
                        break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _observe(node: Function, g: Any, capture: _Capture | None) -> Any:
    """What happens at a node's output gradient besides the math: its hooks (which may replace
    it), ``retain_grad``, and ``grad()``'s capture. Returns the gradient to propagate."""
    if capture is not None and node in capture.early:
        capture[node] = g  # before the hooks: see _Capture
    if node._hooks:
        g = _run_hooks(node._hooks, g)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            # a copy, as PyTorch's: ``g`` goes on and may become a leaf's .grad, added to in place
            if t.grad is None:
                t.grad = wrap(g.copy())
            else:
                _check_grad_slot(t, g)  # else a hand-set .grad would broadcast
                t.grad = wrap(t.grad.array + g)
    if capture is not None and node in capture and node not in capture.early:
        capture[node] = g
        if node in capture.stop:
            return None
    return g


def _run_hooks(hooks: list[Callable[[Tensor], Tensor | None]], g: Any) -> Any:
    """The tensor hooks of a first-order backward, run under no_grad (as PyTorch's engine, so
    a hook may change a leaf in place); each may replace the gradient."""
    with no_grad():
        return _run_hooks_no_grad(hooks, g)


def _run_hooks_no_grad(hooks: list[Callable[[Tensor], Tensor | None]], g: Any) -> Any:
    """The hooks in order, each given the gradient so far. The array that comes out is the
    engine's own (a leaf's .grad is added to in place): a copy where a hook kept a reference
    to what it was given or returned another tensor (the caller's, perhaps), as PyTorch's
    AccumulateGrad clones a gradient held elsewhere."""
    for hook in hooks:
        refs = sys.getrefcount(g)
        replaced = hook(wrap(g))
        if replaced is not None:
            _check_hook_result(replaced, g.shape, g.dtype)
            if replaced.array is not g:
                g, refs = replaced.array, -1  # the hook's tensor: always copied
            replaced = None  # not counted as a reference below
        if sys.getrefcount(g) > refs:  # kept by the hook (the tensor, its array or a view)
            g = g.copy()
    return g


def _check_hook_result(replaced: Tensor, shape: tuple[int, ...], dtype: Any) -> None:
    if tuple(replaced.shape) != tuple(shape) or replaced.dtype != dtype:
        raise RuntimeError(
            f"a hook returned a gradient of shape {tuple(replaced.shape)} and dtype "
            f"{replaced.dtype}; expected shape {tuple(shape)} and dtype {dtype}"
        )


def _unpack_saved(node: Function, saved: Any) -> tuple[Any, ...]:
    """The arrays of a node whose saved state is not a plain tuple: packed by
    ``saved_tensors_hooks`` (unpacked now), or freed by an earlier backward (raises)."""
    if saved is _FREED:
        raise _freed_graph_error(node)
    return saved.unpack(node)


def _freed_graph_error(node: Function) -> RuntimeError:
    return RuntimeError(
        f"trying to backward through the graph a second time ({node.name} node): its saved "
        "arrays were freed after the first backward; call .backward(retain_graph=True) "
        "the first time if you need to backward twice"
    )


def _arity_error(node: Function, input_grads: tuple[Any, ...]) -> RuntimeError:
    return RuntimeError(
        f"{node.name}.backward returned {len(input_grads)} gradients for {len(node.parents)} inputs"
    )


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast."""
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = backend.sum_half_in_float32(grad, axes, True)
    if extra:
        grad = grad.reshape(shape)
    return grad


def _refresh_leaf_node(node: AccumulateGrad) -> None:
    """Give a leaf's node the shape and dtype of its leaf's array now (``Module.to`` or
    ``t.array = ...`` may have replaced it since the node was made)."""
    leaf = node.variable
    if leaf is not None:
        node.out_shape, node.out_dtype = leaf.array.shape, leaf.array.dtype


def _check_and_unbroadcast(
    node: Function, input_grads: tuple[Any, ...], grad: Any, parent: Function
) -> Any:
    """An input gradient from ``node`` that does not match its input's shape or dtype: reduce
    it to the input's shape where the forward broadcast, cast it back to the input's dtype.

    A gradient may come back in a wider float dtype only when the op's output had that dtype
    (a float32 input promoted by a float64 one); it is cast back. Any other mismatch is a bug in
    the op's backward and raises.
    """
    index = next(i for i, x in enumerate(input_grads) if x is grad)
    if not parent.parents:  # a leaf's node: its leaf's array may have changed shape or dtype
        _refresh_leaf_node(parent)
    shape, dtype = parent.out_shape, parent.out_dtype
    if grad.shape != shape:
        try:
            grad = unbroadcast(grad, shape)
        except (ValueError, IndexError):
            pass
        if grad.shape != shape:
            raise RuntimeError(
                f"{node.name}.backward returned a gradient of shape {tuple(grad.shape)} for input "
                f"{index} of shape {tuple(shape)}"
            )
    if grad.dtype != dtype and grad.dtype == node.out_dtype and dtype.kind == "f":
        grad = grad.astype(dtype)
    if grad.dtype != dtype:
        raise RuntimeError(
            f"{node.name}.backward returned a {grad.dtype} gradient for input {index} of dtype {dtype}"
        )
    return grad


# -- create_graph=True: the same walk on Tensors --------------------------------------------------


def _run_backward_graph(
    roots: Sequence[Function],
    root_grads: Sequence[Tensor],
    retain_graph: bool,
    capture: _Capture | None = None,
) -> dict[AccumulateGrad, Tensor]:
    """``_run_backward`` for ``create_graph=True``: the gradients are Tensors and each node runs
    its ``backward_graph``, so every gradient is built from recorded ops and has a ``grad_fn``.
    A separate loop, so that the first-order engine pays nothing for it."""
    grads: dict[Function, Tensor] = {}
    for node, g in zip(roots, root_grads):
        grads[node] = grads[node] + g if node in grads else g
    order = _topological_order(list(grads))
    if capture is not None:
        order = capture.prune(order)
    with enable_grad(), backend.quiet():  # as _run_backward: inf and NaN without warnings
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if node._hooks is not None or capture:
                g = _observe_graph(node, g, capture)
                if g is None:
                    continue
            saved = node.saved_tensors
            if saved.__class__ is not tuple:  # freed, or packed by saved_tensors_hooks
                node.saved_tensors = _unpack_saved(node, saved)
            if node._saved_versions is not None:
                check_saved_versions(node)
            input_grads = _as_tuple(_backward_graph_of(node)(GraphContext(node), g))
            if len(input_grads) != len(node.parents):
                raise _arity_error(node, input_grads)
            for index, (parent, pg) in enumerate(zip(node.parents, input_grads)):
                if parent is None or pg is None:
                    continue
                if pg.shape != parent.out_shape or pg.dtype != parent.out_dtype:
                    pg = _unbroadcast_tensor(node, index, pg, parent)
                grads[parent] = grads[parent] + pg if parent in grads else pg
            if _observer is not None:  # the tools see arrays, as in the first-order loop
                arrays = tuple(None if x is None else x.array for x in input_grads)
                _observer.backward(node, g.array, arrays, retain_graph)
            node.saved_tensors = saved if retain_graph or not saved else _FREED
    return grads


def _backward_graph_of(node: Function) -> Callable[[GraphContext, Tensor], Any]:
    """The node's differentiable backward; a clear error for an op (a user's Function) that
    has only the array one."""
    method = node.backward_graph
    if method is None:
        raise RuntimeError(
            f"create_graph=True: the op {node.name} has no differentiable backward (its backward "
            "works on arrays, so its gradient cannot be differentiated again); give "
            f"{node.name} a backward_graph(ctx, grad) written with minigrad ops on Tensors "
            "(see minigrad.autograd.Function), or differentiate only once"
        )
    return method


def _observe_graph(node: Function, g: Tensor, capture: _Capture | None) -> Tensor:
    """``_observe`` with a Tensor gradient: hooks, ``retain_grad`` and ``grad()``'s capture."""
    if capture is not None and node in capture.early:
        capture[node] = g
    if node._hooks:
        g = _run_hooks_graph(node._hooks, g)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            if t.grad is None:
                t.grad = g.clone()  # a copy: see _observe
            else:
                _check_grad_slot(t, g.array)
                t.grad = t.grad + g
    if capture is not None and node in capture and node not in capture.early:
        capture[node] = g
        if node in capture.stop:
            return None
    return g


def _run_hooks_graph(hooks: list[Callable[[Tensor], Tensor | None]], g: Tensor) -> Tensor:
    """``_run_hooks_no_grad`` with a Tensor gradient: a differentiable copy (clone) where a
    hook kept what it was given or returned another tensor."""
    for hook in hooks:
        refs, array_refs = sys.getrefcount(g), sys.getrefcount(g.array)
        replaced = hook(g)
        if replaced is not None:
            _check_hook_result(replaced, g.shape, g.dtype)
            if replaced is not g:
                g, refs = replaced, -1
            replaced = None
        if sys.getrefcount(g) > refs or sys.getrefcount(g.array) > array_refs:
            g = g.clone()
    return g


def _unbroadcast_tensor(node: Function, index: int, grad: Tensor, parent: Function) -> Tensor:
    """``_check_and_unbroadcast`` on a Tensor gradient, with differentiable sum and reshape."""
    if not parent.parents:  # a leaf's node: its leaf's array may have changed shape or dtype
        _refresh_leaf_node(parent)
    shape, dtype = tuple(parent.out_shape), parent.out_dtype
    if not isinstance(grad, _Tensor):
        raise RuntimeError(
            f"{node.name}.backward_graph returned a {type(grad).__name__} for input {index}; "
            "it must return Tensors (built from minigrad ops) or None"
        )
    extra = grad.ndim - len(shape)
    if grad.shape != shape and extra >= 0:
        axes = tuple(range(extra)) + tuple(
            i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
        )
        if axes:
            grad = grad.sum(axes, keepdim=True)
        if extra:
            grad = grad.reshape(shape)
    if grad.shape != shape:
        raise RuntimeError(
            f"{node.name}.backward_graph returned a gradient of shape {tuple(grad.shape)} for "
            f"input {index} of shape {shape}"
        )
    if grad.dtype != dtype and grad.dtype == node.out_dtype and dtype.kind == "f":
        grad = grad.to(dtype=dtype)
    if grad.dtype != dtype:
        raise RuntimeError(
            f"{node.name}.backward_graph returned a {grad.dtype} gradient for input {index} of "
            f"dtype {dtype}"
        )
    return grad


class GraphContext:
    """The ``ctx`` a ``backward_graph`` receives: the node's attributes (``ctx.dim``,
    ``needs_input_grad``...), with the saved arrays reconnected to the graph.

    ``saved_tensors`` gives each saved array that was an input's array (matched by identity
    when the forward ran) as a Tensor whose ``grad_fn`` is that input's node, and the saved
    output array as a Tensor whose ``grad_fn`` is this node; any other saved array (computed in
    the forward: a mask, a normalized copy) comes back as the constant array it is, so a
    ``backward_graph`` that needs its derivative recomputes it from ``input(i, value)``.
    """

    __slots__ = ("node",)

    def __init__(self, node: Function) -> None:
        self.node = node

    def __getattr__(self, name: str) -> Any:
        return getattr(self.node, name)

    def input(self, index: int, value: Any) -> Tensor:
        """A Tensor holding ``value`` whose gradient flows to input ``index`` as if it were that
        input (a constant when the input needs no gradient). ``value`` is the input's array, or
        a stand-in the op's result does not tell apart (the input shifted by a constant along a
        softmax or layer-norm row, zeros for a tangent ``x - x``)."""
        parent = self.node.parents[index]
        value = _array_of(value)
        return wrap(value, parent) if parent is not None else wrap(value)

    def output(self, value: Any) -> Tensor:
        """A Tensor holding the output array ``value``, with this node as its ``grad_fn``."""
        return wrap(_array_of(value), self.node)

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        saved = self.node.saved_tensors
        versions = self.node._saved_versions
        where = {j: i for _, _, j, i in versions[1]} if versions is not None else {}
        tensors: dict[int, Tensor] = {}  # id(array) -> its tensor (an array saved twice: x * x)
        out = []
        for j, arr in enumerate(saved):
            if j in where:
                i = where[j]
                t = tensors[id(arr)] = self.output(arr) if i < 0 else self.input(i, arr)
                out.append(t)
            else:
                out.append(arr)
        return tuple(tensors.get(id(a), a) if a is not None else a for a in out)


# -- the tracer: trace_backward() ---------------------------------------------------------------


class _Tracer:
    """Collects one record per node while a ``trace_backward()`` block is active."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def run(self, node: Function, g: Any) -> Any:
        """``node.backward(node, g)``, timed and recorded."""
        start = time.perf_counter()
        grads = node.backward(node, g)
        seconds = time.perf_counter() - start
        shapes = [None if x is None else tuple(x.shape) for x in _as_tuple(grads)]
        self.records.append(
            {
                "op": node.name,
                "out_shape": tuple(node.out_shape),
                "grad_shapes": shapes,
                "seconds": seconds,
            }
        )
        return grads

    def __str__(self) -> str:
        lines = [f"{'op':<16}{'output':<20}{'input grads':<44}{'us':>8}"]
        for r in self.records:
            grads = ", ".join(str(s) if s is not None else "-" for s in r["grad_shapes"])
            lines.append(
                f"{r['op']:<16}{str(r['out_shape']):<20}{grads:<44}{r['seconds'] * 1e6:8.1f}"
            )
        return "\n".join(lines)


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if grads.__class__ is tuple else (grads,)


_tracer: _Tracer | None = None


class trace_backward:  # noqa: N801
    """Record what backward does: ``with minigrad.trace_backward() as t: loss.backward()``.

    ``t.records`` lists, in the order they ran, each node's op name, output shape, input
    gradient shapes and time; ``print(t)`` shows them as a table.
    """

    def __enter__(self) -> _Tracer:
        global _tracer
        self._prev = _tracer
        _tracer = _Tracer()
        return _tracer

    def __exit__(self, *exc: object) -> None:
        global _tracer
        _tracer = self._prev


# ---------------------------------------------------------------------------------------------
# The public entry points: backward() and grad()
# ---------------------------------------------------------------------------------------------


def _check_root(t: Tensor, g: Any, what: str) -> Any:
    """Validate a root of backward and its gradient, returning the gradient array."""
    if not t.requires_grad:
        raise RuntimeError(
            f"{what}: tensor of shape {tuple(t.shape)} does not require grad and has no grad_fn; "
            "set requires_grad=True on the leaves you differentiate"
        )
    arr = t.array
    if arr.dtype.kind != "f":
        raise RuntimeError(f"{what}: only floating point tensors have gradients, got {t.dtype}")
    if g is None:
        if arr.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs, but the output "
                f"has shape {tuple(t.shape)}; pass gradient=Tensor of that shape"
            )
        xp = backend.array_module(arr)
        if not arr.shape:  # the usual scalar loss: a 0-d array, made without np.ones' wrapper
            return xp.array(1, dtype=arr.dtype)
        return xp.ones(arr.shape, dtype=arr.dtype)
    data = g.array if isinstance(g, _Tensor) else backend.asarray(g, device=t.device)
    if tuple(data.shape) != tuple(t.shape) or data.dtype != t.dtype:
        raise RuntimeError(
            f"{what}: gradient has shape {tuple(data.shape)} and dtype {data.dtype}, but the output "
            f"has shape {tuple(t.shape)} and dtype {t.dtype}"
        )
    if backend.device_of(data) != t.device:
        raise RuntimeError(
            f"{what}: gradient is on {backend.device_of(data)}, output on {t.device}"
        )
    return data


def _owned(g: Any, seen: set[int]) -> Any:
    """``g`` as an array no other tensor or caller holds: copied when it is a view, read-only,
    or already handed out (``seen``), so that every ``.grad`` can be updated in place."""
    if g.__class__ is not _NDARRAY and g.__class__ not in backend.ARRAY_TYPES:
        g = backend.ensure_array(g, g)
    elif id(g) in seen or not backend.is_owned(g):
        g = g.copy()
    seen.add(id(g))
    return g


def _accumulate(leaf_grads: dict[AccumulateGrad, Any], seen: set[int]) -> None:
    """Run every leaf's hooks first (a failing hook changes no ``.grad``), then accumulate.
    ``seen``: the ids of the arrays handed out already (the root gradient, early leaves')."""
    final = []
    for node, g in leaf_grads.items():
        leaf = node._variable()
        if leaf is not None:  # else freed: nobody can read its .grad
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if leaf.grad is not None:  # every .grad checked before any is added to
                _check_grad_slot(leaf, g)
            final.append((leaf, g))
    for leaf, g in final:
        _add_to_grad(leaf, g, seen)
    if _post_hooks:
        for leaf, _ in final:
            _run_post_accumulate_hooks(leaf)


def _add_to_grad(leaf: Tensor, g: Any, seen: set[int]) -> None:
    """``leaf.grad += g``: in place, as PyTorch's (also where ``.grad`` came from a
    ``create_graph=True`` backward: it keeps its ``grad_fn``), so that a reference to ``.grad``
    taken after one backward sees the next; a new tensor where ``.grad`` is read-only.
    The caller checks ``.grad`` set by hand to another shape or dtype (``_check_grad_slot``;
    PyTorch refuses the assignment itself)."""
    grad = leaf.grad
    if grad is None:
        leaf.grad = wrap(_owned(g, seen))
        return
    arr = grad.array
    if not backend.is_writable(arr):
        leaf.grad = wrap(arr + g)
    else:
        arr += g
        increment_version(grad)


def _check_grad_slot(leaf: Tensor, g: Any) -> None:
    """Raise if ``leaf.grad``, set by hand, cannot take ``g`` (another shape or dtype)."""
    arr = leaf.grad.array
    if arr.shape != g.shape or arr.dtype != g.dtype:
        raise RuntimeError(
            f"backward: .grad of a tensor of shape {tuple(leaf.shape)} and dtype {leaf.dtype} "
            f"was set to shape {tuple(arr.shape)} and dtype {arr.dtype}; a gradient of shape "
            f"{tuple(g.shape)} and dtype {g.dtype} cannot be added to it"
        )


# ---------------------------------------------------------------------------------------------
# Post-accumulate hooks and end-of-backward callbacks (what data-parallel training needs to
# start communicating a gradient while the rest of backward still runs)
# ---------------------------------------------------------------------------------------------

# id(leaf) -> (weak reference to the leaf, its hooks). Keyed by id because Tensor.__eq__ is
# elementwise; the weak reference's callback drops the entry when the leaf dies.
_post_hooks: dict[int, tuple[weakref.ref, list[Callable[[Tensor], None]]]] = {}
_end_callbacks: list[Callable[[], None]] | None = None  # of the backward() in progress


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` removes it (PyTorch's
    ``RemovableHandle``); calling ``handle()`` does the same."""

    def __init__(self, hooks: list[Any], hook: Any) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    __call__ = remove


def register_post_accumulate_grad_hook(
    leaf: Tensor, hook: Callable[[Tensor], None]
) -> RemovableHandle:
    """Call ``hook(leaf)`` during ``backward()`` right after ``leaf.grad`` is final.

    A leaf with such a hook is accumulated as soon as the last node using it has run, not
    at the end of backward, so the hook may start work (a gradient all-reduce) that overlaps
    the rest of backward. ``grad()`` accumulates nothing and calls no such hook. Returns a
    handle whose ``remove()`` removes the hook.
    """
    key = id(leaf)
    if key not in _post_hooks:
        ref = weakref.ref(leaf, lambda _, key=key: _post_hooks.pop(key, None))
        _post_hooks[key] = (ref, [])
    hooks = _post_hooks[key][1]
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _post_hooks_of(leaf: Tensor | None) -> list[Callable[[Tensor], None]] | None:
    entry = _post_hooks.get(id(leaf))
    return entry[1] if entry is not None and entry[0]() is leaf and entry[1] else None


def _run_post_accumulate_hooks(leaf: Tensor, create_graph: bool = False) -> None:
    """Run ``leaf``'s post-accumulate hooks, in grad mode only under ``create_graph=True``
    (as PyTorch's engine: a hook may step its parameter in place)."""
    hooks = _post_hooks_of(leaf)
    if hooks:
        with set_grad_enabled(create_graph):
            for hook in hooks:
                hook(leaf)


class _EarlyLeaves:
    """Counts, per hooked leaf's node, the nodes still to run that use it; at zero its gradient
    is final: run its gradient hooks, accumulate it and call its post-accumulate hooks."""

    def __init__(self, root_grads: Sequence[Any]) -> None:
        self.remaining: dict[AccumulateGrad, int] = {}
        self.seen = set(map(id, root_grads))

    def count_consumers(self, order: list[Function]) -> None:
        for node in order:
            for p in node.parents:
                if p is not None and not p.parents and _post_hooks_of(p.variable) is not None:
                    self.remaining[p] = self.remaining.get(p, 0) + 1

    def visited(self, node: Function, grads: dict[Function, Any]) -> None:
        """After ``node`` ran: a hooked leaf whose last consumer it was is accumulated now."""
        for p in node.parents:
            left = self.remaining.get(p)
            if left is None:
                continue
            self.remaining[p] = left - 1
            leaf = p.variable
            if left == 1 and p in grads and leaf is not None:
                g = grads.pop(p)
                if leaf._hooks:
                    g = _run_hooks(leaf._hooks, g)
                if leaf.grad is not None:
                    _check_grad_slot(leaf, g)
                _add_to_grad(leaf, g, self.seen)
                _run_post_accumulate_hooks(leaf)


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` once the ``backward()`` in progress has accumulated every gradient
    (PyTorch's ``Variable._execution_engine.queue_callback``; call it from a hook).

    Raises:
        RuntimeError: no ``backward()`` is running.
    """
    if _end_callbacks is None:
        raise RuntimeError("queue_callback: no backward() is running; call it from a hook")
    _end_callbacks.append(callback)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradient of ``tensors`` into ``leaf.grad`` for every leaf that requires
    grad (PyTorch's ``torch.autograd.backward``).

    Several outputs run as one backward over the union of their graphs: a node they share
    receives the sum of the gradients reaching it from each and runs once.

    Args:
        tensors: an output, or a sequence of outputs; each a scalar unless its gradient is given.
        grad_tensors: d(loss)/d(output), one per output (``None`` for a scalar output means 1),
            each of its output's shape and dtype; a single one for a single output.
        retain_graph: keep the saved arrays so that backward can run through the graph again
            (default: ``create_graph``).
        create_graph: build the gradients from differentiable ops, so that each ``leaf.grad``
            has a ``grad_fn`` and can be differentiated again.
        inputs: accumulate into these tensors' ``.grad`` only (leaves or not), running only
            the part of the graph that leads to them, as PyTorch's.

    Raises:
        TypeError: an output is not a Tensor.
        RuntimeError: ``grad_tensors`` and ``tensors`` differ in length, a gradient has another
            shape, dtype or device than its output, a non-scalar output has no gradient, or an
            output does not require grad; before any ``.grad`` changes.
    """
    global _end_callbacks
    outs, gos = _outputs_and_grads(tensors, grad_tensors, "backward")
    if not outs:  # as PyTorch: nothing to differentiate, nothing changes
        return
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        _backward_to_inputs(outs, gos, retain_graph, create_graph, inputs)
        return
    if create_graph:
        _backward_graph(outs, gos, retain_graph)
        return
    root_grads = _each_root(_check_root, outs, gos, "backward")
    early = _EarlyLeaves(root_grads) if _post_hooks else None
    outer, _end_callbacks = _end_callbacks, []
    try:
        roots = list(map(_node_of, outs))
        leaf_grads = _run_backward(roots, root_grads, retain_graph, early=early)
        # one set of handed-out arrays with the early leaves': a gradient they took is copied
        _accumulate(leaf_grads, early.seen if early is not None else set(map(id, root_grads)))
        callbacks = _end_callbacks
    finally:
        _end_callbacks = outer
    for callback in callbacks:
        callback()


def _outputs_and_grads(outputs: Any, grad_outputs: Any, what: str) -> tuple[list, list]:
    """``backward``'s and ``grad``'s outputs and their gradients as two lists of one length: a
    single tensor stands for a sequence of one, ``None`` for one ``None`` per output.

    Raises:
        TypeError: an output is not a Tensor.
        RuntimeError: the two differ in length.
    """
    if isinstance(outputs, _Tensor) and (grad_outputs is None or isinstance(grad_outputs, _Tensor)):
        return [outputs], [grad_outputs]  # the usual call: one output
    outs = [outputs] if isinstance(outputs, _Tensor) else list(outputs)
    for i, o in enumerate(outs):
        if not isinstance(o, _Tensor):
            raise TypeError(f"{what}: output {i} must be a Tensor, got {type(o).__name__}")
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif isinstance(grad_outputs, _Tensor):
        gos = [grad_outputs]
    elif isinstance(grad_outputs, (list, tuple)) and all(
        g is None or isinstance(g, _Tensor) for g in grad_outputs
    ):
        gos = list(grad_outputs)
    else:  # one array-like gradient for one output (``[1.0, 2.0]``), or one per output
        gos = [grad_outputs] if isinstance(outputs, _Tensor) else list(grad_outputs)
    if len(gos) != len(outs):
        raise RuntimeError(
            f"{what}: got {len(outs)} outputs and {len(gos)} gradients; pass one gradient per "
            "output (None for a scalar output)"
        )
    return outs, gos


def _each_root(check: Callable[[Tensor, Any, str], Any], outs: list, gos: list, what: str) -> list:
    """``check(output, its gradient, name)`` for each output, the name its errors use: ``what``
    alone for a single output, ``what (output i)`` for one of several."""
    if len(outs) == 1:
        return [check(outs[0], gos[0], what)]
    return [check(o, go, f"{what} (output {i})") for i, (o, go) in enumerate(zip(outs, gos))]


def _backward_to_inputs(
    outs: list[Tensor], gos: list[Any], retain_graph: bool, create_graph: bool, inputs: Any
) -> None:
    """``backward(inputs=...)``: ``grad()`` with respect to ``inputs`` (leaf hooks included),
    added to each input's ``.grad``; then a leaf's post-accumulate hooks."""
    global _end_callbacks
    ins = [inputs] if isinstance(inputs, _Tensor) else list(inputs)
    if not ins:
        raise RuntimeError("backward: the inputs argument cannot be empty (pass None for all)")
    ins = list({id(t): t for t in ins}.values())  # each input accumulates once
    outer, _end_callbacks = _end_callbacks, []
    try:
        grads = _grad(outs, ins, gos, retain_graph, create_graph, True, after_hooks=True)
        # a non-leaf input that retains its grad got g from retain_grad already (PyTorch's
        # backward(inputs=) accumulates a non-leaf input through retain_grad, once)
        grads = tuple(None if _retains_grad(t) else g for t, g in zip(ins, grads))
        for t, g in zip(ins, grads):  # every .grad checked before any is added to
            if g is not None and t.grad is not None:
                _check_grad_slot(t, g.array)
        seen: set[int] = set()
        for t, g in zip(ins, grads):
            if g is None:
                continue
            if create_graph:
                with enable_grad():
                    t.grad = g if t.grad is None else t.grad + g
            else:
                _add_to_grad(t, g.array, seen)
            if t.grad_fn is None:
                _run_post_accumulate_hooks(t, create_graph)
        callbacks = _end_callbacks
    finally:
        _end_callbacks = outer
    for callback in callbacks:
        callback()


def _retains_grad(t: Tensor) -> bool:
    """True for a non-leaf tensor after ``retain_grad()``."""
    node = t.grad_fn
    return node is not None and node._retained is not None and node._retained() is t


def _graph_root(t: Tensor, g: Any, what: str) -> Tensor:
    """A root gradient as a Tensor: ``g`` itself when it is one (it may require grad)."""
    data = _check_root(t, g, what)
    return g if isinstance(g, _Tensor) else wrap(data)


def _owned_graph(g: Tensor, seen: set[int]) -> Tensor:
    """``_owned`` for a Tensor gradient: a differentiable copy (clone) when its array is a view,
    read-only, or already handed out, so that ``.grad`` can be updated in place."""
    if id(g.array) in seen or not backend.is_owned(g.array):
        with enable_grad():
            g = g.clone()
    seen.add(id(g.array))
    return g


def _backward_graph(outs: list[Tensor], gos: list[Any], retain_graph: bool) -> None:
    """``backward(create_graph=True)``: each leaf's ``.grad`` becomes (or gains) a Tensor with a
    ``grad_fn``, as in PyTorch."""
    global _end_callbacks
    root_grads = _each_root(_graph_root, outs, gos, "backward")
    outer, _end_callbacks = _end_callbacks, []
    try:
        roots = [_node_of(o) for o in outs]
        leaf_grads = _run_backward_graph(roots, root_grads, retain_graph)
        final = []
        for node, lg in leaf_grads.items():
            leaf = node._variable()
            if leaf is not None:
                lg = _run_hooks_graph(leaf._hooks, lg) if leaf._hooks else lg
                if leaf.grad is not None:  # else grad + lg would broadcast or promote
                    _check_grad_slot(leaf, lg.array)
                final.append((leaf, lg))
        seen = {id(g.array) for g in root_grads}
        with enable_grad():
            for leaf, lg in final:
                leaf.grad = _owned_graph(lg, seen) if leaf.grad is None else leaf.grad + lg
        for leaf, _ in final:
            _run_post_accumulate_hooks(leaf, create_graph=True)
        callbacks = _end_callbacks
    finally:
        _end_callbacks = outer
    for callback in callbacks:
        callback()


class _Capture(dict):
    """What ``grad()`` (and ``backward(inputs=...)``) asks of a backward: the gradient reaching
    each non-leaf input's node (this dict: node -> gradient), and no work off the paths to the
    inputs: as PyTorch, no other node runs (its hooks neither) nor has its saved arrays freed.

    PyTorch's ``grad()`` takes the gradient of a non-leaf input before the tensor's hooks when
    its node runs on (another input lies below it), after them when it does not; its
    ``backward(inputs=...)`` always after them (``after_hooks``)."""

    def __init__(self, inputs: Sequence[Tensor], after_hooks: bool = False) -> None:
        super().__init__((t.grad_fn, None) for t in inputs if t.grad_fn is not None)
        leaves = {t._accumulator for t in inputs if t.grad_fn is None}
        self.targets = set(self) | (leaves - {None})
        self.after_hooks = after_hooks
        self.stop: set[Function] = set()  # inputs' nodes that lead to no other input
        self.early: set[Function] = set()  # inputs' nodes captured before their hooks

    def prune(self, order: list[Function]) -> list[Function]:
        """The nodes of ``order`` (outputs first) from which an input is reached; an input's
        node from which no other input is reached stays, to be captured, and goes in ``stop``."""
        leads = set(self.targets)
        kept = []
        for node in reversed(order):  # inputs first
            if any(p in leads for p in node.parents):
                if node in leads and not self.after_hooks:
                    self.early.add(node)
                leads.add(node)
            elif node in leads:
                self.stop.add(node)
            else:
                continue
            kept.append(node)
        kept.reverse()
        return kept


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Only the part of the graph between the outputs and the inputs runs (as in PyTorch): hooks
    and ``retain_grad`` elsewhere see nothing, and nodes elsewhere keep their saved arrays.

    Args:
        outputs: a tensor or a sequence of tensors.
        inputs: the tensors (leaves or intermediate results) to differentiate with respect to.
        grad_outputs: one gradient per output (``None`` for a scalar output means 1).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: build the gradients from differentiable ops: they have a ``grad_fn``
            and can be differentiated again (to any order).
        allow_unused: return ``None`` for an input the outputs do not depend on instead of
            raising (default: ``materialize_grads``).
        materialize_grads: return zeros instead of ``None`` for such an input.

    Returns:
        A tuple with one gradient tensor (shape and dtype of its input) per input.
    """
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused True or None, not False")
    grads = _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
    if not materialize_grads:
        return grads
    ins = [inputs] if isinstance(inputs, _Tensor) else list(inputs)
    return tuple(
        wrap(backend.array_module(t.array).zeros_like(t.array)) if g is None else g
        for g, t in zip(grads, ins)
    )


def _grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any,
    retain_graph: bool | None,
    create_graph: bool,
    allow_unused: bool,
    after_hooks: bool = False,
) -> tuple[Tensor | None, ...]:
    """``grad()`` without ``materialize_grads`` (``after_hooks``: see ``_Capture``)."""
    what = "backward" if after_hooks else "grad"  # backward(inputs=) runs through here
    outs, gos = _outputs_and_grads(outputs, grad_outputs, what)
    ins = [inputs] if isinstance(inputs, _Tensor) else list(inputs)
    for t in ins:
        if not isinstance(t, _Tensor) or not t.requires_grad:
            raise RuntimeError("grad: every input must be a tensor that requires grad")
    if retain_graph is None:
        retain_graph = create_graph
    capture = _Capture(ins, after_hooks)
    if create_graph:
        root_tensors = _each_root(_graph_root, outs, gos, what)
        roots = [_node_of(o) for o in outs]
        leaf_tensors = _run_backward_graph(roots, root_tensors, retain_graph, capture)
        seen = {id(g.array) for g in root_tensors}
        return tuple(
            None if g is None else _owned_graph(g, seen)
            for g in (
                _input_grad_graph(i, t, capture, leaf_tensors, allow_unused)
                for i, t in enumerate(ins)
            )
        )
    root_grads = _each_root(_check_root, outs, gos, what)
    leaf_grads = _run_backward([_node_of(o) for o in outs], root_grads, retain_graph, capture)
    seen = set(map(id, root_grads))
    return tuple(
        _input_grad(i, t, capture, leaf_grads, allow_unused, seen) for i, t in enumerate(ins)
    )


def _input_grad(
    index: int,
    t: Tensor,
    capture: _Capture,
    leaf_grads: dict[AccumulateGrad, Any],
    allow_unused: bool,
    seen: set[int],
) -> Tensor | None:
    """``grad()``'s answer for one input: its captured gradient (after a leaf's hooks)."""
    g = _captured_grad(index, t, capture, leaf_grads, allow_unused)
    if g is None:
        return None
    if t.grad_fn is None and t._hooks:
        g = _run_hooks(t._hooks, g)
    return wrap(_owned(g, seen))


def _input_grad_graph(
    index: int,
    t: Tensor,
    capture: _Capture,
    leaf_grads: dict[AccumulateGrad, Tensor],
    allow_unused: bool,
) -> Tensor | None:
    """``_input_grad`` for ``create_graph=True``: the gradient Tensor itself, graph and all."""
    g = _captured_grad(index, t, capture, leaf_grads, allow_unused)
    if g is not None and t.grad_fn is None and t._hooks:
        g = _run_hooks_graph(t._hooks, g)
    return g


def _captured_grad(
    index: int,
    t: Tensor,
    capture: _Capture,
    leaf_grads: dict[AccumulateGrad, Any],
    allow_unused: bool,
) -> Any:
    """The gradient backward left for input ``t`` of ``grad()`` (None if unused and allowed)."""
    g = capture.get(t.grad_fn) if t.grad_fn is not None else leaf_grads.get(t._accumulator)
    if g is None and not allow_unused:
        raise RuntimeError(
            f"grad: input {index} (shape {tuple(t.shape)}) was not used to compute the "
            "outputs; pass allow_unused=True to get None for it"
        )
    return g


# ---------------------------------------------------------------------------------------------
# Hooks and inspection, for Tensor and viz
# ---------------------------------------------------------------------------------------------


def register_node_hook(node: Function, hook: Callable[[Tensor], Tensor | None]) -> None:
    """Attach a gradient hook to a non-leaf tensor's node."""
    if node._hooks is None:
        node._hooks = []
    node._hooks.append(hook)


def retain_node_grad(node: Function, tensor: Tensor) -> None:
    """Make backward store the gradient of ``tensor`` (produced by ``node``) in ``tensor.grad``."""
    node._retained = weakref.ref(tensor)
    if node._hooks is None:
        node._hooks = []  # marks the node as watched (see Function._hooks)


def walk_graph(tensor: Tensor) -> Iterator[Function]:
    """Every op node reachable from ``tensor``, outputs first (leaves' nodes left out)."""
    if tensor.grad_fn is not None:
        yield from _topological_order([tensor.grad_fn])


_NDARRAY = backend.ARRAY_TYPES[0]
_NUMPY_SCALAR = backend.numpy_module().generic


def _on_host(a: Any) -> bool:
    """A NumPy array (not a subclass: another device's, in the tests) or a NumPy scalar."""
    return a.__class__ is _NDARRAY or isinstance(a, _NUMPY_SCALAR)
