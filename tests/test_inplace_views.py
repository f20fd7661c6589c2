"""In-place ops on views, against PyTorch (issue 16): the base's history is rebased too.

Writing into a view of a tensor in the graph (``b[0].mul_(2)``, ``b[:, 1] = x``) changes its
base; as PyTorch, the base gets a ``CopySlices`` node and every live view of it a new history
(``minigrad/ops/views.py``). Each program here runs twice, through minigrad and through
PyTorch (``lib`` swapped), in float64, and returns the values and the gradients of every input
(the base's history, the in-place op's operands); both must agree. ``retain_grad()`` follows an
in-place op as in PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.autograd import Function
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

A = np.arange(24.0).reshape(4, 6) / 11.0 - 1.0  # the base's source, (4, 6)
X = np.array([0.5, -1.5, 2.0, 1.25, -0.75, 3.0])  # an operand, (6,)


def _leaves(lib):
    """a (4, 6) and x (6,): leaves that require grad; b = a * 1 is the non-leaf base."""
    a = lib.tensor(A.copy(), dtype=lib.float64, requires_grad=True)
    x = lib.tensor(X.copy(), dtype=lib.float64, requires_grad=True)
    return a, x


def _weights(shape, k):
    """Fixed weights for a loss term, so that every element's gradient differs."""
    return np.random.default_rng(k).uniform(-1.0, 1.0, shape)


def _loss(lib, tensors):
    """A weighted sum over ``tensors`` (each squared too), so every element matters."""
    total = 0.0
    for k, t in enumerate(tensors):
        w = lib.tensor(_weights(tuple(t.shape), k), dtype=lib.float64)
        total = total + (t * w).sum() + (t * t * w).sum()
    return total


# -- programs: each returns (tensors for the loss, inputs whose gradient is compared) ----------


def mul_row(lib):  # the example: b = a * 1; v = b[0]; v.mul_(2)
    a, x = _leaves(lib)
    b = a * 1
    v = b[0]
    v.mul_(2.0)
    return [b, v], [a, x]


def add_column_operand(lib):  # b[:, 1].add_(x): x's gradient too
    a, x = _leaves(lib)
    b = a * 1
    b[:, 1].add_(x[:4], alpha=3.0)
    return [b], [a, x]


def zero_transposed(lib):  # b.t().zero_(), and a row of b.T
    a, x = _leaves(lib)
    b = a * 1
    b.T[2].mul_(x[:4])
    b[:2].t().zero_()
    return [b * x], [a, x]


def masked_fill_slice(lib):
    a, x = _leaves(lib)
    b = a * x
    mask = lib.tensor(A[1:] > 0.2)
    b[1:].masked_fill_(mask, 0.0)
    return [b], [a, x]


def reshape_view(lib):  # b.view(...) and reshape are views of a contiguous base
    a, x = _leaves(lib)
    b = a * 2
    flat = b.reshape(24)
    flat[3:9].mul_(x)
    pairs = b.view(12, 2)
    pairs[:, 0].sub_(x.sum())
    return [b, flat, pairs], [a, x]


def setitem_on_a_view(lib):  # t[idx] = value with a view t, ints, slices and index lists
    a, x = _leaves(lib)
    b = a.sin()
    v = b[1:]
    v[0] = x * 2
    v[1, [0, 2, 5]] = x[:3]
    v[2, 1:4] = 0.5
    return [b, v], [a, x]


def copy_from_a_source(lib):  # copy_'s source gets the gradient of the written elements
    a, x = _leaves(lib)
    src = lib.tensor(X[:4].copy() * 2, dtype=lib.float64, requires_grad=True)
    b = a.cos()
    b[:, 2].copy_(src)
    b[3].copy_(x)
    return [b], [a, x, src]


def method_mix_on_views(lib):  # div_, clamp_, fill_, index_fill_, scatter(_add)_ through views
    a, x = _leaves(lib)
    b = a * 3
    b[0].div_(x)
    b[1:3, 1:5].clamp_(-1.0, 1.5)
    b[2].fill_(0.25)
    b[:, 1:].index_fill_(1, lib.tensor([0, 3]), -2.0)
    b[3].scatter_(0, lib.tensor([4, 1]), x[2:4])
    b[:2].unsqueeze(0).mul_(x.unsqueeze(0))
    b[2:].T.scatter_add_(0, lib.tensor([[1, 4]]), x[:2].reshape(1, 2))
    return [b], [a, x]


def chain_of_views(lib):  # a view of a view; the middle view is read after the write
    a, x = _leaves(lib)
    b = a * 1
    v1 = b[1:]
    v2 = v1[:, ::2]
    v2.mul_(x[:3])
    v3 = v2.T[1]
    v3.add_(x[3:6])
    return [b, v1, v2, v3], [a, x]


def writes_in_a_row(lib):  # several writes, one reading another view of the same base
    a, x = _leaves(lib)
    b = a * 0.5 + 0.25
    v = b[0]
    v.mul_(x).add_(1.0).mul_(v.detach() + 1.0)
    b[1].add_(b[0])
    b[2:].sub_(b[1])
    return [b, v], [a, x]


def base_written_after_the_view(lib):  # an in-place op on the base after a view was written
    a, x = _leaves(lib)
    b = a * 1
    v = b[:, 2]
    v.mul_(x[:4])
    b.add_(x)
    b.mul_(2.0)
    return [v, b], [a, x]


def base_written_with_views_alive(lib):  # views made before an in-place op on their base
    a, x = _leaves(lib)
    b = a * 1
    rows, cols = b[1], b[:, 3]
    b.mul_(x)
    return [rows, cols], [a, x]


def overlapping_sibling(lib):  # a sibling view sharing written elements sees the write
    a, x = _leaves(lib)
    b = a * 1
    col = b[:, 0]
    untouched = b[3, 1:]
    b[0].mul_(x)
    b[1:3].T[0].add_(x[:2])
    return [col, untouched], [a, x]


def operand_is_a_view_of_the_base(lib):  # b[0] += b[1] and overlapping source and target
    a, x = _leaves(lib)
    b = a * x
    b[0].add_(b[1])
    b[1:].add_(b[:-1] + 0.5)  # (b[:-1] * 0.5: minigrad's mul saves b, and refuses)
    return [b], [a, x]


def plain_base_gets_a_history(lib):  # a buffer that requires no grad, written with x
    a, x = _leaves(lib)
    buf = lib.zeros(4, 6, dtype=lib.float64)
    col = buf[:, 5]
    buf[1].copy_(x)
    buf[2:, 1:3] = a[:2, :2] * 2
    return [buf, col], [a, x]


def every_view_op(lib):  # permute, squeeze, unsqueeze, flatten, diagonal, unflatten, transpose
    a, x = _leaves(lib)
    b = (a * 1).reshape(2, 2, 6)
    b.permute(2, 0, 1)[1:3].mul_(2.0)
    b.unsqueeze(1)[:, 0, 1].add_(x)
    b[:1].squeeze(0).transpose(0, 1)[4].mul_(x[:2])
    b.flatten()[5:11].mul_(x)
    b[0].diagonal().add_(x[:2])
    b[1].unflatten(1, (2, 3))[:, 1].mul_(x[:3])
    return [b], [a, x]


def expanded_view_of_a_written_base(lib):  # an expanded view repeats elements of the base
    a, x = _leaves(lib)
    b = a * 1
    e = b[1:3].unsqueeze(0).expand(3, 2, 6)
    b.mul_(x)
    b[2].add_(x)
    return [e, b], [a, x]


def base_not_c_contiguous(lib):  # a * 1 of a transpose keeps its layout: a strided base
    a, x = _leaves(lib)
    b = a.T * 1  # (6, 4), laid out as a's transpose, yet not a view of anything
    # NumPy and PyTorch keep the operand's layout; CuPy writes its results C-ordered
    on_cupy = lib is not torch and lib.get_backend() == "cupy"
    assert not b.is_contiguous() or on_cupy
    b[1].mul_(x[:4])
    b[:, 2].add_(x)
    b[2:4].T.mul_(2.0)
    return [b], [a, x]


def retain_grad_of_written_tensor(lib):  # issue 16: retain_grad carried past the in-place op
    a, x = _leaves(lib)
    y = a * 2
    y.retain_grad()
    y.add_(1.0)
    y.mul_(x)
    return [y], [a, x, y]


def retain_grad_of_base_written_through_a_view(lib):
    a, x = _leaves(lib)
    y = a * 2
    y.retain_grad()
    y[1:, 2].mul_(x[:3])
    return [y.exp()], [a, x, y]


def retain_grad_of_written_view_and_sibling(lib):
    a, x = _leaves(lib)
    b = a * 1
    v, sibling = b[2], b[:, 4]
    v.retain_grad()
    sibling.retain_grad()
    v.mul_(x)
    return [v, sibling], [a, x, v, sibling]


def tensor_values_get_gradients(lib):  # fill_ / masked_fill(_) with a 0-d value tensor
    a, x = _leaves(lib)
    b = a * 1
    b[1].fill_(x[0] * 2)
    b[2:].masked_fill_(lib.tensor(A[2:] > 0), x[1])
    c = b.masked_fill(lib.tensor(A < -0.5), x[2] * x[3])
    buf = lib.zeros(2, 3, dtype=lib.float64)
    buf.fill_(x[4])
    return [b, c, buf], [a, x]


PROGRAMS = [
    tensor_values_get_gradients,
    mul_row,
    add_column_operand,
    zero_transposed,
    masked_fill_slice,
    reshape_view,
    setitem_on_a_view,
    copy_from_a_source,
    method_mix_on_views,
    chain_of_views,
    writes_in_a_row,
    base_written_after_the_view,
    base_written_with_views_alive,
    overlapping_sibling,
    operand_is_a_view_of_the_base,
    plain_base_gets_a_history,
    every_view_op,
    expanded_view_of_a_written_base,
    base_not_c_contiguous,
    retain_grad_of_written_tensor,
    retain_grad_of_base_written_through_a_view,
    retain_grad_of_written_view_and_sibling,
]


def _run(lib, program):
    """Values of the loss's tensors, then each input's gradient (None where it has none)."""
    tensors, inputs = program(lib)
    _loss(lib, tensors).backward()
    values = [t.detach().numpy() for t in tensors]
    return values, [None if t.grad is None else t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_values_and_gradients_match_torch(program):
    (ours, our_grads), (theirs, their_grads) = _run(mg, program), _run(torch, program)
    for k, (got, expected) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=f"value {k}")
    assert len(our_grads) == len(their_grads)
    for k, (got, expected) in enumerate(zip(our_grads, their_grads)):
        assert (got is None) == (expected is None), f"input {k}: {got} vs {expected}"
        if got is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=f"input {k}")


def test_a_write_through_a_view_of_a_0d_base_matches_torch():
    """A 0-d base's CopySlices gets a NumPy scalar as its gradient (b * b's backward): the
    written element's share must still be zeroed (it reached the old base too: 48, not 36)."""
    grads = []
    for lib in (mg, torch):
        a = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        b = a * 1
        b.reshape(1).mul_(3.0)
        b.unsqueeze(0).add_(a)
        (b * b).backward()
        grads.append(a.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_the_base_and_its_views_get_torchs_nodes():
    a, x = _leaves(mg)
    b = a * 1
    col, row = b[:, 0], b[0]
    row.mul_(x)
    assert b.grad_fn.name == "CopySlices" and row.grad_fn.name == "AsStrided"
    assert col.grad_fn.name == "AsStrided" and col.grad_fn.next_functions == (b.grad_fn,)
    assert row._base is b and col._base is b and b._base is None and row[1:]._base is b
    assert b._version == row._version == 1


def test_views_requires_grad_follow_the_base():
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    buf = mg.zeros(4, 6, dtype=mg.float64)
    col, row = buf[:, 0], buf[3]
    assert not col.requires_grad
    buf[0].copy_(x)
    assert buf.requires_grad and col.requires_grad and row.requires_grad
    tx = torch.tensor(X, requires_grad=True)
    tbuf = torch.zeros(4, 6, dtype=torch.float64)
    tcol = tbuf[:, 0]
    tbuf[0].copy_(tx)
    assert tbuf.requires_grad and tcol.requires_grad


def test_retain_grad_keeps_the_gradient_of_the_new_values():
    """The issue's example: ``y.grad`` is the gradient with respect to the new ``y``."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3.0)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * (x.numpy() * 6))  # d/dy y^2 at the new y
    np.testing.assert_allclose(x.grad.numpy(), 2 * 36 * x.numpy())


def _hooked(lib, where):
    """The gradients a hook registered before a write saw (on the written tensor, the base of a
    view written, or a sibling view the loss reads after the write)."""
    a, x = _leaves(lib)
    b = a * 2
    seen = []
    target = {"tensor": b, "base": b, "sibling": b[:, 1]}[where]
    target.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    (b if where == "tensor" else b[0]).mul_(x)
    _loss(lib, [b, target]).backward()
    return seen


@pytest.mark.parametrize("where", ["tensor", "base", "sibling"])
def test_a_hook_registered_before_the_write_stays_with_the_old_values(where):
    ours, theirs = _hooked(mg, where), _hooked(torch, where)
    assert len(ours) == len(theirs) and (where == "sibling") == (not ours)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


# -- refusals, as PyTorch --------------------------------------------------------------------------

REFUSED = {
    "view of a leaf": lambda lib, a, x: a[0].mul_(2.0),
    "view of a view of a leaf": lambda lib, a, x: a.T[1:][0].add_(x[:4]),
    "reshaped leaf": lambda lib, a, x: a.reshape(24)[:6].copy_(x),
    "view made before the base required grad": lambda lib, a, x: _view_then_requires_grad(lib),
    "view made under no_grad": lambda lib, a, x: _no_grad_view(lib, a * 1).mul_(2.0),
    "no_grad view of a leaf": lambda lib, a, x: _no_grad_view(lib, a).mul_(2.0),
    "view of a no_grad view": lambda lib, a, x: _no_grad_view(lib, a * 1)[1:].mul_(2.0),
    "no_grad view of a plain base": lambda lib, a, x: _no_grad_view(lib, lib.zeros(4, 6)).copy_(
        x.float()
    ),
    "saved base changed through a view": lambda lib, a, x: _saved_then_view_written(a * 1, x),
}
SHARED_MESSAGE = {
    "view of a leaf": "a view of a leaf Variable that requires grad is being used in an in-place",
    "view of a view of a leaf": "a view of a leaf Variable that requires grad is being used",
    "reshaped leaf": "a view of a leaf Variable that requires grad is being used in an in-place",
    "view made before the base required grad": "a view of a leaf Variable that requires grad",
    "view made under no_grad": "was created in no_grad mode and is being modified inplace",
    "no_grad view of a leaf": "was created in no_grad mode and is being modified inplace",
    "view of a no_grad view": "created in no_grad mode and is being modified inplace",
    "no_grad view of a plain base": "was created in no_grad mode and is being modified inplace",
    "saved base changed through a view": "modified by an inplace operation",
}


def _no_grad_view(lib, t):
    with lib.no_grad():
        return t[0]


def _view_then_requires_grad(lib):
    b = lib.zeros(4, 6, dtype=lib.float64)
    v = b[:2]
    b.requires_grad_()
    v.mul_(2.0)


def _saved_then_view_written(b, x):
    out = b.sin()  # saves b
    b[1].mul_(x)
    out.sum().backward()


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refuses_as_torch(name):
    program = REFUSED[name]
    with pytest.raises(RuntimeError) as theirs:
        program(torch, *_leaves(torch))
    a, x = _leaves(mg)
    before = a.numpy().copy()
    with pytest.raises(RuntimeError) as ours:
        program(mg, a, x)
    assert SHARED_MESSAGE[name] in str(ours.value) and SHARED_MESSAGE[name] in str(theirs.value)
    np.testing.assert_array_equal(a.numpy(), before)  # refused before anything changed


def test_a_view_whose_base_memory_was_replaced_is_refused_clearly():
    a, x = _leaves(mg)
    b = a * 1
    v = b[0]
    b.data = mg.zeros(4, 6, dtype=mg.float64)  # b no longer holds the memory v views
    with pytest.raises(RuntimeError, match=r"mul_: this view of shape \(6,\) no longer lies"):
        v.mul_(x)


def test_no_grad_writes_through_views_are_not_recorded():
    a, x = _leaves(mg)
    b = a * 1
    node = b.grad_fn
    with mg.no_grad():
        b[0].mul_(2.0)
    assert b.grad_fn is node and b._version == 1
    np.testing.assert_allclose(b.numpy()[0], 2 * A[0])


def test_views_are_rebased_at_once_where_torch_waits_for_grad_fn():
    """README, Differences from PyTorch: a view of a base that gained a history is rebased when
    the base is written; PyTorch rebases it when its grad_fn is read, and until then refuses an
    in-place op on it as on a leaf. minigrad runs, with the gradient PyTorch gives once the
    view's grad_fn was read."""
    results = []
    for lib in (mg, torch):
        x = lib.tensor(X[:4].copy(), dtype=lib.float64, requires_grad=True)
        buf = lib.zeros(3, 4, dtype=lib.float64)
        v = buf[:, ::2]
        buf.add_(x)
        if lib is torch:
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
                v.mul_(2.0)
            _ = v.grad_fn  # reading it rebases the view in PyTorch
        v.mul_(x[:2])
        _loss(lib, [buf]).backward()
        results.append((buf.detach().numpy(), x.grad.numpy()))
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_no_grad_view_stays_a_constant_after_its_base_is_written():
    """README, Differences from PyTorch: PyTorch refuses to use such a view; in minigrad it is a
    constant holding the new values."""
    a, x = _leaves(mg)
    b = a * 1
    with mg.no_grad():
        v = b[0]
    b.mul_(x)
    assert not v.requires_grad and v.grad_fn is None
    np.testing.assert_allclose(v.numpy(), A[0] * X)


def test_split_and_chunk_pieces_are_views_like_slices():
    """PyTorch refuses in-place ops on the outputs of split/chunk/unbind when grad is involved;
    minigrad's pieces are ordinary views (README: Differences from PyTorch), with the gradient
    of the same write through a slice."""
    a, x = _leaves(mg)
    b = a * 1
    b.chunk(2)[1].mul_(x)
    for row in b.split(1):
        row.add_(x)
    _loss(mg, [b]).backward()
    ta, tx = _leaves(torch)
    tb = ta * 1
    tb[2:4].mul_(tx)
    for k in range(4):
        tb[k : k + 1].add_(tx)
    _loss(torch, [tb]).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# -- gradcheck and second derivatives -------------------------------------------------------------


def _written_through_views(a, x):
    b = a.tanh() * 1.5
    b[1:, ::2].mul_(x[:3])
    b.T[4].add_(x[2:] * x[2:])
    v = b[2]
    v.copy_(v + x)
    v[4].mul_(x[1])  # a 0-d view
    b[::-1][0].sub_(b[0])  # a negative step: minigrad allows it (PyTorch does not)
    return (b * b).sum(1) + v.sum()


def test_gradcheck_through_writes_into_views():
    a = mg.tensor(A / 2, dtype=mg.float64, requires_grad=True)
    x = mg.tensor(X / 2, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(_written_through_views, (a, x))


def test_gradgradcheck_through_writes_into_views():
    a = mg.tensor(A[:3, :4] / 2, dtype=mg.float64, requires_grad=True)
    x = mg.tensor(X[:4] / 2, dtype=mg.float64, requires_grad=True)

    def f(a, x):
        b = a * a
        col = b[:, 0]  # alive through the writes: rebased (AsStrided), then read
        b[1].mul_(x)
        b[:, 2].add_(x[:3])
        b[2, 3].mul_(x[0])  # a 0-d view
        return b.sum(0) + b[1] + (col * col).sum()

    assert mg.gradgradcheck(f, (a, x))


class _BadDouble(Function):
    """2 * x with a backward of 3: the wrong node gradcheck(locate=True) must find."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad):
        return 3.0 * grad


def test_locate_checks_copyslices_and_asstrided_against_their_own_forwards():
    """gradcheck(locate=True) replays each node's forward: CopySlices and AsStrided, above the
    wrong node, pass their own check, so the wrong node below them is the one named."""
    a = mg.tensor(A[:3, :4] / 2, dtype=mg.float64, requires_grad=True)
    x = mg.tensor(X[:4] / 2, dtype=mg.float64, requires_grad=True)

    def f(a, x):
        b = _BadDouble.apply(a) * 1.0
        col = b[:, 1]
        b[0].mul_(x)
        b[1:, ::2].add_(x[:2] * x[:2])
        return (b * b).sum() + (col * col).sum()

    with pytest.raises(mg.GradcheckError, match="the backward of _BadDouble is wrong"):
        mg.gradcheck(f, (a, x), locate=True)


# -- the view registry stays small -----------------------------------------------------------------


def test_views_of_a_long_lived_tensor_do_not_pile_up():
    """Each view registers a weak reference with its base's version counter; dead ones are
    dropped as the list grows, so views made in a loop leave it bounded."""
    weight = mg.randn(8, 8)
    x = mg.randn(4, 8, requires_grad=True)
    for _ in range(2000):
        (x @ weight.T).sum()
    assert len(weight._version_counter) < 130
    kept = [weight[k % 8] for k in range(100)]
    for _ in range(300):
        _ = weight.T
    assert len(weight._version_counter) < 260 and all(v._base is weight for v in kept)


# -- a sweep: random chains of views and in-place ops --------------------------------------------

_VIEWS = {
    "row": lambda t: t[1] if t.ndim and t.shape[0] > 1 else t,
    "tail": lambda t: t[1:] if t.ndim else t,
    "every other": lambda t: t[..., ::2] if t.ndim else t,
    "transpose": lambda t: t.transpose(0, -1) if t.ndim else t,
    "unsqueeze": lambda t: t.unsqueeze(0),
    "squeeze": lambda t: t.squeeze(0) if t.ndim and t.shape[0] == 1 else t,
    # a view where the strides allow, else a copy, in both (PyTorch's of a 1-D tensor is itself)
    "flatten": lambda t: t.flatten() if t.ndim != 1 else t,
    "diagonal": lambda t: t.diagonal() if t.ndim >= 2 else t,
    "expand": lambda t: t.unsqueeze(0).expand(2, *t.shape),  # read-only: never written below
}
_WRITES = {
    "mul_": lambda lib, t, o: t.mul_(o),
    "add_": lambda lib, t, o: t.add_(o, alpha=-0.5),
    "sub_": lambda lib, t, o: t.sub_(o * o),
    "div_": lambda lib, t, o: t.div_(o * o + 1.0),
    "copy_": lambda lib, t, o: t.copy_(o),
    "clamp_": lambda lib, t, o: t.clamp_(-0.3, 0.4),
    "masked_fill_": lambda lib, t, o: t.masked_fill_(o.detach() > 0, 0.75),
    "zero_": lambda lib, t, o: t.zero_(),
    "setitem": lambda lib, t, o: t.__setitem__(..., o * 2),
}
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("view"), st.sampled_from(sorted(_VIEWS)), st.integers(0, 20)),
        st.tuples(st.just("write"), st.sampled_from(sorted(_WRITES)), st.integers(0, 20)),
        st.tuples(st.just("retain"), st.just(""), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=6,
)


def _sweep(lib, steps, base_requires_grad):
    a = lib.tensor(A[:3, :4].copy(), dtype=lib.float64, requires_grad=True)
    operands = []
    b = a * 1 if base_requires_grad else lib.zeros(3, 4, dtype=lib.float64)
    tensors, expanded = [b], [False]
    retained = []
    for kind, name, k in steps:
        i = k % len(tensors)
        t = tensors[i]
        if kind == "write" and expanded[i]:
            continue  # minigrad refuses writes into (views of) expanded views; PyTorch may not
        # PyTorch gives a view its new history (after a write into its base) when its grad_fn is
        # read; its in-place check and retain_grad() do not read it, and take a view of a base
        # that gained a history since for a leaf (refusing the write, ignoring retain_grad)
        _ = t.grad_fn
        if kind == "retain":
            if t.requires_grad and all(t is not r for r in retained):
                t.retain_grad()
                retained.append(t)
            continue
        if kind == "view":
            tensors.append(_VIEWS[name](t))
            expanded.append(expanded[i] or name == "expand")
            continue
        values = np.random.default_rng(k).uniform(-1.0, 1.0, tuple(t.shape))
        o = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        operands.append(o)
        _WRITES[name](lib, t, o * a.sum() if base_requires_grad else o)
    loss = _loss(lib, tensors)
    if loss.requires_grad:
        loss.backward()
    grads = [None if t.grad is None else t.grad.numpy() for t in [a, *operands, *retained]]
    return [t.detach().numpy() for t in tensors], grads


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_STEPS, st.booleans())
def test_sweep_of_views_and_writes_matches_torch(steps, base_requires_grad):
    ours, our_grads = _sweep(mg, steps, base_requires_grad)
    theirs, their_grads = _sweep(torch, steps, base_requires_grad)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=str(steps))
    for got, expected in zip(our_grads, their_grads):
        assert (got is None) == (expected is None), steps
        if got is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=str(steps))


def test_t_transposes_a_matrix_as_a_view_as_torch():
    for shape in [(), (4,), (2, 3)]:
        values = np.arange(float(np.prod(shape))).reshape(shape)
        ours, theirs = mg.tensor(values).t(), torch.tensor(values).t()
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours._base is not None
    with pytest.raises(
        RuntimeError, match=r"<= 2 dimensions, but self is 3D \(shape \(1, 2, 3\)\)"
    ):
        mg.zeros(1, 2, 3).t()
    with pytest.raises(RuntimeError, match="<= 2 dimensions, but self is 3D"):
        torch.zeros(1, 2, 3).t()


def test_diagonal_is_a_view_and_diag_a_copy_as_torch():
    for lib in (mg, torch):
        m = lib.zeros(3, 3, dtype=lib.float64)
        m.diagonal().add_(1.0)
        lib.diag(m).add_(5.0)  # a copy: m does not change
        m.diagonal(1).fill_(2.0)
        m[1, 2].mul_(3.0)  # an all-int index: a 0-d view
        assert m._base is None and m.diagonal()._base is m and lib.diag(m)._base is None
        np.testing.assert_array_equal(
            m.numpy(), [[1.0, 2.0, 0.0], [0.0, 1.0, 6.0], [0.0, 0.0, 1.0]]
        )


def test_a_hook_on_a_view_written_in_place_sees_its_old_values_gradient():
    """docs/guide/differences.md: PyTorch drops such a hook; minigrad calls it, as for any
    tensor written in place, with the gradient of the values before the write."""
    a = mg.ones(2, 3, dtype=mg.float64, requires_grad=True)
    b = a * 1
    v = b[0]
    seen = []
    v.register_hook(lambda g: seen.append(g.numpy().copy()))
    v.mul_(3.0)
    (b * b).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 18.0 * np.ones(3))  # d (3 v)^2 / dv at v = 1


def test_an_operand_overlapping_the_written_view_is_read_before_the_write():
    """docs/guide/differences.md: PyTorch refuses these; minigrad gives what PyTorch gives for
    the operand cloned first."""
    for write in (
        lambda target, operand: target.__setitem__(..., operand),
        lambda target, operand: target.add_(operand),
        lambda target, operand: target.clamp_(min=operand),
    ):
        ours = mg.tensor(np.arange(6.0) ** 2)
        theirs = torch.tensor(np.arange(6.0) ** 2)
        write(ours[1:], ours[:-1])
        write(theirs[1:], theirs.clone()[:-1])
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_augmented_floor_division_remainder_and_power_write_in_place_as_torch():
    """``t //= x``, ``t %= x`` and ``t **= x`` write into ``t`` (a view's base sees it); without
    ``__ifloordiv__`` and the rest Python rebound ``t`` to a new tensor."""
    results = []
    for lib in (mg, torch):
        a, x = _leaves(lib)
        b = a * 4
        w, u = b[1:3, ::2], b[3]
        w %= 0.7
        u **= 2
        _loss(lib, [b, u]).backward()
        floats = lib.tensor(A * 4)  # PyTorch has no gradient for floor_divide_
        view = floats[0]
        view //= x.detach() + 3.0
        ints = lib.tensor([7, -7, 9])
        view = ints[:2]
        view //= 2
        results.append((b.detach().numpy(), a.grad.numpy(), floats.numpy(), ints.numpy()))
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
