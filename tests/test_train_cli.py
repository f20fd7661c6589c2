"""The training and translation command lines: a tiny run, resume, plots, translate, bad input.

Each run here is a few dozen steps of a d_model 16 model, so that the whole file takes seconds;
the examples that learn their tasks to 100% / 99% live in examples/ and are too slow for tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import nn
from transformer import greedy_decode, train, translate
from transformer.data import BOS_ID, EOS_ID, make_task

TINY = [
    "--d-model", "16", "--heads", "2", "--encoder-layers", "1", "--decoder-layers", "1",
    "--d-ff", "32", "--batch-size", "8", "--eval-size", "20", "--log-every", "3", "--no-plots",
]  # fmt: skip


def _run(out: Path, *extra: str) -> None:
    assert train.main(["--task", "reverse", "--out", str(out), *TINY, *extra]) == 0


def _weights(out: Path) -> dict[str, np.ndarray]:
    state = nn.load(train.checkpoint_path(out))
    return {name: t.numpy() for name, t in state["model"].items()}


def _device() -> str:
    return "cpu" if mg.get_backend() == "numpy" else "cuda:0"


def test_run_writes_checkpoint_metrics_and_history(tmp_path: Path) -> None:
    _run(tmp_path, "--steps", "12", "--eval-every", "6")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["step"] == 12 and metrics["task"] == "reverse"
    assert 0.0 <= metrics["val_accuracy"] <= 1.0 and metrics["val_size"] == 20
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_size"] == 1000
    state = nn.load(train.checkpoint_path(tmp_path))
    assert state["step"] == 12
    assert state["history"]["eval_step"] == [6, 12]
    assert state["history"]["step"] == [3, 6, 9, 12]
    assert all(np.isfinite(state["history"]["loss"]))
    assert state["config"]["d_model"] == 16 and state["task"]["name"] == "reverse"


def test_resume_continues_bit_for_bit(tmp_path: Path) -> None:
    """12 steps in one go == 6 steps, stop, then resume to 12. On the CPU bit for bit with
    dropout on (its random state is saved); on the GPU, where CuPy's generator state is not
    saved and scatter-adds are atomic, without dropout and to float32 rounding."""
    cpu = mg.get_backend() == "numpy"
    dropout = "0.2" if cpu else "0"
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _run(straight, "--steps", "12", "--eval-every", "6", "--dropout", dropout)
    _run(resumed, "--steps", "6", "--eval-every", "6", "--dropout", dropout)
    assert not all(np.array_equal(_weights(straight)[k], w) for k, w in _weights(resumed).items())
    # Model flags given when resuming are ignored in favour of the checkpoint's.
    _run(resumed, "--steps", "12", "--eval-every", "6", "--d-model", "64")
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for name in a:
        if cpu:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        else:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert nn.load(train.checkpoint_path(resumed))["step"] == 12


def test_learns_to_lower_the_loss(tmp_path: Path) -> None:
    _run(tmp_path, "--steps", "60", "--eval-every", "60", "--log-every", "10", "--dropout", "0")
    losses = nn.load(train.checkpoint_path(tmp_path))["history"]["loss"]
    assert losses[-1] < 0.8 * losses[0], losses


def test_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    argv = [
        "--task",
        "copy",
        "--out",
        str(tmp_path),
        *TINY[:-1],
        "--steps",
        "3",
        "--eval-every",
        "3",
    ]
    assert train.main(argv) == 0
    for name in ("loss.png", "attention.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_translate_decodes_what_training_evaluated(tmp_path: Path, capsys) -> None:
    _run(tmp_path, "--steps", "6", "--eval-every", "6")
    capsys.readouterr()
    assert translate.main(["--checkpoint", str(tmp_path), "0123", "98765"]) == 0
    greedy = capsys.readouterr().out.splitlines()
    assert len(greedy) == 2 and all(set(line) <= set("0123456789") for line in greedy)
    # The same answers from the library call, and beam search of width 1 == greedy.
    model, vocab, max_len = translate.load_model(tmp_path, _device())
    assert train.translate(model, vocab, "0123", max_len, _device()) == greedy[0]
    assert translate.main(["--checkpoint", str(tmp_path), "--beam", "3", "0123"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_translate_bad_input(tmp_path: Path, capsys) -> None:
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        translate.main(["--checkpoint", str(tmp_path / "nowhere"), "0123"])
    _run(tmp_path, "--steps", "3", "--eval-every", "3")
    assert translate.main(["--checkpoint", str(tmp_path), "12x4"]) == 2
    assert "x" in capsys.readouterr().err


def test_checkpoint_path_prefers_the_file_that_exists(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.npz").write_bytes(b"")
    assert train.checkpoint_path(tmp_path).name == "checkpoint.npz"


@pytest.mark.parametrize("flag", ["--steps", "--batch-size", "--eval-every", "--log-every"])
def test_train_rejects_nonpositive_counts(tmp_path: Path, flag: str, capsys) -> None:
    with pytest.raises(SystemExit):
        train.parse_args(["--task", "copy", "--out", str(tmp_path), flag, "0"])
    assert flag in capsys.readouterr().err


@pytest.mark.gpu
def test_gpu_checkpoint_decodes_identically_on_the_cpu(tmp_path: Path) -> None:
    """A model trained on the GPU loads on the CPU and gives the same logits and tokens."""
    _run(tmp_path, "--steps", "30", "--eval-every", "30", "--backend", "cupy")
    task = make_task("reverse")
    batch = task.make_batch(task.test_pairs[:50])
    outputs = {}
    for device in ("cuda:0", "cpu"):
        model, _, max_len = translate.load_model(tmp_path, device)
        src, tgt_in = mg.tensor(batch.src, device=device), mg.tensor(batch.tgt_in, device=device)
        with mg.no_grad():
            logits = model(src, tgt_in).numpy()
        tokens = greedy_decode(model, src, max_len, BOS_ID, EOS_ID).numpy()
        outputs[device] = logits, tokens
    np.testing.assert_allclose(outputs["cuda:0"][0], outputs["cpu"][0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(outputs["cuda:0"][1], outputs["cpu"][1])
