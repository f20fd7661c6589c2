"""Review 11 (r8) of the recurrent layers over packed sequences, ``nn.utils.rnn`` and
MultiheadAttention's extras: a regression test for each fault found, against PyTorch's
twins where the fault was a difference from them."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn
from nn.utils import rnn
from tests.conftest import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _packed(lengths, enforce_sorted=False):
    x = np.arange(4 * len(lengths) * 2, dtype=np.float64).reshape(4, len(lengths), 2)
    return x, rnn.pack_padded_sequence(mg.tensor(x), lengths, enforce_sorted=enforce_sorted)


def test_packed_sequence_from_sorted_indices_alone_derives_unsorted_indices():
    # PyTorch's PackedSequence(data, batch_sizes, sorted_indices) fills unsorted_indices; ours
    # left it None, so padding it back and an RNN's final states kept the sorted order
    x, packed = _packed([4, 2, 3])
    rebuilt = rnn.PackedSequence(packed.data, packed.batch_sizes, packed.sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == [0, 2, 1]
    padded, lengths = rnn.pad_packed_sequence(rebuilt)
    assert lengths.tolist() == [4, 2, 3]
    np.testing.assert_array_equal(padded.numpy()[:, 2], x[:, 2] * (np.arange(4) < 3)[:, None])
    gru = nn.GRU(2, 3, dtype="float64")
    _, h_n = gru(rebuilt)
    _, h_expected = gru(packed)
    np.testing.assert_array_equal(h_n.numpy(), h_expected.numpy())


def test_packed_sequence_takes_the_pair_as_one_argument_and_refuses_data_alone():
    _, packed = _packed([4, 2, 3])
    pair = rnn.PackedSequence((packed.data, packed.batch_sizes))
    assert pair.data is packed.data and pair.batch_sizes is packed.batch_sizes
    assert pair.sorted_indices is None and pair.unsorted_indices is None
    with pytest.raises(TypeError, match="batch_sizes"):
        rnn.PackedSequence(packed.data)


def test_packed_sequence_casts_and_is_cuda_as_torch():
    # is_cuda read Tensor.is_cuda, which minigrad's Tensor does not have (AttributeError);
    # the cast methods PyTorch users call (.float(), .double(), .cpu()...) were missing
    _, packed = _packed([4, 2, 3])
    assert packed.is_cuda is False
    casts = {"float": mg.float32, "half": mg.float16, "long": mg.int64, "int": mg.int32}
    casts |= {"byte": mg.uint8}
    for name, dtype in casts.items():
        cast = getattr(packed, name)()
        assert isinstance(cast, rnn.PackedSequence) and cast.data.dtype == dtype
        assert cast.batch_sizes is packed.batch_sizes
        assert cast.unsorted_indices.tolist() == [0, 2, 1]
    assert packed.double() is packed and packed.cpu() is packed  # nothing to change: itself


@needs_torch
def test_pack_padded_sequence_takes_float_lengths_as_torch():
    # torch converts lengths with as_tensor(dtype=int64); ours refused a float tensor
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    packed = rnn.pack_padded_sequence(mg.tensor(x), mg.tensor([4.0, 2.0, 3.0]), False, False)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x), torch.tensor([4.0, 2.0, 3.0]), False, False
    )
    np.testing.assert_array_equal(packed.data.numpy(), tpacked.data.numpy())
    assert packed.batch_sizes.tolist() == tpacked.batch_sizes.tolist()
    with pytest.raises(TypeError, match=r"\(1, 3\)"):
        rnn.pack_padded_sequence(mg.tensor(x), mg.tensor([[4, 2, 3]]), False, False)


def _functional_arguments(rng, **changes):
    """multi_head_attention_forward's arguments for query (2, 3, 4), key/value (3, 3, 4),
    embed_dim 4 in 2 heads, with ``changes`` applied."""
    arguments = dict(
        query=mg.tensor(rng.standard_normal((2, 3, 4))),
        key=mg.tensor(rng.standard_normal((3, 3, 4))),
        value=mg.tensor(rng.standard_normal((3, 3, 4))),
        embed_dim_to_check=4,
        num_heads=2,
        in_proj_weight=mg.tensor(rng.standard_normal((12, 4))),
        in_proj_bias=None,
        bias_k=None,
        bias_v=None,
        add_zero_attn=False,
        dropout_p=0.0,
        out_proj_weight=mg.tensor(rng.standard_normal((4, 4))),
        out_proj_bias=None,
    )
    return arguments | changes


@pytest.mark.parametrize(
    "changes, match",
    [
        # bias_v without bias_k was dropped silently (PyTorch asserts both or neither)
        ({"bias_v": np.ones((1, 1, 4))}, "bias_k and bias_v"),
        ({"bias_k": np.ones((1, 1, 4))}, "bias_k and bias_v"),  # was an AttributeError
        ({"in_proj_weight": None}, "in_proj_weight is None"),  # was an AttributeError
        ({"use_separate_proj_weight": True}, "q/k/v_proj_weight is None"),
        ({"static_k": np.ones((4, 3, 2))}, r"\(6, S, 2\), got \(4, 3, 2\)"),  # a reshape's error
        ({"static_v": np.ones((6, 3, 3))}, r"static_v .*got \(6, 3, 3\)"),  # a matmul's error
        ({"static_k": np.ones((6, 3))}, r"got \(6, 3\)"),
    ],
)
def test_multi_head_attention_forward_checks_its_optional_arguments(changes, match):
    rng = np.random.default_rng(1)
    changes = {k: mg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in changes.items()}
    arguments = _functional_arguments(rng, **changes)
    with pytest.raises((ValueError, mg.ShapeError), match=match):
        nn.functional.multi_head_attention_forward(**arguments)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("name", ["attn_mask", "key_padding_mask"])
def test_multihead_attention_refuses_a_float_mask_of_another_dtype_on_both_paths(
    name, need_weights
):
    # with need_weights a float32 mask on float64 inputs was promoted silently (PyTorch's
    # baddbmm refuses it), without it the fused op refused it: one rule for both now
    attention = nn.MultiheadAttention(4, 2, dtype="float64")
    x = mg.tensor(np.random.default_rng(2).standard_normal((3, 2, 4)))
    mask = mg.zeros(*((3, 3) if name == "attn_mask" else (2, 3)), dtype=mg.float32)
    with pytest.raises(TypeError, match=rf"float {name} .*float64, got float32 \(shape"):
        attention(x, x, x, need_weights=need_weights, **{name: mask})
    out, _ = attention(x, x, x, need_weights=need_weights, **{name: mask.double()})
    assert out.dtype == mg.float64


@needs_torch
def test_multihead_attention_causal_hint_replaces_a_mask_of_another_dtype_as_torch():
    # without need_weights or key_padding_mask the is_causal hint replaces attn_mask, which
    # PyTorch then never reads: a float32 mask on float64 inputs must not be refused there
    rng = np.random.default_rng(3)
    attention = nn.MultiheadAttention(4, 2, dtype="float64")
    tattention = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    state = {k: mg.tensor(v.detach().numpy()) for k, v in tattention.state_dict().items()}
    attention.load_state_dict(state)
    x = rng.standard_normal((3, 2, 4))
    causal = np.triu(np.full((3, 3), -np.inf), 1).astype(np.float32)
    out, _ = attention(
        mg.tensor(x), mg.tensor(x), mg.tensor(x), attn_mask=mg.tensor(causal),
        need_weights=False, is_causal=True,
    )  # fmt: skip
    tx = torch.tensor(x)
    tout, _ = tattention(
        tx, tx, tx, attn_mask=torch.tensor(causal), need_weights=False, is_causal=True
    )
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-9, atol=1e-10)


@needs_torch
def test_layers_take_numpy_integers_where_torch_does():
    # num_layers, proj_size and MultiheadAttention's sizes from NumPy (a sweep over np.arange)
    # were refused; PyTorch takes them (and refuses a NumPy input_size or hidden_size, as ours)
    sizes = {"num_layers": np.int64(2), "proj_size": np.int32(2)}
    lstm = nn.LSTM(3, 4, **sizes)
    tlstm = torch.nn.LSTM(3, 4, **sizes)
    shapes = [(n, tuple(p.shape)) for n, p in lstm.named_parameters()]
    assert shapes == [(n, tuple(p.shape)) for n, p in tlstm.named_parameters()]
    assert type(lstm.num_layers) is int and type(lstm.proj_size) is int
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        nn.GRU(3, np.int64(4))
    with pytest.raises(ValueError, match="input_size must be a positive int"):
        nn.GRU(np.int64(3), 4)
    dims = (np.int64(4), np.int64(2))
    attention = nn.MultiheadAttention(*dims, kdim=np.int64(3), vdim=np.int64(5))
    tattention = torch.nn.MultiheadAttention(*dims, kdim=np.int64(3), vdim=np.int64(5))
    shapes = [(n, tuple(p.shape)) for n, p in attention.named_parameters()]
    assert shapes == [(n, tuple(p.shape)) for n, p in tattention.named_parameters()]
