"""Where CuPy needs code of its own in minigrad/backend.py (issue 17): the steps it runs are
checked here against NumPy's on the CPU, and the CuPy paths themselves by the tests marked
``gpu`` (run by .ci/gpu-check)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 2.5, -2.5, 3.0, -7.0, 0.3, -0.7, 1000.5,
           np.inf, -np.inf, np.nan]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floor_divide_by_fmod_is_numpys_floor_divide_bit_for_bit(dtype):
    """CuPy's floor_divide is floor(a / b) (1.0 // 0.1 = 10); the backend spells out NumPy's
    steps for it, and they must give NumPy's results, signed zeros and NaNs included."""
    pairs = list(itertools.product(SPECIAL + [float(np.finfo(dtype).max)], repeat=2))
    rng = np.random.default_rng(0)
    a = np.concatenate([[p[0] for p in pairs], rng.standard_normal(20000) * 10]).astype(dtype)
    b = np.concatenate([[p[1] for p in pairs], rng.standard_normal(20000) * 0.05]).astype(dtype)
    work = np.float32 if dtype == np.float16 else dtype  # as backend.floor_divide on CuPy
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = np.floor_divide(a, b)
        got = backend.floor_divide_by_fmod(np, a.astype(work), b.astype(work)).astype(dtype)
    same = (want == got) & (np.signbit(want) == np.signbit(got))
    same |= np.isnan(want) & np.isnan(got)
    assert same.all(), list(zip(a[~same][:5], b[~same][:5], want[~same][:5], got[~same][:5]))
    assert got.dtype == dtype


def test_row_segments_group_positions_by_value_in_order():
    index = np.array([4, 1, 4, 0, 1, 4, 7])
    order, rows, starts = backend.row_segments(index)
    assert rows.tolist() == [0, 1, 4, 7]
    ends = [*starts.tolist()[1:], len(index)]
    groups = [order[s:e].tolist() for s, e in zip(starts.tolist(), ends)]
    assert groups == [[3], [1, 4], [0, 2, 5], [6]]  # stable: positions in their order


def test_embedding_gradient_sums_each_rows_values(device):
    """index_rows_add: each row's sum over its positions, the same bits on every call."""
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, size=(6, 9))
    g = rng.standard_normal((6, 9, 3)).astype(np.float32)
    runs = [
        backend.to_host(backend.index_rows_add(7, mg.tensor(ids).array, mg.tensor(g).array))
        for _ in range(2)
    ]
    assert np.array_equal(runs[0], runs[1])
    want = np.zeros((7, 3))
    np.add.at(want, ids.reshape(-1), g.reshape(-1, 3).astype(np.float64))
    np.testing.assert_allclose(runs[0], want, rtol=1e-6, atol=1e-6)
    assert runs[0].dtype == np.float32 and not runs[0][[5, 6]].any()  # rows never indexed


def test_is_writable_refuses_expanded_views():
    x = mg.ones(3, 1)
    assert backend.is_writable(x.array)
    assert not backend.is_writable(x.expand(3, 4).array)


@pytest.mark.gpu
def test_embedding_gradient_is_the_same_on_every_gpu_run():
    """add.at on the GPU adds atomically, in a different order on each run; the embedding's
    backward must not: two runs give the same bits (and PyTorch's values)."""
    rng = np.random.default_rng(0)
    ids = mg.tensor(rng.integers(0, 50, size=(64, 128)))
    ids.array[:, 100:] = 0  # a long run of one id, as padding gives
    weight = mg.tensor(rng.standard_normal((50, 32)).astype(np.float32), requires_grad=True)
    g = mg.tensor(rng.standard_normal((64, 128, 32)).astype(np.float32))
    grads = []
    for _ in range(3):
        weight.grad = None
        (mg.embedding(ids, weight) * g).sum().backward()
        grads.append(weight.grad.numpy())
    assert all(np.array_equal(grads[0], other) for other in grads[1:])
    want = np.zeros((50, 32), np.float64)
    np.add.at(want, ids.numpy().reshape(-1), g.numpy().reshape(-1, 32).astype(np.float64))
    np.testing.assert_allclose(grads[0], want, rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
def test_floor_divide_on_the_gpu_is_numpys():
    a = np.array([1.0, -1.0, 7.5, -7.5, np.inf, 5.0, 0.0, -0.0, 1.0], np.float32)
    b = np.array([0.1, np.inf, 2.0, 2.0, 3.0, 0.0, -3.0, 3.0, -np.inf], np.float32)
    with np.errstate(all="ignore"):
        want = np.floor_divide(a, b)
    want[4] = np.nan  # inf // finite: NaN, as PyTorch
    got = (mg.tensor(a) // mg.tensor(b)).numpy()
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.int64])
def test_row_ranges_cover_every_row_whatever_the_index_dtype(dtype):
    """The embedding gradient's segments on CuPy (index_rows_add): row r's range holds exactly
    the positions of r, for every r < num_rows, also past the index dtype's range (a uint8 id
    tensor and 300 embeddings: rows 256.. are absent, not rows 0.. again)."""
    index = np.array([4, 1, 4, 0, 1, 4, 7, 127], dtype)
    num_rows = 70000 if dtype == np.int16 else 300
    order, starts, ends = backend.row_ranges(index, num_rows)
    assert starts.shape == ends.shape == (num_rows,)
    assert np.array_equal(ends - starts, np.bincount(index, minlength=num_rows))
    for r in (0, 1, 4, 7, 127):
        assert order[starts[r] : ends[r]].tolist() == np.flatnonzero(index == r).tolist()


def test_embedding_gradient_of_uint8_ids_leaves_the_rows_past_255_at_zero(device):
    ids = np.array([[0, 255, 3], [3, 3, 1]], np.uint8)
    g = np.arange(18, dtype=np.float32).reshape(2, 3, 3)
    got = backend.to_host(backend.index_rows_add(300, mg.tensor(ids).array, mg.tensor(g).array))
    want = np.zeros((300, 3), np.float32)
    np.add.at(want, ids.reshape(-1).astype(np.int64), g.reshape(-1, 3))
    assert np.array_equal(got, want)
