"""The training and translation command lines: a tiny run, resume, plots, translate, bad input.

Each run here is a few dozen steps of a d_model 16 model, so that the whole file takes seconds;
the examples that learn their tasks to 100% / 99% live in examples/ and are too slow for tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import nn
from transformer import greedy_decode, train, translate
from transformer.cli import UsageError, check_config, load_checkpoint, run
from transformer.data import BOS_ID, EOS_ID, make_task

MODEL = [
    "--d-model", "16", "--heads", "2", "--encoder-layers", "1", "--decoder-layers", "1",
    "--d-ff", "32", "--batch-size", "8", "--eval-size", "20", "--log-every", "3",
]  # fmt: skip
TINY = [*MODEL, "--no-plots"]


def _run(out: Path, *extra: str, task: str = "reverse") -> None:
    assert train.main(["--task", task, "--out", str(out), *TINY, *extra]) == 0


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


def test_checkpoint_layers_trains_the_same_weights(tmp_path: Path) -> None:
    """--checkpoint-layers recomputes each layer in backward, with the same dropout masks: on
    the CPU the weights after 6 steps are the plain run's bit for bit."""
    cpu = mg.get_backend() == "numpy"
    plain, ckpt = tmp_path / "plain", tmp_path / "ckpt"
    _run(plain, "--steps", "6", "--eval-every", "6", "--dropout", "0.2")
    _run(ckpt, "--steps", "6", "--eval-every", "6", "--dropout", "0.2", "--checkpoint-layers")
    a, b = _weights(plain), _weights(ckpt)
    for name in a:
        if cpu:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        else:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert nn.load(train.checkpoint_path(ckpt))["config"]["checkpoint_layers"] is True


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
        *MODEL,
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
    assert translate.main(["--checkpoint", str(tmp_path / "nowhere"), "0123"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    with pytest.raises(UsageError, match="checkpoint.safetensors or checkpoint.npz"):
        translate.load_model(tmp_path, "cpu")  # a directory without one
    _run(tmp_path, "--steps", "3", "--eval-every", "3")
    assert translate.main(["--checkpoint", str(tmp_path), "12x4"]) == 2
    assert "unknown character(s) ['x']" in capsys.readouterr().err
    assert translate.main(["--checkpoint", str(tmp_path), ""]) == 2
    assert "1 to 14 characters, got 0" in capsys.readouterr().err
    assert translate.main(["--checkpoint", str(tmp_path), "1" * 15]) == 2
    assert "1 to 14 characters, got 15" in capsys.readouterr().err
    for beam in ("0", "-3"):
        with pytest.raises(SystemExit):
            translate.main(["--checkpoint", str(tmp_path), "--beam", beam, "0123"])
        assert "--beam must be 1 (greedy) or more" in capsys.readouterr().err
    (tmp_path / "checkpoint.safetensors").write_bytes(b"not a checkpoint at all")
    assert translate.main(["--checkpoint", str(tmp_path / "checkpoint.safetensors"), "0123"]) == 2
    assert "checkpoint.safetensors" in capsys.readouterr().err


def test_checkpoint_path_prefers_the_file_that_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert train.checkpoint_path(tmp_path).name == "checkpoint.safetensors"
    (tmp_path / "checkpoint.npz").write_bytes(b"")
    assert train.checkpoint_path(tmp_path).name == "checkpoint.npz"
    (tmp_path / "checkpoint.safetensors").write_bytes(b"")
    assert train.checkpoint_path(tmp_path).name == "checkpoint.safetensors"
    monkeypatch.setitem(sys.modules, "safetensors", None)  # as if it were not installed
    assert train.checkpoint_path(tmp_path / "empty").name == "checkpoint.npz"


def test_without_safetensors_runs_and_resumes_on_npz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    _run(tmp_path, "--steps", "3", "--eval-every", "3")
    assert sorted(p.name for p in tmp_path.glob("checkpoint.*")) == ["checkpoint.npz"]
    _run(tmp_path, "--steps", "6", "--eval-every", "3")
    assert "resuming from" in capsys.readouterr().out
    assert nn.load(tmp_path / "checkpoint.npz")["step"] == 6


def test_resume_refuses_another_task_or_seed(tmp_path: Path) -> None:
    _run(tmp_path, "--steps", "3", "--eval-every", "3", "--seed", "1")
    with pytest.raises(UsageError, match="--task reverse --seed 1, not --task copy"):
        _run(tmp_path, "--steps", "6", task="copy")
    with pytest.raises(UsageError, match="not --task reverse --seed 2"):
        _run(tmp_path, "--steps", "6", "--seed", "2")
    _run(tmp_path, "--steps", "6", "--eval-every", "3")  # no --seed: the run's own
    assert nn.load(train.checkpoint_path(tmp_path))["task"]["seed"] == 1


def test_stop_between_read_outs_logs_the_partial_interval(tmp_path: Path) -> None:
    """Stopping at step 7 with --log-every 3 logs steps 1-3, 4-6 and then 7 alone; resuming
    logs 8-9 as a mean of two steps, not a sum divided by three."""
    _run(tmp_path, "--steps", "7", "--eval-every", "100", "--dropout", "0")
    _run(tmp_path, "--steps", "9", "--eval-every", "100", "--dropout", "0")
    history = nn.load(train.checkpoint_path(tmp_path))["history"]
    assert history["step"] == [3, 6, 7, 9] and history["eval_step"] == [7, 9]
    losses = history["loss"]
    assert max(losses) < 1.4 * min(losses), losses  # a mis-divided interval is 1.5x or 3x off


def test_a_run_that_reached_its_target_stops_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(tmp_path, "--steps", "3", "--eval-every", "3")
    path = train.checkpoint_path(tmp_path)
    state = nn.load(path)
    state["history"]["accuracy"][-1] = 0.9  # as if the last evaluation had scored 90%
    nn.save(state, path)
    capsys.readouterr()
    _run(tmp_path, "--steps", "30", "--eval-every", "3", "--target-accuracy", "0.9")
    assert "already reached --target-accuracy" in capsys.readouterr().out
    assert nn.load(path)["step"] == 3
    _run(tmp_path, "--steps", "6", "--eval-every", "3", "--target-accuracy", "0.95")
    assert nn.load(path)["step"] == 6  # a higher target: training goes on


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--steps", "0"),
        ("--batch-size", "0"),
        ("--eval-every", "0"),
        ("--eval-size", "0"),
        ("--log-every", "-1"),
        ("--warmup", "0"),
        ("--minutes", "-1"),
        ("--lr-factor", "0"),
        ("--clip", "-1"),
        ("--dropout", "1.5"),
        ("--label-smoothing", "1.5"),
        ("--target-accuracy", "2"),
        ("--heads", "3"),
        ("--n-kv-heads", "3"),
        ("--n-kv-heads", "0"),
        ("--positional", "fourier"),
        ("--activation", "tanh"),
        ("--norm", "batch"),
    ],
)
def test_train_rejects_bad_flags_before_touching_out(
    tmp_path: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with pytest.raises(SystemExit):
        train.main(["--task", "copy", "--out", str(out), flag, value])
    assert flag in capsys.readouterr().err
    assert not out.exists()


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


# =============================================================================================
# Bad checkpoints and missing backends: one line on stderr, status 2, the file untouched
# (issue 15, item 11)
# =============================================================================================

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny training run's checkpoint file (one run for all the bad-checkpoint tests)."""
    out = tmp_path_factory.mktemp("trained")
    _run(out, "--steps", "3", "--eval-every", "3")
    return train.checkpoint_path(out)


def _not_training(state: dict, path: Path) -> None:
    nn.save({"w": mg.ones(2)}, path)


def _d_model_string(state: dict, path: Path) -> None:
    state["config"]["d_model"] = "16"
    nn.save(state, path)


def _other_weights(state: dict, path: Path) -> None:
    state["config"]["d_ff"] = 64  # the saved weights no longer fit the config
    nn.save(state, path)


def _flipped_byte(state: dict, path: Path) -> None:
    nn.save(state, path)
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x40  # inside the last tensor's data
    path.write_bytes(bytes(data))


def _no_task(state: dict, path: Path) -> None:
    del state["task"]
    nn.save(state, path)


BAD_CHECKPOINTS = {
    "not a training checkpoint": (_not_training, "not a transformer.train checkpoint"),
    "d_model a string": (_d_model_string, "d_model must be an integer, got '16'"),
    "weights of another config": (_other_weights, "bad model weights"),
    "a changed byte": (_flipped_byte, "does not match its checksum"),
    "no task (train only)": (_no_task, "no 'task' entry"),
}


def _bad_checkpoint(trained: Path, tmp_path: Path, case: str) -> tuple[Path, Path, str]:
    """(the --out directory, its checkpoint file, the expected message) for ``case``."""
    make, message = BAD_CHECKPOINTS[case]
    out = tmp_path / "bad"
    out.mkdir(parents=True)
    path = out / trained.name
    make(nn.load(trained), path)
    return out, path, message


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_error(rc: int, err: str, prog: str) -> str:
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


@pytest.mark.parametrize("case", list(BAD_CHECKPOINTS))
def test_bad_checkpoints_are_one_line_errors(
    trained: Path, tmp_path: Path, capsys, case: str
) -> None:
    out, path, message = _bad_checkpoint(trained, tmp_path, case)
    before = _digest(path)
    argv = ["--task", "reverse", "--out", str(out), *TINY, "--steps", "6"]
    capsys.readouterr()
    rc = run(train.main, "python -m transformer.train", argv)
    line = _one_line_error(rc, capsys.readouterr().err, "python -m transformer.train")
    assert str(path) in line and message in line
    if case != "no task (train only)":  # translate needs no task
        rc = translate.main(["--checkpoint", str(path), "0123"])
        line = _one_line_error(rc, capsys.readouterr().err, "python -m transformer.translate")
        assert str(path) in line and message in line
    assert _digest(path) == before
    assert sorted(p.name for p in out.iterdir()) == [path.name]  # nothing else written


def test_out_that_is_a_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "model.safetensors"
    nn.save({"w": mg.ones(2)}, path)
    before = _digest(path)
    rc = run(train.main, "python -m transformer.train", ["--task", "copy", "--out", str(path)])
    line = _one_line_error(rc, capsys.readouterr().err, "python -m transformer.train")
    assert f"--out {path} is a file" in line
    assert _digest(path) == before


def test_unreadable_checkpoint_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ckpt.safetensors"
    path.mkdir()  # a directory where a file should be: open() fails with an OSError
    rc = translate.main(["--checkpoint", str(path / "."), "0123"])
    line = _one_line_error(rc, capsys.readouterr().err, "python -m transformer.translate")
    assert "no checkpoint at" in line
    with pytest.raises(UsageError, match="cannot read it"):
        load_checkpoint(path, "cpu")


def _cli(*args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    return proc.returncode, proc.stderr


def test_bad_checkpoints_from_the_command_line(trained: Path, tmp_path: Path) -> None:
    """Real processes: status 2, one line, no traceback, the file byte for byte unchanged."""
    for case in ("not a training checkpoint", "d_model a string"):
        out, path, message = _bad_checkpoint(trained, tmp_path / case.replace(" ", "_"), case)
        before = _digest(path)
        rc, err = _cli("-m", "transformer.train", "--task", "reverse", "--out", str(out), *TINY)
        assert message in _one_line_error(rc, err, "python -m transformer.train")
        rc, err = _cli("-m", "transformer.translate", "--checkpoint", str(out), "0123")
        assert message in _one_line_error(rc, err, "python -m transformer.translate")
        assert _digest(path) == before


COMMAND_LINES = {
    "python -m transformer.train": ["-m", "transformer.train", "--task", "copy", "--out", "OUT"],
    "python -m transformer.translate": ["-m", "transformer.translate", "--checkpoint", "OUT", "1"],
    "python examples/copy_task.py": ["examples/copy_task.py", "--out", "OUT"],
    "python examples/dates.py": ["examples/dates.py", "--out", "OUT"],
    "train_mlp.py": ["examples/train_mlp.py"],
    "walkthrough.py": ["examples/walkthrough.py"],
}


@pytest.mark.skipif(mg.cupy_available(), reason="CuPy works here: --backend cupy is no error")
@pytest.mark.parametrize("prog", list(COMMAND_LINES))
def test_backend_cupy_without_cupy_is_a_one_line_error(tmp_path: Path, prog: str) -> None:
    args = [str(tmp_path) if a == "OUT" else a for a in COMMAND_LINES[prog]]
    rc, err = _cli(*args, "--backend", "cupy")
    assert rc == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "cupy" in err.lower()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("d_model", "16", "d_model must be an integer"),
        ("d_model", 15, "d_model 15 is not divisible by n_heads 2"),
        ("n_heads", 0, "n_heads must be >= 1"),
        ("num_encoder_layers", -1, "num_encoder_layers must be >= 0"),
        ("d_ff", 2.5, "d_ff must be an integer"),
        ("dropout", 1.0, "dropout must be in [0, 1)"),
        ("dropout", "0.1", "dropout must be a number"),
        ("max_len", True, "max_len must be an integer"),
        ("norm_first", 1, "norm_first must be true or false"),
        ("pad_id", 13, "pad_id must be below the vocabulary sizes [13, 13]"),
        ("activation", "swish", "activation must be relu, gelu or swiglu"),
        ("norm", "batch", "norm must be layer or rms"),
        ("positional", 3, "positional must be sinusoidal or rope"),
        ("n_kv_heads", 0, "n_kv_heads must be >= 1"),
        ("n_kv_heads", 3, "n_heads 2 is not divisible by n_kv_heads 3"),
        ("colour", "red", "colour is not a Transformer setting"),
        ("src_vocab_size", None, "src_vocab_size must be an integer"),
    ],
)
def test_check_config_names_each_bad_field(field: str, value, message: str) -> None:
    config = {
        "src_vocab_size": 13, "tgt_vocab_size": 13, "d_model": 16, "n_heads": 2,
        "num_encoder_layers": 1, "num_decoder_layers": 1, "d_ff": 32, "dropout": 0.1,
        "max_len": 14, "norm_first": False, "pad_id": 0, "tie_embeddings": False,
        "activation": "relu",
    }  # fmt: skip
    assert check_config(dict(config), "f") == config
    config[field] = value
    with pytest.raises(UsageError, match=re.escape(message)):
        check_config(config, "f")
    del config[field]
    if field in ("src_vocab_size",):
        with pytest.raises(UsageError, match="src_vocab_size is missing"):
            check_config(config, "f")


def test_check_config_refuses_rope_with_an_odd_head_dim() -> None:
    config = {"src_vocab_size": 13, "tgt_vocab_size": 13, "d_model": 6, "n_heads": 2,
              "positional": "rope", "n_kv_heads": 1}  # fmt: skip
    with pytest.raises(UsageError, match="positional rope needs an even head dim"):
        check_config(config, "f")
    config["d_model"] = 8
    assert check_config(config, "f") == config


@pytest.mark.parametrize(
    ("flag", "rule"),
    [("--epochs", ">= 1, got 0"), ("--batch-size", ">= 1, got 0"), ("--lr", "> 0, got 0.0")],
)
def test_train_mlp_refuses_bad_counts_in_one_line(flag: str, rule: str) -> None:
    rc, err = _cli("examples/train_mlp.py", flag, "0")
    assert rc == 2, err
    assert err.strip() == f"train_mlp.py: error: {flag} must be {rule}"
