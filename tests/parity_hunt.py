# ruff: noqa: E731  (a hand-run driver: its cases are lambdas over lib)
"""A differential hunt against PyTorch, run by hand (not part of the suite): draws calls of
reductions, shape ops, indexing, in-place ops and nn functionals with seeded NumPy, runs each
on minigrad and on PyTorch, and prints every disagreement in value, dtype, shape, gradient
(float64) or refusal.

    PYTHONPATH=$PWD python tests/parity_hunt.py --seconds 120 --seed 0

Its findings became the regression tests in tests/test_parity_fuzz2.py. Each family returns
``(label, fn, arrays, diff)``: ``fn(lib, *tensors)`` is called with ``lib`` = minigrad or
torch, so one body states the call for both.
"""

from __future__ import annotations

import argparse
import collections
import re
import time
import traceback
import warnings
from collections.abc import Callable

import numpy as np
import torch

import minigrad as mg
import nn.functional as mgf

F = {mg: mgf, torch: torch.nn.functional}
FLOAT = np.float64  # --float32 draws float32 values instead (and compares more loosely)
TOL = {"rtol": 1e-9, "atol": 1e-12}
FAMILIES: dict[str, Callable] = {}


def family(fn: Callable) -> Callable:
    FAMILIES[fn.__name__] = fn
    return fn


def shape_of(rng, min_dims=0, max_dims=3, min_side=0, max_side=3) -> tuple[int, ...]:
    return tuple(
        int(s) for s in rng.integers(min_side, max_side + 1, rng.integers(min_dims, max_dims + 1))
    )


def values(rng, shape, dtype=np.float64) -> np.ndarray:
    mode = rng.choice(["normal", "ties", "nan", "ints"], p=[0.5, 0.3, 0.1, 0.1])
    a = rng.standard_normal(shape)
    if mode == "ties":
        a = np.round(a * 1.5) + 0.0
    elif mode == "nan":
        a[rng.random(shape) < 0.2] = np.nan
    elif mode == "ints":
        if dtype == "any":
            return rng.integers(-3, 4, shape).astype(
                rng.choice(["int64", "int32", "uint8", "bool"])
            )
        a = rng.integers(-3, 4, shape).astype(float)
    return np.asarray(a, dtype=FLOAT if dtype in ("any", np.float64) else dtype)


def a_dim(rng, ndim, extra=0) -> int:
    n = max(ndim + extra, 1)
    return int(rng.integers(-n, n))


def dims_of(rng, ndim, allow_none=True):
    kind = rng.choice(["none", "int", "tuple", "list"] if allow_none else ["int", "tuple"])
    if kind == "none":
        return None
    if kind == "int" or ndim == 0:
        return a_dim(rng, ndim)
    k = int(rng.integers(0, ndim + 1))
    dims = rng.permutation(ndim)[:k]
    out = tuple(int(d) - ndim if rng.random() < 0.5 else int(d) for d in dims)
    return list(out) if kind == "list" else out


def is_torch(lib) -> bool:
    return lib is torch


# =============================================================================================
# Families
# =============================================================================================


@family
def reductions(rng):
    shape = shape_of(rng)
    name = str(
        rng.choice(
            [
                "sum",
                "mean",
                "prod",
                "var",
                "std",
                "amax",
                "amin",
                "logsumexp",
                "max",
                "min",
                "argmax",
                "argmin",
                "cumsum",
                "all",
                "any",
            ]
        )
    )
    x = values(
        rng,
        shape,
        "any"
        if name in ("sum", "prod", "max", "min", "argmax", "all", "any", "amax", "cumsum")
        else np.float64,
    )
    keep = bool(rng.random() < 0.5)
    if name in ("prod", "argmax", "argmin", "cumsum") or (
        name in ("max", "min") and rng.random() < 0.7
    ):
        dim = a_dim(rng, len(shape)) if name == "cumsum" or rng.random() < 0.8 else None
    else:
        dim = dims_of(rng, len(shape))
    kw = {}
    if name in ("var", "std"):
        kw["correction"] = int(rng.choice([0, 1, 2]))
        if np.isnan(x).any():
            return None  # NaN with no degrees of freedom: PyTorch's gradient is inf or NaN
        if dim == () or dim == []:
            dim = None  # PyTorch's var/std backward over dim=() takes N = 1
        axes = range(len(shape)) if dim is None else [d % len(shape) for d in np.atleast_1d(dim)]
        if shape and int(np.prod([shape[d] for d in axes])) <= kw["correction"]:
            return None  # no degrees of freedom: PyTorch's backward divides by N - correction

    def fn(lib, t):
        if name == "cumsum":
            return t.cumsum(dim)
        if name in ("max", "min") and dim is not None:
            r = getattr(t, name)(dim, keepdim=keep)
            return tuple(r)
        if dim is None:
            if name in ("max", "min") or (name in ("argmax", "argmin", "prod") and not keep):
                return getattr(t, name)()
            if name == "logsumexp":
                return None
            if is_torch(lib) and name not in ("var", "std"):
                return (
                    getattr(lib, name)(t, tuple(range(t.ndim)), keepdim=keep)
                    if name not in ("prod", "argmax", "argmin")
                    else getattr(lib, name)(t, keepdim=keep)
                )
            return (
                getattr(lib, name)(t, keepdim=keep, **kw)
                if name not in ("prod", "argmax", "argmin")
                else getattr(lib, name)(t, keepdim=keep)
            )
        return getattr(lib, name)(t, dim, keepdim=keep, **kw)

    return f"{name} dim={dim} keep={keep} {kw}", fn, [x], [x.dtype.kind == "f"]


@family
def reduce_methods(rng):
    """The Tensor-method spellings with dims as varargs / keywords."""
    shape = shape_of(rng, 1)
    x = values(rng, shape)
    name = str(rng.choice(["sum", "mean", "amax", "var", "std", "logsumexp"]))
    dim = dims_of(rng, len(shape), allow_none=False)
    keep = bool(rng.random() < 0.5)
    if name in ("var", "std") and dim in ((), []):
        return None
    return (
        f"t.{name}(dim={dim}, keepdim={keep})",
        (lambda lib, t: getattr(t, name)(dim=dim, keepdim=keep)),
        [x],
        [True],
    )


@family
def shapes(rng):
    shape = shape_of(rng)
    n = len(shape)
    x = values(rng, shape, "any")
    name = str(
        rng.choice(
            [
                "reshape-1",
                "view-1",
                "flip",
                "roll",
                "narrow",
                "chunk",
                "split",
                "split-list",
                "unbind",
                "movedim",
                "squeeze-tuple",
                "transpose",
                "t",
                "repeat",
                "expand-1",
                "unflatten",
                "flatten",
                "diagonal",
                "mT",
                "permute-neg",
                "swapaxes",
                "tril",
                "repeat_interleave",
            ]
        )
    )
    label = name
    if name in ("reshape-1", "view-1"):
        size = int(np.prod(shape))
        opts = [(-1,), (size,), (1, -1), (-1, 1)]
        if shape:
            opts.append((*shape[:-1], -1))
            opts.append((-1, *shape[1:]))
        target = opts[rng.integers(len(opts))]
        meth = name.split("-")[0]
        label += f" {target}"
        fn = lambda lib, t: getattr(t, meth)(*target)
    elif name == "flip":
        d = dims_of(rng, n, allow_none=False)
        d = d if isinstance(d, (tuple, list)) else (d,)
        label += f" {d}"
        fn = lambda lib, t: t.flip(d)
    elif name == "roll":
        k = int(rng.integers(-4, 5))
        d = None if rng.random() < 0.3 else a_dim(rng, n)
        if rng.random() < 0.3 and n >= 2:
            k, d = (k, -k + 1), (0, -1)
        label += f" {k} {d}"
        fn = lambda lib, t: t.roll(k, d)
    elif name == "narrow":
        if n == 0:
            return None
        d = a_dim(rng, n)
        s = shape[d]
        start = int(rng.integers(-s, s + 1)) if s else 0
        length = int(rng.integers(0, s - (start % s if s else 0) + 1)) if s else 0
        label += f" {d} {start} {length}"
        fn = lambda lib, t: t.narrow(d, start, length)
    elif name in ("chunk", "split", "split-list"):
        if n == 0:
            return None
        d = a_dim(rng, n)
        if name == "chunk":
            k = int(rng.integers(1, 6))
            fn = lambda lib, t: tuple(t.chunk(k, d))
        elif name == "split":
            k = int(rng.integers(1, 5))
            fn = lambda lib, t: tuple(t.split(k, d))
        else:
            s = shape[d]
            cuts = sorted(rng.integers(0, s + 1, rng.integers(0, 3)))
            k = [int(b - a) for a, b in zip([0, *cuts], [*cuts, s])]
            fn = lambda lib, t: tuple(t.split(k, d))
        label += f" {k} {d}"
    elif name == "unbind":
        if n == 0:
            return None
        d = a_dim(rng, n)
        label += f" {d}"
        fn = lambda lib, t: tuple(t.unbind(d)) if hasattr(t, "unbind") else tuple(lib.unbind(t, d))
    elif name == "movedim":
        if n == 0:
            src, dst = 0, -1
        elif rng.random() < 0.5:
            src, dst = a_dim(rng, n), a_dim(rng, n)
        else:
            k = int(rng.integers(0, n + 1))
            src = [int(v) for v in rng.permutation(n)[:k]]
            dst = [int(v) - n * int(rng.integers(0, 2)) for v in rng.permutation(n)[:k]]
        label += f" {src} {dst}"
        fn = lambda lib, t: t.movedim(src, dst)
    elif name == "squeeze-tuple":
        d = dims_of(rng, n, allow_none=False)
        d = tuple(d) if isinstance(d, list) else d
        label += f" {d}"
        fn = lambda lib, t: t.squeeze(d)
    elif name in ("transpose", "swapaxes"):
        d0, d1 = a_dim(rng, n), a_dim(rng, n)
        label += f" {d0} {d1}"
        fn = lambda lib, t: getattr(t, name)(d0, d1)
    elif name == "t":
        fn = lambda lib, t: t.t()
    elif name == "mT":
        fn = lambda lib, t: t.mT
    elif name == "permute-neg":
        perm = [int(p) - n * int(rng.integers(0, 2)) for p in rng.permutation(n)]
        label += f" {perm}"
        fn = lambda lib, t: t.permute(*perm) if perm else t.permute(())
    elif name == "repeat":
        reps = tuple(int(r) for r in rng.integers(0, 3, n + int(rng.integers(0, 2))))
        label += f" {reps}"
        fn = lambda lib, t: t.repeat(reps)
    elif name == "expand-1":
        target = tuple(
            -1 if rng.random() < 0.5 else (s if s != 1 else int(rng.integers(0, 3))) for s in shape
        )
        lead = tuple(int(v) for v in rng.integers(0, 3, rng.integers(0, 2)))
        label += f" {lead + target}"
        if not lead + target:
            return None
        fn = lambda lib, t: t.expand(*lead, *target)
    elif name == "unflatten":
        if n == 0:
            return None
        d = a_dim(rng, n)
        s = shape[d]
        options = [(s,), (1, s), (-1, 1), (s, -1)]
        options += [(2, s // 2), (-1, 2)] if s and s % 2 == 0 else []
        sizes = options[int(rng.integers(len(options)))]
        label += f" {d} {sizes}"
        fn = lambda lib, t: t.unflatten(d, sizes)
    elif name == "flatten":
        a, b = a_dim(rng, n), a_dim(rng, n)
        label += f" {a} {b}"
        fn = lambda lib, t: t.flatten(a, b)
    elif name == "diagonal":
        if n < 2:
            return None
        o, d1, d2 = int(rng.integers(-3, 4)), a_dim(rng, n), a_dim(rng, n)
        label += f" {o} {d1} {d2}"
        fn = lambda lib, t: t.diagonal(o, d1, d2)
    elif name == "tril":
        k = int(rng.integers(-3, 4))
        label += f" {k}"
        fn = lambda lib, t: t.tril(k)
    else:
        r = int(rng.integers(0, 3)) if rng.random() < 0.6 else None
        d = None if rng.random() < 0.4 else a_dim(rng, n)
        if r is None:
            if d is None or n == 0:
                return None
            reps = rng.integers(0, 3, shape[d])
            label += f" {reps} {d}"
            fn = lambda lib, t: t.repeat_interleave(lib.tensor(reps), dim=d)
        else:
            label += f" {r} {d}"
            fn = lambda lib, t: t.repeat_interleave(r, dim=d)
    return label, fn, [x], [x.dtype.kind == "f"]


@family
def gathers(rng):
    shape = shape_of(rng, 1)
    n = len(shape)
    x = np.nan_to_num(values(rng, shape))  # NaN in scatter_reduce: conventions differ
    d = a_dim(rng, n)
    name = str(
        rng.choice(
            [
                "gather",
                "scatter",
                "scatter_add",
                "index_select",
                "take_along_dim",
                "index_add",
                "index_fill",
                "scatter_reduce",
                "scatter-value",
            ]
        )
    )
    s = shape[d]
    if s == 0:
        return None
    ishape = tuple(int(rng.integers(0, sh + 1)) for sh in shape)
    ishape = tuple(ishape[i] if i != d % n else int(rng.integers(0, 4)) for i in range(n))
    idx = rng.integers(0, s, ishape)
    if rng.random() < 0.3:
        idx = idx - s  # negative indices
    if name in ("gather", "take_along_dim"):
        if name == "gather":
            fn = lambda lib, t, i: lib.gather(t, d, i)
        else:
            fn = lambda lib, t, i: lib.take_along_dim(t, i, d)
        return f"{name} d={d} idx={idx.tolist()}", fn, [x, idx], [True, False]
    if name in ("scatter", "scatter_add", "scatter_reduce", "scatter-value"):
        idx = idx % s
        if name == "scatter":
            # scatter is non-deterministic with duplicates; keep unique along d per position
            return None
        src = np.nan_to_num(values(rng, ishape))
        if name == "scatter_add":
            fn = lambda lib, t, i, v: lib.scatter_add(t, d, i, v)
            return f"{name} d={d} idx={idx.tolist()}", fn, [x, idx, src], [True, False, True]
        if name == "scatter-value":
            val = float(rng.choice([0.5, -2.0]))
            fn = lambda lib, t, i: lib.scatter(t, d, i, val)
            return f"{name} d={d} idx={idx.tolist()} v={val}", fn, [x, idx], [True, False]
        red = str(rng.choice(["sum", "prod", "mean", "amax", "amin"]))
        inc = bool(rng.random() < 0.5)
        fn = lambda lib, t, i, v: lib.scatter_reduce(t, d, i, v, red, include_self=inc)
        return (
            f"{name} {red} inc={inc} d={d} idx={idx.tolist()}",
            fn,
            [x, idx, src],
            [True, False, red in ("sum", "mean")],
        )
    vec = rng.integers(-s, s, int(rng.integers(0, 4)))
    if name == "index_select":
        fn = lambda lib, t, i: (
            lib.index_select(t, d, i)
            if hasattr(lib, "index_select")
            else t[(slice(None),) * (d % n) + (i,)]
        )
        return f"{name} d={d} idx={vec.tolist()}", fn, [x, vec], [True, False]
    if name == "index_fill":
        val = float(rng.choice([0.5, -2.0]))
        fn = lambda lib, t, i: t.index_fill(d, i, val)
        return f"{name} d={d} idx={vec.tolist()}", fn, [x, vec % s], [True, False]
    srcshape = list(shape)
    srcshape[d] = len(vec)
    src = values(rng, tuple(srcshape))
    alpha = float(rng.choice([1.0, 2.0, -0.5]))
    fn = lambda lib, t, i, v: lib.index_add(t, d, i, v, alpha=alpha)
    return (
        f"{name} d={d} idx={vec.tolist()} alpha={alpha}",
        fn,
        [x, vec % s, src],
        [True, False, True],
    )


def an_index(rng, shape, lib_tensor_ok=True):
    """An index mixing ints, slices, None, Ellipsis, int lists/arrays and bool masks."""
    items = []
    dim = 0
    used_ellipsis = False
    while dim < len(shape):
        size = shape[dim]
        kind = rng.choice(["slice", "int", "array", "none", "ellipsis", "stop", "mask", "all"])
        if kind == "stop":
            break
        if kind == "none":
            items.append(None)
            continue
        if kind == "ellipsis":
            if used_ellipsis:
                continue
            used_ellipsis = True
            items.append(Ellipsis)
            dim = len(shape) - int(rng.integers(0, len(shape) - dim + 1))
            continue
        if kind == "int" and size:
            items.append(int(rng.integers(-size, size)))
        elif kind == "slice":
            start = int(rng.integers(-size - 1, size + 2))
            stop = int(rng.integers(-size - 1, size + 2))
            items.append(
                slice(
                    start if rng.random() < 0.7 else None,
                    stop if rng.random() < 0.7 else None,
                    int(rng.integers(1, 3)),
                )
            )
        elif kind == "array" and size:
            ishape = tuple(int(v) for v in rng.integers(1, 3, rng.integers(0, 3)))
            items.append(("arr", rng.integers(-size, size, ishape)))
        elif kind == "mask":
            items.append(("arr", rng.random(size) < 0.5))
        else:
            items.append(slice(None))
        dim += 1
    return items


def realize(items, lib):
    return tuple(lib.tensor(i[1]) if isinstance(i, tuple) else i for i in items)


@family
def setitems(rng):
    shape = shape_of(rng, 1)
    x = values(rng, shape)
    items = an_index(rng, shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            target = torch.zeros(shape)[realize(items, torch)].shape
        except Exception:
            return None
    # a value that broadcasts to the target
    tshape = list(target)
    k = int(rng.integers(0, len(tshape) + 1))
    vshape = [1 if rng.random() < 0.3 else s for s in tshape[k:]]
    kind = rng.choice(["tensor", "float", "int"])
    if kind == "tensor":
        v = values(rng, tuple(vshape))

        def fn(lib, t, v):
            y = t * 1.0
            y[realize(items, lib)] = v
            return y

        return f"setitem {items} {vshape}", fn, [x, v], [True, True]
    val = 1.5 if kind == "float" else 3

    def fn1(lib, t):
        y = t * 1.0
        y[realize(items, lib)] = val
        return y

    return f"setitem {items} {val}", fn1, [x], [True]


@family
def getitems(rng):
    shape = shape_of(rng, 1)
    x = values(rng, shape, "any")
    items = an_index(rng, shape)
    return f"getitem {items}", (lambda lib, t: t[realize(items, lib)]), [x], [x.dtype.kind == "f"]


@family
def inplace(rng):
    """In-place ops with promotion: PyTorch refuses a result its dtype cannot hold."""
    shape = shape_of(rng, 0, 2)
    dt = str(rng.choice(["float64", "float32", "int64", "int32", "uint8", "bool"]))
    x = values(rng, shape, np.float64)
    x = np.nan_to_num(x).astype(dt) if dt != "float64" else x
    if dt == "uint8":
        x = np.abs(np.nan_to_num(values(rng, shape))).astype(dt)
    op = str(
        rng.choice(
            [
                "add_",
                "sub_",
                "mul_",
                "div_",
                "clamp_",
                "pow_",
                "fill_",
                "copy_",
                "floor_divide_",
                "remainder_",
                "masked_fill_",
                "neg_",
                "abs_",
                "exp_",
            ]
        )
    )
    okind = rng.choice(
        ["int", "float", "bool", "tensor-f64", "tensor-i64", "tensor-bool", "0d-f64", "0d-i32"]
    )
    if okind == "int":
        other = 2
    elif okind == "float":
        other = 1.5
    elif okind == "bool":
        other = True
    else:
        odt = {
            "tensor-f64": "float64",
            "tensor-i64": "int64",
            "tensor-bool": "bool",
            "0d-f64": "float64",
            "0d-i32": "int32",
        }[okind]
        oshape = () if okind.startswith("0d") else shape[int(rng.integers(0, len(shape) + 1)) :]
        other = np.abs(np.nan_to_num(values(rng, oshape))).astype(odt) + (1 if odt != "bool" else 0)
        other = np.asarray(other).astype(odt)
    view = bool(rng.random() < 0.3) and len(shape) > 0

    def fn(lib, t):
        y = t.clone() if t.dtype in (lib.float64, lib.float32) else t
        y = y * 1 if y.dtype in (lib.float64, lib.float32) else y.clone()
        target = y[..., ::2] if view else y
        o = lib.tensor(other) if isinstance(other, np.ndarray) else other
        if view and isinstance(other, np.ndarray) and other.ndim:
            return None
        if op == "clamp_":
            target.clamp_(min=o if not isinstance(o, bool) else None, max=None)
        elif op in ("neg_", "abs_", "exp_"):
            getattr(target, op)()
        elif op == "fill_":
            target.fill_(o)
        elif op == "copy_":
            target.copy_(o if not isinstance(o, (int, float)) else lib.tensor(o))
        elif op == "masked_fill_":
            target.masked_fill_(target != target, o) if not isinstance(o, np.ndarray) else None
        else:
            getattr(target, op)(o)
        return y

    diff = dt == "float64"
    return f"{dt} {op} {okind} {other!r} view={view}", fn, [x], [diff]


@family
def inplace_grad(rng):
    """In-place ops on non-leaf float64 tensors and views, with gradients through them."""
    shape = shape_of(rng, 1, 3, 1)
    x = values(rng, shape)
    o = values(rng, shape[int(rng.integers(0, len(shape) + 1)) :])
    op = str(
        rng.choice(
            [
                "add_",
                "sub_",
                "mul_",
                "div_",
                "clamp_",
                "pow_",
                "copy_",
                "masked_fill_",
                "setitem",
                "index_add_",
                "scatter_add_",
            ]
        )
    )
    view = str(rng.choice(["none", "slice", "transpose", "select", "reshape"]))

    def fn(lib, t, u):
        y = t * 1.0
        if view == "slice":
            v = y[..., 1:]
            uu = u[..., 1:] if u.ndim else u
        elif view == "transpose" and y.ndim >= 2:
            v = y.transpose(0, -1)
            uu = u.transpose(0, -1) if u.ndim >= 2 else u
            if u.ndim == 1:
                return None
        elif view == "select":
            v = y[0]
            uu = u[0] if u.ndim == y.ndim else u
        elif view == "reshape":
            v = y.reshape(-1)
            uu = u.reshape(-1) if u.ndim == y.ndim else u.reshape(-1) if u.ndim == 0 else None
            if uu is None:
                return None
        else:
            v, uu = y, u
        if op == "clamp_":
            v.clamp_(-0.5, 0.7)
        elif op == "pow_":
            v.pow_(2)
        elif op == "copy_":
            v.copy_(uu)
        elif op == "masked_fill_":
            v.masked_fill_(uu > 0, 2.5)
        elif op == "setitem":
            v[...] = uu * 2
        elif op in ("index_add_", "scatter_add_"):
            return None
        else:
            getattr(v, op)(uu)
        return y * 2.0, v * 3.0

    return f"{op} view={view} {shape} {o.shape}", fn, [x, o], [True, True]


@family
def functionals(rng):
    name = str(
        rng.choice(
            [
                "linear",
                "embedding",
                "dropout-eval",
                "gelu-tanh",
                "layer_norm",
                "rms_norm",
                "mse_loss",
                "l1_loss",
                "nll_loss",
                "bce",
                "bce_logits",
                "pad",
                "normalize",
                "kl_div",
                "one_hot",
                "softplus",
                "elu",
                "leaky_relu",
                "silu",
                "log_softmax",
                "smooth_l1_loss",
                "huber_loss",
                "cross_entropy",
            ]
        )
    )
    red = str(rng.choice(["mean", "sum", "none"]))
    if name == "linear":
        lead = shape_of(rng, 0, 2)
        fin, fout = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        if rng.random() < 0.2:
            w = values(rng, (fin,))
            b = values(rng, ())
        else:
            w = values(rng, (fout, fin))
            b = values(rng, (fout,))
        arrays = [values(rng, (*lead, fin)), w] + ([b] if rng.random() < 0.5 else [])
        return (
            f"linear {arrays[0].shape} {w.shape}",
            (lambda lib, *ts: F[lib].linear(*ts)),
            arrays,
            [True] * len(arrays),
        )
    if name == "embedding":
        rows, dim = int(rng.integers(1, 5)), int(rng.integers(0, 4))
        ids = rng.integers(0, rows, shape_of(rng, 0, 2))
        pad = None if rng.random() < 0.4 else int(rng.integers(-rows, rows))
        return (
            f"embedding pad={pad}",
            (lambda lib, i, w: F[lib].embedding(i, w, padding_idx=pad)),
            [ids, values(rng, (rows, dim))],
            [False, True],
        )
    x = values(rng, shape_of(rng))
    if name == "dropout-eval":
        p = float(rng.choice([0.0, 0.5, 1.0]))
        return (
            f"dropout eval p={p}",
            (lambda lib, t: F[lib].dropout(t, p, training=False)),
            [x],
            [True],
        )
    if name == "gelu-tanh":
        return name, (lambda lib, t: F[lib].gelu(t, approximate="tanh")), [x], [True]
    if name in ("softplus", "elu", "leaky_relu", "silu", "log_softmax"):
        if name == "softplus":
            beta, th = float(rng.choice([1.0, 2.0, 0.5])), float(rng.choice([20.0, 1.0, 0.5]))
            return (
                f"softplus {beta} {th}",
                (lambda lib, t: F[lib].softplus(t, beta, th)),
                [x * 3],
                [True],
            )
        if name == "elu":
            a = float(rng.choice([1.0, 0.5, 2.0]))
            return f"elu {a}", (lambda lib, t: F[lib].elu(t, a)), [x], [True]
        if name == "leaky_relu":
            a = float(rng.choice([0.01, 0.2, -0.5, 1.5]))
            return f"leaky {a}", (lambda lib, t: F[lib].leaky_relu(t, a)), [x], [True]
        if name == "log_softmax":
            d = a_dim(rng, x.ndim)
            return f"log_softmax {d}", (lambda lib, t: F[lib].log_softmax(t, d)), [x], [True]
        return name, (lambda lib, t: F[lib].silu(t)), [x], [True]
    if name in ("layer_norm", "rms_norm"):
        if x.ndim == 0:
            return None
        k = int(rng.integers(1, x.ndim + 1))
        norm = x.shape[-k:]
        affine = bool(rng.random() < 0.5)
        bias = name == "layer_norm" and bool(rng.random() < 0.5)
        eps = None if name == "rms_norm" and rng.random() < 0.5 else 1e-5
        arrays = (
            [x] + ([values(rng, norm)] if affine else []) + ([values(rng, norm)] if bias else [])
        )

        def fn(lib, t, *wb):
            w = wb[0] if affine else None
            b = wb[1] if bias and affine else (wb[0] if bias else None)
            if name == "layer_norm":
                return F[lib].layer_norm(t, norm, w, b, eps=eps)
            return F[lib].rms_norm(t, norm, w, eps=eps)

        return (
            f"{name} {norm} affine={affine} bias={bias} eps={eps}",
            fn,
            arrays,
            [True] * len(arrays),
        )
    if name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        yshape = x.shape[int(rng.integers(0, x.ndim + 1)) :]
        y = values(rng, yshape)
        return (
            f"{name} {red} {x.shape} {yshape}",
            (lambda lib, a, b: getattr(F[lib], name)(a, b, reduction=red)),
            [x, y],
            [True, bool(rng.random() < 0.5)],
        )
    if name in ("bce", "bce_logits"):
        p = np.asarray(1 / (1 + np.exp(-np.nan_to_num(x))))
        y = rng.random(x.shape)
        if rng.random() < 0.3:
            p[rng.random(x.shape) < 0.3] = float(rng.choice([0.0, 1.0]))
        arrays = [p if name == "bce" else x, y]
        if rng.random() < 0.4:
            arrays.append(rng.random(x.shape[int(rng.integers(0, x.ndim + 1)) :]))
        fname = "binary_cross_entropy" if name == "bce" else "binary_cross_entropy_with_logits"
        return (
            f"{name} {red} w={len(arrays) > 2}",
            (lambda lib, a, b, *w: getattr(F[lib], fname)(a, b, *w, reduction=red)),
            arrays,
            [True, True] + [False] * (len(arrays) - 2),
        )
    if name in ("nll_loss", "cross_entropy"):
        n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        extra = shape_of(rng, 0, 2, 1, 2)
        logits = values(rng, (n, c, *extra)) if rng.random() < 0.8 else values(rng, (c,))
        tshape = (n, *extra) if logits.ndim > 1 else ()
        tgt = rng.integers(0, c, tshape)
        ign = int(rng.choice([-100, 0, 1]))
        w = rng.random(c) if rng.random() < 0.4 else None
        if red == "mean" and (tgt == ign).all():
            return None  # minigrad's 0 where PyTorch gives NaN: documented
        arrays = [logits, tgt] + ([w] if w is not None else [])
        fname = name

        def fn(lib, a, b, *ws):
            return (
                getattr(F[lib], fname)(
                    a, b, *([ws[0]] if ws else [None]), ignore_index=ign, reduction=red
                )
                if fname == "nll_loss"
                else F[lib].cross_entropy(
                    a, b, weight=ws[0] if ws else None, ignore_index=ign, reduction=red
                )
            )

        return (
            f"{name} {red} ign={ign} {logits.shape} w={w is not None}",
            fn,
            arrays,
            [True, False, False][: len(arrays)],
        )
    if name == "pad":
        if x.ndim == 0:
            return None
        mode = str(rng.choice(["constant", "reflect", "replicate", "circular"]))
        k = int(rng.integers(1, min(x.ndim, 3) + 1))
        pads = [int(v) for v in rng.integers(-1 if mode == "constant" else 0, 3, 2 * k)]
        val = None if mode != "constant" or rng.random() < 0.5 else 1.5
        kw = {"value": val} if val is not None else {}
        return (
            f"pad {mode} {pads} {kw} {x.shape}",
            (lambda lib, t: F[lib].pad(t, pads, mode=mode, **kw)),
            [x],
            [True],
        )
    if name == "normalize":
        if x.ndim == 0:
            return None
        p = float(rng.choice([1.0, 2.0, 3.0]))
        d = a_dim(rng, x.ndim)
        return f"normalize p={p} d={d}", (lambda lib, t: F[lib].normalize(t, p, d)), [x], [True]
    if name == "kl_div":
        lt = bool(rng.random() < 0.5)
        red2 = str(rng.choice(["mean", "sum", "none", "batchmean"]))
        y = rng.random(x.shape)
        if lt:
            y = np.log(y)
        return (
            f"kl_div {red2} log_target={lt}",
            (lambda lib, a, b: F[lib].kl_div(a, b, reduction=red2, log_target=lt)),
            [x, y],
            [True, True],
        )
    if name == "one_hot":
        ids = rng.integers(0, 4, shape_of(rng, 0, 2))
        nc = int(rng.choice([-1, 4, 5]))
        return f"one_hot {nc}", (lambda lib, i: F[lib].one_hot(i, nc)), [ids], [False]
    return None


def _stable_sort_case(name, x, d, desc):
    """A stable ``sort`` (values and indices, differentiable) or ``argsort`` case of ``x``."""
    if name == "sort":
        return (
            f"sort d={d} desc={desc}",
            (lambda lib, t: tuple(t.sort(dim=d, descending=desc, stable=True))),
            [x],
            [True],
        )
    return (
        f"argsort d={d} desc={desc}",
        (lambda lib, t: t.argsort(dim=d, descending=desc, stable=True)),
        [x],
        [False],
    )


@family
def sorts(rng):
    shape = shape_of(rng, 0, 3)
    x = values(rng, shape)
    if rng.random() < 0.5:
        x = np.nan_to_num(x, nan=0.0)
    name = str(rng.choice(["sort", "topk", "argsort", "kthvalue", "median", "cummax"]))
    d = a_dim(rng, len(shape))
    desc = bool(rng.random() < 0.5)
    if name in ("sort", "argsort"):
        return _stable_sort_case(name, x, d, desc)
    if name == "topk":
        size = shape[d] if shape else 1
        k = int(rng.integers(0, size + 1))
        # ties pick different indices by design: distinct values only
        x = rng.permutation(np.arange(float(np.prod(shape)))).reshape(shape)
        return (
            f"topk k={k} d={d} largest={desc}",
            (lambda lib, t: tuple(t.topk(k, d, largest=desc))),
            [x],
            [True],
        )
    return None


@family
def mixed(rng):
    """Elementwise ops with mixed dtypes, scalars, NaN and signed zeros."""
    shape = shape_of(rng, 0, 2)
    x = values(rng, shape, "any")
    if x.dtype.kind == "f" and rng.random() < 0.3:
        x = x * 0.0 * rng.choice([1, -1])  # signed zeros
    name = str(
        rng.choice(
            [
                "clamp",
                "clamp-t",
                "where",
                "pow",
                "remainder",
                "fmod",
                "floor_divide",
                "round",
                "sign",
                "abs",
                "maximum",
                "isclose",
                "div-trunc",
                "div-floor",
                "logaddexp",
                "sqrt",
                "lerp",
                "copysign",
                "nan_to_num",
                "addcmul",
            ]
        )
    )
    c = rng.choice([0, 2, -1, 0.5, -1.5, True, 0.0, -0.0])
    c = c.item() if hasattr(c, "item") else c
    if name == "clamp":
        lo, hi = (rng.choice([None, -1, 0.5, 1, 2]) for _ in range(2))
        lo, hi = (v.item() if hasattr(v, "item") else v for v in (lo, hi))
        if lo is None and hi is None:
            return None
        return f"clamp {lo} {hi} {x.dtype}", (lambda lib, t: t.clamp(lo, hi)), [x], [True]
    if name == "clamp-t":
        lo = values(rng, shape[int(rng.integers(0, len(shape) + 1)) :], "any")
        return (
            f"clamp-t {x.dtype} {lo.dtype}",
            (lambda lib, t, m: t.clamp(min=m)),
            [x, lo],
            [True, True],
        )
    if name == "where":
        cond = rng.random(shape) < 0.5
        b = values(rng, shape, "any")
        k = rng.integers(0, 3)
        if k == 0:
            return (
                f"where t {x.dtype} {b.dtype}",
                (lambda lib, m, a, bb: lib.where(m, a, bb)),
                [cond, x, b],
                [False, True, True],
            )
        if k == 1:
            return (
                f"where t,c {x.dtype} {c!r}",
                (lambda lib, m, a: lib.where(m, a, c)),
                [cond, x],
                [False, True],
            )
        return (
            f"where c,t {x.dtype} {c!r}",
            (lambda lib, m, a: lib.where(m, c, a)),
            [cond, x],
            [False, True],
        )
    if name in (
        "pow",
        "remainder",
        "floor_divide",
        "maximum",
        "logaddexp",
        "div-trunc",
        "div-floor",
        "fmod",
        "copysign",
    ):
        if rng.random() < 0.5:
            other = values(rng, shape[int(rng.integers(0, len(shape) + 1)) :], "any")
            diff = [True, True]
            if name == "pow" and x.dtype.kind in "iu" and other.dtype.kind in "iu":
                other = np.abs(other)
            label = f"{name} {x.dtype} {other.dtype}"

            def fn(lib, t, o):
                if name.startswith("div-"):
                    return lib.div(t, o, rounding_mode=name[4:])
                if name in ("fmod", "copysign") and not is_torch(lib):
                    return None
                return getattr(lib, name)(t, o)

            return label, fn, [x, other], diff
        if name == "pow" and x.dtype.kind in "iu" and isinstance(c, int) and c < 0:
            return None
        label = f"{name} {x.dtype} {c!r}"

        def fn1(lib, t):
            if name.startswith("div-"):
                return lib.div(t, c, rounding_mode=name[4:])
            if name in ("fmod", "copysign", "maximum", "logaddexp"):
                return None
            return getattr(lib, name)(t, c)

        return label, fn1, [x], [True]
    if name in ("round", "sign", "abs", "sqrt", "nan_to_num"):
        if name == "round":
            d = int(rng.integers(-1, 3))
            return f"round {d} {x.dtype}", (lambda lib, t: t.round(decimals=d)), [x], [True]
        if name == "nan_to_num":
            return None
        return f"{name} {x.dtype}", (lambda lib, t: getattr(lib, name)(t)), [x], [True]
    if name == "isclose":
        other = values(rng, shape, "any")
        en = bool(rng.random() < 0.5)
        return (
            f"isclose {x.dtype} {other.dtype}",
            (lambda lib, a, b: lib.isclose(a, b, equal_nan=en)),
            [x, other],
            [False, False],
        )
    return None


@family
def joins2(rng):
    shape = shape_of(rng, 1, 3)
    name = str(rng.choice(["cat", "stack", "cat-legacy", "cat-dtypes", "hstack"]))
    d = a_dim(rng, len(shape), 1 if name == "stack" else 0)
    k = int(rng.integers(1, 4))
    arrays = []
    for _ in range(k):
        s = list(shape)
        if name.startswith("cat"):
            s[d] = int(rng.integers(0, 3))
        if name == "cat-legacy" and rng.random() < 0.5:
            s = [0]
        arrays.append(values(rng, tuple(s), "any" if name == "cat-dtypes" else np.float64))
    if name == "hstack":
        return None
    op = "stack" if name == "stack" else "cat"
    return (
        f"{name} d={d} {[a.shape for a in arrays]} {[str(a.dtype) for a in arrays]}",
        (lambda lib, *ts: getattr(lib, op)(list(ts), d)),
        arrays,
        [True] * k,
    )


@family
def nan_orders(rng):
    """Sorting, arg-reductions and max/min along a dim with NaN and ties."""
    shape = shape_of(rng, 1, 3, 1)
    x = values(rng, shape)
    x[rng.random(shape) < 0.2] = np.nan
    d = a_dim(rng, len(shape))
    name = str(
        rng.choice(
            [
                "sort",
                "argsort",
                "argmax",
                "argmin",
                "max",
                "min",
                "topk",
                "amax",
                "cummax",
                "msort",
                "kthvalue",
            ]
        )
    )
    desc = bool(rng.random() < 0.5)
    keep = bool(rng.random() < 0.5)
    if name in ("sort", "argsort"):
        return _stable_sort_case(name, x, d, desc)
    if name in ("argmax", "argmin"):
        return (
            f"{name} d={d} keep={keep}",
            (lambda lib, t: getattr(t, name)(d, keepdim=keep)),
            [x],
            [False],
        )
    if name in ("max", "min"):
        return (
            f"{name} d={d} keep={keep}",
            (lambda lib, t: tuple(getattr(t, name)(d, keepdim=keep))),
            [x],
            [True],
        )
    if name == "amax":
        return f"amax d={d}", (lambda lib, t: t.amax(d)), [x], [True]
    if name == "topk":
        k = int(rng.integers(0, shape[d] + 1))
        return (
            f"topk k={k} d={d} largest={desc}",
            (lambda lib, t: t.topk(k, d, largest=desc)[0]),
            [x],
            [True],
        )
    return None


# =============================================================================================
# The comparison
# =============================================================================================


def as_list(out):
    if out is None:
        return None
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check(label, fn, arrays, diff, rng) -> str | None:
    """None when minigrad and PyTorch agree; else a description of the difference."""
    diff = [d and a.dtype.kind == "f" for a, d in zip(arrays, diff)]
    ts = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    touts = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            touts = as_list(fn(torch, *ts))
        except Exception as err:  # noqa: BLE001
            terr = err
        else:
            terr = None
    xs = [mg.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    try:
        outs = as_list(fn(mg, *xs))
    except Exception as err:  # noqa: BLE001
        if terr is not None:
            return None
        return f"minigrad raises {type(err).__name__}: {err}".splitlines()[0][:300]
    if terr is not None:
        if touts is None and outs is None:
            return None
        return f"torch refuses ({type(terr).__name__}: {str(terr).splitlines()[0][:150]}), minigrad gives {[(tuple(o.shape), str(o.dtype)) for o in outs] if outs else outs}"
    if touts is None or outs is None:
        return None
    if len(outs) != len(touts):
        return f"{len(outs)} outputs, torch {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        tdt = str(t.dtype).removeprefix("torch.")
        if str(o.dtype) != tdt:
            return f"output {k}: dtype {o.dtype}, torch {tdt}"
        if tuple(o.shape) != tuple(t.shape):
            return f"output {k}: shape {tuple(o.shape)}, torch {tuple(t.shape)}"
        tv = t.detach().numpy()
        ov = o.numpy()
        if tv.dtype.kind == "f":
            ok = np.allclose(ov, tv, equal_nan=True, **TOL)
        else:
            ok = np.array_equal(ov, tv)
        if not ok:
            return f"output {k}: values {ov.tolist()!s:.200}, torch {tv.tolist()!s:.200}"
        if o.requires_grad != t.requires_grad and not label.startswith("double"):
            return f"output {k}: requires_grad {o.requires_grad}, torch {t.requires_grad}"
    pairs = [(o, t) for o, t in zip(outs, touts) if t.requires_grad]
    want = [i for i, d in enumerate(diff) if d]
    if not pairs or not want:
        return None
    seeds = [rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype) for _, t in pairs]
    try:
        tg = torch.autograd.grad(
            [t for _, t in pairs],
            [ts[i] for i in want],
            [torch.tensor(s) for s in seeds],
            allow_unused=True,
        )
    except Exception as err:  # noqa: BLE001
        return (
            None if "modified by an inplace" in str(err) else f"torch backward raises {err}"[:200]
        )
    live = [(o, s) for (o, _), s in zip(pairs, seeds) if o.requires_grad]  # else a constant
    if not live:
        mgg = [None] * len(want)
    try:
        mgg = (
            mg.grad(
                [o for o, _ in live],
                [xs[i] for i in want],
                [mg.tensor(s) for _, s in live],
                allow_unused=True,
            )
            if live
            else mgg
        )
    except Exception as err:  # noqa: BLE001
        return f"minigrad backward raises {type(err).__name__}: {err}".splitlines()[0][:300]
    for i, g, t in zip(want, mgg, tg):
        tv = np.zeros(arrays[i].shape) if t is None else t.numpy()
        gv = np.zeros(arrays[i].shape) if g is None else g.numpy()
        if gv.shape != tv.shape:
            return f"grad {i}: shape {gv.shape}, torch {tv.shape}"
        if not np.allclose(gv, tv, rtol=TOL["rtol"] * 10, atol=TOL["atol"] * 100, equal_nan=True):
            return f"grad {i}: {gv.tolist()!s:.200}, torch {tv.tolist()!s:.200}"
    return None


def doubled(case, rng):
    """The case's first derivatives taken with create_graph=True (each op's backward_graph)
    as the outputs: check() then compares them and their own gradients (second order)."""
    label, fn, arrays, diff = case
    diff = [d and a.dtype.kind == "f" for a, d in zip(arrays, diff)]
    if not any(diff):
        return None
    seed = int(rng.integers(1 << 30))

    def first(lib, *ts):
        outs = as_list(fn(lib, *ts))
        if outs is None:
            return None
        outs = [o for o in outs if o.requires_grad]
        wrt = [t for t, d in zip(ts, diff) if d]
        if not outs:
            return None
        r = np.random.default_rng(seed)
        seeds = [
            lib.tensor(
                r.standard_normal(tuple(o.shape)).astype(str(o.dtype).removeprefix("torch."))
            )
            for o in outs
        ]
        grad = torch.autograd.grad if is_torch(lib) else mg.grad
        grads = grad(outs, wrt, seeds, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else t * 0.0 for g, t in zip(grads, wrt))

    return "double " + label, first, arrays, diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES))
    parser.add_argument("--double", action="store_true", help="second derivatives instead")
    parser.add_argument("--float32", action="store_true", help="float32 values instead")
    parser.add_argument("--show", type=int, default=3, help="examples shown per kind of failure")
    args = parser.parse_args()
    try:  # a bad MINIGRAD_BACKEND: one line, not a "driver error" in every case
        mg.get_backend()
    except mg.BackendError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    global FLOAT, TOL
    FLOAT = np.float32 if args.float32 else np.float64
    TOL = {"rtol": 1e-4, "atol": 1e-5} if args.float32 else {"rtol": 1e-9, "atol": 1e-12}
    rng = np.random.default_rng(args.seed)
    names = args.family or sorted(FAMILIES)
    seen: dict[str, list[str]] = collections.defaultdict(list)
    runs = 0
    end = time.time() + args.seconds
    while time.time() < end:
        name = names[runs % len(names)]
        runs += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                case = FAMILIES[name](rng)
            except Exception:  # noqa: BLE001
                seen["generator " + name + traceback.format_exc().splitlines()[-1]].append("")
                continue
        if case is not None and args.double:
            case = doubled(case, rng)
        if case is None:
            continue
        label, fn, arrays, diff = case
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem = check(label, fn, arrays, diff, rng)
        except Exception:  # noqa: BLE001
            problem = "driver error " + traceback.format_exc().splitlines()[-1]
        if problem:
            kind = re.sub(r"[-+\d.e\[\](), ]{2,}|nan|inf", "#", problem)[:60]
            key = f"{name}: {label.split()[0]}: {kind}"
            seen[key].append(
                f"{label} | arrays {[a.tolist() if a.size < 13 else a.shape for a in arrays]}\n      -> {problem}"
            )
    print(f"{runs} cases, {len(seen)} kinds of failure")
    for key, examples in sorted(seen.items()):
        print(f"\n[{len(examples)}x] {key}")
        for e in examples[: args.show]:
            print("   ", e)


if __name__ == "__main__":
    main()
