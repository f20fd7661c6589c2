"""What the command lines share: one-line errors, and checking a training checkpoint.

Every command line (``transformer.train``, ``transformer.translate``, ``examples/*.py``) ends
with ``sys.exit(run(main, prog))``: bad input (a flag, a file, a backend that is not there)
prints one line, ``prog: error: ...``, to stderr and exits with status 2, never a traceback.
Ctrl-C prints ``prog: interrupted`` and exits with status 130 (a training run's last checkpoint
is whole: ``nn.save`` replaces it atomically, so the same command resumes from it).

:func:`load_checkpoint` is the one place that reads a ``transformer.train`` checkpoint for a
command line: it refuses, naming the file and what is wrong, a file that is not a checkpoint, a
damaged one, an ``nn.save`` file that is not a training checkpoint, one whose config has a
field of the wrong type or out of range, or one whose parts do not fit together (a vocabulary,
task or target length its model cannot hold), before anything uses it. It only reads the file.

Owns: what the two command lines share: ``UsageError``, ``run``, ``check_config`` and
``load_checkpoint``. May import: minigrad, ``nn``, ``transformer.data`` and ``transformer.model``;
never a command line (``train``, ``translate``).
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np  # host-side random-state checks only

import minigrad as mg
import nn
from transformer.data import PAD_ID, TASK_NAMES, Vocab, make_task
from transformer.model import OPTIONS, Transformer, TransformerConfig

__all__ = ["ArgumentParser", "UsageError", "check_config", "load_checkpoint", "run"]


class UsageError(Exception):
    """Bad input to a command line: printed as one line, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse``'s parser, whose errors (an unknown flag, ``--steps x``, a missing
    ``--out``) are one line, ``prog: error: ...``, status 2, without the usage block argparse
    prints above it (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def run(main: Callable[[list[str] | None], int], prog: str, argv: list[str] | None = None) -> int:
    """``main(argv)``'s exit status; bad input (a :class:`UsageError`, an unreadable checkpoint,
    a backend that is not available, sizes too big for memory) printed as one line on stderr,
    status 2; Ctrl-C as ``prog: interrupted``, status 130."""
    try:
        return main(argv)
    except (UsageError, nn.CheckpointError, mg.BackendError) as err:
        message = " ".join(str(err).split())  # one line, whatever the message's layout
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2
    except MemoryError as err:  # a model or batch size far beyond the memory, as --d-model 1e11
        message = " ".join(str(err).split()) or "MemoryError"
        print(f"{prog}: error: out of memory: {message}; use smaller sizes", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback; checkpoints are whole files
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130  # the shell's status for SIGINT


# ---------------------------------------------------------------------------------------------
# The config
# ---------------------------------------------------------------------------------------------


def _int(value: Any, low: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer, got {value!r:.40}"
    return None if value >= low else f"must be >= {low}, got {value}"


def _field_problem(name: str, value: Any, config: dict[str, Any]) -> str | None:
    """What is wrong with one config field (None: nothing)."""
    if name in ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "d_ff", "max_len"):
        return _int(value, 1)
    if name in ("num_encoder_layers", "num_decoder_layers"):
        return _int(value, 0)
    if name == "dropout":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"must be a number, got {value!r:.40}"
        return None if 0.0 <= value < 1.0 else f"must be in [0, 1), got {value}"
    if name in ("norm_first", "tie_embeddings", "checkpoint_layers"):
        return None if isinstance(value, bool) else f"must be true or false, got {value!r:.40}"
    if name in OPTIONS:
        allowed = OPTIONS[name]
        if value in allowed:
            return None
        return f"must be {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r:.40}"
    if name == "n_kv_heads":
        return None if value is None else _int(value, 1)
    if name == "pad_id":
        problem = _int(value, 0)
        sizes = [config.get(k) for k in ("src_vocab_size", "tgt_vocab_size")]
        if problem is None and all(isinstance(s, int) for s in sizes) and value >= min(sizes):
            problem = f"must be below the vocabulary sizes {sizes}, got {value}"
        return problem
    return "is not a Transformer setting"


def check_config(config: Any, where: str) -> dict[str, Any]:
    """``config`` (a checkpoint's ``asdict(TransformerConfig)``), checked field by field.

    Raises:
        UsageError: naming ``where`` and every field of the wrong type or out of range, a
            missing field without a default, or an unknown one.
    """
    if not isinstance(config, dict):
        raise UsageError(f"{where}: its config is a {type(config).__name__}, not a dict")
    problems = [
        f"{name} {problem}"
        for name, value in config.items()
        if (problem := _field_problem(str(name), value, config)) is not None
    ]
    for field in dataclasses.fields(TransformerConfig):
        if field.name not in config and field.default is dataclasses.MISSING:
            problems.append(f"{field.name} is missing")
    if not problems:
        problems = _cross_problems(config)
    if problems:
        raise UsageError(f"{where}: bad model config: " + "; ".join(problems))
    return config


def _cross_problems(config: dict[str, Any]) -> list[str]:
    """What is wrong between fields that are each fine."""
    d_model, n_heads = config.get("d_model"), config.get("n_heads")
    if d_model % n_heads:
        return [f"d_model {d_model} is not divisible by n_heads {n_heads}"]
    problems = []
    n_kv_heads = config.get("n_kv_heads")
    if n_kv_heads is not None and n_heads % n_kv_heads:
        problems.append(f"n_heads {n_heads} is not divisible by n_kv_heads {n_kv_heads}")
    if config.get("positional") == "rope" and (d_model // n_heads) % 2:
        problems.append(
            f"positional rope needs an even head dim, got d_model {d_model} / n_heads {n_heads}"
        )
    return problems


# ---------------------------------------------------------------------------------------------
# The checkpoint
# ---------------------------------------------------------------------------------------------

#: What each use needs in a ``transformer.train`` checkpoint, and the type of each entry.
_NEEDED = {"config": dict, "model": dict, "vocab": dict}
_NEEDED_TO_RESUME = {
    **_NEEDED,
    "optimizer": dict,
    "scheduler": dict,
    "step": int,
    "task": dict,
    "history": dict,
    "data_rng": dict,
    "dropout_rng": dict,
}


def load_checkpoint(path: Path, device: str, resume: bool = False) -> dict[str, Any]:
    """Read a ``transformer.train`` checkpoint and check all that ``translate`` (or, with
    ``resume``, ``train``) will use: entries, config, weights, vocabulary, training state.

    Raises:
        UsageError: the file is not a readable training checkpoint; the message names it and
            says what is wrong. The file is only read.
    """
    where = str(path)
    try:
        state = nn.load(path, device=device)
    except nn.CheckpointError as err:
        raise UsageError(str(err)) from None
    except OSError as err:  # unreadable: permissions, a directory, gone since it was found
        raise UsageError(f"{where}: cannot read it: {err.strerror or err}") from None
    if not isinstance(state, dict):
        raise UsageError(f"{where}: not a training checkpoint (it holds a {type(state).__name__})")
    for key, kind in (_NEEDED_TO_RESUME if resume else _NEEDED).items():
        if key not in state:
            raise UsageError(
                f"{where}: not a transformer.train checkpoint (it has no {key!r} entry; it has "
                f"{sorted(map(str, state))[:8]})"
            )
        if not isinstance(state[key], kind) or isinstance(state[key], bool):
            raise UsageError(f"{where}: its {key!r} entry is a {type(state[key]).__name__}")
    check_config(state["config"], where)
    max_tgt_len = state.get("max_tgt_len", 1)
    if isinstance(max_tgt_len, bool) or not isinstance(max_tgt_len, int) or max_tgt_len < 1:
        raise UsageError(f"{where}: its max_tgt_len {max_tgt_len!r:.40} is not a positive integer")
    vocab = _try(where, "vocabulary", lambda: Vocab.from_dict(state["vocab"]))
    _check_fit(state["config"], len(vocab), max_tgt_len + 1, where)
    model = _try(where, "model config", lambda: Transformer(**state["config"]))
    _try(where, "model weights", lambda: model.load_state_dict(state["model"]))
    if resume:
        _check_training_state(state, model, where)
    return state


def _check_fit(config: dict[str, Any], vocab_size: int, positions: int, where: str) -> None:
    """The model holds what decoding (and training) feed it: every id of the vocabulary, PAD
    where the batches put it, and ``positions`` positions (decoding's max_tgt_len + 1 steps;
    the task's longest sequence)."""
    sizes = [config["src_vocab_size"], config["tgt_vocab_size"]]
    if sizes != [vocab_size] * 2 or config.get("pad_id", PAD_ID) != PAD_ID:
        raise UsageError(
            f"{where}: its vocabulary ({vocab_size} tokens, padding id {PAD_ID}) does not fit "
            f"its model (src/tgt_vocab_size {sizes}, pad_id {config.get('pad_id', PAD_ID)})"
        )
    if positions > config["max_len"]:
        raise UsageError(
            f"{where}: its model has max_len {config['max_len']} positions, fewer than the "
            f"{positions} its sequences need"
        )


def _check_training_state(state: dict[str, Any], model: Transformer, where: str) -> None:
    """What resuming loads besides the weights, tried on throwaway objects."""
    if state["step"] < 0:
        raise UsageError(f"{where}: its step {state['step']} is negative")
    task = state["task"]
    if task.get("name") not in TASK_NAMES or isinstance(task.get("seed"), bool):
        raise UsageError(f"{where}: its task {task!r:.80} is not one of {list(TASK_NAMES)}")
    made = _try(where, "task", lambda: make_task(**task))
    if made.vocab.to_dict() != state["vocab"]:
        raise UsageError(f"{where}: its vocabulary is not the one of its task {made.name!r}")
    _check_fit(state["config"], len(made.vocab), made.max_positions, where)
    opt = nn.optim.Adam(list(model.parameters()), lr=1.0)
    _try(where, "optimizer state", lambda: opt.load_state_dict(state["optimizer"]))
    sched = nn.optim.NoamLR(opt, 1, 1)
    _try(where, "scheduler state", lambda: sched.load_state_dict(state["scheduler"]))
    history = state["history"]
    keys = ("step", "loss", "eval_step", "accuracy")
    if not all(isinstance(history.get(k), list) for k in keys):
        raise UsageError(f"{where}: its history lacks one of the lists {list(keys)}")
    for key in keys:  # steps are ints; the loss and accuracy real numbers
        kind = int if "step" in key else numbers.Real
        if any(isinstance(v, bool) or not isinstance(v, kind) for v in history[key]):
            raise UsageError(
                f"{where}: its history's {key!r} holds a non-number: {history[key]!r:.80}"
            )
    generator = np.random.default_rng()
    for key in ("data_rng", "dropout_rng"):
        if key == "data_rng" or state[key]:
            _try(where, key, lambda k=key: setattr(generator.bit_generator, "state", state[k]))


def _try(where: str, what: str, action: Callable[[], Any]) -> Any:
    """``action()``, its failure on the checkpoint's data reported as one UsageError."""
    try:
        return action()
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, nn.StateDictError) as err:
        message = " ".join(str(err).split())
        raise UsageError(f"{where}: bad {what}: {message}") from None
