"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    src ids (B, S) -> embed * sqrt(d) + PE -> Encoder -> memory (B, S, d)
    tgt ids (B, T) -> embed * sqrt(d) + PE -> Decoder(memory) -> Linear -> logits (B, T, V)

Padding masks come from ``pad_id`` when not given; the decoder's self-attention is causal. For
step-by-step decoding, :class:`DecoderCache` keeps every decoder layer's keys and values, so
``decode`` runs only the new positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigrad import backend
from minigrad.ops._util import ShapeError
from minigrad.tensor import Tensor
from nn import Embedding, LayerNorm, Linear, Module, init
from transformer.attention import KVCache
from transformer.layers import Decoder, DecoderLayer, Encoder, EncoderLayer, PositionalEncoding
from transformer.masks import causal_mask, padding_mask


@dataclass
class TransformerConfig:
    """The hyperparameters of :class:`Transformer` (the paper's base model by default)."""

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 512
    n_heads: int = 8
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    d_ff: int = 2048
    dropout: float = 0.1
    max_len: int = 5000
    norm_first: bool = False
    pad_id: int = 0
    tie_embeddings: bool = False
    activation: str = "relu"


class DecoderCache:
    """Per decoder layer, the self-attention and cross-attention :class:`KVCache`, plus which
    of the positions decoded so far are padding (so cached keys are masked as in a full run).
    """

    def __init__(self, num_layers: int) -> None:
        self.layers = [(KVCache(), KVCache(static=True)) for _ in range(num_layers)]
        self.pad: Tensor | None = None  # (B, positions so far) bool

    def __len__(self) -> int:
        return 0 if self.pad is None else self.pad.shape[1]

    def reorder(self, index: Any, static: bool = True) -> None:
        """Keep the batch rows ``index`` (an int array on the cache's device): beam search.

        ``static=False`` leaves the cross-attention (memory) caches as they are: right where
        every row of ``index`` comes from a row with the same memory (beams of one source).
        """
        for self_cache, cross_cache in self.layers:
            self_cache.reorder(index)
            if static:
                cross_cache.reorder(index)
        if self.pad is not None:
            self.pad = Tensor._wrap(self.pad.data[index])


class Transformer(Module):
    """Encoder-decoder transformer, batch first.

    Args:
        src_vocab_size: the source vocabulary's size.
        tgt_vocab_size: the target vocabulary's size.
        d_model: the width of every position's vector (the paper's d_model).
        n_heads: attention heads per layer; ``d_model`` must divide by it.
        num_encoder_layers: encoder layers (the paper's N).
        num_decoder_layers: decoder layers.
        d_ff: the feed-forward layer's inner width.
        dropout: the dropout probability after every sublayer and in attention.
        max_len: the longest sequence the positional encoding covers.
        norm_first: False for the paper's post-norm, True for pre-norm.
        pad_id: the padding token; padding masks are built from it when not given.
        tie_embeddings: share the target embedding with the output projection (section 3.4);
            with equal vocabulary sizes the source embedding is shared too.
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        d_model: int = 512,
        n_heads: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        d_ff: int = 2048,
        dropout: float = 0.1,
        max_len: int = 5000,
        norm_first: bool = False,
        pad_id: int = 0,
        tie_embeddings: bool = False,
        activation: str = "relu",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if d_model <= 0 or n_heads <= 0 or d_model % n_heads:
            raise ValueError(
                f"Transformer: d_model {d_model} is not divisible by n_heads {n_heads}"
            )
        for name, vocab in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size)):
            if not 0 <= pad_id < vocab:
                raise ValueError(f"Transformer: pad_id {pad_id} is outside {name} {vocab}")
        self.config = TransformerConfig(
            src_vocab_size, tgt_vocab_size, d_model, n_heads, num_encoder_layers,
            num_decoder_layers, d_ff, dropout, max_len, norm_first, pad_id, tie_embeddings,
            activation,
        )  # fmt: skip
        self.d_model = d_model
        self.pad_id = pad_id
        kw = {"device": device, "dtype": dtype}
        self.src_embed = Embedding(src_vocab_size, d_model, padding_idx=pad_id, **kw)
        self.tgt_embed = Embedding(tgt_vocab_size, d_model, padding_idx=pad_id, **kw)
        self.pos_encoding = PositionalEncoding(d_model, max_len, dropout, **kw)
        layer_args = (d_model, n_heads, d_ff, dropout, activation, norm_first)
        self.encoder = Encoder(
            [EncoderLayer(*layer_args, **kw) for _ in range(num_encoder_layers)],
            LayerNorm(d_model, **kw) if norm_first else None,
        )
        self.decoder = Decoder(
            [DecoderLayer(*layer_args, **kw) for _ in range(num_decoder_layers)],
            LayerNorm(d_model, **kw) if norm_first else None,
        )
        self.output_proj = Linear(d_model, tgt_vocab_size, **kw)
        self._reset_parameters()
        if tie_embeddings:
            self.output_proj.weight = self.tgt_embed.weight
            if src_vocab_size == tgt_vocab_size:
                self.src_embed.weight = self.tgt_embed.weight

    def _reset_parameters(self) -> None:
        # Glorot initialization of every matrix, as the Annotated Transformer and nn.Transformer
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        for emb in (self.src_embed, self.tgt_embed):
            emb.weight.data[self.pad_id] = 0

    # -- the two halves -------------------------------------------------------------------------

    def _check_tokens(self, ids: Tensor, what: str) -> None:
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Transformer: {what} must be integer token ids, got {ids.dtype}")
        if ids.ndim != 2:
            raise ShapeError(
                f"Transformer: {what} must be (batch, time) token ids, got shape {tuple(ids.shape)}"
            )

    def _embed(self, embed: Embedding, ids: Tensor, what: str, offset: int = 0) -> Tensor:
        # (B, T) -> (B, T, d): embeddings scaled by sqrt(d_model), then positions (section 3.4).
        # The embedding checks the ids against the vocabulary (one device read, nothing else
        # checks them again); its error is re-raised naming the source or the target.
        try:
            x = embed(ids)
        except IndexError as err:
            raise IndexError(
                f"Transformer: {what} token ids outside the vocabulary: {err}"
            ) from err
        return self.pos_encoding(x * math.sqrt(self.d_model), offset)

    def encode(self, src: Tensor, src_key_padding_mask: Tensor | None = None) -> Tensor:
        """src (B, S) ids -> memory (B, S, d_model). The padding mask defaults to src == pad_id."""
        self._check_tokens(src, "source")
        if src_key_padding_mask is None:
            src_key_padding_mask = padding_mask(src, self.pad_id)
        x = self._embed(self.src_embed, src, "source")
        return self.encoder(x, None, src_key_padding_mask)

    def decode(
        self,
        tgt: Tensor,
        memory: Tensor,
        memory_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        cache: DecoderCache | None = None,
    ) -> Tensor:
        """tgt (B, T) ids and memory (B, S, d_model) -> logits (B, T, tgt_vocab_size).

        With ``cache``, ``tgt`` holds only the positions after the ``len(cache)`` already
        decoded (usually one), and the cache grows by T. ``memory_key_padding_mask`` (B, S) is
        required when the memory has padding (``encode``'s mask: ``src == pad_id``).
        """
        self._check_tokens(tgt, "target")
        offset = len(cache) if cache is not None else 0
        T = tgt.shape[1]
        x = self._embed(self.tgt_embed, tgt, "target", offset)  # checks ids before the cache grows
        if tgt_key_padding_mask is None:
            tgt_key_padding_mask = padding_mask(tgt, self.pad_id)
        if cache is not None:
            pad = tgt_key_padding_mask
            if cache.pad is not None:
                xp = backend.array_module(pad.data)
                pad = Tensor._wrap(xp.concatenate([cache.pad.data, pad.data], axis=1))
            cache.pad = pad
            tgt_key_padding_mask = pad
        mask = causal_mask(T, offset, device=tgt.device)  # (T, offset + T)
        caches = cache.layers if cache is not None else None
        x = self.decoder(
            x, memory, mask, None, tgt_key_padding_mask, memory_key_padding_mask, caches
        )
        return self.output_proj(x)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        """src (B, S) and tgt (B, T) ids -> logits (B, T, tgt_vocab_size) (teacher forcing)."""
        self._check_tokens(src, "source")
        if src_key_padding_mask is None:
            src_key_padding_mask = padding_mask(src, self.pad_id)
        memory = self.encode(src, src_key_padding_mask)
        return self.decode(tgt, memory, src_key_padding_mask, tgt_key_padding_mask)

    def new_cache(self) -> DecoderCache:
        """An empty key/value cache for step-by-step decoding."""
        return DecoderCache(len(self.decoder.layers))
