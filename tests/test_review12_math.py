"""Review of reductions, statistics and elementwise math (session 12, r13): regressions for the
wrong results found by sweeping them against PyTorch (values, result dtypes and gradients over
dims, keepdim, dtypes, empty and 0-d inputs, inf and NaN). Each test fails on the code before
its fix."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1213)
INF, NAN = math.inf, math.nan


def _same(ours: Any, theirs: Any, rtol: float = 1e-12, atol: float = 0.0) -> None:
    """Values (NaN where PyTorch's is NaN), dtype and shape as PyTorch's."""
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True
    )


def _grads(fn: Any, arrays: list[np.ndarray], seed: np.ndarray | None = None) -> tuple:
    """The gradients of sum(seed * fn(*inputs)) with respect to every input, minigrad's and
    PyTorch's."""
    out = []
    for lib in (mg, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *xs)
        w = np.ones(tuple(y.shape)) if seed is None else seed
        with warnings.catch_warnings():  # minigrad's sum warns at inf - inf (on purpose)
            warnings.simplefilter("ignore")
            (y * lib.tensor(w, dtype=y.dtype)).sum().backward()
        out.append([x.grad for x in xs])
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# quantile / nanquantile: "lower", "higher" and "nearest" take one order statistic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["lower", "higher", "nearest"])
def test_quantile_without_interpolation_keeps_an_infinite_order_statistic(
    name: str, interpolation: str
) -> None:
    """They interpolated with weight 0 or 1 (lo + 0 * (hi - lo)), so an inf among the two order
    statistics gave NaN (inf - inf); PyTorch takes the one value: inf, or the finite one."""
    x = np.array([[1.0, 2.0, 4.0, INF], [-INF, 0.5, 3.0, 1.0], [2.0, NAN, INF, -1.0]])
    for q in (0.25, 0.5, 0.75, 1.0, [0.0, 0.6, 0.9]):
        for dim in (None, 1, -1, 0):
            mq, tq = (
                (lib.tensor(q, dtype=lib.float64) if isinstance(q, list) else q)
                for lib in (mg, torch)
            )
            ours = getattr(mg, name)(mg.tensor(x), mq, dim=dim, interpolation=interpolation)
            theirs = getattr(torch, name)(torch.tensor(x), tq, dim=dim, interpolation=interpolation)
            _same(ours, theirs)


def test_quantile_without_interpolation_sends_the_gradient_to_the_value_taken() -> None:
    x = RNG.standard_normal((3, 5))
    for interpolation in ("lower", "higher", "nearest", "linear", "midpoint"):
        ours, theirs = _grads(
            lambda lib, t, i=interpolation: lib.quantile(t, 0.3, dim=1, interpolation=i), [x]
        )
        np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# the p = 0 norm counts NaN as nonzero
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_zero_norm_counts_nan_as_nonzero(dtype: str) -> None:
    """sign(NaN) is 0 (PyTorch's sign too), so the count left NaN out; PyTorch's p = 0 norm
    counts x != 0, which NaN is. Its gradient stays 0."""
    x = np.array([[NAN, 0.0, 1.0, -INF], [0.0, -0.0, NAN, NAN]], dtype=dtype)
    for dim in (None, 1, 0, (0, 1)):
        _same(mg.norm(mg.tensor(x), p=0, dim=dim), torch.norm(torch.tensor(x), p=0, dim=dim))
        _same(
            mg.linalg.vector_norm(mg.tensor(x), 0, dim=dim),
            torch.linalg.vector_norm(torch.tensor(x), 0, dim=dim),
        )
    t = mg.tensor(x.astype("float64"), requires_grad=True)
    mg.linalg.vector_norm(t, 0).backward()
    assert (t.grad.numpy() == 0).all()


# ---------------------------------------------------------------------------------------------
# remainder: the divisor's gradient is -(a // b), the forward's own quotient
# ---------------------------------------------------------------------------------------------


def test_remainder_divisor_gradient_is_minus_the_floor_quotient() -> None:
    """It was -floor(a / b): 3 / 0.001 rounds to 3000.0, but 3 % 0.001 is 0.001 because
    3 // 0.001 is 2999 (PyTorch's gradient, -2999); and -floor(5 / -inf) = 0 where 5 // -inf
    is -1 (PyTorch's gradient 1)."""
    a = np.array([3.0, 5.0, 5.0, -7.0, 2.5, 7.0, 1.0, INF, -4.0])
    b = np.array([0.001, -INF, INF, INF, -INF, 0.1, 0.1, 2.0, 3.0])
    ours, theirs = _grads(lambda lib, x, y: lib.remainder(x, y), [a, b])
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    # the graph version (create_graph) takes the same quotient
    ma, mb = mg.tensor(a), mg.tensor(b, requires_grad=True)
    with warnings.catch_warnings():  # the sum of inf and -inf (minigrad's sum warns)
        warnings.simplefilter("ignore")
        (g,) = mg.grad(mg.remainder(ma, mb).sum(), [mb], create_graph=True)
    np.testing.assert_array_equal(g.numpy(), theirs[1].numpy())


# ---------------------------------------------------------------------------------------------
# cumprod's gradient with inf / NaN
# ---------------------------------------------------------------------------------------------


def test_cumprod_along_a_dim_of_one_passes_the_gradient_through() -> None:
    """out = x along a dim of size 1, so dx = g; it was g * out / x: NaN at an inf or a NaN."""
    x = np.array([[INF], [NAN], [-INF], [0.0], [2.0]])
    seed = RNG.standard_normal(x.shape)
    ours, theirs = _grads(lambda lib, t: lib.cumprod(t, 1), [x], seed)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[0].numpy(), seed)


@pytest.mark.parametrize(
    "row",
    [
        [-0.5, -0.0, 0.0, INF],  # a second zero, then inf
        [2.0, 0.5, 0.0, 3.0, INF],  # inf after the first zero
        [INF, -3.0, 0.5, 0.0, 1.0],  # inf before the first zero
        [1.5, NAN, 0.0, 2.0],
        [2.0, 0.0, 3.0, 0.0, 5.0],
    ],
)
def test_cumprod_gradient_with_zeros_and_infinities_as_pytorch(row: list) -> None:
    """Before the first zero the gradient summed g_j out_j over the whole row, out_j being
    0 * inf = NaN after the zero; at the zero it summed the products past the next zero
    (NaN there) and multiplied out the prefix term by term. PyTorch leaves out the terms after
    the zero and factors the prefix out."""
    x = np.array([row, row[::-1]])
    seed = RNG.standard_normal(x.shape)
    ours, theirs = _grads(lambda lib, t: lib.cumprod(t, 1), [x], seed)
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    ("x", "dim"),
    [
        ([-0.0, -1.0, 2.0, 1.0, INF], 0),  # one zero and an inf: the others' products are NaN
        ([1.0, 0.0, -INF, -INF, -INF], None),
        ([[NAN, 0.0, 0.0, 2.0], [3.0, 0.0, 1.0, 2.0]], 1),  # two zeros and a NaN in a row
        ([[INF, 2.0], [0.0, 1.0]], 1),  # a zero elsewhere: inf's gradient is the other factor
        ([[0.0, 0.0, NAN], [1.0, 2.0, 3.0]], None),  # two zeros in a full product: 0
    ],
)
def test_prod_gradient_with_zeros_and_infinities_as_pytorch(x: list, dim: int | None) -> None:
    """prod's gradient at a zero among infinities or NaNs: where the product of the other
    factors holds 0 * inf it was 0 (the zero's slice) or g * inf / inf = NaN (a slice without a
    zero); PyTorch takes the product of the factors before times those after: NaN and 2 there."""
    a = np.array(x)
    ours, theirs = _grads(lambda lib, t: lib.prod(t) if dim is None else lib.prod(t, dim), [a])
    np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-12, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# gcd / lcm: PyTorch's result type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_and_lcm_promote_as_pytorch(name: str) -> None:
    """They returned NumPy's promotion: a 0-d int64 with an int8 tensor gave int64 (PyTorch:
    int8, a 0-d tensor does not widen a dimensioned one of its kind); a bool operand was
    refused (PyTorch reads it as an integer)."""
    cases = [
        (np.array(6, dtype=np.int64), np.array([4, -6, 9], dtype=np.int8)),
        (np.array([4, 6, 9], dtype=np.int32), np.array(-6, dtype=np.int64)),
        (np.array(4, dtype=np.uint8), np.array([2, 6, 3], dtype=np.int8)),
        (np.array([4, 6, 9], dtype=np.uint8), np.array([-2, 6, 3], dtype=np.int8)),
        (np.array([4, 6, 0]), np.array([True, False, True])),
    ]
    for a, b in cases:
        ours = getattr(mg, name)(mg.tensor(a), mg.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        _same(ours, theirs)
    with pytest.raises(TypeError, match="bool"):  # two bools: PyTorch refuses them too
        getattr(mg, name)(mg.tensor([True]), mg.tensor([False]))


# ---------------------------------------------------------------------------------------------
# dtype= on prod, cumsum, cumprod, nansum, nanmean
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["prod", "cumsum", "cumprod", "nansum"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int16", "int8"])
def test_reductions_take_a_dtype_as_pytorch(name: str, dtype: str) -> None:
    """``dtype=`` was refused (TypeError); PyTorch casts the input first and answers in it
    (integer results wrap in that dtype)."""
    cases = [np.array([[100, 3, -7], [5, 100, 2]], dtype=np.int8), RNG.standard_normal((2, 3))]
    for x in cases:
        for dims in ((1,), (0,), ()) if name in ("prod", "nansum") else ((1,), (0,)):
            ours = getattr(mg, name)(mg.tensor(x), *dims, dtype=getattr(mg, dtype))
            theirs = getattr(torch, name)(torch.tensor(x), *dims, dtype=getattr(torch, dtype))
            _same(ours, theirs, rtol=1e-6)
            method = getattr(mg.tensor(x), name)(*dims, dtype=getattr(mg, dtype))
            _same(method, theirs, rtol=1e-6)


def test_reduction_dtypes_differentiate_and_refuse_as_pytorch() -> None:
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    for name, dims in (("prod", (1,)), ("cumsum", (1,)), ("cumprod", (0,)), ("nansum", (1,))):
        ours, theirs = _grads(
            lambda lib, t, n=name, d=dims: getattr(lib, n)(t, *d, dtype=lib.float64), [x]
        )
        assert ours[0].dtype == mg.float32
        np.testing.assert_allclose(ours[0].numpy(), theirs[0].numpy(), rtol=1e-6)
        with pytest.raises(TypeError, match=f"{name}: dtype=int64 cannot carry a gradient"):
            getattr(mg, name)(mg.tensor(x, requires_grad=True), *dims, dtype=mg.int64)
    y = np.array([[1.0, NAN, 3.0]])
    _same(
        mg.nanmean(mg.tensor(y, dtype=mg.float32), 1, dtype=mg.float64),
        torch.nanmean(torch.tensor(y, dtype=torch.float32), 1, dtype=torch.float64),
    )
    with pytest.raises(TypeError, match="nanmean"):
        mg.nanmean(mg.tensor(y), dtype=mg.int64)


# ---------------------------------------------------------------------------------------------
# small ones: median of bools, uint8 shifts, lerp, quiet forwards
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_bools_is_refused_as_pytorch(name: str) -> None:
    """It answered (a bool); PyTorch: '"median_cpu" not implemented for 'Bool''."""
    for args in ((), (0,)):
        with pytest.raises(NotImplementedError, match="bool"):
            getattr(mg, name)(mg.tensor([True, False, True]), *args)


def test_unsigned_shift_by_a_negative_python_int_gives_zero() -> None:
    """uint8 << -2 raised NumPy's bare 'Python integer -1 out of bounds for uint8'; PyTorch
    shifts every bit out (0), as minigrad does for signed dtypes."""
    x = np.array([7, 3, 255], dtype=np.uint8)
    for count in (-1, -2, -300):
        _same(mg.tensor(x) << count, torch.tensor(x) << count)
        _same(mg.tensor(x) >> count, torch.tensor(x) >> count)


def test_lerp_interpolates_from_the_nearer_end_as_pytorch() -> None:
    """lerp computed start + w (end - start) for every weight: at w = 1 that is end only up to
    rounding (float32 values near 1e3 and 1e-3 missed by 1e-4); PyTorch takes
    end - (1 - w) (end - start) where |w| >= 0.5: exactly end at 1, nearer for w near 1."""
    start = (RNG.standard_normal(1000) * 1e3).astype(np.float32)
    end = (RNG.standard_normal(1000) * 1e-3).astype(np.float32)
    np.testing.assert_array_equal(mg.lerp(mg.tensor(start), mg.tensor(end), 1.0).numpy(), end)
    for w in (0.999, 0.7, -0.6, 0.3, RNG.random(1000).astype(np.float32) * 2 - 0.5):
        mw, tw = (lib.tensor(w) if isinstance(w, np.ndarray) else w for lib in (mg, torch))
        ours = mg.lerp(mg.tensor(start), mg.tensor(end), mw).numpy()
        theirs = torch.lerp(torch.tensor(start), torch.tensor(end), tw).numpy()
        # within float32 rounding of |start| ~ 1e3 (PyTorch rounds a number weight to float32
        # and uses fma); the result at w = 1 above is the exact one
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-3)
    a, b, w = RNG.standard_normal(6), RNG.standard_normal(6), RNG.random(6) * 2 - 0.5
    ours, theirs = _grads(lambda lib, x, y, z: lib.lerp(x, y, z), [a, b, w])
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)


def test_forwards_at_infinities_are_quiet_as_pytorch() -> None:
    """sinc(inf), logaddexp(inf, -inf) and logaddexp2, lerp and ldexp at infinities leaked
    NumPy's 'invalid value' RuntimeWarning; PyTorch answers NaN silently."""
    v = mg.tensor([INF, -INF, 1.0, NAN])
    w = mg.tensor([-INF, INF, 2.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.sinc(v)
        mg.logaddexp(v, w)
        mg.logaddexp2(v, w)
        mg.lerp(v, w, 0.3)
        mg.lerp(v, w, 0.7)
        mg.ldexp(mg.tensor([INF, 0.0]), mg.tensor([-2000, 2000]))
