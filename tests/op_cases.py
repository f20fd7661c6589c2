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

Tags: ``no-gradcheck``, ``no-torch`` (no PyTorch comparison at all) and ``no-torch-double`` (the
first-order twin holds, PyTorch's second derivative differs on purpose: NaN where ours is 0).

``test_ops.py`` gradchecks every case in float64, compares it with PyTorch, and checks that
float32 inputs give float32 outputs and gradients. ``test_registry_covers_public_ops`` fails when a
public op has no case here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import minigrad as mg
from tests.conftest import torch_device

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
case(
    "clamp-min-above-max",  # every output is max, as in PyTorch: no gradient reaches the input
    "clamp",
    lambda a: a.clamp(0.7, -0.5),
    [F((2, 3))],
    lambda a: a.clamp(0.7, -0.5),
)
# tensor bounds broadcast with the input; the gradient goes to the bound the output took
case(
    "clamp-tensor-both",
    "clamp",
    lambda a, lo, hi: mg.clamp(a, lo, hi),
    [F((2, 3)), Const([-0.5, 0.1, -1.0]), Const([[0.4], [1.3]])],
    lambda a, lo, hi: torch.clamp(a, lo, hi),
)
case(
    "clamp-tensor-min",
    "clamp",
    lambda a, lo: a.clamp(min=lo),
    [F((3, 4)), F((4,))],
    lambda a, lo: a.clamp(min=lo),
)
case(
    "clamp-tensor-max-0d",
    "clamp",
    lambda a, hi: a.clip(max=hi),
    [F((3, 2)), Const(0.2)],
    lambda a, hi: a.clip(max=hi),
)
case(
    "clamp-tensor-min-above-max",
    "clamp",
    lambda a, lo, hi: mg.clamp(a, lo, hi),
    [F((4,)), Const([1.0, -0.5, 2.0, 0.0]), Const([0.5, 0.5, -1.0, 1.0])],
    lambda a, lo, hi: torch.clamp(a, lo, hi),
)
case(
    "clamp-tensor-ties",  # x on a bound keeps the gradient; min == max > x gives it to no one
    "clamp",
    lambda a, lo, hi: mg.clamp(a, lo, hi),
    [
        Const([0.0, 1.0, 2.0, 0.5, -1.0]),
        Const([0.0, 0.0, 2.5, 0.5, 0.0]),
        Const([1.0, 1.0, 2.0, 0.5, 0.0]),
    ],
    lambda a, lo, hi: torch.clamp(a, lo, hi),
    tags={"no-gradcheck"},  # finite differences at a kink measure half the gradient
)

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
# view refuses a layout it cannot reshape in place (as PyTorch's): the fuzz lays inputs out in
# Fortran order or with gaps, where PyTorch's twin gets a contiguous tensor
case("view", "reshape", lambda a: a.contiguous().view(-1), [F(X3)], lambda a: a.view(-1))
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
case("mm", "mm", mg.mm, [F((2, 3)), F((3, 4))], torch.mm if torch else None)
case("bmm", "bmm", lambda a, b: a.bmm(b), [F((2, 2, 3)), F((2, 3, 4))], lambda a, b: a.bmm(b))

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

# grouped-query attention: 4 query heads over 2 key/value heads
GQA_MASK = np.random.default_rng(16).random((2, 4, 3, 5)) < 0.3  # per query head, no dead row
GQA_MASK[..., 0] = False
case(
    "attention-gqa",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True),
    [F((2, 4, 3, 4)), F((2, 2, 5, 4)), F((2, 2, 5, 3)), Mask(GQA_MASK)],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=~m, enable_gqa=True),
)
case(
    "attention-gqa-causal",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True),
    [F((1, 6, 3, 2)), F((1, 2, 3, 2)), F((1, 2, 3, 2)), Mask(CAUSAL)],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=~m, enable_gqa=True),
)
case(
    "attention-gqa-float-mask",  # an additive mask per query head, with its gradient
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True, scale=0.4),
    [F((4, 3, 2)), F((2, 2, 2)), F((2, 2, 3)), F((4, 3, 2))],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(
        q, k, v, attn_mask=m, enable_gqa=True, scale=0.4
    ),
)
case(
    "attention-gqa-shared-float-mask",  # one additive (Tq, Tk) mask for every head
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True),
    [F((2, 6, 3, 2)), F((2, 3, 4, 2)), F((2, 3, 4, 2)), F((3, 4))],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True),
)
case(
    "attention-gqa-padding-mask",  # a key padding mask (B, 1, 1, Tk)
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True),
    [F((2, 4, 3, 2)), F((2, 2, 4, 2)), F((2, 2, 4, 3)), Mask([[[[0, 0, 1, 1]]], [[[0, 1, 0, 0]]]])],
    lambda q, k, v, m: tnf.scaled_dot_product_attention(q, k, v, attn_mask=~m, enable_gqa=True),
)
case(  # a query head that may attend to nothing gets zeros (PyTorch: NaN), so no twin
    "attention-gqa-dead-row",
    "attention",
    lambda q, k, v, m: mg.attention(q, k, v, m, enable_gqa=True),
    [F((2, 2, 2)), F((1, 3, 2)), F((1, 3, 2)), Mask([[[True] * 3, [False] * 3]] * 2)],
)
case(
    "attention-gqa-dropout",
    "attention",
    lambda q, k, v: mg.attention(q, k, v, dropout_p=0.3, enable_gqa=True),
    [F((2, 4, 3, 4)), F((2, 1, 3, 4)), F((2, 1, 3, 4))],
    seeded=True,
)

# -- rms_norm ---------------------------------------------------------------------------------

case(
    "rms_norm",
    "rms_norm",
    lambda x, w: mg.rms_norm(x, 5, w),
    [F((3, 5)), F((5,))],
    lambda x, w: tnf.rms_norm(x, (5,), w),
)
case(
    "rms_norm-2d",
    "rms_norm",
    lambda x, w: mg.rms_norm(x, (3, 4), w, eps=1e-3),
    [F((2, 3, 4)), F((3, 4))],
    lambda x, w: tnf.rms_norm(x, (3, 4), w, eps=1e-3),
)
case(
    "rms_norm-noaffine",
    "rms_norm",
    lambda x: mg.rms_norm(x, 4),
    [F((2, 3, 4))],
    lambda x: tnf.rms_norm(x, (4,)),
)
case(
    "rms_norm-1d",
    "rms_norm",
    lambda x, w: mg.rms_norm(x, 6, w),
    [F((6,)), F((6,))],
    lambda x, w: tnf.rms_norm(x, (6,), w),
)

# -- conversions ------------------------------------------------------------------------------

case("clone", "clone", lambda a: a.clone() * 2.0, [F((2, 3))], lambda a: a.clone() * 2.0)

#: public functions that are not differentiable ops, so they need no gradient case
NOT_DIFFERENTIABLE = {"argmax", "argmin", "compare", "logical", "logical_not", "cast", "to_device"}
NOT_DIFFERENTIABLE |= {"bitwise", "bitwise_not"}  # integers and bools (tests/test_parity_gaps.py)

# =============================================================================================
# issue 16: op breadth
# =============================================================================================

# -- unary math and activations ---------------------------------------------------------------

for shape in [(3, 4), (), (0, 2)]:
    tag = str(shape)
    case(f"sin{tag}", "sin", mg.sin, [F(shape)], torch.sin if torch else None)
    case(f"cos{tag}", "cos", lambda a: a.cos(), [F(shape)], torch.cos if torch else None)
    case(f"rsqrt{tag}", "rsqrt", mg.rsqrt, [Pos(shape)], torch.rsqrt if torch else None)
    case(f"erf{tag}", "erf", mg.erf, [F(shape)], torch.erf if torch else None)
    case(f"log2{tag}", "log2", mg.log2, [Pos(shape)], torch.log2 if torch else None)
    case(f"exp2{tag}", "exp2", lambda a: a.exp2(), [F(shape)], torch.exp2 if torch else None)
    case(f"silu{tag}", "silu", mg.ops.silu, [F(shape)], lambda a: tnf.silu(a))
    case(f"softplus{tag}", "softplus", mg.ops.softplus, [F(shape)], lambda a: tnf.softplus(a))
    case(
        f"leaky_relu{tag}",
        "leaky_relu",
        mg.ops.leaky_relu,
        [Away(shape)],
        lambda a: tnf.leaky_relu(a),
    )
    case(f"elu{tag}", "elu", mg.ops.elu, [Away(shape)], lambda a: tnf.elu(a))
    for name in ["sign", "floor", "ceil", "round", "trunc"]:
        case(
            f"{name}{tag}",
            name,
            lambda a, n=name: getattr(a, n)() * a,  # times a, so the zero gradient shows
            [Away(shape)],
            lambda a, n=name: getattr(a, n)() * a,
        )
case(
    "round-decimals",
    "round",
    lambda a: mg.round(a * 10, decimals=1),
    [Away((5,))],
    lambda a: torch.round(a * 10, decimals=1),
)
case(
    "softplus-beta-threshold",
    "softplus",
    lambda a: mg.ops.softplus(a, beta=2.0, threshold=3.0),
    [Const([-30.0, -2.0, 0.3, 1.2, 1.7, 40.0])],
    lambda a: tnf.softplus(a, beta=2.0, threshold=3.0),
)
case(
    "softplus-extreme",
    "softplus",
    mg.ops.softplus,
    [Const([-800.0, -30.0, 30.0, 800.0])],
    lambda a: tnf.softplus(a),
)
case(
    "silu-extreme",
    "silu",
    mg.ops.silu,
    [Const([-800.0, -30.0, 0.0, 30.0, 800.0])],
    lambda a: tnf.silu(a),
)
case(
    "leaky_relu-slope",
    "leaky_relu",
    lambda a: mg.ops.leaky_relu(a, 0.2),
    [Away((2, 3))],
    lambda a: tnf.leaky_relu(a, 0.2),
)
case(
    "elu-alpha",
    "elu",
    lambda a: mg.ops.elu(a, alpha=0.5),
    [Away((2, 3))],
    lambda a: tnf.elu(a, alpha=0.5),
)
case(
    "clip",
    "clip",
    lambda a: mg.clip(a, -0.5, 0.5),
    [Away((3, 2))],
    lambda a: torch.clip(a, -0.5, 0.5),
)

# -- remainder, floor_divide, logaddexp (broadcasting pairs) ----------------------------------

for sa, sb in BROADCAST_PAIRS:
    tag = f"{sa}-{sb}"
    case(f"remainder{tag}", "remainder", lambda a, b: a % b, [F(sa), Away(sb)], lambda a, b: a % b)
    case(
        f"logaddexp{tag}",
        "logaddexp",
        mg.logaddexp,
        [F(sa), F(sb)],
        lambda a, b: torch.logaddexp(a, b),
    )
case(
    "remainder-neg-divisor",
    "remainder",
    lambda a: mg.remainder(a, -0.7),
    [Away((4,))],
    lambda a: torch.remainder(a, -0.7),
)
case(
    "rmod-scalar",
    "remainder",
    lambda a: 2.5 % a,
    [Away((4,))],
    lambda a: 2.5 - torch.floor(2.5 / a) * a,
)  # PyTorch has no gradient for the divisor
case(
    "floor_divide",
    "floor_divide",
    lambda a, b: (a // b) * a,
    [Away((3, 2)), Away((2,))],
    lambda a, b: torch.floor(a / b) * a,
)
case(
    "logaddexp-neginf",
    "logaddexp",
    lambda a, b: a.logaddexp(b),
    [Const([NEG_INF, 0.5, NEG_INF]), Const([1.0, NEG_INF, -2.0])],
    lambda a, b: torch.logaddexp(a, b),
    tags={"no-torch-double"},  # PyTorch's second derivative is NaN at -inf (0 * inf); ours 0
)

# -- reductions -------------------------------------------------------------------------------

for dim in [None, 0, -1]:
    for keepdim in [False, True]:
        tag = f"dim={dim},keep={keepdim}"
        case(
            f"prod-{tag}",
            "prod",
            lambda a, d=dim, k=keepdim: a.prod(d, keepdim=k),
            [Away(X3)],
            (lambda a, k=keepdim: a.prod().reshape((1, 1, 1) if k else ()))
            if dim is None
            else (lambda a, d=dim, k=keepdim: a.prod(d, keepdim=k)),
        )
ZEROS = [[0.0, 2.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0], [1.2, -0.7, 2.0, 0.5]]
case("prod-one-zero", "prod", lambda a: a.prod(1), [Const(ZEROS)], lambda a: a.prod(1))
case(
    "prod-zeros-all",
    "prod",
    lambda a: mg.prod(a),
    [Const([[0.0, 2.0], [3.0, 1.5]])],
    lambda a: torch.prod(a),
)
case(
    "prod-two-zeros",
    "prod",
    lambda a: a.prod(0),
    [Const([[0.0, 1.0], [0.0, 2.0]])],
    lambda a: a.prod(0),
)
case("prod-0d", "prod", lambda a: a.prod(), [F(())], lambda a: a.prod())
case("prod-empty", "prod", lambda a: a.prod(1), [F((2, 0))], lambda a: a.prod(1))
for dim in [0, 1, -1]:
    case(
        f"cumsum-dim{dim}",
        "cumsum",
        lambda a, d=dim: a.cumsum(d),
        [F(X3)],
        lambda a, d=dim: a.cumsum(d),
    )
case("cumsum-0d", "cumsum", lambda a: mg.cumsum(a, 0), [F(())], lambda a: torch.cumsum(a, 0))

# -- indexing by index tensors ----------------------------------------------------------------

GATHER_IDX = [[0, 2, 2], [1, 0, 0]]
case(
    "gather-dim1",
    "gather",
    lambda a, i: a.gather(1, i),
    [F((2, 4)), Ints(GATHER_IDX)],
    lambda a, i: a.gather(1, i),
)
case(
    "gather-dim0-smaller",
    "gather",
    lambda a, i: mg.gather(a, 0, i),
    [F((3, 4)), Ints([[2, 0, 1], [2, 2, 0]])],
    lambda a, i: torch.gather(a, 0, i),
)
case(
    "gather-3d-neg",
    "gather",
    lambda a, i: a.gather(-1, i),
    [F(X3), Ints(np.array([0, 3, 3, 1, 2, 0, 1, 1, 3, 2, 0, 0]).reshape(2, 3, 2))],
    lambda a, i: a.gather(-1, i),
)
case(
    "gather-0d",
    "gather",
    lambda a, i: a.gather(0, i),
    [F(()), Ints(0)],
    lambda a, i: a.gather(0, i),
)
case(
    "scatter",
    "scatter",
    lambda a, i, s: a.scatter(1, i, s),
    [F((2, 4)), Ints([[0, 3], [2, 1]]), F((2, 2))],
    lambda a, i, s: a.scatter(1, i, s),
)
# src larger than index: only its leading block is used (PyTorch's backward fails on this shape)
case(
    "scatter-src-larger",
    "scatter",
    lambda a, i, s: a.scatter(1, i, s),
    [F((2, 4)), Ints([[0, 3], [2, 1]]), F((2, 3))],
    tags={"no-torch"},
)
case(
    "scatter-value",
    "scatter",
    lambda a, i: mg.scatter(a, 0, i, value=-2.0),
    [F((3, 2)), Ints([[2, 0]])],
    lambda a, i: torch.scatter(a, 0, i, value=-2.0),
)
case(
    "scatter_add",
    "scatter_add",
    lambda a, i, s: a.scatter_add(1, i, s),
    [F((2, 4)), Ints([[0, 3, 0], [2, 2, 2]]), F((2, 3))],
    lambda a, i, s: a.scatter_add(1, i, s),
)
case(
    "scatter_add-dim0",
    "scatter_add",
    lambda a, i, s: mg.scatter_add(a, 0, i, s),
    [F((3, 2)), Ints([[2, 0], [2, 2]]), F((2, 2))],
    lambda a, i, s: torch.scatter_add(a, 0, i, s),
)
case(
    "scatter_add-src-larger",
    "scatter_add",
    lambda a, i, s: mg.scatter_add(a, 0, i, s),
    [F((3, 2)), Ints([[2, 0], [2, 2]]), F((3, 2))],
    tags={"no-torch"},
)
for reduce, twin in [("add", "sum"), ("multiply", "prod")]:
    # PyTorch's scatter(reduce=) has no derivative: scatter_reduce(include_self=True) is its twin
    case(
        f"scatter-reduce-{reduce}",
        "scatter",
        lambda a, i, s, r=reduce: a.scatter(1, i, s, reduce=r),
        [F((2, 4)), Ints([[0, 3, 0], [2, 2, 2]]), F((2, 3))],
        lambda a, i, s, r=twin: a.scatter_reduce(1, i, s, r),
    )
SCATTER_REDUCE_IDX = [[2, 0], [2, 2], [0, 2]]  # position (1, *) gets nothing, (2, 1) three values
for reduce in ["sum", "prod", "mean", "amax", "amin"]:
    for include_self in [True, False]:
        case(
            f"scatter_reduce-{reduce}-self{include_self}",
            "scatter_reduce",
            lambda a, i, s, r=reduce, k=include_self: mg.scatter_reduce(
                a, 0, i, s, r, include_self=k
            ),
            [F((3, 2)), Ints(SCATTER_REDUCE_IDX), F((3, 2))],
            lambda a, i, s, r=reduce, k=include_self: torch.scatter_reduce(
                a, 0, i, s, r, include_self=k
            ),
        )
case(
    "scatter_reduce-prod-zeros",  # a lone zero in a group, and a zero in x beside one in src
    "scatter_reduce",
    lambda a, i, s: a.scatter_reduce(-1, i, s, "prod"),
    [
        Const([[0.0, 1.5, -2.0], [0.7, 0.0, 1.2]]),
        Ints([[0, 0, 1], [1, 2, 1]]),
        Const([[0.0, 2.0, 0.0], [1.1, -0.9, 3.0]]),
    ],
    lambda a, i, s: a.scatter_reduce(-1, i, s, "prod"),
)
case(
    "scatter_reduce-mean-0d",
    "scatter_reduce",
    lambda a, i, s: a.scatter_reduce(0, i, s, "mean"),
    [F(()), Ints([0, 0]), F((2,))],
    lambda a, i, s: a.scatter_reduce(0, i, s, "mean"),
)
case(
    "masked_select",
    "masked_select",
    lambda a, m: a.masked_select(m),
    [F((2, 3)), Mask(WHERE_MASK)],
    lambda a, m: a.masked_select(m),
)
case(
    "masked_select-broadcast",
    "masked_select",
    lambda a, m: mg.masked_select(a, m),
    [F((2, 1)), Mask([[True, False, True], [False, False, True]])],
    lambda a, m: torch.masked_select(a, m),
)
for dim, desc in [(-1, False), (0, True)]:
    case(
        f"sort-dim{dim}-desc{desc}",
        "sort",
        lambda a, d=dim, s=desc: a.sort(d, s)[0],
        [Distinct(X3)],
        lambda a, d=dim, s=desc: a.sort(d, s)[0],
    )
case("sort-0d", "sort", lambda a: mg.sort(a)[0], [F(())], lambda a: torch.sort(a)[0])
case("topk", "topk", lambda a: a.topk(2)[0], [Distinct((3, 4))], lambda a: a.topk(2)[0])
case(
    "topk-smallest-dim0",
    "topk",
    lambda a: mg.topk(a, 2, dim=0, largest=False).values,
    [Distinct((3, 4))],
    lambda a: torch.topk(a, 2, dim=0, largest=False).values,
)

# -- rearranging ------------------------------------------------------------------------------

case("flip", "flip", lambda a: a.flip(0, 2), [F(X3)], lambda a: a.flip(0, 2))
case("flip-0d", "flip", lambda a: mg.flip(a, ()), [F(())], lambda a: torch.flip(a, ()))
case("roll", "roll", lambda a: a.roll((1, -2), (0, 2)), [F(X3)], lambda a: a.roll((1, -2), (0, 2)))
case("roll-flat", "roll", lambda a: mg.roll(a, 5), [F((3, 4))], lambda a: torch.roll(a, 5))
case("repeat", "repeat", lambda a: a.repeat(2, 1, 3), [F((3, 2))], lambda a: a.repeat(2, 1, 3))
case("repeat-0d", "repeat", lambda a: a.repeat(2), [F(())], lambda a: a.repeat(2))
case(
    "repeat_interleave",
    "repeat_interleave",
    lambda a: a.repeat_interleave(2, dim=1),
    [F((2, 3))],
    lambda a: a.repeat_interleave(2, dim=1),
)
case(
    "repeat_interleave-flat",
    "repeat_interleave",
    lambda a: mg.repeat_interleave(a, 3),
    [F((2, 2))],
    lambda a: torch.repeat_interleave(a, 3),
)
case(
    "repeat_interleave-tensor",
    "repeat_interleave",
    lambda a, r: a.repeat_interleave(r, dim=0),
    [F((3, 2)), Ints([2, 0, 3])],
    lambda a, r: a.repeat_interleave(r, dim=0),
)
case(
    "unflatten",
    "unflatten",
    lambda a: a.unflatten(1, (2, -1)),
    [F((3, 6))],
    lambda a: a.unflatten(1, (2, -1)),
)
for mode in ["constant", "reflect", "replicate", "circular"]:
    case(
        f"pad-{mode}-1d",
        "pad",
        lambda a, m=mode: mg.ops.pad(a, (2, 1), mode=m),
        [F((2, 3, 4))],
        lambda a, m=mode: tnf.pad(a, (2, 1), mode=m),
    )
    case(
        f"pad-{mode}-2d",
        "pad",
        lambda a, m=mode: mg.ops.pad(a, (1, 2, 2, 0), mode=m),
        [F((1, 2, 3, 4))],
        lambda a, m=mode: tnf.pad(a, (1, 2, 2, 0), mode=m),
    )
case(
    "pad-circular-crop",  # crops first, then wraps around what is left, as PyTorch
    "pad",
    lambda a: mg.ops.pad(a, (1, -1, -1, 2), mode="circular"),
    [F((2, 3, 4))],
    lambda a: tnf.pad(a, (1, -1, -1, 2), mode="circular"),
)
case(
    "pad-constant-value-crop",
    "pad",
    lambda a: mg.ops.pad(a, (-1, 2, 1, -1), value=0.5),
    [F((3, 4))],
    lambda a: tnf.pad(a, (-1, 2, 1, -1), value=0.5),
)
for offset in [0, 1, -1]:
    case(
        f"diagonal{offset}",
        "diagonal",
        lambda a, o=offset: a.diagonal(o, 0, 2),
        [F(X3)],
        lambda a, o=offset: a.diagonal(o, 0, 2),
    )
    case(
        f"diag-1d{offset}",
        "diag",
        lambda a, o=offset: mg.diag(a, o),
        [F((3,))],
        lambda a, o=offset: torch.diag(a, o),
    )
    case(
        f"diag-2d{offset}",
        "diag",
        lambda a, o=offset: a.diag(o),
        [F((3, 4))],
        lambda a, o=offset: a.diag(o),
    )
for eq, shapes in [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("...ij,...jk", [(2, 2, 3), (3, 4)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 4)]),  # size-1 dims broadcast, inside ... or not
    ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("bij,bjk->bik", [(1, 2, 3), (4, 3, 2)]),
    ("...,...", [(), (2,)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("iij,jk->ik", [(2, 2, 3), (3, 4)]),
]:
    case(
        f"einsum-{eq}",
        "einsum",
        lambda *xs, e=eq: mg.einsum(e, *xs),
        [F(s) for s in shapes],
        lambda *xs, e=eq: torch.einsum(e, *xs),
    )

# -- losses and normalize ---------------------------------------------------------------------


def _torch_kl_div(x: Any, t: Any, reduction: str, log_target: bool) -> Any:
    """PyTorch's kl_div without its warning that "mean" is not the KL divergence."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return tnf.kl_div(x, t, reduction=reduction, log_target=log_target)


NLL_TARGET = [1, 0, 3, 3, -100]
for reduction in ["mean", "sum", "none"]:
    case(
        f"nll_loss-{reduction}",
        "nll_loss",
        lambda x, t, r=reduction: mg.ops.nll_loss(x.log_softmax(1), t, reduction=r),
        [F((5, 4)), Ints(NLL_TARGET)],
        lambda x, t, r=reduction: tnf.nll_loss(x.log_softmax(1), t, reduction=r),
    )
    case(
        f"nll_loss-weight-{reduction}",
        "nll_loss",
        lambda x, t, w, r=reduction: mg.ops.nll_loss(x, t, w, ignore_index=0, reduction=r),
        [F((4, 3)), Ints([0, 2, 1, 2]), Fixed([0.2, 1.0, 3.0])],
        lambda x, t, w, r=reduction: tnf.nll_loss(x, t, w, ignore_index=0, reduction=r),
    )
    for log_target in [False, True]:
        case(
            f"kl_div-{reduction}-log{log_target}",
            "kl_div",
            lambda x, t, r=reduction, lt=log_target: mg.ops.kl_div(x, t, r, lt),
            [F((3, 4)), Pos((3, 4))],
            lambda x, t, r=reduction, lt=log_target: _torch_kl_div(x, t, r, lt),
        )
    case(
        f"bce-{reduction}",
        "binary_cross_entropy",
        lambda x, t, w, r=reduction: mg.ops.binary_cross_entropy(x.sigmoid(), t, w, r),
        [F((3, 4)), Fixed(np.linspace(0, 1, 12).reshape(3, 4)), Fixed([0.5, 1.0, 2.0, 1.5])],
        lambda x, t, w, r=reduction: tnf.binary_cross_entropy(x.sigmoid(), t, w, reduction=r),
    )
    case(
        f"bce_with_logits-{reduction}",
        "binary_cross_entropy_with_logits",
        lambda x, t, w, p, r=reduction: mg.ops.binary_cross_entropy_with_logits(
            x, t, w, r, pos_weight=p
        ),
        [
            F((3, 4)),
            Fixed(np.linspace(0, 1, 12).reshape(3, 4)),
            Fixed([[0.5], [1.0], [2.0]]),
            Fixed([0.5, 1.0, 2.0, 3.0]),
        ],
        lambda x, t, w, p, r=reduction: tnf.binary_cross_entropy_with_logits(
            x, t, w, reduction=r, pos_weight=p
        ),
    )
case(
    "kl_div-batchmean",
    "kl_div",
    lambda x, t: mg.ops.kl_div(x, t, "batchmean"),
    [F((3, 4)), Pos((3, 4))],
    lambda x, t: tnf.kl_div(x, t, reduction="batchmean"),
)
case(
    "kl_div-target-grad",
    "kl_div",
    lambda x, t: mg.ops.kl_div(x, t, "sum"),
    [F((2, 3)), Pos((2, 3))],
    lambda x, t: tnf.kl_div(x, t, reduction="sum"),
)
case(
    "nll_loss-3d",
    "nll_loss",
    lambda x, t: mg.ops.nll_loss(x, t),
    [F((2, 4, 3)), Ints([[1, 0, 3], [2, 2, -100]])],
    lambda x, t: tnf.nll_loss(x, t),
)
case(
    "nll_loss-1d",
    "nll_loss",
    lambda x, t: mg.ops.nll_loss(x, t),
    [F((4,)), Ints(2)],
    lambda x, t: tnf.nll_loss(x, t),
)
case(
    "bce-target-grad",
    "binary_cross_entropy",
    lambda x, t: mg.ops.binary_cross_entropy(x.sigmoid(), t),
    [F((5,)), Const([0.1, 0.5, 0.9, 0.3, 0.7])],
    lambda x, t: tnf.binary_cross_entropy(x.sigmoid(), t),
)
case(
    "bce_with_logits-extreme",
    "binary_cross_entropy_with_logits",
    lambda x, t: mg.ops.binary_cross_entropy_with_logits(x, t, reduction="none"),
    [Const([-800.0, -30.0, 0.0, 30.0, 800.0]), Fixed([1.0, 0.0, 0.5, 1.0, 0.0])],
    lambda x, t: tnf.binary_cross_entropy_with_logits(x, t, reduction="none"),
)
case(
    "bce_with_logits-target-grad",
    "binary_cross_entropy_with_logits",
    lambda x, t: mg.ops.binary_cross_entropy_with_logits(x, t),
    [F((2, 3)), Const([[0.1, 0.5, 0.9], [0.3, 0.7, 1.0]])],
    lambda x, t: tnf.binary_cross_entropy_with_logits(x, t),
)
for p, dim in [(2.0, 1), (1.0, -1), (3.0, 0)]:
    case(
        f"normalize-p{p}-dim{dim}",
        "normalize",
        lambda x, p=p, d=dim: mg.ops.normalize(x, p, d),
        [Away((3, 4))],
        lambda x, p=p, d=dim: tnf.normalize(x, p, d),
    )
case(
    "normalize-pinf",  # divides by the largest magnitude
    "normalize",
    lambda x: mg.ops.normalize(x, float("inf"), -1),
    [Distinct((3, 4))],
    lambda x: tnf.normalize(x, float("inf"), -1),
)
case(
    "kl_div-broadcast",  # input and target broadcast, as PyTorch
    "kl_div",
    lambda x, t: mg.ops.kl_div(x, t, "batchmean"),
    [F((2, 3)), Pos((3,))],
    lambda x, t: tnf.kl_div(x, t, reduction="batchmean"),
)
# x / eps at the zero row: finite differences step past eps, so only PyTorch checks it
case(
    "normalize-zero-row",
    "normalize",
    lambda x: mg.ops.normalize(x),
    [Const([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])],
    lambda x: tnf.normalize(x),
    # PyTorch's second derivative is NaN on the zero row; ours is 0
    tags={"no-gradcheck", "no-torch-double"},
)

NOT_DIFFERENTIABLE |= {
    "isnan",
    "isinf",
    "isfinite",
    "isclose",
    "allclose",
    "any",
    "all",
    "nonzero",
    "argsort",
}
case(
    "nll_loss-weight-grad",  # PyTorch refuses a weight that requires grad; we differentiate it
    "nll_loss",
    lambda x, t, w: mg.ops.nll_loss(x, t, w),
    [F((4, 3)), Ints([0, 2, -100, 2]), Pos((3,))],
    tags={"no-torch"},
)
case(
    "bce_with_logits-pos_weight-grad",  # PyTorch refuses a pos_weight that requires grad
    "binary_cross_entropy_with_logits",
    lambda x, t, p: mg.ops.binary_cross_entropy_with_logits(x, t, pos_weight=p),
    [F((3, 4)), Fixed(np.linspace(0, 1, 12).reshape(3, 4)), Pos((4,))],
    tags={"no-torch"},
)

# names PyTorch code reaches for, built from existing ops (tests/test_more_names.py)
case("narrow", "narrow", lambda a: a.narrow(1, 1, 2), [F(X3)], lambda a: a.narrow(1, 1, 2))
case(
    "narrow-neg-start",
    "narrow",
    lambda a: mg.narrow(a, -1, -3, 2),
    [F(X3)],
    lambda a: torch.narrow(a, -1, -3, 2),
)
case("movedim", "movedim", lambda a: a.movedim(0, -1), [F(X3)], lambda a: a.movedim(0, -1))
case(
    "movedim-tuple",
    "movedim",
    lambda a: mg.movedim(a, (0, 1), (2, 0)),
    [F(X3)],
    lambda a: torch.movedim(a, (0, 1), (2, 0)),
)
case("moveaxis", "movedim", lambda a: mg.moveaxis(a, 1, 0), [F(X3)], lambda a: a.moveaxis(1, 0))
case("swapaxes", "transpose", lambda a: a.swapaxes(0, 2), [F(X3)], lambda a: a.swapaxes(0, 2))
case("swapdims", "transpose", lambda a: mg.swapdims(a, 1, -1), [F(X3)], lambda a: a.swapdims(1, -1))
case(
    "view_as",
    "reshape",
    lambda a, b: a.contiguous().view_as(b),
    [F((2, 6)), Fixed(np.zeros((3, 4)))],
    lambda a, b: a.view_as(b),
)
case(
    "index_select",
    "index_select",
    lambda a, i: a.index_select(1, i),
    [F((3, 4)), Ints([3, 0, 3])],  # a repeat: its gradient adds up
    lambda a, i: a.index_select(1, i),
)
case(
    "index_select-0d-index-neg-dim",
    "index_select",
    lambda a, i: mg.index_select(a, -3, i),
    [F(X3), Ints(1)],
    lambda a, i: torch.index_select(a, -3, i),
)
case(
    "index_select-0d",
    "index_select",
    lambda a, i: a.index_select(0, i),
    [F(()), Ints([0])],
    lambda a, i: a.index_select(0, i),
)
case(
    "take_along_dim-broadcast",
    "take_along_dim",
    lambda a, i: a.take_along_dim(i, -1),
    [F((2, 1, 4)), Ints(np.array([[[3, 0]], [[1, 1]], [[2, 0]]]).reshape(1, 3, 2))],
    lambda a, i: a.take_along_dim(i, -1),
)
case(
    "take_along_dim-flat",
    "take_along_dim",
    lambda a, i: mg.take_along_dim(a, i),
    [F((3, 4)), Ints([[11, 0], [5, 5]])],
    lambda a, i: torch.take_along_dim(a, i),
)
case("unbind", "unbind", lambda a: a.unbind(1), [F(X3)], lambda a: a.unbind(1))
case(
    "unbind-neg-empty",
    "unbind",
    lambda a: mg.unbind(a, -1),
    [F((2, 0, 2))],
    lambda a: torch.unbind(a, -1),
)
case(
    "index_fill",
    "index_fill",
    lambda a, i: a.index_fill(1, i, -1.5),
    [F((3, 4)), Ints([0, 2])],
    lambda a, i: a.index_fill(1, i, -1.5),
)
case(
    "index_fill-tensor-value",
    "index_fill",
    lambda a, i, v: mg.index_fill(a, 0, i, v),
    [F((3, 4)), Ints([2]), F(())],
    lambda a, i, v: torch.index_fill(a, 0, i, v),
)
case(
    "index_fill-0d",
    "index_fill",
    lambda a, i: a.index_fill(0, i, 2.0),
    [F(()), Ints([0])],
    lambda a, i: a.index_fill(0, i, 2.0),
)
case(
    "index_add",
    "index_add",
    lambda a, i, s: a.index_add(1, i, s),
    [F((3, 4)), Ints([3, 0, 3]), F((3, 3))],
    lambda a, i, s: a.index_add(1, i, s),
)
case(
    "index_add-alpha-dim0",
    "index_add",
    lambda a, i, s: mg.index_add(a, 0, i, s, alpha=-2.0),
    [F((3, 2, 2)), Ints([2, 2, 0, 1]), F((4, 2, 2))],
    lambda a, i, s: torch.index_add(a, 0, i, s, alpha=-2.0),
)

# =============================================================================================
# convolution and pooling (minigrad/ops/conv.py)
# =============================================================================================

CONV_CASES = [  # (name, op, input shapes, options)
    ("conv1d", "conv1d", [(2, 3, 5), (4, 3, 3), (4,)], {"padding": 1}),
    (
        "conv1d-stride-dilation-groups",
        "conv1d",
        [(1, 4, 8), (4, 2, 2)],
        {"stride": 2, "dilation": 2, "groups": 2},
    ),
    ("conv1d-same-even-kernel", "conv1d", [(1, 2, 6), (2, 2, 4)], {"padding": "same"}),
    ("conv1d-unbatched", "conv1d", [(2, 5), (3, 2, 2), (3,)], {"stride": 2}),
    ("conv2d", "conv2d", [(1, 2, 4, 4), (3, 2, 3, 3), (3,)], {"padding": 1}),
    (
        "conv2d-stride-dilation-groups",
        "conv2d",
        [(2, 4, 5, 6), (2, 2, 2, 3)],
        {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2},
    ),
    (
        "conv2d-depthwise-same",
        "conv2d",
        [(1, 3, 4, 3), (3, 1, 2, 3), (3,)],
        {"padding": "same", "groups": 3},
    ),
    # conv breadth (issue h17)
    ("conv3d", "conv3d", [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2), (2,)], {"padding": (1, 0, 1)}),
    (
        "conv_transpose1d",
        "conv_transpose1d",
        [(2, 4, 4), (4, 1, 3), (2,)],
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    ),
    (
        "conv_transpose2d",
        "conv_transpose2d",
        [(1, 2, 3, 3), (2, 3, 2, 3), (3,)],
        {"stride": (2, 1), "padding": (0, 1), "output_padding": (1, 0), "dilation": (1, 2)},
    ),
    (
        "conv_transpose3d",
        "conv_transpose3d",
        [(1, 2, 2, 3, 2), (2, 1, 2, 2, 2), (1,)],
        {"stride": (1, 2, 1), "padding": (0, 1, 0), "output_padding": (0, 1, 0)},
    ),
]
for name, op, shapes, opts in CONV_CASES:
    case(
        name,
        op,
        lambda *a, op=op, opts=opts: getattr(mg.ops, op)(*a, **opts),
        [F(s) for s in shapes],
        lambda *a, op=op, opts=opts: getattr(tnf, op)(*a, **opts),
    )

POOL_CASES = [  # (name, op, input shape, options); Distinct values: no ties in a max
    ("max_pool1d", "max_pool1d", (2, 2, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    (
        "max_pool1d-ceil-unbatched",
        "max_pool1d",
        (2, 6),
        {"kernel_size": 4, "stride": 3, "ceil_mode": True},
    ),
    ("max_pool2d", "max_pool2d", (1, 2, 5, 5), {"kernel_size": 2, "stride": 1}),
    (
        "max_pool2d-pad-dilation-ceil",
        "max_pool2d",
        (2, 1, 6, 5),
        {"kernel_size": (3, 2), "stride": 2, "padding": 1, "dilation": (1, 2), "ceil_mode": True},
    ),
    ("avg_pool1d", "avg_pool1d", (2, 2, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    (
        "avg_pool1d-exclude-pad-ceil",
        "avg_pool1d",
        (1, 2, 8),
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
    ),
    ("avg_pool2d", "avg_pool2d", (1, 2, 5, 5), {"kernel_size": 2}),
    (
        "avg_pool2d-pad-ceil",
        "avg_pool2d",
        (2, 1, 6, 5),
        {"kernel_size": (3, 2), "stride": 2, "padding": 1, "ceil_mode": True},
    ),
    (
        "avg_pool2d-divisor",
        "avg_pool2d",
        (1, 2, 4, 5),
        {"kernel_size": 3, "stride": 1, "divisor_override": 4},
    ),
    ("adaptive_avg_pool1d", "adaptive_avg_pool1d", (2, 2, 7), {"output_size": 3}),
    ("adaptive_avg_pool2d", "adaptive_avg_pool2d", (1, 2, 5, 7), {"output_size": (2, 4)}),
    (
        "adaptive_avg_pool2d-none-unbatched",
        "adaptive_avg_pool2d",
        (2, 5, 3),
        {"output_size": (None, 2)},
    ),
    # conv breadth (issue h17)
    ("max_pool3d", "max_pool3d", (1, 2, 4, 3, 4), {"kernel_size": 2, "stride": 1, "padding": 1}),
    ("avg_pool3d", "avg_pool3d", (1, 2, 4, 3, 4), {"kernel_size": (2, 3, 2), "stride": 2}),
    ("adaptive_max_pool1d", "adaptive_max_pool1d", (2, 2, 7), {"output_size": 3}),
    ("adaptive_max_pool2d", "adaptive_max_pool2d", (1, 2, 5, 7), {"output_size": (3, 4)}),
    ("adaptive_max_pool3d", "adaptive_max_pool3d", (2, 3, 4, 5), {"output_size": (2, None, 3)}),
    ("adaptive_avg_pool3d", "adaptive_avg_pool3d", (1, 2, 3, 4, 5), {"output_size": (2, 3, 2)}),
]
for name, op, shape, opts in POOL_CASES:
    case(
        name,
        op,
        lambda a, op=op, opts=opts: getattr(mg.ops, op)(a, **opts),
        [Distinct(shape) if op.startswith("max") else F(shape)],
        lambda a, op=op, opts=opts: getattr(tnf, op)(a, **opts),
    )


# max unpooling and power-average pooling (issue h23; more in tests/test_pool_breadth.py)
UNPOOL_CASES = [  # (op, input shape, indices in the output plane, options)
    ("max_unpool1d", (2, 2, 3), [[[0, 3, 5], [1, 2, 4]], [[1, 2, 5], [0, 3, 4]]], {}),
    ("max_unpool2d", (1, 2, 2, 2), [[[[0, 3], [9, 14]], [[5, 2], [8, 15]]]], {"stride": 2}),
    ("max_unpool3d", (1, 1, 1, 1, 2), [[[[[3, 14]]]]], {"output_size": (2, 2, 4)}),
]
for op, shape, index, opts in UNPOOL_CASES:
    case(
        op,
        op,
        lambda a, i, op=op, opts=opts: getattr(mg.ops, op)(a, i, 2, **opts),
        [F(shape), Ints(index)],
        lambda a, i, op=op, opts=opts: getattr(tnf, op)(a, i, 2, **opts),
    )
LP_POOL_CASES = [  # (op, input shape, norm_type, kernel_size, options); Pos: x ** 1.5 is real
    ("lp_pool1d", (2, 2, 7), 2, 3, {"stride": 2, "ceil_mode": True}),
    ("lp_pool2d", (1, 2, 5, 4), 1.5, (2, 3), {"stride": 1}),
    ("lp_pool3d", (2, 3, 4, 3), 3, 2, {}),
]
for op, shape, p, k, opts in LP_POOL_CASES:
    case(
        op,
        op,
        lambda a, op=op, p=p, k=k, opts=opts: getattr(mg.ops, op)(a, p, k, **opts),
        [Pos(shape)],
        lambda a, op=op, p=p, k=k, opts=opts: getattr(tnf, op)(a, p, k, **opts),
    )

# -- PyTorch breadth: minigrad/ops/mathops.py and minigrad/ops/statistics.py -----------------
# (non-differentiable ones: tests/test_math_breadth.py)


@dataclass(frozen=True)
class Inside(F):
    """Float in (-0.9, 0.9): the domain of asin, acos, atanh, erfinv (and tan away from pi/2)."""

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(-0.9, 0.9, self.shape)


@dataclass(frozen=True)
class AboveOne(F):
    """Float in [1.2, 3]: the domain of acosh away from its branch point."""

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(1.2, 3.0, self.shape)


@dataclass(frozen=True)
class Prob(F):
    """Float in [0.1, 0.9]: probabilities for logit."""

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(0.1, 0.9, self.shape)


NAN, INF = float("nan"), float("inf")
BREADTH_UNARY = [  # (op, minigrad, torch name, input spec)
    ("log1p", mg.log1p, "log1p", Pos),
    ("expm1", mg.expm1, "expm1", F),
    ("log10", mg.log10, "log10", Pos),
    ("tan", mg.tan, "tan", Inside),
    ("sinh", mg.sinh, "sinh", F),
    ("cosh", mg.cosh, "cosh", F),
    ("asin", mg.asin, "asin", Inside),
    ("acos", mg.acos, "acos", Inside),
    ("atan", mg.atan, "atan", F),
    ("asinh", mg.asinh, "asinh", F),
    ("acosh", mg.acosh, "acosh", AboveOne),
    ("atanh", mg.atanh, "atanh", Inside),
    ("arcsin", mg.arcsin, "arcsin", Inside),
    ("arccos", mg.arccos, "arccos", Inside),
    ("arctan", mg.arctan, "arctan", F),
    ("arcsinh", mg.arcsinh, "arcsinh", F),
    ("arccosh", mg.arccosh, "arccosh", AboveOne),
    ("arctanh", mg.arctanh, "arctanh", Inside),
    ("reciprocal", mg.reciprocal, "reciprocal", Away),
    ("square", mg.square, "square", F),
    ("sgn", mg.sgn, "sign", Away),  # torch.sgn's gradient is a ZeroTensor numpy() refuses
    ("frac", mg.frac, "frac", Away),
    ("erfc", mg.erfc, "erfc", F),
    ("erfinv", mg.erfinv, "erfinv", Inside),
    ("logit", mg.logit, "logit", Prob),
    ("sinc", mg.sinc, "sinc", F),
    ("deg2rad", mg.deg2rad, "deg2rad", F),
    ("rad2deg", mg.rad2deg, "rad2deg", F),
]
PURE_ALIASES = {"arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2"}
for op, fn, tname, spec in BREADTH_UNARY:
    for shape in [(3, 4)] if op in PURE_ALIASES else [(3, 4), ()]:  # an alias: the same function
        case(f"{op}{shape}", op, fn, [spec(shape)], lambda a, n=tname: getattr(torch, n)(a))
for op, fn in [("log1p", mg.log1p), ("expm1", mg.expm1)]:  # where log(1 + a), exp(a) - 1 fail
    case(
        f"{op}-tiny",
        op,
        fn,
        [Const([1e-12, -3e-9, 2e-6, -0.5, 0.9])],
        lambda a, n=op: getattr(torch, n)(a),
    )
for shape in [(3, 4), ()]:
    case(f"lgamma{shape}", "lgamma", mg.lgamma, [Pos(shape)], lambda a: torch.lgamma(a))
    case(f"digamma{shape}", "digamma", mg.digamma, [Pos(shape)], lambda a: torch.digamma(a))
    for n in (0, 1, 2):
        case(
            f"polygamma{n}{shape}",
            "polygamma",
            lambda a, n=n: mg.polygamma(n, a),
            [Pos(shape)],
            lambda a, n=n: torch.polygamma(n, a),
        )
NEGATIVE = [-2.5, -0.7, -11.3, 0.2, 7.5, 30.25]  # the reflection formula, and the series
case("lgamma-negative", "lgamma", lambda a: a.lgamma(), [Const(NEGATIVE)], lambda a: a.lgamma())
case("digamma-negative", "digamma", lambda a: a.digamma(), [Const(NEGATIVE)], lambda a: a.digamma())
case(
    "polygamma-negative",
    "polygamma",
    lambda a: a.polygamma(1),
    [Const(NEGATIVE)],
    lambda a: a.polygamma(1),
)
case("erfc-tail", "erfc", mg.erfc, [Const([-3.0, 2.5, 5.0, 9.0, 20.0])], lambda a: torch.erfc(a))
case(
    "erfinv-ends",
    "erfinv",
    mg.erfinv,
    [Const([-0.999999, -0.6, 1e-9, 0.5, 0.9999])],
    lambda a: torch.erfinv(a),
)
case(
    "logit-eps",  # clamped to [eps, 1 - eps] first: no gradient outside
    "logit",
    lambda a: a.logit(eps=0.1),
    [Const([0.02, 0.3, 0.7, 0.97])],
    lambda a: a.logit(eps=0.1),
)
case(
    "nan_to_num",  # NaN and infinities replaced, their gradient 0
    "nan_to_num",
    lambda a: mg.nan_to_num(a, nan=0.5, posinf=3.0, neginf=-3.0),
    [Const([1.0, NAN, INF, -INF, -2.0])],
    lambda a: torch.nan_to_num(a, nan=0.5, posinf=3.0, neginf=-3.0),
)
case("nan_to_num-finite", "nan_to_num", lambda a: a.nan_to_num(), [F((2, 3))], torch.nan_to_num)

BREADTH_BINARY = [  # (op, minigrad, torch, spec a, spec b)
    ("atan2", mg.atan2, "atan2", F, Away),
    ("arctan2", mg.arctan2, "arctan2", Away, F),
    ("hypot", mg.hypot, "hypot", Away, Away),
    ("fmod", mg.fmod, "fmod", F, Away),
    ("fmax", mg.fmax, "fmax", F, F),
    ("fmin", mg.fmin, "fmin", F, F),
    ("copysign", mg.copysign, "copysign", Away, F),
    ("logaddexp2", mg.logaddexp2, "logaddexp2", F, F),
    ("xlogy", mg.xlogy, "xlogy", F, Pos),
    ("true_divide", mg.true_divide, "true_divide", F, Away),
    ("ldexp", mg.ldexp, "ldexp", F, F),
]
for op, fn, tname, spec_a, spec_b in BREADTH_BINARY:
    pairs = [((3, 2), (3, 2)), ((3, 1), (1, 2)), ((), (2, 3))]
    for sa, sb in pairs[1:2] if op in PURE_ALIASES else pairs:
        case(
            f"{op}{sa}-{sb}",
            op,
            fn,
            [spec_a(sa), spec_b(sb)],
            lambda a, b, n=tname: getattr(torch, n)(a, b),
        )
case("fmod-scalar", "fmod", lambda a: a.fmod(-0.7), [F((2, 3))], lambda a: a.fmod(-0.7))
case(
    "atan2-scalar",  # PyTorch wants a tensor there
    "atan2",
    lambda a: mg.atan2(a, 0.5),
    [F((4,))],
    lambda a: torch.atan2(a, torch.tensor(0.5, dtype=a.dtype)),
)
case(
    "fmax-nan",  # NaN is ignored; the gradient goes to the value taken
    "fmax",
    mg.fmax,
    [Const([1.0, NAN, NAN, -2.0]), Const([NAN, 0.5, NAN, 3.0])],
    lambda a, b: torch.fmax(a, b),
    tags={"no-gradcheck"},  # finite differences of NaN are NaN
)
case(
    "fmin-nan",
    "fmin",
    mg.fmin,
    [Const([1.0, NAN, NAN, -2.0]), Const([NAN, 0.5, NAN, 3.0])],
    lambda a, b: torch.fmin(a, b),
    tags={"no-gradcheck"},
)
case(
    "fmax-ties",  # ties go to the first operand, as PyTorch (not split as maximum's)
    "fmax",
    mg.fmax,
    [Const([1.0, 2.0, -0.5]), Const([1.0, 0.0, -0.5])],
    lambda a, b: torch.fmax(a, b),
    tags={"no-gradcheck"},
)
case(
    "xlogy-zero-x",  # 0 where x is 0 (also for y = 0); gradient log(y), 0 where y <= 0
    "xlogy",
    mg.xlogy,
    [Const([0.0, 0.0, 1.5, -2.0]), Const([0.0, 2.0, 0.5, 3.0])],
    lambda a, b: torch.xlogy(a, b),
    tags={"no-gradcheck"},  # x * log(0) at x = ±eps is ∓inf
)
case(
    "xlogy-scalar", "xlogy", lambda a: mg.xlogy(2.0, a), [Pos((3,))], lambda a: torch.xlogy(2.0, a)
)
case(
    "ldexp-int-exponent",
    "ldexp",
    mg.ldexp,
    [F((2, 3)), Ints([1, 3, 0])],  # PyTorch's gradient is 0 for a negative int (2 ** -2 in ints)
    lambda a, b: torch.ldexp(a, b),
)
case(
    "lerp-scalar",
    "lerp",
    lambda a, b: mg.lerp(a, b, 0.3),
    [F((3, 2)), F((3, 2))],
    lambda a, b: torch.lerp(a, b, 0.3),
)
case(
    "lerp-tensor-weight",
    "lerp",
    lambda a, b, w: a.lerp(b, w),
    [F((3, 2)), F((2,)), F((3, 1))],
    lambda a, b, w: a.lerp(b, w),
)
case(
    "float_power",  # float64 result: cast back so the float32 run compares float32
    "float_power",
    lambda a, b: mg.float_power(a, b).to(dtype=a.dtype),
    [Pos((3, 2)), F((2,))],
    lambda a, b: torch.float_power(a, b).to(a.dtype),
)
case(
    "float_power-scalar",
    "float_power",
    lambda a: a.float_power(2.5).to(dtype=a.dtype),
    [Pos((4,))],
    lambda a: a.float_power(2.5).to(a.dtype),
)

XNAN = [[0.5, NAN, -1.0, 2.0], [NAN, NAN, NAN, NAN], [1.5, -0.3, 0.2, NAN]]
case("nansum", "nansum", lambda a: a.nansum(1), [F((3, 4))], lambda a: a.nansum(1))
case("nansum-nan", "nansum", lambda a: mg.nansum(a, 0), [Const(XNAN)], lambda a: torch.nansum(a, 0))
case("nansum-all", "nansum", mg.nansum, [Const(XNAN)], torch.nansum if torch else None)
case(
    "nanmean-nan",  # (an all-NaN row: tests/test_math_breadth.py)
    "nanmean",
    lambda a: a.nanmean(1, keepdim=True),
    [Const([[0.5, NAN, -1.0, 2.0], [NAN, 3.0, NAN, NAN]])],
    lambda a: a.nanmean(1, keepdim=True),
)
case("nanmean-all", "nanmean", mg.nanmean, [F((2, 3))], torch.nanmean if torch else None)
ZEROS = [[1.5, 0.0, 2.0, 0.5], [0.0, 3.0, 0.0, 1.0], [2.0, -1.0, 0.5, 3.0]]
for dim in (0, 1, -1):
    case(
        f"cumprod-dim{dim}",
        "cumprod",
        lambda a, d=dim: a.cumprod(d),
        [F((3, 4))],
        lambda a, d=dim: a.cumprod(d),
    )
    case(
        f"cumprod-zeros-dim{dim}",  # one zero, two zeros, none: the gradient stays exact
        "cumprod",
        lambda a, d=dim: mg.cumprod(a, d),
        [Const(ZEROS)],
        lambda a, d=dim: torch.cumprod(a, d),
    )
    for op in ("cummax", "cummin"):
        case(
            f"{op}-dim{dim}",
            op,
            lambda a, d=dim, o=op: getattr(mg, o)(a, d).values,
            [Distinct((3, 4))],
            lambda a, d=dim, o=op: getattr(torch, o)(a, d).values,
        )
    case(
        f"logcumsumexp-dim{dim}",
        "logcumsumexp",
        lambda a, d=dim: a.logcumsumexp(d),
        [F((3, 4))],
        lambda a, d=dim: a.logcumsumexp(d),
    )
case("cumprod-0d", "cumprod", lambda a: a.cumprod(0), [F(())], lambda a: a.cumprod(0))
case(
    "logcumsumexp-wide",  # values far apart: a naive exp would overflow
    "logcumsumexp",
    lambda a: a.logcumsumexp(0),
    [Const([-800.0, 3.0, 700.0, -5.0, 710.0])],
    lambda a: a.logcumsumexp(0),
)
case("median-all", "median", lambda a: a.median(), [Distinct((3, 4))], lambda a: a.median())
case(
    "median-ties",  # the gradient is shared by the elements equal to the median, as PyTorch
    "median",
    mg.median,
    [Const([[1.0, 2.0], [2.0, 1.0]])],
    torch.median if torch else None,
    tags={"no-gradcheck"},
)
for dim, keepdim in ((1, False), (0, True), (-1, False)):
    for op in ("median", "nanmedian"):
        case(
            f"{op}-dim{dim}-keep{keepdim}",
            op,
            lambda a, d=dim, k=keepdim, o=op: getattr(mg, o)(a, d, k).values,
            [Distinct((3, 4))],
            lambda a, d=dim, k=keepdim, o=op: getattr(torch, o)(a, d, k).values,
        )
case(
    "nanmedian-nan",
    "nanmedian",
    lambda a: a.nanmedian(1).values,
    [Const([[0.5, NAN, -1.0, 2.0, 0.1], [NAN, NAN, 3.0, 1.0, NAN]])],
    lambda a: a.nanmedian(1).values,
)
case(
    "nanmedian-all",
    "nanmedian",
    mg.nanmedian,
    [Const([[0.5, NAN], [-1.0, 2.0]])],
    torch.nanmedian if torch else None,
)
for op in ("quantile", "nanquantile"):
    case(
        f"{op}-all",
        op,
        lambda a, o=op: getattr(mg, o)(a, 0.3),
        [F((3, 4))],
        lambda a, o=op: getattr(torch, o)(a, 0.3),
    )
    case(
        f"{op}-q-tensor-dim-keepdim",
        op,
        lambda a, q, o=op: getattr(mg, o)(a, q, 1, keepdim=True),
        [F((3, 5)), Fixed([0.0, 0.25, 0.5, 0.9, 1.0])],
        lambda a, q, o=op: getattr(torch, o)(a, q, 1, keepdim=True),
    )
    for mode in ("lower", "higher", "midpoint", "nearest"):
        case(
            f"{op}-{mode}",
            op,
            lambda a, q, o=op, m=mode: getattr(a, o)(q, 0, interpolation=m),
            [F((6, 2)), Fixed([0.1, 0.5, 0.7])],
            lambda a, q, o=op, m=mode: getattr(a, o)(q, 0, interpolation=m),
        )
case(
    "nanquantile-nan",
    "nanquantile",
    lambda a: mg.nanquantile(a, 0.4, -1),
    [Const(XNAN)],
    lambda a: torch.nanquantile(a, 0.4, -1),
    tags={"no-gradcheck"},  # NaN outputs: finite differences are NaN
)
case(
    "quantile-nan",  # a row holding a NaN gives NaN
    "quantile",
    lambda a: mg.quantile(a, 0.4, -1),
    [Const([[0.5, NAN, -1.0], [1.5, -0.3, 0.2]])],
    lambda a: torch.quantile(a, 0.4, -1),
    tags={"no-gradcheck"},  # NaN outputs: finite differences are NaN
)
for dim, keepdim in ((None, False), (1, True)):
    case(
        f"aminmax-dim{dim}-keep{keepdim}",
        "aminmax",
        lambda a, d=dim, k=keepdim: tuple(mg.aminmax(a, dim=d, keepdim=k)),
        [Distinct((3, 4))],
        lambda a, d=dim, k=keepdim: tuple(torch.aminmax(a, dim=d, keepdim=k)),
    )
    for op in ("std_mean", "var_mean"):
        case(
            f"{op}-dim{dim}-keep{keepdim}",
            op,
            lambda a, d=dim, k=keepdim, o=op: getattr(mg, o)(a, d, keepdim=k),
            [F((3, 4))],
            lambda a, d=dim, k=keepdim, o=op: getattr(torch, o)(a, d, keepdim=k),
        )
case(
    "var_mean-correction0",
    "var_mean",
    lambda a: mg.var_mean(a, 0, correction=0),
    [F((4, 2))],
    lambda a: torch.var_mean(a, 0, correction=0),
)
case("diff", "diff", lambda a: a.diff(), [F((3, 4))], lambda a: a.diff())
case("diff-n2-dim0", "diff", lambda a: mg.diff(a, 2, 0), [F((4, 3))], lambda a: torch.diff(a, 2, 0))
case(
    "diff-prepend-append",
    "diff",
    lambda a, p, q: mg.diff(a, 1, 1, p, q),
    [F((2, 3)), F((2, 1)), F((2, 2))],
    lambda a, p, q: torch.diff(a, 1, 1, p, q),
)
case("diff-n-too-large", "diff", lambda a: a.diff(5), [F((3,))], lambda a: a.diff(5))

NOT_DIFFERENTIABLE |= {
    "signbit",
    "isposinf",
    "isneginf",
    "heaviside",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "isin",
    "equal",
    "count_nonzero",
}
# -- linear algebra and shape breadth (minigrad/ops/linalg.py, minigrad/ops/shape_breadth.py) -----
# composites of existing ops; tests/test_linalg_breadth.py has their edge cases and bad inputs

NOT_DIFFERENTIABLE |= {"broadcast_shapes", "numel", "tril_indices", "triu_indices", "unravel_index"}
NOT_DIFFERENTIABLE |= {"detach"}
case("dot", "dot", lambda a, b: mg.dot(a, b), [F((4,)), F((4,))], lambda a, b: torch.dot(a, b))
case("vdot", "vdot", lambda a, b: a.vdot(b), [F((3,)), F((3,))], lambda a, b: a.vdot(b))
case("inner", "inner", lambda a, b: mg.inner(a, b), [F((2, 3)), F((4, 3))], torch.inner)
case("inner-0d", "inner", lambda a, b: a.inner(b), [F(()), F((2, 3))], lambda a, b: a.inner(b))
case("outer", "outer", lambda a, b: mg.outer(a, b), [F((3,)), F((2,))], torch.outer)
case("ger", "ger", lambda a, b: mg.ger(a, b), [F((2,)), F((4,))], torch.outer)
case("mv", "mv", lambda a, v: a.mv(v), [F((3, 4)), F((4,))], lambda a, v: a.mv(v))
case(
    "addmm-scaled-broadcast",
    "addmm",
    lambda c, a, b: mg.addmm(c, a, b, beta=0.5, alpha=-2.0),
    [F((4,)), F((3, 2)), F((2, 4))],
    lambda c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=-2.0),
)
case(
    "addmm-beta0",  # input not read (inf would not spread); its gradient is 0
    "addmm",
    lambda c, a, b: c.addmm(a, b, beta=0),
    [F((3, 4)), F((3, 2)), F((2, 4))],
    lambda c, a, b: c.addmm(a, b, beta=0),
)
case(
    "addmv",
    "addmv",
    lambda c, a, v: mg.addmv(c, a, v, alpha=3.0),
    [F((3,)), F((3, 2)), F((2,))],
    lambda c, a, v: torch.addmv(c, a, v, alpha=3.0),
)
case(
    "baddbmm",
    "baddbmm",
    lambda c, a, b: mg.baddbmm(c, a, b, beta=2.0),
    [F((1, 3, 4)), F((2, 3, 2)), F((2, 2, 4))],
    lambda c, a, b: torch.baddbmm(c, a, b, beta=2.0),
)
case(
    "addbmm",
    "addbmm",
    lambda c, a, b: c.addbmm(a, b, alpha=0.5),
    [F((3, 4)), F((2, 3, 2)), F((2, 2, 4))],
    lambda c, a, b: c.addbmm(a, b, alpha=0.5),
)
case(
    "addcmul",
    "addcmul",
    lambda c, a, b: mg.addcmul(c, a, b, value=-0.5),
    [F((3, 1)), F((4,)), F((3, 4))],
    lambda c, a, b: torch.addcmul(c, a, b, value=-0.5),
)
case(
    "addcdiv",
    "addcdiv",
    lambda c, a, b: c.addcdiv(a, b, value=2.0),
    [F((3, 4)), F((3, 4)), Away((4,))],
    lambda c, a, b: c.addcdiv(a, b, value=2.0),
)
case(
    "tensordot-int",
    "tensordot",
    lambda a, b: mg.tensordot(a, b, 2),
    [F((2, 3, 4)), F((3, 4, 2))],
    lambda a, b: torch.tensordot(a, b, 2),
)
case(
    "tensordot-lists",
    "tensordot",
    lambda a, b: mg.tensordot(a, b, ([0, 2], [2, 0])),
    [F((2, 3, 4)), F((4, 5, 2))],
    lambda a, b: torch.tensordot(a, b, ([0, 2], [2, 0])),
)
case("kron", "kron", lambda a, b: mg.kron(a, b), [F((2, 3)), F((3,))], torch.kron)
case("trace", "trace", lambda a: a.trace(), [F((3, 4))], lambda a: a.trace())
case("norm-fro", "norm", lambda a: mg.norm(a), [F((3, 4))], lambda a: torch.norm(a))
case(
    "norm-p1-dim-keepdim",
    "norm",
    lambda a: a.norm(1, dim=1, keepdim=True),
    [Away((3, 4))],
    lambda a: a.norm(1, dim=1, keepdim=True),
)
case(
    "norm-p3-dims",
    "norm",
    lambda a: mg.norm(a, 3, dim=(0, 2)),
    [Away(X3)],
    lambda a: torch.norm(a, 3, dim=(0, 2)),
)
for ord_ in (float("inf"), float("-inf"), 0.0):
    case(
        f"vector_norm-{ord_}",
        "vector_norm",
        lambda a, o=ord_: mg.linalg.vector_norm(a, o, dim=-1),
        [Const([[0.5, -1.5, 2.0, -0.3], [1.1, -0.7, 0.9, 2.5], [-0.2, 0.4, -1.9, 1.3]])],
        lambda a, o=ord_: torch.linalg.vector_norm(a, o, dim=-1),
    )
case(
    "vector_norm-0d",
    "vector_norm",
    lambda a: mg.vector_norm(a),
    [Away(())],
    lambda a: torch.linalg.vector_norm(a),
)
case(
    "vector_norm-zero-vector",  # gradient 0 at the zero vector (PyTorch's subgradient)
    "vector_norm",
    lambda a: mg.vector_norm(a, dim=1),
    [Const([[0.0, 0.0], [3.0, -4.0]])],
    lambda a: torch.linalg.vector_norm(a, dim=1),
    tags={"no-gradcheck", "no-torch-double"},
)
case("dist", "dist", lambda a, b: mg.dist(a, b), [F((3, 4)), F((4,))], torch.dist)
case("dist-p1", "dist", lambda a, b: a.dist(b, 1), [F((3,)), F((3,))], lambda a, b: a.dist(b, 1))
# PyTorch has no second derivative of cdist ("_cdist_backward is not implemented")
case(
    "cdist",
    "cdist",
    lambda a, b: mg.cdist(a, b),
    [F((3, 2)), F((4, 2))],
    torch.cdist,
    tags={"no-torch-double"},
)
case(
    "cdist-batch-p1",
    "cdist",
    lambda a, b: mg.cdist(a, b, 1.0),
    [F((2, 3, 2)), F((1, 4, 2))],
    lambda a, b: torch.cdist(a, b, 1.0),
    tags={"no-torch-double"},
)
case(
    "cdist-zero-distance",  # the gradient at a zero distance is 0, as PyTorch
    "cdist",
    lambda a, b: mg.cdist(a, b),
    [Const([[1.0, 2.0], [0.0, 0.5]]), Const([[1.0, 2.0]])],
    torch.cdist,
    tags={"no-gradcheck", "no-torch-double"},
)
case(
    "cross",
    "cross",
    lambda a, b: mg.linalg.cross(a, b, dim=-1),
    [F((4, 3)), F((1, 3))],
    lambda a, b: torch.linalg.cross(a, b, dim=-1),
)
case(
    "cross-dim0",
    "cross",
    lambda a, b: a.cross(b, 0),
    [F((3, 2)), F((3, 2))],
    lambda a, b: a.cross(b, dim=0),
)
case(
    "cumulative_trapezoid",
    "cumulative_trapezoid",
    lambda y: mg.cumulative_trapezoid(y, dx=0.5, dim=0),
    [F((4, 3))],
    lambda y: torch.cumulative_trapezoid(y, dx=0.5, dim=0),
)
case(
    "cumulative_trapezoid-x",
    "cumulative_trapezoid",
    lambda y, x: mg.cumulative_trapezoid(y, x),
    [F((2, 4)), F((4,))],
    lambda y, x: torch.cumulative_trapezoid(y, x),
)
# -- matrix functions on the decompositions (minigrad/ops/decompositions.py) -----------------


@dataclass(frozen=True)
class Conditioned(F):
    """Matrices U diag(s) V^T with well-separated singular values in [0.8, 2.5] and, when
    square, a positive determinant: det, inverse, pinverse, logdet away from singularity."""

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        *batch, m, n = self.shape
        k = min(m, n)
        u = np.linalg.qr(rng.standard_normal((*batch, m, k)))[0]
        v = np.linalg.qr(rng.standard_normal((*batch, n, k)))[0]
        if m == n:  # det(U) det(V) = 1
            u[..., :, :1] *= np.sign(np.linalg.det(u) * np.linalg.det(v))[..., None, None]
        s = np.linspace(2.5, 0.8, k) * rng.uniform(0.95, 1.05, (*batch, k))
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


case("det", "det", lambda a: mg.det(a), [Conditioned((2, 3, 3))], torch.det)
case("logdet", "logdet", lambda a: mg.logdet(a), [Conditioned((3, 3))], torch.logdet)
case(
    "slogdet",
    "slogdet",
    lambda a: mg.slogdet(a).logabsdet,
    [Conditioned((2, 3, 3))],
    lambda a: torch.slogdet(a).logabsdet,
)
case("inverse", "inverse", lambda a: mg.inverse(a), [Conditioned((2, 3, 3))], torch.inverse)
case("pinverse", "pinverse", lambda a: mg.pinverse(a), [Conditioned((4, 3))], torch.pinverse)
case(
    "pinverse-wide-batch",
    "pinverse",
    lambda a: mg.pinverse(a),
    [Conditioned((2, 2, 4))],
    torch.pinverse,
)
for power in (3, -2):
    case(
        f"matrix_power{power}",
        "matrix_power",
        lambda a, n=power: mg.matrix_power(a, n),
        [Conditioned((2, 3, 3))],
        lambda a, n=power: torch.matrix_power(a, n),
    )

case(
    "broadcast_to",
    "broadcast_to",
    lambda a: a.broadcast_to((2, 3, 4)),
    [F((3, 1))],
    lambda a: a.broadcast_to((2, 3, 4)),
)
case(
    "broadcast_tensors",
    "broadcast_tensors",
    lambda a, b: mg.broadcast_tensors(a, b),
    [F((3, 1)), F((4,))],
    torch.broadcast_tensors,
)
for name in ("hstack", "vstack", "row_stack", "dstack", "column_stack"):
    case(
        f"{name}-1d",
        name,
        lambda a, b, n=name: getattr(mg, n)([a, b]),
        [F((3,)), F((3,))],
        lambda a, b, n=name: getattr(torch, n)([a, b]),
    )
    case(
        f"{name}-2d",
        name,
        lambda a, b, n=name: getattr(mg, n)((a, b)),
        [F((2, 3)), F((2, 3))],
        lambda a, b, n=name: getattr(torch, n)((a, b)),
    )
case(
    "tensor_split-sections",
    "tensor_split",
    lambda a: mg.tensor_split(a, 3, dim=1),
    [F((2, 7))],
    lambda a: torch.tensor_split(a, 3, dim=1),
)
case(
    "tensor_split-indices",
    "tensor_split",
    lambda a: a.tensor_split([1, -2, 9]),
    [F((6, 2))],
    lambda a: a.tensor_split([1, -2, 9]),
)
case("hsplit", "hsplit", lambda a: a.hsplit(2), [F((3, 4))], lambda a: a.hsplit(2))
case("vsplit", "vsplit", lambda a: mg.vsplit(a, [1]), [F((3, 4))], lambda a: torch.vsplit(a, [1]))
case("dsplit", "dsplit", lambda a: mg.dsplit(a, 2), [F((2, 1, 4))], lambda a: torch.dsplit(a, 2))
for n in (1, 2, 3):
    case(
        f"atleast_{n}d",
        f"atleast_{n}d",
        lambda a, b, n=n: getattr(mg, f"atleast_{n}d")(a, b),
        [F(()), F((3,))],
        lambda a, b, n=n: getattr(torch, f"atleast_{n}d")(a, b),
    )
case("ravel", "ravel", lambda a: mg.ravel(a.mT), [F(X3)], lambda a: torch.ravel(a.mT))
case("tile", "tile", lambda a: a.tile((2, 1, 3)), [F((2, 3))], lambda a: a.tile((2, 1, 3)))
case("tile-short", "tile", lambda a: mg.tile(a, (2,)), [F((2, 3))], lambda a: torch.tile(a, (2,)))
case("fliplr", "fliplr", lambda a: mg.fliplr(a), [F(X3)], torch.fliplr)
case("flipud", "flipud", lambda a: a.flipud(), [F((3,))], lambda a: a.flipud())
for k in (-1, 0, 1, 2, 3):
    case(
        f"rot90-k{k}",
        "rot90",
        lambda a, k=k: mg.rot90(a, k, (2, 0)),
        [F(X3)],
        lambda a, k=k: torch.rot90(a, k, (2, 0)),
    )
case("select", "select", lambda a: a.select(1, -1), [F(X3)], lambda a: a.select(1, -1))
case(
    "narrow_copy",
    "narrow_copy",
    lambda a: mg.narrow_copy(a, -1, 1, 2),
    [F(X3)],
    lambda a: torch.narrow_copy(a, -1, 1, 2),
)
case("diag_embed", "diag_embed", lambda a: mg.diag_embed(a), [F((2, 3))], torch.diag_embed)
case(
    "diag_embed-offset-dims",
    "diag_embed",
    lambda a: a.diag_embed(-1, 0, 2),
    [F((2, 3))],
    lambda a: a.diag_embed(-1, 0, 2),
)
case("diagflat", "diagflat", lambda a: mg.diagflat(a, 1), [F((2, 2))], lambda a: a.diagflat(1))
case(
    "take",
    "take",
    lambda a, i: mg.take(a, i),
    [F((3, 4)), Ints([[0, -1], [5, 5]])],  # a repeat: its gradient adds up
    torch.take,
)
case(
    "put",
    "put",
    lambda a, i, s: mg.put(a, i, s),
    [F((3, 4)), Ints([[0, -1], [5, 6]]), F((4,))],
    lambda a, i, s: torch.put(a, i, s),
)
case(
    "put-accumulate",
    "put",
    lambda a, i, s: a.put(i, s, accumulate=True),
    [F((3, 4)), Ints([0, -1, 5, 11, 0]), F((5,))],  # repeats: added up
    lambda a, i, s: a.put(i, s, accumulate=True),
)
case(
    "diagonal_scatter",
    "diagonal_scatter",
    lambda a, s: mg.diagonal_scatter(a, s, 1),
    [F((3, 4)), F((3,))],
    lambda a, s: torch.diagonal_scatter(a, s, 1),
)
case(
    "diagonal_scatter-dims",
    "diagonal_scatter",
    lambda a, s: a.diagonal_scatter(s, -1, 2, 0),
    [F((3, 2, 4)), F((2, 3))],
    lambda a, s: a.diagonal_scatter(s, -1, 2, 0),
)
case(
    "meshgrid-ij",
    "meshgrid",
    lambda a, b: mg.meshgrid(a, b, indexing="ij"),
    [F((3,)), F((2,))],
    lambda a, b: torch.meshgrid(a, b, indexing="ij"),
)
case(
    "meshgrid-xy",
    "meshgrid",
    lambda a, b, c: mg.meshgrid(a, b, c, indexing="xy"),
    [F((3,)), F((2,)), F(())],
    lambda a, b, c: torch.meshgrid(a, b, c, indexing="xy"),
)
case(
    "cartesian_prod",
    "cartesian_prod",
    lambda a, b: mg.cartesian_prod(a, b),
    [F((3,)), F((2,))],
    torch.cartesian_prod,
)
case("t", "t", lambda a: mg.t(a), [F((2, 3))], torch.t)
case("t-1d", "t", lambda a: mg.t(a), [F((3,))], torch.t)


def torch_twins(case: OpCase, arrays: list[np.ndarray]) -> list[Any]:
    """The case's inputs as PyTorch tensors on the test device: floats in float64, requiring
    grad where the case differentiates them."""
    return [
        torch.tensor(
            a,
            dtype=torch.float64 if a.dtype.kind == "f" else None,
            device=torch_device(),
            requires_grad=spec.diff and a.dtype.kind == "f",
        )
        for spec, a in zip(case.inputs, arrays)
    ]


# -- PyTorch breadth: minigrad/ops/search.py (order statistics, scatters, integration, cov) ---
# (the non-differentiable ones, searching and counting: tests/test_search_breadth.py)

NOT_DIFFERENTIABLE |= {
    "argwhere",
    "bincount",
    "bucketize",
    "gcd",
    "histc",
    "lcm",
    "multinomial",
    "search",
    "searchsorted",
    "unique",
    "unique_consecutive",
}
RENORM_ROWS = [[0.1, 0.2, -0.3, 0.1], [1.0, 2.0, -1.0, 0.5], [0.3, -2.0, 1.5, 1.0]]
MODE_TIES = [[1.0, 2.0, 2.0, 3.0, 2.0], [4.0, 4.0, 5.0, 5.0, 0.5], [7.0, 6.0, 7.0, 6.0, 6.0]]

case(
    "kthvalue",
    "kthvalue",
    lambda a: mg.kthvalue(a, 2, 1).values,
    [Distinct((3, 4))],
    lambda a: torch.kthvalue(a, 2, 1).values,
)
case(
    "kthvalue-keepdim-dim0",
    "kthvalue",
    lambda a: a.kthvalue(3, 0, keepdim=True).values,
    [Distinct((4, 3))],
    lambda a: a.kthvalue(3, 0, keepdim=True).values,
)
case(
    "kthvalue-0d",
    "kthvalue",
    lambda a: a.kthvalue(1).values,
    [F(())],
    lambda a: a.kthvalue(1).values,
)
case(
    "mode-ties",  # the smallest of the most frequent values, at its last index, as PyTorch;
    # a finite difference breaks the tie it measures, so only PyTorch's gradient is the oracle
    "mode",
    lambda a: mg.mode(a, 1).values,
    [Const(MODE_TIES)],
    lambda a: torch.mode(a, 1).values,
    tags={"no-gradcheck"},
)
case(
    "mode-dim0-keepdim",
    "mode",
    lambda a: a.mode(0, keepdim=True).values,
    [Const(np.array(MODE_TIES).T.tolist())],
    lambda a: a.mode(0, keepdim=True).values,
    tags={"no-gradcheck"},
)
case(
    "mode-distinct",  # every count 1: the smallest value, which a finite difference keeps
    "mode",
    lambda a: a.mode(1).values,
    [Distinct((3, 4))],
    lambda a: a.mode(1).values,
)
case("msort", "msort", mg.msort, [Distinct((4, 3))], torch.msort if torch else None)
case(
    "index_copy",
    "index_copy",
    lambda x, i, s: mg.index_copy(x, 0, i, s),
    [F((4, 3)), Ints([2, 0]), F((2, 3))],
    lambda x, i, s: torch.index_copy(x, 0, i, s),
)
case(
    "index_copy-dim1",
    "index_copy",
    lambda x, i, s: x.index_copy(1, i, s),
    [F((2, 4)), Ints([3]), F((2, 1))],
    lambda x, i, s: x.index_copy(1, i, s),
)
case(
    "index_put",
    "index_put",
    lambda x, i, j, v: mg.index_put(x, (i, j), v),
    [F((3, 4)), Ints([0, 2]), Ints([1, 3]), F((2,))],
    lambda x, i, j, v: torch.index_put(x, (i, j), v),
)
case(
    "index_put-accumulate",  # the repeated (0, 1) adds both values
    "index_put",
    lambda x, i, j, v: mg.index_put(x, (i, j), v, accumulate=True),
    [F((3, 4)), Ints([0, 2, 0]), Ints([1, 3, 1]), F((3,))],
    lambda x, i, j, v: torch.index_put(x, (i, j), v, accumulate=True),
)
case(
    "index_put-rows-broadcast",
    "index_put",
    lambda x, i, v: x.index_put((i,), v),
    [F((3, 4)), Ints([2, 0]), F((4,))],
    lambda x, i, v: x.index_put((i,), v),
)
case(
    "masked_scatter",
    "masked_scatter",
    lambda x, m, s: mg.masked_scatter(x, m, s),
    [F((3, 4)), Mask([[1, 0, 0, 1], [0, 0, 0, 0], [1, 1, 1, 0]]), F((7,))],
    lambda x, m, s: torch.masked_scatter(x, m, s),
)
case(
    "masked_scatter-broadcast-mask",
    "masked_scatter",
    lambda x, m, s: x.masked_scatter(m, s),
    [F((2, 3)), Mask([0, 1, 1]), F((2, 3))],
    lambda x, m, s: x.masked_scatter(m, s),
)
case(
    "slice_scatter",
    "slice_scatter",
    lambda x, s: mg.slice_scatter(x, s, 0, 1, 5, 2),
    [F((5, 3)), F((2, 3))],
    lambda x, s: torch.slice_scatter(x, s, 0, 1, 5, 2),
)
case(
    "slice_scatter-dim1",
    "slice_scatter",
    lambda x, s: x.slice_scatter(s, dim=-1, start=2),
    [F((2, 4)), F((2, 2))],
    lambda x, s: x.slice_scatter(s, dim=-1, start=2),
)
case(
    "select_scatter",
    "select_scatter",
    lambda x, s: mg.select_scatter(x, s, 1, -2),
    [F((3, 4)), F((3,))],
    lambda x, s: torch.select_scatter(x, s, 1, -2),
)
case(
    "renorm",  # row 0 is under maxnorm (kept), rows 1 and 2 over (scaled down)
    "renorm",
    lambda x: mg.renorm(x, 2, 0, 1.0),
    [Const(RENORM_ROWS)],
    lambda x: torch.renorm(x, 2, 0, 1.0),
)
case(
    "renorm-p1-dim1",
    "renorm",
    lambda x: x.renorm(1, 1, 1.5),
    [Const(RENORM_ROWS)],
    lambda x: x.renorm(1, 1, 1.5),
)
case(
    "trapezoid-dx",
    "trapezoid",
    lambda y: mg.trapezoid(y, dx=0.5),
    [F((3, 5))],
    lambda y: torch.trapezoid(y, dx=0.5),
)
case(
    "trapezoid-x",
    "trapezoid",
    lambda y, x: mg.trapezoid(y, x, dim=0),
    [F((5, 3)), F((5,))],
    lambda y, x: torch.trapezoid(y, x, dim=0),
)
case(
    "trapezoid-x-nd",
    "trapezoid",
    lambda y, x: mg.trapezoid(y, x),
    [F((2, 4)), F((2, 4))],
    lambda y, x: torch.trapezoid(y, x),
)
# torch.vander's own backward fails (it writes into a tensor it saved), so the twin is its
# definition, x_i ** j; tests/test_search_breadth.py compares the forward with torch.vander
case(
    "vander",
    "vander",
    lambda x: mg.vander(x),
    [F((4,))],
    lambda x: torch.stack([x**j for j in (3, 2, 1, 0)], 1),
)
case(
    "vander-increasing-zero",  # x = 0: the gradient of x^j is exact (cumprod), not 0 * inf
    "vander",
    lambda x: mg.vander(x, 3, increasing=True),
    [Const([0.0, 1.5, -0.7])],
    lambda x: torch.stack([x**j for j in (0, 1, 2)], 1),
)
case("cov", "cov", mg.cov, [F((3, 6))], torch.cov if torch else None)
case("cov-1d", "cov", lambda x: x.cov(correction=0), [F((5,))], lambda x: x.cov(correction=0))
case(
    "cov-weights",
    "cov",
    lambda x, f, a: mg.cov(x, fweights=f, aweights=a),
    [F((2, 5)), Ints([1, 2, 1, 3, 1]), Fixed([0.5, 1.0, 2.0, 1.5, 0.7])],
    lambda x, f, a: torch.cov(x, fweights=f, aweights=a),
)
case("corrcoef", "corrcoef", mg.corrcoef, [F((3, 6))], torch.corrcoef if torch else None)

# =============================================================================================
# PyTorch breadth: the rest of torch.nn.functional's activations (ops/activations_breadth.py)
# =============================================================================================

# values on both sides of every kink (+-0.5, +-1, 0, 3, +-3, 6), never on one: the kinks
# themselves are tested against PyTorch in tests/test_activations_breadth.py
SPREAD = [-7.0, -3.5, -2.9, -1.3, -0.7, -0.3, 0.2, 0.6, 1.4, 2.8, 3.2, 5.7, 6.4]
for shape in [(3, 4), (), (0, 2)]:
    tag = str(shape)
    case(f"mish{tag}", "mish", mg.ops.mish, [F(shape)], lambda a: tnf.mish(a))
    case(f"selu{tag}", "selu", mg.selu, [Away(shape)], torch.selu if torch else None)
    case(f"celu{tag}", "celu", mg.celu, [Away(shape)], torch.celu if torch else None)
    case(
        f"logsigmoid{tag}", "logsigmoid", mg.ops.logsigmoid, [F(shape)], lambda a: tnf.logsigmoid(a)
    )
    case(f"softsign{tag}", "softsign", mg.ops.softsign, [F(shape)], lambda a: tnf.softsign(a))
    case(
        f"tanhshrink{tag}", "tanhshrink", mg.ops.tanhshrink, [F(shape)], lambda a: tnf.tanhshrink(a)
    )
    case(f"hardtanh{tag}", "hardtanh", mg.ops.hardtanh, [F(shape)], lambda a: tnf.hardtanh(a))
    case(
        f"softshrink{tag}", "softshrink", mg.ops.softshrink, [F(shape)], lambda a: tnf.softshrink(a)
    )
    case(f"hardshrink{tag}", "hardshrink", mg.hardshrink, [F(shape)], lambda a: torch.hardshrink(a))
    case(f"rrelu{tag}", "rrelu", mg.rrelu, [Away(shape)], lambda a: torch.rrelu(a))
    case(
        f"threshold{tag}",
        "threshold",
        lambda a: mg.threshold(a, 0.1, 20.0),
        [F(shape)],
        lambda a: torch.threshold(a, 0.1, 20.0),
    )
for name, twin in [
    ("relu6", lambda a: tnf.relu6(a)),
    ("hardswish", lambda a: tnf.hardswish(a)),
    ("hardsigmoid", lambda a: tnf.hardsigmoid(a)),
    ("hardtanh", lambda a: tnf.hardtanh(a)),
    ("softshrink", lambda a: tnf.softshrink(a)),
    ("hardshrink", lambda a: tnf.hardshrink(a)),
    ("selu", lambda a: tnf.selu(a)),
    ("mish", lambda a: tnf.mish(a)),
]:
    # PyTorch has no second derivative of hardsigmoid ("not implemented"); ours is 0
    tags = {"no-torch-double"} if name == "hardsigmoid" else set()
    case(f"{name}-spread", name, getattr(mg.ops, name), [Const(SPREAD)], twin, tags=tags)
case(
    "hardtanh-bounds",
    "hardtanh",
    lambda a: mg.ops.hardtanh(a, -2.0, 3.0),
    [Const(SPREAD)],
    lambda a: tnf.hardtanh(a, -2.0, 3.0),
)
case(
    "softshrink-lambd",
    "softshrink",
    lambda a: mg.ops.softshrink(a, 1.0),
    [Const(SPREAD)],
    lambda a: tnf.softshrink(a, 1.0),
)
case(
    "hardshrink-lambd",
    "hardshrink",
    lambda a: a.hardshrink(1.0),
    [Const(SPREAD)],
    lambda a: a.hardshrink(1.0),
)
case(
    "celu-alpha",
    "celu",
    lambda a: mg.celu(a, alpha=2.0),
    [Away((2, 3))],
    lambda a: torch.celu(a, alpha=2.0),
)
case(
    "logsigmoid-extreme",
    "logsigmoid",
    mg.ops.logsigmoid,
    [Const([-800.0, -30.0, 0.0, 30.0, 800.0])],
    lambda a: tnf.logsigmoid(a),
)
case(  # PyTorch's second derivative overflows to NaN at 800, ours is 0
    "mish-extreme",
    "mish",
    mg.ops.mish,
    [Const([-800.0, -30.0, 0.0, 30.0, 800.0])],
    lambda a: tnf.mish(a),
    tags={"no-torch-double"},
)
case("glu", "glu", mg.ops.glu, [F((3, 4))], lambda a: tnf.glu(a))
case("glu-dim0", "glu", lambda a: mg.ops.glu(a, 0), [F((4, 3))], lambda a: tnf.glu(a, 0))
case("glu-empty", "glu", lambda a: mg.ops.glu(a, 1), [F((0, 2))], lambda a: tnf.glu(a, 1))
case("prelu-channels", "prelu", mg.prelu, [F((2, 3, 4)), Pos((3,))], torch.prelu if torch else None)
case(
    "prelu-one",
    "prelu",
    lambda x, w: x.prelu(w),
    [F((2, 3)), Pos((1,))],
    torch.prelu if torch else None,
)
case("prelu-1d", "prelu", mg.prelu, [F((4,)), Pos((1,))], torch.prelu if torch else None)
case("prelu-0d", "prelu", mg.prelu, [F(()), Pos(())], torch.prelu if torch else None)
case(
    "rrelu-bounds",
    "rrelu",
    lambda a: mg.rrelu(a, 0.1, 0.5),
    [Away((2, 3))],
    lambda a: torch.rrelu(a, 0.1, 0.5),
)
# in training the slopes are drawn (no PyTorch twin: its generator is not ours); reseeded per call
case(
    "rrelu-training",
    "rrelu",
    lambda a: mg.rrelu(a, 0.1, 0.5, training=True),
    [Away((3, 4))],
    seeded=True,
)
case("softmin", "softmin", lambda a: mg.ops.softmin(a, 1), [F((3, 4))], lambda a: tnf.softmin(a, 1))
case(
    "softmin-dim0",
    "softmin",
    lambda a: mg.ops.softmin(a, dim=0),
    [F((3, 4))],
    lambda a: tnf.softmin(a, dim=0),
)
# the in-place forms at PyTorch's top level, on a non-leaf copy
case("selu_", "selu_", lambda a: mg.selu_(a * 1.0), [Away((3, 4))], lambda a: torch.selu_(a * 1.0))
case(
    "celu_",
    "celu_",
    lambda a: mg.celu_(a * 1.0, 2.0),
    [Away((3, 4))],
    lambda a: torch.celu_(a * 1.0, 2.0),
)
case(
    "threshold_",
    "threshold_",
    lambda a: mg.threshold_(a * 1.0, 0.1, -2.0),
    [F((3, 4))],
    lambda a: torch.threshold_(a * 1.0, 0.1, -2.0),
)
case(
    "rrelu_",
    "rrelu_",
    lambda a: mg.rrelu_(a * 1.0),
    [Away((3, 4))],
    lambda a: torch.rrelu_(a * 1.0),
)

# -- resampling: minigrad/ops/resampling.py (interpolate, shuffles, unfold/fold) -------------
# (more modes, options and the errors: tests/test_resampling.py)

INTERPOLATE_CASES = [  # (name, input shape, options)
    ("nearest-1d", (2, 2, 5), {"size": 7}),
    ("nearest-2d-scale", (1, 2, 4, 5), {"scale_factor": (1.5, 0.6)}),
    ("nearest-exact-3d", (1, 1, 3, 4, 2), {"size": (5, 3, 3), "mode": "nearest-exact"}),
    ("linear", (2, 2, 5), {"size": 8, "mode": "linear"}),
    ("linear-align", (1, 2, 6), {"scale_factor": 0.7, "mode": "linear", "align_corners": True}),
    ("bilinear", (1, 2, 4, 5), {"size": (7, 3), "mode": "bilinear"}),
    ("bilinear-scale", (1, 1, 3, 4), {"scale_factor": 1.7, "mode": "bilinear"}),
    ("bicubic", (1, 2, 4, 5), {"size": (6, 3), "mode": "bicubic"}),
    ("bicubic-align", (1, 1, 4, 3), {"size": (5, 7), "mode": "bicubic", "align_corners": True}),
    ("trilinear", (1, 1, 3, 4, 2), {"size": (4, 3, 5), "mode": "trilinear"}),
    ("area", (1, 2, 5, 7), {"size": (2, 3), "mode": "area"}),
    ("bilinear-antialias", (1, 2, 9, 8), {"size": (4, 3), "mode": "bilinear", "antialias": True}),
    ("bicubic-antialias", (1, 1, 7, 6), {"size": (3, 9), "mode": "bicubic", "antialias": True}),
    ("lanczos", (1, 1, 8, 5), {"size": (3, 4), "mode": "lanczos", "antialias": True}),
]
for name, shape, opts in INTERPOLATE_CASES:
    case(
        f"interpolate-{name}",
        "interpolate",
        lambda a, opts=opts: mg.ops.interpolate(a, **opts),
        [F(shape)],
        lambda a, opts=opts: tnf.interpolate(a, **opts),
    )
SHUFFLE_CASES = [  # (name, op, input shape, the factor or groups)
    ("pixel_shuffle", "pixel_shuffle", (2, 8, 2, 3), 2),
    ("pixel_shuffle-5d", "pixel_shuffle", (2, 1, 9, 2, 1), 3),
    ("pixel_unshuffle", "pixel_unshuffle", (1, 2, 4, 6), 2),
    ("channel_shuffle", "channel_shuffle", (2, 6, 3), 3),
    ("channel_shuffle-4d", "channel_shuffle", (1, 4, 2, 3), 2),
]
for name, op, shape, factor in SHUFFLE_CASES:
    case(
        name,
        op,
        lambda a, op=op, k=factor: getattr(mg.ops, op)(a, k),
        [F(shape)],
        lambda a, op=op, k=factor: getattr(tnf, op)(a, k),
    )
WINDOW_OPTIONS = {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}
case(
    "unfold", "unfold", lambda a: mg.ops.unfold(a, 2), [F((2, 2, 3, 4))], lambda a: tnf.unfold(a, 2)
)
case(
    "unfold-options-unbatched",
    "unfold",
    lambda a: mg.ops.unfold(a, (2, 3), **WINDOW_OPTIONS),
    [F((2, 5, 6))],
    lambda a: tnf.unfold(a, (2, 3), **WINDOW_OPTIONS),
)
case(
    "fold",  # overlapping windows: the overlaps sum
    "fold",
    lambda a: mg.ops.fold(a, (3, 4), 2),
    [F((2, 8, 6))],
    lambda a: tnf.fold(a, (3, 4), 2),
)
case(
    "fold-options-unbatched",
    "fold",
    lambda a: mg.ops.fold(a, (5, 6), (2, 3), **WINDOW_OPTIONS),
    [F((6, 12))],
    lambda a: tnf.fold(a, (5, 6), (2, 3), **WINDOW_OPTIONS),
)
