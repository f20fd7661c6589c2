"""Review r12: indexing, scatter/gather and in-place semantics against PyTorch.

Each case runs one program through minigrad and through PyTorch (``lib`` swapped) in float64.
The bugs this file pins down, each failing before its fix:

- an index tensor changed in place between the forward and the backward moved the gradient
  to its new positions without a word (the ops kept the index's array itself, not a copy);
  PyTorch's nodes save the index and raise the version-counter error, and so does minigrad
  now (``minigrad.inplace.note_index_tensors``). ``take_along_dim`` with a ``dim`` reads a
  copy in PyTorch, so its gradient stays right: minigrad's now too.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import torch

pytestmark = pytest.mark.skipif(torch is None, reason="torch is not installed")

X = np.array([1.0, 2.0, 3.0, 4.0])
G = np.array([1.0, 2.0])  # the gradient sent into two picked elements


def _zeros(lib):
    return lib.zeros(4, dtype=lib.float64)


def _setitem(y, key, value):
    y[key] = value
    return y


# (name, program(lib, x, index) -> output, whether the index is a bool mask)
INDEXED_OPS = [
    ("getitem", lambda lib, x, i: x[i], False),
    ("getitem-tuple", lambda lib, x, i: x[(i,)], False),
    ("index_select", lambda lib, x, i: x.index_select(0, i), False),
    ("gather", lambda lib, x, i: x.gather(0, i), False),
    ("take", lambda lib, x, i: x.take(i), False),
    ("scatter", lambda lib, x, i: _zeros(lib).scatter(0, i, x[:2]), False),
    ("scatter-value", lambda lib, x, i: x.scatter(0, i, 0.0), False),
    ("scatter_add", lambda lib, x, i: _zeros(lib).scatter_add(0, i, x[:2]), False),
    (
        "scatter_reduce-mean",
        lambda lib, x, i: _zeros(lib).scatter_reduce(0, i, x[:2], "mean", include_self=False),
        False,
    ),
    ("scatter_reduce-prod", lambda lib, x, i: x.scatter_reduce(0, i, x[2:] * 1, "prod"), False),
    ("scatter_reduce-amax", lambda lib, x, i: x.scatter_reduce(0, i, x[2:] * 1, "amax"), False),
    ("index_add", lambda lib, x, i: _zeros(lib).index_add(0, i, x[:2]), False),
    ("index_copy", lambda lib, x, i: _zeros(lib).index_copy(0, i, x[:2]), False),
    ("index_fill", lambda lib, x, i: x.index_fill(0, i, 0.0), False),
    ("index_put", lambda lib, x, i: _zeros(lib).index_put((i,), x[2:] * 1), False),
    (
        "index_put-accumulate",
        lambda lib, x, i: _zeros(lib).index_put((i,), x[2:] * 1, accumulate=True),
        False,
    ),
    ("setitem", lambda lib, x, i: _setitem(x * 1, i, 0.0), False),
    ("setitem-value", lambda lib, x, i: _setitem(_zeros(lib), i, x[2:] * 1), False),
    ("take_along_dim-flat", lambda lib, x, i: lib.take_along_dim(x, i), False),
    ("getitem-mask", lambda lib, x, m: x[m], True),
    ("masked_select", lambda lib, x, m: x.masked_select(m), True),
    ("masked_scatter", lambda lib, x, m: _zeros(lib).masked_scatter(m, x), True),
    (
        "masked_scatter-broadcast",
        lambda lib, x, m: lib.zeros(2, 4, dtype=lib.float64).masked_scatter(m, x.repeat(2)),
        True,
    ),
    ("setitem-mask", lambda lib, x, m: _setitem(x * 1, m, 0.0), True),
    (
        "index_put-mask",
        lambda lib, x, m: x.index_put((m,), lib.tensor(0.0, dtype=lib.float64)),
        True,
    ),
]


def _run_with_index_changed(lib, program, mask):
    """Run ``program`` with a fresh index, change the index in place, then backward: the
    input's gradient, or the RuntimeError's message."""
    x = lib.tensor(X.copy(), dtype=lib.float64, requires_grad=True)
    index = lib.tensor([True, False, True, False]) if mask else lib.tensor([0, 1])
    out = program(lib, x, index)
    if mask:
        index.logical_not_()
    else:
        index.add_(1)
    weights = lib.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))
    try:
        out.backward(weights)
    except RuntimeError as err:
        return str(err)
    return x.grad.numpy()


@pytest.mark.parametrize("name,program,mask", INDEXED_OPS, ids=[c[0] for c in INDEXED_OPS])
def test_an_index_changed_in_place_before_backward_raises_as_in_pytorch(name, program, mask):
    theirs = _run_with_index_changed(torch, program, mask)
    assert isinstance(theirs, str) and "modified by an inplace operation" in theirs
    ours = _run_with_index_changed(mg, program, mask)
    assert isinstance(ours, str), f"{name}: the gradient went to the new positions: {ours}"
    assert "modified by an inplace operation" in ours
    assert "is at version 1; expected version 0" in ours


def test_the_error_names_the_index_and_the_op_that_used_it():
    x = mg.tensor(X.copy(), requires_grad=True)
    ids = mg.tensor([[0, 3]])
    out = x.gather(0, ids.reshape(-1))
    ids.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"\[int64 tensor of shape \(2,\)\], used as an index by "
        r"Gather, is at version 1; expected version 0",
    ):
        out.sum().backward()


def test_an_index_changed_after_the_backward_or_a_0d_index_changed_is_fine():
    x = mg.tensor(X.copy(), requires_grad=True)
    ids = mg.tensor([0, 1])
    out = x[ids]
    out.backward(mg.tensor(G))
    ids.add_(1)  # after the backward: nothing left to read it
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 0.0, 0.0])
    # a 0-d index tensor is read as a number at the forward, as PyTorch's
    for lib in (mg, torch):
        y = lib.tensor(X.copy(), dtype=lib.float64, requires_grad=True)
        i = lib.tensor(1)
        z = y[i] * 3
        i.add_(1)
        z.backward()
        np.testing.assert_array_equal(y.grad.numpy(), [0.0, 3.0, 0.0, 0.0])


@pytest.mark.parametrize("dim", [0, -1])
def test_take_along_dim_reads_a_copy_of_indices_as_pytorch(dim):
    """PyTorch's ``take_along_dim`` with a ``dim`` gathers at a copy: changing ``indices`` after
    the forward leaves the gradient at the original positions (no error)."""
    grads = []
    for lib in (torch, mg):
        x = lib.tensor(X.copy().reshape(2, 2), dtype=lib.float64, requires_grad=True)
        ids = lib.tensor([[0, 1]])
        out = lib.take_along_dim(x, ids, dim)
        ids.add_(1)
        weights = np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape))
        out.backward(lib.tensor(weights, dtype=lib.float64))
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def _twin(program):
    """``program(lib, leaves) -> output`` run through both libraries on float64 leaves made from
    ``LEAVES``: the outputs and the leaves' gradients (of a weighted sum of the output)."""
    results = []
    for lib in (torch, mg):
        leaves = [lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True) for a in LEAVES]
        out = program(lib, leaves)
        weights = np.random.default_rng(0).uniform(-1.0, 1.0, tuple(out.shape))
        (out * lib.tensor(weights, dtype=lib.float64)).sum().backward()
        results.append((out.detach().numpy(), [_grad(t) for t in leaves]))
    (theirs, their_grads), (ours, our_grads) = results
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for mine, their in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, their, rtol=1e-12)


def _grad(leaf):
    return np.zeros(tuple(leaf.shape)) if leaf.grad is None else leaf.grad.numpy()


LEAVES = [np.arange(12.0).reshape(3, 4) / 5.0 - 1.0, np.array(0.25), np.arange(3.0)]
MASK = np.array([[[True, False, True, False]], [[False, False, True, True]]])  # (2, 1, 4)


def test_masked_fill_broadcasts_the_tensor_to_the_masks_shape_as_pytorch():
    """A mask with more dims (or larger ones) than the tensor: PyTorch's out-of-place
    masked_fill broadcasts the tensor, giving the broadcast shape; minigrad refused it."""
    _twin(lambda lib, t: t[0].masked_fill(lib.tensor(MASK), 0.5))  # (3, 4) -> (2, 3, 4)
    _twin(lambda lib, t: t[0].masked_fill(lib.tensor(MASK), t[1]))  # a 0-d tensor value
    _twin(lambda lib, t: t[2][:, None].masked_fill(lib.tensor(MASK[0, 0]), -1.0))  # (3,1) (4,)


NAN_X = np.array([1.0, np.nan, 3.0, 4.0, np.nan])
NAN_SRC = np.array([np.nan, 2.0, 5.0, 5.0])
NAN_AT = np.array([0, 1, 2, 2])


def _scatter_reduce_twin(x, src, at, reduce, include_self):
    """Values and both gradients of ``x.scatter_reduce(0, at, src, ...)`` in both libraries."""
    results = []
    for lib in (torch, mg):
        xt = lib.tensor(x.copy(), dtype=lib.float64, requires_grad=True)
        st = lib.tensor(src.copy(), dtype=lib.float64, requires_grad=True)
        out = xt.scatter_reduce(0, lib.tensor(at), st, reduce, include_self=include_self)
        out.backward(lib.tensor(np.arange(1.0, x.size + 1)))
        results.append([out.detach().numpy(), xt.grad.numpy(), st.grad.numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_amax_amin_where_a_nan_won_give_nan_gradients_as_pytorch(
    reduce, include_self
):
    """Where a NaN won, no value equals the result: PyTorch's share g / 0 * 0 is NaN for x
    and for each src value landing there (and for a NaN x nothing lands on); minigrad gave 0.
    With include_self=False, x's gradient where src landed stays 0."""
    _scatter_reduce_twin(NAN_X, NAN_SRC, NAN_AT, reduce, include_self)


def test_scatter_reduce_prod_without_self_gives_x_no_gradient_where_src_landed():
    """include_self=False: x takes no part where src lands, so its gradient there is 0, even
    when the product of the src values there is NaN (minigrad gave NaN * 0 = NaN)."""
    # (not NAN_X[4]: a NaN nothing lands on gets g there, where PyTorch's g * out / x is NaN)
    _scatter_reduce_twin(NAN_X[:4], NAN_SRC, NAN_AT, "prod", include_self=False)
    x = np.array([2.0, 3.0, 0.5])  # an inf product: inf * 0 was NaN too
    _scatter_reduce_twin(x, np.array([1e200, 1e200]), np.array([0, 0]), "prod", False)


def test_put_and_put_write_flat_positions_as_pytorch():
    """``put`` / ``put_`` were missing: the flat (row-major) positions of ``index`` take (or,
    with accumulate, add) ``source``'s elements; a view's base changes with ``put_``."""
    at = [[0, -1], [5, 5]]  # a negative position and a repeat (accumulated)
    _twin(lambda lib, t: t[0].put(lib.tensor(at), t[2].repeat(2)[:4], accumulate=True))
    _twin(lambda lib, t: t[0].put(lib.tensor([[0, -1], [5, 6]]), t[2].repeat(2)[:4] * 2))
    _twin(lambda lib, t: lib.put(t[0].t(), lib.tensor([1, 2]), t[2][:2] + t[1]))

    def into_a_view(lib, t):
        base = t[0] * 1
        base[1:].put_(lib.tensor([0, 7]), t[2][1:] * t[1], accumulate=True)
        return base

    _twin(into_a_view)


def test_put_refuses_bad_input_before_writing():
    x = mg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"put: .*\[6, 6\].*\(2, 3\)"):
        x.put_(mg.tensor([6]), mg.ones(1))
    with pytest.raises(mg.ShapeError, match=r"source \(shape \(2,\)\) and index \(shape \(1,\)\)"):
        x.put_(mg.tensor([1]), mg.ones(2))
    with pytest.raises(TypeError, match="float64.*float32"):
        x.put_(mg.tensor([1]), mg.ones(1, dtype=mg.float64))
    with pytest.raises(TypeError, match="index must be an integer tensor"):
        x.put_(mg.tensor([1.0]), mg.ones(1))
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 3)))


def test_a_slice_rewritten_from_its_own_scaled_values_differentiates_as_pytorch():
    """``y[:, 0] = y[:, 0] * 2`` (and ``/``): PyTorch's mul by a number saves nothing of y, so
    the write does not fail the backward; minigrad's Mul and Div saved both operands whatever
    gradients were wanted, and raised the version-counter error."""

    def rescale(lib, t):
        y = t[0] * 1
        y[:, 0] = y[:, 0] * 2
        y[:, 1] = y[:, 1] / 4
        y[2] = y[2] * t[2].sum().detach()  # a tensor factor that requires no grad
        return y

    _twin(rescale)


def test_diagonal_scatter_and_tril_triu_in_place_as_pytorch():
    """``diagonal_scatter`` and ``Tensor.tril_`` / ``triu_`` were missing (minigrad had the
    scatter only as diagonal's gradient)."""
    _twin(lambda lib, t: lib.diagonal_scatter(t[0], t[2] * t[1], 1))
    _twin(lambda lib, t: t[0][None].expand(2, 3, 4).diagonal_scatter(t[2].expand(2, 3), 0, 1, 2))

    def triangles_of_a_view(lib, t):
        y = t[0] * 1
        y[1:].tril_()
        y[:, 1:].triu_(1)
        return y

    _twin(triangles_of_a_view)
    with pytest.raises(mg.ShapeError, match=r"src of shape \(4,\) .* \(3,\) .* \(3, 4\)"):
        mg.diagonal_scatter(mg.zeros(3, 4), mg.zeros(4))
