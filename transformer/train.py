"""Train the transformer on an example task, from the command line.

    python -m transformer.train --task copy --out runs/copy
    python -m transformer.train --task dates --out runs/dates --minutes 12
    python -m transformer.train --task reverse --backend cupy --out runs/reverse
    mpiexec -n 2 python -m transformer.train --task copy --out runs/copy --distributed

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

Data-parallel training: under ``mpiexec -n N`` (``--distributed``, or found in the launcher's
environment) every process draws the same global batch of ``--batch-size`` pairs and trains on
its own shard of it, and DistributedDataParallel averages the gradients, so the same flags
train the same model on 1 or N processes (exactly so without dropout, up to float rounding).
``--accumulate K`` splits each process's shard into K micro-batches (also on one process). The
loss is scaled so that the gradient is exactly the token-mean gradient of the global batch.
Only rank 0 prints, evaluates, writes checkpoints and plots; a checkpoint holds nothing per
process, so a run resumes on any number of processes. ``--out`` must be on a filesystem every
process sees. With the CuPy backend the gradients travel over NCCL, one GPU per process. The
other processes wait for rank 0's evaluation in a collective: keep ``MINIGRAD_DIST_TIMEOUT``
above the evaluation time. A process that raises ends the job, naming its rank and the error.

Owns: the training command line. May import: minigrad, ``nn`` and every ``transformer``
module but ``translate``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np  # host-side data only: the batches are built on the CPU

import minigrad as mg
import minigrad.distributed as dist
import nn
from minigrad import backend
from nn.parallel import DistributedDataParallel
from transformer.checkpointing import checkpoint_path
from transformer.cli import ArgumentParser, UsageError, load_checkpoint, run
from transformer.data import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    TASK_NAMES,
    Batch,
    Task,
    Vocab,
    make_task,
    shard,
)
from transformer.decoding import greedy_decode
from transformer.model import OPTIONS, Transformer, TransformerConfig


def build_parser() -> argparse.ArgumentParser:
    """The command line's flags (`parse_args` parses and checks them)."""
    p = ArgumentParser(prog="python -m transformer.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--task", choices=TASK_NAMES, required=True)
    p.add_argument("--out", type=_out_dir, required=True, help="directory for checkpoint and plots")
    p.add_argument(
        "--backend",
        choices=("numpy", "cupy"),
        default=None,
        help="default: MINIGRAD_BACKEND or numpy",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="data and weights (default 0; resuming: the run's)"
    )
    _add_model_flags(p)
    _add_training_flags(p)
    p.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over the MPI job (mpiexec -n N; on by itself when N > 1)",
    )
    return p


def _out_dir(text: str) -> Path:
    """``--out``'s directory; an empty name is refused (``Path("")`` is the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a directory, got {text!r}")
    return Path(text)


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    """The model's shape and options (a resumed run takes the checkpoint's)."""
    model = p.add_argument_group("model (ignored when resuming: the checkpoint's are used)")
    model.add_argument("--d-model", type=int, default=128)
    model.add_argument("--heads", type=int, default=4)
    model.add_argument("--encoder-layers", type=int, default=2)
    model.add_argument("--decoder-layers", type=int, default=2)
    model.add_argument("--d-ff", type=int, default=512)
    model.add_argument("--dropout", type=float, default=0.1)
    model.add_argument("--norm-first", action="store_true", help="pre-norm instead of post-norm")
    model.add_argument("--tie-embeddings", action="store_true")
    model.add_argument("--norm", choices=OPTIONS["norm"], default="layer")
    model.add_argument("--activation", choices=OPTIONS["activation"], default="relu")
    model.add_argument("--positional", choices=OPTIONS["positional"], default="sinusoidal")
    model.add_argument(
        "--n-kv-heads", type=int, default=None, help="key/value heads (default: --heads)"
    )


def _add_training_flags(p: argparse.ArgumentParser) -> None:
    """The optimizer, schedule, batches, evaluation and stopping flags."""
    train = p.add_argument_group("training")
    train.add_argument("--steps", type=int, default=3000, help="total optimizer steps")
    train.add_argument("--minutes", type=float, default=None, help="stop after this wall time")
    train.add_argument(
        "--batch-size", type=int, default=64, help="the global batch, over all processes"
    )
    train.add_argument(
        "--accumulate", type=int, default=1, help="micro-batches per step on each process"
    )
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
    train.add_argument(
        "--checkpoint-layers",
        action="store_true",
        help="recompute each layer's activations in backward (less memory, ~1 more forward)",
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: counts positive, rates and probabilities in range."""
    p = build_parser()
    args = p.parse_args(argv)
    positive = ("steps", "batch_size", "accumulate", "eval_every", "eval_size", "log_every")
    for name in (*positive, "warmup", "d_model", "heads", "d_ff"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    for name in ("encoder_layers", "decoder_layers", "seed"):
        if (getattr(args, name) or 0) < 0:
            p.error(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    checks = [
        ("--minutes", args.minutes is None or args.minutes > 0, "positive"),
        ("--lr-factor", 0 < args.lr_factor < float("inf"), "positive and finite"),
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
    if args.n_kv_heads is not None and (args.n_kv_heads <= 0 or args.heads % args.n_kv_heads):
        p.error(f"--heads {args.heads} is not divisible by --n-kv-heads {args.n_kv_heads}")
    if args.positional == "rope" and (args.d_model // args.heads) % 2:
        p.error(
            f"--positional rope needs --d-model / --heads even, got {args.d_model // args.heads}"
        )
    if args.accumulate > args.batch_size:
        p.error(f"--accumulate {args.accumulate} exceeds --batch-size {args.batch_size}")
    return args


def build_model(config: dict[str, Any], device: str) -> Transformer:
    """A Transformer from a config dict (``asdict(model.config)``) on ``device``."""
    return Transformer(TransformerConfig(**config)).to(device)


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


@dataclass
class Run:
    """One training run, handed from step to step of `main`.

    ``trainer`` is what the batches go through: ``model`` itself, or, with several processes,
    ``DistributedDataParallel(model)``. ``running`` sums this rank's step losses on the device
    over ``summed`` steps, between read-outs.
    """

    args: argparse.Namespace
    device: str
    rank: int
    world_size: int
    task: Task
    config: dict[str, Any]
    model: Transformer
    trainer: nn.Module
    opt: nn.optim.Adam
    sched: nn.optim.NoamLR
    data_rng: np.random.Generator
    history: dict[str, list] = field(
        default_factory=lambda: {"step": [], "loss": [], "eval_step": [], "accuracy": []}
    )
    step: int = 0
    accuracy: float | None = None
    tokens: int = 0  # target tokens of the global batches trained on in this run
    running: mg.Tensor | None = None
    summed: int = 0
    start: float = 0.0
    eval_seconds: float = 0.0  # kept out of tokens/s
    bar: Any = None

    @property
    def is_main(self) -> bool:
        """Rank 0 prints, evaluates, writes checkpoints and plots."""
        return self.rank == 0

    def say(self, message: str) -> None:
        if self.is_main:
            (self.bar.write if self.bar is not None else print)(message)


def main(argv: list[str] | None = None) -> int:
    """Train (or resume) as the command line says; returns the exit status (0)."""
    args = parse_args(argv)
    rank, world_size = start_processes(args)
    try:
        device = backend.default_device()
        state = read_checkpoint(args, device, verbose=rank == 0)
        run = build_run(args, device, rank, world_size, state)
        announce(run)
        train(run)
        finish(run)
    except (UsageError, nn.CheckpointError, mg.BackendError):
        raise  # bad input, the same on every rank: each exits 2 with one line (cli.run)
    except KeyboardInterrupt:
        if world_size > 1:  # perhaps this rank alone: the others would wait in a collective
            dist.abort("interrupted", code=130)
        raise  # cli.run: "PROG: interrupted", status 130
    except Exception as err:
        if world_size > 1:  # the other ranks would wait for this one in their next collective
            traceback.print_exc()
            dist.abort(err)  # "rank R: ErrorType: message", then MPI_Abort ends every rank
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


def start_processes(args: argparse.Namespace) -> tuple[int, int]:
    """Pick the backend; join the MPI job with ``--distributed`` or when launched by mpiexec.

    Returns:
        (rank, world_size); (0, 1) for a plain single-process run.
    """
    if args.backend is not None:
        mg.set_backend(args.backend)
    if not (args.distributed or dist.launched_by_mpi()):
        return 0, 1
    try:  # "nccl" when the CuPy backend is active: one GPU per rank
        dist.init_process_group()
    except dist.DistributedError as err:  # no mpi4py, a bad MINIGRAD_DIST_TIMEOUT, no NCCL
        raise UsageError(f"cannot start data-parallel training: {err}") from None
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if args.batch_size < world_size * args.accumulate:
        dist.destroy_process_group()
        raise UsageError(
            f"--batch-size {args.batch_size} (the global batch) is smaller than {world_size} "
            f"processes x --accumulate {args.accumulate}"
        )
    return rank, world_size


def read_checkpoint(args: argparse.Namespace, device: str, verbose: bool) -> dict | None:
    """The checkpoint in ``--out`` when there is one (then ``args.seed`` becomes the run's).

    Every rank reads it, so ``--out`` must be on a filesystem all ranks see.
    """
    ckpt_path = checkpoint_path(args.out)
    if not ckpt_path.exists():
        args.seed = 0 if args.seed is None else args.seed
        return None
    state = load_checkpoint(ckpt_path, device, resume=True)  # checked: names what is wrong
    saved_task, saved_seed = state["task"]["name"], state["task"]["seed"]
    if args.task != saved_task or args.seed not in (None, saved_seed):
        raise UsageError(
            f"{args.out} holds a run of --task {saved_task} --seed {saved_seed}, "
            f"not --task {args.task} --seed {args.seed}: choose another --out to start a "
            f"new run, or the same task and seed to resume it"
        )
    args.seed = saved_seed
    if verbose:
        print(f"resuming from {ckpt_path} at step {state['step']}")
    return state


def new_model_config(args: argparse.Namespace, task: Task) -> dict[str, Any]:
    """The model flags as a config dict (``asdict(TransformerConfig)``) for a new run."""
    return asdict(
        TransformerConfig(
            src_vocab_size=len(task.vocab),
            tgt_vocab_size=len(task.vocab),
            d_model=args.d_model,
            n_heads=args.heads,
            num_encoder_layers=args.encoder_layers,
            num_decoder_layers=args.decoder_layers,
            d_ff=args.d_ff,
            dropout=args.dropout,
            max_len=task.max_positions + 1,
            norm_first=args.norm_first,
            pad_id=PAD_ID,
            tie_embeddings=args.tie_embeddings,
            activation=args.activation,
            norm=args.norm,
            positional=args.positional,
            n_kv_heads=args.n_kv_heads,
        )
    )


def build_run(
    args: argparse.Namespace, device: str, rank: int, world_size: int, state: dict | None
) -> Run:
    """Task, model, Adam with the Noam schedule, restored from ``state`` when resuming, and
    wrapped in DistributedDataParallel when the process group is up."""
    if state is not None:
        task, config = make_task(**state["task"]), state["config"]
    else:
        task = make_task(args.task, seed=args.seed)
        config = new_model_config(args, task)
    # a way to train, not part of the model: the flag's, also when resuming
    config = {**config, "checkpoint_layers": args.checkpoint_layers}
    mg.manual_seed(args.seed)  # the initial weights, then dropout
    model = build_model(config, device)
    _prepare_out(args.out)
    opt = nn.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    sched = nn.optim.NoamLR(opt, config["d_model"], args.warmup, args.lr_factor)
    data_rng = np.random.default_rng(args.seed)  # the same global batches on every rank
    run = Run(args, device, rank, world_size, task, config, model, model, opt, sched, data_rng)
    if state is not None:
        restore(run, state)
    if dist.is_initialized():
        run.trainer = DistributedDataParallel(model)  # rank 0's weights on every rank
    if world_size > 1:  # each rank its own dropout masks
        mg.manual_seed(args.seed * 1_000_003 + run.step + 7_919 * (rank + 1))
    return run


def _prepare_out(out: Path) -> None:
    """Make ``--out`` and check that files can be written there: now, not at the first
    checkpoint minutes later. Every rank does (--out is shared): each fails alike, none waits.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"--out {out}: cannot create the directory: {err.strerror}") from None
    try:
        tempfile.TemporaryFile(dir=out).close()
    except OSError as err:
        raise UsageError(f"--out {out}: cannot write files there: {err.strerror}") from None


def restore(run: Run, state: dict[str, Any]) -> None:
    """Model, optimizer, schedule, history and random states from a checkpoint. Everything
    saved is global (not per rank), so a run resumes on any number of processes."""
    run.model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    run.sched.load_state_dict(state["scheduler"])
    run.history = state["history"]
    run.step = state["step"]
    run.data_rng.bit_generator.state = state["data_rng"]
    if state["dropout_rng"] and run.device == "cpu":
        backend.generator(run.device).bit_generator.state = state["dropout_rng"]
    else:  # CuPy's generator state is not saved: fresh masks, not a replay of steps 1..k
        mg.manual_seed(run.args.seed * 1_000_003 + run.step)
    accuracies = run.history["accuracy"]
    run.accuracy = accuracies[-1] if accuracies else None


def announce(run: Run) -> None:
    if run.is_main:
        task = run.task
        processes = f" | {run.world_size} processes" if run.world_size > 1 else ""
        print(
            f"task {task.name}: vocab {len(task.vocab)}, source <= {task.max_src_len}, target <= "
            f"{task.max_tgt_len} | model {run.model.num_parameters():,} parameters | backend "
            f"{mg.get_backend()} ({run.device}){processes}"
        )


def save(run: Run) -> None:
    """Write the checkpoint (rank 0; ``nn.save`` writes a temporary file, then renames it)."""
    nn.save(
        {
            "model": run.model.state_dict(),
            "optimizer": run.opt.state_dict(),
            "scheduler": run.sched.state_dict(),
            "step": run.step,
            "config": run.config,
            "task": run.task.config,
            "vocab": run.task.vocab.to_dict(),
            "max_tgt_len": run.task.max_tgt_len,
            "history": run.history,
            "data_rng": run.data_rng.bit_generator.state,
            "dropout_rng": _random_state(run.device),
        },
        checkpoint_path(run.args.out),
    )


# ---------------------------------------------------------------------------------------------
# The training loop
# ---------------------------------------------------------------------------------------------


def train(run: Run) -> None:
    """Steps until ``--steps``, ``--minutes`` or ``--target-accuracy``; evaluates and saves
    every ``--eval-every`` steps and at the end."""
    args = run.args
    run.bar = _progress_bar(run)
    run.start = time.perf_counter()
    reached = _reached(run)
    if reached:
        run.say(
            f"validation exact match {run.accuracy:.4f} already reached --target-accuracy: done"
        )
    run.trainer.train()
    try:
        while run.step < args.steps and not reached:
            train_step(run)
            if run.step % args.log_every == 0:
                log_loss(run)
            if run.bar is not None:
                run.bar.update(1)
            out_of_time = _out_of_time(run)
            if run.step % args.eval_every == 0 or run.step == args.steps or out_of_time:
                if run.summed:  # a stop between read-outs: log the partial interval first
                    log_loss(run)
                evaluate_and_save(run)
                reached = _reached(run)
            if out_of_time:
                break
    finally:  # also on Ctrl-C: the bar's last line ends before the interruption's
        if run.bar is not None:
            run.bar.close()


def train_step(run: Run) -> None:
    """One optimizer step on one global batch of ``--batch-size`` pairs.

    Every rank draws the same global batch and trains on its shard, in ``--accumulate``
    micro-batches (all but the last under ``no_sync()``). Each micro-batch's loss is its summed
    label-smoothed cross-entropy over non-PAD targets times world_size / (non-PAD targets of
    the global batch): summed over micro-batches and averaged over ranks by DDP, the gradient
    is exactly that of the global batch's token-mean loss, however the padding falls.
    """
    args, task = run.args, run.task
    pairs = task.sample_train(args.batch_size, run.data_rng)
    global_tokens = sum(len(tgt) + 1 for _, tgt in task.encode_pairs(pairs))  # + EOS each
    mine = shard(pairs, run.rank, run.world_size)
    micro_batches = [rows for rows in np.array_split(np.arange(len(mine)), args.accumulate)]
    scale = run.world_size / global_tokens
    run.opt.zero_grad()
    step_loss = None
    for i, rows in enumerate(micro_batches):
        batch = task.make_batch([mine[j] for j in rows])
        last = i == len(micro_batches) - 1
        with nullcontext() if last or run.trainer is run.model else run.trainer.no_sync():
            loss = summed_loss(run, batch) * scale
            loss.backward()
        step_loss = loss.detach() if step_loss is None else step_loss + loss.detach()
    if args.clip > 0:
        nn.utils.clip_grad_norm_(run.model.parameters(), args.clip)
    run.opt.step()
    run.sched.step()
    run.step += 1
    run.tokens += global_tokens
    run.running = step_loss if run.running is None else run.running + step_loss
    run.summed += 1


def summed_loss(run: Run, batch: Batch) -> mg.Tensor:
    """Label-smoothed cross-entropy summed over the batch's non-PAD targets (a 0-d tensor)."""
    src = mg.tensor(batch.src, device=run.device)
    tgt_in = mg.tensor(batch.tgt_in, device=run.device)
    tgt_out = mg.tensor(batch.tgt_out, device=run.device)
    logits = run.trainer(src, tgt_in)  # (B, T, V)
    vocab_size = logits.shape[-1]
    return mg.cross_entropy(
        logits.reshape(-1, vocab_size), tgt_out.reshape(-1), ignore_index=PAD_ID,
        label_smoothing=run.args.label_smoothing, reduction="sum",
    )  # fmt: skip


def log_loss(run: Run) -> None:
    """Read the interval's mean loss (over ranks too) from the device: one read per interval."""
    if run.world_size > 1:
        dist.all_reduce(run.running, op="mean")  # every rank reaches here at the same step
    mean_loss = run.running.item() / run.summed
    run.running, run.summed = None, 0
    run.history["step"].append(run.step)
    run.history["loss"].append(mean_loss)
    rate = run.tokens / max(time.perf_counter() - run.start - run.eval_seconds, 1e-9)
    info = {"loss": f"{mean_loss:.4f}", "tok/s": f"{rate:,.0f}"}
    info["lr"] = f"{run.sched.get_last_lr()[0]:.2e}"
    if run.accuracy is not None:
        info["acc"] = f"{run.accuracy:.3f}"
    if run.bar is not None:
        run.bar.set_postfix(info, refresh=False)
    elif run.is_main:
        print(f"step {run.step}: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)


def evaluate_and_save(run: Run) -> None:
    """Rank 0 decodes the validation pairs and writes the checkpoint; every rank then gets
    the accuracy, so all agree on stopping at the target."""
    eval_start = time.perf_counter()
    if run.is_main:
        run.model.eval()
        run.accuracy = evaluate(run.model, run.task, run.device, run.args.eval_size, "val")
        run.model.train()
    if run.world_size > 1:
        shared = mg.tensor([run.accuracy if run.is_main else 0.0], dtype=mg.float64)
        run.accuracy = float(dist.broadcast(shared, src=0).item())
    run.eval_seconds += time.perf_counter() - eval_start
    run.history["eval_step"].append(run.step)
    run.history["accuracy"].append(run.accuracy)
    if run.is_main:
        save(run)
    size = min(run.args.eval_size, len(run.task.val_pairs))
    run.say(f"step {run.step}: validation exact match {run.accuracy:.4f} ({size} examples)")


def _reached(run: Run) -> bool:
    target = run.args.target_accuracy
    return target is not None and run.accuracy is not None and run.accuracy >= target


def _out_of_time(run: Run) -> bool:
    """Past ``--minutes`` by rank 0's clock (shared, so every rank stops at the same step)."""
    if run.args.minutes is None:
        return False
    late = time.perf_counter() - run.start > run.args.minutes * 60
    if run.world_size > 1:
        late = bool(dist.broadcast(mg.tensor([int(late)]), src=0).item())
    return late


def _progress_bar(run: Run) -> Any:
    if not run.is_main:
        return None
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=run.args.steps, initial=run.step, unit="step", dynamic_ncols=True)


def finish(run: Run) -> None:
    """Rank 0: decode the test split once, write metrics.json, show examples, plot."""
    if not run.is_main:
        return
    args, task, model, device = run.args, run.task, run.model, run.device
    elapsed = time.perf_counter() - run.start
    model.eval()
    # The test split is decoded once, here: stopping and tuning looked only at validation.
    test_accuracy = evaluate(model, task, device, len(task.test_pairs), "test")
    print(
        f"step {run.step}: test exact match {test_accuracy:.4f} ({len(task.test_pairs)} examples)"
    )
    metrics = {
        "task": task.name,
        "step": run.step,
        "seconds_this_run": round(elapsed, 1),
        "test_accuracy": test_accuracy,
        "test_size": len(task.test_pairs),
        "val_accuracy": run.accuracy,
        "val_size": min(args.eval_size, len(task.val_pairs)),
        "backend": mg.get_backend(),
        "parameters": model.num_parameters(),
        "processes": run.world_size,
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for src_text, tgt_text in task.test_pairs[:3]:
        guess = translate(model, task.vocab, src_text, task.max_tgt_len + 1, device)
        print(f"  {src_text!r} -> {guess!r} (target {tgt_text!r})")
    if not args.no_plots:
        plot(args.out, run.history, model, task, device)
    print(json.dumps(metrics))


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
