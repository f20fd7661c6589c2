"""Train the transformer on an example task, from the command line.

    python -m transformer.train --task copy --out runs/copy
    python -m transformer.train --task dates --out runs/dates --minutes 12
    python -m transformer.train --task reverse --backend cupy --out runs/reverse

Adam with the paper's warm-up then inverse-square-root schedule (section 5.3), label smoothing,
gradient clipping, greedy-decoding evaluation on (the first ``--eval-size`` pairs of) the
validation split every ``--eval-every`` steps, where ``--target-accuracy`` may stop training,
and a checkpoint in ``--out`` after each evaluation. The test split is decoded once, at the end,
by the last model, and reported in ``metrics.json``.

Running the same command again resumes from the checkpoint (model, Adam, schedule, history and
the data sampler's random state; on the CPU also dropout's, so a resumed run is bit for bit the
run that was never stopped). Model flags are then ignored in favour of the checkpoint's; another
``--task`` or ``--seed`` is an error. A run that already reached ``--target-accuracy`` stops at
once.

At the end it writes ``metrics.json``, and ``loss.png`` (training loss and validation accuracy)
and ``attention.png`` (the last decoder layer's cross-attention for one test example) when
matplotlib is installed. The checkpoint (``checkpoint.safetensors``, or ``checkpoint.npz``
without the safetensors package) is written by ``nn.save``: tensors plus a JSON document, never
a pickle. tokens/s counts target tokens per second of training, evaluation excluded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np  # host-side data only: the batches are built on the CPU

import minigrad as mg
import nn
from minigrad import backend
from transformer.cli import UsageError, load_checkpoint, run
from transformer.data import BOS_ID, EOS_ID, PAD_ID, TASK_NAMES, Task, Vocab, make_task
from transformer.decoding import greedy_decode
from transformer.model import Transformer, TransformerConfig

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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: counts positive, rates and probabilities in range."""
    p = argparse.ArgumentParser(
        prog="python -m transformer.train", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--task", choices=TASK_NAMES, required=True)
    p.add_argument("--out", type=Path, required=True, help="directory for checkpoint and plots")
    p.add_argument(
        "--backend",
        choices=("numpy", "cupy"),
        default=None,
        help="default: MINIGRAD_BACKEND or numpy",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="data and weights (default 0; resuming: the run's)"
    )
    model = p.add_argument_group("model (ignored when resuming: the checkpoint's are used)")
    model.add_argument("--d-model", type=int, default=128)
    model.add_argument("--heads", type=int, default=4)
    model.add_argument("--encoder-layers", type=int, default=2)
    model.add_argument("--decoder-layers", type=int, default=2)
    model.add_argument("--d-ff", type=int, default=512)
    model.add_argument("--dropout", type=float, default=0.1)
    model.add_argument("--norm-first", action="store_true", help="pre-norm instead of post-norm")
    model.add_argument("--tie-embeddings", action="store_true")
    train = p.add_argument_group("training")
    train.add_argument("--steps", type=int, default=3000, help="total optimizer steps")
    train.add_argument("--minutes", type=float, default=None, help="stop after this wall time")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--warmup", type=int, default=400)
    train.add_argument("--lr-factor", type=float, default=1.0, help="factor of the Noam schedule")
    train.add_argument("--label-smoothing", type=float, default=0.1)
    train.add_argument("--clip", type=float, default=1.0, help="max gradient norm (0: off)")
    train.add_argument("--eval-every", type=int, default=500)
    train.add_argument(
        "--eval-size", type=int, default=1000, help="validation examples per evaluation"
    )
    train.add_argument(
        "--target-accuracy", type=float, default=None, help="stop once validation reaches it"
    )
    train.add_argument("--log-every", type=int, default=20, help="steps between loss read-outs")
    train.add_argument("--no-plots", action="store_true")
    args = p.parse_args(argv)
    for name in ("steps", "batch_size", "eval_every", "eval_size", "log_every", "warmup"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    checks = [
        ("--minutes", args.minutes is None or args.minutes > 0, "positive"),
        ("--lr-factor", args.lr_factor > 0, "positive"),
        ("--clip", args.clip >= 0, "0 (off) or positive"),
        ("--dropout", 0 <= args.dropout < 1, "in [0, 1)"),
        ("--label-smoothing", 0 <= args.label_smoothing <= 1, "in [0, 1]"),
        (
            "--target-accuracy",
            args.target_accuracy is None or 0 < args.target_accuracy <= 1,
            "in (0, 1]",
        ),
    ]
    for flag, ok, what in checks:
        if not ok:
            p.error(f"{flag} must be {what}, got {getattr(args, flag[2:].replace('-', '_'))}")
    if args.d_model % args.heads:
        p.error(f"--d-model {args.d_model} is not divisible by --heads {args.heads}")
    return args


def build_model(config: dict[str, Any], device: str) -> Transformer:
    """A Transformer from a config dict (``asdict(model.config)``) on ``device``."""
    return Transformer(**config).to(device)


def evaluate(
    model: Transformer,
    task: Task,
    device: str,
    size: int,
    split: str = "val",
    batch_size: int = 250,
) -> float:
    """Exact-match accuracy of greedy decoding on held-out pairs.

    Args:
        model: the model, in eval mode.
        task: supplies the pairs, batches them into (B, S) sources and scores the outputs.
        device: where the model lives.
        size: how many pairs, from the start of the split.
        split: ``"val"`` (what training looks at) or ``"test"`` (decoded once, at the end).
        batch_size: pairs decoded together.

    Returns:
        The fraction of pairs whose decoded output equals the target exactly.
    """
    pairs = task.held_out(split)[:size]
    correct = 0
    for start in range(0, len(pairs), batch_size):
        batch = task.make_batch(pairs[start : start + batch_size])
        src = mg.tensor(batch.src, device=device)
        out = greedy_decode(model, src, task.max_tgt_len + 1, BOS_ID, EOS_ID)
        correct += round(task.exact_match(out.numpy(), batch.tgt_text) * len(batch))
    return correct / len(pairs)


def translate(model: Transformer, vocab: Vocab, text: str, max_len: int, device: str) -> str:
    """Greedy-decode one source string (a (1, S) batch) into at most ``max_len`` tokens."""
    src = mg.tensor([vocab.encode(text)], device=device)
    return vocab.decode(greedy_decode(model, src, max_len, BOS_ID, EOS_ID).numpy()[0])


def _random_state(device: str) -> dict[str, Any]:
    return backend.generator(device).bit_generator.state if device == "cpu" else {}


def main(argv: list[str] | None = None) -> int:
    """Train (or resume) as the command line says; returns the exit status (0)."""
    args = parse_args(argv)
    if args.backend is not None:
        mg.set_backend(args.backend)
    device = backend.default_device()
    ckpt_path = checkpoint_path(args.out)
    state = None
    if ckpt_path.exists():
        state = load_checkpoint(ckpt_path, device, resume=True)  # checked: names what is wrong
        saved_task, saved_seed = state["task"]["name"], state["task"]["seed"]
        if args.task != saved_task or args.seed not in (None, saved_seed):
            raise UsageError(
                f"{args.out} holds a run of --task {saved_task} --seed {saved_seed}, "
                f"not --task {args.task} --seed {args.seed}: choose another --out to start a "
                f"new run, or the same task and seed to resume it"
            )
        args.seed = saved_seed
        task = make_task(**state["task"])
        config = state["config"]
        print(f"resuming from {ckpt_path} at step {state['step']}")
    else:
        args.seed = 0 if args.seed is None else args.seed
        task = make_task(args.task, seed=args.seed)
        config = asdict(
            TransformerConfig(
                len(task.vocab), len(task.vocab), args.d_model, args.heads, args.encoder_layers,
                args.decoder_layers, args.d_ff, args.dropout, task.max_positions + 1,
                args.norm_first, PAD_ID, args.tie_embeddings,
            )
        )  # fmt: skip
    mg.manual_seed(args.seed)  # the initial weights, then dropout
    model = build_model(config, device)
    args.out.mkdir(parents=True, exist_ok=True)
    data_rng = np.random.default_rng(args.seed)
    params = list(model.parameters())
    opt = nn.optim.Adam(params, lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = nn.optim.NoamLR(opt, config["d_model"], args.warmup, args.lr_factor)
    history: dict[str, list] = {"step": [], "loss": [], "eval_step": [], "accuracy": []}
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        history = state["history"]
        step = state["step"]
        data_rng.bit_generator.state = state["data_rng"]
        if state["dropout_rng"] and device == "cpu":
            backend.generator(device).bit_generator.state = state["dropout_rng"]
        else:  # CuPy's generator state is not saved: fresh masks, not a replay of steps 1..k
            mg.manual_seed(args.seed * 1_000_003 + step)
    print(
        f"task {task.name}: vocab {len(task.vocab)}, source <= {task.max_src_len}, target <= "
        f"{task.max_tgt_len} | model {model.num_parameters():,} parameters | backend "
        f"{mg.get_backend()} ({device})"
    )

    def save() -> None:
        nn.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "step": step,
                "config": config,
                "task": task.config,
                "vocab": task.vocab.to_dict(),
                "max_tgt_len": task.max_tgt_len,
                "history": history,
                "data_rng": data_rng.bit_generator.state,
                "dropout_rng": _random_state(device),
            },
            ckpt_path,
        )

    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        tqdm = None
    bar = tqdm(total=args.steps, initial=step, unit="step", dynamic_ncols=True) if tqdm else None
    start = time.perf_counter()
    eval_seconds = 0.0  # kept out of tokens/s
    tokens = 0
    running, summed = None, 0  # the loss summed on the device over `summed` steps
    accuracy = history["accuracy"][-1] if history["accuracy"] else None
    vocab_size = config["tgt_vocab_size"]

    def log_loss() -> None:
        """Read the interval's mean loss from the device (the one host read-out per interval)."""
        nonlocal running, summed
        mean_loss = running.item() / summed
        running, summed = None, 0
        history["step"].append(step)
        history["loss"].append(mean_loss)
        rate = tokens / max(time.perf_counter() - start - eval_seconds, 1e-9)
        info = {"loss": f"{mean_loss:.4f}", "tok/s": f"{rate:,.0f}"}
        info["lr"] = f"{sched.get_last_lr()[0]:.2e}"
        if accuracy is not None:
            info["acc"] = f"{accuracy:.3f}"
        if bar is not None:
            bar.set_postfix(info, refresh=False)
        else:
            print(f"step {step}: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)

    reached = (
        args.target_accuracy is not None
        and accuracy is not None
        and accuracy >= args.target_accuracy
    )
    if reached:
        print(f"validation exact match {accuracy:.4f} already reached --target-accuracy: done")
    model.train()
    while step < args.steps and not reached:
        batch = task.make_batch(task.sample_train(args.batch_size, data_rng))
        src = mg.tensor(batch.src, device=device)
        tgt_in = mg.tensor(batch.tgt_in, device=device)
        tgt_out = mg.tensor(batch.tgt_out, device=device)
        logits = model(src, tgt_in)  # (B, T, V)
        loss = mg.cross_entropy(
            logits.reshape(-1, vocab_size), tgt_out.reshape(-1), ignore_index=PAD_ID,
            label_smoothing=args.label_smoothing,
        )  # fmt: skip
        opt.zero_grad()
        loss.backward()
        if args.clip > 0:
            nn.utils.clip_grad_norm_(params, args.clip)
        opt.step()
        sched.step()
        step += 1
        tokens += batch.num_tgt_tokens
        running = loss.detach() if running is None else running + loss.detach()
        summed += 1
        if step % args.log_every == 0:
            log_loss()
        if bar is not None:
            bar.update(1)
        out_of_time = args.minutes is not None and time.perf_counter() - start > args.minutes * 60
        if step % args.eval_every == 0 or step == args.steps or out_of_time:
            if summed:  # a stop between read-outs: log the partial interval before saving
                log_loss()
            eval_start = time.perf_counter()
            model.eval()
            accuracy = evaluate(model, task, device, args.eval_size, "val")
            model.train()
            eval_seconds += time.perf_counter() - eval_start
            history["eval_step"].append(step)
            history["accuracy"].append(accuracy)
            save()
            message = (
                f"step {step}: validation exact match {accuracy:.4f} "
                f"({min(args.eval_size, len(task.val_pairs))} examples)"
            )
            (bar.write if bar is not None else print)(message)
            reached = args.target_accuracy is not None and accuracy >= args.target_accuracy
        if out_of_time:
            break
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - start
    model.eval()
    # The test split is decoded once, here: stopping and tuning looked only at validation.
    test_accuracy = evaluate(model, task, device, len(task.test_pairs), "test")
    print(f"step {step}: test exact match {test_accuracy:.4f} ({len(task.test_pairs)} examples)")
    metrics = {
        "task": task.name,
        "step": step,
        "seconds_this_run": round(elapsed, 1),
        "test_accuracy": test_accuracy,
        "test_size": len(task.test_pairs),
        "val_accuracy": accuracy,
        "val_size": min(args.eval_size, len(task.val_pairs)),
        "backend": mg.get_backend(),
        "parameters": model.num_parameters(),
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for src_text, tgt_text in task.test_pairs[:3]:
        guess = translate(model, task.vocab, src_text, task.max_tgt_len + 1, device)
        print(f"  {src_text!r} -> {guess!r} (target {tgt_text!r})")
    if not args.no_plots:
        plot(args.out, history, model, task, device)
    print(json.dumps(metrics))
    return 0


def plot(out: Path, history: dict[str, list], model: Transformer, task: Task, device: str) -> None:
    """loss.png (loss and accuracy by step) and attention.png (cross-attention of one example)."""
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed: no plots (pip install -e '.[examples]')")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(history["step"], history["loss"], label="training loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (label-smoothed cross-entropy)")
    ax.set_yscale("log")
    if history["accuracy"]:
        acc_ax = ax.twinx()
        acc_ax.plot(
            history["eval_step"],
            history["accuracy"],
            "o-",
            color="tab:green",
            label="validation exact match",
        )
        acc_ax.set_ylabel("validation exact match")
        acc_ax.set_ylim(0, 1.02)
    ax.set_title(f"{task.name}: training")
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=120)
    plt.close(fig)

    src_text, _ = task.test_pairs[0]
    src = mg.tensor([task.vocab.encode(src_text)], device=device)
    out_ids = greedy_decode(model, src, task.max_tgt_len + 1, BOS_ID, EOS_ID)
    attn = model.decoder.layers[-1].cross_attn
    attn.record_weights = True
    try:
        with mg.no_grad():
            model.decode(out_ids, model.encode(src), src == PAD_ID)
    finally:
        attn.record_weights = False
    weights = attn.last_weights.numpy()[0]  # (T, S)
    tgt_tokens = ["<bos>"] + list(task.vocab.decode(out_ids.numpy()[0]))
    weights = weights[: len(tgt_tokens)]
    fig, ax = plt.subplots(
        figsize=(max(4, 0.35 * len(src_text) + 2), max(3, 0.35 * len(tgt_tokens) + 1.5))
    )
    ax.imshow(weights, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(src_text)), list(src_text))
    ax.set_yticks(range(len(tgt_tokens)), tgt_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("output (decoder input)")
    ax.set_title("cross-attention, last decoder layer (mean over heads)")
    fig.tight_layout()
    fig.savefig(out / "attention.png", dpi=120)
    plt.close(fig)
    print(f"wrote {out / 'loss.png'} and {out / 'attention.png'}")


if __name__ == "__main__":
    sys.exit(run(main, "python -m transformer.train"))
