"""Review of the engine's in-place ``.grad`` accumulation and of nn's module hooks: each test
runs one program through minigrad and PyTorch (``lib`` is either module) and compares what a
caller sees. A ``.grad`` added to in place must share memory with nothing the caller holds:
a gradient a hook kept or returned, or a non-leaf's retained ``.grad``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

LIBS = pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
# PyTorch warns that backward(create_graph=True) makes a reference cycle; these tests know
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")


def _t(lib: Any, data: Any, requires_grad: bool = False) -> Any:
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def _np(x: Any) -> np.ndarray:
    return np.array(x.detach().tolist())


@LIBS
def test_retained_grad_does_not_alias_a_leaf_grad(lib: Any) -> None:
    # y = x + 0 passes its gradient on unchanged: y.grad and x.grad must still be two arrays
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    y = x + 0
    y.retain_grad()
    (y * 3).sum().backward()
    y.grad.zero_()
    np.testing.assert_array_equal(_np(x.grad), [3.0, 3.0, 3.0])


@LIBS
def test_retained_grad_does_not_alias_a_leaf_grad_create_graph(lib: Any) -> None:
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    y = x + 0
    y.retain_grad()
    (y * 3).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    old = y.grad
    (y * 3).sum().backward()  # first order: x.grad += 3, in place
    np.testing.assert_array_equal(_np(old), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(_np(x.grad), [6.0, 6.0, 6.0])


@LIBS
def test_leaf_hook_that_keeps_its_gradient_sees_no_later_backward(lib: Any) -> None:
    kept = []
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(kept.append)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(_np(kept[0]), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(_np(x.grad), [4.0, 4.0, 4.0])


@LIBS
def test_nonleaf_hook_that_keeps_its_gradient_sees_no_grad_change(lib: Any) -> None:
    kept = []
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    y = x + 0
    y.register_hook(kept.append)
    (y * 2).sum().backward()
    with lib.no_grad():
        x.grad.mul_(10)
    np.testing.assert_array_equal(_np(kept[0]), [2.0, 2.0, 2.0])


@LIBS
@pytest.mark.parametrize("create_graph", [False, True])
def test_hook_returning_the_callers_tensor_leaves_it_alone(lib: Any, create_graph: bool) -> None:
    c = _t(lib, [5.0, 5.0, 5.0])
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    x.register_hook(lambda g: c)
    (x * 2).sum().backward(create_graph=create_graph)
    assert x.grad is not c
    (x * 2).sum().backward()
    np.testing.assert_array_equal(_np(c), [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(_np(x.grad), [10.0, 10.0, 10.0])


@LIBS
def test_nonleaf_hook_returning_the_callers_tensor_leaves_it_alone(lib: Any) -> None:
    c = _t(lib, [5.0, 5.0, 5.0])
    x = _t(lib, [1.0, 2.0, 3.0], requires_grad=True)
    y = x + 0
    y.register_hook(lambda g: c)
    (y * 2).sum().backward()
    with lib.no_grad():
        x.grad.add_(1)
    np.testing.assert_array_equal(_np(c), [5.0, 5.0, 5.0])


@LIBS
def test_grad_set_by_hand_is_added_to_in_place(lib: Any) -> None:
    # PyTorch adds into the caller's tensor: the engine must not copy it
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    t = _t(lib, [10.0, 10.0])
    x.grad = t
    (x * 2).sum().backward()
    assert x.grad is t
    np.testing.assert_array_equal(_np(t), [12.0, 12.0])


def test_hooks_that_keep_nothing_cost_no_copy() -> None:
    # the copy is for a gradient held elsewhere only: a hook that returns None or its argument
    # leaves the engine's array as it was
    from minigrad import autograd

    g = np.ones(3)
    assert autograd._run_hooks_no_grad([lambda t: None, lambda t: t], g) is g
    gt = mg.tensor([1.0, 2.0])
    with mg.enable_grad():
        assert autograd._run_hooks_graph([lambda t: None, lambda t: t], gt) is gt


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("inputs", [False, True])
def test_grad_set_by_hand_to_another_shape_raises_before_any_grad_changes(
    create_graph: bool, inputs: bool
) -> None:
    # PyTorch refuses the assignment; minigrad at backward, before any .grad is added to (the
    # create_graph path used to broadcast the wrong .grad, and the first leaf was updated)
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    a.grad = mg.tensor([1.0, 1.0])
    b.grad = mg.tensor([1.0])
    kwargs = {"inputs": [a, b]} if inputs else {}
    with pytest.raises(RuntimeError, match=r"set to shape \(1,\)"):
        (a * b).sum().backward(create_graph=create_graph, **kwargs)
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_set_by_hand_to_another_dtype_raises(create_graph: bool) -> None:
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    a.grad = mg.tensor([1.0, 1.0], dtype=mg.float64)
    with pytest.raises(RuntimeError, match="dtype float64"):
        (a * a).sum().backward(create_graph=create_graph)
    assert a.grad.dtype == mg.float64


@LIBS
@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_inputs_adds_a_retained_nonleaf_grad_once(lib: Any, create_graph: bool) -> None:
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward(inputs=[y], create_graph=create_graph)
    np.testing.assert_array_equal(_np(y.grad), [6.0, 12.0])
    assert x.grad is None


@pytest.mark.parametrize("create_graph", [False, True])
def test_retained_grad_set_by_hand_to_another_shape_raises(create_graph: bool) -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.grad = mg.tensor([1.0])
    with pytest.raises(RuntimeError, match=r"set to shape \(1,\)"):
        (y * y).sum().backward(create_graph=create_graph)


@LIBS
def test_leaf_with_post_accumulate_hook_shares_no_grad_with_another_leaf(lib: Any) -> None:
    # a leaf with a post-accumulate hook is accumulated early, the others at the end: the
    # array the add's backward gives both must not become both .grads
    a = _t(lib, [1.0, 2.0], requires_grad=True)
    b = _t(lib, [3.0, 4.0], requires_grad=True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda p: seen.append(_np(p.grad)))
    ((a + b) * 2).sum().backward()
    with lib.no_grad():
        a.grad.mul_(100)
    np.testing.assert_array_equal(_np(b.grad), [2.0, 2.0])
    np.testing.assert_array_equal(seen[0], [2.0, 2.0])


def test_autograd_backward_of_a_sequence_sums_the_outputs_gradients() -> None:
    """Several outputs at once (torch.autograd.backward's sequence form) run as one backward:
    the same .grad as backward on their sum (tests/test_engine_breadth2.py has the rest)."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    outputs = [(x * 2).sum(), (x * x).sum()]
    mg.autograd.backward(outputs)
    # d(2x + x^2)/dx = 2 + 2x, as torch
    np.testing.assert_array_equal(x.grad.array, [4.0, 6.0])
