"""Autograd semantics: accumulation, hooks, graph freeing, grad mode, grad(), inspection,
gradcheck, seeding, factories, Tensor attributes and backend selection.

Numerical comparisons are done in float64 against NumPy reference values.
"""

from __future__ import annotations

import gc
import re
import shutil
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from minigrad.autograd import Function


def _f64(values) -> mg.Tensor:
    """A float64 leaf that requires grad."""
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def _values(t) -> np.ndarray:
    """The values of a tensor (or, leniently, of a raw array) as a NumPy array."""
    return t.numpy() if isinstance(t, mg.Tensor) else np.asarray(t)


@pytest.fixture
def numpy_backend():
    """Run a test under the NumPy backend and restore whatever backend was active."""
    previous = mg.get_backend()
    mg.set_backend("numpy")
    try:
        yield
    finally:
        mg.set_backend(previous)


# =============================================================================================
# Accumulation, retain_grad, hooks
# =============================================================================================


def test_grad_accumulates_across_backward_calls():
    x = _f64([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 3.0)
    assert x.grad.dtype == np.float64
    assert x.grad.shape == x.shape


def test_leaf_grads_are_independent_writable_arrays():
    # An optimizer zeroes or scales .grad in place; two leaves must not share one gradient
    # buffer, and a gradient must not be a read-only broadcast view.
    a = _f64([1.0, 2.0])
    b = _f64([3.0, 4.0])
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.array, b.grad.array)
    a.grad.zero_()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_retain_grad_keeps_nonleaf_grad():
    x = _f64([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(_values(y.grad), 2 * (2 * x.numpy()))
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_retained_grad_is_a_tensor():
    x = _f64([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    y.sum().backward()
    assert isinstance(y.grad, mg.Tensor)
    assert y.grad.shape == (2,)
    assert y.grad.dtype == np.float64


def test_nonleaf_grad_is_not_kept_without_retain_grad():
    x = _f64([1.0, 2.0])
    y = x * 2.0
    y.sum().backward()
    assert y.grad is None
    assert x.grad is not None


def test_hook_on_leaf_inspects_gradient():
    x = _f64([1.0, 2.0, 3.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    (x * x).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


def test_hook_on_leaf_replaces_gradient():
    x = _f64([1.0, 2.0, 3.0])
    x.register_hook(lambda g: g * 10.0)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 20 * x.numpy())


def test_hook_on_nonleaf_inspects_and_replaces_gradient():
    x = _f64([1.0, 2.0])
    y = x * 3.0
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()))
    y.register_hook(lambda g: g * 0.0)
    (y * y).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * y.numpy())  # d(sum y^2)/dy
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])  # the replaced gradient flowed on


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "nonleaf"])
def test_hook_remover_removes_hook(leaf):
    x = _f64([1.0, 2.0])
    target = x if leaf else x * 1.0
    calls = []

    def hook(g):
        calls.append(1)
        return g * 100.0

    remove = target.register_hook(hook)
    remove()
    (target * target).sum().backward()
    assert calls == []
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


# =============================================================================================
# Graph freeing and a second backward
# =============================================================================================


def test_backward_frees_saved_arrays():
    x = _f64([0.5, 1.0, 1.5])
    y = x.exp()
    saved = y.grad_fn.saved_tensors
    assert len(saved) == 1
    ref = weakref.ref(saved[0])  # exp saves its output array
    del saved
    z = y.sum()
    del y
    gc.collect()
    assert ref() is not None, "the graph should keep the saved array alive until backward"
    z.backward()
    gc.collect()
    assert ref() is None, "backward() should free the arrays the graph saved"
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy()))


def test_second_backward_through_freed_graph_raises():
    x = _f64([0.5, 1.0])
    z = x.exp().sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_retain_graph_allows_second_backward_and_doubles_grad():
    x = _f64([0.5, 1.0])
    z = x.exp().sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy()))
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.numpy()))


def test_long_chain_backward_without_recursion_error():
    x = _f64([1.0, 2.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.sum().backward()
    expected = np.float64(1.0001) ** 100_000  # about e^10
    np.testing.assert_allclose(x.grad.numpy(), [expected, expected], rtol=1e-9)
    np.testing.assert_allclose(y.numpy(), x.numpy() * expected, rtol=1e-9)


# =============================================================================================
# Grad mode
# =============================================================================================


def test_no_grad_context_manager():
    x = _f64([1.0, 2.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2.0
    assert mg.is_grad_enabled()
    assert y.requires_grad is False
    assert y.grad_fn is None
    np.testing.assert_allclose(y.numpy(), [2.0, 4.0])


def test_no_grad_decorator():
    x = _f64([1.0, 2.0])

    @mg.no_grad()
    def double(t):
        assert not mg.is_grad_enabled()
        return t * 2.0

    y = double(x)
    assert mg.is_grad_enabled()
    assert y.requires_grad is False
    assert y.grad_fn is None
    assert double.__name__ == "double"  # functools.wraps


def test_enable_grad_inside_no_grad():
    x = _f64([1.0, 2.0])
    with mg.no_grad():
        with mg.enable_grad():
            assert mg.is_grad_enabled()
            y = x * 2.0
        z = x * 2.0
        assert not mg.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad and z.grad_fn is None


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0  # noqa: B018
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        fails()
    assert mg.is_grad_enabled()

    with mg.no_grad():
        with pytest.raises(ZeroDivisionError):
            with mg.enable_grad():
                1 / 0  # noqa: B018
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()


# =============================================================================================
# backward() arguments
# =============================================================================================


def test_backward_on_nonscalar_without_gradient_names_shape():
    x = mg.ones(2, 3, requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()
    assert x.grad is None


def test_backward_with_explicit_gradient():
    x = _f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * x
    g = np.arange(6, dtype=np.float64).reshape(2, 3)
    y.backward(mg.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() * g)


def test_backward_with_gradient_of_wrong_shape_raises():
    x = _f64([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x * x
    with pytest.raises(RuntimeError, match=r"\(3, 2\)") as info:
        y.backward(mg.tensor(np.ones((3, 2))))
    assert "(2, 3)" in str(info.value)
    assert x.grad is None


def test_backward_on_integer_tensor_raises():
    t = mg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):
        t.sum().backward()


def test_backward_on_tensor_without_grad_raises():
    t = mg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="require"):
        (t * 2.0).sum().backward()


# =============================================================================================
# minigrad.grad
# =============================================================================================


def test_grad_returns_gradients_and_leaves_dot_grad_untouched():
    a = _f64([1.0, 2.0, 3.0])
    b = _f64([4.0, 5.0, 6.0])
    out = (a * b).sum()
    ga, gb = mg.grad(out, [a, b])
    np.testing.assert_allclose(ga.numpy(), b.numpy())
    np.testing.assert_allclose(gb.numpy(), a.numpy())
    assert ga.dtype == np.float64 and ga.shape == (3,)
    assert a.grad is None and b.grad is None


def test_grad_with_grad_outputs():
    x = _f64([1.0, 2.0])
    y = x * x
    (gx,) = mg.grad(y, [x], grad_outputs=mg.tensor(np.array([3.0, 5.0])))
    np.testing.assert_allclose(gx.numpy(), [2 * 1.0 * 3.0, 2 * 2.0 * 5.0])
    assert x.grad is None


def test_grad_with_respect_to_nonleaf():
    x = _f64([1.0, 2.0])
    y = x.exp()
    z = (y * y).sum()
    (gy,) = mg.grad(z, [y])
    np.testing.assert_allclose(gy.numpy(), 2 * np.exp(x.numpy()))
    assert x.grad is None


def test_grad_with_leaf_and_nonleaf_inputs_gives_total_derivatives():
    # z = (2x) * x: dz/dx is the total derivative 4x (as torch.autograd.grad), not only the
    # path that bypasses y; dz/dy = x.
    x = _f64(3.0)
    y = x * 2.0
    z = y * x
    gx, gy = mg.grad(z, [x, y])
    assert gx.item() == pytest.approx(12.0)
    assert gy.item() == pytest.approx(3.0)


def test_grad_unused_input():
    x = _f64([1.0, 2.0])
    unused = _f64([5.0])
    out = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.grad(out, [x, unused], retain_graph=True)
    gx, gu = mg.grad(out, [x, unused], allow_unused=True)
    np.testing.assert_allclose(gx.numpy(), 2 * x.numpy())
    assert gu is None


# =============================================================================================
# Inspection: grad_fn, next_functions, viz, trace_backward
# =============================================================================================


def test_grad_fn_names_op_and_lists_inputs():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4, requires_grad=True)
    c = a @ b
    assert c.grad_fn.name == "MatMul"
    assert len(c.grad_fn.next_functions) == 2
    # a leaf's node is its AccumulateGrad (PyTorch's), one per leaf, pointing back at it
    assert c.grad_fn.next_functions[0].name == "AccumulateGrad"
    assert c.grad_fn.next_functions[0].variable is a
    assert c.grad_fn.next_functions[1].variable is b
    assert (a * 2).grad_fn.next_functions[0] is c.grad_fn.next_functions[0]
    assert "MatMul" in repr(c.grad_fn)
    d = c.exp()
    assert d.grad_fn.name == "Exp"
    assert d.grad_fn.next_functions[0] is c.grad_fn
    assert "MatMul" in repr(d.grad_fn)
    # an input that does not require grad has no node
    e = a * mg.ones(2, 3)
    assert e.grad_fn.next_functions[1] is None
    assert a.is_leaf and not c.is_leaf


def test_to_dot():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4, requires_grad=True)
    out = (a @ b).exp().sum()
    dot = mg.viz.to_dot(out)
    assert dot.startswith("digraph")
    for text in ("MatMul", "Exp", "Sum", "(2, 3)", "(3, 4)", "(2, 4)", "float32"):
        assert text in dot, text
    assert dot.rstrip().endswith("}")


def test_trace_backward_records_each_node():
    a = mg.randn(2, 3, requires_grad=True)
    b = mg.randn(3, 4, requires_grad=True)
    out = (a @ b).exp().sum()
    with mg.trace_backward() as trace:
        out.backward()
    ops = [r["op"] for r in trace.records]
    assert ops == ["Sum", "Exp", "MatMul"]
    assert trace.records[2]["out_shape"] == (2, 4)
    assert trace.records[2]["grad_shapes"] == [(2, 3), (3, 4)]
    assert "MatMul" in str(trace)


# =============================================================================================
# gradcheck
# =============================================================================================


class _Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # dx = 2 g x
        return 2 * g * x


class _BadSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # wrong on purpose: the factor 2 is missing


class _WrongShapeSum(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, g):
        return g * mg.backend.array_module(g).ones(3)  # wrong on purpose: the input is (2,)


def _bad_fn(a, b):
    return a * b + _BadSquare.apply(b)


def test_gradcheck_passes_on_correct_functions():
    a = _f64([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])
    b = _f64([[0.2, 0.9], [-0.6, 1.3], [0.8, -0.1]])
    assert mg.gradcheck(lambda a, b: (a @ b).tanh(), [a, b])
    assert mg.gradcheck(lambda a: _Square.apply(a), [a])
    assert mg.gradcheck(lambda a: a.softmax(-1), [a], fast_mode=True)


def test_gradcheck_reports_wrong_backward():
    a = _f64([1.0, 2.0, 3.0])
    b = _f64([0.0, 1.5, -2.0])  # element 0 is right by accident (b = 0), element 1 is not
    a_before, b_before = a.numpy().copy(), b.numpy().copy()
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(_bad_fn, [a, b])
    msg = str(info.value)
    assert "input 1" in msg
    assert "element (1,)" in msg
    found = re.search(
        r"analytic (?:np\.float64\()?([-+.\deE]+)\)? vs numerical (?:np\.float64\()?([-+.\deE]+)",
        msg,
    )
    assert found, msg
    analytic, numerical = float(found.group(1)), float(found.group(2))
    assert analytic == pytest.approx(a_before[1] + b_before[1])  # 3.5: what the bad backward gives
    assert numerical == pytest.approx(a_before[1] + 2 * b_before[1], rel=1e-6)  # 5.0
    # the finite differences restored the inputs
    np.testing.assert_array_equal(a.numpy(), a_before)
    np.testing.assert_array_equal(b.numpy(), b_before)


def test_gradcheck_without_raising_returns_false():
    a = _f64([1.0, 2.0, 3.0])
    b = _f64([0.0, 1.5, -2.0])
    assert mg.gradcheck(_bad_fn, [a, b], raise_exception=False) is False


def test_gradcheck_fast_mode_catches_wrong_backward():
    a = _f64([1.0, 2.0, 3.0])
    b = _f64([0.5, 1.5, -2.0])
    with pytest.raises(mg.GradcheckError, match="input 1"):
        mg.gradcheck(_bad_fn, [a, b], fast_mode=True)
    assert mg.gradcheck(lambda a, b: a * b + _Square.apply(b), [a, b], fast_mode=True)


def test_gradcheck_refuses_float32_inputs():
    x = mg.randn(3, requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        mg.gradcheck(lambda x: x.double().exp(), [x])


def test_gradcheck_reports_gradient_of_wrong_shape():
    x = _f64([1.0, 2.0])
    # The engine checks every gradient's shape itself, so the error comes from backward.
    with pytest.raises((RuntimeError, mg.GradcheckError), match=r"\(3,\)") as info:
        mg.gradcheck(lambda x: _WrongShapeSum.apply(x), [x])
    assert "(2,)" in str(info.value)


# =============================================================================================
# Random numbers
# =============================================================================================


def _draws():
    return (
        mg.randn(4, 3).numpy(),
        mg.rand(5).numpy(),
        mg.randint(0, 1000, (6,)).numpy(),
        mg.dropout(mg.ones(50), p=0.5).numpy(),
    )


def test_manual_seed_makes_draws_reproducible():
    mg.manual_seed(123)
    first = _draws()
    mg.manual_seed(123)
    second = _draws()
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    mg.manual_seed(124)
    third = _draws()
    for x, z in zip(first, third):
        assert not np.array_equal(x, z)


# =============================================================================================
# Factories
# =============================================================================================


def test_constant_factories():
    z = mg.zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == np.float32
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    o = mg.ones((4,), dtype=mg.float64)
    assert o.shape == (4,) and o.dtype == np.float64
    np.testing.assert_array_equal(o.numpy(), np.ones(4))
    f = mg.full((2, 2), 1.5)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.numpy(), np.full((2, 2), 1.5))
    e = mg.empty(3, 2)
    assert e.shape == (3, 2) and e.dtype == np.float32
    i = mg.eye(3)
    assert i.dtype == np.float32
    np.testing.assert_array_equal(i.numpy(), np.eye(3))
    np.testing.assert_array_equal(mg.eye(2, 3).numpy(), np.eye(2, 3))


def test_arange():
    a = mg.arange(5)
    assert a.dtype == np.int64
    np.testing.assert_array_equal(a.numpy(), np.arange(5))
    np.testing.assert_array_equal(mg.arange(2, 10, 3).numpy(), [2, 5, 8])
    f = mg.arange(0, 1, 0.25)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f.numpy(), [0.0, 0.25, 0.5, 0.75])


def test_random_factories():
    r = mg.rand(100, 3)
    assert r.shape == (100, 3) and r.dtype == np.float32
    assert r.numpy().min() >= 0.0 and r.numpy().max() < 1.0
    n = mg.randn(1000, dtype=mg.float64)
    assert n.shape == (1000,) and n.dtype == np.float64
    assert abs(n.numpy().mean()) < 0.2 and 0.8 < n.numpy().std() < 1.2
    i = mg.randint(3, 7, (200,))
    assert i.shape == (200,) and i.dtype == np.int64
    assert i.numpy().min() >= 3 and i.numpy().max() < 7
    assert set(i.numpy().tolist()) == {3, 4, 5, 6}
    r2 = mg.rand(2, 2, requires_grad=True)
    assert r2.requires_grad and r2.is_leaf


def test_like_factories():
    t = mg.tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    z = mg.zeros_like(t)
    o = mg.ones_like(t)
    assert z.shape == (2, 3) and z.dtype == np.float64
    assert o.shape == (2, 3) and o.dtype == np.float64
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 3)))


def test_tril_triu():
    m = np.arange(1.0, 17.0).reshape(4, 4)
    t = mg.tensor(m)
    np.testing.assert_array_equal(mg.tril(t).numpy(), np.tril(m))
    np.testing.assert_array_equal(mg.triu(t).numpy(), np.triu(m))
    np.testing.assert_array_equal(mg.tril(t, -1).numpy(), np.tril(m, -1))
    np.testing.assert_array_equal(t.triu(1).numpy(), np.triu(m, 1))


def test_tensor_dtype_inference():
    assert mg.tensor([1.5, 2.5]).dtype == np.float32
    assert mg.tensor(2.0).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(np.array([1.0, 2.0], dtype=np.float64)).dtype == np.float64
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64
    assert mg.tensor([True, False]).dtype == np.bool_


def test_tensor_copies_its_data():
    arr = np.array([1.0, 2.0])
    t = mg.tensor(arr)
    arr[0] = 100.0
    assert t.numpy()[0] == 1.0


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(RuntimeError, match="int64"):
        mg.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(RuntimeError):
        mg.arange(3).requires_grad_()


# =============================================================================================
# Tensor attributes and methods
# =============================================================================================


def test_tensor_attributes(numpy_backend):
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.dtype == np.float64
    assert x.device == "cpu"
    assert x.is_leaf
    y = x * 2.0
    assert not y.is_leaf
    assert y.device == "cpu"


def test_detach_shares_data_without_graph():
    x = _f64([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.array is y.array
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf


def test_numpy_and_item():
    x = mg.tensor([[1.0, 2.0]])
    arr = x.numpy()
    assert isinstance(arr, np.ndarray)
    np.testing.assert_array_equal(arr, [[1.0, 2.0]])
    assert mg.tensor([[3.5]]).item() == 3.5
    assert isinstance(mg.tensor(7).item(), int)
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        x.item()


def test_to_cpu_and_cpu(numpy_backend):
    x = _f64([1.0, 2.0])
    assert x.to("cpu") is x
    assert x.cpu() is x
    assert x.to("cpu").device == "cpu"
    y = x.to(dtype=mg.float32)
    assert y.dtype == np.float32 and y.device == "cpu"


def test_float_and_double_are_differentiable():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert x.dtype == np.float32
    d = x.double()
    assert d.dtype == np.float64
    assert d.grad_fn is not None
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])

    w = _f64([1.0, 2.0])
    f = w.float()
    assert f.dtype == np.float32
    (f * 3.0).sum().backward()
    assert w.grad.dtype == np.float64
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def test_requires_grad_():
    x = mg.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    x.requires_grad_(False)
    assert not x.requires_grad


def test_clone_is_differentiable_and_owns_memory():
    x = _f64([1.0, 2.0, 3.0])
    c = x.clone()
    assert not np.shares_memory(c.array, x.array)
    assert c.grad_fn is not None
    np.testing.assert_array_equal(c.numpy(), x.numpy())
    (c * c).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())


# =============================================================================================
# Backend selection
# =============================================================================================


@pytest.fixture
def restore_backend():
    previous = mg.get_backend()
    try:
        yield
    finally:
        mg.set_backend(previous)


def test_unknown_backend_raises(restore_backend):
    with pytest.raises(ValueError, match="nope"):
        mg.set_backend("nope")
    assert mg.get_backend() in ("numpy", "cupy")


def test_cupy_backend_without_cupy_says_how_to_install(restore_backend):
    if mg.cupy_available():
        pytest.skip("CuPy and a GPU are available here")
    previous = mg.get_backend()
    with pytest.raises(mg.BackendError, match="pip install"):
        mg.set_backend("cupy")
    assert mg.get_backend() == previous


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_int_range_reads_min_and_max_in_one_transfer(dtype, device_reads):
    ids = mg.tensor([[7, 3, 0], [9, 3, 7]], dtype=dtype).array
    assert mg.backend.int_range(ids) == (0, 9, False)
    assert mg.backend.int_range(ids, skip=7) == (0, 9, True)
    assert mg.backend.int_range(ids, skip=0) == (3, 9, True)
    assert mg.backend.int_range(ids, skip=9) == (0, 7, True)
    assert mg.backend.int_range(ids, skip=5) == (0, 9, False)
    assert mg.backend.int_range(ids, skip=-100) == (0, 9, False)  # outside uint8: ignored
    assert len(device_reads) == 6
    lo, hi, skipped = mg.backend.int_range(mg.full((2, 2), 4, dtype=dtype).array, skip=4)
    assert lo > hi and skipped  # every element skipped: an empty range
    assert mg.backend.int_range(mg.zeros(0, dtype=dtype).array) == (0, -1, False)
    assert len(device_reads) == 7  # an empty array is not read


def test_render_writes_dot_text_without_graphviz(tmp_path, monkeypatch):
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    loss = (x @ mg.tensor([[3.0], [4.0]])).relu().sum()
    monkeypatch.setattr(mg.viz.shutil, "which", lambda name: None)
    path = mg.viz.render(loss, tmp_path / "graph.svg")
    assert path.suffix == ".dot"
    text = path.read_text()
    assert text == mg.viz.to_dot(loss)
    assert "MatMul" in text and "Relu" in text and "Sum" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_render_writes_svg_with_graphviz(tmp_path):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    path = mg.viz.render((x * x).sum(), tmp_path / "graph.svg")
    assert path.suffix == ".svg" and "<svg" in path.read_text()


def test_repr_hides_a_wrapped_dtype():
    # NumPy puts ", dtype=float32" on its own line for some values; it must not leak through
    text = repr(mg.tensor([5.0604147e-05, 9.5674484e-05, 3.7854288e-06, 9.7256125e-06]))
    assert "dtype" not in text and text.startswith("tensor([5.0604147e-05")
    assert "dtype=float64" in repr(mg.tensor([1.0], dtype=mg.float64))


def test_tensor_is_the_one_subclass_of_tensor_base_and_wrap_makes_one():
    """The ops see tensors through ``autograd.TensorBase`` and make them with ``autograd.wrap``
    (they never import ``minigrad.tensor``): both must give the user's ``minigrad.Tensor``."""
    assert issubclass(mg.Tensor, autograd.TensorBase)
    assert mg.Tensor.__slots__ == () and not hasattr(mg.tensor([1.0]), "__dict__")
    assert autograd.tensor_class() is mg.Tensor
    arr = np.arange(6.0).reshape(2, 3)
    t = autograd.wrap(arr)
    assert type(t) is mg.Tensor and t.array is arr  # no copy
    assert t.grad is None and t.grad_fn is None and not t.requires_grad and t._version == 0
    y = mg.tensor([1.0, 2.0], requires_grad=True) * 2
    out = autograd.wrap(y.array, y.grad_fn)  # an op's output: requires grad through its node
    assert out.requires_grad and out.grad_fn is y.grad_fn
    # the constructor the ops use for Python data converts as mg.tensor does (floats: float32)
    made = autograd.tensor_class()([1.5, 2.5], device="cpu")
    assert made.dtype == mg.float32 and made.tolist() == [1.5, 2.5]
