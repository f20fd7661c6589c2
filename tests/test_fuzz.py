"""Differential fuzz against PyTorch: every public op, forward and backward, in float64 and
float32, on inputs laid out in C order, Fortran order, with negative strides or with gaps, and
on shapes with 0-d and size-0 dims.

Two parts. The first replays every case of the op registry (``tests/op_cases.py``) with drawn
values, dtypes and memory layouts. The second draws shapes, dims and options for each family of
ops (elementwise, broadcasting, reductions, row ops, shape ops, indexing, joins, masking,
matmul, the fused ops) and requires minigrad to agree with PyTorch: the same output and
gradients, or both refusing the input.

Hypothesis runs derandomized (the same examples on every run) and small enough for the default
suite; raise ``FUZZ_SCALE`` in the environment for a longer hunt (``FUZZ_SCALE=20``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from tests.conftest import torch
from tests.op_cases import CASES, OpCase

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# =============================================================================================
# Layouts, and the comparison with PyTorch
# =============================================================================================

LAYOUTS = ["C", "F", "negative", "gaps"]
DTYPES = [np.float64, np.float32]


def with_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """``a``'s values in the given memory layout (a view where the layout needs one)."""
    a = np.asarray(a)
    if a.ndim == 0:
        return a.copy()
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "negative":  # every axis reversed twice: the values of a, negative strides
        return np.flip(np.flip(a).copy())
    if layout == "gaps":  # every other element of a twice-as-long last axis
        return np.repeat(a, 2, axis=-1)[..., ::2]
    return np.array(a, order="C")


def tolerances(dtype: Any) -> dict[str, float]:
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-3, "atol": 2e-4}
    return {"rtol": 1e-7, "atol": 1e-9}


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare_with_torch(
    fn: Callable[..., Any],
    tfn: Callable[..., Any],
    arrays: list[np.ndarray],
    diff: list[bool],
    layouts: list[str],
    seed_layout: str = "C",
    seed: int = 0,
    **tol: float,
) -> None:
    """Run ``fn`` on minigrad tensors (in the given layouts) and ``tfn`` on PyTorch tensors;
    require the same outputs and gradients, or both to refuse the input."""
    dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.float64)
    tol = tol or tolerances(dtype)
    ts = [torch.tensor(np.array(a), requires_grad=d) for a, d in zip(arrays, diff)]
    try:
        touts = _as_list(tfn(*ts))
    except (RuntimeError, ValueError, IndexError, TypeError) as err:
        with pytest.raises((ValueError, IndexError, TypeError, RuntimeError)):
            fn(*[mg.Tensor(with_layout(a, lay)) for a, lay in zip(arrays, layouts)])
        return err
    xs = [
        mg.Tensor(with_layout(a, lay), requires_grad=d) for a, d, lay in zip(arrays, diff, layouts)
    ]
    outs = _as_list(fn(*xs))
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape), f"shape {tuple(o.shape)}, PyTorch {tuple(t.shape)}"
        assert o.dtype == np.dtype(str(t.dtype).removeprefix("torch.")), (o.dtype, t.dtype)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), equal_nan=True, **tol)
    if not any(diff) or not any(t.requires_grad for t in touts):
        return None
    rng = np.random.default_rng(seed)
    seeds = [
        np.asarray(rng.standard_normal(tuple(t.shape)), dtype=t.detach().numpy().dtype)
        for t in touts
    ]
    grads = mg.grad(
        [o for o in outs if o.requires_grad],
        [x for x, d in zip(xs, diff) if d],
        [mg.Tensor(with_layout(s, seed_layout)) for s, o in zip(seeds, outs) if o.requires_grad],
        allow_unused=True,
    )
    tgrads = torch.autograd.grad(
        [t for t in touts if t.requires_grad],
        [t for t in ts if t.requires_grad],
        [torch.tensor(s) for s, t in zip(seeds, touts) if t.requires_grad],
        allow_unused=True,
    )
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        expected = np.zeros(g.shape if g is not None else ()) if tg is None else tg.numpy()
        got = np.zeros(expected.shape) if g is None else g.numpy()
        assert got.shape == expected.shape, f"gradient {k}: shape {got.shape} vs {expected.shape}"
        np.testing.assert_allclose(
            got, expected, equal_nan=True, err_msg=f"gradient of input {k}", **tol
        )
    return None


# =============================================================================================
# Part 1: every registry case, with drawn values, dtypes and layouts
# =============================================================================================

TWINS = [c for c in CASES if c.torch_fn is not None and "no-torch" not in c.tags]
OPS = sorted({c.op for c in TWINS})


def _registry_inputs(case: OpCase, dtype: Any, seed: int) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    arrays = [spec.draw(rng) for spec in case.inputs]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    diff = [bool(spec.diff) and a.dtype.kind == "f" for spec, a in zip(case.inputs, arrays)]
    return arrays, diff


@pytest.mark.parametrize("op", OPS)
@fuzz_settings(30)
@given(data=st.data())
def test_registry_against_torch(op: str, data: st.DataObject) -> None:
    case = data.draw(st.sampled_from([c for c in TWINS if c.op == op]), label="case")
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    arrays, diff = _registry_inputs(case, dtype, data.draw(st.integers(0, 2**16), label="seed"))
    layouts = [data.draw(st.sampled_from(LAYOUTS), label="layout") for _ in arrays]
    tol = {} if dtype == np.float32 else {"rtol": 1e-7, "atol": 1e-10}
    compare_with_torch(
        case.fn,
        case.torch_fn,
        arrays,
        diff,
        layouts,
        seed_layout=data.draw(st.sampled_from(LAYOUTS), label="seed layout"),
        **tol,
    )


def test_every_public_op_is_fuzzed() -> None:
    """The registry's coverage check (test_ops) holds here too: no public op lacks a twin case,
    but for the ones that have none on purpose (dropout's draws, no-torch conventions)."""
    from tests.op_cases import NOT_DIFFERENTIABLE

    public = set(mg.ops.__all__) - NOT_DIFFERENTIABLE - {"dropout"}
    assert public - set(OPS) == set()
    assert "conversions" in FAMILIES  # cast, compare, logical, argmax/argmin: their family


# =============================================================================================
# Part 2: drawn shapes (0-d and size-0 dims included), dims and options, family by family
# =============================================================================================

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NONEMPTY = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
tnf = torch.nn.functional if torch is not None else None
FAMILIES: dict[str, Callable[[st.DataObject], tuple]] = {}


def family(fn: Callable[[st.DataObject], tuple]) -> Callable[[st.DataObject], tuple]:
    FAMILIES[fn.__name__] = fn
    return fn


def values(data: st.DataObject, shape: tuple[int, ...], dtype: Any, positive: bool = False):
    """Normal values; or small integers (ties, zeros); or normal values with some NaN."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    mode = data.draw(st.sampled_from(["normal", "ties", "nan"]), label="values")
    a = np.asarray(rng.standard_normal(shape))
    if mode == "ties":
        # + 0.0 turns -0.0 into 0.0: PyTorch's pow(-0.0, -0.5) is -inf where C's pow gives inf
        a = np.round(a * 1.5) + 0.0
    elif mode == "nan":
        a[rng.random(shape) < 0.2] = np.nan
    return (np.abs(a) if positive else a).astype(dtype)


def dtype_of(data: st.DataObject) -> Any:
    return data.draw(st.sampled_from(DTYPES), label="dtype")


def a_dim(data: st.DataObject, ndim: int, extra: int = 0) -> int:
    """A valid dim for ``ndim`` dims (0 and -1 on a 0-d tensor), negative ones included."""
    n = max(ndim + extra, 1)
    return data.draw(st.integers(-n, n - 1), label="dim")


UNARY = {
    "exp": (mg.exp, lambda t: torch.exp(t), False),
    "log": (mg.log, lambda t: torch.log(t), True),
    "sqrt": (mg.sqrt, lambda t: torch.sqrt(t), True),
    "abs": (mg.abs, lambda t: torch.abs(t), False),
    "neg": (lambda x: -x, lambda t: -t, False),
    "tanh": (mg.tanh, lambda t: torch.tanh(t), False),
    "sigmoid": (mg.sigmoid, lambda t: torch.sigmoid(t), False),
    "relu": (mg.relu, lambda t: torch.relu(t), False),
    "gelu": (mg.gelu, lambda t: tnf.gelu(t), False),
    "gelu-tanh": (
        lambda x: mg.gelu(x, approximate="tanh"),
        lambda t: tnf.gelu(t, approximate="tanh"),
        False,
    ),
    "clamp": (lambda x: x.clamp(-0.5, 1.0), lambda t: t.clamp(-0.5, 1.0), False),
    "clamp-min": (lambda x: x.clamp(min=0.0), lambda t: t.clamp(min=0.0), False),
    "clamp-max": (lambda x: x.clamp(max=1.0), lambda t: t.clamp(max=1.0), False),
    "clone": (lambda x: x.clone() * 1.0, lambda t: t.clone() * 1.0, False),
}


@family
def unary(data):
    name = data.draw(st.sampled_from(sorted(UNARY)), label="op")
    fn, tfn, positive = UNARY[name]
    return fn, tfn, [values(data, data.draw(SHAPES), dtype_of(data), positive)], [True]


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@family
def binary(data):
    name = data.draw(st.sampled_from([*BINARY, "maximum", "minimum"]), label="op")
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3
        )
    ).input_shapes
    dtype = dtype_of(data)
    a, b = (values(data, s, dtype) for s in shapes)
    scalar = data.draw(st.sampled_from([None, "left", "right"]), label="scalar")
    c = data.draw(st.sampled_from([0.0, 2.0, -1.5, 0.5]), label="constant")
    if name in BINARY:
        op = tfn = BINARY[name]
    else:
        op, tfn = getattr(mg, name), getattr(torch, name)
    if scalar == "right" and name not in ("maximum", "minimum"):
        return (lambda x: op(x, c)), (lambda t: tfn(t, c)), [a], [True]
    if scalar == "left" and name not in ("maximum", "minimum"):
        return (lambda x: op(c, x)), (lambda t: tfn(c, t)), [b], [True]
    return op, tfn, [a, b], [True, True]


def reduce_dims(data: st.DataObject, ndim: int, allow_none: bool, allow_empty: bool) -> Any:
    """None, one dim, or a tuple of distinct dims (the empty tuple means all dims)."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = data.draw(st.sampled_from(kinds), label="dims kind")
    if kind == "none":
        return None
    if kind == "int" or ndim == 0:
        return a_dim(data, ndim)
    least = 0 if allow_empty else 1
    dims = data.draw(st.sets(st.integers(0, ndim - 1), min_size=least, max_size=ndim))
    return tuple(d - ndim if data.draw(st.booleans(), label="negative") else d for d in dims)


@family
def reductions(data):
    name = data.draw(
        st.sampled_from(["sum", "mean", "amax", "amin", "var", "std", "logsumexp"]), label="op"
    )
    shape = data.draw(SHAPES)
    # PyTorch's logsumexp fails on dim=(), and its var/std backward takes N = 1 there
    allow_empty = name not in ("logsumexp", "var", "std")
    dim = reduce_dims(data, len(shape), name != "logsumexp", allow_empty)
    keep = data.draw(st.booleans(), label="keepdim")
    kw = {}
    if name in ("var", "std"):
        kw["correction"] = data.draw(st.sampled_from([0, 1]), label="correction")
    tname = name

    def fn(x):
        return getattr(mg, name)(x, dim, keepdim=keep, **kw)

    def tfn(t):
        if dim is None and name not in ("var", "std"):
            return getattr(torch, tname)(t, tuple(range(t.ndim)), keepdim=keep)
        return getattr(torch, tname)(t, dim, keepdim=keep, **kw)

    x = values(data, shape, dtype_of(data))
    if name in ("var", "std"):
        dims = range(len(shape)) if dim is None else np.atleast_1d(dim) % max(len(shape), 1)
        count = int(np.prod([shape[d] for d in dims])) if shape else 1
        # NaN with no degrees of freedom: PyTorch's gradient is inf on a 0-d input, NaN else
        assume(count > kw["correction"] or not np.isnan(x).any())
    return fn, tfn, [x], [True]


@family
def row_ops(data):
    name = data.draw(st.sampled_from(["softmax", "log_softmax"]), label="op")
    shape = data.draw(SHAPES)
    dim = a_dim(data, len(shape))
    x = values(data, shape, dtype_of(data))
    if len(shape) and dim % len(shape) == len(shape) - 1 and data.draw(st.booleans()):
        x[np.random.default_rng(0).random(shape) < 0.3] = -np.inf  # partly masked rows
        x[..., :1] = 0.0  # none fully masked: PyTorch gives NaN there, minigrad 0
    return (
        lambda t: getattr(mg, name)(t, dim),
        lambda t: getattr(torch, name)(t, dim),
        [x],
        [True],
    )


@family
def shape_ops(data):
    shape = data.draw(SHAPES)
    n = len(shape)
    name = data.draw(
        st.sampled_from(
            [
                "transpose",
                "permute",
                "unsqueeze",
                "squeeze",
                "squeeze-all",
                "flatten",
                "reshape",
                "expand",
            ]
        ),
        label="op",
    )
    if name == "transpose":
        d0, d1 = a_dim(data, n), a_dim(data, n)
        fn = tfn = lambda t: t.transpose(d0, d1)
    elif name == "permute":
        perm = data.draw(st.permutations(list(range(n))), label="perm")
        fn = tfn = lambda t: t.permute(tuple(perm))
    elif name == "unsqueeze":
        d = a_dim(data, n, extra=1)
        fn = tfn = lambda t: t.unsqueeze(d)
    elif name == "squeeze":
        d = a_dim(data, n)
        fn = tfn = lambda t: t.squeeze(d)
    elif name == "squeeze-all":
        fn = tfn = lambda t: t.squeeze()
    elif name == "flatten":
        start, end = sorted((a_dim(data, n) % max(n, 1), a_dim(data, n) % max(n, 1)))
        fn = tfn = lambda t: t.flatten(start, end)
    elif name == "reshape":
        fn = tfn = lambda t: t.reshape(-1)
    else:
        target = tuple(data.draw(st.sampled_from([s, 2]) if s == 1 else st.just(s)) for s in shape)
        lead = data.draw(st.sampled_from([(), (2,), (0,)]), label="new dims")
        fn = tfn = lambda t: t.expand((*lead, *target))
    return fn, tfn, [values(data, shape, dtype_of(data))], [True]


@family
def indexing(data):
    shape = data.draw(NONEMPTY)
    items, titems, flips = [], [], []
    for size in shape:
        kind = data.draw(st.sampled_from(["all", "int", "slice", "reverse", "ints", "skip"]))
        if kind == "skip":
            break
        if kind == "int":
            i = data.draw(st.integers(-size, size - 1))
            items.append(i), titems.append(i)
        elif kind == "slice":
            start = data.draw(st.integers(-size - 1, size + 1))
            stop = data.draw(st.integers(-size - 1, size + 1))
            step = data.draw(st.integers(1, 3))
            items.append(slice(start, stop, step)), titems.append(slice(start, stop, step))
        elif kind == "reverse":  # a negative step: PyTorch flips instead
            items.append(slice(None, None, -1)), titems.append(slice(None))
            flips.append(len(titems) - 1 - sum(isinstance(i, int) for i in titems))
        elif kind == "ints" and not any(isinstance(i, list) for i in items):
            ids = data.draw(st.lists(st.integers(-size, size - 1), max_size=4))
            items.append(ids), titems.append(ids)
        else:
            items.append(slice(None)), titems.append(slice(None))
    if any(isinstance(i, list) for i in items):
        flips = []  # keep it simple: no flips next to an integer list
        items = [slice(None) if isinstance(i, slice) and i.step == -1 else i for i in items]
        titems = items

    def tfn(t):
        out = t[tuple(titems)]
        return torch.flip(out, flips) if flips else out

    return (lambda x: x[tuple(items)]), tfn, [values(data, shape, dtype_of(data))], [True]


@family
def boolean_mask(data):
    shape = data.draw(SHAPES.filter(lambda s: len(s) > 0))
    k = data.draw(st.integers(1, len(shape)), label="mask dims")
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    mask = rng.random(shape[:k]) < 0.5
    dtype = dtype_of(data)
    return (
        (lambda x, m: x[m]),
        (lambda t, m: t[m]),
        [values(data, shape, dtype), mask],
        [True, False],
    )


@family
def joins(data):
    shape = list(data.draw(NONEMPTY))
    name = data.draw(st.sampled_from(["cat", "stack", "split", "split-sections", "chunk"]))
    dim = a_dim(data, len(shape), extra=1 if name == "stack" else 0)
    dtype = dtype_of(data)
    if name in ("cat", "stack"):
        count = data.draw(st.integers(1, 3), label="count")
        shapes = []
        for _ in range(count):
            s = list(shape)
            if name == "cat":
                s[dim] = data.draw(st.integers(0, 3), label="size")
            shapes.append(tuple(s))
        arrays = [values(data, s, dtype) for s in shapes]
        op, top = getattr(mg, name), getattr(torch, name)
        return (
            (lambda *xs: op(list(xs), dim)),
            (lambda *ts: top(list(ts), dim)),
            arrays,
            [True] * count,
        )
    shape[dim] = data.draw(st.integers(0, 5), label="size")
    size = shape[dim]
    if name == "split":
        arg = data.draw(st.integers(1, 4), label="split size")
        fn = tfn = lambda t: t.split(arg, dim)
    elif name == "split-sections":
        cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3), label="cuts"))
        sections = [b - a for a, b in zip([0, *cuts], [*cuts, size])]
        fn = lambda x: mg.split(x, sections, dim)  # noqa: E731
        tfn = lambda t: torch.split(t, sections, dim)  # noqa: E731
    else:
        k = data.draw(st.integers(1, 4), label="chunks")
        fn = tfn = lambda t: t.chunk(k, dim)
    return fn, tfn, [values(data, tuple(shape), dtype)], [True]


@family
def masking(data):
    name = data.draw(st.sampled_from(["where", "where-scalar", "masked_fill", "tril", "triu"]))
    dtype = dtype_of(data)
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    if name.startswith("where"):
        s = data.draw(
            hnp.mutually_broadcastable_shapes(
                num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3
            )
        ).input_shapes
        cond = rng.random(s[0]) < 0.5
        if name == "where-scalar":
            return (
                lambda m, a: mg.where(m, a, 0.5),
                lambda m, a: torch.where(m, a, 0.5),
                [cond, values(data, s[1], dtype)],
                [False, True],
            )
        return (
            mg.where,
            torch.where,
            [cond, values(data, s[1], dtype), values(data, s[2], dtype)],
            [False, True, True],
        )
    if name == "masked_fill":
        shape = data.draw(SHAPES)
        mshape = shape[data.draw(st.integers(0, len(shape))) :]
        mask = rng.random(mshape) < 0.5
        return (
            lambda a, m: a.masked_fill(m, -2.0),
            lambda a, m: a.masked_fill(m, -2.0),
            [values(data, shape, dtype), mask],
            [True, False],
        )
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=4))
    k = data.draw(st.integers(-3, 3), label="diagonal")
    return (
        (lambda a: getattr(a, name)(k)),
        (lambda t: getattr(t, name)(k)),
        [values(data, shape, dtype)],
        [True],
    )


@family
def matmul(data):
    m, k, n = (data.draw(st.integers(0, 3), label=c) for c in "mkn")
    batch_a = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=2))
    batch_b = data.draw(st.sampled_from([(), batch_a, batch_a[-1:], (1,) * len(batch_a)]))
    kind = data.draw(st.sampled_from(["mm", "mv", "vm", "vv"]))
    sa = (k,) if kind in ("vm", "vv") else (*batch_a, m, k)
    sb = (k,) if kind in ("mv", "vv") else (*batch_b, k, n)
    dtype = dtype_of(data)
    return (
        (lambda a, b: a @ b),
        (lambda a, b: a @ b),
        [values(data, sa, dtype), values(data, sb, dtype)],
        [True, True],
    )


@family
def layer_norm(data):
    shape = data.draw(NONEMPTY)
    n = data.draw(st.integers(1, len(shape)), label="normalized dims")
    norm = shape[-n:]
    affine = data.draw(st.booleans(), label="affine")
    dtype = dtype_of(data)
    arrays = [values(data, shape, dtype)]
    if affine:
        arrays += [values(data, norm, dtype), values(data, norm, dtype)]
    return (
        lambda x, *wb: mg.layer_norm(x, norm, *wb),
        lambda x, *wb: tnf.layer_norm(x, norm, *wb),
        arrays,
        [True] * len(arrays),
    )


@family
def cross_entropy(data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    extra = data.draw(st.sampled_from([(), (2,), (0,)]), label="extra dims")
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    dtype = dtype_of(data)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    eps = data.draw(st.sampled_from([0.0, 0.2]))
    logits = values(data, (n, c, *extra), dtype)
    if data.draw(st.booleans(), label="probabilities"):
        target = rng.random((n, c, *extra)).astype(dtype)  # need not sum to 1
        kw = {}
    else:
        target = rng.integers(0, c, (n, *extra))
        ignore = data.draw(st.sampled_from([-100, 0]))
        target[rng.random(target.shape) < 0.3] = ignore
        # every target ignored, or none at all (an empty batch): a mean of nothing, 0 in
        # minigrad by design (tests/test_review12_losses.py), NaN in PyTorch
        assume(reduction != "mean" or (target != ignore).any())
        kw = {"ignore_index": ignore}
    kw.update(reduction=reduction, label_smoothing=eps)
    return (
        lambda x, t: mg.cross_entropy(x, t, **kw),
        lambda x, t: tnf.cross_entropy(x, t, **kw),
        [logits, target],
        [True, False],
    )


@family
def embedding(data):
    rows, dim = data.draw(st.integers(1, 4)), data.draw(st.integers(0, 3))
    ids_shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    ids = np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, rows, ids_shape)
    pad = data.draw(st.sampled_from([None, 0, -1]))
    return (
        lambda i, w: mg.embedding(i, w, padding_idx=pad),
        lambda i, w: tnf.embedding(i, w, padding_idx=pad),
        [ids, values(data, (rows, dim), dtype_of(data))],
        [False, True],
    )


@family
def linear(data):
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    fin, fout = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    dtype = dtype_of(data)
    arrays = [values(data, (*lead, fin), dtype), values(data, (fout, fin), dtype)]
    if data.draw(st.booleans(), label="bias"):
        arrays.append(values(data, (fout,), dtype))
    return mg.linear, tnf.linear, arrays, [True] * len(arrays)


@family
def attention(data):
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=2))
    tq, tk = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 3))
    d, dv = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    dtype = dtype_of(data)
    arrays = [
        values(data, (*batch, tq, d), dtype),
        values(data, (*batch, tk, d), dtype),
        values(data, (*batch, tk, dv), dtype),
    ]
    mask = np.zeros((tq, tk), dtype=bool)
    if data.draw(st.booleans(), label="mask"):
        # a NaN in a row with a masked key makes the output NaN in both; then PyTorch's
        # masked_fill zeroes the masked score's gradient where minigrad's softmax backward
        # gives NaN: no NaN inputs when a mask is drawn
        arrays = [np.nan_to_num(a) for a in arrays]
        mask = np.random.default_rng(data.draw(st.integers(0, 99))).random((tq, tk)) < 0.4
        mask[:, 0] = False  # every query may attend to something (PyTorch gives NaN otherwise)

    def reference(q, k, v, m):
        # the formula, not PyTorch's fused kernel: on a row of NaN scores its CPU kernel
        # returns 0 where softmax(NaN) is NaN
        scores = (q @ k.mT) / np.sqrt(d)
        return torch.softmax(scores.masked_fill(m, -np.inf), -1) @ v

    return mg.attention, reference, [*arrays, mask], [True, True, True, False]


COMPARE = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


@family
def conversions(data):
    """Casts (differentiable), comparisons and logical ops, argmax/argmin (no gradient)."""
    name = data.draw(st.sampled_from(["cast", "compare", "logical", "argmax", "argmin"]))
    dtype = dtype_of(data)
    if name == "cast":
        return (
            (lambda x: x.double() * 1.0),
            (lambda t: t.double() * 1.0),
            [values(data, data.draw(SHAPES), np.float32)],
            [True],
        )
    if name in ("argmax", "argmin"):
        shape = data.draw(SHAPES)
        dim = data.draw(st.one_of(st.none(), st.just(a_dim(data, len(shape)))))
        keep = data.draw(st.booleans())
        return (
            lambda x: getattr(x, name)(dim, keepdim=keep),
            lambda t: getattr(t, name)(dim, keepdim=keep),
            [values(data, shape, dtype)],
            [False],
        )
    a_shape, b_shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    a, b = values(data, a_shape, dtype), values(data, b_shape, dtype)
    if name == "compare":
        op = COMPARE[data.draw(st.sampled_from(sorted(COMPARE)))]
        return op, op, [a, b], [False, False]
    which = data.draw(st.sampled_from(["and", "or", "not"]))
    ops = {
        "and": lambda x, y: (x > 0) & (y > 0),
        "or": lambda x, y: (x > 0) | (y > 0),
        "not": lambda x, y: ~(x > y),
    }
    return ops[which], ops[which], [a, b], [False, False]


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(FAMILIES))
@fuzz_settings(200)
@given(data=st.data())
def test_family_against_torch(name: str, data: st.DataObject) -> None:
    fn, tfn, arrays, diff = FAMILIES[name](data)
    layouts = [data.draw(st.sampled_from(LAYOUTS), label="layout") for _ in arrays]
    seed_layout = data.draw(st.sampled_from(LAYOUTS), label="seed layout")
    compare_with_torch(fn, tfn, arrays, diff, layouts, seed_layout=seed_layout)
