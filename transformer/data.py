"""Example tasks for the encoder-decoder transformer: copy, reverse, and date normalization.

Everything here is host-side Python and NumPy, and nothing here imports the model: a task makes
(source, target) string pairs, a character-level `Vocab` turns them into token ids, and `collate`
pads a batch into int64 NumPy arrays that the training loop wraps in minigrad tensors.

Token layout, the same for every task (one vocabulary shared by source and target):

    PAD_ID = 0, BOS_ID = 1, EOS_ID = 2, then one id per character of the task's alphabet.
    src     (B, S)  the source ids, right-padded with PAD_ID; no BOS, no EOS
    tgt_in  (B, T)  [BOS] + target, right-padded with PAD_ID   (decoder input, teacher forcing)
    tgt_out (B, T)  target + [EOS], right-padded with PAD_ID   (labels: loss ignore_index=PAD_ID)
    S <= task.max_src_len and T <= task.max_tgt_len + 1.

Tasks, built by ``make_task(name, seed, **options)``:

    copy     ten symbols "0".."9", length 10, target = source: the copy task of the Annotated
             Transformer (Rush, 2018), with PAD/BOS/EOS given ids of their own.
    reverse  the same symbols, lengths 5..12 (so batches need padding), target = source reversed.
    dates    a date written by a human in one of 21 formats (`DATE_FORMATS`), in one of four
             letter cases, -> ISO "YYYY-MM-DD"; dates from 1950-01-01 to 2049-12-31. The test and
             validation days are drawn by the seed and never appear in training.

For copy and reverse the held-out sequences are likewise never sampled for training.

    >>> task = make_task("dates", seed=0)
    >>> rng = np.random.default_rng(0)
    >>> batch = next(task.train_batches(64, rng))        # Batch of int64 arrays
    >>> for batch in task.eval_batches(250):              # the 1000 held-out pairs, in order
    ...     accuracy = task.exact_match(predicted_ids, batch.tgt_text)

Data parallelism: ``task.train_batches(64, rng, rank=r, world_size=n)`` gives rank r its
disjoint shard of each global batch of 64 (every rank draws the same global batch from the same
seed); `DistributedBatchSampler` does the same for a finite dataset of indices, reshuffled each
epoch; `shard` splits any global batch.

Owns: the example tasks, vocabularies and batches. May import: minigrad's public API and NumPy
(host-side data).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BOS_ID",
    "CASE_STYLES",
    "DATE_FORMATS",
    "DATE_MAX",
    "DATE_MIN",
    "EOS_ID",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "TASK_NAMES",
    "Batch",
    "DatesTask",
    "DistributedBatchSampler",
    "SequenceTask",
    "Task",
    "Vocab",
    "batches",
    "collate",
    "eval_batches",
    "expand_two_digit_year",
    "make_task",
    "render_date",
    "shard",
    "shard_slice",
]

PAD_ID = 0
BOS_ID = 1
EOS_ID = 2
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>")  # ids 0, 1, 2

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


class Vocab:
    """A character-level vocabulary with fixed special ids.

    Ids 0, 1, 2 are ``<pad>``, ``<bos>``, ``<eos>``; character ``chars[i]`` has id ``3 + i``.

    Args:
        chars: the alphabet: single characters, no repeats, in id order.

    Raises:
        ValueError: an entry is not a single character, or a character repeats.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        chars = tuple(chars)
        bad = [ch for ch in chars if not isinstance(ch, str) or len(ch) != 1]
        if bad:
            raise ValueError(f"Vocab: entries must be single characters, got {bad!r}")
        repeated = sorted({ch for ch in chars if chars.count(ch) > 1})
        if repeated:
            raise ValueError(f"Vocab: characters repeat: {repeated!r}")
        self.chars: tuple[str, ...] = chars
        self._ids = {ch: i + len(SPECIAL_TOKENS) for i, ch in enumerate(chars)}

    def __len__(self) -> int:
        """The number of ids, specials included (the embedding and output size)."""
        return len(SPECIAL_TOKENS) + len(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, chars={''.join(self.chars)!r})"

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, one per character, without BOS or EOS.

        Raises:
            ValueError: ``text`` has characters outside the vocabulary (the message names them).
        """
        try:
            return [self._ids[ch] for ch in text]
        except KeyError:
            unknown = sorted({ch for ch in text if ch not in self._ids})
            raise ValueError(
                f"Vocab.encode: unknown character(s) {unknown!r} in {text!r}; "
                f"the vocabulary has {''.join(self.chars)!r}"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (T,): stops at the first EOS, skips PAD and BOS.

        Raises:
            ValueError: ``ids`` is not one-dimensional, or an id is outside ``[0, len(self))``.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"Vocab.decode: ids must be one-dimensional, got shape {ids.shape}")
        out = []
        for raw in ids.tolist():
            i = int(raw)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            if not 0 <= i < len(self):
                raise ValueError(f"Vocab.decode: id {i} is outside [0, {len(self)})")
            out.append(self.chars[i - len(SPECIAL_TOKENS)])
        return "".join(out)

    def decode_batch(self, ids: Sequence[Sequence[int]] | np.ndarray) -> list[str]:
        """`decode` each row of ``ids`` (B, T); rows may differ in length if given as lists."""
        return [self.decode(row) for row in ids]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data that `from_dict` turns back into an equal vocabulary."""
        return {"kind": "char", "specials": list(SPECIAL_TOKENS), "chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocab:
        """The vocabulary `to_dict` described.

        Raises:
            ValueError: ``data`` is not a character vocabulary with this module's special tokens.
        """
        if not isinstance(data, dict) or data.get("kind") != "char":
            raise ValueError(f"Vocab.from_dict: expected a dict with kind 'char', got {data!r}")
        if list(data.get("specials", ())) != list(SPECIAL_TOKENS):
            raise ValueError(
                f"Vocab.from_dict: special tokens {data.get('specials')!r} differ from "
                f"{list(SPECIAL_TOKENS)!r}"
            )
        chars = data.get("chars")
        if not isinstance(chars, str):
            raise ValueError(f"Vocab.from_dict: 'chars' must be a string, got {chars!r}")
        return cls(chars)


# --------------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One padded batch (see the module docstring for the layout).

    Attributes:
        src: (B, S) int64 source ids, PAD_ID-padded.
        tgt_in: (B, T) int64 decoder inputs, BOS first, PAD_ID-padded.
        tgt_out: (B, T) int64 labels, EOS after the target, PAD_ID-padded.
        src_text: the B source strings, when the batch was made from strings (else empty).
        tgt_text: the B target strings, when the batch was made from strings (else empty).
    """

    src: np.ndarray
    tgt_in: np.ndarray
    tgt_out: np.ndarray
    src_text: tuple[str, ...] = ()
    tgt_text: tuple[str, ...] = ()

    def __len__(self) -> int:
        return self.src.shape[0]

    @property
    def num_tgt_tokens(self) -> int:
        """Labels that count in the loss: the non-PAD entries of ``tgt_out``."""
        return int(np.count_nonzero(self.tgt_out != PAD_ID))


def collate(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    src_width: int | None = None,
    tgt_width: int | None = None,
) -> Batch:
    """Pad (source ids, target ids) pairs into one `Batch`.

    Args:
        pairs: B pairs of id sequences without specials; sources must be non-empty (an
            all-PAD source row would leave an attention row with nothing to attend to).
        src_width: S, if given; else the longest source.
        tgt_width: T, if given; else the longest target + 1 (the BOS / EOS slot).

    Returns:
        A Batch with ``src`` (B, S), ``tgt_in`` (B, T) = [BOS] + tgt and ``tgt_out`` (B, T) =
        tgt + [EOS], all int64 and padded with PAD_ID.

    Raises:
        ValueError: no pairs, an empty source, a sequence longer than the width asked for, or
            an id that is a special token (or negative) inside a sequence.
    """
    if len(pairs) == 0:
        raise ValueError("collate: no pairs to batch")
    src_lens = np.array([len(src) for src, _ in pairs], dtype=np.int64)
    tgt_lens = np.array([len(tgt) for _, tgt in pairs], dtype=np.int64)
    if src_lens.min() == 0:
        raise ValueError(f"collate: source {int(np.argmin(src_lens))} is empty")
    S = int(src_lens.max()) if src_width is None else src_width
    T = int(tgt_lens.max()) + 1 if tgt_width is None else tgt_width
    if src_lens.max() > S:
        raise ValueError(f"collate: a source of length {src_lens.max()} exceeds src_width={S}")
    if tgt_lens.max() + 1 > T:
        raise ValueError(
            f"collate: a target of length {tgt_lens.max()} (+1 for BOS/EOS) exceeds tgt_width={T}"
        )
    B = len(pairs)
    src = np.full((B, S), PAD_ID, dtype=np.int64)
    tgt_in = np.full((B, T), PAD_ID, dtype=np.int64)
    tgt_out = np.full((B, T), PAD_ID, dtype=np.int64)
    for row, (s, t) in enumerate(pairs):
        n = len(t)
        src[row, : len(s)] = s
        tgt_in[row, 0] = BOS_ID
        tgt_in[row, 1 : n + 1] = t
        tgt_out[row, :n] = t
        tgt_out[row, n] = EOS_ID
    # A special id inside a sequence would corrupt the padding masks and the loss silently.
    src_content = src[np.arange(S) < src_lens[:, None]]  # (sum of source lengths,)
    tgt_content = tgt_out[np.arange(T) < tgt_lens[:, None]]  # (sum of target lengths,)
    for name, content in (("source", src_content), ("target", tgt_content)):
        if content.size and content.min() < len(SPECIAL_TOKENS):
            raise ValueError(
                f"collate: {name} ids must be >= {len(SPECIAL_TOKENS)} (0, 1, 2 are PAD, BOS, "
                f"EOS), got {int(content.min())}"
            )
    return Batch(src, tgt_in, tgt_out)


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------

Pair = tuple[str, str]


class Task:
    """A sequence-to-sequence task: a vocabulary, a training sampler and held-out pairs.

    Subclasses set the attributes and implement `sample_train`.

    Attributes:
        name: the name `make_task` knows it by.
        config: ``make_task(**task.config)`` rebuilds this task (JSON-able: store it in a
            checkpoint with ``vocab.to_dict()``).
        vocab: the one vocabulary of sources and targets.
        max_src_len: the longest source any split can hold, in tokens (an upper bound).
        max_tgt_len: the longest target, in tokens, without BOS / EOS (an upper bound).
        test_pairs: the held-out (source, target) strings, fixed by the seed.
        val_pairs: held-out pairs disjoint from the test pairs and from training.
    """

    name: str
    config: dict[str, Any]
    vocab: Vocab
    max_src_len: int
    max_tgt_len: int
    test_pairs: list[Pair]
    val_pairs: list[Pair]

    @property
    def max_positions(self) -> int:
        """Positions the model must cover: max(S, T), T = max_tgt_len + 1 (BOS or EOS slot).

        Greedy decoding needs at most ``max_tgt_len + 1`` steps to emit the target and EOS.
        """
        return max(self.max_src_len, self.max_tgt_len + 1)

    def sample_train(self, n: int, rng: np.random.Generator | int | None = None) -> list[Pair]:
        """``n`` random training pairs, never one of the held-out pairs (or, for dates, days)."""
        raise NotImplementedError

    def encode_pairs(self, pairs: Iterable[Pair]) -> list[tuple[list[int], list[int]]]:
        """Token ids of each (source, target) pair, without specials."""
        return [(self.vocab.encode(src), self.vocab.encode(tgt)) for src, tgt in pairs]

    def make_batch(self, pairs: Sequence[Pair], *, fixed_shape: bool = False) -> Batch:
        """A `Batch` of string pairs, with the strings kept in ``src_text`` / ``tgt_text``.

        Args:
            pairs: B (source, target) strings.
            fixed_shape: pad to (B, max_src_len) and (B, max_tgt_len + 1) instead of to the
                longest sequence, so every batch has one shape.
        """
        widths = (
            {"src_width": self.max_src_len, "tgt_width": self.max_tgt_len + 1}
            if fixed_shape
            else {}
        )
        batch = collate(self.encode_pairs(pairs), **widths)
        return Batch(
            batch.src,
            batch.tgt_in,
            batch.tgt_out,
            src_text=tuple(src for src, _ in pairs),
            tgt_text=tuple(tgt for _, tgt in pairs),
        )

    def train_batches(
        self,
        batch_size: int,
        rng: np.random.Generator | int | None = None,
        *,
        fixed_shape: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[Batch]:
        """An endless stream of random training batches (reproducible with a seeded ``rng``).

        With ``world_size`` > 1, ``batch_size`` is the global batch: every rank draws the same
        global batch from the same seed and gets its own disjoint `shard` of it.
        """
        _check_positive(batch_size, "batch_size")
        rng = np.random.default_rng(rng)
        while True:
            pairs = shard(self.sample_train(batch_size, rng), rank, world_size)
            yield self.make_batch(pairs, fixed_shape=fixed_shape)

    def eval_batches(
        self, batch_size: int, split: str = "test", *, fixed_shape: bool = False
    ) -> Iterator[Batch]:
        """The held-out pairs of ``split`` ("test" or "val"), in order; the last batch may be
        smaller."""
        _check_positive(batch_size, "batch_size")
        pairs = self.held_out(split)
        for start in range(0, len(pairs), batch_size):
            yield self.make_batch(pairs[start : start + batch_size], fixed_shape=fixed_shape)

    def held_out(self, split: str) -> list[Pair]:
        """``test_pairs`` or ``val_pairs``."""
        if split == "test":
            return self.test_pairs
        if split == "val":
            return self.val_pairs
        raise ValueError(f"{self.name}: split must be 'test' or 'val', got {split!r}")

    def decode_batch(self, ids: Sequence[Sequence[int]] | np.ndarray) -> list[str]:
        """The strings of predicted ids (B, T): each row stops at EOS, PAD and BOS skipped."""
        return self.vocab.decode_batch(ids)

    def exact_match(
        self, pred_ids: Sequence[Sequence[int]] | np.ndarray, targets: Sequence[str]
    ) -> float:
        """The fraction of rows of ``pred_ids`` (B, T) that decode to exactly their target.

        Raises:
            ValueError: the row count differs from ``len(targets)``, or both are empty.
        """
        predictions = self.decode_batch(pred_ids)
        if len(predictions) != len(targets):
            raise ValueError(
                f"exact_match: {len(predictions)} predictions for {len(targets)} targets"
            )
        if not targets:
            raise ValueError("exact_match: no targets")
        return sum(p == t for p, t in zip(predictions, targets)) / len(targets)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(config={self.config}, vocab_size={len(self.vocab)}, "
            f"max_src_len={self.max_src_len}, max_tgt_len={self.max_tgt_len}, "
            f"test={len(self.test_pairs)}, val={len(self.val_pairs)})"
        )


# --------------------------------------------------------------------------------------------
# Sharding batches across ranks (data-parallel training)
# --------------------------------------------------------------------------------------------


def shard_slice(n: int, rank: int, world_size: int) -> slice:
    """Rank ``rank``'s contiguous part of ``n`` items split over ``world_size`` ranks: sizes
    differ by at most one (the first ``n % world_size`` ranks get the extra item), the parts
    are disjoint and cover all ``n``.

    Raises:
        ValueError: ``world_size`` < 1 or ``rank`` outside ``[0, world_size)``.
    """
    _check_positive(world_size, "world_size")
    if not 0 <= rank < world_size:
        raise ValueError(f"shard: rank {rank} is outside [0, {world_size})")
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


def shard(items: Sequence[Any], rank: int, world_size: int) -> list[Any]:
    """This rank's disjoint part of a global batch of ``items`` (see `shard_slice`)."""
    return list(items[shard_slice(len(items), rank, world_size)])


class DistributedBatchSampler:
    """Batches of example indices over a dataset of ``num_examples``, for data parallelism.

    Each epoch the indices are shuffled by ``seed + epoch`` (so every rank, given the same seed,
    makes the same permutation), cut into global batches of ``batch_size``, and each global
    batch is split into ``world_size`` disjoint shards (`shard_slice`); rank ``rank`` iterates
    over its shards. Call `set_epoch` before each epoch for a new order (PyTorch's
    ``DistributedSampler`` convention).

    Args:
        num_examples: the dataset's size.
        batch_size: the global batch, summed over ranks.
        rank: this process's rank.
        world_size: the number of ranks.
        seed: the shuffle seed, the same on every rank.
        shuffle: shuffle each epoch (else the indices in order).
        drop_last: drop the last, smaller global batch.

    Raises:
        ValueError: a size not positive, a rank out of range, or a global batch smaller than
            ``world_size`` (a rank would get nothing).
    """

    def __init__(
        self,
        num_examples: int,
        batch_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        shuffle: bool = True,
        drop_last: bool = False,
    ) -> None:
        _check_positive(num_examples, "num_examples")
        _check_positive(batch_size, "batch_size")
        shard_slice(batch_size, rank, world_size)  # checks rank and world_size
        if batch_size < world_size:
            raise ValueError(
                f"DistributedBatchSampler: global batch {batch_size} is smaller than world_size "
                f"{world_size}: some rank would get no examples"
            )
        last = num_examples % batch_size
        if not drop_last and 0 < last < world_size:
            raise ValueError(
                f"DistributedBatchSampler: the last global batch has {last} examples for "
                f"{world_size} ranks; pass drop_last=True"
            )
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.seed = seed
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` in the next iteration."""
        self.epoch = epoch

    def __len__(self) -> int:
        """Batches per epoch (the same on every rank)."""
        full, last = divmod(self.num_examples, self.batch_size)
        return full + (last > 0 and not self.drop_last)

    def __iter__(self) -> Iterator[np.ndarray]:
        """This rank's (shard,) int64 indices of each global batch of the epoch."""
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(self.num_examples)
        else:
            order = np.arange(self.num_examples)
        for b in range(len(self)):
            batch = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield batch[shard_slice(len(batch), self.rank, self.world_size)]


def _check_positive(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_size(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


# --- copy and reverse ---------------------------------------------------------------------

SYMBOLS = "0123456789"  # the ten symbols of the copy task, ids 3..12


class SequenceTask(Task):
    """Random strings of `SYMBOLS`; the target is the source, or the source reversed.

    Args:
        name: "copy" or "reverse" (the name decides ``reverse``).
        seed: fixes the held-out pairs.
        min_len: the shortest source.
        max_len: the longest source.
        reverse: target = reversed source (else target = source).
        test_size: held-out test pairs.
        val_size: held-out validation pairs.
    """

    def __init__(
        self,
        name: str,
        seed: int,
        *,
        min_len: int,
        max_len: int,
        reverse: bool,
        test_size: int = 1000,
        val_size: int = 1000,
    ) -> None:
        _check_positive(min_len, "min_len")
        _check_positive(max_len, "max_len")
        if min_len > max_len:
            raise ValueError(f"{name}: min_len={min_len} exceeds max_len={max_len}")
        _check_size(test_size, "test_size")
        _check_size(val_size, "val_size")
        distinct = sum(len(SYMBOLS) ** n for n in range(min_len, max_len + 1))
        if 2 * (test_size + val_size) > distinct:
            raise ValueError(
                f"{name}: lengths {min_len}..{max_len} give {distinct} distinct sources, too few "
                f"to hold out {test_size} + {val_size} and still train on at least as many"
            )
        self.name = name
        self.min_len = min_len
        self.max_len = max_len
        self.reverse = reverse
        self.vocab = Vocab(SYMBOLS)
        self.max_src_len = self.max_tgt_len = max_len

        rng = np.random.default_rng(seed)
        sources: dict[str, None] = {}  # insertion-ordered set: the same seed, the same order
        while len(sources) < test_size + val_size:
            for src in self._random_sources(test_size + val_size - len(sources), rng):
                sources[src] = None
        held_out = list(sources)
        self.test_pairs = [self._pair(src) for src in held_out[:test_size]]
        self.val_pairs = [self._pair(src) for src in held_out[test_size:]]
        self._held_out = frozenset(held_out)

    def _pair(self, src: str) -> Pair:
        return src, src[::-1] if self.reverse else src

    def _random_sources(self, n: int, rng: np.random.Generator) -> list[str]:
        lengths = rng.integers(self.min_len, self.max_len + 1, size=n)
        symbols = rng.integers(0, len(SYMBOLS), size=(n, self.max_len))
        return ["".join(SYMBOLS[k] for k in row[:length]) for row, length in zip(symbols, lengths)]

    def sample_train(self, n: int, rng: np.random.Generator | int | None = None) -> list[Pair]:
        _check_size(n, "n")
        rng = np.random.default_rng(rng)
        sources = self._random_sources(n, rng)
        for i, src in enumerate(sources):
            while src in self._held_out:  # rare: at least half of all sources are not held out
                src = self._random_sources(1, rng)[0]
            sources[i] = src
        return [self._pair(src) for src in sources]


# --- dates ----------------------------------------------------------------------------------

DATE_MIN = dt.date(1950, 1, 1)
DATE_MAX = dt.date(2049, 12, 31)
# Two-digit years: yy >= 50 -> 19yy, yy < 50 -> 20yy. DATE_MIN..DATE_MAX is exactly the century
# this rule covers, so every "yy" surface form names one date in range.
TWO_DIGIT_YEAR_PIVOT = 50

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# name -> template. Fields: weekday ("Tuesday"), wkd ("Tue"), month ("November"), mon ("Nov"),
# day ("5", no zero), dd ("05"), ordinal ("5th"), m ("1", no zero), mm ("01"), year ("2026"),
# yy ("26"). Each format fixes which number is the day and which the month: the US slash forms
# are month first, the dotted forms day first, and no day-first slash form is included, since
# "03/04/2026" would then have two readings.
DATE_FORMATS: dict[str, str] = {
    "weekday_day_month_year_comma": "{weekday}, {day} {month} {year}",  # Tuesday, 25 November 2026
    "weekday_day_month_year": "{weekday} {day} {month} {year}",  # Tuesday 25 November 2026
    "weekday_month_day_year": "{weekday}, {month} {day}, {year}",  # Tuesday, November 25, 2026
    "wkd_mon_day_year": "{wkd}, {mon} {day} {year}",  # Tue, Nov 25 2026
    "wkd_day_mon_year": "{wkd} {day} {mon} {year}",  # Tue 25 Nov 2026
    "month_day_year_comma": "{month} {day}, {year}",  # November 25, 2026
    "month_day_year": "{month} {day} {year}",  # November 25 2026
    "mon_day_year_comma": "{mon} {day}, {year}",  # Nov 25, 2026
    "day_month_year": "{day} {month} {year}",  # 25 November 2026
    "day_mon_year": "{day} {mon} {year}",  # 25 Nov 2026
    "dd_mon_year_dashes": "{dd}-{mon}-{year}",  # 25-Nov-2026
    "the_ordinal_of_month_year": "the {ordinal} of {month} {year}",  # the 25th of November 2026
    "month_ordinal_year": "{month} {ordinal}, {year}",  # November 25th, 2026
    "us_mm_dd_yy": "{mm}/{dd}/{yy}",  # 11/25/26
    "us_mm_dd_yyyy": "{mm}/{dd}/{year}",  # 11/25/2026
    "us_m_d_yyyy": "{m}/{day}/{year}",  # 1/5/2026
    "dotted_dd_mm_yyyy": "{dd}.{mm}.{year}",  # 25.11.2026
    "dotted_dd_mm_yy": "{dd}.{mm}.{yy}",  # 25.11.26
    "yyyy_mm_dd_slashes": "{year}/{mm}/{dd}",  # 2026/11/25
    "iso": "{year}-{mm}-{dd}",  # 2026-11-25
    "yyyymmdd": "{year}{mm}{dd}",  # 20261125
}
# Letter-case augmentation: "title" capitalizes each word ("The 25th Of November 2026").
CASE_STYLES = ("as_written", "lower", "upper", "title")
# Every character any format writes, in any case style, and the ISO targets.
DATE_CHARS = string.digits + " ,-./" + string.ascii_lowercase + string.ascii_uppercase

_WORD_START = re.compile(r"\b[a-z]")
_DATE_FORMAT_NAMES = tuple(DATE_FORMATS)


def expand_two_digit_year(yy: int) -> int:
    """The four-digit year of a two-digit one: 50..99 -> 1950..1999, 0..49 -> 2000..2049."""
    if not 0 <= yy <= 99:
        raise ValueError(f"expand_two_digit_year: expected 0..99, got {yy}")
    return (1900 if yy >= TWO_DIGIT_YEAR_PIVOT else 2000) + yy


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_fields(date: dt.date) -> dict[str, str]:
    weekday, month = WEEKDAYS[date.weekday()], MONTHS[date.month - 1]
    return {
        "weekday": weekday,
        "wkd": weekday[:3],
        "month": month,
        "mon": month[:3],
        "day": str(date.day),
        "dd": f"{date.day:02d}",
        "ordinal": _ordinal(date.day),
        "m": str(date.month),
        "mm": f"{date.month:02d}",
        "year": f"{date.year:04d}",
        "yy": f"{date.year % 100:02d}",
    }


def render_date(date: dt.date, fmt: str, case: str = "as_written") -> str:
    """``date`` written in the format named ``fmt`` (a key of `DATE_FORMATS`), in a case style.

    Raises:
        ValueError: an unknown format or case style, or a date outside DATE_MIN..DATE_MAX (a
            two-digit year would not read back).
    """
    if fmt not in DATE_FORMATS:
        raise ValueError(f"render_date: unknown format {fmt!r}; known: {list(DATE_FORMATS)}")
    if not DATE_MIN <= date <= DATE_MAX:
        raise ValueError(f"render_date: {date} is outside {DATE_MIN}..{DATE_MAX}")
    text = DATE_FORMATS[fmt].format(**_date_fields(date))
    if case == "as_written":
        return text
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case == "title":
        return _WORD_START.sub(lambda m: m.group(0).upper(), text.lower())
    raise ValueError(f"render_date: unknown case style {case!r}; known: {list(CASE_STYLES)}")


def _longest_date_text() -> int:
    # Every field has a fixed width but weekday and month names; take the longest of each.
    fields = _date_fields(dt.date(2022, 9, 28))  # a Wednesday in September, two-digit day
    return max(len(template.format(**fields)) for template in DATE_FORMATS.values())


class DatesTask(Task):
    """Human-written dates -> ISO "YYYY-MM-DD", with held-out test and validation days.

    The seed shuffles the days of DATE_MIN..DATE_MAX: the first ``test_size`` are the test
    days, the next ``val_size`` the validation days, the rest the training days. Each held-out
    day gives one pair; the held-out formats go round-robin through `DATE_FORMATS` (so each is
    about equally common), with a random case style. Training draws a day, a format and a case
    style uniformly and independently.

    Args:
        seed: fixes the split and the held-out pairs.
        test_size: test days (= test pairs).
        val_size: validation days (= validation pairs).
    """

    def __init__(self, seed: int, *, test_size: int = 1000, val_size: int = 1000) -> None:
        _check_size(test_size, "test_size")
        _check_size(val_size, "val_size")
        first, n_days = DATE_MIN.toordinal(), (DATE_MAX - DATE_MIN).days + 1
        if 2 * (test_size + val_size) > n_days:
            raise ValueError(
                f"dates: {n_days} days are too few to hold out {test_size} + {val_size} and "
                f"still train on at least as many"
            )
        self.name = "dates"
        self.vocab = Vocab(DATE_CHARS)
        self.max_src_len = _longest_date_text()
        self.max_tgt_len = len("YYYY-MM-DD")

        rng = np.random.default_rng(seed)
        days = first + rng.permutation(n_days)  # proleptic Gregorian ordinals
        test_days, val_days = days[:test_size], days[test_size : test_size + val_size]
        self._train_days = np.sort(days[test_size + val_size :])
        self._held_out_days = {"test": np.sort(test_days), "val": np.sort(val_days)}
        self.test_formats = self._held_out_formats(test_size, rng)
        self.val_formats = self._held_out_formats(val_size, rng)
        self.test_pairs = self._pairs(test_days, self.test_formats)
        self.val_pairs = self._pairs(val_days, self.val_formats)

    @staticmethod
    def _held_out_formats(n: int, rng: np.random.Generator) -> list[tuple[str, str]]:
        cases = rng.integers(0, len(CASE_STYLES), size=n)
        names = _DATE_FORMAT_NAMES
        return [(names[i % len(names)], CASE_STYLES[c]) for i, c in enumerate(cases)]

    @staticmethod
    def _pairs(ordinals: np.ndarray, formats: Sequence[tuple[str, str]]) -> list[Pair]:
        pairs = []
        for ordinal, (fmt, case) in zip(ordinals.tolist(), formats):
            date = dt.date.fromordinal(ordinal)
            pairs.append((render_date(date, fmt, case), date.isoformat()))
        return pairs

    def split_dates(self, split: str) -> frozenset[dt.date]:
        """The calendar days of ``split``: "train", "val" or "test" (disjoint sets)."""
        if split == "train":
            ordinals = self._train_days
        elif split in self._held_out_days:
            ordinals = self._held_out_days[split]
        else:
            raise ValueError(f"dates: split must be 'train', 'val' or 'test', got {split!r}")
        return frozenset(map(dt.date.fromordinal, ordinals.tolist()))

    def sample_train(self, n: int, rng: np.random.Generator | int | None = None) -> list[Pair]:
        _check_size(n, "n")
        rng = np.random.default_rng(rng)
        days = self._train_days[rng.integers(0, len(self._train_days), size=n)]
        fmts = rng.integers(0, len(_DATE_FORMAT_NAMES), size=n)
        cases = rng.integers(0, len(CASE_STYLES), size=n)
        formats = [(_DATE_FORMAT_NAMES[f], CASE_STYLES[c]) for f, c in zip(fmts, cases)]
        return self._pairs(days, formats)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

TASK_NAMES = ("copy", "reverse", "dates")


def make_task(name: str, seed: int = 0, **options: Any) -> Task:
    """Build the task ``name`` with its held-out pairs fixed by ``seed``.

    Args:
        name: "copy", "reverse" or "dates".
        seed: the same seed gives the same held-out pairs (and, for dates, the same split).
        **options: copy: ``length`` (10); reverse: ``min_len`` (5), ``max_len`` (12); all:
            ``test_size`` (1000), ``val_size`` (1000).

    Returns:
        The task; ``task.config`` holds ``name``, ``seed`` and the options, all JSON-able.

    Raises:
        ValueError: an unknown name or option, or sizes the task cannot hold out.
    """
    allowed = {
        "copy": {"length", "test_size", "val_size"},
        "reverse": {"min_len", "max_len", "test_size", "val_size"},
        "dates": {"test_size", "val_size"},
    }
    if name not in allowed:
        raise ValueError(f"make_task: unknown task {name!r}; known: {list(TASK_NAMES)}")
    unknown = sorted(set(options) - allowed[name])
    if unknown:
        raise ValueError(
            f"make_task: {name!r} takes options {sorted(allowed[name])}, got {unknown}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"make_task: seed must be an int, got {seed!r}")
    seed = int(seed)  # a NumPy integer would not survive json.dumps(task.config)
    sizes = {k: options[k] for k in ("test_size", "val_size") if k in options}
    task: Task
    if name == "copy":
        length = options.get("length", 10)
        task = SequenceTask("copy", seed, min_len=length, max_len=length, reverse=False, **sizes)
    elif name == "reverse":
        task = SequenceTask(
            "reverse",
            seed,
            min_len=options.get("min_len", 5),
            max_len=options.get("max_len", 12),
            reverse=True,
            **sizes,
        )
    else:
        task = DatesTask(seed, **sizes)
    task.config = {"name": name, "seed": seed, **options}
    return task


def batches(
    task: Task,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    *,
    fixed_shape: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[Batch]:
    """An endless stream of random training batches of ``task``: `Task.train_batches`."""
    return task.train_batches(
        batch_size, rng, fixed_shape=fixed_shape, rank=rank, world_size=world_size
    )


def eval_batches(
    task: Task, batch_size: int, split: str = "test", *, fixed_shape: bool = False
) -> Iterator[Batch]:
    """The held-out pairs of ``task`` in order, batched: `Task.eval_batches`."""
    return task.eval_batches(batch_size, split, fixed_shape=fixed_shape)
