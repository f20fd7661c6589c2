"""Every primitive op, grouped by kind. Each module keeps an op's forward and backward together.

- ``elementwise``: + - * / ** neg, exp log sqrt abs tanh sigmoid relu gelu, maximum minimum clamp
- ``reductions``: sum mean max min amax amin var std logsumexp argmax argmin
- ``shape``: reshape flatten transpose (swapaxes) permute movedim narrow unsqueeze squeeze
  expand, indexing, cat stack
  split chunk unbind, where masked_fill tril triu, matmul mm bmm
- ``fused``: softmax log_softmax layer_norm rms_norm dropout embedding cross_entropy attention linear
- ``conversion``: cast, device copies, clone, comparisons, isnan isinf isfinite isclose allclose
  any all
- ``indexing``: gather scatter scatter_add scatter_reduce masked_select nonzero sort argsort topk
  index_fill index_add index_select take_along_dim
- ``rearrange``: flip roll repeat repeat_interleave unflatten pad diagonal diag einsum
- ``losses``: nll_loss kl_div binary_cross_entropy(_with_logits) normalize

- ``activations``: silu softplus leaky_relu elu
- ``rounding``: sign floor ceil round trunc, remainder (%) floor_divide (//)
- ``conv`` (issue h15): conv1d conv2d, max_pool1d/2d avg_pool1d/2d adaptive_avg_pool1d/2d
- ``views``: CopySlices and AsStrided, the histories an in-place write through a view gives
  its base and the base's views (no public function: the Tensor's in-place methods use it)

Issue 16 added to ``elementwise``: sin cos rsqrt erf log2 exp2 logaddexp; to ``reductions``:
prod cumsum.

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

Owns: the list of public ops. May import: ``backend``, ``autograd``, ``errors``; ``tensor``
for annotations only (the wrappers take and return Tensors, but test them with
``isinstance(x, autograd.TensorBase)`` and make them with ``autograd.wrap``, so nothing here
imports the class above them); never ``nn`` or ``transformer``.
"""

from minigrad.ops import views as views  # writes through views (Tensor's in-place methods)
from minigrad.ops.activations import elu, leaky_relu, silu, softplus
from minigrad.ops.conv import (  # convolution and pooling
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
from minigrad.ops.conversion import (
    all,
    allclose,
    any,
    bitwise,
    bitwise_not,
    cast,
    clone,
    compare,
    isclose,
    isfinite,
    isinf,
    isnan,
    logical,
    logical_not,
    to_device,
)
from minigrad.ops.elementwise import (
    abs,
    add,
    clamp,
    cos,
    div,
    erf,
    exp,
    exp2,
    gelu,
    log,
    log2,
    logaddexp,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    relu,
    rsqrt,
    sigmoid,
    sin,
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
    rms_norm,
    softmax,
)
from minigrad.ops.indexing import (
    argsort,
    gather,
    index_add,
    index_fill,
    index_select,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    scatter_reduce,
    sort,
    take_along_dim,
    topk,
)
from minigrad.ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    kl_div,
    nll_loss,
    normalize,
)
from minigrad.ops.rearrange import (
    diag,
    diagonal,
    einsum,
    flip,
    pad,
    repeat,
    repeat_interleave,
    roll,
    unflatten,
)
from minigrad.ops.reductions import (
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from minigrad.ops.rounding import ceil, floor, floor_divide, remainder, round, sign, trunc
from minigrad.ops.shape import (
    bmm,
    cat,
    chunk,
    expand,
    flatten,
    getitem,
    masked_fill,
    matmul,
    mm,
    movedim,
    narrow,
    permute,
    reshape,
    setitem,
    split,
    squeeze,
    stack,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    where,
)

clip = clamp  # PyTorch's alias
swapaxes = swapdims = transpose  # PyTorch's aliases
moveaxis = movedim

__all__ = [
    "attention",
    "index_add",
    "index_fill",
    "index_select",
    "take_along_dim",
    "unbind",
    "movedim",
    "narrow",
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
    "bitwise",
    "bitwise_not",
    "logsumexp",
    "masked_fill",
    "matmul",
    "mm",
    "bmm",
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
    "rms_norm",
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
    # issue 16
    "allclose",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "ceil",
    "cos",
    "elu",
    "erf",
    "exp2",
    "floor",
    "floor_divide",
    "leaky_relu",
    "log2",
    "logaddexp",
    "remainder",
    "round",
    "rsqrt",
    "sign",
    "silu",
    "sin",
    "softplus",
    "trunc",
    "argsort",
    "gather",
    "masked_select",
    "nonzero",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "sort",
    "topk",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "nll_loss",
    "normalize",
    "all",
    "any",
    "cumsum",
    "prod",
    "diag",
    "diagonal",
    "einsum",
    "flip",
    "pad",
    "repeat",
    "repeat_interleave",
    "roll",
    "unflatten",
    "clip",
    # convolution and pooling
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
]
