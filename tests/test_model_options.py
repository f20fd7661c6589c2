"""The transformer's modern options (issue 16): RMSNorm, SwiGLU, RoPE and grouped-query
attention, each against a PyTorch twin written here (the same math, independently spelled, with
the weights copied in; forward and every parameter's gradient in float64), plus cached decoding
against uncached decoding, and bad input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from transformer import MultiHeadAttention, Transformer
from transformer.attention import KVCache, rotary_embedding
from transformer.decoding import beam_search, greedy_decode

torch = pytest.importorskip("torch")
tnn = torch.nn
tnf = torch.nn.functional

F64 = mg.float64
VOCAB = 9

# =============================================================================================
# The twin: an encoder-decoder written in PyTorch, parameter names as minigrad's
# =============================================================================================


def t_rope(x: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """RoPE through complex numbers: the pair (x[i], x[i + D/2]) is z = x[i] + j x[i + D/2],
    multiplied by exp(j * pos * 10000^(-2i/D))."""
    T, D = x.shape[-2], x.shape[-1]
    pos = torch.arange(offset, offset + T, dtype=torch.float64)
    theta = pos[:, None] * 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    z = torch.complex(x[..., : D // 2], x[..., D // 2 :]) * torch.polar(
        torch.ones_like(theta), theta
    )
    return torch.cat([z.real, z.imag], -1)


class TAttention(tnn.Module):
    def __init__(self, d: int, h: int, h_kv: int, rope: bool) -> None:
        super().__init__()
        self.h, self.h_kv, self.dh, self.rope = h, h_kv, d // h, rope
        self.q_proj = tnn.Linear(d, d, dtype=torch.float64)
        self.k_proj = tnn.Linear(d, h_kv * self.dh, dtype=torch.float64)
        self.v_proj = tnn.Linear(d, h_kv * self.dh, dtype=torch.float64)
        self.out_proj = tnn.Linear(d, d, dtype=torch.float64)

    def forward(self, x: torch.Tensor, mem: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        B, Tq, d = x.shape
        q = self.q_proj(x).view(B, Tq, self.h, self.dh).transpose(1, 2)
        k = self.k_proj(mem).view(B, -1, self.h_kv, self.dh).transpose(1, 2)
        v = self.v_proj(mem).view(B, -1, self.h_kv, self.dh).transpose(1, 2)
        if self.rope:
            q, k = t_rope(q), t_rope(k)
        k = k.repeat_interleave(self.h // self.h_kv, 1)  # (B, H, Tk, dh)
        v = v.repeat_interleave(self.h // self.h_kv, 1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.dh)
        p = torch.softmax(scores.masked_fill(masked, float("-inf")), -1)
        return self.out_proj((p @ v).transpose(1, 2).reshape(B, Tq, d))


class TFeedForward(tnn.Module):
    def __init__(self, d: int, d_ff: int, activation: str) -> None:
        super().__init__()
        self.activation = activation
        self.linear1 = tnn.Linear(d, d_ff, dtype=torch.float64)
        self.linear2 = tnn.Linear(d_ff, d, dtype=torch.float64)
        if activation == "swiglu":
            self.linear3 = tnn.Linear(d, d_ff, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.linear1(x)
        if self.activation == "swiglu":
            return self.linear2(tnf.silu(a) * self.linear3(x))
        return self.linear2(torch.relu(a) if self.activation == "relu" else tnf.gelu(a))


def t_norm(kind: str, d: int) -> tnn.Module:
    if kind == "rms":
        return tnn.RMSNorm(d, eps=1e-5, dtype=torch.float64)
    return tnn.LayerNorm(d, eps=1e-5, dtype=torch.float64)


class TLayer(tnn.Module):
    """An encoder layer (cross=False) or a decoder layer."""

    def __init__(self, cfg: dict, cross: bool) -> None:
        super().__init__()
        d, h, h_kv = cfg["d_model"], cfg["n_heads"], cfg["n_kv_heads"] or cfg["n_heads"]
        self.pre = cfg["norm_first"]
        self.self_attn = TAttention(d, h, h_kv, cfg["positional"] == "rope")
        if cross:
            self.cross_attn = TAttention(d, h, h_kv, False)  # cross-attention: never rotated
        self.ff = TFeedForward(d, cfg["d_ff"], cfg["activation"])
        for i in range(3 if cross else 2):
            setattr(self, f"norm{i + 1}", t_norm(cfg["norm"], d))

    def sub(self, x, norm, f):
        return x + f(norm(x)) if self.pre else norm(x + f(x))

    def forward(self, x, self_mask, mem=None, mem_mask=None):
        x = self.sub(x, self.norm1, lambda y: self.self_attn(y, y, self_mask))
        if mem is None:
            return self.sub(x, self.norm2, self.ff)
        x = self.sub(x, self.norm2, lambda y: self.cross_attn(y, mem, mem_mask))
        return self.sub(x, self.norm3, self.ff)


class TTransformer(tnn.Module):
    def __init__(self, cfg: dict) -> None:
        super().__init__()
        self.cfg, d = cfg, cfg["d_model"]
        self.src_embed = tnn.Embedding(VOCAB, d, dtype=torch.float64)
        self.tgt_embed = tnn.Embedding(VOCAB, d, dtype=torch.float64)
        self.encoder = tnn.Module()
        self.encoder.layers = tnn.ModuleList([TLayer(cfg, False)])
        self.decoder = tnn.Module()
        self.decoder.layers = tnn.ModuleList([TLayer(cfg, True)])
        if cfg["norm_first"]:
            self.encoder.norm = t_norm(cfg["norm"], d)
            self.decoder.norm = t_norm(cfg["norm"], d)
        self.output_proj = tnn.Linear(d, VOCAB, dtype=torch.float64)

    def embed(self, emb, ids):
        x = emb(ids) * math.sqrt(self.cfg["d_model"])
        if self.cfg["positional"] == "rope":
            return x
        T, d = ids.shape[1], self.cfg["d_model"]
        pos = torch.arange(T, dtype=torch.float64)[:, None]
        i = torch.arange(d, dtype=torch.float64)
        angle = pos / 10000.0 ** ((i - i % 2) / d)
        return x + torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle))

    def forward(self, src, tgt):
        src_pad = (src == 0)[:, None, None, :]  # (B, 1, 1, S)
        T = tgt.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        x = self.embed(self.src_embed, src)
        for layer in self.encoder.layers:
            x = layer(x, src_pad)
        mem = self.encoder.norm(x) if self.cfg["norm_first"] else x
        y = self.embed(self.tgt_embed, tgt)
        tgt_masked = causal | (tgt == 0)[:, None, None, :]
        for layer in self.decoder.layers:
            y = layer(y, tgt_masked, mem, src_pad)
        if self.cfg["norm_first"]:
            y = self.decoder.norm(y)
        return self.output_proj(y)


# =============================================================================================
# Whole model against the twin
# =============================================================================================

OPTIONS = [
    dict(norm="rms"),
    dict(activation="swiglu"),
    dict(activation="gelu", norm="rms", norm_first=True),
    dict(positional="rope"),
    dict(n_kv_heads=2),
    dict(n_kv_heads=1, positional="rope"),
    dict(norm="rms", activation="swiglu", positional="rope", n_kv_heads=2, norm_first=True),
]


def model_config(**options) -> dict:
    cfg = dict(d_model=16, n_heads=4, d_ff=12, norm_first=False, activation="relu",
               norm="layer", positional="sinusoidal", n_kv_heads=None)  # fmt: skip
    cfg.update(options)
    return cfg


def build(cfg: dict) -> Transformer:
    mg.manual_seed(3)
    return Transformer(VOCAB, VOCAB, num_encoder_layers=1, num_decoder_layers=1, dropout=0.0,
                       max_len=32, dtype=F64, **cfg)  # fmt: skip


SRC = [[3, 4, 5, 6, 0], [1, 2, 8, 0, 0]]
TGT = [[1, 5, 7, 2], [1, 3, 0, 0]]


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
def test_transformer_option_matches_torch_twin(options):
    cfg = model_config(**options)
    model = build(cfg)
    twin = TTransformer(cfg)
    state = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    missing, unexpected = twin.load_state_dict(state, strict=True)
    assert not missing and not unexpected
    seed = np.random.default_rng(1).standard_normal((2, 4, VOCAB))

    out = model(mg.tensor(SRC), mg.tensor(TGT))
    (out * mg.tensor(seed)).sum().backward()
    t_out = twin(torch.tensor(SRC), torch.tensor(TGT))
    (t_out * torch.tensor(seed)).sum().backward()

    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-11)
    t_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        t_grad = t_params[name].grad
        t_grad = np.zeros(p.shape) if t_grad is None else t_grad.numpy()
        if name.endswith("embed.weight"):
            t_grad[0] = 0  # the padding row gets no gradient (padding_idx)
        np.testing.assert_allclose(p.grad.numpy(), t_grad, rtol=1e-8, atol=1e-10, err_msg=name)


def test_options_change_the_parameters_as_documented():
    base = build(model_config())
    gqa = build(model_config(n_kv_heads=1))
    swiglu = build(model_config(activation="swiglu"))
    rms = build(model_config(norm="rms"))
    attn = gqa.encoder.layers[0].self_attn
    assert tuple(attn.k_proj.weight.shape) == (4, 16)  # 1 kv head of dim 4
    assert tuple(attn.q_proj.weight.shape) == (16, 16)
    assert tuple(swiglu.decoder.layers[0].ff.linear3.weight.shape) == (12, 16)
    assert isinstance(rms.encoder.layers[0].norm1, nn.RMSNorm)
    assert "bias" not in rms.encoder.layers[0].norm1.state_dict()
    n = sum(math.prod(p.shape) for p in base.state_dict().values())
    assert sum(math.prod(p.shape) for p in gqa.state_dict().values()) == n - 3 * 2 * (16 * 12 + 12)
    assert build(model_config(positional="rope")).pos_encoding is None


# =============================================================================================
# RoPE and GQA pieces
# =============================================================================================


def test_rotary_embedding_scores_depend_on_relative_position_only():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 1, 8)), rng.standard_normal((2, 1, 8))
    q, k = mg.tensor(q), mg.tensor(k)
    scores = []
    for m, n in [(3, 1), (7, 5), (12, 10)]:  # always m - n = 2
        rq, rk = rotary_embedding(q, m), rotary_embedding(k, n)
        scores.append((rq * rk).sum(-1).numpy())
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-12)
    np.testing.assert_allclose(scores[0], scores[2], rtol=1e-12)
    np.testing.assert_allclose(  # a rotation keeps norms
        (rotary_embedding(q, 5) ** 2).sum(-1).numpy(), (q**2).sum(-1).numpy(), rtol=1e-12
    )
    t = torch.tensor(np.random.default_rng(2).standard_normal((2, 3, 5, 6)))
    np.testing.assert_allclose(
        rotary_embedding(mg.tensor(t.numpy()), 4).numpy(), t_rope(t, 4).numpy(), atol=1e-14
    )


@pytest.mark.parametrize("rope", [False, True])
@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])
def test_self_attention_with_cache_equals_full(n_kv_heads, rope):
    mg.manual_seed(0)
    mha = MultiHeadAttention(16, 4, n_kv_heads=n_kv_heads, rope=rope, dtype=F64)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 5, 16)))
    causal = mg.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
    full = mha(x, x, x, causal)[0].numpy()
    cache = KVCache()
    steps = []
    for t in range(5):
        xt = x[:, t : t + 1]
        steps.append(mha(xt, xt, xt, cache=cache)[0].numpy())
    assert tuple(cache.k.shape) == (2, n_kv_heads, 5, 4)  # the cache holds the kv heads only
    np.testing.assert_allclose(np.concatenate(steps, 1), full, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n_kv_heads", [1, 2])
def test_need_weights_path_agrees_with_fused_gqa(n_kv_heads):
    mg.manual_seed(0)
    mha = MultiHeadAttention(8, 4, n_kv_heads=n_kv_heads, rope=True, dtype=F64)
    x = mg.tensor(np.random.default_rng(1).standard_normal((2, 3, 8)))
    y = mg.tensor(np.random.default_rng(2).standard_normal((2, 4, 8)))
    pad = mg.tensor(np.array([[False, False, True, False], [False] * 4]))
    fused = mha(x, y, y, key_padding_mask=pad)[0].numpy()
    out, weights = mha(x, y, y, key_padding_mask=pad, need_weights=True)
    np.testing.assert_allclose(out.numpy(), fused, rtol=1e-10, atol=1e-12)
    assert tuple(weights.shape) == (2, 3, 4)


@pytest.mark.parametrize(
    "options", [dict(positional="rope"), dict(n_kv_heads=1), dict(positional="rope", n_kv_heads=2)]
)
def test_cached_decoding_equals_uncached(options):
    model = build(model_config(**options))
    model.eval()
    src = mg.tensor(SRC)
    tgt = mg.tensor([[1, 5, 7, 2, 3, 4], [1, 3, 6, 8, 2, 5]])
    with mg.no_grad():
        memory = model.encode(src)
        mem_mask = mg.tensor(np.array(SRC) == 0)
        full = model.decode(tgt, memory, mem_mask).numpy()
        cache = model.new_cache()
        steps = [model.decode(tgt[:, t : t + 1], memory, mem_mask, cache=cache).numpy()
                 for t in range(6)]  # fmt: skip
    np.testing.assert_allclose(np.concatenate(steps, 1), full, rtol=1e-9, atol=1e-11)
    cached = greedy_decode(model, src, 8, 1, 2)
    uncached = greedy_decode(model, src, 8, 1, 2, use_cache=False)
    np.testing.assert_array_equal(cached.numpy(), uncached.numpy())
    cached = beam_search(model, src, 3, 8, 1, 2)  # reorders the (B * beams, Hkv, T, D) cache
    uncached = beam_search(model, src, 3, 8, 1, 2, use_cache=False)
    np.testing.assert_array_equal(cached.numpy(), uncached.numpy())


# =============================================================================================
# Bad input
# =============================================================================================


def test_gqa_heads_not_divisible_names_the_shapes():
    q, k = mg.ones(2, 3, 4, 5), mg.ones(2, 2, 6, 5)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3, 4, 5\).*\(2, 2, 6, 5\)"):
        mg.attention(q, k, k, enable_gqa=True)
    with pytest.raises(mg.ShapeError, match=r"\(3, 5\)"):
        mg.attention(mg.ones(3, 5), mg.ones(3, 5), mg.ones(3, 5), enable_gqa=True)
    with pytest.raises(mg.ShapeError, match=r"\(2, 3, 4, 6\).*3 heads"):
        mg.attention(mg.ones(2, 6, 4, 5), k, k, mg.ones(2, 3, 4, 6), enable_gqa=True)
    with pytest.raises(mg.ShapeError):  # without enable_gqa the heads must broadcast
        mg.attention(mg.ones(2, 4, 4, 5), k, k)


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(n_kv_heads=3), "n_heads 4 is not divisible by n_kv_heads 3"),
        (dict(n_kv_heads=0), "n_kv_heads 0"),
        (dict(norm="batch"), "norm must be one of"),
        (dict(activation="tanh"), "activation must be one of"),
        (dict(positional="learned"), "positional must be one of"),
        (dict(positional="rope", d_model=12), "even head dim"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises(ValueError, match=match):
        Transformer(VOCAB, VOCAB, **model_config(**options))


def test_rms_norm_bad_input_names_shapes():
    with pytest.raises(mg.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        mg.rms_norm(mg.ones(2, 3), 4)
    with pytest.raises(mg.ShapeError, match=r"\(2,\).*\(3,\)"):
        mg.rms_norm(mg.ones(2, 3), 3, mg.ones(2))
    with pytest.raises(TypeError):
        mg.rms_norm(mg.tensor([[1, 2]]), 2)
    with pytest.raises(ValueError, match="eps"):
        nn.RMSNorm(3, eps=-1.0)


def test_rms_norm_module_matches_torch_and_default_eps():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32) * 1e-4
    m = nn.RMSNorm((3, 4))
    t = tnn.RMSNorm((3, 4))
    assert m.eps is None and t.eps is None
    np.testing.assert_allclose(
        m(mg.tensor(x)).numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-5
    )
    assert nn.RMSNorm(4, elementwise_affine=False).weight is None
