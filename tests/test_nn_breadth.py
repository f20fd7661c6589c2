"""``nn`` gaps closed against ``torch.nn``, each side by side with PyTorch:

1. module hooks: forward pre-hooks and forward hooks (``with_kwargs``, ``prepend``,
   ``always_call``), full backward hooks and backward pre-hooks (what they receive, what a
   returned tuple replaces, the errors), handles (``remove()``, ``with``), state untouched;
2. ``inplace=`` on ReLU, LeakyReLU, ELU, Dropout and ``F.relu_`` & co: values, gradients, the
   version counter (a backward that needs the overwritten values raises, as in PyTorch);
3. ``init.trunc_normal_``, ``orthogonal_``, ``eye_``, ``dirac_``, ``generator=``;
4. ``Embedding(max_norm=, norm_type=, scale_grad_by_freq=)`` and ``F.embedding``'s.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from minigrad import backend
from nn import init

torch = pytest.importorskip("torch")
TF = torch.nn.functional

LIBS = [(mg, nn), (torch, torch.nn)]  # (tensor library, its nn)


def _tensor(lib, arr: np.ndarray, requires_grad: bool = False):
    return lib.tensor(arr.copy(), requires_grad=requires_grad)


def _np(t) -> np.ndarray | None:
    if t is None:
        return None
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _linear(lib, L, w: np.ndarray, b: np.ndarray):
    lin = L.Linear(w.shape[1], w.shape[0]).double()
    with lib.no_grad():
        lin.weight.copy_(_tensor(lib, w))
        lin.bias.copy_(_tensor(lib, b))
    return lin


def _same(a, b, atol: float = 1e-12) -> None:
    """Two nested records (tuples/lists of arrays, None, numbers, strings) are equal."""
    if isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), (a, b)
        for x, y in zip(a, b, strict=True):
            _same(x, y, atol)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, (a, b)
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)
    else:
        assert a == b, (a, b)


RNG = np.random.default_rng(0)
W, B, X = RNG.standard_normal((2, 3)), RNG.standard_normal(2), RNG.standard_normal((4, 3))


# =============================================================================================
# 1. Module hooks
# =============================================================================================


def forward_hooks_scenario(lib, L):
    """Pre-hooks (plain, with kwargs, prepended) and forward hooks (plain, with kwargs); returns
    the call log and the output."""
    log = []

    class Scale(L.Module):
        def forward(self, x, factor=1.0):
            log.append(("forward", float(factor)))
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # a non-tuple: wrapped
    m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)

    def kwargs_pre(mod, args, kwargs):
        log.append(("kwargs_pre", sorted(kwargs)))
        return args, {**kwargs, "factor": 3.0}

    m.register_forward_pre_hook(kwargs_pre, with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("post", _np(args[0]))))
    m.register_forward_hook(lambda mod, args, kwargs, out: out * kwargs["factor"], with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
    out = m(_tensor(lib, X), factor=2.0)
    return log, _np(out)


def test_forward_hooks_run_in_order_and_replace_as_torch():
    mine, theirs = (forward_hooks_scenario(*libs) for libs in LIBS)
    _same(mine, theirs)
    np.testing.assert_allclose(mine[1], (X + 1) * 9)


def hook_errors_scenario(lib, L, case):
    lin = _linear(lib, L, W, B)
    if case == "pre_kwargs_not_pair":
        lin.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
    elif case == "bw_pre_count":
        lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    elif case == "bw_count":
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    elif case == "bw_no_input_grad_returns":
        lin.register_full_backward_hook(lambda m, gi, go: (go[0],))
    x = _tensor(lib, X, requires_grad=case != "bw_no_input_grad_returns")
    lin(x).sum().backward()


@pytest.mark.parametrize(
    "case, message",
    [
        ("pre_kwargs_not_pair", "forward pre-hook must return None or a tuple of"),
        ("bw_pre_count", "Backward pre hook returned an invalid number of grad_output, got 2"),
        ("bw_count", "Backward hook returned an invalid number of grad_input, got 2"),
        ("bw_no_input_grad_returns", "no input requires gradient should always return None"),
    ],
)
def test_hook_errors_as_torch(case, message):
    for lib, L in LIBS:
        with pytest.raises(RuntimeError, match=message), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hook_errors_scenario(lib, L, case)


def always_call_scenario(lib, L):
    log = []

    class Boom(L.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    m.register_forward_hook(lambda mod, args, out: log.append("plain"))
    m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        m(_tensor(lib, X))
    return log


def test_always_call_hook_runs_when_forward_raises():
    mine, theirs = (always_call_scenario(*libs) for libs in LIBS)
    assert mine == theirs == [("always", None)]


def handles_scenario(lib, L):
    lin, calls = _linear(lib, L, W, B), []
    first = lin.register_forward_hook(lambda m, a, o: calls.append(1))
    second = lin.register_forward_pre_hook(lambda m, a: calls.append(2))
    assert second.id > first.id  # unique, increasing ids
    with lin.register_forward_hook(lambda m, a, o: calls.append(3)) as third:
        assert third.id > second.id
        lin(_tensor(lib, X))
    assert calls == [2, 1, 3]
    first.remove()
    first.remove()  # a second remove does nothing
    lin(_tensor(lib, X))
    assert calls == [2, 1, 3, 2]
    second.remove()
    lin(_tensor(lib, X))
    assert calls == [2, 1, 3, 2]


def test_handles_remove_and_work_as_context_managers():
    for libs in LIBS:
        handles_scenario(*libs)


def test_module_without_hooks_keeps_nothing_and_hooks_stay_out_of_state():
    lin = _linear(mg, nn, W, B)
    keys = list(lin.state_dict())
    assert "_module_hooks" not in lin.__dict__
    calls = []
    handle = lin.register_forward_hook(lambda m, a, o: calls.append(1))
    backward = lin.register_full_backward_hook(lambda m, gi, go: calls.append(2))
    state = lin.state_dict()
    assert list(state) == keys  # the hooks are no state
    lin.load_state_dict(state)
    lin(_tensor(mg, X, requires_grad=True)).sum().backward()
    assert calls == [1, 2]  # and they survive a load
    handle.remove()
    backward.remove()
    assert "_module_hooks" not in lin.__dict__  # back to the one-check path


def test_a_hook_must_be_callable():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="must be callable, got int"):
        lin.register_forward_hook(3)
    assert "_module_hooks" not in lin.__dict__


def backward_hooks_scenario(lib, L):
    """A full backward hook and a backward pre-hook that each replace what they get, on a
    Linear; returns what they saw and the gradients."""
    lin, seen = _linear(lib, L, W, B), []

    def pre(mod, grad_output):
        seen.append(("pre", [_np(g) for g in grad_output]))
        return (grad_output[0] * 2,)

    def full(mod, grad_input, grad_output):
        seen.append(("full", [_np(g) for g in grad_input], [_np(g) for g in grad_output]))
        return (grad_input[0] * 3,)

    lin.register_full_backward_pre_hook(pre)
    lin.register_full_backward_hook(full)
    x = _tensor(lib, X, requires_grad=True)
    h = x * 1.0  # the hooked input is computed: its gradient goes on to x
    (lin(h) ** 2).sum().backward()
    return seen, _np(x.grad), _np(lin.weight.grad), _np(lin.bias.grad)


def test_full_backward_hooks_see_and_replace_gradients_as_torch():
    mine, theirs = (backward_hooks_scenario(*libs) for libs in LIBS)
    _same(mine, theirs)


def multi_io_scenario(lib, L):
    """Positional inputs of every kind (tensor with and without grad, a number, a tensor used
    by nothing) and a tuple output of which one element is never used."""
    seen = []

    class Mix(L.Module):
        def forward(self, a, b, scale, unused, c):
            return a * b * scale, (a + c).sum(), c * 2.0

    m = Mix()
    m.register_full_backward_pre_hook(lambda mod, go: seen.append([_np(g) for g in go]))

    def full(mod, gi, go):
        seen.append(([_np(g) for g in gi], [_np(g) for g in go]))
        return (gi[0], gi[1], None, gi[3], gi[4] * 0.5)

    m.register_full_backward_hook(full)
    a = _tensor(lib, RNG_ARR[0], requires_grad=True)
    b = _tensor(lib, RNG_ARR[1])
    unused = _tensor(lib, RNG_ARR[2], requires_grad=True)
    c = _tensor(lib, RNG_ARR[3], requires_grad=True)
    p, s, _ = m(a, b, 2.0, unused, c)
    (p.sum() * 3 + s).backward()
    return seen, _np(a.grad), _np(c.grad), unused.grad is None


RNG_ARR = RNG.standard_normal((4, 2, 3))


def test_backward_hooks_with_mixed_inputs_and_tuple_outputs_as_torch():
    mine, theirs = (multi_io_scenario(*libs) for libs in LIBS)
    _same(mine, theirs)
    grad_input, grad_output = mine[0][1]
    assert np.array_equal(grad_input[1], np.zeros((2, 3)))  # b needs no grad: zeros, as torch
    assert grad_input[2] is None  # a number
    assert np.array_equal(grad_input[3], np.zeros((2, 3)))  # unused: zeros, as torch
    assert grad_output[2] is None  # the third output got no gradient


def no_input_grad_scenario(lib, L):
    lin, seen = _linear(lib, L, W, B), []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, _np(go[0]))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        (lin(_tensor(lib, X)) ** 2).sum().backward()
    return seen, _np(lin.weight.grad)


def test_full_backward_hook_without_input_gradients_fires_at_the_outputs():
    mine, theirs = (no_input_grad_scenario(*libs) for libs in LIBS)
    _same(mine, theirs)
    assert mine[0][0][0] == (None,)


def double_backward_scenario(lib, L):
    lin, seen = _linear(lib, L, W, B), []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(_np(gi[0])))
    x = _tensor(lib, X, requires_grad=True)
    (g,) = lib.autograd.grad((lin(x).tanh() ** 2).sum(), (x,), create_graph=True)
    (g**2).sum().backward()
    return seen, _np(g), _np(x.grad), _np(lin.weight.grad)


def test_backward_hooks_under_create_graph_as_torch():
    mine, theirs = (double_backward_scenario(*libs) for libs in LIBS)
    _same(mine, theirs, atol=1e-10)


def test_backward_hooks_in_a_sequential_and_no_grad():
    for lib, L in LIBS:
        model, order = L.Sequential(L.Linear(3, 4), L.Tanh(), L.Linear(4, 2)).double(), []
        for i, layer in enumerate(model):
            layer.register_full_backward_hook(lambda m, gi, go, i=i, log=order: log.append(i))
        x = _tensor(lib, X, requires_grad=True)
        model(x).sum().backward()
        assert order == [2, 1, 0]
        with lib.no_grad():
            out = model(x)  # no gates, no error
        assert not out.requires_grad


# =============================================================================================
# 2. inplace=
# =============================================================================================

ACTIVATIONS = [
    ("ReLU", {}, "relu", {}),
    ("LeakyReLU", {"negative_slope": 0.2}, "leaky_relu", {"negative_slope": 0.2}),
    ("ELU", {"alpha": 0.7}, "elu", {"alpha": 0.7}),
]


def inplace_scenario(lib, L, Fn, name, layer_kwargs, fn_kwargs, how):
    x = _tensor(lib, X, requires_grad=True)
    h = x * 1.5
    if how == "module":
        out = getattr(L, name)(inplace=True, **layer_kwargs)(h)
    elif how == "function":
        out = getattr(Fn, fn_kwargs.pop("_fn"))(h, inplace=True, **fn_kwargs)
    else:
        out = getattr(Fn, fn_kwargs.pop("_fn") + "_")(h, **fn_kwargs)
    assert out is h  # the input itself, changed
    (out * out).sum().backward()
    return _np(h), _np(x.grad), h._version


@pytest.mark.parametrize("how", ["module", "function", "underscore"])
@pytest.mark.parametrize("name, layer_kwargs, fn, fn_kwargs", ACTIVATIONS)
def test_inplace_activations_as_torch(name, layer_kwargs, fn, fn_kwargs, how):
    mine = inplace_scenario(mg, nn, F, name, layer_kwargs, {**fn_kwargs, "_fn": fn}, how)
    theirs = inplace_scenario(
        torch, torch.nn, TF, name, layer_kwargs, {**fn_kwargs, "_fn": fn}, how
    )
    _same(mine[:2], theirs[:2])
    assert mine[2] >= 1 and theirs[2] >= 1  # the version moved


def overwritten_saved_scenario(lib, L, name):
    x = _tensor(lib, X, requires_grad=True)
    h = x.exp()  # exp saves its output for backward
    getattr(L, name)(inplace=True)(h)
    h.sum().backward()


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU"])
def test_inplace_overwriting_a_saved_value_makes_backward_raise_as_torch(name):
    for lib, L in LIBS:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            overwritten_saved_scenario(lib, L, name)
        # out of place the same backward runs
        x = _tensor(lib, X, requires_grad=True)
        getattr(L, name)()(x.exp()).sum().backward()


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "ELU", "Dropout"])
def test_inplace_on_a_leaf_that_requires_grad_raises_first(name):
    for lib, L in LIBS:
        x = _tensor(lib, X, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(L, name)(inplace=True)(x)
        np.testing.assert_array_equal(_np(x), X)  # unchanged
        with lib.no_grad():
            getattr(L, name)(inplace=True).eval()(x)  # allowed under no_grad


def test_inplace_relu_on_a_view_changes_the_base_as_torch():
    results = []
    for lib, L in LIBS:
        x = _tensor(lib, X, requires_grad=True)
        h = x * 1.0
        L.ReLU(inplace=True)(h[1:3])
        (h * h).sum().backward()
        results.append((_np(h), _np(x.grad)))
    _same(*results)


def test_inplace_dropout_matches_out_of_place_with_the_same_seed():
    x = mg.tensor(X.copy(), requires_grad=True)
    mg.manual_seed(5)
    expected = F.dropout(x * 1.0, 0.4)
    mg.manual_seed(5)
    h = x * 1.0
    out = nn.Dropout(0.4, inplace=True)(h)
    assert out is h and h._version == 1
    np.testing.assert_array_equal(h.numpy(), expected.numpy())
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (expected.numpy() != 0) / 0.6)
    # eval mode and p=0: the input itself, untouched (version included), as torch
    for layer in (nn.Dropout(0.4, inplace=True).eval(), nn.Dropout(0.0, inplace=True)):
        y = mg.tensor(X.copy())
        assert layer(y) is y and y._version == 0
    with pytest.raises(ValueError, match="p must be"):
        F.dropout(x * 1.0, 1.5, inplace=True)


def test_inplace_reprs_as_torch():
    for name, kwargs in [("ReLU", {}), ("LeakyReLU", {}), ("ELU", {"alpha": 0.5})]:
        for inplace in (False, True):
            mine = repr(getattr(nn, name)(inplace=inplace, **kwargs))
            assert mine == repr(getattr(torch.nn, name)(inplace=inplace, **kwargs))


# =============================================================================================
# 3. init
# =============================================================================================


def _truncated_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """The mean and std of N(mean, std^2) truncated to [a, b] (closed form)."""
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    alpha, beta = (a - mean) / std, (b - mean) / std
    z = cdf(beta) - cdf(alpha)
    shift = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - shift**2
    return mean + std * shift, std * math.sqrt(var)


@pytest.mark.parametrize(
    "mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04)]
)
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    t = init.trunc_normal_(mg.empty(200_000, dtype=mg.float64), mean, std, a, b)
    values = t.numpy()
    assert a <= values.min() and values.max() <= b
    want_mean, want_std = _truncated_moments(mean, std, a, b)
    assert abs(values.mean() - want_mean) < 0.01 * std
    assert abs(values.std() - want_std) < 0.01 * std
    ref = torch.nn.init.trunc_normal_(torch.empty(200_000, dtype=torch.float64), mean, std, a, b)
    assert abs(values.std() - ref.std().item()) < 0.01 * std  # and PyTorch's agrees


def test_trunc_normal_float32_default_and_errors():
    t = init.trunc_normal_(mg.empty(1000))
    assert t.dtype == mg.float32 and t._version == 1
    assert -2 <= t.numpy().min() and t.numpy().max() <= 2
    with pytest.raises(ValueError, match="std must be positive, got -1"):
        init.trunc_normal_(mg.empty(3), std=-1.0)
    with pytest.raises(ValueError, match="need a < b, got a=1, b=0"):
        init.trunc_normal_(mg.empty(3), a=1, b=0)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(mg.empty(3), mean=10.0)
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        torch.nn.init.trunc_normal_(torch.empty(3), mean=10.0)


@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (4, 2, 3), (5, 5)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(shape):
    w = init.orthogonal_(mg.empty(*shape, dtype=mg.float64), gain=1.5)
    m = w.numpy().reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, 1.5**2 * np.eye(min(m.shape)), atol=1e-12)
    ref = torch.nn.init.orthogonal_(torch.empty(*shape, dtype=torch.float64), gain=1.5)
    r = ref.numpy().reshape(shape[0], -1)  # the same invariant holds for PyTorch's
    np.testing.assert_allclose(r @ r.T if r.shape[0] <= r.shape[1] else r.T @ r, gram, atol=1e-12)


def test_orthogonal_errors_and_empty_as_torch():
    for lib, initializers in [(mg, init), (torch, torch.nn.init)]:
        with pytest.raises(ValueError, match="2 or more dimensions"):
            initializers.orthogonal_(lib.empty(4))
        empty = lib.empty(0, 3)
        assert initializers.orthogonal_(empty) is empty


def test_eye_and_dirac_as_torch():
    for shape in [(3, 5), (4, 2)]:
        mine = init.eye_(mg.empty(*shape)).numpy()
        np.testing.assert_array_equal(mine, torch.nn.init.eye_(torch.empty(*shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 1, 2, 3), 1)]:
        mine = init.dirac_(mg.empty(*shape), groups).numpy()
        theirs = torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
        np.testing.assert_array_equal(mine, theirs)
    for lib, initializers in [(mg, init), (torch, torch.nn.init)]:
        with pytest.raises(ValueError, match="2 dimensions are supported"):
            initializers.eye_(lib.empty(2, 2, 2))
        with pytest.raises(ValueError, match="3, 4, or 5 dimensions are supported"):
            initializers.dirac_(lib.empty(2, 2))
        with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
            initializers.dirac_(lib.empty(5, 2, 3), groups=2)


def test_a_generator_makes_draws_repeatable():
    device = mg.empty(1).device
    for fill in (init.trunc_normal_, init.orthogonal_, init.normal_, init.xavier_uniform_):
        draws = []
        for _ in range(2):
            gen = backend.new_generator(device, 7)
            draws.append(fill(mg.empty(4, 3), generator=gen).numpy())
            mg.randn(3)  # the global generator moves; the draws do not depend on it
        np.testing.assert_array_equal(*draws)
    with pytest.raises(TypeError, match="random Generator"):
        init.trunc_normal_(mg.empty(3), generator=42)


# =============================================================================================
# 4. Embedding max_norm
# =============================================================================================

IDS = np.array([[0, 2, 2], [5, 0, 1]])
TABLE = RNG.standard_normal((7, 4)) * 2


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
def test_embedding_max_norm_renormalizes_looked_up_rows_as_torch(norm_type, scale_grad_by_freq):
    results = []
    for lib, L in LIBS:
        emb = L.Embedding(
            7, 4, max_norm=1.5, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq
        ).double()
        with lib.no_grad():
            emb.weight.copy_(_tensor(lib, TABLE))
        out = emb(lib.tensor(IDS))
        (out * _tensor(lib, np.arange(24.0).reshape(2, 3, 4))).sum().backward()
        results.append((_np(out), _np(emb.weight), _np(emb.weight.grad), repr(emb)))
    _same(*results)
    weight = results[0][1]
    assert np.array_equal(weight[[3, 4, 6]], TABLE[[3, 4, 6]])  # rows not looked up: as they were


def test_functional_embedding_max_norm_moves_the_version_as_torch():
    for lib, Fn in [(mg, F), (torch, TF)]:
        weight = _tensor(lib, TABLE, requires_grad=True)
        used_before = (weight * weight).sum()  # mul saves the weight
        out = Fn.embedding(lib.tensor(IDS), weight, padding_idx=0, max_norm=1.0)
        norms = np.linalg.norm(_np(out), axis=-1)
        assert norms.max() <= 1.0 + 1e-6
        out.sum().backward()  # embedding's own backward is fine
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            used_before.backward()


def test_embedding_max_norm_bad_input_changes_nothing():
    weight = mg.tensor(TABLE.copy())
    with pytest.raises(IndexError, match=r"ids must be in \[0, num_embeddings = 7\)"):
        F.embedding(mg.tensor([[1, 9]]), weight, max_norm=1.0)
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        F.embedding(mg.tensor([0.0]), weight, max_norm=1.0)
    with pytest.raises(ValueError, match="max_norm must be a number >= 0"):
        F.embedding(mg.tensor([0]), weight, max_norm=-1.0)
    np.testing.assert_array_equal(weight.numpy(), TABLE)
    assert weight._version == 0
    with pytest.raises(ValueError, match="max_norm must be a number >= 0 or None, got 'x'"):
        nn.Embedding(3, 2, max_norm="x")
    with pytest.raises(ValueError, match="sparse=True"):
        nn.Embedding(3, 2, sparse=True)


def deep_copy_scenario(lib, L):
    calls = []
    lin = _linear(lib, L, W, B)
    handle = lin.register_forward_hook(lambda m, a, o: calls.append(m is lin))
    twin = copy.deepcopy(lin)  # copies the hook table, as torch
    handle.remove()
    lin(_tensor(lib, X))
    twin(_tensor(lib, X))
    return calls


def test_hooks_of_a_deep_copy_fire_after_the_original_loses_its_own():
    for libs in LIBS:
        assert deep_copy_scenario(*libs) == [False]  # only the copy's hook ran


def mixed_dtypes_scenario(lib, L):
    class Two(L.Module):
        def forward(self, a, b):
            return a * 2, (b * 3).to(lib.float64)

    m, seen = Two(), []

    def full(mod, gi, go):
        seen.append([(str(g.dtype).removeprefix("torch."), tuple(g.shape)) for g in gi + go])

    m.register_full_backward_hook(full)
    a = lib.ones(2, 3, dtype=lib.float32, requires_grad=True)
    b = lib.ones((), dtype=lib.float16, requires_grad=True)
    p, q = m(a, b)
    (p.sum() + q).backward()
    return seen, str(a.grad.dtype).removeprefix("torch."), str(b.grad.dtype).removeprefix("torch.")


def test_backward_hooks_keep_each_tensors_dtype_as_torch():
    mine, theirs = (mixed_dtypes_scenario(*libs) for libs in LIBS)
    assert mine == theirs


def _parameters(fn) -> list[tuple[str, object]]:
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(
    "mine, theirs, skip",
    [
        (nn.Module.register_forward_pre_hook, torch.nn.Module.register_forward_pre_hook, ()),
        (nn.Module.register_forward_hook, torch.nn.Module.register_forward_hook, ()),
        (
            nn.Module.register_full_backward_pre_hook,
            torch.nn.Module.register_full_backward_pre_hook,
            (),
        ),
        (nn.Module.register_full_backward_hook, torch.nn.Module.register_full_backward_hook, ()),
        (F.relu, TF.relu, ()),
        (F.leaky_relu, TF.leaky_relu, ()),
        (F.elu, TF.elu, ()),
        (F.dropout, TF.dropout, ()),
        (F.embedding, TF.embedding, ()),
        (nn.ReLU, torch.nn.ReLU, ()),
        (nn.LeakyReLU, torch.nn.LeakyReLU, ()),
        (nn.ELU, torch.nn.ELU, ()),
        (nn.Dropout, torch.nn.Dropout, ()),
        (nn.Embedding, torch.nn.Embedding, ("_weight", "_freeze")),
        (init.trunc_normal_, torch.nn.init.trunc_normal_, ()),
        (init.orthogonal_, torch.nn.init.orthogonal_, ()),
        (init.eye_, torch.nn.init.eye_, ()),
        (init.dirac_, torch.nn.init.dirac_, ()),
        (init.uniform_, torch.nn.init.uniform_, ()),
        (init.normal_, torch.nn.init.normal_, ()),
    ],
)
def test_names_and_defaults_as_torch(mine, theirs, skip):
    theirs = [(name, default) for name, default in _parameters(theirs) if name not in skip]
    assert _parameters(mine) == theirs
