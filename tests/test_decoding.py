"""Decoding: greedy and beam search, cached against uncached, stopping at EOS, padding after it,
beam search against greedy and against an exhaustive search, train/eval modes, bad arguments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad.ops._util import ShapeError
from transformer import Transformer
from transformer.decoding import beam_search, greedy_decode, sample

PAD, BOS, EOS = 0, 1, 2
VOCAB = 11
POSITIONS = 16  # the models' TransformerConfig.max_len


def tiny(dtype=mg.float64, seed: int = 2, vocab: int = VOCAB, lively: bool = True, **kw):
    """A tiny random model, drawn in float64 and then cast (one set of weights for both dtypes).
    ``lively`` sharpens the output layer and favours EOS a little, so that with the default
    seed the sources below end at different steps (one never ends). The weights are drawn on
    the CPU (the same ones on every backend: the tests rely on how these sources end), then
    moved to the backend's device."""
    backend = mg.get_backend()
    mg.set_backend("numpy")
    try:
        mg.manual_seed(seed)
        args = dict(d_model=16, n_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
                    dropout=0.0, max_len=POSITIONS, dtype=mg.float64)  # fmt: skip
        args.update(kw)
        model = Transformer(vocab, vocab, **args)
        if lively:
            model.output_proj.weight.array *= 3
            model.output_proj.bias.array[EOS] += 1.0
    finally:
        mg.set_backend(backend)
    return model.to(mg.backend.default_device(), dtype=dtype)


def sources() -> mg.Tensor:
    """Five sources of different lengths, padded with PAD."""
    return mg.tensor(
        [[3, 4, 5, 6, 7, 8], [7, 8, 0, 0, 0, 0], [9, 10, 3, 0, 0, 0], [5, 5, 5, 5, 0, 0],
         [4, 0, 0, 0, 0, 0]]
    )  # fmt: skip


def sequence_scores(model: Transformer, src: mg.Tensor, out: np.ndarray, length_penalty: float):
    """Each row's sum of log-probs / length ** length_penalty, from one teacher-forced run of the
    whole sequence (no cache); the length counts the tokens after BOS up to the first EOS."""
    model.eval()
    with mg.no_grad():
        logits = model(src, mg.tensor(out[:, :-1]))  # (B, L - 1, V)
    logp = mg.log_softmax(logits, dim=-1).numpy()
    targets = out[:, 1:]
    picked = np.take_along_axis(logp, targets[..., None], -1)[..., 0]
    is_eos = targets == EOS
    generated = (np.cumsum(is_eos, 1) - is_eos) == 0  # up to and including the first EOS
    lengths = generated.sum(1)
    return (picked * generated).sum(1) / lengths.astype(np.float64) ** length_penalty


def check_layout(out: np.ndarray, max_len: int) -> None:
    """BOS first; then no PAD before an EOS, only PAD after it; unended rows run max_len."""
    assert out.dtype == np.int64 and out.shape[1] <= max_len + 1
    assert (out[:, 0] == BOS).all()
    lengths = []
    for row in out[:, 1:]:
        ends = np.flatnonzero(row == EOS)
        n = ends[0] + 1 if ends.size else max_len
        assert (row[:n] != PAD).all(), row
        assert (row[n:] == PAD).all(), row
        lengths.append(n)
    assert out.shape[1] == 1 + max(lengths)  # no column of padding only


# -- the cache ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_cached_decoding_matches_full_prefix_reruns(search, dtype):
    model, src = tiny(dtype), sources()
    if search == "greedy":
        cached = greedy_decode(model, src, 8, BOS, EOS).numpy()
        full = greedy_decode(model, src, 8, BOS, EOS, use_cache=False).numpy()
    else:
        cached, cached_scores = beam_search(model, src, 3, 8, BOS, EOS, return_scores=True)
        full, full_scores = beam_search(
            model, src, 3, 8, BOS, EOS, use_cache=False, return_scores=True
        )
        cached, full = cached.numpy(), full.numpy()
        tol = 1e-5 if dtype == mg.float32 else 1e-12
        np.testing.assert_allclose(cached_scores.numpy(), full_scores.numpy(), rtol=tol)
        assert cached_scores.dtype == dtype
    np.testing.assert_array_equal(cached, full)
    check_layout(cached, 8)
    ended = (cached == EOS).any(1)
    assert ended.any() and not ended.all()  # the batch mixes finished and unfinished rows


def record_decode_calls(model: Transformer, monkeypatch: pytest.MonkeyPatch) -> list:
    shapes = []
    decode = model.decode

    def recording_decode(tgt, *args, **kwargs):
        shapes.append(tuple(tgt.shape))
        return decode(tgt, *args, **kwargs)

    monkeypatch.setattr(model, "decode", recording_decode)
    return shapes


@pytest.mark.parametrize("use_cache", [True, False])
def test_each_cached_step_runs_one_position(use_cache, monkeypatch):
    model, src = tiny(lively=False), sources()  # never ends: max_len steps
    B, K, max_len = src.shape[0], 3, 5
    shapes = record_decode_calls(model, monkeypatch)
    greedy_decode(model, src, max_len, BOS, EOS, use_cache=use_cache)
    beam_search(model, src, K, max_len, BOS, EOS, use_cache=use_cache)
    steps = range(1, max_len + 1)
    expected = [(B, 1 if use_cache else t) for t in steps]
    expected += [(B * K, 1 if use_cache else t) for t in steps]
    assert shapes == expected


def test_device_reads_per_step(device_reads):
    """Each step reads the device twice (the target ids' range check and "is everything
    finished?"); the source ids are checked once, and beam search reads the length once more
    at the end. Every read goes through backend.to_host."""
    model, src = tiny(lively=False), sources()  # never ends: max_len steps
    max_len = 5
    greedy_decode(model, src, max_len, BOS, EOS)
    # greedy decoding and sampling share their loop, _generate
    assert device_reads == ["int_range"] + ["int_range", "_generate"] * max_len, device_reads
    device_reads.clear()
    sample(model, src, max_len, BOS, EOS, top_k=3, top_p=0.9, generator=0)
    assert device_reads == ["int_range"] + ["int_range", "_generate"] * max_len, device_reads
    device_reads.clear()
    beam_search(model, src, 3, max_len, BOS, EOS)
    # the last step stops on t == max_len - 1 without asking the device
    expected = ["int_range"] + ["int_range", "beam_search"] * (max_len - 1) + ["int_range"]
    assert device_reads == expected + ["beam_search"], device_reads


# -- stopping and layout ------------------------------------------------------------------------


def test_stops_at_eos():
    model, src = tiny(), sources()
    model.output_proj.weight.array[...] = 0
    model.output_proj.bias.array[EOS] = 10.0  # EOS wins at every step
    expected = np.array([[BOS, EOS]] * src.shape[0])
    np.testing.assert_array_equal(greedy_decode(model, src, 8, BOS, EOS).numpy(), expected)
    np.testing.assert_array_equal(beam_search(model, src, 4, 8, BOS, EOS).numpy(), expected)


def test_padding_after_eos_and_padding_never_generated():
    model, src = tiny(), sources()
    model.output_proj.bias.array[PAD] = 5.0  # the model would like padding, it never gets it
    for out in (greedy_decode(model, src, 10, BOS, EOS), beam_search(model, src, 3, 10, BOS, EOS)):
        check_layout(out.numpy(), 10)
    out = greedy_decode(tiny(), src, 10, BOS, EOS).numpy()
    assert (out == PAD).any() and (out[:, -1] != PAD).any()


def test_max_len_counts_generated_tokens():
    model, src = tiny(lively=False), sources()
    assert greedy_decode(model, src, 1, BOS, EOS).shape == (5, 2)
    assert beam_search(model, src, 2, 4, BOS, EOS).shape == (5, 5)
    assert greedy_decode(model, src, POSITIONS, BOS, EOS).shape == (5, POSITIONS + 1)


def test_source_padding_is_masked():
    model = tiny()
    short = mg.tensor([[9, 10, 3]])
    padded = mg.tensor([[9, 10, 3, 0, 0, 0, 0]])
    for decode in (greedy_decode, beam_search):
        args = (3,) if decode is beam_search else ()
        np.testing.assert_array_equal(
            decode(model, short, *args, 8, BOS, EOS).numpy(),
            decode(model, padded, *args, 8, BOS, EOS).numpy(),
        )


def test_bos_may_be_the_padding_id():
    # the prefix is never masked as padding, so BOS == PAD still gets attended to: greedy's
    # tokens are the argmax of a teacher-forced run with no target padding mask
    model, src = tiny(), sources()
    out = greedy_decode(model, src, 6, PAD, EOS).numpy()
    np.testing.assert_array_equal(out, greedy_decode(model, src, 6, PAD, EOS, use_cache=False))
    assert (out[:, 0] == PAD).all() and (out[:, 1] != PAD).all()
    tgt = out[:, :-1]
    with mg.no_grad():
        logits = model(
            src, mg.tensor(tgt), tgt_key_padding_mask=mg.tensor(np.zeros(tgt.shape, bool))
        )
    logits = logits.numpy()
    logits[..., PAD] = -np.inf
    targets = out[:, 1:]
    generated = (np.cumsum(targets == EOS, 1) - (targets == EOS)) == 0
    np.testing.assert_array_equal(logits.argmax(-1)[generated], targets[generated])


# -- beam search --------------------------------------------------------------------------------


@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0, -1.0])
@pytest.mark.parametrize("lively", [True, False])
def test_beam_size_one_is_greedy(lively, length_penalty):
    model, src = tiny(lively=lively), sources()
    np.testing.assert_array_equal(
        beam_search(model, src, 1, 8, BOS, EOS, length_penalty).numpy(),
        greedy_decode(model, src, 8, BOS, EOS).numpy(),
    )


@pytest.mark.parametrize("length_penalty", [0.0, -0.5])
def test_beam_search_covering_every_hypothesis_is_exhaustive(length_penalty):
    # vocabulary 6: PAD, BOS, EOS and 3 more; max_len 3 leaves 1 + 4 + 16 ended hypotheses and
    # 64 unended ones. 80 beams hold every live prefix and every EOS candidate ranks among the
    # best 80, so the search prunes nothing; with length_penalty <= 0 early stopping is exact.
    vocab, max_len = 6, 3
    model = tiny(vocab=vocab, seed=0)
    model.output_proj.bias.array[EOS] += 1.0
    words = [BOS, 3, 4, 5]  # everything but PAD and EOS can be generated
    hypotheses = [[*w, EOS] for n in range(max_len) for w in itertools.product(words, repeat=n)]
    hypotheses += [list(w) for w in itertools.product(words, repeat=max_len)]
    table = np.full((len(hypotheses), max_len + 1), PAD)
    for row, h in zip(table, hypotheses):
        row[: len(h) + 1] = [BOS, *h]
    src = mg.tensor([[3, 4, 5, 0], [5, 3, 0, 0]])
    out, scores = beam_search(model, src, 80, max_len, BOS, EOS, length_penalty, return_scores=True)
    for b in range(src.shape[0]):
        src_b = mg.tensor(np.repeat(src.numpy()[b : b + 1], len(table), 0))
        every = sequence_scores(model, src_b, table, length_penalty)
        best = int(np.argmax(every))
        np.testing.assert_allclose(scores.numpy()[b], every[best], rtol=1e-12)
        found = out.numpy()[b]
        np.testing.assert_array_equal(found, table[best][: len(found)])
        assert (table[best][len(found) :] == PAD).all()


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_beam_search_scores_and_beats_greedy(length_penalty):
    better = 0
    for seed in range(3):
        model, src = tiny(seed=seed), sources()
        greedy = greedy_decode(model, src, 8, BOS, EOS).numpy()
        beam, scores = beam_search(model, src, 4, 8, BOS, EOS, length_penalty, return_scores=True)
        beam = beam.numpy()
        check_layout(beam, 8)
        beam_scores = sequence_scores(model, src, beam, length_penalty)
        np.testing.assert_allclose(scores.numpy(), beam_scores, rtol=1e-10)
        greedy_scores = sequence_scores(model, src, greedy, length_penalty)
        assert (beam_scores >= greedy_scores - 1e-12).all()
        better += int((beam_scores > greedy_scores + 1e-9).sum())
    assert better > 0  # and somewhere strictly better


def test_beam_search_result_does_not_depend_on_the_batch():
    model, src = tiny(), sources()
    together = beam_search(model, src, 3, 8, BOS, EOS).numpy()
    for b in range(src.shape[0]):
        alone = beam_search(model, src[b : b + 1], 3, 8, BOS, EOS).numpy()[0]
        np.testing.assert_array_equal(together[b, : len(alone)], alone)
        assert (together[b, len(alone) :] == PAD).all()


# -- modes and arguments ------------------------------------------------------------------------


def test_modes_are_restored_and_dropout_is_off():
    model, src = tiny(dropout=0.5), sources()
    model.train()
    model.decoder.eval()  # a mixed state comes back as it was
    modes = [m.training for m in model.modules()]
    first = greedy_decode(model, src, 6, BOS, EOS).numpy()
    np.testing.assert_array_equal(first, greedy_decode(model, src, 6, BOS, EOS).numpy())
    beam_search(model, src, 2, 6, BOS, EOS)
    assert [m.training for m in model.modules()] == modes
    with pytest.raises(IndexError):  # fails inside the model: the modes still come back
        greedy_decode(model, mg.tensor([[3, 99]]), 6, BOS, EOS)
    assert [m.training for m in model.modules()] == modes
    assert mg.is_grad_enabled()


BAD_ARGUMENTS = [
    ({"beam_size": 0}, ValueError, "beam_size must be an integer >= 1, got 0"),
    ({"beam_size": 2.0}, ValueError, "beam_size"),
    ({"max_len": 0}, ValueError, "max_len must be an integer >= 1, got 0"),
    ({"max_len": POSITIONS + 1}, ValueError, f"max_len {POSITIONS + 1} is more than"),
    ({"bos_id": VOCAB}, ValueError, f"bos_id must be a token id in [0, {VOCAB})"),
    ({"eos_id": -1}, ValueError, "eos_id must be a token id"),
    ({"eos_id": True}, ValueError, "eos_id"),
    ({"length_penalty": float("nan")}, ValueError, "length_penalty must be a finite number"),
    ({"src": [[3, 4]]}, TypeError, "src must be a Tensor of token ids, got list"),
    ({"src": mg.tensor([[3.0, 4.0]])}, TypeError, "src must be integer token ids"),
    ({"src": mg.tensor([3, 4])}, ShapeError, "got shape (2,)"),
    ({"src": mg.tensor(np.zeros((0, 3), np.int64))}, ShapeError, "got shape (0, 3)"),
    ({"length_penalty": 1e308}, ValueError, "|length_penalty| * log(max_len) <= 700"),
    ({"use_cache": "no"}, TypeError, "use_cache must be True or False, got 'no'"),
    (
        {"src_key_padding_mask": np.zeros((1, 2), bool)},
        TypeError,
        "src_key_padding_mask must be a bool Tensor, got ndarray",
    ),
    (
        {"src_key_padding_mask": mg.tensor([[False]])},
        ShapeError,
        "src_key_padding_mask must be bool of src's shape (1, 2), got bool of shape (1, 1)",
    ),
    ({"src_key_padding_mask": mg.tensor([[0, 1]])}, ShapeError, "got int64 of shape (1, 2)"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_ARGUMENTS)
def test_bad_arguments(kwargs, error, message):
    model = tiny()
    args = {"src": mg.tensor([[3, 4]]), "max_len": 4, "bos_id": BOS, "eos_id": EOS}
    args.update(kwargs)
    beam_only = {"beam_size", "length_penalty"}
    if not beam_only & set(kwargs):
        with pytest.raises(error) as info:
            greedy_decode(model, **args)
        assert message in str(info.value)
    with pytest.raises(error) as info:
        beam_search(model, **{"beam_size": 2, **args})
    assert message in str(info.value)


def test_model_must_be_a_transformer():
    for search in (greedy_decode, beam_search):
        args = (2,) if search is beam_search else ()
        with pytest.raises(TypeError, match="model must be a transformer.Transformer, got object"):
            search(object(), mg.tensor([[3, 4]]), *args, 4, BOS, EOS)


# -- against a naive beam search ------------------------------------------------------------------


def _next_log_probs(model: Transformer, src_row: np.ndarray, prefix: list[int]) -> np.ndarray:
    """log p(next token | prefix) for one source, by a full uncached run: (V,) float64."""
    model.eval()
    with mg.no_grad():
        src = mg.tensor(src_row[None])
        memory = model.encode(src)
        tgt = mg.tensor([prefix])
        logits = model.decode(
            tgt, memory, src == model.pad_id, mg.zeros(1, len(prefix), dtype=bool)
        )
    return mg.log_softmax(logits, dim=-1).numpy()[0, -1].astype(np.float64)


def _naive_beam_search(model, src_row, K, max_len, length_penalty):
    """One source, no cache, plain Python lists: the scoring and stopping rules of the module
    docstring written out (candidates ranked by score, then beam, then token; the best 2K
    considered; an EOS among the best K finishes; a source is done once its K-th finished score
    beats the best live one). Returns (score, tokens) of the best hypothesis."""
    beams = [(0.0, [BOS])] + [(-np.inf, [BOS])] * (K - 1)
    finished: list[tuple[float, list[int]]] = []
    done = False
    for t in range(max_len):
        penalty = float(t + 1) ** length_penalty
        candidates = []
        for k, (score, seq) in enumerate(beams):
            logp = _next_log_probs(model, src_row, seq)
            logp[PAD] = -np.inf
            candidates += [(score + x, k, v) for v, x in enumerate(logp)]
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        live = []
        for i, (score, k, v) in enumerate(candidates[: 2 * K]):
            if v == EOS:
                if i < K and not done and score > -np.inf:
                    finished.append((score / penalty, beams[k][1] + [v]))
                    finished = sorted(finished, key=lambda f: -f[0])[:K]  # stable: older first
            elif len(live) < K:
                live.append((score, beams[k][1] + [v]))
        live += [(-np.inf, [BOS])] * (K - len(live))  # dead beams (a tiny vocabulary)
        beams = live
        worst = finished[K - 1][0] if len(finished) >= K else -np.inf
        done = done or worst >= max(b[0] for b in beams) / penalty
        if done:
            break
    if not done:  # still open at max_len: the live beams compete unended
        finished += [(score / penalty, seq) for score, seq in beams if score > -np.inf]
        finished = sorted(finished, key=lambda f: -f[0])[:K]
    return finished[0]


@pytest.mark.parametrize(
    "seed, K, max_len, length_penalty",
    [(0, 2, 5, 1.0), (1, 3, 6, 2.0), (2, 4, 6, 0.0), (3, 3, 1, 1.0), (4, 5, 4, -1.0),
     (2, 12, 3, 1.0), (5, 2, 7, 0.5)],
)  # fmt: skip
def test_beam_search_matches_a_naive_search(seed, K, max_len, length_penalty):
    """Beam sizes 2-12 (12 > the vocabulary of 11), max_len 1-7, penalties -1 to 2."""
    model, src = tiny(seed=seed), sources()
    out, scores = beam_search(model, src, K, max_len, BOS, EOS, length_penalty, return_scores=True)
    for b, src_row in enumerate(src.numpy()):
        score, seq = _naive_beam_search(model, src_row, K, max_len, length_penalty)
        row = out.numpy()[b]
        assert row[: len(seq)].tolist() == seq, (b, row, seq)
        assert (row[len(seq) :] == PAD).all()
        np.testing.assert_allclose(scores.numpy()[b], score, rtol=1e-9, atol=1e-12)


def _beam3(model, src, max_len, bos_id, eos_id, **kw):
    return beam_search(model, src, 3, max_len, bos_id, eos_id, **kw)


@pytest.mark.parametrize("search", [greedy_decode, _beam3], ids=["greedy", "beam"])
def test_max_len_one_eos_as_padding_and_an_explicit_source_mask(search):
    model, src = tiny(), sources()
    one = search(model, src, 1, BOS, EOS).numpy()
    assert one.shape == (5, 2) and (one[:, 0] == BOS).all()
    # the default source mask is src == pad_id: passing it explicitly changes nothing
    explicit = search(model, src, 6, BOS, EOS, src_key_padding_mask=src == PAD).numpy()
    np.testing.assert_array_equal(explicit, search(model, src, 6, BOS, EOS).numpy())
    # eos_id == pad_id: a row ends by producing the padding id, and only padding follows
    model.output_proj.bias.array[PAD] += 2.0  # so that some rows end
    out = search(model, src, 6, BOS, PAD).numpy()[:, 1:]
    ended = (out == PAD).any(1)
    assert ended.any()
    for row, first in zip(out[ended], np.argmax(out[ended] == PAD, axis=1)):
        assert (row[first:] == PAD).all(), row
