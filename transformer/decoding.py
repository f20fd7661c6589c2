"""Decoding a trained :class:`~transformer.model.Transformer`: greedy search, sampling (with
temperature, top-k and nucleus filtering) and beam search.

All are batched, stop at ``eos_id``, and by default decode step by step with a key/value
cache (:class:`~transformer.model.DecoderCache`): each new token costs one decoder step on one
position. ``use_cache=False`` reruns the whole prefix at every step instead; it is the
reference the tests compare the cache against (the tokens are identical, bar floating-point
near-ties: the two paths multiply matrices of different shapes).

Conventions shared by all three:

- ``max_len`` is the most tokens generated after ``bos_id``, ``eos_id`` included; the output
  (B, L) starts with ``bos_id``, so L <= max_len + 1. A sequence that never produces
  ``eos_id`` ends after max_len tokens without it. The decoder sees at most max_len positions,
  so max_len may not exceed the model's ``TransformerConfig.max_len``.
- After a sequence's ``eos_id`` the output holds ``model.pad_id``. ``pad_id`` itself is never
  generated (as in fairseq; unless it is also ``eos_id``), so padding always means "ended".
  It is excluded after the softmax, so scores stay the model's own log-probabilities.
- Each step makes one device-to-host read of its own (is everything finished?), and the
  target embedding's token-id range check makes one more; nothing else reads the device until
  the end (every read goes through ``minigrad.backend.to_host``). On a GPU each read is a sync.
- The model runs in eval mode under ``no_grad``; every module's train/eval mode is restored
  afterwards.
- The decoder prefix is never masked as padding (even where ``bos_id == pad_id``); the source
  padding mask defaults to ``src == model.pad_id``.

Beam search scores a hypothesis as in Hugging Face transformers (``BeamSearchScorer``):

    score = sum of token log-probs / length ** length_penalty

with ``length`` the number of generated tokens, ``eos_id`` included, ``bos_id`` excluded.
``length_penalty`` > 0 favours longer sequences, < 0 shorter ones, 0 compares raw sums.

Owns: ``greedy_decode``, ``sample``, ``beam_search``. May import: minigrad's public API,
``transformer.masks`` and ``transformer.model``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from typing import Any

from minigrad import backend
from minigrad.autograd import no_grad
from minigrad.errors import ShapeError
from minigrad.ops import log_softmax
from minigrad.tensor import Tensor, as_tensor
from transformer.masks import padding_mask
from transformer.model import DecoderCache, Transformer

Array = Any  # a numpy or cupy array


def greedy_decode(
    model: Transformer,
    src: Tensor,
    max_len: int,
    bos_id: int,
    eos_id: int,
    *,
    src_key_padding_mask: Tensor | None = None,
    use_cache: bool = True,
) -> Tensor:
    """Decode by taking the most probable token at each step.

    Args:
        model: an encoder-decoder :class:`Transformer`.
        src: (B, S) integer source ids, padded with ``model.pad_id``.
        max_len: the most tokens to generate after ``bos_id`` (``eos_id`` included).
        bos_id: the target's start token.
        eos_id: the target's end token.
        src_key_padding_mask: (B, S) bool, True at source padding; defaults to
            ``src == model.pad_id``.
        use_cache: decode one position per step with a key/value cache (False: rerun the
            whole prefix at every step; same tokens, slower).

    Returns:
        (B, L) int64 ids: ``bos_id``, the generated tokens, ``eos_id``, then ``model.pad_id``;
        L <= max_len + 1, and decoding stops as soon as every sequence has produced ``eos_id``.
    """
    _check_arguments(
        "greedy_decode", model, src, max_len, bos_id, eos_id, src_key_padding_mask, use_cache
    )
    return _generate(model, src, max_len, bos_id, eos_id, src_key_padding_mask, use_cache, _argmax)


def _argmax(logits: Array) -> Array:
    return logits.argmax(-1)


def sample(
    model: Transformer,
    src: Tensor,
    max_len: int,
    bos_id: int,
    eos_id: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: Any = None,
    src_key_padding_mask: Tensor | None = None,
    use_cache: bool = True,
) -> Tensor:
    """Decode by drawing each token from the model's distribution, reshaped as Hugging Face's
    samplers do, in their order:

    1. temperature: logits / temperature (> 0; below 1 sharper, above 1 flatter). Temperature 0
       is refused: it is greedy decoding, call :func:`greedy_decode`.
    2. top_k: keep the ``top_k`` largest logits (and any tied with the k-th), drop the rest.
    3. top_p (nucleus): keep the most probable tokens whose probabilities, summed from the top,
       first reach ``top_p``: a token stays when the mass strictly above it is < top_p (the
       most probable always does), the rest are dropped and the kept ones renormalized.

    Then one token per row is drawn from what remains. ``pad_id`` is never drawn (as greedy).

    Args:
        model: an encoder-decoder `Transformer`.
        src: (B, S) integer source ids, padded with ``model.pad_id``.
        max_len: the most tokens to generate after ``bos_id`` (``eos_id`` included).
        bos_id: the target's start token.
        eos_id: the target's end token.
        temperature: the divisor of the logits (step 1 above), > 0.
        top_k: keep the top_k largest logits (step 2); None: all.
        top_p: keep the nucleus of this probability mass (step 3), in (0, 1]; None: all.
        generator: where the random draws come from: None, the model's device's generator that
            ``minigrad.manual_seed`` seeds; an int, a fresh generator seeded with it; or a
            generator made by ``minigrad.backend.new_generator(device, seed)`` (advanced by the
            call). One uniform draw per row per step: the same seed gives the same tokens.
        src_key_padding_mask: (B, S) bool, True at source padding; defaults to
            ``src == model.pad_id``.
        use_cache: as in `greedy_decode`.

    Returns:
        (B, L) int64 ids laid out as :func:`greedy_decode`'s.
    """
    _check_arguments("sample", model, src, max_len, bos_id, eos_id, src_key_padding_mask, use_cache)
    _check_sample_arguments(temperature, top_k, top_p)
    draw = _sampler(temperature, top_k, top_p, _resolve_generator(generator, src.device))
    return _generate(model, src, max_len, bos_id, eos_id, src_key_padding_mask, use_cache, draw)


def _resolve_generator(generator: Any, device: Any) -> Any:
    """``sample``'s generator argument as a generator: None is the device's seeded one, an int
    seeds a fresh one, a generator is used as it is."""
    if generator is None:
        return backend.generator(device)
    if isinstance(generator, Integral) and not isinstance(generator, bool):
        return backend.new_generator(device, int(generator))
    on_cpu = backend.draws_on_cpu(generator)
    if on_cpu != (device == "cpu"):  # PyTorch: "Expected a 'cuda' device type for generator"
        raise ValueError(
            f"sample: the generator draws on {'the CPU' if on_cpu else 'a GPU'} but the model's "
            f"tensors are on {device}; make one there: "
            f"minigrad.backend.new_generator({device!r}, seed)"
        )
    return generator


def _sampler(
    temperature: float, top_k: int | None, top_p: float | None, generator: Any
) -> Callable[[Array], Array]:
    """The ``choose`` step of sampling: logits (B, V) -> one token per row (B,), drawn from
    :func:`filtered_probs` with one uniform draw per row."""

    def draw(logits: Array) -> Array:
        probs = filtered_probs(logits, temperature, top_k, top_p)  # (B, V) float64
        xp = backend.array_module(probs)
        cdf = xp.cumsum(probs, axis=1)  # (B, V)
        u = generator.random((probs.shape[0], 1)) * cdf[:, -1:]  # (B, 1) in [0, total)
        # the first token whose cdf passes u: a token of probability 0 is never chosen
        return xp.minimum((cdf <= u).sum(1), probs.shape[1] - 1)

    return draw


def filtered_probs(
    logits: Array, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> Array:
    """The distribution :func:`sample` draws from: logits (N, V) (an array, -inf for
    excluded tokens) -> probabilities (N, V) float64, each row summing to 1."""
    xp = backend.array_module(logits)
    x = logits.astype(backend.float64) / temperature
    V = x.shape[-1]
    if top_k is not None and top_k < V:
        kth = xp.partition(x, V - top_k, axis=1)[:, V - top_k : V - top_k + 1]  # (N, 1)
        x = xp.where(x < kth, -xp.inf, x)
    p = xp.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = xp.argsort(-p, axis=1, kind="stable")  # most probable first
        ranked = xp.take_along_axis(p, order, 1)
        above = xp.cumsum(ranked, axis=1) - ranked  # the mass ranked above each token
        # back from rank order to token order: the inverse permutation of ``order``
        keep = xp.take_along_axis(above < top_p, xp.argsort(order, axis=1), 1)
        p = xp.where(keep, p, 0.0)
        p /= p.sum(axis=1, keepdims=True)
    return p


def _check_sample_arguments(temperature: Any, top_k: Any, top_p: Any) -> None:
    if (
        not isinstance(temperature, Real)
        or isinstance(temperature, bool)
        or not 0 < temperature < math.inf
    ):
        raise ValueError(
            f"sample: temperature must be a finite number > 0, got {temperature!r} "
            "(temperature 0 is greedy decoding: use greedy_decode)"
        )
    if top_k is not None and (
        not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1
    ):
        raise ValueError(f"sample: top_k must be None or an integer >= 1, got {top_k!r}")
    if top_p is not None and (
        not isinstance(top_p, Real) or isinstance(top_p, bool) or not 0 < top_p <= 1
    ):
        raise ValueError(f"sample: top_p must be None or a number in (0, 1], got {top_p!r}")


def _generate(
    model: Transformer,
    src: Tensor,
    max_len: int,
    bos_id: int,
    eos_id: int,
    src_key_padding_mask: Tensor | None,
    use_cache: bool,
    choose: Any,
) -> Tensor:
    """The loop greedy decoding and sampling share: ``choose(logits (B, V)) -> (B,)`` picks
    each step's tokens from the logits (``pad_id`` already excluded)."""
    with _inference(model):
        memory, memory_mask = _encode(model, src, src_key_padding_mask)
        xp = backend.array_module(memory.array)
        B = src.shape[0]
        tokens = xp.full((B, max_len + 1), model.pad_id, dtype=backend.int64)
        tokens[:, 0] = bos_id
        finished = xp.zeros(B, dtype=backend.bool_)
        cache = model.new_cache() if use_cache else None
        for t in range(max_len):
            logits = _decode_step(model, tokens, t, memory, memory_mask, cache)  # (B, V)
            _forbid_pad(logits, model.pad_id, eos_id)
            next_token = xp.where(finished, model.pad_id, choose(logits))  # (B,)
            tokens[:, t + 1] = next_token
            finished |= next_token == eos_id
            # the one device-to-host sync per step: stop once every sequence has ended
            if bool(backend.to_host(finished.all())):
                break
        return as_tensor(xp.ascontiguousarray(tokens[:, : t + 2]))


def beam_search(
    model: Transformer,
    src: Tensor,
    beam_size: int,
    max_len: int,
    bos_id: int,
    eos_id: int,
    length_penalty: float = 1.0,
    *,
    src_key_padding_mask: Tensor | None = None,
    use_cache: bool = True,
    return_scores: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Decode with beam search, ``beam_size`` hypotheses per source, all sources at once.

    Each step extends every live beam by every token, ranks the candidates by summed log-probability
    and keeps the 2 * beam_size best per source (ties go to the lower beam, then the lower token
    id). Candidates ending in ``eos_id`` among the first beam_size are set aside as finished
    hypotheses (the beam_size best are kept, by penalized score); the first beam_size candidates
    that do not end become the next beams. Decoding stops when every source is done (the stopping
    rule: see :class:`_BeamSearch`) or after max_len tokens. With ``beam_size=1`` this gives greedy
    decoding's tokens (whatever the length penalty), bar floating-point ties that rounding can make
    in the summed log-probs.

    Args:
        model: an encoder-decoder `Transformer`.
        src: (B, S) integer source ids, padded with ``model.pad_id``.
        max_len: the most tokens to generate after ``bos_id`` (``eos_id`` included).
        bos_id: the target's start token.
        eos_id: the target's end token.
        src_key_padding_mask: (B, S) bool, True at source padding; defaults to
            ``src == model.pad_id``.
        use_cache: as in `greedy_decode`.
        beam_size: hypotheses kept per source (>= 1).
        length_penalty: the exponent of the length in the score (see the module docstring).
        return_scores: also return each best hypothesis's penalized score.

    Returns:
        (B, L) int64 ids laid out as :func:`greedy_decode`'s: each source's best hypothesis.
        With ``return_scores``, also its score, (B,) in the model's float dtype (float32 for
        a float16 model: scores are summed in at least float32).
    """
    _check_arguments(
        "beam_search", model, src, max_len, bos_id, eos_id, src_key_padding_mask, use_cache
    )
    _check_beam_arguments(beam_size, length_penalty, max_len)
    with _inference(model):
        memory, memory_mask = _encode(model, src, src_key_padding_mask)  # (B, S, d), (B, S)
        search = _BeamSearch(
            model, memory, memory_mask, int(beam_size), max_len, bos_id, eos_id, use_cache
        )
        for t in range(max_len):
            done = search.step(t, length_penalty)  # (B,) which sources are done
            # the one device-to-host sync per step
            if t == max_len - 1 or bool(backend.to_host(done.all())):
                break
        search.close(length_penalty)
        out_len = 1 + int(backend.to_host(search.finished.lengths[:, 0].max()))  # a sync, once
        tokens, scores = search.best(out_len)  # (B, out_len), (B,)
    return (tokens, scores) if return_scores else tokens


def _check_beam_arguments(beam_size: Any, length_penalty: Any, max_len: int) -> None:
    if not isinstance(beam_size, Integral) or isinstance(beam_size, bool) or beam_size < 1:
        raise ValueError(f"beam_search: beam_size must be an integer >= 1, got {beam_size!r}")
    # length ** length_penalty must stay a finite, non-zero float for every length <= max_len
    if (
        not isinstance(length_penalty, Real)
        or isinstance(length_penalty, bool)
        or not math.isfinite(length_penalty)
        or abs(length_penalty) * math.log(max(max_len, 2)) > _MAX_LOG_PENALTY
    ):
        raise ValueError(
            f"beam_search: length_penalty must be a finite number with |length_penalty| * "
            f"log(max_len) <= {_MAX_LOG_PENALTY} (so that length ** length_penalty is a "
            f"float), got {length_penalty!r} with max_len {max_len}"
        )


class _BeamSearch:
    """The state of one batched beam search: K live beams per source (decoder rows
    N = B * K, row b * K + k is beam k of source b), their summed log-probs, the finished
    hypotheses and which sources are done.

    Stopping rule (Hugging Face's ``early_stopping=False``): a source is done when it has
    K finished hypotheses and the worst of them scores at least the best live beam's
    summed log-prob divided by its current ``length ** length_penalty``. Log-probs only add
    up to lower sums, so for ``length_penalty <= 0`` no live beam could ever beat the finished
    ones and stopping changes nothing; for ``length_penalty > 0`` it is the usual heuristic (a
    longer continuation might still have scored higher). A done source's hypotheses are
    frozen, so its result does not depend on the rest of the batch. When decoding stops at
    max_len, the live beams of sources still open compete with the finished hypotheses as
    they are, unended, with length max_len (``close``).
    """

    def __init__(
        self,
        model: Transformer,
        memory: Tensor,
        memory_mask: Tensor,
        K: int,
        max_len: int,
        bos_id: int,
        eos_id: int,
        use_cache: bool,
    ) -> None:
        xp = self.xp = backend.array_module(memory.array)
        B, L = memory.shape[0], max_len + 1
        self.model, self.K, self.max_len, self.eos_id = model, K, max_len, eos_id
        # each source's memory repeated once for its beams; beams never leave their source,
        # so these rows are never reordered
        self.memory = as_tensor(xp.repeat(memory.array, K, axis=0))  # (N, S, d)
        self.memory_mask = as_tensor(xp.repeat(memory_mask.array, K, axis=0))  # (N, S)
        self.first_row = (xp.arange(B) * K)[:, None]  # (B, 1)
        self.seqs = xp.full((B * K, L), model.pad_id, dtype=backend.int64)  # the live beams
        self.seqs[:, 0] = bos_id
        # summed log-probs; the K beams start identical, so only the first one is extended
        score_dtype = xp.promote_types(memory.dtype, backend.float32)
        self.live_scores = xp.full((B, K), -xp.inf, dtype=score_dtype)  # (B, K)
        self.live_scores[:, 0] = 0
        self.finished = _Finished(B, K, L, model.pad_id, score_dtype, xp)
        self.done = xp.zeros(B, dtype=backend.bool_)  # (B,)
        self.cache = model.new_cache() if use_cache else None
        self.length = 0  # generated tokens so far

    def step(self, t: int, length_penalty: float) -> Array:
        """Extend every live beam by one token; returns which sources are done (B,) bool."""
        xp, K, eos_id = self.xp, self.K, self.eos_id
        B, N = self.live_scores.shape[0], self.seqs.shape[0]
        if t > 0:
            self.reorder_cache()  # follow the beams the previous step kept
        self.length = t + 1  # generated tokens once this step's is appended
        penalty = float(self.length) ** length_penalty
        logits = _decode_step(
            self.model, self.seqs, t, self.memory, self.memory_mask, self.cache
        )  # (N, V)
        logp = log_softmax(as_tensor(logits), dim=-1).array  # (N, V)
        _forbid_pad(logp, self.model.pad_id, eos_id)
        V = logp.shape[-1]
        # 1. rank every extension of every beam: (B, K * V), best 2K first
        candidates = (self.live_scores[:, :, None] + logp.reshape(B, K, V)).reshape(B, K * V)
        top_scores, top_index = _top_k(candidates, min(2 * K, K * V), xp)  # (B, M)
        top_rows = self.first_row + top_index // V  # the decoder row each candidate extends
        top_tokens = top_index % V  # (B, M)
        top_ends = top_tokens == eos_id  # (B, M)

        # 2. candidates ending among the best K become finished hypotheses
        new_scores = xp.where(
            top_ends[:, :K] & ~self.done[:, None], top_scores[:, :K] / penalty, -xp.inf
        )  # (B, K)
        new_seqs = self.seqs[top_rows[:, :K]]  # (B, K, L)
        new_seqs[:, :, t + 1] = eos_id
        self.finished.add(new_scores, new_seqs, self.length)

        # 3. the best K that do not end are the next beams (at most K candidates end, one
        #    per beam, so there are enough unless the vocabulary is tiny: those are dead)
        keep = xp.argsort(top_ends.astype(xp.int8), axis=1, kind="stable")[:, :K]  # (B, K)
        rows = xp.take_along_axis(top_rows, keep, 1).reshape(N)  # (N,)
        ends = xp.take_along_axis(top_ends, keep, 1)  # (B, K)
        self.live_scores = xp.where(ends, -xp.inf, xp.take_along_axis(top_scores, keep, 1))
        self.seqs = self.seqs[rows]  # (N, L)
        self.seqs[:, t + 1] = xp.take_along_axis(top_tokens, keep, 1).reshape(N)

        # 4. a source is done when no live beam is expected to beat its worst finished one
        #    (with fewer than K finished the worst is -inf: done only if every beam is dead)
        best_live = self.live_scores.max(1)  # (B,)
        self.done |= self.finished.scores[:, K - 1] >= best_live / penalty
        self.rows = rows
        return self.done

    def reorder_cache(self) -> None:
        """Follow the last step's surviving beams in the self-attention cache. Beams never leave
        their source, whose rows of the cross-attention cache are all alike: those stay."""
        if self.cache is not None:
            self.cache.reorder(self.rows, static=False)

    def close(self, length_penalty: float) -> None:
        """At the end: sources still open let their live beams compete as they are, unended."""
        xp, B, K = self.xp, self.live_scores.shape[0], self.K
        penalty = float(self.length) ** length_penalty
        open_scores = xp.where(self.done[:, None], -xp.inf, self.live_scores / penalty)
        self.finished.add(open_scores, self.seqs.reshape(B, K, -1), self.length)

    def best(self, out_len: int) -> tuple[Tensor, Tensor]:
        """Each source's best hypothesis, its first ``out_len`` tokens (B, out_len) int64, and
        its penalized score (B,)."""
        tokens = self.xp.ascontiguousarray(self.finished.seqs[:, 0, :out_len])  # (B, out_len)
        return as_tensor(tokens), as_tensor(self.finished.scores[:, 0].copy())


class _Finished:
    """The K best finished hypotheses of each of B sources, best first: penalized scores
    (B, K) (-inf for an empty slot), token rows (B, K, L) and generated lengths (B, K)."""

    def __init__(self, B: int, K: int, L: int, pad_id: int, dtype: Any, xp: Any) -> None:
        self.xp = xp
        self.scores = xp.full((B, K), -xp.inf, dtype=dtype)
        self.seqs = xp.full((B, K, L), pad_id, dtype=backend.int64)
        self.lengths = xp.zeros((B, K), dtype=backend.int64)

    def add(self, scores: Array, seqs: Array, length: int) -> None:
        """Merge hypotheses (B, n) of one ``length``; -inf scores are no hypothesis. On equal
        scores the hypothesis kept longer wins (it is first in the stable sort)."""
        xp = self.xp
        K = self.scores.shape[1]
        all_scores = xp.concatenate([self.scores, scores], 1)  # (B, K + n)
        order = xp.argsort(-all_scores, axis=1, kind="stable")[:, :K]
        self.scores = xp.take_along_axis(all_scores, order, 1)
        all_seqs = xp.concatenate([self.seqs, seqs], 1)  # (B, K + n, L)
        self.seqs = xp.take_along_axis(all_seqs, order[:, :, None], 1)
        all_lengths = xp.concatenate(
            [self.lengths, xp.full(scores.shape, length, self.lengths.dtype)], 1
        )
        self.lengths = xp.take_along_axis(all_lengths, order, 1)


_MAX_LOG_PENALTY = 700.0  # exp(709) is near float64's largest

# -- shared steps --------------------------------------------------------------------------------


def _check_arguments(
    name: str,
    model: Transformer,
    src: Tensor,
    max_len: int,
    bos_id: int,
    eos_id: int,
    src_key_padding_mask: Tensor | None,
    use_cache: bool,
) -> None:
    if not isinstance(model, Transformer):
        raise TypeError(
            f"{name}: model must be a transformer.Transformer, got {type(model).__name__}"
        )
    if not isinstance(use_cache, bool):
        raise TypeError(f"{name}: use_cache must be True or False, got {use_cache!r}")
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}: src must be a Tensor of token ids, got {type(src).__name__}")
    if src.dtype.kind not in "iu":
        raise TypeError(f"{name}: src must be integer token ids, got dtype {src.dtype}")
    if src.ndim != 2 or 0 in src.shape:
        raise ShapeError(
            f"{name}: src must be non-empty (batch, time) token ids, got shape {tuple(src.shape)}"
        )
    positions = model.config.max_len
    if not isinstance(max_len, Integral) or isinstance(max_len, bool) or max_len < 1:
        raise ValueError(f"{name}: max_len must be an integer >= 1, got {max_len!r}")
    if max_len > positions:
        # the decoder sees bos and max_len - 1 generated tokens: max_len positions
        raise ValueError(
            f"{name}: max_len {max_len} is more than the model's {positions} positions "
            f"(TransformerConfig.max_len)"
        )
    mask = src_key_padding_mask
    if mask is not None:
        if not isinstance(mask, Tensor):
            raise TypeError(
                f"{name}: src_key_padding_mask must be a bool Tensor, got {type(mask).__name__}"
            )
        if mask.dtype != backend.bool_ or tuple(mask.shape) != tuple(src.shape):
            raise ShapeError(
                f"{name}: src_key_padding_mask must be bool of src's shape {tuple(src.shape)}, "
                f"got {mask.dtype} of shape {tuple(mask.shape)}"
            )
        if mask.device != src.device:
            raise ValueError(
                f"{name}: src_key_padding_mask is on {mask.device} but src is on {src.device}"
            )
    vocab = model.config.tgt_vocab_size
    for what, token in (("bos_id", bos_id), ("eos_id", eos_id)):
        if not isinstance(token, Integral) or isinstance(token, bool) or not 0 <= token < vocab:
            raise ValueError(
                f"{name}: {what} must be a token id in [0, {vocab}) (the target vocabulary), "
                f"got {token!r}"
            )


@contextmanager
def _inference(model: Transformer) -> Iterator[None]:
    """Eval mode and no_grad for the duration; each module's own mode is restored after."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        # modules() lists parents before children, so each module's own call comes last
        for module, training in modes:
            module.train(training)


def _encode(
    model: Transformer, src: Tensor, src_key_padding_mask: Tensor | None
) -> tuple[Tensor, Tensor]:
    """memory (B, S, d) and the (B, S) source padding mask the decoder must see too."""
    if src_key_padding_mask is None:
        src_key_padding_mask = padding_mask(src, model.pad_id)
    return model.encode(src, src_key_padding_mask), src_key_padding_mask


def _decode_step(
    model: Transformer,
    tokens: Array,
    t: int,
    memory: Tensor,
    memory_mask: Tensor,
    cache: DecoderCache | None,
) -> Array:
    """Logits (N, V) for position t + 1 given tokens (N, >t) up to position t.

    With a cache only position t runs (the cache holds 0..t-1 and grows by one); without one,
    positions 0..t all run again (the reference path).
    """
    xp = backend.array_module(tokens)
    tgt = xp.ascontiguousarray(tokens[:, t : t + 1] if cache is not None else tokens[:, : t + 1])
    # a live prefix holds no padding (pad is never generated), even where bos_id == pad_id
    not_padding = as_tensor(xp.zeros(tgt.shape, dtype=backend.bool_))
    logits = model.decode(as_tensor(tgt), memory, memory_mask, not_padding, cache)
    return logits.array[:, -1]  # (N, V)


def _forbid_pad(scores: Array, pad_id: int, eos_id: int) -> None:
    """Never generate padding (in place on this step's fresh scores (N, V))."""
    if pad_id != eos_id:
        scores[:, pad_id] = -backend.array_module(scores).inf


def _top_k(x: Array, k: int, xp: Any) -> tuple[Array, Array]:
    """The k largest values of each row of x (N, M) and their column indices, largest first;
    equal values in column order (as ``argmax`` breaks ties), NaN ranked as -inf.

    A partition finds the k-th largest value in O(M); values above it are all kept and ties
    at it are taken in column order, so the result is exact and deterministic without sorting
    the whole row (M = beam_size * vocabulary can be large).
    """
    x = xp.where(xp.isnan(x), -xp.inf, x)
    N, M = x.shape
    if k < M:
        kth = xp.partition(x, M - k, axis=1)[:, M - k : M - k + 1]  # (N, 1) the k-th largest
        above = x > kth
        tied = x == kth
        room = k - above.sum(1, keepdims=True)  # how many of the ties fit
        keep = above | (tied & (xp.cumsum(tied, axis=1) <= room))  # exactly k per row
        # the kept columns in column order: a stable sort of a 0/1 key (radix, linear)
        index = xp.argsort((~keep).astype(xp.int8), axis=1, kind="stable")[:, :k]
    else:
        index = xp.broadcast_to(xp.arange(M), (N, M))
    values = xp.take_along_axis(x, index, 1)
    order = xp.argsort(-values, axis=1, kind="stable")  # (N, k), stable: ties in column order
    return xp.take_along_axis(values, order, 1), xp.take_along_axis(index, order, 1)
