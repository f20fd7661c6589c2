"""The transformer: gradients of the whole model, masks, causality, padding, PyTorch twins of
the layers, and bad input. (Decoding: test_decoding.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad.ops._util import ShapeError
from nn.testing import gradcheck_module
from tests.conftest import torch_device
from transformer import (
    DecoderLayer,
    EncoderLayer,
    MultiHeadAttention,
    PositionalEncoding,
    Transformer,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)

F64 = mg.float64
VOCAB = 7


def tiny(norm_first: bool = False, **kw) -> Transformer:
    """The issue's tiny model: d_model 8, 2 heads, 1 + 1 layers, vocab 7, float64, no dropout."""
    mg.manual_seed(0)
    args = dict(d_model=8, n_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=16,
                dropout=0.0, max_len=32, norm_first=norm_first, dtype=F64)  # fmt: skip
    args.update(kw)
    return Transformer(VOCAB, VOCAB, **args)


def batch() -> tuple[mg.Tensor, mg.Tensor]:
    """Sources and targets with padding (id 0) in both."""
    src = mg.tensor([[3, 4, 5, 6, 0], [1, 2, 0, 0, 0]])
    tgt = mg.tensor([[1, 5, 4, 2], [1, 3, 0, 0]])
    return src, tgt


class Loss(nn.Module):
    """The model under a fixed random projection of its logits: a small output keeps the
    Jacobian small while every logit still matters. Logits at padding targets are dropped, as
    a loss with ignore_index drops them (the frozen padding embedding shows there by design)."""

    def __init__(self, model: Transformer, src: mg.Tensor, tgt: mg.Tensor) -> None:
        super().__init__()
        self.model = model
        self.src, self.tgt = src, tgt
        rng = np.random.default_rng(0)
        self.proj = mg.tensor(rng.standard_normal((VOCAB, 2)), dtype=F64)
        self.keep = mg.tensor((tgt.numpy() != 0)[..., None], dtype=F64)  # (B, T, 1)

    def forward(self) -> mg.Tensor:
        return (self.model(self.src, self.tgt) @ self.proj) * self.keep  # (B, T, 2)


# -- gradients of the whole model ---------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True])
def test_whole_transformer_gradcheck_every_parameter(norm_first):
    """Every parameter, each through a random direction (u^T J v) in float64, masks active."""
    model = tiny(norm_first, tie_embeddings=norm_first)
    src, tgt = batch()
    for seed in range(2):
        assert gradcheck_module(Loss(model, src, tgt), [], fast_mode=True, seed=seed, atol=1e-6)


def test_whole_transformer_gradcheck_full_jacobian():
    """Every element of every parameter (about 1,900), the full Jacobian (about 5 s)."""
    model = tiny()
    src, tgt = batch()
    assert gradcheck_module(Loss(model, src, tgt), [], atol=1e-6)


def test_whole_transformer_gradcheck_sample_of_elements():
    """A fixed random sample of each parameter's elements, checked one by one (full rows of
    the Jacobian): complements the directional check above."""
    model = tiny()
    src, tgt = batch()
    loss = Loss(model, src, tgt)
    rng = np.random.default_rng(1)
    out = loss()
    u = mg.tensor(rng.standard_normal(out.shape), dtype=F64)
    params = list(model.parameters())
    grads = mg.grad(out, params, u)
    eps = 1e-6
    for p, g in zip(params, grads):
        flat = p.array.reshape(-1)
        for i in rng.choice(flat.size, size=min(3, flat.size), replace=False):
            orig = float(flat[i])
            flat[i] = orig + eps
            plus = float((loss().numpy() * u.numpy()).sum())
            flat[i] = orig - eps
            minus = float((loss().numpy() * u.numpy()).sum())
            flat[i] = orig
            numeric = (plus - minus) / (2 * eps)
            analytic = float(g.numpy().reshape(-1)[i])
            assert abs(analytic - numeric) <= 1e-6 + 1e-4 * abs(numeric), (p.shape, i)


class Given(nn.Module):
    """Stands in for an embedding table: returns the given (B, T, d) tensor for any ids."""

    def __init__(self, value: mg.Tensor, num_embeddings: int) -> None:
        super().__init__()
        self.value = value
        self.num_embeddings = num_embeddings

    def forward(self, ids: mg.Tensor) -> mg.Tensor:
        return self.value


def test_gradcheck_with_respect_to_input_embeddings():
    model = tiny()
    src, tgt = batch()
    src_emb = mg.randn(2, 5, 8, dtype=F64, requires_grad=True)
    tgt_emb = mg.randn(2, 4, 8, dtype=F64, requires_grad=True)
    model.src_embed = Given(src_emb, VOCAB)
    model.tgt_embed = Given(tgt_emb, VOCAB)
    assert mg.gradcheck(lambda a, b: model(src, tgt), [src_emb, tgt_emb], atol=1e-6)


# -- masks: causality, padding ------------------------------------------------------------------


def test_causality_future_tokens_do_not_change_earlier_logits():
    model = tiny(dropout=0.0)
    src, tgt = batch()
    base = model(src, tgt).numpy()
    for t in range(tgt.shape[1] - 1):
        changed = tgt.numpy().copy()
        changed[:, t + 1] = (changed[:, t + 1] % (VOCAB - 1)) + 1  # a different non-pad token
        out = model(src, mg.tensor(changed)).numpy()
        np.testing.assert_array_equal(out[:, : t + 1], base[:, : t + 1])
        assert not np.array_equal(out[:, t + 1], base[:, t + 1])


@pytest.mark.parametrize("norm_first", [False, True])
def test_appending_padding_leaves_real_outputs_unchanged(norm_first):
    model = tiny(norm_first)
    src = mg.tensor([[3, 4, 5], [6, 2, 1]])
    tgt = mg.tensor([[1, 5, 4], [1, 3, 2]])
    base = model(src, tgt).numpy()
    padded_src = mg.tensor(np.pad(src.numpy(), ((0, 0), (0, 4))))
    padded_tgt = mg.tensor(np.pad(tgt.numpy(), ((0, 0), (0, 2))))
    out = model(padded_src, padded_tgt).numpy()
    np.testing.assert_allclose(out[:, :3], base, atol=1e-6, rtol=0)
    assert np.isfinite(out).all()


def test_all_padding_source_gives_no_nan():
    model = tiny()
    src = mg.tensor([[0, 0, 0], [3, 4, 0]])
    tgt = mg.tensor([[1, 2], [1, 3]])
    logits = model(src, tgt)
    assert np.isfinite(logits.numpy()).all()
    logits.sum().backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters() if p.grad is not None)


def test_mask_helpers():
    np.testing.assert_array_equal(causal_mask(3).numpy(), np.triu(np.ones((3, 3), bool), 1))
    np.testing.assert_array_equal(causal_mask(1, 2).numpy(), [[False, False, False]])
    np.testing.assert_array_equal(
        padding_mask(mg.tensor([[5, 0], [0, 1]]), 0).numpy(), [[False, True], [True, False]]
    )


def test_positional_encoding_values():
    pe = PositionalEncoding(6, max_len=10)
    x = mg.zeros(1, 4, 6)
    out = pe(x).numpy()[0]
    pos = np.arange(4)[:, None]
    div = 10000 ** (np.arange(0, 6, 2) / 6)
    np.testing.assert_allclose(out[:, 0::2], np.sin(pos / div), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:, 1::2], np.cos(pos / div), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pe(x[:, :1], offset=3).numpy()[0, 0], out[3], rtol=1e-6)
    assert "pe" not in pe.state_dict()  # recomputed, not saved


def test_fused_and_stepwise_attention_agree():
    """The fused op and the primitive path (used when weights are requested) agree in value
    and gradient, with a bool mask that kills one query entirely."""
    q = mg.randn(2, 2, 3, 4, dtype=F64, requires_grad=True)
    k = mg.randn(2, 2, 5, 4, dtype=F64, requires_grad=True)
    v = mg.randn(2, 2, 5, 4, dtype=F64, requires_grad=True)
    mask = mg.tensor(np.random.default_rng(0).random((2, 1, 3, 5)) < 0.4)
    mask.array[0, 0, 1] = True
    g = mg.randn(2, 2, 3, 4, dtype=F64)
    grads = []
    for need in (False, True):
        out, w = scaled_dot_product_attention(q, k, v, mask, need_weights=need)
        grads.append((out.numpy(), *mg.grad(out, [q, k, v], g)))
        assert (w is not None) == need
    for a, b in zip(grads[0], grads[1]):
        np.testing.assert_allclose(np.asarray(a.numpy() if hasattr(a, "numpy") else a),
                                   np.asarray(b.numpy() if hasattr(b, "numpy") else b),
                                   rtol=1e-10, atol=1e-12)  # fmt: skip


# -- PyTorch twins ------------------------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def _tt(x, torch, requires_grad=False):
    return torch.tensor(np.asarray(x), device=torch_device(), requires_grad=requires_grad)


def _copy_linear(torch, dst, src_linear):
    with torch.no_grad():
        dst.weight.copy_(_tt(src_linear.weight.numpy(), torch))
        dst.bias.copy_(_tt(src_linear.bias.numpy(), torch))


def _copy_mha(torch, ref, mha):
    w = np.concatenate(
        [mha.q_proj.weight.numpy(), mha.k_proj.weight.numpy(), mha.v_proj.weight.numpy()]
    )
    b = np.concatenate([mha.q_proj.bias.numpy(), mha.k_proj.bias.numpy(), mha.v_proj.bias.numpy()])
    with torch.no_grad():
        ref.in_proj_weight.copy_(_tt(w, torch))
        ref.in_proj_bias.copy_(_tt(b, torch))
    _copy_linear(torch, ref.out_proj, mha.out_proj)


def _copy_norm(torch, dst, src):
    with torch.no_grad():
        dst.weight.copy_(_tt(src.weight.numpy(), torch))
        dst.bias.copy_(_tt(src.bias.numpy(), torch))


def _compare_grads(pairs, rtol=1e-8, atol=1e-10):
    for ours, theirs in pairs:
        np.testing.assert_allclose(
            ours.grad.numpy(), theirs.grad.detach().cpu().numpy(), rtol=rtol, atol=atol
        )


@pytest.mark.parametrize("self_attention", [True, False])
def test_multi_head_attention_matches_torch(self_attention):
    torch = _torch()
    mg.manual_seed(3)
    mha = MultiHeadAttention(8, 2).double()
    ref = torch.nn.MultiheadAttention(
        8, 2, batch_first=True, dtype=torch.float64, device=torch_device()
    )
    _copy_mha(torch, ref, mha)
    q = mg.randn(2, 4, 8, dtype=F64, requires_grad=True)
    kv = q if self_attention else mg.randn(2, 5, 8, dtype=F64, requires_grad=True)
    Tk = kv.shape[1]
    attn_mask = (
        causal_mask(4)
        if self_attention
        else mg.tensor(np.random.default_rng(1).random((4, Tk)) < 0.3)
    )
    kpm = np.zeros((2, Tk), bool)
    kpm[1, -2:] = True
    tq = _tt(q.numpy(), torch, True)
    tkv = tq if self_attention else _tt(kv.numpy(), torch, True)
    out, w = mha(q, kv, kv, attn_mask, mg.tensor(kpm), need_weights=True)
    tout, tw = ref(tq, tkv, tkv, attn_mask=_tt(attn_mask.numpy(), torch), key_padding_mask=_tt(kpm, torch),
                   need_weights=True, average_attn_weights=True)  # fmt: skip
    np.testing.assert_allclose(out.numpy(), tout.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), tw.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(2).standard_normal(out.shape)
    (out * mg.tensor(g, dtype=F64)).sum().backward()
    (tout * _tt(g, torch)).sum().backward()
    pairs = [(q, tq)] + ([] if self_attention else [(kv, tkv)])
    _compare_grads(
        pairs + [(mha.out_proj.weight, ref.out_proj.weight), (mha.out_proj.bias, ref.out_proj.bias)]
    )
    tw_in = ref.in_proj_weight.grad.cpu().numpy()
    ours = np.concatenate(
        [
            mha.q_proj.weight.grad.numpy(),
            mha.k_proj.weight.grad.numpy(),
            mha.v_proj.weight.grad.numpy(),
        ]
    )
    np.testing.assert_allclose(ours, tw_in, rtol=1e-8, atol=1e-10)
    # the fused path (no weights) gives the same output
    out2, none = mha(q, kv, kv, attn_mask, mg.tensor(kpm))
    assert none is None
    np.testing.assert_allclose(out2.numpy(), out.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation):
    torch = _torch()
    mg.manual_seed(4)
    layer = EncoderLayer(
        8, 2, 16, dropout=0.0, activation=activation, norm_first=norm_first
    ).double()
    ref = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                           norm_first=norm_first, dtype=torch.float64, device=torch_device())  # fmt: skip
    _copy_mha(torch, ref.self_attn, layer.self_attn)
    _copy_linear(torch, ref.linear1, layer.ff.linear1)
    _copy_linear(torch, ref.linear2, layer.ff.linear2)
    for i in (1, 2):
        _copy_norm(torch, getattr(ref, f"norm{i}"), getattr(layer, f"norm{i}"))
    x = mg.randn(2, 5, 8, dtype=F64, requires_grad=True)
    kpm = np.zeros((2, 5), bool)
    kpm[0, 3:] = True
    tx = _tt(x.numpy(), torch, True)
    out = layer(x, None, mg.tensor(kpm))
    tout = ref(tx, src_key_padding_mask=_tt(kpm, torch))  # train mode: torch's plain path
    np.testing.assert_allclose(out.numpy(), tout.detach().cpu().numpy(), rtol=1e-9, atol=1e-11)
    g = np.random.default_rng(5).standard_normal(out.shape)
    (out * mg.tensor(g, dtype=F64)).sum().backward()
    (tout * _tt(g, torch)).sum().backward()
    _compare_grads([(x, tx), (layer.ff.linear1.weight, ref.linear1.weight), (layer.norm1.weight, ref.norm1.weight),
                    (layer.self_attn.out_proj.weight, ref.self_attn.out_proj.weight)])  # fmt: skip


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    torch = _torch()
    mg.manual_seed(6)
    layer = DecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first).double()
    ref = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first,
                                           dtype=torch.float64, device=torch_device())  # fmt: skip
    _copy_mha(torch, ref.self_attn, layer.self_attn)
    _copy_mha(torch, ref.multihead_attn, layer.cross_attn)
    _copy_linear(torch, ref.linear1, layer.ff.linear1)
    _copy_linear(torch, ref.linear2, layer.ff.linear2)
    for i in (1, 2, 3):
        _copy_norm(torch, getattr(ref, f"norm{i}"), getattr(layer, f"norm{i}"))
    x = mg.randn(2, 4, 8, dtype=F64, requires_grad=True)
    mem = mg.randn(2, 6, 8, dtype=F64, requires_grad=True)
    mkpm = np.zeros((2, 6), bool)
    mkpm[1, 4:] = True
    tkpm = np.zeros((2, 4), bool)
    tkpm[1, 3] = True
    tx, tmem = _tt(x.numpy(), torch, True), _tt(mem.numpy(), torch, True)
    out = layer(x, mem, causal_mask(4), None, mg.tensor(tkpm), mg.tensor(mkpm))
    tout = ref(tx, tmem, tgt_mask=_tt(causal_mask(4).numpy(), torch), tgt_key_padding_mask=_tt(tkpm, torch),
               memory_key_padding_mask=_tt(mkpm, torch))  # fmt: skip
    np.testing.assert_allclose(out.numpy(), tout.detach().cpu().numpy(), rtol=1e-9, atol=1e-11)
    g = np.random.default_rng(7).standard_normal(out.shape)
    (out * mg.tensor(g, dtype=F64)).sum().backward()
    (tout * _tt(g, torch)).sum().backward()
    _compare_grads([(x, tx), (mem, tmem), (layer.ff.linear2.weight, ref.linear2.weight),
                    (layer.norm3.bias, ref.norm3.bias),
                    (layer.cross_attn.out_proj.weight, ref.multihead_attn.out_proj.weight)])  # fmt: skip


# -- structure ----------------------------------------------------------------------------------


def test_parameter_names_and_tying():
    model = tiny()
    names = [n for n, _ in model.named_parameters()]
    for name in ("src_embed.weight", "encoder.layers.0.self_attn.q_proj.weight",
                 "decoder.layers.0.cross_attn.v_proj.bias", "decoder.layers.0.norm3.weight",
                 "encoder.layers.0.ff.linear1.weight", "output_proj.weight"):  # fmt: skip
        assert name in names
    tied = tiny(tie_embeddings=True)
    assert tied.output_proj.weight is tied.tgt_embed.weight is tied.src_embed.weight
    assert tied.num_parameters() == model.num_parameters() - 2 * VOCAB * 8
    assert not model.src_embed.weight.numpy()[0].any()  # padding rows start at zero
    pre = tiny(norm_first=True)
    assert pre.encoder.norm is not None and model.encoder.norm is None


def test_dropout_is_active_in_training_only():
    model = tiny(dropout=0.3)
    src, tgt = batch()
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).numpy(), model(src, tgt).numpy())
    model.train()
    assert not np.array_equal(model(src, tgt).numpy(), model(src, tgt).numpy())


@pytest.mark.parametrize("norm_first", [False, True])
def test_checkpoint_layers_gives_the_plain_gradients_with_less_saved(norm_first):
    """Every layer recomputed in backward, dropout on: the same loss and gradients, bit for bit
    (float64), and the forward keeps fewer bytes for backward."""
    src, tgt = batch()
    results = []
    for checkpoint_layers in (False, True):
        model = tiny(norm_first, dropout=0.2, num_encoder_layers=2, num_decoder_layers=2,
                     checkpoint_layers=checkpoint_layers)  # fmt: skip
        mg.manual_seed(5)
        with mg.trace_memory(measure_process=False) as ledger:
            loss = mg.cross_entropy(model(src, tgt).reshape(-1, VOCAB), tgt.reshape(-1))
        loss.backward()
        grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
        results.append((loss.item(), grads, ledger.peak_saved_bytes))
    (loss, grads, peak), (loss_c, grads_c, peak_c) = results
    assert loss == loss_c
    assert grads.keys() == grads_c.keys()
    for name in grads:
        assert np.array_equal(grads[name], grads_c[name]), name
    assert peak_c < 0.5 * peak


def test_checkpoint_layers_only_in_training():
    model = tiny(checkpoint_layers=True)
    src, tgt = batch()
    model.eval()
    with mg.trace_memory(measure_process=False) as ledger:
        model(src, tgt).sum().backward()
    eval_peak = ledger.peak_saved_bytes
    model.train()
    with mg.trace_memory(measure_process=False) as ledger:
        model(src, tgt).sum().backward()
    assert ledger.peak_saved_bytes < eval_peak


# -- bad input ----------------------------------------------------------------------------------


def test_d_model_not_divisible_by_heads():
    with pytest.raises(ValueError, match="d_model 10 is not divisible by n_heads 4"):
        Transformer(5, 5, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(10, 3)


def test_sequence_longer_than_max_len():
    model = tiny(max_len=4)
    with pytest.raises(ValueError, match="length 5 is longer than max_len 4"):
        model(mg.tensor([[1, 2, 3, 4, 5]]), mg.tensor([[1, 2]]))


def test_token_ids_outside_vocabulary():
    model = tiny()
    with pytest.raises(
        IndexError,
        match=r"source token ids outside the vocabulary.*\[0, num_embeddings = 7\).*\[1, 9\]",
    ):
        model(mg.tensor([[1, 9]]), mg.tensor([[1, 2]]))
    with pytest.raises(
        IndexError, match=r"target token ids outside.*\[0, num_embeddings = 7\).*\[-1, 2\]"
    ):
        model(mg.tensor([[1, 2]]), mg.tensor([[-1, 2]]))
    with pytest.raises(TypeError, match="integer token ids"):
        model(mg.tensor([[1.0, 2.0]]), mg.tensor([[1, 2]]))
    # a bad id while decoding with a cache leaves the cache as it was
    cache = model.new_cache()
    memory = model.encode(mg.tensor([[3, 4]]))
    model.decode(mg.tensor([[1]]), memory, cache=cache)
    pad_before = cache.pad.numpy().copy()
    with pytest.raises(IndexError, match="target token ids outside"):
        model.decode(mg.tensor([[7]]), memory, cache=cache)
    assert len(cache) == 1
    np.testing.assert_array_equal(cache.pad.numpy(), pad_before)


def test_a_training_step_reads_the_device_only_to_check_ids(device_reads):
    """On a GPU every device-to-host read is a sync. In a whole training step (forward with
    padding, label-smoothed cross-entropy, backward, clipping, Adam, the schedule) the only
    reads are the three id checks, each one transfer: source, target input and target output.
    Every read goes through backend.to_host, so counting its calls counts them on either
    backend."""
    model = tiny(dropout=0.1)
    optimizer = nn.optim.Adam(model.parameters(), lr=1.0)
    schedule = nn.optim.NoamLR(optimizer, d_model=8, warmup=4)
    src = mg.tensor([[3, 4, 5, 0], [6, 3, 0, 0]])
    tgt = mg.tensor([[1, 3, 4, 5, 2], [1, 6, 3, 2, 0]])
    for _ in range(2):
        logits = model(src, tgt[:, :-1])
        loss = mg.cross_entropy(
            logits.reshape(-1, 7), tgt[:, 1:].reshape(-1), ignore_index=0, label_smoothing=0.1
        )
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
    assert device_reads == ["int_range"] * 6, device_reads
    loss.item()  # a read the user asks for goes through the same function
    assert len(device_reads) == 7


def test_masks_of_the_wrong_shape():
    mha = MultiHeadAttention(8, 2)
    x = mg.randn(2, 3, 8)
    with pytest.raises(
        ShapeError, match=r"attn_mask must be \(3, 3\) or \(4, 3, 3\), got \(3, 4\)"
    ):
        mha(x, x, x, attn_mask=mg.zeros(3, 4, dtype=mg.bool_))
    with pytest.raises(
        ShapeError, match=r"key_padding_mask must be \(batch, keys\) = \(2, 3\), got \(3, 2\)"
    ):
        mha(x, x, x, key_padding_mask=mg.zeros(3, 2, dtype=mg.bool_))
    with pytest.raises(TypeError, match="masks must be bool"):
        mha(x, x, x, key_padding_mask=mg.zeros(2, 3, dtype=mg.int64))
    with pytest.raises(
        ShapeError, match=r"query must be \(batch, time, 8\), got shape \(2, 3, 4\)"
    ):
        mha(mg.randn(2, 3, 4), x, x)
    model = tiny()
    src, tgt = batch()
    with pytest.raises(ShapeError, match="key_padding_mask"):
        model(src, tgt, src_key_padding_mask=mg.zeros(2, 4, dtype=mg.bool_))
