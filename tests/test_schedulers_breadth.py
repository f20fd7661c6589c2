"""The schedules of ``nn/schedulers.py`` against torch.optim.lr_scheduler's: the learning rate
(and the cycled momentum or beta1) of each of two parameter groups over 60+ steps, state dicts
that resume exactly, ReduceLROnPlateau over a metric sequence, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import nn
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _optimizers(kind="SGD", **kwargs):
    mine = [mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)]
    them = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]  # noqa: E731
    defaults = {"lr": 0.1, **({"momentum": 0.9} if kind == "SGD" else {}), **kwargs}
    return (
        getattr(nn.optim, kind)(groups(mine), **defaults),
        getattr(torch.optim, kind)(groups(them), **defaults),
    )


def _momenta(optimizer):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in optimizer.param_groups]


CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [30, 5, 12], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001}),
    ("LinearLR", {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 10}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 6}),
    ("PolynomialLR", {"total_iters": 30, "power": 2.0}),
    ("MultiplicativeLR", {"lr_lambda": lambda t: 0.97 if t % 2 else 0.99}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 2, "eta_min": 0.002}),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": [0.1, 0.2], "step_size_up": 6, "step_size_down": 4}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "mode": "exp_range",
                  "gamma": 0.97}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4,
                  "scale_fn": lambda x: 1 / (1 + x), "scale_mode": "iterations"}),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 64}),
    ("OneCycleLR", {"max_lr": [0.3, 0.2], "epochs": 4, "steps_per_epoch": 16,
                    "anneal_strategy": "linear", "three_phase": True}),
]  # fmt: skip


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_learning_rates_match_pytorch(name, kwargs, kind):
    ours_opt, theirs_opt = _optimizers(kind)
    ours = getattr(nn.optim.lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    steps = 63 if name == "OneCycleLR" else 70
    for t in range(steps):
        np.testing.assert_allclose(
            ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-10, err_msg=f"step {t}"
        )
        np.testing.assert_allclose(_momenta(ours_opt), _momenta(theirs_opt), rtol=1e-12)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "MultiplicativeLR"][:12],
                         ids=lambda c: str(c))  # fmt: skip
def test_state_dict_resumes(name, kwargs):
    opt, _ = _optimizers()
    sched = getattr(nn.optim, name)(opt, **kwargs)
    for _ in range(9):
        opt.step()
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    opt2, _ = _optimizers()
    opt2.load_state_dict(saved_opt)
    sched2 = getattr(nn.optim, name)(opt2, **kwargs)
    sched2.load_state_dict(saved)
    for _ in range(15):
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_one_cycle_refuses_steps_past_its_end():
    opt, _ = _optimizers()
    sched = nn.optim.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="more than total_steps = 3"):
        sched.step()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"mode": "max", "factor": 0.5, "patience": 2}, {"threshold_mode": "abs", "threshold": 0.1,
     "cooldown": 2, "patience": 1, "min_lr": [0.02, 0.01]}],
)  # fmt: skip
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    ours_opt, theirs_opt = _optimizers()
    ours = nn.optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), 0.5 + rng.random(40) * 0.05])
    for value in metrics:
        ours.step(value)
        theirs.step(value)
        np.testing.assert_allclose(
            [g["lr"] for g in ours_opt.param_groups], [g["lr"] for g in theirs_opt.param_groups]
        )
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())
    saved = ours.state_dict()
    fresh = nn.optim.ReduceLROnPlateau(ours_opt, **kwargs)
    fresh.load_state_dict(saved)
    assert fresh.best == ours.best and fresh.num_bad_epochs == ours.num_bad_epochs
    ours.step(mg.tensor(0.1))  # a one-element tensor works as the metric


def test_bad_arguments():
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="step_size"):
        nn.optim.StepLR(opt, 0)
    with pytest.raises(ValueError, match="start_factor"):
        nn.optim.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="mode is invalid"):
        nn.optim.CyclicLR(opt, 0.01, 0.1, mode="sawtooth")
    with pytest.raises(ValueError, match="expected 2 values of max_lr"):
        nn.optim.CyclicLR(opt, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="momentum or beta1"):
        nn.optim.OneCycleLR(nn.optim.Adagrad([mg.zeros(1, requires_grad=True)]), 0.1, 10)
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        nn.optim.OneCycleLR(opt, 0.1)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        nn.optim.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="expected the entries"):
        nn.optim.ReduceLROnPlateau(opt).load_state_dict({"best": 1.0})
    assert math.isinf(nn.optim.ReduceLROnPlateau(opt).best)
