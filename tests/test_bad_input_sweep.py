"""A sweep of bad input above the core ops: command lines, model configs, checkpoints,
state-dict loads and data-parallel training.

Each test is a failure the sweep found: a traceback or a wrong exit status from a command line,
a config accepted that could not be used, or a load that changed its target before failing.
A command line must print one line on stderr and exit with status 2 before doing any work.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from transformer.model import Transformer

ROOT = Path(__file__).resolve().parents[1]


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
