"""Decode inputs with a model trained by ``transformer.train``.

python -m transformer.translate --checkpoint runs/dates "Tuesday 25 November 2026"
python -m transformer.translate --checkpoint runs/dates --beam 4 "11/25/26" "25.11.2026"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import minigrad as mg
import nn
from minigrad import backend
from transformer.data import BOS_ID, EOS_ID, Vocab
from transformer.decoding import beam_search, greedy_decode
from transformer.model import Transformer
from transformer.train import checkpoint_path


def load_model(directory: Path, device: str) -> tuple[Transformer, Vocab, int]:
    """The model, its vocabulary and the longest target it was trained for, from ``directory``
    (or a checkpoint file)."""
    path = checkpoint_path(directory) if directory.is_dir() else directory
    if not path.exists():
        raise FileNotFoundError(
            f"no checkpoint at {path}: train one with python -m transformer.train"
        )
    state = nn.load(path, device=device)
    model = Transformer(**state["config"]).to(device)
    model.load_state_dict(state["model"])
    model.eval()
    return model, Vocab.from_dict(state["vocab"]), state["config"]["max_len"] - 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m transformer.translate", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="a training --out directory or checkpoint file",
    )
    p.add_argument("--backend", choices=("numpy", "cupy"), default=None)
    p.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    p.add_argument("inputs", nargs="+", help="source strings")
    args = p.parse_args(argv)
    if args.backend is not None:
        mg.set_backend(args.backend)
    device = backend.default_device()
    model, vocab, max_len = load_model(args.checkpoint, device)
    for text in args.inputs:
        try:
            ids = vocab.encode(text)
        except ValueError as err:
            print(f"{text!r}: {err}", file=sys.stderr)
            return 2
        src = mg.tensor([ids], device=device)
        if args.beam > 1:
            out = beam_search(model, src, args.beam, max_len, BOS_ID, EOS_ID)
        else:
            out = greedy_decode(model, src, max_len, BOS_ID, EOS_ID)
        print(vocab.decode(out.numpy()[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
