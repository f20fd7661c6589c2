"""Optimizers: SGD (with momentum and Nesterov), Adam and AdamW (with AMSGrad), after
``torch.optim`` (same defaults; ``maximize=True`` ascends, as there); ``nn/optimizers.py``
builds the others (RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop) on the same
base, and they are re-exported here.

An optimizer holds *parameter groups*: each group is a dict with a ``"params"`` list and its own
hyperparameters (``lr``, ``weight_decay``, ...), the constructor's values filling in what a group
leaves out::

    optimizer = nn.optim.AdamW(
        [{"params": weights}, {"params": biases, "weight_decay": 0.0}], lr=3e-4
    )
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

``step()`` updates each parameter's array (``p.array``, NumPy or CuPy) in place (bumping its
version counter, so a retained graph that saved the old values raises), records no graph,
keeps the parameter's dtype (float32 stays float32), and skips parameters whose ``grad`` is None.
Per-parameter state (moments, momentum buffers) is created at a parameter's first update.

``state_dict()`` is a snapshot made only of dicts, lists, tuples, ints, floats, bools, strings
and Tensors, so ``nn.save`` can write it; ``load_state_dict`` on a fresh optimizer over the same
parameters resumes training bit for bit where it stopped::

    {
        "state": {0: {"step": 20, "exp_avg": Tensor, "exp_avg_sq": Tensor}, ...},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), ..., "params": [0, 1]}, ...],
    }

Parameters are numbered 0, 1, 2, ... in group order; ``"state"`` holds only the parameters that
have been updated at least once.

The learning-rate schedules of ``nn.schedule`` are re-exported here (``nn.optim.NoamLR``).

References: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015); Loshchilov &
Hutter, "Decoupled Weight Decay Regularization" (2019); Sutskever et al., "On the importance of
initialization and momentum in deep learning" (2013).

Owns: the optimizers (and re-exports the schedulers). May import: minigrad's public API and
``nn.schedule``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from minigrad import backend
from minigrad.autograd import enable_grad, increment_version
from minigrad.tensor import Tensor, as_tensor
from nn.schedule import CosineWarmupLR, LambdaLR, LRScheduler, NoamLR

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineWarmupLR",
    "LRScheduler",
    "LambdaLR",
    "NoamLR",
    "Optimizer",
]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# Hyperparameter checks shared by the optimizers
# ---------------------------------------------------------------------------------------------


def _real(value: Any, name: str, where: str) -> float:
    """``value`` as a Python float (a NumPy float64 scalar would promote float32 arrays)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}{name} must be a real number, got {value!r}")
    return float(value)


def _non_negative(value: Any, name: str, where: str) -> float:
    value = _real(value, name, where)
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"{where}{name} must be >= 0, got {value}")
    return value


def _betas(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{where}betas must be a pair (beta1, beta2), got {value!r}")
    beta1, beta2 = (_real(b, "betas", where) for b in value)
    for i, beta in enumerate((beta1, beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{where}betas[{i}] must be in [0, 1), got {beta}")
    return beta1, beta2


def _flag(group: dict[str, Any], name: str, where: str) -> None:
    if not isinstance(group[name], bool):
        raise TypeError(f"{where}{name} must be a bool, got {group[name]!r}")


def _as_array(value: Any) -> Any:
    """The backend array of a Tensor or an array; None for anything else."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, backend.ARRAY_TYPES):
        return value
    return None


def _saved_array(value: Any, p: Tensor, where: str) -> Any:
    """A saved state array, checked to have the parameter's shape and dtype."""
    arr = _as_array(value)
    if arr is None:
        raise ValueError(f"{where} must be a Tensor, got {type(value).__name__}")
    if tuple(arr.shape) != tuple(p.shape):
        raise ValueError(f"{where} has shape {tuple(arr.shape)}, the parameter {tuple(p.shape)}")
    if arr.dtype != p.dtype:
        raise ValueError(f"{where} has dtype {arr.dtype}, the parameter {p.dtype}")
    return arr


def _param_list(params: Any, where: str) -> list[Tensor]:
    """A group's ``"params"`` as a non-empty list (a single Tensor is a list of one)."""
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, set | frozenset):
        raise TypeError(f"{where}params must be a list, not a set (its order changes)")
    else:
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{where}params must be a list of Tensors, got {type(params).__name__}"
            ) from None
    if not params:
        raise ValueError(f"{where}has an empty 'params' list")
    return params


def _split_names(params: list[Any], where: str) -> tuple[list[Any], list[str] | None]:
    """A group's params as (tensors, names): bare Tensors (names None) or (name, Tensor)
    pairs, as ``model.named_parameters()`` yields them (PyTorch keeps the names in the group's
    ``"param_names"``)."""
    named = [isinstance(p, tuple) for p in params]
    if not any(named):
        return params, None
    if not all(named):
        raise ValueError(f"{where}params mixes (name, Tensor) pairs and bare Tensors")
    for i, pair in enumerate(params):
        if len(pair) != 2 or not isinstance(pair[0], str):
            raise TypeError(
                f"{where}params[{i}] must be a (name, Tensor) pair, got a tuple of "
                f"{[type(item).__name__ for item in pair]}"
            )
    return [p for _, p in params], [name for name, _ in params]


def _check_param_names(loaded: dict[str, Any], group: dict[str, Any], where: str) -> None:
    """A loaded group's ``"param_names"``: the saved ones (as PyTorch), else the group's own."""
    names = loaded.setdefault("param_names", group.get("param_names"))
    if names is None:
        del loaded["param_names"]
    elif (
        not isinstance(names, list | tuple)
        or len(names) != len(group["params"])
        or not all(isinstance(name, str) for name in names)
    ):
        raise ValueError(
            f"{where}param_names must be {len(group['params'])} strings, got {names!r}"
        )


def _check_param(p: Any, where: str, group_ids: set[int], seen: set[int]) -> None:
    """A parameter an optimizer can update: a leaf Tensor that requires grad, in no group yet."""
    if not isinstance(p, Tensor):
        raise TypeError(f"{where} is a {type(p).__name__}, not a Tensor")
    if not p.requires_grad:
        raise ValueError(f"{where} (shape {tuple(p.shape)}) does not require grad")
    if not p.is_leaf:
        raise ValueError(
            f"{where} (shape {tuple(p.shape)}) is not a leaf tensor: "
            "an optimizer can only update leaves"
        )
    if id(p) in group_ids:
        raise ValueError(f"{where} (shape {tuple(p.shape)}) appears twice in the group")
    if id(p) in seen:
        raise ValueError(f"{where} (shape {tuple(p.shape)}) is already in another parameter group")


# ---------------------------------------------------------------------------------------------
# The base class
# ---------------------------------------------------------------------------------------------


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``state_dict`` / ``load_state_dict``.

    A subclass passes its hyperparameter defaults to ``__init__``, names its per-parameter
    state in ``_state_tensors`` (arrays shaped like the parameter) and ``_state_ints`` (the
    names a group's state holds: ``_state_names``), checks a group's hyperparameters in
    ``_check_hyperparameters`` and implements ``_update`` (one parameter's in-place update;
    ``step`` checks every gradient first, then calls it).

    Attributes:
        defaults: the constructor's hyperparameters, used where a group gives none.
        param_groups: a list of dicts, each with ``"params"`` (a list of Tensors) and every
            hyperparameter; a scheduler changes ``group["lr"]`` between steps.
        state: per-parameter state, keyed by the parameter Tensor: ``{"step": int,
            "exp_avg": array, ...}`` (the arrays are the backend's, on the parameter's device).
    """

    _state_tensors: tuple[str, ...] = ()
    _state_ints: tuple[str, ...] = ()
    _state_floats: tuple[str, ...] = ()  # numbers kept per parameter (NAdam's mu_product)
    # hyperparameters added after the first release: an older state dict without them loads
    # with these values (as torch.optim's ``__setstate__`` fills in ``maximize``)
    _added_hyperparameters: dict[str, Any] = {"maximize": False}

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                f"got a single Tensor of shape {tuple(params.shape)}; wrap it in a list"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got a single dict; "
                "pass a list of parameter groups"
            )
        if isinstance(params, set | frozenset):
            raise TypeError(
                f"{name}: params must be an ordered collection (a list), not a set: the order "
                "of a set changes between runs and state_dict numbers parameters by position"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, "
                f"got {type(params).__name__}"
            ) from None
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        self.defaults = self._check_hyperparameters(dict(defaults), f"{name}: ")
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        if all(isinstance(group, dict) for group in params):
            groups = params
        elif any(isinstance(group, dict) for group in params):
            raise TypeError(f"{name}: params mixes Tensors and dicts; give one or the other")
        else:
            groups = [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups ----------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with optional hyperparameters overriding the defaults.

        Args:
            param_group: ``{"params": [Tensor, ...], "lr": ..., ...}``; ``"params"`` may also
                be a single Tensor, or (name, Tensor) pairs (``model.named_parameters()``),
                whose names the group keeps in ``"param_names"``.

        Raises:
            TypeError: a group that is not a dict, params that are not Tensors or come as a set.
            ValueError: an empty group, a parameter that does not require grad or is not a leaf,
                a parameter already in a group, a bad hyperparameter value, named parameters
                in some groups only.
        """
        where = f"{type(self).__name__}: parameter group {len(self.param_groups)}: "
        if not isinstance(param_group, dict):
            raise TypeError(f"{where}must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{where}has no 'params' key")
        params, names = _split_names(_param_list(param_group["params"], where), where)
        if self.param_groups and (names is None) != ("param_names" not in self.param_groups[0]):
            raise ValueError(f"{where}either every parameter group names its parameters or none")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        group_ids: set[int] = set()
        for i, p in enumerate(params):
            _check_param(p, f"{where}params[{i}]", group_ids, seen)
            group_ids.add(id(p))
        group = {**self.defaults, **param_group}
        group = self._check_hyperparameters(group, where)
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        """Check a group's hyperparameters and return them normalized (Python floats).

        ``where`` prefixes every error message (``"Adam: parameter group 1: "``).
        """
        return group

    # -- gradients -----------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradient of every parameter.

        Args:
            set_to_none: set ``p.grad = None`` (the default: no memory held, no fill) instead of
                filling the gradient arrays with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                # as PyTorch: the zeroed gradient keeps no graph (a create_graph backward's did)
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.array[...] = 0
                increment_version(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place.

        Args:
            closure: optional; called (with grad enabled) before the update to recompute the
                loss and the gradients.

        Returns:
            What ``closure`` returned, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updates = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not isinstance(p.grad, Tensor):
                    raise TypeError(
                        f"{type(self).__name__}.step: a parameter's grad must be a Tensor or "
                        f"None, got {type(p.grad).__name__}"
                    )
                grad = p.grad.array
                if grad.shape != p.array.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: gradient of shape {tuple(grad.shape)} for "
                        f"a parameter of shape {tuple(p.array.shape)}"
                    )
                if backend.device_of(grad) != backend.device_of(p.array):
                    raise ValueError(
                        f"{type(self).__name__}.step: gradient on {backend.device_of(grad)} for "
                        f"a parameter on {backend.device_of(p.array)}"
                    )
                updates.append((p, grad, group))
        # every gradient checked: now update (no parameter changes when one is bad)
        for p, grad, group in updates:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {}
            if group.get("maximize"):
                # g = -g: every optimizer ascends by descending along the negated gradient
                grad = -grad
            self._update(p.array, grad, state, group)
            increment_version(p)  # a graph that saved p's old values now refuses to backward
        return loss

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update the array ``param`` in place from ``grad`` (already negated when the group
        has ``maximize``); ``state`` starts empty."""
        raise NotImplementedError

    def _state_names(self, group: dict[str, Any]) -> set[str]:
        """The entries of a parameter's state once updated with ``group``'s hyperparameters."""
        return set(self._state_tensors) | set(self._state_ints) | set(self._state_floats)

    # -- saving and loading --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the hyperparameters and the per-parameter state.

        Returns:
            ``{"state": {index: {name: int or Tensor}}, "param_groups": [{..., "params":
            [index, ...]}]}``, parameters numbered in group order. The Tensors are copies:
            training on does not change a dict already taken.
        """
        index: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            param_groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and self.state[p]:
                    state[index[id(p)]] = {
                        key: as_tensor(value.copy()) if key in self._state_tensors else value
                        for key, value in self.state[p].items()
                    }
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state from ``state_dict()`` of an optimizer of the same
        class over parameters of the same shapes, dtypes and grouping.

        The state arrays are copied onto each parameter's device. Everything is checked before
        anything changes: on an error the optimizer is as it was.

        Raises:
            ValueError: a group count, parameter count, state name, shape or dtype that does
                not match, or a bad hyperparameter; the message names it.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict: "
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{where}expected a dict with 'state' and 'param_groups' keys")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict["state"]
        if not isinstance(saved_groups, list | tuple) or not isinstance(saved_state, dict):
            raise ValueError(f"{where}'param_groups' must be a list and 'state' a dict")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{where}the state dict has {len(saved_groups)} parameter group(s), this "
                f"optimizer has {len(self.param_groups)}"
            )

        new_groups, by_saved_index = self._saved_groups(saved_groups, where)
        new_state = dict(
            self._saved_param_state(key, saved, by_saved_index, where)
            for key, saved in saved_state.items()
        )

        # Everything checked: copy the arrays (never alias the dict) and commit.
        for p, entry in new_state.items():
            for state_name in self._state_tensors:
                if state_name not in entry:
                    continue
                source = entry[state_name]
                arr = backend.to_device(source, p.device)
                entry[state_name] = arr.copy() if arr is source else arr
        self.param_groups[:] = new_groups
        self.state.clear()
        self.state.update(new_state)

    def _saved_groups(
        self, saved_groups: Any, where: str
    ) -> tuple[list[dict[str, Any]], dict[int, tuple[int, Tensor, dict[str, Any]]]]:
        """``load_state_dict``'s groups, checked: the saved hyperparameters with this
        optimizer's parameters, and each saved parameter index's (position, parameter, group)."""
        new_groups = []
        by_saved_index: dict[int, tuple[int, Tensor, dict[str, Any]]] = {}
        position = 0
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            group_where = f"{where}parameter group {g}: "
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), list | tuple):
                raise ValueError(f"{group_where}expected a dict with a 'params' list")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{group_where}the state dict has {len(saved['params'])} parameter(s), this "
                    f"optimizer has {len(group['params'])}"
                )
            saved = {**self._added_hyperparameters, **saved}
            missing = [key for key in self.defaults if key not in saved]
            if missing:
                raise ValueError(
                    f"{group_where}missing hyperparameter(s) {missing} (a state dict of another "
                    "optimizer class?)"
                )
            hyper = {key: value for key, value in saved.items() if key != "params"}
            hyper = self._check_hyperparameters(hyper, group_where)
            hyper["params"] = group["params"]
            _check_param_names(hyper, group, group_where)
            new_groups.append(hyper)
            for saved_index, p in zip(saved["params"], group["params"]):
                if isinstance(saved_index, bool) or not isinstance(saved_index, int):
                    raise ValueError(f"{group_where}parameter index {saved_index!r} is not an int")
                if saved_index in by_saved_index:
                    raise ValueError(f"{group_where}parameter index {saved_index} appears twice")
                by_saved_index[saved_index] = (position, p, hyper)
                position += 1
        return new_groups, by_saved_index

    def _saved_param_state(
        self,
        key: Any,
        saved: Any,
        by_saved_index: dict[int, tuple[int, Tensor, dict[str, Any]]],
        where: str,
    ) -> tuple[Tensor, dict[str, Any]]:
        """``load_state_dict``'s state of one parameter, checked against the parameter."""
        saved_index = int(key) if isinstance(key, str) and key.isdigit() else key
        if saved_index not in by_saved_index:
            raise ValueError(f"{where}state for parameter {key!r}, which no parameter group lists")
        position, p, group = by_saved_index[saved_index]
        param_where = f"{where}state of parameter {position} (shape {tuple(p.shape)}): "
        if not isinstance(saved, dict):
            raise ValueError(f"{param_where}expected a dict, got {type(saved).__name__}")
        # the group's own entries, and any other this class keeps: Adam's max_exp_avg_sq stays
        # in the state when amsgrad is turned off mid-run (as in PyTorch), so its dict holds it
        expected = self._state_names(group)
        known = set(self._state_tensors) | set(self._state_ints) | set(self._state_floats)
        if not expected <= set(saved) <= known:
            raise ValueError(
                f"{param_where}has entries {sorted(saved)}, {type(self).__name__} expects "
                f"{sorted(expected)} (and may keep {sorted(known - expected)})"
            )
        entry: dict[str, Any] = {}
        for state_name in self._state_ints:
            value = saved[state_name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"{param_where}{state_name!r} must be a non-negative int, got {value!r}"
                )
            entry[state_name] = value
        for state_name in self._state_floats:
            value = saved[state_name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{param_where}{state_name!r} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{param_where}{state_name!r} must be finite, got {value!r}")
            entry[state_name] = float(value)
        for state_name in self._state_tensors:
            if state_name in saved:
                where_name = f"{param_where}{state_name!r}"
                entry[state_name] = _saved_array(saved[state_name], p, where_name)
        return p, entry

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, Nesterov momentum and L2 decay.

    As ``torch.optim.SGD``: with ``g`` the gradient (negated when ``maximize``) plus
    ``weight_decay * p``, the momentum buffer is ``b = g`` at the first step, then
    ``b = momentum * b + (1 - dampening) * g``, and the update is ``p -= lr * b``
    (``p -= lr * (g + momentum * b)`` with ``nesterov``).

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (groups).
        lr: the learning rate (>= 0).
        momentum: the momentum factor (>= 0).
        dampening: how much of the gradient the momentum buffer leaves out.
        weight_decay: L2 penalty (>= 0), added to the gradient.
        nesterov: Nesterov momentum; needs momentum > 0 and dampening 0 (checked on these
            arguments, as PyTorch does: a group with momentum 0 runs plain SGD).
        maximize: ascend the objective (step along the gradient) instead of descending.

    State per parameter: ``momentum_buffer`` (when momentum > 0).
    """

    _state_tensors = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        # the constructor's values only, as PyTorch: a group may set momentum 0 (it then runs
        # plain SGD) or a dampening (its buffer is dampened), whatever the default nesterov
        momentum, dampening = self.defaults["momentum"], self.defaults["dampening"]
        if self.defaults["nesterov"] and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(
                "SGD: nesterov momentum needs momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}"
            )

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        group["lr"] = _non_negative(group["lr"], "lr", where)
        group["momentum"] = _non_negative(group["momentum"], "momentum", where)
        group["dampening"] = _real(group["dampening"], "dampening", where)
        group["weight_decay"] = _non_negative(group["weight_decay"], "weight_decay", where)
        _flag(group, "nesterov", where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        weight_decay, dampening = float(group["weight_decay"]), float(group["dampening"])
        if weight_decay != 0.0:
            # g = g + wd * p
            grad = grad + weight_decay * param
        if momentum != 0.0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # b = g  (first step; xp.array: an array even where NumPy gave a 0-d scalar)
                xp = backend.array_module(param)
                buf = state["momentum_buffer"] = xp.array(grad, dtype=param.dtype)
            else:
                # b = momentum * b + (1 - dampening) * g
                buf *= momentum
                buf += (1.0 - dampening) * grad
            # nesterov: g = g + momentum * b; else g = b
            grad = grad + momentum * buf if group["nesterov"] else buf
        # p = p - lr * g
        param -= lr * grad


# ---------------------------------------------------------------------------------------------
# Adam and AdamW
# ---------------------------------------------------------------------------------------------


def _adam_update(
    param: Any,
    grad: Any,
    state: dict[str, Any],
    group: dict[str, Any],
) -> None:
    """One Adam step on ``param`` in place (the order of operations of ``torch.optim.Adam``)."""
    xp = backend.array_module(param)
    lr, eps, amsgrad = float(group["lr"]), float(group["eps"]), group["amsgrad"]
    beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
    if not state:
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(param)
        state["exp_avg_sq"] = xp.zeros_like(param)
    if amsgrad and "max_exp_avg_sq" not in state:
        state["max_exp_avg_sq"] = xp.zeros_like(param)
    state["step"] += 1
    step, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
    bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
    step_size = lr / (1.0 - beta1**step)
    constants = (beta1, beta2, bias_correction2_sqrt, eps, step_size)
    if not amsgrad and backend.adam_step_fused(param, grad, exp_avg, exp_avg_sq, *constants):
        return  # on a GPU: _adam_formula as one kernel, not 13 launches per parameter
    arrays = [param, exp_avg, exp_avg_sq, state["max_exp_avg_sq"] if amsgrad else None]
    if param.dtype.itemsize >= 4:
        _adam_formula(grad, *arrays, *constants)
        return
    # float16: computed in float32 and rounded back (as PyTorch's float32 "opmath"), where in
    # float16 g^2 overflows from |g| = 256 and (1 - b1) * g rounds twice
    wide = [None if arr is None else arr.astype(backend.float32) for arr in arrays]
    _adam_formula(grad.astype(backend.float32), *wide, *constants)
    for arr, wide_arr in zip(arrays, wide):
        if arr is not None:
            arr[...] = wide_arr


def _adam_formula(
    grad: Any,
    param: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    beta1: float,
    beta2: float,
    bias_correction2_sqrt: float,
    eps: float,
    step_size: float,
) -> None:
    """Adam's update of ``param``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``, None
    without amsgrad) in place; ``step_size`` is ``lr / (1 - b1^t)``."""
    xp = backend.array_module(param)
    # m = b1 * m + (1 - b1) * g
    exp_avg *= beta1
    exp_avg += (1.0 - beta1) * grad
    # v = b2 * v + (1 - b2) * g^2
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * (grad * grad)
    if max_exp_avg_sq is not None:
        # v_max = max(v_max, v); v_max takes v's place below
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        exp_avg_sq = max_exp_avg_sq
    # p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    # out=: an array when 0-d, where NumPy's sqrt gives a scalar the in-place lines cannot use
    denom = xp.sqrt(exp_avg_sq) if param.ndim else xp.sqrt(exp_avg_sq, out=xp.empty_like(param))
    denom /= bias_correction2_sqrt
    denom += eps
    xp.divide(exp_avg, denom, out=denom)
    denom *= step_size
    param -= denom


class Adam(Optimizer):
    """Adam, with weight decay as an L2 penalty added to the gradient (as ``torch.optim.Adam``).

    With ``g`` the gradient (negated when ``maximize``) plus ``weight_decay * p`` and ``t`` the
    parameter's step count::

        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g^2
        p = p - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)

    With ``amsgrad`` (Reddi et al., 2018), the largest ``v`` so far stands in for ``v`` in the
    last line.

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (groups).
        lr: the learning rate (>= 0).
        betas: decay rates (b1, b2) of the moment estimates, each in [0, 1).
        eps: added to the denominator (>= 0).
        weight_decay: L2 penalty (>= 0).
        amsgrad: use the running maximum of ``v``.
        maximize: ascend the objective instead of descending.

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` with ``amsgrad``.
    """

    _state_tensors = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _state_ints = ("step",)
    _added_hyperparameters = {"maximize": False, "amsgrad": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        group["lr"] = _non_negative(group["lr"], "lr", where)
        group["betas"] = _betas(group["betas"], where)
        group["eps"] = _non_negative(group["eps"], "eps", where)
        group["weight_decay"] = _non_negative(group["weight_decay"], "weight_decay", where)
        _flag(group, "amsgrad", where)
        _flag(group, "maximize", where)
        return group

    def _state_names(self, group: dict[str, Any]) -> set[str]:
        names = {"step", "exp_avg", "exp_avg_sq"}
        return names | {"max_exp_avg_sq"} if group["amsgrad"] else names

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        weight_decay = float(group["weight_decay"])
        if weight_decay != 0.0:
            # g = g + wd * p
            grad = grad + weight_decay * param
        _adam_update(param, grad, state, group)


class AdamW(Adam):
    """Adam with decoupled weight decay (as ``torch.optim.AdamW``).

    The parameter shrinks by ``lr * weight_decay`` of itself before the Adam step, which uses the
    bare gradient: ``p = p * (1 - lr * wd)``, then Adam's update.

    Args:
        params: an iterable of Tensors, of (name, Tensor) pairs, or of dicts (groups).
        lr: the learning rate (>= 0).
        betas: decay rates (b1, b2) of the moment estimates, each in [0, 1).
        eps: added to the denominator (>= 0).
        weight_decay: the decoupled decay factor (>= 0).
        amsgrad: use the running maximum of ``v`` (see ``Adam``).
        maximize: ascend the objective instead of descending.

    State per parameter: as ``Adam``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        if weight_decay != 0.0:
            # p = p * (1 - lr * wd)
            param *= 1.0 - lr * weight_decay
        _adam_update(param, grad, state, group)


# The rest of torch.optim's first-order optimizers (nn/optimizers.py builds them on Optimizer)
from nn.optimizers import (  # noqa: E402
    ASGD,
    Adadelta,
    Adagrad,
    Adamax,
    NAdam,
    RAdam,
    RMSprop,
    Rprop,
)

__all__ += ["ASGD", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop"]

# torch.optim.lr_scheduler's name for the schedules' module, and its schedules here too
from nn import schedule as lr_scheduler  # noqa: E402
from nn.schedulers import (  # noqa: E402
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    StepLR,
)

__all__ += [
    "lr_scheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "StepLR",
]
