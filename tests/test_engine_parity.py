"""The autograd engine's semantics against torch.autograd: each test runs one program through
minigrad and PyTorch (``lib`` is either module; ``_api`` names what differs) and compares the
values, the gradients, and whether (and at which step) an error is raised. Each was a
difference found by a differential hunt of the engine: hooks, ``.grad`` accumulation, freed
graphs, ``backward(inputs=)``, ``grad()``'s options, grad modes and in-place ops that save
their output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _t(lib: Any, data: Any, requires_grad: bool = False) -> Any:
    """A float64 tensor of ``lib``."""
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def _grad(lib: Any) -> Callable[..., Any]:
    return torch.autograd.grad if lib is torch else mg.grad


def _values(x: Any) -> Any:
    """A tensor's values as a NumPy array (None stays None), for comparing the two libraries."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [_values(v) for v in x]
    return np.asarray(x.detach().numpy())


def _same(a: Any, b: Any) -> None:
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif a is None or b is None:
        assert a is None and b is None, (a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12)


def _error_step(program: Callable[[Any, list[str]], Any], lib: Any) -> tuple[Any, str | None]:
    """Run ``program(lib, steps)``: its result, and the step it had reached when it raised
    (None when it ran to the end)."""
    steps: list[str] = []
    try:
        return program(lib, steps), None
    except RuntimeError:
        return None, steps[-1]


# -- .grad accumulation ---------------------------------------------------------------------------


def test_a_second_backward_accumulates_into_the_same_grad_tensor() -> None:
    """PyTorch adds a second backward's gradient into ``.grad`` in place: a reference taken
    after the first backward (a gradient bucket, an optimizer's cache) sees the sum. minigrad
    replaced ``.grad`` with a new tensor, so that reference kept the first gradient."""
    for lib in (mg, torch):
        x = _t(lib, [1.0, 2.0], True)
        (x * x).sum().backward()
        first = x.grad
        (x * 3).sum().backward()
        assert first is x.grad, lib.__name__
        np.testing.assert_allclose(first.numpy(), [5.0, 7.0])


def test_a_grad_set_by_hand_is_accumulated_into() -> None:
    for lib in (mg, torch):
        x = _t(lib, [1.0, 2.0], True)
        g = _t(lib, [10.0, 10.0])
        x.grad = g
        (x * x).sum().backward()
        assert x.grad is g, lib.__name__
        np.testing.assert_allclose(g.numpy(), [12.0, 14.0])


def test_a_grad_set_by_hand_to_another_shape_raises_instead_of_broadcasting() -> None:
    """PyTorch refuses the assignment itself; minigrad (whose ``.grad`` is a plain slot) refuses
    at the next accumulation, where it used to broadcast the sum to a third shape silently."""
    x = mg.tensor([[1.0], [2.0]], requires_grad=True)
    x.grad = mg.tensor([1.0, 1.0])
    with pytest.raises(RuntimeError, match=r"shape \(2, 1\).*shape \(2,\)"):
        (x * x).sum().backward()
    with pytest.raises(RuntimeError):
        torch.zeros(2, 1, requires_grad=True).grad = torch.ones(2)


# -- a graph whose nodes saved nothing may run again ----------------------------------------------


def test_a_graph_that_saved_nothing_can_backward_twice() -> None:
    """PyTorch's error is about freed *saved* tensors: a graph of adds and sums saves none, so a
    second backward runs (and accumulates again); minigrad refused every second backward."""

    def program(lib: Any, steps: list[str]) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        z = (x + 2).sum()
        steps.append("first")
        z.backward()
        steps.append("second")
        z.backward()
        return _values(x.grad)

    got, want = _error_step(program, mg), _error_step(program, torch)
    assert got[1] == want[1] is None
    _same(got[0], want[0])


def test_a_graph_that_saved_something_still_refuses_a_second_backward() -> None:
    def program(lib: Any, steps: list[str]) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        z = x.exp().sum()
        steps.append("first")
        z.backward()
        steps.append("second")
        z.backward()

    assert _error_step(program, mg)[1] == _error_step(program, torch)[1] == "second"


# -- grad(): only the paths to the inputs run ----------------------------------------------------


def test_grad_runs_no_hook_and_no_retain_grad_off_the_paths_to_its_inputs() -> None:
    results = {}
    for lib in (mg, torch):
        x, w = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        seen: list[int] = []
        y = w * 2
        y.register_hook(lambda g, seen=seen: seen.append(1))
        y.retain_grad()
        (gx,) = _grad(lib)((x * y).sum(), [x])
        results[lib] = (_values(gx), seen, _values(y.grad))
    _same(results[mg][0], results[torch][0])
    assert results[mg][1:] == ([], None) and results[torch][1:] == ([], None)


def test_grad_leaves_the_saved_arrays_off_its_paths_for_a_later_backward() -> None:
    def program(lib: Any, steps: list[str]) -> Any:
        x, w = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        z = (x + w.exp()).sum()
        (gx,) = _grad(lib)(z, [x])
        steps.append("backward")
        z.backward()  # Exp never ran: its saved output is still there
        return [_values(gx), _values(x.grad), _values(w.grad)]

    got, want = _error_step(program, mg), _error_step(program, torch)
    assert got[1] == want[1] is None
    _same(got[0], want[0])


def test_grad_with_respect_to_an_intermediate_does_not_run_below_it() -> None:
    for lib in (mg, torch):
        seen: list[int] = []
        x = _t(lib, [1.0, 2.0], True)
        x.register_hook(lambda g, seen=seen: seen.append(1))
        y = x * 3
        (gy,) = _grad(lib)((y * y).sum(), [y])
        np.testing.assert_allclose(_values(gy), [6.0, 12.0])
        assert seen == [], lib.__name__


@pytest.mark.parametrize("allow_unused", [None, True])
def test_grad_materialize_grads_gives_zeros_for_an_unused_input(allow_unused: Any) -> None:
    results = []
    for lib in (mg, torch):
        x, y = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        kwargs = {} if allow_unused is None else {"allow_unused": allow_unused}
        grads = _grad(lib)((x * 2).sum(), [x, y], materialize_grads=True, **kwargs)
        results.append(_values(list(grads)))
    _same(results[0], results[1])
    np.testing.assert_array_equal(results[0][1], [0.0, 0.0])


# -- backward(inputs=...) -------------------------------------------------------------------------


def _backward_inputs_cases() -> dict[str, Callable[[Any], Any]]:
    def leaf(lib: Any) -> Any:
        x, y = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        (x * y).sum().backward(inputs=[x])
        return [_values(x.grad), _values(y.grad)]

    def one_tensor(lib: Any) -> Any:
        x, y = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        (x * y).sum().backward(inputs=y)
        return [_values(x.grad), _values(y.grad)]

    def non_leaf(lib: Any) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        y = x * 2
        y2 = y * 1
        y2.retain_grad()
        (y2 * y).sum().backward(inputs=[y])
        return [_values(x.grad), _values(y.grad), _values(y2.grad)]

    def hooks_and_accumulation(lib: Any) -> Any:
        x, w = _t(lib, [1.0, 2.0], True), _t(lib, [1.0, 1.0], True)
        seen: list[Any] = []
        x.register_hook(lambda g: g * 10)
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        for _ in range(2):
            (x * w).sum().backward(inputs=[x])
        return [_values(x.grad), _values(w.grad), *_values(seen)]

    def non_leaf_hooked_above_a_leaf(lib: Any) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        y = x * 2
        y.register_hook(lambda g: g * 10)  # y.grad is after it, unlike grad()'s capture
        (y * y).sum().backward(inputs=[y, x])
        return [_values(x.grad), _values(y.grad)]

    def unused(lib: Any) -> Any:
        x, y = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0], True)
        (x * 2).sum().backward(inputs=[y])
        return [_values(x.grad), _values(y.grad)]

    def create_graph(lib: Any) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        (x**3).sum().backward(inputs=[x], create_graph=True)
        first = x.grad
        assert first.requires_grad
        x.grad = None
        first.sum().backward()
        return [_values(first), _values(x.grad)]

    programs = (leaf, one_tensor, non_leaf, hooks_and_accumulation, non_leaf_hooked_above_a_leaf)
    return {f.__name__: f for f in (*programs, unused, create_graph)}


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("name", list(_backward_inputs_cases()))
def test_backward_inputs_accumulates_into_those_tensors_only(name: str) -> None:
    program = _backward_inputs_cases()[name]
    _same(program(mg), program(torch))


def test_backward_inputs_refuses_an_empty_list_and_a_freed_graph() -> None:
    with pytest.raises(RuntimeError, match="empty"):
        (mg.tensor([1.0], requires_grad=True) * 2).sum().backward(inputs=[])

    def program(lib: Any, steps: list[str]) -> Any:
        x, w = _t(lib, [1.0, 2.0], True), _t(lib, [1.0, 1.0], True)
        z = (x.exp() * w).sum()
        steps.append("first")
        z.backward(inputs=[w])
        steps.append("second")
        z.backward(inputs=[x])

    assert _error_step(program, mg)[1] == _error_step(program, torch)[1] == "second"


# -- grad modes -----------------------------------------------------------------------------------


def test_no_grad_on_a_generator_function_covers_each_step() -> None:
    """A plain wrapper restored grad mode when the generator object was returned, before its
    body ran: every tensor it yielded recorded a graph. PyTorch runs each step under no_grad."""
    for lib in (mg, torch):

        @lib.no_grad()
        def doubled(x: Any) -> Any:
            yield x * 2
            yield x * 3

        x = _t(lib, [1.0], True)
        steps = doubled(x)
        assert [t.requires_grad for t in steps] == [False, False], lib.__name__
        assert lib.is_grad_enabled()


def test_a_no_grad_generator_yields_to_its_caller_in_the_callers_mode() -> None:
    @mg.no_grad()
    def echo() -> Any:
        received = yield mg.is_grad_enabled()
        yield received, mg.is_grad_enabled()
        return "done"

    steps = echo()
    assert next(steps) is False and mg.is_grad_enabled()
    assert steps.send("value") == ("value", False)
    with pytest.raises(StopIteration, match="done"):
        next(steps)


def test_bare_no_grad_and_enable_grad_decorators() -> None:
    for lib in (mg, torch):
        x = _t(lib, [1.0], True)
        off = lib.no_grad(lambda t: t * 2)
        on = lib.enable_grad(lambda t: t * 2)
        with lib.no_grad():
            assert on(x).requires_grad, lib.__name__
        assert not off(x).requires_grad, lib.__name__


def test_set_grad_enabled_as_call_block_and_decorator() -> None:
    results = []
    for lib in (mg, torch):
        x = _t(lib, [1.0], True)
        out = []
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(False)
        out.append((x * 2).requires_grad)
        lib.set_grad_enabled(True)
        out.append((x * 2).requires_grad)
        decorated = lib.set_grad_enabled(False)(lambda t: t * 2)
        out += [lib.is_grad_enabled(), decorated(x).requires_grad, lib.is_grad_enabled()]
        with lib.no_grad(), lib.set_grad_enabled(True):
            out.append((x * 2).requires_grad)
        results.append(out)
    assert results[0] == results[1] == [False, True, False, True, True, False, True, True]


def test_inference_mode_disables_recording_and_false_enables_it() -> None:
    results = []
    for lib in (mg, torch):
        x = _t(lib, [1.0], True)
        with lib.inference_mode():
            out = [(x * 2).requires_grad, lib.is_grad_enabled()]
        with lib.inference_mode(False):
            out.append((x * 2).requires_grad)
        with lib.no_grad(), lib.inference_mode(False):
            out.append(lib.is_grad_enabled())
        out.append(lib.inference_mode(lambda t: t * 2)(x).requires_grad)
        results.append(out)
    assert results[0] == results[1] == [False, False, True, True, False]


# -- in-place ops whose node saved its output -----------------------------------------------------


@pytest.mark.parametrize("op", ["exp_", "view_exp_", "exp_twice"])
def test_changing_the_saved_output_of_an_in_place_op_raises_at_backward(op: str) -> None:
    """``y.exp_()`` saves its result, which is ``y`` itself in PyTorch: changing ``y`` again
    in place must fail the backward. minigrad computed the op on a copy and saved the copy,
    so no error was raised (the gradient was right, but PyTorch's program fails)."""

    def program(lib: Any, steps: list[str]) -> Any:
        x = _t(lib, [1.0, 2.0, 3.0], True)
        y = x * 1
        if op == "view_exp_":
            y[1:].exp_()
        else:
            y.exp_()
        steps.append("write")
        if op == "exp_twice":
            y.exp_()
        else:
            y.add_(1)
        steps.append("backward")
        y.sum().backward()
        return _values(x.grad)

    assert _error_step(program, mg)[1] == _error_step(program, torch)[1] == "backward"


@pytest.mark.parametrize("op", ["neg_", "mul_", "add_", "pow_", "clamp_"])
def test_an_in_place_op_whose_gradient_needs_no_output_lets_it_change(op: str) -> None:
    """The other side: ``y.pow_(2)`` saves its input, not its result (PyTorch's pow with a
    number exponent; minigrad's pow saved its output always), so a later write is fine."""
    args = {"mul_": ([3.0, 4.0],), "add_": ([3.0, 4.0],), "pow_": (2,), "clamp_": (0.5, 1.5)}

    def program(lib: Any, steps: list[str]) -> Any:
        x = _t(lib, [1.0, 2.0], True)
        y = x * 1
        getattr(y, op)(*(_t(lib, a) if isinstance(a, list) else a for a in args.get(op, ())))
        kept = y + 0
        y.add_(1)
        steps.append("backward")
        (y + kept).sum().backward()
        return _values(x.grad)

    got, want = _error_step(program, mg), _error_step(program, torch)
    assert got[1] == want[1] is None
    _same(got[0], want[0])


# -- grad() of a non-leaf input whose node runs on ------------------------------------------------


def test_grad_captures_an_intermediate_before_its_hooks_when_its_node_runs_on() -> None:
    """PyTorch's order: when the input's node also runs (another input lies below it), the
    captured gradient is the one before the tensor's hooks, which still act on the way down;
    when it does not run, the hooks come first."""
    results = []
    for lib in (mg, torch):
        out = []
        for inputs in ("y", "yx"):
            x = _t(lib, [1.0, 2.0], True)
            y = x * 3
            y.register_hook(lambda g: g * 10)
            wrt = [y] if inputs == "y" else [y, x]
            out += _values(list(_grad(lib)((y * y).sum(), wrt)))
        results.append(out)
    _same(results[0], results[1])
    np.testing.assert_allclose(results[0][1], [6.0, 12.0])


# -- the engine runs first-order backward under no_grad -------------------------------------------


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_hooks_run_with_grad_mode_off_unless_create_graph() -> None:
    """A post-accumulate hook that steps its parameter (PyTorch's optimizer-in-backward idiom)
    writes a leaf that requires grad: allowed under no_grad, refused with grad mode on."""
    results = []
    for lib in (mg, torch):
        x = _t(lib, [1.0, 2.0], True)
        y = x + 2  # saves nothing (minigrad's mul would save x, which the hook changes)
        modes: list[bool] = []

        def step(p: Any, modes: list[bool] = modes, lib: Any = lib) -> None:
            modes.append(lib.is_grad_enabled())
            if not modes[-1]:
                p.sub_(0.5 * p.grad)

        y.register_hook(lambda g, modes=modes, lib=lib: modes.append(lib.is_grad_enabled()))
        x.register_post_accumulate_grad_hook(step)
        y.sum().backward(retain_graph=True)
        _grad(lib)(y.sum(), [x], retain_graph=True)
        y.sum().backward(create_graph=True)
        results.append((modes, _values(x)))
    assert results[0][0] == results[1][0] == [False, False, False, True, True]
    _same(results[0][1], results[1][1])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_a_plain_backward_adds_in_place_to_a_grad_from_create_graph() -> None:
    results = []
    for lib in (mg, torch):
        x = _t(lib, [1.0, 2.0], True)
        (x**2).sum().backward(create_graph=True)
        first = x.grad
        (x**2).sum().backward()
        results.append((first is x.grad, x.grad.requires_grad, _values(first)))
    assert results[0][:2] == results[1][:2] == (True, True)
    _same(results[0][2], results[1][2])


def test_grad_materialize_grads_refuses_allow_unused_false_as_torch() -> None:
    for lib in (mg, torch):
        x, y = _t(lib, [1.0], True), _t(lib, [2.0], True)
        with pytest.raises(ValueError, match="allow_unused"):
            _grad(lib)((x * 2).sum(), [x, y], allow_unused=False, materialize_grads=True)


UNARY_IN_PLACE = [
    "sigmoid_", "tanh_", "sqrt_", "rsqrt_", "relu_", "sin_", "cos_", "log_", "log2_", "exp2_",
    "erf_", "floor_", "ceil_", "trunc_", "sign_",
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # sqrt, log of -0.7: NaN
@pytest.mark.parametrize("view", [False, True])
@pytest.mark.parametrize("op", UNARY_IN_PLACE)
def test_unary_in_place_ops_match_torch_values_gradients_and_refusals(op: str, view: bool) -> None:
    """Each writes its values into the tensor (or a view of it), gives the gradient of its
    function, and fails a backward that needs its saved output after a second write exactly
    where PyTorch's does (sigmoid_, tanh_, sqrt_... save their output; sin_, log_... their
    input, which the write does not reach: it was the tensor's old values)."""

    def program(lib: Any, steps: list[str]) -> Any:
        x = _t(lib, [0.3, 0.7, 1.6], True)
        y = x * 1
        getattr(y[1:] if view else y, op)()
        values = _values(y)
        kept = y + 0
        y.add_(1)
        steps.append("backward")
        (y + kept).sum().backward()
        return [values, _values(x.grad)]

    got, want = _error_step(program, mg), _error_step(program, torch)
    assert got[1] == want[1]
    if want[1] is None:
        _same(got[0], want[0])
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(mg.tensor([0.5], requires_grad=True), op)()
    written = [_t(lib, [-0.7, 0.3, 0.7, 1.6]) for lib in (mg, torch)]
    for t in written:
        assert getattr(t[1:] if view else t, op)() is not None
    np.testing.assert_allclose(written[0].numpy(), written[1].numpy(), rtol=1e-12, equal_nan=True)
