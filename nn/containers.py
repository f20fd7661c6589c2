"""Containers of parameters, after ``torch.nn``: ParameterList and ParameterDict. Their
parameters are registered (listed by ``parameters()``, saved by ``state_dict`` under their
index or key: ``"0"``, ``"1"``... or the key), so an optimizer and a checkpoint see them.

Owns: ParameterList, ParameterDict. May import: minigrad's public API, ``nn.module``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.tensor import Tensor
from nn.module import Module, Parameter


def _as_parameter(container: str, value: Any) -> Any:
    """A Tensor becomes a Parameter sharing its array (as PyTorch); a Parameter or None stays."""
    if value is None or isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(
        f"{container}: expected a Tensor, a Parameter or None, got {type(value).__name__}"
    )


class ParameterList(Module):
    """A list of parameters: ``ParameterList([Parameter(...), ...])``, indexed, iterated,
    appended to like a list; a plain Tensor given is wrapped in a :class:`Parameter`."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, index: int) -> int:
        if not isinstance(index, int) or not -self._size <= index < self._size:
            raise IndexError(
                f"ParameterList: index {index!r} out of range for {self._size} parameters"
            )
        return index % self._size

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(list(self)[index])
        return self._parameters[str(self._index(index))]

    def __setitem__(self, index: int, value: Any) -> None:
        self.register_parameter(str(self._index(index)), _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self._parameters[str(i)] for i in range(self._size))

    def append(self, value: Any) -> ParameterList:
        """Add ``value`` at the end (a Tensor is wrapped in a Parameter)."""
        self.register_parameter(str(self._size), _as_parameter("ParameterList", value))
        self._size += 1
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append each of ``values``."""
        if isinstance(values, Tensor):
            raise TypeError("ParameterList.extend: expected an iterable of tensors, got a Tensor")
        checked = [_as_parameter("ParameterList", value) for value in values]  # all, then add
        for value in checked:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def extra_repr(self) -> str:
        return "\n".join(
            f"({i}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
            if p is not None
            else f"({i}): None"
            for i, p in enumerate(self)
        )


class ParameterDict(Module):
    """A dict of parameters by string key, in insertion order: ``ParameterDict({"scale":
    Parameter(...)})``; ``keys``, ``values``, ``items``, ``update``, ``pop``, ``in``, ``len``
    as a dict. A plain Tensor given is wrapped in a :class:`Parameter`."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(
                f"ParameterDict: keys must be strings, got {type(key).__name__} {key!r}"
            )
        return key

    def __getitem__(self, key: str) -> Any:
        if self._key(key) not in self._parameters:
            raise KeyError(key)
        return self._parameters[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(self._key(key), _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        self.pop(key)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def keys(self) -> list[str]:
        return list(self._parameters)

    def values(self) -> list[Any]:
        return list(self._parameters.values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._parameters.items())

    def get(self, key: str, default: Any = None) -> Any:
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self._parameters[key]
        return value

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace the parameters of a mapping or of (key, value) pairs."""
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        checked = []  # every pair checked before the first is added
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ParameterDict.update: expected (key, value) pairs, got {pair!r}")
            checked.append((self._key(pair[0]), _as_parameter("ParameterDict", pair[1])))
        for key, value in checked:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(
            f"({k}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
            for k, p in self._parameters.items()
            if p is not None
        )
