"""PyTorch breadth (minigrad/ops/search.py): what the op registry does not cover. The
differentiable ops (kthvalue, mode, msort, the scatters, renorm, trapezoid, vander, cov,
corrcoef) are gradchecked and compared with PyTorch in tests/op_cases.py; here: the searching
and counting ops against PyTorch (values and dtypes), empty and 0-d inputs, the returned
indices, the Tensor methods and in-place forms, random draws, and bad input (the error names
the shapes or dtypes, and comes before anything changes).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")


def both(values, dtype=None):
    """The same values as a minigrad tensor and a PyTorch tensor."""
    array = np.array(values, dtype=dtype)
    return mg.tensor(array), torch.tensor(array)


def same(ours, theirs, rtol=1e-7, atol=1e-12):
    """Values, shape and dtype as PyTorch's (NaN where PyTorch has NaN)."""
    expected = theirs.detach().numpy()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(expected.shape), (tuple(ours.shape), expected.shape)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol, equal_nan=True)


def same_all(ours, theirs, **kw):
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        same(a, b, **kw)


# =============================================================================================
# logical_not, H, mH
# =============================================================================================


@pytest.mark.parametrize(
    "values, dtype",
    [([0.0, 1.5, -2.0, np.nan], "float32"), ([0, 3, -1], "int64"), ([True, False], "bool"),
     (0.0, "float64"), ([], "int32")],
)  # fmt: skip
def test_logical_not_takes_any_dtype_as_torch(values, dtype):
    ours, theirs = both(values, dtype)
    same(mg.logical_not(ours), torch.logical_not(theirs))
    same(ours.logical_not(), theirs.logical_not())


def test_logical_not_in_place_keeps_the_dtype():
    ours, theirs = both([0.0, 2.0, -1.0])
    ours.logical_not_()
    theirs.logical_not_()
    same(ours, theirs)


@pytest.mark.filterwarnings("ignore:Tensor.m?H is deprecated on 0-D:UserWarning")
@pytest.mark.parametrize("shape", [(), (2, 3), (2, 3, 4), (0, 5)])
def test_h_and_mh_as_torch(shape):
    ours, theirs = both(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    same(ours.mH, theirs.mH)
    if len(shape) in (0, 2):
        same(ours.H, theirs.H)
    else:
        with pytest.raises(ValueError, match=r"H is only supported on matrices.*\(2, 3, 4\)"):
            _ = ours.H


def test_h_and_mh_refuse_vectors_and_pass_the_gradient():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        _ = mg.ones(3).H
    with pytest.raises(ValueError, match=r"\(3,\)"):
        _ = mg.ones(3).mH
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    (x.H * mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])


# =============================================================================================
# unique, unique_consecutive
# =============================================================================================

UNIQUE_INPUTS = [
    ([3, 1, 3, 2, 1, 1], "int64"),
    ([[2.5, -1.0], [2.5, 0.0]], "float32"),
    ([[1, 2], [1, 2], [0, 5]], "int32"),
    ([True, False, True], "bool"),
    (7.0, "float64"),
    ([], "float32"),
]


@pytest.mark.parametrize("values, dtype", UNIQUE_INPUTS)
@pytest.mark.parametrize(
    "inverse, counts", [(False, False), (True, False), (True, True), (False, True)]
)
def test_unique_matches_torch(values, dtype, inverse, counts):
    ours, theirs = both(values, dtype)
    kw = {"return_inverse": inverse, "return_counts": counts}
    same_all(mg.unique(ours, **kw), torch.unique(theirs, **kw))
    same_all(ours.unique(sorted=False, **kw), theirs.unique(sorted=True, **kw))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_a_dim_matches_torch(dim):
    ours, theirs = both([[1, 2, 1], [1, 2, 1], [0, 5, 0], [1, 2, 1]])
    kw = {"return_inverse": True, "return_counts": True, "dim": dim}
    same_all(mg.unique(ours, **kw), torch.unique(theirs, **kw))


@pytest.mark.parametrize("values, dtype", UNIQUE_INPUTS + [([1, 1, 2, 2, 3, 1, 1], "int64")])
def test_unique_consecutive_matches_torch(values, dtype):
    ours, theirs = both(values, dtype)
    kw = {"return_inverse": True, "return_counts": True}
    same_all(mg.unique_consecutive(ours, **kw), torch.unique_consecutive(theirs, **kw))
    same(ours.unique_consecutive(), theirs.unique_consecutive())


@pytest.mark.parametrize("dim", [0, 1])
def test_unique_consecutive_along_a_dim_matches_torch(dim):
    ours, theirs = both([[1, 1, 2, 2], [1, 1, 2, 3], [1, 1, 2, 3]])
    kw = {"return_inverse": True, "return_counts": True, "dim": dim}
    same_all(mg.unique_consecutive(ours, **kw), torch.unique_consecutive(theirs, **kw))


def test_unique_keeps_each_nan_as_torch():
    ours, theirs = both([1.0, np.nan, 2.0, np.nan, 1.0])
    kw = {"return_inverse": True, "return_counts": True}
    values, inverse, counts = mg.unique(ours, **kw)
    t_values, t_inverse, t_counts = torch.unique(theirs, **kw)
    same(values, t_values)
    same(counts, t_counts)
    same(values[inverse], t_values[t_inverse])  # each element found back (NaN as NaN)


def test_unique_has_no_gradient_and_checks_its_dim():
    x = mg.tensor([1.0, 1.0, 2.0], requires_grad=True)
    assert not mg.unique(x).requires_grad
    with pytest.raises(IndexError, match=r"\(3,\)"):
        mg.unique(x, dim=1)
    with pytest.raises(TypeError, match="expected a Tensor"):
        mg.unique([1, 2])


# =============================================================================================
# searchsorted, bucketize
# =============================================================================================


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize(
    "seq, values",
    [([1.0, 3.0, 3.0, 5.0], [[0.0, 3.0], [5.0, 6.0]]), ([1, 3, 5], [3]), ([1.0, 2.0], []),
     ([[1.0, 3.0, 5.0], [2.0, 2.0, 4.0]], [[3.0, 0.0], [2.0, 9.0]]), ([], [1.0])],
)  # fmt: skip
def test_searchsorted_matches_torch(seq, values, right):
    (s, ts), (v, tv) = both(seq), both(values)
    same(mg.searchsorted(s, v, right=right), torch.searchsorted(ts, tv, right=right))
    side = "right" if right else "left"
    same(mg.searchsorted(s, v, side=side), torch.searchsorted(ts, tv, side=side))
    same(
        mg.searchsorted(s, v, right=right, out_int32=True),
        torch.searchsorted(ts, tv, right=right, out_int32=True),
    )


def test_searchsorted_with_a_sorter_and_a_scalar_matches_torch():
    (s, ts), (v, tv) = both([5.0, 1.0, 3.0]), both([0.0, 3.0, 4.0, 6.0])
    sorter, tsorter = both([1, 2, 0])
    same(mg.searchsorted(s, v, sorter=sorter), torch.searchsorted(ts, tv, sorter=tsorter))
    same(mg.searchsorted(mg.tensor([1, 3, 5]), 3), torch.searchsorted(torch.tensor([1, 3, 5]), 3))


def test_searchsorted_refuses_bad_input():
    seq = mg.tensor([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"\(1, 3\).*\(2, 1\)"):
        mg.searchsorted(seq, mg.tensor([[1.0], [2.0]]))
    with pytest.raises(ValueError, match=r"1-d.*\(1, 3\)"):
        mg.searchsorted(seq, 2.0)
    with pytest.raises(ValueError, match="contradict"):
        mg.searchsorted(mg.tensor([1.0]), mg.tensor([1.0]), right=True, side="left")
    with pytest.raises(ValueError, match="side"):
        mg.searchsorted(mg.tensor([1.0]), mg.tensor([1.0]), side="middle")
    with pytest.raises(ValueError, match=r"sorter.*\(3,\).*\(2,\)"):
        mg.searchsorted(mg.tensor([1.0, 2.0, 3.0]), mg.tensor([1.0]), sorter=mg.tensor([0, 1]))


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_bucketize_matches_torch(right, out_int32):
    (x, tx), (b, tb) = both([[0.5, 1.0, 7.0], [3.0, 3.5, -2.0]]), both([1.0, 3.0, 5.0])
    kw = {"right": right, "out_int32": out_int32}
    same(mg.bucketize(x, b, **kw), torch.bucketize(tx, tb, **kw))
    same(mg.bucketize(mg.tensor(3.0), b), torch.bucketize(torch.tensor(3.0), tb))


def test_bucketize_refuses_2d_boundaries():
    with pytest.raises(ValueError, match=r"boundaries must be 1-d.*\(1, 2\)"):
        mg.bucketize(mg.tensor([1.0]), mg.tensor([[1.0, 2.0]]))


# =============================================================================================
# bincount, histc, argwhere
# =============================================================================================


@pytest.mark.parametrize("weights", [None, "float32", "float64", "int64"])
@pytest.mark.parametrize("minlength", [0, 8])
def test_bincount_matches_torch(weights, minlength):
    x, tx = both([0, 3, 3, 1, 5, 3])
    w, tw = both([0.5, 1.0, 2.0, -1.0, 3.0, 0.25], weights) if weights else (None, None)
    same(mg.bincount(x, w, minlength), torch.bincount(tx, tw, minlength))
    same(x.bincount(w, minlength=minlength), tx.bincount(tw, minlength=minlength))


def test_bincount_of_nothing_matches_torch():
    x, tx = both([], "int64")
    same(mg.bincount(x), torch.bincount(tx))
    same(mg.bincount(x, minlength=3), torch.bincount(tx, minlength=3))


def test_bincount_refuses_bad_input():
    with pytest.raises(ValueError, match="non-negative.*-1"):
        mg.bincount(mg.tensor([1, -1]))
    with pytest.raises(TypeError, match=r"float32 of shape \(2,\)"):
        mg.bincount(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"int64 of shape \(1, 2\)"):
        mg.bincount(mg.tensor([[1, 2]]))
    with pytest.raises(ValueError, match=r"weights of shape \(3,\).*\(2,\)"):
        mg.bincount(mg.tensor([1, 2]), mg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="minlength"):
        mg.bincount(mg.tensor([1, 2]), minlength=-1)


@pytest.mark.parametrize(
    "values, bins, lo, hi",
    [([1.0, 2.0, 1.0, 0.0, 3.0], 4, 0, 3), ([1.0, 2.0, 1.0], 4, 0, 0), ([-5.0, 0.5, 9.0], 3, 0, 1),
     ([2.0, 2.0], 5, 0, 0), ([], 4, 0, 0), ([[0.1, 0.9], [0.5, 0.5]], 10, 0, 1)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_matches_torch(values, bins, lo, hi, dtype):
    x, tx = both(values, dtype)
    same(mg.histc(x, bins, lo, hi), torch.histc(tx, bins, lo, hi))
    same(x.histc(bins=bins, min=lo, max=hi), tx.histc(bins=bins, min=lo, max=hi))


def test_histc_refuses_bad_input():
    with pytest.raises(TypeError, match="int64"):
        mg.histc(mg.tensor([1, 2]))
    with pytest.raises(ValueError, match="bins"):
        mg.histc(mg.tensor([1.0]), bins=0)
    with pytest.raises(ValueError, match="min=2 max=1"):
        mg.histc(mg.tensor([1.0]), min=2, max=1)


@pytest.mark.parametrize("values", [3.0, 0.0, [], [[0, 1], [2, 0]], [[[True, False]]]])
def test_argwhere_matches_torch(values):
    x, tx = both(values)
    same(mg.argwhere(x), torch.argwhere(tx))
    same(x.argwhere(), tx.argwhere())


# =============================================================================================
# kthvalue, mode, msort: indices and shapes (gradients: tests/op_cases.py)
# =============================================================================================


@pytest.mark.parametrize("k, dim, keepdim", [(1, 0, False), (3, 1, True), (2, -1, False)])
def test_kthvalue_values_and_indices_match_torch(k, dim, keepdim):
    x, tx = both(np.random.default_rng(0).permutation(12).reshape(3, 4).astype(np.float32))
    ours, theirs = mg.kthvalue(x, k, dim, keepdim), torch.kthvalue(tx, k, dim, keepdim)
    assert type(ours).__name__ == "kthvalue" and ours._fields == ("values", "indices")
    same_all(tuple(ours), tuple(theirs))
    same_all(tuple(x.kthvalue(k, dim)), tuple(tx.kthvalue(k, dim)))


def test_kthvalue_of_0d_and_ints_matches_torch():
    x, tx = both(4.0)
    same_all(tuple(mg.kthvalue(x, 1)), tuple(torch.kthvalue(tx, 1)))
    x, tx = both([5, 2, 9, 1], "int32")
    same_all(tuple(mg.kthvalue(x, 3)), tuple(torch.kthvalue(tx, 3)))


def test_kthvalue_refuses_k_out_of_range():
    with pytest.raises(IndexError, match=r"k \(5\).*\[1, 4\].*\(3, 4\)"):
        mg.kthvalue(mg.ones(3, 4), 5)
    with pytest.raises(IndexError, match=r"\(3, 0\)"):
        mg.kthvalue(mg.ones(3, 0), 1)


@pytest.mark.parametrize(
    "values",
    [[3, 1, 3, 1, 2], [[1.0, 2, 2, 1, 3, 3, 3, 1], [5, 4, 4, 5, 6, 6, 0, 0]], [7.0], 2.0,
     [[2, 2], [1, 3], [1, 3]]],
)  # fmt: skip
@pytest.mark.parametrize("dim", [0, -1])
def test_mode_values_and_indices_match_torch(values, dim):
    x, tx = both(values)
    ours, theirs = mg.mode(x, dim), torch.mode(tx, dim)
    assert type(ours).__name__ == "mode"
    same_all(tuple(ours), tuple(theirs))
    same_all(tuple(x.mode(dim, keepdim=True)), tuple(tx.mode(dim, keepdim=True)))


def test_mode_of_nans_only_is_nan_at_a_nan():
    values, indices = mg.mode(mg.tensor([[np.nan, np.nan], [1.0, 1.0]]))
    assert np.isnan(values.numpy()[0]) and values.numpy()[1] == 1.0
    assert indices.numpy().tolist() == [1, 1]


def test_mode_refuses_an_empty_dim():
    with pytest.raises(IndexError, match=r"size 0.*\(2, 0\)"):
        mg.mode(mg.ones(2, 0))


@pytest.mark.parametrize("values", [[[3.0, 1.0], [2.0, 5.0], [0.0, 4.0]], [3, 1, 2], 5.0, []])
def test_msort_matches_torch(values):
    x, tx = both(values)
    same(mg.msort(x), torch.msort(tx))
    same(x.msort(), tx.msort())


# =============================================================================================
# index_copy, index_put, masked_scatter, slice_scatter, select_scatter, renorm: in place, ints
# =============================================================================================


def test_in_place_scatters_match_torch():
    for ours, theirs in (both(np.zeros((3, 4))), both(np.zeros((3, 4), dtype=np.int64))):
        dtype = ours.dtype
        src, tsrc = both(np.arange(8).reshape(2, 4), dtype)
        index, tindex = both([2, 0])
        ours.index_copy_(0, index, src)
        theirs.index_copy_(0, tindex, tsrc)
        same(ours, theirs)
        values, tvalues = both([10, 20], dtype)
        ours.index_put_((index, index), values, accumulate=True)
        theirs.index_put_((tindex, tindex), tvalues, accumulate=True)
        same(ours, theirs)
        mask, tmask = both([True, False, False, True])
        ours.masked_scatter_(mask, src)
        theirs.masked_scatter_(tmask, tsrc)
        same(ours, theirs)


def test_scatters_of_empty_and_integer_tensors_match_torch():
    x, tx = both(np.zeros((0, 3)))
    src, tsrc = both(np.zeros((0, 3)))
    index, tindex = both([], "int64")
    same(mg.index_copy(x, 0, index, src), torch.index_copy(tx, 0, tindex, tsrc))
    mask, tmask = both(np.zeros((0, 3), dtype=bool))
    same(mg.masked_scatter(x, mask, src), torch.masked_scatter(tx, tmask, tsrc))
    x, tx = both(np.arange(12).reshape(3, 4))
    src, tsrc = both([[7, 8], [9, 10], [11, 12]])
    same(mg.slice_scatter(x, src, 1, 0, 4, 2), torch.slice_scatter(tx, tsrc, 1, 0, 4, 2))
    row, trow = both([-1, -2, -3, -4])
    same(mg.select_scatter(x, row, 0, 1), torch.select_scatter(tx, trow, 0, 1))


def test_renorm_in_place_matches_torch():
    ours, theirs = both(np.random.default_rng(1).standard_normal((4, 2, 3)).astype(np.float32))
    ours.renorm_(3, 1, 0.8)
    theirs.renorm_(3, 1, 0.8)
    same(ours, theirs, rtol=1e-6)


def test_scatters_refuse_bad_input_before_writing():
    x = mg.zeros(3, 4)
    before = x.numpy().copy()
    with pytest.raises(ValueError, match=r"source of shape \(2, 3\).*\(3, 4\)"):
        x.index_copy_(0, mg.tensor([0, 1]), mg.ones(2, 3))
    with pytest.raises(ValueError, match=r"selects 5.*\(4,\)\) has only 4"):
        x.masked_scatter_(mg.tensor([[True] * 4, [True, False, False, False], [False] * 4]),
                          mg.ones(4))  # fmt: skip
    with pytest.raises(ValueError, match=r"mask of shape \(3,\).*\(3, 4\)"):
        x.masked_scatter_(mg.tensor([True, False, True]), mg.ones(4))
    with pytest.raises(TypeError, match="bool"):
        x.masked_scatter_(mg.tensor([1, 0, 1, 0]), mg.ones(4))
    with pytest.raises(TypeError, match="float64.*float32"):
        x.index_put_((mg.tensor([0]),), mg.ones(4, dtype=mg.float64))
    with pytest.raises(TypeError, match="integer or bool"):
        x.index_put_((mg.tensor([0.0]),), mg.ones(4))
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\(4,\)"):
        mg.renorm(mg.ones(4), 2, 0, 1.0)
    with pytest.raises(ValueError, match="p must be"):
        x.renorm_(0, 0, 1.0)
    np.testing.assert_array_equal(x.numpy(), before)
    with pytest.raises(ValueError, match=r"src of shape \(3,\).*\(2, 4\).*\(3, 4\)"):
        mg.slice_scatter(x, mg.ones(3), 0, 1)
    with pytest.raises(IndexError, match=r"index 4.*size 4.*\(3, 4\)"):
        mg.select_scatter(x, mg.ones(3), 1, 4)
    with pytest.raises(TypeError, match="float64.*float32"):
        mg.select_scatter(x, mg.ones(3, dtype=mg.float64), 1, 0)


# =============================================================================================
# gcd, lcm, trapezoid, vander, cov, corrcoef
# =============================================================================================


@pytest.mark.parametrize("name", ["gcd", "lcm"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("int32", "int32")])
def test_gcd_lcm_match_torch(name, dtypes):
    (a, ta), (b, tb) = both([[0, 6, -4, 9]], dtypes[0]), both([[0], [4], [-6]], dtypes[1])
    same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb))
    same(getattr(a, name)(b), getattr(ta, name)(tb))
    ours, theirs = both([12, -8], dtypes[0])
    getattr(ours, name + "_")(mg.tensor([18, 6], dtype=dtypes[0]))
    getattr(theirs, name + "_")(torch.tensor([18, 6], dtype=getattr(torch, dtypes[0])))
    same(ours, theirs)


def test_gcd_refuses_floats():
    with pytest.raises(TypeError, match=r"float32 \(shape \(1,\)\) and int64"):
        mg.gcd(mg.tensor([1.0]), mg.tensor([2]))


@pytest.mark.parametrize("values", [[1, 2, 4], [], [[1.0, 2.0], [3.0, 5.0]], [2.5]])
def test_trapezoid_matches_torch(values):
    y, ty = both(values)
    same(mg.trapezoid(y), torch.trapezoid(ty), rtol=1e-6)
    same(mg.trapezoid(y, dx=0.25), torch.trapezoid(ty, dx=0.25), rtol=1e-6)


def test_trapezoid_refuses_bad_input():
    with pytest.raises(ValueError, match=r"length 2.*size 3.*\(3,\)"):
        mg.trapezoid(mg.ones(3), mg.ones(2))
    with pytest.raises(TypeError, match="not both"):
        mg.trapezoid(mg.ones(3), mg.ones(3), dx=1.0)
    with pytest.raises(ValueError, match="0-d"):
        mg.trapezoid(mg.tensor(1.0))


@pytest.mark.parametrize("values", [[1, 2, 3], [0.5, -2.0], [], [3]])
@pytest.mark.parametrize("n", [None, 0, 4])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_matches_torch(values, n, increasing):
    x, tx = both(values)
    same(mg.vander(x, n, increasing), torch.vander(tx, n, increasing))


def test_vander_refuses_bad_input():
    with pytest.raises(ValueError, match=r"1-d.*\(2, 2\)"):
        mg.vander(mg.ones(2, 2))
    with pytest.raises(ValueError, match="N must be"):
        mg.vander(mg.ones(2), -1)


@pytest.mark.parametrize(
    "values", [[[1, 2, 4], [0, 1, 0]], [1.0, 2.5, 7.0], [[1.0, 2.0, 3.0]], [[2.0], [3.0]]]
)
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_and_corrcoef_match_torch(values, correction):
    x, tx = both(values)
    with np.errstate(all="ignore"):
        same(mg.cov(x, correction=correction), torch.cov(tx, correction=correction), rtol=1e-6)
        same(mg.corrcoef(x), torch.corrcoef(tx), rtol=1e-6)


def test_cov_with_weights_matches_torch():
    x, tx = both(np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32))
    f, tf = both([1, 0, 2, 3, 1])
    a, ta = both([0.5, 1.0, 1.0, 0.25, 2.0], "float32")
    same(mg.cov(x, fweights=f), torch.cov(tx, fweights=tf), rtol=1e-5)
    same(mg.cov(x, aweights=a, correction=0), torch.cov(tx, aweights=ta, correction=0), rtol=1e-5)
    same(x.cov(fweights=f, aweights=a), tx.cov(fweights=tf, aweights=ta), rtol=1e-5)


def test_cov_refuses_bad_input():
    with pytest.raises(ValueError, match=r"1-d or 2-d.*\(1, 2, 3\)"):
        mg.cov(mg.ones(1, 2, 3))
    with pytest.raises(ValueError, match=r"fweights must be 1-d of length 3.*\(2,\)"):
        mg.cov(mg.ones(2, 3), fweights=mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="fweights must be integers, got float32"):
        mg.cov(mg.ones(2, 3), fweights=mg.ones(3))
    with pytest.raises(TypeError, match="aweights must be floats, got int64"):
        mg.cov(mg.ones(2, 3), aweights=mg.tensor([1, 2, 3]))


# =============================================================================================
# multinomial
# =============================================================================================


def test_multinomial_with_replacement_follows_the_weights():
    mg.manual_seed(0)
    weights = mg.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 5.0]])
    draws = mg.multinomial(weights, 4000, replacement=True)
    assert draws.dtype == mg.int64 and tuple(draws.shape) == (2, 4000)
    freq = np.stack([np.bincount(row, minlength=3) / 4000 for row in draws.numpy()])
    np.testing.assert_allclose(freq, [[0.25, 0.0, 0.75], [0.0, 0.5, 0.5]], atol=0.03)
    assert freq[0, 1] == 0 and freq[1, 0] == 0  # a weight of 0 is never drawn


def test_multinomial_without_replacement_draws_each_category_once():
    mg.manual_seed(1)
    draws = mg.tensor([0.1, 2.0, 0.0, 1.0, 5.0]).multinomial(4)
    assert tuple(draws.shape) == (4,) and draws.dtype == mg.int64
    assert sorted(draws.numpy().tolist()) == [0, 1, 3, 4]  # all the categories of weight > 0
    firsts = [int(mg.multinomial(mg.tensor([1.0, 9.0]), 1)[0]) for _ in range(400)]
    assert 0.85 < np.mean(firsts) < 0.95  # the heavier category first about 9 times in 10


def test_multinomial_is_reproducible_under_manual_seed():
    mg.manual_seed(5)
    first = mg.multinomial(mg.ones(3, 6), 4).numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(mg.multinomial(mg.ones(3, 6), 4).numpy(), first)


def test_multinomial_refuses_bad_input():
    with pytest.raises(ValueError, match=r"cannot draw 4 samples without replacement from 3"):
        mg.multinomial(mg.ones(3), 4)
    with pytest.raises(ValueError, match=r"non-negative.*\(2,\)"):
        mg.multinomial(mg.tensor([1.0, -1.0]), 1)
    with pytest.raises(ValueError, match=r"positive sum.*\(2, 2\)"):
        mg.multinomial(mg.tensor([[1.0, 1.0], [0.0, 0.0]]), 1)
    with pytest.raises(ValueError, match=r"1-d or 2-d.*\(\)"):
        mg.multinomial(mg.tensor(1.0), 1)
    with pytest.raises(TypeError, match="int64"):
        mg.multinomial(mg.tensor([1, 2]), 1)


def test_index_copy_repeated_index_keeps_one_source_not_their_sum() -> None:
    """A repeated index keeps the last source slice written there (PyTorch keeps one of them);
    every source slice still gets its gradient, as PyTorch's; a 0-d self takes a source of
    shape () or (1,)."""
    data = np.arange(9.0).reshape(3, 3)
    x = mg.zeros(4, 3, dtype=mg.float64, requires_grad=True)
    src = mg.tensor(data, requires_grad=True)
    y = mg.index_copy(x, 0, mg.tensor([1, 3, 1]), src)
    tx = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    tsrc = torch.tensor(data, requires_grad=True)
    ty = torch.index_copy(tx, 0, torch.tensor([1, 3, 1]), tsrc)
    np.testing.assert_array_equal(y.array[1], data[2])  # not data[0] + data[2]
    weight = np.arange(12.0).reshape(4, 3)
    (y * mg.tensor(weight)).sum().backward()
    (ty * torch.tensor(weight)).sum().backward()
    np.testing.assert_array_equal(x.grad.array, tx.grad.numpy())
    np.testing.assert_array_equal(src.grad.array, tsrc.grad.numpy())
    for s in ([7.0], 7.0):
        assert mg.index_copy(mg.tensor(5.0), 0, mg.tensor([0]), mg.tensor(s)).item() == 7.0
    with pytest.raises(mg.ShapeError, match=r"shape \(2,\) does not fit self of shape \(\)"):
        mg.index_copy(mg.tensor(5.0), 0, mg.tensor([0]), mg.tensor([7.0, 8.0]))
