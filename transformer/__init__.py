"""transformer: the encoder-decoder model of "Attention Is All You Need" (Vaswani et al., 2017),
built only from ``nn`` layers and minigrad ops.

    >>> from transformer import Transformer
    >>> model = Transformer(src_vocab_size=16, tgt_vocab_size=16, d_model=32, n_heads=4,
    ...                     num_encoder_layers=2, num_decoder_layers=2, d_ff=64)

Owns: the public names of ``transformer``. May import: minigrad's public API, ``nn`` and
``transformer``'s modules.
"""

from transformer.attention import KVCache, MultiHeadAttention, scaled_dot_product_attention
from transformer.decoding import beam_search, greedy_decode, sample
from transformer.layers import (
    Decoder,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    FeedForward,
    PositionalEncoding,
)
from transformer.masks import causal_mask, padding_mask
from transformer.model import DecoderCache, Transformer, TransformerConfig

__all__ = [
    "Decoder",
    "DecoderCache",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "FeedForward",
    "KVCache",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Transformer",
    "TransformerConfig",
    "beam_search",
    "causal_mask",
    "greedy_decode",
    "padding_mask",
    "sample",
    "scaled_dot_product_attention",
]
