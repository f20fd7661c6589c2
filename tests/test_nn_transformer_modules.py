"""``nn.Transformer`` and its layers (``nn/transformer_layers.py``) against torch.nn's: the
state dict's names and shapes, outputs and the gradients of the inputs and of every parameter
with torch's weights loaded (post- and pre-norm, batch first or not, bool and float masks,
unbatched inputs, gelu and a callable activation), the initialization, independent layer
copies, the causal mask, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from tests.conftest import torch

pytestmark = [
    pytest.mark.skipif(torch is None, reason="torch is not installed"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
]

TOL = {"rtol": 1e-9, "atol": 1e-11}


def _twin(name, *args, **kwargs):
    """minigrad's module and torch's with the same arguments (float64, no dropout), torch's
    weights loaded into minigrad's by name."""
    theirs = getattr(torch.nn, name)(*args, **kwargs, dropout=0.0, dtype=torch.float64)
    ours = getattr(nn, name)(*args, **kwargs, dropout=0.0, dtype=mg.float64)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run(ours, theirs, arrays, **masks):
    """Both modules on the same inputs and masks; compares the outputs, then the gradients of
    the inputs and of every parameter."""
    rng = np.random.default_rng(0)
    mine = [mg.tensor(a, requires_grad=True) for a in arrays]
    them = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*mine, **{k: mg.tensor(v) for k, v in masks.items()})
    tout = theirs(*them, **{k: torch.tensor(v) for k, v in masks.items()})
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TOL)
    up = rng.standard_normal(tuple(out.shape))
    (out * mg.tensor(up)).sum().backward()
    (tout * torch.tensor(up)).sum().backward()
    for m, t in zip(mine, them):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **TOL)
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tgrads[name].grad.numpy(), **TOL, err_msg=name)


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_pytorch(norm_first, batch_first):
    ours, theirs = _twin(
        "Transformer", 16, 4, 2, 2, 32, norm_first=norm_first, batch_first=batch_first
    )
    rng = np.random.default_rng(1)
    n, s, t = 3, 5, 4
    src = rng.standard_normal((n, s, 16) if batch_first else (s, n, 16))
    tgt = rng.standard_normal((n, t, 16) if batch_first else (t, n, 16))
    padding = np.zeros((n, s), bool)
    padding[0, -2:] = True
    _run(
        ours, theirs, [src, tgt], tgt_mask=_causal(t), src_key_padding_mask=padding,
        memory_key_padding_mask=padding,
    )  # fmt: skip


@pytest.mark.parametrize("activation", ["gelu", "callable"])
def test_encoder_layer_activations_and_bool_mask(activation):
    act = (lambda x: x.tanh()) if activation == "callable" else "gelu"
    tact = torch.tanh if activation == "callable" else "gelu"
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, tact, dtype=torch.float64)
    ours = nn.TransformerEncoderLayer(8, 2, 16, 0.0, act, dtype=mg.float64)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((6, 2, 8))
    mask = np.triu(np.ones((6, 6), bool), 1)  # True: may not attend
    _run(ours, theirs, [x], src_mask=mask)


def test_decoder_layer_unbatched_and_memory_mask():
    ours, theirs = _twin("TransformerDecoderLayer", 8, 2, 16, norm_first=True)
    rng = np.random.default_rng(3)
    tgt, memory = rng.standard_normal((4, 8)), rng.standard_normal((5, 8))
    memory_mask = np.zeros((4, 5))
    memory_mask[:, -1] = -np.inf
    _run(ours, theirs, [tgt, memory], tgt_mask=_causal(4), memory_mask=memory_mask)


def test_stacks_without_a_final_norm():
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=torch.float64)
    theirs = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=mg.float64), 2)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    _run(ours, theirs, [np.random.default_rng(4).standard_normal((3, 2, 8))])
    dlayer = torch.nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=torch.float64)
    theirs = torch.nn.TransformerDecoder(dlayer, 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=mg.float64), 2)
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(5)
    _run(ours, theirs, [rng.standard_normal((3, 2, 8)), rng.standard_normal((4, 2, 8))])


def test_copies_are_independent_and_initialized_as_pytorch():
    model = nn.Transformer(16, 4, 2, 1, 32)
    first, second = model.encoder.layers[0], model.encoder.layers[1]
    assert first.linear1.weight is not second.linear1.weight
    assert not np.array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())
    # Xavier uniform on every matrix: |w| <= sqrt(6 / (fan_in + fan_out))
    for name, p in model.named_parameters():
        if p.ndim > 1:
            bound = math.sqrt(6.0 / sum(p.shape[:2]))
            assert np.abs(p.numpy()).max() <= bound + 1e-7, name
    assert len(model.decoder.layers) == 1 and model.encoder.num_layers == 2


def test_causal_mask_and_train_mode():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    assert mask.dtype == mg.float32
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.5)
    x = mg.randn(3, 2, 8)
    model.eval()
    np.testing.assert_array_equal(model(x, x).numpy(), model(x, x).numpy())
    model.train()
    assert not np.array_equal(model(x, x).numpy(), model(x, x).numpy())


def test_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(ValueError, match=r"batch sizes of src \(3, 2, 8\) and tgt \(3, 4, 8\)"):
        model(mg.randn(3, 2, 8), mg.randn(3, 4, 8))
    with pytest.raises(ValueError, match="d_model = 8"):
        model(mg.randn(3, 2, 6), mg.randn(3, 2, 6))
    with pytest.raises(ValueError, match="num_layers"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), -1)
