"""Finite-difference checks, in float64, of the layers added beside torch.nn's (conv, pooling,
normalization, recurrent, attention, distances): the gradient with respect to the input and to
every parameter (gradcheck shifts the parameters' arrays in place, so the module sees each
shift), and the second derivative with respect to the input (gradgradcheck). Their values and
gradients are compared with PyTorch's in ``test_conv.py`` and ``test_nn_layers2.py``; these
tests hold the gradients to the definition of a derivative, with no twin needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)

F64 = mg.float64


def _randn(*shape: int) -> mg.Tensor:
    return mg.randn(*shape, dtype=F64, requires_grad=True)


def _layers() -> list[tuple[str, Callable[[], nn.Module], tuple[int, ...]]]:
    """(name, module factory, input shape): small, so the full Jacobians stay cheap."""
    return [
        ("conv1d", lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1, dtype=F64), (2, 2, 7)),
        ("conv2d", lambda: nn.Conv2d(2, 4, 2, dilation=2, groups=2, dtype=F64), (1, 2, 5, 5)),
        ("maxpool2d", lambda: nn.MaxPool2d(2, stride=1, padding=1), (1, 2, 3, 3)),
        ("avgpool1d", lambda: nn.AvgPool1d(3, stride=2, ceil_mode=True), (2, 2, 6)),
        ("adaptive_avgpool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), (1, 2, 5, 4)),
        ("batchnorm1d", lambda: nn.BatchNorm1d(3, dtype=F64), (4, 3)),
        ("groupnorm", lambda: nn.GroupNorm(2, 4, dtype=F64), (2, 4, 3)),
        ("instancenorm1d", lambda: nn.InstanceNorm1d(2, affine=True, dtype=F64), (2, 2, 5)),
        ("rnn", lambda: nn.RNN(3, 2, num_layers=2, bidirectional=True, dtype=F64), (4, 2, 3)),
        ("lstm", lambda: nn.LSTM(3, 2, batch_first=True, dtype=F64), (2, 3, 3)),
        ("gru", lambda: nn.GRU(3, 2, dtype=F64), (3, 2, 3)),
        ("mha", lambda: nn.MultiheadAttention(4, 2, batch_first=True, dtype=F64), (2, 3, 4)),
    ]


def _first(out: Any) -> mg.Tensor:
    """A layer's main output (RNNs and attention return a tuple)."""
    return out[0] if isinstance(out, tuple) else out


def _call(module: nn.Module, x: mg.Tensor) -> mg.Tensor:
    if isinstance(module, nn.MultiheadAttention):
        return _first(module(x, x, x))  # self-attention: q, k and v all depend on x
    return _first(module(x))


@pytest.mark.parametrize(("name", "make", "shape"), _layers(), ids=[n for n, _, _ in _layers()])
def test_layer_gradients_match_finite_differences(
    name: str, make: Callable[[], nn.Module], shape: tuple[int, ...]
) -> None:
    mg.manual_seed(0)
    module = make()
    params = list(module.parameters())
    x = _randn(*shape)
    assert mg.gradcheck(lambda x, *ps: _call(module, x), [x, *params])
    # the parameters are really inputs of the function checked: each gets a gradient
    _call(module, x).sum().backward()
    assert all(p.grad is not None and np.abs(p.grad.array).sum() > 0 for p in params)


@pytest.mark.parametrize(("name", "make", "shape"), _layers(), ids=[n for n, _, _ in _layers()])
def test_layer_second_derivatives_match_finite_differences(
    name: str, make: Callable[[], nn.Module], shape: tuple[int, ...]
) -> None:
    mg.manual_seed(1)
    module = make()
    assert mg.gradgradcheck(lambda x: _call(module, x), [_randn(*shape)])


def test_cells_gradients_and_second_derivatives() -> None:
    mg.manual_seed(2)
    for cell in (nn.RNNCell(3, 2, dtype=F64), nn.GRUCell(3, 2, dtype=F64)):
        x, h = _randn(4, 3), _randn(4, 2)
        assert mg.gradcheck(lambda x, h, *ps, cell=cell: cell(x, h), [x, h, *cell.parameters()])
        assert mg.gradgradcheck(lambda x, h, cell=cell: cell(x, h), [x, h])
    lstm = nn.LSTMCell(3, 2, dtype=F64)
    x, h, c = _randn(4, 3), _randn(4, 2), _randn(4, 2)
    assert mg.gradcheck(lambda x, h, c, *ps: lstm(x, (h, c)), [x, h, c, *lstm.parameters()])
    assert mg.gradgradcheck(lambda x, h, c: lstm(x, (h, c)), [x, h, c])


def test_attention_and_distance_functions_match_finite_differences() -> None:
    mg.manual_seed(3)
    q, k, v = _randn(2, 3, 4), _randn(2, 5, 4), _randn(2, 5, 4)
    mask = mg.tensor(np.tril(np.ones((3, 5), dtype=bool)))
    for fn in (
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
    ):
        assert mg.gradcheck(fn, [q, k, v])
        assert mg.gradgradcheck(fn, [q, k, v])
    a, b = _randn(4, 3), _randn(4, 3)
    for fn in (
        lambda a, b: F.cosine_similarity(a, b, dim=1),
        lambda a, b: F.pairwise_distance(a, b, p=3.0),
    ):
        assert mg.gradcheck(fn, [a, b])
        assert mg.gradgradcheck(fn, [a, b])
