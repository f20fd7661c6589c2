"""Known gaps the last session left, each closed with a test that failed before the fix.

1. A bad ``MINIGRAD_BACKEND`` (``tpu``) gave a traceback at ``import minigrad``, and so at the
   start of every command line. It is now raised, naming the variable, its value and the valid
   values, by the first call that needs the backend; a command line prints it as one line.
2. Python ints outside an integer tensor's dtype: PyTorch wraps them in arithmetic and checks
   them where it stores them (``fill_``, ``full``, ``t[i] = v``, ``masked_fill``, ...), with
   unsigned dtypes taking negative ints modulo 2**bits; minigrad raised NumPy's OverflowError
   everywhere (and stored garbage for floats: ``full(..., 300.5, dtype=uint8)`` was 44).
3. ``pow`` of two bools gave bool where PyTorch refuses.
4. The same family: bool operands of ``-``, ``//``, ``%``, ``floor``..., ``abs``, ``relu``,
   ``clamp``; a float ``alpha`` for integers; float16 overflow in ``full``/``fill_``/``clamp``.

PyTorch is the oracle: each twin case runs the same expression on both libraries and compares
the dtype and values, or that both refuse (minigrad's error an instance of PyTorch's type, or a
refusal where PyTorch's type is one minigrad documents as different).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad import backend

ROOT = Path(__file__).resolve().parents[1]


# =============================================================================================
# 1. MINIGRAD_BACKEND
# =============================================================================================


@pytest.fixture
def backend_after(monkeypatch: pytest.MonkeyPatch):
    """Reads MINIGRAD_BACKEND as ``import minigrad`` does; restores the session's backend."""
    previous = mg.get_backend()

    def read(value: str) -> None:
        monkeypatch.setenv("MINIGRAD_BACKEND", value)
        backend.set_backend_from_environment()

    try:
        yield read
    finally:
        mg.set_backend(previous)


def test_unknown_backend_variable_is_raised_at_first_use_naming_it(backend_after):
    backend_after("tpu")  # before: the import itself failed with set_backend's bare ValueError
    for use in (mg.get_backend, lambda: mg.zeros(2), lambda: mg.tensor([1.0]), mg.randn):
        with pytest.raises(ValueError) as info:
            use()
        assert isinstance(info.value, mg.BackendError)  # what the command lines report
        message = str(info.value)
        for part in ("MINIGRAD_BACKEND", "'tpu'", "'numpy'", "'cupy'"):
            assert part in message, message
    mg.set_backend("numpy")  # an explicit choice replaces the bad variable
    assert mg.zeros(2).device == "cpu" and mg.get_backend() == "numpy"


def test_backend_variable_is_read_as_before(backend_after):
    for value in ("numpy", " NumPy ", ""):
        backend_after(value)
        assert mg.get_backend() == "numpy" and mg.tensor([1]).device == "cpu"


def test_cupy_variable_without_cupy_says_how_to_install_at_first_use(backend_after):
    if mg.cupy_available():
        pytest.skip("CuPy and a GPU are available here")
    backend_after("cupy")  # before: a traceback at import, through _load_cupy
    with pytest.raises(mg.BackendError, match=r"MINIGRAD_BACKEND='cupy'.*pip install"):
        mg.ones(3)


def test_set_backend_and_to_name_the_bad_value_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"'tpu'.*'numpy' or 'cupy'"):
        mg.set_backend("tpu")
    assert mg.get_backend() in ("numpy", "cupy")
    with pytest.raises(ValueError, match=r"'tpu'.*'cpu', 'cuda' or 'cuda:N'"):
        mg.tensor([1.0]).to("tpu")
    with pytest.raises(ValueError, match=r"'tpu'"):
        mg.zeros(2, device="tpu")


def _run(*args: str, backend_name: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MINIGRAD_BACKEND=backend_name)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_with_a_bad_backend_variable_succeeds_and_the_first_tensor_names_it():
    done = _run(
        "-c",
        "import minigrad as mg\ntry:\n    mg.zeros(1)\nexcept ValueError as e:\n    print(e)",
        backend_name="tpu",
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "MINIGRAD_BACKEND='tpu' names no backend" in done.stdout


def test_train_command_line_with_a_bad_backend_variable_prints_one_line_and_exits_2(tmp_path):
    out = tmp_path / "run"
    done = _run("-m", "transformer.train", "--task", "copy", "--out", str(out), backend_name="tpu")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("python -m transformer.train: error: ")
    assert "MINIGRAD_BACKEND='tpu'" in lines[0] and "'numpy' or 'cupy'" in lines[0]
    assert not out.exists()  # nothing written before the error


# =============================================================================================
# Twin cases: one expression, both libraries
# =============================================================================================


def _make(lib: Any):
    def t(values: Any, dtype: str) -> Any:
        return lib.tensor(values, dtype=getattr(lib, dtype) if lib is torch else dtype)

    def setitem(x: Any, index: Any, value: Any) -> Any:
        x[index] = value
        return x

    def full(size: Any, value: Any, dtype: str) -> Any:
        return lib.full(size, value, dtype=getattr(lib, dtype) if lib is torch else dtype)

    return {"T": lib, "t": t, "setitem": setitem, "full": full, "np": np}


def _outcome(lib: Any, expr: str) -> Any:
    try:
        return eval(expr, _make(lib))  # noqa: S307 (the test's own expressions)
    except Exception as err:  # noqa: BLE001 (the error is the outcome compared)
        return err


def assert_twin(expr: str, refusals: tuple[type, ...] = ()) -> Any:
    """``expr`` gives the same dtype and values on minigrad and PyTorch, or both refuse it:
    minigrad's error an instance of PyTorch's type, or of one of ``refusals`` (a type the
    differences document names). Returns minigrad's outcome."""
    theirs, ours = _outcome(torch, expr), _outcome(mg, expr)
    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), f"{expr}: PyTorch raises {theirs!r}, minigrad {ours}"
        assert isinstance(ours, (type(theirs), *refusals)), f"{expr}: {theirs!r} vs {ours!r}"
        return ours
    assert not isinstance(ours, Exception), f"{expr}: PyTorch gives {theirs}, minigrad {ours!r}"
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (expr, ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=expr)
    return ours


# =============================================================================================
# 2. Python ints outside an integer dtype
# =============================================================================================

WRAPPED_IN_ARITHMETIC = [  # PyTorch casts the scalar to the tensor's dtype modulo 2**bits
    "t([1, 2], 'int8') + 300",
    "300 + t([1, 2], 'int8')",
    "t([1, 2], 'int8') - 300",
    "300 - t([1, 2], 'int8')",
    "t([1, 2], 'uint8') * 1000",
    "t([1, 2], 'uint8') + (-1)",
    "t([1, 2], 'uint8') - 1000",
    "1000 - t([1, 2], 'uint8')",
    "t([1, 2], 'int8') * 2**40",
    "t([1, 2], 'int32') + 2**40",
    "t([1, 2], 'int64') + 2**63",
    "t([1, 2], 'int8') + (2**64 - 1)",
    "t([1, 2], 'int8').add(300, alpha=2)",
    "t([1, 2], 'int8').add(3, alpha=100)",
    "t([1, 2], 'int8').sub(3, alpha=100)",
    "t([1, 2], 'int8').add_(300)",
    "t([1, 2], 'uint8').mul_(1000)",
    "t([1, 2], 'uint8').sub_(-255)",
    "t([1, 2], 'int8') & 300",
    "t([1, 2], 'int8') | 300",
    "t([1, 2], 'int8') ^ 300",
    "t([1, 2], 'uint8') & -1",
    "1000 << t([1, 2], 'int8')",
    "t([1, 2], 'int8') << 300",
    "T.pow(300, t([1, 2], 'int8'))",
    "T.pow(2**40, t([1, 2], 'int32'))",
    "t([1, 2], 'int8') / 300",
]

CHECKED_WHERE_STORED = [  # PyTorch's checked conversion: refused, or -1 into uint8 as 255
    "full((2,), 300, 'uint8')",
    "full((2,), -1, 'uint8')",
    "full((2,), -255, 'uint8')",
    "full((2,), -256, 'uint8')",
    "full((2,), 255, 'int8')",
    "full((2,), 2**40, 'int32')",
    "full((2,), 2**63, 'int64')",
    "full((2,), 300.5, 'uint8')",
    "full((2,), -1.0, 'uint8')",
    "full((2,), 255.9, 'uint8')",
    "full((2,), float('nan'), 'int32')",
    "full((2,), float('inf'), 'float16')",
    "full((2,), 70000, 'float16')",
    "full((2,), 1e10, 'float16')",
    "full((2,), 1e39, 'float32')",
    "full((2,), 300, 'bool')",
    "T.full_like(t([1, 2], 'int8'), 300)",
    "t([1, 2], 'uint8').fill_(300)",
    "t([1, 2], 'uint8').fill_(-1)",
    "t([1, 2], 'uint8').fill_(np.int64(-1))",
    "t([1, 2], 'int8').fill_(-300)",
    "t([1, 2], 'int32').fill_(2**40)",
    "t([1.0, 2.0], 'float16').fill_(1e10)",
    "t([1, 2], 'bool').fill_(300)",
    "setitem(t([1, 2], 'int8'), 0, 300)",
    "setitem(t([1, 2], 'uint8'), 0, -1)",
    "setitem(t([1, 2], 'uint8'), 0, -255)",
    "setitem(t([1, 2], 'uint8'), 0, -256)",
    "setitem(t([1, 2], 'uint8'), slice(None), 300)",
    "setitem(t([1, 2], 'int8'), t([True, False], 'bool'), 300)",
    "setitem(t([1, 2], 'int8'), 0, 300.5)",
    "setitem(t([1, 2], 'int8'), 0, 2.7)",
    "t([300], 'int8')",
    "t([-1, 2], 'uint8')",
    "t([-255], 'uint8')",
    "t([-256], 'uint8')",
    "t([[1, 300]], 'int8')",
    "t(300, 'uint8')",
    "t([2**40], 'int32')",
    "t([300.7], 'uint8')",
    "t([-1.5], 'uint8')",
    "t([1, 2], 'int8').masked_fill(t([True, False], 'bool'), 300)",
    "t([1, 2], 'uint8').masked_fill(t([True, False], 'bool'), -1)",
    "t([1.0, 2.0], 'float16').masked_fill(t([True, False], 'bool'), 1e10)",
    "T.where(t([True, False], 'bool'), t([1, 2], 'int8'), 300)",
    "T.where(t([True, False], 'bool'), 300, t([1, 2], 'int8'))",
    "T.where(t([True, False], 'bool'), t([1, 2], 'uint8'), -1)",
    "T.where(t([True, False], 'bool'), t([1, 2], 'uint8'), -256)",
    "T.where(t([True, False], 'bool'), t([1, 2], 'int8'), 2**40)",
    "T.clamp(t([1, 2], 'int8'), max=300)",
    "T.clamp(t([1, 2], 'int8'), min=-300)",
    "T.clamp(t([1, 200], 'uint8'), min=-1)",
    "T.clamp(t([1, 200], 'uint8'), max=-1)",
    "T.clamp(t([1, 2], 'uint8'), min=-256)",
    "T.clamp(t([1.0, 2.0], 'float16'), max=1e10)",
    "t([1, 2], 'int8').clamp_(max=300)",
    "t([1, 2], 'int8') ** 300",
    "t([1, 2], 'int8').pow_(128)",
    "t([1, 2], 'int8').add(t([1, 2], 'int8'), alpha=300)",
    "t([1, 2], 'int8') + 2**64",
    "t([1, 2], 'int64').fill_(2**64)",
    "t([1, 2], 'int8').scatter(0, t([0], 'int64'), 300)",
    "t([1, 2], 'uint8').scatter(0, t([0], 'int64'), -1)",
    "t([1, 2], 'int8').index_fill(0, t([0], 'int64'), 300)",
    "T.as_tensor([300], dtype=T.int8)",
    "T.as_tensor([-1], dtype=T.uint8)",
]


@pytest.mark.parametrize("expr", WRAPPED_IN_ARITHMETIC + CHECKED_WHERE_STORED)
def test_python_ints_outside_the_dtype_as_torch(expr):
    """Before: NumPy's OverflowError for every case but the float ones, where ``full`` and
    ``fill_`` stored garbage (300.5 in uint8 was 44, NaN in int32 -2**31)."""
    ours = assert_twin(expr)
    if isinstance(ours, Exception):
        assert isinstance(ours, mg.MinigradError), repr(ours)  # minigrad's message, not NumPy's


@pytest.mark.parametrize(
    "expr, names",
    [
        ("full((2,), 300, 'uint8')", ["full", "300", "uint8", "0 to 255", "-255 wrap"]),
        ("t([1, 2], 'int8').fill_(-300)", ["fill_", "-300", "int8", "-128 to 127"]),
        ("t([1, 2], 'uint8').fill_(np.int64(300))", ["fill_", "300", "uint8"]),  # NumPy: 44
        ("setitem(t([1, 2], 'int32'), 0, 2**40)", ["setitem", "1099511627776", "int32"]),
        ("t([[1, 300]], 'int8')", ["tensor", "300", "int8"]),
        ("t([1, 2], 'int8').masked_fill(t([True, False], 'bool'), 300)", ["masked_fill", "300"]),
        ("T.where(t([True, False], 'bool'), t([1, 2], 'int8'), 300)", ["where", "300", "int8"]),
        ("T.clamp(t([1, 2], 'int8'), max=300)", ["clamp", "300", "int8"]),
        ("full((2,), 1e10, 'float16')", ["full", "10000000000.0", "float16", "65504.0"]),
        ("full((2,), float('nan'), 'int32')", ["full", "nan", "int32"]),
        ("t([1, 2], 'int8') ** 300", ["pow", "300", "int8"]),
        ("t([1, 2], 'int8').add(t([1, 2], 'int8'), alpha=300)", ["add", "300", "int8"]),
        ("t([1, 2], 'int8') + 2**64", ["add", "18446744073709551616", "int8"]),
    ],
)
def test_out_of_range_errors_name_the_op_the_value_and_the_dtype(expr, names):
    with pytest.raises(OverflowError) as info:  # and RuntimeError, PyTorch's type
        eval(expr, _make(mg))  # noqa: S307
    assert isinstance(info.value, RuntimeError)
    for name in names:
        assert name in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "expr, expected, dtype",
    [  # PyTorch compares with the wrapped value: 255, 44, 1, -2**63
        ("t([1, 2], 'uint8') >= -1", [True, True], "bool"),
        ("t([255, 2], 'uint8') == -1", [False, False], "bool"),
        ("t([44, 2], 'int8') == 300", [False, False], "bool"),
        ("t([1, 2], 'uint8') == 257", [False, False], "bool"),
        ("t([1, 2], 'int64') < 2**63", [True, True], "bool"),
        # PyTorch shifts by 2**40 modulo 256, i.e. not at all
        ("t([1, 2], 'int8') << 2**40", [0, 0], "int8"),
        ("t([-64, 64], 'int8') >> 2**40", [-1, 0], "int8"),
    ],
)
def test_comparisons_and_shift_counts_are_exact_where_torch_wraps(expr, expected, dtype):
    """docs/guide/differences.md: wrapping the operand would change these answers."""
    ours = _outcome(mg, expr)
    assert str(ours.dtype) == dtype
    np.testing.assert_array_equal(ours.numpy(), expected)


@pytest.mark.parametrize(
    "expr",
    [
        "t([100, -100], 'int8') // 300",
        "300 // t([100, -100], 'int8')",
        "t([100, -100], 'int8') % 300",
        "300 % t([7, -7], 'int8')",
        "T.div(t([100, -100], 'int8'), 300, rounding_mode='floor')",
        "T.div(t([100, -100], 'int8'), -300, rounding_mode='trunc')",
        "t([1, 2], 'int8').floor_divide_(300)",
    ],
)
def test_rounded_division_by_an_int_outside_the_dtype_raises_where_torch_wraps(expr):
    """PyTorch divides by the wrapped divisor (int8 100 // 300 is 2, 100 % 300 is 12): a
    result that is not the division's; minigrad refuses, naming the int and the dtype."""
    assert not isinstance(_outcome(torch, expr), Exception)
    with pytest.raises(OverflowError, match=r"300 is outside the range of the int8 tensor"):
        eval(expr, _make(mg))  # noqa: S307


# =============================================================================================
# 3. pow of bools
# =============================================================================================

BOOL_POW = [
    "t([True, False], 'bool') ** t([True, True], 'bool')",
    "T.pow(t([True, False], 'bool'), t([True, True], 'bool'))",
    "True ** t([True, False], 'bool')",
    "T.tensor(True) ** t([True, False], 'bool')",
    "t([True, False], 'bool').pow_(t([True, True], 'bool'))",
    "t([True, False], 'bool') ** True",
    "t([True, False], 'bool') ** False",
    "t([True, False], 'bool').pow_(False)",
    "t([True, False], 'bool') ** 2",
    "t([True, False], 'bool') ** 0",
    "t([True, False], 'bool') ** 0.5",
    "t([True, False], 'bool').pow_(2)",
    "2 ** t([True, False], 'bool')",
    "t([2, 3], 'int64') ** t([True, False], 'bool')",
    "t([2, 3], 'uint8') ** t([True, False], 'bool')",
    "t([True, False], 'bool') ** t([2, 3], 'int64')",
    "t([2.0, 3.0], 'float32') ** t([True, False], 'bool')",
    "t([2, 3], 'int64').pow_(t([True, False], 'bool'))",
]


@pytest.mark.parametrize("expr", BOOL_POW)
def test_pow_with_bools_as_torch(expr):
    """Before: two bools gave bool (NumPy's int8 cast back); PyTorch raises NotImplementedError,
    but keeps bool for a bool tensor to a Python bool power."""
    assert_twin(expr)


# =============================================================================================
# 4. The same family: bool and small integer operands
# =============================================================================================

BOOL_AND_INT_CORNERS = [
    # - with a bool operand: PyTorch refuses whatever the other side (NumPy: only two bools)
    "t([True, False], 'bool') - 1",
    "1 - t([True, False], 'bool')",
    "t([True, False], 'bool') - 1.5",
    "t([1, 2], 'int64') - t([True, False], 'bool')",
    "t([1.0, 2.0], 'float32') - t([True, False], 'bool')",
    "t([True, False], 'bool') - t([1, 2], 'int64')",
    "T.sub(t([True, False], 'bool'), 1)",
    "t([True, False], 'bool') - t([True, True], 'bool')",
    "t([True, False], 'bool').sub_(True)",
    "t([1.0, 2.0], 'float32') - True",
    "True - t([1.0, 2.0], 'float32')",
    "t([1, 2], 'int64').sub(True)",
    "t([1.0, 2.0], 'float32') + True",
    "T.add(t([True, False], 'bool'), 1, alpha=-1)",
    "t([True, False], 'bool') + t([True, True], 'bool')",
    "t([True, False], 'bool') * 2",
    "t([True, False], 'bool') + 1.5",
    # //, %, rounded div and rounding of bools: PyTorch refuses (NumPy gives int8)
    "t([True, False], 'bool') // t([True, True], 'bool')",
    "t([True, False], 'bool') % t([True, True], 'bool')",
    "t([True, False], 'bool') // True",
    "t([True, False], 'bool') % True",
    "T.div(t([True, False], 'bool'), t([True, True], 'bool'), rounding_mode='floor')",
    "T.div(t([True, False], 'bool'), t([True, True], 'bool'), rounding_mode='trunc')",
    "t([True, False], 'bool') // 2",
    "t([True, False], 'bool') % 2",
    "T.floor(t([True, False], 'bool'))",
    "T.ceil(t([True, False], 'bool'))",
    "T.round(t([True, False], 'bool'))",
    "T.trunc(t([True, False], 'bool'))",
    "T.floor(t([1, 5], 'int8'))",
    # unary ops on bools
    "T.abs(t([True, False], 'bool'))",
    "abs(t([True, False], 'bool'))",
    "abs(t([-3, 5], 'int8'))",
    "T.relu(t([True, False], 'bool'))",
    "T.relu(t([-1, 4], 'int8'))",
    "T.sign(t([True, False], 'bool'))",
    "-t([True, False], 'bool')",
    "~t([True, False], 'bool')",
    "-t([-128, 5], 'int8')",
    "T.abs(t([-128, 5], 'int8'))",
    # result dtypes of reductions and mean of integers
    "t([True, False], 'bool').sum()",
    "t([1, 2], 'int8').sum()",
    "t([1, 2], 'uint8').sum()",
    "t([True, False], 'bool').prod()",
    "t([1, 2], 'int8').prod()",
    "t([True, False], 'bool').cumsum(0)",
    "t([1, 2], 'int8').cumsum(0)",
    "t([1, 2], 'int64').mean()",
    "t([True, False], 'bool').mean()",
    "t([1, 2], 'int64').mean(dtype=T.float32)",
    "t([1, 2], 'int8').sum(dtype=T.int8)",
    "t([1, 2], 'int8').sum(dtype=T.int16)",
    "t([True, False], 'bool').argmax()",
    "t([True, False], 'bool').argmin(0)",
    "t([True, False], 'bool').max()",
    "t([1, 2], 'uint8') + t([1, 2], 'int8')",
    "t([True, False], 'bool').masked_fill(t([True, False], 'bool'), 2.5)",
    "t([True, False], 'bool').masked_fill(t([True, False], 'bool'), 0.0)",
    # clamp with bool or float bounds
    "T.clamp(t([True, False], 'bool'), min=True)",
    "T.clamp(t([True, False], 'bool'), 0, 1)",
    "T.clamp(t([1, 5], 'int8'), 1.5, 3.5)",
    "T.clamp(t([1, 5], 'int64'), min=1.5)",
    "t([1, 5], 'int64').clamp_(1.5, 3.5)",
    # alpha
    "t([1, 2], 'int8').add(1, alpha=2.5)",
    "t([1, 2], 'int64').sub(t([1, 2], 'int64'), alpha=0.5)",
    "t([1.0, 2.0], 'float32').add(1, alpha=2.5)",
    "t([1, 2], 'int8').add(1.5, alpha=2)",
]


@pytest.mark.parametrize("expr", BOOL_AND_INT_CORNERS)
def test_bool_and_small_int_corner_cases_as_torch(expr):
    """Before: ``bool - 1`` gave int64, ``bool // bool`` and ``floor(bool)`` bool, ``abs`` of
    a bool tensor bool, ``relu`` of one int64, a bool clamp bool, an int add with alpha=2.5 a
    float; ``abs(t)`` had no ``__abs__``; argmax of bools answered; masked_fill of a bool tensor
    refused a float; ``mg.int8`` and ``mg.int16`` did not exist. Refusal types minigrad documents:
    DTypeError (a TypeError) for ``-`` with a bool, ``relu``, ``argmax`` and ``argmin`` of bools,
    a float alpha and ``mean`` of ints, where PyTorch raises RuntimeError."""
    assert_twin(expr, refusals=(mg.DTypeError,))


def test_refusals_name_the_op_and_the_operands():
    bools = mg.tensor([True, False])
    with pytest.raises(TypeError, match=r"sub: .*bool tensor of shape \(2,\).*the int 1"):
        bools - 1
    with pytest.raises(NotImplementedError, match=r"pow .* two bool operands.*shape \(2,\)"):
        bools**bools
    with pytest.raises(NotImplementedError, match=r"floor .* bool tensors.*shape \(2,\)"):
        mg.floor(bools)
    with pytest.raises(TypeError, match=r"add: .*alpha=2.5 .*int8 tensor of shape \(2,\)"):
        mg.tensor([1, 2], dtype="int8").add(1, alpha=2.5)
