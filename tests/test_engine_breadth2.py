"""Engine gaps closed in issue h20, each against PyTorch (``lib`` is either module):

1. ``autograd.backward`` of several outputs: one walk over the union graph;
2. the in-place activations of ``nn.functional`` through the tensors' one in-place path;
3. one check that a Python int fits in 64 bits;
4. no NumPy RuntimeWarning where PyTorch returns inf or nan silently;
5. ``matmul`` saves only what the gradients it needs read.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import nn.functional as mF  # noqa: N812

torch = pytest.importorskip("torch")
tF = torch.nn.functional  # noqa: N816

LIBS = pytest.mark.parametrize("lib", [mg, torch], ids=["minigrad", "torch"])
# PyTorch warns that backward(create_graph=True) makes a reference cycle; these tests know
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")


def _t(lib: Any, data: Any, requires_grad: bool = False) -> Any:
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def _np(x: Any) -> np.ndarray:
    return np.array(x.detach().tolist())


# -- 1. backward of several outputs -------------------------------------------------------------


@LIBS
def test_backward_of_several_outputs_sums_over_the_union_graph(lib: Any) -> None:
    # y is shared by both outputs: its hook sees the summed gradient, once
    x = _t(lib, [1.0, -2.0, 3.0], requires_grad=True)
    w = _t(lib, [0.5, 0.5, 2.0], requires_grad=True)
    y = x * w
    seen = []
    y.register_hook(lambda g: seen.append(_np(g)))
    outputs = [y.sum(), y * y, w]
    grads = [None, _t(lib, [1.0, 2.0, 3.0]), _t(lib, [10.0, 20.0, 30.0])]
    lib.autograd.backward(outputs, grads)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 1 + 2 * np.array([1.0, 2.0, 3.0]) * [0.5, -1.0, 6.0])
    dy = seen[0]
    np.testing.assert_allclose(_np(x.grad), dy * [0.5, 0.5, 2.0])
    np.testing.assert_allclose(_np(w.grad), dy * [1.0, -2.0, 3.0] + [10.0, 20.0, 30.0])


def test_backward_of_several_outputs_matches_torch_on_a_small_network() -> None:
    rng = np.random.default_rng(0)
    xs, ws, gs = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    got = []
    for lib in (mg, torch):
        x, w = _t(lib, xs, True), _t(lib, ws, True)
        h = (x @ w).tanh()
        # h is an output and an input of the other output: it must run after both reach it
        lib.autograd.backward((h, (h * h).sum(), h.sum()), (_t(lib, gs), None, None))
        got.append((_np(x.grad), _np(w.grad)))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@LIBS
def test_backward_of_several_outputs_with_create_graph_and_inputs(lib: Any) -> None:
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    z = _t(lib, [3.0, 4.0], requires_grad=True)
    lib.autograd.backward([(x**3).sum(), (x * z).sum()], create_graph=True)
    # x.grad = 3x^2 + z, differentiable: d(sum x.grad)/dx = 6x
    np.testing.assert_allclose(_np(x.grad), [6.0, 16.0])
    (gx,) = lib.autograd.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(_np(gx), [6.0, 12.0])
    x.grad, z.grad = None, None
    lib.autograd.backward([(x**3).sum(), (x * z).sum()], inputs=[z])
    assert x.grad is None
    np.testing.assert_allclose(_np(z.grad), [1.0, 2.0])


@LIBS
def test_backward_takes_one_output_and_one_gradient_in_a_list(lib: Any) -> None:
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    lib.autograd.backward((x * 3,), [_t(lib, [1.0, -1.0])])
    np.testing.assert_allclose(_np(x.grad), [3.0, -3.0])
    lib.autograd.backward([])  # nothing to do, as in PyTorch
    np.testing.assert_allclose(_np(x.grad), [3.0, -3.0])


BAD_ROOTS = {
    # name: (outputs and gradients from x, what torch's message and ours both say)
    "lengths": (lambda lib, x: ([x.sum(), x * 2], [None]), r"2 tensors|2 outputs"),
    "non-scalar without a gradient": (
        lambda lib, x: ([x.sum(), x * 2], None),
        r"grad can be implicitly created only for scalar outputs",
    ),
    "does not require grad": (
        lambda lib, x: ([x.sum(), _t(lib, [1.0, 2.0])], [None, _t(lib, [1.0, 1.0])]),
        r"(element|output) 1.*does not require grad",
    ),
    "wrong shape": (
        lambda lib, x: ([(x * 2).sum(), x * 2], [_t(lib, [1.0, 1.0]), None]),
        r"shape",
    ),
}


@LIBS
@pytest.mark.parametrize("case", list(BAD_ROOTS))
def test_backward_of_several_outputs_refuses_before_any_grad_changes(lib: Any, case: str) -> None:
    make, message = BAD_ROOTS[case]
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    x.grad = _t(lib, [5.0, 5.0])
    outputs, grads = make(lib, x)
    with pytest.raises(RuntimeError, match=message):
        lib.autograd.backward(outputs, grads)
    np.testing.assert_array_equal(_np(x.grad), [5.0, 5.0])


def test_backward_of_several_outputs_names_the_output_at_fault() -> None:
    x = _t(mg, [1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"output 1\).*shape \(3,\).*float64.*\(2,\)"):
        mg.autograd.backward([x.sum(), x * 2], [None, _t(mg, [1.0, 1.0, 1.0])])
    with pytest.raises(RuntimeError, match=r"output 1\).*dtype float32.*float64"):
        mg.autograd.backward([x.sum(), x * 2], [None, mg.ones(2)])
    with pytest.raises(TypeError, match=r"output 1 must be a Tensor, got int"):
        mg.autograd.backward([x.sum(), 3])
    assert x.grad is None


# -- 3. one check of a Python int's 64 bits ------------------------------------------------------


def test_fits_64_bits_states_pytorchs_bounds() -> None:
    fits = mg.backend.fits_64_bits
    assert fits(-(2**63)) and fits(2**64 - 1) and fits(0) and fits(1e19) and fits(-9.2e18)
    assert not fits(-(2**63) - 1) and not fits(2**64) and not fits(float("nan"))
    assert not fits(float("inf")) and not fits(2.0**64)


# every place a number operand's 64 bits are checked, at both ends, against PyTorch
INT_OPERANDS = {
    "add": lambda lib, v: lib.ones(2, dtype=lib.float64) + v,
    "float16 add": lambda lib, v: lib.ones(2, dtype=lib.float16) + v,
    "integer add": lambda lib, v: lib.tensor([1, 2]) + v,
    "pow": lambda lib, v: lib.ones(2, dtype=lib.float64) ** v,
    "remainder": lambda lib, v: lib.remainder(lib.ones(2, dtype=lib.float64), v),
    "add alpha": lambda lib, v: lib.ones(2, dtype=lib.float64).add(lib.ones(2), alpha=v),
    "clamp": lambda lib, v: lib.ones(2, dtype=lib.float64).clamp(max=v),
    "isin": lambda lib, v: lib.isin(lib.tensor([1, -1]), v),
    "fill_": lambda lib, v: lib.ones(2, dtype=lib.float64).fill_(v),
}


@pytest.mark.parametrize("case", list(INT_OPERANDS))
@pytest.mark.parametrize("value", [2**64 - 1, -(2**63)])
def test_an_int_within_64_bits_is_taken_as_pytorch(case: str, value: int) -> None:
    ours, theirs = INT_OPERANDS[case](mg, value), INT_OPERANDS[case](torch, value)
    if case == "isin":  # compared exactly, as minigrad's == (docs/guide/differences.md)
        theirs = mg.tensor([1, -1]) == value
    np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_isin_of_an_int_past_int64_is_false_everywhere_as_our_comparisons() -> None:
    # it raised AttributeError (backend.uint64) before
    for elements, test_elements, invert, want in [
        (mg.tensor([1, -1]), 2**64 - 1, False, [False, False]),
        (mg.tensor([1, -1]), 2**63, True, [True, True]),
        (2**64 - 1, mg.tensor([1, -1]), False, False),
    ]:
        got = mg.isin(elements, test_elements, invert=invert)
        np.testing.assert_array_equal(got.numpy(), want)
        assert got.dtype == mg.bool


@pytest.mark.parametrize("case", list(INT_OPERANDS))
@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_an_int_past_64_bits_is_refused_as_pytorch_naming_it(case: str, value: int) -> None:
    with pytest.raises(OverflowError):
        INT_OPERANDS[case](torch, value)
    with pytest.raises(OverflowError, match=rf"{value} is too big to convert"):
        INT_OPERANDS[case](mg, value)


# -- 2. nn.functional's in-place activations through the one in-place path ---------------------

IN_PLACE = {
    "relu": lambda F, t: F.relu(t, inplace=True),
    "relu_": lambda F, t: F.relu_(t),
    "leaky_relu": lambda F, t: F.leaky_relu(t, 0.1, inplace=True),
    "leaky_relu_": lambda F, t: F.leaky_relu_(t, 0.1),
    "elu": lambda F, t: F.elu(t, 0.5, inplace=True),
    "elu_": lambda F, t: F.elu_(t, 0.5),
    "dropout": lambda F, t: F.dropout(t, 0.5, True, inplace=True),
}
FUNCTIONALS = pytest.mark.parametrize("lib", [(mg, mF), (torch, tF)], ids=["minigrad", "torch"])
VALUES = [[1.0, -2.0, 3.0, -0.5], [0.25, -1.0, 2.0, -3.0]]


def _leaf(lib: Any) -> Any:
    return _t(lib, VALUES, requires_grad=True)


@FUNCTIONALS
@pytest.mark.parametrize("op", list(IN_PLACE))
def test_in_place_activation_of_a_leaf_or_its_view_is_refused(lib: Any, op: str) -> None:
    lib, F = lib
    x = _leaf(lib)
    with pytest.raises(RuntimeError, match=r"a leaf Variable that requires grad is being used"):
        IN_PLACE[op](F, x)
    with pytest.raises(RuntimeError, match=r"a view of a leaf Variable that requires grad"):
        IN_PLACE[op](F, x[0])
    assert x._version == 0
    np.testing.assert_array_equal(_np(x), VALUES)
    with lib.no_grad():  # allowed there, as PyTorch
        assert IN_PLACE[op](F, x) is x
    assert x._version == 1 and x.requires_grad and x.grad_fn is None


@FUNCTIONALS
@pytest.mark.parametrize("op", [name for name in IN_PLACE if name != "dropout"])
def test_in_place_activation_writes_through_a_view_and_rebases_its_base(lib: Any, op: str) -> None:
    lib, F = lib
    x = _leaf(lib)
    y = x * 2
    v = y[:, 1:3]  # a view of a non-leaf: the base's history is rebased (CopySlices)
    assert IN_PLACE[op](F, v) is v
    assert y._version == v._version == 1
    assert type(y.grad_fn).__name__ == "CopySlices"
    (y * _t(lib, [[1.0, 2.0, 3.0, 4.0]])).sum().backward()
    got = _np(x.grad)
    # reference: the same math out of place
    ref = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    z = ref * 2
    parts = [z[:, :1], _out_of_place(op, z[:, 1:3]), z[:, 3:]]
    (
        torch.cat(parts, 1) * torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
    ).sum().backward()
    np.testing.assert_allclose(got, ref.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_np(y), _np(torch.cat(parts, 1)), rtol=1e-12)


def _out_of_place(op: str, t: Any) -> Any:
    if op.startswith("relu"):
        return tF.relu(t)
    if op.startswith("leaky"):
        return tF.leaky_relu(t, 0.1)
    return tF.elu(t, 0.5)


@FUNCTIONALS
@pytest.mark.parametrize("op", list(IN_PLACE))
def test_in_place_activation_result_changed_later_fails_backward_as_pytorch(
    lib: Any, op: str
) -> None:
    # relu_, leaky_relu_ and elu_ save their result; dropout only its mask: it still runs
    lib, F = lib
    x = _leaf(lib)
    y = x * 1
    out = IN_PLACE[op](F, y)
    assert out is y and y._version == 1
    y.mul_(2)
    if op == "dropout":
        y.sum().backward()
        assert x.grad is not None
        return
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
        y.sum().backward()


@FUNCTIONALS
@pytest.mark.parametrize("op", list(IN_PLACE))
def test_in_place_activation_of_a_saved_input_fails_its_user_backward(lib: Any, op: str) -> None:
    lib, F = lib
    x = _leaf(lib)
    y = x * 1
    z = y.sin()  # saves y
    IN_PLACE[op](F, y)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
        z.sum().backward()


@FUNCTIONALS
@pytest.mark.parametrize("op", [name for name in IN_PLACE if name != "dropout"])
def test_in_place_activation_gradient_matches_torch(lib: Any, op: str) -> None:
    lib, F = lib
    x = _leaf(lib)
    y = x * 3
    IN_PLACE[op](F, y)
    # the op's own node, as PyTorch's (ReluBackward0...), not a copy's
    assert op.split("_")[0] in type(y.grad_fn).__name__.lower()
    (y * y).sum().backward()
    ref = torch.tensor(VALUES, dtype=torch.float64, requires_grad=True)
    (_out_of_place(op, ref * 3) ** 2).sum().backward()
    np.testing.assert_allclose(_np(x.grad), ref.grad.numpy(), rtol=1e-12)


# -- 5. matmul saves only what the wanted gradients read ----------------------------------------

MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((2, 2, 3), (3, 4)),
]


@LIBS
@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
@pytest.mark.parametrize("wanted", ["a", "b"])
def test_matmul_operand_whose_gradient_is_not_needed_may_change_in_place(
    lib: Any, shape_a: tuple, shape_b: tuple, wanted: str
) -> None:
    # da reads only b, db only a: so with one gradient wanted, the operand that gradient
    # belongs to is not saved and may change (PyTorch saves what the other's gradient needs)
    rng = np.random.default_rng(1)
    a = _t(lib, rng.normal(size=shape_a), requires_grad=wanted == "a")
    b = _t(lib, rng.normal(size=shape_b), requires_grad=wanted == "b")
    out = (a @ b).sum()
    leaf = a if wanted == "a" else b
    with lib.no_grad():
        leaf.mul_(3.0)
    out.backward()
    # the gradient does not read the changed operand: the current values give it
    ref_a = torch.tensor(_np(a), requires_grad=wanted == "a")
    ref_b = torch.tensor(_np(b), requires_grad=wanted == "b")
    (ref_a @ ref_b).sum().backward()
    np.testing.assert_allclose(_np(leaf.grad), (ref_a if wanted == "a" else ref_b).grad.numpy())


@LIBS
@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
@pytest.mark.parametrize("wanted", ["a", "b", "both"])
def test_matmul_operand_its_wanted_gradient_reads_may_not_change(
    lib: Any, shape_a: tuple, shape_b: tuple, wanted: str
) -> None:
    rng = np.random.default_rng(2)
    a = _t(lib, rng.normal(size=shape_a), requires_grad=wanted in ("a", "both"))
    b = _t(lib, rng.normal(size=shape_b), requires_grad=wanted in ("b", "both"))
    out = (a @ b).sum()
    with lib.no_grad():
        (b if wanted == "a" else a).mul_(3.0)  # read by the wanted gradient
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation"):
        out.backward()


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
@pytest.mark.parametrize("wanted", ["a", "b", "both"])
def test_matmul_gradients_and_double_backward_with_one_operand_wanted(
    shape_a: tuple, shape_b: tuple, wanted: str
) -> None:
    rng = np.random.default_rng(3)
    va, vb, vg = rng.normal(size=shape_a), rng.normal(size=shape_b), None
    got = []
    for lib in (mg, torch):
        a = _t(lib, va, requires_grad=wanted in ("a", "both"))
        b = _t(lib, vb, requires_grad=wanted in ("b", "both"))
        out = a @ b
        if vg is None:
            vg = rng.normal(size=tuple(out.shape))
        loss = (out * out * _t(lib, vg)).sum()
        leaves = [t for t in (a, b) if t.requires_grad]
        grads = lib.autograd.grad(loss, leaves, create_graph=True)
        # a second derivative: d sum(grad^2)/d(leaves)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
        got.append([_np(g) for g in (*grads, *second)])
    for ours, theirs in zip(*got):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_matmul_saves_only_the_operand_the_wanted_gradient_reads() -> None:
    x = mg.ones(4, 3, dtype=mg.float64)
    w = mg.ones(3, 2, dtype=mg.float64, requires_grad=True)
    saved = (x @ w).grad_fn.saved_tensors
    assert saved[0] is x.array and saved[1] is None
    saved = (w.T @ x.T).grad_fn.saved_tensors
    assert saved[0] is None and saved[1].shape == (3, 4)


# -- 4. no NumPy warning where PyTorch answers inf or NaN silently -------------------------------

INF, NAN = float("inf"), float("nan")


def _functional(lib: Any) -> Any:
    return mF if lib is mg else tF


QUIET_CASES = {
    # name: (function of (lib, *tensors), input values); each input requires grad
    "div": (lambda lib, a, b: a / b, [1.0, 0.0, -1.0], [0.0, 0.0, 0.0]),
    "div by a number": (lambda lib, a: a / 0, [1.0, 0.0, -1.0]),
    "a number by": (lambda lib, a: 1 / a, [0.0, 2.0]),
    "log": (lambda lib, a: a.log(), [0.0, -1.0, 2.0]),
    "log2": (lambda lib, a: a.log2(), [0.0, -1.0, 2.0]),
    "sqrt": (lambda lib, a: a.sqrt(), [0.0, -1.0, 4.0]),
    "rsqrt": (lambda lib, a: a.rsqrt(), [0.0, -1.0, 4.0]),
    "pow": (lambda lib, a: a**0.5, [-1.0, 0.0, 4.0]),
    "pow negative": (lambda lib, a: a**-1.0, [0.0, 2.0]),
    "exp": (lambda lib, a: a.exp(), [1000.0, 1.0]),
    "exp2": (lambda lib, a: a.exp2(), [2000.0, 1.0]),
    "sin": (lambda lib, a: a.sin(), [INF, 1.0]),
    "cos": (lambda lib, a: a.cos(), [-INF, 1.0]),
    "gelu": (lambda lib, a: _functional(lib).gelu(a), [-INF, INF, 1.0]),
    "prod": (lambda lib, a: a.prod(), [INF, 0.0]),
    "cumsum": (lambda lib, a: a.cumsum(0), [INF, -INF, 1.0]),
    "logsumexp": (lambda lib, a: a.logsumexp(0), [INF, INF]),
    "expm1": (lambda lib, a: a.expm1(), [1000.0, 1.0]),
    "tan": (lambda lib, a: a.tan(), [INF, 1.0]),
    "sinh": (lambda lib, a: a.sinh(), [1000.0, 1.0]),
    "cosh": (lambda lib, a: a.cosh(), [-1000.0, 1.0]),
    "var": (lambda lib, a: a.var(), [INF, 1.0, 2.0]),
    "cumprod": (lambda lib, a: a.cumprod(0), [INF, 0.0, 2.0]),
    "xlogy": (lambda lib, a, b: lib.xlogy(a, b), [0.0, 1.0], [0.0, 0.0]),
    "hypot": (lambda lib, a, b: lib.hypot(a, b), [0.0, 3.0], [0.0, 4.0]),
    "to float16": (lambda lib, a: a.to(lib.float16).to(lib.float64), [1e5, 1.0]),
    "float16 plus 2**63": (
        lambda lib, a: (a.to(lib.float16) + 2**63).to(lib.float64),
        [1.0, 2.0],
    ),
}


# the hot fused ops: their forward may warn on inf or NaN input (silencing it would cost every
# training step; docs/guide/differences.md), their backward never does; values as PyTorch's
HOT_CASES = {
    "softmax": (lambda lib, a: a.softmax(-1), [INF, 1.0]),
    "log_softmax": (lambda lib, a: a.log_softmax(-1), [INF, 1.0]),
    "layer_norm": (lambda lib, a: _functional(lib).layer_norm(a, (3,)), [INF, 1.0, 2.0]),
    "cross_entropy": (
        lambda lib, a: _functional(lib).cross_entropy(a.reshape(1, 3), lib.tensor([0])),
        [INF, 1.0, 2.0],
    ),
}


def _compare_inf_and_nan_with_torch(fn: Any, values: list, forward_may_warn: bool) -> None:
    """``fn`` and the gradient of its sum on inputs holding inf/NaN, ours against PyTorch's;
    the backward (and, unless ``forward_may_warn``, the forward) without a NumPy warning."""
    results = []
    for lib in (mg, torch):
        inputs = [_t(lib, v, requires_grad=True) for v in values]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if forward_may_warn else "error", RuntimeWarning)
            out = fn(lib, *inputs)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # the backward never warns
            grads = lib.autograd.grad(out.sum(), inputs, allow_unused=True)
        results.append([_np(out)] + [None if g is None else _np(g) for g in grads])
    for ours, theirs in zip(*results):
        if theirs is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("case", list(HOT_CASES))
def test_hot_ops_give_pytorchs_inf_and_nan_and_a_quiet_backward(case: str) -> None:
    fn, *values = HOT_CASES[case]
    _compare_inf_and_nan_with_torch(fn, values, forward_may_warn=True)


@pytest.mark.parametrize("case", list(QUIET_CASES))
def test_inf_and_nan_come_without_a_numpy_warning_as_pytorch(case: str) -> None:
    fn, *values = QUIET_CASES[case]
    _compare_inf_and_nan_with_torch(fn, values, forward_may_warn=False)


def test_tensor_creation_past_float16_or_float32_is_inf_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        half = mg.tensor([1e5, -1e5], dtype=mg.float16)
        single = mg.tensor([1e300])
        cast = mg.tensor([NAN, 1.0]).to(mg.int64)  # NaN to an int: PyTorch has no warning either
    np.testing.assert_array_equal(_np(half), _np(torch.tensor([1e5, -1e5], dtype=torch.float16)))
    np.testing.assert_array_equal(_np(single), _np(torch.tensor([1e300])))
    assert cast.dtype == mg.int64 and cast.tolist()[1] == 1


def test_quiet_restores_the_callers_numpy_error_state() -> None:
    before = np.geterr()
    with mg.backend.quiet():
        assert set(np.geterr().values()) == {"ignore"}
        with mg.backend.quiet():
            pass
        assert set(np.geterr().values()) == {"ignore"}
    assert np.geterr() == before
    with np.errstate(divide="raise"):  # the engine's backward leaves it as it found it
        x = mg.tensor([1.0, 0.0], requires_grad=True)
        x.log().sum().backward()
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0.0


@LIBS
def test_grad_of_several_outputs_with_too_few_gradients_is_a_runtime_error(lib: Any) -> None:
    x = _t(lib, [1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"2 tensors and 1 gradients|2 outputs and 1 gradients"):
        lib.autograd.grad([x.sum(), (x * x).sum()], [x], [None])


class _SeesNeeds(mg.autograd.Function):
    seen: list = []

    @staticmethod
    def forward(ctx, a, b):
        _SeesNeeds.seen.append(tuple(ctx.needs_input_grad))
        return a * b

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_a_forward_sees_needs_input_grad_as_pytorch() -> None:
    # PyTorch's forward sees (False, True) here; under no_grad minigrad's sees all False
    # (nothing is recorded, so nothing is needed; PyTorch reports requires_grad there)
    _SeesNeeds.seen.clear()
    x, w = mg.ones(2), mg.ones(2, requires_grad=True)
    _SeesNeeds.apply(x, w)
    with mg.no_grad():
        _SeesNeeds.apply(x, w)
    assert _SeesNeeds.seen == [(False, True), (False, False)]
