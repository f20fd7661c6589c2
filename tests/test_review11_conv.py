"""Review 11 (r5) of the convolution breadth (minigrad/ops/conv.py): the bugs a fuzz against
PyTorch found, each pinned against PyTorch's answer.

- max pooling and adaptive max pooling of an empty batch raised NumPy's "cannot reshape array
  of size 0" (a ``-1`` in a reshape); PyTorch returns an empty output and gradient;
- adaptive average pooling of an input with an empty spatial dim returned zeros; PyTorch
  refuses it (no window), as minigrad's adaptive max pooling did;
- an adaptive pooling to ``output_size`` 0 was refused; PyTorch returns an empty output;
- ``avg_pool3d`` of an input smaller than the kernel (the padding making room) computed a
  result; PyTorch's refuses it;
- a convolution's weight with no output channels, or a transposed one's with no channels,
  failed in a NumPy reshape; a convolution of an input with an empty spatial dim computed an
  output from the padding alone; pooling an input with no channels returned an empty output;
  a 1-d adaptive pooling took ``None`` for its size: PyTorch refuses each.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")
if torch is not None:
    import torch.nn.functional as tnf


def _same_as_torch(name, shape, *args, **kwargs):
    """F.<name> and torch's on one float64 input of ``shape``: outputs (and indices), the
    gradient, and the gradient built with create_graph."""
    a = np.random.default_rng(0).standard_normal(shape)
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = getattr(F, name)(x, *args, **kwargs), getattr(tnf, name)(tx, *args, **kwargs)
    if isinstance(tout, tuple):
        (out, index), (tout, tindex) = out, tout
        assert tuple(index.shape) == tuple(tindex.shape) and str(index.dtype) == "int64"
        np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy())
    seed = np.ones(tuple(tout.shape))
    if tout.numel() == 0:  # PyTorch's backward refuses an empty output past the batch: zeros
        tg = torch.zeros(tuple(tx.shape), dtype=torch.float64)
    else:
        (tg,) = torch.autograd.grad(tout, tx, torch.tensor(seed))
    for create_graph in (False, True):
        (g,) = mg.grad(out, [x], mg.tensor(seed), retain_graph=True, create_graph=create_graph)
        assert tuple(g.shape) == tuple(tg.shape)
        np.testing.assert_allclose(g.numpy(), tg.numpy())


@pytest.mark.parametrize(
    "name, shape, args",
    [
        ("max_pool1d", (0, 2, 6), (3,)),
        ("max_pool2d", (0, 2, 5, 4), (2, 1, 1)),
        ("max_pool3d", (0, 1, 3, 4, 4), (2,)),
        ("adaptive_max_pool1d", (0, 2, 5), (3,)),
        ("adaptive_max_pool2d", (0, 2, 5, 4), ((3, None),)),
        ("adaptive_max_pool3d", (0, 2, 3, 5, 4), (2,)),
    ],
)
@pytest.mark.parametrize("return_indices", [False, True])
def test_max_pooling_of_an_empty_batch(name, shape, args, return_indices):
    _same_as_torch(name, shape, *args, return_indices=return_indices)


@pytest.mark.parametrize(
    "name, shape, size",
    [
        ("adaptive_avg_pool1d", (1, 2, 5), 0),
        ("adaptive_avg_pool2d", (1, 2, 5, 4), (0, 2)),
        ("adaptive_avg_pool3d", (2, 3, 5, 4), (2, 0, None)),
        ("adaptive_max_pool1d", (1, 2, 5), 0),
        ("adaptive_max_pool2d", (1, 2, 5, 4), (3, 0)),
        ("adaptive_max_pool3d", (1, 2, 3, 5, 4), 0),
    ],
)
def test_adaptive_pooling_to_size_zero_is_empty(name, shape, size):
    kwargs = {"return_indices": True} if "max" in name else {}
    _same_as_torch(name, shape, size, **kwargs)


@pytest.mark.parametrize(
    "name, shape",
    [
        ("adaptive_avg_pool1d", (1, 2, 0)),
        ("adaptive_avg_pool2d", (2, 3, 0)),
        ("adaptive_avg_pool3d", (1, 2, 3, 0, 4)),
    ],
)
def test_adaptive_average_pooling_refuses_an_empty_spatial_dim(name, shape):
    with pytest.raises(RuntimeError, match="non-zero size"):
        getattr(tnf, name)(torch.zeros(shape), 2)
    with pytest.raises(mg.ShapeError, match=re.escape(f"{tuple(shape)} has an empty spatial dim")):
        getattr(F, name)(mg.zeros(shape), 2)


def test_avg_pool3d_refuses_an_input_smaller_than_the_kernel():
    # padding 1 makes room for the kernel along the first dim; PyTorch's avg_pool3d still refuses
    a = np.ones((1, 1, 2, 4, 4))
    with pytest.raises(RuntimeError, match="smaller than kernel size"):
        tnf.avg_pool3d(torch.tensor(a), 3, padding=1)
    with pytest.raises(mg.ShapeError, match=r"\(1, 1, 2, 4, 4\) is smaller than kernel_size"):
        F.avg_pool3d(mg.tensor(a), 3, padding=1)
    _same_as_torch("avg_pool3d", (1, 1, 3, 4, 4), 3, padding=1)  # as large: accepted


def test_convolutions_refuse_weights_without_channels():
    x = mg.randn(1, 2, 3, 3, 3)
    with pytest.raises(mg.ShapeError, match=r"\(0, 2, 2, 2, 2\) has no output channels"):
        F.conv3d(x, mg.randn(0, 2, 2, 2, 2))
    with pytest.raises(mg.ShapeError, match=r"\(2, 0, 2\) has no channels"):
        F.conv_transpose1d(mg.randn(1, 2, 3), mg.randn(2, 0, 2))
    with pytest.raises(mg.ShapeError, match=r"\(0, 1, 2\) has no channels"):
        F.conv_transpose1d(mg.randn(1, 0, 3), mg.randn(0, 1, 2))


def test_convolution_refuses_an_empty_spatial_dim_unless_the_batch_is_empty():
    w = mg.randn(2, 2, 1, 1, 1)
    with pytest.raises(mg.ShapeError, match=r"\(1, 2, 0, 3, 3\) has an empty spatial dim"):
        F.conv3d(mg.randn(1, 2, 0, 3, 3), w, padding=1)
    with pytest.raises(mg.ShapeError, match=r"\(2, 0\) has an empty spatial dim"):
        F.conv1d(mg.randn(2, 0), mg.randn(2, 2, 1), padding=1)
    # an empty batch: PyTorch sizes the output from the padding
    y = F.conv1d(mg.randn(0, 2, 0), mg.randn(2, 2, 1), padding=1)
    assert tuple(y.shape) == tuple(
        tnf.conv1d(torch.zeros(0, 2, 0), torch.zeros(2, 2, 1), padding=1).shape
    )


@pytest.mark.parametrize(
    "name, shape, args",
    [
        ("max_pool1d", (1, 0, 4), (2,)),
        ("max_pool2d", (0, 3, 3), (2,)),
        ("max_pool3d", (1, 0, 3, 3, 3), (2,)),
        ("avg_pool1d", (1, 0, 4), (2,)),
        ("avg_pool2d", (1, 0, 3, 3), (2,)),
        ("avg_pool3d", (1, 0, 3, 3, 3), (2,)),
        ("adaptive_max_pool1d", (1, 0, 3), (2,)),
        ("adaptive_max_pool2d", (1, 0, 3, 3), (2,)),
        ("adaptive_avg_pool3d", (1, 0, 3, 3, 3), (2,)),
    ],
)
def test_pooling_refuses_an_input_without_channels(name, shape, args):
    with pytest.raises(RuntimeError):
        getattr(tnf, name)(torch.zeros(shape), *args)
    with pytest.raises(mg.ShapeError, match=re.escape(f"{tuple(shape)} has no channels")):
        getattr(F, name)(mg.zeros(shape), *args)


def test_adaptive_average_pooling_1d_2d_take_no_channels():
    _same_as_torch("adaptive_avg_pool1d", (1, 0, 5), 2)
    _same_as_torch("adaptive_avg_pool2d", (2, 0, 3, 4), 2)


@pytest.mark.parametrize("name", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
@pytest.mark.parametrize("size", [None, (None,)])
def test_adaptive_pooling_1d_refuses_none(name, size):
    with pytest.raises(TypeError):
        getattr(tnf, name)(torch.zeros(1, 2, 5), size)
    with pytest.raises(ValueError, match="output_size must be"):
        getattr(F, name)(mg.zeros(1, 2, 5), size)


@pytest.mark.parametrize(
    "name, shape, size",
    [
        ("adaptive_avg_pool1d", (1, 2, 7), 3),
        ("adaptive_avg_pool1d", (1, 2, 6), 3),  # windows that tile evenly
        ("adaptive_avg_pool2d", (2, 5, 6), (2, 4)),
        ("adaptive_avg_pool3d", (1, 2, 3, 5, 4), (2, None, 3)),
    ],
)
def test_adaptive_average_pooling_keeps_inf_and_nan_in_their_windows(name, shape, size):
    # the average was a product with a matrix of zeros outside each window: 0 * inf = NaN
    # spread an inf or a NaN to every window of its row
    a = np.random.default_rng(0).standard_normal(shape)
    a.reshape(-1)[[1, 4, 9]] = np.inf, -np.inf, np.nan
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = getattr(F, name)(x, size), getattr(tnf, name)(tx, size)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    assert 0 < np.isfinite(y.numpy()).sum() < y.numpy().size
    (g,) = mg.grad(y, [x], mg.ones_like(y))
    (tg,) = torch.autograd.grad(ty, tx, torch.ones(ty.shape, dtype=torch.float64))
    np.testing.assert_allclose(g.numpy(), tg.numpy())


@pytest.mark.parametrize("layer", ["Conv1d", "Conv3d", "ConvTranspose2d", "ConvTranspose3d"])
@pytest.mark.parametrize("kernel_size", [0, -1, (2, 0, 1)])
def test_conv_layers_refuse_an_empty_kernel_clearly(layer, kernel_size):
    # was a ZeroDivisionError from the initialization's fan-in (or NumPy's "negative sizes")
    nd = int(layer[-2])
    if isinstance(kernel_size, tuple):
        kernel_size = kernel_size[:nd] if nd > 1 else kernel_size[1:2]
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        getattr(nn, layer)(2, 4, kernel_size)


def test_conv_layers_take_numpy_integers_as_pytorch():
    # was TypeError: 'numpy.int64' object is not iterable
    layer = nn.Conv3d(2, 4, np.int64(3), stride=np.int64(2), padding=(np.int64(1),) * 3)
    reference = torch.nn.Conv3d(2, 4, np.int64(3), stride=np.int64(2), padding=1)
    assert layer.kernel_size == (3, 3, 3) and layer.stride == (2, 2, 2)
    assert tuple(layer.weight.shape) == tuple(reference.weight.shape)
    assert tuple(nn.ConvTranspose1d(2, 4, (np.int64(3),)).weight.shape) == (2, 4, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or 3 ints, got 3.0"):
        nn.Conv3d(2, 4, 3.0)


@pytest.mark.parametrize(
    "name, shape, size",
    [
        ("adaptive_avg_pool1d", (2, 7), 3),
        ("adaptive_avg_pool2d", (1, 2, 6, 5), (3, 4)),
        ("adaptive_avg_pool3d", (1, 2, 3, 4, 5), (2, None, 3)),
    ],
)
def test_adaptive_average_pooling_gradcheck_and_gradgradcheck(name, shape, size):
    x = mg.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True)
    fn = getattr(F, name)
    assert mg.gradcheck(lambda t: fn(t, size), [x])
    assert mg.gradgradcheck(lambda t: fn(t, size), [x])
