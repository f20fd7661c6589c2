"""The one registry of op cases: every public op, on several shapes, with its PyTorch twin.

Each case names the public op it exercises (``op``), a minigrad function and a PyTorch
function taking the same inputs, and how to draw each input:

- ``F(shape)``: float, standard normal (differentiable)
- ``Pos(shape)``: float in [0.5, 2] (for log, sqrt, the base of pow)
- ``Away(shape)``: float with |x| in [0.2, 2], away from the kinks of abs, relu, clamp
- ``Distinct(shape)``: a random permutation of well-separated values (max/min without ties)
- ``Const(array)``: a fixed float input (e.g. ties, -inf masks), still differentiable
- ``Fixed(array)``: a float input that is not differentiable (probability targets)
- ``Ints(array)`` / ``Mask(array)``: integer or bool inputs, not differentiable

``test_ops.py`` gradchecks every case in float64, compares it with PyTorch, and checks that
float32 inputs give float32 outputs and gradients. ``test_registry_covers_public_ops`` fails when a
public op has no case here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg

try:
    import torch
    import torch.nn.functional as tnf
except ImportError:  # the PyTorch columns are skipped without it
    torch = None
    tnf = None


# -- input specs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    shape: tuple[int, ...]
    diff = True

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal(self.shape)


@dataclass(frozen=True)
class Pos(F):
    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(0.5, 2.0, self.shape)


@dataclass(frozen=True)
class Away(F):
    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(0.2, 2.0, self.shape) * rng.choice([-1.0, 1.0], self.shape)


@dataclass(frozen=True)
class Distinct(F):
    def draw(self, rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(self.shape))
        return (rng.permutation(n) * 0.1 - n * 0.05).reshape(self.shape)


@dataclass(frozen=True)
class Const:
    value: Any
    diff = True

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.value, dtype=np.float64)


@dataclass(frozen=True)
class Fixed(Const):
    """A float input that is data, not a variable (e.g. probability targets)."""

    diff = False


@dataclass(frozen=True)
class Ints:
    value: Any
    diff = False

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.value, dtype=np.int64)


@dataclass(frozen=True)
class Mask:
    value: Any
    diff = False

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.value, dtype=bool)


@dataclass
class OpCase:
    name: str
    op: str
    fn: Callable[..., Any]
    inputs: list[Any]
    torch_fn: Callable[..., Any] | None = None
    atol: float = 1e-5
    rtol: float = 1e-3
    seeded: bool = False  # re-seed before every call (dropout), so the function is deterministic
    tags: set[str] = field(default_factory=set)


CASES: list[OpCase] = []


def case(
    name: str,
    op: str,
    fn: Callable[..., Any],
    inputs: list[Any],
    torch_fn: Callable[..., Any] | None = None,
    **kw: Any,
) -> None:
    CASES.append(OpCase(name, op, fn, inputs, torch_fn, **kw))


NEG_INF = float("-inf")

# -- elementwise binary, with broadcasting -----------------------------------------------------

BROADCAST_PAIRS = [
    ((3, 2), (3, 2)),
    ((3, 2), (2,)),
    ((3, 1), (1, 2)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1,), (2, 1)),
]
for sa, sb in BROADCAST_PAIRS:
    tag = f"{sa}-{sb}"
    case(f"add{tag}", "add", lambda a, b: a + b, [F(sa), F(sb)], lambda a, b: a + b)
    case(f"sub{tag}", "sub", lambda a, b: a - b, [F(sa), F(sb)], lambda a, b: a - b)
    case(f"mul{tag}", "mul", lambda a, b: a * b, [F(sa), F(sb)], lambda a, b: a * b)
    case(f"div{tag}", "div", lambda a, b: a / b, [F(sa), Away(sb)], lambda a, b: a / b)
    case(f"pow{tag}", "pow", lambda a, b: a**b, [Pos(sa), F(sb)], lambda a, b: a**b)
    case(f"maximum{tag}", "maximum", mg.maximum, [F(sa), F(sb)], lambda a, b: torch.maximum(a, b))
    case(f"minimum{tag}", "minimum", mg.minimum, [F(sa), F(sb)], lambda a, b: torch.minimum(a, b))

# ties: each side gets half the gradient, which is also what central differences measure
TIE = [[1.0, 2.0, -0.5], [0.3, 0.3, 4.0]]
case(
    "maximum-ties",
    "maximum",
    mg.maximum,
    [Const(TIE), Const([[1.0, 0.0, -0.5], [0.3, 1.0, 4.0]])],
    lambda a, b: torch.maximum(a, b),
)
case(
    "minimum-ties",
    "minimum",
    mg.minimum,
    [Const(TIE), Const([[1.0, 0.0, -0.5], [0.3, 1.0, 4.0]])],
    lambda a, b: torch.minimum(a, b),
)

# Python scalars on either side stay weak constants
case("add-scalar", "add", lambda a: a + 2.5, [F((3, 2))], lambda a: a + 2.5)
case("radd-scalar", "add", lambda a: 2.5 + a, [F((3, 2))], lambda a: 2.5 + a)
case("rsub-scalar", "sub", lambda a: 1.5 - a, [F((3, 2))], lambda a: 1.5 - a)
case("mul-scalar", "mul", lambda a: a * -3.0, [F((3, 2))], lambda a: a * -3.0)
case("rdiv-scalar", "div", lambda a: 2.0 / a, [Away((3, 2))], lambda a: 2.0 / a)
case("pow-int", "pow", lambda a: a**3, [F((3, 2))], lambda a: a**3)
case("pow-float", "pow", lambda a: a**2.5, [Pos((3, 2))], lambda a: a**2.5)
case("rpow-scalar", "pow", lambda a: 2.0**a, [F((3, 2))], lambda a: 2.0**a)
case("neg", "neg", lambda a: -a, [F((3, 2))], lambda a: -a)
case(
    "maximum-scalar",
    "maximum",
    lambda a: mg.maximum(a, 0.1),
    [Away((4,))],
    lambda a: torch.clamp(a, min=0.1),
)

# -- unary ------------------------------------------------------------------------------------

for shape in [(3, 4), (), (1,)]:
    tag = str(shape)
    case(f"exp{tag}", "exp", mg.exp, [F(shape)], torch.exp if torch else None)
    case(f"log{tag}", "log", mg.log, [Pos(shape)], torch.log if torch else None)
    case(f"sqrt{tag}", "sqrt", mg.sqrt, [Pos(shape)], torch.sqrt if torch else None)
    case(f"abs{tag}", "abs", mg.abs, [Away(shape)], torch.abs if torch else None)
    case(f"tanh{tag}", "tanh", mg.tanh, [F(shape)], torch.tanh if torch else None)
    case(f"sigmoid{tag}", "sigmoid", mg.sigmoid, [F(shape)], torch.sigmoid if torch else None)
    case(f"relu{tag}", "relu", mg.relu, [Away(shape)], torch.relu if torch else None)
    case(f"gelu{tag}", "gelu", mg.gelu, [F(shape)], lambda a: tnf.gelu(a))
    case(
        f"gelu-tanh{tag}",
        "gelu",
        lambda a: mg.gelu(a, approximate="tanh"),
        [F(shape)],
        lambda a: tnf.gelu(a, approximate="tanh"),
    )
case("gelu-wide", "gelu", mg.gelu, [Const(np.linspace(-7.0, 7.0, 29))], lambda a: tnf.gelu(a))
case(
    "sigmoid-extreme",
    "sigmoid",
    mg.sigmoid,
    [Const([-40.0, -10.0, 0.0, 10.0, 40.0])],
    torch.sigmoid if torch else None,
)
case(
    "clamp-both",
    "clamp",
    lambda a: mg.clamp(a, -0.5, 0.7),
    [Const([-1.0, -0.2, 0.1, 0.5, 1.5])],
    lambda a: torch.clamp(a, -0.5, 0.7),
)
case("clamp-min", "clamp", lambda a: a.clamp(min=0.0), [Away((2, 3))], lambda a: a.clamp(min=0.0))
case("clamp-max", "clamp", lambda a: a.clamp(max=0.0), [Away((2, 3))], lambda a: a.clamp(max=0.0))

# -- reductions -------------------------------------------------------------------------------

X3 = (2, 3, 4)
for dim in [None, 0, -1, (0, 2)]:
    for keepdim in [False, True]:
        tag = f"dim={dim},keep={keepdim}"
        tdim = dim if dim is not None else tuple(range(3))
        case(
            f"sum-{tag}",
            "sum",
            lambda a, d=dim, k=keepdim: a.sum(d, keepdim=k),
            [F(X3)],
            lambda a, d=tdim, k=keepdim: a.sum(d, keepdim=k),
        )
        case(
            f"mean-{tag}",
            "mean",
            lambda a, d=dim, k=keepdim: a.mean(d, keepdim=k),
            [F(X3)],
            lambda a, d=tdim, k=keepdim: a.mean(d, keepdim=k),
        )
        case(
            f"amax-{tag}",
            "amax",
            lambda a, d=dim, k=keepdim: a.amax(d, keepdim=k),
            [Distinct(X3)],
            lambda a, d=tdim, k=keepdim: torch.amax(a, d, keepdim=k),
        )
        case(
            f"amin-{tag}",
            "amin",
            lambda a, d=dim, k=keepdim: a.amin(d, keepdim=k),
            [Distinct(X3)],
            lambda a, d=tdim, k=keepdim: torch.amin(a, d, keepdim=k),
        )
        case(
            f"var-{tag}",
            "var",
            lambda a, d=dim, k=keepdim: a.var(d, keepdim=k),
            [F(X3)],
            lambda a, d=tdim, k=keepdim: torch.var(a, d, keepdim=k),
        )
        case(
            f"std-{tag}",
            "std",
            lambda a, d=dim, k=keepdim: a.std(d, keepdim=k),
            [F(X3)],
            lambda a, d=tdim, k=keepdim: torch.std(a, d, keepdim=k),
        )
        if dim is not None:
            case(
                f"logsumexp-{tag}",
                "logsumexp",
                lambda a, d=dim, k=keepdim: a.logsumexp(d, keepdim=k),
                [F(X3)],
                lambda a, d=tdim, k=keepdim: torch.logsumexp(a, d, keepdim=k),
            )
case(
    "var-correction0",
    "var",
    lambda a: mg.var(a, 1, correction=0),
    [F((3, 5))],
    lambda a: torch.var(a, 1, correction=0),
)
case(
    "std-unbiased-false",
    "std",
    lambda a: mg.std(a, 0, unbiased=False),
    [F((4, 2))],
    lambda a: torch.std(a, 0, correction=0),
)
case("sum-0d", "sum", lambda a: a.sum(), [F(())], lambda a: a.sum())
case(
    "amax-ties",
    "amax",
    lambda a: a.amax(dim=1),
    [Const([[1.0, 3.0, 3.0], [2.0, -1.0, 0.0]])],
    lambda a: torch.amax(a, 1),
)
for dim, keepdim in ((1, False), (-1, True), (0, False)):
    case(
        f"max-dim{dim}-keepdim{keepdim}",
        "max",
        lambda a, d=dim, k=keepdim: a.max(d, keepdim=k).values,
        [Distinct((3, 4))],
        lambda a, d=dim, k=keepdim: torch.max(a, d, keepdim=k).values,
    )
    case(
        f"min-dim{dim}-keepdim{keepdim}",
        "min",
        lambda a, d=dim, k=keepdim: mg.min(a, d, keepdim=k)[0],
        [Distinct((3, 4))],
        lambda a, d=dim, k=keepdim: torch.min(a, d, keepdim=k)[0],
    )
case("max-all", "max", lambda a: a.max(), [Distinct((2, 3))], lambda a: a.max())
case("max-0d-dim", "max", lambda a: a.max(0).values, [F(())], lambda a: a.max(0).values)
case(
    "min-ties",
    "min",
    lambda a: a.min(),
    [Const([[1.0, -3.0], [-3.0, 0.5]])],
    lambda a: torch.amin(a),
)
case(
    "logsumexp-neginf",
    "logsumexp",
    lambda a: a.logsumexp(-1),
    [Const([[0.5, NEG_INF, 1.0], [NEG_INF, 2.0, NEG_INF]])],
    lambda a: torch.logsumexp(a, -1),
)

# -- shape ------------------------------------------------------------------------------------

case("reshape", "reshape", lambda a: a.reshape(4, -1), [F(X3)], lambda a: a.reshape(4, -1))
case("view", "reshape", lambda a: a.view(-1), [F(X3)], lambda a: a.view(-1))
case("reshape-0d", "reshape", lambda a: a.reshape(1, 1), [F(())], lambda a: a.reshape(1, 1))
case("flatten", "flatten", lambda a: a.flatten(1), [F(X3)], lambda a: a.flatten(1))
case("flatten-all", "flatten", mg.flatten, [F(X3)], torch.flatten if torch else None)
case("transpose", "transpose", lambda a: a.transpose(0, 2), [F(X3)], lambda a: a.transpose(0, 2))
case("permute", "permute", lambda a: a.permute(2, 0, 1), [F(X3)], lambda a: a.permute(2, 0, 1))
case("T", "permute", lambda a: a.T, [F((3, 4))], lambda a: a.T)
case("mT", "transpose", lambda a: a.mT, [F(X3)], lambda a: a.mT)
case("unsqueeze", "unsqueeze", lambda a: a.unsqueeze(1), [F((3, 4))], lambda a: a.unsqueeze(1))
case(
    "unsqueeze-last", "unsqueeze", lambda a: a.unsqueeze(-1), [F((3, 4))], lambda a: a.unsqueeze(-1)
)
case("squeeze", "squeeze", lambda a: a.squeeze(), [F((3, 1, 4, 1))], lambda a: a.squeeze())
case("squeeze-dim", "squeeze", lambda a: a.squeeze(1), [F((3, 1, 4, 1))], lambda a: a.squeeze(1))
case("expand", "expand", lambda a: a.expand(2, 3, 4), [F((3, 1))], lambda a: a.expand(2, 3, 4))
case("expand-keep", "expand", lambda a: a.expand(-1, 5), [F((3, 1))], lambda a: a.expand(-1, 5))

# -- indexing (the backward scatter-adds; repeated indices accumulate) ------------------------

case("index-int", "getitem", lambda a: a[1], [F((3, 4))], lambda a: a[1])
case("index-neg", "getitem", lambda a: a[-1, 2], [F((3, 4))], lambda a: a[-1, 2])
case("index-slice", "getitem", lambda a: a[:, 1:3], [F((3, 4))], lambda a: a[:, 1:3])
case("index-step", "getitem", lambda a: a[::2, 1::2], [F((3, 4))], lambda a: a[::2, 1::2])
case(
    "index-none-ellipsis", "getitem", lambda a: a[None, ..., 0], [F(X3)], lambda a: a[None, ..., 0]
)
case(
    "index-repeated",
    "getitem",
    lambda a, i: a[i],
    [F((4, 2)), Ints([0, 2, 0, 0, 3])],
    lambda a, i: a[i],
)
case(
    "index-2d-ints",
    "getitem",
    lambda a, i: a[i],
    [F((4, 2)), Ints([[1, 1], [3, 0]])],
    lambda a, i: a[i],
)
case(
    "index-mixed",
    "getitem",
    lambda a, i: a[i, :, i],
    [F((3, 2, 3)), Ints([0, 2, 2])],
    lambda a, i: a[i, :, i],
)


def _torch_setitem(index: Any) -> Callable[..., Any]:
    def put(a: Any, v: Any) -> Any:
        out = a.clone()
        out[index] = v
        return out

    return put


for name, index, value_shape in (
    ("slice", (slice(None), slice(1, 3)), (3, 2)),
    ("int-row-broadcast", (1,), (1, 4)),
    ("ints-beside-array", (0, slice(None), [0, 2]), (3, 2)),
    ("arrays-apart", ([0, 1], slice(None), [1, 3]), (2, 3)),
):
    shape = (2, 3, 4) if len(index) == 3 else (3, 4)
    case(
        f"setitem-{name}",
        "setitem",
        lambda a, v, i=index: mg.ops.setitem(a, i, v),
        [F(shape), F(value_shape)],
        _torch_setitem(index),
    )
case(
    "setitem-mask-scalar",
    "setitem",
    lambda a: mg.ops.setitem(a, a.detach() > 0, 0.5),
    [F((3, 4))],
    lambda a: a.masked_fill(a.detach() > 0, 0.5),
)
case("index-list", "getitem", lambda a: a[[1, 1, 0]], [F((3, 2))], lambda a: a[[1, 1, 0]])
case(
    "index-mask",
    "getitem",
    lambda a, m: a[m],
    [F((2, 3)), Mask([[True, False, True], [False, False, True]])],
    lambda a, m: a[m],
)
case(
    "index-mask-rows",
    "getitem",
    lambda a, m: a[m],
    [F((3, 2)), Mask([True, False, True])],
    lambda a, m: a[m],
)

# -- joining and splitting --------------------------------------------------------------------

case(
    "cat",
    "cat",
    lambda a, b: mg.cat([a, b], 1),
    [F((2, 3)), F((2, 2))],
    lambda a, b: torch.cat([a, b], 1),
)
case(
    "cat-3",
    "cat",
    lambda a, b, c: mg.cat([a, b, c], -1),
    [F((2, 1)), F((2, 2)), F((2, 1))],
    lambda a, b, c: torch.cat([a, b, c], -1),
)
case(
    "stack",
    "stack",
    lambda a, b: mg.stack([a, b], 1),
    [F((2, 3)), F((2, 3))],
    lambda a, b: torch.stack([a, b], 1),
)
case("split", "split", lambda a: a.split(2, dim=1), [F((2, 5))], lambda a: a.split(2, dim=1))
case(
    "split-sections",
    "split",
    lambda a: mg.split(a, [1, 3], 0),
    [F((4, 2))],
    lambda a: torch.split(a, [1, 3], 0),
)
case("chunk", "chunk", lambda a: a.chunk(3, dim=0), [F((5, 2))], lambda a: a.chunk(3, dim=0))

# -- masking ----------------------------------------------------------------------------------

WHERE_MASK = [[True, False, True], [False, False, True]]
case(
    "where",
    "where",
    lambda m, a, b: mg.where(m, a, b),
    [Mask(WHERE_MASK), F((2, 3)), F((2, 3))],
    lambda m, a, b: torch.where(m, a, b),
)
case(
    "where-broadcast",
    "where",
    lambda m, a, b: mg.where(m, a, b),
    [Mask([True, False, True]), F((2, 3)), F((1,))],
    lambda m, a, b: torch.where(m, a, b),
)
case(
    "where-scalar",
    "where",
    lambda m, a: mg.where(m, a, 0.0),
    [Mask(WHERE_MASK), F((2, 3))],
    lambda m, a: torch.where(m, a, 0.0),
)
case(
    "masked_fill",
    "masked_fill",
    lambda a, m: a.masked_fill(m, 3.0),
    [F((2, 3)), Mask(WHERE_MASK)],
    lambda a, m: a.masked_fill(m, 3.0),
)
case(
    "masked_fill-broadcast",
    "masked_fill",
    lambda a, m: a.masked_fill(m, -1.0),
    [F((2, 3)), Mask([False, True, False])],
    lambda a, m: a.masked_fill(m, -1.0),
)
case("tril", "tril", lambda a: a.tril(), [F((3, 4))], lambda a: a.tril())
case("tril-batch", "tril", lambda a: mg.tril(a, -1), [F((2, 3, 3))], lambda a: torch.tril(a, -1))
case("triu", "triu", lambda a: a.triu(1), [F((3, 4))], lambda a: a.triu(1))

# -- matmul -----------------------------------------------------------------------------------

for sa, sb in [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
]:
    case(f"matmul{sa}@{sb}", "matmul", lambda a, b: a @ b, [F(sa), F(sb)], lambda a, b: a @ b)

# -- fused ------------------------------------------------------------------------------------

for dim in [0, 1, -1]:
    case(
        f"softmax-dim{dim}",
        "softmax",
        lambda a, d=dim: a.softmax(d),
        [F((3, 4))],
        lambda a, d=dim: a.softmax(d),
    )
    case(
        f"log_softmax-dim{dim}",
        "log_softmax",
        lambda a, d=dim: a.log_softmax(d),
        [F((3, 4))],
        lambda a, d=dim: a.log_softmax(d),
    )
case("softmax-3d", "softmax", lambda a: mg.softmax(a, 1), [F(X3)], lambda a: torch.softmax(a, 1))
PARTIAL_MASK = [[0.3, NEG_INF, 1.2, -0.4], [NEG_INF, NEG_INF, 0.5, 0.1], [1.0, 2.0, 3.0, NEG_INF]]
case(
    "softmax-neginf",
    "softmax",
    lambda a: a.softmax(-1),
    [Const(PARTIAL_MASK)],
    lambda a: a.softmax(-1),
)
# log_softmax is -inf where its input is: gradcheck the finite outputs (a constant -inf has no
# meaningful Jacobian row), PyTorch compares them all
case(
    "log_softmax-neginf",
    "log_softmax",
    lambda a: a.log_softmax(-1)[:, [0, 2, 3]],
    [Const([[0.3, NEG_INF, 1.2, -0.4]])],
    lambda a: a.log_softmax(-1)[:, [0, 2, 3]],
)
# a fully masked row: zeros and zero gradient (PyTorch gives NaN, so no torch twin)
FULL_MASK = [[0.3, NEG_INF, 1.2], [NEG_INF, NEG_INF, NEG_INF]]
case(
    "softmax-fully-masked",
    "softmax",
    lambda a: a.softmax(-1),
    [Const(FULL_MASK)],
    tags={"no-torch"},
)
case(
    "log_softmax-fully-masked",
    "log_softmax",
    lambda a: a.log_softmax(-1)[:, [0, 2]],
    [Const(FULL_MASK)],
    tags={"no-torch"},
)
case(
    "softmax-masked_fill",
    "masked_fill",
    lambda a, m: a.masked_fill(m, NEG_INF).softmax(-1),
    [F((2, 3)), Mask([[False, True, False], [True, True, True]])],
    tags={"no-torch"},
)

case(
    "layer_norm",
    "layer_norm",
    lambda x, w, b: mg.layer_norm(x, 5, w, b),
    [F((4, 5)), F((5,)), F((5,))],
    lambda x, w, b: tnf.layer_norm(x, (5,), w, b),
)
case(
    "layer_norm-2d",
    "layer_norm",
    lambda x, w, b: mg.layer_norm(x, (3, 4), w, b),
    [F(X3), F((3, 4)), F((3, 4))],
    lambda x, w, b: tnf.layer_norm(x, (3, 4), w, b),
)
case(
    "layer_norm-noaffine",
    "layer_norm",
    lambda x: mg.layer_norm(x, 4, eps=1e-3),
    [F((2, 3, 4))],
    lambda x: tnf.layer_norm(x, (4,), eps=1e-3),
)
case(
    "layer_norm-1d",
    "layer_norm",
    lambda x, w, b: mg.layer_norm(x, 6, w, b),
    [F((6,)), F((6,)), F((6,))],
    lambda x, w, b: tnf.layer_norm(x, (6,), w, b),
)

case("dropout", "dropout", lambda a: mg.dropout(a, 0.3), [F((4, 5))], seeded=True)
case(
    "dropout-eval",
    "dropout",
    lambda a: mg.dropout(a, 0.3, training=False) * 1.0,
    [F((4, 5))],
    lambda a: tnf.dropout(a, 0.3, training=False) * 1.0,
)

EMB_IDS = [[0, 2, 2], [3, 0, 1]]
case(
    "embedding",
    "embedding",
    lambda i, w: mg.embedding(i, w),
    [Ints(EMB_IDS), F((4, 3))],
    lambda i, w: tnf.embedding(i, w),
)
# padding_idx: by definition the padding row gets no gradient although the output depends on it,
# so finite differences disagree there; PyTorch's twin checks it instead
case(
    "embedding-padding",
    "embedding",
    lambda i, w: mg.embedding(i, w, padding_idx=0),
    [Ints(EMB_IDS), F((4, 3))],
    lambda i, w: tnf.embedding(i, w, padding_idx=0),
    tags={"no-gradcheck"},
)
case(
    "embedding-1d",
    "embedding",
    lambda i, w: mg.embedding(i, w),
    [Ints([1, 1, 1]), F((2, 5))],
    lambda i, w: tnf.embedding(i, w),
)

CE_TARGET = [1, 0, 3, 3, -100]
for reduction in ["mean", "sum", "none"]:
    case(
        f"cross_entropy-{reduction}",
        "cross_entropy",
        lambda x, t, r=reduction: mg.cross_entropy(x, t, reduction=r),
        [F((5, 4)), Ints(CE_TARGET)],
        lambda x, t, r=reduction: tnf.cross_entropy(x, t, reduction=r),
    )
    case(
        f"cross_entropy-smooth-{reduction}",
        "cross_entropy",
        lambda x, t, r=reduction: mg.cross_entropy(x, t, label_smoothing=0.1, reduction=r),
        [F((5, 4)), Ints(CE_TARGET)],
        lambda x, t, r=reduction: tnf.cross_entropy(x, t, label_smoothing=0.1, reduction=r),
    )
case(
    "cross_entropy-ignore",
    "cross_entropy",
    lambda x, t: mg.cross_entropy(x, t, ignore_index=0),
    [F((4, 3)), Ints([0, 2, 0, 1])],
    lambda x, t: tnf.cross_entropy(x, t, ignore_index=0),
)
case(
    "cross_entropy-3d",
    "cross_entropy",
    lambda x, t: mg.cross_entropy(x, t, label_smoothing=0.2),
    [F((2, 4, 3)), Ints([[1, 0, 3], [2, 2, -100]])],
    lambda x, t: tnf.cross_entropy(x, t, label_smoothing=0.2),
)
case(
    "cross_entropy-probs",
    "cross_entropy",
    lambda x, t: mg.cross_entropy(x, t),
    [F((3, 4)), Fixed(((0.1, 0.2, 0.3, 0.4), (1.0, 0, 0, 0), (0.25,) * 4))],
    lambda x, t: tnf.cross_entropy(x, t),
)
case(
    "cross_entropy-1d",
    "cross_entropy",
    lambda x, t: mg.cross_entropy(x, t),
    [F((5,)), Ints(2)],
    lambda x, t: tnf.cross_entropy(x, t),
)

# -- linear -----------------------------------------------------------------------------------

case(
    "linear",
    "linear",
    lambda x, w, b: mg.linear(x, w, b),
    [F((4, 3)), F((2, 3)), F((2,))],
    tnf.linear if tnf else None,
)
case(
    "linear-3d-nobias",
    "linear",
    lambda x, w: mg.linear(x, w),
    [F((2, 4, 3)), F((5, 3))],
    lambda x, w: tnf.linear(x, w),
)
case(
    "linear-1d",
    "linear",
    lambda x, w, b: mg.linear(x, w, b),
    [F((3,)), F((2, 3)), F((2,))],
    tnf.linear if tnf else None,
)

# -- attention core ---------------------------------------------------------------------------

CAUSAL = np.triu(np.ones((3, 3), dtype=bool), 1)  # True above the diagonal: may not attend
case(
    "attention",
    "attention",
    lambda q, k, v: mg.attention(q, k, v),
    [F((2, 3, 4)), F((2, 5, 4)), F((2, 5, 2))],
    lambda q, k, v: tnf.scaled_dot_product_attention(q, k, v),
)
case(
    "attention-causal-heads",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m),
    [F((2, 2, 3, 4)), F((2, 2, 3, 4)), F((2, 2, 3, 4)), Mask(CAUSAL)],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=~m),
)
case(
    "attention-broadcast-kv",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, scale=0.3),
    [
        F((2, 3, 4)),
        F((1, 4, 4)),
        F((4, 3)),
        Mask([[[False, False, True, False]], [[True] * 3 + [False]]]),
    ],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(
        q, k.expand(2, 4, 4), v.expand(2, 4, 3), attn_mask=~m, scale=0.3
    ),
)
case(
    "attention-float-mask",  # an additive mask gets a gradient too
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m),
    [F((3, 4)), F((2, 4)), F((2, 3)), F((3, 2))],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=m),
)
case(  # a query that may attend to nothing gets zeros (PyTorch: NaN), so no twin
    "attention-dead-row",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m),
    [F((3, 2)), F((4, 2)), F((4, 2)), Mask([[True] * 4, [False, True, False, True], [False] * 4])],
)
case(
    "attention-dropout",
    "attention",
    lambda q, k, v: mg.attention(q, k, v, dropout_p=0.3),
    [F((2, 3, 4)), F((2, 3, 4)), F((2, 3, 4))],
    seeded=True,
)

# -- conversions ------------------------------------------------------------------------------

case("clone", "clone", lambda a: a.clone() * 2.0, [F((2, 3))], lambda a: a.clone() * 2.0)

#: public functions that are not differentiable ops, so they need no gradient case
NOT_DIFFERENTIABLE = {"argmax", "argmin", "compare", "logical", "logical_not", "cast", "to_device"}
