"""minigrad: a tensor autograd engine on NumPy or CuPy.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])

The backend (NumPy on the CPU, CuPy on a GPU) is chosen with ``mg.set_backend`` or the
``MINIGRAD_BACKEND`` environment variable; tensors move with ``.to(device)``.
"""

from minigrad import autograd, backend
from minigrad.autograd import enable_grad, grad, is_grad_enabled, no_grad, trace_backward
from minigrad.backend import (
    BackendError,
    bool_,
    cupy_available,
    float16,
    float32,
    float64,
    get_backend,
    int32,
    int64,
    manual_seed,
    set_backend,
)
from minigrad.creation import (
    arange,
    empty,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.ops import (
    abs,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    cross_entropy,
    dropout,
    embedding,
    exp,
    expand,
    flatten,
    gelu,
    layer_norm,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    relu,
    reshape,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    transpose,
    tril,
    triu,
    unsqueeze,
    var,
    where,
)
from minigrad.ops import pow as pow  # noqa: PLC0414 (explicit re-export of a builtin's name)
from minigrad.ops._util import ShapeError
from minigrad.tensor import Tensor

from minigrad import viz  # noqa: E402,I001  (needs Tensor and autograd loaded)

__version__ = "0.1.0"

set_backend(backend.initial_backend())

__all__ = [
    "BackendError", "GradcheckError", "ShapeError", "Tensor", "abs", "arange", "argmax", "argmin",
    "autograd", "backend", "bool_", "cat", "chunk", "clamp", "cross_entropy", "cupy_available",
    "dropout", "embedding", "empty", "enable_grad", "exp", "expand", "eye", "flatten", "float16",
    "float32", "float64", "full", "gelu", "get_backend", "grad", "gradcheck", "int32", "int64",
    "is_grad_enabled", "layer_norm", "log", "log_softmax", "logsumexp", "manual_seed",
    "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "no_grad", "ones",
    "ones_like", "permute", "pow", "rand", "randint", "randn", "relu", "reshape", "set_backend",
    "sigmoid", "softmax", "split", "sqrt", "squeeze", "stack", "std", "sum", "tanh", "tensor",
    "trace_backward", "transpose", "tril", "triu", "unsqueeze", "var", "viz", "where", "zeros",
    "zeros_like",
]
