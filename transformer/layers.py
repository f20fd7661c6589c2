"""The transformer's layers, in the order data meets them: positional encoding, feed-forward,
encoder layer, decoder layer, and the stacks (Vaswani et al., 2017, section 3).

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
from minigrad.tensor import Tensor, as_tensor
from nn import GELU, Dropout, LayerNorm, Linear, Module, ModuleList, ReLU
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


class FeedForward(Module):
    """FFN(x) = linear2(dropout(activation(linear1(x)))), section 3.3.

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
        if activation not in ("relu", "gelu"):
            raise ValueError(
                f"FeedForward: activation must be 'relu' or 'gelu', got {activation!r}"
            )
        self.linear1 = Linear(d_model, d_ff, device=device, dtype=dtype)
        self.activation = ReLU() if activation == "relu" else GELU()
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(d_ff, d_model, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))


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
        self, x: Tensor, norm: LayerNorm, sublayer: Callable[[Tensor], Tensor], training: bool
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
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.dropout_p = dropout
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, device=device, dtype=dtype)
        self.ff = FeedForward(d_model, d_ff, dropout, activation, device, dtype)
        self.norm1 = LayerNorm(d_model, eps, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps, device=device, dtype=dtype)
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
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.dropout_p = dropout
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, device=device, dtype=dtype)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout, device=device, dtype=dtype)
        self.ff = FeedForward(d_model, d_ff, dropout, activation, device, dtype)
        self.norm1 = LayerNorm(d_model, eps, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps, device=device, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps, device=device, dtype=dtype)
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


class Encoder(Module):
    """A stack of encoder layers (and a final norm when pre-norm)."""

    def __init__(self, layers: list[EncoderLayer], norm: LayerNorm | None = None) -> None:
        super().__init__()
        self.layers = ModuleList(layers)
        self.norm = norm

    def forward(
        self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None
    ) -> Tensor:
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask)
        return self.norm(x) if self.norm is not None else x


class Decoder(Module):
    """A stack of decoder layers (and a final norm when pre-norm)."""

    def __init__(self, layers: list[DecoderLayer], norm: LayerNorm | None = None) -> None:
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
        for i, layer in enumerate(self.layers):
            cache = caches[i] if caches is not None else None
            x = layer(
                x,
                memory,
                tgt_mask,
                memory_mask,
                tgt_key_padding_mask,
                memory_key_padding_mask,
                cache,
            )
        return self.norm(x) if self.norm is not None else x
