# ruff: noqa: E731  (a hand-run driver: its cases are lambdas over lib)
"""A third differential hunt against PyTorch, run by hand (not part of the suite), on what the
first two (tests/parity_hunt.py) drew little of: setitem with repeated and negative indices and
accumulation, index_put_, reductions' dtypes on integer and bool inputs, integer division and
remainder signs, comparisons and logical ops across dtypes, clamp with tensor bounds, where's
promotion, sort / topk with NaN, and empty tensors in all of them. It reuses parity_hunt's
``check`` (values, dtypes, shapes, refusals and float64 gradients) and driver.

    PYTHONPATH=$PWD python tests/parity_hunt3.py --seconds 120 --seed 0

(always with parity_hunt's ``--float32`` tolerances, as float32 operands are drawn). Families
of ops minigrad does not have yet (``index_put_``, ``logical_and``, ``fmod``...) are skipped.

Its findings became the regression tests in tests/test_parity_fuzz3.py.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from tests import parity_hunt as hunt
from tests.parity_hunt import a_dim, family, realize, shape_of

DTYPES = ["float64", "float32", "int64", "int32", "int8", "uint8", "bool"]


def ints_of(rng, shape, dtype: str) -> np.ndarray:
    """Values of ``dtype`` with ties, zeros, negatives (not for uint8) and, for floats, NaN."""
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("float"):
        a = np.asarray(np.round(rng.standard_normal(shape) * 2))
        a[rng.random(shape) < 0.1] = np.nan
        return a.astype(dtype)
    low = 0 if dtype == "uint8" else -4
    return rng.integers(low, 5, shape).astype(dtype)


def pick(rng, options: list):
    """One of ``options`` as it is (``rng.choice`` makes a mixed list one NumPy dtype)."""
    return options[int(rng.integers(len(options)))]


def outside(c, dtype) -> bool:
    """Whether the Python int ``c`` lies outside the integer ``dtype``'s range."""
    if c.__class__ is not int or dtype.kind not in "iu":
        return False
    info = np.iinfo(dtype)
    return not info.min <= c <= info.max


# FAMILIES is parity_hunt's registry: a family here replaces none of its own
hunt.FAMILIES.clear()


@family
def index_put(rng):
    """``t[idx] = v`` and ``index_put_(..., accumulate)`` with repeated, negative indices."""
    shape = shape_of(rng, 1, 3, 0, 4)
    x = hunt.values(rng, shape)
    d0 = shape[0]
    if d0 == 0:
        return None
    k = int(rng.integers(0, 6))
    idx = rng.integers(-d0, d0, k)
    acc = bool(rng.random() < 0.6)
    vshape = (k, *shape[1:]) if rng.random() < 0.7 else shape[1:]
    v = hunt.values(rng, vshape)
    if rng.random() < 0.5 and hasattr(mg.Tensor, "index_put_"):  # not in minigrad yet

        def fn(lib, t, i, val):
            y = t * 1.0
            return y.index_put_((i,), val, accumulate=acc)

        return (
            f"index_put_ acc={acc} idx={idx.tolist()} v{vshape}",
            fn,
            [x, idx, v],
            [
                True,
                False,
                True,
            ],
        )

    def fn2(lib, t, i, val):
        y = t * 1.0
        if acc:
            y[i] += val  # a gather, an add, a scatter: the last duplicate wins in both
        else:
            y[i] = val
        return y

    # duplicates with assignment: PyTorch's choice of winner is unspecified
    if not acc and len(set((idx % d0).tolist())) != len(idx):
        return None
    return (
        f"setitem{'+=' if acc else '='} idx={idx.tolist()} v{vshape}",
        fn2,
        [x, idx, v],
        [
            True,
            False,
            True,
        ],
    )


@family
def index_mixed(rng):
    """getitem / setitem with masks, None, Ellipsis, int arrays and empty results, any dtype."""
    shape = shape_of(rng, 1, 3, 0, 3)
    dt = str(rng.choice(DTYPES))
    x = ints_of(rng, shape, dt)
    items = hunt.an_index(rng, shape)
    # sometimes the items as a list: PyTorch reads one holding a sequence, a slice, None or an
    # Ellipsis as a tuple (x[[[0, 1], [1, 0]]]), else as one index list
    as_list = bool(rng.random() < 0.2)

    def key(lib):
        k = realize(items, lib)
        return list(k) if as_list else k

    if rng.random() < 0.5:
        return f"getitem {dt} {items} list={as_list}", (lambda lib, t: t[key(lib)]), [x], [True]
    val = pick(rng, [0, 1, True, -1, 2.5])

    def fn(lib, t):
        y = t.clone()
        y[key(lib)] = val
        return y

    return f"setitem {dt} {items} list={as_list} = {val!r}", fn, [x], [True]


@family
def reduce_dtypes(rng):
    """Reductions' return dtypes on integer and bool inputs, with ties, NaN, empty dims."""
    shape = shape_of(rng, 0, 3, 0, 3)
    dt = str(rng.choice(DTYPES))
    x = ints_of(rng, shape, dt)
    name = str(
        rng.choice(
            ["sum", "prod", "mean", "cumsum", "argmax", "argmin", "max", "min"]
            + ["amax", "amin", "all", "any", "count_nonzero", "logsumexp"]
        )
    )
    n = len(shape)
    d = a_dim(rng, n) if rng.random() < 0.7 else None
    keep = bool(rng.random() < 0.5)
    kwdt = rng.choice([None, "int32", "float64"]) if name == "sum" else None

    if name == "count_nonzero" and not hasattr(mg, name):
        return None
    # prod's gradient with NaN factors: PyTorch's depends on whether any factor is 0 at all
    diff = not (name == "prod" and np.isnan(x).any()) if x.dtype.kind == "f" else False

    def fn(lib, t):
        kw = {} if kwdt is None else {"dtype": getattr(lib, str(kwdt))}
        if name == "cumsum":
            return getattr(t, name)(0 if d is None else d, **kw)
        if name == "count_nonzero":
            return lib.count_nonzero(t, d) if d is not None else lib.count_nonzero(t)
        if d is None:
            return getattr(t, name)(**kw)
        if name in ("max", "min"):
            return tuple(getattr(t, name)(d, keepdim=keep))
        return getattr(t, name)(d, keepdim=keep, **kw)

    return f"{name} {dt} d={d} keep={keep} dtype={kwdt}", fn, [x], [diff]


@family
def int_division(rng):
    """``//``, ``%``, ``div(rounding_mode)``, ``fmod``, ``remainder`` signs on ints and floats."""
    shape = shape_of(rng, 0, 2)
    dt = str(rng.choice(DTYPES[:-1]))
    x = ints_of(rng, shape, dt)
    other_dt = str(rng.choice(DTYPES[:-1]))
    y = ints_of(rng, shape[int(rng.integers(0, len(shape) + 1)) :], other_dt)
    if y.dtype.kind in "iu" and x.dtype.kind in "iu":
        y = np.where(y == 0, 3, y).astype(y.dtype)  # integer division by zero raises
    name = str(rng.choice(["floordiv", "mod", "trunc", "floor", "fmod", "remainder", "truediv"]))
    scalar = rng.random() < 0.4
    c = pick(rng, [3, -3, 2.5, -2.5, -7, True])

    def op(lib, a, b):
        if name == "floordiv":
            return a // b
        if name == "mod":
            return a % b
        if name in ("trunc", "floor"):
            return lib.div(a, b, rounding_mode=name)
        if name == "truediv":
            return a / b
        return getattr(lib, name)(a, b)

    if name == "fmod" and not hasattr(mg, "fmod"):
        return None
    # floor_divide differentiates to 0 here, PyTorch has no derivative (differences.md)
    diff = name not in ("floordiv",)
    if scalar and outside(c, x.dtype):
        return None  # refused, where PyTorch divides by it wrapped (differences.md)
    if scalar:
        return f"{name} {dt} {c!r}", (lambda lib, a: op(lib, a, c)), [x], [diff]
    return f"{name} {dt} {other_dt}", op, [x, y], [diff, diff]


@family
def comparisons(rng):
    """Comparisons, logical and bitwise ops across dtypes with broadcasting and 0-d operands."""
    shape = shape_of(rng, 0, 3, 0, 3)
    dt1, dt2 = (str(rng.choice(DTYPES)) for _ in range(2))
    x = ints_of(rng, shape, dt1)
    y = ints_of(rng, shape[int(rng.integers(0, len(shape) + 1)) :], dt2)
    name = str(
        rng.choice(
            ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"]
            + ["logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "maximum", "minimum"]
            + ["eq-scalar", "lt-scalar", "isclose", "equal"]
        )
    )
    if name == "logical_not" and hasattr(mg, name):
        return f"logical_not {dt1}", (lambda lib, a: lib.logical_not(a)), [x], [False]
    if name.endswith("-scalar"):
        c = pick(rng, [0, -1, 2.5, True, 300, -300, False])
        op = name.split("-")[0]
        if outside(c, x.dtype):
            return None  # compared exactly, where PyTorch wraps it first (differences.md)
        dunder = {"eq": "__eq__", "lt": "__lt__"}[op]
        return f"{op} {dt1} {c!r}", (lambda lib, a: getattr(a, dunder)(c)), [x], [False]
    operators = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__"}
    operators |= {"ge": "__ge__", "bitwise_and": "__and__", "bitwise_or": "__or__"}
    operators |= {"bitwise_xor": "__xor__"}
    if name in operators:
        return (
            f"{name} {dt1} {dt2}",
            (lambda lib, a, b: getattr(a, operators[name])(b)),
            [x, y],
            [True, True],
        )
    if not hasattr(mg, name):
        return None  # logical_and, equal...: not in minigrad yet
    if name in ("isclose", "equal") and dt1 != dt2:
        return None  # PyTorch refuses two dtypes; minigrad promotes (differences.md)
    return f"{name} {dt1} {dt2}", (lambda lib, a, b: getattr(lib, name)(a, b)), [x, y], [True, True]


@family
def clamps(rng):
    """clamp with tensor / scalar / None bounds of other dtypes; where's promotion."""
    shape = shape_of(rng, 0, 3, 0, 3)
    dt = str(rng.choice(DTYPES[:-1]))
    x = ints_of(rng, shape, dt)
    if rng.random() < 0.5:
        cond = rng.random(shape[int(rng.integers(0, len(shape) + 1)) :]) < 0.5
        kinds = [rng.choice(["tensor", "0d", "int", "float", "bool"]) for _ in range(2)]
        ops = []
        for k in kinds:
            bdt = str(rng.choice(DTYPES))
            if k == "tensor":
                ops.append(("t", ints_of(rng, shape, bdt)))
            elif k == "0d":
                ops.append(("t", ints_of(rng, (), bdt)))
            else:
                ops.append(("s", {"int": -2, "float": 0.5, "bool": True}[str(k)]))
        arrays = [cond] + [a for kind, a in ops if kind == "t"]

        def fn(lib, c, *ts):
            it = iter(ts)
            a, b = (next(it) if kind == "t" else v for kind, v in ops)
            return lib.where(c, a, b)

        label = f"where {[(k, getattr(v, 'dtype', v)) for k, v in ops]}"
        return label, fn, arrays, [False] + [True] * (len(arrays) - 1)
    bounds = []
    for _ in range(2):
        k = rng.choice(["tensor", "0d", "none", "int", "float"])
        bdt = str(rng.choice(DTYPES[:-1]))
        if k == "tensor":
            bounds.append(("t", ints_of(rng, shape[int(rng.integers(0, len(shape) + 1)) :], bdt)))
        elif k == "0d":
            bounds.append(("t", ints_of(rng, (), bdt)))
        else:
            bounds.append(("s", {"none": None, "int": -1, "float": 0.5}[str(k)]))
    if all(kind == "s" and v is None for kind, v in bounds):
        return None
    if {kind for kind, _ in bounds} == {"t", "s"} and any(v is not None for _, v in bounds):
        if any(kind == "s" and v is not None for kind, v in bounds):
            return None  # PyTorch refuses a tensor bound with a number bound
    arrays = [x] + [a for kind, a in bounds if kind == "t"]

    def fn2(lib, t, *ts):
        it = iter(ts)
        lo, hi = (next(it) if kind == "t" else v for kind, v in bounds)
        return t.clamp(lo, hi)

    label = f"clamp {dt} {[(k, getattr(v, 'dtype', v)) for k, v in bounds]}"
    return label, fn2, arrays, [True] * len(arrays)


@family
def sort_nans(rng):
    """sort / argsort / topk / kthvalue / msort with NaN, ties, empty dims, int dtypes."""
    shape = shape_of(rng, 0, 3, 0, 4)
    dt = str(rng.choice(["float64", "float64", "int64", "int32", "uint8", "bool"]))
    x = ints_of(rng, shape, dt)
    d = a_dim(rng, len(shape))
    name = str(rng.choice(["sort", "argsort", "topk"]))
    desc = bool(rng.random() < 0.5)
    if name in ("sort", "argsort"):
        stable = True
        if name == "sort":
            return (
                f"sort {dt} d={d} desc={desc}",
                (lambda lib, t: tuple(t.sort(dim=d, descending=desc, stable=stable))),
                [x],
                [True],
            )
        return (
            f"argsort {dt} d={d} desc={desc}",
            (lambda lib, t: t.argsort(dim=d, descending=desc, stable=stable)),
            [x],
            [False],
        )
    if name == "topk":
        size = shape[d] if shape else 1
        k = int(rng.integers(0, size + 1))
        if dt == "bool":
            return None  # PyTorch's CPU topk refuses bool; minigrad's keeps the dtype
        # the values agree even where ties pick other indices (PyTorch's topk is not stable):
        # no gradient compared
        return (
            f"topk {dt} k={k} d={d} largest={desc}",
            (lambda lib, t: t.topk(k, d, largest=desc)[0]),
            [x],
            [False],
        )
    return None


if __name__ == "__main__":
    import sys

    if "--float32" not in sys.argv:  # float32 operands are drawn: float32 tolerances always
        sys.argv.append("--float32")
    hunt.main()
