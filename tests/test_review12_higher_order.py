"""Review 12, higher-order gradients: third derivatives through 0-d masks, second derivatives
with respect to the grad_outputs, and the third derivatives of the normalizations (where
PyTorch's triple backward is not the oracle: finite differences are).

Each comparison takes the gradients with ``create_graph=True``, then the gradient of
``sum(w * grad)`` (and once more for the third order), as a user does."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch
from tests.op_cases import CASES, OpCase, torch_twins
from tests.test_higher_order import _math_attention

BY_NAME = {c.name: c for c in CASES}


def _leaves(case: OpCase, arrays: list[np.ndarray], lib: str) -> tuple[list, list]:
    """The case's inputs as tensors of ``lib`` ("mg" or "torch"), and the ones to differentiate."""
    if lib == "torch":
        tensors = torch_twins(case, arrays)
        return tensors, [t for t in tensors if t.requires_grad]
    tensors = [
        mg.tensor(a, requires_grad=spec.diff) if a.dtype.kind == "f" else mg.tensor(a)
        for spec, a in zip(case.inputs, arrays)
    ]
    return tensors, [t for spec, t in zip(case.inputs, tensors) if spec.diff]


def _numpy(t) -> np.ndarray:
    """A result as an array (a PyTorch zero tensor too: force)."""
    return t.detach().cpu().numpy(force=True) if isinstance(t, torch.Tensor) else t.numpy()


def _draw(case: OpCase) -> list[np.ndarray]:
    rng = np.random.default_rng(3)  # one generator: inputs of one spec differ (no ties)
    return [spec.draw(rng) for spec in case.inputs]


def _derivatives(case: OpCase, arrays: list[np.ndarray], lib: str, order: int) -> list:
    """First, second (and third) derivatives of the case: the gradients of <seed, f>, then of
    <w1, grad>, then of <w2, second>, each with respect to the differentiable inputs."""
    grad = torch.autograd.grad if lib == "torch" else mg.grad
    make = torch.tensor if lib == "torch" else mg.tensor
    tensors, leaves = _leaves(case, arrays, lib)
    out = case.fn(*tensors) if lib == "mg" else case.torch_fn(*tensors)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if o.requires_grad]
    rng = np.random.default_rng(5)
    seeds = [make(rng.standard_normal(tuple(o.shape))) for o in outs]
    found, current = [], grad(outs, leaves, seeds, create_graph=True, allow_unused=True)
    for step in range(order):
        found += [
            np.zeros(tuple(x.shape)) if g is None else _numpy(g) for g, x in zip(current, leaves)
        ]
        if step == order - 1:
            break
        weights = [make(rng.standard_normal(tuple(x.shape))) for x in leaves]
        live = [
            (g * w).sum() for g, w in zip(current, weights) if g is not None and g.requires_grad
        ]
        if not live:  # every gradient is a constant: the next derivatives are 0
            current = [None] * len(leaves)
            continue
        current = grad(sum(live), leaves, create_graph=True, allow_unused=True)
    return found


# -- 0-d masks: the third derivative crashed --------------------------------------------------
# A backward_graph that masks with a comparison of a 0-d array (``b == 0`` in pow's, the
# outside-[0, 1] mask of logit, sinc's and vector_norm's at 0) wraps a NumPy bool scalar, which
# the Where / MaskedFill node saved and gave back as it was: the next order refused it
# ("masked_fill: the mask must be a bool tensor, got bool").

ZERO_D = ["pow(2, 3)-()", "logit()", "sinc()", "vector_norm-0d"]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", ZERO_D)
def test_third_derivative_through_a_0d_mask_matches_torch(name: str) -> None:
    case = BY_NAME[name]
    arrays = _draw(case)
    ours = _derivatives(case, arrays, "mg", 3)
    theirs = _derivatives(case, arrays, "torch", 3)
    assert len(ours) == len(theirs) == 3 * sum(spec.diff for spec in case.inputs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name}: derivative {k}")


def test_masked_fill_with_a_0d_mask_differentiates_three_times() -> None:
    """d^3/dx^3 of x^p for a 0-d tensor exponent p = 3: 6 (pow masks where p == 0)."""
    x = mg.tensor(0.7, dtype=mg.float64, requires_grad=True)
    p = mg.tensor(3.0, dtype=mg.float64)
    (d1,) = mg.grad(x**p, x, create_graph=True)
    (d2,) = mg.grad(d1, x, create_graph=True)
    (d3,) = mg.grad(d2, x)
    np.testing.assert_allclose([d1.item(), d2.item(), d3.item()], [3 * 0.49, 6 * 0.7, 6.0])


# -- second derivatives with respect to grad_outputs ------------------------------------------


MIXED = [
    "softmax-dim0",
    "log_softmax-dim1",
    "layer_norm",
    "cross_entropy-smooth-mean",
    "cross_entropy-probs",
    "attention-causal-heads",
    "conv2d",
    "max_pool2d",
    "logsumexp-dim=(0, 2),keep=True",
    "var-dim=(0, 2),keep=False",
]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", MIXED)
def test_second_derivative_with_respect_to_the_seed_matches_torch(name: str) -> None:
    """grad(<w, J^T v>, (x, v)) = (d/dx <w, J^T v>, J w): the seed v requires grad."""
    case = BY_NAME[name]
    arrays = _draw(case)
    results = []
    for lib, grad, make in (
        ("mg", mg.grad, mg.tensor),
        ("torch", torch.autograd.grad, torch.tensor),
    ):
        tensors, leaves = _leaves(case, arrays, lib)
        with _math_attention():  # PyTorch's flash kernel has no double backward
            out = case.fn(*tensors) if lib == "mg" else case.torch_fn(*tensors)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        rng = np.random.default_rng(5)
        seeds = [make(rng.standard_normal(tuple(o.shape)), requires_grad=True) for o in outs]
        grads = grad(outs, leaves, seeds, create_graph=True, allow_unused=True)
        total = sum((g * make(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
        wrt = leaves + seeds  # a second derivative that is 0 (max_pool2d's) may be None
        found = grad(total, wrt, allow_unused=True)
        results.append(
            [np.zeros(tuple(t.shape)) if g is None else _numpy(g) for g, t in zip(found, wrt)]
        )
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name}: derivative {k}")


# -- third derivatives of the normalizations: finite differences ----------------------------
# PyTorch's layer_norm, batch_norm and instance_norm give other third derivatives (its double
# backward formulas are not themselves differentiated exactly), and logcumsumexp's are NaN
# past the first column; central differences of
# minigrad's second derivatives (checked against PyTorch's in test_higher_order) agree with
# minigrad's third ones.


def _second(fn, x: np.ndarray, u: np.ndarray, w: np.ndarray, graph: bool) -> tuple:
    t = mg.tensor(x, requires_grad=True)
    (g,) = mg.grad((fn(t) * mg.tensor(u)).sum(), t, create_graph=True)
    (h,) = mg.grad((g * mg.tensor(w)).sum(), t, create_graph=graph)
    return t, h


NORMS = {
    "layer_norm": lambda x: mg.layer_norm(x, 4),
    "layer_norm-2dims": lambda x: mg.layer_norm(x, (3, 4)),
    "rms_norm": lambda x: mg.rms_norm(x, 4),
    "logcumsumexp": lambda x: mg.logcumsumexp(x, 1),  # PyTorch's third derivative: NaN
}


@pytest.mark.parametrize("name", list(NORMS))
def test_third_derivative_of_norms_matches_finite_differences(name: str) -> None:
    fn = NORMS[name]
    rng = np.random.default_rng(0)
    x, u, w, v = (rng.standard_normal((2, 3, 4)) for _ in range(4))
    t, h = _second(fn, x, u, w, graph=True)
    (third,) = mg.grad((h * mg.tensor(v)).sum(), t)
    eps = 1e-5
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        plus = (_second(fn, x + step, u, w, graph=False)[1].numpy() * v).sum()
        minus = (_second(fn, x - step, u, w, graph=False)[1].numpy() * v).sum()
        numeric[i] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(third.numpy(), numeric, rtol=1e-5, atol=1e-6)


# -- a gradient constant in the input (docs/guide/differences.md) -------------------------------


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_relu_network_input_hessian_is_zero_with_materialize_grads_as_torch() -> None:
    """The input gradient of a ReLU network depends on the input only through the ReLU's mask:
    minigrad does not connect it to the input (the error says so), PyTorch gives zeros, and
    ``materialize_grads`` / ``functional.hessian`` give the same zeros."""
    rng = np.random.default_rng(0)
    x_np, w1_np, w2_np = (
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 5)),
        rng.standard_normal((5, 1)),
    )
    x, w1, w2 = (mg.tensor(a, requires_grad=True) for a in (x_np, w1_np, w2_np))
    (g,) = mg.grad((mg.relu(x @ w1) @ w2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"input 0 \(shape \(4, 3\)\) was not used"):
        mg.grad(g.sum(), x)
    (ours,) = mg.grad(g.sum(), x, materialize_grads=True)
    xt, w1t, w2t = (torch.tensor(a, requires_grad=True) for a in (x_np, w1_np, w2_np))
    (gt,) = torch.autograd.grad((torch.relu(xt @ w1t) @ w2t).sum(), xt, create_graph=True)
    (theirs,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    hessian = mg.functional.hessian(lambda t: (mg.relu(t @ w1) @ w2).sum(), x)
    assert hessian.shape == (4, 3, 4, 3) and not hessian.numpy().any()


# -- one array, two inputs: x * x.detach() -----------------------------------------------------
# x.detach() (and a new leaf made from it) holds x's very array: the forward saved one array
# object for both inputs, and GraphContext, which finds a saved input by identity, connected
# both to the first input. x * x.detach() then differentiated twice as x * x (second derivative
# 2 instead of 0), and for two leaves a, b over one array the derivatives of a * b went to a.

SHARED = {
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a.exp() / b,
    "pow": lambda a, b: a**b,
    "matmul": lambda a, b: a @ b,
    "atan2": lambda a, b: (mg if isinstance(a, mg.Tensor) else torch).atan2(a, b),
    "mul3": lambda a, b: a * b * a,
}


def _shared_derivatives(lib: str, f, order: str) -> list[np.ndarray]:
    """Second derivatives of f(x, x.detach()) (order "xd"), f(x.detach(), x) ("dx") or f(a, b)
    for two leaves a, b over one array ("ab"), with respect to the leaves (zeros where unused)."""
    grad, make = (torch.autograd.grad, torch.tensor) if lib == "torch" else (mg.grad, mg.tensor)
    x = make(np.array([[0.3, 0.7], [1.2, 0.4]]), requires_grad=True)
    if order == "ab":
        a, b = x, x.detach().requires_grad_()
        leaves, args = [a, b], (a, b)
    else:
        leaves, args = [x], (x, x.detach()) if order == "xd" else (x.detach(), x)
    out = f(*args)
    rng = np.random.default_rng(1)
    seed = make(rng.standard_normal(tuple(out.shape)), requires_grad=True)  # g requires grad
    grads = grad(out, leaves, seed, create_graph=True, allow_unused=True)
    total = sum((g * make(rng.standard_normal((2, 2)))).sum() for g in grads if g is not None)
    second = grad(total, leaves, allow_unused=True)
    return [np.zeros((2, 2)) if g is None else _numpy(g) for g in second]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("order", ["xd", "dx", "ab"])
@pytest.mark.parametrize("name", list(SHARED))
def test_an_input_and_its_detached_array_differentiate_twice_as_torch(name, order) -> None:
    ours = _shared_derivatives("mg", SHARED[name], order)
    theirs = _shared_derivatives("torch", SHARED[name], order)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{name} {order}: {k}")


def test_x_times_detached_x_has_no_second_derivative() -> None:
    x = mg.tensor([0.3, 0.7], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([1.0, 1.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(x * x.detach(), x, v, create_graph=True)  # v * x, x a constant
    assert mg.grad(g.sum(), x, allow_unused=True) == (None,)
    (g,) = mg.grad(x * x, x, v, create_graph=True)  # the same tensor twice: 2 v x
    np.testing.assert_allclose(mg.grad(g.sum(), x)[0].numpy(), [2.0, 2.0])


# -- the whole registry, third order and with respect to the seed (slow) ----------------------

# PyTorch is no oracle for these third derivatives (see the finite-difference test above)
TORCH_THIRD_WRONG = ("layer_norm", "logcumsumexp")
THIRD = [
    c
    for c in CASES
    if c.torch_fn is not None
    and not {"no-torch", "no-torch-double"} & c.tags
    and not c.name.startswith(TORCH_THIRD_WRONG)
]


@pytest.mark.slow
@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("case", THIRD, ids=lambda c: c.name)
def test_registry_third_derivatives_match_torch(case: OpCase) -> None:
    arrays = _draw(case)
    if not any(spec.diff for spec in case.inputs):
        return
    ours = _derivatives(case, arrays, "mg", 3)
    with _math_attention():
        theirs = _derivatives(case, arrays, "torch", 3)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            a, b, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{case.name}: derivative {k}"
        )
