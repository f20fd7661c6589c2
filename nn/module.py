"""Parameters, modules and containers, after ``torch.nn.Module``.

A :class:`Module` registers what is assigned to it: a :class:`Parameter` becomes a parameter, a
``Module`` a submodule, and a tensor given to :meth:`Module.register_buffer` a buffer (state that
is saved but not trained, such as a positional-encoding table). Everything else is a plain
attribute. ``state_dict`` and ``load_state_dict`` move that state in and out by dotted names.

Owns: ``Module``, ``Parameter``, the containers, state dicts. May import: minigrad's public
API.
"""

from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from minigrad import autograd, backend
from minigrad.creation import empty
from minigrad.tensor import Tensor, to_arguments
from nn.hooks import RemovableHandle, call_with_hooks


class Parameter(Tensor):
    """A tensor that a :class:`Module` registers as a parameter when assigned to an attribute.

    ``Parameter(t)`` shares ``t``'s array (no copy), as PyTorch does. Parameters are leaves and
    require grad by default.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = backend.asarray([], dtype=backend.DEFAULT_FLOAT, device=backend.default_device())
        if isinstance(data, Tensor):
            if data.grad_fn is not None:
                data = data.detach()
            data = data.array
        device = backend.device_of(data) if hasattr(data, "dtype") else None
        super().__init__(data, requires_grad=requires_grad, device=device)

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        """A new parameter with a copy of the array and the same ``requires_grad``, without
        ``.grad`` (as PyTorch's ``Parameter.__deepcopy__``)."""
        new = type(self)(self.array.copy(), requires_grad=self.requires_grad)
        memo[id(self)] = new
        return new

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# a new floating-point parameter of this shape, uninitialized (the layers' reset_parameters fill it)
def _param(shape: tuple[int, ...], device: Any, dtype: Any) -> Parameter:
    dtype = backend.DEFAULT_FLOAT if dtype is None else backend.numpy_module().dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"parameters must be floating point, got dtype {dtype}")
    return Parameter(empty(*shape, dtype=dtype, device=device))


# each size given by name must be a positive int (not a bool)
def _positive(layer: str, **sizes: Any) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")


_INTERNAL = frozenset({"_parameters", "_buffers", "_non_persistent", "_modules", "training"})


# -- hooks: what Module.__call__ checks lives here, the rest in nn/hooks.py --------------------

_HOOK_TABLES = ("forward_pre", "forward", "backward", "backward_pre")
_hook_ids = itertools.count()
#: How many ModuleHooks objects are alive (made, copied or unpickled, not yet freed): while it is
#: 0, no module anywhere has hooks and Module.__call__ reads nothing of the module (an attribute
#: read costs ~400 instructions there, Module's __getattr__ slowing every one down).
_live_hook_tables = 0


class ModuleHooks:
    """A module's hooks: four tables ``{handle id: hook}`` in calling order, and the ids of
    the forward (pre-)hooks that take the keyword arguments and of the forward hooks called
    even when the forward raises."""

    __slots__ = (*_HOOK_TABLES, "with_kwargs", "always_call")

    def __new__(cls) -> ModuleHooks:  # also reached by copy.deepcopy and pickle
        global _live_hook_tables
        _live_hook_tables += 1
        return super().__new__(cls)

    def __del__(self) -> None:
        global _live_hook_tables
        _live_hook_tables -= 1

    def __init__(self) -> None:
        for table in _HOOK_TABLES:
            setattr(self, table, {})
        self.with_kwargs: set[int] = set()
        self.always_call: set[int] = set()

    def add(self, table: str, hook: Callable[..., Any], prepend: bool) -> int:
        """Put ``hook`` last (first with ``prepend``) in ``table``; returns its handle id."""
        if not callable(hook):
            raise TypeError(f"a module hook must be callable, got {type(hook).__name__}")
        hook_id = next(_hook_ids)
        hooks = getattr(self, table)
        setattr(self, table, {hook_id: hook, **hooks} if prepend else {**hooks, hook_id: hook})
        return hook_id

    def discard(self, table: str, hook_id: int) -> None:
        getattr(self, table).pop(hook_id, None)
        self.with_kwargs.discard(hook_id)
        self.always_call.discard(hook_id)

    def empty(self) -> bool:
        return not any(getattr(self, table) for table in _HOOK_TABLES)


class StateDictError(RuntimeError):
    """``load_state_dict`` found keys, shapes or dtypes that do not match the module."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: subclass it, assign parameters and submodules in
    ``__init__`` (after ``super().__init__()``), and write ``forward``."""

    training: bool
    # made by the first register_*_hook, dropped with the last hook: None means no hooks (a
    # class attribute, so a module without hooks stores nothing)
    _module_hooks: ModuleHooks | None = None

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the training hot path: while no module anywhere has hooks, one check of a global
        if _live_hook_tables and self._module_hooks is not None:
            return call_with_hooks(self, self._module_hooks, args, kwargs)
        return self.forward(*args, **kwargs)

    # -- hooks (nn/hooks.py) --------------------------------------------------------------------

    def _add_hook(
        self, table: str, hook: Callable[..., Any], prepend: bool, **flags: bool
    ) -> RemovableHandle:
        hooks = self.__dict__.get("_module_hooks")
        if hooks is None:
            hooks = ModuleHooks()
        hook_id = hooks.add(table, hook, prepend)
        for flag, on in flags.items():
            if on:
                getattr(hooks, flag).add(hook_id)
        object.__setattr__(self, "_module_hooks", hooks)
        module = weakref.ref(self)  # a handle does not keep its module alive

        def remove(hook_id: int) -> None:
            owner = module()
            hooks = None if owner is None else owner.__dict__.get("_module_hooks")
            if hooks is not None:
                hooks.discard(table, hook_id)
                if hooks.empty():  # back to the one-check path
                    del owner.__dict__["_module_hooks"]

        return RemovableHandle(remove, hook_id)

    def register_forward_pre_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward`` (``hook(module, args, kwargs)``
        with ``with_kwargs=True``), after the ones registered before it (before them with
        ``prepend=True``).

        A hook returning None changes nothing; otherwise its result replaces the positional
        arguments (a non-tuple is wrapped in one), or with ``with_kwargs`` must be a pair
        ``(args, kwargs)`` that replaces both (anything else raises ``RuntimeError``).
        Returns a handle whose ``remove()`` (or the end of a ``with`` block) removes the hook.
        """
        return self._add_hook("forward_pre", hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``
        (``hook(module, args, kwargs, output)`` with ``with_kwargs=True``); ``args`` are the
        ones ``forward`` received. A result other than None replaces the output.
        ``always_call=True``: the hook also runs when the forward (or an earlier hook) raises,
        before the error goes on. Returns a removable handle.
        """
        return self._add_hook(
            "forward", hook, prepend, with_kwargs=with_kwargs, always_call=always_call
        )

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` in backward once the gradients of the module's
        tensor outputs are known, before they go into the module. ``grad_output`` is a tuple,
        one entry per output (None for a non-tensor output or one without a gradient); a
        returned tuple of the same length replaces it. Returns a removable handle.
        """
        return self._add_hook("backward_pre", hook, prepend)

    def register_full_backward_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` in backward once the gradients of
        the module's positional inputs are known, as PyTorch: ``grad_input`` has one entry per
        positional argument (None for a non-tensor, one that needs no gradient or got none),
        ``grad_output`` one per output; a returned tuple of the same length replaces
        ``grad_input``. When no input requires grad, the hook runs with all-None
        ``grad_input`` as the output gradients are known (with PyTorch's warning), and may
        only return None. The outputs of a module with backward hooks are copies of what
        ``forward`` returned. Returns a removable handle.
        """
        return self._add_hook("backward", hook, prepend)

    # -- registration ---------------------------------------------------------------------------

    def _registry(self, name: str) -> OrderedDict:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() has run: "
                "call super().__init__() first"
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # PyTorch's order: a parameter's name takes only a Parameter or None, a submodule's a
        # Module, a Parameter or None; a name assigned again keeps its place in its registry
        if isinstance(value, Parameter):
            self._discard(name, keep="_parameters")
            self.register_parameter(name, value)
        elif name in self.__dict__.get("_parameters", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter '{name}' of "
                    f"{type(self).__name__}: wrap it in nn.Parameter (or assign None)"
                )
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._discard(name, keep="_modules")
            self._registry("_modules")[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to submodule '{name}' of "
                    f"{type(self).__name__}: expected a Module or None"
                )
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to buffer '{name}': expected a Tensor"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: parameters, buffers and submodules live in dicts
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if not self._discard(name):
            object.__delattr__(self, name)

    def _discard(self, name: str, keep: str = "") -> bool:
        """Forget ``name`` as a parameter, buffer, submodule and plain attribute, except in
        the registry ``keep``: a name assigned again keeps its place there (its position in
        ``state_dict``), as in PyTorch."""
        found = False
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep and name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                found = True
        self.__dict__.get("_non_persistent", set()).discard(name)
        if name in self.__dict__ and name not in _INTERNAL:
            object.__delattr__(self, name)
            found = True
        return found

    def _check_name(self, name: str, registry: str) -> None:
        """A name ``register_*`` / ``add_module`` accept: new, or already in ``registry``."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}: a non-empty string without '.'")
        if name not in self.__dict__.get(registry, ()) and hasattr(self, name):
            raise KeyError(
                f"attribute '{name}' already exists in {type(self).__name__}: delete it first "
                "or assign to it"
            )

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a :class:`Parameter` or None) under ``name``, a new name or a
        parameter's (as PyTorch: another attribute's name raises ``KeyError``)."""
        self._check_name(name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter('{name}'): expected a Parameter, got {type(param)}"
            )
        self._registry("_parameters")[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as a buffer: moved by ``to()``, saved in ``state_dict`` unless
        ``persistent=False``, never trained. ``name`` is new or a buffer's."""
        self._check_name(name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer('{name}'): expected a Tensor, got {type(tensor)}")
        registry = self._registry("_buffers")
        registry[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a submodule under ``name``, new or a submodule's."""
        self._check_name(name, "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): expected a Module, got {type(module)}")
        self._registry("_modules")[name] = module

    register_module = add_module  # PyTorch's alias

    # -- traversal ------------------------------------------------------------------------------

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ("" is this module), as PyTorch.

        Raises:
            AttributeError: a name on the path that is missing or not a Module.
        """
        module = self
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                what = "has no submodule" if name not in module._modules else "has None as"
                raise AttributeError(f"{type(module).__name__} {what} `{name}` (in '{target}')")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"encoder.0.weight"``)."""
        return self._get_registered(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target``."""
        return self._get_registered(target, "_buffers", "buffer")

    def _get_registered(self, target: str, table: str, what: str) -> Any:
        """The entry of the submodule's ``table`` (``_parameters`` or ``_buffers``) named by
        the dotted path ``target``; AttributeError naming the module when there is none."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        value = getattr(module, table).get(name)
        if value is None:
            raise AttributeError(f"{type(module).__name__} has no {what} `{name}` ('{target}')")
        return value

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule below it with its dotted name, depth first; a
        shared submodule once (under its first name) unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = iter([(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; a shared (tied) parameter is listed once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (shared ones counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients --------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and all below it."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout inactive): the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: drop it (``None``) or fill it with zeros."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array[...] = 0
                autograd.increment_version(param.grad)

    # -- devices and dtypes ---------------------------------------------------------------------

    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Move (and/or cast, floating point only) every parameter and buffer in place.

        Parameters stay the same objects, so an optimizer built before the move still holds
        them; gradients move with them.
        """
        device, dtype = to_arguments(device, dtype)  # as Tensor.to: .to(mg.float64) works too
        if dtype is not None:
            if dtype.kind != "f":
                raise TypeError(f"Module.to: only floating point dtypes are allowed, got {dtype}")

        def convert(arr: Any) -> Any:
            if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
                arr = arr.astype(dtype)
            if device is not None and backend.device_of(arr) != device:
                arr = backend.to_device(arr, device)
            return arr

        with autograd.no_grad():
            for module in self.modules():
                for tensors in (module._parameters, module._buffers):
                    for t in tensors.values():
                        if t is None:
                            continue
                        t.array = convert(t.array)
                        if t.grad is not None:
                            t.grad.array = convert(t.grad.array)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def half(self) -> Module:
        return self.to(dtype=backend.float16)

    def float(self) -> Module:
        return self.to(dtype=backend.float32)

    def double(self) -> Module:
        return self.to(dtype=backend.float64)

    # -- state ----------------------------------------------------------------------------------

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, as tensors cut from the graph
        (the parameters themselves with ``keep_vars=True``).

        The tensors share memory with the module (as in PyTorch): save or copy them before
        training on if you need a snapshot. A tied parameter, and everything in a submodule
        reached by several paths, appears under each of its names (as in PyTorch). Order: each
        module's parameters, then its buffers, then its submodules', depth first.
        """
        targets = self._state_targets(prefix)
        if keep_vars:
            return targets
        return OrderedDict((key, value.detach()) for key, value in targets.items())

    def _state_targets(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        targets: OrderedDict[str, Tensor] = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, param in module._parameters.items():
                if param is not None:
                    targets[dot + name] = param
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    targets[dot + name] = buf
        return targets

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy ``state_dict``'s values into this module's parameters and buffers, in place.

        Every problem is found before anything is copied and reported in one
        :class:`StateDictError`: missing and unexpected keys (when ``strict``), and values whose
        shape or dtype differs from the module's (always). When it raises, nothing has changed.

        Returns:
            ``(missing_keys, unexpected_keys)``, both empty after a strict load.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to tensors, got "
                f"{type(state_dict).__name__}"
            )
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        problems: list[str] = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(str(k) for k in unexpected))
        sources: dict[str, Any] = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value.array if isinstance(value, Tensor) else value
            if not hasattr(arr, "shape") or not hasattr(arr, "dtype"):
                problems.append(f"{key}: expected a tensor, got {type(value).__name__}")
                continue
            if tuple(arr.shape) != tuple(target.shape):
                problems.append(
                    f"{key}: shape {tuple(arr.shape)} in the checkpoint, "
                    f"{tuple(target.shape)} in the model"
                )
            elif arr.dtype != target.dtype:
                problems.append(
                    f"{key}: dtype {arr.dtype} in the checkpoint, {target.dtype} in the model"
                )
            else:
                sources[key] = arr
        if problems:
            raise StateDictError(
                f"error(s) loading state_dict into {type(self).__name__} "
                f"(nothing was changed):\n  " + "\n  ".join(problems)
            )
        with autograd.no_grad():
            for key, arr in sources.items():
                target = targets[key]
                target.array[...] = backend.to_device(arr, target.device)
                autograd.increment_version(target)
        return IncompatibleKeys(missing, [str(k) for k in unexpected])

    # -- printing -------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(child)) for name, child in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


# -- containers ---------------------------------------------------------------------------------


class _NumberedModules(Module):
    """What ``Sequential`` and ``ModuleList`` share: submodules named "0", "1", ... in order."""

    def _renumber(self, modules: list[Module]) -> None:
        """Hold exactly ``modules``, named by position (checked first: a bad one changes
        nothing)."""
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module)}")
        self._modules.clear()
        self._modules.update((str(i), module) for i, module in enumerate(modules))

    def append(self, module: Module) -> Any:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Append each of ``modules`` (checked first: a bad one changes nothing); returns self."""
        modules = list(modules)
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"{type(self).__name__}.extend: element {i} is not a Module, got "
                    f"{type(module).__name__}"
                )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as ``list.insert``: negative counts from
        the end, past the end appends); the ones after it move up one."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int | slice) -> Any:
        """Remove and return the module (or the container of modules) at ``index``."""
        module = self[index]
        del self[index]
        return module

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_list_index(index, len(modules), type(self).__name__)]
        self._renumber(modules)  # as PyTorch: the ones after move down, names "0", "1", ...

    def __setitem__(self, index: int, module: Module) -> None:
        keys = list(self._modules)
        self.add_module(keys[_list_index(index, len(keys), type(self).__name__)], module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(_NumberedModules):
    """Modules applied one after another: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``.

    Also accepts one ``OrderedDict`` of named modules. Indexing, slicing (a new Sequential
    keeping the names), ``len``, ``append``/``extend``/``insert``/``pop``, item assignment and
    deletion, and ``+`` of two Sequentials work as in PyTorch.
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_list_index(index, len(items), "Sequential")][1]

    def insert(self, index: int, module: Module) -> Sequential:  # type: ignore[override]
        """Put ``module`` before position ``index`` (-len <= index <= len); returns self."""
        if not -len(self) <= index <= len(self):
            raise IndexError(
                f"Sequential.insert: index {index} is out of range for length {len(self)}"
            )
        super().insert(index, module)
        return self

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(
                f"Sequential + {type(other).__name__}: only a Sequential can be added to one"
            )
        return Sequential(*self, *other)


class ModuleList(_NumberedModules):
    """A list of modules whose parameters the parent module sees (indexing, slicing, ``len``,
    ``append``/``extend``/``insert``/``pop``, ``del``, ``+`` and ``+=`` as in PyTorch)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[_list_index(index, len(items), "ModuleList")]

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """As PyTorch: a run of equal reprs prints once, ``(0-2): 3 x Linear(...)``."""
        runs: list[tuple[int, int, str]] = []  # (first index, last index, repr)
        for i, text in enumerate(repr(module) for module in self):
            if runs and runs[-1][2] == text:
                runs[-1] = (runs[-1][0], i, text)
            else:
                runs.append((i, i, text))
        if not runs:
            return f"{type(self).__name__}()"
        lines = [
            f"({first}): {text}"
            if first == last
            else f"({first}-{last}): {last - first + 1} x {text}"
            for first, last, text in runs
        ]
        return f"{type(self).__name__}(\n  " + "\n  ".join(_indent(line) for line in lines) + "\n)"

    def __iadd__(self, other: Iterable[Module]) -> ModuleList:
        return self.extend(other)


class ModuleDict(Module):
    """A dict of modules whose parameters the parent module sees; made from, and updated
    with, a mapping or an iterable of (name, module) pairs."""

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        mapping = isinstance(modules, Mapping | ModuleDict)
        pairs = list(modules.items() if mapping else modules)  # type: ignore[union-attr]
        for i, pair in enumerate(pairs):
            if not isinstance(pair, tuple | list) or len(pair) != 2:
                raise ValueError(
                    f"ModuleDict.update: element {i} should be a (name, module) pair, got "
                    f"{type(pair).__name__}"
                )
        for name, module in pairs:  # all checked first: a bad one changes nothing
            self._check_name(name, "_modules")
            if module is not None and not isinstance(module, Module):
                raise TypeError(f"ModuleDict.update: {name!r} is not a Module, got {type(module)}")
        for name, module in pairs:
            self.add_module(name, module)

    def __getitem__(self, name: str) -> Module:
        return self._modules[name]

    def __setitem__(self, name: str, module: Module) -> None:
        self.add_module(name, module)

    def __delitem__(self, name: str) -> None:
        del self._modules[name]

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def pop(self, name: str) -> Module:
        """Remove and return the module named ``name``."""
        module = self[name]
        del self[name]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()


def _list_index(index: int, length: int, what: str) -> int:
    if not -length <= index < length:
        raise IndexError(f"{what} index {index} is out of range for length {length}")
    return index % length
