"""Normalization (nn/normalization.py) and recurrent (nn/recurrent.py) layers against
PyTorch's twins, weights copied through state_dict both ways: outputs, input and parameter
gradients in float64, running statistics and num_batches_tracked, parameter names and shapes,
initialization bounds, second derivatives, and the errors bad input gets."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

TOL = {"rtol": 1e-9, "atol": 1e-10}


def _from_torch(module, tmodule):
    module.load_state_dict(
        {k: mg.tensor(v.detach().numpy()) for k, v in tmodule.state_dict().items()}
    )


def _to_torch(module, tmodule):
    tmodule.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _run_both(module, tmodule, arrays, rng):
    """Call both on the same inputs (nested pairs allowed), backward a random projection of
    every output; compare outputs and the gradients of the inputs and the parameters."""

    def make(lib, a):
        if isinstance(a, tuple):
            return tuple(make(lib, b) for b in a)
        return (
            mg.tensor(a, requires_grad=True) if lib is mg else torch.tensor(a, requires_grad=True)
        )

    xs, txs = [make(mg, a) for a in arrays], [make(torch, a) for a in arrays]
    outs, touts = _flat(module(*xs)), _flat(tmodule(*txs))
    assert len(outs) == len(touts)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **TOL)
        seed = rng.standard_normal(tuple(o.shape))
        loss, tloss = loss + (o * mg.tensor(seed)).sum(), tloss + (t * torch.tensor(seed)).sum()
    loss.backward()
    tloss.backward()
    for k, (x, t) in enumerate(zip(_flat(xs), _flat(txs))):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), err_msg=f"input {k}", **TOL)
    for (name, p), tp in zip(module.named_parameters(), tmodule.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **TOL)
        p.grad, tp.grad = None, None


def _pair(name, *args, **kwargs):
    module = getattr(nn, name)(*args, **kwargs, dtype=mg.float64)
    tmodule = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    names = [(n, tuple(p.shape)) for n, p in module.named_parameters()]
    assert names == [(n, tuple(p.shape)) for n, p in tmodule.named_parameters()]
    assert list(module.state_dict()) == list(tmodule.state_dict())
    return module, tmodule


# =============================================================================================
# normalization
# =============================================================================================

NORMS = [
    ("BatchNorm1d", (3,), {}, (4, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 5)),
    ("BatchNorm2d", (2,), {"affine": False}, (3, 2, 3, 3)),
    ("BatchNorm2d", (2,), {"track_running_stats": False}, (3, 2, 3, 3)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), {"track_running_stats": True}, (3, 6)),
    ("InstanceNorm2d", (2,), {"affine": True, "track_running_stats": True}, (3, 2, 3, 4)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 3), {"affine": False}, (2, 3, 2, 2)),
    ("BatchNorm1d", (3,), {"bias": False}, (4, 3)),
    ("GroupNorm", (3, 3), {"bias": False}, (2, 3, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", NORMS, ids=str)
def test_norm_layer_matches_torch_in_training_then_eval(name, args, kwargs, shape):
    rng = np.random.default_rng(0)
    module, tmodule = _pair(name, *args, **kwargs)
    if getattr(tmodule, "weight", None) is not None:
        with torch.no_grad():
            tmodule.weight.uniform_(0.5, 1.5)
            if tmodule.bias is not None:
                tmodule.bias.normal_()
    _from_torch(module, tmodule)
    for mode in ("train", "train", "train", "eval", "eval"):
        module.train(mode == "train")
        tmodule.train(mode == "train")
        _run_both(module, tmodule, [rng.standard_normal(shape) * 2 + 1], rng)
        for key, value in tmodule.state_dict().items():  # running stats, batches counted
            np.testing.assert_allclose(module.state_dict()[key].numpy(), value.numpy(), **TOL)


def test_batch_norm_running_stats_use_the_unbiased_variance_and_momentum():
    x = mg.tensor([[1.0], [3.0]], dtype=mg.float64)  # mean 2, biased var 1, unbiased var 2
    mean, var = mg.zeros(1, dtype=mg.float64), mg.ones(1, dtype=mg.float64)
    y = F.batch_norm(x, mean, var, training=True, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), [-1.0, 1.0])
    np.testing.assert_allclose([mean.item(), var.item()], [1.0, 1.5])
    bn = nn.BatchNorm1d(1, momentum=None, dtype=mg.float64)
    for batch in ([[0.0], [2.0]], [[4.0], [6.0]]):  # cumulative average of the batch means
        bn(mg.tensor(batch, dtype=mg.float64))
    assert bn.running_mean.item() == pytest.approx(3.0)
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == mg.int64


def test_norm_functions_differentiate_twice():
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    w = mg.tensor(rng.uniform(0.5, 1.5, 2), requires_grad=True)
    b = mg.tensor(rng.standard_normal(2), requires_grad=True)
    stats = (mg.zeros(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64))
    assert mg.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [x, w, b]
    )
    assert mg.gradgradcheck(lambda x, w, b: F.batch_norm(x, *stats, w, b), [x, w, b])
    assert mg.gradgradcheck(lambda x, w, b: F.group_norm(x, 1, w, b), [x, w, b])
    assert mg.gradgradcheck(lambda x: F.instance_norm(x), [x])


def test_norm_bad_input_names_the_shapes_and_changes_nothing():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(mg.ShapeError, match=r"weight must have shape \(4,\).*\(2, 4\).*got \(3,\)"):
        bn(mg.randn(2, 4))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        bn(mg.randn(1, 3))
    assert bn.num_batches_tracked.item() == 0 and bn.running_mean.numpy().sum() == 0
    with pytest.raises(mg.ShapeError, match=r"BatchNorm2d: expected 4D input, got shape \(2, 3\)"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))
    with pytest.raises(mg.ShapeError, match=r"6 channels.*\(2, 6, 3\).*num_groups=4"):
        F.group_norm(mg.randn(2, 6, 3), 4)
    with pytest.raises(ValueError, match="num_channels 6 must be divisible by num_groups 4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_norm(mg.randn(2, 3), None, None)


# =============================================================================================
# recurrent
# =============================================================================================

RECURRENT = [  # (name, options, input shape, initial state: None, "one" or "pair")
    ("RNN", {"num_layers": 2, "nonlinearity": "relu"}, (5, 3, 4), None),
    ("RNN", {"bidirectional": True, "bias": False}, (4, 2, 4), "one"),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}, (3, 5, 4), "pair"),
    ("LSTM", {}, (5, 4), None),
    ("LSTM", {"num_layers": 2}, (5, 4), "pair"),
    ("GRU", {"num_layers": 3, "bidirectional": True}, (4, 2, 4), "one"),
    ("GRU", {"bias": False, "batch_first": True}, (2, 6, 4), None),
    ("GRU", {}, (6, 4), "one"),
]


@pytest.mark.parametrize("name,options,shape,state", RECURRENT, ids=str)
def test_recurrent_layer_matches_torch(name, options, shape, state):
    rng = np.random.default_rng(2)
    module, tmodule = _pair(name, 4, 3, **options)
    _from_torch(module, tmodule)
    directions = 2 if options.get("bidirectional") else 1
    batch = () if len(shape) == 2 else (shape[0] if options.get("batch_first") else shape[1],)
    hidden = (directions * options.get("num_layers", 1), *batch, 3)
    arrays = [rng.standard_normal(shape)]
    if state == "one":
        arrays.append(rng.standard_normal(hidden))
    elif state == "pair":
        arrays.append((rng.standard_normal(hidden), rng.standard_normal(hidden)))
    _run_both(module, tmodule, arrays, rng)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(name, batched):
    rng = np.random.default_rng(3)
    module, tmodule = _pair(name, 4, 3)
    _from_torch(module, tmodule)
    batch = (2,) if batched else ()
    arrays = [rng.standard_normal((*batch, 4))]
    state = rng.standard_normal((*batch, 3))
    arrays.append((state, rng.standard_normal((*batch, 3))) if name == "LSTMCell" else state)
    _run_both(module, tmodule, arrays, rng)
    _run_both(module, tmodule, arrays[:1], rng)  # no state: zeros


def test_recurrent_state_dict_goes_back_to_torch_and_init_is_uniform():
    mg.manual_seed(0)
    lstm = nn.LSTM(5, 16, num_layers=2, bidirectional=True, dtype=mg.float64)
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.numpy().ravel() for p in lstm.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound
    tlstm = torch.nn.LSTM(5, 16, num_layers=2, bidirectional=True, dtype=torch.float64)
    _to_torch(lstm, tlstm)
    x = np.random.default_rng(4).standard_normal((3, 2, 5))
    out, (h, c) = lstm(mg.tensor(x))
    tout, (th, tc) = tlstm(torch.tensor(x))
    for a, b in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TOL)


def test_dropout_between_layers_only_and_only_in_training():
    """p=1 zeroes the first layer's output for the second: the output no longer depends on
    the input in training (PyTorch too), and does again in eval."""
    gru = nn.GRU(3, 4, num_layers=2, dropout=1.0, dtype=mg.float64)
    x = mg.tensor(np.random.default_rng(5).standard_normal((4, 2, 3)), requires_grad=True)
    out, _ = gru(x)
    (g,) = mg.grad(out.sum(), [x], allow_unused=True)
    assert g is None or not g.numpy().any()
    gru.eval()
    out, _ = gru(x)
    (g,) = mg.grad(out.sum(), [x])
    assert g.numpy().any()


def test_lstm_gradient_of_a_gradient_matches_torch():
    """create_graph through an LSTM: d/dW of |d loss / d x|^2 (a gradient penalty)."""
    rng = np.random.default_rng(6)
    lstm, tlstm = _pair("LSTM", 2, 3)
    _from_torch(lstm, tlstm)
    x = rng.standard_normal((3, 2, 2))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gm,) = mg.grad(lstm(xm)[0].tanh().sum(), [xm], create_graph=True)
    (gt,) = torch.autograd.grad(tlstm(xt)[0].tanh().sum(), [xt], create_graph=True)
    (gm * gm).sum().backward()
    (gt * gt).sum().backward()
    for (name, p), tp in zip(lstm.named_parameters(), tlstm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **TOL)


def test_recurrent_bad_input_names_the_shapes():
    lstm = nn.LSTM(4, 3, num_layers=2)
    with pytest.raises(mg.ShapeError, match=r"\(L, N, 4\).*got \(5, 2, 3\)"):
        lstm(mg.randn(5, 2, 3))
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(2, 2, 3\), got \(1, 2, 3\)"):
        lstm(mg.randn(5, 2, 4), (mg.randn(1, 2, 3), mg.randn(1, 2, 3)))
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(2, 3\) .* got \(3, 3\)"):
        nn.GRUCell(4, 3)(mg.randn(2, 4), mg.randn(3, 3))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be a number in"):
        nn.GRU(4, 3, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        nn.LSTM(4, 0)


# =============================================================================================
# attention, distances, parameter containers
# =============================================================================================


def _twins(arrays):
    return [mg.tensor(a, requires_grad=True) for a in arrays], [
        torch.tensor(a, requires_grad=True) for a in arrays
    ]


def _as(lib, options):
    convert = mg.tensor if lib is mg else torch.tensor
    return {k: convert(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


def _compare_grads(outs, touts, xs, txs, rng):
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **TOL)
        seed = rng.standard_normal(tuple(o.shape))
        loss, tloss = loss + (o * mg.tensor(seed)).sum(), tloss + (t * torch.tensor(seed)).sum()
    for g, tg in zip(mg.grad(loss, xs), torch.autograd.grad(tloss, txs)):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), **TOL)


_BOOL_MASK = np.random.default_rng(7).random((4, 6)) > 0.3
_BOOL_MASK[:, 0] = True
SDPA_OPTIONS = [
    {},
    {"attn_mask": _BOOL_MASK},
    {"attn_mask": np.random.default_rng(8).standard_normal((4, 6))},
    {"is_causal": True},
    {"scale": 0.3},
]


@pytest.mark.parametrize("options", SDPA_OPTIONS, ids=["plain", "bool", "float", "causal", "scale"])
def test_scaled_dot_product_attention_matches_torch(options):
    rng = np.random.default_rng(9)
    xs, txs = _twins([rng.standard_normal(s) for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2))])
    out = F.scaled_dot_product_attention(*xs, **_as(mg, options))
    tout = torch.nn.functional.scaled_dot_product_attention(*txs, **_as(torch, options))
    _compare_grads([out], [tout], xs, txs, rng)


def test_scaled_dot_product_attention_dropout_and_mask_errors():
    q = mg.randn(2, 3, 4)
    mg.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not np.allclose(dropped.numpy(), F.scaled_dot_product_attention(q, q, q).numpy())
    with pytest.raises(ValueError, match="attn_mask or is_causal, not both"):
        F.scaled_dot_product_attention(q, q, q, mg.ones(3, 3, dtype=mg.bool), is_causal=True)


@pytest.mark.parametrize(
    "fn,options",
    [
        ("cosine_similarity", {}),
        ("cosine_similarity", {"dim": 0}),
        ("pairwise_distance", {}),
        ("pairwise_distance", {"p": 1.5, "keepdim": True}),
        ("pairwise_distance", {"p": float("inf")}),
    ],
    ids=str,
)
def test_distances_match_torch(fn, options):
    rng = np.random.default_rng(10)
    xs, txs = _twins([rng.standard_normal((4, 5)), rng.standard_normal((1, 5))])
    out = getattr(F, fn)(*xs, **options)
    tout = getattr(torch.nn.functional, fn)(*txs, **options)
    assert tuple(out.shape) == tuple(tout.shape)
    _compare_grads([out], [tout], xs, txs, rng)
    layer = {"cosine_similarity": nn.CosineSimilarity, "pairwise_distance": nn.PairwiseDistance}
    kwargs = {"p" if k == "p" else k: v for k, v in options.items()}
    np.testing.assert_allclose(layer[fn](**kwargs)(*xs).numpy(), out.numpy())


MHA = [  # (options, extra forward arguments)
    ({}, {}),
    ({"batch_first": True}, {"key_padding_mask": "bool"}),
    ({"kdim": 3, "vdim": 2}, {"attn_mask": "float", "key_padding_mask": "bool"}),
    ({"bias": False}, {"attn_mask": "bool-3d", "average_attn_weights": False}),
    ({"dropout": 0.5}, {"need_weights": False, "key_padding_mask": "bool"}),  # dropout: eval
]


@pytest.mark.parametrize("options,extra", MHA, ids=str)
def test_multihead_attention_matches_torch(options, extra):
    rng = np.random.default_rng(11)
    module, tmodule = _pair("MultiheadAttention", 8, 2, **options)
    _from_torch(module, tmodule)
    module.eval()
    tmodule.eval()
    (tq, tk, n), first = (4, 5, 3), options.get("batch_first", False)
    shape = (lambda t, e: (n, t, e)) if first else (lambda t, e: (t, n, e))
    arrays = [
        rng.standard_normal(shape(tq, 8)),
        rng.standard_normal(shape(tk, options.get("kdim", 8))),
        rng.standard_normal(shape(tk, options.get("vdim", 8))),
    ]
    padding = rng.random((n, tk)) < 0.3
    padding[:, 0] = False
    masks = {
        "bool": padding,
        "float": rng.standard_normal((tq, tk)),
        "bool-3d": rng.random((n * 2, tq, tk)) < 0.2,
    }
    extra = {k: masks.get(v, v) if isinstance(v, str) else v for k, v in extra.items()}
    xs, txs = _twins(arrays)
    out, weights = module(*xs, **_as(mg, extra))
    with warnings.catch_warnings():  # PyTorch's deprecation of a bool and a float mask mixed
        warnings.simplefilter("ignore")
        tout, tweights = tmodule(*txs, **_as(torch, extra))
    assert (weights is None) == (tweights is None)
    outs, touts = (
        [out] + ([weights] if weights is not None else []),
        [tout] + ([tweights] if tweights is not None else []),
    )
    params, tparams = list(module.parameters()), list(tmodule.parameters())
    _compare_grads(outs, touts, xs + params, txs + tparams, rng)
    out, weights = module(*(x[0] if first else x[:, 0] for x in xs))  # unbatched
    tout, tweights = tmodule(*(x[0] if first else x[:, 0] for x in txs))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(weights.numpy(), tweights.detach().numpy(), **TOL)


def test_multihead_attention_init_and_bad_input():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4)
    bound = math.sqrt(6 / (16 + 48))  # xavier_uniform on (3 E, E)
    w = mha.in_proj_weight.numpy()
    assert w.min() >= -bound and w.max() <= bound and not mha.in_proj_bias.numpy().any()
    assert list(mha.state_dict()) == list(torch.nn.MultiheadAttention(16, 4).state_dict())
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 4"):
        nn.MultiheadAttention(10, 4)
    x = mg.randn(5, 2, 16)
    with pytest.raises(mg.ShapeError, match=r"key_padding_mask must be \(2, 5\), got \(5, 2\)"):
        mha(x, x, x, key_padding_mask=mg.zeros(5, 2, dtype=mg.bool))
    with pytest.raises(mg.ShapeError, match=r"\(5, 2, 16\), \(5, 2, 8\).*\(16, 16, 16\)"):
        mha(x, mg.randn(5, 2, 8), x)


def test_parameter_list_and_dict_register_their_parameters():
    plist = nn.ParameterList([mg.randn(2), nn.Parameter(mg.randn(3))])
    plist.append(mg.randn(1))
    assert len(plist) == 3 and all(isinstance(p, nn.Parameter) for p in plist)
    assert list(plist.state_dict()) == ["0", "1", "2"] and plist[-1] is plist[2]
    model = nn.Module()
    model.scales = nn.ParameterDict({"a": mg.randn(2), "b": mg.randn(3)})
    model.scales["c"] = mg.randn(4)
    del model.scales["a"]
    assert list(model.state_dict()) == ["scales.b", "scales.c"] and "b" in model.scales
    assert [tuple(p.shape) for p in model.parameters()] == [(3,), (4,)]
    assert model.scales.keys() == ["b", "c"] and len(model.scales) == 2
    tdict = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.zeros(3))})
    assert list(tdict.state_dict()) == ["b"]
    with pytest.raises(TypeError, match="expected a Tensor, a Parameter or None, got list"):
        plist.append([1.0])
    with pytest.raises(IndexError, match="index 3 out of range for 3"):
        plist[3]
    with pytest.raises(TypeError, match="keys must be strings"):
        model.scales[1] = mg.randn(1)


LAYER_NAMES = [
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "CosineSimilarity",
    "PairwiseDistance", "ParameterList", "ParameterDict",
]  # fmt: skip


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_arguments_and_defaults_are_torchs(name):
    def arguments(cls):
        return [(p.name, p.default) for p in inspect.signature(cls).parameters.values()]

    assert arguments(getattr(nn, name)) == arguments(getattr(torch.nn, name))
