"""nn: modules, containers, layers, initializers and losses (optimizers: test_optim.py;
checkpoints: test_checkpoint.py)."""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import nn
import nn.functional as F  # noqa: N812 (the PyTorch convention)
from minigrad.ops._util import ShapeError
from nn.testing import gradcheck_module
from tests.conftest import torch_device

F64 = mg.float64


def randn(*shape: int, requires_grad: bool = False) -> mg.Tensor:
    return mg.randn(*shape, dtype=F64, requires_grad=requires_grad)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 4)
        self.norm = nn.LayerNorm(4)
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.scale = 2.0  # a plain attribute

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.norm(self.lin(x)) * self.scale


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(5, 3)
        self.head = nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight  # weight tying


# -- Parameter and registration -----------------------------------------------------------------


def test_parameter_is_a_leaf_tensor_sharing_memory():
    t = mg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.array is t.array
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    # a parameter flows through every op, exact-class checks included
    (p @ p.T).sum().backward()
    assert p.grad.shape == (2, 3)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mg.arange(3))


def test_registration_by_attribute():
    b = Block()
    assert [n for n, _ in b.named_parameters()] == [
        "lin.weight",
        "lin.bias",
        "norm.weight",
        "norm.bias",
    ]
    assert [n for n, _ in b.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in b.named_children()] == ["lin", "norm"]
    assert [type(m).__name__ for m in b.modules()] == ["Block", "Linear", "LayerNorm"]
    assert b.scale == 2.0 and "scale" not in b._parameters
    assert b.num_parameters() == 3 * 4 + 4 + 4 + 4
    with pytest.raises(TypeError, match="nn.Parameter"):
        b.lin.weight = mg.randn(4, 3)  # a plain tensor into a parameter slot
    b.lin.bias = None  # allowed: no bias
    assert [n for n, _ in b.named_parameters()] == ["lin.weight", "norm.weight", "norm.bias"]
    del b.norm
    assert [n for n, _ in b.named_children()] == ["lin"]
    with pytest.raises(AttributeError, match="no attribute 'norm'"):
        _ = b.norm


def test_deleting_attributes_of_every_kind():
    b = Block()
    del b.steps  # a buffer
    del b.lin.weight  # a parameter
    del b.scale  # a plain attribute
    assert [n for n, _ in b.named_buffers()] == ["cache"]
    assert [n for n, _ in b.named_parameters()] == ["lin.bias", "norm.weight", "norm.bias"]
    assert "scale" not in b.__dict__
    for name in ("scale", "never_there"):
        with pytest.raises(AttributeError, match=name):
            delattr(b, name)
    # Shadowing a method on an instance, then deleting the shadow (what pytest's monkeypatch
    # does on undo) brings back the class's method.
    original = b.norm.forward
    b.norm.forward = lambda x: x
    assert b.norm.forward is not original
    del b.norm.forward
    assert "forward" not in b.norm.__dict__ and b.norm.forward == original


def test_assignment_before_init_says_what_to_do():
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.lin = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_tied_parameter_listed_once_saved_under_each_name():
    m = Tied()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["embed.weight"]
    assert m.num_parameters() == 15
    assert list(m.state_dict()) == ["embed.weight", "head.weight"]
    ids = mg.tensor([[1, 2]])
    loss = m.head(m.embed(ids)).sum()
    loss.backward()
    # both uses accumulate into the one shared gradient
    assert m.embed.weight.grad is m.head.weight.grad


def test_train_eval_apply_zero_grad():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.5)))
    assert all(x.training for x in m.modules())
    m.eval()
    assert not any(x.training for x in m.modules())
    x = mg.randn(8, 4)
    np.testing.assert_array_equal(m(x).numpy(), m[0](x).numpy())  # dropout off in eval
    m.train()
    assert all(x.training for x in m.modules())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "Dropout", "Sequential", "Sequential"]
    m(x).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    with pytest.raises(ValueError, match="bool"):  # as PyTorch
        m.train("yes")


def test_to_dtype_keeps_parameter_objects():
    m = Block()
    params = list(m.parameters())
    m(mg.randn(2, 3)).sum().backward()
    m.double()
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == F64 and p.grad.dtype == F64 for p in params)
    assert m.steps.dtype == F64
    m.to(mg.float32)
    assert all(p.dtype == mg.float32 for p in params)
    m.cpu()
    assert all(p.device == "cpu" for p in params)
    with pytest.raises(TypeError, match="floating point"):
        m.to(dtype=mg.int64)


def test_repr_tree():
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        ")"
    )


# -- containers ---------------------------------------------------------------------------------


def test_sequential():
    layers = [nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)]
    m = nn.Sequential(*layers)
    x = mg.randn(4, 2)
    np.testing.assert_allclose(m(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    assert len(m) == 3 and m[-1] is layers[2] and list(m) == layers
    assert isinstance(m[1:], nn.Sequential) and list(m[1:]) == layers[1:]
    named = nn.Sequential(OrderedDict([("inp", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["inp.weight", "inp.bias"]
    with pytest.raises(IndexError, match="out of range for length 3"):
        m[3]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    ml.append(nn.Linear(2, 3))
    ml.insert(0, nn.ReLU())
    assert len(ml) == 4 and isinstance(ml[0], nn.ReLU) and ml[3].out_features == 3
    assert [n for n, _ in ml.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert isinstance(ml[1:], nn.ModuleList)
    with pytest.raises(IndexError):
        ml[4]
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 2)
    assert "b" in md and list(md) == ["a", "b"] and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    with pytest.raises(TypeError, match="expected a Module"):
        md["c"] = mg.zeros(1)


# -- state_dict ---------------------------------------------------------------------------------


def test_state_dict_round_trip_and_nonpersistent_buffer():
    a, b = Block(), Block()
    sd = a.state_dict()
    # PyTorch's order: own parameters and buffers first, then each child
    assert list(sd) == ["steps", "lin.weight", "lin.bias", "norm.weight", "norm.bias"]
    assert all(not t.requires_grad for t in sd.values())
    result = b.load_state_dict(sd)
    assert result == ([], [])
    x = mg.randn(2, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    # values are copied into b's arrays, not shared
    assert b.lin.weight.array is not a.lin.weight.array


def test_strict_load_lists_every_problem_and_changes_nothing():
    m = Block()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = dict(m.state_dict())
    del bad["lin.bias"]  # missing
    bad["extra.weight"] = mg.zeros(2)  # unexpected
    bad["lin.weight"] = mg.zeros(3, 4)  # wrong shape (transposed)
    bad["norm.weight"] = mg.zeros(4, dtype=F64)  # wrong dtype
    bad["norm.bias"] = mg.full((4,), 7.0)  # valid, must not be copied either
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(bad)
    msg = str(info.value)
    for part in (
        "missing keys: lin.bias",
        "unexpected keys: extra.weight",
        "lin.weight: shape (3, 4) in the checkpoint, (4, 3) in the model",
        "norm.weight: dtype float64 in the checkpoint, float32 in the model",
        "nothing was changed",
    ):
        assert part in msg
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_load_reports_keys_but_still_checks_shapes():
    m = Block()
    partial = {"lin.weight": mg.ones(4, 3), "other": mg.zeros(1)}
    missing, unexpected = m.load_state_dict(partial, strict=False)
    assert "lin.bias" in missing and unexpected == ["other"]
    np.testing.assert_array_equal(m.lin.weight.numpy(), np.ones((4, 3), np.float32))
    with pytest.raises(nn.StateDictError, match="shape"):
        m.load_state_dict({"lin.weight": mg.ones(3, 3)}, strict=False)


def test_checkpoint_of_another_architecture_is_refused():
    small = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    other = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    before = [p.numpy().copy() for p in small.parameters()]
    with pytest.raises(nn.StateDictError, match=r"0.weight: shape \(8, 2\)"):
        small.load_state_dict(other.state_dict())
    with pytest.raises(TypeError, match="mapping"):
        small.load_state_dict([1, 2])
    for p, b in zip(small.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)


# -- layers: gradcheck, PyTorch twins, init ------------------------------------------------------


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.Linear(3, 2), (4, 3)),
        (lambda: nn.Linear(3, 2, bias=False), (2, 5, 3)),
        (lambda: nn.LayerNorm(4), (3, 4)),
        (lambda: nn.LayerNorm((2, 3), elementwise_affine=True), (2, 2, 3)),
        (lambda: nn.LayerNorm(4, bias=False), (3, 4)),
        (lambda: nn.GELU(), (3, 4)),
        (lambda: nn.GELU("tanh"), (3, 4)),
        (lambda: nn.Tanh(), (3,)),
        (lambda: nn.Sigmoid(), (3,)),
        (lambda: nn.Softmax(dim=0), (3, 2)),
        (lambda: nn.ReLU(), (3, 4)),
        (
            lambda: nn.Sequential(nn.Linear(3, 5), nn.GELU(), nn.LayerNorm(5), nn.Linear(5, 2)),
            (2, 3),
        ),
    ],
)
def test_layer_gradcheck(make, shape):
    mg.manual_seed(1)
    module = make().double()
    x = randn(*shape, requires_grad=True)
    if isinstance(module, nn.LayerNorm):  # move weight/bias off their 1/0 start
        for p in module.parameters():
            p.array[...] = mg.tensor(np.random.default_rng(0).standard_normal(p.shape)).array
    assert gradcheck_module(module, x)


def test_embedding_gradcheck_and_padding_row():
    mg.manual_seed(2)
    ids = mg.tensor([[0, 1, 2], [1, 5, 5]])
    assert gradcheck_module(nn.Embedding(6, 3).double(), ids)
    # with padding_idx the padding row is frozen by design (finite differences would see it)
    emb = nn.Embedding(6, 3, padding_idx=1).double()
    emb(ids).sum().backward()
    assert not emb.weight.grad.numpy()[1].any()  # no gradient reaches the padding row
    np.testing.assert_array_equal(emb.weight.grad.numpy()[5], [2.0, 2.0, 2.0])  # repeats add up


def test_dropout_layer_gradcheck_with_fixed_mask():
    drop = nn.Dropout(0.3)
    x = randn(4, 5, requires_grad=True)

    def fn(t):
        mg.manual_seed(7)  # the same mask on every call
        return drop(t)

    assert mg.gradcheck(fn, [x])
    y = fn(x)
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.7)


def test_gradcheck_module_names_a_bad_parameter():
    class Wrong(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(mg.ones(2, dtype=F64))

        def forward(self, x):
            # gradient of w cut: the analytic gradient is 0, the numerical one is not
            return x * (self.w.detach() + 0 * self.w) + self.w.detach() * 0 + self.w.detach()

    with pytest.raises(mg.GradcheckError, match="input 1 \\(parameter 'w'\\)"):
        gradcheck_module(Wrong(), randn(2, requires_grad=True))


def _torch():
    return pytest.importorskip("torch")


def _t(x, torch, requires_grad=True):
    return torch.tensor(x.numpy(), device=torch_device(), requires_grad=requires_grad)


def _to_np(t):
    return t.detach().cpu().numpy()


def test_linear_matches_torch():
    torch = _torch()
    lin = nn.Linear(5, 3).double()
    ref = torch.nn.Linear(5, 3, dtype=torch.float64, device=torch_device())
    with torch.no_grad():
        ref.weight.copy_(_t(lin.weight, torch, False))
        ref.bias.copy_(_t(lin.bias, torch, False))
    x = randn(2, 4, 5, requires_grad=True)
    tx = _t(x, torch)
    y, ty = lin(x), ref(tx)
    np.testing.assert_allclose(y.numpy(), _to_np(ty), rtol=1e-12, atol=1e-12)
    g = randn(2, 4, 3)
    y.backward(g)
    ty.backward(_t(g, torch, False))
    np.testing.assert_allclose(x.grad.numpy(), _to_np(tx.grad), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), _to_np(ref.weight.grad), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.numpy(), _to_np(ref.bias.grad), rtol=1e-12)


def test_layer_norm_matches_torch():
    torch = _torch()
    ln = nn.LayerNorm((3, 4), eps=1e-6).double()
    for p in ln.parameters():
        p.array[...] = mg.tensor(np.random.default_rng(3).standard_normal(p.shape)).array
    ref = torch.nn.LayerNorm((3, 4), eps=1e-6, dtype=torch.float64, device=torch_device())
    with torch.no_grad():
        ref.weight.copy_(_t(ln.weight, torch, False))
        ref.bias.copy_(_t(ln.bias, torch, False))
    x = randn(2, 3, 4, requires_grad=True)
    tx = _t(x, torch)
    y, ty = ln(x), ref(tx)
    np.testing.assert_allclose(y.numpy(), _to_np(ty), rtol=1e-10, atol=1e-12)
    g = randn(2, 3, 4)
    y.backward(g)
    ty.backward(_t(g, torch, False))
    np.testing.assert_allclose(x.grad.numpy(), _to_np(tx.grad), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ln.weight.grad.numpy(), _to_np(ref.weight.grad), rtol=1e-10)
    np.testing.assert_allclose(ln.bias.grad.numpy(), _to_np(ref.bias.grad), rtol=1e-10)


def test_embedding_matches_torch():
    torch = _torch()
    emb = nn.Embedding(7, 4, padding_idx=0).double()
    ref = torch.nn.Embedding(7, 4, padding_idx=0, dtype=torch.float64, device=torch_device())
    with torch.no_grad():
        ref.weight.copy_(_t(emb.weight, torch, False))
    ids = mg.tensor([[0, 3, 3], [6, 0, 1]])
    tids = torch.tensor(ids.numpy(), device=torch_device())
    y, ty = emb(ids), ref(tids)
    np.testing.assert_array_equal(y.numpy(), _to_np(ty))
    g = randn(2, 3, 4)
    y.backward(g)
    ty.backward(_t(g, torch, False))
    np.testing.assert_allclose(emb.weight.grad.numpy(), _to_np(ref.weight.grad), rtol=1e-12)


def test_losses_match_torch():
    torch = _torch()
    logits = randn(6, 5, requires_grad=True)
    target = mg.tensor([0, 4, -100, 2, 2, 1])
    tl = _t(logits, torch)
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(logits, target)
    tloss = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(
        tl, torch.tensor(target.numpy(), device=torch_device())
    )
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), _to_np(tl.grad), rtol=1e-10, atol=1e-14)
    for reduction in ("mean", "sum", "none"):
        a, b = randn(3, 4, requires_grad=True), randn(3, 4)
        ta = _t(a, torch)
        out = nn.MSELoss(reduction)(a, b)
        tout = torch.nn.MSELoss(reduction=reduction)(ta, _t(b, torch, False))
        np.testing.assert_allclose(out.numpy(), _to_np(tout), rtol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), _to_np(ta.grad), rtol=1e-12)


def test_functional_names_follow_torch():
    torch = _torch()
    for name in F.__all__:
        assert hasattr(torch.nn.functional, name), name
    for name in (
        "linear",
        "relu",
        "gelu",
        "softmax",
        "log_softmax",
        "layer_norm",
        "dropout",
        "embedding",
        "cross_entropy",
        "mse_loss",
        "one_hot",
    ):
        assert callable(getattr(F, name))
    np.testing.assert_array_equal(F.one_hot(mg.tensor([2, 0]), 3).numpy(), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        F.one_hot(mg.tensor([3]), 3)


def test_default_initialization_follows_pytorch():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(lin.bias.numpy()).max() <= bound
    # U(-b, b) has variance b^2 / 3; 120,000 draws pin it within a few percent
    assert abs(w.var() / (bound**2 / 3) - 1) < 0.03
    emb = nn.Embedding(1000, 64)
    assert abs(emb.weight.numpy().std() - 1) < 0.02 and abs(emb.weight.numpy().mean()) < 0.02
    ln = nn.LayerNorm(5)
    np.testing.assert_array_equal(ln.weight.numpy(), np.ones(5, np.float32))
    np.testing.assert_array_equal(ln.bias.numpy(), np.zeros(5, np.float32))
    assert lin.weight.dtype == mg.float32
    assert nn.Linear(2, 2, dtype=F64).weight.dtype == F64


@pytest.mark.parametrize(
    "fill, check",
    [
        (
            lambda t: nn.init.uniform_(t, -2, 3),
            lambda w: w.min() >= -2 and w.max() < 3 and abs(w.mean() - 0.5) < 0.05,
        ),
        (
            lambda t: nn.init.normal_(t, 1.0, 0.5),
            lambda w: abs(w.mean() - 1) < 0.01 and abs(w.std() - 0.5) < 0.01,
        ),
        (lambda t: nn.init.constant_(t, 0.25), lambda w: (w == 0.25).all()),
        (nn.init.zeros_, lambda w: (w == 0).all()),
        (nn.init.ones_, lambda w: (w == 1).all()),
        # fan_in 300, fan_out 200
        (
            nn.init.xavier_uniform_,
            lambda w: (
                np.abs(w).max() <= math.sqrt(6 / 500)
                and abs(w.std() / math.sqrt(2 / 500) - 1) < 0.03
            ),
        ),
        (nn.init.xavier_normal_, lambda w: abs(w.std() / math.sqrt(2 / 500) - 1) < 0.03),
        (
            lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"),
            lambda w: (
                np.abs(w).max() <= math.sqrt(6 / 300)
                and abs(w.std() / math.sqrt(2 / 300) - 1) < 0.03
            ),
        ),
        (
            lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
            lambda w: abs(w.std() / math.sqrt(2 / 200) - 1) < 0.03,
        ),
    ],
)
def test_initializers(fill, check):
    p = nn.Parameter(mg.empty(200, 300))
    assert fill(p) is p
    assert check(p.numpy())
    assert p.requires_grad and p.grad_fn is None


def test_initializers_are_seeded_and_validate():
    mg.manual_seed(5)
    a = nn.Linear(3, 3).weight.numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(a, nn.Linear(3, 3).weight.numpy())
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="at least 2 dims"):
        nn.init.xavier_uniform_(mg.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(mg.zeros(3, 3), mode="fan")
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(TypeError, match="floating point"):
        nn.init.normal_(mg.zeros(3, dtype=mg.int64))
    h = mg.zeros(4, 4, dtype=mg.float16)
    nn.init.normal_(h)
    assert h.dtype == mg.float16 and h.numpy().any()


# -- bad input ----------------------------------------------------------------------------------


def test_linear_wrong_feature_size_names_shapes():
    lin = nn.Linear(4, 2)
    with pytest.raises(ShapeError, match=r"expected input of shape \(\*, 4\), got \(3, 5\)"):
        lin(mg.randn(3, 5))
    with pytest.raises(ShapeError, match=r"got \(\)"):
        lin(mg.tensor(1.0))


def test_embedding_ids_out_of_range():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="5"):
        emb(mg.tensor([[0, 5]]))
    with pytest.raises(IndexError):
        emb(mg.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(mg.tensor([0.0, 1.0]))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: nn.Linear(0, 2), "in_features must be a positive int"),
        (lambda: nn.Linear(2, 2.5), "out_features"),
        (lambda: nn.Embedding(3, 2, padding_idx=3), "padding_idx 3 is out of range"),
        (lambda: nn.LayerNorm(4, eps=0), "eps must be positive"),
        (lambda: nn.Dropout(1.5), r"p must be a probability"),
        (lambda: nn.GELU("erf"), "approximate"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), "reduction"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=2.0), "label_smoothing"),
        (lambda: nn.MSELoss(reduction="avg"), "reduction"),
        (lambda: nn.Linear(2, 2, dtype=mg.int64), "floating point"),
    ],
)
def test_bad_layer_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_mse_shape_mismatch_is_an_error():
    with pytest.raises(ShapeError, match=r"\(3, 1\).*\(3,\)"):
        nn.MSELoss()(mg.zeros(3, 1), mg.zeros(3))


def test_module_graph_is_freed_after_backward():
    m = nn.Sequential(nn.Linear(3, 3), nn.GELU())
    x = mg.randn(2, 3)
    y = m(x)
    ref = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    assert ref() is None


def _two_moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's make_moons: two interleaved half circles with Gaussian noise 0.1."""
    label = rng.integers(0, 2, n)
    angle = rng.uniform(0, np.pi, n)
    x = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], 1) + rng.normal(0, 0.1, (n, 2))
    return points.astype(np.float32), label


def test_mlp_learns_two_moons_with_adam():
    """A nonlinear boundary: the MLP must classify 97% of held-out points correctly."""
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    x_train, y_train = _two_moons(512, rng)
    x_test, y_test = _two_moons(256, rng)
    model = nn.Sequential(
        nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2)
    )
    opt = nn.optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = mg.tensor(x_train), mg.tensor(y_train)
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(model(xs), ys)
        loss.backward()
        opt.step()
    model.eval()
    with mg.no_grad():
        accuracy = (model(mg.tensor(x_test)).argmax(-1).numpy() == y_test).mean()
    assert loss.item() < 0.1
    assert accuracy >= 0.97, accuracy


@pytest.mark.parametrize("layer", [nn.LayerNorm, nn.RMSNorm])
def test_norm_layers_refuse_an_empty_or_non_positive_normalized_shape(layer: type) -> None:
    name = layer.__name__
    with pytest.raises(ValueError, match=f"{name}: normalized_shape must not be empty"):
        layer(())
    with pytest.raises(ValueError, match=rf"{name}: normalized_shape\[1\] must be a positive int"):
        layer((4, 0))


def test_container_extend_and_update_with_a_bad_element_change_nothing() -> None:
    # they added the modules before the bad one, then raised
    for container in (nn.ModuleList([nn.Identity()]), nn.Sequential(nn.Identity())):
        with pytest.raises(TypeError, match="element 1 is not a Module, got int"):
            container.extend([nn.Identity(), 3])
        assert len(container) == 1
    modules = nn.ModuleList([nn.Identity()])
    with pytest.raises(TypeError, match="element 1"):
        modules += [nn.ReLU(), "relu"]
    assert len(modules) == 1
    table = nn.ModuleDict({"a": nn.Identity()})
    with pytest.raises(TypeError, match="'c' is not a Module"):
        table.update({"b": nn.Identity(), "c": 3})
    with pytest.raises(KeyError, match="invalid name"):
        table.update([("b", nn.Identity()), ("c.d", nn.Identity())])
    assert list(table.keys()) == ["a"]
