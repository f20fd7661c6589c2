"""``nn`` side by side with ``torch.nn`` / ``torch.optim``: a seeded differential hunt, and a
regression test for each disagreement it found.

- Optimizers: random options per parameter group (momentum, dampening, nesterov, weight decay,
  amsgrad, maximize), gradients that are sometimes None, 0-d parameters; trajectories, state and
  resumption through ``state_dict`` equal torch's in float64; the defaults are torch's.
- Schedules: ``LambdaLR`` step for step with torch's; ``NoamLR`` / ``CosineWarmupLR`` against
  their documented formulas run through torch's ``LambdaLR``.
- ``clip_grad_norm_``: random gradients of mixed dtypes, shapes (empty too) and norm types;
  float16 norms taken in float32 as torch does (they overflowed from 256).
- Modules: ``state_dict`` keys and order with shared submodules and re-assigned parameters,
  ``load_state_dict(strict=False)``, ``named_*(remove_duplicate=False)``, the containers'
  list and dict methods, ``repr``.
- Layers and losses with copied weights, every reduction, forward and gradients.
- ``init``: gains, fans, ``constant_`` of integers, the distributions' moments and bounds.

The hunt's trial counts are small by default (the whole file runs in a few seconds); the
``slow`` variants run ten times as many cases.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import nn
from nn import init, optim, utils
from nn.schedule import CosineWarmupLR, LambdaLR, NoamLR

torch = pytest.importorskip("torch")

TORCH_DTYPE = {np.float16: torch.float16, np.float32: torch.float32, np.float64: torch.float64}
TOLERANCE = {np.float16: 2e-3, np.float32: 1e-5, np.float64: 1e-12}


def _torch_of(arr: np.ndarray):
    return torch.tensor(arr.copy(), dtype=TORCH_DTYPE.get(arr.dtype.type, None))


# =============================================================================================
# Optimizers
# =============================================================================================

SHAPES = [(3, 2), (4,), ()]  # () found Adam crashing and SGD's momentum buffer never updating
OPTION_SPACE = {
    "SGD": {
        "lr": [0.1, 0.01],
        "momentum": [0.0, 0.9],
        "dampening": [0.0, 0.3],
        "nesterov": [False, True],
        "weight_decay": [0.0, 0.1],
        "maximize": [False, True],
    },
    "Adam": {
        "lr": [0.01, 0.1],
        "betas": [(0.9, 0.999), (0.5, 0.9)],
        "eps": [1e-8, 1e-3],
        "weight_decay": [0.0, 0.1],
        "amsgrad": [False, True],
        "maximize": [False, True],
    },
}
OPTION_SPACE["AdamW"] = OPTION_SPACE["Adam"]


def _random_groups(name: str, rng: np.random.Generator) -> list[dict]:
    """One option dict per parameter of SHAPES, drawn from OPTION_SPACE."""
    groups = []
    for _ in SHAPES:
        options = {
            key: values[rng.integers(len(values))] for key, values in OPTION_SPACE[name].items()
        }
        if options.get("nesterov"):
            options.update(momentum=0.9, dampening=0.0)
        groups.append(options)
    return groups


class _Pair:
    """The same parameters, optimizer and gradients in minigrad and in torch (float64)."""

    def __init__(self, name: str, groups: list[dict], seed: int, steps: int) -> None:
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(shape) for shape in SHAPES]
        self.grads = [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(steps)]
        self.none = rng.random((steps, len(SHAPES))) < 0.25  # grad None: skipped
        self.ours = [mg.tensor(a.copy(), requires_grad=True) for a in self.init]
        self.theirs = [torch.tensor(a.copy(), requires_grad=True) for a in self.init]
        self.name, self.groups = name, groups
        self.opt = self.make_ours(self.ours)
        self.topt = getattr(torch.optim, name)(
            [{"params": [p], **g} for p, g in zip(self.theirs, groups)], foreach=False
        )

    def make_ours(self, params: list) -> optim.Optimizer:
        return getattr(optim, self.name)(
            [{"params": [p], **g} for p, g in zip(params, self.groups)]
        )

    def step(self, s: int, opt: optim.Optimizer | None = None, torch_too: bool = True) -> None:
        for i, (p, q) in enumerate(zip(self.ours, self.theirs)):
            skip = self.none[s][i]
            p.grad = None if skip else mg.tensor(self.grads[s][i].copy())
            q.grad = None if skip else torch.tensor(self.grads[s][i].copy())
        (opt or self.opt).step()
        if torch_too:
            self.topt.step()

    def assert_same(self, rtol: float = 1e-12) -> None:
        for p, q in zip(self.ours, self.theirs):
            assert p.dtype == mg.float64 and tuple(p.shape) == tuple(q.shape)
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=rtol, atol=1e-14)


def _assert_same_state(ours: dict, theirs: dict) -> None:
    """Our state_dict()["state"] holds torch's entries with torch's values (torch keeps a
    ``momentum_buffer`` of None for SGD without momentum, we keep no entry)."""
    for index, entries in theirs["state"].items():
        entries = {k: v for k, v in entries.items() if v is not None}
        assert set(ours["state"].get(index, {})) == set(entries), index
        for key, value in entries.items():
            mine = ours["state"][index][key]
            if key == "step":
                assert mine == int(value)
            else:
                np.testing.assert_allclose(mine.numpy(), value.numpy(), rtol=1e-12, atol=1e-14)
    assert set(ours["state"]) == {
        i for i, e in theirs["state"].items() if any(v is not None for v in e.values())
    }
    for mine, their in zip(ours["param_groups"], theirs["param_groups"]):
        for key, value in mine.items():
            assert their[key] == (list(value) if key == "params" else value), key


def _optimizer_hunt(trials: int) -> None:
    rng = np.random.default_rng(2026)
    for name in OPTION_SPACE:
        for trial in range(trials):
            groups = _random_groups(name, rng)
            pair = _Pair(name, groups, seed=trial, steps=6)
            for s in range(6):
                pair.step(s)
            pair.assert_same()
            _assert_same_state(pair.opt.state_dict(), pair.topt.state_dict())


def test_optimizers_match_torch_with_random_options():
    _optimizer_hunt(trials=12)


@pytest.mark.slow
def test_optimizers_match_torch_with_random_options_long():
    _optimizer_hunt(trials=150)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
        ("Adam", {"lr": 0.1}),
        ("AdamW", {"lr": 0.1, "amsgrad": True}),
    ],
)
def test_zero_dim_parameter(name, options):
    """Adam raised "return arrays must be of ArrayType" on a 0-d parameter (NumPy's sqrt of a
    0-d array is a scalar), and SGD kept a 0-d momentum buffer as a NumPy scalar that the
    in-place update never reached (silently off torch's trajectory)."""
    p = mg.tensor(1.5, dtype=mg.float64, requires_grad=True)
    q = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    ours, theirs = getattr(optim, name)([p], **options), getattr(torch.optim, name)([q], **options)
    for g in (0.3, -0.7, 0.2, 0.9):
        p.grad, q.grad = mg.tensor(g, dtype=mg.float64), torch.tensor(g, dtype=torch.float64)
        ours.step()
        theirs.step()
        assert p.item() == pytest.approx(q.item(), rel=1e-13)
    for value in ours.state[p].values():
        assert isinstance(value, int) or isinstance(value, mg.backend.ARRAY_TYPES)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_defaults_and_positional_order_are_torchs(name):
    """SGD's lr was required (torch: 1e-3) and its fifth argument nesterov (torch: weight_decay);
    amsgrad and maximize did not exist."""
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    shared = [key for key in theirs if key in ours]
    assert [k for k in theirs if theirs[k].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD] == [
        k for k in ours if ours[k].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    for key in shared:
        assert ours[key].default == theirs[key].default, key
        assert ours[key].kind == theirs[key].kind, key
    assert {"lr", "weight_decay", "maximize"} <= set(shared)
    group = getattr(optim, name)([mg.zeros(2, requires_grad=True)]).param_groups[0]
    their_group = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).param_groups[0]
    for key, value in group.items():
        if key != "params":
            assert their_group[key] == value, key
    # SGD(params, lr, momentum, dampening, weight_decay): the fifth is the decay, as torch
    if name == "SGD":
        assert (
            optim.SGD([mg.zeros(1, requires_grad=True)], 0.1, 0.9, 0.0, 0.01).param_groups[0][
                "weight_decay"
            ]
            == 0.01
        )


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_resume_through_state_dict_follows_torchs_trajectory(name):
    """Three steps, state_dict, a fresh optimizer over the same parameters loads it, three
    more steps: the trajectory is torch's uninterrupted one (amsgrad's maximum included)."""
    rng = np.random.default_rng(5)
    groups = _random_groups(name, rng)
    groups[0].update({"amsgrad": True} if name != "SGD" else {"momentum": 0.9})
    pair = _Pair(name, groups, seed=11, steps=6)
    for s in range(3):
        pair.step(s)
    saved = pair.opt.state_dict()
    resumed = pair.make_ours(pair.ours)
    resumed.load_state_dict(saved)
    for s in range(3, 6):
        pair.step(s, opt=resumed)
    pair.assert_same()
    _assert_same_state(resumed.state_dict(), pair.topt.state_dict())


def test_state_dict_without_the_new_flags_loads():
    """A state dict saved before amsgrad and maximize existed loads with both False."""
    p = mg.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.tensor(np.ones(3))
    opt.step()
    old = opt.state_dict()
    for group in old["param_groups"]:
        del group["amsgrad"], group["maximize"]
    fresh = optim.Adam([p], lr=0.1, amsgrad=True)
    fresh.load_state_dict(old)
    assert fresh.param_groups[0]["amsgrad"] is False and fresh.param_groups[0]["maximize"] is False


def test_amsgrad_state_must_match_the_group():
    p = mg.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], amsgrad=True)
    p.grad = mg.tensor(np.ones(3))
    opt.step()
    saved = opt.state_dict()
    del saved["state"][0]["max_exp_avg_sq"]
    with pytest.raises(ValueError, match="max_exp_avg_sq"):
        optim.Adam([p], amsgrad=True).load_state_dict(saved)
    with pytest.raises(TypeError, match="amsgrad must be a bool"):
        optim.Adam([p], amsgrad=1)
    with pytest.raises(TypeError, match="maximize must be a bool"):
        optim.SGD([p], maximize="yes")


def test_named_parameters_as_params_like_torch():
    """torch.optim takes model.named_parameters() (names kept in the group's "param_names",
    saved and loaded with the state); ours refused the (name, Tensor) pairs."""
    results = []
    for L, lib, module in ((nn, mg, optim), (torch.nn, torch, torch.optim)):
        model = L.Linear(2, 2)
        opt = module.Adam(model.named_parameters(), lr=0.1)
        model(lib.ones(1, 2)).sum().backward()
        opt.step()
        saved = opt.state_dict()["param_groups"][0]
        unnamed = module.Adam(model.parameters(), lr=0.1)
        unnamed.load_state_dict(opt.state_dict())
        log = [opt.param_groups[0]["param_names"], saved["param_names"], saved["params"]]
        log.append(unnamed.param_groups[0]["param_names"])  # the saved names, as torch
        for mixed in (
            [("weight", model.weight), model.bias],
            [{"params": [("weight", model.weight)]}, {"params": [model.bias]}],
        ):
            with pytest.raises(ValueError):
                module.Adam(mixed)
        results.append(log)
    assert (
        results[0]
        == results[1]
        == [["weight", "bias"], ["weight", "bias"], [0, 1], ["weight", "bias"]]
    )
    p = mg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="pair"):
        optim.Adam([(1, p)])


def test_zero_grad_defaults_to_none_like_torch():
    p = mg.tensor(np.ones(2), requires_grad=True)
    q = torch.ones(2, requires_grad=True)
    for opt, t, fill in ((optim.SGD([p]), p, mg.ones), (torch.optim.SGD([q]), q, torch.ones)):
        t.grad = fill(2, dtype=t.dtype)
        opt.zero_grad(set_to_none=False)
        assert t.grad is not None and t.grad.sum().item() == 0
        opt.zero_grad()
        assert t.grad is None


# =============================================================================================
# Schedules
# =============================================================================================


def _scheduled(lrs: tuple[float, ...]):
    ours = optim.SGD([{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], 0.5)
    theirs = torch.optim.SGD(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    )
    return ours, theirs


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_lambda_lr_matches_torch_step_by_step():
    lambdas = [lambda e: 0.9**e, lambda e: 1.0 / (e + 1) + (e % 3)]
    ours_opt, their_opt = _scheduled((0.1, 0.02))
    ours = LambdaLR(ours_opt, lambdas)
    theirs = torch.optim.lr_scheduler.LambdaLR(their_opt, lambdas)
    for _ in range(8):
        assert ours.last_epoch == theirs.last_epoch
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert [g["lr"] for g in ours_opt.param_groups] == [g["lr"] for g in their_opt.param_groups]
        assert [g["initial_lr"] for g in ours_opt.param_groups] == [
            g["initial_lr"] for g in their_opt.param_groups
        ]
        ours_opt.step(), their_opt.step(), ours.step(), theirs.step()
    # a fresh scheduler loads the state and goes on as torch's does
    ours_opt2, their_opt2 = _scheduled((0.1, 0.02))
    ours2, theirs2 = (
        LambdaLR(ours_opt2, lambdas),
        torch.optim.lr_scheduler.LambdaLR(their_opt2, lambdas),
    )
    ours2.load_state_dict(ours.state_dict())
    theirs2.load_state_dict(theirs.state_dict())
    for _ in range(3):
        ours2.step(), theirs2.step(), ours.step()
        assert ours2.last_epoch == theirs2.last_epoch == ours.last_epoch
        assert ours2.get_last_lr() == theirs2.get_last_lr() == ours.get_last_lr()
    # resuming with last_epoch (needs initial_lr, as torch)
    ours_opt3, their_opt3 = _scheduled((0.1, 0.02))
    for group in [*ours_opt3.param_groups, *their_opt3.param_groups]:
        group["initial_lr"] = group["lr"]
    ours3 = LambdaLR(ours_opt3, lambdas[1], last_epoch=4)
    theirs3 = torch.optim.lr_scheduler.LambdaLR(their_opt3, lambdas[1], last_epoch=4)
    assert ours3.last_epoch == theirs3.last_epoch == 5
    assert ours3.get_last_lr() == theirs3.get_last_lr()


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize(
    ("d_model", "warmup", "factor"), [(512, 4000, 1.0), (16, 3, 2.0), (1, 1, 0.5)]
)
def test_noam_is_its_formula_through_torchs_lambda_lr(d_model, warmup, factor):
    ours_opt, their_opt = _scheduled((1.0, 0.3))
    ours = NoamLR(ours_opt, d_model, warmup, factor)

    def noam(epoch: int) -> float:  # the docstring's formula, step counted from 1
        step = epoch + 1
        return factor * d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)

    # absolute (the group's own lr ignored): torch's LambdaLR over base lr 1
    for group in their_opt.param_groups:
        group["lr"] = 1.0
    theirs = torch.optim.lr_scheduler.LambdaLR(their_opt, noam)
    for _ in range(min(3 * warmup + 5, 60)):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-14)
        ours.step(), theirs.step()


@pytest.mark.filterwarnings("ignore:Detected call of")
@pytest.mark.parametrize(
    ("warmup", "total", "min_lr"), [(0, 10, 0.0), (3, 10, 0.001), (10, 10, 0.0), (5, 20, 0.05)]
)
def test_cosine_warmup_is_its_formula_through_torchs_lambda_lr(warmup, total, min_lr):
    bases = (0.1, 0.02)
    ours_opt, their_opt = _scheduled(bases)
    ours = CosineWarmupLR(ours_opt, warmup, total, min_lr)

    def factor(base: float):
        def f(t: int) -> float:  # the docstring's three cases, as a factor of base
            if t >= total:
                return min_lr / base
            if t < warmup:
                return t / warmup
            progress = (t - warmup) / (total - warmup)
            return (min_lr + (base - min_lr) * (1 + math.cos(math.pi * progress)) / 2) / base

        return f

    theirs = torch.optim.lr_scheduler.LambdaLR(their_opt, [factor(b) for b in bases])
    for _ in range(total + 5):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12, atol=1e-15)
        ours.step(), theirs.step()


# =============================================================================================
# Gradient clipping
# =============================================================================================


def _clip_case(rng: np.random.Generator):
    n = int(rng.integers(1, 4))
    dtypes = [(np.float16, np.float32, np.float64)[rng.integers(3)] for _ in range(n)]
    if rng.random() < 0.5:
        dtypes = [dtypes[0]] * n
    arrays = []
    for dtype in dtypes:
        shape = tuple(int(k) for k in rng.integers(0, 4, size=rng.integers(0, 3)))
        scale = 10 ** rng.uniform(-3, 2.5)  # float16 squares overflow from 256
        arrays.append((rng.standard_normal(shape) * scale).astype(dtype))
    without_grad = [bool(rng.random() < 0.2) for _ in range(n)]
    norm_type = [2.0, 1.0, math.inf, 3.0, 0.5, "inf"][rng.integers(6)]
    max_norm = float(rng.choice([0.0, 0.1, 1.0, 100.0]))
    return arrays, without_grad, norm_type, max_norm


def _clip_hunt(trials: int) -> None:
    rng = np.random.default_rng(99)
    for _ in range(trials):
        arrays, without_grad, norm_type, max_norm = _clip_case(rng)
        if norm_type in (math.inf, "inf") and any(a.size == 0 for a in arrays):
            continue  # torch refuses the inf norm of an empty tensor; docs/guide/differences.md
        ours, theirs = [], []
        for arr, skip in zip(arrays, without_grad):
            p = mg.tensor(np.zeros_like(arr), requires_grad=True)
            q = torch.zeros(arr.shape, dtype=TORCH_DTYPE[arr.dtype.type], requires_grad=True)
            if not skip:
                p.grad, q.grad = mg.tensor(arr.copy()), _torch_of(arr)
            ours.append(p), theirs.append(q)
        total = utils.clip_grad_norm_(ours, max_norm, norm_type)
        their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=False)
        graded = [a.dtype.type for a, skip in zip(arrays, without_grad) if not skip]
        tol = max([TOLERANCE[d] for d in graded], default=1e-12)
        case = f"{[a.dtype for a in arrays]} {[a.shape for a in arrays]} {norm_type} {max_norm}"
        assert str(total.dtype) == str(their_total.dtype).removeprefix("torch."), case
        assert total.shape == () and their_total.shape == ()
        np.testing.assert_allclose(
            total.numpy().astype(float), their_total.double().numpy(), rtol=tol, err_msg=case
        )
        for p, q in zip(ours, theirs):
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                assert p.grad.dtype == p.dtype
                np.testing.assert_allclose(
                    p.grad.numpy().astype(float),
                    q.grad.double().numpy(),
                    rtol=max(tol, TOLERANCE[p.grad.numpy().dtype.type]),
                    atol=1.2e-7 if p.dtype == mg.float16 else 1e-30,  # 2 subnormal ulps
                    err_msg=case,
                )


def test_clip_grad_norm_matches_torch_on_random_gradients():
    _clip_hunt(trials=150)


@pytest.mark.slow
def test_clip_grad_norm_matches_torch_on_random_gradients_long():
    _clip_hunt(trials=3000)


@pytest.mark.parametrize(
    ("values", "norm_type"),
    [
        ([300.0], 2.0),
        ([50.0, 1.0], 3.0),
        ([1.0] * 5000, 2.0),
        ([1e-3] * 10, 3.0),
        ([1e-4] * 10, 2.0),
    ],
)
def test_clip_grad_norm_of_float16_is_taken_in_float32(values, norm_type):
    """The norm of a float16 gradient of 300 was inf (its square overflows float16), so
    clipping turned every gradient into NaN; 1e-3 cubed underflowed to a norm of 0."""
    arr = np.array(values, np.float16)
    p = mg.tensor(np.zeros_like(arr), requires_grad=True)
    q = torch.zeros(arr.shape, dtype=torch.float16, requires_grad=True)
    p.grad, q.grad = mg.tensor(arr.copy()), _torch_of(arr)
    total = utils.clip_grad_norm_(p, 1.0, norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(q, 1.0, norm_type, foreach=False)
    assert total.dtype == mg.float16 and math.isfinite(total.item()) and total.item() > 0
    np.testing.assert_allclose(total.item(), their_total.item(), rtol=1e-3)
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=2e-3)


def test_clip_functions_take_torchs_foreach_argument():
    p = mg.tensor(np.ones(3), requires_grad=True)
    p.grad = mg.tensor(np.array([3.0, -4.0, 0.0]))
    assert utils.clip_grad_norm_([p], 1.0, foreach=False).item() == pytest.approx(5.0)
    utils.clip_grad_value_([p], 0.1, foreach=None)
    assert np.abs(p.grad.numpy()).max() <= 0.1


# =============================================================================================
# Modules
# =============================================================================================


def _net(L, shared: bool):
    """A model with a shared submodule (``b`` and ``seq.1`` are ``a``), a tied weight assigned
    after its layer was built, a non-persistent buffer, and None entries."""
    lib = mg if L is nn else torch

    class Block(L.Module):
        def __init__(self):
            super().__init__()
            self.lin = L.Linear(3, 4)
            self.register_buffer("running", lib.zeros(4))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.register_buffer("nothing", None)
            self.register_parameter("absent", None)
            self.scale = L.Parameter(lib.ones(1))

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.a = Block()
            self.b = self.a if shared else Block()
            self.head = L.Linear(4, 2, bias=False)
            self.tied = L.Linear(4, 2)
            self.tied.weight = self.head.weight  # re-assigned: keeps its place before bias
            self.seq = L.Sequential(L.ReLU(), self.a)
            self.empty = None

    return Net()


@pytest.mark.parametrize("shared", [True, False])
def test_state_dict_and_names_follow_torch(shared):
    """A submodule reached by several paths was in state_dict once (torch: under each path),
    and a parameter assigned again moved to the end of its module's state_dict."""
    ours, theirs = _net(nn, shared), _net(torch.nn, shared)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict(keep_vars=True)) == list(theirs.state_dict(keep_vars=True))
    assert ours.state_dict(keep_vars=True)["a.scale"] is ours.a.scale
    assert ours.state_dict()["a.scale"] is not ours.a.scale
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(ours, method)()] == [n for n, _ in getattr(theirs, method)()]
    for method in ("named_parameters", "named_buffers", "named_modules"):
        mine = [n for n, _ in getattr(ours, method)(remove_duplicate=False)]
        assert mine == [n for n, _ in getattr(theirs, method)(remove_duplicate=False)], method
    assert [n for n, _ in ours.named_parameters(prefix="p", recurse=False)] == [
        n for n, _ in theirs.named_parameters(prefix="p", recurse=False)
    ]
    visited, their_visited = [], []
    ours.apply(lambda m: visited.append(type(m).__name__))
    theirs.apply(lambda m: their_visited.append(type(m).__name__))
    assert visited == their_visited
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("shared", [True, False])
def test_load_state_dict_not_strict_reports_torchs_keys(shared):
    ours, theirs = _net(nn, shared), _net(torch.nn, shared)
    their_state = theirs.state_dict()
    state = OrderedDict((k, mg.tensor(v.numpy())) for k, v in their_state.items())
    first = next(iter(state))
    del state[first], their_state[first]
    state["extra"], their_state["extra"] = mg.zeros(1), torch.zeros(1)
    result = ours.load_state_dict(state, strict=False)
    assert tuple(result) == tuple(theirs.load_state_dict(their_state, strict=False))
    assert result.missing_keys == [first] and result.unexpected_keys == ["extra"]
    for key, value in ours.state_dict().items():
        if key != first:
            np.testing.assert_array_equal(value.numpy(), their_state[key].numpy())
    with pytest.raises(nn.StateDictError, match="missing keys: a.scale"):
        ours.load_state_dict(state)
    # a value per key, different under each name of a shared tensor: the last one wins, as torch
    their_state = {
        k: torch.full_like(v, float(i)) for i, (k, v) in enumerate(theirs.state_dict().items())
    }
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in their_state.items()})
    theirs.load_state_dict(their_state)
    for mine, their in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        np.testing.assert_array_equal(mine.numpy(), their.numpy())


def test_modes_grads_and_children_follow_torch():
    results = []
    for L, lib in ((nn, mg), (torch.nn, torch)):
        m = L.Sequential(L.Linear(2, 3), L.Dropout(0.5), L.Sequential(L.Linear(3, 1), L.ReLU()))
        log = [m.eval() is m, [x.training for x in m.modules()]]
        m.train()
        m[2].eval()
        log.append([x.training for x in m.modules()])
        log.append([m.requires_grad_(False) is m, [p.requires_grad for p in m.parameters()]])
        m.requires_grad_()
        m(lib.ones(4, 2)).sum().backward()
        m.zero_grad(set_to_none=False)
        log.append([float(p.grad.abs().sum()) for p in m.parameters()])
        m.zero_grad()
        log.append([p.grad for p in m.parameters()])
        log.append([(n, type(c).__name__) for n, c in m.named_children()])
        with pytest.raises(ValueError):
            m.train(1)
        results.append(log)
    assert results[0] == results[1]


def test_lookups_by_path_and_small_helpers_follow_torch():
    """get_submodule/get_parameter/get_buffer, register_module, half() and Identity's ignored
    arguments did not exist."""

    def tree(L, lib):
        m = L.Sequential(L.Linear(2, 3), L.Sequential(L.LayerNorm(3), L.Identity(4, x=1)))
        m[1].register_buffer("stat", lib.zeros(1))
        m.register_module("empty", None)
        return m

    ours, theirs = tree(nn, mg), tree(torch.nn, torch)
    lookups = [("get_submodule", t) for t in ("", "1.0", "1.x", "0.weight", "empty", "1.1")]
    lookups += [("get_parameter", t) for t in ("1.0.bias", "0.nope", "1.stat", "7.weight")]
    lookups += [("get_buffer", t) for t in ("1.stat", "0.weight", "stat")]
    for method, target in lookups:
        outcomes = []
        for model in (ours, theirs):
            try:
                found = getattr(model, method)(target)
                outcomes.append((type(found).__name__, tuple(getattr(found, "shape", ()))))
            except AttributeError:
                outcomes.append("AttributeError")
        assert outcomes[0] == outcomes[1], (method, target)
    assert ours.get_parameter("0.weight") is ours[0].weight
    theirs.half()  # floating buffers are cast too
    assert ours.half()[0].weight.dtype == mg.float16 == ours.get_buffer("1.stat").dtype
    assert theirs.get_buffer("1.stat").dtype == torch.float16


def _container_ops(L):
    """Each container operation as (description, function of the library)."""
    seq = lambda: L.Sequential(L.ReLU(), L.Tanh(), L.Sigmoid(), L.Identity())  # noqa: E731
    mlist = lambda: L.ModuleList([L.ReLU(), L.Tanh(), L.Sigmoid()])  # noqa: E731
    mdict = lambda: L.ModuleDict({"b": L.ReLU(), "a": L.Tanh()})  # noqa: E731

    def after(make, action):
        container = make()
        result = action(container)
        return result, container

    return {
        "seq[1], seq[-1]": lambda: (seq()[1], seq()[-1]),
        "seq[1:3]": lambda: seq()[1:3],
        "seq[::-1]": lambda: seq()[::-1],
        "seq[4]": lambda: seq()[4],
        "seq[-5]": lambda: seq()[-5],
        "len(seq)": lambda: len(seq()),
        "seq.append": lambda: seq().append(L.ReLU()),
        "seq.extend": lambda: seq().extend([L.ReLU(), L.Tanh()]),
        "seq.insert(1)": lambda: seq().insert(1, L.ELU()),
        "seq.insert(-1)": lambda: seq().insert(-1, L.ELU()),
        "seq.insert(4)": lambda: seq().insert(4, L.ELU()),
        "seq.insert(9)": lambda: seq().insert(9, L.ELU()),
        "seq.pop(1)": lambda: after(seq, lambda s: s.pop(1)),
        "seq[1] = ": lambda: after(seq, lambda s: s.__setitem__(1, L.ELU())),
        "del seq[1]": lambda: after(seq, lambda s: s.__delitem__(1)),
        "del seq[1:3]": lambda: after(seq, lambda s: s.__delitem__(slice(1, 3))),
        "seq + seq": lambda: seq() + seq(),
        "seq + list": lambda: seq() + [L.ReLU()],
        "list(seq)": lambda: list(seq()),
        "mlist[1:]": lambda: mlist()[1:],
        "mlist[-1]": lambda: mlist()[-1],
        "mlist[3]": lambda: mlist()[3],
        "mlist.insert(1)": lambda: after(mlist, lambda m: m.insert(1, L.ELU())),
        "mlist.insert(0)": lambda: after(mlist, lambda m: m.insert(0, L.ELU())),
        "mlist.append": lambda: mlist().append(L.ELU()),
        "mlist.extend": lambda: mlist().extend([L.ELU()]),
        "mlist.pop(0)": lambda: after(mlist, lambda m: m.pop(0)),
        "del mlist[0]": lambda: after(mlist, lambda m: m.__delitem__(0)),
        "mlist[-1] = ": lambda: after(mlist, lambda m: m.__setitem__(-1, L.ELU())),
        "mlist + mlist": lambda: mlist() + mlist(),
        "mlist += ": lambda: after(mlist, lambda m: m.__iadd__([L.ELU()])),
        "len(mlist)": lambda: len(mlist()),
        "mdict keys": lambda: list(mdict().keys()),
        "mdict iter": lambda: list(mdict()),
        "mdict pop": lambda: after(mdict, lambda d: d.pop("b")),
        "mdict clear": lambda: after(mdict, lambda d: d.clear()),
        "mdict update pairs": lambda: after(mdict, lambda d: d.update([("c", L.ELU())])),
        "mdict update mdict": lambda: after(mdict, lambda d: d.update(mdict())),
        "mdict['zz']": lambda: mdict()["zz"],
        "'a' in mdict": lambda: "a" in mdict(),
        "mdict from pairs": lambda: L.ModuleDict([("x", L.ReLU())]),
    }


def _describe(value, L) -> object:
    """A library-free description: type names, container keys, nested."""
    if isinstance(value, L.Module):
        children = [(k, _describe(v, L)) for k, v in value._modules.items()]
        return (type(value).__name__, children)
    if isinstance(value, tuple | list):
        return [_describe(v, L) for v in value]
    return value


def _outcome(fn, L) -> object:
    try:
        return _describe(fn(), L)
    except Exception as error:  # the error's type is part of the comparison
        return f"raises {type(error).__name__}"


def test_containers_behave_as_torchs():
    ours, theirs = _container_ops(nn), _container_ops(torch.nn)
    for name in ours:
        assert _outcome(ours[name], nn) == _outcome(theirs[name], torch.nn), name


KINDS = ["ReLU", "Tanh", "Sigmoid", "ELU", "Identity", "SiLU"]


def _container_step(container, L, op: int, index: int, window: slice, kind: str) -> object:
    """One edit of a Sequential or ModuleList; what it returned, or the error's type."""
    make = getattr(L, kind)
    try:
        if op == 0:
            result = container.append(make())
        elif op == 1:
            result = container.insert(index, make())
        elif op == 2:
            result = container.pop(index)
        elif op == 3:
            container[index] = make()
            result = None
        elif op == 4:
            del container[index]
            result = None
        elif op == 5:
            del container[window]
            result = None
        elif op == 6:
            result = container[window]
        else:
            result = container.extend([make(), make()])
    except Exception as error:  # the type is compared
        return f"raises {type(error).__name__}"
    return "self" if result is container else _describe(result, L)


def _container_hunt(trials: int) -> None:
    rng = np.random.default_rng(8)
    for trial in range(trials):
        name = ("Sequential", "ModuleList")[trial % 2]
        start = [KINDS[i] for i in rng.integers(0, len(KINDS), rng.integers(0, 5))]
        ours, theirs = (
            getattr(L, name)(
                *[[getattr(L, k)() for k in start]]
                if name == "ModuleList"
                else [getattr(L, k)() for k in start]
            )
            for L in (nn, torch.nn)
        )
        for _ in range(6):
            n = len(ours)
            op, index = int(rng.integers(0, 8)), int(rng.integers(-n - 2, n + 2))
            if name == "ModuleList" and op == 1 and not 0 <= index <= n:
                continue  # torch's quirks; test_container_edits_that_torch_gets_wrong_follow_list
            bounds = [
                None if rng.random() < 0.3 else int(rng.integers(-n - 1, n + 1)) for _ in "ab"
            ]
            window = slice(*bounds, [None, 1, 2, -1][rng.integers(0, 4)])
            kind = KINDS[rng.integers(0, len(KINDS))]
            case = (name, start, op, index, window)
            assert _container_step(ours, nn, op, index, window, kind) == _container_step(
                theirs, torch.nn, op, index, window, kind
            ), case
            assert _describe(ours, nn) == _describe(theirs, torch.nn), case


def test_container_edits_match_torch_on_random_sequences():
    _container_hunt(trials=150)


@pytest.mark.slow
def test_container_edits_match_torch_on_random_sequences_long():
    _container_hunt(trials=3000)


def _assign(made: list, L, lib, step: tuple[str, int, int, str]) -> None:
    """One step of a tree's plan (see ``_build_tree``)."""
    kind, a, b, name = step
    parent = made[a % len(made)]
    if kind == "module":
        made.append(L.Module())
        setattr(parent, name, made[-1])
    elif kind == "share" and not any(m is parent for m in made[b % len(made)].modules()):
        setattr(parent, name, made[b % len(made)])  # shared, never a cycle
    elif kind == "parameter":
        setattr(parent, name, L.Parameter(lib.zeros(2)))
    elif kind == "tie":
        existing = [p for m in made for p in m._parameters.values() if p is not None]
        if existing:
            setattr(parent, name, existing[b % len(existing)])
    elif kind == "buffer":
        parent.register_buffer(name, lib.ones(1), persistent=bool(b % 2))
    elif kind == "tensor":
        setattr(parent, name, lib.ones(1))
    elif kind in ("none", "delete") and name in {
        **parent._parameters,
        **parent._modules,
        **parent._buffers,
    }:
        setattr(parent, name, None) if kind == "none" else delattr(parent, name)


def _tree_names(L, lib, plan: list[tuple[str, int, int, str]]) -> dict:
    """Run ``plan``'s assignments on a fresh Module tree (submodules, shared submodules,
    parameters, tied parameters, buffers, plain tensors, None, deletions), each step's outcome
    (torch refuses some), then the names the tree lists."""
    made = [L.Module()]
    names: dict = {"steps": []}
    for step in plan:
        try:
            _assign(made, L, lib, step)
            names["steps"].append("ok")
        except Exception as error:  # the type is compared
            names["steps"].append(type(error).__name__)
    root = made[0]
    names["state_dict"] = list(root.state_dict())
    for method in ("named_parameters", "named_buffers", "named_modules"):
        names[method] = [n for n, _ in getattr(root, method)()]
        names[method + " all"] = [n for n, _ in getattr(root, method)(remove_duplicate=False)]
    names["named_children"] = [n for n, _ in root.named_children()]
    return names


def _tree_hunt(trials: int) -> None:
    rng = np.random.default_rng(17)
    kinds = ["module", "module", "share", "parameter", "parameter", "tie", "buffer", "tensor"]
    kinds += ["none", "delete"]
    for _ in range(trials):
        plan = [
            (kinds[rng.integers(len(kinds))], int(rng.integers(10)), int(rng.integers(10)), name)
            for name in rng.choice(["a", "b", "c", "w"], rng.integers(1, 14)).tolist()
        ]
        assert _tree_names(nn, mg, plan) == _tree_names(torch.nn, torch, plan), plan


def test_module_trees_match_torch_on_random_assignments():
    """Assigning a Module to a parameter's name, or register_buffer over another attribute,
    replaced it silently; torch raises (TypeError, KeyError), and so do we now."""
    _tree_hunt(trials=300)


@pytest.mark.slow
def test_module_trees_match_torch_on_random_assignments_long():
    _tree_hunt(trials=5000)


def test_registering_over_another_attribute_raises_as_torch():
    for L, lib in ((nn, mg), (torch.nn, torch)):
        m = L.Linear(2, 2)
        with pytest.raises(KeyError, match="'weight' already exists"):
            m.register_buffer("weight", lib.zeros(2))
        with pytest.raises(KeyError, match="'forward' already exists"):
            m.register_parameter("forward", None)
        with pytest.raises(TypeError):
            m.weight = L.Linear(2, 2)
        m.register_buffer("b2", lib.zeros(1), persistent=False)
        m.register_buffer("b2", lib.zeros(1))  # again: persistent now
        assert "b2" in m.state_dict()


def test_reprs_match_torch_including_repeated_modules():
    """torch's ModuleList prints a run of equal modules once, "(0-2): 3 x Linear(...)"."""

    def models(L):
        yield L.ModuleList(
            [L.Linear(2, 2), L.Linear(2, 2), L.Linear(2, 2), L.ReLU(), L.Linear(2, 2)]
        )
        yield L.ModuleList()
        yield L.ModuleList(
            [L.Sequential(L.Linear(1, 1), L.ReLU())] * 2 + [L.ModuleList([L.Tanh()] * 2)]
        )
        yield L.ModuleDict({"a": L.ReLU(), "b": L.Linear(1, 1, bias=False)})
        yield L.Sequential(L.Embedding(5, 3, padding_idx=1), L.LayerNorm(3), L.GELU("tanh"))
        model = L.Module()
        model.layers = L.ModuleList([L.Dropout(0.1).eval()] * 3)
        model.norm = L.RMSNorm((2, 3), eps=1e-6, elementwise_affine=False)
        yield model

    for ours, theirs in zip(models(nn), models(torch.nn), strict=True):
        assert repr(ours).replace(", inplace=False", "") == repr(theirs).replace(
            ", inplace=False", ""
        )


def test_container_edits_that_torch_gets_wrong_follow_list():
    """PyTorch's ModuleList.insert raises KeyError for index -1 and names the module "10" for
    index 10; ours follows list.insert (docs/guide/differences.md)."""
    mlist = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    mlist.insert(-1, nn.ELU())
    mlist.insert(10, nn.Identity())
    assert list(mlist._modules) == ["0", "1", "2", "3", "4"]
    assert [type(m).__name__ for m in mlist] == ["ReLU", "Tanh", "ELU", "Sigmoid", "Identity"]
    with pytest.raises(TypeError):
        mlist.insert(0, "not a module")
    assert len(mlist) == 5  # a bad insert changes nothing


# =============================================================================================
# Layers and losses, weights copied from torch
# =============================================================================================


def _compare_layer(ours, theirs, inputs: list[np.ndarray], differentiable=(0,), tol=1e-10):
    """Forward values, dtype and shape, then the gradients of inputs and parameters, equal."""
    state = theirs.state_dict()
    for key, value in ours.state_dict().items():
        value.array[...] = mg.backend.asarray(state[key].numpy(), device=value.device)
    wanted = [i in differentiable and a.dtype.kind == "f" for i, a in enumerate(inputs)]
    xs = [mg.tensor(a.copy(), requires_grad=w) for a, w in zip(inputs, wanted)]
    ts = [torch.tensor(a.copy(), requires_grad=w) for a, w in zip(inputs, wanted)]
    y, ty = ours(*xs), theirs(*ts)
    assert tuple(y.shape) == tuple(ty.shape) and str(y.dtype) == str(ty.dtype).removeprefix(
        "torch."
    )
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    seed = np.random.default_rng(3).standard_normal(tuple(y.shape))
    (y * mg.tensor(seed)).sum().backward()
    (ty * torch.tensor(seed)).sum().backward()
    for x, t in zip(xs, ts):
        if t.grad is not None:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    params, their_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(params) == list(their_params)
    for key, p in params.items():
        np.testing.assert_allclose(
            p.grad.numpy(), their_params[key].grad.numpy(), rtol=tol, atol=tol
        )


F64 = {"dtype": mg.float64}
TF64 = {"dtype": torch.float64}


def _layer_cases():
    rng = np.random.default_rng(0)
    x = lambda *shape: rng.standard_normal(shape)  # noqa: E731
    yield "Linear", nn.Linear(4, 3, **F64), torch.nn.Linear(4, 3, **TF64), [x(2, 5, 4)]
    yield (
        "Linear nobias",
        nn.Linear(4, 3, False, **F64),
        torch.nn.Linear(4, 3, False, **TF64),
        [x(4)],
    )
    for pad in (None, 0, -1):
        yield (
            f"Embedding padding_idx={pad}",
            nn.Embedding(5, 3, padding_idx=pad, **F64),
            torch.nn.Embedding(5, 3, padding_idx=pad, **TF64),
            [np.array([[0, 2, 4], [2, 4, 1]])],
        )
    for affine, bias in itertools.product((True, False), (True, False)):
        yield (
            f"LayerNorm affine={affine} bias={bias}",
            nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias, **F64),
            torch.nn.LayerNorm((3, 4), elementwise_affine=affine, bias=bias, **TF64),
            [x(2, 3, 4)],
        )
    for affine, eps in itertools.product((True, False), (None, 1e-3)):
        yield (
            f"RMSNorm affine={affine} eps={eps}",
            nn.RMSNorm(4, eps=eps, elementwise_affine=affine, **F64),
            torch.nn.RMSNorm(4, eps=eps, elementwise_affine=affine, **TF64),
            [x(2, 3, 4)],
        )
    activations = [
        ("Dropout", {"p": 0.3}),
        ("GELU", {"approximate": "tanh"}),
        ("GELU", {}),
        ("Softplus", {"beta": 2.0, "threshold": 1.0}),
        ("Softplus", {"beta": 0.5, "threshold": 5.0}),
        ("LeakyReLU", {"negative_slope": 0.2}),
        ("ELU", {"alpha": 0.5}),
        ("SiLU", {}),
        ("Softmax", {"dim": 0}),
        ("LogSoftmax", {"dim": 1}),
        ("Flatten", {"start_dim": 0, "end_dim": 1}),
        ("Unflatten", {"dim": 1, "unflattened_size": (2, 2)}),
    ]
    for name, kwargs in activations:
        yield (
            f"{name} {kwargs}",
            getattr(nn, name)(**kwargs).eval(),
            getattr(torch.nn, name)(**kwargs).eval(),
            [x(3, 4) * 3],
        )
    yield (
        "Softplus at its threshold",
        nn.Softplus(2.0, 1.0),
        torch.nn.Softplus(2.0, 1.0),
        [np.array([0.5, 0.4999, 0.5001, 0.0, -30.0, 30.0])],
    )


def _loss_cases():
    rng = np.random.default_rng(1)
    x = lambda *shape: rng.standard_normal(shape)  # noqa: E731
    weight = rng.uniform(0.2, 2.0, 4)
    log_probs = np.log(rng.dirichlet(np.ones(4), 5))
    targets = np.array([0, 1, 3, 1, 2])
    for reduction in ("none", "mean", "sum"):
        for log_target in (False, True):
            target = rng.dirichlet(np.ones(4), 5)
            target = np.log(target) if log_target else target
            kwargs = {"reduction": reduction, "log_target": log_target}
            yield (
                nn.KLDivLoss(**kwargs),
                torch.nn.KLDivLoss(**kwargs),
                [log_probs, target],
                (0, 1),
            )
        for w, ignore in itertools.product((None, weight), (-100, 1)):
            kwargs = {"ignore_index": ignore, "reduction": reduction}
            ours = nn.NLLLoss(None if w is None else mg.tensor(w), **kwargs)
            theirs = torch.nn.NLLLoss(None if w is None else torch.tensor(w), **kwargs)
            yield ours, theirs, [log_probs, targets], (0,)
            yield ours, theirs, [x(2, 4, 3), rng.integers(0, 4, (2, 3))], (0,)
            for smoothing in (0.0, 0.2):
                kwargs = {
                    "ignore_index": ignore,
                    "reduction": reduction,
                    "label_smoothing": smoothing,
                }
                ours = nn.CrossEntropyLoss(weight=None if w is None else mg.tensor(w), **kwargs)
                theirs = torch.nn.CrossEntropyLoss(None if w is None else torch.tensor(w), **kwargs)
                yield ours, theirs, [x(5, 4), targets], (0,)
                if ignore == -100:  # both refuse ignore_index with probabilities
                    yield ours, theirs, [x(5, 4), rng.dirichlet(np.ones(4), 5)], (0, 1)
        for w, pos in itertools.product((None, rng.uniform(0.2, 2, (3, 1))), (None, weight)):
            probs, labels = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
            mw, tw = (None, None) if w is None else (mg.tensor(w), torch.tensor(w))
            yield (
                nn.BCELoss(mw, reduction),
                torch.nn.BCELoss(tw, reduction=reduction),
                [probs, labels],
                (0, 1),
            )
            mp, tp = (None, None) if pos is None else (mg.tensor(pos), torch.tensor(pos))
            yield (
                nn.BCEWithLogitsLoss(mw, reduction, pos_weight=mp),
                torch.nn.BCEWithLogitsLoss(tw, reduction=reduction, pos_weight=tp),
                [x(3, 4) * 30, labels],
                (0, 1),
            )
        yield (
            nn.MSELoss(reduction),
            torch.nn.MSELoss(reduction=reduction),
            [x(3, 4), x(3, 4)],
            (0, 1),
        )


def test_layers_match_torch_with_copied_weights():
    for name, ours, theirs, inputs in _layer_cases():
        try:
            _compare_layer(ours, theirs, inputs)
        except AssertionError as error:
            raise AssertionError(name) from error


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
def test_losses_match_torch_in_every_reduction():
    for ours, theirs, inputs, differentiable in _loss_cases():
        try:
            _compare_layer(ours, theirs, inputs, differentiable)
        except AssertionError as error:
            raise AssertionError(repr(ours)) from error
        assert list(ours.state_dict()) == list(theirs.state_dict())  # weights are buffers


def test_cross_entropy_loss_takes_the_weight_first():
    """torch.nn.CrossEntropyLoss(weight) is the usual spelling; ours took ignore_index first and
    refused the tensor."""
    rng = np.random.default_rng(4)
    weight, logits, target = (
        rng.uniform(0.5, 2, 3),
        rng.standard_normal((4, 3)),
        np.array([0, 2, 1, 2]),
    )
    ours = nn.CrossEntropyLoss(mg.tensor(weight))(mg.tensor(logits), mg.tensor(target))
    theirs = torch.nn.CrossEntropyLoss(torch.tensor(weight))(
        torch.tensor(logits), torch.tensor(target)
    )
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


def test_mse_loss_dtypes_follow_torch():
    """Every pair of float16/float32/float64/int64/bool operands gives torch's result dtype and
    gradient dtypes; two integer operands are refused, as torch (ours returned an int loss)."""
    rng = np.random.default_rng(6)
    names = ["float16", "float32", "float64", "int64", "bool"]
    for a, b, reduction in itertools.product(names, names, ("mean", "sum", "none")):
        outcomes = []
        for lib, loss in ((mg, nn.functional.mse_loss), (torch, torch.nn.functional.mse_loss)):
            x = lib.tensor((rng.standard_normal(3) > 0).astype(a), requires_grad=a[0] == "f")
            y = lib.tensor((rng.standard_normal(3) > 0).astype(b), requires_grad=b[0] == "f")
            try:
                out = loss(x, y, reduction=reduction)
            except (TypeError, NotImplementedError, RuntimeError):
                outcomes.append("raises")
                continue
            out.sum().backward()
            grads = [None if t.grad is None else str(t.grad.dtype) for t in (x, y)]
            outcomes.append([str(out.dtype), tuple(out.shape), *grads])
        assert [str(o).replace("torch.", "") for o in outcomes[:1]] == [
            str(o).replace("torch.", "") for o in outcomes[1:]
        ], (a, b, reduction)


def test_functional_cross_entropy_takes_torchs_positional_order():
    """nn.functional.cross_entropy(x, t, weight, ...), as torch; it was the engine's op, with
    ignore_index third and weight last. After weight, keywords only: torch's next positions
    are its deprecated size_average and reduce."""
    rng = np.random.default_rng(9)
    weight, logits, target = (
        rng.uniform(0.5, 2, 3),
        rng.standard_normal((5, 3)),
        np.array([0, 2, 1, 2, 1]),
    )
    keywords = [{}, {"ignore_index": 1}, {"ignore_index": 2, "reduction": "sum"}]
    keywords += [{"reduction": "none", "label_smoothing": 0.2}]
    for w, kwargs in itertools.product((None, weight), keywords):
        mine = None if w is None else mg.tensor(w)
        ours = nn.functional.cross_entropy(mg.tensor(logits), mg.tensor(target), mine, **kwargs)
        theirs = torch.nn.functional.cross_entropy(
            torch.tensor(logits),
            torch.tensor(target),
            None if w is None else torch.tensor(w),
            **kwargs,
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
        layer = nn.CrossEntropyLoss(mine, **kwargs)(mg.tensor(logits), mg.tensor(target))
        np.testing.assert_allclose(layer.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.raises(TypeError):
        nn.functional.cross_entropy(mg.tensor(logits), mg.tensor(target), None, 1)
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, 1)


def test_layer_norm_repr_names_bias():
    """torch's LayerNorm repr says bias=...; ours left it out."""
    for bias in (True, False):
        assert repr(nn.LayerNorm((3, 4), bias=bias)) == repr(torch.nn.LayerNorm((3, 4), bias=bias))


# =============================================================================================
# init
# =============================================================================================

NONLINEARITIES = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]  # fmt: skip


def test_gains_and_fans_are_torchs():
    """conv_transpose1d/2d/3d were refused."""
    for nonlinearity in NONLINEARITIES:
        for param in (None, 0.2, 1, -0.5):
            expected = torch.nn.init.calculate_gain(nonlinearity, param)
            assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)
    for bad in (True, "x"):
        with pytest.raises(ValueError):
            init.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError):
        init.calculate_gain("gelu")
    for shape in [(4, 5), (4, 5, 3), (2, 3, 4, 5), (0, 3), (3, 0)]:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        assert init.calculate_fan_in_and_fan_out(mg.zeros(*shape)) == tuple(expected)


def test_constant_fills_integers_as_torch():
    """constant_, zeros_ and ones_ refused integer and bool tensors; torch fills them."""
    for dtype, value in itertools.product(("int64", "int32", "bool"), (2.7, -1.5, True, 0)):
        ours = init.constant_(mg.zeros(3, dtype=dtype), value)
        theirs = torch.nn.init.constant_(torch.zeros(3, dtype=getattr(torch, dtype)), value)
        assert ours.tolist() == theirs.tolist() and str(ours.dtype) == dtype
    assert init.ones_(mg.zeros(2, dtype="int64")).tolist() == [1, 1]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("uniform_", (-2.0, 3.0), {}),
        ("normal_", (1.0, 2.0), {}),
        ("xavier_uniform_", (), {"gain": 2.0}),
        ("xavier_normal_", (), {"gain": 0.5}),
        ("kaiming_uniform_", (), {}),
        ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
        ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
        ("kaiming_normal_", (), {"mode": "fan_out", "nonlinearity": "tanh"}),
        ("kaiming_normal_", (), {"a": 0.3}),
        ("kaiming_normal_", (), {"nonlinearity": "selu"}),
    ],
)
def test_distributions_have_torchs_moments_and_bounds(name, args, kwargs):
    shape = (200, 150)  # fan_in 150, fan_out 200
    ours = getattr(init, name)(mg.zeros(*shape, dtype=mg.float64), *args, **kwargs).numpy()
    torch.manual_seed(0)
    theirs = getattr(torch.nn.init, name)(torch.zeros(shape, dtype=torch.float64), *args, **kwargs)
    theirs = theirs.numpy()
    std = theirs.std()
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.03 * std + 1e-12)
    assert ours.std() == pytest.approx(std, rel=0.03)
    if "uniform" in name:  # within torch's bounds, computed from its gain, and reaching them
        fan = shape[0] if kwargs.get("mode") == "fan_out" else shape[1]
        gain = torch.nn.init.calculate_gain(
            kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)
        )
        if name == "uniform_":
            low, high = args
        elif name == "xavier_uniform_":
            low = -kwargs["gain"] * math.sqrt(6 / sum(shape))
            high = -low
        else:
            low = -gain * math.sqrt(3 / fan)
            high = -low
        assert theirs.min() >= low and theirs.max() <= high  # the bounds are torch's
        assert ours.min() >= low and ours.max() <= high
        assert ours.min() < low + 0.01 * (high - low) and ours.max() > high - 0.01 * (high - low)
