"""The rest of ``torch.nn.functional``'s activations (PyTorch breadth): mish selu celu hardtanh
relu6 hardswish hardsigmoid logsigmoid softsign softshrink hardshrink tanhshrink threshold glu
prelu rrelu softmin, and ``gumbel_softmax`` (the in-place forms PyTorch has at its top level,
``selu_`` ``celu_`` ``threshold_`` ``rrelu_``, are in ``minigrad/activations_inplace.py``, above
the Tensor).

Each class holds the forward and, right below it, the gradient (``backward`` on arrays,
``backward_graph`` on Tensors for higher-order gradients). At a kink the gradient is PyTorch's:

- hardtanh, relu6: 0 at ``min_val`` and ``max_val`` (1 strictly between);
- hardswish: 0 at -3, 1 at 3; hardsigmoid: 0 at -3 and 3;
- softshrink, hardshrink: 0 at +-lambd; threshold: 0 at the threshold;
- selu, celu: the negative side's slope at 0; prelu, rrelu: the negative slope at 0.

At NaN the piecewise-linear ones pass the gradient (PyTorch's scalar kernels; its vectorized
float64 kernels for hardtanh and the shrinks give 0 instead), hardsigmoid gives 0.

float16 inputs are computed in float32 and rounded once, as PyTorch's opmath; integer inputs
are refused where PyTorch refuses them (hardtanh, relu6 and threshold take them, with the
bounds truncated to ints; softsign and tanhshrink give the default float).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util`` and the
op modules below it; ``tensor`` for annotations only.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from minigrad import backend
from minigrad.autograd import Function, TensorBase, wrap
from minigrad.errors import DTypeError, ShapeError
from minigrad.ops._util import half_in_float32, norm_dim, require_float
from minigrad.ops.activations import leaky_relu, softplus
from minigrad.ops.conversion import cast
from minigrad.ops.fused import softmax
from minigrad.ops.shape import cat, reshape, where

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# SELU's constants (Klambauer et al., 2017), as PyTorch's
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(xp: Any, a: Any) -> Any:
    return 0.5 * (1 + xp.tanh(0.5 * a))  # sigmoid(a), overflow-free


# =============================================================================================
# Smooth: mish, selu/celu (a scaled elu), logsigmoid, softsign, tanhshrink
# =============================================================================================


class Mish(Function):
    @staticmethod
    def forward(ctx, a):
        xp = backend.array_module(a)
        t = xp.tanh(xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a))))  # tanh(softplus(a))
        ctx.save_for_backward(a, t)
        return a * t

    @staticmethod
    def backward(ctx, g):
        a, t = ctx.saved_tensors
        # da = g * (t + a * sigmoid(a) * (1 - t^2)),  t = tanh(softplus(a))
        return g * (t + a * _sigmoid(backend.array_module(a), a) * (1 - t * t))

    @staticmethod
    def backward_graph(ctx, g):
        a, _ = ctx.saved_tensors
        t = softplus(a).tanh()  # rebuilt in the graph: the saved one is a constant
        return g * (t + a * a.sigmoid() * (1 - t * t))


class ScaledElu(Function):
    """PyTorch's ``elu`` with its scale and input scale: ``selu`` is (SELU_ALPHA, SELU_SCALE,
    1), ``celu`` (alpha, 1, 1 / alpha)."""

    @staticmethod
    def forward(ctx, a, alpha, scale, input_scale):
        xp = backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.alpha, ctx.scale, ctx.input_scale = alpha, scale, input_scale
        # scale * a where a > 0, else scale * alpha * (e^(input_scale * a) - 1)
        negative = (scale * alpha) * xp.expm1(xp.minimum(a, 0) * input_scale)
        return xp.where(a > 0, a * scale, negative)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = backend.array_module(g)
        slope = ctx.scale * ctx.alpha * ctx.input_scale
        # da = g * scale * alpha * input_scale * e^(input_scale * a) where a <= 0, else
        # g * scale (NaN takes the positive side, as PyTorch)
        return xp.where(
            a <= 0, g * slope * xp.exp(xp.minimum(a, 0) * ctx.input_scale), g * ctx.scale
        )

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        above = wrap(backend.array_module(a.array).asarray(~(a.array <= 0)))
        slope = ctx.scale * ctx.alpha * ctx.input_scale
        negative = (a.clamp(max=0.0) * ctx.input_scale).exp() * slope
        return g * negative.masked_fill(above, ctx.scale)


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        xp = backend.array_module(a)
        ctx.save_for_backward(a)
        # log(sigmoid(a)) = min(a, 0) - log(1 + e^-|a|): no overflow for large |a|
        return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g * sigmoid(-a)
        return g * _sigmoid(backend.array_module(a), -a)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * (-a).sigmoid()


class Softsign(Function):
    @staticmethod
    def forward(ctx, a):
        d = 1 + backend.array_module(a).abs(a)
        out = a / d
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        xp = backend.array_module(a)
        # da = g * (1 - |y|) / (1 + |a|) = g / (1 + |a|)^2  (NaN at +-inf, as PyTorch's)
        return g * (1 - xp.abs(out)) / (1 + xp.abs(a))

    @staticmethod
    def backward_graph(ctx, g):
        a, _ = ctx.saved_tensors
        d = 1 + a.abs()
        return g / (d * d)


class Tanhshrink(Function):
    @staticmethod
    def forward(ctx, a):
        t = backend.array_module(a).tanh(a)
        ctx.save_for_backward(a, t)
        return a - t

    @staticmethod
    def backward(ctx, g):
        _, t = ctx.saved_tensors
        # da = g * tanh(a)^2
        return g * (t * t)

    @staticmethod
    def backward_graph(ctx, g):
        a, _ = ctx.saved_tensors
        t = a.tanh()
        return g * (t * t)


# =============================================================================================
# Piecewise: hardtanh (relu6), hardswish, hardsigmoid, softshrink, hardshrink, threshold
# =============================================================================================


class Hardtanh(Function):
    @staticmethod
    def forward(ctx, a, min_val, max_val):
        xp = backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.min_val, ctx.max_val = min_val, max_val
        # min(max(a, min_val), max_val); NaN stays NaN
        return xp.minimum(xp.maximum(a, min_val), max_val)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g where min_val < a < max_val (0 at the bounds), and g at NaN
        return g * ~((a <= ctx.min_val) | (a >= ctx.max_val))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ~((a.array <= ctx.min_val) | (a.array >= ctx.max_val))  # a constant mask


class Hardswish(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        # a * relu6(a + 3) / 6
        return a * backend.array_module(a).clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = 0 where a <= -3, g * (a / 3 + 1/2) where -3 < a < 3, g where a >= 3 (and NaN)
        return xp.where(a <= -3, 0, xp.where(a < 3, g * (a / 3 + 0.5), g))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        xp = backend.array_module(a.array)
        middle = wrap(xp.asarray((a.array > -3) & (a.array < 3)))
        above = ~((a.array <= -3) | (a.array < 3))  # a >= 3, or NaN
        return where(middle, g * (a / 3 + 0.5), g * above)


class Hardsigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        # relu6(a + 3) / 6
        return backend.array_module(a).clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g / 6 where -3 < a < 3, else 0 (NaN too, as PyTorch)
        return g * ((a > -3) & (a < 3)) / 6

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ((a.array > -3) & (a.array < 3)) / 6  # a constant mask


def _inside(a: Any, lambd: float) -> Any:
    """The band -lambd <= a <= lambd the shrinks zero (False at NaN)."""
    return (a >= -lambd) & (a <= lambd)


class Softshrink(Function):
    @staticmethod
    def forward(ctx, a, lambd):
        xp = backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.lambd = lambd
        # a - lambd above lambd, a + lambd below -lambd, else 0 (a * 0: NaN stays NaN)
        return xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, a * 0))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g outside [-lambd, lambd], else 0 (0 at +-lambd)
        return g * ~_inside(a, ctx.lambd)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ~_inside(a.array, ctx.lambd)  # a constant mask


class Hardshrink(Function):
    @staticmethod
    def forward(ctx, a, lambd):
        ctx.save_for_backward(a)
        ctx.lambd = lambd
        # a outside [-lambd, lambd], else 0
        return backend.array_module(a).where(_inside(a, lambd), 0, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g outside [-lambd, lambd], else 0 (0 at +-lambd)
        return g * ~_inside(a, ctx.lambd)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ~_inside(a.array, ctx.lambd)  # a constant mask


class Threshold(Function):
    @staticmethod
    def forward(ctx, a, threshold, value):
        ctx.save_for_backward(a)
        ctx.threshold = threshold
        # value where a <= threshold, else a (NaN stays NaN)
        return backend.array_module(a).where(a <= threshold, value, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g where a > threshold (and NaN), else 0
        return g * ~(a <= ctx.threshold)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * ~(a.array <= ctx.threshold)  # a constant mask


# =============================================================================================
# With parameters or draws: glu, prelu, rrelu
# =============================================================================================


class Glu(Function):
    @staticmethod
    def forward(ctx, x, dim):
        xp = backend.array_module(x)
        a, b = xp.split(x, 2, axis=dim)
        s = _sigmoid(xp, b)
        ctx.save_for_backward(x, s)
        ctx.dim = dim
        # a * sigmoid(b), (a, b) the halves of x along dim
        return a * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        xp = backend.array_module(g)
        a = xp.split(x, 2, axis=ctx.dim)[0]
        ga = g * s
        # da = g * s ; db = g * a * s * (1 - s),  s = sigmoid(b)
        return xp.concatenate([ga, ga * a * (1 - s)], axis=ctx.dim)

    @staticmethod
    def backward_graph(ctx, g):
        x, _ = ctx.saved_tensors
        a, b = x.chunk(2, ctx.dim)
        ga = g * b.sigmoid()
        return cat([ga, ga * a * (1 - b.sigmoid())], ctx.dim)


class Prelu(Function):
    @staticmethod
    def forward(ctx, x, w):  # w: () or (C, 1, ..., 1), broadcasting against x
        ctx.save_for_backward(x, w)
        # x where x > 0, else w * x
        return backend.array_module(x).where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp = backend.array_module(g)
        positive = x > 0
        # dx = g where x > 0, else g * w ; dw = g * x where x <= 0 (summed back by the engine)
        return xp.where(positive, g, g * w), xp.where(positive, 0, g * x)

    @staticmethod
    def backward_graph(ctx, g):
        x, w = ctx.saved_tensors
        positive = wrap(backend.array_module(x.array).asarray(x.array > 0))
        return where(positive, g, g * w), (g * x).masked_fill(positive, 0.0)


class RreluWithNoise(Function):
    @staticmethod
    def forward(ctx, a, lower, upper, source):
        xp = backend.array_module(a)
        r = backend.uniform(a.shape, a.dtype, backend.device_of(a), source)
        # a slope drawn from U(lower, upper) where a <= 0, else 1; out = a * slope
        noise = xp.where(a <= 0, lower + (upper - lower) * r, 1).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, noise)  # a too: PyTorch's node saves it (rrelu_ checks it)
        return a * noise

    @staticmethod
    def backward(ctx, g):
        _, noise = ctx.saved_tensors
        # da = g * slope, the slope drawn in the forward
        return g * noise

    backward_graph = backward  # the slope is a constant


# =============================================================================================
# Public functions (checks here, once)
# =============================================================================================


def _require_tensor(op: str, a: Any) -> None:
    if not isinstance(a, TensorBase):
        raise TypeError(f"{op}: expected a Tensor as the input, got {type(a).__name__}")


def _apply(op: type[Function], name: str, a: Tensor, **options: Any) -> Tensor:
    """``op`` on a floating point ``a`` (float16 computed in float32 and rounded once, as
    PyTorch's opmath); integer and bool tensors are refused, naming ``name``."""
    _require_tensor(name, a)
    require_float(name, a)
    if a.array.dtype == backend.float16:
        return half_in_float32(lambda t: op.apply(t, **options), a)
    return op.apply(a, **options)


def _apply_to_any_number(op: type[Function], name: str, a: Tensor, **options: Any) -> Tensor:
    """``op`` on ``a`` where PyTorch takes integer tensors too (hardtanh, relu6, threshold):
    an integer ``a`` stays integer, its numeric options truncated to ints as PyTorch's."""
    _require_tensor(name, a)
    kind = a.array.dtype.kind
    if kind == "b":
        raise DTypeError(f"{name}: bool inputs are not supported, as in PyTorch (shape {a.shape})")
    if kind in "iu":
        return op.apply(a, **{key: int(v) for key, v in options.items()})
    return _apply(op, name, a, **options)


def _apply_promoting(op: type[Function], name: str, a: Tensor) -> Tensor:
    """``op`` where PyTorch's is a composite that promotes an integer ``a`` to the default
    float (softsign, tanhshrink); bool is refused."""
    _require_tensor(name, a)
    if a.array.dtype.kind in "iu":
        a = cast(a, backend.DEFAULT_FLOAT)
    return _apply(op, name, a)


def mish(input: Tensor) -> Tensor:  # noqa: A002
    """``input * tanh(softplus(input))`` (Misra, 2019). Shapes: (*) -> (*)."""
    return _apply(Mish, "mish", input)


def selu(input: Tensor) -> Tensor:  # noqa: A002
    """``scale * elu(input, alpha)`` with SELU's constants (alpha 1.6733, scale 1.0507);
    gradient at 0: ``scale * alpha``, as PyTorch's. Shapes: (*) -> (*)."""
    return _apply(ScaledElu, "selu", input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:  # noqa: A002
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``; ``alpha`` must be nonzero.
    Shapes: (*) -> (*)."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides the input), as in PyTorch")
    alpha = float(alpha)
    return _apply(ScaledElu, "celu", input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``log(sigmoid(input))``, computed as ``min(x, 0) - log1p(exp(-|x|))`` so that large
    ``|x|`` neither overflows nor rounds to ``-inf``. Shapes: (*) -> (*)."""
    return _apply(LogSigmoid, "logsigmoid", input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """``input / (1 + |input|)``; an integer input gives the default float, as PyTorch's.
    Shapes: (*) -> (*)."""
    return _apply_promoting(Softsign, "softsign", input)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """``input - tanh(input)``; an integer input gives the default float, as PyTorch's.
    Shapes: (*) -> (*)."""
    return _apply_promoting(Tanhshrink, "tanhshrink", input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:  # noqa: A002
    """``input`` clamped to ``[min_val, max_val]``; gradient 1 strictly inside, 0 at and beyond
    the bounds. Integer inputs stay integer. Shapes: (*) -> (*)."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val ({min_val} > {max_val})"
        )
    return _apply_to_any_number(Hardtanh, "hardtanh", input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor) -> Tensor:  # noqa: A002
    """``min(max(input, 0), 6)``: ``hardtanh(input, 0, 6)``, gradient 0 at 0 and 6.
    Shapes: (*) -> (*)."""
    return _apply_to_any_number(Hardtanh, "relu6", input, min_val=0.0, max_val=6.0)


def hardswish(input: Tensor) -> Tensor:  # noqa: A002
    """``input * relu6(input + 3) / 6`` (Howard et al., 2019); gradient 0 at -3, 1 at 3.
    Shapes: (*) -> (*)."""
    return _apply(Hardswish, "hardswish", input)


def hardsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """``relu6(input + 3) / 6``; gradient 1/6 strictly inside (-3, 3), else 0.
    Shapes: (*) -> (*)."""
    return _apply(Hardsigmoid, "hardsigmoid", input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0; ``lambd`` must be
    in [0, the dtype's largest value]. Shapes: (*) -> (*)."""
    _require_tensor("softshrink", input)
    require_float("softshrink", input)
    largest = float(backend.numpy_module().finfo(input.array.dtype).max)
    if not 0 <= lambd <= largest:
        raise ValueError(
            f"softshrink: lambda must be in range [0, {largest:g}] for input dtype "
            f"{input.dtype}, but found {lambd}"
        )
    return _apply(Softshrink, "softshrink", input, lambd=float(lambd))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """``x`` where ``|x| > lambd``, else 0. Shapes: (*) -> (*)."""
    return _apply(Hardshrink, "hardshrink", input, lambd=float(lambd))


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:  # noqa: A002
    """``input`` where it is greater than ``threshold``, else ``value``; gradient 0 at the
    threshold. Integer inputs stay integer. Shapes: (*) -> (*)."""
    return _apply_to_any_number(Threshold, "threshold", input, threshold=threshold, value=value)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """Gated linear unit: ``a * sigmoid(b)``, ``a`` and ``b`` the two halves of ``input``
    along ``dim``. Shapes: (*, 2n, *) -> (*, n, *) (``dim`` must have an even size)."""
    _require_tensor("glu", input)
    if input.ndim == 0:
        raise ShapeError("glu does not support scalars because halving size must be even")
    d = norm_dim(dim, input.ndim, input.shape)
    if input.shape[d] % 2:
        raise ShapeError(
            f"glu: halving dimension must be even, but dimension {dim} is size "
            f"{input.shape[d]} (input of shape {tuple(input.shape)})"
        )
    return _apply(Glu, "glu", input, dim=d)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """``x`` where positive, ``weight * x`` elsewhere, with a learned slope per channel.

    Shapes: input (N, C, *) with weight (C,) or one element (() or (1,)); an input of fewer
    than 2 dims has one channel, so its weight has one element. ``weight`` has ``input``'s dtype.
    """
    _require_tensor("prelu", input)
    if not isinstance(weight, TensorBase):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    require_float("prelu", input)
    if weight.ndim > 1:
        raise ShapeError(
            f"prelu: expected weight to be a scalar or 1-D tensor, got shape {tuple(weight.shape)}"
        )
    if weight.dtype != input.dtype:
        raise DTypeError(
            f"prelu: type promoting is not supported: the input is {input.dtype}, the weight "
            f"{weight.dtype}; cast one of them"
        )
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise ShapeError(
            f"prelu: the weight has {weight.numel()} parameters but the input of shape "
            f"{tuple(input.shape)} has {channels} channel(s) (dim 1); give 1 or {channels}"
        )
    if weight.numel() == 1:
        weight = reshape(weight, ())
    else:
        weight = reshape(weight, (channels,) + (1,) * (input.ndim - 2))  # (C, 1, ..., 1)
    if input.array.dtype == backend.float16:
        return half_in_float32(Prelu.apply, input, weight)
    return Prelu.apply(input, weight)


def rrelu(
    input: Tensor,  # noqa: A002
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator: Any = None,
) -> Tensor:
    """Randomized leaky ReLU (Xu et al., 2015): ``x`` where positive, ``slope * x`` elsewhere.

    In training each element's slope is drawn from U(``lower``, ``upper``) (from
    ``generator``, a ``minigrad.Generator``, else from the generator ``manual_seed`` seeds)
    and the gradient uses the drawn slope; otherwise the slope is ``(lower + upper) / 2``
    (``leaky_relu``). Shapes: (*) -> (*).
    """
    _require_tensor("rrelu", input)
    if lower > upper:
        raise ValueError(
            f"rrelu: lower bound should be less than or equal to the upper bound "
            f"(lower={lower}, upper={upper})"
        )
    require_float("rrelu", input)
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    return _apply(
        RreluWithNoise, "rrelu", input, lower=float(lower), upper=float(upper), source=generator
    )


def implicit_softmax_dim(name: str, ndim: int) -> int:
    """The dim PyTorch's softmax family picks when given none (0 for 0-, 1- and 3-d inputs,
    else 1), with its deprecation warning."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to "
        "include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """``softmax(-input, dim)``; ``dtype``: cast ``input`` to it first. ``dim=None`` picks one
    as PyTorch (with its warning). Shapes: (*) -> (*)."""
    _require_tensor("softmin", input)
    if dim is None:
        dim = implicit_softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = cast(input, dtype)
    return softmax(-input, dim)


def gumbel_softmax(
    logits: Tensor,
    tau: float = 1.0,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
) -> Tensor:
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + g) / tau, dim)`` with
    ``g = -log(E)``, ``E`` standard exponential draws (the generator ``manual_seed`` seeds).

    ``hard=True``: the one-hot of the sample's argmax in the forward, the soft sample's
    gradient in the backward (straight-through: ``y_hard - y_soft.detach() + y_soft``).
    ``eps`` is deprecated and has no effect, as in PyTorch. Shapes: (*) -> (*).
    """
    _require_tensor("gumbel_softmax", logits)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    require_float("gumbel_softmax", logits)
    xp = backend.array_module(logits.array)
    draw_dtype = backend.float32 if logits.dtype == backend.float16 else logits.dtype
    u = backend.uniform(tuple(logits.shape), draw_dtype, logits.device)
    gumbels = wrap((-xp.log(-xp.log1p(-u))).astype(logits.dtype))  # -log(E), E = -log(1 - U)
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    d = norm_dim(dim, y_soft.ndim, y_soft.shape)
    if y_soft.ndim == 0:  # one element: its one-hot is 1
        one_hot = xp.ones((), dtype=bool)
    else:
        along_d = [1] * y_soft.ndim
        along_d[d] = -1
        argmax = xp.expand_dims(y_soft.array.argmax(axis=d), d)
        one_hot = xp.arange(y_soft.shape[d]).reshape(along_d) == argmax
    y_hard = wrap(one_hot.astype(y_soft.dtype))
    return y_hard - y_soft.detach() + y_soft
