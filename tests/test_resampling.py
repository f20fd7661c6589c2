"""Resampling and its layers (minigrad/ops/resampling.py, nn/spatial.py) against PyTorch:
interpolate in every mode (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area,
antialias bilinear/bicubic/lanczos) over sizes, scale factors, align_corners,
recompute_scale_factor, 3-D/4-D/5-D inputs; pixel_shuffle / pixel_unshuffle, channel_shuffle;
unfold / fold; the padding layers; the deprecated upsample names.

Each compares the output and the input gradient (under one random output gradient) with
PyTorch's in float64 and float32; the adjoint identities <A x, y> = <x, A^T y> that make each
backward the other op; and the errors bad input gets, each naming the shapes. The registry
(tests/op_cases.py) gradchecks and gradgradchecks one case per op besides."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from minigrad.errors import DTypeError, ShapeError
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")
if torch is not None:
    import torch.nn.functional as tnf

TOL = {
    "float64": {"rtol": 1e-9, "atol": 1e-10},
    "float32": {"rtol": 1e-4, "atol": 1e-5},
}


def _pair(shape: tuple[int, ...], dtype: str, seed: int = 0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(fn, torch_fn, shape: tuple[int, ...], dtype: str) -> None:
    """The same output (shape, dtype, values), then the same input gradient."""
    x, tx = _pair(shape, dtype)
    y, ty = fn(x), torch_fn(tx)
    assert tuple(y.shape) == tuple(ty.shape) and str(y.dtype) == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL[dtype])
    seed_grad = np.random.default_rng(1).standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(mg.tensor(seed_grad))
    ty.backward(torch.tensor(seed_grad))
    assert str(x.grad.dtype) == dtype
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL[dtype])


# -- interpolate ------------------------------------------------------------------------------

SHAPES = {1: (2, 3, 7), 2: (2, 2, 5, 6), 3: (1, 2, 4, 3, 5)}
SIZE_OPTIONS = {  # per spatial dims: sizes and scale factors that shrink, grow, keep, mix
    1: [{"size": 12}, {"size": 3}, {"size": 7}, {"size": 1}, {"scale_factor": 2.5},
        {"scale_factor": 0.55}, {"scale_factor": 2}, {"scale_factor": (1.3,)}],
    2: [{"size": (11, 4)}, {"size": 3}, {"size": (1, 9)}, {"scale_factor": (0.7, 1.9)},
        {"scale_factor": 3.0}, {"scale_factor": (2, 0.5)}],
    3: [{"size": (6, 2, 9)}, {"scale_factor": (1.5, 0.8, 2.0)}, {"size": 1}],
}  # fmt: skip
CASES = []
for nd, options in SIZE_OPTIONS.items():
    linear = {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]
    for opts in options:
        CASES += [(nd, "nearest", opts), (nd, "nearest-exact", opts), (nd, "area", opts)]
        for align in (False, True):
            CASES.append((nd, linear, {**opts, "align_corners": align}))
            if nd == 2:
                CASES.append((nd, "bicubic", {**opts, "align_corners": align}))
        if "scale_factor" in opts:  # the factor sets the output size only
            CASES.append((nd, linear, {**opts, "recompute_scale_factor": True}))
            CASES.append((nd, "nearest", {**opts, "recompute_scale_factor": True}))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("nd", "mode", "opts"), CASES)
def test_interpolate_matches_torch(nd: int, mode: str, opts: dict, dtype: str) -> None:
    _check(
        lambda x: F.interpolate(x, mode=mode, **opts),
        lambda x: tnf.interpolate(x, mode=mode, **opts),
        SHAPES[nd],
        dtype,
    )


ANTIALIAS = [  # downscales (the filter widened), upscales, mixed, to one pixel
    {"size": (3, 2)},
    {"size": (4, 15)},
    {"scale_factor": (0.3, 1.7)},
    {"scale_factor": 0.45},
    {"size": 1},
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("opts", ANTIALIAS)
@pytest.mark.parametrize("align", [False, True])
def test_interpolate_antialias_matches_torch(mode: str, opts: dict, align: bool, dtype: str):
    if mode == "lanczos" and align:
        pytest.skip("lanczos takes no align_corners (tested with the errors)")
    _check(
        lambda x: F.interpolate(x, mode=mode, antialias=True, align_corners=align, **opts),
        lambda x: tnf.interpolate(x, mode=mode, antialias=True, align_corners=align, **opts),
        (2, 2, 9, 8),
        dtype,
    )


def test_interpolate_unbatched_empty_batch_and_uint8_nearest() -> None:
    for mode in ("nearest", "bilinear", "bicubic", "area"):
        _check(
            lambda x, m=mode: F.interpolate(x, size=(3, 4), mode=m),
            lambda x, m=mode: tnf.interpolate(x, size=(3, 4), mode=m),
            (0, 2, 5, 6),
            "float64",
        )
    a = np.random.default_rng(0).integers(0, 255, (1, 2, 3, 4)).astype(np.uint8)
    y = F.interpolate(mg.tensor(a), scale_factor=(1.5, 0.7), mode="nearest")
    ty = tnf.interpolate(torch.tensor(a), scale_factor=(1.5, 0.7), mode="nearest")
    assert y.dtype == mg.uint8
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    # any integer dtype (PyTorch: uint8 only; docs/guide/differences.md): the same positions
    y = F.interpolate(mg.tensor(a.astype(np.int64)), scale_factor=(1.5, 0.7), mode="nearest")
    assert y.dtype == mg.int64
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


def test_interpolate_of_constant_and_linear_ramps() -> None:
    """Every linear mode keeps a constant; linear interpolation with corners aligned keeps a
    ramp exactly (the formula, with no PyTorch in the loop)."""
    ones = mg.ones(1, 1, 4, 5, dtype=mg.float64)
    for mode in ("bilinear", "bicubic", "nearest", "area"):
        np.testing.assert_allclose(F.interpolate(ones, size=(7, 3), mode=mode).numpy(), 1.0)
    ramp = mg.tensor(np.arange(5.0).reshape(1, 1, 5))
    y = F.interpolate(ramp, size=9, mode="linear", align_corners=True)
    np.testing.assert_allclose(y.numpy().ravel(), np.arange(9) * 0.5)


@pytest.mark.parametrize(
    ("mode", "shape", "opts"),
    [
        ("nearest", (1, 2, 5), {"size": 8}),
        ("bilinear", (1, 2, 4, 5), {"size": (7, 3)}),
        ("bicubic", (1, 1, 4, 5), {"scale_factor": 1.6, "align_corners": True}),
        ("trilinear", (1, 1, 3, 2, 4), {"size": (2, 5, 3)}),
        ("bilinear", (1, 1, 9, 8), {"size": (4, 3), "antialias": True}),
    ],
)
def test_interpolate_gradient_is_the_adjoint(mode: str, shape: tuple, opts: dict) -> None:
    """<interpolate(x), y> = <x, grad>: the backward is the forward's transpose, so the
    gradient of <interpolate(x), y> in x is the adjoint applied to y; and a second backward
    through it (create_graph) gives the forward back."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal(shape), requires_grad=True)
    y = F.interpolate(x, mode=mode, **opts)
    g = mg.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
    (dx,) = mg.grad((y * g).sum(), [x], create_graph=True)
    np.testing.assert_allclose(float((y * g).sum().item()), float((x * dx).sum().item()))
    v = mg.tensor(rng.standard_normal(shape))
    (dg,) = mg.grad((dx * v).sum(), [g])  # d<x, A^T g>/dg . v = A v
    np.testing.assert_allclose(dg.numpy(), F.interpolate(v, mode=mode, **opts).numpy())


BAD_INTERPOLATE = [  # (input shape, options, error type, words the message holds)
    ((1, 2, 4, 5), {"size": 3, "mode": "nearest", "align_corners": True}, ValueError,
     "align_corners"),
    ((1, 2, 4, 5), {"size": 3, "mode": "area", "align_corners": False}, ValueError,
     "align_corners"),
    ((1, 2, 4, 5), {"size": (3, 3, 3)}, ValueError, "(1, 2, 4, 5)"),
    ((1, 2, 4, 5), {"scale_factor": (2.0,)}, ValueError, "(1, 2, 4, 5)"),
    ((1, 2, 4, 5), {"size": 3, "scale_factor": 2.0}, ValueError, "only one"),
    ((1, 2, 4, 5), {}, ValueError, "either size or scale_factor"),
    ((1, 2, 4, 5), {"size": 3, "recompute_scale_factor": True}, ValueError, "recompute"),
    ((1, 2, 4, 5), {"size": (3.0, 2)}, TypeError, "size"),
    ((1, 2, 4, 5), {"size": 3, "mode": "linear"}, NotImplementedError, "(1, 2, 4, 5)"),
    ((1, 2, 4), {"size": 3, "mode": "bilinear"}, NotImplementedError, "(1, 2, 4)"),
    ((1, 2, 4), {"size": 3, "mode": "bicubic"}, NotImplementedError, "(1, 2, 4)"),
    ((1, 2, 4, 5), {"size": 3, "mode": "trilinear"}, NotImplementedError, "(1, 2, 4, 5)"),
    ((1, 2, 4, 5), {"size": 3, "mode": "cubic"}, NotImplementedError, "'cubic'"),
    ((2, 4), {"size": 3}, NotImplementedError, "(2, 4)"),
    ((1, 1, 2, 3, 4, 5), {"size": 3}, NotImplementedError, "(1, 1, 2, 3, 4, 5)"),
    ((1, 2, 4, 5), {"size": 3, "antialias": True}, ValueError, "(1, 2, 4, 5)"),
    ((1, 2, 4), {"size": 3, "mode": "linear", "antialias": True}, ValueError, "(1, 2, 4)"),
    ((1, 2, 4, 5), {"size": 3, "mode": "lanczos"}, ValueError, "antialias"),
    ((1, 2, 4, 5), {"size": 3, "mode": "lanczos", "antialias": True, "align_corners": True},
     ValueError, "align_corners"),
    ((1, 2, 4, 5), {"size": (0, 3)}, ShapeError, "(1, 2, 4, 5)"),
    ((1, 2, 4, 5), {"scale_factor": 0.1, "mode": "bilinear"}, ShapeError, "(0, 0)"),
    ((1, 2, 4, 5), {"scale_factor": -1.0}, ShapeError, "(1, 2, 4, 5)"),
    ((1, 0, 4, 5), {"size": 3, "mode": "bilinear"}, ShapeError, "(1, 0, 4, 5)"),
    ((1, 2, 0, 5), {"size": 3}, ShapeError, "(1, 2, 0, 5)"),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "opts", "error", "words"), BAD_INTERPOLATE)
def test_interpolate_refuses_as_torch(shape: tuple, opts: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=None) as info:
        F.interpolate(mg.zeros(*shape), **opts)
    assert words in str(info.value)
    with pytest.raises(Exception):  # noqa: B017 (PyTorch refuses it too, whatever its type)
        tnf.interpolate(torch.zeros(*shape), **opts)


def test_interpolate_refuses_integers_outside_nearest() -> None:
    x = mg.zeros(1, 1, 3, 3, dtype=mg.int64)
    with pytest.raises(DTypeError, match="int64"):
        F.interpolate(x, size=4, mode="bilinear")


UPSAMPLE_ALIASES = [  # (name, options)
    ("upsample", {"size": (7, 3), "mode": "bicubic"}),
    ("upsample", {"scale_factor": 2}),
    ("upsample_nearest", {"scale_factor": 1.5}),
    ("upsample_bilinear", {"size": (9, 4)}),  # the corners aligned, as PyTorch's
]


@pytest.mark.parametrize(("name", "opts"), UPSAMPLE_ALIASES)
def test_upsample_aliases_match_torch(name: str, opts: dict) -> None:
    fn, torch_fn = getattr(F, name), getattr(tnf, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warnings
        _check(lambda x: fn(x, **opts), lambda x: torch_fn(x, **opts), (1, 2, 4, 5), "float64")


# -- pixel_shuffle, pixel_unshuffle, channel_shuffle -----------------------------------------

SHUFFLES = [  # (op, input shape, factor or groups)
    ("pixel_shuffle", (2, 12, 2, 3), 2),
    ("pixel_shuffle", (18, 2, 1), 3),
    ("pixel_shuffle", (2, 1, 4, 3, 2), 2),
    ("pixel_shuffle", (1, 3, 2, 2), 1),
    ("pixel_unshuffle", (2, 3, 4, 6), 2),
    ("pixel_unshuffle", (1, 6, 9), 3),
    ("pixel_unshuffle", (2, 1, 1, 4, 2), 2),
    ("channel_shuffle", (2, 6, 3), 3),
    ("channel_shuffle", (1, 8, 2, 3), 4),
    ("channel_shuffle", (2, 4, 2, 1, 3), 2),
    ("channel_shuffle", (0, 4, 2), 2),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("op", "shape", "k"), SHUFFLES)
def test_shuffles_match_torch(op: str, shape: tuple, k: int, dtype: str) -> None:
    _check(lambda x: getattr(F, op)(x, k), lambda x: getattr(tnf, op)(x, k), shape, dtype)


def test_pixel_unshuffle_inverts_pixel_shuffle() -> None:
    x = mg.randn(2, 18, 3, 2)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 3), 3).numpy(), x.numpy())


BAD_SHUFFLES = [  # (op, input shape, factor, error type, words the message holds)
    ("pixel_shuffle", (3, 4), 2, ShapeError, "(3, 4)"),
    ("pixel_shuffle", (5, 3, 4), 2, ShapeError, "(5, 3, 4)"),
    ("pixel_shuffle", (4, 3, 4), 0, ValueError, "upscale_factor"),
    ("pixel_shuffle", (4, 3, 4), -1, ValueError, "upscale_factor"),
    ("pixel_unshuffle", (4, 3, 4), 2, ShapeError, "(4, 3, 4)"),
    ("pixel_unshuffle", (4, 4, 3), 2, ShapeError, "(4, 4, 3)"),
    ("pixel_unshuffle", (4, 4, 4), 0, ValueError, "downscale_factor"),
    ("pixel_unshuffle", (4, 3), 1, ShapeError, "(4, 3)"),
    ("channel_shuffle", (5, 3, 4), 2, ShapeError, "(5, 3, 4)"),
    ("channel_shuffle", (4, 4), 2, ShapeError, "(4, 4)"),
    ("channel_shuffle", (4, 4, 3), 0, ValueError, "groups"),
]


@pytest.mark.parametrize(("op", "shape", "k", "error", "words"), BAD_SHUFFLES)
def test_shuffles_refuse_as_torch(op: str, shape: tuple, k: int, error: type, words: str):
    with pytest.raises(error) as info:
        getattr(F, op)(mg.zeros(*shape), k)
    assert words in str(info.value)
    with pytest.raises(RuntimeError):
        getattr(tnf, op)(torch.zeros(*shape), k)


# -- unfold and fold --------------------------------------------------------------------------

WINDOWS = [  # (kernel_size, dilation, padding, stride)
    (2, 1, 0, 1),
    ((2, 3), 1, 1, 1),
    (3, 2, 1, 1),
    ((3, 2), (1, 2), (2, 0), (2, 3)),
    (1, 1, 0, 2),
    ((4, 1), 1, (1, 0), (1, 1)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("shape", [(2, 3, 6, 7), (3, 5, 6), (0, 2, 5, 5)])
def test_unfold_and_fold_match_torch(window: tuple, shape: tuple, dtype: str) -> None:
    k, d, p, s = window
    opts = {"dilation": d, "padding": p, "stride": s}
    _check(lambda x: F.unfold(x, k, **opts), lambda x: tnf.unfold(x, k, **opts), shape, dtype)
    columns = tuple(tnf.unfold(torch.zeros(*shape), k, **opts).shape)
    size = shape[-2:]
    _check(
        lambda x: F.fold(x, size, k, **opts),
        lambda x: tnf.fold(x, size, k, **opts),
        columns,
        dtype,
    )


def test_fold_is_the_adjoint_of_unfold_and_sums_overlaps() -> None:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 5, 6)))
    opts = {"kernel_size": (3, 2), "dilation": (1, 2), "padding": 1, "stride": (1, 2)}
    cols = F.unfold(x, **opts)
    c = mg.tensor(rng.standard_normal(tuple(cols.shape)))
    folded = F.fold(c, (5, 6), **opts)
    np.testing.assert_allclose((cols * c).sum().item(), (x * folded).sum().item())
    # fold(unfold(1)) counts how many windows cover each position (the overlaps summed)
    ones = F.fold(F.unfold(mg.ones(1, 1, 3, 3), 2), (3, 3), 2)
    np.testing.assert_array_equal(ones.numpy()[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


BAD_WINDOWS = [  # (op, input shape, arguments, error type, words)
    ("unfold", (3, 4), (2,), ShapeError, "(3, 4)"),
    ("unfold", (1, 2, 3, 4, 5), (2,), ShapeError, "(1, 2, 3, 4, 5)"),
    ("unfold", (1, 0, 3, 4), (2,), ShapeError, "(1, 0, 3, 4)"),
    ("unfold", (1, 2, 3, 4), (5,), ShapeError, "(1, 2, 3, 4)"),
    ("unfold", (1, 2, 3, 4), (2, 1, 0, 0), ValueError, "stride"),
    ("unfold", (1, 2, 3, 4), (2, 1, -1), ValueError, "padding"),
    ("unfold", (1, 2, 3, 4), (2, 0), ValueError, "dilation"),
    ("unfold", (1, 2, 3, 4), ((2, 2, 2),), ValueError, "kernel_size"),
    ("fold", (1, 7, 6), ((3, 4), 2), ShapeError, "(1, 7, 6)"),
    ("fold", (1, 8, 5), ((3, 4), 2), ShapeError, "(1, 8, 5)"),
    ("fold", (1, 8, 6), ((1, 1), 2), ShapeError, "(1, 8, 6)"),
    ("fold", (1, 1, 8, 6), ((3, 4), 2), ShapeError, "(1, 1, 8, 6)"),
    ("fold", (1, 0, 6), ((3, 4), 2), ShapeError, "(1, 0, 6)"),
    ("fold", (1, 8, 6), ((3, 4), 2, 1, 0, 0), ValueError, "stride"),
]


@pytest.mark.parametrize(("op", "shape", "args", "error", "words"), BAD_WINDOWS)
def test_unfold_and_fold_refuse_as_torch(op, shape, args, error, words) -> None:
    with pytest.raises(error) as info:
        getattr(F, op)(mg.zeros(*shape), *args)
    assert words in str(info.value)
    with pytest.raises((RuntimeError, IndexError)):  # IndexError: PyTorch's for a 2-D input
        getattr(tnf, op)(torch.zeros(*shape), *args)


def test_unfold_refuses_integers() -> None:
    with pytest.raises(DTypeError, match="int64"):
        F.unfold(mg.zeros(1, 1, 3, 3, dtype=mg.int64), 2)


# -- the layers -------------------------------------------------------------------------------

LAYERS = [  # (name, constructor arguments, input shape)
    ("Upsample", {"scale_factor": 2}, (1, 2, 3, 4)),
    ("Upsample", {"size": (5, 3), "mode": "bicubic", "align_corners": True}, (1, 2, 3, 4)),
    ("Upsample", {"scale_factor": (1.5,), "mode": "linear"}, (2, 1, 5)),
    ("Upsample", {"scale_factor": 0.6, "mode": "trilinear", "recompute_scale_factor": True},
     (1, 1, 4, 5, 3)),
    ("UpsamplingNearest2d", {"size": (5, 7)}, (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", {"scale_factor": 2}, (1, 2, 3, 4)),
    ("PixelShuffle", {"upscale_factor": 2}, (1, 8, 2, 3)),
    ("PixelUnshuffle", {"downscale_factor": 2}, (1, 2, 4, 6)),
    ("ChannelShuffle", {"groups": 3}, (2, 6, 2)),
    ("Unfold", {"kernel_size": (2, 3), "padding": 1, "stride": 2}, (2, 3, 5, 6)),
    ("Fold", {"output_size": (3, 4), "kernel_size": 2}, (2, 8, 6)),
    ("ZeroPad1d", {"padding": (1, 2)}, (2, 3, 4)),
    ("ZeroPad2d", {"padding": 2}, (2, 3, 4)),
    ("ZeroPad3d", {"padding": (1, 0, 2, 1, 0, 1)}, (1, 2, 3, 2, 2)),
    ("ConstantPad1d", {"padding": 2, "value": 1.5}, (3, 4)),
    ("ConstantPad2d", {"padding": (1, 2, 0, 1), "value": -1.0}, (1, 3, 4)),
    ("ConstantPad3d", {"padding": 1, "value": 0.5}, (1, 2, 3, 2, 2)),
    ("ReflectionPad1d", {"padding": (3, 1)}, (2, 3, 4)),
    ("ReflectionPad2d", {"padding": 2}, (1, 3, 4)),
    ("ReflectionPad3d", {"padding": (1, 0, 2, 1, 0, 1)}, (1, 2, 3, 3, 2)),
    ("ReplicationPad1d", {"padding": 3}, (3, 4)),
    ("ReplicationPad2d", {"padding": (1, 2, 3, 0)}, (2, 1, 3, 4)),
    ("ReplicationPad3d", {"padding": 2}, (2, 3, 2, 2)),
    ("CircularPad1d", {"padding": (2, 1)}, (2, 3, 4)),
    ("CircularPad2d", {"padding": 1}, (3, 4, 2)),
    ("CircularPad3d", {"padding": (1, 0, 2, 1, 0, 1)}, (1, 2, 3, 3, 2)),
    ("ZeroPad2d", {"padding": (-1, 1, 0, -2)}, (1, 3, 4)),  # negative widths crop
]  # fmt: skip


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("name", "kwargs", "shape"), LAYERS)
def test_layers_match_torch(name: str, kwargs: dict, shape: tuple, dtype: str) -> None:
    layer, torch_layer = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(layer) == repr(torch_layer)
    assert list(layer.parameters()) == []
    _check(layer, torch_layer, shape, dtype)


BAD_PADDING = [  # (layer, padding, input shape, error type)
    ("ReflectionPad1d", 1, (2, 2, 3, 3), NotImplementedError),
    ("ReflectionPad2d", 1, (2, 2, 3, 3, 3), NotImplementedError),
    ("ReplicationPad3d", 1, (2, 3), NotImplementedError),
    ("CircularPad1d", 1, (2, 2, 3, 3), ValueError),
    ("CircularPad2d", 1, (3, 3), ValueError),
    ("ReflectionPad1d", 3, (2, 3), ValueError),  # reflection wider than the dim
    ("CircularPad1d", 4, (2, 3), ValueError),  # wraps around more than once
]


@pytest.mark.parametrize(("name", "padding", "shape", "error"), BAD_PADDING)
def test_padding_layers_refuse_as_torch(name: str, padding, shape: tuple, error: type) -> None:
    with pytest.raises(error) as info:
        getattr(nn, name)(padding)(mg.zeros(*shape))
    assert str(shape) in str(info.value) or str(shape[-1]) in str(info.value)
    with pytest.raises((error, RuntimeError)):
        getattr(torch.nn, name)(padding)(torch.zeros(*shape))


# -- 3-d normalization, channel dropout, local response norm, bilinear ----------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("name", "shape"),
    [("BatchNorm3d", (2, 3, 2, 3, 2)), ("InstanceNorm3d", (2, 3, 2, 3, 4)),
     ("InstanceNorm3d", (3, 2, 3, 4))],
)  # fmt: skip
def test_3d_normalization_matches_torch(name: str, shape: tuple, dtype: str) -> None:
    kwargs = {"affine": True, "track_running_stats": True}
    layer, torch_layer = getattr(nn, name)(3, **kwargs), getattr(torch.nn, name)(3, **kwargs)
    if dtype == "float64":
        layer, torch_layer = layer.double(), torch_layer.double()
    _check(layer, torch_layer, shape, dtype)  # training: the batch's statistics
    np.testing.assert_allclose(
        layer.running_var.numpy(), torch_layer.running_var.numpy(), **TOL[dtype]
    )
    layer.eval()
    torch_layer.eval()
    _check(layer, torch_layer, shape, dtype)  # eval: the running ones


def test_3d_normalization_refuses_other_dims() -> None:
    with pytest.raises(ShapeError, match=r"\(2, 3, 4, 4\)"):
        nn.BatchNorm3d(3)(mg.zeros(2, 3, 4, 4))
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\)"):
        nn.InstanceNorm3d(3)(mg.zeros(2, 3, 4))


CHANNEL_DROPOUT = [  # (function, input shape, how many leading dims name a channel)
    ("dropout1d", (40, 50, 6), 2),
    ("dropout1d", (500, 7), 1),
    ("dropout2d", (40, 50, 2, 3), 2),
    ("dropout3d", (40, 50, 2, 1, 3), 2),
    ("dropout3d", (500, 2, 2, 2), 1),
]


@pytest.mark.parametrize(("name", "shape", "lead"), CHANNEL_DROPOUT)
def test_channel_dropout_zeroes_whole_channels(name: str, shape: tuple, lead: int) -> None:
    mg.manual_seed(0)
    p = 0.3
    x = mg.tensor(np.random.default_rng(0).uniform(1.0, 2.0, shape), requires_grad=True)
    y = getattr(F, name)(x, p)
    channels = (y.numpy() / x.detach().numpy()).reshape(int(np.prod(shape[:lead])), -1)
    # each channel all dropped (0) or all kept (scaled by 1 / (1 - p))
    kept = np.isclose(channels, 1 / (1 - p)).all(1)
    assert (kept | (channels == 0).all(1)).all()
    assert abs(1 - kept.mean() - p) < 0.06  # 2000 or 500 channels: the drop rate is p
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy() / x.detach().numpy())


def test_channel_dropout_identities_and_errors() -> None:
    x = mg.randn(2, 3, 4)
    for fn in (F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout):
        y = x.unsqueeze(-1) if fn is not F.dropout1d else x  # no warning: 4-D for 2d and 3d
        assert fn(y, 0.4, training=False) is y
        assert fn(y, 0.0, training=True) is y
    assert F.alpha_dropout(x, 0.4) is x  # PyTorch's default: training=False
    np.testing.assert_array_equal(F.dropout1d(x, 1.0).numpy(), 0.0)
    for p in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout1d(x, p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.AlphaDropout(p)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4, 5\)"):
        F.dropout1d(mg.zeros(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d"):
        F.dropout2d(mg.zeros(2, 3, 4))
    with pytest.warns(UserWarning, match=r"\(2, 3\)"):
        F.dropout3d(mg.zeros(2, 3))
    layer = nn.Dropout2d(0.5)
    layer.eval()
    assert layer(x.unsqueeze(0)) is not None and repr(layer) == repr(torch.nn.Dropout2d(0.5))


def test_alpha_dropout_keeps_selu_statistics() -> None:
    """Each element is either a * x + alpha a p (kept) or -alpha a (1 - p) (dropped), and a
    standard normal input keeps mean 0 and variance 1, the point of alpha dropout."""
    mg.manual_seed(0)
    p, alpha = 0.2, 1.7580993408473766
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    x = mg.randn(200_000, dtype=mg.float64, requires_grad=True)
    y = nn.AlphaDropout(p)(x)
    kept = np.isclose(y.numpy(), a * x.detach().numpy() + alpha * a * p)
    dropped = np.isclose(y.numpy(), -alpha * a * (1 - p))
    assert (kept | dropped).all() and abs(dropped.mean() - p) < 0.01
    assert abs(y.numpy().mean()) < 0.02 and abs(y.numpy().var() - 1) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0.0))
    z = F.feature_alpha_dropout(mg.randn(300, 40, 5), p, training=True)
    per_channel = z.numpy().reshape(300 * 40, 5)
    assert np.isclose(per_channel, -alpha * a * (1 - p)).all(1).mean() == pytest.approx(p, abs=0.03)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("shape", "size"), [((2, 5, 7), 3), ((2, 6, 3, 4), 2), ((1, 4, 2, 3, 2), 5), ((2, 3, 4), 1)]
)
def test_local_response_norm_matches_torch(shape: tuple, size: int, dtype: str) -> None:
    _check(
        lambda x: nn.LocalResponseNorm(size, alpha=0.1, beta=0.6, k=2.0)(x),
        lambda x: torch.nn.LocalResponseNorm(size, alpha=0.1, beta=0.6, k=2.0)(x),
        shape,
        dtype,
    )


def test_local_response_norm_gradcheck_and_errors() -> None:
    x = mg.randn(1, 4, 3, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: F.local_response_norm(t, 3, alpha=0.5), (x,))
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        F.local_response_norm(mg.zeros(2, 3), 2)
    assert repr(nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("lead", "bias"), [((4,), True), ((2, 3), False), ((), True)])
def test_bilinear_matches_torch(lead: tuple, bias: bool, dtype: str) -> None:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in (lead + (3,), lead + (2,), (5, 3, 2))]
    arrays.append(rng.standard_normal(5).astype(dtype) if bias else None)
    ours = [None if a is None else mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = F.bilinear(*ours), tnf.bilinear(*theirs)
    assert tuple(y.shape) == tuple(ty.shape) and str(y.dtype) == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **TOL[dtype])
    seed_grad = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(mg.tensor(seed_grad))
    ty.backward(torch.tensor(seed_grad))
    for t, tt in zip(ours, theirs):
        if t is not None:
            np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), **TOL[dtype])


def test_bilinear_layer_gradcheck_init_and_errors() -> None:
    layer = nn.Bilinear(3, 2, 4).double()
    assert repr(layer) == repr(torch.nn.Bilinear(3, 2, 4))
    assert tuple(layer.weight.shape) == (4, 3, 2) and tuple(layer.bias.shape) == (4,)
    assert np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(3)
    a = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    b = mg.randn(2, 2, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda u, v: layer(u, v), (a, b))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3, 2\)"):
        layer(a, mg.randn(3, 2, dtype=mg.float64))
    with pytest.raises(ShapeError, match=r"\(2, 2, 1\)"):
        layer(a, mg.randn(2, 2, 1, dtype=mg.float64))
    with pytest.raises(ValueError, match="out_features"):
        nn.Bilinear(3, 2, 0)


# -- F.pad, under the padding layers: every mode and number of padded dims --------------------

PAD_SWEEP = [  # (mode, input shape, pad) where PyTorch takes them; negative widths crop
    (mode, shape, pad)
    for mode in ("constant", "reflect", "replicate", "circular")
    for shape, pads in (
        ((2, 5), [(1, 2), (-1, 2)]),
        ((2, 3, 5), [(2, 0), (1, 2, 0, 1), (0, -1, 2, 1)]),
        ((1, 2, 4, 5), [(1, 1, 2, 0), (1, 2, 0, 1, 1, 0)]),
        ((1, 2, 3, 4, 5), [(1, 2, 0, 1, 2, 1), (-1, 1, 1, 0, 0, -1)]),
    )
    for pad in pads
    if mode == "constant" or len(shape) - len(pad) // 2 in (1, 2)
]


@pytest.mark.parametrize(("mode", "shape", "pad"), PAD_SWEEP)
def test_pad_matches_torch_in_every_mode(mode: str, shape: tuple, pad: tuple) -> None:
    _check(
        lambda x: F.pad(x, pad, mode=mode),
        lambda x: tnf.pad(x, pad, mode=mode),
        shape,
        "float64",
    )
