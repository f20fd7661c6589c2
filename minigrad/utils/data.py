"""Datasets, samplers and the DataLoader, with PyTorch's ``torch.utils.data`` names, defaults,
errors and batching rules.

    >>> from minigrad.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, drop_last=True)
    >>> for xb, yb in loader:          # xb (32, ...), yb (32, ...): stacked samples
    ...     ...

The pieces, in the order data flows through them:

- a **dataset**: map-style (``Dataset``: ``__getitem__`` and ``__len__``; ``TensorDataset``,
  ``StackDataset``, ``Subset``, ``ConcatDataset``, ``random_split``) or iterable
  (``IterableDataset``: ``__iter__``; ``ChainDataset``);
- a **sampler** says which indices, in which order (``SequentialSampler``, ``RandomSampler``,
  ``SubsetRandomSampler``, ``WeightedRandomSampler``, ``DistributedSampler``); a
  ``BatchSampler`` groups them into lists of ``batch_size``;
- **collate** turns a list of samples into a batch (``default_collate``: tensors and NumPy
  arrays stacked along a new first dim, Python floats to float64 and ints to int64 tensors,
  strings kept as a list, dicts, named tuples and sequences collated field by field);
- the **DataLoader** runs them, in this process (``num_workers=0``) or in worker processes
  (``num_workers=N``: each worker fetches and collates whole batches, which come back in the
  sampler's order; ``get_worker_info()`` tells a dataset which worker it runs in).

Randomness: ``RandomSampler`` and ``random_split`` draw from a ``minigrad.Generator`` when one is
given, else from a seed drawn from the global generator (``minigrad.manual_seed`` replays it).
Worker ``i`` seeds Python's ``random``, minigrad's global generator and NumPy's legacy global
one with ``base_seed + i``, ``base_seed`` drawn afresh each epoch, so that workers do not repeat
each other's random augmentations (as PyTorch's). The streams are minigrad's, so a shuffled order
differs from PyTorch's for the same seed; the rules (lengths, padding, which index goes to which
rank) are PyTorch's.

``pin_memory`` is accepted and has no effect (minigrad has no pinned host memory).

Owns: these classes and functions. May import: minigrad's public API (the layer of
``creation``), ``minigrad.distributed`` (lazily, for ``DistributedSampler``'s defaults).
"""

from __future__ import annotations

import bisect
import collections.abc
import copy
import itertools
import math
import multiprocessing
import os
import queue
import random
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import minigrad as mg
from minigrad import backend

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]


# =============================================================================================
# Datasets
# =============================================================================================


class Dataset:
    """A map-style dataset: ``dataset[i]`` is sample ``i``; ``len(dataset)`` how many there are
    (which the samplers need). ``a + b`` concatenates two (``ConcatDataset``)."""

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream: ``iter(dataset)`` yields the samples. In worker processes each
    worker iterates its own copy; ``get_worker_info()`` lets it take its share."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples that are rows of tensors: sample ``i`` is ``tuple(t[i] for t in tensors)``.

    Shapes: each tensor (N, ...), one N for all."""

    def __init__(self, *tensors: mg.Tensor) -> None:
        for t in tensors:
            if not isinstance(t, mg.Tensor):
                raise TypeError(f"TensorDataset: expected tensors, got {type(t).__name__}")
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if any(s is None for s in sizes) or len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors of shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[mg.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0] if self.tensors else 0


class StackDataset(Dataset):
    """Datasets of one length side by side: sample ``i`` is ``(a[i], b[i], ...)`` for
    ``StackDataset(a, b)`` or ``{"x": a[i], ...}`` for ``StackDataset(x=a, ...)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError(
                "StackDataset: give datasets either as positional arguments (tuple samples) "
                "or as keyword arguments (dict samples), not both"
            )
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: at least one dataset is needed")
        lengths = [len(p) for p in parts]
        if len(set(lengths)) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets of lengths {lengths}")
        self._length = lengths[0]
        self.datasets: tuple[Any, ...] | dict[str, Any] = args or kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """A batch at once, through the dataset's own ``__getitems__`` when it has one."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Map-style datasets one after another: indices ``0 .. len(a) - 1`` are ``a``'s, the next
    ``len(b)`` are ``b``'s, and so on; negative indices count from the end."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError(
                    f"ConcatDataset: index {index} is out of range for length {len(self)}"
                )
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets one after another (a lazy ``itertools.chain``)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)  # type: ignore[arg-type]
        return total


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: mg.Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping ``Subset``s of the given ``lengths``, or
    of fractions summing to 1: each ``floor(fraction * len(dataset))``, the remainder handed out
    one by one from the first split on (PyTorch's rule; a split of length 0 warns)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * fraction))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.",
                    stacklevel=2,
                )
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths {list(lengths)} ({sum(lengths)}) does not equal "
            f"the length of the input dataset ({n})"
        )
    order = mg.randperm(n, generator=generator).tolist()
    ends = list(itertools.accumulate(int(size) for size in lengths))
    return [Subset(dataset, order[end - int(size) : end]) for size, end in zip(lengths, ends)]


# =============================================================================================
# Samplers
# =============================================================================================


class Sampler:
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be a boolean value, but got {name}={value!r}")


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")


def _fresh_generator() -> mg.Generator:
    """A generator seeded from the global one (so ``minigrad.manual_seed`` replays it)."""
    return mg.Generator().manual_seed(int(mg.randint(0, 2**62, ()).item()))


class RandomSampler(Sampler):
    """The indices in a random order; with ``replacement``, ``num_samples`` independent draws.
    Without replacement and ``num_samples > len(data_source)``, whole permutations follow each
    other (PyTorch's rule)."""

    def __init__(
        self,
        data_source: Any,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: mg.Generator | None = None,
    ) -> None:
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        _check_bool(replacement, "replacement")
        _check_positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        """``num_samples`` as given, else the dataset's length now."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator if self.generator is not None else _fresh_generator()
        if self.replacement:
            draws = generator.integers(0, n, size=(self.num_samples,))
            yield from mg.tensor(draws).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from mg.randperm(n, generator=generator).tolist()
        yield from mg.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices: Sequence[int], generator: mg.Generator | None = None) -> None:
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[int]:
        for i in mg.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (N,), with
    or without replacement (``minigrad.multinomial``)."""

    def __init__(
        self,
        weights: Sequence[float] | mg.Tensor,
        num_samples: int,
        replacement: bool = True,
        generator: mg.Generator | None = None,
    ) -> None:
        _check_positive_int(num_samples, "num_samples")
        _check_bool(replacement, "replacement")
        w = weights if isinstance(weights, mg.Tensor) else mg.tensor(weights, dtype=mg.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}"
            )
        self.weights = w.to(mg.float64)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self) -> Iterator[int]:
        drawn = mg.multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from drawn.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the last one shorter, or dropped with
    ``drop_last``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive_int(batch_size, "batch_size")
        _check_bool(drop_last, "drop_last")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """Rank ``rank``'s share of the indices, for data-parallel training over ``num_replicas``
    processes (defaults: ``minigrad.distributed``'s world size and rank). Each epoch's order is
    one permutation seeded with ``seed + epoch`` (call ``set_epoch`` every epoch), the same on
    every rank; rank r takes positions r, r + num_replicas, ... Without ``drop_last`` the
    indices are padded with the first ones so that every rank gets as many; with it the tail
    that does not divide evenly is dropped (PyTorch's rule)."""

    def __init__(
        self,
        dataset: Any,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from minigrad import distributed

            if not distributed.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: give num_replicas and rank, or call "
                    "minigrad.distributed.init_process_group() first"
                )
            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        _check_positive_int(num_replicas, "num_replicas")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            generator = mg.Generator().manual_seed(self.seed + self.epoch)
            indices = mg.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        elif indices:  # pad with the first indices (repeated if needed) to total_size
            padding = self.total_size - n
            indices += (indices * math.ceil(padding / n))[:padding]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose permutation ``__iter__`` gives next (the same on every rank)."""
        self.epoch = epoch


class _InfiniteConstantSampler(Sampler):
    """None forever: an iterable dataset's stand-in for a sampler."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


# =============================================================================================
# Collate
# =============================================================================================

_COLLATE_ERROR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _array_kind(x: Any) -> str | None:
    """``"array"`` for a NumPy or CuPy array, ``"scalar"`` for a NumPy scalar, else None (told
    by the type's module, as PyTorch does, so that only ``backend`` imports NumPy)."""
    kind = type(x)
    if kind.__module__.split(".")[0] not in ("numpy", "cupy"):
        return None
    if kind.__name__ in ("ndarray", "memmap"):
        return "array"
    return "scalar" if getattr(x, "shape", None) == () else None


def _text_array(x: Any) -> bool:
    """An array of strings, bytes or objects, which no tensor can hold."""
    return x.dtype.kind in "OSUV"


def default_convert(data: Any) -> Any:
    """Arrays to tensors, through mappings, named tuples and sequences (a tuple becomes a
    list, as PyTorch's), the rest unchanged: the collate function of a DataLoader with
    ``batch_size=None``."""
    kind = _array_kind(data)
    if kind == "array" and _text_array(data):
        return data
    if kind is not None:
        return mg.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a named tuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        parts = [default_convert(d) for d in data]
        return parts if isinstance(data, tuple) else _rebuild(data, parts)
    return data


def _rebuild(like: Any, fields: dict[Any, Any] | list[Any]) -> Any:
    """A container of ``like``'s type holding ``fields`` (a dict or a list): a copy updated in
    place when the type is mutable (it may carry more than its items), else the type called on
    them; a plain dict or list where neither works."""
    try:
        if isinstance(fields, dict) and isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(fields)
            return clone
        if isinstance(fields, list) and isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            clone[:] = fields
            return clone
        return type(like)(fields)
    except TypeError:
        return fields


def default_collate(batch: list[Any]) -> Any:
    """A list of samples as one batch: tensors stacked along a new first dim (one shape for
    all), NumPy arrays and scalars as tensors then stacked, Python floats as a float64 tensor,
    ints (bools) as an int64 (bool) tensor, strings and bytes kept as a list, and mappings,
    named tuples and sequences collated field by field (a tuple gives a list, as PyTorch's).

    Shapes: B samples of shape S -> (B, *S)."""
    elem = batch[0]
    if isinstance(elem, mg.Tensor):
        return mg.stack(batch, 0)
    kind = _array_kind(elem)
    if kind == "array" and _text_array(elem):
        raise TypeError(_COLLATE_ERROR.format(elem.dtype))
    if kind is not None:
        return mg.stack([mg.as_tensor(b) for b in batch], 0)
    if isinstance(elem, float):
        return mg.tensor(batch, dtype=mg.float64)
    if isinstance(elem, int):
        return mg.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        parts = [default_collate(list(field)) for field in zip(*batch)]
        return parts if isinstance(elem, tuple) else _rebuild(elem, parts)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


# =============================================================================================
# Workers
# =============================================================================================


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` tells code running in a DataLoader worker: its ``id`` (0 to
    ``num_workers - 1``), ``num_workers``, the ``seed`` it was seeded with, and its copy of the
    ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's ``WorkerInfo`` inside a DataLoader worker process; None elsewhere."""
    return _worker_info


class _IterableEnd:
    """A worker's answer when its iterable dataset is exhausted."""


@dataclass
class _WorkerError:
    """An exception raised in a worker, carried to the main process as text."""

    worker_id: int
    kind: type
    text: str

    def reraise(self) -> None:
        message = (
            f"Caught {self.kind.__name__} in DataLoader worker process {self.worker_id}.\n"
            f"Original {self.text}"
        )
        try:
            error = self.kind(message)
        except Exception:  # an exception type that takes other arguments
            error = RuntimeError(message)
        raise error


_RESUME = "resume"  # a persistent worker's signal: a new epoch starts (iterators restart)


class _Fetcher:
    """Fetch one batch (or one sample) for ``DataLoader``: map-style datasets by the indices,
    iterable ones from the dataset's iterator."""

    def __init__(self, loader: DataLoader) -> None:
        self.dataset, self.collate = loader.dataset, loader.collate_fn
        self.auto_collation = loader.batch_sampler is not None
        self.batch_size, self.drop_last = loader.batch_size, loader.drop_last
        self.iterable = isinstance(self.dataset, IterableDataset)
        self.restart()

    def restart(self) -> None:
        self.stream = iter(self.dataset) if self.iterable else None

    def fetch(self, index: Any) -> Any:
        """The collated batch; raises StopIteration when an iterable dataset is exhausted."""
        if self.iterable:
            if not self.auto_collation:
                return self.collate(next(self.stream))
            batch = list(itertools.islice(self.stream, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                raise StopIteration
            return self.collate(batch)
        if not self.auto_collation:
            return self.collate(self.dataset[index])
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.collate(self.dataset.__getitems__(index))
        return self.collate([self.dataset[i] for i in index])


def _seed_worker(seed: int) -> None:
    """Seed Python's ``random``, minigrad's global generator and NumPy's legacy one."""
    random.seed(seed)
    mg.manual_seed(seed)
    backend.seed_legacy_numpy(seed)


def _worker_loop(
    fetcher: _Fetcher,
    tasks: Any,
    results: Any,
    info: WorkerInfo,
    init_fn: Callable[[int], None] | None,
) -> None:
    """A worker process: seed, run ``worker_init_fn``, then answer ``(task, indices)`` from
    ``tasks`` with ``(task, batch)`` on ``results`` until it receives None."""
    global _worker_info
    _worker_info = info
    _seed_worker(info.seed)
    failed = None
    try:
        if init_fn is not None:
            init_fn(info.id)
        fetcher.restart()
    except Exception as error:
        failed = _WorkerError(info.id, type(error), traceback.format_exc())
    ended = False
    while True:
        try:
            item = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() == 1:  # the main process is gone
                return
            continue
        if item is None:
            return
        if item == _RESUME:
            fetcher.restart()
            ended = False
            continue
        task, index = item
        if failed is not None or ended:
            results.put((task, failed if failed is not None else _IterableEnd()))
            continue
        try:
            results.put((task, fetcher.fetch(index)))
        except StopIteration:
            ended = True
            results.put((task, _IterableEnd()))
        except Exception as error:
            results.put((task, _WorkerError(info.id, type(error), traceback.format_exc())))


# =============================================================================================
# The DataLoader
# =============================================================================================


class DataLoader:
    """Batches of ``dataset``'s samples, as PyTorch's ``torch.utils.data.DataLoader``.

    ``batch_size`` samples a batch (None: no batching, each sample converted alone), in order or
    shuffled (``shuffle``), or in the order of a ``sampler`` (indices) or ``batch_sampler``
    (lists of indices); the last short batch dropped with ``drop_last``. ``collate_fn`` makes a
    batch from a list of samples (``default_collate``). ``num_workers > 0`` fetches batches in
    that many worker processes, ``prefetch_factor`` batches ahead each, returned in the
    sampler's order (``in_order=False``: as they arrive); ``persistent_workers`` keeps them from
    epoch to epoch; ``timeout`` (seconds) bounds the wait for one batch; ``worker_init_fn(id)``
    runs in each worker after seeding; ``generator`` draws the shuffle and the workers' base
    seed. ``pin_memory`` is accepted and has no effect.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[Any], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: mg.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        prefetch_factor = _check_worker_options(
            num_workers, timeout, prefetch_factor, persistent_workers
        )
        self._ready = False
        self.dataset, self.num_workers, self.prefetch_factor = dataset, num_workers, prefetch_factor
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout, self.worker_init_fn, self.in_order = timeout, worker_init_fn, in_order
        self.multiprocessing_context = _context(multiprocessing_context, num_workers)
        if isinstance(dataset, IterableDataset):
            _check_iterable_options(shuffle, sampler, batch_sampler)
            sampler = _InfiniteConstantSampler()
        else:
            shuffle = bool(shuffle)
        batch_size, drop_last = _check_batching(
            batch_size, shuffle, sampler, batch_sampler, drop_last
        )
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn, self.persistent_workers = collate_fn, persistent_workers
        self._iterator: _WorkerIterator | None = None
        self._ready = True
        _warn_if_too_many_workers(num_workers)

    def __setattr__(self, name: str, value: Any) -> None:
        frozen = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")
        if getattr(self, "_ready", False) and name in (*frozen, "persistent_workers"):
            raise ValueError(
                f"{name} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(name, value)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            # drawn and unused, as PyTorch's: the global stream moves as with workers, so a
            # shuffle comes out the same with or without them
            _base_seed(self.generator)
            return _single_process(self)
        if not self.persistent_workers:
            return _WorkerIterator(self)
        if self._iterator is None:
            self._iterator = _WorkerIterator(self)
        else:
            self._iterator.reset()
        return self._iterator

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]  (TypeError if it has no length)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def _warn_if_too_many_workers(num_workers: int) -> None:
    """Warn, as PyTorch does, when there are more workers than CPUs this process may use."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus and num_workers > cpus:
        warnings.warn(
            f"This DataLoader will create {num_workers} worker processes in total. The "
            f"suggested maximum on this system is {cpus}: excessive workers may make the "
            "DataLoader slow or freeze it; lower the worker number if so.",
            stacklevel=3,
        )


def _check_worker_options(
    num_workers: int, timeout: float, prefetch_factor: int | None, persistent_workers: bool
) -> int | None:
    """PyTorch's checks of the worker options; returns ``prefetch_factor`` (2 by default with
    workers)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            f"multiprocessing (got {num_workers!r})"
        )
    if timeout < 0:
        raise ValueError(f"timeout option should be non-negative, got {timeout}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing: let "
            "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None"
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(f"prefetch_factor option should be non-negative, got {prefetch_factor}")
    if persistent_workers and num_workers == 0:
        raise ValueError("persistent_workers option needs num_workers > 0")
    return 2 if num_workers > 0 and prefetch_factor is None else prefetch_factor


def _check_iterable_options(shuffle: Any, sampler: Any, batch_sampler: Any) -> None:
    """An iterable dataset decides its own order: no shuffle, sampler or batch_sampler."""
    if shuffle not in (False, None):
        raise ValueError(
            "DataLoader with IterableDataset: expected unspecified shuffle option, but got "
            f"shuffle={shuffle}"
        )
    for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
        if value is not None:
            raise ValueError(
                f"DataLoader with IterableDataset: expected unspecified {name} option, but got "
                f"{name}={value}"
            )


def _check_batching(
    batch_size: int | None, shuffle: Any, sampler: Any, batch_sampler: Any, drop_last: bool
) -> tuple[int | None, bool]:
    """PyTorch's exclusions between the batching options; returns ``(batch_size, drop_last)``
    (None and False under a ``batch_sampler``, which does the batching)."""
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError(
                "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                "and drop_last"
            )
        return None, False
    if batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
        )
    return batch_size, drop_last


def _context(context: Any, num_workers: int) -> Any:
    """The multiprocessing context the workers start in: a start method's name or a context,
    only with workers; None for the default one."""
    if context is None:
        return None
    if num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers}"
        )
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                f"multiprocessing_context option should specify a valid start method in "
                f"{methods!r}, but got multiprocessing_context={context!r}"
            )
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context={context!r}"
        )
    return context


def _single_process(loader: DataLoader) -> Iterator[Any]:
    """Fetch the batches in this process, one at a time."""
    fetcher = _Fetcher(loader)
    indices = loader.batch_sampler if loader.batch_sampler is not None else loader.sampler
    for index in indices:
        try:
            yield fetcher.fetch(index)
        except StopIteration:  # an iterable dataset is exhausted
            return


def _base_seed(generator: mg.Generator | None) -> int:
    """The workers' base seed for one epoch, from ``generator`` or the global generator."""
    if generator is not None:
        return int(mg.tensor(generator.integers(0, 2**62, size=())).item())
    return int(mg.randint(0, 2**62, ()).item())


class _WorkerIterator:
    """The batches of one epoch fetched by ``num_workers`` worker processes.

    Tasks ``(task id, indices)`` go round-robin to the workers' own queues, at most
    ``prefetch_factor`` ahead each; answers ``(task id, batch)`` come back on one shared queue
    and are handed out in task order (``in_order``) or as they arrive. A worker whose iterable
    dataset ran out answers ``_IterableEnd`` and gets no more tasks; an error in a worker is
    raised here with its traceback; a worker that dies or a wait beyond ``timeout`` raises.
    """

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self.results = context.Queue()
        self.queues, self.workers = [], []
        base = _base_seed(loader.generator)
        fetcher = _Fetcher(loader)
        for i in range(loader.num_workers):
            tasks = context.Queue()
            info = WorkerInfo(i, loader.num_workers, base + i, loader.dataset)
            worker = context.Process(
                target=_worker_loop,
                args=(fetcher, tasks, self.results, info, loader.worker_init_fn),
                daemon=True,
            )
            worker.start()
            self.queues.append(tasks)
            self.workers.append(worker)
        self._start_epoch()

    def _start_epoch(self) -> None:
        loader = self.loader
        self.indices = iter(
            loader.batch_sampler if loader.batch_sampler is not None else loader.sampler
        )
        self.active = [True] * len(self.workers)
        self.next_worker = self.sent = 0
        self.pending: dict[int, int] = {}  # task id -> the worker it went to
        self.arrived: dict[int, Any] = {}  # answers not handed out yet
        for _ in range(loader.prefetch_factor * len(self.workers)):
            self._send()

    def reset(self) -> None:
        """A new epoch on the same (persistent) workers: iterators restart, seeds stay."""
        self._drain()
        for tasks in self.queues:
            tasks.put(_RESUME)
        self._start_epoch()

    def _send(self) -> None:
        """The next task to the next worker still active, if any is left."""
        if not any(self.active):
            return
        index = next(self.indices, StopIteration)
        if index is StopIteration:
            return
        while not self.active[self.next_worker]:
            self.next_worker = (self.next_worker + 1) % len(self.workers)
        self.queues[self.next_worker].put((self.sent, index))
        self.pending[self.sent] = self.next_worker
        self.sent += 1
        self.next_worker = (self.next_worker + 1) % len(self.workers)

    def __iter__(self) -> _WorkerIterator:
        return self

    def __next__(self) -> Any:
        while True:
            if not self.pending and not self.arrived:
                if not self.loader.persistent_workers:
                    self.close()
                raise StopIteration
            task, data = self._next_answer()
            worker = self.pending.pop(task)
            if isinstance(data, _IterableEnd):
                self.active[worker] = False
                continue
            self._send()
            if isinstance(data, _WorkerError):
                self.close()
                data.reraise()
            return data

    def _next_answer(self) -> tuple[int, Any]:
        """The answer to hand out next: the lowest task id with ``in_order`` (waiting for it),
        else any that arrived."""
        while True:
            if self.arrived:
                first = min(self.arrived)
                if not self.loader.in_order or first == min(self.pending, default=first):
                    return first, self.arrived.pop(first)
            task, data = self._receive()
            self.arrived[task] = data

    def _receive(self) -> tuple[int, Any]:
        """One answer from the workers, checking on them while waiting."""
        timeout = self.loader.timeout
        start = time.monotonic()
        while True:
            try:
                return self.results.get(timeout=min(timeout, 1.0) if timeout else 1.0)
            except queue.Empty:
                dead = [w.pid for w in self.workers if not w.is_alive()]
                if dead:
                    self.close()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                        "unexpectedly"
                    ) from None
                if timeout and time.monotonic() - start >= timeout:
                    self.close()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def _drain(self) -> None:
        """Receive what is still in flight (a persistent iterator left mid-epoch)."""
        for task in self.arrived:
            self.pending.pop(task, None)
        self.arrived.clear()
        while self.pending:
            task, _ = self._receive()
            self.pending.pop(task, None)

    def close(self) -> None:
        """Stop the workers (each gets None), then end any that do not stop."""
        for tasks in self.queues:
            tasks.put(None)
        for worker in self.workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
        self.queues, self.workers = [], []

    def __del__(self) -> None:
        if getattr(self, "workers", None):
            self.close()
