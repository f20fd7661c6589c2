"""Higher-order gradients: every op in the registry differentiates twice (gradgradcheck, and
PyTorch's double backward where it has a twin), third order on smooth ops, a Hessian-vector
product through the whole transformer, and the errors of create_graph and gradgradcheck."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.ops
from minigrad.autograd import Function
from tests.conftest import torch, torch_device
from tests.op_cases import CASES, OpCase, tnf, torch_twins

# At a tie the first derivative of max/min jumps (the gradient is split there by convention),
# so finite differences of it mean nothing: those cases are left to the PyTorch comparison and
# to test_second_derivative_at_ties_is_zero.
CHECKED = [c for c in CASES if "no-gradcheck" not in c.tags and "ties" not in c.name]
TWINS = [  # "no-torch-double": PyTorch's second derivative is NaN where ours is 0 (op_cases says why)
    c
    for c in CASES
    if c.torch_fn is not None and "no-torch" not in c.tags and "no-torch-double" not in c.tags
]


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
    twins = torch_twins(case, arrays)
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


@pytest.mark.parametrize("case", [c for c in CASES if "ties" in c.name], ids=lambda c: c.name)
def test_second_derivative_at_ties_is_zero(case: OpCase) -> None:
    """max/min are piecewise linear: the split gradient is constant, its derivative 0."""
    _, tensors = _inputs(case)
    diff = _diff(case, tensors)
    outs = _call(case, *tensors)
    seeds = [mg.tensor(np.ones(tuple(o.shape)), requires_grad=True) for o in outs]
    grads = mg.grad(list(outs), diff, seeds, create_graph=True)
    assert all(g.grad_fn is not None for g in grads)
    second = mg.grad(sum(g.sum() for g in grads), diff, allow_unused=True)
    for s in second:
        assert s is None or not s.numpy().any()


# -- third order ----------------------------------------------------------------------------------


def _hvp_fn(f, u: np.ndarray, w: np.ndarray):
    """x -> the gradient of <w, grad <u, f(x)>>: second derivatives, differentiable, so a
    gradcheck of it compares third derivatives with finite differences of second ones."""

    def hvp(x: mg.Tensor) -> mg.Tensor:
        with mg.enable_grad():  # gradcheck's finite differences run under no_grad
            (g,) = mg.grad((f(x) * mg.tensor(u)).sum(), x, create_graph=True)
            (h,) = mg.grad((g * mg.tensor(w)).sum(), x, create_graph=True)
        return h

    return hvp


@pytest.mark.parametrize(
    "name, f",
    [("tanh", mg.tanh), ("exp", mg.exp), ("softmax", lambda x: mg.softmax(x, dim=-1))],
)
def test_third_order_matches_finite_differences_of_the_second(name, f) -> None:
    rng = np.random.default_rng(11)
    x = mg.tensor(rng.standard_normal((2, 3)) * 0.7, requires_grad=True)
    u, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert mg.gradcheck(_hvp_fn(f, u, w), [x], atol=1e-6, rtol=1e-4)


def test_tanh_third_derivative_in_closed_form() -> None:
    # d^3/dx^3 tanh = -2 (1 - t^2)(1 - 3 t^2), t = tanh(x)
    x = mg.tensor([0.3, -1.1, 0.0], dtype=mg.float64, requires_grad=True)
    (d1,) = mg.grad(mg.tanh(x).sum(), x, create_graph=True)
    (d2,) = mg.grad(d1.sum(), x, create_graph=True)
    (d3,) = mg.grad(d2.sum(), x)
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(d3.numpy(), -2 * (1 - t**2) * (1 - 3 * t**2), rtol=1e-12)


# -- the engine's API ------------------------------------------------------------------------------


def test_backward_create_graph_gives_leaf_grads_a_graph() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None  # 3 x^2, differentiable (PyTorch: leaf.grad has a grad_fn)
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy() ** 2)
    first = x.grad
    (x**3).sum().backward(create_graph=True)  # accumulates, keeping the graph
    assert x.grad.grad_fn is not None
    (h,) = mg.grad(first.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_retain_graph_defaults_to_create_graph() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    y = (x.exp() * x).sum()
    mg.grad(y, x, create_graph=True)
    (again,) = mg.grad(y, x)  # the graph was kept: a second pass works
    np.testing.assert_allclose(again.numpy(), np.exp(x.numpy()) * (1 + x.numpy()))
    with pytest.raises(RuntimeError, match="second time"):
        mg.grad(y, x)


def test_grad_outputs_that_require_grad_are_differentiated() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([2.0, 3.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(x * x, x, v, create_graph=True)  # 2 x v
    gx, gv = mg.grad(g.sum(), [x, v])
    np.testing.assert_allclose(gx.numpy(), 2 * v.numpy())
    np.testing.assert_allclose(gv.numpy(), 2 * x.numpy())


def test_hooks_see_tensor_gradients_under_create_graph() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g) or g * 2.0)
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    assert isinstance(seen[0], mg.Tensor)
    np.testing.assert_allclose(g.numpy(), 4 * x.numpy())
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [4.0, 4.0])


def test_first_order_results_have_no_graph() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad((x * x).sum(), x)
    assert g.grad_fn is None and not g.requires_grad


# -- bad input ------------------------------------------------------------------------------------


class _ArraySquare(Function):
    """A user's op whose backward works on arrays only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_create_graph_through_an_array_only_function_names_it() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    y = _ArraySquare.apply(x).sum()
    assert mg.grad(y, x, retain_graph=True)[0].numpy().tolist() == [1.0, -3.0]  # first order works
    with pytest.raises(RuntimeError, match="_ArraySquare has no differentiable backward"):
        mg.grad(y, x, create_graph=True)
    with pytest.raises(RuntimeError, match="_ArraySquare"):
        y.backward(create_graph=True)
    assert x.grad is None  # nothing accumulated


def test_gradgradcheck_refuses_float32() -> None:
    x = mg.tensor([0.5, -1.5], dtype=mg.float32, requires_grad=True)
    with pytest.raises(TypeError, match=r"gradgradcheck: input 0 \(shape \(2,\)\) is float32"):
        mg.gradgradcheck(mg.tanh, [x])


def test_gradgradcheck_names_the_input_and_element_at_fault() -> None:
    class WrongSecond(Function):  # d/dx x^3 = 3 x^2, but its backward_graph says x^2
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

        @staticmethod
        def backward_graph(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * (x.detach() * x.detach() + 0.0 * x) * g + 0.0 * x * x * g

    x = mg.tensor([0.5, -1.5], dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(WrongSecond.apply, [x])  # first order is right
    with pytest.raises(
        mg.GradcheckError, match=r"second derivatives.*input 0 \(shape \(2,\)\), element \(0,\)"
    ):
        mg.gradgradcheck(WrongSecond.apply, [x])
    assert not mg.gradgradcheck(WrongSecond.apply, [x], raise_exception=False)


# -- the whole transformer -------------------------------------------------------------------------

SRC = [[3, 4, 5, 6, 0], [1, 2, 0, 0, 0]]  # padding (id 0) in the source
TGT = [[1, 5, 4, 2], [1, 3, 0, 0]]  # and in the target (causal mask inside the decoder)
NEXT = [[5, 4, 2, 6], [3, 2, 0, 0]]  # next tokens; 0 is ignored by the loss


def _tiny(norm_first: bool):
    from tests.test_transformer import tiny  # noqa: PLC0415

    return tiny(norm_first=norm_first)


def _loss(model) -> mg.Tensor:
    logits = model(mg.tensor(SRC), mg.tensor(TGT))  # (B, T, V)
    return mg.cross_entropy(logits.reshape(-1, logits.shape[-1]), mg.tensor(NEXT).reshape(-1), 0)


def _directions(params: list, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(p.shape)) for p in params]


def _hvp(model, params: list, v: list[np.ndarray]) -> list[np.ndarray]:
    grads = mg.grad(_loss(model), params, create_graph=True)
    gv = sum((g * mg.tensor(d)).sum() for g, d in zip(grads, v))
    return [h.numpy() for h in mg.grad(gv, params)]


def _shifted_grad(model, params: list, v: list[np.ndarray], step: float) -> list[np.ndarray]:
    start = [p.numpy().copy() for p in params]
    with mg.no_grad():
        for p, s, d in zip(params, start, v):
            p.copy_(s + step * d)
    grads = [g.numpy() for g in mg.grad(_loss(model), params)]
    with mg.no_grad():
        for p, s in zip(params, start):
            p.copy_(s)
    return grads


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_hvp_matches_finite_differences(norm_first: bool) -> None:
    model = _tiny(norm_first)
    params = list(model.parameters())
    v = _directions(params)
    hv = _hvp(model, params, v)
    eps = 1e-5
    plus, minus = _shifted_grad(model, params, v, eps), _shifted_grad(model, params, v, -eps)
    for (name, _), h, a, b in zip(model.named_parameters(), hv, plus, minus):
        np.testing.assert_allclose(h, (a - b) / (2 * eps), rtol=1e-4, atol=1e-7, err_msg=name)
    assert sum(float(np.abs(h).sum()) for h in hv) > 0


def _torch_twin(model):
    """torch.nn.Transformer (pre-norm: both have final norms) with the model's weights, and
    for each torch parameter the minigrad parameters it is made of (in_proj = q, k, v)."""
    with warnings.catch_warnings():  # "enable_nested_tensor is True, but ...": not used here
        warnings.simplefilter("ignore", UserWarning)
        ref = torch.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True, norm_first=True,
                                   dtype=torch.float64)  # fmt: skip
    src_embed = torch.nn.Parameter(torch.tensor(model.src_embed.weight.numpy()))
    tgt_embed = torch.nn.Parameter(torch.tensor(model.tgt_embed.weight.numpy()))
    out_proj = torch.nn.Linear(8, VOCAB_SIZE, dtype=torch.float64)
    pairs = [(src_embed, [model.src_embed.weight]), (tgt_embed, [model.tgt_embed.weight])]
    pairs += _linear_pairs(out_proj, model.output_proj)

    def mha(theirs, ours):
        proj = (ours.q_proj, ours.k_proj, ours.v_proj)
        return [
            (theirs.in_proj_weight, [p.weight for p in proj]),
            (theirs.in_proj_bias, [p.bias for p in proj]),
            *_linear_pairs(theirs.out_proj, ours.out_proj),
        ]

    enc, dec = ref.encoder.layers[0], ref.decoder.layers[0]
    ours_enc, ours_dec = model.encoder.layers[0], model.decoder.layers[0]
    pairs += mha(enc.self_attn, ours_enc.self_attn) + mha(dec.self_attn, ours_dec.self_attn)
    pairs += mha(dec.multihead_attn, ours_dec.cross_attn)
    for theirs, ours in ((enc, ours_enc), (dec, ours_dec)):
        pairs += _linear_pairs(theirs.linear1, ours.ff.linear1)
        pairs += _linear_pairs(theirs.linear2, ours.ff.linear2)
    for i in (1, 2):
        pairs += _linear_pairs(getattr(enc, f"norm{i}"), getattr(ours_enc, f"norm{i}"))
    for i in (1, 2, 3):
        pairs += _linear_pairs(getattr(dec, f"norm{i}"), getattr(ours_dec, f"norm{i}"))
    pairs += _linear_pairs(ref.encoder.norm, model.encoder.norm)
    pairs += _linear_pairs(ref.decoder.norm, model.decoder.norm)
    with torch.no_grad():
        for theirs, ours in pairs:
            theirs.copy_(torch.tensor(np.concatenate([p.numpy() for p in ours])))
    pe = torch.tensor(model.pos_encoding.pe.numpy())

    def loss() -> torch.Tensor:
        src, tgt = torch.tensor(SRC), torch.tensor(TGT)
        x = tnf.embedding(src, src_embed, padding_idx=0) * 8**0.5 + pe[: src.shape[1]]
        y = tnf.embedding(tgt, tgt_embed, padding_idx=0) * 8**0.5 + pe[: tgt.shape[1]]
        causal = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1)
        out = ref(x, y, tgt_mask=causal, src_key_padding_mask=src == 0,
                  tgt_key_padding_mask=tgt == 0, memory_key_padding_mask=src == 0)  # fmt: skip
        logits = out_proj(out)
        return tnf.cross_entropy(logits.reshape(-1, VOCAB_SIZE), torch.tensor(NEXT).reshape(-1),
                                 ignore_index=0)  # fmt: skip

    return loss, pairs


VOCAB_SIZE = 7


def _linear_pairs(theirs, ours) -> list:
    return [(theirs.weight, [ours.weight]), (theirs.bias, [ours.bias])]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_transformer_hvp_matches_torch_double_backward() -> None:
    model = _tiny(norm_first=True)
    params = list(model.parameters())
    v = _directions(params, seed=1)
    hv = dict(zip(map(id, params), _hvp(model, params, v)))
    vs = dict(zip(map(id, params), v))
    loss, pairs = _torch_twin(model)
    assert {id(p) for _, ours in pairs for p in ours} == set(vs)  # every parameter is twinned
    with _math_attention():
        theirs = [t for t, _ in pairs]
        np.testing.assert_allclose(loss().item(), _loss(model).item(), rtol=1e-10)
        grads = torch.autograd.grad(loss(), theirs, create_graph=True)
        tv = [torch.tensor(np.concatenate([vs[id(p)] for p in ours])) for _, ours in pairs]
        thv = torch.autograd.grad(sum((g * d).sum() for g, d in zip(grads, tv)), theirs)
    for (theirs_p, ours), h in zip(pairs, thv):
        mine = np.concatenate([hv[id(p)] for p in ours])
        np.testing.assert_allclose(
            mine, h.numpy(), rtol=1e-7, atol=1e-10, err_msg=str(theirs_p.shape)
        )


def test_create_graph_grads_own_their_memory() -> None:
    """Two leaves fed by one add, through a sum's broadcast gradient: each .grad can still be
    changed in place (gradient clipping) without touching the other."""
    a = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([3.0, 4.0], dtype=mg.float64, requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    with mg.no_grad():
        a.grad.copy_(a.grad.numpy() * 0.5)
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_cast_differentiates_twice() -> None:
    """cast has no registry case (float64 -> float64 is the identity): second derivative of
    sum(double(x)^3) for a float32 x is 6 x, in float32."""
    x = mg.tensor([0.5, -1.5], dtype=mg.float32, requires_grad=True)
    (g,) = mg.grad((x.double() ** 3).sum(), x, create_graph=True)
    assert g.dtype == mg.float32 and g.grad_fn is not None
    (h,) = mg.grad(g.sum(), x)
    assert h.dtype == mg.float32
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy(), rtol=1e-6)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_detect_anomaly_sees_the_create_graph_backward() -> None:
    x = mg.tensor([0.0, 1.0], dtype=mg.float64, requires_grad=True)
    y = mg.sqrt(x).sum()  # d/dx sqrt(x) = inf at 0
    with pytest.raises(Exception, match="Sqrt") as err, mg.detect_anomaly():
        mg.grad(y, x, create_graph=True)
    assert "inf" in str(err.value)
    assert "inf" in str(err.value)
