"""minigrad.saved_tensors_hooks: what each node keeps for backward, seen, moved and compressed
by a pair of hooks (PyTorch's torch.autograd.graph.saved_tensors_hooks)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def _leaves(rng, dtype=np.float64):
    x = mg.tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
    w = mg.tensor(rng.standard_normal((3, 5)).astype(dtype), requires_grad=True)
    return x, w


def _loss(x, w):
    # MatMul saves x and w, Tanh its output (4, 5), Exp its output (4, 5); Mul by the constant
    # 0.5 saves only 0.5 (x's gradient reads it, not Exp's output; as PyTorch), never packed
    return (mg.tanh(x @ w).exp() * 0.5).sum()


def _grads(x, w, hooks=None):
    x.grad = w.grad = None
    if hooks is None:
        loss = _loss(x, w)
    else:
        with mg.saved_tensors_hooks(*hooks):
            loss = _loss(x, w)
    loss.backward()
    return x.grad.numpy(), w.grad.numpy()


def test_pack_sees_every_saved_array_and_unpack_gives_them_back(rng):
    x, w = _leaves(rng)
    plain = _grads(x, w)
    packed, unpacked = [], []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    def unpack(t):
        unpacked.append(tuple(t.shape))
        return t

    hooked = _grads(x, w, (pack, unpack))
    assert packed == [(4, 3), (3, 5), (4, 5), (4, 5)]  # PyTorch packs these four too
    assert sorted(unpacked) == sorted(packed)  # backward visits the nodes in reverse
    for a, b in zip(plain, hooked):
        assert np.array_equal(a, b)


def test_hooks_can_move_saved_arrays_out_of_the_graph_and_back(rng):
    # "offload": keep a host copy (a NumPy array) instead of the array; the ledger then sees
    # the copies, not the activations, and the gradients are unchanged
    x, w = _leaves(rng)
    plain = _grads(x, w)
    hooks = (lambda t: ("host", t.numpy().copy()), lambda packed: mg.tensor(packed[1]))
    with mg.trace_memory(measure_process=False) as ledger:
        hooked = _grads(x, w, hooks)
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a, b)
    assert ledger.peak_saved_bytes == 0  # a tuple holding a host array is not a saved array


def test_hooks_can_compress_saved_arrays(rng):
    # float16 storage, cast back on unpack: the gradients agree to float16 precision
    x, w = _leaves(rng, np.float32)
    plain = _grads(x, w)
    hooks = (lambda t: t.to(dtype=mg.float16), lambda t: t.to(dtype=mg.float32))
    with mg.trace_memory(measure_process=False) as ledger:
        hooked = _grads(x, w, hooks)
    for a, b in zip(plain, hooked):
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-2)
        assert not np.array_equal(a, b)
    # 2 bytes an element: x (4, 3), w (3, 5) and two (4, 5) arrays (Tanh's and Exp's outputs)
    assert ledger.peak_saved_bytes == 2 * (12 + 15 + 20 + 20)


def test_innermost_context_wins_and_outer_resumes(rng):
    x, w = _leaves(rng)
    calls = []

    def tag(name):
        return lambda t: (calls.append(name), t)[1]

    with mg.saved_tensors_hooks(tag("outer"), lambda t: t):
        y = mg.tanh(x)
        with mg.saved_tensors_hooks(tag("inner"), lambda t: t):
            z = mg.exp(y)
        (z * y).sum().backward()
    assert calls == ["outer", "inner", "outer", "outer"]
    np.testing.assert_allclose(x.grad.numpy(), _grads_tanh_exp(x.numpy()))


def _grads_tanh_exp(x):
    y = np.tanh(x)
    # d/dx [exp(y) * y] = (exp(y) * y + exp(y)) * (1 - y^2)
    return (np.exp(y) * y + np.exp(y)) * (1 - y**2)


def test_no_pack_without_a_recorded_node(rng):
    x, _ = _leaves(rng)
    calls = []
    with mg.saved_tensors_hooks(lambda t: calls.append(t) or t, lambda t: t):
        with mg.no_grad():
            mg.tanh(x)
        mg.tanh(mg.tensor(x.numpy()))  # no input requires grad
    assert calls == []


def test_retain_graph_unpacks_again_and_freeing_still_raises(rng):
    x, w = _leaves(rng)
    unpacks = []
    with mg.saved_tensors_hooks(lambda t: t, lambda t: unpacks.append(1) or t):
        loss = _loss(x, w)
    loss.backward(retain_graph=True)
    first = len(unpacks)
    loss.backward()
    assert first == 4 and len(unpacks) == 8
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_unpack_returning_the_wrong_shape_names_the_node(rng):
    x, _ = _leaves(rng)
    with mg.saved_tensors_hooks(lambda t: t, lambda t: mg.zeros(2, dtype=mg.float64)):
        y = mg.tanh(x).sum()
    with pytest.raises(RuntimeError, match=r"Tanh node; expected a tensor of shape \(4, 3\)"):
        y.backward()


def test_unpack_returning_a_non_tensor_is_refused(rng):
    x, _ = _leaves(rng)
    with mg.saved_tensors_hooks(lambda t: t, lambda t: "oops"):
        y = mg.exp(x).sum()
    with pytest.raises(RuntimeError, match="unpack_hook returned str for saved value 0"):
        y.backward()


def test_hooks_must_be_callables():
    with pytest.raises(TypeError, match="must be callables, got int and function"):
        mg.saved_tensors_hooks(1, lambda t: t)


def test_no_hooks_nodes_keep_plain_tuples(rng):
    # the hot path: without a context nothing is wrapped
    x, w = _leaves(rng)
    assert (x @ w).grad_fn.saved_tensors.__class__ is tuple
    with mg.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert (x @ w).grad_fn.saved_tensors.__class__ is not tuple
    assert (x @ w).grad_fn.saved_tensors.__class__ is tuple


def test_hooks_apply_to_double_backward(rng):
    # the second derivative of a graph whose saved arrays went through the hooks: unchanged
    x, w = _leaves(rng)

    def second_derivatives(hooks):
        if hooks is None:
            loss = _loss(x, w)
        else:
            with mg.saved_tensors_hooks(*hooks):
                loss = _loss(x, w)
        (gx,) = mg.grad(loss, [x], create_graph=True)
        return mg.grad(gx.sum(), [x, w])

    plain = second_derivatives(None)
    hooked = second_derivatives((lambda t: ("host", t.numpy().copy()), lambda p: mg.tensor(p[1])))
    for a, b in zip(plain, hooked):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
