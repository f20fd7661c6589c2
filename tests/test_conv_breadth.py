"""The convolution breadth of minigrad/ops/conv.py and nn/conv.py against PyTorch:
conv_transpose1d/2d, conv3d, max_pool3d/avg_pool3d, adaptive_max_pool1d/2d and their layers.

Forward and every gradient (input, weight, bias) over a grid of options, in float32 and float64,
batched and unbatched; float64 gradcheck and gradgradcheck on small cases; the errors bad input
gets. (tests/op_cases.py holds one registry case per op besides.)"""

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

TOL = {
    "float64": {"rtol": 1e-9, "atol": 1e-10},
    "float32": {"rtol": 2e-4, "atol": 2e-5},
}


def _compare(fn, tfn, *arrays, dtype="float64"):
    """fn on minigrad tensors and tfn on PyTorch ones, all inputs differentiable: the same
    output (shape, dtype, values) and the same gradient of every input."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [mg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = fn(*xs), tfn(*ts)
    assert tuple(y.shape) == tuple(ty.shape)
    assert str(y.dtype) == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL[dtype])
    seed = np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(dtype)
    grads = mg.grad(y, xs, mg.tensor(seed))
    tgrads = torch.autograd.grad(ty, ts, torch.tensor(seed))
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        assert str(g.dtype) == dtype
        np.testing.assert_allclose(g.numpy(), tg.numpy(), err_msg=f"input {k}", **TOL[dtype])


def _valid_output_padding(stride, dilation, output_padding):
    """PyTorch's rule: per dim, output_padding below the stride or below the dilation."""
    nd = max(len(v) if isinstance(v, tuple) else 1 for v in (stride, dilation, output_padding))
    per = [v if isinstance(v, tuple) else (v,) * nd for v in (stride, dilation, output_padding)]
    return all(m < s or m < d for s, d, m in zip(*per))


# -- conv_transpose1d, conv_transpose2d ----------------------------------------------------------

TRANSPOSE2D_OPTIONS = [
    dict(zip(("stride", "padding", "output_padding", "dilation", "groups"), values))
    for values in itertools.product(
        [1, 2, (2, 3)], [0, 1, (2, 1)], [0, 1, (1, 2)], [1, (1, 2)], [1, 2]
    )
    if _valid_output_padding(values[0], values[3], values[2])
]
VARIANTS = [("float64", True), ("float32", False), ("float64", False), ("float32", True)]


def _spread(options: list[dict]) -> list[list[dict]]:
    """The option sets dealt into one list per variant after a fixed shuffle, so that no
    variant gets only one value of an option (the grid's order is periodic in each)."""
    order = np.random.default_rng(0).permutation(len(options))
    return [[options[i] for i in order[v :: len(VARIANTS)]] for v in range(len(VARIANTS))]


TRANSPOSE2D_CASES = [
    (options, variant)
    for variant, dealt in zip(VARIANTS, _spread(TRANSPOSE2D_OPTIONS))
    for options in dealt
]


@pytest.mark.parametrize("options,variant", TRANSPOSE2D_CASES, ids=str)
def test_conv_transpose2d_matches_torch_over_options(options, variant):
    dtype, batched = variant
    rng = np.random.default_rng(0)
    groups = options["groups"]
    x = rng.standard_normal((2, 4, 4, 3) if batched else (4, 4, 3))
    w, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(3 * groups)
    _compare(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **options),
        lambda x, w, b: tnf.conv_transpose2d(x, w, b, **options),
        x,
        w,
        b,
        dtype=dtype,
    )


TRANSPOSE1D_OPTIONS = [
    dict(zip(("stride", "padding", "output_padding", "dilation", "groups"), values))
    for values in itertools.product([1, 2, 3], [0, 2], [0, 1, 2], [1, 3], [1, 2])
    if _valid_output_padding(values[0], values[3], values[2])
]


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_conv_transpose1d_matches_torch_over_options(variant):
    """Each quarter of the grid in one (dtype, batched) variant; every other set without bias."""
    dtype, batched = variant
    rng = np.random.default_rng(1)
    for k, options in enumerate(_spread(TRANSPOSE1D_OPTIONS)[VARIANTS.index(variant)]):
        x = rng.standard_normal((2, 4, 5) if batched else (4, 5))
        w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal(2 * options["groups"])
        arrays = (x, w, b) if k % 2 else (x, w)
        _compare(
            lambda *a, o=options: F.conv_transpose1d(*a, **o),
            lambda *a, o=options: tnf.conv_transpose1d(*a, **o),
            *arrays,
            dtype=dtype,
        )


TRANSPOSE3D_OPTIONS = [
    {},
    {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
    {"stride": (1, 2, 3), "padding": (1, 0, 2), "output_padding": (0, 1, 2), "dilation": 2},
    {"stride": (2, 1, 1), "output_padding": (1, 1, 0), "dilation": (1, 2, 1), "groups": 2},
]


@pytest.mark.parametrize("options", TRANSPOSE3D_OPTIONS, ids=str)
@pytest.mark.parametrize("dtype,batched", [("float64", True), ("float32", False)])
def test_conv_transpose3d_matches_torch(options, dtype, batched):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 4, 3, 2, 3) if batched else (4, 3, 2, 3))
    w = rng.standard_normal((4, 2, 2, 3, 2))
    b = rng.standard_normal(2 * options.get("groups", 1))
    _compare(
        lambda x, w, b: F.conv_transpose3d(x, w, b, **options),
        lambda x, w, b: tnf.conv_transpose3d(x, w, b, **options),
        x,
        w,
        b,
        dtype=dtype,
    )


def test_conv_transpose_is_the_input_gradient_of_conv():
    """conv_transpose2d(g, W) = d<conv2d(x, W), g>/dx, output_padding picking x's size."""
    rng = np.random.default_rng(2)
    options = {"stride": (3, 2), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    w = mg.tensor(rng.standard_normal((4, 3, 2, 3)))
    for size in ((8, 7), (9, 8), (10, 8)):  # three input sizes conv2d maps to one output size
        x = mg.tensor(rng.standard_normal((2, 6, *size)), requires_grad=True)
        y = F.conv2d(x, w, **options)
        g = mg.tensor(rng.standard_normal(tuple(y.shape)))
        (dx,) = mg.grad(y, [x], g)
        natural = [(o - 1) * s - 2 * p + d * (k - 1) + 1 for o, s, p, d, k in zip(
            y.shape[2:], (3, 2), (1, 0), (1, 2), (2, 3)
        )]  # fmt: skip
        more = tuple(n - m for n, m in zip(size, natural))
        np.testing.assert_allclose(
            F.conv_transpose2d(g, w, output_padding=more, **options).numpy(),
            dx.numpy(),
            rtol=1e-12,
            atol=1e-12,
        )


def test_conv_transpose_output_padding_past_the_padding_is_bias_only():
    """output_padding 2 > padding 0 (dilation 3 allows it): two trailing positions only the bias
    reaches; their gradient reaches neither input nor weight."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((1, 2, 3)), rng.standard_normal((2, 1, 2)), np.array([5.0])
    options = {"stride": 1, "padding": 0, "output_padding": 2, "dilation": 3}
    y = F.conv_transpose1d(mg.tensor(x), mg.tensor(w), mg.tensor(b), **options)
    np.testing.assert_array_equal(y.numpy()[0, 0, -2:], [5.0, 5.0])
    _compare(
        lambda x, w, b: F.conv_transpose1d(x, w, b, **options),
        lambda x, w, b: tnf.conv_transpose1d(x, w, b, **options),
        x,
        w,
        b,
    )


def test_conv_transpose_of_an_empty_batch():
    rng = np.random.default_rng(4)
    _compare(
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: tnf.conv_transpose2d(x, w, stride=2),
        np.zeros((0, 3, 2, 2)),
        rng.standard_normal((3, 2, 2, 2)),
    )


# -- conv3d --------------------------------------------------------------------------------------

CONV3D_OPTIONS = [
    dict(zip(("stride", "padding", "dilation", "groups"), values))
    for values in itertools.product(
        [1, (1, 2, 1)], [0, (1, 0, 2), "same", "valid"], [1, (2, 1, 1)], [1, 2]
    )
    if not (values[1] == "same" and values[0] != 1)
]


CONV3D_CASES = [
    (options, variant)
    for variant, dealt in zip(VARIANTS, _spread(CONV3D_OPTIONS))
    for options in dealt
]


@pytest.mark.parametrize("options,variant", CONV3D_CASES, ids=str)
def test_conv3d_matches_torch_over_options(options, variant):
    dtype, batched = variant
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 5, 4, 5) if batched else (4, 5, 4, 5))
    w, b = rng.standard_normal((4, 4 // options["groups"], 2, 3, 2)), rng.standard_normal(4)
    _compare(
        lambda x, w, b: F.conv3d(x, w, b, **options),
        lambda x, w, b: tnf.conv3d(x, w, b, **options),
        x,
        w,
        b,
        dtype=dtype,
    )


# -- max_pool3d, avg_pool3d ----------------------------------------------------------------------

POOL3D_OPTIONS = [
    {"kernel_size": 2},
    {"kernel_size": (3, 2, 2), "stride": (2, 1, 2), "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": (1, 0, 1)},
]


@pytest.mark.parametrize("options", POOL3D_OPTIONS, ids=str)
@pytest.mark.parametrize("dtype,batched", [("float64", True), ("float32", False)])
def test_pool3d_matches_torch(options, dtype, batched):
    x = np.random.default_rng(6).permutation(2 * 2 * 5 * 6 * 5).reshape(2, 2, 5, 6, 5) / 7.0
    x = x if batched else x[0]
    _compare(
        lambda x: F.max_pool3d(x, dilation=(1, 2, 1), **options),
        lambda x: tnf.max_pool3d(x, dilation=(1, 2, 1), **options),
        x,
        dtype=dtype,
    )
    y, index = F.max_pool3d(mg.tensor(x), return_indices=True, **options)
    ty, tindex = tnf.max_pool3d(torch.tensor(x), return_indices=True, **options)
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    for include, divisor in ((True, None), (False, None), (True, 5)):
        _compare(
            lambda x, i=include, d=divisor: F.avg_pool3d(
                x, count_include_pad=i, divisor_override=d, **options
            ),
            lambda x, i=include, d=divisor: tnf.avg_pool3d(
                x, count_include_pad=i, divisor_override=d, **options
            ),
            x,
            dtype=dtype,
        )


# -- adaptive_max_pool1d, adaptive_max_pool2d ----------------------------------------------------


@pytest.mark.parametrize(
    "shape,out",
    [((2, 3, 7, 6), (3, 4)), ((2, 3, 5, 5), 5), ((1, 2, 4, 3), (7, 5)), ((3, 9, 4), (2, None))],
    ids=str,
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adaptive_max_pool2d_matches_torch(shape, out, dtype):
    """Bins floor(i L / out) .. ceil((i + 1) L / out): overlapping, as large as the input or
    larger; integer values so that ties pick PyTorch's first maximum, gradients included."""
    x = np.random.default_rng(7).integers(0, 4, shape).astype(dtype)
    y, index = F.adaptive_max_pool2d(mg.tensor(x), out, return_indices=True)
    ty, tindex = tnf.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    assert index.dtype == mg.int64
    _compare(
        lambda x: F.adaptive_max_pool2d(x, out),
        lambda x: tnf.adaptive_max_pool2d(x, out),
        x,
        dtype=dtype,
    )


@pytest.mark.parametrize("size,out", [(7, 3), (5, 5), (4, 7), (9, 1), (10, 4)])
@pytest.mark.parametrize("batched", [True, False])
def test_adaptive_max_pool1d_matches_torch(size, out, batched):
    x = np.random.default_rng(8).integers(0, 3, (2, 3, size)).astype(np.float64)
    x = x if batched else x[0]
    _compare(
        lambda x: F.adaptive_max_pool1d(x, out),
        lambda x: tnf.adaptive_max_pool1d(x, out),
        x,
    )
    pairs = (  # torch.adaptive_max_pool1d and the _with_indices forms: (values, indices)
        (
            mg.adaptive_max_pool1d(mg.tensor(x), out),
            torch.adaptive_max_pool1d(torch.tensor(x), out),
        ),
        (
            F.adaptive_max_pool1d_with_indices(mg.tensor(x), out),
            tnf.adaptive_max_pool1d_with_indices(torch.tensor(x), out),
        ),
    )
    for (y, index), (ty, tindex) in pairs:
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        np.testing.assert_array_equal(index.numpy(), tindex.numpy())
    x2 = np.stack([x, x[..., ::-1]], -2)  # (..., 2, size)
    y, index = F.adaptive_max_pool2d_with_indices(mg.tensor(x2), (1, out))
    ty, tindex = tnf.adaptive_max_pool2d_with_indices(torch.tensor(x2), (1, out))
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


@pytest.mark.parametrize("out", [(2, 3, 4), 3, (None, 2, 5)], ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_adaptive_pool3d_matches_torch(out, batched):
    x = np.random.default_rng(13).integers(0, 4, (2, 2, 5, 4, 3)).astype(np.float64)
    x = x if batched else x[0]
    for fn, tfn in (
        (F.adaptive_max_pool3d, tnf.adaptive_max_pool3d),
        (F.adaptive_avg_pool3d, tnf.adaptive_avg_pool3d),
    ):
        _compare(lambda x: fn(x, out), lambda x: tfn(x, out), x)  # noqa: B023 (called at once)
    y, index = F.adaptive_max_pool3d_with_indices(mg.tensor(x), out)
    ty, tindex = tnf.adaptive_max_pool3d(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


def test_adaptive_max_pool_takes_the_last_nan_and_first_of_minus_inf():
    x = np.full((1, 2, 5, 7), -np.inf)
    x[0, 0, 4, 6] = 1.0
    x[0, 1, :, 0] = [np.nan, 1.0, np.nan, 2.0, np.nan]
    x[0, 1, 2, 5] = np.nan
    y, index = F.adaptive_max_pool2d(mg.tensor(x), (2, 3), return_indices=True)
    ty, tindex = tnf.adaptive_max_pool2d(torch.tensor(x), (2, 3), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(index.numpy(), tindex.numpy())


# -- second derivatives, finite differences ------------------------------------------------------

GRADCHECKS = {
    "conv_transpose1d-output-padding-past-padding": (
        lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, output_padding=1, dilation=2),
        [(1, 2, 3), (2, 1, 2), (1,)],
    ),
    "conv_transpose1d-groups": (
        lambda x, w, b: F.conv_transpose1d(
            x, w, b, stride=3, padding=1, output_padding=2, groups=2
        ),
        [(2, 4, 3), (4, 1, 2), (2,)],
    ),
    "conv_transpose2d": (
        lambda x, w, b: F.conv_transpose2d(
            x, w, b, stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2)
        ),
        [(3, 2, 3), (3, 2, 2, 2), (2,)],
    ),
    "conv_transpose3d": (
        lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 1), output_padding=(1, 0, 0)),
        [(1, 2, 2, 2), (1, 2, 2, 1, 2), (2,)],
    ),
    "conv3d": (
        lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding="valid", groups=2),
        [(1, 2, 3, 4, 3), (2, 1, 2, 2, 2), (2,)],
    ),
    "conv3d-same-dilated": (
        lambda x, w: F.conv3d(x, w, padding="same", dilation=(2, 1, 1)),
        [(2, 3, 3, 3), (1, 2, 2, 2, 1)],
    ),
    "max_pool3d": (lambda x: F.max_pool3d(x, 2, 1, padding=1), [(1, 1, 3, 3, 4)]),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, (1, 2, 1), ceil_mode=True), [(1, 2, 3, 3, 3)]),
    "adaptive_max_pool1d": (lambda x: F.adaptive_max_pool1d(x, 4), [(2, 7)]),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (2, 3)), [(1, 2, 5, 4)]),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, (2, 1, 3)), [(1, 3, 2, 4)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck_and_gradgradcheck(name):
    """Distinct values (a permutation) keep every maximum away from a tie."""
    fn, shapes = GRADCHECKS[name]
    rng = np.random.default_rng(9)
    inputs = [
        mg.tensor(rng.permutation(math.prod(s)).reshape(s) / 3.0 + 0.1, requires_grad=True)
        for s in shapes
    ]
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


# -- layers ----------------------------------------------------------------------------------------

LAYERS = [
    ("ConvTranspose1d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}, (2, 4, 5)),
    ("ConvTranspose1d", (2, 3, 2), {"dilation": 3, "output_padding": 2, "bias": False}, (2, 5)),
    ("ConvTranspose2d", (4, 2, (3, 2)), {"stride": (2, 3), "padding": (1, 0), "dilation": (1, 2)}, (2, 4, 4, 3)),
    ("ConvTranspose3d", (2, 4, (2, 1, 2)), {"stride": 2, "output_padding": (1, 0, 1), "groups": 2}, (2, 2, 3, 2, 2)),
    ("Conv3d", (2, 4, (2, 3, 2)), {"stride": (1, 2, 1), "padding": 1, "groups": 2}, (2, 2, 4, 5, 4)),
    ("Conv3d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect", "bias": False}, (2, 4, 4, 4)),
    ("Conv3d", (2, 2, 2), {"padding": 1, "padding_mode": "circular", "dilation": 2}, (1, 2, 3, 4, 3)),
    ("MaxPool3d", (2,), {"stride": 1, "padding": 1}, (2, 2, 3, 4, 3)),
    ("AvgPool3d", ((2, 3, 2),), {"count_include_pad": False, "padding": 1}, (2, 3, 4, 5)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((2, None),), {}, (3, 5, 7)),
    ("AdaptiveMaxPool3d", ((2, 3, None),), {}, (2, 3, 4, 5, 2)),
    ("AdaptiveAvgPool3d", (2,), {}, (3, 4, 5, 3)),
]  # fmt: skip


def _copy_from_torch(module, tmodule):
    module.load_state_dict(
        {k: mg.tensor(v.detach().numpy()) for k, v in tmodule.state_dict().items()}
    )


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch_with_its_state_dict(name, args, kwargs, shape):
    conv = name.startswith("Conv")
    layer = getattr(nn, name)(*args, **kwargs, **({"dtype": mg.float64} if conv else {}))
    tlayer = getattr(torch.nn, name)(*args, **kwargs, **({"dtype": torch.float64} if conv else {}))
    assert repr(layer).replace("'", "") == repr(tlayer)
    names = [(n, tuple(p.shape)) for n, p in layer.named_parameters()]
    assert names == [(n, tuple(p.shape)) for n, p in tlayer.named_parameters()]
    _copy_from_torch(layer, tlayer)
    x = np.random.default_rng(10).permutation(math.prod(shape)).reshape(shape) / 5.0
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = layer(xm), tlayer(xt)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL["float64"])
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), **TOL["float64"])
    for (n, p), tp in zip(layer.named_parameters(), tlayer.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=n, **TOL["float64"])


@pytest.mark.parametrize("output_size", [(9, 10), (10, 9), [2, 3, 10, 10], (3, 9, 9)], ids=str)
def test_conv_transpose_layer_output_size_picks_the_output_padding(output_size):
    layer = nn.ConvTranspose2d(4, 3, (3, 2), stride=2, padding=1, dilation=(1, 2), dtype=mg.float64)
    tlayer = torch.nn.ConvTranspose2d(
        4, 3, (3, 2), stride=2, padding=1, dilation=(1, 2), dtype=torch.float64
    )
    _copy_from_torch(layer, tlayer)
    x = np.random.default_rng(11).standard_normal(
        (2, 4, 5, 5) if len(output_size) != 3 else (4, 5, 5)
    )
    y, ty = layer(mg.tensor(x), output_size=output_size), tlayer(torch.tensor(x), output_size)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL["float64"])


def test_conv_transpose_initialization_is_torchs_distribution():
    """U(-b, b), b = 1/sqrt(fan_in), fan_in = out_channels / groups * prod(kernel) (PyTorch's
    fan of the (in, out / groups, *kernel) weight), for weight and bias."""
    mg.manual_seed(0)
    layer = nn.ConvTranspose2d(8, 64, 3, groups=2)
    assert tuple(layer.weight.shape) == (8, 32, 3, 3) and layer.weight.dtype == mg.float32
    bound = 1 / math.sqrt(32 * 9)
    for p in (layer.weight, layer.bias):
        a = p.numpy()
        assert a.min() >= -bound and a.max() <= bound
    w, b = layer.weight.numpy().ravel(), layer.bias.numpy()
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-b, b)
    assert b.max() - b.min() > bound  # spread over the range, not the in_channels fan's


# -- bad input -------------------------------------------------------------------------------------


def test_conv_transpose_refuses_bad_shapes_naming_them():
    x, w = mg.randn(2, 3, 5), mg.randn(4, 2, 3)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3, 5\) has 3 channels.*\(4, 2, 3\) expects 4"):
        F.conv_transpose1d(x, w)
    with pytest.raises(
        mg.ShapeError, match=r"in_channels 3 \(weight of shape \(3, 2, 3\)\).*groups=2"
    ):
        F.conv_transpose1d(x, mg.randn(3, 2, 3), groups=2)
    with pytest.raises(mg.ShapeError, match=r"bias must have shape \(4,\).*got \(2,\)"):
        F.conv_transpose1d(mg.randn(2, 4, 5), w, mg.randn(2), groups=2)
    with pytest.raises(mg.ShapeError, match=r"weight must be 4-D \(in_channels.*\(4, 2, 3\)"):
        F.conv_transpose2d(mg.randn(1, 4, 3, 3), w)
    with pytest.raises(mg.ShapeError, match=r"input of shape \(3, 5\) has 3 channels"):
        F.conv_transpose1d(mg.randn(3, 5), w)  # unbatched: its own shape in the message
    with pytest.raises(mg.ShapeError, match=r"3-D \(unbatched\) or 4-D.*\(4, 5\)"):
        F.conv_transpose2d(mg.randn(4, 5), mg.randn(4, 2, 3, 3))
    with pytest.raises(mg.ShapeError, match=r"\(1, 4, 0\) has an empty spatial dim"):
        F.conv_transpose1d(mg.randn(1, 4, 0), w)
    with pytest.raises(mg.ShapeError, match=r"output would have size \(-1,\).*\(1, 4, 1\)"):
        F.conv_transpose1d(mg.randn(1, 4, 1), mg.randn(4, 2, 1), padding=1)


def test_conv_transpose_refuses_bad_options():
    x, w = mg.randn(1, 4, 5, 5), mg.randn(4, 2, 3, 3)
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than either "
                       r"stride \(2, 2\) or dilation \(1, 1\)"):  # fmt: skip
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"output_padding \(0, 1\)"):
        F.conv_transpose2d(x, w, output_padding=(0, 1))
    assert tuple(F.conv_transpose2d(x, w, output_padding=1, dilation=2).shape) == (1, 2, 10, 10)
    with pytest.raises(ValueError, match="groups must be a positive int, got 0"):
        F.conv_transpose2d(x, w, groups=0)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(ValueError, match="padding must be an int or 2 ints"):
        F.conv_transpose2d(x, w, padding="same")
    with pytest.raises(TypeError, match="float32.*float64"):
        F.conv_transpose2d(x.double(), w)
    with pytest.raises(mg.DTypeError, match="floating point"):
        F.conv_transpose2d(mg.ones(1, 4, 5, 5, dtype=mg.int64), w)


def test_conv3d_and_pool3d_refuse_bad_input():
    x = mg.randn(1, 2, 4, 4, 4, requires_grad=True)
    with pytest.raises(mg.ShapeError, match=r"\(1, 2, 4, 4, 4\) has 2 channels.*\(3, 3, 2, 2, 2\)"):
        F.conv3d(x, mg.randn(3, 3, 2, 2, 2))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv3d(x, mg.randn(3, 2, 2, 2, 2), stride=2, padding="same")
    with pytest.raises(mg.ShapeError, match=r"4-D \(unbatched\) or 5-D.*\(2, 4, 4\)"):
        F.max_pool3d(mg.randn(2, 4, 4), 2)
    with pytest.raises(ValueError, match="kernel_size must be an int or 3 ints"):
        F.avg_pool3d(x, (2, 2))
    assert x.grad is None  # the refusals built nothing


def test_adaptive_max_pool_refuses_bad_input():
    x = mg.randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match="output_size must be >= 0"):
        F.adaptive_max_pool2d(x, (-1, 2))
    with pytest.raises(ValueError, match="output_size must be an int or 2 ints"):
        F.adaptive_max_pool2d(x, (2, 2, 2))
    with pytest.raises(mg.ShapeError, match=r"\(2, 0\) has an empty spatial dim"):
        F.adaptive_max_pool1d(mg.randn(2, 0), 2)
    with pytest.raises(mg.DTypeError, match="floating point"):
        F.adaptive_max_pool1d(mg.ones(2, 4, dtype=mg.int64), 2)


def test_conv_transpose_layers_refuse_bad_arguments():
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="padding must be ints, got 'same'"):
        nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match=r"in_channels 3 and out_channels 4 .* groups=2"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    layer = nn.ConvTranspose2d(2, 2, 3, stride=2)
    before = layer.weight.numpy().copy()
    with pytest.raises(
        ValueError, match=r"output size of \(13, 11\).*from \(11, 11\) to \(12, 12\)"
    ):
        layer(mg.randn(1, 2, 5, 5), output_size=(13, 11))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(mg.randn(1, 2, 5, 5), output_size=(11,))
    np.testing.assert_array_equal(layer.weight.numpy(), before)
    assert layer.weight.grad is None
