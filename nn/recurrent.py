"""Recurrent layers, after ``torch.nn``: RNN (tanh or relu), LSTM (with projections,
``proj_size``), GRU and their one-step cells RNNCell, LSTMCell, GRUCell. Same arguments,
shapes, parameter names (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``,
``weight_hr_l0`` for an LSTM's projection, ``_reverse`` for the backward direction), gate
order (LSTM: i, f, g, o; GRU: r, z, n) and initialization (U(-1/sqrt(hidden_size),
1/sqrt(hidden_size)) for every parameter), so a state_dict maps name for name.

One step, with ``x W_ih^T + b_ih`` computed for every time step at once before the loop:

- RNN:  ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)
- LSTM: ``i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)``;
  ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``; ``h' = sigmoid(o) tanh(c')``, then with
  ``proj_size`` (Sak et al., 2014) ``h' = (sigmoid(o) tanh(c')) W_hr^T``: h is proj_size wide,
  c stays hidden_size wide
- GRU:  ``r = sigmoid(x_r + h_r)``, ``z = sigmoid(x_z + h_z)``, ``n = tanh(x_n + r h_n)``
  with ``h_* = h W_h*^T + b_h*`` (the reset gate multiplies ``h W_hn^T + b_hn``, bias
  included, as PyTorch); ``h' = (1 - z) n + z h``

Everything is built from minigrad's differentiable ops (linear, sigmoid, tanh, stack, cat),
so gradients of every order come from theirs.

Owns: these layers. May import: minigrad's public API, ``nn.init``, ``nn.module``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from minigrad.creation import zeros
from minigrad.errors import ShapeError
from minigrad.ops import cat, dropout, index_select, linear, relu, sigmoid, stack, tanh
from minigrad.tensor import Tensor
from nn import init
from nn.module import Module, _param, _positive
from nn.rnn_utils import PackedSequence

State = tuple[Tensor, ...]  # (h,) for RNN and GRU, (h, c) for LSTM

# =============================================================================================
# one step of each kind: (the input's projection at this step, the state) -> the new state
# =============================================================================================


def _rnn_step(act: Callable[[Tensor], Tensor]) -> Callable[..., State]:
    def step(xw: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None) -> State:
        return (act(xw + linear(state[0], w_hh, b_hh)),)

    return step


def _lstm_step(
    xw: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None
) -> State:
    h, c = state
    i, f, g, o = (xw + linear(h, w_hh, b_hh)).chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    return (h if w_hr is None else linear(h, w_hr)), c  # the projection: (N, proj_size)


def _gru_step(xw: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None) -> State:
    (h,) = state
    x_r, x_z, x_n = xw.chunk(3, -1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).chunk(3, -1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


STEPS: dict[str, Callable[..., State]] = {
    "RNN_TANH": _rnn_step(tanh),
    "RNN_RELU": _rnn_step(relu),
    "LSTM": _lstm_step,
    "GRU": _gru_step,
}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _mode(name: str, nonlinearity: str | None) -> str:
    if name != "RNN":
        return name
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return f"RNN_{nonlinearity.upper()}"


def _python_int(value: Any) -> Any:
    """A NumPy integer as a Python int (PyTorch's layers take them); anything else as is."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    return int(value) if is_int else value


def _uniform_init(module: Module, hidden_size: int) -> None:
    """PyTorch's: every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


# =============================================================================================
# cells: one step
# =============================================================================================


class RNNCellBase(Module):
    """The cells' common base (PyTorch's ``nn.RNNCellBase``, for ``isinstance`` checks): build
    an RNNCell, LSTMCell or GRUCell."""

    name = ""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        nonlinearity: str | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        _positive(layer, input_size=input_size, hidden_size=hidden_size)
        self.mode = _mode(self.name, nonlinearity)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        if nonlinearity is not None:
            self.nonlinearity = nonlinearity
        gates = GATES[self.mode] * hidden_size
        self.weight_ih = _param((gates, input_size), device, dtype)
        self.weight_hh = _param((gates, hidden_size), device, dtype)
        self.bias_ih = _param((gates,), device, dtype) if bias else None
        self.bias_hh = _param((gates,), device, dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def _check(self, x: Tensor, state: State) -> None:
        layer = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{layer}: expected an input of shape (N, {self.input_size}) or "
                f"({self.input_size},), got {tuple(x.shape)}"
            )
        expected = tuple(x.shape[:-1]) + (self.hidden_size,)
        for t in state:
            if tuple(t.shape) != expected:
                raise ShapeError(
                    f"{layer}: expected a hidden state of shape {expected} for an input of shape "
                    f"{tuple(x.shape)}, got {tuple(t.shape)}"
                )

    def _step(self, x: Tensor, state: State) -> State:
        self._check(x, state)
        xw = linear(x, self.weight_ih, self.bias_ih)
        return STEPS[self.mode](xw, state, self.weight_hh, self.bias_hh)

    def _zeros(self, x: Tensor) -> Tensor:
        return zeros(*x.shape[:-1], self.hidden_size, dtype=x.dtype, device=x.device)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"
        return text


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    Shapes: input (N, input_size) or (input_size,); hx like it with hidden_size (zeros when
    None) -> h' (N, hidden_size). Parameters ``weight_ih`` (hidden, input), ``weight_hh``
    (hidden, hidden), ``bias_ih``, ``bias_hh`` (hidden,).
    """

    name = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, nonlinearity, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, (self._zeros(input) if hx is None else hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``,
    ``h' = sigmoid(o) tanh(c')``.

    Shapes: input (N, input_size) or (input_size,); hx a pair (h, c) of (N, hidden_size)
    (zeros when None) -> (h', c'). ``weight_ih`` (4 hidden, input), ``weight_hh`` (4 hidden,
    hidden), biases (4 hidden,).
    """

    name = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, None, device, dtype)

    def forward(
        self,
        input: Tensor,  # noqa: A002
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        state = (self._zeros(input), self._zeros(input)) if hx is None else tuple(hx)
        return self._step(input, state)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): ``n = tanh(x_n + r (h W_hn^T + b_hn))``,
    ``h' = (1 - z) n + z h``.

    Shapes: input (N, input_size) or (input_size,); hx (N, hidden_size) (zeros when None) ->
    h'. ``weight_ih`` (3 hidden, input), ``weight_hh`` (3 hidden, hidden), biases (3 hidden,).
    """

    name = "GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, None, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, (self._zeros(input) if hx is None else hx,))[0]


# =============================================================================================
# the sequence layers: num_layers, bidirectional, dropout between layers
# =============================================================================================


class RNNBase(Module):
    """The sequence layers' common base (PyTorch's ``nn.RNNBase``, for ``isinstance`` checks):
    build an RNN, LSTM or GRU."""

    name = ""

    def __init__(self, input_size: int, hidden_size: int, options: dict[str, Any]) -> None:
        super().__init__()
        layer = type(self).__name__
        # PyTorch takes NumPy integers here, not for input_size or hidden_size
        options = options | {k: _python_int(options[k]) for k in ("num_layers", "proj_size")}
        _positive(layer, input_size=input_size, hidden_size=hidden_size)
        _positive(layer, num_layers=options["num_layers"])
        self._check_options(hidden_size, options)
        self.mode = _mode(self.name, options.get("nonlinearity"))
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = options["num_layers"], options["bias"]
        self.batch_first, self.dropout = options["batch_first"], float(options["dropout"])
        self.bidirectional, self.proj_size = options["bidirectional"], options["proj_size"] or 0
        if "nonlinearity" in options:
            self.nonlinearity = options["nonlinearity"]
        for layer_direction, names in enumerate(self._weight_names()):
            for name in names:  # PyTorch's order: w_ih, w_hh, b_ih, b_hh, w_hr
                shape = self._shape(name.split("_l")[0], layer_direction // self._directions)
                setattr(self, name, _param(shape, options["device"], options["dtype"]))
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _shape(self, kind: str, layer: int) -> tuple[int, ...]:
        """The shape of parameter ``kind`` (``weight_ih``, ...) of layer ``layer``."""
        gates = GATES[self.mode] * self.hidden_size
        width = self.proj_size or self.hidden_size  # h's size: what W_hh reads, a layer outputs
        inputs = self.input_size if layer == 0 else width * self._directions
        shapes = {"weight_ih": (gates, inputs), "weight_hh": (gates, width)}
        shapes |= {"bias_ih": (gates,), "bias_hh": (gates,)}
        shapes |= {"weight_hr": (self.proj_size, self.hidden_size)}  # an LSTM's projection
        return shapes[kind]

    def _weight_names(self) -> list[list[str]]:
        """The parameters' names, a list per layer and direction, in PyTorch's order."""
        kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        kinds += ["weight_hr"] if self.proj_size else []
        return [
            [f"{kind}_l{k}{suffix}" for kind in kinds]
            for k in range(self.num_layers)
            for suffix in ("", "_reverse")[: self._directions]
        ]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """The parameters, a list per layer and direction (PyTorch's ``all_weights``)."""
        return [[getattr(self, name) for name in names] for names in self._weight_names()]

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch's packs the weights for cuDNN, which minigrad does not use
        (a no-op there too off cuDNN). Here so that code calling it runs unchanged."""

    def _check_options(self, hidden_size: int, options: dict[str, Any]) -> None:
        layer, p, proj = type(self).__name__, options["dropout"], options["proj_size"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"{layer}: dropout must be a number in [0, 1], got {p!r}")
        for flag in ("bias", "batch_first"):
            if not isinstance(options[flag], bool):
                raise TypeError(f"{layer}: {flag} must be a bool, got {options[flag]!r}")
        if proj is not None and self.name != "LSTM":
            raise ValueError(f"{layer}: proj_size is only supported for LSTM, not RNN or GRU")
        if proj is not None and (isinstance(proj, bool) or not isinstance(proj, int) or proj < 0):
            raise ValueError(f"{layer}: proj_size must be an int >= 0 (0: none), got {proj!r}")
        if proj is not None and proj >= hidden_size:
            raise ValueError(
                f"{layer}: proj_size must be smaller than hidden_size {hidden_size}, got {proj}"
            )
        if p > 0 and options["num_layers"] == 1:
            warnings.warn(
                f"{layer}: dropout applies to every recurrent layer's output but the last, so a "
                f"nonzero dropout expects num_layers above 1, got dropout={p} and num_layers=1",
                stacklevel=4,
            )

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def _weights(self, k: int, suffix: str) -> tuple[Tensor, ...]:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return tuple(getattr(self, f"{n}_l{k}{suffix}", None) for n in names)

    def _check_input(self, x: Tensor) -> bool:
        """Check the input's shape; whether it is unbatched (L, input_size)."""
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: expected an input of shape (L, N, {self.input_size}) "
                f"({'(N, L, ...) with batch_first, ' if self.batch_first else ''}or unbatched "
                f"(L, {self.input_size})), got {tuple(x.shape)}"
            )
        if x.shape[1 if self.batch_first and x.ndim == 3 else 0] == 0:
            raise ShapeError(
                f"{type(self).__name__}: expected a sequence length above 0, got input of "
                f"shape {tuple(x.shape)}"
            )
        return x.ndim == 2

    def _initial_state(self, x: Tensor, batch: int, hx: Any, unbatched: bool) -> State:
        """The initial state(s) for a batch of N = ``batch``, zeros (of ``x``'s dtype) when
        None: h (layers * directions, N, proj_size or hidden_size), and an LSTM's c
        (layers * directions, N, hidden_size)."""
        count = self.num_layers * self._directions
        widths = (self.proj_size or self.hidden_size, self.hidden_size)
        parts = 2 if self.mode == "LSTM" else 1
        expected = [(count, batch, width) for width in widths[:parts]]
        if hx is None:
            return tuple(zeros(*shape, dtype=x.dtype, device=x.device) for shape in expected)
        states = tuple(hx) if parts == 2 and isinstance(hx, (tuple, list)) else (hx,)
        if len(states) != parts or not all(isinstance(s, Tensor) for s in states):
            wanted = "a pair of tensors (h_0, c_0)" if parts == 2 else "a tensor h_0"
            raise TypeError(f"{type(self).__name__}: hx must be {wanted}, got {_kind(hx)}")
        states = tuple(s.unsqueeze(1) if unbatched else s for s in states)
        for s, shape in zip(states, expected):
            if tuple(s.shape) != shape:
                shown = shape[:1] + shape[2:] if unbatched else shape
                raise ShapeError(
                    f"{type(self).__name__}: expected a hidden state of shape {shown}, got "
                    f"{tuple(s.shape)[:1] + tuple(s.shape)[2:] if unbatched else tuple(s.shape)}"
                )
        return states

    def _run_direction(
        self, data: Tensor, batch_sizes: list[int], state: State, weights: tuple, reverse: bool
    ) -> tuple[Tensor, State]:
        """One layer in one direction over packed data (sum of batch_sizes, in), step t holding
        the first batch_sizes[t] sequences (longest first): -> the outputs (the same rows,
        proj_size or hidden), the last state. A sequence that has ended (or, in reverse, not
        yet begun) keeps its state."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        projection = () if w_hr is None else (w_hr,)  # an LSTM's with proj_size
        xw = linear(data, w_ih, b_ih)  # (rows, gates): every step's input projection at once
        starts = list(itertools.accumulate(batch_sizes, initial=0))
        step, batch, outputs = STEPS[self.mode], state[0].shape[0], []
        times = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        for t in times:
            size = batch_sizes[t]  # the running sequences are the first `size` rows
            running = state if size == batch else tuple(s[:size] for s in state)
            new = step(xw[starts[t] : starts[t] + size], running, w_hh, b_hh, *projection)
            outputs.append(new[0])  # (size, width): this step's rows of the packed output
            if size < batch:  # the other rows keep their state
                new = tuple(cat([a, s[size:]], 0) for a, s in zip(new, state))
            state = new
        if reverse:
            outputs.reverse()
        return cat(outputs, 0), state

    def _layers(self, data: Tensor, batch_sizes: list[int], state0: State) -> tuple[Tensor, State]:
        """Every layer over packed data (sum of batch_sizes, input_size), with dropout on every
        layer's output but the last: -> (the last layer's outputs (the same rows, D * width),
        the final states, each (num_layers * D, N, ...))."""
        directions = ("", "_reverse")[: self._directions]
        finals: list[State] = []
        for k in range(self.num_layers):
            if k > 0:
                data = dropout(data, self.dropout, self.training)
            outs = []
            for d, suffix in enumerate(directions):
                state = tuple(s[k * len(directions) + d] for s in state0)
                out, last = self._run_direction(
                    data, batch_sizes, state, self._weights(k, suffix), bool(d)
                )
                outs.append(out)
                finals.append(last)
            data = outs[0] if len(outs) == 1 else cat(outs, -1)  # (rows, D * width)
        return data, tuple(stack([f[j] for f in finals], 0) for j in range(len(state0)))

    def forward(
        self,
        input: Tensor | PackedSequence,  # noqa: A002
        hx: Any = None,
    ) -> tuple[Any, Any]:
        """Run every layer over the sequence: input (L, N, input_size) ((N, L, input_size)
        with ``batch_first``), unbatched (L, input_size), or a PackedSequence -> (output of the
        input's kind, D * (proj_size or hidden_size) wide; h_n, or (h_n, c_n) for an LSTM), as
        the class's docstring says."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        unbatched = self._check_input(input)
        x = input.unsqueeze(1) if unbatched else input
        x = x.transpose(0, 1) if self.batch_first and not unbatched else x  # (L, N, input_size)
        steps, batch = x.shape[:2]
        state0 = self._initial_state(x, batch, hx, unbatched)
        rows = x.reshape(steps * batch, self.input_size)  # packed, every sequence L long
        data, last = self._layers(rows, [batch] * steps, state0)
        output = data.reshape(steps, batch, data.shape[-1])  # (L, N, D * width)
        if unbatched:
            output, last = output.squeeze(1), tuple(s.squeeze(1) for s in last)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (last if self.mode == "LSTM" else last[0])

    def _forward_packed(
        self,
        input: PackedSequence,  # noqa: A002
        hx: Any,
    ) -> tuple[PackedSequence, Any]:
        """A PackedSequence in, one out; hx and the final states in the caller's batch order."""
        data, batch_sizes = input.data, [int(n) for n in input.batch_sizes.tolist()]
        if data.ndim != 2 or data.shape[-1] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__}: expected packed data of shape (*, {self.input_size}), "
                f"got {tuple(data.shape)}"
            )
        state0 = self._initial_state(data, batch_sizes[0], hx, False)
        if input.sorted_indices is not None:  # to the packed (longest first) order
            state0 = tuple(index_select(s, 1, input.sorted_indices) for s in state0)
        data, last = self._layers(data, batch_sizes, state0)
        if input.unsorted_indices is not None:  # back to the caller's order
            last = tuple(index_select(s, 1, input.unsorted_indices) for s in last)
        output = PackedSequence(data, *input[1:])
        return output, (last if self.mode == "LSTM" else last[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


def _kind(value: Any) -> str:
    """How an ``hx`` argument is shown in an error: its type, and a tuple's items' types."""
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {[type(v).__name__ for v in value]}"
    return type(value).__name__


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or
    relu), layer by layer, each layer's outputs the next one's inputs.

    Shapes: input (L, N, input_size), (N, L, input_size) with ``batch_first``, or unbatched
    (L, input_size); hx (num_layers * D, N, hidden_size) (zeros when None), D = 2 when
    ``bidirectional`` else 1 -> (output (L, N, D * hidden_size) (batch first as the input),
    h_n (num_layers * D, N, hidden_size)). ``dropout`` applies to every layer's output but the
    last, in training. Parameters ``weight_ih_l{k}`` (hidden, in), ``weight_hh_l{k}``
    (hidden, hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}``, with ``_reverse`` for direction 2;
    ``all_weights`` lists them per layer and direction. ``proj_size`` (LSTM only) is refused
    with PyTorch's ValueError.
    """

    name = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        proj_size: Any = None,
    ) -> None:
        options = dict(num_layers=num_layers, nonlinearity=nonlinearity, bias=bias)
        options |= dict(batch_first=batch_first, dropout=dropout, bidirectional=bidirectional)
        options |= dict(proj_size=proj_size)  # given at all: refused, as PyTorch's
        super().__init__(input_size, hidden_size, options | {"device": device, "dtype": dtype})


class LSTM(RNNBase):
    """A multi-layer LSTM (Hochreiter & Schmidhuber, 1997), gates i, f, g, o as PyTorch.

    Shapes as :class:`RNN`, with the state a pair: hx = (h_0, c_0), each (num_layers * D, N,
    hidden_size) -> (output, (h_n, c_n)). Weights are 4 * hidden_size rows (i, f, g, o).

    With ``proj_size`` P > 0 (0 <= P < hidden_size) each step's ``h = sigmoid(o) tanh(c)`` is
    projected, ``h = h W_hr^T`` with ``weight_hr_l{k}`` (P, hidden_size): h_0 and h_n are
    (num_layers * D, N, P), c_0 and c_n stay (num_layers * D, N, hidden_size), the output is
    (L, N, D * P), ``weight_hh_l{k}`` is (4 hidden_size, P) and layer k > 0 reads D * P inputs.
    """

    name = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first)
        options |= dict(dropout=dropout, bidirectional=bidirectional, proj_size=proj_size)
        super().__init__(input_size, hidden_size, options | {"device": device, "dtype": dtype})


class GRU(RNNBase):
    """A multi-layer GRU (Cho et al., 2014), gates r, z, n as PyTorch, the reset gate on
    ``h W_hn^T + b_hn``.

    Shapes as :class:`RNN`: -> (output, h_n). Weights are 3 * hidden_size rows (r, z, n).
    """

    name = "GRU"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        proj_size: Any = None,
    ) -> None:
        options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first)
        options |= dict(dropout=dropout, bidirectional=bidirectional, proj_size=proj_size)
        super().__init__(input_size, hidden_size, options | {"device": device, "dtype": dtype})
