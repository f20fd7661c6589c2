"""Learning-rate schedules, after ``torch.optim.lr_scheduler``.

A scheduler sets ``group["lr"]`` of each parameter group of an optimizer. Its constructor sets
the learning rate for the first step; call ``step()`` once after each ``optimizer.step()``::

    scheduler = nn.optim.CosineWarmupLR(optimizer, warmup=100, total_steps=10_000)
    for batch in batches:
        ...
        optimizer.step()
        scheduler.step()

``last_epoch`` counts the ``step()`` calls (0 after the constructor): the n-th optimizer step
(n = 1, 2, ...) runs with the lr the schedule gives at ``last_epoch = n - 1``. Each schedule here
is a closed form of ``last_epoch``, so ``state_dict()`` / ``load_state_dict()`` resume it exactly.
The base learning rates, ``base_lrs``, are the groups' ``lr`` when the scheduler is made (kept in
``group["initial_lr"]``, as PyTorch does).

Owns: the schedulers. May import: the standard library only; it works on any object with an
optimizer's ``param_groups``, so that ``nn.optim`` (which re-exports the schedulers) is the
one module of the two that imports the other.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from nn.optim import Optimizer

__all__ = ["CosineWarmupLR", "LRScheduler", "LambdaLR", "NoamLR"]


def _check_int(value: Any, name: str, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{where}{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_real(value: Any, name: str, where: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}{name} must be a real number, got {value!r}")
    value = float(value)
    if positive and not value > 0.0:
        raise ValueError(f"{where}{name} must be > 0, got {value}")
    if not positive and not value >= 0.0:
        raise ValueError(f"{where}{name} must be >= 0, got {value}")
    return value


def _check_optimizer(optimizer: Any, where: str) -> None:
    # by what a schedule uses, its param_groups: nn.optim imports this module, not the reverse
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(
            f"{where}optimizer must be an nn.optim.Optimizer, got {type(optimizer).__name__}"
        )


class LRScheduler:
    """Base class: sets each group's lr to ``get_lr()`` at every ``step()``.

    A subclass implements ``get_lr()`` from ``self.last_epoch`` and ``self.base_lrs``, and lists
    the hyperparameters ``state_dict`` keeps in ``_hyperparameters`` (checked again on load by
    ``_check_hyperparameters``).

    Args:
        optimizer: the ``nn.optim.Optimizer`` whose learning rates this sets.
        last_epoch: the index of the last step taken; -1 (the default) starts afresh. Any
            other value needs ``"initial_lr"`` in every group (a resumed optimizer has it).

    Attributes:
        optimizer: the optimizer.
        base_lrs: each group's initial lr.
        last_epoch: the number of ``step()`` calls since the start (0 after the constructor).
    """

    _hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        where = f"{type(self).__name__}: "
        _check_optimizer(optimizer, where)
        last_epoch = _check_int(last_epoch, "last_epoch", where, -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{where}last_epoch={last_epoch} needs 'initial_lr' in parameter group "
                        f"{i}; resume with load_state_dict instead"
                    )
        self.optimizer = optimizer
        self.base_lrs: list[float] = [
            float(group["initial_lr"]) for group in optimizer.param_groups
        ]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at step ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set each group's lr."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs: Sequence[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group set by the last ``step()`` (or the constructor)."""
        return list(self._last_lr)

    def _check_hyperparameters(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """Check and normalize the hyperparameters named in ``_hyperparameters``."""
        return values

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's position and hyperparameters (not the optimizer, not a lambda).

        Returns:
            ``{"last_epoch": int, "base_lrs": [float], "last_lr": [float], hyperparameter: value,
            ...}``.
        """
        state: dict[str, Any] = {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "last_lr": list(self._last_lr),
        }
        for name in self._hyperparameters:
            state[name] = getattr(self, name)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()``: the step count, base lrs and hyperparameters, and set the
        optimizer's learning rates to the saved ``last_lr`` (so the order of loading the optimizer
        and the scheduler does not matter).

        Everything is checked before anything changes.

        Raises:
            ValueError: a missing entry, a count of learning rates that is not the optimizer's
                group count, or a bad value; the message names it.
        """
        where = f"{type(self).__name__}.load_state_dict: "
        if not isinstance(state_dict, dict):
            raise ValueError(f"{where}expected a dict, got {type(state_dict).__name__}")
        required = ("last_epoch", "base_lrs", "last_lr", *self._hyperparameters)
        missing = [key for key in required if key not in state_dict]
        if missing:
            raise ValueError(f"{where}missing entries {missing}")
        last_epoch = _check_int(state_dict["last_epoch"], "last_epoch", where, 0)
        groups = len(self.optimizer.param_groups)
        lists = {}
        for key in ("base_lrs", "last_lr"):
            values = state_dict[key]
            if not isinstance(values, list | tuple) or len(values) != groups:
                raise ValueError(
                    f"{where}{key} must list one lr per parameter group ({groups}), got {values!r}"
                )
            lists[key] = [_check_real(v, f"{key} entry", where) for v in values]
        hyper = self._check_hyperparameters(
            {name: state_dict[name] for name in self._hyperparameters}, where
        )
        for name, value in hyper.items():
            setattr(self, name, value)
        self.last_epoch = last_epoch
        self.base_lrs = lists["base_lrs"]
        self._set_lrs(lists["last_lr"])


class LambdaLR(LRScheduler):
    """Each group's lr is its base lr times ``lr_lambda(last_epoch)`` (as PyTorch's LambdaLR).

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step count, or one such function per parameter group.
            Functions are not part of ``state_dict()``: give the same ones when resuming.
        last_epoch: see ``LRScheduler``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        where = "LambdaLR: "
        _check_optimizer(optimizer, where)
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, list | tuple):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"{where}expected {groups} lr_lambdas (one per parameter group), "
                    f"got {len(lr_lambda)}"
                )
            lambdas = list(lr_lambda)
        else:
            lambdas = [lr_lambda] * groups
        for fn in lambdas:
            if not callable(fn):
                raise TypeError(f"{where}lr_lambda must be callable, got {fn!r}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # lr = base_lr * lambda(t)
        return [
            base_lr * float(fn(self.last_epoch))
            for base_lr, fn in zip(self.base_lrs, self.lr_lambdas)
        ]


class NoamLR(LRScheduler):
    """The schedule of "Attention Is All You Need" (Vaswani et al., 2017, section 5.3).

    ``lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)`` with ``step`` counted
    from 1 (``step = last_epoch + 1``): a linear rise over ``warmup`` steps, then decay as
    ``1 / sqrt(step)``. The value is absolute and the same for every group: the optimizer's own
    lr is ignored (the paper uses Adam with betas (0.9, 0.98), eps 1e-9).

    Args:
        optimizer: the optimizer.
        d_model: the model width (> 0).
        warmup: the warm-up steps (> 0); the peak lr is at step ``warmup``.
        factor: a scale on the whole schedule (> 0).
        last_epoch: see ``LRScheduler``.
    """

    _hyperparameters = ("d_model", "warmup", "factor")

    def __init__(
        self,
        optimizer: Optimizer,
        d_model: int,
        warmup: int,
        factor: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        hyper = self._check_hyperparameters(
            {"d_model": d_model, "warmup": warmup, "factor": factor}, "NoamLR: "
        )
        self.d_model: int = hyper["d_model"]
        self.warmup: int = hyper["warmup"]
        self.factor: float = hyper["factor"]
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        return {
            "d_model": _check_int(values["d_model"], "d_model", where, 1),
            "warmup": _check_int(values["warmup"], "warmup", where, 1),
            "factor": _check_real(values["factor"], "factor", where, positive=True),
        }

    def get_lr(self) -> list[float]:
        step = self.last_epoch + 1
        # lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5)
        lr = self.factor * self.d_model**-0.5 * min(step**-0.5, step * self.warmup**-1.5)
        return [lr] * len(self.base_lrs)


class CosineWarmupLR(LRScheduler):
    """Linear warm-up from 0 to each group's base lr, then cosine decay to ``min_lr``.

    With ``t = last_epoch``::

        t < warmup:                 lr = base_lr * t / warmup
        warmup <= t < total_steps:  lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2,
                                    p = (t - warmup) / (total_steps - warmup)
        t >= total_steps:           lr = min_lr

    The first step runs with lr 0 when ``warmup > 0`` (as Hugging Face's cosine schedule).

    Args:
        optimizer: the optimizer.
        warmup: the warm-up steps (>= 0, at most ``total_steps``).
        total_steps: the step at which the lr reaches ``min_lr`` (> 0).
        min_lr: the final lr (>= 0), the same for every group.
        last_epoch: see ``LRScheduler``.
    """

    _hyperparameters = ("warmup", "total_steps", "min_lr")

    def __init__(
        self,
        optimizer: Optimizer,
        warmup: int,
        total_steps: int,
        min_lr: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        hyper = self._check_hyperparameters(
            {"warmup": warmup, "total_steps": total_steps, "min_lr": min_lr}, "CosineWarmupLR: "
        )
        self.warmup: int = hyper["warmup"]
        self.total_steps: int = hyper["total_steps"]
        self.min_lr: float = hyper["min_lr"]
        super().__init__(optimizer, last_epoch)

    def _check_hyperparameters(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        warmup = _check_int(values["warmup"], "warmup", where, 0)
        total_steps = _check_int(values["total_steps"], "total_steps", where, 1)
        if warmup > total_steps:
            raise ValueError(
                f"{where}warmup ({warmup}) must not exceed total_steps ({total_steps})"
            )
        min_lr = _check_real(values["min_lr"], "min_lr", where)
        return {"warmup": warmup, "total_steps": total_steps, "min_lr": min_lr}

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t >= self.total_steps:
            return [self.min_lr] * len(self.base_lrs)
        if t < self.warmup:
            # lr = base_lr * t / warmup
            return [base_lr * t / self.warmup for base_lr in self.base_lrs]
        progress = (t - self.warmup) / (self.total_steps - self.warmup)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        # lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * progress)) / 2
        return [self.min_lr + (base_lr - self.min_lr) * cosine for base_lr in self.base_lrs]


# the rest of torch.optim.lr_scheduler's schedules (nn/schedulers.py builds them on LRScheduler)
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
