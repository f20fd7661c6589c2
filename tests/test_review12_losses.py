"""Review 12 (r11) of the losses and the functional helpers (``nn.functional``,
``minigrad/ops/losses.py``, ``cross_entropy``): a regression test for each fault found, against
PyTorch's twins where the fault was a difference from them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _value_and_grads(lib, fn, *arrays):
    """``fn(*tensors)`` summed with fixed weights, and the gradient of each input, in ``lib``."""
    if lib == "torch":
        xs = [torch.tensor(a, requires_grad=True) for a in arrays]
        out = fn(torch.nn.functional, *xs)
        seed = torch.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    else:
        xs = [mg.tensor(a, requires_grad=True) for a in arrays]
        out = fn(F, *xs)
        seed = mg.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    (out * seed).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def _assert_like_torch(fn, *arrays):
    value, grads = _value_and_grads("minigrad", fn, *arrays)
    t_value, t_grads = _value_and_grads("torch", fn, *arrays)
    np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=1e-12)
    for grad, t_grad in zip(grads, t_grads):
        np.testing.assert_allclose(grad, t_grad, rtol=1e-12, atol=1e-12)


# -- smooth_l1_loss, huber_loss: an infinite difference --------------------------------------


@needs_torch
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize(
    "loss",
    [
        lambda F, x, t, r: F.smooth_l1_loss(x, t, reduction=r),
        lambda F, x, t, r: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
        lambda F, x, t, r: F.huber_loss(x, t, reduction=r),
        lambda F, x, t, r: F.huber_loss(x, t, reduction=r, delta=2.5),
    ],
    ids=["smooth_l1", "smooth_l1_beta", "huber", "huber_delta"],
)
def test_smooth_l1_and_huber_gradient_at_an_infinite_difference_is_the_linear_branchs(
    loss, reduction
):
    # the quadratic branch's unused gradient was 0 * inf = NaN where |input - target| is
    # infinite; PyTorch's is the linear branch's sign (times delta for huber)
    x = np.array([np.inf, -np.inf, 1.0, 0.25, 3.0])
    t = np.array([1.0, 2.0, np.inf, 0.0, 0.0])
    _assert_like_torch(lambda F, x, t: loss(F, x, t, reduction), x, t)
    x = mg.tensor(x, requires_grad=True)
    loss(F, x, mg.tensor(t), "sum").backward()
    assert np.isfinite(x.grad.numpy()).all()


# -- pairwise_distance: a zero difference ------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_gradient_at_a_zero_difference_is_zero(p, keepdim):
    # sqrt(sum d^2) (and (sum |d|^p)^(1/p)) gave 0 / 0 = NaN for both inputs' gradients where
    # x1 - x2 + eps is 0 (identical rows with eps=0); PyTorch's norm gives 0 there
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal((3, 4))
    x2 = np.concatenate([x1[:1], rng.standard_normal((2, 4))])
    _assert_like_torch(
        lambda F, a, b: F.pairwise_distance(a, b, p=p, eps=0.0, keepdim=keepdim), x1, x2
    )
    a = mg.tensor(x1, requires_grad=True)
    nn.PairwiseDistance(p, eps=0.0)(a, mg.tensor(x2)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy()[0], np.zeros(4))


def test_pairwise_distance_second_derivative_at_a_zero_difference_is_finite():
    x1 = mg.tensor(np.array([[1.0, 2.0], [0.5, -1.0]]), requires_grad=True)
    x2 = mg.tensor(np.array([[1.0, 2.0], [0.0, 1.0]]))
    (g,) = mg.grad(F.pairwise_distance(x1, x2, eps=0.0).sum(), [x1], create_graph=True)
    (h,) = mg.grad((g * g).sum(), [x1])
    assert np.isfinite(h.numpy()).all()
    mg.gradcheck(lambda a: F.pairwise_distance(a, x2, p=3.0, eps=0.0), (x1,))


# -- cross_entropy over an empty batch ----------------------------------------------------------


@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_mean_over_an_empty_batch_of_class_ids_is_zero(
    shape, label_smoothing, weighted
):
    # the weighted path and nll_loss gave 0 (the documented rule: a mean over no target that
    # counts is 0), the fused unweighted op 0 / 0 = NaN with a NumPy warning
    logits = mg.zeros(shape, requires_grad=True)
    target = mg.tensor(np.zeros((0,) + shape[2:], dtype=np.int64))
    weight = mg.tensor(np.arange(1.0, 5.0, dtype=np.float32)) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, target, weight, label_smoothing=label_smoothing)
        loss.backward()
    assert loss.item() == 0.0
    assert logits.grad.shape == shape
    assert F.nll_loss(logits, target, weight).item() == 0.0


def test_cross_entropy_mean_over_an_empty_batch_of_probabilities_stays_nan_without_warning():
    # probability targets have no ignored rows: their mean over no row is NaN, as mean()'s
    # and PyTorch's, but without NumPy's "invalid value" warning
    logits = mg.zeros((0, 4), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, mg.zeros((0, 4)))
        loss.backward()
    assert np.isnan(loss.item())
    assert logits.grad.shape == (0, 4)


# -- bad input: clear errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, words",
    [
        # an IndexError "tuple index out of range" from inside the op
        (lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)), mg.ShapeError, "0-d"),
        # "input of shape () needs a target of shape (), got ()"
        (lambda: F.nll_loss(mg.tensor(1.0), mg.tensor(0)), mg.ShapeError, "0-d"),
        # AttributeErrors about a list's .array, .dtype or .shape
        (lambda: F.cross_entropy(mg.zeros((2, 3)), [0, 1]), TypeError, "got list"),
        (lambda: F.nll_loss(mg.zeros((2, 3)), [0, 1]), TypeError, "got list"),
        (lambda: F.mse_loss(mg.zeros(2), [0.0, 1.0]), TypeError, "target must be a tensor"),
        (lambda: F.l1_loss([0.0, 1.0], mg.zeros(2)), TypeError, "input must be a tensor"),
        # beta=NaN was taken (NaN < 0 is False); PyTorch refuses it (NaN >= 0 is False)
        (lambda: F.smooth_l1_loss(mg.zeros(2), mg.zeros(2), beta=float("nan")), ValueError, "nan"),
    ],
    ids=["ce_0d", "nll_0d", "ce_list", "nll_list", "mse_list", "l1_list", "smooth_l1_nan"],
)
def test_loss_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()


# -- the other losses of torch.nn.functional, and their layers ---------------------------------
# They were missing (the review's brief lists them): each against PyTorch, value and gradient
# of every float input, over the three reductions.

_RNG = np.random.default_rng(12)
_X, _Y = _RNG.standard_normal((4, 5)), _RNG.standard_normal((4, 5))
_POS = _RNG.random((4, 5)) + 0.1
_SIGN = np.where(_RNG.random((4, 5)) > 0.5, 1.0, -1.0)
_IDS = np.array([0, 4, 2, 2])
_LISTS = np.array([[0, 3, -1, -1, -1], [1, -1, 2, 2, 2], [4, 3, 2, 1, 0], [-1, 0, 0, 0, 0]])
_W = np.linspace(0.5, 1.5, 5)

_NEW_LOSSES = {  # name: (call, float inputs, other inputs)
    "poisson_log": (lambda F, x, t, r: F.poisson_nll_loss(x, t, reduction=r), (_X, _POS * 3), ()),
    "poisson_full": (
        lambda F, x, t, r: F.poisson_nll_loss(x, t, False, True, eps=1e-3, reduction=r),
        (_POS, _POS * 3),
        (),
    ),
    "gaussian": (
        lambda F, x, t, v, r: F.gaussian_nll_loss(x, t, v, True, reduction=r),
        (_X, _Y, _POS),
        (),
    ),
    # var below eps: clamped in value, its gradient straight through
    "gaussian_small_var": (
        lambda F, x, t, v, r: F.gaussian_nll_loss(x, t, v * 1e-7, eps=1e-6, reduction=r),
        (_X, _Y, _POS),
        (),
    ),
    "gaussian_shared_var": (
        lambda F, x, t, v, r: F.gaussian_nll_loss(x, t, v[:, 0], reduction=r),
        (_X, _Y, _POS),
        (),
    ),
    "margin_ranking": (
        lambda F, a, b, t, r: F.margin_ranking_loss(a, b, t, 0.3, reduction=r),
        (_X, _Y),
        (_SIGN,),
    ),
    "hinge_embedding": (
        lambda F, x, t, r: F.hinge_embedding_loss(x, t, 0.5, reduction=r),
        (_X,),
        (_SIGN * np.array([1, 1, 1, 1, 0.5]),),  # a target of 0.5 takes both terms
    ),
    "soft_margin": (lambda F, x, t, r: F.soft_margin_loss(x, t, reduction=r), (_X,), (_SIGN,)),
    "multilabel_soft_margin": (
        lambda F, x, t, w, r: F.multilabel_soft_margin_loss(x, t, w, reduction=r),
        (_X, (_SIGN > 0) * 1.0),
        (_W,),
    ),
    "cosine_embedding": (
        lambda F, a, b, t, r: F.cosine_embedding_loss(a, b, t, 0.1, reduction=r),
        (_X, _Y),
        (_SIGN[:, 0].copy(),),
    ),
    "triplet_swap": (
        lambda F, a, p, n, r: F.triplet_margin_loss(a, p, n, 0.5, 3.0, swap=True, reduction=r),
        (_X, _Y, _POS),
        (),
    ),
    "multi_margin": (
        lambda F, x, t, w, r: F.multi_margin_loss(x, t, 2, 0.5, w, reduction=r),
        (_X,),
        (_IDS, _W),
    ),
    "multilabel_margin": (
        lambda F, x, t, r: F.multilabel_margin_loss(x, t, reduction=r),
        (_X,),
        (_LISTS,),
    ),
}


def _run_loss(lib, call, floats, others, reduction):
    """Value and the gradients of the float inputs, in ``lib``."""
    make = torch.tensor if lib == "torch" else mg.tensor
    xs = [make(a, requires_grad=True) for a in floats]
    out = call(
        torch.nn.functional if lib == "torch" else F,
        *xs,
        *(make(a) for a in others),
        reduction,
    )
    seed = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape))
    (out * make(seed)).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(_NEW_LOSSES))
def test_other_losses_match_torch(name, reduction):
    call, floats, others = _NEW_LOSSES[name]
    value, grads = _run_loss("minigrad", call, floats, others, reduction)
    t_value, t_grads = _run_loss("torch", call, floats, others, reduction)
    np.testing.assert_allclose(value, t_value, rtol=1e-10, atol=1e-12)
    for grad, t_grad in zip(grads, t_grads):
        np.testing.assert_allclose(grad, t_grad, rtol=1e-10, atol=1e-12)


# gaussian_small_var is left out: its var's gradient passes the clamp as if it were not there
# (PyTorch's), which is not the derivative of the clamped loss a finite difference sees
@pytest.mark.parametrize("name", sorted(set(_NEW_LOSSES) - {"gaussian_small_var"}))
def test_other_losses_gradcheck(name):
    call, floats, others = _NEW_LOSSES[name]
    consts = [mg.tensor(a) for a in others]
    # the inputs nudged off the kinks (ties, margins met exactly) a finite difference straddles
    xs = [
        mg.tensor(a + 1e-3 * np.arange(a.size).reshape(a.shape), requires_grad=True) for a in floats
    ]
    assert mg.gradcheck(lambda *v: call(F, *v, *consts, "sum"), tuple(xs))


@needs_torch
@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("L1Loss", (), {"reduction": "sum"}),
        ("SmoothL1Loss", (), {"beta": 0.5}),
        ("HuberLoss", ("none", 0.7), {}),
        ("PoissonNLLLoss", (False, True), {"eps": 1e-3}),
        ("GaussianNLLLoss", (), {"full": True, "eps": 1e-3}),
        ("MarginRankingLoss", (0.2,), {}),
        ("HingeEmbeddingLoss", (0.5,), {"reduction": "sum"}),
        ("SoftMarginLoss", (), {}),
        ("MultiLabelSoftMarginLoss", (), {}),
        ("CosineEmbeddingLoss", (0.1,), {}),
        ("TripletMarginLoss", (0.5, 1.0, 1e-3, True), {}),
        ("MultiMarginLoss", (2, 0.5), {}),
        ("MultiLabelMarginLoss", (), {"reduction": "none"}),
    ],
)
def test_other_loss_layers_match_torch(name, args, kwargs):
    inputs = {
        "GaussianNLLLoss": (_X, _Y, _POS),
        "MarginRankingLoss": (_X, _Y, _SIGN),
        "HingeEmbeddingLoss": (_X, _SIGN),
        "SoftMarginLoss": (_X, _SIGN),
        "MultiLabelSoftMarginLoss": (_X, (_SIGN > 0) * 1.0),
        "CosineEmbeddingLoss": (_X, _Y, _SIGN[:, 0].copy()),
        "TripletMarginLoss": (_X, _Y, _POS),
        "MultiMarginLoss": (_X, _IDS),
        "MultiLabelMarginLoss": (_X, _LISTS),
        "PoissonNLLLoss": (_POS, _POS * 3),
    }.get(name, (_X, _Y))
    ours = getattr(nn, name)(*args, **kwargs)(*(mg.tensor(a) for a in inputs))
    theirs = getattr(torch.nn, name)(*args, **kwargs)(*(torch.tensor(a) for a in inputs))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    defaults = {
        key: value
        for key, value in vars(getattr(torch.nn, name)()).items()
        if not key.startswith("_") and key != "training"
    }
    assert {key: getattr(getattr(nn, name)(), key) for key in defaults} == defaults


def test_soft_margin_loss_is_finite_where_exp_overflows():
    # PyTorch computes log1p(exp(-y x)): inf past x = 710 in float64; a softplus here
    x = mg.tensor(np.array([-800.0, 800.0]), requires_grad=True)
    loss = F.soft_margin_loss(x, mg.tensor(np.array([1.0, 1.0])), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 800.0)
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0])


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.poisson_nll_loss(mg.zeros(3), mg.zeros(4)), mg.ShapeError, r"\(3,\).*\(4,\)"),
        (lambda: F.gaussian_nll_loss(mg.zeros(3), mg.zeros(3), -1.0), ValueError, "var"),
        (
            lambda: F.gaussian_nll_loss(mg.zeros((2, 3)), mg.zeros((2, 3)), mg.ones((3, 2))),
            mg.ShapeError,
            r"\(3, 2\)",
        ),
        (
            lambda: F.gaussian_nll_loss(mg.zeros(3), mg.zeros(3), mg.tensor([1.0, -1.0, 1.0])),
            ValueError,
            "negative",
        ),
        (
            lambda: F.margin_ranking_loss(mg.zeros(3), mg.zeros(3), mg.zeros((1, 3))),
            mg.ShapeError,
            r"\(1, 3\)",
        ),
        (
            lambda: F.cosine_embedding_loss(mg.zeros((2, 3)), mg.zeros((2, 3)), mg.zeros(())),
            mg.ShapeError,
            r"\(2, 3\)",
        ),
        (lambda: F.triplet_margin_loss(*[mg.zeros(3)] * 3, margin=0.0), ValueError, "margin"),
        (
            lambda: F.multi_margin_loss(mg.zeros((2, 3)), mg.tensor(np.array([0, 3]))),
            IndexError,
            r"\[0, 3\)",
        ),
        (lambda: F.multi_margin_loss(mg.zeros((2, 3)), mg.zeros(2)), TypeError, "integer"),
        (lambda: F.multi_margin_loss(mg.zeros((2, 3)), mg.zeros(2), p=3), ValueError, "p must"),
        (
            # PyTorch checks every entry, those after the first -1 too
            lambda: F.multilabel_margin_loss(mg.zeros(3), mg.tensor(np.array([0, -1, 5]))),
            IndexError,
            r"\[-1, 3\)",
        ),
        (lambda: F.soft_margin_loss(mg.zeros(3), mg.zeros(3), reduction="avg"), ValueError, "avg"),
        (lambda: nn.TripletMarginLoss(reduction="avg"), ValueError, "TripletMarginLoss"),
    ],
)
def test_other_losses_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_margin_losses_over_an_empty_batch(reduction):
    # PyTorch's multi_margin_loss and multilabel_margin_loss return uninitialized memory for
    # "mean" and "sum" over an empty batch; here a sum over nothing is 0 and a mean NaN
    empty = mg.zeros((0, 3), requires_grad=True)
    ids = mg.tensor(np.zeros((0,), dtype=np.int64))
    for loss in (
        F.multi_margin_loss(empty, ids, reduction=reduction),
        F.multilabel_margin_loss(
            empty, mg.tensor(np.zeros((0, 3), dtype=np.int64)), reduction=reduction
        ),
    ):
        if reduction == "none":
            assert loss.shape == (0,)
        else:
            assert np.isnan(loss.item()) if reduction == "mean" else loss.item() == 0.0


# -- pdist, pixel_shuffle, pixel_unshuffle ------------------------------------------------------
# They were missing (the review's brief lists them among the functional helpers).


@needs_torch
@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, float("inf")])
def test_pdist_matches_torch(p):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3))
    x[2] = x[0]  # a zero distance: gradient 0 there, as PyTorch's
    _assert_like_torch(lambda F, a: F.pdist(a, p), x)
    _assert_like_torch(lambda F, a: F.pdist(a.t(), p), x.T.copy())  # a transposed view


def test_pdist_shapes_and_errors():
    assert F.pdist(mg.zeros((1, 3))).shape == (0,)
    assert F.pdist(mg.zeros((0, 3))).shape == (0,)
    np.testing.assert_array_equal(
        F.pdist(mg.tensor([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]), 0).numpy(), [1.0, 1.0, 2.0]
    )
    with pytest.raises(mg.ShapeError, match=r"\(3,\)"):
        F.pdist(mg.zeros(3))
    with pytest.raises(ValueError, match="p must"):
        F.pdist(mg.zeros((2, 3)), -1.0)


@needs_torch
@pytest.mark.parametrize(
    "shape, factor", [((1, 8, 2, 3), 2), ((8, 2, 3), 2), ((2, 1, 9, 2, 2), 3), ((1, 4, 2, 3), 1)]
)
def test_pixel_shuffle_and_unshuffle_match_torch(shape, factor):
    x = np.random.default_rng(4).standard_normal(shape)
    _assert_like_torch(lambda F, a: F.pixel_shuffle(a, factor), x)
    shuffled = torch.nn.functional.pixel_shuffle(torch.tensor(x), factor).numpy()
    _assert_like_torch(lambda F, a: F.pixel_unshuffle(a, factor), shuffled)
    back = F.pixel_unshuffle(F.pixel_shuffle(mg.tensor(x), factor), factor)
    np.testing.assert_array_equal(back.numpy(), x)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.pixel_shuffle(mg.zeros((1, 6, 2, 3)), 2), mg.ShapeError, "divisible"),
        (lambda: F.pixel_shuffle(mg.zeros((4, 2)), 2), mg.ShapeError, r"\(4, 2\)"),
        (lambda: F.pixel_shuffle(mg.zeros((1, 4, 2, 3)), 0), ValueError, "positive"),
        (lambda: F.pixel_unshuffle(mg.zeros((1, 2, 4, 5)), 2), mg.ShapeError, "divisible"),
    ],
)
def test_pixel_shuffle_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
