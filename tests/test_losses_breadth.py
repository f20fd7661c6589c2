"""The losses of ``nn/losses.py`` (and the L1/SmoothL1/Huber modules of ``nn/layers.py``)
against PyTorch's: values and the gradient of every differentiable input in float64 over each
reduction and option, the float32 dtype kept, float64 gradchecks and gradgradchecks (they are
composites, so second order comes from the ops), the modules against the functions, and the
errors bad arguments get."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

TF = torch.nn.functional if torch is not None else None
REDUCTIONS = ("mean", "sum", "none")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _compare(ours, theirs, arrays, grads, tol=1e-10):
    """Run ``ours`` on minigrad tensors and ``theirs`` on torch tensors made from ``arrays``
    (the indices in ``grads`` require grad); compare the values and, through a random upstream
    gradient, the gradients."""
    mine = [mg.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    them = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out, tout = ours(*mine), theirs(*them)
    assert tuple(out.shape) == tuple(tout.shape)
    assert out.dtype == mg.float64
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    up = _rng(99).standard_normal(tuple(out.shape))
    (out * mg.tensor(up)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    for i in grads:
        np.testing.assert_allclose(
            mine[i].grad.numpy(), them[i].grad.numpy(), rtol=tol, atol=tol, err_msg=f"input {i}"
        )


def _signs(rng, shape, zero=False):
    y = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    if zero:
        y.reshape(-1)[0] = 0.0  # neither class: PyTorch's formulas still define a value
    return y


# -- parity with PyTorch ----------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "shapes", [((6,), (6,), (6,)), ((4, 3), (4, 3), (4, 3)), ((4, 1), (4, 3), (1, 3))]
)
def test_margin_ranking_loss(reduction, shapes):
    rng = _rng(0)
    x1, x2 = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    y = _signs(rng, shapes[2])
    _compare(
        lambda a, b, t: F.margin_ranking_loss(a, b, t, 0.3, reduction=reduction),
        lambda a, b, t: TF.margin_ranking_loss(a, b, t, 0.3, reduction=reduction),
        [x1, x2, y],
        (0, 1),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.25])
def test_hinge_embedding_loss(reduction, margin):
    rng = _rng(1)
    x = rng.standard_normal((5, 4))
    _compare(
        lambda a, t: F.hinge_embedding_loss(a, t, margin, reduction=reduction),
        lambda a, t: TF.hinge_embedding_loss(a, t, margin, reduction=reduction),
        [x, _signs(rng, (5, 4), zero=True)],
        (0,),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction):
    rng = _rng(2)
    x = rng.standard_normal((5, 4)) * 3
    _compare(
        lambda a, t: F.soft_margin_loss(a, t, reduction=reduction),
        lambda a, t: TF.soft_margin_loss(a, t, reduction=reduction),
        [x, _signs(rng, (5, 4))],
        (0,),
    )


def test_soft_margin_loss_does_not_overflow_where_pytorchs_does():
    x = mg.tensor([[-100.0, 100.0]], dtype=mg.float32, requires_grad=True)
    y = mg.tensor([[1.0, 1.0]], dtype=mg.float32)
    loss = F.soft_margin_loss(x, y, reduction="sum")
    loss.backward()
    tx = torch.tensor([[-100.0, 100.0]], requires_grad=True)
    tloss = TF.soft_margin_loss(tx, torch.ones(1, 2), reduction="sum")
    assert math.isinf(tloss.item())  # PyTorch's log1p(exp(100)) in float32
    assert loss.item() == pytest.approx(100.0)
    np.testing.assert_allclose(x.grad.numpy(), [[-1.0, -math.exp(-100.0)]], rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_multi_margin_loss(reduction, p, weighted, batched):
    rng = _rng(3)
    x = rng.standard_normal((7, 5) if batched else (5,))
    t = rng.integers(0, 5, (7,) if batched else ())
    w = rng.random(5) if weighted else None

    def ours(a, ids):
        weight = None if w is None else mg.tensor(w)
        return F.multi_margin_loss(a, ids, p, 0.7, weight, reduction=reduction)

    def theirs(a, ids):
        weight = None if w is None else torch.tensor(w)
        return TF.multi_margin_loss(a, ids, p, 0.7, weight, reduction=reduction)

    _compare(ours, theirs, [x, t], (0,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    rng = _rng(4)
    x = rng.standard_normal((5, 6))
    # lists ending at the first -1 (later ids ignored), a full row, an empty one, a repeat
    t = np.array(
        [[3, 0, -1, 1, 2, 2], [0, 1, 2, 3, 4, 5], [-1, 1, 2, 0, 0, 0], [5, 5, -1, 0, 0, 0],
         [2, 4, 1, -1, 3, 3]]
    )  # fmt: skip
    _compare(
        lambda a, ids: F.multilabel_margin_loss(a, ids, reduction=reduction),
        lambda a, ids: TF.multilabel_margin_loss(a, ids, reduction=reduction),
        [x, t],
        (0,),
    )
    _compare(  # one sample, (C,)
        lambda a, ids: F.multilabel_margin_loss(a, ids, reduction=reduction),
        lambda a, ids: TF.multilabel_margin_loss(a, ids, reduction=reduction),
        [x[0], t[0]],
        (0,),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss(reduction, weighted):
    rng = _rng(5)
    x, t = rng.standard_normal((4, 6)) * 4, (rng.random((4, 6)) > 0.5).astype(float)
    w = rng.random(6) if weighted else None

    def ours(a, y):
        weight = None if w is None else mg.tensor(w)
        return F.multilabel_soft_margin_loss(a, y, weight, reduction=reduction)

    def theirs(a, y):
        weight = None if w is None else torch.tensor(w)
        return TF.multilabel_soft_margin_loss(a, y, weight, reduction=reduction)

    _compare(ours, theirs, [x, t], (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [True, False])
def test_cosine_embedding_loss(reduction, batched):
    rng = _rng(6)
    shape = (5, 3) if batched else (3,)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = np.array([1.0, -1.0, 1.0, -1.0, 0.0]) if batched else np.array(-1.0)
    _compare(
        lambda a, b, t: F.cosine_embedding_loss(a, b, t, -0.2, reduction=reduction),
        lambda a, b, t: TF.cosine_embedding_loss(a, b, t, -0.2, reduction=reduction),
        [x1, x2, y],
        (0, 1),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_loss(reduction, p, swap):
    rng = _rng(7)
    a, pos, neg = (rng.standard_normal((6, 4)) for _ in range(3))
    _compare(
        lambda *t: F.triplet_margin_loss(*t, 1.5, p, 1e-6, swap, reduction=reduction),
        lambda *t: TF.triplet_margin_loss(*t, 1.5, p, 1e-6, swap, reduction=reduction),
        [a, pos, neg],
        (0, 1, 2),
    )


@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(swap):
    rng = _rng(8)
    arrays = [rng.standard_normal((6, 4)) for _ in range(3)]

    def ours(*t):
        def distance(u, v):
            return 1 - F.cosine_similarity(u, v)

        return F.triplet_margin_with_distance_loss(
            *t, distance_function=distance, margin=0.5, swap=swap, reduction="none"
        )

    def theirs(*t):
        def distance(u, v):
            return 1 - TF.cosine_similarity(u, v)

        return TF.triplet_margin_with_distance_loss(
            *t, distance_function=distance, margin=0.5, swap=swap, reduction="none"
        )

    _compare(ours, theirs, arrays, (0, 1, 2))
    _compare(  # the default distance: pairwise_distance
        lambda *t: F.triplet_margin_with_distance_loss(*t, swap=swap),
        lambda *t: TF.triplet_margin_with_distance_loss(*t, swap=swap),
        arrays,
        (0, 1, 2),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss(reduction, log_input, full):
    rng = _rng(9)
    x = rng.random((5, 3)) + 0.1
    t = rng.integers(1, 6, (5, 3)).astype(float)  # the target's gradient too (NaN at 0: below)
    _compare(
        lambda a, y: F.poisson_nll_loss(a, y, log_input, full, reduction=reduction),
        lambda a, y: TF.poisson_nll_loss(a, y, log_input, full, reduction=reduction),
        [x, t],
        (0, 1),
    )


def test_poisson_nll_loss_full_target_gradient_at_zero():
    """PyTorch's Stirling term gives a target of 0 a NaN gradient (0 * log 0 in its
    backward); here the term is 0 there with a zero gradient, leaving the rest's -x."""
    x, t = mg.tensor([0.5, 0.5]), mg.tensor([0.0, 3.0], requires_grad=True)
    F.poisson_nll_loss(x, t, full=True, reduction="sum").backward()
    tt = torch.tensor([0.0, 3.0], requires_grad=True)
    TF.poisson_nll_loss(torch.tensor([0.5, 0.5]), tt, full=True, reduction="sum").backward()
    assert math.isnan(tt.grad[0].item())
    assert t.grad.numpy()[0] == pytest.approx(-0.5)
    assert t.grad.numpy()[1] == pytest.approx(tt.grad[1].item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", [(5, 3), (5,), (5, 1), (1, 3)])
def test_gaussian_nll_loss(reduction, full, var_shape):
    rng = _rng(10)
    x, t = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    var = rng.random(var_shape) + 0.05
    var.reshape(-1)[0] = 1e-9  # below eps: clamped, its gradient the unclamped formula's
    _compare(
        lambda a, y, v: F.gaussian_nll_loss(a, y, v, full, 1e-6, reduction),
        lambda a, y, v: TF.gaussian_nll_loss(a, y, v, full, 1e-6, reduction),
        [x, t, var],
        (0, 1, 2),
        tol=1e-8,
    )


def test_gaussian_nll_loss_float_var():
    rng = _rng(11)
    x, t = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    _compare(
        lambda a, y: F.gaussian_nll_loss(a, y, 0.5),
        lambda a, y: TF.gaussian_nll_loss(a, y, 0.5),
        [x, t],
        (0, 1),
    )


# -- CTC ----------------------------------------------------------------------------------------


def _ctc_case(rng, steps=12, n=3, classes=5, width=4):
    logits = rng.standard_normal((steps, n, classes))
    targets = rng.integers(1, classes, (n, width))
    targets[0, 1] = targets[0, 0]  # a repeated label: the path needs a blank between them
    return logits, targets


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_padded_targets(reduction, zero_infinity):
    logits, targets = _ctc_case(_rng(12))
    lengths = ([12, 10, 7], [4, 2, 0])  # an empty target too

    def ours(x, y):
        return F.ctc_loss(x.log_softmax(2), y, *lengths, 0, reduction, zero_infinity)

    def theirs(x, y):
        return TF.ctc_loss(x.log_softmax(2), y, *lengths, 0, reduction, zero_infinity)

    _compare(ours, theirs, [logits, targets], (0,))


def test_ctc_loss_concatenated_targets_tensor_lengths_and_blank():
    rng = _rng(13)
    logits = rng.standard_normal((9, 2, 4))
    targets = np.array([0, 2, 2, 1, 0])  # blank 3: lengths 3 and 2
    lengths = (np.array([9, 8]), np.array([3, 2]))

    def ours(x, y):
        lens = [mg.tensor(k) for k in lengths]
        return F.ctc_loss(x.log_softmax(2), y, *lens, blank=3, reduction="none")

    def theirs(x, y):
        lens = [torch.tensor(k) for k in lengths]
        return TF.ctc_loss(x.log_softmax(2), y, *lens, blank=3, reduction="none")

    _compare(ours, theirs, [logits, targets], (0,))


def test_ctc_loss_unbatched():
    rng = _rng(14)
    logits, targets = rng.standard_normal((8, 5)), np.array([1, 3, 3])
    _compare(  # lengths as 0-d tensors (minigrad takes ints too)
        lambda x, y: F.ctc_loss(x.log_softmax(1), y, mg.tensor(8), mg.tensor(3), reduction="none"),
        lambda x, y: TF.ctc_loss(
            x.log_softmax(1), y, torch.tensor(8), torch.tensor(3), reduction="none"
        ),
        [logits, targets],
        (0,),
    )
    x = mg.tensor(logits).log_softmax(1)
    assert F.ctc_loss(x, mg.tensor(targets), 8, 3).item() == pytest.approx(
        F.ctc_loss(x, mg.tensor(targets), mg.tensor(8), mg.tensor(3), reduction="none").item() / 3
    )


def test_ctc_loss_impossible_alignment():
    """Too few steps for the target: the loss is inf, and 0 with ``zero_infinity`` (the other
    samples' gradients unchanged). The impossible sample's gradient is 0 here, NaN in PyTorch
    (documented in the differences)."""
    logits, targets = _ctc_case(_rng(15))
    lengths = ([3, 10, 7], [4, 2, 1])
    x = mg.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), mg.tensor(targets), *lengths, reduction="none")
    tloss = TF.ctc_loss(torch.tensor(logits).log_softmax(2), torch.tensor(targets), *lengths,
                        reduction="none")  # fmt: skip
    assert math.isinf(loss.numpy()[0]) and math.isinf(tloss[0].item())
    np.testing.assert_allclose(loss.numpy()[1:], tloss.numpy()[1:], rtol=1e-10)
    loss[1:].sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    _compare(
        lambda u, y: F.ctc_loss(u.log_softmax(2), y, *lengths, zero_infinity=True),
        lambda u, y: TF.ctc_loss(u.log_softmax(2), y, *lengths, zero_infinity=True),
        [logits, targets],
        (0,),
    )


def test_ctc_loss_gradient_is_the_losss_own():
    """With respect to log_probs themselves (a leaf, not a log_softmax output) the gradient
    is the derivative of the loss: gradcheck passes. PyTorch's adds exp(log_probs)."""
    rng = _rng(16)
    lp = mg.tensor(rng.standard_normal((5, 2, 3)) - 1.0, requires_grad=True)
    targets, lengths = mg.tensor([[1, 2], [2, 2]]), ([5, 5], [2, 2])
    assert mg.gradcheck(lambda u: F.ctc_loss(u, targets, *lengths), [lp])


# -- dtypes, higher order, modules ------------------------------------------------------------


def test_float32_in_float32_out():
    rng = _rng(17)
    x = mg.tensor(rng.standard_normal((4, 3)), dtype=mg.float32, requires_grad=True)
    y = mg.tensor(_signs(rng, (4, 3)), dtype=mg.float32)
    for loss in (
        F.soft_margin_loss(x, y),
        F.hinge_embedding_loss(x, y),
        F.margin_ranking_loss(x, x.detach() * 0.5, y),
        F.multilabel_soft_margin_loss(x, (y > 0).float()),
        F.multi_margin_loss(x, mg.tensor([0, 1, 2, 0])),
        F.cosine_embedding_loss(x, x.detach() + 1, mg.tensor([1.0, -1.0, 1.0, -1.0])),
        F.triplet_margin_loss(x, x.detach() + 1, x.detach() - 1),
        F.poisson_nll_loss(x, (y > 0).float()),
        F.gaussian_nll_loss(x, y, mg.ones_like(y)),
        F.ctc_loss(x.log_softmax(1), mg.tensor([1, 2]), 4, 2),
    ):
        assert loss.dtype == mg.float32
        assert mg.grad(loss, x)[0].dtype == mg.float32


SECOND_ORDER = [
    ("margin_ranking", lambda a, b: F.margin_ranking_loss(a, b, mg.tensor([1.0, -1.0, 1.0]), 3.0)),
    ("soft_margin", lambda a, b: F.soft_margin_loss(a * b, mg.tensor([1.0, -1.0, 1.0]))),
    ("multilabel_soft", lambda a, b: F.multilabel_soft_margin_loss(a.reshape(1, 3), b.reshape(1, 3).sigmoid())),
    ("multi_margin", lambda a, b: F.multi_margin_loss((a * b).reshape(1, 3), mg.tensor([1]), p=2, margin=5.0)),
    ("cosine", lambda a, b: F.cosine_embedding_loss(a.reshape(1, 3), b.reshape(1, 3), mg.tensor([1.0]))),
    ("triplet", lambda a, b: F.triplet_margin_loss(a, b, a * b, margin=4.0)),
    ("poisson", lambda a, b: F.poisson_nll_loss(a, b.abs(), full=True)),
    ("gaussian", lambda a, b: F.gaussian_nll_loss(a, b, a * a + 1)),
    ("ctc", lambda a, b: F.ctc_loss((a.reshape(3, 1) * b).log_softmax(1), mg.tensor([1]), 3, 1)),
]  # fmt: skip


@pytest.mark.parametrize("name,fn", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_gradcheck_and_gradgradcheck(name, fn):
    rng = _rng(18)
    a = mg.tensor(rng.standard_normal(3), requires_grad=True)
    b = mg.tensor(rng.standard_normal(3) + 2.0, requires_grad=True)
    assert mg.gradcheck(fn, [a, b])
    assert mg.gradgradcheck(fn, [a, b])


MODULES = [
    ("L1Loss", {}, 2),
    ("SmoothL1Loss", {"beta": 0.5}, 2),
    ("HuberLoss", {"delta": 0.5}, 2),
    ("MarginRankingLoss", {"margin": 0.2}, 3),
    ("HingeEmbeddingLoss", {"margin": 0.5}, 2),
    ("SoftMarginLoss", {}, 2),
    ("MultiLabelSoftMarginLoss", {}, 2),
    ("CosineEmbeddingLoss", {"margin": 0.1}, 3),
    ("TripletMarginLoss", {"margin": 0.5, "p": 1.0, "swap": True}, 3),
    ("TripletMarginWithDistanceLoss", {"margin": 0.5}, 3),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, 2),
    ("GaussianNLLLoss", {"full": True}, 3),
]


@pytest.mark.parametrize("name,kwargs,arity", MODULES, ids=[m[0] for m in MODULES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_modules_match_pytorchs(name, kwargs, arity, reduction):
    rng = _rng(19)
    shape = (4, 3)
    arrays = [rng.random(shape) + 0.5 for _ in range(arity)]
    if name in ("MarginRankingLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss"):
        arrays[-1] = _signs(rng, shape if name != "CosineEmbeddingLoss" else (4,))
    if name == "MultiLabelSoftMarginLoss":
        arrays[-1] = (arrays[-1] > 1.0).astype(float)
    ours = getattr(nn, name)(**kwargs, reduction=reduction)
    theirs = getattr(torch.nn, name)(**kwargs, reduction=reduction)
    assert repr(ours).startswith(name)
    _compare(ours, theirs, arrays, (0,))


def test_modules_take_pytorchs_positions_and_keyword_reduction():
    assert nn.MultiMarginLoss(2, 0.5).p == 2 and nn.MultiMarginLoss(2, 0.5).margin == 0.5
    assert nn.TripletMarginLoss(0.3, 1.0, 1e-3, True).swap is True
    assert nn.CTCLoss(3, "sum", True).blank == 3
    assert nn.HuberLoss("sum", 2.0).delta == 2.0
    with pytest.raises(TypeError):  # PyTorch's second position is its deprecated size_average
        nn.MarginRankingLoss(0.1, "sum")
    with pytest.raises(TypeError):
        F.soft_margin_loss(mg.zeros(2), mg.ones(2), "sum")
    weight = mg.ones(3)
    module = nn.MultiLabelSoftMarginLoss(weight)
    assert "weight" in dict(module.named_buffers())


def test_ctc_module_matches_pytorch():
    logits, targets = _ctc_case(_rng(20))
    lengths = ([12, 11, 9], [4, 3, 2])
    _compare(
        lambda x, y: nn.CTCLoss(reduction="sum")(x.log_softmax(2), y, *lengths),
        lambda x, y: torch.nn.CTCLoss(reduction="sum")(x.log_softmax(2), y, *lengths),
        [logits, targets],
        (0,),
    )


# -- bad input ------------------------------------------------------------------------------------


def test_bad_arguments_name_what_is_wrong():
    x, y = mg.zeros((4, 3)), mg.ones((4, 3))
    with pytest.raises(ValueError, match="reduction must be"):
        F.soft_margin_loss(x, y, reduction="avg")
    with pytest.raises(ValueError, match="reduction must be"):
        nn.SoftMarginLoss(reduction="avg")
    with pytest.raises(ValueError, match="p must be 1 or 2"):
        F.multi_margin_loss(x, mg.tensor([0, 1, 2, 0]), p=3)
    with pytest.raises(IndexError, match=r"target ids must be in \[0, 3\)"):
        F.multi_margin_loss(x, mg.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="shape"):
        F.multi_margin_loss(x, mg.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"weight must be a tensor of shape \(3,\)"):
        F.multi_margin_loss(x, mg.tensor([0, 1, 2, 0]), weight=mg.ones(4))
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        F.multilabel_margin_loss(x, mg.tensor([[0, 1, -1]]))
    with pytest.raises(IndexError, match=r"\[-1, 3\)"):
        F.multilabel_margin_loss(x, mg.full((4, 3), -2, dtype=mg.int64))
    with pytest.raises(ValueError, match=r"margin must be > 0"):
        F.triplet_margin_loss(x, y, y, margin=0.0)
    with pytest.raises(ValueError, match=r"same number of dims.*\(4, 3\).*\(3,\)"):
        F.triplet_margin_loss(x, y, mg.ones(3))
    with pytest.raises(ValueError, match=r"same number of dims"):
        F.margin_ranking_loss(x, y, mg.ones(4))
    with pytest.raises(ValueError, match=r"do not broadcast.*\(4, 3\).*\(2, 3\)"):
        F.hinge_embedding_loss(x, mg.ones((2, 3)))
    with pytest.raises(ValueError, match=r"target \(1, 2\)"):
        F.cosine_embedding_loss(x, y, mg.ones(2).reshape(1, 2))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, y, mg.full((4, 3), -1.0))
    with pytest.raises(ValueError, match=r"var of shape \(2,\)"):
        F.gaussian_nll_loss(x, y, mg.ones(2))
    with pytest.raises(TypeError, match="floating point"):
        F.soft_margin_loss(mg.zeros(3, dtype=mg.int64), mg.ones(3))


def test_ctc_bad_arguments():
    lp = mg.zeros((6, 2, 4))
    targets = mg.tensor([[1, 2], [3, 1]])
    with pytest.raises(ValueError, match=r"other than the blank 0"):
        F.ctc_loss(lp, mg.tensor([[1, 0], [3, 1]]), [6, 6], [2, 2])
    with pytest.raises(ValueError, match=r"class ids in \[0, 4\)"):
        F.ctc_loss(lp, mg.tensor([[1, 4], [3, 1]]), [6, 6], [2, 2])
    with pytest.raises(ValueError, match=r"input_lengths must be in \[0, 6\]"):
        F.ctc_loss(lp, targets, [7, 6], [2, 2])
    with pytest.raises(ValueError, match="2 lengths"):
        F.ctc_loss(lp, targets, [6], [2, 2])
    with pytest.raises(ValueError, match=r"do not hold target_lengths"):
        F.ctc_loss(lp, targets, [6, 6], [3, 2])
    with pytest.raises(ValueError, match=r"hold 3 labels, target_lengths sum to 4"):
        F.ctc_loss(lp, mg.tensor([1, 2, 3]), [6, 6], [2, 2])
    with pytest.raises(ValueError, match=r"blank must be a class id"):
        F.ctc_loss(lp, targets, [6, 6], [2, 2], blank=4)
    with pytest.raises(TypeError, match="integer labels"):
        F.ctc_loss(lp, targets.float(), [6, 6], [2, 2])
