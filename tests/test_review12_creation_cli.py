"""Review r14: creation and conversion against PyTorch, and the command lines' bad input.

Each test is a problem the review found, and fails on the code before its fix: a wrong dtype
or value from a factory (``arange``'s float16 steps and values past ``end``, ``linspace`` and
``logspace`` in an integer dtype, NumPy ints read as floats, a float size truncated), data or
dtypes minigrad has no tensors of accepted silently (complex, float128, an int past int64),
``Tensor.to``'s PyTorch forms, ``__index__`` and ``__format__``; and command lines that printed
argparse's usage block above the error, a traceback for sizes beyond the memory, ran with an
infinite learning rate, or wrote the run into the working directory for ``--out ''``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from transformer import train, translate
from transformer.cli import run

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def _same(ours: mg.Tensor, theirs: Any) -> None:
    """Equal dtype (by name), shape and values (NaN where NaN)."""
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# =============================================================================================
# arange: PyTorch's length rule and one rounding per element
# =============================================================================================


@pytest.mark.parametrize(
    "args", [(0, 1, 0.1), (-3, 3, 0.7), (0, 1, 0.3), (1e6, 1e6 + 1, 0.1), (2, -2, -0.3)]
)
def test_arange_float16_rounds_each_element_once_as_torch(args: tuple) -> None:
    # was NumPy's arange in float16: steps accumulated in float16 (0.2998 for 0.3), NaN past
    # float16's range; PyTorch computes start + i * step in float32, then rounds (past 16
    # elements its SIMD blocks round each block's base to float16 first: not compared)
    _same(mg.arange(*args, dtype=mg.float16), torch.arange(*args, dtype=torch.float16))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_float_steps_match_torch(dtype: str) -> None:
    for args in [(0, 1, 0.1), (-1.0, 1.0, 0.25), (0.1, 0.9, 0.2), (10, 0, -3), (1, 1.3, 0.1)]:
        _same(mg.arange(*args, dtype=dtype), torch.arange(*args, dtype=getattr(torch, dtype)))


def test_arange_integer_dtype_refuses_a_fractional_step() -> None:
    # was [-3, -2, ..., 5]: values past end=3 (NumPy's integer arange of a float step)
    with pytest.raises(ValueError, match=r"needs a whole-number start and step, got step 0.7"):
        mg.arange(-3, 3, 0.7, dtype=mg.int32)
    _same(mg.arange(5.5, dtype=mg.int32), torch.arange(5.5, dtype=torch.int32))
    _same(mg.arange(0, 5, 2.0, dtype=mg.int64), torch.arange(0, 5, 2.0, dtype=torch.int64))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 0), "inconsistent with step sign"),  # was an empty tensor
        ((0, 5, -1), "inconsistent with step sign"),
        ((float("inf"),), "unsupported range"),  # was NumPy's "Maximum allowed size exceeded"
        ((0, 5, float("nan")), "step must be nonzero"),
    ],
)
def test_arange_refuses_what_torch_refuses(args: tuple, message: str) -> None:
    with pytest.raises(RuntimeError):
        torch.arange(*args)
    with pytest.raises(ValueError, match=message):
        mg.arange(*args)


def test_arange_of_numpy_ints_is_int64() -> None:
    # was float32: only Python ints counted as integers
    _same(mg.arange(np.int64(3)), torch.arange(np.int64(3)))
    _same(mg.arange(np.int32(1), 7, np.int64(2)), torch.arange(np.int32(1), 7, np.int64(2)))


# =============================================================================================
# linspace and logspace in an integer dtype: PyTorch converts start and end first
# =============================================================================================

SPACED = [(5.48, -9.21, 3), (1.74, 17.4, 8), (16.51, 4.27, 11), (-2.5, 7, 5), (0.9, 2.1, 1)]


@pytest.mark.parametrize("args", SPACED)
def test_integer_linspace_matches_torch(args: tuple) -> None:
    # was trunc(linspace in float64): [5, -1, -9] where PyTorch gives [5, -2, -9]
    _same(mg.linspace(*args, dtype=mg.int64), torch.linspace(*args, dtype=torch.int64))


@pytest.mark.parametrize("base", [10.0, 2, 0.5])
@pytest.mark.parametrize("args", SPACED)
def test_integer_logspace_matches_torch(args: tuple, base: float) -> None:
    # was [0, 0, 177, 42169, 1e7] for (-2.5, 7, 5): PyTorch's is [0, 1, 316, 56234, 1e7]
    _same(mg.logspace(*args, base, dtype=mg.int64), torch.logspace(*args, base, dtype=torch.int64))


def test_linspace_takes_numpy_int_steps_and_refuses_bool() -> None:
    _same(mg.linspace(0, 1, np.int64(3)), torch.linspace(0, 1, np.int64(3)))  # was ValueError
    with pytest.raises(TypeError, match="bool"):  # was [False, True, True]; PyTorch refuses
        mg.linspace(0, 1, 3, dtype=mg.bool_)


# =============================================================================================
# full and the sizes: NumPy ints are ints, floats are not sizes
# =============================================================================================


def test_full_with_a_numpy_int_is_int64() -> None:
    _same(mg.full((2,), np.int32(7)), torch.full((2,), np.int32(7)))  # was float32


def test_sizes_must_be_ints() -> None:
    with pytest.raises(TypeError):
        torch.zeros(2.5)
    with pytest.raises(TypeError, match="sizes must be ints"):
        mg.zeros(2.5)  # was shape (2,): the float truncated
    with pytest.raises(TypeError, match="sizes must be ints"):
        mg.ones((2, 1.5))
    assert mg.zeros(np.int64(2), mg.tensor(3)).shape == (2, 3)


# =============================================================================================
# Data and dtypes minigrad has no tensors of
# =============================================================================================


def test_python_int_past_int64_is_refused() -> None:
    with pytest.raises((ValueError, RuntimeError, OverflowError)):
        torch.tensor([2**63])
    with pytest.raises(mg.ScalarOverflowError, match="outside int64"):
        mg.tensor([2**63])  # was a uint64 tensor
    with pytest.raises(mg.ScalarOverflowError, match="outside int64"):
        mg.tensor(2**64)  # was "unsupported data of dtype object"
    assert mg.tensor([2**63], dtype="uint64").tolist() == [2**63]


def test_ragged_and_untyped_data_say_what_is_wrong() -> None:
    with pytest.raises(mg.ShapeError, match="ragged"):
        mg.tensor([[1, 2], [3]])
    with pytest.raises(mg.ShapeError, match="ragged"):
        mg.tensor([[1.5], [2, 3]], dtype=mg.float64)
    with pytest.raises(TypeError, match="cannot infer a dtype for data holding NoneType"):
        mg.tensor([1, None])


@pytest.mark.parametrize("dtype", [np.complex64, np.longdouble, object, np.dtype("U3")])
def test_unsupported_dtypes_are_refused_everywhere(dtype: Any) -> None:
    # each was accepted: a complex, float128, object or string tensor
    x = mg.tensor([1.5, 2.5])
    for make in (
        lambda: x.to(dtype),
        lambda: x.to(dtype=dtype),
        lambda: x.type(dtype),
        lambda: mg.tensor([1.0], dtype=dtype),
        lambda: mg.zeros(2, dtype=dtype),
        lambda: mg.full((2,), 1.0, dtype=dtype),
        lambda: mg.as_tensor(np.zeros(2, dtype=dtype)),
        lambda: mg.tensor(np.zeros(2, dtype=dtype)),
    ):
        with pytest.raises(TypeError, match="not supported|unsupported data"):
            make()


def test_big_endian_data_becomes_native() -> None:
    # was a tensor of dtype >i4 (from mg.tensor; mg.Tensor kept it too)
    for make in (mg.tensor, mg.Tensor):
        t = make(np.arange(3, dtype=">i4"))
        assert t.dtype == np.int32 and t.dtype.isnative and t.tolist() == [0, 1, 2]
    # the dtypes given come back as NumPy's own instances (the ops compare them with ``is``)
    assert mg.zeros(2, dtype=">f4").dtype is mg.float32
    assert mg.tensor([True], dtype="bool").dtype is mg.bool_


# =============================================================================================
# Tensor.to's PyTorch forms, __index__, __format__
# =============================================================================================


def test_to_takes_torch_forms_copy_and_non_blocking() -> None:
    x, xt = mg.tensor([1.5, 2.5]), torch.tensor([1.5, 2.5])
    copied = x.to(mg.float32, copy=True)  # was TypeError: unexpected keyword 'copy'
    assert copied is not x and not np.shares_memory(copied.array, x.array)
    assert (xt.to(torch.float32, copy=True) is xt) is (copied is x)
    assert x.to("cpu", non_blocking=True) is x
    assert x.to(mg.float64, False, True).dtype == mg.float64  # (dtype, non_blocking, copy)
    assert x.to("cpu", mg.float64, False, False).dtype == mg.float64
    other = mg.tensor([1], dtype=mg.int32)
    assert x.to(other, False, False).dtype == mg.int32  # (tensor, non_blocking, copy)
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(mg.float64, blocking=True)
    with pytest.raises(TypeError, match="multiple values"):
        x.to("cpu", device="cpu")
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.to(copy=True).sum().backward()  # a copy stays in the graph, as clone()
    assert w.grad.tolist() == [1.0, 1.0]


def test_index_of_integer_tensors_as_torch() -> None:
    # was TypeError: 'Tensor' object cannot be interpreted as an integer
    for n in (3, True):
        assert range(mg.tensor(n)) == range(torch.tensor(n))
        assert [10, 20, 30, 40][mg.tensor(n)] == [10, 20, 30, 40][torch.tensor(n)]
        assert hex(mg.tensor([n])) == hex(torch.tensor([n]))
    for bad in (mg.tensor(2.0), mg.tensor([1, 2]), mg.tensor([], dtype=mg.int64)):
        with pytest.raises(TypeError, match="only integer tensors of a single element"):
            [1, 2, 3][bad]


def test_format_of_a_0d_tensor_is_its_value() -> None:
    # was TypeError: unsupported format string passed to Tensor.__format__
    for value in (2.5, 3, True, float("nan")):
        ours, theirs = mg.tensor(value), torch.tensor(value)
        assert f"{ours:.3f}" == f"{theirs:.3f}" and f"{ours}" == f"{theirs}"
    assert f"{mg.tensor([1.0, 2.0])}" == str(mg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        f"{mg.tensor([1.0]):.2f}"


# =============================================================================================
# Command lines: one line, status 2
# =============================================================================================


def _one_line(err: str, prog: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_r14", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("prog", "argv", "message"),
    [
        ("python -m transformer.train", ["--task", "copy", "--out", "o", "--steps", "x"],
         "argument --steps: invalid int value: 'x'"),
        ("python -m transformer.train", ["--out", "o"], "required: --task"),
        ("python -m transformer.train", ["--task", "copy", "--out", "o", "--steps", "0"],
         "--steps must be positive, got 0"),
        ("python -m transformer.translate", ["--checkpoint", "c", "--beam", "x", "1"],
         "argument --beam: invalid int value: 'x'"),
        ("python -m transformer.translate", ["--checkpoint", "c", "--backend", "tpu", "1"],
         "argument --backend: invalid choice: 'tpu'"),
    ],
)  # fmt: skip
def test_argparse_errors_are_one_line(
    prog: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # was argparse's usage block (up to 22 lines) above the error line
    main = train.main if "train" in prog else translate.main
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in _one_line(capsys.readouterr().err, prog)


@pytest.mark.parametrize("name", ["train_mlp", "second_order", "walkthrough"])
def test_example_argparse_errors_are_one_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _example(name).main(["--bogus"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --bogus" in _one_line(capsys.readouterr().err, f"{name}.py")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--lr-factor", "inf"], "--lr-factor must be positive and finite, got inf"),
        (["--out", ""], "argument --out: must name a directory, got ''"),
        (["--out", " "], "argument --out: must name a directory, got ' '"),
    ],
)
def test_train_refuses_infinite_lr_and_empty_out(
    flags: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # --lr-factor inf trained to NaN weights; --out '' wrote the run into the working directory
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--task", "copy", "--out", str(tmp_path / "run"), "--steps", "1", *flags])
    assert exit_info.value.code == 2
    assert message in _one_line(capsys.readouterr().err, "python -m transformer.train")
    assert list(tmp_path.iterdir()) == []


def test_sizes_beyond_the_memory_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    # was a MemoryError traceback (--d-model 99999999996, train_mlp.py --hidden 99999999999)
    def main(argv: list[str] | None) -> int:
        mg.zeros(4, 2**40)  # 16 TiB
        return 0

    assert run(main, "prog") == 2
    line = _one_line(capsys.readouterr().err, "prog")
    assert "out of memory" in line and "smaller sizes" in line


def test_example_refuses_a_size_beyond_the_memory_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "examples/train_mlp.py", "--hidden", "99999999999", "--epochs", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "out of memory" in _one_line(proc.stderr, "train_mlp.py")


def test_walkthrough_draw_that_cannot_be_made_is_one_line(capsys) -> None:
    # was a FileNotFoundError traceback from mkdir, after the first seven steps had printed
    assert _example("walkthrough").main(["--draw", "/proc/minigrad-r14/draw"]) == 2
    out, err = capsys.readouterr()
    assert "--draw /proc/minigrad-r14/draw" in _one_line(err, "walkthrough.py") and out == ""


def test_translate_error_does_not_echo_a_huge_input(tmp_path: Path, capsys) -> None:
    # was the whole input, twice, in the error line (5000 characters each)
    tiny = ["--d-model", "8", "--heads", "2", "--d-ff", "8", "--encoder-layers", "1",
            "--decoder-layers", "1", "--batch-size", "4", "--eval-size", "2", "--no-plots"]  # fmt: skip
    assert train.main(["--task", "copy", "--out", str(tmp_path), "--steps", "1", *tiny]) == 0
    capsys.readouterr()
    assert translate.main(["--checkpoint", str(tmp_path), "x" * 5000]) == 2
    line = _one_line(capsys.readouterr().err, translate.PROG)
    assert "unknown character" in line and len(line) < 400


def test_from_numpy_shares_memory_as_torch() -> None:
    # was missing (AttributeError); PyTorch's name for a tensor over a NumPy array's memory
    array = np.arange(6, dtype=np.uint16).reshape(2, 3)
    ours, theirs = mg.from_numpy(array), torch.from_numpy(array.copy())
    _same(ours, theirs)
    array[0, 0] = 7
    assert ours.tolist()[0][0] == 7
    with pytest.raises(TypeError, match="expected a NumPy ndarray"):
        mg.from_numpy([1, 2])
    with pytest.raises(TypeError, match="not supported"):
        mg.from_numpy(np.zeros(2, dtype=np.complex64))


def test_like_factories_take_device_as_torch() -> None:
    # zeros_like, ones_like and full_like had no device= (TypeError: unexpected keyword)
    x, xt = mg.tensor([[1.5, 2.0]]), torch.tensor([[1.5, 2.0]])
    _same(mg.zeros_like(x, device="cpu"), torch.zeros_like(xt, device="cpu"))
    _same(mg.ones_like(x, dtype=mg.int32, device="cpu"), torch.ones_like(xt, dtype=torch.int32))
    _same(mg.full_like(x, 7, device="cpu"), torch.full_like(xt, 7, device="cpu"))
    with pytest.raises(TypeError, match="expects a tensor"):
        mg.full_like([1.0], 2.0)


def test_new_factories_refuse_unsupported_dtypes_and_float_sizes() -> None:
    x = mg.tensor([1.0])
    with pytest.raises(TypeError, match="not supported"):
        x.new_zeros(2, dtype=np.complex64)  # was a complex64 tensor
    with pytest.raises(TypeError):
        x.new_zeros((2.5,))  # was shape (2,)
    assert x.new_ones(np.int64(2), mg.tensor(3)).shape == (2, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.zeros(0, 3),
        lambda lib: lib.zeros(2, 0, 3, dtype=lib.float64),
        lambda lib: lib.zeros(0, dtype=lib.int32),
        lambda lib: lib.arange(2000),
    ],
)
def test_repr_of_empty_and_summarized_tensors_as_torch(make: Any) -> None:
    # was NumPy's "shape=(0, 3)" (PyTorch: "size=(0, 3)") and "shape=(2000,)" after "..."
    ours, theirs = repr(make(mg)), repr(make(torch)).replace("torch.", "")
    assert ours.replace(" ", "") == theirs.replace(" ", "")
