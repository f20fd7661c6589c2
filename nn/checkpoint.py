"""Safe checkpoints: ``save`` and ``load`` state dicts and training state without pickle.

    >>> nn.save({"model": model.state_dict(), "optim": optim.state_dict(), "epoch": 3}, "ckpt")
    >>> state = nn.load("ckpt", device="cuda")

What can be saved: nested dicts (keys ``str`` or ``int``; the key type survives the round trip),
lists, tuples (they come back as tuples), ``int`` (any size), ``float`` (``inf`` and ``-0.0``
included; a ``nan`` comes back as Python's standard ``nan``), ``bool``, ``str``, ``None`` and
``minigrad.Tensor`` leaves (bool, int8-64, uint8-64, float16/32/64, any shape including 0-d and
empty), whose values come back bit for bit. NumPy scalars are stored as the Python number they
equal. Anything else raises ``TypeError`` naming its key path, before the file
is touched. Tensors that share one array (the same tensor twice, or tied weights in a module's
state dict) are stored once and load as one tensor in every place they appeared; views of an
array are stored as copies. Dict subclasses come back as ``dict``, tuple subclasses
(named tuples) as ``tuple``. Tensors load with ``requires_grad=False`` on the device asked for.

The file format (version 1). Nothing is ever pickled or unpickled:

- The tensors, copied to the host, are stored in the **safetensors** format when the
  ``safetensors`` package is installed (``pip install 'minigrad[checkpoints]'``), otherwise in a
  NumPy **npz** archive (an uncompressed zip of ``.npy`` files, read with
  ``allow_pickle=False``). A path ending in ``.npz`` is always written as npz and one ending in
  ``.safetensors`` always as safetensors; the file is written exactly at the path given (no
  extension is added). ``load`` tells the two apart from the file's first bytes, never its name.
- Everything else (the nesting, the keys, the scalars) is one JSON document,
  ``{"format": "minigrad-checkpoint", "version": 1, "checksums": CHECKSUMS, "root": NODE}``,
  stored in the safetensors header's ``__metadata__`` under the key ``"minigrad-checkpoint"``
  (which other safetensors readers ignore), or in the npz as the member
  ``__minigrad_checkpoint__`` (its UTF-8 bytes as a 1-d uint8 array).
- CHECKSUMS is ``{"algorithm": "sha256", "root": HEX, "tensors": {"<name>": HEX, ...}}``: the
  SHA-256 of the root NODE written compactly (``json.dumps(root, separators=(",", ":"))``), and
  of each tensor's dtype name and shape (``json.dumps([dtype, shape])``) followed by its
  little-endian C-order bytes. ``load`` checks them all and refuses a file whose tensors or
  structure changed after it was written, naming what changed (safetensors has no checksum of
  its own: without these, a flipped byte in a weight loads silently). Files written before
  checksums existed (no ``"checksums"`` entry) still load, unchecked.
- A NODE is ``null``, ``true``/``false``, a string, an integer (``{"int": "<hex>"}`` beyond
  +-2**53, so that any JSON reader keeps it exact), a finite float (``{"float": "nan"}``,
  ``"inf"`` or ``"-inf"`` otherwise), a list as a JSON array, ``{"tuple": [NODE, ...]}``,
  ``{"dict": [[KEY, NODE], ...]}`` (pairs in order; a KEY is a string or an integer node), or
  ``{"tensor": "<name>"}`` naming a stored tensor.
- A tensor's name is its key path joined by dots (a module's ``"layers.0.weight"``,
  an optimizer's ``"optim.state.0.exp_avg"``), made unique with a ``#2``, ``#3`` suffix where
  paths collide, so other safetensors or NumPy tools read the weights under familiar names.

Files are written atomically: to a temporary file ``.NAME.<host>.<pid>.<random>.tmp`` in the same
directory (``<host>``: 8 hex digits of a hash of the host name; ``<pid>``: the writer's process
id), flushed to disk, then renamed over ``path``, so a crash mid-save leaves the previous
checkpoint (or nothing) at ``path``, never half of one. An error or Ctrl-C removes the temporary
file. A killed process (``kill -9``, out of memory, power loss) cannot, so each ``save`` first
removes the stale temporaries of the same ``path``: those whose writer was a process of this
host that no longer runs, and any not modified for an hour (a writer on another host sharing
the directory, or a reused process id). A concurrent writer's live temporary is left alone.

``load`` reads npz members only when they are stored uncompressed (as ``save`` writes them): a
compressed member could expand to far more memory than the file's size.

Owns: ``save``, ``load`` and the checkpoint formats. May import: minigrad's public API.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import socket
import time
import zipfile
from collections.abc import Callable
from types import ModuleType
from typing import Any

# Checkpoints live on the host: NumPy is imported here for file I/O of host copies only; device
# arrays come and go through minigrad.backend (to_host, to_device).
import numpy

from minigrad import backend
from minigrad.tensor import Tensor

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "CheckpointError", "load", "save"]

FORMAT_NAME = "minigrad-checkpoint"
FORMAT_VERSION = 1
#: Key of the JSON document in the safetensors header's ``__metadata__``.
SAFETENSORS_METADATA_KEY = "minigrad-checkpoint"
#: Name of the npz member that holds the JSON document.
NPZ_DOCUMENT_NAME = "__minigrad_checkpoint__"

_RESERVED_NAMES = frozenset({"__metadata__", NPZ_DOCUMENT_NAME})  # never used for a tensor
_DTYPES = frozenset(
    numpy.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    )
)
_MAX_EXACT_INT = 2**53  # beyond this many JSON readers (JavaScript's among them) round integers
_NPZ_MAGIC = b"PK\x03\x04"
_CHECKSUM_ALGORITHM = "sha256"
#: A temporary file whose writer is gone, or untouched for this long, is removed by ``save``.
STALE_TEMPORARY_SECONDS = 3600.0
_INSTALL_HINT = "pip install 'minigrad[checkpoints]' (the safetensors package)"


class CheckpointError(ValueError):
    """A file that is not a readable minigrad checkpoint: empty, truncated, foreign or damaged."""


# ---------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (a state dict or a nested training checkpoint) to ``path``, atomically.

    The format is safetensors when the ``safetensors`` package is installed and npz otherwise;
    a path ending in ``.npz`` always gets npz and one ending in ``.safetensors`` always
    safetensors. The file is written exactly at ``path``. See the module docstring for the format.

    Args:
        obj: nested dicts (str or int keys), lists, tuples, int, float, bool, str, None and
            ``minigrad.Tensor`` leaves of any shape (GPU tensors are copied to the host).
        path: where to write; an existing file there is replaced (a symbolic link there is
            replaced by the file, not followed).

    Raises:
        TypeError: ``obj`` holds something else (the message names its key path and type), or a
            dict key that is not str or int.
        ValueError: ``obj`` contains itself.
        FileNotFoundError: the directory of ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        ImportError: ``path`` ends in ``.safetensors`` and safetensors is not installed.
    """
    path = os.fspath(path)
    encoder = _Encoder()
    root = encoder.encode(obj, ())
    checksums = {
        "algorithm": _CHECKSUM_ALGORITHM,
        "root": _root_digest(root),
        "tensors": {name: _tensor_digest(array) for name, array in encoder.arrays.items()},
    }
    document = json.dumps(
        {"format": FORMAT_NAME, "version": FORMAT_VERSION, "checksums": checksums, "root": root},
        allow_nan=False,  # never bare NaN: non-finite floats are tagged nodes
        separators=(",", ":"),
    )
    suffix = os.path.splitext(path)[1].lower()
    safetensors = None if suffix == ".npz" else _safetensors()
    if safetensors is None and suffix == ".safetensors":
        raise ImportError(f"save: cannot write {path!r} as safetensors: {_INSTALL_HINT}")
    if safetensors is None:
        members = {
            NPZ_DOCUMENT_NAME: numpy.frombuffer(document.encode("utf-8"), dtype=numpy.uint8),
            **encoder.arrays,
        }
        _write_atomically(path, lambda tmp: _write_npz(tmp, members))
    else:
        metadata = {SAFETENSORS_METADATA_KEY: document}
        _write_atomically(
            path, lambda tmp: safetensors.numpy.save_file(encoder.arrays, tmp, metadata)
        )


class _Encoder:
    """Turns a checkpoint into its JSON NODE tree, collecting the tensors' host arrays by name."""

    def __init__(self) -> None:
        self.arrays: dict[str, numpy.ndarray] = {}
        self._name_of: dict[int, str] = {}  # id(tensor.array) -> name: one copy per array
        self._open: set[int] = set()  # ids of the containers on the current path (cycle check)

    def encode(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return _encode_int(int(value))
        if isinstance(value, float):
            return _encode_float(float(value))
        if isinstance(value, numpy.generic) and value.dtype.kind in "biuf":
            return self.encode(value.item(), path)  # a NumPy scalar: the Python number it equals
        if isinstance(value, Tensor):
            return {"tensor": self._add_tensor(value, path)}
        if isinstance(value, (dict, list, tuple)):
            if id(value) in self._open:
                raise ValueError(f"save: {_where(path)} contains itself")
            self._open.add(id(value))
            try:
                if isinstance(value, dict):
                    return {"dict": [self._encode_item(k, v, path) for k, v in value.items()]}
                items = [self.encode(item, (*path, i)) for i, item in enumerate(value)]
                return {"tuple": items} if isinstance(value, tuple) else items
            finally:
                self._open.discard(id(value))
        hint = " (wrap arrays with minigrad.tensor)" if hasattr(value, "__array__") else ""
        raise TypeError(
            f"save: cannot store {_where(path)} of type {type(value).__qualname__}{hint}; a "
            "checkpoint holds dicts (str or int keys), lists, tuples, int, float, bool, str, "
            "None and minigrad Tensors"
        )

    def _encode_item(self, key: Any, value: Any, path: tuple[str | int, ...]) -> list[Any]:
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(
                f"save: {_where(path)} has the key {key!r} of type {type(key).__qualname__}; "
                "checkpoint dict keys must be str or int"
            )
        encoded_key = key if isinstance(key, str) else _encode_int(int(key))
        return [encoded_key, self.encode(value, (*path, key))]

    def _add_tensor(self, tensor: Tensor, path: tuple[str | int, ...]) -> str:
        # Tensors sharing one array (the same tensor twice, or a module's tied weights, which
        # state_dict gives as two detached tensors over one array) are stored once.
        name = self._name_of.get(id(tensor.array))
        if name is not None:
            return name
        array = backend.to_host(tensor.array)
        dtype = numpy.dtype(array.dtype.name)  # drops a non-native byte order
        if dtype not in _DTYPES:
            raise TypeError(f"save: {_where(path)} is a tensor of unsupported dtype {array.dtype}")
        # Little-endian and C-contiguous, as safetensors requires (a copy only when needed).
        array = numpy.asarray(array, dtype=dtype.newbyteorder("<"), order="C")  # keeps 0-d
        base = ".".join(str(key) for key in path) or "tensor"
        # Zip member names stop at a NUL byte; keep every name printable.
        base = "".join(c if c.isprintable() else "_" for c in base)
        name, count = base, 1
        while name in self.arrays or name in _RESERVED_NAMES:
            count += 1
            name = f"{base}#{count}"
        self.arrays[name] = array
        self._name_of[id(tensor.array)] = name
        return name


def _encode_int(value: int) -> Any:
    if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
        return value
    return {"int": hex(value)}  # hex: exact, and free of Python's limit on decimal digits


def _encode_float(value: float) -> Any:
    if math.isfinite(value):
        return value  # json writes repr(value), which reads back to the same float (-0.0 too)
    return {"float": repr(value)}  # "nan", "inf" or "-inf"


def _where(path: tuple[str | int, ...]) -> str:
    """A key path as Python would index it: ``obj['state'][0]['exp_avg']``."""
    return "obj" + "".join(f"[{key!r}]" for key in path)


def _root_digest(root: Any) -> str:
    """SHA-256 of the root NODE written compactly (what ``json.dumps`` gives back after
    ``json.loads``, so the reader recomputes it from the parsed document)."""
    text = json.dumps(root, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _tensor_digest(array: numpy.ndarray) -> str:
    """SHA-256 of ``[dtype, shape]`` then the little-endian C-order bytes: a changed value,
    dtype or shape changes it."""
    dtype = numpy.dtype(array.dtype.name)
    array = numpy.asarray(array, dtype=dtype.newbyteorder("<"), order="C")
    digest = hashlib.sha256(json.dumps([dtype.name, list(array.shape)]).encode("ascii"))
    digest.update(array)  # the buffer itself: no copy of a large tensor
    return digest.hexdigest()


def _write_npz(path: str, arrays: dict[str, numpy.ndarray]) -> None:
    """What ``numpy.savez`` writes, without its keyword names colliding with ours or pickling."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, array, allow_pickle=False)


def _write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` on a new file beside ``path``, sync it, then rename it to ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory of {path!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path!r} is a directory")
    _remove_stale_temporaries(path)
    # The name is cut so that the temporary name stays within the usual 255-byte limit.
    tmp = os.path.join(
        directory,
        f".{os.path.basename(path)[:200]}.{_host_tag()}.{os.getpid()}.{secrets.token_hex(6)}.tmp",
    )
    # Created with 0o666 (not tempfile's 0o600), so the umask gives the mode open() would give.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        mode = os.fstat(fd).st_mode & 0o777
    finally:
        os.close(fd)
    try:
        write(tmp)
        # safetensors >= 0.8 writes through a 0o600 file of its own that replaces ours.
        os.chmod(tmp, mode)
        with open(tmp, "r+b") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX; best effort)
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _host_tag() -> str:
    """8 hex digits naming this host in temporary file names (a process id means something
    only on the host that issued it)."""
    return hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]


def _remove_stale_temporaries(path: str) -> None:
    """Remove the temporaries a killed ``save`` of ``path`` left behind (module docstring).

    ``.NAME.<host>.<pid>.<random>.tmp`` is stale when ``<host>`` is this host and process
    ``<pid>`` has ended, or when it was not modified for ``STALE_TEMPORARY_SECONDS``; a
    ``.NAME.<random>.tmp`` of an older minigrad only by its age. Best effort: a temporary that
    cannot be inspected or removed is left where it is.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(
        re.escape(f".{os.path.basename(path)[:200]}.")
        + r"(?:(?P<host>[0-9a-f]{8})\.(?P<pid>[0-9]+)\.)?[0-9a-f]{12}\.tmp"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return
    host, now = _host_tag(), time.time()
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(directory, name)
        try:
            old = now - os.lstat(full).st_mtime > STALE_TEMPORARY_SECONDS
            dead = match["host"] == host and not _process_running(int(match["pid"]))
            if old or dead:
                os.unlink(full)
        except (OSError, ValueError):
            continue


def _process_running(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as running)."""
    if pid == os.getpid() or os.name != "posix":  # Windows' os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


# ---------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------


def load(path: str | os.PathLike[str], device: Any = None) -> Any:
    """Read a checkpoint written by ``save``; its tensors go to ``device``.

    The format (safetensors or npz) is detected from the file's first bytes, so the file's name
    does not matter. Nothing is unpickled.

    Args:
        path: the checkpoint file.
        device: where the tensors go: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, or None for the
            current backend's default device.

    Returns:
        The saved structure, with every tensor a ``minigrad.Tensor`` (``requires_grad=False``)
        on ``device``; dict keys keep their type (str or int), tuples stay tuples.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: the file is empty, truncated, damaged, not a minigrad checkpoint, or
            not a regular file (a named pipe, a device); the message names the path.
        ImportError: the file is a safetensors checkpoint and safetensors is not installed.
        ValueError, BackendError: ``device`` is unknown or not available here.
    """
    path = os.fspath(path)
    device = backend.normalize_device(device)
    document, arrays = _read(path)
    parsed = _parse_document(document, path)
    _verify_checksums(parsed, arrays, path)
    return _build(parsed["root"], arrays, device, path)


def _read(path: str) -> tuple[str, dict[str, numpy.ndarray]]:
    """The JSON document and the arrays of the file, its format told by its first bytes."""
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        # a named pipe would block open() until a writer came; a device would stream forever
        raise CheckpointError(f"cannot load {path!r}: not a regular file (a pipe or a device)")
    with open(path, "rb") as f:
        head = f.read(9)
        size = os.fstat(f.fileno()).st_size
    if not head:
        raise CheckpointError(f"cannot load {path!r}: the file is empty")
    if len(head) < 9:
        raise CheckpointError(
            f"cannot load {path!r}: too short to be a checkpoint (the whole file is {head!r})"
        )
    if head.startswith(_NPZ_MAGIC):
        return _read_npz(path)
    if head[8:9] == b"{":
        header_size = int.from_bytes(head[:8], "little")
        if header_size > size - 8:
            raise CheckpointError(
                f"cannot load {path!r}: truncated or not a checkpoint (it looks like safetensors "
                f"with a {header_size}-byte header, but the file has {size} bytes)"
            )
        return _read_safetensors(path)
    # Pickle protocols 2-5 start with PROTO (0x80) and the protocol number.
    kind = (
        "a Python pickle, which minigrad never loads"
        if head[0] == 0x80 and 2 <= head[1] <= 5
        else "neither safetensors nor npz"
    )
    raise CheckpointError(
        f"cannot load {path!r}: not a minigrad checkpoint ({kind}; the file starts with {head!r})"
    )


def _verify_checksums(parsed: dict[str, Any], arrays: dict[str, numpy.ndarray], path: str) -> None:
    """Check the structure and every tensor against the document's checksums, if it has them
    (files written before checksums existed load unchecked)."""
    if "checksums" not in parsed:
        return
    checksums = parsed["checksums"]
    damaged = f"cannot load {path!r}: damaged checkpoint:"
    if not (
        isinstance(checksums, dict)
        and checksums.get("algorithm") == _CHECKSUM_ALGORITHM
        and isinstance(checksums.get("root"), str)
        and isinstance(checksums.get("tensors"), dict)
    ):
        raise CheckpointError(f"{damaged} its checksums entry is malformed: {checksums!r:.120}")
    try:
        root_digest = _root_digest(parsed["root"])
    except (ValueError, RecursionError):
        root_digest = None
    if root_digest != checksums["root"]:
        raise CheckpointError(
            f"{damaged} its structure (keys, scalars, nesting) does not match its checksum"
        )
    expected = checksums["tensors"]
    for name, array in arrays.items():
        if name not in expected:
            raise CheckpointError(f"{damaged} the tensor {name!r} has no checksum")
        if not (isinstance(array, numpy.ndarray) and array.dtype in _DTYPES):
            continue  # _build names the bad member
        if _tensor_digest(array) != expected[name]:
            raise CheckpointError(
                f"{damaged} the tensor {name!r} (dtype {array.dtype.name}, shape "
                f"{tuple(array.shape)}) does not match its checksum: its bytes changed after it "
                "was saved"
            )
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise CheckpointError(f"{damaged} tensors missing from the file: {missing[:5]}")


def _build(root: Any, arrays: dict[str, numpy.ndarray], device: str, path: str) -> Any:
    """The saved structure from its root NODE, with the arrays as tensors on ``device``."""
    try:
        tensors = {
            name: Tensor(_checked_array(name, array), device=device)
            for name, array in arrays.items()
        }
        used: set[str] = set()
        result = _decode(root, tensors, used)
    except _MalformedError as err:
        raise CheckpointError(f"cannot load {path!r}: damaged checkpoint: {err}") from None
    except RecursionError:
        raise CheckpointError(
            f"cannot load {path!r}: damaged checkpoint: nested too deeply"
        ) from None
    unused = sorted(set(tensors) - used)
    if unused:
        raise CheckpointError(
            f"cannot load {path!r}: damaged checkpoint: it stores tensors its structure does not "
            f"mention: {unused[:5]}"
        )
    return result


class _MalformedError(Exception):
    """Raised inside load when the JSON document or the arrays do not fit the format."""


def _read_npz(path: str) -> tuple[str, dict[str, numpy.ndarray]]:
    with open(path, "rb") as f:
        try:
            with numpy.load(f, allow_pickle=False) as archive:
                _refuse_compressed(archive.zip, path)
                if NPZ_DOCUMENT_NAME not in archive.files:
                    raise CheckpointError(
                        f"cannot load {path!r}: a zip or npz file not written by minigrad.save "
                        f"(it has no {NPZ_DOCUMENT_NAME!r} member)"
                    )
                raw = archive[NPZ_DOCUMENT_NAME]
                if (
                    not (isinstance(raw, numpy.ndarray) and raw.dtype == numpy.uint8)
                    or raw.ndim != 1
                ):
                    raise CheckpointError(
                        f"cannot load {path!r}: damaged checkpoint: its {NPZ_DOCUMENT_NAME!r} "
                        "member is not a 1-d uint8 array"
                    )
                document = raw.tobytes().decode("utf-8")
                arrays = {n: archive[n] for n in archive.files if n != NPZ_DOCUMENT_NAME}
        except CheckpointError:
            raise
        except Exception as err:  # a truncated or crafted zip fails in many ways, OSError included
            raise CheckpointError(
                f"cannot load {path!r}: damaged, truncated or foreign npz file "
                f"({type(err).__name__}: {err})"
            ) from err
    return document, arrays


def _refuse_compressed(archive: zipfile.ZipFile, path: str) -> None:
    """``save`` stores npz members uncompressed; a compressed one could expand to far more
    memory than the file's size (a zip bomb), so it is refused before anything is read."""
    for info in archive.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"cannot load {path!r}: its npz member {info.filename!r} is compressed "
                f"({info.compress_size} bytes expanding to {info.file_size}); minigrad.save "
                "writes uncompressed members only, and a compressed member can expand far "
                "beyond the file's size"
            )


def _read_safetensors(path: str) -> tuple[str, dict[str, numpy.ndarray]]:
    safetensors = _safetensors()
    if safetensors is None:
        raise ImportError(f"{path!r} is in the safetensors format; to read it, {_INSTALL_HINT}")
    try:
        # One open file (a memory map) serves the header and the tensors, so a checkpoint
        # replaced by a concurrent save cannot mix the structure of one with the data of another.
        with safetensors.safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            document = metadata.get(SAFETENSORS_METADATA_KEY)
            if not isinstance(document, str):
                raise CheckpointError(
                    f"cannot load {path!r}: a safetensors file not written by minigrad.save (its "
                    f"metadata has no {SAFETENSORS_METADATA_KEY!r} entry)"
                )
            arrays = {name: f.get_tensor(name) for name in f.keys()}
    except CheckpointError:
        raise
    except Exception as err:  # SafetensorError for truncated or inconsistent files, and others
        raise CheckpointError(
            f"cannot load {path!r}: damaged or truncated safetensors file "
            f"({type(err).__name__}: {err})"
        ) from err
    return document, arrays


def _parse_document(document: str, path: str) -> dict[str, Any]:
    """The JSON document, after checking its format marker, version and root."""
    try:
        parsed = json.loads(document)
    except (ValueError, RecursionError) as err:
        raise CheckpointError(
            f"cannot load {path!r}: damaged checkpoint: its structure is not valid JSON ({err})"
        ) from None
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"cannot load {path!r}: not a minigrad checkpoint (no {FORMAT_NAME!r} format marker)"
        )
    version = parsed.get("version")
    if type(version) is not int or version < 1 or "root" not in parsed:
        raise CheckpointError(
            f"cannot load {path!r}: damaged checkpoint: bad version {version!r} or no root"
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"cannot load {path!r}: written in checkpoint format version {version} by a newer "
            f"minigrad; this one reads version {FORMAT_VERSION}"
        )
    return parsed


def _checked_array(name: str, array: Any) -> numpy.ndarray:
    if not isinstance(array, numpy.ndarray):
        raise _MalformedError(f"the member {name!r} is not an array")
    if array.dtype not in _DTYPES:
        raise _MalformedError(f"the tensor {name!r} has the unsupported dtype {array.dtype}")
    if not (array.flags.writeable and array.flags.c_contiguous):
        array = numpy.array(array, order="C")  # a writable array of our own
    return array


def _decode(node: Any, tensors: dict[str, Tensor], used: set[str]) -> Any:
    """Rebuild a value from its NODE (see the module docstring), noting the tensors used."""
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list):
        return [_decode(item, tensors, used) for item in node]
    if isinstance(node, dict) and len(node) == 1:
        ((tag, body),) = node.items()
        if tag == "dict" and isinstance(body, list):
            out: dict[str | int, Any] = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise _MalformedError(f"a dict entry is {pair!r:.80}, not a [key, value] pair")
                key = _decode_key(pair[0])
                if key in out:
                    raise _MalformedError(f"the key {key!r} appears twice in a dict")
                out[key] = _decode(pair[1], tensors, used)
            return out
        if tag == "tuple" and isinstance(body, list):
            return tuple(_decode(item, tensors, used) for item in body)
        if tag == "tensor" and isinstance(body, str):
            if body not in tensors:
                raise _MalformedError(f"the tensor {body!r} is missing from the file")
            used.add(body)
            return tensors[body]
        if tag == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "int" and isinstance(body, str):
            return _decode_hex(body)
    raise _MalformedError(f"unexpected entry {node!r:.80}")


def _decode_key(node: Any) -> str | int:
    if isinstance(node, str) or (isinstance(node, int) and not isinstance(node, bool)):
        return node
    if isinstance(node, dict) and len(node) == 1 and isinstance(node.get("int"), str):
        return _decode_hex(node["int"])
    raise _MalformedError(f"the dict key {node!r:.80} is not a string or an integer")


def _decode_hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise _MalformedError(f"{text!r:.80} is not a hexadecimal integer") from None


def _safetensors() -> ModuleType | None:
    """The safetensors package (with its numpy API loaded), or None when it is not installed."""
    try:
        import safetensors.numpy  # noqa: PLC0415  (an optional dependency, looked up per call)
    except ImportError:
        return None
    return safetensors
