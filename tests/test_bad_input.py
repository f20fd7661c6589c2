"""Every bad input raises at once, before anything changes, with a message naming the shapes,
dtypes or devices involved.

Each ``match=`` regex checks that the offending shapes (or dtypes, devices) appear in the
message, not only the error type.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _f64(values) -> mg.Tensor:
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# =============================================================================================
# Broadcasting and matmul
# =============================================================================================


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: b + a,
        lambda a, b: b / a,
    ],
    ids=["add", "sub", "mul", "div", "radd", "rdiv"],
)
def test_broadcast_mismatch(op):
    a = mg.ones(2, 3, requires_grad=True)
    b = mg.ones(4)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\)") as info:
        op(a, b)
    assert "(4,)" in str(info.value)
    assert issubclass(mg.ShapeError, ValueError)
    np.testing.assert_array_equal(a.numpy(), np.ones((2, 3)))
    assert a.grad is None


def test_matmul_shape_mismatch():
    a = mg.ones(2, 3)
    b = mg.ones(4, 5)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4, 5\)"):
        a @ b
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        mg.matmul(a, mg.ones(4))


def test_matmul_batch_mismatch():
    a = mg.ones(2, 3, 4)
    b = mg.ones(5, 4, 6)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3, 4\).*\(5, 4, 6\)"):
        a @ b


def test_matmul_dtype_mismatch():
    with pytest.raises(TypeError, match=r"float32.*\(2, 3\).*float64.*\(3, 2\)"):
        mg.ones(2, 3) @ mg.ones(3, 2, dtype=mg.float64)


# =============================================================================================
# Indexing
# =============================================================================================


def test_int_index_out_of_range():
    x = mg.ones(3, 4)
    with pytest.raises(IndexError, match=r"size 3.*\(3, 4\)"):
        x[5]
    with pytest.raises(IndexError, match=r"size 4.*\(3, 4\)"):
        x[:, -5]


def test_integer_array_index_out_of_range():
    x = mg.ones(3, 4)
    with pytest.raises(IndexError, match=r"7.*size 3.*\(3, 4\)"):
        x[mg.tensor([0, 7])]
    with pytest.raises(IndexError, match=r"size 3.*\(3, 4\)"):
        x[[0, -4]]


def test_too_many_indices():
    x = mg.ones(3, 4)
    with pytest.raises(IndexError, match=r"too many indices.*\(3, 4\)"):
        x[0, 0, 0]


def test_boolean_mask_of_wrong_shape():
    x = mg.ones(3, 4)
    mask = mg.tensor(np.ones((2, 4), dtype=bool))
    with pytest.raises(IndexError, match=r"\(2, 4\).*\(3, 4\)"):
        x[mask]


# =============================================================================================
# Dims
# =============================================================================================


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.sum(dim=2),
        lambda x: x.sum(dim=(0, -3)),
        lambda x: x.mean(dim=-3),
        lambda x: mg.softmax(x, dim=2),
        lambda x: x.log_softmax(dim=5),
        lambda x: x.transpose(0, 2),
        lambda x: x.unsqueeze(3),
        lambda x: x.max(dim=2),
    ],
    ids=["sum", "sum-tuple", "mean", "softmax", "log_softmax", "transpose", "unsqueeze", "max"],
)
def test_dim_out_of_range(call):
    x = mg.ones(2, 3)
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        call(x)


# =============================================================================================
# Devices
# =============================================================================================
#
# CI has no GPU, so a second device is simulated honestly through the engine's real checks:
# ``_FakeCudaArray`` is a NumPy array subclass whose ``device`` says "cuda:N" (the CPU tensors
# beside it are made with device="cpu", so the tests hold on the CuPy backend too). The
# engine refuses to mix array classes (NumPy vs CuPy) and, within one class, arrays whose
# ``.device`` differ; both checks run unchanged here. ``backend.device_of`` is monkeypatched
# only so that ``Tensor.device`` (and thus the error message) reports the fake device.


class _FakeCudaArray(np.ndarray):
    """A NumPy array that claims to live on GPU ``_index``."""

    _index = 0

    @property
    def device(self):
        return f"cuda:{self._index}"


def _on_fake_gpu(values, index=0) -> mg.Tensor:
    arr = np.asarray(values, dtype=np.float32).view(_FakeCudaArray)
    arr._index = index
    return mg.Tensor._wrap(arr)  # mg.tensor() would copy it back into a plain NumPy array


@pytest.fixture
def fake_gpu(monkeypatch):
    real_device_of = mg.backend.device_of

    def device_of(arr):
        return arr.device if isinstance(arr, _FakeCudaArray) else real_device_of(arr)

    monkeypatch.setattr(mg.backend, "device_of", device_of)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a * b,
        lambda a, b: b - a,
        lambda a, b: mg.maximum(a, b),
        lambda a, b: mg.cat([a, b]),
    ],
    ids=["add", "mul", "rsub", "maximum", "cat"],
)
def test_mixed_device_op(fake_gpu, op):
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True, device="cpu")
    b = _on_fake_gpu([4.0, 5.0, 6.0])
    assert a.device == "cpu" and b.device == "cuda:0"
    with pytest.raises(RuntimeError, match=r"(cpu.*cuda:0|cuda:0.*cpu)"):
        op(a, b)
    assert a.grad is None


def test_mixed_device_matmul(fake_gpu):
    # built directly in their final shapes: an op on a fake array returns a plain NumPy array
    # (the engine only knows NumPy and CuPy array types), so b must not go through reshape
    a = mg.ones(2, 3, requires_grad=True, device="cpu")
    b = _on_fake_gpu(np.ones((3, 4)))
    with pytest.raises(RuntimeError, match=r"matmul.*cpu.*cuda:0"):
        a @ b
    assert a.grad is None


def test_mixed_gpu_devices(fake_gpu):
    a = _on_fake_gpu([1.0, 2.0], index=0)
    b = _on_fake_gpu([3.0, 4.0], index=1)
    with pytest.raises(RuntimeError, match=r"cuda:0.*cuda:1"):
        a + b


def test_mixed_device_comparison_and_index(fake_gpu):
    a = mg.tensor([1.0, 2.0], device="cpu")
    b = _on_fake_gpu([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:0"):
        _ = a < b
    index = mg.Tensor._wrap(np.array([0, 1]).view(_FakeCudaArray))
    with pytest.raises(RuntimeError, match=r"cuda:0.*cpu"):
        a[index]


# =============================================================================================
# Dtypes
# =============================================================================================


@pytest.mark.parametrize(
    "call",
    [
        mg.gelu,  # exp, log, sin, ... promote integers to float, as PyTorch (test_parity_gaps)
        lambda x: mg.softmax(x, dim=-1),
        lambda x: x.mean(),
        lambda x: mg.layer_norm(x, 3),
        lambda x: mg.cross_entropy(x, mg.tensor([0, 1])),
    ],
    ids=["gelu", "softmax", "mean", "layer_norm", "cross_entropy"],
)
def test_float_op_on_integer_tensor(call):
    x = mg.tensor([[1, 2, 3], [4, 5, 6]])
    with pytest.raises(TypeError, match="int64"):
        call(x)


# =============================================================================================
# backward()
# =============================================================================================


def test_backward_nonscalar_without_gradient():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        (x * 2.0).backward()
    assert x.grad is None


def test_backward_gradient_of_wrong_shape_changes_nothing():
    x = _f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * x
    with pytest.raises(RuntimeError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(mg.tensor(np.ones((3, 2))))
    assert x.grad is None
    # the graph was not consumed by the failed call: a correct backward still works
    y.backward(mg.tensor(np.ones((2, 3))))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_backward_gradient_of_wrong_dtype():
    x = mg.ones(2, requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"float64.*float32"):
        y.backward(mg.tensor(np.ones(2)))
    assert x.grad is None


def test_failed_backward_keeps_previous_grad():
    x = _f64([1.0, 2.0])
    (x * x).sum().backward()
    before = x.grad.numpy().copy()
    y = x * 3.0
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        y.backward()  # non-scalar, no gradient
    with pytest.raises(RuntimeError, match=r"\(5,\)"):
        y.backward(mg.tensor(np.ones(5)))
    np.testing.assert_array_equal(x.grad.numpy(), before)


def test_backward_on_integer_or_no_grad_tensor():
    with pytest.raises(RuntimeError):
        mg.tensor([1, 2]).sum().backward()
    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        mg.tensor([1.0, 2.0]).backward(mg.ones(2))


@pytest.mark.parametrize("order", ["bad-leaf-first", "good-leaf-first"])
def test_hook_returning_wrong_shape_changes_no_grad(order):
    good = _f64([1.0, 2.0])
    bad = _f64([3.0, 4.0])
    bad.register_hook(lambda g: mg.ones(3, dtype=mg.float64))
    if order == "bad-leaf-first":
        loss = bad.exp().sum() + (good * 2.0).sum()
    else:
        loss = (good * 2.0).sum() + bad.exp().sum()
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        loss.backward()
    assert good.grad is None
    assert bad.grad is None


def test_nonleaf_hook_returning_wrong_shape():
    x = _f64([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: mg.ones(2, 2, dtype=mg.float64))
    with pytest.raises(RuntimeError, match=r"\(2, 2\).*\(2,\)"):
        y.sum().backward()
    assert x.grad is None


# =============================================================================================
# Shape ops, joining
# =============================================================================================


def test_reshape_to_incompatible_shape():
    x = mg.ones(2, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        x.reshape(4)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4, -1\)"):
        x.reshape(4, -1)
    assert x.shape == (2, 3)


def test_cat_with_mismatched_shapes():
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(2, 4\)"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 4)], dim=0)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(2, 3, 1\)"):
        mg.cat([mg.ones(2, 3), mg.ones(2, 3, 1)], dim=0)


def test_cat_with_mixed_dtypes_promotes():  # as PyTorch (it refused before)
    assert mg.cat([mg.ones(2, 3), mg.ones(2, 3, dtype=mg.float64)]).dtype == mg.float64


# =============================================================================================
# embedding, cross_entropy, layer_norm
# =============================================================================================


def test_embedding_id_out_of_range():
    weight = mg.randn(5, 4, requires_grad=True)
    before = weight.numpy().copy()
    with pytest.raises(IndexError, match=r"num_embeddings = 5\), got values in \[0, 5\]"):
        mg.embedding(mg.tensor([[0, 5]]), weight)
    with pytest.raises(IndexError, match=r"got values in \[-1, 2\] \(ids of shape \(2,\)\)"):
        mg.embedding(mg.tensor([-1, 2]), weight)
    np.testing.assert_array_equal(weight.numpy(), before)
    assert weight.grad is None


def test_cross_entropy_target_out_of_range():
    logits = mg.randn(2, 3, requires_grad=True)
    with pytest.raises(IndexError, match=r"classes = 3\), got values in \[0, 3\]"):
        mg.cross_entropy(logits, mg.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"got values in \[-2, 0\]"):
        mg.cross_entropy(logits, mg.tensor([-2, 0]))
    # ids equal to ignore_index are left out of the check and of the range reported
    with pytest.raises(IndexError, match=r"got values in \[0, 5\]"):
        mg.cross_entropy(mg.randn(3, 3), mg.tensor([-100, 0, 5]), ignore_index=-100)
    with pytest.raises(IndexError, match=r"got values in \[7, 7\]"):
        mg.cross_entropy(logits, mg.tensor([9, 7]), ignore_index=9)
    assert logits.grad is None


def test_cross_entropy_target_of_wrong_shape():
    logits = mg.randn(2, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(2,\).*\(3,\)"):
        mg.cross_entropy(logits, mg.tensor([0, 1, 2]))
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(2, 2\)"):
        mg.cross_entropy(logits, mg.ones(2, 2))  # probability targets of the wrong shape


def test_layer_norm_normalized_shape_mismatch():
    x = mg.randn(2, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        mg.layer_norm(x, 4)
    with pytest.raises(mg.ShapeError, match=r"\(4,\).*\(3,\)"):
        mg.layer_norm(x, 3, weight=mg.ones(4))


# =============================================================================================
# Masks, where, clamp, dropout
# =============================================================================================


def test_masked_fill_with_non_bool_mask():
    x = mg.ones(2, 3)
    with pytest.raises(TypeError, match="int64"):
        x.masked_fill(mg.tensor([[1, 0, 1], [0, 1, 0]]), 0.0)
    with pytest.raises(TypeError, match="float32"):
        x.masked_fill(mg.ones(2, 3), 0.0)


def test_masked_fill_with_mask_that_does_not_broadcast():
    x = mg.ones(2, 3)
    mask = mg.tensor(np.ones((2, 2), dtype=bool))
    with pytest.raises(mg.ShapeError, match=r"\(2, 2\).*\(2, 3\)"):
        x.masked_fill(mask, 0.0)
    # a mask that broadcasts to a *larger* shape than the tensor broadcasts the tensor too, as
    # PyTorch's masked_fill (review r12); only the in-place form refuses, before writing
    big = mg.tensor(np.ones((4, 2, 3), dtype=bool))
    assert x.masked_fill(big, 0.0).shape == (4, 2, 3)
    with pytest.raises(RuntimeError, match=r"\(4, 2, 3\).*\(2, 3\)"):
        x.masked_fill_(big, 0.0)
    np.testing.assert_array_equal(x.numpy(), np.ones((2, 3)))


def test_where_with_non_bool_condition():
    with pytest.raises(TypeError, match="float32"):
        mg.where(mg.ones(3), mg.ones(3), mg.zeros(3))


def test_where_with_shapes_that_do_not_broadcast():
    cond = mg.tensor(np.ones((2, 3), dtype=bool))
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        mg.where(cond, mg.ones(2, 3), mg.ones(4))


def test_clamp_bounds_that_do_not_broadcast():
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        x.clamp(min=mg.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        x.clamp()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_p_outside_unit_interval(p):
    with pytest.raises(ValueError, match=str(p)):
        mg.dropout(mg.ones(4), p=p)


# =============================================================================================
# In-place updates
# =============================================================================================


def test_copy_with_wrong_shape_changes_nothing():
    x = mg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        x.copy_(mg.tensor([9.0, 9.0]))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])


def test_inplace_update_of_leaf_under_grad_mode():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x.zero_()
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    with mg.no_grad():
        x.zero_()
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("join", ["cat", "stack"])
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: [mg.ones(2), [1.0, 2.0]], r"element 1 of the sequence, got list"),
        (lambda: [mg.ones(2), 3], r"element 1 of the sequence, got int"),
        (lambda: (t for t in [mg.ones(2)]), r"list or tuple of tensors, got generator"),
        (lambda: mg.ones(2, 2), r"list or tuple of tensors, got Tensor \(a tensor: wrap it"),
    ],
)
def test_cat_and_stack_name_what_is_no_tensor(join, make, message):
    """As PyTorch (TypeError): a generator, a lone tensor or an element that is no tensor is
    refused with a message naming it (it was an AttributeError or IndexError from inside)."""
    with pytest.raises(TypeError, match=f"{join}: expected .*{message}"):
        getattr(mg, join)(make())
