"""Where a training run keeps its checkpoint: shared by ``transformer.train`` (which writes it)
and ``transformer.translate`` (which reads it), so that neither script imports the other.

Owns: the checkpoint file names and ``checkpoint_path``. May import: ``transformer.cli`` (its
``UsageError``).
"""

from __future__ import annotations

from pathlib import Path

from transformer.cli import UsageError

CHECKPOINTS = ("checkpoint.safetensors", "checkpoint.npz")


def checkpoint_path(directory: Path) -> Path:
    """The checkpoint file in a training directory: the one already there, else
    ``checkpoint.safetensors`` when the safetensors package is installed, else ``checkpoint.npz``.

    Raises:
        UsageError: ``directory`` is a file (an ``--out`` given a checkpoint file, say).
    """
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {directory} is a file, not a directory for the run")
    for name in CHECKPOINTS:
        if (directory / name).exists():
            return directory / name
    try:
        import safetensors  # noqa: F401, PLC0415
    except ImportError:
        return directory / CHECKPOINTS[1]
    return directory / CHECKPOINTS[0]
