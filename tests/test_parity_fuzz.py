"""Regression tests for wrong results a differential hunt against PyTorch found: edge cases
and combinations the registry and the fuzz (tests/test_fuzz.py) did not reach (dtype promotion
with 0-d tensors, bool scalar indices, unsigned sums, NaN in full reductions, ...). Each test
compares minigrad with PyTorch on the input that exposed the bug."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _same(ours, theirs, rtol: float = 1e-12) -> None:
    theirs = theirs.detach()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=0, equal_nan=True)


# =============================================================================================
# Dtype promotion
# =============================================================================================


@pytest.mark.parametrize(
    ("left", "right"),
    [("int32", "int64"), ("uint8", "int32"), ("uint8", "int64"), ("int64", "int32")],
)
def test_integer_floor_divide_by_a_0d_tensor_keeps_the_tensor_dtype(left, right):
    # a 0-d tensor of the same category does not widen the result (NumPy's floor_divide did)
    a = np.array([[7, 0, 3], [9, 5, 6]], dtype=left)
    b = np.array(2, dtype=right)
    _same(mg.tensor(a) // mg.tensor(b), torch.tensor(a) // torch.tensor(b))
    _same(mg.tensor(b) // mg.tensor(a + 1), torch.tensor(b) // torch.tensor(a + 1))
    _same(
        mg.floor_divide(mg.tensor(a), mg.tensor(b)),
        torch.floor_divide(torch.tensor(a), torch.tensor(b)),
    )
