"""Convolution and pooling (minigrad/ops/conv.py, nn/conv.py) against PyTorch: outputs and
gradients in float64, return_indices, the layers' parameters and initialization, padding
modes, second derivatives through a layer, and the errors bad input gets.

The registry (tests/op_cases.py) gradchecks, gradgradchecks and fuzzes every op on a few
option sets; the sweep here covers more option combinations, first order only."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")
if torch is not None:
    import torch.nn.functional as tnf

TOL = {"rtol": 1e-9, "atol": 1e-10}


def _compare(fn, tfn, *arrays):
    """fn on minigrad tensors and tfn on PyTorch ones: the same outputs and input gradients."""
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*xs), tfn(*ts)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL)
    seed = np.random.default_rng(1).standard_normal(tuple(y.shape))
    grads = mg.grad(y, xs, mg.tensor(seed))
    tgrads = torch.autograd.grad(ty, ts, torch.tensor(seed))
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), err_msg=f"input {k}", **TOL)


CONV2D_OPTIONS = [
    dict(zip(("stride", "padding", "dilation", "groups"), values))
    for values in itertools.product([1, (2, 3)], [0, (2, 1), "same"], [1, (2, 1)], [1, 2])
    if not (values[1] == "same" and values[0] != 1)
]


@pytest.mark.parametrize("options", CONV2D_OPTIONS, ids=str)
def test_conv2d_matches_torch_over_options(options):
    rng = np.random.default_rng(0)
    x, w, b = (
        rng.standard_normal((2, 4, 7, 6)),
        rng.standard_normal((6, 4, 3, 2)),
        rng.standard_normal(6),
    )
    _compare(
        lambda x, w, b: F.conv2d(x, w, b, **options),
        lambda x, w, b: tnf.conv2d(x, w, b, **options),
        x,
        w[:, : 4 // options["groups"]].copy(),
        b,
    )


@pytest.mark.parametrize("stride,padding,dilation", [(1, "valid", 3), (3, 2, 1), (2, 0, 2)])
def test_conv1d_matches_torch(stride, padding, dilation):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 2, 11)), rng.standard_normal((4, 2, 3))
    options = {"stride": stride, "padding": padding, "dilation": dilation}
    _compare(
        lambda x, w: mg.conv1d(x, w, **options), lambda x, w: tnf.conv1d(x, w, **options), x, w
    )


def test_conv_of_an_empty_batch_and_a_one_by_one_kernel():
    rng = np.random.default_rng(3)
    _compare(
        lambda x, w: mg.conv2d(x, w), lambda x, w: tnf.conv2d(x, w),
        rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((5, 3, 1, 1)),
    )  # fmt: skip
    y = mg.conv2d(mg.zeros(0, 3, 4, 4), mg.zeros(2, 3, 3, 3))
    assert tuple(y.shape) == (0, 2, 2, 2)


@pytest.mark.parametrize("nd", [1, 2])
def test_max_pool_indices_match_torch(nd):
    rng = np.random.default_rng(4)
    x = rng.permutation(2 * 3 * 7**nd).reshape((2, 3) + (7,) * nd) * 1.0
    fn, tfn = getattr(F, f"max_pool{nd}d"), getattr(tnf, f"max_pool{nd}d")
    for options in (
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 2, "ceil_mode": True},
        {"kernel_size": 2, "stride": 1, "dilation": 2},
    ):
        y, index = fn(mg.tensor(x), return_indices=True, **options)
        ty, tindex = tfn(torch.tensor(x), return_indices=True, **options)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        np.testing.assert_array_equal(index.numpy(), tindex.numpy())
        assert index.dtype == mg.int64
    y, index = fn(mg.tensor(x[0]), 2, return_indices=True)  # unbatched
    ty, tindex = tfn(torch.tensor(x[0]), 2, return_indices=True)
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


def test_max_pool_gradient_splits_nothing_at_overlaps():
    """Overlapping windows that share a maximum each add the gradient there (as PyTorch)."""
    x = np.array([[[0.0, 5.0, 1.0, 2.0, 0.5]]])
    _compare(lambda x: F.max_pool1d(x, 3, 1), lambda x: tnf.max_pool1d(x, 3, 1), x)


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool2d_with_padding_and_ceil_mode_matches_torch(include):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2, 7, 5))
    options = {"kernel_size": (3, 2), "stride": (2, 3), "padding": 1, "ceil_mode": True}
    _compare(
        lambda x: F.avg_pool2d(x, count_include_pad=include, **options),
        lambda x: tnf.avg_pool2d(x, count_include_pad=include, **options),
        x,
    )


@pytest.mark.parametrize("size,out", [(7, 3), (5, 5), (4, 7), (9, 1)])
def test_adaptive_avg_pool_matches_torch(size, out):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, size, size + 1))
    _compare(
        lambda x: F.adaptive_avg_pool2d(x, (out, None)),
        lambda x: tnf.adaptive_avg_pool2d(x, (out, None)),
        x,
    )
    _compare(
        lambda x: F.adaptive_avg_pool1d(x[0], out),
        lambda x: tnf.adaptive_avg_pool1d(x[0], out),
        x[:, :, 0],
    )


# -- layers ------------------------------------------------------------------------------------


def _copy_from_torch(module, tmodule):
    module.load_state_dict(
        {k: mg.tensor(v.detach().numpy()) for k, v in tmodule.state_dict().items()}
    )


LAYERS = [
    ("Conv1d", (3, 4, 3), {"padding": 1}, (2, 3, 6)),
    ("Conv1d", (2, 4, 4), {"padding": "same", "padding_mode": "replicate"}, (2, 2, 7)),
    ("Conv2d", (4, 6, (2, 3)), {"stride": 2, "groups": 2, "padding": 1, "padding_mode": "reflect"}, (2, 4, 5, 6)),
    ("Conv2d", (2, 2, 3), {"padding": "same", "padding_mode": "circular", "bias": False}, (1, 2, 4, 4)),
    ("Conv2d", (3, 2, 3), {"padding": "valid", "dilation": 2}, (3, 5, 6)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, (2, 3, 8)),
    ("MaxPool2d", ((2, 3),), {"ceil_mode": True}, (2, 3, 5, 7)),
    ("AvgPool1d", (3,), {"padding": 1, "count_include_pad": False}, (2, 3, 8)),
    ("AvgPool2d", (3, 2), {"divisor_override": 5}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (3, 5, 7)),
]  # fmt: skip


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch_with_its_state_dict(name, args, kwargs, shape):
    dtype = {"dtype": mg.float64} if name.startswith("Conv") else {}
    tdtype = {"dtype": torch.float64} if dtype else {}
    layer, tlayer = (
        getattr(nn, name)(*args, **kwargs, **dtype),
        getattr(torch.nn, name)(*args, **kwargs, **tdtype),
    )
    assert repr(layer).replace("'", "") == repr(tlayer)
    names = [(n, tuple(p.shape)) for n, p in layer.named_parameters()]
    assert names == [(n, tuple(p.shape)) for n, p in tlayer.named_parameters()]
    _copy_from_torch(layer, tlayer)
    x = np.random.default_rng(7).standard_normal(shape)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = layer(xm), tlayer(xt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), **TOL)
    for (n, p), tp in zip(layer.named_parameters(), tlayer.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=n, **TOL)


def test_conv_initialization_is_torchs_distribution():
    """kaiming_uniform(a=sqrt(5)): U(-b, b) with b = 1/sqrt(fan_in), for weight and bias."""
    mg.manual_seed(0)
    layer = nn.Conv2d(8, 64, 3, groups=2)
    bound = 1 / math.sqrt(4 * 9)
    for p in (layer.weight, layer.bias):
        a = p.numpy()
        assert a.min() >= -bound and a.max() <= bound
    w = layer.weight.numpy().ravel()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-b, b)
    assert layer.weight.dtype == mg.float32 and tuple(layer.weight.shape) == (64, 4, 3, 3)


def test_gradient_penalty_through_a_conv_layer_matches_torch():
    """create_graph through Conv2d, MaxPool2d and AvgPool2d: d/dW of |dy/dx|^2."""
    rng = np.random.default_rng(8)
    conv, tconv = (
        nn.Conv2d(2, 3, 3, padding=1, dtype=mg.float64),
        torch.nn.Conv2d(2, 3, 3, padding=1, dtype=torch.float64),
    )
    _copy_from_torch(conv, tconv)
    x = rng.standard_normal((2, 2, 6, 6))

    def run(lib, layer, xs):
        f = F if lib is mg else tnf
        y = f.avg_pool2d(f.max_pool2d(layer(xs).tanh(), 2, 1), 2)
        (gx,) = (mg.grad if lib is mg else torch.autograd.grad)(y.sum(), [xs], create_graph=True)
        return (gx * gx).sum()

    penalty = run(mg, conv, mg.tensor(x, requires_grad=True))
    tpenalty = run(torch, tconv, torch.tensor(x, requires_grad=True))
    np.testing.assert_allclose(penalty.item(), tpenalty.item(), rtol=1e-10)
    penalty.backward()
    tpenalty.backward()
    for p, tp in zip(conv.parameters(), tconv.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **TOL)


def test_conv_twice_differentiable_in_every_input():
    rng = np.random.default_rng(9)
    x, w, b = (
        mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 5), (2, 1, 2), (2,))
    )
    assert mg.gradgradcheck(
        lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, groups=2, dilation=2), [x, w, b]
    )


# -- bad input ---------------------------------------------------------------------------------


def test_conv_refuses_mismatched_channels_naming_the_shapes():
    x, w = mg.randn(2, 3, 5, 5), mg.randn(4, 2, 3, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3, 5, 5\).*3 channels.*\(4, 2, 3, 3\)"):
        F.conv2d(x, w)
    with pytest.raises(mg.ShapeError, match="groups=2 expects 4"):
        F.conv2d(x, w, groups=2)
    with pytest.raises(mg.ShapeError, match=r"out_channels 3.*divisible by groups=2"):
        F.conv2d(mg.randn(1, 4, 5, 5), mg.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(mg.ShapeError, match=r"bias must have shape \(4,\), got \(3,\)"):
        F.conv2d(mg.randn(1, 2, 5, 5), w, mg.randn(3))
    with pytest.raises(mg.ShapeError, match=r"weight must be 4-D.*\(4, 2, 3\)"):
        F.conv2d(x, mg.randn(4, 2, 3))
    with pytest.raises(mg.ShapeError, match=r"input of shape \(2, 5\) has 2 channels"):
        F.conv1d(mg.randn(2, 5), mg.randn(4, 3, 2))  # unbatched: its own shape in the message
    with pytest.raises(mg.ShapeError, match=r"nonempty kernel, got shape \(4, 3, 0\)"):
        F.conv1d(mg.randn(2, 3, 5), mg.randn(4, 3, 0))
    with pytest.raises(mg.ShapeError, match=r"3-D \(unbatched\) or 4-D.*\(5, 5\)"):
        F.conv2d(mg.randn(5, 5), w)


def test_conv_and_pool_refuse_bad_options():
    x, w = mg.randn(1, 2, 5, 5), mg.randn(4, 2, 3, 3)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same' or ints"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(mg.ShapeError, match=r"output would have size \(-1, -1\).*\(1, 2, 5, 5\)"):
        F.conv2d(x, w, dilation=3)
    with pytest.raises(TypeError, match="float32.*float64"):
        F.conv2d(x.double(), w)
    with pytest.raises(mg.DTypeError, match="floating point"):
        F.conv2d(mg.ones(1, 2, 5, 5, dtype=mg.int64), w)
    with pytest.raises(ValueError, match="at most half of kernel_size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        F.avg_pool2d(x, (2, 2, 2))
    with pytest.raises(mg.ShapeError, match="too small"):
        F.max_pool1d(mg.randn(1, 2, 2), 3)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(x, (-1, 2))  # 0 gives an empty output, as PyTorch


def test_conv_layers_refuse_bad_arguments():
    with pytest.raises(ValueError, match=r"in_channels 3 .* divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv1d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        nn.Conv2d(2, 2, (3, 3, 3))


def test_max_pool_takes_the_last_nan_as_pytorch():
    x = np.array([[[1.0, 2.0, np.nan, np.nan, 0.0, 5.0, np.nan, 1.0, 7.0]]])
    y, index = F.max_pool1d(mg.tensor(x), 3, 2, padding=1, return_indices=True)
    ty, tindex = tnf.max_pool1d(torch.tensor(x), 3, 2, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())
