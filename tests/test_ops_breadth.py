"""Issue 16's op breadth beyond the registry: ops without a gradient (indices, bool tests,
factories) against PyTorch, integer and empty inputs, nn's new layers and losses against their
PyTorch twins, and the bad inputs of each new op (error type, and a message naming the shapes,
dtypes or values at fault, raised before anything changes)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")
tnf = torch.nn.functional


def _pair(values, dtype=None):
    arr = np.asarray(values, dtype=dtype)
    return mg.tensor(arr), torch.tensor(arr)


def _same(ours, theirs) -> None:
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# =============================================================================================
# ops without a gradient, against PyTorch
# =============================================================================================

SPECIALS = [[1.0, math.nan, -math.inf], [math.inf, 0.0, -2.5]]


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_value_tests(name):
    for values, dtype in [(SPECIALS, np.float32), ([[1, -2]], np.int64), ([], np.float64)]:
        a, ta = _pair(values, dtype)
        _same(getattr(mg, name)(a), getattr(torch, name)(ta))
        _same(getattr(a, name)(), getattr(ta, name)())
    assert not mg.isnan(mg.tensor([1.0], requires_grad=True)).requires_grad


def test_isclose_allclose():
    a, ta = _pair([1.0, 1.0 + 1e-6, math.nan, math.inf, 2.0], np.float64)
    b, tb = _pair([1.0, 1.0, math.nan, math.inf, 2.1], np.float64)
    for kw in [{}, {"equal_nan": True}, {"rtol": 0.1}, {"atol": 0.2, "rtol": 0.0}]:
        _same(mg.isclose(a, b, **kw), torch.isclose(ta, tb, **kw))
        assert mg.allclose(a, b, **kw) is torch.allclose(ta, tb, **kw)
    assert a.allclose(a, equal_nan=True) and not mg.allclose(a, a)
    _same(mg.isclose(a, 2.0), torch.isclose(ta, torch.tensor(2.0, dtype=torch.float64)))


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_any_all(dim):
    a, ta = _pair([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]], np.float32)
    for name in ("any", "all"):
        theirs = getattr(ta, name)() if dim is None else getattr(torch, name)(ta, dim=dim)
        _same(getattr(mg, name)(a, dim), theirs)
        kept = getattr(torch, name)(ta, dim=dim if dim is not None else (0, 1), keepdim=True)
        _same(getattr(a, name)(dim, keepdim=True), kept)
    empty, tempty = _pair(np.zeros((0, 2)))
    _same(mg.any(empty), tempty.any())
    _same(mg.all(empty, 0), tempty.all(0))


def test_nonzero():
    a, ta = _pair([[0, 3, 0], [1, 0, 2]])
    _same(mg.nonzero(a), torch.nonzero(ta))
    for ours, theirs in zip(a.nonzero(as_tuple=True), ta.nonzero(as_tuple=True)):
        _same(ours, theirs)
    for values in [[], 5.0, 0.0, np.zeros((2, 0))]:
        a, ta = _pair(values)
        _same(mg.nonzero(a), torch.nonzero(ta))
        assert len(mg.nonzero(a, as_tuple=True)) == len(torch.nonzero(ta, as_tuple=True))


def test_sort_argsort_topk_indices_match_and_have_no_gradient():
    values = [[3.0, 1.0, 3.0, -2.0], [0.5, 0.5, math.nan, 0.5]]  # ties, a NaN
    a = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    ta = torch.tensor(values, dtype=torch.float64)
    for dim in (0, 1, -1):
        for desc in (False, True):
            ours, theirs = (
                a.sort(dim, descending=desc),
                ta.sort(dim=dim, descending=desc, stable=True),
            )
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
            _same(ours.indices, theirs.indices)
            _same(
                mg.argsort(a, dim, descending=desc),
                ta.argsort(dim=dim, descending=desc, stable=True),
            )
            assert ours.values.requires_grad and not ours.indices.requires_grad
    distinct = mg.tensor([[4.0, -1.0, 2.5, 7.0], [0.0, 3.0, -5.0, 1.0]])
    tdistinct = torch.tensor(distinct.numpy())
    for k, largest in [(1, True), (3, False), (0, True), (4, True)]:
        ours, theirs = distinct.topk(k, largest=largest), tdistinct.topk(k, largest=largest)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        _same(ours.indices, theirs.indices)
    ints, tints = _pair([[3, 1, 2], [1, 1, 0]])
    _same(mg.sort(ints, descending=True).values, tints.sort(descending=True).values)
    _same(mg.topk(ints, 2).indices, tints.topk(2).indices)


def test_integer_remainder_and_floor_divide_follow_python_signs():
    a, ta = _pair([-7, -3, 3, 7, 0])
    b, tb = _pair([2, -2, -5, 3, 4])
    _same(a % b, ta % tb)
    _same(a // b, ta // tb)
    _same(a % 3, ta % 3)
    _same(-7 % b, -7 % tb)
    _same(mg.floor_divide(a, -2), torch.floor_divide(ta, -2))
    x, tx = _pair([-7.5, -0.5, 3.25, 7.0], np.float32)
    _same(x % 2.0, tx % 2.0)
    _same(x // -2.0, tx // -2.0)
    _same(x.remainder(-3.0), tx.remainder(-3.0))


def test_prod_cumsum_of_integers_give_int64():
    a, ta = _pair([[1, 2, 3], [4, 5, 6]], np.int32)
    _same(a.prod(), ta.prod())
    _same(mg.prod(a, 1), torch.prod(ta, 1))
    _same(a.cumsum(0), ta.cumsum(0))
    b, tb = _pair([True, False, True])
    _same(b.cumsum(0), tb.cumsum(0))
    e, te = _pair(np.zeros((2, 0), dtype=np.float32))
    _same(e.prod(1), te.prod(1))
    _same(e.cumsum(1), te.cumsum(1))


def test_prod_gradient_with_zeros_matches_torch():
    values = [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]
    a = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    ta = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    a.prod(1).sum().backward()
    ta.prod(1).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(a.grad.numpy(), [[6.0, 0, 0], [0, 0, 0], [6.0, 3.0, 2.0]])


def test_rounding_keeps_integers_and_rounds_half_to_even():
    x, tx = _pair([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345], np.float32)
    for name in ("round", "floor", "ceil", "trunc", "sign"):
        _same(getattr(mg, name)(x), getattr(torch, name)(tx))
    _same(mg.round(x, decimals=2), torch.round(tx, decimals=2))
    i, ti = _pair([-3, 0, 4])
    for name in ("round", "floor", "ceil", "trunc", "sign"):
        _same(getattr(i, name)(), getattr(ti, name)())


def test_factories_full_like_and_linspace():
    base = mg.zeros(2, 3, dtype=mg.float64)
    tbase = torch.zeros(2, 3, dtype=torch.float64)
    _same(mg.full_like(base, 1.5), torch.full_like(tbase, 1.5))
    _same(mg.full_like(base, 7, dtype=mg.int64), torch.full_like(tbase, 7, dtype=torch.int64))
    for start, end, steps in [(0.0, 1.0, 5), (-2.0, 3.0, 1), (0.0, 1.0, 0), (3.0, -1.0, 4)]:
        np.testing.assert_allclose(
            mg.linspace(start, end, steps).numpy(), torch.linspace(start, end, steps).numpy()
        )
        assert mg.linspace(start, end, steps).dtype == mg.float32
    _same(mg.linspace(-3, 4, 6, dtype=mg.int64), torch.linspace(-3, 4, 6, dtype=torch.int64))


def test_masked_select_and_nonzero_of_empty():
    a, ta = _pair(np.zeros((0, 3), dtype=np.float32))
    m, tm = _pair(np.zeros((0, 3), dtype=bool))
    _same(a.masked_select(m), ta.masked_select(tm))


def test_clip_is_clamp():
    assert mg.clip is mg.ops.clamp
    x = mg.tensor([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(x.clip(-1, 1).numpy(), [-1.0, 0.5, 1.0])


def test_einsum_matches_matmul_and_accepts_a_list():
    a, b = mg.randn(2, 3, 4), mg.randn(2, 4, 5)
    np.testing.assert_allclose(mg.einsum("bij,bjk->bik", [a, b]).numpy(), (a @ b).numpy(), 1e-5)
    np.testing.assert_allclose(
        mg.einsum("b i j , b j k -> b i k", a, b).numpy(), (a @ b).numpy(), 1e-5
    )


# =============================================================================================
# nn: layers and losses against PyTorch
# =============================================================================================


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
        (lambda: nn.LogSoftmax(0), lambda: torch.nn.LogSoftmax(0)),
        (lambda: nn.Softplus(2.0, 1.0), lambda: torch.nn.Softplus(2.0, 1.0)),
        (lambda: nn.LeakyReLU(0.3), lambda: torch.nn.LeakyReLU(0.3)),
        (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7)),
        (lambda: nn.Identity(), lambda: torch.nn.Identity()),
        (lambda: nn.Flatten(), lambda: torch.nn.Flatten()),
        (lambda: nn.Flatten(0, 1), lambda: torch.nn.Flatten(0, 1)),
        (lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3))),
    ],
)
def test_layers_match_torch(ours, theirs):
    x = np.random.default_rng(0).standard_normal((4, 6, 2))
    a = mg.tensor(x, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    out, tout = ours()(a), theirs()(ta)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    seed = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(mg.tensor(seed))
    tout.backward(torch.tensor(seed))
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-14)


def _loss_pair(reduction):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    probs = rng.uniform(0.05, 0.95, (5, 4))
    target01 = rng.uniform(0, 1, (5, 4))
    ids = np.array([1, 0, 3, -100, 2])
    weight = np.array([0.5, 2.0, 1.0, 1.5])
    return [
        (
            nn.KLDivLoss(reduction="batchmean" if reduction == "mean" else reduction),
            torch.nn.KLDivLoss(reduction="batchmean" if reduction == "mean" else reduction),
            logits - 2.0,
            probs,
        ),
        (nn.KLDivLoss(reduction, log_target=True), None, logits - 2.0, np.log(probs)),
        (
            nn.NLLLoss(mg.tensor(weight), reduction=reduction),
            torch.nn.NLLLoss(torch.tensor(weight), reduction=reduction),
            logits,
            ids,
        ),
        (
            nn.BCELoss(mg.tensor(weight), reduction),
            torch.nn.BCELoss(torch.tensor(weight), reduction=reduction),
            probs,
            target01,
        ),
        (
            nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=mg.tensor(weight)),
            torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(weight)),
            logits,
            target01,
        ),
    ]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(reduction):
    for ours, theirs, x, t in _loss_pair(reduction):
        if theirs is None:
            theirs = torch.nn.KLDivLoss(reduction=reduction, log_target=True)
        a = mg.tensor(x, requires_grad=True)
        ta = torch.tensor(x, requires_grad=True)
        out = ours(a, mg.tensor(t))
        with warnings.catch_warnings():  # PyTorch's note that kl_div's "mean" is not KL
            warnings.simplefilter("ignore", UserWarning)
            tout = theirs(ta, torch.tensor(t))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-14)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_bce_clamps_the_log_at_minus_100():
    x, t = mg.tensor([0.0, 1.0, 0.0, 1.0]), mg.tensor([1.0, 0.0, 0.0, 1.0])
    tx, tt = torch.tensor(x.numpy()), torch.tensor(t.numpy())
    _same(
        F.binary_cross_entropy(x, t, reduction="none"),
        tnf.binary_cross_entropy(tx, tt, reduction="none"),
    )
    np.testing.assert_array_equal(
        F.binary_cross_entropy(x, t, reduction="none").numpy(), [100, 100, 0, 0]
    )


def test_bce_with_logits_is_stable_for_huge_logits():
    x = mg.tensor([-1e4, 1e4, -1e4, 1e4], requires_grad=True)
    t = mg.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [1e4, 1e4, 0, 0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1, 1, 0, 0])


def test_nll_loss_all_ignored_gives_zero_as_cross_entropy():
    x = mg.randn(3, 4, requires_grad=True)
    t = mg.tensor([-100, -100, -100])
    loss = F.nll_loss(x, t)
    assert loss.item() == 0.0 == mg.cross_entropy(x, t).item()
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_functional_new_names_exist_in_torch():
    for name in (
        "kl_div",
        "nll_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "normalize",
        "silu",
        "softplus",
        "leaky_relu",
        "elu",
        "pad",
    ):
        assert name in F.__all__ and hasattr(tnf, name)


# =============================================================================================
# bad input
# =============================================================================================


def _f64(shape):
    return mg.randn(*shape, dtype=mg.float64, requires_grad=True)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: mg.gather(_f64((2, 3)), 1, mg.tensor([[0, 3]])),
            IndexError,
            r"\[0, 3\].*size 3.*\(2, 3\)",
        ),
        (lambda: mg.gather(_f64((2, 3)), 1, mg.tensor([[0.0]])), TypeError, r"integer.*float32"),
        (lambda: mg.gather(_f64((2, 3)), 1, mg.tensor([0, 1])), mg.ShapeError, r"\(2,\).*\(2, 3\)"),
        (
            lambda: mg.gather(_f64((2, 3)), 1, mg.tensor([[0], [1], [1]])),
            mg.ShapeError,
            r"\(3, 1\).*\(2, 3\).*dim 0",
        ),
        (lambda: mg.gather(_f64((2, 3)), 2, mg.tensor([[0]])), mg.DimError, r"\(2, 3\)"),
        (
            lambda: mg.scatter(_f64((2, 3)), 0, mg.tensor([[0, 1]]), _f64((1, 1))),
            mg.ShapeError,
            r"\(1, 2\).*src.*\(1, 1\)",
        ),
        (lambda: mg.scatter(_f64((2, 3)), 0, mg.tensor([[0]])), TypeError, r"src.*value"),
        (
            lambda: mg.scatter_add(_f64((2, 3)), 0, mg.tensor([[0]]), mg.ones(1, 1)),
            TypeError,
            r"float32.*float64",
        ),
        (
            lambda: mg.scatter_add(_f64((2, 3)), 0, mg.tensor([[-3]]), _f64((1, 1))),
            IndexError,
            r"-3.*size 2",
        ),
        (lambda: mg.masked_select(_f64((2, 3)), mg.tensor([1, 0, 1])), TypeError, r"bool"),
        (
            lambda: mg.masked_select(_f64((2, 3)), mg.tensor([True, False])),
            mg.ShapeError,
            r"\(2, 3\).*\(2,\)",
        ),
        (lambda: mg.topk(_f64((2, 3)), 4), ValueError, r"k \(4\).*\[0, 3\].*\(2, 3\)"),
        (lambda: mg.sort(_f64((2, 3)), 2), mg.DimError, r"\(2, 3\)"),
        (lambda: mg.cumsum(_f64((2, 3)), 5), mg.DimError, r"\(2, 3\)"),
        (lambda: mg.prod(_f64((2, 3)), (0, 1)), TypeError, r"prod: dim"),
        (lambda: mg.flip(_f64((2, 3)), (0, -2)), ValueError, r"twice.*\(2, 3\)"),
        (lambda: mg.roll(_f64((2, 3)), (1, 2), 0), ValueError, r"2 shifts for 1 dims"),
        (lambda: _f64((2, 3)).repeat(2), ValueError, r"\(2,\).*\(2, 3\)"),
        (
            lambda: _f64((2, 3)).repeat_interleave(mg.tensor([1, 2]), dim=1),
            mg.ShapeError,
            r"size 3.*\(2,\)",
        ),
        (lambda: _f64((2, 6)).unflatten(1, (4, -1)), mg.ShapeError, r"\(4, -1\).*size 6.*\(2, 6\)"),
        (lambda: mg.ops.pad(_f64((2, 3)), (1, 1, 1)), ValueError, r"even.*\(2, 3\)"),
        (
            lambda: mg.ops.pad(_f64((2, 3)), (3, 0), mode="reflect"),
            ValueError,
            r"reflect.*\(3, 0\).*size 3.*\(2, 3\)",
        ),
        (
            lambda: mg.ops.pad(_f64((2, 3)), (4, 0), mode="circular"),
            ValueError,
            r"circular widths \(4, 0\).*size 3.*\(2, 3\)",
        ),
        (lambda: mg.ops.pad(_f64((2, 3)), (1, 0), mode="wrap"), ValueError, r"circular.*'wrap'"),
        (lambda: mg.ops.pad(_f64((2, 3)), (-2, -2)), ValueError, r"\(2, 3\)"),
        (lambda: mg.diagonal(_f64((3,))), mg.DimError, r"\(3,\)"),
        (lambda: mg.diagonal(_f64((3, 3)), 0, 1, -1), ValueError, r"distinct.*\(3, 3\)"),
        (lambda: mg.diag(_f64((2, 2, 2))), ValueError, r"\(2, 2, 2\)"),
        (
            lambda: mg.einsum("ij,jk->ik", _f64((2, 3)), _f64((4, 5))),
            mg.ShapeError,
            r"'j'.*3 and 4.*\(2, 3\).*\(4, 5\)",
        ),
        (
            lambda: mg.einsum("...j,...j->...", _f64((2, 3, 4)), _f64((3, 1, 4))),
            mg.ShapeError,
            r"a dim covered by '\.\.\.' has size 2 and 3.*\(2, 3, 4\), \(3, 1, 4\)",
        ),
        (lambda: mg.einsum("ij,jk->ik", _f64((2, 3))), ValueError, r"2 operands, got 1"),
        (lambda: mg.einsum("ijk->i", _f64((2, 3))), ValueError, r"'ijk'.*\(2, 3\)"),
        (lambda: mg.einsum("ij->iz", _f64((2, 3))), ValueError, r"'iz'"),
        (lambda: mg.einsum("ij,jk", _f64((2, 3)), mg.ones(3, 2)), TypeError, r"float32.*float64"),
        (lambda: mg.ops.softplus(_f64((2,)), beta=0), ValueError, r"beta"),
        (lambda: mg.gelu(mg.tensor([1, 2])), mg.DTypeError, r"int64"),
        (lambda: mg.logaddexp(mg.tensor([1, 2]), mg.tensor([3, 4])), mg.DTypeError, r"int64"),
        (lambda: mg.tensor([3, 4]) % mg.tensor([1, 0]), ZeroDivisionError, r"\(2,\)"),
        (lambda: mg.tensor([3, 4]) // 0, ZeroDivisionError, r"floor_divide"),
        (lambda: mg.isclose(_f64((2,)), mg.ones(2)), TypeError, r"float64 and float32"),
        (lambda: mg.linspace(0, 1, -1), ValueError, r"steps"),
        (
            lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0, 4, 1])),
            IndexError,
            r"classes = 4\).*\[0, 4\].*\(3,\)",
        ),
        (
            lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0, 1])),
            mg.ShapeError,
            r"\(3, 4\).*\(3,\).*\(2,\)",
        ),
        (lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0.0, 1.0, 2.0])), TypeError, r"float32"),
        (
            lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0, 1, 2]), mg.ones(3)),
            mg.ShapeError,
            r"\(4,\).*\(3,\)",
        ),
        (
            lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0, 1, 2]), reduction="avg"),
            ValueError,
            r"'avg'",
        ),
        (lambda: F.kl_div(_f64((3, 4)), _f64((4, 3))), mg.ShapeError, r"\(3, 4\).*\(4, 3\)"),
        (
            lambda: F.kl_div(_f64((3, 4)), _f64((3, 4)), reduction="batch"),
            ValueError,
            r"batchmean.*'batch'",
        ),
        (
            lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0])),
            ValueError,
            r"between 0 and 1.*\(2,\).*1\.5",
        ),
        (
            lambda: F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([[1.0]])),
            mg.ShapeError,
            r"\(1, 1\).*\(1,\)",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(_f64((2,)), mg.tensor([1, 0])),
            mg.DTypeError,
            r"int64.*\(2,\)",
        ),
        (
            lambda: F.binary_cross_entropy_with_logits(_f64((3,)), mg.ones(3), mg.ones(2, 3)),
            mg.ShapeError,
            r"weight of shape \(2, 3\).*\(3,\)",
        ),
        (
            lambda: F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1.5])),
            ValueError,
            r"target.*1\.5",
        ),
        (
            lambda: F.binary_cross_entropy(mg.tensor([float("nan")]), mg.tensor([1.0])),
            ValueError,
            r"input.*between 0 and 1",
        ),
        (
            lambda: F.nll_loss(_f64((3, 4)), mg.tensor([0, 1, 2]), mg.ones(4)),
            TypeError,
            r"weight is float32 \(shape \(4,\)\).*float64",
        ),
        (lambda: mg.repeat_interleave(mg.tensor(3)), mg.ShapeError, r"counts.*\(\) int64"),
        (lambda: F.normalize(_f64((2, 3)), p=0), ValueError, r"p must be"),
        (lambda: F.normalize(_f64((2, 3)), dim=2), mg.DimError, r"\(2, 3\)"),
        (lambda: nn.KLDivLoss(reduction="avg"), ValueError, r"'avg'"),
        (lambda: nn.Softplus(beta=0), ValueError, r"beta"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_bad_index_changes_nothing():
    x = mg.zeros(2, 3, dtype=mg.float64, requires_grad=True)
    src = mg.ones(1, 2, dtype=mg.float64)
    with pytest.raises(IndexError):
        mg.scatter_add(x, 1, mg.tensor([[0, 9]]), src)
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 3)))
    assert x.grad is None


ISSUE_16_TOP_LEVEL = [
    "allclose", "all", "any", "argsort", "ceil", "clip", "cos", "cumsum", "diag", "diagonal",
    "einsum", "erf", "exp2", "flip", "floor", "floor_divide", "full_like", "gather", "isclose",
    "isfinite", "isinf", "isnan", "linspace", "log2", "logaddexp", "masked_select", "nonzero",
    "prod", "remainder", "repeat_interleave", "roll", "round", "rsqrt", "scatter",
    "scatter_add", "sign", "sin", "sort", "topk", "trunc", "unflatten",
]  # fmt: skip
ISSUE_16_METHODS = [
    "all", "allclose", "any", "argsort", "ceil", "cos", "cumsum", "diag", "diagonal", "erf",
    "exp2", "flip", "floor", "floor_divide", "gather", "isclose", "isfinite", "isinf", "isnan",
    "log2", "logaddexp", "masked_select", "nonzero", "prod", "remainder", "repeat",
    "repeat_interleave", "roll", "round", "rsqrt", "scatter", "scatter_add", "sign", "sin",
    "sort", "topk", "trunc", "unflatten", "__mod__", "__rmod__", "__floordiv__",
    "__rfloordiv__",
]  # fmt: skip


def test_new_names_are_pytorch_names():
    for name in ISSUE_16_TOP_LEVEL:
        assert hasattr(torch, name) and callable(getattr(mg, name)), name
        assert name in mg.__all__, name
    for name in ISSUE_16_METHODS:
        assert hasattr(torch.Tensor, name) and callable(getattr(mg.Tensor, name)), name
    for name in ("SiLU", "LogSoftmax", "Softplus", "LeakyReLU", "ELU", "Identity", "Flatten",
                 "Unflatten", "KLDivLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):  # fmt: skip
        assert hasattr(torch.nn, name) and name in nn.__all__ + ["Identity"], name


def test_sort_and_topk_return_named_tuples():
    x = mg.tensor([[3.0, 1.0, 2.0]])
    values, indices = mg.sort(x)
    assert x.sort().values.tolist() == values.tolist() == [[1.0, 2.0, 3.0]]
    assert x.sort().indices.tolist() == indices.tolist() == [[1, 2, 0]]
    assert x.topk(1).indices.tolist() == [[0]] and x.topk(1).values.tolist() == [[3.0]]
    assert indices.dtype == mg.int64 and not indices.requires_grad


def test_gather_refuses_negative_indices_as_pytorch():
    with pytest.raises(IndexError, match=r"\[-1, -1\].*\[0, 3\).*\(3,\)"):
        mg.gather(mg.arange(3.0), 0, mg.tensor([-1]))
    with pytest.raises(RuntimeError):
        torch.gather(torch.arange(3.0), 0, torch.tensor([-1]))


def test_axis_is_an_alias_of_dim():
    x = mg.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    tx = torch.tensor(x.numpy())
    np.testing.assert_array_equal(x.prod(axis=1).numpy(), tx.prod(axis=1).numpy())
    np.testing.assert_array_equal(mg.cumsum(x, axis=0).numpy(), torch.cumsum(tx, axis=0).numpy())
    np.testing.assert_array_equal(x.sort(axis=0).indices.numpy(), tx.sort(axis=0).indices.numpy())
    np.testing.assert_array_equal(mg.any(x > 4, axis=1).numpy(), torch.any(tx > 4, axis=1).numpy())
    idx = mg.tensor([[0], [2]])
    np.testing.assert_array_equal(
        x.gather(axis=1, index=idx).numpy(),
        tx.gather(axis=1, index=torch.tensor(idx.numpy())).numpy(),
    )
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        x.prod(dim=0, axis=0)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "widths", [(-1, 2), (2, -1), (-1, -1), (-6, 3), (3, -6), (-2, 4), (4, -8), (-5, 0), (-3, -2)]
)
def test_pad_with_negative_widths_crops_as_torch(mode, widths):
    """Negative widths crop in every mode (reflect and replicate refused them); where PyTorch
    refuses (an empty reflect or replicate dim, a circular wrap past the crop) so does minigrad."""
    values = np.arange(10.0).reshape(1, 2, 5) ** 1.5
    lo, hi = widths
    if mode == "circular" and 5 - max(-lo, 0) - max(-hi, 0) < max(lo, hi, 0):
        # wrapping around more than what the crop leaves: PyTorch refuses, or (for some
        # shapes) returns uninitialized memory
        with pytest.raises(ValueError, match="circular widths"):
            F.pad(mg.tensor(values), widths, mode=mode)
        return
    theirs_x = torch.tensor(values, requires_grad=True)
    try:
        theirs = tnf.pad(theirs_x, widths, mode=mode)
    except (RuntimeError, NotImplementedError):
        with pytest.raises(ValueError, match=rf"{mode} widths"):
            F.pad(mg.tensor(values), widths, mode=mode)
        return
    ours_x = mg.tensor(values, requires_grad=True)
    ours = F.pad(ours_x, widths, mode=mode)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    weight = np.random.default_rng(0).standard_normal(tuple(theirs.shape))
    (ours * mg.tensor(weight)).sum().backward()
    (theirs * torch.tensor(weight)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-12)
