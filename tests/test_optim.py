"""Optimizers, learning-rate schedules and gradient clipping of ``nn``.

- SGD / Adam / AdamW follow ``torch.optim`` step for step (float64, two parameter groups).
- float32 parameters and state stay float32.
- ``state_dict`` / ``load_state_dict`` resume bit for bit, through a host round trip, and a
  failed load changes nothing.
- The schedules match their formulas and ``torch.optim.lr_scheduler.LambdaLR``.
- ``clip_grad_norm_`` / ``clip_grad_value_`` match ``torch.nn.utils``.
- Every bad input raises an error that names the problem.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from nn import optim, utils
from nn.optim import SGD, Adam, AdamW, CosineWarmupLR, LambdaLR, NoamLR
from tests.conftest import torch_device

STEPS = 50


# =============================================================================================
# Helpers: a least-squares problem y = x @ W + b, trained in minigrad and in PyTorch
# =============================================================================================


def _problem(dtype=np.float64) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 3)).astype(dtype)
    y = rng.standard_normal((8, 2)).astype(dtype)
    init = [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(2).astype(dtype)]
    return x, y, init


def _params(arrays: list[np.ndarray]) -> list[mg.Tensor]:
    return [mg.tensor(a.copy(), requires_grad=True) for a in arrays]


def _groups(params: list, override: dict) -> list[dict]:
    """Two parameter groups: W with the defaults, b with ``override``."""
    return [{"params": [params[0]]}, {"params": [params[1]], **override}]


def _train(optimizer, params, x, y, steps, scheduler=None) -> None:
    x, y = mg.tensor(x), mg.tensor(y)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ params[0] + params[1] - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def _torch_train(name, kwargs, override, init, x, y, steps):
    torch = pytest.importorskip("torch")
    dev = torch_device()
    params = [torch.tensor(a, device=dev, requires_grad=True) for a in init]
    optimizer = getattr(torch.optim, name)(_groups(params, override), **kwargs)
    tx, ty = torch.tensor(x, device=dev), torch.tensor(y, device=dev)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((tx @ params[0] + params[1] - ty) ** 2).mean()
        loss.backward()
        optimizer.step()
    return params, optimizer


def _assert_plain(obj, path: str = "state_dict") -> None:
    """Only the types nn.save writes: dict (str/int keys), list, tuple, scalars, None, Tensor."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            assert type(key) in (str, int), f"{path}: key {key!r}"
            _assert_plain(value, f"{path}[{key!r}]")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            _assert_plain(value, f"{path}[{i}]")
    else:
        # type(), not isinstance: NumPy's float64 scalar is a float subclass and must not leak
        assert obj is None or type(obj) in (int, float, bool, str) or type(obj) is mg.Tensor, (
            f"{path}: {type(obj).__name__}"
        )


def _through_host(obj):
    """What a save and load might hand back: Tensors rebuilt on the CPU, tuples as lists."""
    if isinstance(obj, dict):
        return {key: _through_host(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_through_host(value) for value in obj]
    if isinstance(obj, mg.Tensor):
        return mg.tensor(obj.numpy(), device="cpu")
    return obj


def _snapshot(optimizer) -> tuple:
    """The optimizer's groups and state, as host copies, to check that nothing changed."""
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    members = [[id(p) for p in g["params"]] for g in optimizer.param_groups]
    state = {
        id(p): {k: mg.backend.to_host(v).copy() if hasattr(v, "shape") else v for k, v in s.items()}
        for p, s in optimizer.state.items()
    }
    return groups, members, state


def _assert_same_snapshot(a: tuple, b: tuple) -> None:
    assert a[0] == b[0] and a[1] == b[1]
    assert a[2].keys() == b[2].keys()
    for key in a[2]:
        assert a[2][key].keys() == b[2][key].keys()
        for name, value in a[2][key].items():
            np.testing.assert_array_equal(value, b[2][key][name])


# =============================================================================================
# Trajectories against torch.optim
# =============================================================================================

CASES = [
    ("SGD", {"lr": 0.1}, {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"lr": 0.02}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, {"momentum": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.05}, {"lr": 0.2}),
    ("Adam", {"lr": 0.01}, {"lr": 0.03}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}, {"betas": (0.8, 0.99), "lr": 0.02}),
    ("AdamW", {"lr": 0.01}, {"lr": 0.03}),
    (
        "AdamW",
        {"lr": 0.02, "betas": (0.85, 0.995), "eps": 1e-6, "weight_decay": 0.1},
        {"weight_decay": 0.0, "eps": 1e-4},
    ),
]
CASE_IDS = [f"{name}-{'-'.join(kw)}-{'-'.join(ov)}" for name, kw, ov in CASES]


@pytest.mark.parametrize(("name", "kwargs", "override"), CASES, ids=CASE_IDS)
def test_matches_torch(name, kwargs, override):
    x, y, init = _problem()
    params = _params(init)
    optimizer = getattr(optim, name)(_groups(params, override), **kwargs)
    _train(optimizer, params, x, y, STEPS)
    torch_params, torch_optimizer = _torch_train(name, kwargs, override, init, x, y, STEPS)

    for ours, theirs, start in zip(params, torch_params, init):
        assert ours.dtype == mg.float64
        theirs = theirs.detach().cpu().numpy()
        assert np.abs(theirs - start).max() > 1e-2  # the problem does move the parameters
        np.testing.assert_allclose(ours.numpy(), theirs, rtol=0, atol=1e-6)
    # the state has torch's names and values
    ours_state = optimizer.state_dict()["state"]
    theirs_state = torch_optimizer.state_dict()["state"]
    # (torch keeps {"momentum_buffer": None} for SGD without momentum; we keep no entry)
    assert ours_state.keys() == {
        index
        for index, entries in theirs_state.items()
        if any(v is not None for v in entries.values())
    }
    for index, entries in ours_state.items():
        for key, value in entries.items():
            expected = theirs_state[index][key]
            if key == "step":
                assert value == int(expected) == STEPS
            else:
                np.testing.assert_allclose(value.numpy(), expected.cpu().numpy(), atol=1e-6)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_params_without_grad_are_skipped(cls, device):
    x, y, init = _problem()
    params = _params(init)
    unused = mg.tensor(np.ones(4), requires_grad=True)
    optimizer = cls([*params, unused], lr=0.1, weight_decay=0.1)
    _train(optimizer, params, x, y, 3)
    assert unused.grad is None
    np.testing.assert_array_equal(unused.numpy(), np.ones(4))
    assert unused not in optimizer.state and 2 not in optimizer.state_dict()["state"]
    assert params[0].device == device


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        (Adam, {"lr": 0.01, "weight_decay": 0.01}),
        (AdamW, {"lr": 0.01, "weight_decay": 0.01}),
        # NumPy float64 scalars as hyperparameters must not promote the float32 update
        (
            AdamW,
            {"lr": np.float64(0.01), "betas": (np.float64(0.9), 0.99), "eps": np.float64(1e-8)},
        ),
    ],
    ids=["SGD", "Adam", "AdamW", "AdamW-numpy-scalars"],
)
def test_float32_stays_float32(cls, kwargs):
    x, y, init = _problem(np.float32)
    params = _params(init)
    optimizer = cls(params, **kwargs)
    _train(optimizer, params, x, y, 5)
    for p, start in zip(params, init):
        assert p.dtype == mg.float32 and p.array.dtype == np.float32
        assert not np.array_equal(p.numpy(), start)
    state = optimizer.state_dict()
    _assert_plain(state)
    for entries in state["state"].values():
        for key, value in entries.items():
            assert key == "step" or value.dtype == mg.float32


def test_updates_in_place_without_graph():
    x, y, init = _problem()
    params = _params(init)
    arrays = [p.array for p in params]
    optimizer = Adam(params, lr=0.1)
    _train(optimizer, params, x, y, 2)
    assert all(p.array is a for p, a in zip(params, arrays))
    assert all(p.is_leaf and p.requires_grad for p in params)


def test_zero_grad_and_closure():
    x, y, init = _problem()
    params = _params(init)
    optimizer = SGD(params, lr=0.1)
    tx, ty = mg.tensor(x), mg.tensor(y)

    def closure():
        optimizer.zero_grad(set_to_none=False)
        loss = ((tx @ params[0] + params[1] - ty) ** 2).mean()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert isinstance(loss, mg.Tensor) and loss.item() > 0
    grad_array = params[0].grad.array
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad.array is grad_array and not grad_array.any()
    optimizer.zero_grad()
    assert params[0].grad is None and params[1].grad is None


def test_sgd_step_by_hand():
    p = mg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = SGD([p], lr=0.5, momentum=0.9)
    p.grad = mg.tensor(np.array([0.2, 0.4]))
    optimizer.step()  # b = g; p = p - lr * b
    np.testing.assert_allclose(p.numpy(), [0.9, -2.2])
    optimizer.step()  # b = 0.9 b + g = 1.9 g
    np.testing.assert_allclose(p.numpy(), [0.9 - 0.5 * 0.38, -2.2 - 0.5 * 0.76])


# =============================================================================================
# state_dict: exact resume, allowed types, snapshots
# =============================================================================================

RESUME_CASES = [
    (
        lambda ps: SGD(_groups(ps, {"lr": 0.02}), lr=0.05, momentum=0.9, nesterov=True),
        lambda opt: LambdaLR(opt, [lambda e: 0.97**e, lambda e: 1.0 / (1 + e)]),
    ),
    (lambda ps: SGD(_groups(ps, {}), lr=0.05, weight_decay=0.01), None),
    (
        lambda ps: Adam(_groups(ps, {"lr": 0.5}), lr=1.0, weight_decay=0.01),
        lambda opt: NoamLR(opt, d_model=16, warmup=5, factor=0.5),
    ),
    (
        lambda ps: AdamW(_groups(ps, {"weight_decay": 0.0}), lr=0.03, betas=(0.8, 0.99)),
        lambda opt: CosineWarmupLR(opt, warmup=5, total_steps=40, min_lr=1e-3),
    ),
]


@pytest.mark.parametrize(("make_optimizer", "make_scheduler"), RESUME_CASES)
@pytest.mark.parametrize("scheduler_first", [True, False], ids=["sched-first", "opt-first"])
def test_resume_is_bit_exact(make_optimizer, make_scheduler, scheduler_first, device):
    x, y, init = _problem()
    params = _params(init)
    optimizer = make_optimizer(params)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    _train(optimizer, params, x, y, 20, scheduler)
    saved = optimizer.state_dict()
    saved_scheduler = scheduler.state_dict() if scheduler else None
    at_20 = [p.numpy().copy() for p in params]
    _assert_plain(saved)
    _assert_plain(saved_scheduler)
    # the straight run goes on: the dicts taken at step 20 must not follow it
    _train(optimizer, params, x, y, STEPS - 20, scheduler)

    resumed = _params(at_20)
    fresh = make_optimizer(resumed)
    if scheduler_first:  # PyTorch's order: build both, then load both
        fresh_scheduler = make_scheduler(fresh) if make_scheduler else None
        fresh.load_state_dict(_through_host(saved))
    else:  # load the optimizer, then build the scheduler on it
        fresh.load_state_dict(_through_host(saved))
        fresh_scheduler = make_scheduler(fresh) if make_scheduler else None
    if fresh_scheduler is not None:
        fresh_scheduler.load_state_dict(_through_host(saved_scheduler))
        assert fresh_scheduler.last_epoch == 20
    for p in resumed:
        state = fresh.state.get(p, {})
        for value in state.values():
            if hasattr(value, "shape"):  # on the parameter's device, not aliasing the dict
                assert mg.backend.device_of(value) == device
    _train(fresh, resumed, x, y, STEPS - 20, fresh_scheduler)

    for ours, straight in zip(resumed, params):
        np.testing.assert_array_equal(ours.numpy(), straight.numpy())
    assert [g["lr"] for g in fresh.param_groups] == [g["lr"] for g in optimizer.param_groups]
    if scheduler is not None:
        assert fresh_scheduler.get_last_lr() == scheduler.get_last_lr()
        assert fresh_scheduler.state_dict() == scheduler.state_dict()


def test_state_dict_format():
    x, y, init = _problem()
    params = _params(init)
    optimizer = Adam(_groups(params, {"lr": 0.5}), lr=0.1)
    _train(optimizer, params, x, y, 3)
    state = optimizer.state_dict()
    flags = {"amsgrad": False, "maximize": False}
    assert state["param_groups"] == [
        {
            "lr": 0.1,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0.0,
            **flags,
            "params": [0],
        },
        {
            "lr": 0.5,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0.0,
            **flags,
            "params": [1],
        },
    ]
    assert sorted(state["state"]) == [0, 1]
    assert sorted(state["state"][1]) == ["exp_avg", "exp_avg_sq", "step"]
    assert state["state"][1]["step"] == 3 and state["state"][1]["exp_avg"].shape == (2,)
    # loading copies: changing the dict afterwards does not reach the optimizer
    fresh = Adam(_groups(_params(init), {"lr": 0.5}), lr=0.1)
    fresh.load_state_dict(state)
    state["state"][0]["exp_avg"].array[...] = 123.0
    assert not (next(iter(fresh.state.values()))["exp_avg"] == 123.0).any()


def _adam_with_state(steps: int = 3) -> tuple[Adam, list[mg.Tensor]]:
    x, y, init = _problem()
    params = _params(init)
    optimizer = Adam(_groups(params, {"lr": 0.5}), lr=0.1)
    _train(optimizer, params, x, y, steps)
    return optimizer, params


def _drop_group(sd):
    sd["param_groups"].pop()


def _extra_param(sd):
    sd["param_groups"][1]["params"].append(9)


def _bad_shape(sd):
    sd["state"][1]["exp_avg"] = mg.zeros(5, dtype=mg.float64)


def _bad_dtype(sd):
    sd["state"][1]["exp_avg_sq"] = sd["state"][1]["exp_avg_sq"].float()


def _missing_entry(sd):
    del sd["state"][1]["exp_avg_sq"]


def _unknown_index(sd):
    sd["state"][7] = sd["state"][0]


def _bad_lr(sd):
    sd["param_groups"][1]["lr"] = -1.0


def _bad_betas(sd):
    sd["param_groups"][0]["betas"] = (0.9, 1.5)


def _bad_step(sd):
    sd["state"][1]["step"] = 2.5


def _not_a_tensor(sd):
    sd["state"][1]["exp_avg"] = [0.0, 0.0]


def _sgd_dict(sd):
    sd["param_groups"] = [
        {"lr": 0.1, "momentum": 0.0, "params": g["params"]} for g in sd["param_groups"]
    ]


def _no_state_key(sd):
    del sd["state"]


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (_drop_group, r"1 parameter group\(s\), this optimizer has 2"),
        (_extra_param, r"group 1: the state dict has 2 parameter\(s\), this optimizer has 1"),
        (_bad_shape, r"parameter 1 \(shape \(2,\)\): 'exp_avg' has shape \(5,\)"),
        (_bad_dtype, r"'exp_avg_sq' has dtype float32, the parameter float64"),
        (_missing_entry, r"has entries \['exp_avg', 'step'\], Adam expects"),
        (_unknown_index, r"state for parameter 7"),
        (_bad_lr, r"group 1: lr must be >= 0, got -1.0"),
        (_bad_betas, r"betas\[1\] must be in \[0, 1\), got 1.5"),
        (_bad_step, r"'step' must be a non-negative int, got 2.5"),
        (_not_a_tensor, r"'exp_avg' must be a Tensor"),
        (_sgd_dict, r"missing hyperparameter\(s\) \['betas', 'eps', 'weight_decay'\]"),
        (_no_state_key, r"'state' and 'param_groups'"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
def test_failed_load_changes_nothing(corrupt, match):
    optimizer, params = _adam_with_state()
    before = _snapshot(optimizer)
    state_dict = optimizer.state_dict()
    corrupt(state_dict)
    with pytest.raises(ValueError, match=match):
        optimizer.load_state_dict(state_dict)
    _assert_same_snapshot(before, _snapshot(optimizer))


def test_failed_scheduler_load_changes_nothing():
    optimizer, _ = _adam_with_state()
    scheduler = CosineWarmupLR(optimizer, warmup=2, total_steps=10)
    scheduler.step()
    before = (scheduler.state_dict(), [g["lr"] for g in optimizer.param_groups])
    for corrupt, match in [
        ({"base_lrs": [0.1]}, r"base_lrs must list one lr per parameter group \(2\)"),
        ({"warmup": -1}, r"warmup must be >= 0, got -1"),
        ({"warmup": 20}, r"warmup \(20\) must not exceed total_steps \(10\)"),
        ({"last_epoch": "3"}, r"last_epoch must be an int"),
        ({"last_lr": [0.1, -0.5]}, r"last_lr entry must be >= 0"),
    ]:
        state = {**scheduler.state_dict(), **corrupt}
        with pytest.raises((ValueError, TypeError), match=match):
            scheduler.load_state_dict(state)
        assert (scheduler.state_dict(), [g["lr"] for g in optimizer.param_groups]) == before
    state = scheduler.state_dict()
    del state["total_steps"]
    with pytest.raises(ValueError, match=r"missing entries \['total_steps'\]"):
        scheduler.load_state_dict(state)


# =============================================================================================
# Bad input to the optimizers
# =============================================================================================


def _leaf(shape=(2, 3)) -> mg.Tensor:
    return mg.zeros(*shape, dtype=mg.float64, requires_grad=True)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_bad_params(cls):
    p, q = _leaf(), _leaf((4,))
    with pytest.raises(TypeError, match=r"single Tensor of shape \(2, 3\)"):
        cls(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter group 1: has an empty 'params' list"):
        cls([{"params": [p]}, {"params": []}], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[1\] \(shape \(2,\)\) does not require grad"):
        cls([p, mg.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[0\] \(shape \(2, 3\)\) is not a leaf"):
        cls([p * 2.0], lr=0.1)
    with pytest.raises(ValueError, match=r"group 1: params\[0\] \(shape \(2, 3\)\) is already in"):
        cls([{"params": [p]}, {"params": [q, p][::-1]}], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[1\] \(shape \(4,\)\) appears twice"):
        cls([q, q], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray, not a Tensor"):
        cls([p, np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        cls({p, q}, lr=0.1)
    with pytest.raises(TypeError, match="mixes Tensors and dicts"):
        cls([p, {"params": [q]}], lr=0.1)


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (SGD, {"lr": -0.1}, r"SGD: lr must be >= 0, got -0.1"),
        (SGD, {"lr": 0.1, "weight_decay": -1.0}, r"weight_decay must be >= 0, got -1.0"),
        (SGD, {"lr": 0.1, "momentum": -0.5}, r"momentum must be >= 0, got -0.5"),
        (SGD, {"lr": 0.1, "nesterov": True}, r"nesterov momentum needs momentum > 0.*momentum=0.0"),
        (
            SGD,
            {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True},
            r"nesterov momentum needs .*dampening = 0.*dampening=0.1",
        ),
        (SGD, {"lr": float("nan")}, r"lr must be >= 0, got nan"),
        (Adam, {"lr": -1e-3}, r"Adam: lr must be >= 0, got -0.001"),
        (Adam, {"eps": -1e-8}, r"eps must be >= 0, got -1e-08"),
        (Adam, {"weight_decay": -0.1}, r"weight_decay must be >= 0, got -0.1"),
        (Adam, {"betas": (1.0, 0.999)}, r"betas\[0\] must be in \[0, 1\), got 1.0"),
        (Adam, {"betas": (0.9, -0.1)}, r"betas\[1\] must be in \[0, 1\), got -0.1"),
        (AdamW, {"betas": (0.9, 1.0)}, r"AdamW: betas\[1\] must be in \[0, 1\), got 1.0"),
        (AdamW, {"eps": -1.0}, r"AdamW: eps must be >= 0"),
        (AdamW, {"weight_decay": -1.0}, r"AdamW: weight_decay must be >= 0"),
        (AdamW, {"lr": -1.0}, r"AdamW: lr must be >= 0"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([_leaf()], **kwargs)


def test_bad_hyperparameter_types():
    with pytest.raises(TypeError, match=r"lr must be a real number, got '0.1'"):
        SGD([_leaf()], lr="0.1")
    with pytest.raises(TypeError, match=r"betas must be a pair"):
        Adam([_leaf()], betas=0.9)
    with pytest.raises(TypeError, match=r"nesterov must be a bool"):
        SGD([_leaf()], lr=0.1, momentum=0.9, nesterov=1)


def test_bad_param_group_changes_nothing():
    p, q = _leaf(), _leaf((4,))
    optimizer = Adam([p], lr=0.1)
    for group, error, match in [
        ({"params": [q], "lr": -2.0}, ValueError, r"parameter group 1: lr must be >= 0, got -2.0"),
        ({"params": [q], "betas": (0.9, 2.0)}, ValueError, r"group 1: betas\[1\]"),
        ({"params": [q, p]}, ValueError, r"group 1: params\[1\] .* already in another"),
        ({"params": []}, ValueError, r"group 1: has an empty 'params' list"),
        ({"lr": 0.1}, ValueError, r"group 1: has no 'params' key"),
        ([q], TypeError, r"group 1: must be a dict, got list"),
    ]:
        with pytest.raises(error, match=match):
            optimizer.add_param_group(group)
        assert len(optimizer.param_groups) == 1 and optimizer.param_groups[0]["params"] == [p]
    optimizer.add_param_group({"params": q, "lr": 0.5})  # a single Tensor is fine in a group
    assert optimizer.param_groups[1]["params"] == [q]
    assert optimizer.param_groups[1]["lr"] == 0.5 and optimizer.param_groups[1]["eps"] == 1e-8


def test_bad_grad_changes_nothing():
    p, q = _leaf(), _leaf((4,))
    optimizer = SGD([p, q], lr=0.1)
    p.grad = mg.ones(2, 3, dtype=mg.float64)
    q.grad = mg.ones(3, dtype=mg.float64)
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3,\) for a parameter of shape \(4,\)"
    ):
        optimizer.step()
    assert not p.numpy().any() and not q.numpy().any()


# =============================================================================================
# Schedules
# =============================================================================================


def _sgd_two_groups(lrs=(0.1, 0.5)) -> SGD:
    return SGD(
        [{"params": [_leaf()], "lr": lrs[0]}, {"params": [_leaf((4,))], "lr": lrs[1]}], lr=1.0
    )


def _torch_lambda_lrs(lrs, lambdas, steps):
    torch = pytest.importorskip("torch")
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = torch.optim.SGD(groups, lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
    out = [scheduler.get_last_lr()]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


def _lrs(scheduler, steps):
    out = [scheduler.get_last_lr()]
    for _ in range(steps):
        scheduler.step()
        out.append(scheduler.get_last_lr())
    assert out[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return out


def test_lambda_lr_matches_torch():
    lambdas = [lambda e: 0.9**e, lambda e: 1.0 / (1.0 + e)]
    optimizer = _sgd_two_groups()
    scheduler = LambdaLR(optimizer, lambdas)
    assert scheduler.base_lrs == [0.1, 0.5] and scheduler.last_epoch == 0
    ours = _lrs(scheduler, 25)
    np.testing.assert_allclose(ours, _torch_lambda_lrs([0.1, 0.5], lambdas, 25), rtol=1e-15)
    assert ours[3] == pytest.approx([0.1 * 0.9**3, 0.5 / 4.0])
    single = LambdaLR(_sgd_two_groups(), lambda e: 2.0)  # one function for every group
    assert single.get_last_lr() == [0.2, 1.0]


def _noam(step, d_model, warmup, factor):
    return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)


def test_noam_lr():
    d_model, warmup, factor = 64, 10, 2.0
    optimizer = _sgd_two_groups()
    scheduler = NoamLR(optimizer, d_model=d_model, warmup=warmup, factor=factor)
    ours = _lrs(scheduler, 40)
    # step counted from 1: the first optimizer step uses step 1; every group gets the same value
    expected = [[_noam(t + 1, d_model, warmup, factor)] * 2 for t in range(41)]
    np.testing.assert_allclose(ours, expected, rtol=1e-15)
    peak = max(range(41), key=lambda t: ours[t][0])
    assert peak == warmup - 1 and ours[peak][0] == pytest.approx(
        factor * (d_model * warmup) ** -0.5
    )
    # the same as torch's LambdaLR with base lr 1 and the paper's rate as the lambda
    rate = lambda e: _noam(e + 1, d_model, warmup, factor)  # noqa: E731
    np.testing.assert_allclose(ours, _torch_lambda_lrs([1.0, 1.0], [rate, rate], 40), rtol=1e-15)


def test_cosine_warmup_lr():
    base, min_lr, warmup, total = 0.1, 0.01, 10, 50
    optimizer = _sgd_two_groups((base, 2 * base))
    ours = _lrs(CosineWarmupLR(optimizer, warmup, total, min_lr=min_lr), total + 10)
    first = [lrs[0] for lrs in ours]
    assert first[0] == 0.0 and first[5] == pytest.approx(base / 2) and first[warmup] == base
    assert first[warmup + (total - warmup) // 2] == pytest.approx((base + min_lr) / 2)
    assert first[total:] == [min_lr] * 11
    assert all(a > b for a, b in zip(first[warmup:total], first[warmup + 1 : total + 1]))
    assert ours[warmup] == [base, 2 * base]  # each group warms up to its own base lr

    def hf_lambda(e):  # Hugging Face's get_cosine_schedule_with_warmup, min_lr 0
        if e < warmup:
            return e / warmup
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * (e - warmup) / (total - warmup))))

    zero_min = _lrs(CosineWarmupLR(_sgd_two_groups(), warmup, total), total)
    expected = _torch_lambda_lrs([0.1, 0.5], [hf_lambda, hf_lambda], total)
    np.testing.assert_allclose(zero_min, expected, rtol=1e-12, atol=1e-15)
    no_warmup = CosineWarmupLR(_sgd_two_groups(), warmup=0, total_steps=4)
    assert no_warmup.get_last_lr() == [0.1, 0.5]


def test_scheduler_drives_the_optimizer():
    p = mg.tensor(np.zeros(2), requires_grad=True)
    optimizer = SGD([p], lr=1.0)
    scheduler = LambdaLR(optimizer, lambda e: 0.5**e)
    for step in range(3):
        p.grad = mg.tensor(np.ones(2))
        before = p.numpy().copy()
        optimizer.step()
        scheduler.step()
        np.testing.assert_allclose(before - p.numpy(), 0.5**step)
    assert optimizer.param_groups[0]["initial_lr"] == 1.0


def test_schedulers_from_optim():
    assert optim.NoamLR is NoamLR and optim.LambdaLR is LambdaLR
    assert optim.CosineWarmupLR is CosineWarmupLR and issubclass(NoamLR, optim.LRScheduler)


def test_bad_scheduler_arguments():
    optimizer = _sgd_two_groups()
    lrs = [g["lr"] for g in optimizer.param_groups]
    for make, error, match in [
        (
            lambda: NoamLR(optimizer, d_model=0, warmup=10),
            ValueError,
            r"d_model must be >= 1, got 0",
        ),
        (lambda: NoamLR(optimizer, d_model=8, warmup=0), ValueError, r"warmup must be >= 1, got 0"),
        (lambda: NoamLR(optimizer, 8, 10, factor=0.0), ValueError, r"factor must be > 0, got 0.0"),
        (lambda: NoamLR(optimizer, 8.5, 10), TypeError, r"d_model must be an int, got 8.5"),
        (lambda: CosineWarmupLR(optimizer, -1, 10), ValueError, r"warmup must be >= 0, got -1"),
        (lambda: CosineWarmupLR(optimizer, 5, 0), ValueError, r"total_steps must be >= 1, got 0"),
        (lambda: CosineWarmupLR(optimizer, 11, 10), ValueError, r"warmup \(11\) must not exceed"),
        (lambda: CosineWarmupLR(optimizer, 1, 10, min_lr=-1.0), ValueError, r"min_lr must be >= 0"),
        (lambda: LambdaLR(optimizer, [lambda e: 1.0]), ValueError, r"expected 2 lr_lambdas"),
        (lambda: LambdaLR(optimizer, 0.5), TypeError, r"lr_lambda must be callable, got 0.5"),
        (lambda: LambdaLR([_leaf()], lambda e: 1.0), TypeError, r"must be an nn.optim.Optimizer"),
        (lambda: NoamLR(optimizer, 8, 10, last_epoch=3), ValueError, r"needs 'initial_lr'"),
    ]:
        with pytest.raises(error, match=match):
            make()
        assert [g["lr"] for g in optimizer.param_groups] == lrs
        assert all("initial_lr" not in g for g in optimizer.param_groups)


# =============================================================================================
# Gradient clipping
# =============================================================================================

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _grads_pair(scale: float, dtype=np.float64):
    """Parameters with random gradients in minigrad and torch, plus one without a gradient."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    grads = [(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
    ours = [mg.zeros(*s, dtype=dtype, requires_grad=True) for s in SHAPES]
    theirs = [
        torch.zeros(s, dtype=getattr(torch, str(np.dtype(dtype))), device=torch_device())
        for s in SHAPES
    ]
    for p, t, g in zip(ours, theirs, grads):
        p.grad = mg.tensor(g)
        t.grad = torch.tensor(g, device=torch_device())
    ours.append(mg.zeros(3, requires_grad=True))
    theirs.append(torch.zeros(3, device=torch_device(), requires_grad=True))
    return ours, theirs, grads


@pytest.mark.parametrize("norm_type", [2.0, math.inf, "inf", 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours, theirs, grads = _grads_pair(1.0)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert isinstance(total, mg.Tensor) and total.shape == () and total.dtype == mg.float64
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for p, t, g in zip(ours, theirs, grads):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.cpu().numpy(), rtol=1e-12)
        if max_norm == 100.0:
            np.testing.assert_array_equal(p.grad.numpy(), g)  # under the limit: unchanged
    if max_norm == 0.5:
        flat = np.concatenate([p.grad.numpy().ravel() for p in ours[:-1]])
        assert np.linalg.norm(flat, float(norm_type)) == pytest.approx(0.5, rel=1e-5)
    assert ours[-1].grad is None


def test_clip_grad_norm_float32_and_edge_cases():
    torch = pytest.importorskip("torch")
    ours, theirs, _ = _grads_pair(2.0, np.float32)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert total.dtype == mg.float32 and all(p.grad.dtype == mg.float32 for p in ours[:-1])
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    for p, t in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.cpu().numpy(), rtol=1e-6)
    # a single Tensor, and no gradient at all
    single = mg.tensor(np.zeros(2), requires_grad=True)
    single.grad = mg.tensor(np.array([3.0, 4.0]))
    assert utils.clip_grad_norm_(single, 1.0).item() == 5.0
    np.testing.assert_allclose(single.grad.numpy(), [0.6, 0.8], rtol=1e-6)
    none = utils.clip_grad_norm_([_leaf()], 1.0)
    assert none.item() == 0.0 and none.shape == ()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0
def test_clip_grad_norm_nonfinite():
    torch = pytest.importorskip("torch")
    p = mg.tensor(np.zeros(3), requires_grad=True)
    p.grad = mg.tensor(np.array([1.0, np.inf, 2.0]))
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 .* is inf, so it cannot be"):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, np.inf, 2.0])
    # without the flag, the gradients are scaled by the non-finite norm, as torch does
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor([1.0, np.inf, 2.0], dtype=torch.float64)
    total = utils.clip_grad_norm_([p], 1.0)
    expected = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert total.item() == expected.item() == math.inf
    np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs, grads = _grads_pair(1.0)
    assert utils.clip_grad_value_(ours, 0.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for p, t in zip(ours[:-1], theirs[:-1]):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.cpu().numpy())
        assert np.abs(p.grad.numpy()).max() == 0.5


def test_bad_clip_arguments():
    p = _leaf()
    p.grad = mg.ones(2, 3, dtype=mg.float64)
    for call, error, match in [
        (lambda: utils.clip_grad_norm_([p], -1.0), ValueError, r"max_norm must be >= 0, got -1.0"),
        (
            lambda: utils.clip_grad_norm_([p], 1.0, norm_type=0),
            ValueError,
            r"norm_type must be > 0",
        ),
        (lambda: utils.clip_grad_norm_([p], 1.0, norm_type="l2"), TypeError, r"norm_type must be"),
        (lambda: utils.clip_grad_norm_([p, 3], 1.0), TypeError, r"parameters\[1\] is a int"),
        (lambda: utils.clip_grad_value_([p], -0.1), ValueError, r"clip_value must be >= 0"),
    ]:
        with pytest.raises(error, match=match):
            call()
        np.testing.assert_array_equal(p.grad.numpy(), np.ones((2, 3)))
