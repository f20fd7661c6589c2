"""Review of the convolution, pooling and nn layers (h15): regressions for what the review
found, each against PyTorch where it has a twin. Max pooling of -inf values beside the padding
and of windows that dilation steps over the input; NumPy integer arguments; the weights
MultiheadAttention returns in training (after dropout, as PyTorch's); the errors bad masks,
states, sequences and shapes get, raised before anything changes; pairwise_distance with p=0."""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.ops as ops
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

INF = float("inf")


def _pool_both(name: str, x: np.ndarray, *args, grad: np.ndarray | None = None):
    """(minigrad's values, indices, input gradient), then PyTorch's, for the same pooling."""
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ym, im = getattr(ops, name)(xm, *args, return_indices=True)
    yt, it = getattr(torch.nn.functional, name)(xt, *args, return_indices=True)
    g = np.ones(yt.shape) if grad is None else grad
    (ym * mg.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    mine = (ym.numpy(), im.numpy(), xm.grad.numpy())
    theirs = (yt.detach().numpy(), it.numpy(), xt.grad.numpy())
    return mine, theirs


@pytest.mark.parametrize(
    ("name", "x", "args"),
    [
        ("max_pool1d", [[[-INF, 5.0, 1.0]]], (2, 1, 1)),
        ("max_pool1d", [[[-INF, -INF, 2.0, -INF, -INF, -INF, -INF]]], (3, 2, 1, 2, True)),
        ("max_pool2d", [[[[-INF, 5.0], [1.0, 2.0]]]], (2, 1, 1)),
        ("max_pool2d", [[[[-INF, -INF, 3.0], [-INF, -INF, 4.0], [1.0, 2.0, -INF]]]], (3, 2, 1)),
    ],
)
def test_max_pool_minus_inf_beside_the_padding_matches_torch(name, x, args):
    # a window whose inputs are all -inf tied with its -inf padding: the old code took the
    # padded position, read x[-1] (another element) and sent its gradient there
    x = np.array(x)
    shape = getattr(torch.nn.functional, name)(torch.tensor(x), *args).shape
    grad = np.arange(1.0, 1 + np.prod(shape)).reshape(shape)
    mine, theirs = _pool_both(name, x, *args, grad=grad)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


def test_max_pool_window_wholly_outside_the_input_is_minus_inf_with_torch_index():
    # dilation 2 steps over the one input element: the window reads only padding
    x = np.array([[[3.0]]])
    mine, theirs = _pool_both("max_pool1d", x, 2, 2, 1, 2)
    assert mine[0].tolist() == theirs[0].tolist() == [[[-INF]]]
    assert mine[1].tolist() == theirs[1].tolist() == [[[1]]]
    np.testing.assert_array_equal(mine[2], theirs[2])  # no gradient reaches the input


def test_max_pool_window_outside_the_input_sends_no_gradient_2d():
    # PyTorch reports index h * W + w with w == W here (it aliases the next row) and sends
    # the gradient there; minigrad sends none: the output is -inf, a constant
    x = np.arange(8.0).reshape(1, 2, 4, 1)
    args = ((1, 2), (3, 2), (0, 1), (1, 2), True)
    mine, theirs = _pool_both("max_pool2d", x, *args)
    np.testing.assert_array_equal(mine[0], theirs[0])
    np.testing.assert_array_equal(mine[1], theirs[1])
    assert not mine[2].any()


def test_numpy_integer_arguments_are_accepted_as_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 7, 8)), rng.standard_normal((6, 2, 3, 2))
    i = np.int64
    mine = ops.conv2d(
        mg.tensor(x), mg.tensor(w), None, (i(2), 1), i(1), (1, i(2)), groups=i(2)
    ).numpy()
    theirs = torch.nn.functional.conv2d(
        torch.tensor(x), torch.tensor(w), None, (i(2), 1), i(1), (1, i(2)), groups=i(2)
    ).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    for name, args in (("max_pool2d", (i(3), i(2), i(1))), ("avg_pool2d", ((i(2), 3), i(2)))):
        mine = getattr(ops, name)(mg.tensor(x), *args).numpy()
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), *args).numpy()
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    mine = ops.adaptive_avg_pool2d(mg.tensor(x), (None, i(3))).numpy()
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), (None, 3)).numpy()
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad", [1.5, "a", (2, 2, 2)])
def test_pool_sizes_that_are_not_ints_are_named(bad):
    x = mg.tensor(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or 2 ints"):
        ops.max_pool2d(x, bad)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be an int"):
        ops.adaptive_avg_pool2d(x, bad)


def _mha_pair(**kwargs):
    t = torch.nn.MultiheadAttention(8, 2, **kwargs).double()
    m = nn.MultiheadAttention(8, 2, dtype="float64", **kwargs)
    m.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return m, t


def test_mha_returns_the_weights_after_dropout_as_torch():
    # PyTorch's weights are the ones that multiply the values: after dropout. The old code
    # returned them before, so they no longer explained the output in training
    mg.manual_seed(0)
    m, _ = _mha_pair(dropout=0.5)
    m.train()
    rng = np.random.default_rng(1)
    q, k = mg.tensor(rng.standard_normal((4, 2, 8))), mg.tensor(rng.standard_normal((6, 2, 8)))
    out, weights = m(q, k, k, average_attn_weights=False)  # (N, H, L, S)
    w = weights.numpy()
    assert (w == 0).any() and not np.allclose(w.sum(-1), 1.0)
    e = 8
    wv, bv = m.in_proj_weight.numpy()[2 * e :], m.in_proj_bias.numpy()[2 * e :]
    v = (k.numpy() @ wv.T + bv).reshape(6, 2, 2, 4).transpose(1, 2, 0, 3)  # (N, H, S, D)
    heads = (w @ v).transpose(2, 0, 1, 3).reshape(4, 2, e)  # (L, N, E)
    expected = heads @ m.out_proj.weight.numpy().T + m.out_proj.bias.numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_mha_eval_weights_still_match_torch():
    m, t = _mha_pair(dropout=0.5)
    m.eval()
    t.eval()
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((4, 2, 8)), rng.standard_normal((6, 2, 8))
    out, weights = m(mg.tensor(q), mg.tensor(k), mg.tensor(k))
    tout, tweights = t(torch.tensor(q), torch.tensor(k), torch.tensor(k))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), tweights.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_mha_refuses_an_integer_mask_as_torch(which):
    # an int 0/1 mask was added to the scores as is: it masked nothing, silently
    m, t = _mha_pair()
    q = np.ones((4, 2, 8))
    shape = (4, 4) if which == "attn_mask" else (2, 4)
    mask = np.zeros(shape, dtype=np.int64)
    with pytest.raises(
        TypeError, match=rf"MultiheadAttention: {which} must be bool or float.*int64"
    ):
        m(mg.tensor(q), mg.tensor(q), mg.tensor(q), **{which: mg.tensor(mask)})
    with pytest.raises((TypeError, RuntimeError, AssertionError)):
        t(torch.tensor(q), torch.tensor(q), torch.tensor(q), **{which: torch.tensor(mask)})


def test_mha_unbatched_query_with_batched_key_is_named():
    m, _ = _mha_pair()
    q, k = mg.tensor(np.ones((4, 8))), mg.tensor(np.ones((5, 2, 8)))
    with pytest.raises(mg.errors.ShapeError, match=r"\(4, 8\), \(5, 2, 8\), \(5, 2, 8\)"):
        m(q, k, k)


@pytest.mark.parametrize(
    ("layer", "hx", "message"),
    [
        (nn.GRU, lambda: (mg.zeros(1, 2, 4, dtype="float64"),), r"GRU: hx must be a tensor h_0"),
        (nn.RNN, lambda: [1.0], r"RNN: hx must be a tensor h_0, got list"),
        (nn.LSTM, lambda: mg.zeros(1, 2, 4, dtype="float64"), r"LSTM: hx must be a pair of"),
        (nn.LSTM, lambda: (mg.zeros(1, 2, 4, dtype="float64"), 0.0), r"got tuple of"),
    ],
)
def test_recurrent_hx_of_the_wrong_kind_is_named(layer, hx, message):
    module = layer(3, 4, dtype="float64")
    with pytest.raises(TypeError, match=message):
        module(mg.zeros(5, 2, 3, dtype="float64"), hx())


@pytest.mark.parametrize(("batch_first", "shape"), [(False, (0, 2, 3)), (True, (2, 0, 3))])
def test_recurrent_empty_sequence_is_named(batch_first, shape):
    module = nn.LSTM(3, 4, batch_first=batch_first, dtype="float64")
    shown = re.escape(str(shape))
    with pytest.raises(mg.errors.ShapeError, match=rf"sequence length above 0.*{shown}"):
        module(mg.zeros(*shape, dtype="float64"))
    with pytest.raises(RuntimeError):
        torch.nn.LSTM(3, 4, batch_first=batch_first)(torch.zeros(shape))


def test_cosine_similarity_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(mg.errors.ShapeError, match=r"cosine_similarity: .*\(3, 4\).*\(3, 5\)"):
        F.cosine_similarity(mg.ones(3, 4), mg.ones(3, 5))


def test_pairwise_distance_p0_counts_nonzeros_as_torch():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4))
    b = a.copy()
    b[0, 1] += 1.0
    b[2] += 1.0
    for eps in (0.0, 1e-6):
        xm = mg.tensor(a, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        ym = F.pairwise_distance(xm, mg.tensor(b), 0, eps)
        yt = torch.nn.functional.pairwise_distance(xt, torch.tensor(b), 0, eps)
        np.testing.assert_array_equal(ym.numpy(), yt.detach().numpy())
        ym.sum().backward()
        yt.sum().backward()
        assert not xm.grad.numpy().any()  # a count: piecewise constant
        assert xt.grad is None or not xt.grad.numpy().any()
    with pytest.raises(ValueError, match=r"p must be >= 0, got -1"):
        F.pairwise_distance(mg.tensor(a), mg.tensor(b), -1)


def test_parameter_containers_change_nothing_on_bad_input():
    plist = nn.ParameterList([mg.zeros(2)])
    with pytest.raises(TypeError, match=r"ParameterList: expected a Tensor.*got int"):
        plist.extend([mg.ones(2), 5])
    assert len(plist) == 1 and len(list(plist.parameters())) == 1
    pdict = nn.ParameterDict({"a": mg.zeros(2)})
    with pytest.raises(TypeError, match=r"ParameterDict: expected a Tensor.*got str"):
        pdict.update({"b": mg.ones(2), "c": "x"})
    with pytest.raises(TypeError, match=r"ParameterDict: keys must be strings, got int 3"):
        pdict.update([("b", mg.ones(2)), (3, mg.ones(2))])
    assert pdict.keys() == ["a"] and list(pdict.state_dict()) == ["a"]
