"""Higher-order gradients: every op in the registry differentiates twice (gradgradcheck, and
PyTorch's double backward where it has a twin), third order on smooth ops, a Hessian-vector
product through the whole transformer, and the errors of create_graph and gradgradcheck."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minigrad as mg
import minigrad.ops
from minigrad.autograd import Function
from tests.conftest import torch, torch_device
from tests.op_cases import CASES, OpCase

# At a tie the first derivative of max/min jumps (the gradient is split there by convention),
# so finite differences of it mean nothing: those cases are left to the PyTorch comparison and
# to test_second_derivative_at_ties_is_zero.
CHECKED = [c for c in CASES if "no-gradcheck" not in c.tags and "ties" not in c.name]
TWINS = [c for c in CASES if c.torch_fn is not None and "no-torch" not in c.tags]


def _inputs(case: OpCase, seed: int = 0) -> tuple[list[np.ndarray], list[mg.Tensor]]:
    rng = np.random.default_rng(seed)
    arrays = [spec.draw(rng) for spec in case.inputs]
    tensors = [
        mg.tensor(a, dtype=mg.float64, requires_grad=spec.diff)
        if a.dtype.kind == "f"
        else mg.tensor(a)
        for spec, a in zip(case.inputs, arrays)
    ]
    return arrays, tensors


def _call(case: OpCase, *args: object) -> tuple[mg.Tensor, ...]:
    if case.seeded:
        mg.manual_seed(7)
    out = case.fn(*args)
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _diff(case: OpCase, tensors: list) -> list:
    return [t for spec, t in zip(case.inputs, tensors) if spec.diff]


# -- every op of the registry -------------------------------------------------------------------


@pytest.mark.parametrize("case", CHECKED, ids=lambda c: c.name)
def test_gradgradcheck(case: OpCase) -> None:
    _, tensors = _inputs(case)
    assert mg.gradgradcheck(lambda *xs: _call(case, *xs), tensors, atol=case.atol, rtol=case.rtol)


def _math_attention():
    from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: PLC0415

    return sdpa_kernel(SDPBackend.MATH)


def _double_backward(grad, outs, diff, seeds, weights):
    """Second derivatives as the user takes them: grads with create_graph=True, then the
    gradient of sum(w * grad) with respect to the inputs."""
    grads = grad(outs, diff, seeds, create_graph=True, allow_unused=True)
    used = [(g, w) for g, w in zip(grads, weights) if g is not None and g.requires_grad]
    if not used:
        return [None] * len(diff)
    total = sum((g * w).sum() for g, w in used)
    return grad(total, diff, allow_unused=True)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("case", TWINS, ids=lambda c: c.name)
def test_double_backward_matches_torch(case: OpCase) -> None:
    arrays, tensors = _inputs(case, seed=3)
    dev = torch_device()
    twins = [
        torch.tensor(
            a,
            dtype=torch.float64 if a.dtype.kind == "f" else None,
            device=dev,
            requires_grad=spec.diff and a.dtype.kind == "f",
        )
        for spec, a in zip(case.inputs, arrays)
    ]
    outs = _call(case, *tensors)
    with _math_attention():  # PyTorch's flash kernel has no double backward
        touts = case.torch_fn(*twins)
    touts = tuple(touts) if isinstance(touts, (tuple, list)) else (touts,)
    diff, tdiff = _diff(case, tensors), [t for t in twins if t.requires_grad]
    if not diff:
        return
    rng = np.random.default_rng(5)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in outs]
    weights = [rng.standard_normal(tuple(x.shape)) for x in diff]
    ours = _double_backward(
        mg.grad,
        list(outs),
        diff,
        [mg.tensor(s) for s in seeds],
        [mg.tensor(w) for w in weights],
    )
    with _math_attention():
        theirs = _double_backward(
            torch.autograd.grad,
            list(touts),
            tdiff,
            [torch.tensor(s, device=dev) for s in seeds],
            [torch.tensor(w, device=dev) for w in weights],
        )
    for k, (g, tg) in enumerate(zip(ours, theirs)):
        expected = (
            np.zeros(tuple(diff[k].shape)) if tg is None else tg.detach().cpu().numpy(force=True)
        )
        got = np.zeros(tuple(diff[k].shape)) if g is None else g.numpy()
        np.testing.assert_allclose(
            got, expected, rtol=1e-7, atol=1e-9, err_msg=f"{case.name}: input {k}"
        )


def _op_classes() -> list[type[Function]]:
    """Every op class in minigrad.ops (each Function subclass with a backward of its own)."""
    found = []
    for module in (getattr(minigrad.ops, name) for name in dir(minigrad.ops)):
        if not inspect.ismodule(module):
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Function) and cls is not Function and "backward" in vars(cls):
                found.append(cls)
    return found


def test_every_op_differentiates_twice() -> None:
    """A new op (a Function in minigrad/ops) must define backward_graph (see the docstring of
    minigrad.autograd.Function); the registry's graphs may hold no node without one."""
    missing = sorted(c.__name__ for c in _op_classes() if c.backward_graph is None)
    assert not missing, f"ops without a differentiable backward (backward_graph): {missing}"
    in_graphs = set()
    for case in CASES:
        _, tensors = _inputs(case)
        for out in _call(case, *tensors):
            for node in mg.autograd.walk_graph(out):
                if node.backward_graph is None:
                    in_graphs.add(f"{node.name} (case {case.name})")
    assert not in_graphs, f"registry graphs with nodes that cannot differentiate twice: {in_graphs}"


@pytest.mark.parametrize("name", ["max-ties", "min-ties", "maximum-ties", "minimum-ties"])
def test_second_derivative_at_ties_is_zero(name: str) -> None:
    """max/min are piecewise linear: the split gradient is constant, its derivative 0."""
    case = next(c for c in CASES if c.name == name)
    _, tensors = _inputs(case)
    diff = _diff(case, tensors)
    outs = _call(case, *tensors)
    seeds = [mg.tensor(np.ones(tuple(o.shape)), requires_grad=True) for o in outs]
    grads = mg.grad(list(outs), diff, seeds, create_graph=True)
    assert all(g.grad_fn is not None for g in grads)
    second = mg.grad(sum(g.sum() for g in grads), diff, allow_unused=True)
    for s in second:
        assert s is None or not s.numpy().any()
