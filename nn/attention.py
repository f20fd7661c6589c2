"""Attention and distances, after ``torch.nn``: MultiheadAttention (``add_bias_kv``,
``add_zero_attn``, ``kdim``/``vdim`` included) and its functional
``multi_head_attention_forward``, ``scaled_dot_product_attention``; CosineSimilarity,
PairwiseDistance and their functions ``cosine_similarity``, ``pairwise_distance``.

Mask conventions are PyTorch's, which differ between the two attention functions:
``scaled_dot_product_attention``'s boolean ``attn_mask`` is True where a query MAY attend,
while MultiheadAttention's ``attn_mask`` and ``key_padding_mask`` are True where it may NOT.
A float mask is added to the scores in both. (minigrad's fused ``attention`` op, which both
call, takes True as "may not attend".)

Owns: these layers and functions. May import: minigrad's public API, ``nn.init``,
``nn.module``, and ``nn.layers`` inside MultiheadAttention (``nn.functional`` imports this
module, and ``nn.layers`` imports ``nn.functional``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from minigrad import backend
from minigrad.creation import ones, zeros
from minigrad.errors import ShapeError
from minigrad.ops import (
    attention,
    cat,
    dropout,
    linear,
    logical_not,
    pad,
    softmax,
    triu,
    vector_norm,
    where,
)
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, Parameter, _param

# =============================================================================================
# scaled_dot_product_attention
# =============================================================================================


def _causal_mask(tq: int, tk: int, like: Tensor) -> Tensor:
    """(Tq, Tk) bool, True above the diagonal: the keys a query may NOT attend to."""
    return triu(ones(tq, tk, dtype=backend.bool_, device=like.device), 1)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` as ``torch.nn.functional``'s: a boolean
    ``attn_mask`` is True where a query may attend (PyTorch's convention), a float one is
    added to the scores; ``is_causal`` masks the keys after each query (no ``attn_mask`` with
    it); ``scale`` defaults to 1/sqrt(E); dropout with ``dropout_p`` on the weights.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev), mask broadcast to
    (..., L, S) -> (..., L, Ev). A query that may attend to no key gets zeros.
    """
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
        mask = _causal_mask(query.shape[-2], key.shape[-2], query)
    elif attn_mask is not None and attn_mask.dtype == backend.bool_:
        mask = logical_not(attn_mask)  # the fused op's convention: True may NOT attend
    else:
        mask = attn_mask
    return attention(query, key, value, mask, dropout_p, True, scale, enable_gqa)


# =============================================================================================
# MultiheadAttention
# =============================================================================================


def _additive(name: str, mask: Tensor | None, like: Tensor) -> Tensor | None:
    """A MultiheadAttention mask as a float one to add: -inf where a bool mask is True. Any
    other dtype (an int 0/1 mask) is refused, as PyTorch: added as is it would mask nothing;
    so is a float mask of another dtype than the query's (``like``)."""
    if mask is None:
        return None
    if mask.dtype != backend.bool_ and mask.dtype.kind != "f":
        raise TypeError(
            f"MultiheadAttention: {name} must be bool or floating point, got {mask.dtype} "
            f"(shape {tuple(mask.shape)})"
        )
    if mask.dtype == backend.bool_:
        return where(mask, float("-inf"), 0.0).to(like.dtype)
    if mask.dtype != like.dtype:  # as the fused attention's: no silent mixing of precisions
        raise TypeError(
            f"MultiheadAttention: a float {name} must have the query's dtype {like.dtype}, got "
            f"{mask.dtype} (shape {tuple(mask.shape)})"
        )
    return mask


def _time_major(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
    """The inputs as (T, N, E): batched (T, N, E) as they are, unbatched (T, E) with N = 1."""
    if query.ndim == key.ndim == value.ndim == 2:
        return tuple(t.unsqueeze(1) for t in (query, key, value))
    if not query.ndim == key.ndim == value.ndim == 3 or query.shape[1] != key.shape[1]:
        raise ShapeError(
            "multi_head_attention_forward: expected query (L, N, E), key (S, N, kdim) and value "
            f"(S, N, vdim), or all unbatched (2-D), got {tuple(query.shape)}, "
            f"{tuple(key.shape)}, {tuple(value.shape)}"
        )
    return query, key, value


def _check_embed(q: Tensor, k: Tensor, v: Tensor, embed_dim: int, num_heads: int) -> None:
    if q.shape[-1] != embed_dim or embed_dim % num_heads or k.shape[:2] != v.shape[:2]:
        raise ShapeError(
            f"multi_head_attention_forward: query {tuple(q.shape)}, key {tuple(k.shape)}, value "
            f"{tuple(v.shape)} do not fit embed_dim {embed_dim} split into {num_heads} heads "
            "(key and value must agree in length and batch)"
        )


def _check_weights(
    in_proj_weight: Tensor | None, separate: Any, bias_kv: tuple, static_kv: tuple, heads: tuple
) -> None:
    """The functional's optional arguments agree, as PyTorch's asserts: the in-projection
    weights given, ``bias_k`` and ``bias_v`` together and not with ``static_k``/``static_v``,
    which are (N * H, S, E / H); ``heads``: (N, H, E / H)."""
    where = "multi_head_attention_forward"
    if separate is None and in_proj_weight is None:
        raise ValueError(f"{where}: use_separate_proj_weight is False but in_proj_weight is None")
    if separate is not None and any(w is None for w in separate):
        raise ValueError(
            f"{where}: use_separate_proj_weight is True but a q/k/v_proj_weight is None"
        )
    if (bias_kv[0] is None) != (bias_kv[1] is None):
        raise ValueError(f"{where}: bias_k and bias_v must be given together")
    if bias_kv[0] is not None and (static_kv[0] is not None or static_kv[1] is not None):
        raise ValueError(f"{where}: bias_k with static_k or static_v")
    n, num_heads, head_dim = heads
    for name, static in zip(("static_k", "static_v"), static_kv):
        if static is not None and (
            static.ndim != 3 or (static.shape[0], static.shape[2]) != (n * num_heads, head_dim)
        ):
            raise ShapeError(
                f"{where}: {name} must be (N * num_heads, S, head_dim) = ({n * num_heads}, S, "
                f"{head_dim}), got {tuple(static.shape)}"
            )


def _in_projection(
    qkv: tuple[Tensor, ...], weight: Tensor | None, bias: Tensor | None, separate: Any
) -> tuple[Tensor, ...]:
    """q, k, v (T, N, *) projected to (T, N, E): by ``weight`` (3 E, E) cut in three, or by
    the three ``separate`` weights; ``bias`` (3 E,) cut likewise."""
    if separate is None:
        e = weight.shape[0] // 3
        separate = (weight[:e], weight[e : 2 * e], weight[2 * e :])
    e = separate[0].shape[0]
    biases = (None,) * 3 if bias is None else (bias[:e], bias[e : 2 * e], bias[2 * e :])
    return tuple(linear(x, w, b) for x, w, b in zip(qkv, separate, biases))


def _split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(T, N, E) -> (N, H, T, E / H)."""
    t, n, e = x.shape
    return x.reshape(t, n, num_heads, e // num_heads).permute(1, 2, 0, 3)


def _key_value_heads(
    k: Tensor, v: Tensor, num_heads: int, bias_kv: tuple, static_kv: tuple, add_zero_attn: bool
) -> tuple[Tensor, Tensor]:
    """The projected keys and values (S, N, E) as heads (N, H, S', E / H): ``bias_k`` and
    ``bias_v`` (1, 1, E) appended (the same for every batch item), or ``static_k`` /
    ``static_v`` (N * H, S, E / H) in their place, then a zero key and value per head with
    ``add_zero_attn``. S' = S + 1 for each."""
    n = k.shape[1]
    if bias_kv[0] is not None:
        size = (1, n, k.shape[2])
        k, v = cat([k, bias_kv[0].expand(size)], 0), cat([v, bias_kv[1].expand(size)], 0)
    kh, vh = _split_heads(k, num_heads), _split_heads(v, num_heads)  # (N, H, S', E / H)
    kh, vh = (
        h if static is None else static.reshape(n, num_heads, *static.shape[1:])
        for h, static in zip((kh, vh), static_kv)
    )
    if add_zero_attn:
        zero = zeros(n, num_heads, 1, kh.shape[3], dtype=kh.dtype, device=kh.device)
        kh, vh = cat([kh, zero], 2), cat([vh, zero], 2)
    return kh, vh


def _merged_mask(attn_mask: Any, key_padding_mask: Any, sizes: tuple, like: Tensor) -> Any:
    """The two masks merged into one float mask broadcasting to (N, H, L, S'), or None; each
    padded with ``extra`` columns of "may attend" (``bias_k`` and ``add_zero_attn``'s keys).
    ``sizes``: (N, H, L, S for attn_mask, S for key_padding_mask, extra)."""
    n, h, tq, tk, ts, extra = sizes
    mask = _additive("attn_mask", attn_mask, like)
    if mask is not None:
        if tuple(mask.shape) == (n * h, tq, tk):
            mask = mask.reshape(n, h, tq, tk)
        elif tuple(mask.shape) != (tq, tk):
            raise ShapeError(
                f"MultiheadAttention: attn_mask must be ({tq}, {tk}) or "
                f"({n * h}, {tq}, {tk}), got {tuple(mask.shape)}"
            )
        mask = pad(mask, (0, extra))
    padding = _additive("key_padding_mask", key_padding_mask, like)
    if padding is not None:
        if tuple(padding.shape) != (n, ts):
            raise ShapeError(
                f"MultiheadAttention: key_padding_mask must be ({n}, {ts}), got "
                f"{tuple(padding.shape)}"
            )
        padding = pad(padding, (0, extra)).reshape(n, 1, 1, ts + extra)
        mask = padding if mask is None else mask + padding
    return mask


def _weighted_sum(
    qh: Tensor, kh: Tensor, vh: Tensor, mask: Any, p: float, need_weights: bool
) -> tuple[Tensor, Tensor | None]:
    """The heads' ``softmax(q k^T / sqrt(d) + mask) v`` (N, H, L, d), and the weights
    (N, H, L, S') after dropout with ``need_weights`` (else the fused op, and None)."""
    if not need_weights:
        return attention(qh, kh, vh, mask, p, True), None
    scores = qh @ kh.transpose(-2, -1) * (1.0 / math.sqrt(qh.shape[-1]))
    weights = softmax(scores if mask is None else scores + mask, -1)  # (N, H, L, S')
    weights = dropout(weights, p, True)  # PyTorch returns the weights after dropout
    return weights @ vh, weights


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """``torch.nn.functional.multi_head_attention_forward``: :class:`MultiheadAttention`'s
    computation with the weights given. Shapes: query (L, N, E), key (S, N, kdim), value
    (S, N, vdim), or unbatched (L, E)... (time first; no ``batch_first`` here) -> (output like
    query, weights (N, L, S') or (N, H, L, S') or None), as the layer's."""
    if is_causal and attn_mask is None:
        raise ValueError("MultiheadAttention: is_causal is a hint that needs attn_mask")
    unbatched, (q, k, v) = query.ndim == 2, _time_major(query, key, value)
    if unbatched and key_padding_mask is not None:
        key_padding_mask = key_padding_mask.unsqueeze(0)
    _check_embed(q, k, v, embed_dim_to_check, num_heads)
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    head_shape = (q.shape[1], num_heads, embed_dim_to_check // num_heads)
    _check_weights(in_proj_weight, separate, (bias_k, bias_v), (static_k, static_v), head_shape)
    q, k, v = _in_projection((q, k, v), in_proj_weight, in_proj_bias, separate)  # (T, N, E)
    statics, extra = (static_k, static_v), int(bias_k is not None) + int(add_zero_attn)
    kh, vh = _key_value_heads(k, v, num_heads, (bias_k, bias_v), statics, add_zero_attn)
    (tq, n, e), ts = q.shape, kh.shape[2] - extra
    sizes = (n, num_heads, tq, k.shape[0], ts, extra)
    if is_causal and key_padding_mask is None and not need_weights:
        mask = _causal_mask(tq, kh.shape[2], q)  # PyTorch's: the hint replaces attn_mask
    else:
        mask = _merged_mask(attn_mask, key_padding_mask, sizes, q)
    p = dropout_p if training else 0.0
    heads, weights = _weighted_sum(_split_heads(q, num_heads), kh, vh, mask, p, need_weights)
    out = linear(heads.permute(2, 0, 1, 3).reshape(tq, n, e), out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if unbatched:
        return out.squeeze(1), None if weights is None else weights.squeeze(0)
    return out, weights


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) as ``torch.nn.MultiheadAttention``:
    ``out_proj(concat_h softmax(q_h k_h^T / sqrt(d) + mask) v_h)``.

    Parameters as PyTorch's, so a state_dict maps name for name: ``in_proj_weight``
    (3 embed_dim, embed_dim) holding W_q, W_k, W_v one under the other (``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight`` instead when ``kdim``/``vdim`` differ from
    embed_dim, ``_qkv_same_embed_dim`` False; the unused names are registered as None, as
    PyTorch's), ``in_proj_bias`` (3 embed_dim,), ``bias_k`` and ``bias_v`` (1, 1, embed_dim)
    with ``add_bias_kv``, ``out_proj`` a Linear. Initialization as PyTorch: xavier_uniform
    for the input projections, xavier_normal for ``bias_k``/``bias_v``, zero biases.

    ``add_bias_kv`` appends the learned ``bias_k``/``bias_v`` to the projected keys and values
    (one more key, the same for every batch item); ``add_zero_attn`` then appends a zero key
    and value to every head. Each pads ``attn_mask`` and ``key_padding_mask`` with a column
    of "may attend", so S grows by one for each (in the returned weights too).

    Shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim), (N, L, E)... with
    ``batch_first``, or unbatched (L, E); ``key_padding_mask`` (N, S), ``attn_mask`` (L, S) or
    (N * num_heads, L, S), both True (bool) where a query may NOT attend, or float added ->
    (output like query, the weights (N, L, S') averaged over heads, or (N, num_heads, L, S')
    with ``average_attn_weights=False``, or None without ``need_weights``), S' = S plus one
    for ``add_bias_kv`` and one for ``add_zero_attn``. ``is_causal`` is PyTorch's hint: it
    needs ``attn_mask``, and without ``need_weights`` or ``key_padding_mask`` the causal mask
    over the S' keys replaces it.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        from nn.layers import Linear  # noqa: PLC0415 (see the module's docstring)

        super().__init__()
        embed_dim, num_heads, kdim, vdim = (
            int(n) if isinstance(n, numbers.Integral) else n  # NumPy's too, as PyTorch
            for n in (embed_dim, num_heads, kdim, vdim)
        )
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads "
                f"{num_heads} (both positive)"
            )
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self.head_dim, self.batch_first = embed_dim // num_heads, batch_first
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim

        def param(*shape: int) -> Parameter:
            return _param(shape, device, dtype)

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", param(3 * embed_dim) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:  # one learned key and value more, after the projections
            self.bias_k, self.bias_v = param(1, 1, embed_dim), param(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            if self._parameters[name] is not None:
                init.xavier_uniform_(self._parameters[name])
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _batched(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        """The inputs time first, (T, N, E), or unbatched (T, E) as they are."""
        if self.batch_first and query.ndim == key.ndim == value.ndim == 3:
            return tuple(t.transpose(0, 1) for t in (query, key, value))
        return query, key, value

    def _check(self, q: Tensor, k: Tensor, v: Tensor) -> None:
        wanted = (self.embed_dim, self.kdim, self.vdim)
        if (q.shape[-1], k.shape[-1], v.shape[-1]) != wanted or k.shape[:-1] != v.shape[:-1]:
            raise ShapeError(
                f"MultiheadAttention: query, key, value of shapes {tuple(q.shape)}, "
                f"{tuple(k.shape)}, {tuple(v.shape)} do not fit embed_dim, kdim, vdim {wanted}"
                " (key and value must agree in length and batch)"
            )

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        q, k, v = self._batched(query, key, value)
        self._check(q, k, v)
        out, weights = multi_head_attention_forward(
            q, k, v, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
            self.out_proj.bias, self.training, key_padding_mask, need_weights, attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )  # fmt: skip
        if self.batch_first and query.ndim == 3:
            out = out.transpose(0, 1)
        return out, weights


# =============================================================================================
# distances
# =============================================================================================


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 x2, dim) / (max(|x1|, eps) max(|x2|, eps))``, each input divided by its norm
    first (PyTorch's order, which keeps the result in [-1, 1]), after broadcasting them.
    Shapes: x1, x2 broadcast together -> that shape without ``dim``."""
    try:
        shape = backend.numpy_module().broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        raise ShapeError(
            f"cosine_similarity: x1 of shape {tuple(x1.shape)} and x2 of shape "
            f"{tuple(x2.shape)} do not broadcast together"
        ) from None
    x1, x2 = x1.expand(shape), x2.expand(shape)  # as PyTorch: the norms of the broadcast inputs
    norms = []
    for x in (x1, x2):
        norm = (x * x).sum(dim, keepdim=True).sqrt()
        norms.append(norm.clamp(min=eps))
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The p-norm of ``x1 - x2 + eps`` over the last dim (PyTorch's ``eps`` keeps the norm's
    gradient finite at 0). ``p`` >= 0 or ``inf``; ``p = 0`` counts the nonzero differences
    (PyTorch's, gradient zero). Shapes: (N, D), (N, D) -> (N,) (or (N, 1) with ``keepdim``);
    1-D inputs give a 0-d result."""
    if not p >= 0:
        raise ValueError(f"pairwise_distance: p must be >= 0, got {p}")
    # ||x1 - x2 + eps||_p over the last dim; vector_norm's gradient at a zero difference is 0
    # (PyTorch's subgradient), where sqrt(sum d^2) would give 0 / 0 = NaN
    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


class CosineSimilarity(Module):
    """:func:`cosine_similarity` along ``dim`` as a layer: (*, D, *) twice -> (*, *)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """:func:`pairwise_distance` as a layer: (N, D) twice -> (N,)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
