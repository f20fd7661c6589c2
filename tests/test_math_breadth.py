"""PyTorch breadth (minigrad/ops/mathops.py, minigrad/ops/statistics.py): what the op registry
does not cover. The differentiable ops are gradchecked and compared with PyTorch in
tests/op_cases.py; here: the ops without a gradient against PyTorch, edge values (0, ±inf,
NaN, values outside a function's domain), integer and bool inputs (PyTorch's promotion), the
index conventions of the scans and medians, the accuracy of erfc and erfinv, the Tensor methods
and in-place forms, and bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

NAN, INF = math.nan, math.inf
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e-12, -1e-300, 1e10, INF, -INF, NAN]
INTS = [-3, -1, 0, 1, 2, 5]


def both(values, dtype=None):
    """The same values as a minigrad tensor and a PyTorch tensor."""
    array = np.array(values, dtype=dtype)
    return mg.tensor(array), torch.tensor(array)


def same(ours, theirs, rtol=1e-7, atol=1e-12):
    """Values, shape and dtype as PyTorch's (NaN where PyTorch has NaN)."""
    expected = theirs.detach().numpy()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(expected.shape)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol, equal_nan=True)


# =============================================================================================
# Unary: edge values, integer inputs
# =============================================================================================

UNARY = (
    "log1p expm1 log10 tan sinh cosh asin acos atan asinh acosh atanh reciprocal square sgn "
    "erfc erfinv logit sinc deg2rad rad2deg nan_to_num signbit isposinf isneginf lgamma digamma"
).split()
# PyTorch's aliases that are the very same function here: checked once, as that function
ALIASES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_an_alias_is_its_function_and_matches_torch_at_the_edges(alias):
    assert getattr(mg, alias) is getattr(mg, ALIASES[alias])
    (ours, theirs), (other, tother) = both(EDGES), both(EDGES[::-1])
    args, targs = ((ours, other), (theirs, tother)) if alias == "arctan2" else ((ours,), (theirs,))
    with np.errstate(all="ignore"):
        same(getattr(mg, alias)(*args), getattr(torch, alias)(*targs), rtol=1e-6)


@pytest.mark.parametrize("name", UNARY)
def test_unary_edge_values_match_torch(name):
    ours, theirs = both(EDGES)
    with np.errstate(all="ignore"):
        same(getattr(mg, name)(ours), getattr(torch, name)(theirs), rtol=1e-6)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_unary_integer_and_bool_inputs_promote_as_torch(name, dtype):
    values = [v != 0 for v in INTS] if dtype == "bool" else INTS
    ours, theirs = both(values, dtype)
    with np.errstate(all="ignore"):
        same(getattr(mg, name)(ours), getattr(torch, name)(theirs), rtol=1e-6)


@pytest.mark.parametrize("name", UNARY + ["frac"])
def test_unary_float32_and_0d_and_empty(name):
    for shape in [(), (0,), (2, 0, 3)]:
        x = np.random.default_rng(0).uniform(0.1, 0.9, shape).astype(np.float32)
        same(getattr(mg, name)(mg.tensor(x)), getattr(torch, name)(torch.tensor(x)), rtol=1e-5)


def test_frac_refuses_integers_as_torch():
    with pytest.raises(mg.DTypeError, match=r"frac expects a floating point tensor, got int64"):
        mg.frac(mg.tensor([1, 2]))
    ours, theirs = both([2.75, -2.75, 0.0, INF, -INF, NAN])
    with np.errstate(all="ignore"):
        same(mg.frac(ours), torch.frac(theirs))


def test_log1p_expm1_keep_precision_where_log_and_exp_lose_it():
    x = mg.tensor([1e-18, -1e-17], dtype=mg.float64)
    assert mg.log1p(x).tolist() == pytest.approx([1e-18, -1e-17], rel=1e-15)
    assert mg.expm1(x).tolist() == pytest.approx([1e-18, -1e-17], rel=1e-15)


def test_erfc_is_accurate_in_its_tail():
    x = np.concatenate([np.linspace(-6, 27, 3301), [0.0, -0.0, 1e-300]])
    got = mg.erfc(mg.tensor(x)).numpy()
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    assert mg.erfc(mg.tensor([INF, -INF, NAN])).tolist()[:2] == [0.0, 2.0]
    assert math.isnan(mg.erfc(mg.tensor([NAN])).item())


def test_erfinv_inverts_erf_to_about_ten_ulp_up_to_the_ends():
    y = np.concatenate(
        [np.linspace(-0.999999, 0.999999, 4001), [1 - 2**-53, -1 + 2**-52, 1e-300, 1e-20]]
    )
    got = mg.erfinv(mg.tensor(y)).numpy()
    expected = torch.erfinv(torch.tensor(y)).numpy()
    np.testing.assert_allclose(got, expected, rtol=5e-15, atol=0)
    # and erf of it gives y back (math.erf: the C library's, independent of both)
    back = np.array([math.erf(v) for v in got])
    np.testing.assert_allclose(back, y, rtol=3e-15, atol=1e-300)
    edges = mg.erfinv(mg.tensor([1.0, -1.0, 1.5, -2.0, NAN])).tolist()
    assert edges[:2] == [INF, -INF] and all(math.isnan(v) for v in edges[2:])


def test_erfinv_gradient_is_infinite_at_the_ends():
    x = mg.tensor([1.0, 0.0], dtype=mg.float64, requires_grad=True)
    mg.erfinv(x).sum().backward()
    assert x.grad.tolist() == [INF, pytest.approx(math.sqrt(math.pi) / 2)]


def test_lgamma_digamma_polygamma_against_torch_over_a_wide_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-40, 40, 4000), np.geomspace(1e-8, 1e12, 200)])
    x = x[np.abs(x - np.round(x)) > 1e-3]  # away from the poles
    ours, theirs = both(x)
    same(mg.lgamma(ours), torch.lgamma(theirs), rtol=1e-12, atol=1e-13)
    same(mg.digamma(ours), torch.digamma(theirs), rtol=1e-11, atol=1e-13)
    # PyTorch's own trigamma is off by up to 5e-10 relative (ours by 1e-15, against mpmath)
    same(mg.polygamma(1, ours), torch.polygamma(1, theirs), rtol=1e-9)
    same(mg.polygamma(3, ours), torch.polygamma(3, theirs), rtol=1e-11)


def test_lgamma_digamma_edges_and_integers():
    ours, theirs = both([0.0, -1.0, -2.0, 1.0, 2.0, INF, NAN])
    with np.errstate(all="ignore"):
        same(mg.lgamma(ours), torch.lgamma(theirs), atol=1e-14)
    (i, ti) = both([1, 2, 5])
    same(mg.lgamma(i), torch.lgamma(ti), rtol=1e-6)
    same(mg.digamma(i), torch.digamma(ti), rtol=1e-6)
    same(i.polygamma(1), ti.polygamma(1), rtol=1e-6)
    assert mg.digamma(mg.tensor([INF])).tolist() == [INF]
    with pytest.raises(ValueError, match="polygamma: n must be a non-negative int, got -1"):
        mg.polygamma(-1, ours)


def test_sinc_at_zero_is_one_with_gradient_zero():
    x = mg.tensor([0.0, 1.0, -2.5], dtype=mg.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0, -2.5], dtype=torch.float64, requires_grad=True)
    mg.sinc(x).sum().backward()
    torch.sinc(t).sum().backward()
    assert mg.sinc(x).tolist()[0] == 1.0
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-15)


def test_logit_eps_and_domain():
    ours, theirs = both([0.0, 1.0, 0.5, -0.1, 1.1, 1e-8])
    with np.errstate(all="ignore"):
        same(mg.logit(ours), torch.logit(theirs))
        same(mg.logit(ours, 1e-6), torch.logit(theirs, 1e-6))
    with pytest.raises(TypeError, match="logit: eps must be a float or None, got str"):
        mg.logit(ours, "0.1")


def test_nan_to_num_defaults_and_integers():
    for dtype in ["float64", "float32", "float16"]:
        ours, theirs = both([NAN, INF, -INF, 1.5], dtype)
        same(mg.nan_to_num(ours), torch.nan_to_num(theirs))
        same(ours.nan_to_num(posinf=7.0), theirs.nan_to_num(posinf=7.0))
    ours, theirs = both([1, -2])
    out = mg.nan_to_num(ours)
    same(out, torch.nan_to_num(theirs))
    out[0] = 9
    assert ours.tolist() == [1, -2]  # a copy, as PyTorch
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a number or None, got str"):
        mg.nan_to_num(ours, posinf="big")


def test_signbit_sees_negative_zero():
    assert mg.signbit(mg.tensor([-0.0, 0.0, -INF, NAN, -NAN])).tolist() == [
        True,
        False,
        True,
        False,
        True,
    ]


# =============================================================================================
# Binary
# =============================================================================================

BINARY = "atan2 hypot fmod fmax fmin copysign logaddexp2 xlogy true_divide ldexp".split()
LEFT = [0.0, -0.0, 1.5, -2.5, INF, -INF, NAN, 3.0, 0.0, -1.0]
RIGHT = [0.0, 1.0, -0.0, 2.0, INF, 2.0, 1.0, NAN, -INF, -1.0]


@pytest.mark.parametrize("name", BINARY)
def test_binary_edge_values_match_torch(name):
    (a, ta), (b, tb) = both(LEFT), both(RIGHT)
    with np.errstate(all="ignore"):
        same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb), rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in BINARY if n not in ("hypot", "logaddexp2")])
def test_binary_integer_inputs_promote_as_torch(name):
    (a, ta), (b, tb) = both([3, -7, 0, 5]), both([2, 3, 4, -2])
    same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb))
    (c, tc) = both([0.5, -1.0, 2.0, 4.0], "float32")
    same(getattr(mg, name)(a, c), getattr(torch, name)(ta, tc), rtol=1e-6)


@pytest.mark.parametrize("name", ["hypot", "logaddexp2"])
def test_binary_refuses_two_integer_tensors_as_torch(name):
    with pytest.raises(mg.DTypeError, match=f"{name} expects a floating point tensor, got int64"):
        getattr(mg, name)(mg.tensor([1, 2]), mg.tensor([3, 4]))


def test_fmod_has_the_sign_of_the_dividend_and_refuses_integer_zero():
    (a, ta), (b, tb) = both([5.5, -5.5, 5.5, -5.5]), both([2.0, 2.0, -2.0, -2.0])
    same(mg.fmod(a, b), torch.fmod(ta, tb))
    assert mg.fmod(a, b).tolist() == [1.5, -1.5, 1.5, -1.5]
    same(mg.fmod(mg.tensor([7, -7]), 3), torch.fmod(torch.tensor([7, -7]), 3))
    with pytest.raises(ZeroDivisionError, match="fmod: integer division by zero"):
        mg.fmod(mg.tensor([7, -7]), mg.tensor([3, 0]))


def test_fmax_fmin_ignore_nan_where_maximum_propagates_it():
    (a, ta), (b, tb) = both([1.0, NAN, NAN, -INF]), both([NAN, 2.0, NAN, 0.0])
    same(mg.fmax(a, b), torch.fmax(ta, tb))
    same(mg.fmin(a, b), torch.fmin(ta, tb))
    same(
        mg.fmax(mg.tensor([1, 5]), mg.tensor([3, 2])),
        torch.fmax(torch.tensor([1, 5]), torch.tensor([3, 2])),
    )


def test_ldexp_with_negative_integer_exponents():
    # PyTorch's forward agrees; its gradient, 2 ** -2 computed in integers, is 0 (ours 0.25)
    x = mg.tensor([3.0, 3.0], dtype=mg.float64, requires_grad=True)
    out = mg.ldexp(x, mg.tensor([-2, 3]))
    same(out, torch.ldexp(torch.tensor([3.0, 3.0], dtype=torch.float64), torch.tensor([-2, 3])))
    out.sum().backward()
    assert x.grad.tolist() == [0.25, 8.0]


def test_float_power_is_float64_and_gradients_come_back_in_the_input_dtype():
    x = mg.tensor([1.5, 2.0], requires_grad=True)  # float32
    out = mg.float_power(x, 3)
    assert out.dtype == mg.float64
    same(out, torch.float_power(torch.tensor([1.5, 2.0]), 3))
    out.sum().backward()
    assert x.grad.dtype == mg.float32 and x.grad.tolist() == [6.75, 12.0]
    same(
        mg.float_power(mg.tensor([2, 3]), mg.tensor([-1, 2])),
        torch.float_power(torch.tensor([2, 3]), torch.tensor([-1, 2])),
    )


def test_heaviside_matches_torch():
    (a, ta), (v, tv) = both([-1.5, 0.0, 2.0, NAN, -0.0]), both([0.5])
    same(mg.heaviside(a, v), torch.heaviside(ta, tv))
    same(a.heaviside(v), ta.heaviside(tv))
    (i, ti) = both([-2, 0, 3])
    same(mg.heaviside(i, mg.tensor(7)), torch.heaviside(ti, torch.tensor(7)))


def test_lerp_refuses_mixed_dtypes_and_bad_weights():
    a, b = mg.zeros(3), mg.ones(3)
    same(
        mg.lerp(a, b, mg.tensor([0.0, 0.5, 1.0])),
        torch.lerp(torch.zeros(3), torch.ones(3), torch.tensor([0.0, 0.5, 1.0])),
    )
    with pytest.raises(mg.DTypeError, match=r"lerp: .*got end float64 \(start is float32\)"):
        mg.lerp(a, b.double(), 0.5)
    with pytest.raises(mg.DTypeError, match="lerp: .*got start int64"):
        mg.lerp(mg.tensor([1, 2]), mg.tensor([3, 4]), 0.5)
    with pytest.raises(TypeError, match="lerp: weight must be a number or a Tensor, got str"):
        mg.lerp(a, b, "half")


def test_binary_ops_refuse_bad_operands():
    with pytest.raises(TypeError, match="atan2: expected a Tensor operand, got float and float"):
        mg.atan2(1.0, 2.0)
    with pytest.raises(mg.ShapeError, match=r"shapes \(2,\) and \(3,\) cannot be broadcast"):
        mg.hypot(mg.ones(2), mg.ones(3))
    with pytest.raises(TypeError, match="tan: expected a Tensor, got float 0.5"):
        mg.tan(0.5)


# =============================================================================================
# Comparison and logic
# =============================================================================================

CMP = "eq ne lt le gt ge greater greater_equal less less_equal not_equal".split()


@pytest.mark.parametrize("name", CMP)
def test_comparisons_match_torch(name):
    (a, ta), (b, tb) = both([[1.0, NAN, 2.0], [-INF, 0.0, 3.0]]), both([1.0, NAN, 2.5])
    same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb))
    same(getattr(a, name)(b), getattr(ta, name)(tb))
    same(getattr(mg, name)(a, 2), getattr(torch, name)(ta, 2))  # a Python number
    (i, ti) = both([1, 2, 3], "int32")
    same(
        getattr(mg, name)(i, mg.tensor([1.5, 2.0, 2.5])),
        getattr(torch, name)(ti, torch.tensor([1.5, 2.0, 2.5])),
    )


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_functions_take_any_dtype(name):
    (a, ta), (b, tb) = both([0.0, NAN, 2.0, -0.0]), both([1, 0, 0, 3])
    same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb))
    same(getattr(a, name)(b), getattr(ta, name)(tb))
    (c, tc) = both([[True], [False]])
    same(getattr(mg, name)(c, b), getattr(torch, name)(tc, tb))  # broadcasting


def test_isin_and_equal():
    (a, ta), (t, tt) = both([[1, 2, 3], [4, 5, 1]]), both([1, 5, 9])
    same(mg.isin(a, t), torch.isin(ta, tt))
    same(mg.isin(a, t, invert=True), torch.isin(ta, tt, invert=True))
    same(mg.isin(a, 2), torch.isin(ta, 2))
    same(mg.isin(2.0, t), torch.isin(2.0, tt))
    same(mg.isin(mg.tensor([1.0, 2.5]), t), torch.isin(torch.tensor([1.0, 2.5]), tt))
    assert mg.equal(a, mg.tensor([[1, 2, 3], [4, 5, 1]])) is True
    assert mg.equal(a, a[:1]) is False  # other shape
    assert a.equal(a + 1) is False
    assert mg.equal(mg.tensor([NAN]), mg.tensor([NAN])) is False  # as torch.equal
    with pytest.raises(TypeError, match="isin: expected a Tensor for elements or test_elements"):
        mg.isin(1, 2)


def test_logical_functions_refuse_non_tensors():
    with pytest.raises(TypeError, match="logical_and: expected a Tensor, got bool True"):
        mg.logical_and(mg.tensor([True]), True)


# =============================================================================================
# Reductions and scans
# =============================================================================================


def test_nansum_nanmean_edge_cases():
    (x, tx) = both([[NAN, NAN], [1.0, NAN], [INF, 2.0]])
    same(mg.nansum(x, 1), torch.nansum(tx, 1))
    with np.errstate(all="ignore"):
        same(mg.nanmean(x, 1), torch.nanmean(tx, 1))  # all NaN: NaN
    same(mg.nansum(mg.tensor([1, 2, 3])), torch.nansum(torch.tensor([1, 2, 3])))  # int64
    with pytest.raises(mg.DTypeError, match="nanmean expects a floating point tensor, got int64"):
        mg.nanmean(mg.tensor([1, 2]))
    # the gradient of a NaN entry is 0 (PyTorch's is NaN on an all-NaN row of nanmean)
    y = mg.tensor([[NAN, NAN], [1.0, NAN]], dtype=mg.float64, requires_grad=True)
    mg.nanmean(y, 1).nansum().backward()
    assert y.grad.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_cumprod_integers_and_gradient_with_zeros():
    (i, ti) = both([[1, 2, 0], [3, -1, 2]], "int32")
    same(mg.cumprod(i, 1), torch.cumprod(ti, 1))
    same(
        mg.cumprod(mg.tensor([True, True, False]), 0),
        torch.cumprod(torch.tensor([True, True, False]), 0),
    )
    # two zeros in a row: only the first gets a gradient, the product of the factors around it
    x = mg.tensor([2.0, 0.0, 3.0, 0.0, 5.0], dtype=mg.float64, requires_grad=True)
    mg.cumprod(x, 0).sum().backward()
    # d/dx1 of 2 + 2x1 + 2x1*3 + ... = 2 + 6; everything after the second zero is 0
    assert x.grad.tolist() == [1.0, 8.0, 0.0, 0.0, 0.0]


def test_cummax_cummin_indices_take_the_latest_tie_and_propagate_nan():
    values = [1.0, 3.0, 3.0, NAN, 2.0, NAN, -1.0]
    (x, tx) = both(values)
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(mg, name)(x, 0), getattr(torch, name)(tx, 0)
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)
    (i, ti) = both([[2, 2, 5, 1], [0, -3, -3, 4]])
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(i, name)(1), getattr(ti, name)(1)
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)
    assert type(mg.cummax(x, 0)).__name__ == "cummax"


def test_cummax_gradient_goes_to_the_running_maximum():
    x = mg.tensor([1.0, 3.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    x.cummax(0).values.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 1.0]


def test_logcumsumexp_is_stable():
    (x, tx) = both([-INF, -1000.0, 0.0, 1000.0, -INF])
    with np.errstate(all="ignore"):
        same(mg.logcumsumexp(x, 0), torch.logcumsumexp(tx, 0))
    with pytest.raises(mg.DTypeError, match="logcumsumexp expects a floating point tensor"):
        mg.logcumsumexp(mg.tensor([1, 2]), 0)


def test_median_conventions():
    (x, tx) = both([[3.0, 1.0, 2.0, 1.0], [NAN, 5.0, NAN, 0.0]])
    for name in ("median", "nanmedian"):
        ours, theirs = getattr(mg, name)(x, 1), getattr(torch, name)(tx, 1)
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)  # a tie: the later index, as PyTorch; a NaN: the first
        same(getattr(mg, name)(x), getattr(torch, name)(tx))
        assert type(ours).__name__ == name
    same(
        mg.median(mg.tensor([1.0, 2.0, 3.0, 4.0])), torch.median(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    )
    same(mg.median(mg.tensor([4, 1, 3])), torch.median(torch.tensor([4, 1, 3])))
    same(mg.median(mg.tensor(2.5), 0).values, torch.median(torch.tensor(2.5), 0).values)
    assert math.isnan(mg.median(mg.tensor([])).item())
    with pytest.raises(IndexError, match=r"median: cannot reduce over dim 1 of size 0"):
        mg.median(mg.zeros(2, 0), 1)


def test_quantile_conventions_and_errors():
    (x, tx) = both([[1.0, 2.0, 3.0, 4.0], [4.0, NAN, 6.0, 0.5]])
    for name in ("quantile", "nanquantile"):
        for q in (0.0, 0.3, 1.0):
            same(getattr(mg, name)(x, q, 1), getattr(torch, name)(tx, q, 1))
        same(getattr(mg, name)(x, 0.3, keepdim=True), getattr(torch, name)(tx, 0.3, keepdim=True))
        q = torch.tensor(0.4, dtype=torch.float64)
        same(getattr(mg, name)(x, mg.tensor(q.numpy()), 0), getattr(torch, name)(tx, q, 0))
    with pytest.raises(
        ValueError, match=r"quantile: q values must be in the range \[0, 1\], got \[1.5\]"
    ):
        mg.quantile(x, 1.5)
    with pytest.raises(
        ValueError, match="q must be a number or a 0-d or 1-d tensor of the input's dtype"
    ):
        mg.quantile(x, mg.tensor([0.5], dtype=mg.float32))
    with pytest.raises(mg.DTypeError, match="quantile: input must be a float tensor, got int64"):
        mg.quantile(mg.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        mg.quantile(x, 0.5, interpolation="cubic")
    with pytest.raises(ValueError, match=r"the input must not be empty \(shape \(0,\)\)"):
        mg.quantile(mg.zeros(0), 0.5)


def test_count_nonzero_aminmax_moments_diff():
    (x, tx) = both([[0.0, 1.0, NAN], [2.0, 0.0, -0.0]])
    same(mg.count_nonzero(x), torch.count_nonzero(tx))
    same(x.count_nonzero((0, 1)), tx.count_nonzero((0, 1)))
    same(mg.count_nonzero(x, 0), torch.count_nonzero(tx, 0))
    (y, ty) = both([[1.0, 5.0], [-2.0, 4.0]])
    assert type(mg.aminmax(y)).__name__ == "aminmax"
    same(mg.aminmax(y, dim=0).max, torch.aminmax(ty, dim=0).max)
    same(y.aminmax(dim=1, keepdim=True).min, ty.aminmax(dim=1, keepdim=True).min)
    for name in ("std_mean", "var_mean"):
        ours, theirs = getattr(mg, name)(y, 0, False), getattr(torch, name)(ty, 0, False)
        assert isinstance(ours, tuple) and len(ours) == 2
        for o, t in zip(ours, theirs):
            same(o, t)
    (b, tb) = both([True, False, False, True])
    same(mg.diff(b), torch.diff(tb))
    (i, ti) = both([1, 4, 9, 16])
    same(mg.diff(i, 2), torch.diff(ti, 2))
    same(i.diff(0), ti.diff(0))
    with pytest.raises(ValueError, match="diff: expects a tensor with at least one dimension"):
        mg.diff(mg.tensor(1.0))
    with pytest.raises(ValueError, match="diff: n must be a non-negative int, got -1"):
        mg.diff(i, -1)
    with pytest.raises(
        ValueError, match=r"diff: prepend must have as many dims as the input \(1\)"
    ):
        mg.diff(i, prepend=mg.tensor([[0]]))


def test_reductions_refuse_bad_dims():
    x = mg.ones(2, 3)
    with pytest.raises(mg.DimError, match="dimension out of range"):
        mg.cumprod(x, 2)
    with pytest.raises(TypeError, match="cummax: dim must be an int, got float"):
        mg.cummax(x, 1.0)
    with pytest.raises(TypeError, match="median: dim must be an int or None, got tuple"):
        mg.median(x, (0, 1))
    with pytest.raises(TypeError, match="aminmax: dim must be an int or None, got tuple"):
        mg.aminmax(x, dim=(0, 1))


# =============================================================================================
# Tensor methods and in-place forms
# =============================================================================================

METHODS = (
    UNARY
    + [a for a in sorted(ALIASES) if a != "arctan2"]
    + ["frac", "logit", "nansum", "nanmean", "median", "nanmedian", "count_nonzero"]
)


@pytest.mark.parametrize(
    "name",
    [n for n in METHODS if n not in ("arcsinh", "arccosh", "arctanh")]
    + ["arcsinh", "arccosh", "arctanh"],
)
def test_every_new_op_is_a_tensor_method_as_in_torch(name):
    assert hasattr(torch.Tensor, name), name  # only methods PyTorch has
    ours, theirs = both([[0.25, 0.5], [0.75, 0.125]])
    out, expected = getattr(ours, name)(), getattr(theirs, name)()
    same(out, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "name",
    "log1p expm1 tan sinh asin atan asinh atanh reciprocal square sgn frac erfc erfinv logit "
    "sinc deg2rad rad2deg nan_to_num log10 cosh acos".split(),
)
def test_unary_in_place_forms(name):
    ours, theirs = both([0.25, 0.5, 0.75], "float32")
    view = ours[1:]
    assert getattr(ours, name + "_")() is ours
    getattr(theirs, name + "_")()
    same(ours, theirs, rtol=1e-6)
    same(view, theirs[1:], rtol=1e-6)  # written through the memory views see


@pytest.mark.parametrize("name", "atan2 hypot fmod copysign xlogy true_divide ldexp".split())
def test_binary_in_place_forms_and_their_gradient(name):
    base = mg.tensor([0.25, 0.5, 0.75], dtype=mg.float64, requires_grad=True)
    tbase = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64, requires_grad=True)
    other = [1.5, -2.0, 0.5]
    ours, theirs = base * 1, tbase * 1
    getattr(ours, name + "_")(mg.tensor(other, dtype=mg.float64))
    getattr(theirs, name + "_")(torch.tensor(other, dtype=torch.float64))
    same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(base.grad.numpy(), tbase.grad.numpy(), rtol=1e-12)


def test_in_place_float_op_refuses_an_integer_tensor():
    with pytest.raises(Exception, match="log1p_"):
        mg.tensor([1, 2]).log1p_()


def test_lerp_in_place():
    a = mg.zeros(3)
    a.lerp_(mg.ones(3), 0.25)
    assert a.tolist() == [0.25, 0.25, 0.25]
