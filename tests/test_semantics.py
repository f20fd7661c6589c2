"""PyTorch's semantics where minigrad has the op (issue 16): each test runs the same program
through minigrad and PyTorch and compares values, gradients, dtypes and errors."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

# -- Tensor.data is a detached tensor sharing the memory ------------------------------------------


def test_data_is_a_detached_tensor_sharing_memory() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d, td = x.data, tx.data
    assert isinstance(d, mg.Tensor)
    assert (d.requires_grad, d.grad_fn, d.is_leaf) == (td.requires_grad, td.grad_fn, td.is_leaf)
    assert np.shares_memory(d.array, x.array)
    d.fill_(5.0)  # allowed: d does not require grad
    td.fill_(5.0)
    np.testing.assert_array_equal(x.numpy(), tx.detach().numpy())
    # the copied idioms: p.data.clone(), target.data.unsqueeze(1)
    assert x.data.clone().shape == (3,) and x.data.unsqueeze(1).shape == (3, 1)
    assert not np.shares_memory(x.data.clone().array, x.array)


def test_data_does_not_share_the_version_counter() -> None:
    for lib in (mg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        z = y.exp()  # saves its output y... and exp's output z
        z.data.fill_(2.0)  # through .data: not seen by autograd, in either library
        z.sum().backward()
        assert x.grad is not None
    # detach() shares it: the same change is seen
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    z = x.exp()
    z.detach().fill_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_data_setter_replaces_the_array_any_shape() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    new, tnew = mg.zeros(3, 2), torch.zeros(3, 2)
    x.data, tx.data = new, tnew
    assert x.shape == tuple(tx.shape) and x.requires_grad and x.is_leaf
    assert x.array is new.array  # no copy, as PyTorch shares the storage
    with pytest.raises(TypeError, match="expected a Tensor"):
        x.data = np.zeros(2)


# -- max(dim) / min(dim) return (values, indices) ------------------------------------------------

TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0], [np.nan, 1.0, np.nan, 0.0]])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize(("dim", "keepdim"), [(0, False), (1, False), (-1, True)])
def test_max_dim_returns_values_and_indices_as_torch(name: str, dim: int, keepdim: bool) -> None:
    x = mg.tensor(TIES, requires_grad=True)
    tx = torch.tensor(TIES, requires_grad=True)
    out = getattr(x, name)(dim, keepdim=keepdim)
    tout = getattr(tx, name)(dim, keepdim=keepdim)
    assert type(out).__name__ == name and out._fields == ("values", "indices")
    values, indices = out  # unpacks like PyTorch's
    np.testing.assert_array_equal(values.numpy(), tout.values.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), tout.indices.numpy())
    assert indices.dtype == mg.int64 and not indices.requires_grad
    # the gradient goes to the returned index only, ties included, as PyTorch
    weights = np.arange(1.0, 1.0 + values.numel()).reshape(values.shape)
    (out.values * mg.tensor(weights)).sum().backward()
    (tout.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_without_dim_amax_and_max_of_two_tensors() -> None:
    x, tx = mg.tensor(TIES[:2], requires_grad=True), torch.tensor(TIES[:2], requires_grad=True)
    assert x.max().shape == () and float(x.max()) == float(tx.detach().max())
    x.amax(1).sum().backward()  # amax splits ties evenly, as torch.amax
    torch.amax(tx, 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    other = mg.tensor([2.5, 0.0, 5.0, -1.0])
    np.testing.assert_array_equal(
        x.max(other).numpy(), tx.detach().max(torch.tensor([2.5, 0.0, 5.0, -1.0])).numpy()
    )
    np.testing.assert_array_equal(mg.min(x, other).numpy(), np.minimum(TIES[:2], other.numpy()))
    with pytest.raises(TypeError, match="amax"):
        x.max((0, 1))
    with pytest.raises(ValueError, match=r"size 0.*\(3, 0\)"):
        mg.ones(3, 0).max(1)


# -- type promotion: PyTorch's table, not NumPy's ------------------------------------------------

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def _operands() -> list[tuple[str, object, object]]:
    """(label, minigrad operand, torch operand): tensors, 0-d tensors and Python scalars."""
    out = []
    for name in DTYPES:
        values = np.array([True, True]) if name == "bool" else np.array([1, 2])
        array = values.astype(name)
        out.append((f"{name}[2]", mg.tensor(array), torch.tensor(array)))
        out.append((f"{name}[]", mg.tensor(array[0]), torch.tensor(array[0])))
    for scalar in (True, 3, 2.5):
        out.append((type(scalar).__name__, scalar, scalar))
    return out


OPERANDS = _operands()
PAIRS = [
    (a, b)
    for a in OPERANDS
    for b in OPERANDS
    if not (a[0] in "boolintfloat" and b[0] in "boolintfloat")
]


def test_result_type_matches_torch_over_every_pair() -> None:
    wrong = []
    for (la, a, ta), (lb, b, tb) in PAIRS:
        expected = str(torch.result_type(ta, tb)).removeprefix("torch.")
        got = mg.promotion.result_type(a, b).name
        if got != expected:
            wrong.append(f"{la} with {lb}: {got}, torch {expected}")
    assert not wrong, wrong


def test_scalar_result_type_is_result_type_of_a_tensor_and_a_python_scalar() -> None:
    # the cached form the binary ops use, against the general rule, for every dtype and rank
    for label, a, _ in OPERANDS:
        if isinstance(a, mg.Tensor):
            for scalar in (True, 3, 2.5):
                got = mg.promotion.scalar_result_type(a.dtype, type(scalar))
                assert got == mg.promotion.result_type(a, scalar), (label, scalar, got)


def test_tensors_result_type_is_result_type_of_two_tensors() -> None:
    # the cached form the binary ops use, against the general rule, for every dtype and rank
    tensors = [(label, a) for label, a, _ in OPERANDS if isinstance(a, mg.Tensor)]
    for la, a in tensors:
        for lb, b in tensors:
            got = mg.promotion.tensors_result_type(a.dtype, a.ndim > 0, b.dtype, b.ndim > 0)
            assert got == mg.promotion.result_type(a, b), (la, lb, got)


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (mg.maximum, torch.maximum),
    "minimum": (mg.minimum, torch.minimum),
    "where": (
        lambda a, b: mg.where(mg.tensor([True, False]), a, b),
        lambda a, b: torch.where(torch.tensor([True, False]), a, b),
    ),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_give_torch_dtypes_and_values(op: str) -> None:
    fn, tfn = BINARY[op]
    wrong, checked = [], 0
    for (la, a, ta), (lb, b, tb) in PAIRS:
        if not isinstance(a, mg.Tensor) and not isinstance(b, mg.Tensor):
            continue
        try:
            expected = tfn(ta, tb)
        except (RuntimeError, TypeError):
            continue  # PyTorch refuses (bool - bool, a scalar in maximum, ...)
        if op != "where" and not (isinstance(a, mg.Tensor) or isinstance(b, mg.Tensor)):
            continue
        got = fn(a, b)
        checked += 1
        if got.dtype.name != str(expected.dtype).removeprefix("torch."):
            wrong.append(f"{la} {op} {lb}: {got.dtype}, torch {expected.dtype}")
        elif not np.allclose(got.numpy().astype(float), expected.numpy().astype(float), rtol=1e-3):
            wrong.append(f"{la} {op} {lb}: {got.numpy()}, torch {expected.numpy()}")
    assert checked > 100 and not wrong, wrong


def test_promotion_in_the_tutorial_idioms_and_gradient_dtypes() -> None:
    d = 8
    div_term = mg.arange(0, d, 2) * -(np.log(10000.0) / d)  # the sinusoidal encoding
    assert div_term.dtype == mg.float32
    assert (mg.tensor([5, 6]) / mg.tensor([1, 2])).dtype == mg.float32
    assert mg.maximum(mg.tensor([1, 2], dtype=mg.int32), mg.tensor(1.5)).dtype == mg.float32
    x = mg.ones(3, requires_grad=True)  # float32
    w = mg.tensor(2.0, dtype=mg.float64, requires_grad=True)  # 0-d float64: the result float32
    y = x * w
    assert y.dtype == mg.float32
    y.sum().backward()
    assert x.grad.dtype == mg.float32 and w.grad.dtype == mg.float64
    assert float(w.grad) == 3.0
    assert (x.clamp(min=0) + mg.tensor([1, 2, 3])).dtype == mg.float32
    assert mg.tensor([1, 5], dtype=mg.uint8).clamp(max=2.5).dtype == mg.float32


def test_uint8_creation_casts_and_comparisons() -> None:
    x = mg.tensor([0, 200, 255], dtype=mg.uint8)
    tx = torch.tensor([0, 200, 255], dtype=torch.uint8)
    assert mg.zeros(2, dtype=mg.uint8).dtype == mg.uint8 == mg.ones_like(x).dtype
    assert x.byte().dtype == mg.uint8 and mg.tensor([1.7, 3.2]).byte().tolist() == [1, 3]
    np.testing.assert_array_equal((x > 100).numpy(), (tx > 100).numpy())
    np.testing.assert_array_equal((x + 1).numpy(), (tx + 1).numpy())  # wraps around in both
    assert (x + 1).dtype == mg.uint8 and (x.float() / 255).dtype == mg.float32
    assert x.type() == "uint8" and x.type(mg.float64).dtype == mg.float64


# -- writing into tensors: __setitem__ and the in-place methods -----------------------------------

X0 = np.array([[0.5, -1.0, 2.0, 3.0], [1.5, 0.25, -2.0, 4.0], [-0.5, 1.0, 0.75, -3.0]])


def _buffer_program(lib):
    t = lib.zeros(3, 4)
    t[0] = 1.0
    t[1, 1:3] = lib.tensor([2.0, 3.0])
    t[:, [0, 3]] = 4.0
    t[t > 3.5] = 5.0
    t.add_(lib.ones(4), alpha=2).sub_(0.5).mul_(lib.tensor(2.0)).div_(3.0)
    t.clamp_(min=1.0, max=4.0).masked_fill_(t > 3.9, -1.0)
    t.index_fill_(1, lib.tensor([2]), 7.0)
    t.scatter_(0, lib.tensor([[2, 0, 1, 0]]), lib.tensor([[9.0, 8.0, 7.0, 6.0]]))
    u = lib.arange(6).reshape(2, 3)
    u[0, 0] = 10
    u.div_(4, rounding_mode="floor")
    u.copy_(lib.tensor([1, 2, 3]))
    return [t, u, lib.zeros(2, 3).fill_(2.5), lib.ones(2).zero_()]


def test_inplace_on_plain_tensors_matches_torch() -> None:
    for got, expected in zip(_buffer_program(mg), _buffer_program(torch)):
        assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


def _graph_program(lib):
    x = lib.tensor(X0, requires_grad=True)
    w = lib.tensor([1.0, -2.0, 0.5, 3.0], requires_grad=True)
    src = lib.tensor([[0.5, -1.5, 2.5, 1.0]], dtype=lib.float64, requires_grad=True)
    y = x * 2
    y.add_(w, alpha=2)
    y.mul_(w)
    y[0, 1:] = w[1:] * 3
    y[:, [0, 2]] = 0.5
    y.clamp_(-5.0, 10.0)
    y.masked_fill_(x.detach() < 0, 1.0)
    y.index_fill_(0, lib.tensor([1]), 2.0)
    y.scatter_(0, lib.tensor([[2, 0, 2, 2]]), src)
    y.sub_(x).div_(2.0)
    z = y.exp()
    (z * z).sum().backward()
    return [y, x.grad, w.grad, src.grad]


def test_inplace_in_the_graph_rebases_history_as_torch() -> None:
    for got, expected in zip(_graph_program(mg), _graph_program(torch)):
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5)


REFUSED = {
    "leaf": lambda lib, x: x.add_(1.0),
    "leaf-setitem": lambda lib, x: x.__setitem__(0, 1.0),
    "leaf-view": lambda lib, x: x[0].mul_(2.0),
    "saved-output": lambda lib, x: _modify_then_backward(x.sigmoid(), lambda a: a.mul_(2.0)),
    "saved-input": lambda lib, x: _modify_then_backward(x * 1.0, lambda a: a.exp() and a),
    "int-gets-float": lambda lib, x: lib.tensor([1, 2]).add_(1.5),
    "setitem-shape": lambda lib, x: lib.zeros(2, 3).__setitem__(0, lib.ones(2)),
}


def _modify_then_backward(a, change):
    out = a.exp() * a  # saves a
    change(a)
    out.sum().backward()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_same_programs_raise_as_in_torch(name: str) -> None:
    program = REFUSED[name]
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        program(torch, torch.tensor(X0, requires_grad=True))
    # minigrad's shape errors are ShapeError (a ValueError) where PyTorch raises RuntimeError
    with pytest.raises(ValueError if name == "setitem-shape" else type(theirs.value)) as ours:
        program(mg, mg.tensor(X0, requires_grad=True))
    shared = {
        "leaf": "a leaf Variable that requires grad is being used in an in-place operation",
        "leaf-setitem": "a leaf Variable that requires grad is being used in an in-place",
        "leaf-view": "a view of a leaf Variable that requires grad is being used in an in-place",
        "saved-output": "modified by an inplace operation",
        "int-gets-float": "can't be cast to the desired output type",
    }.get(name)
    if shared:
        assert shared in str(ours.value) and shared in str(theirs.value)


def test_inplace_under_no_grad_on_a_leaf_and_contiguous() -> None:
    x = mg.tensor(X0, requires_grad=True)
    with mg.no_grad():
        x.mul_(2.0)[0] = 0.0
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    np.testing.assert_array_equal(x.numpy()[1:], 2 * X0[1:])
    assert x.contiguous() is x and x.is_contiguous()
    t = x.T
    assert not t.is_contiguous() and t.contiguous().is_contiguous()
    np.testing.assert_array_equal(t.contiguous().numpy(), t.numpy())


# -- axis= as an alias of dim=; method forms --------------------------------------------------------


AXIS_CALLS = {
    "sum": lambda lib, x, **k: x.sum(keepdim=True, **k),
    "mean": lambda lib, x, **k: lib.mean(x, **k),
    "amax": lambda lib, x, **k: x.amax(**k),
    "max": lambda lib, x, **k: x.max(**k).values,
    "min": lambda lib, x, **k: lib.min(x, **k)[0],
    "var": lambda lib, x, **k: x.var(**k),
    "std": lambda lib, x, **k: lib.std(x, **k),
    "logsumexp": lambda lib, x, **k: x.logsumexp(**k),
    "argmax": lambda lib, x, **k: x.argmax(**k),
    "argmin": lambda lib, x, **k: lib.argmin(x, **k),
    "softmax": lambda lib, x, **k: x.softmax(**k),
    "log_softmax": lambda lib, x, **k: lib.log_softmax(x, **k),
    "unsqueeze": lambda lib, x, **k: x.unsqueeze(**k),
    "squeeze": lambda lib, x, **k: x[:1].squeeze(**k),
    "cat": lambda lib, x, **k: lib.cat([x, x], **k),
    "stack": lambda lib, x, **k: lib.stack([x, x], **k),
    "chunk": lambda lib, x, **k: x.chunk(2, **k)[1],
}


@pytest.mark.parametrize("name", sorted(AXIS_CALLS))
def test_axis_is_an_alias_of_dim(name: str) -> None:
    call = AXIS_CALLS[name]
    x = mg.tensor(X0)
    tx = torch.tensor(X0)
    for k in (0, -1):
        expected = call(torch, tx, axis=k)
        np.testing.assert_allclose(call(mg, x, axis=k).numpy(), expected.numpy(), rtol=1e-6)
        np.testing.assert_allclose(call(mg, x, dim=k).numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(TypeError):
        call(torch, tx, axis=0, dim=0)
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        call(mg, x, axis=0, dim=0)


def test_method_forms_alpha_and_rounding_modes_match_torch() -> None:
    a = np.array([[-7.0, 7.5, 3.0], [-2.5, 0.5, 9.0]])
    b = np.array([2.0, -2.0, 4.0])
    for dtype in ("float64", "int64"):
        x, y = mg.tensor(a.astype(dtype)), mg.tensor(b.astype(dtype))
        tx, ty = torch.tensor(a.astype(dtype)), torch.tensor(b.astype(dtype))
        pairs = [
            (x.add(y, alpha=3), tx.add(ty, alpha=3)),
            (x.sub(y, alpha=2), tx.sub(ty, alpha=2)),
            (mg.add(x, 2, alpha=2), torch.add(tx, 2, alpha=2)),
            (x.mul(y), tx.mul(ty)),
            (x.div(y), tx.div(ty)),
            (x.neg(), tx.neg()),
            (x.pow(2), tx.pow(2)),
            (mg.div(x, y, rounding_mode="trunc"), torch.div(tx, ty, rounding_mode="trunc")),
            (x.div(y, rounding_mode="floor"), tx.div(ty, rounding_mode="floor")),
            (x.div(-3, rounding_mode="floor"), tx.div(-3, rounding_mode="floor")),
        ]
        for got, expected in pairs:
            assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    x = mg.tensor(a, requires_grad=True)
    x.div(3.0, rounding_mode="floor").sum().backward()  # a step function: zero gradient
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(a))
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(2.0, rounding_mode="round")


# -- advanced indexing as PyTorch, against PyTorch over random mixes --------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _indexed(draw):
    """A shape and an index for it: ints, slices, None, one ``...``, int lists and bool masks."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    items, dim, arrays_len = [], 0, draw(st.integers(1, 3))
    used_ellipsis = False
    while dim < len(shape) and draw(st.booleans()) or not items:
        if dim >= len(shape):
            items.append(None)
            break
        n = shape[dim]
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "ints", "mask"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            items.append(slice(start, stop, draw(st.none() | st.integers(1, 3))))
        elif kind == "none":
            items.append(None)
            continue
        elif kind == "ellipsis":
            if used_ellipsis:
                continue
            used_ellipsis = True
            items.append(Ellipsis)
            dim = len(shape) - sum(1 for i in items if i is not None and i is not Ellipsis)
            dim = max(dim, len(shape) - 1)
            continue
        elif kind == "ints":
            items.append(
                draw(st.lists(st.integers(-n, n - 1), min_size=arrays_len, max_size=arrays_len))
            )
        else:
            items.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        dim += 1
    return shape, tuple(items)


def _torch_index(item):
    return torch.tensor(item) if isinstance(item, (list, np.ndarray)) else item


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_indexed())
def test_indexing_matches_torch(case) -> None:
    shape, index = case
    x0 = np.arange(float(np.prod(shape))).reshape(shape)
    tx = torch.tensor(x0, requires_grad=True)
    try:
        expected = tx[tuple(_torch_index(i) for i in index)]
    except (IndexError, RuntimeError, ValueError):
        return  # PyTorch refuses (shape mismatch between index arrays, ...)
    x = mg.tensor(x0, requires_grad=True)
    got = x[tuple(mg.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)]
    assert tuple(got.shape) == tuple(expected.shape), (shape, index)
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    weights = np.arange(1.0, 1.0 + expected.numel()).reshape(tuple(expected.shape))
    (got * mg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


MASK3 = np.array([True, False, True])
NAMED_INDEXES = {
    "int-slice-list": (0, slice(None), [0, 1]),  # (3, 2) as PyTorch; NumPy gives (2, 3)
    "lists-apart": ([0, 1], slice(None), [1, 3]),
    "list-int-list": ([1, 0], 2, [3, 3]),
    "int-mask": (1, MASK3),
    "mask-list": (slice(None), MASK3, [0, 0]),
    "ellipsis-list-none": (Ellipsis, [0, 3, 0], None),
    "none-int-list-repeated": (None, 1, slice(None), [2, 2, 2]),
}


@pytest.mark.parametrize("name", sorted(NAMED_INDEXES))
def test_named_advanced_indexes_match_torch(name: str) -> None:
    index = NAMED_INDEXES[name]
    x0 = np.arange(24.0).reshape(2, 3, 4)
    x, tx = mg.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    got = x[tuple(mg.tensor(i) if isinstance(i, (list, np.ndarray)) else i for i in index)]
    expected = tx[tuple(_torch_index(i) for i in index)]
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    got.exp().sum().backward()
    expected.exp().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_augmented_assignment_is_in_place_as_torch() -> None:
    def program(lib):
        x = lib.tensor(X0, requires_grad=True)
        y = x * 1.0
        alias = y
        y += 1.0
        y *= x
        y -= 0.5
        y /= 2.0
        assert alias is y  # the same tensor, changed in place
        y.sum().backward()
        with pytest.raises(RuntimeError, match="leaf Variable"):
            x += 1.0
        return y, x.grad

    for got, expected in zip(program(mg), program(torch)):
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "shape, index",
    [
        ((1, 1), (None, np.array([False]), None, 0)),  # found by the hypothesis test above
        ((2, 3, 4), (0, slice(None), np.array([True, False, True, True]))),  # values transposed
        ((2, 3, 4), (Ellipsis, 1, np.array([True, False, True, True]))),
        ((2, 3, 4, 5), (np.ones((2, 3), bool), 1, slice(None))),
    ],
)
def test_ints_beside_a_boolean_mask_select_first_as_torch(shape, index):
    x = np.random.default_rng(0).standard_normal(shape)
    t_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    a, t = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a[index].sum().backward()
    t[t_index].sum().backward()
    np.testing.assert_array_equal(a[index].numpy(), t[t_index].detach().numpy())
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    b, u = mg.tensor(x), torch.tensor(x)
    b[index] = 7.0
    u[t_index] = 7.0
    np.testing.assert_array_equal(b.numpy(), u.numpy())
