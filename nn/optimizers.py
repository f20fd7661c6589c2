"""The rest of ``torch.optim``'s first-order optimizers: RMSprop, Adagrad, Adadelta, Adamax,
NAdam, RAdam, ASGD and Rprop, on ``nn.optim.Optimizer`` (parameter groups, ``maximize``,
``state_dict``), each update written as PyTorch's single-tensor code reads (``torch/optim/*.py``,
the order of operations kept, so the parameters agree to rounding). ``nn.optim`` re-exports
them.

With ``g`` the gradient (negated when ``maximize``), ``t`` the parameter's step count, and
``g + wd p`` where a ``weight_decay`` is an L2 penalty:

- RMSprop: v = a v + (1 - a) g^2; p -= lr g / (sqrt(v - m^2 if centered) + eps), through a
  momentum buffer when ``momentum``; m = the running mean of g.
- Adagrad: s += g^2; p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps).
- Adadelta: v = r v + (1 - r) g^2; d = sqrt(u + eps) / sqrt(v + eps) g; u = r u + (1 - r) d^2;
  p -= lr d.
- Adamax: m = b1 m + (1 - b1) g; u = max(b2 u, |g| + eps); p -= lr / (1 - b1^t) m / u.
- NAdam: Adam with Nesterov momentum, the momentum schedule mu_t = b1 (1 - 0.96^(t psi) / 2).
- RAdam: Adam with the variance rectified while the approximated SMA length is over 5.
- ASGD: p = p (1 - lambd eta) - eta g, and the average ax of the iterates from step t0 on.
- Rprop: a step size per element, times etaplus where the gradient kept its sign, etaminus
  where it flipped (and that gradient then skipped), clamped to step_sizes; p -= sign(g) step.

Owns: these optimizers. May import: minigrad's public API, ``nn.optim``'s base and checks.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from minigrad import backend
from nn.optim import Optimizer, ParamsT, _betas, _flag, _non_negative, _real

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop"]


def _with_decay(param: Any, grad: Any, group: dict[str, Any]) -> Any:
    """g + wd p (an L2 penalty in the gradient)."""
    weight_decay = float(group["weight_decay"])
    return grad + weight_decay * param if weight_decay != 0.0 else grad


def _scalar(value: float) -> float:
    """``value`` rounded to float32: PyTorch keeps NAdam's ``mu_product`` and ASGD's ``eta``
    and ``mu`` in 0-d tensors of its default dtype, float32, whatever the parameters' dtype."""
    return struct.unpack("f", struct.pack("f", value))[0]


def _zeros(param: Any) -> Any:
    return backend.array_module(param).zeros_like(param)


def _probability(value: Any, name: str, where: str, closed: bool = True) -> float:
    value = _real(value, name, where)
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"{where}{name} must be in [0, 1{']' if closed else ')'}, got {value}")
    return value


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as ``torch.optim.RMSprop``.

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).
    """

    _state_tensors = ("square_avg", "momentum_buffer", "grad_avg")
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
            "momentum": momentum, "centered": centered, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "eps", "weight_decay", "momentum", "alpha"):
            group[name] = _non_negative(group[name], name, where)
        _flag(group, "centered", where)
        _flag(group, "maximize", where)
        return group

    def _state_names(self, group: dict[str, Any]) -> set[str]:
        names = {"step", "square_avg"}
        if group["momentum"] > 0:
            names.add("momentum_buffer")
        return names | {"grad_avg"} if group["centered"] else names

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        lr, alpha, eps, momentum = (float(group[k]) for k in ("lr", "alpha", "eps", "momentum"))
        if not state:
            state["step"], state["square_avg"] = 0, _zeros(param)
            if momentum > 0:
                state["momentum_buffer"] = _zeros(param)
            if group["centered"]:
                state["grad_avg"] = _zeros(param)
        state["step"] += 1
        grad = _with_decay(param, grad, group)
        # v = a v + (1 - a) g^2
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * (grad * grad)
        if group["centered"]:
            # m = m + (1 - a) (g - m); avg = sqrt(v - m^2) + eps
            grad_avg = state["grad_avg"]
            grad_avg += (grad - grad_avg) * (1.0 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = xp.sqrt(square_avg) + eps
        if momentum > 0:
            # b = momentum b + g / avg; p -= lr b
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param -= lr * (grad / avg)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    State per parameter: ``step``, ``sum`` (of squared gradients, from
    ``initial_accumulator_value``).
    """

    _state_tensors = ("sum",)
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "eps": eps,
            "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            group[name] = _non_negative(group[name], name, where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(param, float(group["initial_accumulator_value"]))
        state["step"] += 1
        grad = _with_decay(param, grad, group)
        # lr_t = lr / (1 + (t - 1) lr_decay); s += g^2; p -= lr_t g / (sqrt(s) + eps)
        clr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))
        state["sum"] += grad * grad
        param -= clr * (grad / (xp.sqrt(state["sum"]) + float(group["eps"])))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    State per parameter: ``step``, ``square_avg``, ``acc_delta``.
    """

    _state_tensors = ("square_avg", "acc_delta")
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "eps", "weight_decay"):
            group[name] = _non_negative(group[name], name, where)
        group["rho"] = _probability(group["rho"], "rho", where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        rho, eps = float(group["rho"]), float(group["eps"])
        if not state:
            state["step"], state["square_avg"], state["acc_delta"] = 0, _zeros(param), _zeros(param)
        state["step"] += 1
        grad = _with_decay(param, grad, group)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        # v = r v + (1 - r) g^2; d = sqrt(u + eps) / sqrt(v + eps) g; u = r u + (1 - r) d^2
        square_avg *= rho
        square_avg += (1.0 - rho) * (grad * grad)
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1.0 - rho) * (delta * delta)
        param -= float(group["lr"]) * delta


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm (Kingma & Ba, 2015, section 7.1), as
    ``torch.optim.Adamax``.

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.
    """

    _state_tensors = ("exp_avg", "exp_inf")
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "eps", "weight_decay"):
            group[name] = _non_negative(group[name], name, where)
        group["betas"] = _betas(group["betas"], where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"], state["exp_avg"], state["exp_inf"] = 0, _zeros(param), _zeros(param)
        state["step"] += 1
        grad = _with_decay(param, grad, group)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        # m = m + (1 - b1) (g - m); u = max(b2 u, |g| + eps)
        exp_avg += (grad - exp_avg) * (1.0 - beta1)
        xp.maximum(exp_inf * beta2, xp.abs(grad) + float(group["eps"]), out=exp_inf)
        # p -= lr / (1 - b1^t) m / u
        param -= float(group["lr"]) / (1.0 - beta1 ** state["step"]) * (exp_avg / exp_inf)


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016), as ``torch.optim.NAdam``;
    ``decoupled_weight_decay`` shrinks the parameter as AdamW does (NAdamW).

    State per parameter: ``step``, ``mu_product`` (a float), ``exp_avg``, ``exp_avg_sq``.
    """

    _state_tensors = ("exp_avg", "exp_avg_sq")
    _state_ints = ("step",)
    _state_floats = ("mu_product",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "eps", "weight_decay", "momentum_decay"):
            group[name] = _non_negative(group[name], name, where)
        group["betas"] = _betas(group["betas"], where)
        _flag(group, "decoupled_weight_decay", where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        lr, eps, psi = float(group["lr"]), float(group["eps"]), float(group["momentum_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state.update(step=0, mu_product=1.0, exp_avg=_zeros(param), exp_avg_sq=_zeros(param))
        state["step"] += 1
        t = state["step"]
        grad = _decayed(param, grad, group, lr)
        # mu_t = b1 (1 - 0.96^(t psi) / 2), and mu_{t+1}; their running product
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] = _scalar(state["mu_product"] * _scalar(mu))  # float32 math
        exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
        denom = xp.sqrt(exp_avg_sq / (1.0 - beta2**t)) + eps
        # p -= lr (1 - mu_t) / (1 - prod mu) g / denom + lr mu_{t+1} / (1 - prod mu mu_{t+1}) m / denom
        param -= lr * (1.0 - mu) / (1.0 - state["mu_product"]) * (grad / denom)
        param -= lr * mu_next / (1.0 - state["mu_product"] * mu_next) * (exp_avg / denom)


def _moments(state: dict[str, Any], grad: Any, beta1: float, beta2: float) -> tuple[Any, Any]:
    """Adam's moments, updated in place (the lerp and addcmul of NAdam and RAdam): m = m +
    (1 - b1) (g - m), v = b2 v + (1 - b2) g^2. Returns (m, v)."""
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg += (grad - exp_avg) * (1.0 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * (grad * grad)
    return exp_avg, exp_avg_sq


def _decayed(param: Any, grad: Any, group: dict[str, Any], lr: float) -> Any:
    """The weight decay of NAdam and RAdam: p *= 1 - lr wd when decoupled, else g + wd p."""
    weight_decay = float(group["weight_decay"])
    if weight_decay != 0.0 and group["decoupled_weight_decay"]:
        param *= 1.0 - lr * weight_decay
        return grad
    return _with_decay(param, grad, group)


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``; ``decoupled_weight_decay``
    as in NAdam.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    _state_tensors = ("exp_avg", "exp_avg_sq")
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "eps", "weight_decay"):
            group[name] = _non_negative(group[name], name, where)
        group["betas"] = _betas(group["betas"], where)
        _flag(group, "decoupled_weight_decay", where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state.update(step=0, exp_avg=_zeros(param), exp_avg_sq=_zeros(param))
        state["step"] += 1
        t = state["step"]
        grad = _decayed(param, grad, group, lr)
        exp_avg, exp_avg_sq = _moments(state, grad, beta1, beta2)
        corrected = exp_avg / (1.0 - beta1**t)
        bias_correction2 = 1.0 - beta2**t
        # the SMA's length: rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * beta2**t / bias_correction2
        if rho_t > 5.0:  # the variance is tractable: rectified adaptive step
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            adaptive = math.sqrt(bias_correction2) / (xp.sqrt(exp_avg_sq) + eps)
            param -= corrected * lr * adaptive * rect
        else:  # early steps: momentum SGD
            param -= corrected * lr


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992), as ``torch.optim.ASGD``: ``eta`` decays as
    lr / (1 + lambd lr t)^alpha, and ``ax`` averages the iterates from step ``t0`` on.

    State per parameter: ``step``, ``eta``, ``mu`` (floats), ``ax``.
    """

    _state_tensors = ("ax",)
    _state_ints = ("step",)
    _state_floats = ("eta", "mu")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
            "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        for name in ("lr", "weight_decay", "lambd", "alpha", "t0"):
            group[name] = _non_negative(group[name], name, where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, lambd, alpha, t0 = (float(group[k]) for k in ("lr", "lambd", "alpha", "t0"))
        if not state:
            state.update(step=0, eta=_scalar(lr), mu=1.0, ax=_zeros(param))
        state["step"] += 1
        grad = _with_decay(param, grad, group)
        eta = state["eta"]
        # p = p (1 - lambd eta) - eta g
        param *= 1.0 - lambd * eta
        param -= eta * grad
        # ax = ax + mu (p - ax) (ax = p while mu is 1)
        ax = state["ax"]
        if state["mu"] != 1.0:
            ax += (param - ax) * state["mu"]
        else:
            ax[...] = param
        t = state["step"]
        state["eta"] = _scalar(lr / (1.0 + lambd * lr * t) ** alpha)
        state["mu"] = _scalar(1.0 / max(1.0, t - t0))


class Rprop(Optimizer):
    """Resilient backpropagation (Riedmiller & Braun, 1993), as ``torch.optim.Rprop``.

    State per parameter: ``step``, ``prev`` (the last gradient used), ``step_size``.
    """

    _state_tensors = ("prev", "step_size")
    _state_ints = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50.0),
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> dict[str, Any]:
        group["lr"] = _non_negative(group["lr"], "lr", where)
        etaminus, etaplus = _pair(group["etas"], "etas", where)
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(
                f"{where}etas must satisfy 0 < etaminus < 1 < etaplus, got {group['etas']}"
            )
        group["etas"] = (etaminus, etaplus)
        group["step_sizes"] = _pair(group["step_sizes"], "step_sizes", where)
        _flag(group, "maximize", where)
        return group

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.array_module(param)
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        if not state:
            state.update(step=0, prev=_zeros(param), step_size=xp.full_like(param, group["lr"]))
        state["step"] += 1
        # the factor: etaplus where g kept its sign, etaminus where it flipped, 1 where g p is 0
        sign = xp.sign(grad * state["prev"])
        factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1.0))
        step_size = state["step_size"]
        step_size *= factor.astype(param.dtype)
        xp.clip(step_size, low, high, out=step_size)
        grad = xp.where(sign < 0, 0, grad)  # a flipped gradient is skipped this step
        param -= xp.sign(grad) * step_size
        state["prev"][...] = grad


def _pair(value: Any, name: str, where: str) -> tuple[float, float]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{where}{name} must be a pair of numbers, got {value!r}")
    return (_real(value[0], f"{name}[0]", where), _real(value[1], f"{name}[1]", where))
