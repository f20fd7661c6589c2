"""The CuPy audit of session 11's ops (minigrad/backend.py, "CuPy-portable kernels").

Three kinds of test:
- the kernels' CuPy code, where it is array code common to NumPy and CuPy, run on NumPy and
  compared with the NumPy call it stands in for (no GPU needed);
- the audited ops on this run's backend (the ``device`` fixture): on a GPU run
  (``MINIGRAD_BACKEND=cupy``, .ci/gpu-check's suite stage) they exercise CuPy itself;
- a scan of the library's source for NumPy names that CuPy lacks, so that a new op cannot call
  one through the array module (``xp``) and break only on a GPU.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from tests.conftest import torch

ROOT = Path(__file__).resolve().parents[1]
NAN, INF = math.nan, math.inf


# =============================================================================================
# Kernels' CuPy code on NumPy
# =============================================================================================

WINDOW_CASES = [  # (shape, window, axes, a transpose of the input first)
    ((2, 3, 10), (3,), (2,), None),
    ((2, 3, 7, 9), (2, 3), (2, 3), None),
    ((1, 2, 4, 5, 6), (2, 1, 3), (2, 3, 4), None),
    ((4, 6, 5), (5, 2), (1, 2), (0, 2, 1)),  # non-contiguous strides
    ((3, 4), (4,), (1,), None),  # one window
    ((3, 4), (0,), (1,), None),  # an empty window: 5 of them
]


@pytest.mark.parametrize(("shape", "window", "axes", "order"), WINDOW_CASES)
def test_window_layout_gives_sliding_window_views_view(shape, window, axes, order):
    """window_view's CuPy branch (as_strided with window_layout) against NumPy's own
    sliding_window_view: the same shape, strides and values."""
    x = np.arange(math.prod(shape), dtype=np.float32).reshape(shape)
    if order is not None:
        x = x.transpose(order)
    want = np.lib.stride_tricks.sliding_window_view(x, window, axis=axes)
    layout_shape, strides = backend.window_layout(x.shape, x.strides, window, axes)
    got = np.lib.stride_tricks.as_strided(x, shape=layout_shape, strides=strides, writeable=False)
    assert got.shape == want.shape and got.strides == want.strides
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(backend.window_view(x, window, axes), want)


def test_window_layout_refuses_a_window_longer_than_its_dim():
    with pytest.raises(ValueError, match="a window of 5 does not fit in a dim of 4"):
        backend.window_layout((3, 4), (16, 4), (5,), (1,))


SCAN_ROWS = [
    [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0, 9.0, 3.0, 2.0],
    [-INF, -INF, 0.0, -INF, 2.0, -1.0, INF, 1.0],
    [1.0, NAN, 2.0, 0.5],
    [-0.0, 0.0, -0.0],
    [7.0],
]


@pytest.mark.parametrize("ufunc", ["maximum", "minimum"])
@pytest.mark.parametrize("row", SCAN_ROWS)
def test_scan_by_doubling_is_accumulate_exactly_for_extremes(ufunc, row):
    x = np.array(row)
    want = getattr(np, ufunc).accumulate(x)
    got = backend.scan_by_doubling(np, ufunc, x, 0)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 8, 33, 1000])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scan_by_doubling_along_any_axis(n, axis):
    rng = np.random.default_rng(n)
    shape = [3, 4, 2]
    shape[axis] = n
    x = rng.standard_normal(shape).astype(np.float32)
    for ufunc in ("maximum", "minimum"):
        got = backend.scan_by_doubling(np, ufunc, x, axis)
        np.testing.assert_array_equal(got, getattr(np, ufunc).accumulate(x, axis=axis))
        assert got.dtype == x.dtype
    ints = rng.integers(-50, 50, size=shape)
    got = backend.scan_by_doubling(np, "maximum", ints, axis)
    np.testing.assert_array_equal(got, np.maximum.accumulate(ints, axis=axis))
    with np.errstate(invalid="ignore"):
        got = backend.scan_by_doubling(np, "logaddexp", x.astype(np.float64), axis)
        want = np.logaddexp.accumulate(x.astype(np.float64), axis=axis)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_scan_by_doubling_logaddexp_keeps_infinities_and_nans():
    x = np.array([-INF, -INF, 0.0, NAN, 1.0, INF, 2.0])
    with np.errstate(invalid="ignore"):
        want = np.logaddexp.accumulate(x)
        got = backend.scan_by_doubling(np, "logaddexp", x, 0)
    np.testing.assert_array_equal(got, want)  # -inf, -inf, 0, then NaN on


def test_accumulate_on_numpy_is_still_numpys_accumulate():
    x = np.random.default_rng(3).standard_normal((5, 40))
    for ufunc in ("maximum", "minimum", "logaddexp"):
        np.testing.assert_array_equal(
            backend.accumulate(ufunc, x, 1), getattr(np, ufunc).accumulate(x, axis=1)
        )


BINCOUNT_CASES = [  # (values, weights dtype or None, minlength)
    ([], None, 0),
    ([], None, 4),
    ([], np.float32, 3),
    ([2, 0, 2, 5], None, 0),
    ([2, 0, 2, 5], None, 9),
    ([1, 1, 3], np.float16, 0),
    ([1, 1, 3], np.float64, 6),
]


@pytest.mark.parametrize(("values", "weights_dtype", "minlength"), BINCOUNT_CASES)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_bincount_portable_is_numpys_bincount(values, weights_dtype, minlength, dtype):
    """bincount's CuPy branch, run on NumPy: NumPy's counts and sums, dtypes included (an
    empty input gives minlength zeros, where CuPy 13's bincount raises)."""
    x = np.array(values, dtype=dtype)
    weights = None
    if weights_dtype is not None:
        weights = (np.arange(len(values)) * 0.25 + 0.5).astype(weights_dtype)
    want = np.bincount(x, weights, minlength)
    got = backend.bincount_portable(np, x, weights, minlength)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(backend.bincount(x, weights, minlength), want)


def test_bincount_portable_of_bools():
    x = np.array([True, False, True])
    np.testing.assert_array_equal(backend.bincount_portable(np, x, None, 0), np.bincount(x))


SCATTER_CASES = [  # (target dtype, index, values)
    (np.int64, (np.array([0, 2, 0, 0]),), np.array([1, 2, 3, 4])),
    (np.int8, (np.array([1, 1, 3]),), np.array([5, -7, 100])),
    (np.bool_, (np.array([1, 1, 3]),), np.array([True, False, True])),
    (np.uint8, (slice(None), np.array([0, 0, 2])), np.array([[1, 2, 3]] * 4)),
    (np.int16, (np.array([3, 0, 3]), np.array([1, 1, 1])), np.array(9)),
]


@pytest.mark.parametrize(("dtype", "index", "values"), SCATTER_CASES)
def test_scatter_add_on_host_is_numpys_add_at(dtype, index, values):
    """The host path of the dtypes CuPy's add.at refuses: numpy.add.at's result, in place."""
    shape = (4, 4) if len(index) == 2 else (4,)
    want = np.arange(math.prod(shape)).reshape(shape).astype(dtype)
    target = want.copy()
    np.add.at(want, index, values.astype(dtype))
    backend.scatter_add_on_host(target, index, values.astype(dtype))
    np.testing.assert_array_equal(target, want)
    if len(index) == 1:  # an index that is an array, not a tuple
        again = np.arange(4).astype(dtype)
        backend.scatter_add_on_host(again, index[0], values.astype(dtype))
        np.testing.assert_array_equal(again, want)


def test_cupy_adds_at_names_the_dtypes_cupys_atomics_take():
    for dtype in (np.float16, np.float32, np.float64, np.int32, np.uint32, np.uint64):
        assert backend.cupy_adds_at(np.dtype(dtype))
    for dtype in (np.int8, np.int16, np.uint8, np.uint16, np.bool_):
        assert not backend.cupy_adds_at(np.dtype(dtype))


def _cupyx_stand_in() -> types.SimpleNamespace:
    """cupyx.scipy.special's erf, erfc, erfinv, gammaln, digamma and zeta as CuPy 13/14 compute
    them (their CUDA sources: cephes' edge values), on NumPy through PyTorch's: gammaln(-inf) =
    -inf, digamma(+-0) = -inf, zeta(s, q) for q > 1e8 by the asymptotic expansion."""

    def unary(fn):
        return lambda x: fn(torch.from_numpy(np.asarray(x))).numpy()

    def gammaln(x):
        return np.where(x == -INF, -INF, unary(torch.lgamma)(x))

    def digamma(x):
        return np.where(x == 0, -INF, unary(torch.special.digamma)(x))

    def zeta(s, q):
        with np.errstate(all="ignore"):
            far = (1 / (s - 1) + 1 / (2 * q)) * q ** (1 - s)
        return np.where(q > 1e8, far, torch.special.zeta(s, torch.from_numpy(q)).numpy())

    return types.SimpleNamespace(
        erf=unary(torch.special.erf),
        erfc=unary(torch.special.erfc),
        erfinv=unary(torch.special.erfinv),
        gammaln=gammaln,
        digamma=digamma,
        zeta=zeta,
    )


SPECIAL_POINTS = [0.0, -0.0, 1.0, 2.0, -1.0, -2.0, 0.5, -0.5, -2.5, 1e-9, -1e-9, 3.7, 25.0,
                  150.0, -3.3, INF, -INF, NAN]  # fmt: skip
SPECIAL_CASES = [  # (kernel name, n, the NumPy kernel, the points)
    ("erf", 0, backend.erf, SPECIAL_POINTS),
    ("erfc", 0, backend.erfc, SPECIAL_POINTS),
    ("erfinv", 0, backend.erfinv, [0.0, -0.0, 0.5, -0.9, 0.999, 1.0, -1.0, 1.5, NAN]),
    ("lgamma", 0, backend.lgamma, SPECIAL_POINTS),
    ("polygamma", 0, lambda x: backend.polygamma(0, x), SPECIAL_POINTS),
    ("polygamma", 1, lambda x: backend.polygamma(1, x), SPECIAL_POINTS),
    ("polygamma", 2, lambda x: backend.polygamma(2, x), SPECIAL_POINTS),
    ("polygamma", 3, lambda x: backend.polygamma(3, x), SPECIAL_POINTS),
]


@pytest.mark.skipif(torch is None, reason="torch stands in for cupyx.scipy.special")
@pytest.mark.parametrize(("name", "n", "numpy_kernel", "points"), SPECIAL_CASES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_special_in_float_gives_the_numpy_kernels_values(name, n, numpy_kernel, points, dtype):
    """The CuPy path of erf .. polygamma (special_in_float over cupyx's functions, here
    stand-ins with cupyx's edge values) gives what the NumPy kernels give, in x's dtype:
    PyTorch's values at -inf, -0 and the poles, and float16 rounded from float32."""
    x = np.array(points, dtype=dtype)
    with np.errstate(all="ignore"):
        want = numpy_kernel(x)
        got = backend.special_in_float(np, _cupyx_stand_in(), name, x, n)
    assert got.dtype == x.dtype
    both_inf = np.isinf(want) & np.isinf(got)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{x} {got} {want}")
    np.testing.assert_array_equal(got[both_inf], want[both_inf])
    rtol = {np.float16: 2e-3, np.float32: 2e-5, np.float64: 1e-9}[dtype]
    atol = _erf_error(dtype) if name == "erf" else 1e-300
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


def _erf_error(dtype: type) -> float:
    """The NumPy erf kernel's error, absolute (its Chebyshev table in x's dtype): erf(0) is
    3.3e-5 in float16, 6.5e-10 in float32, where cupyx's (and PyTorch's) is 0."""
    return {np.float16: 1e-4, np.float32: 1e-9, np.float64: 1e-15}[dtype]


# =============================================================================================
# The audited ops on this run's backend (CuPy on a GPU run)
# =============================================================================================


def _host(t: mg.Tensor) -> np.ndarray:
    return backend.to_host(t.array)


def test_bincount_and_histc_of_nothing(device):
    empty = mg.tensor(np.zeros(0, dtype=np.int64), device=device)
    counts = mg.bincount(empty, minlength=3)
    assert counts.dtype == mg.int64 and _host(counts).tolist() == [0, 0, 0]
    sums = mg.bincount(empty, mg.tensor(np.zeros(0, np.float32), device=device), minlength=2)
    assert sums.dtype == mg.float32 and _host(sums).tolist() == [0.0, 0.0]
    half = mg.tensor(np.array([0.5, 0.25], np.float16), device=device)
    sums = mg.bincount(mg.tensor(np.array([1, 1]), device=device), half)
    assert sums.dtype == mg.float64 and _host(sums).tolist() == [0.0, 0.75]
    outside = mg.histc(mg.tensor(np.array([5.0, 6.0], np.float32), device=device), 4, 0, 1)
    assert outside.dtype == mg.float32 and _host(outside).tolist() == [0.0] * 4


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_special_functions_keep_the_dtype_and_the_edges(device, dtype):
    x = np.array([-INF, -0.0, 0.0, -2.5, 0.5, 1.0, 3.5, INF], dtype=dtype)
    t = mg.tensor(x, device=device)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        cases = {
            "erfc": (mg.erfc(t), backend.erfc(x64)),
            "lgamma": (mg.lgamma(t), backend.lgamma(x64)),
            "digamma": (mg.digamma(t), backend.polygamma(0, x64)),
            "polygamma1": (mg.polygamma(1, t), backend.polygamma(1, x64)),
            "polygamma2": (mg.polygamma(2, t), backend.polygamma(2, x64)),
            "erf": (mg.erf(t), backend.erf(x64)),
        }
    rtol = 2e-3 if dtype == np.float16 else 2e-5
    for name, (got, want) in cases.items():
        assert got.dtype == t.dtype, (name, got.dtype)
        np.testing.assert_allclose(
            _host(got).astype(np.float64),
            want.astype(dtype).astype(np.float64),
            rtol=rtol,
            atol=_erf_error(dtype) if name == "erf" else 0,
            equal_nan=True,
            err_msg=name,
        )
    y = mg.tensor(np.array([-1.0, -0.5, 0.0, 0.99, 1.0, 1.5], dtype=dtype), device=device)
    assert mg.erfinv(y).dtype == y.dtype
    np.testing.assert_allclose(
        _host(mg.erfinv(y)).astype(np.float64),
        backend.erfinv(backend.to_host(y.array).astype(np.float64)).astype(dtype),
        rtol=rtol,
        equal_nan=True,
    )


def test_scans_along_a_long_dim(device):
    """cummax, cummin and logcumsumexp along 1000 positions (CuPy: by doubling)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 1000))
    x[1, 400] = NAN
    t = mg.tensor(x, device=device)
    for op, ufunc in ((mg.cummax, np.maximum), (mg.cummin, np.minimum)):
        values, indices = op(t, 1)
        np.testing.assert_array_equal(_host(values), ufunc.accumulate(x, axis=1))
        picked = np.take_along_axis(x, _host(indices), axis=1)
        np.testing.assert_array_equal(picked, ufunc.accumulate(x, axis=1))
    with np.errstate(invalid="ignore"):
        want = np.logaddexp.accumulate(x, axis=1)
    np.testing.assert_allclose(_host(mg.logcumsumexp(t, 1)), want, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, np.int16])
def test_integer_scatter_add_and_index_put_accumulate(device, dtype):
    """Scatter-adds into integer tensors (CuPy 13's atomics refuse int64, every CuPy int8,
    int16 and uint8: they go through the host there)."""
    index = np.array([0, 2, 0, 0, 3])
    src = np.array([1, 2, 3, 4, 5], dtype=dtype)
    x = mg.tensor(np.zeros(4, dtype=dtype), device=device)
    got = x.scatter_add(0, mg.tensor(index, device=device), mg.tensor(src, device=device))
    want = np.zeros(4, dtype=dtype)
    np.add.at(want, index, src)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(_host(got), want)
    put = mg.index_put(x, (mg.tensor(index, device=device),), mg.tensor(src, device=device), True)
    np.testing.assert_array_equal(_host(put), want)


def test_pooling_and_convolution_windows(device):
    """max_pool2d (with indices), avg_pool2d and conv2d go through window_view."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    t = mg.tensor(x, device=device, requires_grad=True)
    pooled, indices = mg.max_pool2d(t, 3, stride=2, padding=1, return_indices=True)
    averaged = mg.ops.avg_pool2d(t, (2, 3), stride=1)
    convolved = mg.conv2d(t, mg.tensor(w, device=device), stride=(2, 1), dilation=(1, 2))
    (pooled.sum() + averaged.sum() + convolved.sum()).backward()
    if torch is None:
        return
    tx = torch.tensor(x, requires_grad=True)
    twant, tindex = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
    tavg = torch.nn.functional.avg_pool2d(tx, (2, 3), 1)
    tconv = torch.nn.functional.conv2d(tx, torch.tensor(w), stride=(2, 1), dilation=(1, 2))
    (twant.sum() + tavg.sum() + tconv.sum()).backward()
    np.testing.assert_allclose(_host(pooled), twant.detach().numpy())
    np.testing.assert_array_equal(_host(indices), tindex.numpy())
    np.testing.assert_allclose(_host(averaged), tavg.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_host(convolved), tconv.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_host(t.grad), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


# =============================================================================================
# NumPy names CuPy lacks, kept out of the library's array-module calls
# =============================================================================================
# Read from CuPy's source at v13.6.0 and v14.2.0 (cupy/__init__.py, cupy/linalg/__init__.py,
# cupy/_core/_kernel.pyx): NumPy 2 names that at least one of them does not define. An op that
# needs one calls a kernel in minigrad/backend.py instead, with a CuPy branch of its own.
MISSING_IN_CUPY = frozenset(
    """
    acos acosh asin asinh atan atan2 atanh astype pow concat permute_dims matrix_transpose
    bitwise_count bitwise_invert bitwise_left_shift bitwise_right_shift isdtype
    cumulative_prod cumulative_sum put_along_axis trapezoid unstack vecdot vecmat matvec
    unique_all unique_counts unique_inverse unique_values apply_over_axes block einsum_path
    errstate geterr seterr geterrcall seterrcall getbufsize setbufsize frompyfunc fromregex
    geomspace histogram_bin_edges insert isnat nanpercentile nanquantile nditer nested_iters
    ndenumerate polyder polydiv polyint spacing memmap matrix asmatrix bmat char emath ma rec
    strings ctypeslib busday_count busday_offset is_busday datetime_as_string datetime_data
""".split()
)
MISSING_IN_CUPY_LINALG = frozenset(
    """
    cond eig eigvals matrix_norm multi_dot svdvals vector_norm diagonal trace matrix_transpose
    vecdot tensordot cross matmul outer
""".split()
)
# ufunc methods: CuPy's ufuncs define them all, but these raise NotImplementedError beyond
# the ufuncs named (at: the scatter ops; see backend.scatter_reduce_at for maximum/minimum)
UFUNC_METHODS_IN_CUPY = {
    "accumulate": {"add", "multiply"},
    "reduce": {"add", "multiply"},
    "reduceat": {"add"},
    "at": {"add"},
}
SORT_KINDS_IN_CUPY = {None, "stable"}  # cupy.sort and cupy.argsort refuse any other kind
XP_CALLS = ("array_module", "module_for_device")  # calls that give NumPy or CuPy


def _is_xp(node: ast.AST) -> bool:
    """Whether ``node`` is an array module that may be CuPy: a name ``xp`` (the library's
    convention) or a call of ``backend.array_module`` / ``module_for_device``."""
    if isinstance(node, ast.Name):
        return node.id == "xp"
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in XP_CALLS
    return False


def _chain(node: ast.Attribute) -> list[str] | None:
    """``xp.a.b.c`` as ["a", "b", "c"]; None unless it starts at an array module."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return names[::-1] if _is_xp(node) else None


def cupy_findings(source: str, filename: str = "<source>") -> list[str]:
    """The array-module calls in ``source`` that CuPy cannot make: "file:line: what"."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Attribute):
            names = _chain(node)
            if names and names[0] in MISSING_IN_CUPY:
                found.append(f"{where}: xp.{names[0]} is not in CuPy")
        if isinstance(node, ast.Attribute) and (names := _chain(node)):
            if names[0] == "linalg" and len(names) > 1 and names[1] in MISSING_IN_CUPY_LINALG:
                found.append(f"{where}: xp.linalg.{names[1]} is not in CuPy")
            if len(names) == 2 and names[1] in UFUNC_METHODS_IN_CUPY:
                if names[0] not in UFUNC_METHODS_IN_CUPY[names[1]]:
                    found.append(f"{where}: CuPy's {names[0]}.{names[1]} raises")
        if isinstance(node, ast.Call):
            found += _call_findings(node, where)
    return found


def _call_findings(node: ast.Call, where: str) -> list[str]:
    func = node.func
    found = []
    if (  # getattr(xp, "name")
        isinstance(func, ast.Name)
        and func.id == "getattr"
        and len(node.args) >= 2
        and _is_xp(node.args[0])
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in MISSING_IN_CUPY
    ):
        found.append(f"{where}: xp.{node.args[1].value} is not in CuPy")
    if isinstance(func, ast.Attribute) and func.attr in ("sort", "argsort"):
        for keyword in node.keywords:
            if keyword.arg == "kind" and isinstance(keyword.value, ast.Constant):
                if keyword.value.value not in SORT_KINDS_IN_CUPY:
                    found.append(f"{where}: CuPy sorts with kind=None or 'stable' only")
    return found


def test_the_scan_finds_what_cupy_lacks():
    """The scan itself can fail: each kind of call it looks for, in a snippet."""
    snippet = """
xp = backend.array_module(x)
xp.frompyfunc(f, 1, 1)
backend.array_module(x).put_along_axis(x, i, v, 0)
xp.linalg.eigvals(m)
xp.maximum.accumulate(x)
xp.add.accumulate(x)
xp.minimum.at(x, i, v)
getattr(xp, "errstate")
xp.sort(x, kind="quicksort")
x.argsort(kind="stable")
numpy.frompyfunc(f, 1, 1)
"""
    found = cupy_findings(snippet)
    assert len(found) == 7, found
    text = "\n".join(found)
    for what in ("xp.frompyfunc", "xp.put_along_axis", "xp.linalg.eigvals", "maximum.accumulate",
                 "minimum.at", "xp.errstate", "kind=None"):  # fmt: skip
        assert what in text, (what, text)
    assert "add.accumulate" not in text and "numpy" not in text


def test_the_library_calls_nothing_cupy_lacks():
    files = sorted(
        path
        for package in ("minigrad", "nn", "transformer")
        for path in (ROOT / package).rglob("*.py")
    )
    assert len(files) > 40
    found = []
    for path in files:
        found += cupy_findings(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


def test_the_gpu_checks_audit_cases_run_on_numpy(monkeypatch):
    """.ci/gpu_features.py's cupy-audit, dry run with the CPU standing in for the GPU: every
    case it holds still runs (an op renamed or changed would fail here, not on a lent GPU)."""
    spec = importlib.util.spec_from_file_location("gpu_features", ROOT / ".ci/gpu_features.py")
    features = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(features)
    monkeypatch.setattr(features, "_AUDIT_DEVICE", "cpu")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's, at the edge values
        message = features.CHECKS["cupy-audit"]()
    assert message == (
        f"{len(features._audit_cases())} cases of session 11's ops on CuPy match the NumPy backend"
    )
    monkeypatch.setattr(features, "_AUDIT_DEADLINE_S", -1.0)  # out of time before the first
    assert features.CHECKS["cupy-audit"]().startswith("0 cases"), "a case started after it"


UNIQUE_CASES = [  # (rows, dtype, axis)
    ([[1, 2], [0, 5], [1, 2], [0, 4], [1, 2]], np.int64, 0),
    ([[1, 2], [0, 5], [1, 2], [0, 4], [1, 2]], np.int64, 1),
    ([[100, 3], [-100, 3], [100, 3], [-128, 127]], np.int8, 0),  # CuPy's would wrap 100 - -100
    ([[True, False], [False, False], [True, False]], np.bool_, 0),  # CuPy's would raise
    ([[0.5, -2.0], [0.5, -3.0], [-1.0, 7.0], [0.5, -2.0]], np.float32, 0),
    ([[1.0, 2.0], [np.inf, -np.inf], [1.0, 2.0]], np.float64, 0),
    ([3, 1, 3, 2, 1], np.uint8, 0),
    (np.zeros((0, 3)), np.float64, 0),
]


@pytest.mark.parametrize(("rows", "dtype", "axis"), UNIQUE_CASES)
def test_unique_along_portable_is_numpys_unique_with_an_axis(rows, dtype, axis):
    x = np.array(rows, dtype=dtype)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=axis)
    for got in (backend.unique_along_portable(np, x, axis), backend.unique_along(x, axis)):
        np.testing.assert_array_equal(got[0], values)
        assert got[0].dtype == x.dtype
        np.testing.assert_array_equal(got[1], inverse.reshape(-1))
        np.testing.assert_array_equal(got[2], counts)
        assert got[1].dtype == got[2].dtype == np.int64


def test_unique_along_portable_of_a_3d_tensor_and_nans():
    rng = np.random.default_rng(4)
    x = rng.integers(0, 2, (3, 6, 2)).astype(np.float64)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=1)
    got = backend.unique_along_portable(np, x, 1)
    np.testing.assert_array_equal(got[0], values)
    np.testing.assert_array_equal(got[1], inverse.reshape(-1))
    np.testing.assert_array_equal(got[2], counts)
    nans = np.array([[np.nan, 1.0], [0.0, 1.0], [np.nan, 1.0]])
    values, inverse, counts = backend.unique_along_portable(np, nans, 0)
    assert values.shape == (3, 2) and counts.tolist() == [1, 1, 1]  # each NaN row its own
    np.testing.assert_array_equal(values[inverse], nans)


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.float32])
def test_unique_with_dim_on_this_backend(device, dtype):
    x = np.array([[1, 0], [0, 1], [1, 0], [1, 1]]).astype(dtype)
    if dtype == np.int8:
        x = x * np.int8(100) - np.int8(50)  # -50 and 50: their difference wraps in int8
    values, inverse, counts = mg.unique(
        mg.tensor(x, device=device), dim=0, return_inverse=True, return_counts=True
    )
    want = np.unique(x, return_inverse=True, return_counts=True, axis=0)
    np.testing.assert_array_equal(_host(values), want[0])
    np.testing.assert_array_equal(_host(inverse), want[1].reshape(-1))
    np.testing.assert_array_equal(_host(counts), want[2])


@pytest.mark.parametrize(
    "counts", [[], [0], [3], [2, 0, 1, 4], [0, 0, 2, 0], [1] * 7, [5, 0, 0, 0, 1]]
)
def test_repeat_positions_portable_is_numpys_repeat(counts):
    counts = np.array(counts, dtype=np.int64)
    want = np.repeat(np.arange(len(counts)), counts)
    for got in (backend.repeat_positions_portable(np, counts), backend.repeat_positions(counts)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.int64
