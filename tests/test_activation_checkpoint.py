"""minigrad.checkpoint: activation checkpointing (PyTorch's torch.utils.checkpoint without
re-entrance). The block's arrays are dropped in forward and recomputed in backward, with the
same random draws, and the gradients are the plain run's bit for bit (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


class _Block:
    """linear -> tanh -> dropout -> linear, reading its two weights (not arguments)."""

    def __init__(self, rng, d=6, p=0.5):
        self.w1 = mg.tensor(rng.standard_normal((d, 2 * d)) / d, requires_grad=True)
        self.w2 = mg.tensor(rng.standard_normal((2 * d, d)) / d, requires_grad=True)
        self.p = p

    def __call__(self, x, scale=1.0):
        h = mg.dropout(mg.tanh(x @ self.w1), self.p)  # (B, 2d)
        return (h @ self.w2) * scale  # (B, d)

    def params(self):
        return [self.w1, self.w2]


def _run(blocks, x, use_checkpoint, seed=7):
    """Forward through the blocks and backward; returns the output, x's and the weights' grads."""
    for t in [x, *(p for b in blocks for p in b.params())]:
        t.grad = None
    mg.manual_seed(seed)
    h = x * 1.0  # a non-leaf input: gradients must flow through the checkpoint to x
    for block in blocks:
        h = mg.checkpoint(block, h) if use_checkpoint else block(h)
    h.exp().sum().backward()
    return h.numpy(), x.grad.numpy(), [p.grad.numpy() for b in blocks for p in b.params()]


def test_gradients_are_identical_to_the_plain_run(rng):
    blocks = [_Block(rng) for _ in range(3)]
    x = mg.tensor(rng.standard_normal((5, 6)), requires_grad=True)
    out, gx, gw = _run(blocks, x, use_checkpoint=False)
    out_c, gx_c, gw_c = _run(blocks, x, use_checkpoint=True)
    assert np.array_equal(out, out_c)
    assert np.array_equal(gx, gx_c)
    for a, b in zip(gw, gw_c):
        assert np.array_equal(a, b)


def test_dropout_masks_are_replayed_and_the_generator_moves_on_as_without(rng):
    x = mg.tensor(rng.standard_normal((50, 40)), requires_grad=True)
    # no manual_seed: the generator is whatever it is; the recomputation must replay it
    out = mg.checkpoint(mg.dropout, x, 0.5)
    out.sum().backward()
    kept = out.numpy() != 0
    assert 0.3 < kept.mean() < 0.7
    # d dropout(x)/dx = mask / (1 - p): the mask of the forward, not a fresh draw
    np.testing.assert_array_equal(x.grad.numpy(), kept * 2.0)
    # the draws after backward are those of a run without the recomputation
    mg.manual_seed(3)
    mg.dropout(x, 0.5)
    after_plain = mg.rand(4).numpy()
    mg.manual_seed(3)
    mg.checkpoint(mg.dropout, x, 0.5).sum().backward()
    np.testing.assert_array_equal(mg.rand(4).numpy(), after_plain)


def test_peak_saved_bytes_are_lower(rng):
    blocks = [_Block(rng, d=16) for _ in range(4)]
    x = mg.tensor(rng.standard_normal((32, 16)), requires_grad=True)
    peaks = {}
    for use in (False, True):
        with mg.trace_memory(measure_process=False) as ledger:
            h = x
            for block in blocks:
                h = mg.checkpoint(block, h) if use else block(h)
            loss = h.sum()
        peaks[use] = ledger.peak_saved_bytes
        loss.backward()
    # plain: per block x, w1, tanh out, mask, dropout out, w2 (~17 KiB); checkpointed: nothing
    # saved by the blocks' nodes in forward (the inputs are held by the checkpoint itself)
    assert peaks[False] > 4 * 32 * 32 * 8
    assert peaks[True] == 0


def test_minigrad_grad_reaches_the_parameters_the_block_reads(rng):
    block = _Block(rng, p=0.0)
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    plain = mg.grad(block(x).sum(), [x, *block.params()])
    ckpt = mg.grad(mg.checkpoint(block, x).sum(), [x, *block.params()])
    for a, b in zip(plain, ckpt):
        assert np.array_equal(a.numpy(), b.numpy())
    assert all(p.grad is None for p in block.params())  # grad() accumulates nothing


def test_retain_graph_recomputes_again(rng):
    block = _Block(rng)
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    calls = []

    def counted(h):
        calls.append(1)
        return block(h)

    loss = mg.checkpoint(counted, x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    assert len(calls) == 3  # the forward and one recomputation per backward
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)


def test_keyword_and_constant_arguments_pass_through(rng):
    block = _Block(rng)
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    mg.manual_seed(1)
    block(x, scale=3.0).sum().backward()
    plain = x.grad.numpy().copy()
    x.grad = None
    mg.manual_seed(1)
    mg.checkpoint(block, x, scale=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain)


def test_nested_checkpoints(rng):
    inner, outer_block = _Block(rng), _Block(rng)
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)

    def outer(h):
        return outer_block(mg.checkpoint(inner, h))

    mg.manual_seed(2)
    outer(x).exp().sum().backward()
    plain = [x.grad.numpy().copy(), *(p.grad.numpy().copy() for p in inner.params())]
    x.grad = None
    for p in inner.params() + outer_block.params():
        p.grad = None
    mg.manual_seed(2)
    mg.checkpoint(outer, x).exp().sum().backward()
    for a, b in zip(plain, [x.grad, *(p.grad for p in inner.params())]):
        np.testing.assert_array_equal(a, b.numpy())


def test_outside_grad_mode_it_just_calls(rng):
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    with mg.no_grad():
        y = mg.checkpoint(mg.tanh, x)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), mg.tanh(x).detach().numpy())


def test_a_function_that_changes_between_runs_is_refused(rng):
    x = mg.tensor(rng.standard_normal((3, 6)), requires_grad=True)
    runs = []

    def moody(h):
        runs.append(1)
        return mg.tanh(h) if len(runs) == 1 else mg.tanh(mg.exp(h))

    y = mg.checkpoint(moody, x).sum()
    with pytest.raises(
        RuntimeError, match="moody saved 2 arrays for backward where its forward saved 1"
    ):
        y.backward()


def test_not_callable_is_refused():
    with pytest.raises(TypeError, match="function must be callable, got int"):
        mg.checkpoint(3, mg.zeros(2))


def test_rng_state_replays_every_draw_and_survives_reseeding():
    mg.manual_seed(11)
    state = mg.backend.get_rng_state(("cpu",))
    first = [mg.rand(3).numpy(), mg.randn(2, 2).numpy()]
    mg.manual_seed(99)  # makes new generators: the saved state still holds the old ones
    mg.rand(5)
    mg.backend.set_rng_state(state)
    again = [mg.rand(3).numpy(), mg.randn(2, 2).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    mg.backend.set_rng_state(state)  # reusable
    np.testing.assert_array_equal(mg.rand(3).numpy(), first[0])


def test_double_backward_through_a_checkpoint(rng):
    """A gradient penalty through a checkpointed block (create_graph=True): the recomputed
    arrays reconnect to the forward's graph, so the second derivatives are the plain ones."""
    block = _Block(rng, p=0.3)
    x0 = rng.standard_normal((4, 6))

    def penalty_grads(use_checkpoint):
        mg.manual_seed(3)
        x = mg.tensor(x0, requires_grad=True)
        out = mg.checkpoint(block, x) if use_checkpoint else block(x)
        (gx,) = mg.grad(out.tanh().sum(), [x], create_graph=True)
        return mg.grad((gx**2).sum(), [x, *block.params()])

    for a, b in zip(penalty_grads(False), penalty_grads(True)):
        assert np.array_equal(a.numpy(), b.numpy())
