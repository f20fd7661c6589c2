"""Activations from ``torch.nn.functional`` (issue 16): silu, softplus, leaky_relu, elu.

Each class holds the forward and, right below it, the gradient (``backward`` on arrays,
``backward_graph`` on Tensors for higher-order gradients).

Owns: these ops. May import: ``backend``, ``autograd``, ``errors``, ``ops._util``; ``tensor``
for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minigrad import backend
from minigrad.autograd import Function, wrap
from minigrad.ops.elementwise import _unary

if TYPE_CHECKING:  # annotations only: ops sit below the Tensor
    from minigrad.tensor import Tensor

# =============================================================================================
# More activations (issue 16): silu softplus leaky_relu elu
# =============================================================================================


class Silu(Function):
    @staticmethod
    def forward(ctx, a):
        s = 0.5 * (1 + backend.array_module(a).tanh(0.5 * a))  # sigmoid(a), overflow-free
        ctx.save_for_backward(a, s)
        return a * s

    @staticmethod
    def backward(ctx, g):
        a, s = ctx.saved_tensors
        # da = g * s * (1 + a (1 - s)),  s = sigmoid(a)
        return g * s * (1 + a * (1 - s))

    @staticmethod
    def backward_graph(ctx, g):
        a, _ = ctx.saved_tensors
        s = a.sigmoid()  # rebuilt in the graph: the saved one is a constant
        return g * s * (1 + a * (1 - s))


class Softplus(Function):
    @staticmethod
    def forward(ctx, a, beta=1.0, threshold=20.0):
        xp = backend.array_module(a)
        ba = a * beta
        ctx.save_for_backward(a)
        ctx.beta, ctx.threshold = beta, threshold
        # log(1 + e^(b a)) / b, written as max(b a, 0) + log1p(e^-|b a|) so it never overflows;
        # linear above the threshold, as PyTorch
        soft = (xp.maximum(ba, 0) + xp.log1p(xp.exp(-xp.abs(ba)))) / beta
        return xp.where(ba > threshold, a, soft)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = backend.array_module(g)
        ba = a * ctx.beta
        # da = g * sigmoid(b a), and g above the threshold
        return xp.where(ba > ctx.threshold, g, g * 0.5 * (1 + xp.tanh(0.5 * ba)))

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        ba = a * ctx.beta
        return g * ba.sigmoid().masked_fill(ba > ctx.threshold, 1.0)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        ctx.save_for_backward(a)
        ctx.slope = negative_slope
        return backend.array_module(a).where(a > 0, a, a * negative_slope)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        # da = g where a > 0, else g * negative_slope
        return backend.array_module(g).where(a > 0, g, g * ctx.slope)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        return g * wrap(
            backend.array_module(a.array).where(a.array > 0, 1.0, ctx.slope).astype(g.dtype)
        )


class Elu(Function):
    @staticmethod
    def forward(ctx, a, alpha=1.0):
        xp = backend.array_module(a)
        ctx.save_for_backward(a)
        ctx.alpha = alpha
        # elu(a) = a where a > 0, else alpha (e^a - 1)
        return xp.where(a > 0, a, alpha * xp.expm1(xp.minimum(a, 0)))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = backend.array_module(g)
        # da = g * alpha * e^a where a <= 0, else g (e^a itself: elu(a) + alpha would lose
        # e^a's digits to cancellation for very negative a; NaN takes g, as PyTorch)
        return xp.where(a <= 0, g * ctx.alpha * xp.exp(xp.minimum(a, 0)), g)

    @staticmethod
    def backward_graph(ctx, g):
        (a,) = ctx.saved_tensors
        above = wrap(backend.array_module(a.array).asarray(~(a.array <= 0)))
        return g * (a.clamp(max=0.0).exp() * ctx.alpha).masked_fill(above, 1.0)


def silu(a: Tensor) -> Tensor:
    """Sigmoid linear unit (swish): ``a * sigmoid(a)``."""
    return _unary(Silu, "silu", a)


def softplus(a: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * a)) / beta``, and ``a`` itself where ``beta * a > threshold``."""
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    return _unary(Softplus, "softplus", a, beta=float(beta), threshold=float(threshold))


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``a`` where positive, ``negative_slope * a`` elsewhere (gradient at 0: the slope)."""
    return _unary(LeakyRelu, "leaky_relu", a, negative_slope=float(negative_slope))


def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    """``a`` where positive, ``alpha * (exp(a) - 1)`` elsewhere."""
    return _unary(Elu, "elu", a, alpha=float(alpha))
