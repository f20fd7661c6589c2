"""The transformer's layers, in the order data meets them: positional encoding, feed-forward,
encoder layer, decoder layer, and the stacks (Vaswani et al., 2017, section 3).

Options of later models, each off by default: the norm (``"layer"``, the paper's LayerNorm, or
``"rms"``, RMSNorm as in LLaMA), the feed-forward's activation (``"relu"``, ``"gelu"`` or
``"swiglu"``), grouped-query attention (``n_kv_heads``) and rotary embeddings in the
self-attentions (``rope``; cross-attention is never rotated: its keys are encoder positions, its
queries decoder positions, and the encoder's own rotations already placed the memory).

Every layer is batch first: (B, T, d_model). ``norm_first=False`` is the paper's post-norm
(``x = norm(x + sublayer(x))``); ``True`` is pre-norm (``x = x + sublayer(norm(x))``), which
trains more stably in deep stacks and then ends each stack with a final norm. Both live in one
place, :class:`SublayerConnection`.

Owns: the layers of the model. May import: minigrad's public API, ``nn``, ``transformer.attention``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from minigrad import backend
from minigrad.creation import arange, zeros
from minigrad.ops import dropout as dropout_fn
from minigrad.ops import silu
from minigrad.recompute import checkpoint
from minigrad.tensor import Tensor, as_tensor
from nn import GELU, Dropout, LayerNorm, Linear, Module, ModuleList, ReLU, RMSNorm
from transformer.attention import KVCache, MultiHeadAttention


class PositionalEncoding(Module):
    """Adds the sinusoidal encoding of section 3.5 to embeddings, then applies dropout.

        PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),  PE(pos, 2i + 1) = cos(...)

    Shapes: x (B, T, d_model) -> same. ``offset`` shifts the positions (decoding with a cache).
    The table is a non-persistent buffer: it is not saved in checkpoints (it is recomputed).
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if max_len <= 0 or d_model <= 0:
            raise ValueError(
                f"PositionalEncoding: d_model {d_model} and max_len {max_len} must be > 0"
            )
        self.d_model = d_model
        self.max_len = max_len
        self.dropout = Dropout(dropout)
        dtype = backend.DEFAULT_FLOAT if dtype is None else dtype
        pos = arange(max_len, dtype=backend.float64, device=device).array[:, None]  # (max_len, 1)
        div = arange(0, d_model, 2, dtype=backend.float64, device=device).array
        xp = backend.array_module(pos)
        angle = pos * xp.exp(div * (-math.log(10000.0) / d_model))  # (max_len, ceil(d/2))
        pe = zeros(max_len, d_model, dtype=backend.float64, device=device).array
        pe[:, 0::2] = xp.sin(angle)
        pe[:, 1::2] = xp.cos(angle[:, : d_model // 2])
        self.register_buffer("pe", as_tensor(pe.astype(dtype)), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        T = x.shape[1]
        if offset + T > self.max_len:
            raise ValueError(
                f"PositionalEncoding: a sequence of length {offset + T} is longer than "
                f"max_len {self.max_len}"
            )
        pe = self.pe if self.pe.dtype == x.dtype else as_tensor(self.pe.array.astype(x.dtype))
        return self.dropout(x + pe[offset : offset + T])


def make_norm(norm: str, d_model: int, eps: float = 1e-5, **kw: Any) -> Module:
    """The norm a layer uses: ``"layer"`` (LayerNorm) or ``"rms"`` (RMSNorm), both with ``eps``."""
    if norm not in ("layer", "rms"):
        raise ValueError(f"norm must be 'layer' or 'rms', got {norm!r}")
    return LayerNorm(d_model, eps, **kw) if norm == "layer" else RMSNorm(d_model, eps, **kw)


class FeedForward(Module):
    """FFN(x) = linear2(dropout(activation(linear1(x)))), section 3.3.

    With ``activation="swiglu"`` (Shazeer, 2020, as LLaMA): a gated unit with a third matrix,

        FFN(x) = linear2(dropout(silu(linear1(x)) * linear3(x))),  silu(a) = a * sigmoid(a)

    with ``d_ff`` as given (LLaMA shrinks it to 2/3 * 4 * d_model to keep the parameter count;
    pass the d_ff you want). Every linear has a bias, as the rest of this model's.

    Shapes: (B, T, d_model) -> (B, T, d_model), through (B, T, d_ff).
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        dropout: float = 0.0,
        activation: str = "relu",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if activation not in ("relu", "gelu", "swiglu"):
            raise ValueError(
                f"FeedForward: activation must be 'relu', 'gelu' or 'swiglu', got {activation!r}"
            )
        self.gated = activation == "swiglu"
        self.linear1 = Linear(d_model, d_ff, device=device, dtype=dtype)
        # swiglu's silu is written in forward (a gate, not a module between two linears)
        self.activation = {"relu": ReLU, "gelu": GELU}.get(activation, lambda: None)()
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(d_ff, d_model, device=device, dtype=dtype)
        if self.gated:
            self.linear3 = Linear(d_model, d_ff, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        if self.gated:
            gate = self.linear1(x)  # (B, T, d_ff)
            hidden = silu(gate) * self.linear3(x)  # silu(W1 x) * W3 x
        else:
            hidden = self.activation(self.linear1(x))  # (B, T, d_ff)
        return self.linear2(self.dropout(hidden))


class SublayerConnection:
    """A residual connection around one sublayer, with its dropout and norm (the Annotated
    Transformer's ``SublayerConnection``): written once for every layer.

        post-norm (the paper's):  x = norm(x + dropout(sublayer(x)))
        pre-norm (norm_first):    x = x + dropout(sublayer(norm(x)))

    Shapes: x (B, T, d_model) -> same. Not a Module: the norm is registered on the layer that
    owns it (``norm1``, ``norm2``, ...) and passed in, so checkpoints keep their keys.
    """

    def __init__(self, dropout_p: float, norm_first: bool) -> None:
        self.dropout_p = dropout_p
        self.norm_first = norm_first

    def __call__(
        self, x: Tensor, norm: Module, sublayer: Callable[[Tensor], Tensor], training: bool
    ) -> Tensor:
        if self.norm_first:
            return x + dropout_fn(sublayer(norm(x)), self.dropout_p, training)
        return norm(x + dropout_fn(sublayer(x), self.dropout_p, training))


class EncoderLayer(Module):
    """Self-attention then feed-forward, each with dropout, a residual connection and a norm.

    Shapes: src (B, S, d_model) -> same; src_mask (S, S); src_key_padding_mask (B, S).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
        eps: float = 1e-5,
        device: Any = None,
        dtype: Any = None,
        norm: str = "layer",
        n_kv_heads: int | None = None,
        rope: bool = False,
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.dropout_p = dropout
        kw = {"device": device, "dtype": dtype}
        attn_kw = {"n_kv_heads": n_kv_heads, **kw}
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, rope=rope, **attn_kw)
        self.ff = FeedForward(d_model, d_ff, dropout, activation, device, dtype)
        self.norm1 = make_norm(norm, d_model, eps, **kw)
        self.norm2 = make_norm(norm, d_model, eps, **kw)
        self.residual = SublayerConnection(dropout, norm_first)

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        def self_attn(x: Tensor) -> Tensor:  # (B, S, d) -> (B, S, d)
            return self.self_attn(x, x, x, src_mask, src_key_padding_mask)[0]

        x = self.residual(src, self.norm1, self_attn, self.training)  # (B, S, d)
        return self.residual(x, self.norm2, self.ff, self.training)  # (B, S, d)


class DecoderLayer(Module):
    """Masked self-attention, cross-attention over the encoder's memory, then feed-forward;
    each with dropout, a residual connection and a norm.

    Shapes: tgt (B, T, d_model), memory (B, S, d_model) -> (B, T, d_model); tgt_mask (T, T);
    memory_mask (T, S); tgt_key_padding_mask (B, T); memory_key_padding_mask (B, S).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = False,
        eps: float = 1e-5,
        device: Any = None,
        dtype: Any = None,
        norm: str = "layer",
        n_kv_heads: int | None = None,
        rope: bool = False,
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.dropout_p = dropout
        kw = {"device": device, "dtype": dtype}
        attn_kw = {"n_kv_heads": n_kv_heads, **kw}
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, rope=rope, **attn_kw)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout, **attn_kw)
        self.ff = FeedForward(d_model, d_ff, dropout, activation, device, dtype)
        self.norm1 = make_norm(norm, d_model, eps, **kw)
        self.norm2 = make_norm(norm, d_model, eps, **kw)
        self.norm3 = make_norm(norm, d_model, eps, **kw)
        self.residual = SublayerConnection(dropout, norm_first)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        cache: tuple[KVCache, KVCache] | None = None,
    ) -> Tensor:
        self_cache, cross_cache = cache if cache is not None else (None, None)

        def self_attn(x: Tensor) -> Tensor:  # (B, T, d) -> (B, T, d), causal
            return self.self_attn(x, x, x, tgt_mask, tgt_key_padding_mask, cache=self_cache)[0]

        def cross_attn(x: Tensor) -> Tensor:  # (B, T, d) over memory (B, S, d) -> (B, T, d)
            return self.cross_attn(
                x, memory, memory, memory_mask, memory_key_padding_mask, cache=cross_cache
            )[0]

        x = self.residual(tgt, self.norm1, self_attn, self.training)  # (B, T, d)
        x = self.residual(x, self.norm2, cross_attn, self.training)  # (B, T, d)
        return self.residual(x, self.norm3, self.ff, self.training)  # (B, T, d)


def _call(layer: Module, *args: Any) -> Any:
    return layer(*args)


class Encoder(Module):
    """A stack of encoder layers (and a final norm when pre-norm).

    With ``checkpoint_layers`` set, training runs each layer through ``minigrad.checkpoint``:
    only the layers' inputs are kept for backward, each layer's activations are recomputed.
    """

    checkpoint_layers = False

    def __init__(self, layers: list[EncoderLayer], norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList(layers)
        self.norm = norm

    def forward(
        self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None
    ) -> Tensor:
        x = src
        run = checkpoint if self.checkpoint_layers and self.training else _call
        for layer in self.layers:
            x = run(layer, x, mask, src_key_padding_mask)
        return self.norm(x) if self.norm is not None else x


class Decoder(Module):
    """A stack of decoder layers (and a final norm when pre-norm); ``checkpoint_layers`` as
    :class:`Encoder` (not while decoding with caches)."""

    checkpoint_layers = False

    def __init__(self, layers: list[DecoderLayer], norm: Module | None = None) -> None:
        super().__init__()
        self.layers = ModuleList(layers)
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        caches: list[tuple[KVCache, KVCache]] | None = None,
    ) -> Tensor:
        x = tgt
        ckpt = self.checkpoint_layers and self.training and caches is None
        run = checkpoint if ckpt else _call
        for i, layer in enumerate(self.layers):
            cache = caches[i] if caches is not None else None
            x = run(
                layer,
                x,
                memory,
                tgt_mask,
                memory_mask,
                tgt_key_padding_mask,
                memory_key_padding_mask,
                cache,
            )
        return self.norm(x) if self.norm is not None else x
