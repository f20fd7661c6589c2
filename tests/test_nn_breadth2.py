"""LSTM with projections (``proj_size``) and MultiheadAttention with ``add_bias_kv`` and
``add_zero_attn``, against PyTorch's twins: weights copied by parameter name (the names and
shapes must be PyTorch's, so state dicts go both ways), then outputs, final states, attention
weights and the gradients of every input and parameter compared in float64 (and a float32
smoke case), over bidirectional x layers x batch_first x unbatched x proj_size and
add_bias_kv x add_zero_attn x masks x kdim/vdim x batch_first; float64 gradchecks (and
gradgradchecks) of a small case of each; initialization; the recurrent layers' other PyTorch
arguments (all_weights, flatten_parameters, the dropout warning, RNNBase/RNNCellBase);
packed sequences (nn.utils.rnn against torch.nn.utils.rnn, and RNN/LSTM/GRU over them);
nn.functional.multi_head_attention_forward (static_k/static_v, separate projections); and
the errors bad arguments get."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
from tests.conftest import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="torch is not installed"),
    pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN"),
]

TOL64 = {"rtol": 1e-9, "atol": 1e-10}
TOL32 = {"rtol": 1e-4, "atol": 1e-5}


def _twin(name, *args, dtype="float64", **kwargs):
    """minigrad's layer and PyTorch's with the same arguments, torch's weights copied into
    minigrad's by name; the names, shapes and order of the parameters must agree."""
    module = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    tmodule = getattr(torch.nn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    shapes = [(n, tuple(p.shape)) for n, p in module.named_parameters()]
    assert shapes == [(n, tuple(p.shape)) for n, p in tmodule.named_parameters()]
    assert list(module.state_dict()) == list(tmodule.state_dict())
    module.load_state_dict(
        {k: mg.tensor(v.detach().numpy()) for k, v in tmodule.state_dict().items()}
    )
    return module, tmodule


def _tensors(arrays):
    """The same arrays as minigrad and as PyTorch leaves that want gradients (None kept)."""
    make = [
        lambda a: mg.tensor(a, requires_grad=True),
        lambda a: torch.tensor(a, requires_grad=True),
    ]
    return [[None if a is None else f(a) for a in arrays] for f in make]


def _compare(outs, touts, leaves, tleaves, rng, tol):
    """Outputs equal; then the gradients of a random projection of all of them, with respect
    to every leaf (inputs and parameters), equal."""
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), **tol)
        seed = rng.standard_normal(tuple(o.shape)).astype(o.numpy().dtype)
        loss, tloss = loss + (o * mg.tensor(seed)).sum(), tloss + (t * torch.tensor(seed)).sum()
    grads = mg.grad(loss, leaves, allow_unused=True)
    tgrads = torch.autograd.grad(tloss, tleaves, allow_unused=True)
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        assert (g is None) == (tg is None), f"leaf {k}"
        if g is not None:
            np.testing.assert_allclose(g.numpy(), tg.numpy(), err_msg=f"leaf {k}", **tol)


# =============================================================================================
# LSTM with projections
# =============================================================================================

L, N, IN, HIDDEN = 3, 2, 3, 4


def _lstm_case(proj, bidirectional, layers, batch_first, unbatched, with_state, dtype):
    rng = np.random.default_rng(hash((proj, bidirectional, layers, batch_first, unbatched)) % 97)
    options = {"num_layers": layers, "bidirectional": bidirectional, "batch_first": batch_first}
    module, tmodule = _twin("LSTM", IN, HIDDEN, proj_size=proj, dtype=dtype, **options)
    shape = (L, IN) if unbatched else (N, L, IN) if batch_first else (L, N, IN)
    count, batch = layers * (2 if bidirectional else 1), () if unbatched else (N,)
    arrays = [rng.standard_normal(shape)]
    if with_state:  # h_0 is proj_size wide, c_0 hidden_size wide
        arrays += [rng.standard_normal((count, *batch, proj or HIDDEN))]
        arrays += [rng.standard_normal((count, *batch, HIDDEN))]
    arrays = [a.astype(dtype) for a in arrays]
    (x, *state), (tx, *tstate) = _tensors(arrays)
    out, (h, c) = module(x, tuple(state) if state else None)
    tout, (th, tc) = tmodule(tx, tuple(tstate) if tstate else None)
    assert tuple(h.shape) == (count, *batch, proj or HIDDEN)
    assert tuple(c.shape) == (count, *batch, HIDDEN)
    directions = 2 if bidirectional else 1
    assert out.shape[-1] == directions * (proj or HIDDEN)
    leaves, tleaves = [x, *state, *module.parameters()], [tx, *tstate, *tmodule.parameters()]
    tol = TOL64 if dtype == "float64" else TOL32
    _compare([out, h, c], [tout, th, tc], leaves, tleaves, rng, tol)


@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("proj", [0, 2])
def test_lstm_with_projections_matches_torch(proj, bidirectional, layers, batch_first, unbatched):
    with_state = (layers + batch_first + unbatched) % 2 == 0  # half the cases give (h_0, c_0)
    _lstm_case(proj, bidirectional, layers, batch_first, unbatched, with_state, "float64")


@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_with_projections_float32_smoke(with_state):
    _lstm_case(3, True, 2, True, False, with_state, "float32")


def test_lstm_with_projections_dropout_between_layers():
    """dropout=1 is deterministic: in training the second layer reads zeros (PyTorch's too),
    so both agree in training, the output no longer depends on the input, and in eval they
    agree again with the input's gradient back."""
    rng = np.random.default_rng(3)
    module, tmodule = _twin("LSTM", IN, HIDDEN, num_layers=2, proj_size=1, dropout=1.0)
    arrays = [rng.standard_normal((L, N, IN))]
    for train in (True, False):
        module.train(train)
        tmodule.train(train)
        (x,), (tx,) = _tensors(arrays)
        out, (h, c) = module(x)
        tout, (th, tc) = tmodule(tx)
        (g,) = mg.grad(out.sum(), [x], allow_unused=True, retain_graph=True)
        assert (g is None or not g.numpy().any()) == train
        leaves, tleaves = [x, *module.parameters()], [tx, *tmodule.parameters()]
        _compare([out, h[1:], c[1:]], [tout, th[1:], tc[1:]], leaves, tleaves, rng, TOL64)


def test_lstm_with_projections_state_dict_goes_to_torch_and_init_is_uniform():
    mg.manual_seed(0)
    lstm = nn.LSTM(5, 32, num_layers=2, bidirectional=True, proj_size=8, dtype=mg.float64)
    assert tuple(lstm.weight_hr_l1_reverse.shape) == (8, 32)
    assert tuple(lstm.weight_hh_l0.shape) == (128, 8)
    assert tuple(lstm.weight_ih_l1.shape) == (128, 16)  # proj_size * directions inputs
    bound = 1 / math.sqrt(32)  # every parameter, weight_hr too: U(-1/sqrt(hidden), ...)
    values = lstm.weight_hr_l0.numpy().ravel()
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.1 * bound
    tlstm = torch.nn.LSTM(5, 32, num_layers=2, bidirectional=True, proj_size=8).double()
    tlstm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in lstm.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((3, 2, 5))
    out, (h, c) = lstm(mg.tensor(x))
    tout, (th, tc) = tlstm(torch.tensor(x))
    for a, b in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TOL64)
    assert repr(lstm) == repr(tlstm)


def test_lstm_with_projections_gradcheck():
    """Finite differences through a small two-layer bidirectional projected LSTM: the input,
    both initial states and every parameter (shifted in place, so the module sees it)."""
    mg.manual_seed(1)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1, dtype=mg.float64)
    x = mg.randn(2, 1, 2, dtype=mg.float64, requires_grad=True)
    h = mg.randn(4, 1, 1, dtype=mg.float64, requires_grad=True)
    c = mg.randn(4, 1, 3, dtype=mg.float64, requires_grad=True)
    params = list(lstm.parameters())

    def fn(x, h, c, *ps):
        out, (h_n, c_n) = lstm(x, (h, c))
        return out, h_n, c_n

    assert mg.gradcheck(fn, [x, h, c, *params])


def test_projected_lstm_and_extra_attention_keys_differentiate_twice():
    mg.manual_seed(4)
    lstm = nn.LSTM(2, 3, proj_size=1, bidirectional=True, dtype=mg.float64)
    x = mg.randn(2, 1, 2, dtype=mg.float64, requires_grad=True)
    assert mg.gradgradcheck(lambda x: lstm(x)[0], [x])
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, dtype=mg.float64)
    q = mg.randn(2, 1, 4, dtype=mg.float64, requires_grad=True)
    assert mg.gradgradcheck(lambda q: mha(q, q, q), [q])


def test_recurrent_all_weights_flatten_parameters_and_dropout_warning():
    for name, kwargs in (("LSTM", {"proj_size": 2}), ("GRU", {"bias": False}), ("RNN", {})):
        module, tmodule = _twin(name, 3, 4, num_layers=2, bidirectional=True, **kwargs)
        shapes = [[tuple(p.shape) for p in ps] for ps in module.all_weights]
        assert shapes == [[tuple(p.shape) for p in ps] for ps in tmodule.all_weights]
        assert module.all_weights[3][0] is module.weight_ih_l1_reverse
        assert module.proj_size == tmodule.proj_size
        module.flatten_parameters()  # a no-op, as PyTorch's off cuDNN
    for layer in (nn.LSTM, nn.GRU, nn.RNN):
        with pytest.warns(UserWarning, match=r"dropout=0.5 and num_layers=1"):
            layer(3, 4, dropout=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            layer(3, 4, num_layers=2, dropout=0.5)


def test_recurrent_bad_arguments_are_refused_as_torch():
    for proj, message in ((-1, "proj_size must be an int >= 0"), (4, "smaller than hidden_size 4")):
        with pytest.raises(ValueError, match=message):
            nn.LSTM(3, 4, proj_size=proj)
        with pytest.raises(ValueError):
            torch.nn.LSTM(3, 4, proj_size=proj)
    with pytest.raises(ValueError, match="proj_size must be an int"):
        nn.LSTM(3, 4, proj_size=1.5)
    for layer in ("RNN", "GRU"):
        with pytest.raises(ValueError, match=f"{layer}: proj_size is only supported for LSTM"):
            getattr(nn, layer)(3, 4, proj_size=2)
        with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
            getattr(torch.nn, layer)(3, 4, proj_size=2)
    for flag in ("bias", "batch_first"):
        with pytest.raises(TypeError, match=f"LSTM: {flag} must be a bool, got 1"):
            nn.LSTM(3, 4, **{flag: 1})
        with pytest.raises(TypeError):
            torch.nn.LSTM(3, 4, **{flag: 1})
    lstm = nn.LSTM(3, 4, num_layers=2, proj_size=2)
    x = mg.randn(5, 2, 3)
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(2, 2, 2\), got \(2, 2, 4\)"):
        lstm(x, (mg.randn(2, 2, 4), mg.randn(2, 2, 4)))  # h_0 is proj_size wide
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(2, 2, 4\), got \(2, 2, 2\)"):
        lstm(x, (mg.randn(2, 2, 2), mg.randn(2, 2, 2)))  # c_0 is hidden_size wide
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(2, 2\), got \(2, 4\)"):
        lstm(mg.randn(5, 3), (mg.randn(2, 4), mg.randn(2, 4)))  # unbatched


# =============================================================================================
# MultiheadAttention: add_bias_kv, add_zero_attn
# =============================================================================================

E, HEADS, TQ, TK, B = 8, 2, 4, 5, 3


def _masks(rng, kind, batch):
    """(attn_mask, key_padding_mask) of one kind; the first key always open, so no row is
    fully masked (PyTorch's rows of -inf are NaN)."""
    padding = rng.random((batch, TK)) < 0.4
    padding[:, 0] = False
    attn = rng.random((TQ, TK)) < 0.4
    attn[:, 0] = False
    attn3 = rng.random((batch * HEADS, TQ, TK)) < 0.4
    attn3[..., 0] = False
    return {
        "none": (None, None),
        "bool": (attn, None),
        "float": (rng.standard_normal((TQ, TK)), None),
        "padding": (None, padding),
        "bool3d+padding": (attn3, padding),
        "float+float-padding": (rng.standard_normal((TQ, TK)), np.where(padding, -1.5, 0.0)),
    }[kind]


def _mha_call(module, tensors, masks, lib, **kwargs):
    attn, padding = (None if m is None else lib.tensor(m) for m in masks)
    with warnings.catch_warnings():  # PyTorch's deprecation of a bool and a float mask mixed
        warnings.simplefilter("ignore")
        return module(*tensors, attn_mask=attn, key_padding_mask=padding, **kwargs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kvdims", [None, (3, 5)])
@pytest.mark.parametrize(
    "masks", ["none", "bool", "float", "padding", "bool3d+padding", "float+float-padding"]
)
@pytest.mark.parametrize("zero_attn", [False, True])
@pytest.mark.parametrize("bias_kv", [False, True])
def test_multihead_attention_bias_kv_and_zero_attn_match_torch(
    bias_kv, zero_attn, masks, kvdims, batch_first
):
    rng = np.random.default_rng(len(masks) + 7 * bias_kv + 3 * zero_attn)
    kdim, vdim = kvdims or (E, E)
    options = {"add_bias_kv": bias_kv, "add_zero_attn": zero_attn, "batch_first": batch_first}
    module, tmodule = _twin("MultiheadAttention", E, HEADS, kdim=kdim, vdim=vdim, **options)
    layout = (lambda t, e: (B, t, e)) if batch_first else (lambda t, e: (t, B, e))
    arrays = [rng.standard_normal(layout(TQ, E))]
    arrays += [rng.standard_normal(layout(TK, kdim)), rng.standard_normal(layout(TK, vdim))]
    xs, txs = _tensors(arrays)
    mask_arrays = _masks(rng, masks, B)
    out, weights = _mha_call(module, xs, mask_arrays, mg, average_attn_weights=False)
    tout, tweights = _mha_call(tmodule, txs, mask_arrays, torch, average_attn_weights=False)
    assert tuple(weights.shape) == (B, HEADS, TQ, TK + bias_kv + zero_attn)
    leaves, tleaves = xs + list(module.parameters()), txs + list(tmodule.parameters())
    _compare([out, weights], [tout, tweights], leaves, tleaves, rng, TOL64)
    for need_weights in (True, False):  # averaged weights, and the fused path without them
        out, weights = _mha_call(module, xs, mask_arrays, mg, need_weights=need_weights)
        tout, tweights = _mha_call(tmodule, txs, mask_arrays, torch, need_weights=need_weights)
        assert (weights is None) == (tweights is None)
        outs, touts = [out, weights][: 1 + need_weights], [tout, tweights][: 1 + need_weights]
        _compare(outs, touts, leaves, tleaves, rng, TOL64)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("options", [{"add_bias_kv": True}, {"add_zero_attn": True}, {}])
def test_multihead_attention_unbatched_and_is_causal_match_torch(options, need_weights):
    """Unbatched inputs (a 1-D key_padding_mask), and the is_causal hint: without
    need_weights and key_padding_mask PyTorch replaces attn_mask by the causal mask over
    all the keys, the appended ones included."""
    rng = np.random.default_rng(5)
    module, tmodule = _twin("MultiheadAttention", E, HEADS, **options)
    arrays = [rng.standard_normal((TQ, E)), rng.standard_normal((TQ, E))]
    (q, k), (tq, tk) = _tensors(arrays)
    causal = np.triu(np.ones((TQ, TQ), dtype=bool), 1)
    padding = np.array([False, True, False, False])
    for masks, causal_hint in (((None, padding), False), ((causal, None), True)):
        kwargs = {"need_weights": need_weights, "is_causal": causal_hint}
        out, weights = _mha_call(module, (q, k, k), masks, mg, **kwargs)
        tout, tweights = _mha_call(tmodule, (tq, tk, tk), masks, torch, **kwargs)
        outs, touts = [out, weights][: 1 + need_weights], [tout, tweights][: 1 + need_weights]
        leaves, tleaves = [q, k, *module.parameters()], [tq, tk, *tmodule.parameters()]
        _compare(outs, touts, leaves, tleaves, rng, TOL64)


def test_multihead_attention_float32_smoke():
    rng = np.random.default_rng(6)
    options = {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 5}
    module, tmodule = _twin("MultiheadAttention", E, HEADS, dtype="float32", **options)
    arrays = [rng.standard_normal((TQ, B, E)), rng.standard_normal((TK, B, 3))]
    arrays = [a.astype(np.float32) for a in arrays + [rng.standard_normal((TK, B, 5))]]
    xs, txs = _tensors(arrays)
    masks = _masks(rng, "bool3d+padding", B)
    out, weights = _mha_call(module, xs, masks, mg)
    tout, tweights = _mha_call(tmodule, txs, masks, torch)
    assert out.dtype == mg.float32 and weights.dtype == mg.float32
    leaves, tleaves = xs + list(module.parameters()), txs + list(tmodule.parameters())
    _compare([out, weights], [tout, tweights], leaves, tleaves, rng, TOL32)


def test_multihead_attention_bias_kv_gradcheck():
    mg.manual_seed(2)
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, dtype=mg.float64)
    q = mg.randn(2, 1, 4, dtype=mg.float64, requires_grad=True)
    kv = mg.randn(3, 1, 4, dtype=mg.float64, requires_grad=True)
    padding = mg.tensor([[False, True, False]])
    params = list(mha.parameters())
    assert [n for n, _ in mha.named_parameters()][1:3] == ["in_proj_bias", "bias_k"]

    def fn(q, kv, *ps):
        return mha(q, kv, kv, key_padding_mask=padding, average_attn_weights=False)

    assert mg.gradcheck(fn, [q, kv, *params])


def test_multihead_attention_parameters_init_and_names_as_torch():
    mg.manual_seed(0)
    mha = nn.MultiheadAttention(512, 8, add_bias_kv=True)
    tmha = torch.nn.MultiheadAttention(512, 8, add_bias_kv=True)
    assert list(mha.state_dict()) == list(tmha.state_dict())
    for name in ("bias_k", "bias_v"):  # xavier_normal on (1, 1, E): std sqrt(2 / (E + E))
        values = getattr(mha, name).numpy().ravel()
        assert abs(values.std() - math.sqrt(1 / 512)) < 0.1 * math.sqrt(1 / 512)
        assert abs(values.mean()) < 0.2 * math.sqrt(1 / 512)
    plain = nn.MultiheadAttention(8, 2, bias=False, kdim=3)
    tplain = torch.nn.MultiheadAttention(8, 2, bias=False, kdim=3)
    for name in ("in_proj_weight", "in_proj_bias", "bias_k", "bias_v"):
        assert getattr(plain, name) is None and getattr(tplain, name) is None
    assert plain._qkv_same_embed_dim is tplain._qkv_same_embed_dim is False
    assert not plain.add_zero_attn and list(plain.state_dict()) == list(tplain.state_dict())
    same = nn.MultiheadAttention(8, 2)
    assert same.q_proj_weight is None and same.in_proj_weight is not None


def test_multihead_attention_bad_masks_name_the_shapes_before_padding():
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)
    q, k = mg.randn(4, 3, 8), mg.randn(5, 3, 8)
    with pytest.raises(mg.ShapeError, match=r"attn_mask must be \(4, 5\) or \(6, 4, 5\), got"):
        mha(q, k, k, attn_mask=mg.zeros(4, 7, dtype=mg.bool))
    with pytest.raises(mg.ShapeError, match=r"key_padding_mask must be \(3, 5\), got \(3, 7\)"):
        mha(q, k, k, key_padding_mask=mg.zeros(3, 7, dtype=mg.bool))
    with pytest.raises(ValueError, match="is_causal is a hint that needs attn_mask"):
        mha(q, q, q, is_causal=True)


# =============================================================================================
# packed sequences (nn.utils.rnn, as torch.nn.utils.rnn) and the recurrent layers over them
# =============================================================================================

LENGTHS = [3, 5, 1, 4]  # unsorted: enforce_sorted=False sorts them to 5, 4, 3, 1


def _same(a, t, tol=TOL64):
    assert tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(a.numpy(), t.detach().numpy(), **tol)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_pad_match_torch(enforce_sorted, batch_first):
    from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # as torch's path
    from torch.nn.utils import rnn as trnn

    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    x = np.random.default_rng(8).standard_normal((4, 5, 2) if batch_first else (5, 4, 2))
    (xm,), (xt,) = _tensors([x])
    packed = pack_padded_sequence(xm, lengths, batch_first, enforce_sorted)
    tpacked = trnn.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    _same(packed.data, tpacked.data)
    assert packed.batch_sizes.tolist() == tpacked.batch_sizes.tolist()
    assert packed.batch_sizes.dtype == mg.int64
    for name in ("sorted_indices", "unsorted_indices"):
        mine, theirs = getattr(packed, name), getattr(tpacked, name)
        assert (mine is None and theirs is None) or mine.tolist() == theirs.tolist()
    padded, out_lengths = pad_packed_sequence(packed, batch_first, -1.0, total_length=7)
    tpadded, tout_lengths = trnn.pad_packed_sequence(tpacked, batch_first, -1.0, total_length=7)
    _same(padded, tpadded)
    assert out_lengths.tolist() == tout_lengths.tolist() == lengths
    seed = np.random.default_rng(9).standard_normal(tuple(padded.shape))
    (g,) = mg.grad((padded * mg.tensor(seed)).sum(), [xm])
    (tg,) = torch.autograd.grad((tpadded * torch.tensor(seed)).sum(), [xt])
    _same(g, tg)  # the padding gets no gradient


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_pack_unpad_unpack_sequence_match_torch(padding_side):
    from torch.nn.utils import rnn as trnn

    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (4, 2, 3)]
    xs, txs = _tensors(arrays)
    for batch_first in (False, True):
        padded = nn.utils.rnn.pad_sequence(xs, batch_first, 0.5, padding_side)
        _same(padded, trnn.pad_sequence(txs, batch_first, 0.5, padding_side))
    packed = nn.utils.rnn.pack_sequence(xs, enforce_sorted=False)
    tpacked = trnn.pack_sequence(txs, enforce_sorted=False)
    _same(packed.data, tpacked.data)
    for a, t in zip(nn.utils.rnn.unpack_sequence(packed), trnn.unpack_sequence(tpacked)):
        _same(a, t)
    padded = nn.utils.rnn.pad_sequence(xs, batch_first=True)
    pieces = nn.utils.rnn.unpad_sequence(padded, mg.tensor([4, 2, 3]), batch_first=True)
    for a, x in zip(pieces, xs):
        np.testing.assert_array_equal(a.numpy(), x.numpy())
    assert packed.to(mg.float32).data.dtype == mg.float32 and packed.to(mg.float64) is packed
    ties = [3, 1, 3, 2, 3, 3, 1]  # equal lengths keep their order, as PyTorch's sort here
    x = np.zeros((3, len(ties), 2))
    mine = nn.utils.rnn.pack_padded_sequence(mg.tensor(x), ties, enforce_sorted=False)
    theirs = trnn.pack_padded_sequence(torch.tensor(x), ties, enforce_sorted=False)
    assert mine.sorted_indices.tolist() == theirs.sorted_indices.tolist()


PACKED = [  # (layer, options)
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True}),
    ("GRU", {"bidirectional": True, "batch_first": True}),
    ("RNN", {"num_layers": 2, "nonlinearity": "relu"}),
]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("name,options", PACKED, ids=str)
def test_recurrent_layers_over_packed_sequences_match_torch(
    name, options, enforce_sorted, with_state
):
    """Each sequence stops at its own length (the reverse direction starts at its own end);
    hx and the final states are in the caller's batch order, as PyTorch's."""
    from torch.nn.utils import rnn as trnn

    rng = np.random.default_rng(11)
    module, tmodule = _twin(name, IN, HIDDEN, **options)
    batch_first = options.get("batch_first", False)
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    arrays = [rng.standard_normal((4, 5, IN) if batch_first else (5, 4, IN))]
    count = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    if with_state:
        arrays.append(rng.standard_normal((count, 4, options.get("proj_size") or HIDDEN)))
        arrays += [rng.standard_normal((count, 4, HIDDEN))] if name == "LSTM" else []
    (x, *state), (tx, *tstate) = _tensors(arrays)
    hx = (tuple(state) if name == "LSTM" else state[0]) if state else None
    thx = (tuple(tstate) if name == "LSTM" else tstate[0]) if tstate else None
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    tpacked = trnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    out, last = module(packed, hx)
    tout, tlast = tmodule(tpacked, thx)
    assert isinstance(out, nn.utils.rnn.PackedSequence)
    assert out.batch_sizes is packed.batch_sizes
    padded, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first)
    tpadded, _ = trnn.pad_packed_sequence(tout, batch_first)
    outs = [padded, *(last if name == "LSTM" else (last,))]
    touts = [tpadded, *(tlast if name == "LSTM" else (tlast,))]
    leaves, tleaves = [x, *state, *module.parameters()], [tx, *tstate, *tmodule.parameters()]
    _compare(outs, touts, leaves, tleaves, rng, TOL64)


def test_packed_lstm_gradcheck():
    mg.manual_seed(3)
    lstm = nn.LSTM(2, 3, bidirectional=True, proj_size=2, dtype=mg.float64)
    x = mg.randn(3, 2, 2, dtype=mg.float64, requires_grad=True)

    def fn(x, *ps):
        packed = nn.utils.rnn.pack_padded_sequence(x, [2, 3], enforce_sorted=False)
        out, (h, c) = lstm(packed)
        return out.data, h, c

    assert mg.gradcheck(fn, [x, *lstm.parameters()])


def test_packing_bad_input_names_the_fault():
    rnn = nn.utils.rnn
    x = mg.randn(5, 3, 2)
    with pytest.raises(ValueError, match=r"lengths \[2, 5, 1\] must be sorted in decreasing"):
        rnn.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(ValueError, match=r"every length must be above 0, got \[5, 0, 1\]"):
        rnn.pack_padded_sequence(x, [5, 0, 1])
    with pytest.raises(mg.ShapeError, match="2 lengths for a batch of 3 sequences"):
        rnn.pack_padded_sequence(x, [5, 1])
    with pytest.raises(mg.ShapeError, match=r"a length of 6 in an input of 5 steps"):
        rnn.pack_padded_sequence(x, [6, 2, 1])
    packed = rnn.pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length 4 is shorter than the longest .* 5"):
        rnn.pad_packed_sequence(packed, total_length=4)
    with pytest.raises(mg.ShapeError, match=r"packed data of shape \(\*, 3\), got \(8, 2\)"):
        nn.GRU(3, 4)(packed)
    with pytest.raises(mg.ShapeError, match=r"hidden state of shape \(1, 3, 4\), got \(1, 2, 4\)"):
        nn.GRU(2, 4)(packed, mg.randn(1, 2, 4))
    with pytest.raises(ValueError, match="padding_side must be 'right' or 'left'"):
        rnn.pad_sequence([x[0]], padding_side="middle")


def test_recurrent_base_classes_are_exported_for_isinstance_as_torch():
    assert all(isinstance(layer(2, 3), nn.RNNBase) for layer in (nn.RNN, nn.LSTM, nn.GRU))
    cells = (nn.RNNCell, nn.LSTMCell, nn.GRUCell)
    assert all(isinstance(cell(2, 3), nn.RNNCellBase) for cell in cells)
    assert not isinstance(nn.LSTMCell(2, 3), nn.RNNBase)
    assert {"RNNBase", "RNNCellBase"} <= set(nn.__all__) and hasattr(torch.nn, "RNNCellBase")


@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize("extras", ["bias_kv+zero_attn", "static_kv+zero_attn", "none"])
def test_multi_head_attention_forward_functional_matches_torch(extras, separate):
    """nn.functional.multi_head_attention_forward with the weights given: packed or separate
    projections, bias_k/bias_v or static_k/static_v (N * H, S, d), add_zero_attn."""
    import nn.functional as F  # noqa: N812 (the PyTorch convention)

    rng = np.random.default_rng(12)
    d = E // HEADS
    arrays = {
        "query": rng.standard_normal((TQ, B, E)),
        "key": rng.standard_normal((TK, B, E)),
        "value": rng.standard_normal((TK, B, E)),
        "in_proj_weight": None if separate else rng.standard_normal((3 * E, E)) / 3,
        "in_proj_bias": rng.standard_normal(3 * E),
        "bias_k": rng.standard_normal((1, 1, E)) if extras == "bias_kv+zero_attn" else None,
        "bias_v": rng.standard_normal((1, 1, E)) if extras == "bias_kv+zero_attn" else None,
        "out_proj_weight": rng.standard_normal((E, E)) / 3,
        "out_proj_bias": rng.standard_normal(E),
        "q_proj_weight": rng.standard_normal((E, E)) / 3 if separate else None,
        "k_proj_weight": rng.standard_normal((E, E)) / 3 if separate else None,
        "v_proj_weight": rng.standard_normal((E, E)) / 3 if separate else None,
        "static_k": rng.standard_normal((B * HEADS, TK, d)) if extras[:6] == "static" else None,
        "static_v": rng.standard_normal((B * HEADS, TK, d)) if extras[:6] == "static" else None,
    }
    names = list(arrays)
    tensors, ttensors = _tensors(list(arrays.values()))
    padding = np.zeros((B, TK), dtype=bool)
    padding[:, -2:] = [True, False]
    options = {"add_zero_attn": extras != "none", "dropout_p": 0.0, "num_heads": HEADS}
    options |= {"embed_dim_to_check": E, "use_separate_proj_weight": separate}
    outs = F.multi_head_attention_forward(
        **dict(zip(names, tensors)), **options, key_padding_mask=mg.tensor(padding)
    )
    touts = torch.nn.functional.multi_head_attention_forward(
        **dict(zip(names, ttensors)), **options, key_padding_mask=torch.tensor(padding)
    )
    leaves = [t for t in tensors if t is not None]
    tleaves = [t for t in ttensors if t is not None]
    _compare(outs, touts, leaves, tleaves, rng, TOL64)


def test_multi_head_attention_forward_takes_torchs_arguments():
    import inspect

    import nn.functional as F  # noqa: N812 (the PyTorch convention)

    def arguments(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    theirs = torch.nn.functional.multi_head_attention_forward
    assert arguments(F.multi_head_attention_forward) == arguments(theirs)
    assert "multi_head_attention_forward" in F.__all__
