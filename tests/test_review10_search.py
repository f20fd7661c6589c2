"""Regressions for the review of minigrad/ops/search.py (h16's searching, counting and
scatter ops): each test failed on the code as merged (main cc1d027).
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")


def same(ours, theirs):
    """Values, shape and dtype as PyTorch's (NaN where PyTorch has NaN)."""
    expected = theirs.detach().numpy()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(expected.shape), (tuple(ours.shape), expected.shape)
    np.testing.assert_array_equal(ours.numpy(), expected)


# -- 0-d results were NumPy scalars, not arrays: the next in-place op called them read-only --


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: mg.gcd(mg.tensor(4), mg.tensor(6)), 3),
        (lambda: mg.lcm(mg.tensor(4), mg.tensor(6)), 13),
        (lambda: mg.logical_not(mg.tensor(0.0)).long(), 2),
    ],
)
def test_0d_results_take_an_in_place_op(make, expected):
    out = make()
    assert out.shape == ()
    assert out.add_(1).item() == expected


def test_0d_logical_not_takes_logical_not_():
    out = mg.logical_not(mg.tensor(0.0))
    assert out.logical_not_().item() is False


# -- histc ----------------------------------------------------------------------------------


def test_histc_float16_does_not_overflow():
    # (v - min) * bins = 1000 * 100 is past float16's largest (65504): it crashed in bincount
    values = [0.0, 1000.0, 500.0, 250.0]
    half = mg.histc(mg.tensor(np.array(values, dtype=np.float16)), bins=100)
    single = mg.histc(mg.tensor(np.array(values, dtype=np.float32)), bins=100)
    assert half.dtype == mg.float16
    np.testing.assert_array_equal(half.numpy(), single.numpy())
    assert half.numpy()[[0, 25, 50, 99]].tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "values, bounds",
    [([1.0, np.nan, 3.0], {}), ([1.0, np.inf, 3.0], {}), ([-np.inf, 1.0], {}),
     ([1.0, 2.0], {"min": 0, "max": np.inf})],
)  # fmt: skip
def test_histc_refuses_a_range_that_is_not_finite(values, bounds):
    # PyTorch: "range of [1, inf] is not finite"; minigrad gave zeros or bincount's error
    with pytest.raises(RuntimeError, match="not finite"):
        torch.histc(torch.tensor(values), bins=3, **bounds)
    with pytest.raises(ValueError, match=r"histc: the range \[.*\] is not finite.*shape \([23],\)"):
        mg.histc(mg.tensor(values), bins=3, **bounds)


def test_histc_with_nan_inside_a_given_range_ignores_it():
    same(
        mg.histc(mg.tensor([1.0, np.nan, 3.0]), bins=3, min=0, max=4),
        torch.histc(torch.tensor([1.0, np.nan, 3.0]), bins=3, min=0, max=4),
    )


# -- bincount -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "bool"])
def test_bincount_weights_dtype_as_torch(dtype):
    # float16 weights gave float16 counts; PyTorch sums them in float64
    index, weights = np.array([0, 1, 1, 3]), np.array([1, 0, 1, 1], dtype=dtype)
    same(
        mg.bincount(mg.tensor(index), mg.tensor(weights)),
        torch.bincount(torch.tensor(index), torch.tensor(weights)),
    )


# -- searchsorted ---------------------------------------------------------------------------


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_nd_puts_a_nan_value_last(right):
    # the N-d path compared with < / <=, so a NaN value went first (index 0)
    seq = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0]])
    values = np.array([[np.nan, 2.0], [5.0, np.nan]])
    ours = mg.searchsorted(mg.tensor(seq), mg.tensor(values), right=right)
    same(ours, torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right))
    one_d = mg.searchsorted(mg.tensor(seq[0]), mg.tensor(values[0]), right=right)
    np.testing.assert_array_equal(ours.numpy()[0], one_d.numpy())


def test_searchsorted_values_must_be_a_tensor_or_a_number():
    seq = mg.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="values must be a Tensor or a number, got str"):
        mg.searchsorted(seq, "a")  # it gave tensor(3)
    assert mg.searchsorted(seq, np.int64(2)).item() == 1  # a NumPy number is a number


# -- cov ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [{"fweights": np.array([1, -1, 2])}, {"aweights": np.array([1.0, -1.0, 2.0])}],
)
def test_cov_refuses_negative_weights(kwargs):
    (name, w), x = next(iter(kwargs.items())), np.array([[1.0, 2.0, 4.0]])
    with pytest.raises(RuntimeError, match="cannot be negative"):
        torch.cov(torch.tensor(x), **{name: torch.tensor(w)})
    with pytest.raises(ValueError, match=f"{name} cannot be negative.*-1"):
        mg.cov(mg.tensor(x), **{name: mg.tensor(w)})  # it gave 4.5 and inf


def test_cov_correction_must_be_an_int():
    with pytest.raises(TypeError, match="correction must be an int, got 0.5"):
        mg.cov(mg.ones(2, 3), correction=0.5)  # it took it (PyTorch refuses it)


# -- slice_scatter, select_scatter, index_put -------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda x: mg.select_scatter(x, mg.tensor(2.0), 0, 0),
        lambda x: mg.slice_scatter(x, mg.tensor(2.0), 0),
    ],
)
def test_scatters_name_a_0d_self(call):
    # they failed with "tuple index out of range" / NumPy's "too many indices"
    with pytest.raises(
        mg.ShapeError, match=r"self must have at least one dimension, got shape \(\)"
    ):
        call(mg.tensor(1.0))


def test_index_put_refuses_empty_indices_before_writing():
    x = mg.zeros(2)
    with pytest.raises(IndexError, match=r"indices is empty.*\(2,\)"):
        x.index_put_((), mg.tensor(1.0))  # it wrote every element (x[()] = 1)
    assert x.tolist() == [0.0, 0.0] and x._version == 0


def test_masked_scatter_broadcasts_self_with_the_mask():
    # PyTorch's out-of-place form broadcasts self to the mask's shape; minigrad refused it
    mask = np.array([[True, False, True], [False, True, False]])
    ours = mg.masked_scatter(mg.zeros(3), mg.tensor(mask), mg.arange(6.0))
    same(ours, torch.masked_scatter(torch.zeros(3), torch.tensor(mask), torch.arange(6.0)))
    x = mg.zeros(3)
    with pytest.raises(RuntimeError, match=r"result's shape \(2, 3\).*\(3,\)"):
        x.masked_scatter_(mg.tensor(mask), mg.arange(6.0))  # in place it keeps x's shape
    assert x.tolist() == [0.0, 0.0, 0.0] and x._version == 0


def test_masked_scatter_broadcast_self_gradient():
    mask = np.array([[True, False, True], [False, True, False]])
    x, src = mg.tensor([1.0, 2.0, 3.0], requires_grad=True), mg.arange(6.0, requires_grad=True)
    tx, tsrc = torch.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.arange(6.0)
    tsrc.requires_grad_(True)
    g = np.arange(6.0).reshape(2, 3) + 1
    mg.masked_scatter(x, mg.tensor(mask), src).backward(mg.tensor(g, dtype=mg.float32))
    torch.masked_scatter(tx, torch.tensor(mask), tsrc).backward(torch.tensor(g).float())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(src.grad.numpy(), tsrc.grad.numpy())


def test_index_put_names_values_that_are_not_a_number():
    x = mg.zeros(3)
    with pytest.raises(TypeError, match="values must be a Tensor or a number, got str"):
        x.index_put_((mg.tensor([0]),), "a")  # NumPy's "could not convert string to float"
    assert x.index_put_((mg.tensor([1]),), 2).tolist() == [0.0, 2.0, 0.0]


# -- multinomial ----------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [[0.0, 1.0, 0.0, 3.0, 0.0], [[0.0, 0.0, 1.0], [2.0, 0, 0]]])
def test_multinomial_with_replacement_draws_the_inverse_cdf(weights):
    # a binary search per row now (the comparison of every draw with every category held
    # rows x samples x categories bools: 8 GB for (4, 100000) weights and 20000 samples)
    from minigrad import backend

    rows = np.atleast_2d(np.array(weights))
    mg.manual_seed(3)
    ours = mg.multinomial(mg.tensor(weights), 200, replacement=True).numpy().reshape(-1, 200)
    mg.manual_seed(3)
    u = backend.uniform((rows.shape[0], 200), np.float64, "cpu")
    cdf = np.cumsum(rows, 1) / rows.sum(1, keepdims=True)
    expected = (cdf[:, None, :] <= u[:, :, None]).sum(2)  # the first category with cdf > u
    np.testing.assert_array_equal(ours, expected)
    assert rows[np.arange(rows.shape[0])[:, None], ours].all()  # never a zero weight


def test_multinomial_with_replacement_of_no_rows():
    out = mg.multinomial(mg.zeros(0, 3), 2, replacement=True)
    assert out.shape == (0, 2) and out.dtype == mg.int64


@pytest.mark.parametrize("sorter", [[-2, 0, 1], [0, 1, 3]])
def test_searchsorted_refuses_a_sorter_out_of_range(sorter):
    # a negative index wrapped silently (NumPy's take_along_axis): [-2, 0, 1] gave [1]
    seq, values = [3.0, 1.0, 2.0], [2.5]
    with pytest.raises(RuntimeError, match="sorter index out of range"):
        torch.searchsorted(torch.tensor(seq), torch.tensor(values), sorter=torch.tensor(sorter))
    with pytest.raises(IndexError, match=r"sorter indices must be in \[0, 3\), got \[-?\d, \d\]"):
        mg.searchsorted(mg.tensor(seq), mg.tensor(values), sorter=mg.tensor(sorter))


# -- unique, unique_consecutive -------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 0), (0, 0), (2, 0, 2)])
@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
def test_unique_dim_refuses_another_empty_dim(name, shape):
    # it gave one empty slice with count 3 (shape (3, 0)); PyTorch refuses it
    with pytest.raises(RuntimeError, match="cannot be applied"):
        getattr(torch, name)(torch.zeros(shape), dim=0)
    with pytest.raises(ValueError, match=rf"{name}: a tensor of shape \({shape[0]}, 0.*dim 0"):
        getattr(mg, name)(mg.zeros(*shape), dim=0)


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
def test_unique_dim_of_an_empty_selected_dim(name):
    values, inverse, counts = getattr(mg, name)(
        mg.zeros(0, 3), dim=0, return_inverse=True, return_counts=True
    )
    assert values.shape == (0, 3) and inverse.shape == (0,) and counts.shape == (0,)


@pytest.mark.parametrize("x_dtype, w_dtype", [("float32", "float64"), ("float16", "float32")])
def test_cov_promotes_x_with_aweights(x_dtype, w_dtype):
    # the result kept x's dtype (float32 with float64 aweights); PyTorch promotes the two
    x = np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 3.0]], dtype=x_dtype)
    w = np.array([1.0, 2.0, 0.5], dtype=w_dtype)
    ours = mg.cov(mg.tensor(x), aweights=mg.tensor(w))
    theirs = torch.cov(torch.tensor(x), aweights=torch.tensor(w))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_cov_refuses_bool():
    with pytest.raises(RuntimeError, match="bool"):
        torch.cov(torch.tensor([[True, False, True]]))
    with pytest.raises(TypeError, match=r"cov: expects numbers, got bool \(shape \(1, 3\)\)"):
        mg.cov(mg.tensor([[True, False, True]]))
