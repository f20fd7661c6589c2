"""The optimizers of ``nn/optimizers.py`` against torch.optim's: the parameters after several
steps over identical gradients, for each option and with two parameter groups, float64 and
float32; state_dict round trips that resume exactly; the checks of bad hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

CASES = [
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True, "weight_decay": 0.1, "alpha": 0.9}),
    ("RMSprop", {"momentum": 0.5, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr_decay": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"weight_decay": 0.1, "betas": (0.8, 0.9)}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("ASGD", {}),
    ("ASGD", {"t0": 3, "lambd": 0.01, "weight_decay": 0.1}),
    ("Rprop", {}),
    ("Rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05), "maximize": True}),
]
STEPS = 12


def _gradients(shapes, steps, seed):
    rng = np.random.default_rng(seed)
    # a gradient sequence with sign changes (Rprop) and zeros (Adagrad's eps)
    return [[rng.standard_normal(s) * (1 + (i % 3 == 0)) for s in shapes] for i in range(steps)]


def _run(name, kwargs, dtype="float64", steps=STEPS):
    """Both optimizers over two groups (the second with its own lr) on the same gradients;
    returns the parameters after each step."""
    shapes = [(3, 4), (4,), (2,)]
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = _gradients(shapes, steps, 1)
    mine = [mg.tensor(a.copy(), requires_grad=True) for a in start]
    them = [torch.tensor(a.copy(), requires_grad=True) for a in start]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}]  # noqa: E731
    ours = getattr(nn.optim, name)(groups(mine), **kwargs)
    theirs = getattr(torch.optim, name)(groups(them), **kwargs)
    history = []
    for step_grads in grads:
        for p, t, g in zip(mine, them, step_grads):
            p.grad, t.grad = mg.tensor(g.astype(dtype)), torch.tensor(g.astype(dtype))
        ours.step()
        theirs.step()
        history.append(
            ([p.numpy().copy() for p in mine], [t.detach().numpy().copy() for t in them])
        )
    return ours, theirs, mine, them, history


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_steps_match_pytorch(name, kwargs):
    _, _, _, _, history = _run(name, kwargs)
    for i, (ours, theirs) in enumerate(history):
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"step {i + 1}")


@pytest.mark.parametrize("name", sorted({n for n, _ in CASES}))
def test_float32_stays_float32(name):
    _, _, mine, _, history = _run(name, {}, dtype="float32", steps=4)
    assert all(p.dtype == mg.float32 for p in mine)
    for a, b in zip(*history[-1]):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[1]], ids=lambda c: str(c))
def test_state_dict_resumes_exactly(name, kwargs):
    ours, _, mine, _, _ = _run(name, kwargs, steps=5)
    saved = ours.state_dict()
    # a fresh optimizer over copies, loaded, and the original: both step on the same gradients
    copies = [mg.tensor(p.numpy().copy(), requires_grad=True) for p in mine]
    fresh = getattr(nn.optim, name)(
        [{"params": copies[:2]}, {"params": copies[2:], "lr": 0.003}], **kwargs
    )
    fresh.load_state_dict(saved)
    for step_grads in _gradients([tuple(p.shape) for p in mine], 4, 2):
        for p, c, g in zip(mine, copies, step_grads):
            p.grad, c.grad = mg.tensor(g), mg.tensor(g)
        ours.step()
        fresh.step()
    for p, c in zip(mine, copies):
        np.testing.assert_array_equal(p.numpy(), c.numpy())


def test_bad_hyperparameters_and_state():
    p = [mg.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="lr"):
        nn.optim.RMSprop(p, lr=-1)
    with pytest.raises(ValueError, match="rho"):
        nn.optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adamax(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="etaminus < 1 < etaplus"):
        nn.optim.Rprop(p, etas=(1.2, 0.5))
    with pytest.raises(ValueError, match="step_sizes must be a pair"):
        nn.optim.Rprop(p, step_sizes=1.0)
    opt = nn.optim.NAdam(p)
    p[0].grad = mg.ones(2)
    opt.step()
    saved = opt.state_dict()
    saved["state"][0]["mu_product"] = float("nan")
    with pytest.raises(ValueError, match="mu_product.*finite"):
        nn.optim.NAdam(p).load_state_dict(saved)
    saved["state"][0].pop("mu_product")
    with pytest.raises(ValueError, match="expects"):
        nn.optim.NAdam(p).load_state_dict(saved)


def test_zero_grad_and_skipped_parameters():
    a, b = mg.ones(2, requires_grad=True), mg.ones(2, requires_grad=True)
    opt = nn.optim.Adagrad([a, b], lr=0.1)
    a.grad = mg.tensor([1.0, -1.0])
    opt.step()  # b has no gradient: untouched, no state
    assert b.tolist() == [1.0, 1.0] and b not in opt.state
    np.testing.assert_allclose(a.numpy(), [0.9, 1.1], rtol=1e-6)
    opt.zero_grad()
    assert a.grad is None
