"""The encoder-decoder Transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    src ids (B, S) -> embed * sqrt(d) + PE -> Encoder -> memory (B, S, d)
    tgt ids (B, T) -> embed * sqrt(d) + PE -> Decoder(memory) -> Linear -> logits (B, T, V)

The config's ``norm``, ``activation``, ``positional`` and ``n_kv_heads`` switch in pieces of
later models (RMSNorm, SwiGLU, RoPE, grouped-query attention); their defaults are the paper's.
With ``positional="rope"`` no encoding is added (embed * sqrt(d), then dropout): positions
enter in the self-attentions.

Owns: ``TransformerConfig``, ``Transformer`` and its decoding cache. May import: minigrad's
public API, ``nn``, ``transformer.attention``/``layers``/``masks``.

Padding masks come from ``pad_id`` when not given; the decoder's self-attention is causal. For
step-by-step decoding, :class:`DecoderCache` keeps every decoder layer's keys and values, so
``decode`` runs only the new positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from minigrad import backend
from minigrad.errors import ShapeError
from minigrad.tensor import Tensor, as_tensor
from nn import Dropout, Embedding, Linear, Module, init
from transformer.attention import KVCache
from transformer.layers import (
    Decoder,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    PositionalEncoding,
    make_norm,
)
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
    norm: str = "layer"
    positional: str = "sinusoidal"
    n_kv_heads: int | None = None
    checkpoint_layers: bool = False


#: The values each option field may take, the paper's first.
OPTIONS = {
    "activation": ("relu", "gelu", "swiglu"),
    "norm": ("layer", "rms"),
    "positional": ("sinusoidal", "rope"),
}


#: The config's sizes and counts, each with its least value.
_SIZES = {
    "d_model": 1,
    "n_heads": 1,
    "d_ff": 1,
    "max_len": 1,
    "num_encoder_layers": 0,
    "num_decoder_layers": 0,
}


def _check_config(config: TransformerConfig) -> None:
    d_model, n_heads, pad_id = config.d_model, config.n_heads, config.pad_id
    for name, low in _SIZES.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"Transformer: {name} must be an int >= {low}, got {value!r}")
    if d_model % n_heads:
        raise ValueError(f"Transformer: d_model {d_model} is not divisible by n_heads {n_heads}")
    for name, allowed in OPTIONS.items():
        if getattr(config, name) not in allowed:
            raise ValueError(
                f"Transformer: {name} must be one of {allowed}, got {getattr(config, name)!r}"
            )
    n_kv = config.n_kv_heads
    if n_kv is not None and (n_kv <= 0 or n_heads % n_kv):
        raise ValueError(f"Transformer: n_heads {n_heads} is not divisible by n_kv_heads {n_kv}")
    if config.positional == "rope" and (d_model // n_heads) % 2:
        raise ValueError(
            f"Transformer: positional='rope' needs an even head dim, got d_model {d_model} / "
            f"n_heads {n_heads} = {d_model // n_heads}"
        )
    for name in ("src_vocab_size", "tgt_vocab_size"):
        vocab = getattr(config, name)
        if not 0 <= pad_id < vocab:
            raise ValueError(f"Transformer: pad_id {pad_id} is outside {name} {vocab}")


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
            self.pad = as_tensor(self.pad.array[index])


class Transformer(Module):
    """Encoder-decoder transformer, batch first.

    ``Transformer(config)`` with a :class:`TransformerConfig`; ``Transformer(src_vocab_size,
    tgt_vocab_size, d_model=..., ...)`` (the config's fields, by keyword after the two sizes)
    is a shorthand that builds the config. ``device`` and ``dtype`` place the parameters.

    Config fields:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        d_model, n_heads, num_encoder_layers, num_decoder_layers, d_ff, dropout: as the paper.
        max_len: the longest sequence the positional encoding covers.
        norm_first: False for the paper's post-norm, True for pre-norm.
        pad_id: the padding token; padding masks are built from it when not given.
        tie_embeddings: share the target embedding with the output projection (section 3.4);
            with equal vocabulary sizes the source embedding is shared too.
        activation: the feed-forward's nonlinearity, "relu" (the paper's), "gelu" or "swiglu"
            (the gated W2(silu(W1 x) * W3 x) of LLaMA, with d_ff as given).
        norm: "layer" (the paper's LayerNorm) or "rms" (RMSNorm, eps 1e-5), every norm.
        positional: "sinusoidal" (the paper's encoding added to the embeddings) or "rope"
            (rotary embeddings of queries and keys in every self-attention, none added to the
            embeddings; cross-attention is not rotated).
        n_kv_heads: key/value heads of every attention (grouped-query attention; None:
            n_heads, the paper's).
        checkpoint_layers: in training, run each encoder and decoder layer through
            ``minigrad.checkpoint`` (keep only the layers' inputs, recompute the rest in
            backward): less activation memory for about one more forward's time.
    """

    def __init__(self, *args: Any, device: Any = None, dtype: Any = None, **fields: Any) -> None:
        super().__init__()
        if len(args) == 1 and not fields and isinstance(args[0], TransformerConfig):
            config = args[0]
        else:
            config = TransformerConfig(*args, **fields)
        _check_config(config)
        self.config = config
        self.d_model = config.d_model
        self.pad_id = config.pad_id
        kw = {"device": device, "dtype": dtype}
        d, pad = config.d_model, config.pad_id
        self.src_embed = Embedding(config.src_vocab_size, d, padding_idx=pad, **kw)
        self.tgt_embed = Embedding(config.tgt_vocab_size, d, padding_idx=pad, **kw)
        if config.positional == "sinusoidal":
            self.pos_encoding = PositionalEncoding(d, config.max_len, config.dropout, **kw)
        else:  # rope: positions enter in the self-attentions; the embeddings get dropout only
            self.pos_encoding = None
            self.embed_dropout = Dropout(config.dropout)
        layer_kw = {
            "d_model": d,
            "n_heads": config.n_heads,
            "d_ff": config.d_ff,
            "dropout": config.dropout,
            "activation": config.activation,
            "norm_first": config.norm_first,
            "norm": config.norm,
            "n_kv_heads": config.n_kv_heads,
            "rope": config.positional == "rope",
            **kw,
        }
        final_norm = make_norm(config.norm, d, **kw) if config.norm_first else None
        self.encoder = Encoder(
            [EncoderLayer(**layer_kw) for _ in range(config.num_encoder_layers)], final_norm
        )
        final_norm = make_norm(config.norm, d, **kw) if config.norm_first else None
        self.decoder = Decoder(
            [DecoderLayer(**layer_kw) for _ in range(config.num_decoder_layers)], final_norm
        )
        self.encoder.checkpoint_layers = self.decoder.checkpoint_layers = config.checkpoint_layers
        self.output_proj = Linear(d, config.tgt_vocab_size, **kw)
        self._reset_parameters()
        if config.tie_embeddings:
            self.output_proj.weight = self.tgt_embed.weight
            if config.src_vocab_size == config.tgt_vocab_size:
                self.src_embed.weight = self.tgt_embed.weight

    def _reset_parameters(self) -> None:
        # Glorot initialization of every matrix, as the Annotated Transformer and nn.Transformer
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        for emb in (self.src_embed, self.tgt_embed):
            emb.weight.array[self.pad_id] = 0

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
        x = x * math.sqrt(self.d_model)
        if self.pos_encoding is None:  # rope
            return self.embed_dropout(x)
        return self.pos_encoding(x, offset)  # (B, T, d)

    def encode(self, src: Tensor, src_key_padding_mask: Tensor | None = None) -> Tensor:
        """src (B, S) ids -> memory (B, S, d_model). The padding mask defaults to src == pad_id."""
        return self._encode(src, src_key_padding_mask)[0]

    def _encode(self, src: Tensor, src_key_padding_mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """``encode``, also returning the padding mask it used (B, S)."""
        self._check_tokens(src, "source")
        if src_key_padding_mask is None:
            src_key_padding_mask = padding_mask(src, self.pad_id)  # (B, S)
        x = self._embed(self.src_embed, src, "source")  # (B, S, d)
        return self.encoder(x, None, src_key_padding_mask), src_key_padding_mask

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
        # (B, T) -> (B, T, d); checks the ids before the cache grows
        x = self._embed(self.tgt_embed, tgt, "target", offset)
        if tgt_key_padding_mask is None:
            tgt_key_padding_mask = padding_mask(tgt, self.pad_id)  # (B, T)
        if cache is not None:
            pad = tgt_key_padding_mask
            if cache.pad is not None:
                xp = backend.array_module(pad.array)
                pad = as_tensor(
                    xp.concatenate([cache.pad.array, pad.array], axis=1)
                )  # (B, offset+T)
            cache.pad = pad
            tgt_key_padding_mask = pad
        mask = causal_mask(T, offset, device=tgt.device)  # (T, offset + T)
        caches = cache.layers if cache is not None else None
        x = self.decoder(
            x, memory, mask, None, tgt_key_padding_mask, memory_key_padding_mask, caches
        )  # (B, T, d)
        return self.output_proj(x)  # (B, T, tgt_vocab_size)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
    ) -> Tensor:
        """src (B, S) and tgt (B, T) ids -> logits (B, T, tgt_vocab_size) (teacher forcing)."""
        memory, src_key_padding_mask = self._encode(src, src_key_padding_mask)  # (B, S, d)
        return self.decode(tgt, memory, src_key_padding_mask, tgt_key_padding_mask)

    def new_cache(self) -> DecoderCache:
        """An empty key/value cache for step-by-step decoding."""
        return DecoderCache(len(self.decoder.layers))
