"""Multi-head attention (Vaswani et al., 2017, section 3.2), batch first.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,  head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)

Masks follow PyTorch: a boolean ``True`` means "may not attend", a float mask is added to the
scores. Unlike PyTorch, a query that may attend to nothing gets zeros, not NaN.

For decoding, a :class:`KVCache` keeps each layer's projected keys and values, so a new token
costs one step on one position instead of a rerun of the whole prefix.

Owns: ``MultiHeadAttention``, ``KVCache``. May import: minigrad's public API and ``nn``.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.errors import ShapeError
from minigrad.ops import attention, cat, dropout, masked_fill, softmax, split
from minigrad.tensor import Tensor, as_tensor
from nn import Linear, Module
from nn.functional import linear


class KVCache:
    """The keys and values (B, H, T, D) one attention layer has seen so far.

    Self-attention appends the new positions' keys and values at each step; cross-attention
    (``static=True``) computes them from the encoder's memory once and reuses them.
    """

    def __init__(self, static: bool = False) -> None:
        self.static = static
        self.k: Tensor | None = None
        self.v: Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.shape[2]

    def reorder(self, index: Any) -> None:
        """Keep the batch rows ``index`` (an int array), e.g. the surviving beams."""
        if self.k is not None:
            self.k = as_tensor(self.k.array[index])
            self.v = as_tensor(self.v.array[index])


def scaled_dot_product_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    dropout_p: float = 0.0,
    training: bool = True,
    need_weights: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """softmax(q k^T / sqrt(D) + mask) v.

    Shapes: q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv), mask broadcastable to
    (..., Tq, Tk) -> output (..., Tq, Dv) and, with ``need_weights``, the weights (..., Tq, Tk).

    Without weights this is the engine's fused ``attention`` op (one node, hand-written
    backward). With weights it is written out step by step from primitives, so the weights are
    differentiable too; tests check the two paths against each other.
    """
    if not need_weights:
        return attention(q, k, v, mask, dropout_p, training), None
    # 1. scores = q k^T / sqrt(D)                               (..., Tq, Tk)
    scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    # 2. mask: True -> -inf, float -> added
    if mask is not None:
        scores = (
            masked_fill(scores, mask, float("-inf"))
            if mask.dtype == backend.bool_
            else scores + mask
        )
    # 3. weights = softmax over the keys, 4. dropout on the weights
    weights = softmax(scores, dim=-1)
    # 5. output = weights v                                     (..., Tq, Dv)
    out = dropout(weights, dropout_p, training) @ v
    return out, weights


class MultiHeadAttention(Module):
    """Multi-head attention with projections ``q_proj``, ``k_proj``, ``v_proj`` and ``out_proj``.

    Shapes (batch first): query (B, Tq, d_model), key and value (B, Tk, d_model) -> output
    (B, Tq, d_model); with ``need_weights`` also the weights averaged over heads (B, Tq, Tk).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if n_heads <= 0 or d_model <= 0:
            raise ValueError(
                f"MultiHeadAttention: d_model {d_model} and n_heads {n_heads} must be > 0"
            )
        if d_model % n_heads:
            raise ValueError(
                f"MultiHeadAttention: d_model {d_model} is not divisible by n_heads {n_heads}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1), got {dropout}")
        self.d_model = d_model
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.dropout = dropout
        self.q_proj = Linear(d_model, d_model, bias, device, dtype)
        self.k_proj = Linear(d_model, d_model, bias, device, dtype)
        self.v_proj = Linear(d_model, d_model, bias, device, dtype)
        self.out_proj = Linear(d_model, d_model, bias, device, dtype)
        # for inspection: when True, every forward keeps its head-averaged weights (B, Tq, Tk)
        # in ``last_weights`` (cut from the graph), e.g. to draw a heatmap after decoding
        self.record_weights = False
        self.last_weights: Tensor | None = None

    def _heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        return x.reshape(B, T, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        if query is key and key is value:
            # self-attention: one GEMM with the three weights stacked, (B*T, 3*d_model)
            w = cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight], 0)
            b = None
            if self.q_proj.bias is not None:
                b = cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias], 0)
            return split(linear(query, w, b), self.d_model, -1)
        return self.q_proj(query), self.k_proj(key), self.v_proj(value)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        attn_mask: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = False,
        cache: KVCache | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (B, Tq, d_model).
            key: (B, Tk, d_model).
            value: (B, Tk, d_model).
            attn_mask: (Tq, Tk) or (B * n_heads, Tq, Tk); bool (True: may not attend) or float
                (added to the scores).
            key_padding_mask: (B, Tk); bool (True: a padding key, ignored) or float (added).
            need_weights: also return the attention weights averaged over heads (B, Tq, Tk).
            cache: keys and values of earlier steps (decoding). With a self-attention cache,
                ``key``/``value`` hold only the new positions and the mask covers all
                ``len(cache) + Tk`` keys; with a static (cross-attention) cache, keys and
                values are projected on the first call and reused.

        Returns:
            ``(output (B, Tq, d_model), weights or None)``.
        """
        self._check_inputs(query, key, value)
        B, Tq, _ = query.shape
        if cache is not None and cache.static and cache.k is not None:
            q, k, v = self.q_proj(query), cache.k, cache.v
            q = self._heads(q)
        else:
            q, k, v = (self._heads(t) for t in self._project(query, key, value))  # (B, H, T, D)
            if cache is not None:
                if not cache.static and cache.k is not None:
                    k, v = cat([cache.k, k], 2), cat([cache.v, v], 2)
                cache.k, cache.v = k, v
        Tk = k.shape[2]
        mask = self._merge_masks(attn_mask, key_padding_mask, B, Tq, Tk, query)
        p = self.dropout if self.training else 0.0
        need_weights = need_weights or self.record_weights
        out, weights = scaled_dot_product_attention(q, k, v, mask, p, self.training, need_weights)
        out = out.transpose(1, 2).reshape(B, Tq, self.d_model)  # concat heads: (B, Tq, d_model)
        out = self.out_proj(out)
        if weights is not None:
            weights = weights.mean(1)  # average over heads: (B, Tq, Tk)
            if self.record_weights:
                self.last_weights = weights.detach()
        return out, weights

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.ndim != 3 or t.shape[-1] != self.d_model:
                raise ShapeError(
                    f"MultiHeadAttention: {name} must be (batch, time, {self.d_model}), "
                    f"got shape {tuple(t.shape)}"
                )
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ShapeError(
                f"MultiHeadAttention: query {tuple(query.shape)}, key {tuple(key.shape)} and "
                f"value {tuple(value.shape)} need one batch size, and key and value one length"
            )

    def _merge_masks(
        self,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        B: int,
        Tq: int,
        Tk: int,
        like: Tensor,
    ) -> Tensor | None:
        """One mask broadcastable to the scores (B, H, Tq, Tk), or None."""
        masks = []
        if attn_mask is not None:
            shape = tuple(attn_mask.shape)
            if shape == (Tq, Tk):
                masks.append(attn_mask)
            elif shape == (B * self.n_heads, Tq, Tk):
                masks.append(attn_mask.reshape(B, self.n_heads, Tq, Tk))
            else:
                raise ShapeError(
                    f"MultiHeadAttention: attn_mask must be ({Tq}, {Tk}) or "
                    f"({B * self.n_heads}, {Tq}, {Tk}), got {shape}"
                )
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (B, Tk):
                raise ShapeError(
                    f"MultiHeadAttention: key_padding_mask must be (batch, keys) = ({B}, {Tk}), "
                    f"got {tuple(key_padding_mask.shape)}"
                )
            masks.append(key_padding_mask.reshape(B, 1, 1, Tk))
        for m in masks:
            if m.dtype != backend.bool_ and m.dtype != like.dtype:
                raise TypeError(
                    f"MultiHeadAttention: masks must be bool or {like.dtype}, got {m.dtype}"
                )
        if not masks:
            return None
        if len(masks) == 1:
            return masks[0]
        a, b = masks
        if a.dtype == backend.bool_ and b.dtype == backend.bool_:
            xp = backend.array_module(a.array)
            return as_tensor(xp.logical_or(a.array, b.array))
        # at least one float mask: turn a bool one into 0 / -inf and add
        a, b = (_additive(m, like) for m in (a, b))
        return a + b

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}, dropout={self.dropout}"


def _additive(mask: Tensor, like: Tensor) -> Tensor:
    if mask.dtype != backend.bool_:
        return mask
    xp = backend.array_module(mask.array)
    return as_tensor(xp.where(mask.array, -xp.inf, 0).astype(like.dtype))
