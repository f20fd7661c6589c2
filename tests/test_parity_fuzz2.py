"""Regression tests for what a second differential hunt against PyTorch found
(``tests/parity_hunt.py``, run by hand): reductions, shape ops, in-place ops and functionals on
the inputs the first hunt (tests/test_parity_fuzz.py) did not draw. Each test compares minigrad
with PyTorch on the input that exposed the bug, values, dtypes, shapes and float64 gradients."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")
tnf = torch.nn.functional
nan, inf = float("nan"), float("inf")


def _same(ours, theirs, rtol: float = 1e-12, atol: float = 0.0) -> None:
    theirs = theirs.detach()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol, equal_nan=True)


def _leaves(*arrays):
    """minigrad's and PyTorch's float64 leaves holding the same values."""
    ours = [mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return ours, theirs


def _same_grads(out, tout, ours, theirs) -> None:
    """The gradients of ``out`` and ``tout`` against a seed of random values agree."""
    seed = np.random.default_rng(0).standard_normal(tuple(tout.shape))
    grads = mg.grad(out, ours, mg.tensor(seed), allow_unused=True)
    tgrads = torch.autograd.grad(tout, theirs, torch.tensor(seed), allow_unused=True)
    for g, tg in zip(grads, tgrads):
        _same(g if g is not None else mg.zeros_like(ours[0]), tg if tg is not None else tg)


def _both_refuse(ours, theirs) -> None:
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        theirs()
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError)):
        ours()


# =============================================================================================
# Losses
# =============================================================================================


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_ignores_nan_at_ignored_targets_as_torch(reduction, weighted):
    # the ignored rows were multiplied by a weight of 0: NaN * 0 made the whole loss NaN
    x = np.array([[-1.0, -2.0, -0.5], [nan, nan, nan], [-0.3, nan, -4.0], [-2.0, -1.0, -3.0]])
    target = np.array([0, 1, 1, 2])
    weight = np.array([0.5, 2.0, 1.5]) if weighted else None
    (a,), (b,) = _leaves(x)
    kw = {"ignore_index": 1, "reduction": reduction}
    out = F.nll_loss(a, mg.tensor(target), None if weight is None else mg.tensor(weight), **kw)
    tout = tnf.nll_loss(
        b, torch.tensor(target), None if weight is None else torch.tensor(weight), **kw
    )
    _same(out, tout)
    _same_grads(out, tout, [a], [b])


# =============================================================================================
# Reductions
# =============================================================================================


@pytest.mark.parametrize("value", [nan, inf, -inf, 0.0, 3.0])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_prod_of_a_0d_tensor_passes_the_gradient_on_as_torch(value, dim):
    # dx = g (no other factor): g * prod / x gave NaN for x = inf or NaN
    (a,), (b,) = _leaves(value)
    out = a.prod() if dim is None else a.prod(dim)
    tout = b.prod() if dim is None else b.prod(dim)
    _same(out, tout)
    _same_grads(out, tout, [a], [b])


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("dim", [0, -1, (0, 1)])
def test_logsumexp_of_integers_is_in_the_default_float_as_torch(dtype, dim):
    x = np.array([[1, 0, 3], [2, 2, 0]]).astype(dtype)  # it raised "expects a floating point"
    _same(mg.logsumexp(mg.tensor(x), dim), torch.logsumexp(torch.tensor(x), dim), rtol=1e-6)
    _same(
        mg.tensor(x).logsumexp(dim, keepdim=True),
        torch.tensor(x).logsumexp(dim, keepdim=True),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("left", "right"), [("int32", "float64"), ("int64", None), ("uint8", "float32")]
)
def test_logaddexp_of_an_integer_and_a_float_promotes_as_torch(left, right):
    # it raised "expects a floating point tensor"; two integer operands still raise (as PyTorch)
    a = np.array([[1, 0, 3], [2, 5, 0]]).astype(left)
    b = np.array([2.0, 1.5, 0.0]).astype(right) if right else 0.5
    ours = mg.logaddexp(mg.tensor(a), mg.tensor(b) if right else b)
    _same(ours, torch.logaddexp(torch.tensor(a), torch.tensor(b)), rtol=1e-6)
    _same(
        mg.logaddexp(mg.tensor(b), mg.tensor(a)),
        torch.logaddexp(torch.tensor(b), torch.tensor(a)),
        rtol=1e-6,
    )
    _both_refuse(
        lambda: mg.logaddexp(mg.tensor(a), mg.tensor(a)),
        lambda: torch.logaddexp(torch.tensor(a), torch.tensor(a)),
    )


# =============================================================================================
# Normalization over rows of no elements
# =============================================================================================


@pytest.mark.parametrize(
    ("shape", "normalized"), [((0, 3), (0, 3)), ((2, 0), (0,)), ((3, 0, 2), (0, 2))]
)
@pytest.mark.parametrize("affine", [False, True])
def test_layer_norm_and_rms_norm_over_nothing_are_empty_as_torch(shape, normalized, affine):
    # the kernels divided by the row size: ZeroDivisionError
    x, w, b = np.zeros(shape), np.ones(normalized), np.zeros(normalized)
    (a, aw, ab), (t, tw, tb) = _leaves(x, w, b)
    out = mg.layer_norm(a, normalized, aw if affine else None, ab if affine else None)
    tout = tnf.layer_norm(t, normalized, tw if affine else None, tb if affine else None)
    _same(out, tout)
    _same_grads(out, tout, [a, aw, ab][: 3 if affine else 1], [t, tw, tb][: 3 if affine else 1])
    out = F.rms_norm(a, normalized, aw if affine else None)
    tout = tnf.rms_norm(t, normalized, tw if affine else None)
    _same(out, tout)
    _same_grads(out, tout, [a, aw][: 2 if affine else 1], [t, tw][: 2 if affine else 1])


# =============================================================================================
# Fills, alpha and in-place ops
# =============================================================================================


def _fills(lib, value):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    mask = lib.tensor([[True, False], [False, True]])
    value = lib.tensor(value)
    return [
        lambda: x.clone().fill_(value),
        lambda: x.masked_fill(mask, value),
        lambda: x.clone().masked_fill_(mask, value),
        lambda: x.index_fill(0, lib.tensor([1]), value),
        lambda: x.clone().index_fill_(1, lib.tensor([0]), value),
    ]


@pytest.mark.parametrize("case", range(5))
def test_fills_take_a_0d_value_tensor_only_as_torch(case):
    # a value of one element but one dim: NumPy broadcast it silently, PyTorch refuses
    _both_refuse(_fills(mg, [5.0])[case], _fills(torch, [5.0])[case])
    _same(_fills(mg, 5.0)[case](), _fills(torch, 5.0)[case]())


@pytest.mark.parametrize("op", ["add", "sub", "add_", "sub_"])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "int32"])
def test_float_alpha_with_integer_tensors_refuses_as_torch(op, dtype):
    # minigrad promoted the result to float32 (and the in-place op wrote floats into ints). Not
    # covered: a bool result with an alpha, which still differs (PyTorch keeps it bool, taking
    # alpha=2 as True and refusing 2.5; minigrad gives int64 and float32)
    def call(lib):
        x = lib.tensor(np.array([1, 0, 1]).astype(dtype))
        return lambda: getattr(x.clone(), op)(x, alpha=2.5)

    _both_refuse(call(mg), call(torch))
    x = np.array([1, 2, 3])
    _same(mg.tensor(x).add(mg.tensor(x), alpha=2), torch.tensor(x).add(torch.tensor(x), alpha=2))
    _same(
        mg.tensor(x * 1.0).sub(mg.tensor(x), alpha=2.5),
        torch.tensor(x * 1.0).sub(torch.tensor(x), alpha=2.5),
    )


def test_index_add_with_a_whole_float_alpha_keeps_integers_as_torch():
    # the float alpha made the source float32, refused by scatter_add with a confusing message
    x, source = np.array([[1, 2], [3, 4]]), np.array([[5, 6]])
    for alpha in (2.0, -1.0, 3):
        _same(
            mg.tensor(x).index_add(0, mg.tensor([1]), mg.tensor(source), alpha=alpha),
            torch.tensor(x).index_add(0, torch.tensor([1]), torch.tensor(source), alpha=alpha),
        )
    # PyTorch truncates alpha=2.5 to 2 silently; minigrad refuses, naming it
    with pytest.raises(TypeError, match="index_add: alpha=2.5"):
        mg.tensor(x).index_add(0, mg.tensor([1]), mg.tensor(source), alpha=2.5)


@pytest.mark.parametrize("op", ["floor_divide", "remainder"])
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
def test_integer_division_of_an_empty_tensor_by_zero_is_empty_as_torch(op, shape):
    # nothing is divided: PyTorch answers an empty tensor, minigrad raised ZeroDivisionError
    x, zero = np.zeros(shape, dtype=np.int64), np.array(0)
    _same(getattr(mg, op)(mg.tensor(x), mg.tensor(zero)), getattr(torch, op)(torch.tensor(x), 0))
    ours, theirs = mg.tensor(x), torch.tensor(x)
    getattr(ours, op + "_")(mg.tensor(zero))
    getattr(theirs, op + "_")(torch.tensor(zero))
    _same(ours, theirs)
    with pytest.raises(ZeroDivisionError):  # a division that happens still raises
        getattr(mg, op)(mg.tensor([1, 2]), mg.tensor(zero))


# =============================================================================================
# Joins
# =============================================================================================


@pytest.mark.parametrize(
    "shapes",
    [[(0,), (2, 3)], [(2, 3), (0,), (2, 1)], [(0,), (0,)], [(0,), (3,)], [(2, 0, 1), (0,)]],
)
@pytest.mark.parametrize("dim", [0, -1, 1])
def test_cat_skips_1d_empty_tensors_as_torch(shapes, dim):
    # PyTorch's legacy rule: a (0,) tensor joins anything (cat([tensor([]), x]) grows x)
    arrays = [np.arange(float(np.prod(s))).reshape(s) for s in shapes]
    ours, theirs = _leaves(*arrays)
    try:
        tout = torch.cat(theirs, dim)
    except (RuntimeError, IndexError):
        with pytest.raises((ValueError, IndexError)):
            mg.cat(ours, dim)
        return
    out = mg.cat(ours, dim)
    _same(out, tout)
    assert out.requires_grad
    _same_grads(out, tout, ours, theirs)


def test_cat_with_a_1d_empty_tensor_promotes_with_its_dtype_as_torch():
    pieces = [np.zeros(0), np.array([[1, 2]], dtype=np.int32)]  # the empty float64 counts
    _same(
        mg.cat([mg.tensor(p) for p in pieces], 1), torch.cat([torch.tensor(p) for p in pieces], 1)
    )


# =============================================================================================
# Second derivatives (each op's backward_graph, taken with create_graph=True)
# =============================================================================================


def _double(make, arrays, seed_shape=None):
    """First derivatives with create_graph=True, then the gradient of their weighted sum, in
    minigrad and in PyTorch; both compared."""
    ours, theirs = _leaves(*arrays)
    out, tout = make(mg, *ours), make(torch, *theirs)
    rng = np.random.default_rng(3)
    seed = rng.standard_normal(tuple(tout.shape))
    grads = mg.grad(out, ours, mg.tensor(seed), create_graph=True, allow_unused=True)
    tgrads = torch.autograd.grad(
        tout, theirs, torch.tensor(seed), create_graph=True, allow_unused=True
    )
    weights = [rng.standard_normal(np.shape(a)) for a in arrays]
    for g, tg in zip(grads, tgrads):
        _same(g, tg)
    total = sum((g * mg.tensor(w)).sum() for g, w in zip(grads, weights) if g.requires_grad)
    ttotal = sum((g * torch.tensor(w)).sum() for g, w in zip(tgrads, weights) if g.requires_grad)
    if isinstance(total, int):  # every first derivative a constant: no second one to compare
        return
    second = mg.grad(total, ours, allow_unused=True)
    tsecond = torch.autograd.grad(ttotal, theirs, allow_unused=True)
    for g, tg, a in zip(second, tsecond, arrays):
        zero = np.zeros(np.shape(a))
        _same(g if g is not None else mg.tensor(zero), tg if tg is not None else torch.tensor(zero))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: x.logsumexp(-1),
        lambda lib, x: x.var(0, correction=0, keepdim=True),
        lambda lib, x: x.std(-1, correction=0),
        lambda lib, x: x.softmax(-1),
        lambda lib, x: x.log_softmax(0),
        lambda lib, x: x.amax(-1),
        lambda lib, x: x.mean(0) * x.sum(),
    ],
)
@pytest.mark.parametrize("value", [-1.0, 0.5])
def test_second_derivatives_of_a_0d_tensor_as_torch(make, value):
    # NumPy returns scalars from ufuncs on 0-d arrays; a backward_graph that wrapped one made
    # a tensor the next op took for another device: "DeviceError: sub: expected all tensors
    # on the same device, got tensors on cpu"
    _double(make, [np.array(value)])


@pytest.mark.parametrize("correction", [0, 1])
def test_second_derivative_of_std_where_it_is_0_is_0_as_torch(correction):
    # the std was masked after its sqrt, whose infinite slope at 0 times 0 gave NaN
    x = np.array([[2.0, 1.0, 4.0], [2.0, 0.0, 4.0], [2.0, 3.0, 4.0]])  # columns 0 and 2 constant
    _double(lambda lib, t: t.std(0, correction=correction), [x])
    _double(lambda lib, t: t.std(correction=correction) * t.std(1, correction=correction), [x])


@pytest.mark.parametrize(
    ("x_shape", "w_shape"), [((2, 0, 3), (0, 3)), ((2, 2, 0), (1, 0)), ((0,), (2, 0))]
)
def test_second_derivative_of_linear_with_an_empty_dim_as_torch(x_shape, w_shape):
    # backward_graph reshaped to (-1, 0), ambiguous: ShapeError
    _double(
        lambda lib, x, w: F.linear(x, w) if lib is mg else tnf.linear(x, w),
        [np.ones(x_shape), np.ones(w_shape)],
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_first_derivative_of_pow_with_create_graph_at_zeros_as_torch():
    # backward_graph multiplied by masks instead of masking: 0 * 0^(-1) = NaN where b = 0, and
    # log(1) in place of log(0) gave NaN for d/db at a = 0, b < 0 (PyTorch's: -inf)
    a = np.array([0.0, 0.0, 0.0, 2.0, 3.0, 0.0])
    b = np.array([0.0, -0.5, 2.0, 0.0, 2.0, 1.0])
    ours, theirs = _leaves(a, b)
    ones = np.ones(6)
    grads = mg.grad(ours[0] ** ours[1], ours, mg.tensor(ones), create_graph=True)
    tgrads = torch.autograd.grad(
        theirs[0] ** theirs[1], theirs, torch.tensor(ones), create_graph=True
    )
    for g, tg in zip(grads, tgrads):
        _same(g, tg)
    assert np.isneginf(grads[1].numpy()[1])


# =============================================================================================
# Ops the hunt looked for and did not find (now in the registry, tests/op_cases.py)
# =============================================================================================


def test_where_with_a_condition_alone_is_nonzero_as_a_tuple_as_torch():
    cond = np.array([[True, False, True], [False, False, True]])
    ours, theirs = mg.where(mg.tensor(cond)), torch.where(torch.tensor(cond))
    assert len(ours) == len(theirs) == 2
    for o, t in zip(ours, theirs):
        _same(o, t)


def _refusals(lib):
    x = lib.tensor(np.arange(24.0).reshape(2, 3, 4))
    return [
        lambda: x.index_select(1, lib.tensor([-1])),  # negative: PyTorch refuses
        lambda: x.index_select(1, lib.tensor([3])),
        lambda: x.index_select(1, lib.tensor([[0]])),  # 2-D index
        lambda: lib.tensor(5.0).index_select(0, lib.tensor([0, 0])),
        lambda: x.take_along_dim(lib.tensor([1]), 0),  # fewer dims
        lambda: x.take_along_dim(lib.tensor([24])),  # flattened: 24 elements
        lambda: lib.tensor(3.0).unbind(),
        lambda: x.unbind(3),
        lambda: lib.where(x > 1, x),  # b left out: it gave an object tensor holding None
    ]


@pytest.mark.parametrize("case", range(9))
def test_index_select_take_along_dim_unbind_refuse_as_torch(case):
    _both_refuse(_refusals(mg)[case], _refusals(torch)[case])


def test_take_along_dim_refuses_an_index_out_of_range_where_torch_wraps_it():
    # PyTorch's take_along_dim with a dim reads index 4 of a size-4 dim as 0, -1 as 3, unchecked
    # (its gather refuses both): minigrad checks as its gather does (docs/guide/differences.md)
    x = np.arange(24.0).reshape(2, 3, 4)
    for bad in (4, -1):
        with pytest.raises(IndexError, match="gather: index values"):
            mg.tensor(x).take_along_dim(mg.tensor([[[bad]]]), 2)


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.5}),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_smooth_l1_and_huber_losses_as_torch(name, options, reduction):
    # absent before; differences at 0 and at |d| = beta or delta (the kinks) included
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x[0, 0], x[1, 1], x[1, 2] = y[0, 0], y[1, 1] + 0.5, y[1, 2] - 1.0
    ours, theirs = _leaves(x, y)
    out = getattr(F, name)(*ours, reduction=reduction, **options)
    tout = getattr(tnf, name)(*theirs, reduction=reduction, **options)
    _same(out, tout)
    _same_grads(out, tout, ours, theirs)


@pytest.mark.parametrize(
    "call",
    [
        lambda f, a, b: f.smooth_l1_loss(a, b, beta=-1.0),
        lambda f, a, b: f.huber_loss(a, b, delta=0.0),
        lambda f, a, b: f.l1_loss(a, b, reduction="max"),
    ],
)
def test_l1_smooth_l1_and_huber_losses_refuse_as_torch(call):
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    _both_refuse(
        lambda: call(F, mg.tensor(a), mg.tensor(b)),
        lambda: call(tnf, torch.tensor(a), torch.tensor(b)),
    )
    with pytest.raises(ValueError, match=r"l1_loss: input shape \(2, 3\) and target shape"):
        F.l1_loss(mg.tensor(a), mg.tensor(b[:1]))  # PyTorch broadcasts: differences.md


def test_cross_entropy_loss_takes_its_weight_first_as_torch():
    # nn.CrossEntropyLoss(weight) took the weight for ignore_index (and failed at the forward)
    rng = np.random.default_rng(2)
    logits, target, w = rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0]), rng.random(3)
    for named in [{}, {"ignore_index": 1}, {"reduction": "sum"}, {"label_smoothing": 0.2}]:
        ours = nn.CrossEntropyLoss(mg.tensor(w), **named)
        theirs = torch.nn.CrossEntropyLoss(torch.tensor(w), **named)
        _same(
            ours(mg.tensor(logits), mg.tensor(target)),
            theirs(torch.tensor(logits), torch.tensor(target)),
        )


def test_detach_in_place_cuts_the_graph_and_refuses_views_as_torch():
    # Tensor.detach_ was missing (AttributeError)
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * 3
        assert y.detach_() is y
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
        z.sum().backward()  # z's history, recorded before, still reaches x
        np.testing.assert_array_equal(np.asarray(x.grad.tolist()), [6.0, 6.0])
    _both_refuse(
        lambda: (mg.tensor([1.0, 2.0], requires_grad=True) * 2)[0:1].detach_(),
        lambda: (torch.tensor([1.0, 2.0], requires_grad=True) * 2)[0:1].detach_(),
    )


def test_the_hunt_driver_still_runs(monkeypatch, capsys):
    # tests/parity_hunt.py is run by hand (its findings are the tests above); this keeps it
    # working: one second of each mode, the disagreements it prints being known ones
    from tests import parity_hunt

    for mode in ([], ["--double"], ["--float32"]):
        monkeypatch.setattr("sys.argv", ["parity_hunt", "--seconds", "0.3", "--seed", "1", *mode])
        parity_hunt.main()
        assert " cases, " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--family", "nope"], {}, "invalid choice: 'nope'"),
        ([], {"MINIGRAD_BACKEND": "tpu"}, "MINIGRAD_BACKEND='tpu' names no backend"),
    ],
)
def test_the_hunt_driver_refuses_a_bad_family_or_backend_in_one_line(argv, env, says):
    # it reported an unknown family as a "generator" failure of every case, and a bad
    # MINIGRAD_BACKEND as a "driver error" in each of some hundred kinds, with status 0
    script = os.path.join(os.path.dirname(__file__), "parity_hunt.py")
    run = subprocess.run(
        [sys.executable, script, "--seconds", "0.1", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert says in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("p", [0.5, 0.3])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("create_graph", [False, True])
def test_normalize_with_p_below_1_has_no_nan_gradient_at_zeros_as_torch(p, dim, create_graph):
    # sign(0) * |0|^(p-1) = 0 * inf was NaN; PyTorch's subgradient there is 0
    x = np.array([[1.0, -2.0, 0.0], [0.0, 0.0, 0.0], [3.0, 4.0, -1.0]])
    (a,), (b,) = _leaves(x)
    seed = np.random.default_rng(0).standard_normal(x.shape)
    (g,) = mg.grad(F.normalize(a, p, dim), a, mg.tensor(seed), create_graph=create_graph)
    (tg,) = torch.autograd.grad(
        tnf.normalize(b, p, dim), b, torch.tensor(seed), create_graph=create_graph
    )
    _same(g, tg, rtol=1e-9)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(1, 2, 1).squeeze((0, 0)),  # was squeezed once, silently
        lambda lib: lib.zeros(1, 2, 1).squeeze((-1, 2)),
        lambda lib: lib.zeros(2, 3).split([4, -1], 1),  # sums to 3: pieces of 4 and -1 came out
    ],
)
def test_squeeze_twice_and_negative_split_sections_refuse_as_torch(call):
    _both_refuse(lambda: call(mg), lambda: call(torch))


def _shared_submodule_net(N, lib):  # noqa: N803 (the nn namespace, minigrad's or PyTorch's)
    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.a = N.Linear(3, 4)
            self.b = N.Sequential(N.Linear(4, 4), N.ReLU(), N.Linear(4, 2))
            self.alias = self.b  # one submodule under two names
            self.register_buffer("stat", lib.zeros(2))

    return Net()


def test_state_dict_lists_a_shared_submodule_under_each_name_as_torch():
    # named_modules lists a shared submodule once; state_dict listed its tensors once too, so
    # a PyTorch checkpoint of such a model had "unexpected keys" alias.0.weight, ...
    ours, theirs = _shared_submodule_net(nn, mg), _shared_submodule_net(torch.nn, torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    exported = {k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert ours.load_state_dict(exported) == ([], [])  # strict: every key expected
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.detach().numpy())


def test_sgd_takes_its_arguments_in_torch_order():
    # SGD(params, lr, momentum, dampening, weight_decay, nesterov): nesterov came before
    # weight_decay, so SGD(p, 0.1, 0.9, 0, 1e-4) did not decay (and refused 1e-4 as nesterov)
    rng = np.random.default_rng(4)
    start, grads = rng.standard_normal(5), rng.standard_normal((3, 5))
    ours, theirs = mg.tensor(start, requires_grad=True), torch.tensor(start, requires_grad=True)
    opt = nn.optim.SGD([ours], 0.1, 0.9, 0.0, 1e-2, True)
    topt = torch.optim.SGD([theirs], 0.1, 0.9, 0.0, 1e-2, True)
    for g in grads:
        ours.grad, theirs.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    _same(ours.detach(), theirs)
    assert nn.optim.SGD([ours]).param_groups[0]["lr"] == torch.optim.SGD([theirs]).defaults["lr"]
