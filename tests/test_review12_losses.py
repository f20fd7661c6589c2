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
