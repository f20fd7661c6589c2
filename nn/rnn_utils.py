"""Variable-length sequences for the recurrent layers, after ``torch.nn.utils.rnn`` (reached
as ``nn.utils.rnn``): ``PackedSequence`` and ``pack_padded_sequence``,
``pad_packed_sequence``, ``pad_sequence``, ``pack_sequence``, ``unpad_sequence``,
``unpack_sequence``.

A PackedSequence holds B sequences of lengths l_1 >= l_2 >= ... (sorted longest first) time
step after time step: ``data`` (sum l_b, *) is step 0 of every sequence, then step 1 of those
at least 2 long, ...; ``batch_sizes[t]`` (int64, one per step) counts the sequences still
running at step t. ``sorted_indices`` maps the sorted order to the caller's
(``unsorted_indices`` back), None when the caller's order was already sorted. RNN, LSTM and
GRU take one and stop each sequence at its own length, as PyTorch's.

Everything is built from minigrad's differentiable ops (index_select, cat, stack, pad), so
gradients flow through packing and unpacking.

Owns: packing and padding of sequences. May import: minigrad's public API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from minigrad import backend
from minigrad.creation import tensor
from minigrad.errors import ShapeError
from minigrad.ops import cat, index_select, pad, stack
from minigrad.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "pack_sequence",
    "unpad_sequence",
    "unpack_sequence",
    "invert_permutation",
]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """``data`` (sum of the lengths, *), ``batch_sizes`` (T,) int64, ``sorted_indices`` and
    ``unsorted_indices`` (B,) int64 or None: see the module's docstring. As PyTorch's, built
    from ``sorted_indices`` alone it derives ``unsorted_indices`` (its inverse), and
    ``PackedSequence((data, batch_sizes))`` takes the pair as one argument."""

    __slots__ = ()

    def __new__(
        cls,
        data: Any,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:  # else pad_packed_sequence would keep the sorted order
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise TypeError(
                    "PackedSequence: expected (data, batch_sizes) or a pair of them, got "
                    f"{type(data).__name__} alone"
                )
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with ``data`` moved or cast by ``Tensor.to`` (the indices follow
        its device); ``batch_sizes`` stays on the host, as PyTorch's."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = (self.sorted_indices, self.unsorted_indices)
        moved = (None if i is None else i.to(data.device) for i in indices)
        return PackedSequence(data, self.batch_sizes, *moved)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> PackedSequence:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def double(self) -> PackedSequence:
        return self.to(dtype=backend.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=backend.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=backend.float16)

    def long(self) -> PackedSequence:
        return self.to(dtype=backend.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=backend.int32)

    def byte(self) -> PackedSequence:
        return self.to(dtype=backend.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.device != "cpu"


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (B,) int64: ``out[permutation[i]] = i``."""
    if permutation is None:
        return None
    order = [0] * permutation.shape[0]
    for i, j in enumerate(permutation.tolist()):
        order[j] = i
    return tensor(order, dtype=backend.int64, device=permutation.device)


def _lengths(lengths: Any, batch: int) -> list[int]:
    """``lengths`` (a list or a 1-D tensor, one per sequence) as Python ints: truncated, as
    PyTorch's ``as_tensor(lengths, dtype=int64)`` does with a float tensor."""
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    if isinstance(lengths, Tensor) and (lengths.ndim != 1 or lengths.dtype.kind not in "biuf"):
        raise TypeError(
            f"pack_padded_sequence: lengths must be a 1-D real tensor or a list, got "
            f"{lengths.dtype} of shape {tuple(lengths.shape)}"
        )
    if len(values) != batch:
        raise ShapeError(
            f"pack_padded_sequence: {len(values)} lengths for a batch of {batch} sequences"
        )
    if any(int(n) <= 0 for n in values):
        raise ValueError(f"pack_padded_sequence: every length must be above 0, got {values}")
    return [int(n) for n in values]


def pack_padded_sequence(
    input: Tensor,  # noqa: A002
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch: input (T, B, *) (or (B, T, *) with ``batch_first``), sequence b
    ``lengths[b]`` long -> PackedSequence. With ``enforce_sorted`` the lengths must decrease;
    without it the batch is sorted first (``sorted_indices`` records how)."""
    if input.ndim < 2:
        raise ShapeError(
            f"pack_padded_sequence: input must be (T, B, *) or (B, T, *), got {tuple(input.shape)}"
        )
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    values = _lengths(lengths, input.shape[batch_dim])
    if max(values) > input.shape[time_dim]:
        raise ShapeError(
            f"pack_padded_sequence: a length of {max(values)} in an input of "
            f"{input.shape[time_dim]} steps (shape {tuple(input.shape)})"
        )
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(values, values[1:])):
            raise ValueError(
                f"pack_padded_sequence: lengths {values} must be sorted in decreasing order "
                "when enforce_sorted is True (pass enforce_sorted=False to sort them here)"
            )
    else:
        order = sorted(range(len(values)), key=lambda b: -values[b])  # stable: ties keep order
        sorted_indices = tensor(order, dtype=backend.int64, device=input.device)
        input, values = index_select(input, batch_dim, sorted_indices), [values[b] for b in order]
    x = input.transpose(0, 1) if batch_first else input  # (T, B, *), longest first
    batch_sizes = [sum(n > t for n in values) for t in range(values[0])]
    data = cat([x[t, :size] for t, size in enumerate(batch_sizes)], 0)  # (sum lengths, *)
    sizes = tensor(batch_sizes, dtype=backend.int64)
    return PackedSequence(data, sizes, sorted_indices, invert_permutation(sorted_indices))


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: -> (padded (T, B, *) or (B, T, *) in the caller's
    order, ``padding_value`` past each end, T = ``total_length`` or the longest length;
    lengths (B,) int64)."""
    data, batch_sizes = sequence.data, [int(n) for n in sequence.batch_sizes.tolist()]
    steps, batch = len(batch_sizes), batch_sizes[0]
    if total_length is not None and total_length < steps:
        raise ValueError(
            f"pad_packed_sequence: total_length {total_length} is shorter than the longest "
            f"sequence, {steps} steps"
        )
    rows, start = [], 0
    for size in batch_sizes:  # step t: (size, *) padded to (B, *)
        step = data[start : start + size]
        rows.append(pad(step, (0, 0) * (data.ndim - 1) + (0, batch - size), value=padding_value))
        start += size
    padded = stack(rows, 0)  # (T, B, *)
    if total_length is not None and total_length > steps:
        padded = pad(padded, (0, 0) * data.ndim + (0, total_length - steps), value=padding_value)
    lengths = [sum(size > b for size in batch_sizes) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = [lengths[b] for b in sequence.unsorted_indices.tolist()]
    padded = padded.transpose(0, 1) if batch_first else padded
    return padded, tensor(lengths, dtype=backend.int64)


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences (l_b, *) of one trailing shape into (T, B, *) (or (B, T, *) with
    ``batch_first``), T the longest, each padded with ``padding_value`` on ``padding_side``
    ("right" or "left")."""
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}"
        )
    if len(sequences) == 0:
        raise ValueError("pad_sequence: expected at least one sequence")
    trailing = {tuple(s.shape[1:]) for s in sequences}
    if len(trailing) != 1 or sequences[0].ndim == 0:
        raise ShapeError(
            "pad_sequence: the sequences must be (length, *) with one trailing shape, got "
            f"{[tuple(s.shape) for s in sequences]}"
        )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        widths = (0, longest - s.shape[0]) if padding_side == "right" else (longest - s.shape[0], 0)
        padded.append(pad(s, (0, 0) * (s.ndim - 1) + widths, value=padding_value))
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack sequences (l_b, *) directly: ``pack_padded_sequence(pad_sequence(sequences),
    lengths)``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """Undo :func:`pad_sequence`: (T, B, *) (or (B, T, *)) and lengths -> B tensors (l_b, *)."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)  # (B, T, *)
    values = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [x[b, : int(n)] for b, n in enumerate(values)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Undo :func:`pack_sequence`: -> the B tensors (l_b, *) in the caller's order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
