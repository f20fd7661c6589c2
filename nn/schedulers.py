"""The rest of ``torch.optim.lr_scheduler``'s schedules, each a closed form of ``last_epoch``
on ``nn.schedule.LRScheduler`` (so ``state_dict`` resumes them exactly): StepLR, MultiStepLR,
ExponentialLR, CosineAnnealingLR, LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR,
CosineAnnealingWarmRestarts, CyclicLR and OneCycleLR (which also cycle the momentum, or Adam's
beta1, as PyTorch's), and ReduceLROnPlateau (driven by a metric). ``nn.schedule`` and
``nn.optim`` re-export them.

PyTorch computes most of these recursively from the group's current lr, so that two chained
schedulers multiply; here each sets the lr from its base, so chaining (``ChainedScheduler``,
``SequentialLR``) is not offered: compose the factors in one ``LambdaLR`` instead.

Owns: these schedules. May import: the standard library and ``nn.schedule``.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nn.schedule import LRScheduler, _check_int, _check_optimizer, _check_real

if TYPE_CHECKING:  # annotations only
    from nn.optim import Optimizer

__all__ = [
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


class StepLR(LRScheduler):
    """lr = base_lr * gamma^(t // step_size)."""

    _hyperparameters = ("step_size", "gamma")

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _check_int(step_size, "step_size", "StepLR: ", 1)
        self.gamma = _check_real(gamma, "gamma", "StepLR: ")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma^(the number of milestones <= t)."""

    _hyperparameters = ("milestones", "gamma")

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = sorted(_check_int(m, "milestone", "MultiStepLR: ", 0) for m in milestones)
        self.gamma = _check_real(gamma, "gamma", "MultiStepLR: ")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^t."""

    _hyperparameters = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _check_real(gamma, "gamma", "ExponentialLR: ")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


def _cosine(start: float, end: float, fraction: float) -> float:
    """From ``start`` (fraction 0) down a half cosine to ``end`` (fraction 1)."""
    return end + (start - end) * (1.0 + math.cos(math.pi * fraction)) / 2.0


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2 (SGDR without restarts;
    past T_max the cosine goes on, back up, as PyTorch's)."""

    _hyperparameters = ("T_max", "eta_min")

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 (PyTorch's name)
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.T_max = _check_int(T_max, "T_max", "CosineAnnealingLR: ", 1)
        self.eta_min = _check_real(eta_min, "eta_min", "CosineAnnealingLR: ")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        fraction = self.last_epoch / self.T_max
        return [_cosine(base, self.eta_min, fraction) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr times a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then staying there."""

    _hyperparameters = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        where = "LinearLR: "
        self.start_factor = _check_real(start_factor, "start_factor", where)
        self.end_factor = _check_real(end_factor, "end_factor", where)
        if not 0 < self.start_factor <= 1 or not 0 <= self.end_factor <= 1:
            raise ValueError(
                f"{where}start_factor must be in (0, 1] and end_factor in [0, 1], got "
                f"{start_factor} and {end_factor}"
            )
        self.total_iters = _check_int(total_iters, "total_iters", where, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [base * factor for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first ``total_iters`` steps, then base_lr."""

    _hyperparameters = ("factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self.factor = _check_real(factor, "factor", "ConstantLR: ")
        if not 0 <= self.factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.total_iters = _check_int(total_iters, "total_iters", "ConstantLR: ", 0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        factor = self.factor if self.last_epoch < self.total_iters else 1.0
        return [base * factor for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr (1 - min(t, total_iters) / total_iters)^power."""

    _hyperparameters = ("total_iters", "power")

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self.total_iters = _check_int(total_iters, "total_iters", "PolynomialLR: ", 1)
        self.power = _check_real(power, "power", "PolynomialLR: ")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * left**self.power for base in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """lr = base_lr * lr_lambda(1) * ... * lr_lambda(t): each step multiplies the lr by
    ``lr_lambda(t)`` (one function, or one per group; not part of ``state_dict``)."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer, "MultiplicativeLR: ")
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(fn) for fn in lambdas):
            raise ValueError(
                f"MultiplicativeLR: expected a function or {groups} functions (one per "
                f"parameter group), got {lr_lambda!r}"
            )
        self.lr_lambdas = lambdas
        self._run: tuple[int, list[float], list[float]] = (0, [], [])  # (t, base_lrs, lrs at t)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # the product carried on from the last call (each step one factor more), not redone
        # from step 1: it starts over only for an earlier step or other base lrs (a load)
        t, bases, lrs = self._run
        if t > self.last_epoch or bases != self.base_lrs:
            t, bases, lrs = 0, list(self.base_lrs), list(self.base_lrs)
        while t < self.last_epoch:
            t += 1
            lrs = [lr * float(fn(t)) for lr, fn in zip(lrs, self.lr_lambdas)]
        self._run = (t, bases, lrs)
        return list(lrs)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing from base_lr to ``eta_min`` over
    T_i steps, then a restart; T_0 first, each cycle ``T_mult`` times the one before."""

    _hyperparameters = ("T_0", "T_mult", "eta_min")

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 (PyTorch's names)
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        where = "CosineAnnealingWarmRestarts: "
        self.T_0 = _check_int(T_0, "T_0", where, 1)
        self.T_mult = _check_int(T_mult, "T_mult", where, 1)
        self.eta_min = _check_real(eta_min, "eta_min", where)
        super().__init__(optimizer, last_epoch)

    def _position(self) -> tuple[int, int]:
        """(T_cur, T_i): the steps into the current cycle and its length."""
        t_cur, t_i = self.last_epoch, self.T_0
        while t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * self.T_mult
        return t_cur, t_i

    def get_lr(self) -> list[float]:
        t_cur, t_i = self._position()
        return [_cosine(base, self.eta_min, t_cur / t_i) for base in self.base_lrs]


def _momentum_key(optimizer: Optimizer, where: str) -> str:
    """'betas' for an Adam-like optimizer (its beta1 cycles), else 'momentum'."""
    if "betas" in optimizer.defaults:
        return "betas"
    if "momentum" in optimizer.defaults:
        return "momentum"
    raise ValueError(f"{where}optimizer must support momentum or beta1 with cycle_momentum")


def _set_momentum(group: dict[str, Any], key: str, value: float) -> None:
    if key == "betas":
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _per_group(value: Any, name: str, optimizer: Optimizer, where: str) -> list[float]:
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, list | tuple) else [value] * groups
    if len(values) != groups:
        raise ValueError(
            f"{where}expected {groups} values of {name} (one per group), got {value!r}"
        )
    return [_check_real(v, name, where) for v in values]


class CyclicLR(LRScheduler):
    """The cyclical learning rate (Smith, 2017): up from ``base_lr`` to ``max_lr`` over
    ``step_size_up`` steps and back down over ``step_size_down``, the height scaled by ``mode``
    ("triangular": 1, "triangular2": halved each cycle, "exp_range": gamma^t) or by
    ``scale_fn``; the momentum (or beta1) moves the other way, between ``max_momentum`` and
    ``base_momentum``, when ``cycle_momentum``."""

    _hyperparameters = ("max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | Sequence[float],
        max_lr: float | Sequence[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        where = "CyclicLR: "
        _check_optimizer(optimizer, where)
        base_lrs = _per_group(base_lr, "base_lr", optimizer, where)
        self.max_lrs = _per_group(max_lr, "max_lr", optimizer, where)
        up = float(_check_int(step_size_up, "step_size_up", where, 1))
        down = (
            up
            if step_size_down is None
            else float(_check_int(step_size_down, "step_size_down", where, 1))
        )
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"{where}mode is invalid and scale_fn is None: got mode {mode!r}")
        self.mode, self.gamma, self.scale_fn_custom = mode, float(gamma), scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle"
        )  # fmt: skip
        self.cycle_momentum = cycle_momentum
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        if cycle_momentum:
            self._momentum = _momentum_key(optimizer, where)
            self.base_momentums = _per_group(base_momentum, "base_momentum", optimizer, where)
            self.max_momentums = _per_group(max_momentum, "max_momentum", optimizer, where)
            if last_epoch == -1:
                for m, group in zip(self.max_momentums, optimizer.param_groups):
                    _set_momentum(group, self._momentum, m)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        if self.scale_fn_custom is not None:
            return float(self.scale_fn_custom(x))
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x if self.mode == "exp_range" else 1.0

    def get_lr(self) -> list[float]:
        # where in the cycle: x in [0, 1), rising over step_ratio of it, then falling
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                _set_momentum(group, self._momentum, high - (high - low) * scale_factor * scale)
        return [
            base + (top - base) * scale_factor * scale
            for base, top in zip(self.base_lrs, self.max_lrs)
        ]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018): the lr rises from max_lr / div_factor to
    ``max_lr`` over ``pct_start`` of ``total_steps``, then anneals to max_lr / div_factor /
    final_div_factor (``three_phase``: back to the start first, then down); the momentum (or
    beta1) moves the other way between ``max_momentum`` and ``base_momentum``. ``anneal_strategy``:
    "cos" or "linear". ``step()`` past ``total_steps`` raises, as PyTorch's."""

    _hyperparameters = ("total_steps",)

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        where = "OneCycleLR: "
        _check_optimizer(optimizer, where)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch, where)
        if not 0 <= pct_start <= 1 or isinstance(pct_start, bool):
            raise ValueError(
                f"{where}expected float between 0 and 1 pct_start, but got {pct_start}"
            )
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{where}anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.anneal = _cosine if anneal_strategy == "cos" else _linear
        self.phases = _one_cycle_phases(self.total_steps, float(pct_start), three_phase)
        max_lrs = _per_group(max_lr, "max_lr", optimizer, where)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"], group["min_lr"] = top, group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._momentum = _momentum_key(optimizer, where)
            lows = _per_group(base_momentum, "base_momentum", optimizer, where)
            highs = _per_group(max_momentum, "max_momentum", optimizer, where)
            if last_epoch == -1:
                for low, high, group in zip(lows, highs, optimizer.param_groups):
                    _set_momentum(group, self._momentum, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times, more than total_steps = "
                f"{self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end_step, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
                if step <= end_step or i == len(self.phases) - 1:
                    fraction = (step - start) / (end_step - start)
                    lrs.append(self.anneal(group[lr_from], group[lr_to], fraction))
                    if self.cycle_momentum:
                        momentum = self.anneal(group[m_from], group[m_to], fraction)
                        _set_momentum(group, self._momentum, momentum)
                    break
                start = end_step
        return lrs


def _linear(start: float, end: float, fraction: float) -> float:
    return (end - start) * fraction + start


def _total_steps(total: Any, epochs: Any, per_epoch: Any, where: str) -> int:
    if total is not None:
        return _check_int(total, "total_steps", where, 1)
    if epochs is None or per_epoch is None:
        raise ValueError(f"{where}give total_steps, or epochs and steps_per_epoch")
    return _check_int(epochs, "epochs", where, 1) * _check_int(
        per_epoch, "steps_per_epoch", where, 1
    )


def _one_cycle_phases(total: int, pct_start: float, three_phase: bool) -> list[tuple]:
    """(end step, lr from, lr to, momentum from, momentum to), the groups' keys, per phase."""
    if three_phase:
        return [
            (pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            (2 * pct_start * total - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
            (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ]
    return [
        (pct_start * total - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
        (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
    ]


class ReduceLROnPlateau:
    """Divide the lr by ``1 / factor`` when a metric has stopped improving for ``patience``
    steps (as ``torch.optim.lr_scheduler.ReduceLROnPlateau``): ``step(metric)`` once per
    evaluation. "Improving" is by ``threshold``, relative ("rel") or absolute ("abs"), down for
    ``mode="min"``, up for "max"; after a reduction, ``cooldown`` steps pass before counting
    again; no lr goes below ``min_lr``, and a change smaller than ``eps`` is not made."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        where = "ReduceLROnPlateau: "
        _check_optimizer(optimizer, where)
        if not 0 <= factor < 1:
            raise ValueError(f"{where}factor should be < 1.0, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{where}mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got "
                f"{mode!r} and {threshold_mode!r}"
            )
        self.optimizer, self.factor, self.mode = optimizer, float(factor), mode
        self.patience = _check_int(patience, "patience", where, 0)
        self.cooldown = _check_int(cooldown, "cooldown", where, 0)
        self.threshold, self.threshold_mode, self.eps = float(threshold), threshold_mode, eps
        self.min_lrs = _per_group(min_lr, "min_lr", optimizer, where)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _better(self, value: float) -> bool:
        if self.threshold_mode == "rel":
            scale = 1 - self.threshold if self.mode == "min" else 1 + self.threshold
            bound = self.best * scale
        else:
            bound = self.best - self.threshold if self.mode == "min" else self.best + self.threshold
        return value < bound if self.mode == "min" else value > bound

    def step(self, metrics: Any) -> None:
        """Take the metric of one evaluation (a number, or a one-element tensor)."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce(self) -> None:
        for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer."""
        return {key: value for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()``, checked first: the same keys, numbers where numbers go."""
        where = "ReduceLROnPlateau.load_state_dict: "
        expected = set(self.state_dict())
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{where}expected the entries {sorted(expected)}, got {got}")
        for key in ("best", "factor", "threshold", "eps", "num_bad_epochs", "cooldown_counter"):
            value = state_dict[key]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{where}{key} must be a number, got {value!r}")
        for key, value in state_dict.items():
            setattr(self, key, value)
