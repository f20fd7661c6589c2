"""minigrad: a tensor autograd engine on NumPy or CuPy.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])

The backend (NumPy on the CPU, CuPy on a GPU) is chosen with ``mg.set_backend`` or the
``MINIGRAD_BACKEND`` environment variable; tensors move with ``.to(device)``.

Owns: the public API, re-exported from the modules below. The layers, each importing only
the ones before it: errors <- backend <- autograd <- ops <- tensor <- (creation, gradcheck, viz)
<- nn <- transformer.
"""

from minigrad import (
    autograd,
    backend,
    viz,  # noqa: E402,I001  (needs Tensor and autograd loaded)
)
from minigrad.anomaly import AnomalyError, detect_anomaly
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
from minigrad.errors import DeviceError, DimError, DTypeError, MinigradError, ShapeError
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.memory import trace_memory
from minigrad.ops import (
    abs,
    argmax,
    argmin,
    attention,
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
    linear,
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
from minigrad.sweep import gradcheck_sweep
from minigrad.tensor import Tensor, as_tensor

__version__ = "0.1.0"

set_backend(backend.initial_backend())

__all__ = [
    "AnomalyError",
    "BackendError",
    "DTypeError",
    "DeviceError",
    "DimError",
    "GradcheckError",
    "MinigradError",
    "ShapeError",
    "Tensor",
    "abs",
    "arange",
    "argmax",
    "argmin",
    "as_tensor",
    "attention",
    "autograd",
    "backend",
    "bool_",
    "cat",
    "chunk",
    "clamp",
    "cross_entropy",
    "cupy_available",
    "detect_anomaly",
    "dropout",
    "embedding",
    "empty",
    "enable_grad",
    "exp",
    "expand",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "full",
    "gelu",
    "get_backend",
    "grad",
    "gradcheck",
    "gradcheck_sweep",
    "gradgradcheck",
    "int32",
    "int64",
    "is_grad_enabled",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "no_grad",
    "ones",
    "ones_like",
    "permute",
    "pow",
    "rand",
    "randint",
    "randn",
    "relu",
    "reshape",
    "set_backend",
    "sigmoid",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "trace_backward",
    "trace_memory",
    "transpose",
    "tril",
    "triu",
    "unsqueeze",
    "var",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]
