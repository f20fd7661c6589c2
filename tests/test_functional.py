"""minigrad.functional against torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp and
vhp on functions of several inputs and outputs, in float64, with PyTorch's argument and return
conventions (tuples in, tuples out; a single tensor gives a single tensor)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import functional

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


# -- the functions, written once for both libraries (the same method names) -------------------


def two_in_two_out(x, y):
    """x (3, 2), y (2,) -> ((3, 2), ()): a broadcast product and a reduction."""
    return (x * y).tanh(), ((x @ y).exp() * 0.5).sum()


def scalar_of_two(x, y):
    """x (3, 2), y (2,) -> (): a smooth scalar with cross terms between x and y."""
    return ((x @ y).tanh() ** 2).sum() + (x.exp() * y).sum() * 0.1


def scalar_of_one(x):
    """x (4,) -> (): softmax-weighted cubic."""
    return (x.softmax(-1) * x**3).sum()


def vector_of_one(x):
    """x (4,) -> (4,)."""
    return x.exp() * x.sum()


def _mg(a):
    return mg.tensor(a)


def _t(a):
    return torch.tensor(a)


def _check(ours, theirs, rtol=1e-10, atol=1e-12):
    """Same structure (tensor / nested tuples) and values."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _check(a, b, rtol, atol)
        return
    assert isinstance(ours, mg.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


@pytest.fixture
def xy(rng):
    return rng.standard_normal((3, 2)), rng.standard_normal(2)


# -- first order ----------------------------------------------------------------------------------


def test_vjp_tuples(xy, rng):
    v = (rng.standard_normal((3, 2)), rng.standard_normal(()))
    ours = functional.vjp(two_in_two_out, tuple(map(_mg, xy)), tuple(map(_mg, v)))
    theirs = TF.vjp(two_in_two_out, tuple(map(_t, xy)), tuple(map(_t, v)))
    _check(ours, theirs)


def test_vjp_single_tensor_and_implicit_v(rng):
    x = rng.standard_normal(4)
    _check(functional.vjp(scalar_of_one, _mg(x)), TF.vjp(scalar_of_one, _t(x)))
    v = rng.standard_normal(4)
    _check(functional.vjp(vector_of_one, _mg(x), _mg(v)), TF.vjp(vector_of_one, _t(x), _t(v)))


@pytest.mark.parametrize("inputs_tuple", [False, True])
@pytest.mark.parametrize("outputs_tuple", [False, True])
def test_jacobian_structures(xy, inputs_tuple, outputs_tuple):
    x, y = xy
    if inputs_tuple:
        fn = two_in_two_out if outputs_tuple else lambda a, b: two_in_two_out(a, b)[0]
        args_mg, args_t = (_mg(x), _mg(y)), (_t(x), _t(y))
    else:
        fn = (lambda a: (vector_of_one(a), scalar_of_one(a))) if outputs_tuple else vector_of_one
        args_mg, args_t = _mg(y.repeat(2)), _t(y.repeat(2))
    _check(functional.jacobian(fn, args_mg), TF.jacobian(fn, args_t))


def test_unused_input_and_constant_output_give_zeros(xy):
    # y is not used, the second output is a constant: zeros where PyTorch (strict=False) has them
    x, y = xy

    def fn_mg(a, b):
        return a.tanh(), mg.ones(2, dtype=mg.float64)

    def fn_t(a, b):
        return a.tanh(), torch.ones(2, dtype=torch.float64)

    _check(functional.jacobian(fn_mg, (_mg(x), _mg(y))), TF.jacobian(fn_t, (_t(x), _t(y))))
    ones = np.ones(2)
    _check(
        functional.vjp(fn_mg, (_mg(x), _mg(y)), (_mg(x), _mg(ones))),
        TF.vjp(fn_t, (_t(x), _t(y)), (_t(x), _t(ones))),
    )


def test_results_are_detached_and_inputs_untouched(xy, rng):
    x = mg.tensor(xy[0], requires_grad=True)
    y = mg.tensor(xy[1], requires_grad=True)
    out, grads = functional.vjp(two_in_two_out, (x, y), (mg.tensor(rng.standard_normal((3, 2))), mg.tensor(1.0, dtype=mg.float64)))  # fmt: skip
    for t in (*out, *grads):
        assert not t.requires_grad and t.grad_fn is None
    assert x.grad is None and y.grad is None


# -- second order ---------------------------------------------------------------------------------


def test_jvp_tuples(xy, rng):
    v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
    ours = functional.jvp(two_in_two_out, tuple(map(_mg, xy)), tuple(map(_mg, v)))
    theirs = TF.jvp(two_in_two_out, tuple(map(_t, xy)), tuple(map(_t, v)))
    _check(ours, theirs)


def test_jvp_single(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    _check(functional.jvp(vector_of_one, _mg(x), _mg(v)), TF.jvp(vector_of_one, _t(x), _t(v)))


def test_hessian_single_and_tuple(xy, rng):
    x = rng.standard_normal(4)
    _check(functional.hessian(scalar_of_one, _mg(x)), TF.hessian(scalar_of_one, _t(x)))
    _check(
        functional.hessian(scalar_of_two, tuple(map(_mg, xy))),
        TF.hessian(scalar_of_two, tuple(map(_t, xy))),
    )


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hvp_and_vhp(xy, rng, name):
    ours_fn, theirs_fn = getattr(functional, name), getattr(TF, name)
    v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
    _check(
        ours_fn(scalar_of_two, tuple(map(_mg, xy)), tuple(map(_mg, v))),
        theirs_fn(scalar_of_two, tuple(map(_t, xy)), tuple(map(_t, v))),
    )
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    _check(ours_fn(scalar_of_one, _mg(x), _mg(w)), theirs_fn(scalar_of_one, _t(x), _t(w)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_create_graph_results_differentiate_again(xy, rng, name):
    """With create_graph=True the result keeps its graph to the inputs (and to v): the
    gradient of sum(result) matches PyTorch's."""
    ours_fn, theirs_fn = getattr(functional, name), getattr(TF, name)
    fn = two_in_two_out if name in ("vjp", "jvp") else scalar_of_two
    if name == "vjp":
        v = (rng.standard_normal((3, 2)), rng.standard_normal(()))
    else:
        v = (rng.standard_normal((3, 2)), rng.standard_normal(2))
    ins_mg = tuple(mg.tensor(a, requires_grad=True) for a in xy)
    v_mg = tuple(mg.tensor(a, requires_grad=True) for a in v)
    ins_t = tuple(torch.tensor(a, requires_grad=True) for a in xy)
    v_t = tuple(torch.tensor(a, requires_grad=True) for a in v)
    _, res_mg = ours_fn(fn, ins_mg, v_mg, create_graph=True)
    _, res_t = theirs_fn(fn, ins_t, v_t, create_graph=True)
    assert all(r.requires_grad for r in res_mg)
    total_mg = sum((r**2).sum() for r in res_mg)
    total_t = sum((r**2).sum() for r in res_t)
    leaves_t = [t for t in (*ins_t, *v_t)]
    grads_t = torch.autograd.grad(total_t, leaves_t, allow_unused=True)
    grads_mg = mg.grad(total_mg, [*ins_mg, *v_mg], allow_unused=True)
    for a, b in zip(grads_mg, grads_t):
        if b is None:
            assert a is None or not np.any(a.numpy())
        else:
            _check(a, b)


def test_hessian_create_graph_gives_third_derivatives(rng):
    x = rng.standard_normal(4)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (functional.hessian(scalar_of_one, xm, create_graph=True) ** 2).sum().backward()
    (TF.hessian(scalar_of_one, xt, create_graph=True) ** 2).sum().backward()
    _check(xm.grad, xt.grad)


# -- bad input ------------------------------------------------------------------------------------


def test_v_of_the_wrong_shape_or_count_names_it(xy, device):
    ins = tuple(map(_mg, xy))
    with pytest.raises(
        RuntimeError, match=r"vjp: entry 0 in v has invalid shape: should be \(3, 2\)"
    ):  # noqa: E501
        functional.vjp(two_in_two_out, ins, (mg.zeros(2, 3, dtype=mg.float64), mg.tensor(1.0)))
    with pytest.raises(RuntimeError, match="jvp: v is a tuple of invalid length: should be 2"):
        functional.jvp(two_in_two_out, ins, (mg.zeros(3, 2, dtype=mg.float64),))
    with pytest.raises(
        RuntimeError, match=f"entry 1 in v is float32 on {device}, but input 1 is float64"
    ):
        functional.hvp(scalar_of_two, ins, (mg.zeros(3, 2, dtype=mg.float64), mg.zeros(2)))


def test_v_may_be_left_out_only_for_single_elements(xy):
    with pytest.raises(RuntimeError, match=r"vjp: v can only be None .* \[\(3, 2\), \(\)\]"):
        functional.vjp(two_in_two_out, tuple(map(_mg, xy)))
    with pytest.raises(RuntimeError, match=r"jvp: v can only be None .* \[\(3, 2\), \(2,\)\]"):
        functional.jvp(two_in_two_out, tuple(map(_mg, xy)))


def test_non_tensor_inputs_and_outputs_are_refused(xy):
    with pytest.raises(TypeError, match="jacobian: the inputs must be .* index 1 has type list"):
        functional.jacobian(two_in_two_out, (_mg(xy[0]), [1.0, 2.0]))
    with pytest.raises(TypeError, match="outputs of the user-provided function .* got type float"):
        functional.vjp(lambda a: 3.0, _mg(xy[1]), _mg(xy[1]))
    with pytest.raises(
        TypeError, match="jacobian: input 0 must be a floating point tensor .* int64"
    ):
        functional.jacobian(lambda a: a, mg.tensor([1, 2]))


def test_second_order_functions_want_a_single_element_output(xy):
    with pytest.raises(RuntimeError, match=r"hessian: .* single element, got shape \(3, 2\)"):
        functional.hessian(lambda a, b: two_in_two_out(a, b)[0], tuple(map(_mg, xy)))
    with pytest.raises(RuntimeError, match="vhp: the function should return a single Tensor"):
        functional.vhp(two_in_two_out, tuple(map(_mg, xy)), tuple(map(_mg, xy)))


# -- the example ----------------------------------------------------------------------------------


def test_second_order_example_runs_and_its_checks_pass(tmp_path, capsys):
    import importlib.util  # noqa: PLC0415

    path = Path(__file__).resolve().parents[1] / "examples" / "second_order.py"
    spec = importlib.util.spec_from_file_location("second_order", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plot = tmp_path / "hessian.png"
    assert module.main(["--backend", mg.get_backend(), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "H v (functional.hvp) vs finite differences" in out
    assert "all checks passed" in out
    pytest.importorskip("matplotlib")
    assert plot.stat().st_size > 10_000
