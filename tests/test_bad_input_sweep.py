"""A sweep of bad input above the core ops: command lines, model configs, checkpoints, layer
arguments and data-parallel training.

Each test is a failure the sweep found and the fix it got: a traceback or a wrong exit status
from a command line (bad input: one line on stderr, status 2, before any work; Ctrl-C: one
line, status 130), a config or checkpoint accepted that could not be used, or collectives that
silently mixed mismatched tensors across ranks. What the sweep found already right is tested in
the other files (test_train_cli, test_checkpoint, test_optim, test_distributed, ...).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import nn
from transformer import train, translate
from transformer.checkpointing import checkpoint_path
from transformer.cli import UsageError, load_checkpoint, run
from transformer.model import Transformer

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--d-model", "16", "--heads", "2", "--encoder-layers", "1", "--decoder-layers", "1",
        "--d-ff", "16", "--batch-size", "8", "--eval-size", "5", "--no-plots"]  # fmt: skip


def _example(path: str) -> ModuleType:
    """A script of examples/ or benchmarks/, imported (its ``main`` not run)."""
    name = Path(path).stem + "_sweep"
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _one_line(err: str) -> str:
    """The error line of a command line's stderr (argparse prints its usage above it)."""
    assert "Traceback" not in err, err
    return err.strip().splitlines()[-1]


# =============================================================================================
# python -m transformer.train and the Transformer: model sizes and the seed
# =============================================================================================


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--heads", "0"], "--heads must be positive, got 0"),  # was ZeroDivisionError
        (["--heads", "-4", "--d-model", "8"], "--heads must be positive, got -4"),
        (["--d-model", "0"], "--d-model must be positive, got 0"),  # was ValueError
        (["--d-ff", "0"], "--d-ff must be positive, got 0"),  # was Linear's ValueError
        (["--encoder-layers", "-1"], "--encoder-layers must be >= 0, got -1"),  # trained
        (["--decoder-layers", "-1"], "--decoder-layers must be >= 0, got -1"),  # trained
        (["--seed", "-1"], "--seed must be >= 0, got -1"),  # was NumPy's ValueError
    ],
)
def test_train_refuses_bad_model_flags_and_seed_before_touching_out(
    tmp_path: Path, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--task", "copy", "--out", str(out), *flags])
    assert exit_info.value.code == 2
    assert _one_line(capsys.readouterr().err) == f"python -m transformer.train: error: {message}"
    assert not out.exists()


def test_train_out_that_cannot_be_created_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out under a file: a NotADirectoryError traceback from mkdir before."""
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "run"
    argv = ["--task", "copy", "--out", str(out), "--d-model", "16", "--d-ff", "16", "--steps", "1"]
    assert run(train.main, "train", argv) == 2
    err = capsys.readouterr().err
    assert err == f"train: error: --out {out}: cannot create the directory: Not a directory\n"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no mpi4py", "minigrad.distributed needs mpi4py and an MPI library"),
        ("bad timeout", "MINIGRAD_DIST_TIMEOUT must be a positive number, got 'soon'"),
    ],
)
def test_distributed_that_cannot_start_is_a_one_line_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    message: str,
) -> None:
    """--distributed without mpi4py, or with a bad MINIGRAD_DIST_TIMEOUT: a DistributedError
    traceback before."""
    if setup == "no mpi4py":
        monkeypatch.setitem(sys.modules, "mpi4py", None)
    else:
        monkeypatch.setenv("MINIGRAD_DIST_TIMEOUT", "soon")
    out = tmp_path / "run"
    assert run(train.main, "train", ["--task", "copy", "--out", str(out), "--distributed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("train: error: cannot start data-parallel training: ")
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_ctrl_c_in_training_is_one_line_status_130_and_the_checkpoint_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C ended in a KeyboardInterrupt traceback; now a line, status 130, and the last
    checkpoint (step 2) is whole: the same command resumes from it."""
    real_step = train.train_step

    def interrupted_at_step_3(run_: Any) -> None:
        if run_.step == 2:
            raise KeyboardInterrupt
        real_step(run_)

    monkeypatch.setattr(train, "train_step", interrupted_at_step_3)
    out = tmp_path / "run"
    argv = ["--task", "copy", "--out", str(out), *TINY, "--steps", "4", "--eval-every", "2"]
    assert run(train.main, "train", argv) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "train: interrupted"
    assert sorted(p.name for p in out.iterdir()) == [checkpoint_path(out).name]
    assert load_checkpoint(checkpoint_path(out), "cpu", resume=True)["step"] == 2
    monkeypatch.undo()
    assert run(train.main, "train", argv) == 0
    assert nn.load(checkpoint_path(out))["step"] == 4


def _unwritable_directory(tmp_path: Path) -> Path | None:
    """A directory where no file can be made: a 0o500 one, or (as root, who writes anywhere)
    a read-only system one; None when there is none here."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    for candidate in (locked, Path("/sys/kernel")):
        try:
            tempfile.TemporaryFile(dir=candidate).close()
        except OSError:
            return candidate
    return None


def test_train_out_where_no_file_can_be_written_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing --out without write permission: trained, then a PermissionError traceback
    at the first checkpoint before."""
    out = _unwritable_directory(tmp_path)
    if out is None:
        pytest.skip("no unwritable directory here")
    argv = ["--task", "copy", "--out", str(out), *TINY, "--steps", "2", "--eval-every", "1"]
    assert run(train.main, "train", argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"train: error: --out {out}: cannot write files there: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_encoder_layers", -1),
        ("num_decoder_layers", -2),
        ("d_model", 0),
        ("n_heads", 0),
        ("d_ff", 0),
        ("max_len", 0),
        ("d_model", 16.0),
    ],
)
def test_transformer_refuses_sizes_out_of_range_naming_them(field: str, value) -> None:
    config = {"d_model": 16, "n_heads": 4, "d_ff": 8, "max_len": 8, field: value}
    with pytest.raises(ValueError, match=f"Transformer: {field} must be an int >= ") as info:
        Transformer(10, 10, **config)
    assert repr(value) in str(info.value)


# =============================================================================================
# transformer.train checkpoints whose parts do not fit together (checksums intact): refused
# when read, in one line, not with a traceback mid-training or mid-decoding
# =============================================================================================


@pytest.fixture(scope="module")
def copy_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("copy_run")
    assert train.main(["--task", "copy", "--out", str(out), *TINY, "--steps", "2"]) == 0
    return checkpoint_path(out)


def _set(keys: tuple, value: Any) -> Callable[[dict], None]:
    def change(state: dict) -> None:
        for key in keys[:-1]:
            state = state[key]
        state[keys[-1]] = value

    return change


MISFITS = {  # what was wrong before: the traceback it ended in, or the silent mistake
    "task of another vocabulary (IndexError in training)": (
        _set(("task", "name"), "dates"), "its vocabulary is not the one of its task 'dates'"
    ),
    "vocabulary beyond the embeddings (IndexError decoding)": (
        _set(("vocab", "chars"), "0123456789abc"), "its vocabulary (16 tokens, padding id 0)"
    ),
    "pad_id not PAD (silently wrong masks)": (
        _set(("config", "pad_id"), 3), "pad_id 3)"
    ),
    "max_tgt_len beyond max_len (ValueError decoding)": (
        _set(("max_tgt_len",), 10**9), "fewer than the 1000000001 its sequences need"
    ),
    "max_len below the task's (ValueError in training)": (
        _set(("config", "max_len"), 4), "its model has max_len 4 positions, fewer than the 11"
    ),
    "accuracy history of strings (TypeError in training)": (
        _set(("history", "accuracy"), ["a"]), "its history's 'accuracy' holds a non-number"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MISFITS))
def test_checkpoint_parts_that_do_not_fit_are_refused_when_read(
    copy_checkpoint: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    change, message = MISFITS[case]
    state = nn.load(copy_checkpoint)
    change(state)
    out = tmp_path / "run"
    out.mkdir()
    path = checkpoint_path(out)
    nn.save(state, path)
    before = path.read_bytes()
    with pytest.raises(UsageError, match=re.escape(message)):
        load_checkpoint(path, "cpu", resume=True)
    argv = ["--task", state["task"]["name"], "--out", str(out), *TINY, "--steps", "4"]
    assert run(train.main, "train", argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"train: error: {path}: ") and message in err and err.count("\n") == 1
    if "training" not in case:  # what translate reads as well
        assert translate.main(["--checkpoint", str(out), "0123"]) == 2
        assert message in capsys.readouterr().err
    assert path.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [path.name]


@pytest.mark.parametrize("padding_idx", [1.5, True, "0"])
def test_embedding_padding_idx_that_is_not_an_int_is_named(padding_idx) -> None:
    """1.5 ended in NumPy's IndexError naming no argument; True became row 1."""
    with pytest.raises(
        TypeError, match=re.escape(f"padding_idx must be an int, got {padding_idx!r}")
    ):
        nn.Embedding(3, 2, padding_idx=padding_idx)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_checkpoint_path_that_is_a_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    """nn.load (so translate --checkpoint, and train resuming from --out) blocked in open()
    forever on a named pipe; now a CheckpointError at once."""
    fifo = tmp_path / "checkpoint.safetensors"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            nn.load(fifo)
            outcome.append(None)
        except BaseException as err:  # noqa: BLE001  (handed to the test's thread)
            outcome.append(err)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock it before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("nn.load waited on the named pipe")
    assert isinstance(outcome[0], nn.CheckpointError)
    assert "not a regular file (a pipe or a device)" in str(outcome[0])


# =============================================================================================
# examples/*.py
# =============================================================================================


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1", "--no-plot"], "--seed must be >= 0, got -1"),
        (["--plot", "MISSING/x.png"], "the directory MISSING does not exist"),
        (["--plot", "DIR"], "is a directory, not a file name for the figure"),
    ],
)
def test_second_order_refuses_bad_flags_in_one_line(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A traceback before (the plot path after the minutes of work); one line, status 2 now."""
    subs = {"MISSING": str(tmp_path / "missing"), "DIR": str(tmp_path)}
    argv = [next((a.replace(k, v) for k, v in subs.items() if k in a), a) for a in argv]
    message = message.replace("MISSING", str(tmp_path / "missing"))
    assert _example("examples/second_order.py").main(argv) == 2
    err = capsys.readouterr().err
    assert _one_line(err).startswith("second_order.py: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "-1"], "train_mlp.py: error: --seed must be >= 0, got -1"),
        (["--lr", "inf"], "train_mlp.py: error: --lr must be finite, got inf"),
    ],
)
def test_train_mlp_refuses_a_negative_seed_and_an_infinite_lr(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _example("examples/train_mlp.py").main([*argv, "--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == message


def test_walkthrough_refuses_a_draw_directory_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    assert _example("examples/walkthrough.py").main(["--draw", str(afile)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"walkthrough.py: error: --draw {afile} is not a directory"
    )


# =============================================================================================
# benchmarks/*.py: refused when parsed, not after the timed run
# =============================================================================================


@pytest.mark.parametrize(
    ("script", "argv", "message"),
    [
        ("train_step.py", ["--seed", "-1"], "--seed must be >= 0"),
        ("train_step.py", ["--profile", "--profile-steps", "0"], "--profile-steps >= 1"),
        ("train_step.py", ["--json", "DIR"], "is a directory, not a file name"),
        ("data_parallel.py", ["--bucket-cap-mb", "-1"], "--bucket-cap-mb must be > 0"),
        ("data_parallel.py", ["--seed", "-1"], "--seed >= 0"),
        ("data_parallel.py", ["--json", "DIR"], "is a directory, not a file name"),
        ("ops.py", ["--threads", "0"], "--threads must be >= 1, got 0"),
        ("ops.py", ["--json", "DIR"], "is a directory, not a file name"),
    ],
)
def test_benchmark_flags_are_refused_when_parsed(
    tmp_path: Path, script: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path) if a == "DIR" else a for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        _example(f"benchmarks/{script}").parse_args(argv)
    assert exit_info.value.code == 2
    line = _one_line(capsys.readouterr().err)
    assert ": error: " in line and message in line  # the program name is sys.argv[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rounds", "0"], "--rounds must be >= 1, got 0"),
        (["--before", "no-such-revision"], "--before no-such-revision is not a git revision"),
    ],
)
def test_ab_engine_refuses_bad_rounds_and_revisions(argv: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/ab_engine.py", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert message in _one_line(done.stderr)


# =============================================================================================
# minigrad.distributed: ranks that pass different tensors to one collective
# =============================================================================================

MISMATCHED_CALLS = """
import sys
import minigrad as mg
import minigrad.distributed as dist
import nn
from nn.parallel import DistributedDataParallel

dist.init_process_group(abort_on_error=False)
rank = dist.get_rank()
lines = []  # one file per rank: the ranks' stdout would interleave
calls = {
    "all_reduce shape": lambda: dist.all_reduce(mg.ones(3 + 2 * rank)),
    "all_reduce dtype": lambda: dist.all_reduce(mg.ones(4, dtype=("float32", "float64")[rank])),
    "all_reduce op": lambda: dist.all_reduce(mg.ones(4), op=("sum", "max")[rank]),
    "broadcast shape": lambda: dist.broadcast(mg.ones(2, 3 + rank)),
    "broadcast src": lambda: dist.broadcast(mg.ones(2), src=rank),
    "all_gather shape": lambda: dist.all_gather([mg.zeros(2 + rank)] * 2, mg.ones(2 + rank)),
    "ddp widths": lambda: DistributedDataParallel(nn.Linear(3, 2 + 2 * rank)),
}
for name, call in calls.items():
    try:
        call()
    except dist.DistributedError as err:
        lines.append(f"rank {rank} {name}: {err}")
    else:
        lines.append(f"rank {rank} {name}: NO ERROR")
t = mg.full((3,), float(rank + 1))  # a matching call still works afterwards
dist.all_reduce(t)
lines.append(f"rank {rank} after: {t.tolist()}")
open(f"{sys.argv[1]}/rank{rank}.txt", "w").write("\\n".join(lines))
dist.destroy_process_group()
"""


@pytest.mark.skipif(
    shutil.which("mpiexec", path=str(Path(sys.executable).parent)) is None
    and shutil.which("mpiexec") is None,
    reason="no mpiexec (pip install mpi4py mpich)",
)
def test_collectives_with_mismatched_tensors_raise_on_every_rank_naming_each(
    tmp_path: Path,
) -> None:
    """Before: all_reduce of (3,) on rank 0 and (5,) on rank 1 gave rank 1 [2, 2, 2, 1, 1],
    float32 against float64 gave NaNs, a broadcast ended in an MPI error naming no shape."""
    script = tmp_path / "mismatch.py"
    script.write_text(MISMATCHED_CALLS)
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or "mpiexec"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_DIST_TIMEOUT="30")
    env.pop("MINIGRAD_BACKEND", None)
    done = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, str(script), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for rank in (0, 1):
        lines = (tmp_path / f"rank{rank}.txt").read_text().splitlines()
        mine = {line.split(":")[0]: line for line in lines}
        assert len(mine) == 8 and not any("NO ERROR" in line for line in lines), lines
        assert mine[f"rank {rank} all_reduce shape"].endswith(
            "the ranks' calls differ (rank 0: shape (3,) float32, op 'sum'; rank 1: shape (5,) "
            "float32, op 'sum'); every rank must pass the same shape, dtype and arguments "
            "(nothing was changed)"
        )
        assert (
            "rank 0: shape (4,) float32, op 'sum'; rank 1: shape (4,) float64"
            in (mine[f"rank {rank} all_reduce dtype"])
        )
        assert (
            "op 'sum'; rank 1: shape (4,) float32, op 'max'" in mine[f"rank {rank} all_reduce op"]
        )
        assert (
            "rank 0: shape (2, 3) float32, src 0; rank 1: shape (2, 4)"
            in (mine[f"rank {rank} broadcast shape"])
        )
        assert "src 0; rank 1: shape (2,) float32, src 1" in mine[f"rank {rank} broadcast src"]
        assert (
            "rank 0: shape (2,) float32; rank 1: shape (3,) float32"
            in (mine[f"rank {rank} all_gather shape"])
        )
        assert (
            f"rank {rank} has 2 parameters with {8 * (rank + 1)} elements, but the ranks' "
            in (mine[f"rank {rank} ddp widths"])
        )  # DDP's own check, untested before
        assert mine[f"rank {rank} after"] == f"rank {rank} after: [3.0, 3.0, 3.0]"


ONE_RANK_INTERRUPTED = """
import sys
from transformer import train
from transformer.cli import run

real_step = train.train_step


def step(run_):
    if run_.rank == 1 and run_.step == 2:
        raise KeyboardInterrupt  # Ctrl-C reaching rank 1 alone
    real_step(run_)


train.train_step = step
sys.exit(run(train.main, "train", sys.argv[1:]))
"""


@pytest.mark.skipif(
    shutil.which("mpiexec", path=str(Path(sys.executable).parent)) is None
    and shutil.which("mpiexec") is None,
    reason="no mpiexec (pip install mpi4py mpich)",
)
def test_ctrl_c_on_one_rank_ends_the_job_at_once(tmp_path: Path) -> None:
    """Before: the interrupted rank left, the other waited MINIGRAD_DIST_TIMEOUT (600 s by
    default) in its next collective, then timed out with a traceback."""
    script = tmp_path / "interrupt.py"
    script.write_text(ONE_RANK_INTERRUPTED)
    mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or "mpiexec"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_DIST_TIMEOUT="60")
    env.pop("MINIGRAD_BACKEND", None)
    out = tmp_path / "run"
    argv = ["--task", "copy", "--out", str(out), *TINY, "--steps", "6", "--eval-every", "1"]
    start = time.monotonic()
    done = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, str(script), *argv],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert time.monotonic() - start < 40, "the other rank waited for the timeout"
    assert done.returncode == 130, done.stderr
    assert "rank 1: interrupted" in done.stderr and "Traceback" not in done.stderr
    assert nn.load(checkpoint_path(out))["step"] in (1, 2)  # whole, and resumable


@pytest.mark.parametrize("value", ["abc", "2.5", "four"])
def test_num_threads_env_that_is_not_a_number_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """MINIGRAD_NUM_THREADS=abc gave int()'s bare ValueError in the middle of a large op."""
    from minigrad import backend

    monkeypatch.setenv("MINIGRAD_NUM_THREADS", value)
    with pytest.raises(ValueError, match=rf"MINIGRAD_NUM_THREADS .*{re.escape(repr(value))}"):
        backend.num_threads()
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")
    assert backend.num_threads() == 3


def test_cross_entropy_refuses_an_ignore_index_that_is_not_an_integer() -> None:
    """ignore_index=1.5 was taken silently (no target can equal it); PyTorch wants an int."""
    import numpy as np

    import minigrad as mg

    logits, target = mg.randn(4, 3), mg.tensor(np.array([0, 1, 2, 1]))
    for bad in (1.5, "1", None):
        with pytest.raises(TypeError, match="ignore_index must be an int"):
            mg.cross_entropy(logits, target, ignore_index=bad)
    for good in (1, np.int64(1), -100):  # NumPy integers pass, as in PyTorch
        mg.cross_entropy(logits, target, ignore_index=good)
