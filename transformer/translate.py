"""Decode inputs with a model trained by ``transformer.train``.

python -m transformer.translate --checkpoint runs/dates "Tuesday 25 November 2026"
python -m transformer.translate --checkpoint runs/dates --beam 4 "11/25/26" "25.11.2026"
python -m transformer.translate --checkpoint runs/dates --sample --top-p 0.9 --seed 1 "11/25/26"

Owns: the decoding command line. May import: minigrad, ``nn`` and ``transformer``'s modules
but ``train`` (the checkpoint's file names live in ``transformer.checkpointing``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import minigrad as mg
from minigrad import backend
from transformer.checkpointing import CHECKPOINTS, checkpoint_path
from transformer.cli import ArgumentParser, UsageError, load_checkpoint, run
from transformer.data import BOS_ID, EOS_ID, Vocab
from transformer.decoding import beam_search, greedy_decode, sample
from transformer.model import Transformer, TransformerConfig

PROG = "python -m transformer.translate"


def load_model(directory: Path, device: str) -> tuple[Transformer, Vocab, int]:
    """A trained model from a ``transformer.train`` output directory (or a checkpoint file).

    Returns:
        The model in eval mode on ``device``, its vocabulary, and the number of tokens to decode
        at most (the longest training target + 1 for the end-of-sequence token).

    Raises:
        UsageError: no checkpoint there, or the file is not a readable training checkpoint (the
            message names the file and what is wrong with it).
    """
    path = checkpoint_path(directory) if directory.is_dir() else directory
    if not path.exists():
        where = f"{directory}/{' or '.join(CHECKPOINTS)}" if directory.is_dir() else path
        raise UsageError(
            f"no checkpoint at {where}: train one with python -m transformer.train --out DIR"
        )
    state = load_checkpoint(path, device)
    model = Transformer(TransformerConfig(**state["config"])).to(device)
    model.load_state_dict(state["model"])
    model.eval()
    decode_len = state.get("max_tgt_len", state["config"]["max_len"] - 2) + 1
    return model, Vocab.from_dict(state["vocab"]), decode_len


def main(argv: list[str] | None = None) -> int:
    """Decode each input; returns 0, or 2 after printing (one line) why it cannot."""
    return run(_translate, PROG, argv)


def _translate(argv: list[str] | None) -> int:
    p = ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="a training --out directory or checkpoint file",
    )
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None)
    p.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    p.add_argument("--sample", action="store_true", help="sample instead of greedy/beam search")
    p.add_argument("--temperature", type=float, default=None, help="> 0 (default 1)")
    p.add_argument("--top-k", type=int, default=None, help="keep the k most probable tokens")
    p.add_argument("--top-p", type=float, default=None, help="nucleus: in (0, 1]")
    p.add_argument("--seed", type=int, default=None, help="for reproducible samples")
    p.add_argument("inputs", nargs="+", help="source strings")
    args = p.parse_args(argv)
    if args.beam < 1:
        p.error(f"--beam must be 1 (greedy) or more, got {args.beam}")
    _check_sampling_flags(args)
    if args.backend is not None:
        mg.set_backend(args.backend)
    device = backend.default_device()
    model, vocab, max_len = load_model(args.checkpoint, device)
    longest = model.config.max_len
    generator = backend.new_generator(device, args.seed) if args.sample else None
    sampling = {"temperature": args.temperature or 1.0, "top_k": args.top_k, "top_p": args.top_p}
    for text in args.inputs:
        try:
            ids = vocab.encode(text)
        except ValueError as err:
            raise UsageError(f"{text!r:.60}: {err!s:.200}") from None
        if not 0 < len(ids) <= longest:
            raise UsageError(
                f"{text!r:.60}: the model reads 1 to {longest} characters, got {len(ids)}"
            )
        src = mg.tensor([ids], dtype="int64", device=device)  # (1, S)
        if args.sample:
            out = sample(model, src, max_len, BOS_ID, EOS_ID, generator=generator, **sampling)
        elif args.beam > 1:
            out = beam_search(model, src, args.beam, max_len, BOS_ID, EOS_ID)
        else:
            out = greedy_decode(model, src, max_len, BOS_ID, EOS_ID)
        print(vocab.decode(out.numpy()[0]))
    return 0


def _check_sampling_flags(args: argparse.Namespace) -> None:
    """The sampling flags, checked before the checkpoint is read (one line, status 2)."""
    given = [f for f in ("temperature", "top_k", "top_p", "seed") if getattr(args, f) is not None]
    if given and not args.sample:
        flags = ", ".join("--" + f.replace("_", "-") for f in given)
        raise UsageError(f"{flags} only apply with --sample")
    if args.sample and args.beam > 1:
        raise UsageError(f"--sample and --beam {args.beam} exclude each other")
    t, k, p = args.temperature, args.top_k, args.top_p
    if t is not None and not 0 < t < float("inf"):
        raise UsageError(
            f"--temperature must be > 0, got {t} (for temperature 0 leave out --sample)"
        )
    if k is not None and k < 1:
        raise UsageError(f"--top-k must be >= 1, got {k}")
    if p is not None and not 0 < p <= 1:
        raise UsageError(f"--top-p must be in (0, 1], got {p}")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")


if __name__ == "__main__":
    sys.exit(main())
