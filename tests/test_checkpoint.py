"""nn.checkpoint: bit-exact round trips in both formats, the JSON structure, atomic writes, and a
clear error (naming the file) for every file that is not a minigrad checkpoint. Nothing is ever
unpickled: the pickle tests carry a payload that would leave a file behind if it ran."""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from nn.checkpoint import CheckpointError, load, save

try:
    import safetensors.numpy as safetensors_numpy
except ImportError:
    safetensors_numpy = None

needs_safetensors = pytest.mark.skipif(safetensors_numpy is None, reason="safetensors missing")
# A name without a known extension: safetensors where it is installed, npz otherwise.
FORMATS = [
    pytest.param("ckpt.safetensors", marks=needs_safetensors, id="safetensors"),
    pytest.param("ckpt.npz", id="npz"),
]


def _same(a, b) -> bool:
    """Equal in type and value, recursively; tensors bit for bit, floats nan-aware and signed."""
    if type(a) is not type(b):
        return False
    if isinstance(a, mg.Tensor):
        x, y = a.numpy(), b.numpy()
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            type(k) is type(j) and _same(a[k], b[j]) for k, j in zip(a, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _round_trip(obj, path: Path, **kwargs):
    save(obj, path)
    return load(path, **kwargs)


def _document(path: Path) -> dict:
    """The JSON document of a checkpoint, read with the format's own tools."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        with np.load(path, allow_pickle=False) as archive:
            return json.loads(archive["__minigrad_checkpoint__"].tobytes().decode("utf-8"))
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_size])
    return json.loads(header["__metadata__"]["minigrad-checkpoint"])


# =============================================================================================
# Round trips
# =============================================================================================


@pytest.mark.parametrize("name", FORMATS)
def test_module_state_dict_round_trip(tmp_path, name, device):
    weight = mg.randn(4, 3, requires_grad=True)
    (weight * weight).sum().backward()
    state = OrderedDict([("layers.0.weight", weight), ("layers.0.bias", mg.zeros(3))])
    loaded = _round_trip(state, tmp_path / name)
    assert type(loaded) is dict and list(loaded) == ["layers.0.weight", "layers.0.bias"]
    for key, tensor in loaded.items():
        assert type(tensor) is mg.Tensor
        assert not tensor.requires_grad and tensor.grad is None and tensor.grad_fn is None
        assert tensor.device == device
        assert _same(tensor, state[key])
        assert tensor.array.flags.writeable if tensor.device == "cpu" else True


def test_model_and_optimizer_resume_exactly(tmp_path):
    """Train, save, train on; a fresh model and optimizer loaded from the file train on the same."""
    import nn.optim  # the package whose state this saves (nn/__init__ may not import optim)

    def make():
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
        return model, nn.optim.Adam(model.parameters(), lr=1e-2)

    def step(model, optim, x):
        optim.zero_grad()
        (model(x) ** 2).mean().backward()
        optim.step()

    x = mg.randn(16, 3)
    model, optim = make()
    step(model, optim, x)
    save({"model": model.state_dict(), "optim": optim.state_dict(), "epoch": 1}, tmp_path / "c")
    step(model, optim, x)
    resumed, resumed_optim = make()
    checkpoint = load(tmp_path / "c")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optim.load_state_dict(checkpoint["optim"])
    step(resumed, resumed_optim, x)
    for name, tensor in model.state_dict().items():
        assert _same(resumed.state_dict()[name], tensor), name


def _bit_patterns(dtype: str, rng: np.random.Generator) -> np.ndarray:
    """Random bits (all of them: nan payloads, subnormals) plus the special values of dtype."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return np.array([True, False, False, True, True])
    if dt.kind == "i":
        info = np.iinfo(dt)
        return np.array([info.min, info.max, 0, -1, 1], dtype=dt)
    bits = rng.integers(0, 256, size=64 * dt.itemsize, dtype=np.uint8).view(dt)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, np.finfo(dt).tiny / 2], dtype=dt)
    return np.concatenate([special, bits])


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int64", "bool"])
def test_dtypes_bit_exact(tmp_path, name, dtype, rng):
    values = _bit_patterns(dtype, rng)
    state = {
        "values": mg.tensor(values),
        "matrix": mg.tensor(values[:4].reshape(2, 2)),
        "scalar": mg.tensor(values[0]),  # 0-d
        "empty": mg.tensor(np.zeros((0,), dtype=dtype)),
        "empty_2d": mg.tensor(np.zeros((2, 0, 3), dtype=dtype)),
    }
    assert state["scalar"].shape == ()
    loaded = _round_trip(state, tmp_path / name)
    for key, tensor in state.items():
        assert _same(loaded[key], tensor), key
        assert loaded[key].shape == tensor.shape and loaded[key].dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", FORMATS)
def test_non_contiguous_and_big_endian_arrays(tmp_path, name):
    base = mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    transposed = base.transpose(0, 1)
    big_endian = mg.Tensor(np.arange(5, dtype=">i4"), device="cpu")  # NumPy only
    loaded = _round_trip({"t": transposed, "be": big_endian}, tmp_path / name)
    np.testing.assert_array_equal(loaded["t"].numpy(), transposed.numpy())
    assert loaded["be"].dtype == np.int32
    np.testing.assert_array_equal(loaded["be"].numpy(), np.arange(5))


def _optimizer_like() -> dict:
    return {
        "state": {
            0: {"step": 3, "exp_avg": mg.randn(4, 3), "exp_avg_sq": mg.rand(4, 3)},
            1: {"step": 3, "exp_avg": mg.randn(3), "exp_avg_sq": mg.rand(3)},
        },
        "param_groups": [
            {
                "lr": 1e-3,
                "betas": (0.9, 0.999),
                "eps": 1e-8,
                "weight_decay": 0.0,
                "amsgrad": False,
                "foreach": None,
                "params": [0, 1],
            }
        ],
    }


@pytest.mark.parametrize("name", FORMATS)
def test_training_checkpoint_nested_structure(tmp_path, name):
    checkpoint = {
        "model": {"layers.0.weight": mg.randn(4, 3), "layers.0.bias": mg.zeros(3)},
        "optim": _optimizer_like(),
        "schedule": {"last_epoch": 5, "base_lrs": [1e-3], "last_lr": [5e-4], "gamma": 0.5},
        "epoch": 7,
        "best_loss": float("inf"),
        "history": [(0, 1.25), (1, float("nan"))],
        "notes": "first run \u2014 \u00fcber \U0001f600",
        "rng_seed": 2**64 + 1,
        "done": False,
        "empty": {},
        "nothing": [],
        "unit": (),
    }
    loaded = _round_trip(checkpoint, tmp_path / name)
    assert _same(loaded, checkpoint)
    assert list(loaded["optim"]["state"]) == [0, 1]  # int keys stay int
    assert isinstance(loaded["optim"]["param_groups"][0]["betas"], tuple)  # tuples stay tuples


@pytest.mark.parametrize("name", FORMATS)
def test_int_and_str_keys_stay_apart(tmp_path, name):
    obj = {0: "int zero", "0": "str zero", -5: {1: mg.ones(2), "1": mg.zeros(2)}, 2**70: True}
    loaded = _round_trip(obj, tmp_path / name)
    assert _same(loaded, obj)
    assert [type(k) for k in loaded] == [int, str, int, int]
    assert loaded[-5][1].numpy().tolist() == [1.0, 1.0]
    assert loaded[-5]["1"].numpy().tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name", FORMATS)
def test_special_python_scalars(tmp_path, name):
    values = [
        float("nan"),
        float("inf"),
        float("-inf"),
        -0.0,
        0.0,
        5e-324,
        1.7976931348623157e308,
        0.1,
        1e16,
        2**53,
        2**53 + 1,
        -(2**63),
        2**64,
        -(10**30),
        3**10000,  # beyond Python's 4300-digit int/str limit
        True,
        False,
        None,
        "",
        "nan",
        '{"tensor": "x"}',  # a string that looks like a node stays a string
        "nul \x00, lone surrogate \ud800, \u00fcber \U0001f600",
    ]
    loaded = _round_trip({"values": values, "tuple": tuple(values)}, tmp_path / name)
    assert _same(loaded["values"], values)
    assert _same(loaded["tuple"], tuple(values))


def test_numpy_scalars_are_stored_as_python_numbers(tmp_path):
    obj = {"f": np.float32(0.5), "d": np.float64(-0.0), "i": np.int64(-3), "b": np.bool_(True)}
    loaded = _round_trip(obj, tmp_path / "ckpt")
    assert _same(loaded, {"f": 0.5, "d": -0.0, "i": -3, "b": True})


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=8)
)
_structures = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=4) | st.integers(), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(obj=_structures)
def test_any_structure_round_trips(tmp_path, obj):
    for name in ("a.npz", "b.ckpt"):
        assert _same(_round_trip(obj, tmp_path / name), obj)


@pytest.mark.parametrize("name", FORMATS)
def test_shared_arrays_are_stored_once_and_stay_shared(tmp_path, name):
    weight = mg.randn(5, 2)
    # The same tensor twice, and two detached tensors over one array (tied weights).
    state = {"embed.weight": weight, "head.weight": weight.detach(), "again": weight}
    loaded = _round_trip(state, tmp_path / name)
    assert loaded["embed.weight"] is loaded["head.weight"] is loaded["again"]
    assert _same(loaded["head.weight"], weight)
    if name.endswith(".npz"):
        with np.load(tmp_path / name, allow_pickle=False) as archive:
            assert sorted(archive.files) == ["__minigrad_checkpoint__", "embed.weight"]
    else:
        assert list(safetensors_numpy.load_file(tmp_path / name)) == ["embed.weight"]


@pytest.mark.parametrize("name", FORMATS)
def test_tensors_are_stored_under_their_key_paths(tmp_path, name):
    """Other tools (safetensors, NumPy) see a state dict's own names."""
    state = {
        "layers.0.weight": mg.ones(2),
        "optim": {"state": {0: {"exp_avg": mg.zeros(2)}}},
        "a": {"b": mg.ones(1)},
        "a.b": mg.zeros(1),  # collides with the path a -> b
        "__metadata__": mg.ones(3),  # reserved in safetensors
        "__minigrad_checkpoint__": mg.ones(4),  # reserved in npz
        "nul\x00byte": mg.ones(5),
    }
    path = tmp_path / name
    loaded = _round_trip(state, path)
    assert _same(loaded, state)
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            names = set(archive.files) - {"__minigrad_checkpoint__"}
    else:
        names = set(safetensors_numpy.load_file(path))
    assert {"layers.0.weight", "optim.state.0.exp_avg", "a.b", "a.b#2", "nul_byte"} <= names
    assert "__metadata__" not in names and len(names) == len(state)


@pytest.mark.parametrize("name", FORMATS)
def test_document_format(tmp_path, name):
    """The JSON document the README describes, node by node."""
    path = tmp_path / name
    obj = {"w": mg.ones(2), 1: [1.5, (None, True)], "n": float("nan"), "big": 2**60, "s": "x"}
    save(obj, path)
    document = _document(path)
    checksums = document.pop("checksums")
    assert document == {
        "format": "minigrad-checkpoint",
        "version": 1,
        "root": {
            "dict": [
                ["w", {"tensor": "w"}],
                [1, [1.5, {"tuple": [None, True]}]],
                ["n", {"float": "nan"}],
                ["big", {"int": "0x1000000000000000"}],
                ["s", "x"],
            ]
        },
    }
    # SHA-256 of the compact root, and of [dtype, shape] then each tensor's little-endian bytes
    root_text = json.dumps(document["root"], separators=(",", ":")).encode()
    w_digest = hashlib.sha256(b'["float32", [2]]' + np.ones(2, "<f4").tobytes()).hexdigest()
    assert checksums == {
        "algorithm": "sha256",
        "root": hashlib.sha256(root_text).hexdigest(),
        "tensors": {"w": w_digest},
    }


# =============================================================================================
# Formats, file names and devices
# =============================================================================================


@needs_safetensors
def test_format_comes_from_the_extension_and_is_detected_from_the_bytes(tmp_path):
    obj = {"w": mg.randn(3), "step": 1}
    save(obj, tmp_path / "model.ckpt")  # no known extension: safetensors, as it is installed
    save(obj, tmp_path / "model.npz")
    assert (tmp_path / "model.npz").read_bytes()[:4] == b"PK\x03\x04"
    assert (tmp_path / "model.ckpt").read_bytes()[8:9] == b"{"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.ckpt", "model.npz"]
    # Renamed, each still loads: the name plays no part in reading.
    os.replace(tmp_path / "model.npz", tmp_path / "npz_named.safetensors")
    os.replace(tmp_path / "model.ckpt", tmp_path / "safetensors_named.npz")
    for name in ("npz_named.safetensors", "safetensors_named.npz"):
        assert _same(load(str(tmp_path / name)), obj)


def test_without_safetensors_npz_is_written_and_read(tmp_path, monkeypatch):
    obj = {"w": mg.randn(3), "step": 1}
    if safetensors_numpy is not None:
        save(obj, tmp_path / "written_with.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # `import safetensors` now fails
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    save(obj, tmp_path / "model.ckpt")
    assert (tmp_path / "model.ckpt").read_bytes()[:4] == b"PK\x03\x04"
    assert _same(load(tmp_path / "model.ckpt"), obj)
    with pytest.raises(ImportError, match=r"safetensors") as info:
        save(obj, tmp_path / "model.safetensors")
    assert "model.safetensors" in str(info.value)
    assert not (tmp_path / "model.safetensors").exists()
    if safetensors_numpy is not None:
        path = tmp_path / "written_with.safetensors"
        with pytest.raises(ImportError, match=r"pip install") as info:
            load(path)
        assert str(path) in str(info.value)


def test_load_to_an_explicit_device(tmp_path):
    save({"w": mg.randn(2)}, tmp_path / "ckpt")
    assert load(tmp_path / "ckpt", device="cpu")["w"].device == "cpu"
    with pytest.raises(ValueError, match="tpu"):
        load(tmp_path / "ckpt", device="tpu")


@pytest.mark.gpu
@pytest.mark.parametrize("name", FORMATS)
def test_cpu_checkpoint_loads_on_the_gpu_and_back(tmp_path, name):
    state = {"w": mg.randn(3, 2, device="cpu"), "i": mg.arange(4, device="cpu"), "step": 2}
    path = tmp_path / name
    save(state, path)
    for device, expected in [("cuda", "cuda:0"), ("cuda:0", "cuda:0"), (None, "cuda:0")]:
        loaded = load(path, device=device)
        assert loaded["w"].device == expected and loaded["i"].device == expected
        assert _same(loaded["w"].cpu(), state["w"]) and loaded["step"] == 2
    gpu_state = {"w": loaded["w"], "i": loaded["i"]}
    save(gpu_state, path)  # saved from the GPU
    back = load(path, device="cpu")
    assert back["w"].device == "cpu"
    assert _same(back["w"], state["w"]) and _same(back["i"], state["i"])


# =============================================================================================
# Refused objects
# =============================================================================================


@pytest.mark.parametrize(
    ("obj", "pattern"),
    [
        ({"a": [1, np.ones(2)]}, r"obj\['a'\]\[1\] of type ndarray \(wrap arrays"),
        ({"a": {"b": object()}}, r"obj\['a'\]\['b'\] of type object"),
        ({"s": {1, 2}}, r"obj\['s'\] of type set"),
        ({"b": b"bytes"}, r"obj\['b'\] of type bytes"),
        ({"c": 1j}, r"obj\['c'\] of type complex"),
        ({"a": {1.5: 0}}, r"obj\['a'\] has the key 1.5 of type float"),
        ({True: 0}, r"obj has the key True of type bool"),
        ({(1, 2): 0}, r"key \(1, 2\) of type tuple"),
        ({None: 0}, r"key None of type NoneType"),
    ],
    ids=[
        "ndarray",
        "object",
        "set",
        "bytes",
        "complex",
        "float-key",
        "bool-key",
        "tuple-key",
        "none-key",
    ],
)
def test_refuses_other_objects_naming_the_key_path(tmp_path, obj, pattern):
    with pytest.raises(TypeError, match=pattern):
        save(obj, tmp_path / "ckpt")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_refuses_a_structure_that_contains_itself(tmp_path):
    loop: list = [1]
    loop.append({"again": loop})
    with pytest.raises(ValueError, match=r"obj\[1\]\['again'\] contains itself"):
        save(loop, tmp_path / "ckpt")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_and_directory_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        save({}, tmp_path / "no_such_dir" / "ckpt")
    (tmp_path / "a_dir").mkdir()
    with pytest.raises(IsADirectoryError, match="a_dir"):
        save({}, tmp_path / "a_dir")
    assert [p.name for p in tmp_path.iterdir()] == ["a_dir"]


def test_long_file_name(tmp_path):
    path = tmp_path / ("x" * 250)
    assert _round_trip({"w": mg.ones(2)}, path)["w"].numpy().tolist() == [1.0, 1.0]


# =============================================================================================
# Atomic writes
# =============================================================================================


@pytest.mark.parametrize("name", FORMATS)
def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path, name, monkeypatch):
    path = tmp_path / name
    save({"epoch": 1, "w": mg.zeros(64)}, path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        if name.endswith(".npz"):  # write_array(file, array, ...)
            args[0].write(b"\x93NUMPY half an array")
        else:  # save_file(arrays, filename, metadata)
            Path(args[1]).write_bytes(b"half a safetensors file")
        raise KeyboardInterrupt  # not even an Exception escapes the cleanup

    if name.endswith(".npz"):
        monkeypatch.setattr(np.lib.format, "write_array", crash)
    else:
        monkeypatch.setattr(safetensors_numpy, "save_file", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2, "w": mg.ones(64)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind
    assert load(path)["epoch"] == 1


def test_save_replaces_an_existing_file_with_the_usual_mode(tmp_path):
    path = tmp_path / "ckpt"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would, not 0o600


# =============================================================================================
# Bad files: each names the file
# =============================================================================================


class _Payload:
    """Unpickling this creates the file ``flag``: proof that a pickle ran."""

    def __init__(self, flag: Path) -> None:
        self.flag = str(flag)

    def __reduce__(self):
        return (_touch, (self.flag,))


def _touch(flag: str) -> None:
    Path(flag).write_text("unpickled!")


def _savez(path: Path, **arrays) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a path
        np.savez(f, **arrays)


def _npz_with(path: Path, document, **arrays) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    _savez(path, __minigrad_checkpoint__=np.frombuffer(text.encode(), np.uint8), **arrays)


def _doc(root, version=1) -> dict:
    return {"format": "minigrad-checkpoint", "version": version, "root": root}


def _safetensors_with(path: Path, document: str, **arrays) -> None:
    safetensors_numpy.save_file(arrays, path, metadata={"minigrad-checkpoint": document})


BAD_FILES = {
    "empty": lambda p: p.write_bytes(b""),
    "one byte": lambda p: p.write_bytes(b"P"),
    "zip magic only": lambda p: p.write_bytes(b"PK\x03\x04"),
    "random bytes": lambda p: p.write_bytes(np.random.default_rng(0).bytes(1000)),
    "text": lambda p: p.write_text("epoch 3, loss 0.25\n" * 20),
    "json": lambda p: p.write_text(json.dumps(_doc({"dict": []}))),
    "pickle": lambda p: p.write_bytes(pickle.dumps({"w": _Payload(p.parent / "flag")})),
    "foreign npz": lambda p: _savez(p, weight=np.ones(3)),
    "empty zip": lambda p: p.write_bytes(b"PK\x05\x06" + bytes(18)),
    "npz with a pickled object array": lambda p: _npz_with(
        p,
        _doc({"tensor": "w"}),
        w=np.array([_Payload(p.parent / "flag")], dtype=object),
    ),
    "npz document not uint8": lambda p: _savez(p, __minigrad_checkpoint__=np.ones(3)),
    "npz document not json": lambda p: _npz_with(p, "{not json"),
    "npz without the marker": lambda p: _npz_with(p, {"format": "other", "root": None}),
    "npz of a newer version": lambda p: _npz_with(p, _doc(None, version=2)),
    "npz with a bad version": lambda p: _npz_with(p, _doc(None, version="1")),
    "npz without a root": lambda p: _npz_with(p, {"format": "minigrad-checkpoint", "version": 1}),
    "npz with a missing tensor": lambda p: _npz_with(p, _doc({"tensor": "w"})),
    "npz with an extra tensor": lambda p: _npz_with(p, _doc(None), w=np.ones(2)),
    "npz with a complex tensor": lambda p: _npz_with(
        p, _doc({"tensor": "w"}), w=np.ones(2, complex)
    ),
    "npz with a bad node": lambda p: _npz_with(p, _doc({"set": [1, 2]})),
    "npz with a bad dict entry": lambda p: _npz_with(p, _doc({"dict": [["a"]]})),
    "npz with a float key": lambda p: _npz_with(p, _doc({"dict": [[1.5, None]]})),
    "npz with a duplicate key": lambda p: _npz_with(p, _doc({"dict": [["a", 1], ["a", 2]]})),
    "npz with a bad int": lambda p: _npz_with(p, _doc({"int": "0xzz"})),
    "npz with a bad float": lambda p: _npz_with(p, _doc({"float": "1.5"})),
    "deeply nested": lambda p: _npz_with(
        p,
        '{"format": "minigrad-checkpoint", "version": 1, '
        '"root": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ),
}
BAD_SAFETENSORS_FILES = {
    "foreign safetensors": lambda p: safetensors_numpy.save_file({"w": np.ones(2)}, p),
    "foreign safetensors with metadata": lambda p: safetensors_numpy.save_file(
        {"w": np.ones(2)}, p, metadata={"format": "pt"}
    ),
    "safetensors document not json": lambda p: _safetensors_with(p, "[[["),
    "safetensors of a newer version": lambda p: _safetensors_with(p, json.dumps(_doc(None, 9))),
    "safetensors header too long": lambda p: p.write_bytes(
        (10**6).to_bytes(8, "little") + b'{"w": 1}'
    ),
    "safetensors header not json": lambda p: p.write_bytes((8).to_bytes(8, "little") + b"{notjson"),
}


def _bad_file_cases():
    for name, make in BAD_FILES.items():
        yield pytest.param(make, id=name)
    for name, make in BAD_SAFETENSORS_FILES.items():
        yield pytest.param(make, id=name, marks=needs_safetensors)


@pytest.mark.parametrize("make", list(_bad_file_cases()))
def test_bad_file_raises_checkpoint_error_naming_it(tmp_path, make):
    path = tmp_path / "bad.ckpt"
    make(path)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "flag").exists()  # no pickle ran


def test_the_payload_is_live():
    """The pickle tests would notice: unpickling the payload does create its flag file."""
    flag = Path(os.environ.get("TMPDIR", "/tmp")) / f"minigrad_payload_{os.getpid()}"
    try:
        pickle.loads(pickle.dumps(_Payload(flag)))
        assert flag.exists()
    finally:
        flag.unlink(missing_ok=True)


def test_a_torch_file_is_refused_without_unpickling(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2), "payload": _Payload(tmp_path / "flag")}, path)
    assert path.read_bytes()[:4] == b"PK\x03\x04"  # a zip, like an npz
    with pytest.raises(CheckpointError, match="not written by minigrad") as info:
        load(path)
    assert str(path) in str(info.value)
    assert not (tmp_path / "flag").exists()


@pytest.mark.parametrize("name", FORMATS)
def test_truncated_checkpoints(tmp_path, name):
    path = tmp_path / name
    save({"model": {"w": mg.randn(8, 8), "b": mg.zeros(8)}, "epoch": 3}, path)
    data = path.read_bytes()
    for size in (1, 4, 8, 9, 30, len(data) // 2, len(data) - 30, len(data) - 1):
        cut = tmp_path / f"cut_{size}"
        cut.write_bytes(data[:size])
        with pytest.raises(CheckpointError) as info:
            load(cut)
        assert str(cut) in str(info.value), size


def test_missing_file(tmp_path):
    path = tmp_path / "missing.ckpt"
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        load(path)


# =============================================================================================
# Integrity: checksums, compressed members, old files without checksums (issue 15, item 9)
# =============================================================================================


def _small_checkpoint():
    return {
        "model": {"w": mg.randn(3, 4), "b": mg.zeros(4, dtype="float64"), "ids": mg.arange(5)},
        "step": 7,
        "lr": 0.001,
        "name": "run",
    }


def _positions_to_change(path: Path, rng: np.random.Generator) -> list[int]:
    """Every byte of a safetensors file's tensor data, and 250 random other positions."""
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        return sorted(rng.choice(len(data), size=min(250, len(data)), replace=False).tolist())
    start = 8 + int.from_bytes(data[:8], "little")
    header = rng.choice(start, size=min(250, start), replace=False).tolist()
    return sorted(header) + list(range(start, len(data)))


@pytest.mark.parametrize("name", FORMATS)
def test_every_single_byte_change_is_refused_or_harmless(tmp_path, name):
    """Change one byte of a small checkpoint at a time: it either fails to load with a
    CheckpointError or loads with exactly the saved values (a change in padding, say)."""
    obj = _small_checkpoint()
    path = tmp_path / name
    save(obj, path)
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    changed = tmp_path / "changed"
    positions = _positions_to_change(path, rng)
    silent = []
    for position in positions:
        data = bytearray(original)
        data[position] ^= int(rng.integers(1, 256))
        changed.write_bytes(bytes(data))
        try:
            loaded = load(changed)
        except CheckpointError:
            continue
        if not _same(loaded, obj):
            silent.append(position)
    assert silent == [], f"{len(silent)} of {len(positions)} changed bytes loaded silently"


@needs_safetensors
def test_a_changed_weight_is_named(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"model": {"w": mg.ones(64), "b": mg.zeros(64)}}, path)
    data = bytearray(path.read_bytes())
    header_size = int.from_bytes(data[:8], "little")
    offsets = json.loads(data[8 : 8 + header_size])["model.w"]["data_offsets"]
    data[8 + header_size + offsets[0] + 5] ^= 0x01  # one bit of one float of model.w
    path.write_bytes(bytes(data))
    with pytest.raises(
        CheckpointError, match=r"the tensor 'model\.w' .* does not match its checksum"
    ):
        load(path)


@needs_safetensors
def test_a_changed_scalar_is_refused(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"w": mg.ones(2), "lr": 0.001}, path)
    data = path.read_bytes()
    assert data.count(b"0.001") == 1
    path.write_bytes(data.replace(b"0.001", b"0.007"))
    with pytest.raises(CheckpointError, match="structure .* does not match its checksum"):
        load(path)


def test_a_compressed_npz_member_is_refused(tmp_path):
    """A 65 kB file of zeros would expand to 64 MB: refused before any member is read."""
    path = tmp_path / "bomb.npz"
    document = json.dumps(_doc({"tensor": "w"})).encode()
    with open(path, "wb") as f:
        np.savez_compressed(
            f,
            __minigrad_checkpoint__=np.frombuffer(document, np.uint8),
            w=np.zeros(2**23, np.float64),
        )
    assert path.stat().st_size < 2**17
    with pytest.raises(CheckpointError, match=r"npz member '.*\.npy' is compressed") as info:
        load(path)
    assert str(path) in str(info.value)


def _without_checksums(path: Path) -> None:
    """Rewrite a checkpoint as minigrad wrote it before checksums (no "checksums" entry)."""
    document = _document(path)
    del document["checksums"]
    text = json.dumps(document)
    if path.read_bytes()[:4] == b"PK\x03\x04":
        with np.load(path, allow_pickle=False) as archive:
            arrays = {n: archive[n] for n in archive.files if n != "__minigrad_checkpoint__"}
        _npz_with(path, text, **arrays)
    else:
        _safetensors_with(path, text, **safetensors_numpy.load_file(path))


@pytest.mark.parametrize("name", FORMATS)
def test_checkpoints_without_checksums_still_load(tmp_path, name):
    obj = _small_checkpoint()
    path = tmp_path / name
    save(obj, path)
    _without_checksums(path)
    assert "checksums" not in _document(path)
    assert _same(load(path), obj)


@pytest.mark.parametrize(
    "checksums",
    [
        None,
        {"algorithm": "md5", "root": "", "tensors": {}},
        {"algorithm": "sha256", "root": 1, "tensors": {}},
    ],
    ids=["null", "unknown algorithm", "root not a string"],
)
def test_malformed_checksums_are_refused(tmp_path, checksums):
    path = tmp_path / "ckpt.npz"
    _npz_with(path, {**_doc({"tensor": "w"}), "checksums": checksums}, w=np.ones(2))
    with pytest.raises(CheckpointError, match="checksums entry is malformed"):
        load(path)


def test_a_tensor_without_its_checksum_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"w": mg.ones(2)}, path)
    document = _document(path)
    document["checksums"]["tensors"] = {}
    _npz_with(path, document, w=np.ones(2, np.float32))
    with pytest.raises(CheckpointError, match="'w' has no checksum"):
        load(path)


# =============================================================================================
# Temporary files of killed saves (issue 15, item 10)
# =============================================================================================

_HANGING_SAVE = """
import sys, time
import minigrad as mg
from nn import checkpoint

write = checkpoint._write_npz

def write_then_hang(path, arrays):
    write(path, arrays)
    print("written", flush=True)
    time.sleep(120)

checkpoint._write_npz = write_then_hang
checkpoint.save({"w": mg.ones(100_000)}, sys.argv[1])
"""


def _start_hanging_save(path: Path):
    """A process that writes its temporary file for ``path`` and hangs before the rename."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HANGING_SAVE, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "written"
    return proc


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "ckpt.npz"
    proc = _start_hanging_save(path)
    proc.kill()  # SIGKILL: no handler runs, the temporary stays
    proc.wait()
    (left,) = _temporaries(tmp_path)
    assert left.startswith(".ckpt.npz.") and f".{proc.pid}." in left
    assert (tmp_path / left).stat().st_size > 400_000  # the full-size temporary
    save({"w": mg.zeros(3)}, path)
    assert _temporaries(tmp_path) == []
    assert load(path)["w"].shape == (3,)


def test_a_concurrent_writers_temporary_is_left_alone(tmp_path):
    path = tmp_path / "ckpt.npz"
    proc = _start_hanging_save(path)
    try:
        live = _temporaries(tmp_path)
        save({"w": mg.zeros(3)}, path)
        assert _temporaries(tmp_path) == live and len(live) == 1
    finally:
        proc.kill()
        proc.wait()


def test_stale_temporaries_by_owner_and_age(tmp_path):
    from nn.checkpoint import STALE_TEMPORARY_SECONDS, _host_tag  # noqa: PLC0415

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid, host = int(dead.stdout), _host_tag()
    names = {
        "dead writer": f".ckpt.{host}.{dead_pid}.{'a' * 12}.tmp",
        "live writer": f".ckpt.{host}.{os.getppid()}.{'b' * 12}.tmp",
        "other host": f".ckpt.{'0' * 8 if host != '0' * 8 else '1' * 8}.{dead_pid}.{'c' * 12}.tmp",
        "old other host": f".ckpt.ffffffff.1.{'d' * 12}.tmp",
        "old style, old": f".ckpt.{'e' * 12}.tmp",
        "old style, new": f".ckpt.{'f' * 12}.tmp",
        "another checkpoint": f".ckpt2.{host}.{dead_pid}.{'a' * 12}.tmp",
        "not a temporary": f".ckpt.{host}.{dead_pid}.notatemp.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    long_ago = time.time() - STALE_TEMPORARY_SECONDS - 60
    for key in ("old other host", "old style, old"):
        os.utime(tmp_path / names[key], (long_ago, long_ago))
    save({"w": mg.ones(1)}, tmp_path / "ckpt")
    kept = {key for key, name in names.items() if (tmp_path / name).exists()}
    assert kept == {
        "live writer",
        "other host",
        "old style, new",
        "another checkpoint",
        "not a temporary",
    }
