"""The small-array paths of the row kernels in ``minigrad.backend`` agree with their large-array
(threaded, NumPy-reduction) paths and with the ops' documented edge cases."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

BIG = mg.backend.PARALLEL_MIN_SIZE  # from here the row kernels take their block path


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")


def _reference_int_range(arr: np.ndarray, skip: int | None) -> tuple[int, int, bool]:
    kept = arr[arr != skip] if skip is not None else arr.ravel()
    skipped = kept.size < arr.size
    if kept.size == 0:
        return 0, -1, skipped
    return int(kept.min()), int(kept.max()), skipped


@pytest.mark.parametrize("size", [1, 8, mg.backend.INT_RANGE_LIST_SIZE, 1000])
@pytest.mark.parametrize("skip", [None, -100, 0, 4, 9])
def test_int_range_on_both_sides_of_its_list_size(size: int, skip: int | None) -> None:
    ids = np.random.default_rng(size).integers(0, 10, size=size)
    for arr in (ids, ids.reshape(1, -1, 1), ids[::-1]):
        assert mg.backend.int_range(arr, skip) == _reference_int_range(arr, skip)
    every = np.full(size, 4)
    lo, hi, skipped = mg.backend.int_range(every, 4)
    assert skipped and lo > hi  # every element skipped: an empty range


@pytest.mark.parametrize("n", [4, BIG // 4])  # the one-block path and the block path
def test_log_softmax_dead_rows_and_the_lowest_finite_max(threads, n: int) -> None:
    """A row of only -inf gives 0 and a zero gradient; a row whose max is the lowest finite
    value is alive (the kernels find dead rows by a zero sum of exp)."""
    low = np.finfo(np.float32).min
    x = np.zeros((4, n), dtype=np.float32)
    x[0] = -np.inf
    x[1] = -np.inf
    x[1, 1] = low
    x[2] = np.arange(n, dtype=np.float32) / n
    x[3, 0] = -np.inf
    t = mg.tensor(x, requires_grad=True)
    out = mg.log_softmax(t, 1)
    out.backward(mg.ones_like(out))
    got = out.numpy()
    assert (got[0] == 0).all() and (t.grad.numpy()[0] == 0).all()
    assert got[1, 1] == 0 and got[1, 0] == -np.inf  # alive: one entry takes all the mass
    np.testing.assert_allclose(np.exp(got[2:]).sum(1), 1.0, rtol=1e-5)
    p = mg.softmax(mg.tensor(x), 1).numpy()
    assert (p[0] == 0).all() and p[1, 1] == 1
    np.testing.assert_allclose(p[2:], np.exp(got[2:]), rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_reads_target_logits_in_any_layout(order: str, reduction: str) -> None:
    """The target logits are read and the gradient written by flat position, which needs
    C-contiguous rows; Fortran-ordered and strided logits give the same loss and gradient."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    target = mg.tensor(rng.integers(0, 5, size=6))
    expected = None
    for logits in (x, np.asarray(x, order=order), np.repeat(x, 2, axis=1)[:, ::2]):
        t = mg.tensor(logits, requires_grad=True)
        loss = mg.cross_entropy(t, target, reduction=reduction)
        loss.sum().backward()
        picked = x[np.arange(6), target.numpy()]
        lse = np.log(np.exp(x).sum(1))
        want = {"mean": (lse - picked).mean(), "sum": (lse - picked).sum()}.get(
            reduction, lse - picked
        )
        np.testing.assert_allclose(loss.numpy(), want, rtol=1e-12)
        if expected is None:
            expected = t.grad.numpy()
        np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_cross_entropy_loss_is_a_0d_array_of_the_logits_dtype() -> None:
    for dtype in (mg.float32, mg.float64):
        logits = mg.zeros((3, 4), dtype=dtype)
        for reduction in ("mean", "sum"):
            loss = mg.cross_entropy(logits, mg.tensor([0, 1, 3]), reduction=reduction)
            assert loss.shape == () and loss.dtype == dtype
            assert loss.array.__class__ is logits.array.__class__  # an array, not a scalar


def test_constant_is_a_read_only_0d_array_of_the_operands_dtype() -> None:
    for dtype in (np.float16, np.float32, np.float64):
        like = np.ones(3, dtype=dtype)
        c = mg.backend.constant(0.1, like)
        assert c.shape == () and c.dtype == dtype and not c.flags.writeable
        assert mg.backend.constant(0.1, like) is c  # cached
        np.testing.assert_array_equal(like * c, like * 0.1)  # as the weak Python float


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.uint64])
def test_cross_entropy_takes_class_ids_of_every_integer_dtype(dtype: type) -> None:
    """The flat positions are int64 whatever the ids' dtype (arange + uint64 would be float64)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    ids = np.array([0, 3, 1, 2, 3], dtype=dtype)
    t = mg.tensor(x, requires_grad=True)
    mg.cross_entropy(t, mg.tensor(ids)).backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(ids.astype(np.int64))).backward()
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("rows", [1, 5, mg.backend.ROW_STARTS_CACHED + 1])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64])
def test_row_positions_are_fresh_int64_arrays_on_both_sides_of_the_cached_size(
    rows: int, dtype: type
) -> None:
    """``i * classes + ids[i]`` as int64, a new writable array at each call: the cached row
    starts of small batches are neither handed out nor changed by a write into a result."""
    ids = np.random.default_rng(rows).integers(0, 7, size=rows).astype(dtype)
    expected = np.arange(rows, dtype=np.int64) * 7 + ids.astype(np.int64)
    first = mg.backend.row_positions(ids, 7)
    assert first.dtype == np.int64 and first.flags.writeable
    np.testing.assert_array_equal(first, expected)
    first += 1000  # a caller writing into its positions
    second = mg.backend.row_positions(ids, 7)
    assert second is not first
    np.testing.assert_array_equal(second, expected)


def test_cross_entropy_gradient_when_a_hook_unpacks_saved_arrays_in_another_layout() -> None:
    """A saved-tensor hook may give back a transposed view (same shape and dtype): the gradient,
    written by flat position into softmax(logits), is still right."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((4, 3))
    target = np.array([0, 2, 1, 2])
    t = mg.tensor(x, requires_grad=True)
    with mg.saved_tensors_hooks(
        lambda s: s.numpy().copy(), lambda p: mg.tensor(np.ascontiguousarray(p.T)).T
    ):
        loss = mg.cross_entropy(t, mg.tensor(target))
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(target)).backward()
    np.testing.assert_allclose(t.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("a", [np.array([True, True]), np.full(3, 100, np.int8), np.ones(4)])
def test_total_and_reduce_sum_have_the_dtype_of_sum(a: np.ndarray) -> None:
    for got in (mg.backend.total(a), mg.backend.reduce_sum(a, None, False)):
        want = a.sum()
        assert isinstance(got, np.ndarray) and got.shape == ()
        assert got.dtype == want.dtype and got == want


def test_constant_keeps_the_sign_of_zero() -> None:
    like = np.ones(2, dtype=np.float32)
    assert not np.signbit(mg.backend.constant(0.0, like))
    assert np.signbit(mg.backend.constant(-0.0, like))
    assert not np.signbit(mg.backend.constant(0.0, like))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
@pytest.mark.parametrize(
    "shape",
    [
        (8, 8),
        (3, 5, 7),
        (0, 4),
        (4, 0),
        (2, 0, 3),
        (6,),
        (2, mg.backend.BLAS_ROW_SUM_LENGTH + 1),
        (1, mg.backend.BLAS_ROW_SUM_SIZE + 1),
    ],
)
def test_row_sum_agrees_with_numpy_sum_for_every_spelling_of_the_last_dim(
    shape: tuple[int, ...], dtype: type
) -> None:
    """Sums over the last dim go through BLAS (float32/64, rows up to BLAS_ROW_SUM_LENGTH,
    BLAS_ROW_SUM_SIZE elements in all), the rest through add.reduce: same values up to
    rounding, same shape and dtype, a new array."""
    x = (np.random.default_rng(1).standard_normal(shape) * 4).astype(dtype)
    last = x.ndim - 1
    layouts = [x, np.asfortranarray(x), x[..., ::-1]]  # the last: not C-contiguous
    rtol = {np.float16: 1e-2, np.float32: 1e-5}.get(dtype, 1e-12)
    for arr in layouts:
        want = arr.sum(axis=-1, keepdims=True)
        for dims in (-1, last, (last,)):
            got = mg.backend.row_sum(arr, dims)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert got.flags.writeable  # a new array (for 3-D a view of one): no input's memory
            assert not np.shares_memory(got, arr)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 8)
    if x.ndim > 1 and x.shape[0] > 1:  # another dim: not the last one, add.reduce
        np.testing.assert_allclose(
            mg.backend.row_sum(x, 0), x.sum(axis=0, keepdims=True), rtol=rtol, atol=rtol * 8
        )


def test_row_sum_propagates_nan_and_inf_as_sum_does() -> None:
    x = np.ones((4, 8), dtype=np.float32)
    x[0, 3] = np.nan
    x[1, 2] = np.inf
    x[2, 1], x[2, 5] = np.inf, -np.inf
    with np.errstate(invalid="ignore"):  # inf - inf, as NumPy's sum warns too
        got = mg.backend.row_sum(x, -1)[:, 0]
    assert np.isnan(got[0]) and got[1] == np.inf and np.isnan(got[2]) and got[3] == 8


@pytest.mark.parametrize(
    "n", [8, mg.backend.BLAS_ROW_SUM_LENGTH, mg.backend.BLAS_ROW_SUM_LENGTH + 1]
)
def test_row_sum_of_float32_rows_stays_within_three_epsilons(n: int) -> None:
    """Equal values are BLAS's worst case (its error grows with the row's length): up to the
    length it takes, the sum stays within 3 float32 epsilons of the exact one."""
    x = np.full((4, n), 0.1, dtype=np.float32)
    exact = x.astype(np.float64).sum(axis=-1, keepdims=True)
    error = np.abs(mg.backend.row_sum(x, -1) - exact).max() / exact.max()
    assert error <= 3 * np.finfo(np.float32).eps


def test_equal_entries_of_a_small_row_stay_equal_through_the_row_kernels() -> None:
    """Each row gets one sum: softmax, log_softmax and layer_norm map equal entries of a row to
    equal values, so argmax breaks a tie at the first index, as PyTorch. A square matrix of
    ones (each sum repeated along its row) had BLAS add the copies in different orders: on
    (1, 5) float32, log_softmax's two maxima differed by an ulp and argmax gave 4, not 0."""
    rng = np.random.default_rng(1)
    for dtype in (np.float32, np.float64):
        for cols in range(2, 65):
            for rows in (1, 2, 3, 4, 5, 6, 8, 16, 64):
                x = rng.standard_normal((rows, cols)).astype(dtype)
                x[:, 0] = x[:, -1] = 5.0  # two equal maxima in each row
                t = mg.tensor(x)
                for out in (t.softmax(-1), t.log_softmax(-1), mg.layer_norm(t, cols)):
                    y = out.numpy()
                    assert (y[:, 0] == y[:, -1]).all(), (dtype, rows, cols)
                    assert (y.argmax(-1) == 0).all()
                if torch is not None:  # the oracle's tie: its first index too
                    want = torch.from_numpy(x).log_softmax(-1).argmax(-1).numpy()
                    np.testing.assert_array_equal(t.log_softmax(-1).numpy().argmax(-1), want)
