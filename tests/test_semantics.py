"""PyTorch's semantics where minigrad has the op (issue 16): each test runs the same program
through minigrad and PyTorch and compares values, gradients, dtypes and errors."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

# -- Tensor.data is a detached tensor sharing the memory ------------------------------------------


def test_data_is_a_detached_tensor_sharing_memory() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d, td = x.data, tx.data
    assert isinstance(d, mg.Tensor)
    assert (d.requires_grad, d.grad_fn, d.is_leaf) == (td.requires_grad, td.grad_fn, td.is_leaf)
    assert np.shares_memory(d.array, x.array)
    d.fill_(5.0)  # allowed: d does not require grad
    td.fill_(5.0)
    np.testing.assert_array_equal(x.numpy(), tx.detach().numpy())
    # the copied idioms: p.data.clone(), target.data.unsqueeze(1)
    assert x.data.clone().shape == (3,) and x.data.unsqueeze(1).shape == (3, 1)
    assert not np.shares_memory(x.data.clone().array, x.array)


def test_data_does_not_share_the_version_counter() -> None:
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        z = y.exp()  # saves its output y... and exp's output z
        z.data.fill_(2.0)  # through .data: not seen by autograd, in either library
        z.sum().backward()
        assert x.grad is not None
    # detach() shares it: the same change is seen
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    z = x.exp()
    z.detach().fill_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_data_setter_replaces_the_array_any_shape() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    new, tnew = mg.zeros(3, 2), torch.zeros(3, 2)
    x.data, tx.data = new, tnew
    assert x.shape == tuple(tx.shape) and x.requires_grad and x.is_leaf
    assert x.array is new.array  # no copy, as PyTorch shares the storage
    with pytest.raises(TypeError, match="expected a Tensor"):
        x.data = np.zeros(2)
