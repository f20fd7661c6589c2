"""Sampling (issue 16): reproducible from a seed, top_k=1 and a tiny top_p are greedy, the
filters match a Hugging Face-style PyTorch implementation written here, the drawn tokens follow
the filtered distribution (chi-square, fixed seed), bad values refused; and the command lines:
``transformer.train`` with the model options, ``transformer.translate --sample``.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import nn
from minigrad import backend
from transformer import Transformer, greedy_decode, sample, train, translate
from transformer.decoding import filtered_probs

BOS, EOS, PAD = 1, 2, 0
REPO = Path(__file__).resolve().parents[1]


def toy(**kw) -> Transformer:
    mg.manual_seed(5)
    model = Transformer(10, 10, d_model=16, n_heads=2, num_encoder_layers=1,
                        num_decoder_layers=1, d_ff=16, dropout=0.0, max_len=16, **kw)  # fmt: skip
    # spread the logits over a few units, so that the filters bite
    model.output_proj.weight = nn.Parameter(model.output_proj.weight.detach() * 4.0)
    return model


SRC = [[3, 4, 5, 6], [7, 8, 0, 0], [9, 3, 3, 0]]


def hf_filter(logits: np.ndarray, temperature: float, top_k, top_p) -> np.ndarray:
    """Hugging Face's TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper, in
    PyTorch, then softmax."""
    torch = pytest.importorskip("torch")
    scores = torch.tensor(logits, dtype=torch.float64) / temperature
    if top_k is not None:
        k = min(top_k, scores.shape[-1])
        remove = scores < torch.topk(scores, k)[0][..., -1, None]
        scores = scores.masked_fill(remove, -float("inf"))
    if top_p is not None:
        sorted_logits, sorted_indices = torch.sort(scores, descending=False)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        sorted_remove = cumulative <= (1 - top_p)
        sorted_remove[..., -1:] = 0  # keep at least one
        remove = sorted_remove.scatter(1, sorted_indices, sorted_remove)
        scores = scores.masked_fill(remove, -float("inf"))
    return torch.softmax(scores, -1).numpy()


FILTERS = [
    dict(temperature=1.0, top_k=None, top_p=None),
    dict(temperature=0.7, top_k=3, top_p=None),
    dict(temperature=1.3, top_k=None, top_p=0.8),
    dict(temperature=2.0, top_k=5, top_p=0.6),
    dict(temperature=0.5, top_k=20, top_p=0.99),
]


@pytest.mark.parametrize("f", FILTERS, ids=str)
def test_filters_match_hugging_face(f):
    logits = np.random.default_rng(0).standard_normal((6, 11)) * 2
    logits[:, 4] = -np.inf  # an excluded token (pad) stays excluded
    np.testing.assert_allclose(
        filtered_probs(logits, **f), hf_filter(logits, **f), rtol=1e-12, atol=1e-15
    )


def first_token_distribution(model: Transformer, f: dict) -> np.ndarray:
    src = mg.tensor(SRC[:1])
    with mg.no_grad():
        model.eval()
        logits = model.decode(mg.tensor([[BOS]]), model.encode(src)).numpy()[:, -1]
    logits[:, PAD] = -np.inf
    return hf_filter(logits, **f)[0]


@pytest.mark.parametrize("f", FILTERS[1:4], ids=str)
def test_sampled_frequencies_follow_the_filtered_distribution(f):
    model = toy()
    expected = first_token_distribution(model, f)
    assert (expected > 0).sum() >= 2  # a real choice
    n = 4000
    src = mg.tensor(SRC[:1] * n)
    tokens = sample(model, src, 1, BOS, EOS, generator=123, **f).numpy()[:, 1]
    counts = np.bincount(tokens, minlength=len(expected))
    assert counts[expected == 0].sum() == 0  # filtered tokens (and pad) are never drawn
    kept = expected > 0
    chi2 = (((counts - n * expected) ** 2)[kept] / (n * expected[kept])).sum()
    dof = kept.sum() - 1
    assert chi2 < dof + 6 * math.sqrt(2 * dof), (chi2, dof, counts, n * expected)


@pytest.mark.gpu
def test_a_generator_on_another_device_is_refused_before_decoding():
    model, src = toy(), mg.tensor(SRC)
    assert src.device.startswith("cuda")
    with pytest.raises(ValueError, match=r"generator draws on the CPU .* on cuda:0; .*new_gen"):
        sample(model, src, 10, BOS, EOS, generator=backend.new_generator("cpu", 7))
    cpu_model, cpu_src = model.to("cpu"), src.to("cpu")
    with pytest.raises(ValueError, match=r"generator draws on a GPU .* on cpu; "):
        sample(cpu_model, cpu_src, 10, BOS, EOS, generator=backend.new_generator("cuda:0", 7))


def test_a_legacy_numpy_random_state_draws_on_the_cpu():
    """The device check in sample refuses a generator of another device only: NumPy's legacy
    RandomState draws on the CPU (it was refused as "a GPU's")."""
    assert backend.draws_on_cpu(np.random.RandomState(0))
    assert backend.draws_on_cpu(backend.new_generator("cpu", 0))
    model, src = toy().to("cpu"), mg.tensor(SRC, device="cpu")
    a, b = (sample(model, src, 10, BOS, EOS, generator=np.random.RandomState(7)) for _ in "ab")
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_reproducible_from_a_seed(device):
    model, src = toy(), mg.tensor(SRC)
    a = sample(model, src, 10, BOS, EOS, temperature=1.5, generator=7).numpy()
    b = sample(model, src, 10, BOS, EOS, temperature=1.5, generator=7).numpy()
    np.testing.assert_array_equal(a, b)
    mg.manual_seed(11)
    c = sample(model, src, 10, BOS, EOS, temperature=1.5).numpy()
    mg.manual_seed(11)
    d = sample(model, src, 10, BOS, EOS, temperature=1.5).numpy()
    np.testing.assert_array_equal(c, d)
    gen = backend.new_generator(device, 7)
    np.testing.assert_array_equal(
        sample(model, src, 10, BOS, EOS, temperature=1.5, generator=gen).numpy(), a
    )
    others = [
        sample(model, src, 10, BOS, EOS, temperature=1.5, generator=s).numpy() for s in range(8)
    ]
    assert any(o.shape != a.shape or (o != a).any() for o in others)  # the seed matters
    uncached = sample(model, src, 10, BOS, EOS, temperature=1.5, generator=7, use_cache=False)
    np.testing.assert_array_equal(uncached.numpy(), a)


@pytest.mark.parametrize("options", [dict(), dict(positional="rope", n_kv_heads=1)])
def test_top_k_one_and_tiny_top_p_are_greedy(options):
    model, src = toy(**options), mg.tensor(SRC)
    greedy = greedy_decode(model, src, 12, BOS, EOS).numpy()
    for kw in (dict(top_k=1), dict(top_p=1e-9), dict(top_k=1, temperature=5.0)):
        out = sample(model, src, 12, BOS, EOS, generator=3, **kw).numpy()
        np.testing.assert_array_equal(out, greedy, err_msg=str(kw))


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(temperature=0), "temperature must be a finite number > 0, got 0 .*greedy_decode"),
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=float("nan")), "temperature"),
        (dict(top_k=0), "top_k must be None or an integer >= 1, got 0"),
        (dict(top_k=2.5), "top_k"),
        (dict(top_p=0.0), r"top_p must be None or a number in \(0, 1\], got 0.0"),
        (dict(top_p=1.5), "top_p"),
    ],
)
def test_bad_sampling_values_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        sample(toy(), mg.tensor(SRC), 5, BOS, EOS, **kw)


# =============================================================================================
# Command lines
# =============================================================================================

OPTIONS = ["--norm", "rms", "--activation", "swiglu", "--positional", "rope", "--n-kv-heads", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("options_run")
    argv = ["--task", "reverse", "--out", str(out), "--d-model", "16", "--heads", "2",
            "--encoder-layers", "1", "--decoder-layers", "1", "--d-ff", "32", "--batch-size", "8",
            "--eval-size", "10", "--steps", "4", "--eval-every", "4", "--no-plots", *OPTIONS]  # fmt: skip
    assert train.main(argv) == 0
    return out


def test_train_stores_the_model_options(trained: Path) -> None:
    config = nn.load(train.checkpoint_path(trained))["config"]
    assert (config["norm"], config["activation"]) == ("rms", "swiglu")
    assert (config["positional"], config["n_kv_heads"]) == ("rope", 1)
    model, _, _ = translate.load_model(trained, "cpu")
    assert isinstance(model.encoder.layers[0].norm1, nn.RMSNorm)
    assert model.decoder.layers[0].self_attn.rope and model.pos_encoding is None


def test_translate_samples_reproducibly(trained: Path, capsys) -> None:
    argv = ["--checkpoint", str(trained), "--sample", "--temperature", "3", "--seed", "4", "31415"]
    assert translate.main(argv) == 0
    first = capsys.readouterr().out
    assert translate.main(argv) == 0
    assert capsys.readouterr().out == first
    assert translate.main(["--checkpoint", str(trained), "--sample", "--top-k", "1", "31415"]) == 0
    sampled = capsys.readouterr().out
    assert translate.main(["--checkpoint", str(trained), "31415"]) == 0
    assert capsys.readouterr().out == sampled  # top-k 1 is greedy


@pytest.mark.parametrize(
    "flags, message",
    [
        (
            ["--sample", "--temperature", "0"],
            "--temperature must be > 0, got 0.0 (for temperature 0 leave out --sample)",
        ),
        (["--sample", "--top-k", "0"], "--top-k must be >= 1, got 0"),
        (["--sample", "--top-p", "1.5"], r"--top-p must be in (0, 1], got 1.5"),
        (["--sample", "--seed", "-1"], "--seed must be >= 0, got -1"),
        (["--top-p", "0.5", "--seed", "1"], "--top-p, --seed only apply with --sample"),
        (["--sample", "--beam", "3"], "--sample and --beam 3 exclude each other"),
    ],
)
def test_translate_bad_sampling_flags_one_line_exit_2(trained: Path, flags, message) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "transformer.translate", "--checkpoint", str(trained), *flags, "27"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"python -m transformer.translate: error: {message}"
