"""Every primitive op, grouped by kind. Each module keeps an op's forward and backward together.

- ``elementwise``: + - * / ** neg, exp log sqrt abs tanh sigmoid relu gelu, maximum minimum clamp
- ``reductions``: sum mean max min amax amin var std logsumexp argmax argmin
- ``shape``: reshape flatten transpose permute unsqueeze squeeze expand, indexing, cat stack
  split chunk, where masked_fill tril triu, matmul
- ``fused``: softmax log_softmax layer_norm dropout embedding cross_entropy attention linear
- ``conversion``: cast, device copies, clone, comparisons

Writing an op (the pattern every op here follows): a ``Function`` subclass with
``forward(ctx, *arrays)`` and ``backward(ctx, g)`` on backend arrays, side by side, a one-line
math comment above the gradient, and a ``backward_graph(ctx, g)``: the same gradient on Tensors,
built from minigrad's own differentiable ops, used only by ``create_graph=True`` (higher-order
gradients). Either ``backward_graph = backward`` when the array formula works on Tensors as it
is, or a second short method that reads ``ctx.saved_tensors`` (the saved inputs and output come
back as Tensors connected to the graph; other saved arrays as constants, which
``ctx.input(i, value)`` reconnects) — see the docstring of ``minigrad.autograd``. Leave the
array ``backward`` as fast as it is: the first-order engine never calls ``backward_graph``.
``tests/test_higher_order.py`` fails for an op without one, and gradgradchecks every case of
``tests/op_cases.py``.

Owns: the list of public ops. May import: ``backend``, ``autograd``, ``errors`` and, for
now, ``tensor`` (the wrappers take and return Tensors); never ``nn`` or ``transformer``.
"""

from minigrad.ops.conversion import cast, clone, compare, logical, logical_not, to_device
from minigrad.ops.elementwise import (
    abs,
    add,
    clamp,
    div,
    exp,
    gelu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
)
from minigrad.ops.fused import (
    attention,
    cross_entropy,
    dropout,
    embedding,
    layer_norm,
    linear,
    log_softmax,
    softmax,
)
from minigrad.ops.reductions import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from minigrad.ops.shape import (
    cat,
    chunk,
    expand,
    flatten,
    getitem,
    masked_fill,
    matmul,
    permute,
    reshape,
    setitem,
    split,
    squeeze,
    stack,
    transpose,
    tril,
    triu,
    unsqueeze,
    where,
)

__all__ = [
    "attention",
    "abs",
    "add",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "cast",
    "cat",
    "chunk",
    "clamp",
    "clone",
    "compare",
    "cross_entropy",
    "div",
    "dropout",
    "embedding",
    "exp",
    "expand",
    "flatten",
    "gelu",
    "getitem",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "logical",
    "logical_not",
    "logsumexp",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "permute",
    "pow",
    "relu",
    "reshape",
    "setitem",
    "sigmoid",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "to_device",
    "transpose",
    "tril",
    "triu",
    "unsqueeze",
    "var",
    "where",
]
