"""Normalization (nn/normalization.py) and recurrent (nn/recurrent.py) layers against
PyTorch's twins, weights copied through state_dict both ways: outputs, input and parameter
gradients in float64, running statistics and num_batches_tracked, parameter names and shapes,
initialization bounds, second derivatives, and the errors bad input gets."""

from __future__ import annotations

import math

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
]


@pytest.mark.parametrize("name,args,kwargs,shape", NORMS, ids=str)
def test_norm_layer_matches_torch_in_training_then_eval(name, args, kwargs, shape):
    rng = np.random.default_rng(0)
    module, tmodule = _pair(name, *args, **kwargs)
    if getattr(tmodule, "weight", None) is not None:
        with torch.no_grad():
            tmodule.weight.uniform_(0.5, 1.5)
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
