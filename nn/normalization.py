"""Normalization over batches, groups and instances, after ``torch.nn``: BatchNorm1d,
BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, and the functional ``batch_norm``,
``group_norm``, ``instance_norm``.

Each is written with minigrad's differentiable ops (mean, rsqrt, reshape), so gradients of
every order come from theirs. The running statistics are buffers updated in place under
``no_grad``, as PyTorch: ``running = (1 - momentum) running + momentum batch``, the batch's
variance there unbiased (N / (N - 1)) while the output is normalized with the biased one.

Owns: these layers and functions. May import: minigrad's public API, ``nn.init``,
``nn.module``.
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.creation import tensor
from minigrad.errors import ShapeError
from minigrad.ops import rsqrt
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, _param, _positive

# =============================================================================================
# functional
# =============================================================================================


def _per_channel(op: str, x: Tensor, **tensors: Tensor | None) -> int:
    """Check that each of ``tensors`` holds one value per channel of ``x`` (N, C, *)."""
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected an input of shape (N, C, *), got {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")
    channels = x.shape[1]
    for name, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(
                f"{op}: {name} must have shape ({channels},) for an input of shape "
                f"{tuple(x.shape)} ({channels} channels), got {tuple(t.shape)}"
            )
    return channels


def _affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """y * weight + bias, one value per channel (dim 1)."""
    shape = (1, y.shape[1]) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _update(running: Tensor | None, batch: Tensor, momentum: float) -> None:
    """running = (1 - momentum) running + momentum batch, in place, outside the graph."""
    if running is not None:
        with no_grad():
            running.mul_(1.0 - momentum).add_(batch.detach().to(running.dtype) * momentum)


def batch_norm(
    input: Tensor,  # noqa: A002 (PyTorch's name)
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel over the batch and positions (Ioffe & Szegedy, 2015).

    Training: ``(x - mean) / sqrt(var + eps)`` with the batch's mean and biased variance per
    channel; the running statistics given are updated in place with ``momentum`` (the
    variance unbiased). Otherwise the running statistics normalize.
    Shapes: input (N, C, *); running_mean, running_var, weight, bias (C,) -> (N, C, *).
    """
    stats = {"running_mean": running_mean, "running_var": running_var}
    channels = _per_channel("batch_norm", input, weight=weight, bias=bias, **stats)
    dims = (0, *range(2, input.ndim))
    count = input.numel() // max(channels, 1)
    if training:
        if count <= 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {tuple(input.shape)}"
            )
        mean = input.mean(dims, keepdim=True)  # (1, C, 1...)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)  # biased: it normalizes
        _update(running_mean, mean.reshape(channels), momentum)
        _update(running_var, var.reshape(channels) * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: without training, running_mean and running_var are needed"
            )
        shape = (1, channels) + (1,) * (input.ndim - 2)
        centered = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    return _affine(centered * rsqrt(var + eps), weight, bias)


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each group of channels of each sample over its channels and positions (Wu &
    He, 2018), then scale and shift per channel. Shapes: input (N, C, *) with C divisible by
    ``num_groups``; weight, bias (C,) -> (N, C, *)."""
    channels = _per_channel("group_norm", input, weight=weight, bias=bias)
    _positive("group_norm", num_groups=num_groups)
    if channels % num_groups:
        raise ShapeError(
            f"group_norm: {channels} channels (input of shape {tuple(input.shape)}) are not "
            f"divisible by num_groups={num_groups}"
        )
    n = input.shape[0]
    grouped = input.reshape(n, num_groups, input.numel() // max(n * num_groups, 1))
    centered = grouped - grouped.mean(-1, keepdim=True)
    var = (centered * centered).mean(-1, keepdim=True)
    return _affine((centered * rsqrt(var + eps)).reshape(input.shape), weight, bias)


def instance_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel of each sample over its positions (Ulyanov et al., 2016). With
    running statistics, they are updated with the instances' mean statistics (as PyTorch), and
    used instead when ``use_input_stats`` is False. Shapes: input (N, C, *); the others (C,)."""
    stats = {"running_mean": running_mean, "running_var": running_var}
    channels = _per_channel("instance_norm", input, weight=weight, bias=bias, **stats)
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    dims = tuple(range(2, input.ndim))
    count = input.numel() // max(input.shape[0] * channels, 1)
    if count <= 1:
        raise ValueError(
            "instance_norm: expected more than 1 spatial element when training, got input of "
            f"shape {tuple(input.shape)}"
        )
    mean = input.mean(dims, keepdim=True)  # (N, C, 1...)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    _update(running_mean, mean.reshape(input.shape[:2]).mean(0), momentum)
    unbiased = var.reshape(input.shape[:2]).mean(0) * (count / (count - 1))
    _update(running_var, unbiased, momentum)
    return _affine(centered * rsqrt(var + eps), weight, bias)


# =============================================================================================
# layers
# =============================================================================================


class _NormBase(Module):
    """The parameters and buffers BatchNorm and InstanceNorm share, named as PyTorch's:
    ``weight``, ``bias``; ``running_mean``, ``running_var``, ``num_batches_tracked``."""

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float | None,
        flags: tuple[bool, bool, bool],
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        _positive(layer, num_features=num_features)
        if not eps > 0:
            raise ValueError(f"{layer}: eps must be positive, got {eps}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, bias = flags
        self.weight = _param((num_features,), device, dtype) if self.affine else None
        self.bias = _param((num_features,), device, dtype) if self.affine and bias else None
        if self.track_running_stats:
            like = _param((num_features,), device, dtype).detach()
            self.register_buffer("running_mean", like)
            self.register_buffer("running_var", like.clone())
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=backend.int64, device=device)
            )
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batch counted."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _factor(self) -> float:
        """This step's momentum: ``momentum``, or 1 / (batches so far) when it is None (a
        cumulative moving average)."""
        if self.momentum is not None:
            return self.momentum
        if self.training and self.track_running_stats:
            return 1.0 / (int(self.num_batches_tracked.item()) + 1)
        return 0.0

    def _count_batch(self) -> None:
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)

    def _check_input_dim(self, x: Tensor, dims: tuple[int, ...]) -> None:
        if x.ndim not in dims:
            expected = " or ".join(f"{d}D" for d in dims)
            raise ShapeError(
                f"{type(self).__name__}: expected {expected} input, got shape {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    input_dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        bias: bool = True,
    ) -> None:
        flags = (affine, track_running_stats, bias)
        super().__init__(num_features, eps, momentum, flags, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x, self.input_dims)
        # the batch's statistics in training, and without running statistics to use
        use_batch = self.training or self.running_mean is None
        keep = not self.training or self.track_running_stats  # running stats to use or update
        mean, var = (self.running_mean, self.running_var) if keep else (None, None)
        y = batch_norm(x, mean, var, self.weight, self.bias, use_batch, self._factor(), self.eps)
        self._count_batch()
        return y


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) -> same shape.

    ``weight`` (C,) starts at 1, ``bias`` at 0 (none with ``bias=False``); buffers ``running_mean`` (0), ``running_var``
    (1) and ``num_batches_tracked`` (int64), as PyTorch's. Training normalizes with the
    batch's statistics and updates the running ones (``momentum=None``: a cumulative average);
    eval normalizes with the running ones.
    """

    input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) -> same shape; parameters, buffers and modes as
    :class:`BatchNorm1d`."""

    input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) -> same shape; parameters, buffers and modes
    as :class:`BatchNorm1d`."""

    input_dims = (5,)


class _InstanceNorm(_NormBase):
    input_dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device: Any = None,
        dtype: Any = None,
        bias: bool = True,
    ) -> None:
        flags = (affine, track_running_stats, bias)
        super().__init__(num_features, eps, momentum, flags, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x, self.input_dims)
        unbatched = x.ndim == self.input_dims[0]
        if unbatched:
            x = x.unsqueeze(0)
        use_input = self.training or not self.track_running_stats
        # as PyTorch: no batch count here, and momentum=None leaves the running stats be
        momentum = 0.0 if self.momentum is None else self.momentum
        mean, var = self.running_mean, self.running_var
        y = instance_norm(x, mean, var, self.weight, self.bias, use_input, momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over (N, C, L) or (C, L) -> same shape: each channel of each
    sample over its positions. ``affine`` and ``track_running_stats`` default to False, as
    PyTorch."""

    input_dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over (N, C, H, W) or (C, H, W) -> same shape, as
    :class:`InstanceNorm1d`."""

    input_dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over (N, C, D, H, W) or (C, D, H, W) -> same shape, as
    :class:`InstanceNorm1d`."""

    input_dims = (4, 5)


class GroupNorm(Module):
    """Group normalization (Wu & He, 2018) over (N, C, *) -> same shape: the C channels in
    ``num_groups`` groups, each normalized per sample. ``weight``, ``bias`` (C,) start at 1
    and 0 when ``affine``."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        bias: bool = True,
    ) -> None:
        super().__init__()
        _positive("GroupNorm", num_groups=num_groups, num_channels=num_channels)
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels {num_channels} must be divisible by num_groups "
                f"{num_groups}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        self.weight = _param((num_channels,), device, dtype) if affine else None
        self.bias = _param((num_channels,), device, dtype) if affine and bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
