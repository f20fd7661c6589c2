"""Every primitive op, grouped by kind. Each module keeps an op's forward and backward together.

- ``elementwise``: + - * / ** neg, exp log sqrt abs tanh sigmoid relu gelu, maximum minimum clamp
- ``reductions``: sum mean max min var std logsumexp argmax argmin
- ``shape``: reshape flatten transpose permute unsqueeze squeeze expand, indexing, cat stack
  split chunk, where masked_fill tril triu, matmul
- ``fused``: softmax log_softmax layer_norm dropout embedding cross_entropy attention linear
- ``conversion``: cast, device copies, clone, comparisons

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
from minigrad.ops.reductions import argmax, argmin, logsumexp, max, mean, min, std, sum, var
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
