"""Every op in the registry: float64 gradcheck, PyTorch twin, float32 preserved; plus op-specific
behaviour (ties, repeated indices, fully masked rows) and hypothesis-generated broadcasting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
from tests.conftest import torch, torch_device
from tests.op_cases import CASES, NOT_DIFFERENTIABLE, OpCase, torch_twins

IDS = [c.name for c in CASES]


def _inputs(case: OpCase, dtype: object, seed: int = 0) -> tuple[list[np.ndarray], list[mg.Tensor]]:
    rng = np.random.default_rng(seed)
    arrays = [spec.draw(rng) for spec in case.inputs]
    tensors = []
    for spec, arr in zip(case.inputs, arrays):
        if arr.dtype.kind == "f":
            t = mg.tensor(arr, dtype=dtype, requires_grad=spec.diff)
        else:
            t = mg.tensor(arr)
        tensors.append(t)
    return arrays, tensors


def _call(case: OpCase, *args: object) -> list[mg.Tensor]:
    if case.seeded:
        mg.manual_seed(7)
    out = case.fn(*args)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _diff(case: OpCase, tensors: list[mg.Tensor]) -> list[mg.Tensor]:
    return [t for spec, t in zip(case.inputs, tensors) if spec.diff]


@pytest.mark.parametrize(
    "case", [c for c in CASES if "no-gradcheck" not in c.tags], ids=lambda c: c.name
)
def test_gradcheck(case: OpCase) -> None:
    _, tensors = _inputs(case, mg.float64)
    assert mg.gradcheck(
        lambda *xs: tuple(_call(case, *xs)), tensors, atol=case.atol, rtol=case.rtol
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_stays_float32(case: OpCase) -> None:
    _, tensors = _inputs(case, mg.float32)
    outs = _call(case, *tensors)
    for out in outs:
        assert out.dtype == mg.float32, f"{case.name}: output is {out.dtype}"
    diff = _diff(case, tensors)
    grads = mg.grad(outs, diff, [mg.ones_like(o) for o in outs], allow_unused=True)
    for x, g in zip(diff, grads):
        assert g is not None and g.dtype == mg.float32 and g.shape == x.shape, (
            f"{case.name}: grad {g}"
        )


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.torch_fn is not None and "no-torch" not in c.tags],
    ids=lambda c: c.name,
)
def test_matches_torch(case: OpCase) -> None:
    arrays, tensors = _inputs(case, mg.float64, seed=3)
    dev = torch_device()
    twins = torch_twins(case, arrays)
    outs = _call(case, *tensors)
    touts = case.torch_fn(*twins)
    touts = list(touts) if isinstance(touts, (tuple, list)) else [touts]
    assert len(outs) == len(touts)
    rng = np.random.default_rng(5)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in outs]
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape), (
            f"{case.name}: shape {o.shape} vs torch {tuple(t.shape)}"
        )
        np.testing.assert_allclose(o.numpy(), t.detach().cpu().numpy(), rtol=1e-7, atol=1e-10)
    diff = _diff(case, tensors)
    if not diff:
        return
    grads = mg.grad(outs, diff, [mg.tensor(s, dtype=mg.float64) for s in seeds], allow_unused=True)
    tdiff = [t for t in twins if t.requires_grad]
    tgrads = torch.autograd.grad(
        touts, tdiff, [torch.tensor(s, device=dev) for s in seeds], allow_unused=True
    )
    for k, (g, tg) in enumerate(zip(grads, tgrads)):
        expected = np.zeros(tuple(tdiff[k].shape)) if tg is None else tg.cpu().numpy()
        np.testing.assert_allclose(
            g.numpy(), expected, rtol=1e-7, atol=1e-10, err_msg=f"{case.name}: input {k}"
        )


def test_registry_covers_public_ops() -> None:
    covered = {c.op for c in CASES}
    public = set(mg.ops.__all__) - NOT_DIFFERENTIABLE
    assert public - covered == set(), (
        f"public ops without a case in tests/op_cases.py: {sorted(public - covered)}"
    )


# -- broadcasting, generated ------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
    "pow": (lambda a, b: a**b, True),
    "maximum": (mg.maximum, False),
    "minimum": (mg.minimum, False),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=15, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_broadcasting_gradcheck(name: str, shapes: object, seed: int) -> None:
    fn, positive = BINARY[name]
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.uniform(0.5, 2.0, sa) if positive else rng.standard_normal(sa)
    b = (
        rng.uniform(0.5, 2.0, sb) * (1 if name == "pow" else rng.choice([-1, 1], sb))
        if positive
        else rng.standard_normal(sb)
    )
    ta = mg.tensor(a, dtype=mg.float64, requires_grad=True)
    tb = mg.tensor(b, dtype=mg.float64, requires_grad=True)
    out = fn(ta, tb)
    assert tuple(out.shape) == tuple(shapes.result_shape)
    assert mg.gradcheck(fn, (ta, tb))


# -- op-specific behaviour --------------------------------------------------------------------


def test_max_splits_gradient_among_three_ties() -> None:
    x = mg.tensor([[2.0, 5.0, 5.0, 5.0], [1.0, 0.0, 1.0, -1.0]], requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(
        x.grad.numpy(), [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0, 0.5, 0]], rtol=1e-6
    )


def test_embedding_padding_row_gets_no_gradient() -> None:
    w = mg.randn(4, 3, requires_grad=True)
    mg.embedding(mg.tensor([[0, 2, 0], [1, 0, 3]]), w, padding_idx=0).sum().backward()
    grad = w.grad.numpy()
    np.testing.assert_array_equal(grad[0], np.zeros(3))
    np.testing.assert_array_equal(grad[1:], np.ones((3, 3)))


def test_repeated_indices_accumulate() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[mg.tensor([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


def test_softmax_fully_masked_row_is_zero_with_zero_grad() -> None:
    x = mg.tensor([[1.0, 2.0, 3.0], [-math.inf] * 3], requires_grad=True)
    y = x.softmax(-1)
    np.testing.assert_array_equal(y.numpy()[1], [0.0, 0.0, 0.0])
    (y * mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_array_equal(x.grad.numpy()[1], [0.0, 0.0, 0.0])


def test_log_softmax_fully_masked_row_is_zero_with_zero_grad() -> None:
    x = mg.tensor([[-math.inf] * 4, [0.0, 1.0, -math.inf, 2.0]], requires_grad=True)
    y = x.log_softmax(-1)
    np.testing.assert_array_equal(y.numpy()[0], np.zeros(4))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], np.zeros(4))
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_is_stable_for_large_inputs() -> None:
    x = mg.tensor([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
    y = x.softmax(-1).numpy()
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(-1), [1.0, 1.0], rtol=1e-6)


def test_cross_entropy_all_ignored_gives_zero_not_nan() -> None:
    logits = mg.randn(3, 4, requires_grad=True)
    loss = mg.cross_entropy(logits, mg.tensor([-100, -100, -100]))
    assert loss.item() == 0.0
    loss.backward()
    np.testing.assert_array_equal(logits.grad.numpy(), np.zeros((3, 4)))


def test_gelu_exact_matches_math_erf() -> None:
    xs = np.linspace(-8.0, 8.0, 1601)
    y = mg.gelu(mg.tensor(xs, dtype=mg.float64)).numpy()
    expected = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in xs])
    # 1 + erf(x) cancels for x << 0, so both sides carry ~1e-15 absolute noise there
    np.testing.assert_allclose(y, expected, rtol=1e-13, atol=1e-14)


def test_dropout_keeps_expectation_and_is_identity_in_eval() -> None:
    x = mg.ones(200, 200)
    y = mg.dropout(x, 0.25).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    assert mg.dropout(x, 0.25, training=False) is x
    assert (mg.dropout(x, 1.0).numpy() == 0).all()


def test_matmul_2d_fast_path_equals_batched() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5, 3)), rng.standard_normal((3, 2))
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    (ta @ tb).sum().backward()
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(
        tb.grad.numpy(), (a.transpose(0, 2, 1) @ np.ones((4, 5, 2))).sum(0), rtol=1e-12
    )


def test_argmax_argmin_have_no_grad() -> None:
    x = mg.tensor([[1.0, 3.0, 2.0], [4.0, -1.0, 0.0]], requires_grad=True)
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmin(dim=1, keepdim=True).tolist() == [[0], [1]]
    assert x.argmax().item() == 3
    assert x.argmax(1).dtype == mg.int64 and not x.argmax(1).requires_grad


def test_comparisons_give_bool_tensors() -> None:
    x = mg.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == mg.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (~(x <= 2.0)).tolist() == [False, False, True]
    assert ((x > 1.0) & (x < 3.0)).tolist() == [False, True, False]


def test_scalar_ops_do_not_promote_float32() -> None:
    x = mg.ones(2, 2)
    for y in (
        x + 1,
        1 - x,
        x * 2.5,
        2.5 / x,
        x**2,
        2**x,
        mg.maximum(x, 0.5),
        x.masked_fill(x > 0, -1e9),
    ):
        assert y.dtype == mg.float32


def test_cast_is_differentiable() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * mg.tensor([3.0, 4.0], dtype=mg.float64)
    y.sum().backward()
    assert x.grad.dtype == mg.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_row_blocks_on_threads_match_one_block(
    monkeypatch: pytest.MonkeyPatch, op: str, dim: int
) -> None:
    """Large CPU arrays are split into row blocks on threads; force that on a small one."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((5, 4, 3))
    data[1, :, 0] = -math.inf  # a fully masked row along dim 1
    seed = mg.tensor(rng.standard_normal((5, 4, 3)))

    def run() -> tuple[np.ndarray, np.ndarray]:
        x = mg.tensor(data, requires_grad=True)
        y = getattr(x, op)(dim)
        y.backward(seed)
        return y.numpy(), x.grad.numpy()

    whole = run()
    monkeypatch.setattr(mg.backend, "PARALLEL_MIN_SIZE", 1)
    monkeypatch.setenv("MINIGRAD_NUM_THREADS", "3")
    blocks = run()
    np.testing.assert_array_equal(blocks[0], whole[0])
    np.testing.assert_array_equal(blocks[1], whole[1])
    x = mg.tensor(rng.standard_normal((5, 4, 3)), requires_grad=True)
    assert mg.gradcheck(lambda t: getattr(t, op)(dim), x)
