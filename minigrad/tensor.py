"""The Tensor: a backend array, its gradient, and the node that produced it.

Owns: the ``Tensor`` class (attributes, dunders, methods) and ``as_tensor``.
May import: ``minigrad.backend``, ``minigrad.autograd``, ``minigrad.errors``,
``minigrad.promotion`` and, for its methods, ``minigrad.ops``.
``Tensor`` subclasses ``autograd.TensorBase`` (which holds its data) and registers itself with
``autograd``, so that neither the graph nor the ops import this module back.

A Tensor holds no math of its own: each method below calls an op from ``minigrad.ops``. The
attributes follow PyTorch's names: ``data`` (a detached tensor sharing the memory), ``grad``,
``requires_grad``, ``grad_fn``, ``is_leaf``; the NumPy or CuPy array itself is ``array``.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from minigrad import autograd, backend, inplace, promotion, return_types
from minigrad.aliases import accepts_axis
from minigrad.errors import ScalarOverflowError, ShapeError


def _infer_array(data: Any, dtype: Any, device: str) -> Any:
    """An array on ``device`` from Python data or an array; Python floats become float32."""
    if isinstance(data, Tensor):
        data = data.array
    if data.__class__ is _NDARRAY and dtype is None and device == "cpu":
        arr = data  # the common case, without asarray's conversions
    elif dtype is not None:
        dtype = checked_dtype(dtype)
        if dtype.kind in "iu" and not isinstance(data, backend.ARRAY_TYPES):  # Python numbers:
            return backend.asarray(_checked_data(data, dtype), device=device)  # PyTorch's rule
        try:
            with backend.quiet():  # a float past float16's range: inf, as PyTorch
                return backend.asarray(_rectangular(data), dtype=dtype, device=device)
        except OverflowError:  # an int outside dtype's range: PyTorch's rule, not NumPy's
            return backend.asarray(_checked_data(data, dtype), device=device)
    else:
        is_array = hasattr(data, "__array_interface__") or hasattr(data, "__cuda_array_interface__")
        arr = backend.asarray(data if is_array else _rectangular(data), device=device)
        if not is_array:
            if arr.dtype == backend.float64:
                with backend.quiet():  # past float32's range: inf, as PyTorch
                    return arr.astype(backend.DEFAULT_FLOAT)  # Python floats: the default
            if arr.dtype.kind in "uO":  # ints past int64 (NumPy: uint64 or object), None, ...
                _refuse_python_data(arr)
    if arr.dtype not in SUPPORTED_DTYPES:
        if arr.dtype.newbyteorder("=") in SUPPORTED_DTYPES:  # big-endian data: the same values
            return arr.astype(_CANONICAL[arr.dtype.newbyteorder("=")])
        raise TypeError(f"tensor: unsupported data of dtype {arr.dtype} ({DTYPES_HELP})")
    return arr


def _rectangular(data: Any) -> Any:
    """``data``, after NumPy's ragged-list error is given a clearer message."""
    if not isinstance(data, (list, tuple)):
        return data
    try:
        return backend.numpy_module().asarray(data)
    except ValueError as err:
        if "inhomogeneous" not in str(err):
            raise
        raise ShapeError(
            f"tensor: the nested sequences are ragged (their lengths differ at some depth), so "
            f"they do not make a rectangular tensor: {err}"
        ) from None


def _refuse_python_data(arr: Any) -> None:
    """Python data that gave NumPy's uint64 or object array: fine for NumPy uint64 scalars, a
    ``ScalarOverflowError`` for an int outside int64 (as PyTorch), a ``TypeError`` for the rest
    (None, strings, objects)."""
    if arr.dtype.kind == "u" and not (arr.size and arr.max() > 2**63 - 1):
        return  # NumPy unsigned scalars in a list
    if arr.dtype.kind == "u" or all(isinstance(v, int) for v in arr.flat):
        raise ScalarOverflowError(
            "tensor: the data holds an int outside int64's range [-2**63, 2**63), the type "
            "Python ints get (as PyTorch); give dtype= for uint64 values"
        )
    kinds = sorted({type(v).__name__ for v in arr.flat if not isinstance(v, (int, float))})
    raise TypeError(f"tensor: cannot infer a dtype for data holding {', '.join(kinds)}")


def _checked_data(data: Any, dtype: Any) -> Any:
    """``data`` (Python numbers, nested) as a host array of the integer ``dtype`` by PyTorch's
    checked conversion (``promotion.checked_scalar``), where NumPy wraps or truncates: -1 goes
    into uint8 as 255, 300 into int8 raises, and so does a float outside [min, max] (-0.5 into
    uint8, NaN), naming the value."""
    np = backend.numpy_module()
    try:
        host = np.asarray(_rectangular(data))
    except OverflowError:
        host = np.asarray(0, dtype=object)
    if host.dtype.kind not in "biuf":  # ints beyond uint64: object arrays
        raise ScalarOverflowError(
            f"tensor: the data holds an int too big to convert to {dtype} (beyond 64 bits)"
        )
    if host.dtype == dtype:  # ints into int64: nothing to check or convert
        return host if host.flags.owndata else host.copy()
    if host.size and not np.can_cast(host.dtype, dtype):
        for extreme in (host.min().item(), host.max().item()):  # -0.5 into uint8 raises
            promotion.checked_scalar("tensor", extreme, dtype)  # raises, naming the value
    return host.astype(dtype, copy=not host.flags.owndata)  # a list's array: no second copy


def _saved_result_is(node: autograd.Function | None, tensor: Tensor, saves_result: bool) -> None:
    """After an in-place op wrote its result into ``tensor``: the arrays ``node`` saved that
    stand for that result now count as ``tensor``'s (``minigrad/inplace.py``)."""
    if saves_result:
        inplace.saved_as_result(node, tensor)
    else:
        inplace.saved_output_is(node, tensor)


def apply_inplace(
    tensor: Tensor, what: str, compute: Callable[[Tensor], Tensor], saves_result: bool = False
) -> Tensor:
    """Write ``compute(tensor)``, an out-of-place op of ``tensor``'s shape, into ``tensor`` and
    return ``tensor``: the one in-place path, the tensor methods' (``relu_``, ``mul_``...), for
    in-place ops built outside ``Tensor`` (``nn.functional``'s ``inplace=True``).

    As PyTorch's in-place ops: ``tensor``'s version counter moves (a node that saved the old
    values refuses its backward), views of its memory see the change and get a new history,
    and under autograd ``tensor``'s history becomes ``compute``'s, computed from a copy of
    the old values. ``saves_result``: PyTorch's node for the op saves its result, so a later
    in-place change of ``tensor`` fails the backward too.

    Raises:
        TypeError: ``tensor`` is not a Tensor.
        RuntimeError: with grad enabled, ``tensor`` is a leaf that requires grad or a view of
            one (PyTorch's refusals), before anything changes; or its memory is read-only.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    return tensor._inplace(what, compute, saves_result)


def _filled(array: Any, value: Any) -> Any:
    """A new array like ``array`` holding ``value`` everywhere."""
    out = backend.array_module(array).empty_like(array)
    out[...] = value
    return out


class Tensor(autograd.TensorBase):
    """An n-dimensional array that records the ops applied to it for reverse-mode autograd.

    Methods named after an op (``x.exp()``, ``x.sum(dim)``, ``x.reshape(...)``, ``x @ w``) call
    the function of the same name in ``minigrad`` (``mg.exp(x)``...), documented there with
    their shapes.
    """

    __slots__ = ()  # the data lives in autograd.TensorBase's slots: array, grad, grad_fn...
    __array_priority__ = 1000  # NumPy scalars defer to our reflected operators

    def __init__(
        self, data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
    ) -> None:
        if device is not None:
            device = backend.normalize_device(device)
        elif isinstance(data, Tensor):
            device = data.device
        else:
            device = backend.default_device()
        self.array = _infer_array(data, dtype, device)
        self.grad: Tensor | None = None
        self.grad_fn: autograd.Function | None = None
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None
        self._accumulator = None
        self._version_counter = [0]  # shared with views; see minigrad/inplace.py
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # A tensor around an existing array, no copy, no checks (the fast internal constructor): a
    # constant, or the output of the op whose node is ``grad_fn``; public as ``autograd.wrap``.
    _wrap = staticmethod(autograd.wrap)

    # -- attributes -----------------------------------------------------------------------------

    @property
    def data(self) -> Tensor:
        """This tensor's values as a new tensor cut from the graph, sharing the memory (as
        PyTorch's ``.data``): ``requires_grad`` False, no ``grad_fn``, and, unlike ``detach()``,
        its own version counter, so a change made through it is not seen by autograd."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value: Tensor) -> None:
        """``t.data = other``: ``t`` takes ``other``'s array (any shape or dtype, as PyTorch
        allows; no copy), keeping its own ``grad``, ``requires_grad`` and graph node."""
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self.array = value.array

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> Any:
        return self.array.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.array)

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place (PyTorch's ``_version``);
        views made by ops share the count with their base."""
        return self._version_counter[0]

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created or results under no_grad)."""
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dim."""
        return self.array.shape if dim is None else self.array.shape[dim]

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    def __len__(self) -> int:
        if not self.array.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    # -- autograd -------------------------------------------------------------------------------

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Tensor | Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on.

        Args:
            gradient: d(loss)/d(self), required when this tensor is not a scalar.
            retain_graph: keep saved arrays so that backward can run through the graph again
                (default: ``create_graph``).
            create_graph: make the gradients differentiable (each ``.grad`` gets a ``grad_fn``).
            inputs: accumulate into these tensors' ``.grad`` only (leaves or not).
        """
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf (floating point tensors only)."""
        if requires_grad:
            if self.array.dtype.kind != "f":
                raise RuntimeError(
                    f"only floating point tensors can require gradients, got {self.array.dtype}"
                )
        elif self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = requires_grad
        return self

    def __copy__(self) -> Tensor:
        """``copy.copy``: a new leaf of the same class sharing this tensor's array (and its
        version counter), with the same ``requires_grad``, no ``.grad``, no hooks and its own
        gradient node, as PyTorch's (a copy of the slots would share the node, so the copy's
        backward would fill this tensor's ``.grad``)."""
        return self._new_leaf(self.array, self._version_counter)

    def __deepcopy__(self, memo: dict[int, Any]) -> Tensor:
        """``copy.deepcopy``: a new leaf of the same class with a copy of the array (and of
        ``.grad``) and the same ``requires_grad``; its own gradient node and version counter, no
        hooks. Only a leaf is copied, as in PyTorch: a computed tensor would take its graph
        along, and the copy's backward would still reach the original's leaves."""
        if self.grad_fn is not None:
            raise RuntimeError(
                f"deepcopy: only a leaf tensor (made by the user, no grad_fn) can be deep-copied, "
                f"as in PyTorch; this {self.dtype} tensor of shape {tuple(self.shape)} is the "
                f"output of {self.grad_fn.name}: deep-copy t.detach() instead"
            )
        new = memo[id(self)] = self._new_leaf(self.array.copy(), [0])
        if self.grad is not None:
            new.grad = Tensor._wrap(self.grad.array.copy())
        return new

    def _new_leaf(self, array: Any, version_counter: list[int]) -> Tensor:
        """A leaf of this tensor's class around ``array``, with this one's ``requires_grad``
        and nothing else of it: no ``.grad``, no hooks, a gradient node of its own (the copies'
        common part)."""
        new = object.__new__(type(self))
        new.array, new._version_counter = array, version_counter
        new.requires_grad, new.grad_fn, new.grad = self.requires_grad, None, None
        new._hooks = new._accumulator = None
        return new

    def detach(self) -> Tensor:
        """A tensor sharing this one's array (and its version counter), cut from the graph."""
        t = Tensor._wrap(self.array)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place (it becomes a leaf that needs no gradient);
        a view refuses, as PyTorch's."""
        if getattr(self, "_view_of", None) is not None:
            raise RuntimeError(
                f"detach_: this tensor of shape {tuple(self.shape)} is a view of another, and "
                "views cannot be detached in place; use detach()"
            )
        self.grad_fn = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward; after an
        in-place op on it (or on a view of it) the gradient of its new values, as PyTorch."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None:
            autograd.retain_node_grad(self.grad_fn, self)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` removes the hook (as
        PyTorch's; calling it does too)."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is not None:
            autograd.register_node_hook(self.grad_fn, hook)
            hooks = self.grad_fn._hooks
        else:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            hooks = self._hooks
        return autograd.RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(
        self, hook: Callable[[Tensor], None]
    ) -> autograd.RemovableHandle:
        """Call ``hook(self)`` during ``backward()`` right after this leaf's ``.grad`` is final
        (PyTorch's name), while backward goes on with the rest of the graph. Returns a handle
        whose ``remove()`` removes the hook."""
        if self.grad_fn is not None or not self.requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only a leaf tensor that requires grad "
                f"accumulates a gradient (shape {tuple(self.shape)})"
            )
        return autograd.register_post_accumulate_grad_hook(self, hook)

    # -- conversion -----------------------------------------------------------------------------

    def numpy(self) -> Any:
        """A NumPy array with this tensor's values (a host copy for GPU tensors)."""
        return backend.to_host(self.array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        """``numpy.asarray(t)``: the values, as ``t.numpy()`` (NumPy made an object array of
        0-d tensors without it; PyTorch's tensors convert too). NumPy 2's ``copy``: True (what
        ``numpy.array(t)`` passes) gives memory of its own, False raises where a copy is needed."""
        arr = self.numpy()
        if copy is False and (arr is not self.array or (dtype is not None and arr.dtype != dtype)):
            raise ValueError(
                f"__array__: a {self.dtype} tensor on {self.device} cannot become a NumPy array"
                f"{'' if dtype is None else ' of dtype ' + str(dtype)} without a copy (copy=False)"
            )
        if dtype is not None:
            return arr.astype(dtype, copy=bool(copy))
        return arr.copy() if copy else arr  # copy=True (np.array's default): never this memory

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted, got shape {tuple(self.shape)}"
            )
        return self.numpy().reshape(()).item()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor on a device and/or in a dtype, as PyTorch's ``to``: ``to(dtype)``,
        ``to(device, dtype)``, ``to(other_tensor)`` (its device and dtype), each with
        ``non_blocking`` (accepted; copies are synchronous) and ``copy``; keywords ``device=``
        and ``dtype=``. Itself when nothing changes and ``copy`` is False, else a new tensor;
        differentiable. A float cast to an integer dtype truncates toward zero; NaN, an
        infinity or a value outside the dtype's range gives what the CPU's conversion gives
        (the same as PyTorch's on x86: the int32/int64 minimum; narrower dtypes keep the low
        bits of the int32 conversion), not an error. To bool: nonzero (NaN too) is True."""
        if len(args) < 2 and kwargs.keys() <= {"device", "dtype"}:  # to(x), the usual call
            device, dtype = to_arguments(*args, **kwargs)
            copy = False
        else:
            device, dtype, copy = _to_call(args, kwargs)
        out = self
        if dtype is not None:
            out = ops.cast(out, dtype)
        if device is not None:
            out = ops.to_device(out, device)
        return ops.clone(out) if copy and out is self else out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Tensor:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Tensor:
        return ops.cast(self, backend.float32)

    def double(self) -> Tensor:
        return ops.cast(self, backend.float64)

    def half(self) -> Tensor:
        return ops.cast(self, backend.float16)

    def long(self) -> Tensor:
        return ops.cast(self, backend.int64)

    def int(self) -> Tensor:
        return ops.cast(self, backend.int32)

    def bool(self) -> Tensor:
        return ops.cast(self, backend.bool_)

    def byte(self) -> Tensor:
        return ops.cast(self, backend.uint8)

    def type(self, dtype: Any = None) -> Any:
        """``type(dtype)``: this tensor in ``dtype``, as ``to(dtype=...)``. ``type()``: the
        dtype's name (``"float32"``), not PyTorch's legacy class name (``"torch.FloatTensor"``):
        minigrad has no per-dtype tensor classes."""
        if dtype is None:
            return self.array.dtype.name
        return self.to(dtype=dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return ops.cast(self, other.dtype)

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to this tensor."""
        return ops.clone(self)

    # -- in-place ops ---------------------------------------------------------------------------
    # As in PyTorch: outside no_grad a leaf that requires grad refuses; a tensor in the graph
    # takes the op's node as its grad_fn (its history is rebased), and the version counter is
    # bumped, so that a node that saved the old values refuses its backward
    # (minigrad/inplace.py).

    def _inplace(
        self, what: str, compute: Callable[[Tensor], Tensor], saves_result: bool = False
    ) -> Tensor:
        """Write ``compute(self)`` (an out-of-place op of this tensor's shape) into this
        tensor's memory, so views see it; bump the version; rebase the history if recorded:
        this tensor's, and for a view its base's and the base's other views' too
        (``minigrad.ops.views``). ``saves_result``: PyTorch's in-place node saves the result
        (its backward reads it), so a later in-place change of this tensor fails the
        backward (``minigrad.inplace.saved_as_result``)."""
        if not backend.is_writable(self.array):  # a broadcast view (expand)
            raise RuntimeError(
                f"{what}: the memory of this tensor of shape {tuple(self.shape)} is read-only (a "
                "view made by expand repeats one element in many places); clone() it first"
            )
        recording = autograd.is_grad_enabled()
        view_of = getattr(self, "_view_of", None)  # (base, made in grad mode) for a view
        if recording and (self.requires_grad or view_of is not None):
            self._check_not_leaf(what, view_of)
        # under recording, compute on a copy: the op may save its input, which we overwrite
        result = self._cast_result(what, compute(ops.clone(self) if recording else self))
        if recording and view_of is not None and (result.requires_grad or view_of[0].requires_grad):
            if not view_of[1]:
                raise self._no_grad_view_error(what, view_of[0])
            ops.views.write_through_view(self, result, what)
            _saved_result_is(result.grad_fn, self, saves_result)
            return self
        self.array[...] = result.array
        autograd.increment_version(self)
        _saved_result_is(result.grad_fn, self, saves_result)
        if result.grad_fn is not None:  # recording, and not a view (else handled above)
            ops.views.set_history(self, result.grad_fn)
            if len(self._version_counter) > 1:  # views were made of this memory
                ops.views.rebase_views(self)
        return self

    def _cast_result(self, what: str, result: Tensor) -> Tensor:
        """An in-place op's out-of-place result, checked against this tensor's shape and cast
        to its dtype (PyTorch's rules: no broadcasting of the target, no float into int)."""
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"{what}: the result's shape {tuple(result.shape)} does not match the tensor's "
                f"{tuple(self.shape)} (an in-place op cannot broadcast the tensor it writes to)"
            )
        if result.dtype != self.dtype:
            if promotion.category(result.dtype) > promotion.category(self.dtype):
                raise RuntimeError(
                    f"{what}: result type {result.dtype} can't be cast to the desired output "
                    f"type {self.dtype}"
                )
            result = ops.cast(result, self.dtype)
        return result

    def _check_not_leaf(self, what: str, view_of: tuple[Tensor, bool] | None) -> None:
        """PyTorch's refusals, with grad enabled: a leaf that requires grad, or a view of one
        (made with grad enabled or not)."""
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{what}: a leaf Variable that requires grad is being used in an in-place "
                "operation. (Change it under `with minigrad.no_grad():`.)"
            )
        if view_of is None or view_of[0].grad_fn is not None or not view_of[0].requires_grad:
            return
        if not view_of[1]:
            raise self._no_grad_view_error(what, view_of[0])
        raise RuntimeError(
            f"{what}: a view of a leaf Variable that requires grad is being used in an "
            f"in-place operation (view of shape {tuple(self.shape)}, leaf of shape "
            f"{tuple(view_of[0].shape)})."
        )

    def _no_grad_view_error(self, what: str, base: Tensor) -> RuntimeError:
        return RuntimeError(
            f"{what}: a view (shape {tuple(self.shape)}, of a base of shape "
            f"{tuple(base.shape)}) was created in no_grad mode and is being modified inplace "
            "with grad mode enabled. Given that this use case is ambiguous and error-prone, it "
            "is forbidden: make the view and change it both inside the no_grad block or both "
            "outside."
        )

    @property
    def _base(self) -> Tensor | None:
        """The tensor whose memory this view shares (the root of a chain of views), None for a
        tensor that is not a view (PyTorch's ``_base``)."""
        view_of = getattr(self, "_view_of", None)
        return None if view_of is None else view_of[0]

    def _all_true(self) -> Tensor:
        return Tensor._wrap(backend.array_module(self.array).ones(self.shape, dtype=bool))

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a 0-d tensor) in place."""
        ops._util.require_0d_value("fill_", value)
        grad_mode = autograd.is_grad_enabled()
        floats = self.dtype.kind == "f"
        if isinstance(value, Tensor) and value.requires_grad and grad_mode and floats:
            value = value.reshape(())  # its gradient: the sum of the filled elements', as PyTorch
            return self._inplace("fill_", lambda t: ops.where(self._all_true(), value, t))
        value = value.item() if isinstance(value, Tensor) else value
        if not (value == 0 or value == 1):  # 0 and 1 fit any dtype; 300 in uint8 raises
            value = promotion.checked_scalar("fill_", value, self.dtype)
        if not (self.requires_grad and grad_mode):
            return self._inplace("fill_", lambda t: Tensor._wrap(_filled(t.array, value)))
        return self._inplace("fill_", lambda t: ops.where(self._all_true(), value, t))

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values (broadcast to this shape, cast to this dtype and device) into
        this tensor in place; the gradient flows to ``src``."""
        src = src if isinstance(src, Tensor) else Tensor(src)
        src = src.to(self.device, self.dtype)
        if tuple(src.shape) != tuple(self.shape):
            try:
                src = ops.expand(src, *self.shape)
            except ValueError:
                raise ValueError(
                    f"copy_: source of shape {tuple(src.shape)} does not broadcast to "
                    f"{tuple(self.shape)}"
                ) from None
        return self._inplace("copy_", lambda t: ops.where(self._all_true(), src, t))

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self += alpha * other`` in place."""
        return self._inplace("add_", lambda t: t.add(other, alpha=alpha))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self -= alpha * other`` in place."""
        return self._inplace("sub_", lambda t: t.sub(other, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place."""
        return self._inplace("mul_", lambda t: ops.mul(t, other))

    def div_(self, other: Any, rounding_mode: str | None = None) -> Tensor:
        """``self /= other`` in place (see ``div`` for ``rounding_mode``)."""
        return self._inplace("div_", lambda t: t.div(other, rounding_mode=rounding_mode))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """``clamp`` in place."""
        return self._inplace("clamp_", lambda t: ops.clamp(t, min, max))

    clip_ = clamp_  # PyTorch's alias

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        """``masked_fill`` in place."""
        return self._inplace("masked_fill_", lambda t: ops.masked_fill(t, mask, value))

    def index_fill_(self, dim: int, index: Tensor, value: Any) -> Tensor:
        """Fill the positions ``index`` (1-D or 0-d, int) along ``dim`` with ``value``."""
        ops.indexing.index_key("index_fill_", self, dim, index)  # checked before anything changes
        return self._inplace("index_fill_", lambda t: ops.index_fill(t, dim, index, value))

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """``self[..., index[j], ...] += alpha * source[..., j, ...]`` along ``dim``."""
        return self._inplace(
            "index_add_", lambda t: ops.index_add(t, dim, index, source, alpha=alpha)
        )

    def pow_(self, exponent: Any) -> Tensor:
        """``self **= exponent`` in place."""
        return self._inplace("pow_", lambda t: ops.pow(t, exponent))

    def exp_(self) -> Tensor:
        """``exp`` in place."""
        return self._inplace("exp_", ops.exp)

    def neg_(self) -> Tensor:
        """``-self`` in place."""
        return self._inplace("neg_", ops.neg)

    # The unary functions in place, as PyTorch's: the node of one whose gradient reads its
    # output (sigmoid_, tanh_, sqrt_...) saves it as this tensor's, so a later write fails it.
    def sigmoid_(self) -> Tensor:
        return self._inplace("sigmoid_", ops.sigmoid)

    def tanh_(self) -> Tensor:
        return self._inplace("tanh_", ops.tanh)

    def sqrt_(self) -> Tensor:
        return self._inplace("sqrt_", ops.sqrt)

    def rsqrt_(self) -> Tensor:
        return self._inplace("rsqrt_", ops.rsqrt)

    def relu_(self) -> Tensor:
        return self._inplace("relu_", ops.relu)

    def sin_(self) -> Tensor:
        return self._inplace("sin_", ops.sin)

    def cos_(self) -> Tensor:
        return self._inplace("cos_", ops.cos)

    def log_(self) -> Tensor:
        return self._inplace("log_", ops.log)

    def log2_(self) -> Tensor:
        return self._inplace("log2_", ops.log2)

    def exp2_(self) -> Tensor:
        return self._inplace("exp2_", ops.exp2)

    def erf_(self) -> Tensor:
        return self._inplace("erf_", ops.erf)

    def floor_(self) -> Tensor:
        return self._inplace("floor_", ops.floor)

    def ceil_(self) -> Tensor:
        return self._inplace("ceil_", ops.ceil)

    def trunc_(self) -> Tensor:
        return self._inplace("trunc_", ops.trunc)

    def sign_(self) -> Tensor:
        return self._inplace("sign_", ops.sign)

    def abs_(self) -> Tensor:
        """``abs`` in place."""
        return self._inplace("abs_", ops.abs)

    def floor_divide_(self, other: Any) -> Tensor:
        """``self //= other`` in place."""
        return self._inplace("floor_divide_", lambda t: ops.floor_divide(t, other))

    def remainder_(self, other: Any) -> Tensor:
        """``self %= other`` in place."""
        return self._inplace("remainder_", lambda t: ops.remainder(t, other))

    def scatter_(
        self,
        dim: int,
        index: Tensor,
        src: Any = None,
        *,
        value: Any = None,
        reduce: str | None = None,
    ) -> Tensor:
        """``self[i][index[i][j]] = src[i][j]`` along ``dim`` (``src`` a tensor, or a number
        given as ``src`` or ``value``), as ``torch.Tensor.scatter_``; ``reduce="add"`` or
        ``"multiply"`` adds or multiplies the values in (see ``ops.scatter``)."""
        # ops.scatter checks dim, index and src (PyTorch's rules) before anything is written
        return self._inplace(
            "scatter_", lambda t: ops.scatter(t, dim, index, src, value, reduce=reduce)
        )

    # ``t += x`` and friends are in place, as in PyTorch (the same rules as add_ and the rest)
    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    # without these Python rebinds ``t //= x`` to a new tensor: a view's base would not change
    def __ifloordiv__(self, other: Any) -> Tensor:
        return self.floor_divide_(other)

    def __imod__(self, other: Any) -> Tensor:
        return self.remainder_(other)

    def __ipow__(self, other: Any) -> Tensor:
        return self.pow_(other)

    def __iand__(self, other: Any) -> Tensor:
        return self._inplace("bitwise_and_", lambda t: ops.bitwise(t, other, "bitwise_and"))

    def __ior__(self, other: Any) -> Tensor:
        return self._inplace("bitwise_or_", lambda t: ops.bitwise(t, other, "bitwise_or"))

    def __ixor__(self, other: Any) -> Tensor:
        return self._inplace("bitwise_xor_", lambda t: ops.bitwise(t, other, "bitwise_xor"))

    def __ilshift__(self, other: Any) -> Tensor:
        return self._inplace("bitwise_left_shift_", lambda t: ops.bitwise(t, other, "left_shift"))

    def __irshift__(self, other: Any) -> Tensor:
        return self._inplace("bitwise_right_shift_", lambda t: ops.bitwise(t, other, "right_shift"))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``: ``value`` (a number or a tensor) broadcast to the indexed
        shape and cast to this dtype; as the other in-place ops for autograd."""
        self._inplace("setitem", lambda t: ops.setitem(t, index, value))

    def contiguous(self) -> Tensor:
        """This tensor when its memory is in C order, else a copy that is (differentiable)."""
        return self if self.array.flags.c_contiguous else ops.clone(self)

    def is_contiguous(self) -> bool:
        return bool(self.array.flags.c_contiguous)

    # -- printing -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        # NumPy indents continuation rows for "array(" (6 chars); "tensor(" is 7
        body = repr(self.numpy()).removeprefix("array(").removesuffix(")").replace("\n", "\n ")
        extras = []
        body = re.split(r",\s*dtype=", body)[0]  # NumPy may wrap the dtype onto its own line
        body = re.split(r",\s*shape=", body)[0]  # NumPy's, after an empty or summarized array
        if self.array.size == 0 and self.array.ndim != 1:
            extras.append(f"size={tuple(self.shape)}")  # PyTorch's, for an empty tensor only
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor of shape {tuple(self.shape)} is ambiguous"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __index__(self) -> int:
        """``operator.index(t)`` (``range(t)``, ``seq[t]``): a one-element integer or bool
        tensor's value, as PyTorch; floats and other sizes raise TypeError."""
        if self.array.size != 1 or self.array.dtype.kind not in "biu":
            raise TypeError(
                "only integer tensors of a single element can be converted to an index, got "
                f"a {self.dtype} tensor of shape {tuple(self.shape)}"
            )
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{t:.4f}"``: a 0-d tensor formats as its value, as PyTorch; others as ``str``."""
        if self.array.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__

    # -- operators ------------------------------------------------------------------------------

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``."""
        return ops.add(self, other, alpha=alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``."""
        return ops.sub(self, other, alpha=alpha)

    def mul(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def div(self, other: Any, rounding_mode: str | None = None) -> Tensor:
        """``self / other``; ``rounding_mode`` ``"trunc"`` or ``"floor"`` rounds the quotient."""
        return ops.div(self, other, rounding_mode=rounding_mode)

    def neg(self) -> Tensor:
        return ops.neg(self)

    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.pow(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return ops.matmul(other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    def __lt__(self, other: Any) -> Tensor:
        return ops.compare(self, other, "less")

    def __le__(self, other: Any) -> Tensor:
        return ops.compare(self, other, "less_equal")

    def __gt__(self, other: Any) -> Tensor:
        return ops.compare(self, other, "greater")

    def __ge__(self, other: Any) -> Tensor:
        return ops.compare(self, other, "greater_equal")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:  # Python then compares identities: t == None is False, as PyTorch
            return NotImplemented
        return ops.compare(self, other, "equal")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        if other is None:
            return NotImplemented
        return ops.compare(self, other, "not_equal")

    # bitwise on integers, logical on bools (as PyTorch); no gradient
    def __invert__(self) -> Tensor:
        return ops.bitwise_not(self)

    def __and__(self, other: Any) -> Tensor:
        return ops.bitwise(self, other, "bitwise_and")

    def __rand__(self, other: Any) -> Tensor:
        return ops.bitwise(other, self, "bitwise_and")

    def __or__(self, other: Any) -> Tensor:
        return ops.bitwise(self, other, "bitwise_or")

    def __ror__(self, other: Any) -> Tensor:
        return ops.bitwise(other, self, "bitwise_or")

    def __xor__(self, other: Any) -> Tensor:
        return ops.bitwise(self, other, "bitwise_xor")

    def __rxor__(self, other: Any) -> Tensor:
        return ops.bitwise(other, self, "bitwise_xor")

    def __lshift__(self, other: Any) -> Tensor:
        return ops.bitwise(self, other, "left_shift")

    def __rlshift__(self, other: Any) -> Tensor:
        return ops.bitwise(other, self, "left_shift")

    def __rshift__(self, other: Any) -> Tensor:
        return ops.bitwise(self, other, "right_shift")

    def __rrshift__(self, other: Any) -> Tensor:
        return ops.bitwise(other, self, "right_shift")

    # -- methods mirroring PyTorch's (each one line into ops) -----------------------------------

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def pow(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def maximum(self, other: Any) -> Tensor:
        return ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return ops.minimum(self, other)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return ops.clamp(self, min, max)

    clip = clamp

    @accepts_axis
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        if dtype is None:  # (a keyword argument costs at this scale)
            return ops.sum(self, dim, keepdim)
        return ops.sum(self, dim, keepdim, dtype=dtype)

    @accepts_axis
    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        if dtype is None:  # (a keyword argument costs at this scale)
            return ops.mean(self, dim, keepdim)
        return ops.mean(self, dim, keepdim, dtype=dtype)

    @accepts_axis
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest value (0-d); with an int ``dim`` the named tuple ``(values, indices)``;
        with a tensor, ``maximum`` (as PyTorch)."""
        return ops.max(self, dim, keepdim)

    @accepts_axis
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The smallest value (0-d); with an int ``dim`` the named tuple ``(values, indices)``;
        with a tensor, ``minimum`` (as PyTorch)."""
        return ops.min(self, dim, keepdim)

    @accepts_axis
    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Largest values over ``dim`` (all when None; ties share the gradient evenly)."""
        return ops.amax(self, dim, keepdim)

    @accepts_axis
    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Smallest values over ``dim`` (all when None; ties share the gradient evenly)."""
        return ops.amin(self, dim, keepdim)

    @accepts_axis
    def var(
        self,
        dim: Any = None,
        correction: int = 1,
        keepdim: bool = False,
        unbiased: bool | None = None,
    ) -> Tensor:
        return ops.var(self, dim, correction, keepdim, unbiased)

    @accepts_axis
    def std(
        self,
        dim: Any = None,
        correction: int = 1,
        keepdim: bool = False,
        unbiased: bool | None = None,
    ) -> Tensor:
        return ops.std(self, dim, correction, keepdim, unbiased)

    @accepts_axis
    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return ops.logsumexp(self, dim, keepdim)

    @accepts_axis
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmax(self, dim, keepdim)

    @accepts_axis
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return ops.argmin(self, dim, keepdim)

    @accepts_axis
    def softmax(self, dim: int = -1) -> Tensor:
        return ops.softmax(self, dim)

    @accepts_axis
    def log_softmax(self, dim: int = -1) -> Tensor:
        return ops.log_softmax(self, dim)

    # activations PyTorch has as Tensor methods (ops/activations_breadth.py)
    def hardshrink(self, lambd: float = 0.5) -> Tensor:
        return ops.hardshrink(self, lambd)

    def prelu(self, weight: Tensor) -> Tensor:
        return ops.prelu(self, weight)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        """``reshape`` that shares this tensor's memory, as PyTorch's: where the new shape
        cannot be read from the same memory (``t.T.view(-1)``), it raises instead of copying
        (a write into the copy would not reach this tensor)."""
        out = ops.reshape(self, *shape)
        arr, base = out.array, self.array
        shares = arr is base or (
            arr.base is not None and (arr.base is base or arr.base is base.base)
        )
        if arr.size and not shares:
            raise RuntimeError(
                f"view: a tensor of shape {tuple(self.shape)} whose memory is not laid out for "
                f"shape {tuple(out.shape)} (one dim spans two separate runs of memory); use "
                ".reshape(...) or .contiguous().view(...)"
            )
        return out

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return ops.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        return ops.permute(self, *dims)

    swapaxes = swapdims = transpose  # PyTorch's aliases

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return ops.movedim(self, source, destination)

    moveaxis = movedim

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        return ops.narrow(self, dim, start, length)

    def view_as(self, other: Tensor) -> Tensor:
        return self.view(other.shape)

    def index_fill(self, dim: int, index: Tensor, value: Any) -> Tensor:
        return ops.index_fill(self, dim, index, value)

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        return ops.index_add(self, dim, index, source, alpha=alpha)

    @accepts_axis
    def unsqueeze(self, dim: int) -> Tensor:
        return ops.unsqueeze(self, dim)

    @accepts_axis
    def squeeze(self, dim: Any = None) -> Tensor:
        return ops.squeeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        return ops.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return ops.expand(self, other.shape)

    @property
    def T(self) -> Tensor:  # noqa: N802
        """The dims in reverse order (the transpose of a matrix)."""
        return ops.permute(self, *reversed(range(self.array.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two dims swapped (a batch of transposed matrices); a 0-d tensor as it is (a
        view) and a 1-d one refused, as PyTorch."""
        if self.array.ndim == 1:
            raise ShapeError(f"mT expects a matrix or a batch of them, got shape {self.shape}")
        return ops.transpose(self, -2, -1) if self.array.ndim else ops.reshape(self, ())

    def t(self) -> Tensor:
        """The transpose of a matrix (a view); a 0-d or 1-d tensor as it is, as a view, as
        ``torch.Tensor.t``."""
        if self.array.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.array.ndim}D "
                f"(shape {tuple(self.shape)}); use transpose(dim0, dim1) or mT"
            )
        return ops.transpose(self, 0, 1) if self.array.ndim == 2 else ops.reshape(self, self.shape)

    def matmul(self, other: Tensor) -> Tensor:
        return ops.matmul(self, other)

    def mm(self, other: Tensor) -> Tensor:
        return ops.mm(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        return ops.bmm(self, other)

    def masked_fill(self, mask: Tensor, value: float) -> Tensor:
        return ops.masked_fill(self, mask, value)

    @accepts_axis
    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.split(self, split_size, dim)

    @accepts_axis
    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.chunk(self, chunks, dim)

    @accepts_axis
    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.unbind(self, dim)

    def tril(self, diagonal: int = 0) -> Tensor:
        return ops.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return ops.triu(self, diagonal)

    def tril_(self, diagonal: int = 0) -> Tensor:
        """``tril`` in place."""
        return self._inplace("tril_", lambda t: ops.tril(t, diagonal))

    def triu_(self, diagonal: int = 0) -> Tensor:
        """``triu`` in place."""
        return self._inplace("triu_", lambda t: ops.triu(t, diagonal))

    def diagonal_scatter(
        self, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
    ) -> Tensor:
        return ops.diagonal_scatter(self, src, offset, dim1, dim2)

    # -- issue 16: op breadth (each one line into ops) ------------------------------------------

    def __mod__(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(other, self)

    def remainder(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        return ops.floor_divide(self, other)

    def logaddexp(self, other: Any) -> Tensor:
        return ops.logaddexp(self, other)

    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def rsqrt(self) -> Tensor:
        return ops.rsqrt(self)

    def erf(self) -> Tensor:
        return ops.erf(self)

    def log2(self) -> Tensor:
        return ops.log2(self)

    def exp2(self) -> Tensor:
        return ops.exp2(self)

    def sign(self) -> Tensor:
        return ops.sign(self)

    def floor(self) -> Tensor:
        return ops.floor(self)

    def ceil(self) -> Tensor:
        return ops.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return ops.round(self, decimals)

    def trunc(self) -> Tensor:
        return ops.trunc(self)

    def isnan(self) -> Tensor:
        return ops.isnan(self)

    def isinf(self) -> Tensor:
        return ops.isinf(self)

    def isfinite(self) -> Tensor:
        return ops.isfinite(self)

    def isclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def allclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> bool:
        return ops.allclose(self, other, rtol, atol, equal_nan)

    @accepts_axis
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.prod(self, dim, keepdim, dtype=dtype)

    @accepts_axis
    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        return ops.cumsum(self, dim, dtype=dtype)

    @accepts_axis
    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.any(self, dim, keepdim)

    @accepts_axis
    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return ops.all(self, dim, keepdim)

    @accepts_axis
    def gather(self, dim: int, index: Tensor) -> Tensor:
        return ops.gather(self, dim, index)

    @accepts_axis
    def index_select(self, dim: int, index: Tensor) -> Tensor:
        return ops.index_select(self, dim, index)

    @accepts_axis
    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return ops.take_along_dim(self, indices, dim)

    @accepts_axis
    def scatter(
        self,
        dim: int,
        index: Tensor,
        src: Any = None,
        value: Any = None,
        *,
        reduce: str | None = None,
    ) -> Tensor:
        return ops.scatter(self, dim, index, src, value, reduce=reduce)

    @accepts_axis
    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return ops.scatter_add(self, dim, index, src)

    @accepts_axis
    def scatter_reduce(
        self, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        return ops.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """``scatter_add`` in place."""
        return self._inplace("scatter_add_", lambda t: ops.scatter_add(t, dim, index, src))

    def scatter_reduce_(
        self, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        """``scatter_reduce`` in place."""
        return self._inplace(
            "scatter_reduce_",
            lambda t: ops.scatter_reduce(t, dim, index, src, reduce, include_self=include_self),
        )

    def masked_select(self, mask: Tensor) -> Tensor:
        return ops.masked_select(self, mask)

    def nonzero(self, as_tuple: bool = False) -> Any:
        return ops.nonzero(self, as_tuple)

    @accepts_axis
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return ops.sort(self, dim, descending, stable)

    @accepts_axis
    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return ops.argsort(self, dim, descending, stable)

    @accepts_axis
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
        return ops.topk(self, k, dim, largest, sorted)

    def flip(self, *dims: Any) -> Tensor:
        return ops.flip(self, dims[0] if len(dims) == 1 else dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return ops.roll(self, shifts, dims)

    def repeat(self, *sizes: Any) -> Tensor:
        return ops.repeat(self, *sizes)

    @accepts_axis
    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Tensor:
        return ops.repeat_interleave(self, repeats, dim)

    @accepts_axis
    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return ops.unflatten(self, dim, sizes)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return ops.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal: int = 0) -> Tensor:
        return ops.diag(self, diagonal)

    # -- PyTorch breadth (ops/mathops.py, ops/statistics.py): elementwise math, comparisons,
    # reductions and scans; each calls its op, the in-place forms through _inplace

    def log1p(self) -> Tensor:
        return ops.log1p(self)

    def expm1(self) -> Tensor:
        return ops.expm1(self)

    def log10(self) -> Tensor:
        return ops.log10(self)

    def tan(self) -> Tensor:
        return ops.tan(self)

    def sinh(self) -> Tensor:
        return ops.sinh(self)

    def cosh(self) -> Tensor:
        return ops.cosh(self)

    def asin(self) -> Tensor:
        return ops.asin(self)

    def acos(self) -> Tensor:
        return ops.acos(self)

    def atan(self) -> Tensor:
        return ops.atan(self)

    def asinh(self) -> Tensor:
        return ops.asinh(self)

    def acosh(self) -> Tensor:
        return ops.acosh(self)

    def atanh(self) -> Tensor:
        return ops.atanh(self)

    def reciprocal(self) -> Tensor:
        return ops.reciprocal(self)

    def square(self) -> Tensor:
        return ops.square(self)

    def sgn(self) -> Tensor:
        return ops.sgn(self)

    def frac(self) -> Tensor:
        return ops.frac(self)

    def erfc(self) -> Tensor:
        return ops.erfc(self)

    def erfinv(self) -> Tensor:
        return ops.erfinv(self)

    def sinc(self) -> Tensor:
        return ops.sinc(self)

    def deg2rad(self) -> Tensor:
        return ops.deg2rad(self)

    def rad2deg(self) -> Tensor:
        return ops.rad2deg(self)

    def signbit(self) -> Tensor:
        return ops.signbit(self)

    def isposinf(self) -> Tensor:
        return ops.isposinf(self)

    def isneginf(self) -> Tensor:
        return ops.isneginf(self)

    arcsin, arccos, arctan = asin, acos, atan  # PyTorch's aliases
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def lgamma(self) -> Tensor:
        return ops.lgamma(self)

    def digamma(self) -> Tensor:
        return ops.digamma(self)

    def polygamma(self, n: int) -> Tensor:
        return ops.polygamma(n, self)

    def lgamma_(self) -> Tensor:
        return self._inplace("lgamma_", ops.lgamma)

    def digamma_(self) -> Tensor:
        return self._inplace("digamma_", ops.digamma)

    def logit(self, eps: float | None = None) -> Tensor:
        return ops.logit(self, eps)

    def nan_to_num(
        self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> Tensor:
        return ops.nan_to_num(self, nan, posinf, neginf)

    def atan2(self, other: Any) -> Tensor:
        return ops.atan2(self, other)

    def hypot(self, other: Any) -> Tensor:
        return ops.hypot(self, other)

    def fmod(self, other: Any) -> Tensor:
        return ops.fmod(self, other)

    def fmax(self, other: Any) -> Tensor:
        return ops.fmax(self, other)

    def fmin(self, other: Any) -> Tensor:
        return ops.fmin(self, other)

    def copysign(self, other: Any) -> Tensor:
        return ops.copysign(self, other)

    def float_power(self, other: Any) -> Tensor:
        return ops.float_power(self, other)

    def logaddexp2(self, other: Any) -> Tensor:
        return ops.logaddexp2(self, other)

    def xlogy(self, other: Any) -> Tensor:
        return ops.xlogy(self, other)

    def true_divide(self, other: Any) -> Tensor:
        return ops.true_divide(self, other)

    def ldexp(self, other: Any) -> Tensor:
        return ops.ldexp(self, other)

    def eq(self, other: Any) -> Tensor:
        return ops.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return ops.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return ops.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return ops.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return ops.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return ops.ge(self, other)

    def logical_and(self, other: Any) -> Tensor:
        return ops.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return ops.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return ops.logical_xor(self, other)

    arctan2 = atan2  # PyTorch's aliases
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def heaviside(self, values: Any) -> Tensor:
        return ops.heaviside(self, values)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        return ops.lerp(self, end, weight)

    def equal(self, other: Tensor) -> bool:
        return ops.equal(self, other)

    def log1p_(self) -> Tensor:
        return self._inplace("log1p_", ops.log1p)

    def expm1_(self) -> Tensor:
        return self._inplace("expm1_", ops.expm1)

    def log10_(self) -> Tensor:
        return self._inplace("log10_", ops.log10)

    def tan_(self) -> Tensor:
        return self._inplace("tan_", ops.tan)

    def sinh_(self) -> Tensor:
        return self._inplace("sinh_", ops.sinh)

    def cosh_(self) -> Tensor:
        return self._inplace("cosh_", ops.cosh)

    def asin_(self) -> Tensor:
        return self._inplace("asin_", ops.asin)

    def acos_(self) -> Tensor:
        return self._inplace("acos_", ops.acos)

    def atan_(self) -> Tensor:
        return self._inplace("atan_", ops.atan)

    def asinh_(self) -> Tensor:
        return self._inplace("asinh_", ops.asinh)

    def acosh_(self) -> Tensor:
        return self._inplace("acosh_", ops.acosh)

    def atanh_(self) -> Tensor:
        return self._inplace("atanh_", ops.atanh)

    def reciprocal_(self) -> Tensor:
        return self._inplace("reciprocal_", ops.reciprocal)

    def square_(self) -> Tensor:
        return self._inplace("square_", ops.square)

    def sgn_(self) -> Tensor:
        return self._inplace("sgn_", ops.sgn)

    def frac_(self) -> Tensor:
        return self._inplace("frac_", ops.frac)

    def erfc_(self) -> Tensor:
        return self._inplace("erfc_", ops.erfc)

    def erfinv_(self) -> Tensor:
        return self._inplace("erfinv_", ops.erfinv)

    def sinc_(self) -> Tensor:
        return self._inplace("sinc_", ops.sinc)

    def deg2rad_(self) -> Tensor:
        return self._inplace("deg2rad_", ops.deg2rad)

    def rad2deg_(self) -> Tensor:
        return self._inplace("rad2deg_", ops.rad2deg)

    def logit_(self, eps: float | None = None) -> Tensor:
        return self._inplace("logit_", lambda t: ops.logit(t, eps))

    def nan_to_num_(
        self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> Tensor:
        return self._inplace("nan_to_num_", lambda t: ops.nan_to_num(t, nan, posinf, neginf))

    def atan2_(self, other: Any) -> Tensor:
        return self._inplace("atan2_", lambda t: ops.atan2(t, other))

    def hypot_(self, other: Any) -> Tensor:
        return self._inplace("hypot_", lambda t: ops.hypot(t, other))

    def fmod_(self, other: Any) -> Tensor:
        return self._inplace("fmod_", lambda t: ops.fmod(t, other))

    def copysign_(self, other: Any) -> Tensor:
        return self._inplace("copysign_", lambda t: ops.copysign(t, other))

    def xlogy_(self, other: Any) -> Tensor:
        return self._inplace("xlogy_", lambda t: ops.xlogy(t, other))

    def true_divide_(self, other: Any) -> Tensor:
        return self._inplace("true_divide_", lambda t: ops.true_divide(t, other))

    def ldexp_(self, other: Any) -> Tensor:
        return self._inplace("ldexp_", lambda t: ops.ldexp(t, other))

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        return self._inplace("lerp_", lambda t: ops.lerp(t, end, weight))

    @accepts_axis
    def nansum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.nansum(self, dim, keepdim, dtype=dtype)

    @accepts_axis
    def nanmean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        return ops.nanmean(self, dim, keepdim, dtype=dtype)

    @accepts_axis
    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        return ops.cumprod(self, dim, dtype=dtype)

    @accepts_axis
    def cummax(self, dim: int) -> Any:
        return ops.cummax(self, dim)

    @accepts_axis
    def cummin(self, dim: int) -> Any:
        return ops.cummin(self, dim)

    @accepts_axis
    def logcumsumexp(self, dim: int) -> Tensor:
        return ops.logcumsumexp(self, dim)

    @accepts_axis
    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.median(self, dim, keepdim)

    @accepts_axis
    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.nanmedian(self, dim, keepdim)

    def quantile(
        self,
        q: Any,
        dim: int | None = None,
        keepdim: bool = False,
        *,
        interpolation: str = "linear",
    ) -> Tensor:
        return ops.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(
        self,
        q: Any,
        dim: int | None = None,
        keepdim: bool = False,
        *,
        interpolation: str = "linear",
    ) -> Tensor:
        return ops.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return ops.count_nonzero(self, dim)

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> Any:
        return ops.aminmax(self, dim=dim, keepdim=keepdim)

    def diff(
        self, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None
    ) -> Tensor:
        return ops.diff(self, n, dim, prepend, append)

    # -- linear algebra, shape and creation breadth (ops/linalg.py, ops/shape_breadth.py) ------

    def dot(self, other: Tensor) -> Tensor:
        return ops.dot(self, other)

    def vdot(self, other: Tensor) -> Tensor:
        return ops.vdot(self, other)

    def inner(self, other: Tensor) -> Tensor:
        return ops.inner(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        return ops.outer(self, vec2)

    def ger(self, vec2: Tensor) -> Tensor:
        return ops.outer(self, vec2)

    def mv(self, vec: Tensor) -> Tensor:
        return ops.mv(self, vec)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return ops.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return ops.addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        return ops.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return ops.addcdiv(self, tensor1, tensor2, value=value)

    def addcmul_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return self._inplace("addcmul_", lambda t: ops.addcmul(t, tensor1, tensor2, value=value))

    def addcdiv_(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        return self._inplace("addcdiv_", lambda t: ops.addcdiv(t, tensor1, tensor2, value=value))

    def kron(self, other: Tensor) -> Tensor:
        return ops.kron(self, other)

    def trace(self) -> Tensor:
        return ops.trace(self)

    def norm(
        self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
    ) -> Tensor:
        return ops.norm(self, p, dim, keepdim, dtype)

    def dist(self, other: Tensor, p: Any = 2) -> Tensor:
        return ops.dist(self, other, p)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        return ops.cross(self, other, dim)

    def broadcast_to(self, size: Any) -> Tensor:
        return ops.broadcast_to(self, size)

    def ravel(self) -> Tensor:
        return ops.ravel(self)

    def tile(self, *dims: Any) -> Tensor:
        return ops.tile(self, dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return ops.tensor_split(self, indices_or_sections, dim)

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        return ops.dsplit(self, indices_or_sections)

    def fliplr(self) -> Tensor:
        return ops.fliplr(self)

    def flipud(self) -> Tensor:
        return ops.flipud(self)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Tensor:
        return ops.rot90(self, k, dims)

    def select(self, dim: int, index: int) -> Tensor:
        return ops.select(self, dim, index)

    def narrow_copy(self, dim: int, start: int, length: int) -> Tensor:
        return ops.narrow_copy(self, dim, start, length)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return ops.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset: int = 0) -> Tensor:
        return ops.diagflat(self, offset)

    def take(self, index: Tensor) -> Tensor:
        return ops.take(self, index)

    def put(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        return ops.put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
        """``put`` in place."""
        return self._inplace("put_", lambda t: ops.put(t, index, source, accumulate))

    def reshape_as(self, other: Tensor) -> Tensor:
        return ops.reshape(self, other.shape)

    # memory layout, in elements as PyTorch (the array's byte strides divided by the item size)

    def element_size(self) -> int:
        """Bytes per element."""
        return self.array.itemsize

    @property
    def itemsize(self) -> int:
        return self.array.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the elements take (``numel() * element_size()``)."""
        return self.array.nbytes

    def stride(self, dim: int | None = None) -> Any:
        """The step in elements between neighbours along each dim (a tuple), or along ``dim``."""
        strides = backend.element_strides(self.array)
        return strides if dim is None else strides[ops._util.norm_dim(dim, self.ndim, self.shape)]

    def storage_offset(self) -> int:
        """Where this tensor's first element lies in the memory it views, in elements."""
        return backend.element_offset(self.array)

    # new tensors of this tensor's dtype and device unless given (torch.Tensor.new_*)

    def _new(self, size: Any, value: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
        size = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        dtype = self.dtype if dtype is None else checked_dtype(dtype)
        device = self.device if device is None else backend.normalize_device(device)
        if value is not None and not (value == 0 or value == 1):
            value = promotion.checked_scalar("new_full", value, dtype)
        xp = backend.module_for_device(device)
        shape = tuple(operator.index(n) for n in size)  # ints, never a truncated float
        array = xp.empty(shape, dtype=dtype) if value is None else xp.full(shape, value, dtype)
        return Tensor(backend.to_device(array, device), requires_grad=requires_grad)

    def new_zeros(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return self._new(size, 0, dtype, device, requires_grad)

    def new_ones(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return self._new(size, 1, dtype, device, requires_grad)

    def new_empty(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        return self._new(size, None, dtype, device, requires_grad)

    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        return self._new((size,), fill_value, dtype, device, requires_grad)

    def new_tensor(
        self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A copy of ``data`` (never in a graph) in this tensor's dtype and device unless given."""
        data = data.detach().array if isinstance(data, Tensor) else data
        new = Tensor(
            data,
            self.dtype if dtype is None else dtype,
            requires_grad,
            self.device if device is None else device,
        )
        if new.array is data:
            new.array = new.array.copy()
        return new

    # random fills in place, under the in-place machinery (version counter, history)

    def _fill_random_(self, what: str, draw: Callable[[Any], Any]) -> Tensor:
        """Overwrite every element with ``draw(dtype)``, an array of this shape and device; in a
        recorded graph the earlier values get a zero gradient, as after fill_."""
        if self.dtype.kind == "f":  # NumPy draws float32 and float64 only
            wide = backend.float64 if self.dtype == backend.float64 else backend.float32
            values = draw(wide).astype(self.dtype, copy=False)
        else:
            values = draw(self.dtype)
        fresh = Tensor._wrap(values)
        if not (self.requires_grad and autograd.is_grad_enabled()):
            return self._inplace(what, lambda t: fresh)
        return self._inplace(what, lambda t: ops.where(self._all_true(), fresh, t))

    def _uniform(self, dtype: Any) -> Any:
        """Uniform samples in [0, 1) of this shape, on this device."""
        return backend.uniform(self.shape, dtype, self.device)

    def _require_float_fill(self, what: str) -> None:
        if self.dtype.kind != "f":
            raise TypeError(f"{what}: not implemented for {self.dtype} (shape {self.shape})")

    def uniform_(self, from_: float = 0.0, to: float = 1.0) -> Tensor:
        """Fill with uniform samples from [from_, to) in place."""
        self._require_float_fill("uniform_")
        if not from_ <= to:
            raise ValueError(f"uniform_: expects from <= to, got from={from_} to={to}")
        return self._fill_random_("uniform_", lambda d: self._uniform(d) * (to - from_) + from_)

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """Fill with normal samples of ``mean`` and ``std`` in place."""
        self._require_float_fill("normal_")
        if not std >= 0:
            raise ValueError(f"normal_: expects std >= 0.0, but found std {std}")
        normal = backend.normal
        return self._fill_random_(
            "normal_", lambda d: normal(self.shape, d, self.device) * std + mean
        )

    def exponential_(self, lambd: float = 1.0) -> Tensor:
        """Fill with exponential samples of rate ``lambd`` in place: -log(1 - u) / lambd."""
        self._require_float_fill("exponential_")
        if not lambd > 0:
            raise ValueError(f"exponential_: expects lambd > 0.0, but found lambd={lambd}")
        log1p = backend.array_module(self.array).log1p
        return self._fill_random_("exponential_", lambda d: -log1p(-self._uniform(d)) / lambd)

    def bernoulli_(self, p: Any = 0.5) -> Tensor:
        """Fill with 1 with probability ``p`` (a number or a tensor broadcast to this shape),
        else 0, in place; any dtype."""
        probability = p.array if isinstance(p, Tensor) else p
        if isinstance(p, Tensor):
            ops._util.broadcast_shape("bernoulli_", "p and self, shapes", p.shape, self.shape)
        elif not 0 <= p <= 1:
            raise ValueError(f"bernoulli_: expects 0 <= p <= 1, got p={p}")
        u = self._uniform(backend.float64)
        return self._fill_random_("bernoulli_", lambda d: (u < probability).astype(d))

    def random_(self, from_: int | None = None, to: int | None = None) -> Tensor:
        """Fill with integers from [from_, to) in place: ``random_(to)`` is [0, to);
        ``random_()`` spans the dtype (floats: [0, 2^mantissa], every value exact)."""
        if to is None:
            from_, to = (0, from_) if from_ is not None else (0, None)
        if to is None:
            kind = self.dtype
            if kind.kind == "f":
                to = 2 ** {2: 11, 4: 24, 8: 53}[kind.itemsize] + 1
            elif kind.kind == "b":
                to = 2
            else:
                to = int(backend.numpy_module().iinfo(kind).max) + 1
        if not from_ < to:
            raise ValueError(f"random_: expects from < to, got from={from_} to={to}")
        self._check_random_bounds(from_, to)
        ints = backend.integers(from_, to, self.shape, backend.int64, self.device)
        return self._fill_random_("random_", lambda d: ints.astype(d))

    def _check_random_bounds(self, from_: int, to: int) -> None:
        """Refuse a ``random_`` range an integer or bool dtype cannot hold (int8 with to=300
        would wrap the draws), as PyTorch."""
        if self.dtype.kind not in "iub":
            return
        low, high = (0, 1) if self.dtype.kind == "b" else promotion.dtype_range(self.dtype)
        for what, value in (("from", from_), ("to - 1", to - 1)):
            if not low <= value <= high:
                raise ScalarOverflowError(
                    f"random_: {what} = {value} is out of bounds for {self.dtype}, which holds "
                    f"{low} to {high} (tensor of shape {tuple(self.shape)}), as in PyTorch"
                )

    # -- PyTorch breadth (ops/search.py): sorted search, counting, order statistics, scatters;
    # each calls its op, the in-place forms through _inplace

    @property
    def H(self) -> Tensor:  # noqa: N802
        """The transpose of a matrix (real tensors: no conjugate); a 0-d tensor as it is, other
        dims refused (use ``mH`` for batches), as PyTorch."""
        if self.array.ndim not in (0, 2):
            raise ShapeError(
                f"H is only supported on matrices (2-D tensors), got shape {self.shape}; "
                "for batches of matrices use mH"
            )
        return self.mT

    @property
    def mH(self) -> Tensor:  # noqa: N802
        """The last two dims swapped (real tensors: ``mT``), as PyTorch."""
        return self.mT

    def logical_not(self) -> Tensor:
        return ops.search.logical_not(self)

    def logical_not_(self) -> Tensor:
        return self._inplace("logical_not_", lambda t: ops.cast(ops.search.logical_not(t), t.dtype))

    def unique(
        self,
        sorted: bool = True,  # noqa: A002
        return_inverse: bool = False,
        return_counts: bool = False,
        dim: int | None = None,
    ) -> Any:
        return ops.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(
        self, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
    ) -> Any:
        return ops.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        return ops.bincount(self, weights, minlength)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
        return ops.histc(self, bins, min, max)

    def argwhere(self) -> Tensor:
        return ops.argwhere(self)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        return ops.kthvalue(self, k, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> Any:
        return ops.mode(self, dim, keepdim)

    def msort(self) -> Tensor:
        return ops.msort(self)

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return ops.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return self._inplace("index_copy_", lambda t: ops.index_copy(t, dim, index, source))

    def index_put(
        self, indices: tuple[Tensor, ...], values: Any, accumulate: bool = False
    ) -> Tensor:
        return ops.index_put(self, indices, values, accumulate)

    def index_put_(
        self, indices: tuple[Tensor, ...], values: Any, accumulate: bool = False
    ) -> Tensor:
        return self._inplace("index_put_", lambda t: ops.index_put(t, indices, values, accumulate))

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        return ops.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        return self._inplace("masked_scatter_", lambda t: ops.masked_scatter(t, mask, source))

    def slice_scatter(
        self,
        src: Tensor,
        dim: int = 0,
        start: int | None = None,
        end: int | None = None,
        step: int = 1,
    ) -> Tensor:
        return ops.slice_scatter(self, src, dim, start, end, step)

    def select_scatter(self, src: Tensor, dim: int, index: int) -> Tensor:
        return ops.select_scatter(self, src, dim, index)

    def renorm(self, p: float, dim: int, maxnorm: float) -> Tensor:
        return ops.renorm(self, p, dim, maxnorm)

    def renorm_(self, p: float, dim: int, maxnorm: float) -> Tensor:
        return self._inplace("renorm_", lambda t: ops.renorm(t, p, dim, maxnorm))

    def gcd(self, other: Tensor) -> Tensor:
        return ops.gcd(self, other)

    def gcd_(self, other: Tensor) -> Tensor:
        return self._inplace("gcd_", lambda t: ops.cast(ops.gcd(t, other), t.dtype))

    def lcm(self, other: Tensor) -> Tensor:
        return ops.lcm(self, other)

    def lcm_(self, other: Tensor) -> Tensor:
        return self._inplace("lcm_", lambda t: ops.cast(ops.lcm(t, other), t.dtype))

    def cov(
        self,
        *,
        correction: int = 1,
        fweights: Tensor | None = None,
        aweights: Tensor | None = None,
    ) -> Tensor:
        return ops.cov(self, correction=correction, fweights=fweights, aweights=aweights)

    def corrcoef(self) -> Tensor:
        return ops.corrcoef(self)

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        return ops.multinomial(self, num_samples, replacement, generator=generator)

    # linear algebra (minigrad/ops/decompositions.py, matrix_functions.py): (*, n, n) matrices
    def det(self) -> Tensor:
        return ops.decompositions.det(self)

    def logdet(self) -> Tensor:
        return ops.matrix_functions.logdet(self)

    def slogdet(self) -> Any:
        return ops.decompositions.slogdet(self)

    def inverse(self) -> Tensor:
        return ops.matrix_functions.inverse(self)

    def pinverse(self, rcond: float = 1e-15) -> Tensor:
        return ops.matrix_functions.pinverse(self, rcond)

    def matrix_power(self, n: int) -> Tensor:
        return ops.matrix_functions.matrix_power(self, n)

    def matrix_exp(self) -> Tensor:
        return ops.matrix_functions.matrix_exp(self)

    def cholesky_solve(self, input2: Tensor, upper: bool = False) -> Tensor:
        """``cholesky_solve(self, input2, upper)``: self is B, input2 the Cholesky factor."""
        return ops.lu.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper: bool = False) -> Tensor:
        return ops.lu.cholesky_inverse(self, upper)

    # -- PyTorch's other spellings and small methods (session 12) --------------------------------
    # predicates and sizes

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self.array.dtype.kind == "c"

    def is_signed(self) -> bool:
        """Whether the dtype holds negative values (bool and uint8 do not)."""
        return self.array.dtype.kind in "if"

    @property
    def is_cpu(self) -> bool:
        return self.device == "cpu"

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def get_device(self) -> int:
        """The CUDA device's index, -1 on the CPU (PyTorch's)."""
        device = self.device
        return int(device.partition(":")[2] or 0) if device.startswith("cuda") else -1

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor after ``retain_grad()``."""
        return autograd._retains_grad(self)  # noqa: SLF001 (the engine's own test)

    def nelement(self) -> int:
        return self.numel()

    def ndimension(self) -> int:
        return self.array.ndim

    def is_same_size(self, other: Tensor) -> bool:
        return tuple(self.shape) == tuple(other.shape)

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor; more or fewer elements raise, as PyTorch's."""
        if self.array.size != 1:
            what = "no values" if self.array.size == 0 else "more than one value"
            raise RuntimeError(f"is_nonzero: a tensor with {what} (shape {tuple(self.shape)})")
        return bool(self.array.reshape(()))

    def isreal(self) -> Tensor:
        """True everywhere for a real dtype: a bool tensor of this shape."""
        return Tensor._wrap(backend.array_module(self.array).ones(self.shape, dtype=backend.bool_))

    # aliases: the same op under PyTorch's second name

    def absolute(self) -> Tensor:
        return self.abs()

    def absolute_(self) -> Tensor:
        return self.abs_()

    def negative(self) -> Tensor:
        return self.neg()

    def negative_(self) -> Tensor:
        return self.neg_()

    def positive(self) -> Tensor:
        """This tensor itself (PyTorch's; a bool tensor refuses, as unary ``+``)."""
        if self.array.dtype == backend.bool_:
            raise TypeError("positive: not supported for bool tensors")
        return self

    def subtract(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self.sub(other, alpha)

    def subtract_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self.sub_(other, alpha)

    def multiply(self, other: Any) -> Tensor:
        return self.mul(other)

    def multiply_(self, other: Any) -> Tensor:
        return self.mul_(other)

    def divide(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return self.div(other, rounding_mode)

    def divide_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return self.div_(other, rounding_mode)

    def fix(self) -> Tensor:
        return self.trunc()

    def fix_(self) -> Tensor:
        return self.trunc_()

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        return self.clamp(min=min)

    def clamp_min_(self, min: Any) -> Tensor:  # noqa: A002
        return self.clamp_(min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return self.clamp(max=max)

    def clamp_max_(self, max: Any) -> Tensor:  # noqa: A002
        return self.clamp_(max=max)

    def bitwise_and(self, other: Any) -> Tensor:
        return self & other

    def bitwise_or(self, other: Any) -> Tensor:
        return self | other

    def bitwise_xor(self, other: Any) -> Tensor:
        return self ^ other

    def bitwise_not(self) -> Tensor:
        return ~self

    def bitwise_left_shift(self, other: Any) -> Tensor:
        return self << other

    def bitwise_right_shift(self, other: Any) -> Tensor:
        return self >> other

    def where(self, condition: Tensor, y: Any) -> Tensor:
        """``where(condition, self, y)``."""
        return ops.where(condition, self, y)

    def split_with_sizes(self, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        return self.split(list(split_sizes), dim)

    # in-place forms of out-of-place ops (each through the one in-place path)

    def round_(self, *, decimals: int = 0) -> Tensor:
        return self._inplace("round_", lambda t: t.round(decimals))

    def cumsum_(self, dim: int) -> Tensor:
        return self._inplace("cumsum_", lambda t: t.cumsum(dim).to(t.dtype))

    def cumprod_(self, dim: int) -> Tensor:
        return self._inplace("cumprod_", lambda t: t.cumprod(dim).to(t.dtype))

    def _compare_(self, what: str, other: Any, name: str) -> Tensor:
        """A comparison written back as 0s and 1s of this tensor's dtype (PyTorch's ``lt_``)."""
        return self._inplace(what, lambda t: ops.compare(t, other, name).to(t.dtype))

    def eq_(self, other: Any) -> Tensor:
        return self._compare_("eq_", other, "equal")

    def ne_(self, other: Any) -> Tensor:
        return self._compare_("ne_", other, "not_equal")

    def lt_(self, other: Any) -> Tensor:
        return self._compare_("lt_", other, "less")

    def le_(self, other: Any) -> Tensor:
        return self._compare_("le_", other, "less_equal")

    def gt_(self, other: Any) -> Tensor:
        return self._compare_("gt_", other, "greater")

    def ge_(self, other: Any) -> Tensor:
        return self._compare_("ge_", other, "greater_equal")

    # windows, sums to a shape, the old linear algebra spellings

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of ``size`` elements along ``dimension``, ``step`` apart: that dim
        becomes the windows' count, (n - size) // step + 1, and a last dim of ``size`` is
        added (PyTorch's ``Tensor.unfold``). Differentiable (a gather); a copy, not a view
        (docs/guide/differences.md)."""
        dim = ops._util.norm_dim(dimension, max(self.ndim, 1), self.shape or (1,))
        n = self.shape[dim] if self.ndim else 1
        if not 0 <= size <= n or step <= 0:
            raise ValueError(
                f"unfold: size {size} must be in [0, {n}] (dim {dimension} of shape "
                f"{tuple(self.shape)}) and step {step} > 0"
            )
        source = self if self.ndim else self.reshape(1)
        xp = backend.array_module(self.array)
        starts = xp.arange(0, n - size + 1, step)
        index = (starts[:, None] + xp.arange(size)).reshape(-1)  # (windows * size,)
        picked = source.index_select(dim, Tensor._wrap(index))
        shape = source.shape[:dim] + (len(starts), size) + source.shape[dim + 1 :]
        windows = picked.reshape(shape).movedim(dim + 1, -1)
        return windows if self.ndim else windows.reshape(size)  # a 0-d tensor: its one window

    def sum_to_size(self, *size: Any) -> Tensor:
        """The sum over the dims this tensor was broadcast along from ``size`` (which must
        broadcast to this shape): the reverse of ``expand``."""
        shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
        try:
            expanded = ops._util.broadcast_shape("sum_to_size", "shapes", shape, self.shape)
        except ValueError:
            expanded = None
        if expanded != tuple(self.shape):
            raise ValueError(
                f"sum_to_size: size {shape} is not expandable to this shape {tuple(self.shape)}"
            )
        lead = self.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and self.shape[lead + i] != 1
        )
        out = self.sum(dims, keepdim=True) if dims else self
        return out.reshape(shape)

    def qr(self, some: bool = True) -> Any:
        """``torch.qr``: the reduced QR, or the complete one when ``some=False``."""
        return ops.decompositions.qr(self, "reduced" if some else "complete")

    def cholesky(self, upper: bool = False) -> Tensor:
        return ops.decompositions.cholesky(self, upper=upper)

    def svd(self, some: bool = True, compute_uv: bool = True) -> Any:
        """``torch.svd``: (U, S, V) with A = U diag(S) V^T, V itself (not its transpose);
        ``some=False`` gives the full U and V, ``compute_uv=False`` zero U and V."""
        if not compute_uv:
            xp = backend.array_module(self.array)
            m, n = self.shape[-2:]
            s = ops.decompositions.svdvals(self)
            zeros = [Tensor._wrap(xp.zeros((*self.shape[:-2], k, k), self.dtype)) for k in (m, n)]
            return return_types.svd(zeros[0], s, zeros[1])
        u, s, vh = ops.decompositions.svd(self, full_matrices=not some)
        return return_types.svd(u, s, vh.mT)

    def triangular_solve(
        self,
        A: Tensor,  # noqa: N803 (PyTorch's name)
        upper: bool = True,
        transpose: bool = False,
        unitriangular: bool = False,
    ) -> Any:
        """``torch.triangular_solve(self, A, ...)``: (solution, cloned_coefficient)."""
        return ops.matrix_functions.triangular_solve(self, A, upper, transpose, unitriangular)

    def geqrf(self) -> Any:
        """LAPACK's compact QR: (a, tau) (no gradient)."""
        return ops.decompositions.geqrf(self)

    def orgqr(self, input2: Tensor) -> Tensor:
        """``linalg.householder_product(self, input2)``."""
        return ops.matrix_functions.householder_product(self, input2)

    def ormqr(
        self, input2: Tensor, input3: Tensor, left: bool = True, transpose: bool = False
    ) -> Tensor:
        """``torch.ormqr(self, input2, input3, left, transpose)``: input3 times Q."""
        return ops.matrix_functions.ormqr(self, input2, input3, left, transpose)

    def lu(self, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
        """``torch.lu``: (A_LU, pivots), and LAPACK's infos when ``get_infos``."""
        factors = ops.lu.lu_factor_ex(self, pivot=pivot, check_errors=not get_infos)
        return factors[:3] if get_infos else factors[:2]

    def addr(self, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """``beta * self + alpha * outer(vec1, vec2)``."""
        return ops.linalg.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def adjoint(self) -> Tensor:
        """The (conjugate) transpose of the last two dims, a view."""
        if self.ndim < 2:
            raise ValueError(
                f"adjoint: the tensor must have at least 2 dims, got shape {tuple(self.shape)}"
            )
        return self.mH

    def lu_solve(self, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:  # noqa: N803
        """``torch.lu_solve(b, LU_data, LU_pivots)``: X with A X = self."""
        return ops.lu.lu_solve(LU_data, LU_pivots, self)

    # random fills (as uniform_ and normal_)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> Tensor:
        """0s and 1s drawn with probability ``self`` (or ``p``), of this dtype."""
        if generator is not None:
            raise NotImplementedError("bernoulli: generator= is not supported; seed minigrad")
        probability = self if p is None else p
        out = Tensor._wrap(backend.array_module(self.array).zeros_like(self.array))
        return out.bernoulli_(probability)

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0) -> Tensor:
        """Fill with Cauchy samples: median + sigma tan(pi (u - 1/2))."""
        self._require_float_fill("cauchy_")
        tan = backend.array_module(self.array).tan
        return self._fill_random_(
            "cauchy_", lambda d: median + sigma * tan(math.pi * (self._uniform(d) - 0.5))
        )

    def log_normal_(self, mean: float = 1.0, std: float = 2.0) -> Tensor:
        """Fill with exp of normal samples of ``mean`` and ``std``."""
        self._require_float_fill("log_normal_")
        if not std > 0:
            raise ValueError(f"log_normal_: expects std > 0.0, got std={std}")
        exp, normal = backend.array_module(self.array).exp, backend.normal
        return self._fill_random_(
            "log_normal_", lambda d: exp(normal(self.shape, d, self.device) * std + mean)
        )

    def geometric_(self, p: float) -> Tensor:
        """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
        if not 0 < p < 1:
            raise ValueError(f"geometric_: expects p in (0, 1), got p={p}")
        xp = backend.array_module(self.array)
        return self._fill_random_(
            "geometric_",
            lambda d: xp.ceil(xp.log1p(-self._uniform(backend.float64)) / math.log1p(-p)).astype(d),
        )


_NDARRAY = backend.ARRAY_TYPES[0]


#: The dtypes a tensor may have (as ``nn.save`` stores them): no complex, no float128.
SUPPORTED_DTYPES = frozenset(
    backend.numpy_module().dtype(name)
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
    + ("float16", "float32", "float64")
)
_CANONICAL = {dtype: dtype for dtype in SUPPORTED_DTYPES}
DTYPES_HELP = "tensors are bool, int8-64, uint8-64, float16, float32 or float64"


def checked_dtype(dtype: Any) -> Any:
    """``dtype`` (a NumPy dtype, its name, a Python type...) as a NumPy dtype a tensor may have.

    Raises:
        TypeError: not a dtype, or one minigrad has no tensors of (complex, float128, object,
            strings).
    """
    try:
        resolved = backend.numpy_module().dtype(dtype)
    except TypeError:
        raise TypeError(f"{dtype!r:.60} is not a dtype ({DTYPES_HELP})") from None
    if not resolved.isnative:  # ">i4" (big-endian) is int32 in memory of our own
        resolved = resolved.newbyteorder("=")
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(f"dtype {resolved} is not supported: {DTYPES_HELP}")
    return _CANONICAL[resolved]  # NumPy's own instance: the ops compare dtypes with ``is``


def to_arguments(device: Any = None, dtype: Any = None) -> tuple[str | None, Any]:
    """``.to``'s arguments, normalized: (device name or None, NumPy dtype or None). A dtype
    given in the device's place is recognized (``t.to(mg.float64)``), and a tensor there
    stands for its device and dtype. ``Tensor.to`` and ``nn.Module.to`` both parse their
    arguments here."""
    if isinstance(device, Tensor):
        if dtype is not None:
            raise TypeError("to(other_tensor) takes its dtype from the tensor: give no dtype")
        device, dtype = device.device, device.dtype
    elif device is not None and not isinstance(device, str) and dtype is None:
        try:
            dtype, device = backend.numpy_module().dtype(device), None
        except TypeError:
            pass
    device = backend.normalize_device(device) if device is not None else None
    dtype = checked_dtype(dtype) if dtype is not None else None
    return device, dtype


def _is_dtype(value: Any) -> bool:
    try:
        backend.numpy_module().dtype(value)
    except TypeError:
        return False
    return True


def _to_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str | None, Any, bool]:
    """(device, dtype, copy) from ``Tensor.to``'s PyTorch forms: ``(dtype, non_blocking,
    copy)``, ``(device, dtype, non_blocking, copy)`` or ``(tensor, non_blocking, copy)``."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(unknown)}")
    names = ["device", "dtype", "non_blocking", "copy"]
    first = args[0] if args else None
    if isinstance(first, Tensor):
        names = ["device", "non_blocking", "copy"]  # to_arguments reads its device and dtype
    elif first is not None and not isinstance(first, str) and _is_dtype(first):
        names = ["dtype", "non_blocking", "copy"]
    if len(args) > len(names):
        raise TypeError(f"to() takes at most {len(names)} positional arguments, got {len(args)}")
    given = dict(zip(names, args))
    twice = sorted(set(given) & set(kwargs))
    if twice:
        raise TypeError(f"to() got multiple values for argument {twice[0]!r}")
    given.update(kwargs)
    device, dtype = to_arguments(given.get("device"), given.get("dtype"))
    return device, dtype, bool(given.get("copy", False))


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing its memory when it already is an array of ``dtype`` on
    ``device`` (``torch.as_tensor``): the way to wrap an array a computation produced.

    Anything else (Python data, another dtype or device) is converted, as ``minigrad.tensor``
    does. The result requires no grad and has no graph; a Tensor is returned as it is when
    nothing needs changing (else its conversion, differentiable, as ``Tensor.to``).
    """
    if isinstance(data, Tensor):
        return data.to(device, dtype)
    if data.__class__ in backend.ARRAY_TYPES and data.dtype in SUPPORTED_DTYPES:
        same_dtype = dtype is None or data.dtype == checked_dtype(dtype)
        same_device = device is None or backend.normalize_device(device) == backend.device_of(data)
        if same_dtype and same_device:
            return Tensor._wrap(data)
    return Tensor(data, dtype=dtype, device=device)


autograd.register_tensor_class(Tensor)

from minigrad import ops  # noqa: E402  (ops build on Tensor; methods look them up at call time)
