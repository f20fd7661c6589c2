"""Regression tests for wrong results a differential hunt against PyTorch found: edge cases
and combinations the registry and the fuzz (tests/test_fuzz.py) did not reach (dtype promotion
with 0-d tensors, bool scalar indices, unsigned sums, NaN in full reductions, ...). Each test
compares minigrad with PyTorch on the input that exposed the bug."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import nn.functional as F  # noqa: N812 (the PyTorch convention)

torch = pytest.importorskip("torch")


def _same(ours, theirs, rtol: float = 1e-12, atol: float = 0.0) -> None:
    theirs = theirs.detach()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol, equal_nan=True)


def _indexed_leaves(x, ours, theirs):
    """minigrad's and torch's leaves holding ``x``, once ``x[index]`` is checked to agree."""
    a, b = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    _same(a[ours], b[theirs])
    return a, b


# =============================================================================================
# Dtype promotion
# =============================================================================================


@pytest.mark.parametrize(
    ("left", "right"),
    [("int32", "int64"), ("uint8", "int32"), ("uint8", "int64"), ("int64", "int32")],
)
def test_integer_floor_divide_by_a_0d_tensor_keeps_the_tensor_dtype(left, right):
    # a 0-d tensor of the same category does not widen the result (NumPy's floor_divide did)
    a = np.array([[7, 0, 3], [9, 5, 6]], dtype=left)
    b = np.array(2, dtype=right)
    _same(mg.tensor(a) // mg.tensor(b), torch.tensor(a) // torch.tensor(b))
    _same(mg.tensor(b) // mg.tensor(a + 1), torch.tensor(b) // torch.tensor(a + 1))
    _same(
        mg.floor_divide(mg.tensor(a), mg.tensor(b)),
        torch.floor_divide(torch.tensor(a), torch.tensor(b)),
    )


# =============================================================================================
# Indexing
# =============================================================================================


def _bool_indices(mod):
    """Indices holding Python bools (0-d masks in PyTorch), alone and beside other indices."""
    t = mod.tensor
    return [
        True,
        False,
        (0, True),
        (True, 0),
        (True, True),
        (slice(None), True),
        (True, t(np.array([1, 0]))),
        (t(np.array([1, 0])), True),
        (None, True, 1),
        (Ellipsis, True),
        (t(np.array([True, False])), True),
        (1, True, slice(0, 2), t(np.array([0, 3]))),
    ]


@pytest.mark.parametrize("case", range(12))
def test_python_bool_index_gets_and_sets_as_torch(case):
    x = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = _bool_indices(mg)[case], _bool_indices(torch)[case]
    a, b = _indexed_leaves(x, ours, theirs)
    value = np.random.default_rng(case).standard_normal(tuple(b[theirs].shape))
    va = mg.tensor(value, requires_grad=True)
    vb = torch.tensor(value, requires_grad=True)
    a2, b2 = a * 1.0, b * 1.0
    a2[ours] = va  # was a silent no-op for x[True] = v (NumPy wrote into a copy)
    b2[theirs] = vb
    _same(a2, b2)
    weights = np.random.default_rng(7).standard_normal(x.shape)
    (a2 * mg.tensor(weights)).sum().backward()
    (b2 * torch.tensor(weights)).sum().backward()
    _same(a.grad, b.grad)
    if vb.grad is None:  # PyTorch's x[False] = v skips v (an empty value)
        assert va.grad is None or va.grad.numel() == 0
    else:
        _same(va.grad, vb.grad)
    a3, b3 = a.detach() * 1.0, b.detach() * 1.0
    a3[ours] = -1.0
    b3[theirs] = -1.0
    _same(a3, b3)


def test_uint8_index_is_a_mask_as_torch():
    x = np.arange(12.0).reshape(4, 3)
    mask = np.array([1, 0, 1, 1], dtype=np.uint8)
    with pytest.warns(UserWarning):  # PyTorch deprecates it, but still reads a mask
        expected = torch.tensor(x)[torch.tensor(mask)]
    _same(mg.tensor(x)[mg.tensor(mask)], expected)


# =============================================================================================
# Reductions
# =============================================================================================


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
def test_sum_of_uint8_is_int64_as_torch(dim):
    a = np.array([[200, 100, 1], [255, 0, 7]], dtype=np.uint8)
    _same(mg.tensor(a).sum(dim=dim), torch.tensor(a).sum(dim=dim))
    _same(mg.tensor(a).sum(dim=dim, keepdim=True), torch.tensor(a).sum(dim=dim, keepdim=True))


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_full_max_min_gradient_with_nan_as_torch(name, create_graph):
    # max() / min() send a NaN result's gradient to the NaNs, split evenly (PyTorch's
    # evenly_distribute_backward); amax / amin give NaN gradients: minigrad gave NaN for both
    nan = float("nan")
    values = np.array([[1.0, nan, 3.0, nan], [1.0, 2.0, 3.0, 3.0]])
    a = mg.tensor(values, requires_grad=True)
    b = torch.tensor(values, requires_grad=True)
    (ga,) = mg.grad(getattr(a, name)() * 2.0, a, create_graph=create_graph)
    (gb,) = torch.autograd.grad(getattr(b, name)() * 2.0, b, create_graph=create_graph)
    _same(ga, gb)


# =============================================================================================
# Filling with Python numbers
# =============================================================================================


def test_masked_fill_of_a_bool_tensor_stays_bool_as_torch():
    # NumPy's where(mask, 2, bools) is int64; PyTorch casts the value to the tensor's dtype
    values, mask = np.array([True, False, False]), np.array([False, True, False])
    for value in (2, -1, 0, True):
        _same(
            mg.tensor(values).masked_fill(mg.tensor(mask), value),
            torch.tensor(values).masked_fill(torch.tensor(mask), value),
        )
        ours, theirs = mg.tensor(values), torch.tensor(values)
        ours.masked_fill_(mg.tensor(mask), value)  # raised: "int64 can't be cast to bool"
        theirs.masked_fill_(torch.tensor(mask), value)
        _same(ours, theirs)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, m: x.masked_fill(m, 2**40),
        lambda lib, x, m: lib.where(m, x, 2**40),
        lambda lib, x, m: lib.where(m, -(2**40), x),
    ],
)
def test_an_int_too_large_for_the_dtype_raises_as_torch(call):
    # NumPy's where wrapped 2**40 around to 0 in an int32 result, silently
    x = np.array([1, 2, 3], dtype=np.int32)
    mask = np.array([True, False, True])
    with pytest.raises(RuntimeError, match="overflow"):
        call(torch, torch.tensor(x), torch.tensor(mask))
    with pytest.raises(OverflowError, match=r"(masked_fill|where): .* out of bounds for int32"):
        call(mg, mg.tensor(x), mg.tensor(mask))


def test_where_with_an_int_in_range_keeps_the_integer_dtype_as_torch():
    x = np.array([1, 2, 3], dtype=np.int32)
    mask = np.array([True, False, True])
    for a, b in [(x, 5), (-7, x), (x.astype(np.uint8), 200)]:
        ours = [mg.tensor(v) if isinstance(v, np.ndarray) else v for v in (a, b)]
        theirs = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in (a, b)]
        _same(mg.where(mg.tensor(mask), *ours), torch.where(torch.tensor(mask), *theirs))


# =============================================================================================
# float16 accumulates in float32
# =============================================================================================


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("sum", (0,), {}),
        ("sum", (), {}),
        ("mean", (0,), {"keepdim": True}),
        ("mean", (), {}),
        ("var", (0,), {}),
        ("std", (0,), {"correction": 0}),
        ("logsumexp", (0,), {}),
        ("cumsum", (0,), {}),
    ],
)
def test_float16_reductions_accumulate_in_float32_as_torch(name, args, kwargs):
    # NumPy adds down a strided axis in float16, where 2048 + 1 rounds to 2048: 5000 ones
    # summed to 2048, their mean was 0.41 and their variance 0.2
    values = np.random.default_rng(0).uniform(0.5, 1.5, (5000, 3)).astype(np.float16)
    a = mg.tensor(values, requires_grad=True)
    b = torch.tensor(values, requires_grad=True)
    ours, theirs = getattr(a, name)(*args, **kwargs), getattr(b, name)(*args, **kwargs)
    _same(ours, theirs, rtol=2e-3)
    weights = np.linspace(0.5, 1.5, ours.numel()).reshape(ours.shape).astype(np.float16)
    ours.backward(mg.tensor(weights))  # (a float16 sum of the cumsum's output overflows)
    theirs.backward(torch.tensor(weights))
    # a few float16 ulps apart (PyTorch rounds its backward's steps to float16), and the
    # gradients near 1e-5 are subnormal: compared against the largest one
    _same(a.grad, b.grad, rtol=1e-2, atol=2e-3 * float(b.grad.abs().max()))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, b: (x + b).sum(),  # the engine sums b's gradient over the broadcast rows
        lambda lib, x, b: (x * b).sum(),
        lambda lib, x, b: b.expand(x.shape).sum(),
        lambda lib, x, b: (
            (mg if lib is mg else torch.nn.functional)
            .linear(x, lib.ones((3, 3), dtype=lib.float16), b)
            .sum()
        ),
    ],
)
def test_float16_gradients_summed_over_rows_add_in_float32_as_torch(call):
    x = np.ones((5000, 3), dtype=np.float16)
    bias = np.ones(3, dtype=np.float16)
    ours = mg.tensor(bias, requires_grad=True)
    theirs = torch.tensor(bias, requires_grad=True)
    call(mg, mg.tensor(x), ours).backward()
    call(torch, torch.tensor(x), theirs).backward()
    _same(ours.grad, theirs.grad, rtol=1e-3)  # was 2048 where PyTorch gives 5000


# =============================================================================================
# Return values
# =============================================================================================


@pytest.mark.parametrize("leaf", [True, False])
def test_register_hook_returns_a_handle_with_remove_as_torch(leaf):
    results = []
    for lib in (mg, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        target = a if leaf else a * 1.0
        handle = target.register_hook(lambda g: g * 100)
        handle.remove()  # minigrad returned a bare function: AttributeError
        (target * 3).sum().backward()
        results.append(a.grad)
    _same(*results)
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = a.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    handle.remove()
    (a * 3).sum().backward()
    assert seen == []
    remove = a.register_hook(lambda g: g * 100)
    remove()  # calling the handle removes the hook too (minigrad's earlier spelling)
    (a * 3).sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


def _mixed_indices(mod):
    """Indices holding a 0-d integer tensor (an int in PyTorch) or an Ellipsis over no dims
    between arrays, each beside other indices."""
    t = mod.tensor
    return [
        (t(1), slice(None), t(np.array([0, 3]))),  # mg put the array's dim first: (2, 4)
        (t(2), None, [2, 0]),
        (t(-1), Ellipsis, t(np.array([3]))),
        (slice(None), t(np.array(0)), t(np.array([[1], [2]]))),
        (t(0), t(np.array([True, False, True, True]))),
        (slice(0, 2, 2), t(np.ones(4, dtype=bool)), Ellipsis, t(np.array([[-4], [-2]]))),
        (t(np.array([0, 2])), Ellipsis, t(np.array([1, 1])), slice(None)),
    ]


@pytest.mark.parametrize("case", range(7))
def test_0d_int_tensor_and_empty_ellipsis_in_an_index_as_torch(case):
    x = np.arange(60.0).reshape(3, 4, 5)
    ours, theirs = _mixed_indices(mg)[case], _mixed_indices(torch)[case]
    a, b = _indexed_leaves(x, ours, theirs)
    weights = np.linspace(-1.0, 1.0, b[theirs].numel()).reshape(tuple(b[theirs].shape))
    (a[ours] * mg.tensor(weights)).sum().backward()
    (b[theirs] * torch.tensor(weights)).sum().backward()
    _same(a.grad, b.grad)
    a2, b2 = mg.tensor(x), torch.tensor(x)
    a2[ours] = mg.tensor(weights)
    b2[theirs] = torch.tensor(weights)
    _same(a2, b2)


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("dim", [None, 0, -1])
def test_any_all_of_uint8_answer_in_uint8_as_torch(name, dim):
    a = np.array([[0, 3, 1], [2, 0, 0]], dtype=np.uint8)
    kwargs = {} if dim is None else {"dim": dim}
    _same(getattr(mg.tensor(a), name)(**kwargs), getattr(torch.tensor(a), name)(**kwargs))
    _same(getattr(mg.tensor(a > 0), name)(**kwargs), getattr(torch.tensor(a > 0), name)(**kwargs))


def _half_cases(lib):
    functional = F if lib is mg else torch.nn.functional
    ids = lib.tensor(np.zeros((5000, 3), dtype=np.int64))
    return [
        lambda x, y: functional.normalize(x, dim=0),
        lambda x, y: functional.rms_norm(x, (3,), y[0], eps=1e-6),
        lambda x, y: lib.einsum("ij,ij->j", x, y),
        lambda x, y: x[:2].scatter_add(0, ids, y),
        lambda x, y: x[:2].index_add(0, ids[:, 0], y),
        lambda x, y: x.gather(0, ids),
        lambda x, y: (mg.attention if lib is mg else functional.scaled_dot_product_attention)(
            x[None, :4], x[None], y[None]
        ),
    ]


def _close_to(ours, reference, what: str) -> None:
    """A float16 result within float16 rounding (relative to its largest element) of the
    float64 reference."""
    reference = reference.detach().numpy()
    scale = float(np.abs(reference).max())
    assert str(ours.dtype) == "float16", what
    np.testing.assert_allclose(ours.numpy().astype(np.float64), reference, atol=4e-3 * scale)


@pytest.mark.parametrize("case", range(7))
def test_float16_ops_that_add_many_terms_add_in_float32_as_torch(case):
    # NumPy's float16 sums stop growing at 2048 (2048 + 1 rounds to 2048); PyTorch adds in
    # float32: these were off by up to 30% over 5000 terms (checked here against float64)
    rng = np.random.default_rng(case)
    values = [rng.uniform(0.5, 1.5, (5000, 3)).astype(np.float16) for _ in range(2)]
    ours = [mg.tensor(v, requires_grad=True) for v in values]
    exact = [torch.tensor(v.astype(np.float64), requires_grad=True) for v in values]
    out_ours, out_exact = _half_cases(mg)[case](*ours), _half_cases(torch)[case](*exact)
    _close_to(out_ours, out_exact, "output")
    weights = np.linspace(0.5, 1.5, out_exact.numel()).reshape(tuple(out_exact.shape))
    out_ours.backward(mg.tensor(weights.astype(np.float16)))
    out_exact.backward(torch.tensor(weights))
    for a, b in zip(ours, exact):
        if b.grad is not None:
            _close_to(a.grad, b.grad, "gradient")


def test_float16_rms_norm_default_eps_is_float32s_as_torch():
    # computed in float32, PyTorch's eps=None is float32's epsilon; float16's (1e-3) swamped
    # mean(x^2) of small rows (1.47 off for values near 0.01)
    x = np.random.default_rng(0).normal(0.0, 0.01, (4, 6)).astype(np.float16)
    ours = F.rms_norm(mg.tensor(x), (6,))
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), (6,))
    _close_to(ours, theirs.double(), "output")


# =============================================================================================
# Gradients
# =============================================================================================


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_target_gets_its_gradient_as_torch(
    shape, reduction, label_smoothing
):
    # the fused op gave a probability target that requires grad no gradient (None)
    rng = np.random.default_rng(len(shape))
    logits = rng.standard_normal(shape)
    probs = rng.random(shape)
    probs /= probs.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    grads = []
    for lib, functional in ((mg, F), (torch, torch.nn.functional)):
        x = lib.tensor(logits, requires_grad=True)
        p = lib.tensor(probs, requires_grad=True)
        loss = functional.cross_entropy(x, p, reduction=reduction, label_smoothing=label_smoothing)
        weights = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape))
        loss.backward(lib.tensor(weights))
        grads.append((loss, x.grad, p.grad))
    for ours, theirs in zip(*grads):
        _same(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda t: t.transpose(0, 1), (-1,)),
        (lambda t: t[:, 1:], (-1,)),
        (lambda t: t[:, :, ::2], (12,)),
        (lambda t: t.permute(2, 0, 1), (6, 4)),
        (lambda t: t[1:], (12,)),  # these three are views in PyTorch too
        (lambda t: t[:, :, ::2], (2, 3, 2)),
        (lambda t: t.transpose(1, 2), (2, 4, 3)),
    ],
)
def test_view_shares_memory_or_refuses_as_torch(make, shape):
    # view was reshape: where the memory did not allow it, a silent copy, so a write into the
    # "view" never reached the tensor; PyTorch raises
    x = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = mg.tensor(x), torch.tensor(x)
    try:
        expected = make(theirs).view(*shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="view"):
            make(ours).view(*shape)
        return
    got = make(ours).view(*shape)
    got.reshape(-1)[0] = -1.0
    expected.reshape(-1)[0] = -1.0
    _same(got, expected)
    _same(ours, theirs)  # the write reached the tensor


def test_numpy_asarray_of_a_tensor_is_its_values_as_torch():
    # without __array__, NumPy iterated the tensor: an object array of 0-d tensors
    values = np.array([[1.5, 2.0], [3.0, -4.0]], dtype=np.float32)
    for lib in (mg, torch):
        got = np.asarray(lib.tensor(values))
        assert got.dtype == np.float32 and got.shape == (2, 2)
        np.testing.assert_array_equal(got, values)
    assert np.asarray(mg.tensor([1, 2])).dtype == np.int64
    assert np.array(mg.tensor(values), dtype=np.float64).dtype == np.float64
    # NumPy operands still defer to the tensor's operators (a Tensor, with its graph)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    out = np.ones(2) * x
    assert isinstance(out, mg.Tensor) and out.requires_grad


@pytest.mark.filterwarnings("ignore:__array__ implementation")  # torch's, not ours
def test_numpy_array_of_a_tensor_copies_as_torch():
    # np.array(t) passes copy=True: a write into the result must not reach the tensor
    for lib in (mg, torch):
        t = lib.tensor([1.0, 2.0])
        np.array(t)[0] = 5.0
        np.array(t, dtype=np.float64)[1] = 7.0
        assert t.tolist() == [1.0, 2.0]
    t = mg.tensor([1.0, 2.0])
    assert np.array(t, copy=False) is t.array  # no copy asked: none made
    with pytest.raises(ValueError, match="float32 tensor on cpu .* dtype float64"):
        np.array(t, dtype=np.float64, copy=False)
